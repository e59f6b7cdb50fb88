/* The HTTP server's parsers: window lists, flags, listen addresses, content types, asset
 * paths, and the credentials file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dcm/metrics.h"
#include "http/http_auth.h"
#include "http/http_query.h"

#define BIT(w) (1u << (w))

static void test_windows(void **state)
{
    (void)state;
    uint32_t m = 0;
    char why[160];
    assert_true(dcm_http_parse_windows("1m", &m, why, sizeof why));
    assert_int_equal(m, BIT(DCM_WINDOW_1M));
    assert_true(dcm_http_parse_windows("instant, 15m ,month,ttm", &m, why, sizeof why));
    assert_int_equal(m, BIT(DCM_WINDOW_INSTANT) | BIT(DCM_WINDOW_15M) | BIT(DCM_WINDOW_MONTH) |
                            BIT(DCM_WINDOW_TTM));
    assert_true(dcm_http_parse_windows("all", &m, why, sizeof why));
    assert_int_equal(m, 0xFFu);
    assert_true(dcm_http_parse_windows("1h,1h", &m, why, sizeof why));
    assert_int_equal(m, BIT(DCM_WINDOW_1H));

    assert_false(dcm_http_parse_windows("", &m, why, sizeof why));
    assert_string_equal(why, "empty window list");
    assert_false(dcm_http_parse_windows("1m,,1h", &m, why, sizeof why));
    assert_string_equal(why, "empty window name in the list");
    assert_false(dcm_http_parse_windows("1m,", &m, why, sizeof why));
    assert_false(dcm_http_parse_windows("week", &m, why, sizeof why));
    assert_non_null(strstr(why, "unknown window 'week'"));
    assert_int_equal(m, 0);
    assert_false(dcm_http_parse_windows("averyveryverylongwindowname", &m, why, sizeof why));
    assert_false(dcm_http_parse_windows("1M", &m, NULL, 0));
}

static void test_flags(void **state)
{
    (void)state;
    bool b = false;
    assert_true(dcm_http_parse_flag("1", &b));
    assert_true(b);
    assert_true(dcm_http_parse_flag("FALSE", &b));
    assert_false(b);
    assert_true(dcm_http_parse_flag("on", &b));
    assert_true(b);
    assert_true(dcm_http_parse_flag("no", &b));
    assert_false(b);
    assert_false(dcm_http_parse_flag("2", &b));
    assert_false(dcm_http_parse_flag("", &b));
    assert_false(dcm_http_parse_flag(NULL, &b));
}

static void test_listen(void **state)
{
    (void)state;
    char host[64];
    int port = -1;
    assert_true(dcm_http_parse_listen("127.0.0.1:8080", host, sizeof host, &port));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_true(dcm_http_parse_listen(":9100", host, sizeof host, &port));
    assert_string_equal(host, "");
    assert_int_equal(port, 9100);
    assert_true(dcm_http_parse_listen("[::1]:0", host, sizeof host, &port));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 0);
    assert_true(dcm_http_parse_listen("localhost:65535", host, sizeof host, &port));
    assert_string_equal(host, "localhost");
    assert_int_equal(port, 65535);

    assert_false(dcm_http_parse_listen("127.0.0.1", host, sizeof host, &port));
    assert_false(dcm_http_parse_listen("127.0.0.1:", host, sizeof host, &port));
    assert_false(dcm_http_parse_listen("127.0.0.1:65536", host, sizeof host, &port));
    assert_false(dcm_http_parse_listen("127.0.0.1:80a", host, sizeof host, &port));
    assert_false(dcm_http_parse_listen("127.0.0.1:-1", host, sizeof host, &port));
    assert_false(dcm_http_parse_listen("::1:8080", host, sizeof host, &port));
    assert_false(dcm_http_parse_listen("[::1:8080", host, sizeof host, &port));
    assert_false(dcm_http_parse_listen("[]:8080", host, sizeof host, &port));
    assert_false(dcm_http_parse_listen("a b:8080", host, sizeof host, &port));
    assert_false(dcm_http_parse_listen("127.0.0.1:000008080", host, sizeof host, &port));
    char tiny[4];
    assert_false(dcm_http_parse_listen("127.0.0.1:80", tiny, sizeof tiny, &port));
}

static void test_content_types(void **state)
{
    (void)state;
    assert_string_equal(dcm_http_content_type("/index.html"), "text/html; charset=utf-8");
    assert_string_equal(dcm_http_content_type("/app.js"), "text/javascript; charset=utf-8");
    assert_string_equal(dcm_http_content_type("/style.CSS"), "text/css; charset=utf-8");
    assert_string_equal(dcm_http_content_type("/img/logo.svg"), "image/svg+xml");
    assert_string_equal(dcm_http_content_type("/favicon.ico"), "image/x-icon");
    assert_string_equal(dcm_http_content_type("/a.b/README"), "application/octet-stream");
    assert_string_equal(dcm_http_content_type("/noext"), "application/octet-stream");
}

static void test_asset_paths(void **state)
{
    (void)state;
    assert_true(dcm_http_asset_path_ok("/index.html"));
    assert_true(dcm_http_asset_path_ok("/vendor/x.js"));
    assert_false(dcm_http_asset_path_ok("index.html"));
    assert_false(dcm_http_asset_path_ok("/../etc/passwd"));
    assert_false(dcm_http_asset_path_ok("/a\\b"));
    assert_false(dcm_http_asset_path_ok("/a\nb"));
    assert_false(dcm_http_asset_path_ok(NULL));
    char longp[300];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    assert_false(dcm_http_asset_path_ok(longp));
}

/* sha256("s3cret") */
#define S3CRET_SHA256 "1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0"

static void test_auth_file(void **state)
{
    (void)state;
    static const char text[] = "# users of the wall screen\n"
                               "\n"
                               "alice:pa:ss word\r\n"
                               "  bob:sha256:" S3CRET_SHA256 "  \n"
                               "tok-123.abc~+/=\n";
    dcm_http_auth *a = NULL;
    size_t line = 0;
    assert_int_equal(dcm_http_auth_parse(text, sizeof text - 1, &a, &line), DCM_HTTP_AUTH_OK);
    assert_int_equal(dcm_http_auth_basic_count(a), 2);
    assert_int_equal(dcm_http_auth_bearer_count(a), 1);
    assert_true(dcm_http_auth_basic(a, "alice", "pa:ss word"));
    assert_false(dcm_http_auth_basic(a, "alice", "pa:ss"));
    assert_true(dcm_http_auth_basic(a, "bob", "s3cret"));
    assert_false(dcm_http_auth_basic(a, "bob", "S3cret"));
    assert_false(dcm_http_auth_basic(a, "carol", "s3cret"));
    assert_false(dcm_http_auth_basic(a, "alice", "s3cret"));
    assert_true(dcm_http_auth_bearer(a, "tok-123.abc~+/="));
    assert_false(dcm_http_auth_bearer(a, "tok-123.abc"));
    assert_false(dcm_http_auth_bearer(a, ""));
    /* A user name is not a token and a token is not a password. */
    assert_false(dcm_http_auth_bearer(a, "alice"));
    assert_false(dcm_http_auth_basic(a, "tok-123.abc~+/=", ""));
    dcm_http_auth_destroy(a);
}

static void test_auth_errors(void **state)
{
    (void)state;
    dcm_http_auth *a = NULL;
    size_t line = 0;
    static const char bad_token[] = "# ok\ngood\nbad token\n";
    assert_int_equal(dcm_http_auth_parse(bad_token, sizeof bad_token - 1, &a, &line),
                     DCM_HTTP_AUTH_ESYNTAX);
    assert_null(a);
    assert_int_equal(line, 3);
    static const char bad_hash[] = "u:sha256:abcd\n";
    assert_int_equal(dcm_http_auth_parse(bad_hash, sizeof bad_hash - 1, &a, &line),
                     DCM_HTTP_AUTH_ESYNTAX);
    assert_int_equal(line, 1);
    static const char no_user[] = ":password\n";
    assert_int_equal(dcm_http_auth_parse(no_user, sizeof no_user - 1, &a, &line),
                     DCM_HTTP_AUTH_ESYNTAX);
    static const char no_pass[] = "user:\n";
    assert_int_equal(dcm_http_auth_parse(no_pass, sizeof no_pass - 1, &a, &line),
                     DCM_HTTP_AUTH_ESYNTAX);
    static const char empty[] = "# nobody\n\n   \n";
    assert_int_equal(dcm_http_auth_parse(empty, sizeof empty - 1, &a, &line),
                     DCM_HTTP_AUTH_EEMPTY);
    assert_null(a);
    static const char nul[] = "ab\0cd\n";
    assert_int_equal(dcm_http_auth_parse(nul, sizeof nul - 1, &a, &line), DCM_HTTP_AUTH_ESYNTAX);
    assert_non_null(strstr(dcm_http_auth_strerror(DCM_HTTP_AUTH_ESYNTAX), "sha256"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows),     cmocka_unit_test(test_flags),
        cmocka_unit_test(test_listen),      cmocka_unit_test(test_content_types),
        cmocka_unit_test(test_asset_paths), cmocka_unit_test(test_auth_file),
        cmocka_unit_test(test_auth_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
