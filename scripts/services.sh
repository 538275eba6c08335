#!/usr/bin/env bash
# Check (and start) the services the test suite and benchmarks run against.
#
#   scripts/services.sh check      exit 1 unless PostgreSQL and Redis answer
#   scripts/services.sh start      start whichever local one is down, wait up to
#                                  SERVICES_WAIT seconds (default 20), then check
#   scripts/services.sh ensure-db  create the database named in DATABASE_URL
#                                  if it does not exist yet (PostgreSQL only)
#
# Targets: PostgreSQL at 127.0.0.1:5432 (user postgres, trust auth) and Redis at
# 127.0.0.1:6379, unless DATABASE_URL / REDIS_URL say otherwise. A URL that
# points anywhere but those local defaults is an override: it is only checked,
# never started. A sqlite DATABASE_URL skips the PostgreSQL check.
set -euo pipefail

DEFAULT_DATABASE_URL="postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL="redis://127.0.0.1:6379/0"
WAIT="${SERVICES_WAIT:-20}"

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
is_root() { [[ "$(id -u)" == 0 ]]; }

PY=""
for p in python3 python; do have "$p" && { PY="$p"; break; }; done
[[ -n "$PY" ]] || die "python3 is required"

# parse_url URL -> "scheme host port user dbname" (port defaulted by scheme).
parse_url() {
  "$PY" - "$1" <<'EOF'
import sys
from urllib.parse import urlsplit, unquote
u = urlsplit(sys.argv[1])
scheme = u.scheme.lower()
defaults = {"postgres": 5432, "postgresql": 5432, "pgsql": 5432, "redis": 6379, "rediss": 6379}
host = u.hostname or "127.0.0.1"
port = u.port or defaults.get(scheme, 0)
user = unquote(u.username or "") or "-"
db = unquote(u.path.lstrip("/")) or "-"
print(scheme, host, port, user, db)
EOF
}

# with_db URL DBNAME -> same URL, other database (to reach the server before
# the target database exists, as pytest-django does).
with_db() {
  "$PY" - "$1" "$2" <<'EOF'
import sys
from urllib.parse import urlsplit, urlunsplit, quote
u = urlsplit(sys.argv[1])
print(urlunsplit(("postgresql", u.netloc, "/" + quote(sys.argv[2]), u.query, "")))
EOF
}

is_local() {  # host port default_port
  [[ "$1" == 127.0.0.1 || "$1" == localhost || "$1" == ::1 ]] && [[ "$2" == "$3" ]]
}

tcp_probe() {  # host port [redis] -> 0 if it answers
  "$PY" - "$@" <<'EOF'
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])
try:
    s = socket.create_connection((host, port), timeout=2)
except OSError:
    sys.exit(1)
if len(sys.argv) > 3:  # speak a little RESP: any reply (PONG, NOAUTH...) means it is up
    try:
        s.sendall(b"PING\r\n")
        s.settimeout(2)
        ok = s.recv(64)[:1] in (b"+", b"-")
    except OSError:
        ok = False
    sys.exit(0 if ok else 1)
sys.exit(0)
EOF
}

# ------------------------------------------------------------------ PostgreSQL
pg_url="${DATABASE_URL:-}"
pg_override=1
[[ -n "$pg_url" ]] || { pg_url="$DEFAULT_DATABASE_URL"; pg_override=0; }
read -r pg_scheme pg_host pg_port pg_user pg_db <<<"$(parse_url "$pg_url")"
case "$pg_scheme" in
  postgres|postgresql|pgsql) pg_wanted=1 ;;
  *) pg_wanted=0 ;;   # sqlite:// and friends need no server
esac
is_local "$pg_host" "$pg_port" 5432 && pg_override=0

pg_up() {
  if have pg_isready; then
    pg_isready -q -h "$pg_host" -p "$pg_port" -t 2 >/dev/null 2>&1
  else
    tcp_probe "$pg_host" "$pg_port"
  fi
}

pg_login_ok() {  # the server answers; can we log in as the URL's user?
  have psql || return 0
  PGCONNECT_TIMEOUT=3 psql "$(with_db "$pg_url" postgres)" -Atqc 'select 1' >/dev/null 2>&1 </dev/null
}

pg_start() {
  if ! have pg_ctlcluster || [[ ! -d /etc/postgresql ]]; then
    die "PostgreSQL is down at $pg_host:$pg_port and is not installed here (Debian: apt-get install -y postgresql), or set DATABASE_URL"
  fi
  is_root || die "PostgreSQL is down at $pg_host:$pg_port; start it as root:  pg_ctlcluster --skip-systemctl-redirect \$(ls /etc/postgresql) main start"
  local ver
  # shellcheck disable=SC2012  # version directories: plain names like 15, 16
  ver="$(ls /etc/postgresql | sort -V | tail -n 1)"
  [[ -n "$ver" ]] || die "PostgreSQL: no cluster under /etc/postgresql"
  log "starting PostgreSQL $ver (cluster main)"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start </dev/null \
    || log "pg_ctlcluster $ver main start failed; waiting anyway"
}

# ------------------------------------------------------------------ Redis
redis_url="${REDIS_URL:-}"
redis_override=1
[[ -n "$redis_url" ]] || { redis_url="$DEFAULT_REDIS_URL"; redis_override=0; }
read -r redis_scheme redis_host redis_port _ _ <<<"$(parse_url "$redis_url")"
is_local "$redis_host" "$redis_port" 6379 && redis_override=0

redis_up() {
  if have redis-cli && [[ "$redis_scheme" == redis ]]; then
    [[ "$(redis-cli -u "$redis_url" --no-auth-warning ping 2>/dev/null </dev/null)" == PONG ]]
  else
    tcp_probe "$redis_host" "$redis_port" redis
  fi
}

redis_start() {
  have redis-server \
    || die "Redis is down at $redis_host:$redis_port and redis-server is not installed (Debian: apt-get install -y redis-server), or set REDIS_URL"
  log "starting Redis on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log </dev/null \
    || log "redis-server failed to start; waiting anyway"
}

# ------------------------------------------------------------------ helpers
wait_for() {  # check_fn
  local fn="$1" deadline=$((SECONDS + WAIT))
  until "$fn"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

check_all() {
  local failed=0
  if ((pg_wanted)); then
    if ! pg_up; then
      log "PostgreSQL is DOWN at $pg_host:$pg_port"; failed=1
    elif ! pg_login_ok; then
      log "PostgreSQL at $pg_host:$pg_port answers but refuses login as '$pg_user' (expected trust auth, or put a password in DATABASE_URL)"
      failed=1
    else
      log "PostgreSQL is up at $pg_host:$pg_port"
    fi
  fi
  if ! redis_up; then
    log "Redis is DOWN at $redis_host:$redis_port"; failed=1
  else
    log "Redis is up at $redis_host:$redis_port"
  fi
  return "$failed"
}

start_all() {
  if ((pg_wanted)) && ! pg_up; then
    if ((pg_override)); then
      die "PostgreSQL is DOWN at $pg_host:$pg_port (from DATABASE_URL; not starting a server that is not the local default)"
    fi
    pg_start
    wait_for pg_up \
      || die "PostgreSQL did not come up at $pg_host:$pg_port within ${WAIT}s (see /var/log/postgresql/)"
  fi
  if ! redis_up; then
    if ((redis_override)); then
      die "Redis is DOWN at $redis_host:$redis_port (from REDIS_URL; not starting a server that is not the local default)"
    fi
    redis_start
    wait_for redis_up \
      || die "Redis did not come up at $redis_host:$redis_port within ${WAIT}s (see /var/log/redis/ci.log)"
  fi
  check_all || die "services are not ready (see above)"
}

ensure_db() {
  ((pg_wanted)) || { log "DATABASE_URL is not PostgreSQL; nothing to create"; return 0; }
  [[ "$pg_db" != - ]] || die "DATABASE_URL names no database"
  have psql || die "psql is needed to create database '$pg_db' (Debian: apt-get install -y postgresql-client)"
  local admin exists
  admin="$(with_db "$pg_url" postgres)"
  # psql interpolates :'db' / :"db" only in scripts read from stdin, not in -c.
  exists="$(PGCONNECT_TIMEOUT=3 psql "$admin" -Atq -v ON_ERROR_STOP=1 -v db="$pg_db" 2>&1 \
    <<<"select 1 from pg_database where datname = :'db';")" \
    || die "PostgreSQL: cannot query $pg_host:$pg_port: $exists"
  if [[ "$exists" != 1 ]]; then
    log "creating database '$pg_db' on $pg_host:$pg_port"
    PGCONNECT_TIMEOUT=3 psql "$admin" -q -v ON_ERROR_STOP=1 -v db="$pg_db" \
      <<<'CREATE DATABASE :"db";' \
      || die "PostgreSQL: could not create database '$pg_db'"
  else
    log "database '$pg_db' exists"
  fi
}

case "${1:-}" in
  check) check_all || die "services are not ready (see above)" ;;
  start) start_all ;;
  ensure-db) start_all; ensure_db ;;
  *) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
