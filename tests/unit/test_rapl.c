/* The rapl collector against a powercap tree the test writes: zone discovery and naming,
 * the wrap modulus declared from max_energy_range_uj and the engine adding the wrap back,
 * and a counter this user may not read (root only since Linux 5.10). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "collector_harness.h"
#include "rapl.h"

#define RANGE_UJ 262143328850.0 /* a common max_energy_range_uj: about 262 kJ */
#define KWH_PER_UJ (1e-6 / 3.6e6)

typedef struct fixture {
    char root[64];
    char base[128]; /* <root>/sys/class/powercap */
} fixture;

static void write_file(const char *path, const char *text)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void zone(const fixture *fx, const char *dir, const char *name, const char *energy)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fx->base, dir);
    assert_int_equal(mkdir(path, 0755), 0);
    snprintf(path, sizeof path, "%s/%s/name", fx->base, dir);
    write_file(path, name);
    snprintf(path, sizeof path, "%s/%s/max_energy_range_uj", fx->base, dir);
    write_file(path, "262143328850\n");
    snprintf(path, sizeof path, "%s/%s/energy_uj", fx->base, dir);
    write_file(path, energy);
}

static void set_energy(const fixture *fx, const char *dir, double uj)
{
    char path[512], text[64];
    snprintf(path, sizeof path, "%s/%s/energy_uj", fx->base, dir);
    snprintf(text, sizeof text, "%.0f\n", uj);
    write_file(path, text);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char p[256];
    snprintf(fx->root, sizeof fx->root, "/tmp/dcm-rapl-XXXXXX");
    if (!mkdtemp(fx->root))
        return -1;
    chmod(fx->root, 0755);
    snprintf(p, sizeof p, "%s/sys", fx->root);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/sys/class", fx->root);
    mkdir(p, 0755);
    snprintf(fx->base, sizeof fx->base, "%s/sys/class/powercap", fx->root);
    mkdir(fx->base, 0755);
    /* Two packages, subzones of the first, the control-type folder and an MMIO twin of
     * package 0 that must not be counted again. */
    zone(fx, "intel-rapl:0", "package-0\n", "1000000\n");
    zone(fx, "intel-rapl:0:0", "core\n", "400000\n");
    zone(fx, "intel-rapl:0:1", "dram\n", "300000\n");
    zone(fx, "intel-rapl:1", "package-1\n", "2000000\n");
    zone(fx, "intel-rapl-mmio:0", "package-0\n", "1000000\n");
    snprintf(p, sizeof p, "%s/intel-rapl", fx->base);
    mkdir(p, 0755);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char cmd[128];
    /* The tree is the test's own, under a mkdtemp name. */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->root);
    assert_int_equal(system(cmd), 0);
    free(fx);
    return 0;
}

static void test_scan(void **state)
{
    fixture *fx = *state;
    dcm_rapl_zones z;
    char why[512] = "";
    assert_int_equal(dcm_rapl_scan(fx->root, &z, why, sizeof why), DCM_RAPL_OK);
    assert_int_equal(z.count, 4);
    assert_string_equal(z.items[0].label, "package-0");
    assert_string_equal(z.items[1].label, "package-0.core");
    assert_string_equal(z.items[2].label, "package-0.dram");
    assert_string_equal(z.items[3].label, "package-1");
    assert_true(z.items[0].max_range_uj == RANGE_UJ);
    double uj = 0;
    assert_int_equal(dcm_rapl_read(&z.items[3], &uj), DCM_RAPL_OK);
    assert_true(uj == 2000000.0);
    dcm_rapl_zones_free(&z);

    assert_int_equal(dcm_rapl_scan("/nonexistent-root", &z, why, sizeof why), DCM_RAPL_ENOZONE);
    assert_non_null(strstr(why, "/nonexistent-root/sys/class/powercap"));
    set_energy(fx, "intel-rapl:1", 0);
    char p[512];
    snprintf(p, sizeof p, "%s/intel-rapl:1/energy_uj", fx->base);
    write_file(p, "garbage\n");
    assert_int_equal(dcm_rapl_scan(fx->root, &z, why, sizeof why), DCM_RAPL_EIO);
    assert_non_null(strstr(why, "intel-rapl:1/energy_uj"));
    assert_int_equal(z.count, 0);
}

/* The collector declares each zone's counter with its wrap; across a wrap the engine adds
 * the range back instead of taking the drop for a reset. */
static void test_wrap(void **state)
{
    fixture *fx = *state;
    char yaml[512];
    dcm_harness h;
    dcm_sample a = {0}, b = {0};
    snprintf(yaml, sizeof yaml,
             "collectors:\n"
             "  - name: cpu\n"
             "    type: rapl\n"
             "    interval: 100ms\n"
             "    root: %s\n", fx->root);
    set_energy(fx, "intel-rapl:0", RANGE_UJ - 5e6); /* 5 J before the wrap */
    assert_int_equal(dcm_harness_create(&h, yaml), 0);
    int64_t pkg = dcm_harness_point(&h, "cpu.package-0.energy");
    assert_true(pkg >= 0);
    assert_true(dcm_harness_point(&h, "cpu.package-0.dram.energy") >= 0);
    assert_true(dcm_harness_point(&h, "cpu.package-1.energy") >= 0);
    assert_int_equal(h.pts.count, 3 + 4); /* health points + 4 zones, no MMIO twin */
    const dcm_point *pt = &h.pts.items[pkg];
    assert_string_equal(pt->unit->name, "uJ");
    assert_int_equal(pt->kind, DCM_KIND_COUNTER);
    assert_non_null(pt->limits);
    /* The definition the pipeline gives the engine for this point. */
    dcm_point_def def = {.quantity = pt->unit->quantity, .kind = (dcm_kind)pt->kind,
                         .wrap_modulus = pt->limits->wrap_modulus,
                         .max_rate = pt->limits->max_rate, .zone = -1};
    assert_true(fabs(def.wrap_modulus - RANGE_UJ * KWH_PER_UJ) < 1e-12 * def.wrap_modulus);

    assert_int_equal(dcm_harness_start(&h), 1);
    assert_true(dcm_harness_next(&h, pkg, 3000, &a));
    set_energy(fx, "intel-rapl:0", 15e6); /* wrapped: 15 J after zero */
    do {
        assert_true(dcm_harness_next(&h, pkg, 3000, &b));
    } while (b.value == a.value);
    dcm_harness_destroy(&h);

    dcm_point_state st;
    dcm_increment inc;
    dcm_point_state_init(&st);
    assert_false(dcm_integrator_feed(&def, &st, a.ts_ns, a.value, &inc));
    assert_true(dcm_integrator_feed(&def, &st, b.ts_ns, b.value, &inc));
    assert_int_equal(inc.correction, DCM_CORR_WRAP);
    /* 5 J to the wrap + 15 J after it = 20 J. */
    assert_true(fabs(inc.amount - 20e6 * KWH_PER_UJ) < 1e-9 * 20e6 * KWH_PER_UJ);
}

/* Runs in a child that may not read energy_uj: a normal user for a file of mode 0600
 * owned by root, or mode 0000 when the test itself is not root. */
static int child_without_access(const fixture *fx)
{
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
        return 10;
    if (access(fx->base, R_OK | X_OK) != 0)
        return 11;
    dcm_rapl_zones z;
    char why[512] = "";
    if (dcm_rapl_scan(fx->root, &z, why, sizeof why) != DCM_RAPL_EACCES)
        return 12;
    if (!strstr(why, "intel-rapl:0/energy_uj") || !strstr(why, strerror(EACCES)))
        return 13;
    char yaml[512];
    dcm_harness h;
    snprintf(yaml, sizeof yaml, "collectors:\n  - name: cpu\n    type: rapl\n    root: %s\n",
             fx->root);
    if (dcm_harness_create(&h, yaml) != 0)
        return 14;
    int rc = dcm_harness_disabled(&h, 0) && dcm_harness_point(&h, "cpu.package-0.energy") < 0
                 ? 0
                 : 15;
    dcm_harness_destroy(&h);
    return rc;
}

static void test_eacces(void **state)
{
    fixture *fx = *state;
    char p[512];
    snprintf(p, sizeof p, "%s/intel-rapl:0/energy_uj", fx->base);
    assert_int_equal(chmod(p, geteuid() == 0 ? 0600 : 0000), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(child_without_access(fx));
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    chmod(p, 0644);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eacces, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
