/* `dcmetrics report -c FILE --period P | --from T --to T [--format html|csv|json] [-o FILE]
 * [--input CSV] [--state-dir DIR] [--no-ledger]`: the sustainability report of a period
 * from the agent's ledger and exported readings (docs/report.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "commands.h"
#include "dcm/config.h"
#include "report.h"
#include "site.h"
#include "timestamp.h"

typedef enum report_format { FORMAT_HTML = 0, FORMAT_CSV, FORMAT_JSON } report_format;

typedef struct report_args {
    const char *config;
    const char *period, *from, *to;
    const char *output;
    const char *input;
    const char *state_dir;
    bool no_ledger;
    report_format format;
} report_args;

static void usage(FILE *out)
{
    fputs("usage: dcmetrics report -c FILE (--period P | --from T --to T) [--format html|csv|json]\n"
          "                        [-o FILE] [--input CSV] [--state-dir DIR] [--no-ledger]\n"
          "  -c, --config FILE   the site configuration (agent.state_dir locates the ledger)\n"
          "      --period P      2026, 2026-Q3, 2026-07, 2026-07-15 or 2026-01-01/2026-04-01\n"
          "      --from T        start of the period: 2026-01-01 (site midnight), ISO-8601, Unix s\n"
          "      --to T          end of the period (exclusive)\n"
          "      --format F      html (default: a printable page), csv or json\n"
          "  -o, --output FILE   write the report there instead of stdout\n"
          "  -i, --input CSV     readings to add (the `compute` format; '-' = stdin): periods\n"
          "                      before the agent ran, meters it does not poll\n"
          "      --state-dir DIR read the ledger in DIR instead of agent.state_dir\n"
          "      --no-ledger     use --input alone\n",
          out);
}

/* 0: parsed; 1: --help shown; 2: bad usage. */
static int parse_args(int argc, char **argv, report_args *a)
{
    memset(a, 0, sizeof *a);
    const char *format = "html";
    for (int i = 1; i < argc; i++) {
        bool bad = false;
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(arg, "--no-ledger") == 0) {
            a->no_ledger = true;
            continue;
        }
        if (!dcm_cli_option("report", argc, argv, &i, "-c", "--config", &a->config, &bad) &&
            !dcm_cli_option("report", argc, argv, &i, NULL, "--period", &a->period, &bad) &&
            !dcm_cli_option("report", argc, argv, &i, NULL, "--from", &a->from, &bad) &&
            !dcm_cli_option("report", argc, argv, &i, NULL, "--to", &a->to, &bad) &&
            !dcm_cli_option("report", argc, argv, &i, NULL, "--format", &format, &bad) &&
            !dcm_cli_option("report", argc, argv, &i, "-o", "--output", &a->output, &bad) &&
            !dcm_cli_option("report", argc, argv, &i, "-i", "--input", &a->input, &bad) &&
            !dcm_cli_option("report", argc, argv, &i, NULL, "--state-dir", &a->state_dir, &bad)) {
            fprintf(stderr, "dcmetrics report: unknown option '%s'\n", arg);
            bad = true;
        }
        if (bad) {
            usage(stderr);
            return 2;
        }
    }
    if (strcmp(format, "html") == 0)
        a->format = FORMAT_HTML;
    else if (strcmp(format, "csv") == 0)
        a->format = FORMAT_CSV;
    else if (strcmp(format, "json") == 0)
        a->format = FORMAT_JSON;
    else {
        fprintf(stderr, "dcmetrics report: --format must be html, csv or json, not '%s'\n", format);
        return 2;
    }
    const char *missing = !a->config ? "-c FILE" : NULL;
    if (!missing && !a->period && !a->from && !a->to)
        missing = "a period (--period P, or --from T and --to T)";
    if (missing) {
        fprintf(stderr, "dcmetrics report: %s is required\n", missing);
        usage(stderr);
        return 2;
    }
    if (a->period && (a->from || a->to)) {
        fprintf(stderr, "dcmetrics report: give either --period or --from/--to, not both\n");
        return 2;
    }
    if (!a->period && (!a->from || !a->to)) {
        fprintf(stderr, "dcmetrics report: --from and --to go together (the period is [from, to))\n");
        return 2;
    }
    if (a->no_ledger && !a->input) {
        fprintf(stderr, "dcmetrics report: --no-ledger needs --input CSV\n");
        return 2;
    }
    return 0;
}

/* The period [from, to) from the arguments; false (message printed) when unusable. */
static bool resolve_period(const report_args *a, const dcm_calendar *cal, int64_t *from,
                           int64_t *to)
{
    if (a->period) {
        if (dcm_site_period(cal, a->period, from, to))
            return true;
        fprintf(stderr, "dcmetrics report: --period '%s' is not a period: expected a year "
                        "(2026), a quarter (2026-Q3), a month (2026-07), a day (2026-07-15) or "
                        "FROM/TO dates (2026-01-01/2026-04-01, TO exclusive)\n", a->period);
        return false;
    }
    const char *opt[2] = {"--from", "--to"};
    const char *text[2] = {a->from, a->to};
    int64_t *out[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        dcm_ts_err err = dcm_ts_parse_local(text[i], cal, out[i]);
        if (err != DCM_TS_OK) {
            fprintf(stderr, "dcmetrics report: %s '%s': %s\n", opt[i], text[i],
                    dcm_ts_strerror(err));
            return false;
        }
    }
    if (*to <= *from) {
        fprintf(stderr, "dcmetrics report: --to must be after --from\n");
        return false;
    }
    return true;
}

static int write_report(const report_args *a, const dcm_report *r)
{
    FILE *f = stdout;
    if (a->output) {
        f = fopen(a->output, "w");
        if (!f) {
            fprintf(stderr, "dcmetrics report: cannot write %s: %s\n", a->output, strerror(errno));
            return 1;
        }
    }
    bool ok = a->format == FORMAT_JSON  ? dcm_report_write_json(f, r)
              : a->format == FORMAT_CSV ? dcm_report_write_csv(f, r)
                                        : dcm_report_write_html(f, r);
    int saved = errno;
    if (fflush(f) != 0 || ferror(f)) {
        ok = false;
        saved = errno;
    }
    if (f != stdout && fclose(f) != 0 && ok) {
        ok = false;
        saved = errno;
    }
    if (!ok) {
        fprintf(stderr, "dcmetrics report: writing %s failed: %s\n",
                a->output ? a->output : "stdout", saved ? strerror(saved) : "out of memory");
        return 1;
    }
    return 0;
}

/* One line on stderr: the status, and why a partial report is partial. */
static void summary(const dcm_report *r)
{
    fprintf(stderr, "dcmetrics report: %s: %s", r->label, dcm_report_status_name(r->status));
    if (r->total.kpi.pue.has_value)
        fprintf(stderr, ", PUE %.4f", r->total.kpi.pue.value);
    fputc('\n', stderr);
    if (r->status != DCM_REPORT_COMPLETE)
        for (size_t i = 0; i < r->reason_count; i++)
            fprintf(stderr, "dcmetrics report:   %s\n", r->reasons[i]);
}

int dcm_cmd_report(int argc, char **argv)
{
    report_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc == 1 ? 0 : 2;

    dcm_config *cfg = NULL;
    FILE *in = NULL;
    dcm_report rep;
    memset(&rep, 0, sizeof rep);
    rc = 2;

    dcm_calendar cal;
    cfg = dcm_cli_load_site("report", a.config, &cal);
    if (!cfg)
        goto out;
    dcm_report_request req = {
        .config = cfg,
        .calendar = &cal,
        .period_label = a.period,
        .state_dir = a.no_ledger ? NULL : a.state_dir ? a.state_dir : cfg->agent.state_dir,
        .input_name = a.input && strcmp(a.input, "-") == 0 ? "stdin" : a.input,
        .messages = stderr,
        .now_ns = (int64_t)time(NULL) * DCM_NS_PER_S,
    };
    if (!resolve_period(&a, &cal, &req.from_ns, &req.to_ns))
        goto out;
    if (a.input) {
        in = strcmp(a.input, "-") == 0 ? stdin : fopen(a.input, "r");
        if (!in) {
            fprintf(stderr, "dcmetrics report: cannot read %s: %s\n", a.input, strerror(errno));
            rc = 1;
            goto out;
        }
        req.input = in;
    }
    dcm_report_err err = dcm_report_build(&req, &rep);
    if (err) {
        fprintf(stderr, "dcmetrics report: %s%s%s\n", dcm_report_strerror(err),
                rep.detail[0] ? ": " : "", rep.detail);
        rc = err == DCM_REPORT_EPERIOD ? 2 : 1;
        goto out;
    }
    rc = write_report(&a, &rep);
    if (rc == 0)
        summary(&rep);
out:
    if (in && in != stdin)
        fclose(in);
    dcm_report_free(&rep);
    dcm_config_destroy(cfg);
    return rc;
}
