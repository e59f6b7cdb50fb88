#!/usr/bin/env bash
# Nothing is lost through outages (takes 60 to 80 s: the first outage lasts 30 s).
#   1. The broker (with persistence) is stopped for 30 s while the agent keeps producing
#      about 430 samples/s, then restarted: the journal's backlog is replayed in order.
#   2. The broker is stopped again, the agent is killed with SIGKILL during that outage and
#      started again, then the broker comes back: the new process resends from the
#      journal's persisted cursor.
# A subscriber with a persistent QoS 1 session records everything. Every sample the agent
# printed with --points must reach it (same topic, ts and value), first arrivals in ts
# order per topic; duplicates are allowed (delivery is at least once). From the killed
# process only samples up to 1 s before the SIGKILL are expected: the journal makes a
# batch durable when it is committed, at most 100 ms after the samples were printed.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/mqtt/common.sh"
need_tools

port=$(free_port)
write_broker_conf broker "$port"
start_broker broker "$port"
broker=$BROKER_PID
start_subscriber "$work/sub.jsonl" --port "$port" --topic 'out/hall-1/point/#' \
    --session dcm-outage-recorder

write_agent_conf "$work/agent.yaml" "    url: tcp://127.0.0.1:$port
    prefix: out
    qos: 1
    max_inflight: 200"
"$DCMETRICS" run -c "$work/agent.yaml" --points >"$work/points1.jsonl" 2>"$work/run1.err" &
agent=$!
server_pids+=("$agent")
sleep 5

echo "outage 1: broker down for 30 s"
stop_pid "$broker"
sleep 30
start_broker broker "$port"
broker=$BROKER_PID
t0=$(date +%s.%N)
# The backlog (35 s of samples) is replayed once the agent's backoff (10 s at most) lets
# it reconnect.
printed=$(wc -l <"$work/points1.jsonl")
wait_lines "$work/sub.jsonl" "$printed" 25 || {
    echo "FAIL: only $(wc -l <"$work/sub.jsonl") of $printed samples 25 s after the broker came back"
    exit 1; }
echo "after outage 1: $(wc -l <"$work/sub.jsonl") messages recorded;" \
     "backlog of $printed samples caught up in $(awk -v a="$t0" -v b="$(date +%s.%N)" \
     'BEGIN{printf "%.1f", b - a}') s"

echo "outage 2: broker down, agent killed (SIGKILL) and restarted meanwhile"
stop_pid "$broker"
sleep 4
date +%s.%N >"$work/t_kill"
kill -KILL "$agent"
wait "$agent" 2>/dev/null || true
"$DCMETRICS" run -c "$work/agent.yaml" --points >"$work/points2.jsonl" 2>"$work/run2.err" &
agent=$!
server_pids+=("$agent")
sleep 4
start_broker broker "$port"
broker=$BROKER_PID
sleep 8
date +%s.%N >"$work/t_stop"
stop_agent "$agent" "$work/run2.err"
sleep 1

kill_cut=$(awk '{printf "%.3f", $1 - 1}' "$work/t_kill")
stop_cut=$(awk '{printf "%.3f", $1 - 2}' "$work/t_stop")
"$PY" "$MQTT_DIR/check.py" complete "$work/sub.jsonl" out/hall-1 \
    "$work/points1.jsonl@$kill_cut" "$work/points2.jsonl@$stop_cut"
grep -q "connection to .* lost" "$work/run1.err" || { echo "FAIL: outage not logged"; exit 1; }
echo "PASS"
