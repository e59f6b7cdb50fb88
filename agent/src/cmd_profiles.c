/*
 * cmd_profiles.c - `dcmetrics profiles [NAME...]`: the Modbus device profiles compiled into
 * this binary, each with its source and its points (address, table, type, byte order,
 * scale, unit, kind), as `profile: NAME` in a configuration would read them.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifdef DCM_WITH_MODBUS
#include "modbus_map.h"
#ifdef DCM_WITH_SNMP
/* SNMP profiles (collectors/snmp/snmp_profiles_cmd.c): NAME or all (NULL); -1 when NAME
 * is not an SNMP profile, else the number of profiles that failed to parse. */
int dcm_snmp_profiles_print(const char *name, bool names_only);
#endif

static void profiles_usage(FILE *out)
{
    fputs("usage: dcmetrics profiles [--names] [NAME...]\n"
          "  Lists the compiled-in Modbus device profiles with their points; with NAME, only\n"
          "  those. Addresses are 0-based protocol addresses (what goes on the wire).\n"
#ifdef DCM_WITH_SNMP
          "  NAME may also be an SNMP profile file (a path: has a '/' or ends in .yaml).\n"
#endif
          "  --names           only the profile names and descriptions\n",
          out);
}

static void print_point(const dcm_mb_point *p)
{
    if (p->derive == DCM_MB_DERIVE_THERMAL_POWER) {
        printf("  %-20s %-15s derived: 4.186 x %s x |%s - %s| %-6s %s\n", p->name, "-",
               p->flow, p->ret, p->supply, p->unit, dcm_kind_name(p->kind));
        return;
    }
    char addr[24], type[24], scale[48];
    snprintf(addr, sizeof addr, "%u (0x%04X)", (unsigned)p->address, (unsigned)p->address);
    if (p->bit >= 0)
        snprintf(type, sizeof type, "%s.%d", dcm_mb_type_name(p->type), p->bit);
    else
        snprintf(type, sizeof type, "%s", dcm_mb_type_name(p->type));
    if (p->offset != 0.0)
        snprintf(scale, sizeof scale, "%g%+g", p->scale, p->offset);
    else
        snprintf(scale, sizeof scale, "%g", p->scale);
    printf("  %-20s %-15s %-8s %-5s %-5s %-8s %-6s %s", p->name, addr, dcm_mb_table_name(p->table),
           type, dcm_mb_type_registers(p->type) > 1 ? dcm_mb_order_name(p->order) : "-", scale,
           p->unit, dcm_kind_name(p->kind));
    if (p->invalid_all_ones || p->invalid_max_signed || p->invalid_count)
        printf(" (invalid:%s%s%s)", p->invalid_all_ones ? " all_ones" : "",
               p->invalid_max_signed ? " max_signed" : "", p->invalid_count ? " listed" : "");
    putchar('\n');
}

static int print_profile(const dcm_mb_embedded *e, bool names_only)
{
    dcm_diags diags;
    dcm_mb_profile *p = NULL;
    dcm_diags_init(&diags);
    dcm_mb_err err = dcm_mb_profile_parse_text(e->text, e->len, e->name, &p, &diags);
    if (err != DCM_MB_OK) {
        dcm_diags_print(&diags, stderr);
        dcm_diags_free(&diags);
        fprintf(stderr, "dcmetrics profiles: %s: %s\n", e->name, dcm_mb_strerror(err));
        return 1;
    }
    dcm_diags_free(&diags);
    if (names_only) {
        printf("%-24s %s\n", p->name, p->description ? p->description : "");
        dcm_mb_profile_destroy(p);
        return 0;
    }
    printf("%s: %s\n", p->name, p->description ? p->description : "");
    printf("  source: %s\n", p->source ? p->source : "(not stated)");
    printf("  %zu points; at most %d registers per request, merged over gaps of up to %d\n",
           p->point_count, p->max_registers, p->max_gap);
    if (p->addressing == 1)
        printf("  the source numbers registers from 1: its number = the address below + 1\n");
    printf("  %-20s %-15s %-8s %-5s %-5s %-8s %-6s %s\n", "point", "address", "table", "type",
           "order", "scale", "unit", "kind");
    for (size_t i = 0; i < p->point_count; i++)
        print_point(&p->points[i]);
    dcm_mb_profile_destroy(p);
    return 0;
}

int dcm_cmd_profiles(int argc, char **argv)
{
    static const struct option longopts[] = {{"names", no_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    bool names_only = false;
    int c, rc = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'n': names_only = true; break;
        case 'h': profiles_usage(stdout); return 0;
        default: profiles_usage(stderr); return 2;
        }
    }
    if (optind == argc) {
        for (size_t i = 0; i < dcm_mb_profile_count(); i++) {
            if (i && !names_only)
                putchar('\n');
            if (print_profile(dcm_mb_profile_at(i), names_only) != 0)
                rc = 1;
        }
#ifdef DCM_WITH_SNMP
        if (dcm_snmp_profiles_print(NULL, names_only) > 0)
            rc = 1;
#endif
        return rc;
    }
    for (int i = optind; i < argc; i++) {
        const dcm_mb_embedded *e = dcm_mb_profile_find(argv[i]);
#ifdef DCM_WITH_SNMP
        if (!e) {
            int r = dcm_snmp_profiles_print(argv[i], names_only);
            if (r >= 0) {
                rc = r ? 1 : rc;
                continue;
            }
        }
#endif
        if (!e) {
            const char *cand[128];
            size_t n = 0;
            for (size_t k = 0; k < dcm_mb_profile_count() && n < 128; k++)
                cand[n++] = dcm_mb_profile_at(k)->name;
            const char *s = n ? dcm_suggest(argv[i], cand, n) : NULL;
            fprintf(stderr, "dcmetrics profiles: no profile '%s'%s%s%s (see 'dcmetrics "
                            "profiles --names')\n", argv[i], s ? ", did you mean '" : "",
                    s ? s : "", s ? "'?" : "");
            return 2;
        }
        if (i > optind && !names_only)
            putchar('\n');
        if (print_profile(e, names_only) != 0)
            rc = 1;
    }
    return rc;
}

#else /* !DCM_WITH_MODBUS */

int dcm_cmd_profiles(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("dcmetrics profiles: this build has no Modbus support (DCM_WITH_MODBUS=OFF)\n", stderr);
    return 2;
}

#endif
