#!/usr/bin/env bash
# MQTT output over TLS with a client certificate, a user name and a password (MQTT 3.1.1,
# QoS 2) against a real Mosquitto: a test CA, a server certificate for "localhost" and
# client certificates made by openssl now, the password file made by mosquitto_passwd. Checks that data flows over ssl://localhost with
# host-name verification on, that the same broker reached as ssl://127.0.0.1 (a name the
# certificate does not carry) is refused unless verify is off, that a wrong password and a
# missing client certificate are refused, and that the password never reaches the log.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/mqtt/common.sh"
need_tools
for tool in openssl mosquitto_passwd; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not found"; exit 1; }
done

pki=$work/pki
mkdir -p "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=dcmetrics test CA" \
    -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
    -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
    >"$pki/ext.cnf"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 2 -extfile "$pki/ext.cnf" -out "$pki/server.pem" 2>/dev/null
# client certificates: the agent's and the subscriber's
for who in agent reader; do
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" \
        -keyout "$pki/$who.key" -out "$pki/$who.csr" 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >"$pki/$who.cnf"
    openssl x509 -req -in "$pki/$who.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" \
        -CAcreateserial -days 2 -extfile "$pki/$who.cnf" -out "$pki/$who.pem" 2>/dev/null
done

secret="tls-Pa55-$RANDOM$RANDOM"
: >"$pki/passwd"
mosquitto_passwd -b "$pki/passwd" agent "$secret" 2>/dev/null
mosquitto_passwd -b "$pki/passwd" reader "reader-pw" 2>/dev/null
chmod 600 "$pki/passwd"
printf '%s\n' "$secret" >"$work/mqtt.password"
printf 'wrong-%s\n' "$secret" >"$work/wrong.password"

port=$(free_port)
write_broker_conf broker "$port" "cafile $pki/ca.pem
certfile $pki/server.pem
keyfile $pki/server.key
require_certificate true
allow_anonymous false
password_file $pki/passwd"
start_broker broker "$port"
start_subscriber "$work/sub.jsonl" --host localhost --port "$port" --topic 'tls/#' \
    --ca "$pki/ca.pem" --user reader --password reader-pw \
    --cert "$pki/reader.pem" --key "$pki/reader.key"

# run_agent NAME URL PASSWORD_FILE VERIFY SECONDS [CLIENT_CERT_LINES]
run_agent() {
    local cert=${6-"    cert_file: $pki/agent.pem
    key_file: $pki/agent.key"}
    write_agent_conf "$work/$1.yaml" "    url: $2
    prefix: tls
    qos: 2
    max_inflight: 20
    username: agent
    password_file: $3
    ca_file: $pki/ca.pem
    verify: $4
    client_id: $1
$cert"
    local rc=0
    timeout -k 20 -s TERM "$5" "$DCMETRICS" run -c "$work/$1.yaml" --state-dir "$work/state-$1" \
        >/dev/null 2>"$work/$1.err" || rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; then
        echo "FAIL: dcmetrics run ($1) exited with $rc"
        cat "$work/$1.err"
        exit 1
    fi
}

run_agent good "ssl://localhost:$port" "$work/mqtt.password" true 6
n=$(grep -c '/point/' "$work/sub.jsonl" || true)
[ "$n" -ge 500 ] || { echo "FAIL: only $n point samples over TLS"; cat "$work/good.err"; exit 1; }
"$PY" "$MQTT_DIR/check.py" schemas "$work/sub.jsonl" "$SCHEMAS"
echo "TLS with host-name verification: $n samples"

: >"$work/sub.jsonl"
run_agent byip "ssl://127.0.0.1:$port" "$work/mqtt.password" true 4
[ "$(grep -c '/point/' "$work/sub.jsonl" || true)" -eq 0 ] || {
    echo "FAIL: connected to 127.0.0.1 with a certificate for localhost only"; exit 1; }
grep -q "connect failed\|TLS\|SSL\|certificate" "$work/byip.err" || {
    echo "FAIL: the refused connection was not logged"; cat "$work/byip.err"; exit 1; }

run_agent noverify "ssl://127.0.0.1:$port" "$work/mqtt.password" false 4
[ "$(grep -c '/point/' "$work/sub.jsonl" || true)" -gt 0 ] || {
    echo "FAIL: verify: false did not connect"; cat "$work/noverify.err"; exit 1; }
echo "host name mismatch refused with verify on, accepted with verify off"

: >"$work/sub.jsonl"
run_agent badpw "ssl://localhost:$port" "$work/wrong.password" true 4
[ "$(grep -c '/point/' "$work/sub.jsonl" || true)" -eq 0 ] || {
    echo "FAIL: a wrong password was accepted"; exit 1; }
grep -q "connect failed" "$work/badpw.err" || {
    echo "FAIL: the refused login was not logged"; cat "$work/badpw.err"; exit 1; }
echo "wrong password refused"

run_agent nocert "ssl://localhost:$port" "$work/mqtt.password" true 4 ""
[ "$(grep -c '/point/' "$work/sub.jsonl" || true)" -eq 0 ] || {
    echo "FAIL: connected without the client certificate the broker requires"; exit 1; }
grep -q "connect failed" "$work/nocert.err" || {
    echo "FAIL: the refused connection was not logged"; cat "$work/nocert.err"; exit 1; }
echo "no client certificate refused"

if grep -q -- "$secret" "$work"/*.err; then
    echo "FAIL: the password reached the log"
    exit 1
fi
echo "PASS"
