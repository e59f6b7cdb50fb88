/*
 * test_journal_crash.c - the journal after things went wrong: a torn last record cut
 * at every byte, damaged records in the middle of a segment (the valid records after
 * them are kept), and a writer process killed with SIGKILL at random moments, several
 * rounds, after which the journal must hold a gap-free prefix with valid contents that
 * includes everything the writer had committed.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "journal_fixture.h"

static const char *const one_sink[] = {"mqtt"};

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

static void write_file(const char *path, const char *buf, size_t len)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(buf, 1, len, fp), len);
    fclose(fp);
}

static void seg_file(const jfix *f, uint64_t first, char *buf, size_t size)
{
    snprintf(buf, size, "%s/seg-%020llu.log", f->jdir, (unsigned long long)first);
}

/* The last record (a KPI record, so a long one) is cut at each of its bytes in turn:
 * the journal opens with exactly the records before it, counts the cut bytes, and
 * carries on appending. */
static void test_torn_tail_every_offset(void **state)
{
    jfix *f = *state;
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    o.segment_bytes = 1 << 20;
    o.max_bytes = 4 << 20;
    dcm_journal *j = jfix_open(&o);
    jfix_append_range(j, 1, 49);
    assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    size_t before = (size_t)st.bytes;
    jfix_append_range(j, 50, 50); /* record 50 is a KPI record */
    dcm_journal_close(j);
    char path[700];
    seg_file(f, 1, path, sizeof path);
    size_t len;
    char *whole = read_file(path, &len);
    assert_true(len > before + 30);
    for (size_t cut = before; cut < len; cut++) {
        write_file(path, whole, cut);
        j = jfix_open(&o);
        dcm_journal_get_stats(j, &st);
        assert_true(st.torn_bytes == cut - before);
        assert_true(st.last_seq == 49 && st.bytes == before);
        uint64_t last;
        assert_int_equal(jfix_drain(j, 0, 0, &last), 49);
        assert_true(last == 49);
        /* The torn record was never committed durably: its seq is given again. */
        jfix_append_range(j, 50, 50);
        assert_int_equal(dcm_journal_commit(j), DCM_JOURNAL_OK);
        assert_int_equal(jfix_drain(j, 0, 49, &last), 1);
        dcm_journal_close(j);
        /* Back to the torn state for the next cut (drop the newer segment). */
        char newer[700];
        seg_file(f, 50, newer, sizeof newer);
        unlink(newer);
    }
    /* Untouched, everything is there and nothing is cut. */
    write_file(path, whole, len);
    j = jfix_open(&o);
    dcm_journal_get_stats(j, &st);
    assert_true(st.torn_bytes == 0 && st.last_seq == 50);
    dcm_journal_close(j);
    free(whole);
}

/* Offset of the frame holding seq `want` in a segment that starts with seq `first`,
 * found by walking the frames' lengths. */
static size_t frame_offset(const char *buf, size_t len, uint64_t first, uint64_t want)
{
    size_t off = 0;
    for (uint64_t seq = first; off + 8 <= len; seq++) {
        if (seq == want)
            return off;
        uint32_t n = (uint32_t)(uint8_t)buf[off] | (uint32_t)(uint8_t)buf[off + 1] << 8 |
                     (uint32_t)(uint8_t)buf[off + 2] << 16 | (uint32_t)(uint8_t)buf[off + 3] << 24;
        off += 8 + n;
    }
    fail_msg("seq %llu not found", (unsigned long long)want);
    return 0;
}

/* Reads everything through a fresh journal; returns the count, checks contents. */
static uint64_t reopen_and_drain(const jfix *f, dcm_journal_stats *st, uint64_t *last)
{
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    o.segment_bytes = 1 << 20;
    o.max_bytes = 4 << 20;
    dcm_journal *j = jfix_open(&o);
    dcm_journal_get_stats(j, st);
    uint64_t n = jfix_drain(j, 0, 0, last);
    dcm_journal_close(j);
    return n;
}

static void build_segment(const jfix *f, uint64_t count)
{
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    o.segment_bytes = 1 << 20;
    o.max_bytes = 4 << 20;
    dcm_journal *j = jfix_open(&o);
    jfix_append_range(j, 1, count);
    dcm_journal_close(j);
}

static void test_corrupt_crc_middle(void **state)
{
    jfix *f = *state;
    build_segment(f, 400);
    char path[700];
    seg_file(f, 1, path, sizeof path);
    size_t len;
    char *buf = read_file(path, &len);
    /* Bit rot in the payload of record 150: its CRC no longer matches. */
    size_t off = frame_offset(buf, len, 1, 150);
    buf[off + 12] ^= 0x20;
    write_file(path, buf, len);
    dcm_journal_stats st;
    uint64_t last;
    uint64_t n = reopen_and_drain(f, &st, &last);
    /* Not a torn tail: nothing cut, the file keeps its length, the last record is read.
     * Lost: record 150 and the records up to the next one with an absolute time stamp
     * (at most 64), whose time stamps were relative to a lost one. */
    assert_true(st.torn_bytes == 0 && st.last_seq == 400 && last == 400);
    assert_true(n >= 400 - 64 && n < 400);
    free(buf);
}

static void test_corrupt_length_middle(void **state)
{
    jfix *f = *state;
    build_segment(f, 400);
    char path[700];
    seg_file(f, 1, path, sizeof path);
    size_t len;
    char *buf = read_file(path, &len);
    /* A length field that points far past the end would look like a torn tail; the
     * valid frames after it show it is damage. */
    size_t off = frame_offset(buf, len, 1, 200);
    buf[off + 1] = 0x7F;
    write_file(path, buf, len);
    dcm_journal_stats st;
    uint64_t last;
    uint64_t n = reopen_and_drain(f, &st, &last);
    assert_true(st.torn_bytes == 0 && last == 400);
    assert_true(n >= 400 - 64 && n < 400);
    free(buf);
}

static void test_garbage_tail_after_valid(void **state)
{
    jfix *f = *state;
    build_segment(f, 100);
    char path[700];
    seg_file(f, 1, path, sizeof path);
    size_t len;
    char *buf = read_file(path, &len);
    /* Zeros appended (a file system that extended the file before the data landed). */
    char *grown = calloc(1, len + 4096);
    assert_non_null(grown);
    memcpy(grown, buf, len);
    write_file(path, grown, len + 4096);
    dcm_journal_stats st;
    uint64_t last;
    assert_int_equal(reopen_and_drain(f, &st, &last), 100);
    assert_true(st.torn_bytes == 4096 && last == 100);
    free(grown);
    free(buf);
}

/* ---------------------------------------------------------------- SIGKILL */

/* The child: appends batches of records numbered by seq and commits, reporting each
 * committed seq on the pipe, until killed. */
static void crash_child(const jfix *f, int fd, dcm_journal_fsync pol)
{
    dcm_journal_options o = jfix_options(f, one_sink, 1);
    o.fsync = pol;
    o.segment_bytes = 16384;
    dcm_journal *j = NULL;
    if (dcm_journal_open(&o, &j) != DCM_JOURNAL_OK)
        _exit(2);
    dcm_journal_stats st;
    dcm_journal_get_stats(j, &st);
    uint64_t next = st.last_seq + 1;
    char point[64], body[128];
    for (unsigned batch = 0;; batch++) {
        unsigned n = 1 + batch % 37;
        for (unsigned i = 0; i < n; i++, next++) {
            dcm_jrec r = jfix_rec(next, point, sizeof point, body, sizeof body);
            if (dcm_journal_append(j, &r) != DCM_JOURNAL_OK || r.seq != next)
                _exit(3);
        }
        if (dcm_journal_commit(j) != DCM_JOURNAL_OK)
            _exit(4);
        uint64_t c = next - 1;
        if (write(fd, &c, sizeof c) != (ssize_t)sizeof c)
            _exit(5);
    }
}

static void test_sigkill_rounds(void **state)
{
    jfix *f = *state;
    const dcm_journal_fsync pols[] = {DCM_JOURNAL_FSYNC_NEVER, DCM_JOURNAL_FSYNC_BATCH,
                                      DCM_JOURNAL_FSYNC_INTERVAL};
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    uint64_t committed = 0;
    for (int round = 0; round < 10; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(f, fds[1], pols[round % 3]);
        }
        close(fds[1]);
        /* Kill at a random moment, once the child has committed something. */
        uint64_t c;
        assert_int_equal(read(fds[0], &c, sizeof c), (ssize_t)sizeof c);
        usleep((useconds_t)(1000 + rand() % 40000));
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        while (read(fds[0], &c, sizeof c) == (ssize_t)sizeof c)
            committed = c > committed ? c : committed;
        close(fds[0]);
        dcm_journal_stats st;
        uint64_t last;
        uint64_t n = reopen_and_drain(f, &st, &last);
        /* A gap-free prefix 1..last (drain checks order, gaps and every field), holding
         * at least everything the child had committed: a process crash loses nothing. */
        assert_true(n == last);
        assert_true(st.first_seq == 1 || n == 0);
        if (last < committed)
            fail_msg("round %d (seed %u): committed %llu but only %llu kept", round, seed,
                     (unsigned long long)committed, (unsigned long long)last);
        committed = last;
    }
    assert_true(committed > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_crc_middle, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_length_middle, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_garbage_tail_after_valid, jfix_setup,
                                        jfix_teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_rounds, jfix_setup, jfix_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
