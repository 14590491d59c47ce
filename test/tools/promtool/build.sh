#!/usr/bin/env bash
# Builds promtool from the github.com/prometheus/prometheus module, in the
# module's own directory (so that its go.mod and go.sum apply and ringops'
# go.mod never pulls Prometheus), into a cache outside the repository, keyed
# by version:
#   ${RINGOPS_CACHE:-$HOME/.cache/ringops}/promtool/<version>/promtool
# The chart's PrometheusRule is checked with `promtool check rules`
# (test/chart). A cached build is reused; the first takes about 14 minutes
# of CPU (Prometheus' service discovery pulls in the cloud SDKs): 45 minutes
# on 2 cores shared with other builds. Prints the directory that holds
# the binary. With --cached, only prints it if the binary is already built
# (else exits 1 without building).
# Network: needs the Go module proxy the first time (go mod download).
set -euo pipefail
version="${PROMTOOL_VERSION:-v0.316.0}" # Prometheus 3.x's Go module version
out="${RINGOPS_CACHE:-$HOME/.cache/ringops}/promtool/$version"
if [ -x "$out/promtool" ]; then
  echo "$out"; exit 0
fi
if [ "${1:-}" = "--cached" ]; then
  echo "build.sh: promtool $version is not built yet ($out)" >&2; exit 1
fi
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOWORK=off # the module ships a go.work naming directories its zip lacks
dir=$(cd / && go mod download -json "github.com/prometheus/prometheus@$version" | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')
[ -n "$dir" ] && [ -d "$dir" ] || { echo "build.sh: cannot download github.com/prometheus/prometheus@$version" >&2; exit 1; }
rm -rf "$out.tmp"; mkdir -p "$out.tmp"
echo "building promtool $version into $out" >&2
(cd "$dir" && GOFLAGS=-mod=readonly CGO_ENABLED=0 go build -trimpath -buildvcs=false -tags netgo,builtinassets \
  -ldflags "-s -w" -o "$out.tmp/promtool" ./cmd/promtool >&2)
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
