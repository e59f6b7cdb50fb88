/*
 * test_journal.c - the durable journal's API: append/commit/read/ack, order, value
 * encodings, segments rolling and released, cursors across reopen, at-least-once after
 * a crash, the full policies, fsync policies, two readers at different speeds, waiting
 * readers, and the directory lock.
 */
#include <math.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>

#include "journal_fixture.h"

static const char *const one_sink[] = {"mqtt"};
static const char *const two_sinks[] = {"mqtt", "influxdb"};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_append_read_ack(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    dcm_journal *j = jfix_open(&o);
    dcm_jrec out[300];
    jfix_append_range(j, 1, 120);
    /* Appended but not committed: not visible yet. */
    assert_int_equal(dcm_journal_read(j, 0, 0, out, 300, 0), 0);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    uint64_t last = 0;
    assert_int_equal(jfix_drain(j, 0, 0, &last), 120);
    assert_true(last == 120);
    /* A reader may read again from anywhere it has not acknowledged. */
    size_t n = dcm_journal_read(j, 0, 99, out, 300, 0);
    assert_true(n > 0 && out[0].seq == 100 && jfix_check(&out[0]));
    assert_true(out[0].type == DCM_JREC_KPI && strcmp(out[0].key, "15m") == 0);
    assert_true(dcm_journal_pending(j, 0) == 120);
    assert_int_equal(dcm_journal_ack(j, 0, 70), DCM_JOURNAL_OK);
    assert_true(dcm_journal_cursor(j, 0) == 70);
    assert_true(dcm_journal_pending(j, 0) == 50);
    /* Acknowledgements never move backwards, nor beyond what was committed. */
    assert_int_equal(dcm_journal_ack(j, 0, 20), DCM_JOURNAL_OK);
    assert_true(dcm_journal_cursor(j, 0) == 70);
    assert_int_equal(dcm_journal_ack(j, 0, 5000), DCM_JOURNAL_OK);
    assert_true(dcm_journal_cursor(j, 0) == 120);
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    assert_true(st.appended == 120 && st.last_seq == 120 && st.writable);
    assert_true(st.refused == 0 && st.torn_bytes == 0);
    /* Bad arguments. */
    dcm_jrec bad = {.type = DCM_JREC_SAMPLE, .point = NULL, .unit = "W"};
    assert_int_equal(dcm_journal_append(j, &bad), DCM_JOURNAL_EINVAL);
    bad = (dcm_jrec){.type = (dcm_jrec_type)9, .key = "x", .body = "{}", .body_len = 2};
    assert_int_equal(dcm_journal_append(j, &bad), DCM_JOURNAL_EINVAL);
    assert_int_equal(dcm_journal_ack(j, 3, 1), DCM_JOURNAL_EINVAL);
    assert_int_equal(dcm_journal_read(j, 3, 0, out, 10, 0), 0);
    dcm_journal_close(j);
}

static void test_values_roundtrip(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    dcm_journal *j = jfix_open(&o);
    const double values[] = {0.0,      -0.0,      1.0,         -42.0,       0.5,
                             1e-300,   1.5e300,   230.123456789, 9007199254740993.0,
                             -1e15,    3.4e38,    -7.25,        123456789012.0};
    const size_t nv = sizeof values / sizeof values[0];
    for (size_t i = 0; i < nv; i++) {
        dcm_jrec r = {.type = DCM_JREC_SAMPLE, .ts_ns = JT_T0 - (int64_t)i * 977, .point = "a.b",
                      .unit = "W", .value = values[i], .quality = (uint8_t)(i % 3)};
        assert_int_equal(dcm_journal_append(j, &r), DCM_JOURNAL_OK);
    }
    /* Non-finite values are stored as invalid, never as a number. */
    dcm_jrec nan = {.type = DCM_JREC_SAMPLE, .ts_ns = 5, .point = "a.b", .unit = "W",
                    .value = NAN, .quality = 0};
    dcm_jrec inf = nan;
    inf.value = -INFINITY;
    assert_int_equal(dcm_journal_append(j, &nan), DCM_JOURNAL_OK);
    assert_int_equal(dcm_journal_append(j, &inf), DCM_JOURNAL_OK);
    /* An alert with an empty body and one with a body containing any bytes. */
    dcm_jrec alert = {.type = DCM_JREC_ALERT, .ts_ns = -3, .key = "pue-high", .body = "",
                      .body_len = 0};
    assert_int_equal(dcm_journal_append(j, &alert), DCM_JOURNAL_OK);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    dcm_jrec out[32];
    size_t n = dcm_journal_read(j, 0, 0, out, 32, 0);
    assert_int_equal(n, nv + 3);
    for (size_t i = 0; i < nv; i++) {
        assert_true(out[i].seq == i + 1);
        assert_true(out[i].ts_ns == JT_T0 - (int64_t)i * 977);
        assert_memory_equal(&out[i].value, &values[i], sizeof(double)); /* bit-exact */
        assert_int_equal(out[i].quality, i % 3);
        assert_string_equal(out[i].point, "a.b");
    }
    assert_true(out[nv].value == 0.0 && out[nv].quality == 3 && out[nv].ts_ns == 5);
    assert_true(out[nv + 1].value == 0.0 && out[nv + 1].quality == 3);
    assert_int_equal(out[nv + 2].type, DCM_JREC_ALERT);
    assert_string_equal(out[nv + 2].key, "pue-high");
    assert_int_equal(out[nv + 2].body_len, 0);
    assert_true(out[nv + 2].ts_ns == -3);
    dcm_journal_close(j);
}

static int count_segments(const jfix *f)
{
    return jfix_count_files(f->jdir, "seg-");
}

static void test_segments_roll_and_release(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, two_sinks, 2);
    dcm_journal *j = jfix_open(&o);
    jfix_append_range(j, 1, 3000);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    assert_true(st.segments > 5);
    assert_int_equal(count_segments(f), (int)st.segments);
    /* Every segment holds at most segment_bytes. */
    assert_true(st.bytes <= st.segments * 4096);
    assert_true(st.first_seq == 1 && st.last_seq == 3000);
    uint64_t last;
    assert_int_equal(jfix_drain(j, 0, 0, &last), 3000);
    assert_int_equal(jfix_drain(j, 1, 0, &last), 3000);
    /* One sink past everything releases nothing: the other still needs it. */
    assert_int_equal(dcm_journal_ack(j, 0, 3000), DCM_JOURNAL_OK);
    dcm_journal_stats st2;
    dcm_journal_get_stats(j, &st2);
    assert_true(st2.segments == st.segments);
    assert_int_equal(dcm_journal_ack(j, 1, 1500), DCM_JOURNAL_OK);
    usleep(120 * 1000); /* past the cursor write batching */
    assert_int_equal(dcm_journal_read(j, 1, 3000, (dcm_jrec[1]){{0}}, 1, 0), 0);
    dcm_journal_get_stats(j, &st2);
    assert_true(st2.segments < st.segments && st2.segments > 1);
    assert_true(st2.first_seq > 1 && st2.first_seq <= 1501);
    assert_true(dcm_journal_pending(j, 1) == 1500);
    assert_int_equal(dcm_journal_ack(j, 1, 3000), DCM_JOURNAL_OK);
    dcm_journal_close(j);
    /* Closing persisted the batched cursors; only the newest segment is kept. */
    assert_int_equal(count_segments(f), 1);
    j = jfix_open(&o);
    assert_true(dcm_journal_cursor(j, 0) == 3000 && dcm_journal_cursor(j, 1) == 3000);
    assert_true(dcm_journal_pending(j, 0) == 0);
    /* Seqs continue after the newest, never reused. */
    jfix_append_range(j, 3001, 3010);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    assert_int_equal(jfix_drain(j, 1, 3000, &last), 10);
    dcm_journal_close(j);
}

static void test_reopen_keeps_cursors(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, two_sinks, 2);
    dcm_journal *j = jfix_open(&o);
    jfix_append_range(j, 1, 400);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    assert_int_equal(dcm_journal_ack(j, 0, 150), DCM_JOURNAL_OK);
    assert_int_equal(dcm_journal_ack(j, 1, 320), DCM_JOURNAL_OK);
    dcm_journal_close(j);
    j = jfix_open(&o);
    assert_true(dcm_journal_cursor(j, 0) == 150);
    assert_true(dcm_journal_cursor(j, 1) == 320);
    assert_true(dcm_journal_pending(j, 0) == 250);
    assert_true(dcm_journal_pending(j, 1) == 80);
    uint64_t last;
    assert_int_equal(jfix_drain(j, 0, dcm_journal_cursor(j, 0), &last), 250);
    assert_int_equal(jfix_drain(j, 1, dcm_journal_cursor(j, 1), &last), 80);
    dcm_journal_close(j);
    /* A sink that is no longer configured: its cursor file is ignored, and it no longer
     * holds segments back. */
    const char *const only_influx[] = {"influxdb"};
    o = jfix_options(f, only_influx, 1);
    j = jfix_open(&o);
    assert_true(dcm_journal_cursor(j, 0) == 320);
    assert_int_equal(dcm_journal_ack(j, 0, 400), DCM_JOURNAL_OK);
    dcm_journal_close(j);
    assert_int_equal(count_segments(f), 1);
    /* A damaged cursor file means "resend everything kept". */
    char path[700];
    snprintf(path, sizeof path, "%s/cursor-influxdb", f->jdir);
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    fseek(fp, 9, SEEK_SET);
    fputc(0x55, fp);
    fclose(fp);
    j = jfix_open(&o);
    assert_true(dcm_journal_cursor(j, 0) == 0);
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    assert_true(dcm_journal_pending(j, 0) == st.last_seq - st.first_seq + 1);
    dcm_journal_close(j);
}

/* A process that acknowledged in quick succession and died without closing: the cursor
 * on disk may lag (batched writes), never lead, so records are sent again, not lost. */
static void test_at_least_once_after_crash(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    dcm_journal *j = jfix_open(&o);
    jfix_append_range(j, 1, 100);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    dcm_journal_close(j);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dcm_journal *c = NULL;
        if (dcm_journal_open(&o, &c) != DCM_JOURNAL_OK)
            _exit(2);
        dcm_jrec out[100];
        if (dcm_journal_read(c, 0, 0, out, 100, 0) != 100)
            _exit(3);
        dcm_journal_ack(c, 0, 10); /* written: the first in a while */
        dcm_journal_ack(c, 0, 60); /* batched: within 100 ms of the first */
        _exit(0);                  /* no close */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    j = jfix_open(&o);
    uint64_t cur = dcm_journal_cursor(j, 0);
    assert_true(cur >= 10 && cur <= 60);
    uint64_t last;
    assert_int_equal(jfix_drain(j, 0, cur, &last), 100 - cur);
    assert_true(last == 100);
    dcm_journal_close(j);
}

static dcm_jrec sample(const char *point, int64_t ts, double v)
{
    return (dcm_jrec){.type = DCM_JREC_SAMPLE, .ts_ns = ts, .point = point, .unit = "W",
                      .value = v};
}

static dcm_jrec kpi(int64_t ts, bool droppable)
{
    static const char body[] = "{\"window\":\"1m\",\"kpi\":{\"pue\":1.42}}";
    return (dcm_jrec){.type = DCM_JREC_KPI, .ts_ns = ts, .key = "1m", .body = body,
                      .body_len = sizeof body - 1, .droppable = droppable};
}

/* Appends samples until the journal refuses one; returns how many were accepted. */
static uint64_t fill(dcm_journal *j, dcm_journal_err *last_err)
{
    uint64_t n = 0;
    for (int i = 0; i < 100000; i++) {
        dcm_jrec r = sample("pdu.power", JT_T0 + i, 1000.5 + i);
        dcm_journal_err e = dcm_journal_append(j, &r);
        if (i % 100 == 0)
            dcm_journal_commit(j);
        if (e != DCM_JOURNAL_OK) {
            *last_err = e;
            return n;
        }
        n++;
    }
    *last_err = DCM_JOURNAL_OK;
    return n;
}

static void test_full_keep_kpi(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    o.max_bytes = 16384;
    o.full_policy = DCM_JOURNAL_FULL_KEEP_KPI;
    dcm_journal *j = jfix_open(&o);
    dcm_journal_err e;
    uint64_t n = fill(j, &e);
    assert_int_equal(e, DCM_JOURNAL_EFULL);
    assert_true(n > 500);
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    assert_true(st.refused == 1 && st.bytes <= 16384);
    /* Instant records are refused like samples; closed KPI records and alerts go in. */
    dcm_jrec inst = kpi(JT_T0, true);
    assert_int_equal(dcm_journal_append(j, &inst), DCM_JOURNAL_EFULL);
    dcm_jrec closed = kpi(JT_T0, false);
    assert_int_equal(dcm_journal_append(j, &closed), DCM_JOURNAL_OK);
    dcm_jrec alert = {.type = DCM_JREC_ALERT, .ts_ns = JT_T0, .key = "r", .body = "{}",
                      .body_len = 2};
    assert_int_equal(dcm_journal_append(j, &alert), DCM_JOURNAL_OK);
    /* ... within a reserve of an eighth of max_size. */
    uint64_t kept = 2;
    while (dcm_journal_append(j, &closed) == DCM_JOURNAL_OK)
        kept++;
    assert_true(kept > 20);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    dcm_journal_get_stats(j, &st);
    assert_true(st.bytes <= 16384 + 16384 / 8);
    assert_true(st.refused == 3);
    assert_true(st.last_seq == n + kept);
    /* Acknowledging frees room: samples are accepted again. */
    assert_int_equal(dcm_journal_ack(j, 0, st.last_seq), DCM_JOURNAL_OK);
    dcm_journal_close(j);
    j = jfix_open(&o);
    dcm_jrec r = sample("pdu.power", JT_T0, 1.0);
    assert_int_equal(dcm_journal_append(j, &r), DCM_JOURNAL_OK);
    assert_true(r.seq == st.last_seq + 1);
    dcm_journal_close(j);
}

static void test_full_refuse_all(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    o.max_bytes = 16384;
    o.full_policy = DCM_JOURNAL_FULL_REFUSE_ALL;
    dcm_journal *j = jfix_open(&o);
    dcm_journal_err e;
    uint64_t n = fill(j, &e);
    assert_int_equal(e, DCM_JOURNAL_EFULL);
    dcm_jrec closed = kpi(JT_T0, false);
    assert_int_equal(dcm_journal_append(j, &closed), DCM_JOURNAL_EFULL);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    assert_true(st.refused == 2 && st.bytes <= 16384 && st.last_seq == n);
    assert_true(st.first_seq == 1 && st.dropped_oldest == 0);
    /* Nothing stored was touched. */
    dcm_jrec out[256];
    uint64_t prev = 0;
    size_t got;
    while ((got = dcm_journal_read(j, 0, prev, out, 256, 0)) > 0) {
        for (size_t i = 0; i < got; i++) {
            assert_true(out[i].seq == prev + 1);
            assert_true(out[i].value == 1000.5 + (double)(out[i].seq - 1));
            prev = out[i].seq;
        }
    }
    assert_true(prev == n);
    dcm_journal_close(j);
}

static void test_full_drop_oldest(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    o.max_bytes = 16384;
    o.full_policy = DCM_JOURNAL_FULL_DROP_OLDEST;
    dcm_journal *j = jfix_open(&o);
    dcm_journal_err e;
    uint64_t n = 0;
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 300; i++) {
            dcm_jrec r = sample("pdu.power", JT_T0 + i, 0.25 * i);
            assert_int_equal(dcm_journal_append(j, &r), DCM_JOURNAL_OK);
            n++;
        }
        assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    }
    (void)e;
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    assert_true(st.refused == 0 && st.dropped_oldest > 0);
    assert_true(st.bytes <= 16384);
    assert_true(st.last_seq == n && st.first_seq > 1);
    /* What is kept is exactly the newest records, in order. */
    dcm_jrec out[4000];
    size_t got = dcm_journal_read(j, 0, 0, out, 4000, 0), total = got;
    assert_true(got > 0 && out[0].seq == st.first_seq);
    uint64_t prev = out[got - 1].seq;
    while ((got = dcm_journal_read(j, 0, prev, out, 4000, 0)) > 0) {
        assert_true(out[0].seq == prev + 1);
        prev = out[got - 1].seq;
        total += got;
    }
    assert_true(prev == n && total == n - st.first_seq + 1);
    assert_true(st.dropped_oldest == st.first_seq - 1);
    dcm_journal_close(j);
}

static void test_fsync_policies(void **state)
{
    jfix *f = *state;
    const dcm_journal_fsync pol[] = {DCM_JOURNAL_FSYNC_BATCH, DCM_JOURNAL_FSYNC_INTERVAL,
                                     DCM_JOURNAL_FSYNC_NEVER};
    uint64_t next = 1;
    for (size_t i = 0; i < 3; i++) {
        dcm_journal_options o = jfix_options(f, one_sink, 1);
        o.fsync = pol[i];
        o.fsync_interval_ns = 50 * 1000000LL;
        dcm_journal *j = jfix_open(&o);
        jfix_append_range(j, next, next + 199);
        assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
        next += 200;
        dcm_journal_close(j);
    }
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    dcm_journal *j = jfix_open(&o);
    uint64_t last;
    assert_int_equal(jfix_drain(j, 0, 0, &last), 600);
    dcm_journal_close(j);
    o.fsync = (dcm_journal_fsync)7;
    dcm_journal *bad = NULL;
    assert_int_equal(dcm_journal_open(&o, &bad), DCM_JOURNAL_EINVAL);
}

/* ------------------------------------------------------------ threads */

typedef struct reader_arg {
    dcm_journal *j;
    size_t sink;
    size_t batch;
    int pause_us;
    uint64_t expect;
    uint64_t got;
    int bad;
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *a = p;
    dcm_jrec out[512];
    uint64_t prev = 0;
    int64_t give_up = mono_ms() + 60000;
    while (prev < a->expect && mono_ms() < give_up) {
        size_t n = dcm_journal_read(a->j, a->sink, prev, out, a->batch, 100);
        for (size_t i = 0; i < n; i++) {
            if (out[i].seq != prev + 1 || !jfix_check(&out[i]))
                a->bad++;
            prev = out[i].seq;
        }
        a->got += n;
        if (n)
            dcm_journal_ack(a->j, a->sink, prev);
        if (a->pause_us)
            usleep((useconds_t)a->pause_us);
    }
    return NULL;
}

static void test_two_readers(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, two_sinks, 2);
    dcm_journal *j = jfix_open(&o);
    const uint64_t total = 6000;
    reader_arg fast = {.j = j, .sink = 0, .batch = 512, .expect = total};
    reader_arg slow = {.j = j, .sink = 1, .batch = 7, .pause_us = 200, .expect = total};
    pthread_t tf, ts;
    assert_int_equal(pthread_create(&tf, NULL, reader_main, &fast), 0);
    assert_int_equal(pthread_create(&ts, NULL, reader_main, &slow), 0);
    for (uint64_t k = 1; k <= total; k += 100) {
        jfix_append_range(j, k, k + 99);
        assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
        usleep(1000);
    }
    pthread_join(tf, NULL);
    pthread_join(ts, NULL);
    assert_true(fast.got == total && fast.bad == 0);
    assert_true(slow.got == total && slow.bad == 0);
    dcm_journal_close(j);
    /* Both were past everything: only the newest segment is left. */
    assert_int_equal(count_segments(f), 1);
}

typedef struct waiter {
    dcm_journal *j;
    int wait_ms;
    size_t n;
    int64_t took_ms;
} waiter;

static void *wait_main(void *p)
{
    waiter *w = p;
    dcm_jrec out[4];
    int64_t t = mono_ms();
    w->n = dcm_journal_read(w->j, 0, 0, out, 4, w->wait_ms);
    w->took_ms = mono_ms() - t;
    return NULL;
}

static void test_read_wait_wakeup(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    dcm_journal *j = jfix_open(&o);
    /* Nothing committed: a read times out after about wait_ms. */
    waiter w = {.j = j, .wait_ms = 80};
    wait_main(&w);
    assert_true(w.n == 0 && w.took_ms >= 70);
    /* A commit wakes a waiting reader at once. */
    w = (waiter){.j = j, .wait_ms = 20000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, wait_main, &w), 0);
    usleep(50 * 1000);
    jfix_append_range(j, 1, 1);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    pthread_join(t, NULL);
    assert_true(w.n == 1 && w.took_ms < 5000);
    assert_int_equal(dcm_journal_ack(j, 0, 1), DCM_JOURNAL_OK);
    /* Asking after what exists already does not wait. */
    w = (waiter){.j = j, .wait_ms = 20000};
    wait_main(&w);
    assert_true(w.n == 1 && w.took_ms < 5000);
    dcm_journal_close(j);
}

static void *block_main(void *p)
{
    waiter *w = p;
    dcm_jrec out[4];
    int64_t t = mono_ms();
    w->n = dcm_journal_read(w->j, 0, 1, out, 4, w->wait_ms);
    w->took_ms = mono_ms() - t;
    return NULL;
}

static void test_close_wakes_reader(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    dcm_journal *j = jfix_open(&o);
    jfix_append_range(j, 1, 1);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    waiter w = {.j = j, .wait_ms = 20000};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, block_main, &w), 0);
    usleep(80 * 1000);
    int64_t t0 = mono_ms();
    dcm_journal_close(j); /* returns once the reader has left */
    pthread_join(t, NULL);
    assert_true(w.n == 0 && mono_ms() - t0 < 5000 && w.took_ms < 5000);
}

static void test_locked_and_invalid(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    dcm_journal *j = jfix_open(&o);
    dcm_journal *second = NULL;
    assert_int_equal(dcm_journal_open(&o, &second), DCM_JOURNAL_ELOCKED);
    assert_null(second);
    dcm_journal_close(j);
    j = jfix_open(&o); /* the lock went with the first */
    dcm_journal_close(j);
    const char *const dup[] = {"mqtt", "mqtt"};
    const char *const bad_name[] = {"../x"};
    dcm_journal_options bad = jfix_options(f, dup, 2);
    assert_int_equal(dcm_journal_open(&bad, &second), DCM_JOURNAL_EINVAL);
    bad = jfix_options(f, bad_name, 1);
    assert_int_equal(dcm_journal_open(&bad, &second), DCM_JOURNAL_EINVAL);
    bad = jfix_options(f, one_sink, 0);
    assert_int_equal(dcm_journal_open(&bad, &second), DCM_JOURNAL_EINVAL);
    bad = jfix_options(f, one_sink, 1);
    bad.max_bytes = 6000; /* less than two segments */
    assert_int_equal(dcm_journal_open(&bad, &second), DCM_JOURNAL_EINVAL);
    assert_string_equal(dcm_journal_strerror(DCM_JOURNAL_ELOCKED),
                        "journal locked by another process");
    dcm_journal_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_append_read_ack, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_values_roundtrip, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_segments_roll_and_release, jfix_setup,
                                        jfix_teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_cursors, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_at_least_once_after_crash, jfix_setup,
                                        jfix_teardown),
        cmocka_unit_test_setup_teardown(test_full_keep_kpi, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_full_refuse_all, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_full_drop_oldest, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_fsync_policies, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_two_readers, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_read_wait_wakeup, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_close_wakes_reader, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_locked_and_invalid, jfix_setup, jfix_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
