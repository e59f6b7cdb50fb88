/* The report model: a ledger written here and input CSVs, merged, folded into KPIs;
 * the worked examples of kpi-examples.md through the report; gaps, corrections, status;
 * and the errors (no ledger, no data, bad periods). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dcm/config.h"
#include "ledger.h"
#include "report.h"
#include "site.h"

#define NS DCM_NS_PER_S
#define DAY INT64_C(86400)
#define MAR1 INT64_C(1772323200) /* 2026-03-01T00:00:00Z */
#define FAR_FUTURE (INT64_C(4102444800) * NS) /* 2100: every day of the period is past */

#define assert_near(a, b, eps)                                                              \
    do {                                                                                    \
        double a_ = (a), b_ = (b);                                                          \
        if (!(fabs(a_ - b_) <= (eps)))                                                      \
            fail_msg("%s = %.17g, expected %.17g", #a, a_, b_);                            \
    } while (0)

typedef struct fx {
    char dir[256];
    dcm_config *cfg;
    dcm_calendar cal;
    dcm_report rep;
} fx;

static void rm_dir(const char *dir)
{
    char path[512];
    static const char *const files[] = {"ledger.db", "ledger.db-wal", "ledger.db-shm",
                                        "ledger.lock"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/state/%s", dir, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/state", dir);
    rmdir(path);
    rmdir(dir);
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/dcm-report-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    dcm_report_free(&f->rep);
    dcm_config_destroy(f->cfg);
    rm_dir(f->dir);
    free(f);
    return 0;
}

static void load(fx *f, const char *yaml)
{
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_config_err err = dcm_config_load_string(yaml, strlen(yaml), "site.yaml", &f->cfg, &d);
    for (size_t i = 0; i < d.count; i++)
        print_message("%d:%d %s: %s\n", d.items[i].line, d.items[i].column, d.items[i].path,
                      d.items[i].message);
    dcm_diags_free(&d);
    assert_int_equal(err, DCM_CONFIG_OK);
    assert_true(dcm_site_calendar(f->cfg->site.timezone, &f->cal));
}

static void load_file(fx *f, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/compute/%s", DCM_SOURCE_DIR, name);
    dcm_diags d;
    dcm_diags_init(&d);
    assert_int_equal(dcm_config_load(path, &f->cfg, &d), DCM_CONFIG_OK);
    dcm_diags_free(&d);
    assert_true(dcm_site_calendar(f->cfg->site.timezone, &f->cal));
}

static char *state_dir(fx *f)
{
    static char path[300];
    snprintf(path, sizeof path, "%s/state", f->dir);
    return path;
}

/* Builds the report for [from, to) from the ledger (when ledger) and text as input. */
static dcm_report_err build(fx *f, const char *label, int64_t from, int64_t to, bool ledger,
                            const char *text, FILE *input)
{
    FILE *in = input;
    if (text) {
        in = fmemopen((void *)text, strlen(text), "r");
        assert_non_null(in);
    }
    dcm_report_request req = {
        .config = f->cfg,
        .calendar = &f->cal,
        .from_ns = from,
        .to_ns = to,
        .period_label = label,
        .state_dir = ledger ? state_dir(f) : NULL,
        .input = in,
        .input_name = "readings.csv",
        .now_ns = FAR_FUTURE,
    };
    dcm_report_err err = dcm_report_build(&req, &f->rep);
    if (err)
        print_message("report: %s: %s\n", dcm_report_strerror(err), f->rep.detail);
    if (text)
        fclose(in);
    return err;
}

static const dcm_report_meter *meter(const dcm_report *r, const char *id)
{
    for (size_t i = 0; i < r->meter_count; i++)
        if (strcmp(r->meters[i].id, id) == 0)
            return &r->meters[i];
    fail_msg("no meter %s", id);
    return NULL;
}

static bool has_reason(const dcm_report *r, const char *text)
{
    for (size_t i = 0; i < r->reason_count; i++)
        if (strstr(r->reasons[i], text))
            return true;
    return false;
}

/* ------------------------------------------------------------ the ledger */

static const char *site_yaml =
    "agent: {site: t}\n"
    "site:\n"
    "  name: Test <Hall> & Co\n"
    "  timezone: UTC\n"
    "  pue_category: 2\n"
    "  roles:\n"
    "    total: [m.total]\n"
    "    it: [m.it]\n"
    "    water: [m.water]\n"
    "  carbon: {location_factor: 0.5, market_factor: 0.4, location_source: grid, location_year: 2025}\n";

/* Two days from 2026-03-01 UTC: m.total 2 kWh and m.it 1.5 kWh a minute, m.water 0.01 m3;
 * m.it has no data from 06:00 to 12:00 on the second day; m.power is a point no role
 * selects; a reset of m.total at noon on the first day and a wrap in February. */
static void write_ledger(fx *f)
{
    dcm_ledger_options opt = {0};
    dcm_ledger *l = NULL;
    assert_int_equal(dcm_ledger_open(state_dir(f), &opt, &l), DCM_LEDGER_OK);
    int64_t kt, ki, kw, kp;
    assert_int_equal(dcm_ledger_point(l, "m.total", "kWh", DCM_KIND_COUNTER, DCM_QTY_ENERGY, &kt), 0);
    assert_int_equal(dcm_ledger_point(l, "m.it", "kWh", DCM_KIND_COUNTER, DCM_QTY_ENERGY, &ki), 0);
    assert_int_equal(dcm_ledger_point(l, "m.water", "m3", DCM_KIND_COUNTER, DCM_QTY_VOLUME, &kw), 0);
    assert_int_equal(dcm_ledger_point(l, "m.power", "kWh", DCM_KIND_GAUGE, DCM_QTY_ENERGY, &kp), 0);
    assert_int_equal(dcm_ledger_begin(l), DCM_LEDGER_OK);
    for (int64_t t = MAR1; t < MAR1 + 2 * DAY; t += 60) {
        dcm_point_acc total = {.amount = 2.0, .covered_s = 60, .samples = 1};
        dcm_point_acc it = {.amount = 1.5, .covered_s = 60, .samples = 1};
        dcm_point_acc water = {.amount = 0.01, .covered_s = 60, .samples = 1};
        assert_int_equal(dcm_ledger_put_minute(l, kt, t * NS, &total, true), 0);
        assert_int_equal(dcm_ledger_put_minute(l, kw, t * NS, &water, true), 0);
        assert_int_equal(dcm_ledger_put_minute(l, kp, t * NS, &total, true), 0);
        int64_t s = t - MAR1 - DAY;
        if (s < 6 * 3600 || s >= 12 * 3600)
            assert_int_equal(dcm_ledger_put_minute(l, ki, t * NS, &it, true), 0);
    }
    dcm_increment reset = {.t0_ns = (MAR1 + 43140) * NS, .t1_ns = (MAR1 + 43200) * NS,
                           .amount = 2.0, .correction = DCM_CORR_RESET};
    dcm_increment wrap = {.t0_ns = (MAR1 - 10 * DAY) * NS, .t1_ns = (MAR1 - 10 * DAY + 60) * NS,
                          .amount = 1.0, .correction = DCM_CORR_WRAP};
    assert_int_equal(dcm_ledger_put_correction(l, kt, &reset), 0);
    assert_int_equal(dcm_ledger_put_correction(l, kt, &wrap), 0);
    assert_int_equal(dcm_ledger_commit(l), DCM_LEDGER_OK);
    dcm_ledger_close(l);
}

static void test_ledger_month(void **state)
{
    fx *f = *state;
    load(f, site_yaml);
    write_ledger(f);
    int64_t from = MAR1 * NS, to = (MAR1 + 31 * DAY) * NS;
    assert_int_equal(build(f, "2026-03", from, to, true, NULL, NULL), DCM_REPORT_OK);
    dcm_report *r = &f->rep;
    assert_string_equal(r->label, "2026-03");
    assert_string_equal(r->period_kind, "month");
    assert_false(r->calendar_year);
    assert_int_equal(r->month_count, 1);
    assert_true(r->months[0].whole);
    /* Every KPI is a ratio of the sums the ledger holds. */
    assert_near(r->total.totals.role[DCM_ROLE_TOTAL].amount, 2.0 * 2880, 1e-6);
    assert_near(r->total.totals.role[DCM_ROLE_IT].amount, 1.5 * 2520, 1e-6);
    assert_near(r->total.kpi.pue.value, 5760.0 / 3780.0, 1e-12);
    assert_near(r->total.kpi.wue.value, 28.8 * 1000 / 3780.0, 1e-9);
    assert_near(r->total.kpi.cue_location.value, 0.5 * 5760 / 3780.0, 1e-12);
    /* Two of 31 days are metered: a partial report that says why. */
    assert_int_equal(r->status, DCM_REPORT_PARTIAL);
    assert_int_equal(r->months[0].status, DCM_REPORT_PARTIAL);
    assert_true(has_reason(r, "E_IT (role it) covers 5.6% of the period"));
    assert_true(has_reason(r, "roles total, water cover 6.5% of the period"));
    /* Only mapped points are meters; the other ledger point is counted. */
    assert_int_equal(r->meter_count, 3);
    assert_int_equal(r->unmapped_points, 1);
    assert_string_equal(r->meters[0].id, "m.it");
    assert_string_equal(r->meters[1].id, "m.total");
    assert_int_equal(meter(r, "m.total")->used, DCM_SRC_LEDGER);
    assert_near(meter(r, "m.it")->coverage, 2520.0 / (31 * 1440), 1e-12);
    /* The audit trail of the period: the reset, not February's wrap. */
    assert_int_equal(r->correction_count, 1);
    assert_int_equal(r->corrections[0].inc.correction, DCM_CORR_RESET);
    assert_string_equal(r->meters[r->corrections[0].meter].id, "m.total");
    assert_int_equal(meter(r, "m.total")->corrections_by[DCM_CORR_RESET], 1);
    /* Gaps: m.it from its second day (75% covered) to the month's end, the others from the
     * third day; one run each. */
    assert_int_equal(r->gap_count, 3);
    const dcm_report_gap *g = &r->gaps[0];
    assert_string_equal(r->meters[g->meter].id, "m.it");
    assert_true(g->from_ns == (MAR1 + DAY) * NS && g->to_ns == to);
    assert_near(g->coverage, 0.75 / 30, 1e-12);
    assert_true(r->gaps[1].from_ns == (MAR1 + 2 * DAY) * NS);
    assert_near(r->gaps[1].coverage, 0, 0);
}

/* A two-day period of the same ledger is complete except for m.it's hole. */
static void test_ledger_days(void **state)
{
    fx *f = *state;
    load(f, site_yaml);
    write_ledger(f);
    assert_int_equal(build(f, NULL, MAR1 * NS, (MAR1 + DAY) * NS, true, NULL, NULL),
                     DCM_REPORT_OK);
    assert_int_equal(f->rep.status, DCM_REPORT_COMPLETE);
    assert_int_equal(f->rep.reason_count, 0);
    assert_int_equal(f->rep.gap_count, 0);
    assert_string_equal(f->rep.label, "2026-03-01 to 2026-03-02");
    assert_string_equal(f->rep.period_kind, "custom");
    assert_false(f->rep.months[0].whole);
    assert_near(f->rep.total.kpi.pue.value, 2.0 / 1.5, 1e-12);
}

/* The input adds months before the agent ran; where both sources have a day, the
 * ledger's counts and the input's is left out. */
static void test_merge(void **state)
{
    fx *f = *state;
    load(f, site_yaml);
    write_ledger(f);
    static const char csv[] =
        "timestamp,point,value,unit,kind,start\n"
        "2026-02-01T00:00:00Z,m.it,1000,kWh,delta,2026-01-01T00:00:00Z\n"
        "2026-02-01T00:00:00Z,m.total,1500,kWh,delta,2026-01-01T00:00:00Z\n"
        "2026-03-01T00:00:00Z,m.it,900,kWh,delta,2026-02-01T00:00:00Z\n"
        "2026-03-01T00:00:00Z,m.total,1200,kWh,delta,2026-02-01T00:00:00Z\n"
        "2026-03-02T00:00:00Z,m.total,9999,kWh,delta,2026-03-01T00:00:00Z\n"
        "2026-03-04T00:00:00Z,m.total,100,kWh,delta,2026-03-03T00:00:00Z\n"
        "2026-04-01T00:00:00Z,x.heat,50,kWh,delta,2026-03-01T00:00:00Z\n";
    int64_t from = (MAR1 - 59 * DAY) * NS, to = (MAR1 + 31 * DAY) * NS;
    assert_int_equal(build(f, "2026-Q1", from, to, true, csv, NULL), DCM_REPORT_OK);
    dcm_report *r = &f->rep;
    assert_string_equal(r->period_kind, "quarter");
    assert_int_equal(r->month_count, 3);
    assert_near(r->months[0].w.kpi.pue.value, 1.5, 1e-12);
    assert_near(r->months[1].w.kpi.pue.value, 1200.0 / 900.0, 1e-12);
    assert_near(r->months[2].w.totals.role[DCM_ROLE_TOTAL].amount, 2880 + 2880 + 100, 1e-6);
    assert_near(r->months[2].w.totals.role[DCM_ROLE_IT].amount, 3780, 1e-6);
    assert_near(r->total.kpi.pue.value, (1500 + 1200 + 5860.0) / (1000 + 900 + 3780.0), 1e-12);
    const dcm_report_meter *t = meter(r, "m.total");
    assert_int_equal(t->used, DCM_SRC_LEDGER | DCM_SRC_INPUT);
    assert_int_equal(t->overlap_days, 1);
    assert_int_equal(meter(r, "m.water")->used, DCM_SRC_LEDGER);
    assert_true(r->input_used);
    assert_int_equal(r->input_stats.unknown_points, 1);
    assert_int_equal(r->input_stats.rows_used, 6);
    /* Bills are exact in their own months. */
    assert_near(r->months[0].w.kpi.estimated_share, 0, 0);
    assert_int_equal(r->months[0].status, DCM_REPORT_COMPLETE);
}

/* ------------------------------------------------------- worked examples */

static FILE *fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/fixtures/compute/%s", DCM_SOURCE_DIR, name);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    return in;
}

/* Example A: the annual PUE is the ratio of the sums, not the mean of monthly PUEs. */
static void test_example_a(void **state)
{
    fx *f = *state;
    load_file(f, "site_a.yaml");
    int64_t from, to;
    assert_true(dcm_site_period(&f->cal, "2025", &from, &to));
    FILE *in = fixture("example_a.csv");
    assert_int_equal(build(f, "2025", from, to, false, NULL, in), DCM_REPORT_OK);
    fclose(in);
    dcm_report *r = &f->rep;
    assert_true(r->calendar_year);
    assert_int_equal(r->status, DCM_REPORT_COMPLETE);
    assert_near(round(r->total.kpi.pue.value * 1e4) / 1e4, 1.3672, 1e-12);
    assert_near(round(r->total.kpi.dcie.value * 1e4) / 1e4, 0.7314, 1e-12);
    assert_near(r->total.kpi.e_dc_kwh.value, 12346000, 1e-6);
    assert_int_equal(r->month_count, 12);
    double mean = 0;
    for (size_t m = 0; m < 12; m++) {
        assert_int_equal(r->months[m].status, DCM_REPORT_COMPLETE);
        mean += r->months[m].w.kpi.pue.value / 12;
    }
    assert_near(round(mean * 1e4) / 1e4, 1.3633, 1e-12);
    assert_near(r->months[6].w.kpi.pue.value, 1.55, 1e-12);
    assert_null(r->ledger_path);
    assert_int_equal(meter(r, "bills.it")->used, DCM_SRC_INPUT);
    assert_near(meter(r, "bills.it")->coverage, 1, 1e-12);
}

/* Example D: CUE location- and market-based, REF with its parts. */
static void test_example_d(void **state)
{
    fx *f = *state;
    load_file(f, "site_d.yaml");
    int64_t from, to;
    assert_true(dcm_site_period(&f->cal, "2025", &from, &to));
    FILE *in = fixture("example_d.csv");
    assert_int_equal(build(f, "2025", from, to, false, NULL, in), DCM_REPORT_OK);
    fclose(in);
    const dcm_kpi_set *k = &f->rep.total.kpi;
    assert_near(k->co2_location_kg.value, 4890600, 1e-3);
    assert_near(k->co2_market_kg.value, 2914600, 1e-3);
    assert_near(round(k->cue_location.value * 1e4) / 1e4, 0.6113, 1e-12);
    assert_near(round(k->cue_market.value * 1e4) / 1e4, 0.3643, 1e-12);
    assert_near(round(k->ref.value * 1e4) / 1e4, 0.4327, 1e-12);
    assert_near(f->rep.total.totals.instruments.certificates_kwh, 4000000, 1e-6);
    assert_int_equal(f->rep.instrument_count, 1);
    assert_near(f->rep.instruments[0].kwh_in_period, 4000000, 1e-6);
    /* The Annex fields: E_DC measured, renewables split, owner missing. */
    dcm_annex_field a[DCM_ANNEX_MAX];
    size_t n = dcm_report_annex(&f->rep, a);
    bool seen_edc = false, seen_go = false, seen_owner = false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a[i].key, "e_dc_kwh") == 0) {
            seen_edc = true;
            assert_int_equal(a[i].status, DCM_ANNEX_MEASURED);
            assert_near(a[i].number, 10400000, 1e-6);
        } else if (strcmp(a[i].key, "e_res_go_kwh") == 0) {
            seen_go = true;
            assert_int_equal(a[i].status, DCM_ANNEX_CONFIGURED);
            assert_near(a[i].number, 4000000, 1e-6);
        } else if (strcmp(a[i].key, "owner") == 0) {
            seen_owner = true;
            assert_int_equal(a[i].status, DCM_ANNEX_MISSING);
        }
    }
    assert_true(seen_edc && seen_go && seen_owner);
}

/* Examples E, F and G from one year of annual totals. */
static void test_examples_efg(void **state)
{
    fx *f = *state;
    load(f, "site:\n"
            "  timezone: UTC\n"
            "  roles:\n"
            "    total: [s.total]\n"
            "    it: [s.it]\n"
            "    water: [s.water]\n"
            "    freshwater: [s.fresh]\n"
            "    reused: [s.reused]\n"
            "    heat_upgrade: [s.heatpump]\n"
            "    cooling: [s.cooling]\n"
            "    cooling_output: [s.chw]\n");
    static const char csv[] =
        "timestamp,point,value,unit,kind,start\n"
        "2026-01-01T00:00:00Z,s.total,10400,MWh,delta,2025-01-01T00:00:00Z\n"
        "2026-01-01T00:00:00Z,s.it,8000,MWh,delta,2025-01-01T00:00:00Z\n"
        "2026-01-01T00:00:00Z,s.water,12000,m3,delta,2025-01-01T00:00:00Z\n"
        "2026-01-01T00:00:00Z,s.fresh,9000,m3,delta,2025-01-01T00:00:00Z\n"
        "2026-01-01T00:00:00Z,s.reused,1560,MWh,delta,2025-01-01T00:00:00Z\n"
        "2026-01-01T00:00:00Z,s.heatpump,300,MWh,delta,2025-01-01T00:00:00Z\n"
        "2026-01-01T00:00:00Z,s.cooling,1640,MWh,delta,2025-01-01T00:00:00Z\n"
        "2026-01-01T00:00:00Z,s.chw,8200,MWh,delta,2025-01-01T00:00:00Z\n";
    int64_t from, to;
    assert_true(dcm_site_period(&f->cal, "2025", &from, &to));
    assert_int_equal(build(f, "2025", from, to, false, csv, NULL), DCM_REPORT_OK);
    const dcm_kpi_set *k = &f->rep.total.kpi;
    assert_near(k->wue.value, 1.5, 1e-12);
    assert_near(k->wue_fresh.value, 1.125, 1e-12);
    assert_near(k->erf.value, 0.15, 1e-12);
    assert_near(k->ere.value, 1.105, 1e-12);
    assert_near(k->pue_enefg.value, 1.2625, 1e-12);
    assert_near(k->cer.value, 5.0, 1e-12);
    /* An annual total is exact for the year; its monthly split is estimated. */
    assert_int_equal(f->rep.status, DCM_REPORT_COMPLETE);
    assert_near(k->estimated_share, 0, 0);
    assert_int_equal(f->rep.months[3].status, DCM_REPORT_PARTIAL);
    assert_near(f->rep.months[3].w.kpi.pue.value, 1.3, 1e-12);
}

/* ---------------------------------------------------------------- errors */

static void test_no_ledger(void **state)
{
    fx *f = *state;
    load(f, site_yaml);
    assert_int_equal(build(f, "2026", MAR1 * NS, (MAR1 + DAY) * NS, true, NULL, NULL),
                     DCM_REPORT_ENOLEDGER);
    assert_non_null(strstr(f->rep.detail, "no ledger at "));
    assert_null(f->rep.meters);
}

static void test_empty_ledger(void **state)
{
    fx *f = *state;
    load(f, site_yaml);
    dcm_ledger_options opt = {0};
    dcm_ledger *l = NULL;
    assert_int_equal(dcm_ledger_open(state_dir(f), &opt, &l), DCM_LEDGER_OK);
    int64_t k;
    assert_int_equal(dcm_ledger_point(l, "m.it", "kWh", DCM_KIND_COUNTER, DCM_QTY_ENERGY, &k), 0);
    dcm_ledger_close(l);
    assert_int_equal(build(f, "2026-03", MAR1 * NS, (MAR1 + 31 * DAY) * NS, true, NULL, NULL),
                     DCM_REPORT_ENODATA);
    assert_non_null(strstr(f->rep.detail,
                           "no reading of any point of the site from 2026-03-01 to 2026-04-01"));
    /* Data outside the period is no data for it either. */
    dcm_report_free(&f->rep);
    write_ledger(f);
    assert_int_equal(build(f, "2026-05", (MAR1 + 61 * DAY) * NS, (MAR1 + 92 * DAY) * NS, true,
                           NULL, NULL),
                     DCM_REPORT_ENODATA);
}

static void test_bad_periods(void **state)
{
    fx *f = *state;
    load(f, site_yaml);
    write_ledger(f);
    assert_int_equal(build(f, NULL, MAR1 * NS, MAR1 * NS, true, NULL, NULL), DCM_REPORT_EPERIOD);
    assert_int_equal(build(f, NULL, (MAR1 + DAY) * NS, MAR1 * NS, true, NULL, NULL),
                     DCM_REPORT_EPERIOD);
    assert_int_equal(build(f, NULL, MAR1 * NS, (MAR1 + 3700 * DAY) * NS, true, NULL, NULL),
                     DCM_REPORT_EPERIOD);
    assert_non_null(strstr(f->rep.detail, "longer than 10 years"));
    /* A header-less input is an input error, named. */
    assert_int_equal(build(f, NULL, MAR1 * NS, (MAR1 + DAY) * NS, true, "", NULL),
                     DCM_REPORT_EINPUT);
    assert_non_null(strstr(f->rep.detail, "readings.csv"));
}

/* A period the ledger covers in part: the months without data are named. */
static void test_partial_year(void **state)
{
    fx *f = *state;
    load(f, site_yaml);
    write_ledger(f);
    int64_t from, to;
    assert_true(dcm_site_period(&f->cal, "2026", &from, &to));
    assert_int_equal(build(f, "2026", from, to, true, NULL, NULL), DCM_REPORT_OK);
    dcm_report *r = &f->rep;
    assert_int_equal(r->status, DCM_REPORT_PARTIAL);
    assert_int_equal(r->month_count, 12);
    assert_int_equal(r->months[0].status, DCM_REPORT_NO_DATA);
    assert_int_equal(r->months[2].status, DCM_REPORT_PARTIAL);
    assert_true(has_reason(r, "no data for 2026-01 to 2026-02"));
    assert_true(has_reason(r, "no data for 2026-04 to 2026-12"));
    assert_false(r->months[0].w.kpi.pue.has_value);
    assert_near(r->total.kpi.pue.value, 5760.0 / 3780.0, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ledger_month, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ledger_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_a, setup, teardown),
        cmocka_unit_test_setup_teardown(test_example_d, setup, teardown),
        cmocka_unit_test_setup_teardown(test_examples_efg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_ledger, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_periods, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_year, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
