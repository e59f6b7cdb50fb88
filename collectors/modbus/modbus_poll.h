/*
 * modbus_poll.h - reading one device through a connection: its request plan executed,
 * replies decoded, exceptions split, timeouts flushed, broken connections closed, derived
 * points computed, and the device's health counted.
 *
 * A bus is one connection (TCP socket or serial port) shared by the devices of an
 * instance; every request names its unit id. A poll connects at most once: after a
 * socket error the connection stays closed until the next poll, which the scheduler
 * delays with its backoff when nothing answered.
 *
 * Ownership: a device owns its points (given to dcm_mb_device_init) and its arrays;
 * dcm_mb_device_free() frees them. The bus borrows the ops and io.
 */
#ifndef DCM_MODBUS_POLL_H
#define DCM_MODBUS_POLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modbus_conn.h"
#include "modbus_map.h"
#include "modbus_plan.h"

typedef struct dcm_mb_device dcm_mb_device;

/* What the poller reports as it finds it (any callback may be NULL). */
typedef struct dcm_mb_events {
    void *ud;
    /* A merged request was refused with an exception: its points were read one by one,
     * and they are from now on. */
    void (*split)(void *ud, const dcm_mb_device *dev, const dcm_mb_request *req,
                  const char *why);
    /* A point's own request was refused: it reads as INVALID (said once per point). */
    void (*refused)(void *ud, const dcm_mb_device *dev, size_t point, const char *why);
} dcm_mb_events;

typedef struct dcm_mb_bus {
    const dcm_mb_transport_ops *ops;
    void *io;
    dcm_mb_events events;
    bool connected;
    bool connect_tried; /* in this poll */
    char error[192];    /* why the connection is down */
} dcm_mb_bus;

struct dcm_mb_device {
    char *name; /* NULL: the instance's only device */
    int unit;
    dcm_mb_point *points;
    size_t point_count;
    dcm_mb_plan plan;
    bool rebuild;      /* the plan has new cuts not yet built in (allocation failed) */
    int (*inputs)[3];  /* derived points: indices of flow, supply, return; -1 otherwise */
    /* The last poll's results, per point. */
    double *values;
    dcm_quality *quality;
    bool *fresh;   /* read (or derived) in the last poll: emit it */
    bool *refused; /* its own request was refused (reported once) */
    /* Health, published as points. */
    bool up;
    double latency_ms;
    uint64_t errors;   /* exceptions, malformed replies, connection failures */
    uint64_t timeouts; /* requests left unanswered */
    uint64_t consecutive_failures;
    int64_t retry_at_ns; /* own backoff (monotonic clock): not asked before */
    char last_error[192];
    uint16_t regs[DCM_MB_MAX_REGISTERS];
    uint8_t bits[DCM_MB_MAX_BITS];
};

typedef enum dcm_mb_outcome {
    DCM_MB_ANSWERED = 0, /* at least one reply, values or exceptions */
    DCM_MB_DOWN,         /* no reply (see last_error) */
} dcm_mb_outcome;

void dcm_mb_bus_init(dcm_mb_bus *bus, const dcm_mb_transport_ops *ops, void *io);
/* Starts a poll of the bus: one connection attempt is allowed again. */
void dcm_mb_bus_begin_poll(dcm_mb_bus *bus);
/* Closes the connection if open. */
void dcm_mb_bus_close(dcm_mb_bus *bus);

/* Takes ownership of points (freed on failure too) and builds the plan. name may be
 * NULL. Returns OK, ENOMEM, or EINVALID for bad limits or a derived point whose inputs
 * are missing (dcm_mb_check_points() reports those with positions first). */
dcm_mb_err dcm_mb_device_init(dcm_mb_device *dev, const char *name, int unit,
                              dcm_mb_point *points, size_t n, int max_registers, int max_gap);
void dcm_mb_device_free(dcm_mb_device *dev);

/* Reads every point of dev once. */
dcm_mb_outcome dcm_mb_device_poll(dcm_mb_bus *bus, dcm_mb_device *dev);

/* The device's own backoff, for instances with several devices (a device that keeps
 * failing must not eat the bus time of the others): after k >= 2 failed polls in a row
 * it skips about 2^(k-1) - 1 polls, never waiting more than cap_ns. now_ns is the
 * monotonic clock, interval_ns the poll interval. */
void dcm_mb_device_schedule(dcm_mb_device *dev, int64_t now_ns, int64_t interval_ns,
                            int64_t cap_ns);
bool dcm_mb_device_due(const dcm_mb_device *dev, int64_t now_ns);

#endif /* DCM_MODBUS_POLL_H */
