/* RFC 4180 CSV reader: a byte-at-a-time state machine over a chunked input. */
#include "csv.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE 65536

#define BYTE_EOF (-1)
#define BYTE_ERR (-2)

struct dcm_csv_reader {
    FILE *fp;               /* borrowed; NULL for memory input */
    unsigned char *owned;   /* chunk buffer for FILE input */
    const unsigned char *in;
    size_t pos, len;
    bool eof, io_error, started;
    unsigned long line, col;           /* position of the next byte (col 0: none read) */
    unsigned long byte_line, byte_col; /* position of the byte last returned */
    /* the record being built */
    char *data;
    size_t data_len, data_cap;
    size_t *starts, *lengths;
    const char **ptrs;
    size_t nfields;
    /* the last error */
    char detail[160];
    unsigned long err_line, err_col;
};

const char *dcm_csv_strerror(dcm_csv_err err)
{
    switch (err) {
    case DCM_CSV_OK:
        return "ok";
    case DCM_CSV_EOF:
        return "end of input";
    case DCM_CSV_ESYNTAX:
        return "malformed CSV record";
    case DCM_CSV_ELIMIT:
        return "CSV record too large";
    case DCM_CSV_EIO:
        return "input could not be read";
    case DCM_CSV_ENOMEM:
        return "out of memory";
    }
    return "unknown CSV error";
}

static dcm_csv_err alloc_reader(dcm_csv_reader **out)
{
    *out = NULL;
    dcm_csv_reader *r = calloc(1, sizeof *r);
    if (!r)
        return DCM_CSV_ENOMEM;
    r->starts = malloc(DCM_CSV_MAX_FIELDS * sizeof *r->starts);
    r->lengths = malloc(DCM_CSV_MAX_FIELDS * sizeof *r->lengths);
    r->ptrs = malloc(DCM_CSV_MAX_FIELDS * sizeof *r->ptrs);
    r->data_cap = 256;
    r->data = malloc(r->data_cap);
    if (!r->starts || !r->lengths || !r->ptrs || !r->data) {
        dcm_csv_reader_destroy(r);
        return DCM_CSV_ENOMEM;
    }
    r->line = 1;
    *out = r;
    return DCM_CSV_OK;
}

dcm_csv_err dcm_csv_reader_create_file(FILE *fp, dcm_csv_reader **out)
{
    if (!out)
        return DCM_CSV_ENOMEM;
    if (!fp) {
        *out = NULL;
        return DCM_CSV_EIO;
    }
    dcm_csv_reader *r = NULL;
    dcm_csv_err err = alloc_reader(&r);
    if (err)
        return err;
    r->owned = malloc(CHUNK_SIZE);
    if (!r->owned) {
        dcm_csv_reader_destroy(r);
        return DCM_CSV_ENOMEM;
    }
    r->fp = fp;
    r->in = r->owned;
    *out = r;
    return DCM_CSV_OK;
}

dcm_csv_err dcm_csv_reader_create_mem(const void *data, size_t len, dcm_csv_reader **out)
{
    if (!out)
        return DCM_CSV_ENOMEM;
    dcm_csv_reader *r = NULL;
    dcm_csv_err err = alloc_reader(&r);
    if (err)
        return err;
    r->in = data ? data : (const void *)"";
    r->len = data ? len : 0;
    r->eof = true;
    *out = r;
    return DCM_CSV_OK;
}

void dcm_csv_reader_destroy(dcm_csv_reader *r)
{
    if (!r)
        return;
    free(r->owned);
    free(r->data);
    free(r->starts);
    free(r->lengths);
    free(r->ptrs);
    free(r);
}

/* Makes at least `want` unread bytes available if the input has them. */
static void fill(dcm_csv_reader *r, size_t want)
{
    if (!r->fp || r->io_error)
        return;
    if (r->len - r->pos >= want || r->eof)
        return;
    size_t left = r->len - r->pos;
    memmove(r->owned, r->owned + r->pos, left);
    r->pos = 0;
    r->len = left;
    while (r->len < want && !r->eof) {
        size_t got = fread(r->owned + r->len, 1, CHUNK_SIZE - r->len, r->fp);
        r->len += got;
        if (got == 0) {
            if (ferror(r->fp))
                r->io_error = true;
            r->eof = true;
        }
    }
}

static int peekb(dcm_csv_reader *r)
{
    fill(r, 1);
    if (r->pos < r->len)
        return r->in[r->pos];
    return r->io_error ? BYTE_ERR : BYTE_EOF;
}

/* Next byte; a CR LF pair comes back as one '\n', a lone CR as '\n' too. */
static int getb(dcm_csv_reader *r)
{
    int c = peekb(r);
    if (c < 0)
        return c;
    r->pos++;
    r->byte_line = r->line;
    r->byte_col = ++r->col;
    if (c == '\r') {
        if (peekb(r) == '\n')
            r->pos++;
        c = '\n';
    }
    if (c == '\n') {
        r->line++;
        r->col = 0;
    }
    return c;
}

static bool append(dcm_csv_reader *r, char c)
{
    if (r->data_len + 1 >= r->data_cap) {
        size_t cap = r->data_cap * 2;
        char *nd = realloc(r->data, cap);
        if (!nd)
            return false;
        r->data = nd;
        r->data_cap = cap;
    }
    r->data[r->data_len++] = c;
    return true;
}

typedef enum { ST_START, ST_UNQUOTED, ST_QUOTED, ST_QUOTE_SEEN } parse_state;

typedef struct record_build {
    bool bad;      /* a syntax error was found: skip to the end of the line */
    bool over;     /* over a limit: keep parsing to the record's end, store nothing */
    size_t field_start;
} record_build;

static void set_error(dcm_csv_reader *r, record_build *b, const char *what)
{
    if (b->bad || b->over)
        return;
    b->bad = true;
    r->err_line = r->byte_line;
    r->err_col = r->byte_col;
    snprintf(r->detail, sizeof r->detail, "%s", what);
}

static void set_limit(dcm_csv_reader *r, record_build *b, const char *what)
{
    if (b->bad || b->over)
        return;
    b->over = true;
    r->err_line = r->byte_line;
    r->err_col = r->byte_col;
    snprintf(r->detail, sizeof r->detail, "%s", what);
}

static bool store_byte(dcm_csv_reader *r, record_build *b, int c)
{
    if (b->over || b->bad)
        return true;
    if (c == 0) {
        set_error(r, b, "NUL byte in a field");
        return true;
    }
    if (r->data_len >= DCM_CSV_MAX_RECORD) {
        set_limit(r, b, "record longer than 65536 bytes");
        return true;
    }
    return append(r, (char)c);
}

static bool end_field(dcm_csv_reader *r, record_build *b)
{
    if (b->over || b->bad)
        return true;
    if (r->nfields >= DCM_CSV_MAX_FIELDS) {
        set_limit(r, b, "more than 64 fields");
        return true;
    }
    r->starts[r->nfields] = b->field_start;
    r->lengths[r->nfields] = r->data_len - b->field_start;
    r->nfields++;
    if (!append(r, '\0'))
        return false;
    b->field_start = r->data_len;
    return true;
}

/* Skips the rest of a malformed line, quotes and all. */
static int skip_line(dcm_csv_reader *r)
{
    for (;;) {
        int c = getb(r);
        if (c == '\n' || c == BYTE_EOF)
            return 0;
        if (c == BYTE_ERR)
            return -1;
    }
}

dcm_csv_err dcm_csv_next(dcm_csv_reader *r, dcm_csv_record *rec)
{
    if (!r->started) {
        r->started = true;
        fill(r, 3);
        if (r->len - r->pos >= 3 && memcmp(r->in + r->pos, "\xEF\xBB\xBF", 3) == 0)
            r->pos += 3;
    }
    for (;;) { /* one iteration per record; blank lines go round again */
        r->data_len = 0;
        r->nfields = 0;
        record_build b = {0};
        unsigned long start_line = r->line;
        unsigned long quote_line = 0;
        bool consumed = false;
        parse_state st = ST_START;
        bool done = false;
        while (!done) {
            int c = getb(r);
            if (c == BYTE_ERR)
                return DCM_CSV_EIO;
            if (c == BYTE_EOF && !consumed)
                return DCM_CSV_EOF;
            consumed = true;
            bool ok = true;
            switch (st) {
            case ST_START:
                if (c == '"') {
                    st = ST_QUOTED;
                    quote_line = r->byte_line;
                } else if (c == ',')
                    ok = end_field(r, &b);
                else if (c == '\n' || c == BYTE_EOF) {
                    ok = end_field(r, &b);
                    done = true;
                } else {
                    ok = store_byte(r, &b, c);
                    st = ST_UNQUOTED;
                }
                break;
            case ST_UNQUOTED:
                if (c == ',') {
                    ok = end_field(r, &b);
                    st = ST_START;
                } else if (c == '\n' || c == BYTE_EOF) {
                    ok = end_field(r, &b);
                    done = true;
                } else if (c == '"')
                    set_error(r, &b, "quote inside an unquoted field (quote the whole field)");
                else
                    ok = store_byte(r, &b, c);
                break;
            case ST_QUOTED:
                if (c == BYTE_EOF) {
                    if (!b.bad && !b.over) {
                        b.bad = true;
                        r->err_line = quote_line;
                        r->err_col = 0;
                        snprintf(r->detail, sizeof r->detail,
                                 "quoted field opened on line %lu is never closed", quote_line);
                    }
                    done = true;
                } else if (c == '"')
                    st = ST_QUOTE_SEEN;
                else
                    ok = store_byte(r, &b, c);
                break;
            case ST_QUOTE_SEEN:
                if (c == '"') {
                    ok = store_byte(r, &b, c);
                    st = ST_QUOTED;
                } else if (c == ',') {
                    ok = end_field(r, &b);
                    st = ST_START;
                } else if (c == '\n' || c == BYTE_EOF) {
                    ok = end_field(r, &b);
                    done = true;
                } else
                    set_error(r, &b, "character after a closing quote (expected ',' or end of line)");
                break;
            }
            if (!ok)
                return DCM_CSV_ENOMEM;
            if (b.bad && !done) {
                /* Resynchronise at the next line: a quote left open by the error
                 * would otherwise swallow the rest of the file. */
                if (c != '\n' && skip_line(r) < 0)
                    return DCM_CSV_EIO;
                done = true;
            }
        }
        if (b.bad)
            return DCM_CSV_ESYNTAX;
        if (b.over)
            return DCM_CSV_ELIMIT;
        if (r->nfields == 1 && r->lengths[0] == 0 && r->line == start_line + 1 &&
            st == ST_START)
            continue; /* a blank line */
        for (size_t i = 0; i < r->nfields; i++)
            r->ptrs[i] = r->data + r->starts[i];
        rec->count = r->nfields;
        rec->fields = r->ptrs;
        rec->lengths = r->lengths;
        rec->line = start_line;
        return DCM_CSV_OK;
    }
}

const char *dcm_csv_error_detail(const dcm_csv_reader *r) { return r->detail; }
unsigned long dcm_csv_error_line(const dcm_csv_reader *r) { return r->err_line; }
unsigned long dcm_csv_error_column(const dcm_csv_reader *r) { return r->err_col; }
