/*
 * kpi_json.h - a KPI record as JSON: the one shape shared by `dcmetrics compute`,
 * `dcmetrics demo --json` and the MQTT kpi/<window> payloads (docs/compute.md lists
 * every key).
 *
 * Members of a record, in order:
 *   "site", "window", "interim"   (when given)
 *   "from", "to"                  RFC 3339 in the site's offset
 *   "pue_category"                1..3, or null when not declared
 *   "kpi": {"pue", "dcie", "ppue": {zone: value}, "wue", "wue_fresh", "cue_location",
 *           "cue_market", "ref", "erf", "ere", "cer", "pue_enefg", "iteu_sv", "accel_util"}
 *   "energy_kwh": {"total", "it", "grid", "cooling", "fuel", "onsite_renewable",
 *                  "certificates", "ppa", "reused", "heat_upgrade", "cooling_output"}
 *   "water_m3": {"total", "fresh"}
 *   "co2_kg": {"location", "market"}
 *   "coverage", "estimated_share", "quality"
 *   "kpi_quality": {kpi name: "ok" | "partial" | "stale" | "invalid", "ppue": {zone: ...}}
 *   "coverage_by_role": {role: 0..1, only roles with points}
 *   "it_telemetry": {"energy_kwh", "reconciliation"}   only when it_telemetry has points
 *   "attribution": {point id: {"energy_kwh", "facility_kwh", "co2_location_kg",
 *                   "co2_market_kg", "coverage", "quality"}}   only when points are attributed
 *   "ruleset"
 * For the instantaneous window the totals are rates, so "energy_kwh", "water_m3" and
 * "co2_kg" are named "power_kw", "water_m3_per_h" and "co2_kg_per_h" instead (and
 * it_telemetry's "energy_kwh" is "power_kw").
 * A value that is missing (no point feeds the role, a KPI without a denominator) is null.
 */
#ifndef DCM_KPI_JSON_H
#define DCM_KPI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/metrics.h"
#include "json.h"

typedef struct dcm_kpi_json_in {
    const char *site;          /* NULL: no "site" member */
    bool has_window;           /* false: no "window" / "interim" members */
    dcm_window window;
    bool interim;
    int64_t start_ns, end_ns;
    /* Offsets for "from" / "to". NULL: the process's local time zone, which
     * dcm_site_calendar() set to the site's. */
    const dcm_calendar *calendar;
    const dcm_totals *totals;  /* required */
    const dcm_kpi_set *kpi;    /* required */
    int pue_category;          /* 0 = not declared */
    const char *ruleset;       /* NULL: DCM_METRICS_RULESET */
    /* Names of the zones, in the site model's order; a zone without a name is "zone<N>"
     * (1-based). Borrowed. */
    const char *const *zone_names;
    size_t zone_count;
    /* Attributed points (may be 0) and the point ids by engine id to name them ("point<N>"
     * when NULL). Borrowed. */
    const dcm_attribution *attribution;
    size_t attribution_count;
    const char *const *point_names;
} dcm_kpi_json_in;

/* Writes "from" and "to" into the object open in j. */
void dcm_kpi_json_period(dcm_json *j, const dcm_kpi_json_in *in);

/* Writes "kpi" through "coverage_by_role" into the object open in j. */
void dcm_kpi_json_values(dcm_json *j, const dcm_kpi_json_in *in);

/* Writes a whole record object (every member listed above). */
void dcm_kpi_json_write(dcm_json *j, const dcm_kpi_json_in *in);

/* An engine record as one compact JSON object (no newline), in the process's local
 * time zone. Returns a malloc'd string the caller frees, or NULL if memory ran out. */
char *dcm_kpi_json_record(const dcm_kpi_record *rec, const char *site,
                          const char *const *zone_names, size_t zone_count);

#endif
