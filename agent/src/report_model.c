/*
 * report_model.c - `dcmetrics report`: gathering the data.
 *
 * Every point's sums per local day come from the ledger (opened read-only) and from the
 * input CSV (through compute's machinery, which also gives exact monthly and period
 * sums). A point found in both sources is merged month by month: a month only one
 * source has data for comes from that source; a month both have is merged day by day,
 * the ledger's day winning, so that an export of the agent's own data counts nothing
 * twice. report_fold.c then turns the merged sums into KPIs, gaps and checks.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grow.h"
#include "ledger.h"
#include "report_int.h"
#include "site.h"

const char *dcm_report_strerror(dcm_report_err err)
{
    switch (err) {
    case DCM_REPORT_OK:
        return "ok";
    case DCM_REPORT_ENOLEDGER:
        return "no ledger in the state directory (and no --input)";
    case DCM_REPORT_ELEDGER:
        return "the ledger cannot be read";
    case DCM_REPORT_EINPUT:
        return "the input cannot be used";
    case DCM_REPORT_ENODATA:
        return "no data for the period";
    case DCM_REPORT_EPERIOD:
        return "the period is empty or longer than 10 years";
    case DCM_REPORT_ENOMEM:
        return "out of memory";
    }
    return "unknown report error";
}

void dcm__report_detail(dcm_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

static void message(const dcm_report_request *req, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void message(const dcm_report_request *req, const char *fmt, ...)
{
    if (!req->messages)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("dcmetrics report: ", req->messages);
    vfprintf(req->messages, fmt, ap);
    fputc('\n', req->messages);
    va_end(ap);
}

/* ------------------------------------------------------------- meter table */

static uint64_t hash(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static bool rehash(dcm__report_builder *b)
{
    size_t nslots = b->nslots ? b->nslots * 2 : 64;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < b->r->meter_count; i++) {
        size_t s = hash(b->r->meters[i].id) & (nslots - 1);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(b->slots);
    b->slots = slots;
    b->nslots = nslots;
    return true;
}

long dcm__report_find(const dcm__report_builder *b, const char *id)
{
    if (!b->nslots)
        return -1;
    size_t s = hash(id) & (b->nslots - 1);
    while (b->slots[s]) {
        size_t i = b->slots[s] - 1;
        if (strcmp(b->r->meters[i].id, id) == 0)
            return (long)i;
        s = (s + 1) & (b->nslots - 1);
    }
    return -1;
}

#define VOLUME_ROLES (DCM_ROLE_BIT(DCM_ROLE_WATER) | DCM_ROLE_BIT(DCM_ROLE_FRESHWATER))
#define UTIL_ROLES (DCM_ROLE_BIT(DCM_ROLE_SERVERS) | DCM_ROLE_BIT(DCM_ROLE_ACCELERATORS))
#define ENERGY_ROLES (((UINT32_C(1) << DCM_ROLE_COUNT) - 1u) & ~(VOLUME_ROLES | UTIL_ROLES))

/* What the point's roles need: energy (electrical or thermal), volume or utilisation.
 * Returns false when its roles need different kinds of quantity. */
static bool role_needs(const dcm_point_def *def, dcm_quantity *need)
{
    bool energy = (def->roles & ENERGY_ROLES) || def->zone >= 0;
    bool volume = (def->roles & VOLUME_ROLES) != 0, util = (def->roles & UTIL_ROLES) != 0;
    if ((energy ? 1 : 0) + (volume ? 1 : 0) + (util ? 1 : 0) != 1)
        return false;
    *need = energy ? DCM_QTY_ENERGY : volume ? DCM_QTY_VOLUME : DCM_QTY_UTILISATION;
    return true;
}

static bool same_nature(dcm_quantity a, dcm_quantity b)
{
    bool ea = a == DCM_QTY_ENERGY || a == DCM_QTY_THERMAL;
    bool eb = b == DCM_QTY_ENERGY || b == DCM_QTY_THERMAL;
    return ea == eb && (ea || a == b);
}

static long add_meter(dcm__report_builder *b, const char *id, const char *unit, dcm_kind kind,
                      dcm_quantity quantity, unsigned source)
{
    dcm_report *r = b->r;
    if (r->meter_count >= UINT32_MAX - 1 ||
        !dcm_grow((void **)&r->meters, &b->cap_meters, r->meter_count + 1, sizeof *r->meters, 32))
        return -1;
    dcm_report_meter *m = &r->meters[r->meter_count];
    memset(m, 0, sizeof *m);
    m->id = strdup(id);
    m->work = calloc(1, sizeof *m->work);
    if (!m->id || !m->work) {
        free(m->id);
        free(m->work);
        return -1;
    }
    snprintf(m->unit, sizeof m->unit, "%s", unit);
    m->kind = kind;
    m->quantity = quantity;
    bool mapped = dcm_site_map_point(b->site, id, &m->def);
    m->def.kind = kind;
    m->def.quantity = quantity;
    dcm_quantity need = DCM_QTY_OTHER;
    if (!mapped) {
        m->work->dropped = m->work->unmapped = true;
        if (source == DCM_SRC_LEDGER)
            r->unmapped_points++;
    } else if (!role_needs(&m->def, &need) || !same_nature(need, quantity)) {
        m->work->dropped = true;
        if (source == DCM_SRC_LEDGER) {
            r->rejected_points++;
            message(b->req, "ledger point '%s' (%s) does not suit its roles in site.roles: "
                            "left out", id, unit);
        }
    }
    r->meter_count++;
    /* Keep the table at most half full so probes stay short; a rehash enters the new
     * meter with the others. */
    if (r->meter_count * 2 > b->nslots) {
        if (!rehash(b)) {
            r->meter_count--;
            free(m->id);
            free(m->work);
            return -1;
        }
    } else {
        size_t s = hash(id) & (b->nslots - 1);
        while (b->slots[s])
            s = (s + 1) & (b->nslots - 1);
        b->slots[s] = (uint32_t)r->meter_count;
    }
    return (long)(r->meter_count - 1);
}

/* The meter of a point seen in source, or -1 when it is left out (not selected, unfit
 * for its role, or measuring something else in the other source). */
static long meter_for(dcm__report_builder *b, const char *id, const char *unit, dcm_kind kind,
                      dcm_quantity quantity, unsigned source)
{
    long i = dcm__report_find(b, id);
    if (i < 0) {
        i = add_meter(b, id, unit, kind, quantity, source);
        if (i < 0) {
            b->oom = true;
            return -1;
        }
    }
    dcm_report_meter *m = &b->r->meters[i];
    if (m->work->dropped)
        return -1;
    if (!same_nature(m->quantity, quantity)) {
        if (!(m->work->conflict & source)) {
            m->work->conflict |= source;
            message(b->req, "point '%s' measures %s in the %s but %s in the %s: the %s's data "
                            "is left out", id, m->unit,
                    source == DCM_SRC_INPUT ? "ledger" : "input", unit,
                    source == DCM_SRC_INPUT ? "input" : "ledger",
                    source == DCM_SRC_INPUT ? "input" : "ledger");
        }
        return -1;
    }
    return i;
}

/* ------------------------------------------------------------------ ledger */

static void ledger_day(void *ctx, const char *id, const char *unit, dcm_kind kind,
                       dcm_quantity quantity, const dcm_point_acc *sum)
{
    dcm__report_builder *b = ctx;
    if (quantity == DCM_QTY_OTHER || b->oom)
        return;
    long i = meter_for(b, id, unit, kind, quantity, DCM_SRC_LEDGER);
    if (i < 0)
        return;
    dcm__report_work *w = b->r->meters[i].work;
    if (!w->ledger_days) {
        w->ledger_days = calloc(b->nday, sizeof *w->ledger_days);
        if (!w->ledger_days) {
            b->oom = true;
            return;
        }
    }
    dcm_point_acc *d = &w->ledger_days[b->day];
    d->amount += sum->amount;
    d->estimated += sum->estimated;
    d->covered_s += sum->covered_s;
    d->samples += sum->samples;
    d->corrections += sum->corrections;
}

static bool add_correction(dcm__report_builder *b, size_t meter, unsigned source,
                           const dcm_increment *inc)
{
    dcm_report *r = b->r;
    dcm_report_meter *m = &r->meters[meter];
    if (inc->correction < sizeof m->corrections_by / sizeof m->corrections_by[0])
        m->corrections_by[inc->correction]++;
    r->corrections_total++;
    if (r->correction_count >= DCM_REPORT_MAX_CORRECTIONS)
        return true;
    if (!dcm_grow((void **)&r->corrections, &b->cap_corr, r->correction_count + 1,
                  sizeof *r->corrections, 64))
        return false;
    r->corrections[r->correction_count++] =
        (dcm_report_correction){.meter = meter, .source = source, .inc = *inc};
    return true;
}

static void ledger_correction(void *ctx, const char *id, const dcm_increment *inc)
{
    dcm__report_builder *b = ctx;
    long i = dcm__report_find(b, id);
    if (b->oom || i < 0 || b->r->meters[i].work->dropped)
        return;
    if (!add_correction(b, (size_t)i, DCM_SRC_LEDGER, inc))
        b->oom = true;
}

static dcm_report_err read_ledger(dcm__report_builder *b)
{
    const dcm_report_request *req = b->req;
    dcm_report *r = b->r;
    size_t n = strlen(req->state_dir) + sizeof "/ledger.db";
    r->ledger_path = malloc(n);
    if (!r->ledger_path)
        return DCM_REPORT_ENOMEM;
    snprintf(r->ledger_path, n, "%s/ledger.db", req->state_dir);
    struct stat st;
    if (stat(r->ledger_path, &st) != 0) {
        dcm__report_detail(r, "no ledger at %s: the agent has not run with agent.state_dir "
                              "'%s' (or give another with --state-dir)", r->ledger_path,
                           req->state_dir);
        free(r->ledger_path);
        r->ledger_path = NULL;
        if (req->input) {
            message(req, "%s; the report uses --input alone", r->detail);
            r->detail[0] = '\0';
            return DCM_REPORT_OK;
        }
        return DCM_REPORT_ENOLEDGER;
    }
    dcm_ledger_options opt = {.read_only = true, .calendar = req->calendar};
    dcm_ledger *l = NULL;
    dcm_ledger_err lerr = dcm_ledger_open(req->state_dir, &opt, &l);
    if (lerr != DCM_LEDGER_OK) {
        dcm__report_detail(r, "%s: %s (%s)", r->ledger_path, dcm_ledger_strerror(lerr),
                           dcm_ledger_errmsg(NULL));
        return lerr == DCM_LEDGER_ENOMEM ? DCM_REPORT_ENOMEM : DCM_REPORT_ELEDGER;
    }
    for (b->day = 0; b->day < b->nday && lerr == DCM_LEDGER_OK && !b->oom; b->day++)
        lerr = dcm_ledger_sum(l, b->days[b->day], b->days[b->day + 1], ledger_day, b);
    if (lerr == DCM_LEDGER_OK && !b->oom)
        lerr = dcm_ledger_corrections(l, b->days[0], b->days[b->nday], ledger_correction, b);
    if (lerr != DCM_LEDGER_OK)
        dcm__report_detail(r, "%s: %s (%s)", r->ledger_path, dcm_ledger_strerror(lerr),
                           dcm_ledger_errmsg(l));
    dcm_ledger_close(l);
    if (b->oom || lerr == DCM_LEDGER_ENOMEM)
        return DCM_REPORT_ENOMEM;
    return lerr == DCM_LEDGER_OK ? DCM_REPORT_OK : DCM_REPORT_ELEDGER;
}

/* ------------------------------------------------------------------- input */

static void input_point(void *ctx, const char *id, const char *unit, const dcm_point_def *def,
                        const dcm_point_acc *accs)
{
    dcm__report_builder *b = ctx;
    if (b->oom)
        return;
    long i = meter_for(b, id, unit, def->kind, def->quantity, DCM_SRC_INPUT);
    if (i < 0)
        return;
    dcm__report_work *w = b->r->meters[i].work;
    w->input_months = malloc(b->nmonth * sizeof *w->input_months);
    w->input_days = malloc(b->nday * sizeof *w->input_days);
    if (!w->input_months || !w->input_days) {
        free(w->input_months);
        free(w->input_days);
        w->input_months = w->input_days = NULL;
        b->oom = true;
        return;
    }
    w->input_period = accs[0];
    memcpy(w->input_months, accs + 1, b->nmonth * sizeof *accs);
    memcpy(w->input_days, accs + 1 + b->nmonth, b->nday * sizeof *accs);
}

static void input_correction(void *ctx, const char *id, const dcm_increment *inc)
{
    dcm__report_builder *b = ctx;
    if (b->oom)
        return;
    /* The point's meter may not exist yet: corrections come while its series is read. */
    if (!dcm_grow((void **)&b->pending, &b->cap_pending, b->npending + 1, sizeof *b->pending,
                  16)) {
        b->oom = true;
        return;
    }
    char *copy = strdup(id);
    if (!copy) {
        b->oom = true;
        return;
    }
    b->pending[b->npending++] = (dcm__report_pending){.point = copy, .inc = *inc};
}

static dcm_report_err read_input(dcm__report_builder *b)
{
    const dcm_report_request *req = b->req;
    dcm_report *r = b->r;
    const int64_t period[2] = {req->from_ns, req->to_ns};
    const dcm_window_list lists[3] = {{period, 1}, {b->months, b->nmonth}, {b->days, b->nday}};
    dcm_compute_request creq = {
        .site = b->site,
        .calendar = req->calendar,
        .input = req->input,
        .input_name = req->input_name,
        .messages = req->messages,
    };
    dcm_compute_sink sink = {.lists = lists, .list_count = 3, .on_point = input_point,
                             .on_correction = input_correction, .ctx = b};
    dcm_compute_err err = dcm_compute_points(&creq, &sink, &r->input_stats);
    r->input_used = true;
    if (req->messages)
        dcm_compute_print_summary(&r->input_stats, req->input_name, req->messages);
    if (err == DCM_COMPUTE_ENOMEM || b->oom)
        return DCM_REPORT_ENOMEM;
    if (err) {
        dcm__report_detail(r, "%s: %s", req->input_name ? req->input_name : "input",
                           dcm_compute_strerror(err));
        return DCM_REPORT_EINPUT;
    }
    for (size_t i = 0; i < b->npending; i++) {
        long m = dcm__report_find(b, b->pending[i].point);
        if (m >= 0 && !r->meters[m].work->dropped &&
            !add_correction(b, (size_t)m, DCM_SRC_INPUT, &b->pending[i].inc))
            return DCM_REPORT_ENOMEM;
    }
    return DCM_REPORT_OK;
}

/* ------------------------------------------------------------------- build */

/* The period's name and kind. */
static void describe_period(const dcm_report_request *req, dcm_report *r)
{
    const dcm_calendar *cal = req->calendar;
    const char *p = req->period_label;
    int64_t year = dcm_calendar_floor(cal, DCM_WINDOW_YEAR, req->from_ns);
    r->calendar_year = year == req->from_ns &&
                       dcm_calendar_next(cal, DCM_WINDOW_YEAR, year) == req->to_ns;
    if (p && !strchr(p, '/')) {
        size_t n = strlen(p);
        r->period_kind = n == 4 ? "year" : n == 10 ? "day" : strchr(p, 'Q') ? "quarter" : "month";
        snprintf(r->label, sizeof r->label, "%s", p);
        return;
    }
    r->period_kind = r->calendar_year ? "year" : "custom";
    char a[32], z[32];
    dcm_report_local_time(r, req->from_ns, a, sizeof a);
    dcm_report_local_time(r, req->to_ns, z, sizeof z);
    if (r->calendar_year)
        snprintf(r->label, sizeof r->label, "%.4s", a);
    else
        snprintf(r->label, sizeof r->label, "%s to %s", a, z);
}

static dcm_report_err make_windows(dcm__report_builder *b)
{
    const dcm_report_request *req = b->req;
    dcm_kpi_window_err e = dcm_kpi_window_bounds(req->calendar, DCM_WINDOW_MONTH, req->from_ns,
                                                 req->to_ns, DCM_REPORT_MAX_MONTHS, &b->months,
                                                 &b->nmonth);
    if (e == DCM_KPI_WINDOW_OK)
        e = dcm_kpi_window_bounds(req->calendar, DCM_WINDOW_1D, req->from_ns, req->to_ns,
                                  (DCM_REPORT_MAX_MONTHS + 1) * 31, &b->days, &b->nday);
    if (e == DCM_KPI_WINDOW_ENOMEM)
        return DCM_REPORT_ENOMEM;
    if (e != DCM_KPI_WINDOW_OK) {
        dcm__report_detail(b->r, "the period is longer than %d years", DCM_REPORT_MAX_MONTHS / 12);
        return DCM_REPORT_EPERIOD;
    }
    /* Month boundaries are local midnights, so every month is a run of whole days. */
    b->first_day = malloc((b->nmonth + 1) * sizeof *b->first_day);
    if (!b->first_day)
        return DCM_REPORT_ENOMEM;
    size_t d = 0;
    for (size_t m = 0; m <= b->nmonth; m++) {
        while (d < b->nday && b->days[d] < b->months[m])
            d++;
        b->first_day[m] = d;
    }
    return DCM_REPORT_OK;
}

static void free_builder(dcm__report_builder *b)
{
    for (size_t i = 0; i < b->npending; i++)
        free(b->pending[i].point);
    free(b->pending);
    free(b->slots);
    free(b->days);
    free(b->months);
    free(b->first_day);
}

dcm_report_err dcm_report_build(const dcm_report_request *req, dcm_report *out)
{
    dcm__report_builder b;
    memset(out, 0, sizeof *out);
    memset(&b, 0, sizeof b);
    b.r = out;
    b.req = req;
    b.site = &req->config->site;
    out->config = req->config;
    out->calendar = req->calendar;
    out->generated_ns = req->now_ns;
    out->input_name = req->input_name;
    dcm_report_err err = DCM_REPORT_OK;
    if (req->to_ns <= req->from_ns) {
        dcm__report_detail(out, "the period is empty");
        err = DCM_REPORT_EPERIOD;
        goto fail;
    }
    describe_period(req, out);
    err = make_windows(&b);
    if (err)
        goto fail;
    if (!req->state_dir && !req->input) {
        dcm__report_detail(out, "no source: neither a ledger nor --input");
        err = DCM_REPORT_ENOLEDGER;
        goto fail;
    }
    if (req->input && (err = read_input(&b)))
        goto fail;
    if (req->state_dir && (err = read_ledger(&b)))
        goto fail;
    err = dcm__report_fold(&b);
fail:
    free_builder(&b);
    if (err) {
        char detail[sizeof out->detail];
        memcpy(detail, out->detail, sizeof detail);
        dcm_report_free(out);
        memcpy(out->detail, detail, sizeof detail);
    }
    return err;
}

void dcm__report_free_work(dcm_report_meter *m)
{
    if (!m->work)
        return;
    free(m->work->ledger_days);
    free(m->work->input_days);
    free(m->work->input_months);
    free(m->work->months);
    free(m->work->day_covered);
    free(m->work);
    m->work = NULL;
}

void dcm_report_free(dcm_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->meter_count; i++) {
        dcm__report_free_work(&r->meters[i]);
        free(r->meters[i].id);
    }
    free(r->meters);
    for (size_t i = 0; i < r->reason_count; i++)
        free(r->reasons[i]);
    free(r->reasons);
    free(r->months);
    free(r->corrections);
    free(r->gaps);
    free(r->instruments);
    free(r->ledger_path);
    free(r->checks);
    memset(r, 0, sizeof *r);
}
