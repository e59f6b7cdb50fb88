/* Names of the map's enums, and the decoding of raw registers into values (and back, for
 * simulators and tests). Byte orders are undone here rather than with libmodbus's float
 * helpers, whose byte order changed between releases. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "modbus_map.h"

const char *dcm_mb_strerror(dcm_mb_err err)
{
    switch (err) {
    case DCM_MB_OK: return "ok";
    case DCM_MB_EINVALID: return "invalid Modbus map";
    case DCM_MB_ENOTFOUND: return "no such profile";
    case DCM_MB_ENOMEM: return "out of memory";
    case DCM_MB_ETIMEOUT: return "no answer in time";
    case DCM_MB_EEXCEPTION: return "Modbus exception";
    case DCM_MB_EIO: return "connection error";
    case DCM_MB_EBADDATA: return "malformed reply";
    }
    return "unknown error";
}

static const char *const table_names[] = {"holding", "input", "coil", "discrete"};
static const char *const type_names[] = {"u16", "i16", "u32", "i32", "u64",
                                         "i64", "f32", "f64", "bool"};
static const char *const order_names[] = {"ABCD", "BADC", "CDAB", "DCBA"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *dcm_mb_table_name(dcm_mb_table t)
{
    return (unsigned)t < COUNT(table_names) ? table_names[t] : "?";
}

const char *dcm_mb_type_name(dcm_mb_type t)
{
    return (unsigned)t < COUNT(type_names) ? type_names[t] : "?";
}

const char *dcm_mb_order_name(dcm_mb_order o)
{
    return (unsigned)o < COUNT(order_names) ? order_names[o] : "?";
}

static bool find_name(const char *s, const char *const *names, size_t n, int *out)
{
    if (!s)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (int)i;
            return true;
        }
    }
    return false;
}

bool dcm_mb_table_parse(const char *s, dcm_mb_table *out)
{
    int v;
    if (!find_name(s, table_names, COUNT(table_names), &v))
        return false;
    *out = (dcm_mb_table)v;
    return true;
}

bool dcm_mb_type_parse(const char *s, dcm_mb_type *out)
{
    int v;
    if (!find_name(s, type_names, COUNT(type_names), &v))
        return false;
    *out = (dcm_mb_type)v;
    return true;
}

bool dcm_mb_order_parse(const char *s, dcm_mb_order *out)
{
    int v;
    if (!find_name(s, order_names, COUNT(order_names), &v))
        return false;
    *out = (dcm_mb_order)v;
    return true;
}

bool dcm_mb_table_is_bits(dcm_mb_table t) { return t == DCM_MB_COIL || t == DCM_MB_DISCRETE; }

int dcm_mb_type_registers(dcm_mb_type t)
{
    switch (t) {
    case DCM_MB_U32:
    case DCM_MB_I32:
    case DCM_MB_F32: return 2;
    case DCM_MB_U64:
    case DCM_MB_I64:
    case DCM_MB_F64: return 4;
    default: return 1;
    }
}

int dcm_mb_type_bits(dcm_mb_type t)
{
    return t == DCM_MB_BOOL ? 1 : 16 * dcm_mb_type_registers(t);
}

int dcm_mb_point_registers(const dcm_mb_point *p)
{
    if (p->derive != DCM_MB_DERIVE_NONE)
        return 0;
    return dcm_mb_type_registers(p->type);
}

bool dcm_mb_name_valid(const char *s)
{
    if (!s || !s[0] || s[0] == '.')
        return false;
    for (const char *c = s; *c; c++) {
        bool ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
                  *c == '.' || *c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- decoding */

static uint16_t swap16(uint16_t v) { return (uint16_t)((v << 8) | (v >> 8)); }

/* CDAB and DCBA put the low word first; BADC and DCBA swap the bytes of each word. For
 * one register only the byte swap means anything. */
static bool words_reversed(dcm_mb_order o) { return o == DCM_MB_CDAB || o == DCM_MB_DCBA; }
static bool bytes_swapped(dcm_mb_order o) { return o == DCM_MB_BADC || o == DCM_MB_DCBA; }

uint64_t dcm_mb_raw(const uint16_t *regs, int nregs, dcm_mb_order order)
{
    uint64_t raw = 0;
    for (int i = 0; i < nregs; i++) {
        uint16_t w = regs[words_reversed(order) ? nregs - 1 - i : i];
        if (bytes_swapped(order))
            w = swap16(w);
        raw = (raw << 16) | w;
    }
    return raw;
}

void dcm_mb_unraw(uint64_t raw, int nregs, dcm_mb_order order, uint16_t *regs)
{
    for (int i = nregs - 1; i >= 0; i--) {
        uint16_t w = (uint16_t)(raw & 0xFFFFu);
        raw >>= 16;
        if (bytes_swapped(order))
            w = swap16(w);
        regs[words_reversed(order) ? nregs - 1 - i : i] = w;
    }
}

static uint64_t width_mask(int bits)
{
    return bits >= 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
}

static bool is_invalid_marker(const dcm_mb_point *p, uint64_t raw, int bits)
{
    uint64_t mask = width_mask(bits);
    if (p->invalid_all_ones && raw == mask)
        return true;
    if (p->invalid_max_signed && raw == mask >> 1)
        return true;
    for (size_t i = 0; i < p->invalid_count; i++)
        if (raw == (p->invalid[i] & mask))
            return true;
    return false;
}

/* Two's complement reinterpretation without relying on implementation-defined casts. */
static double signed_value(uint64_t raw, int bits)
{
    uint64_t sign = UINT64_C(1) << (bits - 1);
    if (!(raw & sign))
        return (double)raw;
    uint64_t magnitude = (~raw + 1) & width_mask(bits);
    /* The most negative value's magnitude is 2^(bits-1), exact in a double. */
    return magnitude == 0 ? -ldexp(1.0, bits - 1) : -(double)magnitude;
}

static double raw_value(dcm_mb_type type, uint64_t raw)
{
    switch (type) {
    case DCM_MB_I16: return signed_value(raw, 16);
    case DCM_MB_I32: return signed_value(raw, 32);
    case DCM_MB_I64: return signed_value(raw, 64);
    case DCM_MB_F32: {
        uint32_t u = (uint32_t)raw;
        float f;
        memcpy(&f, &u, sizeof f);
        return (double)f;
    }
    case DCM_MB_F64: {
        double d;
        memcpy(&d, &raw, sizeof d);
        return d;
    }
    default: return (double)raw;
    }
}

static dcm_quality finish(const dcm_mb_point *p, double v, double *value)
{
    *value = 0;
    if (!isfinite(v))
        return DCM_QUALITY_INVALID;
    double out = v * p->scale + p->offset;
    if (!isfinite(out))
        return DCM_QUALITY_INVALID;
    *value = out;
    return DCM_QUALITY_OK;
}

dcm_quality dcm_mb_decode(const dcm_mb_point *p, const uint16_t *regs, size_t nregs,
                          double *value)
{
    *value = 0;
    int n = dcm_mb_point_registers(p);
    if (n == 0 || p->type == DCM_MB_BOOL || !regs || nregs < (size_t)n)
        return DCM_QUALITY_INVALID;
    uint64_t raw = dcm_mb_raw(regs, n, p->order);
    if (is_invalid_marker(p, raw, 16 * n))
        return DCM_QUALITY_INVALID;
    if (p->bit >= 0)
        return finish(p, (double)((raw >> p->bit) & 1u), value);
    return finish(p, raw_value(p->type, raw), value);
}

dcm_quality dcm_mb_decode_bit(const dcm_mb_point *p, uint8_t bit, double *value)
{
    return finish(p, bit ? 1.0 : 0.0, value);
}

/* ---------------------------------------------------------------- encoding */

static uint64_t encode_int(double v, dcm_mb_type type)
{
    int bits = dcm_mb_type_bits(type);
    bool is_signed = type == DCM_MB_I16 || type == DCM_MB_I32 || type == DCM_MB_I64;
    double r = nearbyint(v);
    /* Bounds as doubles: 2^63 and 2^64 are exact, so "r >= hi" catches every overflow. */
    double lo = is_signed ? -ldexp(1.0, bits - 1) : 0.0;
    double hi = is_signed ? ldexp(1.0, bits - 1) : ldexp(1.0, bits);
    if (r < lo)
        r = lo;
    if (r >= hi)
        return is_signed ? width_mask(bits) >> 1 : width_mask(bits);
    if (r >= 0)
        return (uint64_t)r & width_mask(bits);
    uint64_t magnitude = (uint64_t)(-r);
    return (~magnitude + 1) & width_mask(bits);
}

bool dcm_mb_encode(const dcm_mb_point *p, double value, uint16_t *regs)
{
    int n = dcm_mb_point_registers(p);
    if (n == 0 || p->type == DCM_MB_BOOL || !isfinite(value) || p->scale == 0)
        return false;
    double v = (value - p->offset) / p->scale;
    if (!isfinite(v))
        return false;
    uint64_t raw;
    if (p->bit >= 0) {
        raw = dcm_mb_raw(regs, 1, p->order);
        if (nearbyint(v) != 0)
            raw |= UINT64_C(1) << p->bit;
        else
            raw &= ~(UINT64_C(1) << p->bit);
    } else if (p->type == DCM_MB_F32) {
        if (fabs(v) > FLT_MAX)
            return false;
        float f = (float)v;
        uint32_t u;
        memcpy(&u, &f, sizeof u);
        raw = u;
    } else if (p->type == DCM_MB_F64) {
        memcpy(&raw, &v, sizeof raw);
    } else {
        raw = encode_int(v, p->type);
    }
    dcm_mb_unraw(raw, n, p->order, regs);
    return true;
}

double dcm_mb_thermal_power_kw(double flow, bool flow_is_ls, double t_supply, double t_return)
{
    /* Water: c_p 4.186 kJ/(kg K) and about 1 kg per litre, so kW = 4.186 * L/s * K. */
    double litres_per_s = flow_is_ls ? flow : flow * 1000.0 / 3600.0;
    return 4.186 * litres_per_s * fabs(t_return - t_supply);
}
