/*
 * bench_metrics.c - throughput and memory of the KPI engine on one core.
 *
 * Builds an engine with N points (counters and gauges for energy, water counters, CPU
 * utilisation gauges, zoned IT and overhead), feeds one sample per point per simulated
 * second for M minutes with every window enabled, and reports samples per second of
 * wall time and bytes of state per point. A second phase jumps 30 days ahead with no
 * samples to time the closing of empty minutes.
 *
 * Usage: bench_metrics [--points N] [--minutes M] [--point-minute]
 *   --point-minute  also install an on_point_minute callback (as the agent's ledger does)
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dcm/metrics.h"

#define T0 (INT64_C(1767225600) * DCM_NS_PER_S) /* 2026-01-01T00:00:00Z */

typedef struct counts {
    unsigned long records[DCM_WINDOW_COUNT];
    unsigned long point_minutes;
    double pue_sum;
} counts;

static void on_record(void *ctx, const dcm_kpi_record *r)
{
    counts *c = ctx;
    c->records[r->window]++;
    if (r->kpi->pue.has_value)
        c->pue_sum += r->kpi->pue.value;
}

static void on_point_minute(void *ctx, uint32_t id, int64_t start, int64_t end,
                            const dcm_point_acc *closed, const dcm_point_acc *open_partial,
                            const dcm_point_state *st)
{
    (void)id;
    (void)start;
    (void)end;
    (void)open_partial;
    (void)st;
    counts *c = ctx;
    c->point_minutes += closed->samples > 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t heap_in_use(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* A site-like mix: 40 % IT energy counters, 20 % IT power gauges, 10 % cooling power
 * gauges (zone overhead), 10 % CPU utilisation, 10 % total/grid counters, 10 % water. */
static dcm_point_def point_def(size_t i)
{
    dcm_point_def d;
    memset(&d, 0, sizeof(d));
    d.zone = -1;
    switch (i % 10) {
    case 0: case 1: case 2: case 3:
        d.quantity = DCM_QTY_ENERGY;
        d.kind = DCM_KIND_COUNTER;
        d.wrap_modulus = 4294967.296; /* 32-bit Wh register in kWh */
        d.max_rate = 50.0;
        d.roles = DCM_ROLE_BIT(DCM_ROLE_IT);
        d.zone = (int16_t)(i % 4);
        d.zone_part = DCM_ZONE_IT;
        break;
    case 4: case 5:
        d.quantity = DCM_QTY_ENERGY;
        d.kind = DCM_KIND_GAUGE;
        d.roles = DCM_ROLE_BIT(DCM_ROLE_IT);
        break;
    case 6:
        d.quantity = DCM_QTY_ENERGY;
        d.kind = DCM_KIND_GAUGE;
        d.roles = DCM_ROLE_BIT(DCM_ROLE_COOLING);
        d.zone = (int16_t)(i % 4);
        d.zone_part = DCM_ZONE_OVERHEAD;
        break;
    case 7:
        d.quantity = DCM_QTY_UTILISATION;
        d.kind = DCM_KIND_GAUGE;
        d.roles = DCM_ROLE_BIT(DCM_ROLE_SERVERS);
        break;
    case 8:
        d.quantity = DCM_QTY_ENERGY;
        d.kind = DCM_KIND_COUNTER;
        d.roles = DCM_ROLE_BIT(i % 20 == 8 ? DCM_ROLE_TOTAL : DCM_ROLE_GRID);
        break;
    default:
        d.quantity = DCM_QTY_VOLUME;
        d.kind = DCM_KIND_COUNTER;
        d.roles = DCM_ROLE_BIT(DCM_ROLE_WATER);
        break;
    }
    return d;
}

int main(int argc, char **argv)
{
    size_t points = 10000, minutes = 10;
    bool per_point = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--points") == 0 && i + 1 < argc)
            points = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--minutes") == 0 && i + 1 < argc)
            minutes = strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--point-minute") == 0)
            per_point = true;
        else {
            fprintf(stderr, "usage: %s [--points N] [--minutes M] [--point-minute]\n", argv[0]);
            return 2;
        }
    }
    if (points == 0 || minutes == 0) {
        fprintf(stderr, "points and minutes must be positive\n");
        return 2;
    }

    counts c;
    memset(&c, 0, sizeof(c));
    dcm_engine_config cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.zone_count = 4;
    cfg.params.carbon.has_location = true;
    cfg.params.carbon.location_factor = 0.494;
    cfg.on_record = on_record;
    cfg.on_record_ctx = &c;
    if (per_point) {
        cfg.on_point_minute = on_point_minute;
        cfg.on_point_minute_ctx = &c;
    }

    size_t heap0 = heap_in_use();
    dcm_engine *e = NULL;
    dcm_metrics_err err = dcm_engine_create(&cfg, &e);
    if (err != DCM_METRICS_OK) {
        fprintf(stderr, "engine: %s\n", dcm_metrics_strerror(err));
        return 1;
    }
    double *base = malloc(points * sizeof(*base));
    double *rate = malloc(points * sizeof(*rate));
    if (!base || !rate) {
        fprintf(stderr, "out of memory\n");
        goto fail;
    }
    size_t heap_engine = heap_in_use();
    for (size_t i = 0; i < points; i++) {
        dcm_point_def d = point_def(i);
        err = dcm_engine_add_point(e, &d, NULL);
        if (err != DCM_METRICS_OK) {
            fprintf(stderr, "add_point: %s\n", dcm_metrics_strerror(err));
            goto fail;
        }
        base[i] = (double)(i % 997) * 10.0;
        rate[i] = 1.0 + (double)(i % 13); /* kW, m3/h or % */
    }
    size_t heap1 = heap_in_use();

    /* Samples one second apart, spread over the second as pollers would, the clock
     * advanced once per second. */
    unsigned long samples = 0;
    double t_start = now_s();
    for (size_t s = 0; s < minutes * 60; s++) {
        int64_t sec = T0 + (int64_t)s * DCM_NS_PER_S;
        for (size_t i = 0; i < points; i++) {
            int64_t ts = sec + (int64_t)(i % 1000) * 1000000;
            double v;
            if (point_def(i).kind == DCM_KIND_COUNTER)
                v = base[i] + rate[i] * (double)s / 3600.0;
            else
                v = rate[i] * 10.0 + (double)(s % 7);
            dcm_engine_feed(e, (uint32_t)i, ts, v, DCM_QUALITY_OK);
            samples++;
        }
        dcm_engine_advance(e, sec + DCM_NS_PER_S);
    }
    double t_feed = now_s() - t_start;

    /* Thirty days with no samples: every minute, hour and day still closes in order. */
    t_start = now_s();
    dcm_engine_advance(e, T0 + (int64_t)(minutes + 30 * 1440) * DCM_NS_PER_MIN);
    double t_gap = now_s() - t_start;

    printf("points            %zu\n", points);
    printf("simulated minutes %zu\n", minutes);
    printf("samples           %lu\n", samples);
    printf("feed time s       %.3f\n", t_feed);
    printf("samples per s     %.0f\n", (double)samples / t_feed);
    printf("ns per sample     %.1f\n", t_feed * 1e9 / (double)samples);
    printf("bytes per point   %zu (engine)\n", dcm_engine_bytes_per_point(e));
    printf("heap per point    %.1f (allocated by add_point, malloc overhead included)\n",
           (double)(heap1 - heap_engine) / (double)points);
    printf("engine fixed heap %zu bytes\n", heap_engine - heap0 - 2 * points * sizeof(double));
    printf("30-day gap close  %.3f s\n", t_gap);
    printf("records           1m %lu, 15m %lu, 1h %lu, 1d %lu, month %lu, ttm %lu\n",
           c.records[DCM_WINDOW_1M], c.records[DCM_WINDOW_15M], c.records[DCM_WINDOW_1H],
           c.records[DCM_WINDOW_1D], c.records[DCM_WINDOW_MONTH], c.records[DCM_WINDOW_TTM]);
    if (per_point)
        printf("point-minutes     %lu\n", c.point_minutes);
    dcm_engine_destroy(e);
    free(base);
    free(rate);
    return 0;
fail:
    dcm_engine_destroy(e);
    free(base);
    free(rate);
    return 1;
}
