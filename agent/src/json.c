/* Streaming JSON writer. See json.h for the contract (sticky errors, no NaN/Inf). */
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *dcm_json_strerror(dcm_json_err err)
{
    switch (err) {
    case DCM_JSON_OK:
        return "ok";
    case DCM_JSON_ENOMEM:
        return "out of memory";
    case DCM_JSON_ESTATE:
        return "JSON value or key out of place";
    case DCM_JSON_EDEPTH:
        return "JSON nesting too deep";
    }
    return "unknown JSON error";
}

void dcm_json_init(dcm_json *j, unsigned flags)
{
    memset(j, 0, sizeof *j);
    j->flags = flags;
}

void dcm_json_free(dcm_json *j)
{
    free(j->buf);
    unsigned flags = j->flags;
    dcm_json_init(j, flags);
}

static void fail(dcm_json *j, dcm_json_err err)
{
    if (j->err == DCM_JSON_OK)
        j->err = err;
}

static bool reserve(dcm_json *j, size_t extra)
{
    if (j->err)
        return false;
    if (extra > SIZE_MAX / 2 - j->len) {
        fail(j, DCM_JSON_ENOMEM);
        return false;
    }
    size_t need = j->len + extra + 1; /* the NUL kept after the text */
    if (need <= j->cap)
        return true;
    size_t cap = j->cap ? j->cap : 256;
    while (cap < need)
        cap *= 2;
    char *nb = realloc(j->buf, cap);
    if (!nb) {
        fail(j, DCM_JSON_ENOMEM);
        return false;
    }
    j->buf = nb;
    j->cap = cap;
    return true;
}

static void put(dcm_json *j, const char *s, size_t n)
{
    if (!reserve(j, n))
        return;
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void puts_(dcm_json *j, const char *s) { put(j, s, strlen(s)); }

static void newline_indent(dcm_json *j)
{
    if (!(j->flags & DCM_JSON_PRETTY))
        return;
    put(j, "\n", 1);
    for (int i = 0; i < j->depth; i++)
        put(j, "  ", 2);
}

/* Everything that must come before a value: checks its place, writes the separator. */
static bool before_value(dcm_json *j)
{
    if (j->err)
        return false;
    if (j->depth == 0) {
        if (j->done) {
            fail(j, DCM_JSON_ESTATE);
            return false;
        }
        return true;
    }
    int top = j->depth - 1;
    if (j->is_object[top]) {
        if (!j->after_key) {
            fail(j, DCM_JSON_ESTATE);
            return false;
        }
        j->after_key = false;
        return true;
    }
    if (j->count[top] > 0)
        put(j, ",", 1);
    newline_indent(j);
    j->count[top]++;
    return !j->err;
}

/* Marks a scalar or a closed container as complete at its level. */
static void after_value(dcm_json *j)
{
    if (j->depth == 0)
        j->done = true;
}

static void begin(dcm_json *j, bool object)
{
    if (!before_value(j))
        return;
    if (j->depth >= DCM_JSON_MAX_DEPTH) {
        fail(j, DCM_JSON_EDEPTH);
        return;
    }
    put(j, object ? "{" : "[", 1);
    j->is_object[j->depth] = object;
    j->count[j->depth] = 0;
    j->depth++;
}

static void end(dcm_json *j, bool object)
{
    if (j->err)
        return;
    if (j->depth == 0 || j->is_object[j->depth - 1] != object || j->after_key) {
        fail(j, DCM_JSON_ESTATE);
        return;
    }
    bool had_members = j->count[j->depth - 1] > 0;
    j->depth--;
    if (had_members)
        newline_indent(j);
    put(j, object ? "}" : "]", 1);
    after_value(j);
}

void dcm_json_begin_object(dcm_json *j) { begin(j, true); }
void dcm_json_end_object(dcm_json *j) { end(j, true); }
void dcm_json_begin_array(dcm_json *j) { begin(j, false); }
void dcm_json_end_array(dcm_json *j) { end(j, false); }

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 if it is not valid.
 * Overlong forms, surrogates and code points above U+10FFFF are invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

static void write_string(dcm_json *j, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    put(j, "\"", 1);
    size_t i = 0;
    while (i < n && !j->err) {
        /* Copy the longest run that needs no escaping in one go. */
        size_t run = i;
        while (run < n && s[run] >= 0x20 && s[run] < 0x80 && s[run] != '"' && s[run] != '\\')
            run++;
        if (run > i) {
            put(j, (const char *)s + i, run - i);
            i = run;
            continue;
        }
        unsigned char c = s[i];
        char esc[8];
        switch (c) {
        case '"':
            put(j, "\\\"", 2);
            break;
        case '\\':
            put(j, "\\\\", 2);
            break;
        case '\n':
            put(j, "\\n", 2);
            break;
        case '\r':
            put(j, "\\r", 2);
            break;
        case '\t':
            put(j, "\\t", 2);
            break;
        case '\b':
            put(j, "\\b", 2);
            break;
        case '\f':
            put(j, "\\f", 2);
            break;
        default:
            if (c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
                put(j, esc, 6);
                break;
            }
            size_t len = utf8_len(s + i, n - i);
            if (len == 0) {
                put(j, "\\ufffd", 6);
                i++;
                continue;
            }
            put(j, (const char *)s + i, len);
            i += len;
            continue;
        }
        i++;
    }
    put(j, "\"", 1);
}

void dcm_json_key(dcm_json *j, const char *key)
{
    if (j->err)
        return;
    if (!key || j->depth == 0 || !j->is_object[j->depth - 1] || j->after_key) {
        fail(j, DCM_JSON_ESTATE);
        return;
    }
    int top = j->depth - 1;
    if (j->count[top] > 0)
        put(j, ",", 1);
    newline_indent(j);
    j->count[top]++;
    write_string(j, key, strlen(key));
    put(j, (j->flags & DCM_JSON_PRETTY) ? ": " : ":", (j->flags & DCM_JSON_PRETTY) ? 2 : 1);
    j->after_key = true;
}

void dcm_json_string_len(dcm_json *j, const char *s, size_t len)
{
    if (!s) {
        dcm_json_null(j);
        return;
    }
    if (!before_value(j))
        return;
    write_string(j, s, len);
    after_value(j);
}

void dcm_json_string(dcm_json *j, const char *s)
{
    dcm_json_string_len(j, s, s ? strlen(s) : 0);
}

size_t dcm_json_format_double(double v, char *buf, size_t size)
{
    if (!buf || size < 32)
        return 0;
    if (!isfinite(v)) {
        memcpy(buf, "null", 5);
        return 4;
    }
    if (v == 0.0) { /* also turns -0 into 0 */
        memcpy(buf, "0", 2);
        return 1;
    }
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, size, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    return n > 0 ? (size_t)n : 0;
}

void dcm_json_number(dcm_json *j, double v)
{
    if (!before_value(j))
        return;
    char tmp[40];
    size_t n = dcm_json_format_double(v, tmp, sizeof tmp);
    put(j, tmp, n);
    after_value(j);
}

void dcm_json_int(dcm_json *j, int64_t v)
{
    if (!before_value(j))
        return;
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRId64, v);
    put(j, tmp, (size_t)n);
    after_value(j);
}

void dcm_json_uint(dcm_json *j, uint64_t v)
{
    if (!before_value(j))
        return;
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v);
    put(j, tmp, (size_t)n);
    after_value(j);
}

void dcm_json_bool(dcm_json *j, bool v)
{
    if (!before_value(j))
        return;
    puts_(j, v ? "true" : "false");
    after_value(j);
}

void dcm_json_null(dcm_json *j)
{
    if (!before_value(j))
        return;
    puts_(j, "null");
    after_value(j);
}

dcm_json_err dcm_json_error(const dcm_json *j)
{
    if (j->err)
        return j->err;
    if (j->depth != 0 || !j->done || j->after_key)
        return DCM_JSON_ESTATE;
    return DCM_JSON_OK;
}

const char *dcm_json_text(const dcm_json *j, size_t *len)
{
    if (len)
        *len = j->len;
    return j->buf ? j->buf : "";
}

char *dcm_json_release(dcm_json *j, size_t *len)
{
    if (dcm_json_error(j) != DCM_JSON_OK)
        return NULL;
    char *out = j->buf;
    if (len)
        *len = j->len;
    unsigned flags = j->flags;
    dcm_json_init(j, flags);
    return out;
}
