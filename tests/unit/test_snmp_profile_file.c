/* SNMP profile files and the process-wide profile cache: `profile:` paths resolved against
 * the configuration file's directory, one parsed copy shared by every entry that names a
 * file or a compiled-in profile, the diagnostics for missing and invalid files (with the
 * failure remembered, not read again), and the check the loader runs on SNMP entries. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "dcm/config.h"
#include "fsutil.h"
#include "snmp_config.h"

#define S INT64_C(1000000000)

static const char custom_profile[] =
    "# A device model the binary does not know.\n"
    "name: custom-pdu\n"
    "description: In-house PDU\n"
    "points:\n"
    "  - {name: power, oid: .1.3.6.1.4.1.99999.4.0, unit: W, scale: 0.1}\n"
    "  - {name: volts, oid: .1.3.6.1.4.1.99999.3.0, unit: V}\n"
    "tables:\n"
    "  - name: outlet\n"
    "    columns:\n"
    "      - {name: power, oid: .1.3.6.1.4.1.99999.5.1.2, unit: W, sum: outlets.power}\n";

static const char bad_profile[] =
    "name: broken\n"
    "description: an OID with a letter\n"
    "points:\n"
    "  - {name: volts, oid: .1.3.6.1.4.1.99999.3.x, unit: V}\n";

typedef struct fixture {
    char dir[512];   /* a scratch directory: <dir>/conf holds the configuration's files */
    char conf[600];  /* <dir>/conf/site.yaml: the configuration's name (never written) */
} fixture;

static void write_file(const fixture *f, const char *rel, const char *text)
{
    char path[700];
    snprintf(path, sizeof path, "%s/conf/%s", f->dir, rel);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/snmp-profile-file-XXXXXX", DCM_BINARY_DIR);
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    char sub[700];
    snprintf(sub, sizeof sub, "%s/conf", f->dir);
    if (mkdir(sub, 0700) != 0)
        return -1;
    snprintf(sub, sizeof sub, "%s/conf/profiles", f->dir);
    if (mkdir(sub, 0700) != 0)
        return -1;
    snprintf(f->conf, sizeof f->conf, "%s/conf/site.yaml", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    dcm_remove_tree(f->dir);
    free(f);
    return 0;
}

/* Line and column (1-based) of the first occurrence of needle in text. */
static void position_of(const char *text, const char *needle, int *line, int *column)
{
    const char *at = strstr(text, needle);
    assert_non_null(at);
    *line = 1;
    const char *bol = text;
    for (const char *c = text; c < at; c++)
        if (*c == '\n') {
            (*line)++;
            bol = c + 1;
        }
    *column = (int)(at - bol) + 1;
}

static const dcm_diag *diag_at_line(const dcm_diags *d, const char *file, int line)
{
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->items[i].file, file) == 0 && d->items[i].line == line)
            return &d->items[i];
    return NULL;
}

static dcm_config_err load(const fixture *f, const char *yaml, dcm_config **cfg, dcm_diags *d)
{
    dcm_diags_init(d);
    return dcm_config_load_string(yaml, strlen(yaml), f->conf, cfg, d);
}

static void test_paths(void **state)
{
    (void)state;
    static const struct {
        const char *value, *config, *want;
    } cases[] = {
        {"profiles/pdu.yaml", "/etc/dcmetrics/site.yaml", "/etc/dcmetrics/profiles/pdu.yaml"},
        {"../shared/pdu.yml", "conf/site.yaml", "conf/../shared/pdu.yml"},
        {"pdu.yaml", "/site.yaml", "/pdu.yaml"},
        {"/opt/pdu.yaml", "/etc/dcmetrics/site.yaml", "/opt/pdu.yaml"},
        {"profiles/pdu.yaml", "site.yaml", "profiles/pdu.yaml"},   /* current directory */
        {"profiles/pdu.yaml", "<config>", "profiles/pdu.yaml"},
        {"pdu.yaml", NULL, "pdu.yaml"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *p = dcm_snmp_profile_path(cases[i].value, cases[i].config);
        assert_non_null(p);
        assert_string_equal(p, cases[i].want);
        free(p);
    }
    assert_true(dcm_snmp_profile_is_file("pdu.yaml"));
    assert_true(dcm_snmp_profile_is_file("pdu.yml"));
    assert_true(dcm_snmp_profile_is_file("./pdu"));
    assert_false(dcm_snmp_profile_is_file("apc-rpdu2"));
    assert_false(dcm_snmp_profile_is_file("auto"));
    assert_false(dcm_snmp_profile_is_file("yaml"));
}

/* Relative paths follow the configuration file, not the current directory; every entry
 * naming one file (however spelt) or one compiled-in profile shares one parsed copy, and
 * an entry copies none of its points. */
static void test_shared_once(void **state)
{
    fixture *f = *state;
    write_file(f, "profiles/custom.yaml", custom_profile);
    static const char yaml[] =
        "agent: {site: t, interval: 1s}\n"
        "collectors:\n"
        "  - {name: a, type: snmp, host: 127.0.0.1, profile: profiles/custom.yaml}\n"
        "  - {name: b, type: snmp, host: 127.0.0.1, profile: ./profiles/../profiles/custom.yaml}\n"
        "  - {name: c, type: snmp, host: 127.0.0.1, profile: apc-rpdu2}\n"
        "  - {name: d, type: snmp, host: 127.0.0.1, profile: apc-rpdu2}\n"
        "  - name: e\n"
        "    type: snmp\n"
        "    host: 127.0.0.1\n"
        "    profile: profiles/custom.yaml\n"
        "    points:\n"
        "      - {name: volts, oid: .1.3.6.1.4.1.99999.3.0, unit: V, scale: 0.1}\n"
        "site: {timezone: UTC}\n";
    dcm_config *cfg = NULL;
    dcm_diags d;
    dcm_config_err err = load(f, yaml, &cfg, &d);
    if (err != DCM_CONFIG_OK)
        dcm_diags_print(&d, stderr);
    assert_int_equal(err, DCM_CONFIG_OK);
    assert_int_equal(cfg->collector_count, 5);
    dcm_snmp_instance inst[5];
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(dcm_snmp_instance_parse(cfg->collectors[i].node, S, "c", &inst[i], &d),
                         DCM_SNMP_OK);
    assert_int_equal(d.errors, 0);

    const dcm_snmp_profile *p = inst[0].profile;
    assert_non_null(p);
    assert_string_equal(p->name, "custom-pdu");
    assert_int_equal(p->point_count, 2);
    assert_int_equal(p->table_count, 1);
    assert_string_equal(p->points[0].name, "power");
    assert_float_equal(p->points[0].scale, 0.1, 1e-15);
    char oid[64];
    assert_true(dcm_snmp_oid_format(&p->points[1].oid, oid, sizeof oid));
    assert_string_equal(oid, ".1.3.6.1.4.1.99999.3.0");
    assert_ptr_equal(inst[1].profile, p);
    assert_ptr_equal(inst[4].profile, p);
    /* The profile is not copied into the instance: only the entry's own points are. */
    assert_int_equal(inst[0].point_count, 0);
    assert_null(inst[0].points);
    assert_int_equal(inst[4].point_count, 1);
    assert_ptr_not_equal(inst[4].points, p->points);

    assert_non_null(inst[2].profile);
    assert_string_equal(inst[2].profile->name, "apc-rpdu2");
    assert_ptr_equal(inst[3].profile, inst[2].profile);
    assert_ptr_equal(dcm_snmp_profile_shared("apc-rpdu2"), inst[2].profile);
    assert_null(dcm_snmp_profile_shared("apc-rpdu3"));

    /* Freeing instances leaves the shared profile alone (ASan would see a double free or
     * a use after free below). */
    for (size_t i = 0; i < 5; i++)
        dcm_snmp_instance_free(&inst[i]);
    const dcm_snmp_profile *again = NULL;
    const dcm_node *where = dcm_node_get(cfg->collectors[0].node, "profile");
    assert_int_equal(dcm_snmp_profile_get("profiles/custom.yaml", where, "p", &again, &d),
                     DCM_SNMP_OK);
    assert_ptr_equal(again, p);
    assert_string_equal(again->points[1].name, "volts");
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);

    /* The same name from the current directory (the build tree) is another file: none. */
    dcm_diags_init(&d);
    assert_int_equal(dcm_snmp_profile_get("profiles/custom.yaml", NULL, "--profile", &again, &d),
                     DCM_SNMP_ENOTFOUND);
    assert_null(again);
    assert_int_equal(d.errors, 1);
    assert_string_equal(d.items[0].file, "profiles/custom.yaml");
    dcm_diags_free(&d);
}

/* A missing file, an unknown name and an inline OID are told at the entry; an invalid file
 * with its own file:line:column, once; a later entry naming it gets one line, and the
 * file is not read again (fixing it takes a restart). */
static void test_missing_and_invalid(void **state)
{
    fixture *f = *state;
    write_file(f, "profiles/bad.yaml", bad_profile);
    static const char yaml[] =
        "agent: {site: t, interval: 1s}\n"
        "collectors:\n"
        "  - {name: a, type: snmp, host: 127.0.0.1, profile: profiles/missing.yaml}\n"
        "  - {name: b, type: snmp, host: 127.0.0.1, profile: profiles/bad.yaml}\n"
        "  - {name: c, type: snmp, host: 127.0.0.1, profile: apc-rpdu3}\n"
        "  - name: d\n"
        "    type: snmp\n"
        "    host: 127.0.0.1\n"
        "    points:\n"
        "      - {name: x, oid: \"1.3.x\", unit: W}\n"
        "  - {name: e, type: snmp, host: 127.0.0.1, profile: ./profiles/bad.yaml}\n"
        "site: {timezone: UTC}\n";
    dcm_config *cfg = NULL;
    dcm_diags d;
    assert_int_equal(load(f, yaml, &cfg, &d), DCM_CONFIG_EINVALID);
    assert_null(cfg);
    if (d.count != 5)
        dcm_diags_print(&d, stderr);
    assert_int_equal(d.errors, 5);

    int line, col;
    char want[800];
    position_of(yaml, "profiles/missing.yaml", &line, &col);
    const dcm_diag *g = diag_at_line(&d, f->conf, line);
    assert_non_null(g);
    assert_int_equal(g->column, col);
    assert_string_equal(g->path, "collectors[0].profile");
    snprintf(want, sizeof want, "cannot read profile file %s/conf/profiles/missing.yaml: "
                                "No such file or directory", f->dir);
    assert_string_equal(g->message, want);

    char bad[700];
    snprintf(bad, sizeof bad, "%s/conf/profiles/bad.yaml", f->dir);
    position_of(bad_profile, "oid: .1.3.6.1.4.1.99999.3.x", &line, &col);
    g = diag_at_line(&d, bad, line);
    assert_non_null(g);
    assert_int_equal(g->column, col + 5); /* at the value */
    assert_string_equal(g->path, "points[0].oid");

    position_of(yaml, "apc-rpdu3", &line, &col);
    g = diag_at_line(&d, f->conf, line);
    assert_non_null(g);
    assert_int_equal(g->column, col);
    assert_non_null(strstr(g->message, "did you mean 'apc-rpdu2'?"));

    position_of(yaml, "\"1.3.x\"", &line, &col);
    g = diag_at_line(&d, f->conf, line);
    assert_non_null(g);
    assert_int_equal(g->column, col);
    assert_string_equal(g->path, "collectors[3].points[0].oid");

    position_of(yaml, "./profiles/bad.yaml", &line, &col);
    g = diag_at_line(&d, f->conf, line);
    assert_non_null(g);
    assert_int_equal(g->column, col);
    snprintf(want, sizeof want, "profile file %s/conf/./profiles/bad.yaml is invalid (see its "
                                "own errors)", f->dir);
    assert_string_equal(g->message, want);
    dcm_diags_free(&d);

    /* Fixed on disk, but the failure is remembered: one line, no file diagnostics. */
    write_file(f, "profiles/bad.yaml", custom_profile);
    const dcm_snmp_profile *p = NULL;
    dcm_diags_init(&d);
    assert_int_equal(dcm_snmp_profile_get(bad, NULL, "--profile", &p, &d), DCM_SNMP_EINVALID);
    assert_null(p);
    assert_int_equal(d.count, 1);
    assert_non_null(strstr(d.items[0].message, "is invalid"));
    dcm_diags_free(&d);

    /* A directory is not a profile. */
    char dir[700];
    snprintf(dir, sizeof dir, "%s/conf/profiles/", f->dir);
    dcm_diags_init(&d);
    assert_int_equal(dcm_snmp_profile_get(dir, NULL, "--profile", &p, &d), DCM_SNMP_ENOTFOUND);
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].message, "cannot read: not a regular file");
    dcm_diags_free(&d);
}

/* The loader's check: only after the keys passed (a misspelt key is one error, not two),
 * and secrets from files or variables this shell lacks are not errors there (init, where
 * the agent runs, still refuses them). */
static void test_check_hook(void **state)
{
    fixture *f = *state;
    static const char misspelt[] =
        "agent: {site: t, interval: 1s}\n"
        "collectors:\n"
        "  - {name: a, type: snmp, host: 127.0.0.1, profil: apc-rpdu2}\n";
    dcm_config *cfg = NULL;
    dcm_diags d;
    assert_int_equal(load(f, misspelt, &cfg, &d), DCM_CONFIG_EINVALID);
    assert_int_equal(d.errors, 1);
    assert_non_null(strstr(d.items[0].message, "did you mean 'profile'?"));
    dcm_diags_free(&d);

    static const char v3[] =
        "agent: {site: t, interval: 1s}\n"
        "collectors:\n"
        "  - {name: a, type: snmp, host: 127.0.0.1, version: 3, user: u, profile: apc-ups,\n"
        "     auth_password_env: DCM_TEST_SNMP_UNSET_SECRET}\n"
        "  - {name: b, type: snmp, host: 127.0.0.1, version: 3, user: u, profile: apc-ups,\n"
        "     auth_password: short}\n";
    unsetenv("DCM_TEST_SNMP_UNSET_SECRET");
    assert_int_equal(load(f, v3, &cfg, &d), DCM_CONFIG_EINVALID);
    assert_int_equal(d.errors, 1); /* b's pass phrase is too short; a's only warned */
    assert_string_equal(d.items[d.count - 1].path, "collectors[1].auth_password");
    dcm_diags_free(&d);

    static const char v3_ok[] =
        "agent: {site: t, interval: 1s}\n"
        "collectors:\n"
        "  - {name: a, type: snmp, host: 127.0.0.1, version: 3, user: u, profile: apc-ups,\n"
        "     auth_password_env: DCM_TEST_SNMP_UNSET_SECRET}\n";
    assert_int_equal(load(f, v3_ok, &cfg, &d), DCM_CONFIG_OK);
    assert_int_equal(d.errors, 0);
    dcm_snmp_instance inst;
    assert_int_equal(dcm_snmp_instance_parse(cfg->collectors[0].node, S, "c", &inst, &d),
                     DCM_SNMP_EINVALID);
    assert_int_equal(d.errors, 1);
    dcm_snmp_instance_free(&inst);
    dcm_config_destroy(cfg);
    dcm_diags_free(&d);
}

typedef struct racer {
    const char *path;
    const dcm_snmp_profile *got;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    dcm_diags d;
    dcm_diags_init(&d);
    if (dcm_snmp_profile_get(r->path, NULL, "p", &r->got, &d) != DCM_SNMP_OK)
        r->got = NULL;
    dcm_diags_free(&d);
    return NULL;
}

/* Instances starting on several threads still get one copy. */
static void test_threads(void **state)
{
    fixture *f = *state;
    write_file(f, "profiles/threads.yml", custom_profile);
    char path[700];
    snprintf(path, sizeof path, "%s/conf/profiles/threads.yml", f->dir);
    pthread_t t[4];
    racer r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (racer){.path = path};
        assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(t[i], NULL), 0);
    assert_non_null(r[0].got);
    for (int i = 1; i < 4; i++)
        assert_ptr_equal(r[i].got, r[0].got);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_paths),
        cmocka_unit_test_setup_teardown(test_shared_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_and_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_hook, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
