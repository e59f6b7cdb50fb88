/* One BMC's polling round: login, discovery or reads, as transfers on the shared multi. */
#include "rf_bmc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "json.h"
#include "json_read.h"
#include "runtime.h"

#define NS_PER_MS INT64_C(1000000)
#define MAX_CHASSIS 64
#define MAX_MEMBERS 256
#define SESSIONS_PATH "/redfish/v1/SessionService/Sessions"

enum purpose {
    P_LOGIN = 0,
    P_ROOT,
    P_PE,
    P_PDU_COLL,
    P_PDU,
    P_CHASSIS_COLL,
    P_CHASSIS,
    P_PSU_SUBSYS,
    P_PSU_COLL,
    P_PSU,
    P_SENSOR_COLL,
    P_SENSOR,
    P_TARGET,
};

const char *rf_kind_name(rf_kind k)
{
    switch (k) {
    case RF_K_ENV: return "EnvironmentMetrics";
    case RF_K_PSU: return "PowerSupplies";
    case RF_K_SENSOR_P: return "Sensors";
    case RF_K_SENSOR_E: return "Sensors";
    case RF_K_LEGACY: return "Power";
    case RF_K_PDU: return "RackPDUs";
    }
    return "unknown";
}

void rf_bmc_init(rf_bmc *b, const rf_bmc_spec *spec)
{
    memset(b, 0, sizeof *b);
    b->spec = spec;
}

static void wipe(char *s, size_t n)
{
    volatile char *p = s;
    for (size_t i = 0; i < n; i++)
        p[i] = '\0';
}

void rf_bmc_free(rf_bmc *b)
{
    if (!b)
        return;
    wipe(b->token, sizeof b->token);
    free(b->targets);
    free(b->chassis);
    memset(b, 0, sizeof *b);
}

char *rf_login_body(const rf_bmc_spec *spec)
{
    dcm_json j;
    dcm_json_init(&j, 0);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "UserName");
    dcm_json_string(&j, spec->username ? spec->username : "");
    dcm_json_key(&j, "Password");
    dcm_json_string(&j, spec->password ? spec->password : "");
    dcm_json_end_object(&j);
    size_t len = 0;
    char *out = dcm_json_error(&j) == DCM_JSON_OK ? dcm_json_release(&j, &len) : NULL;
    dcm_json_free(&j);
    return out;
}

/* ------------------------------------------------------------- helpers */

static void fail(rf_bmc *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void fail(rf_bmc *b, const char *fmt, ...)
{
    if (b->failed)
        return; /* the first reason is the one worth telling */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->error, sizeof b->error, fmt, ap);
    va_end(ap);
    b->failed = true;
}

static void get(rf_bmc *b, rf_round *rd, int purpose, int a, int x, const char *path,
                const char *method, const char *body)
{
    if (b->failed)
        return;
    int64_t left = rd->deadline_ns - dcm_monotonic_ns();
    if (left <= 0) {
        fail(b, "no answer within %lld ms", (long long)(rd->timeout_ns / NS_PER_MS));
        return;
    }
    rf_endpoint ep = {
        .base_url = b->spec->url,
        .username = b->spec->username,
        .password = b->spec->password,
        .basic = b->spec->auth == RF_AUTH_BASIC,
        .token = b->spec->auth == RF_AUTH_SESSION ? b->token : NULL,
        .ca_file = b->spec->ca_file,
        .verify = b->spec->verify,
    };
    int64_t ms = left / NS_PER_MS;
    if (!rf_http_start(rd->http, &ep, method, path, body, ms > 0 ? ms : 1, b, purpose, a, x)) {
        fail(b, "out of memory starting a transfer");
        return;
    }
    b->outstanding++;
}

static int add_target(rf_bmc *b, const char *path, rf_kind kind, int chassis, int order)
{
    if (!dcm_grow((void **)&b->targets, &b->target_cap, b->target_count + 1,
                  sizeof *b->targets, 8)) {
        fail(b, "out of memory");
        return -1;
    }
    rf_target *t = &b->targets[b->target_count];
    memset(t, 0, sizeof *t);
    snprintf(t->path, sizeof t->path, "%s", path);
    t->kind = kind;
    t->chassis = chassis;
    t->order = order;
    return (int)b->target_count++;
}

/* ------------------------------------------------------------- phases */

static void start_login(rf_bmc *b, rf_round *rd)
{
    b->phase = RF_PH_LOGIN;
    wipe(b->token, sizeof b->token);
    char *body = rf_login_body(b->spec);
    if (!body) {
        fail(b, "out of memory");
        return;
    }
    get(b, rd, P_LOGIN, 0, 0, SESSIONS_PATH, "POST", body);
    wipe(body, strlen(body));
    free(body);
}

static void start_work(rf_bmc *b, rf_round *rd)
{
    if (b->have_plan) {
        b->phase = RF_PH_READ;
        for (size_t i = 0; i < b->target_count; i++) {
            b->targets[i].ok = false;
            get(b, rd, P_TARGET, (int)i, 0, b->targets[i].path, "GET", NULL);
        }
        return;
    }
    b->phase = RF_PH_DISCOVER;
    b->target_count = 0;
    b->chassis_count = 0;
    get(b, rd, P_ROOT, 0, 0, "/redfish/v1", "GET", NULL);
}

void rf_bmc_begin(rf_bmc *b, rf_round *rd)
{
    b->in_round = true;
    b->outstanding = 0;
    b->failed = false;
    b->relogin = false;
    b->relogged = false;
    b->error[0] = '\0';
    b->started_ns = dcm_monotonic_ns();
    b->finished_ns = 0;
    b->answered = false;
    b->has_power = b->has_energy = false;
    if (b->spec->auth == RF_AUTH_SESSION && !b->token[0])
        start_login(b, rd);
    else
        start_work(b, rd);
}

/* ----------------------------------------------------------- discovery */

static bool chassis_wanted(const rf_bmc *b, const char *path)
{
    if (!b->spec->chassis_count)
        return true;
    const char *id = strrchr(path, '/');
    id = id ? id + 1 : path;
    for (size_t i = 0; i < b->spec->chassis_count; i++)
        if (strcmp(b->spec->chassis[i], id) == 0)
            return true;
    return false;
}

static void on_collection(rf_bmc *b, rf_round *rd, const dcm_jr_node *doc, int purpose, int a)
{
    char (*members)[RF_PATH_MAX] = malloc(MAX_MEMBERS * sizeof *members);
    if (!members) {
        fail(b, "out of memory");
        return;
    }
    size_t n = rf_doc_members(doc, members, MAX_MEMBERS);
    for (size_t i = 0; i < n; i++) {
        switch (purpose) {
        case P_CHASSIS_COLL:
            if (!chassis_wanted(b, members[i]) || b->chassis_count >= MAX_CHASSIS)
                break;
            if (!dcm_grow((void **)&b->chassis, &b->chassis_cap, b->chassis_count + 1,
                          sizeof *b->chassis, 1)) {
                fail(b, "out of memory");
                goto done;
            }
            memset(&b->chassis[b->chassis_count], 0, sizeof *b->chassis);
            memcpy(b->chassis[b->chassis_count].path, members[i], RF_PATH_MAX);
            get(b, rd, P_CHASSIS, (int)b->chassis_count++, 0, members[i], "GET", NULL);
            break;
        case P_PDU_COLL: get(b, rd, P_PDU, -1, (int)i, members[i], "GET", NULL); break;
        case P_PSU_COLL: get(b, rd, P_PSU, a, (int)i, members[i], "GET", NULL); break;
        case P_SENSOR_COLL: get(b, rd, P_SENSOR, a, (int)i, members[i], "GET", NULL); break;
        default: break;
        }
    }
done:
    free(members);
}

static void fetch_target(rf_bmc *b, rf_round *rd, const char *path, rf_kind kind, int chassis,
                         int order)
{
    int t = add_target(b, path, kind, chassis, order);
    if (t >= 0)
        get(b, rd, P_TARGET, t, 0, path, "GET", NULL);
}

static void read_target(rf_target *t, const dcm_jr_node *doc)
{
    double v;
    bool whole;
    memset(&t->r, 0, sizeof t->r);
    switch (t->kind) {
    case RF_K_ENV: rf_doc_environment(doc, &t->r); break;
    case RF_K_PSU: rf_doc_psu_metrics(doc, &t->r); break;
    case RF_K_PDU: rf_doc_pdu_metrics(doc, &t->r); break;
    case RF_K_LEGACY: rf_doc_legacy_power(doc, &t->r); break;
    case RF_K_SENSOR_P:
        if (rf_doc_sensor(doc, &v, &whole) == RF_SENSOR_POWER) {
            t->r.power_w = v;
            t->r.has_power = true;
        }
        break;
    case RF_K_SENSOR_E:
        if (rf_doc_sensor(doc, &v, &whole) == RF_SENSOR_ENERGY) {
            t->r.energy_kwh = v;
            t->r.has_energy = true;
        }
        break;
    }
    t->ok = true;
}

/* The other power resources of chassis c, looked at when EnvironmentMetrics does not
 * give both power and energy. */
static void fall_back(rf_bmc *b, rf_round *rd, int c)
{
    if (c < 0 || (size_t)c >= b->chassis_count || b->chassis[c].fell_back)
        return;
    rf_chassis_probe *ch = &b->chassis[c];
    ch->fell_back = true;
    if (ch->power_subsystem[0])
        get(b, rd, P_PSU_SUBSYS, c, 0, ch->power_subsystem, "GET", NULL);
    if (ch->sensors[0])
        get(b, rd, P_SENSOR_COLL, c, 0, ch->sensors, "GET", NULL);
    if (ch->power[0])
        fetch_target(b, rd, ch->power, RF_K_LEGACY, c, 0);
}

static void on_document(rf_bmc *b, rf_round *rd, const rf_req *req, const dcm_jr_node *doc)
{
    rf_links l;
    rf_doc_links(doc, &l);
    switch (req->purpose) {
    case P_ROOT:
        if (l.chassis[0])
            get(b, rd, P_CHASSIS_COLL, 0, 0, l.chassis, "GET", NULL);
        if (l.power_equipment[0])
            get(b, rd, P_PE, 0, 0, l.power_equipment, "GET", NULL);
        if (!l.chassis[0] && !l.power_equipment[0])
            fail(b, "the service root links neither Chassis nor PowerEquipment");
        break;
    case P_PE:
        if (l.rack_pdus[0])
            get(b, rd, P_PDU_COLL, 0, 0, l.rack_pdus, "GET", NULL);
        break;
    case P_PDU:
        if (l.metrics[0] && !rf_doc_absent(doc))
            fetch_target(b, rd, l.metrics, RF_K_PDU, -1, req->b);
        break;
    case P_CHASSIS:
        if (req->a < 0 || (size_t)req->a >= b->chassis_count)
            break;
        memcpy(b->chassis[req->a].power_subsystem, l.power_subsystem, RF_PATH_MAX);
        memcpy(b->chassis[req->a].sensors, l.sensors, RF_PATH_MAX);
        memcpy(b->chassis[req->a].power, l.power, RF_PATH_MAX);
        if (l.environment[0])
            fetch_target(b, rd, l.environment, RF_K_ENV, req->a, 0);
        else
            fall_back(b, rd, req->a);
        break;
    case P_PSU_SUBSYS:
        if (l.power_supplies[0])
            get(b, rd, P_PSU_COLL, req->a, 0, l.power_supplies, "GET", NULL);
        break;
    case P_PSU:
        /* An empty bay has no metrics and draws nothing. */
        if (!rf_doc_absent(doc) && l.metrics[0])
            fetch_target(b, rd, l.metrics, RF_K_PSU, req->a, req->b);
        break;
    case P_SENSOR: {
        double v;
        bool whole;
        rf_sensor_kind k = rf_doc_sensor(doc, &v, &whole);
        if (k == RF_SENSOR_OTHER || !whole)
            break;
        int t = add_target(b, req->path, k == RF_SENSOR_POWER ? RF_K_SENSOR_P : RF_K_SENSOR_E,
                           req->a, req->b);
        if (t >= 0)
            read_target(&b->targets[t], doc);
        break;
    }
    case P_CHASSIS_COLL:
    case P_PDU_COLL:
    case P_PSU_COLL:
    case P_SENSOR_COLL:
        on_collection(b, rd, doc, req->purpose, req->a);
        break;
    case P_TARGET:
        if (req->a >= 0 && (size_t)req->a < b->target_count) {
            rf_target *t = &b->targets[req->a];
            read_target(t, doc);
            if (b->phase == RF_PH_DISCOVER && t->kind == RF_K_ENV &&
                !(t->r.has_power && t->r.has_energy))
                fall_back(b, rd, t->chassis);
        }
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ responses */

/* Discovery looks into resources a service may lack: a missing one is not an error. */
static bool optional(const rf_bmc *b, int purpose)
{
    return b->phase == RF_PH_DISCOVER && purpose != P_ROOT && purpose != P_CHASSIS_COLL &&
           purpose != P_CHASSIS;
}

static void settle(rf_bmc *b, rf_round *rd);

static void on_login(rf_bmc *b, rf_round *rd, const rf_req *req)
{
    if (req->status != 200 && req->status != 201) {
        fail(b, "session login refused (HTTP %ld)%s", req->status,
             req->status == 401 ? ": check username and password" : "");
        return;
    }
    if (!req->token[0]) {
        fail(b, "session login answered without an X-Auth-Token");
        return;
    }
    memcpy(b->token, req->token, sizeof b->token);
    /* Location may be a path or an absolute URL: keep the path, to delete it at close. */
    const char *p = strstr(req->location, "/redfish/v1");
    if (!p || !rf_path_clean(p, b->session))
        b->session[0] = '\0';
    start_work(b, rd);
}

void rf_bmc_on_done(void *ud, rf_req *req)
{
    rf_round *rd = ud;
    rf_bmc *b = req->owner;
    if (!b || !b->in_round)
        return;
    if (b->outstanding > 0)
        b->outstanding--;
    if (!req->transport_ok) {
        if (req->timed_out)
            fail(b, "no answer within %lld ms (%s)", (long long)(rd->timeout_ns / NS_PER_MS),
                 req->path);
        else
            fail(b, "%s: %s", req->path, req->error);
    } else if (req->purpose == P_LOGIN) {
        on_login(b, rd, req);
    } else if (req->status == 401 && b->spec->auth == RF_AUTH_SESSION && !b->relogged) {
        b->relogin = true; /* the session expired or was deleted: log in again once */
    } else if (req->status == 401 || req->status == 403) {
        fail(b, "unauthorised (HTTP %ld on %s): check username, password and role",
             req->status, req->path);
    } else if (req->status < 200 || req->status > 299) {
        if (!optional(b, req->purpose))
            fail(b, "GET %s: HTTP %ld", req->path, req->status);
        else if (req->purpose == P_TARGET && req->a >= 0 && (size_t)req->a < b->target_count &&
                 b->targets[req->a].kind == RF_K_ENV)
            fall_back(b, rd, b->targets[req->a].chassis);
    } else {
        dcm_jr_doc *doc = NULL;
        size_t at = 0;
        dcm_jr_err e = dcm_jr_parse(req->body ? req->body : "", req->len, &doc, &at);
        if (e != DCM_JR_OK) {
            if (!optional(b, req->purpose) || e == DCM_JR_ENOMEM)
                fail(b, "%s: %s (at byte %zu)", req->path, dcm_jr_strerror(e), at);
        } else {
            on_document(b, rd, req, dcm_jr_root(doc));
        }
        dcm_jr_free(doc);
    }
    if (b->outstanding == 0)
        settle(b, rd);
}

static void settle(rf_bmc *b, rf_round *rd)
{
    if (b->relogin && !b->failed) {
        b->relogin = false;
        b->relogged = true;
        start_login(b, rd);
        if (b->outstanding > 0)
            return;
    }
    if (!b->failed && b->phase == RF_PH_DISCOVER) {
        char why[200];
        if (rf_plan_choose(b, why, sizeof why))
            b->have_plan = true;
        else
            fail(b, "%s", why);
    }
    if (b->phase == RF_PH_DISCOVER) {
        /* The plan holds what is needed from here on. */
        free(b->chassis);
        b->chassis = NULL;
        b->chassis_count = b->chassis_cap = 0;
    }
    if (!b->failed && b->phase != RF_PH_LOGIN) {
        rf_plan_sum(b);
        b->answered = true;
    }
    if (!b->failed && !b->answered)
        fail(b, "round ended without a reading");
    b->finished_ns = dcm_monotonic_ns();
    b->in_round = false;
}

void rf_bmc_end(rf_bmc *b, rf_round *rd)
{
    if (b->in_round) {
        /* rf_http_run stopped at the deadline with transfers of b still running. */
        fail(b, "no answer within %lld ms", (long long)(rd->timeout_ns / NS_PER_MS));
        b->finished_ns = dcm_monotonic_ns();
        b->in_round = false;
    }
    b->latency_ms = (double)(b->finished_ns - b->started_ns) / 1e6;
}
