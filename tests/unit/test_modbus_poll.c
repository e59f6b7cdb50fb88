/* The device poller against a scripted fake transport: decoding through merged requests,
 * the exception split (offending point found, marked invalid, split remembered), gaps a
 * device refuses to be read over, timeouts (flush, stop early), socket errors (close, one
 * connection attempt per poll), invalid markers, derived thermal power, health counters
 * and the per-device backoff. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modbus_poll.h"

static void assert_near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("%.17g != %.17g", got, want);
}

/* ------------------------------------------------------------ the fake */

#define SPACE 256

typedef struct fake_req {
    int unit;
    dcm_mb_table table;
    uint16_t start, count;
} fake_req;

typedef struct fake {
    uint16_t regs[2][SPACE]; /* holding, input */
    uint8_t bits[2][SPACE];  /* coils, discrete */
    bool illegal[2][SPACE];  /* register addresses the device refuses */
    bool dead[256];          /* units that never answer */
    dcm_mb_err script[16];   /* results forced on the next reads, in order */
    size_t script_n, script_pos;
    bool connect_fails;
    bool connected;
    int connects, closes, flushes;
    fake_req log[128];
    size_t log_n;
    int splits, refusals;
    size_t last_refused;
} fake;

static dcm_mb_err f_connect(void *io)
{
    fake *f = io;
    f->connects++;
    if (f->connect_fails)
        return DCM_MB_EIO;
    f->connected = true;
    return DCM_MB_OK;
}

static void f_close(void *io)
{
    fake *f = io;
    f->closes++;
    f->connected = false;
}

static void f_flush(void *io) { ((fake *)io)->flushes++; }

static const char *f_error(void *io)
{
    (void)io;
    return "scripted";
}

static dcm_mb_err common(fake *f, int unit, dcm_mb_table t, uint16_t addr, uint16_t count)
{
    if (f->log_n < sizeof f->log / sizeof f->log[0])
        f->log[f->log_n++] = (fake_req){unit, t, addr, count};
    if (!f->connected)
        return DCM_MB_EIO;
    if (f->script_pos < f->script_n) {
        dcm_mb_err e = f->script[f->script_pos++];
        if (e != DCM_MB_OK)
            return e;
    }
    if (f->dead[unit])
        return DCM_MB_ETIMEOUT;
    if ((unsigned)addr + count > SPACE)
        return DCM_MB_EEXCEPTION;
    return DCM_MB_OK;
}

static dcm_mb_err f_read_registers(void *io, int unit, dcm_mb_table t, uint16_t addr,
                                   uint16_t count, uint16_t *out)
{
    fake *f = io;
    dcm_mb_err e = common(f, unit, t, addr, count);
    if (e != DCM_MB_OK)
        return e;
    int tb = t == DCM_MB_INPUT;
    for (unsigned i = 0; i < count; i++)
        if (f->illegal[tb][addr + i])
            return DCM_MB_EEXCEPTION;
    memcpy(out, &f->regs[tb][addr], count * sizeof *out);
    return DCM_MB_OK;
}

static dcm_mb_err f_read_bits(void *io, int unit, dcm_mb_table t, uint16_t addr, uint16_t count,
                              uint8_t *out)
{
    fake *f = io;
    dcm_mb_err e = common(f, unit, t, addr, count);
    if (e != DCM_MB_OK)
        return e;
    memcpy(out, &f->bits[t == DCM_MB_DISCRETE][addr], count);
    return DCM_MB_OK;
}

static const dcm_mb_transport_ops fake_ops = {
    .connect = f_connect,
    .close = f_close,
    .flush = f_flush,
    .read_registers = f_read_registers,
    .read_bits = f_read_bits,
    .last_error = f_error,
};

static void on_split(void *ud, const dcm_mb_device *dev, const dcm_mb_request *req,
                     const char *why)
{
    (void)dev;
    (void)req;
    assert_non_null(strstr(why, "exception"));
    ((fake *)ud)->splits++;
}

static void on_refused(void *ud, const dcm_mb_device *dev, size_t point, const char *why)
{
    (void)dev;
    (void)why;
    fake *f = ud;
    f->refusals++;
    f->last_refused = point;
}

static fake *new_fake(dcm_mb_bus *bus)
{
    fake *f = calloc(1, sizeof *f);
    assert_non_null(f);
    dcm_mb_bus_init(bus, &fake_ops, f);
    bus->events = (dcm_mb_events){.ud = f, .split = on_split, .refused = on_refused};
    return f;
}

static void script(fake *f, size_t n, const dcm_mb_err *e)
{
    memcpy(f->script, e, n * sizeof *e);
    f->script_n = n;
    f->script_pos = 0;
}

/* --------------------------------------------------------------- points */

static dcm_mb_point pt(const char *name, dcm_mb_table table, dcm_mb_type type, uint16_t address,
                       const char *unit)
{
    dcm_mb_point p;
    memset(&p, 0, sizeof p);
    p.name = strdup(name);
    p.unit = strdup(unit);
    assert_non_null(p.name);
    assert_non_null(p.unit);
    p.table = table;
    p.type = type;
    p.address = address;
    p.bit = -1;
    p.scale = 1;
    return p;
}

/* The device takes the array over. */
static void make_device(dcm_mb_device *dev, int unit, dcm_mb_point *pts, size_t n, int maxreg)
{
    dcm_mb_point *own = malloc(n * sizeof *own);
    assert_non_null(own);
    memcpy(own, pts, n * sizeof *own);
    assert_int_equal(dcm_mb_device_init(dev, NULL, unit, own, n, maxreg, 8), DCM_MB_OK);
}

static void poll_once(dcm_mb_bus *bus, dcm_mb_device *dev, dcm_mb_outcome want)
{
    dcm_mb_bus_begin_poll(bus);
    assert_int_equal(dcm_mb_device_poll(bus, dev), want);
}

/* ---------------------------------------------------------------- tests */

static void test_merged_read_decodes(void **s)
{
    (void)s;
    dcm_mb_bus bus;
    fake *f = new_fake(&bus);
    f->regs[1][0] = 0x4465; /* f32 916.540649 */
    f->regs[1][1] = 0x229a;
    f->regs[1][2] = 0x0001; /* u32 CDAB 0x00020001 = 131073 */
    f->regs[1][3] = 0x0002;
    f->regs[1][6] = 0xFFFE; /* i16 -2, scaled 0.5 */
    f->bits[0][3] = 1;
    dcm_mb_point p[] = {pt("power", DCM_MB_INPUT, DCM_MB_F32, 0, "W"),
                        pt("energy", DCM_MB_INPUT, DCM_MB_U32, 2, "kWh"),
                        pt("temp", DCM_MB_INPUT, DCM_MB_I16, 6, "degC"),
                        pt("alarm", DCM_MB_COIL, DCM_MB_BOOL, 3, "bool")};
    p[1].order = DCM_MB_CDAB;
    p[1].kind = DCM_KIND_COUNTER;
    p[2].scale = 0.5;
    dcm_mb_device dev;
    make_device(&dev, 5, p, 4, 125);
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    /* Two requests: input 0..6 and the coil; every request names unit 5. */
    assert_int_equal(f->log_n, 2);
    assert_int_equal(f->log[0].unit, 5);
    assert_int_equal(f->log[0].table, DCM_MB_INPUT);
    assert_int_equal(f->log[0].start, 0);
    assert_int_equal(f->log[0].count, 7);
    assert_int_equal(f->log[1].table, DCM_MB_COIL);
    assert_near(dev.values[0], 916.540649, 5e-6);
    assert_near(dev.values[1], 131073.0, 0);
    assert_near(dev.values[2], -1.0, 0);
    assert_near(dev.values[3], 1.0, 0);
    for (int i = 0; i < 4; i++) {
        assert_true(dev.fresh[i]);
        assert_int_equal(dev.quality[i], DCM_QUALITY_OK);
    }
    assert_true(dev.up);
    assert_int_equal(dev.errors, 0);
    assert_int_equal(f->connects, 1);
    dcm_mb_device_free(&dev);
    free(f);
}

static void test_exception_split(void **s)
{
    (void)s;
    dcm_mb_bus bus;
    fake *f = new_fake(&bus);
    f->regs[0][10] = 100;
    f->regs[0][11] = 200;
    f->regs[0][12] = 300;
    f->illegal[0][11] = true;
    dcm_mb_point p[] = {pt("a", DCM_MB_HOLDING, DCM_MB_U16, 10, "V"),
                        pt("b", DCM_MB_HOLDING, DCM_MB_U16, 11, "V"),
                        pt("c", DCM_MB_HOLDING, DCM_MB_U16, 12, "V")};
    dcm_mb_device dev;
    make_device(&dev, 1, p, 3, 125);
    assert_int_equal(dev.plan.request_count, 1);
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    /* The merged request, then each point once. */
    assert_int_equal(f->log_n, 4);
    assert_int_equal(f->log[0].count, 3);
    for (size_t i = 1; i < 4; i++) {
        assert_int_equal(f->log[i].start, 10 + (i - 1));
        assert_int_equal(f->log[i].count, 1);
    }
    assert_near(dev.values[0], 100, 0);
    assert_int_equal(dev.quality[0], DCM_QUALITY_OK);
    assert_int_equal(dev.quality[1], DCM_QUALITY_INVALID);
    assert_true(dev.fresh[1]);
    assert_near(dev.values[2], 300, 0);
    assert_int_equal(f->splits, 1);
    assert_int_equal(f->refusals, 1);
    assert_int_equal(f->last_refused, 1);
    assert_int_equal(dev.errors, 2); /* the merged request and the offending point */
    assert_true(dev.up);             /* an exception is an answer */
    /* Remembered: the next poll reads point by point, with no merged request at all. */
    assert_int_equal(dev.plan.request_count, 3);
    f->log_n = 0;
    f->regs[0][12] = 301;
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    assert_int_equal(f->log_n, 3);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(f->log[i].count, 1);
    assert_near(dev.values[2], 301, 0);
    assert_int_equal(dev.quality[1], DCM_QUALITY_INVALID);
    assert_int_equal(f->splits, 1);
    assert_int_equal(f->refusals, 1); /* said once */
    assert_int_equal(dev.errors, 3);
    /* The device starts answering the point: it flows again. */
    f->illegal[0][11] = false;
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    assert_int_equal(dev.quality[1], DCM_QUALITY_OK);
    assert_near(dev.values[1], 200, 0);
    dcm_mb_device_free(&dev);
    free(f);
}

static void test_refused_gap(void **s)
{
    (void)s;
    /* Points at 0 and 4; 1..3 are holes the device refuses to be read over. */
    dcm_mb_bus bus;
    fake *f = new_fake(&bus);
    f->regs[0][0] = 7;
    f->regs[0][4] = 9;
    for (int a = 1; a <= 3; a++)
        f->illegal[0][a] = true;
    dcm_mb_point p[] = {pt("a", DCM_MB_HOLDING, DCM_MB_U16, 0, "A"),
                        pt("b", DCM_MB_HOLDING, DCM_MB_U16, 4, "A")};
    dcm_mb_device dev;
    make_device(&dev, 1, p, 2, 125);
    assert_int_equal(dev.plan.request_count, 1);
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    assert_near(dev.values[0], 7, 0);
    assert_near(dev.values[1], 9, 0);
    assert_int_equal(dev.quality[0], DCM_QUALITY_OK);
    assert_int_equal(dev.quality[1], DCM_QUALITY_OK);
    assert_int_equal(f->refusals, 0);
    assert_int_equal(dev.plan.request_count, 2);
    f->log_n = 0;
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    assert_int_equal(f->log_n, 2); /* no more exceptions */
    assert_int_equal(dev.errors, 1);
    dcm_mb_device_free(&dev);
    free(f);
}

static void test_timeouts(void **s)
{
    (void)s;
    dcm_mb_bus bus;
    fake *f = new_fake(&bus);
    dcm_mb_point p[] = {pt("a", DCM_MB_HOLDING, DCM_MB_U16, 0, "V"),
                        pt("b", DCM_MB_HOLDING, DCM_MB_U16, 50, "V"),
                        pt("c", DCM_MB_HOLDING, DCM_MB_U16, 100, "V"),
                        pt("d", DCM_MB_HOLDING, DCM_MB_U16, 150, "V")};
    dcm_mb_device dev;
    make_device(&dev, 3, p, 4, 125);
    assert_int_equal(dev.plan.request_count, 4);
    /* A dead device: the first request times out and the poll stops there. */
    f->dead[3] = true;
    poll_once(&bus, &dev, DCM_MB_DOWN);
    assert_int_equal(f->log_n, 1);
    assert_int_equal(f->flushes, 1);
    assert_int_equal(dev.timeouts, 1);
    assert_int_equal(dev.errors, 0);
    assert_false(dev.up);
    assert_false(dev.fresh[1]);
    assert_int_equal(dev.consecutive_failures, 1);
    assert_non_null(strstr(dev.last_error, "no answer"));
    /* Alive, but one request unanswered: flushed, its point invalid, the others read. */
    f->dead[3] = false;
    f->log_n = 0;
    const dcm_mb_err one[] = {DCM_MB_OK, DCM_MB_ETIMEOUT};
    script(f, 2, one);
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    assert_int_equal(f->log_n, 4);
    assert_int_equal(f->flushes, 2);
    assert_int_equal(dev.quality[0], DCM_QUALITY_OK);
    assert_int_equal(dev.quality[1], DCM_QUALITY_INVALID);
    assert_int_equal(dev.quality[2], DCM_QUALITY_OK);
    assert_int_equal(dev.consecutive_failures, 0);
    /* A timeout, then a malformed reply (a late answer to an earlier request): the
     * timeout is flushed, the bad reply closes the connection - more late answers may
     * follow, and a flush would leave every later request reading its predecessor's
     * reply - and the rest of the poll is given up. */
    f->log_n = 0;
    const dcm_mb_err two[] = {DCM_MB_OK, DCM_MB_ETIMEOUT, DCM_MB_EBADDATA};
    script(f, 3, two);
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    assert_int_equal(f->log_n, 3);
    assert_int_equal(f->flushes, 3);
    assert_false(dev.fresh[3]);
    assert_int_equal(dev.timeouts, 3);
    assert_int_equal(dev.errors, 1); /* the malformed reply */
    assert_int_equal(f->closes, 1);  /* reconnect on the next request */
    dcm_mb_device_free(&dev);
    free(f);
}

static void test_socket_error_and_reconnect(void **s)
{
    (void)s;
    dcm_mb_bus bus;
    fake *f = new_fake(&bus);
    dcm_mb_point pa[] = {pt("a", DCM_MB_HOLDING, DCM_MB_U16, 0, "V")};
    dcm_mb_point pb[] = {pt("b", DCM_MB_HOLDING, DCM_MB_U16, 0, "V")};
    dcm_mb_device a, b;
    make_device(&a, 1, pa, 1, 125);
    make_device(&b, 2, pb, 1, 125);
    /* The connection breaks under device a: closed, and b does not reconnect in the same
     * poll. */
    const dcm_mb_err broken[] = {DCM_MB_EIO};
    script(f, 1, broken);
    dcm_mb_bus_begin_poll(&bus);
    assert_int_equal(dcm_mb_device_poll(&bus, &a), DCM_MB_DOWN);
    assert_int_equal(dcm_mb_device_poll(&bus, &b), DCM_MB_DOWN);
    assert_int_equal(f->closes, 1);
    assert_int_equal(f->connects, 1);
    assert_false(bus.connected);
    assert_int_equal(a.errors, 1);
    assert_int_equal(b.errors, 1);
    /* Next poll: one reconnect serves both. */
    dcm_mb_bus_begin_poll(&bus);
    assert_int_equal(dcm_mb_device_poll(&bus, &a), DCM_MB_ANSWERED);
    assert_int_equal(dcm_mb_device_poll(&bus, &b), DCM_MB_ANSWERED);
    assert_int_equal(f->connects, 2);
    /* A gateway that refuses connections: one attempt per poll, everything down. */
    dcm_mb_bus_close(&bus);
    f->connect_fails = true;
    dcm_mb_bus_begin_poll(&bus);
    assert_int_equal(dcm_mb_device_poll(&bus, &a), DCM_MB_DOWN);
    assert_int_equal(dcm_mb_device_poll(&bus, &b), DCM_MB_DOWN);
    assert_int_equal(f->connects, 3);
    assert_non_null(strstr(b.last_error, "cannot connect"));
    dcm_mb_device_free(&a);
    dcm_mb_device_free(&b);
    free(f);
}

static void test_invalid_marker_and_counter(void **s)
{
    (void)s;
    dcm_mb_bus bus;
    fake *f = new_fake(&bus);
    f->regs[0][0] = 0xFFFF;
    f->regs[0][1] = 0xFFFF;
    f->regs[0][2] = 0x0000;
    f->regs[0][3] = 0x0010;
    dcm_mb_point p[] = {pt("power", DCM_MB_HOLDING, DCM_MB_U32, 0, "W"),
                        pt("energy", DCM_MB_HOLDING, DCM_MB_U32, 2, "kWh")};
    p[0].invalid_all_ones = true;
    p[1].kind = DCM_KIND_COUNTER;
    p[1].counter_bits = 32;
    p[1].scale = 0.01;
    dcm_mb_device dev;
    make_device(&dev, 1, p, 2, 125);
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    assert_int_equal(dev.quality[0], DCM_QUALITY_INVALID);
    assert_near(dev.values[0], 0, 0);
    assert_int_equal(dev.quality[1], DCM_QUALITY_OK);
    assert_near(dev.values[1], 0.16, 1e-12);
    dcm_mb_device_free(&dev);
    free(f);
}

static void test_derived_thermal_power(void **s)
{
    (void)s;
    dcm_mb_bus bus;
    fake *f = new_fake(&bus);
    dcm_mb_point p[] = {pt("flow", DCM_MB_INPUT, DCM_MB_U16, 0, "m3/h"),
                        pt("t.supply", DCM_MB_INPUT, DCM_MB_I16, 1, "degC"),
                        pt("t.return", DCM_MB_INPUT, DCM_MB_I16, 2, "degC"),
                        pt("cooling", DCM_MB_INPUT, DCM_MB_U16, 0, "kW")};
    p[0].scale = 0.1;
    p[1].scale = 0.1;
    p[2].scale = 0.1;
    p[3].derive = DCM_MB_DERIVE_THERMAL_POWER;
    p[3].flow = strdup("flow");
    p[3].supply = strdup("t.supply");
    p[3].ret = strdup("t.return");
    f->regs[1][0] = 360; /* 36.0 m3/h = 10 L/s */
    f->regs[1][1] = 70;  /* 7.0 degC */
    f->regs[1][2] = 120; /* 12.0 degC */
    dcm_mb_device dev;
    make_device(&dev, 1, p, 4, 125);
    assert_int_equal(dev.plan.request_count, 1);
    assert_int_equal(dev.plan.requests[0].n, 3);
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    assert_true(dev.fresh[3]);
    assert_int_equal(dev.quality[3], DCM_QUALITY_OK);
    assert_near(dev.values[3], 4.186 * 10.0 * 5.0, 1e-9); /* 209.3 kW */
    /* An invalid input makes the derived value invalid. */
    dev.points[1].invalid_all_ones = true;
    f->regs[1][1] = 0xFFFF;
    poll_once(&bus, &dev, DCM_MB_ANSWERED);
    assert_int_equal(dev.quality[3], DCM_QUALITY_INVALID);
    dcm_mb_device_free(&dev);
    free(f);
    /* A derived point whose input is missing cannot be set up. */
    dcm_mb_point q[] = {pt("flow", DCM_MB_INPUT, DCM_MB_U16, 0, "m3/h"),
                        pt("cooling", DCM_MB_INPUT, DCM_MB_U16, 0, "kW")};
    q[1].derive = DCM_MB_DERIVE_THERMAL_POWER;
    q[1].flow = strdup("flow");
    q[1].supply = strdup("nope");
    q[1].ret = strdup("flow");
    dcm_mb_point *own = malloc(sizeof q);
    assert_non_null(own);
    memcpy(own, q, sizeof q);
    assert_int_equal(dcm_mb_device_init(&dev, NULL, 1, own, 2, 125, 8), DCM_MB_EINVALID);
}

static void test_device_backoff(void **s)
{
    (void)s;
    const int64_t iv = 1000000000; /* 1 s */
    dcm_mb_device dev;
    memset(&dev, 0, sizeof dev);
    assert_true(dcm_mb_device_due(&dev, 0));
    /* One failure: asked again at the next poll. */
    dev.consecutive_failures = 1;
    dcm_mb_device_schedule(&dev, 0, iv, 60 * iv);
    assert_true(dcm_mb_device_due(&dev, iv));
    /* k failures: 2^(k-1) - 1 polls skipped. */
    dev.consecutive_failures = 2;
    dcm_mb_device_schedule(&dev, 0, iv, 60 * iv);
    assert_false(dcm_mb_device_due(&dev, iv));
    assert_true(dcm_mb_device_due(&dev, 2 * iv));
    dev.consecutive_failures = 4;
    dcm_mb_device_schedule(&dev, 0, iv, 60 * iv);
    assert_false(dcm_mb_device_due(&dev, 7 * iv));
    assert_true(dcm_mb_device_due(&dev, 8 * iv));
    /* Capped. */
    dev.consecutive_failures = 40;
    dcm_mb_device_schedule(&dev, 0, iv, 60 * iv);
    assert_false(dcm_mb_device_due(&dev, 59 * iv));
    assert_true(dcm_mb_device_due(&dev, 60 * iv));
    /* Recovery clears it. */
    dev.consecutive_failures = 0;
    dcm_mb_device_schedule(&dev, 0, iv, 60 * iv);
    assert_true(dcm_mb_device_due(&dev, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merged_read_decodes),
        cmocka_unit_test(test_exception_split),
        cmocka_unit_test(test_refused_gap),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_socket_error_and_reconnect),
        cmocka_unit_test(test_invalid_marker_and_counter),
        cmocka_unit_test(test_derived_thermal_power),
        cmocka_unit_test(test_device_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
