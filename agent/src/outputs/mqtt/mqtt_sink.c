/*
 * mqtt_sink.c - the MQTT output: journal records -> Paho MQTTAsync publishes.
 *
 * Delivery: the run thread reads the journal after the last seq it handed to Paho and
 * keeps at most max_inflight messages in flight (dcm_mqtt_window). A record counts as
 * delivered on PUBACK (QoS 1), PUBCOMP (QoS 2) or a completed write (QoS 0); the journal
 * cursor only moves to the highest seq below which everything is delivered. Paho keeps
 * its in-flight state in memory only, so every (re)connection is a clean session and the
 * sink itself resends from cursor + 1: at least once, in journal order, before new data.
 *
 * Threads and locks: Paho calls back on its own threads; each callback only takes
 * s->lock for a few assignments. The run thread never calls Paho while holding s->lock,
 * so the two libraries' locks are never taken in opposite orders. Reconnecting is the run
 * thread's job (Paho's automatic reconnect is off) so that the backoff is ours and no
 * callback ever races a reconnect we did not ask for.
 */
#include <MQTTAsync.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dcm/log.h"
#include "mqtt_int.h"
#include "outputs/sink.h"
#include "runtime.h"

#define TAG "mqtt"
#define BATCH 256
#define BACKOFF_MIN_NS (500 * INT64_C(1000000))
#define BACKOFF_MAX_NS (10 * DCM_NS_PER_S)
#define ACK_EVERY_NS (200 * INT64_C(1000000))
#define DRAIN_NS (1000 * INT64_C(1000000))

typedef struct mqtt_sink {
    dcm_mqtt_options opt;
    char *uri;  /* opt.url with mqtt:// and mqtts:// spelt as Paho's tcp:// and ssl:// */
    dcm_journal *journal;
    size_t reader;
    MQTTAsync client;
    bool client_made;
    MQTTProperties props_point, props_other; /* MQTT 5 only */
    char status_topic[DCM_MQTT_TOPIC_MAX];
    char *will;
    size_t will_len;
    dcm_mqtt_backoff backoff; /* run thread only */

    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* Guarded by lock. */
    dcm_mqtt_window win;
    bool up, connecting, disconnecting;
    uint64_t connects;
    dcm_sink_health health;
} mqtt_sink;

/* "<what>: <detail>" into last_error (the caller holds the lock). */
static void set_error(mqtt_sink *s, const char *what, const char *detail)
{
    snprintf(s->health.last_error, sizeof s->health.last_error, "%s%s%s", what,
             detail ? ": " : "", detail ? detail : "");
}

static void wait_cond(mqtt_sink *s, int64_t ns)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t t = (int64_t)ts.tv_sec * DCM_NS_PER_S + ts.tv_nsec + ns;
    ts.tv_sec = (time_t)(t / DCM_NS_PER_S);
    ts.tv_nsec = (long)(t % DCM_NS_PER_S);
    pthread_cond_timedwait(&s->cond, &s->lock, &ts);
}

/* ------------------------------------------------------------ Paho callbacks */

static void connected(mqtt_sink *s)
{
    pthread_mutex_lock(&s->lock);
    s->up = true;
    s->connecting = false;
    s->connects++;
    s->health.connected = true;
    dcm_mqtt_window_reset(&s->win);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void connect_failed(mqtt_sink *s, int code, const char *message)
{
    pthread_mutex_lock(&s->lock);
    s->connecting = false;
    s->health.failures++;
    /* Paho's messages name the broker and the TLS problem, never the credentials. */
    set_error(s, "connect failed", message ? message : MQTTAsync_strerror(code));
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void on_connect_ok(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    connected(ctx);
}

static void on_connect_ok5(void *ctx, MQTTAsync_successData5 *r)
{
    (void)r;
    connected(ctx);
}

static void on_connect_fail(void *ctx, MQTTAsync_failureData *r)
{
    connect_failed(ctx, r ? r->code : 0, r ? r->message : NULL);
}

static void on_connect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
    const char *reason = r && r->reasonCode ? MQTTReasonCode_toString(r->reasonCode) : NULL;
    connect_failed(ctx, r ? r->code : 0, r && r->message ? r->message : reason);
}

static void on_lost(void *ctx, char *cause)
{
    (void)cause;
    mqtt_sink *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->up = false;
    s->health.connected = false;
    s->health.failures++;
    set_error(s, "connection lost", NULL);
    /* What was in flight may or may not have arrived: forget it, resend from the cursor. */
    dcm_mqtt_window_reset(&s->win);
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void publish_done(dcm_mqtt_slot *slot, int token, bool ok, const char *why)
{
    mqtt_sink *s = slot->owner;
    pthread_mutex_lock(&s->lock);
    if (dcm_mqtt_window_complete(&s->win, slot, token, ok) && !ok) {
        s->health.failures++;
        set_error(s, "publish refused", why);
    }
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void on_pub_ok(void *ctx, MQTTAsync_successData *r)
{
    publish_done(ctx, r ? r->token : 0, true, NULL);
}

static void on_pub_ok5(void *ctx, MQTTAsync_successData5 *r)
{
    publish_done(ctx, r ? r->token : 0, true, NULL);
}

static void on_pub_fail(void *ctx, MQTTAsync_failureData *r)
{
    publish_done(ctx, r ? r->token : 0, false, r && r->message ? r->message : "failure");
}

static void on_pub_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
    const char *why = r && r->reasonCode ? MQTTReasonCode_toString(r->reasonCode) : "failure";
    publish_done(ctx, r ? r->token : 0, false, r && r->message ? r->message : why);
}

static void on_disconnected(void *ctx, MQTTAsync_successData *r)
{
    (void)r;
    mqtt_sink *s = ctx;
    pthread_mutex_lock(&s->lock);
    s->disconnecting = false;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void on_disconnected5(void *ctx, MQTTAsync_successData5 *r)
{
    (void)r;
    on_disconnected(ctx, NULL);
}

static void on_disconnect_fail(void *ctx, MQTTAsync_failureData *r)
{
    (void)r;
    on_disconnected(ctx, NULL);
}

static void on_disconnect_fail5(void *ctx, MQTTAsync_failureData5 *r)
{
    (void)r;
    on_disconnected(ctx, NULL);
}

static int on_tls_error(const char *str, size_t len, void *u)
{
    mqtt_sink *s = u;
    pthread_mutex_lock(&s->lock);
    snprintf(s->health.last_error, sizeof s->health.last_error, "TLS: %.*s",
             (int)(len > 120 ? 120 : len), str);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

/* ------------------------------------------------------------ run thread side */

static int start_connect(mqtt_sink *s)
{
    int rc;
    MQTTAsync_connectOptions co = MQTTAsync_connectOptions_initializer;
    MQTTAsync_connectOptions co5 = MQTTAsync_connectOptions_initializer5;
    MQTTAsync_willOptions will = MQTTAsync_willOptions_initializer;
    MQTTAsync_SSLOptions ssl = MQTTAsync_SSLOptions_initializer;
    bool v5 = s->opt.version == 5;
    if (v5) {
        co = co5;
        co.cleanstart = 1;
        co.onSuccess5 = on_connect_ok5;
        co.onFailure5 = on_connect_fail5;
        co.willProperties = &s->props_other;
    } else {
        co.cleansession = 1;
        co.onSuccess = on_connect_ok;
        co.onFailure = on_connect_fail;
    }
    co.MQTTVersion = s->opt.version;
    co.keepAliveInterval = s->opt.keepalive_s;
    co.connectTimeout = 10;
    co.maxInflight = (int)s->opt.max_inflight;
    co.automaticReconnect = 0;
    co.context = s;
    co.username = s->opt.username;
    co.password = s->opt.password;

    /* The will says when this connection started: a subscriber that sees "offline" knows
     * since when nothing can have come from this agent. */
    free(s->will);
    s->will = dcm_mqtt_status_payload("offline", dcm_realtime_ns(), s->opt.client_id,
                                      &s->will_len);
    if (!s->will)
        return MQTTASYNC_FAILURE;
    will.topicName = s->status_topic;
    will.payload.data = s->will;
    will.payload.len = (int)s->will_len;
    will.retained = 1;
    will.qos = 1;
    co.will = &will;

    if (s->opt.tls) {
        ssl.trustStore = s->opt.ca_file;
        ssl.keyStore = s->opt.cert_file;
        ssl.privateKey = s->opt.key_file;
        ssl.enableServerCertAuth = s->opt.verify;
        ssl.verify = s->opt.verify; /* host name: Paho's default is off */
        ssl.ssl_error_cb = on_tls_error;
        ssl.ssl_error_context = s;
        co.ssl = &ssl;
    }
    pthread_mutex_lock(&s->lock);
    s->connecting = true;
    pthread_mutex_unlock(&s->lock);
    rc = MQTTAsync_connect(s->client, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        pthread_mutex_lock(&s->lock);
        s->connecting = false;
        s->health.failures++;
        set_error(s, "connect", MQTTAsync_strerror(rc));
        pthread_mutex_unlock(&s->lock);
    }
    return rc;
}

/* Fire and forget (QoS 1, retained): the status is not journalled, only current. */
static int publish_status(mqtt_sink *s, const char *status, MQTTAsync_token *token)
{
    size_t len;
    char *payload = dcm_mqtt_status_payload(status, dcm_realtime_ns(), s->opt.client_id, &len);
    if (!payload)
        return MQTTASYNC_FAILURE;
    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    msg.payload = payload;
    msg.payloadlen = (int)len;
    msg.qos = 1;
    msg.retained = 1;
    if (s->opt.version == 5)
        msg.properties = s->props_other;
    int rc = MQTTAsync_sendMessage(s->client, s->status_topic, &msg, &ro);
    if (token)
        *token = ro.token;
    free(payload);
    return rc;
}

typedef enum pub_result { PUB_OK, PUB_FULL, PUB_STALE, PUB_FAILED } pub_result;

/* Hands one record to Paho under the window epoch the caller started from; a different
 * epoch means the connection changed meanwhile and the caller must rewind first. */
static pub_result publish_record(mqtt_sink *s, const dcm_jrec *rec, uint64_t epoch)
{
    char topic[DCM_MQTT_TOPIC_MAX];
    size_t len = 0;
    char *payload = NULL;
    bool skip = false;
    size_t tl = dcm_mqtt_topic(topic, sizeof topic, s->opt.prefix, s->opt.site, rec);
    if (!tl) {
        skip = true;
    } else if (rec->type == DCM_JREC_SAMPLE) {
        payload = dcm_mqtt_point_payload(rec, &len);
    } else if (!rec->body || dcm_mqtt_json_has_member(rec->body, rec->body_len, "ts") < 0) {
        skip = true;
    } else {
        payload = dcm_mqtt_body_payload(rec->body, rec->body_len, rec->ts_ns, &len);
    }

    pthread_mutex_lock(&s->lock);
    if (s->win.epoch != epoch || !s->up) {
        pthread_mutex_unlock(&s->lock);
        free(payload);
        return PUB_STALE;
    }
    dcm_mqtt_slot *slot = dcm_mqtt_window_reserve(&s->win, rec->seq);
    if (!slot) {
        pthread_mutex_unlock(&s->lock);
        free(payload);
        return PUB_FULL;
    }
    if (skip) {
        /* A record no topic or payload can be made of would stall the journal forever:
         * it is passed over, counted and logged. */
        dcm_mqtt_window_sent(&s->win, slot, 0);
        dcm_mqtt_window_complete(&s->win, slot, 0, true);
        s->health.failures++;
        set_error(s, "record without a topic or a JSON object body skipped", NULL);
        pthread_mutex_unlock(&s->lock);
        dcm_log_limited(DCM_LOG_WARN, TAG, "journal record %llu has no MQTT form: skipped",
                        (unsigned long long)rec->seq);
        return PUB_OK;
    }
    if (!payload) {
        dcm_mqtt_window_send_failed(&s->win, slot);
        set_error(s, "out of memory", NULL);
        pthread_mutex_unlock(&s->lock);
        return PUB_FAILED;
    }
    pthread_mutex_unlock(&s->lock);

    MQTTAsync_message msg = MQTTAsync_message_initializer;
    MQTTAsync_responseOptions ro = MQTTAsync_responseOptions_initializer;
    msg.payload = payload;
    msg.payloadlen = (int)len;
    msg.qos = s->opt.qos;
    msg.retained = rec->type == DCM_JREC_KPI; /* kpi/<window>: the latest stays */
    ro.context = slot;
    if (s->opt.version == 5) {
        msg.properties = rec->type == DCM_JREC_SAMPLE ? s->props_point : s->props_other;
        ro.onSuccess5 = on_pub_ok5;
        ro.onFailure5 = on_pub_fail5;
    } else {
        ro.onSuccess = on_pub_ok;
        ro.onFailure = on_pub_fail;
    }
    int rc = MQTTAsync_sendMessage(s->client, topic, &msg, &ro);
    free(payload);

    pthread_mutex_lock(&s->lock);
    if (rc == MQTTASYNC_SUCCESS) {
        dcm_mqtt_window_sent(&s->win, slot, ro.token);
    } else {
        dcm_mqtt_window_send_failed(&s->win, slot);
        s->health.failures++;
        set_error(s, "publish", MQTTAsync_strerror(rc));
    }
    pthread_mutex_unlock(&s->lock);
    return rc == MQTTASYNC_SUCCESS ? PUB_OK : PUB_FAILED;
}

static void ack(mqtt_sink *s, uint64_t delivered, uint64_t *acked, int64_t *last_ns, bool force)
{
    int64_t now = dcm_monotonic_ns();
    if (delivered <= *acked || (!force && now - *last_ns < ACK_EVERY_NS))
        return;
    /* The cursor file is rewritten per ack: a few times a second is plenty, and what is
     * not yet persisted is merely sent again after a crash. */
    dcm_journal_err e = dcm_journal_ack(s->journal, s->reader, delivered);
    if (e == DCM_JOURNAL_OK)
        *acked = delivered;
    else
        dcm_log_limited(DCM_LOG_WARN, TAG, "cannot persist the delivery cursor: %s",
                        dcm_journal_strerror(e));
    *last_ns = now;
}

/* Lets what is in flight complete (up to DRAIN_NS), says "offline" and disconnects: all
 * within the 2 s the hub gives a sink to stop. */
static void shut_down(mqtt_sink *s, uint64_t *acked, int64_t *last_ack)
{
    int64_t until = dcm_monotonic_ns() + DRAIN_NS;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        size_t n = dcm_mqtt_window_advance(&s->win);
        s->health.sent += n;
        if (n)
            s->health.last_ok_ns = dcm_realtime_ns();
        if (!s->up || dcm_mqtt_window_inflight(&s->win) == 0 || dcm_monotonic_ns() >= until)
            break;
        wait_cond(s, 50 * INT64_C(1000000));
    }
    uint64_t delivered = s->win.delivered;
    bool up = s->up;
    pthread_mutex_unlock(&s->lock);
    ack(s, delivered, acked, last_ack, true);
    if (!up)
        return;
    MQTTAsync_token tok = 0;
    /* A clean disconnect suppresses the will, so the retained status is set by hand. */
    if (publish_status(s, "offline", &tok) == MQTTASYNC_SUCCESS)
        MQTTAsync_waitForCompletion(s->client, tok, 300);
    MQTTAsync_disconnectOptions dc = MQTTAsync_disconnectOptions_initializer;
    dc.timeout = 200;
    dc.context = s;
    if (s->opt.version == 5) {
        dc.onSuccess5 = on_disconnected5;
        dc.onFailure5 = on_disconnect_fail5;
    } else {
        dc.onSuccess = on_disconnected;
        dc.onFailure = on_disconnect_fail;
    }
    pthread_mutex_lock(&s->lock);
    s->disconnecting = true;
    pthread_mutex_unlock(&s->lock);
    if (MQTTAsync_disconnect(s->client, &dc) != MQTTASYNC_SUCCESS)
        return;
    until = dcm_monotonic_ns() + 400 * INT64_C(1000000);
    pthread_mutex_lock(&s->lock);
    while (s->disconnecting && dcm_monotonic_ns() < until)
        wait_cond(s, 50 * INT64_C(1000000));
    s->up = false;
    s->health.connected = false;
    pthread_mutex_unlock(&s->lock);
}

typedef struct run_state {
    uint64_t epoch;      /* window epoch the read position belongs to */
    uint64_t read_after; /* last seq handed to Paho in this epoch */
    uint64_t connects;   /* connections seen: a new one gets "online" */
    uint64_t acked;
    int64_t last_ack;
    int64_t next_attempt;
    bool attempting;
} run_state;

/* Not connected: wait for the attempt under way, or start the next one when due. */
static void reconnect_step(mqtt_sink *s, run_state *r, bool connecting)
{
    int64_t now = dcm_monotonic_ns();
    if (connecting)
        return;
    if (r->attempting) {
        /* The attempt ended without a connection. */
        r->attempting = false;
        int64_t d = dcm_mqtt_backoff_next(&s->backoff);
        r->next_attempt = now + d;
        pthread_mutex_lock(&s->lock);
        char why[sizeof s->health.last_error];
        snprintf(why, sizeof why, "%s", s->health.last_error);
        pthread_mutex_unlock(&s->lock);
        dcm_log_limited(DCM_LOG_WARN, TAG, "%s (%s); retrying in %.1f s", s->uri, why,
                        (double)d / 1e9);
        return;
    }
    if (now < r->next_attempt)
        return;
    if (start_connect(s) == MQTTASYNC_SUCCESS)
        r->attempting = true;
    else
        r->next_attempt = now + dcm_mqtt_backoff_next(&s->backoff);
}

static void nap(int64_t ns, const atomic_bool *stop)
{
    int64_t until = dcm_monotonic_ns() + ns;
    while (!atomic_load(stop) && dcm_monotonic_ns() < until) {
        int64_t left = until - dcm_monotonic_ns();
        struct timespec ts = {0, (long)(left < 50000000 ? (left > 0 ? left : 0) : 50000000)};
        nanosleep(&ts, NULL);
    }
}

static void sink_run(void *state, const atomic_bool *stop)
{
    mqtt_sink *s = state;
    run_state r = {.acked = dcm_journal_cursor(s->journal, s->reader)};
    dcm_jrec *batch = calloc(BATCH, sizeof *batch);
    if (!batch) {
        dcm_log(DCM_LOG_ERROR, TAG, "out of memory: MQTT output stopped");
        return;
    }
    bool was_up = false;
    while (!atomic_load(stop)) {
        pthread_mutex_lock(&s->lock);
        size_t done = dcm_mqtt_window_advance(&s->win);
        s->health.sent += done;
        if (done)
            s->health.last_ok_ns = dcm_realtime_ns();
        uint64_t delivered = s->win.delivered, epoch = s->win.epoch, connects = s->connects;
        bool up = s->up, connecting = s->connecting, failed = s->win.failed;
        size_t room = dcm_mqtt_window_room(&s->win);
        if (!up || room == 0)
            wait_cond(s, 100 * INT64_C(1000000));
        pthread_mutex_unlock(&s->lock);
        ack(s, delivered, &r.acked, &r.last_ack, false);
        if (done)
            dcm_mqtt_backoff_reset(&s->backoff); /* failures are not piling up */

        if (!up) {
            if (was_up)
                dcm_log_limited(DCM_LOG_WARN, TAG,
                                "connection to %s lost; will resend after seq %llu", s->uri,
                                (unsigned long long)delivered);
            was_up = false;
            if (r.attempting || !connecting)
                reconnect_step(s, &r, connecting);
            continue;
        }
        if (!was_up) {
            r.attempting = false;
            dcm_mqtt_backoff_reset(&s->backoff);
            dcm_log(DCM_LOG_INFO, TAG, "connected to %s as %s", s->uri, s->opt.client_id);
        }
        was_up = true;
        if (connects != r.connects) {
            r.connects = connects;
            if (publish_status(s, "online", NULL) != MQTTASYNC_SUCCESS)
                dcm_log_limited(DCM_LOG_WARN, TAG, "cannot publish the online status");
        }
        if (failed) {
            /* The broker refused a message (or Paho could not take it): start again from
             * the cursor after a pause rather than skip it or spin. */
            pthread_mutex_lock(&s->lock);
            dcm_mqtt_window_reset(&s->win);
            pthread_mutex_unlock(&s->lock);
            nap(dcm_mqtt_backoff_next(&s->backoff), stop);
            continue;
        }
        if (epoch != r.epoch) {
            /* New connection or reset: resend, in order, everything after the cursor. */
            r.epoch = epoch;
            r.read_after = delivered;
        }
        if (room == 0)
            continue;
        size_t n = dcm_journal_read(s->journal, s->reader, r.read_after, batch,
                                    room < BATCH ? room : BATCH, 100);
        for (size_t i = 0; i < n; i++) {
            pub_result pr = publish_record(s, &batch[i], epoch);
            if (pr != PUB_OK)
                break;
            r.read_after = batch[i].seq;
        }
    }
    shut_down(s, &r.acked, &r.last_ack);
    free(batch);
}

/* ------------------------------------------------------------ create / destroy */

static int add_string_prop(MQTTProperties *p, int id, const char *name, const char *value)
{
    MQTTProperty prop;
    memset(&prop, 0, sizeof prop);
    prop.identifier = id;
    prop.value.data.data = (char *)name;
    prop.value.data.len = (int)strlen(name);
    if (value) {
        prop.value.value.data = (char *)value;
        prop.value.value.len = (int)strlen(value);
    }
    return MQTTProperties_add(p, &prop); /* copies the strings */
}

/* MQTT 5: every message says it is JSON of schema version N; point samples expire. */
static int build_props(mqtt_sink *s)
{
    MQTTProperties *sets[2] = {&s->props_other, &s->props_point};
    for (int i = 0; i < 2; i++) {
        if (add_string_prop(sets[i], MQTTPROPERTY_CODE_CONTENT_TYPE, "application/json", NULL) ||
            add_string_prop(sets[i], MQTTPROPERTY_CODE_USER_PROPERTY, "schema_version",
                            DCM_MQTT_SCHEMA_VERSION))
            return -1;
    }
    if (s->opt.point_expiry_ns > 0) {
        MQTTProperty exp;
        memset(&exp, 0, sizeof exp);
        exp.identifier = MQTTPROPERTY_CODE_MESSAGE_EXPIRY_INTERVAL;
        exp.value.integer4 = (int)(unsigned)(s->opt.point_expiry_ns / DCM_NS_PER_S);
        if (MQTTProperties_add(&s->props_point, &exp))
            return -1;
    }
    return 0;
}

static char *paho_uri(const char *url)
{
    const char *rest = url;
    const char *scheme = NULL;
    if (strncmp(url, "mqtt://", 7) == 0) {
        scheme = "tcp://";
        rest = url + 7;
    } else if (strncmp(url, "mqtts://", 8) == 0) {
        scheme = "ssl://";
        rest = url + 8;
    }
    if (!scheme)
        return strdup(url);
    size_t n = strlen(scheme) + strlen(rest) + 1;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s%s", scheme, rest);
    return out;
}

static void sink_destroy(void *state);

static int sink_create(const dcm_sink_env *env, void **state)
{
    char err[200] = "";
    mqtt_sink *s = calloc(1, sizeof *s);
    if (!s) {
        dcm_log(DCM_LOG_ERROR, TAG, "out of memory");
        return -1;
    }
    bool locks = false;
    if (dcm_mqtt_options_load(env->config, env->node, &s->opt, err, sizeof err) != 0)
        goto fail;
    if (pthread_mutex_init(&s->lock, NULL) != 0)
        goto fail_sys;
    if (pthread_cond_init(&s->cond, NULL) != 0) {
        pthread_mutex_destroy(&s->lock);
        goto fail_sys;
    }
    locks = true;
    s->journal = env->journal;
    s->reader = env->reader;
    s->uri = paho_uri(s->opt.url);
    if (!s->uri || dcm_mqtt_window_init(&s->win, s->opt.max_inflight,
                                        dcm_journal_cursor(env->journal, env->reader), s) != 0)
        goto fail_mem;
    if (!dcm_mqtt_status_topic(s->status_topic, sizeof s->status_topic, s->opt.prefix,
                               s->opt.site)) {
        snprintf(err, sizeof err, "outputs.mqtt.prefix: topic too long");
        goto fail;
    }
    dcm_mqtt_backoff_init(&s->backoff, BACKOFF_MIN_NS, BACKOFF_MAX_NS,
                          (uint64_t)dcm_realtime_ns() ^ ((uint64_t)getpid() << 32));

    MQTTAsync_createOptions co = MQTTAsync_createOptions_initializer;
    co.MQTTVersion = s->opt.version;
    co.sendWhileDisconnected = 0; /* the journal is the buffer, not Paho's memory */
    /* Paho refuses a publish when this many commands are queued, connected or not: room
     * for the whole window plus the status messages. */
    co.maxBufferedMessages = (int)s->opt.max_inflight + 16;
    int rc = MQTTAsync_createWithOptions(&s->client, s->uri, s->opt.client_id,
                                         MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, sizeof err, "outputs.mqtt.url: %s", MQTTAsync_strerror(rc));
        goto fail;
    }
    s->client_made = true;
    /* Only now: Paho's heap (which MQTTProperties_add allocates from) is set up by the
     * first client, and anything it allocated before would be forgotten. */
    if (s->opt.version == 5 && build_props(s) != 0)
        goto fail_mem;
    rc = MQTTAsync_setConnectionLostCallback(s->client, s, on_lost);
    if (rc != MQTTASYNC_SUCCESS) {
        snprintf(err, sizeof err, "%s", MQTTAsync_strerror(rc));
        goto fail;
    }
    *state = s;
    return 0;
fail_sys:
    snprintf(err, sizeof err, "cannot create a lock");
    goto fail;
fail_mem:
    snprintf(err, sizeof err, "out of memory");
fail:
    dcm_log(DCM_LOG_ERROR, TAG, "%s", err);
    if (!locks) {
        dcm_mqtt_options_free(&s->opt);
        free(s);
        return -1;
    }
    sink_destroy(s);
    return -1;
}

static void sink_health(void *state, dcm_sink_health *out)
{
    mqtt_sink *s = state;
    pthread_mutex_lock(&s->lock);
    *out = s->health;
    pthread_mutex_unlock(&s->lock);
}

static void sink_destroy(void *state)
{
    mqtt_sink *s = state;
    if (!s)
        return;
    /* The properties live in Paho's own heap, which the process's last MQTTAsync_destroy
     * tears down: freed after it, they would leak. Paho copies them into every message
     * and connection, and run() has returned, so nothing uses them now. */
    MQTTProperties_free(&s->props_point);
    MQTTProperties_free(&s->props_other);
    /* Then Paho: after MQTTAsync_destroy no callback can reach the lock or the window. */
    if (s->client_made)
        MQTTAsync_destroy(&s->client);
    dcm_mqtt_window_free(&s->win);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    dcm_mqtt_options_free(&s->opt);
    free(s->uri);
    free(s->will);
    free(s);
}

const dcm_sink_ops dcm_mqtt_sink = {
    .name = "mqtt",
    .create = sink_create,
    .run = sink_run,
    .health = sink_health,
    .destroy = sink_destroy,
};
