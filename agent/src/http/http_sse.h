/*
 * http_sse.h - the server-sent events hub behind /api/v1/events.
 *
 * Events are rendered once into shared, reference-counted blocks and queued to every
 * client whose filter wants them. Each client's queue is bounded (events and bytes): when
 * a client reads too slowly, new events are dropped for it and counted, so memory never
 * grows with a stalled reader. A client with nothing to send is suspended in
 * libmicrohttpd (no thread, no polling); the hub's thread resumes it when an event
 * arrives or a heartbeat (": ping") is due.
 *
 * Threads: publish functions run on any thread (the pipeline, the alert rules); the read
 * and free callbacks on libmicrohttpd's threads; the hub thread ticks once a second
 * (calling `tick`, which builds the coalesced point event) and on every publish.
 *
 * Ownership: the hub owns its clients and events. A client is created for one connection
 * and freed by the response's free callback (or by dcm_sse_hub_destroy()).
 */
#ifndef DCM_HTTP_SSE_H
#define DCM_HTTP_SSE_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DCM_SSE_QUEUE_EVENTS 256            /* per client */
#define DCM_SSE_QUEUE_BYTES (8u << 20)      /* per client, queued and not yet sent */
#define DCM_SSE_HEARTBEAT_NS (15 * 1000000000LL)
#define DCM_SSE_RETRY_MS 3000

typedef enum dcm_sse_type {
    DCM_SSE_KPI = 0,
    DCM_SSE_POINTS,
    DCM_SSE_ALERT,
    DCM_SSE_PING,
} dcm_sse_type;

/* What a client asked for (query parameters of /api/v1/events). */
typedef struct dcm_sse_filter {
    uint32_t windows; /* KPI windows wanted, bits 1u << dcm_window; 0: no kpi events */
    bool points;
    bool alerts;
} dcm_sse_filter;

typedef struct dcm_sse_hub dcm_sse_hub;
typedef struct dcm_sse_client dcm_sse_client;

/* Called by the hub thread once a second; returns a malloc'd JSON text for a `points`
 * event or NULL when nothing changed. Only called while at least one client wants points. */
typedef char *(*dcm_sse_tick_fn)(void *ctx);

dcm_sse_hub *dcm_sse_hub_create(dcm_sse_tick_fn tick, void *tick_ctx);
/* Stops the hub thread and resumes every suspended client so that the daemon can be
 * stopped (clients then see the end of the stream). Call before MHD_stop_daemon. */
void dcm_sse_hub_close(dcm_sse_hub *hub);
/* Frees whatever clients MHD did not free (call after MHD_stop_daemon) and the hub. */
void dcm_sse_hub_destroy(dcm_sse_hub *hub);

/* A new client for conn; NULL when the client limit is reached or memory ran out. */
dcm_sse_client *dcm_sse_client_create(dcm_sse_hub *hub, struct MHD_Connection *conn,
                                      const dcm_sse_filter *filter, size_t max_clients);
/* MHD content reader and free callbacks for the client's response. */
ssize_t dcm_sse_read(void *cls, uint64_t pos, char *buf, size_t max);
void dcm_sse_free(void *cls);

/* Renders and queues one event (data: one JSON text, no line breaks needed: the JSON
 * writer never emits raw ones). window is used for KPI filtering. Returns false if no
 * client was there to receive it. */
bool dcm_sse_publish(dcm_sse_hub *hub, dcm_sse_type type, int window, const char *data);
/* Whether any client is connected that wants this kind (cheap; lets the pipeline skip
 * rendering). */
bool dcm_sse_wanted(dcm_sse_hub *hub, dcm_sse_type type, int window);

typedef struct dcm_sse_stats {
    uint64_t clients;          /* connected now */
    uint64_t connections;      /* accepted since start */
    uint64_t events;           /* events queued to clients since start */
    uint64_t dropped;          /* events dropped for slow clients since start */
    uint64_t rejected;         /* connections refused at the client limit */
} dcm_sse_stats;

void dcm_sse_hub_stats(dcm_sse_hub *hub, dcm_sse_stats *out);

#endif
