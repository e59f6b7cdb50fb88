#!/usr/bin/env bash
# Runs bench_mqtt against a Mosquitto it starts on a free loopback port (stopped at exit).
# Usage: bench/bench_mqtt.sh BUILD_DIR [RATE] [SECONDS] [QOS] [MAX_INFLIGHT] [VERSION]
set -euo pipefail
build=${1:?usage: bench/bench_mqtt.sh BUILD_DIR [RATE] [SECONDS] [QOS] [MAX_INFLIGHT] [VERSION]}
shift
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nset_tcp_nodelay true\n' "$port" >"$dir/m.conf"
"$(command -v mosquitto || echo /usr/sbin/mosquitto)" -c "$dir/m.conf" >"$dir/m.log" 2>&1 &
broker=$!
trap 'kill $broker 2>/dev/null; wait $broker 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null && break
    sleep 0.1
done
"$build/bench/bench_mqtt" "tcp://127.0.0.1:$port" "$@"
