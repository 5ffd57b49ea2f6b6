#!/usr/bin/env bash
# Builds (once) and runs the Kafka Streams windowed count used by packages/streams' Kafka bench.
#
#   bash tooling/kafka-streams/run.sh build                     copy the jars, compile; print nothing
#   bash tooling/kafka-streams/run.sh BOOTSTRAP TOPIC OUTPUT APP_ID SIZE_MS GRACE_MS EXPECTED [STATE_DIR]
#
# The jars come from Maven Central through `mvn dependency:copy-dependencies` (pom.xml beside this
# file); the class is compiled with javac. Everything made lives in .cache/ (git-ignored), and a
# step that is already done is skipped, so running it again is cheap.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="$here/.cache"
libs="$cache/libs"
classes="$cache/classes"
source_file="$here/src/main/java/dev/switchyard/tooling/WindowedCount.java"

log() { printf 'kafka-streams/run.sh: %s\n' "$*" >&2; }

build() {
  command -v java >/dev/null && command -v javac >/dev/null ||
    { log 'java and javac (JDK 17+) are needed'; return 1; }
  if [[ ! -f "$libs/.complete" || "$here/pom.xml" -nt "$libs/.complete" ]]; then
    log 'copying the kafka-streams jars from Maven Central'
    rm -rf "$libs"
    mkdir -p "$cache"
    if ! (cd "$here" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies \
      -DoutputDirectory="$libs" -DincludeScope=runtime) >"$cache/mvn.log" 2>&1; then
      log 'maven could not fetch the jars:'
      tail -n 30 "$cache/mvn.log" >&2
      return 1
    fi
    touch "$libs/.complete"
  fi
  if [[ ! -f "$classes/.complete" || "$source_file" -nt "$classes/.complete" ]]; then
    rm -rf "$classes"
    mkdir -p "$classes"
    javac -nowarn -d "$classes" -cp "$libs/*" "$source_file"
    touch "$classes/.complete"
  fi
}

build
if [[ "${1:-}" == build ]]; then exit 0; fi
exec java -Xms128m -Xmx512m -cp "$classes:$libs/*" dev.switchyard.tooling.WindowedCount "$@"
