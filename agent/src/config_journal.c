/* outputs.journal: size bounds with byte units, the fsync policy and the policy when the
 * journal is full (docs/journal.md). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

#define KIB 1024ull
#define MIB (1024ull * KIB)
#define GIB (1024ull * MIB)
#define MIN_SEGMENT (4 * KIB)
#define MAX_SEGMENT GIB
#define MIN_FSYNC_INTERVAL_NS (10 * INT64_C(1000000))

static const dcm_config_key journal_keys[] = {
    {"max_size", DCM_KEY_STRING, "256MiB", false,
     "bound on the journal's size on disk, e.g. 256MiB, 2GiB, 500MB"},
    {"segment_size", DCM_KEY_STRING, "8MiB", false, "size of one segment file"},
    {"fsync", DCM_KEY_STRING, "batch", false, "batch, interval or never"},
    {"fsync_interval", DCM_KEY_DURATION, "1s", false, "for fsync: interval"},
    {"when_full", DCM_KEY_STRING, "keep_kpi", false, "keep_kpi, refuse_all or drop_oldest"},
    {NULL, DCM_KEY_STRING, NULL, false, NULL},
};

/* "4096", "64KiB", "8MiB", "2GiB", "500MB", "1.5GiB" -> bytes (binary units are powers of
 * 1024, decimal ones of 1000). */
static bool parse_bytes(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        double mul;
    } units[] = {{"", 1},          {"B", 1},         {"KiB", 1024.0},     {"MiB", 1048576.0},
                 {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}, {"kB", 1e3}, {"KB", 1e3},
                 {"MB", 1e6},      {"GB", 1e9},      {"TB", 1e12}};
    if (!s || !isdigit((unsigned char)s[0]))
        return false;
    char *end;
    double v = strtod(s, &end);
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strcmp(end, units[i].unit) != 0)
            continue;
        double bytes = floor(v * units[i].mul);
        if (!isfinite(bytes) || bytes < 1 || bytes > 9.0e18)
            return false;
        *out = (uint64_t)bytes;
        return true;
    }
    return false;
}

static void read_size(dcm_cfg_ctx *c, const dcm_node *map, const char *key, uint64_t *out)
{
    const dcm_node *n = dcm_node_get(map, key);
    const char *s = NULL;
    if (!n || dcm_node_is_null(n) || !dcm_node_as_string(n, &s))
        return;
    if (parse_bytes(s, out))
        return;
    char where[64];
    snprintf(where, sizeof where, "outputs.journal.%s", key);
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, where,
                "expected a size like 256MiB, 2GiB, 500MB or a number of bytes, got '%.40s'", s);
}

static int read_choice(dcm_cfg_ctx *c, const dcm_node *map, const char *key,
                       const char *const *names, int dflt)
{
    const dcm_node *n = dcm_node_get(map, key);
    const char *s = NULL;
    if (!n || dcm_node_is_null(n) || !dcm_node_as_string(n, &s))
        return dflt;
    size_t count = 0;
    for (; names[count]; count++)
        if (strcmp(s, names[count]) == 0)
            return (int)count;
    const char *sug = dcm_suggest(s, names, count);
    char where[64];
    snprintf(where, sizeof where, "outputs.journal.%s", key);
    dcm_diag_at(c->diags, DCM_DIAG_ERROR, n, where, "expected %s, %s or %s, got '%.40s'%s%s%s",
                names[0], names[1], names[2], s, sug ? ", did you mean '" : "",
                sug ? sug : "", sug ? "'?" : "");
    return dflt;
}

void dcm_cfg_load_journal(dcm_cfg_ctx *c, const dcm_node *journal, dcm_journal_config *out)
{
    static const char *const fsyncs[] = {"batch", "interval", "never", NULL};
    static const char *const policies[] = {"keep_kpi", "refuse_all", "drop_oldest", NULL};
    *out = (dcm_journal_config){
        .max_bytes = 256 * MIB,
        .segment_bytes = 8 * MIB,
        .fsync = 0,
        .fsync_interval_ns = DCM_NS_PER_S,
        .when_full = 0,
    };
    if (!journal || !dcm_cfg_check_keys(c, journal, "outputs.journal", journal_keys, NULL))
        return;
    out->node = journal;
    read_size(c, journal, "max_size", &out->max_bytes);
    read_size(c, journal, "segment_size", &out->segment_bytes);
    out->fsync = read_choice(c, journal, "fsync", fsyncs, 0);
    out->when_full = read_choice(c, journal, "when_full", policies, 0);
    const dcm_node *iv = dcm_node_get(journal, "fsync_interval");
    int64_t ns;
    if (dcm_node_as_duration_ns(iv, &ns)) {
        if (ns < MIN_FSYNC_INTERVAL_NS)
            dcm_diag_at(c->diags, DCM_DIAG_ERROR, iv, "outputs.journal.fsync_interval",
                        "must be at least 10ms");
        else
            out->fsync_interval_ns = ns;
    }
    const dcm_node *seg = dcm_node_get(journal, "segment_size");
    if (out->segment_bytes < MIN_SEGMENT || out->segment_bytes > MAX_SEGMENT)
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, seg, "outputs.journal.segment_size",
                    "must be from 4KiB to 1GiB, got %llu bytes",
                    (unsigned long long)out->segment_bytes);
    else if (out->max_bytes / 2 < out->segment_bytes) {
        const dcm_node *max = dcm_node_get(journal, "max_size");
        dcm_diag_at(c->diags, DCM_DIAG_ERROR, max ? max : seg, "outputs.journal.max_size",
                    "must hold at least two segments (segment_size %llu bytes), got %llu bytes",
                    (unsigned long long)out->segment_bytes,
                    (unsigned long long)out->max_bytes);
    }
}
