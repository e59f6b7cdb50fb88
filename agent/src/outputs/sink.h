/*
 * sink.h - what an output that talks to a server (MQTT, InfluxDB) provides to the
 * output hub. A sink is a static descriptor, like a collector: the hub creates it from
 * its config mapping, gives it a thread of its own and a reader on the journal, and
 * destroys it at shutdown.
 *
 * The sink's run() loop reads records from the journal after the last seq it has read,
 * sends them, and acknowledges (dcm_journal_ack) only what the server confirmed, in seq
 * order. It returns when *stop becomes true (checked at least every 100 ms) or the journal
 * read returns 0 after closing. It reconnects by itself, with capped jittered backoff; it
 * never exits on a server error.
 *
 * Ownership: the hub owns env and everything it points to for the sink's lifetime; the
 * sink owns *state (from create, freed by destroy).
 */
#ifndef DCM_SINK_H
#define DCM_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/config.h"
#include "outputs/journal.h"

typedef struct dcm_sink_env {
    const dcm_config *config; /* the whole agent config (agent.site, ...) */
    const dcm_node *node;     /* outputs.<name>, validated by config_load.c */
    dcm_journal *journal;
    size_t reader;            /* this sink's index in the journal's sinks */
    const char *state_dir;    /* for files the sink keeps (quarantine of bad lines...) */
} dcm_sink_env;

/* What a sink reports for /metrics and /api/v1/devices (thread-safe snapshot). */
typedef struct dcm_sink_health {
    bool connected;
    uint64_t sent;          /* records acknowledged by the server since start */
    uint64_t failures;      /* failed sends / connection attempts since start */
    int64_t last_ok_ns;     /* realtime of the last acknowledgement, 0 = never */
    char last_error[160];
} dcm_sink_health;

typedef struct dcm_sink_ops {
    const char *name; /* "mqtt", "influxdb": the config key under outputs and the journal
                         reader's (cursor's) name */
    /* Returns 0, or -1 with the reason logged (bad certificate file, ...). */
    int (*create)(const dcm_sink_env *env, void **state);
    void (*run)(void *state, const atomic_bool *stop);
    void (*health)(void *state, dcm_sink_health *out);
    void (*destroy)(void *state);
} dcm_sink_ops;

/* The compiled-in sinks (CMake options choose which); NULL-terminated. */
const dcm_sink_ops *const *dcm_sinks_all(void);

#endif
