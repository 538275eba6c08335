#!/usr/bin/env bash
# Build throwaway venvs from the locks exactly as a fresh machine would (issue #20):
# the interpreter's own pip, no pip cache, then scripts/setup.sh's steps: the pinned pip
# from requirements-pip.lock, then each lock with --require-hashes, then `pip check`.
# Fails loudly if an install needs anything the locks do not pin, or a pinned set conflicts.
#
#   scripts/check_setup.sh            both requirements.lock and requirements-test.lock
#   scripts/check_setup.sh LOCK...    only these
#
# Environment: PYTHON (default python3). Nothing is left behind.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
locks=("$@")
((${#locks[@]})) || locks=(requirements.lock requirements-test.lock)

log() { printf 'check-setup: %s\n' "$*" >&2; }

work="$(mktemp -d -t labelhub-check-setup.XXXXXX)"
trap 'rm -rf "$work"' EXIT
export PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_PROGRESS_BAR=off

# check_lock LOCK: one venv, one lock; the log goes to $work/LOCK.log.
check_lock() {
  local lock="$1" venv="$work/venv-${1%.lock}" out="$work/$1.log"
  {
    "$PYTHON" -m venv "$venv"
    echo "interpreter's pip: $("$venv/bin/python" -m pip --version)"
    "$venv/bin/python" -m pip install -q --require-hashes -r requirements-pip.lock </dev/null
    echo "pinned pip: $("$venv/bin/python" -m pip --version)"
    "$venv/bin/python" -m pip install -q --require-hashes -r "$lock" </dev/null
    "$venv/bin/python" -m pip install -q --no-deps --no-build-isolation -e . </dev/null \
      || "$venv/bin/python" -m pip install -q --no-deps -e . </dev/null
    "$venv/bin/python" -m pip check
  } >"$out" 2>&1
}

pids=()
for lock in "${locks[@]}"; do
  [[ -f "$lock" ]] || { log "ERROR: $lock is missing"; exit 1; }
  log "building a throwaway venv from $lock (no pip cache)"
  check_lock "$lock" &
  pids+=($!)
done

failed=0
for i in "${!locks[@]}"; do
  if wait "${pids[$i]}"; then
    log "${locks[$i]}: installs from the locks alone ($(tail -1 "$work/${locks[$i]}.log"))"
  else
    failed=1
    log "ERROR: ${locks[$i]} does not install on a fresh machine; pip said:"
    sed 's/^/    /' "$work/${locks[$i]}.log" >&2
  fi
done
((failed == 0)) || { log "FAILED: fix the lock (make lock) or requirements-pip.lock"; exit 1; }
log "ok"
