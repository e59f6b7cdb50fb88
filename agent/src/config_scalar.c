/* Typed readers for scalar nodes: strings, numbers, booleans, durations, secrets. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "grow.h"
#include "config_internal.h"

#define SECRET_MAX_BYTES 65536

static const char *scalar_of(const dcm_node *n)
{
    if (!n || n->type != DCM_NODE_SCALAR || dcm_node_is_null(n))
        return NULL;
    return n->scalar;
}

bool dcm_node_as_string(const dcm_node *n, const char **out)
{
    const char *s = scalar_of(n);
    if (!s)
        return false;
    *out = s;
    return true;
}

bool dcm_node_as_int(const dcm_node *n, long long *out)
{
    const char *s = scalar_of(n);
    if (!s || isspace((unsigned char)s[0]))
        return false;
    const char *digits = s + (s[0] == '-' || s[0] == '+');
    int base = 10;
    /* Register addresses are often written in hex. */
    if (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X'))
        base = 16;
    if (!isxdigit((unsigned char)digits[base == 16 ? 2 : 0]))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, base);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* Plain decimal notation only: strtod would also take "nan", "inf" and hex floats. */
static bool decimal_syntax(const char *s)
{
    size_t i = 0, digits = 0;
    if (s[i] == '+' || s[i] == '-')
        i++;
    while (isdigit((unsigned char)s[i])) {
        i++;
        digits++;
    }
    if (s[i] == '.') {
        i++;
        while (isdigit((unsigned char)s[i])) {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return false;
    if (s[i] == 'e' || s[i] == 'E') {
        i++;
        if (s[i] == '+' || s[i] == '-')
            i++;
        if (!isdigit((unsigned char)s[i]))
            return false;
        while (isdigit((unsigned char)s[i]))
            i++;
    }
    return s[i] == '\0';
}

bool dcm_node_as_double(const dcm_node *n, double *out)
{
    const char *s = scalar_of(n);
    if (!s || !decimal_syntax(s))
        return false;
    errno = 0;
    double v = strtod(s, NULL);
    if (errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool dcm_node_as_bool(const dcm_node *n, bool *out)
{
    const char *s = scalar_of(n);
    if (!s)
        return false;
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

bool dcm_parse_duration_ns(const char *text, int64_t *out)
{
    if (!text)
        return false;
    const char *p = text;
    int64_t whole = 0;
    int whole_digits = 0;
    while (isdigit((unsigned char)*p)) {
        if (whole > (INT64_MAX - 9) / 10)
            return false;
        whole = whole * 10 + (*p - '0');
        p++;
        whole_digits++;
    }
    /* The fraction keeps at most 9 digits: nothing finer than a nanosecond survives. */
    int64_t frac = 0, frac_scale = 1;
    int frac_digits = 0;
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (frac_scale < 1000000000) {
                frac = frac * 10 + (*p - '0');
                frac_scale *= 10;
            }
            p++;
            frac_digits++;
        }
        if (frac_digits == 0)
            return false;
    }
    if (whole_digits == 0 && frac_digits == 0)
        return false;
    int64_t unit;
    if (*p == '\0' || strcmp(p, "s") == 0)
        unit = DCM_NS_PER_S;
    else if (strcmp(p, "ns") == 0)
        unit = 1;
    else if (strcmp(p, "us") == 0)
        unit = 1000;
    else if (strcmp(p, "ms") == 0)
        unit = 1000000;
    else if (strcmp(p, "m") == 0 || strcmp(p, "min") == 0)
        unit = DCM_NS_PER_MIN;
    else if (strcmp(p, "h") == 0)
        unit = DCM_NS_PER_HOUR;
    else if (strcmp(p, "d") == 0)
        unit = 24 * DCM_NS_PER_HOUR;
    else
        return false;
    if (whole > INT64_MAX / unit)
        return false;
    int64_t ns = whole * unit;
    /* frac / frac_scale < 1 and unit < 2^47, so the double is exact to well under 1 ns. */
    int64_t part = (int64_t)llround((double)frac / (double)frac_scale * (double)unit);
    if (ns > INT64_MAX - part)
        return false;
    *out = ns + part;
    return true;
}

bool dcm_node_as_duration_ns(const dcm_node *n, int64_t *out)
{
    const char *s = scalar_of(n);
    return s && dcm_parse_duration_ns(s, out);
}

/* ------------------------------------------------------------- secrets */

static char *read_secret_file(const char *path, const char *key, char *err, size_t err_size)
{
    char *buf = NULL;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_size, "cannot read %s_file '%s': %s", key, path, strerror(errno));
        goto fail;
    }
    buf = malloc(SECRET_MAX_BYTES + 1);
    if (!buf) {
        snprintf(err, err_size, "out of memory");
        goto fail;
    }
    size_t n = fread(buf, 1, SECRET_MAX_BYTES, f);
    if (ferror(f)) {
        snprintf(err, err_size, "cannot read %s_file '%s': %s", key, path, strerror(errno));
        goto fail;
    }
    buf[n] = '\0';
    /* The secret is the first line, as `echo secret > file` writes it. */
    size_t len = strcspn(buf, "\r\n");
    buf[len] = '\0';
    if (len == 0 || strlen(buf) != len) {
        snprintf(err, err_size, "%s_file '%s' %s", key, path,
                 len == 0 ? "is empty" : "contains a NUL byte");
        goto fail;
    }
    explicit_bzero(buf + len, n - len);
    fclose(f);
    return buf;
fail:
    if (buf) {
        explicit_bzero(buf, SECRET_MAX_BYTES + 1);
        free(buf);
    }
    if (f)
        fclose(f);
    return NULL;
}

char *dcm_node_secret(const dcm_node *map, const char *key, char *err, size_t err_size)
{
    if (err_size > 0)
        err[0] = '\0';
    if (!map || !key || map->type != DCM_NODE_MAP) {
        snprintf(err, err_size, "expected a mapping");
        return NULL;
    }
    char kfile[128], kenv[128];
    snprintf(kfile, sizeof(kfile), "%s_file", key);
    snprintf(kenv, sizeof(kenv), "%s_env", key);
    const dcm_node *lit = dcm_node_get(map, key);
    const dcm_node *file = dcm_node_get(map, kfile);
    const dcm_node *env = dcm_node_get(map, kenv);
    if (dcm_node_is_null(lit))
        lit = NULL;
    if (dcm_node_is_null(file))
        file = NULL;
    if (dcm_node_is_null(env))
        env = NULL;
    if ((lit != NULL) + (file != NULL) + (env != NULL) > 1) {
        snprintf(err, err_size, "give only one of %s, %s_file and %s_env", key, key, key);
        return NULL;
    }
    const char *text;
    if (lit) {
        if (!dcm_node_as_string(lit, &text)) {
            snprintf(err, err_size, "%s: expected a string", key);
            return NULL;
        }
        char *s = strdup(text);
        if (!s)
            snprintf(err, err_size, "out of memory");
        return s;
    }
    if (file) {
        if (!dcm_node_as_string(file, &text)) {
            snprintf(err, err_size, "%s_file: expected a file path", key);
            return NULL;
        }
        return read_secret_file(text, key, err, err_size);
    }
    if (env) {
        if (!dcm_node_as_string(env, &text)) {
            snprintf(err, err_size, "%s_env: expected an environment variable name", key);
            return NULL;
        }
        const char *v = getenv(text);
        if (!v || !v[0]) {
            snprintf(err, err_size, "%s_env: environment variable %s is not set", key, text);
            return NULL;
        }
        char *s = strdup(v);
        if (!s)
            snprintf(err, err_size, "out of memory");
        return s;
    }
    return NULL;
}

/* ------------------------------------------------------------- time zones */

bool dcm_config_timezone_known(const char *name)
{
    if (!name || !name[0] || strlen(name) > 255)
        return false;
    if (strcmp(name, "UTC") == 0)
        return true;
    /* TZ also accepts POSIX rules and absolute paths; a site names an IANA zone, and
     * refusing anything else keeps ".." and friends out of the path below. */
    if (name[0] == '/' || name[0] == '.' || name[0] == '-' || strstr(name, ".."))
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
            return false;
    const char *dir = getenv("TZDIR");
    if (!dir || !dir[0])
        dir = "/usr/share/zoneinfo";
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path))
        return false;
    /* The directory also holds tables (zone.tab, iso3166.tab): only a TZif file is a zone.
     * glibc would otherwise fall back to UTC without a word. */
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    struct stat st;
    char magic[4];
    bool ok = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) &&
              fread(magic, 1, sizeof(magic), f) == sizeof(magic) &&
              memcmp(magic, "TZif", sizeof(magic)) == 0;
    fclose(f);
    return ok;
}

bool dcm_config_timezone_suggest(const char *name, char *out, size_t size)
{
    static const char *const tables[] = {"zone1970.tab", "zone.tab"};
    const char *dir = getenv("TZDIR");
    if (!dir || !dir[0])
        dir = "/usr/share/zoneinfo";
    FILE *f = NULL;
    char path[PATH_MAX];
    for (size_t i = 0; i < 2 && !f; i++)
        if (snprintf(path, sizeof path, "%s/%s", dir, tables[i]) < (int)sizeof path)
            f = fopen(path, "r");
    if (!f)
        return false;
    /* Lines: country codes, coordinates, zone name, comment - tab separated. */
    char **names = NULL;
    size_t n = 0, cap = 0;
    char line[512];
    bool found = false;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        char *save = NULL;
        strtok_r(line, "\t\n", &save);
        strtok_r(NULL, "\t\n", &save);
        char *zone = strtok_r(NULL, "\t\n", &save);
        if (!zone || !dcm_grow((void **)&names, &cap, n + 1, sizeof *names, 64))
            continue;
        if ((names[n] = strdup(zone)) != NULL)
            n++;
    }
    fclose(f);
    const char *best = dcm_suggest(name, (const char *const *)names, n);
    if (best && strlen(best) < size) {
        memcpy(out, best, strlen(best) + 1);
        found = true;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return found;
}
