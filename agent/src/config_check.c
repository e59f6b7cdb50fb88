/* Schema checks shared by every section: key names against a table, scalar types,
 * required keys, and the three forms of a secret. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define MAX_CANDIDATES 128
#define SHOWN_VALUE_MAX 40

char *dcm_cfg_strdup(dcm_cfg_ctx *c, const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        c->oom = true;
    return d;
}

static const char *expected_text(dcm_key_type t)
{
    switch (t) {
    case DCM_KEY_STRING: return "expected a string";
    case DCM_KEY_INT: return "expected an integer";
    case DCM_KEY_DOUBLE: return "expected a number";
    case DCM_KEY_BOOL: return "expected true or false";
    case DCM_KEY_DURATION: return "expected a duration like 500ms, 1s, 15m";
    case DCM_KEY_SECRET: return "expected a string";
    case DCM_KEY_LIST: return "expected a list";
    case DCM_KEY_MAP: return "expected a mapping";
    }
    return "unexpected value";
}

const char *dcm_config_key_type_name(dcm_key_type t)
{
    switch (t) {
    case DCM_KEY_STRING: return "string";
    case DCM_KEY_INT: return "integer";
    case DCM_KEY_DOUBLE: return "number";
    case DCM_KEY_BOOL: return "boolean";
    case DCM_KEY_DURATION: return "duration";
    case DCM_KEY_SECRET: return "secret";
    case DCM_KEY_LIST: return "list";
    case DCM_KEY_MAP: return "mapping";
    }
    return (int)t == (int)DCM_KEY_SELECTORS ? "selector" : "value";
}

/* What was found instead, for the message. Secret values are never shown. */
static void describe_found(const dcm_node *v, bool secret, char *buf, size_t size)
{
    if (v->type == DCM_NODE_MAP) {
        snprintf(buf, size, "a mapping");
    } else if (v->type == DCM_NODE_LIST) {
        snprintf(buf, size, "a list");
    } else if (secret) {
        snprintf(buf, size, "a value that is not shown");
    } else {
        char shown[SHOWN_VALUE_MAX + 4];
        size_t j = 0;
        for (const char *p = v->scalar; *p && j < SHOWN_VALUE_MAX; p++)
            shown[j++] = (unsigned char)*p < 0x20 ? '?' : *p;
        shown[j] = '\0';
        if (strlen(v->scalar) > SHOWN_VALUE_MAX)
            memcpy(shown + SHOWN_VALUE_MAX, "...", 4);
        snprintf(buf, size, "'%s'", shown);
    }
}

static bool value_fits(const dcm_node *v, dcm_key_type t)
{
    union {
        long long i;
        double d;
        bool b;
        int64_t ns;
        const char *s;
    } u;
    if ((int)t == (int)DCM_KEY_SELECTORS)
        return true;
    switch (t) {
    case DCM_KEY_STRING:
    case DCM_KEY_SECRET: return dcm_node_as_string(v, &u.s);
    case DCM_KEY_INT: return dcm_node_as_int(v, &u.i);
    case DCM_KEY_DOUBLE: return dcm_node_as_double(v, &u.d);
    case DCM_KEY_BOOL: return dcm_node_as_bool(v, &u.b);
    case DCM_KEY_DURATION: return dcm_node_as_duration_ns(v, &u.ns);
    case DCM_KEY_LIST: return v->type == DCM_NODE_LIST;
    case DCM_KEY_MAP: return v->type == DCM_NODE_MAP;
    }
    return false;
}

/* The table entry for key: exact name, or name_file / name_env of a SECRET entry
 * (*form = 1 or 2). */
static const dcm_config_key *lookup(const dcm_config_key *keys, const char *key, int *form)
{
    if (!keys)
        return NULL;
    for (const dcm_config_key *k = keys; k->name; k++) {
        if (strcmp(k->name, key) == 0) {
            *form = 0;
            return k;
        }
        if (k->type != DCM_KEY_SECRET)
            continue;
        size_t n = strlen(k->name);
        if (strncmp(key, k->name, n) == 0 && (strcmp(key + n, "_file") == 0 ||
                                              strcmp(key + n, "_env") == 0)) {
            *form = key[n + 1] == 'f' ? 1 : 2;
            return k;
        }
    }
    return NULL;
}

static size_t add_candidates(const dcm_config_key *keys, const char **out, size_t n)
{
    if (!keys)
        return n;
    for (const dcm_config_key *k = keys; k->name && n < MAX_CANDIDATES; k++)
        out[n++] = k->name;
    return n;
}

static void report_unknown(dcm_cfg_ctx *c, const dcm_node *keynode, const char *key,
                           const char *path, const dcm_config_key *keys,
                           const dcm_config_key *extra)
{
    const char *cand[MAX_CANDIDATES];
    size_t n = add_candidates(keys, cand, 0);
    n = add_candidates(extra, cand, n);
    const char *s = dcm_suggest(key, cand, n);
    /* Without a close match, list what is valid (short tables only). */
    char list[512] = "";
    if (!s && n <= 16) {
        size_t used = 0;
        for (size_t i = 0; i < n && used < sizeof(list); i++) {
            int w = snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", cand[i]);
            if (w < 0)
                break;
            used += (size_t)w;
        }
    }
    if (s)
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, keynode, path,
                    "unknown key '%s', did you mean '%s'?", key, s);
    else if (list[0])
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, keynode, path,
                    "unknown key '%s' (valid keys: %s)", key, list);
    else
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, keynode, path, "unknown key '%s'", key);
}

static void check_secret_forms(dcm_cfg_ctx *c, const dcm_node *map, const char *path,
                               const dcm_config_key *k)
{
    char kfile[128], kenv[128];
    snprintf(kfile, sizeof(kfile), "%s_file", k->name);
    snprintf(kenv, sizeof(kenv), "%s_env", k->name);
    const dcm_node *forms[3] = {dcm_node_get(map, k->name), dcm_node_get(map, kfile),
                                dcm_node_get(map, kenv)};
    int given = 0;
    const dcm_node *last = NULL;
    for (int i = 0; i < 3; i++) {
        if (forms[i] && !dcm_node_is_null(forms[i])) {
            given++;
            last = forms[i];
        }
    }
    char where[256];
    snprintf(where, sizeof(where), "%s%s%s", path, path[0] ? "." : "", k->name);
    if (given > 1) {
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, last, where,
                    "give only one of %s, %s_file and %s_env", k->name, k->name, k->name);
        return;
    }
    if (given == 0) {
        if (k->required)
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, map, path,
                        "missing required key '%s' (or %s_file, %s_env)", k->name, k->name,
                        k->name);
        return;
    }
    /* The literal form is checked with the other keys; the file and the variable must be
     * readable now, or the output will fail later. A warning: `check` may run where
     * the daemon's environment is not. */
    if (forms[0] && !dcm_node_is_null(forms[0]))
        return;
    const char *s;
    if (!dcm_node_as_string(last, &s))
        return;
    char err[512];
    char *secret = dcm_node_secret(map, k->name, err, sizeof(err));
    if (secret) {
        explicit_bzero(secret, strlen(secret));
        free(secret);
    } else if (err[0]) {
        dcm_diag_at(c->diags, DCM_DIAG_WARNING, last, where, "%s", err);
    }
}

static bool check_keys(dcm_cfg_ctx *c, const dcm_node *map, const char *path,
                       const dcm_config_key *keys, const dcm_config_key *extra,
                       bool unknown_is_error)
{
    if (!map || map->type != DCM_NODE_MAP) {
        char found[64];
        if (map)
            describe_found(map, false, found, sizeof(found));
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, map, path, "expected a mapping%s%s",
                    map ? ", got " : "", map ? found : "");
        return false;
    }
    for (size_t i = 0; i < map->count; i++) {
        if (map->keys[i]->type != DCM_NODE_SCALAR)
            continue; /* reported by the parser */
        const char *key = dcm_node_key_at(map, i);
        const dcm_node *v = map->items[i];
        char where[256];
        snprintf(where, sizeof(where), "%s%s%s", path, path[0] ? "." : "", key);
        int form = 0;
        const dcm_config_key *k = lookup(keys, key, &form);
        if (!k)
            k = lookup(extra, key, &form);
        if (!k) {
            if (unknown_is_error)
                report_unknown(c, map->keys[i], key, path, keys, extra);
            continue;
        }
        if (dcm_node_is_null(v))
            continue;
        dcm_key_type t = form ? DCM_KEY_STRING : k->type;
        if (!value_fits(v, t)) {
            char found[64];
            describe_found(v, k->type == DCM_KEY_SECRET && form == 0, found, sizeof(found));
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, v, where, "%s, got %s",
                        form == 1 ? "expected a file path"
                        : form == 2 ? "expected an environment variable name"
                                    : expected_text(t),
                        found);
        }
    }
    const dcm_config_key *tables[2] = {keys, extra};
    for (int t = 0; t < 2; t++) {
        for (const dcm_config_key *k = tables[t]; k && k->name; k++) {
            if (k->type == DCM_KEY_SECRET) {
                check_secret_forms(c, map, path, k);
                continue;
            }
            const dcm_node *v = dcm_node_get(map, k->name);
            if (k->required && (!v || dcm_node_is_null(v)))
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, v ? v : map, path,
                            "missing required key '%s'%s%s", k->name, k->doc ? ": " : "",
                            k->doc ? k->doc : "");
        }
    }
    return true;
}

bool dcm_cfg_check_keys(dcm_cfg_ctx *c, const dcm_node *map, const char *path,
                        const dcm_config_key *keys, const dcm_config_key *extra)
{
    return check_keys(c, map, path, keys, extra, true);
}

bool dcm_cfg_check_known_keys(dcm_cfg_ctx *c, const dcm_node *map, const char *path,
                              const dcm_config_key *keys)
{
    return check_keys(c, map, path, keys, NULL, false);
}
