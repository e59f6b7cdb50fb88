#!/usr/bin/env bash
# Redfish collector at scale: N BMCs (default 500) over HTTPS polled every 10 s by one
# `redfish` instance (one thread, one libcurl multi handle). The BMCs are served by the
# test server (tests/integration/redfish/redfish_server.py), all from one port and told
# apart by host name (bmc0000.localhost ...), with a certificate naming all of them.
# Prints the agent's CPU (share of one core, from /proc utime + stime) and resident memory
# over a measuring window after the first rounds (discovery) are done, and how many
# readings each BMC served in that window.
#   usage: bench/bench_redfish.sh DCMETRICS [BMCS] [WARMUP_S] [MEASURE_S]
set -euo pipefail
dcm=${1:?usage: bench_redfish.sh DCMETRICS [BMCS] [WARMUP_S] [MEASURE_S]}
n=${2:-500}
warm=${3:-40}
measure=${4:-120}
here=$(cd "$(dirname "$0")/.." && pwd)
PY=${DCM_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"' EXIT

san="IP:127.0.0.1"
for ((i = 0; i < n; i++)); do san+=$(printf ',DNS:bmc%04d.localhost' "$i"); done
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=dcm-bench -addext "subjectAltName=$san" \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
"$PY" "$here/tests/integration/redfish/redfish_server.py" --tls "$work/cert.pem" "$work/key.pem" \
    --hosts "$n:env:basic" --password benchpw >"$work/ports" 2>"$work/server.err" &
pids+=($!)
server=$!
for _ in $(seq 1 100); do grep -q '^listening all' "$work/ports" 2>/dev/null && break; sleep 0.1; done
port=$(awk '$2 == "hosts" {print $3}' "$work/ports")
{
    echo "agent: {site: bench, interval: 10s, log_level: ${DCM_BENCH_LOG:-warn}, state_dir: $work/state}"
    echo "collectors:"
    echo "  - {name: racks, type: redfish, timeout: 8s, username: monitor, password: benchpw,"
    echo "     ca_file: $work/cert.pem, parallel: ${DCM_BENCH_PARALLEL:-64}, keep_alive: ${DCM_BENCH_KEEP:-true}, bmcs: ["
    for ((i = 0; i < n; i++)); do
        printf '       {name: n%04d, url: "https://bmc%04d.localhost:%s"},\n' "$i" "$i" "$port"
    done
    echo "     ]}"
    echo "site: {timezone: UTC, roles: {it: [racks.*.energy]}}"
} >"$work/site.yaml"
"$dcm" run -c "$work/site.yaml" >"$work/run.out" 2>"$work/run.err" &
agent=$!
pids+=("$agent")
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sleep "$warm"
stats() { "$PY" -c 'import json,ssl,sys,urllib.request
c=ssl.create_default_context(cafile=sys.argv[1])
s=json.load(urllib.request.urlopen("https://127.0.0.1:%s/_stats" % sys.argv[2], context=c))
print(" ".join(str(s[k]["gets"]) for k in sorted(s)))' "$work/cert.pem" "$port"; }
g0=$(stats)
t0=$(ticks "$agent")
s0=$(ticks "$server")
m0=$(date +%s.%N)
sleep "$measure"
t1=$(ticks "$agent")
s1=$(ticks "$server")
m1=$(date +%s.%N)
g1=$(stats)
rss=$(awk '/VmRSS/ {print $2}' "/proc/$agent/status")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$agent/status")
"$PY" - "$t0" "$t1" "$s0" "$s1" "$m0" "$m1" "$hz" "$rss" "$hwm" "$n" "$measure" "$g0" "$g1" <<'PYEOF'
import sys
t0, t1, s0, s1, m0, m1, hz = (float(x) for x in sys.argv[1:8])
rss, hwm, n, measure = int(sys.argv[8]), int(sys.argv[9]), int(sys.argv[10]), float(sys.argv[11])
g0 = [int(x) for x in sys.argv[12].split()]
g1 = [int(x) for x in sys.argv[13].split()]
per = [b - a for a, b in zip(g0, g1)]
wall = m1 - m0
print(f"bmcs {n}, interval 10 s, measured {wall:.1f} s after the warm-up")
print(f"agent CPU {100 * (t1 - t0) / hz / wall:.2f} % of one core ({(t1 - t0) / hz:.2f} s)")
print(f"agent RSS {rss} kB (peak {hwm} kB)")
print(f"server CPU {100 * (s1 - s0) / hz / wall:.1f} % of one core")
print(f"readings per BMC in the window: min {min(per)}, max {max(per)} (expected {measure / 10:.0f})")
PYEOF
warns=$(grep -c 'not answering' "$work/run.err" || true)
echo "BMCs reported down at some point: $warns"
