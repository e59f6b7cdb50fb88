/*
 * http_sse.c - server-sent events: shared rendered events, bounded per-client queues,
 * suspend while idle, resume on news or heartbeat.
 *
 * Locks: hub->lock guards the client list, counters and client reference counts;
 * client->lock guards one client's queue and its suspended flag. Order: hub, then
 * client. MHD_suspend_connection() is called by the read callback with the client's
 * lock held and MHD_resume_connection() by the hub thread with the same lock held, so a
 * resume can never overtake the suspend it answers. The hub thread never holds the
 * hub's lock while it calls into libmicrohttpd.
 */
#include "http/http_sse.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcm/log.h"
#include "dcm/metrics.h"
#include "runtime.h"

#define TICK_NS 1000000000LL

typedef struct sse_event {
    atomic_uint refs;
    dcm_sse_type type;
    int window;
    size_t len;
    char text[];
} sse_event;

struct dcm_sse_client {
    dcm_sse_hub *hub;
    struct MHD_Connection *conn;
    pthread_mutex_t lock;
    dcm_sse_filter filter;
    sse_event *q[DCM_SSE_QUEUE_EVENTS];
    size_t head, count, bytes, offset;
    char prelude[64];
    size_t prelude_len, prelude_off;
    bool suspended;
    bool linked;         /* in hub->clients (hub lock) */
    unsigned refs;       /* hub lock: the connection's, plus the hub thread's while resuming */
    int64_t last_send_ns;
    uint64_t dropped;
    dcm_sse_client *prev, *next;
};

struct dcm_sse_hub {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool thread_started;
    bool stop, kicked;
    atomic_bool closing;
    dcm_sse_client *clients;
    size_t count;
    size_t want_points, want_alerts, want_kpi[DCM_WINDOW_COUNT];
    uint64_t next_id;
    uint64_t connections, events, dropped, rejected;
    sse_event *ping;
    dcm_sse_tick_fn tick;
    void *tick_ctx;
};

static const char *type_name(dcm_sse_type t)
{
    switch (t) {
    case DCM_SSE_KPI: return "kpi";
    case DCM_SSE_POINTS: return "points";
    case DCM_SSE_ALERT: return "alert";
    case DCM_SSE_PING: return NULL;
    }
    return NULL;
}

static void event_unref(sse_event *e)
{
    if (e && atomic_fetch_sub(&e->refs, 1) == 1)
        free(e);
}

/* "id: N\nevent: T\ndata: line\n...\n\n"; each line of data becomes its own data field,
 * so even a pretty-printed payload is one event. */
static sse_event *event_render(dcm_sse_type type, int window, uint64_t id, const char *data)
{
    char head[64];
    const char *name = type_name(type);
    int hl = name ? snprintf(head, sizeof head, "id: %llu\nevent: %s\n", (unsigned long long)id,
                             name)
                  : 0;
    size_t dlen = data ? strlen(data) : 0, lines = 1;
    for (size_t i = 0; i < dlen; i++)
        lines += data[i] == '\n';
    size_t size = (size_t)hl + dlen + lines * 7 + 2;
    sse_event *e = malloc(sizeof *e + size);
    if (!e)
        return NULL;
    atomic_init(&e->refs, 1);
    e->type = type;
    e->window = window;
    char *w = e->text;
    memcpy(w, head, (size_t)hl);
    w += hl;
    const char *p = data ? data : "";
    for (;;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n && p[n - 1] == '\r')
            n--;
        memcpy(w, "data: ", 6);
        w += 6;
        memcpy(w, p, n);
        w += n;
        *w++ = '\n';
        if (!nl)
            break;
        p = nl + 1;
    }
    *w++ = '\n';
    e->len = (size_t)(w - e->text);
    return e;
}

static bool wants(const dcm_sse_filter *f, dcm_sse_type type, int window)
{
    switch (type) {
    case DCM_SSE_KPI: return window >= 0 && window < DCM_WINDOW_COUNT && (f->windows & (1u << window));
    case DCM_SSE_POINTS: return f->points;
    case DCM_SSE_ALERT: return f->alerts;
    case DCM_SSE_PING: return true;
    }
    return false;
}

static void count_wants(dcm_sse_hub *hub, const dcm_sse_filter *f, int sign)
{
    hub->want_points += (size_t)(f->points ? sign : 0);
    hub->want_alerts += (size_t)(f->alerts ? sign : 0);
    for (int w = 0; w < DCM_WINDOW_COUNT; w++)
        if (f->windows & (1u << w))
            hub->want_kpi[w] += (size_t)sign;
}

/* Client lock held. Returns false when the client's queue is full (event dropped). */
static bool enqueue(dcm_sse_client *c, sse_event *e)
{
    if (c->count == DCM_SSE_QUEUE_EVENTS || c->bytes + e->len > DCM_SSE_QUEUE_BYTES) {
        c->dropped++;
        return false;
    }
    atomic_fetch_add(&e->refs, 1);
    c->q[(c->head + c->count) % DCM_SSE_QUEUE_EVENTS] = e;
    c->count++;
    c->bytes += e->len;
    return true;
}

static void client_free(dcm_sse_client *c)
{
    while (c->count) {
        event_unref(c->q[c->head]);
        c->head = (c->head + 1) % DCM_SSE_QUEUE_EVENTS;
        c->count--;
    }
    pthread_mutex_destroy(&c->lock);
    free(c);
}

/* Hub lock held: takes c off the list (its queue is freed with it). */
static void unlink_client(dcm_sse_hub *hub, dcm_sse_client *c)
{
    if (!c->linked)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        hub->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->linked = false;
    hub->count--;
    count_wants(hub, &c->filter, -1);
}

/* Resumes every suspended client that has something to send (all of them when the hub
 * is closing, so that their reads can end the stream). */
static void resume_pass(dcm_sse_hub *hub, bool heartbeat, int64_t now)
{
    pthread_mutex_lock(&hub->lock);
    size_t n = 0, cap = hub->count;
    dcm_sse_client **list = cap ? malloc(cap * sizeof *list) : NULL;
    if (!list) {
        pthread_mutex_unlock(&hub->lock);
        return;
    }
    bool closing = atomic_load(&hub->closing);
    for (dcm_sse_client *c = hub->clients; c && n < cap; c = c->next) {
        pthread_mutex_lock(&c->lock);
        if (heartbeat && !c->count && c->prelude_off == c->prelude_len &&
            now - c->last_send_ns >= DCM_SSE_HEARTBEAT_NS)
            enqueue(c, hub->ping);
        bool due = c->suspended && (closing || c->count || c->prelude_off < c->prelude_len);
        pthread_mutex_unlock(&c->lock);
        if (due) {
            c->refs++;
            list[n++] = c;
        }
    }
    pthread_mutex_unlock(&hub->lock);
    for (size_t i = 0; i < n; i++) {
        dcm_sse_client *c = list[i];
        pthread_mutex_lock(&c->lock);
        if (c->suspended) {
            c->suspended = false;
            MHD_resume_connection(c->conn);
        }
        pthread_mutex_unlock(&c->lock);
    }
    pthread_mutex_lock(&hub->lock);
    for (size_t i = 0; i < n; i++)
        if (--list[i]->refs == 0)
            client_free(list[i]);
    pthread_mutex_unlock(&hub->lock);
    free(list);
}

static void deadline_after(struct timespec *ts, int64_t ns)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    int64_t t = (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec + ns;
    ts->tv_sec = (time_t)(t / 1000000000LL);
    ts->tv_nsec = (long)(t % 1000000000LL);
}

static void *hub_main(void *arg)
{
    dcm_sse_hub *hub = arg;
    int64_t next_tick = dcm_monotonic_ns() + TICK_NS;
    pthread_mutex_lock(&hub->lock);
    while (!hub->stop) {
        if (!hub->kicked) {
            struct timespec ts;
            int64_t wait = next_tick - dcm_monotonic_ns();
            deadline_after(&ts, wait > 0 ? wait : 0);
            pthread_cond_timedwait(&hub->wake, &hub->lock, &ts);
        }
        if (hub->stop)
            break;
        hub->kicked = false;
        int64_t now = dcm_monotonic_ns();
        bool tick = now >= next_tick;
        bool points = hub->want_points > 0;
        pthread_mutex_unlock(&hub->lock);
        if (tick) {
            next_tick = now + TICK_NS;
            char *text = points && hub->tick ? hub->tick(hub->tick_ctx) : NULL;
            if (text)
                dcm_sse_publish(hub, DCM_SSE_POINTS, -1, text);
            free(text);
        }
        resume_pass(hub, tick, now);
        pthread_mutex_lock(&hub->lock);
    }
    pthread_mutex_unlock(&hub->lock);
    return NULL;
}

dcm_sse_hub *dcm_sse_hub_create(dcm_sse_tick_fn tick, void *tick_ctx)
{
    dcm_sse_hub *hub = calloc(1, sizeof *hub);
    pthread_condattr_t attr;
    bool lock_ready = false, cond_ready = false;
    if (!hub)
        return NULL;
    hub->tick = tick;
    hub->tick_ctx = tick_ctx;
    atomic_init(&hub->closing, false);
    hub->ping = malloc(sizeof *hub->ping + 8);
    if (!hub->ping)
        goto fail;
    atomic_init(&hub->ping->refs, 1);
    hub->ping->type = DCM_SSE_PING;
    hub->ping->window = -1;
    memcpy(hub->ping->text, ": ping\n\n", 8);
    hub->ping->len = 8;
    if (pthread_mutex_init(&hub->lock, NULL) != 0)
        goto fail;
    lock_ready = true;
    /* Monotonic: a step of the wall clock must not stall or hurry the heartbeats. */
    if (pthread_condattr_init(&attr) != 0)
        goto fail;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    cond_ready = pthread_cond_init(&hub->wake, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!cond_ready || pthread_create(&hub->thread, NULL, hub_main, hub) != 0)
        goto fail;
    hub->thread_started = true;
    return hub;
fail:
    if (cond_ready)
        pthread_cond_destroy(&hub->wake);
    if (lock_ready)
        pthread_mutex_destroy(&hub->lock);
    free(hub->ping);
    free(hub);
    return NULL;
}

void dcm_sse_hub_close(dcm_sse_hub *hub)
{
    if (!hub || !hub->thread_started)
        return;
    pthread_mutex_lock(&hub->lock);
    hub->stop = true;
    pthread_cond_signal(&hub->wake);
    pthread_mutex_unlock(&hub->lock);
    pthread_join(hub->thread, NULL);
    hub->thread_started = false;
    atomic_store(&hub->closing, true);
    resume_pass(hub, false, 0);
}

void dcm_sse_hub_destroy(dcm_sse_hub *hub)
{
    if (!hub)
        return;
    dcm_sse_hub_close(hub);
    while (hub->clients) {
        dcm_sse_client *c = hub->clients;
        unlink_client(hub, c);
        client_free(c);
    }
    pthread_cond_destroy(&hub->wake);
    pthread_mutex_destroy(&hub->lock);
    event_unref(hub->ping);
    free(hub);
}

dcm_sse_client *dcm_sse_client_create(dcm_sse_hub *hub, struct MHD_Connection *conn,
                                      const dcm_sse_filter *filter, size_t max_clients)
{
    dcm_sse_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->hub = hub;
    c->conn = conn;
    c->filter = *filter;
    c->refs = 1;
    c->last_send_ns = dcm_monotonic_ns();
    /* The comment line gets the headers and a first byte out at once (proxies and
     * browsers then show the stream as open); retry tells browsers when to reconnect. */
    c->prelude_len = (size_t)snprintf(c->prelude, sizeof c->prelude,
                                      ": dcmetrics events\nretry: %d\n\n", DCM_SSE_RETRY_MS);
    pthread_mutex_lock(&hub->lock);
    if (atomic_load(&hub->closing) || hub->count >= max_clients) {
        hub->rejected++;
        pthread_mutex_unlock(&hub->lock);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    c->next = hub->clients;
    if (hub->clients)
        hub->clients->prev = c;
    hub->clients = c;
    c->linked = true;
    hub->count++;
    hub->connections++;
    count_wants(hub, filter, +1);
    pthread_mutex_unlock(&hub->lock);
    return c;
}

ssize_t dcm_sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    dcm_sse_client *c = cls;
    size_t n = 0;
    (void)pos;
    if (atomic_load(&c->hub->closing))
        return MHD_CONTENT_READER_END_OF_STREAM;
    pthread_mutex_lock(&c->lock);
    if (c->prelude_off < c->prelude_len) {
        size_t k = c->prelude_len - c->prelude_off;
        if (k > max)
            k = max;
        memcpy(buf, c->prelude + c->prelude_off, k);
        c->prelude_off += k;
        n += k;
    }
    while (c->count && n < max) {
        sse_event *e = c->q[c->head];
        size_t k = e->len - c->offset;
        if (k > max - n)
            k = max - n;
        memcpy(buf + n, e->text + c->offset, k);
        c->offset += k;
        n += k;
        if (c->offset == e->len) {
            c->head = (c->head + 1) % DCM_SSE_QUEUE_EVENTS;
            c->count--;
            c->bytes -= e->len;
            c->offset = 0;
            event_unref(e);
        }
    }
    if (n) {
        c->last_send_ns = dcm_monotonic_ns();
        pthread_mutex_unlock(&c->lock);
        return (ssize_t)n;
    }
    /* Nothing to send: leave MHD's event loop until the hub has news or a ping. */
    c->suspended = true;
    MHD_suspend_connection(c->conn);
    pthread_mutex_unlock(&c->lock);
    return 0;
}

void dcm_sse_free(void *cls)
{
    dcm_sse_client *c = cls;
    dcm_sse_hub *hub = c->hub;
    pthread_mutex_lock(&hub->lock);
    unlink_client(hub, c);
    bool last = --c->refs == 0;
    pthread_mutex_unlock(&hub->lock);
    if (last)
        client_free(c);
}

bool dcm_sse_publish(dcm_sse_hub *hub, dcm_sse_type type, int window, const char *data)
{
    bool any = false;
    pthread_mutex_lock(&hub->lock);
    if (!hub->count) {
        pthread_mutex_unlock(&hub->lock);
        return false;
    }
    sse_event *e = event_render(type, window, ++hub->next_id, data);
    if (!e) {
        pthread_mutex_unlock(&hub->lock);
        dcm_log_limited(DCM_LOG_WARN, "http", "out of memory: an event was not sent");
        return false;
    }
    for (dcm_sse_client *c = hub->clients; c; c = c->next) {
        if (!wants(&c->filter, type, window))
            continue;
        pthread_mutex_lock(&c->lock);
        if (enqueue(c, e)) {
            hub->events++;
            any = true;
        } else {
            hub->dropped++;
        }
        pthread_mutex_unlock(&c->lock);
    }
    hub->kicked = true;
    pthread_cond_signal(&hub->wake);
    pthread_mutex_unlock(&hub->lock);
    event_unref(e);
    return any;
}

bool dcm_sse_wanted(dcm_sse_hub *hub, dcm_sse_type type, int window)
{
    bool w = false;
    pthread_mutex_lock(&hub->lock);
    switch (type) {
    case DCM_SSE_KPI: w = window >= 0 && window < DCM_WINDOW_COUNT && hub->want_kpi[window]; break;
    case DCM_SSE_POINTS: w = hub->want_points > 0; break;
    case DCM_SSE_ALERT: w = hub->want_alerts > 0; break;
    case DCM_SSE_PING: w = hub->count > 0; break;
    }
    pthread_mutex_unlock(&hub->lock);
    return w;
}

void dcm_sse_hub_stats(dcm_sse_hub *hub, dcm_sse_stats *out)
{
    pthread_mutex_lock(&hub->lock);
    out->clients = hub->count;
    out->connections = hub->connections;
    out->events = hub->events;
    out->dropped = hub->dropped;
    out->rejected = hub->rejected;
    pthread_mutex_unlock(&hub->lock);
}
