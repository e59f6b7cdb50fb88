/*
 * alerts.h - the alert engine: the `alerts:` rules of the configuration (docs/alerts.md)
 * evaluated against the pipeline's KPI records, counter corrections and device health.
 *
 * Each rule watches one or more subjects (a threshold rule: its KPI; an offline rule: each
 * matching collector instance; a correction rule: each matching point). A subject is
 * either quiet, pending (a threshold breached, waiting out `for`) or firing. Every change
 * between quiet and firing is a transition: logged once, and handed as one JSON object to
 * each notify callback (the outputs' journal, the HTTP server's event stream).
 *
 * Threads: the listener's callbacks run on the pipeline thread, and so do the notify
 * callbacks (the journal has one writer). dcm_alerts_set_health() is for the thread that
 * reads device health (the session's); the pipeline thread evaluates what it was given
 * at its next batch end. dcm_alerts_active_json() may be called from any thread.
 *
 * Ownership: the engine borrows cfg (and its rules) for its lifetime; it copies the
 * health it is given; the JSON handed to notify callbacks is valid during the call only.
 */
#ifndef DCM_ALERTS_H
#define DCM_ALERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/config.h"
#include "dcm/metrics.h"
#include "runtime.h"

typedef enum dcm_alerts_err {
    DCM_ALERTS_OK = 0,
    DCM_ALERTS_ENOMEM,
    DCM_ALERTS_EFULL, /* no room for another notify callback */
} dcm_alerts_err;

const char *dcm_alerts_strerror(dcm_alerts_err err);

/* One transition. rule: the rule's name; json: the alert object (docs/alerts.md):
 * {"site","rule","kind","state":"firing"|"cleared","severity","subject","ts","since",
 *  "value","threshold","message", and for thresholds "kpi","window"}. The same shape as
 * dcm_outputs_alert(), so an output hub can be registered as is. */
typedef void (*dcm_alert_notify_fn)(void *ctx, int64_t ts_ns, const char *rule,
                                    const char *json);

#define DCM_ALERTS_MAX_NOTIFY 4

typedef struct dcm_alerts dcm_alerts;

/* An engine for cfg's rules (none is fine: it then does nothing). */
dcm_alerts_err dcm_alerts_create(const dcm_config *cfg, dcm_alerts **out);
void dcm_alerts_destroy(dcm_alerts *a);

/* Registers a callback for transitions (before the runtime starts). */
dcm_alerts_err dcm_alerts_add_notify(dcm_alerts *a, dcm_alert_notify_fn fn, void *ctx);

/* The listener to register with the runtime: on_record (with instant records),
 * on_correction, and on_batch_end (evaluates the latest device health). */
dcm_runtime_listener dcm_alerts_listener(dcm_alerts *a);

/* Gives the engine the latest device health, read at clock time now_ns (copied). */
void dcm_alerts_set_health(dcm_alerts *a, const dcm_instance_health *h, size_t n,
                           int64_t now_ns);

/* The firing alerts as {"alerts":[alert object, ...]} (state "firing"), oldest first.
 * malloc'd; the caller frees. NULL when memory ran out. */
char *dcm_alerts_active_json(dcm_alerts *a);
/* Number of firing alerts. */
size_t dcm_alerts_active_count(dcm_alerts *a);

#endif
