/* The instance URL, and the libmodbus link behind the transport seam. libmodbus's own
 * link recovery is left off (it retries close/connect in a loop and can stall a worker for
 * seconds): the poller flushes after timeouts and bad replies and reconnects after socket
 * errors itself. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include <modbus.h>

#include "modbus_conn.h"

/* ------------------------------------------------------------------- URLs */

static bool fail_why(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool fail_why(char *why, size_t size, const char *fmt, ...)
{
    if (why && size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool parse_int(const char *s, size_t len, long lo, long hi, int *out)
{
    if (len == 0 || len > 9)
        return false;
    long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    if (v < lo || v > hi)
        return false;
    *out = (int)v;
    return true;
}

static bool parse_tcp(const char *rest, dcm_mb_url *out, char *why, size_t why_size)
{
    const char *host = rest, *host_end, *port = NULL;
    if (rest[0] == '[') {
        host = rest + 1;
        host_end = strchr(host, ']');
        if (!host_end)
            return fail_why(why, why_size, "missing ']' after the IPv6 address in '%s'", rest);
        if (host_end[1] == ':')
            port = host_end + 2;
        else if (host_end[1] != '\0')
            return fail_why(why, why_size, "expected ':PORT' after ']' in '%s'", rest);
    } else {
        host_end = strchr(host, ':');
        if (host_end) {
            if (strchr(host_end + 1, ':'))
                return fail_why(why, why_size,
                                "write an IPv6 address in brackets: tcp://[%s]:502", rest);
            port = host_end + 1;
        } else {
            host_end = host + strlen(host);
        }
    }
    size_t hlen = (size_t)(host_end - host);
    if (hlen == 0)
        return fail_why(why, why_size, "no host in '%s'", rest);
    if (hlen >= sizeof out->host)
        return fail_why(why, why_size, "host name too long in '%s'", rest);
    if (strcspn(host, "/?#@ ") < hlen)
        return fail_why(why, why_size, "expected tcp://HOST:PORT, got a path or query in '%s'",
                        rest);
    memcpy(out->host, host, hlen);
    out->host[hlen] = '\0';
    int p = 502;
    if (port && !parse_int(port, strlen(port), 1, 65535, &p))
        return fail_why(why, why_size, "expected a port 1..65535 in '%s'", rest);
    snprintf(out->port, sizeof out->port, "%d", p);
    return true;
}

static bool rtu_option(dcm_mb_url *out, const char *key, size_t klen, const char *val,
                       size_t vlen)
{
    int v;
    if (klen == 4 && strncmp(key, "baud", 4) == 0)
        return parse_int(val, vlen, 50, 4000000, &out->baud);
    if (klen == 4 && strncmp(key, "data", 4) == 0)
        return parse_int(val, vlen, 5, 8, &out->data_bits);
    if (klen == 4 && strncmp(key, "stop", 4) == 0)
        return parse_int(val, vlen, 1, 2, &out->stop_bits);
    if (klen == 6 && strncmp(key, "parity", 6) == 0) {
        if (vlen != 1 || !strchr("NEOneo", val[0]))
            return false;
        out->parity = (char)(val[0] & ~0x20); /* upper case */
        return true;
    }
    if (klen == 5 && strncmp(key, "rs485", 5) == 0) {
        if (!parse_int(val, vlen, 0, 1, &v))
            return false;
        out->rs485 = v == 1;
        return true;
    }
    return false;
}

static bool parse_rtu(const char *rest, dcm_mb_url *out, char *why, size_t why_size)
{
    const char *q = strchr(rest, '?');
    size_t dlen = q ? (size_t)(q - rest) : strlen(rest);
    if (dlen == 0 || rest[0] != '/')
        return fail_why(why, why_size, "expected rtu:///dev/PORT (an absolute path), got '%s'",
                        rest);
    if (dlen >= sizeof out->device)
        return fail_why(why, why_size, "serial device path too long in '%s'", rest);
    memcpy(out->device, rest, dlen);
    out->device[dlen] = '\0';
    out->baud = 9600;
    out->parity = 'N';
    out->data_bits = 8;
    out->stop_bits = 1;
    for (const char *opt = q ? q + 1 : NULL; opt && *opt;) {
        const char *amp = strchr(opt, '&');
        size_t olen = amp ? (size_t)(amp - opt) : strlen(opt);
        const char *eq = memchr(opt, '=', olen);
        if (!eq || !rtu_option(out, opt, (size_t)(eq - opt), eq + 1, olen - (size_t)(eq - opt) - 1))
            return fail_why(why, why_size,
                            "bad serial option in '%s' (baud=N, parity=N|E|O, data=5..8, "
                            "stop=1|2, rs485=0|1)",
                            rest);
        opt = amp ? amp + 1 : NULL;
    }
    return true;
}

bool dcm_mb_url_parse(const char *text, dcm_mb_url *out, char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    if (why && why_size)
        why[0] = '\0';
    if (!text)
        return fail_why(why, why_size, "no URL");
    if (strncmp(text, "tcp://", 6) == 0)
        return parse_tcp(text + 6, out, why, why_size);
    if (strncmp(text, "rtu://", 6) == 0) {
        out->rtu = true;
        return parse_rtu(text + 6, out, why, why_size);
    }
    return fail_why(why, why_size, "expected tcp://HOST:PORT or rtu:///dev/PORT?baud=..., got '%s'",
                    text);
}

void dcm_mb_url_format(const dcm_mb_url *url, char *buf, size_t size)
{
    if (url->rtu)
        snprintf(buf, size, "rtu://%s %d %d%c%d%s", url->device, url->baud, url->data_bits,
                 url->parity, url->stop_bits, url->rs485 ? " RS-485" : "");
    else if (strchr(url->host, ':'))
        snprintf(buf, size, "tcp://[%s]:%s", url->host, url->port);
    else
        snprintf(buf, size, "tcp://%s:%s", url->host, url->port);
}

/* -------------------------------------------------------------- libmodbus */

struct dcm_mb_link {
    modbus_t *ctx;
    bool rtu;
    bool rs485;
    const char *warning;
    char error[160];
};

static void set_timeout(modbus_t *ctx, int64_t ns,
                        int (*fn)(modbus_t *, uint32_t, uint32_t))
{
    if (ns < 1000)
        ns = 1000; /* libmodbus reads 0/0 as "no timeout" for the byte timeout */
    fn(ctx, (uint32_t)(ns / 1000000000), (uint32_t)((ns % 1000000000) / 1000));
}

dcm_mb_err dcm_mb_link_create(const dcm_mb_url *url, int64_t response_timeout_ns,
                              int64_t byte_timeout_ns, dcm_mb_link **out, char *why,
                              size_t why_size)
{
    *out = NULL;
    if (why && why_size)
        why[0] = '\0';
    dcm_mb_link *link = calloc(1, sizeof *link);
    if (!link)
        return DCM_MB_ENOMEM;
    errno = 0;
    if (url->rtu)
        link->ctx = modbus_new_rtu(url->device, url->baud, url->parity, url->data_bits,
                                   url->stop_bits);
    else
        link->ctx = modbus_new_tcp_pi(url->host, url->port);
    if (!link->ctx) {
        int e = errno;
        free(link);
        if (e == ENOMEM)
            return DCM_MB_ENOMEM;
        if (why && why_size)
            snprintf(why, why_size, "libmodbus refused the connection settings: %s",
                     modbus_strerror(e));
        return DCM_MB_EINVALID;
    }
    link->rtu = url->rtu;
    link->rs485 = url->rs485;
    modbus_set_error_recovery(link->ctx, MODBUS_ERROR_RECOVERY_NONE);
    set_timeout(link->ctx, response_timeout_ns, modbus_set_response_timeout);
    set_timeout(link->ctx, byte_timeout_ns, modbus_set_byte_timeout);
    *out = link;
    return DCM_MB_OK;
}

void dcm_mb_link_destroy(dcm_mb_link *link)
{
    if (!link)
        return;
    modbus_close(link->ctx);
    modbus_free(link->ctx);
    free(link);
}

const char *dcm_mb_link_warning(const dcm_mb_link *link) { return link->warning; }

static dcm_mb_err classify(dcm_mb_link *link, int e)
{
    snprintf(link->error, sizeof link->error, "%s", modbus_strerror(e));
    switch (e) {
    case ETIMEDOUT:
    /* The gateway could not reach the unit, or the unit is busy: the device, not the
     * request, is at fault. */
    case EMBXGPATH:
    case EMBXGTAR:
    case EMBXSBUSY: return DCM_MB_ETIMEOUT;
    case EMBXILFUN:
    case EMBXILADD:
    case EMBXILVAL:
    case EMBXSFAIL:
    case EMBXACK:
    case EMBXNACK:
    case EMBXMEMPAR:
    case EMBUNKEXC: return DCM_MB_EEXCEPTION;
    case EMBBADCRC:
    case EMBBADDATA:
    case EMBBADEXC:
    case EMBMDATA:
    case EMBBADSLAVE: return DCM_MB_EBADDATA;
    default: return DCM_MB_EIO;
    }
}

static dcm_mb_err link_connect(void *io)
{
    dcm_mb_link *link = io;
    link->warning = NULL;
    if (modbus_connect(link->ctx) == -1) {
        snprintf(link->error, sizeof link->error, "%s", modbus_strerror(errno));
        return DCM_MB_EIO;
    }
    /* libmodbus waits with select(): a descriptor past FD_SETSIZE would overflow its set
     * (fixed only in 3.1.12), so such a connection is refused rather than used. */
    if (modbus_get_socket(link->ctx) >= FD_SETSIZE) {
        modbus_close(link->ctx);
        snprintf(link->error, sizeof link->error,
                 "file descriptor beyond %d: too many open files for libmodbus", FD_SETSIZE);
        return DCM_MB_EIO;
    }
    if (link->rtu && link->rs485 &&
        modbus_rtu_set_serial_mode(link->ctx, MODBUS_RTU_RS485) == -1)
        link->warning = "could not switch the port to RS-485 mode; using it as it is";
    return DCM_MB_OK;
}

static void link_close(void *io)
{
    dcm_mb_link *link = io;
    modbus_close(link->ctx);
}

static void link_flush(void *io)
{
    dcm_mb_link *link = io;
    modbus_flush(link->ctx);
}

static dcm_mb_err link_read_registers(void *io, int unit, dcm_mb_table table, uint16_t addr,
                                      uint16_t count, uint16_t *out)
{
    dcm_mb_link *link = io;
    if (modbus_set_slave(link->ctx, unit) == -1)
        return classify(link, errno);
    int n = table == DCM_MB_INPUT ? modbus_read_input_registers(link->ctx, addr, count, out)
                                  : modbus_read_registers(link->ctx, addr, count, out);
    if (n == -1)
        return classify(link, errno);
    if (n != count) {
        snprintf(link->error, sizeof link->error, "asked for %u registers, got %d", count, n);
        return DCM_MB_EBADDATA;
    }
    return DCM_MB_OK;
}

static dcm_mb_err link_read_bits(void *io, int unit, dcm_mb_table table, uint16_t addr,
                                 uint16_t count, uint8_t *out)
{
    dcm_mb_link *link = io;
    if (modbus_set_slave(link->ctx, unit) == -1)
        return classify(link, errno);
    int n = table == DCM_MB_DISCRETE ? modbus_read_input_bits(link->ctx, addr, count, out)
                                     : modbus_read_bits(link->ctx, addr, count, out);
    if (n == -1)
        return classify(link, errno);
    if (n != count) {
        snprintf(link->error, sizeof link->error, "asked for %u bits, got %d", count, n);
        return DCM_MB_EBADDATA;
    }
    return DCM_MB_OK;
}

static const char *link_last_error(void *io)
{
    dcm_mb_link *link = io;
    return link->error;
}

static const dcm_mb_transport_ops link_ops = {
    .connect = link_connect,
    .close = link_close,
    .flush = link_flush,
    .read_registers = link_read_registers,
    .read_bits = link_read_bits,
    .last_error = link_last_error,
};

const dcm_mb_transport_ops *dcm_mb_link_ops(void) { return &link_ops; }
