#!/usr/bin/env bash
# Outages lose nothing (about 100 s: the first outage lasts 60 s).
#   1. influxd frozen (SIGSTOP) for 60 s while the agent streams 400 samples/s: requests
#      time out, the journal keeps everything, and after SIGCONT every sample arrives.
#   2. influxd killed; during that outage the agent is killed with SIGKILL and started
#      again; then influxd comes back: every sample of both runs arrives. (Samples taken in
#      the last second before the SIGKILL may not have been committed to the journal yet:
#      they are not expected; everything older is.)
# Checked by querying InfluxDB, against the samples the agent printed (--points).
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/influxdb/common.sh"
OUTAGE_S=${DCM_INFLUX_OUTAGE_S:-60}

start_influxd db
curl -sS -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE dcm" >/dev/null
write_agent_config "$work/agent.yaml" "    url: $INFLUX_URL
    database: dcm
    precision: ms
    flush_interval: 200ms
    timeout: 2s
    max_backoff: 4s"
start_agent a "$work/agent.yaml"
agent_a=$AGENT_PID
sleep 4

kill -STOP "$INFLUX_PID"
echo "influxd frozen for $OUTAGE_S s"
sleep "$OUTAGE_S"
kill -CONT "$INFLUX_PID"
sleep 8
grep -q "write failed" "$work/a.err" || fail "no log line for the failed writes"
grep -q "writes resumed" "$work/a.err" || fail "no log line for the recovery"
check_influx_v1 dcm -- "$work/a.points:$(($(now_ns) - 3000000000))" \
    || fail "samples missing after the frozen server came back"
echo "ok: nothing lost while the server was frozen"

kill -KILL "$INFLUX_PID"
wait "$INFLUX_PID" 2>/dev/null || true
sleep 3
t_kill=$(now_ns)
kill -KILL "$agent_a"
{ wait "$agent_a"; } 2>/dev/null || true
start_agent b "$work/agent.yaml"
sleep 4
start_influxd db
sleep 8
stop_agent
# What b committed after its last request is sent by the next start.
start_agent c "$work/agent.yaml"
sleep 3
stop_agent
check_influx_v1 dcm -- "$work/a.points:$((t_kill - 1000000000))" "$work/b.points" \
    || fail "samples missing after the agent was killed during an outage"
echo PASS
