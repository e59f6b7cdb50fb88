/* The strict JSON reader: values, structure, strings, numbers, refusals, depth. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"
#include "json_read.h"

static dcm_jr_doc *parse_ok(const char *text)
{
    dcm_jr_doc *d = NULL;
    size_t off = 99;
    dcm_jr_err e = dcm_jr_parse(text, strlen(text), &d, &off);
    if (e != DCM_JR_OK)
        fprintf(stderr, "parse failed for %s: %s at %zu\n", text, dcm_jr_strerror(e), off);
    assert_int_equal(e, DCM_JR_OK);
    assert_non_null(d);
    return d;
}

static void test_object_members(void **state)
{
    (void)state;
    dcm_jr_doc *d = parse_ok(" {\"a\": 1, \"b\": [true, false, null, \"x\"],"
                             " \"c\": {\"d\": -2.5e1},"
                             " \"e\": {}, \"f\": []} \n");
    const dcm_jr_node *root = dcm_jr_root(d);
    assert_int_equal(root->type, DCM_JR_OBJECT);
    assert_int_equal(root->count, 5);
    assert_null(root->key);
    const dcm_jr_node *a = dcm_jr_get(root, "a");
    assert_non_null(a);
    assert_string_equal(a->key, "a");
    assert_int_equal(a->type, DCM_JR_NUMBER);
    assert_true(a->is_int);
    assert_int_equal(a->integer, 1);
    const dcm_jr_node *b = dcm_jr_get(root, "b");
    assert_int_equal(b->type, DCM_JR_ARRAY);
    assert_int_equal(b->count, 4);
    const dcm_jr_node *e0 = b->child;
    assert_int_equal(e0->type, DCM_JR_BOOL);
    assert_true(e0->boolean);
    assert_null(e0->key);
    assert_int_equal(e0->next->type, DCM_JR_BOOL);
    assert_false(e0->next->boolean);
    assert_int_equal(e0->next->next->type, DCM_JR_NULL);
    const dcm_jr_node *x = e0->next->next->next;
    assert_int_equal(x->type, DCM_JR_STRING);
    assert_string_equal(x->str, "x");
    assert_null(x->next);
    double v = 0;
    assert_true(dcm_jr_number(dcm_jr_get(dcm_jr_get(root, "c"), "d"), &v));
    assert_true(v == -25.0);
    assert_false(dcm_jr_get(dcm_jr_get(root, "c"), "d")->is_int);
    assert_int_equal(dcm_jr_get(root, "e")->count, 0);
    assert_null(dcm_jr_get(root, "e")->child);
    assert_int_equal(dcm_jr_get(root, "f")->type, DCM_JR_ARRAY);
    assert_int_equal(dcm_jr_get(root, "f")->count, 0);
    assert_null(dcm_jr_get(root, "zz"));
    assert_null(dcm_jr_get(b, "a")); /* not an object */
    const char *str = NULL;
    assert_false(dcm_jr_string(a, &str));
    assert_null(str);
    dcm_jr_free(d);
}

static void test_scalars_at_top(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        dcm_jr_type type;
    } cases[] = {
        {"0", DCM_JR_NUMBER}, {"-0", DCM_JR_NUMBER}, {"\"\"", DCM_JR_STRING},
        {"true", DCM_JR_BOOL}, {"null", DCM_JR_NULL}, {" [ ] ", DCM_JR_ARRAY},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dcm_jr_doc *d = parse_ok(cases[i].text);
        assert_int_equal(dcm_jr_root(d)->type, cases[i].type);
        dcm_jr_free(d);
    }
}

static void test_duplicate_keys_first_wins(void **state)
{
    (void)state;
    dcm_jr_doc *d = parse_ok("{\"k\":1,\"k\":2}");
    assert_int_equal(dcm_jr_root(d)->count, 2);
    assert_int_equal(dcm_jr_get(dcm_jr_root(d), "k")->integer, 1);
    dcm_jr_free(d);
}

static void test_strings(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        const char *want;
        size_t want_len;
    } cases[] = {
        {"\"plain\"", "plain", 5},
        {"\"q\\\"b\\\\s\\/\"", "q\"b\\s/", 6},
        {"\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5},
        {"\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},       /* surrogate pair */
        {"\"\xf0\x9f\x98\x80 \xe2\x82\xac\"", "\xf0\x9f\x98\x80 \xe2\x82\xac", 8},
        {"\"a\\u0000b\"", "a\0b", 3},                         /* embedded NUL keeps its length */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dcm_jr_doc *d = parse_ok(cases[i].json);
        const dcm_jr_node *n = dcm_jr_root(d);
        assert_int_equal(n->type, DCM_JR_STRING);
        assert_int_equal(n->str_len, cases[i].want_len);
        assert_memory_equal(n->str, cases[i].want, cases[i].want_len);
        assert_int_equal(n->str[n->str_len], '\0');
        dcm_jr_free(d);
    }
    /* Keys are decoded the same way. */
    dcm_jr_doc *d = parse_ok("{\"k\\u00e9y\":true}");
    assert_non_null(dcm_jr_get(dcm_jr_root(d), "k\xc3\xa9y"));
    dcm_jr_free(d);
}

static void test_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *json;
        double want;
        bool is_int;
    } cases[] = {
        {"0", 0, true},
        {"-7", -7, true},
        {"123456789012", 123456789012.0, true},
        {"9223372036854775807", 9223372036854775807.0, true},
        {"9223372036854775808", 9223372036854775808.0, false}, /* beyond int64 */
        {"1.5", 1.5, false},
        {"-0.25", -0.25, false},
        {"1e3", 1000, false},
        {"1E+2", 100, false},
        {"2.5e-3", 0.0025, false},
        {"1e-400", 0, false}, /* underflow reads as zero */
        {"1.7976931348623157e308", 1.7976931348623157e308, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dcm_jr_doc *d = parse_ok(cases[i].json);
        const dcm_jr_node *n = dcm_jr_root(d);
        assert_int_equal(n->type, DCM_JR_NUMBER);
        assert_true(n->number == cases[i].want);
        assert_int_equal(n->is_int, cases[i].is_int);
        if (n->is_int)
            assert_true((double)n->integer == cases[i].want);
        dcm_jr_free(d);
    }
    /* -0 reads as 0, never as negative zero. */
    dcm_jr_doc *d = parse_ok("-0.0");
    assert_false(signbit(dcm_jr_root(d)->number));
    dcm_jr_free(d);
}

static void expect_error(const char *text, size_t len, dcm_jr_err want, size_t want_off)
{
    dcm_jr_doc *d = (dcm_jr_doc *)1;
    size_t off = 12345;
    dcm_jr_err e = dcm_jr_parse(text, len, &d, &off);
    if (e != want || off != want_off)
        fprintf(stderr, "case '%.*s': got %s at %zu, want %s at %zu\n", (int)len, text,
                dcm_jr_strerror(e), off, dcm_jr_strerror(want), want_off);
    assert_int_equal(e, want);
    assert_int_equal(off, want_off);
    assert_null(d);
}

static void test_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        dcm_jr_err err;
        size_t off;
    } cases[] = {
        {"", DCM_JR_ESYNTAX, 0},
        {"   ", DCM_JR_ESYNTAX, 3},
        {"{", DCM_JR_ESYNTAX, 1},
        {"[1,]", DCM_JR_ESYNTAX, 3},
        {"{\"a\":1,}", DCM_JR_ESYNTAX, 7},
        {"{\"a\" 1}", DCM_JR_ESYNTAX, 5},
        {"{a:1}", DCM_JR_ESYNTAX, 1},
        {"{'a':1}", DCM_JR_ESYNTAX, 1},
        {"[1 2]", DCM_JR_ESYNTAX, 3},
        {"[1]]", DCM_JR_ESYNTAX, 3},
        {"1 2", DCM_JR_ESYNTAX, 2},
        {"01", DCM_JR_ESYNTAX, 1},
        {"-", DCM_JR_ESYNTAX, 1},
        {"1.", DCM_JR_ESYNTAX, 2},
        {".5", DCM_JR_ESYNTAX, 0},
        {"1e", DCM_JR_ESYNTAX, 2},
        {"+1", DCM_JR_ESYNTAX, 0},
        {"NaN", DCM_JR_ESYNTAX, 0},
        {"Infinity", DCM_JR_ESYNTAX, 0},
        {"tru", DCM_JR_ESYNTAX, 0},
        {"nulls", DCM_JR_ESYNTAX, 4},
        {"\"abc", DCM_JR_ESYNTAX, 4},
        {"\"a\nb\"", DCM_JR_ESYNTAX, 2},
        {"\"\\x\"", DCM_JR_ESYNTAX, 3},
        {"\"\\u12G4\"", DCM_JR_ESYNTAX, 3},
        {"\"\\ud800\"", DCM_JR_EUTF8, 7},
        {"\"\\udc00\"", DCM_JR_EUTF8, 7},
        {"\"\\ud800\\u0041\"", DCM_JR_EUTF8, 13},
        {"\"\xc0\xaf\"", DCM_JR_EUTF8, 1},     /* overlong '/' */
        {"\"\xed\xa0\x80\"", DCM_JR_EUTF8, 1}, /* UTF-8 encoded surrogate */
        {"\"\xf4\x90\x80\x80\"", DCM_JR_EUTF8, 1}, /* above U+10FFFF */
        {"\"\xe2\x82\"", DCM_JR_EUTF8, 1},     /* truncated sequence */
        {"\"\x80\"", DCM_JR_EUTF8, 1},
        {"1e999", DCM_JR_ERANGE, 5},
        {"[-1e400]", DCM_JR_ERANGE, 7},
        {"// c\n1", DCM_JR_ESYNTAX, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_error(cases[i].text, strlen(cases[i].text), cases[i].err, cases[i].off);
    /* A NUL byte is not white space. */
    expect_error("1\0", 2, DCM_JR_ESYNTAX, 1);
    /* NULL out is refused, NULL text only with length 0. */
    assert_int_equal(dcm_jr_parse("1", 1, NULL, NULL), DCM_JR_ESYNTAX);
    dcm_jr_doc *d = NULL;
    assert_int_equal(dcm_jr_parse(NULL, 3, &d, NULL), DCM_JR_ESYNTAX);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char buf[2 * (DCM_JR_MAX_DEPTH + 1) + 1];
    /* Exactly the limit parses. */
    size_t n = 0;
    for (int i = 0; i < DCM_JR_MAX_DEPTH; i++)
        buf[n++] = '[';
    for (int i = 0; i < DCM_JR_MAX_DEPTH; i++)
        buf[n++] = ']';
    dcm_jr_doc *d = NULL;
    assert_int_equal(dcm_jr_parse(buf, n, &d, NULL), DCM_JR_OK);
    dcm_jr_free(d);
    /* One more level is refused where it opens. */
    n = 0;
    for (int i = 0; i <= DCM_JR_MAX_DEPTH; i++)
        buf[n++] = '[';
    for (int i = 0; i <= DCM_JR_MAX_DEPTH; i++)
        buf[n++] = ']';
    size_t off = 0;
    assert_int_equal(dcm_jr_parse(buf, n, &d, &off), DCM_JR_EDEPTH);
    assert_int_equal(off, DCM_JR_MAX_DEPTH);
    /* A million open brackets: refused, no stack overflow. */
    size_t big = 1000000;
    char *deep = malloc(big);
    assert_non_null(deep);
    memset(deep, '[', big);
    assert_int_equal(dcm_jr_parse(deep, big, &d, NULL), DCM_JR_EDEPTH);
    free(deep);
}

/* What the project's own writer produces, the reader reads back unchanged. */
static void test_round_trip_with_writer(void **state)
{
    (void)state;
    dcm_json j;
    dcm_json_init(&j, DCM_JSON_PRETTY);
    dcm_json_begin_object(&j);
    dcm_json_key(&j, "s");
    dcm_json_string(&j, "tab\there \"q\" \\ \x01 \xe2\x82\xac");
    dcm_json_key(&j, "pi");
    dcm_json_number(&j, 3.141592653589793);
    dcm_json_key(&j, "tiny");
    dcm_json_number(&j, 5e-324);
    dcm_json_key(&j, "nan");
    dcm_json_number(&j, NAN);
    dcm_json_key(&j, "list");
    dcm_json_begin_array(&j);
    for (int i = 0; i < 1000; i++)
        dcm_json_int(&j, i * 7);
    dcm_json_end_array(&j);
    dcm_json_end_object(&j);
    size_t len = 0;
    const char *text = dcm_json_text(&j, &len);
    dcm_jr_doc *d = NULL;
    assert_int_equal(dcm_jr_parse(text, len, &d, NULL), DCM_JR_OK);
    const dcm_jr_node *root = dcm_jr_root(d);
    const char *s = NULL;
    assert_true(dcm_jr_string(dcm_jr_get(root, "s"), &s));
    assert_string_equal(s, "tab\there \"q\" \\ \x01 \xe2\x82\xac");
    assert_true(dcm_jr_get(root, "pi")->number == 3.141592653589793);
    assert_true(dcm_jr_get(root, "tiny")->number == 5e-324);
    assert_int_equal(dcm_jr_get(root, "nan")->type, DCM_JR_NULL);
    const dcm_jr_node *list = dcm_jr_get(root, "list");
    assert_int_equal(list->count, 1000);
    int i = 0;
    for (const dcm_jr_node *e = list->child; e; e = e->next, i++)
        assert_int_equal(e->integer, i * 7);
    assert_int_equal(i, 1000);
    dcm_jr_free(d);
    dcm_json_free(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_object_members),
        cmocka_unit_test(test_scalars_at_top),
        cmocka_unit_test(test_duplicate_keys_first_wins),
        cmocka_unit_test(test_strings),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_round_trip_with_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
