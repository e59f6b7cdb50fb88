/*
 * bench_modbus.c - the agent polling many Modbus TCP devices: N devices x R registers at a
 * 1 s interval against the facility simulator on loopback, through the whole agent (one
 * worker per device, the bus, the pipeline, the KPI engine and the ledger). Reports the
 * poll latency (p50, p99, max), whether every device was polled every second, the agent's
 * CPU per 1,000 registers a second, and its memory.
 *
 * The simulator runs in a child process so that its CPU is not counted as the agent's
 * (it reports its own at the end).
 *
 * Usage: bench_modbus [--devices N] [--registers R] [--seconds S] [--warmup S]
 *   defaults: 200 devices, 60 registers (30 float32 points in one request), 30 s measured
 *   after 5 s of warm-up.
 */
#include <errno.h>
#include <getopt.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifdef DCM_WITH_MODBUS
#include "fsutil.h"
#include "dcm/config.h"
#include "dcm/log.h"
#include "modbus_server.h"
#include "runtime.h"

#include "bench_util.h"

/* The point list both sides share: R/2 float32 values from address 0, one request. */
static bool points_yaml(dcm_bench_text *t, int registers)
{
    bool ok = dcm_bench_append(t, "    points:\n");
    for (int i = 0; ok && i < registers / 2; i++)
        ok = dcm_bench_append(t, "      - {name: r%02d, address: %d, table: holding, type: f32, unit: kW}\n",
                    i, 2 * i);
    return ok;
}

static char *simulator_yaml(int devices, int registers)
{
    dcm_bench_text t = {0};
    bool ok = dcm_bench_append(&t, "sim: {seed: 1, it_kw: 1200}\ndevices:\n");
    for (int d = 1; ok && d <= devices; d++) {
        ok = dcm_bench_append(&t, "  - unit: %d\n    name: dev%03d\n", d, d) && points_yaml(&t, registers) &&
             dcm_bench_append(&t, "    values:\n      r00: %.6f * it.hall-a.power\n", 1.0 / devices);
        for (int i = 1; ok && i < registers / 2; i++)
            ok = dcm_bench_append(&t, "      r%02d: %d.5\n", i, i);
    }
    if (!ok) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

static char *agent_yaml(int devices, int registers, int port, const char *state_dir)
{
    dcm_bench_text t = {0};
    bool ok = dcm_bench_append(&t, "agent: {site: bench, interval: 1s, log_level: warn, state_dir: %s}\n"
                         "collectors:\n", state_dir);
    for (int d = 1; ok && d <= devices; d++)
        ok = dcm_bench_append(&t, "  - name: dev%03d\n    type: modbus\n    url: tcp://127.0.0.1:%d\n"
                        "    unit: %d\n", d, port, d) &&
             points_yaml(&t, registers);
    ok = ok && dcm_bench_append(&t, "site:\n  timezone: UTC\n  roles:\n    it: [\"dev*.r00\"]\n");
    if (!ok) {
        free(t.buf);
        return NULL;
    }
    return t.buf;
}

/* ------------------------------------------------------------ simulator */

static volatile sig_atomic_t child_stop;

static void on_term(int sig)
{
    (void)sig;
    child_stop = 1;
}

/* Child: serves until SIGTERM; writes its port to fd first (-1 on failure). */
static int run_simulator(const char *yaml, int fd)
{
    dcm_diags diags;
    dcm_mbs_config *cfg = NULL;
    dcm_mbs *srv = NULL;
    char why[256];
    int port = -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    dcm_diags_init(&diags);
    if (dcm_mbs_config_parse_text(yaml, strlen(yaml), "bench-simulator", &cfg, &diags) ==
            DCM_MBS_OK &&
        dcm_mbs_start(cfg, &(dcm_mbs_options){.host = "127.0.0.1", .port = "0"}, &srv, why,
                      sizeof why) == DCM_MBS_OK)
        port = dcm_mbs_port(srv);
    dcm_diags_print(&diags, stderr);
    dcm_diags_free(&diags);
    if (write(fd, &port, sizeof port) != (ssize_t)sizeof port || port < 0)
        goto out;
    double cpu0 = dcm_bench_cpu_s(RUSAGE_SELF);
    while (!child_stop)
        pause();
    dcm_mbs_stats st;
    dcm_mbs_get_stats(srv, &st);
    fprintf(stderr, "simulator: %llu requests answered, %.2f s CPU\n",
            (unsigned long long)st.requests, dcm_bench_cpu_s(RUSAGE_SELF) - cpu0);
out:
    dcm_mbs_stop(srv);
    dcm_mbs_config_destroy(cfg);
    return port < 0 ? 1 : 0;
}

/* ---------------------------------------------------------------- agent */

typedef struct latencies {
    double *ms;
    size_t n, cap;
    atomic_bool measuring;
    uint64_t *polls; /* per device, while measuring */
    int64_t *last_ts; /* per device: the previous poll's time */
    int64_t max_gap_ns; /* the longest time between two polls of one device */
    int devices;
} latencies;

static void on_sample(void *ctx, const char *id, const char *unit, int64_t ts, double v,
                      dcm_quality q)
{
    latencies *l = ctx;
    (void)unit;
    (void)q;
    size_t len = strlen(id);
    static const char suffix[] = ".health.latency";
    if (!atomic_load(&l->measuring) || len < sizeof suffix || strcmp(id + len - (sizeof suffix - 1), suffix))
        return;
    int dev = atoi(id + 3); /* "devNNN.health.latency" */
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 65536;
        double *ms = realloc(l->ms, cap * sizeof *ms);
        if (!ms)
            return;
        l->ms = ms;
        l->cap = cap;
    }
    l->ms[l->n++] = v;
    if (dev >= 1 && dev <= l->devices) {
        l->polls[dev - 1]++;
        if (l->last_ts[dev - 1] && ts - l->last_ts[dev - 1] > l->max_gap_ns)
            l->max_gap_ns = ts - l->last_ts[dev - 1];
        l->last_ts[dev - 1] = ts;
    }
}

static int run_agent(const char *yaml, int devices, int registers, int warmup, int seconds)
{
    dcm_diags diags;
    dcm_config *cfg = NULL;
    dcm_runtime *rt = NULL;
    latencies lat = {.devices = devices};
    int rc = 1;
    atomic_init(&lat.measuring, false);
    lat.polls = calloc((size_t)devices, sizeof *lat.polls);
    lat.last_ts = calloc((size_t)devices, sizeof *lat.last_ts);
    dcm_diags_init(&diags);
    if (!lat.polls || !lat.last_ts ||
        dcm_config_load_string(yaml, strlen(yaml), "bench-agent", &cfg, &diags) != DCM_CONFIG_OK) {
        dcm_diags_print(&diags, stderr);
        goto out;
    }
    dcm_log_set_level(DCM_LOG_WARN);
    long rss_before = dcm_bench_status_kb("VmRSS");
    dcm_runtime_options ro = {.config = cfg, .speed = 1.0, .listener_count = 1};
    ro.listeners[0] = (dcm_runtime_listener){.on_sample = on_sample, .ctx = &lat};
    dcm_runtime_err err = dcm_runtime_start(&ro, &rt);
    if (err != DCM_RUNTIME_OK) {
        fprintf(stderr, "cannot start: %s\n", dcm_runtime_strerror(err));
        goto out;
    }
    sleep((unsigned)warmup);
    /* The samples are counted on the pipeline thread. */
    atomic_store(&lat.measuring, true);
    double t0 = dcm_bench_now_s(), cpu0 = dcm_bench_cpu_s(RUSAGE_SELF);
    sleep((unsigned)seconds);
    double cpu = dcm_bench_cpu_s(RUSAGE_SELF) - cpu0, wall = dcm_bench_now_s() - t0;
    atomic_store(&lat.measuring, false);
    long rss = dcm_bench_status_kb("VmRSS"), hwm = dcm_bench_status_kb("VmHWM");
    uint64_t dropped = dcm_bench_stop_runtime(rt);
    rt = NULL;

    if (!lat.n) {
        fprintf(stderr, "no polls measured\n");
        goto out;
    }
    qsort(lat.ms, lat.n, sizeof *lat.ms, dcm_bench_cmp_double);
    uint64_t min_polls = UINT64_MAX;
    for (int d = 0; d < devices; d++)
        if (lat.polls[d] < min_polls)
            min_polls = lat.polls[d];
    double regs_per_s = (double)lat.n * registers / wall;
    printf("devices %d x %d registers, interval 1 s, %.1f s measured\n", devices, registers, wall);
    printf("polls: %zu (%.1f/s); fewest polls of one device: %llu; longest time between two "
           "polls of one device: %.3f s\n", lat.n, (double)lat.n / wall,
           (unsigned long long)min_polls, (double)lat.max_gap_ns / 1e9);
    printf("poll latency: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n",
           dcm_bench_quantile(lat.ms, lat.n, 0.5), dcm_bench_quantile(lat.ms, lat.n, 0.99),
           lat.ms[lat.n - 1]);
    printf("agent CPU: %.1f %% of one core for %.0f registers/s = %.3f %% per 1,000 registers/s\n",
           100.0 * cpu / wall, regs_per_s, 100.0 * cpu / wall / (regs_per_s / 1000.0));
    printf("agent memory: RSS %ld kB (%ld kB before start), peak %ld kB\n", rss, rss_before, hwm);
    printf("samples dropped by the bus: %llu\n", (unsigned long long)dropped);
    rc = 0;
out:
    if (rt)
        dcm_runtime_stop(rt);
    dcm_config_destroy(cfg);
    dcm_diags_free(&diags);
    free(lat.ms);
    free(lat.polls);
    free(lat.last_ts);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"devices", required_argument, NULL, 'd'}, {"registers", required_argument, NULL, 'r'},
        {"seconds", required_argument, NULL, 's'}, {"warmup", required_argument, NULL, 'w'},
        {NULL, 0, NULL, 0}};
    int devices = 200, registers = 60, seconds = 30, warmup = 5, c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': devices = atoi(optarg); break;
        case 'r': registers = atoi(optarg); break;
        case 's': seconds = atoi(optarg); break;
        case 'w': warmup = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: bench_modbus [--devices N] [--registers R] [--seconds S] "
                            "[--warmup S]\n");
            return 2;
        }
    }
    if (devices < 1 || devices > 247 || registers < 2 || registers > 124 || registers % 2 ||
        seconds < 1 || warmup < 0) {
        fprintf(stderr, "bench_modbus: devices 1..247, registers an even 2..124, seconds >= 1\n");
        return 2;
    }
    char state_dir[256];
    const char *tmp = getenv("TMPDIR");
    snprintf(state_dir, sizeof state_dir, "%s/dcm-bench-modbus-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    char *sim_yaml = simulator_yaml(devices, registers);
    int fds[2], port = -1, rc = 1;
    pid_t child = -1;
    if (!sim_yaml || !mkdtemp(state_dir) || pipe(fds) != 0) {
        fprintf(stderr, "bench_modbus: setup failed: %s\n", strerror(errno));
        free(sim_yaml);
        return 1;
    }
    child = fork();
    if (child == 0) {
        close(fds[0]);
        _exit(run_simulator(sim_yaml, fds[1]));
    }
    close(fds[1]);
    if (child < 0 || read(fds[0], &port, sizeof port) != (ssize_t)sizeof port || port <= 0) {
        fprintf(stderr, "bench_modbus: the simulator did not start\n");
        goto out;
    }
    char *agent = agent_yaml(devices, registers, port, state_dir);
    if (agent) {
        rc = run_agent(agent, devices, registers, warmup, seconds);
        free(agent);
    }
out:
    if (child > 0) {
        kill(child, SIGTERM);
        waitpid(child, NULL, 0);
    }
    close(fds[0]);
    free(sim_yaml);
    dcm_remove_tree(state_dir);
    return rc;
}

#else

int main(void)
{
    fputs("bench_modbus: this build has no Modbus support (DCM_WITH_MODBUS=OFF)\n", stderr);
    return 2;
}

#endif
