/*
 * snmp_probe.c - `dcmetrics probe snmp HOST[:PORT] ...`: commissioning an SNMP device.
 * Reads once, with the collector's own code (sessions, v3 discovery, GETBULK walks,
 * scaling), and prints every value with its SNMP type, raw value and scaled value.
 *
 * Exit codes: 0 the device answered, 1 it did not (or an error reply), 2 bad usage.
 */
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "snmp_dev.h"

#define NS_PER_MS INT64_C(1000000)
#define MAX_OIDS 64


static void usage(FILE *out)
{
    fputs("usage: dcmetrics probe snmp HOST[:PORT] [-v 1|2c|3] [-c COMMUNITY]\n"
          "           [-u USER [-a AUTH -A PASS [-x PRIV -X PASS]] [-n CONTEXT]]\n"
          "           (--oid OID ... | --walk OID | --profile NAME|auto|FILE)\n"
          "  -v VERSION       1, 2c (default) or 3\n"
          "  -c COMMUNITY     v1/v2c community (default public; or env DCM_SNMP_COMMUNITY)\n"
          "  -u USER          v3 user\n"
          "  -a AUTH          MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512\n"
          "  -A PASS          auth pass phrase (or env DCM_SNMP_AUTH_PASSWORD)\n"
          "  -x PRIV          DES, AES (AES-128), AES-192, AES-256\n"
          "  -X PASS          privacy pass phrase (or env DCM_SNMP_PRIV_PASSWORD)\n"
          "  -n CONTEXT       v3 context name\n"
          "  --oid OID        GET one numeric OID (repeatable)\n"
          "  --walk OID       walk a subtree (GETBULK; GETNEXT for v1)\n"
          "  --profile NAME   read every point of a compiled-in profile; auto: detect it;\n"
          "                   FILE (a path: has a '/' or ends in .yaml): a profile file\n"
          "  --timeout D      wait per request (default 1s); --retries N (default 1)\n"
          "Exit: 0 read ok, 1 device error, 2 usage.\n",
          out);
}

typedef struct probe_out {
    bool table_mode;
    size_t printed;
} probe_out;

static void print_value(void *ud, uint32_t *slot, const char *name, const dcm_snmp_point *p,
                        const dcm_snmp_value *raw, double value, dcm_quality q)
{
    probe_out *po = ud;
    *slot = 0;
    char rawtext[64] = "-";
    if (raw) {
        switch (raw->type) {
        case DCM_SNMP_V_INTEGER: snprintf(rawtext, sizeof rawtext, "%lld", (long long)raw->i); break;
        case DCM_SNMP_V_UNSIGNED:
        case DCM_SNMP_V_COUNTER32:
        case DCM_SNMP_V_COUNTER64:
        case DCM_SNMP_V_TIMETICKS:
            snprintf(rawtext, sizeof rawtext, "%llu", (unsigned long long)raw->u);
            break;
        case DCM_SNMP_V_FLOAT: snprintf(rawtext, sizeof rawtext, "%g", raw->f); break;
        case DCM_SNMP_V_STRING: snprintf(rawtext, sizeof rawtext, "\"%.40s\"", raw->text); break;
        default: break;
        }
    }
    char oidtext[300] = "";
    if (!po->table_mode)
        dcm_snmp_oid_format(&p->oid, oidtext, sizeof oidtext);
    printf("%-32s %-16s %-18s ", po->table_mode ? name : oidtext,
           raw ? dcm_snmp_vtype_name(raw->type) : "(sum/mean)", rawtext);
    if (q == DCM_QUALITY_OK)
        printf("%.6g %s", value, p->unit);
    else
        printf("invalid");
    if (po->table_mode && p->kind != DCM_KIND_GAUGE)
        printf(" (%s)", dcm_kind_name(p->kind));
    putchar('\n');
    po->printed++;
}

static void print_log(void *ud, dcm_log_level level, const char *msg)
{
    (void)ud;
    fprintf(stderr, "dcmetrics probe: %s%s\n", level <= DCM_LOG_WARN ? "" : "", msg);
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *env_dup(const char *name)
{
    const char *v = getenv(name);
    return v ? strdup(v) : NULL;
}

/* Runs one poll of d to its end (or the overall deadline). */
static dcm_snmp_err run_once(dcm_snmp_dev *d, int64_t budget_ns)
{
    dcm_snmp_err e = dcm_snmp_dev_begin(d);
    if (e != DCM_SNMP_OK)
        return e;
    int64_t deadline = mono_ns() + budget_ns;
    for (;;) {
        struct pollfd fds[1];
        int64_t timer = 0;
        size_t n = dcm_snmp_dev_wait(d, fds, 1, &timer);
        int64_t now = mono_ns();
        int64_t until = timer > 0 && timer < deadline ? timer : deadline;
        int ms = until <= now ? 0 : (int)((until - now + NS_PER_MS - 1) / NS_PER_MS);
        int r = poll(fds, (nfds_t)n, ms);
        bool readable = r > 0 && (fds[0].revents & (POLLIN | POLLERR));
        if (!readable && mono_ns() >= deadline) {
            dcm_snmp_dev_cancel(d);
            return DCM_SNMP_ETIMEOUT;
        }
        if (dcm_snmp_dev_advance(d, readable, &e))
            return e;
    }
}

static bool add_oid_point(dcm_snmp_instance *inst, const char *text, size_t i)
{
    dcm_snmp_point *p = &inst->points[inst->point_count];
    memset(p, 0, sizeof *p);
    if (!dcm_snmp_oid_parse(text, &p->oid))
        return false;
    char name[32];
    snprintf(name, sizeof name, "oid%zu", i);
    p->name = strdup(name);
    p->unit = strdup("count");
    p->scale = 1.0;
    inst->point_count++;
    return p->name && p->unit;
}

static int parse(int argc, char **argv, dcm_snmp_instance *inst, probe_out *po, char **why)
{
    static const struct option longopts[] = {
        {"oid", required_argument, NULL, 'O'},     {"walk", required_argument, NULL, 'W'},
        {"profile", required_argument, NULL, 'P'}, {"timeout", required_argument, NULL, 'T'},
        {"retries", required_argument, NULL, 'R'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    dcm_snmp_target *t = &inst->target;
    const char *walk = NULL, *profile = NULL;
    int c;
    t->version = 2;
    t->retries = 1;
    t->request_timeout_ns = 1000 * NS_PER_MS;
    t->max_varbinds = 32;
    inst->points = calloc(MAX_OIDS, sizeof *inst->points);
    if (!inst->points)
        return (*why = "out of memory"), 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hv:c:u:a:A:x:X:n:", longopts, NULL)) != -1) {
        switch (c) {
        case 'v':
            if (!dcm_snmp_version_parse(optarg, &t->version))
                return (*why = "-v wants 1, 2c or 3"), 2;
            break;
        case 'c': free(t->community); t->community = strdup(optarg); break;
        case 'u': free(t->user); t->user = strdup(optarg); break;
        case 'a':
            if (!dcm_snmp_auth_parse(optarg, &t->auth))
                return (*why = "-a wants MD5, SHA, SHA-224, SHA-256, SHA-384 or SHA-512"), 2;
            break;
        case 'A': free(t->auth_password); t->auth_password = strdup(optarg); break;
        case 'x':
            if (!dcm_snmp_priv_parse(optarg, &t->priv))
                return (*why = "-x wants DES, AES, AES-192 or AES-256"), 2;
            break;
        case 'X': free(t->priv_password); t->priv_password = strdup(optarg); break;
        case 'n': free(t->context); t->context = strdup(optarg); break;
        case 'O':
            if (inst->point_count == MAX_OIDS || !add_oid_point(inst, optarg, inst->point_count))
                return (*why = "--oid wants a numeric OID such as .1.3.6.1.2.1.1.3.0"), 2;
            break;
        case 'W': walk = optarg; break;
        case 'P': profile = optarg; break;
        case 'T':
            if (!dcm_parse_duration_ns(optarg, &t->request_timeout_ns) ||
                t->request_timeout_ns < 10 * NS_PER_MS)
                return (*why = "--timeout wants a duration of at least 10ms"), 2;
            break;
        case 'R':
            t->retries = atoi(optarg);
            if (t->retries < 0 || t->retries > 10)
                return (*why = "--retries wants 0..10"), 2;
            break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return 2;
    }
    char buf[200];
    t->display = strdup(argv[optind]);
    t->peer = dcm_snmp_peer_name(argv[optind], buf, sizeof buf);
    if (!t->peer)
        return (*why = "HOST[:PORT] is not valid"), 2;
    if ((inst->point_count > 0) + (walk != NULL) + (profile != NULL) != 1)
        return (*why = "give --oid, --walk or --profile (one kind)"), 2;
    if (t->version == 3) {
        if (!t->user)
            return (*why = "-v 3 needs -u USER"), 2;
        if (!t->auth_password)
            t->auth_password = env_dup("DCM_SNMP_AUTH_PASSWORD");
        if (!t->priv_password)
            t->priv_password = env_dup("DCM_SNMP_PRIV_PASSWORD");
        if (t->auth && !t->auth_password)
            return (*why = "-a needs -A PASS (or DCM_SNMP_AUTH_PASSWORD)"), 2;
        if (t->priv && !t->priv_password)
            return (*why = "-x needs -X PASS (or DCM_SNMP_PRIV_PASSWORD)"), 2;
        if (!t->auth && t->auth_password)
            t->auth = DCM_SNMP_AUTH_SHA;
        if (!t->priv && t->priv_password)
            t->priv = DCM_SNMP_PRIV_AES128;
        if (t->priv && !t->auth)
            return (*why = "privacy (-x) needs authentication (-a)"), 2;
    } else if (!t->community) {
        t->community = env_dup("DCM_SNMP_COMMUNITY");
        if (!t->community)
            t->community = strdup("public");
    }
    if (walk) {
        inst->tables = calloc(1, sizeof *inst->tables);
        if (!inst->tables)
            return (*why = "out of memory"), 1;
        inst->table_count = 1;
        dcm_snmp_table *tb = inst->tables;
        tb->name = strdup("walk");
        tb->columns = calloc(1, sizeof *tb->columns);
        if (!tb->name || !tb->columns)
            return (*why = "out of memory"), 1;
        tb->column_count = 1;
        dcm_snmp_point *p = tb->columns;
        p->name = strdup("value");
        p->unit = strdup("count");
        p->scale = 1.0;
        if (!p->name || !p->unit)
            return (*why = "out of memory"), 1;
        if (!dcm_snmp_oid_parse(walk, &p->oid))
            return (*why = "--walk wants a numeric OID"), 2;
        po->table_mode = true;
    }
    if (profile) {
        po->table_mode = true;
        if (strcmp(profile, "auto") == 0) {
            inst->auto_profile = true;
        } else {
            dcm_diags diags;
            dcm_diags_init(&diags);
            dcm_snmp_err e = dcm_snmp_profile_get(profile, NULL, "--profile", &inst->profile,
                                                  &diags);
            dcm_diags_print(&diags, stderr);
            dcm_diags_free(&diags);
            if (e != DCM_SNMP_OK)
                return (*why = "cannot load the profile"), 2;
        }
    }
    return 0;
}

int dcm_cmd_probe_snmp(int argc, char **argv)
{
    dcm_snmp_instance inst;
    memset(&inst, 0, sizeof inst);
    probe_out po = {0};
    char *why = NULL;
    dcm_snmp_dev *d = NULL;
    int rc = parse(argc, argv, &inst, &po, &why);
    if (rc != 0) {
        if (why)
            fprintf(stderr, "dcmetrics probe snmp: %s\n", why);
        rc = rc < 0 ? 0 : rc;
        goto out;
    }
    dcm_snmp_dev_events ev = {.ud = &po, .value = print_value, .log = print_log};
    char buf[256];
    if (dcm_snmp_dev_create(&inst, &ev, &d, buf, sizeof buf) != DCM_SNMP_OK) {
        fprintf(stderr, "dcmetrics probe snmp: %s\n", buf);
        rc = 1;
        goto out;
    }
    printf("%-32s %-16s %-18s %s\n", po.table_mode ? "point" : "oid", "type", "raw", "value");
    int64_t budget = (inst.target.request_timeout_ns * (inst.target.retries + 1)) * 40;
    dcm_snmp_err e = run_once(d, budget);
    const dcm_snmp_dev_stats *s = dcm_snmp_dev_stats_get(d);
    if (s->profile)
        printf("profile: %s\n", s->profile);
    if (e != DCM_SNMP_OK) {
        fprintf(stderr, "dcmetrics probe snmp: %s: %s%s%s\n", inst.target.display,
                dcm_snmp_strerror(e), s->last_error[0] ? ": " : "", s->last_error);
        rc = 1;
        goto out;
    }
    printf("%zu values in %.1f ms\n", po.printed, s->latency_ms);
    rc = 0;
out:
    dcm_snmp_dev_destroy(d);
    dcm_snmp_instance_free(&inst);
    return rc;
}
