/*
 * db.h -- the SQLite log: one connection (SQLITE_OPEN_NOMUTEX), WAL mode,
 * statements prepared once, rows inserted in batched transactions by a
 * writer thread.  Every function here is called from the loop thread.
 * Schema: pfetch(1), THE LOG.
 */
#ifndef PF_DB_H
#define PF_DB_H

#include <stdint.h>
#include <stdio.h>

#include "pfetch.h"

struct pf__db;

/*
 * Open or create the database at path, create the schema if missing,
 * and start a run: a runs row with started_at, argv and version.
 * *run_id receives its id.  PF_EDB on failure; *errmsg (may be NULL)
 * then gets a pf__malloc'd message naming the file.
 */
int pf__db_open(struct pf__db **out, const char *path, const char *argv,
                int64_t *run_id, char **errmsg);

/*
 * Queue the fetches row of one result (copied).  A writer thread inserts
 * the queued rows in one transaction per batch (at most PF__DB_BATCH rows
 * each) and commits it; pf__db_flush() waits for that.  Returns 0, or the
 * first failure of the writer so far (PF_EDB, PF_EDISKFULL, PF_ENOMEM):
 * the log is then broken and the run must stop.
 */
#define PF__DB_BATCH 512
int pf__db_log_fetch(struct pf__db *db, const struct pf_result *r);

/*
 * Queue a frontier row: a URL a crawl accepted, with its depth, the page
 * that linked to it and whether it came as a page requisite.  Mirrors the
 * in-memory frontier so that a later run can continue a crawl.  Same
 * errors as pf__db_log_fetch().
 */
int pf__db_log_frontier(struct pf__db *db, const char *url, int depth,
                        const char *parent_url, int requisite);

/* Wait until every queued row is committed; the writer's first error. */
int pf__db_flush(struct pf__db *db);

/* Set the run's finished_at and commit. */
int pf__db_finish_run(struct pf__db *db);

/*
 * For -c: 1 if an earlier run logged url as fetched successfully
 * (error IS NULL), 0 if not, <0 on error.
 */
int pf__db_is_done(struct pf__db *db, const char *url);

/*
 * The path an earlier run saved url under: the latest successful row of
 * another run that has one, in *path (pf__malloc'd), or NULL in *path
 * when none has.  0, or PF_EDB / PF_ENOMEM.  The flat layout keeps a
 * URL's name from run to run with it.
 */
int pf__db_saved_path(struct pf__db *db, const char *url, char **path);

/*
 * For -N: what the latest successful row of an earlier run that saved a
 * file says about url.  bytes is the size the latest 2xx row of that
 * file recorded (-1 when none did); the strings are pf__malloc'd, NULL
 * for NULL.  pf__db_last_saved() returns 1 with *out filled, 0 when no
 * such row exists, or PF_EDB / PF_ENOMEM.
 */
struct pf__db_saved {
    char *path;
    char *etag;
    char *last_modified;
    char *sha256;
    char *content_type;
    int64_t bytes;
};
int pf__db_last_saved(struct pf__db *db, const char *url,
                      struct pf__db_saved *out);
void pf__db_saved_free(struct pf__db_saved *s);

/*
 * --json: from now on, write each fetches row to fp as a line of JSON
 * (json.h) once its transaction is committed, from the writer thread.
 * pf__db_json_line() writes one such line at once (a job without a log
 * uses it); 0 or PF_ENOMEM.
 */
void pf__db_set_json(struct pf__db *db, FILE *fp);
int pf__db_json_line(FILE *fp, const struct pf_result *r);

/*
 * For -c with a crawl: call fn for every URL of an earlier run's frontier
 * that no run has fetched successfully, with its smallest depth, a parent
 * and whether it was a requisite, smallest depth first.  fn returning < 0
 * stops the walk and is returned.  The strings are valid during the call.
 */
typedef int pf__db_frontier_fn(const char *url, int depth, const char *parent,
                               int requisite, void *userdata);
int pf__db_frontier_pending(struct pf__db *db, pf__db_frontier_fn *fn,
                            void *userdata);

/*
 * The text of the log's first failure ("PATH: SQLite's words"), or NULL
 * when it has none (out of memory, say).  Valid until the next call.
 * Loop thread.
 */
const char *pf__db_errmsg(struct pf__db *db);

/* Flush, then close.  NULL is a no-op. */
void pf__db_close(struct pf__db *db);

#endif /* PF_DB_H */
