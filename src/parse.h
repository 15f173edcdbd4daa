/*
 * parse.h -- link extraction from HTML and CSS, for the crawler and for
 * pf_crawler's on_page callback.  Pure functions of (bytes, base URL):
 * no crawler state, no curl transfer, no network.  Any thread; each call
 * uses its own libxml2 parser context and its own curl URL handles.
 */
#ifndef PF_PARSE_H
#define PF_PARSE_H

#include <stddef.h>

#include "util.h"

/* What a link is for: decides whether -r, -p or both follow it. */
enum pf__link_kind {
    PF__LINK_PAGE = 0, /* a, area, iframe, frame, meta refresh, other link */
    PF__LINK_REQ = 1   /* page requisite: img, picture/video/audio source,
                          script, link rel=stylesheet|icon, object, embed,
                          and every url()/@import of CSS */
};

/* What a body is, for parsing. */
enum pf__doc_type {
    PF__DOC_OTHER = 0,  /* not parsed */
    PF__DOC_HTML = 1,   /* text/html, application/xhtml+xml */
    PF__DOC_CSS = 2,    /* text/css */
    PF__DOC_UNKNOWN = 3 /* no Content-Type: sniff the first bytes */
};

/*
 * The links of one document: absolute http(s) URLs, normalised exactly as
 * pf__url_normalize() does (so they are dedupe keys as they stand),
 * fragments dropped, each URL once (a URL seen as both kinds is REQ), in
 * document order of first appearance.
 */
struct pf__links {
    struct pf__buf text; /* the URLs, each NUL-terminated, back to back */
    size_t *off;         /* off[i]: where link i starts in text.data */
    unsigned char *kind; /* kind[i]: enum pf__link_kind */
    size_t n, cap;
    size_t *slot;    /* dedupe while parsing: open addressing over the */
    size_t slot_cap; /* links, slot = i + 1 (0: free); a power of two */
};

void pf__links_init(struct pf__links *l);
void pf__links_free(struct pf__links *l);

static inline const char *pf__links_url(const struct pf__links *l, size_t i)
{
    return l->text.data + l->off[i];
}

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
 * The HTML document read from fd as a libxml2 tree (an htmlDocPtr, as
 * struct pf_page's doc hands it to on_page), built by a pull-mode parse
 * that holds the whole page: a file over 64 MiB gets none.  NULL for
 * that or any failure.  Free it with pf__parse_doc_free().
 */
void *pf__parse_doc_fd(int fd, const char *url);
void pf__parse_doc_free(void *doc);

#endif /* PF_PARSE_H */
