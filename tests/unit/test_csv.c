/* The CSV reader: RFC 4180 quoting, line endings, BOM, line numbers, and recovery from
 * malformed records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"

static dcm_csv_reader *mem(const char *text)
{
    dcm_csv_reader *r = NULL;
    assert_int_equal(dcm_csv_reader_create_mem(text, strlen(text), &r), DCM_CSV_OK);
    return r;
}

/* Reads the next record and checks it against the expected fields. */
static void expect(dcm_csv_reader *r, unsigned long line, size_t n, const char *const *fields)
{
    dcm_csv_record rec;
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_OK);
    assert_int_equal(rec.line, line);
    assert_int_equal(rec.count, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(rec.fields[i], fields[i]);
        assert_int_equal(rec.lengths[i], strlen(fields[i]));
    }
}

#define EXPECT(r, line, ...)                                                                     \
    do {                                                                                         \
        const char *const f_[] = {__VA_ARGS__};                                                  \
        expect((r), (line), sizeof f_ / sizeof f_[0], f_);                                       \
    } while (0)

static void expect_eof(dcm_csv_reader *r)
{
    dcm_csv_record rec;
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_EOF);
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_EOF);
}

static void test_plain(void **state)
{
    (void)state;
    dcm_csv_reader *r = mem("a,b,c\n1,2,3\n,,\nx,\n");
    EXPECT(r, 1, "a", "b", "c");
    EXPECT(r, 2, "1", "2", "3");
    EXPECT(r, 3, "", "", "");
    EXPECT(r, 4, "x", "");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
}

static void test_quotes(void **state)
{
    (void)state;
    dcm_csv_reader *r = mem("\"a,b\",\"say \"\"hi\"\"\",\"\"\n"
                            "\"two\nlines\",x\n"
                            "after,\"\"\"\"\n");
    EXPECT(r, 1, "a,b", "say \"hi\"", "");
    EXPECT(r, 2, "two\nlines", "x");
    EXPECT(r, 4, "after", "\""); /* the quoted line break moved the count on */
    expect_eof(r);
    dcm_csv_reader_destroy(r);
}

static void test_line_endings_bom_blank(void **state)
{
    (void)state;
    dcm_csv_reader *r = mem("\xEF\xBB\xBFh1,h2\r\n\r\n1,2\r3,4\n\n\"q\r\nq\",5\r\nlast,6");
    EXPECT(r, 1, "h1", "h2");
    EXPECT(r, 3, "1", "2");
    EXPECT(r, 4, "3", "4");
    EXPECT(r, 6, "q\nq", "5"); /* a line break inside quotes reads as LF, whatever was written */
    EXPECT(r, 8, "last", "6");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
}

static void test_bom_only_at_start(void **state)
{
    (void)state;
    dcm_csv_reader *r = mem("a\n\xEF\xBB\xBF" "b\n");
    EXPECT(r, 1, "a");
    EXPECT(r, 2, "\xEF\xBB\xBF" "b");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
}

static void test_empty_inputs(void **state)
{
    (void)state;
    dcm_csv_reader *r = mem("");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
    r = mem("\n\r\n\n");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
    r = mem("\xEF\xBB\xBF");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
}

static void test_stray_quote_recovers(void **state)
{
    (void)state;
    dcm_csv_reader *r = mem("ok,1\nab\"c,2\nnext,3\n");
    dcm_csv_record rec;
    EXPECT(r, 1, "ok", "1");
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_ESYNTAX);
    assert_int_equal(dcm_csv_error_line(r), 2);
    assert_int_equal(dcm_csv_error_column(r), 3);
    assert_non_null(strstr(dcm_csv_error_detail(r), "quote"));
    EXPECT(r, 3, "next", "3");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
}

static void test_after_closing_quote(void **state)
{
    (void)state;
    /* The bad record opens a quote again after the error: resynchronising at the line
     * end keeps it from swallowing the next line. */
    dcm_csv_reader *r = mem("\"a\"b,\"x\nnext,1\n");
    dcm_csv_record rec;
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_ESYNTAX);
    assert_int_equal(dcm_csv_error_line(r), 1);
    assert_int_equal(dcm_csv_error_column(r), 4);
    assert_non_null(strstr(dcm_csv_error_detail(r), "closing quote"));
    EXPECT(r, 2, "next", "1");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    dcm_csv_reader *r = mem("a,b\nc,\"open\nmore\n");
    dcm_csv_record rec;
    EXPECT(r, 1, "a", "b");
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_ESYNTAX);
    assert_int_equal(dcm_csv_error_line(r), 2);
    assert_non_null(strstr(dcm_csv_error_detail(r), "never closed"));
    expect_eof(r);
    dcm_csv_reader_destroy(r);
}

static void test_nul_byte(void **state)
{
    (void)state;
    static const char text[] = "a,b\x00" "c\nd,e\n";
    dcm_csv_reader *r = NULL;
    assert_int_equal(dcm_csv_reader_create_mem(text, sizeof text - 1, &r), DCM_CSV_OK);
    dcm_csv_record rec;
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_ESYNTAX);
    assert_int_equal(dcm_csv_error_line(r), 1);
    assert_non_null(strstr(dcm_csv_error_detail(r), "NUL"));
    EXPECT(r, 2, "d", "e");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
}

static void test_limits(void **state)
{
    (void)state;
    size_t n = DCM_CSV_MAX_FIELDS + 1;
    char *many = malloc(2 * n + 16);
    assert_non_null(many);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        many[k++] = 'x';
        many[k++] = i + 1 < n ? ',' : '\n';
    }
    memcpy(many + k, "ok\n", 4);
    dcm_csv_reader *r = mem(many);
    dcm_csv_record rec;
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_ELIMIT);
    assert_int_equal(dcm_csv_error_line(r), 1);
    EXPECT(r, 2, "ok");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
    free(many);

    /* A record over the byte limit, inside a quoted field that spans lines. */
    size_t big = DCM_CSV_MAX_RECORD + 100;
    char *longrec = malloc(big + 32);
    assert_non_null(longrec);
    longrec[0] = '"';
    memset(longrec + 1, 'y', big);
    longrec[big / 2] = '\n';
    memcpy(longrec + 1 + big, "\"\nafter\n", 9);
    r = mem(longrec);
    assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_ELIMIT);
    EXPECT(r, 3, "after");
    expect_eof(r);
    dcm_csv_reader_destroy(r);
    free(longrec);
}

/* A FILE read in chunks: records and CR LF pairs that straddle the chunk boundary. */
static void test_file_chunks(void **state)
{
    (void)state;
    FILE *f = tmpfile();
    assert_non_null(f);
    const size_t rows = 20000;
    for (size_t i = 0; i < rows; i++)
        fprintf(f, "%zu,\"v,%zu\"\r\n", i, i * 7);
    rewind(f);
    dcm_csv_reader *r = NULL;
    assert_int_equal(dcm_csv_reader_create_file(f, &r), DCM_CSV_OK);
    dcm_csv_record rec;
    for (size_t i = 0; i < rows; i++) {
        assert_int_equal(dcm_csv_next(r, &rec), DCM_CSV_OK);
        assert_int_equal(rec.line, i + 1);
        assert_int_equal(rec.count, 2);
        char a[32], b[40];
        snprintf(a, sizeof a, "%zu", i);
        snprintf(b, sizeof b, "v,%zu", i * 7);
        assert_string_equal(rec.fields[0], a);
        assert_string_equal(rec.fields[1], b);
    }
    expect_eof(r);
    dcm_csv_reader_destroy(r);
    fclose(f);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    dcm_csv_reader *r = (dcm_csv_reader *)&r;
    assert_int_equal(dcm_csv_reader_create_file(NULL, &r), DCM_CSV_EIO);
    assert_null(r);
    dcm_csv_reader_destroy(NULL);
    assert_string_equal(dcm_csv_strerror(DCM_CSV_EOF), "end of input");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain),
        cmocka_unit_test(test_quotes),
        cmocka_unit_test(test_line_endings_bom_blank),
        cmocka_unit_test(test_bom_only_at_start),
        cmocka_unit_test(test_empty_inputs),
        cmocka_unit_test(test_stray_quote_recovers),
        cmocka_unit_test(test_after_closing_quote),
        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_file_chunks),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
