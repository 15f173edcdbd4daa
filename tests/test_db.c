/*
 * test_db.c -- the log database: the schema and every column as sqlite3
 * sees them, batching, run ids, -c's is_done, finish_run, WAL mode, the
 * errors of unusable files, allocation failures, and the cost of a row.
 * Each test works in its own temporary directory.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
#include "test.h"
#include "util.h"

/* 2026-11-23T08:15:02.123Z in ms since the epoch. */
#define SOME_TIME_MS INT64_C(1795421702123)

/* A temporary directory and the database path inside it. */
struct scratch {
    char dir[256];
    char db[300];
};

static int scratch_make(struct scratch *s)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(s->dir, sizeof(s->dir), "%s/pfetch-db-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    if (mkdtemp(s->dir) == NULL)
        return -1;
    snprintf(s->db, sizeof(s->db), "%s/pfetch.db", s->dir);
    return 0;
}

/* Remove the database, its WAL files and the directory. */
static void scratch_remove(struct scratch *s)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char path[320];
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(suffixes); i++) {
        snprintf(path, sizeof(path), "%s%s", s->db, suffixes[i]);
        unlink(path);
    }
    rmdir(s->dir);
}

/* A second, plain connection: what a user's sqlite3 sees. */
static sqlite3 *peek_open(const char *path)
{
    sqlite3 *h = NULL;

    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(h);
        return NULL;
    }
    sqlite3_busy_timeout(h, 5000);
    return h;
}

/* The integer an SQL query yields, or -1. */
static int64_t peek_int(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int64_t v = -1;

    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* The text an SQL query yields into buf; "(null)" for NULL; "" if none. */
static const char *peek_text(sqlite3 *h, const char *sql, char *buf,
                             size_t size)
{
    sqlite3_stmt *st = NULL;

    buf[0] = '\0';
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);

        snprintf(buf, size, "%s", t != NULL ? (const char *)t : "(null)");
    }
    sqlite3_finalize(st);
    return buf;
}

static int looks_like_timestamp(const char *s)
{
    /* "2026-11-23T08:15:02.123Z" */
    return strlen(s) == 24 && s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
           s[13] == ':' && s[16] == ':' && s[19] == '.' && s[23] == 'Z';
}

static struct pf_result sample_result(const char *url)
{
    struct pf_result r;

    memset(&r, 0, sizeof(r));
    r.url = url;
    r.final_url = url;
    r.status = 200;
    r.attempts = 1;
    r.started_at_ms = SOME_TIME_MS;
    return r;
}

static void test_schema(void)
{
    static const char *const fetch_columns =
        "id,run_id,url,final_url,status,bytes,path,content_type,error,"
        "attempts,depth,parent_url,elapsed_ms,started_at,sha256,etag,"
        "last_modified,http_version";
    struct scratch s;
    struct pf__db *db = NULL;
    int64_t run_id = 0;
    char *err = NULL;
    sqlite3 *h;
    char buf[512];

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, "pfetch a b", &run_id, &err), 0);
    CHECK(err == NULL);
    CHECK(run_id > 0);
    pf__db_close(db);

    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_EQ(peek_int(h, "PRAGMA user_version"), 3);
    CHECK_STR(peek_text(h, "PRAGMA journal_mode", buf, sizeof(buf)), "wal");
    CHECK_STR(peek_text(h,
                        "SELECT group_concat(name, ',') FROM "
                        "(SELECT name FROM pragma_table_info('fetches') "
                        "ORDER BY cid)",
                        buf, sizeof(buf)),
              fetch_columns);
    CHECK_STR(peek_text(h,
                        "SELECT group_concat(name, ',') FROM "
                        "(SELECT name FROM pragma_table_info('runs') "
                        "ORDER BY cid)",
                        buf, sizeof(buf)),
              "id,started_at,finished_at,argv,version");
    CHECK_EQ(peek_int(h, "SELECT \"notnull\" FROM pragma_table_info("
                         "'fetches') WHERE name = 'url'"),
             1);
    CHECK_EQ(peek_int(h, "SELECT count(*) FROM pragma_index_list('fetches')"
                         " WHERE name IN ('fetches_url', 'fetches_run_id')"),
             2);
    CHECK_STR(peek_text(h,
                        "SELECT \"table\" FROM "
                        "pragma_foreign_key_list('fetches')",
                        buf, sizeof(buf)),
              "runs");
    sqlite3_close(h);
    scratch_remove(&s);
}

/* EXPLAIN QUERY PLAN of is_done's query names the url index. */
static void test_is_done_uses_index(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    sqlite3 *h;
    sqlite3_stmt *st = NULL;
    int found = 0;

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    pf__db_close(db);
    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_EQ(sqlite3_prepare_v2(h,
                                "EXPLAIN QUERY PLAN SELECT 1 FROM fetches"
                                " WHERE url = 'x' AND error IS NULL"
                                " AND run_id <> 1 LIMIT 1",
                                -1, &st, NULL),
             SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *d = sqlite3_column_text(st, 3);

        if (d != NULL && strstr((const char *)d, "fetches_url") != NULL)
            found = 1;
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    scratch_remove(&s);
    CHECK(found);
}

static void test_columns(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    int64_t run_id = 0;
    struct pf_result r;
    sqlite3 *h;
    sqlite3_stmt *st = NULL;
    char sql[128];

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, "pfetch -r x", &run_id, NULL), 0);

    memset(&r, 0, sizeof(r));
    r.url = "http://example.com/a";
    r.final_url = "https://example.com/b";
    r.status = 200;
    r.bytes = INT64_C(5000000000);
    r.path = "example.com/b";
    r.content_type = "text/html; charset=utf-8";
    r.error = NULL;
    r.attempts = 3;
    r.depth = 2;
    r.parent_url = "http://example.com/";
    r.elapsed_ms = 1234;
    r.started_at_ms = SOME_TIME_MS;
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);

    memset(&r, 0, sizeof(r)); /* a failure: every optional field NULL */
    r.url = "http://example.com/gone";
    r.error = "HTTP 404";
    r.err = PF_ECURL;
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    CHECK_EQ(pf__db_flush(db), 0);

    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_EQ(sqlite3_prepare_v2(h,
                                "SELECT run_id, url, final_url, status, "
                                "bytes, path, content_type, error, "
                                "attempts, depth, parent_url, elapsed_ms, "
                                "started_at FROM fetches ORDER BY id",
                                -1, &st, NULL),
             SQLITE_OK);
    CHECK_EQ(sqlite3_step(st), SQLITE_ROW);
    CHECK_EQ(sqlite3_column_int64(st, 0), run_id);
    CHECK_STR((const char *)sqlite3_column_text(st, 1), "http://example.com/a");
    CHECK_STR((const char *)sqlite3_column_text(st, 2),
              "https://example.com/b");
    CHECK_EQ(sqlite3_column_int64(st, 3), 200);
    CHECK_EQ(sqlite3_column_int64(st, 4), INT64_C(5000000000));
    CHECK_STR((const char *)sqlite3_column_text(st, 5), "example.com/b");
    CHECK_STR((const char *)sqlite3_column_text(st, 6),
              "text/html; charset=utf-8");
    CHECK_EQ(sqlite3_column_type(st, 7), SQLITE_NULL);
    CHECK_EQ(sqlite3_column_int64(st, 8), 3);
    CHECK_EQ(sqlite3_column_int64(st, 9), 2);
    CHECK_STR((const char *)sqlite3_column_text(st, 10), "http://example.com/");
    CHECK_EQ(sqlite3_column_int64(st, 11), 1234);
    CHECK_STR((const char *)sqlite3_column_text(st, 12),
              "2026-11-23T08:15:02.123Z");
    CHECK_EQ(sqlite3_column_type(st, 3), SQLITE_INTEGER);
    CHECK_EQ(sqlite3_column_type(st, 4), SQLITE_INTEGER);

    CHECK_EQ(sqlite3_step(st), SQLITE_ROW);
    CHECK_EQ(sqlite3_column_int64(st, 0), run_id);
    CHECK_STR((const char *)sqlite3_column_text(st, 1),
              "http://example.com/gone");
    CHECK_EQ(sqlite3_column_type(st, 2), SQLITE_NULL);
    CHECK_EQ(sqlite3_column_int64(st, 3), 0);
    CHECK_EQ(sqlite3_column_int64(st, 4), 0);
    CHECK_EQ(sqlite3_column_type(st, 5), SQLITE_NULL);
    CHECK_EQ(sqlite3_column_type(st, 6), SQLITE_NULL);
    CHECK_STR((const char *)sqlite3_column_text(st, 7), "HTTP 404");
    CHECK_EQ(sqlite3_column_int64(st, 8), 0);
    CHECK_EQ(sqlite3_column_int64(st, 9), 0);
    CHECK_EQ(sqlite3_column_type(st, 10), SQLITE_NULL);
    CHECK_EQ(sqlite3_column_int64(st, 11), 0);
    CHECK_EQ(sqlite3_column_type(st, 12), SQLITE_NULL); /* never started */
    CHECK_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);

    /* The runs row. */
    snprintf(sql, sizeof(sql), "SELECT argv FROM runs WHERE id = %lld",
             (long long)run_id);
    {
        char buf[128];

        CHECK_STR(peek_text(h, sql, buf, sizeof(buf)), "pfetch -r x");
        snprintf(sql, sizeof(sql), "SELECT version FROM runs WHERE id = %lld",
                 (long long)run_id);
        CHECK_STR(peek_text(h, sql, buf, sizeof(buf)), PF_VERSION_STRING);
        snprintf(sql, sizeof(sql),
                 "SELECT started_at FROM runs WHERE id = %lld",
                 (long long)run_id);
        CHECK(looks_like_timestamp(peek_text(h, sql, buf, sizeof(buf))));
        snprintf(sql, sizeof(sql),
                 "SELECT finished_at IS NULL FROM runs WHERE id = %lld",
                 (long long)run_id);
        CHECK_EQ(peek_int(h, sql), 1);
    }
    sqlite3_close(h);
    pf__db_close(db);
    scratch_remove(&s);
}

static void test_batching(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    struct pf_result r = sample_result("http://example.com/");
    sqlite3 *h;
    int i;

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    h = peek_open(s.db);
    CHECK(h != NULL);

    for (i = 0; i < 10; i++)
        CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    /* Queued for the writer thread; a flush waits until committed. */
    CHECK_EQ(pf__db_flush(db), 0);
    CHECK_EQ(peek_int(h, "SELECT count(*) FROM fetches"), 10);
    CHECK_EQ(pf__db_flush(db), 0); /* nothing queued: a no-op */

    /* Rows commit by themselves too, without a flush. */
    for (i = 0; i < PF__DB_BATCH; i++)
        CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    {
        int64_t deadline = pf__now_ms() + 10000;

        while (peek_int(h, "SELECT count(*) FROM fetches") <
                   10 + PF__DB_BATCH &&
               pf__now_ms() < deadline)
            usleep(1000);
    }
    CHECK_EQ(peek_int(h, "SELECT count(*) FROM fetches"), 10 + PF__DB_BATCH);

    /* Closing commits what is queued. */
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    pf__db_close(db);
    CHECK_EQ(peek_int(h, "SELECT count(*) FROM fetches"), 11 + PF__DB_BATCH);
    sqlite3_close(h);
    scratch_remove(&s);
}

static void test_two_runs(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    int64_t id1 = 0, id2 = 0;
    struct pf_result r = sample_result("http://example.com/");
    sqlite3 *h;
    char sql[128];

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, "first", &id1, NULL), 0);
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    pf__db_close(db);
    CHECK_EQ(pf__db_open(&db, s.db, "second", &id2, NULL), 0);
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    pf__db_close(db);
    CHECK(id1 > 0);
    CHECK(id2 > 0);
    CHECK(id1 != id2);

    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_EQ(peek_int(h, "SELECT count(*) FROM runs"), 2);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM fetches WHERE run_id = %lld",
             (long long)id1);
    CHECK_EQ(peek_int(h, sql), 1);
    snprintf(sql, sizeof(sql),
             "SELECT count(*) FROM fetches WHERE run_id = %lld",
             (long long)id2);
    CHECK_EQ(peek_int(h, sql), 2);
    sqlite3_close(h);
    scratch_remove(&s);
}

static void test_is_done(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    struct pf_result ok = sample_result("http://example.com/ok");
    struct pf_result bad = sample_result("http://example.com/bad");
    struct pf_result later = sample_result("http://example.com/later");

    bad.error = "connection refused";
    bad.status = 0;
    CHECK_EQ(scratch_make(&s), 0);

    /* Run 1: ok succeeds, bad fails. */
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    CHECK_EQ(pf__db_is_done(db, "http://example.com/ok"), 0);
    CHECK_EQ(pf__db_log_fetch(db, &ok), 0);
    CHECK_EQ(pf__db_log_fetch(db, &bad), 0);
    /* This run's own rows do not make a URL done. */
    CHECK_EQ(pf__db_is_done(db, "http://example.com/ok"), 0);
    CHECK_EQ(pf__db_finish_run(db), 0);
    pf__db_close(db);

    /* Run 2: ok is done, bad and unknown are not; later succeeds now. */
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    CHECK_EQ(pf__db_is_done(db, "http://example.com/ok"), 1);
    CHECK_EQ(pf__db_is_done(db, "http://example.com/bad"), 0);
    CHECK_EQ(pf__db_is_done(db, "http://example.com/unknown"), 0);
    CHECK_EQ(pf__db_is_done(db, "http://example.com/OK"), 0);
    bad.error = NULL; /* bad succeeds on the retry */
    CHECK_EQ(pf__db_log_fetch(db, &bad), 0);
    CHECK_EQ(pf__db_log_fetch(db, &later), 0);
    CHECK_EQ(pf__db_is_done(db, "http://example.com/later"), 0);
    pf__db_close(db);

    /* Run 3: all three are done. */
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    CHECK_EQ(pf__db_is_done(db, "http://example.com/ok"), 1);
    CHECK_EQ(pf__db_is_done(db, "http://example.com/bad"), 1);
    CHECK_EQ(pf__db_is_done(db, "http://example.com/later"), 1);
    CHECK_EQ(pf__db_is_done(db, NULL), PF_EINVAL);
    pf__db_close(db);
    scratch_remove(&s);
}

/* The latest path an earlier run saved a URL under, for flat names. */
static void test_saved_path(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    struct pf_result a = sample_result("http://example.com/f?x=1");
    struct pf_result b = sample_result("http://example.com/f?x=2");
    char *path = NULL;

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    a.path = "f";
    b.path = "f.1";
    CHECK_EQ(pf__db_log_fetch(db, &a), 0);
    CHECK_EQ(pf__db_log_fetch(db, &b), 0);
    CHECK_EQ(pf__db_flush(db), 0);
    /* This run's own rows do not count. */
    CHECK_EQ(pf__db_saved_path(db, a.url, &path), 0);
    CHECK(path == NULL);
    pf__db_close(db);

    /* Run 2: b fails (no path), a is saved under a new name. */
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    CHECK_EQ(pf__db_saved_path(db, a.url, &path), 0);
    CHECK_STR(path, "f");
    pf__free(path);
    b.path = NULL;
    b.error = "404 Not Found";
    a.path = "f.9";
    CHECK_EQ(pf__db_log_fetch(db, &a), 0);
    CHECK_EQ(pf__db_log_fetch(db, &b), 0);
    pf__db_close(db);

    /* Run 3: the latest saved path of each. */
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    CHECK_EQ(pf__db_saved_path(db, a.url, &path), 0);
    CHECK_STR(path, "f.9");
    pf__free(path);
    CHECK_EQ(pf__db_saved_path(db, b.url, &path), 0);
    CHECK_STR(path, "f.1");
    pf__free(path);
    CHECK_EQ(pf__db_saved_path(db, "http://example.com/none", &path), 0);
    CHECK(path == NULL);
    CHECK_EQ(pf__db_saved_path(db, NULL, &path), PF_EINVAL);
    pf__db_close(db);
    scratch_remove(&s);
}

static void test_finish_run(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    int64_t id = 0;
    struct pf_result r = sample_result("http://example.com/");
    sqlite3 *h;
    char sql[128];
    char buf[64];

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, &id, NULL), 0);
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    h = peek_open(s.db);
    CHECK(h != NULL);
    snprintf(sql, sizeof(sql), "SELECT finished_at FROM runs WHERE id = %lld",
             (long long)id);
    CHECK_STR(peek_text(h, sql, buf, sizeof(buf)), "(null)");
    CHECK_EQ(pf__db_finish_run(db), 0);
    /* finished_at is set, and the queued row was committed with it. */
    CHECK(looks_like_timestamp(peek_text(h, sql, buf, sizeof(buf))));
    CHECK_EQ(peek_int(h, "SELECT count(*) FROM fetches"), 1);
    CHECK_EQ(peek_int(h, "SELECT finished_at >= started_at FROM runs"), 1);
    sqlite3_close(h);
    pf__db_close(db);
    scratch_remove(&s);
}

static void test_wal_mode(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    struct pf_result r = sample_result("http://example.com/");
    struct stat sb;
    char wal[320];

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    CHECK_EQ(pf__db_flush(db), 0);
    /* While open, the log lives in the -wal file next to the database. */
    snprintf(wal, sizeof(wal), "%s-wal", s.db);
    CHECK_EQ(stat(wal, &sb), 0);
    pf__db_close(db);
    scratch_remove(&s);
}

static void test_open_errors(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    char path[400];
    char *err = NULL;
    FILE *fp;

    CHECK_EQ(scratch_make(&s), 0);

    /* A directory that does not exist. */
    snprintf(path, sizeof(path), "%s/missing/sub/pfetch.db", s.dir);
    CHECK_EQ(pf__db_open(&db, path, NULL, NULL, &err), PF_EDB);
    CHECK(db == NULL);
    CHECK(err != NULL);
    CHECK(strstr(err, path) != NULL);
    printf("# %s\n", err);
    pf__free(err);
    err = NULL;

    /* A directory where the file should be. */
    CHECK_EQ(pf__db_open(&db, s.dir, NULL, NULL, &err), PF_EDB);
    CHECK(db == NULL);
    CHECK(err != NULL && strstr(err, s.dir) != NULL);
    pf__free(err);
    err = NULL;

    /* A file that is not a database is left alone. */
    fp = fopen(s.db, "w");
    CHECK(fp != NULL);
    fputs("http://example.com/ is not an SQLite database, but a list.\n"
          "It is long enough to hold a database header's worth of bytes,\n"
          "which SQLite checks before it believes anything.\n",
          fp);
    CHECK_EQ(fclose(fp), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, &err), PF_EDB);
    CHECK(db == NULL);
    CHECK(err != NULL && strstr(err, s.db) != NULL);
    pf__free(err);
    err = NULL;
    unlink(s.db);

    /* errmsg may be NULL. */
    CHECK_EQ(pf__db_open(&db, path, NULL, NULL, NULL), PF_EDB);
    CHECK_EQ(pf__db_open(&db, NULL, NULL, NULL, NULL), PF_EINVAL);
    CHECK(db == NULL);
    scratch_remove(&s);
}

static void test_newer_schema(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    char *err = NULL;
    sqlite3 *h = NULL;

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    pf__db_close(db);
    db = NULL;
    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_EQ(sqlite3_exec(h, "PRAGMA user_version = 4", NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(h);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, &err), PF_EDB);
    CHECK(db == NULL);
    CHECK(err != NULL && strstr(err, s.db) != NULL &&
          strstr(err, "newer") != NULL);
    pf__free(err);
    scratch_remove(&s);
}

/* Crawls mirror their frontier; a version 1 file gains the table. */
static void test_frontier(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    sqlite3 *h;
    char buf[512];

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    pf__db_close(db);
    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_EQ(sqlite3_exec(h, "DROP TABLE frontier; PRAGMA user_version = 1",
                          NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(h);

    db = NULL;
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    CHECK_EQ(pf__db_log_frontier(db, "http://a.example/x", 2,
                                 "http://a.example/", 0),
             0);
    CHECK_EQ(pf__db_log_frontier(db, "http://a.example/i.png", 3,
                                 "http://a.example/x", 1),
             0);
    CHECK_EQ(pf__db_flush(db), 0);
    pf__db_close(db);
    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_EQ(peek_int(h, "PRAGMA user_version"), 3);
    CHECK_STR(peek_text(h,
                        "SELECT group_concat(url || ' ' || depth || ' ' || "
                        "parent_url || ' ' || requisite, '|') FROM "
                        "(SELECT * FROM frontier ORDER BY id)",
                        buf, sizeof(buf)),
              "http://a.example/x 2 http://a.example/ 0|"
              "http://a.example/i.png 3 http://a.example/x 1");
    CHECK_EQ(peek_int(h, "SELECT count(*) FROM frontier WHERE run_id = 2"), 2);
    sqlite3_close(h);
    scratch_remove(&s);
}

/*
 * Passwords never reach the file: url, final_url and parent_url of both
 * tables are masked, and -c's query masks the URL it looks for.
 */
static void test_masked(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    struct pf_result r = sample_result("http://alice:secret@a.example/x");
    sqlite3 *h;
    char buf[512];

    r.final_url = "http://alice:secret@a.example/y";
    r.parent_url = "http://alice:secret@a.example/";
    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    CHECK_EQ(pf__db_log_frontier(db, r.url, 1, r.parent_url, 0), 0);
    CHECK_EQ(pf__db_finish_run(db), 0);
    pf__db_close(db);
    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_STR(peek_text(h,
                        "SELECT url || ' ' || final_url || ' ' || parent_url"
                        " FROM fetches",
                        buf, sizeof(buf)),
              "http://alice:***@a.example/x http://alice:***@a.example/y "
              "http://alice:***@a.example/");
    CHECK_STR(peek_text(h, "SELECT url || ' ' || parent_url FROM frontier", buf,
                        sizeof(buf)),
              "http://alice:***@a.example/x http://alice:***@a.example/");
    sqlite3_close(h);
    db = NULL;
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    CHECK_EQ(pf__db_is_done(db, "http://alice:secret@a.example/x"), 1);
    CHECK_EQ(pf__db_is_done(db, "http://alice:other@a.example/x"), 1);
    CHECK_EQ(pf__db_is_done(db, "http://bob:secret@a.example/x"), 0);
    CHECK_EQ(pf__db_is_done(db, "http://a.example/x"), 0);
    pf__db_close(db);
    scratch_remove(&s);
}

static void test_null_and_args(void)
{
    struct pf_result r = sample_result("http://example.com/");

    pf__db_close(NULL);
    CHECK_EQ(pf__db_log_fetch(NULL, &r), PF_EINVAL);
    CHECK_EQ(pf__db_flush(NULL), PF_EINVAL);
    CHECK_EQ(pf__db_finish_run(NULL), PF_EINVAL);
    CHECK_EQ(pf__db_is_done(NULL, "x"), PF_EINVAL);
    CHECK(pf__db_errmsg(NULL) == NULL); /* no text: the caller has the code */
}

/*
 * Our allocations failing in turn (SQLite's own are not ours to fail):
 * open fails cleanly with PF_ENOMEM and leaks nothing.
 */
static void test_oom(void)
{
    struct scratch s;
    char bad[400];
    long n;

    CHECK_EQ(scratch_make(&s), 0);
    for (n = 1; n < 100; n++) {
        struct pf__db *db = NULL;
        char *err = NULL;
        int rc;

        pf__malloc_fail_at(n);
        rc = pf__db_open(&db, s.db, "oom", NULL, &err);
        CHECK(rc == 0 || rc == PF_ENOMEM);
        CHECK(rc == 0 || db == NULL);
        pf__free(err);
        pf__db_close(db);
        if (pf__malloc_fail_at(0) < n)
            break;
    }
    printf("# oom: swept %ld allocation points\n", n);
    CHECK(n < 100);
    /* The failure path, with its message, fails as cleanly. */
    snprintf(bad, sizeof(bad), "%s/missing/pfetch.db", s.dir);
    for (n = 1; n < 100; n++) {
        struct pf__db *db = NULL;
        char *err = NULL;
        int rc;

        pf__malloc_fail_at(n);
        rc = pf__db_open(&db, bad, "oom", NULL, &err);
        CHECK(rc == PF_EDB || rc == PF_ENOMEM);
        CHECK(db == NULL);
        pf__free(err);
        if (pf__malloc_fail_at(0) < n)
            break;
    }
    CHECK(n < 100);
    scratch_remove(&s);
}

/* The cost of a row: printed for the record, not judged. */
static void test_timing(void)
{
    const long rows = 100000;
    struct scratch s;
    struct pf__db *db = NULL;
    struct pf_result r = sample_result("http://example.com/");
    char url[64];
    char path[64];
    sqlite3 *h;
    int64_t t0, t1;
    long i;

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    r.url = url;
    r.final_url = url;
    r.path = path;
    r.content_type = "text/html";
    r.bytes = 12345;
    r.elapsed_ms = 17;
    t0 = pf__now_ms();
    for (i = 0; i < rows; i++) {
        snprintf(url, sizeof(url), "http://host%ld.example/page/%ld", i % 100,
                 i);
        snprintf(path, sizeof(path), "host%ld.example/page/%ld", i % 100, i);
        if (pf__db_log_fetch(db, &r) != 0)
            break;
    }
    CHECK_EQ(pf__db_flush(db), 0);
    t1 = pf__now_ms();
    printf("# db: %ld pf__db_log_fetch calls + flush in %lld ms\n", i,
           (long long)(t1 - t0));
    CHECK_EQ(i, rows);
    pf__db_close(db);
    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_EQ(peek_int(h, "SELECT count(*) FROM fetches"), rows);
    sqlite3_close(h);
    scratch_remove(&s);
}

/*
 * A log of pfetch 0.1 (no user_version, no frontier, fetches without the
 * validation columns) is upgraded in place: columns added, old rows kept
 * with NULL in them, new rows filled.
 */
static void test_upgrade_01(void)
{
    struct scratch s;
    struct pf__db *db = NULL;
    struct pf_result r;
    sqlite3 *h;
    char buf[512];

    CHECK_EQ(scratch_make(&s), 0);
    CHECK_EQ(sqlite3_open(s.db, &h), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(h,
                          "CREATE TABLE runs(id INTEGER PRIMARY KEY,"
                          " started_at TEXT, finished_at TEXT, argv TEXT,"
                          " version TEXT);"
                          "CREATE TABLE fetches(id INTEGER PRIMARY KEY,"
                          " run_id INTEGER REFERENCES runs(id),"
                          " url TEXT NOT NULL, final_url TEXT, status INTEGER,"
                          " bytes INTEGER, path TEXT, content_type TEXT,"
                          " error TEXT, attempts INTEGER, depth INTEGER,"
                          " parent_url TEXT, elapsed_ms INTEGER,"
                          " started_at TEXT);"
                          "INSERT INTO runs(started_at, version)"
                          " VALUES('2026-01-01T00:00:00.000Z', '0.1.0');"
                          "INSERT INTO fetches(run_id, url, status, bytes)"
                          " VALUES(1, 'http://old.example/', 200, 5);",
                          NULL, NULL, NULL),
             SQLITE_OK);
    sqlite3_close(h);

    CHECK_EQ(pf__db_open(&db, s.db, NULL, NULL, NULL), 0);
    memset(&r, 0, sizeof(r));
    r.url = "http://new.example/";
    r.status = 200;
    r.sha256 = "ab";
    r.etag = "\"e\"";
    r.last_modified = "Mon, 01 Jan 2026 00:00:00 GMT";
    r.http_version = "1.1";
    CHECK_EQ(pf__db_log_fetch(db, &r), 0);
    CHECK_EQ(pf__db_flush(db), 0);
    pf__db_close(db);
    h = peek_open(s.db);
    CHECK(h != NULL);
    CHECK_EQ(peek_int(h, "PRAGMA user_version"), 3);
    CHECK_STR(peek_text(h,
                        "SELECT group_concat(url || ' ' || status || ' ' ||"
                        " bytes || ' ' || ifnull(sha256, '-') || ' ' ||"
                        " ifnull(etag, '-') || ' ' ||"
                        " ifnull(last_modified, '-') || ' ' ||"
                        " ifnull(http_version, '-'), '|')"
                        " FROM (SELECT * FROM fetches ORDER BY id)",
                        buf, sizeof(buf)),
              "http://old.example/ 200 5 - - - -|"
              "http://new.example/ 200 0 ab \"e\" "
              "Mon, 01 Jan 2026 00:00:00 GMT 1.1");
    CHECK_EQ(peek_int(h, "SELECT count(*) FROM frontier"), 0);
    sqlite3_close(h);
    scratch_remove(&s);
}

TEST_MAIN(TEST(test_schema), TEST(test_is_done_uses_index), TEST(test_columns),
          TEST(test_batching), TEST(test_two_runs), TEST(test_is_done),
          TEST(test_saved_path), TEST(test_finish_run), TEST(test_wal_mode),
          TEST(test_open_errors), TEST(test_newer_schema), TEST(test_frontier),
          TEST(test_masked), TEST(test_null_and_args), TEST(test_oom),
          TEST(test_timing), TEST(test_upgrade_01))
