/*
 * procstat.h - CPU time counters from /proc/stat and the utilisation between two reads.
 *
 * Ownership: dcm_procstat_read() fills a snapshot the caller frees with
 * dcm_procstat_free(); a snapshot may be read into again (its arrays are reused).
 */
#ifndef DCM_PROCSTAT_H
#define DCM_PROCSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum dcm_procstat_err {
    DCM_PROCSTAT_OK = 0,
    DCM_PROCSTAT_EIO,     /* the file cannot be opened or read (errno kept) */
    DCM_PROCSTAT_EFORMAT, /* no "cpu" line with the eight time fields */
    DCM_PROCSTAT_ENOMEM,
} dcm_procstat_err;

const char *dcm_procstat_strerror(dcm_procstat_err err);

/* USER_HZ ticks since boot: idle = idle + iowait; total = the first eight fields (user
 * nice system idle iowait irq softirq steal; guest is already inside user). */
typedef struct dcm_cpu_ticks {
    uint64_t idle;
    uint64_t total;
} dcm_cpu_ticks;

typedef struct dcm_cpu_line {
    int id; /* N of "cpuN" */
    dcm_cpu_ticks ticks;
} dcm_cpu_line;

typedef struct dcm_procstat {
    dcm_cpu_ticks all;  /* the "cpu" line */
    dcm_cpu_line *cpu;  /* "cpuN" lines, in file order */
    size_t ncpu, cap;
} dcm_procstat;

/* The stat file under root ("/" or a test directory): <root>/proc/stat. */
int dcm_procstat_path(const char *root, char *out, size_t size);

dcm_procstat_err dcm_procstat_read(const char *path, dcm_procstat *snap);
void dcm_procstat_free(dcm_procstat *snap);

/* Utilisation in % between two reads: 100 x (1 - d(idle) / d(total)). False when no time
 * passed or a counter went backwards (the value is then unknown). */
bool dcm_procstat_util(const dcm_cpu_ticks *prev, const dcm_cpu_ticks *cur, double *pct);

#endif
