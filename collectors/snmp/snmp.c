/* The SNMP collector: one instance per device, all instances on the core's event loop
 * for this type (descriptor->async). Points are declared when first read: a table's rows
 * and an auto-detected profile are only known once the device has answered. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dcm/collector.h"
#include "snmp_dev.h"

#define SLOT_FAILED (UINT32_MAX - 1) /* declaration refused: logged once, not retried */

enum { H_UP = 0, H_LATENCY, H_TIMEOUTS, H_ERRORS, H_COUNT };

typedef struct snmp_state {
    dcm_collector_ctx *ctx;
    dcm_snmp_instance inst;
    dcm_snmp_dev *dev;
    uint32_t health[H_COUNT];
    int64_t now_ns;    /* stamp of the poll in flight */
    bool answered;
    uint64_t values;   /* values emitted by the poll in flight */
} snmp_state;

static void on_value(void *ud, uint32_t *slot, const char *name, const dcm_snmp_point *p,
                     const dcm_snmp_value *raw, double value, dcm_quality q)
{
    snmp_state *st = ud;
    if (*slot == SLOT_FAILED)
        return;
    if (*slot == UINT32_MAX) {
        /* Sums of counters do not wrap as one register does: declared without a width. */
        dcm_point_decl decl = {.name = name, .unit = p->unit, .kind = p->kind,
                               .counter_bits = raw ? p->counter_bits : 0,
                               .counter_scale = p->scale, .max_rate = p->max_rate};
        uint32_t h;
        if (dcm_collector_declare_point(st->ctx, &decl, &h) != 0) {
            *slot = SLOT_FAILED;
            return;
        }
        *slot = h;
    }
    st->values++;
    dcm_collector_emit(st->ctx, *slot, st->now_ns, value, q);
}

static void on_log(void *ud, dcm_log_level level, const char *msg)
{
    snmp_state *st = ud;
    dcm_collector_log(st->ctx, level, "%s", msg);
}

static void snmp_close(void *state)
{
    snmp_state *st = state;
    if (!st)
        return;
    dcm_snmp_dev_destroy(st->dev);
    dcm_snmp_instance_free(&st->inst);
    free(st);
}

static void report(dcm_collector_ctx *ctx, const dcm_diags *d)
{
    for (size_t i = 0; i < d->count; i++) {
        const dcm_diag *g = &d->items[i];
        dcm_collector_log(ctx, g->severity == DCM_DIAG_ERROR ? DCM_LOG_ERROR : DCM_LOG_WARN,
                          "%s:%d:%d: %s%s%s", g->file ? g->file : "?", g->line, g->column,
                          g->path ? g->path : "", g->path && g->path[0] ? ": " : "",
                          g->message ? g->message : "");
    }
}

static dcm_collector_status snmp_init(dcm_collector_ctx *ctx, void **state)
{
    static const struct {
        const char *name, *unit;
    } h[H_COUNT] = {{"device.up", "bool"}, {"device.latency", "ms"},
                    {"device.timeouts", "count"}, {"device.errors", "count"}};
    dcm_diags diags;
    dcm_diags_init(&diags);
    dcm_collector_status rc = DCM_COLLECTOR_FATAL;
    *state = NULL;
    snmp_state *st = calloc(1, sizeof *st);
    if (!st) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
        goto done;
    }
    st->ctx = ctx;
    char path[96];
    snprintf(path, sizeof path, "collectors[%s]", dcm_collector_name(ctx));
    dcm_snmp_err e = dcm_snmp_instance_parse(dcm_collector_config_node(ctx),
                                             dcm_collector_timeout_ns(ctx), path, &st->inst,
                                             &diags);
    report(ctx, &diags);
    if (e != DCM_SNMP_OK) {
        if (e == DCM_SNMP_ENOMEM)
            dcm_collector_log(ctx, DCM_LOG_ERROR, "out of memory");
        goto done;
    }
    dcm_snmp_dev_events ev = {.ud = st, .value = on_value, .log = on_log};
    char why[256];
    e = dcm_snmp_dev_create(&st->inst, &ev, &st->dev, why, sizeof why);
    if (e != DCM_SNMP_OK) {
        dcm_collector_log(ctx, DCM_LOG_ERROR, "%s", why);
        goto done;
    }
    for (int k = 0; k < H_COUNT; k++) {
        dcm_point_decl decl = {.name = h[k].name, .unit = h[k].unit, .kind = DCM_KIND_GAUGE};
        if (dcm_collector_declare_point(ctx, &decl, &st->health[k]) != 0)
            goto done;
    }
    const dcm_snmp_target *t = &st->inst.target;
    dcm_collector_log(ctx, DCM_LOG_INFO, "%s: SNMP v%s%s%s%s, profile %s", t->display,
                      t->version == 2 ? "2c" : t->version == 1 ? "1" : "3",
                      t->version == 3 ? " (" : "",
                      t->version == 3 ? (t->priv ? "authPriv" : t->auth ? "authNoPriv" : "noAuthNoPriv") : "",
                      t->version == 3 ? ")" : "",
                      st->inst.auto_profile ? "auto" : st->inst.profile ? st->inst.profile->name
                                                                         : "none (own points)");
    rc = DCM_COLLECTOR_OK;
done:
    dcm_diags_free(&diags);
    if (rc != DCM_COLLECTOR_OK) {
        snmp_close(st);
        return rc;
    }
    *state = st;
    return rc;
}

static void emit_health(snmp_state *st, bool up)
{
    const dcm_snmp_dev_stats *s = dcm_snmp_dev_stats_get(st->dev);
    dcm_collector_emit(st->ctx, st->health[H_UP], st->now_ns, up ? 1.0 : 0.0, DCM_QUALITY_OK);
    if (up)
        dcm_collector_emit(st->ctx, st->health[H_LATENCY], st->now_ns, s->latency_ms,
                           DCM_QUALITY_OK);
    dcm_collector_emit(st->ctx, st->health[H_TIMEOUTS], st->now_ns, (double)s->timeouts,
                       DCM_QUALITY_OK);
    dcm_collector_emit(st->ctx, st->health[H_ERRORS], st->now_ns, (double)s->errors,
                       DCM_QUALITY_OK);
}

static dcm_collector_status outcome(snmp_state *st, dcm_snmp_err e)
{
    bool up = e == DCM_SNMP_OK;
    emit_health(st, up);
    if (!up && e == DCM_SNMP_ETIMEOUT)
        dcm_collector_log(st->ctx, DCM_LOG_WARN, "%s not answering",
                          st->inst.target.display);
    return up ? DCM_COLLECTOR_OK : DCM_COLLECTOR_RETRY;
}

static dcm_collector_status snmp_begin(void *state, dcm_collector_ctx *ctx, int64_t now_ns)
{
    snmp_state *st = state;
    st->ctx = ctx;
    st->now_ns = now_ns;
    st->values = 0;
    dcm_snmp_err e = dcm_snmp_dev_begin(st->dev);
    return e == DCM_SNMP_OK ? DCM_COLLECTOR_OK : outcome(st, e);
}

static size_t snmp_wait(void *state, struct pollfd *fds, size_t cap, int64_t *timer_ns)
{
    snmp_state *st = state;
    return dcm_snmp_dev_wait(st->dev, fds, cap, timer_ns);
}

static bool snmp_advance(void *state, dcm_collector_ctx *ctx, const struct pollfd *fds,
                         size_t n, int64_t mono_ns, dcm_collector_status *status)
{
    snmp_state *st = state;
    (void)mono_ns;
    st->ctx = ctx;
    bool readable = n > 0 && (fds[0].revents & (POLLIN | POLLERR | POLLHUP));
    dcm_snmp_err e;
    if (!dcm_snmp_dev_advance(st->dev, readable, &e))
        return false;
    *status = outcome(st, e);
    return true;
}

static dcm_collector_status snmp_cancel(void *state, dcm_collector_ctx *ctx)
{
    snmp_state *st = state;
    st->ctx = ctx;
    dcm_snmp_dev_cancel(st->dev);
    return outcome(st, DCM_SNMP_ETIMEOUT);
}

/* Configuration load: what init would refuse (unknown profiles, unreadable or invalid
 * profile files, bad OIDs, credentials), told with file:line:column before anything runs. */
static void snmp_check(const dcm_node *item, const char *path, dcm_diags *diags)
{
    /* The poll deadline only sets the request timeout's default: the entry's own, or the
     * loader's default (the interval, at most 5 s) with the entry's interval if given. */
    const int64_t cap_ns = INT64_C(5000000000);
    int64_t timeout_ns = cap_ns;
    if (!dcm_node_as_duration_ns(dcm_node_get(item, "timeout"), &timeout_ns) &&
        dcm_node_as_duration_ns(dcm_node_get(item, "interval"), &timeout_ns) &&
        timeout_ns > cap_ns)
        timeout_ns = cap_ns;
    if (dcm_snmp_instance_check(item, timeout_ns, path, diags) == DCM_SNMP_ENOMEM)
        dcm_diags_add(diags, DCM_DIAG_ERROR, dcm_node_file(item), dcm_node_line(item),
                      dcm_node_column(item), path, "out of memory");
}

static const dcm_collector_async snmp_async = {
    .begin = snmp_begin,
    .wait = snmp_wait,
    .advance = snmp_advance,
    .cancel = snmp_cancel,
};

const dcm_collector_descriptor dcm_snmp_collector = {
    .name = "snmp",
    .abi_version = DCM_COLLECTOR_ABI,
    .description = "SNMP v1/v2c/v3 devices: PDUs, UPSes, cooling units, hosts",
    .keys = dcm_snmp_instance_keys,
    .init = snmp_init,
    .poll = NULL,
    .close = snmp_close,
    .async = &snmp_async,
    .check = snmp_check,
};
