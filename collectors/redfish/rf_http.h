/*
 * rf_http.h - HTTP(S) transfers over one libcurl multi handle: many requests in flight on
 * the calling thread, each with its own deadline, a bounded response body, and the two
 * response headers Redfish sessions need (X-Auth-Token, Location).
 *
 * Ownership: rf_http owns every rf_req; a request handed to the done callback is reused
 * after the callback returns (copy what you need). Credentials are given to libcurl,
 * which copies them; they are never logged.
 */
#ifndef DCM_RF_HTTP_H
#define DCM_RF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rf_doc.h"

#define RF_BODY_MAX (2u * 1024u * 1024u)
#define RF_TOKEN_MAX 512

typedef struct rf_http rf_http;

/* How to reach one service. */
typedef struct rf_endpoint {
    const char *base_url;  /* "https://host:port" */
    const char *username;  /* basic auth when basic is true */
    const char *password;
    bool basic;
    const char *token;     /* X-Auth-Token, or NULL */
    const char *ca_file;   /* NULL: the system store */
    bool verify;
} rf_endpoint;

typedef struct rf_req {
    /* what the caller asked for, handed back */
    void *owner;
    int purpose;
    int a, b;
    char path[RF_PATH_MAX];
    /* the outcome */
    bool transport_ok;     /* a complete HTTP response arrived */
    long status;           /* HTTP status (0 without a response) */
    char error[256];       /* transport error text, "" when transport_ok */
    bool timed_out;        /* no complete answer before the transfer's deadline */
    char *body;            /* NUL-terminated, len bytes */
    size_t len;
    bool too_big;          /* the body went over RF_BODY_MAX: transfer aborted */
    char token[RF_TOKEN_MAX];     /* X-Auth-Token response header, "" if none */
    char location[RF_PATH_MAX];   /* Location response header, "" if none */
    int64_t elapsed_ns;
    /* private */
    void *easy;
    struct curl_slist *headers;
    size_t cap;
    int64_t started;
    bool active;
} rf_req;

typedef void (*rf_req_done)(void *ud, rf_req *req);

/* parallel: most transfers at once; keep: connections kept open between rounds. NULL when
 * memory or libcurl runs out. Calls curl_global_init (reference-counted by libcurl). */
rf_http *rf_http_create(int parallel, size_t keep);
void rf_http_destroy(rf_http *h);

/* Starts method (GET, POST, DELETE) on ep->base_url + path with an optional JSON body,
 * limited to timeout_ms. Returns false when it could not start (out of memory): nothing
 * is called back then. */
bool rf_http_start(rf_http *h, const rf_endpoint *ep, const char *method, const char *path,
                   const char *body, int64_t timeout_ms, void *owner, int purpose, int a,
                   int b);

/* Runs until no transfer is left or the monotonic deadline passes. done is called for
 * each finished transfer and may start new ones. Transfers still running at the deadline
 * are stopped and handed to done with transport_ok false and error "deadline". */
void rf_http_run(rf_http *h, int64_t deadline_mono_ns, rf_req_done done, void *ud);

/* Transfers in flight. */
size_t rf_http_active(const rf_http *h);

#endif /* DCM_RF_HTTP_H */
