/*
 * ledger_query.c - reading the ledger: per point sums over a range from the finest rows
 * kept, and the corrections of the audit trail.
 *
 * Pruning removes whole local days, so the ledger is split in time by two horizons:
 * minute rows cover [minute_pruned_s, now), quarter rows [quarter_pruned_s,
 * minute_pruned_s), day rows everything before quarter_pruned_s. A sum takes each part
 * of the range from exactly one table, so no energy is counted twice. A row that
 * straddles an end of a part counts pro rata by time (exact when the ends fall on the
 * boundaries of the rows used).
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

typedef enum dcm_sum_table { SUM_MINUTE = 0, SUM_QUARTER, SUM_DAY, SUM_TABLES } dcm_sum_table;

typedef struct dcm_sum_piece {
    int64_t a, b; /* ns */
    dcm_sum_table table;
} dcm_sum_piece;

/* What the database holds, in ns: the horizons and roll-up watermarks, and the span
 * [da, db) of whole stored days inside the range (empty if none). */
typedef struct dcm_sum_layout {
    int64_t cm, cq, wq, wd;
    int64_t da, db;
    bool dirty;
} dcm_sum_layout;

static int64_t dcm_ledger_align_up(int64_t t, int64_t step)
{
    int64_t f = dcm_ledger_floor_div(t, step) * step;
    if (f == t)
        return t;
    return f > INT64_MAX - step ? INT64_MAX : f + step;
}

static dcm_ledger_err dcm_ledger_int_query(dcm_ledger *l, dcm_ledger_stmt which, int64_t p1,
                                           int64_t p2, int nparams, bool *found, int64_t *a,
                                           int64_t *b)
{
    dcm_ledger_err err = DCM_LEDGER_OK;
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, which, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, p1);
    if (nparams > 1)
        sqlite3_bind_int64(st, 2, p2);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
    if (*found) {
        *a = sqlite3_column_int64(st, 0);
        if (b)
            *b = sqlite3_column_int64(st, 1);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = dcm_ledger_sqlite_fail(l, rc, "sum");
    }
    sqlite3_reset(st);
    return err;
}

static dcm_ledger_err dcm_ledger_sum_layout(dcm_ledger *l, int64_t from, int64_t to,
                                            dcm_sum_layout *lay)
{
    int64_t v[4] = {0};
    static const char *const names[4] = {DCM_META_MINUTE_PRUNED, DCM_META_QUARTER_PRUNED,
                                         DCM_META_ROLLED_QUARTER, DCM_META_ROLLED_DAY};
    for (int i = 0; i < 4; i++) {
        dcm_ledger_err err = dcm_ledger_meta_get(l, names[i], &v[i]);
        if (err != DCM_LEDGER_OK)
            return err;
    }
    lay->cm = dcm_ledger_s_to_ns(v[0]);
    lay->cq = dcm_ledger_s_to_ns(v[1]);
    lay->wq = dcm_ledger_s_to_ns(v[2]);
    lay->wd = dcm_ledger_s_to_ns(v[3]);
    lay->da = lay->db = 0;

    /* A minute rewritten since the last roll-up makes its quarter and day stale. */
    int64_t from_s = dcm_ledger_floor_div(from, DCM_NS_PER_S);
    int64_t to_s = dcm_ledger_floor_div(to - 1, DCM_NS_PER_S) + 1;
    int64_t unused = 0;
    dcm_ledger_err err = dcm_ledger_int_query(l, ST_SUM_DIRTY, from_s - DCM_LEDGER_QUARTER_S,
                                              to_s, 2, &lay->dirty, &unused, NULL);
    if (err != DCM_LEDGER_OK || lay->dirty)
        return err;

    bool found = false;
    int64_t first_start = 0, last_start = 0, last_end = 0;
    err = dcm_ledger_int_query(l, ST_SUM_FIRST_DAY,
                               dcm_ledger_align_up(from, DCM_NS_PER_S) / DCM_NS_PER_S, 0, 1,
                               &found, &first_start, NULL);
    if (err != DCM_LEDGER_OK || !found)
        return err;
    int64_t limit = to < lay->wd ? to : lay->wd;
    err = dcm_ledger_int_query(l, ST_SUM_LAST_DAY, dcm_ledger_floor_div(limit, DCM_NS_PER_S), 0,
                               1, &found, &last_start, &last_end);
    if (err != DCM_LEDGER_OK || !found)
        return err;
    /* The last day starting before the limit: whole if it ends by then, else the days
     * before it end where it starts (or earlier, with nothing stored in between). */
    int64_t db = dcm_ledger_s_to_ns(last_end) <= limit ? dcm_ledger_s_to_ns(last_end)
                                                        : dcm_ledger_s_to_ns(last_start);
    if (db > dcm_ledger_s_to_ns(first_start)) {
        lay->da = dcm_ledger_s_to_ns(first_start);
        lay->db = db;
    }
    return DCM_LEDGER_OK;
}

/* Splits [from, to) into pieces, each read from one table. Where the finest rows kept
 * are minutes or quarters, whole stored days and whole rolled quarters inside the range
 * are read from the coarser rows instead: they hold exactly the same sums, in far fewer
 * rows. Where only coarser rows are left (pruned spans), they count pro rata. */
static size_t dcm_ledger_sum_pieces(const dcm_sum_layout *lay, int64_t from, int64_t to,
                                    bool coarse, dcm_sum_piece *out)
{
    int64_t qa = 0, qb = 0, da = 0, db = 0;
    if (coarse && !lay->dirty) {
        qa = dcm_ledger_align_up(from > lay->cq ? from : lay->cq, DCM_LEDGER_QUARTER_S * DCM_NS_PER_S);
        int64_t lim = to < lay->wq ? to : lay->wq;
        qb = dcm_ledger_floor_div(lim, DCM_LEDGER_QUARTER_S * DCM_NS_PER_S) * DCM_LEDGER_QUARTER_S *
             DCM_NS_PER_S;
        da = lay->da;
        db = lay->db;
    }
    int64_t cuts[8] = {from, to, lay->cm, lay->cq, qa, qb, da, db};
    size_t n = 0;
    /* Sort the cuts that fall inside the range (insertion sort of at most 8). */
    int64_t sorted[8];
    for (int i = 0; i < 8; i++) {
        int64_t c = cuts[i];
        if (c < from || c > to)
            continue;
        size_t j = n++;
        while (j > 0 && sorted[j - 1] > c) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = c;
    }
    size_t pieces = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        int64_t a = sorted[i], b = sorted[i + 1];
        if (a == b)
            continue;
        dcm_sum_table t;
        if (da <= a && b <= db && da < db)
            t = SUM_DAY;
        else if (qa <= a && b <= qb && qa < qb)
            t = SUM_QUARTER;
        else if (a >= lay->cm)
            t = SUM_MINUTE;
        else if (a >= lay->cq)
            t = SUM_QUARTER;
        else
            t = SUM_DAY;
        if (pieces > 0 && out[pieces - 1].table == t && out[pieces - 1].b == a) {
            out[pieces - 1].b = b;
        } else {
            out[pieces].a = a;
            out[pieces].b = b;
            out[pieces].table = t;
            pieces++;
        }
    }
    return pieces;
}

static dcm_ledger_err dcm_ledger_sum_rows(dcm_ledger *l, int64_t from_ns, int64_t to_ns,
                                          dcm_ledger_sum_fn fn, void *ctx)
{
    dcm_sum_layout lay;
    dcm_ledger_err err = dcm_ledger_sum_layout(l, from_ns, to_ns, &lay);
    if (err != DCM_LEDGER_OK)
        return err;
    dcm_sum_piece pieces[8];
    size_t n = dcm_ledger_sum_pieces(&lay, from_ns, to_ns, true, pieces);
    int used[SUM_TABLES] = {0};
    for (size_t i = 0; i < n; i++)
        used[pieces[i].table]++;
    /* The coarse pieces never need more slots than the query has; should a layout ever
     * do so, the plain split (one piece per table) is as exact, only slower. */
    if (used[SUM_MINUTE] > DCM_LEDGER_SUM_SLOTS || used[SUM_QUARTER] > DCM_LEDGER_SUM_SLOTS ||
        used[SUM_DAY] > DCM_LEDGER_SUM_SLOTS)
        n = dcm_ledger_sum_pieces(&lay, from_ns, to_ns, false, pieces);

    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_SUM, &err);
    if (!st)
        return err;
    static const int64_t max_row_s[SUM_TABLES] = {DCM_LEDGER_MINUTE_S, DCM_LEDGER_QUARTER_S,
                                                  DCM_LEDGER_MAX_DAY_S};
    int slot[SUM_TABLES] = {0};
    for (size_t i = 0; i < n; i++) {
        dcm_sum_table t = pieces[i].table;
        int base = 1 + 4 * ((int)t * DCM_LEDGER_SUM_SLOTS + slot[t]++);
        dcm_ledger_bind_part(st, base, pieces[i].a, pieces[i].b, max_row_s[t]);
    }
    for (int t = 0; t < SUM_TABLES; t++)
        for (; slot[t] < DCM_LEDGER_SUM_SLOTS; slot[t]++)
            dcm_ledger_bind_part(st, 1 + 4 * (t * DCM_LEDGER_SUM_SLOTS + slot[t]), 0, 0, 0);

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
    /* No row lies that far from 1970 (±146 years); clamping keeps the arithmetic on
     * boundaries clear of overflow for "all of time" ranges. */
    const int64_t far = INT64_MAX / 2;
    if (from_ns < -far)
        from_ns = -far;
    if (to_ns > far)
        to_ns = far;
    if (from_ns >= to_ns)
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
