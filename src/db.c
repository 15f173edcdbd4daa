/*
 * db.c -- the log database: the schema of pfetch(5), one runs row per run
 * and one fetches row per URL outcome, written through one SQLite
 * connection in WAL mode with statements prepared once and inserts batched
 * in transactions.
 *
 * This module owns every line of SQL and the connection; the rest of the
 * library sees rows only as struct pf_result.  Rows are written off the
 * loop's hot path: pf__db_log_fetch() copies the row into one allocation
 * and queues it; a writer thread inserts whatever has accumulated in one
 * transaction, so batches grow by themselves when rows come fast.  The
 * connection (SQLITE_OPEN_NOMUTEX) is only ever used under conn_mu.  Lock
 * order: conn_mu, then mu; never the other way.  The loop thread's
 * queries for -c (is this URL done, what did the frontier leave) go
 * through a second connection of its own, opened at the first of them:
 * in WAL mode a reader never waits for a writer, so they never wait on
 * the writer thread, nor on another process that holds the write lock.
 *
 * Several processes may share one file.  A writer waits for another's
 * transaction in SQLite's busy handler (BUSY_TIMEOUT_MS), and every
 * statement that takes the write lock is retried BUSY_RETRIES times
 * beyond that, so a lock held for a minute and a half costs a wait, not
 * the run.  The module must never change the
 * meaning of a column (users query the file with sqlite3: the schema only
 * grows, and user_version numbers each step), and never lose a queued row
 * silently: every failure comes back as PF_EDB, PF_EDISKFULL or PF_ENOMEM with
 * its text in pf__db_errmsg().  Nor must it ever write a password: every
 * URL of a row is masked (pf__url_mask()) on its way in, and -c's
 * queries mask theirs to match.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "db.h"
#include "json.h"
#include "url.h"
#include "util.h"

/* The schema version this code writes; PRAGMA user_version holds it. */
/*
 * 0: pfetch 0.1's runs and fetches, without a version.  1: runs,
 * fetches.  2: frontier (crawls).  3: fetches gains sha256, etag,
 * last_modified and http_version.  Tables and indexes come with IF NOT
 * EXISTS in schema_sql, columns with ALTER TABLE ADD COLUMN
 * (added_columns) when missing, so running both migrates any older log
 * in place: old rows keep their values, NULL in the new columns.
 */
#define SCHEMA_VERSION 3

/* How long a lock held by another connection is waited for, in ms. */
#define BUSY_TIMEOUT_MS 5000

/*
 * BEGIN IMMEDIATE and COMMIT wait BUSY_TIMEOUT_MS in SQLite's busy handler;
 * should they still meet SQLITE_BUSY (a busy handler can give up early to
 * avoid a deadlock), they are retried this many times, RETRY_SLEEP_MS
 * apart, before the run gives up with PF_EDB.
 */
#define BUSY_RETRIES 20
#define RETRY_SLEEP_MS 100

/* "2026-11-23T08:15:02.123Z" and its NUL. */
#define TIMESTAMP_LEN 25

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS runs("
    " id INTEGER PRIMARY KEY,"
    " started_at TEXT,"
    " finished_at TEXT,"
    " argv TEXT,"
    " version TEXT);"
    "CREATE TABLE IF NOT EXISTS fetches("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER REFERENCES runs(id),"
    " url TEXT NOT NULL,"
    " final_url TEXT,"
    " status INTEGER,"
    " bytes INTEGER,"
    " path TEXT,"
    " content_type TEXT,"
    " error TEXT,"
    " attempts INTEGER,"
    " depth INTEGER,"
    " parent_url TEXT,"
    " elapsed_ms INTEGER,"
    " started_at TEXT,"
    " sha256 TEXT,"
    " etag TEXT,"
    " last_modified TEXT,"
    " http_version TEXT);"
    "CREATE INDEX IF NOT EXISTS fetches_url ON fetches(url);"
    "CREATE INDEX IF NOT EXISTS fetches_run_id ON fetches(run_id);"
    "CREATE TABLE IF NOT EXISTS frontier("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER REFERENCES runs(id),"
    " url TEXT NOT NULL,"
    " depth INTEGER,"
    " parent_url TEXT,"
    " requisite INTEGER);"
    "CREATE INDEX IF NOT EXISTS frontier_run_id ON frontier(run_id);";

/* Columns of fetches added after 0.1, in order, with their types. */
static const char *const added_columns[][2] = {
    {"sha256", "TEXT"},
    {"etag", "TEXT"},
    {"last_modified", "TEXT"},
    {"http_version", "TEXT"},
};

static const char insert_run_sql[] =
    "INSERT INTO runs(started_at, argv, version) VALUES(?1, ?2, ?3)";

static const char insert_fetch_sql[] =
    "INSERT INTO fetches(run_id, url, final_url, status, bytes, path,"
    " content_type, error, attempts, depth, parent_url, elapsed_ms,"
    " started_at, sha256, etag, last_modified, http_version)"
    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
    " ?14, ?15, ?16, ?17)";

static const char insert_frontier_sql[] =
    "INSERT INTO frontier(run_id, url, depth, parent_url, requisite)"
    " VALUES(?1, ?2, ?3, ?4, ?5)";

static const char is_done_sql[] =
    "SELECT 1 FROM fetches"
    " WHERE url = ?1 AND error IS NULL AND run_id <> ?2 LIMIT 1";

static const char finish_run_sql[] =
    "UPDATE runs SET finished_at = ?1 WHERE id = ?2";

struct pf__db {
    sqlite3 *h;
    sqlite3 *rh; /* the loop thread's reads (-c), NULL until needed */
    char *path;  /* for messages */
    int64_t run_id;
    sqlite3_stmt *begin; /* BEGIN IMMEDIATE */
    sqlite3_stmt *commit;
    sqlite3_stmt *insert_fetch;
    sqlite3_stmt *insert_frontier;
    sqlite3_stmt *is_done;    /* on rh */
    sqlite3_stmt *saved;      /* on rh, prepared at its first use */
    sqlite3_stmt *last_saved; /* on rh, -N's, prepared at its first use */
    sqlite3_stmt *finish_run;
    int in_txn;           /* a batch transaction is open */
    unsigned pending;     /* rows in it */
    char errmsg[512];     /* the first failure, "" when none; under mu */
    char errmsg_out[512]; /* pf__db_errmsg()'s copy, loop thread */

    /* The writer thread and its queue. */
    pthread_mutex_t conn_mu; /* held while the connection is used */
    pthread_mutex_t mu;      /* guards the fields below; a leaf lock */
    pthread_cond_t work;     /* rows queued, a flush, or stop */
    pthread_cond_t drained;  /* the writer went idle */
    struct pf__queue rows;   /* struct row, oldest first */
    unsigned nrows;          /* rows queued */
    int flushing;            /* a flush waits: write without lingering */
    int busy;                /* the writer holds a batch */
    int stop;
    int err; /* sticky: the first failure of the writer */
    int thread_started;
    int sync_init; /* the mutexes and conditions exist */
    pthread_t thread;
    FILE *json; /* --json: committed rows go there as JSON Lines */
};

/*
 * A queued row: the result and copies of its strings, one allocation.
 * A frontier row uses url, depth, parent_url, and status for requisite.
 */
enum row_table { ROW_FETCH, ROW_FRONTIER };

struct row {
    struct pf__queue link;
    enum row_table table;
    struct pf_result r;
    char data[];
};

static int commit_batch(struct pf__db *db);
static void *writer_main(void *arg);

/* The PF_E* code of a failed SQLite call. */
static int pf_code(int src)
{
    switch (src & 0xff) {
    case SQLITE_FULL:
        return PF_EDISKFULL;
    case SQLITE_NOMEM:
        return PF_ENOMEM;
    default:
        return PF_EDB;
    }
}

/*
 * Record a connection's error (SQLite's text, overwritten by the next
 * call, is copied now) and return its PF_E* code.  The first failure is
 * the one kept: later ones are as a rule its consequences.  The writer
 * thread and the loop thread both fail, so the copy is made under mu.
 */
static int fail_on(struct pf__db *db, sqlite3 *h, int src)
{
    char text[sizeof(db->errmsg)];

    snprintf(text, sizeof(text), "%s: %s", db->path, sqlite3_errmsg(h));
    pthread_mutex_lock(&db->mu);
    if (db->errmsg[0] == '\0')
        memcpy(db->errmsg, text, sizeof(text));
    pthread_mutex_unlock(&db->mu);
    return pf_code(src);
}

static int fail(struct pf__db *db, int src)
{
    return fail_on(db, db->h, src);
}

/*
 * A batch that failed half-way may have been rolled back by SQLite itself
 * (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM do that): believe the
 * connection, not our flag, about whether a transaction is still open.
 */
static void resync(struct pf__db *db)
{
    if (db->in_txn && sqlite3_get_autocommit(db->h)) {
        db->in_txn = 0;
        db->pending = 0;
    }
}

/* Write ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC). */
static void format_time(char buf[TIMESTAMP_LEN], int64_t ms)
{
    time_t secs = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    struct tm tm;

    if (frac < 0) {
        frac += 1000;
        secs--;
    }
    if (gmtime_r(&secs, &tm) == NULL ||
        snprintf(buf, TIMESTAMP_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, frac) >= TIMESTAMP_LEN)
        snprintf(buf, TIMESTAMP_LEN, "invalid time");
}

/*
 * Step a BEGIN or COMMIT statement to completion, retrying SQLITE_BUSY a
 * bounded number of times beyond what the busy handler waited.
 */
static int step_retry(sqlite3_stmt *st)
{
    int tries = 0;
    int src;

    for (;;) {
        src = sqlite3_step(st);
        sqlite3_reset(st);
        if ((src & 0xff) != SQLITE_BUSY || tries++ >= BUSY_RETRIES)
            return src;
        sqlite3_sleep(RETRY_SLEEP_MS);
    }
}

static int exec(struct pf__db *db, const char *sql)
{
    int src = sqlite3_exec(db->h, sql, NULL, NULL, NULL);

    return src == SQLITE_OK ? 0 : fail(db, src);
}

static int prepare(struct pf__db *db, const char *sql, sqlite3_stmt **st)
{
    int src =
        sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

    return src == SQLITE_OK ? 0 : fail(db, src);
}

/* exec() of a statement that takes the write lock, busy retried. */
static int exec_retry(struct pf__db *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, sql, &st);
    int src;

    if (rc < 0)
        return rc;
    src = step_retry(st);
    if (src != SQLITE_DONE && src != SQLITE_ROW)
        rc = fail(db, src);
    sqlite3_finalize(st);
    return rc;
}

/* Read PRAGMA user_version into *version. */
static int user_version(struct pf__db *db, int *version)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "PRAGMA user_version", &st);
    int src;

    if (rc < 0)
        return rc;
    src = sqlite3_step(st);
    if (src == SQLITE_ROW)
        *version = sqlite3_column_int(st, 0);
    else
        rc = fail(db, src);
    sqlite3_finalize(st);
    return rc;
}

/* 1 when fetches has a column of that name, 0 when not, or PF_E*. */
static int has_column(struct pf__db *db, const char *name)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, "PRAGMA table_info(fetches)", &st);
    int src;

    if (rc < 0)
        return rc;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *col = sqlite3_column_text(st, 1);

        if (col != NULL && strcmp((const char *)col, name) == 0) {
            rc = 1;
            break;
        }
    }
    if (rc == 0 && src != SQLITE_DONE)
        rc = fail(db, src);
    sqlite3_finalize(st);
    return rc;
}

/* Add the columns an older log's fetches lacks.  In the transaction. */
static int add_columns(struct pf__db *db)
{
    size_t i;

    for (i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
        char sql[128];
        int rc = has_column(db, added_columns[i][0]);

        if (rc < 0)
            return rc;
        if (rc == 1)
            continue;
        snprintf(sql, sizeof(sql), "ALTER TABLE fetches ADD COLUMN %s %s",
                 added_columns[i][0], added_columns[i][1]);
        rc = exec(db, sql);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/*
 * Create the schema in a new file, or check the version of an existing
 * one, in one write transaction so that two pfetch starting at once on a
 * new file do not race.  Later versions migrate here, step by step.
 */
static int setup_schema(struct pf__db *db)
{
    int version = 0;
    int rc = exec_retry(db, "BEGIN IMMEDIATE");

    if (rc < 0)
        return rc;
    rc = user_version(db, &version);
    if (rc < 0)
        goto rollback;
    if (version > SCHEMA_VERSION) {
        snprintf(db->errmsg, sizeof(db->errmsg),
                 "%s: written by a newer pfetch (schema version %d; this "
                 "one knows up to %d): use that pfetch, or another --db",
                 db->path, version, SCHEMA_VERSION);
        rc = PF_EDB;
        goto rollback;
    }
    if (version < SCHEMA_VERSION) {
        char sql[64];

        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
        rc = exec(db, schema_sql);
        if (rc == 0)
            rc = add_columns(db);
        if (rc == 0)
            rc = exec(db, sql);
        if (rc < 0)
            goto rollback;
    }
    return exec(db, "COMMIT");
rollback:
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* Insert the runs row of this run and learn its id. */
static int start_run(struct pf__db *db, const char *argv)
{
    char now[TIMESTAMP_LEN];
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, insert_run_sql, &st);
    int src;

    if (rc < 0)
        return rc;
    format_time(now, pf__wall_ms());
    sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
    if (argv != NULL)
        sqlite3_bind_text(st, 2, argv, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, PF_VERSION_STRING, -1, SQLITE_STATIC);
    src = step_retry(st);
    if (src == SQLITE_DONE)
        db->run_id = sqlite3_last_insert_rowid(db->h);
    else
        rc = fail(db, src);
    sqlite3_finalize(st);
    return rc;
}

/*
 * The handle with its path and its locks, no connection yet; NULL when
 * memory runs out.  pf__db_close() can undo it from here on.
 */
static struct pf__db *db_new(const char *path)
{
    struct pf__db *db = pf__calloc(1, sizeof(*db));
    pthread_condattr_t ca;

    if (db == NULL)
        return NULL;
    db->path = pf__strdup(path);
    if (db->path == NULL) {
        pf__free(db);
        return NULL;
    }
    pf__queue_init(&db->rows);
    pthread_mutex_init(&db->conn_mu, NULL);
    pthread_mutex_init(&db->mu, NULL);
    /* The writer's lingering is timed on the monotonic clock. */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&db->work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&db->drained, NULL);
    db->sync_init = 1;
    return db;
}

/* Open (or create) the file for writing, with the connection's settings. */
static int open_connection(struct pf__db *db)
{
    int src = sqlite3_open_v2(
        db->path, &db->h,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);

    if (src != SQLITE_OK) {
        if (db->h != NULL)
            return fail(db, src);
        return PF_ENOMEM; /* SQLite could not allocate the handle */
    }
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
    /*
     * A read-only file is opened read-only without complaint; say so now
     * rather than at the first row.  The same holds for a file that is not
     * a database, which the first statement finds out.
     */
    if (sqlite3_db_readonly(db->h, "main") == 1) {
        snprintf(db->errmsg, sizeof(db->errmsg), "%s: the file is read-only",
                 db->path);
        return PF_EDB;
    }
    return 0;
}

static int set_pragmas(struct pf__db *db)
{
    int rc = exec_retry(db, "PRAGMA journal_mode = WAL");

    if (rc == 0)
        rc = exec(db, "PRAGMA synchronous = NORMAL");
    if (rc == 0)
        rc = exec(db, "PRAGMA foreign_keys = ON");
    return rc;
}

/*
 * The statements of the write connection, prepared once.  is_done belongs
 * to the read connection, which reader() opens only if it is needed.
 */
static int prepare_statements(struct pf__db *db)
{
    int rc = prepare(db, "BEGIN IMMEDIATE", &db->begin);

    if (rc == 0)
        rc = prepare(db, "COMMIT", &db->commit);
    if (rc == 0)
        rc = prepare(db, insert_fetch_sql, &db->insert_fetch);
    if (rc == 0)
        rc = prepare(db, insert_frontier_sql, &db->insert_frontier);
    if (rc == 0)
        rc = prepare(db, finish_run_sql, &db->finish_run);
    return rc;
}

/*
 * Start the writer thread.  It blocks every signal, so that the program's
 * handlers (SIGINT and the like) run on its own threads, never on ours.
 */
static int start_writer(struct pf__db *db)
{
    sigset_t all, old;
    int err;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(&db->thread, NULL, writer_main, db);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err != 0) {
        snprintf(db->errmsg, sizeof(db->errmsg),
                 "%s: cannot start the log writer thread", db->path);
        return PF_EDB;
    }
    db->thread_started = 1;
    return 0;
}

/*
 * Loop thread.  One exit path: on failure everything made so far is
 * undone by pf__db_close(), which copes with a half-built handle.
 */
int pf__db_open(struct pf__db **out, const char *path, const char *argv,
                int64_t *run_id, char **errmsg)
{
    struct pf__db *db;
    int rc;

    if (errmsg != NULL)
        *errmsg = NULL;
    if (out == NULL || path == NULL)
        return PF_EINVAL;
    db = db_new(path);
    if (db == NULL)
        return PF_ENOMEM;
    rc = open_connection(db);
    if (rc == 0)
        rc = set_pragmas(db);
    if (rc == 0)
        rc = setup_schema(db);
    if (rc == 0)
        rc = prepare_statements(db);
    if (rc == 0)
        rc = start_run(db, argv);
    if (rc == 0)
        rc = start_writer(db);
    if (rc < 0)
        goto fail;
    if (run_id != NULL)
        *run_id = db->run_id;
    *out = db;
    return 0;
fail:
    if (errmsg != NULL) {
        if (db->errmsg[0] != '\0')
            *errmsg =
                pf__asprintf("cannot open the log database %s", db->errmsg);
        else
            *errmsg = pf__asprintf("cannot open the log database %s: %s", path,
                                   pf_strerror(rc));
    }
    pf__db_close(db);
    return rc;
}

/* Bind s, or leave NULL when s is. */
static void bind_opt(sqlite3_stmt *st, int idx, const char *s)
{
    if (s != NULL)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
}

/* Writer thread (or the last commit at close), conn_mu held. */
static int insert_row(struct pf__db *db, enum row_table table,
                      const struct pf_result *r)
{
    sqlite3_stmt *st;
    char started[TIMESTAMP_LEN];
    int src;
    int rc = 0;

    if (!db->in_txn) {
        src = step_retry(db->begin);
        if (src != SQLITE_DONE)
            return fail(db, src);
        db->in_txn = 1;
        db->pending = 0;
    }
    /*
     * SQLITE_STATIC is safe: the strings outlive the step, and the
     * bindings are cleared before this function returns.
     */
    if (table == ROW_FRONTIER) {
        st = db->insert_frontier;
        sqlite3_bind_int64(st, 1, db->run_id);
        sqlite3_bind_text(st, 2, r->url, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 3, r->depth);
        if (r->parent_url != NULL)
            sqlite3_bind_text(st, 4, r->parent_url, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 5, r->status != 0);
        goto step;
    }
    st = db->insert_fetch;
    sqlite3_bind_int64(st, 1, db->run_id);
    sqlite3_bind_text(st, 2, r->url, -1, SQLITE_STATIC);
    if (r->final_url != NULL)
        sqlite3_bind_text(st, 3, r->final_url, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, r->status);
    sqlite3_bind_int64(st, 5, r->bytes);
    if (r->path != NULL)
        sqlite3_bind_text(st, 6, r->path, -1, SQLITE_STATIC);
    if (r->content_type != NULL)
        sqlite3_bind_text(st, 7, r->content_type, -1, SQLITE_STATIC);
    if (r->error != NULL)
        sqlite3_bind_text(st, 8, r->error, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 9, r->attempts);
    sqlite3_bind_int(st, 10, r->depth);
    if (r->parent_url != NULL)
        sqlite3_bind_text(st, 11, r->parent_url, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, r->elapsed_ms);
    if (r->started_at_ms > 0) {
        format_time(started, r->started_at_ms);
        sqlite3_bind_text(st, 13, started, -1, SQLITE_STATIC);
    }
    bind_opt(st, 14, r->sha256);
    bind_opt(st, 15, r->etag);
    bind_opt(st, 16, r->last_modified);
    bind_opt(st, 17, r->http_version);
step:
    src = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (src != SQLITE_DONE) {
        rc = fail(db, src);
        resync(db);
        return rc;
    }
    db->pending++;
    if (db->pending >= PF__DB_BATCH)
        rc = commit_batch(db);
    return rc;
}

/* conn_mu held. */
static int commit_batch(struct pf__db *db)
{
    int src;

    if (!db->in_txn)
        return 0;
    src = step_retry(db->commit);
    if (src != SQLITE_DONE) {
        int rc = fail(db, src);

        resync(db);
        return rc;
    }
    db->in_txn = 0;
    db->pending = 0;
    return 0;
}

/* Copy s into *p, advance *p, return the copy (NULL stays NULL). */
static const char *pack(char **p, const char *s)
{
    size_t n;
    char *d = *p;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    memcpy(d, s, n);
    *p += n;
    return d;
}

static size_t len0(const char *s)
{
    return s != NULL ? strlen(s) + 1 : 0;
}

/* Bytes of s masked (pf__url_mask()) and its NUL; 0 for NULL. */
static size_t masked_len0(const char *s)
{
    int n = s != NULL ? pf__url_mask(s, NULL, 0) : -1;

    return n >= 0 ? (size_t)n + 1 : 0;
}

/* Copy the URL s masked into *p, advance *p, return the copy. */
static const char *pack_masked(char **p, const char *s)
{
    size_t n = masked_len0(s);
    char *d = *p;

    if (n == 0)
        return NULL;
    pf__url_mask(s, d, n);
    *p += n;
    return d;
}

/*
 * Loop thread: queue the row; the writer thread inserts it.  Its URLs
 * are masked here, on their way into the log, so that no password is
 * ever written to the file, whoever the caller.
 */
static int queue_row(struct pf__db *db, enum row_table table,
                     const struct pf_result *r)
{
    struct row *w;
    char *p;
    int err;

    w = pf__malloc(
        sizeof(*w) + masked_len0(r->url) + masked_len0(r->final_url) +
        len0(r->path) + len0(r->content_type) + len0(r->error) +
        masked_len0(r->parent_url) + len0(r->sha256) + len0(r->etag) +
        len0(r->last_modified) + len0(r->http_version));
    if (w == NULL)
        return PF_ENOMEM;
    w->table = table;
    w->r = *r;
    p = w->data;
    w->r.url = pack_masked(&p, r->url);
    w->r.final_url = pack_masked(&p, r->final_url);
    w->r.path = pack(&p, r->path);
    w->r.content_type = pack(&p, r->content_type);
    w->r.error = pack(&p, r->error);
    w->r.parent_url = pack_masked(&p, r->parent_url);
    w->r.sha256 = pack(&p, r->sha256);
    w->r.etag = pack(&p, r->etag);
    w->r.last_modified = pack(&p, r->last_modified);
    w->r.http_version = pack(&p, r->http_version);
    pthread_mutex_lock(&db->mu);
    err = db->err;
    pf__queue_insert_tail(&db->rows, &w->link);
    db->nrows++;
    /* Wake the writer from idle, and cut its lingering short when full. */
    if (db->nrows == 1 || db->nrows == PF__DB_BATCH)
        pthread_cond_signal(&db->work);
    pthread_mutex_unlock(&db->mu);
    return err;
}

int pf__db_log_fetch(struct pf__db *db, const struct pf_result *r)
{
    if (db == NULL || r == NULL || r->url == NULL)
        return PF_EINVAL;
    return queue_row(db, ROW_FETCH, r);
}

int pf__db_log_frontier(struct pf__db *db, const char *url, int depth,
                        const char *parent_url, int requisite)
{
    struct pf_result r;

    if (db == NULL || url == NULL)
        return PF_EINVAL;
    memset(&r, 0, sizeof(r));
    r.url = url;
    r.depth = depth;
    r.parent_url = parent_url;
    r.status = requisite != 0;
    return queue_row(db, ROW_FRONTIER, &r);
}

/*
 * --json: one line for r, written whole with one fwrite() and flushed,
 * under the stream's lock, so that no line is split or interleaved with
 * another writer's.  Nothing is written when out of memory; a failed
 * write (a closed pipe) is the reader's loss, not the run's.
 */
int pf__db_json_line(FILE *fp, const struct pf_result *r)
{
    struct pf__buf line = {NULL, 0, 0};
    char started[TIMESTAMP_LEN];
    int rc;

    if (fp == NULL)
        return 0;
    if (r->started_at_ms > 0)
        format_time(started, r->started_at_ms);
    rc = pf__json_row(&line, r, r->started_at_ms > 0 ? started : NULL);
    if (rc == 0) {
        flockfile(fp);
        fwrite(line.data, 1, line.len, fp);
        fflush(fp);
        funlockfile(fp);
    }
    pf__buf_free(&line);
    return rc;
}

void pf__db_set_json(struct pf__db *db, FILE *fp)
{
    db->json = fp;
}

/*
 * Insert and commit a batch taken off the queue, then (--json) write
 * the lines of its fetches rows, which are committed now.  Writer
 * thread.
 */
static int write_batch(struct pf__db *db, struct pf__queue *batch)
{
    struct pf__queue *q;
    int rc = 0;

    pthread_mutex_lock(&db->conn_mu);
    for (q = batch->next; q != batch && rc == 0; q = q->next) {
        struct row *w = pf__container_of(q, struct row, link);

        rc = insert_row(db, w->table, &w->r);
    }
    if (rc == 0)
        rc = commit_batch(db);
    pthread_mutex_unlock(&db->conn_mu);
    while (!pf__queue_empty(batch)) {
        struct row *w =
            pf__container_of(pf__queue_head(batch), struct row, link);

        pf__queue_remove(&w->link);
        if (rc == 0 && w->table == ROW_FETCH)
            pf__db_json_line(db->json, &w->r);
        pf__free(w);
    }
    return rc;
}

/*
 * The writer: wake on the first queued row, then linger up to LINGER_MS
 * for a full batch, so that a run producing rows steadily pays one
 * commit and two wake-ups per batch, not one per row.
 */
#define LINGER_MS 100

static void *writer_main(void *arg)
{
    struct pf__db *db = arg;

    pthread_mutex_lock(&db->mu);
    for (;;) {
        struct pf__queue batch;
        struct timespec until;
        int rc;

        while (pf__queue_empty(&db->rows) && !db->stop) {
            pthread_cond_broadcast(&db->drained);
            pthread_cond_wait(&db->work, &db->mu);
        }
        if (pf__queue_empty(&db->rows))
            break;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += LINGER_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (db->nrows < PF__DB_BATCH && !db->stop && !db->flushing)
            if (pthread_cond_timedwait(&db->work, &db->mu, &until) != 0)
                break;
        /* Take everything queued: batches grow while we commit. */
        pf__queue_move(&db->rows, &batch);
        db->nrows = 0;
        db->busy = 1;
        pthread_mutex_unlock(&db->mu);
        rc = write_batch(db, &batch);
        pthread_mutex_lock(&db->mu);
        db->busy = 0;
        if (rc < 0 && db->err == 0)
            db->err = rc;
    }
    pthread_cond_broadcast(&db->drained);
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

/* Loop thread: wait until every queued row is committed. */
int pf__db_flush(struct pf__db *db)
{
    int rc;

    if (db == NULL)
        return PF_EINVAL;
    pthread_mutex_lock(&db->mu);
    if (!db->thread_started) {
        pthread_mutex_unlock(&db->mu);
        return 0;
    }
    db->flushing++;
    pthread_cond_signal(&db->work);
    while (!pf__queue_empty(&db->rows) || db->busy)
        pthread_cond_wait(&db->drained, &db->mu);
    db->flushing--;
    rc = db->err;
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* Loop thread. */
int pf__db_finish_run(struct pf__db *db)
{
    char now[TIMESTAMP_LEN];
    int src;
    int rc;

    if (db == NULL)
        return PF_EINVAL;
    rc = pf__db_flush(db);
    if (rc < 0)
        return rc;
    pthread_mutex_lock(&db->conn_mu);
    format_time(now, pf__wall_ms());
    sqlite3_bind_text(db->finish_run, 1, now, -1, SQLITE_STATIC);
    sqlite3_bind_int64(db->finish_run, 2, db->run_id);
    src = step_retry(db->finish_run);
    sqlite3_clear_bindings(db->finish_run);
    rc = src == SQLITE_DONE ? 0 : fail(db, src);
    pthread_mutex_unlock(&db->conn_mu);
    return rc;
}

/*
 * Loop thread: open the reading connection at its first use.  1 when it
 * is there, 0 when the log has no file (an in-memory database has no
 * earlier runs to read), or a PF_E* code.
 */
static int reader(struct pf__db *db)
{
    const char *file;
    int src, rc;

    if (db->rh != NULL)
        return 1;
    file = sqlite3_db_filename(db->h, "main");
    if (file == NULL || file[0] == '\0')
        return 0;
    src = sqlite3_open_v2(file, &db->rh,
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src == SQLITE_OK) {
        sqlite3_extended_result_codes(db->rh, 1);
        sqlite3_busy_timeout(db->rh, BUSY_TIMEOUT_MS);
        src = sqlite3_prepare_v3(db->rh, is_done_sql, -1,
                                 SQLITE_PREPARE_PERSISTENT, &db->is_done, NULL);
        if (src == SQLITE_OK)
            return 1;
    }
    rc = db->rh != NULL ? fail_on(db, db->rh, src) : PF_ENOMEM;
    sqlite3_close(db->rh);
    db->rh = NULL;
    return rc;
}

/*
 * Loop thread.  This run's own rows are left out by run_id, so only
 * earlier runs (committed, which is all the reading connection sees)
 * make a URL done.  The rows hold masked URLs, so url is masked before
 * the query: a URL counts as done when one with the same user, host and
 * path was done, whatever its password.
 */
/*
 * Bind url to parameter idx of st as the log holds it: masked when it
 * has a password (SQLite copies that text).  PF_ENOMEM.
 */
static int bind_url(sqlite3_stmt *st, int idx, const char *url)
{
    size_t n;
    char *masked;

    if (!pf__url_has_password(url)) {
        sqlite3_bind_text(st, idx, url, -1, SQLITE_STATIC);
        return 0;
    }
    n = masked_len0(url);
    masked = n > 0 ? pf__malloc(n) : NULL;
    if (masked == NULL)
        return PF_ENOMEM;
    pf__url_mask(url, masked, n);
    sqlite3_bind_text(st, idx, masked, -1, SQLITE_TRANSIENT);
    pf__free(masked);
    return 0;
}

int pf__db_is_done(struct pf__db *db, const char *url)
{
    sqlite3_stmt *st;
    int src;

    if (db == NULL || url == NULL)
        return PF_EINVAL;
    src = reader(db);
    if (src <= 0)
        return src;
    st = db->is_done;
    if (bind_url(st, 1, url) < 0)
        return PF_ENOMEM;
    sqlite3_bind_int64(st, 2, db->run_id);
    src = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (src == SQLITE_ROW)
        src = 1;
    else if (src == SQLITE_DONE)
        src = 0;
    else
        src = fail_on(db, db->rh, src);
    return src;
}

/*
 * Loop thread.  Once per URL a flat layout accepts, so the statement is
 * kept; the fetches_url index makes it a lookup.  Like pf__db_is_done(),
 * it sees committed rows of other runs only.
 */
int pf__db_saved_path(struct pf__db *db, const char *url, char **path)
{
    static const char sql[] =
        "SELECT path FROM fetches WHERE url = ?1 AND run_id <> ?2"
        " AND error IS NULL AND path IS NOT NULL ORDER BY id DESC LIMIT 1";
    const unsigned char *text;
    int src, rc;

    *path = NULL;
    if (db == NULL || url == NULL)
        return PF_EINVAL;
    rc = reader(db);
    if (rc <= 0)
        return rc;
    if (db->saved == NULL) {
        src = sqlite3_prepare_v3(db->rh, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                 &db->saved, NULL);
        if (src != SQLITE_OK)
            return fail_on(db, db->rh, src);
    }
    if (bind_url(db->saved, 1, url) < 0)
        return PF_ENOMEM;
    sqlite3_bind_int64(db->saved, 2, db->run_id);
    src = sqlite3_step(db->saved);
    rc = 0;
    if (src == SQLITE_ROW) {
        text = sqlite3_column_text(db->saved, 0);
        if (text != NULL) {
            *path = pf__strdup((const char *)text);
            rc = *path != NULL ? 0 : PF_ENOMEM;
        }
    } else if (src != SQLITE_DONE) {
        rc = fail_on(db, db->rh, src);
    }
    sqlite3_reset(db->saved);
    sqlite3_clear_bindings(db->saved);
    return rc;
}

/* A text column, copied; 0, or PF_ENOMEM. */
static int column_dup(sqlite3_stmt *st, int col, char **out)
{
    const unsigned char *t = sqlite3_column_text(st, col);

    *out = NULL;
    if (t == NULL)
        return 0;
    *out = pf__strdup((const char *)t);
    return *out != NULL ? 0 : PF_ENOMEM;
}

void pf__db_saved_free(struct pf__db_saved *s)
{
    pf__free(s->path);
    pf__free(s->etag);
    pf__free(s->last_modified);
    pf__free(s->sha256);
    pf__free(s->content_type);
    memset(s, 0, sizeof(*s));
}

/*
 * Loop thread.  Once per URL of a -N run, so the statement is kept.  The
 * latest row that kept a file (a 2xx, or a 304 that kept one), and the
 * size the latest 2xx row of that file saw.
 */
int pf__db_last_saved(struct pf__db *db, const char *url,
                      struct pf__db_saved *out)
{
    static const char sql[] =
        "SELECT f.path, f.etag, f.last_modified, f.sha256, f.content_type,"
        " (SELECT b.bytes FROM fetches AS b WHERE b.url = ?1"
        "  AND b.path = f.path AND b.error IS NULL"
        "  AND b.status BETWEEN 200 AND 299 ORDER BY b.id DESC LIMIT 1)"
        " FROM fetches AS f WHERE f.url = ?1 AND f.run_id <> ?2"
        " AND f.error IS NULL AND f.path IS NOT NULL"
        " ORDER BY f.id DESC LIMIT 1";
    sqlite3_stmt *st;
    int src, rc;

    memset(out, 0, sizeof(*out));
    out->bytes = -1;
    if (db == NULL || url == NULL)
        return PF_EINVAL;
    rc = reader(db);
    if (rc <= 0)
        return rc;
    if (db->last_saved == NULL) {
        src = sqlite3_prepare_v3(db->rh, sql, -1, SQLITE_PREPARE_PERSISTENT,
                                 &db->last_saved, NULL);
        if (src != SQLITE_OK)
            return fail_on(db, db->rh, src);
    }
    st = db->last_saved;
    if (bind_url(st, 1, url) < 0)
        return PF_ENOMEM;
    sqlite3_bind_int64(st, 2, db->run_id);
    src = sqlite3_step(st);
    rc = 0;
    if (src == SQLITE_ROW) {
        rc = column_dup(st, 0, &out->path);
        if (rc == 0)
            rc = column_dup(st, 1, &out->etag);
        if (rc == 0)
            rc = column_dup(st, 2, &out->last_modified);
        if (rc == 0)
            rc = column_dup(st, 3, &out->sha256);
        if (rc == 0)
            rc = column_dup(st, 4, &out->content_type);
        if (sqlite3_column_type(st, 5) != SQLITE_NULL)
            out->bytes = sqlite3_column_int64(st, 5);
        rc = rc == 0 ? 1 : rc;
    } else if (src != SQLITE_DONE) {
        rc = fail_on(db, db->rh, src);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc < 0)
        pf__db_saved_free(out);
    return rc;
}

/*
 * Loop thread.  Prepared per call: it runs once per resumed crawl.  The
 * smallest depth wins, with the parent of one row of that depth.
 */
int pf__db_frontier_pending(struct pf__db *db, pf__db_frontier_fn *fn,
                            void *userdata)
{
    static const char sql[] =
        "SELECT f.url, min(f.depth), f.parent_url, min(f.requisite)"
        " FROM frontier AS f"
        " WHERE f.run_id <> ?1 AND NOT EXISTS (SELECT 1 FROM fetches AS d"
        "  WHERE d.url = f.url AND d.error IS NULL)"
        " GROUP BY f.url ORDER BY min(f.depth), min(f.id)";
    sqlite3_stmt *st = NULL;
    int src, rc;

    if (db == NULL || fn == NULL)
        return PF_EINVAL;
    rc = reader(db);
    if (rc <= 0)
        return rc;
    src = sqlite3_prepare_v2(db->rh, sql, -1, &st, NULL);
    rc = src == SQLITE_OK ? 0 : fail_on(db, db->rh, src);
    if (rc == 0) {
        sqlite3_bind_int64(st, 1, db->run_id);
        while ((src = sqlite3_step(st)) == SQLITE_ROW) {
            rc = fn((const char *)sqlite3_column_text(st, 0),
                    sqlite3_column_int(st, 1),
                    (const char *)sqlite3_column_text(st, 2),
                    sqlite3_column_int(st, 3), userdata);
            if (rc < 0)
                break;
        }
        if (rc == 0 && src != SQLITE_DONE)
            rc = fail_on(db, db->rh, src);
        sqlite3_finalize(st);
    }
    return rc;
}

/* Loop thread. */
const char *pf__db_errmsg(struct pf__db *db)
{
    if (db == NULL)
        return NULL;
    pthread_mutex_lock(&db->mu);
    memcpy(db->errmsg_out, db->errmsg, sizeof(db->errmsg_out));
    pthread_mutex_unlock(&db->mu);
    return db->errmsg_out[0] != '\0' ? db->errmsg_out : NULL;
}

/*
 * Loop thread.  A commit that fails here is lost with the connection: a
 * caller that cares calls pf__db_flush() first and looks at its result.
 */
void pf__db_close(struct pf__db *db)
{
    if (db == NULL)
        return;
    if (db->thread_started) {
        pthread_mutex_lock(&db->mu);
        db->stop = 1;
        pthread_cond_signal(&db->work);
        pthread_mutex_unlock(&db->mu);
        pthread_join(db->thread, NULL);
    }
    if (db->h != NULL) {
        if (db->in_txn)
            commit_batch(db); /* may fail(), which takes mu */
        sqlite3_finalize(db->begin);
        sqlite3_finalize(db->commit);
        sqlite3_finalize(db->insert_fetch);
        sqlite3_finalize(db->insert_frontier);
        sqlite3_finalize(db->finish_run);
        sqlite3_close(db->h);
    }
    sqlite3_finalize(db->is_done);
    sqlite3_finalize(db->saved);
    sqlite3_finalize(db->last_saved);
    sqlite3_close(db->rh);
    if (db->sync_init) {
        pthread_cond_destroy(&db->drained);
        pthread_cond_destroy(&db->work);
        pthread_mutex_destroy(&db->mu);
        pthread_mutex_destroy(&db->conn_mu);
    }
    pf__free(db->path);
    pf__free(db);
}
