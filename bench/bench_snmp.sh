#!/usr/bin/env bash
# SNMP polling at scale: simulated PDUs served by Debian's snmpd, each PDU one UDP port
# (several snmpd processes, many ports each), 60 OIDs per PDU from snmpd's compiled-in
# MIB-II groups (system, ip, tcp, udp, snmp scalars). For each PDU count it measures
#   1. what the same snmpd processes serve to `snmpbulkget` (the same 60 OIDs in one
#      request, over the same ports, PARALLEL clients at once), and snmpd's CPU meanwhile;
#   2. the agent: bench_snmp (the whole runtime, one SNMP loop thread, 1 s interval).
# and prints a table. snmpd processes are started on free loopback ports and stopped on exit.
#   usage: bench/bench_snmp.sh BUILD_DIR [PDU_COUNTS] [SECONDS] [SNMPD_PROCESSES]
#   defaults: "100 1000", 30 s measured after the warm-up, 8 snmpd processes.
#   environment: INLINE=1 (the 60 points written out in every entry instead of one profile
#   file that every entry names), UNIT=W (the 59 other OIDs read as power in W, integrated
#   and stored in the ledger, instead of counts), PARALLEL (snmpbulkget clients at once,
#   default 8), CEILING_REQUESTS (requests per snmpbulkget run, default 3000),
#   MAX_VARBINDS (per GET, default 60), WARMUP (seconds before measuring, default
#   5 + PDUs / 25: every point must be declared first).
set -euo pipefail
build=${1:?usage: bench_snmp.sh BUILD_DIR [PDU_COUNTS] [SECONDS] [SNMPD_PROCESSES]}
counts=${2:-"100 1000"}
seconds=${3:-30}
nsnmpd=${4:-8}
parallel=${PARALLEL:-8}
creq=${CEILING_REQUESTS:-3000}
varbinds=${MAX_VARBINDS:-60}
bench="$build/bench/bench_snmp"
PY=${DCM_PYTHON:-/usr/bin/python3}
[ -x "$bench" ] || { echo "no $bench: build the bench_snmp target first" >&2; exit 2; }
[ -x /usr/sbin/snmpd ] && command -v snmpbulkget >/dev/null ||
    { echo "needs snmpd and snmpbulkget (Debian packages snmpd, snmp)" >&2; exit 2; }
max=0
for n in $counts; do [ "$n" -gt "$max" ] && max=$n; done
ulimit -n "$(ulimit -Hn)"
export MIBS=
work=$(mktemp -d)
cleanup() {
    for f in "$work"/snmpd*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
    sleep 0.3
    rm -rf "$work"
}
trap cleanup EXIT

# The OIDs: 2 system, 30 snmp, 20 ip, 4 udp and 4 tcp scalars; all numbers.
{
    echo .1.3.6.1.2.1.1.3.0
    echo .1.3.6.1.2.1.1.8.0
    for i in 1 2 3 4 5 6 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 24 25 26 27 28 29 30 31 32; do
        echo ".1.3.6.1.2.1.11.$i.0"
    done
    for i in $(seq 1 19) 23; do echo ".1.3.6.1.2.1.4.$i.0"; done
    for i in 1 2 3 4; do echo ".1.3.6.1.2.1.7.$i.0"; done
    for i in 5 6 7 8; do echo ".1.3.6.1.2.1.6.$i.0"; done
} >"$work/oids"
noids=$(wc -l <"$work/oids")

# $max free UDP ports, all held at once while chosen so that none repeats.
"$PY" - "$max" >"$work/ports" <<'PYEOF'
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    held.append(s)
for s in held:
    print(s.getsockname()[1])
PYEOF
# PDU i is port i, served by snmpd number i mod $nsnmpd: any first N PDUs use every process.
printf 'rocommunity public 127.0.0.1\ndontLogTCPWrappersConnects yes\n' >"$work/snmpd.conf"
for ((k = 0; k < nsnmpd; k++)); do
    addrs=$(awk -v k="$k" -v n="$nsnmpd" '(NR - 1) % n == k {printf "%sudp:127.0.0.1:%s", sep, $1; sep = ","}' "$work/ports")
    [ -n "$addrs" ] || continue
    mkdir -p "$work/persist$k"
    SNMP_PERSISTENT_DIR="$work/persist$k" /usr/sbin/snmpd -f -Lf "$work/snmpd$k.log" -C \
        -c "$work/snmpd.conf" -p "$work/snmpd$k.pid" "$addrs" &
done
sed 's/^/127.0.0.1:/' "$work/ports" >"$work/targets"
for t in $(head -n "$nsnmpd" "$work/targets") $(tail -n 1 "$work/targets"); do
    for i in $(seq 100); do
        snmpget -v2c -c public -t 0.2 -r 0 "$t" .1.3.6.1.2.1.1.3.0 >/dev/null 2>&1 && break
        [ "$i" -lt 100 ] || { echo "snmpd on $t did not start" >&2; cat "$work"/snmpd*.log >&2; exit 1; }
        sleep 0.1
    done
done
snmpd_pids=$(cat "$work"/snmpd*.pid)
hz=$(getconf CLK_TCK)
snmpd_ticks() { local p s=0; for p in $snmpd_pids; do s=$((s + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$s"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
oidargs=$(sed 's/\.0$//' "$work/oids" | tr '\n' ' ')

# ceiling N: snmpbulkget (60 non-repeaters: GETNEXT of each scalar's parent = the scalar)
# cycling over the first N ports, $parallel at once; prints "OIDS_PER_S SNMPD_CPU_PCT".
ceiling() {
    local n=$1
    head -n "$n" "$work/targets" >"$work/ctargets"
    "$PY" -c 'import sys; t=open(sys.argv[1]).read().split(); n=int(sys.argv[2]); print("\n".join(t[i % len(t)] for i in range(n)))' \
        "$work/ctargets" "$creq" >"$work/cload"
    local c0 t0 t1 c1 got
    c0=$(snmpd_ticks)
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    got=$(xargs -P "$parallel" -I{} snmpbulkget -v2c -c public -t 2 -r 0 -Cn"$noids" -Cr0 {} $oidargs \
        <"$work/cload" 2>/dev/null | grep -c ' = ' || true)
    t1=$(date +%s.%N)
    c1=$(snmpd_ticks)
    awk -v g="$got" -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v hz="$hz" \
        'BEGIN {printf "%.0f %.1f\n", g / (t1 - t0), 100 * (c1 - c0) / hz / (t1 - t0)}'
}

printf '%s\n' "snmpd: $nsnmpd processes, $max ports; $noids OIDs per PDU; $(nproc) CPUs; $(uname -r)"
rows=()
for n in $counts; do
    echo "== $n PDUs: snmpbulkget ($creq requests, $parallel in parallel), load $(load)"
    read -r ceil ceil_snmpd < <(ceiling "$n")
    echo "snmpbulkget: $ceil OIDs/s; snmpd CPU $ceil_snmpd % of one core (all processes)"
    warm=${WARMUP:-$((5 + n / 25))}
    echo "== $n PDUs: agent, ${seconds} s after ${warm} s warm-up, load $(load)"
    head -n "$n" "$work/targets" >"$work/t$n"
    c0=$(snmpd_ticks)
    t0=$(date +%s.%N)
    "$bench" --targets "$work/t$n" --oids "$work/oids" --seconds "$seconds" --warmup "$warm" \
        --max-varbinds "$varbinds" ${INLINE:+--inline} --unit "${UNIT:-count}" | tee "$work/out$n"
    t1=$(date +%s.%N)
    c1=$(snmpd_ticks)
    agent_snmpd=$(awk -v c0="$c0" -v c1="$c1" -v hz="$hz" -v t0="$t0" -v t1="$t1" \
        'BEGIN {printf "%.1f", 100 * (c1 - c0) / hz / (t1 - t0)}')
    echo "snmpd CPU during the agent run (warm-up included): $agent_snmpd % of one core; load $(load)"
    rows+=("$n $ceil $ceil_snmpd $agent_snmpd $(load | cut -d' ' -f1) $(grep '^RESULT' "$work/out$n" | cut -d' ' -f2-)")
done

echo
printf '%s\n' "${rows[@]}" | awk '
BEGIN {
    printf "| PDUs | OIDs/s asked | snmpbulkget OIDs/s (snmpd CPU) | achieved OIDs/s | achieved / asked | failed polls | p99 poll | agent CPU | CPU per 1,000 OIDs/s (loop thread) | RSS (peak) | all up after | snmpd CPU | load |\n"
    printf "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
}
{
    delete v
    for (i = 6; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
    printf "| %d | %d | %d (%s %%) | %d | %.1f %% | %d | %.1f ms | %.1f %% | %.3f %% (%.3f %%) | %.1f MiB (%.1f MiB) | %s s | %s %% | %s |\n",
        $1, v["offered"], $2, $3, v["oids_s"], 100 * v["oids_s"] / v["offered"], v["failed"],
        v["p99_ms"], v["cpu_pct"], v["cpu_per_k"], v["loop_per_k"], v["rss_kb"] / 1024,
        v["hwm_kb"] / 1024, v["all_up_s"], $4, $5
}'
