/*
 * session.h - running the agent in the foreground: `run` and `demo`.
 */
#ifndef DCM_SESSION_H
#define DCM_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "dcm/config.h"

typedef struct dcm_session_options {
    const dcm_config *config;
    const char *title;     /* "run" or "demo" */
    const char *state_dir; /* overrides agent.state_dir when set */
    double speed;          /* clock speed; 1 = real time */
    int64_t start_ns;      /* clock start; 0 = now */
    int64_t until_ns;      /* stop when the clock reaches this; 0 = never */
    int64_t duration_ns;   /* stop after this much real time; 0 = never */
    bool table;            /* refreshing KPI table on stdout, every second */
    bool json;             /* JSON lines on stdout: one KPI record per line */
    bool points;           /* JSON lines on stdout: one line per sample (--points) */
    bool log_minutes;      /* log each 1-minute PUE at info level (daemon) */
    uint32_t windows;      /* which windows to stream: bitmask of 1u << dcm_window */
    bool http;             /* serve the HTTP API and live page (docs/http.md) */
    const char *http_listen; /* address:port; NULL: outputs.http.listen or 127.0.0.1:8080 */
    bool http_optional;    /* when the address cannot be bound, warn and run without it */
} dcm_session_options;

/* Runs until a signal, until_ns or duration_ns. Returns the process exit code. */
int dcm_session_run(const dcm_session_options *opt);

/* "1m,15m,month" -> bitmask; 0 if a name is unknown. */
uint32_t dcm_session_parse_windows(const char *list);

#endif
