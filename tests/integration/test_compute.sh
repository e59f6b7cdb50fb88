#!/usr/bin/env bash
# `dcmetrics compute` end to end: the real binary on CSV fixtures that reproduce the
# worked KPI examples (A, B, D, H, I), bad input reported by line, and the exit codes.
set -euo pipefail
: "${DCMETRICS:?path to the dcmetrics binary}" "${DCM_SOURCE_DIR:?source tree}"
PY=${DCM_PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=$(command -v python3)
FX="$DCM_SOURCE_DIR/tests/fixtures/compute"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# jcheck FILE EXPR...: every Python expression must hold for the JSON document d.
# r4(x) rounds to 4 decimals as the worked examples do.
jcheck() {
    local file=$1
    shift
    "$PY" - "$file" "$@" <<'PYEOF' || fail "checks on $file"
import json, sys
d = json.load(open(sys.argv[1]))
def r4(x): return round(x, 4)
bad = [e for e in sys.argv[2:] if not eval(e)]
for e in bad:
    print("  not true:", e, file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
}

# expect_rc CODE ARGS...: runs compute, output to $TMP/out.json, stderr to $TMP/err.txt.
expect_rc() {
    local want=$1
    shift
    local rc=0
    "$DCMETRICS" compute "$@" >"$TMP/out.json" 2>"$TMP/err.txt" || rc=$?
    if [ "$rc" -ne "$want" ]; then
        cat "$TMP/err.txt" >&2
        fail "compute $* exited $rc, expected $want"
    fi
}

stderr_has() {
    grep -qF -- "$1" "$TMP/err.txt" || { cat "$TMP/err.txt" >&2; fail "stderr lacks: $1"; }
}

# ---- Example A: 12 monthly bills (delta rows with their start) in Asia/Taipei.
expect_rc 0 -c "$FX/site_a.yaml" --input "$FX/example_a.csv"
jcheck "$TMP/out.json" \
    'd["site"] == "example-a" and d["pue_category"] == 1' \
    'd["from"] == "2025-01-01T00:00:00+08:00" and d["to"] == "2026-01-01T00:00:00+08:00"' \
    'r4(d["kpi"]["pue"]) == 1.3672 and r4(d["kpi"]["dcie"]) == 0.7314' \
    'd["energy_kwh"]["it"] == 9030000 and d["energy_kwh"]["total"] == 12346000' \
    'd["quality"] == "ok" and d["coverage"] == 1 and d["estimated_share"] == 0' \
    'd["kpi"]["wue"] is None and d["kpi_quality"]["wue"] == "invalid"' \
    'd["corrections"] == 0 and d["ruleset"].startswith("dcm-kpi-")' \
    'len(d["months"]) == 12' \
    'd["months"][0]["from"] == "2025-01-01T00:00:00+08:00"' \
    'd["months"][11]["to"] == "2026-01-01T00:00:00+08:00"' \
    '[r4(m["kpi"]["pue"]) for m in d["months"]] == [1.25, 1.2594, 1.2806, 1.3197, 1.38, 1.4895, 1.55, 1.5395, 1.45, 1.3203, 1.2701, 1.25]' \
    'r4(sum(m["kpi"]["pue"] for m in d["months"]) / 12) == 1.3633' \
    'all(m["quality"] == "ok" for m in d["months"])' \
    'd["months"][5]["energy_kwh"]["it"] == 760000'
stderr_has "24 rows read, 24 used, 0 skipped"

# The same bills without a start column: each covers the time since the point's previous
# bill, so the first one's interval is unknown (estimated), the annual ratio is unchanged.
expect_rc 0 -c "$FX/site_a.yaml" --input "$FX/example_a_nostart.csv" --from 2025-01-01 --to 2026-01-01
jcheck "$TMP/out.json" \
    'd["from"] == "2025-01-01T00:00:00+08:00"' \
    'r4(d["kpi"]["pue"]) == 1.3672' \
    'd["estimated_share"] > 0 and d["quality"] == "partial"' \
    'r4(d["months"][1]["kpi"]["pue"]) == 1.2594 and d["months"][1]["quality"] == "ok"'

# ---- Example B: quarterly interim PUE from the same bills, periods given as dates.
for q in "2025-01-01 2025-04-01 1.2636" "2025-04-01 2025-07-01 1.3982" \
         "2025-07-01 2025-10-01 1.5138" "2025-10-01 2026-01-01 1.2801"; do
    set -- $q
    expect_rc 0 -c "$FX/site_a.yaml" --input "$FX/example_a.csv" --from "$1" --to "$2"
    jcheck "$TMP/out.json" "r4(d['kpi']['pue']) == $3" 'len(d["months"]) == 3'
done

# CSV output: a row per month, then the total row.
expect_rc 0 -c "$FX/site_a.yaml" --input "$FX/example_a.csv" --format csv -o "$TMP/a.csv"
"$PY" - "$TMP/a.csv" <<'PYEOF' || fail "CSV output of example A"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert len(rows) == 13, len(rows)
assert rows[0]["period"] == "2025-01" and rows[11]["period"] == "2025-12"
assert rows[12]["period"] == "total" and round(float(rows[12]["pue"]), 4) == 1.3672
assert rows[12]["from"] == "2025-01-01T00:00:00+08:00"
assert float(rows[12]["energy_it_kwh"]) == 9030000
assert rows[12]["wue"] == "" and rows[12]["quality"] == "ok"
assert round(float(rows[0]["pue"]), 4) == 1.25
PYEOF

# ---- Example D: CUE (location and market based) and REF with retired certificates.
expect_rc 0 -c "$FX/site_d.yaml" --input "$FX/example_d.csv"
jcheck "$TMP/out.json" \
    'r4(d["kpi"]["pue"]) == 1.3' \
    'r4(d["kpi"]["cue_location"]) == 0.6113 and r4(d["kpi"]["cue_market"]) == 0.3643' \
    'r4(d["kpi"]["ref"]) == 0.4327' \
    'round(d["co2_kg"]["location"], 3) == 4890600 and round(d["co2_kg"]["market"], 3) == 2914600' \
    'd["energy_kwh"]["certificates"] == 4000000 and d["energy_kwh"]["grid"] == 9900000' \
    'd["energy_kwh"]["onsite_renewable"] == 500000 and d["pue_category"] == 2' \
    'round(sum(m["energy_kwh"]["certificates"] for m in d["months"]), 3) == 4000000' \
    'r4(d["months"][0]["energy_kwh"]["certificates"]) == r4(4000000 * 31 / 365)'

# ---- Example H: 15-minute power (kW, W and MW mixed) and an energy register.
expect_rc 0 -c "$FX/site_h.yaml" --input "$FX/example_h.csv"
jcheck "$TMP/out.json" \
    'd["energy_kwh"]["it"] == 1047.5 and d["energy_kwh"]["total"] == 1047.5' \
    'd["from"] == "2025-03-10T00:00:00Z" and d["to"] == "2025-03-11T00:00:00Z"' \
    'r4(d["coverage_by_role"]["it"]) == r4(1 / 24) and d["quality"] == "partial"'
stderr_has "changes unit from 'kW' (line 2) to 'W' at line 4"
expect_rc 0 -c "$FX/site_h.yaml" --input "$FX/example_h.csv" \
    --from 2025-03-10T00:00:00Z --to 1741568400
jcheck "$TMP/out.json" \
    'd["energy_kwh"]["it"] == 1047.5 and d["kpi"]["pue"] == 1' \
    'd["coverage"] == 1 and d["quality"] == "ok"' \
    'd["to"] == "2025-03-10T01:00:00Z"'
# Half the hour (a local time: the site is in UTC): the register's delta is pro-rated,
# the power integrated exactly.
expect_rc 0 -c "$FX/site_h.yaml" --input "$FX/example_h.csv" \
    --from 2025-03-10T00:00:00Z --to 2025-03-10T00:30
jcheck "$TMP/out.json" \
    'd["energy_kwh"]["it"] == 520 and d["energy_kwh"]["total"] == 523.75' \
    'd["estimated_share"] == 1 and d["quality"] == "partial"'

# ---- Example I: a register reset (counted from zero) and a glitch backwards (ignored).
expect_rc 0 -c "$FX/site_i.yaml" --input "$FX/example_i.csv"
jcheck "$TMP/out.json" \
    'round(d["energy_kwh"]["total"], 9) == 3.012 and round(d["energy_kwh"]["it"], 9) == 1.6' \
    'd["corrections"] == 2 and r4(d["kpi"]["pue"]) == 1.8825' \
    'd["from"] == "2025-03-10T00:00:00+01:00"'
stderr_has "example_i.csv:4: point 'meter.energy': counter reset"
stderr_has "example_i.csv:6: point 'meter.energy': counter went backwards"
stderr_has "2 corrections (reset: 1, backwards: 1)"

# Months follow the site's civil calendar across a daylight-saving change (Berlin).
printf 'timestamp,point,value,unit,kind\n%s\n%s\n%s\n%s\n' \
    "2025-03-01T00:00:00+01:00,meter.energy,1000,kWh,counter" \
    "2025-04-01T00:00:00+02:00,meter.energy,1743,kWh,counter" \
    "2025-03-01T00:00:00+01:00,rack.energy,100,kWh,counter" \
    "2025-04-01T00:00:00+02:00,rack.energy,843,kWh,counter" >"$TMP/dst.csv"
expect_rc 0 -c "$FX/site_i.yaml" --input "$TMP/dst.csv"
jcheck "$TMP/out.json" \
    'd["from"] == "2025-03-01T00:00:00+01:00" and d["to"] == "2025-04-01T00:00:00+02:00"' \
    'len(d["months"]) == 1 and d["months"][0]["coverage"] == 1' \
    'd["energy_kwh"]["total"] == 743 and d["kpi"]["pue"] == 1 and d["quality"] == "ok"'

# ---- Bad input: every problem reported with its line, the rest still computed.
expect_rc 0 -c "$FX/site_bad.yaml" --input "$FX/malformed.csv"
jcheck "$TMP/out.json" \
    'd["energy_kwh"]["total"] == 600 and d["energy_kwh"]["it"] == 430' \
    'r4(d["kpi"]["pue"]) == 1.3953' \
    'd["water_m3"]["total"] is None and d["kpi"]["wue"] is None'
stderr_has "malformed.csv:7: timestamp '2025-06-01 02:00:00': no UTC offset"
stderr_has "malformed.csv:9: quote inside an unquoted field"
stderr_has "malformed.csv:10: unknown unit 'BTU'"
stderr_has "malformed.csv:11: a counter needs an energy unit"
stderr_has "malformed.csv:15: point 'main.energy': reading conflicts with line 14"
stderr_has "malformed.csv:17: point 'rack.a' changes unit from 'kWh' (line 3) to 'm3'"
stderr_has "malformed.csv:23: 3 fields, expected at least 5"
stderr_has "point 'water.volume' (line 24) has unit 'kWh', but role 'water' needs water"
stderr_has "point 'pv.temp' is not selected by any role or zone: 2 rows not used"
stderr_has "point 'rack.b': 1 row is earlier than the row before (first at line 22)"
stderr_has "25 rows read, 12 used, 11 skipped (malformed CSV: 1, missing fields: 1, bad timestamp: 1, unknown unit: 1, unit does not suit kind: 1, unit or kind change: 1, unit does not suit role: 2, exact duplicate: 1, conflicting duplicate: 2); 2 more for 1 point that no role selects"

# Per-line messages stop at 20, then are counted.
{
    echo "timestamp,point,value,unit,kind"
    for i in $(seq 1 30); do echo "2025-06-01T00:00:00,rack.a,$i,kWh,counter"; done
    echo "2025-06-01T00:00:00Z,rack.a,1,kWh,counter"
    echo "2025-06-01T01:00:00Z,rack.a,3,kWh,counter"
} >"$TMP/many.csv"
expect_rc 0 -c "$FX/site_bad.yaml" --input - <"$TMP/many.csv"
[ "$(grep -cE '^stdin:[0-9]+: ' "$TMP/err.txt")" -eq 20 ] || fail "expected 20 line messages"
stderr_has "stdin: ... 10 more line messages not shown"
stderr_has "32 rows read, 2 used, 30 skipped (bad timestamp: 30)"
jcheck "$TMP/out.json" 'd["energy_kwh"]["it"] == 2 and d["kpi"]["pue"] is None'

# Only points no role selects: nothing to compute without a period...
printf 'timestamp,point,value,unit,kind\n2025-06-01T00:00:00Z,pv.temp,30,degC,gauge\n' >"$TMP/unknown.csv"
expect_rc 1 -c "$FX/site_bad.yaml" --input "$TMP/unknown.csv"
stderr_has "no usable reading"
# ...and a result of nulls with one.
expect_rc 0 -c "$FX/site_bad.yaml" --input "$TMP/unknown.csv" --from 2025-06-01 --to 2025-07-01
jcheck "$TMP/out.json" 'd["kpi"]["pue"] is None and d["quality"] == "invalid"' \
    'd["energy_kwh"]["total"] is None and len(d["months"]) == 1'

# ---- Exit codes: 2 for usage and configuration, 1 for unreadable input.
expect_rc 0 --help
expect_rc 2 --input "$FX/example_a.csv"
expect_rc 2 -c "$FX/site_a.yaml"
expect_rc 2 -c "$FX/site_a.yaml" --input "$FX/example_a.csv" --format xml
expect_rc 2 -c "$FX/site_a.yaml" --input "$FX/example_a.csv" --bogus
expect_rc 2 -c "$FX/site_a.yaml" --input "$FX/example_a.csv" --from
expect_rc 2 -c "$FX/site_a.yaml" --input "$FX/example_a.csv" --from yesterday
stderr_has "--from 'yesterday'"
expect_rc 2 -c "$FX/site_a.yaml" --input "$FX/example_a.csv" --from 2025-06-01 --to 2025-01-01
expect_rc 2 -c "$TMP/no-such.yaml" --input "$FX/example_a.csv"
printf 'site:\n  timezon: UTC\n' >"$TMP/typo.yaml"
expect_rc 2 -c "$TMP/typo.yaml" --input "$FX/example_a.csv"
expect_rc 1 -c "$FX/site_a.yaml" --input "$TMP/no-such.csv"
: >"$TMP/empty.csv"
expect_rc 1 -c "$FX/site_a.yaml" --input "$TMP/empty.csv"
printf 'timestamp,point,value,unit\n' >"$TMP/header.csv"
expect_rc 1 -c "$FX/site_a.yaml" --input "$TMP/header.csv"
stderr_has "no 'kind' column"
expect_rc 1 -c "$FX/site_a.yaml" --input "$TMP"

# -o writes the file and nothing to stdout.
expect_rc 0 -c "$FX/site_d.yaml" --input "$FX/example_d.csv" -o "$TMP/d.json"
[ ! -s "$TMP/out.json" ] || fail "stdout not empty with -o"
jcheck "$TMP/d.json" 'r4(d["kpi"]["ref"]) == 0.4327'

echo "compute: all checks passed"
