/*
 * rulesets.h - regulatory rules as date-versioned data, and their evaluation against a
 * period's KPIs (`dcmetrics report`, docs/report.md).
 *
 * The table in rulesets.c holds every rule with the dates it is in force, the sites it
 * covers (existing or new data centres by start of operation, hyperscale or colocation,
 * size) and its source. A law that changes gets new entries with new dates; the code
 * that evaluates them stays the same. Which regimes a site reports under is chosen in
 * the configuration (site.regimes).
 */
#ifndef DCM_RULESETS_H
#define DCM_RULESETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/config.h"
#include "dcm/metrics.h"

#define DCM_RULESETS_VERSION "dcm-rules-2026.1" /* changes whenever the table does */

typedef enum dcm_rule_metric {
    DCM_RULE_PUE = 0,
    DCM_RULE_PUE_ENEFG, /* PUE without the energy that only upgrades waste heat */
    DCM_RULE_ERF,
    DCM_RULE_REF,
    DCM_RULE_WUE_FRESH, /* freshwater WUE, L/kWh */
} dcm_rule_metric;

const char *dcm_rule_metric_name(dcm_rule_metric m); /* "pue", "pue_enefg", "erf", ... */

typedef enum dcm_rule_cmp {
    DCM_RULE_AT_MOST = 0, /* value <= limit passes */
    DCM_RULE_AT_LEAST,    /* value >= limit passes */
    DCM_RULE_BAND,        /* a class: lower < value <= limit (bounds may be open) */
} dcm_rule_cmp;

typedef enum dcm_rule_category {
    DCM_RULE_ANY = 0,
    DCM_RULE_HYPERSCALE,
    DCM_RULE_COLOCATION,
} dcm_rule_category;

#define DCM_RULE_OPEN 1e300 /* a band bound that is not there (below A, above G) */

typedef struct dcm_rule {
    const char *regime;      /* "eu", "enefg", "taiwan" */
    const char *id;          /* stable: "enefg.pue.existing.2027" */
    const char *description;
    dcm_rule_metric metric;
    dcm_rule_cmp cmp;
    double limit;            /* AT_MOST / AT_LEAST: the limit; BAND: upper bound (inclusive) */
    double lower;            /* BAND: lower bound (exclusive), -DCM_RULE_OPEN if none */
    const char *label;       /* BAND: the class it gives */
    const char *valid_from;  /* "YYYY-MM-DD" (site civil date) the rule is in force from */
    const char *valid_to;    /* exclusive end, or NULL */
    const char *started_from;   /* covers sites that started operating on or after this */
    const char *started_before; /* ... and before this (NULL: no bound) */
    int grace_months;        /* binds this long after the site's start of operation */
    dcm_rule_category category;
    double min_it_kw;        /* installed IT power from which the regime applies; 0: any */
    const char *source;
} dcm_rule;

size_t dcm_rule_count(void);
const dcm_rule *dcm_rule_at(size_t i);

typedef enum dcm_check_status {
    DCM_CHECK_PASS = 0,
    DCM_CHECK_FAIL,
    DCM_CHECK_NOT_APPLICABLE,   /* not in force in the period, or not for this site */
    DCM_CHECK_NOT_DETERMINABLE, /* no value, or what decides it is unknown */
    DCM_CHECK_CLASSIFIED,       /* a class rule: class_label says which */
} dcm_check_status;

const char *dcm_check_status_name(dcm_check_status s); /* "pass", "fail", "not-applicable",
                                                          "not-determinable", "classified" */

typedef struct dcm_check {
    const char *regime;
    char id[48];
    const char *description;
    dcm_rule_metric metric;
    dcm_rule_cmp cmp;
    bool has_limit;
    double limit;            /* limit checks */
    bool has_value;
    double value;
    bool has_margin;
    double margin;           /* limit checks: how far inside the limit (negative: outside) */
    const char *class_label; /* CLASSIFIED */
    dcm_check_status status;
    bool has_in_force_from;
    int64_t in_force_from_ns; /* when the rule binds this site */
    const char *source;
    char note[320];          /* why not applicable / not determinable, and caveats */
} dcm_check;

typedef struct dcm_rules_input {
    const dcm_site_config *site; /* regimes, start of operation, category, type, size */
    const dcm_calendar *calendar;
    int64_t from_ns, to_ns;      /* the period */
    bool calendar_year;          /* the period is one whole calendar year */
    const dcm_kpi_set *kpi;      /* the period's KPIs */
} dcm_rules_input;

/* Evaluates every rule of the site's regimes, in table order; the bands of a class rule
 * give one check per metric plus one for the class as a whole. *out is malloc'd (free
 * it); NULL with count 0 when the site names no regime. Returns false on ENOMEM. */
bool dcm_rules_check(const dcm_rules_input *in, dcm_check **out, size_t *count);

/* "YYYY-MM-DD" or "YYYY-MM" (the first of the month) as local midnight in cal. */
bool dcm_rules_date(const dcm_calendar *cal, const char *text, int64_t *out_ns);

#endif
