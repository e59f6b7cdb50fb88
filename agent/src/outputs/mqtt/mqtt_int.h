/*
 * mqtt_int.h - the parts of the MQTT sink that do not talk to the network: its options
 * (read from outputs.mqtt), topics and JSON payloads, the window of messages in flight
 * and the reconnect backoff. mqtt_sink.c glues them to Paho; the unit tests use them
 * directly. docs/mqtt.md is the contract for topics and payloads.
 */
#ifndef DCM_MQTT_INT_H
#define DCM_MQTT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/config.h"
#include "outputs/journal.h"
#include "outputs/sink.h"

/* The sink's descriptor (mqtt_sink.c), listed by the hub. */
extern const dcm_sink_ops dcm_mqtt_sink;

/* ---------------------------------------------------------------- options */

#define DCM_MQTT_DEFAULT_MAX_INFLIGHT 200
#define DCM_MQTT_SCHEMA_VERSION "1" /* MQTT 5 user property "schema_version" */

typedef struct dcm_mqtt_options {
    char *url;
    char *prefix;
    char *site;           /* agent.site */
    char *client_id;      /* default dcmetrics-<site> */
    char *username;       /* NULL: none */
    char *password;       /* NULL: none; wiped by dcm_mqtt_options_free */
    char *ca_file, *cert_file, *key_file;
    bool tls;             /* ssl://, mqtts:// or wss:// */
    bool verify;          /* certificate chain and host name; default true */
    int qos;              /* 0..2, default 1 */
    int version;          /* Paho's MQTTVERSION_3_1 (3), _3_1_1 (4) or _5 (5) */
    int keepalive_s;
    size_t max_inflight;
    int64_t point_expiry_ns; /* MQTT 5 message expiry of point samples; 0 = none */
} dcm_mqtt_options;

/* Fills out from the validated outputs.mqtt mapping and the agent config. Returns 0, or
 * -1 with the reason in err (an unreadable password file...; never the secret itself).
 * On success the caller frees out with dcm_mqtt_options_free(). */
int dcm_mqtt_options_load(const dcm_config *cfg, const dcm_node *node, dcm_mqtt_options *out,
                          char *err, size_t err_size);
void dcm_mqtt_options_free(dcm_mqtt_options *o);

/* ------------------------------------------------------ topics, payloads */

#define DCM_MQTT_TOPIC_MAX 512

/* The topic of a journal record: <prefix>/<site>/point/<collector>/<point>,
 * <prefix>/<site>/kpi/<window> or <prefix>/<site>/alert. Characters MQTT reserves
 * ('+', '#', '/' inside a level, control characters) become '_'. Returns the length, or 0
 * when the record has no topic (a point id without '.', an empty key) or it does not fit. */
size_t dcm_mqtt_topic(char *buf, size_t size, const char *prefix, const char *site,
                      const dcm_jrec *rec);
/* <prefix>/<site>/status. Same return. */
size_t dcm_mqtt_status_topic(char *buf, size_t size, const char *prefix, const char *site);

/* A point sample: {"ts","point","value","unit","quality"}; value is null when the sample
 * is invalid or not finite. Returns a malloc'd string (length in *len), NULL if memory ran
 * out. */
char *dcm_mqtt_point_payload(const dcm_jrec *rec, size_t *len);

/* A KPI or alert body (a JSON object) with "ts" first when it has no top-level "ts"
 * member, unchanged otherwise. Returns a malloc'd string, or NULL when the body is not a
 * JSON object or memory ran out. */
char *dcm_mqtt_body_payload(const char *body, size_t body_len, int64_t ts_ns, size_t *len);

/* {"ts","status","client_id"}: status is "online" or "offline". */
char *dcm_mqtt_status_payload(const char *status, int64_t ts_ns, const char *client_id,
                              size_t *len);

/* Whether the JSON object text has a top-level member named key: 1 yes, 0 no, -1 when the
 * text is not a well-formed object (only the structure is checked). */
int dcm_mqtt_json_has_member(const char *text, size_t len, const char *key);

/* --------------------------------------------------------- in-flight window */

typedef enum dcm_mqtt_slot_state {
    DCM_MQTT_SLOT_FREE = 0,
    DCM_MQTT_SLOT_SENDING, /* handed to Paho, token not known yet */
    DCM_MQTT_SLOT_SENT,    /* token known, completion awaited */
    DCM_MQTT_SLOT_DONE,    /* confirmed: PUBACK, PUBCOMP, or written for QoS 0 */
    DCM_MQTT_SLOT_FAILED,
} dcm_mqtt_slot_state;

/* One message in flight. Paho's callbacks receive the slot as their context: owner leads
 * back to the sink, and epoch + token tell a current completion from a stale one. */
typedef struct dcm_mqtt_slot {
    void *owner;
    uint64_t seq;
    uint64_t epoch;
    int token;
    dcm_mqtt_slot_state state;
    bool early;       /* the completion came before the token was known */
    bool early_ok;
    int early_token;
} dcm_mqtt_slot;

/* Messages in flight, in the order they were sent (which is journal order). Completions
 * may arrive in any order; `delivered` only moves past a seq once it and everything
 * before it is confirmed. Not thread-safe: the sink holds its lock around every call. */
typedef struct dcm_mqtt_window {
    dcm_mqtt_slot *slots;
    size_t cap;
    uint64_t tail, head; /* send counters: [tail, head) are in flight */
    uint64_t epoch;      /* bumped by reset: older completions are ignored */
    uint64_t delivered;  /* every seq <= delivered is confirmed */
    bool failed;         /* a current message failed: resend from delivered + 1 */
} dcm_mqtt_window;

/* Returns 0, or -1 if memory ran out. delivered: the journal cursor to start from. */
int dcm_mqtt_window_init(dcm_mqtt_window *w, size_t cap, uint64_t delivered, void *owner);
void dcm_mqtt_window_free(dcm_mqtt_window *w);
size_t dcm_mqtt_window_room(const dcm_mqtt_window *w);
size_t dcm_mqtt_window_inflight(const dcm_mqtt_window *w);
/* The next slot for seq (state SENDING), or NULL when the window is full. */
dcm_mqtt_slot *dcm_mqtt_window_reserve(dcm_mqtt_window *w, uint64_t seq);
/* The send call returned token for slot (ignored if the window was reset meanwhile). */
void dcm_mqtt_window_sent(dcm_mqtt_window *w, dcm_mqtt_slot *slot, int token);
/* The send call itself failed: the message (and what follows) must be sent again. */
void dcm_mqtt_window_send_failed(dcm_mqtt_window *w, dcm_mqtt_slot *slot);
/* A completion callback. Returns true when it belonged to a current message. */
bool dcm_mqtt_window_complete(dcm_mqtt_window *w, dcm_mqtt_slot *slot, int token, bool ok);
/* Releases confirmed messages from the front; returns how many. */
size_t dcm_mqtt_window_advance(dcm_mqtt_window *w);
/* Forgets everything in flight (connection lost, a failure): the next message to send is
 * delivered + 1. */
void dcm_mqtt_window_reset(dcm_mqtt_window *w);

/* ------------------------------------------------------------------ backoff */

/* Exponential backoff with "equal jitter": each delay is uniform in [d/2, d], d doubling
 * from min_ns up to max_ns, so many agents that lost the same broker do not come back in
 * step. */
typedef struct dcm_mqtt_backoff {
    int64_t min_ns, max_ns, cur_ns;
    uint64_t rng;
} dcm_mqtt_backoff;

void dcm_mqtt_backoff_init(dcm_mqtt_backoff *b, int64_t min_ns, int64_t max_ns, uint64_t seed);
int64_t dcm_mqtt_backoff_next(dcm_mqtt_backoff *b);
void dcm_mqtt_backoff_reset(dcm_mqtt_backoff *b);

#endif
