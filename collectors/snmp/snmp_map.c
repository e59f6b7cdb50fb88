/* Numeric OIDs, table indexes, value types and scaling: the pure core of the SNMP
 * collector, shared with `dcmetrics probe snmp` and the tests. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snmp_map.h"

const char *dcm_snmp_strerror(dcm_snmp_err err)
{
    switch (err) {
    case DCM_SNMP_OK: return "ok";
    case DCM_SNMP_EINVALID: return "invalid profile, point or option";
    case DCM_SNMP_ENOTFOUND: return "no such profile";
    case DCM_SNMP_ENOMEM: return "out of memory";
    case DCM_SNMP_ETIMEOUT: return "no answer in time";
    case DCM_SNMP_EPROTO: return "error reply";
    case DCM_SNMP_EIO: return "socket error";
    }
    return "unknown error";
}

/* ------------------------------------------------------------------ OIDs */

bool dcm_snmp_oid_parse(const char *s, dcm_snmp_oid *out)
{
    out->len = 0;
    if (!s)
        return false;
    if (*s == '.')
        s++;
    while (*s) {
        if (*s < '0' || *s > '9' || out->len == DCM_SNMP_OID_MAX)
            return false;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || v > UINT32_MAX)
            return false;
        out->sub[out->len++] = (uint32_t)v;
        s = end;
        if (*s == '.') {
            s++;
            if (!*s)
                return false;
        } else if (*s) {
            return false;
        }
    }
    return out->len >= 2;
}

bool dcm_snmp_oid_format(const dcm_snmp_oid *o, char *buf, size_t size)
{
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    for (uint32_t i = 0; i < o->len; i++) {
        int w = snprintf(buf + used, size - used, ".%u", (unsigned)o->sub[i]);
        if (w < 0 || (size_t)w >= size - used)
            return false;
        used += (size_t)w;
    }
    return true;
}

bool dcm_snmp_oid_has_prefix(const dcm_snmp_oid *o, const dcm_snmp_oid *prefix)
{
    if (o->len < prefix->len)
        return false;
    return memcmp(o->sub, prefix->sub, prefix->len * sizeof o->sub[0]) == 0;
}

int dcm_snmp_oid_cmp(const dcm_snmp_oid *a, const dcm_snmp_oid *b)
{
    uint32_t n = a->len < b->len ? a->len : b->len;
    for (uint32_t i = 0; i < n; i++)
        if (a->sub[i] != b->sub[i])
            return a->sub[i] < b->sub[i] ? -1 : 1;
    return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

bool dcm_snmp_oid_append(const dcm_snmp_oid *base, const uint32_t *suffix, size_t n,
                         dcm_snmp_oid *out)
{
    if (base->len + n > DCM_SNMP_OID_MAX)
        return false;
    dcm_snmp_oid r = *base;
    memcpy(r.sub + r.len, suffix, n * sizeof *suffix);
    r.len += (uint32_t)n;
    *out = r;
    return true;
}

bool dcm_snmp_oid_index(const dcm_snmp_oid *cell, const dcm_snmp_oid *column, uint32_t *index,
                        size_t cap, size_t *n)
{
    if (!dcm_snmp_oid_has_prefix(cell, column) || cell->len == column->len)
        return false;
    size_t k = cell->len - column->len;
    if (k > cap)
        return false;
    memcpy(index, cell->sub + column->len, k * sizeof *index);
    *n = k;
    return true;
}

bool dcm_snmp_index_name(const uint32_t *index, size_t n, bool drop_last, char *buf,
                         size_t size)
{
    size_t used = 0, parts = drop_last && n > 1 ? n - 1 : n;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < parts; i++) {
        int w = snprintf(buf + used, size - used, "%s%u", i ? "." : "", (unsigned)index[i]);
        if (w < 0 || (size_t)w >= size - used)
            return false;
        used += (size_t)w;
    }
    return parts > 0;
}

/* ---------------------------------------------------------------- values */

const char *dcm_snmp_vtype_name(dcm_snmp_vtype t)
{
    switch (t) {
    case DCM_SNMP_V_INTEGER: return "Integer32";
    case DCM_SNMP_V_UNSIGNED: return "Gauge32";
    case DCM_SNMP_V_COUNTER32: return "Counter32";
    case DCM_SNMP_V_COUNTER64: return "Counter64";
    case DCM_SNMP_V_TIMETICKS: return "TimeTicks";
    case DCM_SNMP_V_STRING: return "OCTET STRING";
    case DCM_SNMP_V_FLOAT: return "Opaque float";
    case DCM_SNMP_V_OID: return "OBJECT IDENTIFIER";
    case DCM_SNMP_V_NOSUCHOBJECT: return "noSuchObject";
    case DCM_SNMP_V_NOSUCHINSTANCE: return "noSuchInstance";
    case DCM_SNMP_V_ENDOFMIBVIEW: return "endOfMibView";
    case DCM_SNMP_V_OTHER: return "other";
    }
    return "?";
}

/* A number written as text by devices that report values as strings: surrounding
 * blanks allowed, a unit after the number is not ("230.5 V" is refused: which unit
 * it is would be a guess). */
static bool text_number(const char *s, double *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno == ERANGE)
        return false;
    while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
        end++;
    if (*end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

dcm_quality dcm_snmp_value_number(const dcm_snmp_value *v, double *out)
{
    *out = 0;
    switch (v->type) {
    case DCM_SNMP_V_INTEGER: *out = (double)v->i; return DCM_QUALITY_OK;
    case DCM_SNMP_V_UNSIGNED:
    case DCM_SNMP_V_COUNTER32:
    case DCM_SNMP_V_COUNTER64:
    case DCM_SNMP_V_TIMETICKS: *out = (double)v->u; return DCM_QUALITY_OK;
    case DCM_SNMP_V_FLOAT:
        if (!isfinite(v->f))
            return DCM_QUALITY_INVALID;
        *out = v->f;
        return DCM_QUALITY_OK;
    case DCM_SNMP_V_STRING:
        return text_number(v->text, out) ? DCM_QUALITY_OK : DCM_QUALITY_INVALID;
    default: return DCM_QUALITY_INVALID;
    }
}

/* ---------------------------------------------------------------- scaling */

double dcm_snmp_digits_factor(long digits)
{
    /* Raritan documents 0..3 digits; anything out of a sane range is a bad reading. */
    if (digits < 0 || digits > 9)
        return NAN;
    return pow(10.0, (double)-digits);
}

double dcm_snmp_entity_factor(long scale, long precision)
{
    /* EntitySensorDataScale: yocto(1) .. yotta(17), units(9) = 10^0, in steps of 10^3.
     * EntitySensorPrecision: 1..9 decimal places; -8..0 leave the value as it is. */
    if (scale < 1 || scale > 17 || precision < -8 || precision > 9)
        return NAN;
    double f = pow(10.0, 3.0 * (double)(scale - 9));
    if (precision > 0)
        f *= pow(10.0, (double)-precision);
    return f;
}

dcm_quality dcm_snmp_point_value(const dcm_snmp_point *p, double raw, long dev_a, long dev_b,
                                 double *out)
{
    *out = 0;
    for (size_t i = 0; i < p->invalid_count; i++)
        if (raw == p->invalid[i])
            return DCM_QUALITY_INVALID;
    double dev = 1.0;
    if (p->devscale == DCM_SNMP_DEVSCALE_DIGITS)
        dev = dcm_snmp_digits_factor(dev_a);
    else if (p->devscale == DCM_SNMP_DEVSCALE_ENTITY)
        dev = dcm_snmp_entity_factor(dev_a, dev_b);
    double v = raw * dev * p->scale + p->offset;
    if (!isfinite(v))
        return DCM_QUALITY_INVALID;
    *out = v;
    return DCM_QUALITY_OK;
}

/* ------------------------------------------------------------------ names */

bool dcm_snmp_name_valid(const char *s)
{
    if (!s || !*s || *s == '.')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' ||
              *s == '-'))
            return false;
    return true;
}

void dcm_snmp_point_clear(dcm_snmp_point *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->description);
    free(p->unit);
    free(p->sum);
    free(p->mean);
    free(p->helpers);
    memset(p, 0, sizeof *p);
}

void dcm_snmp_table_clear(dcm_snmp_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->column_count; i++)
        dcm_snmp_point_clear(&t->columns[i]);
    free(t->columns);
    free(t->name);
    memset(t, 0, sizeof *t);
}

void dcm_snmp_profile_destroy(dcm_snmp_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->point_count; i++)
        dcm_snmp_point_clear(&p->points[i]);
    for (size_t i = 0; i < p->table_count; i++)
        dcm_snmp_table_clear(&p->tables[i]);
    free(p->points);
    free(p->tables);
    free(p->sysobjectid);
    free(p->name);
    free(p->description);
    free(p->source);
    free(p);
}

/* ------------------------------------------------------------------- auto */

size_t dcm_snmp_auto_candidates(const dcm_snmp_profile *const *profiles, size_t n,
                                const dcm_snmp_oid *sysoid, size_t *idx, size_t cap)
{
    size_t count = 0;
    uint32_t match_len[256];
    /* Vendor profiles whose prefix the device's sysObjectID starts with, longest match
     * first (so a product-line prefix beats a bare enterprise number). */
    for (size_t i = 0; i < n && count < cap && count < 256; i++) {
        const dcm_snmp_profile *p = profiles[i];
        uint32_t best = 0;
        for (size_t k = 0; sysoid && k < p->sysobjectid_count; k++)
            if (dcm_snmp_oid_has_prefix(sysoid, &p->sysobjectid[k]) &&
                p->sysobjectid[k].len > best)
                best = p->sysobjectid[k].len;
        if (!best)
            continue;
        size_t at = count++;
        while (at > 0 && (match_len[at - 1] < best ||
                          (match_len[at - 1] == best &&
                           profiles[idx[at - 1]]->priority > p->priority))) {
            idx[at] = idx[at - 1];
            match_len[at] = match_len[at - 1];
            at--;
        }
        idx[at] = i;
        match_len[at] = best;
    }
    /* Then the standard MIBs any agent may implement, by priority. */
    size_t first_generic = count;
    for (size_t i = 0; i < n && count < cap; i++) {
        const dcm_snmp_profile *p = profiles[i];
        if (p->sysobjectid_count || !p->has_detect)
            continue;
        size_t at = count++;
        while (at > first_generic && profiles[idx[at - 1]]->priority > p->priority) {
            idx[at] = idx[at - 1];
            at--;
        }
        idx[at] = i;
    }
    return count;
}
