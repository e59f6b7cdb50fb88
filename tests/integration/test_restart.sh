#!/usr/bin/env bash
# Restart safety of the energy ledger, through the real binary:
#   A. the agent runs from S, then is killed with SIGKILL mid-run;
#   B. it is started again 90 simulated minutes after S (the meters kept counting while it
#      was down) and runs to S+150 min, then stops cleanly;
#   C. a reference agent runs S..S+150 min without interruption on its own ledger.
# The ledger after A+B must hold exactly the energy of C over the same span: nothing counted
# twice, nothing lost; the downtime's energy is attributed by the first register delta
# after the restart (marked estimated), and no counter reset is recorded.
set -euo pipefail
: "${DCMETRICS:?DCMETRICS must point at the dcmetrics binary}"
PY=${DCM_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

S=2026-05-01T00:00:00+08:00
cat >"$work/site.yaml" <<'EOF'
agent:
  site: restart-test
  interval: 1s
collectors:
  - name: facility
    type: sim
    seed: 7
    start: "2026-05-01T00:00:00+08:00"
    backfill: false
    step: 10s
site:
  name: Restart test
  timezone: Asia/Taipei
  roles:
    total: [facility.total.energy]
    it: [facility.it.*.energy]
EOF
"$DCMETRICS" check -c "$work/site.yaml" >/dev/null

echo "# A: run from S, then kill -9"
"$DCMETRICS" demo -c "$work/site.yaml" --speed 600 --start "$S" --state-dir "$work/ab" \
    --json --windows 1m >"$work/a.jsonl" 2>"$work/a.err" &
pids+=($!)
# Wait until at least 20 simulated minutes are in the ledger's stream, then kill hard.
for _ in $(seq 1 200); do
    [ "$(grep -c '"window":"1m"' "$work/a.jsonl" || true)" -ge 20 ] && break
    sleep 0.1
done
kill -9 "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null || true
[ "$(grep -c '"window":"1m"' "$work/a.jsonl")" -ge 20 ] || { echo "FAIL: run A produced too little"; cat "$work/a.err"; exit 1; }

echo "# B: restart 90 simulated minutes after S, run to S+150 min"
"$DCMETRICS" demo -c "$work/site.yaml" --speed 600 --start 2026-05-01T01:30:00+08:00 \
    --until 2026-05-01T02:30:00+08:00 --state-dir "$work/ab" --json --windows 1m \
    >"$work/b.jsonl" 2>"$work/b.err"

echo "# A2/B2: kill -9, then restart within the same minute as the last commit"
"$DCMETRICS" demo -c "$work/site.yaml" --speed 600 --start "$S" --state-dir "$work/ab2" \
    --json --windows 1m >"$work/a2.jsonl" 2>"$work/a2.err" &
pids+=($!)
for _ in $(seq 1 200); do
    [ "$(grep -c '"window":"1m"' "$work/a2.jsonl" || true)" -ge 20 ] && break
    sleep 0.1
done
kill -9 "${pids[-1]}"
wait "${pids[-1]}" 2>/dev/null || true
# The saved state's time; restart a few simulated seconds later, in the same minute.
restart=$("$PY" - "$work/ab2/ledger.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ts = db.execute("SELECT MAX(last_ts_ns) FROM state").fetchone()[0] // 10**9
partial = db.execute("SELECT COUNT(*) FROM minute WHERE final = 0 AND start_s = ?",
                     (ts - ts % 60,)).fetchone()[0]
assert partial > 0, "no partial minute row was left by the killed process"
print(ts + min(5, 58 - ts % 60) if ts % 60 < 58 else ts)
PYEOF
)
"$DCMETRICS" demo -c "$work/site.yaml" --speed 600 --start "$restart" \
    --until 2026-05-01T02:30:00+08:00 --state-dir "$work/ab2" --json --windows 1m,15m,1h \
    >"$work/b2.jsonl" 2>"$work/b2.err"

echo "# C: reference, uninterrupted"
"$DCMETRICS" demo -c "$work/site.yaml" --speed 600 --start "$S" \
    --until 2026-05-01T02:30:00+08:00 --state-dir "$work/c" --json --windows 1m,15m,1h \
    >"$work/c.jsonl" 2>"$work/c.err"

for restarted in ab ab2; do
"$PY" - "$work/$restarted/ledger.db" "$work/c/ledger.db" "$restarted" <<'EOF'
import sqlite3, sys
S = 1777564800          # 2026-05-01T00:00:00+08:00
END = S + 140 * 60      # compare over [S, S+140 min): both runs closed every minute in it
def totals(path):
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    rows = db.execute(
        "SELECT p.id, SUM(m.amount), SUM(m.estimated), COUNT(*) FROM minute m "
        "JOIN points p ON p.key = m.point WHERE m.start_s >= ? AND m.start_s < ? "
        "AND p.id LIKE 'facility.%.energy' GROUP BY p.id", (S, END)).fetchall()
    resets = db.execute("SELECT COUNT(*) FROM corrections c JOIN points p ON p.key = c.point "
                        "WHERE c.kind = 2").fetchone()[0]   # DCM_CORR_RESET
    return {r[0]: (r[1], r[2], r[3]) for r in rows}, resets
ab, ab_resets = totals(sys.argv[1])
c, c_resets = totals(sys.argv[2])
assert ab and set(ab) == set(c), (sorted(ab), sorted(c))
for pid in ("facility.it.hall-a.energy", "facility.it.hall-b.energy", "facility.total.energy"):
    a_sum, a_est, _ = ab[pid]
    c_sum, c_est, _ = c[pid]
    assert abs(a_sum - c_sum) <= 1e-8 * c_sum, f"{pid}: restarted {a_sum} vs reference {c_sum}"
    if sys.argv[3] == "ab":
        assert a_est > 0.2 * a_sum, f"{pid}: downtime energy not marked estimated ({a_est} of {a_sum})"
    assert c_est == 0, f"{pid}: reference has estimated energy {c_est}"
    print(f"ok {pid}: {a_sum:.6f} kWh == {c_sum:.6f} kWh, {a_est:.3f} kWh estimated (downtime)")
assert ab_resets == 0 and c_resets == 0, (ab_resets, c_resets)
print(f"ok: {sys.argv[3]} matches the reference")
EOF
done

# The live windows resume too: the hour and the quarter in which B2 restarted hold what
# the killed process measured before (from the ledger) plus what B2 measured after, exactly
# like the reference's.
"$PY" - "$work/b2.jsonl" "$work/c.jsonl" "$restart" <<'EOF'
import json, sys
def recs(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        if not r.get("interim"):
            out[(r["window"], r["from"])] = r
    return out
b2, c = recs(sys.argv[1]), recs(sys.argv[2])
restart = int(sys.argv[3])
checked = 0
for (w, frm), rb in b2.items():
    if w not in ("15m", "1h"):
        continue
    rc = c[(w, frm)]
    eb, ec = rb["energy_kwh"], rc["energy_kwh"]
    for role in ("total", "it"):
        assert abs(eb[role] - ec[role]) <= 1e-8 * ec[role], (w, frm, role, eb[role], ec[role])
    assert abs(rb["kpi"]["pue"] - rc["kpi"]["pue"]) <= 1e-9 * rc["kpi"]["pue"], (w, frm)
    checked += 1
# The first 15m and 1h records B2 emitted contain the restart instant.
firsts = [min((f for (w, f) in b2 if w == win)) for win in ("15m", "1h")]
assert checked >= 2, checked
print(f"ok: {checked} quarter/hour records after the restart equal the reference "
      f"(first: {firsts})")
EOF
echo PASS
