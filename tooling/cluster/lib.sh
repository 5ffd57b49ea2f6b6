#!/usr/bin/env bash
# Shared by tooling/cluster/{nats,redis,kafka}.sh: the state directory, spare ports, and the
# pid files of the nodes. Sourced, never run. The caller sets `kind` and `nodes` first.
set -euo pipefail

cluster_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$cluster_here/../.." && pwd)"
dir="${CLUSTER_DIR:-$repo/.services/cluster-$kind}"
wait_seconds="${CLUSTER_WAIT_SECONDS:-90}"

log() { printf '%s.sh: %s\n' "$kind" "$*" >&2; }

# `count` loopback ports that nothing listens on, all held at once so they are distinct.
spare_ports() {
  node -e '
    const net = require("node:net")
    const servers = Array.from({ length: Number(process.argv[1]) }, () => net.createServer())
    Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, "127.0.0.1", ok)))).then(() => {
      console.log(servers.map((s) => s.address().port).join(" "))
      for (const s of servers) s.close()
    })
  ' "$1"
}

# The ports of this cluster: picked once (the first start) and kept in the state directory, so a
# node brought back after a kill listens where its peers and clients expect it.
load_ports() {
  mkdir -p "$dir"
  if [[ ! -s $dir/ports ]]; then spare_ports "$1" >"$dir/ports"; fi
  read -r -a ports <"$dir/ports"
}

pid_file() { echo "$dir/n$1.pid"; }

# The pid of node `i` when that process is alive.
node_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f $file ]] || return 1
  pid="$(cat "$file")"
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

wait_gone() {
  local pid=$1 seconds=$2 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# SIGKILL node `i` (a crash: no shutdown, no flush) and wait until it is gone.
kill_node() {
  local pid
  if pid="$(node_pid "$1")"; then
    kill -9 "$pid"
    wait_gone "$pid" 10 || log "node $1 ($pid) still there 10 s after SIGKILL"
    log "killed node $1 (pid $pid)"
  fi
  rm -f "$(pid_file "$1")"
}

# SIGTERM every node (a clean shutdown), SIGKILL what is left after 30 s.
stop_all() {
  local i pid
  for ((i = 1; i <= nodes; i++)); do
    if pid="$(node_pid "$i")"; then kill "$pid" 2>/dev/null || true; fi
  done
  for ((i = 1; i <= nodes; i++)); do
    if pid="$(node_pid "$i")"; then
      wait_gone "$pid" 30 || { log "node $i ($pid) did not stop in 30 s; killing it"; kill -9 "$pid" 2>/dev/null || true; }
    fi
    rm -f "$(pid_file "$i")"
  done
}

# Starts `command...` in the background for node `i`, its output in n<i>.out, its pid recorded.
spawn_node() {
  local i=$1
  shift
  nohup "$@" >>"$dir/n$i.out" 2>&1 </dev/null &
  echo $! >"$(pid_file "$i")"
}

# Waits until `check` succeeds, failing early when a node that should run has exited.
wait_for() {
  local what=$1 check=$2 deadline=$((SECONDS + wait_seconds)) i
  until "$check"; do
    for ((i = 1; i <= nodes; i++)); do
      if [[ -f $(pid_file "$i") ]] && ! node_pid "$i" >/dev/null; then
        log "node $i exited during start; last lines of $dir/n$i.out:"
        tail -n 20 "$dir/n$i.out" >&2 || true
        return 1
      fi
    done
    if ((SECONDS >= deadline)); then
      log "$what not reached within ${wait_seconds}s (logs in $dir)"
      return 1
    fi
    sleep 0.2
  done
}

usage() {
  log "usage: $kind.sh start | stop | kill <1-$nodes> | status | pids | destroy"
  exit 2
}

# The common commands; the caller defines start_nodes, ready and urls.
main() {
  case "${1:-start}" in
    start)
      start_nodes
      wait_for "a ready cluster" ready
      urls
      ;;
    stop) stop_all ;;
    kill)
      [[ ${2:-} =~ ^[0-9]+$ ]] && (($2 >= 1 && $2 <= nodes)) || usage
      kill_node "$2"
      ;;
    status) ready && urls ;;
    pids)
      local i
      for ((i = 1; i <= nodes; i++)); do echo "$i $(node_pid "$i" || echo -)"; done
      ;;
    destroy)
      # The data goes too, so there is nothing to shut down cleanly for.
      local i
      for ((i = 1; i <= nodes; i++)); do kill_node "$i" 2>/dev/null; done
      rm -rf "$dir"
      ;;
    *) usage ;;
  esac
}
