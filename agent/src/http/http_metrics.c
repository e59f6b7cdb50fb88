/*
 * http_metrics.c - /metrics: KPIs, energy, points, devices, journal and sinks, and the
 * server itself in the Prometheus text format 0.0.4.
 *
 * KPI gauges carry the window as a label and come from the latest closed record of each
 * window (the instant window: the latest 1 s ratio). Energy and water counters are the
 * open calendar year so far: they only grow within a year and restart at its start,
 * which rate() and increase() read as a counter reset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "http/http_prom.h"

#define MAX_SINKS 8

typedef const dcm_opt *(*kpi_get)(const dcm_kpi_set *k);

#define GETTER(field) \
    static const dcm_opt *get_##field(const dcm_kpi_set *k) { return &k->field; }
GETTER(pue)
GETTER(dcie)
GETTER(wue)
GETTER(wue_fresh)
GETTER(cue_location)
GETTER(cue_market)
GETTER(ref)
GETTER(erf)
GETTER(ere)
GETTER(cer)
GETTER(pue_enefg)
GETTER(iteu_sv)
GETTER(accel_util)

static const struct kpi_family {
    const char *name, *help;
    kpi_get get;
} kpi_families[] = {
    {"dcm_pue", "Power usage effectiveness (ISO/IEC 30134-2), E_DC / E_IT", get_pue},
    {"dcm_dcie", "Data centre infrastructure efficiency, 1 / PUE", get_dcie},
    {"dcm_wue_liters_per_kwh", "Water usage effectiveness (ISO/IEC 30134-9), L/kWh of IT energy",
     get_wue},
    {"dcm_wue_fresh_liters_per_kwh", "WUE counting freshwater only, L/kWh", get_wue_fresh},
    {"dcm_cue_location_kg_per_kwh",
     "Carbon usage effectiveness (ISO/IEC 30134-8), location-based, kgCO2e/kWh",
     get_cue_location},
    {"dcm_cue_market_kg_per_kwh", "Carbon usage effectiveness, market-based, kgCO2e/kWh",
     get_cue_market},
    {"dcm_ref_ratio", "Renewable energy factor (ISO/IEC 30134-3), 0..1", get_ref},
    {"dcm_erf_ratio", "Energy reuse factor (ISO/IEC 30134-6), 0..1", get_erf},
    {"dcm_ere", "Energy reuse effectiveness, (E_DC - E_reused) / E_IT", get_ere},
    {"dcm_cer", "Cooling efficiency ratio (ISO/IEC 30134-7), heat removed / cooling energy",
     get_cer},
    {"dcm_pue_enefg", "PUE as the German Energy Efficiency Act defines it", get_pue_enefg},
    {"dcm_server_utilization_percent", "IT equipment utilisation for servers (ITEUsv), %",
     get_iteu_sv},
    {"dcm_accelerator_utilization_percent", "Mean GPU / accelerator utilisation, %",
     get_accel_util},
};

static const char *category_label(const dcm_config *cfg, char *buf, size_t size)
{
    if (cfg->site.pue_category <= 0)
        return "";
    snprintf(buf, size, "%d", cfg->site.pue_category);
    return buf;
}

/* The record a KPI gauge shows for window w: the last closed one, the 1 s ratio for
 * the instant window. */
static const dcm_record_copy *gauge_record(const dcm_record_copy *closed,
                                           const dcm_record_copy *interim, int w)
{
    const dcm_record_copy *r = w == DCM_WINDOW_INSTANT ? &interim[w] : &closed[w];
    return r->present ? r : NULL;
}

static void kpis(dcm_prom *p, dcm_http *h, const dcm_record_copy *closed,
                 const dcm_record_copy *interim)
{
    char cat[16];
    const char *category = category_label(h->cfg, cat, sizeof cat);
    for (size_t f = 0; f < sizeof kpi_families / sizeof kpi_families[0]; f++) {
        dcm_prom_family(p, kpi_families[f].name, "gauge", kpi_families[f].help);
        for (int w = 0; w < DCM_WINDOW_COUNT; w++) {
            const dcm_record_copy *r = gauge_record(closed, interim, w);
            if (!r)
                continue;
            const dcm_opt *o = kpi_families[f].get(&r->kpi);
            if (!o->has_value)
                continue;
            dcm_prom_label l[] = {{"window", dcm_window_name((dcm_window)w)},
                                  {"category", category}};
            dcm_prom_sample(p, kpi_families[f].name, l, 2, o->value);
        }
    }
    dcm_prom_family(p, "dcm_ppue", "gauge", "Partial PUE per zone (ISO/IEC 30134-2)");
    for (int w = 0; w < DCM_WINDOW_COUNT; w++) {
        const dcm_record_copy *r = gauge_record(closed, interim, w);
        for (size_t z = 0; r && z < h->zone_count && z < DCM_MAX_ZONES; z++) {
            char zname[24];
            const char *zn = h->zone_names && h->zone_names[z] ? h->zone_names[z] : NULL;
            if (!zn) {
                snprintf(zname, sizeof zname, "zone%zu", z + 1);
                zn = zname;
            }
            if (!r->kpi.ppue[z].has_value)
                continue;
            dcm_prom_label l[] = {{"window", dcm_window_name((dcm_window)w)}, {"zone", zn}};
            dcm_prom_sample(p, "dcm_ppue", l, 2, r->kpi.ppue[z].value);
        }
    }
    dcm_prom_family(p, "dcm_kpi_coverage_ratio", "gauge",
                    "Lowest coverage among the inputs of the window's KPIs, 0..1");
    dcm_prom_family(p, "dcm_kpi_quality", "gauge",
                    "Quality of the window's PUE inputs: 0 ok, 1 partial, 2 stale, 3 invalid");
    for (int w = 0; w < DCM_WINDOW_COUNT; w++) {
        const dcm_record_copy *r = gauge_record(closed, interim, w);
        if (!r)
            continue;
        dcm_prom_label l[] = {{"window", dcm_window_name((dcm_window)w)}};
        dcm_prom_sample(p, "dcm_kpi_coverage_ratio", l, 1, r->kpi.coverage);
        dcm_prom_sample(p, "dcm_kpi_quality", l, 1, (double)r->kpi.quality);
    }
}

/* Roles measured in kWh (energy) and m3 (water). */
static bool is_water(int role) { return role == DCM_ROLE_WATER || role == DCM_ROLE_FRESHWATER; }
static bool is_utilisation(int role)
{
    return role == DCM_ROLE_SERVERS || role == DCM_ROLE_ACCELERATORS;
}

static bool role_has_data(const dcm_role_sum *s) { return s->points > 0; }

static void totals(dcm_prom *p, const dcm_record_copy *year, const dcm_record_copy *now)
{
    dcm_prom_family(p, "dcm_energy_kwh_total", "counter",
                    "Energy per site role in the current calendar year so far, kWh "
                    "(thermal kWh for cooling_output and reused)");
    for (int r = 0; year && r < DCM_ROLE_COUNT; r++) {
        if (is_water(r) || is_utilisation(r) || !role_has_data(&year->totals.role[r]))
            continue;
        dcm_prom_label l[] = {{"role", dcm_role_name((dcm_role)r)}};
        dcm_prom_sample(p, "dcm_energy_kwh_total", l, 1, year->totals.role[r].amount);
    }
    dcm_prom_family(p, "dcm_water_m3_total", "counter",
                    "Water per site role in the current calendar year so far, m3");
    for (int r = 0; year && r < DCM_ROLE_COUNT; r++) {
        if (!is_water(r) || !role_has_data(&year->totals.role[r]))
            continue;
        dcm_prom_label l[] = {{"role", dcm_role_name((dcm_role)r)}};
        dcm_prom_sample(p, "dcm_water_m3_total", l, 1, year->totals.role[r].amount);
    }
    dcm_prom_family(p, "dcm_co2_kg_total", "counter",
                    "Scope 2 emissions in the current calendar year so far, kgCO2e");
    if (year) {
        dcm_prom_label loc[] = {{"method", "location"}}, mkt[] = {{"method", "market"}};
        if (year->kpi.co2_location_kg.has_value)
            dcm_prom_sample(p, "dcm_co2_kg_total", loc, 1, year->kpi.co2_location_kg.value);
        if (year->kpi.co2_market_kg.has_value)
            dcm_prom_sample(p, "dcm_co2_kg_total", mkt, 1, year->kpi.co2_market_kg.value);
    }
    dcm_prom_family(p, "dcm_power_kw", "gauge", "Power per site role now, kW");
    for (int r = 0; now && r < DCM_ROLE_COUNT; r++) {
        if (is_water(r) || is_utilisation(r) || !role_has_data(&now->totals.role[r]))
            continue;
        dcm_prom_label l[] = {{"role", dcm_role_name((dcm_role)r)}};
        dcm_prom_sample(p, "dcm_power_kw", l, 1, now->totals.role[r].amount);
    }
}

static void points(dcm_prom *p, dcm_http *h)
{
    bool oom;
    dcm_http_point *pts = NULL;
    size_t n = dcm_http_points_copy(h, &pts, true, &oom);
    dcm_prom_family(p, "dcm_point_value", "gauge",
                    "Latest reading of each point, in the unit the collector declares");
    for (size_t i = 0; i < n; i++) {
        if (!pts[i].ts_ns || pts[i].quality == DCM_QUALITY_INVALID)
            continue;
        char coll[128];
        const char *dot = strchr(pts[i].id, '.');
        size_t clen = dot ? (size_t)(dot - pts[i].id) : strlen(pts[i].id);
        snprintf(coll, sizeof coll, "%.*s", (int)clen, pts[i].id);
        dcm_prom_label l[] = {{"collector", coll},
                              {"point", dot ? dot + 1 : pts[i].id},
                              {"unit", pts[i].unit}};
        dcm_prom_sample(p, "dcm_point_value", l, 3, pts[i].value);
    }
    free(pts);
    if (oom)
        p->oom = true;
}

static void devices(dcm_prom *p, dcm_http *h)
{
    dcm_instance_health *d = NULL;
    size_t n = dcm_runtime_health(h->rt, &d);
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"dcm_device_up", "gauge", "1 when the collector instance's last poll succeeded"},
        {"dcm_device_poll_latency_seconds", "gauge", "Duration of the last poll"},
        {"dcm_device_polls_total", "counter", "Polls since start"},
        {"dcm_device_failures_total", "counter", "Failed polls since start"},
        {"dcm_device_last_success_timestamp_seconds", "gauge",
         "Unix time of the last good poll (agent clock)"},
    };
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        dcm_prom_family(p, fam[f].name, fam[f].type, fam[f].help);
        for (size_t i = 0; i < n; i++) {
            /* "device", not "instance": Prometheus owns that label for the scrape target. */
            dcm_prom_label l[] = {{"device", d[i].name}, {"type", d[i].type}};
            double v = 0;
            switch (f) {
            case 0: v = d[i].up ? 1 : 0; break;
            case 1:
                if (!d[i].polls)
                    continue;
                v = (double)d[i].last_latency_ns / 1e9;
                break;
            case 2: v = (double)d[i].polls; break;
            case 3: v = (double)d[i].failures; break;
            default:
                if (!d[i].last_ok_ns)
                    continue;
                v = (double)d[i].last_ok_ns / 1e9;
                break;
            }
            dcm_prom_sample(p, fam[f].name, l, 2, v);
        }
    }
    dcm_health_free(d, n);
}

static void outputs(dcm_prom *p, dcm_http *h)
{
    if (!h->outputs.outputs)
        return;
    dcm_journal_stats js;
    if (h->outputs.journal_stats && h->outputs.journal_stats(h->outputs.outputs, &js)) {
        static const char *const names[][3] = {
            {"dcm_journal_bytes", "gauge", "Size of the journal's segments on disk, bytes"},
            {"dcm_journal_segments", "gauge", "Segments in the journal"},
            {"dcm_journal_appended_total", "counter", "Records appended since start"},
            {"dcm_journal_refused_total", "counter", "Records refused by the full policy"},
            {"dcm_journal_dropped_total", "counter", "Records deleted unsent when full"},
            {"dcm_journal_writable", "gauge", "1 while the journal can be written"},
        };
        const double v[] = {(double)js.bytes,   (double)js.segments, (double)js.appended,
                            (double)js.refused, (double)js.dropped_oldest,
                            js.writable ? 1.0 : 0.0};
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            dcm_prom_family(p, names[i][0], names[i][1], names[i][2]);
            dcm_prom_sample(p, names[i][0], NULL, 0, v[i]);
        }
    }
    dcm_outputs_sink_status st[MAX_SINKS];
    size_t n = h->outputs.sinks ? h->outputs.sinks(h->outputs.outputs, st, MAX_SINKS) : 0;
    if (n > MAX_SINKS)
        n = MAX_SINKS;
    static const char *const fam[][3] = {
        {"dcm_sink_connected", "gauge", "1 while the sink is connected to its server"},
        {"dcm_sink_sent_total", "counter", "Records acknowledged by the server since start"},
        {"dcm_sink_failures_total", "counter", "Failed sends or connection attempts"},
        {"dcm_sink_pending", "gauge", "Journal records not yet acknowledged"},
    };
    for (size_t f = 0; f < 4; f++) {
        dcm_prom_family(p, fam[f][0], fam[f][1], fam[f][2]);
        for (size_t i = 0; i < n; i++) {
            const double v[] = {st[i].health.connected ? 1.0 : 0.0, (double)st[i].health.sent,
                                (double)st[i].health.failures, (double)st[i].pending};
            dcm_prom_label l[] = {{"sink", st[i].name}};
            dcm_prom_sample(p, fam[f][0], l, 1, v[f]);
        }
    }
}

static void server(dcm_prom *p, dcm_http *h, const dcm_snapshot *snap)
{
    dcm_sse_stats ss;
    dcm_sse_hub_stats(h->hub, &ss);
    dcm_prom_family(p, "dcm_samples_total", "counter", "Samples fed to the KPI engine");
    dcm_prom_sample(p, "dcm_samples_total", NULL, 0, (double)snap->samples_in);
    dcm_prom_family(p, "dcm_samples_dropped_total", "counter",
                    "Samples dropped because the pipeline's queue was full");
    dcm_prom_sample(p, "dcm_samples_dropped_total", NULL, 0, (double)snap->samples_dropped);
    dcm_prom_family(p, "dcm_kpi_records_total", "counter", "Closed KPI records emitted");
    dcm_prom_sample(p, "dcm_kpi_records_total", NULL, 0, (double)snap->records_out);
    dcm_prom_family(p, "dcm_http_requests_total", "counter", "HTTP requests by status class");
    static const char *const classes[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int c = 1; c <= 5; c++) {
        dcm_prom_label l[] = {{"code", classes[c]}};
        dcm_prom_sample(p, "dcm_http_requests_total", l, 1,
                        (double)atomic_load(&h->requests[c]));
    }
    dcm_prom_family(p, "dcm_http_auth_failures_total", "counter",
                    "Requests refused for missing or wrong credentials");
    dcm_prom_sample(p, "dcm_http_auth_failures_total", NULL, 0,
                    (double)atomic_load(&h->auth_failures));
    dcm_prom_family(p, "dcm_http_event_clients", "gauge", "Clients on /api/v1/events now");
    dcm_prom_sample(p, "dcm_http_event_clients", NULL, 0, (double)ss.clients);
    dcm_prom_family(p, "dcm_http_events_sent_total", "counter", "Events queued to clients");
    dcm_prom_sample(p, "dcm_http_events_sent_total", NULL, 0, (double)ss.events);
    dcm_prom_family(p, "dcm_http_events_dropped_total", "counter",
                    "Events dropped for clients that read too slowly");
    dcm_prom_sample(p, "dcm_http_events_dropped_total", NULL, 0, (double)ss.dropped);
    dcm_prom_family(p, "dcm_http_event_clients_rejected_total", "counter",
                    "Event-stream connections refused at the client limit");
    dcm_prom_sample(p, "dcm_http_event_clients_rejected_total", NULL, 0, (double)ss.rejected);
    dcm_prom_family(p, "dcm_build_info", "gauge", "Always 1; the version as a label");
    dcm_prom_label v[] = {{"version", DCM_VERSION}, {"ruleset", DCM_METRICS_RULESET}};
    dcm_prom_sample(p, "dcm_build_info", v, 2, 1);
}

void dcm_http_metrics(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r)
{
    (void)conn;
    if (!h->rt) {
        dcm_http_error(r, 503, "the agent is starting or stopping");
        return;
    }
    dcm_snapshot *s = dcm_runtime_snapshot(h->rt);
    dcm_snapshot *copy = malloc(sizeof *copy);
    if (!copy) {
        dcm_http_error(r, 503, "out of memory");
        return;
    }
    pthread_mutex_lock(&s->lock);
    memcpy(copy->closed, s->closed, sizeof copy->closed);
    memcpy(copy->interim, s->interim, sizeof copy->interim);
    copy->samples_in = s->samples_in;
    copy->samples_dropped = s->samples_dropped;
    copy->records_out = s->records_out;
    pthread_mutex_unlock(&s->lock);

    dcm_prom p;
    dcm_prom_init(&p);
    kpis(&p, h, copy->closed, copy->interim);
    const dcm_record_copy *year = copy->interim[DCM_WINDOW_YEAR].present
                                      ? &copy->interim[DCM_WINDOW_YEAR] : NULL;
    const dcm_record_copy *now = copy->interim[DCM_WINDOW_INSTANT].present
                                     ? &copy->interim[DCM_WINDOW_INSTANT] : NULL;
    totals(&p, year, now);
    points(&p, h);
    devices(&p, h);
    outputs(&p, h);
    server(&p, h, copy);
    free(copy);
    r->body = dcm_prom_release(&p, &r->len);
    if (!r->body) {
        dcm_http_error(r, 503, "out of memory");
        return;
    }
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
