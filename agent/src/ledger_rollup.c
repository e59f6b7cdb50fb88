/*
 * ledger_rollup.c - folds minute rows into 15-minute (UTC-aligned) and daily (site civil
 * time) rows, and prunes by retention.
 *
 * Watermarks (meta table) make it incremental and idempotent:
 *   rolled_quarter_s  quarters before it have been computed from their minutes;
 *   rolled_day_s      days before it have been computed from their quarters;
 *   minute_pruned_s   minute rows before it are gone (always <= rolled_day_s);
 *   quarter_pruned_s  quarter rows before it are gone (always <= minute_pruned_s).
 * A period is rolled once it has settled (its end is DCM_LEDGER_SETTLE_S before now):
 * by then every minute in it is final or was abandoned by a crashed writer, and either
 * way its row holds all the energy the ledger will ever know for that minute. A minute
 * written later into a rolled quarter marks the quarter dirty (dirty table); the next
 * roll-up recomputes that quarter and its day. Recomputing replaces rows, so nothing is
 * ever counted twice however often this runs.
 */
#include "ledger_int.h"

/* The pipeline closes a minute at most a minute after its end and commits within a
 * minute more; ten minutes leaves room for a slow disk. */
#define DCM_LEDGER_SETTLE_S INT64_C(600)

static int64_t dcm_ledger_cal_s(const dcm_ledger *l, bool next, int64_t t_s)
{
    int64_t t = next ? dcm_calendar_next(&l->cal, DCM_WINDOW_1D, t_s * DCM_NS_PER_S)
                     : dcm_calendar_floor(&l->cal, DCM_WINDOW_1D, t_s * DCM_NS_PER_S);
    return dcm_ledger_floor_div(t, DCM_NS_PER_S);
}

/* Reads one optional integer from a single-row query. */
static dcm_ledger_err dcm_ledger_query_int(dcm_ledger *l, sqlite3_stmt *st, bool *found,
                                           int64_t *a, int64_t *b)
{
    dcm_ledger_err err = DCM_LEDGER_OK;
    int rc = sqlite3_step(st);
    *found = false;
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
        *found = true;
        *a = sqlite3_column_int64(st, 0);
        if (b)
            *b = sqlite3_column_int64(st, 1);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = dcm_ledger_sqlite_fail(l, rc, "roll-up query");
    }
    sqlite3_reset(st);
    return err;
}

/* The local day containing t: the day row already stored there if any (so a change of
 * the site's time zone never makes two day rows overlap), else the calendar's day,
 * clipped to its stored neighbours. */
static dcm_ledger_err dcm_ledger_day_bounds(dcm_ledger *l, int64_t t, int64_t *d0, int64_t *d1)
{
    dcm_ledger_err err = DCM_LEDGER_OK;
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_DAY_OF, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, t);
    sqlite3_bind_int64(st, 2, t - DCM_LEDGER_MAX_DAY_S);
    bool found = false;
    int64_t prev_start = 0, prev_end = 0;
    err = dcm_ledger_query_int(l, st, &found, &prev_start, &prev_end);
    if (err != DCM_LEDGER_OK)
        return err;
    if (found && prev_end > t) {
        *d0 = prev_start;
        *d1 = prev_end;
        return DCM_LEDGER_OK;
    }
    *d0 = dcm_ledger_cal_s(l, false, t);
    *d1 = dcm_ledger_cal_s(l, true, t);
    if (found && prev_end > *d0)
        *d0 = prev_end;
    /* A later day row can only exist for a day rolled up under another calendar. */
    st = dcm_ledger_stmt_get(l, ST_DAY_AFTER, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, t);
    int64_t next_start = 0;
    err = dcm_ledger_query_int(l, st, &found, &next_start, NULL);
    if (err == DCM_LEDGER_OK && found && next_start < *d1)
        *d1 = next_start;
    return err;
}

static dcm_ledger_err dcm_ledger_range_step(dcm_ledger *l, dcm_ledger_stmt which, int64_t a,
                                            int64_t b, const char *what)
{
    dcm_ledger_err err = DCM_LEDGER_OK;
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, which, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        err = dcm_ledger_sqlite_fail(l, rc, what);
    sqlite3_reset(st);
    return err;
}

/* Quarter rows for every quarter in [a, b) (UTC quarter boundaries) from their minutes. */
static dcm_ledger_err dcm_ledger_roll_quarters(dcm_ledger *l, int64_t a, int64_t b)
{
    dcm_ledger_err err = dcm_ledger_range_step(l, ST_QUARTER_DELETE, a, b, "roll quarters");
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_range_step(l, ST_QUARTER_ROLL, a, b, "roll quarters");
    return err;
}

/* Day rows for the local day [d0, d1). Quarters are the cheaper source; a day that does
 * not start and end on a quarter boundary (a zone offset that is not a multiple of
 * 15 minutes) is summed from its minutes instead. */
static dcm_ledger_err dcm_ledger_roll_day(dcm_ledger *l, int64_t d0, int64_t d1)
{
    bool aligned = d0 % DCM_LEDGER_QUARTER_S == 0 && d1 % DCM_LEDGER_QUARTER_S == 0;
    dcm_ledger_err err = dcm_ledger_range_step(l, ST_DAY_DELETE, d0, d1, "roll day");
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_range_step(l, aligned ? ST_DAY_ROLL_QUARTERS : ST_DAY_ROLL_MINUTES,
                                    d0, d1, "roll day");
    return err;
}

/* Recomputes the quarters written into after they were rolled, and their days. */
static dcm_ledger_err dcm_ledger_roll_dirty(dcm_ledger *l, int64_t rolled_day_s)
{
    dcm_ledger_err err = DCM_LEDGER_OK;
    sqlite3_stmt *list = dcm_ledger_stmt_get(l, ST_DIRTY_LIST, &err);
    if (!list)
        return err;
    int64_t last_d0 = INT64_MIN;
    int rc;
    while (err == DCM_LEDGER_OK && (rc = sqlite3_step(list)) == SQLITE_ROW) {
        int64_t q = sqlite3_column_int64(list, 0);
        err = dcm_ledger_roll_quarters(l, q, q + DCM_LEDGER_QUARTER_S);
        if (err != DCM_LEDGER_OK || q >= rolled_day_s)
            continue;
        int64_t d0 = 0, d1 = 0;
        err = dcm_ledger_day_bounds(l, q, &d0, &d1);
        if (err == DCM_LEDGER_OK && d0 != last_d0)
            err = dcm_ledger_roll_day(l, d0, d1);
        last_d0 = d0;
    }
    if (err == DCM_LEDGER_OK && rc != SQLITE_DONE)
        err = dcm_ledger_sqlite_fail(l, rc, "list dirty quarters");
    sqlite3_reset(list);
    if (err == DCM_LEDGER_OK) {
        sqlite3_stmt *clear = dcm_ledger_stmt_get(l, ST_DIRTY_CLEAR, &err);
        if (!clear)
            return err;
        rc = sqlite3_step(clear);
        if (rc != SQLITE_DONE)
            err = dcm_ledger_sqlite_fail(l, rc, "clear dirty quarters");
        sqlite3_reset(clear);
    }
    return err;
}

/* Day rows for every settled day from *rolled_day_s up to the day containing limit;
 * days without data are skipped (no row). */
static dcm_ledger_err dcm_ledger_roll_days(dcm_ledger *l, int64_t from, int64_t limit)
{
    dcm_ledger_err err = DCM_LEDGER_OK;
    int64_t t = from;
    while (t < limit) {
        sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_NEXT_QUARTER, &err);
        if (!st)
            return err;
        sqlite3_bind_int64(st, 1, t);
        bool found = false;
        int64_t q = 0;
        err = dcm_ledger_query_int(l, st, &found, &q, NULL);
        if (err != DCM_LEDGER_OK || !found || q >= limit)
            return err;
        int64_t d0 = 0, d1 = 0;
        err = dcm_ledger_day_bounds(l, q, &d0, &d1);
        if (err != DCM_LEDGER_OK || d1 > limit)
            return err;
        if (d0 < t)
            d0 = t;
        err = dcm_ledger_roll_day(l, d0, d1);
        if (err != DCM_LEDGER_OK)
            return err;
        t = d1;
    }
    return err;
}

/* Deletes rows of `which` before the start of the day containing now - retention, but
 * never past `cap` (rows are only deleted once the coarser rows covering them exist).
 * Whole days go at once so that each day is wholly at one resolution. */
static dcm_ledger_err dcm_ledger_prune(dcm_ledger *l, dcm_ledger_stmt which, const char *meta,
                                       int64_t now_s, int64_t retention_s, int64_t cap,
                                       int64_t *pruned)
{
    dcm_ledger_err err = dcm_ledger_meta_get(l, meta, pruned);
    if (err != DCM_LEDGER_OK || retention_s >= now_s)
        return err; /* nothing is older than the epoch */
    int64_t d0 = 0, d1 = 0;
    err = dcm_ledger_day_bounds(l, now_s - retention_s, &d0, &d1);
    if (err != DCM_LEDGER_OK)
        return err;
    int64_t cut = d0 < cap ? d0 : cap;
    if (cut <= *pruned)
        return DCM_LEDGER_OK;
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, which, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, cut);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        err = dcm_ledger_sqlite_fail(l, rc, "prune");
    sqlite3_reset(st);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_meta_put(l, meta, cut);
    if (err == DCM_LEDGER_OK)
        *pruned = cut;
    return err;
}

static dcm_ledger_err dcm_ledger_rollup_tx(dcm_ledger *l, int64_t now_s, int64_t *rolled_q,
                                           int64_t *minute_pruned)
{
    int64_t wq = 0, wd = 0;
    dcm_ledger_err err = dcm_ledger_meta_get(l, DCM_META_ROLLED_QUARTER, &wq);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_meta_get(l, DCM_META_ROLLED_DAY, &wd);
    if (err != DCM_LEDGER_OK)
        return err;

    int64_t settled = now_s - DCM_LEDGER_SETTLE_S;
    int64_t wq_new = dcm_ledger_floor_div(settled, DCM_LEDGER_QUARTER_S) * DCM_LEDGER_QUARTER_S;
    if (wq_new < wq)
        wq_new = wq;
    if (wq_new > wq)
        err = dcm_ledger_roll_quarters(l, wq, wq_new);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_roll_dirty(l, wd);

    int64_t wd_new = wd;
    if (err == DCM_LEDGER_OK && wq_new > 0) {
        int64_t d0 = 0, d1 = 0;
        err = dcm_ledger_day_bounds(l, wq_new, &d0, &d1);
        if (d0 > wd_new)
            wd_new = d0;
    }
    if (err == DCM_LEDGER_OK && wd_new > wd)
        err = dcm_ledger_roll_days(l, wd, wd_new);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_meta_put(l, DCM_META_ROLLED_QUARTER, wq_new);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_meta_put(l, DCM_META_ROLLED_DAY, wd_new);

    int64_t quarter_pruned = 0; /* the corrections are not pruned with the quarters */
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_prune(l, ST_MINUTE_PRUNE, DCM_META_MINUTE_PRUNED, now_s,
                               l->minute_retention_s, wd_new, minute_pruned);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_prune(l, ST_QUARTER_PRUNE, DCM_META_QUARTER_PRUNED, now_s,
                               l->quarter_retention_s, *minute_pruned, &quarter_pruned);
    /* The audit trail (corrections) is kept forever, like the daily rows: a report on any
     * past year must still show every wrap, reset and gap behind its figures. */
    *rolled_q = wq_new;
    return err;
}

dcm_ledger_err dcm_ledger_rollup(dcm_ledger *l, int64_t now_ns)
{
    if (!l)
        return DCM_LEDGER_EINVAL;
    if (l->read_only)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "ledger opened read-only");
    if (l->in_batch)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "roll-up inside an open batch");
    dcm_ledger_err err = dcm_ledger_exec(l, "BEGIN IMMEDIATE");
    if (err != DCM_LEDGER_OK)
        return err;
    int64_t rolled_q = l->rolled_quarter_s, minute_pruned = l->minute_pruned_s;
    err = dcm_ledger_rollup_tx(l, dcm_ledger_floor_div(now_ns, DCM_NS_PER_S), &rolled_q,
                               &minute_pruned);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_exec(l, "COMMIT");
    if (err != DCM_LEDGER_OK) {
        if (!sqlite3_get_autocommit(l->db))
            sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
        return err;
    }
    /* Only a committed roll-up moves the writer's copy of the watermarks. */
    l->rolled_quarter_s = rolled_q;
    l->minute_pruned_s = minute_pruned;
    return DCM_LEDGER_OK;
}
