#!/usr/bin/env bash
# The HTTP API (docs/http.md) against a running agent: every endpoint, content types,
# errors (400/401/404/405 as JSON), the live page's files, the event stream (kpi and
# points events), 50 concurrent clients, /metrics checked by promtool, a taken port,
# basic and bearer authentication, and HTTPS with a certificate made here by openssl.
set -euo pipefail
: "${DCMETRICS:?DCMETRICS must point at the dcmetrics binary}"
PY=${DCM_PYTHON:-/usr/bin/python3}
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$work"/*.err; do echo "== $f"; tail -20 "$f"; done; exit 1; }

free_port() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_ready() { # URL [curl options...]
    local url=$1; shift
    for _ in $(seq 1 100); do
        if curl -fsS -o /dev/null "$@" "$url" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    return 1
}

# ---------------------------------------------------------------- the demo, plain HTTP
port=$(free_port)
base="http://127.0.0.1:$port"
"$DCMETRICS" demo --json --meters sim --speed 60 --http "127.0.0.1:$port" \
    --state-dir "$work/demo-state" >"$work/demo.out" 2>"$work/demo.err" &
pids+=($!)
wait_ready "$base/healthz" || fail "the demo does not answer on $base"
grep -q "live dashboard and API at http://127.0.0.1:$port/" "$work/demo.err" ||
    fail "the demo does not print its URL"
echo "ok: demo serves on $base"

"$PY" - "$base" "$DCM_SOURCE_DIR/dashboards/web" <<'PYEOF'
import json, os, sys, threading, time, urllib.error, urllib.request
base, web = sys.argv[1], sys.argv[2]

def get(path, method="GET", headers=None):
    req = urllib.request.Request(base + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()

def get_json(path, want=200):
    st, h, body = get(path)
    assert st == want, (path, st, body[:300])
    assert h["Content-Type"] == "application/json", (path, h)
    return json.loads(body)

def error(path, want, method="GET", needle=None):
    st, h, body = get(path, method)
    assert st == want, (path, method, st, body[:200])
    assert h["Content-Type"] == "application/json", (path, h)
    doc = json.loads(body)
    assert isinstance(doc.get("error"), str) and doc["error"], doc
    if needle:
        assert needle in doc["error"], doc
    return h

# Probes.
assert get_json("/healthz") == {"status": "ok"}
deadline = time.time() + 10
while True:
    st, _, body = get("/readyz")
    if st == 200:
        assert json.loads(body) == {"ready": True}, body
        break
    assert st == 503 and json.loads(body)["ready"] is False, (st, body)
    assert time.time() < deadline, body
    time.sleep(0.2)

# KPI: the instant record at once; at 60x a closed minute within a few seconds.
deadline = time.time() + 20
while True:
    doc = get_json("/api/v1/kpi")
    wins = {(r["window"], r["interim"]) for r in doc["records"]}
    inst = [r for r in doc["records"] if r["window"] == "instant"]
    if any(w == "1m" and not i for w, i in wins) and inst and inst[0]["kpi"]["pue"] is not None:
        break
    assert time.time() < deadline, wins
    time.sleep(0.3)
assert doc["site"] == "demo-hall" and doc["site_name"] == "Demo Hall (simulated)", doc.keys()
assert "pue_target" in doc and doc["pue_target"] is None, doc.get("pue_target")
inst = [r for r in doc["records"] if r["window"] == "instant"]
assert len(inst) == 1, inst
pk = inst[0]["power_kw"]
# The demo meters the total: PUE is E_DC / E_IT with E_DC = total, as powers.
assert abs(inst[0]["kpi"]["pue"] - pk["total"] / pk["it"]) < 1e-9, (inst[0]["kpi"], pk)
assert 1.0 < inst[0]["kpi"]["pue"] < 3.0
for r in doc["records"]:
    for key in ("site", "window", "interim", "from", "to", "kpi", "coverage", "quality", "ruleset"):
        assert key in r, (key, r.keys())
one = get_json("/api/v1/kpi?window=1m")
assert one["records"] and {r["window"] for r in one["records"]} == {"1m"}, one["records"]
two = get_json("/api/v1/kpi?window=instant,1m")
assert {r["window"] for r in two["records"]} == {"instant", "1m"}
closed_1m = [r for r in one["records"] if not r["interim"]][0]
# A closed minute is exactly one minute long.
from datetime import datetime
span = datetime.fromisoformat(closed_1m["to"]) - datetime.fromisoformat(closed_1m["from"])
assert span.total_seconds() == 60, closed_1m

error("/api/v1/kpi?window=week", 400, needle="week")
error("/api/v1/kpi?window=", 400)
error("/api/v1/kpi?foo=1", 400, needle="foo")
error("/api/v1/kpi?window=1m&window=1h", 400, needle="twice")
error("/api/v1/kpi?window", 400, needle="needs a value")
error("/api/v1/events?points=maybe", 400)

# Points.
pts = get_json("/api/v1/points")["points"]
ids = [p["id"] for p in pts]
assert "facility.total.energy" in ids and ids == sorted(ids), ids[:5]
for p in pts:
    assert set(p) == {"id", "collector", "point", "value", "unit", "ts", "quality", "kind"}, p
    assert p["id"] == p["collector"] + "." + p["point"]
total = [p for p in pts if p["id"] == "facility.total.energy"][0]
assert total["unit"] == "kWh" and total["kind"] == "counter" and total["value"] > 0, total
assert total["quality"] == "ok", total
only = get_json("/api/v1/points?collector=facility")["points"]
assert len(only) == len(pts)
assert get_json("/api/v1/points?collector=nothere")["points"] == []
error("/api/v1/points?collector=", 400)

# Devices and alerts.
dev = get_json("/api/v1/devices")
assert [d["name"] for d in dev["devices"]] == ["facility"], dev
d = dev["devices"][0]
assert d["up"] is True and d["type"] == "sim" and d["polls"] > 0 and d["last_error"] is None, d
assert dev["outputs"] is None
assert get_json("/api/v1/alerts") == {"alerts": []}

# Unknown paths and methods.
error("/nope", 404)
error("/api/v1/nope", 404)
error("/../../etc/passwd", 404)
h = error("/api/v1/kpi", 405, method="POST")
assert h["Allow"] == "GET, HEAD", h
error("/metrics", 405, method="DELETE")
st, h, body = get("/api/v1/kpi", method="HEAD")
assert st == 200 and body == b"", (st, body)

# The live page: every file under dashboards/web is served as it is, with its type.
types = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
files = []
if os.path.isdir(web):
    for root, _, names in os.walk(web):
        for n in names:
            if not n.startswith("."):
                files.append(os.path.relpath(os.path.join(root, n), web))
for rel in files:
    st, h, body = get("/" + rel)
    assert st == 200, (rel, st)
    assert body == open(os.path.join(web, rel), "rb").read(), rel
    ext = os.path.splitext(rel)[1]
    if ext in types:
        assert h["Content-Type"] == types[ext], (rel, h["Content-Type"])
    etag = h["ETag"]
    assert etag.startswith('"') and h["Cache-Control"] == "no-cache", h
    st, h2, body = get("/" + rel, headers={"If-None-Match": etag})
    assert st == 304 and body == b"", (rel, st)
if "index.html" in files:
    st, h, body = get("/")
    assert st == 200 and h["Content-Type"] == "text/html; charset=utf-8"
    assert body == open(os.path.join(web, "index.html"), "rb").read()
else:
    error("/", 404)
print("ok: %d page files, kpi, points, devices, errors" % len(files))

# The event stream: the prelude, kpi events (instant and closed), a points event.
import socket
host, port = base[len("http://"):].split(":")
s = socket.create_connection((host, int(port)), timeout=10)
# HTTP/1.0: the stream comes as it is, without chunked framing.
s.sendall(b"GET /api/v1/events HTTP/1.0\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
buf = b""
deadline = time.time() + 15
events = []
while time.time() < deadline:
    chunk = s.recv(65536)
    assert chunk, "stream closed"
    buf += chunk
    text = buf.decode("utf-8", "replace")
    blocks = text.split("\n\n")
    events = []
    for b in blocks:
        name = None
        data = []
        for line in b.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if name:
            events.append((name, "\n".join(data)))
    names = [e[0] for e in events]
    if "points" in names[:-1] and any(n == "kpi" and json.loads(d)["window"] == "1m"
                                      for n, d in events[:-1]):
        break
s.close()
head = buf.split(b"\r\n\r\n", 1)[0].decode()
assert "200 OK" in head.split("\r\n")[0] and "text/event-stream" in head, head
assert "retry: 3000" in buf.decode("utf-8", "replace"), buf[:200]
kinds = {}
for n, d in events:
    kinds.setdefault(n, []).append(d)
assert "kpi" in kinds and "points" in kinds, list(kinds)
ev_points = json.loads(kinds["points"][0])["points"]
assert ev_points and all("id" in p and "value" in p for p in ev_points), ev_points[:2]
ids_in_event = [p["id"] for p in ev_points]
assert len(ids_in_event) == len(set(ids_in_event)), "a point twice in one coalesced event"
print("ok: event stream (%d events: %s)" % (len(events), sorted(kinds)))

# 50 concurrent clients (and 10 event streams held open meanwhile).
streams = []
for _ in range(10):
    c = socket.create_connection((host, int(port)), timeout=10)
    c.sendall(b"GET /api/v1/events?points=0 HTTP/1.1\r\nHost: x\r\n\r\n")
    streams.append(c)
results = []
lock = threading.Lock()
def client(i):
    path = ["/api/v1/kpi", "/metrics", "/api/v1/points", "/api/v1/devices", "/healthz"][i % 5]
    st, _, body = get(path)
    with lock:
        results.append((st, len(body)))
threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
for t in threads: t.start()
for t in threads: t.join()
assert len(results) == 50 and all(st == 200 and n > 0 for st, n in results), results
for c in streams:
    first = c.recv(4096)
    assert b"200 OK" in first, first[:100]
    c.close()
print("ok: 50 concurrent requests with 10 open streams")
PYEOF

curl -fsS -D "$work/metrics.h" "$base/metrics" -o "$work/metrics.txt"
grep -qi "^content-type: text/plain; version=0.0.4; charset=utf-8" "$work/metrics.h" ||
    fail "metrics content type: $(cat "$work/metrics.h")"
promtool check metrics <"$work/metrics.txt" || fail "promtool rejects /metrics"
grep -q '^dcm_pue{window="instant",category="2"} ' "$work/metrics.txt" || fail "no dcm_pue"
grep -q '^dcm_energy_kwh_total{role="it"} ' "$work/metrics.txt" || fail "no energy counter"
grep -q '^dcm_point_value{collector="facility",point="total.energy",unit="kWh"} ' "$work/metrics.txt" ||
    fail "no point value"
grep -q '^dcm_device_up{device="facility",type="sim"} 1$' "$work/metrics.txt" || fail "no device_up"
if grep -Eiq ' (nan|[+-]?inf)$' "$work/metrics.txt"; then fail "NaN or Inf in /metrics"; fi
echo "ok: /metrics passes promtool ($(grep -vc '^#' "$work/metrics.txt") samples)"

# A taken port asked for explicitly is an error (exit 1), said once.
rc=0
"$DCMETRICS" demo --json --meters sim --http "127.0.0.1:$port" --duration 5s \
    >/dev/null 2>"$work/taken.err" || rc=$?
[ "$rc" -eq 1 ] || fail "a taken port gave exit $rc"
grep -q "127.0.0.1:$port: Address already in use" "$work/taken.err" || fail "taken port: $(cat "$work/taken.err")"
rc=0
"$DCMETRICS" demo --json --http "nonsense" >/dev/null 2>"$work/bad.err" || rc=$?
[ "$rc" -eq 2 ] || fail "a bad --http gave exit $rc"
echo "ok: taken port and bad address refused"

# A client that stops reading loses events (counted); the others do not notice.
sport=$(free_port)
"$DCMETRICS" demo --json --meters sim --speed 100000 --http "127.0.0.1:$sport" \
    --state-dir "$work/slow-state" >/dev/null 2>"$work/slow.err" &
slow_pid=$!
pids+=($slow_pid)
wait_ready "http://127.0.0.1:$sport/readyz" || fail "the fast demo does not answer"
"$PY" - "$sport" <<'PYEOF'
import socket, sys, time, urllib.request
port = int(sys.argv[1])
stalled = socket.create_connection(("127.0.0.1", port))
stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
stalled.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: x\r\n\r\n")
def dropped():
    m = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=10).read().decode()
    return float([l for l in m.splitlines() if l.startswith("dcm_http_events_dropped_total ")][0].split()[1])
deadline = time.time() + 20
while dropped() == 0:
    assert time.time() < deadline, "no event dropped for a client that reads nothing"
    time.sleep(0.5)
healthy = socket.create_connection(("127.0.0.1", port), timeout=10)
healthy.sendall(b"GET /api/v1/events?window=1d HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
while data.count(b"event: kpi") < 3:
    chunk = healthy.recv(65536)
    assert chunk
    data += chunk
print("ok: a stalled client loses events (%d so far), another gets its own" % dropped())
PYEOF
kill -TERM "$slow_pid"
rc=0; wait "$slow_pid" || rc=$?
[ "$rc" -eq 0 ] || fail "the fast demo exited $rc with a stalled client"
pids=("${pids[@]/$slow_pid}")

# ------------------------------------------------- run -c with HTTPS and credentials
tport=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
hash=$(printf '%s' 'b0b-s3cret' | sha256sum | cut -d' ' -f1)
cat >"$work/users" <<EOF2
# users of the API
alice:wonder land
bob:sha256:$hash
tok3n-for-prometheus
EOF2
cp "$DCM_SOURCE_DIR/examples/minimal.yaml" "$work/run.yaml"
cat >>"$work/run.yaml" <<EOF2
outputs:
  http:
    listen: 127.0.0.1:$tport
    auth_file: $work/users
    tls_cert: $work/cert.pem
    tls_key: $work/key.pem
    pue_target: 1.25
alerts:
  - {name: pue-live, kpi: pue, window: instant, above: 1.0, for: 5s}
EOF2
"$DCMETRICS" run -c "$work/run.yaml" --state-dir "$work/run-state" 2>"$work/run.err" &
pids+=($!)
tbase="https://127.0.0.1:$tport"
wait_ready "$tbase/readyz" --cacert "$work/cert.pem" || fail "run does not serve HTTPS"
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$work/cert.pem" "$@"; }
[ "$(code "$tbase/api/v1/kpi")" = 401 ] || fail "no credentials accepted"
curl -s -D - -o "$work/401.json" --cacert "$work/cert.pem" "$tbase/metrics" |
    grep -qi '^www-authenticate: Basic realm="dcmetrics"' || fail "no basic challenge"
grep -q '"error"' "$work/401.json" || fail "401 without a JSON error"
[ "$(code -u 'alice:wonder land' "$tbase/api/v1/kpi")" = 200 ] || fail "alice refused"
[ "$(code -u 'alice:wonder' "$tbase/api/v1/kpi")" = 401 ] || fail "a wrong password accepted"
[ "$(code -u 'bob:b0b-s3cret' "$tbase/metrics")" = 200 ] || fail "bob (sha256) refused"
[ "$(code -u 'mallory:b0b-s3cret' "$tbase/metrics")" = 401 ] || fail "an unknown user accepted"
[ "$(code -H 'Authorization: Bearer tok3n-for-prometheus' "$tbase/metrics")" = 200 ] ||
    fail "the bearer token refused"
[ "$(code -H 'Authorization: Bearer wrong' "$tbase/metrics")" = 401 ] || fail "a wrong token accepted"
[ "$(code "$tbase/healthz")" = 200 ] || fail "/healthz needs credentials"
[ "$(code "$tbase/readyz")" != 401 ] || fail "/readyz needs credentials"
[ "$(code -u 'alice:wonder land' "$tbase/nope")" = 404 ] || fail "unknown path with credentials"
if curl -fsS -o /dev/null --max-time 3 "http://127.0.0.1:$tport/healthz" 2>/dev/null; then
    fail "plain HTTP answered on the TLS port"
fi
curl -fsS --cacert "$work/cert.pem" -H 'Authorization: Bearer tok3n-for-prometheus' \
    "$tbase/metrics" | promtool check metrics || fail "promtool rejects /metrics over TLS"
echo "ok: HTTPS, basic (clear and sha256), bearer, open probes"

# An alert rule that fires 5 s after start reaches the event stream and /api/v1/alerts.
"$PY" - "$tport" "$work/cert.pem" <<'PYEOF'
import json, socket, ssl, sys, time, urllib.request
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
raw = socket.create_connection(("127.0.0.1", port), timeout=20)
s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
s.sendall(b"GET /api/v1/events?kpi=0&points=0 HTTP/1.0\r\nHost: x\r\n"
          b"Authorization: Bearer tok3n-for-prometheus\r\n\r\n")
data = b""
deadline = time.time() + 20
while b"event: alert" not in data or b"\n\n" not in data[data.find(b"event: alert"):]:
    assert time.time() < deadline, data[-300:]
    data += s.recv(65536)
text = data.decode()
assert "event: kpi" not in text and "event: points" not in text, text[:400]
block = text[text.index("event: alert"):].split("\n\n")[0]
alert = json.loads("".join(l[6:] for l in block.split("\n") if l.startswith("data: ")))
assert alert["rule"] == "pue-live" and alert["state"] == "firing", alert
kreq = urllib.request.Request("https://127.0.0.1:%d/api/v1/kpi?window=1m" % port,
                              headers={"Authorization": "Bearer tok3n-for-prometheus"})
kdoc = json.loads(urllib.request.urlopen(kreq, context=ctx, timeout=10).read())
assert kdoc["pue_target"] == 1.25, kdoc.get("pue_target")
req = urllib.request.Request("https://127.0.0.1:%d/api/v1/alerts" % port,
                             headers={"Authorization": "Bearer tok3n-for-prometheus"})
doc = json.loads(urllib.request.urlopen(req, context=ctx, timeout=10).read())
assert [a["rule"] for a in doc["alerts"]] == ["pue-live"], doc
print("ok: alert event over TLS, listed at /api/v1/alerts")
PYEOF

# With an output configured, /api/v1/devices, /metrics and /readyz report the journal and
# the sink (an InfluxDB output pointed at a closed port: disconnected, data pending).
oport=$(free_port)
cp "$DCM_SOURCE_DIR/examples/minimal.yaml" "$work/out.yaml"
cat >>"$work/out.yaml" <<EOF2
outputs:
  influxdb: {url: "http://127.0.0.1:$(free_port)", database: dcm}
  http: {listen: "127.0.0.1:$oport"}
EOF2
"$DCMETRICS" run -c "$work/out.yaml" --state-dir "$work/out-state" 2>"$work/out.err" &
out_pid=$!
if wait_ready "http://127.0.0.1:$oport/readyz"; then
    pids+=($out_pid)
    "$PY" - "$oport" <<'PYEOF'
import json, sys, time, urllib.request
base = "http://127.0.0.1:%s" % sys.argv[1]
deadline = time.time() + 15
while True:
    out = json.loads(urllib.request.urlopen(base + "/api/v1/devices", timeout=10).read())["outputs"]
    if out["journal"]["appended"] > 0 and out["sinks"][0]["failures"] > 0:
        break
    assert time.time() < deadline, out
    time.sleep(0.3)
assert out["journal"]["writable"] is True, out
sink = out["sinks"][0]
assert sink["name"] == "influxdb" and sink["connected"] is False and sink["pending"] > 0, sink
assert sink["last_error"], sink
m = urllib.request.urlopen(base + "/metrics", timeout=10).read().decode()
assert "\ndcm_journal_writable 1\n" in m and '\ndcm_sink_connected{sink="influxdb"} 0\n' in m
print("ok: journal and sink in /api/v1/devices and /metrics")
PYEOF
else
    if kill -0 "$out_pid" 2>/dev/null; then
        kill "$out_pid"; wait "$out_pid" || true
        fail "run with an output is not ready after 10 s"
    fi
    rc=0; wait "$out_pid" || rc=$?
    grep -q "has no influxdb output" "$work/out.err" || fail "run with an output: exit $rc"
    echo "skip: this build has no InfluxDB output"
fi

# A bad credentials file stops `run` before anything starts (exit 2, file:line).
printf 'good-token\nbad token\n' >"$work/bad-users"
sed "s|$work/users|$work/bad-users|; s|$tport|$(free_port)|" "$work/run.yaml" >"$work/bad.yaml"
rc=0
"$DCMETRICS" run -c "$work/bad.yaml" --state-dir "$work/bad-state" 2>"$work/badauth.err" || rc=$?
[ "$rc" -eq 2 ] || fail "a bad auth file gave exit $rc"
grep -q "bad-users:2: expected" "$work/badauth.err" || fail "bad auth: $(cat "$work/badauth.err")"
echo "ok: bad auth file refused with its line"

live=()
for p in "${pids[@]}"; do [ -n "$p" ] && live+=("$p"); done
kill -TERM "${live[@]}"
for p in "${live[@]}"; do
    rc=0; wait "$p" || rc=$?
    [ "$rc" -eq 0 ] || fail "an agent exited $rc on SIGTERM with clients connected"
done
pids=()
echo PASS
