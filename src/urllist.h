/*
 * urllist.h -- the streaming reader of URL list files.  A list is read one
 * line at a time; a line is never held beyond PF__URL_MAX bytes, however
 * long it is.  Each URL is normalised by url.c (url.h).
 */
#ifndef PF_URLLIST_H
#define PF_URLLIST_H

#include <stdio.h>

#include "url.h"
#include "util.h"

struct pf__urllist;

/* Called for each bad line: name, line number (1-based), the reason. */
typedef void pf__badline_fn(const char *name, long lineno, const char *why,
                            void *userdata);

/*
 * Read URLs from fp, labelled name in messages.  With own_fp the reader
 * fcloses fp in pf__urllist_close().
 */
int pf__urllist_open(struct pf__urllist **out, FILE *fp, const char *name,
                     int own_fp, pf__badline_fn *bad, void *userdata);

/* pf__urllist_next(): no whole line yet; wait for pf__urllist_fd(). */
#define PF__URLLIST_AGAIN 2

/*
 * The next good URL: returns 1 and sets *url (normalised; owned by the
 * reader, valid until the next call) and *lineno; 0 at end of file; PF_EIO
 * on a read error; PF__URLLIST_AGAIN when the list is a pipe, a socket or
 * a terminal that has no whole line to give now (call again once
 * pf__urllist_fd() is readable: reading never blocks).  Blank lines and lines
 * whose first non-blank character is '#' are skipped; leading and trailing
 * white space (CR included) is stripped; a line holding a NUL byte, longer than
 * PF__URL_MAX or not a good http(s) URL is reported through the bad-line
 * callback and skipped.
 */
int pf__urllist_next(struct pf__urllist *r, const char **url, long *lineno);

void pf__urllist_close(struct pf__urllist *r);

/* The descriptor to wait on after PF__URLLIST_AGAIN; -1 for stdio lists. */
int pf__urllist_fd(const struct pf__urllist *r);

/*
 * The lists of a job, read one after the other, lazily: a set starts
 * zeroed.  pf__urlset_add() takes fp as pf__urllist_open() does.
 * pf__urlset_next() gives the next URL of the list being read (1, with
 * *url as pf__urllist_next() sets it), 0 when every list is read, or a
 * list's read error (that list is closed, the next call goes on with the
 * next one), or PF__URLLIST_AGAIN when the list being read has no whole
 * line yet: pf__urlset_fd() is the descriptor to wait on.  pf__urlset_close()
 * closes the lists not read yet: their rest is never read. pf__urlset_reading()
 * counts the lists still open.
 */
struct pf__urlset {
    struct pf__urllist **v;
    size_t n;
    size_t cur; /* v[cur..n) are open */
};

int pf__urlset_add(struct pf__urlset *set, FILE *fp, const char *name,
                   int own_fp, pf__badline_fn *bad, void *userdata);
int pf__urlset_next(struct pf__urlset *set, const char **url);
int pf__urlset_fd(const struct pf__urlset *set);
size_t pf__urlset_reading(const struct pf__urlset *set);
void pf__urlset_close(struct pf__urlset *set);
void pf__urlset_free(struct pf__urlset *set);

#endif /* PF_URLLIST_H */
