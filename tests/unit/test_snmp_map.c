/* SNMP collector, pure parts: numeric OIDs and multi-part indexes, value types, scaling
 * (per point, Raritan decimal digits, ENTITY-SENSOR scale/precision), point and profile
 * parsing, every compiled-in profile, and the order `profile: auto` tries them in. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "snmp_map.h"
#include "snmp_plan.h"

static void test_oid_parse_format(void **state)
{
    (void)state;
    dcm_snmp_oid o;
    char buf[128];
    assert_true(dcm_snmp_oid_parse(".1.3.6.1.4.1.13742.6.5.2.3.1.4.1.1.5", &o));
    assert_int_equal(o.len, 16);
    assert_int_equal(o.sub[6], 13742);
    assert_true(dcm_snmp_oid_format(&o, buf, sizeof buf));
    assert_string_equal(buf, ".1.3.6.1.4.1.13742.6.5.2.3.1.4.1.1.5");
    assert_true(dcm_snmp_oid_parse("1.3.6.1.2.1.1.3.0", &o));
    assert_int_equal(o.len, 9);
    assert_true(dcm_snmp_oid_parse(".1.3.4294967295", &o));
    assert_int_equal(o.sub[2], 4294967295u);
    assert_false(dcm_snmp_oid_parse(".1.3.4294967296", &o));
    assert_false(dcm_snmp_oid_parse("sysUpTime.0", &o));
    assert_false(dcm_snmp_oid_parse(".1.3..6", &o));
    assert_false(dcm_snmp_oid_parse(".1.3.", &o));
    assert_false(dcm_snmp_oid_parse(".1", &o));
    assert_false(dcm_snmp_oid_parse("", &o));
    assert_false(dcm_snmp_oid_parse(".1.3.-6", &o));
    assert_false(dcm_snmp_oid_format(&(dcm_snmp_oid){{1, 3, 6}, 3}, buf, 4));
}

static void test_oid_order_and_index(void **state)
{
    (void)state;
    dcm_snmp_oid col, cell, other;
    uint32_t idx[12];
    size_t n;
    char name[64];
    assert_true(dcm_snmp_oid_parse(".1.3.6.1.4.1.13742.6.5.2.3.1.4", &col));
    assert_true(dcm_snmp_oid_parse(".1.3.6.1.4.1.13742.6.5.2.3.1.4.1.2.8", &cell));
    assert_true(dcm_snmp_oid_has_prefix(&cell, &col));
    assert_true(dcm_snmp_oid_index(&cell, &col, idx, 12, &n));
    assert_int_equal(n, 3);
    assert_int_equal(idx[0], 1);
    assert_int_equal(idx[1], 2);
    assert_int_equal(idx[2], 8);
    assert_true(dcm_snmp_index_name(idx, n, false, name, sizeof name));
    assert_string_equal(name, "1.2.8");
    assert_true(dcm_snmp_index_name(idx, n, true, name, sizeof name));
    assert_string_equal(name, "1.2");
    assert_false(dcm_snmp_oid_index(&col, &col, idx, 12, &n)); /* no index */
    assert_true(dcm_snmp_oid_parse(".1.3.6.1.4.1.13742.6.5.2.3.1.5.1", &other));
    assert_false(dcm_snmp_oid_index(&other, &col, idx, 12, &n));
    assert_true(dcm_snmp_oid_cmp(&col, &cell) < 0);
    assert_true(dcm_snmp_oid_cmp(&other, &cell) > 0);
    assert_int_equal(dcm_snmp_oid_cmp(&cell, &cell), 0);
}

static void test_value_types(void **state)
{
    (void)state;
    double x;
    dcm_snmp_value v = {.type = DCM_SNMP_V_INTEGER, .i = -1};
    assert_int_equal(dcm_snmp_value_number(&v, &x), DCM_QUALITY_OK);
    assert_true(x == -1.0);
    v = (dcm_snmp_value){.type = DCM_SNMP_V_COUNTER32, .u = 4294967295u};
    assert_int_equal(dcm_snmp_value_number(&v, &x), DCM_QUALITY_OK);
    assert_true(x == 4294967295.0);
    v = (dcm_snmp_value){.type = DCM_SNMP_V_COUNTER64, .u = UINT64_C(1) << 40};
    assert_int_equal(dcm_snmp_value_number(&v, &x), DCM_QUALITY_OK);
    assert_true(x == 1099511627776.0);
    v = (dcm_snmp_value){.type = DCM_SNMP_V_FLOAT, .f = 49.98};
    assert_int_equal(dcm_snmp_value_number(&v, &x), DCM_QUALITY_OK);
    assert_true(x == 49.98);
    v = (dcm_snmp_value){.type = DCM_SNMP_V_FLOAT, .f = NAN};
    assert_int_equal(dcm_snmp_value_number(&v, &x), DCM_QUALITY_INVALID);
    v = (dcm_snmp_value){.type = DCM_SNMP_V_STRING};
    strcpy(v.text, " 230.5\n");
    assert_int_equal(dcm_snmp_value_number(&v, &x), DCM_QUALITY_OK);
    assert_true(x == 230.5);
    strcpy(v.text, "230.5 V");
    assert_int_equal(dcm_snmp_value_number(&v, &x), DCM_QUALITY_INVALID);
    strcpy(v.text, "");
    assert_int_equal(dcm_snmp_value_number(&v, &x), DCM_QUALITY_INVALID);
    static const dcm_snmp_vtype bad[] = {DCM_SNMP_V_NOSUCHOBJECT, DCM_SNMP_V_NOSUCHINSTANCE,
                                         DCM_SNMP_V_ENDOFMIBVIEW, DCM_SNMP_V_OID,
                                         DCM_SNMP_V_OTHER};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = (dcm_snmp_value){.type = bad[i], .i = 5};
        assert_int_equal(dcm_snmp_value_number(&v, &x), DCM_QUALITY_INVALID);
        assert_true(x == 0.0);
    }
    assert_string_equal(dcm_snmp_vtype_name(DCM_SNMP_V_UNSIGNED), "Gauge32");
}

static void test_scaling(void **state)
{
    (void)state;
    double v;
    dcm_snmp_point p = {.scale = 0.01, .invalid = {-1}, .invalid_count = 1};
    assert_int_equal(dcm_snmp_point_value(&p, 345, 0, 0, &v), DCM_QUALITY_OK);
    assert_float_equal(v, 3.45, 1e-12);
    assert_int_equal(dcm_snmp_point_value(&p, -1, 0, 0, &v), DCM_QUALITY_INVALID);
    /* Raritan: 123 with 2 decimal digits = 1.23; 2301 with 1 = 230.1 */
    p = (dcm_snmp_point){.scale = 1, .devscale = DCM_SNMP_DEVSCALE_DIGITS};
    assert_int_equal(dcm_snmp_point_value(&p, 123, 2, 0, &v), DCM_QUALITY_OK);
    assert_float_equal(v, 1.23, 1e-12);
    assert_int_equal(dcm_snmp_point_value(&p, 2301, 1, 0, &v), DCM_QUALITY_OK);
    assert_float_equal(v, 230.1, 1e-12);
    assert_int_equal(dcm_snmp_point_value(&p, 5, 12, 0, &v), DCM_QUALITY_INVALID);
    /* ENTITY-SENSOR: units(9) precision 1: 2345 -> 234.5; kilo(10) precision 0: 3 -> 3000;
     * milli(8) precision 2: 150000 -> 1.5 */
    p = (dcm_snmp_point){.scale = 1, .devscale = DCM_SNMP_DEVSCALE_ENTITY};
    assert_int_equal(dcm_snmp_point_value(&p, 2345, 9, 1, &v), DCM_QUALITY_OK);
    assert_float_equal(v, 234.5, 1e-9);
    assert_int_equal(dcm_snmp_point_value(&p, 3, 10, 0, &v), DCM_QUALITY_OK);
    assert_float_equal(v, 3000, 1e-9);
    assert_int_equal(dcm_snmp_point_value(&p, 150000, 8, 2, &v), DCM_QUALITY_OK);
    assert_float_equal(v, 1.5, 1e-12);
    assert_int_equal(dcm_snmp_point_value(&p, 7, 9, -2, &v), DCM_QUALITY_OK);
    assert_float_equal(v, 7, 1e-12);
    assert_int_equal(dcm_snmp_point_value(&p, 7, 0, 0, &v), DCM_QUALITY_INVALID);
}

static dcm_snmp_profile *parse_text(const char *yaml, dcm_diags *d)
{
    dcm_snmp_profile *p = NULL;
    dcm_snmp_profile_parse_text(yaml, strlen(yaml), "test", &p, d);
    return p;
}

static void test_profile_parse_errors(void **state)
{
    (void)state;
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_snmp_profile *p = parse_text(
        "name: t\ndescription: x\npoints:\n"
        "  - {name: power, oid: .1.3.6.1.2.1.1.0, unit: kWh}\n"          /* gauge of energy */
        "  - {name: e, oid: sysUpTime.0, unit: Wh, kind: counter}\n"      /* MIB name */
        "  - {name: c, oid: .1.3.6.1.4.1.1.0, unit: Wh, kind: counter, counter_bits: 16}\n"
        "  - {name: s, oid: .1.3.6.1.4.1.2.0, unit: W, select: 5}\n",     /* column key */
        &d);
    assert_null(p);
    assert_int_equal(d.errors, 4);
    dcm_diags_free(&d);
    dcm_diags_init(&d);
    p = parse_text("name: t\ndescription: x\nsysobjectid: [.1.3.6.1.4.1.318]\n"
                   "tables:\n  - {name: x, columns: [{name: p, oid: .1.3.6.1.4.1.318.1, unit: W,"
                   " entity_scale: .1.3.6.1.2.1.99.1.1.1.2}]}\n",
                   &d);
    assert_null(p);
    assert_int_equal(d.errors, 2); /* detect missing; entity_precision missing */
    dcm_diags_free(&d);
}

/* Every compiled-in profile parses, and its table columns build a plan. */
static void test_embedded_profiles(void **state)
{
    (void)state;
    assert_true(dcm_snmp_profile_count() >= 10);
    for (size_t i = 0; i < dcm_snmp_profile_count(); i++) {
        const dcm_snmp_embedded *e = dcm_snmp_profile_at(i);
        dcm_diags d;
        dcm_diags_init(&d);
        dcm_snmp_profile *p = NULL;
        dcm_snmp_err err = dcm_snmp_profile_load(e->name, NULL, "profile", &p, &d);
        if (err != DCM_SNMP_OK)
            dcm_diags_print(&d, stderr);
        assert_int_equal(err, DCM_SNMP_OK);
        assert_true(p->has_detect);
        assert_non_null(p->source);
        dcm_snmp_plan plan;
        assert_int_equal(dcm_snmp_plan_build(&plan, p, NULL), DCM_SNMP_OK);
        assert_int_equal(plan.nscalars, p->point_count);
        assert_int_equal(plan.nwalks, p->table_count);
        dcm_snmp_plan_free(&plan);
        dcm_snmp_profile_destroy(p);
        dcm_diags_free(&d);
    }
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_snmp_profile *p = NULL;
    assert_int_equal(dcm_snmp_profile_load("apc-rpdu", NULL, "profile", &p, &d),
                     DCM_SNMP_ENOTFOUND);
    assert_non_null(strstr(d.items[0].message, "apc-rpdu2"));
    dcm_diags_free(&d);
}

static dcm_snmp_profile *load(const char *name)
{
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_snmp_profile *p = NULL;
    dcm_snmp_profile_load(name, NULL, "profile", &p, &d);
    dcm_diags_free(&d);
    return p;
}

static void test_auto_order(void **state)
{
    (void)state;
    const char *names[] = {"apc-inrow", "apc-rpdu2", "apc-ups", "host-resources", "raritan-pdu2",
                           "ups-mib"};
    dcm_snmp_profile *ps[6];
    for (int i = 0; i < 6; i++)
        assert_non_null(ps[i] = load(names[i]));
    dcm_snmp_oid apc;
    assert_true(dcm_snmp_oid_parse(".1.3.6.1.4.1.318.1.3.4.5", &apc));
    size_t idx[16];
    size_t n = dcm_snmp_auto_candidates((const dcm_snmp_profile *const *)ps, 6, &apc, idx, 16);
    /* APC's three by priority (PDU, UPS, InRow), then the standard MIBs by priority. */
    assert_int_equal(n, 5);
    assert_string_equal(ps[idx[0]]->name, "apc-rpdu2");
    assert_string_equal(ps[idx[1]]->name, "apc-ups");
    assert_string_equal(ps[idx[2]]->name, "apc-inrow");
    assert_string_equal(ps[idx[3]]->name, "ups-mib");
    assert_string_equal(ps[idx[4]]->name, "host-resources");
    n = dcm_snmp_auto_candidates((const dcm_snmp_profile *const *)ps, 6, NULL, idx, 16);
    assert_int_equal(n, 2);
    for (int i = 0; i < 6; i++)
        dcm_snmp_profile_destroy(ps[i]);
}

static uint32_t slots_seen;
static double last_values[32];
static char last_names[32][64];
static size_t nvalues;

static void record(void *ud, uint32_t *slot, const char *name, const dcm_snmp_point *p,
                   const dcm_snmp_value *raw, double value, dcm_quality q)
{
    (void)ud, (void)p, (void)raw;
    if (*slot == UINT32_MAX)
        *slot = slots_seen++;
    if (nvalues < 32) {
        last_values[nvalues] = q == DCM_QUALITY_OK ? value : -999;
        snprintf(last_names[nvalues], sizeof last_names[0], "%s", name);
        nvalues++;
    }
}

/* A Raritan inlet walk fed by hand: multi-part index {pdu, inlet, sensorType}, rows
 * selected by sensor type, scaled by the digits column, summed over inlets. */
static void test_walk_raritan(void **state)
{
    (void)state;
    dcm_snmp_profile *p = load("raritan-pdu2");
    assert_non_null(p);
    dcm_snmp_plan plan;
    assert_int_equal(dcm_snmp_plan_build(&plan, p, NULL), DCM_SNMP_OK);
    dcm_snmp_walk *w = &plan.walks[0];
    assert_int_equal(w->ncols, 2); /* the value column and the digits column, once each */
    dcm_snmp_walk_reset(w);
    static const struct { uint32_t inlet, type, raw, digits; } cells[] = {
        {1, 1, 123, 2}, {1, 5, 1500, 0}, {1, 8, 500000, 0}, {2, 5, 7005, 1}};
    bool oom = false;
    for (size_t i = 0; i < 4; i++) {
        uint32_t ix[3] = {1, cells[i].inlet, cells[i].type};
        dcm_snmp_oid name;
        dcm_snmp_value v = {.type = DCM_SNMP_V_UNSIGNED, .u = cells[i].raw};
        assert_true(dcm_snmp_oid_append(&w->cols[0], ix, 3, &name));
        assert_true(dcm_snmp_walk_cell(w, 0, &name, &v, &oom));
        dcm_snmp_value dg = {.type = DCM_SNMP_V_UNSIGNED, .u = cells[i].digits};
        assert_true(dcm_snmp_oid_append(&w->cols[1], ix, 3, &name));
        assert_true(dcm_snmp_walk_cell(w, 1, &name, &dg, &oom));
    }
    /* Leaving the column ends it; so does an OID that does not increase. */
    dcm_snmp_oid beyond;
    dcm_snmp_value v = {.type = DCM_SNMP_V_INTEGER, .i = 1};
    assert_true(dcm_snmp_oid_parse(".1.3.6.1.4.1.13742.6.5.2.3.1.5.1.1.1", &beyond));
    assert_false(dcm_snmp_walk_cell(w, 0, &beyond, &v, &oom));
    assert_false(dcm_snmp_walk_cell(w, 1, &w->cursor[1], &v, &oom));
    assert_false(oom);
    nvalues = 0;
    dcm_snmp_dev_events ev = {.value = record};
    dcm_snmp_walk_emit(w, &ev);
    /* power rows 1.1 (1500) and 1.2 (700.5) and their sum; energy 1.1 and its sum;
     * current 1.1 */
    assert_int_equal(nvalues, 6);
    assert_string_equal(last_names[0], "inlet.1.1.power");
    assert_float_equal(last_values[0], 1500, 1e-9);
    assert_string_equal(last_names[1], "inlet.1.2.power");
    assert_float_equal(last_values[1], 700.5, 1e-9);
    assert_string_equal(last_names[2], "power");
    assert_float_equal(last_values[2], 2200.5, 1e-9);
    assert_string_equal(last_names[3], "inlet.1.1.energy");
    assert_string_equal(last_names[4], "energy");
    assert_float_equal(last_values[4], 500000, 1e-9);
    assert_string_equal(last_names[5], "inlet.1.1.current");
    assert_float_equal(last_values[5], 1.23, 1e-12);
    dcm_snmp_plan_free(&plan);
    dcm_snmp_profile_destroy(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oid_parse_format),   cmocka_unit_test(test_oid_order_and_index),
        cmocka_unit_test(test_value_types),        cmocka_unit_test(test_scaling),
        cmocka_unit_test(test_profile_parse_errors), cmocka_unit_test(test_embedded_profiles),
        cmocka_unit_test(test_auto_order),         cmocka_unit_test(test_walk_raritan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
