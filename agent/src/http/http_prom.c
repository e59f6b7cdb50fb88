/*
 * http_prom.c - Prometheus text exposition writer.
 */
#include "http/http_prom.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void dcm_prom_init(dcm_prom *p) { memset(p, 0, sizeof *p); }

void dcm_prom_free(dcm_prom *p)
{
    free(p->buf);
    memset(p, 0, sizeof *p);
}

char *dcm_prom_release(dcm_prom *p, size_t *len)
{
    if (p->oom) {
        dcm_prom_free(p);
        return NULL;
    }
    dcm_prom_append(p, "", 0); /* a buffer even when nothing was written */
    if (p->oom) {
        dcm_prom_free(p);
        return NULL;
    }
    char *out = p->buf;
    if (len)
        *len = p->len;
    memset(p, 0, sizeof *p);
    return out;
}

static bool reserve(dcm_prom *p, size_t more)
{
    if (p->oom)
        return false;
    if (more > SIZE_MAX - p->len - 1) {
        p->oom = true;
        return false;
    }
    size_t need = p->len + more + 1;
    if (need <= p->cap)
        return true;
    size_t cap = p->cap ? p->cap : 4096;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            p->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *grown = realloc(p->buf, cap);
    if (!grown) {
        p->oom = true;
        return false;
    }
    p->buf = grown;
    p->cap = cap;
    return true;
}

void dcm_prom_append(dcm_prom *p, const char *s, size_t len)
{
    if (!reserve(p, len))
        return;
    memcpy(p->buf + p->len, s, len);
    p->len += len;
    p->buf[p->len] = '\0';
}

static void append_str(dcm_prom *p, const char *s) { dcm_prom_append(p, s, strlen(s)); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned c = s[0];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* Escapes backslash and line feed always, the double quote when quotes is set. */
static void escape(dcm_prom *p, const char *v, bool quotes)
{
    const unsigned char *s = (const unsigned char *)(v ? v : "");
    size_t len = strlen((const char *)s);
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c == '\\') {
            dcm_prom_append(p, "\\\\", 2);
            i++;
        } else if (c == '\n') {
            dcm_prom_append(p, "\\n", 2);
            i++;
        } else if (c == '"' && quotes) {
            dcm_prom_append(p, "\\\"", 2);
            i++;
        } else {
            size_t n = utf8_len(s + i, len - i);
            if (n) {
                dcm_prom_append(p, (const char *)s + i, n);
                i += n;
            } else {
                dcm_prom_append(p, "\xEF\xBF\xBD", 3);
                i++;
            }
        }
    }
}

void dcm_prom_escape_label(dcm_prom *p, const char *v) { escape(p, v, true); }

void dcm_prom_family(dcm_prom *p, const char *name, const char *type, const char *help)
{
    append_str(p, "# HELP ");
    append_str(p, name);
    dcm_prom_append(p, " ", 1);
    escape(p, help, false);
    append_str(p, "\n# TYPE ");
    append_str(p, name);
    dcm_prom_append(p, " ", 1);
    append_str(p, type);
    dcm_prom_append(p, "\n", 1);
}

bool dcm_prom_sample(dcm_prom *p, const char *name, const dcm_prom_label *labels,
                     size_t label_count, double v)
{
    char num[40];
    if (!isfinite(v))
        return false;
    dcm_json_format_double(v, num, sizeof num);
    append_str(p, name);
    if (label_count) {
        dcm_prom_append(p, "{", 1);
        for (size_t i = 0; i < label_count; i++) {
            if (i)
                dcm_prom_append(p, ",", 1);
            append_str(p, labels[i].name);
            dcm_prom_append(p, "=\"", 2);
            escape(p, labels[i].value, true);
            dcm_prom_append(p, "\"", 1);
        }
        dcm_prom_append(p, "}", 1);
    }
    dcm_prom_append(p, " ", 1);
    append_str(p, num);
    dcm_prom_append(p, "\n", 1);
    return true;
}
