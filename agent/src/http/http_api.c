/*
 * http_api.c - the JSON endpoints: /api/v1/kpi, /api/v1/points, /api/v1/devices,
 * /healthz and /readyz, and the coalesced `points` event of the event stream.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "http/http_query.h"
#include "kpi_json.h"
#include "timestamp.h"

#define MAX_SINKS 8

void dcm_http_error(dcm_http_reply *r, unsigned status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "error");
    dcm_json_string(&j, msg);
    dcm_json_end_object(&j);
    r->status = status;
    r->content_type = "application/json";
    r->body = dcm_json_release(&j, &r->len);
    dcm_json_free(&j);
    if (!r->body) {
        static const char oom[] = "{\"error\":\"out of memory\"}";
        r->status = 503;
        r->body = (char *)oom;
        r->len = sizeof oom - 1;
        r->body_static = true;
    }
}

/* Hands the finished document to r, or a 503 when memory ran out on the way. */
static void finish(dcm_http_reply *r, dcm_json *j)
{
    r->status = 200;
    r->content_type = "application/json";
    r->body = dcm_json_release(j, &r->len);
    dcm_json_free(j);
    if (!r->body)
        dcm_http_error(r, 503, "out of memory");
}

static void instant(dcm_http *h, dcm_json *j, const char *key, int64_t t_ns)
{
    char ts[DCM_TS_RFC3339_MAX];
    dcm_json_key(j, key);
    if (t_ns && dcm_ts_format_rfc3339(t_ns, &h->calendar, ts, sizeof ts))
        dcm_json_string(j, ts);
    else
        dcm_json_null(j);
}

static bool attached(dcm_http *h, dcm_http_reply *r)
{
    if (h->rt)
        return true;
    dcm_http_error(r, 503, "the agent is starting or stopping");
    return false;
}

static void document_head(dcm_http *h, dcm_json *j, int64_t now_ns)
{
    dcm_json_begin_object(j);
    dcm_json_key(j, "site");
    dcm_json_string(j, h->cfg->agent.site);
    dcm_json_key(j, "site_name");
    dcm_json_string(j, h->cfg->site.name ? h->cfg->site.name : h->cfg->agent.site);
    /* The live page draws this on its gauge; null when the site has not set one. */
    double target;
    dcm_json_key(j, "pue_target");
    if (dcm_node_as_double(dcm_node_get(h->cfg->outputs.http, "pue_target"), &target))
        dcm_json_number(j, target);
    else
        dcm_json_null(j);
    instant(h, j, "now", now_ns);
}

/* ------------------------------------------------------------------ /kpi */

static void record(dcm_http *h, dcm_json *j, const dcm_record_copy *rc)
{
    dcm_kpi_json_in in = {
        .site = h->cfg->agent.site,
        .has_window = true,
        .window = rc->window,
        .interim = rc->interim,
        .start_ns = rc->start_ns,
        .end_ns = rc->end_ns,
        .calendar = &h->calendar,
        .totals = &rc->totals,
        .kpi = &rc->kpi,
        .pue_category = h->cfg->site.pue_category,
        .zone_names = h->zone_names,
        .zone_count = h->zone_count,
    };
    dcm_kpi_json_write(j, &in);
}

void dcm_http_api_kpi(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r)
{
    char why[160];
    uint32_t mask = DCM_HTTP_ALL_WINDOWS;
    const char *w = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "window");
    if (w && !dcm_http_parse_windows(w, &mask, why, sizeof why)) {
        dcm_http_error(r, 400, "window: %s", why);
        return;
    }
    if (!attached(h, r))
        return;
    /* Copy under the lock, render after: the pipeline never waits on JSON. */
    dcm_snapshot *s = dcm_runtime_snapshot(h->rt);
    dcm_record_copy *copy = malloc(2 * DCM_WINDOW_COUNT * sizeof *copy);
    if (!copy) {
        dcm_http_error(r, 503, "out of memory");
        return;
    }
    pthread_mutex_lock(&s->lock);
    memcpy(copy, s->closed, DCM_WINDOW_COUNT * sizeof *copy);
    memcpy(copy + DCM_WINDOW_COUNT, s->interim, DCM_WINDOW_COUNT * sizeof *copy);
    int64_t now = s->now_ns;
    pthread_mutex_unlock(&s->lock);

    dcm_json j;
    dcm_json_init(&j, 0);
    document_head(h, &j, now);
    dcm_json_key(&j, "records");
    dcm_json_begin_array(&j);
    for (int win = 0; win < DCM_WINDOW_COUNT; win++) {
        if (!(mask & (1u << win)))
            continue;
        if (copy[win].present)
            record(h, &j, &copy[win]);
        if (copy[DCM_WINDOW_COUNT + win].present)
            record(h, &j, &copy[DCM_WINDOW_COUNT + win]);
    }
    dcm_json_end_array(&j);
    dcm_json_end_object(&j);
    free(copy);
    finish(r, &j);
}

/* --------------------------------------------------------------- points */

typedef struct copy_ctx {
    dcm_http_point *items;
    size_t count, cap;
    bool oom;
} copy_ctx;

static void copy_point(void *ctx, size_t index, const dcm_point *p)
{
    copy_ctx *cc = ctx;
    if (cc->oom || cc->count == cc->cap)
        return;
    cc->items[cc->count++] = (dcm_http_point){
        .index = index,
        .id = p->id,
        .unit = p->unit->name,
        .kind = (dcm_kind)p->kind,
        .value = p->unit->factor != 0 ? p->last_value / p->unit->factor : p->last_value,
        .ts_ns = p->last_ts_ns,
        .quality = (dcm_quality)p->last_quality,
    };
}

static void count_point(void *ctx, size_t index, const dcm_point *p)
{
    (void)p;
    *(size_t *)ctx = index + 1;
}

static int point_cmp(const void *a, const void *b)
{
    return strcmp(((const dcm_http_point *)a)->id, ((const dcm_http_point *)b)->id);
}

size_t dcm_http_points_copy(dcm_http *h, dcm_http_point **out, bool sorted, bool *oom)
{
    *out = NULL;
    *oom = false;
    size_t n = 0;
    dcm_runtime_points(h->rt, count_point, &n);
    if (!n)
        return 0;
    /* Room for points declared between the two passes; later ones wait for the next call. */
    copy_ctx cc = {.cap = n + 64};
    cc.items = malloc(cc.cap * sizeof *cc.items);
    if (!cc.items) {
        *oom = true;
        return 0;
    }
    dcm_runtime_points(h->rt, copy_point, &cc);
    if (sorted)
        qsort(cc.items, cc.count, sizeof *cc.items, point_cmp);
    *out = cc.items;
    return cc.count;
}

void dcm_http_point_json(dcm_http *h, dcm_json *j, const dcm_http_point *p)
{
    const char *dot = strchr(p->id, '.');
    dcm_json_begin_object(j);
    dcm_json_key(j, "id");
    dcm_json_string(j, p->id);
    dcm_json_key(j, "collector");
    dcm_json_string_len(j, p->id, dot ? (size_t)(dot - p->id) : strlen(p->id));
    dcm_json_key(j, "point");
    dcm_json_string(j, dot ? dot + 1 : p->id);
    dcm_json_key(j, "value");
    if (p->ts_ns && p->quality != DCM_QUALITY_INVALID)
        dcm_json_number(j, p->value);
    else
        dcm_json_null(j); /* never read, or no reading: not a number to mistake for one */
    dcm_json_key(j, "unit");
    dcm_json_string(j, p->unit);
    instant(h, j, "ts", p->ts_ns);
    dcm_json_key(j, "quality");
    if (p->ts_ns)
        dcm_json_string(j, dcm_quality_name(p->quality));
    else
        dcm_json_null(j);
    dcm_json_key(j, "kind");
    dcm_json_string(j, dcm_kind_name(p->kind));
    dcm_json_end_object(j);
}

void dcm_http_api_points(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r)
{
    const char *coll = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "collector");
    if (coll && !*coll) {
        dcm_http_error(r, 400, "collector: empty name");
        return;
    }
    if (!attached(h, r))
        return;
    bool oom;
    dcm_http_point *pts = NULL;
    size_t n = dcm_http_points_copy(h, &pts, true, &oom);
    if (oom) {
        dcm_http_error(r, 503, "out of memory");
        return;
    }
    dcm_snapshot *s = dcm_runtime_snapshot(h->rt);
    pthread_mutex_lock(&s->lock);
    int64_t now = s->now_ns;
    pthread_mutex_unlock(&s->lock);
    size_t clen = coll ? strlen(coll) : 0;
    dcm_json j;
    dcm_json_init(&j, 0);
    document_head(h, &j, now);
    dcm_json_key(&j, "points");
    dcm_json_begin_array(&j);
    for (size_t i = 0; i < n; i++)
        if (!coll || (strncmp(pts[i].id, coll, clen) == 0 && pts[i].id[clen] == '.'))
            dcm_http_point_json(h, &j, &pts[i]);
    dcm_json_end_array(&j);
    dcm_json_end_object(&j);
    free(pts);
    finish(r, &j);
}

/* The hub thread's tick: every point whose latest sample is newer than what the last
 * event carried, one value each (so a point polled ten times a second costs one entry). */
char *dcm_http_points_event(void *ctx)
{
    dcm_http *h = ctx;
    char *out = NULL;
    pthread_rwlock_rdlock(&h->rt_lock);
    if (!h->rt)
        goto done;
    bool oom;
    dcm_http_point *pts = NULL;
    size_t n = dcm_http_points_copy(h, &pts, false, &oom);
    if (!n)
        goto done;
    size_t max_index = 0;
    for (size_t i = 0; i < n; i++)
        if (pts[i].index > max_index)
            max_index = pts[i].index;
    if (max_index >= h->sent_cap) {
        size_t cap = (max_index + 1) * 2;
        int64_t *grown = realloc(h->sent_ts, cap * sizeof *grown);
        if (!grown) {
            free(pts);
            goto done;
        }
        memset(grown + h->sent_cap, 0, (cap - h->sent_cap) * sizeof *grown);
        h->sent_ts = grown;
        h->sent_cap = cap;
    }
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "points");
    dcm_json_begin_array(&j);
    size_t changed = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pts[i].ts_ns || pts[i].ts_ns == h->sent_ts[pts[i].index])
            continue;
        h->sent_ts[pts[i].index] = pts[i].ts_ns;
        dcm_http_point_json(h, &j, &pts[i]);
        changed++;
    }
    dcm_json_end_array(&j);
    dcm_json_end_object(&j);
    if (changed)
        out = dcm_json_release(&j, NULL);
    dcm_json_free(&j);
    free(pts);
done:
    pthread_rwlock_unlock(&h->rt_lock);
    return out;
}

/* -------------------------------------------------------------- devices */

static void sinks_json(dcm_http *h, dcm_json *j)
{
    dcm_json_key(j, "outputs");
    if (!h->outputs.outputs) {
        dcm_json_null(j);
        return;
    }
    dcm_journal_stats js;
    dcm_json_begin_object(j);
    dcm_json_key(j, "journal");
    if (h->outputs.journal_stats && h->outputs.journal_stats(h->outputs.outputs, &js)) {
        dcm_json_begin_object(j);
        dcm_json_key(j, "writable");
        dcm_json_bool(j, js.writable);
        dcm_json_key(j, "bytes");
        dcm_json_uint(j, js.bytes);
        dcm_json_key(j, "segments");
        dcm_json_uint(j, js.segments);
        dcm_json_key(j, "appended");
        dcm_json_uint(j, js.appended);
        dcm_json_key(j, "refused");
        dcm_json_uint(j, js.refused);
        dcm_json_key(j, "dropped_oldest");
        dcm_json_uint(j, js.dropped_oldest);
        dcm_json_end_object(j);
    } else {
        dcm_json_null(j);
    }
    dcm_json_key(j, "sinks");
    dcm_json_begin_array(j);
    dcm_outputs_sink_status st[MAX_SINKS];
    size_t n = h->outputs.sinks ? h->outputs.sinks(h->outputs.outputs, st, MAX_SINKS) : 0;
    for (size_t i = 0; i < n && i < MAX_SINKS; i++) {
        dcm_json_begin_object(j);
        dcm_json_key(j, "name");
        dcm_json_string(j, st[i].name);
        dcm_json_key(j, "connected");
        dcm_json_bool(j, st[i].health.connected);
        dcm_json_key(j, "sent");
        dcm_json_uint(j, st[i].health.sent);
        dcm_json_key(j, "failures");
        dcm_json_uint(j, st[i].health.failures);
        dcm_json_key(j, "pending");
        dcm_json_uint(j, st[i].pending);
        instant(h, j, "last_ok", st[i].health.last_ok_ns);
        dcm_json_key(j, "last_error");
        dcm_json_string(j, st[i].health.last_error[0] ? st[i].health.last_error : NULL);
        dcm_json_end_object(j);
    }
    dcm_json_end_array(j);
    dcm_json_end_object(j);
}

void dcm_http_api_devices(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r)
{
    (void)conn;
    if (!attached(h, r))
        return;
    dcm_instance_health *hl = NULL;
    size_t n = dcm_runtime_health(h->rt, &hl);
    dcm_snapshot *s = dcm_runtime_snapshot(h->rt);
    pthread_mutex_lock(&s->lock);
    int64_t now = s->now_ns;
    pthread_mutex_unlock(&s->lock);
    dcm_json j;
    dcm_json_init(&j, 0);
    document_head(h, &j, now);
    dcm_json_key(&j, "devices");
    dcm_json_begin_array(&j);
    for (size_t i = 0; i < n; i++) {
        const dcm_instance_health *d = &hl[i];
        dcm_json_begin_object(&j);
        dcm_json_key(&j, "name");
        dcm_json_string(&j, d->name);
        dcm_json_key(&j, "type");
        dcm_json_string(&j, d->type);
        dcm_json_key(&j, "up");
        dcm_json_bool(&j, d->up);
        dcm_json_key(&j, "disabled");
        dcm_json_bool(&j, d->disabled);
        dcm_json_key(&j, "polls");
        dcm_json_uint(&j, d->polls);
        dcm_json_key(&j, "failures");
        dcm_json_uint(&j, d->failures);
        dcm_json_key(&j, "consecutive_failures");
        dcm_json_uint(&j, d->consecutive_failures);
        dcm_json_key(&j, "latency_ms");
        if (d->polls)
            dcm_json_number(&j, (double)d->last_latency_ns / 1e6);
        else
            dcm_json_null(&j);
        instant(h, &j, "last_seen", d->last_ok_ns);
        dcm_json_key(&j, "last_error");
        dcm_json_string(&j, d->last_error[0] ? d->last_error : NULL);
        dcm_json_end_object(&j);
    }
    dcm_json_end_array(&j);
    sinks_json(h, &j);
    dcm_json_end_object(&j);
    dcm_health_free(hl, n);
    finish(r, &j);
}

/* --------------------------------------------------------------- alerts */

void dcm_http_api_alerts(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r)
{
    static const char none[] = "{\"alerts\":[]}";
    (void)conn;
    if (!attached(h, r))
        return;
    if (!h->alerts) {
        r->status = 200;
        r->content_type = "application/json";
        r->body = (char *)none;
        r->len = sizeof none - 1;
        r->body_static = true;
        return;
    }
    char *text = dcm_alerts_active_json(h->alerts);
    if (!text) {
        dcm_http_error(r, 503, "out of memory");
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
    r->body = text;
    r->len = strlen(text);
}

/* ------------------------------------------------------------- probes */

void dcm_http_api_healthz(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    (void)h;
    (void)conn;
    r->status = 200;
    r->content_type = "application/json";
    r->body = (char *)body;
    r->len = sizeof body - 1;
    r->body_static = true;
}

void dcm_http_api_readyz(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r)
{
    (void)conn;
    const char *why[4];
    size_t n = 0;
    if (!h->rt) {
        why[n++] = "the collectors are not started";
    } else {
        dcm_snapshot *s = dcm_runtime_snapshot(h->rt);
        pthread_mutex_lock(&s->lock);
        bool running = s->now_ns != 0;
        pthread_mutex_unlock(&s->lock);
        if (!running)
            why[n++] = "the pipeline has not produced its first snapshot";
        dcm_journal_stats js;
        if (h->outputs.outputs &&
            !(h->outputs.journal_stats &&
              h->outputs.journal_stats(h->outputs.outputs, &js) && js.writable))
            why[n++] = "the output journal is not writable";
    }
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "ready");
    dcm_json_bool(&j, n == 0);
    if (n) {
        dcm_json_key(&j, "reasons");
        dcm_json_begin_array(&j);
        for (size_t i = 0; i < n; i++)
            dcm_json_string(&j, why[i]);
        dcm_json_end_array(&j);
    }
    dcm_json_end_object(&j);
    finish(r, &j);
    if (n && r->status == 200)
        r->status = 503;
}
