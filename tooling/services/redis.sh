#!/usr/bin/env bash
# Local Redis for Switchyard's tests, benches and demos: Debian's redis-server on 127.0.0.1.
# Idempotent: when something already answers PING on the port it only prints the URL; otherwise
# it installs redis-server (apt-get) if missing, starts it daemonized without persistence, waits
# until it answers (bounded) and prints redis://127.0.0.1:<port>.
#
# Environment (all optional): REDIS_PORT=6379  REDIS_WAIT_SECONDS=20
# The pid file goes to <repo>/.services/redis-<port>.pid, so tooling/services/down.sh stops only a
# server this script started. Fault tests never use this one: they start a private server.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
port="${REDIS_PORT:-6379}"
wait_seconds="${REDIS_WAIT_SECONDS:-20}"
url="redis://127.0.0.1:$port"

log() { printf 'redis.sh: %s\n' "$*" >&2; }

# PING over bash's /dev/tcp, so this works before redis-cli is installed.
answers_ping() {
  local reply
  reply="$(
    timeout 2 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "PING\r\n" >&3
      head -c 7 <&3
    ' _ "$port" 2>/dev/null
  )" || return 1
  [[ $reply == +PONG* ]]
}

if answers_ping; then
  echo "$url"
  exit 0
fi

if ! command -v redis-server >/dev/null 2>&1; then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      log "redis-server is missing and apt-get needs root (no sudo here)"
      exit 1
    fi
    sudo=(sudo)
  fi
  log "installing redis-server with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq redis-server >&2
fi

mkdir -p "$repo/.services"
pid_file="$repo/.services/redis-$port.pid"
log "starting redis-server on 127.0.0.1:$port (no persistence)"
redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --pidfile "$pid_file" \
  --save '' --appendonly no --dir "$repo/.services" --logfile "$repo/.services/redis-$port.log" >&2

for ((i = 0; i < wait_seconds * 10; i++)); do
  if answers_ping; then
    echo "$url"
    exit 0
  fi
  sleep 0.1
done
log "redis-server did not answer PING within ${wait_seconds}s; see .services/redis-$port.log"
exit 1
