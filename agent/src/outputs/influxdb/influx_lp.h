/*
 * influx_lp.h - InfluxDB line protocol: escaping, one line at a time into a growable
 * buffer, and the agent's journal records (samples, KPI records, alerts) as lines.
 *
 * Escaping (the line protocol reference):
 *   measurement            ',' and ' ' are preceded by '\'
 *   tag keys, tag values,  ',', '=' and ' ' are preceded by '\'
 *   field keys
 *   string field values    '"' and '\' are preceded by '\'; newlines are kept as they are
 *                          (a quoted string may span lines)
 * A backslash in a name is doubled. Line protocol has no way to write a newline or other
 * control character in a name: each becomes '_'. Tags are written sorted by key (byte
 * order), as InfluxDB recommends; a tag with an empty key or value is left out (line
 * protocol has no empty tag values).
 *
 * Numbers are floats (no 'i' suffix), written in the shortest form that reads back to the
 * same double, so a field keeps one type forever. A non-finite value is never written:
 * the field is left out, and a line left with no field is not written at all.
 *
 * Ownership: the buffer owns its memory (dcm_lp_buf_free); callers keep their strings.
 */
#ifndef DCM_INFLUX_LP_H
#define DCM_INFLUX_LP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outputs/journal.h"

typedef enum dcm_lp_precision {
    DCM_LP_NS = 0,
    DCM_LP_US,
    DCM_LP_MS,
    DCM_LP_S,
} dcm_lp_precision;

/* "ns", "us", "ms", "s" -> precision; false if unknown. */
bool dcm_lp_precision_parse(const char *name, dcm_lp_precision *out);
/* The timestamp in units of the precision (rounded down). */
int64_t dcm_lp_timestamp(int64_t ts_ns, dcm_lp_precision p);

typedef struct dcm_lp_buf {
    char *data;        /* NUL-terminated when len > 0 */
    size_t len, cap;
    bool oom;          /* sticky: an allocation failed; the line under way is dropped */
    /* The line being written. */
    size_t line_start;
    size_t fields;
    bool in_line;
} dcm_lp_buf;

typedef struct dcm_lp_tag {
    const char *key;
    const char *value;
} dcm_lp_tag;

void dcm_lp_buf_init(dcm_lp_buf *b);
void dcm_lp_buf_free(dcm_lp_buf *b);
/* Empties the buffer (keeps its memory, clears oom). */
void dcm_lp_buf_reset(dcm_lp_buf *b);

/* Starts a line: the measurement, then the tags (sorted here, in place). */
void dcm_lp_begin(dcm_lp_buf *b, const char *measurement, dcm_lp_tag *tags, size_t ntags);
/* Fields of the line under way. A non-finite float is skipped. */
void dcm_lp_field_float(dcm_lp_buf *b, const char *key, double v);
void dcm_lp_field_string(dcm_lp_buf *b, const char *key, const char *v, size_t len);
void dcm_lp_field_bool(dcm_lp_buf *b, const char *key, bool v);
/* Ends the line with its timestamp and '\n'. Returns true when the line was kept; false
 * (and the buffer back where it was) when it had no field or memory ran out. */
bool dcm_lp_end(dcm_lp_buf *b, int64_t ts_ns, dcm_lp_precision p);

/* Escapers, exposed for the tests: append the escaped form of s[0..len) to b. */
void dcm_lp_escape_measurement(dcm_lp_buf *b, const char *s, size_t len);
void dcm_lp_escape_name(dcm_lp_buf *b, const char *s, size_t len);
void dcm_lp_escape_string(dcm_lp_buf *b, const char *s, size_t len);

/* ------------------------------------------------------------- journal records */

/* The journal record as one line (see docs/influxdb.md for the measurements):
 *   DCM_JREC_SAMPLE -> dcm_point,collector=,point=,site=,unit= value=<float>,quality="..."
 *   DCM_JREC_KPI    -> dcm_kpi,category=,site=,window= <every value of the JSON body>
 *   DCM_JREC_ALERT  -> dcm_alert,rule=,site= <the scalar members of the JSON body>
 * Returns true when a line was appended; false when the record gives no line (a KPI or
 * alert body that is not a JSON object, nothing but nulls) or memory ran out (b->oom). */
bool dcm_lp_encode(dcm_lp_buf *b, const char *site, const dcm_jrec *rec, dcm_lp_precision p);

#endif
