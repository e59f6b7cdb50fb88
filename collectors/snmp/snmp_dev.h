/*
 * snmp_dev.h - one SNMP device read asynchronously with net-snmp's single-session API:
 * a session (one UDP socket), a plan (scalars read with GET, tables walked with GETBULK
 * or GETNEXT in v1), and a small state machine that sends one request at a time and
 * moves on when its reply, its timeout or an error arrives. Many devices run side by
 * side on one thread: the caller polls their descriptors (dcm_snmp_dev_wait) and calls
 * dcm_snmp_dev_advance when one is ready or its timer is due.
 *
 * SNMPv3: the engine is discovered without blocking (an empty request that the agent
 * answers with a report carrying its engine id); a report of notInTimeWindow (the agent
 * rebooted: engineBoots changed) is resynchronised by the library and retried; an
 * unknown-engine report or consecutive failures re-open the session and discover the
 * engine again, so an agent that rebooted or was replaced needs no restart here.
 *
 * Not thread-safe: every call for every device must come from one thread (net-snmp).
 * dcm_snmp_lib_init() must run first, on the main thread.
 *
 * Ownership: the device borrows the instance (it must outlive the device) and the shared
 * profiles (dcm_snmp_profile_get(), kept until exit).
 */
#ifndef DCM_SNMP_DEV_H
#define DCM_SNMP_DEV_H

#include "snmp_config.h"

struct pollfd;

typedef struct dcm_snmp_dev dcm_snmp_dev;

typedef struct dcm_snmp_dev_events {
    void *ud;
    /* A value read this poll. slot is the caller's handle for this point (UINT32_MAX
     * until the caller sets it), kept by the device for the point's lifetime; name is the
     * point name within the device ("power", "outlet.1.12.energy"); p its definition
     * (for unit, kind, counter bits); raw the value as received (NULL for sums). */
    void (*value)(void *ud, uint32_t *slot, const char *name, const dcm_snmp_point *p,
                  const dcm_snmp_value *raw, double value, dcm_quality q);
    /* Something worth telling the user (rate-limited by the caller). */
    void (*log)(void *ud, dcm_log_level level, const char *msg);
} dcm_snmp_dev_events;

/* Initialises net-snmp once per process: no MIB loading, no configuration files read,
 * no persistent state written, no logging to stderr; raises the open-file limit so
 * thousands of sessions fit. Call on the main thread before any device is created. */
void dcm_snmp_lib_init(void);

dcm_snmp_err dcm_snmp_dev_create(const dcm_snmp_instance *inst, const dcm_snmp_dev_events *ev,
                                 dcm_snmp_dev **out, char *why, size_t why_size);
void dcm_snmp_dev_destroy(dcm_snmp_dev *d);

/* Starts a poll. OK: in flight; else the poll failed at once (session cannot be opened,
 * send failed). */
dcm_snmp_err dcm_snmp_dev_begin(dcm_snmp_dev *d);
/* The descriptor to wait on (0 or 1 entries) and the monotonic ns of the next
 * retransmission, or 0. */
size_t dcm_snmp_dev_wait(dcm_snmp_dev *d, struct pollfd *fds, size_t cap, int64_t *timer_ns);
/* Reads what is ready, handles timeouts, sends the next request. True when the poll has
 * ended; *result is OK (the device answered) or the error that ended it. */
bool dcm_snmp_dev_advance(dcm_snmp_dev *d, bool readable, dcm_snmp_err *result);
/* Abandons the poll in flight (its late replies are ignored). */
void dcm_snmp_dev_cancel(dcm_snmp_dev *d);

typedef struct dcm_snmp_dev_stats {
    uint64_t timeouts;   /* requests left unanswered after their retries */
    uint64_t errors;     /* error replies, reports, send failures */
    uint64_t resyncs;    /* SNMPv3 engine re-discoveries */
    double latency_ms;   /* duration of the last poll */
    const char *profile; /* the profile in use (auto: once detected), or NULL */
    char last_error[160];
} dcm_snmp_dev_stats;

const dcm_snmp_dev_stats *dcm_snmp_dev_stats_get(const dcm_snmp_dev *d);

#endif /* DCM_SNMP_DEV_H */
