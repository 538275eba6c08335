#!/usr/bin/env bash
# Fetch the embedded labeling editor (Label Studio frontend build) from the npm
# registry, verify it against a pinned SRI hash, and install ONLY
#   package/build/static/js/main.js   -> frontend/static/editor/main.js
#   package/build/static/css/main.css -> frontend/static/editor/main.css
#
# npm uses whatever registry it is configured with; no hostname lives here.
# Idempotent: does nothing when both files exist and the stamp matches the pin.
#
# Overrides (for upgrades; change both together):
#   EDITOR_VERSION    default 1.4.0
#   EDITOR_INTEGRITY  default the pinned sha512 SRI string below
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PKG="@heartexlabs/label-studio"
VERSION="${EDITOR_VERSION:-1.4.0}"
INTEGRITY="${EDITOR_INTEGRITY:-sha512-NczF2gDF/Whq7+xI3tYZLrAk8Pq6hacXhYEDmWfHAQIZ0eiieyrMxxHz4KIU7wnagComaGv+QJ2Zc6SBcBmuCg==}"
CACHE="$ROOT/.cache/editor"
DEST="$ROOT/frontend/static/editor"
STAMP="$DEST/.fetch-stamp"
MEMBERS=(package/build/static/js/main.js package/build/static/css/main.css)

log() { printf 'fetch_editor: %s\n' "$*" >&2; }
die() { printf 'fetch_editor: ERROR: %s\n' "$*" >&2; exit 1; }

case "$INTEGRITY" in
  sha512-*) ;;
  *) die "EDITOR_INTEGRITY must be a sha512 SRI string (sha512-<base64>), got '$INTEGRITY'" ;;
esac

# sha512 SRI ("sha512-<base64>") of a file, computed locally.
sri_sha512() {
  local f="$1"
  if command -v openssl >/dev/null 2>&1; then
    printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$f" | base64 | tr -d '\n')"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import base64,hashlib,sys
h=hashlib.sha512()
with open(sys.argv[1],"rb") as fh:
    for b in iter(lambda: fh.read(1<<20), b""): h.update(b)
print("sha512-"+base64.b64encode(h.digest()).decode(), end="")' "$f"
  elif command -v node >/dev/null 2>&1; then
    node -e 'const c=require("crypto"),fs=require("fs");
process.stdout.write("sha512-"+c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$f"
  else
    die "need openssl, python3 or node to verify the editor tarball"
  fi
}

# sha256 hex of a file (to notice edited or truncated installed files).
sha256_of() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum "$1" | cut -d' ' -f1
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import hashlib,sys;print(hashlib.sha256(open(sys.argv[1],"rb").read()).hexdigest())' "$1"
  else
    node -e 'const c=require("crypto"),fs=require("fs");console.log(c.createHash("sha256").update(fs.readFileSync(process.argv[1])).digest("hex"))' "$1"
  fi
}

stamp_text() {
  printf '%s@%s %s\nmain.js %s\nmain.css %s\n' "$PKG" "$VERSION" "$INTEGRITY" \
    "$(sha256_of "$DEST/main.js")" "$(sha256_of "$DEST/main.css")"
}

# Fast path: already installed from the same pinned tarball and untouched since.
if [[ -f "$DEST/main.js" && -f "$DEST/main.css" && -f "$STAMP" ]] \
   && [[ "$(cat "$STAMP")" == "$(stamp_text)" ]]; then
  log "editor $PKG@$VERSION already installed (integrity verified earlier)"
  exit 0
fi

mkdir -p "$CACHE"
# npm pack names scoped packages "<scope>-<name>-<version>.tgz".
TGZ="$CACHE/heartexlabs-label-studio-$VERSION.tgz"

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
  bad="$TGZ.rejected"
  mv -f "$TGZ" "$bad"
  die "integrity check FAILED for $PKG@$VERSION
  expected: $INTEGRITY
  actual:   $actual
  Refusing to install the editor. The tarball was moved to $bad for inspection."
fi
log "integrity OK ($INTEGRITY)"

tmp="$(mktemp -d "$CACHE/extract.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$TGZ" -C "$tmp" "${MEMBERS[@]}" \
  || die "tarball $TGZ lacks ${MEMBERS[*]}"
for m in "${MEMBERS[@]}"; do
  [[ -s "$tmp/$m" ]] || die "tarball member $m is missing or empty"
done

mkdir -p "$DEST"
rm -f "$STAMP"
cp "$tmp/package/build/static/js/main.js" "$DEST/main.js.tmp"
cp "$tmp/package/build/static/css/main.css" "$DEST/main.css.tmp"
mv -f "$DEST/main.js.tmp" "$DEST/main.js"
mv -f "$DEST/main.css.tmp" "$DEST/main.css"
stamp_text >"$STAMP"
log "installed $DEST/main.js and $DEST/main.css from $PKG@$VERSION"
