#!/usr/bin/env bash
# Stops the services that tooling/services/*.sh started themselves (those that keep a pid file
# under .services/). Services that were already running when up.sh ran are left alone.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
for pidfile in "$root"/.services/*.pid; do
  [ -f "$pidfile" ] || continue
  pid=$(cat "$pidfile")
  name=$(basename "$pidfile" .pid)
  if kill "$pid" 2>/dev/null; then echo "stopped $name ($pid)"; fi
  rm -f "$pidfile"
done
