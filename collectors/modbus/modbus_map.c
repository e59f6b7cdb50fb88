/* Points and profiles from YAML: every key checked, every error placed at file:line:column
 * with its key path, and a suggestion for misspelt keys (through the config loader's key
 * checker, so profiles and the agent configuration speak alike). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "modbus_map.h"
#include "units.h"

static const dcm_config_key point_keys[] = {
    {"name", DCM_KEY_STRING, NULL, false, "point name (required): lower-case letters, digits, '_', '.', '-'"},
    {"address", DCM_KEY_INT, NULL, false,
     "register or bit address, decimal or 0x hex, in the declared addressing"},
    {"table", DCM_KEY_STRING, "holding", false, "holding, input, coil or discrete"},
    {"type", DCM_KEY_STRING, "u16", false,
     "u16 i16 u32 i32 u64 i64 f32 f64, or bool for coils and discrete inputs"},
    {"order", DCM_KEY_STRING, "ABCD", false, "byte order: ABCD, BADC, CDAB or DCBA"},
    {"bit", DCM_KEY_INT, NULL, false, "0..15: read one bit of a u16 register"},
    {"scale", DCM_KEY_DOUBLE, "1", false, "multiplier applied to the raw value"},
    {"offset", DCM_KEY_DOUBLE, "0", false, "added after scaling"},
    {"unit", DCM_KEY_STRING, NULL, false, "unit of the scaled value (W, kWh, V, degC, count...)"},
    {"kind", DCM_KEY_STRING, "gauge", false, "gauge, counter or delta"},
    {"counter_bits", DCM_KEY_INT, NULL, false,
     "wrap width of a counter (default: the integer type's width; floats: no wrap)"},
    {"invalid", DCM_KEY_SELECTORS, NULL, false,
     "raw values meaning 'not available': hex numbers, all_ones, max_signed"},
    {"max_rate", DCM_KEY_DOUBLE, NULL, false, "plausibility limit in the rate unit"},
    {"description", DCM_KEY_STRING, NULL, false, "free text"},
    {"derive", DCM_KEY_STRING, NULL, false, "thermal_power: computed from flow, supply, return"},
    {"flow", DCM_KEY_STRING, NULL, false, "derived: the flow point (m3/h or L/s)"},
    {"supply", DCM_KEY_STRING, NULL, false, "derived: the supply temperature point (degC)"},
    {"return", DCM_KEY_STRING, NULL, false, "derived: the return temperature point (degC)"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key profile_keys[] = {
    {"name", DCM_KEY_STRING, NULL, true, "profile name (= file name without .yaml)"},
    {"description", DCM_KEY_STRING, NULL, true, "the device, in one line"},
    {"source", DCM_KEY_STRING, NULL, false, "where the register map comes from"},
    {"addressing", DCM_KEY_INT, NULL, true,
     "0: addresses are 0-based protocol addresses; 1: vendor 1-based numbers"},
    {"max_registers", DCM_KEY_INT, "125", false, "registers per request, 1..125"},
    {"max_gap", DCM_KEY_INT, "8", false, "registers that may be read over to merge requests"},
    {"defaults", DCM_KEY_MAP, NULL, false, "point keys applied to every point"},
    {"points", DCM_KEY_LIST, NULL, true, "the points"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

const dcm_config_key *dcm_mb_point_keys(void) { return point_keys; }
const dcm_config_key *dcm_mb_profile_keys(void) { return profile_keys; }

/* ------------------------------------------------------------- diagnostics */

static void bad(dcm_diags *d, const dcm_node *at, const char *path, const char *key,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void bad(dcm_diags *d, const dcm_node *at, const char *path, const char *key,
                const char *fmt, ...)
{
    char where[256], msg[512];
    snprintf(where, sizeof where, "%s%s%s", path, key && path[0] ? "." : "", key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dcm_diag_at(d, DCM_DIAG_ERROR, at, where, "%s", msg);
}

/* The point's own value of key, else the profile default's. */
static const dcm_node *get(const dcm_node *n, const dcm_node *defaults, const char *key)
{
    const dcm_node *v = dcm_node_get(n, key);
    if (v && !dcm_node_is_null(v))
        return v;
    v = defaults ? dcm_node_get(defaults, key) : NULL;
    return v && !dcm_node_is_null(v) ? v : NULL;
}

static bool dup(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return true;
    *out = strdup(s);
    return *out != NULL;
}

/* ------------------------------------------------------------------ points */

void dcm_mb_point_clear(dcm_mb_point *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->description);
    free(p->unit);
    free(p->flow);
    free(p->supply);
    free(p->ret);
    free(p->file);
    memset(p, 0, sizeof *p);
}

dcm_mb_err dcm_mb_point_copy(dcm_mb_point *dst, const dcm_mb_point *src)
{
    *dst = *src;
    dst->name = dst->description = dst->unit = dst->flow = dst->supply = dst->ret =
        dst->file = NULL;
    if (!dup(src->name, &dst->name) || !dup(src->description, &dst->description) ||
        !dup(src->unit, &dst->unit) || !dup(src->flow, &dst->flow) ||
        !dup(src->supply, &dst->supply) || !dup(src->ret, &dst->ret) ||
        !dup(src->file, &dst->file)) {
        dcm_mb_point_clear(dst);
        return DCM_MB_ENOMEM;
    }
    return DCM_MB_OK;
}

typedef struct pctx {
    dcm_diags *d;
    const char *path;
    const dcm_node *n;
    const dcm_node *defaults;
    dcm_mb_point *p;
    bool oom;
} pctx;

static bool read_string(pctx *c, const char *key, char **out)
{
    const char *s;
    if (!dcm_node_as_string(get(c->n, c->defaults, key), &s))
        return false;
    if (!dup(s, out))
        c->oom = true;
    return *out != NULL;
}

static void parse_invalid_item(pctx *c, const dcm_node *item, int bits)
{
    dcm_mb_point *p = c->p;
    const char *s = dcm_node_scalar(item);
    if (!s) {
        bad(c->d, item, c->path, "invalid", "expected a number or all_ones / max_signed");
        return;
    }
    if (strcmp(s, "all_ones") == 0) {
        p->invalid_all_ones = true;
        return;
    }
    if (strcmp(s, "max_signed") == 0) {
        p->invalid_max_signed = true;
        return;
    }
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || end == s || *end || s[0] == '-' || s[0] == '+') {
        bad(c->d, item, c->path, "invalid",
            "expected a raw value (0xFFFF...), all_ones or max_signed, got '%.40s'", s);
        return;
    }
    if (bits < 64 && v >> bits) {
        bad(c->d, item, c->path, "invalid", "0x%llX does not fit the %d bits of a %s", v, bits,
            dcm_mb_type_name(p->type));
        return;
    }
    if (p->invalid_count == DCM_MB_MAX_INVALID) {
        bad(c->d, item, c->path, "invalid", "at most %d invalid markers", DCM_MB_MAX_INVALID);
        return;
    }
    p->invalid[p->invalid_count++] = (uint64_t)v;
}

static void parse_invalid(pctx *c)
{
    const dcm_node *n = get(c->n, c->defaults, "invalid");
    if (!n)
        return;
    if (c->p->type == DCM_MB_BOOL) {
        bad(c->d, n, c->path, "invalid", "a bool has no invalid value");
        return;
    }
    int bits = dcm_mb_type_bits(c->p->type);
    if (dcm_node_kind(n) == DCM_NODE_LIST) {
        for (size_t i = 0; i < dcm_node_size(n); i++)
            parse_invalid_item(c, dcm_node_at(n, i), bits);
    } else {
        parse_invalid_item(c, n, bits);
    }
}

static void parse_kind(pctx *c)
{
    dcm_mb_point *p = c->p;
    const dcm_node *kn = get(c->n, c->defaults, "kind");
    const char *k;
    p->kind = DCM_KIND_GAUGE;
    if (dcm_node_as_string(kn, &k)) {
        if (strcmp(k, "counter") == 0)
            p->kind = DCM_KIND_COUNTER;
        else if (strcmp(k, "delta") == 0)
            p->kind = DCM_KIND_DELTA;
        else if (strcmp(k, "gauge") != 0)
            bad(c->d, kn, c->path, "kind", "expected gauge, counter or delta, got '%.40s'", k);
    }
    bool is_float = p->type == DCM_MB_F32 || p->type == DCM_MB_F64;
    const dcm_node *bn = get(c->n, c->defaults, "counter_bits");
    long long bits;
    if (p->kind == DCM_KIND_COUNTER && p->derive == DCM_MB_DERIVE_NONE)
        p->counter_bits = is_float || p->bit >= 0 ? 0 : dcm_mb_type_bits(p->type);
    if (!dcm_node_as_int(bn, &bits))
        return;
    /* A default counter_bits must not turn every point of a profile into an error. */
    if (p->kind != DCM_KIND_COUNTER) {
        if (bn == dcm_node_get(c->n, "counter_bits"))
            bad(c->d, bn, c->path, "counter_bits", "only a counter has a wrap width");
        return;
    }
    int max = is_float || p->bit >= 0 ? 0 : dcm_mb_type_bits(p->type);
    if (max == 0 && bits != 0)
        bad(c->d, bn, c->path, "counter_bits", "a %s counter does not wrap: 0 or leave it out",
            p->bit >= 0 ? "bit" : dcm_mb_type_name(p->type));
    else if (bits < 0 || bits > max || (bits > 0 && bits < 8))
        bad(c->d, bn, c->path, "counter_bits", "expected 0 (no wrap) or 8..%d for a %s, got %lld",
            max, dcm_mb_type_name(p->type), bits);
    else
        p->counter_bits = (int)bits;
}

static void parse_unit(pctx *c)
{
    dcm_mb_point *p = c->p;
    const dcm_node *un = get(c->n, c->defaults, "unit");
    if (!un) {
        const char *implied = p->derive != DCM_MB_DERIVE_NONE ? "kW"
                              : (p->type == DCM_MB_BOOL || p->bit >= 0) ? "bool"
                                                                        : NULL;
        if (!implied) {
            bad(c->d, c->n, c->path, NULL,
                "missing required key 'unit' (W, kWh, V, A, Hz, degC, m3/h, count, ...)");
            return;
        }
        if (!dup(implied, &p->unit))
            c->oom = true;
        return;
    }
    if (!read_string(c, "unit", &p->unit))
        return;
    dcm_unit_info u;
    char why[160];
    if (!dcm_unit_lookup(p->unit, &u)) {
        const char *cand[64];
        size_t n = 0;
        for (size_t i = 0; i < dcm_unit_count() && n < 64; i++)
            cand[n++] = dcm_unit_at(i)->name;
        const char *s = dcm_suggest(p->unit, cand, n);
        bad(c->d, un, c->path, "unit", "unknown unit '%.40s'%s%s%s", p->unit,
            s ? ", did you mean '" : "", s ? s : "", s ? "'?" : "");
    } else if (!dcm_unit_fits_kind(&u, p->kind, why, sizeof why)) {
        bad(c->d, un, c->path, "unit", "%s", why);
    } else if (p->derive != DCM_MB_DERIVE_NONE &&
               !(u.quantity == DCM_QTY_ENERGY && u.is_rate)) {
        bad(c->d, un, c->path, "unit", "a thermal power needs a power unit (W, kW, MW), not '%s'",
            p->unit);
    }
}

static void parse_derived(pctx *c, const dcm_node *dn)
{
    dcm_mb_point *p = c->p;
    const char *s;
    if (!dcm_node_as_string(dn, &s))
        return;
    if (strcmp(s, "thermal_power") != 0) {
        bad(c->d, dn, c->path, "derive", "expected thermal_power, got '%.40s'", s);
        return;
    }
    p->derive = DCM_MB_DERIVE_THERMAL_POWER;
    static const char *const register_keys[] = {"address", "table", "type", "order",
                                                "bit",     "invalid", "counter_bits"};
    for (size_t i = 0; i < sizeof register_keys / sizeof register_keys[0]; i++) {
        const dcm_node *v = dcm_node_get(c->n, register_keys[i]);
        if (v && !dcm_node_is_null(v))
            bad(c->d, v, c->path, register_keys[i], "a derived point reads no register");
    }
    static const char *const inputs[] = {"flow", "supply", "return"};
    char **slots[] = {&p->flow, &p->supply, &p->ret};
    for (int i = 0; i < 3; i++) {
        const dcm_node *v = dcm_node_get(c->n, inputs[i]);
        if (!v || dcm_node_is_null(v)) {
            bad(c->d, c->n, c->path, NULL, "missing required key '%s' for derive: thermal_power",
                inputs[i]);
            continue;
        }
        if (!dcm_node_as_string(v, &s))
            continue;
        if (!dcm_mb_name_valid(s))
            bad(c->d, v, c->path, inputs[i], "expected a point name, got '%.40s'", s);
        else if (!dup(s, slots[i]))
            c->oom = true;
    }
}

static void parse_address(pctx *c, int addressing)
{
    dcm_mb_point *p = c->p;
    const dcm_node *an = dcm_node_get(c->n, "address");
    long long a;
    if (!an || dcm_node_is_null(an)) {
        bad(c->d, c->n, c->path, NULL, "missing required key 'address'");
        return;
    }
    if (!dcm_node_as_int(an, &a))
        return; /* the key check said what it expected */
    long long proto = a - addressing;
    int n = dcm_mb_point_registers(p);
    if (proto < 0 || proto + n - 1 > 65535) {
        bad(c->d, an, c->path, "address",
            "%lld is outside %d..%d (addressing %d%s%s)", a, addressing,
            65536 - n + addressing, addressing, addressing ? ": numbers start at 1" : "",
            n > 1 ? ", and the value must fit below 65536" : "");
        return;
    }
    p->address = (uint16_t)proto;
}

static void parse_register_keys(pctx *c, int addressing)
{
    dcm_mb_point *p = c->p;
    const dcm_node *v;
    const char *s;
    p->table = DCM_MB_HOLDING;
    if (dcm_node_as_string(v = get(c->n, c->defaults, "table"), &s) &&
        !dcm_mb_table_parse(s, &p->table))
        bad(c->d, v, c->path, "table", "expected holding, input, coil or discrete, got '%.40s'",
            s);
    bool bits = dcm_mb_table_is_bits(p->table);
    p->type = bits ? DCM_MB_BOOL : DCM_MB_U16;
    if (dcm_node_as_string(v = get(c->n, c->defaults, "type"), &s)) {
        if (!dcm_mb_type_parse(s, &p->type))
            bad(c->d, v, c->path, "type",
                "expected u16, i16, u32, i32, u64, i64, f32, f64 or bool, got '%.40s'", s);
        /* A default type for the register tables must not break a profile's coils. */
        else if (bits && p->type != DCM_MB_BOOL && v != dcm_node_get(c->n, "type"))
            p->type = DCM_MB_BOOL;
        else if (bits && p->type != DCM_MB_BOOL)
            bad(c->d, v, c->path, "type", "a %s holds one bit: its type is bool",
                dcm_mb_table_name(p->table));
        else if (!bits && p->type == DCM_MB_BOOL)
            bad(c->d, v, c->path, "type",
                "bool is for coils and discrete inputs; use u16 with bit: N for a register bit");
    }
    if (dcm_node_as_string(v = get(c->n, c->defaults, "order"), &s) &&
        !dcm_mb_order_parse(s, &p->order))
        bad(c->d, v, c->path, "order", "expected ABCD, BADC, CDAB or DCBA, got '%.40s'", s);
    long long b;
    if (dcm_node_as_int(v = dcm_node_get(c->n, "bit"), &b)) {
        if (p->type != DCM_MB_U16 || bits)
            bad(c->d, v, c->path, "bit", "bit needs a u16 register (type: u16)");
        else if (b < 0 || b > 15)
            bad(c->d, v, c->path, "bit", "expected 0..15, got %lld", b);
        else
            p->bit = (int)b;
    }
    parse_address(c, addressing);
}

dcm_mb_err dcm_mb_point_parse(const dcm_node *n, const dcm_node *defaults, int addressing,
                              const char *path, dcm_mb_point *out, dcm_diags *diags)
{
    memset(out, 0, sizeof *out);
    out->bit = -1;
    out->scale = 1.0;
    size_t errors = diags->errors;
    dcm_cfg_ctx cc = {diags, false};
    if (!dcm_cfg_check_keys(&cc, n, path, point_keys, NULL))
        return DCM_MB_EINVALID;
    pctx c = {diags, path, n, defaults, out, false};
    if (!dup(dcm_node_file(n), &out->file))
        c.oom = true;
    out->line = dcm_node_line(n);
    out->column = dcm_node_column(n);

    const dcm_node *v = dcm_node_get(n, "name");
    const char *s;
    if (!v || dcm_node_is_null(v)) {
        bad(diags, n, path, NULL, "missing required key 'name'");
    } else if (dcm_node_as_string(v, &s)) {
        if (!dcm_mb_name_valid(s))
            bad(diags, v, path, "name",
                "expected lower-case letters, digits, '_', '.' and '-', got '%.40s'", s);
        else if (!dup(s, &out->name))
            c.oom = true;
    }
    const dcm_node *dn = dcm_node_get(n, "derive");
    if (dn && !dcm_node_is_null(dn)) {
        parse_derived(&c, dn);
    } else {
        static const char *const inputs[] = {"flow", "supply", "return"};
        for (int i = 0; i < 3; i++)
            if ((v = dcm_node_get(n, inputs[i])) && !dcm_node_is_null(v))
                bad(diags, v, path, inputs[i], "only a derived point (derive: ...) has inputs");
        parse_register_keys(&c, addressing);
    }
    double d;
    if (dcm_node_as_double(v = get(n, defaults, "scale"), &d)) {
        if (d == 0)
            bad(diags, v, path, "scale", "must not be 0");
        else
            out->scale = d;
    }
    dcm_node_as_double(get(n, defaults, "offset"), &out->offset);
    if (dcm_node_as_double(v = get(n, defaults, "max_rate"), &d)) {
        if (d < 0)
            bad(diags, v, path, "max_rate", "must not be negative");
        else
            out->max_rate = d;
    }
    parse_kind(&c);
    if (out->derive != DCM_MB_DERIVE_NONE && out->kind != DCM_KIND_GAUGE)
        bad(diags, dcm_node_get(n, "kind"), path, "kind", "a derived power is a gauge");
    parse_unit(&c);
    if (out->derive == DCM_MB_DERIVE_NONE)
        parse_invalid(&c);
    if (dcm_node_as_string(dcm_node_get(n, "description"), &s) && !dup(s, &out->description))
        c.oom = true;
    if (c.oom || cc.oom) {
        dcm_mb_point_clear(out);
        return DCM_MB_ENOMEM;
    }
    if (diags->errors != errors || !out->name) {
        dcm_mb_point_clear(out);
        return DCM_MB_EINVALID;
    }
    return DCM_MB_OK;
}

/* --------------------------------------------------------- point sets */

static void point_error(dcm_diags *d, const dcm_mb_point *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void point_error(dcm_diags *d, const dcm_mb_point *p, const char *fmt, ...)
{
    char msg[512], path[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(path, sizeof path, "points[%s]", p->name ? p->name : "?");
    dcm_diags_add(d, DCM_DIAG_ERROR, p->file ? p->file : "<profile>", p->line, p->column, path,
                  "%s", msg);
}

static const dcm_mb_point *find_point(const dcm_mb_point *pts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (pts[i].name && name && strcmp(pts[i].name, name) == 0)
            return &pts[i];
    return NULL;
}

static void check_input(dcm_diags *d, const dcm_mb_point *p, const dcm_mb_point *pts, size_t n,
                        const char *role, const char *name, bool is_flow)
{
    const dcm_mb_point *in = find_point(pts, n, name);
    if (!in) {
        point_error(d, p, "%s point '%s' is not a point of this device", role, name);
        return;
    }
    if (in->derive != DCM_MB_DERIVE_NONE) {
        point_error(d, p, "%s point '%s' is itself derived", role, name);
        return;
    }
    const char *unit = in->unit ? in->unit : "";
    if (is_flow && strcmp(unit, "m3/h") != 0 && strcmp(unit, "L/s") != 0)
        point_error(d, p, "flow point '%s' must be in m3/h or L/s, not '%s'", name, unit);
    if (!is_flow && strcmp(unit, "degC") != 0)
        point_error(d, p, "%s point '%s' must be in degC, not '%s'", role, name, unit);
}

bool dcm_mb_check_points(const dcm_mb_point *pts, size_t n, int max_registers, dcm_diags *d)
{
    size_t errors = d->errors;
    for (size_t i = 0; i < n; i++) {
        const dcm_mb_point *p = &pts[i];
        for (size_t j = 0; j < i; j++)
            if (strcmp(pts[j].name, p->name) == 0)
                point_error(d, p, "point '%s' is declared twice (first at line %d)", p->name,
                            pts[j].line);
        if (p->derive == DCM_MB_DERIVE_THERMAL_POWER) {
            check_input(d, p, pts, n, "flow", p->flow, true);
            check_input(d, p, pts, n, "supply", p->supply, false);
            check_input(d, p, pts, n, "return", p->ret, false);
        } else if (!dcm_mb_table_is_bits(p->table) &&
                   dcm_mb_point_registers(p) > max_registers) {
            point_error(d, p, "a %s takes %d registers, more than max_registers (%d)",
                        dcm_mb_type_name(p->type), dcm_mb_point_registers(p), max_registers);
        }
    }
    return d->errors == errors;
}

/* ---------------------------------------------------------------- profiles */

void dcm_mb_profile_destroy(dcm_mb_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->point_count; i++)
        dcm_mb_point_clear(&p->points[i]);
    free(p->points);
    free(p->name);
    free(p->description);
    free(p->source);
    free(p);
}

static bool read_limit(dcm_diags *d, const dcm_node *root, const char *key, long long lo,
                       long long hi, int *out)
{
    const dcm_node *v = dcm_node_get(root, key);
    long long x;
    if (!dcm_node_as_int(v, &x))
        return true;
    if (x < lo || x > hi) {
        bad(d, v, "", key, "expected %lld..%lld, got %lld", lo, hi, x);
        return false;
    }
    *out = (int)x;
    return true;
}

static const char *const defaults_refused[] = {"name", "address", "derive", "flow", "supply",
                                               "return", "bit"};

static void check_defaults(dcm_cfg_ctx *cc, const dcm_node *defaults)
{
    if (!defaults || dcm_node_is_null(defaults))
        return;
    if (!dcm_cfg_check_keys(cc, defaults, "defaults", point_keys, NULL))
        return;
    for (size_t i = 0; i < sizeof defaults_refused / sizeof defaults_refused[0]; i++) {
        const dcm_node *v = dcm_node_get(defaults, defaults_refused[i]);
        if (v)
            bad(cc->diags, v, "defaults", defaults_refused[i], "belongs to each point, not to "
                                                               "the defaults");
    }
}

dcm_mb_err dcm_mb_profile_parse(const dcm_node *root, dcm_mb_profile **out, dcm_diags *diags)
{
    *out = NULL;
    size_t errors = diags->errors;
    dcm_mb_err err = DCM_MB_EINVALID;
    dcm_cfg_ctx cc = {diags, false};
    dcm_mb_profile *p = calloc(1, sizeof *p);
    if (!p)
        return DCM_MB_ENOMEM;
    p->max_registers = DCM_MB_MAX_REGISTERS;
    p->max_gap = DCM_MB_DEFAULT_MAX_GAP;
    if (!root) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, "<profile>", 0, 0, "", "empty profile");
        goto fail;
    }
    if (!dcm_cfg_check_keys(&cc, root, "", profile_keys, NULL))
        goto fail;
    const dcm_node *v = dcm_node_get(root, "name");
    const char *s;
    if (dcm_node_as_string(v, &s) && !dcm_mb_name_valid(s))
        bad(diags, v, "", "name", "expected lower-case letters, digits, '_', '.', '-'");
    if ((dcm_node_as_string(dcm_node_get(root, "name"), &s) && !dup(s, &p->name)) ||
        (dcm_node_as_string(dcm_node_get(root, "description"), &s) &&
         !dup(s, &p->description)) ||
        (dcm_node_as_string(dcm_node_get(root, "source"), &s) && !dup(s, &p->source)))
        goto nomem;
    long long a;
    v = dcm_node_get(root, "addressing");
    if (dcm_node_as_int(v, &a)) {
        if (a != 0 && a != 1)
            bad(diags, v, "", "addressing", "expected 0 (protocol addresses) or 1 (vendor "
                                            "numbers starting at 1), got %lld", a);
        else
            p->addressing = (int)a;
    }
    bool limits_ok = read_limit(diags, root, "max_registers", 1, DCM_MB_MAX_REGISTERS,
                                &p->max_registers);
    read_limit(diags, root, "max_gap", 0, DCM_MB_MAX_REGISTERS, &p->max_gap);
    const dcm_node *defaults = dcm_node_get(root, "defaults");
    check_defaults(&cc, defaults);
    if (defaults && dcm_node_kind(defaults) != DCM_NODE_MAP)
        defaults = NULL;
    const dcm_node *list = dcm_node_get(root, "points");
    size_t n = dcm_node_kind(list) == DCM_NODE_LIST ? dcm_node_size(list) : 0;
    if (list && !dcm_node_is_null(list) && dcm_node_kind(list) == DCM_NODE_LIST && n == 0)
        bad(diags, list, "", "points", "a profile needs at least one point");
    p->points = calloc(n ? n : 1, sizeof *p->points);
    if (!p->points)
        goto nomem;
    for (size_t i = 0; i < n; i++) {
        char path[48];
        snprintf(path, sizeof path, "points[%zu]", i);
        dcm_mb_err e = dcm_mb_point_parse(dcm_node_at(list, i), defaults, p->addressing, path,
                                          &p->points[p->point_count], diags);
        if (e == DCM_MB_ENOMEM)
            goto nomem;
        if (e == DCM_MB_OK)
            p->point_count++;
    }
    if (limits_ok)
        dcm_mb_check_points(p->points, p->point_count, p->max_registers, diags);
    if (cc.oom)
        goto nomem;
    if (diags->errors != errors)
        goto fail;
    *out = p;
    return DCM_MB_OK;
nomem:
    err = DCM_MB_ENOMEM;
fail:
    dcm_mb_profile_destroy(p);
    return err;
}

dcm_mb_err dcm_mb_profile_parse_text(const char *text, size_t len, const char *file,
                                     dcm_mb_profile **out, dcm_diags *diags)
{
    *out = NULL;
    dcm_node *root = NULL;
    dcm_config_err ce = dcm_node_tree_parse(text, len, file, &root, diags);
    if (ce == DCM_CONFIG_ENOMEM)
        return DCM_MB_ENOMEM;
    if (ce != DCM_CONFIG_OK)
        return DCM_MB_EINVALID;
    if (!root) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, file ? file : "<profile>", 0, 0, "",
                      "empty profile");
        return DCM_MB_EINVALID;
    }
    dcm_mb_err err = dcm_mb_profile_parse(root, out, diags);
    dcm_node_tree_free(root);
    return err;
}
