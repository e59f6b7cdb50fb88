/*
 * journal_write.c - the writer side of the journal: encoding records against the
 * segment's string dictionary, rolling segments, the full policies, commit and fsync.
 * Only the pipeline thread calls in here; the journal lock is taken just to publish
 * what readers may see (segment table, committed seq, counters).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#include "dcm/log.h"
#include "grow.h"
#include "outputs/crc32c.h"
#include "outputs/journal_int.h"
#include "runtime.h"

/* ----------------------------------------------------------- dictionary */

static uint32_t hash_str(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 16777619u;
    return h;
}

static uint32_t dict_find(const dcm_jwriter *w, const char *s, uint32_t h)
{
    if (!w->slot_cap)
        return 0;
    for (size_t i = h & (w->slot_cap - 1);; i = (i + 1) & (w->slot_cap - 1)) {
        const struct dcm_jdict_slot *sl = &w->slots[i];
        if (!sl->s)
            return 0;
        if (sl->hash == h && strcmp(sl->s, s) == 0)
            return sl->id;
    }
}

static void slot_put(struct dcm_jdict_slot *slots, size_t cap, struct dcm_jdict_slot v)
{
    size_t i = v.hash & (cap - 1);
    while (slots[i].s)
        i = (i + 1) & (cap - 1);
    slots[i] = v;
}

/* False when memory ran out: the string is then simply defined again by a later record
 * (a new id), which costs bytes, not correctness. */
static bool dict_insert(dcm_jwriter *w, const char *s, uint32_t h, uint32_t id)
{
    if ((w->slot_used + 1) * 2 > w->slot_cap) {
        size_t cap = w->slot_cap ? w->slot_cap * 2 : 256;
        struct dcm_jdict_slot *slots = calloc(cap, sizeof *slots);
        if (!slots)
            return false;
        for (size_t i = 0; i < w->slot_cap; i++)
            if (w->slots[i].s)
                slot_put(slots, cap, w->slots[i]);
        free(w->slots);
        w->slots = slots;
        w->slot_cap = cap;
    }
    char *copy = strdup(s);
    if (!copy)
        return false;
    slot_put(w->slots, w->slot_cap, (struct dcm_jdict_slot){.s = copy, .id = id, .hash = h});
    w->slot_used++;
    return true;
}

static void dict_clear(dcm_jwriter *w)
{
    for (size_t i = 0; i < w->slot_cap; i++) {
        free(w->slots[i].s);
        w->slots[i].s = NULL;
    }
    w->slot_used = 0;
    w->next_id = 1;
}

void dcm_j_writer_free(dcm_jwriter *w)
{
    dict_clear(w);
    free(w->slots);
    free(w->pend);
    free(w->scratch);
    if (w->fd >= 0)
        close(w->fd);
    memset(w, 0, sizeof *w);
    w->fd = -1;
}

/* -------------------------------------------------------------- encoding */

typedef struct newdef {
    const char *s;
    uint32_t hash, id;
} newdef;

/* A ref to s; strings new to the segment are defined inline and listed in defs, to
 * enter the dictionary only if the record is accepted. */
static size_t put_ref(const dcm_jwriter *w, uint8_t *p, const char *s, newdef *defs,
                      size_t *ndefs)
{
    uint32_t h = hash_str(s), id = dict_find(w, s, h);
    for (size_t k = 0; !id && k < *ndefs; k++)
        if (defs[k].hash == h && strcmp(defs[k].s, s) == 0)
            id = defs[k].id;
    if (id)
        return dcm_j_put_varint(p, id);
    id = w->next_id + (uint32_t)*ndefs;
    defs[(*ndefs)++] = (newdef){s, h, id};
    size_t len = strlen(s), n = dcm_j_put_varint(p, 0);
    n += dcm_j_put_varint(p + n, id);
    n += dcm_j_put_varint(p + n, len);
    memcpy(p + n, s, len);
    return n + len;
}

static const double pow10[] = {1.0, 10.0, 100.0, 1000.0};

/* The shortest exact form of v. Meter readings are mostly decimals with a few digits
 * (230.1 V, 12345.67 kWh): stored as an integer and a power of ten they take 3-5 bytes
 * instead of 8, and the division on reading gives back exactly the same double. */
static unsigned value_encoding(double v, unsigned *scale)
{
    *scale = 0;
    if (v == 0.0 && !signbit(v))
        return DCM_J_VAL_ZERO;
    if (v == 0.0) /* -0.0: keep the sign */
        return DCM_J_VAL_F32;
    for (unsigned k = 0; k < 4; k++) {
        double m = v * pow10[k];
        if (!(fabs(m) < 9007199254740992.0))
            break;
        double r = nearbyint(m);
        if (r / pow10[k] == v) {
            *scale = k;
            return DCM_J_VAL_INT;
        }
    }
    if (fabs(v) <= FLT_MAX && (double)(float)v == v)
        return DCM_J_VAL_F32;
    return DCM_J_VAL_F64;
}

static size_t put_value(uint8_t *p, unsigned enc, unsigned scale, double v)
{
    if (enc == DCM_J_VAL_ZERO)
        return 0;
    if (enc == DCM_J_VAL_INT)
        return dcm_j_put_varint(p, dcm_j_zigzag((int64_t)nearbyint(v * pow10[scale])));
    if (enc == DCM_J_VAL_F32) {
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        dcm_j_put_u32(p, u);
        return 4;
    }
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    dcm_j_put_u32(p, (uint32_t)u);
    dcm_j_put_u32(p + 4, (uint32_t)(u >> 32));
    return 8;
}

/* Encodes rec as seq into w->scratch, framed. Returns the frame's length, 0 when memory
 * ran out. The caller checked the sizes. */
static size_t encode(dcm_jwriter *w, const dcm_jrec *rec, uint64_t seq, size_t bound,
                     newdef *defs, size_t *ndefs)
{
    if (bound > w->scratch_cap) {
        uint8_t *grown = realloc(w->scratch, bound);
        if (!grown)
            return 0;
        w->scratch = grown;
        w->scratch_cap = bound;
    }
    uint8_t *p = w->scratch + DCM_J_HDR;
    *ndefs = 0;
    bool abs = rec->type != DCM_JREC_SAMPLE || w->since_abs >= DCM_J_ABS_EVERY;
    uint8_t flags = abs ? DCM_J_FLAG_ABS : 0;
    size_t n = 2;
    p[0] = (uint8_t)(DCM_J_TAG_MAGIC | (unsigned)rec->type);
    n += dcm_j_put_varint(p + n, seq - w->seg_first);
    int64_t ts = abs ? rec->ts_ns : (int64_t)((uint64_t)rec->ts_ns - (uint64_t)w->prev_ts);
    n += dcm_j_put_varint(p + n, dcm_j_zigzag(ts));
    if (rec->type == DCM_JREC_SAMPLE) {
        double v = rec->value;
        unsigned q = rec->quality & 3u;
        if (!isfinite(v)) {
            v = 0.0;
            q = DCM_QUALITY_INVALID;
        }
        unsigned scale, enc = value_encoding(v, &scale);
        flags |= (uint8_t)(q | enc << 2 | scale << 5);
        n += put_ref(w, p + n, rec->point, defs, ndefs);
        n += put_ref(w, p + n, rec->unit, defs, ndefs);
        n += put_value(p + n, enc, scale, v);
    } else {
        n += put_ref(w, p + n, rec->key, defs, ndefs);
        n += dcm_j_put_varint(p + n, rec->body_len);
        memcpy(p + n, rec->body, rec->body_len);
        n += rec->body_len;
    }
    p[1] = flags;
    dcm_j_put_u32(w->scratch, (uint32_t)n);
    dcm_j_put_u32(w->scratch + 4, dcm_crc32c(0, p, n));
    return DCM_J_HDR + n;
}

/* ------------------------------------------------------------ file work */

static dcm_journal_err set_unwritable(dcm_journal *j, const char *what, int e)
{
    dcm_log_limited(DCM_LOG_ERROR, DCM_J_TAG, "%s in '%s' failed: %s", what, j->dir,
                    strerror(e));
    pthread_mutex_lock(&j->lock);
    j->st.writable = false;
    pthread_mutex_unlock(&j->lock);
    return DCM_JOURNAL_EIO;
}

/* Writes the pending frames to the current segment (not yet visible to readers). */
static dcm_journal_err flush_pending(dcm_journal *j)
{
    dcm_jwriter *w = &j->w;
    if (!w->pend_len)
        return DCM_JOURNAL_OK;
    size_t done = 0;
    while (done < w->pend_len) {
        ssize_t n = pwrite(w->fd, w->pend + done, w->pend_len - done,
                           (off_t)(w->seg_bytes + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            /* Nothing is marked written: the next try rewrites from the same offset,
             * over whatever part of the frames reached the file. */
            return set_unwritable(j, "writing a segment", n < 0 ? errno : ENOSPC);
        done += (size_t)n;
    }
    w->seg_bytes += w->pend_len;
    w->unsynced = true;
    pthread_mutex_lock(&j->lock);
    dcm_jseg *cur = &j->segs[j->seg_count - 1];
    j->disk_bytes += w->pend_len;
    cur->bytes = w->seg_bytes;
    cur->last = w->next_seq - 1;
    pthread_mutex_unlock(&j->lock);
    w->pend_len = 0;
    return DCM_JOURNAL_OK;
}

int dcm_j_fsync_dir(dcm_journal *j)
{
    return fsync(j->dirfd);
}

/* Seals the current segment (written and, unless fsync is never, synced) and starts
 * seg-<first>.log. */
static dcm_journal_err roll(dcm_journal *j, uint64_t first)
{
    dcm_jwriter *w = &j->w;
    dcm_journal_err err;
    if (w->fd >= 0) {
        if ((err = flush_pending(j)) != DCM_JOURNAL_OK)
            return err;
        if (j->opt.fsync != DCM_JOURNAL_FSYNC_NEVER && w->unsynced && fdatasync(w->fd) != 0)
            return set_unwritable(j, "fsync of a segment", errno);
        w->unsynced = false;
        close(w->fd);
        w->fd = -1;
    }
    char path[4096];
    dcm_j_seg_path(j, first, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return set_unwritable(j, "creating a segment", errno);
    pthread_mutex_lock(&j->lock);
    if (j->seg_count == j->seg_cap) {
        size_t cap = j->seg_cap ? j->seg_cap * 2 : 16;
        dcm_jseg *grown = realloc(j->segs, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&j->lock);
            close(fd);
            unlink(path);
            return DCM_JOURNAL_ENOMEM;
        }
        j->segs = grown;
        j->seg_cap = cap;
    }
    j->segs[j->seg_count++] = (dcm_jseg){.first = first, .last = first - 1, .bytes = 0};
    pthread_mutex_unlock(&j->lock);
    w->fd = fd;
    w->seg_first = first;
    w->seg_bytes = 0;
    dict_clear(w);
    w->prev_ts = 0;
    w->since_abs = DCM_J_ABS_EVERY;
    w->dir_dirty = true;
    return DCM_JOURNAL_OK;
}

/* ------------------------------------------------------------ full policy */

/* Lock held. True if a record of flen bytes may be stored now (segments may be deleted
 * under DROP_OLDEST). */
static bool admit_locked(dcm_journal *j, const dcm_jrec *rec, uint64_t flen)
{
    uint64_t max = j->opt.max_bytes;
    uint64_t total = j->disk_bytes + j->w.pend_len;
    if (total + flen <= max)
        return true;
    switch (j->opt.full_policy) {
    case DCM_JOURNAL_FULL_KEEP_KPI:
        /* KPI records and alerts get a reserve of an eighth beyond the bound: a few
         * kilobytes a minute, so days of them fit while the sinks are down. */
        if (rec->type == DCM_JREC_SAMPLE || rec->droppable)
            return false;
        return total + flen <= max + max / 8;
    case DCM_JOURNAL_FULL_DROP_OLDEST:
        while (total + flen > max && j->seg_count > 1) {
            dcm_j_drop_first_locked(j);
            total = j->disk_bytes + j->w.pend_len;
        }
        return total + flen <= max;
    case DCM_JOURNAL_FULL_REFUSE_ALL:
    default:
        return false;
    }
}

static void log_refused(dcm_journal *j, const dcm_jrec *rec, uint64_t refused)
{
    if (j->opt.full_policy == DCM_JOURNAL_FULL_KEEP_KPI &&
        (rec->type == DCM_JREC_SAMPLE || rec->droppable))
        dcm_log_limited(DCM_LOG_WARN, DCM_J_TAG,
                        "'%s' is full (max_size %llu bytes): point samples are refused until "
                        "the outputs catch up (%llu records refused so far)",
                        j->dir, (unsigned long long)j->opt.max_bytes,
                        (unsigned long long)refused);
    else
        dcm_log_limited(DCM_LOG_ERROR, DCM_J_TAG,
                        "'%s' is full (max_size %llu bytes): new records are refused until "
                        "the outputs catch up (%llu records refused so far)",
                        j->dir, (unsigned long long)j->opt.max_bytes,
                        (unsigned long long)refused);
}

/* ---------------------------------------------------------------- append */

static bool valid_rec(const dcm_jrec *rec, size_t *bound)
{
    size_t need;
    if (rec->type == DCM_JREC_SAMPLE) {
        if (!rec->point || !rec->unit || rec->quality > DCM_QUALITY_INVALID)
            return false;
        need = strlen(rec->point) + strlen(rec->unit);
    } else if (rec->type == DCM_JREC_KPI || rec->type == DCM_JREC_ALERT) {
        if (!rec->key || (!rec->body && rec->body_len))
            return false;
        need = strlen(rec->key);
        if (rec->body_len > DCM_J_MAX_PAYLOAD || need > DCM_J_MAX_PAYLOAD)
            return false;
        need += rec->body_len;
    } else {
        return false;
    }
    /* Frame header, tag, flags, two varints, two refs (3 varints each), value. */
    need += DCM_J_HDR + 2 + 10 + 10 + 2 * 30 + 10;
    *bound = need;
    return need - DCM_J_HDR <= DCM_J_MAX_PAYLOAD;
}

dcm_journal_err dcm_journal_append(dcm_journal *j, dcm_jrec *rec)
{
    size_t bound;
    if (!j || !rec || !valid_rec(rec, &bound))
        return DCM_JOURNAL_EINVAL;
    dcm_jwriter *w = &j->w;
    dcm_journal_err err;
    pthread_mutex_lock(&j->lock);
    bool closed = j->closed;
    pthread_mutex_unlock(&j->lock);
    if (closed)
        return DCM_JOURNAL_ECLOSED;
    if (w->fd < 0 && (err = roll(j, w->next_seq)) != DCM_JOURNAL_OK)
        return err;
    newdef defs[2];
    size_t ndefs;
    uint64_t seq = w->next_seq;
    size_t flen = encode(w, rec, seq, bound, defs, &ndefs);
    if (!flen)
        return DCM_JOURNAL_ENOMEM;
    uint64_t used = w->seg_bytes + w->pend_len;
    if (used > 0 && used + flen > j->opt.segment_bytes) {
        if ((err = roll(j, seq)) != DCM_JOURNAL_OK)
            return err;
        if (!(flen = encode(w, rec, seq, bound, defs, &ndefs)))
            return DCM_JOURNAL_ENOMEM;
    }
    if (!dcm_grow((void **)&w->pend, &w->pend_cap, w->pend_len + flen, 1, 64 * 1024))
        return DCM_JOURNAL_ENOMEM;
    pthread_mutex_lock(&j->lock);
    bool ok = admit_locked(j, rec, flen);
    uint64_t refused = ok ? j->st.refused : ++j->st.refused;
    if (ok)
        j->st.appended++;
    pthread_mutex_unlock(&j->lock);
    if (!ok) {
        log_refused(j, rec, refused);
        return DCM_JOURNAL_EFULL;
    }
    memcpy(w->pend + w->pend_len, w->scratch, flen);
    w->pend_len += flen;
    for (size_t k = 0; k < ndefs; k++)
        dict_insert(w, defs[k].s, defs[k].hash, defs[k].id);
    w->next_id += (uint32_t)ndefs;
    bool abs = rec->type != DCM_JREC_SAMPLE || w->since_abs >= DCM_J_ABS_EVERY;
    w->since_abs = abs ? 1 : w->since_abs + 1;
    w->prev_ts = rec->ts_ns;
    rec->seq = seq;
    w->next_seq = seq + 1;
    /* A long batch must not hold megabytes in memory: write it out early. Readers still
     * see it only at the commit. A failure here is reported by the commit. */
    if (w->pend_len >= DCM_J_SPILL_BYTES)
        (void)flush_pending(j);
    return DCM_JOURNAL_OK;
}

/* ---------------------------------------------------------------- commit */

dcm_journal_err dcm_j_commit(dcm_journal *j, bool force_sync)
{
    dcm_jwriter *w = &j->w;
    dcm_journal_err err = flush_pending(j);
    if (err != DCM_JOURNAL_OK)
        return err;
    int64_t now = dcm_monotonic_ns();
    bool sync = force_sync || j->opt.fsync == DCM_JOURNAL_FSYNC_BATCH ||
                (j->opt.fsync == DCM_JOURNAL_FSYNC_INTERVAL &&
                 now - w->last_sync_ns >= j->opt.fsync_interval_ns);
    if (sync) {
        if (w->unsynced && w->fd >= 0 && fdatasync(w->fd) != 0)
            return set_unwritable(j, "fsync of a segment", errno);
        if (w->dir_dirty && dcm_j_fsync_dir(j) != 0)
            return set_unwritable(j, "fsync of the directory", errno);
        w->unsynced = false;
        w->dir_dirty = false;
        w->last_sync_ns = now;
    }
    pthread_mutex_lock(&j->lock);
    if (w->next_seq - 1 > j->committed) {
        j->committed = w->next_seq - 1;
        pthread_cond_broadcast(&j->committed_cv);
    }
    j->st.writable = true;
    pthread_mutex_unlock(&j->lock);
    return DCM_JOURNAL_OK;
}

dcm_journal_err dcm_journal_commit(dcm_journal *j)
{
    if (!j)
        return DCM_JOURNAL_EINVAL;
    pthread_mutex_lock(&j->lock);
    bool closed = j->closed;
    pthread_mutex_unlock(&j->lock);
    if (closed)
        return DCM_JOURNAL_ECLOSED;
    return dcm_j_commit(j, false);
}
