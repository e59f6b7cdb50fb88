/* A `type: snmp` collector entry: target, credentials, profile and own points. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_internal.h"
#include "grow.h"
#include "snmp_config.h"

#define NS_PER_MS INT64_C(1000000)

const dcm_config_key dcm_snmp_instance_keys[] = {
    {"host", DCM_KEY_STRING, NULL, true, "HOST[:PORT] of the agent (port 161 by default; [v6]:PORT)"},
    {"version", DCM_KEY_STRING, "2c", false, "SNMP version: 1, 2c or 3"},
    {"community", DCM_KEY_SECRET, "public", false, "community (v1, v2c)"},
    {"user", DCM_KEY_STRING, NULL, false, "v3 user name"},
    {"auth_protocol", DCM_KEY_STRING, NULL, false, "v3: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512"},
    {"auth_password", DCM_KEY_SECRET, NULL, false, "v3 authentication pass phrase"},
    {"priv_protocol", DCM_KEY_STRING, NULL, false, "v3: DES, AES (AES-128), AES-192, AES-256"},
    {"priv_password", DCM_KEY_SECRET, NULL, false, "v3 privacy pass phrase"},
    {"context", DCM_KEY_STRING, NULL, false, "v3 context name"},
    {"profile", DCM_KEY_STRING, NULL, false,
     "compiled-in profile, auto (chosen by sysObjectID), or a profile file (PATH.yaml)"},
    {"points", DCM_KEY_LIST, NULL, false, "scalars: [{name, oid, unit, scale, kind, ...}]"},
    {"tables", DCM_KEY_LIST, NULL, false, "tables: [{name, columns: [...]}]"},
    {"retries", DCM_KEY_INT, "1", false, "retransmissions of an unanswered request"},
    {"request_timeout", DCM_KEY_DURATION, NULL, false,
     "wait for one reply (default: timeout / (retries + 1), at most 1s)"},
    {"max_repetitions", DCM_KEY_INT, "0", false, "GETBULK max-repetitions (0: sized to the table)"},
    {"max_varbinds", DCM_KEY_INT, "32", false, "variables per GET request"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const struct {
    const char *name;
    dcm_snmp_auth a;
} auths[] = {{"MD5", DCM_SNMP_AUTH_MD5},       {"SHA", DCM_SNMP_AUTH_SHA},
             {"SHA1", DCM_SNMP_AUTH_SHA},      {"SHA-1", DCM_SNMP_AUTH_SHA},
             {"SHA-224", DCM_SNMP_AUTH_SHA224}, {"SHA-256", DCM_SNMP_AUTH_SHA256},
             {"SHA-384", DCM_SNMP_AUTH_SHA384}, {"SHA-512", DCM_SNMP_AUTH_SHA512}};

static const struct {
    const char *name;
    dcm_snmp_priv p;
} privs[] = {{"DES", DCM_SNMP_PRIV_DES},        {"AES", DCM_SNMP_PRIV_AES128},
             {"AES-128", DCM_SNMP_PRIV_AES128}, {"AES128", DCM_SNMP_PRIV_AES128},
             {"AES-192", DCM_SNMP_PRIV_AES192}, {"AES192", DCM_SNMP_PRIV_AES192},
             {"AES-256", DCM_SNMP_PRIV_AES256}, {"AES256", DCM_SNMP_PRIV_AES256}};

bool dcm_snmp_auth_parse(const char *s, dcm_snmp_auth *out)
{
    for (size_t i = 0; s && i < sizeof auths / sizeof auths[0]; i++)
        if (strcasecmp(s, auths[i].name) == 0)
            return (*out = auths[i].a), true;
    return false;
}

bool dcm_snmp_priv_parse(const char *s, dcm_snmp_priv *out)
{
    for (size_t i = 0; s && i < sizeof privs / sizeof privs[0]; i++)
        if (strcasecmp(s, privs[i].name) == 0)
            return (*out = privs[i].p), true;
    return false;
}

const char *dcm_snmp_auth_name(dcm_snmp_auth a)
{
    static const char *const n[] = {"none", "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512"};
    return (unsigned)a < sizeof n / sizeof n[0] ? n[a] : "?";
}

const char *dcm_snmp_priv_name(dcm_snmp_priv p)
{
    static const char *const n[] = {"none", "DES", "AES-128", "AES-192", "AES-256"};
    return (unsigned)p < sizeof n / sizeof n[0] ? n[p] : "?";
}

bool dcm_snmp_version_parse(const char *s, int *out)
{
    if (!s)
        return false;
    if (strcmp(s, "1") == 0 || strcasecmp(s, "v1") == 0)
        return (*out = 1), true;
    if (strcasecmp(s, "2c") == 0 || strcasecmp(s, "v2c") == 0 || strcmp(s, "2") == 0)
        return (*out = 2), true;
    if (strcmp(s, "3") == 0 || strcasecmp(s, "v3") == 0)
        return (*out = 3), true;
    return false;
}

char *dcm_snmp_peer_name(const char *host, char *why, size_t why_size)
{
    char addr[256];
    long port = 161;
    const char *p;
    bool v6 = false;
    if (!host || !*host) {
        snprintf(why, why_size, "empty host");
        return NULL;
    }
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close || close == host + 1 || (size_t)(close - host - 1) >= sizeof addr) {
            snprintf(why, why_size, "expected [IPv6]:PORT");
            return NULL;
        }
        memcpy(addr, host + 1, (size_t)(close - host - 1));
        addr[close - host - 1] = '\0';
        p = close[1] == ':' ? close + 2 : (close[1] ? NULL : close + 1);
        if (!p) {
            snprintf(why, why_size, "expected [IPv6]:PORT");
            return NULL;
        }
        v6 = true;
    } else {
        const char *colon = strchr(host, ':');
        if (colon && strchr(colon + 1, ':')) {
            snprintf(why, why_size, "write an IPv6 address in brackets: [%s]:161", host);
            return NULL;
        }
        size_t n = colon ? (size_t)(colon - host) : strlen(host);
        if (n == 0 || n >= sizeof addr) {
            snprintf(why, why_size, "expected HOST[:PORT]");
            return NULL;
        }
        memcpy(addr, host, n);
        addr[n] = '\0';
        p = colon ? colon + 1 : host + n;
    }
    for (const char *c = addr; *c; c++)
        if (*c == ' ' || *c == '/' || (!v6 && *c == '[')) {
            snprintf(why, why_size, "'%s' is not a host name or address", addr);
            return NULL;
        }
    if (*p) {
        char *end;
        port = strtol(p, &end, 10);
        if (*end || port < 1 || port > 65535) {
            snprintf(why, why_size, "port must be 1..65535");
            return NULL;
        }
    }
    size_t size = strlen(addr) + 24;
    char *out = malloc(size);
    if (!out) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    snprintf(out, size, v6 ? "udp6:[%s]:%ld" : "udp:%s:%ld", addr, port);
    return out;
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *v = s;
    while (*v)
        *v++ = '\0';
    free(s);
}

void dcm_snmp_target_free(dcm_snmp_target *t)
{
    free(t->peer);
    free(t->display);
    wipe_free(t->community);
    free(t->user);
    free(t->context);
    wipe_free(t->auth_password);
    wipe_free(t->priv_password);
    memset(t, 0, sizeof *t);
}

void dcm_snmp_instance_free(dcm_snmp_instance *inst)
{
    if (!inst)
        return;
    dcm_snmp_target_free(&inst->target);
    for (size_t i = 0; i < inst->point_count; i++)
        dcm_snmp_point_clear(&inst->points[i]);
    for (size_t i = 0; i < inst->table_count; i++)
        dcm_snmp_table_clear(&inst->tables[i]);
    free(inst->points);
    free(inst->tables);
    memset(inst, 0, sizeof *inst);
}

static void err(dcm_diags *d, const dcm_node *at, const char *path, const char *key,
                const char *msg)
{
    char where[256];
    snprintf(where, sizeof where, "%s%s%s", path, key ? "." : "", key ? key : "");
    dcm_diag_at(d, DCM_DIAG_ERROR, at, where, "%s", msg);
}

/* A secret key: NULL when absent; an error when it cannot be read, unless only checking
 * (check_only), where *given still says that it was written. */
static bool secret(const dcm_node *item, const char *key, const char *path, bool check_only,
                   char **out, bool *given, dcm_diags *d)
{
    char why[200];
    *out = dcm_node_secret(item, key, why, sizeof why);
    *given = *out || why[0];
    if (!*out && why[0] && !check_only) {
        err(d, dcm_node_get(item, key), path, key, why);
        return false;
    }
    return true;
}

static dcm_snmp_err parse_v3(const dcm_node *item, const char *path, bool check_only,
                             dcm_snmp_target *t, dcm_diags *d)
{
    const char *s;
    const dcm_node *v;
    bool has_auth, has_priv;
    if (!dcm_node_as_string(dcm_node_get(item, "user"), &s)) {
        err(d, item, path, "user", "version 3 needs user:");
    } else if (!(t->user = strdup(s))) {
        return DCM_SNMP_ENOMEM;
    }
    if (dcm_node_as_string(v = dcm_node_get(item, "auth_protocol"), &s) &&
        !dcm_snmp_auth_parse(s, &t->auth))
        err(d, v, path, "auth_protocol", "expected MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512");
    if (dcm_node_as_string(v = dcm_node_get(item, "priv_protocol"), &s) &&
        !dcm_snmp_priv_parse(s, &t->priv))
        err(d, v, path, "priv_protocol", "expected DES, AES, AES-192 or AES-256");
    secret(item, "auth_password", path, check_only, &t->auth_password, &has_auth, d);
    secret(item, "priv_password", path, check_only, &t->priv_password, &has_priv, d);
    if (t->auth && !has_auth)
        err(d, item, path, "auth_password", "auth_protocol needs auth_password (or _file, _env)");
    if (!t->auth && has_auth)
        t->auth = DCM_SNMP_AUTH_SHA; /* a pass phrase without a protocol: the common default */
    if (t->priv && !has_priv)
        err(d, item, path, "priv_password", "priv_protocol needs priv_password (or _file, _env)");
    if (!t->priv && has_priv)
        t->priv = DCM_SNMP_PRIV_AES128;
    if (t->priv && !t->auth)
        err(d, item, path, "priv_protocol", "privacy needs authentication (authPriv)");
    /* RFC 3414: pass phrases shorter than 8 characters are refused by agents. */
    if ((t->auth_password && strlen(t->auth_password) < 8) ||
        (t->priv_password && strlen(t->priv_password) < 8))
        err(d, item, path, t->auth_password && strlen(t->auth_password) < 8 ? "auth_password"
                                                                            : "priv_password",
            "pass phrases must have at least 8 characters");
    if (dcm_node_as_string(dcm_node_get(item, "context"), &s) && !(t->context = strdup(s)))
        return DCM_SNMP_ENOMEM;
    return DCM_SNMP_OK;
}

static dcm_snmp_err parse_target(const dcm_node *item, int64_t timeout_ns, const char *path,
                                 bool check_only, dcm_snmp_target *t, dcm_diags *d)
{
    const char *s;
    const dcm_node *v;
    long long x;
    char why[200];
    bool given;
    if (dcm_node_as_string(v = dcm_node_get(item, "host"), &s)) {
        if (!(t->display = strdup(s)))
            return DCM_SNMP_ENOMEM;
        if (!(t->peer = dcm_snmp_peer_name(s, why, sizeof why)))
            err(d, v, path, "host", why);
    }
    t->version = 2;
    if (dcm_node_as_string(v = dcm_node_get(item, "version"), &s) &&
        !dcm_snmp_version_parse(s, &t->version))
        err(d, v, path, "version", "expected 1, 2c or 3");
    if (t->version == 3) {
        if (parse_v3(item, path, check_only, t, d) == DCM_SNMP_ENOMEM)
            return DCM_SNMP_ENOMEM;
    } else {
        if (!secret(item, "community", path, check_only, &t->community, &given, d))
            return DCM_SNMP_OK;
        if (!t->community && !(t->community = strdup("public")))
            return DCM_SNMP_ENOMEM;
    }
    t->retries = 1;
    if (dcm_node_as_int(v = dcm_node_get(item, "retries"), &x)) {
        if (x < 0 || x > 10)
            err(d, v, path, "retries", "expected 0..10");
        else
            t->retries = (int)x;
    }
    int64_t ns = timeout_ns / (t->retries + 1);
    t->request_timeout_ns = ns > 1000 * NS_PER_MS ? 1000 * NS_PER_MS : ns;
    if (dcm_node_as_duration_ns(v = dcm_node_get(item, "request_timeout"), &ns)) {
        if (ns < 10 * NS_PER_MS || ns > 60000 * NS_PER_MS)
            err(d, v, path, "request_timeout", "expected 10ms..60s");
        else
            t->request_timeout_ns = ns;
    }
    if (t->request_timeout_ns < 10 * NS_PER_MS)
        t->request_timeout_ns = 10 * NS_PER_MS;
    if (dcm_node_as_int(v = dcm_node_get(item, "max_repetitions"), &x)) {
        if (x < 0 || x > 1000)
            err(d, v, path, "max_repetitions", "expected 0..1000");
        else
            t->max_repetitions = (int)x;
    }
    t->max_varbinds = 32;
    if (dcm_node_as_int(v = dcm_node_get(item, "max_varbinds"), &x)) {
        if (x < 1 || x > 256)
            err(d, v, path, "max_varbinds", "expected 1..256");
        else
            t->max_varbinds = (int)x;
    }
    return DCM_SNMP_OK;
}

static dcm_snmp_err parse_own(const dcm_node *item, const char *path, dcm_snmp_instance *inst,
                              dcm_diags *d)
{
    size_t cap = 0;
    const dcm_node *list = dcm_node_get(item, "points");
    for (size_t i = 0; i < dcm_node_size(list); i++) {
        char where[200];
        snprintf(where, sizeof where, "%s.points[%zu]", path, i);
        dcm_snmp_point p;
        dcm_snmp_err e = dcm_snmp_point_parse(dcm_node_at(list, i), false, where, &p, d);
        if (e == DCM_SNMP_ENOMEM)
            return e;
        if (e != DCM_SNMP_OK)
            continue;
        if (!dcm_grow((void **)&inst->points, &cap, inst->point_count + 1, sizeof p, 8)) {
            dcm_snmp_point_clear(&p);
            return DCM_SNMP_ENOMEM;
        }
        inst->points[inst->point_count++] = p;
    }
    cap = 0;
    list = dcm_node_get(item, "tables");
    for (size_t i = 0; i < dcm_node_size(list); i++) {
        char where[200];
        snprintf(where, sizeof where, "%s.tables[%zu]", path, i);
        dcm_snmp_table t;
        dcm_snmp_err e = dcm_snmp_table_parse(dcm_node_at(list, i), where, &t, d);
        if (e == DCM_SNMP_ENOMEM)
            return e;
        if (e != DCM_SNMP_OK)
            continue;
        if (!dcm_grow((void **)&inst->tables, &cap, inst->table_count + 1, sizeof t, 4)) {
            dcm_snmp_table_clear(&t);
            return DCM_SNMP_ENOMEM;
        }
        inst->tables[inst->table_count++] = t;
    }
    return DCM_SNMP_OK;
}

static dcm_snmp_err instance_parse(const dcm_node *item, int64_t timeout_ns, const char *path,
                                   bool check_only, dcm_snmp_instance *out, dcm_diags *diags)
{
    memset(out, 0, sizeof *out);
    size_t errors = diags->errors;
    if (parse_target(item, timeout_ns, path, check_only, &out->target, diags) ==
        DCM_SNMP_ENOMEM)
        return DCM_SNMP_ENOMEM;
    const char *s;
    const dcm_node *v = dcm_node_get(item, "profile");
    if (dcm_node_as_string(v, &s)) {
        if (strcmp(s, "auto") == 0) {
            out->auto_profile = true;
        } else {
            char where[200];
            snprintf(where, sizeof where, "%s.profile", path);
            dcm_snmp_err e = dcm_snmp_profile_get(s, v, where, &out->profile, diags);
            if (e == DCM_SNMP_ENOMEM)
                return e;
        }
    }
    if (parse_own(item, path, out, diags) == DCM_SNMP_ENOMEM)
        return DCM_SNMP_ENOMEM;
    if (!v && !dcm_node_size(dcm_node_get(item, "points")) &&
        !dcm_node_size(dcm_node_get(item, "tables")))
        err(diags, item, path, NULL, "no points: name a profile: (or auto) or give points:");
    return diags->errors == errors ? DCM_SNMP_OK : DCM_SNMP_EINVALID;
}

dcm_snmp_err dcm_snmp_instance_parse(const dcm_node *item, int64_t timeout_ns, const char *path,
                                     dcm_snmp_instance *out, dcm_diags *diags)
{
    return instance_parse(item, timeout_ns, path, false, out, diags);
}

dcm_snmp_err dcm_snmp_instance_check(const dcm_node *item, int64_t timeout_ns, const char *path,
                                     dcm_diags *diags)
{
    dcm_snmp_instance inst;
    dcm_snmp_err e = instance_parse(item, timeout_ns, path, true, &inst, diags);
    dcm_snmp_instance_free(&inst);
    return e;
}
