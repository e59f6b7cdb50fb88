/* The alerts section: a list of rules, each a KPI threshold, a device offline check or a
 * counter correction watch (docs/alerts.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define DEFAULT_OFFLINE_FOR 3
#define DEFAULT_CLEAR_AFTER_NS (INT64_C(3600) * DCM_NS_PER_S)

static const dcm_config_key alert_keys[] = {
    {"name", DCM_KEY_STRING, NULL, true, "rule name, unique; letters, digits, '_', '-', '.'"},
    {"severity", DCM_KEY_STRING, "warning", false, "warning or critical"},
    {"kpi", DCM_KEY_STRING, NULL, false, "threshold rule: pue, wue, ..., coverage, ppue.<zone>"},
    {"window", DCM_KEY_STRING, "1m", false, "threshold rule: instant, 1m, 15m, 1h, 1d, ..."},
    {"above", DCM_KEY_DOUBLE, NULL, false, "threshold rule: fires when the value is above"},
    {"below", DCM_KEY_DOUBLE, NULL, false, "threshold rule: fires when the value is below"},
    {"clear", DCM_KEY_DOUBLE, NULL, false, "threshold rule: clears at or beyond this value"},
    {"for", DCM_KEY_DURATION, "0s", false, "threshold rule: how long the condition must hold"},
    {"device", DCM_KEY_STRING, NULL, false, "offline rule: glob over collector names"},
    {"offline_for", DCM_KEY_INT, "3", false, "offline rule: consecutive failed polls"},
    {"correction", DCM_KEY_STRING, "reset", false,
     "correction rule: reset, wrap, backwards, spike, gap or any"},
    {"point", DCM_KEY_STRING, "*", false, "correction rule: glob over point ids"},
    {"clear_after", DCM_KEY_DURATION, "1h", false,
     "correction rule: clears after this long without another correction"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

/* The KPI names a threshold rule may watch: kpi_json.h's "kpi" members, the record's
 * coverage and estimated share; "ppue.<zone>" is handled apart. */
static const char *const kpi_names[] = {
    "pue", "dcie", "wue", "wue_fresh", "cue_location", "cue_market", "ref", "erf", "ere",
    "cer", "pue_enefg", "iteu_sv", "accel_util", "coverage", "estimated_share", "ppue", NULL};

static const char *const corrections[] = {"reset", "wrap", "backwards", "spike", "gap", "any",
                                          NULL};
/* dcm_correction of each entry above; "any" is -1. */
static const int correction_values[] = {DCM_CORR_RESET, DCM_CORR_WRAP, DCM_CORR_BACKWARDS,
                                        DCM_CORR_SPIKE, DCM_CORR_GAP, -1};

/* Keys that belong to one kind only: each is an error on a rule of another kind. */
static const struct {
    const char *key;
    dcm_alert_kind kind;
} kind_keys[] = {
    {"window", DCM_ALERT_THRESHOLD},     {"above", DCM_ALERT_THRESHOLD},
    {"below", DCM_ALERT_THRESHOLD},      {"clear", DCM_ALERT_THRESHOLD},
    {"for", DCM_ALERT_THRESHOLD},        {"offline_for", DCM_ALERT_OFFLINE},
    {"point", DCM_ALERT_CORRECTION},     {"clear_after", DCM_ALERT_CORRECTION},
};

static const char *const kind_names[] = {"kpi", "device", "correction"};

static const dcm_node *present(const dcm_node *map, const char *key)
{
    const dcm_node *n = dcm_node_get(map, key);
    return n && !dcm_node_is_null(n) ? n : NULL;
}

static const char *str_of(const dcm_node *map, const char *key)
{
    const char *s = NULL;
    return dcm_node_as_string(present(map, key), &s) ? s : NULL;
}

static size_t count_of(const char *const *set)
{
    size_t n = 0;
    while (set[n])
        n++;
    return n;
}

static int index_of(const char *s, const char *const *set)
{
    for (int i = 0; set[i]; i++)
        if (strcmp(s, set[i]) == 0)
            return i;
    return -1;
}

static bool valid_name(const char *s)
{
    if (!s[0])
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

/* "ppue.<zone>": the zone's index, or -1 with a diagnostic. */
static int zone_of(dcm_cfg_ctx *c, const dcm_node *v, const char *where, const char *zone,
                   const dcm_site_config *site)
{
    const char *names[DCM_MAX_ZONES];
    size_t n = 0;
    for (size_t i = 0; i < site->zone_count && n < DCM_MAX_ZONES; i++) {
        if (site->zones[i].name && strcmp(site->zones[i].name, zone) == 0)
            return (int)i;
        if (site->zones[i].name)
            names[n++] = site->zones[i].name;
    }
    const char *sug = dcm_suggest(zone, names, n);
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, v, where, "no zone '%.40s' in site.zones%s%s%s", zone,
                sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    return -1;
}

static void load_threshold(dcm_cfg_ctx *c, const dcm_node *item, const char *path,
                           const dcm_site_config *site, dcm_alert_config *out)
{
    char where[96];
    const dcm_node *kv = present(item, "kpi");
    const char *kpi = str_of(item, "kpi");
    snprintf(where, sizeof where, "%s.kpi", path);
    out->kpi = dcm_cfg_strdup(c, kpi);
    if (kpi && strncmp(kpi, "ppue.", 5) == 0) {
        out->zone = zone_of(c, kv, where, kpi + 5, site);
    } else if (kpi && (index_of(kpi, kpi_names) < 0 || strcmp(kpi, "ppue") == 0)) {
        const char *sug = dcm_suggest(kpi, kpi_names, count_of(kpi_names));
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, kv, where,
                    "unknown KPI '%.40s' (pue, dcie, wue, wue_fresh, cue_location, cue_market, "
                    "ref, erf, ere, cer, pue_enefg, iteu_sv, accel_util, coverage, "
                    "estimated_share or ppue.<zone>)%s%s%s",
                    kpi, sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    }

    out->window = DCM_WINDOW_1M;
    const char *w = str_of(item, "window");
    if (w) {
        int wi = dcm_window_from_name(w);
        if (wi < 0) {
            static const char *const windows[] = {"instant", "1m",   "15m",  "1h",
                                                  "1d",      "month", "year", "ttm"};
            const char *sug = dcm_suggest(w, windows, 8);
            snprintf(where, sizeof where, "%s.window", path);
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, present(item, "window"), where,
                        "expected instant, 1m, 15m, 1h, 1d, month, year or ttm, got '%.40s'%s%s%s",
                        w, sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        } else {
            out->window = (dcm_window)wi;
        }
    }

    const dcm_node *above = present(item, "above"), *below = present(item, "below");
    if ((above != NULL) == (below != NULL)) {
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, above ? above : item, path,
                    above ? "give 'above' or 'below', not both"
                          : "a kpi rule needs 'above: VALUE' or 'below: VALUE'");
        return;
    }
    out->above = above != NULL;
    dcm_node_as_double(above ? above : below, &out->threshold);
    out->clear = out->threshold;
    const dcm_node *cv = present(item, "clear");
    if (cv && dcm_node_as_double(cv, &out->clear) &&
        (out->above ? out->clear > out->threshold : out->clear < out->threshold)) {
        snprintf(where, sizeof where, "%s.clear", path);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, cv, where,
                    "must be %s the threshold %g (it is where the alert clears again)",
                    out->above ? "at or below" : "at or above", out->threshold);
    }
    const dcm_node *fv = present(item, "for");
    if (fv && dcm_node_as_duration_ns(fv, &out->for_ns) && out->for_ns < 0) {
        snprintf(where, sizeof where, "%s.for", path);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, fv, where, "must not be negative");
    }
}

static void load_offline(dcm_cfg_ctx *c, const dcm_node *item, const char *path,
                         dcm_alert_config *out)
{
    out->device = dcm_cfg_strdup(c, str_of(item, "device"));
    out->offline_for = DEFAULT_OFFLINE_FOR;
    const dcm_node *n = present(item, "offline_for");
    long long v;
    if (n && dcm_node_as_int(n, &v)) {
        if (v < 1 || v > 1000000) {
            char where[96];
            snprintf(where, sizeof where, "%s.offline_for", path);
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, where,
                        "expected a number of failed polls from 1 to 1000000, got %lld", v);
        } else {
            out->offline_for = (uint32_t)v;
        }
    }
}

static void load_correction(dcm_cfg_ctx *c, const dcm_node *item, const char *path,
                            dcm_alert_config *out)
{
    char where[96];
    const char *kind = str_of(item, "correction");
    int i = kind ? index_of(kind, corrections) : 0;
    if (i < 0) {
        const char *sug = dcm_suggest(kind, corrections, count_of(corrections));
        snprintf(where, sizeof where, "%s.correction", path);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, present(item, "correction"), where,
                    "expected reset, wrap, backwards, spike, gap or any, got '%.40s'%s%s%s", kind,
                    sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
        i = 0;
    }
    out->correction = correction_values[i];
    const char *point = str_of(item, "point");
    out->point = dcm_cfg_strdup(c, point ? point : "*");
    out->clear_after_ns = DEFAULT_CLEAR_AFTER_NS;
    const dcm_node *n = present(item, "clear_after");
    if (n && dcm_node_as_duration_ns(n, &out->clear_after_ns) &&
        out->clear_after_ns < DCM_NS_PER_S) {
        snprintf(where, sizeof where, "%s.clear_after", path);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, where, "must be at least 1s");
        out->clear_after_ns = DCM_NS_PER_S;
    }
}

static void load_rule(dcm_cfg_ctx *c, const dcm_node *item, size_t idx,
                      const dcm_site_config *site, dcm_alert_config *out)
{
    char path[48], where[96];
    snprintf(path, sizeof path, "alerts[%zu]", idx);
    out->node = item;
    out->zone = -1;
    out->correction = DCM_CORR_RESET;
    if (!dcm_cfg_check_keys(c, item, path, alert_keys, NULL))
        return;
    const char *name = str_of(item, "name");
    if (name && !valid_name(name)) {
        snprintf(where, sizeof where, "%s.name", path);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, present(item, "name"), where,
                    "expected letters, digits, '_', '-' and '.' (it is used in MQTT payloads "
                    "and logs), got '%.40s'",
                    name);
    }
    out->name = dcm_cfg_strdup(c, name);
    const char *sev = str_of(item, "severity");
    if (sev && strcmp(sev, "warning") != 0 && strcmp(sev, "critical") != 0) {
        static const char *const sevs[] = {"warning", "critical"};
        const char *sug = dcm_suggest(sev, sevs, 2);
        snprintf(where, sizeof where, "%s.severity", path);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, present(item, "severity"), where,
                    "expected warning or critical, got '%.40s'%s%s%s", sev,
                    sug ? ", did you mean '" : "", sug ? sug : "", sug ? "'?" : "");
    }
    out->critical = sev && strcmp(sev, "critical") == 0;

    /* The kind is told by which of kpi / device / correction is given: exactly one. */
    int kinds = 0;
    const dcm_node *second = NULL;
    for (int k = 0; k < 3; k++) {
        const dcm_node *n = present(item, kind_names[k]);
        if (!n)
            continue;
        if (kinds++ == 0)
            out->kind = (dcm_alert_kind)k;
        else if (!second)
            second = n;
    }
    if (kinds != 1) {
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, second ? second : item, path,
                    kinds ? "give only one of 'kpi', 'device' and 'correction'"
                          : "a rule needs 'kpi' (threshold), 'device' (offline) or 'correction' "
                            "(counter corrections)");
        return;
    }
    for (size_t k = 0; k < sizeof kind_keys / sizeof kind_keys[0]; k++) {
        const dcm_node *n = present(item, kind_keys[k].key);
        if (!n || kind_keys[k].kind == out->kind)
            continue;
        snprintf(where, sizeof where, "%s.%s", path, kind_keys[k].key);
        const dcm_node *kn = n;
        for (size_t j = 0; j < dcm_node_size(item); j++)
            if (strcmp(dcm_node_key_at(item, j), kind_keys[k].key) == 0)
                kn = dcm_node_key_node_at(item, j);
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, kn, where,
                    "'%s' belongs to a rule with '%s', not to one with '%s'", kind_keys[k].key,
                    kind_names[kind_keys[k].kind], kind_names[out->kind]);
    }
    switch (out->kind) {
    case DCM_ALERT_THRESHOLD: load_threshold(c, item, path, site, out); break;
    case DCM_ALERT_OFFLINE: load_offline(c, item, path, out); break;
    case DCM_ALERT_CORRECTION: load_correction(c, item, path, out); break;
    }
}

void dcm_cfg_load_alerts(dcm_cfg_ctx *c, const dcm_node *list, dcm_config *cfg)
{
    if (!list || list->count == 0)
        return;
    cfg->alerts = calloc(list->count, sizeof *cfg->alerts);
    if (!cfg->alerts) {
        c->oom = true;
        return;
    }
    cfg->alert_count = list->count;
    for (size_t i = 0; i < list->count; i++) {
        load_rule(c, list->items[i], i, &cfg->site, &cfg->alerts[i]);
        const char *name = cfg->alerts[i].name;
        for (size_t j = 0; name && j < i; j++) {
            if (cfg->alerts[j].name && strcmp(cfg->alerts[j].name, name) == 0) {
                char where[48];
                snprintf(where, sizeof where, "alerts[%zu].name", i);
                dcm_diag_at(c->diags, DCM_DIAG_ERROR, present(list->items[i], "name"), where,
                            "duplicate rule name '%s' (also alerts[%zu], line %d)", name, j,
                            dcm_node_line(cfg->alerts[j].node));
                break;
            }
        }
    }
}

void dcm_cfg_free_alerts(dcm_config *cfg)
{
    for (size_t i = 0; i < cfg->alert_count; i++) {
        free(cfg->alerts[i].name);
        free(cfg->alerts[i].kpi);
        free(cfg->alerts[i].device);
        free(cfg->alerts[i].point);
    }
    free(cfg->alerts);
    cfg->alerts = NULL;
    cfg->alert_count = 0;
}
