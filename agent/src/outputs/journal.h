/*
 * journal.h - the durable journal: the source of truth for everything the outputs deliver.
 *
 * Every point sample, KPI record and alert the outputs must deliver is appended here
 * first; each sink (MQTT, InfluxDB) reads from its own cursor and acknowledges what the
 * server confirmed (PUBACK/PUBCOMP, HTTP 2xx). A record is released only when every sink
 * named at open has acknowledged it; whole segments below every cursor are deleted.
 *
 * On disk, under dir (normally <state_dir>/journal/):
 *   seg-<first seq, 20 digits>.log   append-only segments; each record is framed as
 *                                    u32 length | u32 CRC-32C of the payload | payload,
 *                                    so a torn tail (kill -9, power loss) is detected at
 *                                    open and cut off, never replayed as garbage.
 *   cursor-<sink>                    the sink's acknowledged seq, with its own CRC,
 *                                    replaced atomically (write new, fsync, rename).
 * Delivery is at least once: after a crash a sink resumes after its last persisted
 * cursor, so a record it had sent but not yet acknowledged on disk is sent again.
 *
 * Threads: one writer (the pipeline thread: append/commit) and one reader per sink
 * (read/ack on the sink's own thread). All calls are thread-safe in that pattern.
 * Ownership: the journal copies what is appended; records returned by read point into
 * the reader's buffer and stay valid until that sink's next read.
 */
#ifndef DCM_JOURNAL_H
#define DCM_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum dcm_jrec_type {
    DCM_JREC_SAMPLE = 1, /* a point sample */
    DCM_JREC_KPI = 2,    /* a KPI record: key = window name, body = its JSON (kpi_json.h) */
    DCM_JREC_ALERT = 3,  /* an alert transition: key = rule name, body = its JSON */
} dcm_jrec_type;

typedef struct dcm_jrec {
    uint64_t seq;        /* assigned by append, strictly increasing, never reused */
    dcm_jrec_type type;
    int64_t ts_ns;       /* time of measurement (UTC ns), not of sending */
    /* DCM_JREC_SAMPLE */
    const char *point;   /* "<instance>.<name>" */
    const char *unit;    /* the collector's declared unit */
    double value;        /* finite (a non-finite value is stored with quality invalid) */
    uint8_t quality;     /* dcm_quality */
    /* DCM_JREC_KPI / DCM_JREC_ALERT */
    const char *key;
    const char *body;
    size_t body_len;
    /* Append only, not stored: under DCM_JOURNAL_FULL_KEEP_KPI refuse this record like a
     * sample when the journal is full (the hub marks the 1 s instant KPI records so). */
    bool droppable;
} dcm_jrec;

typedef enum dcm_journal_fsync {
    DCM_JOURNAL_FSYNC_BATCH = 0, /* fsync at every commit (default): nothing acknowledged
                                    by the pipeline is lost on power failure */
    DCM_JOURNAL_FSYNC_INTERVAL,  /* at most every fsync_interval_ns: a power failure loses
                                    at most that much; a process crash loses nothing */
    DCM_JOURNAL_FSYNC_NEVER,     /* the kernel decides: a power failure may lose the last
                                    ~30 s; a process crash loses nothing */
} dcm_journal_fsync;

typedef enum dcm_journal_full_policy {
    /* Default: when the journal reaches max_bytes, refuse new point samples (counted and
     * logged) but keep accepting KPI records and alerts, which are small and what reports
     * and alarms are made of. */
    DCM_JOURNAL_FULL_KEEP_KPI = 0,
    /* Refuse everything new (counted and logged): what is stored is never touched. */
    DCM_JOURNAL_FULL_REFUSE_ALL,
    /* Delete the oldest segment (counted and logged): the newest data wins. */
    DCM_JOURNAL_FULL_DROP_OLDEST,
} dcm_journal_full_policy;

typedef struct dcm_journal_options {
    const char *dir;                 /* created if missing */
    uint64_t max_bytes;              /* bound on the segments' total size; 0 = 256 MiB */
    uint64_t segment_bytes;          /* 0 = 8 MiB */
    dcm_journal_fsync fsync;
    int64_t fsync_interval_ns;       /* for DCM_JOURNAL_FSYNC_INTERVAL; 0 = 1 s */
    dcm_journal_full_policy full_policy;
    const char *const *sinks;        /* names of the enabled sinks ("mqtt", "influxdb") */
    size_t sink_count;               /* at least 1 */
} dcm_journal_options;

typedef enum dcm_journal_err {
    DCM_JOURNAL_OK = 0,
    DCM_JOURNAL_EINVAL,  /* bad options or arguments */
    DCM_JOURNAL_EIO,     /* a read, write or fsync failed (errno in the log) */
    DCM_JOURNAL_ENOMEM,
    DCM_JOURNAL_EFULL,   /* the record was refused by the full policy (counted) */
    DCM_JOURNAL_ELOCKED, /* another process holds the journal */
    DCM_JOURNAL_ECLOSED, /* the journal is shutting down */
} dcm_journal_err;

const char *dcm_journal_strerror(dcm_journal_err err);

typedef struct dcm_journal dcm_journal;

/* Opens (creating, or recovering after a crash: torn tails cut, cursors read) the
 * journal. Takes an exclusive lock on dir for the process's lifetime. */
dcm_journal_err dcm_journal_open(const dcm_journal_options *opt, dcm_journal **out);
/* Commits what is pending, wakes readers with ECLOSED, frees everything. NULL is a no-op. */
void dcm_journal_close(dcm_journal *j);

/* Writer side (one thread). Append copies rec, assigns rec->seq and buffers it; it is
 * visible to readers and durable (per the fsync policy) after the next commit. */
dcm_journal_err dcm_journal_append(dcm_journal *j, dcm_jrec *rec);
dcm_journal_err dcm_journal_commit(dcm_journal *j);

/* Reader side (one thread per sink; sink is the index in opt->sinks). Returns up to max
 * committed records with seq > after_seq, in seq order, waiting up to wait_ms for the
 * first; 0 on timeout or when closed. A reader may read ahead of what it acknowledged. */
size_t dcm_journal_read(dcm_journal *j, size_t sink, uint64_t after_seq, dcm_jrec *out,
                        size_t max, int wait_ms);
/* Every record with seq <= seq has been delivered by this sink. Persists the cursor (at
 * most every 100 ms per sink: a later ack, read or the close writes what was batched) and
 * releases segments that every sink's persisted cursor is past. Acks never move
 * backwards, nor beyond the newest committed seq. */
dcm_journal_err dcm_journal_ack(dcm_journal *j, size_t sink, uint64_t seq);
/* The sink's cursor (0 = nothing acknowledged yet): at open the persisted one, where
 * reading resumes; afterwards the latest acknowledgement. */
uint64_t dcm_journal_cursor(dcm_journal *j, size_t sink);

typedef struct dcm_journal_stats {
    uint64_t bytes;             /* on disk, segments only */
    uint64_t segments;
    uint64_t first_seq, last_seq; /* oldest kept and newest committed (0 when empty) */
    uint64_t appended;          /* records appended since open */
    uint64_t refused;           /* records refused by the full policy since open */
    uint64_t dropped_oldest;    /* records deleted unsent by DROP_OLDEST since open */
    uint64_t torn_bytes;        /* bytes cut off torn tails at open */
    bool writable;              /* false after an I/O error until a commit succeeds */
} dcm_journal_stats;

void dcm_journal_get_stats(dcm_journal *j, dcm_journal_stats *out);
/* Records not yet acknowledged by this sink. */
uint64_t dcm_journal_pending(dcm_journal *j, size_t sink);

#endif
