/*
 * test_ledger_safety.c - the energy ledger beside other processes: read-only readers
 * while the writer works, one writer only, refusal of newer schemas and of files that
 * are not ledgers, and crash safety (kill -9 or _exit in the middle of a batch).
 */
#include <dirent.h>

#include "ledger_fixture.h"

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n++;
    closedir(d);
    return n;
}

static void test_read_only(void **state)
{
    fixture *f = *state;
    char dir[600], path[700];
    state_path(f, dir, sizeof dir);
    dcm_ledger_options ro = {.read_only = true};
    dcm_ledger *r = NULL;
    /* A reader never creates the directory or the database. */
    assert_int_equal(dcm_ledger_open(dir, &ro, &r), DCM_LEDGER_EIO);
    assert_null(r);
    struct stat sb;
    assert_int_not_equal(stat(dir, &sb), 0);

    dcm_ledger *w = open_ledger(f, NULL);
    int64_t ka = 0, kb = 0;
    register_ab(w, &ka, &kb);
    write_history(w, ka, kb, T0_S, T0_S + 600);
    dcm_point_state st = {.last_ts_ns = (T0_S + 599) * NS, .last_value = 7.5, .rate = 1.25};
    assert_int_equal(dcm_ledger_put_state(w, ka, &st), DCM_LEDGER_OK);

    /* One writer only. */
    dcm_ledger *w2 = NULL;
    assert_int_equal(dcm_ledger_open(dir, NULL, &w2), DCM_LEDGER_EBUSY);
    assert_null(w2);

    r = open_ledger(f, &ro);
    sums s = sum_range(r, T0_S, T0_S + 3600);
    assert_true(find_sum(&s, "pdu.b")->amount == 15.0);
    int64_t key = 0;
    assert_int_equal(dcm_ledger_point(r, "pdu.a", "kWh", DCM_KIND_COUNTER, DCM_QTY_ENERGY, &key),
                     DCM_LEDGER_OK);
    assert_true(key == ka);
    assert_int_equal(dcm_ledger_point(r, "pdu.new", "kWh", DCM_KIND_COUNTER, DCM_QTY_ENERGY,
                                      &key), DCM_LEDGER_EINVAL);
    dcm_point_state got = {0};
    bool found = false;
    assert_int_equal(dcm_ledger_get_state(r, ka, &got, &found), DCM_LEDGER_OK);
    assert_true(found && got.last_value == 7.5);
    dcm_point_acc acc = acc_of(1.0, 0);
    assert_int_equal(dcm_ledger_put_minute(r, ka, T0_S * NS, &acc, true), DCM_LEDGER_EINVAL);
    assert_int_equal(dcm_ledger_begin(r), DCM_LEDGER_EINVAL);
    assert_int_equal(dcm_ledger_rollup(r, T0_S * NS), DCM_LEDGER_EINVAL);

    /* The writer's open batch is invisible until committed; the reader never blocks it. */
    assert_int_equal(dcm_ledger_begin(w), DCM_LEDGER_OK);
    for (int64_t t = T0_S + 600; t < T0_S + 1200; t += 60)
        assert_int_equal(dcm_ledger_put_minute(w, kb, t * NS, &acc, true), DCM_LEDGER_OK);
    s = sum_range(r, T0_S, T0_S + 3600);
    assert_true(find_sum(&s, "pdu.b")->amount == 15.0);
    assert_int_equal(dcm_ledger_commit(w), DCM_LEDGER_OK);
    s = sum_range(r, T0_S, T0_S + 3600);
    assert_true(find_sum(&s, "pdu.b")->amount == 25.0);
    assert_int_equal(dcm_ledger_rollup(w, (T0_S + 3 * DAY_S) * NS), DCM_LEDGER_OK);
    s = sum_range(r, T0_S, T0_S + 3600);
    assert_true(find_sum(&s, "pdu.b")->amount == 25.0);
    dcm_ledger_close(r);
    dcm_ledger_close(w);

    /* After the writer has gone, a reader adds no file beside the database. */
    int before = count_entries(dir);
    r = open_ledger(f, &ro);
    s = sum_range(r, T0_S, T0_S + 3600);
    assert_int_equal(s.n, 2);
    dcm_ledger_close(r);
    assert_int_equal(count_entries(dir), before);
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    assert_int_equal(stat(path, &sb), 0);
}

static void test_schema_refusal(void **state)
{
    fixture *f = *state;
    dcm_ledger *l = open_ledger(f, NULL);
    dcm_ledger_close(l);
    sqlite3 *db = open_raw(f);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    char dir[600], path[700];
    state_path(f, dir, sizeof dir);
    l = NULL;
    assert_int_equal(dcm_ledger_open(dir, NULL, &l), DCM_LEDGER_ECORRUPT);
    assert_null(l);
    assert_non_null(strstr(dcm_ledger_errmsg(NULL), "newer"));
    dcm_ledger_options ro = {.read_only = true};
    assert_int_equal(dcm_ledger_open(dir, &ro, &l), DCM_LEDGER_ECORRUPT);

    /* Not a database at all. */
    snprintf(path, sizeof path, "%s/ledger.db", dir);
    char wal[720], shm[720];
    snprintf(wal, sizeof wal, "%s-wal", path);
    snprintf(shm, sizeof shm, "%s-shm", path);
    remove(wal);
    remove(shm);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 256; i++)
        fputs("this is not a ledger ", fp);
    fclose(fp);
    assert_int_equal(dcm_ledger_open(dir, NULL, &l), DCM_LEDGER_ECORRUPT);
    assert_null(l);

    /* Bad options. */
    dcm_ledger_options bad = {.minute_retention_ns = 10 * DAY_S * NS,
                              .quarter_retention_ns = DAY_S * NS};
    assert_int_equal(dcm_ledger_open(dir, &bad, &l), DCM_LEDGER_EINVAL);
    assert_int_equal(dcm_ledger_open(NULL, NULL, &l), DCM_LEDGER_EINVAL);
}

/* ------------------------------------------------------------ crash safety */

#define CRASH_POINTS 1000
#define CRASH_COMMITTED_MINUTES 10

/* Runs in the child: commits ten minutes for every point, then dies inside a second,
 * large batch (large enough that SQLite spills uncommitted pages into the WAL). */
static void crash_child(const char *dir, bool sigkill)
{
    dcm_ledger *l = NULL;
    if (dcm_ledger_open(dir, NULL, &l) != DCM_LEDGER_OK)
        _exit(3);
    int64_t keys[CRASH_POINTS];
    for (int i = 0; i < CRASH_POINTS; i++) {
        char id[32];
        snprintf(id, sizeof id, "rack%04d.energy", i);
        if (dcm_ledger_point(l, id, "kWh", DCM_KIND_COUNTER, DCM_QTY_ENERGY, &keys[i]) !=
            DCM_LEDGER_OK)
            _exit(3);
    }
    if (dcm_ledger_begin(l) != DCM_LEDGER_OK)
        _exit(3);
    for (int m = 0; m < CRASH_COMMITTED_MINUTES; m++)
        for (int i = 0; i < CRASH_POINTS; i++) {
            dcm_point_acc acc = acc_of(0.5, 0);
            if (dcm_ledger_put_minute(l, keys[i], (T0_S + 60 * m) * NS, &acc, true) !=
                DCM_LEDGER_OK)
                _exit(3);
        }
    dcm_point_state st = {.last_ts_ns = (T0_S + 600) * NS, .last_value = 100.0, .rate = 3.0};
    if (dcm_ledger_put_state(l, keys[0], &st) != DCM_LEDGER_OK ||
        dcm_ledger_commit(l) != DCM_LEDGER_OK)
        _exit(3);

    if (dcm_ledger_begin(l) != DCM_LEDGER_OK)
        _exit(3);
    for (int m = 0; m < 100; m++)
        for (int i = 0; i < CRASH_POINTS; i++) {
            dcm_point_acc acc = acc_of(9.0, 1);
            /* Overwrites the committed minutes too: none of it may survive. */
            if (dcm_ledger_put_minute(l, keys[i], (T0_S + 60 * m) * NS, &acc, true) !=
                DCM_LEDGER_OK)
                _exit(3);
        }
    st.last_value = 999.0;
    if (dcm_ledger_put_state(l, keys[0], &st) != DCM_LEDGER_OK)
        _exit(3);
    if (sigkill)
        kill(getpid(), SIGKILL);
    _exit(0);
}

typedef struct count_sum {
    int points;
    double amount;
} count_sum;

static void count_points(void *ctx, const char *point_id, const char *unit, dcm_kind kind,
                         dcm_quantity quantity, const dcm_point_acc *sum)
{
    count_sum *c = ctx;
    c->points++;
    c->amount += sum->amount;
}

static void crash_and_check(fixture *f, bool sigkill)
{
    char dir[600];
    state_path(f, dir, sizeof dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        crash_child(dir, sigkill);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (sigkill) {
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);
    } else {
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }

    dcm_ledger *l = open_ledger(f, NULL);
    count_sum c = {0};
    assert_int_equal(dcm_ledger_sum(l, T0_S * NS, (T0_S + DAY_S) * NS, count_points, &c),
                     DCM_LEDGER_OK);
    assert_int_equal(c.points, CRASH_POINTS);
    assert_true(c.amount == 0.5 * CRASH_POINTS * CRASH_COMMITTED_MINUTES);
    int64_t key = 0;
    assert_int_equal(dcm_ledger_point(l, "rack0000.energy", "kWh", DCM_KIND_COUNTER,
                                      DCM_QTY_ENERGY, &key), DCM_LEDGER_OK);
    dcm_point_state st = {0};
    bool found = false;
    assert_int_equal(dcm_ledger_get_state(l, key, &st, &found), DCM_LEDGER_OK);
    assert_true(found);
    assert_true(st.last_value == 100.0);
    assert_true(st.last_ts_ns == (T0_S + 600) * NS);
    dcm_ledger_close(l);

    sqlite3 *db = open_raw(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM points"), CRASH_POINTS);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM minute"),
                     CRASH_POINTS * CRASH_COMMITTED_MINUTES);
    assert_true(raw_double(db, "SELECT total(amount) FROM minute") ==
                0.5 * CRASH_POINTS * CRASH_COMMITTED_MINUTES);
    assert_int_equal(raw_int(db, "SELECT max(corrections) FROM minute"), 0);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(db);
}

static void test_crash_sigkill(void **state)
{
    crash_and_check(*state, true);
}

static void test_crash_exit(void **state)
{
    crash_and_check(*state, false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema_refusal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_exit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
