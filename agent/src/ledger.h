/*
 * ledger.h - the energy ledger: per point per minute energy/volume in SQLite (WAL) under
 * state_dir, with roll-ups (15-minute rows kept 13+ months, daily rows forever), the
 * integrator state of every point (so a restart, even after kill -9, resumes from the last
 * counter values), and the corrections made (wraps, resets, gaps) for the audit trail.
 *
 * One writer (the pipeline thread) and any number of read-only readers (reports). Not
 * thread-safe: one dcm_ledger per thread.
 * Ownership: the ledger owns its SQLite handle; strings passed in are copied.
 */
#ifndef DCM_LEDGER_H
#define DCM_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "dcm/metrics.h"

typedef enum dcm_ledger_err {
    DCM_LEDGER_OK = 0,
    DCM_LEDGER_EIO,      /* cannot create/open the directory or database */
    DCM_LEDGER_ECORRUPT, /* the database failed its integrity check or has a newer schema */
    DCM_LEDGER_EBUSY,    /* locked by another writer */
    DCM_LEDGER_ENOMEM,
    DCM_LEDGER_EINVAL,
} dcm_ledger_err;

const char *dcm_ledger_strerror(dcm_ledger_err err);

typedef struct dcm_ledger dcm_ledger;

typedef struct dcm_ledger_options {
    bool read_only;
    int64_t minute_retention_ns;  /* minute rows older than this are pruned after roll-up; 0 = 40 days */
    int64_t quarter_retention_ns; /* 15-minute rows; 0 = 400 days (13+ months) */
    const dcm_calendar *calendar; /* site civil time for daily roll-ups; NULL = UTC.
                                     Copied; its ctx must outlive the ledger. */
} dcm_ledger_options;

/* Opens (creating if needed) state_dir/ledger.db. On failure *out is NULL and
 * dcm_ledger_errmsg(NULL) gives the reason (kept per thread). */
dcm_ledger_err dcm_ledger_open(const char *state_dir, const dcm_ledger_options *opt,
                               dcm_ledger **out);
void dcm_ledger_close(dcm_ledger *l);
/* Last SQLite message, for logs; NULL = why this thread's last dcm_ledger_open failed. */
const char *dcm_ledger_errmsg(const dcm_ledger *l);

/* Registers (or finds) a point by its id string; returns its ledger key. */
dcm_ledger_err dcm_ledger_point(dcm_ledger *l, const char *point_id, const char *unit,
                                dcm_kind kind, dcm_quantity quantity, int64_t *key);

/* Writes are grouped: begin, any number of puts, commit (one fsync'd transaction). */
dcm_ledger_err dcm_ledger_begin(dcm_ledger *l);
dcm_ledger_err dcm_ledger_commit(dcm_ledger *l);

/* Stores the sums of minute [start, start + 1 min) for a point; `final` false marks the
 * partial sums of a minute still open (replaced when it closes). */
dcm_ledger_err dcm_ledger_put_minute(dcm_ledger *l, int64_t key, int64_t start_ns,
                                     const dcm_point_acc *acc, bool final);
/* Stores / loads a point's integrator state (found false if none saved). */
dcm_ledger_err dcm_ledger_put_state(dcm_ledger *l, int64_t key, const dcm_point_state *st);
dcm_ledger_err dcm_ledger_get_state(dcm_ledger *l, int64_t key, dcm_point_state *st,
                                    bool *found);
/* Records a correction (wrap, reset, gap, ...) with the increment it produced. */
dcm_ledger_err dcm_ledger_put_correction(dcm_ledger *l, int64_t key, const dcm_increment *inc);

/* Rolls closed minutes up into 15-minute and daily rows and prunes by retention.
 * Idempotent; call from time to time (the pipeline does so every few minutes). */
dcm_ledger_err dcm_ledger_rollup(dcm_ledger *l, int64_t now_ns);

/* Per point sums over [from, to), from the finest rows still kept (minute, then
 * 15-minute, then daily). fn is called once per point that has rows in the range. */
typedef void (*dcm_ledger_sum_fn)(void *ctx, const char *point_id, const char *unit,
                                  dcm_kind kind, dcm_quantity quantity,
                                  const dcm_point_acc *sum);
dcm_ledger_err dcm_ledger_sum(dcm_ledger *l, int64_t from_ns, int64_t to_ns,
                              dcm_ledger_sum_fn fn, void *ctx);

/* Corrections in [from, to), for the audit trail. */
typedef void (*dcm_ledger_correction_fn)(void *ctx, const char *point_id,
                                         const dcm_increment *inc);
dcm_ledger_err dcm_ledger_corrections(dcm_ledger *l, int64_t from_ns, int64_t to_ns,
                                      dcm_ledger_correction_fn fn, void *ctx);

#endif
