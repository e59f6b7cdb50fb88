#!/usr/bin/env bash
# MQTT output over plain TCP with MQTT 5 against a real Mosquitto: topics, JSON payloads
# (points, KPI records, status, an alert) valid against docs/schemas/, MQTT 5 properties (content type, schema version, expiry of
# point samples), retained KPI and status messages, "offline" on a clean stop and as the
# will when the agent is killed, and every sample printed by --points delivered.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/mqtt/common.sh"
need_tools

port=$(free_port)
write_broker_conf broker "$port"
start_broker broker "$port"
start_subscriber "$work/sub.jsonl" --port "$port" --topic 'dcm/#' --v5

# A Modbus meter on a port nobody listens on: its offline alert goes to .../alert.
dead=$(free_port)
write_agent_conf "$work/agent.yaml" "    url: tcp://127.0.0.1:$port
    prefix: dcm
    version: '5'
    qos: 1
    point_expiry: 10m" \
    "  - {name: dead, type: modbus, url: 'tcp://127.0.0.1:$dead', unit: 1, profile: eastron-sdm630, timeout: 100ms}" \
    "alerts:
  - {name: meter-offline, device: dead, offline_for: 1}"
"$DCMETRICS" run -c "$work/agent.yaml" --points >"$work/points.jsonl" 2>"$work/run.err" &
agent=$!
server_pids+=("$agent")
sleep 8
date +%s.%N >"$work/t_stop"
stop_agent "$agent" "$work/run.err"
sleep 1

# Samples until 2 s before the stop were all delivered (what the pipeline produced in the
# last instants may still be in the journal, for the next start).
cut=$(awk '{printf "%.3f", $1 - 2}' "$work/t_stop")
"$PY" "$MQTT_DIR/check.py" complete "$work/sub.jsonl" dcm/hall-1 "$work/points.jsonl@$cut"
"$PY" "$MQTT_DIR/check.py" schemas "$work/sub.jsonl" "$SCHEMAS"

"$PY" - "$work/sub.jsonl" "$work/points.jsonl" <<'PYEOF'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
samples = sum(1 for l in open(sys.argv[2]) if l.strip())
assert samples >= 200 * 7, ("the agent produced fewer than 200 samples/s", samples)
points = [m for m in msgs if "/point/" in m["topic"]]
alerts = [json.loads(m["payload"]) for m in msgs if m["topic"] == "dcm/hall-1/alert"]
assert alerts and alerts[0].get("ts"), ("no alert published", alerts)
kpis = [m for m in msgs if "/kpi/" in m["topic"]]
status = [m for m in msgs if m["topic"] == "dcm/hall-1/status"]
assert points and kpis, (len(points), len(kpis))
for m in msgs:
    p = m["props"]
    assert p.get("ContentType") == "application/json", (m["topic"], p)
    assert ["schema_version", "1"] in [list(x) for x in p.get("UserProperty", [])], p
for m in points:
    e = m["props"].get("MessageExpiryInterval")
    assert e is not None and 0 < e <= 600, ("point expiry", e)
    assert not m["retain"]
for m in kpis:
    assert "MessageExpiryInterval" not in m["props"], m["props"]
assert any(m["topic"] == "dcm/hall-1/kpi/instant" for m in kpis), "no instant KPI"
s = [json.loads(m["payload"])["status"] for m in status]
assert s[0] == "online" and s[-1] == "offline", s
print("MQTT 5: %d point, %d kpi, %d status, %d alert messages; properties ok"
      % (len(points), len(kpis), len(status), len(alerts)))
PYEOF

# Retained: a new subscriber gets the latest KPI per window and the status at once.
"$PY" "$MQTT_DIR/subscriber.py" --port "$port" --topic 'dcm/hall-1/+/#' \
    --out "$work/late.jsonl" 2>/dev/null &
late=$!
server_pids+=("$late")
sleep 2
kill "$late"
"$PY" - "$work/late.jsonl" <<'PYEOF'
import json, sys
msgs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {m["topic"]: m for m in msgs}
assert by["dcm/hall-1/status"]["retain"], "status not retained"
assert json.loads(by["dcm/hall-1/status"]["payload"])["status"] == "offline"
assert by["dcm/hall-1/kpi/instant"]["retain"], "KPI not retained"
assert not any("/point/" in t for t in by), "point samples must not be retained"
print("retained: status offline, kpi windows", sorted(t for t in by if "/kpi/" in t))
PYEOF

# The will: killed without a goodbye, the agent is reported offline by the broker.
: >"$work/sub.jsonl"
"$DCMETRICS" run -c "$work/agent.yaml" >/dev/null 2>>"$work/run.err" &
agent=$!
server_pids+=("$agent")
wait_lines "$work/sub.jsonl" 50 15 || { echo "FAIL: nothing published after restart"; exit 1; }
kill -KILL "$agent"
wait "$agent" 2>/dev/null || true
sleep 2
"$PY" - "$work/sub.jsonl" <<'PYEOF'
import json, sys
st = [json.loads(json.loads(l)["payload"]) for l in open(sys.argv[1])
      if l.strip() and json.loads(l)["topic"] == "dcm/hall-1/status"]
assert [s["status"] for s in st][-2:] == ["online", "offline"], st
print("will: offline published by the broker after kill -9")
PYEOF
if grep -qi "password" "$work/run.err"; then
    echo "FAIL: the log mentions a password"
    exit 1
fi
echo "PASS"
