/* Batches of lines and their delivery: retry, bisect, quarantine, ack in seq order. */
#include "influx_batch.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define NS_PER_S INT64_C(1000000000)

const char *dcm_influx_outcome_name(dcm_influx_outcome o)
{
    switch (o) {
    case DCM_INFLUX_OK: return "ok";
    case DCM_INFLUX_RETRY: return "retry";
    case DCM_INFLUX_THROTTLED: return "throttled";
    case DCM_INFLUX_REJECTED: return "rejected";
    case DCM_INFLUX_TOO_LARGE: return "too large";
    case DCM_INFLUX_DENIED: return "denied";
    case DCM_INFLUX_NOT_FOUND: return "not found";
    case DCM_INFLUX_LOCAL: return "local failure";
    }
    return "unknown";
}

dcm_influx_outcome dcm_influx_classify(long status)
{
    if (status >= 200 && status < 300)
        return DCM_INFLUX_OK;
    switch (status) {
    case 400:
    case 422: return DCM_INFLUX_REJECTED;
    case 413: return DCM_INFLUX_TOO_LARGE;
    case 401:
    case 403: return DCM_INFLUX_DENIED;
    case 404: return DCM_INFLUX_NOT_FOUND;
    case 429:
    case 503: return DCM_INFLUX_THROTTLED;
    default: return DCM_INFLUX_RETRY; /* 0 (transport), 5xx, redirects, anything odd */
    }
}

int64_t dcm_influx_retry_delay_ns(const dcm_influx_result *r, unsigned attempt, uint32_t rnd,
                                  int64_t max_ns)
{
    const int64_t cap = max_ns > 0 ? max_ns : 60 * NS_PER_S;
    if (r->retry_after_ns > 0)
        return r->retry_after_ns < 300 * NS_PER_S ? r->retry_after_ns : 300 * NS_PER_S;
    if (r->outcome == DCM_INFLUX_DENIED || r->outcome == DCM_INFLUX_NOT_FOUND)
        return cap < 15 * NS_PER_S ? cap : 15 * NS_PER_S;
    int64_t d = NS_PER_S < cap ? NS_PER_S : cap;
    for (unsigned i = 1; i < attempt && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    /* 0.5 .. 1.0 of the step: spread, but never shorter than half of it. */
    return d / 2 + (int64_t)((double)(d / 2) * ((double)rnd / 4294967295.0));
}

void dcm_influx_batch_init(dcm_influx_batch *b)
{
    memset(b, 0, sizeof *b);
    dcm_lp_buf_init(&b->buf);
}

void dcm_influx_batch_free(dcm_influx_batch *b)
{
    dcm_lp_buf_free(&b->buf);
    free(b->lines);
    memset(b, 0, sizeof *b);
}

void dcm_influx_batch_clear(dcm_influx_batch *b)
{
    dcm_lp_buf_reset(&b->buf);
    b->count = 0;
    b->done = 0;
    b->opened_ns = 0;
    /* last_seq stays: it is where the next batch continues. */
}

bool dcm_influx_batch_empty(const dcm_influx_batch *b)
{
    return b->opened_ns == 0;
}

bool dcm_influx_batch_add(dcm_influx_batch *b, const char *site, const dcm_jrec *rec,
                          dcm_lp_precision p, int64_t now_ns)
{
    if (!dcm_grow((void **)&b->lines, &b->cap, b->count + 1, sizeof *b->lines, 256))
        return false;
    size_t before = b->buf.len;
    b->buf.oom = false;
    bool line = dcm_lp_encode(&b->buf, site, rec, p);
    if (b->buf.oom) {
        b->buf.oom = false;
        return false;
    }
    if (line)
        b->lines[b->count++] = (dcm_influx_line){before, b->buf.len - before, rec->seq};
    b->last_seq = rec->seq;
    if (b->opened_ns == 0)
        b->opened_ns = now_ns ? now_ns : 1;
    return true;
}

typedef struct range {
    size_t lo, hi;
} range;

/* Bisecting to single lines needs at most one pending right half per level. */
#define MAX_RANGES 72

bool dcm_influx_deliver(dcm_influx_batch *b, const dcm_influx_deliver_ops *ops)
{
    range stack[MAX_RANGES];
    int top = 0;
    if (b->done < b->count)
        stack[top++] = (range){b->done, b->count};
    unsigned attempt = 0;
    while (top > 0) {
        range r = stack[top - 1];
        const dcm_influx_line *first = &b->lines[r.lo], *last = &b->lines[r.hi - 1];
        size_t len = last->off + last->len - first->off;
        dcm_influx_result res;
        memset(&res, 0, sizeof res);
        ops->send(ops->ctx, b->buf.data + first->off, len, &res);
        bool split = res.outcome == DCM_INFLUX_REJECTED || res.outcome == DCM_INFLUX_TOO_LARGE;
        if (split && r.hi - r.lo > 1) {
            /* Halving from at most 2^64 lines needs 64 levels: the stack never fills. */
            size_t mid = r.lo + (r.hi - r.lo) / 2;
            stack[top - 1] = (range){mid, r.hi};
            stack[top++] = (range){r.lo, mid};
            attempt = 0;
            continue;
        }
        if (split) {
            if (ops->quarantine(ops->ctx, b->buf.data + first->off, first->len, first->seq,
                                &res) != 0) {
                res.outcome = DCM_INFLUX_LOCAL;
                split = false;
            }
        }
        if (res.outcome == DCM_INFLUX_OK || split) {
            if (res.outcome == DCM_INFLUX_OK && ops->delivered)
                ops->delivered(ops->ctx, r.hi - r.lo);
            b->done = r.hi;
            ops->ack(ops->ctx, last->seq);
            top--;
            attempt = 0;
            continue;
        }
        if (!ops->wait(ops->ctx, &res, ++attempt))
            return false;
    }
    ops->ack(ops->ctx, b->last_seq);
    dcm_influx_batch_clear(b);
    return true;
}
