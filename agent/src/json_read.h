/*
 * json_read.h - a small strict JSON reader (RFC 8259): the whole document is parsed at
 * once into a flat array of nodes linked parent -> first child -> next sibling.
 *
 * Strict means: exactly one value, optionally surrounded by white space; no comments,
 * trailing commas, leading zeros, single quotes, NaN/Infinity, control characters in
 * strings, invalid escapes, lone UTF-16 surrogates or invalid UTF-8. A number that does not
 * fit a double (1e999) is refused rather than read as infinity. Duplicate member names are
 * kept; dcm_jr_get() returns the first.
 *
 * The parser is iterative (an explicit stack), so hostile nesting cannot exhaust the C
 * stack; nesting deeper than DCM_JR_MAX_DEPTH is refused.
 *
 * Ownership: dcm_jr_parse() returns a document the caller frees with dcm_jr_free(); the
 * nodes and the decoded strings belong to it. The input is not referenced after parsing.
 */
#ifndef DCM_JSON_READ_H
#define DCM_JSON_READ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DCM_JR_MAX_DEPTH 64

typedef enum dcm_jr_err {
    DCM_JR_OK = 0,
    DCM_JR_ESYNTAX, /* not JSON (offset says where) */
    DCM_JR_EDEPTH,  /* nesting deeper than DCM_JR_MAX_DEPTH */
    DCM_JR_ERANGE,  /* a number too large for a double */
    DCM_JR_EUTF8,   /* invalid UTF-8, or an escape naming a lone surrogate */
    DCM_JR_ENOMEM,
    DCM_JR_ETOOBIG, /* the document is larger than 2^31 bytes */
} dcm_jr_err;

const char *dcm_jr_strerror(dcm_jr_err err);

typedef enum dcm_jr_type {
    DCM_JR_NULL = 0,
    DCM_JR_BOOL,
    DCM_JR_NUMBER,
    DCM_JR_STRING,
    DCM_JR_ARRAY,
    DCM_JR_OBJECT,
} dcm_jr_type;

typedef struct dcm_jr_node dcm_jr_node;
struct dcm_jr_node {
    dcm_jr_type type;
    /* The member name when the node is a member of an object (NUL-terminated; key_len
     * counts an embedded \u0000), NULL otherwise. */
    const char *key;
    size_t key_len;
    /* DCM_JR_STRING: the decoded text, NUL-terminated, str_len bytes. */
    const char *str;
    size_t str_len;
    /* DCM_JR_NUMBER: always finite. is_int: written without fraction or exponent and
     * within int64 range (then integer holds it exactly). */
    double number;
    bool is_int;
    int64_t integer;
    bool boolean;           /* DCM_JR_BOOL */
    size_t count;           /* members or elements of an object or array */
    const dcm_jr_node *child; /* first member or element, NULL when empty */
    const dcm_jr_node *next;  /* next sibling, NULL for the last */
    /* Offsets used while parsing, before the strings and nodes stop moving. */
    size_t priv_key, priv_str, priv_child, priv_next, priv_last;
};

typedef struct dcm_jr_doc dcm_jr_doc;

/* Parses text[0..len). On error *out is NULL and *err_offset (if not NULL) is the byte
 * offset where parsing stopped. */
dcm_jr_err dcm_jr_parse(const char *text, size_t len, dcm_jr_doc **out, size_t *err_offset);
void dcm_jr_free(dcm_jr_doc *doc);

/* The top-level value (never NULL for a parsed document). */
const dcm_jr_node *dcm_jr_root(const dcm_jr_doc *doc);
/* The first member of object obj named key, or NULL (also when obj is not an object). */
const dcm_jr_node *dcm_jr_get(const dcm_jr_node *obj, const char *key);
/* Typed reads: false (and *out untouched) when n is NULL or of another type. */
bool dcm_jr_number(const dcm_jr_node *n, double *out);
bool dcm_jr_string(const dcm_jr_node *n, const char **out);

#endif
