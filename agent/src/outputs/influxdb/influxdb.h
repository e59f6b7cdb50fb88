/*
 * influxdb.h - the InfluxDB sink (outputs.influxdb): journal records as line protocol,
 * written in batches to InfluxDB 1.x (/write) or the 2.x write API (/api/v2/write, also
 * served by VictoriaMetrics and others). docs/influxdb.md is the user's contract.
 */
#ifndef DCM_INFLUXDB_H
#define DCM_INFLUXDB_H

#include "outputs/sink.h"

extern const dcm_sink_ops dcm_influxdb_sink;

/* File under state_dir where lines the server refused (HTTP 400/413 for that single
 * line) are kept, each after a comment line naming the time, seq and the server's reason. */
#define DCM_INFLUX_QUARANTINE_FILE "influxdb-quarantine.lp"

#endif
