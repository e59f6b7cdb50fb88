/*
 * journal.c - the journal's life cycle: options, the directory lock, recovery at open
 * (torn tails cut, damaged stretches skipped, cursors read), segment release and the
 * oldest-segment drop, cursor files, close and statistics. The writer side is in
 * journal_write.c, the readers in journal_read.c, the byte formats in journal_codec.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcm/log.h"
#include "grow.h"
#include "outputs/crc32c.h"
#include "outputs/journal_int.h"
#include "runtime.h"

#define DEFAULT_MAX_BYTES (256ull << 20)
#define DEFAULT_SEGMENT_BYTES (8ull << 20)
#define MIN_SEGMENT_BYTES 4096ull
#define CURSOR_MAGIC "DCMJCUR1"
#define CURSOR_BYTES 20 /* magic, u64 seq, u32 CRC-32C of both */

const char *dcm_journal_strerror(dcm_journal_err err)
{
    switch (err) {
    case DCM_JOURNAL_OK: return "ok";
    case DCM_JOURNAL_EINVAL: return "invalid argument";
    case DCM_JOURNAL_EIO: return "input/output error";
    case DCM_JOURNAL_ENOMEM: return "out of memory";
    case DCM_JOURNAL_EFULL: return "journal full";
    case DCM_JOURNAL_ELOCKED: return "journal locked by another process";
    case DCM_JOURNAL_ECLOSED: return "journal closed";
    }
    return "unknown error";
}

void dcm_j_seg_path(const dcm_journal *j, uint64_t first, char *buf, size_t size)
{
    snprintf(buf, size, "%s/seg-%020" PRIu64 ".log", j->dir, first);
}

size_t dcm_j_find_seg(const dcm_journal *j, uint64_t seq)
{
    if (!j->seg_count)
        return SIZE_MAX;
    size_t lo = 0, hi = j->seg_count; /* the answer is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (j->segs[mid].first <= seq)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static void remove_first_locked(dcm_journal *j)
{
    char path[4096];
    dcm_j_seg_path(j, j->segs[0].first, path, sizeof path);
    if (unlink(path) != 0 && errno != ENOENT)
        dcm_log_limited(DCM_LOG_WARN, DCM_J_TAG, "cannot delete '%s': %s", path,
                        strerror(errno));
    j->disk_bytes -= j->segs[0].bytes;
    memmove(j->segs, j->segs + 1, (j->seg_count - 1) * sizeof *j->segs);
    j->seg_count--;
}

void dcm_j_release_locked(dcm_journal *j)
{
    uint64_t m = UINT64_MAX;
    for (size_t i = 0; i < j->sink_count; i++)
        if (j->sinks[i].persisted < m)
            m = j->sinks[i].persisted;
    /* The newest segment stays even when delivered: it tells the next start which seq
     * comes next. */
    while (j->seg_count > 1 && j->segs[1].first - 1 <= m)
        remove_first_locked(j);
}

void dcm_j_drop_first_locked(dcm_journal *j)
{
    uint64_t acked = UINT64_MAX;
    for (size_t i = 0; i < j->sink_count; i++)
        if (j->sinks[i].acked < acked)
            acked = j->sinks[i].acked;
    const dcm_jseg *s = &j->segs[0];
    uint64_t from = acked > s->first - 1 ? acked : s->first - 1;
    uint64_t unsent = s->last > from ? s->last - from : 0;
    j->st.dropped_oldest += unsent;
    dcm_log_limited(DCM_LOG_WARN, DCM_J_TAG,
                    "'%s' is full: deleting its oldest segment (seq %" PRIu64 "..%" PRIu64
                    ", %" PRIu64 " records not delivered; %" PRIu64 " so far)",
                    j->dir, s->first, s->last, unsent, j->st.dropped_oldest);
    remove_first_locked(j);
}

/* --------------------------------------------------------------- cursors */

static void cursor_path(const dcm_journal *j, size_t sink, bool tmp, char *buf, size_t size)
{
    snprintf(buf, size, "%s/cursor-%s%s", j->dir, j->sinks[sink].name, tmp ? ".tmp" : "");
}

static uint64_t read_cursor(const dcm_journal *j, size_t sink)
{
    char path[4096];
    cursor_path(j, sink, false, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            dcm_log(DCM_LOG_ERROR, DCM_J_TAG, "cannot read '%s': %s", path, strerror(errno));
        return 0;
    }
    uint8_t b[CURSOR_BYTES + 1];
    ssize_t n = read(fd, b, sizeof b);
    close(fd);
    if (n == CURSOR_BYTES && memcmp(b, CURSOR_MAGIC, 8) == 0 &&
        dcm_crc32c(0, b, 16) == dcm_j_get_u32(b + 16))
        return (uint64_t)dcm_j_get_u32(b + 8) | (uint64_t)dcm_j_get_u32(b + 12) << 32;
    /* At least once: without a trustworthy cursor everything kept is sent again. */
    dcm_log(DCM_LOG_ERROR, DCM_J_TAG,
            "'%s' is damaged: %s will resend every record still in the journal", path,
            j->sinks[sink].name);
    return 0;
}

static int write_cursor(dcm_journal *j, size_t sink, uint64_t seq)
{
    char tmp[4096], path[4096];
    cursor_path(j, sink, true, tmp, sizeof tmp);
    cursor_path(j, sink, false, path, sizeof path);
    uint8_t b[CURSOR_BYTES];
    memcpy(b, CURSOR_MAGIC, 8);
    dcm_j_put_u32(b + 8, (uint32_t)seq);
    dcm_j_put_u32(b + 12, (uint32_t)(seq >> 32));
    dcm_j_put_u32(b + 16, dcm_crc32c(0, b, 16));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        goto fail;
    if (write(fd, b, sizeof b) != (ssize_t)sizeof b || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        goto fail;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0 || dcm_j_fsync_dir(j) != 0)
        goto fail;
    return 0;
fail:
    dcm_log_limited(DCM_LOG_ERROR, DCM_J_TAG, "cannot write '%s': %s", path, strerror(errno));
    return -1;
}

dcm_journal_err dcm_j_persist_cursor(dcm_journal *j, size_t sink, bool force)
{
    dcm_jsink *s = &j->sinks[sink];
    dcm_journal_err err = DCM_JOURNAL_OK;
    int64_t now = dcm_monotonic_ns();
    pthread_mutex_lock(&s->persist_lock);
    pthread_mutex_lock(&j->lock);
    uint64_t v = s->acked;
    bool due = v > s->persisted && (force || now - s->last_persist_ns >= DCM_J_CURSOR_EVERY_NS);
    pthread_mutex_unlock(&j->lock);
    if (due) {
        int rc = write_cursor(j, sink, v);
        pthread_mutex_lock(&j->lock);
        s->last_persist_ns = now;
        if (rc == 0) {
            s->persisted = v;
            dcm_j_release_locked(j);
        } else {
            err = DCM_JOURNAL_EIO;
        }
        pthread_mutex_unlock(&j->lock);
    }
    pthread_mutex_unlock(&s->persist_lock);
    return err;
}

/* -------------------------------------------------------------- recovery */

static int mkdirs(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0750);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static bool seg_name(const char *name, uint64_t *first)
{
    if (strlen(name) != DCM_J_SEG_NAME_LEN || strncmp(name, "seg-", 4) != 0 ||
        strcmp(name + 24, ".log") != 0)
        return false;
    uint64_t v = 0;
    for (int i = 4; i < 24; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *first = v;
    return v > 0;
}

static int cmp_seg(const void *a, const void *b)
{
    uint64_t x = ((const dcm_jseg *)a)->first, y = ((const dcm_jseg *)b)->first;
    return x < y ? -1 : x > y;
}

static dcm_journal_err list_segments(dcm_journal *j)
{
    DIR *d = opendir(j->dir);
    if (!d) {
        dcm_log(DCM_LOG_ERROR, DCM_J_TAG, "cannot list '%s': %s", j->dir, strerror(errno));
        return DCM_JOURNAL_EIO;
    }
    dcm_journal_err err = DCM_JOURNAL_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        uint64_t first;
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "cursor-", 7) == 0 && len > 11 &&
            strcmp(e->d_name + len - 4, ".tmp") == 0) {
            unlinkat(dirfd(d), e->d_name, 0); /* a cursor write cut short */
            continue;
        }
        if (!seg_name(e->d_name, &first))
            continue;
        if (!dcm_grow((void **)&j->segs, &j->seg_cap, j->seg_count + 1, sizeof *j->segs, 16)) {
            err = DCM_JOURNAL_ENOMEM;
            break;
        }
        j->segs[j->seg_count++] = (dcm_jseg){.first = first, .last = first - 1};
    }
    closedir(d);
    if (j->seg_count)
        qsort(j->segs, j->seg_count, sizeof *j->segs, cmp_seg);
    return err;
}

/* Scans one segment: its last seq and the end of its last valid frame; a torn tail is cut
 * off, a damaged stretch followed by valid frames is skipped (readers skip it too). */
static dcm_journal_err recover_segment(dcm_journal *j, dcm_jseg *seg)
{
    char path[4096];
    dcm_j_seg_path(j, seg->first, path, sizeof path);
    dcm_journal_err err = DCM_JOURNAL_OK;
    dcm_jscan s = {0};
    struct stat sb;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &sb) != 0) {
        dcm_log(DCM_LOG_ERROR, DCM_J_TAG, "cannot open '%s': %s", path, strerror(errno));
        err = DCM_JOURNAL_EIO;
        goto done;
    }
    dcm_jscan_init(&s, fd, (uint64_t)sb.st_size);
    uint64_t last = seg->first - 1, valid_end = 0;
    for (;;) {
        const uint8_t *p;
        uint32_t len;
        uint64_t seq;
        dcm_jscan_res r = dcm_jscan_next(&s, &p, &len);
        if (r == DCM_JS_END)
            break;
        if (r == DCM_JS_EIO || r == DCM_JS_ENOMEM) {
            err = r == DCM_JS_EIO ? DCM_JOURNAL_EIO : DCM_JOURNAL_ENOMEM;
            goto done;
        }
        if (r == DCM_JS_REC && dcm_jrec_peek_seq(p, len, seg->first, &seq) && seq > last) {
            last = seq;
            s.off += DCM_J_HDR + len;
            valid_end = s.off;
            continue;
        }
        uint64_t bad = s.off;
        if (dcm_jscan_resync(&s, &r)) {
            j->corrupt_bytes += s.off - bad;
            dcm_log(DCM_LOG_ERROR, DCM_J_TAG,
                    "'%s' is damaged at bytes %" PRIu64 "..%" PRIu64
                    " (not a torn write: valid records follow); the records in them are "
                    "lost, the ones after them are kept",
                    path, bad, s.off);
            continue;
        }
        if (r == DCM_JS_EIO || r == DCM_JS_ENOMEM) {
            err = r == DCM_JS_EIO ? DCM_JOURNAL_EIO : DCM_JOURNAL_ENOMEM;
            goto done;
        }
        break; /* nothing valid follows: a torn tail */
    }
    if (valid_end < (uint64_t)sb.st_size) {
        uint64_t torn = (uint64_t)sb.st_size - valid_end;
        if (ftruncate(fd, (off_t)valid_end) != 0 || fsync(fd) != 0) {
            dcm_log(DCM_LOG_ERROR, DCM_J_TAG, "cannot cut the torn tail off '%s': %s", path,
                    strerror(errno));
            err = DCM_JOURNAL_EIO;
            goto done;
        }
        j->st.torn_bytes += torn;
        dcm_log(DCM_LOG_WARN, DCM_J_TAG,
                "cut %" PRIu64 " bytes of an unfinished write off the end of '%s'", torn, path);
    }
    seg->last = last;
    seg->bytes = valid_end;
done:
    dcm_jscan_free(&s);
    if (fd >= 0)
        close(fd);
    return err;
}

static dcm_journal_err recover(dcm_journal *j)
{
    dcm_journal_err err = list_segments(j);
    if (err != DCM_JOURNAL_OK)
        return err;
    for (size_t i = 0; i < j->seg_count; i++)
        if ((err = recover_segment(j, &j->segs[i])) != DCM_JOURNAL_OK)
            return err;
    /* Segments without a record (created just before a crash, or cut to nothing) go. */
    size_t kept = 0;
    for (size_t i = 0; i < j->seg_count; i++) {
        if (j->segs[i].bytes == 0) {
            char path[4096];
            dcm_j_seg_path(j, j->segs[i].first, path, sizeof path);
            unlink(path);
            continue;
        }
        j->segs[kept++] = j->segs[i];
    }
    j->seg_count = kept;
    uint64_t last = 0;
    for (size_t i = 0; i < j->seg_count; i++) {
        j->disk_bytes += j->segs[i].bytes;
        if (j->segs[i].last > last)
            last = j->segs[i].last;
    }
    /* Seqs are never reused, even when every segment was delivered and deleted. */
    for (size_t i = 0; i < j->sink_count; i++)
        if (j->sinks[i].persisted > last)
            last = j->sinks[i].persisted;
    j->committed = last;
    j->w.next_seq = last + 1;
    return DCM_JOURNAL_OK;
}

/* ------------------------------------------------------------ open/close */

static bool valid_sink_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static bool valid_options(const dcm_journal_options *opt)
{
    if (!opt || !opt->dir || !opt->dir[0] || !opt->sinks || opt->sink_count == 0 ||
        opt->sink_count > DCM_J_MAX_SINKS || (unsigned)opt->fsync > DCM_JOURNAL_FSYNC_NEVER ||
        (unsigned)opt->full_policy > DCM_JOURNAL_FULL_DROP_OLDEST || opt->fsync_interval_ns < 0)
        return false;
    for (size_t i = 0; i < opt->sink_count; i++) {
        if (!valid_sink_name(opt->sinks[i]))
            return false;
        for (size_t k = 0; k < i; k++)
            if (strcmp(opt->sinks[i], opt->sinks[k]) == 0)
                return false;
    }
    uint64_t seg = opt->segment_bytes ? opt->segment_bytes : DEFAULT_SEGMENT_BYTES;
    uint64_t max = opt->max_bytes ? opt->max_bytes : DEFAULT_MAX_BYTES;
    return seg >= MIN_SEGMENT_BYTES && max / 2 >= seg;
}

static dcm_journal_err init_sinks(dcm_journal *j, const dcm_journal_options *opt)
{
    j->sinks = calloc(opt->sink_count, sizeof *j->sinks);
    j->opt.sinks = calloc(opt->sink_count, sizeof *j->opt.sinks);
    if (!j->sinks || !j->opt.sinks)
        return DCM_JOURNAL_ENOMEM;
    for (size_t i = 0; i < opt->sink_count; i++) {
        dcm_jsink *s = &j->sinks[i];
        if (!(s->name = strdup(opt->sinks[i])))
            return DCM_JOURNAL_ENOMEM;
        pthread_mutex_init(&s->persist_lock, NULL);
        j->sink_count++;
        ((const char **)j->opt.sinks)[i] = s->name;
    }
    for (size_t i = 0; i < j->sink_count; i++)
        j->sinks[i].acked = j->sinks[i].persisted = read_cursor(j, i);
    return DCM_JOURNAL_OK;
}

static void free_journal(dcm_journal *j)
{
    for (size_t i = 0; i < j->sink_count; i++) {
        dcm_j_reader_free(&j->sinks[i].rd);
        pthread_mutex_destroy(&j->sinks[i].persist_lock);
        free(j->sinks[i].name);
    }
    free(j->sinks);
    free((void *)j->opt.sinks);
    dcm_j_writer_free(&j->w);
    free(j->segs);
    if (j->dirfd >= 0)
        close(j->dirfd); /* releases the lock */
    free(j->dir);
    pthread_cond_destroy(&j->committed_cv);
    pthread_cond_destroy(&j->idle_cv);
    pthread_mutex_destroy(&j->lock);
    free(j);
}

dcm_journal_err dcm_journal_open(const dcm_journal_options *opt, dcm_journal **out)
{
    if (!out)
        return DCM_JOURNAL_EINVAL;
    *out = NULL;
    if (!valid_options(opt))
        return DCM_JOURNAL_EINVAL;
    dcm_journal_err err = DCM_JOURNAL_ENOMEM;
    dcm_journal *j = calloc(1, sizeof *j);
    if (!j)
        return DCM_JOURNAL_ENOMEM;
    j->dirfd = -1;
    j->w.fd = -1;
    pthread_mutex_init(&j->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->committed_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&j->idle_cv, NULL);
    j->opt = *opt;
    j->opt.sinks = NULL;
    j->opt.sink_count = 0;
    if (!j->opt.max_bytes)
        j->opt.max_bytes = DEFAULT_MAX_BYTES;
    if (!j->opt.segment_bytes)
        j->opt.segment_bytes = DEFAULT_SEGMENT_BYTES;
    if (!j->opt.fsync_interval_ns)
        j->opt.fsync_interval_ns = DCM_NS_PER_S;
    if (!(j->dir = strdup(opt->dir)))
        goto fail;
    j->opt.dir = j->dir;
    if (mkdirs(j->dir) != 0 ||
        (j->dirfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        dcm_log(DCM_LOG_ERROR, DCM_J_TAG, "cannot open the journal directory '%s': %s", j->dir,
                strerror(errno));
        err = DCM_JOURNAL_EIO;
        goto fail;
    }
    if (flock(j->dirfd, LOCK_EX | LOCK_NB) != 0) {
        err = errno == EWOULDBLOCK ? DCM_JOURNAL_ELOCKED : DCM_JOURNAL_EIO;
        dcm_log(DCM_LOG_ERROR, DCM_J_TAG, "cannot lock '%s': %s", j->dir,
                err == DCM_JOURNAL_ELOCKED ? "another dcmetrics process is using it"
                                           : strerror(errno));
        goto fail;
    }
    if ((err = init_sinks(j, opt)) != DCM_JOURNAL_OK)
        goto fail;
    j->opt.sink_count = j->sink_count;
    if ((err = recover(j)) != DCM_JOURNAL_OK)
        goto fail;
    dcm_j_release_locked(j);
    j->st.writable = true;
    for (size_t i = 0; i < j->sink_count; i++) {
        uint64_t pending = dcm_journal_pending(j, i);
        if (pending)
            dcm_log(DCM_LOG_INFO, DCM_J_TAG, "%" PRIu64 " records in '%s' wait for %s", pending,
                    j->dir, j->sinks[i].name);
    }
    *out = j;
    return DCM_JOURNAL_OK;
fail:
    free_journal(j);
    return err;
}

void dcm_journal_close(dcm_journal *j)
{
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    j->closed = true;
    pthread_cond_broadcast(&j->committed_cv);
    while (j->active > 0)
        pthread_cond_wait(&j->idle_cv, &j->lock);
    pthread_mutex_unlock(&j->lock);
    dcm_journal_err err = dcm_j_commit(j, true);
    if (err != DCM_JOURNAL_OK)
        dcm_log(DCM_LOG_ERROR, DCM_J_TAG, "closing '%s': the last batch was not stored: %s",
                j->dir, dcm_journal_strerror(err));
    for (size_t i = 0; i < j->sink_count; i++)
        dcm_j_persist_cursor(j, i, true);
    free_journal(j);
}

/* ------------------------------------------------------------ statistics */

/* Lock held: the oldest kept seq, 0 when no record is kept. */
static uint64_t first_kept_locked(const dcm_journal *j)
{
    for (size_t i = 0; i < j->seg_count; i++)
        if (j->segs[i].last >= j->segs[i].first && j->segs[i].first <= j->committed)
            return j->segs[i].first;
    return 0;
}

void dcm_journal_get_stats(dcm_journal *j, dcm_journal_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!j)
        return;
    pthread_mutex_lock(&j->lock);
    *out = j->st;
    out->bytes = j->disk_bytes;
    out->segments = j->seg_count;
    out->first_seq = first_kept_locked(j);
    out->last_seq = out->first_seq ? j->committed : 0;
    pthread_mutex_unlock(&j->lock);
}

uint64_t dcm_journal_pending(dcm_journal *j, size_t sink)
{
    if (!j || sink >= j->sink_count)
        return 0;
    pthread_mutex_lock(&j->lock);
    uint64_t first = first_kept_locked(j);
    uint64_t base = first ? first - 1 : j->committed;
    if (j->sinks[sink].acked > base)
        base = j->sinks[sink].acked;
    uint64_t n = j->committed > base ? j->committed - base : 0;
    pthread_mutex_unlock(&j->lock);
    return n;
}

uint64_t dcm_journal_cursor(dcm_journal *j, size_t sink)
{
    if (!j || sink >= j->sink_count)
        return 0;
    pthread_mutex_lock(&j->lock);
    uint64_t v = j->sinks[sink].acked;
    pthread_mutex_unlock(&j->lock);
    return v;
}
