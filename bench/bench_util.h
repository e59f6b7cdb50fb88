/*
 * bench_util.h - measurement helpers the benchmarks share: a growing text buffer for the
 * configurations they generate, process CPU and memory, a monotonic clock, and quantiles
 * of sorted samples. Header-only (static inline) because every bench_*.c is built as its
 * own executable.
 */
#ifndef DCM_BENCH_UTIL_H
#define DCM_BENCH_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "runtime.h"

/* A NUL-terminated text the caller owns (free(buf)); starts as {0}. */
typedef struct dcm_bench_text {
    char *buf;
    size_t len, cap;
} dcm_bench_text;

static inline bool dcm_bench_append(dcm_bench_text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends printf-style; false (t unchanged but still valid) on allocation failure. */
static inline bool dcm_bench_append(dcm_bench_text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return false;
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return true;
        }
        size_t cap = t->cap ? t->cap * 2 : 65536;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *b = realloc(t->buf, cap);
        if (!b)
            return false;
        t->buf = b;
        t->cap = cap;
    }
}

/* qsort comparator for doubles, ascending. */
static inline int dcm_bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile (0 <= q < 1) of n > 0 ascending samples, by rank floor(n * q). */
static inline double dcm_bench_quantile(const double *sorted, size_t n, double q)
{
    return sorted[(size_t)((double)n * q)];
}

/* User + system CPU seconds of RUSAGE_SELF or RUSAGE_CHILDREN. */
static inline double dcm_bench_cpu_s(int who)
{
    struct rusage ru;
    getrusage(who, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* A "Key: N kB" line of /proc/self/status (VmRSS, VmHWM), in kB, or -1. */
static inline long dcm_bench_status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    size_t klen = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':')
            kb = strtol(line + klen + 1, NULL, 10);
    if (f)
        fclose(f);
    return kb;
}

/* Seconds on the monotonic clock. */
static inline double dcm_bench_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Ends a measured run: reads how many samples the bus dropped, then stops the runtime. */
static inline uint64_t dcm_bench_stop_runtime(dcm_runtime *rt)
{
    dcm_snapshot *snap = dcm_runtime_snapshot(rt);
    pthread_mutex_lock(&snap->lock);
    uint64_t dropped = snap->samples_dropped;
    pthread_mutex_unlock(&snap->lock);
    dcm_runtime_stop(rt);
    return dropped;
}

#endif
