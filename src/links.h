/*
 * links.h -- the link list: the URLs a document refers to, as parse.c
 * finds them and as the crawler and on_page read them.  Any thread; a
 * list is its owner's alone.
 */
#ifndef PF_LINKS_H
#define PF_LINKS_H

#include <stddef.h>

#include "util.h"

/* What a link is for: decides whether -r, -p or both follow it. */
enum pf__link_kind {
    PF__LINK_PAGE = 0, /* a, area, iframe, frame, meta refresh, other link */
    PF__LINK_REQ = 1   /* page requisite: img, picture/video/audio source,
                          script, link rel=stylesheet|icon, object, embed,
                          and every url()/@import of CSS */
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

/*
 * Add url (len bytes, NUL-terminated at url[len]; copied) with kind
 * unless it is there already; a URL there as a page link and added again
 * as a requisite becomes one.  Returns 1 if added, 0 if it was there, or
 * PF_ENOMEM (the list as it was, though its storage may have grown).
 */
int pf__links_add(struct pf__links *l, const char *url, size_t len, int kind);

static inline const char *pf__links_url(const struct pf__links *l, size_t i)
{
    return l->text.data + l->off[i];
}

#endif /* PF_LINKS_H */
