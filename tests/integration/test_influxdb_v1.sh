#!/usr/bin/env bash
# InfluxDB 1.x (Debian's influxd, /write, gzip bodies, ms precision): an agent streams
# 400 samples/s; every sample it printed is stored (checked by querying the database),
# with the documented field types, and the KPI records arrive as dcm_kpi with their tags.
# A second start delivers what the first left in the journal at its stop.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/influxdb/common.sh"

start_influxd db
curl -sS -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE dcm" >/dev/null
write_agent_config "$work/agent.yaml" "    url: $INFLUX_URL/
    database: dcm
    precision: ms
    flush_interval: 200ms
    batch_lines: 1000"
start_agent a "$work/agent.yaml"
sleep 10
t_stop=$(now_ns)
stop_agent
grep -q "influxdb: writing to $INFLUX_URL" "$work/a.err" || fail "no start line from the InfluxDB output"

# While running, delivery keeps up: everything older than 1.5 s at the stop is stored.
check_influx_v1 dcm -- "$work/a.points:$((t_stop - 1500000000))" || fail "samples missing after the first run"

# A second start resumes from the cursor: afterwards nothing of the first run is missing.
start_agent b "$work/agent.yaml"
sleep 3
stop_agent
check_influx_v1 dcm -- "$work/a.points" || fail "samples of the first run missing after the restart"

fields=$(influx_query dcm 'SHOW FIELD KEYS FROM dcm_point')
echo "$fields" | grep -q '\["quality","string"\]' || fail "quality is not a string field: $fields"
echo "$fields" | grep -q '\["value","float"\]' || fail "value is not a float field: $fields"
tags=$(influx_query dcm 'SHOW TAG KEYS FROM dcm_point')
for t in collector point site unit; do
    echo "$tags" | grep -q "\"$t\"" || fail "dcm_point has no tag $t: $tags"
done

kpi=$(influx_query dcm "SELECT count(pue) FROM dcm_kpi WHERE \"window\"='instant' AND category='2' AND site='influx-test'")
n=$("$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["results"][0]["series"][0]["values"][0][1])' "$kpi" 2>/dev/null || echo 0)
[ "$n" -ge 5 ] || fail "expected at least 5 instant KPI records with pue, got $n: $kpi"
kfields=$(influx_query dcm 'SHOW FIELD KEYS FROM dcm_kpi')
for f in '"pue","float"' '"quality","string"' '"interim","boolean"' '"coverage","float"' '"pue_quality","string"'; do
    echo "$kfields" | grep -q "\[$f\]" || fail "dcm_kpi lacks field $f: $kfields"
done
echo "ok: $n instant KPI records"
echo PASS
