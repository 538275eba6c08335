#!/usr/bin/env bash
# Prepare a checkout for running (and, with --test, testing) LabelHub.
#
#   scripts/setup.sh             .venv with `pip install -e .`, the editors and Chart.js assets
#   scripts/setup.sh --test      also the [test] extras and the Debian packages
#                                the tests need (chromium, unar, libarchive-tools), and
#                                Azurite for the Azure storage tests (npm, into .cache/)
#   scripts/setup.sh --test --no-system
#                                test extras only, no apt (e.g. for `make lint`)
#
# Python packages come from the hash-pinned lock files (requirements.lock, and
# requirements-test.lock with --test; `make lock` rewrites them from pyproject.toml),
# installed with --require-hashes, then LabelHub itself with --no-deps.
#
# Idempotent and fast on re-run: pip runs only when a lock file (or the requested
# extras, or the interpreter) changed since the last install, apt only when
# something is missing, and the editor is fetched only when absent.
#
# Environment: PYTHON (default python3), VENV (default .venv).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
STAMP="$VENV/.labelhub-install-stamp"

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

usage() { sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

TEST=0
SYSTEM=1
for arg in "$@"; do
  case "$arg" in
    --test) TEST=1 ;;
    --no-system) SYSTEM=0 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $arg" ;;
  esac
done

is_root() { [[ "$(id -u)" == 0 ]]; }

# apt_install PKG...: install Debian packages, as root only.
apt_install() {
  if ! is_root; then
    die "missing Debian packages: $*
  Install them as root:  apt-get update && apt-get install -y $*"
  fi
  command -v apt-get >/dev/null 2>&1 \
    || die "missing packages ($*) and no apt-get on this system; install them by hand"
  log "installing Debian packages: $*"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q </dev/null
  apt-get install -y -q "$@" </dev/null
}

# ---------------------------------------------------------------- system (--test)
if [[ "$TEST" == 1 && "$SYSTEM" == 1 ]]; then
  # package -> the file that proves it is there
  missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)     # playwright drives /usr/bin/chromium
  command -v unar >/dev/null 2>&1 || missing+=(unar)     # rarfile's RAR backend
  command -v bsdtar >/dev/null 2>&1 || missing+=(libarchive-tools)
  if ((${#missing[@]})); then
    apt_install "${missing[@]}"
  fi
fi

# ---------------------------------------------------------------- virtualenv
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found; LabelHub needs Python >= 3.11"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PYTHON is $("$PYTHON" -V 2>&1); LabelHub needs Python >= 3.11"

venv_ok() { [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import pip' >/dev/null 2>&1; }

if ! venv_ok; then
  if [[ -e "$VENV" ]]; then
    log "$VENV is broken or incomplete; recreating it"
    rm -rf "$VENV"
  fi
  # Debian splits venv/ensurepip into python3.X-venv.
  if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    pyver="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
    apt_install "python$pyver-venv"
  fi
  log "creating $VENV with $PYTHON ($("$PYTHON" -V 2>&1))"
  "$PYTHON" -m venv "$VENV"
  venv_ok || die "could not create a working virtualenv in $VENV"
fi

# ---------------------------------------------------------------- pip itself
# The venv's pip is whatever the interpreter shipped (23.2.1 with Python 3.11.7), and that
# one fails on the test lock once the index offers newer releases than the lock (an extra
# in --require-hashes mode, issue #20). Bring it to the hash-pinned version first.
PIP_LOCK=requirements-pip.lock
[[ -f "$PIP_LOCK" ]] || die "$PIP_LOCK is missing"
want_pip="$(sed -n 's/^pip==\([^ ]*\).*/\1/p' "$PIP_LOCK")"
have_pip="$("$VENV/bin/python" -c 'import pip; print(pip.__version__)')"
if [[ "$have_pip" != "$want_pip" ]]; then
  log "pip $have_pip -> $want_pip (hash-checked, $PIP_LOCK)"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q \
    --require-hashes -r "$PIP_LOCK" </dev/null \
    || die "could not install pip $want_pip from $PIP_LOCK"
fi

# ---------------------------------------------------------------- python deps

if [[ "$TEST" == 1 ]]; then LOCK=requirements-test.lock; else LOCK=requirements.lock; fi
[[ -f "$LOCK" ]] || die "$LOCK is missing; run \`make lock\`"
want_hash="$("$PYTHON" -c 'import hashlib,sys; print(hashlib.sha256(b"".join(open(f,"rb").read() for f in sys.argv[1:])).hexdigest())' pyproject.toml requirements-pip.lock requirements.lock requirements-test.lock) $("$VENV/bin/python" -c 'import sys; print(sys.version.split()[0])')"
have_hash=""
have_mode=""
if [[ -f "$STAMP" ]]; then
  read -r h1 h2 have_mode <"$STAMP" || true
  have_hash="$h1 $h2"
fi

need_install=0
if [[ "$have_hash" != "$want_hash" ]]; then
  need_install=1
elif [[ "$TEST" == 1 && "$have_mode" != test ]]; then
  need_install=1   # a plain install lacks the [test] extras
fi
# An editable install that vanished (e.g. `make clean` removed *.egg-info).
if [[ "$need_install" == 0 ]] && ! "$VENV/bin/python" -c 'import importlib.metadata as m; m.version("labelhub")' >/dev/null 2>&1; then
  need_install=1
fi

if [[ "$need_install" == 1 ]]; then
  if [[ "$TEST" == 1 ]]; then spec='.[test]'; mode='test'; else spec='.'; mode='base'; fi
  # Keep the [test] marker once installed: a later plain run does not uninstall extras.
  [[ "$have_mode" == test && "$have_hash" == "$want_hash" ]] && mode='test'
  log "pip install --require-hashes -r $LOCK, then -e '$spec' (a lock changed or first install)"
  rm -f "$STAMP"
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q \
    --require-hashes -r "$LOCK" </dev/null
  "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off -q \
    --no-deps -e "$spec" </dev/null
  "$VENV/bin/python" -m pip check --disable-pip-version-check </dev/null \
    || die "the installed set conflicts (pip check above); fix the lock with \`make lock\`"
  printf '%s %s\n' "$want_hash" "$mode" >"$STAMP"
else
  log "python dependencies up to date ($VENV)"
fi

# ---------------------------------------------------------------- editor assets
bash "$ROOT/scripts/fetch_editor_ls.sh"   # the editor (Label Studio 1.23.2, from its wheel)
bash "$ROOT/scripts/fetch_editor.sh"      # the 1.4.0 fallback (LABELHUB_EDITOR=1.4)
bash "$ROOT/scripts/fetch_chartjs.sh"

# ---------------------------------------------------------------- test emulators (--test)
# Azurite for the Azure storage tests (npm, hash-checked through its lock).
if [[ "$TEST" == 1 ]]; then
  bash "$ROOT/scripts/fetch_azurite.sh"
fi

log "done"
