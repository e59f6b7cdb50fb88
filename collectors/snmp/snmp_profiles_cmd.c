/* `dcmetrics profiles`: the SNMP profiles compiled into the binary, or read from a profile
 * file, with their OIDs. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "snmp_config.h"

int dcm_snmp_profiles_print(const char *name, bool names_only);

static void print_point(const char *prefix, const dcm_snmp_point *p)
{
    char oid[300], scale[64] = "";
    dcm_snmp_oid_format(&p->oid, oid, sizeof oid);
    if (p->devscale == DCM_SNMP_DEVSCALE_DIGITS)
        snprintf(scale, sizeof scale, "x%g, device digits", p->scale);
    else if (p->devscale == DCM_SNMP_DEVSCALE_ENTITY)
        snprintf(scale, sizeof scale, "x%g, entity scale", p->scale);
    else
        snprintf(scale, sizeof scale, "x%g", p->scale);
    char sel[48] = "";
    if (p->has_select)
        snprintf(sel, sizeof sel, " [type %u]", (unsigned)p->select);
    else if (p->has_filter)
        snprintf(sel, sizeof sel, " [filter = %g]", p->filter_value);
    printf("  %s%-22s %-40s %-22s %-6s %s%s\n", prefix, p->name, oid, scale, p->unit,
           dcm_kind_name(p->kind), sel);
}

/* value: a compiled-in name or a file path, read as `profile: value` would be. */
static int print_one(const char *value, bool names_only)
{
    dcm_diags d;
    dcm_diags_init(&d);
    const dcm_snmp_profile *p = NULL;
    dcm_snmp_err err = dcm_snmp_profile_get(value, NULL, value, &p, &d);
    dcm_diags_print(&d, stderr);
    dcm_diags_free(&d);
    if (err != DCM_SNMP_OK)
        return 1;
    if (names_only) {
        printf("%-24s %s (SNMP)\n", p->name, p->description ? p->description : "");
        return 0;
    }
    printf("\n%s: %s (SNMP)\n  source: %s\n", p->name, p->description,
           p->source ? p->source : "(not stated)");
    char oid[300];
    dcm_snmp_oid_format(&p->detect, oid, sizeof oid);
    if (!dcm_snmp_profile_find(value))
        printf("  auto: never (a profile file is used only where profile: names it)\n");
    else
        printf("  auto: %s, when the device has %s\n",
               p->sysobjectid_count ? "for its vendor's sysObjectID" : "for any device", oid);
    for (size_t i = 0; i < p->point_count; i++)
        print_point("", &p->points[i]);
    for (size_t t = 0; t < p->table_count; t++) {
        printf("  table %s (rows: %s.<index>.<column>)\n", p->tables[t].name, p->tables[t].name);
        for (size_t c = 0; c < p->tables[t].column_count; c++)
            print_point("  ", &p->tables[t].columns[c]);
    }
    return 0;
}

int dcm_snmp_profiles_print(const char *name, bool names_only)
{
    if (name)
        return dcm_snmp_profile_find(name) || dcm_snmp_profile_is_file(name)
                   ? print_one(name, names_only)
                   : -1;
    int failed = 0;
    for (size_t i = 0; i < dcm_snmp_profile_count(); i++)
        failed += print_one(dcm_snmp_profile_at(i)->name, names_only);
    return failed;
}
