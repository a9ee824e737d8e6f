#!/usr/bin/env bash
# Builds FerretDB (the MongoDB-compatible server the tests run against, SQLite
# backend) into .test-services/bin/ferretdb. Idempotent: does nothing when a
# working binary of the pinned version is already there.
#
# Built from the Go module proxy because there is no MongoDB package or Docker
# on our machines. A plain `go install` yields a binary that panics at start:
# FerretDB embeds build/version/version.txt, which its release tooling
# generates, so we copy the module source, write that file and build.
set -euo pipefail

VERSION=v1.24.2
MODULE=github.com/FerretDB/FerretDB
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN_DIR=$ROOT/.test-services/bin
BIN=$BIN_DIR/ferretdb

if [[ -x $BIN ]] && "$BIN" --version 2>/dev/null | grep -qx "version: $VERSION"; then
  echo "FerretDB $VERSION already at $BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  echo "install-ferretdb: expected the Go toolchain on PATH to build FerretDB $VERSION, found no 'go'" >&2
  exit 1
fi

echo "Building FerretDB $VERSION into $BIN (a few minutes the first time)..."
started=$SECONDS

# Outside a Go module, `go mod download` still fetches a pinned module and
# reports where its (read-only) source landed.
json=$(cd / && go mod download -json "$MODULE@$VERSION")
src=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [[ -z $src || ! -d $src ]]; then
  echo "install-ferretdb: expected 'go mod download' to report the module's Dir, got:" >&2
  printf '%s\n' "$json" >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ferretdb-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$src/." "$work/src"
chmod -R u+w "$work/src"
printf '%s\n' "$VERSION" > "$work/src/build/version/version.txt"

mkdir -p "$BIN_DIR"
# -buildvcs=false: the copy is not a checkout, and stamping VCS data from an
# enclosing repository would make FerretDB's version check panic.
(cd "$work/src" && go build -buildvcs=false -o "$work/ferretdb" ./cmd/ferretdb)
"$work/ferretdb" --version >/dev/null
mv -f "$work/ferretdb" "$BIN"

echo "Built FerretDB $VERSION in $((SECONDS - started))s: $BIN"
