/*
 * outputs.h - the output hub: turns the pipeline's samples, KPI records and alerts into
 * journal records and runs the configured sinks (outputs.mqtt, outputs.influxdb), each on
 * its own thread reading the journal from its own cursor.
 *
 * Life cycle (session.c): create (opens the journal under <state_dir>/journal when at
 * least one sink is configured; nothing at all when none is), add dcm_outputs_listener()
 * to the runtime's listeners, start, ... , destroy after the runtime has stopped.
 *
 * What is journalled: every sample of every point; every closed KPI record (all windows);
 * the instant record once a second (journalled as droppable, like a sample, under the
 * journal's full policy); every alert transition.
 *
 * Ownership: the hub borrows cfg for its lifetime; it owns the journal and the sinks.
 */
#ifndef DCM_OUTPUTS_H
#define DCM_OUTPUTS_H

#include <stdbool.h>
#include <stdint.h>

#include "dcm/config.h"
#include "outputs/journal.h"
#include "outputs/sink.h"
#include "runtime.h"

typedef enum dcm_outputs_err {
    DCM_OUTPUTS_OK = 0,
    DCM_OUTPUTS_ECONFIG,  /* a sink cannot be built from its config (reason logged) */
    DCM_OUTPUTS_EJOURNAL, /* the journal cannot be opened (reason logged) */
    DCM_OUTPUTS_ENOMEM,
    DCM_OUTPUTS_ETHREAD,
} dcm_outputs_err;

const char *dcm_outputs_strerror(dcm_outputs_err err);

typedef struct dcm_outputs dcm_outputs;

dcm_outputs_err dcm_outputs_create(const dcm_config *cfg, const char *state_dir,
                                   dcm_outputs **out);
/* The same with an explicit list of sinks (the test seam): every one of the count sinks
 * is enabled, its env.node being outputs.<name> when that mapping exists, else NULL.
 * count 0: OK with *out NULL, as when no sink is configured. state_dir NULL means
 * cfg->agent.state_dir; the journal lives in <state_dir>/journal. */
dcm_outputs_err dcm_outputs_create_with_sinks(const dcm_config *cfg, const char *state_dir,
                                              const dcm_sink_ops *const *sinks, size_t count,
                                              dcm_outputs **out);
/* The listener to register with the runtime (on_sample, on_record with instant records,
 * on_batch_end = journal commit). */
dcm_runtime_listener dcm_outputs_listener(dcm_outputs *o);
dcm_outputs_err dcm_outputs_start(dcm_outputs *o);
/* Journals an alert transition (pipeline thread). json is the alert's payload. */
void dcm_outputs_alert(dcm_outputs *o, int64_t ts_ns, const char *rule, const char *json);
/* Stops the sinks (each gets up to 2 s to finish what is in flight), commits and closes
 * the journal. What was not delivered stays in the journal for the next start. */
void dcm_outputs_destroy(dcm_outputs *o);

/* For /metrics and /readyz: whether the journal is writable, its stats, and each sink's
 * health and pending count. */
typedef struct dcm_outputs_sink_status {
    const char *name;
    dcm_sink_health health;
    uint64_t pending;
} dcm_outputs_sink_status;

bool dcm_outputs_journal_stats(dcm_outputs *o, dcm_journal_stats *out);
/* KPI records, samples and alerts the hub could not journal (refused when full, or an
 * I/O error), since create. */
uint64_t dcm_outputs_lost(dcm_outputs *o);
/* Fills up to max entries; returns the number of sinks. */
size_t dcm_outputs_sinks(dcm_outputs *o, dcm_outputs_sink_status *out, size_t max);

#endif
