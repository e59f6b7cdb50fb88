/*
 * fuzz_journal.c - arbitrary bytes as a journal segment: opening (recovery) and reading
 * must never crash, leak or return records out of order, and the journal must accept
 * appends afterwards.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dcm/log.h"
#include "outputs/journal.h"

static char dir[256];

static void clear_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/dcm-fuzz-journal-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        if (!mkdtemp(dir))
            abort();
        dcm_log_set_level((dcm_log_level)-1);
    }
    clear_dir();
    char path[512];
    snprintf(path, sizeof path, "%s/seg-00000000000000000001.log", dir);
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);

    const char *sinks[] = {"fuzz"};
    dcm_journal_options o = {.dir = dir, .segment_bytes = 4096, .max_bytes = 1 << 20,
                             .fsync = DCM_JOURNAL_FSYNC_NEVER, .sinks = sinks,
                             .sink_count = 1};
    dcm_journal *j = NULL;
    if (dcm_journal_open(&o, &j) != DCM_JOURNAL_OK)
        return 0;
    dcm_jrec out[16];
    uint64_t prev = 0;
    size_t n;
    while ((n = dcm_journal_read(j, 0, prev, out, 16, 0)) > 0) {
        for (size_t i = 0; i < n; i++) {
            if (out[i].seq <= prev)
                abort();
            if (out[i].type == DCM_JREC_SAMPLE ? !out[i].point || !out[i].unit
                                               : !out[i].key || !out[i].body)
                abort();
            prev = out[i].seq;
        }
    }
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    dcm_jrec r = {.type = DCM_JREC_SAMPLE, .ts_ns = 1, .point = "a.b", .unit = "W",
                  .value = 1.0};
    if (dcm_journal_append(j, &r) == DCM_JOURNAL_OK) {
        if (r.seq <= st.last_seq)
            abort();
        dcm_journal_commit(j);
        if (dcm_journal_read(j, 0, r.seq - 1, out, 1, 0) != 1 || out[0].seq != r.seq)
            abort();
    }
    dcm_journal_close(j);
    return 0;
}
