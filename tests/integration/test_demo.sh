#!/usr/bin/env bash
# The demo as a user runs it: the built-in simulated hall through the real pipeline.
#  1. --json at 3600x for a few seconds: every line is a KPI record with the documented keys,
#     PUE plausible, no NaN/Inf anywhere, closed 1m/15m/1h windows present.
#  2. two simulated months at high speed: exactly one record per closed calendar month in the
#     site's time zone (Asia/Taipei), starting at local midnight, annual figures consistent.
#  3. the table mode prints the KPI rows.
set -euo pipefail
: "${DCMETRICS:?DCMETRICS must point at the dcmetrics binary}"
PY=${DCM_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "# 1. JSON stream at 3600x"
"$DCMETRICS" demo --json --speed 3600 --start 2026-03-10T00:00:00+08:00 --duration 6s \
    >"$work/stream.jsonl" 2>"$work/stream.err"
if grep -Eiq '(^|[^a-z])(nan|inf)' "$work/stream.jsonl"; then
    echo "FAIL: NaN/Inf in the JSON stream"; exit 1
fi
"$PY" - "$work/stream.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert recs, "no records"
windows = {}
for r in recs:
    for k in ("site", "window", "from", "to", "kpi", "coverage", "quality", "kpi_quality", "ruleset"):
        assert k in r, f"missing {k} in {r}"
    windows.setdefault(r["window"], []).append(r)
for w in ("instant", "1m", "15m", "1h"):
    assert w in windows, f"no {w} record; got {sorted(windows)}"
for r in windows["1m"] + windows["15m"] + windows["1h"]:
    assert "energy_kwh" in r, r
    pue = r["kpi"]["pue"]
    assert pue is not None and 1.05 < pue < 2.0, f"implausible PUE {pue} in {r['window']}"
    e = r["energy_kwh"]
    assert e["it"] > 0 and e["total"] > e["it"], e
    assert abs(pue - e["total"] / e["it"]) < 1e-6 * pue, "PUE is not E_DC/E_IT"
    assert set(r["kpi"]["ppue"]) == {"hall-a", "hall-b"}, r["kpi"]["ppue"]
inst = windows["instant"][-1]
assert "power_kw" in inst and inst["power_kw"]["it"] > 0, inst
# One hour of 1-minute records sums to the hour's IT energy (windows split, never lose).
# (The first hour is partial: the clock starts before the first poll.)
full = [h for h in windows["1h"] if h["coverage"] > 0.99]
assert full, "no complete hour"
h = full[0]
assert h["quality"] == "ok", h["quality"]
mins = [r for r in windows["1m"] if h["from"] <= r["from"] and r["to"] <= h["to"]]
assert len(mins) == 60, len(mins)
s = sum(r["energy_kwh"]["it"] for r in mins)
assert abs(s - h["energy_kwh"]["it"]) <= 1e-6 * s, (s, h["energy_kwh"]["it"])
print(f"ok: {len(recs)} records, windows {sorted(windows)}, 1h PUE {h['kpi']['pue']:.4f}")
EOF

echo "# 2. two simulated months"
"$DCMETRICS" demo --json --speed 300000 --start 2026-01-01 --until 2026-03-01T00:10:00+08:00 \
    --windows month >"$work/months.jsonl" 2>"$work/months.err"
"$PY" - "$work/months.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
months = [r for r in recs if r["window"] == "month" and not r.get("interim")]
assert [m["from"] for m in months] == ["2026-01-01T00:00:00+08:00", "2026-02-01T00:00:00+08:00"], \
    [m["from"] for m in months]
for m in months:
    assert 1.05 < m["kpi"]["pue"] < 2.0, m["kpi"]
    assert m["coverage"] > 0.95, m["coverage"]
    for k in ("wue", "cue_location", "cue_market", "ref", "erf", "cer", "iteu_sv"):
        assert m["kpi"][k] is not None, (k, m["kpi"])
print("ok: months", [(m["from"][:7], round(m["kpi"]["pue"], 4)) for m in months])
EOF

echo "# 3. table mode"
"$DCMETRICS" demo --speed 60 --duration 3s >"$work/table.txt" 2>"$work/table.err"
for row in PUE "pPUE hall-a" "WUE L/kWh" "CUE loc" REF ERF CER "ITEUsv" coverage quality; do
    grep -q "^$row" "$work/table.txt" || { echo "FAIL: no '$row' row"; cat "$work/table.txt"; exit 1; }
done
echo "ok: table rows present"

echo "# 4. bad usage exits 2"
set +e
"$DCMETRICS" demo --speed banana >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "FAIL: --speed banana exited $rc"; exit 1; }
echo "PASS"
