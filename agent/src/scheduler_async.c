/*
 * scheduler_async.c - the event loop that runs every instance of one asynchronous
 * collector type (descriptor->async) on a single thread.
 *
 * Thousands of SNMP devices cannot each have a thread, and the library wants its I/O on
 * one thread anyway. The loop keeps the per-instance semantics of the threaded
 * scheduler: each instance has its own schedule, deadline and backoff, and its polls are
 * recorded by the same dcm_sched_record()/dcm_sched_flush(); an instance that waits on
 * a dead device only occupies a slot in the poll(2) set.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include "scheduler_int.h"

#define LOOP_TICK_NS (INT64_C(50) * 1000000) /* longest sleep: stop requests are seen */
/* Instances start spread over at most this much of their interval, in steps of
 * PHASE_STEP_NS (see phase_of). */
#define PHASE_SPREAD_MAX_NS (INT64_C(1000) * 1000000)
#define PHASE_STEP_NS (INT64_C(10) * 1000000)

typedef struct slot {
    dcm_collector_ctx *ctx;
    bool first;         /* the first poll is stamped at the clock's start */
    bool in_flight;
    int64_t due;        /* monotonic ns of the next poll */
    int64_t deadline;   /* monotonic ns by which the poll in flight must end */
    int64_t started;    /* monotonic ns the poll began */
    int64_t now;        /* clock ns the poll is stamped with */
    int64_t timer;      /* monotonic ns of the instance's own timer, 0 = none */
    size_t fd_first, fd_count; /* its range in the loop's pollfd array */
} slot;

struct dcm_sched_loop {
    dcm_scheduler *sched;
    const dcm_collector_descriptor *desc;
    slot *slots;
    size_t count;
    struct pollfd *fds;
    pthread_t thread;
    bool started;
};

static int64_t interval_of(const dcm_collector_ctx *ctx)
{
    return ctx->cfg->interval_ns > 0 ? ctx->cfg->interval_ns : DCM_NS_PER_S;
}

/* An instance's fixed offset within its interval, from its name (so that adding or
 * removing another instance moves no one): a thousand devices polled on the same
 * instant would all have requests in flight together, each holding the library's
 * buffers. Spread over the interval, but over no more than PHASE_SPREAD_MAX_NS so that a
 * long interval does not delay the first reading. The offsets are whole steps: every
 * pass of the loop visits every instance, so instances that start together share the
 * passes (and the wake-ups) their replies need. Real time only: in accelerated time the
 * first poll stays at the clock's start so the windows have no hole there. */
static int64_t phase_of(const dcm_sched_loop *L, const dcm_collector_ctx *ctx)
{
    const dcm_clock *clock = L->sched->env.clock;
    if (clock->speed != 1.0 || L->count < 2)
        return 0;
    int64_t spread = interval_of(ctx);
    if (spread > PHASE_SPREAD_MAX_NS)
        spread = PHASE_SPREAD_MAX_NS;
    uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
    for (const unsigned char *c = (const unsigned char *)ctx->cfg->name; *c; c++)
        h = (h ^ *c) * UINT64_C(1099511628211);
    uint64_t steps = (uint64_t)(spread / PHASE_STEP_NS);
    return steps < 2 ? 0 : (int64_t)((h ^ (h >> 29)) % steps) * PHASE_STEP_NS;
}

/* The poll has ended: record it, hand its samples on and plan the next one. */
static void finish(dcm_sched_loop *L, slot *sl, dcm_collector_status st, int64_t mono)
{
    dcm_collector_ctx *ctx = sl->ctx;
    const dcm_clock *clock = L->sched->env.clock;
    int64_t interval = interval_of(ctx);
    int64_t now = sl->now;
    sl->in_flight = false;
    sl->timer = 0;
    int64_t watermark = ctx->poll_newest_ts != INT64_MIN && ctx->poll_newest_ts < now
                            ? ctx->poll_newest_ts
                            : now;
    dcm_sched_record(ctx, st, now, mono - sl->started, watermark);
    bool finished = st == DCM_COLLECTOR_DISABLED || st == DCM_COLLECTOR_FATAL;
    dcm_sched_flush(ctx, finished ? INT64_MAX : watermark);
    if (finished) {
        dcm_log(st == DCM_COLLECTOR_FATAL ? DCM_LOG_ERROR : DCM_LOG_WARN, ctx->tag,
                "stopped: %s", dcm_sched_status_text(st));
        pthread_mutex_lock(&L->sched->health_lock);
        ctx->health.disabled = true;
        pthread_mutex_unlock(&L->sched->health_lock);
        ctx->stopped = true;
        return;
    }
    if (st == DCM_COLLECTOR_RETRY) {
        sl->due = mono + dcm_sched_backoff(ctx, interval);
        return;
    }
    int64_t step = dcm_clock_real_ns(clock, interval);
    sl->due += step;
    if (sl->due <= mono) {
        /* Overran the interval: skip the missed slots rather than bunching polls. */
        if (clock->speed == 1.0 && mono - sl->due > step)
            dcm_log_limited(DCM_LOG_WARN, ctx->tag, "poll took %.1f ms, over the %.0f ms interval",
                            (double)(mono - sl->started) / 1e6, (double)interval / 1e6);
        sl->due = mono + step;
    }
}

static void begin(dcm_sched_loop *L, slot *sl, int64_t mono)
{
    dcm_collector_ctx *ctx = sl->ctx;
    const dcm_clock *clock = L->sched->env.clock;
    sl->now = sl->first ? clock->start_ns : dcm_clock_now(clock);
    sl->first = false;
    sl->started = mono;
    ctx->poll_newest_ts = INT64_MIN;
    dcm_collector_status st;
    if (!ctx->initialised) {
        st = ctx->desc->init(ctx, &ctx->state);
        ctx->initialised = st == DCM_COLLECTOR_OK;
        finish(L, sl, st, dcm_monotonic_ns());
        return;
    }
    st = L->desc->async->begin(ctx->state, ctx, sl->now);
    if (st != DCM_COLLECTOR_OK) {
        finish(L, sl, st, dcm_monotonic_ns());
        return;
    }
    sl->in_flight = true;
    int64_t timeout = ctx->cfg->timeout_ns > 0 ? ctx->cfg->timeout_ns : interval_of(ctx);
    sl->deadline = mono + dcm_clock_real_ns(clock, timeout);
}

static void *loop_main(void *arg)
{
    dcm_sched_loop *L = arg;
    dcm_scheduler *s = L->sched;
    const dcm_collector_async *ops = L->desc->async;
    /* Named so that `top -H` and per-thread CPU accounting can tell the loop apart. */
    char name[16];
    snprintf(name, sizeof name, "dcm-%s", L->desc->name);
    prctl(PR_SET_NAME, name, 0, 0, 0);
    int64_t mono = dcm_monotonic_ns();
    for (size_t i = 0; i < L->count; i++) {
        slot *sl = &L->slots[i];
        int64_t phase = phase_of(L, sl->ctx);
        sl->due = mono + phase;
        /* A poll that starts later than the clock's start carries its own time. */
        sl->first = phase == 0;
    }

    while (!s->stop) {
        mono = dcm_monotonic_ns();
        int64_t wake = mono + LOOP_TICK_NS;
        size_t nfds = 0;
        for (size_t i = 0; i < L->count; i++) {
            slot *sl = &L->slots[i];
            if (sl->ctx->stopped)
                continue;
            if (!sl->in_flight && sl->due <= mono)
                begin(L, sl, mono);
            if (sl->ctx->stopped)
                continue;
            if (!sl->in_flight) {
                if (sl->due < wake)
                    wake = sl->due;
                continue;
            }
            sl->fd_first = nfds;
            sl->timer = 0;
            sl->fd_count = ops->wait(sl->ctx->state, &L->fds[nfds], DCM_COLLECTOR_ASYNC_MAX_FDS,
                                     &sl->timer);
            if (sl->fd_count > DCM_COLLECTOR_ASYNC_MAX_FDS)
                sl->fd_count = DCM_COLLECTOR_ASYNC_MAX_FDS;
            for (size_t k = 0; k < sl->fd_count; k++)
                L->fds[nfds + k].revents = 0;
            nfds += sl->fd_count;
            if (sl->timer > 0 && sl->timer < wake)
                wake = sl->timer;
            if (sl->deadline < wake)
                wake = sl->deadline;
        }
        int64_t wait_ns = wake - dcm_monotonic_ns();
        int timeout_ms = wait_ns <= 0 ? 0 : (int)((wait_ns + 999999) / 1000000);
        int ready = poll(L->fds, (nfds_t)nfds, timeout_ms);
        if (ready < 0 && errno != EINTR) {
            dcm_log_limited(DCM_LOG_ERROR, L->desc->name, "poll failed: %s", strerror(errno));
            dcm_sleep_ns(LOOP_TICK_NS, &s->stop);
            continue;
        }
        mono = dcm_monotonic_ns();
        for (size_t i = 0; i < L->count; i++) {
            slot *sl = &L->slots[i];
            if (!sl->in_flight)
                continue;
            bool any = false;
            for (size_t k = 0; k < sl->fd_count; k++)
                any = any || L->fds[sl->fd_first + k].revents != 0;
            if (any || (sl->timer > 0 && sl->timer <= mono)) {
                dcm_collector_status st = DCM_COLLECTOR_RETRY;
                if (ops->advance(sl->ctx->state, sl->ctx, &L->fds[sl->fd_first], sl->fd_count,
                                 mono, &st)) {
                    finish(L, sl, st, dcm_monotonic_ns());
                    continue;
                }
            }
            if (sl->in_flight && sl->deadline <= mono)
                finish(L, sl, ops->cancel(sl->ctx->state, sl->ctx), mono);
        }
    }
    /* Stopped on request: a poll in flight is dropped; what was delivered stays. */
    for (size_t i = 0; i < L->count; i++) {
        slot *sl = &L->slots[i];
        if (sl->in_flight) {
            ops->cancel(sl->ctx->state, sl->ctx);
            sl->in_flight = false;
        }
        sl->ctx->batch_count = 0;
    }
    return NULL;
}

static dcm_sched_loop *loop_for(dcm_scheduler *s, const dcm_collector_descriptor *d)
{
    for (size_t i = 0; i < s->loop_count; i++)
        if (s->loops[i].desc == d)
            return &s->loops[i];
    dcm_sched_loop *grown = realloc(s->loops, (s->loop_count + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    s->loops = grown;
    dcm_sched_loop *L = &s->loops[s->loop_count++];
    memset(L, 0, sizeof *L);
    L->sched = s;
    L->desc = d;
    return L;
}

int dcm_sched_start_loops(dcm_scheduler *s)
{
    for (size_t i = 0; i < s->count; i++) {
        dcm_collector_ctx *ctx = &s->instances[i];
        if (ctx->stopped || !ctx->desc->async)
            continue;
        dcm_sched_loop *L = loop_for(s, ctx->desc);
        if (!L)
            goto nomem;
        slot *grown = realloc(L->slots, (L->count + 1) * sizeof *grown);
        if (!grown)
            goto nomem;
        L->slots = grown;
        L->slots[L->count++] = (slot){.ctx = ctx, .first = true};
    }
    for (size_t i = 0; i < s->loop_count; i++) {
        dcm_sched_loop *L = &s->loops[i];
        L->fds = calloc(L->count * DCM_COLLECTOR_ASYNC_MAX_FDS, sizeof *L->fds);
        if (!L->fds)
            goto nomem;
        if (pthread_create(&L->thread, NULL, loop_main, L) != 0) {
            dcm_log(DCM_LOG_ERROR, L->desc->name, "cannot start the event-loop thread");
            return -1;
        }
        L->started = true;
        dcm_log(DCM_LOG_DEBUG, L->desc->name, "%zu instances on one event loop", L->count);
    }
    return 0;
nomem:
    dcm_log(DCM_LOG_ERROR, "scheduler", "out of memory starting the event loops");
    return -1;
}

void dcm_sched_stop_loops(dcm_scheduler *s)
{
    for (size_t i = 0; i < s->loop_count; i++) {
        dcm_sched_loop *L = &s->loops[i];
        if (L->started)
            pthread_join(L->thread, NULL);
        free(L->slots);
        free(L->fds);
    }
    free(s->loops);
    s->loops = NULL;
    s->loop_count = 0;
}
