/* The device profiles compiled into the binary (every YAML file in collectors/modbus/profiles,
 * embedded by embed_profiles.cmake): lookup by name, listing, and parsing on demand. */
#include <stdio.h>
#include <string.h>

#include "config_internal.h"
#include "modbus_map.h"

/* Defined in the generated modbus_profiles_data.c, sorted by name. */
extern const dcm_mb_embedded dcm_mb_embedded_profiles[];
extern const size_t dcm_mb_embedded_profile_count;

size_t dcm_mb_profile_count(void) { return dcm_mb_embedded_profile_count; }

const dcm_mb_embedded *dcm_mb_profile_at(size_t i)
{
    return i < dcm_mb_embedded_profile_count ? &dcm_mb_embedded_profiles[i] : NULL;
}

const dcm_mb_embedded *dcm_mb_profile_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < dcm_mb_embedded_profile_count; i++)
        if (strcmp(dcm_mb_embedded_profiles[i].name, name) == 0)
            return &dcm_mb_embedded_profiles[i];
    return NULL;
}

static void report_unknown(const char *name, const dcm_node *where, const char *path,
                           dcm_diags *diags)
{
    const char *cand[128] = {NULL};
    size_t n = 0;
    char list[512] = "";
    size_t used = 0;
    for (size_t i = 0; i < dcm_mb_embedded_profile_count && n < 128; i++) {
        cand[n++] = dcm_mb_embedded_profiles[i].name;
        if (used < sizeof list) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                             dcm_mb_embedded_profiles[i].name);
            if (w > 0)
                used += (size_t)w;
        }
    }
    const char *s = dcm_suggest(name, cand, n);
    if (s)
        dcm_diag_at(diags, DCM_DIAG_ERROR, where, path,
                    "unknown profile '%.60s', did you mean '%s'?", name, s);
    else
        dcm_diag_at(diags, DCM_DIAG_ERROR, where, path,
                    "unknown profile '%.60s' (compiled-in profiles: %s)", name,
                    n ? list : "none");
}

dcm_mb_err dcm_mb_profile_load(const char *name, const dcm_node *where, dcm_mb_profile **out,
                               dcm_diags *diags)
{
    return dcm_mb_profile_load_at(name, where, "profile", out, diags);
}

dcm_mb_err dcm_mb_profile_load_at(const char *name, const dcm_node *where, const char *path,
                                  dcm_mb_profile **out, dcm_diags *diags)
{
    *out = NULL;
    const dcm_mb_embedded *e = dcm_mb_profile_find(name);
    if (!e) {
        report_unknown(name ? name : "", where, path ? path : "profile", diags);
        return DCM_MB_ENOTFOUND;
    }
    /* Diagnostics inside a compiled-in profile are placed in the profile's own text,
     * which the user knows by its name. */
    dcm_mb_err err = dcm_mb_profile_parse_text(e->text, e->len, e->name, out, diags);
    if (err != DCM_MB_OK)
        return err;
    if (strcmp((*out)->name, e->name) != 0) {
        dcm_diags_add(diags, DCM_DIAG_ERROR, e->name, 0, 0, "name",
                      "the profile is called '%s' but its file is %s.yaml", (*out)->name,
                      e->name);
        dcm_mb_profile_destroy(*out);
        *out = NULL;
        return DCM_MB_EINVALID;
    }
    return DCM_MB_OK;
}
