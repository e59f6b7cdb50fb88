/*
 * live_table.h - renders the live KPI table from a runtime snapshot.
 */
#ifndef DCM_LIVE_TABLE_H
#define DCM_LIVE_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#include "runtime.h"

typedef struct dcm_live_table_info {
    const char *title;    /* "demo", "run" */
    const char *site;
    const char *timezone;
    const dcm_calendar *calendar;
    double speed;
    const char *const *zone_names;
    size_t zone_count;
    const char *url;      /* the live dashboard's address, or NULL */
} dcm_live_table_info;

/* Prints the table. The caller holds s->lock. ansi: clear the screen first (a terminal). */
void dcm_live_table_print(FILE *out, const dcm_snapshot *s, const dcm_live_table_info *info,
                          const dcm_instance_health *health, size_t health_count, bool ansi);

#endif
