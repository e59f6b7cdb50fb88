/* Readings and links out of Redfish documents. */
#include "rf_doc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define J_PER_KWH 3.6e6

bool rf_path_clean(const char *path, char out[RF_PATH_MAX])
{
    out[0] = '\0';
    if (!path || strncmp(path, "/redfish/v1", 11) != 0 ||
        (path[11] != '\0' && path[11] != '/' && path[11] != '#'))
        return false;
    size_t n = strcspn(path, "#");
    if (n >= RF_PATH_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        /* Printable ASCII without space, quote or backslash: a link is a path, and
         * anything else could steer the request somewhere else. */
        if (c <= 0x20 || c >= 0x7F || c == '"' || c == '\\')
            return false;
    }
    memcpy(out, path, n);
    out[n] = '\0';
    if (strstr(out, "/..") || strstr(out, "//")) {
        out[0] = '\0';
        return false;
    }
    return true;
}

/* A string without an embedded NUL (a link or a name is used as a C string). */
static const char *str_of(const dcm_jr_node *v)
{
    const char *s = NULL;
    if (!dcm_jr_string(v, &s) || strlen(s) != v->str_len)
        return NULL;
    return s;
}

/* Element i of an array, or NULL. */
static const dcm_jr_node *at(const dcm_jr_node *arr, size_t i)
{
    if (!arr || arr->type != DCM_JR_ARRAY)
        return NULL;
    const dcm_jr_node *n = arr->child;
    while (n && i-- > 0)
        n = n->next;
    return n;
}

static const char *odata_id(const dcm_jr_node *obj)
{
    return str_of(dcm_jr_get(obj, "@odata.id"));
}

static void link_of(const dcm_jr_node *obj, const char *key, char out[RF_PATH_MAX])
{
    if (!out[0])
        rf_path_clean(odata_id(dcm_jr_get(obj, key)), out);
}

void rf_doc_links(const dcm_jr_node *doc, rf_links *out)
{
    memset(out, 0, sizeof *out);
    link_of(doc, "Chassis", out->chassis);
    link_of(dcm_jr_get(doc, "Links"), "Sessions", out->sessions);
    link_of(dcm_jr_get(doc, "SessionService"), "Sessions", out->sessions);
    link_of(doc, "PowerEquipment", out->power_equipment);
    link_of(doc, "RackPDUs", out->rack_pdus);
    link_of(doc, "EnvironmentMetrics", out->environment);
    link_of(doc, "PowerSubsystem", out->power_subsystem);
    link_of(doc, "Sensors", out->sensors);
    link_of(doc, "Power", out->power);
    link_of(doc, "PowerSupplies", out->power_supplies);
    link_of(doc, "Metrics", out->metrics);
}

size_t rf_doc_members(const dcm_jr_node *doc, char (*out)[RF_PATH_MAX], size_t max)
{
    const dcm_jr_node *m = dcm_jr_get(doc, "Members");
    size_t n = 0;
    if (!m || m->type != DCM_JR_ARRAY)
        return 0;
    for (const dcm_jr_node *e = m->child; e && n < max; e = e->next)
        if (rf_path_clean(odata_id(e), out[n]))
            n++;
    return n;
}

bool rf_doc_absent(const dcm_jr_node *doc)
{
    const char *state = str_of(dcm_jr_get(dcm_jr_get(doc, "Status"), "State"));
    return state && (strcmp(state, "Absent") == 0 || strcmp(state, "Disabled") == 0);
}

/* obj[key].Reading as a finite number (a null Reading is "not available now"). */
static bool reading(const dcm_jr_node *obj, const char *key, double *out)
{
    double v;
    if (!dcm_jr_number(dcm_jr_get(dcm_jr_get(obj, key), "Reading"), &v) || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static void power_energy(const dcm_jr_node *doc, const char *power_key, rf_reading *out)
{
    memset(out, 0, sizeof *out);
    out->has_power = reading(doc, power_key, &out->power_w);
    out->has_energy = reading(doc, "EnergykWh", &out->energy_kwh);
    double j;
    if (!out->has_energy && reading(doc, "EnergyJoules", &j)) {
        out->energy_kwh = j / J_PER_KWH;
        out->has_energy = true;
    }
}

void rf_doc_environment(const dcm_jr_node *doc, rf_reading *out)
{
    power_energy(doc, "PowerWatts", out);
}

void rf_doc_psu_metrics(const dcm_jr_node *doc, rf_reading *out)
{
    power_energy(doc, "InputPowerWatts", out);
}

void rf_doc_pdu_metrics(const dcm_jr_node *doc, rf_reading *out)
{
    power_energy(doc, "PowerWatts", out);
}

void rf_doc_legacy_power(const dcm_jr_node *doc, rf_reading *out)
{
    memset(out, 0, sizeof *out);
    const dcm_jr_node *pc = at(dcm_jr_get(doc, "PowerControl"), 0);
    double v;
    if (dcm_jr_number(dcm_jr_get(pc, "PowerConsumedWatts"), &v) && isfinite(v)) {
        out->power_w = v;
        out->has_power = true;
    }
}

rf_sensor_kind rf_doc_sensor(const dcm_jr_node *doc, double *value, bool *chassis_total)
{
    const char *type = str_of(dcm_jr_get(doc, "ReadingType"));
    const char *units = str_of(dcm_jr_get(doc, "ReadingUnits"));
    const char *ctx = str_of(dcm_jr_get(doc, "PhysicalContext"));
    double v;
    *chassis_total = !ctx || strcmp(ctx, "Chassis") == 0 || strcmp(ctx, "SystemBoard") == 0;
    if (!type || !dcm_jr_number(dcm_jr_get(doc, "Reading"), &v) || !isfinite(v))
        return RF_SENSOR_OTHER;
    if (strcmp(type, "Power") == 0) {
        /* The schema says W; a few services report kW and say so. */
        *value = units && strcmp(units, "kW") == 0 ? v * 1000.0 : v;
        return RF_SENSOR_POWER;
    }
    if (strcmp(type, "EnergykWh") == 0) {
        *value = v;
        return RF_SENSOR_ENERGY;
    }
    if (strcmp(type, "EnergyJoules") == 0) {
        *value = v / J_PER_KWH;
        return RF_SENSOR_ENERGY;
    }
    if (strcmp(type, "EnergyWh") == 0) {
        *value = v / 1000.0;
        return RF_SENSOR_ENERGY;
    }
    return RF_SENSOR_OTHER;
}
