/* Closed hours' attributions as derived samples for the outputs. */
#include "attribution_points.h"

#include <stdio.h>

static void send(const dcm_runtime_listener *listeners, size_t count, const char *point,
                 const char *what, const char *unit, int64_t ts, const dcm_opt *v)
{
    char id[320];
    if (!v->has_value || (size_t)snprintf(id, sizeof id, "attribution.%s.%s", point, what) >=
                             sizeof id)
        return;
    for (size_t l = 0; l < count; l++)
        if (listeners[l].on_sample)
            listeners[l].on_sample(listeners[l].ctx, id, unit, ts, v->value, v->quality);
}

void dcm_attribution_points_emit(const dcm_runtime_listener *listeners, size_t count,
                                 const dcm_kpi_record *rec)
{
    if (!rec || rec->interim || rec->window != DCM_WINDOW_1H || !rec->point_names)
        return;
    for (size_t i = 0; i < rec->attribution_count; i++) {
        const dcm_attribution *a = &rec->attribution[i];
        const char *point = rec->point_names[a->point];
        if (!point)
            continue;
        send(listeners, count, point, "facility_kwh", "kWh", rec->end_ns, &a->facility_kwh);
        send(listeners, count, point, "co2_location_kg", "kg", rec->end_ns, &a->co2_location_kg);
        send(listeners, count, point, "co2_market_kg", "kg", rec->end_ns, &a->co2_market_kg);
    }
}
