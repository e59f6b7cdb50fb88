#!/usr/bin/env bash
# The SNMP collector in `dcmetrics run` against Debian's snmpd serving PDU-like trees
# (tests/integration/snmp/pdu_tree.py): v2c with profile auto, v3 authPriv (SHA/AES),
# Raritan sensors scaled by the device's decimal digits, a Counter32 that wraps during
# the run, a device model of the user's own (a profile file named by a path relative to
# the configuration), and a host that never answers (which must not hold up the others). Then the
# agent is restarted mid-run (engineBoots changes): v3 values must flow again.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/snmp/common.sh"

PORT=$(free_udp_port)
DEAD=$(free_udp_port)
start_snmpd pdu "$PORT"
mkdir -p "$work/profiles"
cat >"$work/profiles/in-house.yaml" <<'YAML'
name: in-house-pdu
description: A PDU model of the site's own, read from the APC and test subtrees
points:
  - {name: power, oid: .1.3.6.1.4.1.318.1.1.26.4.3.1.5.1, unit: W, scale: 10}
  - {name: volts, oid: .1.3.6.1.4.1.99999.3.0, unit: V}
tables:
  - name: outlet
    columns:
      - {name: power, oid: .1.3.6.1.4.1.318.1.1.26.9.4.3.1.7, unit: W, sum: outlets.power}
YAML
cat >"$work/site.yaml" <<YAML
agent: {site: snmp, interval: 1s, log_level: info}
collectors:
  - {name: pdu-a1, type: snmp, host: "127.0.0.1:$PORT", version: 2c, community: public, profile: auto}
  - name: pdu-v3
    type: snmp
    host: "127.0.0.1:$PORT"
    version: 3
    user: dcmv3
    auth_protocol: SHA
    auth_password_env: DCM_TEST_AUTH
    priv_protocol: AES
    priv_password_file: $work/priv.txt
    profile: apc-rpdu2
    timeout: 900ms
  - {name: rar, type: snmp, host: "127.0.0.1:$PORT", profile: raritan-pdu2}
  - {name: house, type: snmp, host: "127.0.0.1:$PORT", profile: profiles/in-house.yaml}
  - name: wrap
    type: snmp
    host: "127.0.0.1:$PORT"
    points:
      - {name: energy, oid: .1.3.6.1.4.1.99999.1.0, unit: Wh, kind: counter, counter_bits: 32}
      - {name: big, oid: .1.3.6.1.4.1.99999.2.0, unit: Wh, kind: counter, counter_bits: 64}
      - {name: volts, oid: .1.3.6.1.4.1.99999.3.0, unit: V}
      - {name: missing, oid: .1.3.6.1.4.1.99999.9.0, unit: W}
  - {name: dead, type: snmp, host: "127.0.0.1:$DEAD", profile: apc-rpdu2, timeout: 500ms, retries: 0}
site:
  timezone: UTC
  roles:
    it: [pdu-a1.energy]
YAML
printf 'privpass123\n' >"$work/priv.txt"
export DCM_TEST_AUTH=authpass123

# Phase 1: 7 s of polling; snmpd is stopped after 3 s and started again after 6 s is
# the second phase, below.
run_for 7 run -c "$work/site.yaml" --state-dir "$work/state" --points \
    >"$work/points.jsonl" 2>"$work/run.err"
if grep -q "authpass123\|privpass123" "$work/run.err"; then
    echo "FAIL: a secret reached the log"; exit 1
fi
"$PY" - "$work/points.jsonl" <<'PYEOF'
import json, sys
by = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    by.setdefault(r["point"], []).append(r)
def ok(point, value, unit, tol=1e-9, n=3):
    rows = [r for r in by.get(point, []) if r["quality"] == "ok"]
    assert len(rows) >= n, (point, len(rows), sorted(by)[:80])
    for r in rows:
        assert r["unit"] == unit, r
        if value is not None:
            assert abs(r["value"] - value) <= tol, (r, value)
    return rows
for dev in ("pdu-a1", "pdu-v3"):
    ok(dev + ".power", 3.45, "kW")
    ok(dev + ".phase.2.current", 5.4, "A")
    ok(dev + ".phase.3.power", 1.18, "kW")
    ok(dev + ".outlet.24.power", 124, "W")
    e = ok(dev + ".outlet.3.energy", None, "kWh")
    assert all(300 <= r["value"] < 302 for r in e), e
    ok(dev + ".device.up", 1, "bool")
# Raritan: raw 123 with 2 digits, 2301 with 1; sums over inlets 1.1 and 1.2
ok("rar.inlet.1.1.current", 1.23, "A")
ok("rar.inlet.1.1.voltage", 230.1, "V")
ok("rar.power", 2200, "W")
ok("rar.inlet.1.2.energy", 9000, "Wh")
ok("wrap.volts", 230.5, "V")
# The profile file: 345 x 10 W; outlets 101..124 W and their sum.
ok("house.power", 3450, "W")
ok("house.volts", 230.5, "V")
ok("house.outlet.24.power", 124, "W")
ok("house.outlets.power", 2700, "W")
ok("wrap.big", None, "Wh")
# The Counter32 starts 1000 below 2^32 and grows 300 per second: it wraps in the run.
w = [r["value"] for r in by["wrap.energy"] if r["quality"] == "ok"]
assert max(w) > 4294966000 and min(w) < 4000, w
m = by.get("wrap.missing", [])
assert m and all(r["quality"] == "invalid" for r in m), m
# The dead host: down, counted timeouts, and the others polled every second regardless.
d = by["dead.device.up"]
assert d and all(r["value"] == 0 for r in d), d
assert max(r["value"] for r in by["dead.device.timeouts"]) >= 1
assert "dead.power" not in by
assert len(by["pdu-a1.power"]) >= 6, len(by["pdu-a1.power"])
print("phase 1 ok:", len(by), "points")
PYEOF
grep -q "profile apc-rpdu2" "$work/run.err" || { echo "FAIL: auto did not pick apc-rpdu2"; cat "$work/run.err"; exit 1; }
grep -q "profile in-house-pdu" "$work/run.err" || { echo "FAIL: the profile file's name is not logged"; cat "$work/run.err"; exit 1; }

# Phase 2: the agent restarts (same engine id, engineBoots + 1) while dcmetrics runs.
"$DCMETRICS" run -c "$work/site.yaml" --state-dir "$work/state" --points \
    >"$work/points2.jsonl" 2>"$work/run2.err" &
pids+=($!)
agent=$!
sleep 3
stop_snmpd pdu
sleep 3
start_snmpd pdu "$PORT"
sleep 7
kill -TERM "$agent"; wait "$agent" || true
"$PY" - "$work/points2.jsonl" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
v3 = [r for r in rows if r["point"] == "pdu-v3.device.up"]
assert any(r["value"] == 0 for r in v3), "v3 never saw the outage"
after = [r for r in rows if r["point"] == "pdu-v3.power" and r["quality"] == "ok"]
up_after = [r for r in v3 if r["value"] == 1]
assert up_after[-1] is v3[-1], ("v3 not back up at the end", v3[-4:])
assert len(after) >= 3
print("phase 2 ok: v3 back after the agent restart;", len(v3), "polls")
PYEOF
grep -i "recovered" "$work/run2.err" | head -3

# Every other SNMPv3 authentication / privacy pair, read once by `probe`; a wrong pass
# phrase gets no answer (the agent drops what it cannot authenticate): exit 1.
for spec in "dcm-md5-des MD5 DES" "dcm-sha224-aes192 SHA-224 AES-192" \
            "dcm-sha384-aes256 SHA-384 AES-256" "dcm-sha512-aes256 SHA-512 AES-256"; do
    set -- $spec
    out=$("$DCMETRICS" probe snmp "127.0.0.1:$PORT" -v 3 -u "$1" -a "$2" -A authpass789 \
          -x "$3" -X privpass789 --oid .1.3.6.1.4.1.318.1.1.26.4.3.1.5.1 2>&1) ||
        { echo "FAIL: v3 $2/$3 probe: $out"; exit 1; }
    grep -Eq '^\.1\.3\.6\.1\.4\.1\.318\.1\.1\.26\.4\.3\.1\.5\.1 +[A-Za-z0-9]+ +[0-9]' <<<"$out" ||
        { echo "FAIL: v3 $2/$3: no value: $out"; exit 1; }
    echo "ok: v3 $2/$3"
done
rc=0
"$DCMETRICS" probe snmp "127.0.0.1:$PORT" -v 3 -u dcm-sha512-aes256 -a SHA-512 -A wrongpass789 \
    -x AES-256 -X privpass789 --oid .1.3.6.1.4.1.318.1.1.26.4.3.1.5.1 --timeout 300ms \
    >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { echo "FAIL: a wrong v3 pass phrase gave exit $rc"; exit 1; }
echo "ok: wrong v3 pass phrase refused"
echo "PASS"
