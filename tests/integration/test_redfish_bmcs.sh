#!/usr/bin/env bash
# Redfish BMCs over HTTPS, all polled in parallel by one instance:
#   node01 EnvironmentMetrics, session login (sessions expire after 3 s: login again),
#   node02 only the deprecated Power resource (basic auth, password from a file),
#   node03 power supplies (summed) and an energy Sensor, node04 Sensors only,
#   pdu1   a rack PDU (RackPDUs Metrics),
#   slow   answers after 3 s, beyond the 800 ms deadline,
#   locked answers 401 to everything.
# A second instance has no CA file: the self-signed certificate must be refused.
# Asserts values, that the slow BMC never delays the others, health points, re-login,
# logout at stop, and that the password is never logged.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/redfish/common.sh"

make_cert
PW='pw-Zq81-never-logged'
start_server --tls "$work/cert.pem" "$work/key.pem" --password "$PW" --session-ttl 3 \
    --bmc node01:env:session --bmc node02:legacy:basic --bmc node03:psu:basic \
    --bmc node04:sensors:none --bmc pdu1:pdu:none --bmc slow:env:basic:3 \
    --bmc locked:unauth:basic
printf '%s\n' "$PW" >"$work/bmc.pw"
export DCM_TEST_BMC_PW="$PW"
cat >"$work/site.yaml" <<YAML
agent: {site: redfish, interval: 1s, log_level: info}
collectors:
  - name: rack1
    type: redfish
    timeout: 800ms
    username: monitor
    password_env: DCM_TEST_BMC_PW
    ca_file: $work/cert.pem
    bmcs:
      - {name: node01, url: "https://127.0.0.1:$(port node01)", auth: session}
      - {name: node02, url: "https://127.0.0.1:$(port node02)", password_file: $work/bmc.pw}
      - {name: node03, url: "https://127.0.0.1:$(port node03)/"}
      - {name: node04, url: "https://127.0.0.1:$(port node04)", auth: none}
      - {name: pdu1, url: "https://127.0.0.1:$(port pdu1)", auth: none}
      - {name: slow, url: "https://127.0.0.1:$(port slow)"}
      - {name: locked, url: "https://127.0.0.1:$(port locked)"}
  - name: nocafile
    type: redfish
    timeout: 800ms
    url: "https://127.0.0.1:$(port node04)"
site:
  timezone: UTC
  roles:
    it: [rack1.*.energy]
YAML
"$DCMETRICS" check -c "$work/site.yaml" >"$work/check.out" 2>&1 || {
    cat "$work/check.out"
    exit 1
}
"$DCMETRICS" run -c "$work/site.yaml" --state-dir "$work/state" --points \
    >"$work/points.jsonl" 2>"$work/run.err" &
agent=$!
server_pids+=("$agent")
sleep 9
kill -TERM "$agent"
wait "$agent"
"$PY" - "$work" "$(port node01)" "$PW" <<'PYEOF'
import json, re, ssl, sys, urllib.request
from datetime import datetime
work, port, pw = sys.argv[1], sys.argv[2], sys.argv[3]
def epoch(ts):
    ts = re.sub(r"(\.\d{6})\d+", r"\1", ts)
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()
by = {}
for line in open(work + "/points.jsonl"):
    r = json.loads(line)
    by.setdefault(r["point"], []).append((epoch(r["ts"]), r["value"], r["unit"]))
def vals(p):
    return [v for t, v, u in by.get(p, [])]
def times(p):
    return sorted(t for t, v, u in by.get(p, []))

# Values from each kind of resource.
for node in ("node01", "node02", "node03", "node04", "pdu1"):
    v = vals(f"rack1.{node}.power")
    assert len(v) >= 6, (node, len(v))
    assert all(100 < x < 1000 for x in v), (node, v)
    assert set(vals(f"rack1.{node}.up")) == {1.0}, (node, vals(f"rack1.{node}.up"))
    assert by[f"rack1.{node}.power"][0][2] == "W"
# Readings change over time (the server's power is a slow sine).
assert len(set(vals("rack1.node01.power"))) >= 3, vals("rack1.node01.power")
# node01 (EnvironmentMetrics) and node03 (two supplies, 55 % + 45 %) read the same model
# power at base 300 W and 400 W; the sum of the supplies stays within the +-10 % swing.
assert all(270 <= x <= 330 for x in vals("rack1.node01.power")), vals("rack1.node01.power")
assert all(360 <= x <= 440 for x in vals("rack1.node03.power")), vals("rack1.node03.power")
# Energy: EnvironmentMetrics, the energy Sensor, the PDU; growing registers in kWh.
for node in ("node01", "node03", "node04", "pdu1"):
    e = vals(f"rack1.{node}.energy")
    assert len(e) >= 6 and e == sorted(e) and e[-1] > e[0], (node, e)
    assert by[f"rack1.{node}.energy"][0][2] == "kWh"
assert 325675 < vals("rack1.node01.energy")[0] < 325700
assert 56438 < vals("rack1.pdu1.energy")[0] < 56500
# The deprecated Power resource has no energy.
assert not vals("rack1.node02.energy"), "legacy Power has no energy register"
# The slow BMC: never up, never a value, its errors count; the others keep a 1 s pace.
assert not vals("rack1.slow.power")
assert vals("rack1.slow.up") and set(vals("rack1.slow.up")) == {0.0}
assert max(vals("rack1.slow.errors")) >= 2, vals("rack1.slow.errors")
t = times("rack1.node01.power")
gaps = [b - a for a, b in zip(t, t[1:])]
assert max(gaps) < 1.5, gaps
assert max(vals("rack1.node02.latency")) < 800, vals("rack1.node02.latency")
# The locked BMC.
assert set(vals("rack1.locked.up")) == {0.0} and not vals("rack1.locked.power")
# A certificate the agent cannot verify is refused.
assert set(vals("nocafile.bmc.up")) == {0.0} and not vals("nocafile.power")
log = open(work + "/run.err").read()
assert "locked not answering: unauthorised (HTTP 401" in log, log
assert "slow not answering: no answer within 800 ms" in log, log
assert re.search(r"nocafile.*bmc not answering: .*(certificate|SSL)", log), log
assert "node02: chassis 1U: power from Power" in log, log
assert "node01: chassis 1U: power from EnvironmentMetrics, energy from EnvironmentMetrics" in log, log
assert "node03: chassis 1U: power from PowerSupplies, energy from Sensors" in log, log
assert "pdu1: 1 rack PDU: power and energy from RackPDUs Metrics" in log, log
assert pw not in log, "the password reached the log"
assert log.count("slow not answering") == 1, "an outage is said once"
# Sessions: logged in again after the 3 s expiry, and logged out at stop.
ctx = ssl.create_default_context(cafile=work + "/cert.pem")
stats = json.load(urllib.request.urlopen(f"https://127.0.0.1:{port}/_stats", context=ctx))
n1 = stats["node01"]
assert n1["logins"] >= 2 and n1["unauthorised"] >= 1, n1
assert n1["logouts"] == 1, n1
print("ok:", {k: len(v) for k, v in sorted(by.items()) if k.startswith("rack1.node01")}, n1)
PYEOF
