#!/usr/bin/python3
"""Runs every panel query of the Grafana dashboards against real servers.

usage: check_dashboards.py DASHBOARD_DIR INFLUX_URL DATABASE PROM_URL SITE T0 T1

DASHBOARD_DIR holds influxdb/*.json (InfluxQL, sent to INFLUX_URL/query) and
prometheus/*.json (PromQL, sent to PROM_URL/api/v1/query_range, or /api/v1/query for
instant targets). Grafana's variables are substituted: $site, $timeFilter (all time the
test wrote), $__interval, $instance (every agent), $__range. T0..T1 (Unix seconds) is
when the agent ran; instant queries are evaluated at its last successful scrape. Every query must succeed and return at least one
series with at least one numeric value in each value column; template variable queries
must return values too.
"""
import json
import math
import sys
import urllib.parse
import urllib.request


def get(url, params):
    with urllib.request.urlopen(url + "?" + urllib.parse.urlencode(params), timeout=30) as r:
        return json.loads(r.read().decode())


def numeric(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_influx(url, db, site, query, where):
    q = (query.replace("$site", site)
         .replace("$timeFilter", "time >= '2020-01-01T00:00:00Z' AND time < '2040-01-01T00:00:00Z'")
         .replace("$__interval", "1h"))
    body = get(url + "/query", {"db": db, "q": q, "epoch": "ms"})
    res = body["results"][0]
    assert "error" not in res, "%s: %s\n  %s" % (where, res.get("error"), q)
    series = res.get("series") or []
    assert series, "%s: no series\n  %s" % (where, q)
    for s in series:
        cols = s["columns"]
        assert cols[0] in ("time", "key", "value", "name") or len(cols) >= 1, (where, cols)
        if cols[0] != "time":  # SHOW TAG VALUES and the like: names, not numbers
            assert s.get("values"), (where, s)
            continue
        for i, c in enumerate(cols[1:], 1):
            vals = [row[i] for row in s.get("values", [])]
            assert any(numeric(v) for v in vals), "%s: column %s has no number: %s\n  %s" % (
                where, c, vals[:5], q)
    return sum(len(s.get("values", [])) for s in series)


def check_prom(url, expr, instant, t0, t1, where):
    e = expr.replace("$instance", ".*").replace("$__range", "1h").replace(
        "$__interval", "15s").replace("$__rate_interval", "1m")
    if instant:
        body = get(url + "/api/v1/query", {"query": e, "time": "%.3f" % t1})
    else:
        body = get(url + "/api/v1/query_range", {"query": e, "start": "%.3f" % t0,
                                                 "end": "%.3f" % t1, "step": "1"})
    assert body.get("status") == "success", "%s: %s\n  %s" % (where, body, e)
    result = body["data"]["result"]
    assert result, "%s: no series\n  %s" % (where, e)
    n = 0
    for s in result:
        pairs = [s["value"]] if instant else s["values"]
        vals = [float(v) for _, v in pairs]
        assert vals and all(math.isfinite(v) for v in vals), (where, s)
        n += len(vals)
    return n


def last_scrape(url, t1):
    """Time of the last successful scrape of the agent: instant queries are evaluated
    there (after it the agent has stopped and its series are stale)."""
    body = get(url + "/api/v1/query", {"query": 'up{job="dcmetrics"}[120s]', "time": "%.3f" % t1})
    times = [float(t) for s in body["data"]["result"] for t, v in s["values"] if v == "1"]
    assert times, "Prometheus never scraped the agent: %s" % body
    return max(times)


def targets(board):
    for p in board["panels"]:
        for t in p.get("targets", []):
            yield p["title"], t


def main():
    d, influx, db, prom, site, t0, t1 = sys.argv[1:8]
    t0, t1 = float(t0), float(t1)
    t1 = last_scrape(prom, t1)
    import glob
    import os
    total = 0
    for path in sorted(glob.glob(os.path.join(d, "*", "*.json"))):
        board = json.load(open(path))
        kind = os.path.basename(os.path.dirname(path))
        name = "%s/%s" % (kind, os.path.basename(path))
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), (name, ids)
        count = 0
        for var in board["templating"]["list"]:
            where = "%s: variable $%s" % (name, var["name"])
            if kind == "influxdb":
                check_influx(influx, db, site, var["query"], where)
            else:
                q = var["query"]["query"]
                assert q.startswith("label_values(") and q.endswith(")"), (where, q)
                metric, label = [x.strip() for x in q[len("label_values("):-1].split(",")]
                body = get(prom + "/api/v1/series", {"match[]": metric, "start": t0, "end": t1})
                assert body["status"] == "success" and any(
                    label in s for s in body["data"]), (where, body)
        for title, t in targets(board):
            where = "%s: panel '%s' %s" % (name, title, t["refId"])
            if kind == "influxdb":
                assert t["datasource"]["uid"] == "dcmetrics-influxdb", where
                n = check_influx(influx, db, site, t["query"], where)
            else:
                assert t["datasource"]["uid"] == "dcmetrics-prometheus", where
                n = check_prom(prom, t["expr"], t.get("instant", False), t0, t1, where)
            count += 1
            total += 1
            print("ok: %s (%d values)" % (where, n))
        assert count >= 8, (name, count)
    assert total >= 36, total
    print("ok: %d panel queries returned data" % total)


if __name__ == "__main__":
    main()
