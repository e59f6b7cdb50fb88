/*
 * cli.c - argument helpers shared by the subcommands.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "site.h"

bool dcm_cli_option(const char *cmd, int argc, char **argv, int *i, const char *shrt,
                    const char *lng, const char **out, bool *bad)
{
    const char *a = argv[*i];
    size_t n = strlen(lng);
    if (strncmp(a, lng, n) == 0 && a[n] == '=') {
        *out = a + n + 1;
        return true;
    }
    if (strcmp(a, lng) != 0 && (!shrt || strcmp(a, shrt) != 0))
        return false;
    if (*i + 1 >= argc) {
        fprintf(stderr, "dcmetrics %s: %s needs a value\n", cmd, a);
        *bad = true;
        return true;
    }
    *out = argv[++*i];
    return true;
}

dcm_config *dcm_cli_load_site(const char *cmd, const char *path, dcm_calendar *cal)
{
    dcm_config *cfg = NULL;
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_config_err err = dcm_config_load(path, &cfg, &diags);
    dcm_diags_print(&diags, stderr);
    dcm_diags_free(&diags);
    if (err != DCM_CONFIG_OK) {
        fprintf(stderr, "dcmetrics %s: %s: %s\n", cmd, path, dcm_config_strerror(err));
        dcm_config_destroy(cfg);
        return NULL;
    }
    if (!dcm_site_calendar(cfg->site.timezone, cal)) {
        fprintf(stderr, "dcmetrics %s: unknown time zone '%s'\n", cmd, cfg->site.timezone);
        dcm_config_destroy(cfg);
        return NULL;
    }
    return cfg;
}
