/*
 * http_prom.h - Prometheus text exposition format 0.0.4: a growable text buffer with
 * family headers and samples. Label values are escaped (backslash, double quote, line
 * feed; invalid UTF-8 becomes U+FFFD) and a sample whose value is NaN or infinite is left
 * out, never written.
 *
 * Errors are sticky: after an allocation failure every call does nothing and
 * dcm_prom_release() returns NULL.
 */
#ifndef DCM_HTTP_PROM_H
#define DCM_HTTP_PROM_H

#include <stdbool.h>
#include <stddef.h>

typedef struct dcm_prom {
    char *buf;
    size_t len, cap;
    bool oom;
} dcm_prom;

typedef struct dcm_prom_label {
    const char *name;  /* [a-zA-Z_][a-zA-Z0-9_]*, written as given */
    const char *value; /* any text; NULL is written as "" */
} dcm_prom_label;

void dcm_prom_init(dcm_prom *p);
void dcm_prom_free(dcm_prom *p);
/* Hands the text to the caller (free() it); NULL after an allocation failure. */
char *dcm_prom_release(dcm_prom *p, size_t *len);

/* "# HELP name help\n# TYPE name type\n"; help is escaped (backslash, line feed). */
void dcm_prom_family(dcm_prom *p, const char *name, const char *type, const char *help);
/* name{l1="v1",...} value\n. Returns false (and writes nothing) when v is not finite. */
bool dcm_prom_sample(dcm_prom *p, const char *name, const dcm_prom_label *labels,
                     size_t label_count, double v);
/* Appends v escaped as a label value (without the quotes). */
void dcm_prom_escape_label(dcm_prom *p, const char *v);
void dcm_prom_append(dcm_prom *p, const char *s, size_t len);

#endif
