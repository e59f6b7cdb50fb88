/*
 * ledger.c - the energy ledger's storage: opening (schema, WAL, the writer lock),
 * points, minute rows, integrator state, corrections, and the statement cache shared
 * with ledger_rollup.c and ledger_query.c. The schema and the rules are described in
 * docs/ledger.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger_int.h"

#define DCM_LEDGER_DEFAULT_MINUTE_RETENTION_NS (INT64_C(40) * 86400 * DCM_NS_PER_S)
#define DCM_LEDGER_DEFAULT_QUARTER_RETENTION_NS (INT64_C(400) * 86400 * DCM_NS_PER_S)
/* A writer waits this long for a lock held by a reader's checkpoint or a crashed
 * writer's recovery before reporting EBUSY. */
#define DCM_LEDGER_BUSY_TIMEOUT_MS 5000
/* The WAL file is kept between runs (so that readers never have to create it) but
 * truncated to this size after a checkpoint. */
#define DCM_LEDGER_WAL_LIMIT_BYTES (4 * 1024 * 1024)

/* dcm_ledger_open fails before there is a handle to hold the message. */
static _Thread_local char dcm_ledger_open_errmsg[256];

static const char dcm_ledger_schema[] =
    "CREATE TABLE points("
    " key INTEGER PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " unit TEXT NOT NULL,"
    " kind INTEGER NOT NULL,"
    " quantity INTEGER NOT NULL);"
    "CREATE TABLE minute("
    " start_s INTEGER NOT NULL,"
    " point INTEGER NOT NULL REFERENCES points(key),"
    " amount REAL NOT NULL, estimated REAL NOT NULL, covered_s REAL NOT NULL,"
    " samples INTEGER NOT NULL, corrections INTEGER NOT NULL,"
    " final INTEGER NOT NULL,"
    " PRIMARY KEY(start_s, point)) WITHOUT ROWID;"
    "CREATE TABLE quarter("
    " start_s INTEGER NOT NULL,"
    " point INTEGER NOT NULL,"
    " amount REAL NOT NULL, estimated REAL NOT NULL, covered_s REAL NOT NULL,"
    " samples INTEGER NOT NULL, corrections INTEGER NOT NULL,"
    " PRIMARY KEY(start_s, point)) WITHOUT ROWID;"
    "CREATE TABLE day("
    " start_s INTEGER NOT NULL,"
    " point INTEGER NOT NULL,"
    " end_s INTEGER NOT NULL,"
    " amount REAL NOT NULL, estimated REAL NOT NULL, covered_s REAL NOT NULL,"
    " samples INTEGER NOT NULL, corrections INTEGER NOT NULL,"
    " PRIMARY KEY(start_s, point)) WITHOUT ROWID;"
    "CREATE TABLE state("
    " point INTEGER PRIMARY KEY REFERENCES points(key),"
    " last_ts_ns INTEGER NOT NULL, last_value REAL NOT NULL, rate REAL NOT NULL);"
    "CREATE TABLE corrections("
    " point INTEGER NOT NULL REFERENCES points(key),"
    " t0_ns INTEGER NOT NULL, t1_ns INTEGER NOT NULL, amount REAL NOT NULL,"
    " kind INTEGER NOT NULL, flags INTEGER NOT NULL);"
    "CREATE INDEX corrections_t1 ON corrections(t1_ns);"
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE dirty(start_s INTEGER PRIMARY KEY);"
    "PRAGMA user_version = 1;";

/* A sum reads up to three pieces [a, b) (ns) of each table (ledger_query.c chooses
 * them). A row counts by the share of it inside its piece; rows lying wholly inside get
 * a factor of exactly 1. lo..hi bound start_s so that SQLite walks the primary key. */
#define DCM_SUM_PART(table, len_ns, end_expr, a, b, lo, hi)                                 \
    "SELECT point, amount, estimated, covered_s, samples, corrections,"                    \
    " (min(" end_expr ", " b ") - max(start_s * 1000000000, " a ")) * 1.0 / (" len_ns ")"  \
    " AS f FROM " table " WHERE start_s >= " lo " AND start_s < " hi                       \
    " AND start_s * 1000000000 < " b " AND " end_expr " > " a

#define DCM_SUM_MINUTE(a, b, lo, hi)                                                        \
    DCM_SUM_PART("minute", "60000000000", "(start_s * 1000000000 + 60000000000)", "?" #a,   \
                 "?" #b, "?" #lo, "?" #hi)
#define DCM_SUM_QUARTER(a, b, lo, hi)                                                       \
    DCM_SUM_PART("quarter", "900000000000", "(start_s * 1000000000 + 900000000000)",       \
                 "?" #a, "?" #b, "?" #lo, "?" #hi)
#define DCM_SUM_DAY(a, b, lo, hi)                                                           \
    DCM_SUM_PART("day", "(end_s - start_s) * 1000000000", "(end_s * 1000000000)", "?" #a,  \
                 "?" #b, "?" #lo, "?" #hi)

static const char *const dcm_ledger_sql[ST_COUNT] = {
    [ST_POINT_INSERT] = "INSERT INTO points(id, unit, kind, quantity) VALUES(?1, ?2, ?3, ?4)",
    [ST_POINT_FIND] = "SELECT key, unit, kind, quantity FROM points WHERE id = ?1",
    [ST_POINT_UPDATE] = "UPDATE points SET unit = ?2, kind = ?3, quantity = ?4 WHERE key = ?1",
    [ST_MINUTE_PUT] = "INSERT OR REPLACE INTO minute(start_s, point, amount, estimated,"
                      " covered_s, samples, corrections, final)"
                      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_DIRTY_PUT] = "INSERT OR IGNORE INTO dirty(start_s) VALUES(?1)",
    [ST_STATE_PUT] = "INSERT OR REPLACE INTO state(point, last_ts_ns, last_value, rate)"
                     " VALUES(?1, ?2, ?3, ?4)",
    [ST_STATE_GET] = "SELECT last_ts_ns, last_value, rate FROM state WHERE point = ?1",
    [ST_CORRECTION_PUT] = "INSERT INTO corrections(point, t0_ns, t1_ns, amount, kind, flags)"
                          " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_META_GET] = "SELECT value FROM meta WHERE name = ?1",
    [ST_META_PUT] = "INSERT OR REPLACE INTO meta(name, value) VALUES(?1, ?2)",
    [ST_QUARTER_DELETE] = "DELETE FROM quarter WHERE start_s >= ?1 AND start_s < ?2",
    [ST_QUARTER_ROLL] = "INSERT OR REPLACE INTO quarter(start_s, point, amount, estimated,"
                        " covered_s, samples, corrections)"
                        " SELECT start_s - start_s % 900 AS q, point, total(amount),"
                        " total(estimated), total(covered_s), sum(samples), sum(corrections)"
                        " FROM minute WHERE start_s >= ?1 AND start_s < ?2"
                        " GROUP BY q, point",
    [ST_DIRTY_LIST] = "SELECT start_s FROM dirty ORDER BY start_s",
    [ST_DIRTY_CLEAR] = "DELETE FROM dirty",
    [ST_DAY_OF] = "SELECT start_s, end_s FROM day WHERE start_s <= ?1 AND start_s >= ?2"
                  " ORDER BY start_s DESC LIMIT 1",
    [ST_DAY_AFTER] = "SELECT min(start_s) FROM day WHERE start_s > ?1",
    [ST_DAY_DELETE] = "DELETE FROM day WHERE start_s >= ?1 AND start_s < ?2",
    [ST_DAY_ROLL_QUARTERS] = "INSERT INTO day(start_s, point, end_s, amount, estimated,"
                             " covered_s, samples, corrections)"
                             " SELECT ?1, point, ?2, total(amount), total(estimated),"
                             " total(covered_s), sum(samples), sum(corrections)"
                             " FROM quarter WHERE start_s >= ?1 AND start_s < ?2"
                             " GROUP BY point",
    [ST_DAY_ROLL_MINUTES] = "INSERT INTO day(start_s, point, end_s, amount, estimated,"
                            " covered_s, samples, corrections)"
                            " SELECT ?1, point, ?2, total(amount), total(estimated),"
                            " total(covered_s), sum(samples), sum(corrections)"
                            " FROM minute WHERE start_s >= ?1 AND start_s < ?2"
                            " GROUP BY point",
    [ST_NEXT_QUARTER] = "SELECT min(start_s) FROM quarter WHERE start_s >= ?1",
    [ST_MINUTE_PRUNE] = "DELETE FROM minute WHERE start_s < ?1",
    [ST_QUARTER_PRUNE] = "DELETE FROM quarter WHERE start_s < ?1",
    [ST_SUM] = "SELECT p.id, p.unit, p.kind, p.quantity, total(x.amount * x.f),"
               " total(x.estimated * x.f), total(x.covered_s * x.f), sum(x.samples),"
               " sum(x.corrections) FROM ("
               DCM_SUM_MINUTE(1, 2, 3, 4) " UNION ALL " DCM_SUM_MINUTE(5, 6, 7, 8)
               " UNION ALL " DCM_SUM_MINUTE(9, 10, 11, 12)
               " UNION ALL " DCM_SUM_QUARTER(13, 14, 15, 16)
               " UNION ALL " DCM_SUM_QUARTER(17, 18, 19, 20)
               " UNION ALL " DCM_SUM_QUARTER(21, 22, 23, 24)
               " UNION ALL " DCM_SUM_DAY(25, 26, 27, 28)
               " UNION ALL " DCM_SUM_DAY(29, 30, 31, 32)
               " UNION ALL " DCM_SUM_DAY(33, 34, 35, 36)
               ") AS x JOIN points AS p ON p.key = x.point GROUP BY x.point ORDER BY p.id",
    [ST_SUM_DIRTY] = "SELECT 1 FROM dirty WHERE start_s > ?1 AND start_s < ?2 LIMIT 1",
    [ST_SUM_FIRST_DAY] = "SELECT min(start_s) FROM day WHERE start_s >= ?1",
    [ST_SUM_LAST_DAY] = "SELECT start_s, end_s FROM day WHERE start_s < ?1"
                        " ORDER BY start_s DESC LIMIT 1",
    [ST_CORRECTIONS] = "SELECT p.id, c.t0_ns, c.t1_ns, c.amount, c.kind, c.flags"
                       " FROM corrections AS c JOIN points AS p ON p.key = c.point"
                       " WHERE c.t1_ns >= ?1 AND c.t1_ns < ?2 ORDER BY c.t1_ns, c.rowid",
};

const char *dcm_ledger_strerror(dcm_ledger_err err)
{
    switch (err) {
    case DCM_LEDGER_OK: return "ok";
    case DCM_LEDGER_EIO: return "cannot open or write the ledger";
    case DCM_LEDGER_ECORRUPT: return "ledger database corrupt or of a newer schema";
    case DCM_LEDGER_EBUSY: return "ledger locked by another writer";
    case DCM_LEDGER_ENOMEM: return "out of memory";
    case DCM_LEDGER_EINVAL: return "invalid argument";
    }
    return "unknown ledger error";
}

const char *dcm_ledger_errmsg(const dcm_ledger *l)
{
    return l ? l->errmsg : dcm_ledger_open_errmsg;
}

int64_t dcm_ledger_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

dcm_ledger_err dcm_ledger_fail(dcm_ledger *l, dcm_ledger_err err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(l->errmsg, sizeof l->errmsg, fmt, ap);
    va_end(ap);
    return err;
}

static dcm_ledger_err dcm_ledger_map(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return DCM_LEDGER_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return DCM_LEDGER_EBUSY;
    case SQLITE_NOMEM: return DCM_LEDGER_ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT: return DCM_LEDGER_ECORRUPT;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
    case SQLITE_TOOBIG:
    case SQLITE_MISUSE: return DCM_LEDGER_EINVAL;
    default: return DCM_LEDGER_EIO; /* IOERR, FULL, CANTOPEN, PERM, READONLY, ... */
    }
}

dcm_ledger_err dcm_ledger_sqlite_fail(dcm_ledger *l, int rc, const char *what)
{
    const char *msg = l->db ? sqlite3_errmsg(l->db) : sqlite3_errstr(rc);
    snprintf(l->errmsg, sizeof l->errmsg, "%s: %s", what, msg);
    dcm_ledger_err err = dcm_ledger_map(rc);
    return err == DCM_LEDGER_OK ? DCM_LEDGER_EIO : err;
}

dcm_ledger_err dcm_ledger_exec(dcm_ledger *l, const char *sql)
{
    int rc = sqlite3_exec(l->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? DCM_LEDGER_OK : dcm_ledger_sqlite_fail(l, rc, sql);
}

sqlite3_stmt *dcm_ledger_stmt_get(dcm_ledger *l, dcm_ledger_stmt which, dcm_ledger_err *err)
{
    sqlite3_stmt *st = l->stmt[which];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    int rc = sqlite3_prepare_v3(l->db, dcm_ledger_sql[which], -1, SQLITE_PREPARE_PERSISTENT,
                                &st, NULL);
    if (rc != SQLITE_OK) {
        *err = dcm_ledger_sqlite_fail(l, rc, "prepare");
        return NULL;
    }
    l->stmt[which] = st;
    return st;
}

/* Steps a write statement to completion. */
static dcm_ledger_err dcm_ledger_step_done(dcm_ledger *l, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);
    dcm_ledger_err err = rc == SQLITE_DONE ? DCM_LEDGER_OK : dcm_ledger_sqlite_fail(l, rc, what);
    sqlite3_reset(st);
    return err;
}

dcm_ledger_err dcm_ledger_meta_get(dcm_ledger *l, const char *name, int64_t *value)
{
    dcm_ledger_err err = DCM_LEDGER_OK;
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_META_GET, &err);
    if (!st)
        return err;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *value = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        *value = 0;
    else
        err = dcm_ledger_sqlite_fail(l, rc, "read meta");
    sqlite3_reset(st);
    return err;
}

dcm_ledger_err dcm_ledger_meta_put(dcm_ledger *l, const char *name, int64_t value)
{
    dcm_ledger_err err = DCM_LEDGER_OK;
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_META_PUT, &err);
    if (!st)
        return err;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    return dcm_ledger_step_done(l, st, "write meta");
}

/* mkdir -p with mode 0750 for what it creates. */
static int dcm_ledger_mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0750);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    if (mkdir(path, 0750) != 0 && errno != EEXIST)
        return -1;
    struct stat sb;
    if (stat(path, &sb) != 0)
        return -1;
    if (!S_ISDIR(sb.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

static char *dcm_ledger_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Only one process may write a ledger: the cached watermarks (and the pipeline's
 * integrator state) assume nobody else changes the rows. The kernel drops the lock
 * when the process dies, so kill -9 never leaves it stale. */
static dcm_ledger_err dcm_ledger_lock(dcm_ledger *l, const char *state_dir)
{
    char *path = dcm_ledger_path(state_dir, "ledger.lock");
    if (!path)
        return dcm_ledger_fail(l, DCM_LEDGER_ENOMEM, "out of memory");
    dcm_ledger_err err = DCM_LEDGER_OK;
    l->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (l->lock_fd < 0) {
        err = dcm_ledger_fail(l, DCM_LEDGER_EIO, "%s: %s", path, strerror(errno));
    } else if (flock(l->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        err = errno == EWOULDBLOCK
                  ? dcm_ledger_fail(l, DCM_LEDGER_EBUSY, "%s: another process writes this ledger",
                                    path)
                  : dcm_ledger_fail(l, DCM_LEDGER_EIO, "%s: %s", path, strerror(errno));
    }
    free(path);
    return err;
}

static dcm_ledger_err dcm_ledger_user_version(dcm_ledger *l, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *version = sqlite3_column_int(st, 0);
            rc = SQLITE_OK;
        }
    }
    dcm_ledger_err err = rc == SQLITE_OK ? DCM_LEDGER_OK
                                         : dcm_ledger_sqlite_fail(l, rc, "read schema version");
    sqlite3_finalize(st);
    return err;
}

static dcm_ledger_err dcm_ledger_check_version(dcm_ledger *l, int version)
{
    if (version > DCM_LEDGER_SCHEMA_VERSION)
        return dcm_ledger_fail(l, DCM_LEDGER_ECORRUPT,
                               "ledger schema version %d is newer than this program's (%d)",
                               version, DCM_LEDGER_SCHEMA_VERSION);
    if (version < DCM_LEDGER_SCHEMA_VERSION)
        return dcm_ledger_fail(l, DCM_LEDGER_EIO, "ledger database has no ledger schema yet");
    return DCM_LEDGER_OK;
}

/* Writer set-up: WAL (readers never block the writer, a crash never tears a commit),
 * synchronous=FULL (each commit is on disk when dcm_ledger_commit returns; see
 * docs/ledger.md for the measured cost), then the schema in one transaction. */
static dcm_ledger_err dcm_ledger_setup_writer(dcm_ledger *l)
{
    dcm_ledger_err err = dcm_ledger_exec(l, "PRAGMA journal_mode = WAL");
    if (err != DCM_LEDGER_OK)
        return err;
    int persist = 1;
    sqlite3_file_control(l->db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    char pragmas[160];
    snprintf(pragmas, sizeof pragmas,
             "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
             " PRAGMA journal_size_limit = %d",
             DCM_LEDGER_WAL_LIMIT_BYTES);
    err = dcm_ledger_exec(l, pragmas);
    if (err != DCM_LEDGER_OK)
        return err;
    /* The mode is persistent in the file; check it took (it cannot on some file systems). */
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(l->db, "PRAGMA journal_mode", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *mode = (const char *)sqlite3_column_text(st, 0);
        if (!mode || strcmp(mode, "wal") != 0)
            err = dcm_ledger_fail(l, DCM_LEDGER_EIO, "cannot use WAL journal mode (got %s)",
                                  mode ? mode : "none");
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_OK)
        return dcm_ledger_sqlite_fail(l, rc, "journal mode");
    if (err != DCM_LEDGER_OK)
        return err;

    err = dcm_ledger_exec(l, "BEGIN IMMEDIATE");
    if (err != DCM_LEDGER_OK)
        return err;
    int version = 0;
    err = dcm_ledger_user_version(l, &version);
    if (err == DCM_LEDGER_OK && version == 0)
        err = dcm_ledger_exec(l, dcm_ledger_schema);
    else if (err == DCM_LEDGER_OK)
        err = dcm_ledger_check_version(l, version);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_meta_get(l, DCM_META_ROLLED_QUARTER, &l->rolled_quarter_s);
    if (err == DCM_LEDGER_OK)
        err = dcm_ledger_meta_get(l, DCM_META_MINUTE_PRUNED, &l->minute_pruned_s);
    if (err == DCM_LEDGER_OK)
        return dcm_ledger_exec(l, "COMMIT");
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

static dcm_ledger_err dcm_ledger_check_options(const dcm_ledger_options *opt, dcm_ledger *l)
{
    int64_t mret = opt->minute_retention_ns ? opt->minute_retention_ns
                                            : DCM_LEDGER_DEFAULT_MINUTE_RETENTION_NS;
    int64_t qret = opt->quarter_retention_ns ? opt->quarter_retention_ns
                                             : DCM_LEDGER_DEFAULT_QUARTER_RETENTION_NS;
    /* Day rows are built from quarter rows, which must therefore outlive minute rows. */
    if (mret < 0 || qret < 0 || qret < mret)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL,
                               "retention must be positive and quarter >= minute");
    l->minute_retention_s = mret / DCM_NS_PER_S;
    l->quarter_retention_s = qret / DCM_NS_PER_S;
    if (opt->calendar)
        l->cal = *opt->calendar;
    return DCM_LEDGER_OK;
}

dcm_ledger_err dcm_ledger_open(const char *state_dir, const dcm_ledger_options *opt,
                               dcm_ledger **out)
{
    static const dcm_ledger_options defaults = {0};
    dcm_ledger_err err = DCM_LEDGER_OK;
    char *dir = NULL, *path = NULL;
    dcm_ledger *l = NULL;

    if (out)
        *out = NULL;
    if (!state_dir || !*state_dir || !out) {
        snprintf(dcm_ledger_open_errmsg, sizeof dcm_ledger_open_errmsg, "no state directory");
        return DCM_LEDGER_EINVAL;
    }
    if (!opt)
        opt = &defaults;
    l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(dcm_ledger_open_errmsg, sizeof dcm_ledger_open_errmsg, "out of memory");
        return DCM_LEDGER_ENOMEM;
    }
    l->lock_fd = -1;
    l->read_only = opt->read_only;
    err = dcm_ledger_check_options(opt, l);
    if (err != DCM_LEDGER_OK)
        goto fail;
    dir = strdup(state_dir);
    path = dcm_ledger_path(state_dir, "ledger.db");
    if (!dir || !path) {
        err = dcm_ledger_fail(l, DCM_LEDGER_ENOMEM, "out of memory");
        goto fail;
    }
    if (!l->read_only) {
        if (dcm_ledger_mkdirs(dir) != 0) {
            err = dcm_ledger_fail(l, DCM_LEDGER_EIO, "%s: %s", state_dir, strerror(errno));
            goto fail;
        }
        err = dcm_ledger_lock(l, state_dir);
        if (err != DCM_LEDGER_OK)
            goto fail;
    }
    int flags = (l->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &l->db, flags, NULL);
    if (rc != SQLITE_OK) {
        err = l->db ? dcm_ledger_sqlite_fail(l, rc, path)
                    : dcm_ledger_fail(l, DCM_LEDGER_ENOMEM, "out of memory");
        if (err == DCM_LEDGER_EINVAL)
            err = DCM_LEDGER_EIO;
        goto fail;
    }
    sqlite3_busy_timeout(l->db, DCM_LEDGER_BUSY_TIMEOUT_MS);
    if (l->read_only) {
        int version = 0;
        err = dcm_ledger_user_version(l, &version);
        if (err == DCM_LEDGER_OK)
            err = dcm_ledger_check_version(l, version);
    } else {
        err = dcm_ledger_setup_writer(l);
    }
    if (err != DCM_LEDGER_OK)
        goto fail;
    free(dir);
    free(path);
    *out = l;
    return DCM_LEDGER_OK;

fail:
    snprintf(dcm_ledger_open_errmsg, sizeof dcm_ledger_open_errmsg, "%s", l->errmsg);
    free(dir);
    free(path);
    dcm_ledger_close(l);
    return err;
}

void dcm_ledger_close(dcm_ledger *l)
{
    if (!l)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(l->stmt[i]);
    /* An open batch is rolled back by the close: it was never committed. */
    if (l->db)
        sqlite3_close(l->db);
    if (l->lock_fd >= 0)
        close(l->lock_fd);
    free(l);
}

static dcm_ledger_err dcm_ledger_writable(dcm_ledger *l)
{
    if (l->read_only)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "ledger opened read-only");
    return DCM_LEDGER_OK;
}

static bool dcm_ledger_valid_kind(dcm_kind kind, dcm_quantity quantity)
{
    return (int)kind >= DCM_KIND_GAUGE && kind <= DCM_KIND_DELTA &&
           (int)quantity >= DCM_QTY_ENERGY && quantity <= DCM_QTY_OTHER;
}

dcm_ledger_err dcm_ledger_point(dcm_ledger *l, const char *point_id, const char *unit,
                                dcm_kind kind, dcm_quantity quantity, int64_t *key)
{
    if (!l || !key)
        return DCM_LEDGER_EINVAL;
    if (!point_id || !*point_id || !unit || !dcm_ledger_valid_kind(kind, quantity))
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "invalid point description");
    dcm_ledger_err err = DCM_LEDGER_OK;
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_POINT_FIND, &err);
    if (!st)
        return err;
    sqlite3_bind_text(st, 1, point_id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = dcm_ledger_sqlite_fail(l, rc, "find point");
        sqlite3_reset(st);
        return err;
    }
    bool found = rc == SQLITE_ROW;
    bool same = false;
    if (found) {
        *key = sqlite3_column_int64(st, 0);
        const char *old_unit = (const char *)sqlite3_column_text(st, 1);
        same = old_unit && strcmp(old_unit, unit) == 0 &&
               sqlite3_column_int(st, 2) == (int)kind && sqlite3_column_int(st, 3) == (int)quantity;
    }
    sqlite3_reset(st);
    if (found && (same || l->read_only))
        return DCM_LEDGER_OK;
    if (l->read_only)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "unknown point %s", point_id);

    /* A new point, or one whose description changed in the configuration: the key
     * stays, so its history stays attached to it. */
    st = dcm_ledger_stmt_get(l, found ? ST_POINT_UPDATE : ST_POINT_INSERT, &err);
    if (!st)
        return err;
    if (found)
        sqlite3_bind_int64(st, 1, *key);
    else
        sqlite3_bind_text(st, 1, point_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, unit, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, (int)kind);
    sqlite3_bind_int(st, 4, (int)quantity);
    err = dcm_ledger_step_done(l, st, "register point");
    if (err == DCM_LEDGER_OK && !found)
        *key = sqlite3_last_insert_rowid(l->db);
    return err;
}

dcm_ledger_err dcm_ledger_begin(dcm_ledger *l)
{
    if (!l)
        return DCM_LEDGER_EINVAL;
    dcm_ledger_err err = dcm_ledger_writable(l);
    if (err != DCM_LEDGER_OK)
        return err;
    if (l->in_batch)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "a batch is already open");
    /* IMMEDIATE takes the write lock now, so a conflict shows here and not at commit. */
    err = dcm_ledger_exec(l, "BEGIN IMMEDIATE");
    if (err == DCM_LEDGER_OK)
        l->in_batch = true;
    return err;
}

dcm_ledger_err dcm_ledger_commit(dcm_ledger *l)
{
    if (!l)
        return DCM_LEDGER_EINVAL;
    if (!l->in_batch)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "no batch is open");
    l->in_batch = false;
    /* SQLite rolls a transaction back by itself after some errors (disk full, I/O). */
    if (sqlite3_get_autocommit(l->db))
        return dcm_ledger_fail(l, DCM_LEDGER_EIO,
                               "the batch was rolled back after an earlier error");
    dcm_ledger_err err = dcm_ledger_exec(l, "COMMIT");
    if (err != DCM_LEDGER_OK && !sqlite3_get_autocommit(l->db))
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return err;
}

dcm_ledger_err dcm_ledger_put_minute(dcm_ledger *l, int64_t key, int64_t start_ns,
                                     const dcm_point_acc *acc, bool final)
{
    if (!l)
        return DCM_LEDGER_EINVAL;
    dcm_ledger_err err = dcm_ledger_writable(l);
    if (err != DCM_LEDGER_OK)
        return err;
    if (!acc || start_ns < 0 || start_ns % DCM_NS_PER_MIN != 0)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "minute start must be a whole UTC minute");
    if (!isfinite(acc->amount) || !isfinite(acc->estimated) || !isfinite(acc->covered_s) ||
        acc->covered_s < 0)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "non-finite or negative minute sums");
    int64_t start_s = start_ns / DCM_NS_PER_S;
    if (start_s < l->minute_pruned_s)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL,
                               "minute %lld is before the retention horizon %lld",
                               (long long)start_s, (long long)l->minute_pruned_s);
    /* A minute landing in a quarter already rolled up makes the quarter (and its day)
     * stale; the next roll-up recomputes it. Marked first: a mark without its row is
     * harmless, a row without its mark would never be rolled. */
    if (start_s < l->rolled_quarter_s) {
        sqlite3_stmt *dst = dcm_ledger_stmt_get(l, ST_DIRTY_PUT, &err);
        if (!dst)
            return err;
        sqlite3_bind_int64(dst, 1, start_s - start_s % DCM_LEDGER_QUARTER_S);
        err = dcm_ledger_step_done(l, dst, "mark quarter");
        if (err != DCM_LEDGER_OK)
            return err;
    }
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_MINUTE_PUT, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, start_s);
    sqlite3_bind_int64(st, 2, key);
    sqlite3_bind_double(st, 3, acc->amount);
    sqlite3_bind_double(st, 4, acc->estimated);
    sqlite3_bind_double(st, 5, acc->covered_s);
    sqlite3_bind_int64(st, 6, acc->samples);
    sqlite3_bind_int64(st, 7, acc->corrections);
    sqlite3_bind_int(st, 8, final ? 1 : 0);
    return dcm_ledger_step_done(l, st, "write minute");
}

dcm_ledger_err dcm_ledger_put_state(dcm_ledger *l, int64_t key, const dcm_point_state *state)
{
    if (!l)
        return DCM_LEDGER_EINVAL;
    dcm_ledger_err err = dcm_ledger_writable(l);
    if (err != DCM_LEDGER_OK)
        return err;
    if (!state || !isfinite(state->last_value) || !isfinite(state->rate))
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "non-finite point state");
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_STATE_PUT, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_int64(st, 2, state->last_ts_ns);
    sqlite3_bind_double(st, 3, state->last_value);
    sqlite3_bind_double(st, 4, state->rate);
    return dcm_ledger_step_done(l, st, "write state");
}

dcm_ledger_err dcm_ledger_get_state(dcm_ledger *l, int64_t key, dcm_point_state *state,
                                    bool *found)
{
    if (!l || !state || !found)
        return DCM_LEDGER_EINVAL;
    dcm_ledger_err err = DCM_LEDGER_OK;
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_STATE_GET, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, key);
    int rc = sqlite3_step(st);
    *found = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW) {
        state->last_ts_ns = sqlite3_column_int64(st, 0);
        state->last_value = sqlite3_column_double(st, 1);
        state->rate = sqlite3_column_double(st, 2);
    } else if (rc != SQLITE_DONE) {
        err = dcm_ledger_sqlite_fail(l, rc, "read state");
    }
    sqlite3_reset(st);
    return err;
}

dcm_ledger_err dcm_ledger_put_correction(dcm_ledger *l, int64_t key, const dcm_increment *inc)
{
    if (!l)
        return DCM_LEDGER_EINVAL;
    dcm_ledger_err err = dcm_ledger_writable(l);
    if (err != DCM_LEDGER_OK)
        return err;
    if (!inc || !isfinite(inc->amount) || inc->t1_ns < inc->t0_ns ||
        inc->correction > DCM_CORR_ORDER)
        return dcm_ledger_fail(l, DCM_LEDGER_EINVAL, "invalid correction");
    sqlite3_stmt *st = dcm_ledger_stmt_get(l, ST_CORRECTION_PUT, &err);
    if (!st)
        return err;
    sqlite3_bind_int64(st, 1, key);
    sqlite3_bind_int64(st, 2, inc->t0_ns);
    sqlite3_bind_int64(st, 3, inc->t1_ns);
    sqlite3_bind_double(st, 4, inc->amount);
    sqlite3_bind_int(st, 5, inc->correction);
    sqlite3_bind_int(st, 6, inc->flags);
    return dcm_ledger_step_done(l, st, "write correction");
}
