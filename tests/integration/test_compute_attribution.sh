#!/usr/bin/env bash
# `dcmetrics compute` with IT energy from telemetry and per-GPU attribution, on a worked
# example done by hand. One hour: facility 1500 kWh, PDUs 1000 kWh (PUE 1.5); GPU 0 used
# 100 kWh, GPU 1 180 MJ = 50 kWh. Attribution: GPU 0 -> 150 kWh of facility energy,
# 75 kgCO2e at 0.5 kg/kWh (location) and 60 kg at 0.4 (market); GPU 1 -> 75 kWh, 37.5 kg,
# 30 kg. Telemetry: 150 kWh measured + 700 W x 1000 nodes for an hour = 850 kWh, a
# reconciliation of 850 / 1000 = 0.85. With it_source: telemetry, E_IT is 850 kWh: PUE
# 1500 / 850 and GPU 0 stands for 100 x 1500 / 850 kWh.
set -euo pipefail
: "${DCMETRICS:?}"
PY=${DCM_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cat >"$work/readings.csv" <<'CSV'
timestamp,point,value,unit,kind,start
2026-03-01T01:00:00Z,main.total,1500,kWh,delta,2026-03-01T00:00:00Z
2026-03-01T01:00:00Z,pdu.it,1,MWh,delta,2026-03-01T00:00:00Z
2026-03-01T01:00:00Z,gpus.gpu0.energy,100000,Wh,delta,2026-03-01T00:00:00Z
2026-03-01T01:00:00Z,gpus.gpu1.energy,180,MJ,delta,2026-03-01T00:00:00Z
CSV
site() {
    cat <<YAML
agent: {site: attribution}
site:
  timezone: UTC
  max_gap: 2h
  it_source: $1
  node_baseline_w: 700
  node_count: 1000
  roles:
    total: [main.total]
    it: [pdu.it]
    it_telemetry: [gpus.*.energy]
  attribution: [gpus.*.energy]
  carbon: {location_factor: 0.5, market_factor: 0.4}
YAML
}
site pdu >"$work/pdu.yaml"
site telemetry >"$work/telemetry.yaml"
"$DCMETRICS" check -c "$work/pdu.yaml" >/dev/null
for mode in pdu telemetry; do
    "$DCMETRICS" compute -c "$work/$mode.yaml" --input "$work/readings.csv" \
        --from 2026-03-01T00:00:00Z --to 2026-03-01T01:00:00Z >"$work/$mode.json"
done
"$PY" - "$work" <<'PYEOF'
import json, sys
work = sys.argv[1]
def near(a, b):
    assert a is not None and abs(a - b) <= 1e-9 * max(1, abs(b)), (a, b)
d = json.load(open(work + "/pdu.json"))
near(d["kpi"]["pue"], 1.5)
a = d["attribution"]
assert sorted(a) == ["gpus.gpu0.energy", "gpus.gpu1.energy"], a
g0, g1 = a["gpus.gpu0.energy"], a["gpus.gpu1.energy"]
near(g0["energy_kwh"], 100); near(g0["facility_kwh"], 150)
near(g0["co2_location_kg"], 75); near(g0["co2_market_kg"], 60)
near(g1["energy_kwh"], 50); near(g1["facility_kwh"], 75)
near(g1["co2_location_kg"], 37.5); near(g1["co2_market_kg"], 30)
assert g0["coverage"] == 1 and g0["quality"] == "ok", g0
near(d["it_telemetry"]["energy_kwh"], 850)
near(d["it_telemetry"]["reconciliation"], 0.85)
near(d["energy_kwh"]["it"], 1000)
# The month inside the period carries the same attribution.
near(d["months"][0]["attribution"]["gpus.gpu0.energy"]["facility_kwh"], 150)
t = json.load(open(work + "/telemetry.json"))
near(t["kpi"]["pue"], 1500 / 850)
near(t["attribution"]["gpus.gpu0.energy"]["facility_kwh"], 100 * 1500 / 850)
near(t["attribution"]["gpus.gpu0.energy"]["co2_location_kg"], 100 * 0.5 * 1500 / 850)
near(t["it_telemetry"]["reconciliation"], 0.85)
print("ok", g0, d["it_telemetry"])
PYEOF
# A telemetry source without telemetry points is a configuration error.
sed '/it_telemetry:/d' "$work/telemetry.yaml" >"$work/bad.yaml"
if "$DCMETRICS" check -c "$work/bad.yaml" >"$work/bad.out" 2>&1; then
    echo "FAIL: it_source telemetry without site.roles.it_telemetry was accepted"
    exit 1
fi
grep -q "site.it_source: telemetry needs the points to sum" "$work/bad.out" || {
    cat "$work/bad.out"
    exit 1
}
echo ok
