/* One CSV row -> one checked reading. */
#include "readings.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "timestamp.h"

static const char *const col_names[DCM_COL_COUNT] = {"timestamp", "point", "value",
                                                     "unit",      "kind",  "start"};

const char *dcm_row_problem_name(dcm_row_problem p)
{
    switch (p) {
    case DCM_ROW_OK:
        return "ok";
    case DCM_ROW_FIELDS:
        return "fields";
    case DCM_ROW_POINT:
        return "point";
    case DCM_ROW_TIMESTAMP:
        return "timestamp";
    case DCM_ROW_START:
        return "start";
    case DCM_ROW_VALUE:
        return "value";
    case DCM_ROW_UNIT:
        return "unit";
    case DCM_ROW_KIND:
        return "kind";
    case DCM_ROW_UNIT_KIND:
        return "unit/kind";
    case DCM_ROW_PROBLEM_COUNT:
        break;
    }
    return "unknown";
}

static bool blank(char c) { return c == ' ' || c == '\t'; }

/* The field without surrounding blanks, as pointer + length. */
static const char *field(const dcm_csv_record *rec, int idx, size_t *len)
{
    const char *s = rec->fields[idx];
    size_t n = rec->lengths[idx];
    while (n && blank(*s))
        s++, n--;
    while (n && blank(s[n - 1]))
        n--;
    *len = n;
    return s;
}

/* Copies a trimmed field into buf; false if it does not fit. */
static bool field_copy(const dcm_csv_record *rec, int idx, char *buf, size_t size)
{
    size_t n;
    const char *s = field(rec, idx, &n);
    if (n >= size)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

bool dcm_reading_header(const dcm_csv_record *hdr, dcm_reading_columns *cols, char *why,
                        size_t why_size)
{
    for (int c = 0; c < DCM_COL_COUNT; c++)
        cols->index[c] = -1;
    cols->min_fields = 0;
    for (size_t i = 0; i < hdr->count && i < DCM_CSV_MAX_FIELDS; i++) {
        char name[32];
        if (!field_copy(hdr, (int)i, name, sizeof name))
            continue;
        for (int c = 0; c < DCM_COL_COUNT; c++) {
            if (strcasecmp(name, col_names[c]) != 0)
                continue;
            if (cols->index[c] >= 0) {
                snprintf(why, why_size, "column '%s' appears twice (columns %d and %zu)",
                         col_names[c], cols->index[c] + 1, i + 1);
                return false;
            }
            cols->index[c] = (int)i;
            /* The start column is optional per row too: a short row just has none. */
            if (c != DCM_COL_START && i + 1 > cols->min_fields)
                cols->min_fields = i + 1;
        }
    }
    for (int c = 0; c < DCM_COL_START; c++) {
        if (cols->index[c] < 0) {
            snprintf(why, why_size,
                     "no '%s' column in the header (expected timestamp,point,value,unit,kind)",
                     col_names[c]);
            return false;
        }
    }
    return true;
}

bool dcm_reading_is_blank(const dcm_csv_record *rec)
{
    if (rec->count != 1)
        return false;
    size_t n;
    field(rec, 0, &n);
    return n == 0;
}

static bool parse_kind(const char *s, size_t n, dcm_kind *out)
{
    static const struct {
        const char *name;
        dcm_kind kind;
    } kinds[] = {{"counter", DCM_KIND_COUNTER}, {"delta", DCM_KIND_DELTA}, {"gauge", DCM_KIND_GAUGE}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (strlen(kinds[i].name) == n && strncasecmp(s, kinds[i].name, n) == 0) {
            *out = kinds[i].kind;
            return true;
        }
    }
    return false;
}

/* A decimal number, the whole field: no hex, no "inf"/"nan", no thousands separators. */
static bool parse_value(const char *s, size_t n, double *out)
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789.eE+-", s[i]) || s[i] == '\0')
            return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end != buf + n || !isfinite(v))
        return false;
    *out = v;
    return true;
}

/* Prints a field for a message: cut short and with control characters replaced, so one
 * hostile cell cannot garble the terminal. */
static void shown(const char *s, size_t n, char *buf, size_t size)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 4 < size; i++)
        buf[k++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    if (n > 0 && k + 4 >= size && k < n) {
        memcpy(buf + k, "...", 3);
        k += 3;
    }
    buf[k] = '\0';
}

static dcm_row_problem bad_ts(dcm_row_problem p, const char *what, const char *s, size_t n,
                              dcm_ts_err err, char *why, size_t why_size)
{
    char txt[48];
    shown(s, n, txt, sizeof txt);
    snprintf(why, why_size, "%s '%s': %s", what, txt, dcm_ts_strerror(err));
    return p;
}

static dcm_ts_err parse_ts(const char *s, size_t n, int64_t *out)
{
    char buf[64];
    if (n >= sizeof buf)
        return DCM_TS_ESYNTAX;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return dcm_ts_parse(buf, out);
}

dcm_row_problem dcm_reading_parse(const dcm_reading_columns *cols, const dcm_csv_record *rec,
                                  dcm_reading *out, char *why, size_t why_size)
{
    char scratch[8];
    if (!why || !why_size) {
        why = scratch;
        why_size = sizeof scratch;
    }
    why[0] = '\0';
    memset(out, 0, sizeof *out);
    if (rec->count < cols->min_fields) {
        snprintf(why, why_size, "%zu field%s, expected at least %zu", rec->count,
                 rec->count == 1 ? "" : "s", cols->min_fields);
        return DCM_ROW_FIELDS;
    }
    char txt[48];
    size_t n;
    const char *s;

    s = field(rec, cols->index[DCM_COL_POINT], &n);
    if (n == 0 || n > DCM_READING_MAX_POINT) {
        if (n)
            snprintf(why, why_size, "point id longer than %d bytes", DCM_READING_MAX_POINT);
        else
            snprintf(why, why_size, "empty point id");
        return DCM_ROW_POINT;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            snprintf(why, why_size, "control character in point id");
            return DCM_ROW_POINT;
        }
    }
    out->point = s;
    out->point_len = n;

    s = field(rec, cols->index[DCM_COL_TIMESTAMP], &n);
    dcm_ts_err terr = parse_ts(s, n, &out->ts_ns);
    if (terr)
        return bad_ts(DCM_ROW_TIMESTAMP, "timestamp", s, n, terr, why, why_size);

    s = field(rec, cols->index[DCM_COL_KIND], &n);
    if (!parse_kind(s, n, &out->kind)) {
        shown(s, n, txt, sizeof txt);
        snprintf(why, why_size, "kind '%s': expected counter, delta or gauge", txt);
        return DCM_ROW_KIND;
    }

    s = field(rec, cols->index[DCM_COL_VALUE], &n);
    if (!parse_value(s, n, &out->value)) {
        shown(s, n, txt, sizeof txt);
        snprintf(why, why_size, "value '%s': not a finite decimal number", txt);
        return DCM_ROW_VALUE;
    }

    s = field(rec, cols->index[DCM_COL_UNIT], &n);
    char unit[24];
    bool fits = n < sizeof unit;
    if (fits) {
        memcpy(unit, s, n);
        unit[n] = '\0';
    }
    if (!fits || !dcm_unit_lookup(unit, &out->unit)) {
        shown(s, n, txt, sizeof txt);
        const char *hint = NULL;
        for (size_t i = 0; fits && i < dcm_unit_count(); i++)
            if (strcasecmp(dcm_unit_at(i)->name, unit) == 0)
                hint = dcm_unit_at(i)->name;
        if (hint)
            snprintf(why, why_size, "unknown unit '%s' (units are case-sensitive: did you mean '%s'?)",
                     txt, hint);
        else
            snprintf(why, why_size,
                     "unknown unit '%s' (expected W kW MW Wh kWh MWh J kJ MJ mJ L m3 m3/h L/s %% degC)",
                     txt);
        return DCM_ROW_UNIT;
    }
    if (!dcm_unit_fits_kind(&out->unit, out->kind, why, why_size))
        return DCM_ROW_UNIT_KIND;
    out->canonical = out->value * out->unit.factor;
    if (!isfinite(out->canonical)) {
        shown(rec->fields[cols->index[DCM_COL_VALUE]], rec->lengths[cols->index[DCM_COL_VALUE]],
              txt, sizeof txt);
        snprintf(why, why_size, "value '%s' overflows when converted to %s", txt,
                 out->unit.canonical);
        return DCM_ROW_VALUE;
    }

    int sc = cols->index[DCM_COL_START];
    if (sc >= 0 && (size_t)sc < rec->count) {
        s = field(rec, sc, &n);
        if (n > 0) {
            if (out->kind != DCM_KIND_DELTA) {
                snprintf(why, why_size, "a start is only meaningful on a delta row, not a %s",
                         dcm_kind_name(out->kind));
                return DCM_ROW_START;
            }
            terr = parse_ts(s, n, &out->start_ns);
            if (terr)
                return bad_ts(DCM_ROW_START, "start", s, n, terr, why, why_size);
            if (out->start_ns >= out->ts_ns) {
                snprintf(why, why_size, "start is not before the timestamp");
                return DCM_ROW_START;
            }
        }
    }
    return DCM_ROW_OK;
}
