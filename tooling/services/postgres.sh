#!/usr/bin/env bash
# PostgreSQL for the outbox tests and bench: a server on 127.0.0.1:5432 (trust auth on loopback)
# with a `switchyard` database. Idempotent: when a server already answers it only creates the
# database; otherwise it installs Debian's `postgresql` if missing, starts a cluster and waits.
# Prints the connection URL (SWITCHYARD_POSTGRES_URL) on stdout; progress goes to stderr.
set -euo pipefail

HOST=127.0.0.1
PORT="${SWITCHYARD_POSTGRES_PORT:-5432}"
DB=switchyard
USER_NAME=postgres
URL="postgres://${USER_NAME}@${HOST}:${PORT}/${DB}"
WAIT_SECONDS="${SWITCHYARD_POSTGRES_WAIT:-60}"

log() { echo "postgres.sh: $*" >&2; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The newest installed server's binaries (a client-only install has no initdb).
bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$dir" ] && dirname "$dir"
  return 0
}

ready() {
  pg_isready -q -h "$HOST" -p "$PORT" >/dev/null 2>&1
}

psql_admin() {
  psql -X -q -h "$HOST" -p "$PORT" -U "$USER_NAME" -d postgres -v ON_ERROR_STOP=1 "$@"
}

ensure_database() {
  if [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB}'")" != 1 ]; then
    log "creating database ${DB}"
    # Two runs at once may race; the loser sees "already exists", which is fine.
    psql_admin -c "CREATE DATABASE ${DB}" >/dev/null 2>&1 ||
      [ "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '${DB}'")" = 1 ]
  fi
}

install_server() {
  if [ -n "$(bindir)" ] && command -v pg_isready >/dev/null 2>&1 && command -v psql >/dev/null 2>&1; then
    return
  fi
  log "installing Debian postgresql"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >&2
}

start_server() {
  local bin data logfile
  bin=$(bindir)
  data="${SWITCHYARD_POSTGRES_DATA:-/var/lib/postgresql/switchyard-${PORT}}"
  logfile="${data}.log"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$data"
    chown postgres:postgres "$data"
    touch "$logfile"
    chown postgres:postgres "$logfile"
    mkdir -p /var/run/postgresql && chown postgres:postgres /var/run/postgresql
  fi
  if [ ! -s "${data}/PG_VERSION" ]; then
    log "initdb ${data}"
    as_postgres "${bin}/initdb" -D "$data" -U "$USER_NAME" --auth=trust -E UTF8 >&2
  fi
  log "starting PostgreSQL on ${HOST}:${PORT}"
  as_postgres "${bin}/pg_ctl" -D "$data" -l "$logfile" -w -t "$WAIT_SECONDS" \
    -o "-c listen_addresses=${HOST} -p ${PORT}" start >&2
}

if ! ready; then
  install_server
  start_server
  deadline=$((SECONDS + WAIT_SECONDS))
  until ready; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "PostgreSQL did not become ready on ${HOST}:${PORT} within ${WAIT_SECONDS}s"
      exit 1
    fi
    sleep 1
  done
fi

ensure_database
echo "$URL"
