#!/usr/bin/env bash
# Devices that stop answering mid-run, while others keep flowing:
#   a: a pymodbus server frozen with SIGSTOP for 4 s, then resumed with SIGCONT;
#   b: a gateway (the facility simulator) with two units, one of which is silenced with
#      SIGUSR1 for the same 4 s (`dcmetrics simulate --fail-unit 5`).
# The frozen device and the silent unit are marked down and come back; the other unit
# of the gateway never misses a poll; each recovery is logged once.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/modbus/common.sh"
need_pymodbus

start_pymodbus pm "$MODBUS_DIR/known_registers.json" --tcp 0
pm_pid=$PM_PID
start_simulator sim --fail-unit 5
cat >"$work/site.yaml" <<YAML
agent: {site: outage, interval: 500ms, log_level: info}
collectors:
  - name: a
    type: modbus
    url: tcp://127.0.0.1:$PM_PORT
    timeout: 250ms
    unit: 1
    profile: eastron-sdm630
  - name: b
    type: modbus
    url: tcp://127.0.0.1:$SIM_PORT
    timeout: 250ms
    devices:
      - {name: grid, unit: 1, profile: schneider-iem3xxx}
      - {name: pdu, unit: 5, profile: socomec-countis}
site:
  timezone: UTC
  roles:
    total: [b.grid.energy]
    it: [b.pdu.energy]
YAML
"$DCMETRICS" run -c "$work/site.yaml" --state-dir "$work/state" --points \
    >"$work/points.jsonl" 2>"$work/run.err" &
agent=$!
server_pids+=("$agent")
sleep 3
date +%s.%N >"$work/t_down"
kill -STOP "$pm_pid"
kill -USR1 "$SIM_PID"
sleep 4
date +%s.%N >"$work/t_up"
kill -CONT "$pm_pid"
kill -USR1 "$SIM_PID"
sleep 7
kill -TERM "$agent"
wait "$agent"

"$PY" - "$work/points.jsonl" "$(cat "$work/t_down")" "$(cat "$work/t_up")" <<'PYEOF'
import json, re, sys
from datetime import datetime
down, up = float(sys.argv[2]), float(sys.argv[3])
def epoch(ts):
    ts = re.sub(r"(\.\d{6})\d+", r"\1", ts)
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
by = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    by.setdefault(r["point"], []).append((epoch(r["ts"]), r["value"], r["quality"]))
def times(p, lo, hi, value=None):
    return [t for t, v, q in by[p] if lo <= t < hi and (value is None or v == value)]
# a: readings before, none while frozen (after the timeouts in flight), readings again.
assert times("a.energy", down - 2.5, down), "no readings before the freeze"
assert not times("a.energy", down + 1.0, up), "readings while frozen"
after = times("a.energy", up, up + 7)
assert after and min(after) < up + 5, ("no recovery within 5 s", after[:3])
assert times("a.health.up", down + 0.5, up, 0.0), "a not marked down"
assert times("a.health.up", up, up + 7, 1.0), "a not marked up again"
assert all(v == 916.5406494140625 for t, v, q in by["a.energy"]), "a's value changed"
# b.pdu: silent unit down, then back.
assert times("b.pdu.up", down + 0.5, up, 0.0), "pdu not marked down"
assert not times("b.pdu.energy", down + 1.0, up), "pdu readings while silent"
assert times("b.pdu.energy", up, up + 7), "pdu readings did not resume"
# b.grid never stopped: at most one interval (plus a timeout) between readings.
g = sorted(times("b.grid.energy", down - 2, up + 6))
assert len(g) >= 16, len(g)
gaps = [b - a for a, b in zip(g, g[1:])]
assert max(gaps) < 1.3, ("grid readings stalled", max(gaps))
assert all(q == "ok" for t, v, q in by["b.grid.energy"])
print("ok: frozen and silent devices down for the outage, back after it; "
      "grid polled every %.2f s at worst" % max(gaps))
PYEOF
rec_a=$(grep -c "modbus/a: recovered" "$work/run.err" || true)
rec_b=$(grep -c "modbus/b: pdu (unit 5) answering again" "$work/run.err" || true)
if [ "$rec_a" != 1 ] || [ "$rec_b" != 1 ]; then
    echo "FAIL: recovery logged $rec_a / $rec_b times (want 1 / 1)"; cat "$work/run.err"; exit 1
fi
grep -q "unit 5 stops answering" "$work/sim.out.err" && grep -q "unit 5 answers again" "$work/sim.out.err"
echo "ok: recovery logged once per device"
