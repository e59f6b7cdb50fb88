/*
 * cmd_probe.c - `dcmetrics probe modbus URL ...`: commissioning a meter. One read of one
 * value shown under every byte order and both address bases (vendors print 0-based
 * addresses, 1-based register numbers, or 3xxxx/4xxxx numbers), with the readings that
 * look right for the expected unit marked; or every point of a profile read once and
 * shown as a table, to check a profile against a device before configuring it.
 *
 * Exit codes: 0 a read succeeded, 1 the device could not be read, 2 bad usage.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"

#ifdef DCM_WITH_MODBUS
#include "modbus_conn.h"
#include "modbus_map.h"

#define NS_PER_MS INT64_C(1000000)

static void probe_usage(FILE *out)
{
    fputs("usage: dcmetrics probe modbus URL [--unit N] [--table T] --address A --type T\n"
          "                                [--expect UNIT] [--scale X]\n"
          "       dcmetrics probe modbus URL [--unit N] --profile NAME\n"
          "       dcmetrics probe nvml|rocm [--library PATH] [--seconds N]   (see --help there)\n"
          "  URL              tcp://HOST[:PORT] or rtu:///dev/ttyUSB0?baud=9600&parity=N\n"
          "  --unit N         unit id (slave id), default 1\n"
          "  --table T        holding (default), input, coil or discrete\n"
          "  --address A      the address as the documentation prints it (decimal or 0x hex);\n"
          "                   it is read as a 0-based address and as a 1-based number (A-1)\n"
          "  --type T         u16 i16 u32 i32 u64 i64 f32 f64 (bool for coils)\n"
          "  --expect UNIT    what the value should be: V, A, Hz, pf, W, kW, kWh, degC, ...;\n"
          "                   readings plausible for it are marked\n"
          "  --scale X        multiply the raw value by X before judging it (e.g. 0.1)\n"
          "  --profile NAME   read every point of a profile once and print a table\n"
          "  --timeout D      response timeout (default 1s)\n"
          "Exit: 0 read ok, 1 device error, 2 usage.\n",
          out);
}

/* --------------------------------------------------------------- plausible */

/* Whether v is plausible for unit: a mains voltage near a nominal value, a frequency
 * near 50 or 60 Hz, a power factor within -1..1, a temperature a building has, etc. */
static bool plausible(const char *unit, double v)
{
    static const double volts[] = {100, 110, 115, 120, 127, 208, 220, 230, 240,
                                   277, 347, 380, 400, 415, 440, 480, 600, 690};
    if (!isfinite(v))
        return false;
    if (strcmp(unit, "V") == 0) {
        for (size_t i = 0; i < sizeof volts / sizeof volts[0]; i++)
            if (fabs(v - volts[i]) <= 0.1 * volts[i])
                return true;
        return false;
    }
    if (strcmp(unit, "Hz") == 0)
        return fabs(v - 50.0) <= 2.0 || fabs(v - 60.0) <= 2.0;
    if (strcmp(unit, "pf") == 0 || strcmp(unit, "count") == 0)
        return v >= -1.0 && v <= 1.0 && v != 0.0;
    if (strcmp(unit, "degC") == 0)
        return v > -40.0 && v < 150.0 && v != 0.0;
    if (strcmp(unit, "A") == 0)
        return v >= 0.0 && v < 1e5;
    if (strcmp(unit, "%") == 0)
        return v >= 0.0 && v <= 100.0;
    /* Powers, energies, volumes, flows: a magnitude a meter can show, not the tiny or
     * huge numbers a wrong byte order makes of it. */
    double a = fabs(v);
    return a == 0.0 || (a >= 1e-3 && a < 1e12);
}

/* ------------------------------------------------------------ single read */

typedef struct probe_args {
    const char *url;
    int unit;
    dcm_mb_table table;
    long address;
    dcm_mb_type type;
    bool has_type;
    const char *expect;
    double scale;
    const char *profile;
    int64_t timeout_ns;
} probe_args;

static void print_orders(const probe_args *a, const uint16_t *regs, int n)
{
    static const dcm_mb_order orders[] = {DCM_MB_ABCD, DCM_MB_BADC, DCM_MB_CDAB, DCM_MB_DCBA};
    /* 16-bit values have only two distinct orders. */
    int norders = n == 1 ? 2 : 4;
    for (int i = 0; i < norders; i++) {
        dcm_mb_point p;
        memset(&p, 0, sizeof p);
        p.type = a->type;
        p.order = orders[i];
        p.bit = -1;
        p.scale = a->scale;
        double v = 0;
        dcm_quality q = dcm_mb_decode(&p, regs, (size_t)n, &v);
        uint64_t raw = dcm_mb_raw(regs, n, orders[i]);
        bool ok = q != DCM_QUALITY_INVALID && isfinite(v);
        char value[40];
        if (ok)
            snprintf(value, sizeof value, "%.10g", v);
        else
            snprintf(value, sizeof value, "(not a number)");
        if (ok && a->expect && plausible(a->expect, v))
            printf("  %s  raw 0x%0*llX  %-24s<- plausible\n", dcm_mb_order_name(orders[i]),
                   n * 4, (unsigned long long)raw, value);
        else
            printf("  %s  raw 0x%0*llX  %s\n", dcm_mb_order_name(orders[i]), n * 4,
                   (unsigned long long)raw, value);
    }
}

static int read_one(const probe_args *a, const dcm_mb_transport_ops *ops, void *io)
{
    int n = dcm_mb_type_registers(a->type);
    int ok = 0;
    const struct {
        long address;
        const char *what;
    } bases[2] = {{a->address, "as a 0-based protocol address"},
                  {a->address - 1, "the number is 1-based (protocol address = number - 1)"}};
    printf("%s unit %d, %s, %s%s%s\n", a->url, a->unit, dcm_mb_table_name(a->table),
           dcm_mb_type_name(a->type), a->expect ? ", expecting " : "", a->expect ? a->expect : "");
    for (int b = 0; b < 2; b++) {
        long addr = bases[b].address;
        if (addr < 0 || addr + n > 65536)
            continue;
        printf("address %ld (0x%04lX), %s:\n", addr, (unsigned long)addr, bases[b].what);
        if (a->type == DCM_MB_BOOL) {
            uint8_t bit = 0;
            dcm_mb_err e = ops->read_bits(io, a->unit, a->table, (uint16_t)addr, 1, &bit);
            if (e != DCM_MB_OK) {
                printf("  %s: %s\n", dcm_mb_strerror(e), ops->last_error(io));
                if (e != DCM_MB_EEXCEPTION)
                    ops->flush(io);
                continue;
            }
            printf("  %u\n", (unsigned)bit);
            ok++;
            continue;
        }
        uint16_t regs[4];
        dcm_mb_err e = ops->read_registers(io, a->unit, a->table, (uint16_t)addr, (uint16_t)n, regs);
        if (e != DCM_MB_OK) {
            printf("  %s: %s\n", dcm_mb_strerror(e), ops->last_error(io));
            if (e == DCM_MB_EIO)
                return 1; /* the connection is gone */
            if (e != DCM_MB_EEXCEPTION)
                ops->flush(io);
            continue;
        }
        printf("  registers:");
        for (int i = 0; i < n; i++)
            printf(" 0x%04X", regs[i]);
        putchar('\n');
        print_orders(a, regs, n);
        ok++;
    }
    return ok ? 0 : 1;
}

/* --------------------------------------------------------- profile table */

static int read_profile(const probe_args *a, const dcm_mb_profile *prof,
                        const dcm_mb_transport_ops *ops, void *io)
{
    double *values = calloc(prof->point_count ? prof->point_count : 1, sizeof *values);
    dcm_quality *quality = calloc(prof->point_count ? prof->point_count : 1, sizeof *quality);
    int read = 0, rc = 1;
    if (!values || !quality) {
        fputs("dcmetrics probe: out of memory\n", stderr);
        goto out;
    }
    printf("%s unit %d, profile %s\n", a->url, a->unit, prof->name);
    printf("%-20s %-8s %-14s %-5s %-5s %-22s %-6s %s\n", "point", "table", "address", "type",
           "order", "registers", "unit", "value");
    for (size_t i = 0; i < prof->point_count; i++) {
        const dcm_mb_point *p = &prof->points[i];
        char addr[24], regtext[32] = "", value[48];
        quality[i] = DCM_QUALITY_INVALID;
        if (p->derive != DCM_MB_DERIVE_NONE)
            continue; /* after the points it is made of */
        snprintf(addr, sizeof addr, "%u (0x%04X)", (unsigned)p->address, (unsigned)p->address);
        dcm_mb_err e;
        if (dcm_mb_table_is_bits(p->table)) {
            uint8_t bit = 0;
            e = ops->read_bits(io, a->unit, p->table, p->address, 1, &bit);
            if (e == DCM_MB_OK)
                quality[i] = dcm_mb_decode_bit(p, bit, &values[i]);
        } else {
            uint16_t regs[4];
            int n = dcm_mb_point_registers(p);
            e = ops->read_registers(io, a->unit, p->table, p->address, (uint16_t)n, regs);
            if (e == DCM_MB_OK) {
                quality[i] = dcm_mb_decode(p, regs, (size_t)n, &values[i]);
                size_t used = 0;
                for (int k = 0; k < n && used < sizeof regtext; k++)
                    used += (size_t)snprintf(regtext + used, sizeof regtext - used, "%s%04X",
                                             k ? " " : "", regs[k]);
            }
        }
        if (e == DCM_MB_OK) {
            read++;
            if (quality[i] == DCM_QUALITY_INVALID)
                snprintf(value, sizeof value, "invalid (not available)");
            else
                snprintf(value, sizeof value, "%.10g", values[i]);
        } else {
            snprintf(value, sizeof value, "%s: %.30s", dcm_mb_strerror(e), ops->last_error(io));
            if (e == DCM_MB_EIO)
                break;
            if (e != DCM_MB_EEXCEPTION)
                ops->flush(io);
        }
        printf("%-20s %-8s %-14s %-5s %-5s %-22s %-6s %s\n", p->name, dcm_mb_table_name(p->table),
               addr, dcm_mb_type_name(p->type),
               dcm_mb_type_registers(p->type) > 1 ? dcm_mb_order_name(p->order) : "-", regtext,
               p->unit, value);
    }
    for (size_t i = 0; i < prof->point_count; i++) {
        const dcm_mb_point *p = &prof->points[i];
        if (p->derive != DCM_MB_DERIVE_THERMAL_POWER)
            continue;
        long f = -1, s = -1, r = -1;
        for (size_t k = 0; k < prof->point_count; k++) {
            const char *nm = prof->points[k].name;
            f = strcmp(nm, p->flow) == 0 ? (long)k : f;
            s = strcmp(nm, p->supply) == 0 ? (long)k : s;
            r = strcmp(nm, p->ret) == 0 ? (long)k : r;
        }
        char value[48] = "inputs not read";
        if (f >= 0 && s >= 0 && r >= 0 && quality[f] != DCM_QUALITY_INVALID &&
            quality[s] != DCM_QUALITY_INVALID && quality[r] != DCM_QUALITY_INVALID) {
            bool ls = strcmp(prof->points[f].unit, "L/s") == 0;
            snprintf(value, sizeof value, "%.10g",
                     dcm_mb_thermal_power_kw(values[f], ls, values[s], values[r]));
        }
        printf("%-20s %-8s %-14s %-5s %-5s %-22s %-6s %s\n", p->name, "derived", "-", "-", "-",
               "-", p->unit, value);
    }
    rc = read ? 0 : 1;
out:
    free(values);
    free(quality);
    return rc;
}

/* ------------------------------------------------------------------ main */

static bool parse_long(const char *s, long *out)
{
    char *end;
    long v = strtol(s, &end, 0);
    if (!*s || *end)
        return false;
    *out = v;
    return true;
}

static int parse_args(int argc, char **argv, probe_args *a)
{
    static const struct option longopts[] = {
        {"unit", required_argument, NULL, 'u'},    {"table", required_argument, NULL, 't'},
        {"address", required_argument, NULL, 'a'}, {"type", required_argument, NULL, 'y'},
        {"expect", required_argument, NULL, 'e'},  {"scale", required_argument, NULL, 's'},
        {"profile", required_argument, NULL, 'p'}, {"timeout", required_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    int c;
    long v;
    char *end;
    memset(a, 0, sizeof *a);
    a->unit = 1;
    a->table = DCM_MB_HOLDING;
    a->address = -1;
    a->scale = 1.0;
    a->timeout_ns = 1000 * NS_PER_MS;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            if (!parse_long(optarg, &v) || v < 0 || v > 255)
                return fprintf(stderr, "dcmetrics probe: --unit wants 0..255\n"), 2;
            a->unit = (int)v;
            break;
        case 't':
            if (!dcm_mb_table_parse(optarg, &a->table))
                return fprintf(stderr, "dcmetrics probe: --table wants holding, input, coil "
                                       "or discrete\n"), 2;
            break;
        case 'a':
            if (!parse_long(optarg, &a->address) || a->address < 0 || a->address > 65535)
                return fprintf(stderr, "dcmetrics probe: --address wants 0..65535\n"), 2;
            break;
        case 'y':
            if (!dcm_mb_type_parse(optarg, &a->type))
                return fprintf(stderr, "dcmetrics probe: --type wants u16 i16 u32 i32 u64 i64 "
                                       "f32 f64 or bool\n"), 2;
            a->has_type = true;
            break;
        case 'e': a->expect = optarg; break;
        case 's':
            a->scale = strtod(optarg, &end);
            if (!*optarg || *end || !isfinite(a->scale) || a->scale == 0.0)
                return fprintf(stderr, "dcmetrics probe: --scale wants a non-zero number\n"), 2;
            break;
        case 'p': a->profile = optarg; break;
        case 'T':
            if (!dcm_parse_duration_ns(optarg, &a->timeout_ns) || a->timeout_ns <= 0)
                return fprintf(stderr, "dcmetrics probe: --timeout wants a duration (500ms)\n"), 2;
            break;
        case 'h': probe_usage(stdout); return -1;
        default: probe_usage(stderr); return 2;
        }
    }
    if (optind + 2 != argc || strcmp(argv[optind], "modbus") != 0) {
        probe_usage(stderr);
        return 2;
    }
    a->url = argv[optind + 1];
    if (!a->profile && (a->address < 0 || !a->has_type)) {
        fputs("dcmetrics probe: give --address and --type, or --profile\n", stderr);
        return 2;
    }
    if (a->profile && (a->address >= 0 || a->has_type)) {
        fputs("dcmetrics probe: --profile reads the profile's own addresses: leave out "
              "--address and --type\n", stderr);
        return 2;
    }
    bool bits = dcm_mb_table_is_bits(a->table);
    if (!a->profile && bits != (a->type == DCM_MB_BOOL)) {
        fputs("dcmetrics probe: coils and discrete inputs are read as --type bool, registers "
              "as a number type\n", stderr);
        return 2;
    }
    return 0;
}

int dcm_cmd_probe(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "nvml") == 0 || strcmp(argv[1], "rocm") == 0))
        return dcm_cmd_probe_gpu(argc, argv);
#ifdef DCM_WITH_SNMP
    if (argc >= 2 && strcmp(argv[1], "snmp") == 0)
        return dcm_cmd_probe_snmp(argc - 1, argv + 1);
#endif
    probe_args a;
    dcm_mb_url url;
    dcm_mb_link *link = NULL;
    dcm_mb_profile *prof = NULL;
    char why[256];
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    if (!dcm_mb_url_parse(a.url, &url, why, sizeof why)) {
        fprintf(stderr, "dcmetrics probe: %s: %s\n", a.url, why);
        return 2;
    }
    if (a.profile) {
        dcm_diags diags;
        dcm_diags_init(&diags);
        dcm_mb_err e = dcm_mb_profile_load(a.profile, NULL, &prof, &diags);
        dcm_diags_print(&diags, stderr);
        dcm_diags_free(&diags);
        if (e != DCM_MB_OK)
            return e == DCM_MB_ENOMEM ? 1 : 2;
    }
    rc = 1;
    dcm_mb_err e = dcm_mb_link_create(&url, a.timeout_ns, a.timeout_ns / 2, &link, why, sizeof why);
    if (e != DCM_MB_OK) {
        fprintf(stderr, "dcmetrics probe: %s: %s\n", a.url, e == DCM_MB_ENOMEM ? "out of memory" : why);
        rc = e == DCM_MB_EINVALID ? 2 : 1;
        goto out;
    }
    const dcm_mb_transport_ops *ops = dcm_mb_link_ops();
    if (ops->connect(link) != DCM_MB_OK) {
        fprintf(stderr, "dcmetrics probe: %s: cannot connect: %s\n", a.url, ops->last_error(link));
        goto out;
    }
    if (dcm_mb_link_warning(link))
        fprintf(stderr, "dcmetrics probe: %s\n", dcm_mb_link_warning(link));
    rc = prof ? read_profile(&a, prof, ops, link) : read_one(&a, ops, link);
    ops->close(link);
out:
    dcm_mb_link_destroy(link);
    dcm_mb_profile_destroy(prof);
    return rc;
}

#else /* !DCM_WITH_MODBUS */

int dcm_cmd_probe(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "nvml") == 0 || strcmp(argv[1], "rocm") == 0))
        return dcm_cmd_probe_gpu(argc, argv);
#ifdef DCM_WITH_SNMP
    if (argc >= 2 && strcmp(argv[1], "snmp") == 0)
        return dcm_cmd_probe_snmp(argc - 1, argv + 1);
#endif
    fputs("dcmetrics probe: this build has no Modbus support (DCM_WITH_MODBUS=OFF)\n", stderr);
    return 2;
}

#endif
