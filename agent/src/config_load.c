/* The loader: YAML text -> node tree -> validated dcm_config (agent, collectors,
 * outputs here; the site section in config_site.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_internal.h"
#include "dcm/log.h"

#define MIN_INTERVAL_NS (10 * INT64_C(1000000)) /* 10 ms: faster polling is a mistake */
#define DEFAULT_TIMEOUT_CAP_NS (5 * DCM_NS_PER_S)

static dcm_collector_find_fn lookup_find = dcm_collector_find;
static dcm_collector_all_fn lookup_all = dcm_collector_all;

void dcm_config_set_collector_lookup(dcm_collector_find_fn find, dcm_collector_all_fn all)
{
    lookup_find = find ? find : dcm_collector_find;
    lookup_all = all ? all : dcm_collector_all;
}

/* Every collector type dcmetrics knows, compiled in or not: a type in this list that the
 * registry lacks was left out of this build, which deserves a different message from a
 * typo. */
static const char *const known_types[] = {"modbus", "snmp", "nvml", "rocm", "procstat",
                                          "rapl", "redfish", "sim", NULL};

static const dcm_config_key top_keys[] = {
    {"agent", DCM_KEY_MAP, NULL, false, "agent settings"},
    {"collectors", DCM_KEY_LIST, NULL, false, "collector instances"},
    {"site", DCM_KEY_MAP, NULL, false, "the site model"},
    {"outputs", DCM_KEY_MAP, NULL, false, "MQTT, InfluxDB and HTTP outputs"},
    {"alerts", DCM_KEY_LIST, NULL, false, "alert rules (docs/alerts.md)"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key agent_keys[] = {
    {"site", DCM_KEY_STRING, "site", false, "site id used in topics, tags and reports"},
    {"interval", DCM_KEY_DURATION, "1s", false, "default poll interval"},
    {"state_dir", DCM_KEY_STRING, "/var/lib/dcmetrics", false, "ledger and journal directory"},
    {"log_level", DCM_KEY_STRING, "info", false, "error, warn, info or debug"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key collector_keys[] = {
    {"name", DCM_KEY_STRING, NULL, true, "instance name; point ids are <name>.<point>"},
    {"type", DCM_KEY_STRING, NULL, true, "collector type"},
    {"interval", DCM_KEY_DURATION, NULL, false, "poll interval (default agent.interval)"},
    {"timeout", DCM_KEY_DURATION, NULL, false, "per-poll deadline (default min(interval, 5s))"},
    {"enabled", DCM_KEY_BOOL, "true", false, "false keeps the instance configured but idle"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

const dcm_config_key *dcm_config_collector_common_keys(void)
{
    return collector_keys;
}

static const dcm_config_key outputs_keys[] = {
    {"mqtt", DCM_KEY_MAP, NULL, false, "MQTT output"},
    {"influxdb", DCM_KEY_MAP, NULL, false, "InfluxDB output"},
    {"http", DCM_KEY_MAP, NULL, false, "HTTP API and dashboard"},
    {"journal", DCM_KEY_MAP, NULL, false, "the durable journal of the MQTT and InfluxDB outputs"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key mqtt_keys[] = {
    {"url", DCM_KEY_STRING, NULL, true, "broker URL, tcp://host:1883 or ssl://host:8883"},
    {"prefix", DCM_KEY_STRING, "dcmetrics", false, "topic prefix"},
    {"qos", DCM_KEY_INT, "1", false, "0, 1 or 2"},
    {"client_id", DCM_KEY_STRING, NULL, false, "default dcmetrics-<agent.site>"},
    {"username", DCM_KEY_STRING, NULL, false, "user name"},
    {"password", DCM_KEY_SECRET, NULL, false, "password"},
    {"ca_file", DCM_KEY_STRING, NULL, false, "CA certificates (PEM) for ssl://"},
    {"cert_file", DCM_KEY_STRING, NULL, false, "client certificate (PEM)"},
    {"key_file", DCM_KEY_STRING, NULL, false, "client private key (PEM)"},
    {"verify", DCM_KEY_BOOL, "true", false, "verify the broker's certificate and host name"},
    {"keepalive", DCM_KEY_DURATION, "30s", false, "MQTT keep-alive interval"},
    {"version", DCM_KEY_STRING, "3.1.1", false, "3.1, 3.1.1 or 5"},
    {"max_inflight", DCM_KEY_INT, "200", false, "most messages awaiting the broker's ack"},
    {"point_expiry", DCM_KEY_DURATION, "1h", false, "MQTT 5 expiry of point samples; 0 = none"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key influx_keys[] = {
    {"url", DCM_KEY_STRING, NULL, true, "server URL, http://host:8086"},
    {"database", DCM_KEY_STRING, NULL, false, "InfluxDB 1.x database"},
    {"retention_policy", DCM_KEY_STRING, NULL, false, "InfluxDB 1.x retention policy"},
    {"org", DCM_KEY_STRING, NULL, false, "InfluxDB 2.x organisation"},
    {"bucket", DCM_KEY_STRING, NULL, false, "InfluxDB 2.x bucket"},
    {"token", DCM_KEY_SECRET, NULL, false, "InfluxDB 2.x API token"},
    {"username", DCM_KEY_STRING, NULL, false, "InfluxDB 1.x user"},
    {"password", DCM_KEY_SECRET, NULL, false, "InfluxDB 1.x password"},
    {"precision", DCM_KEY_STRING, "ns", false, "timestamp precision: ns, us, ms or s"},
    {"batch_lines", DCM_KEY_INT, "5000", false, "most lines per write request"},
    {"flush_interval", DCM_KEY_DURATION, "1s", false, "longest wait before a write"},
    {"timeout", DCM_KEY_DURATION, "10s", false, "longest write request (connect: at most 5s)"},
    {"max_backoff", DCM_KEY_DURATION, "60s", false, "longest wait between retries"},
    {"gzip", DCM_KEY_BOOL, "true", false, "compress request bodies"},
    {"ca_file", DCM_KEY_STRING, NULL, false, "CA certificates (PEM) for https://"},
    {"verify", DCM_KEY_BOOL, "true", false, "verify the server's certificate and host name"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key http_keys[] = {
    {"listen", DCM_KEY_STRING, "127.0.0.1:8080", false, "address:port to serve on"},
    {"auth_file", DCM_KEY_STRING, NULL, false,
     "credentials: user:password, user:sha256:<hex> or a bearer token, one per line"},
    {"tls_cert", DCM_KEY_STRING, NULL, false, "certificate (PEM) to serve HTTPS"},
    {"tls_key", DCM_KEY_STRING, NULL, false, "private key (PEM) for tls_cert"},
    {"pue_target", DCM_KEY_DOUBLE, NULL, false,
     "PUE target drawn on the live page's gauge (1.0 to 3.0)"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static bool valid_id(const char *s)
{
    if (!s[0])
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-'))
            return false;
    return true;
}

static const char *str_of(const dcm_node *map, const char *key)
{
    const char *s = NULL;
    return dcm_node_as_string(dcm_node_get(map, key), &s) ? s : NULL;
}

static bool one_of(const char *s, const char *const *set)
{
    for (size_t i = 0; set[i]; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

static void check_enum(dcm_cfg_ctx *c, const dcm_node *map, const char *key, const char *path,
                       const char *const *set, const char *expected)
{
    const dcm_node *v = dcm_node_get(map, key);
    const char *s = str_of(map, key);
    if (!s || one_of(s, set))
        return;
    size_t n = 0;
    while (set[n])
        n++;
    const char *sug = dcm_suggest(s, set, n);
    char where[256];
    snprintf(where, sizeof(where), "%s.%s", path, key);
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, v, where, "expected %s, got '%.40s'%s%s%s", expected, s,
                sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
}

static void check_duration_min(dcm_cfg_ctx *c, const dcm_node *map, const char *key,
                               const char *path, int64_t min_ns, const char *what)
{
    int64_t v;
    const dcm_node *n = dcm_node_get(map, key);
    if (!dcm_node_as_duration_ns(n, &v) || v >= min_ns)
        return;
    char where[256];
    snprintf(where, sizeof(where), "%s.%s", path, key);
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, where, "must be at least %s", what);
}

/* ------------------------------------------------------------- agent */

static void load_agent(dcm_cfg_ctx *c, const dcm_node *agent, dcm_agent_config *out)
{
    out->interval_ns = DCM_NS_PER_S;
    out->log_level = DCM_LOG_INFO;
    if (agent && !dcm_cfg_check_keys(c, agent, "agent", agent_keys, NULL))
        agent = NULL;
    const char *site = str_of(agent, "site");
    if (site && !valid_id(site)) {
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(agent, "site"), "agent.site",
                    "expected an id of letters, digits, '_' and '-' (it is used in MQTT "
                    "topics), got '%.40s'",
                    site);
    }
    out->site = dcm_cfg_strdup(c, site ? site : "site");
    check_duration_min(c, agent, "interval", "agent", MIN_INTERVAL_NS, "10ms");
    dcm_node_as_duration_ns(dcm_node_get(agent, "interval"), &out->interval_ns);
    const char *dir = str_of(agent, "state_dir");
    out->state_dir = dcm_cfg_strdup(c, dir ? dir : "/var/lib/dcmetrics");
    static const char *const levels[] = {"error", "warn", "info", "debug", NULL};
    check_enum(c, agent, "log_level", "agent", levels, "error, warn, info or debug");
    const char *lvl = str_of(agent, "log_level");
    for (int i = 0; lvl && levels[i]; i++)
        if (strcmp(lvl, levels[i]) == 0)
            out->log_level = i; /* the table follows dcm_log_level's order */
}

/* ------------------------------------------------------------- collectors */

static void report_unknown_type(dcm_cfg_ctx *c, const dcm_node *v, const char *path,
                                const char *type)
{
    const dcm_collector_descriptor *const *all = lookup_all();
    const char *names[64];
    size_t n = 0;
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; all && all[i] && n < 64; i++) {
        names[n++] = all[i]->name;
        int w = snprintf(list + used, sizeof(list) - used, "%s%s", used ? ", " : "",
                         all[i]->name);
        if (w > 0 && (size_t)w < sizeof(list) - used)
            used += (size_t)w;
    }
    if (one_of(type, known_types)) {
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, v, path,
                    "collector type '%s' is not compiled into this build (compiled-in types: "
                    "%s); rebuild with its DCM_WITH_* CMake option",
                    type, n ? list : "none");
        return;
    }
    const char *sug = dcm_suggest(type, names, n);
    if (!sug) {
        size_t k = 0;
        while (known_types[k])
            k++;
        sug = dcm_suggest(type, known_types, k);
    }
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, v, path,
                "unknown collector type '%.40s'%s%s%s (compiled-in types: %s)", type,
                sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "",
                n ? list : "none");
}

static void load_collector(dcm_cfg_ctx *c, const dcm_node *item, size_t idx,
                           const dcm_agent_config *agent, dcm_collector_config *out)
{
    char path[64];
    snprintf(path, sizeof(path), "collectors[%zu]", idx);
    out->node = item;
    out->enabled = true;
    out->interval_ns = agent->interval_ns;
    if (item->type != DCM_NODE_MAP) {
        dcm_cfg_check_keys(c, item, path, collector_keys, NULL);
        return;
    }
    const char *type = str_of(item, "type");
    const dcm_collector_descriptor *d = type ? lookup_find(type) : NULL;
    char where[80];
    snprintf(where, sizeof(where), "%s.type", path);
    if (d && d->abi_version == DCM_COLLECTOR_ABI) {
        size_t errors = c->diags->errors;
        dcm_cfg_check_keys(c, item, path, collector_keys, d->keys);
        /* The collector's own checks read the keys as the table typed them: only once
         * that held, or they would report the same mistake again in other words. */
        if (d->check && c->diags->errors == errors)
            d->check(item, path, c->diags);
    } else {
        /* Without a usable descriptor the other keys cannot be judged: check the common
         * ones only, and say why the type is not usable. */
        dcm_cfg_check_known_keys(c, item, path, collector_keys);
        if (d)
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(item, "type"), where,
                        "collector type '%s' was built for ABI %d, this agent speaks %d", type,
                        d->abi_version, DCM_COLLECTOR_ABI);
        else if (type)
            report_unknown_type(c, dcm_node_get(item, "type"), where, type);
        d = NULL;
    }
    out->descriptor = d;
    const char *name = str_of(item, "name");
    if (name && !valid_id(name)) {
        snprintf(where, sizeof(where), "%s.name", path);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(item, "name"), where,
                    "expected letters, digits, '_' and '-' (point ids are <name>.<point>), "
                    "got '%.40s'",
                    name);
    }
    out->name = dcm_cfg_strdup(c, name);
    out->type = dcm_cfg_strdup(c, type);
    check_duration_min(c, item, "interval", path, MIN_INTERVAL_NS, "10ms");
    dcm_node_as_duration_ns(dcm_node_get(item, "interval"), &out->interval_ns);
    out->timeout_ns =
        out->interval_ns < DEFAULT_TIMEOUT_CAP_NS ? out->interval_ns : DEFAULT_TIMEOUT_CAP_NS;
    const dcm_node *tn = dcm_node_get(item, "timeout");
    int64_t t;
    if (dcm_node_as_duration_ns(tn, &t)) {
        snprintf(where, sizeof(where), "%s.timeout", path);
        if (t < INT64_C(1000000))
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, tn, where, "must be at least 1ms");
        else if (t > out->interval_ns)
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, tn, where,
                        "must not exceed the poll interval (%.3f s): a poll may not overlap "
                        "the next one",
                        (double)out->interval_ns / 1e9);
        else
            out->timeout_ns = t;
    }
    dcm_node_as_bool(dcm_node_get(item, "enabled"), &out->enabled);
}

static void load_collectors(dcm_cfg_ctx *c, const dcm_node *list, dcm_config *cfg)
{
    if (!list || list->count == 0)
        return;
    cfg->collectors = calloc(list->count, sizeof(*cfg->collectors));
    if (!cfg->collectors) {
        c->oom = true;
        return;
    }
    cfg->collector_count = list->count;
    for (size_t i = 0; i < list->count; i++) {
        load_collector(c, list->items[i], i, &cfg->agent, &cfg->collectors[i]);
        const char *name = cfg->collectors[i].name;
        for (size_t j = 0; name && j < i; j++) {
            if (cfg->collectors[j].name && strcmp(cfg->collectors[j].name, name) == 0) {
                char path[64];
                snprintf(path, sizeof(path), "collectors[%zu].name", i);
                const dcm_node *first = dcm_node_get(cfg->collectors[j].node, "name");
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(list->items[i], "name"),
                            path, "duplicate collector name '%s' (also collectors[%zu], line %d)",
                            name, j, dcm_node_line(first));
                break;
            }
        }
    }
}

/* ------------------------------------------------------------- outputs */

static void check_url_scheme(dcm_cfg_ctx *c, const dcm_node *map, const char *path,
                             const char *const *schemes, const char *example)
{
    const char *url = str_of(map, "url");
    if (!url)
        return;
    const char *sep = strstr(url, "://");
    if (sep && sep[3]) {
        for (size_t i = 0; schemes[i]; i++) {
            size_t n = strlen(schemes[i]);
            if ((size_t)(sep - url) == n && strncmp(url, schemes[i], n) == 0)
                return;
        }
    }
    char where[64];
    snprintf(where, sizeof(where), "%s.url", path);
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(map, "url"), where,
                "expected a URL like %s, got '%.60s'", example, url);
}

static void check_pair(dcm_cfg_ctx *c, const dcm_node *map, const char *path, const char *a,
                       const char *b)
{
    bool has_a = str_of(map, a) != NULL, has_b = str_of(map, b) != NULL;
    if (has_a == has_b)
        return;
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(map, has_a ? a : b), path,
                "'%s' needs '%s' beside it", has_a ? a : b, has_a ? b : a);
}

static void check_int_range(dcm_cfg_ctx *c, const dcm_node *map, const char *key,
                            const char *path, long long lo, long long hi)
{
    long long v;
    const dcm_node *n = dcm_node_get(map, key);
    if (!dcm_node_as_int(n, &v) || (v >= lo && v <= hi))
        return;
    char where[64];
    snprintf(where, sizeof(where), "%s.%s", path, key);
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, where,
                "expected an integer from %lld to %lld, got %lld", lo, hi, v);
}

static void check_listen(dcm_cfg_ctx *c, const dcm_node *http)
{
    const char *s = str_of(http, "listen");
    if (!s)
        return;
    const char *colon = strrchr(s, ':');
    bool ok = colon && colon[1];
    long port = 0;
    if (ok) {
        char *end;
        port = strtol(colon + 1, &end, 10);
        ok = *end == '\0' && port >= 1 && port <= 65535;
    }
    /* An IPv6 address needs brackets, or its last group would read as the port. */
    if (ok && strchr(s, ':') != colon)
        ok = s[0] == '[' && colon > s && colon[-1] == ']';
    if (!ok)
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(http, "listen"),
                    "outputs.http.listen",
                    "expected address:port like 127.0.0.1:8080, :8080 or [::1]:8080, got "
                    "'%.60s'",
                    s);
}

static void load_mqtt(dcm_cfg_ctx *c, const dcm_node *mqtt)
{
    static const char *const schemes[] = {"tcp", "ssl", "mqtt", "mqtts", "ws", "wss", NULL};
    static const char *const versions[] = {"3.1", "3.1.1", "5", NULL};
    const char *p = "outputs.mqtt";
    check_url_scheme(c, mqtt, p, schemes, "tcp://host:1883 or ssl://host:8883");
    check_int_range(c, mqtt, "qos", p, 0, 2);
    check_enum(c, mqtt, "version", p, versions, "3.1, 3.1.1 or 5");
    check_duration_min(c, mqtt, "keepalive", p, DCM_NS_PER_S, "1s");
    check_pair(c, mqtt, p, "cert_file", "key_file");
    check_int_range(c, mqtt, "max_inflight", p, 1, 65535);
    int64_t expiry;
    const dcm_node *en = dcm_node_get(mqtt, "point_expiry");
    /* MQTT 5 counts the expiry in whole seconds, in 32 bits. */
    if (dcm_node_as_duration_ns(en, &expiry) && expiry != 0 &&
        (expiry < DCM_NS_PER_S || expiry / DCM_NS_PER_S > INT64_C(4294967295)))
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, en, "outputs.mqtt.point_expiry",
                    "expected 0 (no expiry) or from 1s to 136 years");
    const char *prefix = str_of(mqtt, "prefix");
    if (prefix && (!prefix[0] || strpbrk(prefix, "+#") || prefix[0] == '/' ||
                   prefix[strlen(prefix) - 1] == '/'))
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(mqtt, "prefix"), "outputs.mqtt.prefix",
                    "expected topic levels like 'dcmetrics' or 'plant/energy' (no '+', '#', "
                    "leading or trailing '/'), got '%.60s'",
                    prefix);
}

static void load_influx(dcm_cfg_ctx *c, const dcm_node *influx)
{
    static const char *const schemes[] = {"http", "https", NULL};
    static const char *const precisions[] = {"ns", "us", "ms", "s", NULL};
    const char *p = "outputs.influxdb";
    check_url_scheme(c, influx, p, schemes, "http://host:8086");
    check_enum(c, influx, "precision", p, precisions, "ns, us, ms or s");
    check_int_range(c, influx, "batch_lines", p, 1, 1000000);
    check_duration_min(c, influx, "flush_interval", p, MIN_INTERVAL_NS, "10ms");
    check_duration_min(c, influx, "timeout", p, 100 * INT64_C(1000000), "100ms");
    check_duration_min(c, influx, "max_backoff", p, 100 * INT64_C(1000000), "100ms");
    const char *ca = str_of(influx, "ca_file");
    if (ca && access(ca, R_OK) != 0)
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(influx, "ca_file"),
                    "outputs.influxdb.ca_file", "cannot read '%.200s': %s", ca, strerror(errno));
    if (!str_of(influx, "database") && !str_of(influx, "bucket"))
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, influx, p,
                    "give 'database' (InfluxDB 1.x) or 'org' and 'bucket' (2.x)");
    check_pair(c, influx, p, "org", "bucket");
}

static void load_http(dcm_cfg_ctx *c, const dcm_node *http)
{
    check_listen(c, http);
    check_pair(c, http, "outputs.http", "tls_cert", "tls_key");
    double target;
    const dcm_node *t = dcm_node_get(http, "pue_target");
    if (dcm_node_as_double(t, &target) && (target < 1.0 || target > 3.0))
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, t, "outputs.http.pue_target",
                    "expected a PUE from 1.0 to 3.0, got %g", target);
}

/* An output's mapping after its key check; NULL when absent or not a mapping. */
static const dcm_node *output(dcm_cfg_ctx *c, const dcm_node *outputs, const char *key,
                              const dcm_config_key *keys)
{
    const dcm_node *n = dcm_node_get(outputs, key);
    if (!n || dcm_node_is_null(n))
        return NULL;
    char path[32];
    snprintf(path, sizeof(path), "outputs.%s", key);
    return dcm_cfg_check_keys(c, n, path, keys, NULL) ? n : NULL;
}

static void load_outputs(dcm_cfg_ctx *c, const dcm_node *outputs, dcm_outputs_config *out)
{
    dcm_cfg_load_journal(c, NULL, &out->journal); /* the defaults */
    if (!outputs || !dcm_cfg_check_keys(c, outputs, "outputs", outputs_keys, NULL))
        return;
    const dcm_node *journal = dcm_node_get(outputs, "journal");
    if (journal && !dcm_node_is_null(journal))
        dcm_cfg_load_journal(c, journal, &out->journal);
    if ((out->mqtt = output(c, outputs, "mqtt", mqtt_keys)))
        load_mqtt(c, out->mqtt);
    if ((out->influxdb = output(c, outputs, "influxdb", influx_keys)))
        load_influx(c, out->influxdb);
    if ((out->http = output(c, outputs, "http", http_keys)))
        load_http(c, out->http);
}

/* ------------------------------------------------------------- entry points */

void dcm_config_destroy(dcm_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->path);
    free(cfg->agent.site);
    free(cfg->agent.state_dir);
    for (size_t i = 0; i < cfg->collector_count; i++) {
        free(cfg->collectors[i].name);
        free(cfg->collectors[i].type);
    }
    free(cfg->collectors);
    dcm_cfg_free_site(&cfg->site);
    dcm_cfg_free_alerts(cfg);
    dcm_node_free(cfg->root);
    free(cfg);
}

static const dcm_node *section(const dcm_node *root, const char *key, dcm_node_type type)
{
    const dcm_node *n = dcm_node_get(root, key);
    return n && n->type == type ? n : NULL;
}

static void load_tree(dcm_cfg_ctx *c, dcm_config *cfg)
{
    const dcm_node *root = cfg->root;
    if (!root) {
        dcm_diags_add(c->diags, DCM_DIAG_ERROR, cfg->path, 0, 0, "",
                      "the configuration is empty (expected agent, collectors, site, outputs)");
        return;
    }
    if (!dcm_cfg_check_keys(c, root, "", top_keys, NULL))
        return;
    /* Sections of the wrong kind were reported by the check above: load them as absent,
     * so that defaults fill the configuration and nothing is reported twice. */
    load_agent(c, section(root, "agent", DCM_NODE_MAP), &cfg->agent);
    load_collectors(c, section(root, "collectors", DCM_NODE_LIST), cfg);
    dcm_cfg_load_site(c, section(root, "site", DCM_NODE_MAP), &cfg->site);
    load_outputs(c, section(root, "outputs", DCM_NODE_MAP), &cfg->outputs);
    dcm_cfg_load_alerts(c, section(root, "alerts", DCM_NODE_LIST), cfg);
}

dcm_config_err dcm_config_load_string(const char *text, size_t len, const char *name,
                                      dcm_config **out, dcm_diags *diags)
{
    *out = NULL;
    dcm_config *cfg = calloc(1, sizeof(*cfg));
    if (!cfg)
        return DCM_CONFIG_ENOMEM;
    dcm_cfg_ctx c = {.diags = diags, .oom = false};
    size_t errors_before = diags->errors;
    dcm_config_err err;
    cfg->path = strdup(name ? name : "<config>");
    if (!cfg->path) {
        err = DCM_CONFIG_ENOMEM;
        goto fail;
    }
    err = dcm_node_parse(text ? text : "", text ? len : 0, cfg->path, &cfg->root, diags);
    if (err != DCM_CONFIG_OK)
        goto fail;
    load_tree(&c, cfg);
    if (c.oom) {
        err = DCM_CONFIG_ENOMEM;
        goto fail;
    }
    if (diags->errors > errors_before) {
        err = DCM_CONFIG_EINVALID;
        goto fail;
    }
    *out = cfg;
    return DCM_CONFIG_OK;
fail:
    dcm_config_destroy(cfg);
    return err;
}

dcm_config_err dcm_config_load(const char *path, dcm_config **out, dcm_diags *diags)
{
    *out = NULL;
    char *text = NULL;
    dcm_config_err err = DCM_CONFIG_EIO;
    FILE *f = NULL;
    if (!path) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, "", 0, 0, "", "no configuration file given");
        goto fail;
    }
    struct stat st;
    f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) != 0) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, path, 0, 0, "", "cannot open: %s", strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, path, 0, 0, "", "cannot read: not a regular file");
        goto fail;
    }
    if ((uintmax_t)st.st_size > DCM_CONFIG_MAX_BYTES) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, path, 0, 0, "",
                      "cannot read: larger than %u bytes", DCM_CONFIG_MAX_BYTES);
        goto fail;
    }
    size_t size = (size_t)st.st_size;
    text = malloc(size + 1);
    if (!text) {
        err = DCM_CONFIG_ENOMEM;
        goto fail;
    }
    size_t got = fread(text, 1, size, f);
    if (got != size || ferror(f)) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, path, 0, 0, "", "cannot read: %s",
                      ferror(f) ? strerror(errno) : "the file changed while being read");
        goto fail;
    }
    text[size] = '\0';
    fclose(f);
    f = NULL;
    err = dcm_config_load_string(text, size, path, out, diags);
fail:
    if (f)
        fclose(f);
    free(text);
    return err;
}
