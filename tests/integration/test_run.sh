#!/usr/bin/env bash
# `dcmetrics run` as a service manager runs it: starts with a configuration, writes the
# ledger under the state directory, stops cleanly (exit 0) on SIGTERM, and refuses (exit 2,
# file:line:column) a configuration it cannot honour.
set -euo pipefail
: "${DCMETRICS:?DCMETRICS must point at the dcmetrics binary}"
PY=${DCM_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$DCMETRICS" run -c "$DCM_SOURCE_DIR/examples/minimal.yaml" --state-dir "$work/state" \
    2>"$work/run.err" &
pid=$!
sleep 3
kill -TERM "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: run exited $rc after SIGTERM"; cat "$work/run.err"; exit 1; }
grep -q "starting: 1 collectors" "$work/run.err" || { echo "FAIL: no start line"; cat "$work/run.err"; exit 1; }
grep -q "stopped" "$work/run.err" || { echo "FAIL: no stop line"; exit 1; }
"$PY" - "$work/state/ledger.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
ids = {r[0] for r in db.execute("SELECT id FROM points")}
assert "facility.total.energy" in ids and "facility.it.hall-a.energy" in ids, ids
PYEOF
echo "ok: clean stop, ledger written"

# A configuration it cannot honour: an output option out of range, named at file:line:column.
sed 's/^    qos: 1$/    qos: 3/' "$DCM_SOURCE_DIR/examples/site.yaml" >"$work/bad.yaml"
set +e
timeout 20 "$DCMETRICS" run -c "$work/bad.yaml" --state-dir "$work/state2" 2>"$work/refuse.err"
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "FAIL: bad output option accepted (exit $rc)"; cat "$work/refuse.err"; exit 1; }
grep -Eq "bad.yaml:[0-9]+:[0-9]+: error: outputs.mqtt.qos" "$work/refuse.err" || { cat "$work/refuse.err"; exit 1; }
echo "ok: refuses a bad output option with file:line:column"

set +e
"$DCMETRICS" run >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "FAIL: run without -c exited $rc"; exit 1; }
echo PASS
