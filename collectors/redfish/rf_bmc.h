/*
 * rf_bmc.h - one BMC (or PDU controller) as the collector sees it: how to reach it, what
 * discovery found to read, and one polling round's progress and result.
 *
 * A round: log in when the service uses sessions and there is no token; discover the
 * resources to read when there is no plan yet (or after errors); otherwise GET the plan's
 * resources. Everything runs as transfers on the instance's shared rf_http, so all BMCs of
 * an instance progress in parallel and the round ends at the poll's deadline whatever a
 * slow BMC does.
 *
 * Ownership: an rf_bmc owns its strings and plan (rf_bmc_free); spec is borrowed.
 */
#ifndef DCM_RF_BMC_H
#define DCM_RF_BMC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rf_config.h"
#include "rf_doc.h"
#include "rf_http.h"

/* What a resource on the plan gives. */
typedef enum rf_kind {
    RF_K_ENV = 0,     /* EnvironmentMetrics */
    RF_K_PSU,         /* PowerSupplyMetrics (one per supply, summed) */
    RF_K_SENSOR_P,    /* a power Sensor */
    RF_K_SENSOR_E,    /* an energy Sensor */
    RF_K_LEGACY,      /* Power.PowerControl[0] */
    RF_K_PDU,         /* RackPDU Metrics (one per PDU, summed) */
} rf_kind;

const char *rf_kind_name(rf_kind k);

typedef struct rf_target {
    char path[RF_PATH_MAX];
    rf_kind kind;
    int chassis;        /* index into the discovery's chassis list, -1 for PDUs */
    int order;          /* member order, to choose sensors deterministically */
    bool ok;            /* read this round */
    bool use_power, use_energy;
    rf_reading r;
} rf_target;

/* A chassis being discovered: the resources to look at when EnvironmentMetrics is missing
 * or lacks power or energy (most current BMCs have it, so they cost four requests). */
typedef struct rf_chassis_probe {
    char path[RF_PATH_MAX];
    char power_subsystem[RF_PATH_MAX];
    char sensors[RF_PATH_MAX];
    char power[RF_PATH_MAX];
    bool fell_back;
} rf_chassis_probe;

typedef enum rf_phase { RF_PH_LOGIN = 0, RF_PH_DISCOVER, RF_PH_READ } rf_phase;

typedef struct rf_bmc {
    const rf_bmc_spec *spec;
    char token[RF_TOKEN_MAX];          /* session token: a secret, never logged */
    char session[RF_PATH_MAX];         /* the session's URI, deleted at close */
    bool have_plan;
    rf_target *targets;                /* discovery candidates, then the plan */
    size_t target_count, target_cap;
    rf_chassis_probe *chassis;         /* discovered chassis, in collection order (only
                                          while discovering) */
    size_t chassis_count, chassis_cap;
    char plan_text[160];               /* what is read, for the log */

    /* the current round */
    bool in_round;
    rf_phase phase;
    size_t outstanding;
    bool failed;
    bool relogin;                      /* a 401 asked for a new session */
    bool relogged;                     /* ... and one was made this round */
    char error[256];
    int64_t started_ns;
    int64_t finished_ns;

    /* results of the last finished round */
    bool answered;
    double power_w;
    bool has_power;
    double energy_kwh;
    bool has_energy;
    double latency_ms;

    /* history */
    uint64_t errors;                   /* failed rounds */
    uint64_t consecutive_failures;
    int64_t retry_at_ns;               /* monotonic; 0 = now */
    bool said_down;
} rf_bmc;

/* The round's shared context: where transfers go and until when they may start. */
typedef struct rf_round {
    rf_http *http;
    int64_t deadline_ns;               /* monotonic */
    int64_t timeout_ns;                /* the poll's deadline, for the messages */
} rf_round;

void rf_bmc_init(rf_bmc *b, const rf_bmc_spec *spec);
void rf_bmc_free(rf_bmc *b);

/* Starts b's round (login, discovery or reads). */
void rf_bmc_begin(rf_bmc *b, rf_round *rd);
/* The done callback for rf_http_run: ud is the rf_round. */
void rf_bmc_on_done(void *ud, rf_req *req);
/* After rf_http_run: closes b's round (a BMC still busy failed at the deadline). */
void rf_bmc_end(rf_bmc *b, rf_round *rd);

/* Builds the session-login body for spec (JSON-escaped). Returns a malloc'd string the
 * caller wipes and frees, or NULL when memory runs out. */
char *rf_login_body(const rf_bmc_spec *spec);

/* Chooses what to read from the discovery's candidates: rack PDUs (all, summed) if the
 * service has any with power; otherwise per chassis (the configured ones, or the first in
 * collection order that reports power) EnvironmentMetrics, then the power supplies' input
 * power (all present supplies, summed), then a power Sensor, then the deprecated Power
 * resource; energy from EnvironmentMetrics, the supplies, then an energy Sensor. Marks the
 * chosen targets and drops the others. Returns false (why in err) when nothing reports power. */
bool rf_plan_choose(rf_bmc *b, char *err, size_t err_size);

/* Sums the plan's readings of this round into the result fields. */
void rf_plan_sum(rf_bmc *b);

#endif /* DCM_RF_BMC_H */
