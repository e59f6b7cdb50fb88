/*
 * test_outputs.c - the output hub with a sink written here: samples, closed KPI records,
 * instant records (one a second) and alerts arrive in seq order with the right contents,
 * acknowledgements release the journal, and what was not delivered at destroy is
 * delivered after the next start. Also the outputs.journal configuration.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "journal_fixture.h"
#include "outputs/outputs.h"

/* ------------------------------------------------------------ test sink */

#define MAX_GOT 4096

typedef struct got_rec {
    uint64_t seq;
    dcm_jrec_type type;
    int64_t ts_ns;
    char key[32];
    char point[64];
    double value;
    char *body;
} got_rec;

typedef struct tsink {
    const dcm_sink_env *env;
    pthread_mutex_t lock;
    got_rec got[MAX_GOT];
    size_t count;
    bool ack;          /* acknowledge what was read */
    bool fail_create;
    bool destroyed;
    uint64_t first_after; /* where run() started reading */
} tsink;

static tsink sink_state;

static int tsink_create(const dcm_sink_env *env, void **state)
{
    if (sink_state.fail_create)
        return -1;
    sink_state.env = env;
    *state = &sink_state;
    return 0;
}

static void tsink_run(void *state, const atomic_bool *stop)
{
    tsink *t = state;
    dcm_journal *j = t->env->journal;
    size_t reader = t->env->reader;
    uint64_t after = dcm_journal_cursor(j, reader);
    t->first_after = after;
    dcm_jrec recs[64];
    while (!atomic_load(stop)) {
        size_t n = dcm_journal_read(j, reader, after, recs, 64, 20);
        pthread_mutex_lock(&t->lock);
        for (size_t i = 0; i < n && t->count < MAX_GOT; i++) {
            got_rec *g = &t->got[t->count++];
            g->seq = recs[i].seq;
            g->type = recs[i].type;
            g->ts_ns = recs[i].ts_ns;
            snprintf(g->key, sizeof g->key, "%s", recs[i].key ? recs[i].key : "");
            snprintf(g->point, sizeof g->point, "%s", recs[i].point ? recs[i].point : "");
            g->value = recs[i].value;
            g->body = recs[i].body ? strndup(recs[i].body, recs[i].body_len) : NULL;
        }
        pthread_mutex_unlock(&t->lock);
        if (n) {
            after = recs[n - 1].seq;
            if (t->ack)
                dcm_journal_ack(j, reader, after);
        }
    }
}

static void tsink_health(void *state, dcm_sink_health *out)
{
    tsink *t = state;
    pthread_mutex_lock(&t->lock);
    out->connected = true;
    out->sent = t->count;
    pthread_mutex_unlock(&t->lock);
}

static void tsink_destroy(void *state)
{
    tsink *t = state;
    t->destroyed = true;
}

static const dcm_sink_ops test_sink = {
    .name = "test",
    .create = tsink_create,
    .run = tsink_run,
    .health = tsink_health,
    .destroy = tsink_destroy,
};

static void tsink_reset(bool ack)
{
    for (size_t i = 0; i < sink_state.count; i++)
        free(sink_state.got[i].body);
    pthread_mutex_destroy(&sink_state.lock);
    memset(&sink_state, 0, sizeof sink_state);
    pthread_mutex_init(&sink_state.lock, NULL);
    sink_state.ack = ack;
}

static size_t tsink_wait(size_t want)
{
    for (int i = 0; i < 500; i++) {
        pthread_mutex_lock(&sink_state.lock);
        size_t n = sink_state.count;
        pthread_mutex_unlock(&sink_state.lock);
        if (n >= want)
            return n;
        usleep(10 * 1000);
    }
    return sink_state.count;
}

/* ------------------------------------------------------------- fixtures */

static const char *const yaml =
    "agent:\n"
    "  site: hall-1\n"
    "site:\n"
    "  zones:\n"
    "    - {name: hall-a, it: [pdu-a*.energy]}\n"
    "outputs:\n"
    "  journal:\n"
    "    max_size: 1MiB\n"
    "    segment_size: 4KiB\n"
    "    fsync: never\n";

static dcm_config *load(const char *text, dcm_diags *d)
{
    dcm_config *cfg = NULL;
    dcm_diags_init(d);
    dcm_config_load_string(text, strlen(text), "outputs.yaml", &cfg, d);
    return cfg;
}

static dcm_config *load_ok(const char *text)
{
    dcm_diags d;
    dcm_config *cfg = load(text, &d);
    if (!cfg || d.errors)
        dcm_diags_print(&d, stderr);
    assert_non_null(cfg);
    assert_int_equal(d.errors, 0);
    dcm_diags_free(&d);
    return cfg;
}

static dcm_outputs *hub(const dcm_config *cfg, const jfix *f)
{
    const dcm_sink_ops *sinks[] = {&test_sink};
    dcm_outputs *o = NULL;
    assert_int_equal(dcm_outputs_create_with_sinks(cfg, f->dir, sinks, 1, &o), DCM_OUTPUTS_OK);
    assert_non_null(o);
    return o;
}

/* A KPI record of window w for [start, end) with a PUE of 1.25. */
static void feed_record(const dcm_runtime_listener *l, const dcm_config *cfg, dcm_window w,
                        int64_t start, int64_t end, bool interim)
{
    dcm_totals totals;
    dcm_totals_init(&totals, start, end, 1);
    dcm_kpi_set kpi;
    memset(&kpi, 0, sizeof kpi);
    kpi.pue = (dcm_opt){.value = 1.25, .has_value = true, .quality = DCM_QUALITY_OK};
    dcm_kpi_record rec = {.window = w, .start_ns = start, .end_ns = end, .interim = interim,
                          .totals = &totals, .kpi = &kpi, .ruleset = "test"};
    l->on_record(l->ctx, &rec, cfg);
}

/* One minute of data: 60 s x 3 points, the instant record every 0.5 s, the 1m record at
 * the end, one alert; a batch end every second. Returns the records expected. */
static size_t feed_minute(const dcm_runtime_listener *l, const dcm_config *cfg, dcm_outputs *o)
{
    size_t expected = 0;
    for (int s = 0; s < 60; s++) {
        int64_t ts = JT_T0 + s * JT_NS;
        for (int p = 0; p < 3; p++) {
            char id[32];
            snprintf(id, sizeof id, "pdu-a%d.power", p);
            l->on_sample(l->ctx, id, "W", ts, 1000.0 * p + s, DCM_QUALITY_OK);
            expected++;
        }
        feed_record(l, cfg, DCM_WINDOW_INSTANT, ts, ts, true);
        feed_record(l, cfg, DCM_WINDOW_INSTANT, ts + JT_NS / 2, ts + JT_NS / 2, true);
        expected++; /* the second of each pair is within the second: dropped */
        if (s == 30) {
            dcm_outputs_alert(o, ts, "pue-high", "{\"rule\":\"pue-high\",\"state\":\"firing\"}");
            expected++;
        }
        l->on_batch_end(l->ctx);
    }
    feed_record(l, cfg, DCM_WINDOW_1M, JT_T0, JT_T0 + 60 * JT_NS, false);
    expected++;
    l->on_batch_end(l->ctx);
    return expected;
}

/* ---------------------------------------------------------------- tests */

static void test_hub_delivers_in_order(void **state)
{
    jfix *f = *state;
    tsink_reset(true);
    dcm_config *cfg = load_ok(yaml);
    dcm_outputs *o = hub(cfg, f);
    dcm_runtime_listener l = dcm_outputs_listener(o);
    assert_true(l.instant && l.on_sample && l.on_record && l.on_batch_end && l.ctx == o);
    assert_int_equal(dcm_outputs_start(o), DCM_OUTPUTS_OK);
    size_t expected = feed_minute(&l, cfg, o);
    assert_int_equal(expected, 180 + 60 + 1 + 1);
    assert_int_equal(tsink_wait(expected), expected);
    usleep(50 * 1000);
    assert_int_equal(sink_state.count, expected); /* nothing more */
    size_t samples = 0, instants = 0, closed = 0, alerts = 0;
    for (size_t i = 0; i < sink_state.count; i++) {
        const got_rec *g = &sink_state.got[i];
        assert_true(g->seq == i + 1);
        if (g->type == DCM_JREC_SAMPLE) {
            assert_true(strncmp(g->point, "pdu-a", 5) == 0);
            samples++;
        } else if (g->type == DCM_JREC_KPI && strcmp(g->key, "instant") == 0) {
            /* Whole seconds only: the half-second ones came too soon after. */
            assert_true((g->ts_ns - JT_T0) % JT_NS == 0);
            assert_non_null(strstr(g->body, "\"interim\":true"));
            instants++;
        } else if (g->type == DCM_JREC_KPI) {
            assert_string_equal(g->key, "1m");
            assert_true(g->ts_ns == JT_T0 + 60 * JT_NS);
            assert_non_null(strstr(g->body, "\"site\":\"hall-1\""));
            assert_non_null(strstr(g->body, "\"window\":\"1m\""));
            assert_non_null(strstr(g->body, "\"pue\":1.25"));
            assert_non_null(strstr(g->body, "\"hall-a\""));
            closed++;
        } else {
            assert_int_equal(g->type, DCM_JREC_ALERT);
            assert_string_equal(g->key, "pue-high");
            assert_string_equal(g->body, "{\"rule\":\"pue-high\",\"state\":\"firing\"}");
            alerts++;
        }
    }
    assert_true(samples == 180 && instants == 60 && closed == 1 && alerts == 1);
    dcm_outputs_sink_status ss[2];
    assert_int_equal(dcm_outputs_sinks(o, ss, 2), 1);
    assert_string_equal(ss[0].name, "test");
    assert_true(ss[0].health.connected && ss[0].health.sent == expected);
    assert_true(ss[0].pending == 0);
    dcm_journal_stats st;
    assert_true(dcm_outputs_journal_stats(o, &st));
    assert_true(st.appended == expected && st.writable && st.last_seq == expected);
    assert_true(dcm_outputs_lost(o) == 0);
    dcm_outputs_destroy(o);
    assert_true(sink_state.destroyed);
    /* Everything was acknowledged: the newest segment alone is kept. */
    char jdir[600];
    snprintf(jdir, sizeof jdir, "%s/journal", f->dir);
    assert_int_equal(jfix_count_files(jdir, "seg-"), 1);
    assert_int_equal(jfix_count_files(jdir, "cursor-test"), 1);
    tsink_reset(true);
    dcm_config_destroy(cfg);
}

static void test_undelivered_survive_restart(void **state)
{
    jfix *f = *state;
    /* A sink that never gets an acknowledgement (its server is down). */
    tsink_reset(false);
    dcm_config *cfg = load_ok(yaml);
    dcm_outputs *o = hub(cfg, f);
    dcm_runtime_listener l = dcm_outputs_listener(o);
    assert_int_equal(dcm_outputs_start(o), DCM_OUTPUTS_OK);
    size_t expected = feed_minute(&l, cfg, o);
    assert_int_equal(tsink_wait(expected), expected);
    dcm_outputs_destroy(o);
    /* Next start: the server is back; everything is delivered again, in order. */
    tsink_reset(true);
    o = hub(cfg, f);
    dcm_outputs_sink_status ss[1];
    assert_int_equal(dcm_outputs_sinks(o, ss, 1), 1);
    assert_true(ss[0].pending == expected);
    assert_int_equal(dcm_outputs_start(o), DCM_OUTPUTS_OK);
    assert_int_equal(tsink_wait(expected), expected);
    assert_true(sink_state.first_after == 0);
    for (size_t i = 0; i < expected; i++)
        assert_true(sink_state.got[i].seq == i + 1);
    dcm_outputs_destroy(o);
    /* And after that, nothing is pending. */
    tsink_reset(true);
    o = hub(cfg, f);
    assert_int_equal(dcm_outputs_sinks(o, ss, 1), 1);
    assert_true(ss[0].pending == 0);
    dcm_outputs_destroy(o);
    tsink_reset(true);
    dcm_config_destroy(cfg);
}

static void test_create_failures(void **state)
{
    jfix *f = *state;
    tsink_reset(true);
    dcm_config *cfg = load_ok(yaml);
    /* No sink: no hub, and nothing on disk. */
    dcm_outputs *o = (dcm_outputs *)&o;
    assert_int_equal(dcm_outputs_create(cfg, f->dir, &o), DCM_OUTPUTS_OK);
    assert_null(o);
    dcm_runtime_listener l = dcm_outputs_listener(NULL);
    assert_true(!l.on_sample && !l.on_record && !l.on_batch_end);
    assert_int_equal(dcm_outputs_start(NULL), DCM_OUTPUTS_OK);
    dcm_outputs_destroy(NULL);
    char jdir[600];
    snprintf(jdir, sizeof jdir, "%s/journal", f->dir);
    struct stat sb;
    assert_int_not_equal(stat(jdir, &sb), 0);
    /* A sink that cannot be built from its configuration. */
    sink_state.fail_create = true;
    const dcm_sink_ops *sinks[] = {&test_sink};
    assert_int_equal(dcm_outputs_create_with_sinks(cfg, f->dir, sinks, 1, &o),
                     DCM_OUTPUTS_ECONFIG);
    assert_null(o);
    sink_state.fail_create = false;
    /* The journal held by another process (here: another open). */
    const char *names[] = {"test"};
    dcm_journal_options jo = {.dir = jdir, .sinks = names, .sink_count = 1};
    dcm_journal *j = NULL;
    assert_int_equal(dcm_journal_open(&jo, &j), DCM_JOURNAL_OK);
    assert_int_equal(dcm_outputs_create_with_sinks(cfg, f->dir, sinks, 1, &o),
                     DCM_OUTPUTS_EJOURNAL);
    assert_null(o);
    dcm_journal_close(j);
    assert_string_equal(dcm_outputs_strerror(DCM_OUTPUTS_EJOURNAL),
                        "the output journal cannot be opened");
    dcm_config_destroy(cfg);
}

/* ---------------------------------------------------------------- config */

static void test_config_journal(void **state)
{
    (void)state;
    dcm_config *cfg = load_ok("agent: {site: a}\n");
    const dcm_journal_config *jc = &cfg->outputs.journal;
    assert_true(jc->max_bytes == 256ull << 20 && jc->segment_bytes == 8ull << 20);
    assert_true(jc->fsync == DCM_JOURNAL_FSYNC_BATCH && jc->when_full == 0);
    assert_true(jc->fsync_interval_ns == JT_NS && jc->node == NULL);
    dcm_config_destroy(cfg);
    cfg = load_ok("outputs:\n"
                  "  journal:\n"
                  "    max_size: 500MB\n"
                  "    segment_size: 1.5MiB\n"
                  "    fsync: interval\n"
                  "    fsync_interval: 250ms\n"
                  "    when_full: drop_oldest\n");
    jc = &cfg->outputs.journal;
    assert_true(jc->max_bytes == 500000000ull && jc->segment_bytes == 1572864ull);
    assert_true(jc->fsync == DCM_JOURNAL_FSYNC_INTERVAL);
    assert_true(jc->fsync_interval_ns == 250 * 1000000LL);
    assert_true(jc->when_full == DCM_JOURNAL_FULL_DROP_OLDEST && jc->node != NULL);
    dcm_config_destroy(cfg);
    cfg = load_ok("outputs: {journal: {max_size: 65536, segment_size: 32KiB, fsync: never, "
                  "when_full: refuse_all}}\n");
    assert_true(cfg->outputs.journal.max_bytes == 65536 &&
                cfg->outputs.journal.segment_bytes == 32768);
    assert_true(cfg->outputs.journal.fsync == DCM_JOURNAL_FSYNC_NEVER &&
                cfg->outputs.journal.when_full == DCM_JOURNAL_FULL_REFUSE_ALL);
    dcm_config_destroy(cfg);

    static const struct {
        const char *text;
        int line, column;
        const char *path, *message;
    } bad[] = {
        {"outputs:\n  journal:\n    max_size: 12 parsecs\n", 3, 15, "outputs.journal.max_size",
         "expected a size like 256MiB"},
        {"outputs:\n  journal:\n    max_size: 1MiB\n    segment_size: 1MiB\n", 3, 15,
         "outputs.journal.max_size", "must hold at least two segments"},
        {"outputs:\n  journal:\n    segment_size: 100\n", 3, 19, "outputs.journal.segment_size",
         "must be from 4KiB to 1GiB"},
        {"outputs:\n  journal:\n    fsync: sometimes\n", 3, 12, "outputs.journal.fsync",
         "expected batch, interval or never"},
        {"outputs:\n  journal:\n    when_full: drop_olderst\n", 3, 16,
         "outputs.journal.when_full", "did you mean 'drop_oldest'?"},
        {"outputs:\n  journal:\n    fsync_interval: 1ms\n", 3, 21,
         "outputs.journal.fsync_interval", "at least 10ms"},
        {"outputs:\n  journal:\n    max_bytes: 1MiB\n", 3, 5, "outputs.journal",
         "unknown key 'max_bytes'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dcm_diags d;
        cfg = load(bad[i].text, &d);
        assert_null(cfg);
        assert_true(d.errors >= 1);
        bool found = false;
        for (size_t k = 0; k < d.count; k++) {
            const dcm_diag *g = &d.items[k];
            if (g->line == bad[i].line && g->column == bad[i].column &&
                strcmp(g->path, bad[i].path) == 0 && strstr(g->message, bad[i].message))
                found = true;
        }
        if (!found) {
            dcm_diags_print(&d, stderr);
            fail_msg("case %zu: no diagnostic at %d:%d %s", i, bad[i].line, bad[i].column,
                     bad[i].path);
        }
        dcm_diags_free(&d);
    }
}

int main(void)
{
    pthread_mutex_init(&sink_state.lock, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hub_delivers_in_order, jfix_setup, jfix_teardown),
        cmocka_unit_test_setup_teardown(test_undelivered_survive_restart, jfix_setup,
                                        jfix_teardown),
        cmocka_unit_test_setup_teardown(test_create_failures, jfix_setup, jfix_teardown),
        cmocka_unit_test(test_config_journal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
