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
out="${RINGOPS_CACHE:-$HOME/.cache/ringops}/controlplane/$version"
if [ -x "$out/kube-apiserver" ] && [ -x "$out/kube-controller-manager" ]; then
  echo "$out"; exit 0
fi
mkdir -p "$out.tmp"
echo "building kube-apiserver and kube-controller-manager $version into $out (first time: ~7-8 minutes)" >&2
cd "$here"
GOTOOLCHAIN=local CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out.tmp/" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager >&2
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
