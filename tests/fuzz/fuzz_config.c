/* Fuzzes the configuration loader: any bytes must load or be refused with diagnostics,
 * without a crash, a leak or undefined behaviour. A configuration that loads is also run
 * through the site model, so its tables are exercised as the agent would use them. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "dcm/config.h"
#include "site.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void exercise_site(const dcm_config *cfg)
{
    static const char *const ids[] = {"main.energy", "pdu-a1.energy", "gpus.gpu0.utilization",
                                      "chiller-1.energy", "x"};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        dcm_point_def def;
        dcm_site_map_point(&cfg->site, ids[i], &def);
    }
    dcm_kpi_params params;
    dcm_site_kpi_params(&cfg->site, &params);
    /* UTC: the process time zone is left alone, so runs stay independent. */
    const dcm_calendar utc = {NULL, NULL};
    dcm_instrument_period *periods = NULL;
    size_t n = 0;
    dcm_diags d;
    dcm_diags_init(&d);
    if (dcm_site_instruments(&cfg->site, &utc, &periods, &n, &d))
        free(periods);
    dcm_diags_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *sink;
    if (!sink)
        sink = fopen("/dev/null", "w");
    dcm_config *cfg = NULL;
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_config_err err = dcm_config_load_string((const char *)data, size, "fuzz.yaml", &cfg,
                                                &diags);
    if (err == DCM_CONFIG_OK)
        exercise_site(cfg);
    if (sink)
        dcm_diags_print(&diags, sink);
    dcm_config_destroy(cfg);
    dcm_diags_free(&diags);
    return 0;
}
