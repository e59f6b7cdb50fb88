/*
 * ledger_query.c - reading the ledger: per point sums over a range from the finest rows
 * kept, and the corrections of the audit trail.
 *
 * Pruning removes whole local days, so the ledger is split in time by two horizons:
 * minute rows cover [minute_pruned_s, now), quarter rows [quarter_pruned_s,
 * minute_pruned_s), day rows everything before quarter_pruned_s. A sum takes each part
 * of the range from exactly one of them, so no energy is counted twice. A row that
 * straddles an end of the range counts pro rata by time (exact when the ends fall on
 * the boundaries of the rows used).
 */
#include <math.h>

#include "ledger_int.h"


/* Binds one table's part [a, b) of the range (ns) to parameters base..base+3: the ends,
 * then bounds on start_s that let SQLite walk the primary key. */
static void dcm_ledger_bind_part(sqlite3_stmt *st, int base, int64_t a, int64_t b,
                                 int64_t max_row_s)
{
    if (a >= b) {
        sqlite3_bind_int64(st, base, 0);
        sqlite3_bind_int64(st, base + 1, 0);
        sqlite3_bind_int64(st, base + 2, 1);
        sqlite3_bind_int64(st, base + 3, 0);
        return;
    }
    sqlite3_bind_int64(st, base, a);
    sqlite3_bind_int64(st, base + 1, b);
    sqlite3_bind_int64(st, base + 2, dcm_ledger_floor_div(a, DCM_NS_PER_S) - max_row_s);
    sqlite3_bind_int64(st, base + 3, dcm_ledger_floor_div(b - 1, DCM_NS_PER_S) + 1);
}

static int64_t dcm_ledger_s_to_ns(int64_t s)
{
    if (s >= INT64_MAX / DCM_NS_PER_S)
        return INT64_MAX;
    if (s <= INT64_MIN / DCM_NS_PER_S)
        return INT64_MIN;
    return s * DCM_NS_PER_S;
}

static uint32_t dcm_ledger_count(sqlite3_stmt *st, int col)
{
    sqlite3_int64 v = sqlite3_column_int64(st, col);
    if (v < 0)
        return 0;
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* Reads run in one transaction so that the horizons and the rows they describe come
 * from the same snapshot, even while the writer rolls up and prunes. Inside the
 * writer's own batch the batch's view is used. */
static dcm_ledger_err dcm_ledger_read_begin(dcm_ledger *l, bool *began)
{
    *began = false;
    if (!sqlite3_get_autocommit(l->db))
        return DCM_LEDGER_OK;
    dcm_ledger_err err = dcm_ledger_exec(l, "BEGIN");
    *began = err == DCM_LEDGER_OK;
    return err;
}

static void dcm_ledger_read_end(dcm_ledger *l, bool began)
{
    if (began && !sqlite3_get_autocommit(l->db))
        sqlite3_exec(l->db, "COMMIT", NULL, NULL, NULL);
}

static dcm_ledger_err dcm_ledger_sum_rows(dcm_ledger *l, int64_t from_ns, int64_t to_ns,
                                          dcm_ledger_sum_fn fn, void *ctx)
{
    int64_t minute_pruned = 0, quarter_pruned = 0;
    dcm_ledger_err err = dcm_ledger_meta_get(l, DCM_META_MINUTE_PRUNED, &minute_pruned);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_meta_get(l, DCM_META_QUARTER_PRUNED, &quarter_pruned);
    if (err != DCM_LEDGER_OK)
        return err;
    int64_t cm = dcm_ledger_s_to_ns(minute_pruned), cq = dcm_ledger_s_to_ns(quarter_pruned);

    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_SUM, &err);
    if (!st)
        return err;
    dcm_ledger_bind_part(st, 1, from_ns > cm ? from_ns : cm, to_ns, DCM_LEDGER_MINUTE_S);
    dcm_ledger_bind_part(st, 5, from_ns > cq ? from_ns : cq, to_ns < cm ? to_ns : cm,
                         DCM_LEDGER_QUARTER_S);
    dcm_ledger_bind_part(st, 9, from_ns, to_ns < cq ? to_ns : cq, DCM_LEDGER_MAX_DAY_S);

    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        dcm_point_acc sum = {
            .amount = sqlite3_column_double(st, 4),
            .estimated = sqlite3_column_double(st, 5),
            .covered_s = sqlite3_column_double(st, 6),
            .samples = dcm_ledger_count(st, 7),
            .corrections = dcm_ledger_count(st, 8),
        };
        /* Rows are finite; only an absurd total could overflow, and no Inf may leave. */
        if (!isfinite(sum.amount) || !isfinite(sum.estimated) || !isfinite(sum.covered_s)) {
            err = dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "sum of %s overflows",
                                  (const char *)sqlite3_column_text(st, 0));
            break;
        }
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const char *unit = (const char *)sqlite3_column_text(st, 1);
        fn(ctx, id ? id : "", unit ? unit : "", (dcm_kind)sqlite3_column_int(st, 2),
           (dcm_quantity)sqlite3_column_int(st, 3), &sum);
    }
    if (err == DCM_LEDGER_OK && rc != SQLITE_DONE)
        err = dcm_ledger_sqlite_fail(l, rc, "sum");
    sqlite3_reset(st);
    return err;
}

dcm_ledger_err dcm_ledger_sum(dcm_ledger *l, int64_t from_ns, int64_t to_ns,
                              dcm_ledger_sum_fn fn, void *ctx)
{
    if (!l)
        return DCM_LEDGER_EINVAL;
    if (!fn || from_ns > to_ns)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "invalid sum range");
    if (from_ns == to_ns)
        return DCM_LEDGER_OK;
    bool began = false;
    dcm_ledger_err err = dcm_ledger_read_begin(l, &began);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_sum_rows(l, from_ns, to_ns, fn, ctx);
    dcm_ledger_read_end(l, began);
    return err;
}

dcm_ledger_err dcm_ledger_corrections(dcm_ledger *l, int64_t from_ns, int64_t to_ns,
                                      dcm_ledger_correction_fn fn, void *ctx)
{
    if (!l)
        return DCM_LEDGER_EINVAL;
    if (!fn || from_ns > to_ns)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "invalid corrections range");
    dcm_ledger_err err = DCM_LEDGER_OK;
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_CORRECTIONS, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, from_ns);
    sqlite3_bind_int64(st, 2, to_ns);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        dcm_increment inc = {
            .t0_ns = sqlite3_column_int64(st, 1),
            .t1_ns = sqlite3_column_int64(st, 2),
            .amount = sqlite3_column_double(st, 3),
            .correction = (uint8_t)sqlite3_column_int(st, 4),
            .flags = (uint8_t)sqlite3_column_int(st, 5),
        };
        fn(ctx, id ? id : "", &inc);
    }
    if (rc != SQLITE_DONE)
        err = dcm_ledger_sqlite_fail(l, rc, "corrections");
    sqlite3_reset(st);
    return err;
}
