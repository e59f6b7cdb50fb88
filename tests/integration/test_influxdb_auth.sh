#!/usr/bin/env bash
# Credentials refused (InfluxDB with auth-enabled): 401 while the user does not exist,
# 403 while it may not write. The agent logs it loudly, keeps every sample in its journal
# and retries; once the user exists and may write, everything arrives.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/influxdb/common.sh"

start_influxd db true
admin() {
    curl -sS -f -XPOST "$INFLUX_URL/query" -u admin:adminpw --data-urlencode "q=$1" >/dev/null
}
curl -sS -f -XPOST "$INFLUX_URL/query" \
    --data-urlencode "q=CREATE USER admin WITH PASSWORD 'adminpw' WITH ALL PRIVILEGES" >/dev/null
admin "CREATE DATABASE dcm"
echo "dcm-secret" >"$work/password"
write_agent_config "$work/agent.yaml" "    url: $INFLUX_URL
    database: dcm
    username: dcm
    password_file: $work/password
    precision: ms
    flush_interval: 200ms
    max_backoff: 3s"
start_agent a "$work/agent.yaml"
sleep 6
grep -q "refused the credentials (HTTP 401" "$work/a.err" || fail "401 not logged"
admin "CREATE USER dcm WITH PASSWORD 'dcm-secret'"
sleep 5
grep -q "refused the credentials (HTTP 403" "$work/a.err" || fail "403 not logged"
n=$(INFLUX_AUTH=admin:adminpw influx_query dcm 'SELECT count(quality) FROM dcm_point')
echo "$n" | grep -q '"series"' && fail "data stored before the user may write: $n"
admin "GRANT WRITE ON dcm TO dcm"
sleep 6
t_check=$(now_ns)
check_influx_v1 dcm admin:adminpw -- "$work/a.points:$((t_check - 1500000000))" \
    || fail "samples missing once the credentials were fixed"
grep -q "writes resumed" "$work/a.err" || fail "recovery not logged"
stop_agent
echo PASS
