/* InfluxDB line protocol writer and the journal records as lines. */
#include "influx_lp.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/metrics.h"
#include "grow.h"
#include "json.h"
#include "json_read.h"

bool dcm_lp_precision_parse(const char *name, dcm_lp_precision *out)
{
    static const char *const names[] = {"ns", "us", "ms", "s"};
    for (int i = 0; name && i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (dcm_lp_precision)i;
            return true;
        }
    return false;
}

int64_t dcm_lp_timestamp(int64_t ts_ns, dcm_lp_precision p)
{
    static const int64_t div[] = {1, 1000, 1000000, 1000000000};
    int64_t d = div[p];
    int64_t q = ts_ns / d;
    /* Round towards minus infinity, so that every instant of one second maps to it. */
    if (ts_ns % d < 0)
        q--;
    return q;
}

void dcm_lp_buf_init(dcm_lp_buf *b)
{
    memset(b, 0, sizeof *b);
}

void dcm_lp_buf_free(dcm_lp_buf *b)
{
    free(b->data);
    dcm_lp_buf_init(b);
}

void dcm_lp_buf_reset(dcm_lp_buf *b)
{
    b->len = 0;
    b->oom = false;
    b->in_line = false;
    b->fields = 0;
    b->line_start = 0;
    if (b->data)
        b->data[0] = '\0';
}

static bool reserve(dcm_lp_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    /* +1 keeps room for the terminating NUL. */
    if (extra > SIZE_MAX - b->len - 1 ||
        !dcm_grow((void **)&b->data, &b->cap, b->len + extra + 1, 1, 1024)) {
        b->oom = true;
        return false;
    }
    return true;
}

static void put(dcm_lp_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void putc_(dcm_lp_buf *b, char c)
{
    put(b, &c, 1);
}

/* Appends s with every character of `special` preceded by a backslash, backslashes
 * doubled when escape_backslash, and control characters replaced by '_'. */
static void escape(dcm_lp_buf *b, const char *s, size_t len, const char *special,
                   bool escape_backslash, bool keep_controls)
{
    /* Worst case doubles the length. */
    if (len > (SIZE_MAX - 1) / 2 || !reserve(b, 2 * len))
        return;
    char *o = b->data + b->len;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c == '\\' && escape_backslash) || (c && strchr(special, (int)c))) {
            *o++ = '\\';
            *o++ = (char)c;
        } else if ((c < 0x20 || c == 0x7f) && !keep_controls) {
            *o++ = '_';
        } else {
            *o++ = (char)c;
        }
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

void dcm_lp_escape_measurement(dcm_lp_buf *b, const char *s, size_t len)
{
    escape(b, s, len, ", ", true, false);
}

void dcm_lp_escape_name(dcm_lp_buf *b, const char *s, size_t len)
{
    escape(b, s, len, ",= ", true, false);
}

void dcm_lp_escape_string(dcm_lp_buf *b, const char *s, size_t len)
{
    /* Only the quote and the backslash matter inside quotes; a NUL cannot be carried. */
    if (len > (SIZE_MAX - 1) / 2 || !reserve(b, 2 * len))
        return;
    char *o = b->data + b->len;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '"' || c == '\\')
            *o++ = '\\';
        *o++ = c ? c : '_';
    }
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

static int tag_cmp(const void *a, const void *b)
{
    const dcm_lp_tag *x = a, *y = b;
    return strcmp(x->key, y->key);
}

void dcm_lp_begin(dcm_lp_buf *b, const char *measurement, dcm_lp_tag *tags, size_t ntags)
{
    b->line_start = b->len;
    b->fields = 0;
    b->in_line = true;
    dcm_lp_escape_measurement(b, measurement, strlen(measurement));
    /* Empty tags are dropped before sorting so that NULL keys never reach strcmp. */
    size_t n = 0;
    for (size_t i = 0; i < ntags; i++)
        if (tags[i].key && tags[i].key[0] && tags[i].value && tags[i].value[0])
            tags[n++] = tags[i];
    if (n > 1)
        qsort(tags, n, sizeof *tags, tag_cmp);
    for (size_t i = 0; i < n; i++) {
        putc_(b, ',');
        dcm_lp_escape_name(b, tags[i].key, strlen(tags[i].key));
        putc_(b, '=');
        dcm_lp_escape_name(b, tags[i].value, strlen(tags[i].value));
    }
}

static void field_key(dcm_lp_buf *b, const char *key)
{
    putc_(b, b->fields++ ? ',' : ' ');
    dcm_lp_escape_name(b, key, strlen(key));
    putc_(b, '=');
}

void dcm_lp_field_float(dcm_lp_buf *b, const char *key, double v)
{
    if (!b->in_line || !isfinite(v) || !key[0])
        return;
    char num[40];
    size_t n = dcm_json_format_double(v, num, sizeof num);
    field_key(b, key);
    put(b, num, n);
}

void dcm_lp_field_string(dcm_lp_buf *b, const char *key, const char *v, size_t len)
{
    if (!b->in_line || !v || !key[0])
        return;
    field_key(b, key);
    putc_(b, '"');
    dcm_lp_escape_string(b, v, len);
    putc_(b, '"');
}

void dcm_lp_field_bool(dcm_lp_buf *b, const char *key, bool v)
{
    if (!b->in_line || !key[0])
        return;
    field_key(b, key);
    put(b, v ? "true" : "false", v ? 4 : 5);
}

bool dcm_lp_end(dcm_lp_buf *b, int64_t ts_ns, dcm_lp_precision p)
{
    if (!b->in_line)
        return false;
    b->in_line = false;
    if (b->fields > 0) {
        char ts[32];
        int n = snprintf(ts, sizeof ts, " %lld\n", (long long)dcm_lp_timestamp(ts_ns, p));
        put(b, ts, (size_t)n);
    }
    if (b->fields == 0 || b->oom) {
        /* Drop the partial line; the oom flag stays for the caller to see. */
        b->len = b->line_start;
        if (b->data)
            b->data[b->len] = '\0';
        return false;
    }
    return true;
}

/* ------------------------------------------------------------- journal records */

static bool encode_sample(dcm_lp_buf *b, const char *site, const dcm_jrec *rec,
                          dcm_lp_precision p)
{
    const char *point = rec->point ? rec->point : "";
    /* Point ids are "<collector>.<name>", and collector names never contain '.'. */
    const char *dot = strchr(point, '.');
    char collector[128] = "";
    if (dot) {
        size_t n = (size_t)(dot - point);
        if (n >= sizeof collector)
            n = sizeof collector - 1;
        memcpy(collector, point, n);
        collector[n] = '\0';
    }
    dcm_lp_tag tags[] = {
        {"site", site}, {"collector", collector}, {"point", point}, {"unit", rec->unit}};
    dcm_lp_begin(b, "dcm_point", tags, sizeof tags / sizeof tags[0]);
    dcm_lp_field_float(b, "value", rec->value);
    const char *q = dcm_quality_name((dcm_quality)rec->quality);
    dcm_lp_field_string(b, "quality", q, strlen(q));
    return dcm_lp_end(b, rec->ts_ns, p);
}

/* How a JSON object's members become fields: name = prefix + key + suffix. */
typedef struct flat_ctx {
    dcm_lp_buf *b;
    const char *const *skip; /* top-level member names that are tags or not wanted */
    bool kpi_rules;          /* the KPI record's groups (see encode_kpi) */
} flat_ctx;

static bool skipped(const flat_ctx *c, const char *key)
{
    for (size_t i = 0; c->skip && c->skip[i]; i++)
        if (strcmp(c->skip[i], key) == 0)
            return true;
    return false;
}

static void flatten(flat_ctx *c, const dcm_jr_node *obj, const char *prefix, const char *suffix,
                    int depth)
{
    for (const dcm_jr_node *m = obj->child; m; m = m->next) {
        /* A NUL inside a member name cannot be carried: such a member is skipped. */
        if (strlen(m->key) != m->key_len || (depth == 0 && skipped(c, m->key)))
            continue;
        char name[192];
        int n = snprintf(name, sizeof name, "%s%s%s", prefix, m->key, suffix);
        if (n < 0 || (size_t)n >= sizeof name)
            continue;
        switch (m->type) {
        case DCM_JR_NUMBER:
            dcm_lp_field_float(c->b, name, m->number);
            break;
        case DCM_JR_STRING:
            dcm_lp_field_string(c->b, name, m->str, m->str_len);
            break;
        case DCM_JR_BOOL:
            dcm_lp_field_bool(c->b, name, m->boolean);
            break;
        case DCM_JR_OBJECT: {
            if (depth >= 3)
                break;
            const char *sub_suffix = suffix;
            char sub_prefix[192];
            /* "kpi" members are the KPI names themselves; "kpi_quality" members are
             * "<kpi>_quality"; "coverage_by_role" members are "coverage_<role>". */
            if (c->kpi_rules && depth == 0 && strcmp(m->key, "kpi") == 0)
                n = snprintf(sub_prefix, sizeof sub_prefix, "%s", "");
            else if (c->kpi_rules && depth == 0 && strcmp(m->key, "kpi_quality") == 0) {
                n = snprintf(sub_prefix, sizeof sub_prefix, "%s", "");
                sub_suffix = "_quality";
            } else if (c->kpi_rules && depth == 0 && strcmp(m->key, "coverage_by_role") == 0)
                n = snprintf(sub_prefix, sizeof sub_prefix, "%s", "coverage_");
            else
                n = snprintf(sub_prefix, sizeof sub_prefix, "%s%s_", prefix, m->key);
            if (n >= 0 && (size_t)n < sizeof sub_prefix)
                flatten(c, m, sub_prefix, sub_suffix, depth + 1);
            break;
        }
        case DCM_JR_NULL:
        case DCM_JR_ARRAY:
            break;
        }
    }
}

static dcm_jr_doc *parse_body(dcm_lp_buf *b, const dcm_jrec *rec)
{
    dcm_jr_doc *doc = NULL;
    if (!rec->body)
        return NULL;
    dcm_jr_err err = dcm_jr_parse(rec->body, rec->body_len, &doc, NULL);
    if (err == DCM_JR_ENOMEM)
        b->oom = true; /* not the record's fault: the caller tries again later */
    if (err != DCM_JR_OK)
        return NULL;
    if (dcm_jr_root(doc)->type != DCM_JR_OBJECT) {
        dcm_jr_free(doc);
        return NULL;
    }
    return doc;
}

static bool encode_kpi(dcm_lp_buf *b, const char *site, const dcm_jrec *rec, dcm_lp_precision p)
{
    dcm_jr_doc *doc = parse_body(b, rec);
    if (!doc)
        return false;
    const dcm_jr_node *root = dcm_jr_root(doc);
    const char *window = rec->key;
    dcm_jr_string(dcm_jr_get(root, "window"), &window);
    char category[8] = "";
    const dcm_jr_node *cat = dcm_jr_get(root, "pue_category");
    if (cat && cat->type == DCM_JR_NUMBER && cat->is_int && cat->integer >= 1 && cat->integer <= 3)
        snprintf(category, sizeof category, "%d", (int)cat->integer);
    dcm_lp_tag tags[] = {{"site", site}, {"window", window}, {"category", category}};
    dcm_lp_begin(b, "dcm_kpi", tags, sizeof tags / sizeof tags[0]);
    static const char *const skip[] = {"site", "window", "pue_category", "from", "to", NULL};
    flat_ctx c = {.b = b, .skip = skip, .kpi_rules = true};
    flatten(&c, root, "", "", 0);
    bool ok = dcm_lp_end(b, rec->ts_ns, p);
    dcm_jr_free(doc);
    return ok;
}

static bool encode_alert(dcm_lp_buf *b, const char *site, const dcm_jrec *rec,
                         dcm_lp_precision p)
{
    dcm_jr_doc *doc = parse_body(b, rec);
    if (!doc)
        return false;
    dcm_lp_tag tags[] = {{"site", site}, {"rule", rec->key}};
    dcm_lp_begin(b, "dcm_alert", tags, sizeof tags / sizeof tags[0]);
    static const char *const skip[] = {"site", "rule", NULL};
    flat_ctx c = {.b = b, .skip = skip, .kpi_rules = false};
    flatten(&c, dcm_jr_root(doc), "", "", 0);
    bool ok = dcm_lp_end(b, rec->ts_ns, p);
    dcm_jr_free(doc);
    return ok;
}

bool dcm_lp_encode(dcm_lp_buf *b, const char *site, const dcm_jrec *rec, dcm_lp_precision p)
{
    switch (rec->type) {
    case DCM_JREC_SAMPLE: return encode_sample(b, site, rec, p);
    case DCM_JREC_KPI: return encode_kpi(b, site, rec, p);
    case DCM_JREC_ALERT: return encode_alert(b, site, rec, p);
    }
    return false;
}
