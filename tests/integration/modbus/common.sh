# Shared by tests/integration/test_modbus_*.sh (sourced): a work directory, the servers
# the tests start (each on a loopback port the system chooses, stopped by PID at exit),
# and the Python that has Debian's pymodbus.
source "$DCM_SOURCE_DIR/tests/integration/lib.sh"
MODBUS_DIR="$DCM_SOURCE_DIR/tests/integration/modbus"

need_pymodbus() {
    if ! "$PY" -c 'import pymodbus.server, serial, serial_asyncio' 2>/dev/null; then
        echo "FAIL: $PY cannot import pymodbus (apt-get install python3-pymodbus python3-serial" \
             "python3-serial-asyncio, or run tests/install-deps.sh)"
        exit 1
    fi
}

# wait_listening FILE PID: waits for the "listening ..." line a server prints first and
# echoes what follows the last ':' or space in it (the port, or the device).
wait_listening() {
    local file=$1 pid=$2
    for _ in $(seq 1 150); do
        if grep -q '^listening' "$file" 2>/dev/null; then
            sed -n 's/^listening \(.*[: ]\)\{0,1\}\([^: ]*\)$/\2/p' "$file" | head -1
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "FAIL: server exited before listening:" >&2
            cat "$file" "$file.err" >&2 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
    echo "FAIL: no 'listening' line from the server in 15 s" >&2
    return 1
}

# start_pymodbus NAME SPEC.json ARGS...: starts the pymodbus server; sets PM_PID, PM_PORT.
start_pymodbus() {
    local name=$1 spec=$2
    shift 2
    "$PY" "$MODBUS_DIR/pymodbus_server.py" "$spec" "$@" >"$work/$name.out" 2>"$work/$name.out.err" &
    PM_PID=$!
    server_pids+=("$PM_PID")
    PM_PORT=$(wait_listening "$work/$name.out" "$PM_PID")
}

# start_simulator NAME ARGS...: `dcmetrics simulate --listen 127.0.0.1:0 ARGS`; sets SIM_PID,
# SIM_PORT.
start_simulator() {
    local name=$1
    shift
    "$DCMETRICS" simulate --listen 127.0.0.1:0 "$@" >"$work/$name.out" 2>"$work/$name.out.err" &
    SIM_PID=$!
    server_pids+=("$SIM_PID")
    SIM_PORT=$(wait_listening "$work/$name.out" "$SIM_PID")
}

# run_for SECONDS ARGS...: `dcmetrics ARGS` stopped with SIGTERM after SECONDS (a clean
# stop); fails if it exited on its own with an error.
run_for() {
    local secs=$1 rc=0
    shift
    timeout -s TERM "$secs" "$DCMETRICS" "$@" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
        echo "FAIL: dcmetrics $* exited with $rc"
        return 1
    fi
}
