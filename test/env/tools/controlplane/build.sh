#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager from the k8s.io/kubernetes
# module pinned in go.mod into a cache outside the repository, keyed by version:
#   ${RINGOPS_CACHE:-$HOME/.cache/ringops}/controlplane/<version>/
# A cached build is reused; the first build takes about 7-8 minutes on 2 cores.
# Prints the directory that holds the binaries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version=$(sed -nE "s/^[[:space:]]*(require[[:space:]]+)?k8s\.io\/kubernetes (v[^[:space:]]+).*/\2/p" "$here/go.mod" | head -1)
[ -n "$version" ] || { echo "build.sh: no k8s.io/kubernetes version in $here/go.mod" >&2; exit 1; }
# The cache key carries a build revision: bump it when the flags below change.
out="${RINGOPS_CACHE:-$HOME/.cache/ringops}/controlplane/$version-2"
if [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ]; then
  echo "$out"; exit 0
fi
mkdir -p "$out.tmp"
echo "building kube-apiserver and kube-controller-manager $version into $out (first time: ~7-8 minutes)" >&2
cd "$here"
# Stamp the version the way Kubernetes' own build does, so that /version
# (and tools such as helm that check kubeVersion) see v1.36.x, not v0.0.0-master.
minor=$(echo "$version" | cut -d. -f2)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out.tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager >&2
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
