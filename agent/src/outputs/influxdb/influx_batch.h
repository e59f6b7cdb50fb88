/*
 * influx_batch.h - a batch of line-protocol lines with the journal seq of each, and the
 * delivery of a batch: retries, splitting on 400/413, quarantine of lines the server
 * refuses, and journal acknowledgements in seq order. No I/O of its own: the sink passes
 * the HTTP request, the quarantine file, the journal ack and the sleep in as callbacks,
 * so the unit tests drive it with a fake server.
 *
 * Ownership: a batch owns its buffer and line table (init/free); callbacks borrow what
 * they are given for the duration of the call.
 */
#ifndef DCM_INFLUX_BATCH_H
#define DCM_INFLUX_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "influx_lp.h"

/* What a write request came to, classified from the transport result and HTTP status. */
typedef enum dcm_influx_outcome {
    DCM_INFLUX_OK = 0,     /* 2xx: the lines are stored */
    DCM_INFLUX_RETRY,      /* transport error, timeout, 5xx, unexpected status: try again */
    DCM_INFLUX_THROTTLED,  /* 429, 503: try again after Retry-After */
    DCM_INFLUX_REJECTED,   /* 400, 422: some line is bad: split, quarantine single lines */
    DCM_INFLUX_TOO_LARGE,  /* 413: split; a single line that is too large is quarantined */
    DCM_INFLUX_DENIED,     /* 401, 403: credentials; keep the data, retry slowly */
    DCM_INFLUX_NOT_FOUND,  /* 404: no such database/bucket; keep the data, retry slowly */
    DCM_INFLUX_LOCAL,      /* a local failure (memory, quarantine file): try again */
} dcm_influx_outcome;

const char *dcm_influx_outcome_name(dcm_influx_outcome o);
/* The outcome of an HTTP status (0 = no response: transport error). */
dcm_influx_outcome dcm_influx_classify(long status);

typedef struct dcm_influx_result {
    dcm_influx_outcome outcome;
    long status;             /* HTTP status, 0 when no response came */
    int64_t retry_after_ns;  /* from Retry-After, 0 when absent */
    char message[256];       /* the server's error message or the transport error */
} dcm_influx_result;

/* The wait before attempt number `attempt` (1 = the first retry) after result r:
 * Retry-After when the server gave one (at most 5 min); 15 s for DENIED/NOT_FOUND (or
 * max_ns if shorter); otherwise 1 s doubling up to max_ns (0 = 60 s). `rnd` (any 32
 * random bits) scales the backoff by 0.5..1.0 so that many agents do not retry in step. */
int64_t dcm_influx_retry_delay_ns(const dcm_influx_result *r, unsigned attempt, uint32_t rnd,
                                  int64_t max_ns);

typedef struct dcm_influx_line {
    size_t off, len;   /* in the batch buffer, '\n' included */
    uint64_t seq;
} dcm_influx_line;

typedef struct dcm_influx_batch {
    dcm_lp_buf buf;           /* the lines, back to back */
    dcm_influx_line *lines;
    size_t count, cap;
    size_t done;              /* lines [0, done) are delivered or quarantined */
    uint64_t last_seq;        /* the highest seq taken in, with or without a line */
    int64_t opened_ns;        /* monotonic time of the first record taken in, 0 = empty */
} dcm_influx_batch;

void dcm_influx_batch_init(dcm_influx_batch *b);
void dcm_influx_batch_free(dcm_influx_batch *b);
void dcm_influx_batch_clear(dcm_influx_batch *b);
/* Encodes rec (dcm_lp_encode) and records its seq. Returns false only when memory ran
 * out (nothing of rec is kept: the caller retries it later); a record that gives no line
 * still moves last_seq, so it is acknowledged with the batch. */
bool dcm_influx_batch_add(dcm_influx_batch *b, const char *site, const dcm_jrec *rec,
                          dcm_lp_precision p, int64_t now_ns);
/* Records taken in but not yet delivered (lines or not). */
bool dcm_influx_batch_empty(const dcm_influx_batch *b);

typedef struct dcm_influx_deliver_ops {
    /* One write request with body[0..len) (whole lines). */
    void (*send)(void *ctx, const char *body, size_t len, dcm_influx_result *res);
    /* Stores a refused line with the server's answer; 0 on success. */
    int (*quarantine)(void *ctx, const char *line, size_t len, uint64_t seq,
                      const dcm_influx_result *res);
    /* Everything up to seq is delivered (journal ack). */
    void (*ack)(void *ctx, uint64_t seq);
    /* Called after every failed attempt (res says why; attempt counts from 1 for the
     * range being sent): waits before the next attempt. false: stop now. */
    bool (*wait)(void *ctx, const dcm_influx_result *res, unsigned attempt);
    /* Called after every successful request of n lines. May be NULL. */
    void (*delivered)(void *ctx, size_t n);
    void *ctx;
} dcm_influx_deliver_ops;

/* Delivers the batch: sends it whole; on REJECTED/TOO_LARGE splits the range in halves
 * (left first) down to single lines, which are quarantined; retries every other failure
 * after ops->wait. Acks, in seq order, the last line of each range that is done and
 * finally last_seq. Returns true when everything was delivered or quarantined (the batch
 * is then cleared); false when wait said stop (what was acked stays acked; the batch keeps
 * the rest, so a later call resumes after the last line done). */
bool dcm_influx_deliver(dcm_influx_batch *b, const dcm_influx_deliver_ops *ops);

#endif
