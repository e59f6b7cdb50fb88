/*
 * rf_doc.h - what the collector reads out of Redfish documents (DMTF schemas: ServiceRoot,
 * collections, Chassis, EnvironmentMetrics, PowerSubsystem / PowerSupply / PowerSupplyMetrics,
 * Sensor, the deprecated Power resource, and RackPDU metrics). Pure functions over parsed
 * documents: no I/O.
 *
 * Powers come out in W, energies in kWh, whatever unit the resource used. Documents are
 * parsed by the agent's strict JSON reader (json_read.h).
 */
#ifndef DCM_RF_DOC_H
#define DCM_RF_DOC_H

#include <stdbool.h>
#include <stddef.h>

#include "json_read.h"

#define RF_PATH_MAX 512

/* A reading: has_* false when the document does not carry it (or carries null). */
typedef struct rf_reading {
    double power_w;
    bool has_power;
    double energy_kwh;
    bool has_energy;
} rf_reading;

/* Links of interest in a document; empty strings when absent. */
typedef struct rf_links {
    char chassis[RF_PATH_MAX];          /* ServiceRoot: Chassis collection */
    char sessions[RF_PATH_MAX];         /* ServiceRoot: Links.Sessions (or the default) */
    char power_equipment[RF_PATH_MAX];  /* ServiceRoot: PowerEquipment */
    char rack_pdus[RF_PATH_MAX];        /* PowerEquipment: RackPDUs collection */
    char environment[RF_PATH_MAX];      /* Chassis: EnvironmentMetrics */
    char power_subsystem[RF_PATH_MAX];  /* Chassis: PowerSubsystem */
    char sensors[RF_PATH_MAX];          /* Chassis: Sensors collection */
    char power[RF_PATH_MAX];            /* Chassis: Power (deprecated) */
    char power_supplies[RF_PATH_MAX];   /* PowerSubsystem: PowerSupplies collection */
    char metrics[RF_PATH_MAX];          /* PowerSupply, RackPDU: Metrics */
} rf_links;

/* True for a link that stays inside the service: an absolute path under /redfish/v1,
 * printable, without "..", shorter than RF_PATH_MAX. A fragment ("#/PowerControl/0") is
 * cut off into out. */
bool rf_path_clean(const char *path, char out[RF_PATH_MAX]);

/* Every link the collector follows, from any document (absent ones stay empty). */
void rf_doc_links(const dcm_jr_node *doc, rf_links *out);

/* Members[*]["@odata.id"] of a collection, cleaned. Returns how many were written to out
 * (at most max); invalid members are skipped. */
size_t rf_doc_members(const dcm_jr_node *doc, char (*out)[RF_PATH_MAX], size_t max);

/* Status.State "Absent" or "Disabled": a slot without a part (an empty PSU bay). */
bool rf_doc_absent(const dcm_jr_node *doc);

/* EnvironmentMetrics: PowerWatts.Reading, EnergykWh.Reading (else EnergyJoules.Reading). */
void rf_doc_environment(const dcm_jr_node *doc, rf_reading *out);
/* PowerSupplyMetrics: InputPowerWatts.Reading, EnergykWh.Reading. */
void rf_doc_psu_metrics(const dcm_jr_node *doc, rf_reading *out);
/* RackPDU metrics (PowerDistributionMetrics): PowerWatts.Reading, EnergykWh.Reading. */
void rf_doc_pdu_metrics(const dcm_jr_node *doc, rf_reading *out);
/* Deprecated Power: PowerControl[0].PowerConsumedWatts. */
void rf_doc_legacy_power(const dcm_jr_node *doc, rf_reading *out);

typedef enum rf_sensor_kind { RF_SENSOR_OTHER = 0, RF_SENSOR_POWER, RF_SENSOR_ENERGY } rf_sensor_kind;
/* A Sensor: ReadingType Power (W or kW) or EnergykWh / EnergyJoules / EnergyWh, with
 * Reading converted to W or kWh. Returns OTHER for anything else (or no usable reading).
 * *chassis_total is true when PhysicalContext is absent or names the whole chassis
 * (Chassis, SystemBoard... not a single part such as a PowerSupply or CPU). */
rf_sensor_kind rf_doc_sensor(const dcm_jr_node *doc, double *value, bool *chassis_total);

#endif /* DCM_RF_DOC_H */
