/*
 * modbus_server_config.c - reading the facility simulator's configuration: the sim model's
 * parameters, the devices (profile, own points, fault ranges) and where each register's
 * value comes from, with every problem placed at file:line:column.
 */
/* The simulator runs the sim collector's model: it is built with it. */
#ifdef DCM_WITH_SIM

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "timestamp.h"
#include "config_internal.h"
#include "modbus_server.h"
#include "units.h"

#define MBS_MAX_UNIT 247
#define MBS_MAX_DEVICES 247
#define NS_PER_S INT64_C(1000000000)

const char *dcm_mbs_strerror(dcm_mbs_err err)
{
    switch (err) {
    case DCM_MBS_OK: return "ok";
    case DCM_MBS_EINVALID: return "invalid simulator configuration";
    case DCM_MBS_EIO: return "cannot read the configuration";
    case DCM_MBS_ENOMEM: return "out of memory";
    case DCM_MBS_ELISTEN: return "cannot listen";
    case DCM_MBS_ETHREAD: return "cannot start the server thread";
    }
    return "unknown error";
}

/* ------------------------------------------------------------ key tables */

static const dcm_config_key top_keys[] = {
    {"listen", DCM_KEY_STRING, "127.0.0.1:1502", false,
     "HOST:PORT to serve on ([::1]:1502 for IPv6); `--listen` overrides it"},
    {"sim", DCM_KEY_MAP, NULL, false, "the simulation model's parameters"},
    {"devices", DCM_KEY_LIST, NULL, true, "the simulated devices, one unit id each"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key sim_keys[] = {
    {"seed", DCM_KEY_INT, "1", false, "seed of the random jobs and weather"},
    {"it_kw", DCM_KEY_DOUBLE, "1200", false, "mean IT load of the two halls, kW"},
    {"nodes", DCM_KEY_INT, "8", false, "GPU nodes (2..64)"},
    {"utc_offset", DCM_KEY_STRING, "+08:00", false, "site local time minus UTC: +HH:MM or -5h"},
    {"latitude", DCM_KEY_DOUBLE, "23.0", false, "site latitude, degrees"},
    {"pv_kwp", DCM_KEY_DOUBLE, "300", false, "rooftop PV peak power, kWp"},
    {"reuse_share", DCM_KEY_DOUBLE, "0.10", false, "share of the heat recovered (0..0.5)"},
    {"fresh_share", DCM_KEY_DOUBLE, "0.60", false, "freshwater share of make-up water (0..1)"},
    {"step", DCM_KEY_DURATION, "1s", false, "model integration step"},
    {"emit_every", DCM_KEY_DURATION, "1s", false, "simulated time between register updates"},
    {"chw_supply", DCM_KEY_DOUBLE, "7", false, "chilled-water supply temperature, degC"},
    {"chw_delta", DCM_KEY_DOUBLE, "5", false, "chilled-water return minus supply, K (> 0)"},
    {"heat_supply", DCM_KEY_DOUBLE, "65", false, "heat-recovery supply temperature, degC"},
    {"heat_delta", DCM_KEY_DOUBLE, "25", false, "heat-recovery supply minus return, K (> 0)"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key device_keys[] = {
    {"unit", DCM_KEY_INT, NULL, true, "unit id (slave id), 1..247"},
    {"name", DCM_KEY_STRING, NULL, false, "a name for listings and messages"},
    {"profile", DCM_KEY_STRING, NULL, false, "a compiled-in profile (`dcmetrics profiles`)"},
    {"points", DCM_KEY_LIST, NULL, false, "points of its own, or profile points replaced by name"},
    {"addressing", DCM_KEY_INT, "0", false, "0 or 1: the base of the addresses in points"},
    {"values", DCM_KEY_MAP, NULL, false, "point: NUMBER | [FACTOR *] SIM-NAME"},
    {"exceptions", DCM_KEY_LIST, NULL, false,
     "reads answered with exception 02: [{table, address, count}]"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key range_keys[] = {
    {"table", DCM_KEY_STRING, NULL, true, "holding, input, coil or discrete"},
    {"address", DCM_KEY_INT, NULL, true, "first 0-based address"},
    {"count", DCM_KEY_INT, "1", false, "registers (or bits) from there"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

/* The loop channels and their units. */
static const struct channel {
    const char *name;
    dcm_mbs_source source;
    const char *unit;
} channels[] = {
    {"chw.supply.temperature", DCM_MBS_SRC_CHW_SUPPLY, "degC"},
    {"chw.return.temperature", DCM_MBS_SRC_CHW_RETURN, "degC"},
    {"chw.flow", DCM_MBS_SRC_CHW_FLOW, "m3/h"},
    {"heat.supply.temperature", DCM_MBS_SRC_HEAT_SUPPLY, "degC"},
    {"heat.return.temperature", DCM_MBS_SRC_HEAT_RETURN, "degC"},
    {"heat.flow", DCM_MBS_SRC_HEAT_FLOW, "m3/h"},
};
#define CHANNEL_COUNT (sizeof channels / sizeof channels[0])

size_t dcm_mbs_channel_count(void) { return CHANNEL_COUNT; }

const char *dcm_mbs_channel_name(size_t i) { return i < CHANNEL_COUNT ? channels[i].name : NULL; }

/* --------------------------------------------------------------- helpers */

typedef struct parse_ctx {
    dcm_cfg_ctx c;
    dcm_diags *diags;
    dcm_sim_run *run; /* for the sim point names and units */
} parse_ctx;

static const char *str_of(const dcm_node *map, const char *key)
{
    const char *s = NULL;
    return dcm_node_as_string(dcm_node_get(map, key), &s) ? s : NULL;
}

static double double_or(const dcm_node *map, const char *key, double dflt)
{
    double v = dflt;
    dcm_node_as_double(dcm_node_get(map, key), &v);
    return v;
}

static void error_at(parse_ctx *p, const dcm_node *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void error_at(parse_ctx *p, const dcm_node *n, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    dcm_diag_at(p->diags, DCM_DIAG_ERROR, n, path, "%s", msg);
}

/* ------------------------------------------------------------------- sim */

static void read_sim(parse_ctx *p, const dcm_node *sim, dcm_mbs_config *cfg)
{
    dcm_sim_config *sc = &cfg->sim;
    long long v;
    memset(sc, 0, sizeof *sc);
    dcm_sim_params_default(&sc->params);
    sc->step_ns = NS_PER_S;
    sc->emit_ns = NS_PER_S;
    cfg->chw_supply_c = 7.0;
    cfg->chw_delta_k = 5.0;
    cfg->heat_supply_c = 65.0;
    cfg->heat_delta_k = 25.0;
    if (!sim)
        return;
    if (!dcm_cfg_check_keys(&p->c, sim, "sim", sim_keys, NULL))
        return;
    if (dcm_node_as_int(dcm_node_get(sim, "seed"), &v))
        sc->params.seed = (uint64_t)v;
    if (dcm_node_as_int(dcm_node_get(sim, "nodes"), &v))
        sc->params.nodes = v < 0 || v > DCM_SIM_MAX_NODES ? -1 : (int)v;
    sc->params.it_kw = double_or(sim, "it_kw", sc->params.it_kw);
    sc->params.latitude_deg = double_or(sim, "latitude", sc->params.latitude_deg);
    sc->params.pv_kwp = double_or(sim, "pv_kwp", sc->params.pv_kwp);
    sc->params.reuse_share = double_or(sim, "reuse_share", sc->params.reuse_share);
    sc->params.fresh_share = double_or(sim, "fresh_share", sc->params.fresh_share);
    dcm_node_as_duration_ns(dcm_node_get(sim, "step"), &sc->step_ns);
    dcm_node_as_duration_ns(dcm_node_get(sim, "emit_every"), &sc->emit_ns);
    cfg->chw_supply_c = double_or(sim, "chw_supply", cfg->chw_supply_c);
    cfg->chw_delta_k = double_or(sim, "chw_delta", cfg->chw_delta_k);
    cfg->heat_supply_c = double_or(sim, "heat_supply", cfg->heat_supply_c);
    cfg->heat_delta_k = double_or(sim, "heat_delta", cfg->heat_delta_k);
    const char *off = str_of(sim, "utc_offset");
    if (off && !dcm_parse_utc_offset(off, &sc->params.utc_offset_ns))
        error_at(p, dcm_node_get(sim, "utc_offset"), "sim.utc_offset",
                 "expected +HH:MM, -HH:MM, Z or a signed duration such as -5h, got '%.40s'", off);
    static const char *const deltas[] = {"chw_delta", "heat_delta"};
    double dv[] = {cfg->chw_delta_k, cfg->heat_delta_k};
    for (int i = 0; i < 2; i++) {
        if (!(dv[i] > 0.0 && dv[i] <= 100.0)) {
            char where[32];
            snprintf(where, sizeof where, "sim.%s", deltas[i]);
            error_at(p, dcm_node_get(sim, deltas[i]), where,
                     "a temperature difference must be above 0 and at most 100 K");
        }
    }
}

/* ---------------------------------------------------------------- values */

static bool unit_of(const char *name, dcm_unit_info *out)
{
    if (strcmp(name, "count") == 0 || strcmp(name, "bool") == 0) {
        memset(out, 0, sizeof *out);
        out->name = name;
        out->canonical = name;
        out->factor = 1.0;
        out->quantity = DCM_QTY_OTHER;
        return true;
    }
    return dcm_unit_lookup(name, out);
}

/* Resolves NAME to a source and the unit its values come in. */
static bool resolve_name(const parse_ctx *p, const char *name, dcm_mbs_value *v,
                         const char **unit)
{
    for (size_t i = 0; i < CHANNEL_COUNT; i++) {
        if (strcmp(name, channels[i].name) == 0) {
            v->source = channels[i].source;
            *unit = channels[i].unit;
            return true;
        }
    }
    long idx = dcm_sim_run_find(p->run, name);
    if (idx >= 0) {
        v->source = DCM_MBS_SRC_POINT;
        v->point = (size_t)idx;
        *unit = dcm_sim_run_point(p->run, (size_t)idx)->unit;
        return true;
    }
    /* X.power from the counter X.energy (kWh), X.flow from X.volume (m3). */
    static const struct {
        const char *suffix, *counter, *counter_unit, *rate_unit;
    } rates[] = {{".power", ".energy", "kWh", "kW"}, {".flow", ".volume", "m3", "m3/h"}};
    size_t len = strlen(name);
    for (size_t r = 0; r < 2; r++) {
        size_t sl = strlen(rates[r].suffix);
        char counter[96];
        if (len <= sl || strcmp(name + len - sl, rates[r].suffix) != 0 ||
            len - sl + strlen(rates[r].counter) >= sizeof counter)
            continue;
        snprintf(counter, sizeof counter, "%.*s%s", (int)(len - sl), name, rates[r].counter);
        idx = dcm_sim_run_find(p->run, counter);
        if (idx < 0)
            continue;
        const dcm_point_decl *d = dcm_sim_run_point(p->run, (size_t)idx);
        if (d->kind != DCM_KIND_COUNTER || strcmp(d->unit, rates[r].counter_unit) != 0)
            continue;
        v->source = DCM_MBS_SRC_RATE;
        v->point = (size_t)idx;
        *unit = rates[r].rate_unit;
        return true;
    }
    return false;
}

/* Every name a value may use, for suggestions. Returns a malloc'd array (NULL on OOM). */
static const char **all_names(const parse_ctx *p, size_t *n)
{
    size_t np = dcm_sim_run_point_count(p->run);
    const char **names = calloc(2 * np + CHANNEL_COUNT + 1, sizeof *names);
    *n = 0;
    if (!names)
        return NULL;
    for (size_t i = 0; i < CHANNEL_COUNT; i++)
        names[(*n)++] = channels[i].name;
    for (size_t i = 0; i < np; i++)
        names[(*n)++] = dcm_sim_run_point(p->run, i)->name;
    return names;
}

static void read_value(parse_ctx *p, const dcm_node *n, const char *path, const dcm_mb_point *pt,
                       dcm_mbs_value *v)
{
    const char *text;
    double number;
    memset(v, 0, sizeof *v);
    v->factor = 1.0;
    if (pt->derive != DCM_MB_DERIVE_NONE) {
        error_at(p, n, path, "'%s' is derived by the reader from other points: it has no "
                             "register to serve", pt->name);
        return;
    }
    if (dcm_node_as_double(n, &number)) {
        v->source = DCM_MBS_SRC_CONST;
        v->constant = number;
        return;
    }
    if (!dcm_node_as_string(n, &text)) {
        error_at(p, n, path, "expected a number or [FACTOR *] NAME");
        return;
    }
    /* [FACTOR *] NAME */
    const char *name = text;
    const char *star = strchr(text, '*');
    if (star) {
        char *end;
        errno = 0;
        v->factor = strtod(text, &end);
        while (isspace((unsigned char)*end))
            end++;
        if (end == text || end != star || errno != 0 || !(v->factor == v->factor) ||
            v->factor > 1e12 || v->factor < -1e12) {
            error_at(p, n, path, "expected FACTOR * NAME (e.g. 0.5 * it.hall-a.energy), got "
                                 "'%.60s'", text);
            return;
        }
        name = star + 1;
        while (isspace((unsigned char)*name))
            name++;
    }
    const char *src_unit = NULL;
    if (!resolve_name(p, name, v, &src_unit)) {
        size_t count = 0;
        const char **names = all_names(p, &count);
        const char *s = names ? dcm_suggest(name, names, count) : NULL;
        error_at(p, n, path, "unknown simulation value '%.60s'%s%s%s (sim points, X.power of "
                             "an X.energy counter, X.flow of an X.volume counter, chw.*, heat.*)",
                 name, s ? ", did you mean '" : "", s ? s : "", s ? "'?" : "");
        free(names);
        return;
    }
    dcm_unit_info from, to;
    if (!unit_of(pt->unit, &to) || !unit_of(src_unit, &from)) {
        error_at(p, n, path, "unknown unit '%s'", pt->unit);
        return;
    }
    bool same = strcmp(from.canonical, to.canonical) == 0 && from.is_rate == to.is_rate &&
                from.quantity == to.quantity;
    if (!same) {
        error_at(p, n, path, "'%s' is in %s, the point '%s' in %s: they do not convert",
                 name, src_unit, pt->name, pt->unit);
        return;
    }
    v->factor *= from.factor / to.factor;
}

/* ------------------------------------------------------------- devices */

static void read_ranges(parse_ctx *p, const dcm_node *list, const char *path,
                        dcm_mbs_device *d)
{
    size_t n = dcm_node_size(list);
    if (!n)
        return;
    d->exceptions = calloc(n, sizeof *d->exceptions);
    if (!d->exceptions) {
        p->c.oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const dcm_node *item = dcm_node_at(list, i);
        char where[320];
        snprintf(where, sizeof where, "%s[%zu]", path, i);
        if (!dcm_cfg_check_keys(&p->c, item, where, range_keys, NULL))
            continue;
        dcm_mbs_range *r = &d->exceptions[d->exception_count];
        long long address = -1, count = 1;
        const char *table = str_of(item, "table");
        if (!table || !dcm_mb_table_parse(table, &r->table)) {
            error_at(p, dcm_node_get(item, "table"), where,
                     "table: expected holding, input, coil or discrete");
            continue;
        }
        dcm_node_as_int(dcm_node_get(item, "address"), &address);
        dcm_node_as_int(dcm_node_get(item, "count"), &count);
        if (address < 0 || address > 65535 || count < 1 || address + count > 65536) {
            error_at(p, item, where, "address and count must lie within 0..65535");
            continue;
        }
        r->address = (uint16_t)address;
        r->count = (uint16_t)count;
        d->exception_count++;
    }
}

static long find_point(const dcm_mbs_device *d, const char *name)
{
    for (size_t i = 0; i < d->point_count; i++)
        if (strcmp(d->points[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* The profile's points, then the device's own: a point named like a profile point
 * replaces it. */
static void read_points(parse_ctx *p, const dcm_node *item, const char *path, dcm_mbs_device *d)
{
    const char *profile = str_of(item, "profile");
    const dcm_node *own = dcm_node_get(item, "points");
    dcm_mb_profile *prof = NULL;
    long long addressing = 0;
    size_t own_n = dcm_node_size(own);
    if (profile) {
        dcm_mb_err err = dcm_mb_profile_load(profile, dcm_node_get(item, "profile"), &prof,
                                             p->diags);
        if (err == DCM_MB_ENOMEM)
            p->c.oom = true;
        if (err != DCM_MB_OK)
            return;
        d->profile = dcm_cfg_strdup(&p->c, profile);
    } else if (!own_n) {
        error_at(p, item, path, "a device needs a profile, points, or both");
        return;
    }
    dcm_node_as_int(dcm_node_get(item, "addressing"), &addressing);
    if (addressing != 0 && addressing != 1) {
        error_at(p, dcm_node_get(item, "addressing"), path, "addressing: expected 0 or 1");
        addressing = 0;
    }
    size_t cap = (prof ? prof->point_count : 0) + own_n;
    d->points = calloc(cap ? cap : 1, sizeof *d->points);
    if (!d->points) {
        p->c.oom = true;
        goto out;
    }
    for (size_t i = 0; prof && i < prof->point_count; i++) {
        if (dcm_mb_point_copy(&d->points[d->point_count], &prof->points[i]) != DCM_MB_OK) {
            p->c.oom = true;
            goto out;
        }
        d->point_count++;
    }
    for (size_t i = 0; i < own_n; i++) {
        char where[256];
        dcm_mb_point pt;
        snprintf(where, sizeof where, "%s.points[%zu]", path, i);
        dcm_mb_err err = dcm_mb_point_parse(dcm_node_at(own, i), NULL, (int)addressing, where,
                                            &pt, p->diags);
        if (err == DCM_MB_ENOMEM)
            p->c.oom = true;
        if (err != DCM_MB_OK)
            continue;
        long at = find_point(d, pt.name);
        if (at >= 0) {
            dcm_mb_point_clear(&d->points[at]);
            d->points[at] = pt;
        } else {
            d->points[d->point_count++] = pt;
        }
    }
out:
    dcm_mb_profile_destroy(prof);
}

static void read_values(parse_ctx *p, const dcm_node *values, const char *path,
                        dcm_mbs_device *d)
{
    d->values = calloc(d->point_count ? d->point_count : 1, sizeof *d->values);
    if (!d->values) {
        p->c.oom = true;
        return;
    }
    for (size_t i = 0; i < d->point_count; i++)
        d->values[i].factor = 1.0;
    for (size_t i = 0; values && i < dcm_node_size(values); i++) {
        const char *key = dcm_node_key_at(values, i);
        char where[160];
        snprintf(where, sizeof where, "%s.values.%s", path, key ? key : "?");
        long at = key ? find_point(d, key) : -1;
        if (at < 0) {
            const char **names = calloc(d->point_count + 1, sizeof *names);
            for (size_t k = 0; names && k < d->point_count; k++)
                names[k] = d->points[k].name;
            const char *s = names && key ? dcm_suggest(key, names, d->point_count) : NULL;
            error_at(p, dcm_node_key_node_at(values, i), where,
                     "the device has no point '%.60s'%s%s%s", key ? key : "",
                     s ? ", did you mean '" : "", s ? s : "", s ? "'?" : "");
            free(names);
            continue;
        }
        read_value(p, dcm_node_at(values, i), where, &d->points[at], &d->values[at]);
    }
}

static void read_device(parse_ctx *p, const dcm_node *item, const char *path, dcm_mbs_device *d)
{
    long long unit = 0;
    char name[32];
    if (!dcm_cfg_check_keys(&p->c, item, path, device_keys, NULL))
        return;
    dcm_node_as_int(dcm_node_get(item, "unit"), &unit);
    if (unit < 1 || unit > MBS_MAX_UNIT)
        error_at(p, dcm_node_get(item, "unit"), path, "unit: expected a unit id 1..247");
    d->unit = (int)unit;
    snprintf(name, sizeof name, "unit-%lld", unit);
    const char *given = str_of(item, "name");
    if (given && !dcm_mb_name_valid(given))
        error_at(p, dcm_node_get(item, "name"), path,
                 "name: expected lower-case letters, digits, '_', '.' and '-'");
    d->name = dcm_cfg_strdup(&p->c, given ? given : name);
    read_points(p, item, path, d);
    read_values(p, dcm_node_get(item, "values"), path, d);
    const dcm_node *ex = dcm_node_get(item, "exceptions");
    if (ex) {
        char where[256];
        snprintf(where, sizeof where, "%s.exceptions", path);
        read_ranges(p, ex, where, d);
    }
}

static void read_devices(parse_ctx *p, const dcm_node *list, dcm_mbs_config *cfg)
{
    size_t n = dcm_node_size(list);
    if (!list || dcm_node_kind(list) != DCM_NODE_LIST || n == 0) {
        error_at(p, list, "devices", "expected a list of at least one device");
        return;
    }
    if (n > MBS_MAX_DEVICES) {
        error_at(p, list, "devices", "at most %d devices (one unit id each)", MBS_MAX_DEVICES);
        return;
    }
    cfg->devices = calloc(n, sizeof *cfg->devices);
    if (!cfg->devices) {
        p->c.oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char path[64];
        snprintf(path, sizeof path, "devices[%zu]", i);
        dcm_mbs_device *d = &cfg->devices[cfg->device_count++];
        read_device(p, dcm_node_at(list, i), path, d);
        for (size_t k = 0; k < i && d->name; k++) {
            const dcm_mbs_device *o = &cfg->devices[k];
            if (o->unit == d->unit && d->unit > 0)
                error_at(p, dcm_node_get(dcm_node_at(list, i), "unit"), path,
                         "unit %d is already used by devices[%zu]", d->unit, k);
            if (o->name && strcmp(o->name, d->name) == 0)
                error_at(p, dcm_node_at(list, i), path, "name '%s' is already used by "
                                                        "devices[%zu]", d->name, k);
        }
    }
}

/* ------------------------------------------------------------ lifecycle */

void dcm_mbs_config_destroy(dcm_mbs_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->device_count; i++) {
        dcm_mbs_device *d = &cfg->devices[i];
        for (size_t k = 0; k < d->point_count; k++)
            dcm_mb_point_clear(&d->points[k]);
        free(d->points);
        free(d->values);
        free(d->exceptions);
        free(d->name);
        free(d->profile);
    }
    free(cfg->devices);
    free(cfg->listen);
    free(cfg);
}

dcm_mbs_err dcm_mbs_config_parse_text(const char *text, size_t len, const char *name,
                                      dcm_mbs_config **out, dcm_diags *diags)
{
    parse_ctx p = {.c = {.diags = diags}, .diags = diags};
    dcm_node *root = NULL;
    dcm_mbs_config *cfg = NULL;
    size_t errors_before = diags->errors;
    dcm_mbs_err rc = DCM_MBS_EINVALID;
    const char *why = NULL;

    *out = NULL;
    dcm_config_err perr = dcm_node_parse(text, len, name, &root, diags);
    if (perr == DCM_CONFIG_ENOMEM)
        return DCM_MBS_ENOMEM;
    if (perr != DCM_CONFIG_OK && !root)
        return DCM_MBS_EINVALID;
    if (!root) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, name, 0, 0, "", "the configuration is empty");
        return DCM_MBS_EINVALID;
    }
    cfg = calloc(1, sizeof *cfg);
    if (!cfg) {
        rc = DCM_MBS_ENOMEM;
        goto out;
    }
    if (!dcm_cfg_check_keys(&p.c, root, "", top_keys, NULL))
        goto out;
    cfg->listen = dcm_cfg_strdup(&p.c, str_of(root, "listen"));
    read_sim(&p, dcm_node_get(root, "sim"), cfg);
    if (diags->errors > errors_before)
        goto out; /* the point names depend on the parameters */
    if (dcm_sim_run_create(&cfg->sim, &p.run, &why) != DCM_SIM_OK) {
        error_at(&p, dcm_node_get(root, "sim"), "sim", "%s", why ? why : "out of memory");
        goto out;
    }
    read_devices(&p, dcm_node_get(root, "devices"), cfg);
    if (p.c.oom)
        rc = DCM_MBS_ENOMEM;
    else if (diags->errors == errors_before)
        rc = DCM_MBS_OK;
out:
    dcm_sim_run_destroy(p.run);
    dcm_node_free(root);
    if (rc != DCM_MBS_OK)
        dcm_mbs_config_destroy(cfg);
    else
        *out = cfg;
    return rc;
}

dcm_mbs_err dcm_mbs_config_load(const char *path, dcm_mbs_config **out, dcm_diags *diags)
{
    FILE *f = NULL;
    char *text = NULL;
    struct stat st;
    dcm_mbs_err rc = DCM_MBS_EIO;

    *out = NULL;
    f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, path, 0, 0, "", "cannot read: %s",
                      f ? "not a regular file" : strerror(errno));
        goto out;
    }
    if ((uintmax_t)st.st_size > DCM_CONFIG_MAX_BYTES) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, path, 0, 0, "", "cannot read: larger than %u bytes",
                      DCM_CONFIG_MAX_BYTES);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    text = malloc(size + 1);
    if (!text) {
        rc = DCM_MBS_ENOMEM;
        goto out;
    }
    if (fread(text, 1, size, f) != size) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, path, 0, 0, "", "cannot read: %s",
                      ferror(f) ? strerror(errno) : "the file changed while being read");
        goto out;
    }
    text[size] = '\0';
    rc = dcm_mbs_config_parse_text(text, size, path, out, diags);
out:
    if (f)
        fclose(f);
    free(text);
    return rc;
}

#endif /* DCM_WITH_SIM */
