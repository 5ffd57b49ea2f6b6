#!/usr/bin/env bash
# A three-node NATS cluster with JetStream (Debian's nats-server) on spare loopback ports, for
# the cluster tests: streams with replicas 3 survive the loss of one node.
#
#   bash tooling/cluster/nats.sh start     start every node not running (the first start picks
#                                          the ports), wait for a JetStream meta leader, print the
#                                          client URLs, comma-separated
#   bash tooling/cluster/nats.sh kill N    SIGKILL node N (1-3); `start` brings it back on its store
#   bash tooling/cluster/nats.sh stop      SIGTERM every node, keep the stores
#   bash tooling/cluster/nats.sh status    exit 0 and print the URLs when the cluster is ready
#   bash tooling/cluster/nats.sh pids      one line per node: N and its pid (or -)
#   bash tooling/cluster/nats.sh destroy   stop and remove the state directory
#
# Environment: CLUSTER_DIR=<repo>/.services/cluster-nats (ports, configs, stores, logs, pids)
#              CLUSTER_WAIT_SECONDS=90. Node N is named nN (its JetStream server_name).
kind=nats
nodes=3
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

server="$(command -v nats-server || echo /usr/sbin/nats-server)"

# ports: client 1-3, cluster routes 4-6, monitoring 7-9
port_of() { echo "${ports[$(($1 - 1 + $2 * nodes))]}"; }

write_config() {
  local i=$1 j routes=''
  for ((j = 1; j <= nodes; j++)); do
    ((j == i)) || routes+="    nats-route://127.0.0.1:$(port_of "$j" 1)"$'\n'
  done
  cat >"$dir/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$(port_of "$i" 0)
http: 127.0.0.1:$(port_of "$i" 2)
jetstream { store_dir: "$dir/n$i" }
cluster {
  name: switchyard
  listen: 127.0.0.1:$(port_of "$i" 1)
  routes: [
$routes  ]
}
CONF
}

start_nodes() {
  [[ -x $server ]] || { log "nats-server not found (apt-get install nats-server)"; return 1; }
  load_ports $((3 * nodes))
  local i
  for ((i = 1; i <= nodes; i++)); do
    node_pid "$i" >/dev/null && continue
    write_config "$i"
    spawn_node "$i" "$server" -c "$dir/n$i.conf"
  done
}

http_get() {
  timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf "GET %s HTTP/1.0\r\n\r\n" "$2" >&3
    cat <&3
  ' _ "$1" "$2" 2>/dev/null
}

# Every node answers /healthz, and the JetStream meta group has a leader.
ready() {
  [[ -s $dir/ports ]] || return 1
  load_ports $((3 * nodes))
  local i
  for ((i = 1; i <= nodes; i++)); do
    [[ $(http_get "$(port_of "$i" 2)" /healthz) == *'"ok"'* ]] || return 1
  done
  local jsz
  jsz="$(http_get "$(port_of 1 2)" /jsz | tr -d ' \r\n')"
  [[ $jsz == *'"meta_cluster":{"name":"switchyard","leader":"n'* ]]
}

urls() {
  local i out=()
  for ((i = 1; i <= nodes; i++)); do out+=("nats://127.0.0.1:$(port_of "$i" 0)"); done
  (IFS=,; echo "${out[*]}")
}

main "$@"
