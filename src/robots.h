/*
 * robots.h -- robots.txt (RFC 9309): parse once per host, then answer
 * "may this path be fetched?".  Pure functions; any thread.
 */
#ifndef PF_ROBOTS_H
#define PF_ROBOTS_H

#include <stddef.h>
#include <stdint.h>

struct pf__robots;

/*
 * Parse a robots.txt body for the crawler whose product token is product
 * (e.g. "pfetch", matched case-insensitively against User-agent lines;
 * the group of the longest matching token wins over "*").  Never fails
 * on bad input: unknown lines are ignored.  Returns 0 or PF_ENOMEM.
 */
int pf__robots_parse(const char *txt, size_t n, const char *product,
                     struct pf__robots **out);

/*
 * 1 when the URL's path and query (e.g. "/a/b?x=1", starting with '/')
 * may be fetched, 0 when refused: the longest matching Allow or Disallow
 * rule decides, Allow winning a tie; '*' and a final '$' in rules as RFC
 * 9309 says; "/robots.txt" is always allowed.  r NULL allows everything.
 */
int pf__robots_allowed(const struct pf__robots *r, const char *path);

/*
 * The Crawl-delay of the group that applies to us, in milliseconds (the
 * largest when several of its lines give one), as written: capping it
 * is the caller's policy.  -1 when none is given (or r is NULL).
 */
int64_t pf__robots_crawl_delay_ms(const struct pf__robots *r);

/*
 * The Sitemap values of the file, in order, as written (not checked as
 * URLs): the first with prev NULL, then the one after prev; NULL at the
 * end (or when r is NULL).
 */
const char *pf__robots_sitemap(const struct pf__robots *r, const char *prev);

void pf__robots_free(struct pf__robots *r);

#endif /* PF_ROBOTS_H */
