/*
 * fake_rocm_smi.c - a stand-in for librocm_smi64.so that the tests build, so that the rocm
 * collector's real dlopen path runs without AMD hardware. It exports the ROCm SMI
 * functions the collector resolves, with ROCm SMI's calling conventions and status codes.
 *
 * The GPUs come from the script file named in DCM_FAKE_ROCM (without it, rsmi_init
 * answers RSMI_STATUS_FILE_ERROR, as without the amdgpu driver). One directive a line:
 *
 *   gpu N key=value ...             declares GPU N (0-based, in order) at time 0
 *   at SECONDS gpu N key=value ...  changes GPU N that many seconds after rsmi_init
 *
 * keys: power (W), energy (uJ at time 0), resolution (uJ per count, default 15.259),
 * busy (%), power=unsupported (no power reading, NOT_SUPPORTED), fail=1 (every call on
 * the GPU answers FILE_ERROR, as when it drops off the bus), fail=0.
 *
 * The energy counter advances by the current power times the real elapsed time
 * (CLOCK_REALTIME), so its deltas match the power readings.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_GPUS 16
#define MAX_EVENTS 64

typedef struct fake_gpu {
    double power_w;
    double energy_uj;
    double resolution;
    unsigned int busy;
    int power_unsupported;
    int fail;
} fake_gpu;

typedef struct fake_event {
    double at_s;
    int gpu;
    char args[256];
} fake_event;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static fake_gpu gpus[MAX_GPUS];
static int gpu_count, event_count, events_done, init_refs;
static fake_event events[MAX_EVENTS];
static double t0_s, last_s;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void apply_args(fake_gpu *g, char *args)
{
    for (char *save = NULL, *tok = strtok_r(args, " \t", &save); tok;
         tok = strtok_r(NULL, " \t", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        const char *k = tok, *v = eq + 1;
        if (strcmp(k, "power") == 0) {
            g->power_unsupported = strcmp(v, "unsupported") == 0;
            if (!g->power_unsupported)
                g->power_w = atof(v);
        } else if (strcmp(k, "energy") == 0) {
            g->energy_uj = atof(v);
        } else if (strcmp(k, "resolution") == 0) {
            g->resolution = atof(v);
        } else if (strcmp(k, "busy") == 0) {
            g->busy = (unsigned int)atoi(v);
        } else if (strcmp(k, "fail") == 0) {
            g->fail = atoi(v);
        }
    }
}

/* Returns 0, or 3 (FILE_ERROR) when there is no script. */
static int load_script(void)
{
    const char *path = getenv("DCM_FAKE_ROCM");
    FILE *f = path ? fopen(path, "r") : NULL;
    gpu_count = event_count = events_done = 0;
    if (!f)
        return 3;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        int n = 0, idx = 0;
        double at = 0;
        if (sscanf(line, " gpu %d %n", &idx, &n) == 1 && idx == gpu_count && idx < MAX_GPUS) {
            fake_gpu *g = &gpus[gpu_count++];
            memset(g, 0, sizeof *g);
            g->resolution = 15.259;
            apply_args(g, line + n);
        } else if (event_count < MAX_EVENTS && sscanf(line, " at %lf gpu %d %n", &at, &idx, &n) == 2) {
            fake_event *e = &events[event_count++];
            e->at_s = at;
            e->gpu = idx;
            snprintf(e->args, sizeof e->args, "%s", line + n);
        }
    }
    fclose(f);
    return 0;
}

static void integrate_to(double t)
{
    double dt = t - last_s;
    if (dt <= 0)
        return;
    for (int i = 0; i < gpu_count; i++)
        gpus[i].energy_uj += gpus[i].power_w * dt * 1e6;
    last_s = t;
}

static void advance(void)
{
    double t = now_s();
    while (events_done < event_count && t0_s + events[events_done].at_s <= t) {
        fake_event *e = &events[events_done++];
        integrate_to(t0_s + e->at_s);
        if (e->gpu >= 0 && e->gpu < gpu_count) {
            char args[256];
            snprintf(args, sizeof args, "%s", e->args);
            apply_args(&gpus[e->gpu], args);
        }
    }
    integrate_to(t);
}

static fake_gpu *enter(uint32_t idx, int *rc)
{
    pthread_mutex_lock(&lock);
    if (init_refs <= 0) {
        *rc = 8; /* RSMI_STATUS_INIT_ERROR */
        return NULL;
    }
    advance();
    if (idx >= (uint32_t)gpu_count) {
        *rc = 1; /* INVALID_ARGS */
        return NULL;
    }
    if (gpus[idx].fail) {
        *rc = 3; /* FILE_ERROR */
        return NULL;
    }
    *rc = 0;
    return &gpus[idx];
}

static int leave(int rc)
{
    pthread_mutex_unlock(&lock);
    return rc;
}

EXPORT int rsmi_init(uint64_t flags)
{
    (void)flags;
    pthread_mutex_lock(&lock);
    if (init_refs == 0) {
        int rc = load_script();
        if (rc != 0)
            return leave(rc);
        t0_s = last_s = now_s();
    }
    init_refs++;
    return leave(0);
}

EXPORT int rsmi_shut_down(void)
{
    pthread_mutex_lock(&lock);
    if (init_refs > 0)
        init_refs--;
    return leave(0);
}

EXPORT int rsmi_num_monitor_devices(uint32_t *n)
{
    pthread_mutex_lock(&lock);
    if (init_refs <= 0)
        return leave(8);
    *n = (uint32_t)gpu_count;
    return leave(0);
}

EXPORT int rsmi_dev_power_get(uint32_t idx, uint64_t *uw, int *type)
{
    int rc;
    fake_gpu *g = enter(idx, &rc);
    if (g && g->power_unsupported)
        rc = 2;
    else if (g) {
        *uw = (uint64_t)(g->power_w * 1e6 + 0.5);
        *type = 1; /* RSMI_CURRENT_POWER */
    }
    return leave(rc);
}

EXPORT int rsmi_dev_energy_count_get(uint32_t idx, uint64_t *count, float *resolution,
                                     uint64_t *timestamp)
{
    int rc;
    fake_gpu *g = enter(idx, &rc);
    if (g) {
        *resolution = (float)g->resolution;
        *count = (uint64_t)(g->energy_uj / (double)*resolution);
        *timestamp = (uint64_t)(now_s() * 1e9);
    }
    return leave(rc);
}

EXPORT int rsmi_dev_busy_percent_get(uint32_t idx, uint32_t *busy)
{
    int rc;
    fake_gpu *g = enter(idx, &rc);
    if (g)
        *busy = g->busy;
    return leave(rc);
}

EXPORT int rsmi_status_string(int status, const char **out)
{
    static const char *const text[] = {"RSMI_STATUS_SUCCESS", "RSMI_STATUS_INVALID_ARGS",
                                       "RSMI_STATUS_NOT_SUPPORTED", "RSMI_STATUS_FILE_ERROR",
                                       "RSMI_STATUS_PERMISSION"};
    if (!out)
        return 1;
    *out = status >= 0 && status < 5 ? text[status] : "RSMI_STATUS_UNKNOWN_ERROR";
    return 0;
}
