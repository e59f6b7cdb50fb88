/* The InfluxDB sink: reads the journal from its cursor, batches, writes, acknowledges. */
#include "influxdb.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <curl/curl.h>

#include "dcm/log.h"
#include "influx_batch.h"
#include "influx_http.h"
#include "runtime.h"
#include "timestamp.h"

#define TAG "influxdb"
#define NS_PER_MS INT64_C(1000000)
#define NS_PER_S INT64_C(1000000000)
#define READ_CHUNK 512
#define QUARANTINE_MAX_BYTES (64u << 20) /* then rotated to .1 (one old file kept) */

typedef struct influx_sink {
    char *site;
    char *token, *password; /* secrets, wiped at destroy */
    dcm_influx_http_options http_opt;
    dcm_influx_http *http;
    dcm_lp_precision precision;
    size_t batch_lines;
    int64_t flush_ns;
    int64_t max_backoff_ns;
    dcm_journal *journal;
    size_t reader;
    char *quarantine_path;
    dcm_influx_batch batch;
    const atomic_bool *stop;
    uint32_t rng;
    /* Episode of failures: logged once when it starts and once when it ends. */
    bool failing;
    long last_status;
    uint64_t failed_attempts;
    pthread_mutex_t lock; /* guards health */
    dcm_sink_health health;
    uint64_t quarantined;
} influx_sink;

/* ------------------------------------------------------------------ config */

static const char *str_of(const dcm_node *map, const char *key)
{
    const char *s = NULL;
    return dcm_node_as_string(dcm_node_get(map, key), &s) ? s : NULL;
}

static char *secret(const dcm_node *node, const char *key, bool *failed)
{
    char err[160];
    char *v = dcm_node_secret(node, key, err, sizeof err);
    if (!v && err[0]) {
        dcm_log(DCM_LOG_ERROR, TAG, "outputs.influxdb.%s: %s", key, err);
        *failed = true;
    }
    return v;
}

static int read_config(influx_sink *s, const dcm_sink_env *env)
{
    const dcm_node *n = env->node;
    dcm_influx_http_options *o = &s->http_opt;
    o->target.url = str_of(n, "url");
    o->target.database = str_of(n, "database");
    o->target.retention_policy = str_of(n, "retention_policy");
    o->target.org = str_of(n, "org");
    o->target.bucket = str_of(n, "bucket");
    o->target.api = o->target.bucket ? DCM_INFLUX_V2 : DCM_INFLUX_V1;
    o->username = str_of(n, "username");
    o->ca_file = str_of(n, "ca_file");
    bool failed = false;
    s->token = secret(n, "token", &failed);
    s->password = secret(n, "password", &failed);
    o->token = s->token;
    o->password = s->password;
    const char *prec = str_of(n, "precision");
    s->precision = DCM_LP_NS;
    if (prec && !dcm_lp_precision_parse(prec, &s->precision)) {
        dcm_log(DCM_LOG_ERROR, TAG, "outputs.influxdb.precision: '%s' is not ns, us, ms or s",
                prec);
        failed = true;
    }
    o->target.precision = s->precision;
    long long lines = 5000;
    dcm_node_as_int(dcm_node_get(n, "batch_lines"), &lines);
    s->batch_lines = lines >= 1 ? (size_t)lines : 1;
    s->flush_ns = NS_PER_S;
    dcm_node_as_duration_ns(dcm_node_get(n, "flush_interval"), &s->flush_ns);
    s->max_backoff_ns = 60 * NS_PER_S;
    dcm_node_as_duration_ns(dcm_node_get(n, "max_backoff"), &s->max_backoff_ns);
    o->timeout_ns = 10 * NS_PER_S;
    dcm_node_as_duration_ns(dcm_node_get(n, "timeout"), &o->timeout_ns);
    o->verify = true;
    dcm_node_as_bool(dcm_node_get(n, "verify"), &o->verify);
    o->gzip = true;
    dcm_node_as_bool(dcm_node_get(n, "gzip"), &o->gzip);
    if (!o->target.url || (!o->target.database && !o->target.bucket)) {
        dcm_log(DCM_LOG_ERROR, TAG,
                "outputs.influxdb needs url and database (1.x) or bucket (2.x)");
        failed = true;
    }
    if (!o->verify)
        dcm_log(DCM_LOG_WARN, TAG, "TLS certificate verification is off (outputs.influxdb.verify)");
    return failed ? -1 : 0;
}

/* ------------------------------------------------------------------ health */

static void set_health(influx_sink *s, const dcm_influx_result *res, size_t delivered)
{
    pthread_mutex_lock(&s->lock);
    if (res->outcome == DCM_INFLUX_OK) {
        s->health.connected = true;
        s->health.sent += delivered;
        s->health.last_ok_ns = dcm_realtime_ns();
    } else {
        /* A server that answers (even 401) is connected; a transport error is not. */
        s->health.connected = res->status != 0;
        s->health.failures++;
        snprintf(s->health.last_error, sizeof s->health.last_error, "%.*s",
                 (int)sizeof s->health.last_error - 1, res->message);
    }
    pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------------ callbacks */

static void cb_send(void *ctx, const char *body, size_t len, dcm_influx_result *res)
{
    influx_sink *s = ctx;
    dcm_influx_http_send(s->http, body, len, res);
}

static void cb_delivered(void *ctx, size_t n)
{
    influx_sink *s = ctx;
    dcm_influx_result ok = {.outcome = DCM_INFLUX_OK};
    set_health(s, &ok, n);
    if (s->failing) {
        dcm_log(DCM_LOG_INFO, TAG, "writes resumed after %llu failed attempts",
                (unsigned long long)s->failed_attempts);
        s->failing = false;
        s->failed_attempts = 0;
    }
}

static void cb_ack(void *ctx, uint64_t seq)
{
    influx_sink *s = ctx;
    dcm_journal_err e = dcm_journal_ack(s->journal, s->reader, seq);
    if (e != DCM_JOURNAL_OK)
        dcm_log_limited(DCM_LOG_ERROR, TAG,
                        "journal ack failed: %s (the records will be sent again)",
                        dcm_journal_strerror(e));
}

/* Appends, fsyncs: a quarantined line is acknowledged only once it is on disk. */
static int cb_quarantine(void *ctx, const char *line, size_t len, uint64_t seq,
                         const dcm_influx_result *res)
{
    influx_sink *s = ctx;
    struct stat st;
    if (stat(s->quarantine_path, &st) == 0 && (uint64_t)st.st_size > QUARANTINE_MAX_BYTES) {
        char old[4096];
        snprintf(old, sizeof old, "%s.1", s->quarantine_path);
        if (rename(s->quarantine_path, old) != 0)
            dcm_log_limited(DCM_LOG_WARN, TAG, "cannot rotate %s: %s", s->quarantine_path,
                            strerror(errno));
    }
    int fd = open(s->quarantine_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
        dcm_log_limited(DCM_LOG_ERROR, TAG, "cannot open %s: %s", s->quarantine_path,
                        strerror(errno));
        return -1;
    }
    char when[DCM_TS_RFC3339_MAX];
    dcm_ts_format_rfc3339(dcm_realtime_ns(), NULL, when, sizeof when);
    char head[512];
    int hn = snprintf(head, sizeof head, "# %s seq=%llu %s\n", when, (unsigned long long)seq,
                      res->message);
    if (hn < 0 || (size_t)hn >= sizeof head) {
        hn = (int)sizeof head - 1;
        head[hn - 1] = '\n';
    }
    bool ok = write(fd, head, (size_t)hn) == hn && write(fd, line, len) == (ssize_t)len &&
              fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        dcm_log_limited(DCM_LOG_ERROR, TAG, "cannot write %s: %s", s->quarantine_path,
                        strerror(saved));
        return -1;
    }
    s->quarantined++;
    dcm_log_limited(DCM_LOG_WARN, TAG, "the server refused a line (%s); it is kept in %s",
                    res->message, s->quarantine_path);
    return 0;
}

static uint32_t next_rand(influx_sink *s)
{
    /* xorshift32: jitter only, not security. */
    uint32_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return s->rng = x ? x : 0x9E3779B9u;
}

static bool cb_wait(void *ctx, const dcm_influx_result *res, unsigned attempt)
{
    influx_sink *s = ctx;
    set_health(s, res, 0);
    int64_t delay = dcm_influx_retry_delay_ns(res, attempt, next_rand(s), s->max_backoff_ns);
    s->failed_attempts++;
    double secs = (double)delay / 1e9;
    /* Loud at the start of an episode and whenever the answer changes (401 -> 403),
     * rate-limited while it stays the same. */
    bool news = !s->failing || res->status != s->last_status;
    void (*say)(dcm_log_level, const char *, const char *, ...) =
        news ? dcm_log : dcm_log_limited;
    if (res->outcome == DCM_INFLUX_DENIED)
        say(DCM_LOG_ERROR, TAG,
            "the server refused the credentials (%s): check outputs.influxdb username/password "
            "or token; data is kept in the journal, retrying every %.0f s",
            res->message, secs);
    else if (res->outcome == DCM_INFLUX_NOT_FOUND)
        say(DCM_LOG_ERROR, TAG,
            "the server has no such database or bucket (%s); data is kept in the journal, "
            "retrying every %.0f s",
            res->message, secs);
    else
        say(DCM_LOG_WARN, TAG,
            "write failed (%s); data is kept in the journal, retrying in %.1f s",
            res->message, secs);
    s->last_status = res->status;
    s->failing = true;
    int64_t until = dcm_monotonic_ns() + delay;
    while (!atomic_load(s->stop)) {
        int64_t left = until - dcm_monotonic_ns();
        if (left <= 0)
            return true;
        struct timespec ts = {0, (long)(left < 100 * NS_PER_MS ? left : 100 * NS_PER_MS)};
        nanosleep(&ts, NULL);
    }
    return false;
}

/* ------------------------------------------------------------------ sink ops */

static void sink_destroy(void *state);

static int sink_create(const dcm_sink_env *env, void **state)
{
    *state = NULL;
    influx_sink *s = calloc(1, sizeof *s);
    if (!s) {
        dcm_log(DCM_LOG_ERROR, TAG, "out of memory");
        return -1;
    }
    pthread_mutex_init(&s->lock, NULL);
    dcm_influx_batch_init(&s->batch);
    /* Reference-counted by libcurl; called here, on the hub's thread, before ours starts. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        dcm_log(DCM_LOG_ERROR, TAG, "libcurl failed to initialise");
        free(s);
        return -1;
    }
    s->journal = env->journal;
    s->reader = env->reader;
    s->rng = (uint32_t)dcm_realtime_ns() ^ (uint32_t)getpid();
    const char *site = env->config && env->config->agent.site ? env->config->agent.site : "site";
    size_t qlen =
        strlen(env->state_dir ? env->state_dir : ".") + sizeof DCM_INFLUX_QUARANTINE_FILE + 2;
    if (!(s->site = strdup(site)) || !(s->quarantine_path = malloc(qlen))) {
        dcm_log(DCM_LOG_ERROR, TAG, "out of memory");
        goto fail;
    }
    snprintf(s->quarantine_path, qlen, "%s/%s", env->state_dir ? env->state_dir : ".",
             DCM_INFLUX_QUARANTINE_FILE);
    if (read_config(s, env) != 0)
        goto fail;
    dcm_influx_http_err he = dcm_influx_http_create(&s->http_opt, &s->http);
    if (he != DCM_INFLUX_HTTP_OK) {
        dcm_log(DCM_LOG_ERROR, TAG, "cannot set up the HTTP client: %s",
                dcm_influx_http_strerror(he));
        goto fail;
    }
    static const char *const precisions[] = {"ns", "us", "ms", "s"};
    dcm_log(DCM_LOG_INFO, TAG, "writing to %s (%s, %s precision, batches of %zu lines)",
            s->http_opt.target.url,
            s->http_opt.target.api == DCM_INFLUX_V1 ? "1.x /write" : "/api/v2/write",
            precisions[s->precision], s->batch_lines);
    *state = s;
    return 0;
fail:
    sink_destroy(s);
    return -1;
}

static void flush_batch(influx_sink *s)
{
    const dcm_influx_deliver_ops ops = {
        .send = cb_send, .quarantine = cb_quarantine, .ack = cb_ack, .wait = cb_wait,
        .delivered = cb_delivered, .ctx = s,
    };
    dcm_influx_deliver(&s->batch, &ops);
}

static void sink_run(void *state, const atomic_bool *stop)
{
    influx_sink *s = state;
    s->stop = stop;
    dcm_influx_http_set_stop(s->http, stop);
    uint64_t after = dcm_journal_cursor(s->journal, s->reader);
    s->batch.last_seq = after;
    dcm_jrec *recs;
    while (!(recs = calloc(READ_CHUNK, sizeof *recs))) {
        /* A sink never gives up: the records wait in the journal meanwhile. */
        dcm_log_limited(DCM_LOG_ERROR, TAG, "out of memory; retrying");
        dcm_influx_result oom = {.outcome = DCM_INFLUX_LOCAL, .message = "out of memory"};
        if (!cb_wait(s, &oom, 1))
            return;
    }
    while (!atomic_load(stop)) {
        int64_t now = dcm_monotonic_ns();
        bool empty = dcm_influx_batch_empty(&s->batch);
        if (!empty &&
            (s->batch.count >= s->batch_lines || now - s->batch.opened_ns >= s->flush_ns)) {
            flush_batch(s);
            continue;
        }
        int wait_ms = 100;
        if (!empty) {
            int64_t left = (s->batch.opened_ns + s->flush_ns - now) / NS_PER_MS;
            wait_ms = left < 1 ? 1 : left < 100 ? (int)left : 100;
        }
        size_t room = s->batch_lines - s->batch.count;
        size_t max = room < READ_CHUNK ? room : READ_CHUNK;
        size_t n = dcm_journal_read(s->journal, s->reader, after, recs, max, wait_ms);
        for (size_t i = 0; i < n; i++) {
            if (!dcm_influx_batch_add(&s->batch, s->site, &recs[i], s->precision, now)) {
                /* Out of memory: send what is batched; the record is read again later. */
                dcm_log_limited(DCM_LOG_ERROR, TAG, "out of memory while batching; retrying");
                if (dcm_influx_batch_empty(&s->batch)) {
                    struct timespec ts = {0, 100 * NS_PER_MS};
                    nanosleep(&ts, NULL);
                } else {
                    s->batch.opened_ns = 1; /* due now */
                }
                break;
            }
            after = recs[i].seq;
        }
    }
    /* Shutting down: one last attempt while the server is answering (the request is
     * abandoned 1.5 s after the stop); whatever is left is sent after the next start. */
    pthread_mutex_lock(&s->lock);
    bool connected = s->health.connected;
    pthread_mutex_unlock(&s->lock);
    if (connected && !dcm_influx_batch_empty(&s->batch))
        flush_batch(s);
    free(recs);
}

static void sink_health(void *state, dcm_sink_health *out)
{
    influx_sink *s = state;
    pthread_mutex_lock(&s->lock);
    *out = s->health;
    pthread_mutex_unlock(&s->lock);
}

static void wipe_free(char *p)
{
    if (p) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

static void sink_destroy(void *state)
{
    influx_sink *s = state;
    if (!s)
        return;
    dcm_influx_http_destroy(s->http);
    dcm_influx_batch_free(&s->batch);
    wipe_free(s->token);
    wipe_free(s->password);
    free(s->site);
    free(s->quarantine_path);
    pthread_mutex_destroy(&s->lock);
    free(s);
    curl_global_cleanup();
}

const dcm_sink_ops dcm_influxdb_sink = {
    .name = "influxdb",
    .create = sink_create,
    .run = sink_run,
    .health = sink_health,
    .destroy = sink_destroy,
};
