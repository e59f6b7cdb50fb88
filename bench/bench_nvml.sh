#!/usr/bin/env bash
# Cost of the nvml collector polling 8 GPUs every second, through the fake NVML library the
# test build makes (tests/fakes/fake_nvml.c): the agent's CPU time and peak RSS over a run,
# against the same agent with the collector disabled, and the collector's poll latency
# from its health points. The fake answers in microseconds; a real driver's calls take
# longer, so this is the agent's own overhead, not NVML's.
#
# usage: bench/bench_nvml.sh BUILD_DIR [SECONDS]   (default 60)
set -euo pipefail
build=${1:?usage: bench_nvml.sh BUILD_DIR [SECONDS]}
secs=${2:-60}
bin="$build/dcmetrics"
lib="$build/fakes/libnvidia-ml.so.1"
[ -x "$bin" ] && [ -f "$lib" ] || { echo "build $build first (with tests: the fake library)"; exit 2; }
hz=$(getconf CLK_TCK)
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

for i in 0 1 2 3 4 5 6 7; do
    echo "gpu $i name=NVIDIA_H100_80GB_HBM3 power=$((300 + 20 * i)) limit=700 util=$((50 + 5 * i)) memutil=30 energy=$((1000000000 * (i + 1)))"
done >"$work/gpus.txt"
export DCM_FAKE_NVML="$work/gpus.txt"

config() { # $1 = enabled
    cat <<EOF
agent:
  interval: 1s
collectors:
  - name: gpus
    type: nvml
    library: $lib
    enabled: $1
site:
  roles:
    it: [gpus.*.energy]
    accelerators: [gpus.*.utilization]
EOF
}

# measure ENABLED: prints "cpu_ms rss_kib" of a run of $secs seconds.
measure() {
    config "$1" >"$work/site.yaml"
    rm -rf "$work/state"
    "$bin" run -c "$work/site.yaml" --state-dir "$work/state" >/dev/null 2>"$work/err.txt" &
    pid=$!
    sleep "$secs"
    local ticks rss
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat")
    rss=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status")
    kill -TERM "$pid"
    wait "$pid" || true
    pid=
    echo "$((ticks * 1000 / hz)) $rss"
}

read -r base_cpu base_rss < <(measure false)
read -r gpu_cpu gpu_rss < <(measure true)

# Poll latency: the scheduler's health point, one sample per poll.
config true >"$work/site.yaml"
rm -rf "$work/state"
"$bin" run -c "$work/site.yaml" --points --state-dir "$work/state" >"$work/points.jsonl" 2>/dev/null &
pid=$!
sleep 10
kill -TERM "$pid"; wait "$pid" || true; pid=
lat=$(grep '"gpus.health.latency"' "$work/points.jsonl" | sed 's/.*"value":\([0-9.e+-]*\).*/\1/' |
      sort -g | awk '{v[NR] = $1; s += $1} END {printf "%.3f %.3f %.3f", s / NR, v[int((NR + 1) / 2)], v[NR]}')
read -r lat_mean lat_median lat_max <<<"$lat"

echo "nvml, 8 GPUs, 1 s interval, ${secs} s run ($(nproc) CPUs, $(uname -m))"
printf "  agent without the collector: CPU %6d ms  (%.2f %%)  peak RSS %6d KiB\n" \
    "$base_cpu" "$(awk -v c="$base_cpu" -v s="$secs" 'BEGIN {print c / (s * 10)}')" "$base_rss"
printf "  agent with the collector:    CPU %6d ms  (%.2f %%)  peak RSS %6d KiB\n" \
    "$gpu_cpu" "$(awk -v c="$gpu_cpu" -v s="$secs" 'BEGIN {print c / (s * 10)}')" "$gpu_rss"
printf "  collector cost: %.2f ms CPU per poll of 8 GPUs (40 points), +%d KiB RSS\n" \
    "$(awk -v a="$gpu_cpu" -v b="$base_cpu" -v s="$secs" 'BEGIN {print (a - b) / s}')" "$((gpu_rss - base_rss))"
printf "  poll latency (10 s run): mean %s ms, median %s ms, max %s ms\n" \
    "$lat_mean" "$lat_median" "$lat_max"
