/*
 * ledger_fixture.h - what the ledger tests share: a temporary state directory per test,
 * direct SQL on the database, sum collection, and a known history of two points.
 */
#ifndef DCM_TEST_LEDGER_FIXTURE_H
#define DCM_TEST_LEDGER_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fsutil.h"
#include "ledger.h"

#define NS DCM_NS_PER_S
#define DAY_S INT64_C(86400)
/* 2024-01-01T00:00:00Z */
#define T0_S INT64_C(1704067200)

typedef struct fixture {
    char dir[512];
} fixture;

/* cmocka 1.1 compares floats in single precision; sums need double. */
#define assert_near(a, b, eps)                                                              \
    do {                                                                                    \
        double a_ = (a), b_ = (b);                                                          \
        if (!(fabs(a_ - b_) <= (eps)))                                                      \
            fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                            \
    } while (0)

static inline int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/dcm-ledger-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static inline int teardown(void **state)
{
    fixture *f = *state;
    dcm_remove_tree(f->dir);
    free(f);
    return 0;
}

static inline void state_path(const fixture *f, char *out, size_t n)
{
    snprintf(out, n, "%s/state/ledger", f->dir);
}

static inline dcm_ledger *open_ledger(const fixture *f, const dcm_ledger_options *opt)
{
    char dir[600];
    state_path(f, dir, sizeof dir);
    dcm_ledger *l = NULL;
    dcm_ledger_err err = dcm_ledger_open(dir, opt, &l);
    if (err != DCM_LEDGER_OK)
        print_error("open: %s: %s\n", dcm_ledger_strerror(err), dcm_ledger_errmsg(NULL));
    assert_int_equal(err, DCM_LEDGER_OK);
    assert_non_null(l);
    return l;
}

/* Direct SQL on the database, to check what the ledger stored. */
static inline sqlite3 *open_raw(const fixture *f)
{
    char path[700];
    snprintf(path, sizeof path, "%s/state/ledger/ledger.db", f->dir);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    return db;
}

static inline int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static inline double raw_double(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    double v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* ------------------------------------------------------------ sum collection */

#define MAX_SUMS 8

typedef struct sums {
    int n;
    char id[MAX_SUMS][64];
    char unit[MAX_SUMS][16];
    dcm_kind kind[MAX_SUMS];
    dcm_quantity quantity[MAX_SUMS];
    dcm_point_acc acc[MAX_SUMS];
} sums;

static inline void collect(void *ctx, const char *point_id, const char *unit, dcm_kind kind,
                    dcm_quantity quantity, const dcm_point_acc *sum)
{
    sums *s = ctx;
    assert_true(s->n < MAX_SUMS);
    snprintf(s->id[s->n], sizeof s->id[0], "%s", point_id);
    snprintf(s->unit[s->n], sizeof s->unit[0], "%s", unit);
    s->kind[s->n] = kind;
    s->quantity[s->n] = quantity;
    s->acc[s->n] = *sum;
    s->n++;
}

static inline sums sum_range(dcm_ledger *l, int64_t from_s, int64_t to_s)
{
    sums s;
    memset(&s, 0, sizeof s);
    dcm_ledger_err err = dcm_ledger_sum(l, from_s * NS, to_s * NS, collect, &s);
    if (err != DCM_LEDGER_OK)
        print_error("sum: %s\n", dcm_ledger_errmsg(l));
    assert_int_equal(err, DCM_LEDGER_OK);
    return s;
}

static inline const dcm_point_acc *find_sum(const sums *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->id[i], id) == 0)
            return &s->acc[i];
    fail_msg("no sum for %s", id);
    return NULL;
}

/* --------------------------------------------------------- a known history */

/* Point "a": minute m (minutes since T0) holds 0.25 x (m mod 7) kWh, with m mod 3
 * corrections; point "b": 1.5 kWh every minute. Multiples of 1/4: every sum is exact. */
static inline double amount_a(int64_t start_s)
{
    return 0.25 * (double)(((start_s - T0_S) / 60) % 7);
}

static inline dcm_point_acc acc_of(double amount, uint32_t corrections)
{
    dcm_point_acc acc = {.amount = amount, .estimated = amount / 2, .covered_s = 60,
                         .samples = 1, .corrections = corrections};
    return acc;
}

static inline void register_ab(dcm_ledger *l, int64_t *ka, int64_t *kb)
{
    assert_int_equal(dcm_ledger_point(l, "pdu.a", "kWh", DCM_KIND_COUNTER, DCM_QTY_ENERGY, ka),
                     DCM_LEDGER_OK);
    assert_int_equal(dcm_ledger_point(l, "pdu.b", "kWh", DCM_KIND_GAUGE, DCM_QTY_ENERGY, kb),
                     DCM_LEDGER_OK);
}

static inline void write_history(dcm_ledger *l, int64_t ka, int64_t kb, int64_t from_s, int64_t to_s)
{
    assert_int_equal(dcm_ledger_begin(l), DCM_LEDGER_OK);
    for (int64_t t = from_s; t < to_s; t += 60) {
        dcm_point_acc a = acc_of(amount_a(t), (uint32_t)(((t - T0_S) / 60) % 3));
        dcm_point_acc b = acc_of(1.5, 0);
        assert_int_equal(dcm_ledger_put_minute(l, ka, t * NS, &a, true), DCM_LEDGER_OK);
        assert_int_equal(dcm_ledger_put_minute(l, kb, t * NS, &b, true), DCM_LEDGER_OK);
    }
    assert_int_equal(dcm_ledger_commit(l), DCM_LEDGER_OK);
}

/* What the minutes of point a hold over [from, to) (whole minutes). */
static inline double expected_a(int64_t from_s, int64_t to_s, uint32_t *corrections)
{
    double sum = 0;
    uint32_t c = 0;
    for (int64_t t = from_s; t < to_s; t += 60) {
        sum += amount_a(t);
        c += (uint32_t)(((t - T0_S) / 60) % 3);
    }
    if (corrections)
        *corrections = c;
    return sum;
}

#endif
