# Shared by tests/integration/test_redfish_*.sh (sourced): a work directory, a TLS
# certificate made now, the Redfish test server on loopback ports the system chooses
# (stopped by PID at exit), and the Python to run it with.
source "$DCM_SOURCE_DIR/tests/integration/lib.sh"
RF_DIR="$DCM_SOURCE_DIR/tests/integration/redfish"

# make_cert: a self-signed certificate for 127.0.0.1 and localhost names, which is also
# the CA file the agent is given.
make_cert() {
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=dcm-test-bmc" \
        -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
        -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
}

# start_server ARGS...: starts redfish_server.py; sets RF_PID and writes the
# "listening NAME PORT" lines to $work/ports.
start_server() {
    "$PY" "$RF_DIR/redfish_server.py" "$@" >"$work/ports" 2>"$work/server.err" &
    RF_PID=$!
    server_pids+=("$RF_PID")
    for _ in $(seq 1 100); do
        grep -q '^listening all' "$work/ports" 2>/dev/null && return 0
        if ! kill -0 "$RF_PID" 2>/dev/null; then
            echo "FAIL: the Redfish server exited:" >&2
            cat "$work/server.err" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "FAIL: the Redfish server did not start in 10 s" >&2
    exit 1
}

# port NAME: the port of BMC NAME.
port() { awk -v n="$1" '$2 == n {print $3}' "$work/ports"; }
