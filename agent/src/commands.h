/*
 * commands.h - the CLI subcommands. Each takes the arguments after its name (argv[0] is
 * the subcommand) and returns the process exit code: 0 ok, 2 bad usage or config,
 * 1 runtime failure.
 */
#ifndef DCM_COMMANDS_H
#define DCM_COMMANDS_H

int dcm_cmd_check(int argc, char **argv);   /* dcmetrics check -c FILE */
int dcm_cmd_compute(int argc, char **argv); /* dcmetrics compute -c FILE --input CSV ... */
int dcm_cmd_demo(int argc, char **argv);    /* dcmetrics demo [--json] [--speed N] ... */
int dcm_cmd_report(int argc, char **argv);  /* dcmetrics report -c FILE --period P ... */
int dcm_cmd_run(int argc, char **argv);     /* dcmetrics run -c FILE */
int dcm_cmd_probe(int argc, char **argv);    /* dcmetrics probe modbus URL ... */
int dcm_cmd_probe_gpu(int argc, char **argv); /* dcmetrics probe nvml|rocm [...] */
int dcm_cmd_probe_snmp(int argc, char **argv); /* dcmetrics probe snmp HOST ... (DCM_WITH_SNMP) */
int dcm_cmd_profiles(int argc, char **argv); /* dcmetrics profiles [NAME...] */
int dcm_cmd_simulate(int argc, char **argv); /* dcmetrics simulate [-c FILE] [--listen A] */

#endif
