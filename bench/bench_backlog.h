/*
 * bench_backlog.h - the outage the output benchmarks replay: the journal fills while the
 * server is unreachable, then the sink starts and drains it. Header-only (static inline)
 * because every bench_*.c is built as its own executable.
 */
#ifndef DCM_BENCH_BACKLOG_H
#define DCM_BENCH_BACKLOG_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "outputs/journal.h"

#define DCM_BENCH_BACKLOG_POINTS 1000

/* Appends `total` point samples as the pipeline would have during an outage: one poll of
 * DCM_BENCH_BACKLOG_POINTS points ("bench.p0000.power" ...) per second, one commit per
 * poll, timestamps one second apart ending now. Returns 0, or -1 on a journal error. */
static inline int dcm_bench_backlog_fill(dcm_journal *j, uint64_t total)
{
    static char names[DCM_BENCH_BACKLOG_POINTS][24];
    for (int p = 0; p < DCM_BENCH_BACKLOG_POINTS; p++)
        snprintf(names[p], sizeof names[p], "bench.p%04d.power", p);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t polls = (total + DCM_BENCH_BACKLOG_POINTS - 1) / DCM_BENCH_BACKLOG_POINTS;
    int64_t t0 = ((int64_t)now.tv_sec - (int64_t)polls) * 1000000000;
    uint64_t made = 0;
    for (uint64_t k = 0; made < total; k++) {
        for (int p = 0; p < DCM_BENCH_BACKLOG_POINTS && made < total; p++, made++) {
            dcm_jrec r = {.type = DCM_JREC_SAMPLE, .ts_ns = t0 + (int64_t)k * 1000000000,
                          .point = names[p], .unit = "W",
                          .value = 1000.0 + (double)(made % 977) * 0.25};
            if (dcm_journal_append(j, &r) != DCM_JOURNAL_OK)
                return -1;
        }
        if (dcm_journal_commit(j) != DCM_JOURNAL_OK)
            return -1;
    }
    return 0;
}

#endif
