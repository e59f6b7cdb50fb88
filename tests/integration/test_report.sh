#!/usr/bin/env bash
# `dcmetrics report` end to end:
#  1. a simulated year written into a ledger by the demo at high speed (a quarter in a
#     sanitizer build, which runs several times slower); while it runs, a report reads
#     the ledger (read-only, the writer keeps its lock) and is marked partial;
#  2. the year's report checked against independent sums: the demo's own streaming year
#     record and SQL on the ledger's rows; annual PUE != the mean of the monthly PUEs;
#     quarter, month and CSV forms consistent;
#  3. partial periods, periods before the agent ran completed from --input, empty ledgers
#     and bad periods: clear messages and exit codes;
#  4. worked example A through --input with no ledger;
#  5. the HTML page printed by headless Chromium to PDF and PNG; the PDF holds the KPI
#     table; the PNG is kept under $DCM_BINARY_DIR/artifacts.
set -euo pipefail
: "${DCMETRICS:?path to the dcmetrics binary}" "${DCM_SOURCE_DIR:?source tree}"
PY=${DCM_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3)
FX="$DCM_SOURCE_DIR/tests/fixtures/compute"
ART="${DCM_BINARY_DIR:-$PWD}/artifacts"
W=$(mktemp -d)
DEMO_PID=""
cleanup() {
    if [ -n "$DEMO_PID" ] && kill -0 "$DEMO_PID" 2>/dev/null; then
        kill "$DEMO_PID" 2>/dev/null || true
        wait "$DEMO_PID" 2>/dev/null || true
    fi
    rm -rf "$W"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect_rc CODE ARGS...: runs report; stdout to $W/out, stderr to $W/err.
expect_rc() {
    local want=$1
    shift
    local rc=0
    "$DCMETRICS" report "$@" >"$W/out" 2>"$W/err" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        cat "$W/err" >&2
        fail "report $* exited $rc, expected $want"
    fi
}

stderr_has() {
    grep -qF -- "$1" "$W/err" || { cat "$W/err" >&2; fail "stderr lacks: $1"; }
}

# jcheck FILE EXPR...: every Python expression holds for the JSON document d.
jcheck() {
    local file=$1
    shift
    "$PY" - "$file" "$@" <<'PYEOF' || fail "checks on $file"
import json, sys
d = json.load(open(sys.argv[1]))
def r4(x): return round(x, 4)
def close(a, b, rel=1e-9): return abs(a - b) <= rel * max(abs(a), abs(b))
bad = [e for e in sys.argv[2:] if not eval(e)]
for e in bad:
    print("  not true:", e, file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
}

# The span simulated: a year, or a quarter when the binary carries AddressSanitizer.
SPAN=${DCM_REPORT_SPAN:-}
if [ -z "$SPAN" ]; then
    SPAN=year
    grep -q __asan_init "$DCMETRICS" && SPAN=quarter
fi
case $SPAN in
year) UNTIL=2027-01-01 PERIOD=2026 NMONTHS=12 QUARTER=2026-Q3 QFIRST=6 MONTH=2026-07 MI=6 ;;
quarter) UNTIL=2026-04-01 PERIOD=2026-Q1 NMONTHS=3 QUARTER=2026-Q1 QFIRST=0 MONTH=2026-02 MI=1 ;;
*) fail "DCM_REPORT_SPAN must be year or quarter" ;;
esac
echo "simulating a $SPAN"

CFG="$W/site.yaml"
cat >"$CFG" <<EOF
agent:
  site: report-hall
  state_dir: $W/state
collectors:
  - name: facility
    type: sim
    interval: 60s
    seed: 3
    it_kw: 1200
    nodes: 2
    utc_offset: "+08:00"
    pv_kwp: 300
    step: 60s
site:
  name: Report Hall <simulated> & Co
  operator: Example Data Centres Ltd.
  location_code: TW-TNN-67000
  type: colocation
  category: colocation
  start_of_operation: 2019-05
  electrical_redundancy: 2N
  cooling_redundancy: N+1
  floor_area_m2: 5200
  it_floor_area_m2: 2400
  installed_it_kw: 6000
  intake_setpoint_degc: 24
  regimes: [eu, enefg, taiwan]
  timezone: Asia/Taipei
  pue_category: 2
  roles:
    total: [facility.total.energy]
    grid: [facility.grid.energy]
    it: [facility.it.hall-a.energy, facility.it.hall-b.energy]
    cooling: [facility.cooling.*.energy]
    fuel: [facility.gen.fuel.energy]
    onsite_renewable: [facility.pv.energy]
    reused: [facility.heat.reused.energy]
    heat_upgrade: [facility.heatpump.energy]
    cooling_output: [facility.chw.thermal.energy]
    water: [facility.water.total.volume]
    freshwater: [facility.water.fresh.volume]
    servers: [facility.servers.*.cpu]
    accelerators: [facility.gpus.*.util]
  zones:
    - {name: hall-a, it: [facility.it.hall-a.energy], overhead: [facility.cooling.crah-a.energy]}
    - {name: hall-b, it: [facility.it.hall-b.energy], overhead: [facility.cooling.crah-b.energy]}
  carbon:
    location_factor: 0.494
    location_source: MOEA Energy Administration
    location_year: 2023
    market_factor: 0.474
    market_source: supplier disclosure
    market_year: 2023
    fuel_factor: 0.267
  certificates:
    - {period: "2026", kwh: 4000000, type: rec, source: T-REC retirement 2026-0042}
EOF

# ---- 3a. Bad usage and bad periods: exit 2 with a message that says what is wrong.
expect_rc 2 -c "$CFG" --period 2026-13
stderr_has "--period '2026-13' is not a period: expected a year (2026), a quarter (2026-Q3)"
expect_rc 2 -c "$CFG" --period 2026-Q5
expect_rc 2 -c "$CFG" --period 26
expect_rc 2 -c "$CFG" --from 2026-02-01 --to 2026-01-01
stderr_has "--to must be after --from"
expect_rc 2 -c "$CFG" --from 2026-02-01
stderr_has "--from and --to go together"
expect_rc 2 -c "$CFG" --period 2026 --from 2026-01-01 --to 2026-02-01
stderr_has "either --period or --from/--to"
expect_rc 2 -c "$CFG" --from 2020-01-01 --to 2031-01-01
stderr_has "longer than 10 years"
expect_rc 2 -c "$CFG" --from 2026-01-01T00:00 --to yesterday
stderr_has "--to 'yesterday'"
expect_rc 2 -c "$CFG" --period 2026 --format pdf
stderr_has "--format must be html, csv or json"
expect_rc 2 -c "$CFG"
stderr_has "a period (--period P, or --from T and --to T) is required"
# No ledger yet, no input: a runtime failure that names the file.
expect_rc 1 -c "$CFG" --period 2026
stderr_has "no ledger at $W/state/ledger.db"

# ---- 1. A simulated year into the ledger; a report while the demo writes it.
start=$(date +%s)
"$DCMETRICS" demo -c "$CFG" --speed 2000000 --start 2026-01-01 --until "$UNTIL" \
    --state-dir "$W/state" --json --windows month,year >"$W/year.jsonl" 2>"$W/demo.err" &
DEMO_PID=$!
for _ in $(seq 1 600); do
    [ "$(grep -c '"window":"month"' "$W/year.jsonl" 2>/dev/null || true)" -ge 2 ] && break
    kill -0 "$DEMO_PID" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$DEMO_PID" 2>/dev/null || fail "the demo ended before the concurrent report"
# The writer holds the ledger's lock; the report opens read-only beside it.
rc=0
flock -n -E 99 "$W/state/ledger.lock" true || rc=$?
[ "$rc" -eq 99 ] || fail "the demo does not hold the ledger lock (flock exit $rc)"
expect_rc 0 -c "$CFG" --period 2026 --format json -o "$W/running.json"
kill -0 "$DEMO_PID" 2>/dev/null || fail "the demo ended during the concurrent report"
jcheck "$W/running.json" \
    'd["report"]["status"] == "partial"' \
    'd["months"][0]["status"] == "complete" and d["months"][0]["kpi"]["pue"] > 1' \
    'd["months"][11]["status"] == "no-data" and d["months"][11]["kpi"]["pue"] is None' \
    'any(r.startswith("no data for ") and r.endswith(" to 2026-12") for r in d["report"]["reasons"])'
stderr_has "2026: partial"
wait "$DEMO_PID" || fail "demo exited $?: $(tail -5 "$W/demo.err")"
DEMO_PID=""
echo "simulated $SPAN in $(($(date +%s) - start)) s"

# ---- 2. The period against independent sums.
expect_rc 0 -c "$CFG" --period "$PERIOD" --format json -o "$W/year.json"
stderr_has "$PERIOD: complete, PUE "
"$PY" - "$W/year.json" "$W/year.jsonl" "$W/state/ledger.db" "$NMONTHS" <<'PYEOF' || fail "KPIs of $PERIOD"
import datetime, json, sqlite3, sys
rep = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
nmonths = int(sys.argv[4])
year = [r for r in recs if r["window"] == "year"]
months = [r for r in recs if r["window"] == "month"]
assert len(months) == nmonths and len(rep["months"]) == nmonths, (len(months), nmonths)

def close(a, b, rel=1e-9):
    return abs(a - b) <= rel * max(abs(a), abs(b))

# (a) the demo's streaming engine summed the same months (and year) on its own
roles = ("total", "it", "grid", "cooling", "fuel", "onsite_renewable", "reused",
         "heat_upgrade", "cooling_output")
for role in roles:
    assert close(rep["energy_kwh"][role], sum(m["energy_kwh"][role] for m in months)), role
if nmonths == 12:
    assert len(year) == 1
    for role in roles:
        assert close(rep["energy_kwh"][role], year[0]["energy_kwh"][role]), role
    for k in ("pue", "wue", "wue_fresh", "cue_location", "cue_market", "ref", "erf", "cer",
              "pue_enefg"):
        assert close(rep["kpi"][k], year[0]["kpi"][k]), k
for m, rm in zip(months, rep["months"]):
    assert m["from"] == rm["from"], (m["from"], rm["from"])
    assert close(m["kpi"]["pue"], rm["kpi"]["pue"]), m["from"]
    assert close(m["energy_kwh"]["it"], rm["energy_kwh"]["it"]), m["from"]

# (b) SQL on the ledger's rows: 15-minute rows, and minute rows of quarters not rolled up
db = sqlite3.connect("file:" + sys.argv[3] + "?mode=ro", uri=True)
frm = int(datetime.datetime.fromisoformat(rep["from"]).timestamp())
to = int(datetime.datetime.fromisoformat(rep["to"]).timestamp())
def point(pid):
    q = db.execute("SELECT total(q.amount) FROM quarter q JOIN points p ON p.key = q.point "
                   "WHERE p.id = ? AND q.start_s >= ? AND q.start_s < ?", (pid, frm, to)).fetchone()[0]
    m = db.execute("SELECT total(m.amount) FROM minute m JOIN points p ON p.key = m.point "
                   "WHERE p.id = ? AND m.start_s >= ? AND m.start_s < ? AND NOT EXISTS "
                   "(SELECT 1 FROM quarter q WHERE q.point = m.point AND "
                   "q.start_s = m.start_s - m.start_s % 900)", (pid, frm, to)).fetchone()[0]
    return q + m
e_dc = point("facility.total.energy")
e_it = point("facility.it.hall-a.energy") + point("facility.it.hall-b.energy")
water = point("facility.water.total.volume")
assert close(rep["energy_kwh"]["total"], e_dc), (rep["energy_kwh"]["total"], e_dc)
assert close(rep["energy_kwh"]["it"], e_it), (rep["energy_kwh"]["it"], e_it)
assert close(rep["kpi"]["pue"], e_dc / e_it)
assert close(rep["kpi"]["wue"], water * 1000 / e_it)

# energy-weighted, not the mean of monthly ratios
mean = sum(m["kpi"]["pue"] for m in rep["months"]) / nmonths
if nmonths == 12:
    assert abs(mean - rep["kpi"]["pue"]) > 1e-5, (mean, rep["kpi"]["pue"])
assert close(sum(m["energy_kwh"]["total"] for m in rep["months"]), e_dc)

# the report's own sections
assert rep["report"]["status"] == "complete" and rep["report"]["reasons"] == []
assert all(m["status"] == "complete" and m["whole"] for m in rep["months"])
if nmonths == 12:
    assert rep["report"]["period"] == {"label": "2026", "kind": "year", "calendar_year": True}
else:
    assert rep["report"]["period"] == {"label": "2026-Q1", "kind": "quarter", "calendar_year": False}
assert rep["site_info"]["name"] == "Report Hall <simulated> & Co"
c = rep["carbon"]
assert c["location"]["factor_kg_per_kwh"] == 0.494 and c["location"]["year"] == 2023
assert c["market"]["source"] == "supplier disclosure"
assert close(c["market"]["cue"], rep["kpi"]["cue_market"])
rn = rep["renewable"]
share = 4000000 * (to - frm) / (365 * 86400)  # the year's certificates, pro rata
assert close(rn["certificates_kwh"], share) and rn["ppa_kwh"] == 0
assert close(rn["instruments"][0]["kwh_in_period"], share)
assert close(rn["total_kwh"], rn["onsite_kwh"] + share)
assert set(rep["kpi"]["ppue"]) == {"hall-a", "hall-b"}
assert rep["kpi"]["iteu_sv"] > 0 and rep["kpi"]["accel_util"] > 0
annex = {f["key"]: f for f in rep["annex"]}
assert annex["e_dc_kwh"]["status"] == "measured" and close(annex["e_dc_kwh"]["value"], e_dc)
assert annex["installed_it_kw"]["status"] == "configured" and annex["installed_it_kw"]["value"] == 6000
assert annex["owner"]["status"] == "missing" and annex["ict_servers"]["status"] == "missing"
checks = {c["id"]: c for c in rep["checks"]}
tw = checks["taiwan.pue.colocation"]
assert tw["status"] == ("pass" if rep["kpi"]["pue"] <= 1.4 else "fail")
assert close(tw["margin"], 1.4 - rep["kpi"]["pue"])
assert checks["enefg.pue.existing.2027"]["status"] == "not-applicable"
assert ("not a calendar year" in (tw["note"] or "")) == (nmonths != 12)
assert checks["enefg.renewable.2024"]["status"] in ("pass", "fail")
# the label binds from 2026-08-15: within the year, after the first quarter
assert checks["eu.label.pue"]["status"] in (
    ("classified", "not-determinable") if nmonths == 12 else ("not-applicable",))
dq = rep["data_quality"]
meters = {m["id"]: m for m in dq["meters"]}
assert len(meters) == 19, sorted(meters)
assert meters["facility.total.energy"]["roles"] == ["total"]
assert meters["facility.it.hall-a.energy"]["zone"] == {"name": "hall-a", "part": "it"}
assert all(m["source"] == "ledger" and m["coverage"] > 0.999 for m in meters.values())
assert dq["unmapped_ledger_points"] > 0 and dq["gaps"] == [] and dq["gaps_total"] == 0
print(f"ok: PUE {rep['kpi']['pue']:.4f} (mean of months {mean:.4f}), "
      f"E_DC {e_dc:.0f} kWh, E_IT {e_it:.0f} kWh")
PYEOF

# A quarter as CSV and a month as JSON agree with the period's months.
expect_rc 0 -c "$CFG" --period "$QUARTER" --format csv -o "$W/q.csv"
expect_rc 0 -c "$CFG" --period "$MONTH" --format json -o "$W/month.json"
"$PY" - "$W/q.csv" "$W/month.json" "$W/year.json" "$QFIRST" "$MI" <<'PYEOF' || fail "$QUARTER and $MONTH"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
month, year = json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
qfirst, mi = int(sys.argv[4]), int(sys.argv[5])
want = [m["month"] for m in year["months"][qfirst:qfirst + 3]] + ["total"]
assert [r["period"] for r in rows] == want, rows
assert all(r["status"] == "complete" for r in rows)
e_dc = sum(float(r["energy_total_kwh"]) for r in rows[:3])
e_it = sum(float(r["energy_it_kwh"]) for r in rows[:3])
assert abs(float(rows[3]["pue"]) - e_dc / e_it) < 1e-9
assert abs(float(rows[0]["pue"]) - year["months"][qfirst]["kpi"]["pue"]) < 1e-12
assert month["report"]["period"]["kind"] == "month" and len(month["months"]) == 1
assert abs(month["kpi"]["pue"] - year["months"][mi]["kpi"]["pue"]) < 1e-12
print("ok: quarter", rows[3]["pue"], "month", month["kpi"]["pue"])
PYEOF

# ---- 3b. A period the ledger covers in part, and one it does not cover at all.
expect_rc 0 -c "$CFG" --from 2025-12-01 --to 2026-03-01 --format json -o "$W/part.json"
jcheck "$W/part.json" \
    'd["report"]["status"] == "partial"' \
    '[m["status"] for m in d["months"]] == ["no-data", "complete", "complete"]' \
    '"no data for 2025-12" in d["report"]["reasons"]' \
    'd["report"]["period"]["label"] == "2025-12-01 to 2026-03-01"' \
    'd["quality"] == "partial" and r4(d["coverage"]) == r4(59 / 90)' \
    'all(g["from"] == "2025-12-01T00:00:00+08:00" and g["to"] == "2026-01-01T00:00:00+08:00" for g in d["data_quality"]["gaps"])'
stderr_has "no data for 2025-12"
expect_rc 1 -c "$CFG" --period 2025
stderr_has "no data for the period: no reading of any point of the site from 2025-01-01 to 2026-01-01 in the ledger"

# The month before the agent ran, from exported bills: the same meters, completed.
cat >"$W/dec.csv" <<'EOF'
timestamp,point,value,unit,kind,start
2026-01-01T00:00:00+08:00,facility.total.energy,1200,MWh,delta,2025-12-01T00:00:00+08:00
2026-01-01T00:00:00+08:00,facility.it.hall-a.energy,480,MWh,delta,2025-12-01T00:00:00+08:00
2026-01-01T00:00:00+08:00,facility.it.hall-b.energy,400,MWh,delta,2025-12-01T00:00:00+08:00
EOF
expect_rc 0 -c "$CFG" --from 2025-12-01 --to 2026-02-01 --input "$W/dec.csv" --format json \
    -o "$W/merged.json"
jcheck "$W/merged.json" \
    'd["months"][0]["energy_kwh"]["total"] == 1200000 and d["months"][0]["energy_kwh"]["it"] == 880000' \
    'r4(d["months"][0]["kpi"]["pue"]) == r4(1200 / 880)' \
    'd["months"][0]["status"] == "complete"' \
    'close(d["energy_kwh"]["total"], 1200000 + d["months"][1]["energy_kwh"]["total"])' \
    '{m["id"]: m["source"] for m in d["data_quality"]["meters"]}["facility.total.energy"] == "ledger+input"' \
    'd["data_quality"]["input"]["rows_used"] == 3' \
    'd["report"]["sources"]["input"].endswith("dec.csv")'

# An empty ledger: the agent ran without data.
printf 'agent: {site: empty, state_dir: %s/empty}\nsite:\n  timezone: UTC\n  roles: {it: [x.it]}\n' \
    "$W" >"$W/empty.yaml"
timeout -s INT 2 "$DCMETRICS" run -c "$W/empty.yaml" >/dev/null 2>&1 || true
[ -f "$W/empty/ledger.db" ] || fail "run did not create an empty ledger"
expect_rc 1 -c "$W/empty.yaml" --period 2026
stderr_has "dcmetrics report: no data for the period: no reading of any point of the site"

# ---- 4. Worked example A from bills, with no ledger (a note says so).
expect_rc 0 -c "$FX/site_a.yaml" --period 2025 --input "$FX/example_a.csv" --format json \
    --state-dir "$W/nowhere" -o "$W/a.json"
stderr_has "the report uses --input alone"
jcheck "$W/a.json" \
    'r4(d["kpi"]["pue"]) == 1.3672 and r4(d["kpi"]["dcie"]) == 0.7314' \
    'd["energy_kwh"]["total"] == 12346000 and d["energy_kwh"]["it"] == 9030000' \
    'r4(sum(m["kpi"]["pue"] for m in d["months"]) / 12) == 1.3633' \
    'd["report"]["status"] == "complete" and d["report"]["sources"]["ledger"] is None'
expect_rc 0 -c "$FX/site_a.yaml" --period 2025-Q3 --input "$FX/example_a.csv" --no-ledger \
    --format csv
grep -q '^total,2025-07-01T00:00:00+08:00,2025-10-01T00:00:00+08:00,1.5138' "$W/out" ||
    { cat "$W/out" >&2; fail "example B's third quarter"; }

# ---- 5. HTML, printed by headless Chromium.
expect_rc 0 -c "$CFG" --period "$PERIOD" -o "$W/report.html"
if grep -Eq 'https?://' "$W/report.html"; then
    fail "the HTML page references something outside itself"
fi
grep -qF 'Report Hall &lt;simulated&gt; &amp; Co' "$W/report.html" || fail "site name not escaped"
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
[ -n "$CHROMIUM" ] || fail "chromium is not installed (tests/install-deps.sh installs it)"
command -v pdftotext >/dev/null || fail "pdftotext is not installed (poppler-utils)"
chrome() {
    timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --no-pdf-header-footer \
        --user-data-dir="$W/chrome" "$@" "file://$W/report.html" >"$W/chrome.log" 2>&1 ||
        { tail -5 "$W/chrome.log" >&2; fail "chromium $*"; }
}
chrome --print-to-pdf="$W/report.pdf"
chrome --screenshot="$W/report.png" --window-size=1200,1600
[ -s "$W/report.pdf" ] && [ -s "$W/report.png" ] || fail "chromium wrote no PDF or PNG"
pdftotext -layout "$W/report.pdf" "$W/report.txt"
PUE=$("$PY" -c 'import json,sys; print("%.4f" % json.load(open(sys.argv[1]))["kpi"]["pue"])' "$W/year.json")
for text in "Energy and sustainability report" "Key performance indicators" \
    "Power usage effectiveness (PUE)" "Renewable energy factor (REF)" \
    "Monthly breakdown" "Regulatory checks" "EU 2024/1364 reporting fields" "Data quality" \
    "$PUE"; do
    grep -qF -- "$text" "$W/report.txt" || fail "the PDF lacks '$text'"
done
grep -Eq "Power usage effectiveness \(PUE\) +$PUE" "$W/report.txt" ||
    fail "the PDF's KPI table does not give PUE $PUE"
pages=$(pdfinfo "$W/report.pdf" | awk '/^Pages:/ {print $2}')
[ "$pages" -ge 3 ] && [ "$pages" -le 12 ] || fail "the PDF has $pages pages"
mkdir -p "$ART"
cp "$W/report.png" "$ART/report.png"
cp "$W/report.pdf" "$ART/report.pdf"
echo "ok: PDF of $pages pages, PUE $PUE in its KPI table; PNG in $ART/report.png"
echo "test_report: total $(($(date +%s) - start)) s after the demo started"
