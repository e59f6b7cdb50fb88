/* The YAML node tree: built from libyaml's event stream so that every node keeps the
 * file, line and column it was written at. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "config_internal.h"

/* ------------------------------------------------------------- accessors */

dcm_node_type dcm_node_kind(const dcm_node *n)
{
    return n ? n->type : DCM_NODE_SCALAR;
}

const char *dcm_node_file(const dcm_node *n)
{
    return n ? n->file : NULL;
}

int dcm_node_line(const dcm_node *n)
{
    return n ? n->line : 0;
}

int dcm_node_column(const dcm_node *n)
{
    return n ? n->column : 0;
}

const char *dcm_node_scalar(const dcm_node *n)
{
    return n && n->type == DCM_NODE_SCALAR ? n->scalar : NULL;
}

size_t dcm_node_size(const dcm_node *n)
{
    return n && n->type != DCM_NODE_SCALAR ? n->count : 0;
}

const dcm_node *dcm_node_at(const dcm_node *n, size_t i)
{
    if (!n || n->type == DCM_NODE_SCALAR || i >= n->count)
        return NULL;
    return n->items[i];
}

const char *dcm_node_key_at(const dcm_node *n, size_t i)
{
    if (!n || n->type != DCM_NODE_MAP || i >= n->count)
        return NULL;
    /* A non-scalar key was already reported as an error; "" keeps callers simple. */
    return n->keys[i]->type == DCM_NODE_SCALAR ? n->keys[i]->scalar : "";
}

const dcm_node *dcm_node_key_node_at(const dcm_node *n, size_t i)
{
    if (!n || n->type != DCM_NODE_MAP || i >= n->count)
        return NULL;
    return n->keys[i];
}

const dcm_node *dcm_node_get(const dcm_node *map, const char *key)
{
    if (!map || !key || map->type != DCM_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (map->keys[i]->type == DCM_NODE_SCALAR && strcmp(map->keys[i]->scalar, key) == 0)
            return map->items[i];
    return NULL;
}

bool dcm_node_is_null(const dcm_node *n)
{
    if (!n || n->type != DCM_NODE_SCALAR || !n->plain)
        return false;
    const char *s = n->scalar;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
           strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

/* ------------------------------------------------------------- tree */

static void node_free(dcm_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->count; i++) {
        if (n->keys)
            node_free(n->keys[i]);
        node_free(n->items[i]);
    }
    free(n->items); /* and the keys of a map */
    free(n->owned_file);
    free(n);
}

void dcm_node_free(dcm_node *root)
{
    node_free(root);
}

/* A node; a scalar gets room for `length` characters of text and its NUL. */
static dcm_node *node_new(dcm_node_type type, const char *file, yaml_mark_t mark,
                          size_t length)
{
    size_t extra = type == DCM_NODE_SCALAR ? length + 1 : 0;
    if (extra > SIZE_MAX - sizeof(dcm_node))
        return NULL;
    dcm_node *n = calloc(1, sizeof(*n) + extra);
    if (!n)
        return NULL;
    if (type == DCM_NODE_SCALAR)
        n->scalar = n->text;
    n->type = type;
    n->file = file;
    n->line = (int)mark.line + 1;
    n->column = (int)mark.column + 1;
    return n;
}

/* Appends (key, value) to a map, or value to a list. */
static bool node_append(dcm_node *parent, dcm_node *key, dcm_node *value)
{
    if (parent->count == parent->cap) {
        if (parent->cap > SIZE_MAX / 4 / sizeof(dcm_node *))
            return false;
        size_t cap = parent->cap ? parent->cap * 2 : 4;
        if (parent->type == DCM_NODE_MAP) {
            /* Values first, then keys, in one block. */
            dcm_node **block = malloc(2 * cap * sizeof(*block));
            if (!block)
                return false;
            if (parent->count) {
                memcpy(block, parent->items, parent->count * sizeof(*block));
                memcpy(block + cap, parent->keys, parent->count * sizeof(*block));
            }
            free(parent->items);
            parent->items = block;
            parent->keys = block + cap;
        } else {
            dcm_node **items = realloc(parent->items, cap * sizeof(*items));
            if (!items)
                return false;
            parent->items = items;
        }
        parent->cap = cap;
    }
    if (parent->type == DCM_NODE_MAP)
        parent->keys[parent->count] = key;
    parent->items[parent->count++] = value;
    return true;
}

/* ------------------------------------------------------------- parser */

typedef struct frame {
    dcm_node *node;
    dcm_node *pending_key; /* MAP: the key waiting for its value */
} frame;

typedef struct builder {
    const char *file;
    dcm_diags *diags;
    dcm_node *root;
    frame stack[DCM_NODE_MAX_DEPTH];
    size_t depth;
    int documents;
} builder;

static void report_anchor(builder *b, const yaml_event_t *ev, const yaml_char_t *anchor)
{
    if (anchor)
        dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, (int)ev->start_mark.line + 1,
                      (int)ev->start_mark.column + 1, "",
                      "anchors (&%s) are not supported: write the value out in full",
                      (const char *)anchor);
}

/* Attaches a finished or newly opened node to its parent. Takes ownership of n. */
static dcm_config_err attach(builder *b, dcm_node *n)
{
    if (b->depth == 0) {
        b->root = n;
        return DCM_CONFIG_OK;
    }
    frame *f = &b->stack[b->depth - 1];
    if (f->node->type == DCM_NODE_LIST) {
        if (!node_append(f->node, NULL, n)) {
            node_free(n);
            return DCM_CONFIG_ENOMEM;
        }
        return DCM_CONFIG_OK;
    }
    if (!f->pending_key) {
        f->pending_key = n;
        if (n->type != DCM_NODE_SCALAR) {
            dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, n->line, n->column, "",
                          "a mapping key must be a plain string, not a %s",
                          n->type == DCM_NODE_MAP ? "mapping" : "list");
        } else if (strcmp(n->scalar, "<<") == 0) {
            dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, n->line, n->column, "",
                          "merge keys ('<<') are not supported: write the keys out in full");
        } else {
            const dcm_node *map = f->node;
            for (size_t i = 0; i < map->count; i++) {
                const dcm_node *k = map->keys[i];
                if (k->type == DCM_NODE_SCALAR && strcmp(k->scalar, n->scalar) == 0) {
                    dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, n->line, n->column, "",
                                  "duplicate key '%s' (first given at line %d, column %d)",
                                  n->scalar, k->line, k->column);
                    break;
                }
            }
        }
        return DCM_CONFIG_OK;
    }
    dcm_node *key = f->pending_key;
    f->pending_key = NULL;
    if (!node_append(f->node, key, n)) {
        node_free(key);
        node_free(n);
        return DCM_CONFIG_ENOMEM;
    }
    return DCM_CONFIG_OK;
}

/* Reader errors (bad encoding) carry a byte offset, not a mark. */
static void offset_to_position(const char *text, size_t len, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static dcm_config_err report_syntax(builder *b, const yaml_parser_t *p, const char *text,
                                    size_t len)
{
    if (p->error == YAML_MEMORY_ERROR)
        return DCM_CONFIG_ENOMEM;
    const char *problem = p->problem ? p->problem : "cannot parse the document";
    if (p->error == YAML_READER_ERROR) {
        int line, col;
        offset_to_position(text, len, p->problem_offset, &line, &col);
        dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, line, col, "",
                      "invalid YAML: %s (the file must be UTF-8 text)", problem);
        return DCM_CONFIG_ESYNTAX;
    }
    int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
    if (p->context)
        dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, line, col, "",
                      "invalid YAML: %s (%s at line %d, column %d)", problem, p->context,
                      (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    else
        dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, line, col, "", "invalid YAML: %s",
                      problem);
    return DCM_CONFIG_ESYNTAX;
}

static dcm_config_err open_node(builder *b, const yaml_event_t *ev, dcm_node_type type)
{
    if (b->depth == DCM_NODE_MAX_DEPTH) {
        dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, (int)ev->start_mark.line + 1,
                      (int)ev->start_mark.column + 1, "",
                      "the document nests deeper than %d levels", DCM_NODE_MAX_DEPTH);
        return DCM_CONFIG_ESYNTAX;
    }
    dcm_node *n = node_new(type, b->file, ev->start_mark, 0);
    if (!n)
        return DCM_CONFIG_ENOMEM;
    dcm_config_err err = attach(b, n);
    if (err != DCM_CONFIG_OK)
        return err;
    b->stack[b->depth].node = n;
    b->stack[b->depth].pending_key = NULL;
    b->depth++;
    return DCM_CONFIG_OK;
}

static dcm_config_err on_scalar(builder *b, const yaml_event_t *ev)
{
    const char *value = (const char *)ev->data.scalar.value;
    size_t length = ev->data.scalar.length;
    report_anchor(b, ev, ev->data.scalar.anchor);
    dcm_node *n = node_new(DCM_NODE_SCALAR, b->file, ev->start_mark, length);
    if (!n)
        return DCM_CONFIG_ENOMEM;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    memcpy(n->scalar, value, length);
    n->scalar[length] = '\0';
    if (memchr(value, '\0', length))
        dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, n->line, n->column, "",
                      "a value contains a NUL character");
    return attach(b, n);
}

static dcm_config_err on_alias(builder *b, const yaml_event_t *ev)
{
    /* Aliases let a small file expand to a huge tree; refusing them keeps the loader's
     * cost proportional to the file. A null stands in so validation can go on. */
    dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, (int)ev->start_mark.line + 1,
                  (int)ev->start_mark.column + 1, "",
                  "aliases (*%s) are not supported: write the value out in full",
                  (const char *)ev->data.alias.anchor);
    dcm_node *n = node_new(DCM_NODE_SCALAR, b->file, ev->start_mark, 0);
    if (!n)
        return DCM_CONFIG_ENOMEM;
    n->plain = true;
    return attach(b, n);
}

static dcm_config_err on_event(builder *b, const yaml_event_t *ev)
{
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1) {
            dcm_diags_add(b->diags, DCM_DIAG_ERROR, b->file, (int)ev->start_mark.line + 1,
                          (int)ev->start_mark.column + 1, "",
                          "only one YAML document is allowed ('---' starts a second one)");
            return DCM_CONFIG_ESYNTAX;
        }
        return DCM_CONFIG_OK;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_ALIAS_EVENT:
        return on_alias(b, ev);
    case YAML_SEQUENCE_START_EVENT:
        report_anchor(b, ev, ev->data.sequence_start.anchor);
        return open_node(b, ev, DCM_NODE_LIST);
    case YAML_MAPPING_START_EVENT:
        report_anchor(b, ev, ev->data.mapping_start.anchor);
        return open_node(b, ev, DCM_NODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        if (b->depth > 0) {
            /* libyaml never closes a mapping between a key and its value. */
            b->depth--;
            node_free(b->stack[b->depth].pending_key);
            b->stack[b->depth].pending_key = NULL;
        }
        return DCM_CONFIG_OK;
    default:
        return DCM_CONFIG_OK;
    }
}

dcm_config_err dcm_node_parse(const char *text, size_t len, const char *file, dcm_node **out,
                              dcm_diags *diags)
{
    *out = NULL;
    builder b;
    memset(&b, 0, sizeof(b));
    b.diags = diags;
    dcm_config_err err = DCM_CONFIG_OK;
    yaml_parser_t parser;
    bool parser_ready = false;
    char *owned_file = strdup(file ? file : "<config>");
    if (!owned_file) {
        err = DCM_CONFIG_ENOMEM;
        goto fail;
    }
    b.file = owned_file;
    if (!yaml_parser_initialize(&parser)) {
        err = DCM_CONFIG_ENOMEM;
        goto fail;
    }
    parser_ready = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            err = report_syntax(&b, &parser, text, len);
            goto fail;
        }
        bool end = ev.type == YAML_STREAM_END_EVENT;
        err = on_event(&b, &ev);
        yaml_event_delete(&ev);
        if (err != DCM_CONFIG_OK)
            goto fail;
        if (end)
            break;
    }
    yaml_parser_delete(&parser);
    if (b.root) {
        b.root->owned_file = owned_file;
        *out = b.root;
    } else {
        free(owned_file);
    }
    return DCM_CONFIG_OK;
fail:
    if (parser_ready)
        yaml_parser_delete(&parser);
    /* Containers still open are reachable from the root: freeing it frees them. */
    for (size_t i = 0; i < b.depth; i++)
        node_free(b.stack[i].pending_key);
    node_free(b.root);
    free(owned_file);
    return err;
}

dcm_config_err dcm_node_tree_parse(const char *text, size_t len, const char *file,
                                   dcm_node **out, dcm_diags *diags)
{
    *out = NULL;
    if (len > DCM_CONFIG_MAX_BYTES) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, file ? file : "<document>", 0, 0, "",
                      "document larger than %u bytes", (unsigned)DCM_CONFIG_MAX_BYTES);
        return DCM_CONFIG_ESYNTAX;
    }
    size_t errors = diags->errors;
    dcm_node *root = NULL;
    dcm_config_err err = dcm_node_parse(text ? text : "", text ? len : 0, file, &root, diags);
    if (err != DCM_CONFIG_OK)
        return err;
    /* The parser keeps the tree after anchors or duplicate keys so the loader can go on;
     * a standalone document with such errors is refused as a whole. */
    if (diags->errors != errors) {
        dcm_node_free(root);
        return DCM_CONFIG_EINVALID;
    }
    *out = root;
    return DCM_CONFIG_OK;
}

void dcm_node_tree_free(dcm_node *root) { dcm_node_free(root); }
