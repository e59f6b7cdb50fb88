/* SNMP points, tables and profiles read from YAML (profiles compiled in from
 * collectors/snmp/profiles/, or points written in a collector entry), and the table of
 * compiled-in profiles. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "grow.h"
#include "snmp_map.h"
#include "units.h"

static const dcm_config_key point_keys[] = {
    {"name", DCM_KEY_STRING, NULL, true, "point name: [a-z0-9_.-]"},
    {"oid", DCM_KEY_STRING, NULL, true, "numeric OID: the instance (.0 for scalars) or the column"},
    {"unit", DCM_KEY_STRING, NULL, true, "unit of the scaled value (W, kWh, A, V, degC, %, count)"},
    {"scale", DCM_KEY_DOUBLE, "1", false, "multiplier applied to the raw value"},
    {"offset", DCM_KEY_DOUBLE, "0", false, "added after scaling"},
    {"kind", DCM_KEY_STRING, "gauge", false, "gauge, counter or delta"},
    {"counter_bits", DCM_KEY_INT, "0", false, "wrap width of a counter: 32 or 64 (0: no wrap)"},
    {"max_rate", DCM_KEY_DOUBLE, NULL, false, "plausibility limit in the rate unit"},
    {"invalid", DCM_KEY_LIST, NULL, false, "raw values meaning 'not available' (e.g. [-1])"},
    {"description", DCM_KEY_STRING, NULL, false, "text"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key column_keys[] = {
    {"digits", DCM_KEY_STRING, NULL, false, "column of decimal digits: value x 10^-digits"},
    {"entity_scale", DCM_KEY_STRING, NULL, false, "ENTITY-SENSOR scale column"},
    {"entity_precision", DCM_KEY_STRING, NULL, false, "ENTITY-SENSOR precision column"},
    {"select", DCM_KEY_INT, NULL, false, "only rows whose last index part is this number"},
    {"filter_oid", DCM_KEY_STRING, NULL, false, "a column of the same table that selects rows"},
    {"filter_value", DCM_KEY_DOUBLE, NULL, false, "only rows whose filter_oid value is this"},
    {"sum", DCM_KEY_STRING, NULL, false, "also publish the sum over rows under this name"},
    {"mean", DCM_KEY_STRING, NULL, false, "also publish the mean over rows under this name"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key table_keys[] = {
    {"name", DCM_KEY_STRING, NULL, true, "table name: row points are <name>.<index>.<column>"},
    {"columns", DCM_KEY_LIST, NULL, true, "the columns read from each row"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key profile_keys[] = {
    {"name", DCM_KEY_STRING, NULL, true, "profile name, equal to the file name"},
    {"description", DCM_KEY_STRING, NULL, true, "the devices in one line"},
    {"source", DCM_KEY_STRING, NULL, false, "where the OIDs come from"},
    {"sysobjectid", DCM_KEY_LIST, NULL, false, "sysObjectID prefixes that select it (auto)"},
    {"detect", DCM_KEY_STRING, NULL, false, "a subtree the device must have (auto)"},
    {"priority", DCM_KEY_INT, "50", false, "auto: lower is tried first"},
    {"points", DCM_KEY_LIST, NULL, false, "scalars, read with GET"},
    {"tables", DCM_KEY_LIST, NULL, false, "tables, walked with GETBULK"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static void bad(dcm_diags *d, const dcm_node *at, const char *path, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void bad(dcm_diags *d, const dcm_node *at, const char *path, const char *key,
                const char *fmt, ...)
{
    char msg[256], where[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(where, sizeof where, "%s%s%s", path, key ? "." : "", key ? key : "");
    dcm_diag_at(d, DCM_DIAG_ERROR, at, where, "%s", msg);
}

static bool dup(const char *s, char **out)
{
    *out = strdup(s);
    return *out != NULL;
}

static void parse_oid_key(dcm_diags *d, const dcm_node *n, const char *path, const char *key,
                          dcm_snmp_oid *out, bool *present)
{
    const char *s;
    const dcm_node *v = dcm_node_get(n, key);
    *present = false;
    if (!dcm_node_as_string(v, &s))
        return;
    if (!dcm_snmp_oid_parse(s, out))
        bad(d, v, path, key, "expected a numeric OID such as .1.3.6.1.2.1.1.3.0, got '%.60s'",
            s);
    else
        *present = true;
}

static void parse_kind_unit(dcm_diags *d, const dcm_node *n, const char *path,
                            dcm_snmp_point *out, bool *oom)
{
    const char *s;
    const dcm_node *v = dcm_node_get(n, "kind");
    out->kind = DCM_KIND_GAUGE;
    if (dcm_node_as_string(v, &s)) {
        if (strcmp(s, "gauge") == 0)
            out->kind = DCM_KIND_GAUGE;
        else if (strcmp(s, "counter") == 0)
            out->kind = DCM_KIND_COUNTER;
        else if (strcmp(s, "delta") == 0)
            out->kind = DCM_KIND_DELTA;
        else
            bad(d, v, path, "kind", "expected gauge, counter or delta, got '%.30s'", s);
    }
    v = dcm_node_get(n, "unit");
    if (!dcm_node_as_string(v, &s))
        return;
    dcm_unit_info u;
    char why[160];
    if (!dcm_unit_lookup(s, &u))
        bad(d, v, path, "unit", "unknown unit '%.30s'", s);
    else if (!dcm_unit_fits_kind(&u, out->kind, why, sizeof why))
        bad(d, v, path, "unit", "%s", why);
    else if (!dup(s, &out->unit))
        *oom = true;
}

static void parse_invalid(dcm_diags *d, const dcm_node *n, const char *path, dcm_snmp_point *out)
{
    const dcm_node *list = dcm_node_get(n, "invalid");
    if (dcm_node_kind(list) != DCM_NODE_LIST)
        return;
    for (size_t i = 0; i < dcm_node_size(list); i++) {
        double x;
        const dcm_node *v = dcm_node_at(list, i);
        if (!dcm_node_as_double(v, &x))
            bad(d, v, path, "invalid", "expected numbers");
        else if (out->invalid_count == DCM_SNMP_MAX_INVALID)
            bad(d, v, path, "invalid", "at most %d values", DCM_SNMP_MAX_INVALID);
        else
            out->invalid[out->invalid_count++] = x;
    }
}

static void parse_column_keys(dcm_diags *d, const dcm_node *n, const char *path,
                              dcm_snmp_point *out, bool *oom)
{
    bool has_digits, has_scale, has_prec;
    dcm_snmp_helpers h;
    memset(&h, 0, sizeof h);
    parse_oid_key(d, n, path, "digits", &h.scale_oid, &has_digits);
    dcm_snmp_oid s_oid, p_oid;
    parse_oid_key(d, n, path, "entity_scale", &s_oid, &has_scale);
    parse_oid_key(d, n, path, "entity_precision", &p_oid, &has_prec);
    if (has_digits && (has_scale || has_prec)) {
        bad(d, n, path, "digits", "give digits or entity_scale/entity_precision, not both");
    } else if (has_digits) {
        out->devscale = DCM_SNMP_DEVSCALE_DIGITS;
    } else if (has_scale != has_prec) {
        bad(d, n, path, has_scale ? "entity_precision" : "entity_scale",
            "entity_scale and entity_precision go together");
    } else if (has_scale) {
        out->devscale = DCM_SNMP_DEVSCALE_ENTITY;
        h.scale_oid = s_oid;
        h.precision_oid = p_oid;
    }
    long long x;
    const dcm_node *v = dcm_node_get(n, "select");
    if (dcm_node_as_int(v, &x)) {
        if (x < 0 || x > UINT32_MAX)
            bad(d, v, path, "select", "expected 0..4294967295");
        out->has_select = true;
        out->select = (uint32_t)x;
    }
    bool has_filter;
    parse_oid_key(d, n, path, "filter_oid", &h.filter_oid, &has_filter);
    bool has_value = dcm_node_as_double(dcm_node_get(n, "filter_value"), &out->filter_value);
    if (has_filter != has_value)
        bad(d, n, path, has_filter ? "filter_value" : "filter_oid",
            "filter_oid and filter_value go together");
    out->has_filter = has_filter && has_value;
    if (out->devscale || out->has_filter) {
        if ((out->helpers = malloc(sizeof *out->helpers)) != NULL)
            *out->helpers = h;
        else
            *oom = true;
    }
    static const char *const agg[2] = {"sum", "mean"};
    char **dst[2] = {&out->sum, &out->mean};
    for (int i = 0; i < 2; i++) {
        const char *s;
        if (!dcm_node_as_string(v = dcm_node_get(n, agg[i]), &s))
            continue;
        if (!dcm_snmp_name_valid(s))
            bad(d, v, path, agg[i], "expected a point name, got '%.40s'", s);
        else if (!dup(s, dst[i]))
            *oom = true;
    }
}

dcm_snmp_err dcm_snmp_point_parse(const dcm_node *n, bool table, const char *path,
                                  dcm_snmp_point *out, dcm_diags *diags)
{
    memset(out, 0, sizeof *out);
    out->scale = 1.0;
    size_t errors = diags->errors;
    bool oom = false;
    dcm_cfg_ctx cc = {diags, false};
    if (!dcm_cfg_check_keys(&cc, n, path, point_keys, table ? column_keys : NULL))
        return DCM_SNMP_EINVALID;
    out->line = dcm_node_line(n);
    out->column = dcm_node_column(n);
    const char *s;
    const dcm_node *v = dcm_node_get(n, "name");
    if (dcm_node_as_string(v, &s)) {
        if (!dcm_snmp_name_valid(s))
            bad(diags, v, path, "name",
                "expected lower-case letters, digits, '_', '.' and '-', got '%.40s'", s);
        else if (!dup(s, &out->name))
            oom = true;
    }
    bool has_oid;
    parse_oid_key(diags, n, path, "oid", &out->oid, &has_oid);
    double d;
    if (dcm_node_as_double(v = dcm_node_get(n, "scale"), &d)) {
        if (d == 0)
            bad(diags, v, path, "scale", "must not be 0");
        else
            out->scale = d;
    }
    dcm_node_as_double(dcm_node_get(n, "offset"), &out->offset);
    if (dcm_node_as_double(v = dcm_node_get(n, "max_rate"), &d)) {
        if (d < 0)
            bad(diags, v, path, "max_rate", "must not be negative");
        else
            out->max_rate = d;
    }
    parse_kind_unit(diags, n, path, out, &oom);
    long long bits;
    if (dcm_node_as_int(v = dcm_node_get(n, "counter_bits"), &bits)) {
        if (bits != 0 && bits != 32 && bits != 64)
            bad(diags, v, path, "counter_bits", "expected 32, 64 or 0, got %lld", bits);
        else if (bits && out->kind != DCM_KIND_COUNTER)
            bad(diags, v, path, "counter_bits", "only a counter wraps");
        else
            out->counter_bits = (int)bits;
    }
    parse_invalid(diags, n, path, out);
    if (dcm_node_as_string(dcm_node_get(n, "description"), &s) && !dup(s, &out->description))
        oom = true;
    if (table)
        parse_column_keys(diags, n, path, out, &oom);
    if (oom || cc.oom) {
        dcm_snmp_point_clear(out);
        return DCM_SNMP_ENOMEM;
    }
    if (diags->errors != errors || !out->name || !out->unit || !has_oid) {
        dcm_snmp_point_clear(out);
        return DCM_SNMP_EINVALID;
    }
    return DCM_SNMP_OK;
}

dcm_snmp_err dcm_snmp_table_parse(const dcm_node *n, const char *path, dcm_snmp_table *out,
                                  dcm_diags *diags)
{
    memset(out, 0, sizeof *out);
    size_t errors = diags->errors, cap = 0;
    dcm_cfg_ctx cc = {diags, false};
    if (!dcm_cfg_check_keys(&cc, n, path, table_keys, NULL))
        return DCM_SNMP_EINVALID;
    const char *s;
    const dcm_node *v = dcm_node_get(n, "name");
    if (dcm_node_as_string(v, &s)) {
        if (!dcm_snmp_name_valid(s))
            bad(diags, v, path, "name", "expected a name of [a-z0-9_.-], got '%.40s'", s);
        else if (!dup(s, &out->name))
            goto nomem;
    }
    const dcm_node *list = dcm_node_get(n, "columns");
    for (size_t i = 0; i < dcm_node_size(list); i++) {
        char where[200];
        snprintf(where, sizeof where, "%s.columns[%zu]", path, i);
        dcm_snmp_point p;
        dcm_snmp_err e = dcm_snmp_point_parse(dcm_node_at(list, i), true, where, &p, diags);
        if (e == DCM_SNMP_ENOMEM)
            goto nomem;
        if (e != DCM_SNMP_OK)
            continue;
        for (size_t k = 0; k < out->column_count; k++)
            if (strcmp(out->columns[k].name, p.name) == 0 &&
                out->columns[k].has_select == p.has_select &&
                out->columns[k].select == p.select)
                bad(diags, dcm_node_at(list, i), where, "name", "column '%s' is declared twice",
                    p.name);
        if (!dcm_grow((void **)&out->columns, &cap, out->column_count + 1, sizeof *out->columns,
                      8)) {
            dcm_snmp_point_clear(&p);
            goto nomem;
        }
        out->columns[out->column_count++] = p;
    }
    if (cc.oom)
        goto nomem;
    if (diags->errors != errors || !out->name || !out->column_count) {
        if (diags->errors == errors)
            bad(diags, n, path, "columns", "a table needs at least one column");
        dcm_snmp_table_clear(out);
        return DCM_SNMP_EINVALID;
    }
    return DCM_SNMP_OK;
nomem:
    dcm_snmp_table_clear(out);
    return DCM_SNMP_ENOMEM;
}

static dcm_snmp_err parse_lists(const dcm_node *root, dcm_snmp_profile *p, dcm_diags *d)
{
    size_t cap = 0;
    const dcm_node *list = dcm_node_get(root, "points");
    for (size_t i = 0; i < dcm_node_size(list); i++) {
        char where[64];
        snprintf(where, sizeof where, "points[%zu]", i);
        dcm_snmp_point pt;
        dcm_snmp_err e = dcm_snmp_point_parse(dcm_node_at(list, i), false, where, &pt, d);
        if (e == DCM_SNMP_ENOMEM)
            return e;
        if (e != DCM_SNMP_OK)
            continue;
        if (!dcm_grow((void **)&p->points, &cap, p->point_count + 1, sizeof *p->points, 8)) {
            dcm_snmp_point_clear(&pt);
            return DCM_SNMP_ENOMEM;
        }
        p->points[p->point_count++] = pt;
    }
    cap = 0;
    list = dcm_node_get(root, "tables");
    for (size_t i = 0; i < dcm_node_size(list); i++) {
        char where[64];
        snprintf(where, sizeof where, "tables[%zu]", i);
        dcm_snmp_table t;
        dcm_snmp_err e = dcm_snmp_table_parse(dcm_node_at(list, i), where, &t, d);
        if (e == DCM_SNMP_ENOMEM)
            return e;
        if (e != DCM_SNMP_OK)
            continue;
        if (!dcm_grow((void **)&p->tables, &cap, p->table_count + 1, sizeof *p->tables, 4)) {
            dcm_snmp_table_clear(&t);
            return DCM_SNMP_ENOMEM;
        }
        p->tables[p->table_count++] = t;
    }
    return DCM_SNMP_OK;
}

dcm_snmp_err dcm_snmp_profile_parse(const dcm_node *root, dcm_snmp_profile **out,
                                    dcm_diags *diags)
{
    *out = NULL;
    size_t errors = diags->errors;
    dcm_cfg_ctx cc = {diags, false};
    if (!dcm_cfg_check_keys(&cc, root, "", profile_keys, NULL))
        return DCM_SNMP_EINVALID;
    dcm_snmp_profile *p = calloc(1, sizeof *p);
    if (!p)
        return DCM_SNMP_ENOMEM;
    p->priority = 50;
    const char *s;
    const dcm_node *v = dcm_node_get(root, "name");
    if (dcm_node_as_string(v, &s)) {
        if (!dcm_snmp_name_valid(s))
            bad(diags, v, "", "name", "expected a name of [a-z0-9_.-], got '%.40s'", s);
        else if (!dup(s, &p->name))
            goto nomem;
    }
    if (dcm_node_as_string(dcm_node_get(root, "description"), &s) && !dup(s, &p->description))
        goto nomem;
    if (dcm_node_as_string(dcm_node_get(root, "source"), &s) && !dup(s, &p->source))
        goto nomem;
    long long x;
    if (dcm_node_as_int(dcm_node_get(root, "priority"), &x))
        p->priority = (int)(x < 0 ? 0 : x > 1000 ? 1000 : x);
    parse_oid_key(diags, root, "", "detect", &p->detect, &p->has_detect);
    const dcm_node *list = dcm_node_get(root, "sysobjectid");
    if (dcm_node_size(list)) {
        p->sysobjectid = calloc(dcm_node_size(list), sizeof *p->sysobjectid);
        if (!p->sysobjectid)
            goto nomem;
        for (size_t i = 0; i < dcm_node_size(list); i++) {
            v = dcm_node_at(list, i);
            if (!dcm_node_as_string(v, &s) || !dcm_snmp_oid_parse(s, &p->sysobjectid[i]))
                bad(diags, v, "", "sysobjectid", "expected numeric OID prefixes");
            else
                p->sysobjectid_count++;
        }
        if (!p->has_detect)
            bad(diags, list, "", "detect", "a profile with sysobjectid needs detect: the "
                                           "subtree that tells its devices apart");
    }
    if (parse_lists(root, p, diags) == DCM_SNMP_ENOMEM || cc.oom)
        goto nomem;
    if (!p->point_count && !p->table_count && diags->errors == errors)
        bad(diags, root, "", "points", "a profile needs points or tables");
    if (diags->errors != errors) {
        dcm_snmp_profile_destroy(p);
        return DCM_SNMP_EINVALID;
    }
    *out = p;
    return DCM_SNMP_OK;
nomem:
    dcm_snmp_profile_destroy(p);
    return DCM_SNMP_ENOMEM;
}

dcm_snmp_err dcm_snmp_profile_parse_text(const char *text, size_t len, const char *file,
                                         dcm_snmp_profile **out, dcm_diags *diags)
{
    dcm_node *root = NULL;
    *out = NULL;
    dcm_config_err ce = dcm_node_tree_parse(text, len, file, &root, diags);
    if (ce == DCM_CONFIG_ENOMEM)
        return DCM_SNMP_ENOMEM;
    if (ce != DCM_CONFIG_OK)
        return DCM_SNMP_EINVALID;
    if (!root) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, file, 1, 1, "", "empty profile");
        return DCM_SNMP_EINVALID;
    }
    dcm_snmp_err e = dcm_snmp_profile_parse(root, out, diags);
    dcm_node_tree_free(root);
    return e;
}

/* ---------------------------------------------------- compiled-in profiles */

extern const dcm_snmp_embedded dcm_snmp_embedded_profiles[];
extern const size_t dcm_snmp_embedded_profile_count;

size_t dcm_snmp_profile_count(void) { return dcm_snmp_embedded_profile_count; }

const dcm_snmp_embedded *dcm_snmp_profile_at(size_t i)
{
    return i < dcm_snmp_embedded_profile_count ? &dcm_snmp_embedded_profiles[i] : NULL;
}

const dcm_snmp_embedded *dcm_snmp_profile_find(const char *name)
{
    for (size_t i = 0; name && i < dcm_snmp_embedded_profile_count; i++)
        if (strcmp(dcm_snmp_embedded_profiles[i].name, name) == 0)
            return &dcm_snmp_embedded_profiles[i];
    return NULL;
}

dcm_snmp_err dcm_snmp_profile_load(const char *name, const dcm_node *where, const char *path,
                                   dcm_snmp_profile **out, dcm_diags *diags)
{
    *out = NULL;
    const dcm_snmp_embedded *e = dcm_snmp_profile_find(name);
    if (!e) {
        const char *cand[64];
        size_t n = 0;
        for (size_t i = 0; i < dcm_snmp_embedded_profile_count && n < 64; i++)
            cand[n++] = dcm_snmp_embedded_profiles[i].name;
        const char *s = n ? dcm_suggest(name ? name : "", cand, n) : NULL;
        if (s)
            dcm_diag_at(diags, DCM_DIAG_ERROR, where, path,
                        "unknown profile '%.60s', did you mean '%s'?", name ? name : "", s);
        else
            dcm_diag_at(diags, DCM_DIAG_ERROR, where, path,
                        "unknown profile '%.60s' (see 'dcmetrics profiles --names')",
                        name ? name : "");
        return DCM_SNMP_ENOTFOUND;
    }
    dcm_snmp_err err = dcm_snmp_profile_parse_text(e->text, e->len, e->name, out, diags);
    if (err == DCM_SNMP_OK && strcmp((*out)->name, e->name) != 0) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, e->name, 0, 0, "name",
                      "the profile is called '%s' but its file is %s.yaml", (*out)->name,
                      e->name);
        dcm_snmp_profile_destroy(*out);
        *out = NULL;
        return DCM_SNMP_EINVALID;
    }
    return err;
}
