/*
 * bench_journal.c - the durable journal: append + commit throughput with fsync at every
 * commit (batches of 1,000 samples, as the pipeline hands them over), bytes per sample
 * on disk, the scan at open (recovery) and the drain rate of one reader (read +
 * acknowledge) after an outage of 600,000 samples (10 minutes at 1,000 samples/s).
 *
 * Usage: bench_journal [DIR] [POINTS] [OUTAGE_SAMPLES]
 *   DIR defaults to a new directory under $TMPDIR (or /tmp), removed afterwards. Run it
 *   on the file system the agent's state_dir will use: fsync cost is the point.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "outputs/journal.h"

#define BATCH 1000
#define FSYNC_BATCHES 200
#define T0 INT64_C(1767225600000000000)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct points {
    char (*id)[48];
    const char **unit;
    size_t count;
} points;

/* A plausible site: PDUs' power (W, one decimal) and energy (kWh, two decimals), GPU
 * power and utilisation, meters' voltage. */
static int make_points(points *p, size_t n)
{
    p->id = calloc(n, sizeof *p->id);
    p->unit = calloc(n, sizeof *p->unit);
    if (!p->id || !p->unit)
        return -1;
    static const char *const kinds[][2] = {
        {"power", "W"}, {"energy", "kWh"}, {"voltage", "V"}, {"power", "W"}, {"util", "%"}};
    for (size_t i = 0; i < n; i++) {
        size_t k = i % 5;
        if (k >= 3)
            snprintf(p->id[i], sizeof p->id[i], "gpus-%03zu.gpu%zu.%s", i / 5, i % 8,
                     kinds[k][0]);
        else
            snprintf(p->id[i], sizeof p->id[i], "pdu-a%03zu.%s", i / 5, kinds[k][0]);
        p->unit[i] = kinds[k][1];
    }
    p->count = n;
    return 0;
}

static double value_of(size_t i, uint64_t t)
{
    switch (i % 5) {
    case 0: return (double)((1200 + (i * 37 + t * 13) % 900) * 10 + t % 10) / 10.0;
    case 1: return (double)(1000000 + i * 1000 + t * 3) / 100.0;
    case 2: return (double)(2300 + (t + i) % 20) / 10.0;
    case 3: return (double)(300 + (i + t * 7) % 400);
    default: return (double)((i + t) % 101);
    }
}

/* Appends `batches` polls of one sample per point, committing after each. */
static int append_polls(dcm_journal *j, const points *p, uint64_t t0, size_t batches,
                        size_t per_batch)
{
    size_t k = 0;
    for (size_t b = 0; b < batches; b++) {
        uint64_t t = t0 + b;
        for (size_t i = 0; i < per_batch; i++, k++) {
            size_t pi = k % p->count;
            dcm_jrec r = {.type = DCM_JREC_SAMPLE, .ts_ns = T0 + (int64_t)t * 1000000000,
                          .point = p->id[pi], .unit = p->unit[pi], .value = value_of(pi, t)};
            dcm_journal_err e = dcm_journal_append(j, &r);
            if (e != DCM_JOURNAL_OK) {
                fprintf(stderr, "append: %s\n", dcm_journal_strerror(e));
                return -1;
            }
        }
        dcm_journal_err e = dcm_journal_commit(j);
        if (e != DCM_JOURNAL_OK) {
            fprintf(stderr, "commit: %s\n", dcm_journal_strerror(e));
            return -1;
        }
    }
    return 0;
}

static dcm_journal *open_journal(const char *dir, dcm_journal_fsync pol)
{
    static const char *const sinks[] = {"bench"};
    dcm_journal_options o = {.dir = dir, .fsync = pol, .sinks = sinks, .sink_count = 1,
                             .max_bytes = 1ull << 30};
    dcm_journal *j = NULL;
    dcm_journal_err e = dcm_journal_open(&o, &j);
    if (e != DCM_JOURNAL_OK)
        fprintf(stderr, "open %s: %s\n", dir, dcm_journal_strerror(e));
    return j;
}

int main(int argc, char **argv)
{
    char base[512];
    bool own = argc < 2;
    if (own) {
        const char *tmp = getenv("TMPDIR");
        snprintf(base, sizeof base, "%s/dcm-bench-journal-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        if (!mkdtemp(base)) {
            perror("mkdtemp");
            return 1;
        }
    } else {
        snprintf(base, sizeof base, "%s", argv[1]);
    }
    size_t npoints = argc > 2 ? (size_t)strtoul(argv[2], NULL, 10) : 1000;
    size_t outage = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 600000;
    if (npoints == 0 || outage < BATCH) {
        fprintf(stderr, "usage: bench_journal [DIR] [POINTS] [OUTAGE_SAMPLES >= 1000]\n");
        return 2;
    }
    int rc = 1;
    points p = {0};
    dcm_journal *j = NULL;
    char dir[600];
    if (make_points(&p, npoints) != 0)
        goto done;

    /* 1. Append + commit, fsync at every commit. */
    snprintf(dir, sizeof dir, "%s/fsync-batch", base);
    if (!(j = open_journal(dir, DCM_JOURNAL_FSYNC_BATCH)))
        goto done;
    double t = now_s();
    if (append_polls(j, &p, 0, FSYNC_BATCHES, BATCH) != 0)
        goto done;
    double el = now_s() - t;
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    printf("append+commit (fsync batch, %d samples per commit): %.0f samples/s, "
           "%.2f ms per commit\n",
           BATCH, (double)FSYNC_BATCHES * BATCH / el, el * 1000.0 / FSYNC_BATCHES);
    printf("bytes on disk per sample (%zu points): %.2f\n", npoints,
           (double)st.bytes / (double)st.appended);
    dcm_journal_close(j);
    j = NULL;

    /* 2. An outage: the samples pile up (written as the pipeline would, fsync never to
     * keep this part short), then one reader drains them, acknowledging each batch. */
    snprintf(dir, sizeof dir, "%s/outage", base);
    if (!(j = open_journal(dir, DCM_JOURNAL_FSYNC_NEVER)))
        goto done;
    t = now_s();
    if (append_polls(j, &p, 0, outage / BATCH, BATCH) != 0)
        goto done;
    el = now_s() - t;
    dcm_journal_get_stats(j, &st);
    printf("outage: %llu samples appended in %.2f s (%.0f samples/s, fsync never), "
           "%.1f MiB in %llu segments\n",
           (unsigned long long)st.appended, el, (double)st.appended / el,
           (double)st.bytes / 1048576.0, (unsigned long long)st.segments);
    /* Recovery: the scan at start over everything kept (page cache warm). */
    dcm_journal_close(j);
    t = now_s();
    if (!(j = open_journal(dir, DCM_JOURNAL_FSYNC_NEVER)))
        goto done;
    el = now_s() - t;
    printf("open with %.1f MiB to recover: %.3f s (%.0f MiB/s)\n", (double)st.bytes / 1048576.0,
           el, (double)st.bytes / 1048576.0 / el);
    static dcm_jrec out[BATCH];
    uint64_t after = 0, got = 0;
    t = now_s();
    for (;;) {
        size_t n = dcm_journal_read(j, 0, after, out, BATCH, 0);
        if (!n)
            break;
        after = out[n - 1].seq;
        got += n;
        if (dcm_journal_ack(j, 0, after) != DCM_JOURNAL_OK)
            goto done;
    }
    el = now_s() - t;
    printf("replay: %llu records read + acknowledged in %.2f s: %.0f records/s "
           "(target >= 20000)\n",
           (unsigned long long)got, el, (double)got / el);
    if (got != st.appended) {
        fprintf(stderr, "replay read %llu of %llu records\n", (unsigned long long)got,
                (unsigned long long)st.appended);
        goto done;
    }
    rc = 0;
done:
    dcm_journal_close(j);
    free(p.id);
    free(p.unit);
    if (own)
        dcm_remove_tree(base);
    return rc;
}
