/*
 * cmd_demo.c - `dcmetrics demo`: a simulated data hall (the sim collector) through the
 * real pipeline - engine, ledger, windows - with its KPIs live in the terminal or as JSON
 * lines. Needs no network and no root: the state goes to a fresh temporary directory
 * unless --state-dir names one.
 */
/* nftw() is an XSI interface. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "dcm/config.h"
#include "dcm/log.h"
#include "session.h"
#include "site.h"
#include "timestamp.h"

extern const char dcm_demo_config_yaml[];
extern const size_t dcm_demo_config_yaml_len;

static void demo_usage(FILE *out)
{
    fputs("usage: dcmetrics demo [options]\n"
          "  --json              JSON lines (one KPI record per line) instead of the table\n"
          "  --windows LIST      windows to stream with --json (default: all, with 'instant'\n"
          "                      once a second); names: instant,1m,15m,1h,1d,month,year,ttm\n"
          "  --speed N           run simulated time N times faster (e.g. 3600: an hour a second)\n"
          "  --start T           simulated start time (ISO-8601 with offset, a date in the site's\n"
          "                      time zone, or Unix seconds); default: now\n"
          "  --until T           stop when simulated time reaches T\n"
          "  --duration D        stop after D of real time (e.g. 30s, 5m)\n"
          "  --state-dir DIR     keep the ledger in DIR (default: a temporary directory,\n"
          "                      removed at exit)\n"
          "  -c, --config FILE   use another site configuration instead of the built-in one\n"
          "  --print-config      print the built-in configuration and exit\n",
          out);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

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
        {NULL, 0, NULL, 0}};
    const char *windows = NULL, *start = NULL, *until = NULL, *duration = NULL;
    const char *state_dir = NULL, *path = NULL;
    bool json = false;
    double speed = 1.0;
    int c, rc = 2;
    char tmpdir[256] = "";
    dcm_config *cfg = NULL;

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
        case 'p': fwrite(dcm_demo_config_yaml, 1, dcm_demo_config_yaml_len, stdout); return 0;
        case 'h': demo_usage(stdout); return 0;
        default: demo_usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        demo_usage(stderr);
        return 2;
    }

    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_config_err err = path ? dcm_config_load(path, &cfg, &diags)
                              : dcm_config_load_string(dcm_demo_config_yaml,
                                                       dcm_demo_config_yaml_len,
                                                       "<built-in demo.yaml>", &cfg, &diags);
    dcm_diags_print(&diags, stderr);
    dcm_diags_free(&diags);
    if (err != DCM_CONFIG_OK) {
        fprintf(stderr, "dcmetrics demo: configuration: %s\n", dcm_config_strerror(err));
        goto out;
    }
    /* The table owns the terminal: only warnings and errors go to stderr. */
    dcm_log_set_level(json ? DCM_LOG_WARN : DCM_LOG_ERROR);

    dcm_calendar cal;
    if (!dcm_site_calendar(cfg->site.timezone, &cal)) {
        fprintf(stderr, "dcmetrics demo: unknown time zone '%s'\n", cfg->site.timezone);
        goto out;
    }
    dcm_session_options opt = {
        .config = cfg,
        .title = "demo",
        .speed = speed,
        .table = !json,
        .json = json,
        .windows = 0xFFu,
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
    rc = dcm_session_run(&opt);
out:
    if (tmpdir[0])
        nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    dcm_config_destroy(cfg);
    return rc;
}
