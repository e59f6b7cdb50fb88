/* A modbus collector entry: URL, timeouts, devices, and each device's points (its
 * profile's, then the entry's own by name). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"
#include "grow.h"
#include "modbus_config.h"

#define NS_PER_MS INT64_C(1000000)

const dcm_config_key dcm_mb_instance_keys[] = {
    {"url", DCM_KEY_STRING, NULL, true,
     "tcp://HOST:PORT ([IPv6]:PORT) or rtu:///dev/PORT?baud=9600&parity=N&data=8&stop=1&rs485=1"},
    {"unit", DCM_KEY_INT, "1", false, "unit id (slave id) of the device"},
    {"profile", DCM_KEY_STRING, NULL, false, "compiled-in device profile (dcmetrics profiles)"},
    {"points", DCM_KEY_LIST, NULL, false, "points of the device, or replacements of profile "
                                          "points by name"},
    {"devices", DCM_KEY_LIST, NULL, false, "several unit ids on this connection: "
                                           "[{name, unit, profile, points}]"},
    {"addressing", DCM_KEY_INT, "0", false, "0: addresses in points are protocol addresses; 1: "
                                            "vendor numbers starting at 1"},
    {"byte_timeout", DCM_KEY_DURATION, NULL, false,
     "longest silence inside a reply (default: the response timeout, at most 500ms)"},
    {"max_registers", DCM_KEY_INT, "125", false, "registers per request, 1..125 (the "
                                                 "profile's limit if lower)"},
    {"max_gap", DCM_KEY_INT, "8", false, "unused registers read over to merge two requests "
                                         "(default: the profile's)"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

const dcm_config_key dcm_mb_device_keys[] = {
    {"name", DCM_KEY_STRING, NULL, true, "device name: point ids are <instance>.<name>.<point>"},
    {"unit", DCM_KEY_INT, "1", false, "unit id (slave id)"},
    {"profile", DCM_KEY_STRING, NULL, false, "compiled-in device profile"},
    {"points", DCM_KEY_LIST, NULL, false, "points, or replacements of profile points by name"},
    {"addressing", DCM_KEY_INT, "0", false, "0 or 1, for the addresses in points"},
    {"max_registers", DCM_KEY_INT, "125", false, "registers per request, 1..125"},
    {"max_gap", DCM_KEY_INT, "8", false, "unused registers read over to merge requests"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

static void err_at(dcm_diags *d, const dcm_node *at, const char *path, const char *key,
                   const char *msg)
{
    char where[256];
    snprintf(where, sizeof where, "%s%s%s", path, key ? "." : "", key ? key : "");
    dcm_diag_at(d, DCM_DIAG_ERROR, at, where, "%s", msg);
}

static void spec_free(dcm_mb_device_spec *s)
{
    for (size_t i = 0; i < s->point_count; i++)
        dcm_mb_point_clear(&s->points[i]);
    free(s->points);
    free(s->name);
    free(s->profile);
    memset(s, 0, sizeof *s);
}

void dcm_mb_instance_free(dcm_mb_instance *inst)
{
    if (!inst)
        return;
    for (size_t i = 0; i < inst->device_count; i++)
        spec_free(&inst->devices[i]);
    free(inst->devices);
    memset(inst, 0, sizeof *inst);
}

/* The device's value of key, else the instance's (for devices: entries), else NULL. */
static const dcm_node *inherit(const dcm_node *dn, const dcm_node *inst, const char *key)
{
    const dcm_node *v = dcm_node_get(dn, key);
    if (v && !dcm_node_is_null(v))
        return v;
    v = inst && inst != dn ? dcm_node_get(inst, key) : NULL;
    return v && !dcm_node_is_null(v) ? v : NULL;
}

static bool read_int(dcm_diags *d, const dcm_node *v, const char *path, const char *key,
                     long long lo, long long hi, long long *out)
{
    long long x;
    if (!dcm_node_as_int(v, &x))
        return false;
    if (x < lo || x > hi) {
        char msg[96];
        snprintf(msg, sizeof msg, "expected %lld..%lld, got %lld", lo, hi, x);
        err_at(d, v, path, key, msg);
        return false;
    }
    *out = x;
    return true;
}

static bool append_point(dcm_mb_device_spec *s, size_t *cap, dcm_mb_point *p)
{
    if (!dcm_grow((void **)&s->points, cap, s->point_count + 1, sizeof *s->points, 16))
        return false;
    s->points[s->point_count++] = *p;
    memset(p, 0, sizeof *p);
    return true;
}

/* The entry's own points: each replaces the profile point of its name, or is added. */
static dcm_mb_err merge_points(dcm_mb_device_spec *s, size_t *cap, size_t from_profile,
                               const dcm_node *list, int addressing, const char *path,
                               dcm_diags *d)
{
    for (size_t i = 0; i < dcm_node_size(list); i++) {
        char where[200];
        snprintf(where, sizeof where, "%s.points[%zu]", path, i);
        dcm_mb_point p;
        dcm_mb_err e = dcm_mb_point_parse(dcm_node_at(list, i), NULL, addressing, where, &p, d);
        if (e == DCM_MB_ENOMEM)
            return e;
        if (e != DCM_MB_OK)
            continue;
        size_t j = 0;
        while (j < s->point_count && strcmp(s->points[j].name, p.name) != 0)
            j++;
        if (j < s->point_count && j >= from_profile) {
            char msg[160];
            snprintf(msg, sizeof msg, "point '%s' is declared twice (first at line %d)",
                     p.name, s->points[j].line);
            err_at(d, dcm_node_at(list, i), where, NULL, msg);
            dcm_mb_point_clear(&p);
        } else if (j < s->point_count) {
            dcm_mb_point_clear(&s->points[j]);
            s->points[j] = p;
        } else if (!append_point(s, cap, &p)) {
            dcm_mb_point_clear(&p);
            return DCM_MB_ENOMEM;
        }
    }
    return DCM_MB_OK;
}

static dcm_mb_err parse_device(const dcm_node *dn, const dcm_node *inst, const dcm_mb_url *url,
                               const char *path, dcm_mb_device_spec *s, dcm_diags *d)
{
    long long x;
    s->node = dn;
    s->unit = 1;
    s->max_registers = DCM_MB_MAX_REGISTERS;
    s->max_gap = DCM_MB_DEFAULT_MAX_GAP;
    const dcm_node *v = dcm_node_get(dn, "unit");
    /* RTU: 0 is the broadcast address (nothing answers), 248..255 are reserved. */
    if (read_int(d, v, path, "unit", url->rtu ? 1 : 0, url->rtu ? 247 : 255, &x))
        s->unit = (int)x;
    int addressing = 0;
    if (read_int(d, v = inherit(dn, inst, "addressing"), path, "addressing", 0, 1, &x))
        addressing = (int)x;
    dcm_mb_profile *prof = NULL;
    const char *name;
    size_t cap = 0;
    dcm_mb_err err = DCM_MB_OK;
    if (dcm_node_as_string(v = dcm_node_get(dn, "profile"), &name)) {
        char where[200];
        snprintf(where, sizeof where, "%s.profile", path);
        err = dcm_mb_profile_load_at(name, v, where, &prof, d);
        if (err == DCM_MB_ENOMEM)
            return err;
        if (!(s->profile = strdup(name)))
            goto nomem;
    }
    if (prof) {
        s->max_registers = prof->max_registers;
        s->max_gap = prof->max_gap;
        s->points = prof->points;
        s->point_count = cap = prof->point_count;
        prof->points = NULL;
        prof->point_count = 0;
        dcm_mb_profile_destroy(prof);
    }
    size_t from_profile = s->point_count;
    const dcm_node *list = dcm_node_get(dn, "points");
    if (dcm_node_kind(list) == DCM_NODE_LIST &&
        merge_points(s, &cap, from_profile, list, addressing, path, d) == DCM_MB_ENOMEM)
        goto nomem;
    /* The lowest limit wins: a profile's limit is the device firmware's. */
    if (read_int(d, v = inherit(dn, inst, "max_registers"), path, "max_registers", 1,
                 DCM_MB_MAX_REGISTERS, &x) && x < s->max_registers)
        s->max_registers = (int)x;
    if (read_int(d, v = inherit(dn, inst, "max_gap"), path, "max_gap", 0, DCM_MB_MAX_REGISTERS,
                 &x))
        s->max_gap = (int)x;
    if (s->point_count == 0 && err == DCM_MB_OK && dcm_node_size(list) == 0)
        err_at(d, dn, path, NULL, "no points: name a profile: or give points:");
    dcm_mb_check_points(s->points, s->point_count, s->max_registers, d);
    return DCM_MB_OK;
nomem:
    return DCM_MB_ENOMEM;
}

static bool reserved_device_name(const char *name)
{
    /* "<instance>.health.*" are the core's points for the instance. */
    return strcmp(name, "health") == 0;
}

static dcm_mb_err parse_devices(const dcm_node *item, const dcm_node *list, const char *path,
                                dcm_mb_instance *out, dcm_diags *d)
{
    static const char *const single_keys[] = {"unit", "profile", "points"};
    for (size_t i = 0; i < 3; i++) {
        const dcm_node *v = dcm_node_get(item, single_keys[i]);
        if (v && !dcm_node_is_null(v)) {
            char msg[160];
            snprintf(msg, sizeof msg, "with devices:, give %s inside each device",
                     single_keys[i]);
            err_at(d, v, path, single_keys[i], msg);
        }
    }
    size_t n = dcm_node_kind(list) == DCM_NODE_LIST ? dcm_node_size(list) : 0;
    if (n == 0) {
        err_at(d, list, path, "devices", "expected at least one device");
        return DCM_MB_OK;
    }
    out->devices = calloc(n, sizeof *out->devices);
    if (!out->devices)
        return DCM_MB_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        char where[160];
        snprintf(where, sizeof where, "%s.devices[%zu]", path, i);
        const dcm_node *dn = dcm_node_at(list, i);
        dcm_cfg_ctx cc = {d, false};
        if (!dcm_cfg_check_keys(&cc, dn, where, dcm_mb_device_keys, NULL))
            continue;
        dcm_mb_device_spec *s = &out->devices[out->device_count++];
        const dcm_node *nn = dcm_node_get(dn, "name");
        const char *name;
        if (dcm_node_as_string(nn, &name)) {
            if (!dcm_mb_name_valid(name) || strchr(name, '.'))
                err_at(d, nn, where, "name",
                       "expected lower-case letters, digits, '_' and '-'");
            else if (reserved_device_name(name))
                err_at(d, nn, where, "name", "'health' is reserved for the instance's health "
                                             "points");
            for (size_t j = 0; j + 1 < out->device_count; j++)
                if (out->devices[j].name && strcmp(out->devices[j].name, name) == 0)
                    err_at(d, nn, where, "name", "another device has this name");
            if (!(s->name = strdup(name)))
                return DCM_MB_ENOMEM;
        }
        if (cc.oom || parse_device(dn, item, &out->url, where, s, d) == DCM_MB_ENOMEM)
            return DCM_MB_ENOMEM;
    }
    /* Two devices with one unit id on one connection would read the same device twice. */
    for (size_t i = 0; i < out->device_count; i++) {
        for (size_t j = 0; j < i; j++) {
            if (out->devices[i].unit != out->devices[j].unit)
                continue;
            char msg[160];
            snprintf(msg, sizeof msg, "unit %d is already device '%s' on this connection",
                     out->devices[i].unit, out->devices[j].name ? out->devices[j].name : "?");
            const dcm_node *un = dcm_node_get(out->devices[i].node, "unit");
            err_at(d, un ? un : out->devices[i].node, path, "devices", msg);
            break;
        }
    }
    return DCM_MB_OK;
}

static void parse_timeouts(const dcm_node *item, int64_t interval_ns, const char *path,
                           dcm_mb_instance *out, dcm_diags *d)
{
    /* `timeout` is the common per-poll deadline; a Modbus entry that sets it sets the
     * response timeout of each request too. Without it: half the interval, at most 1 s. */
    int64_t t;
    out->response_timeout_ns = interval_ns / 2 < 1000 * NS_PER_MS ? interval_ns / 2
                                                                  : 1000 * NS_PER_MS;
    if (out->response_timeout_ns < NS_PER_MS)
        out->response_timeout_ns = NS_PER_MS;
    if (dcm_node_as_duration_ns(dcm_node_get(item, "timeout"), &t) && t >= NS_PER_MS)
        out->response_timeout_ns = t;
    out->byte_timeout_ns = out->response_timeout_ns < 500 * NS_PER_MS ? out->response_timeout_ns
                                                                     : 500 * NS_PER_MS;
    const dcm_node *v = dcm_node_get(item, "byte_timeout");
    if (dcm_node_as_duration_ns(v, &t)) {
        if (t < NS_PER_MS || t > out->response_timeout_ns)
            err_at(d, v, path, "byte_timeout",
                   "expected at least 1ms and at most the response timeout");
        else
            out->byte_timeout_ns = t;
    }
}

dcm_mb_err dcm_mb_instance_parse(const dcm_node *item, int64_t interval_ns, const char *path,
                                 dcm_mb_instance *out, dcm_diags *d)
{
    memset(out, 0, sizeof *out);
    size_t errors = d->errors;
    dcm_mb_err err = DCM_MB_OK;
    const dcm_node *v = dcm_node_get(item, "url");
    const char *s;
    char why[256];
    if (!dcm_node_as_string(v, &s)) {
        if (!v)
            err_at(d, item, path, NULL, "missing required key 'url'");
        return DCM_MB_EINVALID;
    }
    if (!dcm_mb_url_parse(s, &out->url, why, sizeof why)) {
        err_at(d, v, path, "url", why);
        return DCM_MB_EINVALID;
    }
    parse_timeouts(item, interval_ns, path, out, d);
    const dcm_node *list = dcm_node_get(item, "devices");
    if (list && !dcm_node_is_null(list)) {
        err = parse_devices(item, list, path, out, d);
    } else {
        out->devices = calloc(1, sizeof *out->devices);
        if (!out->devices)
            return DCM_MB_ENOMEM;
        out->device_count = 1;
        err = parse_device(item, NULL, &out->url, path, &out->devices[0], d);
    }
    if (err == DCM_MB_OK && d->errors != errors)
        err = DCM_MB_EINVALID;
    return err;
}

/* ------------------------------------------------------------------ check */

void dcm_mb_check_config(const dcm_config *cfg, dcm_diags *diags)
{
    for (size_t i = 0; i < cfg->collector_count; i++) {
        const dcm_collector_config *c = &cfg->collectors[i];
        if (!c->type || strcmp(c->type, "modbus") != 0 || !c->descriptor)
            continue;
        char path[48];
        snprintf(path, sizeof path, "collectors[%zu]", i);
        dcm_mb_instance inst;
        dcm_mb_instance_parse(c->node, c->interval_ns, path, &inst, diags);
        bool rtu = inst.url.rtu;
        char dev[sizeof inst.url.device];
        memcpy(dev, inst.url.device, sizeof dev);
        dcm_mb_instance_free(&inst);
        if (!rtu)
            continue;
        /* One serial port, one owner: two contexts on one tty garble each other's frames. */
        for (size_t j = 0; j < i; j++) {
            const dcm_collector_config *o = &cfg->collectors[j];
            const char *url;
            dcm_mb_url other;
            if (!o->type || strcmp(o->type, "modbus") != 0 ||
                !dcm_node_as_string(dcm_node_get(o->node, "url"), &url) ||
                !dcm_mb_url_parse(url, &other, NULL, 0) || !other.rtu ||
                strcmp(other.device, dev) != 0)
                continue;
            char where[64];
            snprintf(where, sizeof where, "%s.url", path);
            dcm_diag_at(diags, DCM_DIAG_ERROR, dcm_node_get(c->node, "url"), where,
                        "serial port %s is already used by collector '%s': put both "
                        "devices in one entry's devices: list",
                        dev, o->name ? o->name : "?");
            break;
        }
    }
}
