#!/usr/bin/env bash
# Local Apache Kafka (single-node KRaft) for Switchyard's tests, benches and demos.
# The broker is the real Apache Kafka server from its Maven Central jars (no Docker here).
#
#   bash tooling/services/kafka.sh [start]   start it unless something already answers; print the address
#   bash tooling/services/kafka.sh stop      stop the broker this script started (pid file), keep data
#   bash tooling/services/kafka.sh status    exit 0 when the broker answers a metadata request
#
# Environment (all optional):
#   KAFKA_PORT=9092  KAFKA_CONTROLLER_PORT=<port+1>  KAFKA_VERSION=3.9.2 (4.x uses log4j2)
#   KAFKA_DATA_DIR=<repo>/.services/kafka-<port>     KAFKA_HEAP=-Xms128m -Xmx512m
#   KAFKA_WAIT_SECONDS=90
# Fault tests start a private broker with their own KAFKA_PORT and KAFKA_DATA_DIR, stop it with
# `stop`, and start it again on the same data; the shared broker on 9092 is never stopped by them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
kafka_dir="$repo/tooling/kafka"

port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
version="${KAFKA_VERSION:-3.9.2}"
data_dir="${KAFKA_DATA_DIR:-$repo/.services/kafka-$port}"
heap="${KAFKA_HEAP:--Xms128m -Xmx512m}"
wait_seconds="${KAFKA_WAIT_SECONDS:-90}"
libs="$kafka_dir/.cache/libs-$version"
pid_file="$data_dir/kafka.pid"
log_file="$data_dir/kafka.log"
# Any fixed 16 bytes, base64url without padding: the text "switchyard-kafka".
cluster_id="c3dpdGNoeWFyZC1rYWZrYQ"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }

# A Metadata v4 request (header v1, no topics) over bash's /dev/tcp; true when the answer lists
# at least one broker. v4 is answered by Kafka 1.0 through 4.x (4.0 dropped v0-v3).
answers_metadata() {
  local reply
  reply="$(
    timeout 3 bash -c '
      exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
      printf "\x00\x00\x00\x13\x00\x03\x00\x04\x00\x00\x00\x07\x00\x04sy-p\x00\x00\x00\x00\x00" >&3
      head -c 16 <&3 | od -An -tx1 | tr -d " \n"
    ' _ "$port" 2>/dev/null
  )" || return 1
  # size(4) correlation id(4) throttle(4) broker count(4)
  [[ ${#reply} -eq 32 && ${reply:8:8} == 00000007 && $((16#${reply:24:8})) -ge 1 ]]
}

port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$1" 2>/dev/null; }

fetch_jars() {
  if [[ -f "$libs/.complete" ]]; then return; fi
  local profile=kafka3
  [[ $version == 4.* ]] && profile=kafka4
  log "copying Kafka $version jars from Maven Central into ${libs#"$repo"/}"
  rm -rf "$libs"
  mkdir -p "$kafka_dir/.cache"
  local mvn_log="$kafka_dir/.cache/mvn-$version.log"
  if ! (cd "$kafka_dir" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies -P"$profile" \
    -Dkafka.version="$version" -DoutputDirectory="$libs" -DincludeScope=runtime) >"$mvn_log" 2>&1; then
    log "maven could not fetch Kafka $version:"
    tail -n 30 "$mvn_log" >&2
    return 1
  fi
  touch "$libs/.complete"
}

write_config() {
  mkdir -p "$data_dir/logs"
  sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$controller_port|g" \
    -e "s|@DATA_DIR@|$data_dir|g" "$kafka_dir/server.properties.template" >"$data_dir/server.properties"
}

logging_opts() {
  if [[ $version == 4.* ]]; then
    echo "-Dlog4j2.configurationFile=$kafka_dir/log4j2.properties"
  else
    echo "-Dlog4j.configuration=file:$kafka_dir/log4j.properties"
  fi
}

start() {
  if answers_metadata; then
    echo "127.0.0.1:$port"
    return 0
  fi
  if port_open "$port"; then
    log "127.0.0.1:$port is taken by something that does not answer Kafka metadata requests"
    return 1
  fi
  command -v java >/dev/null || { log 'java not found (Java 17+ is needed)'; return 1; }
  fetch_jars
  write_config
  # Formatting is a JVM start of its own (about 2 s): only for a new data dir.
  if [[ ! -f "$data_dir/logs/meta.properties" ]]; then
    # shellcheck disable=SC2046 # logging_opts is one word
    java -cp "$libs/*" $(logging_opts) kafka.tools.StorageTool format -t "$cluster_id" \
      -c "$data_dir/server.properties" --ignore-formatted >>"$log_file" 2>&1 ||
      { log "formatting the storage failed; see $log_file"; tail -n 20 "$log_file" >&2; return 1; }
  fi
  log "starting Kafka $version on 127.0.0.1:$port (data in $data_dir, log in $log_file)"
  # shellcheck disable=SC2086 # heap holds several flags
  nohup java $heap -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    $(logging_opts) -cp "$libs/*" kafka.Kafka "$data_dir/server.properties" \
    >>"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
  local deadline=$((SECONDS + wait_seconds))
  until answers_metadata; do
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      log "Kafka exited during start; last lines of $log_file:"
      tail -n 30 "$log_file" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      log "Kafka did not answer within ${wait_seconds}s; see $log_file"
      return 1
    fi
    sleep 0.5
  done
  echo "127.0.0.1:$port"
}

stop() {
  [[ -f $pid_file ]] || { log "no pid file in $data_dir: nothing started here"; return 0; }
  local pid
  pid="$(cat "$pid_file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS >= deadline)); then
        log "Kafka $pid did not stop within 30s; killing it"
        kill -9 "$pid" 2>/dev/null || true
        break
      fi
      sleep 0.2
    done
  fi
  rm -f "$pid_file"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) answers_metadata && echo "127.0.0.1:$port" ;;
  *)
    log "usage: kafka.sh [start|stop|status]"
    exit 2
    ;;
esac
