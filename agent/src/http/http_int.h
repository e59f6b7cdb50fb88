/*
 * http_int.h - what the HTTP server's files share: the server object and the handlers.
 */
#ifndef DCM_HTTP_INT_H
#define DCM_HTTP_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "http/http.h"
#include "http/http_auth.h"
#include "http/http_sse.h"
#include "json.h"

#define DCM_HTTP_MAX_CONNECTIONS 256
#define DCM_HTTP_MAX_PER_IP 128
#define DCM_HTTP_MAX_SSE_CLIENTS 128
#define DCM_HTTP_TIMEOUT_S 30
#define DCM_HTTP_SSE_TIMEOUT_S 60

/* A point's latest sample, copied out of the registry (the strings stay owned by the
 * runtime, which outlives every request that holds the attach lock). */
typedef struct dcm_http_point {
    size_t index;
    const char *id, *unit;
    dcm_kind kind;
    double value;  /* in the declared unit */
    int64_t ts_ns;
    dcm_quality quality;
} dcm_http_point;

struct dcm_http {
    const dcm_config *cfg;
    struct MHD_Daemon *daemon;
    dcm_sse_hub *hub;
    dcm_http_auth *auth;
    char *tls_cert, *tls_key;
    char url[160];
    dcm_calendar calendar;

    /* The runtime and outputs: read-locked by every request that uses them. */
    pthread_rwlock_t rt_lock;
    bool rt_lock_ready;
    dcm_runtime *rt;
    dcm_http_outputs_view outputs;
    dcm_alerts *alerts;
    const char *const *zone_names;
    size_t zone_count;

    /* The hub thread's memory of what it last sent per point (by registry index). */
    int64_t *sent_ts;
    size_t sent_cap;

    atomic_ulong requests[6]; /* by status class: 1xx..5xx, [0] unused */
    atomic_ulong auth_failures;
};

/* A response ready to queue: body (malloc'd, or static when body_static) and headers. */
typedef struct dcm_http_reply {
    unsigned status;
    char *body;
    size_t len;
    bool body_static;
    const char *content_type;
    const char *cache_control;
    const char *etag;
    const char *allow;
} dcm_http_reply;

/* {"error": msg} with the status. */
void dcm_http_error(dcm_http_reply *r, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Handlers: fill r. Called with rt_lock held for reading (h->rt may still be NULL: the
 * runtime is not attached yet). args is the request's query (MHD_GET_ARGUMENT_KIND). */
void dcm_http_api_kpi(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r);
void dcm_http_api_points(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r);
void dcm_http_api_devices(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r);
void dcm_http_api_healthz(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r);
void dcm_http_api_alerts(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r);
void dcm_http_api_readyz(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r);
void dcm_http_metrics(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r);

/* Copies every point (sorted by id when sorted is set). Returns the count; *out is
 * malloc'd (NULL when there are none or memory ran out: *oom says which). */
size_t dcm_http_points_copy(dcm_http *h, dcm_http_point **out, bool sorted, bool *oom);
/* Writes one point object: {"id","collector","point","value","unit","ts","quality","kind"}. */
void dcm_http_point_json(dcm_http *h, dcm_json *j, const dcm_http_point *p);
/* The coalesced `points` event (hub thread). */
char *dcm_http_points_event(void *ctx);

#endif
