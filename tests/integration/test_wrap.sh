#!/usr/bin/env bash
# A 32-bit Wh energy register wraps (at 4,294,967.296 kWh) while the agent runs: the wrap is
# told apart from a reset, recorded in the ledger's audit trail, and the monthly grid
# energy stays continuous (no month gains or loses ~4.29 GWh).
set -euo pipefail
: "${DCMETRICS:?DCMETRICS must point at the dcmetrics binary}"
PY=${DCM_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/site.yaml" <<'YAML'
agent:
  site: wrap-test
collectors:
  - name: facility
    type: sim
    grid_wh32: true
    step: 60s
site:
  timezone: Asia/Taipei
  roles:
    total: [facility.total.energy]
    grid: [facility.grid.energy]
    onsite_renewable: [facility.pv.energy]
    fuel: [facility.gen.fuel.energy]
    it: [facility.it.*.energy]
YAML
"$DCMETRICS" demo -c "$work/site.yaml" --json --windows month --speed 2000000 \
    --start 2026-01-01 --until 2026-07-01 --state-dir "$work/state" >"$work/months.jsonl" 2>"$work/err"
"$PY" - "$work/state/ledger.db" "$work/months.jsonl" <<'PYEOF'
import json, sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
kinds = dict(db.execute("SELECT c.kind, COUNT(*) FROM corrections c JOIN points p ON p.key = c.point "
                        "WHERE p.id = 'facility.grid.energy' GROUP BY c.kind").fetchall())
assert kinds.get(1, 0) >= 1, f"no WRAP correction recorded: {kinds}"       # DCM_CORR_WRAP
assert kinds.get(2, 0) == 0, f"a wrap was taken for a reset: {kinds}"      # DCM_CORR_RESET
months = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
months = [m for m in months if m["window"] == "month"]
assert len(months) == 6, len(months)
for m in months:
    e = m["energy_kwh"]
    # grid = total - PV - generator when no register is lost: a dropped wrap would leave
    # the month 4.29 GWh short (or long).
    balance = e["total"] - e["onsite_renewable"] - (e["grid"])
    assert abs(balance) < 0.01 * e["total"], (m["from"], e)
print(f"ok: {kinds.get(1)} wrap(s) recorded, monthly grid energy continuous")
PYEOF
echo PASS
