# Shared by the SNMP integration tests: a scratch directory, free UDP ports, snmpd
# instances (own config, persistent dir and pid file each) stopped by PID on exit.
PY=${DCM_PYTHON:-/usr/bin/python3}
SNMP_DIR="$DCM_SOURCE_DIR/tests/integration/snmp"
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for f in "$work"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
    sleep 0.2
    rm -rf "$work"
}
trap cleanup EXIT
[ -x /usr/sbin/snmpd ] || { echo "SKIP: snmpd not installed"; exit 77; }

# free_udp_port: a UDP port on 127.0.0.1 nothing listens on now.
free_udp_port() {
    "$PY" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_snmpd NAME PORT: snmpd with the PDU tree (pass_persist) under enterprises, a v2c
# community "public", a v3 authPriv user dcmv3 (SHA/AES), an authNoPriv user dcmauth
# (SHA-256), authPriv users for the other protocol pairs (dcm-md5-des, dcm-sha224-aes192,
# dcm-sha384-aes256, dcm-sha512-aes256), sysObjectID in APC's enterprise; state kept in $work/NAME.persist.
start_snmpd() {
    local name=$1 port=$2
    mkdir -p "$work/$name.persist"
    cat >"$work/$name.conf" <<CONF
rocommunity public 127.0.0.1
createUser dcmv3 SHA "authpass123" AES "privpass123"
createUser dcmauth SHA-256 "authpass456"
createUser dcm-md5-des MD5 "authpass789" DES "privpass789"
createUser dcm-sha224-aes192 SHA-224 "authpass789" AES-192 "privpass789"
createUser dcm-sha384-aes256 SHA-384 "authpass789" AES-256 "privpass789"
createUser dcm-sha512-aes256 SHA-512 "authpass789" AES-256 "privpass789"
rouser dcmv3 priv
rouser dcmauth auth
rouser dcm-md5-des priv
rouser dcm-sha224-aes192 priv
rouser dcm-sha384-aes256 priv
rouser dcm-sha512-aes256 priv
dontLogTCPWrappersConnects yes
sysobjectid .1.3.6.1.4.1.318.1.3.4.5
pass_persist .1.3.6.1.4.1.318 $PY $SNMP_DIR/pdu_tree.py
pass_persist .1.3.6.1.4.1.13742 $PY $SNMP_DIR/pdu_tree.py
pass_persist .1.3.6.1.4.1.99999 $PY $SNMP_DIR/pdu_tree.py
CONF
    SNMP_PERSISTENT_DIR="$work/$name.persist" MIBS= /usr/sbin/snmpd -f -Lo -C \
        -c "$work/$name.conf" -p "$work/$name.pid" "udp:127.0.0.1:$port" \
        >>"$work/$name.log" 2>&1 &
    local i
    for i in $(seq 50); do
        if [ -s "$work/$name.pid" ] && MIBS= SNMP_PERSISTENT_DIR="$work/$name.persist" snmpget -v2c -c public -t 0.2 -r 0 \
            "127.0.0.1:$port" .1.3.6.1.4.1.318.1.1.26.4.3.1.5.1 >/dev/null 2>&1; then
            return 0
        fi
        sleep 0.1
    done
    echo "FAIL: snmpd $name did not start"; cat "$work/$name.log"; return 1
}

stop_snmpd() {
    local name=$1
    [ -f "$work/$name.pid" ] && kill "$(cat "$work/$name.pid")" 2>/dev/null || true
    local i
    for i in $(seq 30); do
        kill -0 "$(cat "$work/$name.pid" 2>/dev/null)" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$work/$name.pid"
}

# run_for SECONDS ARGS...: `dcmetrics ARGS` stopped with SIGTERM after SECONDS.
run_for() {
    local secs=$1 rc=0
    shift
    timeout -s TERM "$secs" "$DCMETRICS" "$@" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
        echo "FAIL: dcmetrics $* exited with $rc"
        return 1
    fi
}
