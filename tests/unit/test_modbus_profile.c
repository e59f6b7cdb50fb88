/* Profiles and points from YAML: every compiled-in profile loads, defaults and addressing
 * apply, counter widths follow the type, invalid markers parse, and each kind of mistake
 * is reported at its file:line:column with a useful message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "modbus_map.h"

static dcm_mb_profile *parse(const char *yaml, dcm_diags *d, dcm_mb_err want)
{
    dcm_mb_profile *p = NULL;
    dcm_mb_err e = dcm_mb_profile_parse_text(yaml, strlen(yaml), "test-profile", &p, d);
    if (e != want) {
        dcm_diags_print(d, stderr);
        fail_msg("parse returned %s, expected %s", dcm_mb_strerror(e), dcm_mb_strerror(want));
    }
    return p;
}

/* The diagnostic whose message contains text, checked at line:column. */
static void assert_diag(const dcm_diags *d, const char *text, int line, int column)
{
    for (size_t i = 0; i < d->count; i++) {
        const dcm_diag *g = &d->items[i];
        if (g->message && strstr(g->message, text)) {
            if (g->line != line || g->column != column)
                fail_msg("'%s' at %d:%d, expected %d:%d", g->message, g->line, g->column, line,
                         column);
            assert_string_equal(g->file, "test-profile");
            return;
        }
    }
    dcm_diags_print(d, stderr);
    fail_msg("no diagnostic containing '%s'", text);
}

static const dcm_mb_point *find(const dcm_mb_profile *p, const char *name)
{
    for (size_t i = 0; i < p->point_count; i++)
        if (strcmp(p->points[i].name, name) == 0)
            return &p->points[i];
    fail_msg("no point %s", name);
    return NULL;
}

static void test_every_compiled_in_profile_loads(void **s)
{
    (void)s;
    size_t n = dcm_mb_profile_count();
    assert_true(n >= 1);
    for (size_t i = 0; i < n; i++) {
        const dcm_mb_embedded *e = dcm_mb_profile_at(i);
        assert_non_null(e);
        assert_int_equal(strlen(e->text), e->len);
        if (i > 0)
            assert_true(strcmp(dcm_mb_profile_at(i - 1)->name, e->name) < 0);
        assert_ptr_equal(dcm_mb_profile_find(e->name), e);
        dcm_diags d;
        dcm_diags_init(&d);
        dcm_mb_profile *p = NULL;
        dcm_mb_err err = dcm_mb_profile_load(e->name, NULL, &p, &d);
        if (err != DCM_MB_OK) {
            dcm_diags_print(&d, stderr);
            fail_msg("profile %s: %s", e->name, dcm_mb_strerror(err));
        }
        assert_string_equal(p->name, e->name);
        assert_non_null(p->description);
        assert_true(p->point_count > 0);
        assert_int_equal(d.count, 0);
        dcm_mb_profile_destroy(p);
        dcm_diags_free(&d);
    }
    assert_null(dcm_mb_profile_at(n));
}

static void test_unknown_profile_suggests(void **s)
{
    (void)s;
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_mb_profile *p = NULL;
    assert_int_equal(dcm_mb_profile_load("eastron-sdm360", NULL, &p, &d), DCM_MB_ENOTFOUND);
    assert_null(p);
    assert_int_equal(d.errors, 1);
    assert_non_null(strstr(d.items[0].message, "did you mean 'eastron-sdm630'?"));
    dcm_diags_free(&d);
}

static void test_defaults_addressing_and_types(void **s)
{
    (void)s;
    const char *yaml = "name: test\n"
                       "description: a test device\n"
                       "addressing: 1\n"
                       "max_registers: 40\n"
                       "max_gap: 4\n"
                       "defaults: {table: input, type: f32, order: CDAB}\n"
                       "points:\n"
                       "  - {name: power, address: 1, unit: W}\n"
                       "  - {name: energy, address: 0x49, unit: kWh, kind: counter}\n"
                       "  - {name: count16, address: 10, type: u16, unit: count, kind: counter}\n"
                       "  - {name: wide, address: 20, type: u32, unit: Wh, kind: counter,\n"
                       "     counter_bits: 24}\n"
                       "  - {name: run, address: 30, type: u16, bit: 3}\n"
                       "  - {name: breaker, table: coil, address: 5}\n"
                       "  - {name: pf, address: 40, type: i16, scale: 0.001, unit: count,\n"
                       "     invalid: [0x8000, max_signed]}\n"
                       "  - {name: v, address: 50, type: u32, unit: V, invalid: all_ones,\n"
                       "     description: volts}\n";
    dcm_diags d;
    dcm_diags_init(&d);
    dcm_mb_profile *p = parse(yaml, &d, DCM_MB_OK);
    assert_string_equal(p->name, "test");
    assert_int_equal(p->addressing, 1);
    assert_int_equal(p->max_registers, 40);
    assert_int_equal(p->max_gap, 4);
    assert_int_equal(p->point_count, 8);
    const dcm_mb_point *pw = find(p, "power");
    assert_int_equal(pw->address, 0); /* 1-based 1 = protocol 0 */
    assert_int_equal(pw->table, DCM_MB_INPUT);
    assert_int_equal(pw->type, DCM_MB_F32);
    assert_int_equal(pw->order, DCM_MB_CDAB);
    assert_int_equal(pw->kind, DCM_KIND_GAUGE);
    assert_int_equal(pw->line, 8);
    assert_int_equal(pw->column, 5);
    assert_string_equal(pw->file, "test-profile");
    const dcm_mb_point *en = find(p, "energy");
    assert_int_equal(en->address, 0x48);
    assert_int_equal(en->kind, DCM_KIND_COUNTER);
    assert_int_equal(en->counter_bits, 0); /* a float counter does not wrap */
    assert_int_equal(find(p, "count16")->counter_bits, 16);
    assert_int_equal(find(p, "wide")->counter_bits, 24);
    const dcm_mb_point *run = find(p, "run");
    assert_int_equal(run->bit, 3);
    assert_string_equal(run->unit, "bool");
    const dcm_mb_point *br = find(p, "breaker");
    assert_int_equal(br->table, DCM_MB_COIL);
    assert_int_equal(br->type, DCM_MB_BOOL); /* the default f32 does not apply to a coil */
    assert_int_equal(br->address, 4);
    const dcm_mb_point *pf = find(p, "pf");
    assert_int_equal(pf->invalid_count, 1);
    assert_true(pf->invalid[0] == 0x8000);
    assert_true(pf->invalid_max_signed);
    const dcm_mb_point *v = find(p, "v");
    assert_true(v->invalid_all_ones);
    assert_string_equal(v->description, "volts");
    assert_int_equal(d.count, 0);
    dcm_mb_profile_destroy(p);
    dcm_diags_free(&d);
}

static void test_counter_widths(void **s)
{
    (void)s;
    static const struct {
        const char *type;
        int bits;
    } cases[] = {{"u16", 16}, {"i16", 16}, {"u32", 32}, {"i32", 32},
                 {"u64", 64}, {"i64", 64}, {"f32", 0},  {"f64", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml,
                 "name: t\ndescription: t\naddressing: 0\npoints:\n"
                 "  - {name: e, address: 0, type: %s, unit: kWh, kind: counter}\n",
                 cases[i].type);
        dcm_diags d;
        dcm_diags_init(&d);
        dcm_mb_profile *p = parse(yaml, &d, DCM_MB_OK);
        assert_int_equal(p->points[0].counter_bits, cases[i].bits);
        dcm_mb_profile_destroy(p);
        dcm_diags_free(&d);
    }
}

typedef struct bad_case {
    const char *point; /* the flow mapping, written at line 5 column 5 */
    const char *message;
    int column; /* of the diagnostic, on line 5 */
} bad_case;

static void test_point_errors(void **s)
{
    (void)s;
    static const bad_case cases[] = {
        {"{name: p, adress: 1, unit: W}", "did you mean 'address'?", 15},
        {"{name: p, address: 1, unit: W, type: float}", "expected u16, i16", 42},
        {"{name: p, address: 1, unit: W, order: ACBD}", "expected ABCD, BADC", 43},
        {"{name: p, address: 1, unit: W, table: hold}", "expected holding, input", 43},
        {"{name: p, address: 1, type: bool, unit: bool}", "bool is for coils", 33},
        {"{name: p, table: coil, address: 1, type: u16}", "its type is bool", 46},
        {"{name: p, address: 1}", "missing required key 'unit'", 5},
        {"{address: 1, unit: W}", "missing required key 'name'", 5},
        {"{name: Power, address: 1, unit: W}", "expected lower-case", 12},
        {"{name: p, unit: W}", "missing required key 'address'", 5},
        {"{name: p, address: 65536, unit: W}", "outside 0..65535", 24},
        {"{name: p, address: 65535, type: u32, unit: W}", "must fit below 65536", 24},
        {"{name: p, address: 1, unit: kWh}", "a gauge needs", 33},
        {"{name: p, address: 1, unit: W, kind: counter}", "a counter needs", 33},
        {"{name: p, address: 1, unit: Watt}", "unknown unit 'Watt'", 33},
        {"{name: p, address: 1, unit: W, kind: rate}", "expected gauge, counter or delta", 42},
        {"{name: p, address: 1, unit: W, scale: 0}", "must not be 0", 43},
        {"{name: p, address: 1, unit: W, bit: 16}", "expected 0..15", 41},
        {"{name: p, address: 1, unit: W, type: u32, bit: 1}", "bit needs a u16", 52},
        {"{name: p, address: 1, unit: W, invalid: [0x10000]}", "does not fit the 16 bits", 46},
        {"{name: p, address: 1, unit: W, invalid: [-1]}", "expected a raw value", 46},
        {"{name: p, address: 1, unit: kWh, kind: counter, counter_bits: 33}",
         "expected 0 (no wrap) or 8..16", 67},
        {"{name: p, address: 1, unit: W, counter_bits: 16}", "only a counter", 50},
        {"{name: p, address: 1, unit: count, type: f32, kind: counter, counter_bits: 32}",
         "a f32 counter does not wrap", 80},
        {"{name: p, address: 1, unit: W, flow: f}", "only a derived point", 42},
        {"{name: p, derive: heat, unit: kW}", "expected thermal_power", 23},
        {"{name: p, derive: thermal_power, address: 3, flow: f, supply: s, return: r}",
         "reads no register", 47},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml,
                 "name: t\ndescription: t\naddressing: 0\npoints:\n  - %s\n", cases[i].point);
        dcm_diags d;
        dcm_diags_init(&d);
        dcm_mb_profile *p = parse(yaml, &d, DCM_MB_EINVALID);
        assert_null(p);
        assert_diag(&d, cases[i].message, 5, cases[i].column);
        dcm_diags_free(&d);
    }
}

static void test_profile_errors(void **s)
{
    (void)s;
    dcm_diags d;
    dcm_diags_init(&d);
    /* Point set errors land at the point. */
    parse("name: t\ndescription: t\naddressing: 0\npoints:\n"
          "  - {name: p, address: 1, unit: W}\n"
          "  - {name: p, address: 2, unit: W}\n",
          &d, DCM_MB_EINVALID);
    assert_diag(&d, "declared twice (first at line 5)", 6, 5);
    dcm_diags_free(&d);
    dcm_diags_init(&d);
    parse("name: t\ndescription: t\naddressing: 0\nmax_registers: 1\npoints:\n"
          "  - {name: p, address: 1, type: f32, unit: W}\n",
          &d, DCM_MB_EINVALID);
    assert_diag(&d, "takes 2 registers, more than max_registers (1)", 6, 5);
    dcm_diags_free(&d);
    dcm_diags_init(&d);
    parse("name: t\ndescription: t\naddressing: 0\npoints:\n"
          "  - {name: flow, address: 0, unit: m3/h}\n"
          "  - {name: ts, address: 1, unit: V}\n"
          "  - {name: q, derive: thermal_power, flow: flow, supply: ts, return: tr}\n",
          &d, DCM_MB_EINVALID);
    assert_diag(&d, "supply point 'ts' must be in degC, not 'V'", 7, 5);
    assert_diag(&d, "return point 'tr' is not a point of this device", 7, 5);
    dcm_diags_free(&d);
    /* Document-level keys. */
    dcm_diags_init(&d);
    parse("name: t\ndescription: t\naddressing: 2\nmax_registers: 126\nmax_gap: -1\n"
          "defaults: {name: x}\npoints: []\n",
          &d, DCM_MB_EINVALID);
    assert_diag(&d, "expected 0 (protocol addresses) or 1", 3, 13);
    assert_diag(&d, "expected 1..125, got 126", 4, 16);
    assert_diag(&d, "expected 0..125, got -1", 5, 10);
    assert_diag(&d, "belongs to each point", 6, 18);
    assert_diag(&d, "at least one point", 7, 9);
    dcm_diags_free(&d);
    dcm_diags_init(&d);
    parse("name: t\ndescription: t\npoints:\n  - {name: p, address: 1, unit: W}\n", &d,
          DCM_MB_EINVALID);
    assert_diag(&d, "missing required key 'addressing'", 1, 1);
    dcm_diags_free(&d);
    dcm_diags_init(&d);
    parse("name: t\n  bad: [\n", &d, DCM_MB_EINVALID);
    assert_true(d.errors > 0);
    dcm_diags_free(&d);
    dcm_diags_init(&d);
    parse("", &d, DCM_MB_EINVALID);
    assert_non_null(strstr(d.items[0].message, "empty profile"));
    dcm_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_compiled_in_profile_loads),
        cmocka_unit_test(test_unknown_profile_suggests),
        cmocka_unit_test(test_defaults_addressing_and_types),
        cmocka_unit_test(test_counter_widths),
        cmocka_unit_test(test_point_errors),
        cmocka_unit_test(test_profile_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
