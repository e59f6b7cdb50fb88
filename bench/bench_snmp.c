/*
 * bench_snmp.c - the agent polling many SNMP agents: N devices x K OIDs at a 1 s interval
 * through the whole runtime (the one SNMP event-loop thread, the bus, the pipeline, the
 * KPI engine and the ledger), against snmpd processes started by bench/bench_snmp.sh.
 * Reports the OIDs read per second, the polls that failed, the poll latency (p50, p99,
 * max), the CPU of the process and of the SNMP loop thread per 1,000 OIDs a second, and
 * the resident memory.
 *
 * Usage: bench_snmp --targets FILE --oids FILE [--seconds S] [--warmup S]
 *                   [--max-varbinds N] [--community C] [--inline] [--unit count|W]
 *   FILE of targets: one HOST:PORT a line, one device each; FILE of OIDs: one numeric
 *   OID a line, read from every device (as GET, max_varbinds per request): a profile file
 *   that every device names, or with --inline the points written out in every entry.
 *   o00 is in W and feeds the IT role; the other OIDs are counts (MIB-II counters: carried,
 *   not integrated) or, with --unit W, power readings that the engine integrates and the
 *   ledger stores as every PDU outlet's power would be.
 *   Defaults: 30 s measured after 5 s of warm-up, max_varbinds 60, community public.
 * The last line is a summary for scripts: "RESULT key=value ...".
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#ifdef DCM_WITH_SNMP
#include "dcm/config.h"
#include "dcm/log.h"
#include "fsutil.h"
#include "runtime.h"

#include "bench_util.h"

/* The non-empty lines of a file (without their newline), or NULL. */
static char **read_lines(const char *path, size_t *count)
{
    FILE *f = fopen(path, "r");
    char **lines = NULL, line[256];
    size_t n = 0, cap = 0;
    *count = 0;
    if (!f)
        return NULL;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (n == cap) {
            size_t c = cap ? cap * 2 : 64;
            char **g = realloc(lines, c * sizeof *g);
            if (!g)
                goto fail;
            lines = g;
            cap = c;
        }
        if (!(lines[n] = strdup(line)))
            goto fail;
        n++;
    }
    fclose(f);
    *count = n;
    return lines;
fail:
    fclose(f);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    return NULL;
}

static void free_lines(char **lines, size_t n)
{
    for (size_t i = 0; lines && i < n; i++)
        free(lines[i]);
    free(lines);
}

/* Devices p00001.. with points o00..; p00001.o00 of every device feeds the IT role (as
 * one power reading of a PDU would), so the engine integrates one point per device. The
 * points are a profile file that every entry names (as a site with 1,000 PDUs of one
 * model would write it), or with `inline` written out in each entry. */
static bool write_profile(const char *path, char **oids, size_t noids, const char *unit)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "name: bench-pdu\ndescription: MIB-II scalars standing in for a PDU's readings\n"
               "points:\n");
    for (size_t i = 0; i < noids; i++)
        fprintf(f, "  - {name: o%02zu, oid: %s, unit: %s}\n", i, oids[i], i == 0 ? "W" : unit);
    return fclose(f) == 0;
}

static char *agent_yaml(char **targets, size_t ntargets, char **oids, size_t noids,
                        int max_varbinds, const char *community, const char *state_dir,
                        const char *profile, const char *unit)
{
    dcm_bench_text t = {0};
    bool ok = dcm_bench_append(&t, "agent: {site: bench, interval: 1s, log_level: warn, state_dir: %s}\n"
                         "collectors:\n", state_dir);
    for (size_t d = 0; ok && d < ntargets; d++) {
        ok = dcm_bench_append(&t, "  - name: p%05zu\n    type: snmp\n    host: \"%s\"\n    version: 2c\n"
                        "    community: %s\n    max_varbinds: %d\n",
                    d + 1, targets[d], community, max_varbinds);
        if (profile) {
            ok = ok && dcm_bench_append(&t, "    profile: %s\n", profile);
            continue;
        }
        ok = ok && dcm_bench_append(&t, "    points:\n");
        for (size_t i = 0; ok && i < noids; i++)
            ok = dcm_bench_append(&t, "      - {name: o%02zu, oid: %s, unit: %s}\n", i, oids[i],
                        i == 0 ? "W" : unit);
    }
    ok = ok && dcm_bench_append(&t, "site:\n  timezone: UTC\n  roles:\n    it: [\"p*.o00\"]\n");
    if (!ok) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

/* ------------------------------------------------------------- listener */

typedef struct tally {
    atomic_bool measuring;
    size_t devices;
    double *ms;         /* poll latencies while measuring */
    size_t n, cap;
    uint64_t oids_ok, oids_bad, polls_failed;
    uint64_t *polls;    /* per device, while measuring */
    int64_t *last_ts;   /* per device: the previous poll's stamp */
    int64_t max_gap_ns; /* longest time between two polls of one device */
    int64_t *first_ok;  /* per device: when its first good poll reached the pipeline */
} tally;

/* Point ids are "pNNNNN.<name>": the device number is read without a scan. */
static void on_sample(void *ctx, const char *id, const char *unit, int64_t ts, double v,
                      dcm_quality q)
{
    tally *t = ctx;
    (void)unit;
    if (id[0] != 'p' || id[6] != '.')
        return;
    const char *name = id + 7;
    if (strcmp(name, "health.up") == 0 && v == 1.0) {
        size_t dev = (size_t)strtoul(id + 1, NULL, 10);
        if (dev >= 1 && dev <= t->devices && !t->first_ok[dev - 1])
            t->first_ok[dev - 1] = dcm_realtime_ns(); /* when it reached the pipeline */
    }
    if (!atomic_load_explicit(&t->measuring, memory_order_relaxed))
        return;
    if (name[0] == 'o') {
        if (q == DCM_QUALITY_OK)
            t->oids_ok++;
        else
            t->oids_bad++;
        return;
    }
    if (strncmp(name, "health.", 7) != 0)
        return;
    if (strcmp(name + 7, "up") == 0) {
        t->polls_failed += v == 0.0;
        return;
    }
    if (strcmp(name + 7, "latency") != 0)
        return;
    size_t dev = (size_t)strtoul(id + 1, NULL, 10);
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 65536;
        double *ms = realloc(t->ms, cap * sizeof *ms);
        if (!ms)
            return;
        t->ms = ms;
        t->cap = cap;
    }
    t->ms[t->n++] = v;
    if (dev >= 1 && dev <= t->devices) {
        t->polls[dev - 1]++;
        if (t->last_ts[dev - 1] && ts - t->last_ts[dev - 1] > t->max_gap_ns)
            t->max_gap_ns = ts - t->last_ts[dev - 1];
        t->last_ts[dev - 1] = ts;
    }
}

/* ------------------------------------------------------------- measures */

/* CPU seconds (user + system) of this process's thread named `comm`, or -1. */
static double thread_cpu_s(const char *comm)
{
    DIR *dir = opendir("/proc/self/task");
    struct dirent *e;
    double out = -1;
    long hz = sysconf(_SC_CLK_TCK);
    while (dir && (e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        char path[300], buf[512];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
        if (f)
            fclose(f);
        buf[n] = '\0';
        /* "tid (comm) state ppid ..." : utime and stime are fields 14 and 15. */
        char *open = strchr(buf, '('), *close = strrchr(buf, ')');
        if (!open || !close || (size_t)(close - open - 1) != strlen(comm) ||
            strncmp(open + 1, comm, strlen(comm)) != 0)
            continue;
        unsigned long ut = 0, st = 0;
        if (sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                   &st) == 2)
            out = (double)(ut + st) / (double)hz;
    }
    if (dir)
        closedir(dir);
    return out;
}

/* Takes yaml (freed once parsed, as `dcmetrics run` drops the file's text). */
static int run(char *yaml, size_t devices, size_t noids, int warmup, int seconds)
{
    dcm_diags diags;
    dcm_config *cfg = NULL;
    dcm_runtime *rt = NULL;
    tally t = {.devices = devices};
    int rc = 1;
    atomic_init(&t.measuring, false);
    t.polls = calloc(devices, sizeof *t.polls);
    t.last_ts = calloc(devices, sizeof *t.last_ts);
    t.first_ok = calloc(devices, sizeof *t.first_ok);
    dcm_diags_init(&diags);
    if (!t.polls || !t.last_ts || !t.first_ok ||
        dcm_config_load_string(yaml, strlen(yaml), "bench-agent", &cfg, &diags) != DCM_CONFIG_OK) {
        dcm_diags_print(&diags, stderr);
        goto out;
    }
    free(yaml);
    yaml = NULL;
    dcm_log_set_level(DCM_LOG_WARN);
    long rss_config = dcm_bench_status_kb("VmRSS");
    dcm_runtime_options ro = {.config = cfg, .speed = 1.0, .listener_count = 1};
    ro.listeners[0] = (dcm_runtime_listener){.on_sample = on_sample, .ctx = &t};
    int64_t started = dcm_realtime_ns();
    dcm_runtime_err err = dcm_runtime_start(&ro, &rt);
    if (err != DCM_RUNTIME_OK) {
        fprintf(stderr, "cannot start: %s\n", dcm_runtime_strerror(err));
        goto out;
    }
    sleep((unsigned)warmup);
    /* The samples are counted on the pipeline thread. */
    atomic_store(&t.measuring, true);
    double t0 = dcm_bench_now_s(), cpu0 = dcm_bench_cpu_s(RUSAGE_SELF);
    double loop0 = thread_cpu_s("dcm-snmp");
    sleep((unsigned)seconds);
    double cpu = dcm_bench_cpu_s(RUSAGE_SELF) - cpu0, loop = thread_cpu_s("dcm-snmp") - loop0;
    double wall = dcm_bench_now_s() - t0;
    atomic_store(&t.measuring, false);
    long rss = dcm_bench_status_kb("VmRSS"), hwm = dcm_bench_status_kb("VmHWM");
    uint64_t dropped = dcm_bench_stop_runtime(rt);
    rt = NULL;

    if (!t.n) {
        fprintf(stderr, "no polls measured\n");
        goto out;
    }
    qsort(t.ms, t.n, sizeof *t.ms, dcm_bench_cmp_double);
    uint64_t min_polls = UINT64_MAX;
    int64_t all_up = 0; /* every device has answered a whole poll, or -1 */
    for (size_t d = 0; d < devices; d++) {
        if (t.polls[d] < min_polls)
            min_polls = t.polls[d];
        if (!t.first_ok[d] || all_up < 0)
            all_up = -1;
        else if (t.first_ok[d] - started > all_up)
            all_up = t.first_ok[d] - started;
    }
    double oids_s = (double)t.oids_ok / wall, offered = (double)(devices * noids);
    double p50 = dcm_bench_quantile(t.ms, t.n, 0.5), p99 = dcm_bench_quantile(t.ms, t.n, 0.99);
    double max = t.ms[t.n - 1];
    double per_k = oids_s > 0 ? 100.0 * cpu / wall / (oids_s / 1000.0) : 0;
    double loop_per_k = oids_s > 0 && loop >= 0 ? 100.0 * loop / wall / (oids_s / 1000.0) : 0;
    printf("devices %zu x %zu OIDs, interval 1 s, %.1f s measured\n", devices, noids, wall);
    printf("OIDs read: %.0f/s of %.0f/s asked (%.1f %%); invalid %llu; failed polls %llu\n",
           oids_s, offered, 100.0 * oids_s / offered, (unsigned long long)t.oids_bad,
           (unsigned long long)t.polls_failed);
    printf("polls: %zu (%.1f/s); fewest polls of one device: %llu; longest time between two "
           "polls of one device: %.3f s\n", t.n, (double)t.n / wall,
           (unsigned long long)min_polls, (double)t.max_gap_ns / 1e9);
    printf("every device answered a whole poll %.1f s after the start%s\n",
           all_up < 0 ? 0.0 : (double)all_up / 1e9, all_up < 0 ? " (never: some did not)" : "");
    printf("poll latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", p50, p99, max);
    printf("agent CPU: %.1f %% of one core = %.3f %% per 1,000 OIDs/s; SNMP loop thread "
           "%.1f %% = %.3f %% per 1,000 OIDs/s\n", 100.0 * cpu / wall, per_k,
           100.0 * loop / wall, loop_per_k);
    printf("agent memory: RSS %ld kB (%ld kB before the runtime starts, with the parsed "
           "configuration), peak %ld kB\n", rss, rss_config, hwm);
    printf("samples dropped by the bus: %llu\n", (unsigned long long)dropped);
    printf("RESULT devices=%zu oids=%zu offered=%.0f oids_s=%.0f failed=%llu invalid=%llu "
           "p50_ms=%.3f p99_ms=%.3f max_ms=%.3f cpu_pct=%.2f cpu_per_k=%.3f loop_pct=%.2f "
           "loop_per_k=%.3f rss_kb=%ld hwm_kb=%ld dropped=%llu min_polls=%llu wall_s=%.1f "
           "all_up_s=%.1f\n",
           devices, noids, offered, oids_s, (unsigned long long)t.polls_failed,
           (unsigned long long)t.oids_bad, p50, p99, max, 100.0 * cpu / wall, per_k,
           100.0 * loop / wall, loop_per_k, rss, hwm, (unsigned long long)dropped,
           (unsigned long long)min_polls, wall, all_up < 0 ? -1.0 : (double)all_up / 1e9);
    rc = 0;
out:
    if (rt)
        dcm_runtime_stop(rt);
    free(yaml);
    dcm_config_destroy(cfg);
    dcm_diags_free(&diags);
    free(t.ms);
    free(t.polls);
    free(t.last_ts);
    free(t.first_ok);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"targets", required_argument, NULL, 't'}, {"oids", required_argument, NULL, 'o'},
        {"seconds", required_argument, NULL, 's'}, {"warmup", required_argument, NULL, 'w'},
        {"max-varbinds", required_argument, NULL, 'm'},
        {"community", required_argument, NULL, 'c'}, {"inline", no_argument, NULL, 'i'},
        {"unit", required_argument, NULL, 'u'},
        {NULL, 0, NULL, 0}};
    const char *targets_file = NULL, *oids_file = NULL, *community = "public", *unit = "count";
    int seconds = 30, warmup = 5, max_varbinds = 60, c;
    bool inline_points = false;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 't': targets_file = optarg; break;
        case 'o': oids_file = optarg; break;
        case 's': seconds = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        case 'm': max_varbinds = atoi(optarg); break;
        case 'c': community = optarg; break;
        case 'i': inline_points = true; break;
        case 'u': unit = optarg; break;
        default: goto usage;
        }
    }
    if (!targets_file || !oids_file || seconds < 1 || warmup < 0 || max_varbinds < 1 ||
        max_varbinds > 256 || strspn(community, "abcdefghijklmnopqrstuvwxyz0123456789-_") !=
                                  strlen(community) ||
        (strcmp(unit, "count") != 0 && strcmp(unit, "W") != 0))
        goto usage;
    size_t ntargets = 0, noids = 0;
    char **targets = read_lines(targets_file, &ntargets), **oids = read_lines(oids_file, &noids);
    char state_dir[256], *yaml = NULL;
    int rc = 1;
    const char *tmp = getenv("TMPDIR");
    snprintf(state_dir, sizeof state_dir, "%s/dcm-bench-snmp-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!targets || !oids || !ntargets || !noids || noids > 100 || ntargets > 99999) {
        fprintf(stderr, "bench_snmp: need 1..99999 targets and 1..100 OIDs (%s, %s)\n",
                targets_file, oids_file);
        goto out;
    }
    if (!mkdtemp(state_dir)) {
        fprintf(stderr, "bench_snmp: %s: %s\n", state_dir, strerror(errno));
        goto out;
    }
    char profile[300];
    snprintf(profile, sizeof profile, "%s/bench-pdu.yaml", state_dir);
    if (!inline_points && !write_profile(profile, oids, noids, unit)) {
        fprintf(stderr, "bench_snmp: cannot write %s: %s\n", profile, strerror(errno));
        dcm_remove_tree(state_dir);
        goto out;
    }
    yaml = agent_yaml(targets, ntargets, oids, noids, max_varbinds, community, state_dir,
                      inline_points ? NULL : profile, unit);
    if (yaml) {
        printf("points: %s; o00 in W, the others in %s\n",
               inline_points ? "written out in every entry" : "one profile file named by every entry",
               unit);
        rc = run(yaml, ntargets, noids, warmup, seconds);
    }
    dcm_remove_tree(state_dir);
out:
    free_lines(targets, ntargets);
    free_lines(oids, noids);
    return rc;
usage:
    fprintf(stderr, "usage: bench_snmp --targets FILE --oids FILE [--seconds S] [--warmup S] "
                    "[--max-varbinds N] [--community C] [--inline] [--unit count|W]\n");
    return 2;
}

#else

int main(void)
{
    fputs("bench_snmp: this build has no SNMP support (DCM_WITH_SNMP=OFF)\n", stderr);
    return 2;
}

#endif
