/* Batching and delivery against a fake server: whole batches, retries, bisecting on 400
 * and 413 down to the bad lines, quarantine, acknowledgements in seq order, stop and
 * resume; and the pure helpers: classification, backoff, Retry-After, URLs, messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "influx_batch.h"
#include "influx_http.h"

#define NS_PER_S INT64_C(1000000000)

typedef struct fake {
    /* server behaviour */
    size_t max_body;          /* larger bodies get 413 (0 = no limit) */
    int transport_failures;   /* the first N requests fail without an answer */
    int stop_after_waits;     /* wait returns false after this many waits (0 = never) */
    int quarantine_failures;  /* the first N quarantine writes fail */
    /* what happened */
    int requests, waits;
    char stored[8192];        /* lines the server accepted, in order */
    size_t stored_len;
    uint64_t quarantined[64];
    char quarantine_msg[256];
    int nquarantined;
    uint64_t acks[256];
    int nacks;
    unsigned last_attempt;
    size_t delivered;
} fake;

static bool has_bad(const char *body, size_t len)
{
    for (size_t i = 0; i + 3 <= len; i++)
        if (memcmp(body + i, "bad", 3) == 0)
            return true;
    return false;
}

static void fake_send(void *ctx, const char *body, size_t len, dcm_influx_result *res)
{
    fake *f = ctx;
    f->requests++;
    memset(res, 0, sizeof *res);
    if (f->transport_failures > 0) {
        f->transport_failures--;
        res->outcome = DCM_INFLUX_RETRY;
        snprintf(res->message, sizeof res->message, "connection refused");
        return;
    }
    if (f->max_body && len > f->max_body) {
        res->status = 413;
    } else if (has_bad(body, len)) {
        res->status = 400;
        snprintf(res->message, sizeof res->message, "HTTP 400: unable to parse");
    } else {
        res->status = 204;
        assert_true(f->stored_len + len < sizeof f->stored);
        memcpy(f->stored + f->stored_len, body, len);
        f->stored_len += len;
        f->stored[f->stored_len] = '\0';
    }
    res->outcome = dcm_influx_classify(res->status);
}

static int fake_quarantine(void *ctx, const char *line, size_t len, uint64_t seq,
                           const dcm_influx_result *res)
{
    fake *f = ctx;
    if (f->quarantine_failures > 0) {
        f->quarantine_failures--;
        return -1;
    }
    assert_true(len > 0 && line[len - 1] == '\n');
    assert_true(has_bad(line, len));
    f->quarantined[f->nquarantined++] = seq;
    snprintf(f->quarantine_msg, sizeof f->quarantine_msg, "%s", res->message);
    return 0;
}

static void fake_ack(void *ctx, uint64_t seq)
{
    fake *f = ctx;
    f->acks[f->nacks++] = seq;
}

static bool fake_wait(void *ctx, const dcm_influx_result *res, unsigned attempt)
{
    fake *f = ctx;
    (void)res;
    f->waits++;
    f->last_attempt = attempt;
    return !(f->stop_after_waits && f->waits >= f->stop_after_waits);
}

static void fake_delivered(void *ctx, size_t n)
{
    fake *f = ctx;
    f->delivered += n;
}

static const dcm_influx_deliver_ops *ops_for(fake *f)
{
    static dcm_influx_deliver_ops ops;
    ops = (dcm_influx_deliver_ops){fake_send, fake_quarantine, fake_ack, fake_wait,
                                   fake_delivered, f};
    return &ops;
}

/* n samples with seqs first..first+n-1; those whose index is in bad[] are named "bad". */
static void fill(dcm_influx_batch *b, uint64_t first, int n, const int *bad, int nbad)
{
    for (int i = 0; i < n; i++) {
        char point[32];
        bool is_bad = false;
        for (int k = 0; k < nbad; k++)
            is_bad |= bad[k] == i;
        snprintf(point, sizeof point, "%s.p%d", is_bad ? "bad" : "ok", i);
        dcm_jrec r = {.seq = first + (uint64_t)i, .type = DCM_JREC_SAMPLE,
                      .ts_ns = 1000 + i, .point = point, .unit = "W", .value = i};
        assert_true(dcm_influx_batch_add(b, "s", &r, DCM_LP_NS, 1));
    }
}

static void assert_acks_increasing(const fake *f)
{
    for (int i = 1; i < f->nacks; i++)
        assert_true(f->acks[i] >= f->acks[i - 1]);
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_whole_batch(void **state)
{
    (void)state;
    dcm_influx_batch b;
    dcm_influx_batch_init(&b);
    fill(&b, 10, 5, NULL, 0);
    /* A record that gives no line still moves the seq to acknowledge. */
    dcm_jrec empty = {.seq = 15, .type = DCM_JREC_KPI, .ts_ns = 1, .key = "1h",
                      .body = "{}", .body_len = 2};
    assert_true(dcm_influx_batch_add(&b, "s", &empty, DCM_LP_NS, 1));
    assert_int_equal(b.count, 5);
    assert_int_equal(b.last_seq, 15);
    fake f = {0};
    assert_true(dcm_influx_deliver(&b, ops_for(&f)));
    assert_int_equal(f.requests, 1);
    assert_int_equal(count_lines(f.stored), 5);
    assert_int_equal(f.delivered, 5);
    assert_int_equal(f.acks[f.nacks - 1], 15);
    assert_acks_increasing(&f);
    assert_true(dcm_influx_batch_empty(&b));
    assert_int_equal(b.count, 0);
    dcm_influx_batch_free(&b);
}

static void test_retry_then_success(void **state)
{
    (void)state;
    dcm_influx_batch b;
    dcm_influx_batch_init(&b);
    fill(&b, 1, 3, NULL, 0);
    fake f = {.transport_failures = 3};
    assert_true(dcm_influx_deliver(&b, ops_for(&f)));
    assert_int_equal(f.requests, 4);
    assert_int_equal(f.waits, 3);
    assert_int_equal(f.last_attempt, 3);
    assert_int_equal(count_lines(f.stored), 3);
    /* Nothing acknowledged before the success. */
    assert_int_equal(f.acks[0], 3);
    dcm_influx_batch_free(&b);
}

static void test_bisect_quarantines_only_bad_lines(void **state)
{
    (void)state;
    dcm_influx_batch b;
    dcm_influx_batch_init(&b);
    const int bad[] = {0, 5, 6, 31};
    fill(&b, 100, 32, bad, 4);
    fake f = {0};
    assert_true(dcm_influx_deliver(&b, ops_for(&f)));
    assert_int_equal(f.nquarantined, 4);
    assert_int_equal(f.quarantined[0], 100);
    assert_int_equal(f.quarantined[1], 105);
    assert_int_equal(f.quarantined[2], 106);
    assert_int_equal(f.quarantined[3], 131);
    assert_string_equal(f.quarantine_msg, "HTTP 400: unable to parse");
    /* Every good line stored exactly once, in seq order. */
    assert_int_equal(count_lines(f.stored), 28);
    assert_null(strstr(f.stored, "bad"));
    int last = -1;
    for (const char *p = f.stored; (p = strstr(p, "point=ok.p")); p++) {
        int i = atoi(p + 10);
        assert_true(i > last);
        last = i;
    }
    assert_int_equal(last, 30);
    assert_int_equal(f.delivered, 28);
    assert_acks_increasing(&f);
    assert_int_equal(f.acks[f.nacks - 1], 131);
    assert_int_equal(f.waits, 0); /* splitting is not a failure to wait on */
    dcm_influx_batch_free(&b);
}

static void test_too_large_splits(void **state)
{
    (void)state;
    dcm_influx_batch b;
    dcm_influx_batch_init(&b);
    fill(&b, 1, 40, NULL, 0);
    size_t one = b.lines[0].len;
    fake f = {.max_body = one * 6};
    assert_true(dcm_influx_deliver(&b, ops_for(&f)));
    assert_int_equal(count_lines(f.stored), 40);
    assert_int_equal(f.nquarantined, 0);
    assert_int_equal(f.acks[f.nacks - 1], 40);
    assert_acks_increasing(&f);
    dcm_influx_batch_free(&b);
}

static void test_stop_and_resume(void **state)
{
    (void)state;
    dcm_influx_batch b;
    dcm_influx_batch_init(&b);
    const int bad[] = {2};
    fill(&b, 1, 8, bad, 1);
    /* Quarantine fails twice; the second wait says stop. */
    fake f = {.quarantine_failures = 5, .stop_after_waits = 2};
    assert_false(dcm_influx_deliver(&b, ops_for(&f)));
    assert_int_equal(f.nquarantined, 0);
    /* Lines before the bad one were delivered and acknowledged; the bad one was not. */
    assert_int_equal(b.done, 2);
    assert_int_equal(f.acks[f.nacks - 1], 2);
    assert_false(dcm_influx_batch_empty(&b));
    /* Resume: the quarantine works now; nothing before `done` is sent again. */
    fake g = {0};
    assert_true(dcm_influx_deliver(&b, ops_for(&g)));
    assert_int_equal(g.nquarantined, 1);
    assert_int_equal(g.quarantined[0], 3);
    assert_null(strstr(g.stored, "point=ok.p0,"));
    assert_null(strstr(g.stored, "point=ok.p1,"));
    assert_int_equal(count_lines(g.stored), 5);
    assert_int_equal(g.acks[g.nacks - 1], 8);
    dcm_influx_batch_free(&b);
}

static void test_lineless_batch_is_acked(void **state)
{
    (void)state;
    dcm_influx_batch b;
    dcm_influx_batch_init(&b);
    dcm_jrec r = {.seq = 77, .type = DCM_JREC_ALERT, .ts_ns = 1, .key = "x", .body = "[]",
                  .body_len = 2};
    assert_true(dcm_influx_batch_add(&b, "s", &r, DCM_LP_NS, 5));
    assert_false(dcm_influx_batch_empty(&b));
    fake f = {0};
    assert_true(dcm_influx_deliver(&b, ops_for(&f)));
    assert_int_equal(f.requests, 0);
    assert_int_equal(f.nacks, 1);
    assert_int_equal(f.acks[0], 77);
    dcm_influx_batch_free(&b);
}

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        long status;
        dcm_influx_outcome want;
    } cases[] = {
        {200, DCM_INFLUX_OK}, {204, DCM_INFLUX_OK}, {0, DCM_INFLUX_RETRY},
        {500, DCM_INFLUX_RETRY}, {502, DCM_INFLUX_RETRY}, {504, DCM_INFLUX_RETRY},
        {503, DCM_INFLUX_THROTTLED}, {429, DCM_INFLUX_THROTTLED}, {400, DCM_INFLUX_REJECTED},
        {422, DCM_INFLUX_REJECTED}, {413, DCM_INFLUX_TOO_LARGE}, {401, DCM_INFLUX_DENIED},
        {403, DCM_INFLUX_DENIED}, {404, DCM_INFLUX_NOT_FOUND}, {301, DCM_INFLUX_RETRY},
        {418, DCM_INFLUX_RETRY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(dcm_influx_classify(cases[i].status), cases[i].want);
}

static void test_retry_delays(void **state)
{
    (void)state;
    dcm_influx_result r = {.outcome = DCM_INFLUX_RETRY};
    assert_true(dcm_influx_retry_delay_ns(&r, 1, 0, 0) == NS_PER_S / 2);
    assert_true(dcm_influx_retry_delay_ns(&r, 1, UINT32_MAX, 0) == NS_PER_S);
    assert_true(dcm_influx_retry_delay_ns(&r, 3, 0, 0) == 2 * NS_PER_S);
    assert_true(dcm_influx_retry_delay_ns(&r, 3, UINT32_MAX, 0) == 4 * NS_PER_S);
    /* Capped at 60 s, from the 7th attempt on. */
    assert_true(dcm_influx_retry_delay_ns(&r, 7, UINT32_MAX, 0) == 60 * NS_PER_S);
    assert_true(dcm_influx_retry_delay_ns(&r, 1000, 0, 0) == 30 * NS_PER_S);
    int64_t mid = dcm_influx_retry_delay_ns(&r, 2, UINT32_MAX / 2, 0);
    assert_true(mid > NS_PER_S && mid < 2 * NS_PER_S);
    r.outcome = DCM_INFLUX_THROTTLED;
    r.retry_after_ns = 7 * NS_PER_S;
    assert_true(dcm_influx_retry_delay_ns(&r, 9, 0, 0) == 7 * NS_PER_S);
    r.retry_after_ns = 3600 * NS_PER_S;
    assert_true(dcm_influx_retry_delay_ns(&r, 1, 0, 0) == 300 * NS_PER_S);
    r.retry_after_ns = 0;
    assert_true(dcm_influx_retry_delay_ns(&r, 1, 0, 0) == NS_PER_S / 2);
    r.outcome = DCM_INFLUX_DENIED;
    assert_true(dcm_influx_retry_delay_ns(&r, 1, 0, 0) == 15 * NS_PER_S);
    r.outcome = DCM_INFLUX_NOT_FOUND;
    assert_true(dcm_influx_retry_delay_ns(&r, 50, UINT32_MAX, 0) == 15 * NS_PER_S);
    /* A shorter max_backoff also shortens the slow retries and the backoff's cap. */
    assert_true(dcm_influx_retry_delay_ns(&r, 1, 0, 5 * NS_PER_S) == 5 * NS_PER_S);
    r.outcome = DCM_INFLUX_RETRY;
    assert_true(dcm_influx_retry_delay_ns(&r, 10, UINT32_MAX, 5 * NS_PER_S) == 5 * NS_PER_S);
    assert_true(dcm_influx_retry_delay_ns(&r, 1, UINT32_MAX, NS_PER_S / 4) == NS_PER_S / 4);
}

static void test_retry_after(void **state)
{
    (void)state;
    /* Wed, 21 Oct 2015 07:28:00 GMT = 1445412480 */
    int64_t now = 1445412480 - 30;
    assert_true(dcm_influx_retry_after_ns("120", now) == 120 * NS_PER_S);
    assert_true(dcm_influx_retry_after_ns(" 5 ", now) == 5 * NS_PER_S);
    assert_true(dcm_influx_retry_after_ns("Wed, 21 Oct 2015 07:28:00 GMT", now) == 30 * NS_PER_S);
    assert_true(dcm_influx_retry_after_ns("Wed, 21 Oct 2015 07:28:00 GMT", now + 60) == 0);
    assert_true(dcm_influx_retry_after_ns("soon", now) == 0);
    assert_true(dcm_influx_retry_after_ns("5s", now) == 0);
    assert_true(dcm_influx_retry_after_ns(NULL, now) == 0);
}

static void test_write_urls(void **state)
{
    (void)state;
    dcm_influx_target t = {.url = "http://h:8086/", .api = DCM_INFLUX_V1, .database = "my db",
                           .retention_policy = "autogen", .precision = DCM_LP_MS};
    char *u = dcm_influx_write_url(&t);
    assert_string_equal(u, "http://h:8086/write?db=my%20db&rp=autogen&precision=ms");
    free(u);
    t.retention_policy = NULL;
    t.precision = DCM_LP_US;
    u = dcm_influx_write_url(&t);
    assert_string_equal(u, "http://h:8086/write?db=my%20db&precision=u");
    free(u);
    t.precision = DCM_LP_NS;
    u = dcm_influx_write_url(&t);
    assert_string_equal(u, "http://h:8086/write?db=my%20db&precision=n");
    free(u);
    dcm_influx_target v2 = {.url = "https://h/influx", .api = DCM_INFLUX_V2, .org = "o&x",
                            .bucket = "b/1", .precision = DCM_LP_US};
    u = dcm_influx_write_url(&v2);
    assert_string_equal(u, "https://h/influx/api/v2/write?org=o%26x&bucket=b%2F1&precision=us");
    free(u);
}

static void test_error_messages(void **state)
{
    (void)state;
    char out[64];
    const char *v1 = "{\"error\":\"partial write: field type conflict\"}";
    dcm_influx_error_message(v1, strlen(v1), out, sizeof out);
    assert_string_equal(out, "partial write: field type conflict");
    const char *v2 = "{\"code\":\"invalid\",\"message\":\"unable to parse 'x'\"}";
    dcm_influx_error_message(v2, strlen(v2), out, sizeof out);
    assert_string_equal(out, "unable to parse 'x'");
    const char *text = "  plain\ntext\t \n";
    dcm_influx_error_message(text, strlen(text), out, sizeof out);
    assert_string_equal(out, "plain text");
    const char *multi = "{\"error\":\"a\\nb\"}";
    dcm_influx_error_message(multi, strlen(multi), out, sizeof out);
    assert_string_equal(out, "a b");
    char small[6];
    dcm_influx_error_message("0123456789", 10, small, sizeof small);
    assert_string_equal(small, "01234");
    dcm_influx_error_message(NULL, 0, out, sizeof out);
    assert_string_equal(out, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_batch),
        cmocka_unit_test(test_retry_then_success),
        cmocka_unit_test(test_bisect_quarantines_only_bad_lines),
        cmocka_unit_test(test_too_large_splits),
        cmocka_unit_test(test_stop_and_resume),
        cmocka_unit_test(test_lineless_batch_is_acked),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_retry_delays),
        cmocka_unit_test(test_retry_after),
        cmocka_unit_test(test_write_urls),
        cmocka_unit_test(test_error_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
