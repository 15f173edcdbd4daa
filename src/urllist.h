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

/*
 * The next good URL: returns 1 and sets *url (normalised; owned by the
 * reader, valid until the next call) and *lineno; 0 at end of file; PF_EIO
 * on a read error.  Blank lines and lines whose first non-blank character
 * is '#' are skipped; leading and trailing white space (CR included) is
 * stripped; a line holding a NUL byte, longer than PF__URL_MAX or not a
 * good http(s) URL is reported through the bad-line callback and skipped.
 */
int pf__urllist_next(struct pf__urllist *r, const char **url, long *lineno);

void pf__urllist_close(struct pf__urllist *r);

#endif /* PF_URLLIST_H */
