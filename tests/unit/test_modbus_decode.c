/* Modbus value decoding: every type in every byte order from hand-written wire registers,
 * the libmodbus float vector, signed values, bit fields, scale and offset, invalid markers,
 * non-finite values, the encoder as the decoder's inverse, and thermal power. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "modbus_map.h"

static void assert_near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%.17g != %.17g", got, want);
}

static dcm_mb_point point(dcm_mb_type type, dcm_mb_order order)
{
    dcm_mb_point p;
    memset(&p, 0, sizeof p);
    p.type = type;
    p.order = order;
    p.table = DCM_MB_HOLDING;
    p.bit = -1;
    p.scale = 1.0;
    return p;
}

static double decode_ok(const dcm_mb_point *p, const uint16_t *regs, size_t n)
{
    double v = -1;
    assert_int_equal(dcm_mb_decode(p, regs, n, &v), DCM_QUALITY_OK);
    return v;
}

static void assert_invalid(const dcm_mb_point *p, const uint16_t *regs, size_t n)
{
    double v = -1;
    assert_int_equal(dcm_mb_decode(p, regs, n, &v), DCM_QUALITY_INVALID);
    assert_true(v == 0.0);
}

/* The reference vector from libmodbus's documentation: 0x4465, 0x229a in ABCD. */
static void test_float_vector(void **s)
{
    (void)s;
    dcm_mb_point p = point(DCM_MB_F32, DCM_MB_ABCD);
    const uint16_t abcd[] = {0x4465, 0x229a};
    assert_near(decode_ok(&p, abcd, 2), 916.540649, 5e-6);
    /* The same bytes as each other order puts them on the wire. */
    const uint16_t wire[4][2] = {
        {0x4465, 0x229a}, /* ABCD */
        {0x6544, 0x9a22}, /* BADC */
        {0x229a, 0x4465}, /* CDAB */
        {0x9a22, 0x6544}, /* DCBA */
    };
    for (int o = 0; o < 4; o++) {
        p.order = (dcm_mb_order)o;
        assert_near(decode_ok(&p, wire[o], 2), 916.540649, 5e-6);
    }
}

static void test_u16_i16_orders(void **s)
{
    (void)s;
    const uint16_t be[] = {0x1234}, swapped[] = {0x3412};
    const uint16_t neg_be[] = {0xFFFE}, neg_swapped[] = {0xFEFF};
    for (int o = 0; o < 4; o++) {
        bool swap = o == DCM_MB_BADC || o == DCM_MB_DCBA;
        dcm_mb_point u = point(DCM_MB_U16, (dcm_mb_order)o);
        dcm_mb_point i = point(DCM_MB_I16, (dcm_mb_order)o);
        assert_near(decode_ok(&u, swap ? swapped : be, 1), 4660.0, 0);
        assert_near(decode_ok(&i, swap ? neg_swapped : neg_be, 1), -2.0, 0);
        assert_near(decode_ok(&u, swap ? neg_swapped : neg_be, 1), 65534.0, 0);
    }
    dcm_mb_point i = point(DCM_MB_I16, DCM_MB_ABCD);
    const uint16_t min[] = {0x8000};
    assert_near(decode_ok(&i, min, 1), -32768.0, 0);
}

static void test_32bit_orders(void **s)
{
    (void)s;
    /* 0x11223344 = 287454020; 0xFFFFFFFE = -2 signed */
    const uint16_t pos[4][2] = {{0x1122, 0x3344}, {0x2211, 0x4433}, {0x3344, 0x1122},
                                {0x4433, 0x2211}};
    const uint16_t neg[4][2] = {{0xFFFF, 0xFFFE}, {0xFFFF, 0xFEFF}, {0xFFFE, 0xFFFF},
                                {0xFEFF, 0xFFFF}};
    for (int o = 0; o < 4; o++) {
        dcm_mb_point u = point(DCM_MB_U32, (dcm_mb_order)o);
        dcm_mb_point i = point(DCM_MB_I32, (dcm_mb_order)o);
        assert_near(decode_ok(&u, pos[o], 2), 287454020.0, 0);
        assert_near(decode_ok(&i, pos[o], 2), 287454020.0, 0);
        assert_near(decode_ok(&i, neg[o], 2), -2.0, 0);
        assert_near(decode_ok(&u, neg[o], 2), 4294967294.0, 0);
    }
}

static void test_64bit_orders(void **s)
{
    (void)s;
    /* 0x0011223344556677 = 4822678189205111; 0xFFFFFFFFFFFFFF9C = -100 signed */
    const uint16_t pos[4][4] = {
        {0x0011, 0x2233, 0x4455, 0x6677}, /* ABCD: words high first */
        {0x1100, 0x3322, 0x5544, 0x7766}, /* BADC: bytes swapped in words */
        {0x6677, 0x4455, 0x2233, 0x0011}, /* CDAB: word order reversed */
        {0x7766, 0x5544, 0x3322, 0x1100}, /* DCBA: fully little endian */
    };
    const uint16_t neg[4][4] = {
        {0xFFFF, 0xFFFF, 0xFFFF, 0xFF9C},
        {0xFFFF, 0xFFFF, 0xFFFF, 0x9CFF},
        {0xFF9C, 0xFFFF, 0xFFFF, 0xFFFF},
        {0x9CFF, 0xFFFF, 0xFFFF, 0xFFFF},
    };
    for (int o = 0; o < 4; o++) {
        dcm_mb_point u = point(DCM_MB_U64, (dcm_mb_order)o);
        dcm_mb_point i = point(DCM_MB_I64, (dcm_mb_order)o);
        assert_near(decode_ok(&u, pos[o], 4), 4822678189205111.0, 0);
        assert_near(decode_ok(&i, pos[o], 4), 4822678189205111.0, 0);
        assert_near(decode_ok(&i, neg[o], 4), -100.0, 0);
    }
    dcm_mb_point i = point(DCM_MB_I64, DCM_MB_ABCD);
    const uint16_t min[] = {0x8000, 0, 0, 0};
    assert_near(decode_ok(&i, min, 4), -9223372036854775808.0, 0);
}

static void test_f64_orders(void **s)
{
    (void)s;
    /* -1234.5 = 0xC0934A0000000000 */
    const uint16_t wire[4][4] = {
        {0xC093, 0x4A00, 0x0000, 0x0000},
        {0x93C0, 0x004A, 0x0000, 0x0000},
        {0x0000, 0x0000, 0x4A00, 0xC093},
        {0x0000, 0x0000, 0x004A, 0x93C0},
    };
    for (int o = 0; o < 4; o++) {
        dcm_mb_point p = point(DCM_MB_F64, (dcm_mb_order)o);
        assert_near(decode_ok(&p, wire[o], 4), -1234.5, 0);
    }
}

static void test_scale_offset_and_short_buffer(void **s)
{
    (void)s;
    dcm_mb_point p = point(DCM_MB_I16, DCM_MB_ABCD);
    p.scale = 0.1;
    p.offset = -40.0;
    const uint16_t r[] = {0x01F4}; /* 500 */
    assert_near(decode_ok(&p, r, 1), 10.0, 1e-12);
    dcm_mb_point q = point(DCM_MB_U32, DCM_MB_ABCD);
    assert_invalid(&q, r, 1); /* one register is not a u32 */
}

static void test_bit_fields(void **s)
{
    (void)s;
    dcm_mb_point p = point(DCM_MB_U16, DCM_MB_ABCD);
    const uint16_t r[] = {0x8024};
    const int want[16] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    for (int b = 0; b < 16; b++) {
        p.bit = b;
        assert_near(decode_ok(&p, r, 1), want[b], 0);
    }
    /* Byte-swapped register: 0x2480 on the wire is 0x8024. */
    p.order = DCM_MB_BADC;
    p.bit = 15;
    const uint16_t sw[] = {0x2480};
    assert_near(decode_ok(&p, sw, 1), 1.0, 0);
    dcm_mb_point c = point(DCM_MB_BOOL, DCM_MB_ABCD);
    double v = -1;
    assert_int_equal(dcm_mb_decode_bit(&c, 1, &v), DCM_QUALITY_OK);
    assert_near(v, 1.0, 0);
    assert_int_equal(dcm_mb_decode_bit(&c, 0, &v), DCM_QUALITY_OK);
    assert_near(v, 0.0, 0);
}

static void test_invalid_markers(void **s)
{
    (void)s;
    const uint16_t ff2[] = {0xFFFF, 0xFFFF};
    dcm_mb_point u = point(DCM_MB_U32, DCM_MB_ABCD);
    assert_near(decode_ok(&u, ff2, 2), 4294967295.0, 0); /* no marker: a number */
    u.invalid_all_ones = true;
    assert_invalid(&u, ff2, 2);
    const uint16_t almost[] = {0xFFFF, 0xFFFE};
    assert_near(decode_ok(&u, almost, 2), 4294967294.0, 0);

    dcm_mb_point i = point(DCM_MB_I32, DCM_MB_CDAB);
    i.invalid_max_signed = true;
    const uint16_t maxs[] = {0xFFFF, 0x7FFF}; /* CDAB: low word first */
    assert_invalid(&i, maxs, 2);
    const uint16_t other[] = {0xFFFE, 0x7FFF};
    assert_near(decode_ok(&i, other, 2), 2147483646.0, 0);

    dcm_mb_point h = point(DCM_MB_I16, DCM_MB_ABCD);
    h.invalid[h.invalid_count++] = 0x8000;
    const uint16_t m[] = {0x8000}, ok[] = {0x8001};
    assert_invalid(&h, m, 1);
    assert_near(decode_ok(&h, ok, 1), -32767.0, 0);

    dcm_mb_point w = point(DCM_MB_U64, DCM_MB_ABCD);
    w.invalid_all_ones = true;
    const uint16_t ff4[] = {0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF};
    assert_invalid(&w, ff4, 4);

    /* all-FF as a float is a NaN: invalid with or without a marker. */
    dcm_mb_point f = point(DCM_MB_F32, DCM_MB_ABCD);
    assert_invalid(&f, ff2, 2);
    const uint16_t inf[] = {0x7F80, 0x0000}, ninf[] = {0xFF80, 0x0000};
    assert_invalid(&f, inf, 2);
    assert_invalid(&f, ninf, 2);
    /* Finite raw, infinite after scaling. */
    dcm_mb_point d = point(DCM_MB_F64, DCM_MB_ABCD);
    d.scale = 1e10;
    const uint16_t big[] = {0x7FE0, 0, 0, 0}; /* 2^1023 */
    assert_invalid(&d, big, 4);
}

static void test_encode_inverts_decode(void **s)
{
    (void)s;
    static const struct {
        dcm_mb_type type;
        double value;
    } cases[] = {{DCM_MB_U16, 51234}, {DCM_MB_I16, -1234},       {DCM_MB_U32, 3000000000.0},
                 {DCM_MB_I32, -2000000000.0}, {DCM_MB_U64, 123456789012345.0},
                 {DCM_MB_I64, -98765432109876.0}, {DCM_MB_F32, 916.5406494140625},
                 {DCM_MB_F64, 0.1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (int o = 0; o < 4; o++) {
            dcm_mb_point p = point(cases[c].type, (dcm_mb_order)o);
            uint16_t regs[4] = {0};
            assert_true(dcm_mb_encode(&p, cases[c].value, regs));
            assert_near(decode_ok(&p, regs, 4), cases[c].value, 0);
        }
    }
    /* Encoding the vector's value in ABCD gives the vector's registers. */
    dcm_mb_point f = point(DCM_MB_F32, DCM_MB_ABCD);
    uint16_t regs[2];
    assert_true(dcm_mb_encode(&f, 916.540649, regs));
    assert_int_equal(regs[0], 0x4465);
    assert_int_equal(regs[1], 0x229a);
    /* Scale undone and rounded; out of range clamped. */
    dcm_mb_point u = point(DCM_MB_U16, DCM_MB_ABCD);
    u.scale = 0.01;
    assert_true(dcm_mb_encode(&u, 49.996, regs));
    assert_int_equal(regs[0], 5000);
    assert_true(dcm_mb_encode(&u, 1e9, regs));
    assert_int_equal(regs[0], 0xFFFF);
    assert_true(dcm_mb_encode(&u, -5, regs));
    assert_int_equal(regs[0], 0);
    assert_false(dcm_mb_encode(&u, NAN, regs));
    /* A bit point changes its bit only. */
    dcm_mb_point b = point(DCM_MB_U16, DCM_MB_ABCD);
    b.bit = 4;
    regs[0] = 0x8001;
    assert_true(dcm_mb_encode(&b, 1, regs));
    assert_int_equal(regs[0], 0x8011);
    assert_true(dcm_mb_encode(&b, 0, regs));
    assert_int_equal(regs[0], 0x8001);
}

static void test_raw_round_trip(void **s)
{
    (void)s;
    uint16_t regs[4];
    for (int o = 0; o < 4; o++) {
        dcm_mb_unraw(UINT64_C(0x0123456789ABCDEF), 4, (dcm_mb_order)o, regs);
        assert_true(dcm_mb_raw(regs, 4, (dcm_mb_order)o) == UINT64_C(0x0123456789ABCDEF));
    }
    dcm_mb_unraw(0x11223344u, 2, DCM_MB_CDAB, regs);
    assert_int_equal(regs[0], 0x3344);
    assert_int_equal(regs[1], 0x1122);
}

static void test_thermal_power(void **s)
{
    (void)s;
    /* 10 m3/h = 2.7778 L/s; 4.186 * 2.7778 * 5 K = 58.139 kW */
    assert_near(dcm_mb_thermal_power_kw(10.0, false, 7.0, 12.0), 4.186 * 10000.0 / 3600.0 * 5.0,
                1e-9);
    assert_near(dcm_mb_thermal_power_kw(10.0, false, 7.0, 12.0), 58.1388889, 1e-6);
    /* 2 L/s across 6 K, either direction (heating or cooling). */
    assert_near(dcm_mb_thermal_power_kw(2.0, true, 18.0, 12.0), 50.232, 1e-9);
    assert_near(dcm_mb_thermal_power_kw(2.0, true, 12.0, 18.0), 50.232, 1e-9);
}

static void test_names(void **s)
{
    (void)s;
    dcm_mb_type t;
    dcm_mb_order o;
    dcm_mb_table tb;
    assert_true(dcm_mb_type_parse("f64", &t) && t == DCM_MB_F64);
    assert_false(dcm_mb_type_parse("float", &t));
    assert_true(dcm_mb_order_parse("CDAB", &o) && o == DCM_MB_CDAB);
    assert_false(dcm_mb_order_parse("cdab", &o));
    assert_true(dcm_mb_table_parse("discrete", &tb) && tb == DCM_MB_DISCRETE);
    assert_string_equal(dcm_mb_type_name(DCM_MB_I64), "i64");
    assert_int_equal(dcm_mb_type_registers(DCM_MB_U64), 4);
    assert_int_equal(dcm_mb_type_bits(DCM_MB_I32), 32);
    assert_true(dcm_mb_name_valid("energy.l1-a_b"));
    assert_false(dcm_mb_name_valid("Energy"));
    assert_false(dcm_mb_name_valid(".x"));
    assert_false(dcm_mb_name_valid(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_vector),
        cmocka_unit_test(test_u16_i16_orders),
        cmocka_unit_test(test_32bit_orders),
        cmocka_unit_test(test_64bit_orders),
        cmocka_unit_test(test_f64_orders),
        cmocka_unit_test(test_scale_offset_and_short_buffer),
        cmocka_unit_test(test_bit_fields),
        cmocka_unit_test(test_invalid_markers),
        cmocka_unit_test(test_encode_inverts_decode),
        cmocka_unit_test(test_raw_round_trip),
        cmocka_unit_test(test_thermal_power),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
