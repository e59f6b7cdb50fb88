/*
 * http.h - the HTTP API, Prometheus endpoint and live dashboard (libmicrohttpd).
 *
 * Life cycle (session.c): dcm_http_create() binds the socket and starts serving (so a
 * taken port is known before anything else starts); dcm_http_listener() goes into the
 * runtime's listeners; dcm_http_attach() hands over the running runtime (until then the
 * API answers 503); dcm_http_attach(h, NULL) before dcm_runtime_stop(); dcm_http_destroy()
 * after it. Requests are served on libmicrohttpd's own threads; they only read the
 * runtime through its accessors, so a slow or hostile client never delays the pipeline.
 *
 * Ownership: the server borrows cfg and the runtime; it owns its sockets, threads, the
 * event-stream clients and the credentials read from outputs.http.auth_file.
 */
#ifndef DCM_HTTP_H
#define DCM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "dcm/config.h"
#include "outputs/outputs.h"
#include "runtime.h"
#include "session.h"

typedef enum dcm_http_err {
    DCM_HTTP_OK = 0,
    DCM_HTTP_EADDR,    /* the listen address is not address:port */
    DCM_HTTP_EBIND,    /* the address cannot be bound (in use, not local, no permission) */
    DCM_HTTP_EAUTH,    /* auth_file cannot be read or has a bad line (reason logged) */
    DCM_HTTP_ETLS,     /* certificate or key cannot be read, or no TLS in libmicrohttpd */
    DCM_HTTP_ENOMEM,
    DCM_HTTP_ETHREAD,
} dcm_http_err;

const char *dcm_http_strerror(dcm_http_err err);

/* How /api/v1/devices, /metrics and /readyz see the output hub without linking to it:
 * session.c fills this with dcm_outputs_journal_stats and dcm_outputs_sinks. */
typedef struct dcm_http_outputs_view {
    dcm_outputs *outputs; /* NULL: no outputs configured */
    bool (*journal_stats)(dcm_outputs *o, dcm_journal_stats *out);
    size_t (*sinks)(dcm_outputs *o, dcm_outputs_sink_status *out, size_t max);
} dcm_http_outputs_view;

typedef struct dcm_http_options {
    const dcm_config *config;  /* required; outputs.http (may be NULL) gives auth and TLS */
    const char *listen;        /* "addr:port", ":port", "[v6]:port"; NULL: outputs.http.listen
                                  or 127.0.0.1:8080. Port 0 picks a free port. */
} dcm_http_options;

typedef struct dcm_http dcm_http;

/* Binds and starts serving. On failure nothing is left running and, when why is given,
 * it receives a one-line reason ("127.0.0.1:8080: Address already in use"). */
dcm_http_err dcm_http_create(const dcm_http_options *opt, dcm_http **out, char *why,
                             size_t why_size);
/* The listener for the runtime: on_record with instant records (event stream). */
dcm_runtime_listener dcm_http_listener(dcm_http *h);
/* Gives (or, with NULL, takes back) the runtime the API reads. Taking it back waits for
 * requests that are using it. outputs may be NULL. */
void dcm_http_attach(dcm_http *h, dcm_runtime *rt, const dcm_http_outputs_view *outputs);
/* Serves the engine's firing alerts at /api/v1/alerts (borrowed; NULL: none). Call
 * before dcm_http_attach(). */
void dcm_http_set_alerts(dcm_http *h, dcm_alerts *alerts);
/* The same as dcm_http_publish_alert(), shaped as a dcm_alert_notify_fn (ctx: the
 * dcm_http) so it can be given to dcm_alerts_add_notify(). */
void dcm_http_alert_notify(void *ctx, int64_t ts_ns, const char *rule, const char *json);
/* Pushes an `alert` event (json: one complete JSON value, copied) to every event-stream
 * client. Any thread. */
void dcm_http_publish_alert(dcm_http *h, const char *json);
/* "http://127.0.0.1:8080/" (https when TLS is on); owned by h. */
const char *dcm_http_url(const dcm_http *h);
/* Closes every connection, stops the threads and frees h. NULL is fine. */
void dcm_http_destroy(dcm_http *h);

/* session.c's part: builds the server a `run` or `demo` session asked for, registers its
 * listener in ro and its alert notification with alerts, and says where it serves. Returns
 * 0 (*out may stay NULL when opt->http_optional let a taken port pass) or the exit code. */
int dcm_session_http_start(const dcm_session_options *opt, dcm_runtime_options *ro,
                           dcm_alerts *alerts, dcm_http **out);

#endif
