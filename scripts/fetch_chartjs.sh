#!/usr/bin/env bash
# Fetch Chart.js (the quality page's charts) from the npm registry, verify the tarball
# against a pinned SRI hash, and install ONLY
#   package/dist/chart.umd.min.js -> frontend/static/vendor/chart.umd.min.js
#
# npm uses whatever registry it is configured with; no hostname lives here. The bundle
# is not committed (.gitignore); once fetched, pages work offline.
# Idempotent: does nothing when the file exists and the stamp matches the pin.
#
# Overrides (for upgrades; change both together):
#   CHARTJS_VERSION    default 4.6.1
#   CHARTJS_INTEGRITY  default the pinned sha512 SRI string below
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="chart.js"
VERSION="${CHARTJS_VERSION:-4.6.1}"
INTEGRITY="${CHARTJS_INTEGRITY:-sha512-hJyniucsFmq//EvXYvJ6c6mahPoI3kaxdjVH8awTaJ/fDNWeSqqqArixMJWkWNN6fcYvPU3HneSANFNYtRi61g==}"
CACHE="$ROOT/.cache/chartjs"
DEST="$ROOT/frontend/static/vendor"
FILE="chart.umd.min.js"
MEMBER="package/dist/$FILE"
STAMP="$DEST/.chartjs-stamp"

log() { printf 'fetch_chartjs: %s\n' "$*" >&2; }
die() { printf 'fetch_chartjs: ERROR: %s\n' "$*" >&2; exit 1; }

case "$INTEGRITY" in
  sha512-*) ;;
  *) die "CHARTJS_INTEGRITY must be a sha512 SRI string (sha512-<base64>), got '$INTEGRITY'" ;;
esac

sri_sha512() {
  if command -v openssl >/dev/null 2>&1; then
    printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 | tr -d '\n')"
  else
    python3 -c 'import base64,hashlib,sys
print("sha512-"+base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode(), end="")' "$1"
  fi
}

sha256_of() {
  python3 -c 'import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
}

stamp_text() { printf '%s@%s %s\n%s %s\n' "$PKG" "$VERSION" "$INTEGRITY" "$FILE" "$(sha256_of "$DEST/$FILE")"; }

if [[ -f "$DEST/$FILE" && -f "$STAMP" && "$(cat "$STAMP")" == "$(stamp_text)" ]]; then
  log "$PKG@$VERSION already installed (integrity verified earlier)"
  exit 0
fi

mkdir -p "$CACHE"
TGZ="$CACHE/chart.js-$VERSION.tgz"
if [[ -f "$TGZ" && "$(sri_sha512 "$TGZ")" != "$INTEGRITY" ]]; then
  log "cached tarball $TGZ does not match the pinned hash; downloading it again"
  rm -f "$TGZ"
fi
if [[ ! -f "$TGZ" ]]; then
  command -v npm >/dev/null 2>&1 \
    || die "npm not found: install Node.js and npm (Debian: apt-get install -y nodejs npm)"
  log "npm pack $PKG@$VERSION"
  out="$(cd "$CACHE" && npm pack "$PKG@$VERSION" --ignore-scripts --silent </dev/null)" \
    || die "npm pack $PKG@$VERSION failed (is the npm registry reachable?)"
  name="$(printf '%s\n' "$out" | tail -n 1)"
  if [[ -n "$name" && -f "$CACHE/$name" && "$CACHE/$name" != "$TGZ" ]]; then
    mv -f "$CACHE/$name" "$TGZ"
  fi
  [[ -f "$TGZ" ]] || die "npm pack did not produce $TGZ (it printed: $out)"
fi

actual="$(sri_sha512 "$TGZ")"
if [[ "$actual" != "$INTEGRITY" ]]; then
  mv -f "$TGZ" "$TGZ.rejected"
  die "integrity check FAILED for $PKG@$VERSION
  expected: $INTEGRITY
  actual:   $actual
  Refusing to install it. The tarball was moved to $TGZ.rejected for inspection."
fi
log "integrity OK ($INTEGRITY)"

tmp="$(mktemp -d "$CACHE/extract.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$TGZ" -C "$tmp" "$MEMBER" || die "tarball $TGZ lacks $MEMBER"
[[ -s "$tmp/$MEMBER" ]] || die "tarball member $MEMBER is empty"
mkdir -p "$DEST"
rm -f "$STAMP"
cp "$tmp/$MEMBER" "$DEST/$FILE.tmp"
mv -f "$DEST/$FILE.tmp" "$DEST/$FILE"
stamp_text >"$STAMP"
log "installed $DEST/$FILE from $PKG@$VERSION"
