#!/usr/bin/env bash
# Fetch one npm package with `npm pack`, verify the tarball against a pinned SRI hash,
# and install ONLY the named members of it into a folder (by their base names).
#
#   fetch_npm.sh NAME PACKAGE VERSION INTEGRITY DEST MEMBER...
#
# NAME names the cache (.cache/NAME), the stamp (DEST/.NAME-stamp) and the log lines;
# DEST is relative to the repository. Used by fetch_editor.sh and fetch_chartjs.sh,
# which hold the pins. npm uses whatever registry it is configured with; no hostname
# lives here. The files are not committed (.gitignore); once fetched, pages work offline.
# Idempotent: does nothing when every file exists and the stamp matches the pin and the
# files' own hashes (an edited or truncated file is installed again).
set -euo pipefail

[[ $# -ge 6 ]] || { echo "usage: $0 NAME PACKAGE VERSION INTEGRITY DEST MEMBER..." >&2; exit 2; }
NAME="$1" PKG="$2" VERSION="$3" INTEGRITY="$4"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/$5"
shift 5
MEMBERS=("$@")
CACHE="$ROOT/.cache/$NAME"
STAMP="$DEST/.$NAME-stamp"

log() { printf 'fetch_%s: %s\n' "$NAME" "$*" >&2; }
die() { printf 'fetch_%s: ERROR: %s\n' "$NAME" "$*" >&2; exit 1; }

case "$INTEGRITY" in
  sha512-*) ;;
  *) die "the integrity of $PKG must be a sha512 SRI string (sha512-<base64>), got '$INTEGRITY'" ;;
esac

# sha512 SRI ("sha512-<base64>") of a file, computed locally.
sri_sha512() {
  if command -v openssl >/dev/null 2>&1; then
    printf 'sha512-%s' "$(openssl dgst -sha512 -binary "$1" | base64 | tr -d '\n')"
  elif command -v python3 >/dev/null 2>&1; then
    python3 -c 'import base64,hashlib,sys
h=hashlib.sha512()
with open(sys.argv[1],"rb") as fh:
    for b in iter(lambda: fh.read(1<<20), b""): h.update(b)
print("sha512-"+base64.b64encode(h.digest()).decode(), end="")' "$1"
  elif command -v node >/dev/null 2>&1; then
    node -e 'const c=require("crypto"),fs=require("fs");
process.stdout.write("sha512-"+c.createHash("sha512").update(fs.readFileSync(process.argv[1])).digest("base64"))' "$1"
  else
    die "need openssl, python3 or node to verify the $PKG tarball"
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
  printf '%s@%s %s\n' "$PKG" "$VERSION" "$INTEGRITY"
  for m in "${MEMBERS[@]}"; do
    printf '%s %s\n' "${m##*/}" "$(sha256_of "$DEST/${m##*/}")"
  done
}

installed() {
  for m in "${MEMBERS[@]}"; do
    [[ -f "$DEST/${m##*/}" ]] || return 1
  done
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(stamp_text)" ]]
}

# Fast path: already installed from the same pinned tarball and untouched since.
if installed; then
  log "$PKG@$VERSION already installed (integrity verified earlier)"
  exit 0
fi

mkdir -p "$CACHE"
# npm pack names scoped packages "<scope>-<name>-<version>.tgz".
base="${PKG#@}"
TGZ="$CACHE/${base//\//-}-$VERSION.tgz"

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
tar -xzf "$TGZ" -C "$tmp" "${MEMBERS[@]}" || die "tarball $TGZ lacks ${MEMBERS[*]}"
for m in "${MEMBERS[@]}"; do
  [[ -s "$tmp/$m" ]] || die "tarball member $m is missing or empty"
done

mkdir -p "$DEST"
rm -f "$STAMP"
for m in "${MEMBERS[@]}"; do
  cp "$tmp/$m" "$DEST/${m##*/}.tmp"
  mv -f "$DEST/${m##*/}.tmp" "$DEST/${m##*/}"
done
stamp_text >"$STAMP"
log "installed ${MEMBERS[*]##*/} into $DEST from $PKG@$VERSION"
