/*
 * live_table.c - the compact refreshing KPI table the demo (and `run --table`) prints:
 * one column per window, one row per KPI, each value marked with its quality so nobody
 * reads a partial or stale number as a good one.
 */
#include "live_table.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define COLS 7

typedef struct column {
    const char *title;
    dcm_window window;
    bool interim; /* the open window (so far) rather than the last closed one */
} column;

static const column columns[COLS] = {
    {"now", DCM_WINDOW_INSTANT, true}, {"1 min", DCM_WINDOW_1M, false},
    {"15 min", DCM_WINDOW_15M, false}, {"1 h", DCM_WINDOW_1H, false},
    {"today*", DCM_WINDOW_1D, true},   {"month*", DCM_WINDOW_MONTH, true},
    {"year*", DCM_WINDOW_YEAR, true},
};

/* Quality marks: none = ok, '~' partial, '!' stale; null prints as "-". */
static void cell(char *buf, size_t size, const dcm_opt *v, int decimals, double scale)
{
    if (!v->has_value) {
        snprintf(buf, size, "-");
        return;
    }
    const char *mark = v->quality == DCM_QUALITY_OK        ? ""
                       : v->quality == DCM_QUALITY_PARTIAL ? "~"
                       : v->quality == DCM_QUALITY_STALE   ? "!"
                                                           : "?";
    double x = v->value * scale;
    if (fabs(x) >= 1e7)
        snprintf(buf, size, "%.3g%s", x, mark);
    else
        snprintf(buf, size, "%.*f%s", decimals, x, mark);
}

typedef const dcm_opt *(*kpi_getter)(const dcm_kpi_set *k, size_t zone);

static const dcm_opt *get_pue(const dcm_kpi_set *k, size_t z) { (void)z; return &k->pue; }
static const dcm_opt *get_ppue(const dcm_kpi_set *k, size_t z) { return &k->ppue[z]; }
static const dcm_opt *get_wue(const dcm_kpi_set *k, size_t z) { (void)z; return &k->wue; }
static const dcm_opt *get_wuef(const dcm_kpi_set *k, size_t z) { (void)z; return &k->wue_fresh; }
static const dcm_opt *get_cuel(const dcm_kpi_set *k, size_t z) { (void)z; return &k->cue_location; }
static const dcm_opt *get_cuem(const dcm_kpi_set *k, size_t z) { (void)z; return &k->cue_market; }
static const dcm_opt *get_ref(const dcm_kpi_set *k, size_t z) { (void)z; return &k->ref; }
static const dcm_opt *get_erf(const dcm_kpi_set *k, size_t z) { (void)z; return &k->erf; }
static const dcm_opt *get_cer(const dcm_kpi_set *k, size_t z) { (void)z; return &k->cer; }
static const dcm_opt *get_enefg(const dcm_kpi_set *k, size_t z) { (void)z; return &k->pue_enefg; }
static const dcm_opt *get_iteu(const dcm_kpi_set *k, size_t z) { (void)z; return &k->iteu_sv; }
static const dcm_opt *get_accel(const dcm_kpi_set *k, size_t z) { (void)z; return &k->accel_util; }
static const dcm_opt *get_edc(const dcm_kpi_set *k, size_t z) { (void)z; return &k->e_dc_kwh; }

typedef struct row {
    const char *label;
    kpi_getter get;
    int decimals;
    bool per_zone;
} row;

static const row rows[] = {
    {"PUE", get_pue, 3, false},
    {"pPUE", get_ppue, 3, true},
    {"WUE L/kWh", get_wue, 3, false},
    {"WUE fresh L/kWh", get_wuef, 3, false},
    {"CUE loc kg/kWh", get_cuel, 3, false},
    {"CUE mkt kg/kWh", get_cuem, 3, false},
    {"REF", get_ref, 3, false},
    {"ERF", get_erf, 3, false},
    {"CER", get_cer, 2, false},
    {"PUE EnEfG", get_enefg, 3, false},
    {"ITEUsv %", get_iteu, 1, false},
    {"GPU util %", get_accel, 1, false},
    {"E_DC kW|kWh", get_edc, 0, false},
};

static const dcm_record_copy *pick(const dcm_snapshot *s, const column *c)
{
    const dcm_record_copy *r = c->interim ? &s->interim[c->window] : &s->closed[c->window];
    return r->present ? r : NULL;
}

static void print_row(FILE *out, const char *label, const dcm_record_copy *recs[COLS],
                      kpi_getter get, size_t zone, int decimals)
{
    char buf[32];
    fprintf(out, "%-18s", label);
    for (int c = 0; c < COLS; c++) {
        if (!recs[c]) {
            fprintf(out, " %10s", "");
            continue;
        }
        cell(buf, sizeof buf, get(&recs[c]->kpi, zone), decimals, 1.0);
        fprintf(out, " %10s", buf);
    }
    fputc('\n', out);
}

void dcm_live_table_print(FILE *out, const dcm_snapshot *s, const dcm_live_table_info *info,
                          const dcm_instance_health *health, size_t health_count, bool ansi)
{
    const dcm_record_copy *recs[COLS];
    char when[64] = "-";
    for (int c = 0; c < COLS; c++)
        recs[c] = pick(s, &columns[c]);

    if (s->now_ns) {
        int y, mo, d, h, mi, se;
        dcm_calendar_utc_to_local(info->calendar, s->now_ns, &y, &mo, &d, &h, &mi, &se);
        snprintf(when, sizeof when, "%04d-%02d-%02d %02d:%02d:%02d", y, mo, d, h, mi, se);
    }
    if (ansi)
        fputs("\033[H\033[2J", out);
    fprintf(out, "dcmetrics %s - %s (%s)   %s   x%g\n", info->title, info->site, info->timezone,
            when, info->speed);
    if (info->url)
        fprintf(out, "live dashboard %s\n", info->url);
    fprintf(out, "%-18s", "");
    for (int c = 0; c < COLS; c++)
        fprintf(out, " %10s", columns[c].title);
    fputc('\n', out);

    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        if (!rows[r].per_zone) {
            print_row(out, rows[r].label, recs, rows[r].get, 0, rows[r].decimals);
            continue;
        }
        for (size_t z = 0; z < info->zone_count; z++) {
            char label[64];
            snprintf(label, sizeof label, "%s %s", rows[r].label, info->zone_names[z]);
            print_row(out, label, recs, rows[r].get, z, rows[r].decimals);
        }
    }
    fprintf(out, "%-18s", "coverage %");
    for (int c = 0; c < COLS; c++) {
        if (recs[c])
            fprintf(out, " %10.1f", recs[c]->kpi.coverage * 100.0);
        else
            fprintf(out, " %10s", "");
    }
    fputc('\n', out);
    fprintf(out, "%-18s", "quality");
    for (int c = 0; c < COLS; c++)
        fprintf(out, " %10s", recs[c] ? dcm_quality_name(recs[c]->kpi.quality) : "");
    fputc('\n', out);

    size_t up = 0;
    for (size_t i = 0; i < health_count; i++)
        up += health[i].up;
    fprintf(out, "devices %zu/%zu up", up, health_count);
    for (size_t i = 0; i < health_count; i++)
        if (!health[i].up)
            fprintf(out, "  [%s %s: %s]", health[i].name,
                    health[i].disabled ? "disabled" : "DOWN",
                    health[i].last_error[0] ? health[i].last_error : "no reply yet");
    fprintf(out, "   samples %llu", (unsigned long long)s->samples_in);
    if (s->samples_dropped)
        fprintf(out, "  DROPPED %llu", (unsigned long long)s->samples_dropped);
    fputc('\n', out);
    fputs("* window still open (so far)   ~ partial   ! stale   - no value (input missing or "
          "zero)\n",
          out);
    fflush(out);
}
