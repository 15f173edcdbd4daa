/*
 * store.h -- the output directory: the names given out in this run (made
 * by names.h's functions), and the write sink that streams a body to
 * NAME.part and renames it to NAME only when complete.  Nothing is ever
 * created outside the output directory: every path is walked component
 * by component with openat(O_NOFOLLOW) from a directory fd, so neither
 * "..", absolute paths nor symbolic links already in the directory can
 * lead out of it.  Loop thread.
 */
#ifndef PF_STORE_H
#define PF_STORE_H

#include <stdint.h>

#include <openssl/evp.h>

#include "pfetch.h"

struct pf__store;

/*
 * Open (creating it and its parents if missing) the output directory dir.
 * db_path, when not NULL, names the log database: no body is ever saved
 * over it or over its -wal, -shm and -journal companions.
 * PF_EOUTDIR if the directory cannot be created or opened.
 */
int pf__store_open(struct pf__store **out, const char *dir,
                   enum pf_layout layout, const char *db_path);
void pf__store_close(struct pf__store *st);

/*
 * Flat layout: name url now, when it is accepted, so that names follow
 * the order of acceptance rather than of completion.  logged is the name
 * an earlier run's log gave url (or NULL): it is kept when it is a safe
 * component that nothing in this run claimed first; else the first free
 * name from the URL's last segment.  A no-op in the tree layout and for
 * a URL reserved already.  0, or PF_ENOMEM.
 */
int pf__store_reserve(struct pf__store *st, const char *url,
                      const char *logged);

/* One body being written. */
struct pf__sink {
    struct pf__store *st;
    int dirfd;      /* the directory holding the file (owned) */
    int fd;         /* NAME.part, or -1 before open / after close */
    char *name;     /* final file name inside dirfd */
    char *relpath;  /* final path relative to the output directory */
    int64_t bytes;  /* bytes written through this sink (after offset) */
    int64_t offset; /* size of a resumed .part file at open */
    int sys_errno;  /* errno of the failed call, for messages */
    int validated;  /* a validator is attached to the .part */
    char *dir_url;  /* the directory URL whose index.html this is, or NULL */
    EVP_MD_CTX *md; /* SHA-256 of the whole file: the resumed prefix too */
    struct pf__hashjob *hj; /* md lent to the store's hasher, or NULL */
    char sha256[65];        /* its hex digest once committed, else "" */
};

/* How pf__sink_open() treats a NAME.part already there. */
enum pf__sink_mode {
    PF__SINK_NEW,        /* never used: a new file replaces it */
    PF__SINK_RESUME,     /* appended to (-c), else created */
    PF__SINK_RESUME_ONLY /* appended to; when there is none, nothing */
};

/*
 * Choose the final path of url (layout rules, uniqueness within the run,
 * directory/file clashes, the database's name) and open its .part file.
 * final_url is the URL that answered (or NULL): a slash redirect names
 * the file after it in the tree layout.  cd is the Content-Disposition
 * header value or NULL (used by the flat layout).  mode is an enum
 * pf__sink_mode: with a resume mode an existing NAME.part is opened for
 * appending and its size returned in sk->offset.  Returns 0; 1 in
 * PF__SINK_RESUME_ONLY mode when there is no NAME.part (nothing opened,
 * nothing claimed; free the sink all the same); PF_EIO (sk->sys_errno
 * says why), PF_EDISKFULL, PF_ENOMEM.
 */
int pf__sink_open(struct pf__store *st, struct pf__sink *sk, const char *url,
                  const char *final_url, const char *cd, int mode);

/*
 * The response's validator ("etag \"...\"" or "date <Last-Modified>"),
 * kept with NAME.part as an extended attribute so that a later -c can
 * resume it with If-Range, after a crash too.  On a file system without
 * user extended attributes nothing is kept and the resume goes without
 * If-Range.  pf__sink_get_validator() copies it into buf (NUL-terminated)
 * and returns its length, 0 when there is none.  The attribute is removed
 * when the file is committed.
 */
void pf__sink_set_validator(struct pf__sink *sk, const char *v);
size_t pf__sink_get_validator(struct pf__sink *sk, char *buf, size_t n);

/*
 * Append n bytes (and hash them).  PF_EIO or PF_EDISKFULL (ENOSPC,
 * EDQUOT).
 */
int pf__sink_write(struct pf__sink *sk, const void *buf, size_t n);

/* Truncate the .part file back to empty (server ignored a Range). */
int pf__sink_truncate(struct pf__sink *sk);

/*
 * Close NAME.part and rename it to NAME.  After this sk->relpath and
 * sk->sha256 (the hex SHA-256 of the whole file) stay valid until
 * pf__sink_free().
 */
int pf__sink_commit(struct pf__sink *sk);

/* Close and, unless keep_part, unlink NAME.part.  Idempotent. */
void pf__sink_abort(struct pf__sink *sk, int keep_part);

/*
 * The size of the regular file at relpath (relative to the output
 * directory) in *size: 0, or -1 when there is none (or it is a symbolic
 * link, a directory...).
 */
int pf__store_file_size(struct pf__store *st, const char *relpath,
                        int64_t *size);

/*
 * The hex SHA-256 of the regular file at relpath into hex (65 bytes).
 * 0, or -1 when it cannot be read.
 */
int pf__store_file_sha256(struct pf__store *st, const char *relpath,
                          char hex[65]);

/* Release what the sink holds (closes fds, frees strings); idempotent. */
void pf__sink_free(struct pf__sink *sk);

#endif /* PF_STORE_H */
