/* Many HTTP(S) transfers on one thread with libcurl's multi interface. */
#include "rf_http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "grow.h"
#include "runtime.h"

#define NS_PER_MS INT64_C(1000000)
#define POLL_SLICE_MS 100

/* A transfer waiting for a free slot: at most `parallel` easy handles exist, so a round
 * of thousands of requests costs thousands of these small records, not easy handles. */
typedef struct pending {
    rf_endpoint ep;           /* strings borrowed from the BMC's spec, except the token */
    char token[RF_TOKEN_MAX];
    char method[8];
    char path[RF_PATH_MAX];
    char *body;               /* owned */
    int64_t deadline;         /* monotonic */
    void *owner;
    int purpose, a, b;
} pending;

struct rf_http {
    CURLM *multi;
    rf_req **reqs; /* stable addresses: requests are handed out by pointer */
    size_t count, cap;
    size_t active;
    size_t parallel;
    pending *queue;            /* FIFO: [head, tail) */
    size_t head, tail, qcap;
    bool in_run;               /* inside rf_http_run: new requests continue a BMC's work */
    bool global;
};

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    rf_req *r = ud;
    size_t add = size * n;
    if (r->len + add > RF_BODY_MAX) {
        r->too_big = true;
        return 0; /* aborts the transfer */
    }
    if (r->len + add + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->len + add + 1)
            cap *= 2;
        char *grown = realloc(r->body, cap);
        if (!grown)
            return 0;
        r->body = grown;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, add);
    r->len += add;
    r->body[r->len] = '\0';
    return add;
}

/* Copies the value of header `name` from a header line, trimmed. */
static void header_value(const char *line, size_t n, const char *name, char *out, size_t size)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    size_t len = (size_t)(end - v);
    if (len >= size)
        return; /* longer than any sane token or path: ignored, login then fails */
    memcpy(out, v, len);
    out[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    rf_req *r = ud;
    size_t len = size * n;
    header_value(data, len, "X-Auth-Token", r->token, sizeof r->token);
    header_value(data, len, "Location", r->location, sizeof r->location);
    return len;
}

rf_http *rf_http_create(int parallel, size_t keep)
{
    rf_http *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        goto fail;
    h->global = true;
    h->multi = curl_multi_init();
    if (!h->multi)
        goto fail;
    h->parallel = parallel > 0 ? (size_t)parallel : 1;
    /* The queue above keeps at most `parallel` transfers running; open connections cost
     * memory (a TLS context each), so at most `keep` stay open, idle ones included. */
    long kept = (long)(keep > (size_t)parallel ? keep : (size_t)parallel);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, kept);
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, kept);
    return h;
fail:
    rf_http_destroy(h);
    return NULL;
}

static void req_release(rf_http *h, rf_req *r)
{
    if (r->active) {
        curl_multi_remove_handle(h->multi, r->easy);
        r->active = false;
        h->active--;
    }
    curl_slist_free_all(r->headers);
    r->headers = NULL;
}

void rf_http_destroy(rf_http *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->count; i++) {
        rf_req *r = h->reqs[i];
        req_release(h, r);
        if (r->easy)
            curl_easy_cleanup(r->easy);
        free(r->body);
        free(r);
    }
    free(h->reqs);
    for (size_t i = h->head; i < h->tail; i++)
        free(h->queue[i].body);
    free(h->queue);
    if (h->multi)
        curl_multi_cleanup(h->multi);
    if (h->global)
        curl_global_cleanup();
    free(h);
}

size_t rf_http_active(const rf_http *h) { return h->active + (h->tail - h->head); }

static rf_req *req_get(rf_http *h)
{
    for (size_t i = 0; i < h->count; i++)
        if (!h->reqs[i]->active)
            return h->reqs[i];
    if (!dcm_grow((void **)&h->reqs, &h->cap, h->count + 1, sizeof *h->reqs, 16))
        return NULL;
    rf_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->easy = curl_easy_init();
    if (!r->easy) {
        free(r);
        return NULL;
    }
    h->reqs[h->count++] = r;
    return r;
}

static bool set_headers(rf_req *r, const rf_endpoint *ep, const char *body)
{
    char tok[RF_TOKEN_MAX + 32];
    const char *lines[4] = {"Accept: application/json", "OData-Version: 4.0", NULL, NULL};
    size_t n = 2;
    if (body)
        lines[n++] = "Content-Type: application/json";
    if (ep->token && ep->token[0]) {
        snprintf(tok, sizeof tok, "X-Auth-Token: %s", ep->token);
        lines[n++] = tok;
    }
    for (size_t i = 0; i < n; i++) {
        struct curl_slist *s = curl_slist_append(r->headers, lines[i]);
        if (!s)
            return false;
        r->headers = s;
    }
    return true;
}

static bool start_now(rf_http *h, const rf_endpoint *ep, const char *method, const char *path,
                      const char *body, int64_t timeout_ms, void *owner, int purpose, int a,
                      int b)
{
    rf_req *r = req_get(h);
    if (!r)
        return false;
    CURL *e = r->easy;
    curl_easy_reset(e);
    r->owner = owner;
    r->purpose = purpose;
    r->a = a;
    r->b = b;
    snprintf(r->path, sizeof r->path, "%s", path);
    r->transport_ok = false;
    r->status = 0;
    r->error[0] = '\0';
    r->timed_out = false;
    r->len = 0;
    if (r->body)
        r->body[0] = '\0';
    r->too_big = false;
    r->token[0] = '\0';
    r->location[0] = '\0';
    r->elapsed_ns = 0;
    if (!set_headers(r, ep, body))
        goto fail;
    char url[RF_PATH_MAX + 300];
    if ((size_t)snprintf(url, sizeof url, "%s%s", ep->base_url, path) >= sizeof url)
        goto fail;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, ep->verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, ep->verify ? 2L : 0L);
    if (ep->ca_file)
        curl_easy_setopt(e, CURLOPT_CAINFO, ep->ca_file);
    if (ep->basic && ep->username) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, ep->username);
        curl_easy_setopt(e, CURLOPT_PASSWORD, ep->password ? ep->password : "");
    }
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, body ? body : "");
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    }
    r->started = dcm_monotonic_ns();
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK)
        goto fail;
    r->active = true;
    h->active++;
    return true;
fail:
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    return false;
}

bool rf_http_start(rf_http *h, const rf_endpoint *ep, const char *method, const char *path,
                   const char *body, int64_t timeout_ms, void *owner, int purpose, int a,
                   int b)
{
    if (h->active < h->parallel && h->head == h->tail)
        return start_now(h, ep, method, path, body, timeout_ms, owner, purpose, a, b);
    /* A request made while transfers complete continues a BMC's round (the next step of
     * its discovery): it goes first, so it finds the BMC's connection still open instead
     * of queueing behind every other BMC's first request (a new TLS handshake each). */
    bool first = h->in_run;
    if (!first && h->head > 0 && h->tail == h->qcap) {
        /* Reuse the consumed front of the queue before growing it. */
        memmove(h->queue, h->queue + h->head, (h->tail - h->head) * sizeof *h->queue);
        h->tail -= h->head;
        h->head = 0;
    }
    if (!(first && h->head > 0) &&
        !dcm_grow((void **)&h->queue, &h->qcap, h->tail + 1, sizeof *h->queue, 64))
        return false;
    char *copy = NULL;
    if (body && !(copy = strdup(body)))
        return false;
    pending *q;
    if (!first) {
        q = &h->queue[h->tail++];
    } else if (h->head > 0) {
        q = &h->queue[--h->head];
    } else {
        memmove(h->queue + 1, h->queue, h->tail * sizeof *h->queue);
        h->tail++;
        q = &h->queue[0];
    }
    memset(q, 0, sizeof *q);
    q->body = copy;
    q->ep = *ep;
    if (ep->token) {
        snprintf(q->token, sizeof q->token, "%s", ep->token);
        q->ep.token = q->token;
    }
    snprintf(q->method, sizeof q->method, "%s", method);
    snprintf(q->path, sizeof q->path, "%s", path);
    q->deadline = dcm_monotonic_ns() + timeout_ms * NS_PER_MS;
    q->owner = owner;
    q->purpose = purpose;
    q->a = a;
    q->b = b;
    return true;
}

/* A queued transfer that cannot start (deadline passed, or no memory) is reported as
 * not answered, through a request object of the pool. */
static void drop_pending(rf_http *h, pending *q, const char *why, rf_req_done done, void *ud)
{
    rf_req *r = req_get(h);
    if (r) {
        r->owner = q->owner;
        r->purpose = q->purpose;
        r->a = q->a;
        r->b = q->b;
        snprintf(r->path, sizeof r->path, "%s", q->path);
        r->transport_ok = false;
        r->timed_out = strcmp(why, "deadline") == 0;
        snprintf(r->error, sizeof r->error, "%s", why);
        r->status = 0;
        r->len = 0;
        r->active = true;
        done(ud, r);
        r->active = false;
    }
    free(q->body);
    q->body = NULL;
}

/* Starts queued transfers while slots are free. */
static void drain(rf_http *h, rf_req_done done, void *ud)
{
    while (h->head < h->tail && h->active < h->parallel) {
        pending q = h->queue[h->head++];
        int64_t left_ms = (q.deadline - dcm_monotonic_ns()) / NS_PER_MS;
        if (left_ms <= 0)
            drop_pending(h, &q, "deadline", done, ud);
        else if (!start_now(h, &q.ep, q.method, q.path, q.body, left_ms, q.owner, q.purpose, q.a,
                            q.b))
            drop_pending(h, &q, "out of memory", done, ud);
        free(q.body);
    }
    if (h->head == h->tail)
        h->head = h->tail = 0;
}

static void finish(rf_http *h, rf_req *r, CURLcode rc, rf_req_done done, void *ud)
{
    r->elapsed_ns = dcm_monotonic_ns() - r->started;
    if (rc == CURLE_OK) {
        r->transport_ok = true;
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
        r->error[0] = '\0';
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        r->timed_out = true;
    }
    if (rc != CURLE_OK && !r->error[0]) {
        snprintf(r->error, sizeof r->error, "%s",
                 r->too_big ? "response too large" : curl_easy_strerror(rc));
    }
    if (!r->body || r->too_big)
        r->len = 0;
    /* Off the multi handle before the callback, which may start the next transfer with
     * a request object from the pool. */
    curl_multi_remove_handle(h->multi, r->easy);
    r->active = false;
    h->active--;
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    r->active = true; /* held through the callback so the pool does not hand it out */
    done(ud, r);
    r->active = false;
}

void rf_http_run(rf_http *h, int64_t deadline, rf_req_done done, void *ud)
{
    h->in_run = true;
    drain(h, done, ud);
    while (h->active > 0) {
        int running = 0;
        curl_multi_perform(h->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(h->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            rf_req *r = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
            if (r)
                finish(h, r, m->data.result, done, ud);
        }
        drain(h, done, ud);
        if (h->active == 0)
            break;
        int64_t left_ns = deadline - dcm_monotonic_ns();
        if (left_ns <= 0)
            break;
        int wait_ms = (int)(left_ns / NS_PER_MS);
        if (wait_ms > POLL_SLICE_MS)
            wait_ms = POLL_SLICE_MS;
        curl_multi_poll(h->multi, NULL, 0, wait_ms > 0 ? wait_ms : 1, NULL);
    }
    /* The deadline: what is still running is given up. The callback may not start new
     * transfers that would outlive the round, so the stopped ones are collected first. */
    for (size_t i = 0; i < h->count; i++) {
        rf_req *r = h->reqs[i];
        if (!r->active)
            continue;
        curl_multi_remove_handle(h->multi, r->easy);
        h->active--;
        curl_slist_free_all(r->headers);
        r->headers = NULL;
        r->elapsed_ns = dcm_monotonic_ns() - r->started;
        r->transport_ok = false;
        r->len = 0;
        snprintf(r->error, sizeof r->error, "deadline");
        r->timed_out = true;
        done(ud, r);
        r->active = false;
    }
    /* Queued ones that never started, including any the callbacks just added. */
    while (h->head < h->tail) {
        pending q = h->queue[h->head++];
        drop_pending(h, &q, "deadline", done, ud);
    }
    h->head = h->tail = 0;
    h->in_run = false;
}
