/* Arbitrary bytes through the strict JSON reader. What it accepts is written back with
 * the project's JSON writer and read again: the two trees must be identical (types, keys,
 * strings byte for byte, numbers bit for bit). Any crash, leak or UB is a bug. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "json_read.h"

static int depth_of(const dcm_jr_node *n)
{
    int d = 0;
    for (const dcm_jr_node *c = n->child; c; c = c->next) {
        int k = depth_of(c);
        if (k > d)
            d = k;
    }
    return d + (n->type == DCM_JR_ARRAY || n->type == DCM_JR_OBJECT);
}

static void write_node(dcm_json *j, const dcm_jr_node *n)
{
    switch (n->type) {
    case DCM_JR_NULL: dcm_json_null(j); break;
    case DCM_JR_BOOL: dcm_json_bool(j, n->boolean); break;
    case DCM_JR_NUMBER: dcm_json_number(j, n->number); break;
    case DCM_JR_STRING: dcm_json_string_len(j, n->str, n->str_len); break;
    case DCM_JR_ARRAY:
        dcm_json_begin_array(j);
        for (const dcm_jr_node *c = n->child; c; c = c->next)
            write_node(j, c);
        dcm_json_end_array(j);
        break;
    case DCM_JR_OBJECT:
        dcm_json_begin_object(j);
        for (const dcm_jr_node *c = n->child; c; c = c->next) {
            /* The writer takes NUL-terminated keys: a key with a NUL cannot go through. */
            dcm_json_key(j, c->key);
            write_node(j, c);
        }
        dcm_json_end_object(j);
        break;
    }
}

static bool has_nul_key(const dcm_jr_node *n)
{
    if (n->key && strlen(n->key) != n->key_len)
        return true;
    for (const dcm_jr_node *c = n->child; c; c = c->next)
        if (has_nul_key(c))
            return true;
    return false;
}

static void same(const dcm_jr_node *a, const dcm_jr_node *b)
{
    if (a->type != b->type || a->count != b->count || a->key_len != b->key_len ||
        (a->key && memcmp(a->key, b->key, a->key_len) != 0))
        abort();
    if (a->type == DCM_JR_BOOL && a->boolean != b->boolean)
        abort();
    if (a->type == DCM_JR_NUMBER && a->number != b->number)
        abort();
    if (a->type == DCM_JR_STRING &&
        (a->str_len != b->str_len || memcmp(a->str, b->str, a->str_len) != 0))
        abort();
    const dcm_jr_node *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        same(x, y);
    if (x || y)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dcm_jr_doc *doc = NULL;
    size_t off = 0;
    dcm_jr_err err = dcm_jr_parse((const char *)data, size, &doc, &off);
    if (err != DCM_JR_OK) {
        if (doc || off > size)
            abort();
        return 0;
    }
    const dcm_jr_node *root = dcm_jr_root(doc);
    if (depth_of(root) <= DCM_JSON_MAX_DEPTH && !has_nul_key(root)) {
        dcm_json j;
        dcm_json_init(&j, 0);
        write_node(&j, root);
        if (dcm_json_error(&j) != DCM_JSON_OK)
            abort();
        size_t len = 0;
        const char *text = dcm_json_text(&j, &len);
        dcm_jr_doc *again = NULL;
        if (dcm_jr_parse(text, len, &again, NULL) != DCM_JR_OK)
            abort();
        same(root, dcm_jr_root(again));
        dcm_jr_free(again);
        dcm_json_free(&j);
    }
    dcm_jr_free(doc);
    return 0;
}
