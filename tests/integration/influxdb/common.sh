# Shared by tests/integration/test_influxdb_*.sh (sourced): a work directory, the servers
# the tests start (InfluxDB 1.x and VictoriaMetrics, each on loopback ports chosen free at
# run time, data under the work directory), stopped by PID at exit.
source "$DCM_SOURCE_DIR/tests/integration/lib.sh"
INFLUX_DIR="$DCM_SOURCE_DIR/tests/integration/influxdb"

fail() {
    echo "FAIL: $*"
    for f in "$work"/*.err "$work"/*.log; do
        [ -f "$f" ] || continue
        echo "--- $f (tail)"
        tail -n 30 "$f"
    done
    exit 1
}

# wait_http URL PID: waits up to 30 s for URL to answer (any HTTP status).
wait_http() {
    local url=$1 pid=$2
    for _ in $(seq 1 300); do
        if curl -s -o /dev/null "$url" 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || fail "server exited before answering $url"
        sleep 0.1
    done
    fail "no answer from $url in 30 s"
}

# write_influxd_config DIR HTTP_PORT AUTH(true|false): a configuration with every listener
# on loopback (the HTTP API on HTTP_PORT, the backup service on a free port), everything
# else off, data under DIR.
write_influxd_config() {
    local dir=$1 port=$2 auth=$3 bind
    bind=$(free_port)
    mkdir -p "$dir"
    cat >"$dir/influxd.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$bind"
[meta]
  dir = "$dir/meta"
  logging-enabled = false
[data]
  dir = "$dir/data"
  wal-dir = "$dir/wal"
  query-log-enabled = false
  wal-fsync-delay = "0s"
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:$port"
  auth-enabled = $auth
  log-enabled = false
  pprof-enabled = false
  flux-enabled = false
[logging]
  level = "warn"
  suppress-logo = true
[continuous_queries]
  enabled = false
[retention]
  enabled = false
[shard-precreation]
  enabled = false
[ifql]
  enabled = false
CONF
}

# start_influxd NAME [AUTH]: starts InfluxDB 1.x; sets INFLUX_PID, INFLUX_PORT, INFLUX_URL.
# A second call with the same NAME restarts on the same data and port.
start_influxd() {
    local name=$1 auth=${2:-false} dir="$work/$1"
    if [ ! -f "$dir/influxd.conf" ]; then
        INFLUX_PORT=$(free_port)
        write_influxd_config "$dir" "$INFLUX_PORT" "$auth"
    fi
    influxd run -config "$dir/influxd.conf" >>"$work/$name.log" 2>&1 &
    INFLUX_PID=$!
    server_pids+=("$INFLUX_PID")
    INFLUX_URL="http://127.0.0.1:$INFLUX_PORT"
    wait_http "$INFLUX_URL/ping" "$INFLUX_PID"
}

# influx_query DB QUERY: runs an InfluxQL query over HTTP; prints the JSON answer.
influx_query() {
    curl -sS -G "$INFLUX_URL/query" --data-urlencode "db=$1" --data-urlencode "q=$2" \
        ${INFLUX_AUTH:+-u "$INFLUX_AUTH"}
}

# start_vm NAME: starts VictoriaMetrics; sets VM_PID, VM_PORT, VM_URL.
start_vm() {
    local name=$1
    VM_PORT=$(free_port)
    mkdir -p "$work/$name"
    victoria-metrics -httpListenAddr "127.0.0.1:$VM_PORT" -storageDataPath "$work/$name" \
        -loggerLevel ERROR -search.latencyOffset 0s -retentionPeriod 100y \
        >>"$work/$name.log" 2>&1 &
    VM_PID=$!
    server_pids+=("$VM_PID")
    VM_URL="http://127.0.0.1:$VM_PORT"
    wait_http "$VM_URL/health" "$VM_PID"
}

# write_agent_config FILE OUTPUT_YAML: an agent with one simulated hall (40 points every
# 100 ms: 400 samples/s) and the given outputs.influxdb mapping (indented 4 spaces).
write_agent_config() {
    cat >"$1" <<YAML
agent: {site: influx-test, interval: 100ms, log_level: info}
collectors:
  - {name: facility, type: sim, seed: 1, nodes: 8, step: 1s, backfill: false}
site:
  timezone: UTC
  pue_category: 2
  roles:
    total: [facility.total.energy]
    it: [facility.it.hall-a.energy, facility.it.hall-b.energy]
outputs:
  influxdb:
$2
YAML
}

# start_agent NAME CONFIG: `dcmetrics run --points` with its state under $work/state;
# every sample it produces goes to $work/NAME.points. Sets AGENT_PID.
start_agent() {
    "$DCMETRICS" run -c "$2" --state-dir "$work/state" --points \
        >"$work/$1.points" 2>>"$work/$1.err" &
    AGENT_PID=$!
    server_pids+=("$AGENT_PID")
}

# stop_agent: SIGTERM; the agent must exit 0 (a sanitizer build exits otherwise on a leak
# or an error it found).
stop_agent() {
    local rc=0
    kill -TERM "$AGENT_PID" 2>/dev/null || true
    wait "$AGENT_PID" 2>/dev/null || rc=$?
    [ "$rc" -eq 0 ] || fail "the agent exited $rc after SIGTERM"
}

now_ns() { date +%s%N; }

# compare.py wrappers: every sample in the points files (up to each file's cut-off, in ns,
# 0 = all) must be stored; prints the counts.
check_influx_v1() { "$PY" "$INFLUX_DIR/compare.py" influx "$INFLUX_URL" "$@"; }
check_vm() { "$PY" "$INFLUX_DIR/compare.py" vm "$VM_URL" "$@"; }
