/*
 * modbus_map.h - what a Modbus register map says: tables, value types, byte orders, points
 * and profiles (parsed from YAML with file:line:column diagnostics), the decoding of raw
 * registers into values with a quality, and the profiles compiled into the binary.
 *
 * Everything here is pure: no I/O, no threads, no globals besides the read-only table of
 * embedded profiles.
 *
 * Ownership: a dcm_mb_point owns its strings (dcm_mb_point_clear() frees them); a
 * dcm_mb_profile owns its strings and points (dcm_mb_profile_destroy()). Diagnostics go to
 * the caller's dcm_diags.
 */
#ifndef DCM_MODBUS_MAP_H
#define DCM_MODBUS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dcm/collector.h"
#include "dcm/config.h"
#include "dcm/metrics.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dcm_mb_err {
    DCM_MB_OK = 0,
    DCM_MB_EINVALID,   /* invalid profile, point or URL (see diagnostics) */
    DCM_MB_ENOTFOUND,  /* no compiled-in profile of that name */
    DCM_MB_ENOMEM,
    DCM_MB_ETIMEOUT,   /* the device did not answer in time */
    DCM_MB_EEXCEPTION, /* the device answered with a Modbus exception */
    DCM_MB_EIO,        /* socket/serial error: close and reconnect */
    DCM_MB_EBADDATA,   /* a malformed or mismatched reply: flush, keep the connection */
} dcm_mb_err;

const char *dcm_mb_strerror(dcm_mb_err err);

/* The four Modbus data tables. */
typedef enum dcm_mb_table {
    DCM_MB_HOLDING = 0, /* FC03, 16-bit registers */
    DCM_MB_INPUT,       /* FC04, 16-bit registers */
    DCM_MB_COIL,        /* FC01, bits */
    DCM_MB_DISCRETE,    /* FC02, bits */
} dcm_mb_table;
#define DCM_MB_TABLE_COUNT 4

typedef enum dcm_mb_type {
    DCM_MB_U16 = 0,
    DCM_MB_I16,
    DCM_MB_U32,
    DCM_MB_I32,
    DCM_MB_U64,
    DCM_MB_I64,
    DCM_MB_F32,
    DCM_MB_F64,
    DCM_MB_BOOL, /* one coil or discrete input */
} dcm_mb_type;

/* Byte orders, named after the big-endian bytes A (most significant) .. D of a 32-bit
 * value as they appear on the wire. 32-bit: ABCD = big endian, BADC = bytes swapped in
 * each word, CDAB = low word first, DCBA = little endian. 64-bit: ABCD = words high first,
 * CDAB = word order reversed, BADC = bytes swapped in each word, DCBA = fully little
 * endian. 16-bit: ABCD/CDAB = big endian, BADC/DCBA = bytes swapped. */
typedef enum dcm_mb_order {
    DCM_MB_ABCD = 0,
    DCM_MB_BADC,
    DCM_MB_CDAB,
    DCM_MB_DCBA,
} dcm_mb_order;

typedef enum dcm_mb_derive {
    DCM_MB_DERIVE_NONE = 0,
    /* Q[kW] = 4.186 * flow[L/s] * |t_return - t_supply| (water, ~1 kg/L) */
    DCM_MB_DERIVE_THERMAL_POWER,
} dcm_mb_derive;

#define DCM_MB_MAX_INVALID 8     /* invalid markers per point */
#define DCM_MB_MAX_REGISTERS 125 /* per read request (protocol limit) */
#define DCM_MB_MAX_BITS 2000     /* per coil/discrete read request (protocol limit) */
#define DCM_MB_DEFAULT_MAX_GAP 8

typedef struct dcm_mb_point {
    char *name;        /* [a-z0-9_.-]+, unique in its profile/device */
    char *description; /* NULL when absent */
    char *unit;        /* a unit of units.h, "count" or "bool" */
    dcm_mb_table table;
    dcm_mb_type type;
    dcm_mb_order order;
    int bit;           /* 0..15: one bit of a u16 register; -1: the whole value */
    uint16_t address;  /* 0-based protocol address (the declared addressing applied) */
    double scale;      /* value = raw * scale + offset */
    double offset;
    dcm_kind kind;
    int counter_bits;  /* wrap width of a counter: 16/32/64 (default: the integer type's
                          width), 0 = no wrap (floats) */
    double max_rate;   /* plausibility limit in the rate unit; 0 = unknown */
    /* Raw values meaning "not available", compared with the value's bits after the byte
     * order is undone (e.g. 0xFFFFFFFF for a u32). */
    uint64_t invalid[DCM_MB_MAX_INVALID];
    size_t invalid_count;
    bool invalid_all_ones;   /* every bit of the value set */
    bool invalid_max_signed; /* 0x7FFF, 0x7FFFFFFF, 0x7FFF...F */
    /* Derived points read no register (table/type/address unused). */
    dcm_mb_derive derive;
    char *flow;   /* names of the input points (derived points only) */
    char *supply;
    char *ret;
    /* Where the point was written (diagnostics after parsing). file is owned. */
    char *file;
    int line;
    int column;
} dcm_mb_point;

typedef struct dcm_mb_profile {
    char *name;        /* the file name without .yaml; `profile: NAME` selects it */
    char *description;
    char *source;      /* where the register map comes from; NULL when absent */
    int addressing;    /* 0 or 1, as declared (addresses in points are already 0-based) */
    int max_registers; /* 1..125 per request, default 125 */
    int max_gap;       /* registers that may be read over to merge, default 8 */
    dcm_mb_point *points;
    size_t point_count;
} dcm_mb_profile;

/* ------------------------------------------------------------------- names */

const char *dcm_mb_table_name(dcm_mb_table t); /* "holding", "input", "coil", "discrete" */
const char *dcm_mb_type_name(dcm_mb_type t);   /* "u16" ... "f64", "bool" */
const char *dcm_mb_order_name(dcm_mb_order o); /* "ABCD" ... */
bool dcm_mb_table_parse(const char *s, dcm_mb_table *out);
bool dcm_mb_type_parse(const char *s, dcm_mb_type *out);
bool dcm_mb_order_parse(const char *s, dcm_mb_order *out);
/* True for coils and discrete inputs. */
bool dcm_mb_table_is_bits(dcm_mb_table t);
/* Registers (or bits, for bool) one value of type t occupies: 1, 2 or 4. */
int dcm_mb_type_registers(dcm_mb_type t);
/* Width of the value in bits: 16, 32, 64 (1 for bool). */
int dcm_mb_type_bits(dcm_mb_type t);
/* Registers or bits a point reads (0 for derived points). */
int dcm_mb_point_registers(const dcm_mb_point *p);
/* Whether s is a valid point or device name: [a-z0-9_.-]+ not starting with '.'. */
bool dcm_mb_name_valid(const char *s);

/* ----------------------------------------------------------------- parsing */

/* Parses one point mapping. defaults (a mapping of point keys, or NULL) fills keys the
 * point does not set; addressing (0 or 1) is applied to `address`. path is the key path
 * for diagnostics ("points[3]"). Returns OK, EINVALID (diagnostics added, *out cleared) or
 * ENOMEM. On OK the caller owns *out (dcm_mb_point_clear()). */
dcm_mb_err dcm_mb_point_parse(const dcm_node *n, const dcm_node *defaults, int addressing,
                              const char *path, dcm_mb_point *out, dcm_diags *diags);
/* Frees what p owns and zeroes it. */
void dcm_mb_point_clear(dcm_mb_point *p);
/* Deep copy; ENOMEM on allocation failure (dst cleared). */
dcm_mb_err dcm_mb_point_copy(dcm_mb_point *dst, const dcm_mb_point *src);

/* Checks a device's point set: unique names, derived points' inputs (present, not
 * derived, flow in m3/h or L/s, temperatures in degC), and that every register point fits
 * max_registers. Errors go to d at each point's position; returns true if none. */
bool dcm_mb_check_points(const dcm_mb_point *pts, size_t n, int max_registers, dcm_diags *d);

/* The key tables of a point and of a profile document (for docs and listings). */
const dcm_config_key *dcm_mb_point_keys(void);
const dcm_config_key *dcm_mb_profile_keys(void);

/* Parses a profile document (root mapping). Checks every key, every point, duplicate
 * names, derived points' inputs, and that each point fits max_registers. */
dcm_mb_err dcm_mb_profile_parse(const dcm_node *root, dcm_mb_profile **out, dcm_diags *diags);
/* The same from YAML text; file names the document in diagnostics (for compiled-in
 * profiles: the profile name). */
dcm_mb_err dcm_mb_profile_parse_text(const char *text, size_t len, const char *file,
                                     dcm_mb_profile **out, dcm_diags *diags);
void dcm_mb_profile_destroy(dcm_mb_profile *p);

/* ---------------------------------------------------------------- decoding */

/* Decodes a register point from its registers (regs[0] = the register at p->address;
 * nregs must be >= dcm_mb_point_registers(p)). Applies byte order, bit, invalid markers,
 * scale and offset. Returns OK with *value set, or INVALID (*value = 0) for an invalid
 * marker, a non-finite float or a result that is not finite. */
dcm_quality dcm_mb_decode(const dcm_mb_point *p, const uint16_t *regs, size_t nregs,
                          double *value);
/* Decodes a coil or discrete input (bit = 0 or 1): scale and offset applied. */
dcm_quality dcm_mb_decode_bit(const dcm_mb_point *p, uint8_t bit, double *value);
/* The value's bits after the byte order is undone: registers in wire order -> the
 * big-endian integer (16, 32 or 64 bits, right-aligned). */
uint64_t dcm_mb_raw(const uint16_t *regs, int nregs, dcm_mb_order order);
/* The inverse (for simulators and tests): the wire registers of raw in order. */
void dcm_mb_unraw(uint64_t raw, int nregs, dcm_mb_order order, uint16_t *regs);
/* Encodes an engineering value into p's wire registers (inverse of dcm_mb_decode: offset
 * and scale undone, integers rounded and clamped to the type's range, byte order
 * applied). regs must hold dcm_mb_point_registers(p) entries; a bit point sets or clears
 * its bit in regs[0], leaving the others. Returns false for a derived or bool point or a
 * non-finite value. */
bool dcm_mb_encode(const dcm_mb_point *p, double value, uint16_t *regs);

/* Thermal power in kW of water flowing at flow (m3/h when flow_is_ls is false, else L/s)
 * between the supply and return temperatures (degC). */
double dcm_mb_thermal_power_kw(double flow, bool flow_is_ls, double t_supply,
                               double t_return);

/* ------------------------------------------------------ compiled-in profiles */

typedef struct dcm_mb_embedded {
    const char *name; /* file name without .yaml */
    const char *text; /* the YAML, NUL-terminated */
    size_t len;
} dcm_mb_embedded;

/* The profiles compiled into the binary, sorted by name: 0 <= i < dcm_mb_profile_count(). */
size_t dcm_mb_profile_count(void);
const dcm_mb_embedded *dcm_mb_profile_at(size_t i);
/* The embedded profile called name, or NULL. */
const dcm_mb_embedded *dcm_mb_profile_find(const char *name);
/* Finds and parses a compiled-in profile: OK, ENOTFOUND (a diagnostic with a suggestion
 * is added, placed at where, which may be NULL), EINVALID or ENOMEM. */
dcm_mb_err dcm_mb_profile_load(const char *name, const dcm_node *where, dcm_mb_profile **out,
                               dcm_diags *diags);
/* The same, with the key path of `where` for the diagnostic ("collectors[2].profile"). */
dcm_mb_err dcm_mb_profile_load_at(const char *name, const dcm_node *where, const char *path,
                                  dcm_mb_profile **out, dcm_diags *diags);

#ifdef __cplusplus
}
#endif
#endif /* DCM_MODBUS_MAP_H */
