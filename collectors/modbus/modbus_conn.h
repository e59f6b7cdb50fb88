/*
 * modbus_conn.h - where a Modbus device is (the instance URL), the transport seam the
 * poller reads through, and its libmodbus implementation (one context per TCP connection
 * or serial port).
 *
 * The seam exists so the poller's exception split and recovery can be tested against a
 * scripted fake; the real libmodbus link is exercised against real servers.
 *
 * Ownership: dcm_mb_link_create() returns a link the caller destroys; a link is used by
 * one thread at a time (libmodbus contexts are not thread-safe).
 */
#ifndef DCM_MODBUS_CONN_H
#define DCM_MODBUS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modbus_map.h"

#define DCM_MB_DEFAULT_PORT "502"

typedef struct dcm_mb_url {
    bool rtu;
    char host[256];   /* TCP: host name, IPv4 or IPv6 address (without brackets) */
    char port[8];     /* TCP: port, default 502 */
    char device[256]; /* RTU: the serial device, e.g. /dev/ttyUSB0 */
    int baud;         /* RTU: default 9600 */
    char parity;      /* RTU: 'N', 'E' or 'O', default 'N' */
    int data_bits;    /* RTU: 5..8, default 8 */
    int stop_bits;    /* RTU: 1 or 2, default 1 */
    bool rs485;       /* RTU: switch the port to RS-485 mode (Linux) */
} dcm_mb_url;

/* Parses tcp://HOST[:PORT] (IPv6 as tcp://[::1]:502) or
 * rtu://DEVICE[?baud=9600&parity=N&data=8&stop=1&rs485=1] (DEVICE is an absolute path,
 * so rtu:///dev/ttyUSB0). On false, why says what is wrong. */
bool dcm_mb_url_parse(const char *text, dcm_mb_url *out, char *why, size_t why_size);
/* "tcp://[::1]:502" or "rtu:///dev/ttyUSB0 9600 8N1": for logs. */
void dcm_mb_url_format(const dcm_mb_url *url, char *buf, size_t size);

/* What the poller needs from a connection. Every read addresses one unit id (slave id),
 * so one connection serves several devices behind a gateway or on an RS-485 bus. Reads
 * return OK, ETIMEOUT (no answer: flush before the next request), EEXCEPTION (the device
 * refused the request), EBADDATA (malformed or mismatched reply: flush) or EIO (the
 * connection is broken: close, reconnect later). */
typedef struct dcm_mb_transport_ops {
    dcm_mb_err (*connect)(void *io);
    void (*close)(void *io);
    /* Discards whatever is in flight after a timeout or a bad reply, so a late answer is
     * not taken for the next request's. */
    void (*flush)(void *io);
    dcm_mb_err (*read_registers)(void *io, int unit, dcm_mb_table table, uint16_t addr,
                                 uint16_t count, uint16_t *out);
    /* One byte (0 or 1) per coil or discrete input. */
    dcm_mb_err (*read_bits)(void *io, int unit, dcm_mb_table table, uint16_t addr,
                            uint16_t count, uint8_t *out);
    /* The last failure in words (for logs); never NULL. */
    const char *(*last_error)(void *io);
} dcm_mb_transport_ops;

/* ------------------------------------------------------------- libmodbus */

typedef struct dcm_mb_link dcm_mb_link;

/* Creates the libmodbus context for url (no connection yet) with explicit response and
 * byte timeouts and libmodbus's own error recovery off: the poller recovers. Returns OK,
 * ENOMEM or EINVALID (why says what libmodbus refused). */
dcm_mb_err dcm_mb_link_create(const dcm_mb_url *url, int64_t response_timeout_ns,
                              int64_t byte_timeout_ns, dcm_mb_link **out, char *why,
                              size_t why_size);
void dcm_mb_link_destroy(dcm_mb_link *link);
/* The ops for a dcm_mb_link (pass the link as io). */
const dcm_mb_transport_ops *dcm_mb_link_ops(void);
/* Set after a connect that could not switch the port to RS-485 mode (the connection is
 * still used: many adapters switch direction by themselves); NULL otherwise. */
const char *dcm_mb_link_warning(const dcm_mb_link *link);

#endif /* DCM_MODBUS_CONN_H */
