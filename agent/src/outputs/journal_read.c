/*
 * journal_read.c - the readers: each sink reads the segments from disk through its own
 * descriptor and buffer (the page cache keeps recent data hot), from wherever its
 * after_seq points, and acknowledges what its server confirmed.
 *
 * A read never spans two segments: the strings of the records it returns live in the
 * segment's dictionary, which stays put until the reader moves to the next segment at
 * the start of a later read. Bodies are copied into the reader's arena.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dcm/log.h"
#include "outputs/journal_int.h"
#include "runtime.h"

#define ARENA_CHUNK (64u * 1024u)

/* ----------------------------------------------------------------- arena */

static void arena_reset(struct dcm_jarena *a)
{
    for (size_t i = 0; i < a->count; i++)
        a->used[i] = 0;
}

static char *arena_copy(struct dcm_jarena *a, const char *src, size_t len)
{
    size_t need = len + 1;
    for (size_t i = 0; i < a->count; i++) {
        if (a->size[i] - a->used[i] >= need) {
            char *p = a->chunks[i] + a->used[i];
            memcpy(p, src, len);
            p[len] = '\0';
            a->used[i] += need;
            return p;
        }
    }
    if (a->count == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4;
        char **c = realloc(a->chunks, cap * sizeof *c);
        if (!c)
            return NULL;
        a->chunks = c;
        size_t *u = realloc(a->used, cap * sizeof *u);
        if (!u)
            return NULL;
        a->used = u;
        size_t *s = realloc(a->size, cap * sizeof *s);
        if (!s)
            return NULL;
        a->size = s;
        a->cap = cap;
    }
    size_t size = need > ARENA_CHUNK ? need : ARENA_CHUNK;
    char *chunk = malloc(size);
    if (!chunk)
        return NULL;
    a->chunks[a->count] = chunk;
    a->size[a->count] = size;
    a->used[a->count] = need;
    a->count++;
    memcpy(chunk, src, len);
    chunk[len] = '\0';
    return chunk;
}

static void arena_free(struct dcm_jarena *a)
{
    for (size_t i = 0; i < a->count; i++)
        free(a->chunks[i]);
    free(a->chunks);
    free(a->used);
    free(a->size);
    memset(a, 0, sizeof *a);
}

/* ---------------------------------------------------------------- reader */

static void reader_close(dcm_jreader *rd)
{
    if (rd->scan.fd >= 0 && rd->open)
        close(rd->scan.fd);
    rd->scan.fd = -1;
    rd->open = false;
}

void dcm_j_reader_free(dcm_jreader *rd)
{
    reader_close(rd);
    dcm_jscan_free(&rd->scan);
    dcm_jdec_free(&rd->dec);
    arena_free(&rd->arena);
}

/* Lock held. Opens segs[k] at its start; last_seq stays (seqs only grow). */
static bool reader_open(dcm_journal *j, dcm_jreader *rd, size_t k)
{
    reader_close(rd);
    char path[4096];
    dcm_j_seg_path(j, j->segs[k].first, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        dcm_log_limited(DCM_LOG_ERROR, DCM_J_TAG, "cannot open '%s': %s", path,
                        strerror(errno));
        return false;
    }
    dcm_jscan_init(&rd->scan, fd, 0);
    dcm_jdec_reset(&rd->dec, j->segs[k].first);
    rd->seg_first = j->segs[k].first;
    rd->open = true;
    return true;
}

/* Lock held. Index of the reader's segment, SIZE_MAX if it is gone (or none). */
static size_t reader_seg(const dcm_journal *j, const dcm_jreader *rd)
{
    if (!rd->open)
        return SIZE_MAX;
    size_t k = dcm_j_find_seg(j, rd->seg_first);
    return k != SIZE_MAX && j->segs[k].first == rd->seg_first ? k : SIZE_MAX;
}

typedef struct batch {
    dcm_jrec *out;
    size_t max, n;
    uint64_t after, limit_seq;
    bool eos;      /* reached the end of the segment's frames */
    bool failed;   /* I/O or memory: stop, try again at the next read */
} batch;

static void skip_damage(dcm_journal *j, dcm_jreader *rd, batch *b)
{
    uint64_t bad = rd->scan.off;
    dcm_jscan_res err;
    rd->dec.synced = false;
    if (dcm_jscan_resync(&rd->scan, &err)) {
        dcm_log_limited(DCM_LOG_ERROR, DCM_J_TAG,
                        "seg-%020" PRIu64 ".log in '%s' is damaged at bytes %" PRIu64
                        "..%" PRIu64 ": skipped",
                        rd->seg_first, j->dir, bad, rd->scan.off);
        return;
    }
    if (err == DCM_JS_EIO || err == DCM_JS_ENOMEM) {
        b->failed = true;
        return;
    }
    dcm_log_limited(DCM_LOG_ERROR, DCM_J_TAG,
                    "seg-%020" PRIu64 ".log in '%s' is damaged from byte %" PRIu64
                    " to its end: skipped",
                    rd->seg_first, j->dir, bad);
    rd->scan.off = rd->scan.limit;
    b->eos = true;
}

/* Decodes frames of the reader's segment up to scan.limit (no lock held). */
static void decode_batch(dcm_journal *j, dcm_jreader *rd, batch *b)
{
    while (b->n < b->max && !b->failed) {
        const uint8_t *p;
        uint32_t len;
        uint64_t seq;
        dcm_jscan_res r = dcm_jscan_next(&rd->scan, &p, &len);
        if (r == DCM_JS_END) {
            b->eos = true;
            return;
        }
        if (r == DCM_JS_EIO || r == DCM_JS_ENOMEM) {
            dcm_log_limited(DCM_LOG_ERROR, DCM_J_TAG, "reading seg-%020" PRIu64 ".log: %s",
                            rd->seg_first, r == DCM_JS_EIO ? "I/O error" : "out of memory");
            b->failed = true;
            return;
        }
        if (r != DCM_JS_REC || !dcm_jrec_peek_seq(p, len, rd->dec.base, &seq) ||
            seq <= rd->last_seq) {
            skip_damage(j, rd, b);
            continue;
        }
        if (seq > b->limit_seq)
            return; /* written, not yet committed */
        dcm_jrec rec;
        dcm_jdecode d = dcm_jrec_decode(&rd->dec, p, len, &rec);
        if (d == DCM_JD_ENOMEM) {
            b->failed = true;
            return;
        }
        rd->scan.off += DCM_J_HDR + len;
        rd->last_seq = seq;
        if (d != DCM_JD_OK) {
            rd->lost++;
            dcm_log_limited(DCM_LOG_ERROR, DCM_J_TAG,
                            "record %" PRIu64 " in '%s' cannot be decoded (damage before it): "
                            "skipped",
                            seq, j->dir);
            continue;
        }
        if (seq <= b->after)
            continue;
        if (rec.type != DCM_JREC_SAMPLE) {
            char *body = arena_copy(&rd->arena, rec.body, rec.body_len);
            if (!body) {
                /* Go back so that the record is read again by the next call. */
                rd->scan.off -= DCM_J_HDR + len;
                rd->last_seq = seq - 1;
                rd->dec.synced = false;
                b->failed = true;
                return;
            }
            rec.body = body;
        }
        b->out[b->n++] = rec;
    }
}

static void deadline_after(struct timespec *ts, int wait_ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += wait_ms / 1000;
    ts->tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

size_t dcm_journal_read(dcm_journal *j, size_t sink, uint64_t after_seq, dcm_jrec *out,
                        size_t max, int wait_ms)
{
    if (!j || sink >= j->sink_count || !out || max == 0)
        return 0;
    dcm_j_persist_cursor(j, sink, false); /* an acknowledgement batched earlier */
    dcm_jreader *rd = &j->sinks[sink].rd;
    batch b = {.out = out, .max = max, .after = after_seq};
    struct timespec deadline;
    deadline_after(&deadline, wait_ms > 0 ? wait_ms : 0);
    pthread_mutex_lock(&j->lock);
    j->active++;
    arena_reset(&rd->arena);
    while (!j->closed) {
        size_t k = reader_seg(j, rd);
        /* The position serves after_seq unless it has passed records the caller wants
         * again, or its segment is gone, or after_seq lies in a later segment. */
        bool valid = k != SIZE_MAX && after_seq >= rd->pos_lo &&
                     !(k + 1 < j->seg_count && j->segs[k + 1].first <= after_seq + 1);
        uint64_t need = valid && rd->last_seq > after_seq ? rd->last_seq : after_seq;
        if (j->committed <= need) {
            if (wait_ms <= 0 ||
                pthread_cond_timedwait(&j->committed_cv, &j->lock, &deadline) == ETIMEDOUT)
                break;
            continue;
        }
        if (!valid) {
            k = dcm_j_find_seg(j, after_seq + 1);
            if (k == SIZE_MAX || !reader_open(j, rd, k))
                break;
            rd->last_seq = j->segs[k].first - 1;
            rd->pos_lo = after_seq;
        }
        rd->scan.limit = j->segs[k].bytes;
        bool has_next = k + 1 < j->seg_count;
        b.limit_seq = j->committed;
        b.eos = false;
        uint64_t before = rd->last_seq, off_before = rd->scan.off;
        pthread_mutex_unlock(&j->lock);
        decode_batch(j, rd, &b);
        pthread_mutex_lock(&j->lock);
        if (b.n > 0 || b.failed)
            break;
        if (b.eos && has_next) {
            /* This segment is finished: the next read starts in the following one. */
            if (!reader_open(j, rd, k + 1))
                break;
            continue;
        }
        if (rd->last_seq == before && rd->scan.off == off_before)
            break; /* no progress (committed records not yet in this segment's table) */
    }
    if (b.n > 0)
        rd->pos_lo = b.out[b.n - 1].seq;
    else if (after_seq > rd->pos_lo)
        rd->pos_lo = after_seq;
    j->active--;
    if (j->closed && j->active == 0)
        pthread_cond_broadcast(&j->idle_cv);
    pthread_mutex_unlock(&j->lock);
    return b.n;
}

dcm_journal_err dcm_journal_ack(dcm_journal *j, size_t sink, uint64_t seq)
{
    if (!j || sink >= j->sink_count)
        return DCM_JOURNAL_EINVAL;
    pthread_mutex_lock(&j->lock);
    dcm_jsink *s = &j->sinks[sink];
    if (seq > j->committed)
        seq = j->committed; /* nothing beyond what exists can have been delivered */
    if (seq > s->acked)
        s->acked = seq;
    pthread_mutex_unlock(&j->lock);
    return dcm_j_persist_cursor(j, sink, false);
}
