/*
 * http_auth.h - credentials for the HTTP API, read from outputs.http.auth_file.
 *
 * One entry a line; blank lines and lines starting with '#' are ignored:
 *   user:password            HTTP basic auth, password in clear text
 *   user:sha256:<64 hex>     HTTP basic auth, SHA-256 of the password (sha256sum of it)
 *   token                    a bearer token (a line without ':'; RFC 6750 token characters)
 * Secrets are kept only as SHA-256 digests and compared in constant time.
 *
 * Ownership: dcm_http_auth_parse() returns an object the caller frees with
 * dcm_http_auth_destroy().
 */
#ifndef DCM_HTTP_AUTH_H
#define DCM_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef enum dcm_http_auth_err {
    DCM_HTTP_AUTH_OK = 0,
    DCM_HTTP_AUTH_ESYNTAX, /* a line is none of the three forms (its number is returned) */
    DCM_HTTP_AUTH_EEMPTY,  /* no entry at all: nobody could log in */
    DCM_HTTP_AUTH_ENOMEM,
} dcm_http_auth_err;

const char *dcm_http_auth_strerror(dcm_http_auth_err err);

typedef struct dcm_http_auth dcm_http_auth;

/* Parses the file's text (len bytes, need not be NUL-terminated). On ESYNTAX *bad_line
 * is the 1-based line number. */
dcm_http_auth_err dcm_http_auth_parse(const char *text, size_t len, dcm_http_auth **out,
                                      size_t *bad_line);
void dcm_http_auth_destroy(dcm_http_auth *a);

/* Whether the pair / the token is one of the entries. */
bool dcm_http_auth_basic(const dcm_http_auth *a, const char *user, const char *password);
bool dcm_http_auth_bearer(const dcm_http_auth *a, const char *token);

/* How many entries of each kind (to choose the challenge of a 401). */
size_t dcm_http_auth_basic_count(const dcm_http_auth *a);
size_t dcm_http_auth_bearer_count(const dcm_http_auth *a);

#endif
