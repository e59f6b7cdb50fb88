/*
 * main.c - the dcmetrics command line. Exit codes: 0 ok, 2 bad usage or configuration,
 * 1 runtime failure.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "dcm/metrics.h"

static void usage(FILE *out)
{
    fputs("usage: dcmetrics COMMAND [options]\n"
          "\n"
          "commands:\n"
          "  run -c FILE              run the agent with a configuration\n"
          "  demo [--json] [--speed N] [--start T] [--until T] [--duration D]\n"
          "                           a simulated data hall with live KPIs (no network, no root)\n"
          "  check -c FILE            validate a configuration and explain every error\n"
          "  compute -c FILE --input CSV [--from T] [--to T] [--format json|csv] [-o FILE]\n"
          "                           KPIs for any period from exported meter data\n"
          "  report -c FILE --period P [--format html|csv|json] [-o FILE] [--input CSV]\n"
          "                           the sustainability report of a year, quarter or month\n"
          "  simulate [-c FILE] [--listen HOST:PORT]\n"
          "                           serve simulated meters over Modbus TCP\n"
          "  probe modbus URL [--unit N] [--table T] --address A --type T | --profile NAME\n"
          "                           read a Modbus device once to commission it\n"
          "  probe nvml|rocm [--library PATH] [--seconds N]\n"
          "                           show each GPU's power and energy counter as NVML/ROCm read them\n"
          "  probe snmp HOST[:PORT] [-v 2c -c C | -v 3 -u USER ...] --oid OID | --walk OID |\n"
          "             --profile NAME|auto\n"
          "                           read an SNMP device once to commission it\n"
          "  profiles [NAME...]       list the compiled-in Modbus device profiles\n"
          "  version                  print the version\n"
          "\n"
          "Run 'dcmetrics COMMAND --help' for a command's options.\n",
          out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return dcm_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return dcm_cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return dcm_cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "compute") == 0)
        return dcm_cmd_compute(argc - 1, argv + 1);
    if (strcmp(cmd, "simulate") == 0)
        return dcm_cmd_simulate(argc - 1, argv + 1);
    if (strcmp(cmd, "probe") == 0)
        return dcm_cmd_probe(argc - 1, argv + 1);
    if (strcmp(cmd, "profiles") == 0)
        return dcm_cmd_profiles(argc - 1, argv + 1);
    if (strcmp(cmd, "report") == 0)
        return dcm_cmd_report(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("dcmetrics %s (KPI rules %s)\n", DCM_VERSION, DCM_METRICS_RULESET);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "dcmetrics: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
