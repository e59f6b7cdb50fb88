/*
 * http_query.c - request parameters, listen addresses and content types.
 */
#include "http/http_query.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dcm/metrics.h"

static void say(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void say(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;
    if (!why || !size)
        return;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

bool dcm_http_parse_windows(const char *text, uint32_t *mask, char *why, size_t why_size)
{
    char name[16];
    uint32_t m = 0;
    *mask = 0;
    if (!text || !*text) {
        say(why, why_size, "empty window list");
        return false;
    }
    for (const char *p = text;;) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        while (len && p[len - 1] == ' ')
            len--;
        if (!len) {
            say(why, why_size, "empty window name in the list");
            return false;
        }
        if (len >= sizeof name) {
            say(why, why_size, "unknown window '%.40s' (instant, 1m, 15m, 1h, 1d, month, year, "
                               "ttm or all)", p);
            return false;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        if (strcmp(name, "all") == 0) {
            m |= DCM_HTTP_ALL_WINDOWS;
        } else {
            int w = dcm_window_from_name(name);
            if (w < 0) {
                say(why, why_size, "unknown window '%s' (instant, 1m, 15m, 1h, 1d, month, year, "
                                   "ttm or all)", name);
                return false;
            }
            m |= 1u << w;
        }
        if (!end)
            break;
        p = end + 1;
    }
    *mask = m;
    return true;
}

bool dcm_http_parse_flag(const char *text, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    if (!text)
        return false;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcasecmp(text, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(text, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

bool dcm_http_parse_listen(const char *text, char *host, size_t host_size, int *port)
{
    if (!text || !host_size)
        return false;
    const char *colon = strrchr(text, ':');
    if (!colon || !colon[1] || strlen(colon + 1) > 5)
        return false;
    long p = 0;
    for (const char *d = colon + 1; *d; d++) {
        if (!isdigit((unsigned char)*d))
            return false;
        p = p * 10 + (*d - '0');
    }
    if (p > 65535)
        return false;
    const char *h = text;
    size_t len = (size_t)(colon - text);
    if (len && text[0] == '[') {
        /* An IPv6 address needs brackets, or its last group would read as the port. */
        if (colon[-1] != ']' || len < 3)
            return false;
        h = text + 1;
        len -= 2;
        if (memchr(h, '[', len) || memchr(h, ']', len))
            return false;
    } else if (memchr(text, ':', len) || memchr(text, '[', len) || memchr(text, ']', len)) {
        return false;
    }
    for (size_t i = 0; i < len; i++)
        if (!isgraph((unsigned char)h[i]))
            return false;
    if (len >= host_size)
        return false;
    memcpy(host, h, len);
    host[len] = '\0';
    *port = (int)p;
    return true;
}

const char *dcm_http_content_type(const char *path)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".htm", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".map", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".webp", "image/webp"},
        {".woff2", "font/woff2"},
        {".woff", "font/woff"},
        {".txt", "text/plain; charset=utf-8"},
        {".webmanifest", "application/manifest+json"},
    };
    const char *dot = path ? strrchr(path, '.') : NULL;
    const char *slash = path ? strrchr(path, '/') : NULL;
    if (dot && (!slash || dot > slash))
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (strcasecmp(dot, types[i].ext) == 0)
                return types[i].type;
    return "application/octet-stream";
}

bool dcm_http_asset_path_ok(const char *path)
{
    if (!path || path[0] != '/')
        return false;
    size_t n = strlen(path);
    if (n > 255 || strstr(path, ".."))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)path[i] < 0x20 || path[i] == '\\' || path[i] == 0x7f)
            return false;
    return true;
}
