#!/usr/bin/python3
"""Writes the Grafana dashboards of dashboards/grafana/dashboards/ from the panel lists
below: "Facility live" and "Sustainability report", each for InfluxDB (InfluxQL, the
measurements of docs/influxdb.md) and for Prometheus (PromQL, the /metrics names of
docs/http.md). The JSON files are committed; run this after changing a panel:

    python3 dashboards/grafana/generate.py

tests/integration/test_grafana_dashboards.sh runs every panel's query against real
servers fed by the agent.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
INFLUX = {"type": "influxdb", "uid": "dcmetrics-influxdb"}
PROM = {"type": "prometheus", "uid": "dcmetrics-prometheus"}

# InfluxQL: the site variable and the window tag select the records.
def kpi_where(window):
    return "\"site\" =~ /^$site$/ AND \"window\" = '%s' AND $timeFilter" % window


def influx_target(query, ref="A", fmt="time_series", alias=None):
    t = {"refId": ref, "datasource": INFLUX, "query": query, "rawQuery": True,
         "resultFormat": fmt}
    if alias:
        t["alias"] = alias
    return t


def prom_target(expr, ref="A", legend=None, instant=False, fmt="time_series"):
    t = {"refId": ref, "datasource": PROM, "expr": expr, "range": not instant,
         "instant": instant, "format": fmt}
    if legend:
        t["legendFormat"] = legend
    return t


def panel(kind, title, targets, x, y, w, h, unit=None, desc=None, decimals=None,
          stacked=False, thresholds=None, minv=None, maxv=None, bars=False):
    defaults = {"custom": {}}
    if unit:
        defaults["unit"] = unit
    if decimals is not None:
        defaults["decimals"] = decimals
    if minv is not None:
        defaults["min"] = minv
    if maxv is not None:
        defaults["max"] = maxv
    if thresholds:
        defaults["thresholds"] = {"mode": "absolute", "steps": thresholds}
        defaults["color"] = {"mode": "thresholds"}
    if kind == "timeseries":
        defaults["custom"] = {"drawStyle": "bars" if bars else "line", "lineWidth": 2,
                              "fillOpacity": 70 if stacked else (60 if bars else 10),
                              "spanNulls": False,
                              "stacking": {"mode": "normal" if stacked else "none"}}
    p = {"type": kind, "title": title, "gridPos": {"x": x, "y": y, "w": w, "h": h},
         "datasource": targets[0]["datasource"], "targets": targets,
         "fieldConfig": {"defaults": defaults, "overrides": []}, "options": {}}
    if desc:
        p["description"] = desc
    if kind in ("stat", "gauge"):
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "",
                                          "values": False},
                        "colorMode": "value", "graphMode": "none", "textMode": "auto"}
    if kind == "table":
        p["options"] = {"showHeader": True}
    return p


PUE_STEPS = [{"color": "green", "value": None}, {"color": "orange", "value": 1.3},
             {"color": "red", "value": 1.6}]
COVER_STEPS = [{"color": "red", "value": None}, {"color": "orange", "value": 0.9},
               {"color": "green", "value": 0.95}]


def dashboard(uid, title, tags, panels, variables, time_from, refresh, desc):
    for i, p in enumerate(panels):
        p["id"] = i + 1
    return {
        "uid": uid, "title": title, "tags": tags, "description": desc,
        "editable": True, "schemaVersion": 38, "version": 1, "graphTooltip": 1,
        "time": {"from": time_from, "to": "now"}, "refresh": refresh, "timezone": "",
        "templating": {"list": variables}, "annotations": {"list": []}, "links": [],
        "panels": panels,
    }


def influx_site_var():
    return {"name": "site", "label": "Site", "type": "query", "datasource": INFLUX,
            "query": "SHOW TAG VALUES FROM \"dcm_kpi\" WITH KEY = \"site\"",
            "refresh": 1, "includeAll": False, "multi": False, "sort": 1}


def prom_instance_var():
    return {"name": "instance", "label": "Agent", "type": "query", "datasource": PROM,
            "query": {"query": "label_values(dcm_build_info, instance)", "refId": "vars"},
            "definition": "label_values(dcm_build_info, instance)",
            "refresh": 1, "includeAll": False, "multi": False, "sort": 1}


# ------------------------------------------------------------- facility live

def facility_influx():
    q = influx_target
    panels = [
        panel("gauge", "PUE (live)", [q("SELECT last(\"pue\") AS \"PUE\" FROM \"dcm_kpi\" WHERE "
                                        + kpi_where("instant"))], 0, 0, 6, 8, decimals=2,
              minv=1, maxv=2.5, thresholds=PUE_STEPS,
              desc="Ratio of facility to IT power from the latest samples."),
        panel("timeseries", "PUE", [q("SELECT mean(\"pue\") AS \"1 min\" FROM \"dcm_kpi\" WHERE "
                                      + kpi_where("1m")
                                      + " GROUP BY time($__interval) fill(none)"),
                                    q("SELECT mean(\"pue\") AS \"15 min\" FROM \"dcm_kpi\" WHERE "
                                      + kpi_where("15m")
                                      + " GROUP BY time($__interval) fill(none)", "B")],
              6, 0, 18, 8, decimals=3),
        panel("timeseries", "Power breakdown", [q(
            "SELECT mean(\"energy_kwh_it\") * 60 AS \"IT\", mean(\"energy_kwh_cooling\") * 60 AS "
            "\"Cooling\", (mean(\"energy_kwh_total\") - mean(\"energy_kwh_it\") - "
            "mean(\"energy_kwh_cooling\")) * 60 AS \"Other\" FROM \"dcm_kpi\" WHERE "
            + kpi_where("1m") + " GROUP BY time($__interval) fill(none)")],
              0, 8, 16, 9, unit="kwatt", stacked=True,
              desc="Mean power of each 1-minute window: IT, cooling, and the rest of the "
                   "facility (total - IT - cooling)."),
        panel("stat", "Coverage (1 min)", [q("SELECT last(\"coverage\") AS \"coverage\" FROM "
                                             "\"dcm_kpi\" WHERE " + kpi_where("1m"))],
              16, 8, 4, 4, unit="percentunit", decimals=1, thresholds=COVER_STEPS),
        panel("stat", "Facility power (live)", [q(
            "SELECT last(\"power_kw_total\") AS \"facility\", last(\"power_kw_it\") AS \"IT\" "
            "FROM \"dcm_kpi\" WHERE " + kpi_where("instant"))], 20, 8, 4, 4, unit="kwatt",
              decimals=0),
        panel("stat", "WUE / CUE (live)", [q(
            "SELECT last(\"wue\") AS \"WUE L/kWh\", last(\"cue_location\") AS \"CUE location\", "
            "last(\"cue_market\") AS \"CUE market\" FROM \"dcm_kpi\" WHERE "
            + kpi_where("instant"))], 16, 12, 8, 5, decimals=3),
        panel("timeseries", "Partial PUE by zone", [q(
            "SELECT mean(/^ppue_/) FROM \"dcm_kpi\" WHERE " + kpi_where("15m")
            + " GROUP BY time($__interval) fill(none)")], 0, 17, 12, 8, decimals=3,
              desc="One line per zone (fields ppue_<zone>)."),
        panel("timeseries", "Utilisation", [q(
            "SELECT mean(\"iteu_sv\") AS \"servers\", mean(\"accel_util\") AS \"GPUs\" FROM "
            "\"dcm_kpi\" WHERE " + kpi_where("1m") + " GROUP BY time($__interval) fill(none)")],
              12, 17, 12, 8, unit="percent", minv=0, maxv=100),
        panel("table", "Devices", [q(
            "SELECT last(\"value\") AS \"up\" FROM \"dcm_point\" WHERE \"site\" =~ /^$site$/ AND "
            "\"point\" =~ /\\.health\\.up$/ AND $timeFilter GROUP BY \"collector\"", fmt="table"),
            q("SELECT last(\"value\") AS \"failed polls\" FROM \"dcm_point\" WHERE \"site\" =~ "
              "/^$site$/ AND \"point\" =~ /\\.health\\.failures$/ AND $timeFilter GROUP BY "
              "\"collector\"", "B", fmt="table")],
              0, 25, 24, 7,
              desc="1 = the instance's last poll succeeded (points <instance>.health.*)."),
    ]
    return dashboard("dcm-facility-live-influxdb", "Facility live (InfluxDB)",
                     ["dcmetrics", "influxdb"], panels, [influx_site_var()], "now-6h", "10s",
                     "PUE, power breakdown and devices, from the dcm_kpi and dcm_point "
                     "measurements.")


def facility_prom():
    t = prom_target
    sel = 'instance=~"$instance"'
    panels = [
        panel("gauge", "PUE (live)", [t('dcm_pue{%s, window="instant"}' % sel, legend="PUE",
                                         instant=True)], 0, 0, 6, 8, decimals=2, minv=1,
              maxv=2.5, thresholds=PUE_STEPS),
        panel("timeseries", "PUE", [t('dcm_pue{%s, window="1m"}' % sel, legend="1 min"),
                                    t('dcm_pue{%s, window="15m"}' % sel, "B", legend="15 min")],
              6, 0, 18, 8, decimals=3),
        panel("timeseries", "Power breakdown", [
            t('dcm_power_kw{%s, role="it"}' % sel, legend="IT"),
            t('dcm_power_kw{%s, role="cooling"}' % sel, "B", legend="Cooling"),
            t('dcm_power_kw{%s, role="total"} - ignoring(role) dcm_power_kw{%s, role="it"} '
              '- ignoring(role) dcm_power_kw{%s, role="cooling"}' % (sel, sel, sel), "C",
              legend="Other")], 0, 8, 16, 9, unit="kwatt", stacked=True),
        panel("stat", "Coverage (1 min)", [t('dcm_kpi_coverage_ratio{%s, window="1m"}' % sel,
                                             instant=True)], 16, 8, 4, 4, unit="percentunit",
              decimals=1, thresholds=COVER_STEPS),
        panel("stat", "Facility power (live)", [t('dcm_power_kw{%s, role="total"}' % sel,
                                                  legend="facility", instant=True)],
              20, 8, 4, 4, unit="kwatt", decimals=0),
        panel("stat", "WUE / CUE (live)", [
            t('dcm_wue_liters_per_kwh{%s, window="instant"}' % sel, legend="WUE L/kWh",
              instant=True),
            t('dcm_cue_location_kg_per_kwh{%s, window="instant"}' % sel, "B",
              legend="CUE location", instant=True),
            t('dcm_cue_market_kg_per_kwh{%s, window="instant"}' % sel, "C", legend="CUE market",
              instant=True)], 16, 12, 8, 5, decimals=3),
        panel("timeseries", "Partial PUE by zone", [t('dcm_ppue{%s, window="15m"}' % sel,
                                                      legend="{{zone}}")], 0, 17, 12, 8,
              decimals=3),
        panel("timeseries", "Utilisation", [
            t('dcm_server_utilization_percent{%s, window="1m"}' % sel, legend="servers"),
            t('dcm_accelerator_utilization_percent{%s, window="1m"}' % sel, "B", legend="GPUs")],
              12, 17, 12, 8, unit="percent", minv=0, maxv=100),
        panel("table", "Devices", [
            t('dcm_device_up{%s}' % sel, legend="{{device}}", instant=True,
              fmt="table"),
            t('dcm_device_failures_total{%s}' % sel, "B", legend="{{device}}",
              instant=True, fmt="table")], 0, 25, 24, 7,
              desc="1 = the device's last poll succeeded (label `device`: the collector "
                   "instance; `instance` is the scraped agent)."),
    ]
    return dashboard("dcm-facility-live-prometheus", "Facility live (Prometheus)",
                     ["dcmetrics", "prometheus"], panels, [prom_instance_var()], "now-6h",
                     "10s", "PUE, power breakdown and devices, from the agent's /metrics.")


# ------------------------------------------------------------- sustainability report

REPORT_KPIS = [("pue", "PUE"), ("wue", "WUE L/kWh"), ("cue_location", "CUE location"),
               ("cue_market", "CUE market"), ("ref", "REF"), ("erf", "ERF"),
               ("coverage", "coverage")]


def report_influx():
    q = influx_target

    def sel(window, cols):
        return ("SELECT " + ", ".join("\"%s\" AS \"%s\"" % c for c in cols)
                + " FROM \"dcm_kpi\" WHERE " + kpi_where(window))

    panels = [
        panel("table", "Annual KPIs (calendar year)", [q(sel("year", REPORT_KPIS),
                                                          fmt="table")], 0, 0, 24, 5,
              decimals=3, desc="One row per closed calendar year (time = end of the year)."),
        panel("table", "Monthly KPIs", [q(sel("month", REPORT_KPIS), fmt="table")],
              0, 5, 24, 8, decimals=3),
        panel("stat", "Trailing twelve months", [q(sel("ttm", REPORT_KPIS[:6]))], 0, 13, 24, 4,
              decimals=3),
        panel("timeseries", "PUE per month", [q(sel("month", [("pue", "PUE")])),
                                              q(sel("month", [("pue_enefg", "PUE (EnEfG)")]),
                                                "B")], 0, 17, 12, 8, decimals=3, bars=True),
        panel("timeseries", "CUE per month: location- and market-based", [
            q(sel("month", [("cue_location", "location-based"),
                            ("cue_market", "market-based")]))], 12, 17, 12, 8, decimals=3,
              unit="kg/kWh", bars=True),
        panel("timeseries", "REF and ERF per month", [
            q(sel("month", [("ref", "REF"), ("erf", "ERF")]))], 0, 25, 12, 8, decimals=3,
              unit="percentunit", bars=True),
        panel("timeseries", "WUE per month", [q(sel("month", [("wue", "WUE"),
                                                              ("wue_fresh", "WUE freshwater")]))],
              12, 25, 12, 8, decimals=2, unit="L/kWh", bars=True),
        panel("timeseries", "Energy per month", [q(sel("month", [
            ("energy_kwh_total", "facility"), ("energy_kwh_it", "IT"),
            ("energy_kwh_cooling", "cooling"), ("energy_kwh_onsite_renewable", "on-site renewable"),
            ("energy_kwh_reused", "reused")]))], 0, 33, 12, 8, unit="kwatth", bars=True),
        panel("timeseries", "Coverage per month", [q(sel("month", [
            ("coverage", "KPIs"), ("coverage_total", "facility"), ("coverage_it", "IT"),
            ("coverage_water", "water")]))], 12, 33, 12, 8, unit="percentunit", minv=0, maxv=1,
              thresholds=COVER_STEPS,
              desc="Share of each month the inputs were measured; below site.coverage_ok "
                   "the month's KPIs are partial."),
        panel("timeseries", "Emissions per month (Scope 2)", [q(sel("month", [
            ("co2_kg_location", "location-based"), ("co2_kg_market", "market-based")]))],
              0, 41, 24, 8, unit="masskg", bars=True),
    ]
    return dashboard("dcm-sustainability-influxdb", "Sustainability report (InfluxDB)",
                     ["dcmetrics", "influxdb"], panels, [influx_site_var()], "now-2y", "",
                     "Monthly and annual KPIs with their coverage, from the closed month, "
                     "year and trailing-twelve-month records of dcm_kpi.")


def report_prom():
    t = prom_target
    sel = 'instance=~"$instance"'
    metrics = [("dcm_pue", "PUE"), ("dcm_wue_liters_per_kwh", "WUE L/kWh"),
               ("dcm_cue_location_kg_per_kwh", "CUE location"),
               ("dcm_cue_market_kg_per_kwh", "CUE market"), ("dcm_ref_ratio", "REF"),
               ("dcm_erf_ratio", "ERF"), ("dcm_kpi_coverage_ratio", "coverage")]

    def latest(window, refs=metrics):
        return [t('last_over_time(%s{%s, window="%s"}[$__range])' % (m, sel, window),
                  chr(ord("A") + i), legend=label, instant=True)
                for i, (m, label) in enumerate(refs)]

    def series(window, refs):
        return [t('%s{%s, window="%s"}' % (m, sel, window), chr(ord("A") + i), legend=label)
                for i, (m, label) in enumerate(refs)]

    panels = [
        panel("stat", "Latest closed calendar year", latest("year"), 0, 0, 24, 4, decimals=3),
        panel("stat", "Latest closed month", latest("month"), 0, 4, 24, 4, decimals=3),
        panel("stat", "Trailing twelve months", latest("ttm", metrics[:6]), 0, 8, 24, 4,
              decimals=3),
        panel("timeseries", "PUE per month", series("month", [("dcm_pue", "PUE"),
                                                              ("dcm_pue_enefg", "PUE (EnEfG)")]),
              0, 12, 12, 8, decimals=3),
        panel("timeseries", "CUE per month: location- and market-based", series("month", [
            ("dcm_cue_location_kg_per_kwh", "location-based"),
            ("dcm_cue_market_kg_per_kwh", "market-based")]), 12, 12, 12, 8, decimals=3,
              unit="kg/kWh"),
        panel("timeseries", "REF and ERF per month", series("month", [
            ("dcm_ref_ratio", "REF"), ("dcm_erf_ratio", "ERF")]), 0, 20, 12, 8, decimals=3,
              unit="percentunit"),
        panel("timeseries", "WUE per month", series("month", [
            ("dcm_wue_liters_per_kwh", "WUE"), ("dcm_wue_fresh_liters_per_kwh", "WUE freshwater")]),
              12, 20, 12, 8, decimals=2, unit="L/kWh"),
        panel("timeseries", "Coverage of the month and the year", [
            t('dcm_kpi_coverage_ratio{%s, window="month"}' % sel, legend="month"),
            t('dcm_kpi_coverage_ratio{%s, window="year"}' % sel, "B", legend="year")],
              0, 28, 12, 8, unit="percentunit", minv=0, maxv=1, thresholds=COVER_STEPS),
        panel("timeseries", "Energy this year", [
            t('dcm_energy_kwh_total{%s, role=~"total|it|cooling|onsite_renewable|reused"}' % sel,
              legend="{{role}}")], 12, 28, 12, 8, unit="kwatth",
              desc="Counters that restart at the start of each calendar year."),
        panel("timeseries", "Emissions this year (Scope 2)", [
            t('dcm_co2_kg_total{%s}' % sel, legend="{{method}}-based")], 0, 36, 24, 8,
              unit="masskg"),
    ]
    return dashboard("dcm-sustainability-prometheus", "Sustainability report (Prometheus)",
                     ["dcmetrics", "prometheus"], panels, [prom_instance_var()], "now-90d", "",
                     "Monthly and annual KPIs with their coverage, from the agent's /metrics "
                     "(the latest closed month, year and trailing twelve months).")


def main():
    out = os.path.join(HERE, "dashboards")
    for sub, boards in (("influxdb", [facility_influx(), report_influx()]),
                        ("prometheus", [facility_prom(), report_prom()])):
        os.makedirs(os.path.join(out, sub), exist_ok=True)
        for b in boards:
            name = "facility-live.json" if "facility" in b["uid"] else "sustainability-report.json"
            with open(os.path.join(out, sub, name), "w") as f:
                json.dump(b, f, indent=2, sort_keys=False)
                f.write("\n")


if __name__ == "__main__":
    main()
