/*
 * bench_influxdb.c - CPU cost of publishing point samples to InfluxDB: a producer appends
 * samples to a real journal at a fixed rate (default 10,000/s over 1,000 points); the
 * InfluxDB sink runs on its own thread exactly as in the agent (journal read, line
 * protocol, gzip, HTTP, ack) against a real server. Reports the sink thread's CPU time
 * (user + system, from its own CPU clock) per second of wall time, the requests' lag and
 * what was delivered.
 *
 * Usage: bench_influxdb URL [--db NAME | --bucket NAME] [--rate N] [--seconds S]
 *                           [--precision P] [--batch-lines N] [--backlog N]
 *   URL  e.g. http://127.0.0.1:8086 (InfluxDB 1.x with --db; the database must exist) or
 *        a server of the 2.x write API with --bucket (VictoriaMetrics: any name)
 *
 * --backlog N replays an outage instead of producing at a rate: N samples of 1,000 points,
 * one commit per second of timestamps, are in the journal before the sink starts;
 * reported is the time until none is pending (every record acknowledged by the server).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dcm/config.h"
#include "fsutil.h"
#include "influxdb.h"
#include "outputs/journal.h"
#include "bench_backlog.h"

typedef struct sink_thread {
    const dcm_sink_ops *ops;
    void *state;
    atomic_bool stop;
} sink_thread;

static void *run_sink(void *arg)
{
    sink_thread *t = arg;
    t->ops->run(t->state, &t->stop);
    return NULL;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double thread_cpu_s(pthread_t th)
{
    clockid_t cid;
    struct timespec ts;
    if (pthread_getcpuclockid(th, &cid) != 0 || clock_gettime(cid, &ts) != 0)
        return -1;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *db = NULL, *bucket = NULL, *precision = "ms";
    long rate = 10000, seconds = 20, batch_lines = 5000, backlog = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--db") == 0 && v) { db = v; i++; }
        else if (strcmp(a, "--bucket") == 0 && v) { bucket = v; i++; }
        else if (strcmp(a, "--rate") == 0 && v) { rate = atol(v); i++; }
        else if (strcmp(a, "--seconds") == 0 && v) { seconds = atol(v); i++; }
        else if (strcmp(a, "--precision") == 0 && v) { precision = v; i++; }
        else if (strcmp(a, "--batch-lines") == 0 && v) { batch_lines = atol(v); i++; }
        else if (strcmp(a, "--backlog") == 0 && v) { backlog = atol(v); i++; }
        else if (a[0] != '-' && !url) url = a;
        else {
            fprintf(stderr, "usage: bench_influxdb URL [--db NAME | --bucket NAME] [--rate N] "
                            "[--seconds S] [--precision P] [--batch-lines N] [--backlog N]\n");
            return 2;
        }
    }
    if (!url || (!db && !bucket) || rate < 100 || seconds < 1 || batch_lines < 1 ||
        backlog < 0) {
        fprintf(stderr, "bench_influxdb: give URL and --db or --bucket (rate >= 100)\n");
        return 2;
    }
    int rc = 1;
    char dir[] = "/tmp/dcm-bench-influx-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char yaml[1024], jdir[sizeof dir + 16];
    snprintf(yaml, sizeof yaml,
             "agent: {site: bench}\n"
             "outputs:\n  influxdb:\n    url: %s\n    %s: %s\n%s"
             "    precision: %s\n    batch_lines: %ld\n    flush_interval: 1s\n",
             url, db ? "database" : "bucket", db ? db : bucket, db ? "" : "    org: bench\n",
             precision, batch_lines);
    snprintf(jdir, sizeof jdir, "%s/journal", dir);
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_config *cfg = NULL;
    dcm_journal *j = NULL;
    void *state = NULL;
    bool started = false;
    pthread_t th;
    sink_thread st = {.ops = &dcm_influxdb_sink};
    atomic_init(&st.stop, false);
    if (dcm_config_load_string(yaml, strlen(yaml), "bench.yaml", &cfg, &diags) != DCM_CONFIG_OK) {
        dcm_diags_print(&diags, stderr);
        goto fail;
    }
    const char *sinks[] = {"influxdb"};
    dcm_journal_options jo = {.dir = jdir, .fsync = DCM_JOURNAL_FSYNC_NEVER,
                              .sinks = sinks, .sink_count = 1};
    dcm_journal_err je = dcm_journal_open(&jo, &j);
    if (je != DCM_JOURNAL_OK) {
        fprintf(stderr, "journal: %s\n", dcm_journal_strerror(je));
        goto fail;
    }
    dcm_sink_env env = {.config = cfg, .node = cfg->outputs.influxdb, .journal = j,
                        .reader = 0, .state_dir = dir};
    if (backlog && dcm_bench_backlog_fill(j, (uint64_t)backlog) != 0) {
        fprintf(stderr, "journal append failed\n");
        goto fail;
    }
    double t_start = mono_s();
    if (st.ops->create(&env, &state) != 0)
        goto fail;
    st.state = state;
    if (pthread_create(&th, NULL, run_sink, &st) != 0)
        goto fail;
    started = true;
    if (backlog) {
        /* The outage replay: nothing more is produced; wait (at most 600 s) for the sink. */
        double cpu_b = thread_cpu_s(th);
        while (dcm_journal_pending(j, 0) > 0 && mono_s() - t_start < 600) {
            struct timespec d = {0, 5000000};
            nanosleep(&d, NULL);
        }
        double took = mono_s() - t_start, cpu_d = thread_cpu_s(th) - cpu_b;
        uint64_t left = dcm_journal_pending(j, 0);
        dcm_sink_health hb;
        st.ops->health(state, &hb);
        printf("backlog            %ld samples (%d points, one commit per second), "
               "batch_lines %ld, precision %s\n",
               backlog, DCM_BENCH_BACKLOG_POINTS, batch_lines, precision);
        printf("samples delivered  %llu (pending %llu)\n", (unsigned long long)hb.sent,
               (unsigned long long)left);
        printf("drained in         %.2f s after the sink started = %.0f records/s\n", took,
               (double)backlog / took);
        printf("sink thread CPU    %.3f s = %.1f%% of one core, %.2f us per record\n", cpu_d,
               100.0 * cpu_d / took, cpu_d * 1e6 / (double)backlog);
        printf("failures           %llu%s%s\n", (unsigned long long)hb.failures,
               hb.last_error[0] ? ", last: " : "", hb.last_error);
        rc = left == 0 ? 0 : 1;
        goto fail;
    }

    enum { POINTS = 1000 };
    char names[POINTS][24];
    for (int p = 0; p < POINTS; p++)
        snprintf(names[p], sizeof names[p], "bench.p%04d", p);
    const double tick = 0.01;
    long per_tick = rate / 100, produced = 0;
    double t0 = mono_s(), cpu0 = thread_cpu_s(th);
    for (long k = 0; k < seconds * 100; k++) {
        int64_t ts = real_ns();
        for (long n = 0; n < per_tick; n++, produced++) {
            dcm_jrec r = {.type = DCM_JREC_SAMPLE, .ts_ns = ts + n,
                          .point = names[produced % POINTS],
                          .unit = "W", .value = 1000.0 + (double)(produced % 977) * 0.25};
            if (dcm_journal_append(j, &r) != DCM_JOURNAL_OK) {
                fprintf(stderr, "journal append failed\n");
                goto fail;
            }
        }
        dcm_journal_commit(j);
        double next = t0 + (double)(k + 1) * tick, now = mono_s();
        if (next > now) {
            struct timespec d = {0, (long)((next - now) * 1e9)};
            nanosleep(&d, NULL);
        }
    }
    double t_prod = mono_s() - t0;
    /* Let the sink catch up (at most 60 s). */
    double t_wait = mono_s();
    while (dcm_journal_pending(j, 0) > 0 && mono_s() - t_wait < 60) {
        struct timespec d = {0, 20000000};
        nanosleep(&d, NULL);
    }
    double wall = mono_s() - t0, cpu = thread_cpu_s(th) - cpu0;
    uint64_t pending = dcm_journal_pending(j, 0);
    dcm_sink_health h;
    st.ops->health(state, &h);
    printf("samples produced   %ld in %.2f s (%.0f/s)\n", produced, t_prod,
           (double)produced / t_prod);
    printf("samples delivered  %llu (pending %llu), drained %.2f s after the last\n",
           (unsigned long long)h.sent, (unsigned long long)pending, mono_s() - t_wait);
    printf("sink thread CPU    %.3f s over %.2f s wall = %.1f%% of one core\n", cpu, wall,
           100.0 * cpu / wall);
    printf("per sample         %.2f us of CPU\n", cpu * 1e6 / (double)produced);
    printf("failures           %llu%s%s\n", (unsigned long long)h.failures,
           h.last_error[0] ? ", last: " : "", h.last_error);
    rc = pending == 0 ? 0 : 1;
fail:
    if (started) {
        atomic_store(&st.stop, true);
        pthread_join(th, NULL);
    }
    if (state)
        st.ops->destroy(state);
    dcm_journal_close(j);
    dcm_config_destroy(cfg);
    dcm_diags_free(&diags);
    dcm_remove_tree(dir);
    return rc;
}
