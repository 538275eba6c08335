#!/usr/bin/env bash
# Azurite, the Azure Storage emulator (npm package `azurite`, MIT), for the storage tests:
# installed into .cache/azurite with `npm ci` from scripts/azurite/package-lock.json, so
# every package's tarball is checked against the sha512 the lock pins (azurite 3.37.0:
# sha512-dl2AXMkX...). npm uses whatever registry it is configured with; no hostname lives
# here. Idempotent: does nothing when the installed lock matches the pinned one.
# `scripts/setup.sh --test` calls it; the tests start .cache/azurite/node_modules/.bin/azurite-blob.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SRC="$ROOT/scripts/azurite"
DEST="$ROOT/.cache/azurite"
BIN="$DEST/node_modules/.bin/azurite-blob"
STAMP="$DEST/.lock-stamp"

log() { printf 'fetch_azurite: %s\n' "$*" >&2; }

want="$(cat "$SRC/package.json" "$SRC/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  log "azurite already installed from the pinned lock"
  exit 0
fi
command -v npm >/dev/null 2>&1 || { log "ERROR: npm is needed to install azurite"; exit 1; }
mkdir -p "$DEST"
cp "$SRC/package.json" "$SRC/package-lock.json" "$DEST/"
# npm ci installs exactly the lock and fails on any integrity mismatch.
(cd "$DEST" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
[[ -x "$BIN" ]] || { log "ERROR: $BIN is missing after npm ci"; exit 1; }
printf '%s' "$want" > "$STAMP"
log "installed azurite into .cache/azurite"
