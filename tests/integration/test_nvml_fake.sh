#!/usr/bin/env bash
# The nvml collector against the fake NVML library the build makes (tests/fakes/
# fake_nvml.c), loaded through the collector's real dlopen() path: three GPUs, one without
# an energy counter (its power is integrated instead), a power step, one GPU lost mid-run
# (only its points turn invalid) and back, and a driver reload that restarts the counters (the
# engine records a reset, not a backwards glitch). Then GPU selection by UUID with the
# default library name found through LD_LIBRARY_PATH, and the disabled/invalid cases.
# About 20 s.
set -euo pipefail
: "${DCMETRICS:?DCMETRICS must point at the dcmetrics binary}"
PY=${DCM_PYTHON:-/usr/bin/python3}
FAKES="$DCM_BINARY_DIR/fakes"
[ -f "$FAKES/libnvidia-ml.so.1" ] || { echo "FAIL: $FAKES/libnvidia-ml.so.1 not built"; exit 1; }
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# run_for SECONDS OUT ERR ARGS...: the agent in the background, stopped by SIGTERM.
run_for() {
    local secs=$1 out=$2 err=$3
    shift 3
    "$DCMETRICS" run "$@" >"$out" 2>"$err" &
    pid=$!
    sleep "$secs"
    kill -TERM "$pid" 2>/dev/null || true
    local rc=0
    wait "$pid" || rc=$?
    pid=
    return "$rc"
}

# Events fall between polls (polls are ~1 s apart from the start) so that each one is
# seen by exactly one poll.
cat >"$work/gpus.txt" <<'EOF'
gpu 0 name=NVIDIA_H100_80GB_HBM3 uuid=GPU-0c1d2e3f-0000-4000-8000-000000000001 power=250 limit=700 util=80 memutil=40 energy=5000000000
gpu 1 name=Tesla_P100-PCIE-16GB uuid=GPU-0c1d2e3f-0000-4000-8000-000000000002 power=150 limit=250 util=50 memutil=20 energy=unsupported
gpu 2 name=NVIDIA_A100-SXM4-40GB uuid=GPU-0c1d2e3f-0000-4000-8000-000000000003 power=300 limit=400 util=90 memutil=60 energy=9000000000 fields=unsupported
at 3.5 gpu 0 power=400 util=100
at 4.5 gpu 2 lost=1
at 5.5 reload
at 6.5 gpu 2 lost=0
EOF
cat >"$work/site.yaml" <<EOF
agent:
  site: gpu-hall
  interval: 1s
collectors:
  - name: gpus
    type: nvml
    library: $FAKES/libnvidia-ml.so.1
site:
  roles:
    it: [gpus.*.energy]
    accelerators: [gpus.*.utilization]
EOF
export DCM_FAKE_NVML="$work/gpus.txt"
run_for 8.6 "$work/out.jsonl" "$work/err.txt" -c "$work/site.yaml" --points --json \
    --windows instant --state-dir "$work/state" || { echo "FAIL: run exited $?"; cat "$work/err.txt"; exit 1; }
grep -q "gpu1 (Tesla P100-PCIE-16GB): no energy counter" "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
grep -q "gpu2 (GPU-0c1d2e3f-0000-4000-8000-000000000003) is lost" "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
grep -q "gpu2 (GPU-0c1d2e3f-0000-4000-8000-000000000003) answers again" "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
"$PY" - "$work/out.jsonl" "$work/state/ledger.db" <<'PYEOF'
import json, sqlite3, sys
from datetime import datetime
def ts(s):
    s = s.rstrip("Z")
    base, frac = (s.split(".") + ["0"])[:2]
    return datetime.fromisoformat(base).timestamp() + float("0." + frac)
pts, kpis = {}, []
for line in open(sys.argv[1]):
    r = json.loads(line)
    if "point" in r:
        pts.setdefault(r["point"], []).append((ts(r["ts"]), r["value"], r["quality"], r["unit"]))
    elif r.get("window") == "instant":
        kpis.append(r)
want = {f"gpus.gpu{g}.{p}" for g in range(3)
        for p in ("power", "energy", "utilization", "memory_utilization", "power_limit")}
assert want <= set(pts), sorted(want - set(pts))
assert {u for *_, u in pts["gpus.gpu0.energy"]} == {"J"}
assert {u for *_, u in pts["gpus.gpu1.energy"]} == {"W"}, "fallback energy must be the power gauge"
assert all(v == 150 and q == "ok" for _, v, q, _ in pts["gpus.gpu1.energy"])
assert pts["gpus.gpu0.power_limit"][0][1] == 700

# The energy counter advances as the power says, and restarts once (driver reload).
e0, p0 = pts["gpus.gpu0.energy"], {t: v for t, v, *_ in pts["gpus.gpu0.power"]}
resets = 0
# The first poll is stamped with the agent's start time, read a little later: rates from
# the second sample on.
for (ta, ea, qa, _), (tb, eb, qb, _) in zip(e0[1:], e0[2:]):
    assert qa == qb == "ok"
    if eb < ea:
        resets += 1
        assert eb < 400 * 1.5, f"counter after reload should be small: {eb}"
        continue
    rate = (eb - ea) / (tb - ta)
    lo, hi = min(p0[ta], p0[tb]), max(p0[ta], p0[tb])
    assert 0.95 * lo <= rate <= 1.05 * hi, (ta, rate, lo, hi)
assert resets == 1, resets
assert max(v for _, v, *_ in e0) > 5e6  # J: the counter's value at start was 5e9 mJ

# GPU 2 is lost from 4.5 s to 6.5 s: its points are invalid on the two polls between,
# ok before and after; the other GPUs are not touched.
lost = [t for t, v, q, _ in pts["gpus.gpu2.power"] if q == "invalid"]
assert len(lost) == 2, lost
for name in ("power", "energy", "utilization", "memory_utilization", "power_limit"):
    s = pts[f"gpus.gpu2.{name}"]
    assert [t for t, _, q, _ in s if q == "invalid"] == lost, name
    assert all(v is None for t, v, q, _ in s if q == "invalid"), name
    assert any(t > lost[-1] and q == "ok" for t, _, q, _ in s), f"{name}: not back"
for g in (0, 1):
    assert all(q == "ok" for _, _, q, _ in pts[f"gpus.gpu{g}.power"]), g
assert all(v == 1 for _, v, *_ in pts["gpus.health.up"]), "one lost GPU must not take the collector down"

# Instant IT power: counter rates of GPUs 0 and 2 plus GPU 1's power (the fallback)
# = 0.25 + 0.15 + 0.30 kW while all three answer and before the power step.
its = [k["power_kw"]["it"] for k in kpis]
assert any(v is not None and abs(v - 0.70) < 0.02 for v in its), its

# The engine took the reload for a reset (kind 2), never for a wrap or a glitch.
db = sqlite3.connect(f"file:{sys.argv[2]}?mode=ro", uri=True)
kinds = [k for (k,) in db.execute("SELECT c.kind FROM corrections c JOIN points p ON p.key = c.point"
                                  " WHERE p.id = 'gpus.gpu0.energy'")]
assert kinds == [2], kinds
print(f"ok: {len(e0)} energy samples, 1 reset, gpu2 invalid from its loss, IT power {max(i or 0 for i in its):.3f} kW")
PYEOF

# Selection by UUID and index, points named by UUID, and the library found by its default
# name (libnvidia-ml.so.1) through the dynamic linker's search path.
cat >"$work/select.yaml" <<'EOF'
collectors:
  - name: gpus
    type: nvml
    gpus: ["GPU-0c1d2e3f-0000-4000-8000-000000000002", 2]
    names: uuid
    power: instant
EOF
LD_LIBRARY_PATH="$FAKES${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    run_for 2.5 "$work/sel.jsonl" "$work/sel.err" -c "$work/select.yaml" --points \
    --state-dir "$work/state2" || { echo "FAIL: selection run exited $?"; cat "$work/sel.err"; exit 1; }
"$PY" - "$work/sel.jsonl" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ids = {r["point"] for r in rows}
for g, w in ((2, 150), (3, 300)):
    vals = {r["value"] for r in rows if r["point"] == f"gpus.GPU-0c1d2e3f-0000-4000-8000-00000000000{g}.power"}
    assert vals == {w}, (g, vals)
gpu_ids = {i for i in ids if ".health." not in i}
want = {f"gpus.GPU-0c1d2e3f-0000-4000-8000-00000000000{g}.{p}" for g in (2, 3)
        for p in ("power", "energy", "utilization", "memory_utilization", "power_limit")}
assert gpu_ids == want, sorted(gpu_ids ^ want)
print("ok: selected by UUID and index, named by UUID, default library name resolved")
PYEOF
# power: instant reads field 186 where the GPU has it and falls back where it does not.
grep -q "power field instant: Not Supported; using nvmlDeviceGetPowerUsage" "$work/sel.err" \
    || { cat "$work/sel.err"; exit 1; }
[ "$(grep -c "power field instant" "$work/sel.err")" -eq 1 ] || { cat "$work/sel.err"; exit 1; }

# A selection this machine cannot satisfy is a configuration error naming file:line:col.
cat >"$work/bad.yaml" <<EOF
collectors:
  - name: gpus
    type: nvml
    gpus: [0, 7]
    library: $FAKES/libnvidia-ml.so.1
EOF
"$DCMETRICS" run -c "$work/bad.yaml" --state-dir "$work/state3" >/dev/null 2>"$work/bad.err" &
pid=$!; sleep 1.5; kill -TERM "$pid" 2>/dev/null || true; wait "$pid" || true; pid=
grep -Eq "bad.yaml:4:[0-9]+: gpus: GPU index 7: this machine has 3 GPUs" "$work/bad.err" \
    || { echo "FAIL: bad index"; cat "$work/bad.err"; exit 1; }
echo "ok: an index beyond the GPUs is refused with its location"

# No driver: the collector is disabled with one clear message; the agent keeps running.
cat >"$work/nodriver.yaml" <<EOF
collectors:
  - name: gpus
    type: nvml
    library: $FAKES/libnvidia-ml.so.1
  - name: missing
    type: nvml
    library: $work/no-such-libnvidia-ml.so.1
EOF
unset DCM_FAKE_NVML
"$DCMETRICS" run -c "$work/nodriver.yaml" --state-dir "$work/state4" >/dev/null 2>"$work/nd.err" &
pid=$!; sleep 1.5
kill -0 "$pid" || { echo "FAIL: agent exited with its GPU collectors disabled"; cat "$work/nd.err"; exit 1; }
kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=
[ "$rc" -eq 0 ] || { echo "FAIL: exit $rc"; cat "$work/nd.err"; exit 1; }
grep -q "nvml/gpus: disabled: NVML initialisation failed: nvmlInit_v2: Driver Not Loaded (9)" "$work/nd.err" \
    || { cat "$work/nd.err"; exit 1; }
grep -q "nvml/missing: disabled: cannot load NVML (.*no-such-libnvidia-ml.so.1.*): the NVIDIA driver is not installed here" "$work/nd.err" \
    || { cat "$work/nd.err"; exit 1; }
[ "$(grep -c "disabled:" "$work/nd.err")" -eq 2 ] || { echo "FAIL: said more than once"; cat "$work/nd.err"; exit 1; }
echo "ok: missing driver and missing library disable the collector with one message each"
echo PASS
