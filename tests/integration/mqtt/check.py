"""Checks what the recording subscriber got (tests/integration/test_mqtt_*.sh).

  check.py schemas RECORDED SCHEMA_DIR
      every payload is valid against the JSON Schema of its topic (point, kpi, status,
      alert), and has "ts"; prints the number checked per kind.
  check.py complete RECORDED PREFIX POINTS[@CUTOFF] ...
      every sample the agent printed with --points (in POINTS files; with @CUTOFF only
      samples with ts before CUTOFF, Unix seconds) reached the subscriber on
      PREFIX/point/<collector>/<point> with the same ts and value ("zero missing"), nothing
      arrived that was not printed, and per topic the first arrival of each ts is in ts
      order. Prints expected, received, duplicates.
"""
import json
import re
import sys
from datetime import datetime


def epoch(ts):
    ts = re.sub(r"(\.\d{6})\d+", r"\1", ts)
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def recorded(path):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                yield json.loads(line)


def kind_of(topic):
    levels = topic.split("/")
    for k in ("point", "kpi", "status", "alert"):
        if k in levels[2:]:
            return k
    raise SystemExit("FAIL: unexpected topic " + topic)


def schemas(rec_path, schema_dir):
    import jsonschema
    val = {}
    for k in ("point", "kpi", "status", "alert"):
        with open("%s/mqtt-%s.schema.json" % (schema_dir, k)) as f:
            s = json.load(f)
        jsonschema.Draft202012Validator.check_schema(s)
        val[k] = jsonschema.Draft202012Validator(s)
    counts = {}
    for m in recorded(rec_path):
        k = kind_of(m["topic"])
        doc = json.loads(m["payload"])
        errs = sorted(val[k].iter_errors(doc), key=str)
        if errs:
            raise SystemExit("FAIL: %s payload %s: %s" % (m["topic"], m["payload"][:300],
                                                           errs[0].message[:300]))
        if k == "point":
            coll, point = doc["point"].split(".", 1)
            want = "/point/%s/%s" % (coll, point)
            assert m["topic"].endswith(want), (m["topic"], doc["point"])
        counts[k] = counts.get(k, 0) + 1
    print("valid payloads:", counts)
    return counts


def complete(rec_path, prefix, sources):
    expected = {}
    printed = set()
    for src in sources:
        path, _, cut = src.partition("@")
        cutoff = float(cut) if cut else None
        for line in open(path):
            line = line.strip()
            if not line:
                continue
            s = json.loads(line)
            coll, point = s["point"].split(".", 1)
            topic = "%s/point/%s/%s" % (prefix, coll, point)
            printed.add((topic, s["ts"]))
            if cutoff is None or epoch(s["ts"]) < cutoff:
                expected[(topic, s["ts"])] = s["value"]
    got = {}
    first_order = {}
    dups = 0
    for m in recorded(rec_path):
        if "/point/" not in m["topic"]:
            continue
        doc = json.loads(m["payload"])
        key = (m["topic"], doc["ts"])
        if key in got:
            if doc["value"] in got[key]:
                dups += 1
            else:
                # A restarted collector may stamp its first poll with the same instant as
                # the last poll of the killed process, with another value: both count.
                got[key].append(doc["value"])
            continue
        got[key] = [doc["value"]]
        first_order.setdefault(m["topic"], []).append(epoch(doc["ts"]))
    if not expected:
        raise SystemExit("FAIL: no samples to compare (empty --points output or cutoff)")
    missing = [k for k in expected if k not in got]
    wrong = [k for k in expected if k in got and expected[k] not in got[k]]
    phantom = [k for k in got if k not in printed]
    if phantom:
        raise SystemExit("FAIL: %d samples the agent never printed, e.g. %s"
                         % (len(phantom), phantom[:3]))
    print("expected %d samples, received %d distinct, %d duplicates, %d missing"
          % (len(expected), len(got), dups, len(missing)))
    if missing:
        missing.sort(key=lambda k: epoch(k[1]))
        raise SystemExit("FAIL: %d samples never arrived, e.g. %s" % (len(missing), missing[:5]))
    if wrong:
        raise SystemExit("FAIL: values differ, e.g. %s" % wrong[:3])
    for topic, ts in first_order.items():
        for a, b in zip(ts, ts[1:]):
            if b <= a:
                raise SystemExit("FAIL: %s out of order: %s after %s" % (topic, b, a))
    return len(expected)


if __name__ == "__main__":
    if sys.argv[1] == "schemas":
        schemas(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "complete":
        complete(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        raise SystemExit("usage: check.py schemas|complete ...")
