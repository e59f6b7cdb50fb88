/*
 * bench_ledger.c - energy ledger throughput: minute rows written per second for 10,000
 * points (one transaction per minute, as the pipeline does), the roll-up of those rows,
 * and the cost of a commit with synchronous=FULL against NORMAL (WAL), which decided
 * the ledger's setting (see docs/ledger.md).
 *
 * Usage: bench_ledger [DIR] [POINTS] [MINUTES]
 *   DIR defaults to a new directory under $TMPDIR (or /tmp), removed afterwards. Run it
 *   on the file system the agent's state_dir will use: fsync cost is the point.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fsutil.h"
#include "ledger.h"

#define SMALL_COMMITS 200
#define SMALL_ROWS 10

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int check(dcm_ledger *l, dcm_ledger_err err, const char *what)
{
    if (err == DCM_LEDGER_OK)
        return 0;
    fprintf(stderr, "%s: %s (%s)\n", what, dcm_ledger_strerror(err), dcm_ledger_errmsg(l));
    return -1;
}

/* Small transactions (SMALL_ROWS rows each) on a plain WAL database with the ledger's
 * minute table, at the given synchronous level: microseconds per commit. */
static double small_commit_us(const char *dir, const char *level)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/sync-%s.db", dir, level);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    double us = -1;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        goto done;
    char sql[400];
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode = WAL; PRAGMA synchronous = %s;"
             "CREATE TABLE minute(start_s INTEGER NOT NULL, point INTEGER NOT NULL,"
             " amount REAL NOT NULL, estimated REAL NOT NULL, covered_s REAL NOT NULL,"
             " samples INTEGER NOT NULL, corrections INTEGER NOT NULL, final INTEGER NOT NULL,"
             " PRIMARY KEY(start_s, point)) WITHOUT ROWID;",
             level);
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO minute VALUES(?1, ?2, 1.5, 0, 60, 1, 0, 0)",
                           -1, &st, NULL) != SQLITE_OK)
        goto done;
    double t0 = now_s();
    for (int c = 0; c < SMALL_COMMITS; c++) {
        if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
            goto done;
        for (int i = 0; i < SMALL_ROWS; i++) {
            sqlite3_bind_int64(st, 1, 1704067200 + 60 * (c / 60));
            sqlite3_bind_int64(st, 2, i);
            if (sqlite3_step(st) != SQLITE_DONE)
                goto done;
            sqlite3_reset(st);
        }
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            goto done;
    }
    us = (now_s() - t0) / SMALL_COMMITS * 1e6;
done:
    if (us < 0)
        fprintf(stderr, "synchronous=%s: %s\n", level, db ? sqlite3_errmsg(db) : "open failed");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return us;
}

static void count_point(void *ctx, const char *point_id, const char *unit, dcm_kind kind,
                        dcm_quantity quantity, const dcm_point_acc *sum)
{
    (void)point_id;
    (void)unit;
    (void)kind;
    (void)quantity;
    (void)sum;
    (*(size_t *)ctx)++;
}

int main(int argc, char **argv)
{
    char dir[1024];
    bool own_dir = argc < 2;
    int points = argc > 2 ? atoi(argv[2]) : 10000;
    int minutes = argc > 3 ? atoi(argv[3]) : 30;
    int rc = 1;
    int64_t *keys = NULL;
    dcm_ledger *l = NULL;

    if (points <= 0 || minutes <= 0) {
        fprintf(stderr, "usage: bench_ledger [DIR] [POINTS] [MINUTES]\n");
        return 2;
    }
    if (own_dir) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/dcm-bench-ledger-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            return 1;
        }
    } else {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    }
    keys = calloc((size_t)points, sizeof *keys);
    if (!keys)
        goto done;
    if (check(NULL, dcm_ledger_open(dir, NULL, &l), "open") != 0)
        goto done;
    for (int i = 0; i < points; i++) {
        char id[48];
        snprintf(id, sizeof id, "rack%05d.pdu.energy", i);
        if (check(l, dcm_ledger_point(l, id, "kWh", DCM_KIND_COUNTER, DCM_QTY_ENERGY, &keys[i]),
                  "point") != 0)
            goto done;
    }

    const int64_t t0 = INT64_C(1704067200) * DCM_NS_PER_S;
    /* Pass 0: minute rows alone; pass 1: minute row and integrator state per point,
     * which is what the pipeline writes at each minute's close. */
    for (int pass = 0; pass < 2; pass++) {
        double write_s = 0, worst_batch = 0, commit_s = 0;
        for (int m = pass * minutes; m < (pass + 1) * minutes; m++) {
            double b0 = now_s();
            if (check(l, dcm_ledger_begin(l), "begin") != 0)
                goto done;
            for (int i = 0; i < points; i++) {
                dcm_point_acc acc = {.amount = 0.25 + 0.001 * i, .covered_s = 60, .samples = 4};
                dcm_point_state st = {.last_ts_ns = t0 + (m + 1) * DCM_NS_PER_MIN - DCM_NS_PER_S,
                                      .last_value = 1000.0 + m, .rate = 15.0};
                if (check(l, dcm_ledger_put_minute(l, keys[i], t0 + m * DCM_NS_PER_MIN, &acc,
                                                   true), "put_minute") != 0 ||
                    (pass == 1 &&
                     check(l, dcm_ledger_put_state(l, keys[i], &st), "put_state") != 0))
                    goto done;
            }
            double c0 = now_s();
            if (check(l, dcm_ledger_commit(l), "commit") != 0)
                goto done;
            double b1 = now_s();
            commit_s += b1 - c0;
            write_s += b1 - b0;
            if (b1 - b0 > worst_batch)
                worst_batch = b1 - b0;
        }
        printf("%s: %d points x %d minutes, one transaction per minute\n",
               pass ? "minute row + state" : "minute rows", points, minutes);
        printf("  %.0f points/s (%.1f ms per minute batch, worst %.1f ms, commit %.1f ms)\n",
               (double)points * minutes / write_s, write_s / minutes * 1e3, worst_batch * 1e3,
               commit_s / minutes * 1e3);
    }

    double rows = 2.0 * points * minutes;
    int64_t span = (int64_t)(2 * minutes) * DCM_NS_PER_MIN;
    double s0 = now_s();
    size_t summed = 0;
    if (check(l, dcm_ledger_sum(l, t0, t0 + span, count_point, &summed), "sum") != 0)
        goto done;
    double sum_fine = now_s() - s0;

    double r0 = now_s();
    int64_t now = t0 + span + 30 * DCM_NS_PER_MIN;
    if (check(l, dcm_ledger_rollup(l, now), "rollup") != 0)
        goto done;
    printf("  roll-up of %.0f minute rows: %.1f ms\n", rows, (now_s() - r0) * 1e3);

    s0 = now_s();
    summed = 0;
    if (check(l, dcm_ledger_sum(l, t0, t0 + span, count_point, &summed), "sum") != 0)
        goto done;
    double sum_coarse = now_s() - s0;
    printf("  sum of %zu points over %d minutes: %.1f ms from minute rows (%.1f million rows/s),"
           " %.1f ms once rolled up (15-minute rows)\n",
           summed, 2 * minutes, sum_fine * 1e3, rows / sum_fine / 1e6, sum_coarse * 1e3);
    dcm_ledger_close(l);
    l = NULL;
    char db_path[1100];
    struct stat sb;
    snprintf(db_path, sizeof db_path, "%s/ledger.db", dir);
    if (stat(db_path, &sb) == 0)
        printf("  database: %.1f MiB, %.0f bytes per minute row (state, 15-minute rows included)\n",
               (double)sb.st_size / (1024 * 1024), (double)sb.st_size / rows);

    double full = small_commit_us(dir, "FULL"), normal = small_commit_us(dir, "NORMAL");
    if (full < 0 || normal < 0)
        goto done;
    printf("commit of a %d-row transaction, WAL: synchronous=FULL %.0f us, NORMAL %.0f us\n",
           SMALL_ROWS, full, normal);
    rc = 0;
done:
    dcm_ledger_close(l);
    free(keys);
    if (own_dir)
        dcm_remove_tree(dir);
    return rc;
}
