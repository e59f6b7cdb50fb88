/*
 * report_fold.c - `dcmetrics report`: from merged point sums to the report. Each window
 * (the period, each month) is folded from its points' sums with the site model, so every
 * KPI is a ratio of sums over that window, never an average of monthly ratios.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "report_int.h"
#include "site.h"

static bool has_data(const dcm_point_acc *a)
{
    return a->covered_s > 0 || a->amount != 0 || a->samples > 0;
}

static void acc_add(dcm_point_acc *a, const dcm_point_acc *b)
{
    a->amount += b->amount;
    a->estimated += b->estimated;
    a->covered_s += b->covered_s;
    a->samples += b->samples;
    a->corrections += b->corrections;
}

static double seconds(int64_t from, int64_t to) { return (double)(to - from) / 1e9; }

/* ------------------------------------------------------------------- merge */

/* One month of a meter: which source's sums it takes (see report_model.c). */
static void merge_month(dcm__report_builder *b, dcm_report_meter *m, size_t k,
                        bool *ledger_used)
{
    dcm__report_work *w = m->work;
    size_t d0 = b->first_day[k], d1 = b->first_day[k + 1];
    dcm_point_acc L = {0};
    for (size_t d = d0; w->ledger_days && d < d1; d++)
        acc_add(&L, &w->ledger_days[d]);
    bool has_l = w->ledger_days && has_data(&L);
    bool has_i = w->input_months && has_data(&w->input_months[k]);
    if (has_l)
        m->sources |= DCM_SRC_LEDGER;
    if (has_i)
        m->sources |= DCM_SRC_INPUT;
    dcm_point_acc *out = &w->months[k];
    if (has_l && has_i) {
        for (size_t d = d0; d < d1; d++) {
            const dcm_point_acc *ld = &w->ledger_days[d], *id = &w->input_days[d];
            if (has_data(ld)) {
                if (has_data(id))
                    m->overlap_days++;
                acc_add(out, ld);
                w->day_covered[d] = ld->covered_s;
                m->used |= DCM_SRC_LEDGER;
            } else if (has_data(id)) {
                acc_add(out, id);
                w->day_covered[d] = id->covered_s;
                m->used |= DCM_SRC_INPUT;
            }
        }
        *ledger_used = true;
    } else if (has_l) {
        *out = L;
        for (size_t d = d0; d < d1; d++)
            w->day_covered[d] = w->ledger_days[d].covered_s;
        m->used |= DCM_SRC_LEDGER;
        *ledger_used = true;
    } else if (has_i) {
        *out = w->input_months[k];
        for (size_t d = d0; d < d1; d++)
            w->day_covered[d] = w->input_days[d].covered_s;
        m->used |= DCM_SRC_INPUT;
    }
}

static bool merge_meter(dcm__report_builder *b, dcm_report_meter *m)
{
    dcm__report_work *w = m->work;
    w->months = calloc(b->nmonth, sizeof *w->months);
    w->day_covered = calloc(b->nday, sizeof *w->day_covered);
    if (!w->months || !w->day_covered)
        return false;
    bool ledger_used = false;
    for (size_t k = 0; k < b->nmonth; k++)
        merge_month(b, m, k, &ledger_used);
    /* A point read from the input alone keeps the input's own period sums: an interval
     * that lies within the period is exact there even when months split it. */
    if (!ledger_used && w->input_months) {
        m->sum = w->input_period;
    } else {
        memset(&m->sum, 0, sizeof m->sum);
        for (size_t k = 0; k < b->nmonth; k++)
            acc_add(&m->sum, &w->months[k]);
    }
    double span = seconds(b->req->from_ns, b->req->to_ns);
    m->coverage = span > 0 ? m->sum.covered_s / span : 0;
    if (m->coverage > 1)
        m->coverage = 1;
    return true;
}

/* -------------------------------------------------------------------- gaps */

static bool add_gap(dcm__report_builder *b, size_t meter, int64_t from, int64_t to,
                    double covered, size_t *cap)
{
    dcm_report *r = b->r;
    r->gaps_total++;
    if (r->gap_count >= DCM_REPORT_MAX_GAPS)
        return true;
    if (!dcm_grow((void **)&r->gaps, cap, r->gap_count + 1, sizeof *r->gaps, 32))
        return false;
    double span = seconds(from, to);
    r->gaps[r->gap_count++] = (dcm_report_gap){
        .meter = meter, .from_ns = from, .to_ns = to, .coverage = span > 0 ? covered / span : 0};
    return true;
}

/* Runs of days (before the report was made) whose data does not cover the whole day. */
static bool find_gaps(dcm__report_builder *b, size_t meter, size_t *cap)
{
    const dcm__report_work *w = b->r->meters[meter].work;
    bool open = false;
    int64_t start = 0;
    double covered = 0;
    size_t d = 0;
    for (; d < b->nday && b->days[d] < b->req->now_ns; d++) {
        double len = seconds(b->days[d], b->days[d + 1]);
        /* A second of tolerance: sums of float seconds are not exact. */
        bool incomplete = w->day_covered[d] < len - 1.0;
        if (incomplete && !open) {
            open = true;
            start = b->days[d];
            covered = 0;
        }
        if (incomplete)
            covered += w->day_covered[d];
        if (!incomplete && open) {
            open = false;
            if (!add_gap(b, meter, start, b->days[d], covered, cap))
                return false;
        }
    }
    return !open || add_gap(b, meter, start, b->days[d], covered, cap);
}

/* ----------------------------------------------------------------- windows */

static dcm_report_err fold_windows(dcm__report_builder *b)
{
    dcm_report *r = b->r;
    const dcm_site_config *site = b->site;
    r->months = calloc(b->nmonth, sizeof *r->months);
    if (!r->months)
        return DCM_REPORT_ENOMEM;
    r->month_count = b->nmonth;
    dcm_kpi_window_init(&r->total, b->req->from_ns, b->req->to_ns, site->zone_count);
    for (size_t k = 0; k < b->nmonth; k++) {
        dcm_report_month *mo = &r->months[k];
        dcm_kpi_window_init(&mo->w, b->months[k], b->months[k + 1], site->zone_count);
        int64_t cal_start = dcm_calendar_floor(b->req->calendar, DCM_WINDOW_MONTH, b->months[k]);
        mo->whole = cal_start == b->months[k] &&
                    dcm_calendar_next(b->req->calendar, DCM_WINDOW_MONTH, cal_start) ==
                        b->months[k + 1];
        mo->status = DCM_REPORT_NO_DATA;
    }
    for (size_t i = 0; i < r->meter_count; i++) {
        const dcm_report_meter *m = &r->meters[i];
        if (m->work->dropped)
            continue;
        dcm_totals_fold_point(&r->total.totals, &m->def, &m->sum);
        for (size_t k = 0; k < b->nmonth; k++) {
            dcm_totals_fold_point(&r->months[k].w.totals, &m->def, &m->work->months[k]);
            if (has_data(&m->work->months[k]))
                r->months[k].status = DCM_REPORT_PARTIAL;
        }
    }
    dcm_instrument_period *ip = NULL;
    size_t nip = 0;
    dcm_diags diags;
    dcm_diags_init(&diags);
    bool ok = dcm_site_instruments(site, b->req->calendar, &ip, &nip, &diags);
    if (b->req->messages)
        dcm_diags_print(&diags, b->req->messages);
    dcm_diags_free(&diags);
    if (!ok)
        return DCM_REPORT_ENOMEM;
    dcm_site_kpi_params(site, &r->params);
    dcm_kpi_window_finish(&r->total, ip, nip, &r->params);
    for (size_t k = 0; k < b->nmonth; k++) {
        dcm_report_month *mo = &r->months[k];
        dcm_kpi_window_finish(&mo->w, ip, nip, &r->params);
        if (mo->status != DCM_REPORT_NO_DATA && mo->w.kpi.quality == DCM_QUALITY_OK)
            mo->status = DCM_REPORT_COMPLETE;
    }
    free(ip);
    return DCM_REPORT_OK;
}

static dcm_report_err list_instruments(dcm__report_builder *b)
{
    dcm_report *r = b->r;
    const dcm_site_config *site = b->site;
    if (site->instrument_count == 0)
        return DCM_REPORT_OK;
    r->instruments = calloc(site->instrument_count, sizeof *r->instruments);
    if (!r->instruments)
        return DCM_REPORT_ENOMEM;
    r->instrument_count = site->instrument_count;
    for (size_t i = 0; i < site->instrument_count; i++) {
        dcm_report_instrument *ri = &r->instruments[i];
        ri->config = &site->instruments[i];
        ri->valid = ri->config->period && dcm_site_period(b->req->calendar, ri->config->period,
                                                          &ri->from_ns, &ri->to_ns);
        if (!ri->valid)
            continue;
        int64_t lo = ri->from_ns > b->req->from_ns ? ri->from_ns : b->req->from_ns;
        int64_t hi = ri->to_ns < b->req->to_ns ? ri->to_ns : b->req->to_ns;
        if (hi > lo)
            ri->kwh_in_period = ri->config->kwh * seconds(lo, hi) / seconds(ri->from_ns, ri->to_ns);
    }
    return DCM_REPORT_OK;
}

/* ------------------------------------------------------------------ status */

static bool reason(dcm_report *r, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool reason(dcm_report *r, size_t *cap, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *copy = strdup(buf);
    if (!copy || !dcm_grow((void **)&r->reasons, cap, r->reason_count + 1, sizeof *r->reasons, 8)) {
        free(copy);
        return false;
    }
    r->reasons[r->reason_count++] = copy;
    return true;
}

static const char *role_words(dcm_role role)
{
    switch (role) {
    case DCM_ROLE_TOTAL: return "E_DC (role total)";
    case DCM_ROLE_GRID: return "grid import (role grid)";
    case DCM_ROLE_IT: return "E_IT (role it)";
    default: return NULL;
    }
}

static dcm_report_err decide_status(dcm__report_builder *b)
{
    dcm_report *r = b->r;
    size_t cap = 0;
    bool ok = true;
    for (size_t k = 0; k < r->month_count && ok; k++) {
        if (r->months[k].status != DCM_REPORT_NO_DATA)
            continue;
        size_t e = k;
        while (e + 1 < r->month_count && r->months[e + 1].status == DCM_REPORT_NO_DATA)
            e++;
        char a[16], z[16];
        dcm_report_month_name(r, r->months[k].w.start_ns, a, sizeof a);
        dcm_report_month_name(r, r->months[e].w.start_ns, z, sizeof z);
        ok = e == k ? reason(r, &cap, "no data for %s", a)
                    : reason(r, &cap, "no data for %s to %s", a, z);
        k = e;
    }
    const dcm_kpi_set *k = &r->total.kpi;
    const dcm_totals *t = &r->total.totals;
    double cov_ok = r->params.coverage_ok > 0 ? r->params.coverage_ok : 0.95;
    /* Roles short of coverage, one reason per coverage figure: a stopped agent leaves
     * every role at the same share. */
    bool said[DCM_ROLE_COUNT] = {false};
    for (int role = 0; role < DCM_ROLE_COUNT && ok; role++) {
        const dcm_role_sum *rs = &t->role[role];
        double c = dcm_role_coverage(rs);
        if (said[role] || rs->points == 0 || rs->expected_s <= 0 || c >= cov_ok)
            continue;
        char pct[16], names[320] = "";
        snprintf(pct, sizeof pct, "%.1f", 100 * c);
        size_t n = 0, used = 0;
        for (int o = role; o < DCM_ROLE_COUNT; o++) {
            const dcm_role_sum *os = &t->role[o];
            char opct[16];
            snprintf(opct, sizeof opct, "%.1f", 100 * dcm_role_coverage(os));
            if (os->points == 0 || os->expected_s <= 0 || strcmp(opct, pct) != 0)
                continue;
            said[o] = true;
            int w = snprintf(names + used, sizeof names - used, "%s%s", n ? ", " : "",
                             dcm_role_name((dcm_role)o));
            if (w > 0 && (size_t)w < sizeof names - used)
                used += (size_t)w;
            n++;
        }
        const char *w = role_words((dcm_role)role);
        if (n > 1)
            ok = reason(r, &cap, "roles %s cover %s%% of the period", names, pct);
        else if (w)
            ok = reason(r, &cap, "%s covers %s%% of the period", w, pct);
        else
            ok = reason(r, &cap, "role '%s' covers %s%% of the period", names, pct);
    }
    if (ok && k->estimated_share > 0)
        ok = reason(r, &cap, "%.2f%% of E_DC is estimated: its split in time is not known",
                    100 * k->estimated_share);
    if (ok && !k->pue.has_value)
        ok = reason(r, &cap, "no PUE: E_IT (role it) or E_DC (role total, or grid) has no data");
    bool any_no_data = false;
    for (size_t m = 0; m < r->month_count; m++)
        any_no_data |= r->months[m].status == DCM_REPORT_NO_DATA;
    r->status = (k->quality == DCM_QUALITY_OK && !any_no_data) ? DCM_REPORT_COMPLETE
                                                               : DCM_REPORT_PARTIAL;
    if (ok && r->status == DCM_REPORT_PARTIAL && b->req->now_ns < b->req->to_ns) {
        char when[32];
        dcm_report_local_time(r, b->req->now_ns, when, sizeof when);
        ok = reason(r, &cap, "the period had not ended when the report was made (%s): "
                             "figures are to date", when);
    }
    return ok ? DCM_REPORT_OK : DCM_REPORT_ENOMEM;
}

/* ------------------------------------------------------ sorting, compaction */

typedef struct id_index {
    const char *id;
    size_t index;
} id_index;

static int by_id(const void *a, const void *b)
{
    return strcmp(((const id_index *)a)->id, ((const id_index *)b)->id);
}

static int by_time(const void *a, const void *b)
{
    const dcm_report_correction *x = a, *y = b;
    if (x->inc.t1_ns != y->inc.t1_ns)
        return x->inc.t1_ns < y->inc.t1_ns ? -1 : 1;
    return (x->meter > y->meter) - (x->meter < y->meter);
}

/* Drops the meters left out, sorts the rest by id and renumbers what refers to them. */
static dcm_report_err compact(dcm_report *r)
{
    size_t n = r->meter_count, kept = 0;
    id_index *order = malloc((n ? n : 1) * sizeof *order);
    size_t *renum = malloc((n ? n : 1) * sizeof *renum);
    dcm_report_meter *meters = calloc(n ? n : 1, sizeof *meters);
    if (!order || !renum || !meters) {
        free(order);
        free(renum);
        free(meters);
        return DCM_REPORT_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (!r->meters[i].work->dropped)
            order[kept++] = (id_index){r->meters[i].id, i};
    qsort(order, kept, sizeof *order, by_id);
    for (size_t i = 0; i < n; i++)
        renum[i] = SIZE_MAX;
    for (size_t i = 0; i < kept; i++) {
        renum[order[i].index] = i;
        meters[i] = r->meters[order[i].index];
        dcm__report_free_work(&meters[i]);
    }
    for (size_t i = 0; i < n; i++) {
        if (renum[i] == SIZE_MAX) {
            dcm__report_free_work(&r->meters[i]);
            free(r->meters[i].id);
        }
    }
    free(r->meters);
    r->meters = meters;
    r->meter_count = kept;
    size_t c = 0;
    for (size_t i = 0; i < r->correction_count; i++) {
        size_t m = renum[r->corrections[i].meter];
        if (m == SIZE_MAX)
            continue;
        r->corrections[c] = r->corrections[i];
        r->corrections[c++].meter = m;
    }
    r->correction_count = c;
    if (c > 1)
        qsort(r->corrections, c, sizeof *r->corrections, by_time);
    for (size_t i = 0; i < r->gap_count; i++)
        r->gaps[i].meter = renum[r->gaps[i].meter];
    free(order);
    free(renum);
    return DCM_REPORT_OK;
}

static int gap_order(const void *a, const void *b)
{
    const dcm_report_gap *x = a, *y = b;
    if (x->meter != y->meter)
        return x->meter < y->meter ? -1 : 1;
    return (x->from_ns > y->from_ns) - (x->from_ns < y->from_ns);
}

/* --------------------------------------------------------------------- all */

dcm_report_err dcm__report_fold(dcm__report_builder *b)
{
    dcm_report *r = b->r;
    bool any = false;
    size_t cap_gaps = 0;
    for (size_t i = 0; i < r->meter_count; i++) {
        dcm_report_meter *m = &r->meters[i];
        if (m->work->dropped)
            continue;
        if (!merge_meter(b, m) || !find_gaps(b, i, &cap_gaps))
            return DCM_REPORT_ENOMEM;
        any |= m->used != 0;
    }
    if (!any) {
        char a[32], z[32];
        dcm_report_local_time(r, b->req->from_ns, a, sizeof a);
        dcm_report_local_time(r, b->req->to_ns, z, sizeof z);
        dcm__report_detail(r, "no reading of any point of the site from %s to %s%s%s%s%s", a, z,
                           r->ledger_path ? " in the ledger " : "",
                           r->ledger_path ? r->ledger_path : "",
                           r->input_used ? (r->ledger_path ? " or in " : " in ") : "",
                           r->input_used ? (r->input_name ? r->input_name : "the input") : "");
        return DCM_REPORT_ENODATA;
    }
    dcm_report_err err = fold_windows(b);
    if (!err)
        err = list_instruments(b);
    if (!err)
        err = decide_status(b);
    if (!err)
        err = compact(r);
    if (err)
        return err;
    if (r->gap_count > 1)
        qsort(r->gaps, r->gap_count, sizeof *r->gaps, gap_order);
    dcm_rules_input rin = {
        .site = b->site,
        .calendar = b->req->calendar,
        .from_ns = b->req->from_ns,
        .to_ns = b->req->to_ns,
        .calendar_year = r->calendar_year,
        .kpi = &r->total.kpi,
    };
    return dcm_rules_check(&rin, &r->checks, &r->check_count) ? DCM_REPORT_OK
                                                                : DCM_REPORT_ENOMEM;
}
