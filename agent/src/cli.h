/*
 * cli.h - small helpers shared by the subcommands' argument parsers.
 */
#ifndef DCM_CLI_H
#define DCM_CLI_H

#include <stdbool.h>

#include "dcm/config.h"
#include "dcm/metrics.h"

/* Reads "--name VALUE", "--name=VALUE" or "-x VALUE" at argv[*i]. Returns false if argv[*i]
 * is not this option. On a missing value prints "dcmetrics CMD: OPTION needs a value",
 * sets *bad and returns true. shrt may be NULL. */
bool dcm_cli_option(const char *cmd, int argc, char **argv, int *i, const char *shrt,
                    const char *lng, const char **out, bool *bad);

/* Loads the configuration at path for command cmd, prints its diagnostics to stderr and
 * sets up the site's calendar (the process time zone: call before threads). Returns the
 * configuration, or NULL after saying why (the caller exits 2). */
dcm_config *dcm_cli_load_site(const char *cmd, const char *path, dcm_calendar *cal);

#endif
