/*
 * urllist.h -- URL parsing/normalisation (libcurl's URL API) and the
 * streaming reader of URL list files.  A list is read one line at a time;
 * a line is never held beyond PF__URL_MAX bytes, however long it is.
 */
#ifndef PF_URLLIST_H
#define PF_URLLIST_H

#include <stdio.h>

#include "util.h"

#define PF__URL_MAX 65536

/*
 * Parse and normalise an absolute http or https URL: scheme and host
 * lowercased (IDN hosts converted to punycode), default port dropped,
 * dot-segments removed, fragment removed, characters that must be
 * percent-encoded encoded.  Leading/trailing white space is not accepted
 * here (the list reader strips it).  On success *out is pf__malloc'd;
 * on failure returns PF_EURL and *why (may be NULL) gets static text
 * ("unsupported scheme \"ftp\"", "malformed URL", "no host", ...).
 */
int pf__url_normalize(const char *in, char **out, const char **why);

/*
 * host:port of a normalised URL, always with the port ("example.com:80",
 * "[::1]:8080"); *out is pf__malloc'd.
 */
int pf__url_hostport(const char *url, char **out);

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

/*
 * Resolution of the references of one document (links in HTML, url() in
 * CSS) against its base URL.  The base is parsed once per document; each
 * reference is then joined to it as RFC 3986 section 5.2 says (with the
 * WHATWG URL standard's leniencies for http(s): white space stripped,
 * tab/CR/LF removed, '\\' read as '/' in the path, "http:x" relative to an
 * http base) and the result normalised to the very bytes
 * pf__url_normalize() gives for it.  One context per thread at a time;
 * contexts are independent.
 */
struct pf__urlres {
    struct Curl_URL *cu;    /* curl's CURLU, reused for every reference */
    struct pf__buf base;    /* the base, normalised; len 0: none */
    size_t origin_len;      /* of "scheme://authority" in base */
    size_t dir_len;         /* of base before the last '/' of its path */
    size_t path_end;        /* of base up to its query */
    struct pf__buf ref;     /* the reference being resolved, cleaned */
    struct pf__buf abs;     /* the absolute URL, before normalisation */
    struct pf__buf scratch; /* normalisation's */
    int curl_only;          /* tests: no shortcut, every URL through curl */
};

int pf__urlres_init(struct pf__urlres *r);
void pf__urlres_free(struct pf__urlres *r);

/*
 * Set the base: an absolute http(s) URL, normalised here.  Returns 0,
 * PF_EURL (the base is left as it was; with none, only absolute
 * references resolve) or PF_ENOMEM.
 */
int pf__urlres_set_base(struct pf__urlres *r, const char *url);

/*
 * Resolve the reference ref (n bytes, not NUL-terminated) against the
 * base into out (NUL-terminated, fragment dropped).  Returns 0, PF_EURL
 * when it gives no http(s) URL (empty, "mailto:", "data:", malformed,
 * longer than PF__URL_MAX...), or PF_ENOMEM.  A fragment-only reference
 * gives the base itself.
 */
int pf__url_resolve(struct pf__urlres *r, const char *ref, size_t n,
                    struct pf__buf *out);

#endif /* PF_URLLIST_H */
