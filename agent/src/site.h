/*
 * site.h - the site model applied to points: which KPI roles and zone a point id feeds,
 * the site's civil calendar, and the engine parameters built from the config.
 */
#ifndef DCM_SITE_H
#define DCM_SITE_H

#include <stdbool.h>

#include "dcm/config.h"
#include "dcm/metrics.h"

/* Sets def->roles, def->zone and def->zone_part for point_id from the site's selectors
 * (fnmatch globs). Returns true if the point feeds at least one role or zone. */
bool dcm_site_map_point(const dcm_site_config *site, const char *point_id, dcm_point_def *def);

/* KPI parameters (carbon factors, category, coverage threshold) from the config. */
void dcm_site_kpi_params(const dcm_site_config *site, dcm_kpi_params *out);

/* The site's calendar: a dcm_calendar backed by the C library's zone data for the site's
 * IANA time zone. The agent serves one site, so this sets the process time zone (TZ):
 * call it from main before any thread starts. Returns false if the zone is unknown. */
bool dcm_site_calendar(const char *timezone, dcm_calendar *out);

/* Resolves a period ("2026", "2026-Q3", "2026-07", "2026-07-15", "2026-01-01/2026-04-01")
 * to [start, end) in the site's civil time. Returns false if it does not parse. */
bool dcm_site_period(const dcm_calendar *cal, const char *period, int64_t *start_ns,
                     int64_t *end_ns);

/* Retired instruments (certificates, PPAs) as engine periods. *out is malloc'd (free it);
 * entries whose period does not parse are skipped and reported to diags. */
bool dcm_site_instruments(const dcm_site_config *site, const dcm_calendar *cal,
                          dcm_instrument_period **out, size_t *count, dcm_diags *diags);

#endif
