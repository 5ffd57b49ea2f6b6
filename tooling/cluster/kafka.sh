#!/usr/bin/env bash
# A three-broker KRaft Kafka cluster (each node broker and controller) on spare loopback ports,
# from the same Maven Central jars as tooling/services/kafka.sh: replication factor 3 and
# min.insync.replicas=2 for every topic, so a producer with acks=all loses nothing when one
# broker dies.
#
#   bash tooling/cluster/kafka.sh start     start every broker not running (the first start picks
#                                           the ports and formats the storage), wait until a
#                                           metadata request lists all three, print the bootstrap
#                                           servers, comma-separated
#   bash tooling/cluster/kafka.sh kill N    SIGKILL broker N (node.id N, 1-3); `start` brings it back
#   bash tooling/cluster/kafka.sh stop      SIGTERM every broker, keep the data
#   bash tooling/cluster/kafka.sh status    exit 0 and print the servers when all three are listed
#   bash tooling/cluster/kafka.sh pids      one line per broker: N and its pid (or -)
#   bash tooling/cluster/kafka.sh destroy   stop and remove the state directory
#
# Environment: CLUSTER_DIR=<repo>/.services/cluster-kafka  CLUSTER_WAIT_SECONDS=90
#              KAFKA_VERSION=3.9.2  KAFKA_HEAP='-Xms96m -Xmx384m' (per broker)
kind=kafka
nodes=3
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

version="${KAFKA_VERSION:-3.9.2}"
heap="${KAFKA_HEAP:--Xms96m -Xmx384m}"
kafka_dir="$repo/tooling/kafka"
libs="$kafka_dir/.cache/libs-$version"
# Any fixed 16 bytes, base64url without padding: the text "switchyard-clstr".
cluster_id="c3dpdGNoeWFyZC1jbHN0cg"

# ports: client 1-3, controller 4-6
port_of() { echo "${ports[$(($1 - 1 + $2 * nodes))]}"; }

logging_opts() {
  if [[ $version == 4.* ]]; then
    echo "-Dlog4j2.configurationFile=$kafka_dir/log4j2.properties"
  else
    echo "-Dlog4j.configuration=file:$kafka_dir/log4j.properties"
  fi
}

# The jars tooling/services/kafka.sh uses, copied by Maven once per version.
fetch_jars() {
  [[ -f $libs/.complete ]] && return
  local profile=kafka3
  [[ $version == 4.* ]] && profile=kafka4
  log "copying Kafka $version jars from Maven Central into ${libs#"$repo"/}"
  rm -rf "$libs"
  mkdir -p "$kafka_dir/.cache"
  if ! (cd "$kafka_dir" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies \
    -P"$profile" -Dkafka.version="$version" -DoutputDirectory="$libs" -DincludeScope=runtime) \
    >"$kafka_dir/.cache/mvn-$version.log" 2>&1; then
    log "maven could not fetch Kafka $version:"
    tail -n 30 "$kafka_dir/.cache/mvn-$version.log" >&2
    return 1
  fi
  touch "$libs/.complete"
}

write_config() {
  local i=$1 j voters=''
  for ((j = 1; j <= nodes; j++)); do voters+="${voters:+,}$j@127.0.0.1:$(port_of "$j" 1)"; done
  sed -e "s|@ID@|$i|g" -e "s|@VOTERS@|$voters|g" -e "s|@PORT@|$(port_of "$i" 0)|g" \
    -e "s|@CONTROLLER_PORT@|$(port_of "$i" 1)|g" -e "s|@DATA_DIR@|$dir/n$i|g" \
    "$cluster_here/kafka.properties.template" >"$dir/n$i.properties"
}

format_node() {
  local i=$1
  # shellcheck disable=SC2046 # logging_opts is one word
  java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp "$libs/*" $(logging_opts) \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$dir/n$i.properties" --ignore-formatted \
    >>"$dir/n$i.out" 2>&1 || { log "formatting node $i failed; see $dir/n$i.out"; return 1; }
}

start_nodes() {
  command -v java >/dev/null || { log 'java not found (Java 17+ is needed)'; return 1; }
  fetch_jars
  load_ports $((2 * nodes))
  local i formats=()
  # A new data dir is formatted first, the three at once (a JVM start each).
  for ((i = 1; i <= nodes; i++)); do
    node_pid "$i" >/dev/null && continue
    write_config "$i"
    if [[ ! -f $dir/n$i/meta.properties ]]; then
      format_node "$i" &
      formats+=($!)
    fi
  done
  for i in "${formats[@]}"; do wait "$i" || return 1; done
  for ((i = 1; i <= nodes; i++)); do
    node_pid "$i" >/dev/null && continue
    # shellcheck disable=SC2086,SC2046 # heap holds several flags
    spawn_node "$i" java $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:TieredStopAtLevel=1 \
      -Djava.awt.headless=true $(logging_opts) -cp "$libs/*" kafka.Kafka "$dir/n$i.properties"
  done
}

# Brokers listed by a Metadata v4 request (no topics) to broker `i`, over bash's /dev/tcp.
listed_brokers() {
  local reply
  reply="$(
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "\x00\x00\x00\x13\x00\x03\x00\x04\x00\x00\x00\x07\x00\x04sy-c\x00\x00\x00\x00\x00" >&3
      head -c 16 <&3 | od -An -tx1 | tr -d " \n"
    ' _ "$(port_of "$1" 0)" 2>/dev/null
  )" || return 1
  [[ ${#reply} -eq 32 && ${reply:8:8} == 00000007 ]] || return 1
  echo $((16#${reply:24:8}))
}

# Every broker answers, and lists all three as registered (unfenced).
ready() {
  [[ -s $dir/ports ]] || return 1
  load_ports $((2 * nodes))
  local i
  for ((i = 1; i <= nodes; i++)); do
    [[ $(listed_brokers "$i") == "$nodes" ]] || return 1
  done
}

urls() {
  local i out=()
  for ((i = 1; i <= nodes; i++)); do out+=("127.0.0.1:$(port_of "$i" 0)"); done
  (IFS=,; echo "${out[*]}")
}

main "$@"
