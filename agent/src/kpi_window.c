/* KPI windows computed offline: calendar bounds, instruments pro rata, KPIs. */
#include "kpi_window.h"

#include <stdlib.h>

dcm_kpi_window_err dcm_kpi_window_bounds(const dcm_calendar *cal, dcm_window w, int64_t from,
                                         int64_t to, size_t max, int64_t **bounds,
                                         size_t *count)
{
    *bounds = NULL;
    *count = 0;
    size_t n = 0;
    for (int64_t s = from; s < to; s = dcm_calendar_next(cal, w, s))
        if (++n > max)
            return DCM_KPI_WINDOW_ELIMIT;
    int64_t *b = malloc((n + 1) * sizeof *b);
    if (!b)
        return DCM_KPI_WINDOW_ENOMEM;
    int64_t s = from;
    for (size_t i = 0; i < n; i++) {
        b[i] = s;
        int64_t e = dcm_calendar_next(cal, w, s);
        s = e < to ? e : to;
    }
    b[n] = to;
    *bounds = b;
    *count = n;
    return DCM_KPI_WINDOW_OK;
}

void dcm_kpi_window_init(dcm_kpi_window *w, int64_t start_ns, int64_t end_ns,
                         size_t zone_count)
{
    w->start_ns = start_ns;
    w->end_ns = end_ns;
    dcm_totals_init(&w->totals, start_ns, end_ns,
                    (uint32_t)(zone_count < DCM_MAX_ZONES ? zone_count : DCM_MAX_ZONES));
    dcm_kpi_compute(&w->totals, NULL, &w->kpi);
}

void dcm_totals_add_instruments(dcm_totals *t, const dcm_instrument_period *ip, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int64_t lo = ip[i].start_ns > t->start_ns ? ip[i].start_ns : t->start_ns;
        int64_t hi = ip[i].end_ns < t->end_ns ? ip[i].end_ns : t->end_ns;
        if (hi <= lo || ip[i].end_ns <= ip[i].start_ns)
            continue;
        double kwh = ip[i].kwh * ((double)(hi - lo) / (double)(ip[i].end_ns - ip[i].start_ns));
        if (ip[i].is_ppa)
            t->instruments.ppa_kwh += kwh;
        else
            t->instruments.certificates_kwh += kwh;
    }
}

void dcm_kpi_window_finish(dcm_kpi_window *w, const dcm_instrument_period *ip, size_t n,
                           const dcm_kpi_params *params)
{
    dcm_totals_add_instruments(&w->totals, ip, n);
    dcm_kpi_compute(&w->totals, params, &w->kpi);
}
