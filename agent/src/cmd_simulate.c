/*
 * cmd_simulate.c - `dcmetrics simulate`: the facility simulator in the foreground. Serves
 * the simulated hall's meters over Modbus TCP (modbus_server.h) until SIGINT/SIGTERM or
 * --duration; SIGUSR1 makes the units named by --fail-unit (every unit when none is named)
 * stop answering, and the next SIGUSR1 brings them back: a dead meter on demand.
 *
 * The first line on stdout is "listening HOST:PORT" (flushed), so that scripts starting
 * it with --listen 127.0.0.1:0 learn the port the system chose.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

#if defined(DCM_WITH_MODBUS) && defined(DCM_WITH_SIM)
#include "dcm/config.h"
#include "modbus_server.h"
#include "runtime.h"
#include "timestamp.h"

#define MAX_FAIL_UNITS 247

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t toggle_requested;

static void on_stop(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void on_toggle(int sig)
{
    (void)sig;
    toggle_requested = 1;
}

static void simulate_usage(FILE *out)
{
    fputs("usage: dcmetrics simulate [-c FILE] [--listen HOST:PORT] [options]\n"
          "  Serves simulated meters over Modbus TCP: one unit id per device, registers laid\n"
          "  out as their profiles say, values from the simulated hall (docs/simulate.md).\n"
          "  -c, --config FILE   devices and model parameters (default: the built-in hall,\n"
          "                      examples/simulator/hall.yaml)\n"
          "  --listen HOST:PORT  where to serve (default: the file's listen, else\n"
          "                      127.0.0.1:1502); port 0 picks a free port\n"
          "  --speed N           run simulated time N times faster (1..10000000)\n"
          "  --start T           simulated start time (RFC 3339 or Unix seconds); default now\n"
          "  --duration D        stop after D of real time (e.g. 30s)\n"
          "  --fail-unit N       SIGUSR1 silences unit N (repeatable; default every unit);\n"
          "                      the next SIGUSR1 makes it answer again\n"
          "  --print-config      print the built-in configuration and exit\n"
          "The first line printed is \"listening HOST:PORT\".\n",
          out);
}

/* "HOST:PORT", "[v6]:PORT" or ":PORT" into host and port. */
static bool split_listen(const char *text, char *host, size_t hsize, char *port, size_t psize)
{
    const char *colon;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':' || (size_t)(close - text - 1) >= hsize)
            return false;
        snprintf(host, hsize, "%.*s", (int)(close - text - 1), text + 1);
        colon = close + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon || (size_t)(colon - text) >= hsize)
            return false;
        snprintf(host, hsize, "%.*s", (int)(colon - text), text);
        if (!host[0])
            snprintf(host, hsize, "127.0.0.1");
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) >= psize || strspn(p, "0123456789") != strlen(p) || atol(p) > 65535)
        return false;
    snprintf(port, psize, "%s", p);
    return true;
}

static void print_devices(const dcm_mbs_config *cfg)
{
    for (size_t i = 0; i < cfg->device_count; i++) {
        const dcm_mbs_device *d = &cfg->devices[i];
        size_t served = 0;
        for (size_t k = 0; k < d->point_count; k++)
            served += d->values[k].source != DCM_MBS_SRC_NONE;
        printf("  unit %3d  %-14s %-24s %zu points, %zu with values%s\n", d->unit, d->name,
               d->profile ? d->profile : "(own points)", d->point_count, served,
               d->exception_count ? ", exception ranges" : "");
    }
    fflush(stdout);
}

static void toggle_units(dcm_mbs *s, const dcm_mbs_config *cfg, const int *units, size_t n)
{
    for (size_t i = 0; i < (n ? n : cfg->device_count); i++) {
        int unit = n ? units[i] : cfg->devices[i].unit;
        bool silent = !dcm_mbs_is_silent(s, unit);
        dcm_mbs_set_silent(s, unit, silent);
        fprintf(stderr, "dcmetrics simulate: unit %d %s\n", unit,
                silent ? "stops answering" : "answers again");
    }
}

int dcm_cmd_simulate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},   {"listen", required_argument, NULL, 'l'},
        {"speed", required_argument, NULL, 'x'},    {"start", required_argument, NULL, 'S'},
        {"duration", required_argument, NULL, 'd'}, {"fail-unit", required_argument, NULL, 'f'},
        {"print-config", no_argument, NULL, 'p'},   {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *path = NULL, *listen = NULL;
    dcm_mbs_options opt = {.speed = 1.0};
    int64_t duration_ns = 0;
    int fail_units[MAX_FAIL_UNITS];
    size_t fail_count = 0;
    char host[256], port[8];
    char *end;
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'l': listen = optarg; break;
        case 'x':
            opt.speed = strtod(optarg, &end);
            if (*end || !(opt.speed >= 1.0 && opt.speed <= 1e7)) {
                fputs("dcmetrics simulate: --speed wants a number from 1 to 10000000\n", stderr);
                return 2;
            }
            break;
        case 'S':
            if (dcm_ts_parse(optarg, &opt.start_ns) != DCM_TS_OK) {
                fprintf(stderr, "dcmetrics simulate: --start '%s' is not a time "
                                "(2026-01-01T00:00:00+08:00 or Unix seconds)\n", optarg);
                return 2;
            }
            break;
        case 'd':
            if (!dcm_parse_duration_ns(optarg, &duration_ns) || duration_ns <= 0) {
                fprintf(stderr, "dcmetrics simulate: --duration '%s' is not a duration\n", optarg);
                return 2;
            }
            break;
        case 'f': {
            long u = strtol(optarg, &end, 0);
            if (*end || u < 1 || u > 247 || fail_count == MAX_FAIL_UNITS) {
                fputs("dcmetrics simulate: --fail-unit wants a unit id 1..247\n", stderr);
                return 2;
            }
            fail_units[fail_count++] = (int)u;
            break;
        }
        case 'p': fwrite(dcm_mbs_hall_yaml, 1, dcm_mbs_hall_yaml_len, stdout); return 0;
        case 'h': simulate_usage(stdout); return 0;
        default: simulate_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        simulate_usage(stderr);
        return 2;
    }

    dcm_diags diags;
    dcm_mbs_config *cfg = NULL;
    dcm_diags_init(&diags);
    dcm_mbs_err err = path ? dcm_mbs_config_load(path, &cfg, &diags)
                           : dcm_mbs_config_parse_text(dcm_mbs_hall_yaml, dcm_mbs_hall_yaml_len,
                                                       "<built-in simulator/hall.yaml>", &cfg, &diags);
    dcm_diags_print(&diags, stderr);
    dcm_diags_free(&diags);
    if (err != DCM_MBS_OK) {
        fprintf(stderr, "dcmetrics simulate: %s\n", dcm_mbs_strerror(err));
        return err == DCM_MBS_ENOMEM ? 1 : 2;
    }
    int rc = 2;
    dcm_mbs *server = NULL;
    const char *where = listen ? listen : cfg->listen ? cfg->listen : "127.0.0.1:1502";
    if (!split_listen(where, host, sizeof host, port, sizeof port)) {
        fprintf(stderr, "dcmetrics simulate: listen address '%s' is not HOST:PORT\n", where);
        goto out;
    }
    for (size_t i = 0; i < fail_count; i++) {
        bool known = false;
        for (size_t k = 0; k < cfg->device_count; k++)
            known = known || cfg->devices[k].unit == fail_units[i];
        if (!known) {
            fprintf(stderr, "dcmetrics simulate: --fail-unit %d: no device has that unit id\n",
                    fail_units[i]);
            goto out;
        }
    }
    opt.host = host;
    opt.port = port;
    char why[256];
    err = dcm_mbs_start(cfg, &opt, &server, why, sizeof why);
    if (err != DCM_MBS_OK) {
        fprintf(stderr, "dcmetrics simulate: %s: %s\n", dcm_mbs_strerror(err), why);
        rc = err == DCM_MBS_ELISTEN ? 2 : 1;
        goto out;
    }
    if (strchr(host, ':'))
        printf("listening [%s]:%d\n", host, dcm_mbs_port(server));
    else
        printf("listening %s:%d\n", host, dcm_mbs_port(server));
    printf("serving %zu devices%s\n", cfg->device_count,
           opt.speed != 1.0 ? " on an accelerated clock" : "");
    print_devices(cfg);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_toggle;
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    stop_requested = 0;
    toggle_requested = 0;
    int64_t started = dcm_monotonic_ns();
    while (!stop_requested) {
        dcm_sleep_ns(50 * INT64_C(1000000), NULL);
        if (toggle_requested) {
            toggle_requested = 0;
            toggle_units(server, cfg, fail_units, fail_count);
        }
        if (duration_ns && dcm_monotonic_ns() - started >= duration_ns)
            break;
    }
    dcm_mbs_stats st;
    dcm_mbs_get_stats(server, &st);
    fprintf(stderr, "dcmetrics simulate: %llu connections, %llu requests answered, %llu "
                    "exceptions, %llu unanswered\n", (unsigned long long)st.connections,
            (unsigned long long)st.requests, (unsigned long long)st.exceptions,
            (unsigned long long)st.ignored);
    rc = 0;
out:
    dcm_mbs_stop(server);
    dcm_mbs_config_destroy(cfg);
    return rc;
}

#else /* no Modbus or no sim collector in this build */

int dcm_cmd_simulate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("dcmetrics simulate: this build has no facility simulator (it needs DCM_WITH_MODBUS "
          "and DCM_WITH_SIM)\n", stderr);
    return 2;
}

#endif
