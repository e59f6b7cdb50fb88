/* A redfish collector entry: url or bmcs, credentials, TLS, chassis. */
#include "rf_config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define PARALLEL_MAX 1024

const dcm_config_key rf_instance_keys[] = {
    {"url", DCM_KEY_STRING, NULL, false, "the BMC or PDU: https://HOST[:PORT] (or bmcs:)"},
    {"bmcs", DCM_KEY_LIST, NULL, false,
     "several BMCs polled in parallel: [{name, url, username, password, ...}]"},
    {"username", DCM_KEY_STRING, NULL, false, "account on the BMC (read-only role is enough)"},
    {"password", DCM_KEY_SECRET, NULL, false, "password, or password_file / password_env"},
    {"auth", DCM_KEY_STRING, NULL, false,
     "basic, session or none (default: basic with a username, else none)"},
    {"ca_file", DCM_KEY_STRING, NULL, false, "CA certificates (PEM) that sign the BMCs' certificates"},
    {"verify", DCM_KEY_BOOL, "true", false,
     "verify the TLS certificate and host name (false is unsafe: anyone on the path can read "
     "the password)"},
    {"chassis", DCM_KEY_LIST, NULL, false,
     "chassis ids to read and add up (default: the first chassis that reports power)"},
    {"parallel", DCM_KEY_INT, "64", false, "most HTTP transfers at once, 1..1024"},
    {"keep_alive", DCM_KEY_BOOL, "true", false,
     "keep each BMC's connection open between polls (false: at most `parallel` stay open; "
     "less memory, a TLS handshake per poll)"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

const dcm_config_key rf_bmc_keys[] = {
    {"name", DCM_KEY_STRING, NULL, true, "BMC name: point ids are <instance>.<name>.<point>"},
    {"url", DCM_KEY_STRING, NULL, true, "https://HOST[:PORT]"},
    {"username", DCM_KEY_STRING, NULL, false, "account (default: the entry's)"},
    {"password", DCM_KEY_SECRET, NULL, false, "password, or password_file / password_env"},
    {"auth", DCM_KEY_STRING, NULL, false, "basic, session or none"},
    {"ca_file", DCM_KEY_STRING, NULL, false, "CA certificates (PEM)"},
    {"verify", DCM_KEY_BOOL, NULL, false, "verify the TLS certificate (default: the entry's)"},
    {"chassis", DCM_KEY_LIST, NULL, false, "chassis ids to read and add up"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

const char *rf_strerror(rf_err err)
{
    switch (err) {
    case RF_OK: return "ok";
    case RF_EINVALID: return "invalid configuration";
    case RF_ENOMEM: return "out of memory";
    }
    return "unknown error";
}

static void wipe_free(char *s)
{
    if (!s)
        return;
    volatile char *p = s;
    while (*p)
        *p++ = '\0';
    free(s);
}

static void spec_free(rf_bmc_spec *s)
{
    free(s->name);
    free(s->url);
    free(s->username);
    wipe_free(s->password);
    free(s->ca_file);
    for (size_t i = 0; i < s->chassis_count; i++)
        free(s->chassis[i]);
    free(s->chassis);
    memset(s, 0, sizeof *s);
}

void rf_instance_free(rf_instance *inst)
{
    if (!inst)
        return;
    for (size_t i = 0; i < inst->count; i++)
        spec_free(&inst->bmcs[i]);
    free(inst->bmcs);
    memset(inst, 0, sizeof *inst);
}

static const dcm_node *given(const dcm_node *map, const char *key)
{
    const dcm_node *n = map ? dcm_node_get(map, key) : NULL;
    return n && !dcm_node_is_null(n) ? n : NULL;
}

/* The BMC entry's value of key, else the collector entry's. */
static const dcm_node *inherit(const dcm_node *bmc, const dcm_node *inst, const char *key)
{
    const dcm_node *v = given(bmc, key);
    return v ? v : (bmc != inst ? given(inst, key) : NULL);
}

static bool has_secret(const dcm_node *map)
{
    return given(map, "password") || given(map, "password_file") || given(map, "password_env");
}

/* "http(s)://host[:port]" with at most a trailing slash: the collector adds the paths. */
static char *clean_url(const char *url, char *why, size_t why_size)
{
    const char *rest = NULL;
    if (strncmp(url, "https://", 8) == 0)
        rest = url + 8;
    else if (strncmp(url, "http://", 7) == 0)
        rest = url + 7;
    if (!rest || !rest[0] || rest[0] == '/') {
        snprintf(why, why_size, "expected https://HOST[:PORT], got '%.80s'", url);
        return NULL;
    }
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    for (const char *p = rest; p < url + n; p++) {
        if (*p == '/' || *p == '?' || *p == '#' || *p == '@' || isspace((unsigned char)*p) ||
            !isprint((unsigned char)*p)) {
            snprintf(why, why_size,
                     "expected only the address, https://HOST[:PORT] (the collector finds "
                     "/redfish/v1 itself; credentials go in username/password), got '%.80s'",
                     url);
            return NULL;
        }
    }
    char *out = malloc(n + 1);
    if (out) {
        memcpy(out, url, n);
        out[n] = '\0';
    }
    return out;
}

static bool valid_name(const char *s)
{
    if (!s || !s[0] || strlen(s) > 64)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
            return false;
    return true;
}

static void err(dcm_diags *d, const dcm_node *at, const char *path, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void err(dcm_diags *d, const dcm_node *at, const char *path, const char *key,
                const char *fmt, ...)
{
    char where[256], msg[400];
    va_list ap;
    snprintf(where, sizeof where, "%s%s%s", path, key ? "." : "", key ? key : "");
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dcm_diag_at(d, DCM_DIAG_ERROR, at, where, "%s", msg);
}

/* Reads one BMC (bmc is the entry of bmcs:, or the collector entry itself). */
static rf_err read_bmc(const dcm_node *bmc, const dcm_node *inst, const char *path,
                       rf_bmc_spec *out, dcm_diags *d)
{
    rf_err rc = RF_OK;
    const char *s = NULL;
    char why[300];
    out->verify = true;
    if (bmc != inst) {
        dcm_node_as_string(given(bmc, "name"), &s);
        if (!valid_name(s)) {
            err(d, given(bmc, "name"), path, "name",
                "expected a name of letters, digits, '-' and '_' (no '.'), got '%.64s'",
                s ? s : "");
            rc = RF_EINVALID;
        } else if (!(out->name = strdup(s))) {
            return RF_ENOMEM;
        }
    }
    const dcm_node *un = given(bmc, "url");
    if (!dcm_node_as_string(un, &s)) {
        err(d, un ? un : bmc, path, "url", "expected https://HOST[:PORT]");
        rc = RF_EINVALID;
    } else if ((why[0] = '\0', !(out->url = clean_url(s, why, sizeof why)))) {
        if (why[0] == '\0')
            return RF_ENOMEM;
        err(d, un, path, "url", "%s", why);
        rc = RF_EINVALID;
    }
    why[0] = '\0';
    if (dcm_node_as_string(inherit(bmc, inst, "username"), &s) && !(out->username = strdup(s)))
        return RF_ENOMEM;
    /* The password comes with the username: from the BMC entry if it gives one, else
     * from the collector entry. */
    const dcm_node *secret_map = has_secret(bmc) ? bmc : (has_secret(inst) ? inst : NULL);
    if (secret_map) {
        char serr[200] = "";
        out->password = dcm_node_secret(secret_map, "password", serr, sizeof serr);
        if (!out->password) {
            err(d, secret_map, path, "password", "%s", serr[0] ? serr : "out of memory");
            rc = RF_EINVALID;
        }
    }
    const dcm_node *an = inherit(bmc, inst, "auth");
    if (dcm_node_as_string(an, &s)) {
        if (strcmp(s, "basic") == 0)
            out->auth = RF_AUTH_BASIC;
        else if (strcmp(s, "session") == 0)
            out->auth = RF_AUTH_SESSION;
        else if (strcmp(s, "none") == 0)
            out->auth = RF_AUTH_NONE;
        else {
            err(d, an, path, "auth", "expected basic, session or none, got '%.40s'", s);
            rc = RF_EINVALID;
        }
    } else {
        out->auth = out->username ? RF_AUTH_BASIC : RF_AUTH_NONE;
    }
    if (out->auth != RF_AUTH_NONE && (!out->username || !secret_map)) {
        err(d, an ? an : bmc, path, out->username ? "password" : "username",
            "auth %s needs a username and a password (password, password_file or "
            "password_env)",
            out->auth == RF_AUTH_SESSION ? "session" : "basic");
        rc = RF_EINVALID;
    }
    if (dcm_node_as_string(inherit(bmc, inst, "ca_file"), &s) && !(out->ca_file = strdup(s)))
        return RF_ENOMEM;
    dcm_node_as_bool(inherit(bmc, inst, "verify"), &out->verify);
    const dcm_node *cn = inherit(bmc, inst, "chassis");
    if (cn && dcm_node_kind(cn) == DCM_NODE_LIST && dcm_node_size(cn) > 0) {
        size_t n = dcm_node_size(cn);
        if (!(out->chassis = calloc(n, sizeof *out->chassis)))
            return RF_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            if (!dcm_node_as_string(dcm_node_at(cn, i), &s) || !valid_name(s)) {
                err(d, dcm_node_at(cn, i), path, "chassis",
                    "expected chassis ids as the service names them (like 1U), got '%.64s'",
                    s ? s : "");
                rc = RF_EINVALID;
                continue;
            }
            if (!(out->chassis[out->chassis_count++] = strdup(s)))
                return RF_ENOMEM;
        }
    }
    return rc;
}

rf_err rf_instance_parse(const dcm_node *item, const char *path, rf_instance *out,
                         dcm_diags *diags)
{
    memset(out, 0, sizeof *out);
    out->parallel = 64;
    out->keep_alive = true;
    dcm_node_as_bool(given(item, "keep_alive"), &out->keep_alive);
    rf_err rc = RF_OK;
    const dcm_node *url = given(item, "url"), *bmcs = given(item, "bmcs");
    if (!!url == !!bmcs) {
        err(diags, item, path, NULL,
            "give either url: (one BMC) or bmcs: (a list of {name, url})");
        return RF_EINVALID;
    }
    long long par;
    const dcm_node *pn = given(item, "parallel");
    if (dcm_node_as_int(pn, &par)) {
        if (par < 1 || par > PARALLEL_MAX) {
            err(diags, pn, path, "parallel", "expected 1..%d, got %lld", PARALLEL_MAX, par);
            rc = RF_EINVALID;
        } else {
            out->parallel = (int)par;
        }
    }
    size_t n = url ? 1 : dcm_node_size(bmcs);
    if (bmcs && (dcm_node_kind(bmcs) != DCM_NODE_LIST || n == 0)) {
        err(diags, bmcs, path, "bmcs", "expected a list of {name, url}");
        return RF_EINVALID;
    }
    out->bmcs = calloc(n, sizeof *out->bmcs);
    if (!out->bmcs)
        return RF_ENOMEM;
    dcm_cfg_ctx cc = {.diags = diags};
    for (size_t i = 0; i < n; i++) {
        const dcm_node *b = url ? item : dcm_node_at(bmcs, i);
        char where[160];
        if (url)
            snprintf(where, sizeof where, "%s", path);
        else
            snprintf(where, sizeof where, "%s.bmcs[%zu]", path, i);
        if (!url && !dcm_cfg_check_keys(&cc, b, where, rf_bmc_keys, NULL)) {
            rc = RF_EINVALID;
            continue;
        }
        rf_err e = read_bmc(b, item, where, &out->bmcs[out->count++], diags);
        if (e == RF_ENOMEM || cc.oom)
            return RF_ENOMEM;
        if (e != RF_OK)
            rc = e;
        const char *name = out->bmcs[out->count - 1].name;
        for (size_t j = 0; name && j + 1 < out->count; j++) {
            if (out->bmcs[j].name && strcmp(out->bmcs[j].name, name) == 0) {
                err(diags, dcm_node_get(b, "name"), where, "name",
                    "BMC name '%s' is used twice in this entry", name);
                rc = RF_EINVALID;
            }
        }
    }
    return rc;
}

void rf_check_config(const dcm_config *cfg, dcm_diags *diags)
{
    for (size_t i = 0; i < cfg->collector_count; i++) {
        const dcm_collector_config *c = &cfg->collectors[i];
        if (!c->type || strcmp(c->type, "redfish") != 0)
            continue;
        char path[80];
        snprintf(path, sizeof path, "collectors[%zu]", i);
        rf_instance inst;
        rf_instance_parse(c->node, path, &inst, diags);
        rf_instance_free(&inst);
    }
}
