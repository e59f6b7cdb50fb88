/* The unit table. One row per accepted spelling; the factor converts to the engine's unit. */
#include "units.h"

#include <stdio.h>
#include <string.h>

#define KWH_PER_J (1.0 / 3.6e6) /* 1 kWh = 3.6 MJ */

static const dcm_unit_info table[] = {
    /* electrical power (gauges) */
    {"W", "kW", 1e-3, DCM_QTY_ENERGY, true},
    {"kW", "kW", 1.0, DCM_QTY_ENERGY, true},
    {"MW", "kW", 1e3, DCM_QTY_ENERGY, true},
    /* energy (counters, deltas) */
    {"Wh", "kWh", 1e-3, DCM_QTY_ENERGY, false},
    {"kWh", "kWh", 1.0, DCM_QTY_ENERGY, false},
    {"MWh", "kWh", 1e3, DCM_QTY_ENERGY, false},
    {"uJ", "kWh", KWH_PER_J * 1e-6, DCM_QTY_ENERGY, false},
    {"mJ", "kWh", KWH_PER_J * 1e-3, DCM_QTY_ENERGY, false},
    {"J", "kWh", KWH_PER_J, DCM_QTY_ENERGY, false},
    {"kJ", "kWh", KWH_PER_J * 1e3, DCM_QTY_ENERGY, false},
    {"MJ", "kWh", KWH_PER_J * 1e6, DCM_QTY_ENERGY, false},
    /* water volume (counters, deltas) and flow (gauges) */
    {"L", "m3", 1e-3, DCM_QTY_VOLUME, false},
    {"m3", "m3", 1.0, DCM_QTY_VOLUME, false},
    {"m3/h", "m3/h", 1.0, DCM_QTY_VOLUME, true},
    {"L/s", "m3/h", 3.6, DCM_QTY_VOLUME, true},
    /* utilisation (gauges) */
    {"%", "%", 1.0, DCM_QTY_UTILISATION, true},
    /* carried for context, never summed into a KPI */
    {"degC", "degC", 1.0, DCM_QTY_OTHER, true},
    {"V", "V", 1.0, DCM_QTY_OTHER, true},
    {"A", "A", 1.0, DCM_QTY_OTHER, true},
    {"Hz", "Hz", 1.0, DCM_QTY_OTHER, true},
    {"ms", "ms", 1.0, DCM_QTY_OTHER, true},
    {"bool", "bool", 1.0, DCM_QTY_OTHER, true},
    {"count", "count", 1.0, DCM_QTY_OTHER, false},
};

#define TABLE_SIZE (sizeof table / sizeof table[0])

const dcm_unit_info *dcm_unit_find(const char *name)
{
    for (size_t i = 0; name && i < TABLE_SIZE; i++)
        if (strcmp(table[i].name, name) == 0)
            return &table[i];
    return NULL;
}

bool dcm_unit_lookup(const char *name, dcm_unit_info *out)
{
    const dcm_unit_info *u = dcm_unit_find(name);
    if (u && out)
        *out = *u;
    return u != NULL;
}

size_t dcm_unit_count(void) { return TABLE_SIZE; }

const dcm_unit_info *dcm_unit_at(size_t i) { return i < TABLE_SIZE ? &table[i] : NULL; }

/* The spellings a quantity accepts for one nature (rate or amount), for explanations. */
static const char *spellings(dcm_quantity q, bool is_rate)
{
    switch (q) {
    case DCM_QTY_ENERGY:
    case DCM_QTY_THERMAL:
        return is_rate ? "a power unit (W, kW, MW)" : "an energy unit (Wh, kWh, MWh, J, kJ, MJ)";
    case DCM_QTY_VOLUME:
        return is_rate ? "a flow unit (m3/h, L/s)" : "a volume unit (L, m3)";
    case DCM_QTY_UTILISATION:
        return "%";
    case DCM_QTY_OTHER:
        break;
    }
    return is_rate ? "an instantaneous unit" : "an amount unit";
}

bool dcm_unit_fits_kind(const dcm_unit_info *u, dcm_kind kind, char *why, size_t why_size)
{
    char scratch[8];
    if (!why || !why_size) {
        why = scratch;
        why_size = sizeof scratch;
    }
    why[0] = '\0';
    if (!u) {
        snprintf(why, why_size, "no unit");
        return false;
    }
    /* Carried values (temperature, voltage, counts) are never integrated, so their kind
     * changes nothing. */
    if (u->quantity == DCM_QTY_OTHER)
        return true;
    bool want_rate = kind == DCM_KIND_GAUGE;
    if (u->is_rate == want_rate)
        return true;
    if (u->quantity == DCM_QTY_UTILISATION) {
        snprintf(why, why_size, "'%s' is an instantaneous value: only a gauge can use it, not a %s",
                 u->name, dcm_kind_name(kind));
        return false;
    }
    snprintf(why, why_size, "a %s needs %s, not '%s'", dcm_kind_name(kind),
             spellings(u->quantity, want_rate), u->name);
    return false;
}

bool dcm_unit_compatible(const dcm_unit_info *a, const dcm_unit_info *b)
{
    return a && b && a->quantity == b->quantity && a->is_rate == b->is_rate &&
           strcmp(a->canonical, b->canonical) == 0;
}
