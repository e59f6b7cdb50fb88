#!/usr/bin/env bash
# The Modbus path end to end against the facility simulator (`dcmetrics simulate`):
#  1. the built-in demo read over Modbus TCP gives the same 1-minute energies and PUE as
#     the same hall read directly from the model (--meters sim): within 3 % / 2 % per
#     minute (register resolution), 0.5 % over four minutes;
#  2. `dcmetrics run` against a separate `dcmetrics simulate` process: every point decodes
#     with quality ok, constants exactly, the two PDUs of a hall agree, the chillers'
#     derived cooling output matches the heat meter, grid + PV = the site total;
#  3. probe reads the simulator (plausible voltage, profile table), exit codes;
#  4. a bad simulator configuration is refused with file:line:column.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/modbus/common.sh"

echo "# 1. built-in demo: Modbus path against the model"
for how in modbus sim; do
    "$DCMETRICS" demo --meters "$how" --json --windows 1m --speed 60 \
        --start 2026-03-10T00:00:00+08:00 --until 2026-03-10T00:05:00+08:00 \
        >"$work/demo-$how.jsonl" 2>"$work/demo-$how.err" || {
        echo "FAIL: demo --meters $how"; cat "$work/demo-$how.err"; exit 1; }
done
"$PY" - "$work/demo-modbus.jsonl" "$work/demo-sim.jsonl" <<'PYEOF'
import json, sys
def minutes(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r["window"] == "1m" and not r.get("interim"):
            out[r["from"]] = r
    return out
mb, sim = minutes(sys.argv[1]), minutes(sys.argv[2])
common = sorted(set(mb) & set(sim))
# The first minute starts with the clocks; compare the full ones after it.
full = [m for m in common if m >= "2026-03-10T00:01" and m < "2026-03-10T00:05"]
assert len(full) >= 3, (sorted(mb), sorted(sim))
roles = ("it", "total", "grid", "cooling", "cooling_output", "reused", "heat_upgrade")
sums = {}
for m in full:
    a, b = mb[m], sim[m]
    assert a["coverage"] > 0.95, (m, a["coverage"])
    # A minute of a 0.1 kWh register is good to about a percent: per minute 3 %.
    for role in roles:
        x, y = a["energy_kwh"][role], b["energy_kwh"][role]
        assert y > 0 and abs(x - y) <= 0.03 * y, (m, role, x, y)
        sums.setdefault(role, [0.0, 0.0])
        sums[role][0] += x
        sums[role][1] += y
    for k in ("total", "fresh"):
        x, y = a["water_m3"][k], b["water_m3"][k]
        assert abs(x - y) <= 0.05 * y + 0.002, (m, k, x, y)
    pa, pb = a["kpi"]["pue"], b["kpi"]["pue"]
    assert 1.05 < pb < 2.0 and abs(pa - pb) <= 0.02 * pb, (m, pa, pb)
    assert set(a["kpi"]["ppue"]) == {"hall-a", "hall-b"}, a["kpi"]["ppue"]
# Over several minutes the register steps cancel (the sum of the minutes is the
# difference of two readings): 0.5 %.
for role, (x, y) in sums.items():
    assert abs(x - y) <= 0.005 * y, (role, x, y)
pue_mb = sums["total"][0] / sums["it"][0]
pue_sim = sums["total"][1] / sums["it"][1]
assert abs(pue_mb - pue_sim) <= 0.005 * pue_sim, (pue_mb, pue_sim)
print("ok: %d minutes agree; PUE over Modbus %.4f (per minute %s), from the model %.4f" % (
    len(full), pue_mb, [round(mb[m]["kpi"]["pue"], 4) for m in full], pue_sim))
PYEOF

echo "# 2. run against a separate simulator process"
start_simulator sim --start 2026-03-10T00:00:00+08:00
echo "simulator on port $SIM_PORT"
sed "s#tcp://127.0.0.1:1502#tcp://127.0.0.1:$SIM_PORT#" "$DCM_SOURCE_DIR/examples/demo-modbus.yaml" \
    | sed 's/log_level: info/log_level: warn/' >"$work/site.yaml"
run_for 5 run -c "$work/site.yaml" --state-dir "$work/state" --points \
    >"$work/points.jsonl" 2>"$work/run.err"
"$PY" - "$work/points.jsonl" <<'PYEOF'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
assert rows, "no samples"
by = {}
for r in rows:
    by.setdefault(r["point"], []).append(r)
bad = [r for r in rows if r["quality"] != "ok"]
assert not bad, bad[:5]
def last(p):
    assert p in by, (p, sorted(by)[:20])
    return by[p][-1]["value"]
# Constants arrive exactly (as the profile's scale can hold them).
assert last("hall-a.pdu-a1.voltage.l1") == 219.9, last("hall-a.pdu-a1.voltage.l1")
assert abs(last("grid.voltage.l1") - 220.4) < 1e-4
assert last("hall-b.pdu-b2.frequency") == 60.0
assert abs(last("main.power_factor") - 0.97) < 1e-9
assert last("plant.chiller-1.temperature.supply") == 7.0
assert last("plant.chiller-1.temperature.return") == 12.0
assert by["grid.energy"][0]["unit"] == "Wh" and by["main.energy"][0]["unit"] == "kWh"
# Two PDUs of a hall each carry half of it: the same register value at the same poll.
a1 = [r["value"] for r in by["hall-a.pdu-a1.energy"]]
a2 = [r["value"] for r in by["hall-a.pdu-a2.energy"]]
n = min(len(a1), len(a2))
assert n >= 3 and statistics.median(abs(x - y) for x, y in zip(a1[:n], a2[:n])) == 0
assert a1[-1] > 1e9 and a1[-1] >= a1[0]  # Wh since the meters were installed
# The chillers derive cooling output from flow and temperatures: together they match the
# chilled-water heat meter.
c1 = [r["value"] for r in by["plant.chiller-1.cooling.power"]]
chw = [r["value"] for r in by["plant.chw.power"]]
m = min(len(c1), len(chw))
assert m >= 3 and statistics.median(abs(2 * x - y) / y for x, y in zip(c1[:m], chw[:m])) < 1e-3, (c1, chw)
assert 500 < chw[-1] < 5000, chw[-1]
# Site total = grid + PV (+ generator, off at midnight), within what passes between polls.
total = last("main.energy")
grid = last("grid.energy") / 1000.0
pv = last("pv.energy")
assert abs(total - grid - pv) < 5.0, (total, grid, pv)
# Every device answered.
ups = {p: v[-1]["value"] for p, v in by.items() if p.endswith(".up")}
assert len(ups) >= 18 and all(v == 1 for v in ups.values()), ups
print("ok: %d samples of %d points, all ok; PDU halves equal, cooling %.1f kW" % (
    len(rows), len(by), chw[-1]))
PYEOF
if grep -q "error" "$work/run.err"; then echo "FAIL: errors logged"; cat "$work/run.err"; exit 1; fi

echo "# 3. probe"
"$DCMETRICS" probe modbus "tcp://127.0.0.1:$SIM_PORT" --unit 4 --address 0xC558 --type u32 \
    --scale 0.01 --expect V >"$work/probe1.txt"
grep -q "ABCD  raw 0x000055E6  219.9 *<- plausible" "$work/probe1.txt" || {
    echo "FAIL: probe single read"; cat "$work/probe1.txt"; exit 1; }
"$DCMETRICS" probe modbus "tcp://127.0.0.1:$SIM_PORT" --unit 8 --profile generic-chiller \
    >"$work/probe2.txt"
grep -Eq "^temperature.return +holding +4 \(0x0004\) +f32 +ABCD +4140 0000 +degC +12$" \
    "$work/probe2.txt" && grep -Eq "^cooling.power +derived .* kW +[0-9.]+$" "$work/probe2.txt" || {
    echo "FAIL: probe profile table"; cat "$work/probe2.txt"; exit 1; }
set +e
"$DCMETRICS" probe modbus "tcp://127.0.0.1:$SIM_PORT" --unit 99 --address 0 --type u16 \
    >/dev/null 2>&1; rc_unit=$?
"$DCMETRICS" probe modbus "tcp://127.0.0.1:$SIM_PORT" --address 0 >/dev/null 2>&1; rc_usage=$?
"$DCMETRICS" probe modbus "tcp://127.0.0.1:1" --address 0 --type u16 >/dev/null 2>&1; rc_down=$?
set -e
[ "$rc_unit" = 1 ] && [ "$rc_usage" = 2 ] && [ "$rc_down" = 1 ] || {
    echo "FAIL: probe exit codes unit=$rc_unit usage=$rc_usage down=$rc_down"; exit 1; }
echo "ok: probe"

echo "# 4. simulator configuration errors"
cat >"$work/bad.yaml" <<'YAML'
devices:
  - unit: 1
    profile: eastron-sdm630
    values: {energy: grid.enrgy}
YAML
set +e
"$DCMETRICS" simulate -c "$work/bad.yaml" --listen 127.0.0.1:0 >/dev/null 2>"$work/bad.err"; rc=$?
set -e
[ "$rc" = 2 ] && grep -q "bad.yaml:4:22: error: devices\[0\].values.energy: unknown simulation value 'grid.enrgy', did you mean 'grid.energy'" "$work/bad.err" || {
    echo "FAIL: bad simulator config (rc $rc)"; cat "$work/bad.err"; exit 1; }
echo "ok: configuration errors"
