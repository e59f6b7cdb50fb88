/*
 * influx_http.h - the write request to InfluxDB over libcurl: one easy handle kept for
 * the sink's thread (the connection is reused), gzip request bodies (zlib), connect and
 * total timeouts, no signals, TLS verification on unless the configuration turns it off,
 * and the answer classified (influx_batch.h).
 *
 * curl_global_init() must have run before create (the sink's create does it, on the
 * hub's thread, before the sink's thread starts).
 *
 * Ownership: the client copies every string of its options; a result's message is a
 * copy. One client is used by one thread at a time.
 */
#ifndef DCM_INFLUX_HTTP_H
#define DCM_INFLUX_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "influx_batch.h"
#include "influx_lp.h"

typedef enum dcm_influx_api {
    DCM_INFLUX_V1 = 1, /* POST /write?db=&rp=&precision= ; basic auth */
    DCM_INFLUX_V2,     /* POST /api/v2/write?org=&bucket=&precision= ; Authorization: Token */
} dcm_influx_api;

typedef struct dcm_influx_target {
    const char *url;       /* the server's base URL: http(s)://host:port[/path] */
    dcm_influx_api api;
    const char *database;  /* v1 */
    const char *retention_policy; /* v1, NULL = the database's default */
    const char *org;       /* v2 */
    const char *bucket;    /* v2 */
    dcm_lp_precision precision;
} dcm_influx_target;

/* The write endpoint with its query string (parameters percent-encoded). Returns a
 * malloc'd string, or NULL if memory ran out. */
char *dcm_influx_write_url(const dcm_influx_target *t);

/* The server's error message from a response body: the "error" (1.x) or "message" (2.x)
 * member of a JSON object, else the text itself; control characters become spaces and the
 * result is cut to fit out. */
void dcm_influx_error_message(const char *body, size_t len, char *out, size_t size);

/* A Retry-After header value (delta-seconds or an HTTP date) as a wait from now_s
 * (seconds since the epoch); 0 when it cannot be read or lies in the past. */
int64_t dcm_influx_retry_after_ns(const char *value, int64_t now_s);

typedef struct dcm_influx_http_options {
    dcm_influx_target target;
    const char *token;     /* v2: Authorization: Token <token>; NULL = none */
    const char *username;  /* v1: HTTP basic auth; NULL = none */
    const char *password;
    const char *ca_file;   /* CA bundle (PEM) for https; NULL = the system's */
    bool verify;           /* verify the server's certificate and host name */
    bool gzip;             /* compress request bodies */
    int64_t timeout_ns;    /* whole request; the connect phase gets min(timeout, 5 s) */
    /* When it becomes true, a request under way is abandoned 1.5 s later. May be NULL. */
    const atomic_bool *stop;
} dcm_influx_http_options;

typedef enum dcm_influx_http_err {
    DCM_INFLUX_HTTP_OK = 0,
    DCM_INFLUX_HTTP_ENOMEM,
    DCM_INFLUX_HTTP_ECURL, /* libcurl refused an option (reason logged) */
} dcm_influx_http_err;

const char *dcm_influx_http_strerror(dcm_influx_http_err err);

typedef struct dcm_influx_http dcm_influx_http;

dcm_influx_http_err dcm_influx_http_create(const dcm_influx_http_options *opt,
                                           dcm_influx_http **out);
void dcm_influx_http_destroy(dcm_influx_http *h);

/* The flag the sink's thread is stopped by (set once run() knows it). */
void dcm_influx_http_set_stop(dcm_influx_http *h, const atomic_bool *stop);

/* One POST of body[0..len); fills res (outcome, status, Retry-After, message). */
void dcm_influx_http_send(dcm_influx_http *h, const char *body, size_t len,
                          dcm_influx_result *res);

#endif
