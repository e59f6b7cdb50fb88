/*
 * session.c - what `run` and `demo` share: start the runtime, show or stream the KPIs,
 * stop cleanly on SIGINT/SIGTERM (or at --until / --duration), report the exit code.
 */
#include "session.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#ifdef DCM_WITH_HTTP
#include "http/http.h"
#endif
#include "json.h"
#include "kpi_json.h"
#include "live_table.h"
#include "outputs/outputs.h"
#include "site.h"
#include "timestamp.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* Alert transitions go into the outputs' journal (pipeline thread, like the hub). */
static void journal_alert(void *ctx, int64_t ts_ns, const char *rule, const char *json)
{
    dcm_outputs_alert(ctx, ts_ns, rule, json);
}

typedef struct stream_ctx {
    const dcm_session_options *opt;
    const char *const *zone_names;
    size_t zone_count;
    uint64_t lines;
} stream_ctx;

/* Runs on the pipeline thread: one JSON line per record, flushed so pipes see it now. */
static void stream_record(void *ctx, const dcm_kpi_record *rec, const dcm_config *cfg)
{
    stream_ctx *sc = ctx;
    const dcm_session_options *opt = sc->opt;
    if (!(opt->windows & (1u << rec->window)))
        return;
    if (opt->json) {
        char *line = dcm_kpi_json_record(rec, cfg->agent.site, sc->zone_names, sc->zone_count);
        if (line) {
            fputs(line, stdout);
            fputc('\n', stdout);
            fflush(stdout);
            free(line);
            sc->lines++;
        }
        return;
    }
    if (opt->log_minutes && rec->window == DCM_WINDOW_1M) {
        const dcm_kpi_set *k = rec->kpi;
        dcm_log(DCM_LOG_INFO, cfg->agent.site,
                "1m PUE %s%.3f (%s) coverage %.0f%% E_DC %.3f kWh E_IT %.3f kWh",
                k->pue.has_value ? "" : "null ", k->pue.has_value ? k->pue.value : 0.0,
                dcm_quality_name(k->pue.quality), k->coverage * 100.0,
                k->e_dc_kwh.has_value ? k->e_dc_kwh.value : 0.0,
                rec->totals->role[DCM_ROLE_IT].amount);
    }
}

/* Runs on the pipeline thread: {"ts","point","value","unit","quality"} per sample. */
static void stream_sample(void *ctx, const char *point_id, const char *unit, int64_t ts_ns,
                          double value, dcm_quality q)
{
    const dcm_calendar *cal = ctx;
    char ts[DCM_TS_RFC3339_MAX];
    dcm_json j;
    dcm_ts_format_rfc3339(ts_ns, cal, ts, sizeof ts);
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "ts");
    dcm_json_string(&j, ts);
    dcm_json_key(&j, "point");
    dcm_json_string(&j, point_id);
    dcm_json_key(&j, "value");
    if (q == DCM_QUALITY_INVALID)
        dcm_json_null(&j); /* no reading: not a number that could be mistaken for one */
    else
        dcm_json_number(&j, value);
    dcm_json_key(&j, "unit");
    dcm_json_string(&j, unit);
    dcm_json_key(&j, "quality");
    dcm_json_string(&j, dcm_quality_name(q));
    dcm_json_end_object(&j);
    if (dcm_json_error(&j) == DCM_JSON_OK) {
        fputs(dcm_json_text(&j, NULL), stdout);
        fputc('\n', stdout);
        fflush(stdout);
    }
    dcm_json_free(&j);
}

int dcm_session_run(const dcm_session_options *opt)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    stop_requested = 0;
    int outputs_failed = 0;

    stream_ctx sc = {.opt = opt};
    dcm_calendar sample_cal;
    dcm_site_calendar(opt->config->site.timezone, &sample_cal);
    dcm_runtime_options ro = {
        .config = opt->config,
        .state_dir = opt->state_dir,
        .speed = opt->speed,
        .start_ns = opt->start_ns,
    };
    ro.listeners[ro.listener_count++] = (dcm_runtime_listener){
        .on_record = stream_record, .instant = opt->json, .ctx = &sc};
    if (opt->points)
        ro.listeners[ro.listener_count++] = (dcm_runtime_listener){
            .on_sample = stream_sample, .ctx = &sample_cal};
    /* The MQTT / InfluxDB outputs and their journal (nothing when none is configured). */
    dcm_outputs *outputs = NULL;
    dcm_outputs_err oerr = dcm_outputs_create(opt->config, opt->state_dir, &outputs);
    if (oerr != DCM_OUTPUTS_OK) {
        fprintf(stderr, "dcmetrics: cannot start the outputs: %s\n", dcm_outputs_strerror(oerr));
        return oerr == DCM_OUTPUTS_ECONFIG ? 2 : 1;
    }
    if (outputs)
        ro.listeners[ro.listener_count++] = dcm_outputs_listener(outputs);
    dcm_alerts *alerts = NULL;
    if (dcm_alerts_create(opt->config, &alerts) != DCM_ALERTS_OK) {
        fprintf(stderr, "dcmetrics: cannot start: %s\n", dcm_alerts_strerror(DCM_ALERTS_ENOMEM));
        dcm_outputs_destroy(outputs);
        return 1;
    }
    if (outputs && dcm_alerts_add_notify(alerts, journal_alert, outputs) != DCM_ALERTS_OK) {
        fprintf(stderr, "dcmetrics: cannot start: alerts cannot reach the outputs\n");
        dcm_alerts_destroy(alerts);
        dcm_outputs_destroy(outputs);
        return 1;
    }
    if (opt->config->alert_count)
        ro.listeners[ro.listener_count++] = dcm_alerts_listener(alerts);
    const char *http_url = NULL;
#ifdef DCM_WITH_HTTP
    dcm_http *http = NULL;
    int http_rc = opt->http ? dcm_session_http_start(opt, &ro, alerts, &http) : 0;
    if (http_rc) {
        dcm_alerts_destroy(alerts);
        dcm_outputs_destroy(outputs);
        return http_rc;
    }
    http_url = http ? dcm_http_url(http) : NULL;
#endif
    dcm_runtime *rt = NULL;
    dcm_runtime_err err = dcm_runtime_start(&ro, &rt);
    if (err != DCM_RUNTIME_OK) {
        fprintf(stderr, "dcmetrics: cannot start: %s\n", dcm_runtime_strerror(err));
#ifdef DCM_WITH_HTTP
        dcm_http_destroy(http);
#endif
        dcm_alerts_destroy(alerts);
        dcm_outputs_destroy(outputs);
        return err == DCM_RUNTIME_ECONFIG ? 2 : 1;
    }
    if (dcm_outputs_start(outputs) != DCM_OUTPUTS_OK) {
        fprintf(stderr, "dcmetrics: cannot start the outputs: %s\n",
                dcm_outputs_strerror(DCM_OUTPUTS_ETHREAD));
        stop_requested = 1; /* stop everything below, in order, and fail */
        outputs_failed = 1;
    }
#ifdef DCM_WITH_HTTP
    if (http) {
        /* /api/v1/devices, /metrics and /readyz report the journal and the sinks. */
        dcm_http_outputs_view ov = {outputs, dcm_outputs_journal_stats, dcm_outputs_sinks};
        dcm_http_attach(http, rt, outputs ? &ov : NULL);
    }
#endif
    sc.zone_names = dcm_runtime_zone_names(rt, &sc.zone_count);

    dcm_calendar cal;
    dcm_site_calendar(opt->config->site.timezone, &cal);
    dcm_live_table_info info = {
        .title = opt->title,
        .site = opt->config->site.name ? opt->config->site.name : opt->config->agent.site,
        .timezone = opt->config->site.timezone,
        .calendar = &cal,
        .speed = opt->speed,
        .zone_names = sc.zone_names,
        .zone_count = sc.zone_count,
        .url = http_url,
    };
    bool ansi = opt->table && isatty(STDOUT_FILENO);
    int64_t started = dcm_monotonic_ns();

    while (!stop_requested) {
        dcm_sleep_ns(opt->table ? DCM_NS_PER_S : 200 * 1000000LL, NULL);
        if (opt->duration_ns && dcm_monotonic_ns() - started >= opt->duration_ns)
            break;
        /* --until is about data: stop once every window up to it could close. */
        if (opt->until_ns && dcm_runtime_progress(rt) >= opt->until_ns)
            break;
        if (opt->config->alert_count) {
            /* Offline rules judge health; the pipeline thread evaluates it (alerts.h). */
            dcm_instance_health *h = NULL;
            size_t n = dcm_runtime_health(rt, &h);
            dcm_alerts_set_health(alerts, h, n, dcm_runtime_progress(rt));
            dcm_health_free(h, n);
        }
        if (opt->table) {
            dcm_instance_health *h = NULL;
            size_t n = dcm_runtime_health(rt, &h);
            dcm_snapshot *s = dcm_runtime_snapshot(rt);
            pthread_mutex_lock(&s->lock);
            dcm_live_table_print(stdout, s, &info, h, n, ansi);
            pthread_mutex_unlock(&s->lock);
            dcm_health_free(h, n);
        }
    }
#ifdef DCM_WITH_HTTP
    if (http)
        dcm_http_attach(http, NULL, NULL); /* waits for requests using the runtime */
#endif
    dcm_runtime_stop(rt);
    dcm_outputs_destroy(outputs); /* after the runtime: nothing is appended any more */
#ifdef DCM_WITH_HTTP
    dcm_http_destroy(http);
#endif
    dcm_alerts_destroy(alerts);
    return outputs_failed ? 1 : 0;
}

uint32_t dcm_session_parse_windows(const char *list)
{
    uint32_t mask = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        int w = dcm_window_from_name(tok);
        if (w < 0)
            return 0;
        mask |= 1u << w;
    }
    return mask;
}
