#!/usr/bin/env bash
# The compat harness's own venv (.cache/compat-venv): Label Studio 1.23.2, tavern 2.x and
# pytest 7 (tavern 3 rejects Label Studio's tavern files). A test tool, never a dependency
# of LabelHub. Idempotent: pip runs only when requirements.txt or the interpreter changed.
#
# Environment: PYTHON (default python3), COMPAT_VENV (default .cache/compat-venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
VENV="${COMPAT_VENV:-.cache/compat-venv}"
REQS=scripts/compat/requirements.txt
STAMP="$VENV/.compat-install-stamp"

log() { printf 'compat-setup: %s\n' "$*" >&2; }

if ! [[ -x "$VENV/bin/python" ]] || ! "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1; then
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  log "creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi

# pip itself first, hash-checked, as scripts/setup.sh does (the interpreter's own pip fails
# on some of today's index entries).
want_pip="$(sed -n 's/^pip==\([^ ]*\).*/\1/p' requirements-pip.lock)"
have_pip="$("$VENV/bin/python" -c 'import pip; print(pip.__version__)')"
if [[ "$have_pip" != "$want_pip" ]]; then
  log "pip $have_pip -> $want_pip (requirements-pip.lock)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q \
    --require-hashes -r requirements-pip.lock </dev/null
fi

want="$(sha256sum "$REQS" requirements-pip.lock | sha256sum | cut -c1-64) $("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])')"
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  log "up to date ($VENV)"
  exit 0
fi
log "installing $(grep -v '^#' "$REQS" | tr '\n' ' ')into $VENV (a few minutes the first time)"
rm -f "$STAMP"
"$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q \
  -r "$REQS" </dev/null
printf '%s\n' "$want" >"$STAMP"
log "done"
