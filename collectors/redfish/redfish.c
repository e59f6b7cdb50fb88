/* The Redfish collector: server BMCs and rack PDUs over HTTPS, all of an instance's BMCs
 * polled in parallel on its one worker thread through one libcurl multi handle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/collector.h"
#include "rf_bmc.h"
#include "rf_config.h"
#include "rf_http.h"
#include "runtime.h"

#define NS_PER_S INT64_C(1000000000)
#define BACKOFF_CAP_NS (60 * NS_PER_S)
#define LOGOUT_NS (2 * NS_PER_S)
#define REDISCOVER_AFTER 2 /* failed reads in a row before the resources are looked up again */

enum { H_POWER = 0, H_ENERGY, H_UP, H_LATENCY, H_ERRORS, H_COUNT };

typedef struct rf_state {
    dcm_collector_ctx *ctx;
    char tag[96];
    rf_instance inst;
    rf_bmc *bmcs;
    uint32_t (*handles)[H_COUNT];
    rf_http *http;
} rf_state;

static const char *label(const rf_bmc *b)
{
    return b->spec->name ? b->spec->name : "bmc";
}

static void report(const rf_state *st, const dcm_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        const dcm_diag *g = &d->items[i];
        dcm_log(g->severity == DCM_DIAG_ERROR ? DCM_LOG_ERROR : DCM_LOG_WARN, st->tag,
                "%s:%d:%d: %s%s%s", g->file ? g->file : "?", g->line, g->column,
                g->path ? g->path : "", g->path && g->path[0] ? ": " : "",
                g->message ? g->message : "");
    }
}

/* Deletes the sessions this instance opened: a BMC allows only a few at once. */
static void logout(rf_state *st)
{
    if (!st->http)
        return;
    rf_round rd = {st->http, dcm_monotonic_ns() + LOGOUT_NS, LOGOUT_NS};
    size_t started = 0;
    for (size_t i = 0; i < st->inst.count; i++) {
        rf_bmc *b = &st->bmcs[i];
        if (b->spec->auth != RF_AUTH_SESSION || !b->token[0] || !b->session[0])
            continue;
        rf_endpoint ep = {.base_url = b->spec->url, .token = b->token,
                          .ca_file = b->spec->ca_file, .verify = b->spec->verify};
        if (rf_http_start(st->http, &ep, "DELETE", b->session, NULL, LOGOUT_NS / 1000000, NULL,
                          0, 0, 0))
            started++;
    }
    if (started)
        rf_http_run(st->http, rd.deadline_ns, rf_bmc_on_done, &rd);
}

static void rf_close(void *state)
{
    rf_state *st = state;
    if (!st)
        return;
    if (st->bmcs) {
        logout(st);
        for (size_t i = 0; i < st->inst.count; i++)
            rf_bmc_free(&st->bmcs[i]);
    }
    rf_http_destroy(st->http);
    free(st->bmcs);
    free(st->handles);
    rf_instance_free(&st->inst);
    free(st);
}

static int declare(rf_state *st, const char *prefix, const char *name, const char *unit,
                   dcm_kind kind, uint32_t *handle)
{
    char full[160];
    if (prefix)
        snprintf(full, sizeof full, "%s.%s", prefix, name);
    else
        snprintf(full, sizeof full, "%s", name);
    dcm_point_decl decl = {.name = full, .unit = unit, .kind = kind, .counter_bits = 0,
                           .counter_scale = 1.0};
    return dcm_collector_declare_point(st->ctx, &decl, handle);
}

static bool declare_bmc(rf_state *st, size_t i)
{
    const rf_bmc_spec *s = &st->inst.bmcs[i];
    uint32_t *h = st->handles[i];
    return declare(st, s->name, "power", "W", DCM_KIND_GAUGE, &h[H_POWER]) == 0 &&
           declare(st, s->name, "energy", "kWh", DCM_KIND_COUNTER, &h[H_ENERGY]) == 0 &&
           declare(st, label(&st->bmcs[i]), "up", "bool", DCM_KIND_GAUGE, &h[H_UP]) == 0 &&
           declare(st, label(&st->bmcs[i]), "latency", "ms", DCM_KIND_GAUGE, &h[H_LATENCY]) == 0 &&
           declare(st, label(&st->bmcs[i]), "errors", "count", DCM_KIND_GAUGE, &h[H_ERRORS]) == 0;
}

static dcm_collector_status rf_init(dcm_collector_ctx *ctx, void **state)
{
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_collector_status rc = DCM_COLLECTOR_FATAL;
    *state = NULL;
    rf_state *st = calloc(1, sizeof *st);
    if (!st) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
        goto done;
    }
    st->ctx = ctx;
    snprintf(st->tag, sizeof st->tag, "redfish/%s", dcm_collector_name(ctx));
    char path[80];
    snprintf(path, sizeof path, "collectors[%s]", dcm_collector_name(ctx));
    rf_err e = rf_instance_parse(dcm_collector_config_node(ctx), path, &st->inst, &diags);
    report(st, &diags);
    if (e != RF_OK) {
        if (e == RF_ENOMEM)
            dcm_log(DCM_LOG_ERROR, st->tag, "out of memory");
        goto done;
    }
    size_t n = st->inst.count;
    st->bmcs = calloc(n, sizeof *st->bmcs);
    st->handles = calloc(n, sizeof *st->handles);
    /* An open TLS connection costs about 150 kB here; a new one costs a handshake (the
     * BMC's CPU is usually the slower side). */
    size_t keep = (size_t)st->inst.parallel + (st->inst.keep_alive ? n : 0);
    st->http = rf_http_create(st->inst.parallel, keep);
    if (!st->bmcs || !st->handles || !st->http) {
        dcm_log(DCM_LOG_ERROR, st->tag, "out of memory (or libcurl could not start)");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const rf_bmc_spec *s = &st->inst.bmcs[i];
        rf_bmc_init(&st->bmcs[i], s);
        if (!declare_bmc(st, i))
            goto done; /* the core said why */
        if (!s->verify)
            dcm_log(DCM_LOG_WARN, st->tag,
                    "%s: TLS verification is off (verify: false): the BMC is not "
                    "authenticated and its password can be read on the way",
                    label(&st->bmcs[i]));
        if (s->auth != RF_AUTH_NONE && strncmp(s->url, "http://", 7) == 0)
            dcm_log(DCM_LOG_WARN, st->tag, "%s: credentials go over plain http", label(&st->bmcs[i]));
    }
    dcm_log(DCM_LOG_INFO, st->tag, "%zu BMC%s, up to %d transfers at once", n, n == 1 ? "" : "s",
            st->inst.parallel);
    rc = DCM_COLLECTOR_OK;
done:
    dcm_diags_free(&diags);
    if (rc != DCM_COLLECTOR_OK) {
        rf_close(st);
        return rc;
    }
    *state = st;
    return rc;
}

static void emit(rf_state *st, size_t i, int64_t now_ns, bool polled)
{
    const rf_bmc *b = &st->bmcs[i];
    const uint32_t *h = st->handles[i];
    dcm_collector_ctx *ctx = st->ctx;
    if (polled && b->answered && b->has_power)
        dcm_collector_emit(ctx, h[H_POWER], now_ns, b->power_w, DCM_QUALITY_OK);
    if (polled && b->answered && b->has_energy)
        dcm_collector_emit(ctx, h[H_ENERGY], now_ns, b->energy_kwh, DCM_QUALITY_OK);
    dcm_collector_emit(ctx, h[H_UP], now_ns, polled && b->answered ? 1.0 : 0.0, DCM_QUALITY_OK);
    if (polled)
        dcm_collector_emit(ctx, h[H_LATENCY], now_ns, b->latency_ms, DCM_QUALITY_OK);
    dcm_collector_emit(ctx, h[H_ERRORS], now_ns, (double)b->errors, DCM_QUALITY_OK);
}

/* After a round: counts, backoff (several BMCs: each waits out its own), logs said once
 * per outage and once at recovery. */
static void settle(rf_state *st, rf_bmc *b, bool discovered, int64_t mono, int64_t interval)
{
    if (b->answered) {
        if (b->said_down)
            dcm_log(DCM_LOG_INFO, st->tag, "%s answering again after %llu failed polls", label(b),
                    (unsigned long long)b->consecutive_failures);
        if (discovered)
            dcm_log(DCM_LOG_INFO, st->tag, "%s: %s", label(b), b->plan_text);
        b->said_down = false;
        b->consecutive_failures = 0;
        b->retry_at_ns = 0;
        return;
    }
    b->errors++;
    b->consecutive_failures++;
    if (!b->said_down)
        dcm_log(DCM_LOG_WARN, st->tag, "%s not answering: %s", label(b), b->error);
    b->said_down = true;
    if (b->phase == RF_PH_READ && b->consecutive_failures >= REDISCOVER_AFTER)
        b->have_plan = false;
    if (st->inst.count > 1) {
        int64_t wait = interval;
        for (uint64_t k = 1; k < b->consecutive_failures && wait < BACKOFF_CAP_NS; k++)
            wait *= 2;
        b->retry_at_ns = mono + (wait < BACKOFF_CAP_NS ? wait : BACKOFF_CAP_NS);
    }
}

/* With several BMCs, if every one is waiting out a backoff the one due first is asked
 * anyway, so each poll tries something. */
static size_t first_due(const rf_state *st, int64_t mono)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < st->inst.count; i++) {
        if (st->bmcs[i].retry_at_ns <= mono)
            return SIZE_MAX;
        if (best == SIZE_MAX || st->bmcs[i].retry_at_ns < st->bmcs[best].retry_at_ns)
            best = i;
    }
    return best;
}

static dcm_collector_status rf_poll(void *state, dcm_collector_ctx *ctx, int64_t now_ns)
{
    rf_state *st = state;
    st->ctx = ctx;
    int64_t mono = dcm_monotonic_ns();
    int64_t timeout = dcm_collector_timeout_ns(ctx);
    rf_round rd = {st->http, mono + timeout, timeout};
    size_t forced = first_due(st, mono);
    size_t n = st->inst.count;
    bool *polled = calloc(n, sizeof *polled);
    bool *discovering = calloc(n, sizeof *discovering);
    if (!polled || !discovering) {
        free(polled);
        free(discovering);
        dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
        return DCM_COLLECTOR_RETRY;
    }
    for (size_t i = 0; i < n; i++) {
        rf_bmc *b = &st->bmcs[i];
        if (b->retry_at_ns > mono && i != forced)
            continue;
        polled[i] = true;
        discovering[i] = !b->have_plan;
        rf_bmc_begin(b, &rd);
    }
    rf_http_run(st->http, rd.deadline_ns, rf_bmc_on_done, &rd);
    bool answered = false;
    int64_t interval = dcm_collector_interval_ns(ctx);
    for (size_t i = 0; i < n; i++) {
        rf_bmc *b = &st->bmcs[i];
        if (polled[i]) {
            rf_bmc_end(b, &rd);
            settle(st, b, discovering[i] && b->have_plan, mono, interval);
            answered |= b->answered;
        }
        emit(st, i, now_ns, polled[i]);
    }
    free(polled);
    free(discovering);
    return answered ? DCM_COLLECTOR_OK : DCM_COLLECTOR_RETRY;
}

const dcm_collector_descriptor dcm_redfish_collector = {
    .name = "redfish",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "DMTF Redfish: server BMCs and rack PDUs over HTTPS, many in parallel",
    .keys = rf_instance_keys,
    .init = rf_init,
    .poll = rf_poll,
    .close = rf_close,
};
