/* The InfluxDB write request over libcurl, with gzip bodies and classified answers. */
#include "influx_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <curl/curl.h>
#include <zlib.h>

#include "dcm/log.h"
#include "json_read.h"
#include "runtime.h"

#define TAG "influxdb"
#define NS_PER_MS INT64_C(1000000)
#define RESPONSE_MAX 4096 /* enough for any error message worth logging */
#define STOP_GRACE_NS (1500 * NS_PER_MS)

struct dcm_influx_http {
    CURL *curl;
    struct curl_slist *headers;
    char *url;
    char *auth_header; /* "Authorization: Token ..." (wiped at destroy) */
    char *username, *password;
    bool gzip;
    z_stream z;
    bool z_ready;
    unsigned char *zbuf;
    size_t zcap;
    char response[RESPONSE_MAX + 1];
    size_t response_len;
    char retry_after[64];
    char errbuf[CURL_ERROR_SIZE];
    const atomic_bool *stop;
    int64_t stop_seen_ns;
};

const char *dcm_influx_http_strerror(dcm_influx_http_err err)
{
    switch (err) {
    case DCM_INFLUX_HTTP_OK: return "ok";
    case DCM_INFLUX_HTTP_ENOMEM: return "out of memory";
    case DCM_INFLUX_HTTP_ECURL: return "libcurl refused an option";
    }
    return "unknown InfluxDB HTTP error";
}

/* ---------------------------------------------------------------- URL and answers */

static const char *precision_param(dcm_influx_api api, dcm_lp_precision p)
{
    /* 1.x names nanoseconds and microseconds "n" and "u"; 2.x "ns" and "us". */
    static const char *const v1[] = {"n", "u", "ms", "s"};
    static const char *const v2[] = {"ns", "us", "ms", "s"};
    return api == DCM_INFLUX_V1 ? v1[p] : v2[p];
}

/* Appends "&name=escaped(value)" (or "?name=" first) to the string at *s. */
static bool add_param(char **s, size_t *len, bool *first, const char *name, const char *value)
{
    if (!value)
        return true;
    char *esc = curl_easy_escape(NULL, value, 0);
    if (!esc)
        return false;
    size_t add = strlen(name) + strlen(esc) + 2;
    char *grown = realloc(*s, *len + add + 1);
    if (!grown) {
        curl_free(esc);
        return false;
    }
    *s = grown;
    *len += (size_t)sprintf(*s + *len, "%c%s=%s", *first ? '?' : '&', name, esc);
    *first = false;
    curl_free(esc);
    return true;
}

char *dcm_influx_write_url(const dcm_influx_target *t)
{
    size_t base = strlen(t->url);
    while (base > 0 && t->url[base - 1] == '/')
        base--;
    const char *path = t->api == DCM_INFLUX_V1 ? "/write" : "/api/v2/write";
    size_t len = base + strlen(path);
    char *s = malloc(len + 1);
    if (!s)
        return NULL;
    memcpy(s, t->url, base);
    strcpy(s + base, path);
    bool first = true;
    bool ok = t->api == DCM_INFLUX_V1
                  ? add_param(&s, &len, &first, "db", t->database) &&
                        add_param(&s, &len, &first, "rp", t->retention_policy)
                  : add_param(&s, &len, &first, "org", t->org) &&
                        add_param(&s, &len, &first, "bucket", t->bucket);
    if (!ok || !add_param(&s, &len, &first, "precision", precision_param(t->api, t->precision))) {
        free(s);
        return NULL;
    }
    return s;
}

static void copy_clean(const char *src, size_t len, char *out, size_t size)
{
    if (size == 0)
        return;
    while (len > 0 && isspace((unsigned char)*src)) {
        src++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)src[len - 1]))
        len--;
    size_t n = len < size - 1 ? len : size - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        out[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[n] = '\0';
}

void dcm_influx_error_message(const char *body, size_t len, char *out, size_t size)
{
    dcm_jr_doc *doc = NULL;
    if (body && len && dcm_jr_parse(body, len, &doc, NULL) == DCM_JR_OK) {
        const dcm_jr_node *root = dcm_jr_root(doc);
        const dcm_jr_node *m = dcm_jr_get(root, "error");
        if (!m || m->type != DCM_JR_STRING)
            m = dcm_jr_get(root, "message");
        if (m && m->type == DCM_JR_STRING) {
            copy_clean(m->str, m->str_len, out, size);
            dcm_jr_free(doc);
            return;
        }
        dcm_jr_free(doc);
    }
    copy_clean(body ? body : "", body ? len : 0, out, size);
}

int64_t dcm_influx_retry_after_ns(const char *value, int64_t now_s)
{
    if (!value)
        return 0;
    while (*value == ' ' || *value == '\t')
        value++;
    if (isdigit((unsigned char)*value)) {
        char *end;
        unsigned long long s = strtoull(value, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        if (*end || s > 86400ull * 365)
            return 0;
        return (int64_t)s * 1000 * NS_PER_MS;
    }
    time_t t = curl_getdate(value, NULL);
    if (t == (time_t)-1 || (int64_t)t <= now_s)
        return 0;
    int64_t d = (int64_t)t - now_s;
    return d > 86400 * 365 ? 0 : d * 1000 * NS_PER_MS;
}

/* ------------------------------------------------------------------ callbacks */

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
    dcm_influx_http *h = ctx;
    size_t n = size * nmemb;
    size_t room = RESPONSE_MAX - h->response_len;
    size_t take = n < room ? n : room;
    memcpy(h->response + h->response_len, data, take);
    h->response_len += take;
    h->response[h->response_len] = '\0';
    return n; /* the rest is dropped, not an error */
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
    dcm_influx_http *h = ctx;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0)
        copy_clean(data + sizeof name - 1, n - (sizeof name - 1), h->retry_after,
                   sizeof h->retry_after);
    return n;
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    dcm_influx_http *h = ctx;
    if (!h->stop || !atomic_load(h->stop))
        return 0;
    int64_t now = dcm_monotonic_ns();
    if (h->stop_seen_ns == 0)
        h->stop_seen_ns = now;
    /* Shutting down: a request that is nearly done may finish, a hung one may not. */
    return now - h->stop_seen_ns > STOP_GRACE_NS ? 1 : 0;
}

/* ------------------------------------------------------------------ create */

static char *dup_or_null(const char *s, bool *oom)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *oom = true;
    return d;
}

static bool header(dcm_influx_http *h, const char *line)
{
    struct curl_slist *l = curl_slist_append(h->headers, line);
    if (!l)
        return false;
    h->headers = l;
    return true;
}

#define SETOPT(opt, val)                                                                   \
    do {                                                                                   \
        CURLcode rc_ = curl_easy_setopt(h->curl, opt, val);                                \
        if (rc_ != CURLE_OK) {                                                             \
            dcm_log(DCM_LOG_ERROR, TAG, "libcurl refused %s: %s", #opt,                    \
                    curl_easy_strerror(rc_));                                              \
            err = DCM_INFLUX_HTTP_ECURL;                                                   \
            goto fail;                                                                     \
        }                                                                                  \
    } while (0)

dcm_influx_http_err dcm_influx_http_create(const dcm_influx_http_options *opt,
                                           dcm_influx_http **out)
{
    dcm_influx_http_err err = DCM_INFLUX_HTTP_ENOMEM;
    *out = NULL;
    dcm_influx_http *h = calloc(1, sizeof *h);
    if (!h)
        return DCM_INFLUX_HTTP_ENOMEM;
    bool oom = false;
    h->gzip = opt->gzip;
    h->stop = opt->stop;
    h->username = dup_or_null(opt->username, &oom);
    h->password = dup_or_null(opt->password, &oom);
    if (oom || !(h->url = dcm_influx_write_url(&opt->target)) || !(h->curl = curl_easy_init()))
        goto fail;
    if (opt->token) {
        size_t n = strlen(opt->token) + 32;
        if (!(h->auth_header = malloc(n)))
            goto fail;
        snprintf(h->auth_header, n, "Authorization: Token %s", opt->token);
    }
    /* Expect: 100-continue would cost a round trip (or a 1 s wait) on large bodies. */
    if (!header(h, "Content-Type: text/plain; charset=utf-8") || !header(h, "Expect:") ||
        (h->gzip && !header(h, "Content-Encoding: gzip")) ||
        (h->auth_header && !header(h, h->auth_header)))
        goto fail;
    if (h->gzip) {
        if (deflateInit2(&h->z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            goto fail;
        h->z_ready = true;
    }
    int64_t timeout_ms = opt->timeout_ns / NS_PER_MS;
    if (timeout_ms < 1)
        timeout_ms = 1;
    int64_t connect_ms = timeout_ms < 5000 ? timeout_ms : 5000;
    SETOPT(CURLOPT_URL, h->url);
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_ERRORBUFFER, h->errbuf);
    SETOPT(CURLOPT_POST, 1L);
    SETOPT(CURLOPT_HTTPHEADER, h->headers);
    SETOPT(CURLOPT_USERAGENT, "dcmetrics");
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
    SETOPT(CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    SETOPT(CURLOPT_LOW_SPEED_LIMIT, 1L);
    SETOPT(CURLOPT_LOW_SPEED_TIME, (long)(timeout_ms / 1000 > 0 ? timeout_ms / 1000 : 1));
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#else
    SETOPT(CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, h);
    SETOPT(CURLOPT_HEADERFUNCTION, on_header);
    SETOPT(CURLOPT_HEADERDATA, h);
    SETOPT(CURLOPT_NOPROGRESS, 0L);
    SETOPT(CURLOPT_XFERINFOFUNCTION, on_progress);
    SETOPT(CURLOPT_XFERINFODATA, h);
    SETOPT(CURLOPT_SSL_VERIFYPEER, opt->verify ? 1L : 0L);
    SETOPT(CURLOPT_SSL_VERIFYHOST, opt->verify ? 2L : 0L);
    if (opt->ca_file)
        SETOPT(CURLOPT_CAINFO, opt->ca_file);
    if (h->username) {
        SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        SETOPT(CURLOPT_USERNAME, h->username);
        SETOPT(CURLOPT_PASSWORD, h->password ? h->password : "");
    }
    *out = h;
    return DCM_INFLUX_HTTP_OK;
fail:
    dcm_influx_http_destroy(h);
    return err;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void dcm_influx_http_destroy(dcm_influx_http *h)
{
    if (!h)
        return;
    if (h->curl)
        curl_easy_cleanup(h->curl);
    curl_slist_free_all(h->headers);
    if (h->z_ready)
        deflateEnd(&h->z);
    wipe_free(h->auth_header);
    wipe_free(h->password);
    free(h->username);
    free(h->url);
    free(h->zbuf);
    free(h);
}

/* ------------------------------------------------------------------ send */

static bool compress_body(dcm_influx_http *h, const char *body, size_t len, size_t *out_len)
{
    if (deflateReset(&h->z) != Z_OK || len > UINT32_MAX)
        return false;
    size_t need = deflateBound(&h->z, (uLong)len) + 32;
    if (need > h->zcap) {
        unsigned char *grown = realloc(h->zbuf, need);
        if (!grown)
            return false;
        h->zbuf = grown;
        h->zcap = need;
    }
    h->z.next_in = (Bytef *)(uintptr_t)body;
    h->z.avail_in = (uInt)len;
    h->z.next_out = h->zbuf;
    h->z.avail_out = (uInt)h->zcap;
    if (deflate(&h->z, Z_FINISH) != Z_STREAM_END)
        return false;
    *out_len = h->zcap - h->z.avail_out;
    return true;
}

void dcm_influx_http_send(dcm_influx_http *h, const char *body, size_t len,
                          dcm_influx_result *res)
{
    memset(res, 0, sizeof *res);
    const void *payload = body;
    size_t payload_len = len;
    if (h->gzip) {
        if (!compress_body(h, body, len, &payload_len)) {
            res->outcome = DCM_INFLUX_LOCAL;
            snprintf(res->message, sizeof res->message, "gzip compression failed");
            return;
        }
        payload = h->zbuf;
    }
    h->response_len = 0;
    h->response[0] = '\0';
    h->retry_after[0] = '\0';
    h->errbuf[0] = '\0';
    h->stop_seen_ns = 0;
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)payload_len);
    CURLcode rc = curl_easy_perform(h->curl);
    if (rc != CURLE_OK) {
        res->outcome = DCM_INFLUX_RETRY;
        snprintf(res->message, sizeof res->message, "%.100s%s%.150s", curl_easy_strerror(rc),
                 h->errbuf[0] ? ": " : "", h->errbuf);
        return;
    }
    long status = 0;
    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    res->status = status;
    res->outcome = dcm_influx_classify(status);
    if (res->outcome == DCM_INFLUX_OK)
        return;
    if (h->retry_after[0])
        res->retry_after_ns =
            dcm_influx_retry_after_ns(h->retry_after, dcm_realtime_ns() / 1000000000);
    char msg[sizeof res->message - 32];
    dcm_influx_error_message(h->response, h->response_len, msg, sizeof msg);
    snprintf(res->message, sizeof res->message, "HTTP %ld%s%s", status, msg[0] ? ": " : "", msg);
}

void dcm_influx_http_set_stop(dcm_influx_http *h, const atomic_bool *stop)
{
    h->stop = stop;
}
