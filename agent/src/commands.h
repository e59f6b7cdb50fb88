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
int dcm_cmd_run(int argc, char **argv);     /* dcmetrics run -c FILE */

#endif
