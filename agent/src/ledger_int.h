/*
 * ledger_int.h - what the ledger's source files (ledger.c: storage and writes,
 * ledger_rollup.c: roll-ups and retention, ledger_query.c: sums and the audit trail)
 * share. Not for use outside the ledger.
 */
#ifndef DCM_LEDGER_INT_H
#define DCM_LEDGER_INT_H

#include <sqlite3.h>

#include "ledger.h"

#define DCM_LEDGER_SCHEMA_VERSION 1

#define DCM_LEDGER_MINUTE_S INT64_C(60)
#define DCM_LEDGER_QUARTER_S INT64_C(900)
/* Longest day row: 25 hours, or a little more for the day the site's time zone changed. */
#define DCM_LEDGER_MAX_DAY_S (INT64_C(7) * 86400)

/* Prepared statements, compiled on first use and kept for the ledger's lifetime. */
typedef enum dcm_ledger_stmt {
    ST_POINT_INSERT,
    ST_POINT_FIND,
    ST_POINT_UPDATE,
    ST_MINUTE_PUT,
    ST_DIRTY_PUT,
    ST_STATE_PUT,
    ST_STATE_GET,
    ST_CORRECTION_PUT,
    ST_META_GET,
    ST_META_PUT,
    ST_QUARTER_DELETE,
    ST_QUARTER_ROLL,
    ST_DIRTY_LIST,
    ST_DIRTY_CLEAR,
    ST_DAY_OF,
    ST_DAY_AFTER,
    ST_DAY_DELETE,
    ST_DAY_ROLL_QUARTERS,
    ST_DAY_ROLL_MINUTES,
    ST_NEXT_QUARTER,
    ST_MINUTE_PRUNE,
    ST_QUARTER_PRUNE,
    ST_SUM,
    ST_SUM_DIRTY,
    ST_SUM_FIRST_DAY,
    ST_SUM_LAST_DAY,
    ST_CORRECTIONS,
    ST_COUNT
} dcm_ledger_stmt;

/* Watermarks kept in the meta table (UTC seconds). */
#define DCM_META_ROLLED_QUARTER "rolled_quarter_s" /* quarters before it are rolled up */
#define DCM_META_ROLLED_DAY "rolled_day_s"         /* days before it are rolled up */
#define DCM_META_MINUTE_PRUNED "minute_pruned_s"   /* minute rows before it are deleted */
#define DCM_META_QUARTER_PRUNED "quarter_pruned_s" /* quarter rows before it are deleted */

/* Pieces of a sum per table (ST_SUM has this many parts for each of minute, quarter, day). */
#define DCM_LEDGER_SUM_SLOTS 3

struct dcm_ledger {
    sqlite3 *db;
    bool read_only;
    bool in_batch;
    int lock_fd; /* writer only: flock'd state_dir/ledger.lock, -1 for readers */
    int64_t minute_retention_s;
    int64_t quarter_retention_s;
    dcm_calendar cal;
    /* Writer's copy of the watermarks (one writer per ledger, enforced by the lock). */
    int64_t rolled_quarter_s;
    int64_t minute_pruned_s;
    sqlite3_stmt *stmt[ST_COUNT];
    char errmsg[256];
};

/* Returns the cached statement (reset, bindings cleared), compiling it on first use;
 * NULL on failure with the error recorded. */
sqlite3_stmt *dcm_ledger_stmt_get(dcm_ledger *l, dcm_ledger_stmt which, dcm_ledger_err *err);
/* Maps the connection's last SQLite error to a ledger error and keeps its message. */
dcm_ledger_err dcm_ledger_sqlite_fail(dcm_ledger *l, int rc, const char *what);
/* Records a ledger-level error message; returns err. */
dcm_ledger_err dcm_ledger_fail(dcm_ledger *l, dcm_ledger_err err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Runs SQL without results. */
dcm_ledger_err dcm_ledger_exec(dcm_ledger *l, const char *sql);

/* Meta watermarks: missing = 0. */
dcm_ledger_err dcm_ledger_meta_get(dcm_ledger *l, const char *name, int64_t *value);
dcm_ledger_err dcm_ledger_meta_put(dcm_ledger *l, const char *name, int64_t value);

/* Floor division for seconds <-> nanoseconds that also holds for negative values. */
int64_t dcm_ledger_floor_div(int64_t a, int64_t b);

#endif
