/*
 * cmd_demo.c - `dcmetrics demo`: a simulated data hall through the real pipeline - engine,
 * ledger, windows - with its KPIs live in the terminal or as JSON lines. Needs no network
 * and no root: the state goes to a fresh temporary directory unless --state-dir names one.
 *
 * Two ways to the same hall. In real time and at moderate speeds the demo starts the
 * facility simulator (modbus_server.h) in-process on a free loopback port and polls its
 * meters with modbus collectors (examples/demo-modbus.yaml): the real Modbus path, end to
 * end. Above DEMO_MODBUS_MAX_SPEED one simulated second passes faster than a round of
 * polls, so the demo reads the model directly with the sim collector (examples/demo.yaml).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "commands.h"
#include "dcm/config.h"
#include "dcm/log.h"
#include "runtime.h"
#include "session.h"
#include "site.h"
#include "timestamp.h"

#if defined(DCM_WITH_MODBUS) && defined(DCM_WITH_SIM)
#include "modbus_server.h"
#define DEMO_HAS_MODBUS 1
extern const char dcm_demo_modbus_config_yaml[];
extern const size_t dcm_demo_modbus_config_yaml_len;
#else
#define DEMO_HAS_MODBUS 0
#endif

extern const char dcm_demo_config_yaml[];
extern const size_t dcm_demo_config_yaml_len;

/* Polling keeps up with simulated time up to this speed: each of the demo's 8 Modbus
 * instances then polls 60 times a (real) second, a few thousand requests a second. */
#define DEMO_MODBUS_MAX_SPEED 60.0
/* The address examples/demo-modbus.yaml names; the demo serves on a free port instead. */
#define DEMO_SIM_URL "tcp://127.0.0.1:1502"

static void demo_usage(FILE *out)
{
    fputs("usage: dcmetrics demo [options]\n"
          "  --json              JSON lines (one KPI record per line) instead of the table\n"
          "  --points            also every sample as a JSON line (no table):\n"
          "                      {\"ts\",\"point\",\"value\",\"unit\",\"quality\"}\n"
          "  --windows LIST      windows to stream with --json (default: all, with 'instant'\n"
          "                      once a second); names: instant,1m,15m,1h,1d,month,year,ttm\n"
          "  --speed N           run simulated time N times faster (e.g. 3600: an hour a second)\n"
          "  --start T           simulated start time (ISO-8601 with offset, a date in the site's\n"
          "                      time zone, or Unix seconds); default: now\n"
          "  --until T           stop when simulated time reaches T\n"
          "  --duration D        stop after D of real time (e.g. 30s, 5m)\n"
          "  --state-dir DIR     keep the ledger in DIR (default: a temporary directory,\n"
          "                      removed at exit)\n"
          "  --meters HOW        modbus: poll the meters of the facility simulator over\n"
          "                      Modbus TCP on a loopback port (the default up to --speed 60);\n"
          "                      sim: read the simulation model directly (the default above,\n"
          "                      where polling cannot keep up with simulated time)\n"
          "  -c, --config FILE   use another site configuration instead of the built-in one\n"
          "                      (nothing else is started: run `dcmetrics simulate` beside it\n"
          "                      for a configuration that polls Modbus meters)\n"
          "  --print-config      print the built-in configuration (for --speed and --meters)\n"
          "                      and exit\n"
          "  --http ADDR:PORT    serve the live dashboard and HTTP API there (default\n"
          "                      127.0.0.1:8080; when that is taken the demo says so and runs\n"
          "                      without it; a port asked for that is taken is an error)\n"
          "  --no-http           no live dashboard, no HTTP API\n",
          out);
}

#if DEMO_HAS_MODBUS
/* text with every DEMO_SIM_URL replaced by the simulator's URL; malloc'd (NULL: OOM). */
static char *point_at_port(const char *text, size_t len, int port, size_t *out_len)
{
    char url[64];
    size_t from = strlen(DEMO_SIM_URL), n = 0;
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", port);
    for (const char *p = text; (p = strstr(p, DEMO_SIM_URL)) != NULL; p += from)
        n++;
    size_t size = len + n * strlen(url) + 1;
    char *out = malloc(size), *w = out;
    if (!out)
        return NULL;
    for (const char *p = text, *hit; p < text + len; p = hit + from) {
        hit = strstr(p, DEMO_SIM_URL);
        if (!hit || hit >= text + len) {
            memcpy(w, p, (size_t)(text + len - p));
            w += text + len - p;
            break;
        }
        memcpy(w, p, (size_t)(hit - p));
        w += hit - p;
        memcpy(w, url, strlen(url));
        w += strlen(url);
    }
    *w = '\0';
    *out_len = (size_t)(w - out);
    return out;
}

/* Starts the facility simulator on a free loopback port with the demo's clock. */
static int start_simulator(double speed, int64_t start_ns, dcm_mbs_config **cfg,
                           dcm_mbs **server)
{
    dcm_diags diags;
    char why[256];
    dcm_diags_init(&diags);
    dcm_mbs_err err = dcm_mbs_config_parse_text(dcm_mbs_hall_yaml, dcm_mbs_hall_yaml_len,
                                                "<built-in simulator/hall.yaml>", cfg, &diags);
    dcm_diags_print(&diags, stderr);
    dcm_diags_free(&diags);
    if (err != DCM_MBS_OK) {
        fprintf(stderr, "dcmetrics demo: simulator: %s\n", dcm_mbs_strerror(err));
        return -1;
    }
    dcm_mbs_options o = {.host = "127.0.0.1", .port = "0", .speed = speed, .start_ns = start_ns};
    err = dcm_mbs_start(*cfg, &o, server, why, sizeof why);
    if (err != DCM_MBS_OK) {
        fprintf(stderr, "dcmetrics demo: simulator: %s: %s\n", dcm_mbs_strerror(err), why);
        return -1;
    }
    return dcm_mbs_port(*server);
}
#endif

static bool parse_time(const char *text, const dcm_calendar *cal, int64_t *out)
{
    if (dcm_ts_parse(text, out) == DCM_TS_OK)
        return true;
    return dcm_ts_parse_local(text, cal, out) == DCM_TS_OK;
}

int dcm_cmd_demo(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},          {"windows", required_argument, NULL, 'w'},
        {"speed", required_argument, NULL, 'x'},   {"start", required_argument, NULL, 'S'},
        {"until", required_argument, NULL, 'u'},   {"duration", required_argument, NULL, 'd'},
        {"state-dir", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
        {"print-config", no_argument, NULL, 'p'},  {"help", no_argument, NULL, 'h'},
        {"meters", required_argument, NULL, 'm'},  {"points", no_argument, NULL, 'P'},
        {"http", required_argument, NULL, 'H'},    {"no-http", no_argument, NULL, 'N'},
        {NULL, 0, NULL, 0}};
    const char *http = NULL;
    bool no_http = false;
    const char *windows = NULL, *start = NULL, *until = NULL, *duration = NULL;
    const char *state_dir = NULL, *path = NULL, *meters = NULL;
    bool json = false, print_config = false, points = false;
    double speed = 1.0;
    int c, rc = 2;
    char tmpdir[256] = "";
    dcm_config *cfg = NULL;
#if DEMO_HAS_MODBUS
    dcm_mbs_config *sim_cfg = NULL;
    dcm_mbs *sim = NULL;
#endif

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': json = true; break;
        case 'w': windows = optarg; break;
        case 'x': {
            char *end;
            speed = strtod(optarg, &end);
            if (*end || !(speed >= 1.0 && speed <= 1e7)) {
                fprintf(stderr, "dcmetrics demo: --speed wants a number from 1 to 10000000\n");
                return 2;
            }
            break;
        }
        case 'S': start = optarg; break;
        case 'u': until = optarg; break;
        case 'd': duration = optarg; break;
        case 's': state_dir = optarg; break;
        case 'c': path = optarg; break;
        case 'm': meters = optarg; break;
        case 'P': points = true; break;
        case 'p': print_config = true; break;
        case 'H': http = optarg; break;
        case 'N': no_http = true; break;
        case 'h': demo_usage(stdout); return 0;
        default: demo_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        demo_usage(stderr);
        return 2;
    }
    if (http && no_http) {
        fprintf(stderr, "dcmetrics demo: --http and --no-http contradict each other\n");
        return 2;
    }
#ifndef DCM_WITH_HTTP
    if (http) {
        fprintf(stderr, "dcmetrics demo: this build of dcmetrics has no HTTP server\n");
        return 2;
    }
    no_http = true;
#endif
    if (meters && strcmp(meters, "modbus") != 0 && strcmp(meters, "sim") != 0) {
        fprintf(stderr, "dcmetrics demo: --meters wants modbus or sim\n");
        return 2;
    }
    if (meters && path) {
        fprintf(stderr, "dcmetrics demo: --meters chooses between the built-in configurations; "
                        "with -c the configuration says how its meters are read\n");
        return 2;
    }
    bool modbus = !path && (meters ? strcmp(meters, "modbus") == 0
                                   : DEMO_HAS_MODBUS && speed <= DEMO_MODBUS_MAX_SPEED);
    if (modbus && !DEMO_HAS_MODBUS) {
        fprintf(stderr, "dcmetrics demo: this build has no Modbus facility simulator\n");
        return 2;
    }
    const char *text = dcm_demo_config_yaml, *name = "<built-in demo.yaml>";
    size_t text_len = dcm_demo_config_yaml_len;
#if DEMO_HAS_MODBUS
    if (modbus) {
        text = dcm_demo_modbus_config_yaml;
        text_len = dcm_demo_modbus_config_yaml_len;
        name = "<built-in demo-modbus.yaml>";
    }
#endif
    if (print_config) {
        fwrite(text, 1, text_len, stdout);
        return 0;
    }

    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_config_err err = path ? dcm_config_load(path, &cfg, &diags)
                              : dcm_config_load_string(text, text_len, name, &cfg, &diags);
    dcm_diags_print(&diags, stderr);
    dcm_diags_free(&diags);
    if (err != DCM_CONFIG_OK) {
        fprintf(stderr, "dcmetrics demo: configuration: %s\n", dcm_config_strerror(err));
        goto out;
    }
    /* The table owns the terminal: only warnings and errors go to stderr. */
    dcm_log_set_level(json || points ? DCM_LOG_WARN : DCM_LOG_ERROR);

    dcm_calendar cal;
    if (!dcm_site_calendar(cfg->site.timezone, &cal)) {
        fprintf(stderr, "dcmetrics demo: unknown time zone '%s'\n", cfg->site.timezone);
        goto out;
    }
    dcm_session_options opt = {
        .config = cfg,
        .title = "demo",
        .speed = speed,
        .table = !json && !points,
        .json = json,
        .points = points,
        .windows = 0xFFu,
        .http = !no_http,
        .http_listen = http,
        .http_optional = !http && !cfg->outputs.http,
    };
    if (windows && !(opt.windows = dcm_session_parse_windows(windows))) {
        fprintf(stderr, "dcmetrics demo: unknown window in '%s'\n", windows);
        goto out;
    }
    if (start && !parse_time(start, &cal, &opt.start_ns)) {
        fprintf(stderr, "dcmetrics demo: --start '%s' is not a time (2026-01-01, "
                        "2026-01-01T00:00:00+08:00 or Unix seconds)\n", start);
        goto out;
    }
    if (until && !parse_time(until, &cal, &opt.until_ns)) {
        fprintf(stderr, "dcmetrics demo: --until '%s' is not a time\n", until);
        goto out;
    }
    if (duration && !dcm_parse_duration_ns(duration, &opt.duration_ns)) {
        fprintf(stderr, "dcmetrics demo: --duration '%s' is not a duration (30s, 5m)\n",
                duration);
        goto out;
    }
    if (!state_dir) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/dcmetrics-demo-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir)) {
            fprintf(stderr, "dcmetrics demo: cannot create a state directory: %s\n",
                    strerror(errno));
            rc = 1;
            goto out;
        }
        state_dir = tmpdir;
    }
    opt.state_dir = state_dir;
#if DEMO_HAS_MODBUS
    if (modbus) {
        /* The simulator and the agent share the clock's start and speed, so the registers
         * read are those of the instant the poll is stamped with. */
        if (!opt.start_ns)
            opt.start_ns = dcm_realtime_ns();
        int port = start_simulator(speed, opt.start_ns, &sim_cfg, &sim);
        size_t n = 0;
        char *local = port > 0 ? point_at_port(text, text_len, port, &n) : NULL;
        if (!local) {
            if (port > 0)
                fputs("dcmetrics demo: out of memory\n", stderr);
            rc = 1;
            goto out;
        }
        dcm_config_destroy(cfg);
        cfg = NULL;
        dcm_diags_init(&diags);
        err = dcm_config_load_string(local, n, name, &cfg, &diags);
        dcm_diags_print(&diags, stderr);
        dcm_diags_free(&diags);
        free(local);
        if (err != DCM_CONFIG_OK) {
            fprintf(stderr, "dcmetrics demo: configuration: %s\n", dcm_config_strerror(err));
            goto out;
        }
        opt.config = cfg;
    }
#endif
    rc = dcm_session_run(&opt);
out:
#if DEMO_HAS_MODBUS
    dcm_mbs_stop(sim); /* after the session: its collectors are closed by now */
    dcm_mbs_config_destroy(sim_cfg);
#endif
    if (tmpdir[0])
        dcm_remove_tree(tmpdir);
    dcm_config_destroy(cfg);
    return rc;
}
