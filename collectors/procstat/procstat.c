/*
 * procstat.c - the `procstat` collector: the host's CPU utilisation from /proc/stat, for
 * ITEUsv through the site's `servers` role. Utilisation is a difference of two reads, so
 * the first poll only takes the baseline.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/collector.h"
#include "procstat.h"

static const dcm_config_key procstat_keys[] = {
    {"root", DCM_KEY_STRING, "/", false,
     "directory holding proc/stat: / on the host, the host's root mounted elsewhere in a container"},
    {"per_cpu", DCM_KEY_BOOL, "false", false, "also publish cpuN.utilization for every CPU"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

typedef struct procstat_state {
    char path[4096];
    dcm_procstat prev, cur;
    uint32_t total_handle;
    bool per_cpu;
    size_t ncpu;      /* CPUs declared at init */
    int *cpu_id;      /* their ids */
    uint32_t *cpu_handle;
} procstat_state;

static void procstat_close(void *state)
{
    procstat_state *st = state;
    if (!st)
        return;
    dcm_procstat_free(&st->prev);
    dcm_procstat_free(&st->cur);
    free(st->cpu_id);
    free(st->cpu_handle);
    free(st);
}

static dcm_collector_status procstat_init(dcm_collector_ctx *ctx, void **state)
{
    const dcm_node *cfg = dcm_collector_config_node(ctx);
    const dcm_node *n;
    const char *root = "/";
    dcm_collector_status status = DCM_COLLECTOR_FATAL;

    *state = NULL;
    procstat_state *st = calloc(1, sizeof *st);
    if (!st)
        goto nomem;
    if (cfg && (n = dcm_node_get(cfg, "root")) != NULL)
        dcm_node_as_string(n, &root);
    if (cfg && (n = dcm_node_get(cfg, "per_cpu")) != NULL)
        dcm_node_as_bool(n, &st->per_cpu);
    if (dcm_procstat_path(root, st->path, sizeof st->path) != 0) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "root: path too long");
        goto fail;
    }
    dcm_procstat_err err = dcm_procstat_read(st->path, &st->prev);
    if (err != DCM_PROCSTAT_OK) {
        if (err == DCM_PROCSTAT_ENOMEM)
            goto nomem;
        dcm_collector_log(ctx, DCM_LOG_WARN, "disabled: %s: %s%s%s", st->path,
                          dcm_procstat_strerror(err), err == DCM_PROCSTAT_EIO ? ": " : "",
                          err == DCM_PROCSTAT_EIO ? strerror(errno) : "");
        status = DCM_COLLECTOR_DISABLED;
        goto fail;
    }
    dcm_point_decl d = {.name = "cpu.utilization", .unit = "%", .kind = DCM_KIND_GAUGE};
    if (dcm_collector_declare_point(ctx, &d, &st->total_handle) != 0)
        goto fail;
    if (st->per_cpu && st->prev.ncpu > 0) {
        st->cpu_id = calloc(st->prev.ncpu, sizeof *st->cpu_id);
        st->cpu_handle = calloc(st->prev.ncpu, sizeof *st->cpu_handle);
        if (!st->cpu_id || !st->cpu_handle)
            goto nomem;
        for (size_t i = 0; i < st->prev.ncpu; i++) {
            char name[40];
            snprintf(name, sizeof name, "cpu%d.utilization", st->prev.cpu[i].id);
            d.name = name;
            if (dcm_collector_declare_point(ctx, &d, &st->cpu_handle[i]) != 0)
                goto fail;
            st->cpu_id[i] = st->prev.cpu[i].id;
            st->ncpu++;
        }
    }
    dcm_collector_log(ctx, DCM_LOG_INFO, "%s: %zu CPUs%s", st->path, st->prev.ncpu,
                      st->per_cpu ? ", each published" : "");
    /* The counters read now (since boot) are the baseline of the first poll's interval. */
    *state = st;
    return DCM_COLLECTOR_OK;
nomem:
    dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
fail:
    procstat_close(st);
    return status;
}

static const dcm_cpu_ticks *find_cpu(const dcm_procstat *s, int id, size_t hint)
{
    if (hint < s->ncpu && s->cpu[hint].id == id)
        return &s->cpu[hint].ticks;
    for (size_t i = 0; i < s->ncpu; i++)
        if (s->cpu[i].id == id)
            return &s->cpu[i].ticks;
    return NULL; /* taken offline */
}

static dcm_collector_status procstat_poll(void *state, dcm_collector_ctx *ctx, int64_t now_ns)
{
    procstat_state *st = state;
    double pct;
    dcm_procstat_err err = dcm_procstat_read(st->path, &st->cur);
    if (err != DCM_PROCSTAT_OK) {
        dcm_collector_log(ctx, DCM_LOG_WARN, "%s: %s", st->path, dcm_procstat_strerror(err));
        return DCM_COLLECTOR_RETRY;
    }
    bool ok = dcm_procstat_util(&st->prev.all, &st->cur.all, &pct);
    /* Two reads within one clock tick: no time passed, keep the older baseline. */
    if (!ok && st->cur.all.total == st->prev.all.total)
        return DCM_COLLECTOR_OK;
    dcm_collector_emit(ctx, st->total_handle, now_ns, ok ? pct : 0.0,
                       ok ? DCM_QUALITY_OK : DCM_QUALITY_INVALID);
    for (size_t i = 0; i < st->ncpu; i++) {
        const dcm_cpu_ticks *a = find_cpu(&st->prev, st->cpu_id[i], i);
        const dcm_cpu_ticks *b = find_cpu(&st->cur, st->cpu_id[i], i);
        ok = a && b && dcm_procstat_util(a, b, &pct);
        dcm_collector_emit(ctx, st->cpu_handle[i], now_ns, ok ? pct : 0.0,
                           ok ? DCM_QUALITY_OK : DCM_QUALITY_INVALID);
    }
    dcm_procstat tmp = st->prev;
    st->prev = st->cur;
    st->cur = tmp;
    return DCM_COLLECTOR_OK;
}

const dcm_collector_descriptor dcm_procstat_collector = {
    .name = "procstat",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "host CPU utilisation from /proc/stat (total and per CPU), %",
    .keys = procstat_keys,
    .init = procstat_init,
    .poll = procstat_poll,
    .close = procstat_close,
};
