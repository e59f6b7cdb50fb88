/*
 * http_auth.c - basic-auth users and bearer tokens, kept as SHA-256 digests.
 */
#include "http/http_auth.h"

#include <gnutls/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define DIGEST 32

typedef struct entry {
    char *user;          /* NULL: a bearer token */
    unsigned char digest[DIGEST];
} entry;

struct dcm_http_auth {
    entry *items;
    size_t count, cap;
    size_t basic, bearer;
};

const char *dcm_http_auth_strerror(dcm_http_auth_err err)
{
    switch (err) {
    case DCM_HTTP_AUTH_OK: return "ok";
    case DCM_HTTP_AUTH_ESYNTAX:
        return "expected 'user:password', 'user:sha256:<64 hex digits>' or a bearer token";
    case DCM_HTTP_AUTH_EEMPTY: return "no user and no token: nobody could log in";
    case DCM_HTTP_AUTH_ENOMEM: return "out of memory";
    }
    return "unknown error";
}

static bool sha256(const void *data, size_t len, unsigned char out[DIGEST])
{
    return gnutls_hash_fast(GNUTLS_DIG_SHA256, data, len, out) == 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool parse_hex_digest(const char *s, size_t len, unsigned char out[DIGEST])
{
    if (len != 2 * DIGEST)
        return false;
    for (size_t i = 0; i < DIGEST; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* RFC 6750 b64token characters. */
static bool token_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           strchr("-._~+/=", c) != NULL;
}

static bool user_char(char c)
{
    return (unsigned char)c > 0x20 && c != 0x7f && c != ':';
}

/* One line (without its newline, trimmed). Returns OK, ESYNTAX or ENOMEM. */
static dcm_http_auth_err parse_line(dcm_http_auth *a, const char *s, size_t len)
{
    entry e = {0};
    const char *colon = memchr(s, ':', len);
    if (!colon) {
        for (size_t i = 0; i < len; i++)
            if (!token_char(s[i]))
                return DCM_HTTP_AUTH_ESYNTAX;
        if (!sha256(s, len, e.digest))
            return DCM_HTTP_AUTH_ENOMEM;
    } else {
        size_t ulen = (size_t)(colon - s);
        const char *pw = colon + 1;
        size_t plen = len - ulen - 1;
        if (!ulen || !plen)
            return DCM_HTTP_AUTH_ESYNTAX;
        for (size_t i = 0; i < ulen; i++)
            if (!user_char(s[i]))
                return DCM_HTTP_AUTH_ESYNTAX;
        if (plen > 7 && memcmp(pw, "sha256:", 7) == 0) {
            if (!parse_hex_digest(pw + 7, plen - 7, e.digest))
                return DCM_HTTP_AUTH_ESYNTAX;
        } else if (!sha256(pw, plen, e.digest)) {
            return DCM_HTTP_AUTH_ENOMEM;
        }
        e.user = strndup(s, ulen);
        if (!e.user)
            return DCM_HTTP_AUTH_ENOMEM;
    }
    if (!dcm_grow((void **)&a->items, &a->cap, a->count + 1, sizeof *a->items, 4)) {
        free(e.user);
        return DCM_HTTP_AUTH_ENOMEM;
    }
    a->items[a->count++] = e;
    if (e.user)
        a->basic++;
    else
        a->bearer++;
    return DCM_HTTP_AUTH_OK;
}

dcm_http_auth_err dcm_http_auth_parse(const char *text, size_t len, dcm_http_auth **out,
                                      size_t *bad_line)
{
    dcm_http_auth_err err = DCM_HTTP_AUTH_ENOMEM;
    dcm_http_auth *a = calloc(1, sizeof *a);
    size_t line = 0;
    *out = NULL;
    if (bad_line)
        *bad_line = 0;
    if (!a)
        return err;
    for (size_t pos = 0; pos < len;) {
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl ? 1 : 0);
        line++;
        while (n && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
            n--;
        while (n && (*s == ' ' || *s == '\t')) {
            s++;
            n--;
        }
        if (!n || *s == '#')
            continue;
        if (memchr(s, '\0', n)) {
            err = DCM_HTTP_AUTH_ESYNTAX;
            goto fail;
        }
        if ((err = parse_line(a, s, n)) != DCM_HTTP_AUTH_OK)
            goto fail;
    }
    if (!a->count) {
        err = DCM_HTTP_AUTH_EEMPTY;
        goto fail;
    }
    *out = a;
    return DCM_HTTP_AUTH_OK;
fail:
    if (bad_line && err == DCM_HTTP_AUTH_ESYNTAX)
        *bad_line = line;
    dcm_http_auth_destroy(a);
    return err;
}

void dcm_http_auth_destroy(dcm_http_auth *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->count; i++)
        free(a->items[i].user);
    free(a->items);
    free(a);
}

/* Constant time over the digest, so the comparison leaks nothing about the secret. */
static bool same_digest(const unsigned char *x, const unsigned char *y)
{
    unsigned char diff = 0;
    for (size_t i = 0; i < DIGEST; i++)
        diff |= (unsigned char)(x[i] ^ y[i]);
    return diff == 0;
}

bool dcm_http_auth_basic(const dcm_http_auth *a, const char *user, const char *password)
{
    unsigned char d[DIGEST];
    if (!a || !user || !password || !sha256(password, strlen(password), d))
        return false;
    bool ok = false;
    for (size_t i = 0; i < a->count; i++)
        if (a->items[i].user && strcmp(a->items[i].user, user) == 0 &&
            same_digest(a->items[i].digest, d))
            ok = true;
    return ok;
}

bool dcm_http_auth_bearer(const dcm_http_auth *a, const char *token)
{
    unsigned char d[DIGEST];
    if (!a || !token || !*token || !sha256(token, strlen(token), d))
        return false;
    bool ok = false;
    for (size_t i = 0; i < a->count; i++)
        if (!a->items[i].user && same_digest(a->items[i].digest, d))
            ok = true;
    return ok;
}

size_t dcm_http_auth_basic_count(const dcm_http_auth *a) { return a ? a->basic : 0; }
size_t dcm_http_auth_bearer_count(const dcm_http_auth *a) { return a ? a->bearer : 0; }
