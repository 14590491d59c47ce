#!/usr/bin/env bash
# Builds the Gitea server from the code.gitea.io/gitea module, in the module's
# own directory (so that its go.mod, replace directives and go.sum apply),
# into a cache outside the repository, keyed by version:
#   ${RINGOPS_CACHE:-$HOME/.cache/ringops}/gitea/<version>/{gitea,options/,templates/}
# Gitea reads options/ (locales, licenses, gitignores, labels) and templates/
# from its static root at start; the module's copies are placed next to the
# binary (test/gitea points STATIC_ROOT_PATH there).
# A cached build is reused; the first build takes 10-15 minutes on 2 loaded
# cores (cgo, for sqlite). Prints the directory that holds the binary.
# Network: needs the Go module proxy the first time (go mod download).
set -euo pipefail
version="${GITEA_VERSION:-v1.26.0}"
out="${RINGOPS_CACHE:-$HOME/.cache/ringops}/gitea/$version"
if [ -x "$out/gitea" ] && [ -d "$out/options" ] && [ -d "$out/templates" ]; then
  echo "$out"; exit 0
fi
export GOTOOLCHAIN=local GOFLAGS=-mod=mod
dir=$(cd / && go mod download -json "code.gitea.io/gitea@$version" | sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')
[ -n "$dir" ] && [ -d "$dir" ] || { echo "build.sh: cannot download code.gitea.io/gitea@$version" >&2; exit 1; }
rm -rf "$out.tmp"; mkdir -p "$out.tmp"
if [ -x "$out/gitea" ]; then
  cp "$out/gitea" "$out.tmp/gitea"
else
  echo "building gitea $version into $out (first time: 10-15 minutes)" >&2
  # The module cache is read-only; go build only reads it, with the
  # module's own go.sum (-mod=readonly).
  (cd "$dir" && GOFLAGS=-mod=readonly CGO_ENABLED=1 go build -trimpath -buildvcs=false \
    -tags "sqlite sqlite_unlock_notify" \
    -ldflags "-s -w -X \"main.Version=${version#v}\"" \
    -o "$out.tmp/gitea" . >&2)
fi
cp -R "$dir/options" "$dir/templates" "$out.tmp/"
chmod -R u+w "$out.tmp"
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
