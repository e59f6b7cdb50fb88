/* Parsing /proc/stat's cpu lines (proc(5)). */
#include "procstat.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

const char *dcm_procstat_strerror(dcm_procstat_err err)
{
    switch (err) {
    case DCM_PROCSTAT_OK: return "ok";
    case DCM_PROCSTAT_EIO: return "cannot read the file";
    case DCM_PROCSTAT_EFORMAT: return "no cpu line with eight time fields";
    case DCM_PROCSTAT_ENOMEM: return "out of memory";
    }
    return "unknown procstat error";
}

int dcm_procstat_path(const char *root, char *out, size_t size)
{
    size_t n = root ? strlen(root) : 0;
    bool slash = n > 0 && root[n - 1] == '/';
    int len = snprintf(out, size, "%s%sproc/stat", root ? root : "", slash ? "" : "/");
    return len >= 0 && (size_t)len < size ? 0 : -1;
}

/* Parses "<label> f1 f2 ... f8 [...]" after the label; false if fewer than eight fields. */
static bool parse_ticks(const char *p, dcm_cpu_ticks *out)
{
    uint64_t f[8];
    for (int i = 0; i < 8; i++) {
        char *end;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p < '0' || *p > '9')
            return false;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (errno || end == p)
            return false;
        f[i] = v;
        p = end;
    }
    out->idle = f[3] + f[4];
    out->total = 0;
    for (int i = 0; i < 8; i++)
        out->total += f[i];
    return true;
}

dcm_procstat_err dcm_procstat_read(const char *path, dcm_procstat *snap)
{
    dcm_procstat_err err = DCM_PROCSTAT_OK;
    bool have_all = false;
    char line[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return DCM_PROCSTAT_EIO;
    snap->ncpu = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "cpu", 3) != 0)
            continue;
        /* A line longer than the buffer has its tail read as the next line, which does
         * not start with "cpu". */
        dcm_cpu_ticks t;
        if (line[3] == ' ') {
            if (!parse_ticks(line + 3, &t)) {
                err = DCM_PROCSTAT_EFORMAT;
                goto out;
            }
            snap->all = t;
            have_all = true;
        } else if (line[3] >= '0' && line[3] <= '9') {
            char *end;
            long id = strtol(line + 3, &end, 10);
            if (id < 0 || id > 1 << 20 || !parse_ticks(end, &t))
                continue;
            if (!dcm_grow((void **)&snap->cpu, &snap->cap, snap->ncpu + 1, sizeof *snap->cpu, 8)) {
                err = DCM_PROCSTAT_ENOMEM;
                goto out;
            }
            snap->cpu[snap->ncpu].id = (int)id;
            snap->cpu[snap->ncpu].ticks = t;
            snap->ncpu++;
        }
    }
    if (ferror(f))
        err = DCM_PROCSTAT_EIO;
    else if (!have_all)
        err = DCM_PROCSTAT_EFORMAT;
out:
    fclose(f);
    return err;
}

void dcm_procstat_free(dcm_procstat *snap)
{
    if (!snap)
        return;
    free(snap->cpu);
    memset(snap, 0, sizeof *snap);
}

bool dcm_procstat_util(const dcm_cpu_ticks *prev, const dcm_cpu_ticks *cur, double *pct)
{
    if (cur->total <= prev->total || cur->idle < prev->idle)
        return false;
    uint64_t dt = cur->total - prev->total;
    uint64_t di = cur->idle - prev->idle;
    if (di > dt)
        return false;
    *pct = 100.0 * (1.0 - (double)di / (double)dt);
    return true;
}
