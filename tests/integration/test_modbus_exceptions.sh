#!/usr/bin/env bash
# A device that answers some addresses with Modbus exception 02 (illegal data address):
# the collector finds the offending point by splitting the merged request, marks that
# point INVALID and keeps reading the others. Two servers refuse the same way:
#   pymodbus: an Eastron SDM630 whose frequency registers (0x46-0x47) raise IllegalAddress;
#   the facility simulator: a device with `exceptions: [{table: input, address: 0x46}]`.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/modbus/common.sh"
need_pymodbus

start_pymodbus pm "$MODBUS_DIR/exceptions.json" --tcp 0
cat >"$work/sim.yaml" <<'YAML'
devices:
  - unit: 3
    name: towers
    profile: eastron-sdm630
    values: {voltage.l1: 229.0, frequency: 60.0, power: cooling.towers.power,
             energy: cooling.towers.energy}
    exceptions: [{table: input, address: 0x46, count: 2}]
YAML
start_simulator sim -c "$work/sim.yaml"
cat >"$work/site.yaml" <<YAML
agent: {site: exc, interval: 500ms, log_level: info}
collectors:
  - name: pm
    type: modbus
    url: tcp://127.0.0.1:$PM_PORT
    timeout: 300ms
    unit: 1
    profile: eastron-sdm630
  - name: sim
    type: modbus
    url: tcp://127.0.0.1:$SIM_PORT
    timeout: 300ms
    unit: 3
    profile: eastron-sdm630
site:
  timezone: UTC
  roles:
    total: [pm.energy, sim.energy]
YAML
run_for 4 run -c "$work/site.yaml" --state-dir "$work/state" --points \
    >"$work/points.jsonl" 2>"$work/run.err"
"$PY" - "$work/points.jsonl" <<'PYEOF'
import json, sys
by = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    by.setdefault(r["point"], []).append(r)
for inst in ("pm", "sim"):
    f = by[inst + ".frequency"]
    assert len(f) >= 4 and all(r["quality"] == "invalid" for r in f), (inst, f[:3])
    for name in ("voltage.l1", "power", "energy", "power_factor", "energy.total"):
        rows = by["%s.%s" % (inst, name)]
        assert len(rows) >= 4 and all(r["quality"] == "ok" for r in rows), (inst, name, rows[:2])
    assert all(r["value"] == 229.0 for r in by[inst + ".voltage.l1"])
    ups = by[inst + ".device.up"]
    assert all(r["value"] == 1 for r in ups), (inst, "a refusing device still answers")
assert all(r["value"] == 916.5406494140625 for r in by["pm.energy"])
assert all(r["value"] > 1000 for r in by["sim.energy"])
print("ok: frequency INVALID on both servers, %d other points ok" % (len(by) // 2))
PYEOF
# The refusal is said once per point, not at every poll.
for inst in pm sim; do
    n=$(grep -c "modbus/$inst: .*frequency" "$work/run.err" || true)
    if [ "$n" -lt 1 ] || [ "$n" -gt 2 ]; then
        echo "FAIL: modbus/$inst logged the refused point $n times"; cat "$work/run.err"; exit 1
    fi
done
echo "ok: refusals logged once"
