/* The Modbus collector: one libmodbus context per instance (a TCP connection or a serial
 * port) owned by the instance's worker, one request plan per device behind it. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/collector.h"
#include "grow.h"
#include "modbus_config.h"
#include "modbus_poll.h"
#include "runtime.h"

#define NS_PER_S INT64_C(1000000000)
#define BACKOFF_CAP_NS (60 * NS_PER_S)

enum { H_UP = 0, H_LATENCY, H_ERRORS, H_TIMEOUTS, H_COUNT };

typedef struct mb_state {
    dcm_collector_ctx *ctx;
    char tag[96];
    dcm_mb_url url;
    dcm_mb_link *link;
    dcm_mb_bus bus;
    dcm_mb_device *devices;
    size_t device_count;
    uint32_t **handles;               /* per device, per point */
    uint32_t (*health)[H_COUNT];      /* per device */
    bool claimed;                     /* holds url.device in the port registry */
    bool warned_rs485;
} mb_state;

/* ------------------------------------------------------- serial port owners */

/* Two contexts on one tty garble each other's frames: a port belongs to one instance
 * for its lifetime. Instances start on different threads, hence the lock. */
typedef struct port_owner {
    char *device;
    const mb_state *owner;
    char *instance;
} port_owner;

static pthread_mutex_t ports_lock = PTHREAD_MUTEX_INITIALIZER;
static port_owner *ports;
static size_t port_count, port_cap;

/* Returns 1 if claimed, 0 if another instance holds it (its name in other), -1 on OOM. */
static int claim_port(const mb_state *st, const char *device, const char *instance,
                      char *other, size_t other_size)
{
    int rc = 1;
    pthread_mutex_lock(&ports_lock);
    for (size_t i = 0; i < port_count; i++) {
        if (strcmp(ports[i].device, device) == 0) {
            snprintf(other, other_size, "%s", ports[i].instance);
            rc = 0;
            goto out;
        }
    }
    if (!dcm_grow((void **)&ports, &port_cap, port_count + 1, sizeof *ports, 4)) {
        rc = -1;
        goto out;
    }
    port_owner *p = &ports[port_count];
    p->device = strdup(device);
    p->instance = strdup(instance);
    p->owner = st;
    if (!p->device || !p->instance) {
        free(p->device);
        free(p->instance);
        rc = -1;
        goto out;
    }
    port_count++;
out:
    pthread_mutex_unlock(&ports_lock);
    return rc;
}

static void release_port(const mb_state *st)
{
    pthread_mutex_lock(&ports_lock);
    for (size_t i = 0; i < port_count; i++) {
        if (ports[i].owner == st) {
            free(ports[i].device);
            free(ports[i].instance);
            ports[i] = ports[--port_count];
            break;
        }
    }
    if (port_count == 0) {
        free(ports);
        ports = NULL;
        port_cap = 0;
    }
    pthread_mutex_unlock(&ports_lock);
}

/* ------------------------------------------------------------------ events */

static const char *device_label(const dcm_mb_device *dev)
{
    return dev->name ? dev->name : "device";
}

static void on_split(void *ud, const dcm_mb_device *dev, const dcm_mb_request *req,
                     const char *why)
{
    mb_state *st = ud;
    dcm_collector_log(st->ctx, DCM_LOG_WARN,
                      "%s (unit %d): %s %u..%u refused (%s); reading its %zu points one by one "
                      "from now on",
                      device_label(dev), dev->unit, dcm_mb_table_name(req->table), req->start,
                      req->start + req->count - 1u, why, req->n);
}

static void on_refused(void *ud, const dcm_mb_device *dev, size_t point, const char *why)
{
    mb_state *st = ud;
    const dcm_mb_point *p = &dev->points[point];
    dcm_collector_log(st->ctx, DCM_LOG_WARN,
                      "%s (unit %d): point %s (%s %u) refused (%s): reported as invalid",
                      device_label(dev), dev->unit, p->name, dcm_mb_table_name(p->table),
                      p->address, why);
}

/* ------------------------------------------------------------------ init */

static void mb_close(void *state)
{
    mb_state *st = state;
    if (!st)
        return;
    if (st->link)
        dcm_mb_bus_close(&st->bus);
    dcm_mb_link_destroy(st->link);
    for (size_t i = 0; i < st->device_count; i++) {
        dcm_mb_device_free(&st->devices[i]);
        if (st->handles)
            free(st->handles[i]);
    }
    free(st->devices);
    free(st->handles);
    free(st->health);
    if (st->claimed)
        release_port(st);
    free(st);
}

static void report(mb_state *st, const dcm_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        const dcm_diag *g = &d->items[i];
        dcm_log(g->severity == DCM_DIAG_ERROR ? DCM_LOG_ERROR : DCM_LOG_WARN, st->tag,
                "%s:%d:%d: %s%s%s", g->file ? g->file : "?", g->line, g->column,
                g->path ? g->path : "", g->path && g->path[0] ? ": " : "",
                g->message ? g->message : "");
    }
}

static int declare(mb_state *st, const char *device, const char *name, const char *unit,
                   dcm_kind kind, int bits, double scale, double max_rate, uint32_t *handle)
{
    char full[256];
    if (device)
        snprintf(full, sizeof full, "%s.%s", device, name);
    else
        snprintf(full, sizeof full, "%s", name);
    dcm_point_decl decl = {.name = full, .unit = unit, .kind = kind, .counter_bits = bits,
                           .counter_scale = scale > 0 ? scale : 1.0, .max_rate = max_rate};
    return dcm_collector_declare_point(st->ctx, &decl, handle);
}

static bool declare_device(mb_state *st, size_t d)
{
    const dcm_mb_device *dev = &st->devices[d];
    for (size_t i = 0; i < dev->point_count; i++) {
        const dcm_mb_point *p = &dev->points[i];
        if (declare(st, dev->name, p->name, p->unit, p->kind, p->counter_bits, p->scale,
                    p->max_rate, &st->handles[d][i]) != 0)
            return false;
    }
    /* Health of each device: named "device.*" when the instance is the device. */
    static const struct {
        const char *name, *unit;
    } h[H_COUNT] = {{"up", "bool"}, {"latency", "ms"}, {"errors", "count"}, {"timeouts", "count"}};
    for (int k = 0; k < H_COUNT; k++)
        if (declare(st, device_label(dev), h[k].name, h[k].unit, DCM_KIND_GAUGE, 0, 1, 0,
                    &st->health[d][k]) != 0)
            return false;
    return true;
}

static dcm_collector_status build(mb_state *st, dcm_mb_instance *inst)
{
    char why[256];
    dcm_mb_err e = dcm_mb_link_create(&inst->url, inst->response_timeout_ns,
                                      inst->byte_timeout_ns, &st->link, why, sizeof why);
    if (e != DCM_MB_OK) {
        dcm_log(DCM_LOG_ERROR, st->tag, "%s", e == DCM_MB_ENOMEM ? "out of memory" : why);
        return DCM_COLLECTOR_FATAL;
    }
    dcm_mb_bus_init(&st->bus, dcm_mb_link_ops(), st->link);
    st->bus.events = (dcm_mb_events){.ud = st, .split = on_split, .refused = on_refused};
    size_t n = inst->device_count;
    st->devices = calloc(n, sizeof *st->devices);
    st->handles = calloc(n, sizeof *st->handles);
    st->health = calloc(n, sizeof *st->health);
    if (!st->devices || !st->handles || !st->health)
        goto nomem;
    for (size_t d = 0; d < n; d++) {
        dcm_mb_device_spec *s = &inst->devices[d];
        /* The device takes the points over. */
        e = dcm_mb_device_init(&st->devices[d], s->name, s->unit, s->points, s->point_count,
                               s->max_registers, s->max_gap);
        s->points = NULL;
        s->point_count = 0;
        if (e != DCM_MB_OK) {
            dcm_log(DCM_LOG_ERROR, st->tag, "device %s: %s", s->name ? s->name : "device",
                    dcm_mb_strerror(e));
            return DCM_COLLECTOR_FATAL;
        }
        st->device_count++;
        st->handles[d] = calloc(st->devices[d].point_count + 1, sizeof **st->handles);
        if (!st->handles[d])
            goto nomem;
        if (!declare_device(st, d))
            return DCM_COLLECTOR_FATAL; /* the core said why */
    }
    return DCM_COLLECTOR_OK;
nomem:
    dcm_log(DCM_LOG_ERROR, st->tag, "out of memory");
    return DCM_COLLECTOR_FATAL;
}

static dcm_collector_status mb_init(dcm_collector_ctx *ctx, void **state)
{
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_mb_instance inst;
    memset(&inst, 0, sizeof inst);
    dcm_collector_status rc = DCM_COLLECTOR_FATAL;
    *state = NULL;
    mb_state *st = calloc(1, sizeof *st);
    if (!st) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
        goto done;
    }
    st->ctx = ctx;
    snprintf(st->tag, sizeof st->tag, "modbus/%s", dcm_collector_name(ctx));
    char path[80];
    snprintf(path, sizeof path, "collectors[%s]", dcm_collector_name(ctx));
    dcm_mb_err e = dcm_mb_instance_parse(dcm_collector_config_node(ctx),
                                         dcm_collector_interval_ns(ctx), path, &inst, &diags);
    report(st, &diags);
    if (e != DCM_MB_OK) {
        if (e == DCM_MB_ENOMEM)
            dcm_log(DCM_LOG_ERROR, st->tag, "out of memory");
        goto done;
    }
    st->url = inst.url;
    if (st->url.rtu) {
        char other[128] = "";
        int c = claim_port(st, st->url.device, dcm_collector_name(ctx), other, sizeof other);
        if (c < 0) {
            dcm_log(DCM_LOG_ERROR, st->tag, "out of memory");
            goto done;
        }
        if (c == 0) {
            dcm_log(DCM_LOG_ERROR, st->tag,
                    "serial port %s is already used by collector '%s': put both devices in "
                    "one entry's devices: list",
                    st->url.device, other);
            goto done;
        }
        st->claimed = true;
    }
    rc = build(st, &inst);
    if (rc == DCM_COLLECTOR_OK) {
        char where[300];
        dcm_mb_url_format(&st->url, where, sizeof where);
        size_t points = 0, requests = 0;
        for (size_t d = 0; d < st->device_count; d++) {
            points += st->devices[d].point_count;
            requests += st->devices[d].plan.request_count;
        }
        dcm_log(DCM_LOG_INFO, st->tag, "%s: %zu device%s, %zu points in %zu requests per poll",
                where, st->device_count, st->device_count == 1 ? "" : "s", points, requests);
    }
done:
    dcm_mb_instance_free(&inst);
    dcm_diags_free(&diags);
    if (rc != DCM_COLLECTOR_OK) {
        mb_close(st);
        return rc;
    }
    *state = st;
    return rc;
}

/* ------------------------------------------------------------------ poll */

static void emit_device(mb_state *st, size_t d, int64_t now_ns, bool polled)
{
    const dcm_mb_device *dev = &st->devices[d];
    dcm_collector_ctx *ctx = st->ctx;
    if (polled)
        for (size_t i = 0; i < dev->point_count; i++)
            if (dev->fresh[i])
                dcm_collector_emit(ctx, st->handles[d][i], now_ns, dev->values[i],
                                   dev->quality[i]);
    dcm_collector_emit(ctx, st->health[d][H_UP], now_ns, polled && dev->up ? 1.0 : 0.0,
                       DCM_QUALITY_OK);
    if (polled)
        dcm_collector_emit(ctx, st->health[d][H_LATENCY], now_ns, dev->latency_ms,
                           DCM_QUALITY_OK);
    dcm_collector_emit(ctx, st->health[d][H_ERRORS], now_ns, (double)dev->errors,
                       DCM_QUALITY_OK);
    dcm_collector_emit(ctx, st->health[d][H_TIMEOUTS], now_ns, (double)dev->timeouts,
                       DCM_QUALITY_OK);
}

/* With several devices, one that keeps failing waits out its own backoff; if every
 * device is waiting, the one due first is asked anyway, so each poll tries something. */
static size_t first_due(const mb_state *st, int64_t mono)
{
    size_t best = SIZE_MAX;
    for (size_t d = 0; d < st->device_count; d++) {
        if (dcm_mb_device_due(&st->devices[d], mono))
            return SIZE_MAX;
        if (best == SIZE_MAX || st->devices[d].retry_at_ns < st->devices[best].retry_at_ns)
            best = d;
    }
    return best;
}

static dcm_collector_status mb_poll(void *state, dcm_collector_ctx *ctx, int64_t now_ns)
{
    mb_state *st = state;
    st->ctx = ctx;
    bool multi = st->device_count > 1;
    int64_t mono = dcm_monotonic_ns();
    size_t forced = multi ? first_due(st, mono) : SIZE_MAX;
    bool answered = false;
    dcm_mb_bus_begin_poll(&st->bus);
    for (size_t d = 0; d < st->device_count; d++) {
        dcm_mb_device *dev = &st->devices[d];
        if (multi && d != forced && !dcm_mb_device_due(dev, mono)) {
            emit_device(st, d, now_ns, false);
            continue;
        }
        uint64_t failures_before = dev->consecutive_failures;
        dcm_mb_outcome o = dcm_mb_device_poll(&st->bus, dev);
        emit_device(st, d, now_ns, true);
        if (o == DCM_MB_ANSWERED) {
            answered = true;
            /* The instance's own recovery is logged by the core; a device of several is
             * logged here, once. */
            if (multi && failures_before > 0)
                dcm_collector_log(ctx, DCM_LOG_INFO,
                                  "%s (unit %d) answering again after %llu failed polls",
                                  device_label(dev), dev->unit,
                                  (unsigned long long)failures_before);
        } else {
            dcm_collector_log(ctx, DCM_LOG_WARN, "%s (unit %d) not answering: %s",
                              device_label(dev), dev->unit, dev->last_error);
        }
        if (multi)
            dcm_mb_device_schedule(dev, mono, dcm_collector_interval_ns(ctx), BACKOFF_CAP_NS);
    }
    const char *warning = st->link ? dcm_mb_link_warning(st->link) : NULL;
    if (warning && !st->warned_rs485) {
        st->warned_rs485 = true;
        dcm_collector_log(ctx, DCM_LOG_WARN, "%s: %s", st->url.device, warning);
    }
    return answered ? DCM_COLLECTOR_OK : DCM_COLLECTOR_RETRY;
}

const dcm_collector_descriptor dcm_modbus_collector = {
    .name = "modbus",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "Modbus TCP and RTU devices: meters, PDUs, chillers, heat meters",
    .keys = dcm_mb_instance_keys,
    .init = mb_init,
    .poll = mb_poll,
    .close = mb_close,
};
