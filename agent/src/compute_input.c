/* `dcmetrics compute`, first half: CSV rows -> checked, per-point, time-ordered series. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compute_int.h"
#include "csv.h"
#include "readings.h"
#include "site.h"
#include "grow.h"

#define DEFAULT_MAX_MESSAGES 20

/* handle_row() turns a row problem into a skip reason by value. */
_Static_assert((int)DCM_ROW_FIELDS == (int)DCM_SKIP_FIELDS && (int)DCM_ROW_UNIT_KIND == (int)DCM_SKIP_UNIT_KIND &&
                   (int)DCM_ROW_TIMESTAMP == (int)DCM_SKIP_TIMESTAMP,
               "row problems and skip reasons must line up");

#define VOLUME_ROLES (DCM_ROLE_BIT(DCM_ROLE_WATER) | DCM_ROLE_BIT(DCM_ROLE_FRESHWATER))
#define UTIL_ROLES (DCM_ROLE_BIT(DCM_ROLE_SERVERS) | DCM_ROLE_BIT(DCM_ROLE_ACCELERATORS))
#define ENERGY_ROLES (((UINT32_C(1) << DCM_ROLE_COUNT) - 1u) & ~(VOLUME_ROLES | UTIL_ROLES))

void dcm__report_line(dcm_cinput *in, unsigned long line, const char *fmt, ...)
{
    if (!in->msg)
        return;
    if (in->stats->messages_shown >= in->max_msgs) {
        in->stats->messages_suppressed++;
        return;
    }
    in->stats->messages_shown++;
    va_list ap;
    va_start(ap, fmt);
    fprintf(in->msg, "%s:%lu: ", in->name, line);
    vfprintf(in->msg, fmt, ap);
    fputc('\n', in->msg);
    va_end(ap);
}

void dcm__report(dcm_cinput *in, const char *fmt, ...)
{
    if (!in->msg)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(in->msg, "%s: ", in->name);
    vfprintf(in->msg, fmt, ap);
    fputc('\n', in->msg);
    va_end(ap);
}

static void skip(dcm_cinput *in, dcm_skip_reason r)
{
    in->stats->skipped[r]++;
    in->stats->rows_skipped++;
}

/* --------------------------------------------------------------- point table */

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= UINT64_C(1099511628211);
    }
    return h;
}

static bool rehash(dcm_cinput *in)
{
    size_t nslots = in->nslots ? in->nslots * 2 : 64;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return false;
    for (size_t i = 0; i < in->npoints; i++) {
        const char *name = in->points[i].name;
        size_t s = hash(name, strlen(name)) & (nslots - 1);
        while (slots[s])
            s = (s + 1) & (nslots - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(in->slots);
    in->slots = slots;
    in->nslots = nslots;
    return true;
}

/* The index of a point, or -1 when it is not in the table yet (*slot: where it goes). */
static long find_point(const dcm_cinput *in, const char *name, size_t n, size_t *slot)
{
    size_t s = hash(name, n) & (in->nslots - 1);
    while (in->slots[s]) {
        const dcm_cpoint *p = &in->points[in->slots[s] - 1];
        if (strncmp(p->name, name, n) == 0 && p->name[n] == '\0')
            return (long)(in->slots[s] - 1);
        s = (s + 1) & (in->nslots - 1);
    }
    *slot = s;
    return -1;
}

static const char *quantity_words(dcm_quantity q)
{
    switch (q) {
    case DCM_QTY_ENERGY:
    case DCM_QTY_THERMAL:
        return "energy (Wh, kWh, MWh, J... or W, kW, MW)";
    case DCM_QTY_VOLUME:
        return "water (L, m3 or m3/h, L/s)";
    case DCM_QTY_UTILISATION:
        return "utilisation (%)";
    case DCM_QTY_OTHER:
        break;
    }
    return "a value that is never summed";
}

/* Name of the first role in bits (or "zone" for a zone-only point), for messages. */
static const char *first_role(uint32_t bits, const dcm_point_def *def)
{
    for (int r = 0; r < DCM_ROLE_COUNT; r++)
        if (bits & DCM_ROLE_BIT(r))
            return dcm_role_name((dcm_role)r);
    return def->zone >= 0 ? "zone" : "?";
}

/* Decides from its first row whether a mapped point's unit suits its roles, and sets
 * the integration parameters. */
static void settle_point(dcm_cinput *in, dcm_cpoint *p, const dcm_reading *rd,
                         const dcm_site_config *site)
{
    p->unit = rd->unit;
    p->kind = rd->kind;
    uint32_t roles = p->def.roles;
    uint32_t energy = roles & ENERGY_ROLES, volume = roles & VOLUME_ROLES, util = roles & UTIL_ROLES;
    bool need_energy = energy || p->def.zone >= 0;
    int classes = (need_energy ? 1 : 0) + (volume ? 1 : 0) + (util ? 1 : 0);
    dcm_quantity need = need_energy ? DCM_QTY_ENERGY : volume ? DCM_QTY_VOLUME : DCM_QTY_UTILISATION;
    if (classes > 1) {
        p->rejected = true;
        dcm__report(in, "point '%s' (line %lu) is selected by roles of different kinds ('%s' and '%s'): its rows are skipped",
                    p->name, p->first_line,
                    first_role(need_energy ? energy : volume, &p->def),
                    first_role(util ? util : volume, &p->def));
        return;
    }
    if (rd->unit.quantity != need) {
        p->rejected = true;
        dcm__report(in, "point '%s' (line %lu) has unit '%s', but role '%s' needs %s: its rows are skipped",
                    p->name, p->first_line, rd->unit.name,
                    first_role(energy | volume | util, &p->def), quantity_words(need));
        return;
    }
    p->def.quantity = rd->unit.quantity;
    if (p->def.quantity == DCM_QTY_ENERGY && (roles & DCM_ROLE_BIT(DCM_ROLE_COOLING_OUTPUT)))
        p->def.quantity = DCM_QTY_THERMAL;
    p->def.kind = rd->kind;
    p->def.max_gap_ns = site->max_gap_ns;
    /* Offline counters are read as floats: no register width is known, so a drop is
     * told apart as a reset or ignored, never taken for a wrap. */
    p->def.wrap_modulus = 0.0;
    p->def.max_rate = 0.0;
    p->def.nominal_interval_ns = 0;
}

static long add_point(dcm_cinput *in, const dcm_reading *rd, unsigned long line,
                      const dcm_site_config *site, size_t slot)
{
    if (in->npoints >= UINT32_MAX - 1)
        return -1;
    if (!dcm_grow((void **)&in->points, &in->cap_points, in->npoints + 1, sizeof *in->points, 16))
        return -1;
    dcm_cpoint *p = &in->points[in->npoints];
    memset(p, 0, sizeof *p);
    p->name = malloc(rd->point_len + 1);
    if (!p->name)
        return -1;
    memcpy(p->name, rd->point, rd->point_len);
    p->name[rd->point_len] = '\0';
    p->first_line = line;
    p->mapped = dcm_site_map_point(site, p->name, &p->def);
    in->slots[slot] = (uint32_t)(in->npoints + 1);
    in->npoints++;
    if (p->mapped)
        settle_point(in, p, rd, site);
    /* Keep the table at most half full so probes stay short. */
    if (in->npoints * 2 > in->nslots && !rehash(in))
        return -1;
    return (long)(in->npoints - 1);
}

/* ------------------------------------------------------------------ rows */

static bool add_row(dcm_cinput *in, const dcm_reading *rd, uint32_t point, unsigned long line)
{
    if (!dcm_grow((void **)&in->rows, &in->cap_rows, in->nrows + 1, sizeof *in->rows, 1024))
        return false;
    in->rows[in->nrows++] = (dcm_crow){
        .ts_ns = rd->ts_ns,
        .start_ns = rd->start_ns,
        .value = rd->canonical,
        .point = point,
        .dropped = false,
        .line = line,
    };
    return true;
}

/* The checks that need the point's earlier rows: same nature of unit and kind. */
static bool series_fits(dcm_cinput *in, dcm_cpoint *p, const dcm_reading *rd, unsigned long line)
{
    if (rd->kind != p->kind) {
        dcm__report_line(in, line, "point '%s' changes kind from %s (line %lu) to %s: row skipped",
                         p->name, dcm_kind_name(p->kind), p->first_line, dcm_kind_name(rd->kind));
        skip(in, DCM_SKIP_UNIT_CHANGE);
        return false;
    }
    if (!dcm_unit_compatible(&p->unit, &rd->unit)) {
        dcm__report_line(in, line,
                         "point '%s' changes unit from '%s' (line %lu) to '%s', which measures something else: row skipped",
                         p->name, p->unit.name, p->first_line, rd->unit.name);
        skip(in, DCM_SKIP_UNIT_CHANGE);
        return false;
    }
    if (strcmp(p->unit.name, rd->unit.name) != 0 && !p->unit_change_noted) {
        p->unit_change_noted = true;
        dcm__report(in, "note: point '%s' changes unit from '%s' (line %lu) to '%s' at line %lu; values are converted to %s",
                    p->name, p->unit.name, p->first_line, rd->unit.name, line, rd->unit.canonical);
    }
    return true;
}

static dcm_compute_err handle_row(dcm_cinput *in, const dcm_reading_columns *cols,
                                  const dcm_csv_record *rec, const dcm_site_config *site)
{
    dcm_reading rd;
    char why[256];
    dcm_row_problem prob = dcm_reading_parse(cols, rec, &rd, why, sizeof why);
    if (prob != DCM_ROW_OK) {
        dcm__report_line(in, rec->line, "%s: row skipped", why);
        skip(in, (dcm_skip_reason)prob); /* DCM_ROW_x and DCM_SKIP_x share their values */
        return DCM_COMPUTE_OK;
    }
    size_t slot = 0;
    long idx = find_point(in, rd.point, rd.point_len, &slot);
    bool fresh = idx < 0;
    if (fresh) {
        idx = add_point(in, &rd, rec->line, site, slot);
        if (idx < 0)
            return DCM_COMPUTE_ENOMEM;
    }
    dcm_cpoint *p = &in->points[idx];
    p->rows++;
    if (!p->mapped) {
        in->stats->unknown_rows++;
        return DCM_COMPUTE_OK;
    }
    if (p->rejected) {
        skip(in, DCM_SKIP_ROLE_UNIT);
        return DCM_COMPUTE_OK;
    }
    if (!fresh && !series_fits(in, p, &rd, rec->line))
        return DCM_COMPUTE_OK;
    if (!fresh && rd.ts_ns < p->last_file_ts) {
        if (p->out_of_order++ == 0)
            p->first_out_of_order_line = rec->line;
        in->stats->out_of_order++;
    }
    p->last_file_ts = rd.ts_ns;
    return add_row(in, &rd, (uint32_t)idx, rec->line) ? DCM_COMPUTE_OK : DCM_COMPUTE_ENOMEM;
}

static void report_points(dcm_cinput *in)
{
    size_t listed = 0;
    for (size_t i = 0; i < in->npoints; i++) {
        const dcm_cpoint *p = &in->points[i];
        if (!p->mapped) {
            in->stats->unknown_points++;
            if (listed++ < DEFAULT_MAX_MESSAGES)
                dcm__report(in, "point '%s' is not selected by any role or zone: %llu row%s not used",
                            p->name, (unsigned long long)p->rows, p->rows == 1 ? "" : "s");
        }
        if (p->out_of_order)
            dcm__report(in, "point '%s': %llu row%s earlier than the row before (first at line %lu): series sorted by time",
                        p->name, (unsigned long long)p->out_of_order,
                        p->out_of_order == 1 ? " is" : "s are", p->first_out_of_order_line);
    }
    if (listed > DEFAULT_MAX_MESSAGES)
        dcm__report(in, "... and %zu more points not selected by any role or zone",
                    listed - DEFAULT_MAX_MESSAGES);
}

dcm_compute_err dcm__cinput_read(dcm_cinput *in, const dcm_compute_request *req)
{
    dcm_csv_reader *r = NULL;
    dcm_compute_err ret = DCM_COMPUTE_OK;
    in->msg = req->messages;
    in->name = req->input_name ? req->input_name : "input";
    in->max_msgs = req->max_line_messages ? req->max_line_messages : DEFAULT_MAX_MESSAGES;
    if (!rehash(in))
        return DCM_COMPUTE_ENOMEM;
    dcm_csv_err cerr = dcm_csv_reader_create_file(req->input, &r);
    if (cerr) {
        ret = cerr == DCM_CSV_ENOMEM ? DCM_COMPUTE_ENOMEM : DCM_COMPUTE_EIO;
        goto fail;
    }
    dcm_reading_columns cols;
    bool have_header = false;
    for (;;) {
        dcm_csv_record rec;
        cerr = dcm_csv_next(r, &rec);
        if (cerr == DCM_CSV_EOF)
            break;
        if (cerr == DCM_CSV_EIO || cerr == DCM_CSV_ENOMEM) {
            ret = cerr == DCM_CSV_EIO ? DCM_COMPUTE_EIO : DCM_COMPUTE_ENOMEM;
            goto fail;
        }
        if (cerr != DCM_CSV_OK) {
            if (!have_header) {
                dcm__report(in, "line %lu: the header is malformed: %s", dcm_csv_error_line(r),
                            dcm_csv_error_detail(r));
                ret = DCM_COMPUTE_EHEADER;
                goto fail;
            }
            in->stats->rows_read++;
            dcm__report_line(in, dcm_csv_error_line(r), "%s: row skipped", dcm_csv_error_detail(r));
            skip(in, DCM_SKIP_CSV);
            continue;
        }
        if (dcm_reading_is_blank(&rec))
            continue;
        if (!have_header) {
            char why[160];
            if (!dcm_reading_header(&rec, &cols, why, sizeof why)) {
                dcm__report(in, "line %lu: %s", rec.line, why);
                ret = DCM_COMPUTE_EHEADER;
                goto fail;
            }
            have_header = true;
            continue;
        }
        in->stats->rows_read++;
        ret = handle_row(in, &cols, &rec, req->site);
        if (ret)
            goto fail;
    }
    if (!have_header) {
        dcm__report(in, "no header line: the input is empty");
        ret = DCM_COMPUTE_EHEADER;
        goto fail;
    }
    report_points(in);
fail:
    dcm_csv_reader_destroy(r);
    return ret;
}

/* ------------------------------------------------------------ series checks */

static int row_cmp(const void *a, const void *b)
{
    const dcm_crow *x = a, *y = b;
    if (x->point != y->point)
        return x->point < y->point ? -1 : 1;
    if (x->ts_ns != y->ts_ns)
        return x->ts_ns < y->ts_ns ? -1 : 1;
    /* The line number breaks ties: equal timestamps keep the file's order. */
    return (x->line > y->line) - (x->line < y->line);
}

static bool same_value(double a, double b)
{
    double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
    return fabs(a - b) <= 1e-12 * scale;
}

/* Rows [lo, hi) of one point share a timestamp: keep one copy of identical readings,
 * drop them all when they disagree (which one is right cannot be known). */
static void settle_same_time(dcm_cinput *in, size_t lo, size_t hi)
{
    dcm_crow *first = &in->rows[lo];
    bool agree = true;
    for (size_t i = lo + 1; i < hi; i++)
        if (!same_value(in->rows[i].value, first->value) || in->rows[i].start_ns != first->start_ns)
            agree = false;
    const char *name = in->points[first->point].name;
    for (size_t i = lo + 1; i < hi; i++) {
        dcm_crow *r = &in->rows[i];
        r->dropped = true;
        if (agree) {
            skip(in, DCM_SKIP_DUPLICATE);
        } else {
            dcm__report_line(in, r->line,
                             "point '%s': reading conflicts with line %lu (same time, value %.10g vs %.10g): both dropped",
                             name, first->line, r->value, first->value);
            skip(in, DCM_SKIP_CONFLICT);
        }
    }
    if (!agree) {
        first->dropped = true;
        skip(in, DCM_SKIP_CONFLICT);
    }
}

dcm_compute_err dcm__cinput_clean(dcm_cinput *in)
{
    if (in->nrows > 1)
        qsort(in->rows, in->nrows, sizeof *in->rows, row_cmp);
    size_t i = 0;
    while (i < in->nrows) {
        size_t j = i + 1;
        while (j < in->nrows && in->rows[j].point == in->rows[i].point &&
               in->rows[j].ts_ns == in->rows[i].ts_ns)
            j++;
        if (j - i > 1)
            settle_same_time(in, i, j);
        i = j;
    }
    /* A delta's own start must not reach back into the interval already accounted for
     * by the point's previous reading: that energy would be counted twice. */
    int64_t prev_ts = 0;
    uint32_t prev_point = UINT32_MAX;
    for (i = 0; i < in->nrows; i++) {
        dcm_crow *r = &in->rows[i];
        if (r->point != prev_point) {
            prev_point = r->point;
            prev_ts = 0;
        }
        if (r->dropped)
            continue;
        if (r->start_ns && prev_ts && r->start_ns < prev_ts) {
            dcm__report_line(in, r->line,
                             "point '%s': the delta's start lies before the previous reading of the point: row skipped (overlap)",
                             in->points[r->point].name);
            r->dropped = true;
            skip(in, DCM_SKIP_OVERLAP);
            continue;
        }
        prev_ts = r->ts_ns;
        in->points[r->point].used++;
        in->stats->rows_used++;
    }
    for (i = 0; i < in->npoints; i++)
        if (in->points[i].used)
            in->stats->points++;
    return DCM_COMPUTE_OK;
}

void dcm__cinput_free(dcm_cinput *in)
{
    for (size_t i = 0; i < in->npoints; i++)
        free(in->points[i].name);
    free(in->points);
    free(in->slots);
    free(in->rows);
    memset(in, 0, sizeof *in);
}
