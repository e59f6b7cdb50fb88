#!/usr/bin/env bash
# Modbus RTU: an RS-485 bus made of a pseudo-terminal pair (socat), pymodbus answering for
# unit ids 1 (an Eastron SDM630) and 3 (a Carlo Gavazzi EM24) at one end, the collector
# at the other reading both with RTU framing and CRCs, plus unit 9, which nobody answers
# for: it is marked down while the two others keep their readings.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/modbus/common.sh"
need_pymodbus
command -v socat >/dev/null || { echo "FAIL: socat is not installed (tests/install-deps.sh)"; exit 1; }

socat pty,raw,echo=0,link="$work/ttyA" pty,raw,echo=0,link="$work/ttyB" 2>"$work/socat.err" &
server_pids+=("$!")
for _ in $(seq 1 50); do
    [ -e "$work/ttyA" ] && [ -e "$work/ttyB" ] && break
    sleep 0.1
done
[ -e "$work/ttyB" ] || { echo "FAIL: socat made no pty pair"; cat "$work/socat.err"; exit 1; }
start_pymodbus rtu "$MODBUS_DIR/known_registers.json" --rtu "$work/ttyA" --baud 19200
cat >"$work/site.yaml" <<YAML
agent: {site: rtu, interval: 500ms, log_level: info}
collectors:
  - name: bus
    type: modbus
    url: rtu://$work/ttyB?baud=19200&parity=N&data=8&stop=1
    timeout: 300ms
    devices:
      - {name: sdm, unit: 1, profile: eastron-sdm630}
      - {name: em24, unit: 3, profile: carlo-gavazzi-em24}
      - {name: ghost, unit: 9, profile: eastron-sdm630}
site:
  timezone: UTC
  roles:
    it: [bus.sdm.energy, bus.em24.energy]
YAML
run_for 5 run -c "$work/site.yaml" --state-dir "$work/state" --points \
    >"$work/points.jsonl" 2>"$work/run.err"
"$PY" - "$work/points.jsonl" <<'PYEOF'
import json, sys
by = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    by.setdefault(r["point"], []).append(r)
def values(p):
    rows = by.get(p, [])
    assert len(rows) >= 3, (p, len(rows), sorted(by))
    assert all(r["quality"] == "ok" for r in rows), rows[:3]
    return {r["value"] for r in rows}
assert values("bus.sdm.energy") == {916.5406494140625}
assert values("bus.sdm.voltage.l1") == {229.0}
assert values("bus.em24.energy") == {12345.6}
assert values("bus.em24.power") == {-100.0}
assert all(r["value"] == 1 for r in by["bus.sdm.up"] + by["bus.em24.up"])
assert by["bus.ghost.up"] and all(r["value"] == 0 for r in by["bus.ghost.up"])
assert "bus.ghost.energy" not in by, "readings from a unit nobody answers for"
assert by["bus.ghost.timeouts"][-1]["value"] >= 1
print("ok: units 1 and 3 read over RTU, unit 9 down")
PYEOF
grep -q "ghost (unit 9) not answering" "$work/run.err" || {
    echo "FAIL: the missing unit was not reported"; cat "$work/run.err"; exit 1; }
echo "ok: RTU bus"

# The commissioning probe speaks RTU too (the agent has let go of the port).
"$DCMETRICS" probe modbus "rtu://$work/ttyB?baud=19200" --unit 3 --profile carlo-gavazzi-em24 \
    --timeout 300ms >"$work/probe.txt"
grep -Eq "^energy +input +66 \(0x0042\) +i32 +CDAB +E240 0001 +kWh +12345.6$" "$work/probe.txt" || {
    echo "FAIL: probe over RTU"; cat "$work/probe.txt"; exit 1; }
set +e
"$DCMETRICS" probe modbus "rtu://$work/ttyB?baud=19200" --unit 9 --address 0 --type u16 \
    --timeout 200ms >/dev/null 2>&1; rc=$?
set -e
[ "$rc" = 1 ] || { echo "FAIL: probe of a missing RTU unit exited $rc, want 1"; exit 1; }
echo "ok: probe over RTU"
