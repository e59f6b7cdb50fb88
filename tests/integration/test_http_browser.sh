#!/usr/bin/env bash
# The live page in a real browser (Debian's headless Chromium, driven over the DevTools
# protocol by tests/integration/web/browser_check.py):
#  - `dcmetrics run` with the built-in Modbus demo hall against a separate
#    `dcmetrics simulate`, serving the page and the API on a free loopback port, with an
#    offline alert rule;
#  - the page goes live from the event stream, its PUE equals /api/v1/kpi's instant PUE
#    for the same record, and no NaN/undefined is shown;
#  - the simulator silences the PV meter's unit: the page lists `pv` offline at the top of
#    the device table and shows the alert;
#  - screenshots before and after are kept in the build directory
#    (tests/artifacts/live-page.png, live-page-offline.png).
# Takes about 20-30 s.
set -euo pipefail
source "$DCM_SOURCE_DIR/tests/integration/lib.sh"
: "${DCM_BINARY_DIR:?DCM_BINARY_DIR must point at the build tree}"
CHROMIUM=${DCM_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
    echo "FAIL: no Chromium at $CHROMIUM (apt-get install chromium, or run tests/install-deps.sh)"
    exit 1
fi

artifacts="$DCM_BINARY_DIR/tests/artifacts"
mkdir -p "$artifacts" "$work/profile" "$work/state"

fail() {
    echo "FAIL: $*"
    for f in "$work"/*.err "$work"/*.out; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }
    done
    [ -f "$work/profile/chromium.log" ] && { echo "--- chromium"; grep -v dbus "$work/profile/chromium.log" | tail -n 20; }
    exit 1
}

# The facility simulator; SIGUSR1 silences unit 3 (the PV meter, collector `pv`).
"$DCMETRICS" simulate --listen 127.0.0.1:0 --fail-unit 3 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
server_pids+=("$sim_pid")
for _ in $(seq 1 100); do
    grep -q '^listening' "$work/sim.out" 2>/dev/null && break
    kill -0 "$sim_pid" 2>/dev/null || fail "the simulator exited"
    sleep 0.1
done
sim_addr=$(sed -n 's/^listening \(.*\)$/\1/p' "$work/sim.out" | head -1)
[ -n "$sim_addr" ] || fail "no 'listening' line from the simulator"

http_port=$(free_port)
sed "s|tcp://127.0.0.1:1502|tcp://$sim_addr|" "$DCM_SOURCE_DIR/examples/demo-modbus.yaml" \
    >"$work/site.yaml"
cat >>"$work/site.yaml" <<EOF
outputs:
  http:
    listen: 127.0.0.1:$http_port
alerts:
  - {name: device-offline, device: "*", offline_for: 2, severity: critical}
  - {name: pue-high, kpi: pue, window: 1m, above: 3.0}
EOF
sed -i "s|^  log_level: info|  log_level: info\n  state_dir: $work/state|" "$work/site.yaml"
"$DCMETRICS" check -c "$work/site.yaml" --quiet || fail "the test configuration is invalid"

"$DCMETRICS" run -c "$work/site.yaml" >"$work/run.out" 2>"$work/run.err" &
run_pid=$!
server_pids+=("$run_pid")
url="http://127.0.0.1:$http_port/"
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "${url}healthz" 2>/dev/null && break
    kill -0 "$run_pid" 2>/dev/null || fail "dcmetrics run exited"
    sleep 0.1
done
curl -fsS -o "$work/index.html" "$url" || fail "GET / failed"
grep -q '<script src="app.js">' "$work/index.html" || fail "GET / is not the live page"
# The page names no external URL (it must work with no internet).
for f in index.html app.js style.css; do
    curl -fsS -o "$work/$f" "$url$f" || fail "GET /$f failed"
    ext=$(grep -Eo '(https?:)?//[a-zA-Z0-9.-]+\.[a-z]{2,}[^"'"'"' )]*' "$work/$f" \
        | grep -v '^http://www.w3.org/2000/svg$' || true)
    [ -z "$ext" ] || fail "/$f refers to external URLs: $ext"
done
echo "ok: page, script and style served; no external URL"

"$PY" "$DCM_SOURCE_DIR/tests/integration/web/browser_check.py" "$CHROMIUM" "$url" \
    "$work/profile" "$artifacts" "$sim_pid" pv device-offline || fail "browser check"

grep -q 'alert: device-offline firing: pv offline' "$work/run.err" \
    || fail "the offline alert was not logged"
[ "$(grep -c 'alert: device-offline firing' "$work/run.err")" -eq 1 ] \
    || fail "the offline alert was logged more than once"
echo "ok: alert logged once; screenshots in $artifacts"
