/*
 * csv.h - an RFC 4180 CSV reader that survives bad input.
 *
 * Records are read one at a time from a FILE or from memory. Quoted fields may hold
 * commas, doubled quotes and line breaks (read as LF, whatever the file used); lines
 * may end in LF, CRLF or CR; a UTF-8 byte order mark at the start is skipped; blank
 * lines are skipped. A malformed record (a stray quote, a NUL byte, an unterminated
 * quoted field, a record over the limits) is reported with its line number and skipped,
 * and reading goes on with the next line.
 *
 * Ownership: the reader borrows the FILE (the caller closes it) or the memory (which must
 * outlive the reader). A record's fields belong to the reader and stay valid until the
 * next dcm_csv_next() or dcm_csv_reader_destroy().
 */
#ifndef DCM_CSV_H
#define DCM_CSV_H

#include <stddef.h>
#include <stdio.h>

typedef enum dcm_csv_err {
    DCM_CSV_OK = 0,
    DCM_CSV_EOF,     /* no more records */
    DCM_CSV_ESYNTAX, /* this record is malformed and was skipped; reading can go on */
    DCM_CSV_ELIMIT,  /* this record is over DCM_CSV_MAX_FIELDS or DCM_CSV_MAX_RECORD bytes;
                        skipped; reading can go on */
    DCM_CSV_EIO,     /* the input could not be read: stop */
    DCM_CSV_ENOMEM,  /* allocation failed: stop */
} dcm_csv_err;

const char *dcm_csv_strerror(dcm_csv_err err);

#define DCM_CSV_MAX_FIELDS 64
#define DCM_CSV_MAX_RECORD 65536 /* bytes of field data in one record */

typedef struct dcm_csv_record {
    size_t count;              /* fields, >= 1 */
    const char *const *fields; /* NUL-terminated (a NUL byte inside a field is a syntax error) */
    const size_t *lengths;
    unsigned long line;        /* physical line (1-based) where the record starts */
} dcm_csv_record;

typedef struct dcm_csv_reader dcm_csv_reader;

dcm_csv_err dcm_csv_reader_create_file(FILE *fp, dcm_csv_reader **out);
dcm_csv_err dcm_csv_reader_create_mem(const void *data, size_t len, dcm_csv_reader **out);
void dcm_csv_reader_destroy(dcm_csv_reader *r);

/* Reads the next record into *rec. On ESYNTAX / ELIMIT, dcm_csv_error_detail() says what
 * was wrong and dcm_csv_error_line() / _column() where; call again for the next record. */
dcm_csv_err dcm_csv_next(dcm_csv_reader *r, dcm_csv_record *rec);

const char *dcm_csv_error_detail(const dcm_csv_reader *r);
unsigned long dcm_csv_error_line(const dcm_csv_reader *r);
unsigned long dcm_csv_error_column(const dcm_csv_reader *r); /* 1-based byte column */

#endif
