/*
 * resp.h -- what pfetch reads from a response's header lines: the status
 * line, Content-Disposition, Content-Encoding, the validators (ETag,
 * Last-Modified: as received for the log, and the one If-Range can use) and
 * Content-Range (where a 206's piece starts, the size in a 416).  A pure parser
 * of untrusted bytes: no curl, no I/O.  Any thread.
 */
#ifndef PF_RESP_H
#define PF_RESP_H

#include <stddef.h>
#include <stdint.h>

struct pf__resp {
    long status;         /* from the last status line; 0 before one */
    char reason[64];     /* its reason phrase, non-printables as '?' */
    int encoded;         /* a Content-Encoding came */
    char *disposition;   /* Content-Disposition value (pf__malloc'd) */
    char validator[192]; /* "etag <strong ETag>" or "date <date>", or "" */
    int64_t range_start; /* A of "Content-Range: bytes A-B/N", or -1 */
    int64_t range_total; /* N of "bytes A-B/N" or "bytes * /N", or -1 */
    char *etag;          /* the ETag value as received (pf__malloc'd) */
    char *last_modified; /* the Last-Modified value as received */
};

void pf__resp_init(struct pf__resp *r);

/*
 * Read one header line (n bytes, CRLF included or not).  A status line
 * ("HTTP/...") starts a new response (redirects make several): every
 * field is reset first, and 1 is returned; other lines return 0.
 */
int pf__resp_line(struct pf__resp *r, const char *p, size_t n);

void pf__resp_free(struct pf__resp *r);

#endif /* PF_RESP_H */
