/* The MQTT sink's in-flight window (acks only below the lowest unconfirmed message,
 * completions in any order, stale completions ignored) and its reconnect backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mqtt_int.h"

static int owner_marker;

static void test_out_of_order(void **state)
{
    (void)state;
    dcm_mqtt_window w;
    assert_int_equal(dcm_mqtt_window_init(&w, 4, 9, &owner_marker), 0);
    dcm_mqtt_slot *a = dcm_mqtt_window_reserve(&w, 10);
    dcm_mqtt_slot *b = dcm_mqtt_window_reserve(&w, 12); /* journal seqs may skip */
    dcm_mqtt_slot *c = dcm_mqtt_window_reserve(&w, 13);
    assert_ptr_equal(a->owner, &owner_marker);
    dcm_mqtt_window_sent(&w, a, 101);
    dcm_mqtt_window_sent(&w, b, 102);
    dcm_mqtt_window_sent(&w, c, 103);
    assert_int_equal(dcm_mqtt_window_inflight(&w), 3);
    assert_int_equal(dcm_mqtt_window_room(&w), 1);

    assert_true(dcm_mqtt_window_complete(&w, c, 103, true));
    assert_true(dcm_mqtt_window_complete(&w, b, 102, true));
    assert_int_equal(dcm_mqtt_window_advance(&w), 0);
    assert_int_equal(w.delivered, 9); /* 10 is still unconfirmed */
    assert_true(dcm_mqtt_window_complete(&w, a, 101, true));
    assert_int_equal(dcm_mqtt_window_advance(&w), 3);
    assert_int_equal(w.delivered, 13);
    assert_int_equal(dcm_mqtt_window_inflight(&w), 0);
    /* A second completion for the same message changes nothing. */
    assert_false(dcm_mqtt_window_complete(&w, a, 101, true));
    dcm_mqtt_window_free(&w);
}

static void test_full(void **state)
{
    (void)state;
    dcm_mqtt_window w;
    assert_int_equal(dcm_mqtt_window_init(&w, 2, 0, NULL), 0);
    dcm_mqtt_slot *a = dcm_mqtt_window_reserve(&w, 1);
    assert_non_null(dcm_mqtt_window_reserve(&w, 2));
    assert_null(dcm_mqtt_window_reserve(&w, 3));
    assert_int_equal(dcm_mqtt_window_room(&w), 0);
    dcm_mqtt_window_sent(&w, a, 1);
    dcm_mqtt_window_complete(&w, a, 1, true);
    assert_int_equal(dcm_mqtt_window_advance(&w), 1);
    assert_int_equal(dcm_mqtt_window_room(&w), 1);
    assert_int_equal(w.delivered, 1);
    dcm_mqtt_window_free(&w);
    dcm_mqtt_window none;
    assert_int_equal(dcm_mqtt_window_init(&none, 0, 0, NULL), -1);
}

/* Paho can confirm before the send call has returned the token. */
static void test_early_completion(void **state)
{
    (void)state;
    dcm_mqtt_window w;
    assert_int_equal(dcm_mqtt_window_init(&w, 4, 0, NULL), 0);
    dcm_mqtt_slot *a = dcm_mqtt_window_reserve(&w, 1);
    assert_true(dcm_mqtt_window_complete(&w, a, 7, true));
    assert_int_equal(a->state, DCM_MQTT_SLOT_SENDING);
    dcm_mqtt_window_sent(&w, a, 7);
    assert_int_equal(a->state, DCM_MQTT_SLOT_DONE);
    assert_int_equal(dcm_mqtt_window_advance(&w), 1);
    assert_int_equal(w.delivered, 1);

    /* An early completion under another token is not this message's. */
    dcm_mqtt_slot *b = dcm_mqtt_window_reserve(&w, 2);
    dcm_mqtt_window_complete(&w, b, 8, true);
    dcm_mqtt_window_sent(&w, b, 9);
    assert_int_equal(b->state, DCM_MQTT_SLOT_SENT);
    assert_int_equal(dcm_mqtt_window_advance(&w), 0);

    /* An early failure fails the message. */
    dcm_mqtt_window_reset(&w);
    dcm_mqtt_slot *c = dcm_mqtt_window_reserve(&w, 2);
    dcm_mqtt_window_complete(&w, c, 3, false);
    dcm_mqtt_window_sent(&w, c, 3);
    assert_int_equal(c->state, DCM_MQTT_SLOT_FAILED);
    assert_true(w.failed);
    dcm_mqtt_window_free(&w);
}

/* After a connection loss nothing from before may confirm what is sent now. */
static void test_stale_after_reset(void **state)
{
    (void)state;
    dcm_mqtt_window w;
    assert_int_equal(dcm_mqtt_window_init(&w, 2, 4, NULL), 0);
    dcm_mqtt_slot *a = dcm_mqtt_window_reserve(&w, 5);
    dcm_mqtt_window_sent(&w, a, 5);
    dcm_mqtt_slot *b = dcm_mqtt_window_reserve(&w, 6); /* send call still running */
    dcm_mqtt_window_reset(&w);
    assert_int_equal(dcm_mqtt_window_inflight(&w), 0);
    assert_int_equal(w.delivered, 4);
    /* The old send call returns, and old completions arrive: all ignored. */
    dcm_mqtt_window_sent(&w, b, 6);
    assert_int_equal(b->state, DCM_MQTT_SLOT_FREE);
    assert_false(dcm_mqtt_window_complete(&w, a, 5, true));

    /* The same slots are re-used for the resend under new tokens. */
    dcm_mqtt_slot *a2 = dcm_mqtt_window_reserve(&w, 5);
    assert_ptr_equal(a2, a);
    dcm_mqtt_window_sent(&w, a2, 1);
    dcm_mqtt_slot *b2 = dcm_mqtt_window_reserve(&w, 6);
    dcm_mqtt_window_sent(&w, b2, 2);
    assert_ptr_equal(b2, b);
    assert_false(dcm_mqtt_window_complete(&w, a, 5, true)); /* the old token */
    assert_false(dcm_mqtt_window_complete(&w, b, 6, true));
    assert_int_equal(dcm_mqtt_window_advance(&w), 0);
    assert_true(dcm_mqtt_window_complete(&w, b2, 2, true));
    assert_true(dcm_mqtt_window_complete(&w, a2, 1, true));
    assert_int_equal(dcm_mqtt_window_advance(&w), 2);
    assert_int_equal(w.delivered, 6);
    dcm_mqtt_window_free(&w);
}

static void test_failure_blocks(void **state)
{
    (void)state;
    dcm_mqtt_window w;
    assert_int_equal(dcm_mqtt_window_init(&w, 8, 0, NULL), 0);
    dcm_mqtt_slot *s[3];
    for (int i = 0; i < 3; i++) {
        s[i] = dcm_mqtt_window_reserve(&w, (uint64_t)i + 1);
        dcm_mqtt_window_sent(&w, s[i], i + 1);
    }
    dcm_mqtt_window_complete(&w, s[0], 1, true);
    dcm_mqtt_window_complete(&w, s[1], 2, false);
    dcm_mqtt_window_complete(&w, s[2], 3, true);
    assert_true(w.failed);
    assert_int_equal(dcm_mqtt_window_advance(&w), 1);
    assert_int_equal(w.delivered, 1); /* 3 arrived, but 2 did not: the cursor stays */
    dcm_mqtt_window_reset(&w);
    assert_false(w.failed);
    assert_int_equal(w.delivered, 1);

    dcm_mqtt_slot *t = dcm_mqtt_window_reserve(&w, 4);
    dcm_mqtt_window_send_failed(&w, t);
    assert_true(w.failed);
    dcm_mqtt_window_free(&w);
}

/* Random completion orders, several resets: delivered is always the longest confirmed
 * prefix of what was sent since the last reset, and never moves backwards. */
static void test_random_orders(void **state)
{
    (void)state;
    uint64_t rng = 12345;
    for (int round = 0; round < 200; round++) {
        size_t cap = 1 + (size_t)(round % 17);
        dcm_mqtt_window w;
        assert_int_equal(dcm_mqtt_window_init(&w, cap, 0, NULL), 0);
        uint64_t seq = 0, prev = 0;
        int token = 0;
        for (int step = 0; step < 300; step++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            unsigned r = (unsigned)(rng >> 33);
            if (r % 5 != 0 && dcm_mqtt_window_room(&w) > 0) {
                seq += 1 + r % 3;
                dcm_mqtt_slot *s = dcm_mqtt_window_reserve(&w, seq);
                dcm_mqtt_window_sent(&w, s, ++token);
            } else if (dcm_mqtt_window_inflight(&w) > 0) {
                size_t n = dcm_mqtt_window_inflight(&w);
                dcm_mqtt_slot *s = &w.slots[(w.tail + r % n) % w.cap];
                dcm_mqtt_window_complete(&w, s, s->token, true);
            }
            if (r % 97 == 0)
                dcm_mqtt_window_reset(&w);
            dcm_mqtt_window_advance(&w);
            /* What the window holds now starts after delivered, unconfirmed. */
            assert_true(w.delivered >= prev);
            prev = w.delivered;
            if (w.tail < w.head) {
                dcm_mqtt_slot *first = &w.slots[w.tail % w.cap];
                assert_true(first->seq > w.delivered);
                assert_int_not_equal(first->state, DCM_MQTT_SLOT_DONE);
            }
        }
        dcm_mqtt_window_free(&w);
    }
}

static void test_backoff(void **state)
{
    (void)state;
    const int64_t ms = 1000000;
    dcm_mqtt_backoff b;
    dcm_mqtt_backoff_init(&b, 500 * ms, 30000 * ms, 42);
    int64_t d = 500 * ms;
    for (int i = 0; i < 12; i++) {
        int64_t got = dcm_mqtt_backoff_next(&b);
        assert_true(got >= d / 2 && got <= d);
        d = d * 2 > 30000 * ms ? 30000 * ms : d * 2;
    }
    /* Capped: stays within [max/2, max], and is spread, not constant. */
    int64_t lo = INT64_MAX, hi = 0;
    double sum = 0;
    for (int i = 0; i < 1000; i++) {
        int64_t got = dcm_mqtt_backoff_next(&b);
        assert_true(got >= 15000 * ms && got <= 30000 * ms);
        lo = got < lo ? got : lo;
        hi = got > hi ? got : hi;
        sum += (double)got;
    }
    assert_true(hi - lo > 10000 * ms);
    double mean = sum / 1000 / (double)ms;
    assert_true(mean > 21000 && mean < 24000); /* uniform on [15 s, 30 s]: 22.5 s */
    dcm_mqtt_backoff_reset(&b);
    int64_t first = dcm_mqtt_backoff_next(&b);
    assert_true(first >= 250 * ms && first <= 500 * ms);

    /* Same seed, same delays; another seed, other delays. */
    dcm_mqtt_backoff x, y, z;
    dcm_mqtt_backoff_init(&x, 100 * ms, 1000 * ms, 7);
    dcm_mqtt_backoff_init(&y, 100 * ms, 1000 * ms, 7);
    dcm_mqtt_backoff_init(&z, 100 * ms, 1000 * ms, 8);
    int differ = 0;
    for (int i = 0; i < 20; i++) {
        int64_t vx = dcm_mqtt_backoff_next(&x), vy = dcm_mqtt_backoff_next(&y);
        assert_true(vx == vy);
        differ += vx != dcm_mqtt_backoff_next(&z);
    }
    assert_true(differ > 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_out_of_order),      cmocka_unit_test(test_full),
        cmocka_unit_test(test_early_completion),  cmocka_unit_test(test_stale_after_reset),
        cmocka_unit_test(test_failure_blocks),    cmocka_unit_test(test_random_orders),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
