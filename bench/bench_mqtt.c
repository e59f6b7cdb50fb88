/*
 * bench_mqtt.c - the MQTT output against a real broker: CPU to publish a given rate of
 * point samples, and the end-to-end latency from a sample's timestamp to its arrival at a
 * subscriber (journal append + commit batching + sink + broker + subscriber).
 *
 * Usage: bench_mqtt URL [RATE] [SECONDS] [QOS] [MAX_INFLIGHT] [VERSION] [--backlog N]
 *   URL      the broker, e.g. tcp://127.0.0.1:1883 (bench/bench_mqtt.sh starts one)
 *   RATE     samples per second, default 10000; SECONDS default 10; QOS default 1;
 *   MAX_INFLIGHT outputs.mqtt.max_inflight, default 200; VERSION 3.1.1 (default) or 5
 *
 * A producer thread appends RATE samples/s to a journal (committed every 10 ms, like the
 * pipeline's batches; fsync at most once a second so the disk does not dominate) and the
 * sink publishes them. A forked subscriber process (Paho too, QoS 1) measures the latency
 * of every message. Reported: samples delivered, CPU of the agent process (sink, Paho's
 * threads and the producer) and of the producer alone, latency p50 / p99 / max.
 *
 * --backlog N replays an outage instead (RATE and SECONDS are then ignored): N samples of
 * 1,000 points, one commit per second of timestamps, are in the journal before the sink
 * starts; reported is the time until the journal has none pending (every record
 * acknowledged by the broker) and until the subscriber has received them all.
 */
#include <MQTTAsync.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dcm/config.h"
#include "fsutil.h"
#include "mqtt_int.h"
#include "outputs/journal.h"
#include "outputs/sink.h"
#include "runtime.h"
#include "timestamp.h"
#include "bench_backlog.h"

#define POINTS 100

static double cpu_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------- subscriber (child) */

typedef struct sub_state {
    double *lat_ms;
    size_t cap;
    atomic_size_t n;
    _Atomic int64_t last_ns; /* realtime of the latest arrival */
} sub_state;

static int on_message(void *ctx, char *topic, int topic_len, MQTTAsync_message *m)
{
    (void)topic_len;
    sub_state *s = ctx;
    int64_t now = dcm_realtime_ns();
    atomic_store(&s->last_ns, now);
    const char *p = m->payload;
    const char *ts = p ? strstr(p, "\"ts\":\"") : NULL;
    if (ts) {
        char buf[64];
        const char *end = strchr(ts + 6, '"');
        size_t len = end ? (size_t)(end - ts - 6) : 0;
        int64_t t = 0;
        if (len && len < sizeof buf) {
            memcpy(buf, ts + 6, len);
            buf[len] = '\0';
            if (dcm_ts_parse(buf, &t) == DCM_TS_OK) {
                size_t i = atomic_fetch_add(&s->n, 1);
                if (i < s->cap)
                    s->lat_ms[i] = (double)(now - t) / 1e6;
            }
        }
    }
    MQTTAsync_freeMessage(&m);
    MQTTAsync_free(topic);
    return 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void on_sub_connected(void *ctx, char *cause)
{
    (void)cause;
    MQTTAsync c = ctx;
    MQTTAsync_subscribe(c, "bench/+/point/#", 1, NULL);
}

/* Subscribes, signals readiness on fd, then counts until `expect` messages or SIGTERM,
 * and writes "n p50 p99 max last_arrival_realtime_ns" to fd. */
static int run_subscriber(const char *url, size_t expect, int fd)
{
    sub_state s = {.cap = expect + 1000};
    s.lat_ms = calloc(s.cap, sizeof *s.lat_ms);
    MQTTAsync c;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    if (!s.lat_ms || MQTTAsync_create(&c, url, "bench-sub", MQTTCLIENT_PERSISTENCE_NONE,
                                      NULL) != MQTTASYNC_SUCCESS)
        return 1;
    MQTTAsync_setCallbacks(c, &s, NULL, on_message, NULL);
    MQTTAsync_setConnected(c, c, on_sub_connected);
    co.cleansession = 1;
    co.keepAliveInterval = 30;
    if (MQTTAsync_connect(c, &co) != MQTTASYNC_SUCCESS)
        return 1;
    sleep(1);
    if (write(fd, "r", 1) != 1)
        return 1;
    size_t last = 0;
    int idle = 0;
    while (atomic_load(&s.n) < expect && idle < 100) {
        usleep(100000);
        size_t n = atomic_load(&s.n);
        idle = n == last ? idle + 1 : 0;
        last = n;
    }
    size_t n = atomic_load(&s.n);
    if (n > s.cap)
        n = s.cap;
    qsort(s.lat_ms, n, sizeof *s.lat_ms, cmp_double);
    char line[160];
    int len = snprintf(line, sizeof line, "%zu %.2f %.2f %.2f %lld\n", n,
                       n ? s.lat_ms[n / 2] : NAN, n ? s.lat_ms[(size_t)((double)n * 0.99)] : NAN,
                       n ? s.lat_ms[n - 1] : NAN, (long long)atomic_load(&s.last_ns));
    int rc = write(fd, line, (size_t)len) == len ? 0 : 1;
    MQTTAsync_destroy(&c);
    free(s.lat_ms);
    return rc;
}

/* ---------------------------------------------------------- agent side (parent) */

typedef struct sink_thread {
    const dcm_sink_ops *ops;
    void *state;
    atomic_bool stop;
} sink_thread;

static void *sink_main(void *arg)
{
    sink_thread *t = arg;
    t->ops->run(t->state, &t->stop);
    return NULL;
}

static int produce(dcm_journal *j, double rate, double seconds, double *cpu)
{
    char names[POINTS][32];
    for (int i = 0; i < POINTS; i++)
        snprintf(names[i], sizeof names[i], "bench.p%03d.power", i);
    double start_cpu = cpu_s(CLOCK_THREAD_CPUTIME_ID);
    int64_t t0 = dcm_monotonic_ns();
    uint64_t made = 0;
    uint64_t total = (uint64_t)(rate * seconds);
    while (made < total) {
        int64_t due = (int64_t)((double)made / rate * 1e9);
        int64_t now = dcm_monotonic_ns() - t0;
        if (now < due) {
            struct timespec ts = {0, (long)(due - now)};
            nanosleep(&ts, NULL);
        }
        /* Every 10 ms: the samples due by now, then one commit. */
        uint64_t upto = (uint64_t)((double)(dcm_monotonic_ns() - t0 + 10000000) / 1e9 * rate);
        if (upto > total)
            upto = total;
        int64_t ts = dcm_realtime_ns();
        for (; made < upto; made++) {
            dcm_jrec r = {.type = DCM_JREC_SAMPLE, .ts_ns = ts, .point = names[made % POINTS],
                          .unit = "W", .value = (double)made * 0.5, .quality = 0};
            if (dcm_journal_append(j, &r) != DCM_JOURNAL_OK)
                return -1;
        }
        if (dcm_journal_commit(j) != DCM_JOURNAL_OK)
            return -1;
    }
    *cpu = cpu_s(CLOCK_THREAD_CPUTIME_ID) - start_cpu;
    return 0;
}

/* The outage replay: the backlog is already in the journal; starts the sink and waits
 * until nothing is pending, then for the subscriber. */
static int drain(dcm_journal *j, sink_thread *st, const dcm_sink_env *env, pthread_t *th,
                 bool *running, uint64_t backlog, int rfd, const char *setting)
{
    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    int64_t real0 = dcm_realtime_ns();
    double w0 = cpu_s(CLOCK_MONOTONIC);
    if (st->ops->create(env, &st->state) != 0 || pthread_create(th, NULL, sink_main, st))
        return 1;
    *running = true;
    while (dcm_journal_pending(j, 0) > 0 && cpu_s(CLOCK_MONOTONIC) - w0 < 600)
        usleep(5000);
    double wall = cpu_s(CLOCK_MONOTONIC) - w0;
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
                 (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
                 (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    uint64_t pending = dcm_journal_pending(j, 0);
    dcm_sink_health h;
    st->ops->health(st->state, &h);
    char line[160] = "";
    ssize_t got = read(rfd, line, sizeof line - 1);
    line[got > 0 ? got : 0] = '\0';
    size_t n = 0;
    double p50 = NAN, p99 = NAN, mx = NAN;
    long long last = 0;
    sscanf(line, "%zu %lf %lf %lf %lld", &n, &p50, &p99, &mx, &last);
    double sub_s = (double)(last - real0) / 1e9;
    printf("backlog %llu samples (%d points, one commit per second), %s: %llu acknowledged, "
           "%llu pending, %zu received\n",
           (unsigned long long)backlog, DCM_BENCH_BACKLOG_POINTS, setting,
           (unsigned long long)h.sent, (unsigned long long)pending, n);
    if (h.failures)
        printf("sink failures: %llu, last error: %s\n", (unsigned long long)h.failures,
               h.last_error);
    printf("drained (none pending) %.2f s after the sink started: %.0f records/s; agent CPU "
           "%.1f%% of one core\n",
           wall, (double)backlog / wall, 100 * cpu / wall);
    printf("subscriber received the last %.2f s after the sink started: %.0f records/s\n",
           sub_s, sub_s > 0 ? (double)n / sub_s : 0.0);
    return pending == 0 && n >= backlog && h.sent >= backlog ? 0 : 1;
}

int main(int argc, char **argv)
{
    uint64_t backlog = 0;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--backlog") == 0) {
            backlog = strtoull(argv[i + 1], NULL, 10);
            for (int k = i; k + 2 <= argc; k++)
                argv[k] = argv[k + 2];
            argc -= 2;
            break;
        }
    }
    if (argc < 2) {
        fprintf(stderr, "usage: bench_mqtt URL [RATE] [SECONDS] [QOS] [MAX_INFLIGHT] [VERSION] "
                        "[--backlog N]\n");
        return 2;
    }
    const char *url = argv[1];
    double rate = argc > 2 ? atof(argv[2]) : 10000;
    double seconds = argc > 3 ? atof(argv[3]) : 10;
    int qos = argc > 4 ? atoi(argv[4]) : 1;
    int inflight = argc > 5 ? atoi(argv[5]) : 200;
    const char *version = argc > 6 ? argv[6] : "3.1.1";
    size_t expect = backlog ? (size_t)backlog : (size_t)(rate * seconds);
    int fds[2];
    char dir[512];
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/bench_mqtt.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (rate <= 0 || seconds <= 0 || qos < 0 || qos > 2 || pipe(fds) != 0 || !mkdtemp(dir)) {
        fprintf(stderr, "bench_mqtt: bad arguments or no temporary directory\n");
        return 2;
    }
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        _exit(run_subscriber(url, expect, fds[1]));
    }
    close(fds[1]);
    char c;
    if (child < 0 || read(fds[0], &c, 1) != 1) {
        fprintf(stderr, "bench_mqtt: the subscriber did not start (broker at %s?)\n", url);
        return 1;
    }

    int rc = 1;
    char yaml[512], jdir[600];
    snprintf(yaml, sizeof yaml,
             "agent: {site: s}\noutputs:\n  mqtt: {url: '%s', prefix: bench, qos: %d, "
             "max_inflight: %d, version: '%s'}\n",
             url, qos, inflight, version);
    snprintf(jdir, sizeof jdir, "%s/journal", dir);
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_config *cfg = NULL;
    dcm_journal *j = NULL;
    const char *sinks[] = {"mqtt"};
    dcm_journal_options jo = {.dir = jdir, .fsync = DCM_JOURNAL_FSYNC_INTERVAL,
                              .sinks = sinks, .sink_count = 1};
    sink_thread st = {.ops = &dcm_mqtt_sink};
    pthread_t th;
    bool running = false;
    if (dcm_config_load_string(yaml, strlen(yaml), "bench", &cfg, &d) != DCM_CONFIG_OK ||
        dcm_journal_open(&jo, &j) != DCM_JOURNAL_OK) {
        dcm_diags_print(&d, stderr);
        goto done;
    }
    dcm_sink_env env = {.config = cfg, .node = cfg->outputs.mqtt, .journal = j,
                        .reader = 0, .state_dir = dir};
    if (backlog) {
        char setting[96];
        snprintf(setting, sizeof setting, "MQTT %s, QoS %d, max_inflight %d", version, qos,
                 inflight);
        if (dcm_bench_backlog_fill(j, backlog) != 0) {
            fprintf(stderr, "bench_mqtt: journal append failed\n");
            goto done;
        }
        rc = drain(j, &st, &env, &th, &running, backlog, fds[0], setting);
        goto done;
    }
    if (st.ops->create(&env, &st.state) != 0 || pthread_create(&th, NULL, sink_main, &st))
        goto done;
    running = true;
    sleep(1); /* connected before the clock starts */

    struct rusage r0, r1;
    getrusage(RUSAGE_SELF, &r0);
    double w0 = cpu_s(CLOCK_MONOTONIC), prod_cpu = 0;
    if (produce(j, rate, seconds, &prod_cpu) != 0) {
        fprintf(stderr, "bench_mqtt: journal append failed\n");
        goto done;
    }
    for (int i = 0; i < 200 && dcm_journal_pending(j, 0) > 0; i++)
        usleep(50000);
    double wall = cpu_s(CLOCK_MONOTONIC) - w0;
    getrusage(RUSAGE_SELF, &r1);
    double cpu = (double)(r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) +
                 (double)(r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) +
                 (double)(r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) / 1e6 +
                 (double)(r1.ru_stime.tv_usec - r0.ru_stime.tv_usec) / 1e6;
    dcm_sink_health h;
    st.ops->health(st.state, &h);

    char line[160] = "";
    ssize_t got = read(fds[0], line, sizeof line - 1);
    line[got > 0 ? got : 0] = '\0';
    size_t n = 0;
    double p50 = NAN, p99 = NAN, mx = NAN;
    sscanf(line, "%zu %lf %lf %lf", &n, &p50, &p99, &mx);
    printf("rate %.0f samples/s for %.0f s, MQTT %s, QoS %d, max_inflight %d: %zu published, "
           "%llu acknowledged, %zu received\n",
           rate, seconds, version, qos, inflight, expect, (unsigned long long)h.sent, n);
    if (h.failures)
        printf("sink failures: %llu, last error: %s\n", (unsigned long long)h.failures,
               h.last_error);
    printf("agent CPU %.1f%% of one core over %.1f s (producer alone %.1f%%, so sink + Paho "
           "%.1f%%)\n",
           100 * cpu / wall, wall, 100 * prod_cpu / wall, 100 * (cpu - prod_cpu) / wall);
    printf("latency sample -> subscriber: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", p50, p99,
           mx);
    rc = n >= expect && h.sent >= expect ? 0 : 1;
done:
    if (running) {
        atomic_store(&st.stop, true);
        pthread_join(th, NULL);
    }
    if (st.state)
        st.ops->destroy(st.state);
    dcm_journal_close(j);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
    if (child > 0) {
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
    }
    dcm_remove_tree(dir);
    return rc;
}
