/*
 * http_server.c - the libmicrohttpd daemon: listening socket, limits, TLS, credentials,
 * routing, static files and the event stream's connections.
 *
 * The daemon runs its own threads (a small pool, epoll where the kernel has it). Every
 * handler renders into memory and hands MHD a finished buffer, so a client that reads
 * slowly holds a socket, never a lock; connection count, per-address count, request
 * size and idle time are all bounded.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dcm/log.h"
#include "fsutil.h"
#include "http/http_int.h"
#include "http/http_query.h"
#include "http/web_assets.h"
#include "kpi_json.h"
#include "site.h"

#define MAX_FILE_BYTES (1u << 20) /* auth file, certificate, key */

const char *dcm_http_strerror(dcm_http_err err)
{
    switch (err) {
    case DCM_HTTP_OK: return "ok";
    case DCM_HTTP_EADDR: return "the listen address is not address:port";
    case DCM_HTTP_EBIND: return "the listen address cannot be bound";
    case DCM_HTTP_EAUTH: return "the auth file cannot be used";
    case DCM_HTTP_ETLS: return "TLS cannot be set up";
    case DCM_HTTP_ENOMEM: return "out of memory";
    case DCM_HTTP_ETHREAD: return "the HTTP server's threads cannot be started";
    }
    return "unknown error";
}

static void say(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    if (!why || !size)
        return;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------- routing */

typedef void (*handler_fn)(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r);

typedef struct route {
    const char *path;
    handler_fn fn;          /* NULL: the event stream */
    bool open;              /* served without credentials (probes) */
    const char *const *params; /* query parameters it accepts */
} route;

static const char *const no_params[] = {NULL};
static const char *const kpi_params[] = {"window", NULL};
static const char *const points_params[] = {"collector", NULL};
static const char *const event_params[] = {"window", "points", "alerts", "kpi", NULL};

static const route routes[] = {
    {"/api/v1/kpi", dcm_http_api_kpi, false, kpi_params},
    {"/api/v1/points", dcm_http_api_points, false, points_params},
    {"/api/v1/devices", dcm_http_api_devices, false, no_params},
    {"/api/v1/events", NULL, false, event_params},
    {"/api/v1/alerts", dcm_http_api_alerts, false, no_params},
    {"/metrics", dcm_http_metrics, false, no_params},
    {"/healthz", dcm_http_api_healthz, true, no_params},
    {"/readyz", dcm_http_api_readyz, true, no_params},
};

typedef struct param_check {
    const char *const *allowed;
    const char *bad;
    bool repeated, novalue;
    char seen[8];
} param_check;

static enum MHD_Result check_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    param_check *pc = cls;
    (void)kind;
    if (!value) {
        pc->bad = key;
        pc->novalue = true;
        return MHD_NO;
    }
    for (size_t i = 0; pc->allowed[i] && i < sizeof pc->seen; i++) {
        if (strcmp(key, pc->allowed[i]) == 0) {
            if (pc->seen[i]) {
                pc->bad = pc->allowed[i];
                pc->repeated = true;
                return MHD_NO;
            }
            pc->seen[i] = 1;
            return MHD_YES;
        }
    }
    pc->bad = key;
    return MHD_NO;
}

/* ---------------------------------------------------------- responses */

static enum MHD_Result queue(dcm_http *h, struct MHD_Connection *conn, dcm_http_reply *r)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        r->len, r->body, r->body_static ? MHD_RESPMEM_PERSISTENT : MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        if (!r->body_static)
            free(r->body);
        return MHD_NO;
    }
    if (r->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            r->cache_control ? r->cache_control : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->etag)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (r->status == 401) {
        bool basic = dcm_http_auth_basic_count(h->auth) > 0;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                basic ? "Basic realm=\"dcmetrics\", charset=\"UTF-8\""
                                      : "Bearer realm=\"dcmetrics\"");
    }
    unsigned cls = r->status / 100;
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add(&h->requests[cls], 1);
    enum MHD_Result ret = MHD_queue_response(conn, r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* --------------------------------------------------------------- auth */

static bool authorized(dcm_http *h, struct MHD_Connection *conn)
{
    if (!h->auth)
        return true;
    const char *hdr = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_AUTHORIZATION);
    if (!hdr)
        return false;
    if (strncasecmp(hdr, "Bearer ", 7) == 0) {
        const char *t = hdr + 7;
        while (*t == ' ')
            t++;
        return dcm_http_auth_bearer(h->auth, t);
    }
    if (strncasecmp(hdr, "Basic ", 6) != 0)
        return false;
    char *pass = NULL;
    char *user = MHD_basic_auth_get_username_password(conn, &pass);
    bool ok = user && pass && dcm_http_auth_basic(h->auth, user, pass);
    if (pass) {
        explicit_bzero(pass, strlen(pass));
        MHD_free(pass);
    }
    if (user)
        MHD_free(user);
    return ok;
}

/* -------------------------------------------------------------- files */

static enum MHD_Result serve_asset(dcm_http *h, struct MHD_Connection *conn, const char *url)
{
    dcm_http_reply r = {0};
    const char *path = strcmp(url, "/") == 0 ? "/index.html" : url;
    const dcm_web_asset *a = NULL;
    if (dcm_http_asset_path_ok(path))
        for (size_t i = 0; i < dcm_web_asset_count; i++)
            if (strcmp(dcm_web_assets[i].path, path) == 0)
                a = &dcm_web_assets[i];
    if (!a) {
        if (strcmp(path, "/index.html") == 0)
            dcm_http_error(&r, 404, "the live page is not part of this build; the API is "
                                    "under /api/v1/ and /metrics");
        else
            dcm_http_error(&r, 404, "no such resource");
        return queue(h, conn, &r);
    }
    /* Revalidate every time (the names carry no version), but send nothing new when the
     * browser's copy is current. */
    const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_IF_NONE_MATCH);
    r.etag = a->etag;
    r.cache_control = "no-cache";
    r.body_static = true;
    if (inm && (strstr(inm, a->etag) || strcmp(inm, "*") == 0)) {
        r.status = 304;
        r.body = (char *)"";
        r.len = 0;
        return queue(h, conn, &r);
    }
    r.status = 200;
    r.body = (char *)a->data;
    r.len = a->len;
    r.content_type = dcm_http_content_type(path);
    return queue(h, conn, &r);
}

/* ------------------------------------------------------- event stream */

static enum MHD_Result serve_events(dcm_http *h, struct MHD_Connection *conn)
{
    dcm_http_reply r = {0};
    char why[160];
    dcm_sse_filter f = {.windows = DCM_HTTP_ALL_WINDOWS, .points = true, .alerts = true};
    bool kpi = true;
    const char *w = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "window");
    const char *pt = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "points");
    const char *al = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "alerts");
    const char *kp = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "kpi");
    if (w && !dcm_http_parse_windows(w, &f.windows, why, sizeof why)) {
        dcm_http_error(&r, 400, "window: %s", why);
        return queue(h, conn, &r);
    }
    if ((pt && !dcm_http_parse_flag(pt, &f.points)) || (al && !dcm_http_parse_flag(al, &f.alerts)) ||
        (kp && !dcm_http_parse_flag(kp, &kpi))) {
        dcm_http_error(&r, 400, "points, alerts and kpi take 1 or 0 (true or false)");
        return queue(h, conn, &r);
    }
    if (!kpi)
        f.windows = 0;
    dcm_sse_client *c = dcm_sse_client_create(h->hub, conn, &f, DCM_HTTP_MAX_SSE_CLIENTS);
    if (!c) {
        dcm_http_error(&r, 503, "too many event-stream clients (at most %d)",
                       DCM_HTTP_MAX_SSE_CLIENTS);
        return queue(h, conn, &r);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, dcm_sse_read, c,
                                          dcm_sse_free);
    if (!resp) {
        dcm_sse_free(c);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    /* Heartbeats write every 15 s; a client that stops reading for longer than this is
     * one whose socket buffer is full: let it go. */
    MHD_set_connection_option(conn, MHD_CONNECTION_OPTION_TIMEOUT,
                              (unsigned int)DCM_HTTP_SSE_TIMEOUT_S);
    atomic_fetch_add(&h->requests[2], 1);
    enum MHD_Result ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* ------------------------------------------------------------ requests */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls)
{
    dcm_http *h = cls;
    dcm_http_reply r = {0};
    static int first_call_seen;
    (void)version;
    (void)upload_data;
    const route *rt = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (strcmp(url, routes[i].path) == 0)
            rt = &routes[i];
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        /* Answered at once, body unread: libmicrohttpd then closes the connection. */
        dcm_http_error(&r, 405, "method %.16s not allowed; use GET", method);
        r.allow = "GET, HEAD";
        return queue(h, conn, &r);
    }
    /* A GET is answered once the request is complete (a stray body is read and ignored),
     * so the connection can stay open for the next request. */
    if (!*req_cls) {
        *req_cls = &first_call_seen;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if ((!rt || !rt->open) && !authorized(h, conn)) {
        atomic_fetch_add(&h->auth_failures, 1);
        dcm_http_error(&r, 401, "credentials required");
        return queue(h, conn, &r);
    }
    if (!rt)
        return serve_asset(h, conn, url);
    param_check pc = {.allowed = rt->params};
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, check_param, &pc);
    if (pc.bad) {
        if (pc.repeated)
            dcm_http_error(&r, 400, "parameter '%.40s' given twice", pc.bad);
        else if (pc.novalue)
            dcm_http_error(&r, 400, "parameter '%.40s' needs a value", pc.bad);
        else
            dcm_http_error(&r, 400, "unknown parameter '%.40s' for %s", pc.bad, rt->path);
        return queue(h, conn, &r);
    }
    if (!rt->fn)
        return serve_events(h, conn);
    pthread_rwlock_rdlock(&h->rt_lock);
    rt->fn(h, conn, &r);
    pthread_rwlock_unlock(&h->rt_lock);
    return queue(h, conn, &r);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[256];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    dcm_log_limited(DCM_LOG_WARN, "http", "%s", msg);
}

/* -------------------------------------------------------------- setup */

static char *read_small_file(const char *path, size_t *len, char *why, size_t why_size)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f) {
        say(why, why_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(MAX_FILE_BYTES + 1);
    if (!buf) {
        say(why, why_size, "out of memory");
        goto out;
    }
    size_t n = fread(buf, 1, MAX_FILE_BYTES + 1, f);
    if (ferror(f) || n > MAX_FILE_BYTES) {
        say(why, why_size, "%s: %s", path, ferror(f) ? strerror(errno) : "larger than 1 MiB");
        free(buf);
        buf = NULL;
        goto out;
    }
    buf[n] = '\0';
    *len = n;
out:
    fclose(f);
    return buf;
}

static dcm_http_err load_auth(dcm_http *h, const char *path, char *why, size_t why_size)
{
    size_t len = 0, line = 0;
    char *text = read_small_file(path, &len, why, why_size);
    if (!text)
        return DCM_HTTP_EAUTH;
    dcm_http_auth_err err = dcm_http_auth_parse(text, len, &h->auth, &line);
    explicit_bzero(text, len);
    free(text);
    if (err == DCM_HTTP_AUTH_ENOMEM)
        return DCM_HTTP_ENOMEM;
    if (err == DCM_HTTP_AUTH_ESYNTAX) {
        say(why, why_size, "%s:%zu: %s", path, line, dcm_http_auth_strerror(err));
        return DCM_HTTP_EAUTH;
    }
    if (err != DCM_HTTP_AUTH_OK) {
        say(why, why_size, "%s: %s", path, dcm_http_auth_strerror(err));
        return DCM_HTTP_EAUTH;
    }
    return DCM_HTTP_OK;
}

/* Reads the pair and checks that gnutls accepts it, so a wrong file is reported by name
 * instead of as a daemon that does not start. */
static dcm_http_err load_tls(dcm_http *h, const char *cert, const char *key, char *why,
                             size_t why_size)
{
    size_t clen = 0, klen = 0;
    if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
        say(why, why_size, "libmicrohttpd was built without TLS");
        return DCM_HTTP_ETLS;
    }
    if (!(h->tls_cert = read_small_file(cert, &clen, why, why_size)) ||
        !(h->tls_key = read_small_file(key, &klen, why, why_size)))
        return DCM_HTTP_ETLS;
    gnutls_certificate_credentials_t cred;
    if (gnutls_certificate_allocate_credentials(&cred) != GNUTLS_E_SUCCESS)
        return DCM_HTTP_ENOMEM;
    gnutls_datum_t c = {(unsigned char *)h->tls_cert, (unsigned)clen};
    gnutls_datum_t k = {(unsigned char *)h->tls_key, (unsigned)klen};
    int rc = gnutls_certificate_set_x509_key_mem(cred, &c, &k, GNUTLS_X509_FMT_PEM);
    gnutls_certificate_free_credentials(cred);
    if (rc < 0) {
        say(why, why_size, "%s / %s: %s", cert, key, gnutls_strerror(rc));
        return DCM_HTTP_ETLS;
    }
    return DCM_HTTP_OK;
}

/* Binds the listening socket ourselves, so a taken port is reported with its reason and
 * ":port" can mean both IPv6 and IPv4. */
static int bind_listener(const char *host, int port, int *bound_port, bool *v6, char *why,
                         size_t why_size)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    char ps[8];
    snprintf(ps, sizeof ps, "%d", port);
    hints.ai_family = *host ? AF_UNSPEC : AF_INET6;
    int gai = getaddrinfo(*host ? host : NULL, ps, &hints, &res);
    if (gai != 0 && !*host) {
        hints.ai_family = AF_INET; /* no IPv6 on this host */
        gai = getaddrinfo(NULL, ps, &hints, &res);
    }
    if (gai != 0) {
        say(why, why_size, "%s: %s", *host ? host : "*", gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1, zero = 0;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (ai->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, *host ? &one : &zero, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0) {
            *v6 = ai->ai_family == AF_INET6;
            break;
        }
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        say(why, why_size, "%s%s%s:%d: %s", strchr(host, ':') ? "[" : "", host,
            strchr(host, ':') ? "]" : "", port, strerror(err));
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *bound_port = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        *bound_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                     : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

static const char *config_str(const dcm_node *http, const char *key)
{
    const char *s = NULL;
    return http && dcm_node_as_string(dcm_node_get(http, key), &s) ? s : NULL;
}

dcm_http_err dcm_http_create(const dcm_http_options *opt, dcm_http **out, char *why,
                             size_t why_size)
{
    dcm_http_err err = DCM_HTTP_ENOMEM;
    const dcm_node *node = opt->config->outputs.http;
    const char *listen_at = opt->listen ? opt->listen : config_str(node, "listen");
    const char *auth_file = config_str(node, "auth_file");
    const char *cert = config_str(node, "tls_cert"), *key = config_str(node, "tls_key");
    char host[128];
    int port = 0, bound = 0, fd = -1;
    bool v6 = false;
    *out = NULL;
    if (!listen_at)
        listen_at = "127.0.0.1:8080";
    if (!dcm_http_parse_listen(listen_at, host, sizeof host, &port)) {
        say(why, why_size, "'%s' is not address:port (127.0.0.1:8080, :8080, [::1]:8080)",
            listen_at);
        return DCM_HTTP_EADDR;
    }
    dcm_http *h = calloc(1, sizeof *h);
    if (!h)
        return DCM_HTTP_ENOMEM;
    h->cfg = opt->config;
    /* The site model's zones, in engine order: what the runtime names them too. */
    h->zone_count = opt->config->site.zone_count;
    if (h->zone_count) {
        const char **names = calloc(h->zone_count, sizeof *names);
        if (!names)
            goto fail;
        for (size_t i = 0; i < h->zone_count; i++)
            names[i] = opt->config->site.zones[i].name;
        h->zone_names = names;
    }
    dcm_site_calendar(opt->config->site.timezone, &h->calendar);
    /* Writer first: a steady stream of requests must not keep the session from taking
     * the runtime back at shutdown (glibc prefers readers by default). */
    pthread_rwlockattr_t rwa;
    if (pthread_rwlockattr_init(&rwa) != 0)
        goto fail;
    pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    h->rt_lock_ready = pthread_rwlock_init(&h->rt_lock, &rwa) == 0;
    pthread_rwlockattr_destroy(&rwa);
    if (!h->rt_lock_ready)
        goto fail;
    if (auth_file && (err = load_auth(h, auth_file, why, why_size)) != DCM_HTTP_OK)
        goto fail;
    if (cert && key && (err = load_tls(h, cert, key, why, why_size)) != DCM_HTTP_OK)
        goto fail;
    err = DCM_HTTP_ETHREAD;
    if (!(h->hub = dcm_sse_hub_create(dcm_http_points_event, h))) {
        say(why, why_size, "cannot start the event hub");
        goto fail;
    }
    err = DCM_HTTP_EBIND;
    if ((fd = bind_listener(host, port, &bound, &v6, why, why_size)) < 0)
        goto fail;

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) ? MHD_USE_EPOLL : MHD_USE_POLL;
    if (v6)
        flags |= MHD_USE_IPv6;
    if (h->tls_cert)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem tls_opts[] = {
        {MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key},
        {MHD_OPTION_END, 0, NULL},
    };
    h->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_THREAD_POOL_SIZE, 2u,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)DCM_HTTP_MAX_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)DCM_HTTP_MAX_PER_IP,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)DCM_HTTP_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_ARRAY, h->tls_cert ? tls_opts : tls_opts + 2,
        MHD_OPTION_END);
    if (!h->daemon) {
        /* The socket stays open: whether a failed start has closed it differs between
         * libmicrohttpd releases, and closing a descriptor twice could close another
         * thread's. */
        say(why, why_size, "%s: the HTTP daemon did not start (see the log)", listen_at);
        goto fail;
    }
    snprintf(h->url, sizeof h->url, "%s://%s%s%s:%d/", h->tls_cert ? "https" : "http",
             v6 && *host ? "[" : "", *host ? host : "localhost", v6 && *host ? "]" : "", bound);
    *out = h;
    return DCM_HTTP_OK;
fail:
    dcm_http_destroy(h);
    return err;
}

void dcm_http_attach(dcm_http *h, dcm_runtime *rt, const dcm_http_outputs_view *outputs)
{
    pthread_rwlock_wrlock(&h->rt_lock);
    h->rt = rt;
    memset(&h->outputs, 0, sizeof h->outputs);
    if (rt && outputs)
        h->outputs = *outputs;
    pthread_rwlock_unlock(&h->rt_lock);
}

const char *dcm_http_url(const dcm_http *h) { return h->url; }

void dcm_http_destroy(dcm_http *h)
{
    if (!h)
        return;
    /* Suspended event-stream connections must be resumed before the daemon stops. */
    dcm_sse_hub_close(h->hub);
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    dcm_sse_hub_destroy(h->hub);
    dcm_http_auth_destroy(h->auth);
    if (h->tls_key) {
        explicit_bzero(h->tls_key, strlen(h->tls_key));
        free(h->tls_key);
    }
    free(h->tls_cert);
    free(h->sent_ts);
    free((void *)h->zone_names);
    if (h->rt_lock_ready)
        pthread_rwlock_destroy(&h->rt_lock);
    free(h);
}

/* ------------------------------------------------------------- events */

/* Pipeline thread: each closed record and each 1 s instant record, rendered only when a
 * client wants its window. */
static void on_record(void *ctx, const dcm_kpi_record *rec, const dcm_config *cfg)
{
    dcm_http *h = ctx;
    if (!dcm_sse_wanted(h->hub, DCM_SSE_KPI, (int)rec->window))
        return;
    dcm_kpi_json_in in = {
        .site = cfg->agent.site,
        .has_window = true,
        .window = rec->window,
        .interim = rec->interim,
        .start_ns = rec->start_ns,
        .end_ns = rec->end_ns,
        .calendar = &h->calendar,
        .totals = rec->totals,
        .kpi = rec->kpi,
        .pue_category = rec->pue_category,
        .ruleset = rec->ruleset,
        .zone_names = h->zone_names,
        .zone_count = h->zone_count,
    };
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_kpi_json_write(&j, &in);
    char *text = dcm_json_release(&j, NULL);
    dcm_json_free(&j);
    if (text)
        dcm_sse_publish(h->hub, DCM_SSE_KPI, (int)rec->window, text);
    free(text);
}

dcm_runtime_listener dcm_http_listener(dcm_http *h)
{
    return (dcm_runtime_listener){.on_record = on_record, .instant = true, .ctx = h};
}

void dcm_http_set_alerts(dcm_http *h, dcm_alerts *alerts)
{
    pthread_rwlock_wrlock(&h->rt_lock);
    h->alerts = alerts;
    pthread_rwlock_unlock(&h->rt_lock);
}

void dcm_http_alert_notify(void *ctx, int64_t ts_ns, const char *rule, const char *json)
{
    (void)ts_ns;
    (void)rule;
    dcm_http_publish_alert(ctx, json);
}

void dcm_http_publish_alert(dcm_http *h, const char *json)
{
    if (h && json)
        dcm_sse_publish(h->hub, DCM_SSE_ALERT, -1, json);
}
