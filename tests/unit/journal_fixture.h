/*
 * journal_fixture.h - what the journal tests share: a scratch directory per test,
 * opening with small segments, and records whose content follows from their number so
 * that anything read back can be checked.
 */
#ifndef DCM_JOURNAL_FIXTURE_H
#define DCM_JOURNAL_FIXTURE_H

#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dcm/log.h"
#include "fsutil.h"
#include "outputs/journal.h"

#define JT_T0 INT64_C(1767225600000000000) /* 2026-01-01T00:00:00Z */
#define JT_NS INT64_C(1000000000)

typedef struct jfix {
    char dir[512];
    char jdir[600];
} jfix;

static inline int jfix_setup(void **state)
{
    jfix *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/dcm-journal-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->jdir, sizeof f->jdir, "%s/journal", f->dir);
    dcm_log_set_level(DCM_LOG_ERROR);
    *state = f;
    return 0;
}

static inline int jfix_teardown(void **state)
{
    jfix *f = *state;
    dcm_remove_tree(f->dir);
    free(f);
    return 0;
}

static inline dcm_journal_options jfix_options(const jfix *f, const char *const *sinks,
                                               size_t n)
{
    dcm_journal_options o = {
        .dir = f->jdir,
        .max_bytes = 64u << 20,
        .segment_bytes = 4096,
        .fsync = DCM_JOURNAL_FSYNC_NEVER,
        .sinks = sinks,
        .sink_count = n,
    };
    return o;
}

static inline dcm_journal *jfix_open(const dcm_journal_options *o)
{
    dcm_journal *j = NULL;
    assert_int_equal(dcm_journal_open(o, &j), DCM_JOURNAL_OK);
    assert_non_null(j);
    return j;
}

/* Record number k (1-based): a sample of one of 10 points, or every 50th a KPI record. */
static inline dcm_jrec jfix_rec(uint64_t k, char *point, size_t size, char *body,
                                size_t bsize)
{
    dcm_jrec r = {.ts_ns = JT_T0 + (int64_t)(k / 10) * JT_NS};
    if (k % 50 == 0) {
        r.type = DCM_JREC_KPI;
        r.key = k % 100 == 0 ? "15m" : "1m";
        int n = snprintf(body, bsize, "{\"n\":%llu,\"pue\":1.%03llu}", (unsigned long long)k,
                         (unsigned long long)(k % 1000));
        r.body = body;
        r.body_len = (size_t)n;
        return r;
    }
    snprintf(point, size, "pdu-%llu.power", (unsigned long long)(k % 10));
    r.type = DCM_JREC_SAMPLE;
    r.point = point;
    r.unit = k % 10 == 3 ? "kWh" : "W";
    r.value = k % 7 == 0 ? (double)k : (double)k * 0.1 + 1e-3;
    r.quality = (uint8_t)(k % 4);
    return r;
}

/* Appends records first..last (their numbers must be the seqs they get). */
static inline void jfix_append_range(dcm_journal *j, uint64_t first, uint64_t last)
{
    char point[64], body[128];
    for (uint64_t k = first; k <= last; k++) {
        dcm_jrec r = jfix_rec(k, point, sizeof point, body, sizeof body);
        assert_int_equal(dcm_journal_append(j, &r), DCM_JOURNAL_OK);
        assert_true(r.seq == k);
    }
}

/* True when a record read back is exactly record number rec->seq. */
static inline int jfix_check(const dcm_jrec *got)
{
    char point[64], body[128];
    dcm_jrec want = jfix_rec(got->seq, point, sizeof point, body, sizeof body);
    if (got->type != want.type || got->ts_ns != want.ts_ns)
        return 0;
    if (want.type == DCM_JREC_KPI)
        return strcmp(got->key, want.key) == 0 && got->body_len == want.body_len &&
               memcmp(got->body, want.body, want.body_len) == 0 &&
               got->body[got->body_len] == '\0';
    return strcmp(got->point, want.point) == 0 && strcmp(got->unit, want.unit) == 0 &&
           got->value == want.value && got->quality == want.quality;
}

/* Reads everything after `after` through reader `sink`; checks order and content.
 * Returns the number read and the last seq in *last. */
static inline uint64_t jfix_drain(dcm_journal *j, size_t sink, uint64_t after, uint64_t *last)
{
    dcm_jrec recs[97];
    uint64_t n = 0, prev = after;
    for (;;) {
        size_t got = dcm_journal_read(j, sink, prev, recs, 97, 0);
        if (!got)
            break;
        for (size_t i = 0; i < got; i++) {
            assert_true(recs[i].seq > prev);
            assert_true(jfix_check(&recs[i]));
            prev = recs[i].seq;
        }
        n += got;
    }
    if (last)
        *last = prev;
    return n;
}

static inline int jfix_count_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
            n++;
    closedir(d);
    return n;
}

#endif
