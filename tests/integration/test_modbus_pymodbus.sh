#!/usr/bin/env bash
# The Modbus collector and `dcmetrics probe` against an independent server (Debian's
# pymodbus) holding known register values for four profiles, behind one gateway (one TCP
# connection, four unit ids) and as a device of its own:
#   Eastron SDM630  float32 ABCD, input registers: 0x4465 0x229A = 916.540649 kWh
#   Schneider iEM   int64 Wh at register 3204 (protocol address 3203) = 1234567 Wh
#   Carlo Gavazzi   int32 low word first, 0.1 kWh: 0xE240 0x0001 = 12345.6 kWh; -100 W
#   ABB B2x         u64 0.01 kWh = 1234.56 kWh; all-FF voltage and 0x7FFFFFFF power: invalid
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/modbus/common.sh"
need_pymodbus

start_pymodbus pm "$MODBUS_DIR/known_registers.json" --tcp 0
echo "pymodbus on port $PM_PORT"
cat >"$work/site.yaml" <<YAML
agent: {site: pm, interval: 500ms, log_level: warn}
collectors:
  - name: gw
    type: modbus
    url: tcp://127.0.0.1:$PM_PORT
    timeout: 300ms
    devices:
      - {name: sdm, unit: 1, profile: eastron-sdm630}
      - {name: iem, unit: 2, profile: schneider-iem3xxx}
      - {name: em24, unit: 3, profile: carlo-gavazzi-em24}
      - {name: abb, unit: 4, profile: abb-b2x}
  - name: meter
    type: modbus
    url: tcp://127.0.0.1:$PM_PORT
    unit: 1
    profile: eastron-sdm630
site:
  timezone: UTC
  roles:
    total: [gw.iem.energy]
    it: [gw.sdm.energy, gw.em24.energy]
YAML
run_for 4 run -c "$work/site.yaml" --state-dir "$work/state" --points \
    >"$work/points.jsonl" 2>"$work/run.err"
"$PY" - "$work/points.jsonl" <<'PYEOF'
import json, sys
by = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    by.setdefault(r["point"], []).append(r)
def check(point, value, unit, quality="ok", tol=1e-6):
    assert point in by, (point, sorted(by))
    rows = by[point]
    assert len(rows) >= 3, (point, len(rows))
    for r in rows:
        assert r["unit"] == unit and r["quality"] == quality, r
        if quality == "ok":
            assert abs(r["value"] - value) <= tol, (r, value)
        else:
            assert r["value"] is None, r
check("gw.sdm.energy", 916.5406494140625, "kWh")
check("meter.energy", 916.5406494140625, "kWh")
check("gw.sdm.voltage.l1", 229.0, "V")
check("gw.sdm.frequency", 49.97999954223633, "Hz")
check("gw.sdm.power", 1234.5, "W")
check("gw.iem.energy", 1234567.0, "Wh", tol=0)
check("gw.iem.power", 1234.5, "kW")
check("gw.iem.voltage.l1", 229.0, "V")
check("gw.em24.energy", 12345.6, "kWh")
check("gw.em24.power", -100.0, "W")
check("gw.em24.voltage.l1", 230.1, "V")
check("gw.em24.power_factor", 0.985, "count")
check("gw.abb.energy", 1234.56, "kWh")
check("gw.abb.voltage.l2", 230.0, "V")
check("gw.abb.frequency", 50.0, "Hz")
# "Not available" markers: INVALID, never a number.
check("gw.abb.voltage.l1", None, "V", quality="invalid")
check("gw.abb.power", None, "W", quality="invalid")
print("ok: %d points decoded as documented" % len(by))
PYEOF
if grep -Eiq "error|not answering" "$work/run.err"; then
    echo "FAIL: errors logged"; cat "$work/run.err"; exit 1
fi

echo "# probe against pymodbus"
"$DCMETRICS" probe modbus "tcp://127.0.0.1:$PM_PORT" --unit 1 --table input --address 0x48 \
    --type f32 --expect kWh >"$work/probe1.txt"
grep -q "ABCD  raw 0x4465229A  916.5406494 *<- plausible" "$work/probe1.txt" || {
    echo "FAIL: probe float"; cat "$work/probe1.txt"; exit 1; }
"$DCMETRICS" probe modbus "tcp://127.0.0.1:$PM_PORT" --unit 1 --table input --address 1 \
    --type f32 --expect V >"$work/probe2.txt"
# Written as a 1-based number (1 = the first register), the voltage appears at address 0.
grep -A6 "^address 0 " "$work/probe2.txt" | grep -q "ABCD  raw 0x43650000  229 *<- plausible" || {
    echo "FAIL: probe 1-based"; cat "$work/probe2.txt"; exit 1; }
"$DCMETRICS" probe modbus "tcp://127.0.0.1:$PM_PORT" --unit 4 --profile abb-b2x >"$work/probe4.txt"
grep -Eq "^voltage.l1 .* FFFF FFFF +V +invalid \(not available\)$" "$work/probe4.txt" &&
    grep -Eq "^energy .* 0000 0000 0001 E240 +kWh +1234.56$" "$work/probe4.txt" || {
    echo "FAIL: probe profile"; cat "$work/probe4.txt"; exit 1; }
echo "ok: probe"
