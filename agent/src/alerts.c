/*
 * alerts.c - the alert engine: rules against KPI records, counter corrections and device
 * health; transitions logged once and handed to the notify callbacks.
 *
 * Time is the data's time: a threshold holds "for 30m" when the records that breached it
 * span 30 minutes of measurement, so accelerated demos and replays alert exactly as a
 * real-time run would.
 */
#include "alerts.h"

#include <fnmatch.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcm/log.h"
#include "grow.h"
#include "json.h"
#include "timestamp.h"

typedef enum subj_state { SUBJ_QUIET = 0, SUBJ_PENDING, SUBJ_FIRING } subj_state;

/* What one rule watches: a KPI, a device or a point. */
typedef struct subject {
    size_t rule;
    char *name;
    subj_state state;
    int64_t since_ns;  /* when the condition began */
    int64_t last_ns;   /* correction rules: time of the latest correction */
    double value;
    bool has_value;
    uint64_t order;    /* firing order, for the active list */
    char *json;        /* the firing transition, while firing */
} subject;

typedef struct health_copy {
    char *name;
    bool up, disabled;
    uint64_t consecutive_failures;
    int64_t last_ok_ns;
    char last_error[160];
} health_copy;

/* Transitions made under the lock, handed out after it is released so that a notify
 * callback may take locks of its own (the HTTP server's) in any order. */
typedef struct outbox_item {
    int64_t ts_ns;
    const char *rule; /* borrowed from the config */
    char *json;
} outbox_item;

typedef struct outbox {
    outbox_item *items;
    size_t count, cap;
} outbox;

struct dcm_alerts {
    pthread_mutex_t lock;
    const dcm_config *cfg;
    subject *subjects;
    size_t count, cap;
    uint64_t fired;
    struct {
        dcm_alert_notify_fn fn;
        void *ctx;
    } notify[DCM_ALERTS_MAX_NOTIFY];
    size_t notify_count;
    /* Health handed over by dcm_alerts_set_health(), evaluated at the next batch end. */
    health_copy *health;
    size_t health_count, health_cap;
    int64_t health_now_ns;
    bool health_new;
    bool oom_logged;
};

const char *dcm_alerts_strerror(dcm_alerts_err err)
{
    switch (err) {
    case DCM_ALERTS_OK: return "ok";
    case DCM_ALERTS_ENOMEM: return "out of memory";
    case DCM_ALERTS_EFULL: return "too many notify callbacks";
    }
    return "unknown error";
}

/* ------------------------------------------------------------- formatting */

/* The process's zone (the session set it to the site's): timestamps read like the KPI
 * records' "from" and "to". */
static int32_t process_offset(void *ctx, int64_t t_s)
{
    (void)ctx;
    time_t t = (time_t)t_s;
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return 0;
    return (int32_t)tm.tm_gmtoff;
}

static const dcm_calendar process_zone = {process_offset, NULL};

static void json_time(dcm_json *j, const char *key, int64_t t_ns)
{
    char ts[DCM_TS_RFC3339_MAX];
    dcm_json_key(j, key);
    if (dcm_ts_format_rfc3339(t_ns, &process_zone, ts, sizeof ts))
        dcm_json_string(j, ts);
    else
        dcm_json_null(j);
}

/* "30m", "1h30m", "45s": durations as the configuration writes them. */
static void format_duration(int64_t ns, char *buf, size_t size)
{
    int64_t s = ns / DCM_NS_PER_S;
    int64_t h = s / 3600, m = (s % 3600) / 60, sec = s % 60;
    int w = 0;
    buf[0] = '\0';
    if (h)
        w += snprintf(buf + w, size - (size_t)w, "%" PRId64 "h", h);
    if (m && (size_t)w < size)
        w += snprintf(buf + w, size - (size_t)w, "%" PRId64 "m", m);
    if ((sec || (!h && !m)) && (size_t)w < size)
        snprintf(buf + w, size - (size_t)w, "%" PRId64 "s", sec);
}

static const char *kind_name(dcm_alert_kind k)
{
    switch (k) {
    case DCM_ALERT_THRESHOLD: return "threshold";
    case DCM_ALERT_OFFLINE: return "offline";
    case DCM_ALERT_CORRECTION: return "correction";
    }
    return "unknown";
}

/* The alert object of docs/alerts.md; NULL when memory ran out. */
static char *alert_json(const dcm_alerts *a, const dcm_alert_config *r, const subject *s,
                        bool firing, int64_t ts_ns, const char *message)
{
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "site");
    dcm_json_string(&j, a->cfg->agent.site);
    dcm_json_key(&j, "rule");
    dcm_json_string(&j, r->name);
    dcm_json_key(&j, "kind");
    dcm_json_string(&j, kind_name(r->kind));
    dcm_json_key(&j, "state");
    dcm_json_string(&j, firing ? "firing" : "cleared");
    dcm_json_key(&j, "severity");
    dcm_json_string(&j, r->critical ? "critical" : "warning");
    dcm_json_key(&j, "subject");
    dcm_json_string(&j, s->name);
    json_time(&j, "ts", ts_ns);
    json_time(&j, "since", s->since_ns);
    dcm_json_key(&j, "value");
    if (s->has_value)
        dcm_json_number(&j, s->value);
    else
        dcm_json_null(&j);
    dcm_json_key(&j, "threshold");
    switch (r->kind) {
    case DCM_ALERT_THRESHOLD:
        dcm_json_number(&j, firing ? r->threshold : r->clear);
        dcm_json_key(&j, "kpi");
        dcm_json_string(&j, r->kpi);
        dcm_json_key(&j, "window");
        dcm_json_string(&j, dcm_window_name(r->window));
        break;
    case DCM_ALERT_OFFLINE: dcm_json_uint(&j, r->offline_for); break;
    case DCM_ALERT_CORRECTION:
        dcm_json_null(&j);
        dcm_json_key(&j, "correction");
        dcm_json_string(&j, r->correction < 0 ? "any"
                                              : dcm_correction_name((dcm_correction)r->correction));
        break;
    }
    dcm_json_key(&j, "message");
    dcm_json_string(&j, message);
    dcm_json_end_object(&j);
    char *text = dcm_json_release(&j, NULL);
    dcm_json_free(&j);
    return text;
}

static void note_oom(dcm_alerts *a)
{
    if (!a->oom_logged)
        dcm_log(DCM_LOG_ERROR, "alert", "out of memory: an alert transition was not delivered");
    a->oom_logged = true;
}

/* Records a transition of s: log line, JSON for the notify callbacks, active list. */
static void transition(dcm_alerts *a, subject *s, bool firing, int64_t ts_ns,
                       const char *message, outbox *box)
{
    const dcm_alert_config *r = &a->cfg->alerts[s->rule];
    if (firing)
        dcm_log(r->critical ? DCM_LOG_ERROR : DCM_LOG_WARN, "alert", "%s firing: %s", r->name,
                message);
    else
        dcm_log(DCM_LOG_INFO, "alert", "%s cleared: %s", r->name, message);
    s->state = firing ? SUBJ_FIRING : SUBJ_QUIET;
    char *json = alert_json(a, r, s, firing, ts_ns, message);
    free(s->json);
    s->json = NULL;
    if (firing) {
        s->order = ++a->fired;
        s->json = json ? strdup(json) : NULL;
    }
    if (!json || (firing && !s->json) ||
        !dcm_grow((void **)&box->items, &box->cap, box->count + 1, sizeof *box->items, 4)) {
        note_oom(a);
        free(json);
        return;
    }
    box->items[box->count++] = (outbox_item){.ts_ns = ts_ns, .rule = r->name, .json = json};
}

static void deliver(dcm_alerts *a, outbox *box)
{
    for (size_t i = 0; i < box->count; i++) {
        for (size_t k = 0; k < a->notify_count; k++)
            a->notify[k].fn(a->notify[k].ctx, box->items[i].ts_ns, box->items[i].rule,
                            box->items[i].json);
        free(box->items[i].json);
    }
    free(box->items);
    box->items = NULL;
    box->count = box->cap = 0;
}

/* -------------------------------------------------------------- subjects */

static subject *find_subject(dcm_alerts *a, size_t rule, const char *name, bool create)
{
    for (size_t i = 0; i < a->count; i++)
        if (a->subjects[i].rule == rule && strcmp(a->subjects[i].name, name) == 0)
            return &a->subjects[i];
    if (!create)
        return NULL;
    if (!dcm_grow((void **)&a->subjects, &a->cap, a->count + 1, sizeof *a->subjects, 8))
        return NULL;
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    subject *s = &a->subjects[a->count++];
    *s = (subject){.rule = rule, .name = copy};
    return s;
}

/* Devices and points come and go: a quiet one is forgotten. Threshold subjects stay. */
static void forget_subject(dcm_alerts *a, subject *s)
{
    free(s->name);
    free(s->json);
    size_t i = (size_t)(s - a->subjects);
    a->subjects[i] = a->subjects[--a->count];
}

/* ------------------------------------------------------------ thresholds */

typedef struct kpi_field {
    const char *name;
    size_t offset;
} kpi_field;

static const kpi_field kpi_fields[] = {
    {"pue", offsetof(dcm_kpi_set, pue)},
    {"dcie", offsetof(dcm_kpi_set, dcie)},
    {"wue", offsetof(dcm_kpi_set, wue)},
    {"wue_fresh", offsetof(dcm_kpi_set, wue_fresh)},
    {"cue_location", offsetof(dcm_kpi_set, cue_location)},
    {"cue_market", offsetof(dcm_kpi_set, cue_market)},
    {"ref", offsetof(dcm_kpi_set, ref)},
    {"erf", offsetof(dcm_kpi_set, erf)},
    {"ere", offsetof(dcm_kpi_set, ere)},
    {"cer", offsetof(dcm_kpi_set, cer)},
    {"pue_enefg", offsetof(dcm_kpi_set, pue_enefg)},
    {"iteu_sv", offsetof(dcm_kpi_set, iteu_sv)},
    {"accel_util", offsetof(dcm_kpi_set, accel_util)},
};

/* The rule's value in rec; false when there is none to judge (null, stale, invalid). */
static bool kpi_value(const dcm_alert_config *r, const dcm_kpi_record *rec, double *v)
{
    const dcm_kpi_set *k = rec->kpi;
    if (strcmp(r->kpi, "coverage") == 0) {
        *v = k->coverage;
        return true;
    }
    if (strcmp(r->kpi, "estimated_share") == 0) {
        *v = k->estimated_share;
        return true;
    }
    const dcm_opt *o = NULL;
    if (r->zone >= 0) {
        if ((uint32_t)r->zone >= rec->totals->zone_count)
            return false;
        o = &k->ppue[r->zone];
    }
    for (size_t i = 0; !o && i < sizeof kpi_fields / sizeof kpi_fields[0]; i++)
        if (strcmp(kpi_fields[i].name, r->kpi) == 0)
            o = (const dcm_opt *)(const void *)((const char *)k + kpi_fields[i].offset);
    if (!o || !o->has_value || o->quality == DCM_QUALITY_STALE ||
        o->quality == DCM_QUALITY_INVALID)
        return false;
    *v = o->value;
    return true;
}

static void eval_threshold(dcm_alerts *a, size_t ri, const dcm_kpi_record *rec, outbox *box)
{
    const dcm_alert_config *r = &a->cfg->alerts[ri];
    subject *s = find_subject(a, ri, r->kpi, true);
    if (!s) {
        note_oom(a);
        return;
    }
    double v;
    if (!kpi_value(r, rec, &v)) {
        /* Unknown is neither a breach nor a recovery: a pending breach starts over, a
         * firing alert stays until a value says otherwise. */
        if (s->state == SUBJ_PENDING)
            s->state = SUBJ_QUIET;
        return;
    }
    s->value = v;
    s->has_value = true;
    bool breach = r->above ? v > r->threshold : v < r->threshold;
    char msg[200], dur[32];
    if (s->state == SUBJ_FIRING) {
        if (r->above ? v <= r->clear : v >= r->clear) {
            snprintf(msg, sizeof msg, "%s %.4g (%s) back at or %s %.4g", r->kpi, v,
                     dcm_window_name(r->window), r->above ? "below" : "above", r->clear);
            transition(a, s, false, rec->end_ns, msg, box);
        }
        return;
    }
    if (!breach) {
        s->state = SUBJ_QUIET;
        return;
    }
    if (s->state == SUBJ_QUIET) {
        /* A window's value speaks for the whole window: the breach began at its start. */
        s->since_ns = rec->start_ns;
        s->state = SUBJ_PENDING;
    }
    if (rec->end_ns - s->since_ns >= r->for_ns) {
        format_duration(rec->end_ns - s->since_ns, dur, sizeof dur);
        snprintf(msg, sizeof msg, "%s %.4g (%s) %s %.4g for %s", r->kpi, v,
                 dcm_window_name(r->window), r->above ? "above" : "below", r->threshold, dur);
        transition(a, s, true, rec->end_ns, msg, box);
    }
}

/* ------------------------------------------------------------ corrections */

/* Correction alerts clear once their point has been quiet for clear_after. */
static void expire_corrections(dcm_alerts *a, int64_t now_ns, outbox *box)
{
    for (size_t i = 0; i < a->count;) {
        subject *s = &a->subjects[i];
        const dcm_alert_config *r = &a->cfg->alerts[s->rule];
        if (r->kind != DCM_ALERT_CORRECTION || s->state != SUBJ_FIRING ||
            now_ns - s->last_ns < r->clear_after_ns) {
            i++;
            continue;
        }
        char msg[200], dur[32];
        format_duration(r->clear_after_ns, dur, sizeof dur);
        snprintf(msg, sizeof msg, "%s: no counter %s for %s", s->name,
                 r->correction < 0 ? "correction"
                                   : dcm_correction_name((dcm_correction)r->correction),
                 dur);
        transition(a, s, false, now_ns, msg, box);
        forget_subject(a, s);
    }
}

static void on_correction(void *ctx, const char *point_id, const dcm_increment *inc,
                          bool applied)
{
    (void)applied;
    dcm_alerts *a = ctx;
    outbox box = {0};
    pthread_mutex_lock(&a->lock);
    for (size_t ri = 0; ri < a->cfg->alert_count; ri++) {
        const dcm_alert_config *r = &a->cfg->alerts[ri];
        if (r->kind != DCM_ALERT_CORRECTION ||
            (r->correction >= 0 && r->correction != inc->correction) ||
            fnmatch(r->point, point_id, 0) != 0)
            continue;
        subject *s = find_subject(a, ri, point_id, true);
        if (!s) {
            note_oom(a);
            continue;
        }
        s->last_ns = inc->t1_ns;
        s->value = s->state == SUBJ_FIRING ? s->value + 1 : 1;
        s->has_value = true;
        if (s->state != SUBJ_FIRING) {
            char msg[200];
            s->since_ns = inc->t1_ns;
            snprintf(msg, sizeof msg, "%s: counter %s", point_id,
                     dcm_correction_name((dcm_correction)inc->correction));
            transition(a, s, true, inc->t1_ns, msg, &box);
        }
    }
    pthread_mutex_unlock(&a->lock);
    deliver(a, &box);
}

/* ---------------------------------------------------------------- devices */

static bool is_offline(const dcm_alert_config *r, const health_copy *h)
{
    if (h->up)
        return false;
    /* An instance stopped for good (fatal error) will not fail again: one failure says it. */
    if (h->disabled)
        return h->consecutive_failures > 0;
    return h->consecutive_failures >= r->offline_for;
}

static void eval_offline(dcm_alerts *a, size_t ri, outbox *box)
{
    const dcm_alert_config *r = &a->cfg->alerts[ri];
    int64_t now = a->health_now_ns;
    for (size_t i = 0; i < a->health_count; i++) {
        const health_copy *h = &a->health[i];
        if (fnmatch(r->device, h->name, 0) != 0)
            continue;
        bool offline = is_offline(r, h);
        subject *s = find_subject(a, ri, h->name, offline);
        if (!s) {
            if (offline)
                note_oom(a);
            continue;
        }
        char msg[300];
        s->value = (double)h->consecutive_failures;
        s->has_value = true;
        if (offline && s->state != SUBJ_FIRING) {
            s->since_ns = h->last_ok_ns ? h->last_ok_ns : now;
            snprintf(msg, sizeof msg, "%s offline: %" PRIu64 " failed poll%s%s%s%s", h->name,
                     h->consecutive_failures, h->consecutive_failures == 1 ? "" : "s",
                     h->last_error[0] ? " (" : "", h->last_error,
                     h->last_error[0] ? ")" : "");
            transition(a, s, true, now, msg, box);
        } else if (!offline && h->up && s->state == SUBJ_FIRING) {
            snprintf(msg, sizeof msg, "%s back online", h->name);
            transition(a, s, false, now, msg, box);
            forget_subject(a, s);
        }
    }
}

void dcm_alerts_set_health(dcm_alerts *a, const dcm_instance_health *h, size_t n,
                           int64_t now_ns)
{
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->health_count; i++)
        free(a->health[i].name);
    a->health_count = 0;
    if (!dcm_grow((void **)&a->health, &a->health_cap, n, sizeof *a->health, 8)) {
        note_oom(a);
        pthread_mutex_unlock(&a->lock);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        health_copy *c = &a->health[a->health_count];
        c->name = strdup(h[i].name ? h[i].name : "");
        if (!c->name) {
            note_oom(a);
            continue;
        }
        c->up = h[i].up;
        c->disabled = h[i].disabled;
        c->consecutive_failures = h[i].consecutive_failures;
        c->last_ok_ns = h[i].last_ok_ns;
        snprintf(c->last_error, sizeof c->last_error, "%s", h[i].last_error);
        a->health_count++;
    }
    a->health_now_ns = now_ns;
    a->health_new = true;
    pthread_mutex_unlock(&a->lock);
}

/* --------------------------------------------------------------- listener */

static void on_record(void *ctx, const dcm_kpi_record *rec, const dcm_config *cfg)
{
    (void)cfg;
    dcm_alerts *a = ctx;
    /* Instant records are the live value; other windows count once they have closed. */
    if (rec->interim && rec->window != DCM_WINDOW_INSTANT)
        return;
    outbox box = {0};
    pthread_mutex_lock(&a->lock);
    for (size_t ri = 0; ri < a->cfg->alert_count; ri++) {
        const dcm_alert_config *r = &a->cfg->alerts[ri];
        if (r->kind == DCM_ALERT_THRESHOLD && r->window == rec->window && r->kpi)
            eval_threshold(a, ri, rec, &box);
    }
    expire_corrections(a, rec->end_ns, &box);
    pthread_mutex_unlock(&a->lock);
    deliver(a, &box);
}

static void on_batch_end(void *ctx)
{
    dcm_alerts *a = ctx;
    outbox box = {0};
    pthread_mutex_lock(&a->lock);
    if (a->health_new) {
        a->health_new = false;
        for (size_t ri = 0; ri < a->cfg->alert_count; ri++)
            if (a->cfg->alerts[ri].kind == DCM_ALERT_OFFLINE && a->cfg->alerts[ri].device)
                eval_offline(a, ri, &box);
        expire_corrections(a, a->health_now_ns, &box);
    }
    pthread_mutex_unlock(&a->lock);
    deliver(a, &box);
}

dcm_runtime_listener dcm_alerts_listener(dcm_alerts *a)
{
    return (dcm_runtime_listener){.on_record = on_record,
                                  .instant = true,
                                  .on_correction = on_correction,
                                  .on_batch_end = on_batch_end,
                                  .ctx = a};
}

/* ------------------------------------------------------------- life cycle */

dcm_alerts_err dcm_alerts_create(const dcm_config *cfg, dcm_alerts **out)
{
    *out = NULL;
    dcm_alerts *a = calloc(1, sizeof *a);
    if (!a)
        return DCM_ALERTS_ENOMEM;
    if (pthread_mutex_init(&a->lock, NULL) != 0) {
        free(a);
        return DCM_ALERTS_ENOMEM;
    }
    a->cfg = cfg;
    *out = a;
    return DCM_ALERTS_OK;
}

void dcm_alerts_destroy(dcm_alerts *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->count; i++) {
        free(a->subjects[i].name);
        free(a->subjects[i].json);
    }
    free(a->subjects);
    for (size_t i = 0; i < a->health_count; i++)
        free(a->health[i].name);
    free(a->health);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

dcm_alerts_err dcm_alerts_add_notify(dcm_alerts *a, dcm_alert_notify_fn fn, void *ctx)
{
    if (a->notify_count == DCM_ALERTS_MAX_NOTIFY)
        return DCM_ALERTS_EFULL;
    a->notify[a->notify_count].fn = fn;
    a->notify[a->notify_count].ctx = ctx;
    a->notify_count++;
    return DCM_ALERTS_OK;
}

static int by_order(const void *x, const void *y)
{
    const subject *const *p = x, *const *q = y;
    return (*p)->order < (*q)->order ? -1 : (*p)->order > (*q)->order;
}

char *dcm_alerts_active_json(dcm_alerts *a)
{
    char *text = NULL;
    const subject **firing = NULL;
    size_t n = 0;
    pthread_mutex_lock(&a->lock);
    if (a->count && !(firing = malloc(a->count * sizeof *firing)))
        goto done;
    for (size_t i = 0; i < a->count; i++)
        if (a->subjects[i].state == SUBJ_FIRING && a->subjects[i].json)
            firing[n++] = &a->subjects[i];
    if (n > 1)
        qsort(firing, n, sizeof *firing, by_order);
    /* Each subject keeps the JSON of its firing transition: the list is made of them. */
    size_t len = strlen("{\"alerts\":[]}") + 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(firing[i]->json) + 1;
    text = malloc(len);
    if (!text)
        goto done;
    char *w = text;
    w += sprintf(w, "{\"alerts\":[");
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%s%s", i ? "," : "", firing[i]->json);
    sprintf(w, "]}");
done:
    pthread_mutex_unlock(&a->lock);
    free(firing);
    return text;
}

size_t dcm_alerts_active_count(dcm_alerts *a)
{
    size_t n = 0;
    pthread_mutex_lock(&a->lock);
    for (size_t i = 0; i < a->count; i++)
        n += a->subjects[i].state == SUBJ_FIRING;
    pthread_mutex_unlock(&a->lock);
    return n;
}
