/*
 * fake_nvml.c - a stand-in for libnvidia-ml.so.1 that the tests build, so that the nvml
 * collector's real dlopen path runs without NVIDIA hardware. It exports exactly the NVML
 * functions the collector resolves, with NVML's calling conventions and return codes.
 *
 * The GPUs are described by the script file named in DCM_FAKE_NVML (without it,
 * nvmlInit_v2 answers DRIVER_NOT_LOADED, as on a machine without the driver). One
 * directive per line, '#' starts a comment:
 *
 *   init ERROR_CODE                 nvmlInit_v2 fails with this nvmlReturn_t
 *   gpu N key=value ...             declares GPU N (0-based, in order) at time 0
 *   at SECONDS gpu N key=value ...  changes GPU N that many seconds after nvmlInit_v2
 *   at SECONDS reload               the driver reloads: every energy counter restarts at 0
 *
 * keys: name (underscores read as spaces), uuid, power (W), limit (W), util, memutil (%),
 * energy (mJ at time 0), energy=unsupported, fields=unsupported, lost=1 (GPU_IS_LOST
 * from every call on it), lost=0.
 *
 * Time is the real clock (CLOCK_REALTIME, as the agent stamps samples): each GPU's energy
 * counter advances by its current power times the elapsed time, so counter deltas match
 * the power readings the way a real GPU's do.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EXPORT __attribute__((visibility("default")))

#define MAX_GPUS 16
#define MAX_EVENTS 64

typedef struct fake_gpu {
    char name[96];
    char uuid[96];
    double power_w;
    double limit_w;
    unsigned int util, memutil;
    double energy_mj;
    int energy_unsupported;
    int fields_unsupported;
    int lost;
} fake_gpu;

typedef struct fake_event {
    double at_s;
    int gpu;     /* -1: reload */
    char args[256];
} fake_event;

typedef struct fake_field_value {
    unsigned int fieldId;
    unsigned int scopeId;
    long long timestamp;
    long long latencyUsec;
    int valueType;
    int nvmlReturn;
    union {
        double dVal;
        unsigned int uiVal;
        unsigned long ulVal;
        unsigned long long ullVal;
        long long sllVal;
        int siVal;
        unsigned short usVal;
    } value;
} fake_field_value;

typedef struct fake_utilization {
    unsigned int gpu, memory;
} fake_utilization;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static fake_gpu gpus[MAX_GPUS];
static int gpu_count;
static fake_event events[MAX_EVENTS];
static int event_count, events_done;
static int init_refs;
static int init_error;
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
        if (strcmp(k, "name") == 0) {
            snprintf(g->name, sizeof g->name, "%s", v);
            for (char *c = g->name; *c; c++)
                if (*c == '_')
                    *c = ' ';
        } else if (strcmp(k, "uuid") == 0) {
            snprintf(g->uuid, sizeof g->uuid, "%s", v);
        } else if (strcmp(k, "power") == 0) {
            g->power_w = atof(v);
        } else if (strcmp(k, "limit") == 0) {
            g->limit_w = atof(v);
        } else if (strcmp(k, "util") == 0) {
            g->util = (unsigned int)atoi(v);
        } else if (strcmp(k, "memutil") == 0) {
            g->memutil = (unsigned int)atoi(v);
        } else if (strcmp(k, "energy") == 0) {
            g->energy_unsupported = strcmp(v, "unsupported") == 0;
            if (!g->energy_unsupported)
                g->energy_mj = atof(v);
        } else if (strcmp(k, "fields") == 0) {
            g->fields_unsupported = strcmp(v, "unsupported") == 0;
        } else if (strcmp(k, "lost") == 0) {
            g->lost = atoi(v);
        }
    }
}

static void load_script(void)
{
    const char *path = getenv("DCM_FAKE_NVML");
    gpu_count = event_count = events_done = 0;
    init_error = 9; /* DRIVER_NOT_LOADED */
    if (!path)
        return;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    init_error = 0;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        line[strcspn(line, "\r\n")] = '\0';
        int n = 0, idx = 0;
        double at = 0;
        if (sscanf(line, " init %d", &init_error) == 1)
            continue;
        if (sscanf(line, " gpu %d %n", &idx, &n) == 1 && idx == gpu_count && idx < MAX_GPUS) {
            fake_gpu *g = &gpus[gpu_count++];
            memset(g, 0, sizeof *g);
            snprintf(g->name, sizeof g->name, "Fake GPU");
            snprintf(g->uuid, sizeof g->uuid, "GPU-00000000-0000-0000-0000-%012d", idx);
            apply_args(g, line + n);
        } else if (event_count < MAX_EVENTS && sscanf(line, " at %lf gpu %d %n", &at, &idx, &n) == 2) {
            fake_event *e = &events[event_count++];
            e->at_s = at;
            e->gpu = idx;
            snprintf(e->args, sizeof e->args, "%s", line + n);
        } else if (event_count < MAX_EVENTS && sscanf(line, " at %lf reload%n", &at, &n) == 1 && n > 0) {
            fake_event *e = &events[event_count++];
            e->at_s = at;
            e->gpu = -1;
        }
    }
    fclose(f);
}

static void integrate_to(double t)
{
    double dt = t - last_s;
    if (dt <= 0)
        return;
    for (int i = 0; i < gpu_count; i++)
        gpus[i].energy_mj += gpus[i].power_w * dt * 1000.0;
    last_s = t;
}

/* Brings the GPUs to the present: integrate up to each due event, apply it, go on. */
static void advance(void)
{
    double t = now_s();
    while (events_done < event_count && t0_s + events[events_done].at_s <= t) {
        fake_event *e = &events[events_done++];
        integrate_to(t0_s + e->at_s);
        if (e->gpu < 0) {
            for (int i = 0; i < gpu_count; i++)
                gpus[i].energy_mj = 0;
        } else if (e->gpu < gpu_count) {
            char args[256];
            snprintf(args, sizeof args, "%s", e->args);
            apply_args(&gpus[e->gpu], args);
        }
    }
    integrate_to(t);
}

/* Locks, brings time forward and checks the handle; returns the GPU or NULL with *rc. */
static fake_gpu *enter(void *dev, int *rc)
{
    pthread_mutex_lock(&lock);
    if (init_refs <= 0) {
        *rc = 1; /* UNINITIALIZED */
        return NULL;
    }
    advance();
    fake_gpu *g = dev;
    if (!g || g < gpus || g >= gpus + gpu_count) {
        *rc = 2; /* INVALID_ARGUMENT */
        return NULL;
    }
    if (g->lost) {
        *rc = 15; /* GPU_IS_LOST */
        return NULL;
    }
    *rc = 0;
    return g;
}

static int leave(int rc)
{
    pthread_mutex_unlock(&lock);
    return rc;
}

EXPORT int nvmlInit_v2(void)
{
    pthread_mutex_lock(&lock);
    if (init_refs == 0) {
        load_script();
        if (init_error != 0)
            return leave(init_error);
        t0_s = last_s = now_s();
    }
    init_refs++;
    return leave(0);
}

EXPORT int nvmlShutdown(void)
{
    pthread_mutex_lock(&lock);
    if (init_refs <= 0)
        return leave(1);
    init_refs--;
    return leave(0);
}

EXPORT const char *nvmlErrorString(int rc)
{
    switch (rc) {
    case 0: return "Success";
    case 1: return "Uninitialized";
    case 2: return "Invalid Argument";
    case 3: return "Not Supported";
    case 4: return "Insufficient Permissions";
    case 9: return "Driver Not Loaded";
    case 15: return "GPU is lost";
    }
    return "Unknown Error";
}

EXPORT int nvmlDeviceGetCount_v2(unsigned int *count)
{
    pthread_mutex_lock(&lock);
    if (init_refs <= 0)
        return leave(1);
    *count = (unsigned int)gpu_count;
    return leave(0);
}

EXPORT int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void **dev)
{
    pthread_mutex_lock(&lock);
    if (init_refs <= 0)
        return leave(1);
    if (index >= (unsigned int)gpu_count)
        return leave(2);
    *dev = &gpus[index];
    return leave(gpus[index].lost ? 15 : 0);
}

static int copy_string(const char *s, char *buf, unsigned int size)
{
    if (strlen(s) + 1 > size)
        return 7; /* INSUFFICIENT_SIZE */
    memcpy(buf, s, strlen(s) + 1);
    return 0;
}

EXPORT int nvmlDeviceGetName(void *dev, char *buf, unsigned int size)
{
    int rc;
    fake_gpu *g = enter(dev, &rc);
    return leave(g ? copy_string(g->name, buf, size) : rc);
}

EXPORT int nvmlDeviceGetUUID(void *dev, char *buf, unsigned int size)
{
    int rc;
    fake_gpu *g = enter(dev, &rc);
    return leave(g ? copy_string(g->uuid, buf, size) : rc);
}

EXPORT int nvmlDeviceGetPowerUsage(void *dev, unsigned int *mw)
{
    int rc;
    fake_gpu *g = enter(dev, &rc);
    if (g)
        *mw = (unsigned int)(g->power_w * 1000.0 + 0.5);
    return leave(rc);
}

EXPORT int nvmlDeviceGetTotalEnergyConsumption(void *dev, unsigned long long *mj)
{
    int rc;
    fake_gpu *g = enter(dev, &rc);
    if (g && g->energy_unsupported)
        rc = 3;
    else if (g)
        *mj = (unsigned long long)g->energy_mj;
    return leave(rc);
}

EXPORT int nvmlDeviceGetUtilizationRates(void *dev, fake_utilization *u)
{
    int rc;
    fake_gpu *g = enter(dev, &rc);
    if (g) {
        u->gpu = g->util;
        u->memory = g->memutil;
    }
    return leave(rc);
}

EXPORT int nvmlDeviceGetEnforcedPowerLimit(void *dev, unsigned int *mw)
{
    int rc;
    fake_gpu *g = enter(dev, &rc);
    if (g && g->limit_w <= 0)
        rc = 3;
    else if (g)
        *mw = (unsigned int)(g->limit_w * 1000.0 + 0.5);
    return leave(rc);
}

EXPORT int nvmlDeviceGetFieldValues(void *dev, int count, fake_field_value *values)
{
    int rc;
    fake_gpu *g = enter(dev, &rc);
    if (!g)
        return leave(rc);
    if (count < 0 || (count > 0 && !values))
        return leave(2);
    for (int i = 0; i < count; i++) {
        fake_field_value *v = &values[i];
        v->timestamp = (long long)(now_s() * 1e6);
        v->latencyUsec = 0;
        v->nvmlReturn = g->fields_unsupported ? 3 : 0;
        if (g->fields_unsupported)
            continue;
        switch (v->fieldId) {
        case 83: /* TOTAL_ENERGY_CONSUMPTION, mJ */
            v->valueType = 3;
            if (g->energy_unsupported)
                v->nvmlReturn = 3;
            else
                v->value.ullVal = (unsigned long long)g->energy_mj;
            break;
        case 185: /* POWER_AVERAGE, mW */
        case 186: /* POWER_INSTANT, mW */
            v->valueType = 1;
            v->value.uiVal = (unsigned int)(g->power_w * 1000.0 + 0.5);
            break;
        default:
            v->nvmlReturn = 3;
        }
    }
    return leave(0);
}
