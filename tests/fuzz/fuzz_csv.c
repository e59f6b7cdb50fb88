/* Arbitrary bytes through the CSV reader, the row parser, the timestamp parser, the JSON
 * string writer and the whole `compute` pipeline (grouping, ordering, integration,
 * windows, KPIs). Any crash, leak or undefined behaviour is a bug. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compute.h"
#include "csv.h"
#include "dcm/config.h"
#include "json.h"
#include "readings.h"
#include "site.h"
#include "timestamp.h"

static const char site_yaml[] = "agent:\n"
                                "  site: fuzz\n"
                                "site:\n"
                                "  timezone: Europe/Berlin\n"
                                "  max_gap: 15m\n"
                                "  roles:\n"
                                "    total: [main.*]\n"
                                "    it: [\"rack.*\", pdu]\n"
                                "    water: [water]\n"
                                "    servers: [cpu]\n"
                                "  zones:\n"
                                "    - {name: a, it: [\"rack.*\"], overhead: [crah]}\n"
                                "  carbon: {location_factor: 0.4, market_factor: 0.5}\n"
                                "  certificates:\n"
                                "    - {period: \"2025\", kwh: 1000}\n";

static dcm_config *cfg;
static dcm_calendar cal;

static void setup_once(void)
{
    if (cfg)
        return;
    dcm_diags d;
    dcm_diags_init(&d);
    if (dcm_config_load_string(site_yaml, strlen(site_yaml), "fuzz.yaml", &cfg, &d) != DCM_CONFIG_OK ||
        !dcm_site_calendar(cfg->site.timezone, &cal)) {
        dcm_diags_print(&d, stderr);
        abort(); /* the harness itself is broken */
    }
    dcm_diags_free(&d);
}

static void rows(const uint8_t *data, size_t size)
{
    dcm_csv_reader *r = NULL;
    if (dcm_csv_reader_create_mem(data, size, &r) != DCM_CSV_OK)
        return;
    dcm_reading_columns cols = {.index = {0, 1, 2, 3, 4, 5}, .min_fields = 5};
    bool header = true;
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_array(&j);
    for (;;) {
        dcm_csv_record rec;
        dcm_csv_err err = dcm_csv_next(r, &rec);
        if (err == DCM_CSV_EOF || err == DCM_CSV_EIO || err == DCM_CSV_ENOMEM)
            break;
        if (err != DCM_CSV_OK) {
            (void)dcm_csv_error_detail(r);
            continue;
        }
        char why[256];
        if (header) {
            header = false;
            dcm_reading_columns hc;
            if (dcm_reading_header(&rec, &hc, why, sizeof why))
                cols = hc;
        }
        (void)dcm_reading_is_blank(&rec);
        dcm_reading rd;
        (void)dcm_reading_parse(&cols, &rec, &rd, why, sizeof why);
        for (size_t i = 0; i < rec.count; i++) {
            int64_t t;
            (void)dcm_ts_parse(rec.fields[i], &t);
            (void)dcm_ts_parse_local(rec.fields[i], &cal, &t);
            dcm_json_string_len(&j, rec.fields[i], rec.lengths[i]);
        }
    }
    dcm_json_end_array(&j);
    dcm_json_free(&j);
    dcm_csv_reader_destroy(r);
}

static void compute(const uint8_t *data, size_t size)
{
    if (size == 0)
        return;
    /* fmemopen wants a writable buffer. */
    char *copy = malloc(size);
    if (!copy)
        return;
    memcpy(copy, data, size);
    FILE *f = fmemopen(copy, size, "r");
    if (f) {
        dcm_compute_request req = {
            .site = &cfg->site,
            .calendar = &cal,
            .input = f,
            .input_name = "fuzz.csv",
            .messages = NULL,
        };
        dcm_compute_result res;
        if (dcm_compute_run(&req, &res) == DCM_COMPUTE_OK) {
            dcm_json j;
            dcm_json_init(&j, 0);
            dcm_json_begin_array(&j);
            for (size_t m = 0; m < res.month_count; m++)
                dcm_json_number(&j, res.months[m].kpi.pue.value);
            dcm_json_end_array(&j);
            dcm_json_free(&j);
        }
        dcm_compute_result_free(&res);
        fclose(f);
    }
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    rows(data, size);
    compute(data, size);
    return 0;
}
