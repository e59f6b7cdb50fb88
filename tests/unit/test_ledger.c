/*
 * test_ledger.c - the energy ledger: storage, replacement of partial minutes, sums at
 * each resolution, roll-up idempotence and retention, local days, the audit trail.
 * (Readers, schema versions and crash safety: test_ledger_safety.c.)
 */
#include "ledger_fixture.h"

/* ------------------------------------------------------------------- tests */

static void test_open_reopen_state(void **state)
{
    fixture *f = *state;
    dcm_ledger *l = open_ledger(f, NULL);
    char path[700];
    struct stat sb;
    snprintf(path, sizeof path, "%s/state/ledger", f->dir);
    assert_int_equal(stat(path, &sb), 0);
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(sb.st_mode & 0777, 0750 & ~mask);
    snprintf(path, sizeof path, "%s/state/ledger/ledger.db", f->dir);
    assert_int_equal(stat(path, &sb), 0);

    int64_t k1 = 0, k1b = 0, k2 = 0;
    assert_int_equal(dcm_ledger_point(l, "pdu-a1.energy", "kWh", DCM_KIND_COUNTER,
                                      DCM_QTY_ENERGY, &k1), DCM_LEDGER_OK);
    assert_int_equal(dcm_ledger_point(l, "pdu-a1.energy", "kWh", DCM_KIND_COUNTER,
                                      DCM_QTY_ENERGY, &k1b), DCM_LEDGER_OK);
    assert_int_equal(dcm_ledger_point(l, "water.main", "m3", DCM_KIND_COUNTER, DCM_QTY_VOLUME,
                                      &k2), DCM_LEDGER_OK);
    assert_true(k1 == k1b);
    assert_true(k1 != k2);

    dcm_point_state st = {0};
    bool found = true;
    assert_int_equal(dcm_ledger_get_state(l, k1, &st, &found), DCM_LEDGER_OK);
    assert_false(found);
    dcm_point_state saved = {.last_ts_ns = (T0_S + 59) * NS + 123456789, .last_value = 123456.75,
                             .rate = 42.125};
    assert_int_equal(dcm_ledger_put_state(l, k1, &saved), DCM_LEDGER_OK);
    dcm_point_state later = saved;
    later.last_value = 123457.5;
    assert_int_equal(dcm_ledger_put_state(l, k1, &later), DCM_LEDGER_OK);

    /* Nothing non-finite, nothing off the minute grid, no unknown point. */
    dcm_point_state bad = saved;
    bad.rate = NAN;
    assert_int_equal(dcm_ledger_put_state(l, k1, &bad), DCM_LEDGER_EINVAL);
    dcm_point_acc acc = acc_of(1.0, 0);
    acc.amount = INFINITY;
    assert_int_equal(dcm_ledger_put_minute(l, k1, T0_S * NS, &acc, true), DCM_LEDGER_EINVAL);
    acc = acc_of(1.0, 0);
    assert_int_equal(dcm_ledger_put_minute(l, k1, T0_S * NS + 1, &acc, true), DCM_LEDGER_EINVAL);
    assert_int_equal(dcm_ledger_put_minute(l, k2 + 100, T0_S * NS, &acc, true),
                     DCM_LEDGER_EINVAL);
    assert_non_null(strstr(dcm_ledger_errmsg(l), "FOREIGN KEY"));
    dcm_increment inc = {.t0_ns = 2, .t1_ns = 1};
    assert_int_equal(dcm_ledger_put_correction(l, k1, &inc), DCM_LEDGER_EINVAL);
    assert_int_equal(dcm_ledger_commit(l), DCM_LEDGER_EINVAL); /* no batch open */
    dcm_ledger_close(l);

    l = open_ledger(f, NULL);
    int64_t again = 0;
    assert_int_equal(dcm_ledger_point(l, "pdu-a1.energy", "kWh", DCM_KIND_COUNTER,
                                      DCM_QTY_ENERGY, &again), DCM_LEDGER_OK);
    assert_true(again == k1);
    assert_int_equal(dcm_ledger_get_state(l, k1, &st, &found), DCM_LEDGER_OK);
    assert_true(found);
    assert_true(st.last_ts_ns == later.last_ts_ns);
    assert_true(st.last_value == 123457.5);
    assert_true(st.rate == 42.125);
    assert_int_equal(dcm_ledger_get_state(l, k2, &st, &found), DCM_LEDGER_OK);
    assert_false(found);
    /* A point whose unit changed in the configuration keeps its key (and history). */
    assert_int_equal(dcm_ledger_point(l, "water.main", "L", DCM_KIND_DELTA, DCM_QTY_VOLUME,
                                      &again), DCM_LEDGER_OK);
    assert_true(again == k2);
    dcm_ledger_close(l);

    sqlite3 *db = open_raw(f);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM points WHERE unit = 'L' AND kind = 2"), 1);
    sqlite3_close(db);
}

static void test_partial_then_final(void **state)
{
    fixture *f = *state;
    dcm_ledger *l = open_ledger(f, NULL);
    int64_t ka = 0, kb = 0;
    register_ab(l, &ka, &kb);
    dcm_point_acc partial = {.amount = 1.5, .covered_s = 20, .samples = 2};
    assert_int_equal(dcm_ledger_put_minute(l, ka, T0_S * NS, &partial, false), DCM_LEDGER_OK);
    sums s = sum_range(l, T0_S, T0_S + 60);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.id[0], "pdu.a");
    assert_string_equal(s.unit[0], "kWh");
    assert_int_equal(s.kind[0], DCM_KIND_COUNTER);
    assert_int_equal(s.quantity[0], DCM_QTY_ENERGY);
    assert_true(s.acc[0].amount == 1.5);
    assert_int_equal(s.acc[0].samples, 2);

    dcm_point_acc final = {.amount = 2.25, .estimated = 0.5, .covered_s = 60, .samples = 6,
                           .corrections = 1};
    assert_int_equal(dcm_ledger_begin(l), DCM_LEDGER_OK);
    assert_int_equal(dcm_ledger_put_minute(l, ka, T0_S * NS, &final, true), DCM_LEDGER_OK);
    assert_int_equal(dcm_ledger_commit(l), DCM_LEDGER_OK);
    s = sum_range(l, T0_S, T0_S + 60);
    assert_int_equal(s.n, 1);
    assert_true(s.acc[0].amount == 2.25);
    assert_true(s.acc[0].estimated == 0.5);
    assert_true(s.acc[0].covered_s == 60);
    assert_int_equal(s.acc[0].samples, 6);
    assert_int_equal(s.acc[0].corrections, 1);
    dcm_ledger_close(l);

    sqlite3 *db = open_raw(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM minute"), 1);
    assert_int_equal(raw_int(db, "SELECT final FROM minute"), 1);
    sqlite3_close(db);
}

/* Three days: after the roll-up day 1 is kept as day rows, day 2 as quarter rows and
 * day 3 as minute rows. Sums over each, across them, and over partial periods. */
static void test_sum_resolutions(void **state)
{
    fixture *f = *state;
    dcm_ledger_options opt = {.minute_retention_ns = DAY_S * NS,
                              .quarter_retention_ns = 2 * DAY_S * NS};
    dcm_ledger *l = open_ledger(f, &opt);
    int64_t ka = 0, kb = 0;
    register_ab(l, &ka, &kb);
    const int64_t d1 = T0_S, d2 = d1 + DAY_S, d3 = d2 + DAY_S, d4 = d3 + DAY_S;
    write_history(l, ka, kb, d1, d4);

    uint32_t c_all = 0;
    double all = expected_a(d1, d4, &c_all);
    sums before = sum_range(l, d1, d4);
    assert_int_equal(before.n, 2);
    assert_string_equal(before.id[0], "pdu.a");
    assert_string_equal(before.id[1], "pdu.b");
    assert_true(before.acc[0].amount == all);
    assert_int_equal(before.acc[0].corrections, c_all);
    assert_true(before.acc[1].amount == 1.5 * 3 * 1440);

    assert_int_equal(dcm_ledger_rollup(l, (d4 + 12 * 3600) * NS), DCM_LEDGER_OK);

    sqlite3 *db = open_raw(f);
    assert_int_equal(raw_int(db, "SELECT min(start_s) FROM minute"), d3);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM minute"), 2 * 1440);
    assert_int_equal(raw_int(db, "SELECT min(start_s) FROM quarter"), d2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarter"), 2 * 2 * 96);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM day"), 2 * 3);
    sqlite3_close(db);

    /* The whole range: the same totals as before, nothing counted twice. */
    sums s = sum_range(l, d1, d4);
    assert_int_equal(s.n, 2);
    assert_true(s.acc[0].amount == all);
    assert_true(s.acc[0].estimated == all / 2);
    assert_true(s.acc[0].covered_s == 3 * 86400.0);
    assert_int_equal(s.acc[0].samples, 3 * 1440);
    assert_int_equal(s.acc[0].corrections, c_all);
    assert_true(s.acc[1].amount == 1.5 * 3 * 1440);

    /* One day at each resolution. */
    for (int64_t d = d1; d < d4; d += DAY_S) {
        uint32_t c = 0;
        double day = expected_a(d, d + DAY_S, &c);
        s = sum_range(l, d, d + DAY_S);
        assert_true(find_sum(&s, "pdu.a")->amount == day);
        assert_int_equal(find_sum(&s, "pdu.a")->corrections, c);
        assert_int_equal(find_sum(&s, "pdu.a")->samples, 1440);
        assert_true(find_sum(&s, "pdu.b")->amount == 1.5 * 1440);
    }

    /* Quarter resolution (day 2): exact on quarter boundaries, pro rata inside one. */
    s = sum_range(l, d2 + 900, d2 + 2700);
    assert_true(find_sum(&s, "pdu.a")->amount == expected_a(d2 + 900, d2 + 2700, NULL));
    assert_true(find_sum(&s, "pdu.b")->amount == 45.0);
    double q0 = expected_a(d2, d2 + 900, NULL);
    s = sum_range(l, d2 + 300, d2 + 900);
    assert_near(find_sum(&s, "pdu.a")->amount, q0 * (600.0 / 900.0), 1e-9);
    assert_near(find_sum(&s, "pdu.b")->amount, 15.0, 1e-9);
    assert_int_equal(find_sum(&s, "pdu.b")->samples, 15); /* the touched quarter's rows */

    /* Minute resolution (day 3), down to half minutes. */
    s = sum_range(l, d3 + 120, d3 + 600);
    assert_true(find_sum(&s, "pdu.a")->amount == expected_a(d3 + 120, d3 + 600, NULL));
    s = sum_range(l, d3 + 30, d3 + 90);
    assert_near(find_sum(&s, "pdu.a")->amount,
                        0.5 * amount_a(d3) + 0.5 * amount_a(d3 + 60), 1e-12);
    assert_near(find_sum(&s, "pdu.b")->amount, 1.5, 1e-12);

    /* Day resolution (day 1): a part of a day is pro-rated by time. */
    double day1 = expected_a(d1, d2, NULL);
    s = sum_range(l, d1 + 6 * 3600, d1 + 18 * 3600);
    assert_near(find_sum(&s, "pdu.a")->amount, day1 / 2, 1e-9);
    assert_near(find_sum(&s, "pdu.b")->amount, 1080.0, 1e-9);

    /* Across the three resolutions: half of day 1 (pro rata) + day 2 (quarters) + the
     * first half of day 3 (minutes). */
    s = sum_range(l, d1 + 12 * 3600, d3 + 12 * 3600);
    assert_near(find_sum(&s, "pdu.a")->amount,
                        day1 / 2 + expected_a(d2, d3, NULL) + expected_a(d3, d3 + 43200, NULL),
                        1e-9);
    assert_near(find_sum(&s, "pdu.b")->amount, 1.5 * 2 * 1440, 1e-9);

    /* All of time: every row once. */
    sums every;
    memset(&every, 0, sizeof every);
    assert_int_equal(dcm_ledger_sum(l, INT64_MIN, INT64_MAX, collect, &every), DCM_LEDGER_OK);
    assert_int_equal(every.n, 2);
    assert_true(every.acc[0].amount == all);
    assert_true(every.acc[1].amount == 1.5 * 3 * 1440);

    /* Outside the data: no call at all. */
    s = sum_range(l, d4 + DAY_S, d4 + 2 * DAY_S);
    assert_int_equal(s.n, 0);
    assert_int_equal(dcm_ledger_sum(l, 10 * NS, 5 * NS, collect, &s), DCM_LEDGER_EINVAL);
    dcm_ledger_close(l);
}

/* Once rolled up, whole days and quarters inside a range are read from their rows:
 * the same sums as from the minutes, in fewer rows. */
static void test_sum_coarse(void **state)
{
    fixture *f = *state;
    dcm_ledger *l = open_ledger(f, NULL);
    int64_t ka = 0, kb = 0;
    register_ab(l, &ka, &kb);
    const int64_t d1 = T0_S, d2 = d1 + DAY_S, d3 = d2 + DAY_S, d4 = d3 + DAY_S;
    write_history(l, ka, kb, d1, d4);
    static const int64_t ranges[][2] = {
        {d1 + 37, d3 + 12345}, {d1, d4}, {d1 + 900, d2 + 1800}, {d2 + 61, d2 + 899},
        {d1 + 86399, d2 + 1}, {d1 + 450, d4 - 450}, {d2, d3 + 7 * 900},
    };
    enum { N = sizeof ranges / sizeof ranges[0] };
    sums fine[N];
    for (int i = 0; i < N; i++)
        fine[i] = sum_range(l, ranges[i][0], ranges[i][1]);
    assert_int_equal(dcm_ledger_rollup(l, (d4 + 3600) * NS), DCM_LEDGER_OK);
    for (int i = 0; i < N; i++) {
        sums coarse = sum_range(l, ranges[i][0], ranges[i][1]);
        assert_int_equal(coarse.n, fine[i].n);
        for (int k = 0; k < coarse.n; k++) {
            assert_string_equal(coarse.id[k], fine[i].id[k]);
            assert_near(coarse.acc[k].amount, fine[i].acc[k].amount, 1e-9);
            assert_near(coarse.acc[k].estimated, fine[i].acc[k].estimated, 1e-9);
            assert_near(coarse.acc[k].covered_s, fine[i].acc[k].covered_s, 1e-6);
            assert_int_equal(coarse.acc[k].samples, fine[i].acc[k].samples);
            assert_int_equal(coarse.acc[k].corrections, fine[i].acc[k].corrections);
        }
    }

    /* Which rows are read: alter day 2's minutes behind the ledger's back (no roll-up
     * mark). A whole day comes from its day row, whole quarters from quarter rows, and
     * only the cut ends from minutes. */
    sqlite3 *db = open_raw(f);
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE minute SET amount = amount + 100 WHERE start_s >= %lld"
             " AND start_s < %lld", (long long)d2, (long long)d3);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    sums s = sum_range(l, d2, d3);
    assert_true(find_sum(&s, "pdu.b")->amount == 1.5 * 1440);
    s = sum_range(l, d2 + 900, d2 + 1800);
    assert_true(find_sum(&s, "pdu.b")->amount == 1.5 * 15);
    s = sum_range(l, d2 + 870, d2 + 1830); /* half a minute on each side */
    assert_near(find_sum(&s, "pdu.b")->amount, 1.5 * 15 + 101.5, 1e-9);
    dcm_ledger_close(l);
}

static void test_rollup_idempotent_and_dirty(void **state)
{
    fixture *f = *state;
    dcm_ledger *l = open_ledger(f, NULL); /* default retention: nothing is pruned here */
    int64_t ka = 0, kb = 0;
    register_ab(l, &ka, &kb);
    const int64_t d1 = T0_S, d3 = d1 + 2 * DAY_S;
    write_history(l, ka, kb, d1, d3);
    const int64_t now = (d3 + 3600) * NS;

    assert_int_equal(dcm_ledger_rollup(l, now), DCM_LEDGER_OK);
    sqlite3 *db = open_raw(f);
    int64_t quarters = raw_int(db, "SELECT count(*) FROM quarter");
    int64_t days = raw_int(db, "SELECT count(*) FROM day");
    assert_int_equal(quarters, 2 * 2 * 96);
    assert_int_equal(days, 2 * 2);
    double qsum = raw_double(db, "SELECT total(amount) FROM quarter");
    double dsum = raw_double(db, "SELECT total(amount) FROM day");
    assert_true(qsum == dsum);
    sums first = sum_range(l, d1, d3);

    /* Again, and again later: the same rows and sums. */
    assert_int_equal(dcm_ledger_rollup(l, now), DCM_LEDGER_OK);
    assert_int_equal(dcm_ledger_rollup(l, now + 300 * NS), DCM_LEDGER_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarter"), quarters);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM day"), days);
    assert_true(raw_double(db, "SELECT total(amount) FROM quarter") == qsum);
    assert_true(raw_double(db, "SELECT total(amount) FROM day") == dsum);
    sums second = sum_range(l, d1, d3);
    assert_true(second.acc[0].amount == first.acc[0].amount);
    assert_true(second.acc[1].amount == first.acc[1].amount);

    /* A minute rewritten after its quarter was rolled: quarter and day follow. */
    int64_t t = d1 + 3600 + 120;
    dcm_point_acc fix = acc_of(amount_a(t) + 10.0, 0);
    assert_int_equal(dcm_ledger_put_minute(l, ka, t * NS, &fix, true), DCM_LEDGER_OK);
    /* Until the next roll-up the stale quarter and day rows are not used. */
    sums s = sum_range(l, d1, d1 + DAY_S);
    assert_true(find_sum(&s, "pdu.a")->amount == expected_a(d1, d1 + DAY_S, NULL) + 10.0);
    assert_int_equal(dcm_ledger_rollup(l, now + 600 * NS), DCM_LEDGER_OK);
    s = sum_range(l, d1, d1 + DAY_S);
    assert_true(find_sum(&s, "pdu.a")->amount == expected_a(d1, d1 + DAY_S, NULL) + 10.0);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT amount FROM quarter WHERE start_s = %lld AND point = %lld",
             (long long)(d1 + 3600), (long long)ka);
    assert_true(raw_double(db, sql) == expected_a(d1 + 3600, d1 + 4500, NULL) + 10.0);
    snprintf(sql, sizeof sql, "SELECT amount FROM day WHERE start_s = %lld AND point = %lld",
             (long long)d1, (long long)ka);
    assert_true(raw_double(db, sql) == expected_a(d1, d1 + DAY_S, NULL) + 10.0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM dirty"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarter"), quarters);
    sqlite3_close(db);
    dcm_ledger_close(l);
}

static void test_retention(void **state)
{
    fixture *f = *state;
    dcm_ledger_options opt = {.minute_retention_ns = NS, .quarter_retention_ns = NS};
    dcm_ledger *l = open_ledger(f, &opt);
    int64_t ka = 0, kb = 0;
    register_ab(l, &ka, &kb);
    const int64_t d1 = T0_S, d2 = d1 + DAY_S;
    write_history(l, ka, kb, d1, d1 + 3600);
    sums before = sum_range(l, d1, d2);

    /* The day is not over: minutes older than the retention stay until it is rolled. */
    assert_int_equal(dcm_ledger_rollup(l, (d1 + 3900) * NS), DCM_LEDGER_OK);
    sqlite3 *db = open_raw(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM minute"), 2 * 60);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarter"), 2 * 3);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM day"), 0);
    /* Five minutes into the next day: past the retention, but the day has not settled
     * into its day rows yet, so nothing may go. */
    assert_int_equal(dcm_ledger_rollup(l, (d2 + 300) * NS), DCM_LEDGER_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM minute"), 2 * 60);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarter"), 2 * 4);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM day"), 0);
    sums mid = sum_range(l, d1, d2);
    assert_true(mid.acc[0].amount == before.acc[0].amount);

    /* An hour into the next day: the day is rolled, then its minutes and quarters go. */
    assert_int_equal(dcm_ledger_rollup(l, (d2 + 3600) * NS), DCM_LEDGER_OK);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM minute"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM quarter"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM day"), 2);
    sqlite3_close(db);

    sums after = sum_range(l, d1, d2);
    assert_int_equal(after.n, 2);
    for (int i = 0; i < 2; i++) {
        assert_true(after.acc[i].amount == before.acc[i].amount);
        assert_true(after.acc[i].estimated == before.acc[i].estimated);
        assert_true(after.acc[i].covered_s == before.acc[i].covered_s);
        assert_int_equal(after.acc[i].samples, before.acc[i].samples);
        assert_int_equal(after.acc[i].corrections, before.acc[i].corrections);
    }
    /* Only day resolution is left for that hour: pro rata over the day. */
    sums hour = sum_range(l, d1, d1 + 3600);
    assert_near(find_sum(&hour, "pdu.b")->amount, 90.0 / 24, 1e-9);

    /* Minutes before the horizon can no longer be written. */
    dcm_point_acc acc = acc_of(1.0, 0);
    assert_int_equal(dcm_ledger_put_minute(l, ka, (d1 + 60) * NS, &acc, true),
                     DCM_LEDGER_EINVAL);
    assert_int_equal(dcm_ledger_put_minute(l, ka, d2 * NS, &acc, true), DCM_LEDGER_OK);
    dcm_ledger_close(l);
}

/* A site at UTC+8 without daylight saving. */
static int32_t offset_plus8(void *ctx, int64_t t_utc_s)
{
    (void)ctx;
    (void)t_utc_s;
    return 8 * 3600;
}

static void test_local_days(void **state)
{
    fixture *f = *state;
    dcm_calendar cal = {.utc_offset_s = offset_plus8};
    dcm_ledger_options opt = {.minute_retention_ns = NS, .quarter_retention_ns = NS,
                              .calendar = &cal};
    dcm_ledger *l = open_ledger(f, &opt);
    int64_t ka = 0, kb = 0;
    register_ab(l, &ka, &kb);
    /* 2024-01-01 12:00Z .. 2024-01-02 20:00Z: three local days, which start at 16:00Z. */
    const int64_t from = T0_S + 12 * 3600, to = T0_S + DAY_S + 20 * 3600;
    write_history(l, ka, kb, from, to);
    const int64_t l0 = T0_S - 8 * 3600, l1 = l0 + DAY_S, l2 = l1 + DAY_S, l3 = l2 + DAY_S;

    assert_int_equal(dcm_ledger_rollup(l, (T0_S + 3 * DAY_S) * NS), DCM_LEDGER_OK);
    sqlite3 *db = open_raw(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM minute"), 0);
    assert_int_equal(raw_int(db, "SELECT count(DISTINCT start_s) FROM day"), 3);
    assert_int_equal(raw_int(db, "SELECT min(start_s) FROM day"), l0);
    assert_int_equal(raw_int(db, "SELECT max(start_s) FROM day"), l2);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM day WHERE end_s - start_s != 86400"), 0);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM day WHERE (start_s - 57600) % 86400"), 0);
    sqlite3_close(db);

    /* A whole local day is exact. */
    sums s = sum_range(l, l1, l2);
    assert_true(find_sum(&s, "pdu.a")->amount == expected_a(l1, l2, NULL));
    assert_true(find_sum(&s, "pdu.b")->amount == 1.5 * 1440);
    s = sum_range(l, l0, l3);
    assert_true(find_sum(&s, "pdu.a")->amount == expected_a(from, to, NULL));

    /* The UTC day 2024-01-02 takes 16 h of one local day and 8 h of the next. */
    double a_l1 = expected_a(l1, l2, NULL), a_l2 = expected_a(l2, to, NULL);
    s = sum_range(l, T0_S + DAY_S, T0_S + 2 * DAY_S);
    assert_near(find_sum(&s, "pdu.a")->amount, a_l1 * (16.0 / 24) + a_l2 * (8.0 / 24),
                        1e-9);
    assert_near(find_sum(&s, "pdu.b")->amount, 2160 * (16.0 / 24) + 360 * (8.0 / 24),
                        1e-9);
    dcm_ledger_close(l);
}

/* Central European time: +1 h, +2 h from 2024-03-31 01:00Z. */
#define CEST_START_S INT64_C(1711846800)

static int32_t offset_cet(void *ctx, int64_t t_utc_s)
{
    (void)ctx;
    return t_utc_s < CEST_START_S ? 3600 : 7200;
}

static void test_dst_day(void **state)
{
    fixture *f = *state;
    dcm_calendar cal = {.utc_offset_s = offset_cet};
    dcm_ledger_options opt = {.minute_retention_ns = NS, .quarter_retention_ns = NS,
                              .calendar = &cal};
    dcm_ledger *l = open_ledger(f, &opt);
    int64_t ka = 0, kb = 0;
    register_ab(l, &ka, &kb);
    /* Local 2024-03-31 runs from 2024-03-30 23:00Z to 2024-03-31 22:00Z: 23 hours. */
    const int64_t d0 = CEST_START_S - 2 * 3600, d1 = d0 + 23 * 3600;
    write_history(l, ka, kb, d0, d1);
    assert_int_equal(dcm_ledger_rollup(l, (d1 + 2 * DAY_S) * NS), DCM_LEDGER_OK);
    sqlite3 *db = open_raw(f);
    assert_int_equal(raw_int(db, "SELECT count(*) FROM minute"), 0);
    assert_int_equal(raw_int(db, "SELECT count(DISTINCT start_s) FROM day"), 1);
    assert_int_equal(raw_int(db, "SELECT min(start_s) FROM day"), d0);
    assert_int_equal(raw_int(db, "SELECT max(end_s) FROM day"), d1);
    sqlite3_close(db);

    sums s = sum_range(l, d0, d1);
    assert_true(find_sum(&s, "pdu.b")->amount == 1.5 * 1380);
    assert_true(find_sum(&s, "pdu.a")->amount == expected_a(d0, d1, NULL));
    /* Half of the short day is half of its energy. */
    s = sum_range(l, d0, d0 + 23 * 1800);
    assert_near(find_sum(&s, "pdu.b")->amount, 1035.0, 1e-9);
    dcm_ledger_close(l);
}

typedef struct corr_list {
    int n;
    char id[4][32];
    dcm_increment inc[4];
} corr_list;

static void collect_corr(void *ctx, const char *point_id, const dcm_increment *inc)
{
    corr_list *c = ctx;
    assert_true(c->n < 4);
    snprintf(c->id[c->n], sizeof c->id[0], "%s", point_id);
    c->inc[c->n++] = *inc;
}

static void test_corrections(void **state)
{
    fixture *f = *state;
    dcm_ledger *l = open_ledger(f, NULL);
    int64_t ka = 0, kb = 0;
    register_ab(l, &ka, &kb);
    dcm_increment wrap = {.t0_ns = 100 * NS, .t1_ns = 160 * NS, .amount = 3.5,
                          .correction = DCM_CORR_WRAP};
    dcm_increment gap = {.t0_ns = 200 * NS, .t1_ns = 900 * NS, .amount = 0,
                         .flags = DCM_INC_MISSING, .correction = DCM_CORR_GAP};
    dcm_increment reset = {.t0_ns = 950 * NS, .t1_ns = 1000 * NS, .amount = 0.75,
                           .flags = DCM_INC_ESTIMATED, .correction = DCM_CORR_RESET};
    assert_int_equal(dcm_ledger_put_correction(l, kb, &gap), DCM_LEDGER_OK);
    assert_int_equal(dcm_ledger_put_correction(l, ka, &wrap), DCM_LEDGER_OK);
    assert_int_equal(dcm_ledger_put_correction(l, ka, &reset), DCM_LEDGER_OK);
    dcm_increment bad = wrap;
    bad.amount = NAN;
    assert_int_equal(dcm_ledger_put_correction(l, ka, &bad), DCM_LEDGER_EINVAL);

    corr_list c = {0};
    assert_int_equal(dcm_ledger_corrections(l, 0, 1000 * NS, collect_corr, &c), DCM_LEDGER_OK);
    assert_int_equal(c.n, 2); /* [0, 1000 s): the reset at 1000 s is outside */
    assert_string_equal(c.id[0], "pdu.a");
    assert_int_equal(c.inc[0].correction, DCM_CORR_WRAP);
    assert_true(c.inc[0].amount == 3.5 && c.inc[0].t0_ns == 100 * NS);
    assert_string_equal(c.id[1], "pdu.b");
    assert_int_equal(c.inc[1].correction, DCM_CORR_GAP);
    assert_int_equal(c.inc[1].flags, DCM_INC_MISSING);
    memset(&c, 0, sizeof c);
    assert_int_equal(dcm_ledger_corrections(l, 1000 * NS, 2000 * NS, collect_corr, &c),
                     DCM_LEDGER_OK);
    assert_int_equal(c.n, 1);
    assert_int_equal(c.inc[0].correction, DCM_CORR_RESET);
    assert_int_equal(c.inc[0].flags, DCM_INC_ESTIMATED);
    dcm_ledger_close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_reopen_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_then_final, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sum_resolutions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sum_coarse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollup_idempotent_and_dirty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_local_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dst_day, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrections, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
