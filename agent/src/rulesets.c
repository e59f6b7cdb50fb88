/*
 * rulesets.c - the regulatory rule table and its evaluation.
 *
 * Facts and their sources: EU Delegated Regulation 2024/1364 and its 2026 amendment
 * (rating labels; only the A, B, D and G bands are published in the sources used, so C,
 * E and F give "not determinable" rather than a guess), Germany's Energieeffizienzgesetz
 * (EnEfG) §11, and Taiwan's Energy Administration rules of 2025-11-05.
 */
#include "rulesets.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENEFG "Energieeffizienzgesetz (EnEfG) \xC2\xA7" "11, Germany"
#define TAIWAN "Taiwan Energy Administration, data centre energy-use rules of 2025-11-05"
#define EU_LABEL "Delegated Regulation (EU) 2024/1364 as amended in 2026 (rating labels)"

/* Field order: regime, id, description, metric, cmp, limit, lower, label, valid_from,
 * valid_to, started_from, started_before, grace_months, category, min_it_kw, source. */
static const dcm_rule rules[] = {
    {"enefg", "enefg.pue.existing.2027",
     "Existing data centre (operating before 2026-07-01): annual PUE at most 1.5",
     DCM_RULE_PUE_ENEFG, DCM_RULE_AT_MOST, 1.5, 0, NULL, "2027-07-01", "2030-07-01", NULL,
     "2026-07-01", 0, DCM_RULE_ANY, 300, ENEFG},
    {"enefg", "enefg.pue.existing.2030",
     "Existing data centre (operating before 2026-07-01): annual PUE at most 1.3",
     DCM_RULE_PUE_ENEFG, DCM_RULE_AT_MOST, 1.3, 0, NULL, "2030-07-01", NULL, NULL,
     "2026-07-01", 0, DCM_RULE_ANY, 300, ENEFG},
    {"enefg", "enefg.pue.new",
     "New data centre (operating from 2026-07-01): annual PUE at most 1.2 within 2 years",
     DCM_RULE_PUE_ENEFG, DCM_RULE_AT_MOST, 1.2, 0, NULL, "2026-07-01", NULL, "2026-07-01",
     NULL, 24, DCM_RULE_ANY, 300, ENEFG},
    {"enefg", "enefg.erf.new.2026",
     "New data centre (operating from 2026-07-01): ERF at least 10% within 2 years",
     DCM_RULE_ERF, DCM_RULE_AT_LEAST, 0.10, 0, NULL, "2026-07-01", NULL, "2026-07-01",
     "2027-07-01", 24, DCM_RULE_ANY, 300, ENEFG},
    {"enefg", "enefg.erf.new.2027",
     "New data centre (operating from 2027-07-01): ERF at least 15% within 2 years",
     DCM_RULE_ERF, DCM_RULE_AT_LEAST, 0.15, 0, NULL, "2027-07-01", NULL, "2027-07-01",
     "2028-07-01", 24, DCM_RULE_ANY, 300, ENEFG},
    {"enefg", "enefg.erf.new.2028",
     "New data centre (operating from 2028-07-01): ERF at least 20% within 2 years",
     DCM_RULE_ERF, DCM_RULE_AT_LEAST, 0.20, 0, NULL, "2028-07-01", NULL, "2028-07-01", NULL,
     24, DCM_RULE_ANY, 300, ENEFG},
    {"enefg", "enefg.renewable.2024",
     "Renewable share of electricity (balance sheet) at least 50%", DCM_RULE_REF,
     DCM_RULE_AT_LEAST, 0.5, 0, NULL, "2024-01-01", "2027-01-01", NULL, NULL, 0, DCM_RULE_ANY,
     300, ENEFG},
    {"enefg", "enefg.renewable.2027",
     "Renewable share of electricity (balance sheet) 100%", DCM_RULE_REF, DCM_RULE_AT_LEAST,
     1.0, 0, NULL, "2027-01-01", NULL, NULL, NULL, 0, DCM_RULE_ANY, 300, ENEFG},
    {"taiwan", "taiwan.pue.hyperscale",
     "Hyperscale data centre (new or expanded, 5 MW or more): PUE at most 1.3", DCM_RULE_PUE,
     DCM_RULE_AT_MOST, 1.3, 0, NULL, "2025-11-05", NULL, NULL, NULL, 0, DCM_RULE_HYPERSCALE,
     5000, TAIWAN},
    {"taiwan", "taiwan.pue.colocation",
     "Colocation data centre (new or expanded, 5 MW or more): PUE at most 1.4", DCM_RULE_PUE,
     DCM_RULE_AT_MOST, 1.4, 0, NULL, "2025-11-05", NULL, NULL, NULL, 0, DCM_RULE_COLOCATION,
     5000, TAIWAN},
    {"eu", "eu.label.pue.A", "EU rating label: PUE class", DCM_RULE_PUE, DCM_RULE_BAND, 1.15,
     -DCM_RULE_OPEN, "A", "2026-08-15", NULL, NULL, NULL, 0, DCM_RULE_ANY, 500, EU_LABEL},
    {"eu", "eu.label.pue.B", "EU rating label: PUE class", DCM_RULE_PUE, DCM_RULE_BAND, 1.25,
     1.15, "B", "2026-08-15", NULL, NULL, NULL, 0, DCM_RULE_ANY, 500, EU_LABEL},
    {"eu", "eu.label.pue.D", "EU rating label: PUE class", DCM_RULE_PUE, DCM_RULE_BAND, 1.5,
     1.35, "D", "2026-08-15", NULL, NULL, NULL, 0, DCM_RULE_ANY, 500, EU_LABEL},
    {"eu", "eu.label.pue.G", "EU rating label: PUE class", DCM_RULE_PUE, DCM_RULE_BAND,
     DCM_RULE_OPEN, 1.9, "G", "2026-08-15", NULL, NULL, NULL, 0, DCM_RULE_ANY, 500, EU_LABEL},
    {"eu", "eu.label.wue_fresh.A", "EU rating label: freshwater WUE class", DCM_RULE_WUE_FRESH,
     DCM_RULE_BAND, 0.1, -DCM_RULE_OPEN, "A", "2026-08-15", NULL, NULL, NULL, 0, DCM_RULE_ANY,
     500, EU_LABEL},
    {"eu", "eu.label.wue_fresh.B", "EU rating label: freshwater WUE class", DCM_RULE_WUE_FRESH,
     DCM_RULE_BAND, 0.2, 0.1, "B", "2026-08-15", NULL, NULL, NULL, 0, DCM_RULE_ANY, 500,
     EU_LABEL},
    {"eu", "eu.label.wue_fresh.D", "EU rating label: freshwater WUE class", DCM_RULE_WUE_FRESH,
     DCM_RULE_BAND, 0.6, 0.4, "D", "2026-08-15", NULL, NULL, NULL, 0, DCM_RULE_ANY, 500,
     EU_LABEL},
    {"eu", "eu.label.wue_fresh.G", "EU rating label: freshwater WUE class", DCM_RULE_WUE_FRESH,
     DCM_RULE_BAND, DCM_RULE_OPEN, 1.0, "G", "2026-08-15", NULL, NULL, NULL, 0, DCM_RULE_ANY,
     500, EU_LABEL},
};

#define RULE_COUNT (sizeof rules / sizeof rules[0])

size_t dcm_rule_count(void) { return RULE_COUNT; }

const dcm_rule *dcm_rule_at(size_t i) { return i < RULE_COUNT ? &rules[i] : NULL; }

const char *dcm_rule_metric_name(dcm_rule_metric m)
{
    switch (m) {
    case DCM_RULE_PUE: return "pue";
    case DCM_RULE_PUE_ENEFG: return "pue_enefg";
    case DCM_RULE_ERF: return "erf";
    case DCM_RULE_REF: return "ref";
    case DCM_RULE_WUE_FRESH: return "wue_fresh";
    }
    return "?";
}

/* How the metric is named in notes. */
static const char *metric_words(dcm_rule_metric m)
{
    switch (m) {
    case DCM_RULE_PUE: return "PUE";
    case DCM_RULE_PUE_ENEFG: return "EnEfG PUE";
    case DCM_RULE_ERF: return "ERF";
    case DCM_RULE_REF: return "renewable share (REF)";
    case DCM_RULE_WUE_FRESH: return "freshwater WUE";
    }
    return "?";
}

const char *dcm_check_status_name(dcm_check_status s)
{
    switch (s) {
    case DCM_CHECK_PASS: return "pass";
    case DCM_CHECK_FAIL: return "fail";
    case DCM_CHECK_NOT_APPLICABLE: return "not-applicable";
    case DCM_CHECK_NOT_DETERMINABLE: return "not-determinable";
    case DCM_CHECK_CLASSIFIED: return "classified";
    }
    return "?";
}

bool dcm_rules_date(const dcm_calendar *cal, const char *text, int64_t *out_ns)
{
    int y = 0, m = 0, d = 1;
    size_t n = text ? strlen(text) : 0;
    if (n != 7 && n != 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool dash = i == 4 || i == 7;
        if (dash ? text[i] != '-' : (text[i] < '0' || text[i] > '9'))
            return false;
    }
    y = atoi(text);
    m = atoi(text + 5);
    if (n == 10)
        d = atoi(text + 8);
    if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    *out_ns = dcm_calendar_local_to_utc(cal, y, m, d, 0, 0, 0);
    return true;
}

static void note(dcm_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(dcm_check *c, const char *fmt, ...)
{
    size_t used = strlen(c->note);
    if (used + 3 >= sizeof c->note)
        return;
    if (used) {
        memcpy(c->note + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->note + used, sizeof c->note - used, fmt, ap);
    va_end(ap);
}

static void civil(const dcm_calendar *cal, int64_t t, char *buf, size_t size)
{
    int y, mo, d, h, mi, s;
    dcm_calendar_utc_to_local(cal, t, &y, &mo, &d, &h, &mi, &s);
    snprintf(buf, size, "%04d-%02d-%02d", y, mo, d);
}

static bool metric_value(const dcm_kpi_set *k, dcm_rule_metric m, dcm_opt *out)
{
    const dcm_opt *o = NULL;
    memset(out, 0, sizeof *out);
    switch (m) {
    case DCM_RULE_PUE: o = &k->pue; break;
    case DCM_RULE_PUE_ENEFG: o = &k->pue_enefg; break;
    case DCM_RULE_ERF: o = &k->erf; break;
    case DCM_RULE_REF: o = &k->ref; break;
    case DCM_RULE_WUE_FRESH: o = &k->wue_fresh; break;
    }
    if (!o)
        return false;
    *out = *o;
    return o->has_value;
}

/* The site's category for rules that tell hyperscale from colocation. */
static dcm_rule_category site_category(const dcm_site_config *s)
{
    if (s->category)
        return strcmp(s->category, "hyperscale") == 0 ? DCM_RULE_HYPERSCALE : DCM_RULE_COLOCATION;
    if (s->site_type && (strcmp(s->site_type, "colocation") == 0 ||
                         strcmp(s->site_type, "co-hosting") == 0))
        return DCM_RULE_COLOCATION;
    return DCM_RULE_ANY;
}

/* Whether the rule covers this site. false: c->status says why not (NA or ND). */
static bool covers_site(const dcm_rules_input *in, const dcm_rule *r, dcm_check *c,
                        int64_t *start_ns, bool *has_start)
{
    const dcm_site_config *s = in->site;
    *has_start = s->start_of_operation && dcm_rules_date(in->calendar, s->start_of_operation,
                                                         start_ns);
    if (r->min_it_kw > 0) {
        char *end = NULL;
        double kw = s->installed_it_kw ? strtod(s->installed_it_kw, &end) : 0;
        if (!s->installed_it_kw || !end || *end) {
            note(c, "site.installed_it_kw is not set: the regime's threshold of %g kW was "
                    "not checked", r->min_it_kw);
        } else if (kw < r->min_it_kw) {
            c->status = DCM_CHECK_NOT_APPLICABLE;
            note(c, "installed IT power %g kW is below the %g kW the regime starts at", kw,
                 r->min_it_kw);
            return false;
        }
    }
    if (r->category != DCM_RULE_ANY) {
        dcm_rule_category sc = site_category(s);
        if (sc == DCM_RULE_ANY) {
            c->status = DCM_CHECK_NOT_DETERMINABLE;
            note(c, "site.category is not set (hyperscale or colocation)");
            return false;
        }
        if (sc != r->category) {
            c->status = DCM_CHECK_NOT_APPLICABLE;
            note(c, "covers %s data centres; this site is %s",
                 r->category == DCM_RULE_HYPERSCALE ? "hyperscale" : "colocation",
                 sc == DCM_RULE_HYPERSCALE ? "hyperscale" : "colocation");
            return false;
        }
    }
    if (r->started_from || r->started_before || r->grace_months) {
        if (!*has_start) {
            c->status = DCM_CHECK_NOT_DETERMINABLE;
            note(c, "site.start_of_operation is not set: whether the rule covers this site "
                    "depends on it");
            return false;
        }
        int64_t t;
        if (r->started_from && dcm_rules_date(in->calendar, r->started_from, &t) &&
            *start_ns < t) {
            c->status = DCM_CHECK_NOT_APPLICABLE;
            note(c, "covers data centres that started operating on or after %s; this site "
                    "started %s", r->started_from, s->start_of_operation);
            return false;
        }
        if (r->started_before && dcm_rules_date(in->calendar, r->started_before, &t) &&
            *start_ns >= t) {
            c->status = DCM_CHECK_NOT_APPLICABLE;
            note(c, "covers data centres that started operating before %s; this site "
                    "started %s", r->started_before, s->start_of_operation);
            return false;
        }
    }
    return true;
}

/* Whether the rule binds during the period; notes when it binds only in part of it. */
static bool in_force(const dcm_rules_input *in, const dcm_rule *r, dcm_check *c,
                     int64_t start_ns, bool has_start)
{
    int64_t from = INT64_MIN, to = INT64_MAX;
    if (r->valid_from && dcm_rules_date(in->calendar, r->valid_from, &from)) {
        c->has_in_force_from = true;
        c->in_force_from_ns = from;
    }
    if (r->grace_months && has_start) {
        int y, mo, d, h, mi, s;
        dcm_calendar_utc_to_local(in->calendar, start_ns, &y, &mo, &d, &h, &mi, &s);
        int64_t bind = dcm_calendar_local_to_utc(in->calendar, y, mo + r->grace_months, d, 0, 0, 0);
        if (!c->has_in_force_from || bind > from) {
            from = bind;
            c->has_in_force_from = true;
            c->in_force_from_ns = bind;
        }
    }
    if (r->valid_to)
        dcm_rules_date(in->calendar, r->valid_to, &to);
    char day[16];
    if (c->has_in_force_from && from >= in->to_ns) {
        civil(in->calendar, from, day, sizeof day);
        note(c, "binds from %s, after this period", day);
        return false;
    }
    if (to <= in->from_ns) {
        note(c, "in force until %s, before this period", r->valid_to);
        return false;
    }
    if (c->has_in_force_from && from > in->from_ns) {
        civil(in->calendar, from, day, sizeof day);
        note(c, "binds from %s, during this period", day);
    }
    if (to < in->to_ns)
        note(c, "in force until %s, during this period", r->valid_to);
    return true;
}

static void caveats(const dcm_rules_input *in, dcm_check *c, const dcm_opt *v)
{
    if (!in->calendar_year)
        note(c, "the rule is on annual figures and this period is not a calendar year");
    if (v->has_value && v->quality != DCM_QUALITY_OK)
        note(c, "the value is %s: its inputs are not complete", dcm_quality_name(v->quality));
}

static void start_check(dcm_check *c, const dcm_rule *r, const char *id)
{
    memset(c, 0, sizeof *c);
    c->regime = r->regime;
    snprintf(c->id, sizeof c->id, "%s", id);
    c->description = r->description;
    c->metric = r->metric;
    c->cmp = r->cmp;
    c->source = r->source;
}

static void check_limit(const dcm_rules_input *in, const dcm_rule *r, dcm_check *c)
{
    start_check(c, r, r->id);
    c->has_limit = true;
    c->limit = r->limit;
    dcm_opt v;
    if (metric_value(in->kpi, r->metric, &v)) {
        c->has_value = true;
        c->value = v.value;
        c->has_margin = true;
        c->margin = r->cmp == DCM_RULE_AT_MOST ? r->limit - v.value : v.value - r->limit;
    }
    int64_t start_ns = 0;
    bool has_start = false;
    if (!covers_site(in, r, c, &start_ns, &has_start))
        return;
    if (!in_force(in, r, c, start_ns, has_start)) {
        c->status = DCM_CHECK_NOT_APPLICABLE;
        return;
    }
    if (!c->has_value) {
        c->status = DCM_CHECK_NOT_DETERMINABLE;
        note(c, "no %s for the period: its inputs are not metered, or zero",
             metric_words(r->metric));
        return;
    }
    c->status = c->margin >= 0 ? DCM_CHECK_PASS : DCM_CHECK_FAIL;
    caveats(in, c, &v);
}

static bool same_group(const dcm_rule *a, const dcm_rule *b)
{
    return a->cmp == DCM_RULE_BAND && b->cmp == DCM_RULE_BAND &&
           strcmp(a->regime, b->regime) == 0 && a->metric == b->metric;
}

static void band_text(const dcm_rule *r, char *buf, size_t size)
{
    if (r->lower <= -DCM_RULE_OPEN)
        snprintf(buf, size, "%s <= %g", r->label, r->limit);
    else if (r->limit >= DCM_RULE_OPEN)
        snprintf(buf, size, "%s > %g", r->label, r->lower);
    else
        snprintf(buf, size, "%s %g-%g", r->label, r->lower, r->limit);
}

/* One check for the bands of r's group (same regime and metric). */
static void check_bands(const dcm_rules_input *in, const dcm_rule *r, dcm_check *c)
{
    char id[48];
    snprintf(id, sizeof id, "%s.label.%s", r->regime, dcm_rule_metric_name(r->metric));
    start_check(c, r, id);
    dcm_opt v;
    bool has = metric_value(in->kpi, r->metric, &v);
    c->has_value = has;
    c->value = has ? v.value : 0;
    int64_t start_ns = 0;
    bool has_start = false;
    if (!covers_site(in, r, c, &start_ns, &has_start))
        return;
    if (!in_force(in, r, c, start_ns, has_start)) {
        c->status = DCM_CHECK_NOT_APPLICABLE;
        return;
    }
    if (!has) {
        c->status = DCM_CHECK_NOT_DETERMINABLE;
        note(c, "no %s for the period: its inputs are not metered, or zero",
             metric_words(r->metric));
        return;
    }
    char known[160] = "";
    for (size_t i = 0; i < RULE_COUNT; i++) {
        const dcm_rule *b = &rules[i];
        if (!same_group(r, b))
            continue;
        if (v.value > b->lower && v.value <= b->limit) {
            c->status = DCM_CHECK_CLASSIFIED;
            c->class_label = b->label;
            caveats(in, c, &v);
            return;
        }
        char t[48];
        band_text(b, t, sizeof t);
        size_t used = strlen(known);
        snprintf(known + used, sizeof known - used, "%s%s", used ? ", " : "", t);
    }
    c->status = DCM_CHECK_NOT_DETERMINABLE;
    note(c, "class not determinable: %s %.4g lies outside the bands published in the sources "
            "used (%s)", metric_words(r->metric), v.value, known);
}

/* The class of a regime's label as a whole: every metric's band must give the same. */
static void check_label(const dcm_rules_input *in, const char *regime, const dcm_check *groups,
                        size_t n, dcm_check *c)
{
    memset(c, 0, sizeof *c);
    c->regime = regime;
    snprintf(c->id, sizeof c->id, "%s.label", regime);
    c->description = "EU rating label: class (every band in the same class)";
    c->cmp = DCM_RULE_BAND;
    c->source = groups[0].source;
    c->status = DCM_CHECK_CLASSIFIED;
    const char *label = NULL;
    for (size_t i = 0; i < n; i++) {
        const dcm_check *g = &groups[i];
        if (g->status == DCM_CHECK_NOT_APPLICABLE) {
            c->status = DCM_CHECK_NOT_APPLICABLE;
            note(c, "%s", g->note);
            return;
        }
        if (g->status != DCM_CHECK_CLASSIFIED) {
            c->status = DCM_CHECK_NOT_DETERMINABLE;
            note(c, "class not determinable: the %s class is not", metric_words(g->metric));
            return;
        }
        if (label && strcmp(label, g->class_label) != 0) {
            c->status = DCM_CHECK_NOT_DETERMINABLE;
            note(c, "class not determinable: the bands give different classes (%s and %s) "
                    "and the sources used define a class only by all of them", label,
                 g->class_label);
            return;
        }
        label = g->class_label;
    }
    c->class_label = label;
    (void)in;
}

static bool regime_selected(const dcm_site_config *s, const char *regime)
{
    for (size_t i = 0; i < s->regime_count; i++)
        if (strcmp(s->regimes[i], regime) == 0)
            return true;
    return false;
}

bool dcm_rules_check(const dcm_rules_input *in, dcm_check **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (in->site->regime_count == 0)
        return true;
    /* At most one check per rule, plus one label per regime. */
    dcm_check *c = calloc(RULE_COUNT + 3, sizeof *c);
    if (!c)
        return false;
    size_t n = 0;
    for (size_t i = 0; i < RULE_COUNT; i++) {
        const dcm_rule *r = &rules[i];
        if (!regime_selected(in->site, r->regime))
            continue;
        if (r->cmp != DCM_RULE_BAND) {
            check_limit(in, r, &c[n++]);
            continue;
        }
        bool first = true;
        for (size_t k = 0; k < i; k++)
            if (same_group(&rules[k], r))
                first = false;
        if (!first)
            continue;
        size_t group_start = n;
        check_bands(in, r, &c[n++]);
        /* After the regime's last band group comes its label as a whole. */
        bool more = false;
        for (size_t k = i + 1; k < RULE_COUNT; k++)
            if (rules[k].cmp == DCM_RULE_BAND && strcmp(rules[k].regime, r->regime) == 0 &&
                rules[k].metric != r->metric)
                more = true;
        if (!more) {
            size_t first_group = group_start;
            while (first_group > 0 && c[first_group - 1].cmp == DCM_RULE_BAND &&
                   strcmp(c[first_group - 1].regime, r->regime) == 0)
                first_group--;
            if (n - first_group > 1) {
                check_label(in, r->regime, &c[first_group], n - first_group, &c[n]);
                n++;
            }
        }
    }
    *out = c;
    *count = n;
    return true;
}
