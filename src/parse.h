/*
 * parse.h -- link extraction from HTML and CSS, for the crawler and for
 * pf_crawler's on_page callback.  Pure functions of (bytes, base URL):
 * no crawler state, no curl transfer, no network.  Any thread; each call
 * uses its own libxml2 parser context and its own curl URL handles.
 */
#ifndef PF_PARSE_H
#define PF_PARSE_H

#include <stddef.h>

#include "links.h"
#include "util.h"

/* What a body is, for parsing. */
enum pf__doc_type {
    PF__DOC_OTHER = 0,  /* not parsed */
    PF__DOC_HTML = 1,   /* text/html, application/xhtml+xml */
    PF__DOC_CSS = 2,    /* text/css */
    PF__DOC_UNKNOWN = 3 /* no Content-Type: sniff the first bytes */
};

/*
 * The document type from a Content-Type value, its media type read case-
 * insensitively, parameters ignored (NULL or empty: UNKNOWN).
 */
enum pf__doc_type pf__doc_type(const char *content_type);

/*
 * Parse the document read from fd (read to its end in bounded chunks,
 * never held whole) as type, resolving links against base_url (the
 * document's final URL; <base href> overrides it for HTML).  UNKNOWN
 * sniffs the first bytes: HTML when they look like markup, else nothing
 * is parsed.  Appends to out.  Returns 0, PF_EINVAL (NULL out), PF_ENOMEM,
 * or PF_EIO on a read error (links found before it are kept; errno says
 * why).  A base_url that is not an http(s) URL (or NULL) resolves only
 * absolute links.  Memory stays bounded whatever the document's size (see
 * parse.c for the caps).
 */
int pf__parse_fd(int fd, enum pf__doc_type type, const char *base_url,
                 struct pf__links *out);

/* The same over a buffer in memory. */
int pf__parse_mem(const char *buf, size_t n, enum pf__doc_type type,
                  const char *base_url, struct pf__links *out);

/*
 * pf__parse_fd() and pf__parse_mem() read HTML with html.c's tokenizer
 * (a UTF-16 page, which it cannot read, with libxml2's parser).  These
 * read it with libxml2's HTML parser, the way links were found before
 * the tokenizer: for the tests that compare the two.
 */
int pf__parse_fd_xml(int fd, enum pf__doc_type type, const char *base_url,
                     struct pf__links *out);
int pf__parse_mem_xml(const char *buf, size_t n, enum pf__doc_type type,
                      const char *base_url, struct pf__links *out);

/*
 * The HTML document read from fd as a libxml2 tree (an htmlDocPtr, as
 * struct pf_page's doc hands it to on_page), built by a pull-mode parse
 * that holds the whole page: a file over 64 MiB gets none.  NULL for
 * that or any failure.  Free it with pf__parse_doc_free().
 */
void *pf__parse_doc_fd(int fd, const char *url);
void pf__parse_doc_free(void *doc);

#endif /* PF_PARSE_H */
