/* One device's poll: execute the plan, decode, and recover from what went wrong the way
 * the Modbus field needs (see modbus_poll.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modbus_poll.h"

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void dcm_mb_bus_init(dcm_mb_bus *bus, const dcm_mb_transport_ops *ops, void *io)
{
    memset(bus, 0, sizeof *bus);
    bus->ops = ops;
    bus->io = io;
}

void dcm_mb_bus_begin_poll(dcm_mb_bus *bus) { bus->connect_tried = false; }

void dcm_mb_bus_close(dcm_mb_bus *bus)
{
    if (bus->connected)
        bus->ops->close(bus->io);
    bus->connected = false;
}

/* ------------------------------------------------------------------ device */

void dcm_mb_device_free(dcm_mb_device *dev)
{
    if (!dev)
        return;
    for (size_t i = 0; i < dev->point_count; i++)
        dcm_mb_point_clear(&dev->points[i]);
    free(dev->points);
    dcm_mb_plan_free(&dev->plan);
    free(dev->name);
    free(dev->inputs);
    free(dev->values);
    free(dev->quality);
    free(dev->fresh);
    free(dev->refused);
    memset(dev, 0, sizeof *dev);
}

static int index_of(const dcm_mb_device *dev, const char *name)
{
    for (size_t i = 0; name && i < dev->point_count; i++)
        if (dev->points[i].derive == DCM_MB_DERIVE_NONE && strcmp(dev->points[i].name, name) == 0)
            return (int)i;
    return -1;
}

dcm_mb_err dcm_mb_device_init(dcm_mb_device *dev, const char *name, int unit,
                              dcm_mb_point *points, size_t n, int max_registers, int max_gap)
{
    memset(dev, 0, sizeof *dev);
    dev->points = points;
    dev->point_count = n;
    dev->unit = unit;
    size_t m = n ? n : 1;
    dev->inputs = calloc(m, sizeof *dev->inputs);
    dev->values = calloc(m, sizeof *dev->values);
    dev->quality = calloc(m, sizeof *dev->quality);
    dev->fresh = calloc(m, sizeof *dev->fresh);
    dev->refused = calloc(m, sizeof *dev->refused);
    if ((name && !(dev->name = strdup(name))) || !dev->inputs || !dev->values ||
        !dev->quality || !dev->fresh || !dev->refused) {
        dcm_mb_device_free(dev);
        return DCM_MB_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        const dcm_mb_point *p = &points[i];
        dev->inputs[i][0] = dev->inputs[i][1] = dev->inputs[i][2] = -1;
        if (p->derive == DCM_MB_DERIVE_NONE)
            continue;
        dev->inputs[i][0] = index_of(dev, p->flow);
        dev->inputs[i][1] = index_of(dev, p->supply);
        dev->inputs[i][2] = index_of(dev, p->ret);
        if (dev->inputs[i][0] < 0 || dev->inputs[i][1] < 0 || dev->inputs[i][2] < 0) {
            dcm_mb_device_free(dev);
            return DCM_MB_EINVALID;
        }
    }
    dcm_mb_err err = dcm_mb_plan_init(&dev->plan, dev->points, n, max_registers, max_gap);
    if (err != DCM_MB_OK)
        dcm_mb_device_free(dev);
    return err;
}

/* ------------------------------------------------------------------ reading */

static dcm_mb_err read_range(dcm_mb_bus *bus, dcm_mb_device *dev, dcm_mb_table t,
                             uint16_t start, uint16_t count)
{
    if (dcm_mb_table_is_bits(t))
        return bus->ops->read_bits(bus->io, dev->unit, t, start, count, dev->bits);
    return bus->ops->read_registers(bus->io, dev->unit, t, start, count, dev->regs);
}

/* Decodes point i from the buffer filled by a read that began at start. */
static void decode_point(dcm_mb_device *dev, size_t i, uint16_t start, uint16_t count)
{
    const dcm_mb_point *p = &dev->points[i];
    size_t off = (size_t)(p->address - start);
    if (dcm_mb_table_is_bits(p->table))
        dev->quality[i] = dcm_mb_decode_bit(p, dev->bits[off], &dev->values[i]);
    else
        dev->quality[i] = dcm_mb_decode(p, dev->regs + off, (size_t)count - off, &dev->values[i]);
    dev->fresh[i] = true;
    dev->refused[i] = false; /* answering again: a new refusal is worth saying */
}

static void mark_invalid(dcm_mb_device *dev, size_t i)
{
    dev->values[i] = 0;
    dev->quality[i] = DCM_QUALITY_INVALID;
    dev->fresh[i] = true;
}

static void note(dcm_mb_bus *bus, dcm_mb_device *dev, dcm_mb_err e)
{
    if (e == DCM_MB_ETIMEOUT)
        dev->timeouts++;
    else
        dev->errors++;
    snprintf(dev->last_error, sizeof dev->last_error, "%s: %s", dcm_mb_strerror(e),
             bus->ops->last_error(bus->io));
}

static void refuse(dcm_mb_bus *bus, dcm_mb_device *dev, size_t i)
{
    mark_invalid(dev, i);
    if (dev->refused[i])
        return;
    dev->refused[i] = true;
    if (bus->events.refused)
        bus->events.refused(bus->events.ud, dev, i, dev->last_error);
}

/* Reads the points of refused request r one by one. Returns OK, or the first error that
 * is not an exception (the caller handles it like any failed request). */
static dcm_mb_err split_request(dcm_mb_bus *bus, dcm_mb_device *dev, size_t r)
{
    const dcm_mb_request req = dev->plan.requests[r];
    if (bus->events.split)
        bus->events.split(bus->events.ud, dev, &req, dev->last_error);
    if (dcm_mb_plan_split(&dev->plan, r) == DCM_MB_OK)
        dev->rebuild = true;
    for (size_t k = 0; k < req.n; k++) {
        size_t i = dcm_mb_plan_member(&dev->plan, &req, k);
        const dcm_mb_point *p = &dev->points[i];
        uint16_t n = (uint16_t)dcm_mb_point_registers(p);
        dcm_mb_err e = read_range(bus, dev, req.table, p->address, n);
        if (e == DCM_MB_OK) {
            decode_point(dev, i, p->address, n);
            continue;
        }
        note(bus, dev, e);
        if (e != DCM_MB_EEXCEPTION)
            return e;
        refuse(bus, dev, i);
    }
    return DCM_MB_OK;
}

static void mark_request_invalid(dcm_mb_device *dev, const dcm_mb_request *req)
{
    for (size_t k = 0; k < req->n; k++) {
        size_t i = dcm_mb_plan_member(&dev->plan, req, k);
        if (!dev->fresh[i])
            mark_invalid(dev, i);
    }
}

/* Handles a failed request that was not an exception. Returns true when the device's
 * poll should stop: the connection broke, nothing has answered yet, or two requests in
 * a row went unanswered (a device that lost power mid-poll costs two timeouts, not one
 * per request). */
static bool recover(dcm_mb_bus *bus, dcm_mb_err e, bool answered, int *unanswered)
{
    /* Bad data usually means a late reply to a request that timed out: more of them may
     * still be on the way, and a flush only drops those already here, so every later
     * request would read its predecessor's reply. A new connection drops them all. */
    if (e == DCM_MB_EIO || e == DCM_MB_EBADDATA) {
        bus->ops->close(bus->io);
        bus->connected = false;
        snprintf(bus->error, sizeof bus->error, "%s", bus->ops->last_error(bus->io));
        return true;
    }
    /* A late reply would otherwise be taken for the next request's. */
    bus->ops->flush(bus->io);
    return !answered || ++*unanswered >= 2;
}

static void derive(dcm_mb_device *dev)
{
    for (size_t i = 0; i < dev->point_count; i++) {
        const dcm_mb_point *p = &dev->points[i];
        if (p->derive != DCM_MB_DERIVE_THERMAL_POWER)
            continue;
        const int *in = dev->inputs[i];
        if (!dev->fresh[in[0]] || !dev->fresh[in[1]] || !dev->fresh[in[2]])
            continue;
        dcm_quality q = DCM_QUALITY_OK;
        for (int k = 0; k < 3; k++)
            if (dev->quality[in[k]] > q)
                q = dev->quality[in[k]];
        dev->fresh[i] = true;
        if (q == DCM_QUALITY_INVALID) {
            mark_invalid(dev, i);
            continue;
        }
        bool ls = strcmp(dev->points[in[0]].unit, "L/s") == 0;
        double kw = dcm_mb_thermal_power_kw(dev->values[in[0]], ls, dev->values[in[1]],
                                            dev->values[in[2]]);
        double in_unit = strcmp(p->unit, "W") == 0    ? kw * 1000.0
                         : strcmp(p->unit, "MW") == 0 ? kw / 1000.0
                                                      : kw;
        dev->values[i] = in_unit * p->scale + p->offset;
        dev->quality[i] = q;
    }
}

dcm_mb_outcome dcm_mb_device_poll(dcm_mb_bus *bus, dcm_mb_device *dev)
{
    int64_t t0 = mono_ns();
    bool answered = false;
    int unanswered = 0;
    memset(dev->fresh, 0, dev->point_count * sizeof *dev->fresh);
    dev->last_error[0] = '\0';
    if (dev->rebuild && dcm_mb_plan_build(&dev->plan) == DCM_MB_OK)
        dev->rebuild = false;
    if (!bus->connected) {
        if (!bus->connect_tried) {
            bus->connect_tried = true;
            dcm_mb_err e = bus->ops->connect(bus->io);
            if (e == DCM_MB_OK)
                bus->connected = true;
            else
                snprintf(bus->error, sizeof bus->error, "cannot connect: %s",
                         bus->ops->last_error(bus->io));
        }
        if (!bus->connected) {
            dev->errors++;
            snprintf(dev->last_error, sizeof dev->last_error, "%s", bus->error);
            goto done;
        }
    }
    for (size_t r = 0; r < dev->plan.request_count; r++) {
        const dcm_mb_request *req = &dev->plan.requests[r];
        dcm_mb_err e = read_range(bus, dev, req->table, req->start, req->count);
        if (e == DCM_MB_OK) {
            answered = true;
            unanswered = 0;
            for (size_t k = 0; k < req->n; k++)
                decode_point(dev, dcm_mb_plan_member(&dev->plan, req, k), req->start,
                             req->count);
            continue;
        }
        note(bus, dev, e);
        if (e == DCM_MB_EEXCEPTION) {
            answered = true;
            unanswered = 0;
            if (req->n == 1) {
                refuse(bus, dev, dcm_mb_plan_member(&dev->plan, req, 0));
                continue;
            }
            e = split_request(bus, dev, r);
            if (e == DCM_MB_OK)
                continue;
        }
        mark_request_invalid(dev, req);
        if (recover(bus, e, answered, &unanswered))
            break;
    }
    if (dev->rebuild && dcm_mb_plan_build(&dev->plan) == DCM_MB_OK)
        dev->rebuild = false;
    derive(dev);
done:
    /* A device that never answered has no values this poll, not invalid ones. */
    if (!answered)
        memset(dev->fresh, 0, dev->point_count * sizeof *dev->fresh);
    dev->latency_ms = (double)(mono_ns() - t0) / 1e6;
    dev->up = answered;
    if (answered)
        dev->consecutive_failures = 0;
    else
        dev->consecutive_failures++;
    return answered ? DCM_MB_ANSWERED : DCM_MB_DOWN;
}

/* --------------------------------------------------------------- backoff */

void dcm_mb_device_schedule(dcm_mb_device *dev, int64_t now_ns, int64_t interval_ns,
                            int64_t cap_ns)
{
    if (dev->consecutive_failures < 2 || interval_ns <= 0) {
        dev->retry_at_ns = 0;
        return;
    }
    int64_t delay = interval_ns;
    for (uint64_t k = 1; k < dev->consecutive_failures && delay < cap_ns; k++)
        delay *= 2;
    if (delay > cap_ns)
        delay = cap_ns;
    /* Half an interval early: polls do not come exactly one interval apart, and a due
     * time just after a poll would cost a whole extra interval. */
    dev->retry_at_ns = now_ns + delay - interval_ns / 2;
}

bool dcm_mb_device_due(const dcm_mb_device *dev, int64_t now_ns)
{
    return dev->retry_at_ns == 0 || now_ns >= dev->retry_at_ns;
}
