/* One device's poll as a sequence of requests, one in flight at a time: [v3 engine
 * discovery] -> [auto: sysObjectID, then the candidates' detect subtrees] -> GET of the
 * scalars in chunks -> each table walked with GETBULK (GETNEXT in v1). */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "snmp_lib.h"
#include "snmp_plan.h"

#define MAX_CANDIDATES 16
#define MAX_BULK_VARBINDS 200
#define RESYNC_AFTER_FAILURES 2

typedef enum step {
    ST_IDLE = 0,
    ST_DISCOVER,
    ST_SYSOID,
    ST_DETECT,
    ST_GET,
    ST_WALK,
} step;

/* What `profile: auto` needs while it looks for a profile: a thousand devices with a
 * named profile carry none of it. */
typedef struct auto_detect {
    dcm_snmp_oid sysoid;
    bool have_sysoid;
    const dcm_snmp_profile *cand[MAX_CANDIDATES];
    bool cand_out[MAX_CANDIDATES];
    size_t ncand;
    bool no_match_logged;
} auto_detect;

struct dcm_snmp_dev {
    const dcm_snmp_instance *inst;
    dcm_snmp_dev_events ev;
    dcm_snmp_keys keys;
    void *sessp;
    int fd;
    netsnmp_large_fd_set fdset;
    bool fdset_ready;
    bool keys_ready;    /* v3: user localised to the discovered engine */
    bool need_reopen;
    int fail_streak;
    const dcm_snmp_profile *profile;
    bool planned;
    dcm_snmp_plan plan;
    auto_detect *det;   /* owned; `profile: auto` only */
    /* the poll in flight */
    step st;
    int reqid;
    bool replied;       /* the callback saw the reply (or the timeout) of reqid */
    dcm_snmp_err err;   /* what the step ended with */
    bool retry_step;    /* v1 noSuchName / tooBig: send the step again, adjusted */
    size_t get_pos, get_n;
    size_t walk_pos;
    uint16_t *req_cols; /* owned; per variable of the walk request: its walked column
                         * (allocated with a plan that has tables) */
    size_t nreq_cols;
    int bulk_limit;     /* halved on tooBig */
    struct timespec t0;
    dcm_snmp_dev_stats stats;
};

static void say(dcm_snmp_dev *d, dcm_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(dcm_snmp_dev *d, dcm_log_level lvl, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (lvl <= DCM_LOG_WARN)
        snprintf(d->stats.last_error, sizeof d->stats.last_error, "%.159s", msg);
    if (d->ev.log)
        d->ev.log(d->ev.ud, lvl, msg);
}

/* --------------------------------------------------------------- replies */

static bool add_var(netsnmp_pdu *pdu, const dcm_snmp_oid *o)
{
    oid buf[DCM_SNMP_OID_MAX];
    size_t len;
    dcm_snmp_oid_to_lib(o, buf, &len);
    return snmp_add_null_var(pdu, buf, len) != NULL;
}

static void handle_get(dcm_snmp_dev *d, netsnmp_pdu *pdu)
{
    size_t i = 0;
    for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable) {
        while (d->get_pos + i < d->get_pos + d->get_n && d->plan.scalars[d->get_pos + i].skip)
            i++;
        if (i >= d->get_n)
            break;
        dcm_snmp_value val;
        dcm_snmp_value_from_var(v, &val, NULL);
        dcm_snmp_scalar_emit(&d->plan.scalars[d->get_pos + i], &val, &d->ev);
        i++;
    }
}

static void handle_walk(dcm_snmp_dev *d, netsnmp_pdu *pdu)
{
    dcm_snmp_walk *w = &d->plan.walks[d->walk_pos];
    bool ended[MAX_BULK_VARBINDS] = {false};
    size_t j = 0;
    for (netsnmp_variable_list *v = pdu->variables; v && d->nreq_cols; v = v->next_variable, j++) {
        size_t slot = j % d->nreq_cols;
        int c = d->req_cols[slot];
        if (ended[slot])
            continue;
        dcm_snmp_oid name;
        dcm_snmp_value val;
        bool oom = false;
        dcm_snmp_oid_from_lib(v->name, v->name_length, &name);
        dcm_snmp_value_from_var(v, &val, NULL);
        if (!dcm_snmp_walk_cell(w, (size_t)c, &name, &val, &oom)) {
            ended[slot] = true;
            w->done[c] = true;
            if (oom)
                d->err = DCM_SNMP_ENOMEM;
        }
    }
}

static void handle_detect(dcm_snmp_dev *d, netsnmp_pdu *pdu)
{
    size_t i = 0;
    for (netsnmp_variable_list *v = pdu->variables; v; v = v->next_variable) {
        while (i < d->det->ncand && d->det->cand_out[i])
            i++;
        if (i >= d->det->ncand)
            break;
        dcm_snmp_oid name;
        dcm_snmp_oid_from_lib(v->name, v->name_length, &name);
        if (v->type != SNMP_ENDOFMIBVIEW && v->type != SNMP_NOSUCHOBJECT &&
            dcm_snmp_oid_has_prefix(&name, &d->det->cand[i]->detect) && !d->profile)
            d->profile = d->det->cand[i];
        i++;
    }
}

/* net-snmp error status: noSuchName (v1) or tooBig lead to the step being sent again
 * without the variable / with fewer variables; anything else ends the poll. */
static void handle_error_status(dcm_snmp_dev *d, netsnmp_pdu *pdu)
{
    long idx = pdu->errindex;
    if (pdu->errstat == SNMP_ERR_TOOBIG) {
        if (d->st == ST_GET && d->get_n > 1) {
            d->bulk_limit = (int)(d->get_n / 2);
            d->retry_step = true;
            return;
        }
        if (d->st == ST_WALK && d->bulk_limit > 1) {
            d->bulk_limit /= 2;
            d->retry_step = true;
            return;
        }
    }
    if (pdu->errstat == SNMP_ERR_NOSUCHNAME && idx >= 1) {
        if (d->st == ST_GET) {
            size_t k = 0;
            for (size_t i = 0; i < d->get_n; i++) {
                dcm_snmp_scalar *s = &d->plan.scalars[d->get_pos + i];
                if (s->skip)
                    continue;
                if ((long)++k == idx) {
                    s->skip = true;
                    dcm_snmp_value none = {.type = DCM_SNMP_V_NOSUCHOBJECT};
                    dcm_snmp_scalar_emit(s, &none, &d->ev);
                    d->retry_step = true;
                    return;
                }
            }
        } else if (d->st == ST_WALK && (size_t)idx <= d->nreq_cols) {
            d->plan.walks[d->walk_pos].done[d->req_cols[idx - 1]] = true; /* end of MIB */
            d->retry_step = true;
            return;
        } else if (d->st == ST_DETECT) {
            size_t k = 0;
            for (size_t i = 0; i < d->det->ncand; i++)
                if (!d->det->cand_out[i] && (long)++k == idx) {
                    d->det->cand_out[i] = true;
                    d->retry_step = true;
                    return;
                }
        }
    }
    d->stats.errors++;
    d->err = DCM_SNMP_EPROTO;
    say(d, DCM_LOG_WARN, "%s: error status %ld (%s) at variable %ld",
        d->inst->target.display, pdu->errstat, snmp_errstring((int)pdu->errstat), idx);
}

static int on_reply(int op, netsnmp_session *sess, int reqid, netsnmp_pdu *pdu, void *magic)
{
    dcm_snmp_dev *d = magic;
    if (reqid != d->reqid || d->st == ST_IDLE)
        return 1; /* a late reply to an abandoned poll */
    if (op == NETSNMP_CALLBACK_OP_TIMED_OUT) {
        d->stats.timeouts++;
        d->err = DCM_SNMP_ETIMEOUT;
        d->replied = true;
        return 1;
    }
    if (d->st == ST_DISCOVER && (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE ||
                                 op == NETSNMP_CALLBACK_OP_SEC_ERROR)) {
        /* The agent's report to the empty request: net-snmp hands it over as a security
         * error (no user for it) and takes the engine id from it after we return. */
        d->replied = true;
        return 1;
    }
    if (op != NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE) {
        d->stats.errors++;
        d->err = DCM_SNMP_EIO;
        d->replied = true;
        say(d, DCM_LOG_WARN, "%s: request failed (%s)", d->inst->target.display,
            op == NETSNMP_CALLBACK_OP_SEC_ERROR ? "security error: check user, protocols and pass phrases"
                                                : "send or receive error");
        return 1;
    }
    if (pdu->command == SNMP_MSG_REPORT) {
        int type = snmpv3_get_report_type(pdu);
        if (d->st == ST_DISCOVER) {
            d->replied = true; /* the library takes the engine id from it after we return */
            return 1;
        }
        if (type == SNMPERR_NOT_IN_TIME_WINDOW) {
            /* The agent rebooted (engineBoots changed): the library has learnt the new
             * boots/time from the report and sends the request again. */
            d->stats.resyncs++;
            return 1;
        }
        d->stats.errors++;
        d->err = DCM_SNMP_EPROTO;
        d->replied = true;
        if (type == SNMPERR_UNKNOWN_ENG_ID)
            d->need_reopen = true;
        say(d, DCM_LOG_WARN, "%s: the agent reported: %s", d->inst->target.display,
            snmp_api_errstring(type));
        return 1;
    }
    (void)sess;
    d->replied = true;
    if (pdu->errstat != SNMP_ERR_NOERROR) {
        handle_error_status(d, pdu);
        return 1;
    }
    switch (d->st) {
    case ST_SYSOID:
        if (pdu->variables && pdu->variables->type == ASN_OBJECT_ID) {
            dcm_snmp_value v;
            dcm_snmp_value_from_var(pdu->variables, &v, &d->det->sysoid);
            d->det->have_sysoid = true;
        }
        break;
    case ST_DETECT: handle_detect(d, pdu); break;
    case ST_GET: handle_get(d, pdu); break;
    case ST_WALK: handle_walk(d, pdu); break;
    default: break;
    }
    return 1;
}

/* ----------------------------------------------------------------- sends */

static dcm_snmp_err send_pdu(dcm_snmp_dev *d, netsnmp_pdu *pdu)
{
    if (!pdu)
        return DCM_SNMP_ENOMEM;
    d->replied = false;
    d->retry_step = false;
    int id = snmp_sess_async_send(d->sessp, pdu, on_reply, d);
    if (!id) {
        snmp_free_pdu(pdu); /* not sent: still ours */
        d->stats.errors++;
        netsnmp_session *s = snmp_sess_session(d->sessp);
        say(d, DCM_LOG_WARN, "%s: cannot send: %s", d->inst->target.display,
            snmp_api_errstring(s ? s->s_snmp_errno : 0));
        return DCM_SNMP_EIO;
    }
    d->reqid = id;
    return DCM_SNMP_OK;
}

static dcm_snmp_err send_get(dcm_snmp_dev *d)
{
    size_t limit = d->bulk_limit > 0 ? (size_t)d->bulk_limit : (size_t)d->inst->target.max_varbinds;
    if (!d->retry_step || d->get_n == 0)
        d->get_n = d->plan.nscalars - d->get_pos < limit ? d->plan.nscalars - d->get_pos : limit;
    else if (d->get_n > limit)
        d->get_n = limit;
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GET);
    size_t added = 0;
    for (size_t i = 0; pdu && i < d->get_n; i++) {
        dcm_snmp_scalar *s = &d->plan.scalars[d->get_pos + i];
        if (s->skip)
            continue;
        if (!add_var(pdu, &s->p->oid)) {
            snmp_free_pdu(pdu);
            return DCM_SNMP_ENOMEM;
        }
        added++;
    }
    if (pdu && !added) {
        snmp_free_pdu(pdu);
        d->replied = true; /* nothing left in this chunk: move on */
        return DCM_SNMP_OK;
    }
    return send_pdu(d, pdu);
}

static dcm_snmp_err send_walk(dcm_snmp_dev *d)
{
    dcm_snmp_walk *w = &d->plan.walks[d->walk_pos];
    bool v1 = d->inst->target.version == 1;
    netsnmp_pdu *pdu = snmp_pdu_create(v1 ? SNMP_MSG_GETNEXT : SNMP_MSG_GETBULK);
    if (!pdu)
        return DCM_SNMP_ENOMEM;
    d->nreq_cols = 0;
    for (size_t c = 0; c < w->ncols && d->nreq_cols < MAX_BULK_VARBINDS; c++) {
        if (w->done[c])
            continue;
        if (!add_var(pdu, &w->cursor[c])) {
            snmp_free_pdu(pdu);
            return DCM_SNMP_ENOMEM;
        }
        d->req_cols[d->nreq_cols++] = (uint16_t)c;
    }
    if (!v1) {
        /* Enough repetitions for the whole table in one reply when its size is known. */
        int reps = d->inst->target.max_repetitions > 0 ? d->inst->target.max_repetitions
                                                       : (int)w->last_rows + 1;
        if (reps < 10 && d->inst->target.max_repetitions == 0 && w->last_rows == 0)
            reps = 10;
        int cap = MAX_BULK_VARBINDS / (int)d->nreq_cols;
        if (d->bulk_limit > 0 && d->bulk_limit < cap)
            cap = d->bulk_limit;
        if (reps > cap)
            reps = cap > 0 ? cap : 1;
        pdu->non_repeaters = 0;
        pdu->max_repetitions = reps;
    }
    return send_pdu(d, pdu);
}

static dcm_snmp_err send_oid(dcm_snmp_dev *d, int command, const dcm_snmp_oid *o)
{
    netsnmp_pdu *pdu = snmp_pdu_create(command);
    if (pdu && !add_var(pdu, o)) {
        snmp_free_pdu(pdu);
        return DCM_SNMP_ENOMEM;
    }
    return send_pdu(d, pdu);
}

static dcm_snmp_err send_detect(dcm_snmp_dev *d)
{
    netsnmp_pdu *pdu = snmp_pdu_create(SNMP_MSG_GETNEXT);
    size_t added = 0;
    for (size_t i = 0; pdu && i < d->det->ncand; i++) {
        if (d->det->cand_out[i])
            continue;
        if (!add_var(pdu, &d->det->cand[i]->detect)) {
            snmp_free_pdu(pdu);
            return DCM_SNMP_ENOMEM;
        }
        added++;
    }
    if (pdu && !added) {
        snmp_free_pdu(pdu);
        d->replied = true;
        return DCM_SNMP_OK;
    }
    return send_pdu(d, pdu);
}

/* ---------------------------------------------------------------- steps */

static dcm_snmp_err make_plan(dcm_snmp_dev *d)
{
    if (dcm_snmp_plan_build(&d->plan, d->profile, d->inst) != DCM_SNMP_OK)
        return DCM_SNMP_ENOMEM;
    if (d->plan.nwalks && !d->req_cols &&
        !(d->req_cols = malloc(MAX_BULK_VARBINDS * sizeof *d->req_cols)))
        return DCM_SNMP_ENOMEM;
    d->planned = true;
    if (d->profile)
        d->stats.profile = d->profile->name;
    return DCM_SNMP_OK;
}

static void collect_candidates(dcm_snmp_dev *d)
{
    const dcm_snmp_profile *all[64];
    size_t n = 0, idx[MAX_CANDIDATES];
    for (size_t i = 0; i < dcm_snmp_profile_count() && n < 64; i++) {
        const dcm_snmp_profile *p = dcm_snmp_profile_shared(dcm_snmp_profile_at(i)->name);
        if (p)
            all[n++] = p;
    }
    d->det->ncand = dcm_snmp_auto_candidates(all, n, d->det->have_sysoid ? &d->det->sysoid : NULL, idx,
                                        MAX_CANDIDATES);
    for (size_t i = 0; i < d->det->ncand; i++) {
        d->det->cand[i] = all[idx[i]];
        d->det->cand_out[i] = false;
    }
}

static dcm_snmp_err next(dcm_snmp_dev *d);

static const dcm_snmp_oid sys_object_id = {{1, 3, 6, 1, 2, 1, 1, 2, 0}, 9};

/* The engine is known (or none is needed): read sysObjectID for auto, else the plan. */
static dcm_snmp_err start_reading(dcm_snmp_dev *d)
{
    if (!d->planned) {
        d->st = ST_SYSOID;
        d->det->have_sysoid = false;
        d->profile = NULL;
        return send_oid(d, SNMP_MSG_GET, &sys_object_id);
    }
    d->st = ST_GET;
    d->get_pos = d->get_n = 0;
    d->retry_step = false;
    return next(d);
}

/* Moves to the next request of the poll. Returns OK with a request in flight, OK with
 * st == ST_IDLE when the poll is complete, or an error. */
static dcm_snmp_err next(dcm_snmp_dev *d)
{
    for (;;) {
        if (d->retry_step) {
            d->retry_step = false;
            d->replied = false;
            dcm_snmp_err e = d->st == ST_GET    ? send_get(d)
                             : d->st == ST_WALK ? send_walk(d)
                                                : send_detect(d);
            if (e != DCM_SNMP_OK || !d->replied)
                return e;
            continue;
        }
        switch (d->st) {
        case ST_IDLE: return DCM_SNMP_OK;
        case ST_DISCOVER:
            if (!dcm_snmp_session_keys_ready(d->sessp)) {
                say(d, DCM_LOG_WARN, "%s: no SNMPv3 engine id in the agent's report",
                    d->inst->target.display);
                return DCM_SNMP_EPROTO;
            }
            d->keys_ready = true;
            return start_reading(d);
        case ST_SYSOID:
            collect_candidates(d);
            d->st = ST_DETECT;
            if (d->det->ncand) {
                dcm_snmp_err e = send_detect(d);
                if (e != DCM_SNMP_OK || !d->replied)
                    return e;
            }
            continue;
        case ST_DETECT:
            if (!d->profile && !d->inst->point_count && !d->inst->table_count) {
                if (!d->det->no_match_logged) {
                    char s[200] = "none";
                    if (d->det->have_sysoid)
                        dcm_snmp_oid_format(&d->det->sysoid, s, sizeof s);
                    say(d, DCM_LOG_WARN, "%s: no compiled-in profile fits this device "
                                         "(sysObjectID %s): name one with profile:",
                        d->inst->target.display, s);
                    d->det->no_match_logged = true;
                }
                return DCM_SNMP_EPROTO;
            }
            if (d->profile)
                say(d, DCM_LOG_INFO, "%s: profile %s", d->inst->target.display, d->profile->name);
            goto plan;
        case ST_GET:
            d->get_pos += d->get_n;
            d->get_n = 0;
            d->bulk_limit = 0;
            goto get;
        case ST_WALK: {
            dcm_snmp_walk *w = &d->plan.walks[d->walk_pos];
            bool all = true;
            for (size_t c = 0; c < w->ncols; c++)
                all = all && w->done[c];
            if (!all)
                return send_walk(d);
            dcm_snmp_walk_emit(w, &d->ev);
            d->walk_pos++;
            goto walk;
        }
        }
    plan:
        if (make_plan(d) != DCM_SNMP_OK)
            return DCM_SNMP_ENOMEM;
    get:
        d->st = ST_GET;
        if (d->get_pos < d->plan.nscalars) {
            dcm_snmp_err e = send_get(d);
            if (e != DCM_SNMP_OK || !d->replied)
                return e;
            continue;
        }
        d->walk_pos = 0;
    walk:
        d->st = ST_WALK;
        d->bulk_limit = 0;
        if (d->walk_pos < d->plan.nwalks) {
            dcm_snmp_walk_reset(&d->plan.walks[d->walk_pos]);
            return send_walk(d);
        }
        d->st = ST_IDLE;
        return DCM_SNMP_OK;
    }
}

/* ---------------------------------------------------------------- public */

static void close_session(dcm_snmp_dev *d)
{
    if (!d->sessp)
        return;
    snmp_sess_close(d->sessp);
    d->sessp = NULL;
    d->fd = -1;
    d->keys_ready = false;
}

static dcm_snmp_err open_session(dcm_snmp_dev *d)
{
    char why[256];
    d->sessp = dcm_snmp_session_open(&d->inst->target, &d->keys, why, sizeof why);
    if (!d->sessp) {
        say(d, DCM_LOG_WARN, "%s", why);
        return DCM_SNMP_EIO;
    }
    netsnmp_transport *t = snmp_sess_transport(d->sessp);
    d->fd = t ? t->sock : -1;
    if (d->fd < 0) {
        close_session(d);
        say(d, DCM_LOG_WARN, "%s: no socket", d->inst->target.display);
        return DCM_SNMP_EIO;
    }
    if (d->fdset_ready)
        netsnmp_large_fd_set_cleanup(&d->fdset);
    netsnmp_large_fd_set_init(&d->fdset, d->fd + 1);
    d->fdset_ready = true;
    return DCM_SNMP_OK;
}

dcm_snmp_err dcm_snmp_dev_create(const dcm_snmp_instance *inst, const dcm_snmp_dev_events *ev,
                                 dcm_snmp_dev **out, char *why, size_t why_size)
{
    *out = NULL;
    dcm_snmp_lib_init();
    dcm_snmp_dev *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(why, why_size, "out of memory");
        return DCM_SNMP_ENOMEM;
    }
    d->inst = inst;
    d->ev = *ev;
    d->fd = -1;
    dcm_snmp_err e = DCM_SNMP_ENOMEM;
    if (inst->auto_profile && !(d->det = calloc(1, sizeof *d->det))) {
        snprintf(why, why_size, "out of memory");
        goto fail;
    }
    e = dcm_snmp_keys_derive(&inst->target, &d->keys, why, why_size);
    if (e != DCM_SNMP_OK)
        goto fail;
    if (!inst->auto_profile) {
        d->profile = inst->profile;
        if ((e = make_plan(d)) != DCM_SNMP_OK) {
            snprintf(why, why_size, "out of memory");
            goto fail;
        }
    }
    *out = d;
    return DCM_SNMP_OK;
fail:
    dcm_snmp_dev_destroy(d);
    return e;
}

void dcm_snmp_dev_destroy(dcm_snmp_dev *d)
{
    if (!d)
        return;
    close_session(d);
    if (d->fdset_ready)
        netsnmp_large_fd_set_cleanup(&d->fdset);
    dcm_snmp_plan_free(&d->plan);
    memset(&d->keys, 0, sizeof d->keys);
    free(d->det);
    free(d->req_cols);
    free(d);
}

dcm_snmp_err dcm_snmp_dev_begin(dcm_snmp_dev *d)
{
    clock_gettime(CLOCK_MONOTONIC, &d->t0);
    if (d->need_reopen && d->sessp) {
        /* A rebooted or replaced agent: learn its engine (id, boots, time) afresh. */
        dcm_snmp_session_forget_engine(d->sessp);
        close_session(d);
        d->stats.resyncs++;
    }
    d->need_reopen = false;
    if (!d->sessp) {
        dcm_snmp_err e = open_session(d);
        if (e != DCM_SNMP_OK)
            return e;
    }
    d->err = DCM_SNMP_OK;
    d->retry_step = false;
    d->get_pos = d->get_n = 0;
    d->walk_pos = 0;
    d->bulk_limit = 0;
    for (size_t i = 0; i < d->plan.nscalars; i++)
        d->plan.scalars[i].skip = false;
    dcm_snmp_err e;
    if (d->inst->target.version == 3 && !d->keys_ready) {
        d->st = ST_DISCOVER;
        e = send_pdu(d, dcm_snmp_probe_pdu());
    } else {
        e = start_reading(d);
    }
    if (e != DCM_SNMP_OK)
        d->st = ST_IDLE;
    return e;
}

size_t dcm_snmp_dev_wait(dcm_snmp_dev *d, struct pollfd *fds, size_t cap, int64_t *timer_ns)
{
    *timer_ns = 0;
    if (!d->sessp || cap < 1)
        return 0;
    fds[0].fd = d->fd;
    fds[0].events = POLLIN;
    int numfds = 0, block = 1;
    struct timeval tv = {0, 0};
    /* Only this session's socket is ever in the set: clearing it empties the set. */
    netsnmp_large_fd_clr(d->fd, &d->fdset);
    snmp_sess_select_info2(d->sessp, &numfds, &d->fdset, &tv, &block);
    if (!block) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        *timer_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec +
                    (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
        if (*timer_ns <= 0)
            *timer_ns = 1;
    }
    return 1;
}

static void finish_stats(dcm_snmp_dev *d, dcm_snmp_err e)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    d->stats.latency_ms = (double)(t1.tv_sec - d->t0.tv_sec) * 1e3 +
                          (double)(t1.tv_nsec - d->t0.tv_nsec) / 1e6;
    d->st = ST_IDLE;
    if (e == DCM_SNMP_OK) {
        d->fail_streak = 0;
        return;
    }
    if (d->inst->target.version == 3 && ++d->fail_streak >= RESYNC_AFTER_FAILURES)
        d->need_reopen = true;
}

bool dcm_snmp_dev_advance(dcm_snmp_dev *d, bool readable, dcm_snmp_err *result)
{
    *result = DCM_SNMP_OK;
    if (d->st == ST_IDLE)
        return true;
    if (readable) {
        netsnmp_large_fd_clr(d->fd, &d->fdset);
        netsnmp_large_fd_setfd(d->fd, &d->fdset);
        snmp_sess_read2(d->sessp, &d->fdset);
    } else {
        snmp_sess_timeout(d->sessp);
    }
    if (!d->replied)
        return false;
    dcm_snmp_err e = d->err;
    if (e == DCM_SNMP_OK)
        e = next(d);
    if (e == DCM_SNMP_OK && d->st != ST_IDLE)
        return false;
    finish_stats(d, e);
    *result = e;
    return true;
}

void dcm_snmp_dev_cancel(dcm_snmp_dev *d)
{
    if (d->st == ST_IDLE)
        return;
    d->stats.timeouts++;
    finish_stats(d, DCM_SNMP_ETIMEOUT);
}

const dcm_snmp_dev_stats *dcm_snmp_dev_stats_get(const dcm_snmp_dev *d) { return &d->stats; }
