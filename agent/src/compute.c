/* `dcmetrics compute`, second half: series -> increments -> windows -> KPIs. */
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "grow.h"
#include "site.h"

const char *dcm_compute_strerror(dcm_compute_err err)
{
    switch (err) {
    case DCM_COMPUTE_OK:
        return "ok";
    case DCM_COMPUTE_EIO:
        return "the input could not be read";
    case DCM_COMPUTE_EHEADER:
        return "the input has no valid header (timestamp,point,value,unit,kind)";
    case DCM_COMPUTE_ENODATA:
        return "no usable reading for any point of the site, and no --from/--to period";
    case DCM_COMPUTE_EPERIOD:
        return "the period is empty, or longer than 100 years";
    case DCM_COMPUTE_ENOMEM:
        return "out of memory";
    }
    return "unknown compute error";
}

const char *dcm_skip_reason_name(dcm_skip_reason r)
{
    static const char *const names[DCM_SKIP_COUNT] = {
        [DCM_SKIP_CSV] = "malformed CSV",
        [DCM_SKIP_FIELDS] = "missing fields",
        [DCM_SKIP_POINT] = "bad point id",
        [DCM_SKIP_TIMESTAMP] = "bad timestamp",
        [DCM_SKIP_START] = "bad start",
        [DCM_SKIP_VALUE] = "bad value",
        [DCM_SKIP_UNIT] = "unknown unit",
        [DCM_SKIP_KIND] = "unknown kind",
        [DCM_SKIP_UNIT_KIND] = "unit does not suit kind",
        [DCM_SKIP_UNIT_CHANGE] = "unit or kind change",
        [DCM_SKIP_ROLE_UNIT] = "unit does not suit role",
        [DCM_SKIP_DUPLICATE] = "exact duplicate",
        [DCM_SKIP_CONFLICT] = "conflicting duplicate",
        [DCM_SKIP_OVERLAP] = "overlapping delta",
    };
    return (r >= 0 && r < DCM_SKIP_COUNT) ? names[r] : "unknown";
}

/* ------------------------------------------------------------------ period */

static int64_t ceil_day(const dcm_calendar *cal, int64_t t)
{
    int64_t f = dcm_calendar_floor(cal, DCM_WINDOW_1D, t);
    return f == t ? t : dcm_calendar_next(cal, DCM_WINDOW_1D, t);
}

/* The data's span in whole local days. A delta without a start covers time up to its
 * timestamp, so a bill stamped at midnight belongs to the day before. */
static bool data_span(const dcm_cinput *in, const dcm_calendar *cal, int64_t *from, int64_t *to)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < in->nrows; i++) {
        const dcm_crow *r = &in->rows[i];
        if (r->dropped)
            continue;
        int64_t first = r->ts_ns;
        if (r->start_ns)
            first = r->start_ns;
        else if (in->points[r->point].kind == DCM_KIND_DELTA)
            first = r->ts_ns - 1;
        if (first < lo)
            lo = first;
        if (r->ts_ns > hi)
            hi = r->ts_ns;
    }
    if (lo == INT64_MAX)
        return false;
    *from = dcm_calendar_floor(cal, DCM_WINDOW_1D, lo);
    *to = ceil_day(cal, hi);
    if (*to <= *from)
        *to = dcm_calendar_next(cal, DCM_WINDOW_1D, *from);
    return true;
}

static dcm_compute_err choose_period(const dcm_cinput *in, const dcm_compute_request *req,
                                     int64_t *from, int64_t *to)
{
    int64_t dfrom = 0, dto = 0;
    bool have_data = data_span(in, req->calendar, &dfrom, &dto);
    if ((!req->has_from || !req->has_to) && !have_data)
        return DCM_COMPUTE_ENODATA;
    *from = req->has_from ? req->from_ns : dfrom;
    *to = req->has_to ? req->to_ns : dto;
    return *to > *from ? DCM_COMPUTE_OK : DCM_COMPUTE_EPERIOD;
}

/* -------------------------------------------------------------- integration */

typedef struct feed_ctx {
    dcm_cinput *in;
    const dcm_compute_sink *sink;
    dcm_point_acc *accs;     /* every window of every list, list after list */
    int64_t stat_from, stat_to; /* corrections in (from, to] are counted */
    dcm_compute_stats *stats;
} feed_ctx;

/* An amount flagged ESTIMATED has an uncertain split in time. For a window that holds
 * the whole interval the split does not matter: the window's amount is exact (a monthly
 * bill in its own month, a year's counter delta in the year). */
static void add_inc(dcm_point_acc *acc, int64_t ws, int64_t we, const dcm_increment *inc)
{
    dcm_increment local = *inc;
    if ((local.flags & DCM_INC_ESTIMATED) && local.t0_ns < local.t1_ns && local.t0_ns >= ws &&
        local.t1_ns <= we)
        local.flags &= (uint8_t)~DCM_INC_ESTIMATED;
    dcm_point_acc_add(acc, ws, we, &local);
}

static void add_to_windows(feed_ctx *fc, const dcm_increment *inc)
{
    /* The first window the increment can touch: (t0, t1], or the instant t1. */
    int64_t key = inc->t0_ns < inc->t1_ns ? inc->t0_ns : inc->t1_ns - 1;
    dcm_point_acc *accs = fc->accs;
    for (size_t l = 0; l < fc->sink->list_count; l++) {
        const dcm_window_list *wl = &fc->sink->lists[l];
        const int64_t *b = wl->bounds;
        size_t lo = 0, hi = wl->count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (b[mid + 1] > key)
                hi = mid;
            else
                lo = mid + 1;
        }
        for (size_t w = lo; w < wl->count && b[w] < inc->t1_ns; w++)
            add_inc(&accs[w], b[w], b[w + 1], inc);
        accs += wl->count;
    }
}

/* Counts a correction the integrator reported in the period, and says what it did. */
static void note_correction(feed_ctx *fc, const dcm_cpoint *p, const dcm_crow *r,
                            const dcm_increment *inc, double prev)
{
    dcm_compute_stats *st = fc->stats;
    if (inc->correction == DCM_CORR_NONE || r->ts_ns <= fc->stat_from || r->ts_ns > fc->stat_to)
        return;
    if (fc->sink->on_correction)
        fc->sink->on_correction(fc->sink->ctx, p->name, inc);
    if (inc->correction < sizeof st->corrections_by / sizeof st->corrections_by[0])
        st->corrections_by[inc->correction]++;
    if (inc->correction == DCM_CORR_GAP) {
        st->gaps++; /* lowers coverage; not a change to the data */
        return;
    }
    st->corrections++;
    const char *unit = p->unit.canonical;
    switch (inc->correction) {
    case DCM_CORR_RESET:
        dcm__report_line(fc->in, r->line,
                         "point '%s': counter reset (%.10g -> %.10g %s): counted from zero",
                         p->name, prev, r->value, unit);
        break;
    case DCM_CORR_WRAP:
        dcm__report_line(fc->in, r->line, "point '%s': counter wrap (%.10g -> %.10g %s)",
                         p->name, prev, r->value, unit);
        break;
    case DCM_CORR_BACKWARDS:
        dcm__report_line(fc->in, r->line,
                         "point '%s': counter went backwards (%.10g -> %.10g %s), neither a reset nor a wrap: reading ignored",
                         p->name, prev, r->value, unit);
        break;
    default:
        dcm__report_line(fc->in, r->line, "point '%s': reading ignored (%s)", p->name,
                         dcm_correction_name((dcm_correction)inc->correction));
        break;
    }
}

/* Integrates one point's rows [lo, hi) into fc->accs. */
static void feed_point(feed_ctx *fc, const dcm_cpoint *p, size_t lo, size_t hi)
{
    dcm_point_state st;
    dcm_point_state_init(&st);
    for (size_t i = lo; i < hi; i++) {
        const dcm_crow *r = &fc->in->rows[i];
        if (r->dropped)
            continue;
        /* A delta with its own start covers (start, ts]: the time since the previous
         * reading up to the start is a gap, not part of this amount. */
        if (r->start_ns && (st.last_ts_ns == 0 || r->start_ns > st.last_ts_ns))
            st.last_ts_ns = r->start_ns;
        double prev = st.last_value;
        dcm_increment inc;
        bool got = dcm_integrator_feed(&p->def, &st, r->ts_ns, r->value, &inc);
        note_correction(fc, p, r, &inc, prev);
        if (got)
            add_to_windows(fc, &inc);
    }
}

static dcm_compute_err integrate_all(dcm_cinput *in, const dcm_compute_sink *sink,
                                     dcm_compute_stats *stats)
{
    size_t n = 0;
    for (size_t l = 0; l < sink->list_count; l++) {
        if (sink->lists[l].count > SIZE_MAX / sizeof(dcm_point_acc) - n)
            return DCM_COMPUTE_ENOMEM;
        n += sink->lists[l].count;
    }
    dcm_point_acc *accs = calloc(n ? n : 1, sizeof *accs);
    if (!accs)
        return DCM_COMPUTE_ENOMEM;
    const dcm_window_list *period = &sink->lists[0];
    feed_ctx fc = {
        .in = in,
        .sink = sink,
        .accs = accs,
        .stat_from = period->bounds[0],
        .stat_to = period->bounds[period->count],
        .stats = stats,
    };
    size_t i = 0;
    while (i < in->nrows) {
        size_t j = i;
        while (j < in->nrows && in->rows[j].point == in->rows[i].point)
            j++;
        const dcm_cpoint *p = &in->points[in->rows[i].point];
        if (p->used) {
            memset(accs, 0, n * sizeof *accs);
            feed_point(&fc, p, i, j);
            sink->on_point(sink->ctx, p->name, p->unit.canonical, &p->def, accs);
        }
        i = j;
    }
    free(accs);
    return DCM_COMPUTE_OK;
}

/* Reads and cleans the input; the caller frees in. */
static dcm_compute_err read_input(dcm_cinput *in, const dcm_compute_request *req,
                                  dcm_compute_stats *stats)
{
    memset(in, 0, sizeof *in);
    in->stats = stats;
    dcm_compute_err err = dcm__cinput_read(in, req);
    if (err == DCM_COMPUTE_OK)
        err = dcm__cinput_clean(in);
    return err;
}

static void finish_messages(dcm_cinput *in, const dcm_compute_stats *stats)
{
    if (in->msg && stats->messages_suppressed)
        dcm__report(in, "... %zu more line messages not shown", stats->messages_suppressed);
}

dcm_compute_err dcm_compute_points(const dcm_compute_request *req, const dcm_compute_sink *sink,
                                   dcm_compute_stats *stats)
{
    dcm_cinput in;
    memset(stats, 0, sizeof *stats);
    if (!sink || !sink->on_point || sink->list_count == 0 || !sink->lists ||
        sink->lists[0].count == 0)
        return DCM_COMPUTE_EPERIOD;
    dcm_compute_err err = read_input(&in, req, stats);
    if (err == DCM_COMPUTE_OK)
        err = integrate_all(&in, sink, stats);
    if (err == DCM_COMPUTE_OK)
        finish_messages(&in, stats);
    dcm__cinput_free(&in);
    return err;
}

/* ------------------------------------------------------------------ the run */

/* Folds a point's sums into the result's windows: accs[0] the period, then the months. */
static void fold_point(void *ctx, const char *point_id, const char *unit,
                       const dcm_point_def *def, const dcm_point_acc *accs)
{
    (void)unit;
    dcm_compute_result *res = ctx;
    dcm_totals_fold_point(&res->period.totals, def, &accs[0]);
    for (size_t m = 0; m < res->month_count; m++)
        dcm_totals_fold_point(&res->months[m].totals, def, &accs[1 + m]);
    if (!def->attribute || def->quantity != DCM_QTY_ENERGY || res->attr_oom)
        return;
    if (!dcm_grow((void **)&res->attr, &res->attr_cap, res->attr_count + 1, sizeof *res->attr,
                  8)) {
        res->attr_oom = true;
        return;
    }
    dcm_compute_attr *a = &res->attr[res->attr_count];
    a->point = strdup(point_id);
    a->accs = malloc((1 + res->month_count) * sizeof *a->accs);
    if (!a->point || !a->accs) {
        free(a->point);
        free(a->accs);
        res->attr_oom = true;
        return;
    }
    memcpy(a->accs, accs, (1 + res->month_count) * sizeof *a->accs);
    res->attr_count++;
}

dcm_attribution *dcm_compute_attribution(const dcm_compute_result *r, size_t index)
{
    if (!r->attr_count || index > r->month_count)
        return NULL;
    const dcm_compute_window *w = index == 0 ? &r->period : &r->months[index - 1];
    dcm_attribution *out = calloc(r->attr_count, sizeof *out);
    if (!out)
        return NULL;
    double window_s = (double)(w->end_ns - w->start_ns) / 1e9;
    for (size_t i = 0; i < r->attr_count; i++) {
        const dcm_point_acc *acc = &r->attr[i].accs[index];
        double cov = window_s > 0 ? acc->covered_s / window_s : 0.0;
        dcm_attribute((uint32_t)i, acc->amount, cov, r->params.coverage_ok, &w->kpi, &out[i]);
    }
    return out;
}

dcm_compute_err dcm_compute_run(const dcm_compute_request *req, dcm_compute_result *out)
{
    dcm_cinput in;
    dcm_instrument_period *ip = NULL;
    int64_t *months = NULL;
    size_t nip = 0;
    dcm_diags diags;
    memset(out, 0, sizeof *out);
    dcm_diags_init(&diags);

    dcm_compute_err err = read_input(&in, req, &out->stats);
    if (err)
        goto fail;
    int64_t from, to;
    err = choose_period(&in, req, &from, &to);
    if (err)
        goto fail;
    size_t count = 0;
    dcm_kpi_window_err werr = dcm_kpi_window_bounds(req->calendar, DCM_WINDOW_MONTH, from, to,
                                                    DCM_COMPUTE_MAX_MONTHS, &months, &count);
    if (werr) {
        err = werr == DCM_KPI_WINDOW_ELIMIT ? DCM_COMPUTE_EPERIOD : DCM_COMPUTE_ENOMEM;
        goto fail;
    }
    out->months = calloc(count ? count : 1, sizeof *out->months);
    if (!out->months) {
        err = DCM_COMPUTE_ENOMEM;
        goto fail;
    }
    out->month_count = count;
    size_t zones = req->site->zone_count;
    dcm_kpi_window_init(&out->period, from, to, zones);
    for (size_t m = 0; m < count; m++)
        dcm_kpi_window_init(&out->months[m], months[m], months[m + 1], zones);

    const int64_t period_bounds[2] = {from, to};
    const dcm_window_list lists[2] = {{period_bounds, 1}, {months, count}};
    const dcm_compute_sink sink = {.lists = lists, .list_count = 2, .on_point = fold_point,
                                   .ctx = out};
    err = integrate_all(&in, &sink, &out->stats);
    if (!err && out->attr_oom)
        err = DCM_COMPUTE_ENOMEM;
    if (err)
        goto fail;

    if (!dcm_site_instruments(req->site, req->calendar, &ip, &nip, &diags)) {
        err = DCM_COMPUTE_ENOMEM;
        goto fail;
    }
    if (req->messages)
        dcm_diags_print(&diags, req->messages);
    dcm_site_kpi_params(req->site, &out->params);
    dcm_kpi_window_finish(&out->period, ip, nip, &out->params);
    for (size_t m = 0; m < out->month_count; m++)
        dcm_kpi_window_finish(&out->months[m], ip, nip, &out->params);
    finish_messages(&in, &out->stats);
fail:
    if (err)
        dcm_compute_result_free(out);
    free(months);
    free(ip);
    dcm_diags_free(&diags);
    dcm__cinput_free(&in);
    return err;
}

void dcm_compute_result_free(dcm_compute_result *r)
{
    if (!r)
        return;
    free(r->months);
    r->months = NULL;
    r->month_count = 0;
    for (size_t i = 0; i < r->attr_count; i++) {
        free(r->attr[i].point);
        free(r->attr[i].accs);
    }
    free(r->attr);
    r->attr = NULL;
    r->attr_count = r->attr_cap = 0;
}

void dcm_compute_print_summary(const dcm_compute_stats *s, const char *input_name, FILE *out)
{
    fprintf(out, "%s: %llu rows read, %llu used, %llu skipped", input_name ? input_name : "input",
            (unsigned long long)s->rows_read, (unsigned long long)s->rows_used,
            (unsigned long long)s->rows_skipped);
    if (s->rows_skipped) {
        const char *sep = " (";
        for (int r = 0; r < DCM_SKIP_COUNT; r++) {
            if (!s->skipped[r])
                continue;
            fprintf(out, "%s%s: %llu", sep, dcm_skip_reason_name((dcm_skip_reason)r),
                    (unsigned long long)s->skipped[r]);
            sep = ", ";
        }
        fputc(')', out);
    }
    if (s->unknown_points)
        fprintf(out, "; %llu more for %zu point%s that no role selects",
                (unsigned long long)s->unknown_rows, s->unknown_points,
                s->unknown_points == 1 ? "" : "s");
    fprintf(out, "\n%s: %zu point%s used; %llu correction%s", input_name ? input_name : "input",
            s->points, s->points == 1 ? "" : "s", (unsigned long long)s->corrections,
            s->corrections == 1 ? "" : "s");
    const char *sep = " (";
    for (int c = DCM_CORR_WRAP; c <= DCM_CORR_ORDER; c++) {
        if (c == DCM_CORR_GAP || !s->corrections_by[c])
            continue;
        fprintf(out, "%s%s: %llu", sep, dcm_correction_name((dcm_correction)c),
                (unsigned long long)s->corrections_by[c]);
        sep = ", ";
    }
    if (sep[0] == ',')
        fputc(')', out);
    fprintf(out, "; %llu gap%s longer than max_gap\n", (unsigned long long)s->gaps,
            s->gaps == 1 ? "" : "s");
}
