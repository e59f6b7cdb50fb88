"""Compares the samples an agent printed (`dcmetrics run --points`) with what a database
holds, by (point, timestamp in ms). Usage:

  compare.py influx URL DB [USER:PASS] -- FILE[:CUTOFF_NS] ...
  compare.py vm URL -- FILE[:CUTOFF_NS] ...

A sample is expected when its timestamp is at or before the file's cut-off (0 or absent:
every sample). For VictoriaMetrics, which keeps numbers only, samples without a value are
not expected. Exits 1 and lists a few missing samples when any is missing."""
import base64
import json
import re
import sys
import urllib.parse
import urllib.request

TS = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def ts_ns(text):
    import calendar
    m = TS.match(text)
    if not m:
        raise ValueError("bad timestamp " + text)
    y, mo, d, h, mi, s, frac, off = m.groups()
    secs = calendar.timegm((int(y), int(mo), int(d), int(h), int(mi), int(s)))
    if off != "Z":
        sign = 1 if off[0] == "+" else -1
        secs -= sign * (int(off[1:3]) * 3600 + int(off[4:6]) * 60)
    ns = int((frac or "0").ljust(9, "0")[:9])
    return secs * 1_000_000_000 + ns


def expected(files, numbers_only):
    want = set()
    total = 0
    for spec in files:
        path, _, cut = spec.partition(":")
        cut = int(cut or 0)
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    s = json.loads(line)
                except ValueError:
                    continue  # a line cut short by kill -9
                total += 1
                t = ts_ns(s["ts"])
                if cut and t > cut:
                    continue
                if numbers_only and s.get("value") is None:
                    continue
                want.add((s["point"], t // 1_000_000))
    return want, total


def get(url, auth=None, data=None):
    req = urllib.request.Request(url, data=data)
    if auth:
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read().decode()


def stored_influx(url, db, auth):
    q = urllib.parse.urlencode({"db": db, "epoch": "ms",
                                "q": "SELECT quality FROM dcm_point GROUP BY point"})
    doc = json.loads(get(url + "/query?" + q, auth))
    have = set()
    for res in doc.get("results", []):
        if "error" in res:
            raise SystemExit("query error: " + res["error"])
        for series in res.get("series", []):
            point = series["tags"]["point"]
            for row in series["values"]:
                have.add((point, int(row[0])))
    return have


def stored_vm(url):
    body = urllib.parse.urlencode({"match[]": '{__name__="dcm_point_value"}'}).encode()
    have = set()
    for line in get(url + "/api/v1/export", data=body).splitlines():
        if not line.strip():
            continue
        s = json.loads(line)
        point = s["metric"]["point"]
        for t in s["timestamps"]:
            have.add((point, int(t)))
    return have


def main(argv):
    sep = argv.index("--")
    head, files = argv[:sep], argv[sep + 1:]
    kind, url = head[0], head[1]
    if kind == "influx":
        have = stored_influx(url, head[2], head[3] if len(head) > 3 else None)
        want, total = expected(files, numbers_only=False)
    else:
        have = stored_vm(url)
        want, total = expected(files, numbers_only=True)
    missing = sorted(want - have)
    print(f"samples printed {total}, expected {len(want)}, stored {len(have)}, "
          f"missing {len(missing)}")
    for m in missing[:10]:
        print("  missing", m)
    return 1 if missing or not want else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
