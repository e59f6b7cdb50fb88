/* Discovery of the powercap RAPL zones and reads of their counters. */
#include "rapl.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

const char *dcm_rapl_strerror(dcm_rapl_err err)
{
    switch (err) {
    case DCM_RAPL_OK: return "ok";
    case DCM_RAPL_ENOZONE: return "no RAPL zone";
    case DCM_RAPL_EACCES: return "permission denied";
    case DCM_RAPL_EIO: return "cannot read";
    case DCM_RAPL_ENOMEM: return "out of memory";
    }
    return "unknown RAPL error";
}

/* Reads the first line of a small sysfs file into buf, without the newline. */
static dcm_rapl_err read_line(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == EACCES || errno == EPERM ? DCM_RAPL_EACCES : DCM_RAPL_EIO;
    bool ok = fgets(buf, (int)size, f) != NULL;
    int saved = errno;
    fclose(f);
    if (!ok) {
        errno = saved;
        /* sysfs refuses the read itself (not the open) on some kernels. */
        return saved == EACCES || saved == EPERM ? DCM_RAPL_EACCES : DCM_RAPL_EIO;
    }
    buf[strcspn(buf, "\r\n")] = '\0';
    return DCM_RAPL_OK;
}

static dcm_rapl_err read_number(const char *path, double *out)
{
    char buf[64], *end;
    dcm_rapl_err err = read_line(path, buf, sizeof buf);
    if (err != DCM_RAPL_OK)
        return err;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf || *end || errno) {
        errno = EINVAL;
        return DCM_RAPL_EIO;
    }
    *out = (double)v;
    return DCM_RAPL_OK;
}

dcm_rapl_err dcm_rapl_read(const dcm_rapl_zone *z, double *uj)
{
    return read_number(z->energy_path, uj);
}

/* "intel-rapl:N" or "intel-rapl:N:M": the ids, sub = -1 for a top zone. */
static bool zone_ids(const char *name, long *top, long *sub)
{
    char *end;
    if (strncmp(name, "intel-rapl:", 11) != 0)
        return false;
    *top = strtol(name + 11, &end, 10);
    if (end == name + 11 || *top < 0)
        return false;
    *sub = -1;
    if (*end == ':') {
        const char *s = end + 1;
        *sub = strtol(s, &end, 10);
        if (end == s || *sub < 0)
            return false;
    }
    return *end == '\0';
}

typedef struct found {
    long top, sub;
    char dir[4400];
    char name[64];
} found;

static int cmp_found(const void *a, const void *b)
{
    const found *x = a, *y = b;
    if (x->top != y->top)
        return x->top < y->top ? -1 : 1;
    return x->sub < y->sub ? -1 : x->sub > y->sub;
}

static void zone_free(dcm_rapl_zone *z)
{
    free(z->label);
    free(z->energy_path);
}

void dcm_rapl_zones_free(dcm_rapl_zones *z)
{
    if (!z)
        return;
    for (size_t i = 0; i < z->count; i++)
        zone_free(&z->items[i]);
    free(z->items);
    memset(z, 0, sizeof *z);
}

dcm_rapl_err dcm_rapl_scan(const char *root, dcm_rapl_zones *out, char *why, size_t why_size)
{
    char base[4096], path[4500];
    found *list = NULL;
    size_t n = 0, cap = 0;
    dcm_rapl_err err = DCM_RAPL_OK;
    size_t rl = root ? strlen(root) : 0;

    memset(out, 0, sizeof *out);
    snprintf(base, sizeof base, "%s%ssys/class/powercap", root ? root : "",
             rl && root[rl - 1] == '/' ? "" : "/");
    DIR *d = opendir(base);
    if (!d) {
        snprintf(why, why_size, "%s: %s", base, strerror(errno));
        return errno == EACCES ? DCM_RAPL_EACCES : DCM_RAPL_ENOZONE;
    }
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        long top, sub;
        if (!zone_ids(e->d_name, &top, &sub))
            continue;
        if (!dcm_grow((void **)&list, &cap, n + 1, sizeof *list, 8)) {
            err = DCM_RAPL_ENOMEM;
            goto out;
        }
        found *f = &list[n];
        f->top = top;
        f->sub = sub;
        snprintf(f->dir, sizeof f->dir, "%s/%s", base, e->d_name);
        snprintf(path, sizeof path, "%s/name", f->dir);
        err = read_line(path, f->name, sizeof f->name);
        if (err != DCM_RAPL_OK || !f->name[0]) {
            snprintf(why, why_size, "%s: %s", path, err == DCM_RAPL_OK ? "empty" : strerror(errno));
            err = err == DCM_RAPL_OK ? DCM_RAPL_EIO : err;
            goto out;
        }
        n++;
    }
    if (n == 0) {
        snprintf(why, why_size, "%s has no intel-rapl:* zone", base);
        err = DCM_RAPL_ENOZONE;
        goto out;
    }
    qsort(list, n, sizeof *list, cmp_found);
    out->items = calloc(n, sizeof *out->items);
    if (!out->items) {
        err = DCM_RAPL_ENOMEM;
        goto out;
    }
    out->cap = n;
    for (size_t i = 0; i < n; i++) {
        found *f = &list[i];
        dcm_rapl_zone *z = &out->items[out->count];
        char label[160];
        const char *parent = NULL;
        for (size_t j = 0; f->sub >= 0 && j < n; j++)
            if (list[j].top == f->top && list[j].sub < 0)
                parent = list[j].name;
        /* Subzones carry their package's name: two packages each have a "dram". */
        snprintf(label, sizeof label, "%s%s%s", parent ? parent : "", parent ? "." : "", f->name);
        snprintf(path, sizeof path, "%s/max_energy_range_uj", f->dir);
        err = read_number(path, &z->max_range_uj);
        if (err == DCM_RAPL_OK) {
            snprintf(path, sizeof path, "%s/energy_uj", f->dir);
            z->label = strdup(label);
            z->energy_path = strdup(path);
            if (!z->label || !z->energy_path) {
                zone_free(z);
                err = DCM_RAPL_ENOMEM;
                goto out;
            }
            out->count++;
            double probe;
            err = dcm_rapl_read(z, &probe);
        }
        if (err != DCM_RAPL_OK) {
            snprintf(why, why_size, "%s: %s", path, strerror(errno));
            goto out;
        }
    }
out:
    closedir(d);
    free(list);
    if (err != DCM_RAPL_OK)
        dcm_rapl_zones_free(out);
    if (err == DCM_RAPL_ENOMEM)
        snprintf(why, why_size, "out of memory");
    return err;
}
