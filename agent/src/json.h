/*
 * json.h - a small streaming JSON writer into a growable memory buffer.
 *
 * The writer tracks nesting and commas itself, escapes strings (control characters,
 * quotes, backslashes; invalid UTF-8 becomes U+FFFD so the output is always valid JSON)
 * and never writes NaN or Inf: a non-finite number is written as null.
 *
 * Errors are sticky: after the first one (allocation failure, a value where a key is
 * expected, nesting too deep) every later call does nothing and dcm_json_error() says
 * what went wrong, so callers check once at the end.
 *
 * Ownership: the dcm_json owns its buffer until dcm_json_release() hands it over;
 * dcm_json_free() releases whatever it still owns.
 */
#ifndef DCM_JSON_H
#define DCM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum dcm_json_err {
    DCM_JSON_OK = 0,
    DCM_JSON_ENOMEM,  /* the buffer could not grow */
    DCM_JSON_ESTATE,  /* call out of place: a value without a key in an object, a key in an
                         array, an unbalanced end, a second top-level value */
    DCM_JSON_EDEPTH,  /* nesting deeper than DCM_JSON_MAX_DEPTH */
} dcm_json_err;

const char *dcm_json_strerror(dcm_json_err err);

#define DCM_JSON_MAX_DEPTH 32

/* Flags for dcm_json_init(). */
#define DCM_JSON_PRETTY 0x1u /* two-space indentation and newlines; otherwise compact */

typedef struct dcm_json {
    char *buf;
    size_t len, cap;
    unsigned flags;
    dcm_json_err err;
    int depth;
    bool done;                                   /* a complete top-level value was written */
    bool after_key;                              /* a key was written, its value is due */
    bool is_object[DCM_JSON_MAX_DEPTH];          /* per level: object (true) or array */
    uint32_t count[DCM_JSON_MAX_DEPTH];          /* per level: members written so far */
} dcm_json;

void dcm_json_init(dcm_json *j, unsigned flags);
void dcm_json_free(dcm_json *j);

void dcm_json_begin_object(dcm_json *j);
void dcm_json_end_object(dcm_json *j);
void dcm_json_begin_array(dcm_json *j);
void dcm_json_end_array(dcm_json *j);
/* A member name inside an object; the next call writes its value. */
void dcm_json_key(dcm_json *j, const char *key);

void dcm_json_string(dcm_json *j, const char *s); /* NULL writes null */
void dcm_json_string_len(dcm_json *j, const char *s, size_t len);
/* Shortest decimal form that reads back to the same double; null if not finite. */
void dcm_json_number(dcm_json *j, double v);
void dcm_json_int(dcm_json *j, int64_t v);
void dcm_json_uint(dcm_json *j, uint64_t v);
void dcm_json_bool(dcm_json *j, bool v);
void dcm_json_null(dcm_json *j);

/* Writes the shortest round-trip form of a finite v into buf (NUL-terminated), as used
 * by dcm_json_number(); writes "null" for NaN/Inf. Returns the length, or 0 if buf is
 * smaller than 32 bytes. */
size_t dcm_json_format_double(double v, char *buf, size_t size);

/* The first error, or DCM_JSON_OK. Also reports ESTATE when the document is incomplete
 * (an object or array still open, or nothing written). */
dcm_json_err dcm_json_error(const dcm_json *j);

/* The text written so far (NUL-terminated, never NULL) and its length. Owned by j. */
const char *dcm_json_text(const dcm_json *j, size_t *len);

/* Hands the buffer to the caller (free() it) and resets j to empty. Returns NULL if
 * dcm_json_error() is not OK; j still owns (and dcm_json_free() frees) it then. */
char *dcm_json_release(dcm_json *j, size_t *len);

#endif
