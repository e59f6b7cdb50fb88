/*
 * modbus_server.h - the facility simulator: simulated meters served over Modbus TCP with
 * libmodbus's server API, for `dcmetrics simulate`, the demo, the tests and the benchmark.
 *
 * One unit id per simulated device, its registers laid out exactly as its profile says
 * (encoded with the profile's type, byte order and scale: the inverse of the collector's
 * decoding), its values taken from the same model as the `sim` collector (sim_run.h):
 * the meters of the simulated hall, read over the real Modbus path.
 *
 * Configuration (YAML, see docs/simulate.md):
 *   listen: 127.0.0.1:1502
 *   sim: {seed: 1, it_kw: 1200, ...}          # the sim model's parameters
 *   devices:
 *     - {unit: 1, name: grid, profile: schneider-iem3xxx,
 *        values: {power: grid.power, energy: grid.energy, voltage.l1: 230}}
 * A value is a number (a constant, in the point's unit) or [FACTOR *] NAME where NAME is a
 * point of the sim collector ("it.hall-a.energy"), the mean power or flow of one of its
 * counters ("cooling.chillers.power" from "cooling.chillers.energy", "water.total.flow"
 * from "water.total.volume"), or a loop channel: chw.supply.temperature,
 * chw.return.temperature, chw.flow (chilled water) and heat.supply.temperature,
 * heat.return.temperature, heat.flow (the heat-recovery loop). Units convert to the
 * point's unit. Points without a value read 0.
 *
 * Threads: dcm_mbs_start() starts one server thread that owns the listening socket, every
 * client connection (poll() over all of them) and every register map; the caller's thread
 * only flips the fault flags (atomics) and stops it.
 *
 * Ownership: a dcm_mbs_config owns everything in it (dcm_mbs_config_destroy()); a server
 * reads the config it was started with until dcm_mbs_stop(), so the config must outlive
 * it. dcm_mbs_stop() joins the thread, closes every socket and frees the server.
 */
#ifndef DCM_MODBUS_SERVER_H
#define DCM_MODBUS_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/config.h"
#include "modbus_map.h"
#include "../sim/sim_run.h"

typedef enum dcm_mbs_err {
    DCM_MBS_OK = 0,
    DCM_MBS_EINVALID, /* invalid configuration (see diagnostics) */
    DCM_MBS_EIO,      /* the configuration file cannot be read */
    DCM_MBS_ENOMEM,
    DCM_MBS_ELISTEN,  /* the listen address cannot be resolved or bound */
    DCM_MBS_ETHREAD,  /* the server thread cannot be started */
} dcm_mbs_err;

const char *dcm_mbs_strerror(dcm_mbs_err err);

/* Where a register value comes from. */
typedef enum dcm_mbs_source {
    DCM_MBS_SRC_NONE = 0, /* reads 0 */
    DCM_MBS_SRC_CONST,    /* constant, already in the point's unit */
    DCM_MBS_SRC_POINT,    /* a sim point's value */
    DCM_MBS_SRC_RATE,     /* mean rate of a sim counter over the last emission interval */
    DCM_MBS_SRC_CHW_SUPPLY,
    DCM_MBS_SRC_CHW_RETURN,
    DCM_MBS_SRC_CHW_FLOW,
    DCM_MBS_SRC_HEAT_SUPPLY,
    DCM_MBS_SRC_HEAT_RETURN,
    DCM_MBS_SRC_HEAT_FLOW,
} dcm_mbs_source;

typedef struct dcm_mbs_value {
    dcm_mbs_source source;
    double constant;  /* CONST */
    size_t point;     /* POINT, RATE: index in the sim run's point list */
    double factor;    /* source value x factor = the point's value (units included) */
} dcm_mbs_value;

/* A read that answers with exception 02 (illegal data address) when it touches
 * [address, address + count) of table: fault injection for tests. */
typedef struct dcm_mbs_range {
    dcm_mb_table table;
    uint16_t address;
    uint16_t count;
} dcm_mbs_range;

typedef struct dcm_mbs_device {
    char *name;
    int unit;                /* 1..247 */
    char *profile;           /* NULL when the device has only its own points */
    dcm_mb_point *points;    /* the profile's points with the device's overrides */
    size_t point_count;
    dcm_mbs_value *values;   /* one per point */
    dcm_mbs_range *exceptions;
    size_t exception_count;
} dcm_mbs_device;

typedef struct dcm_mbs_config {
    char *listen;            /* "HOST:PORT" as written, NULL when absent */
    dcm_sim_config sim;      /* params, step, emit interval; no outages, no start */
    double chw_supply_c;     /* chilled-water supply temperature (default 7) */
    double chw_delta_k;      /* chilled-water return minus supply (default 5) */
    double heat_supply_c;    /* heat-recovery loop supply (default 65) */
    double heat_delta_k;     /* supply minus return (default 25) */
    dcm_mbs_device *devices;
    size_t device_count;
} dcm_mbs_config;

/* Loads a simulator configuration. Every problem goes to diags with file:line:column. */
dcm_mbs_err dcm_mbs_config_load(const char *path, dcm_mbs_config **out, dcm_diags *diags);
dcm_mbs_err dcm_mbs_config_parse_text(const char *text, size_t len, const char *name,
                                      dcm_mbs_config **out, dcm_diags *diags);
void dcm_mbs_config_destroy(dcm_mbs_config *cfg);

/* The built-in simulated hall (`dcmetrics simulate` without -c, and the demo): its YAML. */
extern const char dcm_mbs_hall_yaml[];
extern const size_t dcm_mbs_hall_yaml_len;

/* The names a value may use besides sim points (chw.flow, ...), for listings. */
size_t dcm_mbs_channel_count(void);
const char *dcm_mbs_channel_name(size_t i);

/* ------------------------------------------------------------------ server */

typedef struct dcm_mbs dcm_mbs;

typedef struct dcm_mbs_options {
    const char *host;   /* default "127.0.0.1" */
    const char *port;   /* default "1502"; "0" = a free port (see dcm_mbs_port) */
    double speed;       /* simulated clock speed; 0 or 1 = real time */
    int64_t start_ns;   /* simulated clock start; 0 = now */
} dcm_mbs_options;

/* Binds, builds every device's registers at the clock's start and starts the server
 * thread. On failure nothing is left running and why (if not NULL) says what failed. */
dcm_mbs_err dcm_mbs_start(const dcm_mbs_config *cfg, const dcm_mbs_options *opt,
                          dcm_mbs **out, char *why, size_t why_size);
/* Stops the thread, closes every socket, frees the server. NULL is ignored. */
void dcm_mbs_stop(dcm_mbs *s);

/* The bound port (the one the system chose when asked for port 0). */
int dcm_mbs_port(const dcm_mbs *s);

/* Fault injection: a silent unit receives requests and never answers (a dead meter
 * behind a gateway). Returns false for a unit the configuration does not have. */
bool dcm_mbs_set_silent(dcm_mbs *s, int unit, bool silent);
bool dcm_mbs_is_silent(const dcm_mbs *s, int unit);

typedef struct dcm_mbs_stats {
    uint64_t connections; /* accepted so far */
    uint64_t requests;    /* answered with data */
    uint64_t exceptions;  /* answered with a Modbus exception */
    uint64_t ignored;     /* received and not answered (silent units) */
} dcm_mbs_stats;

void dcm_mbs_get_stats(const dcm_mbs *s, dcm_mbs_stats *out);

/* ------------------------------------------------------ encoding (pure) */

/* The registers of a counter or gauge value of point p, as the device would hold them:
 * dcm_mb_encode(), except that an integer counter wraps at its counter_bits like a real
 * register instead of saturating. Returns false when p cannot be encoded (derived or bit
 * points, non-finite values). */
bool dcm_mbs_encode_point(const dcm_mb_point *p, double value, uint16_t *regs);

#endif
