/*
 * units.h - the units dcmetrics understands, and how each one normalises to the KPI
 * engine's units (kWh, kW, m3, m3/h, %). Used at every edge where a value enters: the
 * collectors' declared units and `dcmetrics compute`'s CSV input.
 *
 * Names are case-sensitive on purpose: "MW" (megawatt) and "mW" are different units,
 * as are "MJ" and "mJ".
 */
#ifndef DCM_UNITS_H
#define DCM_UNITS_H

#include <stdbool.h>
#include <stddef.h>

#include "dcm/metrics.h"

typedef struct dcm_unit_info {
    const char *name;      /* as written: "kWh", "W", "L/s" */
    const char *canonical; /* the engine unit it converts to: "kWh", "kW", "m3", "m3/h", "%" */
    double factor;         /* value x factor = value in the canonical unit */
    /* DCM_QTY_ENERGY (electrical energy or power), DCM_QTY_VOLUME (water), DCM_QTY_UTILISATION
     * or DCM_QTY_OTHER (carried, never summed). Thermal energy uses the energy units: the
     * site model, not the unit, says whether a point measures heat. */
    dcm_quantity quantity;
    /* true: an instantaneous value (power, flow, %, temperature), the unit of a gauge;
     * false: an amount (energy, volume, count), the unit of a counter or a delta. */
    bool is_rate;
} dcm_unit_info;

/* The table's entry for name (static storage, never freed), or NULL for an unknown unit:
 * holders of many points keep this pointer rather than copies of the strings. */
const dcm_unit_info *dcm_unit_find(const char *name);
/* Looks name up in the table. Returns false (and leaves *out) if it is not a known unit. */
bool dcm_unit_lookup(const char *name, dcm_unit_info *out);

/* The table, for listings and documentation: 0 <= i < dcm_unit_count(). */
size_t dcm_unit_count(void);
const dcm_unit_info *dcm_unit_at(size_t i);

/* Whether a point of kind `kind` may be measured in unit u. On false, why (if not NULL)
 * receives a one-line explanation such as "a gauge needs a power unit (W, kW, MW), not
 * an energy unit (kWh)". */
bool dcm_unit_fits_kind(const dcm_unit_info *u, dcm_kind kind, char *why, size_t why_size);

/* Whether values in a and b can be mixed in one point's series (same quantity and the
 * same rate/amount nature, so both normalise to the same canonical unit). */
bool dcm_unit_compatible(const dcm_unit_info *a, const dcm_unit_info *b);

#endif
