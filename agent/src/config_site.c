/* The site section: roles, zones, carbon factors, certificates and report metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "site.h"

#define FACTOR_MAX 5.0 /* kgCO2e/kWh: every real grid and fuel is far below */

static const dcm_config_key site_keys[] = {
    {"name", DCM_KEY_STRING, NULL, false, "site name for reports"},
    {"timezone", DCM_KEY_STRING, "UTC", false, "IANA time zone of the site's calendar"},
    {"pue_category", DCM_KEY_INT, NULL, false, "1, 2 or 3 (ISO/IEC 30134-2)"},
    {"roles", DCM_KEY_MAP, NULL, false, "KPI role -> point selectors"},
    {"zones", DCM_KEY_LIST, NULL, false, "zones for partial PUE"},
    {"carbon", DCM_KEY_MAP, NULL, false, "emission factors"},
    {"certificates", DCM_KEY_LIST, NULL, false, "retired certificates and PPAs"},
    {"onsite_attributes_retained", DCM_KEY_BOOL, "true", false,
     "on-site renewable counts in REF"},
    {"coverage_ok", DCM_KEY_DOUBLE, "0.95", false, "coverage below this is partial"},
    {"max_gap", DCM_KEY_DURATION, "5m", false, "longest gap bridged by power integration"},
    {"operator", DCM_KEY_STRING, NULL, false, "operator name"},
    {"location_code", DCM_KEY_STRING, NULL, false, "location code"},
    {"type", DCM_KEY_STRING, NULL, false, "enterprise, colocation or co-hosting"},
    {"floor_area_m2", DCM_KEY_DOUBLE, NULL, false, "total floor area, m2"},
    {"it_floor_area_m2", DCM_KEY_DOUBLE, NULL, false, "computer room floor area, m2"},
    {"installed_it_kw", DCM_KEY_DOUBLE, NULL, false, "installed IT power, kW"},
    {"intake_setpoint_degc", DCM_KEY_DOUBLE, NULL, false, "IT intake air setpoint, degC"},
    {"owner", DCM_KEY_STRING, NULL, false, "owner name"},
    {"contact", DCM_KEY_STRING, NULL, false, "contact for reports"},
    {"electrical_redundancy", DCM_KEY_STRING, NULL, false, "electrical redundancy, e.g. 2N"},
    {"cooling_redundancy", DCM_KEY_STRING, NULL, false, "cooling redundancy, e.g. N+1"},
    {"start_of_operation", DCM_KEY_STRING, NULL, false, "YYYY-MM the site started operating"},
    {"category", DCM_KEY_STRING, NULL, false, "hyperscale or colocation"},
    {"regimes", DCM_KEY_LIST, NULL, false, "regimes the report checks: eu, enefg, taiwan"},
    {"it_source", DCM_KEY_STRING, "pdu", false,
     "E_IT from the it role (pdu) or from it_telemetry plus the node baseline (telemetry)"},
    {"node_baseline_w", DCM_KEY_DOUBLE, "0", false,
     "W per node that its telemetry does not see (fans, disks, NICs)"},
    {"node_count", DCM_KEY_INT, "0", false, "nodes the baseline applies to"},
    {"attribution", DCM_KEY_SELECTORS, NULL, false,
     "energy points given their share of facility energy and carbon, e.g. gpus.*.energy"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key carbon_keys[] = {
    {"location_factor", DCM_KEY_DOUBLE, NULL, false, "grid average, kgCO2e/kWh"},
    {"location_source", DCM_KEY_STRING, NULL, false, "where location_factor comes from"},
    {"location_year", DCM_KEY_INT, NULL, false, "year of location_factor"},
    {"market_factor", DCM_KEY_DOUBLE, NULL, false, "supplier or residual mix, kgCO2e/kWh"},
    {"market_source", DCM_KEY_STRING, NULL, false, "where market_factor comes from"},
    {"market_year", DCM_KEY_INT, NULL, false, "year of market_factor"},
    {"fuel_factor", DCM_KEY_DOUBLE, "0", false, "fuel energy, kgCO2e/kWh"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key zone_keys[] = {
    {"name", DCM_KEY_STRING, NULL, true, "zone name"},
    {"it", DCM_KEY_SELECTORS, NULL, true, "IT energy points of the zone"},
    {"overhead", DCM_KEY_SELECTORS, NULL, false, "overhead energy points of the zone"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const dcm_config_key cert_keys[] = {
    {"period", DCM_KEY_STRING, NULL, true, "2026, 2026-Q3, 2026-07, 2026-07-15 or FROM/TO"},
    {"kwh", DCM_KEY_DOUBLE, NULL, true, "energy covered, kWh"},
    {"type", DCM_KEY_STRING, "certificate", false, "certificate, go, rec or ppa"},
    {"source", DCM_KEY_STRING, NULL, false, "registry, contract or document reference"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static const char *str_of(const dcm_node *map, const char *key)
{
    const char *s = NULL;
    return dcm_node_as_string(dcm_node_get(map, key), &s) ? s : NULL;
}

static const dcm_node *present(const dcm_node *map, const char *key)
{
    const dcm_node *n = dcm_node_get(map, key);
    return n && !dcm_node_is_null(n) ? n : NULL;
}

/* Reads a number key and checks lo <= v <= hi. */
static bool read_double(dcm_cfg_ctx *c, const dcm_node *map, const char *key, const char *path,
                        double lo, double hi, const char *unit, double *out)
{
    const dcm_node *n = present(map, key);
    double v;
    if (!dcm_node_as_double(n, &v))
        return false;
    if (v < lo || v > hi) {
        char where[160];
        snprintf(where, sizeof(where), "%s.%s", path, key);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, where, "expected a number from %g to %g%s, got %s",
                    lo, hi, unit, n->scalar);
        return false;
    }
    *out = v;
    return true;
}

static void free_selectors(dcm_selectors *s)
{
    for (size_t i = 0; i < s->count; i++)
        free(s->globs[i]);
    free(s->globs);
    memset(s, 0, sizeof(*s));
}

/* A selector value: one glob string or a list of them. */
static void read_selectors(dcm_cfg_ctx *c, const dcm_node *v, const char *path,
                           dcm_selectors *out)
{
    memset(out, 0, sizeof(*out));
    if (!v || dcm_node_is_null(v))
        return;
    out->node = v;
    size_t n = v->type == DCM_NODE_LIST ? v->count : 1;
    if (v->type == DCM_NODE_MAP) {
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, v, path,
                    "expected a glob like 'pdu-*.energy' or a list of them, got a mapping");
        return;
    }
    if (n == 0)
        return;
    out->globs = calloc(n, sizeof(*out->globs));
    if (!out->globs) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const dcm_node *item = v->type == DCM_NODE_LIST ? v->items[i] : v;
        const char *g;
        char where[192];
        if (v->type == DCM_NODE_LIST)
            snprintf(where, sizeof(where), "%s[%zu]", path, i);
        else
            snprintf(where, sizeof(where), "%s", path);
        if (!dcm_node_as_string(item, &g) || !g[0]) {
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, item, where,
                        "expected a glob over point ids like 'pdu-*.energy'");
            continue;
        }
        char *copy = dcm_cfg_strdup(c, g);
        if (copy)
            out->globs[out->count++] = copy;
    }
}

static void load_roles(dcm_cfg_ctx *c, const dcm_node *roles, dcm_site_config *out)
{
    if (roles->type != DCM_NODE_MAP)
        return; /* reported by the key check */
    const char *names[DCM_ROLE_COUNT];
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        names[r] = dcm_role_name((dcm_role)r);
    for (size_t i = 0; i < roles->count; i++) {
        const char *key = dcm_node_key_at(roles, i);
        char where[160];
        snprintf(where, sizeof(where), "site.roles.%s", key);
        int r = dcm_role_from_name(key);
        if (r < 0 || r >= DCM_ROLE_COUNT) {
            const char *s = dcm_suggest(key, names, DCM_ROLE_COUNT);
            char list[400] = "";
            size_t used = 0;
            for (int k = 0; k < DCM_ROLE_COUNT; k++) {
                int w = snprintf(list + used, sizeof(list) - used, "%s%s", k ? ", " : "",
                                 names[k]);
                if (w > 0 && (size_t)w < sizeof(list) - used)
                    used += (size_t)w;
            }
            if (s)
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, roles->keys[i], "site.roles",
                            "unknown role '%s', did you mean '%s'?", key, s);
            else
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, roles->keys[i], "site.roles",
                            "unknown role '%s' (roles: %s)", key, list);
            continue;
        }
        /* A duplicated role was reported by the parser; the first one stands. */
        if (out->roles[r].node)
            continue;
        read_selectors(c, roles->items[i], where, &out->roles[r]);
    }
}

static void load_zones(dcm_cfg_ctx *c, const dcm_node *zones, dcm_site_config *out)
{
    if (zones->type != DCM_NODE_LIST || zones->count == 0)
        return;
    if (zones->count > DCM_MAX_ZONES) {
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, zones->items[DCM_MAX_ZONES], "site.zones",
                    "at most %d zones are supported, %zu given", DCM_MAX_ZONES, zones->count);
        return;
    }
    out->zones = calloc(zones->count, sizeof(*out->zones));
    if (!out->zones) {
        c->oom = true;
        return;
    }
    out->zone_count = zones->count;
    for (size_t i = 0; i < zones->count; i++) {
        const dcm_node *z = zones->items[i];
        char path[64], where[96];
        snprintf(path, sizeof(path), "site.zones[%zu]", i);
        if (!dcm_cfg_check_keys(c, z, path, zone_keys, NULL))
            continue;
        const char *name = str_of(z, "name");
        out->zones[i].name = dcm_cfg_strdup(c, name);
        for (size_t j = 0; name && j < i; j++) {
            if (out->zones[j].name && strcmp(out->zones[j].name, name) == 0) {
                snprintf(where, sizeof(where), "%s.name", path);
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(z, "name"), where,
                            "duplicate zone name '%s' (also site.zones[%zu])", name, j);
                break;
            }
        }
        snprintf(where, sizeof(where), "%s.it", path);
        read_selectors(c, dcm_node_get(z, "it"), where, &out->zones[i].it);
        snprintf(where, sizeof(where), "%s.overhead", path);
        read_selectors(c, dcm_node_get(z, "overhead"), where, &out->zones[i].overhead);
    }
}

static void load_carbon(dcm_cfg_ctx *c, const dcm_node *carbon, dcm_site_config *out)
{
    if (!dcm_cfg_check_keys(c, carbon, "site.carbon", carbon_keys, NULL))
        return;
    static const char *const factors[] = {"location_factor", "market_factor", "fuel_factor"};
    double *dst[] = {&out->location_factor, &out->market_factor, &out->fuel_factor};
    bool *has[] = {&out->has_location_factor, &out->has_market_factor, NULL};
    for (int i = 0; i < 3; i++) {
        const dcm_node *n = present(carbon, factors[i]);
        double v;
        if (!dcm_node_as_double(n, &v))
            continue;
        if (v < 0 || v >= FACTOR_MAX) {
            char where[64];
            snprintf(where, sizeof(where), "site.carbon.%s", factors[i]);
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, where,
                        "expected kgCO2e/kWh from 0 to below %g, got %s%s", FACTOR_MAX,
                        n->scalar, v >= FACTOR_MAX ? " (a value in g/kWh? divide by 1000)" : "");
            continue;
        }
        *dst[i] = v;
        if (has[i])
            *has[i] = true;
    }
    out->location_source = dcm_cfg_strdup(c, str_of(carbon, "location_source"));
    out->market_source = dcm_cfg_strdup(c, str_of(carbon, "market_source"));
    static const char *const years[] = {"location_year", "market_year"};
    int *ydst[] = {&out->location_year, &out->market_year};
    for (int i = 0; i < 2; i++) {
        const dcm_node *n = present(carbon, years[i]);
        long long y;
        if (!dcm_node_as_int(n, &y))
            continue;
        if (y < 1990 || y > 2100) {
            char where[64];
            snprintf(where, sizeof(where), "site.carbon.%s", years[i]);
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, where,
                        "expected a year from 1990 to 2100, got %lld", y);
            continue;
        }
        *ydst[i] = (int)y;
    }
}

static void load_certificates(dcm_cfg_ctx *c, const dcm_node *certs, dcm_site_config *out)
{
    if (certs->type != DCM_NODE_LIST || certs->count == 0)
        return;
    out->instruments = calloc(certs->count, sizeof(*out->instruments));
    if (!out->instruments) {
        c->oom = true;
        return;
    }
    out->instrument_count = certs->count;
    /* The syntax of a period does not depend on the zone: check it in UTC. */
    const dcm_calendar utc = {NULL, NULL};
    for (size_t i = 0; i < certs->count; i++) {
        const dcm_node *e = certs->items[i];
        dcm_instrument_config *ins = &out->instruments[i];
        char path[64], where[96];
        snprintf(path, sizeof(path), "site.certificates[%zu]", i);
        ins->node = e;
        if (!dcm_cfg_check_keys(c, e, path, cert_keys, NULL))
            continue;
        const char *period = str_of(e, "period");
        int64_t s, t;
        if (period && !dcm_site_period(&utc, period, &s, &t)) {
            snprintf(where, sizeof(where), "%s.period", path);
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(e, "period"), where,
                        "expected a period like 2026, 2026-Q3, 2026-07, 2026-07-15 or "
                        "2026-01-01/2026-04-01 (end exclusive), got '%.40s'",
                        period);
        }
        ins->period = dcm_cfg_strdup(c, period);
        read_double(c, e, "kwh", path, 0, 1e15, " kWh", &ins->kwh);
        const char *type = str_of(e, "type");
        static const char *const types[] = {"certificate", "go", "rec", "ppa"};
        bool known = type == NULL;
        for (int k = 0; type && k < 4; k++)
            known |= strcmp(type, types[k]) == 0;
        if (!known) {
            const char *sug = dcm_suggest(type, types, 4);
            snprintf(where, sizeof(where), "%s.type", path);
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(e, "type"), where,
                        "expected certificate, go, rec or ppa, got '%.40s'%s%s%s", type,
                        sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        }
        ins->is_ppa = type && strcmp(type, "ppa") == 0;
        ins->source = dcm_cfg_strdup(c, str_of(e, "source"));
    }
}

static void load_metadata(dcm_cfg_ctx *c, const dcm_node *site, dcm_site_config *out)
{
    out->operator_name = dcm_cfg_strdup(c, str_of(site, "operator"));
    out->location_code = dcm_cfg_strdup(c, str_of(site, "location_code"));
    const char *type = str_of(site, "type");
    static const char *const types[] = {"enterprise", "colocation", "co-hosting"};
    if (type && strcmp(type, types[0]) && strcmp(type, types[1]) && strcmp(type, types[2])) {
        const char *sug = dcm_suggest(type, types, 3);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(site, "type"), "site.type",
                    "expected enterprise, colocation or co-hosting, got '%.40s'%s%s%s", type,
                    sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    }
    out->site_type = dcm_cfg_strdup(c, type);
    static const char *const areas[] = {"floor_area_m2", "it_floor_area_m2", "installed_it_kw"};
    char **dst[] = {&out->floor_area_m2, &out->it_floor_area_m2, &out->installed_it_kw};
    for (int i = 0; i < 3; i++) {
        double v;
        if (read_double(c, site, areas[i], "site", 0, 1e12, "", &v))
            *dst[i] = dcm_cfg_strdup(c, str_of(site, areas[i]));
    }
    double sp;
    if (read_double(c, site, "intake_setpoint_degc", "site", -50, 100, " degC", &sp))
        out->intake_setpoint_degc = dcm_cfg_strdup(c, str_of(site, "intake_setpoint_degc"));
}

/* "YYYY-MM" with a month 01..12 and a year 1900..2100. */
static bool year_month(const char *s)
{
    if (strlen(s) != 7 || s[4] != '-')
        return false;
    for (int i = 0; i < 7; i++)
        if (i != 4 && (s[i] < '0' || s[i] > '9'))
            return false;
    int y = atoi(s), m = atoi(s + 5);
    return y >= 1900 && y <= 2100 && m >= 1 && m <= 12;
}

/* Reads a key whose value must be one of words (n of them); NULL if absent or wrong. */
static char *one_of(dcm_cfg_ctx *c, const dcm_node *map, const char *key,
                    const char *const *words, size_t n, const char *where, const char *listing)
{
    const char *v = str_of(map, key);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, words[i]) == 0)
            return dcm_cfg_strdup(c, v);
    const char *sug = dcm_suggest(v, words, n);
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(map, key), where,
                "expected %s, got '%.40s'%s%s%s", listing, v, sug ? ", did you mean '" : "",
                sug ? sug : "", sug ? "'?" : "");
    return NULL;
}

static void load_regimes(dcm_cfg_ctx *c, const dcm_node *list, dcm_site_config *out)
{
    static const char *const known[] = {"eu", "enefg", "taiwan"};
    if (list->type != DCM_NODE_LIST || list->count == 0)
        return; /* a mapping or scalar is reported by the key check */
    out->regimes = calloc(list->count, sizeof *out->regimes);
    if (!out->regimes) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < list->count; i++) {
        char where[48];
        snprintf(where, sizeof where, "site.regimes[%zu]", i);
        const char *v = NULL;
        if (!dcm_node_as_string(list->items[i], &v)) {
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, list->items[i], where,
                        "expected eu, enefg or taiwan");
            continue;
        }
        bool ok = false, dup = false;
        for (size_t k = 0; k < 3; k++)
            ok |= strcmp(v, known[k]) == 0;
        for (size_t k = 0; ok && k < out->regime_count; k++)
            dup |= strcmp(v, out->regimes[k]) == 0;
        if (!ok) {
            const char *sug = dcm_suggest(v, known, 3);
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, list->items[i], where,
                        "unknown regime '%.40s' (regimes: eu, enefg, taiwan)%s%s%s", v,
                        sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        } else if (dup) {
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, list->items[i], where,
                        "regime '%s' is listed twice", v);
        } else {
            char *copy = dcm_cfg_strdup(c, v);
            if (copy)
                out->regimes[out->regime_count++] = copy;
        }
    }
}

/* Report metadata that drives the regulatory checks. */
static void load_regulatory(dcm_cfg_ctx *c, const dcm_node *site, dcm_site_config *out)
{
    static const char *const texts[] = {"owner", "contact", "electrical_redundancy",
                                        "cooling_redundancy"};
    char **dst[] = {&out->owner, &out->contact, &out->electrical_redundancy,
                    &out->cooling_redundancy};
    for (int i = 0; i < 4; i++)
        *dst[i] = dcm_cfg_strdup(c, str_of(site, texts[i]));
    const char *start = str_of(site, "start_of_operation");
    if (start && !year_month(start))
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(site, "start_of_operation"),
                    "site.start_of_operation",
                    "expected the year and month the site started operating, like 2019-05, got '%.40s'",
                    start);
    else
        out->start_of_operation = dcm_cfg_strdup(c, start);
    static const char *const categories[] = {"hyperscale", "colocation"};
    out->category = one_of(c, site, "category", categories, 2, "site.category",
                           "hyperscale or colocation");
    const dcm_node *n = present(site, "regimes");
    if (n)
        load_regimes(c, n, out);
}

/* IT energy from telemetry: the source, the baseline and the attributed points. */
static void load_it_source(dcm_cfg_ctx *c, const dcm_node *site, dcm_site_config *out)
{
    static const char *const sources[] = {"pdu", "telemetry"};
    char *src = one_of(c, site, "it_source", sources, 2, "site.it_source", "pdu or telemetry");
    out->it_from_telemetry = src && strcmp(src, "telemetry") == 0;
    free(src);
    read_double(c, site, "node_baseline_w", "site", 0, 1e5, " W", &out->node_baseline_w);
    const dcm_node *n = present(site, "node_count");
    long long count;
    if (dcm_node_as_int(n, &count)) {
        if (count >= 0 && count <= 10000000)
            out->node_count = (long)count;
        else
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, "site.node_count",
                        "expected a number of nodes from 0 to 10000000, got %lld", count);
    }
    if (out->it_from_telemetry && out->roles[DCM_ROLE_IT_TELEMETRY].count == 0)
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(site, "it_source"), "site.it_source",
                    "telemetry needs the points to sum: add site.roles.it_telemetry, e.g. "
                    "[gpus.*.energy, nodes.*.power]");
    read_selectors(c, present(site, "attribution"), "site.attribution", &out->attribution);
}

void dcm_cfg_load_site(dcm_cfg_ctx *c, const dcm_node *site, dcm_site_config *out)
{
    out->onsite_attributes_retained = true;
    out->coverage_ok = 0.95;
    out->max_gap_ns = DCM_DEFAULT_MAX_GAP_NS;
    const char *tz = "UTC";
    if (site && dcm_cfg_check_keys(c, site, "site", site_keys, NULL)) {
        out->name = dcm_cfg_strdup(c, str_of(site, "name"));
        const char *given = str_of(site, "timezone");
        if (given && !dcm_config_timezone_known(given)) {
            const char *dir = getenv("TZDIR");
            char near[64];
            if (dcm_config_timezone_suggest(given, near, sizeof near))
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(site, "timezone"),
                            "site.timezone", "unknown time zone '%.60s', did you mean '%s'?",
                            given, near);
            else
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, dcm_node_get(site, "timezone"),
                            "site.timezone",
                            "unknown time zone '%.60s': expected an IANA name like "
                            "Europe/Berlin or Asia/Taipei (looked in %s)",
                            given, dir && dir[0] ? dir : "/usr/share/zoneinfo");
        } else if (given) {
            tz = given;
        }
        const dcm_node *n = present(site, "pue_category");
        long long cat;
        if (dcm_node_as_int(n, &cat)) {
            if (cat >= 1 && cat <= 3)
                out->pue_category = (int)cat;
            else
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, "site.pue_category",
                            "expected 1, 2 or 3 (ISO/IEC 30134-2 measurement category), got %lld",
                            cat);
        }
        if ((n = present(site, "roles")))
            load_roles(c, n, out);
        if ((n = present(site, "zones")))
            load_zones(c, n, out);
        if ((n = present(site, "carbon")))
            load_carbon(c, n, out);
        if ((n = present(site, "certificates")))
            load_certificates(c, n, out);
        dcm_node_as_bool(present(site, "onsite_attributes_retained"),
                         &out->onsite_attributes_retained);
        read_double(c, site, "coverage_ok", "site", 0, 1, "", &out->coverage_ok);
        int64_t gap;
        n = present(site, "max_gap");
        if (dcm_node_as_duration_ns(n, &gap)) {
            if (gap >= DCM_NS_PER_S)
                out->max_gap_ns = gap;
            else
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, "site.max_gap", "must be at least 1s");
        }
        load_metadata(c, site, out);
        load_regulatory(c, site, out);
        load_it_source(c, site, out);
    }
    out->timezone = dcm_cfg_strdup(c, tz);
}

void dcm_cfg_free_site(dcm_site_config *site)
{
    free(site->name);
    free(site->timezone);
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        free_selectors(&site->roles[r]);
    for (size_t i = 0; i < site->zone_count; i++) {
        free(site->zones[i].name);
        free_selectors(&site->zones[i].it);
        free_selectors(&site->zones[i].overhead);
    }
    free(site->zones);
    free(site->location_source);
    free(site->market_source);
    for (size_t i = 0; i < site->instrument_count; i++) {
        free(site->instruments[i].period);
        free(site->instruments[i].source);
    }
    free(site->instruments);
    free(site->operator_name);
    free(site->location_code);
    free(site->site_type);
    free(site->floor_area_m2);
    free(site->it_floor_area_m2);
    free(site->installed_it_kw);
    free(site->intake_setpoint_degc);
    free(site->owner);
    free(site->contact);
    free(site->electrical_redundancy);
    free(site->cooling_redundancy);
    free(site->start_of_operation);
    free(site->category);
    for (size_t i = 0; i < site->regime_count; i++)
        free(site->regimes[i]);
    free(site->regimes);
    free_selectors(&site->attribution);
    memset(site, 0, sizeof(*site));
}
