/*
 * attribution_points.h - the attributions of a closed hour as derived samples, so that
 * every output that carries points (--points, MQTT point topics, InfluxDB dcm_point) has
 * them: `attribution.<point>.facility_kwh` (kWh), `.co2_location_kg` and `.co2_market_kg`
 * (kg), kind delta, stamped at the hour's end (the amount over the hour ending then).
 */
#ifndef DCM_ATTRIBUTION_POINTS_H
#define DCM_ATTRIBUTION_POINTS_H

#include <stddef.h>

#include "dcm/metrics.h"
#include "runtime.h"

/* Hands rec's attributions to every listener's on_sample when rec is a closed 1h record
 * with point names; does nothing otherwise. Values that are null are not sent. */
void dcm_attribution_points_emit(const dcm_runtime_listener *listeners, size_t count,
                                 const dcm_kpi_record *rec);

#endif
