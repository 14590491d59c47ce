#!/usr/bin/env bash
# Builds the helm CLI from the helm.sh/helm/v3 module, in the module's own
# directory (so that its go.mod and go.sum apply and ringops' go.mod never
# pulls helm), into a cache outside the repository, keyed by version:
#   ${RINGOPS_CACHE:-$HOME/.cache/ringops}/helm/<version>/helm
# The ldflags are those of helm's Makefile: version, and the Kubernetes
# version that `helm template`/`helm lint` assume (from client-go's version).
# A cached build is reused; the first build takes 3-8 minutes on 2 loaded
# cores. Prints the directory that holds the binary.
# With --cached, only prints it if the binary is already built (else exits 1
# without building): the short tests use helm only when it is at hand.
# Network: needs the Go module proxy the first time (go mod download).
set -euo pipefail
version="${HELM_VERSION:-v3.22.0}"
out="${RINGOPS_CACHE:-$HOME/.cache/ringops}/helm/$version"
if [ -x "$out/helm" ]; then
  echo "$out"; exit 0
fi
if [ "${1:-}" = "--cached" ]; then
  echo "build.sh: helm $version is not built yet ($out)" >&2; exit 1
fi
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
major="${version%%.*}"
dir=$(cd / && go mod download -json "helm.sh/helm/$major@$version" | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')
[ -n "$dir" ] && [ -d "$dir" ] || { echo "build.sh: cannot download helm.sh/helm/$major@$version" >&2; exit 1; }
# k8s.io/client-go v0.X.Y -> Kubernetes 1.X, as helm's Makefile computes it.
kminor=$(sed -nE 's/^[[:space:]]*k8s\.io\/client-go v0\.([0-9]+)\..*/\1/p' "$dir/go.mod")
[ -n "$kminor" ] || { echo "build.sh: no k8s.io/client-go in $dir/go.mod" >&2; exit 1; }
pkg="helm.sh/helm/$major"
ldflags="-s -w -X $pkg/internal/version.version=$version -X $pkg/internal/version.metadata="
ldflags+=" -X $pkg/internal/version.gitTreeState=clean"
ldflags+=" -X $pkg/pkg/lint/rules.k8sVersionMajor=1 -X $pkg/pkg/lint/rules.k8sVersionMinor=$kminor"
ldflags+=" -X $pkg/pkg/chartutil.k8sVersionMajor=1 -X $pkg/pkg/chartutil.k8sVersionMinor=$kminor"
rm -rf "$out.tmp"; mkdir -p "$out.tmp"
echo "building helm $version into $out (first time: 3-8 minutes)" >&2
# The module cache is read-only; go build only reads it, with the module's
# own go.sum (-mod=readonly).
(cd "$dir" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -buildvcs=false \
  -ldflags "$ldflags" -o "$out.tmp/helm" ./cmd/helm >&2)
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
