#!/usr/bin/env bash
# A Redis Cluster of three masters and three replicas (Debian's redis-server, joined with
# `redis-cli --cluster create`) on spare loopback ports, for the cluster tests: when a master
# dies its replica takes over its slots within seconds, and the node brought back rejoins as a
# replica. Append-only files keep the data across a clean stop and start of every node.
#
#   bash tooling/cluster/redis.sh start     start every node not running (the first start picks
#                                           the ports and creates the cluster), wait until every
#                                           slot is served, no node is marked failed and every
#                                           replica is in sync, print the six node addresses
#                                           (host:port, comma-separated, node 1 first)
#   bash tooling/cluster/redis.sh kill N    SIGKILL node N (1-6); `start` brings it back
#   bash tooling/cluster/redis.sh stop      SIGTERM every node (each writes its append-only file)
#   bash tooling/cluster/redis.sh status    exit 0 and print the addresses when ready
#   bash tooling/cluster/redis.sh pids      one line per node: N and its pid (or -)
#   bash tooling/cluster/redis.sh destroy   stop and remove the state directory
#
# Environment: CLUSTER_DIR=<repo>/.services/cluster-redis  CLUSTER_WAIT_SECONDS=90
#              REDIS_NODE_TIMEOUT_MS=2000 (cluster-node-timeout: how soon a silent master fails over)
kind=redis
nodes=6
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

node_timeout="${REDIS_NODE_TIMEOUT_MS:-2000}"

# ports: client 1-6, cluster bus 7-12 (not port+10000, which may be taken or past 65535)
port_of() { echo "${ports[$(($1 - 1 + $2 * nodes))]}"; }
cli() { timeout 5 redis-cli -h 127.0.0.1 -p "$(port_of "$1" 0)" "${@:2}" 2>/dev/null; }

start_nodes() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    { log 'redis-server or redis-cli not found (apt-get install redis-server)'; return 1; }
  load_ports $((2 * nodes))
  local i
  for ((i = 1; i <= nodes; i++)); do
    node_pid "$i" >/dev/null && continue
    mkdir -p "$dir/n$i"
    spawn_node "$i" redis-server --port "$(port_of "$i" 0)" --bind 127.0.0.1 \
      --cluster-enabled yes --cluster-port "$(port_of "$i" 1)" \
      --cluster-config-file nodes.conf --cluster-node-timeout "$node_timeout" \
      --cluster-require-full-coverage no --repl-diskless-sync-delay 0 --dir "$dir/n$i" --save '' \
      --appendonly yes --appendfsync everysec --loglevel warning --daemonize no
  done
  wait_for 'every node answering PING' all_ping
  if [[ ! -f $dir/created ]]; then
    local addresses=()
    for ((i = 1; i <= nodes; i++)); do addresses+=("127.0.0.1:$(port_of "$i" 0)"); done
    redis-cli --cluster create "${addresses[@]}" --cluster-replicas 1 --cluster-yes \
      >>"$dir/create.out" 2>&1 || { log "redis-cli --cluster create failed; see $dir/create.out"; return 1; }
    touch "$dir/created"
  fi
}

all_ping() {
  local i
  for ((i = 1; i <= nodes; i++)); do [[ $(cli "$i" ping) == PONG ]] || return 1; done
}

# Every node: all slots served, six nodes known, none marked failed, and a replica's link up.
# One redis-cli per node (three commands on its stdin): polling stays light on a busy machine.
ready() {
  [[ -s $dir/ports && -f $dir/created ]] || return 1
  load_ports $((2 * nodes))
  local i info
  for ((i = 1; i <= nodes; i++)); do
    info="$(printf 'CLUSTER INFO\nCLUSTER NODES\nINFO replication\n' | cli "$i")" || return 1
    [[ $info == *cluster_state:ok* && $info == *cluster_slots_ok:16384* ]] || return 1
    [[ $info == *"cluster_known_nodes:$nodes"* ]] || return 1
    # A node flagged failed (`fail`) or suspected (`fail?`) in CLUSTER NODES.
    [[ ! $info =~ [\ ,]fail[?,\ ] ]] || return 1
    [[ $info != *role:slave* || $info == *master_link_status:up* ]] || return 1
  done
}

urls() {
  local i out=()
  for ((i = 1; i <= nodes; i++)); do out+=("127.0.0.1:$(port_of "$i" 0)"); done
  (IFS=,; echo "${out[*]}")
}

main "$@"
