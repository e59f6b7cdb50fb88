/*
 * cmd_run.c - `dcmetrics run -c FILE`: the agent in the foreground (systemd runs it so).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "dcm/config.h"
#include "dcm/log.h"
#include "session.h"

static void run_usage(FILE *out)
{
    fputs("usage: dcmetrics run -c FILE [--table] [--json] [--points] [--windows LIST]\n"
          "  -c, --config FILE   configuration (see docs/configuration.md)\n"
          "  --table             print the live KPI table every second\n"
          "  --json              print KPI records as JSON lines on stdout\n"
          "  --windows LIST      windows to print with --json (default: all closed windows)\n"
          "  --points            print every sample as a JSON line on stdout:\n"
          "                      {\"ts\",\"point\",\"value\",\"unit\",\"quality\"} (commissioning)\n"
          "  --state-dir DIR     override agent.state_dir\n"
          "  --http ADDR:PORT    serve the HTTP API and live dashboard there (overrides\n"
          "                      outputs.http.listen; docs/http.md)\n"
          "  --no-http           do not serve HTTP even when outputs.http is configured\n",
          out);
}

int dcm_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"table", no_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},          {"windows", required_argument, NULL, 'w'},
        {"state-dir", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'},
        {"points", no_argument, NULL, 'P'},        {"http", required_argument, NULL, 'H'},
        {"no-http", no_argument, NULL, 'N'},       {NULL, 0, NULL, 0}};
    const char *path = NULL, *state_dir = NULL, *windows = NULL, *http = NULL;
    bool table = false, json = false, points = false, no_http = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 't': table = true; break;
        case 'j': json = true; break;
        case 'P': points = true; break;
        case 'w': windows = optarg; break;
        case 's': state_dir = optarg; break;
        case 'H': http = optarg; break;
        case 'N': no_http = true; break;
        case 'h': run_usage(stdout); return 0;
        default: run_usage(stderr); return 2;
        }
    }
    if (!path || optind != argc) {
        run_usage(stderr);
        return 2;
    }
    if (http && no_http) {
        fputs("dcmetrics run: --http and --no-http contradict each other\n", stderr);
        return 2;
    }
#ifndef DCM_WITH_HTTP
    if (http) {
        fputs("dcmetrics run: this build of dcmetrics has no HTTP server\n", stderr);
        return 2;
    }
#endif
    if (points && table) {
        fputs("dcmetrics run: --points and --table both want the terminal; choose one\n", stderr);
        return 2;
    }
    uint32_t mask = 0xFFu & ~(1u << DCM_WINDOW_INSTANT);
    if (windows && !(mask = dcm_session_parse_windows(windows))) {
        fprintf(stderr, "dcmetrics run: unknown window in '%s' (instant, 1m, 15m, 1h, 1d, "
                        "month, year, ttm)\n", windows);
        return 2;
    }
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_config *cfg = NULL;
    dcm_config_err err = dcm_config_load(path, &cfg, &diags);
    dcm_diags_print(&diags, stderr);
    dcm_diags_free(&diags);
    if (err != DCM_CONFIG_OK) {
        fprintf(stderr, "dcmetrics run: %s: %s\n", path, dcm_config_strerror(err));
        return 2;
    }
    /* An output that is configured but not in this build would lose data quietly:
     * refuse to start instead. */
    const struct {
        const char *name;
        const dcm_node *node;
    } outputs[] = {
#ifndef DCM_WITH_MQTT
                   {"mqtt", cfg->outputs.mqtt},
#endif
#ifndef DCM_WITH_INFLUXDB
                   {"influxdb", cfg->outputs.influxdb},
#endif
#ifndef DCM_WITH_HTTP
                   {"http", no_http ? NULL : cfg->outputs.http},
#endif
                   {NULL, NULL}};
    bool missing = false;
    for (size_t i = 0; outputs[i].name; i++) {
        if (!outputs[i].node)
            continue;
        fprintf(stderr, "%s:%d:%d: error: outputs.%s: this build of dcmetrics has no %s output; "
                        "remove the section to run without it\n",
                path, dcm_node_line(outputs[i].node), dcm_node_column(outputs[i].node),
                outputs[i].name, outputs[i].name);
        missing = true;
    }
    if (missing) {
        dcm_config_destroy(cfg);
        return 2;
    }
    dcm_log_set_level((dcm_log_level)cfg->agent.log_level);
    dcm_session_options opt = {
        .config = cfg,
        .title = "run",
        .state_dir = state_dir,
        .speed = 1.0,
        .table = table,
        .json = json,
        .points = points,
        .log_minutes = !table && !json && !points,
        .windows = mask,
        .http = !no_http && (cfg->outputs.http || http),
        .http_listen = http,
    };
    dcm_log(DCM_LOG_INFO, cfg->agent.site, "starting: %zu collectors, state in %s",
            cfg->collector_count, state_dir ? state_dir : cfg->agent.state_dir);
    int rc = dcm_session_run(&opt);
    if (rc == 0)
        dcm_log(DCM_LOG_INFO, cfg->agent.site, "stopped");
    dcm_config_destroy(cfg);
    return rc;
}
