/*
 * outputs.c - the output hub: the pipeline's samples, closed KPI records, instant records
 * (at most one a second) and alerts go into the journal on the pipeline thread; each
 * sink runs on a thread of its own, reading the journal from its own cursor.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/log.h"
#include "kpi_json.h"
#include "outputs/outputs.h"

#define TAG "outputs"
#define INSTANT_EVERY_NS DCM_NS_PER_S
#define MAX_SINKS 16

typedef struct hub_sink {
    const dcm_sink_ops *ops;
    void *state;
    bool created;
    bool running;
    dcm_sink_env env;
    pthread_t thread;
    atomic_bool *stop;
} hub_sink;

struct dcm_outputs {
    const dcm_config *cfg;
    char *state_dir;
    char *journal_dir;
    dcm_journal *journal;
    hub_sink sinks[MAX_SINKS];
    size_t sink_count;
    atomic_bool stop;
    const char **zone_names;
    size_t zone_count;
    int64_t last_instant_ns;
    bool has_instant;
    atomic_uint_least64_t lost;
};

const char *dcm_outputs_strerror(dcm_outputs_err err)
{
    switch (err) {
    case DCM_OUTPUTS_OK: return "ok";
    case DCM_OUTPUTS_ECONFIG: return "an output cannot be set up from its configuration";
    case DCM_OUTPUTS_EJOURNAL: return "the output journal cannot be opened";
    case DCM_OUTPUTS_ENOMEM: return "out of memory";
    case DCM_OUTPUTS_ETHREAD: return "an output thread cannot be started";
    }
    return "unknown error";
}

static const dcm_node *output_node(const dcm_config *cfg, const char *name)
{
    const dcm_node *n = dcm_node_get(dcm_node_get(cfg->root, "outputs"), name);
    return n && dcm_node_kind(n) == DCM_NODE_MAP ? n : NULL;
}

static dcm_outputs_err open_journal(dcm_outputs *o)
{
    const dcm_journal_config *jc = &o->cfg->outputs.journal;
    const char *names[MAX_SINKS];
    for (size_t i = 0; i < o->sink_count; i++)
        names[i] = o->sinks[i].ops->name;
    dcm_journal_options jo = {
        .dir = o->journal_dir,
        .max_bytes = jc->max_bytes,
        .segment_bytes = jc->segment_bytes,
        .fsync = (dcm_journal_fsync)jc->fsync,
        .fsync_interval_ns = jc->fsync_interval_ns,
        .full_policy = (dcm_journal_full_policy)jc->when_full,
        .sinks = names,
        .sink_count = o->sink_count,
    };
    dcm_journal_err err = dcm_journal_open(&jo, &o->journal);
    if (err == DCM_JOURNAL_OK)
        return DCM_OUTPUTS_OK;
    dcm_log(DCM_LOG_ERROR, TAG, "cannot open the journal in '%s': %s", o->journal_dir,
            dcm_journal_strerror(err));
    return err == DCM_JOURNAL_ENOMEM ? DCM_OUTPUTS_ENOMEM : DCM_OUTPUTS_EJOURNAL;
}

dcm_outputs_err dcm_outputs_create_with_sinks(const dcm_config *cfg, const char *state_dir,
                                              const dcm_sink_ops *const *sinks, size_t count,
                                              dcm_outputs **out)
{
    *out = NULL;
    if (count == 0)
        return DCM_OUTPUTS_OK;
    if (count > MAX_SINKS)
        return DCM_OUTPUTS_ECONFIG;
    dcm_outputs_err err = DCM_OUTPUTS_ENOMEM;
    dcm_outputs *o = calloc(1, sizeof *o);
    if (!o)
        return DCM_OUTPUTS_ENOMEM;
    o->cfg = cfg;
    atomic_init(&o->stop, false);
    atomic_init(&o->lost, 0);
    const char *dir = state_dir ? state_dir : cfg->agent.state_dir;
    size_t len = strlen(dir) + sizeof "/journal";
    o->state_dir = strdup(dir);
    o->journal_dir = malloc(len);
    if (!o->state_dir || !o->journal_dir)
        goto fail;
    snprintf(o->journal_dir, len, "%s/journal", dir);
    if (cfg->site.zone_count) {
        o->zone_names = calloc(cfg->site.zone_count, sizeof *o->zone_names);
        if (!o->zone_names)
            goto fail;
        for (size_t i = 0; i < cfg->site.zone_count; i++)
            o->zone_names[i] = cfg->site.zones[i].name;
        o->zone_count = cfg->site.zone_count;
    }
    for (size_t i = 0; i < count; i++) {
        o->sinks[i].ops = sinks[i];
        o->sinks[i].stop = &o->stop;
    }
    o->sink_count = count;
    if ((err = open_journal(o)) != DCM_OUTPUTS_OK)
        goto fail;
    for (size_t i = 0; i < count; i++) {
        hub_sink *s = &o->sinks[i];
        s->env = (dcm_sink_env){
            .config = cfg,
            .node = output_node(cfg, s->ops->name),
            .journal = o->journal,
            .reader = i,
            .state_dir = o->state_dir,
        };
        if (s->ops->create(&s->env, &s->state) != 0) {
            dcm_log(DCM_LOG_ERROR, TAG, "outputs.%s cannot be set up (see above)",
                    s->ops->name);
            err = DCM_OUTPUTS_ECONFIG;
            goto fail;
        }
        s->created = true;
    }
    *out = o;
    return DCM_OUTPUTS_OK;
fail:
    dcm_outputs_destroy(o);
    return err;
}

dcm_outputs_err dcm_outputs_create(const dcm_config *cfg, const char *state_dir,
                                   dcm_outputs **out)
{
    *out = NULL;
    const dcm_sink_ops *chosen[MAX_SINKS];
    size_t n = 0;
    const dcm_sink_ops *const *all = dcm_sinks_all();
    for (size_t i = 0; all[i] && n < MAX_SINKS; i++)
        if (output_node(cfg, all[i]->name))
            chosen[n++] = all[i];
    /* A configured output that this build lacks would lose data quietly. */
    static const char *const known[] = {"mqtt", "influxdb"};
    for (size_t k = 0; k < sizeof known / sizeof known[0]; k++) {
        const dcm_node *node = output_node(cfg, known[k]);
        bool built = false;
        for (size_t i = 0; i < n; i++)
            built = built || strcmp(chosen[i]->name, known[k]) == 0;
        if (node && !built) {
            dcm_log(DCM_LOG_ERROR, TAG, "%s:%d: outputs.%s: this build has no %s output",
                    dcm_node_file(node), dcm_node_line(node), known[k], known[k]);
            return DCM_OUTPUTS_ECONFIG;
        }
    }
    return dcm_outputs_create_with_sinks(cfg, state_dir, chosen, n, out);
}

/* ------------------------------------------------------ pipeline thread */

static void journal_failed(dcm_outputs *o, dcm_journal_err err, const char *what)
{
    atomic_fetch_add(&o->lost, 1);
    if (err != DCM_JOURNAL_EFULL) /* the journal logs and counts those itself */
        dcm_log_limited(DCM_LOG_ERROR, TAG, "cannot journal a %s: %s", what,
                        dcm_journal_strerror(err));
}

static void on_sample(void *ctx, const char *point_id, const char *unit, int64_t ts_ns,
                      double value, dcm_quality q)
{
    dcm_outputs *o = ctx;
    dcm_jrec r = {.type = DCM_JREC_SAMPLE, .ts_ns = ts_ns, .point = point_id,
                  .unit = unit ? unit : "", .value = value, .quality = (uint8_t)q};
    dcm_journal_err err = dcm_journal_append(o->journal, &r);
    if (err != DCM_JOURNAL_OK)
        journal_failed(o, err, "sample");
}

static void on_record(void *ctx, const dcm_kpi_record *rec, const dcm_config *cfg)
{
    dcm_outputs *o = ctx;
    bool instant = rec->interim;
    if (instant) {
        /* Only the instant window arrives as interim; one a second is plenty for a live
         * feed and keeps a long outage's backlog small. */
        if (rec->window != DCM_WINDOW_INSTANT ||
            (o->has_instant && rec->end_ns - o->last_instant_ns < INSTANT_EVERY_NS &&
             rec->end_ns >= o->last_instant_ns))
            return;
    }
    char *body = dcm_kpi_json_record(rec, cfg->agent.site, o->zone_names, o->zone_count);
    if (!body) {
        journal_failed(o, DCM_JOURNAL_ENOMEM, "KPI record");
        return;
    }
    dcm_jrec r = {.type = DCM_JREC_KPI, .ts_ns = rec->end_ns,
                  .key = dcm_window_name(rec->window), .body = body,
                  .body_len = strlen(body), .droppable = instant};
    dcm_journal_err err = dcm_journal_append(o->journal, &r);
    free(body);
    if (err != DCM_JOURNAL_OK) {
        journal_failed(o, err, "KPI record");
        return;
    }
    if (instant) {
        o->last_instant_ns = rec->end_ns;
        o->has_instant = true;
    }
}

static void on_batch_end(void *ctx)
{
    dcm_outputs *o = ctx;
    dcm_journal_err err = dcm_journal_commit(o->journal);
    if (err != DCM_JOURNAL_OK)
        dcm_log_limited(DCM_LOG_ERROR, TAG, "cannot commit the journal: %s",
                        dcm_journal_strerror(err));
}

dcm_runtime_listener dcm_outputs_listener(dcm_outputs *o)
{
    if (!o)
        return (dcm_runtime_listener){0};
    return (dcm_runtime_listener){.on_record = on_record,
                                  .instant = true,
                                  .on_sample = on_sample,
                                  .on_batch_end = on_batch_end,
                                  .ctx = o};
}

void dcm_outputs_alert(dcm_outputs *o, int64_t ts_ns, const char *rule, const char *json)
{
    if (!o || !rule || !json)
        return;
    dcm_jrec r = {.type = DCM_JREC_ALERT, .ts_ns = ts_ns, .key = rule, .body = json,
                  .body_len = strlen(json)};
    dcm_journal_err err = dcm_journal_append(o->journal, &r);
    if (err != DCM_JOURNAL_OK)
        journal_failed(o, err, "alert");
}

/* ----------------------------------------------------------- sink threads */

static void *sink_main(void *arg)
{
    hub_sink *s = arg;
    s->ops->run(s->state, s->stop);
    return NULL;
}

dcm_outputs_err dcm_outputs_start(dcm_outputs *o)
{
    if (!o)
        return DCM_OUTPUTS_OK;
    for (size_t i = 0; i < o->sink_count; i++) {
        hub_sink *s = &o->sinks[i];
        if (s->running)
            continue;
        int rc = pthread_create(&s->thread, NULL, sink_main, s);
        if (rc != 0) {
            dcm_log(DCM_LOG_ERROR, TAG, "cannot start the %s thread: %s", s->ops->name,
                    strerror(rc));
            return DCM_OUTPUTS_ETHREAD;
        }
        s->running = true;
    }
    return DCM_OUTPUTS_OK;
}

void dcm_outputs_destroy(dcm_outputs *o)
{
    if (!o)
        return;
    /* Sinks first (they read the journal), then the journal: what was not delivered
     * stays in it for the next start. */
    atomic_store(&o->stop, true);
    for (size_t i = 0; i < o->sink_count; i++) {
        hub_sink *s = &o->sinks[i];
        if (s->running)
            pthread_join(s->thread, NULL);
        s->running = false;
    }
    for (size_t i = 0; i < o->sink_count; i++) {
        hub_sink *s = &o->sinks[i];
        if (s->created)
            s->ops->destroy(s->state);
        s->created = false;
    }
    dcm_journal_close(o->journal);
    free(o->zone_names);
    free(o->journal_dir);
    free(o->state_dir);
    free(o);
}

/* ------------------------------------------------------------------ status */

bool dcm_outputs_journal_stats(dcm_outputs *o, dcm_journal_stats *out)
{
    if (!o) {
        memset(out, 0, sizeof *out);
        return false;
    }
    dcm_journal_get_stats(o->journal, out);
    return true;
}

size_t dcm_outputs_sinks(dcm_outputs *o, dcm_outputs_sink_status *out, size_t max)
{
    if (!o)
        return 0;
    for (size_t i = 0; i < o->sink_count && i < max; i++) {
        hub_sink *s = &o->sinks[i];
        out[i] = (dcm_outputs_sink_status){.name = s->ops->name};
        if (s->created && s->ops->health)
            s->ops->health(s->state, &out[i].health);
        out[i].pending = dcm_journal_pending(o->journal, i);
    }
    return o->sink_count;
}

uint64_t dcm_outputs_lost(dcm_outputs *o)
{
    return o ? atomic_load(&o->lost) : 0;
}
