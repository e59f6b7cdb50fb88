/* `dcmetrics compute -c FILE --input CSV [--from T] [--to T] [--format json|csv] [-o FILE]`:
 * KPIs for a period from exported meter readings (docs/compute.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "compute.h"
#include "dcm/config.h"
#include "json.h"
#include "kpi_csv.h"
#include "kpi_json.h"
#include "site.h"
#include "timestamp.h"

typedef struct compute_args {
    const char *config;
    const char *input;
    const char *from, *to;
    const char *output;
    bool csv;
} compute_args;

static void usage(FILE *out)
{
    fputs("usage: dcmetrics compute -c FILE --input CSV [--from T] [--to T] [--format json|csv] [-o FILE]\n"
          "  -c, --config FILE   the site configuration (roles, zones, carbon, certificates)\n"
          "  -i, --input CSV     readings: timestamp,point,value,unit,kind[,start] ('-' = stdin)\n"
          "      --from T        start of the period: 2025-01-01 (site midnight), ISO-8601, Unix s\n"
          "      --to T          end of the period (exclusive); default: the data's span in days\n"
          "      --format F      json (default) or csv (one row per month and a total row)\n"
          "  -o, --output FILE   write the result there instead of stdout\n",
          out);
}

/* 0: parsed; 1: --help shown; 2: bad usage. */
static int parse_args(int argc, char **argv, compute_args *a)
{
    memset(a, 0, sizeof *a);
    const char *format = "json";
    for (int i = 1; i < argc; i++) {
        bool bad = false;
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            usage(stdout);
            return 1;
        }
        if (!dcm_cli_option("compute", argc, argv, &i, "-c", "--config", &a->config, &bad) &&
            !dcm_cli_option("compute", argc, argv, &i, "-i", "--input", &a->input, &bad) &&
            !dcm_cli_option("compute", argc, argv, &i, NULL, "--from", &a->from, &bad) &&
            !dcm_cli_option("compute", argc, argv, &i, NULL, "--to", &a->to, &bad) &&
            !dcm_cli_option("compute", argc, argv, &i, NULL, "--format", &format, &bad) &&
            !dcm_cli_option("compute", argc, argv, &i, "-o", "--output", &a->output, &bad)) {
            fprintf(stderr, "dcmetrics compute: unknown option '%s'\n", arg);
            bad = true;
        }
        if (bad) {
            usage(stderr);
            return 2;
        }
    }
    if (strcmp(format, "csv") == 0)
        a->csv = true;
    else if (strcmp(format, "json") != 0) {
        fprintf(stderr, "dcmetrics compute: --format must be json or csv, not '%s'\n", format);
        return 2;
    }
    if (!a->config || !a->input) {
        fprintf(stderr, "dcmetrics compute: %s is required\n", !a->config ? "-c FILE" : "--input CSV");
        usage(stderr);
        return 2;
    }
    return 0;
}

static bool parse_when(const char *opt, const char *text, const dcm_calendar *cal, int64_t *out)
{
    dcm_ts_err err = dcm_ts_parse_local(text, cal, out);
    if (err == DCM_TS_OK)
        return true;
    fprintf(stderr, "dcmetrics compute: %s '%s': %s\n", opt, text, dcm_ts_strerror(err));
    return false;
}

/* ------------------------------------------------------------------- JSON */

static dcm_kpi_json_in json_in(const dcm_config *cfg, const dcm_calendar *cal,
                               const dcm_compute_window *w, const char *const *zones)
{
    return (dcm_kpi_json_in){
        .start_ns = w->start_ns,
        .end_ns = w->end_ns,
        .calendar = cal,
        .totals = &w->totals,
        .kpi = &w->kpi,
        .pue_category = cfg->site.pue_category,
        .zone_names = zones,
        .zone_count = cfg->site.zone_count,
    };
}

/* Adds the attributions of window `index` (0: the period, 1 + m: month m) to in; the
 * array returned is the caller's to free. */
static dcm_attribution *with_attribution(dcm_kpi_json_in *in, const dcm_compute_result *res,
                                         size_t index, const char *const *names)
{
    dcm_attribution *a = dcm_compute_attribution(res, index);
    if (a) {
        in->attribution = a;
        in->attribution_count = res->attr_count;
        in->point_names = names;
    }
    return a;
}

static void write_json(dcm_json *j, const dcm_config *cfg, const dcm_calendar *cal,
                       const dcm_compute_result *res, const char *const *zones)
{
    const char **names = res->attr_count ? calloc(res->attr_count, sizeof *names) : NULL;
    for (size_t i = 0; names && i < res->attr_count; i++)
        names[i] = res->attr[i].point;
    dcm_kpi_json_in in = json_in(cfg, cal, &res->period, zones);
    dcm_attribution *pa = names ? with_attribution(&in, res, 0, names) : NULL;
    dcm_json_begin_object(j);
    dcm_json_key(j, "site");
    dcm_json_string(j, cfg->agent.site);
    dcm_kpi_json_period(j, &in);
    dcm_json_key(j, "pue_category");
    if (cfg->site.pue_category >= 1 && cfg->site.pue_category <= 3)
        dcm_json_int(j, cfg->site.pue_category);
    else
        dcm_json_null(j);
    dcm_kpi_json_values(j, &in);
    dcm_json_key(j, "corrections");
    dcm_json_uint(j, res->stats.corrections);
    dcm_json_key(j, "ruleset");
    dcm_json_string(j, DCM_METRICS_RULESET);
    dcm_json_key(j, "months");
    dcm_json_begin_array(j);
    for (size_t m = 0; m < res->month_count; m++) {
        dcm_kpi_json_in mi = json_in(cfg, cal, &res->months[m], zones);
        dcm_attribution *ma = names ? with_attribution(&mi, res, 1 + m, names) : NULL;
        dcm_json_begin_object(j);
        dcm_kpi_json_period(j, &mi);
        dcm_kpi_json_values(j, &mi);
        dcm_json_end_object(j);
        free(ma);
    }
    dcm_json_end_array(j);
    dcm_json_end_object(j);
    free(pa);
    free(names);
}

/* -------------------------------------------------------------------- CSV */

static void write_csv(FILE *f, const dcm_config *cfg, const dcm_calendar *cal,
                      const dcm_compute_result *res)
{
    size_t zones = cfg->site.zone_count < DCM_MAX_ZONES ? cfg->site.zone_count : DCM_MAX_ZONES;
    dcm_kpi_csv_header(f, &cfg->site);
    fputc('\n', f);
    for (size_t m = 0; m < res->month_count; m++) {
        const dcm_compute_window *w = &res->months[m];
        int y, mo, d, h, mi, s;
        dcm_calendar_utc_to_local(cal, w->start_ns, &y, &mo, &d, &h, &mi, &s);
        char period[16];
        snprintf(period, sizeof period, "%04d-%02d", y, mo);
        dcm_kpi_csv_row(f, period, cal, w, zones);
        fputc('\n', f);
    }
    dcm_kpi_csv_row(f, "total", cal, &res->period, zones);
    fputc('\n', f);
}

/* --------------------------------------------------------------------- run */

static int write_result(const compute_args *a, const dcm_config *cfg, const dcm_calendar *cal,
                        const dcm_compute_result *res)
{
    int rc = 1;
    FILE *f = stdout;
    const char **zones = NULL;
    dcm_json j;
    dcm_json_init(&j, DCM_JSON_PRETTY);
    if (a->output) {
        f = fopen(a->output, "w");
        if (!f) {
            fprintf(stderr, "dcmetrics compute: cannot write %s: %s\n", a->output, strerror(errno));
            goto fail;
        }
    }
    if (a->csv) {
        write_csv(f, cfg, cal, res);
    } else {
        zones = calloc(cfg->site.zone_count + 1, sizeof *zones);
        if (!zones) {
            fprintf(stderr, "dcmetrics compute: out of memory\n");
            goto fail;
        }
        for (size_t z = 0; z < cfg->site.zone_count; z++)
            zones[z] = cfg->site.zones[z].name;
        write_json(&j, cfg, cal, res, zones);
        dcm_json_err jerr = dcm_json_error(&j);
        if (jerr) {
            fprintf(stderr, "dcmetrics compute: %s\n", dcm_json_strerror(jerr));
            goto fail;
        }
        size_t len;
        const char *text = dcm_json_text(&j, &len);
        fwrite(text, 1, len, f);
        fputc('\n', f);
    }
    if (fflush(f) != 0 || ferror(f)) {
        fprintf(stderr, "dcmetrics compute: writing %s failed: %s\n",
                a->output ? a->output : "stdout", strerror(errno));
        goto fail;
    }
    rc = 0;
fail:
    if (f && f != stdout && fclose(f) != 0 && rc == 0) {
        fprintf(stderr, "dcmetrics compute: writing %s failed: %s\n", a->output, strerror(errno));
        rc = 1;
    }
    free(zones);
    dcm_json_free(&j);
    return rc;
}

int dcm_cmd_compute(int argc, char **argv)
{
    compute_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc)
        return rc == 1 ? 0 : 2;

    dcm_config *cfg = NULL;
    FILE *in = NULL;
    dcm_compute_result res;
    memset(&res, 0, sizeof res);
    rc = 2;

    dcm_calendar cal;
    cfg = dcm_cli_load_site("compute", a.config, &cal);
    if (!cfg)
        goto fail;
    dcm_compute_request req = {
        .site = &cfg->site,
        .calendar = &cal,
        .input_name = strcmp(a.input, "-") == 0 ? "stdin" : a.input,
        .messages = stderr,
    };
    if (a.from && !parse_when("--from", a.from, &cal, &req.from_ns))
        goto fail;
    if (a.to && !parse_when("--to", a.to, &cal, &req.to_ns))
        goto fail;
    req.has_from = a.from != NULL;
    req.has_to = a.to != NULL;
    if (req.has_from && req.has_to && req.to_ns <= req.from_ns) {
        fprintf(stderr, "dcmetrics compute: --to must be after --from\n");
        goto fail;
    }

    in = strcmp(a.input, "-") == 0 ? stdin : fopen(a.input, "r");
    if (!in) {
        fprintf(stderr, "dcmetrics compute: cannot read %s: %s\n", a.input, strerror(errno));
        rc = 1;
        goto fail;
    }
    req.input = in;
    dcm_compute_err err = dcm_compute_run(&req, &res);
    dcm_compute_print_summary(&res.stats, req.input_name, stderr);
    if (err) {
        fprintf(stderr, "dcmetrics compute: %s: %s\n", req.input_name, dcm_compute_strerror(err));
        /* A period the user gave that cannot be used is a usage error; the rest is input. */
        rc = (err == DCM_COMPUTE_EPERIOD && (req.has_from || req.has_to)) ? 2 : 1;
        goto fail;
    }
    rc = write_result(&a, cfg, &cal, &res);
fail:
    if (in && in != stdin)
        fclose(in);
    dcm_compute_result_free(&res);
    dcm_config_destroy(cfg);
    return rc;
}
