#!/usr/bin/env bash
# The rocm collector against the fake ROCm SMI library the build makes (tests/fakes/
# fake_rocm_smi.c), loaded through the collector's real dlopen() path: the energy counter
# (count x resolution) advances as the power says; a GPU without a power reading has no
# power point; a GPU that stops answering has its points invalid and comes back. Also
# `dcmetrics probe rocm` and the default library search. About 12 s.
set -euo pipefail
: "${DCMETRICS:?DCMETRICS must point at the dcmetrics binary}"
PY=${DCM_PYTHON:-/usr/bin/python3}
FAKES="$DCM_BINARY_DIR/fakes"
[ -f "$FAKES/librocm_smi64.so" ] || { echo "FAIL: $FAKES/librocm_smi64.so not built"; exit 1; }
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/gpus.txt" <<'EOF'
gpu 0 power=550 energy=1000000000000 resolution=15.259 busy=70
gpu 1 power=unsupported energy=2000000 resolution=1 busy=30
at 2.5 gpu 1 fail=1
at 4.5 gpu 1 fail=0
EOF
cat >"$work/site.yaml" <<EOF
agent:
  interval: 1s
collectors:
  - name: mi
    type: rocm
    library: $FAKES/librocm_smi64.so
EOF
export DCM_FAKE_ROCM="$work/gpus.txt"
"$DCMETRICS" run -c "$work/site.yaml" --points --state-dir "$work/state" >"$work/out.jsonl" 2>"$work/err.txt" &
pid=$!; sleep 6.5; kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?; pid=
[ "$rc" -eq 0 ] || { echo "FAIL: run exited $rc"; cat "$work/err.txt"; exit 1; }
grep -q "gpu1 does not answer (RSMI_STATUS_FILE_ERROR)" "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
grep -q "gpu1 answers again" "$work/err.txt" || { cat "$work/err.txt"; exit 1; }
"$PY" - "$work/out.jsonl" <<'PYEOF'
import json, sys
from datetime import datetime
def ts(s):
    base, frac = (s.rstrip("Z").split(".") + ["0"])[:2]
    return datetime.fromisoformat(base).timestamp() + float("0." + frac)
pts = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    pts.setdefault(r["point"], []).append((ts(r["ts"]), r["value"], r["quality"], r["unit"]))
gpu = {p for p in pts if ".health." not in p}
assert gpu == {"mi.gpu0.power", "mi.gpu0.energy", "mi.gpu0.utilization",
               "mi.gpu1.energy", "mi.gpu1.utilization"}, sorted(gpu)
e = pts["mi.gpu0.energy"]
assert e[0][3] == "J" and 1e6 <= e[0][1] < 1e6 + 550, e[0]  # 1e12 uJ = 1e6 J, plus < 1 s at 550 W
# The first poll is stamped with the agent's start time, read a little later: rates from
# the second sample on.
for (ta, ea, *_), (tb, eb, *_) in zip(e[1:], e[2:]):
    rate = (eb - ea) / (tb - ta)
    assert abs(rate - 550) < 0.05 * 550, rate
assert all(v == 550 for _, v, *_ in pts["mi.gpu0.power"])
assert all(v == 70 for _, v, *_ in pts["mi.gpu0.utilization"])
q1 = [q for _, _, q, _ in pts["mi.gpu1.energy"]]
# ok, then invalid while it fails (2.5 s to 4.5 s: two polls), then ok again
assert q1[:2] == ["ok", "ok"] and q1.count("invalid") == 2 and q1[-1] == "ok", q1
assert all(q == "ok" for _, _, q, _ in pts["mi.gpu0.energy"])
print(f"ok: {len(e)} energy samples at 550 W, gpu1 invalid for 2 polls and back")
PYEOF

# probe, with the library found by the default search (librocm_smi64.so on LD_LIBRARY_PATH)
LD_LIBRARY_PATH="$FAKES${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    "$DCMETRICS" probe rocm --seconds 2 >"$work/probe.txt"
grep -q "^ROCm SMI: librocm_smi64.so, 2 GPUs" "$work/probe.txt" || { cat "$work/probe.txt"; exit 1; }
grep -Eq "^gpu0 +energy \+1[01][0-9][0-9]\.[0-9]+ J in 2\.[0-9] s = 5[45][0-9]\.[0-9] W average" "$work/probe.txt" \
    || { cat "$work/probe.txt"; exit 1; }
echo "ok: probe rocm"

unset DCM_FAKE_ROCM
set +e
"$DCMETRICS" probe rocm --library "$FAKES/librocm_smi64.so" --seconds 0 >/dev/null 2>"$work/probe.err"
rc=$?
set -e
[ "$rc" -eq 1 ] || { echo "FAIL: probe without a driver exited $rc"; exit 1; }
grep -q "ROCm SMI initialisation failed: rsmi_init: RSMI_STATUS_FILE_ERROR (3)" "$work/probe.err" \
    || { cat "$work/probe.err"; exit 1; }
echo PASS
