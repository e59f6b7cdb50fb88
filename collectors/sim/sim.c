/*
 * sim.c - the `sim` collector: a simulated data hall for `dcmetrics demo`, tests and
 * trying a site configuration without hardware. The model is in sim_model.c, the sample
 * stream in sim_run.c; this file reads the configuration and talks to the core.
 */
#include <stdlib.h>
#include <string.h>

#include "dcm/collector.h"
#include "sim_run.h"
#include "timestamp.h"

static const dcm_config_key sim_keys[] = {
    {"seed", DCM_KEY_INT, "1", false, "seed of the random jobs and weather: same seed, same data"},
    {"it_kw", DCM_KEY_DOUBLE, "1200", false, "mean IT load of the two halls, kW"},
    {"nodes", DCM_KEY_INT, "8", false, "GPU nodes reporting utilisation (2..64), split over two halls"},
    {"utc_offset", DCM_KEY_STRING, "+08:00", false,
     "site local time minus UTC: +HH:MM, -HH:MM or a duration such as -5h"},
    {"latitude", DCM_KEY_DOUBLE, "23.0", false, "site latitude in degrees, for the sun"},
    {"pv_kwp", DCM_KEY_DOUBLE, "300", false, "rooftop PV peak power, kWp (0 = none)"},
    {"reuse_share", DCM_KEY_DOUBLE, "0.10", false,
     "share of the heat removed that the heat pump recovers for district heating (0..0.5)"},
    {"fresh_share", DCM_KEY_DOUBLE, "0.60", false, "share of cooling-tower water that is freshwater (0..1)"},
    {"start", DCM_KEY_STRING, NULL, false,
     "RFC 3339 time of the first sample (default: the first poll's time)"},
    {"backfill", DCM_KEY_BOOL, "true", false,
     "with a start in the past: emit the samples from start to now (true), or only count that "
     "time into the registers and emit from now on, as a real meter does for an agent that "
     "was down (false)"},
    {"step", DCM_KEY_DURATION, "1s", false, "model integration step"},
    {"emit_every", DCM_KEY_DURATION, NULL, false,
     "simulated time between samples (default: the instance interval)"},
    {"grid_wh32", DCM_KEY_BOOL, "false", false,
     "publish grid.energy as a 32-bit Wh register that wraps at 4294967.296 kWh"},
    {"fail", DCM_KEY_LIST, NULL, false,
     "simulated outages: [{point: GLOB, from: TIME, to: TIME, mode: missing|invalid}]"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

typedef struct sim_state {
    dcm_collector_ctx *ctx;
    dcm_sim_run *run;
    uint32_t *handles; /* core handle of each run point */
} sim_state;

/* ---------------------------------------------------------------- config */

static const char *key_default(const char *name)
{
    for (const dcm_config_key *k = sim_keys; k->name; k++)
        if (strcmp(k->name, name) == 0)
            return k->default_value;
    return NULL;
}

/* Each reader takes the value written in the config, else the key table's default.
 * The core has already checked the written values against the key types. */
static bool read_int(const dcm_node *cfg, const char *key, long long *out)
{
    const dcm_node *n = dcm_node_get(cfg, key);
    if (n)
        return dcm_node_as_int(n, out);
    char *end;
    *out = strtoll(key_default(key), &end, 10);
    return *end == '\0';
}

static bool read_double(const dcm_node *cfg, const char *key, double *out)
{
    const dcm_node *n = dcm_node_get(cfg, key);
    if (n)
        return dcm_node_as_double(n, out);
    char *end;
    *out = strtod(key_default(key), &end);
    return *end == '\0';
}

static bool read_bool(const dcm_node *cfg, const char *key, bool *out)
{
    const dcm_node *n = dcm_node_get(cfg, key);
    if (n)
        return dcm_node_as_bool(n, out);
    *out = strcmp(key_default(key), "true") == 0;
    return true;
}

/* Absent without a default: *out is left as the caller set it. */
static bool read_duration(const dcm_node *cfg, const char *key, int64_t *out)
{
    const dcm_node *n = dcm_node_get(cfg, key);
    if (n)
        return dcm_node_as_duration_ns(n, out);
    return !key_default(key) || dcm_parse_duration_ns(key_default(key), out);
}

static const char *read_string(const dcm_node *cfg, const char *key)
{
    const char *s = NULL;
    const dcm_node *n = dcm_node_get(cfg, key);
    if (n && dcm_node_as_string(n, &s))
        return s;
    return key_default(key);
}

static void bad_key(dcm_collector_ctx *ctx, const dcm_node *cfg, const char *key,
                    const char *why)
{
    const dcm_node *n = cfg ? dcm_node_get(cfg, key) : NULL;
    if (n)
        dcm_collector_log(ctx, DCM_LOG_ERROR, "%s:%d:%d: %s: %s", dcm_node_file(n),
                          dcm_node_line(n), dcm_node_column(n), key, why);
    else
        dcm_collector_log(ctx, DCM_LOG_ERROR, "%s: %s", key, why);
}

static bool read_time(dcm_collector_ctx *ctx, const dcm_node *n, const char *what,
                      int64_t *out)
{
    const char *s;
    dcm_ts_err err = dcm_node_as_string(n, &s) ? dcm_ts_parse(s, out) : DCM_TS_ESYNTAX;
    if (err == DCM_TS_OK)
        return true;
    dcm_collector_log(ctx, DCM_LOG_ERROR, "%s:%d:%d: %s: %s (expected RFC 3339, e.g. "
                      "2026-01-05T10:00:00+08:00)", dcm_node_file(n), dcm_node_line(n),
                      dcm_node_column(n), what, dcm_ts_strerror(err));
    return false;
}

/* fail: [{point, from, to, mode}]. Fills outages (caller frees the array; the globs
 * point into the config). */
static bool read_outages(dcm_collector_ctx *ctx, const dcm_node *list, dcm_sim_outage **out,
                         size_t *count)
{
    static const char *const keys[] = {"point", "from", "to", "mode"};
    size_t n = list ? dcm_node_size(list) : 0;
    *out = NULL;
    *count = 0;
    if (!n)
        return true;
    dcm_sim_outage *o = calloc(n, sizeof *o);
    if (!o) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory reading fail");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const dcm_node *item = dcm_node_at(list, i);
        const dcm_node *point = dcm_node_get(item, "point");
        const dcm_node *from = dcm_node_get(item, "from");
        const dcm_node *to = dcm_node_get(item, "to");
        const dcm_node *mode = dcm_node_get(item, "mode");
        const char *m = "missing";
        for (size_t k = 0; k < dcm_node_size(item) && dcm_node_kind(item) == DCM_NODE_MAP; k++) {
            const char *key = dcm_node_key_at(item, k);
            const char *hint = dcm_suggest(key, keys, 4);
            bool known = false;
            for (size_t j = 0; j < 4; j++)
                known = known || strcmp(key, keys[j]) == 0;
            if (!known) {
                const dcm_node *kn = dcm_node_key_node_at(item, k);
                dcm_collector_log(ctx, DCM_LOG_ERROR, "%s:%d:%d: fail[%zu]: unknown key '%s'%s%s%s",
                                  dcm_node_file(kn), dcm_node_line(kn), dcm_node_column(kn), i,
                                  key, hint ? ", did you mean '" : "", hint ? hint : "",
                                  hint ? "'?" : "");
                goto fail;
            }
        }
        if (dcm_node_kind(item) != DCM_NODE_MAP || !point || !from || !to) {
            dcm_collector_log(ctx, DCM_LOG_ERROR, "%s:%d:%d: fail[%zu]: expected "
                              "{point: GLOB, from: TIME, to: TIME, mode: missing|invalid}",
                              dcm_node_file(item), dcm_node_line(item), dcm_node_column(item), i);
            goto fail;
        }
        if (!dcm_node_as_string(point, &o[i].glob) || !o[i].glob[0] ||
            !read_time(ctx, from, "fail.from", &o[i].from_ns) ||
            !read_time(ctx, to, "fail.to", &o[i].to_ns))
            goto fail;
        if (mode && (!dcm_node_as_string(mode, &m) ||
                     (strcmp(m, "missing") != 0 && strcmp(m, "invalid") != 0))) {
            dcm_collector_log(ctx, DCM_LOG_ERROR, "%s:%d:%d: fail[%zu].mode: expected missing "
                              "or invalid", dcm_node_file(mode), dcm_node_line(mode),
                              dcm_node_column(mode), i);
            goto fail;
        }
        o[i].invalid = strcmp(m, "invalid") == 0;
    }
    *out = o;
    *count = n;
    return true;
fail:
    free(o);
    return false;
}

/* Reads every key into cfg; logs the first problem and returns false. */
static bool read_config(dcm_collector_ctx *ctx, dcm_sim_config *cfg)
{
    const dcm_node *node = dcm_collector_config_node(ctx);
    long long seed, nodes;
    bool backfill = true;
    const char *text;

    memset(cfg, 0, sizeof *cfg);
    dcm_sim_params_default(&cfg->params);
    if (!read_int(node, "seed", &seed) || !read_int(node, "nodes", &nodes) ||
        !read_double(node, "it_kw", &cfg->params.it_kw) ||
        !read_double(node, "latitude", &cfg->params.latitude_deg) ||
        !read_double(node, "pv_kwp", &cfg->params.pv_kwp) ||
        !read_double(node, "reuse_share", &cfg->params.reuse_share) ||
        !read_double(node, "fresh_share", &cfg->params.fresh_share) ||
        !read_bool(node, "grid_wh32", &cfg->grid_wh32) ||
        !read_bool(node, "backfill", &backfill) ||
        !read_duration(node, "step", &cfg->step_ns)) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "a key does not have its declared type");
        return false;
    }
    cfg->params.seed = (uint64_t)seed;
    cfg->skip_history = !backfill;
    /* Out of range: -1 lets the parameter check name the key. */
    cfg->params.nodes = nodes < 0 || nodes > DCM_SIM_MAX_NODES ? -1 : (int)nodes;

    cfg->emit_ns = dcm_collector_interval_ns(ctx);
    if (cfg->emit_ns <= 0)
        cfg->emit_ns = DCM_NS_PER_S;
    if (!read_duration(node, "emit_every", &cfg->emit_ns)) {
        bad_key(ctx, node, "emit_every", "expected a duration");
        return false;
    }

    text = read_string(node, "utc_offset");
    if (!text || !dcm_parse_utc_offset(text, &cfg->params.utc_offset_ns)) {
        bad_key(ctx, node, "utc_offset", "expected +HH:MM, -HH:MM or a duration such as -5h");
        return false;
    }
    const dcm_node *start = node ? dcm_node_get(node, "start") : NULL;
    if (start) {
        if (!read_time(ctx, start, "start", &cfg->start_ns))
            return false;
        cfg->has_start = true;
    }
    return true;
}

/* ------------------------------------------------------------- collector */

static void sim_close(void *state)
{
    sim_state *st = state;
    if (!st)
        return;
    dcm_sim_run_destroy(st->run);
    free(st->handles);
    free(st);
}

static dcm_collector_status sim_init(dcm_collector_ctx *ctx, void **state)
{
    dcm_sim_config cfg;
    dcm_sim_outage *outages = NULL;
    size_t outage_count = 0;
    const char *why = NULL;
    sim_state *st = NULL;

    *state = NULL;
    if (!read_config(ctx, &cfg))
        goto fail;
    const dcm_node *node = dcm_collector_config_node(ctx);
    if (!read_outages(ctx, node ? dcm_node_get(node, "fail") : NULL, &outages, &outage_count))
        goto fail;
    cfg.outages = outages;
    cfg.outage_count = outage_count;

    st = calloc(1, sizeof *st);
    if (!st) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
        goto fail;
    }
    st->ctx = ctx;
    dcm_sim_err err = dcm_sim_run_create(&cfg, &st->run, &why);
    if (err != DCM_SIM_OK) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "%s: %s", dcm_sim_strerror(err), why ? why : "");
        goto fail;
    }
    size_t n = dcm_sim_run_point_count(st->run);
    st->handles = calloc(n, sizeof *st->handles);
    if (!st->handles) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        if (dcm_collector_declare_point(ctx, dcm_sim_run_point(st->run, i), &st->handles[i]) != 0)
            goto fail; /* the core said why */
    dcm_collector_log(ctx, DCM_LOG_INFO,
                      "simulated hall: %zu points, IT %.0f kW, %d nodes, seed %llu, step %.3f s, "
                      "a sample every %.3f s", n, cfg.params.it_kw, cfg.params.nodes,
                      (unsigned long long)cfg.params.seed, (double)cfg.step_ns / 1e9,
                      (double)cfg.emit_ns / 1e9);
    free(outages);
    *state = st;
    return DCM_COLLECTOR_OK;
fail:
    free(outages);
    sim_close(st);
    return DCM_COLLECTOR_FATAL;
}

static void emit_sample(void *ud, size_t point, int64_t ts_ns, double value, dcm_quality q)
{
    sim_state *st = ud;
    dcm_collector_emit(st->ctx, st->handles[point], ts_ns, value, q);
}

static dcm_collector_status sim_poll(void *state, dcm_collector_ctx *ctx, int64_t now_ns)
{
    sim_state *st = state;
    int64_t last;
    st->ctx = ctx;
    dcm_sim_run_advance(st->run, now_ns, emit_sample, st);
    if (dcm_sim_run_last(st->run, &last, NULL) && now_ns - last > 3600 * DCM_NS_PER_S)
        dcm_collector_log(ctx, DCM_LOG_DEBUG, "catching up: %.0f simulated seconds behind",
                          (double)(now_ns - last) / 1e9);
    return DCM_COLLECTOR_OK;
}

const dcm_collector_descriptor dcm_sim_collector = {
    .name = "sim",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "simulated GPU data hall: meters, cooling, PV, water, utilisation",
    .keys = sim_keys,
    .init = sim_init,
    .poll = sim_poll,
    .close = sim_close,
};
