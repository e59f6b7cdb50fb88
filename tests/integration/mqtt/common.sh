# Shared by tests/integration/test_mqtt_*.sh (sourced): a work directory, Mosquitto brokers
# on loopback ports chosen at run time (stopped by PID at exit), the recording subscriber,
# and the agent configuration the tests run (simulated collectors, >= 200 samples/s).
source "$DCM_SOURCE_DIR/tests/integration/lib.sh"
MQTT_DIR="$DCM_SOURCE_DIR/tests/integration/mqtt"
SCHEMAS="$DCM_SOURCE_DIR/docs/schemas"
MOSQUITTO=${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}

need_tools() {
    if [ ! -x "$MOSQUITTO" ]; then
        echo "FAIL: mosquitto not found (apt-get install mosquitto, or tests/install-deps.sh)"
        exit 1
    fi
    if ! "$PY" -c 'import paho.mqtt.client, jsonschema' 2>/dev/null; then
        echo "FAIL: $PY cannot import paho.mqtt and jsonschema (apt-get install" \
             "python3-paho-mqtt python3-jsonschema, or tests/install-deps.sh)"
        exit 1
    fi
}

# wait_port PORT PID: until something accepts on 127.0.0.1:PORT (15 s at most).
wait_port() {
    local port=$1 pid=$2
    for _ in $(seq 1 150); do
        if "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" \
            2>/dev/null; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "FAIL: mosquitto exited:" >&2
            cat "$work"/*.log "$work"/*.out >&2 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
    echo "FAIL: mosquitto did not listen on $port in 15 s" >&2
    return 1
}

# write_broker_conf NAME PORT [EXTRA_LINES]: a broker config with persistence (so that a
# restart keeps the persistent sessions and their queues) and no queue limits (a replay
# after an outage must not be cut by the broker).
write_broker_conf() {
    local name=$1 port=$2 extra=${3:-}
    mkdir -p "$work/$name.db"
    cat >"$work/$name.conf" <<CONF
listener $port 127.0.0.1
persistence true
persistence_location $work/$name.db/
autosave_interval 1
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages 0
log_dest file $work/$name.log
log_type error
log_type warning
log_type notice
$extra
CONF
    # Started as root, mosquitto would switch to its own user, which cannot read or write
    # this test's private directory: stay the user that runs the test.
    if [ "$(id -u)" -eq 0 ]; then
        echo "user root" >>"$work/$name.conf"
    fi
    if ! grep -q '^allow_anonymous\|^password_file' "$work/$name.conf"; then
        echo "allow_anonymous true" >>"$work/$name.conf"
    fi
}

# start_broker NAME PORT: (re)starts the broker NAME from its config; sets BROKER_PID.
start_broker() {
    local name=$1 port=$2
    "$MOSQUITTO" -c "$work/$name.conf" >>"$work/$name.out" 2>&1 &
    BROKER_PID=$!
    server_pids+=("$BROKER_PID")
    wait_port "$port" "$BROKER_PID"
}

# stop_pid PID: SIGTERM and wait (a broker saves its persistence on the way out).
stop_pid() {
    kill -TERM "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# stop_agent PID LOG: SIGTERM, then waits up to 20 s for a clean exit (status 0); fails
# (after a SIGKILL) otherwise.
stop_agent() {
    local pid=$1 log=$2 rc=0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        echo "FAIL: dcmetrics did not stop within 20 s of SIGTERM"
        cat "$log"
        return 1
    fi
    wait "$pid" || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "FAIL: dcmetrics exited with $rc"
        cat "$log"
        return 1
    fi
}

# start_subscriber OUT ARGS...: the recording subscriber; sets SUB_PID; waits until it is
# subscribed.
start_subscriber() {
    local out=$1
    shift
    "$PY" "$MQTT_DIR/subscriber.py" --out "$out" "$@" 2>>"$out.err" &
    SUB_PID=$!
    server_pids+=("$SUB_PID")
    for _ in $(seq 1 100); do
        [ -e "$out.ready" ] && return 0
        sleep 0.1
    done
    echo "FAIL: the subscriber did not subscribe in 10 s" >&2
    cat "$out.err" >&2
    return 1
}

# write_agent_conf FILE MQTT_MAPPING_LINES [COLLECTORS [TOP_LEVEL]]: two simulated
# facilities polled every 200 ms (86 points, about 430 samples/s) and COLLECTORS (list
# items), the site in UTC, outputs.mqtt as given (indented by 4), then TOP_LEVEL YAML.
write_agent_conf() {
    local file=$1 mqtt=$2 more=${3:-} top=${4:-}
    cat >"$file" <<YAML
agent: {site: hall-1, interval: 200ms, log_level: info, state_dir: $work/state}
collectors:
  - {name: fa, type: sim, seed: 1, step: 1s}
  - {name: fb, type: sim, seed: 2, step: 1s}
$more
site:
  timezone: UTC
  roles:
    total: [fa.total.energy]
    it: [fa.it.hall-a.energy, fa.it.hall-b.energy]
outputs:
  mqtt:
$mqtt
$top
YAML
}

# wait_lines FILE N SECONDS: until FILE has at least N lines.
wait_lines() {
    local file=$1 n=$2 secs=$3
    for _ in $(seq 1 $((secs * 10))); do
        [ "$(wc -l <"$file" 2>/dev/null || echo 0)" -ge "$n" ] && return 0
        sleep 0.1
    done
    return 1
}
