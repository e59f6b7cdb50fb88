/* Arbitrary bytes through the HTTP server's parsers: window lists, flags, listen
 * addresses, asset paths and content types (each on the input as one string), and the
 * credentials file (the whole input). Any crash, leak or undefined behaviour is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_auth.h"
#include "http/http_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    uint32_t mask = 0;
    char why[160];
    if (dcm_http_parse_windows(s, &mask, why, sizeof why) && (mask & ~0xFFu))
        abort();
    bool flag;
    dcm_http_parse_flag(s, &flag);
    char host[64];
    int port = -1;
    if (dcm_http_parse_listen(s, host, sizeof host, &port) &&
        (port < 0 || port > 65535 || strlen(host) >= sizeof host))
        abort();
    if (dcm_http_asset_path_ok(s) && (s[0] != '/' || strstr(s, "..")))
        abort();
    if (!dcm_http_content_type(s))
        abort();

    dcm_http_auth *a = NULL;
    size_t line = 0;
    if (dcm_http_auth_parse((const char *)data, size, &a, &line) == DCM_HTTP_AUTH_OK) {
        if (!a || dcm_http_auth_basic_count(a) + dcm_http_auth_bearer_count(a) == 0)
            abort();
        dcm_http_auth_basic(a, s, s);
        dcm_http_auth_bearer(a, s);
        dcm_http_auth_destroy(a);
    } else if (a) {
        abort();
    }
    free(s);
    return 0;
}
