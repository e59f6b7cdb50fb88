/* The regulatory rule sets: EnEfG limits by date and by start of operation, Taiwan's
 * limits by category and size, the EU label classes (and the classes the sources do not
 * publish), the table itself, and the configuration keys that choose the rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/config.h"
#include "rulesets.h"
#include "site.h"

#define assert_near(a, b, eps)                                                              \
    do {                                                                                    \
        double a_ = (a), b_ = (b);                                                          \
        if (!(fabs(a_ - b_) <= (eps)))                                                      \
            fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                            \
    } while (0)

typedef struct run {
    dcm_config *cfg;
    dcm_calendar cal;
    dcm_check *checks;
    size_t count;
} run;

static dcm_config *load(const char *yaml, dcm_diags *d)
{
    dcm_config *cfg = NULL;
    dcm_config_load_string(yaml, strlen(yaml), "site.yaml", &cfg, d);
    return cfg;
}

/* Evaluates the rules of a site (YAML site body) for a period with the given KPIs. */
static void evaluate(run *r, const char *site_body, const char *period, dcm_kpi_set *kpi)
{
    char yaml[2048];
    snprintf(yaml, sizeof yaml, "site:\n  timezone: Europe/Berlin\n%s", site_body);
    dcm_diags d;
    dcm_diags_init(&d);
    r->cfg = load(yaml, &d);
    for (size_t i = 0; i < d.count; i++)
        print_message("%d:%d %s: %s\n", d.items[i].line, d.items[i].column, d.items[i].path,
                      d.items[i].message);
    assert_int_equal(d.errors, 0);
    dcm_diags_free(&d);
    assert_true(dcm_site_calendar(r->cfg->site.timezone, &r->cal));
    int64_t from, to;
    assert_true(dcm_site_period(&r->cal, period, &from, &to));
    dcm_rules_input in = {
        .site = &r->cfg->site,
        .calendar = &r->cal,
        .from_ns = from,
        .to_ns = to,
        .calendar_year = strlen(period) == 4,
        .kpi = kpi,
    };
    assert_true(dcm_rules_check(&in, &r->checks, &r->count));
}

static void done(run *r)
{
    free(r->checks);
    dcm_config_destroy(r->cfg);
    memset(r, 0, sizeof *r);
}

static const dcm_check *check(const run *r, const char *id)
{
    for (size_t i = 0; i < r->count; i++)
        if (strcmp(r->checks[i].id, id) == 0)
            return &r->checks[i];
    fail_msg("no check %s", id);
    return NULL;
}

static void set(dcm_opt *o, double v)
{
    o->value = v;
    o->has_value = true;
    o->quality = DCM_QUALITY_OK;
}

static dcm_kpi_set kpis(double pue, double ref, double erf, double wue_fresh)
{
    dcm_kpi_set k;
    memset(&k, 0, sizeof k);
    k.quality = DCM_QUALITY_OK;
    set(&k.pue, pue);
    set(&k.pue_enefg, pue);
    if (ref >= 0)
        set(&k.ref, ref);
    if (erf >= 0)
        set(&k.erf, erf);
    if (wue_fresh >= 0)
        set(&k.wue_fresh, wue_fresh);
    return k;
}

static const char *existing = "  regimes: [enefg]\n  start_of_operation: 2019-05\n"
                              "  installed_it_kw: 2000\n";

/* "PUE 1.37 vs limit 1.5: pass, margin 0.13" - once the limit binds. */
static void test_enefg_existing(void **state)
{
    (void)state;
    run r = {0};
    dcm_kpi_set k = kpis(1.37, 0.6, 0.0, -1);
    evaluate(&r, existing, "2028", &k);
    const dcm_check *c = check(&r, "enefg.pue.existing.2027");
    assert_int_equal(c->status, DCM_CHECK_PASS);
    assert_near(c->limit, 1.5, 0);
    assert_near(c->margin, 0.13, 1e-12);
    assert_string_equal(c->note, "");
    c = check(&r, "enefg.pue.existing.2030");
    assert_int_equal(c->status, DCM_CHECK_NOT_APPLICABLE);
    assert_string_equal(c->note, "binds from 2030-07-01, after this period");
    assert_near(c->margin, -0.07, 1e-12); /* shown ahead of time */
    /* A new data centre's rules do not cover a site that started in 2019. */
    c = check(&r, "enefg.pue.new");
    assert_int_equal(c->status, DCM_CHECK_NOT_APPLICABLE);
    assert_non_null(strstr(c->note, "started operating on or after 2026-07-01"));
    /* 60% renewable: the 50% rule (until 2027) is over, the 100% rule fails. */
    assert_int_equal(check(&r, "enefg.renewable.2024")->status, DCM_CHECK_NOT_APPLICABLE);
    c = check(&r, "enefg.renewable.2027");
    assert_int_equal(c->status, DCM_CHECK_FAIL);
    assert_near(c->margin, -0.4, 1e-12);
    done(&r);

    /* 2026: the PUE limit does not bind yet; the 50% renewable rule does. */
    evaluate(&r, existing, "2026", &k);
    assert_int_equal(check(&r, "enefg.pue.existing.2027")->status, DCM_CHECK_NOT_APPLICABLE);
    c = check(&r, "enefg.renewable.2024");
    assert_int_equal(c->status, DCM_CHECK_PASS);
    assert_near(c->margin, 0.1, 1e-12);
    done(&r);

    /* 2027: the 1.5 limit binds from July, during the period. */
    evaluate(&r, existing, "2027", &k);
    c = check(&r, "enefg.pue.existing.2027");
    assert_int_equal(c->status, DCM_CHECK_PASS);
    assert_string_equal(c->note, "binds from 2027-07-01, during this period");
    done(&r);

    /* 2030: both limits; the stricter one fails. */
    evaluate(&r, existing, "2030", &k);
    c = check(&r, "enefg.pue.existing.2030");
    assert_int_equal(c->status, DCM_CHECK_FAIL);
    assert_near(c->margin, -0.07, 1e-12);
    assert_non_null(strstr(check(&r, "enefg.pue.existing.2027")->note,
                           "in force until 2030-07-01, during this period"));
    done(&r);
}

/* A new data centre: PUE 1.2 and ERF by its start, both two years after it. */
static void test_enefg_new(void **state)
{
    (void)state;
    run r = {0};
    const char *site = "  regimes: [enefg]\n  start_of_operation: 2026-09\n"
                       "  installed_it_kw: 900\n";
    dcm_kpi_set k = kpis(1.25, 1.0, 0.12, -1);
    evaluate(&r, site, "2027", &k);
    const dcm_check *c = check(&r, "enefg.pue.new");
    assert_int_equal(c->status, DCM_CHECK_NOT_APPLICABLE);
    assert_string_equal(c->note, "binds from 2028-09-01, after this period");
    assert_int_equal(check(&r, "enefg.pue.existing.2027")->status, DCM_CHECK_NOT_APPLICABLE);
    done(&r);

    evaluate(&r, site, "2029", &k);
    c = check(&r, "enefg.pue.new");
    assert_int_equal(c->status, DCM_CHECK_FAIL);
    assert_near(c->margin, -0.05, 1e-12);
    c = check(&r, "enefg.erf.new.2026");
    assert_int_equal(c->status, DCM_CHECK_PASS);
    assert_near(c->margin, 0.02, 1e-12);
    assert_int_equal(check(&r, "enefg.erf.new.2027")->status, DCM_CHECK_NOT_APPLICABLE);
    assert_int_equal(check(&r, "enefg.erf.new.2028")->status, DCM_CHECK_NOT_APPLICABLE);
    assert_int_equal(check(&r, "enefg.renewable.2027")->status, DCM_CHECK_PASS);
    done(&r);

    /* A site that started in 2028 needs 20%: 12% fails. */
    evaluate(&r, "  regimes: [enefg]\n  start_of_operation: 2028-07\n", "2031", &k);
    c = check(&r, "enefg.erf.new.2028");
    assert_int_equal(c->status, DCM_CHECK_FAIL);
    assert_near(c->margin, -0.08, 1e-12);
    /* No installed power: applied, with the threshold named. */
    assert_non_null(strstr(c->note, "site.installed_it_kw is not set"));
    done(&r);
}

static void test_not_determinable(void **state)
{
    (void)state;
    run r = {0};
    /* Without a start of operation, existing and new cannot be told apart. */
    dcm_kpi_set k = kpis(1.4, 0.6, -1, -1);
    evaluate(&r, "  regimes: [enefg]\n", "2028", &k);
    const dcm_check *c = check(&r, "enefg.pue.existing.2027");
    assert_int_equal(c->status, DCM_CHECK_NOT_DETERMINABLE);
    assert_non_null(strstr(c->note, "site.start_of_operation is not set"));
    assert_int_equal(check(&r, "enefg.renewable.2027")->status, DCM_CHECK_FAIL);
    done(&r);
    /* A value the data does not give: ERF of a new site without a reuse meter. */
    evaluate(&r, "  regimes: [enefg]\n  start_of_operation: 2026-08\n", "2029", &k);
    c = check(&r, "enefg.erf.new.2026");
    assert_int_equal(c->status, DCM_CHECK_NOT_DETERMINABLE);
    assert_false(c->has_value);
    assert_non_null(strstr(c->note, "no ERF for the period"));
    done(&r);
    /* No regime: no checks. */
    evaluate(&r, "  name: x\n", "2028", &k);
    assert_int_equal(r.count, 0);
    assert_null(r.checks);
    done(&r);
}

static void test_taiwan(void **state)
{
    (void)state;
    run r = {0};
    dcm_kpi_set k = kpis(1.3663, -1, -1, -1);
    evaluate(&r, "  regimes: [taiwan]\n  category: hyperscale\n  installed_it_kw: 30000\n",
             "2026", &k);
    const dcm_check *c = check(&r, "taiwan.pue.hyperscale");
    assert_int_equal(c->status, DCM_CHECK_FAIL);
    assert_near(c->margin, 1.3 - 1.3663, 1e-12);
    assert_int_equal(check(&r, "taiwan.pue.colocation")->status, DCM_CHECK_NOT_APPLICABLE);
    done(&r);
    /* site.type colocation stands for the category. */
    evaluate(&r, "  regimes: [taiwan]\n  type: colocation\n  installed_it_kw: 6000\n", "2026", &k);
    c = check(&r, "taiwan.pue.colocation");
    assert_int_equal(c->status, DCM_CHECK_PASS);
    assert_near(c->margin, 1.4 - 1.3663, 1e-12);
    done(&r);
    evaluate(&r, "  regimes: [taiwan]\n  type: enterprise\n", "2026", &k);
    c = check(&r, "taiwan.pue.hyperscale");
    assert_int_equal(c->status, DCM_CHECK_NOT_DETERMINABLE);
    assert_non_null(strstr(c->note, "site.category is not set"));
    done(&r);
    evaluate(&r, "  regimes: [taiwan]\n  category: colocation\n  installed_it_kw: 2000\n",
             "2026", &k);
    c = check(&r, "taiwan.pue.colocation");
    assert_int_equal(c->status, DCM_CHECK_NOT_APPLICABLE);
    assert_string_equal(c->note, "installed IT power 2000 kW is below the 5000 kW the regime "
                                 "starts at");
    done(&r);
    /* Before the rules existed. */
    evaluate(&r, "  regimes: [taiwan]\n  category: colocation\n", "2025-Q1", &k);
    c = check(&r, "taiwan.pue.colocation");
    assert_int_equal(c->status, DCM_CHECK_NOT_APPLICABLE);
    assert_non_null(strstr(c->note, "binds from 2025-11-05, after this period"));
    done(&r);
}

/* Label classes: A, B, D and G are published; C, E and F are not. */
static void test_eu_label(void **state)
{
    (void)state;
    static const struct {
        double pue, wue;
        const char *pue_class, *wue_class, *label;
    } cases[] = {
        {1.10, 0.05, "A", "A", "A"},   {1.15, 0.1, "A", "A", "A"},   {1.20, 0.15, "B", "B", "B"},
        {1.25, 0.5, "B", "D", NULL},   {1.30, 0.15, NULL, "B", NULL}, {1.40, 0.5, "D", "D", "D"},
        {1.70, 0.8, NULL, NULL, NULL}, {2.00, 1.2, "G", "G", "G"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        run r = {0};
        dcm_kpi_set k = kpis(cases[i].pue, -1, -1, cases[i].wue);
        evaluate(&r, "  regimes: [eu]\n  installed_it_kw: 800\n", "2027", &k);
        assert_int_equal(r.count, 3);
        const dcm_check *p = check(&r, "eu.label.pue");
        const dcm_check *w = check(&r, "eu.label.wue_fresh");
        const dcm_check *l = check(&r, "eu.label");
        const char *want[3] = {cases[i].pue_class, cases[i].wue_class, cases[i].label};
        const dcm_check *got[3] = {p, w, l};
        for (int j = 0; j < 3; j++) {
            if (want[j]) {
                assert_int_equal(got[j]->status, DCM_CHECK_CLASSIFIED);
                assert_string_equal(got[j]->class_label, want[j]);
            } else {
                assert_int_equal(got[j]->status, DCM_CHECK_NOT_DETERMINABLE);
                assert_non_null(strstr(got[j]->note, "class not determinable"));
            }
        }
        done(&r);
    }
    /* Under the size threshold the label does not apply. */
    run r = {0};
    dcm_kpi_set k = kpis(1.1, -1, -1, 0.05);
    evaluate(&r, "  regimes: [eu]\n  installed_it_kw: 400\n", "2027", &k);
    assert_int_equal(check(&r, "eu.label")->status, DCM_CHECK_NOT_APPLICABLE);
    done(&r);
    /* A quarter is not an annual figure, and partial data is said. */
    k.pue.quality = DCM_QUALITY_PARTIAL;
    evaluate(&r, "  regimes: [eu]\n", "2027-Q2", &k);
    assert_non_null(strstr(check(&r, "eu.label.pue")->note, "not a calendar year"));
    assert_non_null(strstr(check(&r, "eu.label.pue")->note, "the value is partial"));
    done(&r);
}

static void test_table(void **state)
{
    (void)state;
    dcm_calendar utc = {NULL, NULL};
    assert_true(dcm_rule_count() >= 18);
    for (size_t i = 0; i < dcm_rule_count(); i++) {
        const dcm_rule *r = dcm_rule_at(i);
        int64_t t;
        assert_non_null(r->source);
        assert_non_null(r->description);
        assert_true(dcm_rules_date(&utc, r->valid_from, &t));
        if (r->valid_to)
            assert_true(dcm_rules_date(&utc, r->valid_to, &t));
        if (r->started_from)
            assert_true(dcm_rules_date(&utc, r->started_from, &t));
        if (r->started_before)
            assert_true(dcm_rules_date(&utc, r->started_before, &t));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(dcm_rule_at(j)->id, r->id);
    }
    assert_null(dcm_rule_at(dcm_rule_count()));
    int64_t t;
    assert_true(dcm_rules_date(&utc, "2027-07-01", &t));
    assert_true(t == INT64_C(1814400000) * DCM_NS_PER_S);
    assert_false(dcm_rules_date(&utc, "2027-7-01", &t));
    assert_false(dcm_rules_date(&utc, "2027-13", &t));
}

static void expect_error(const char *yaml, const char *path, const char *text)
{
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_config *cfg = load(yaml, &d);
    assert_null(cfg);
    bool found = false;
    for (size_t i = 0; i < d.count; i++)
        if (strcmp(d.items[i].path, path) == 0 && strstr(d.items[i].message, text))
            found = true;
    if (!found)
        for (size_t i = 0; i < d.count; i++)
            print_message("%s: %s\n", d.items[i].path, d.items[i].message);
    assert_true(found);
    dcm_diags_free(&d);
}

static void test_config_keys(void **state)
{
    (void)state;
    expect_error("site:\n  regimes: [eu, enfg]\n", "site.regimes[1]", "did you mean 'enefg'?");
    expect_error("site:\n  regimes: [eu, eu]\n", "site.regimes[1]", "listed twice");
    expect_error("site:\n  start_of_operation: 2019-5\n", "site.start_of_operation",
                 "like 2019-05, got '2019-5'");
    expect_error("site:\n  category: hyperscal\n", "site.category", "did you mean 'hyperscale'?");
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_config *cfg = load("site:\n  regimes: [taiwan, eu]\n  start_of_operation: 2019-05\n"
                           "  category: colocation\n  owner: O\n  contact: C\n"
                           "  electrical_redundancy: 2N\n  cooling_redundancy: N+1\n", &d);
    assert_non_null(cfg);
    assert_int_equal(cfg->site.regime_count, 2);
    assert_string_equal(cfg->site.regimes[1], "eu");
    assert_string_equal(cfg->site.start_of_operation, "2019-05");
    assert_string_equal(cfg->site.category, "colocation");
    assert_string_equal(cfg->site.electrical_redundancy, "2N");
    assert_string_equal(cfg->site.cooling_redundancy, "N+1");
    assert_string_equal(cfg->site.owner, "O");
    assert_string_equal(cfg->site.contact, "C");
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enefg_existing), cmocka_unit_test(test_enefg_new),
        cmocka_unit_test(test_not_determinable), cmocka_unit_test(test_taiwan),
        cmocka_unit_test(test_eu_label),       cmocka_unit_test(test_table),
        cmocka_unit_test(test_config_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
