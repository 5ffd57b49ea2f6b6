#!/usr/bin/env bash
# Local NATS with JetStream for Switchyard's tests, benches and demos: Debian's nats-server on
# 127.0.0.1. Idempotent: when something already answers on the port (a NATS server greets with an
# INFO line) it only prints the URL; otherwise it installs nats-server (apt-get) if missing, starts
# it with JetStream (-js) and a store directory under .services/ (ignored by git), waits until it
# greets (bounded) and prints nats://127.0.0.1:<port>.
#
# Environment (all optional): NATS_PORT=4222  NATS_WAIT_SECONDS=20
# The pid file goes to <repo>/.services/nats-<port>.pid, so tooling/services/down.sh stops only a
# server this script started. Fault tests never use this one: they start a private server on a
# spare port with a store directory of their own.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
port="${NATS_PORT:-4222}"
wait_seconds="${NATS_WAIT_SECONDS:-20}"
url="nats://127.0.0.1:$port"

log() { printf 'nats.sh: %s\n' "$*" >&2; }

# The server's greeting (its INFO line) over bash's /dev/tcp, so no NATS client is needed.
greeting() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    printf "%s" "$line"
  ' _ "$port" 2>/dev/null
}

answers() {
  local info
  info="$(greeting)" || return 1
  [[ $info == INFO* ]] || return 1
  if [[ $info != *'"jetstream":true'* ]]; then
    log "the server on port $port runs without JetStream; the NATS adapter needs nats-server -js"
  fi
  return 0
}

if answers; then
  echo "$url"
  exit 0
fi

server="$(command -v nats-server || true)"
[[ -z $server && -x /usr/sbin/nats-server ]] && server=/usr/sbin/nats-server
if [[ -z $server ]]; then
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      log "nats-server is missing and apt-get needs root (no sudo here)"
      exit 1
    fi
    sudo=(sudo)
  fi
  log "installing nats-server with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" apt-get install -y -qq nats-server >&2
  server="$(command -v nats-server || echo /usr/sbin/nats-server)"
fi

store="$repo/.services/nats-$port"
pid_file="$repo/.services/nats-$port.pid"
log_file="$repo/.services/nats-$port.log"
mkdir -p "$store"
log "starting $server on 127.0.0.1:$port with JetStream (store ${store#"$repo"/})"
nohup "$server" -a 127.0.0.1 -p "$port" -js -sd "$store" -P "$pid_file" -l "$log_file" \
  >/dev/null 2>&1 &
pid=$!
disown

for ((i = 0; i < wait_seconds * 10; i++)); do
  if answers; then
    echo "$url"
    exit 0
  fi
  # Exited already (port taken, bad store): no point waiting out the deadline.
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill "$pid" 2>/dev/null || true
rm -f "$pid_file"
log "nats-server did not answer within ${wait_seconds}s; see ${log_file#"$repo"/}:"
tail -n 5 "$log_file" >&2 2>/dev/null || true
exit 1
