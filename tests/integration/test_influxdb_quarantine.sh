#!/usr/bin/env bash
# Lines the server refuses (HTTP 400) are found by splitting the batch, kept in
# <state_dir>/influxdb-quarantine.lp with the server's message, and acknowledged; every
# other line is stored. The refusal is made real: before the agent starts, a string value
# is written for dcm_kpi's float field pue, so every KPI line conflicts with it.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/influxdb/common.sh"

start_influxd db
curl -sS -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE dcm" >/dev/null
printf 'dcm_kpi,site=influx-test pue="not a number" %s\n' "$(date +%s)" |
    curl -sS -f -XPOST "$INFLUX_URL/write?db=dcm&precision=s" --data-binary @- \
    || fail "cannot pre-write the conflicting field"
write_agent_config "$work/agent.yaml" "    url: $INFLUX_URL
    database: dcm
    precision: ms
    flush_interval: 300ms"
start_agent a "$work/agent.yaml"
sleep 8
stop_agent
start_agent b "$work/agent.yaml"
sleep 2
stop_agent

q="$work/state/influxdb-quarantine.lp"
[ -s "$q" ] || fail "no quarantine file"
grep -q '^# .* seq=[0-9]* HTTP 400: .*field type conflict' "$q" || { cat "$q" | head -5; fail "no server message in the quarantine file"; }
kpi_lines=$(grep -c '^dcm_kpi,' "$q" || true)
[ "$kpi_lines" -ge 5 ] || fail "expected the KPI lines in quarantine, found $kpi_lines"
if grep -q '^dcm_point,' "$q"; then fail "good lines were quarantined"; fi
comments=$(grep -c '^# ' "$q")
[ "$comments" -eq "$kpi_lines" ] || fail "$comments comments for $kpi_lines lines"
check_influx_v1 dcm -- "$work/a.points" || fail "good lines missing"
grep -q "refused a line" "$work/a.err" || fail "quarantine not logged"
# Quarantined lines are acknowledged: the second run did not send any of them again.
dups=$(grep -o ' seq=[0-9]* ' "$q" | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "$dups lines were quarantined twice"
echo "ok: $kpi_lines KPI lines quarantined, every sample stored"
echo PASS
