#!/usr/bin/env bash
# The Grafana dashboards (dashboards/grafana/) against real servers fed by the agent:
#  - Debian's influxd (1.x, InfluxQL) and Prometheus on free loopback ports;
#  - `dcmetrics demo` with the simulated hall, outputs.influxdb and its HTTP /metrics,
#    at 50000x from 2025-12-31T20:00+08:00 (the December month, the 2025 year and a
#    trailing-twelve-month record close within a second), scraped by Prometheus every
#    second, stopped once InfluxDB has the year record (at least 8 s);
#  - every panel query and template variable of the four dashboards, with Grafana's
#    variables substituted, must return numeric data (check_dashboards.py);
#  - the provisioning files are valid YAML naming the data source uids the dashboards use.
# Needs a build with DCM_WITH_INFLUXDB and DCM_WITH_HTTP. Takes about 15-25 s.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/lib.sh"
: "${DCM_BINARY_DIR:?DCM_BINARY_DIR must point at the build tree}"
GRAFANA="$DCM_SOURCE_DIR/dashboards/grafana"

cache="$DCM_BINARY_DIR/CMakeCache.txt"
if ! grep -q '^DCM_WITH_INFLUXDB:BOOL=ON' "$cache" || ! grep -q '^DCM_WITH_HTTP:BOOL=ON' "$cache"; then
    echo "skipped: this build has no InfluxDB output or no HTTP server (DCM_WITH_INFLUXDB, DCM_WITH_HTTP)"
    exit 0
fi
for tool in influxd prometheus; do
    command -v "$tool" >/dev/null || { echo "FAIL: no $tool (apt-get install influxdb prometheus, or run tests/install-deps.sh)"; exit 1; }
done

fail() {
    echo "FAIL: $*"
    for f in "$work"/*.log "$work"/*.err; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }
    done
    exit 1
}

wait_http() { # URL PID WHAT
    for _ in $(seq 1 150); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || fail "$3 exited"
        sleep 0.1
    done
    fail "$3 did not answer at $1"
}

echo "# provisioning files"
"$PY" - "$GRAFANA" <<'PYEOF'
import glob, json, os, sys, yaml
g = sys.argv[1]
ds = yaml.safe_load(open(os.path.join(g, "provisioning/datasources/dcmetrics.yaml")))
uids = {d["uid"]: d["type"] for d in ds["datasources"]}
assert uids == {"dcmetrics-influxdb": "influxdb", "dcmetrics-prometheus": "prometheus"}, uids
prov = yaml.safe_load(open(os.path.join(g, "provisioning/dashboards/dcmetrics.yaml")))
assert prov["apiVersion"] == 1 and prov["providers"][0]["type"] == "file", prov
boards = sorted(glob.glob(os.path.join(g, "dashboards/*/*.json")))
assert len(boards) == 4, boards
titles = set()
for b in boards:
    d = json.load(open(b))
    titles.add(d["title"])
    for p in d["panels"]:
        assert p["datasource"]["uid"] in uids, (b, p["title"])
        assert uids[p["datasource"]["uid"]] == os.path.basename(os.path.dirname(b)), (b, p["title"])
assert titles == {"Facility live (InfluxDB)", "Facility live (Prometheus)",
                  "Sustainability report (InfluxDB)", "Sustainability report (Prometheus)"}, titles
print("ok: data sources %s; %d dashboards" % (sorted(uids), len(boards)))
PYEOF

echo "# servers"
influx_port=$(free_port)
influx_rpc=$(free_port)
mkdir -p "$work/influx"
cat >"$work/influxdb.conf" <<EOF
reporting-disabled = true
bind-address = "127.0.0.1:$influx_rpc"
[meta]
  dir = "$work/influx/meta"
[data]
  dir = "$work/influx/data"
  wal-dir = "$work/influx/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$influx_port"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
EOF
influxd -config "$work/influxdb.conf" >"$work/influxd.log" 2>&1 &
server_pids+=($!)
influx_url="http://127.0.0.1:$influx_port"
wait_http "$influx_url/ping" "${server_pids[-1]}" influxd
curl -fsS -XPOST "$influx_url/query" --data-urlencode "q=CREATE DATABASE dcmetrics" >/dev/null \
    || fail "cannot create the database"

agent_port=$(free_port)
prom_port=$(free_port)
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: dcmetrics
    static_configs: [{targets: ["127.0.0.1:$agent_port"]}]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prom" \
    --web.listen-address="127.0.0.1:$prom_port" >"$work/prometheus.log" 2>&1 &
server_pids+=($!)
prom_url="http://127.0.0.1:$prom_port"
wait_http "$prom_url/-/ready" "${server_pids[-1]}" prometheus
echo "ok: influxd on $influx_port, prometheus on $prom_port"

echo "# the agent"
"$DCMETRICS" demo --meters sim --print-config >"$work/site.yaml"
# One sample per point and simulated minute: the 1-minute windows have data, and
# InfluxDB keeps up with the lines (about 40000 a second at this speed).
sed -i 's|^    step: 10s|    emit_every: 1m\n    step: 10s|' "$work/site.yaml"
grep -q 'emit_every: 1m' "$work/site.yaml" || fail "cannot set emit_every in the demo configuration"
cat >>"$work/site.yaml" <<EOF
outputs:
  influxdb:
    url: $influx_url
    database: dcmetrics
    flush_interval: 200ms
EOF
t0=$(date +%s.%N)
"$DCMETRICS" demo -c "$work/site.yaml" --http "127.0.0.1:$agent_port" --state-dir "$work/state" \
    --speed 50000 --start 2025-12-31T20:00:00+08:00 --duration 60s --json --windows month,year,ttm \
    >"$work/demo.out" 2>"$work/demo.err" &
demo_pid=$!
server_pids+=("$demo_pid")

# Wait until InfluxDB has the closed year (the InfluxDB output delivers in order, so
# everything before it is there too) and Prometheus has scraped for 8 s, then stop the
# agent.
year_in_influx() {
    curl -fsS -G "$influx_url/query" --data-urlencode db=dcmetrics \
        --data-urlencode "q=SELECT count(\"pue\") FROM \"dcm_kpi\" WHERE \"window\" = 'year'" \
        | "$PY" -c 'import json,sys; r=json.load(sys.stdin)["results"][0]; sys.exit(0 if r.get("series") else 1)'
}
for i in $(seq 1 250); do
    kill -0 "$demo_pid" 2>/dev/null || fail "the demo exited early"
    [ "$i" -ge 40 ] && year_in_influx && break
    sleep 0.2
done
year_in_influx || fail "the year record did not reach InfluxDB within 50 s"
kill -TERM "$demo_pid"
wait "$demo_pid" || fail "the demo did not stop cleanly"
t1=$(date +%s.%N)
grep -q '"window":"year"' "$work/demo.out" || fail "no year record in the demo's output"
echo "ok: the agent stopped; $(wc -l <"$work/demo.out") month/year/ttm records"

echo "# every panel"
"$PY" "$DCM_SOURCE_DIR/tests/integration/grafana/check_dashboards.py" "$GRAFANA/dashboards" \
    "$influx_url" dcmetrics "$prom_url" demo-hall "$t0" "$t1" || fail "a panel query"
