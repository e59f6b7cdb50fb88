/*
 * scheduler.c - collector instances on worker threads, and the services the collector
 * ABI promises them (declare points, emit samples, tagged logs).
 *
 * Each instance is its own schedulable unit (collectd's habit): a worker thread that owns
 * the device connection, so blocking libraries never hold up anyone else. Samples are
 * batched in the instance and handed to the bus once per poll, one lock per poll.
 */
#include "scheduler.h"
#include "scheduler_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"
#include "grow.h"

#define DCM_BUS_BLOCK_MS 200

/* ------------------------------------------------------------ registry */

int dcm_points_init(dcm_points *p)
{
    memset(p, 0, sizeof *p);
    return pthread_mutex_init(&p->lock, NULL) == 0 ? 0 : -1;
}

struct dcm_id_block {
    dcm_id_block *next;
    size_t used, cap;
    char text[];
};

#define DCM_ID_BLOCK_BYTES 16384

void dcm_points_destroy(dcm_points *p)
{
    for (size_t i = 0; i < p->count; i++)
        free(p->items[i].limits);
    for (dcm_id_block *b = p->ids, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(p->items);
    free(p->slots);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof *p);
}

/* A copy of id in the pool, or NULL when memory runs out. */
static const char *pool_id(dcm_points *p, const char *id)
{
    size_t n = strlen(id) + 1;
    dcm_id_block *b = p->ids;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > DCM_ID_BLOCK_BYTES ? n : DCM_ID_BLOCK_BYTES;
        dcm_id_block *nb = malloc(sizeof *nb + cap);
        if (!nb)
            return NULL;
        nb->used = 0;
        nb->cap = cap;
        /* An id longer than a block gets a block of its own behind the current one, which
         * keeps filling. */
        if (b && n > DCM_ID_BLOCK_BYTES) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            p->ids = nb;
        }
        b = nb;
    }
    char *out = b->text + b->used;
    memcpy(out, id, n);
    b->used += n;
    return out;
}

/* FNV-1a: ids share long prefixes ("<instance>."), which it spreads well enough. */
static size_t id_hash(const char *id)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *c = (const unsigned char *)id; *c; c++)
        h = (h ^ *c) * UINT64_C(1099511628211);
    return (size_t)(h ^ (h >> 32));
}

/* The slot holding id, or the empty slot where it would go. */
static size_t id_slot(const dcm_points *p, const char *id)
{
    size_t mask = p->slot_cap - 1, i = id_hash(id) & mask;
    while (p->slots[i] && strcmp(p->items[p->slots[i] - 1].id, id) != 0)
        i = (i + 1) & mask;
    return i;
}

/* Keeps the index at most three quarters full for one more point (linear probing stays
 * short at that load). False when memory runs out (the old index stays valid). */
static bool index_reserve(dcm_points *p)
{
    if (p->slot_cap && (p->count + 1) * 4 <= p->slot_cap * 3)
        return true;
    size_t cap = p->slot_cap ? p->slot_cap * 2 : 256;
    if (cap > SIZE_MAX / sizeof *p->slots)
        return false;
    uint32_t *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    free(p->slots);
    p->slots = slots;
    p->slot_cap = cap;
    for (size_t k = 0; k < p->count; k++)
        p->slots[id_slot(p, p->items[k].id)] = (uint32_t)(k + 1);
    return true;
}

int64_t dcm_points_add(dcm_points *p, const char *id, const dcm_unit_info *unit, dcm_kind kind,
                       double wrap_modulus, double max_rate, uint32_t instance, const char *tag)
{
    int64_t index = -1;
    dcm_point_limits *limits = NULL;
    if (!unit) {
        dcm_log(DCM_LOG_ERROR, tag, "point '%s' has no unit", id);
        return -1;
    }
    pthread_mutex_lock(&p->lock);
    if (p->count >= UINT32_MAX - 1) { /* handles are uint32_t, UINT32_MAX a marker */
        dcm_log(DCM_LOG_ERROR, tag, "too many points declaring '%s'", id);
        goto out;
    }
    if (!index_reserve(p))
        goto nomem;
    size_t slot = id_slot(p, id);
    if (p->slots[slot]) {
        dcm_log(DCM_LOG_ERROR, tag, "point '%s' is declared twice", id);
        goto out;
    }
    /* Only an integrated quantity uses the limits. */
    if (unit->quantity != DCM_QTY_OTHER && (wrap_modulus > 0 || max_rate > 0)) {
        limits = malloc(sizeof *limits);
        if (!limits)
            goto nomem;
        *limits = (dcm_point_limits){wrap_modulus, max_rate};
    }
    if (!dcm_grow((void **)&p->items, &p->cap, p->count + 1, sizeof *p->items, 64))
        goto nomem;
    const char *pooled = pool_id(p, id);
    if (!pooled)
        goto nomem;
    p->items[p->count] = (dcm_point){
        .id = pooled,
        .unit = unit,
        .limits = limits,
        .instance = instance,
        .engine_id = DCM_POINT_NO_ENGINE,
        .kind = (uint8_t)kind,
        .last_quality = DCM_QUALITY_INVALID,
    };
    limits = NULL;
    index = (int64_t)p->count++;
    p->slots[slot] = (uint32_t)p->count;
    goto out;
nomem:
    dcm_log(DCM_LOG_ERROR, tag, "out of memory declaring point '%s'", id);
out:
    pthread_mutex_unlock(&p->lock);
    free(limits);
    return index;
}

/* ----------------------------------------------------- collector services */

const char *dcm_collector_name(const dcm_collector_ctx *ctx) { return ctx->cfg->name; }
const dcm_node *dcm_collector_config_node(const dcm_collector_ctx *ctx) { return ctx->cfg->node; }
int64_t dcm_collector_interval_ns(const dcm_collector_ctx *ctx) { return ctx->cfg->interval_ns; }
int64_t dcm_collector_timeout_ns(const dcm_collector_ctx *ctx) { return ctx->cfg->timeout_ns; }

void dcm_collector_log(dcm_collector_ctx *ctx, dcm_log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dcm_log_limitedv(level, ctx->tag, fmt, ap);
    va_end(ap);
}

int dcm_collector_declare_point(dcm_collector_ctx *ctx, const dcm_point_decl *decl,
                                uint32_t *handle)
{
    char why[160];
    char id[256];
    if (!decl || !decl->name || !decl->unit || !handle)
        return -1;
    const dcm_unit_info *unit = dcm_unit_find(decl->unit);
    if (!unit) {
        dcm_log(DCM_LOG_ERROR, ctx->tag, "point '%s': unknown unit '%s'", decl->name,
                decl->unit);
        return -1;
    }
    if (!dcm_unit_fits_kind(unit, decl->kind, why, sizeof why)) {
        dcm_log(DCM_LOG_ERROR, ctx->tag, "point '%s': %s", decl->name, why);
        return -1;
    }
    if ((size_t)snprintf(id, sizeof id, "%s.%s", ctx->cfg->name, decl->name) >= sizeof id) {
        dcm_log(DCM_LOG_ERROR, ctx->tag, "point name '%s' is too long", decl->name);
        return -1;
    }
    /* The wrap modulus of a fixed-width register, in the engine unit. */
    double modulus = 0;
    if (decl->kind == DCM_KIND_COUNTER && decl->counter_wrap > 0 && isfinite(decl->counter_wrap)) {
        modulus = decl->counter_wrap * unit->factor;
    } else if (decl->kind == DCM_KIND_COUNTER && decl->counter_bits > 0 &&
               decl->counter_bits < 64) {
        double scale = decl->counter_scale > 0 ? decl->counter_scale : 1.0;
        modulus = ldexp(1.0, decl->counter_bits) * scale * unit->factor;
    }
    /* max_rate is declared in the rate unit that goes with the amount unit: W for Wh. */
    double max_rate = decl->max_rate > 0 ? decl->max_rate * unit->factor : 0;
    int64_t idx = dcm_points_add(ctx->sched->env.points, id, unit, decl->kind, modulus,
                                 max_rate, ctx->index, ctx->tag);
    if (idx < 0)
        return -1;
    *handle = (uint32_t)idx;
    return 0;
}

static void flush_batch(dcm_collector_ctx *ctx)
{
    if (!ctx->batch_count)
        return;
    size_t sent = dcm_bus_push(ctx->sched->env.bus, ctx->batch, ctx->batch_count,
                               DCM_BUS_BLOCK_MS);
    if (sent < ctx->batch_count)
        dcm_log_limited(DCM_LOG_WARN, ctx->tag,
                        "pipeline behind: dropped %zu samples (counted in the snapshot)",
                        ctx->batch_count - sent);
    ctx->batch_count = 0;
}

/* Room for one more sample: the batch grows up to DCM_BATCH_CAP, and is handed on when
 * full (or when it cannot grow: more pushes, nothing lost). False only when there is no
 * batch at all and none can be allocated. */
static bool batch_room(dcm_collector_ctx *ctx)
{
    if (ctx->batch_count < ctx->batch_cap)
        return true;
    if (ctx->batch_cap < DCM_BATCH_CAP &&
        dcm_grow((void **)&ctx->batch, &ctx->batch_cap, ctx->batch_count + 1,
                 sizeof *ctx->batch, DCM_BATCH_INITIAL))
        return true;
    flush_batch(ctx);
    if (ctx->batch_cap)
        return true;
    dcm_log_limited(DCM_LOG_ERROR, ctx->tag, "out of memory: a sample is lost");
    return false;
}

/* Queues the instance's watermark behind its samples and hands the batch to the bus.
 * The batch is released with the poll: a thousand idle instances hold none. */
void dcm_sched_flush(dcm_collector_ctx *ctx, int64_t watermark)
{
    if (batch_room(ctx))
        ctx->batch[ctx->batch_count++] = (dcm_sample){
            .point = DCM_SAMPLE_WATERMARK, .ts_ns = watermark, .value = (double)ctx->index};
    flush_batch(ctx);
    free(ctx->batch);
    ctx->batch = NULL;
    ctx->batch_cap = 0;
}

void dcm_collector_emit(dcm_collector_ctx *ctx, uint32_t handle, int64_t ts_ns, double value,
                        dcm_quality q)
{
    dcm_points *pts = ctx->sched->env.points;
    double factor;
    pthread_mutex_lock(&pts->lock);
    if (handle >= pts->count || pts->items[handle].instance != ctx->index) {
        pthread_mutex_unlock(&pts->lock);
        dcm_log_limited(DCM_LOG_ERROR, ctx->tag, "emit on a point this instance did not declare");
        return;
    }
    factor = pts->items[handle].unit->factor;
    pthread_mutex_unlock(&pts->lock);

    double v = value * factor;
    if (!isfinite(v)) {
        v = 0;
        q = DCM_QUALITY_INVALID;
    }
    if (!batch_room(ctx))
        return;
    ctx->batch[ctx->batch_count++] =
        (dcm_sample){.point = handle, .quality = (uint8_t)q, .ts_ns = ts_ns, .value = v};
    if (ts_ns > ctx->poll_newest_ts)
        ctx->poll_newest_ts = ts_ns;
}

/* ---------------------------------------------------------------- health */

static void declare_health_points(dcm_collector_ctx *ctx)
{
    static const struct {
        const char *name, *unit;
    } health[3] = {{"health.up", "bool"}, {"health.latency", "ms"}, {"health.failures", "count"}};
    char id[256];
    for (int i = 0; i < 3; i++) {
        snprintf(id, sizeof id, "%s.%s", ctx->cfg->name, health[i].name);
        ctx->health_points[i] = dcm_points_add(ctx->sched->env.points, id,
                                               dcm_unit_find(health[i].unit), DCM_KIND_GAUGE,
                                               0, 0, ctx->index, ctx->tag);
    }
}

static void emit_health(dcm_collector_ctx *ctx, int64_t now, bool up, int64_t latency_ns,
                        uint64_t failures)
{
    double values[3] = {up ? 1.0 : 0.0, (double)latency_ns / 1e6, (double)failures};
    for (int i = 0; i < 3; i++)
        if (ctx->health_points[i] >= 0)
            dcm_collector_emit(ctx, (uint32_t)ctx->health_points[i], now, values[i],
                               DCM_QUALITY_OK);
}

const char *dcm_sched_status_text(dcm_collector_status st)
{
    switch (st) {
    case DCM_COLLECTOR_OK: return "ok";
    case DCM_COLLECTOR_RETRY: return "device unreachable or reply invalid";
    case DCM_COLLECTOR_DISABLED: return "disabled";
    case DCM_COLLECTOR_FATAL: return "configuration cannot run";
    }
    return "?";
}

/* Records the outcome of one poll; logs a failure (rate-limited) and a recovery (once).
 * The health samples are stamped at the watermark: in accelerated time a sample stamped
 * ahead of the instance's data would move the engine's windows past that data. */
void dcm_sched_record(dcm_collector_ctx *ctx, dcm_collector_status st, int64_t now,
                      int64_t latency, int64_t stamp)
{
    dcm_scheduler *s = ctx->sched;
    uint64_t down_polls = 0, failures;
    int64_t down_since = 0;
    pthread_mutex_lock(&s->health_lock);
    dcm_instance_health *h = &ctx->health;
    h->polls++;
    h->last_latency_ns = latency;
    if (st == DCM_COLLECTOR_OK) {
        down_polls = h->consecutive_failures;
        down_since = h->last_ok_ns;
        h->consecutive_failures = 0;
        h->up = true;
        h->last_ok_ns = now;
    } else {
        h->failures++;
        h->consecutive_failures++;
        h->up = false;
        snprintf(h->last_error, sizeof h->last_error, "%s", dcm_sched_status_text(st));
    }
    failures = h->failures;
    pthread_mutex_unlock(&s->health_lock);

    if (st == DCM_COLLECTOR_OK && down_polls > 0)
        dcm_log(DCM_LOG_INFO, ctx->tag, "recovered after %" PRIu64 " failed polls (%.1f s)",
                down_polls, down_since ? (double)(now - down_since) / 1e9 : 0.0);
    else if (st == DCM_COLLECTOR_RETRY)
        dcm_log_limited(DCM_LOG_WARN, ctx->tag, "poll failed: %s; backing off", dcm_sched_status_text(st));
    emit_health(ctx, stamp, st == DCM_COLLECTOR_OK, latency, failures);
}

/* ---------------------------------------------------------------- worker */

int64_t dcm_sched_backoff(const dcm_collector_ctx *ctx, int64_t interval)
{
    uint64_t n = ctx->health.consecutive_failures;
    int64_t backoff = interval;
    for (uint64_t i = 1; i < n && backoff < DCM_BACKOFF_MAX_NS; i++)
        backoff *= 2;
    return backoff > DCM_BACKOFF_MAX_NS ? DCM_BACKOFF_MAX_NS : backoff;
}

static void *worker_main(void *arg)
{
    dcm_collector_ctx *ctx = arg;
    dcm_scheduler *s = ctx->sched;
    const dcm_clock *clock = s->env.clock;
    int64_t interval = ctx->cfg->interval_ns > 0 ? ctx->cfg->interval_ns : DCM_NS_PER_S;
    int64_t next_due = dcm_clock_now(clock);
    bool first = true;

    while (!s->stop) {
        /* The first poll happens at the clock's start, so an accelerated clock that ran
         * on while threads started does not leave a hole at the beginning. */
        int64_t now = first ? clock->start_ns : dcm_clock_now(clock);
        int64_t t0 = dcm_monotonic_ns();
        first = false;
        ctx->poll_newest_ts = INT64_MIN;
        dcm_collector_status st;
        if (!ctx->initialised) {
            st = ctx->desc->init(ctx, &ctx->state);
            ctx->initialised = st == DCM_COLLECTOR_OK;
        } else {
            st = ctx->desc->poll(ctx->state, ctx, now);
        }
        int64_t latency = dcm_monotonic_ns() - t0;
        /* Delivered up to the newest sample of this poll (a collector catching up on
         * simulated time may stop short of now), or up to now if it emitted nothing. */
        int64_t watermark = ctx->poll_newest_ts != INT64_MIN && ctx->poll_newest_ts < now
                                ? ctx->poll_newest_ts
                                : now;
        dcm_sched_record(ctx, st, now, latency, watermark);
        bool finished = st == DCM_COLLECTOR_DISABLED || st == DCM_COLLECTOR_FATAL;
        dcm_sched_flush(ctx, finished ? INT64_MAX : watermark);
        if (finished) {
            dcm_log(st == DCM_COLLECTOR_FATAL ? DCM_LOG_ERROR : DCM_LOG_WARN, ctx->tag,
                    "stopped: %s", dcm_sched_status_text(st));
            pthread_mutex_lock(&s->health_lock);
            ctx->health.disabled = true;
            pthread_mutex_unlock(&s->health_lock);
            ctx->stopped = true;
            break;
        }
        int64_t wait = interval;
        if (st == DCM_COLLECTOR_RETRY) {
            /* Capped exponential backoff, in real time: a dead device costs little. */
            dcm_sleep_ns(dcm_sched_backoff(ctx, interval), &s->stop);
            next_due = dcm_clock_now(clock);
            continue;
        }
        next_due += wait;
        now = dcm_clock_now(clock);
        if (next_due <= now) {
            /* Overran the interval: skip the missed slots rather than bunching polls. */
            if (clock->speed == 1.0 && now - next_due > interval)
                dcm_log_limited(DCM_LOG_WARN, ctx->tag, "poll took %.1f ms, over the %.0f ms interval",
                                (double)latency / 1e6, (double)interval / 1e6);
            next_due = now + wait;
        }
        dcm_sleep_ns(dcm_clock_real_ns(clock, next_due - now), &s->stop);
    }
    /* Stopped on request: everything up to the last poll's watermark is delivered and
     * no more; windows after it stay open rather than close empty. */
    flush_batch(ctx);
    return NULL;
}

/* ------------------------------------------------------------- lifecycle */

dcm_scheduler *dcm_scheduler_create(const dcm_scheduler_env *env)
{
    dcm_scheduler *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->env = *env;
    pthread_mutex_init(&s->health_lock, NULL);
    const dcm_config *cfg = env->config;
    s->instances = calloc(cfg->collector_count ? cfg->collector_count : 1, sizeof *s->instances);
    if (!s->instances)
        goto fail;
    for (size_t i = 0; i < cfg->collector_count; i++) {
        const dcm_collector_config *cc = &cfg->collectors[i];
        if (!cc->enabled || !cc->descriptor)
            continue;
        dcm_collector_ctx *ctx = &s->instances[s->count];
        ctx->sched = s;
        ctx->index = (uint32_t)s->count;
        ctx->cfg = cc;
        ctx->desc = cc->descriptor;
        snprintf(ctx->tag, sizeof ctx->tag, "%s/%s", cc->type, cc->name);
        ctx->health.name = strdup(cc->name);
        ctx->health.type = strdup(cc->type);
        if (!ctx->health.name || !ctx->health.type) {
            free(ctx->health.name);
            free(ctx->health.type);
            goto fail;
        }
        s->count++;
        if (ctx->desc->abi_version != DCM_COLLECTOR_ABI) {
            dcm_log(DCM_LOG_ERROR, ctx->tag, "built for collector ABI %d, agent has %d: not started",
                    ctx->desc->abi_version, DCM_COLLECTOR_ABI);
            ctx->stopped = true;
            ctx->health.disabled = true;
            continue;
        }
        declare_health_points(ctx);
        dcm_collector_status st = ctx->desc->init(ctx, &ctx->state);
        if (st == DCM_COLLECTOR_OK) {
            ctx->initialised = true;
        } else if (st == DCM_COLLECTOR_RETRY) {
            /* The worker retries init with backoff. */
            dcm_log(DCM_LOG_WARN, ctx->tag, "not ready yet: %s; will retry", dcm_sched_status_text(st));
        } else {
            dcm_log(DCM_LOG_ERROR, ctx->tag, "not started: %s", dcm_sched_status_text(st));
            ctx->stopped = true;
            ctx->health.disabled = true;
        }
    }
    return s;
fail:
    dcm_log(DCM_LOG_ERROR, "scheduler", "out of memory creating collector instances");
    dcm_scheduler_destroy(s);
    return NULL;
}

int dcm_scheduler_start(dcm_scheduler *s)
{
    int started = 0;
    for (size_t i = 0; i < s->count; i++) {
        dcm_collector_ctx *ctx = &s->instances[i];
        if (ctx->stopped) {
            dcm_sched_flush(ctx, INT64_MAX);
            continue;
        }
        if (ctx->desc->async) {
            /* Instances of an asynchronous type share one event loop (started below). */
            started++;
            continue;
        }
        if (pthread_create(&ctx->thread, NULL, worker_main, ctx) != 0) {
            dcm_log(DCM_LOG_ERROR, ctx->tag, "cannot start worker thread");
            return -1;
        }
        ctx->thread_started = true;
        started++;
    }
    if (dcm_sched_start_loops(s) != 0)
        return -1;
    return started;
}

void dcm_scheduler_destroy(dcm_scheduler *s)
{
    if (!s)
        return;
    s->stop = true;
    for (size_t i = 0; i < s->count; i++) {
        dcm_collector_ctx *ctx = &s->instances[i];
        if (ctx->thread_started)
            pthread_join(ctx->thread, NULL);
    }
    dcm_sched_stop_loops(s);
    for (size_t i = 0; i < s->count; i++) {
        dcm_collector_ctx *ctx = &s->instances[i];
        if (ctx->initialised && ctx->desc->close)
            ctx->desc->close(ctx->state);
        free(ctx->batch);
        free(ctx->health.name);
        free(ctx->health.type);
    }
    free(s->instances);
    pthread_mutex_destroy(&s->health_lock);
    free(s);
}

size_t dcm_scheduler_count(const dcm_scheduler *s) { return s->count; }

size_t dcm_scheduler_health(dcm_scheduler *s, dcm_instance_health **out)
{
    *out = NULL;
    if (!s->count)
        return 0;
    dcm_instance_health *h = calloc(s->count, sizeof *h);
    if (!h)
        return 0;
    pthread_mutex_lock(&s->health_lock);
    for (size_t i = 0; i < s->count; i++) {
        h[i] = s->instances[i].health;
        h[i].name = strdup(s->instances[i].health.name);
        h[i].type = strdup(s->instances[i].health.type);
    }
    pthread_mutex_unlock(&s->health_lock);
    *out = h;
    return s->count;
}

void dcm_health_free(dcm_instance_health *h, size_t n)
{
    for (size_t i = 0; h && i < n; i++) {
        free(h[i].name);
        free(h[i].type);
    }
    free(h);
}
