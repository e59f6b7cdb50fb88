/*
 * snmp_map.h - what an SNMP device profile says, and the pure parts of reading it: numeric
 * OIDs and table indexes, value types and their conversion to numbers, per-point scale
 * and the scaling a device reports itself (Raritan decimal digits, ENTITY-SENSOR
 * scale/precision), profiles parsed from YAML with file:line:column diagnostics, and the
 * profiles compiled into the binary.
 *
 * Nothing here does I/O or touches the SNMP library.
 *
 * Ownership: a dcm_snmp_point owns its strings and helpers (dcm_snmp_point_clear()); a
 * dcm_snmp_profile owns everything in it (dcm_snmp_profile_destroy()).
 */
#ifndef DCM_SNMP_MAP_H
#define DCM_SNMP_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/collector.h"
#include "dcm/config.h"
#include "dcm/metrics.h"

typedef enum dcm_snmp_err {
    DCM_SNMP_OK = 0,
    DCM_SNMP_EINVALID,  /* invalid profile, point, OID or option (see diagnostics) */
    DCM_SNMP_ENOTFOUND, /* no compiled-in profile of that name, or its file cannot be read */
    DCM_SNMP_ENOMEM,
    DCM_SNMP_ETIMEOUT,  /* the device did not answer in time */
    DCM_SNMP_EPROTO,    /* an error status, a report or a malformed reply */
    DCM_SNMP_EIO,       /* socket error or session cannot be opened */
} dcm_snmp_err;

const char *dcm_snmp_strerror(dcm_snmp_err err);

/* ------------------------------------------------------------------ OIDs */

#define DCM_SNMP_OID_MAX 64 /* sub-identifiers; the protocol allows 128, no MIB we read nears 40 */

typedef struct dcm_snmp_oid {
    uint32_t sub[DCM_SNMP_OID_MAX];
    uint32_t len;
} dcm_snmp_oid;

/* Parses ".1.3.6.1.2.1.1.2.0" or "1.3.6.1.2.1.1.2.0" (numeric only: no MIB names). At
 * least two sub-identifiers, each 0..4294967295. */
bool dcm_snmp_oid_parse(const char *s, dcm_snmp_oid *out);
/* Writes the dotted form with a leading dot; returns false if it did not fit. */
bool dcm_snmp_oid_format(const dcm_snmp_oid *o, char *buf, size_t size);
/* Whether o starts with prefix (equal counts). */
bool dcm_snmp_oid_has_prefix(const dcm_snmp_oid *o, const dcm_snmp_oid *prefix);
/* <0, 0, >0 in lexicographic (SNMP) order. */
int dcm_snmp_oid_cmp(const dcm_snmp_oid *a, const dcm_snmp_oid *b);
/* out = base . suffix; false if too long. */
bool dcm_snmp_oid_append(const dcm_snmp_oid *base, const uint32_t *suffix, size_t n,
                         dcm_snmp_oid *out);
/* The index of a table cell: the sub-identifiers of cell after column. False if cell is
 * not under column or has no index. */
bool dcm_snmp_oid_index(const dcm_snmp_oid *cell, const dcm_snmp_oid *column, uint32_t *index,
                        size_t cap, size_t *n);
/* A row name from a (multi-part) index: "1", "1.2.5"; with drop_last the last part (a
 * sensor type a column selects on) is left out. False if it did not fit. */
bool dcm_snmp_index_name(const uint32_t *index, size_t n, bool drop_last, char *buf,
                         size_t size);

/* ---------------------------------------------------------------- values */

typedef enum dcm_snmp_vtype {
    DCM_SNMP_V_INTEGER = 0, /* INTEGER / Integer32 */
    DCM_SNMP_V_UNSIGNED,    /* Unsigned32, Gauge32 */
    DCM_SNMP_V_COUNTER32,
    DCM_SNMP_V_COUNTER64,
    DCM_SNMP_V_TIMETICKS,
    DCM_SNMP_V_STRING,      /* OCTET STRING: numbers written as text ("230.5") */
    DCM_SNMP_V_FLOAT,       /* Opaque float / double */
    DCM_SNMP_V_OID,
    DCM_SNMP_V_NOSUCHOBJECT,
    DCM_SNMP_V_NOSUCHINSTANCE,
    DCM_SNMP_V_ENDOFMIBVIEW,
    DCM_SNMP_V_OTHER,       /* NULL, IpAddress, BITS, ...: not a number */
} dcm_snmp_vtype;

typedef struct dcm_snmp_value {
    dcm_snmp_vtype type;
    int64_t i;      /* INTEGER */
    uint64_t u;     /* Unsigned32, Gauge32, Counter32, Counter64, TimeTicks */
    double f;       /* FLOAT */
    char text[48];  /* STRING (truncated, NUL-terminated) */
} dcm_snmp_value;

const char *dcm_snmp_vtype_name(dcm_snmp_vtype t); /* "Integer32", "Counter64", ... */
/* The value as a number: OK, or INVALID for exceptions (noSuchObject, ...), strings that
 * are not a number, and non-numeric types. */
dcm_quality dcm_snmp_value_number(const dcm_snmp_value *v, double *out);

/* ---------------------------------------------------------------- points */

#define DCM_SNMP_MAX_INVALID 4

typedef enum dcm_snmp_devscale {
    DCM_SNMP_DEVSCALE_NONE = 0,
    DCM_SNMP_DEVSCALE_DIGITS, /* value x 10^-digits (Raritan *SensorDecimalDigits) */
    DCM_SNMP_DEVSCALE_ENTITY, /* ENTITY-SENSOR: x 10^(3(scale-9)) x 10^-precision (>0) */
} dcm_snmp_devscale;

/* The helper columns of a table column: only the few columns that name one carry them
 * (a separate allocation, so that scalars, the bulk of points, do not). */
typedef struct dcm_snmp_helpers {
    dcm_snmp_oid scale_oid;      /* DIGITS: the digits column; ENTITY: the scale column */
    dcm_snmp_oid precision_oid;  /* ENTITY: the precision column */
    dcm_snmp_oid filter_oid;     /* has_filter: the column that selects rows */
} dcm_snmp_helpers;

typedef struct dcm_snmp_point {
    char *name;          /* [a-z0-9_.-]+ */
    char *description;
    char *unit;          /* a unit of units.h, "count" or "bool" */
    dcm_snmp_oid oid;    /* scalar: the full instance OID; column: the column OID */
    double scale;        /* value = raw x scale (x device scale) + offset */
    double offset;
    dcm_kind kind;
    int counter_bits;    /* wrap width of a counter: 32 or 64; 0 = no wrap */
    double max_rate;
    double invalid[DCM_SNMP_MAX_INVALID]; /* raw values meaning "not available" */
    size_t invalid_count;
    /* Columns only. */
    dcm_snmp_devscale devscale;
    bool has_select;             /* only rows whose last index part is select */
    uint32_t select;
    bool has_filter;             /* only rows whose filter column equals filter_value */
    double filter_value;
    dcm_snmp_helpers *helpers;   /* owned; non-NULL exactly when devscale or has_filter */
    char *sum;           /* also publish the sum over rows as this point (NULL: no) */
    char *mean;          /* also publish the mean over rows as this point (NULL: no) */
    int line, column;    /* where it was written */
} dcm_snmp_point;

typedef struct dcm_snmp_table {
    char *name;          /* row points: <table>.<row>.<column> */
    dcm_snmp_point *columns;
    size_t column_count;
} dcm_snmp_table;

typedef struct dcm_snmp_profile {
    char *name;
    char *description;
    char *source;
    dcm_snmp_oid *sysobjectid;  /* prefixes of sysObjectID.0 that select it (auto) */
    size_t sysobjectid_count;
    bool has_detect;
    dcm_snmp_oid detect;        /* a subtree the device must have for auto to pick it */
    int priority;               /* auto: lower first among candidates (default 50) */
    dcm_snmp_point *points;     /* scalars, read with GET */
    size_t point_count;
    dcm_snmp_table *tables;     /* walked with GETBULK (GETNEXT in v1) */
    size_t table_count;
} dcm_snmp_profile;

/* Applies a point's invalid markers, scale and offset to a raw number and, for columns,
 * the device scale (dev_a = digits or entity scale, dev_b = entity precision). Returns OK
 * with *out, or INVALID (marker, non-finite result). */
dcm_quality dcm_snmp_point_value(const dcm_snmp_point *p, double raw, long dev_a, long dev_b,
                                 double *out);
/* 10^-digits, and the ENTITY-SENSOR factor of (scale, precision). */
double dcm_snmp_digits_factor(long digits);
double dcm_snmp_entity_factor(long scale, long precision);

void dcm_snmp_point_clear(dcm_snmp_point *p);
void dcm_snmp_table_clear(dcm_snmp_table *t);
/* Whether s is a valid point, table or profile name. */
bool dcm_snmp_name_valid(const char *s);

/* Parses one point mapping; table = true for a column (allows the column-only keys).
 * path prefixes diagnostics. OK, EINVALID (diagnostics added) or ENOMEM. */
dcm_snmp_err dcm_snmp_point_parse(const dcm_node *n, bool table, const char *path,
                                  dcm_snmp_point *out, dcm_diags *diags);
/* Parses one table mapping {name, columns}. */
dcm_snmp_err dcm_snmp_table_parse(const dcm_node *n, const char *path, dcm_snmp_table *out,
                                  dcm_diags *diags);

/* Parses a profile document / YAML text (file names it in diagnostics). */
dcm_snmp_err dcm_snmp_profile_parse(const dcm_node *root, dcm_snmp_profile **out,
                                    dcm_diags *diags);
dcm_snmp_err dcm_snmp_profile_parse_text(const char *text, size_t len, const char *file,
                                         dcm_snmp_profile **out, dcm_diags *diags);
void dcm_snmp_profile_destroy(dcm_snmp_profile *p);

/* ---------------------------------------------------- compiled-in profiles */

typedef struct dcm_snmp_embedded {
    const char *name;
    const char *text;
    size_t len;
} dcm_snmp_embedded;

size_t dcm_snmp_profile_count(void);
const dcm_snmp_embedded *dcm_snmp_profile_at(size_t i);
const dcm_snmp_embedded *dcm_snmp_profile_find(const char *name);
/* Finds and parses a compiled-in profile: OK, ENOTFOUND (diagnostic with a suggestion
 * at where/path), EINVALID or ENOMEM. */
dcm_snmp_err dcm_snmp_profile_load(const char *name, const dcm_node *where, const char *path,
                                   dcm_snmp_profile **out, dcm_diags *diags);

/* `profile: auto`: the candidates for a device whose sysObjectID.0 is sysoid, in the
 * order to try them: profiles naming a matching prefix (longest first), then profiles
 * without sysobjectid (generic MIBs) by priority. Fills idx (embedded indexes) and
 * returns the count. */
size_t dcm_snmp_auto_candidates(const dcm_snmp_profile *const *profiles, size_t n,
                                const dcm_snmp_oid *sysoid, size_t *idx, size_t cap);

#endif /* DCM_SNMP_MAP_H */
