/*
 * sitemap.h -- reading a sitemap (the sitemaps.org protocol, 0.9): the
 * <loc> URLs of a urlset, or the sitemaps of a sitemapindex, through
 * libxml2's streaming XML reader, never a tree.  For the crawler's
 * --sitemaps, on the parser pool.  Pure: any thread.
 */
#ifndef PF_SITEMAP_H
#define PF_SITEMAP_H

#include "links.h"

/* What one sitemap is read for at most; the rest is ignored. */
#define PF__SITEMAP_MAX_URLS 50000
#define PF__SITEMAP_MAX_BYTES (50 * 1024 * 1024) /* uncompressed */

/* What a read found besides the URLs. */
struct pf__sitemap {
    int index;     /* a sitemapindex: the URLs are sitemaps */
    int too_many;  /* a <loc> past PF__SITEMAP_MAX_URLS was ignored */
    int too_big;   /* reading stopped at PF__SITEMAP_MAX_BYTES */
    int malformed; /* not XML, or not a sitemap: read up to the fault */
};

/*
 * Read the sitemap in the file open at fd (its own offset is left
 * alone), gzip-compressed or not, and append its <loc> URLs to out,
 * resolved against base_url (the sitemap's final URL) and normalised,
 * each once, in document order, as PF__LINK_PAGE links: a <loc> child
 * of a <url> of a <urlset> root, or of a <sitemap> of a <sitemapindex>
 * root (the namespace is not checked; <loc>s anywhere else, such as an
 * image extension's, are not taken).  A <loc> that is no http(s) URL
 * is skipped.  Returns 0 (also for a file that is no sitemap: info
 * says so) or PF_ENOMEM.  No network, no DTD, no external entity.
 */
int pf__sitemap_read_fd(int fd, const char *base_url, struct pf__links *out,
                        struct pf__sitemap *info);

#endif /* PF_SITEMAP_H */
