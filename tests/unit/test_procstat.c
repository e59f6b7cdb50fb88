/* The procstat collector: /proc/stat parsing, utilisation between two reads, and the
 * collector run by the scheduler against a proc root the test writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector_harness.h"
#include "procstat.h"

typedef struct fixture {
    char root[64];
    char stat_path[128];
} fixture;

static void write_file(const char *path, const char *text)
{
    /* Written whole and renamed, as the kernel presents the file: a poll never sees half. */
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    char dir[128];
    snprintf(fx->root, sizeof fx->root, "/tmp/dcm-procstat-XXXXXX");
    if (!mkdtemp(fx->root))
        return -1;
    snprintf(dir, sizeof dir, "%s/proc", fx->root);
    mkdir(dir, 0755);
    snprintf(fx->stat_path, sizeof fx->stat_path, "%s/proc/stat", fx->root);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char path[256];
    unlink(fx->stat_path);
    snprintf(path, sizeof path, "%s/proc", fx->root);
    rmdir(path);
    rmdir(fx->root);
    free(fx);
    return 0;
}

/* user nice system idle iowait irq softirq steal guest guest_nice. cpu1 is offline
 * (absent), as /proc/stat shows it. */
static const char stat_a[] =
    "cpu  100 0 50 800 50 0 0 0 20 0\n"
    "cpu0 60 0 30 390 20 0 0 0 20 0\n"
    "cpu2 40 0 20 410 30 0 0 0 0 0\n"
    "intr 12345 0 0\n"
    "ctxt 999\n"
    "btime 1767225600\n";

/* 800 ticks later: 400 of them idle or iowait -> 50 %. cpu0 did 300 busy of 400 (75 %),
 * cpu2 100 of 400 (25 %). */
static const char stat_b[] =
    "cpu  400 0 150 1200 50 0 0 0 20 0\n"
    "cpu0 300 0 90 490 20 0 0 0 20 0\n"
    "cpu2 100 0 60 710 30 0 0 0 0 0\n"
    "intr 23456 0 0\n";

static void test_parse(void **state)
{
    fixture *fx = *state;
    dcm_procstat s;
    memset(&s, 0, sizeof s);
    write_file(fx->stat_path, stat_a);
    assert_int_equal(dcm_procstat_read(fx->stat_path, &s), DCM_PROCSTAT_OK);
    /* guest (20) is inside user already: the total is the first eight fields only. */
    assert_int_equal(s.all.total, 1000);
    assert_int_equal(s.all.idle, 850);
    assert_int_equal(s.ncpu, 2);
    assert_int_equal(s.cpu[0].id, 0);
    assert_int_equal(s.cpu[1].id, 2);
    assert_int_equal(s.cpu[1].ticks.total, 500);
    assert_int_equal(s.cpu[1].ticks.idle, 440);

    dcm_procstat t;
    memset(&t, 0, sizeof t);
    write_file(fx->stat_path, stat_b);
    assert_int_equal(dcm_procstat_read(fx->stat_path, &t), DCM_PROCSTAT_OK);
    double pct = -1;
    assert_true(dcm_procstat_util(&s.all, &t.all, &pct));
    assert_true(fabs(pct - 50.0) < 1e-12);
    assert_true(dcm_procstat_util(&s.cpu[0].ticks, &t.cpu[0].ticks, &pct));
    assert_true(fabs(pct - 75.0) < 1e-12);
    assert_true(dcm_procstat_util(&s.cpu[1].ticks, &t.cpu[1].ticks, &pct));
    assert_true(fabs(pct - 25.0) < 1e-12);
    /* Backwards (a different boot, a bad read) and no time passed: no value. */
    assert_false(dcm_procstat_util(&t.all, &s.all, &pct));
    assert_false(dcm_procstat_util(&s.all, &s.all, &pct));
    dcm_procstat_free(&s);
    dcm_procstat_free(&t);
}

static void test_errors_and_path(void **state)
{
    fixture *fx = *state;
    dcm_procstat s;
    char path[128];
    memset(&s, 0, sizeof s);
    write_file(fx->stat_path, "intr 1 2 3\nctxt 4\n");
    assert_int_equal(dcm_procstat_read(fx->stat_path, &s), DCM_PROCSTAT_EFORMAT);
    write_file(fx->stat_path, "cpu  1 2 3 4\n"); /* fewer than eight fields */
    assert_int_equal(dcm_procstat_read(fx->stat_path, &s), DCM_PROCSTAT_EFORMAT);
    assert_int_equal(dcm_procstat_read("/nonexistent/proc/stat", &s), DCM_PROCSTAT_EIO);
    dcm_procstat_free(&s);

    assert_int_equal(dcm_procstat_path("/", path, sizeof path), 0);
    assert_string_equal(path, "/proc/stat");
    assert_int_equal(dcm_procstat_path("/host", path, sizeof path), 0);
    assert_string_equal(path, "/host/proc/stat");
    assert_int_equal(dcm_procstat_path("/host/", path, sizeof path), 0);
    assert_string_equal(path, "/host/proc/stat");
    assert_int_equal(dcm_procstat_path("/host", path, 8), -1);
}

static void test_collector(void **state)
{
    fixture *fx = *state;
    char yaml[512];
    dcm_harness h;
    dcm_sample smp = {0};
    write_file(fx->stat_path, stat_a);
    snprintf(yaml, sizeof yaml,
             "collectors:\n"
             "  - name: host\n"
             "    type: procstat\n"
             "    interval: 100ms\n"
             "    root: %s\n"
             "    per_cpu: true\n", fx->root);
    assert_int_equal(dcm_harness_create(&h, yaml), 0);
    int64_t total = dcm_harness_point(&h, "host.cpu.utilization");
    int64_t cpu0 = dcm_harness_point(&h, "host.cpu0.utilization");
    int64_t cpu2 = dcm_harness_point(&h, "host.cpu2.utilization");
    assert_true(total >= 0 && cpu0 >= 0 && cpu2 >= 0);
    assert_int_equal(dcm_harness_point(&h, "host.cpu1.utilization"), -1);
    assert_string_equal(h.pts.items[total].unit->name, "%");

    /* The baseline is read at init: a changed file gives the interval's utilisation. */
    write_file(fx->stat_path, stat_b);
    assert_int_equal(dcm_harness_start(&h), 1);
    assert_true(dcm_harness_next(&h, total, 3000, &smp));
    assert_int_equal(smp.quality, DCM_QUALITY_OK);
    assert_true(fabs(smp.value - 50.0) < 1e-9);
    assert_true(dcm_harness_next(&h, cpu2, 3000, &smp));
    assert_true(fabs(smp.value - 25.0) < 1e-9);

    /* A CPU taken offline: its point turns invalid, the total goes on. */
    write_file(fx->stat_path,
               "cpu  500 0 150 1500 50 0 0 0 20 0\n"
               "cpu0 400 0 90 790 20 0 0 0 20 0\n");
    bool seen_invalid = false;
    for (int i = 0; i < 20 && !seen_invalid; i++) {
        assert_true(dcm_harness_next(&h, cpu2, 3000, &smp));
        seen_invalid = smp.quality == DCM_QUALITY_INVALID;
    }
    assert_true(seen_invalid);
    dcm_harness_destroy(&h);
}

static void test_disabled_without_proc(void **state)
{
    (void)state;
    dcm_harness h;
    assert_int_equal(dcm_harness_create(&h, "collectors:\n"
                                            "  - name: host\n"
                                            "    type: procstat\n"
                                            "    root: /nonexistent-root\n"),
                     0);
    assert_true(dcm_harness_disabled(&h, 0));
    assert_int_equal(dcm_harness_point(&h, "host.cpu.utilization"), -1);
    dcm_harness_destroy(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_and_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_collector, setup, teardown),
        cmocka_unit_test(test_disabled_without_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
