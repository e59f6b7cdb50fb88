/* Arbitrary readings through `dcmetrics report`: the input merged, folded into the
 * period's and months' KPIs, gaps and checks, then written as JSON, CSV and HTML. Any
 * crash, leak or undefined behaviour is a bug; so is markup from the data reaching the
 * HTML page unescaped. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/config.h"
#include "report.h"
#include "site.h"

static const char site_yaml[] = "agent:\n"
                                "  site: fuzz\n"
                                "site:\n"
                                "  name: Fuzz\n"
                                "  timezone: Asia/Taipei\n"
                                "  installed_it_kw: 800\n"
                                "  start_of_operation: 2026-09\n"
                                "  regimes: [eu, enefg, taiwan]\n"
                                "  roles:\n"
                                "    total: [\"tot*\"]\n"
                                "    it: [\"it*\"]\n"
                                "    reused: [heat]\n"
                                "    water: [\"w*\"]\n"
                                "    servers: [\"cpu*\"]\n"
                                "  zones:\n"
                                "    - {name: a, it: [\"it*\"], overhead: [crah]}\n"
                                "  carbon: {location_factor: 0.4, market_factor: 0.5}\n"
                                "  certificates:\n"
                                "    - {period: 2025-Q2, kwh: 1000, type: ppa}\n";

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

typedef bool (*writer)(FILE *, const dcm_report *);

static void write_all(const dcm_report *r)
{
    static const writer writers[] = {dcm_report_write_json, dcm_report_write_csv,
                                     dcm_report_write_html};
    for (size_t i = 0; i < 3; i++) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
            return;
        bool ok = writers[i](f, r);
        fclose(f);
        /* The page has no script of its own: one can only come from the data. */
        if (ok && text && i == 2 && strstr(text, "<script"))
            abort();
        free(text);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    if (size == 0)
        return 0;
    char *copy = malloc(size);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    FILE *f = fmemopen(copy, size, "r");
    if (f) {
        int64_t from, to, unused;
        dcm_site_period(&cal, "2025-01", &from, &unused);
        dcm_site_period(&cal, "2025-05", &to, &unused);
        dcm_report_request req = {
            .config = cfg,
            .calendar = &cal,
            .from_ns = from,
            .to_ns = to,
            .period_label = NULL,
            .input = f,
            .input_name = "fuzz.csv",
            .now_ns = to - DCM_NS_PER_S * 86400 * 10,
        };
        dcm_report rep;
        if (dcm_report_build(&req, &rep) == DCM_REPORT_OK)
            write_all(&rep);
        dcm_report_free(&rep);
        fclose(f);
    }
    free(copy);
    return 0;
}
