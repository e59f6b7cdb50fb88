/*
 * http_query.h - the small parsers of the HTTP server: request parameters, the listen
 * address and content types. Pure functions (no I/O), fuzzed by tests/fuzz/fuzz_http_query.c.
 */
#ifndef DCM_HTTP_QUERY_H
#define DCM_HTTP_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every KPI window (bits 1u << dcm_window). */
#define DCM_HTTP_ALL_WINDOWS 0xFFu

/* "1m", "instant,1m,month" or "all" -> bitmask of 1u << dcm_window. Blanks around names
 * are allowed; an empty list, an empty name or an unknown name is an error: returns false
 * and writes the reason into why. */
bool dcm_http_parse_windows(const char *text, uint32_t *mask, char *why, size_t why_size);

/* "1", "true", "yes", "on" / "0", "false", "no", "off" (any case). */
bool dcm_http_parse_flag(const char *text, bool *out);

/* "127.0.0.1:8080", ":8080" (every address), "[::1]:8080", "localhost:8080". host gets
 * the address without brackets ("" for every address); port 0..65535. */
bool dcm_http_parse_listen(const char *text, char *host, size_t host_size, int *port);

/* Content-Type for a file name, by extension; "application/octet-stream" when unknown. */
const char *dcm_http_content_type(const char *path);

/* Whether a request path is safe to look up among the embedded files: starts with '/',
 * no "..", no backslash, no NUL or control characters, at most 255 bytes. */
bool dcm_http_asset_path_ok(const char *path);

#endif
