/* A strict JSON reader: one pass, an explicit stack, nodes and strings in two arrays. */
#include "json_read.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#define NO_INDEX SIZE_MAX

struct dcm_jr_doc {
    dcm_jr_node *nodes;
    size_t count, cap;
    char *strings; /* every decoded string, each NUL-terminated */
    size_t slen, scap;
};

typedef struct parser {
    const unsigned char *s;
    size_t len, pos;
    dcm_jr_doc *doc;
    dcm_jr_err err;
    size_t stack[DCM_JR_MAX_DEPTH];
    int depth;
    size_t pending_key, pending_key_len; /* NO_INDEX when none */
} parser;

const char *dcm_jr_strerror(dcm_jr_err err)
{
    switch (err) {
    case DCM_JR_OK: return "ok";
    case DCM_JR_ESYNTAX: return "invalid JSON";
    case DCM_JR_EDEPTH: return "JSON nested too deeply";
    case DCM_JR_ERANGE: return "JSON number out of range";
    case DCM_JR_EUTF8: return "invalid UTF-8 or lone surrogate in JSON string";
    case DCM_JR_ENOMEM: return "out of memory";
    case DCM_JR_ETOOBIG: return "JSON document too large";
    }
    return "unknown JSON reader error";
}

static bool fail(parser *p, dcm_jr_err e)
{
    if (p->err == DCM_JR_OK)
        p->err = e;
    return false;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static bool put_bytes(parser *p, const void *b, size_t n)
{
    dcm_jr_doc *d = p->doc;
    if (!dcm_grow((void **)&d->strings, &d->scap, d->slen + n, 1, 256))
        return fail(p, DCM_JR_ENOMEM);
    memcpy(d->strings + d->slen, b, n);
    d->slen += n;
    return true;
}

static bool put_utf8(parser *p, uint32_t cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return put_bytes(p, b, n);
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(parser *p, uint32_t *out)
{
    if (p->len - p->pos < 4)
        return fail(p, DCM_JR_ESYNTAX);
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_digit(p->s[p->pos + (size_t)i]);
        if (h < 0)
            return fail(p, DCM_JR_ESYNTAX);
        v = v << 4 | (uint32_t)h;
    }
    p->pos += 4;
    *out = v;
    return true;
}

/* The length of the valid UTF-8 sequence at s[0..avail), or 0 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t cp, min;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2; cp = c & 0x1F; min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3; cp = c & 0x0F; min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4; cp = c & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* An escape after the backslash (p->pos is on the character after '\'). */
static bool read_escape(parser *p)
{
    unsigned char c = p->s[p->pos++];
    static const char simple_in[] = "\"\\/bfnrt";
    static const char simple_out[] = "\"\\/\b\f\n\r\t";
    const char *hit = c ? strchr(simple_in, c) : NULL;
    if (hit) {
        char out = simple_out[hit - simple_in];
        return put_bytes(p, &out, 1);
    }
    if (c != 'u')
        return fail(p, DCM_JR_ESYNTAX);
    uint32_t cp;
    if (!read_hex4(p, &cp))
        return false;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(p, DCM_JR_EUTF8);
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t lo;
        if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
            return fail(p, DCM_JR_EUTF8);
        p->pos += 2;
        if (!read_hex4(p, &lo))
            return false;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(p, DCM_JR_EUTF8);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    return put_utf8(p, cp);
}

/* A string at p->pos (on the opening quote), decoded into the string arena. */
static bool read_string(parser *p, size_t *off, size_t *len)
{
    p->pos++;
    *off = p->doc->slen;
    for (;;) {
        if (p->pos >= p->len)
            return fail(p, DCM_JR_ESYNTAX);
        /* Copy the run of plain bytes in one go. */
        size_t start = p->pos;
        while (p->pos < p->len) {
            unsigned char c = p->s[p->pos];
            if (c == '"' || c == '\\' || c < 0x20)
                break;
            if (c < 0x80) {
                p->pos++;
                continue;
            }
            size_t n = utf8_len(p->s + p->pos, p->len - p->pos);
            if (!n)
                return fail(p, DCM_JR_EUTF8);
            p->pos += n;
        }
        if (p->pos > start && !put_bytes(p, p->s + start, p->pos - start))
            return false;
        if (p->pos >= p->len)
            return fail(p, DCM_JR_ESYNTAX);
        unsigned char c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            *len = p->doc->slen - *off;
            return put_bytes(p, "", 1);
        }
        if (c < 0x20)
            return fail(p, DCM_JR_ESYNTAX);
        p->pos++; /* backslash */
        if (p->pos >= p->len)
            return fail(p, DCM_JR_ESYNTAX);
        if (!read_escape(p))
            return false;
    }
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool read_number(parser *p, dcm_jr_node *n)
{
    size_t start = p->pos;
    const unsigned char *s = p->s;
    bool integral = true;
    if (p->pos < p->len && s[p->pos] == '-')
        p->pos++;
    if (p->pos >= p->len || !is_digit(s[p->pos]))
        return fail(p, DCM_JR_ESYNTAX);
    if (s[p->pos] == '0')
        p->pos++;
    else
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    if (p->pos < p->len && s[p->pos] == '.') {
        integral = false;
        p->pos++;
        if (p->pos >= p->len || !is_digit(s[p->pos]))
            return fail(p, DCM_JR_ESYNTAX);
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    }
    if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
        integral = false;
        p->pos++;
        if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-'))
            p->pos++;
        if (p->pos >= p->len || !is_digit(s[p->pos]))
            return fail(p, DCM_JR_ESYNTAX);
        while (p->pos < p->len && is_digit(s[p->pos]))
            p->pos++;
    }
    /* strtod needs a terminated copy; the grammar above already vetted every byte. */
    size_t n_len = p->pos - start;
    char small[64];
    char *text = n_len < sizeof small ? small : malloc(n_len + 1);
    if (!text)
        return fail(p, DCM_JR_ENOMEM);
    memcpy(text, s + start, n_len);
    text[n_len] = '\0';
    errno = 0;
    double v = strtod(text, NULL);
    bool ok = isfinite(v);
    n->is_int = false;
    if (ok && integral) {
        errno = 0;
        long long i = strtoll(text, NULL, 10);
        if (errno == 0) {
            n->is_int = true;
            n->integer = (int64_t)i;
        }
    }
    if (text != small)
        free(text);
    if (!ok)
        return fail(p, DCM_JR_ERANGE);
    n->number = v == 0.0 ? 0.0 : v;
    return true;
}

static bool literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, DCM_JR_ESYNTAX);
    p->pos += n;
    return true;
}

/* A new node, linked under the container on top of the stack. */
static size_t add_node(parser *p, dcm_jr_type type)
{
    dcm_jr_doc *d = p->doc;
    if (!dcm_grow((void **)&d->nodes, &d->cap, d->count + 1, sizeof *d->nodes, 16)) {
        fail(p, DCM_JR_ENOMEM);
        return NO_INDEX;
    }
    size_t i = d->count++;
    dcm_jr_node *n = &d->nodes[i];
    memset(n, 0, sizeof *n);
    n->type = type;
    n->priv_key = p->pending_key;
    n->key_len = p->pending_key_len;
    n->priv_str = NO_INDEX;
    n->priv_child = n->priv_next = n->priv_last = NO_INDEX;
    p->pending_key = NO_INDEX;
    p->pending_key_len = 0;
    if (p->depth > 0) {
        dcm_jr_node *parent = &d->nodes[p->stack[p->depth - 1]];
        if (parent->priv_last == NO_INDEX)
            parent->priv_child = i;
        else
            d->nodes[parent->priv_last].priv_next = i;
        parent->priv_last = i;
        parent->count++;
    }
    return i;
}

/* A member name and its colon; leaves p->pos on the value. */
static bool read_key(parser *p)
{
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != '"')
        return fail(p, DCM_JR_ESYNTAX);
    size_t off, len;
    if (!read_string(p, &off, &len))
        return false;
    skip_ws(p);
    if (p->pos >= p->len || p->s[p->pos] != ':')
        return fail(p, DCM_JR_ESYNTAX);
    p->pos++;
    p->pending_key = off;
    p->pending_key_len = len;
    return true;
}

static bool push(parser *p, size_t node)
{
    if (p->depth >= DCM_JR_MAX_DEPTH)
        return fail(p, DCM_JR_EDEPTH);
    p->stack[p->depth++] = node;
    return true;
}

/* One value; containers push themselves and return with *opened set. */
static bool read_value(parser *p, bool *closed_empty)
{
    *closed_empty = false;
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, DCM_JR_ESYNTAX);
    unsigned char c = p->s[p->pos];
    size_t i;
    switch (c) {
    case '{':
    case '[': {
        bool obj = c == '{';
        if ((i = add_node(p, obj ? DCM_JR_OBJECT : DCM_JR_ARRAY)) == NO_INDEX || !push(p, i))
            return false;
        p->pos++;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
            p->pos++;
            p->depth--;
            *closed_empty = true;
            return true;
        }
        if (obj && !read_key(p))
            return false;
        return true;
    }
    case '"': {
        size_t off, len;
        if ((i = add_node(p, DCM_JR_STRING)) == NO_INDEX || !read_string(p, &off, &len))
            return false;
        p->doc->nodes[i].priv_str = off;
        p->doc->nodes[i].str_len = len;
        return true;
    }
    case 't':
    case 'f':
        if ((i = add_node(p, DCM_JR_BOOL)) == NO_INDEX || !literal(p, c == 't' ? "true" : "false"))
            return false;
        p->doc->nodes[i].boolean = c == 't';
        return true;
    case 'n':
        return add_node(p, DCM_JR_NULL) != NO_INDEX && literal(p, "null");
    default:
        if (c != '-' && !is_digit(c))
            return fail(p, DCM_JR_ESYNTAX);
        if ((i = add_node(p, DCM_JR_NUMBER)) == NO_INDEX)
            return false;
        return read_number(p, &p->doc->nodes[i]);
    }
}

static bool parse(parser *p)
{
    bool closed;
    if (!read_value(p, &closed))
        return false;
    for (;;) {
        /* A value just ended, or a container was just opened (depth grew). */
        dcm_jr_node *top = p->depth ? &p->doc->nodes[p->stack[p->depth - 1]] : NULL;
        if (top && top->count == 0 && !closed) {
            /* Freshly opened non-empty container: its first value is due. */
            if (!read_value(p, &closed))
                return false;
            continue;
        }
        skip_ws(p);
        if (!top)
            return p->pos == p->len ? true : fail(p, DCM_JR_ESYNTAX);
        if (p->pos >= p->len)
            return fail(p, DCM_JR_ESYNTAX);
        bool obj = top->type == DCM_JR_OBJECT;
        unsigned char c = p->s[p->pos];
        if (c == ',') {
            p->pos++;
            if (obj && !read_key(p))
                return false;
            if (!read_value(p, &closed))
                return false;
        } else if (c == (obj ? '}' : ']')) {
            p->pos++;
            p->depth--;
            closed = true;
        } else {
            return fail(p, DCM_JR_ESYNTAX);
        }
    }
}

/* Offsets become pointers once nothing moves any more. */
static void fix_up(dcm_jr_doc *d)
{
    for (size_t i = 0; i < d->count; i++) {
        dcm_jr_node *n = &d->nodes[i];
        n->key = n->priv_key == NO_INDEX ? NULL : d->strings + n->priv_key;
        if (!n->key)
            n->key_len = 0;
        n->str = n->priv_str == NO_INDEX ? NULL : d->strings + n->priv_str;
        n->child = n->priv_child == NO_INDEX ? NULL : &d->nodes[n->priv_child];
        n->next = n->priv_next == NO_INDEX ? NULL : &d->nodes[n->priv_next];
    }
}

dcm_jr_err dcm_jr_parse(const char *text, size_t len, dcm_jr_doc **out, size_t *err_offset)
{
    if (out)
        *out = NULL;
    if (err_offset)
        *err_offset = 0;
    if (!out || (!text && len))
        return DCM_JR_ESYNTAX;
    if (len > (size_t)INT32_MAX)
        return DCM_JR_ETOOBIG;
    dcm_jr_doc *d = calloc(1, sizeof *d);
    if (!d)
        return DCM_JR_ENOMEM;
    parser p = {.s = (const unsigned char *)text, .len = len, .doc = d,
                .pending_key = NO_INDEX};
    if (!parse(&p))
        goto fail;
    fix_up(d);
    *out = d;
    return DCM_JR_OK;
fail:
    if (err_offset)
        *err_offset = p.pos;
    dcm_jr_free(d);
    return p.err ? p.err : DCM_JR_ESYNTAX;
}

void dcm_jr_free(dcm_jr_doc *doc)
{
    if (!doc)
        return;
    free(doc->nodes);
    free(doc->strings);
    free(doc);
}

const dcm_jr_node *dcm_jr_root(const dcm_jr_doc *doc)
{
    return doc && doc->count ? &doc->nodes[0] : NULL;
}

const dcm_jr_node *dcm_jr_get(const dcm_jr_node *obj, const char *key)
{
    if (!obj || obj->type != DCM_JR_OBJECT || !key)
        return NULL;
    size_t klen = strlen(key);
    for (const dcm_jr_node *m = obj->child; m; m = m->next)
        if (m->key_len == klen && memcmp(m->key, key, klen) == 0)
            return m;
    return NULL;
}

bool dcm_jr_number(const dcm_jr_node *n, double *out)
{
    if (!n || n->type != DCM_JR_NUMBER)
        return false;
    *out = n->number;
    return true;
}

bool dcm_jr_string(const dcm_jr_node *n, const char **out)
{
    if (!n || n->type != DCM_JR_STRING)
        return false;
    *out = n->str;
    return true;
}
