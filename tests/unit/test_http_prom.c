/* The Prometheus text writer: families, samples, label escaping, UTF-8 repair, and that
 * NaN and infinities are never written. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_prom.h"

static char *render(dcm_prom *p)
{
    char *text = dcm_prom_release(p, NULL);
    assert_non_null(text);
    return text;
}

static void test_family_and_samples(void **state)
{
    (void)state;
    dcm_prom p;
    dcm_prom_init(&p);
    dcm_prom_family(&p, "dcm_pue", "gauge", "Power usage effectiveness");
    dcm_prom_label l[] = {{"window", "1m"}, {"category", "2"}};
    assert_true(dcm_prom_sample(&p, "dcm_pue", l, 2, 1.456));
    assert_true(dcm_prom_sample(&p, "dcm_samples_total", NULL, 0, 12345));
    assert_true(dcm_prom_sample(&p, "dcm_x", NULL, 0, -0.25));
    char *text = render(&p);
    assert_string_equal(text, "# HELP dcm_pue Power usage effectiveness\n"
                              "# TYPE dcm_pue gauge\n"
                              "dcm_pue{window=\"1m\",category=\"2\"} 1.456\n"
                              "dcm_samples_total 12345\n"
                              "dcm_x -0.25\n");
    free(text);
}

static void test_non_finite_left_out(void **state)
{
    (void)state;
    dcm_prom p;
    dcm_prom_init(&p);
    dcm_prom_label l[] = {{"role", "it"}};
    assert_false(dcm_prom_sample(&p, "dcm_a", l, 1, NAN));
    assert_false(dcm_prom_sample(&p, "dcm_a", l, 1, INFINITY));
    assert_false(dcm_prom_sample(&p, "dcm_a", l, 1, -INFINITY));
    assert_true(dcm_prom_sample(&p, "dcm_a", l, 1, 0.0));
    char *text = render(&p);
    assert_string_equal(text, "dcm_a{role=\"it\"} 0\n");
    assert_null(strstr(text, "NaN"));
    assert_null(strstr(text, "Inf"));
    free(text);
}

static void test_label_escaping(void **state)
{
    (void)state;
    dcm_prom p;
    dcm_prom_init(&p);
    dcm_prom_label l[] = {{"point", "a\"b\\c\nd"}, {"unit", NULL}};
    assert_true(dcm_prom_sample(&p, "dcm_point_value", l, 2, 2));
    char *text = render(&p);
    assert_string_equal(text, "dcm_point_value{point=\"a\\\"b\\\\c\\nd\",unit=\"\"} 2\n");
    free(text);
}

static void test_help_escaping(void **state)
{
    (void)state;
    dcm_prom p;
    dcm_prom_init(&p);
    /* In HELP only backslash and line feed are escaped; a quote stays as is. */
    dcm_prom_family(&p, "dcm_h", "counter", "a \"b\" c\\d\ne");
    char *text = render(&p);
    assert_string_equal(text, "# HELP dcm_h a \"b\" c\\\\d\\ne\n# TYPE dcm_h counter\n");
    free(text);
}

static void test_utf8(void **state)
{
    (void)state;
    dcm_prom p;
    dcm_prom_init(&p);
    /* Valid UTF-8 (degree sign, CJK, an emoji) passes; a lone continuation byte, a
     * truncated sequence, an overlong encoding and a surrogate become U+FFFD. */
    dcm_prom_label ok[] = {{"unit", "\xC2\xB0" "C \xE5\x8F\xB0 \xF0\x9F\x94\x8C"}};
    dcm_prom_label bad[] = {{"v", "a\x80" "b\xE5\x8F" "\xC0\xAF" "\xED\xA0\x80"}};
    assert_true(dcm_prom_sample(&p, "dcm_u", ok, 1, 1));
    assert_true(dcm_prom_sample(&p, "dcm_u", bad, 1, 1));
    char *text = render(&p);
    assert_string_equal(text,
                        "dcm_u{unit=\"\xC2\xB0" "C \xE5\x8F\xB0 \xF0\x9F\x94\x8C\"} 1\n"
                        "dcm_u{v=\"a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD"
                        "\xEF\xBF\xBD\xEF\xBF\xBD"
                        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"} 1\n");
    free(text);
}

static void test_numbers_round_trip(void **state)
{
    (void)state;
    static const double values[] = {0.1, 1e-9, 123456789012.5, 1e21, -3.5e-300, 4.9e-324};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        dcm_prom p;
        dcm_prom_init(&p);
        assert_true(dcm_prom_sample(&p, "m", NULL, 0, values[i]));
        char *text = render(&p);
        assert_true(strncmp(text, "m ", 2) == 0);
        assert_true(strtod(text + 2, NULL) == values[i]);
        free(text);
    }
}

static void test_empty_release(void **state)
{
    (void)state;
    dcm_prom p;
    dcm_prom_init(&p);
    size_t len = 99;
    char *text = dcm_prom_release(&p, &len);
    assert_non_null(text);
    assert_int_equal(len, 0);
    assert_string_equal(text, "");
    free(text);
}

static void test_large(void **state)
{
    (void)state;
    dcm_prom p;
    dcm_prom_init(&p);
    char id[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(id, sizeof id, "p%05d", i);
        dcm_prom_label l[] = {{"point", id}};
        assert_true(dcm_prom_sample(&p, "dcm_point_value", l, 1, i));
    }
    size_t len = 0;
    char *text = dcm_prom_release(&p, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "dcm_point_value{point=\"p09999\"} 9999\n"));
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    assert_int_equal(lines, 10000);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_and_samples), cmocka_unit_test(test_non_finite_left_out),
        cmocka_unit_test(test_label_escaping),     cmocka_unit_test(test_help_escaping),
        cmocka_unit_test(test_utf8),               cmocka_unit_test(test_numbers_round_trip),
        cmocka_unit_test(test_empty_release),      cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
