#!/usr/bin/env bash
# The InfluxDB 2.x write API (/api/v2/write?org=&bucket=, Authorization: Token, gzip),
# served by VictoriaMetrics: an agent streams 400 samples/s and every numeric sample it
# printed is stored (checked with VictoriaMetrics' export API).
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/influxdb/common.sh"

start_vm vm
echo "s3cr3t-token" >"$work/token"
write_agent_config "$work/agent.yaml" "    url: $VM_URL
    org: dc-ops
    bucket: dcmetrics
    token_file: $work/token
    precision: ms
    flush_interval: 250ms"
start_agent a "$work/agent.yaml"
sleep 8
stop_agent
start_agent b "$work/agent.yaml"
sleep 3
stop_agent
grep -q "/api/v2/write" "$work/a.err" || fail "the output did not use the 2.x API"
curl -sS "$VM_URL/internal/force_flush" >/dev/null
sleep 2
check_vm -- "$work/a.points" || fail "samples missing in VictoriaMetrics"
# KPI records: dcm_kpi fields become dcm_kpi_<field> series with the tags as labels.
kpi=$(curl -sS "$VM_URL/api/v1/export" -d 'match[]={__name__="dcm_kpi_pue",window="instant",site="influx-test",category="2"}')
[ -n "$kpi" ] || fail "no dcm_kpi_pue series"
echo PASS
