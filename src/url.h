/*
 * url.h -- URLs as text: normalisation of an absolute http(s) URL
 * (libcurl's URL API), resolution of a document's references, and the
 * split of a normalised URL into its parts, without allocating.
 */
#ifndef PF_URL_H
#define PF_URL_H

#include <stddef.h>

#include "util.h"

#define PF__URL_MAX 65536

struct Curl_URL; /* libcurl's CURLU, kept out of this header */

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
 * The parts of an http(s) URL, as offsets into it: nothing is copied or
 * allocated, and the URL must outlive the parts.
 *
 *   https://user:pw@example.com:8443/a/b?q=1
 *   \___/   \_____/ \_________/ \__/\__/ \_/
 *   scheme  userinfo    host    port path query
 *   \_________________________________/
 *                origin (path_off bytes)
 *
 * The userinfo ends at the last '@' of the authority; its user name runs
 * from "://" to its first ':' (or to the '@'), its password from there
 * to the '@'.  An IPv6 literal keeps its brackets and any zone id
 * ("[fe80::1%25eth0]").  A fragment is not a part: the path and query
 * end before any '#'.
 */
struct pf__url_parts {
    size_t scheme_len;     /* "http" or "https", any case; "://" follows */
    size_t host_off;       /* after "://" and any "userinfo@" */
    size_t host_len;       /* never 0 */
    size_t port_off;       /* the digits after ':' */
    size_t port_len;       /* 0 when no port (or an empty one) is given */
    unsigned port;         /* the port given, else default_port */
    unsigned default_port; /* the scheme's: 80 or 443 */
    size_t path_off;       /* the end of the authority */
    size_t path_len;       /* '/' up to '?', '#' or the end; 0: no path */
    size_t query_off;      /* after the '?' */
    size_t query_len;      /* up to '#' or the end */
    int has_query;         /* a '?' was there, even before an empty query */
    size_t user_len;       /* the user name, after "://"; 0: none or "" */
    size_t pass_off;       /* the password, after the userinfo's ':' */
    size_t pass_len;       /* 0: no password, or an empty one */
};

/*
 * Split url, a normalised URL or any string, into *out.  Returns 0;
 * PF_EURL unless url is "http://" or "https://" (either in any case)
 * followed by a non-empty host and, when given, a decimal port up to
 * 65535 (*out is then untouched); PF_EINVAL for NULL.  Reads url up to
 * its NUL and no further, allocates nothing.  Any thread.
 */
int pf__url_split(const char *url, struct pf__url_parts *out);

/*
 * Length of url's origin, "scheme://authority" (userinfo and port
 * included, as the URL spells them), or 0 when url does not split.
 */
size_t pf__url_origin_len(const char *url);

/*
 * The path and query of url, "/" at least: a pointer into url, or to a
 * static "/" when url has no path or does not split.  A query without a
 * path ("http://h?q", which normalisation never gives) yields "/".
 */
const char *pf__url_path_query(const char *url);

/*
 * host:port of a normalised URL, always with the port ("example.com:80",
 * "[::1]:8080"): the host as the URL spells it, then the port the URL
 * gives, else the scheme's default.  pf__url_hostport_buf() writes it and
 * a NUL into buf when they fit in size bytes (buf may be NULL when size
 * is 0) and returns its length without the NUL, whether it fitted or not,
 * as snprintf() does; pf__url_hostport() gives it in *out, pf__malloc'd.
 * Both return PF_EURL when url does not split, PF_EINVAL for NULL;
 * pf__url_hostport() also PF_ENOMEM, with *out untouched on failure.
 */
int pf__url_hostport_buf(const char *url, char *buf, size_t size);

/*
 * A buffer size for pf__url_hostport_buf() that holds the host:port of
 * nearly every URL (a DNS name has at most 253 bytes); longer ones need
 * pf__url_hostport().
 */
#define PF__HOSTPORT_BUF 272

int pf__url_hostport(const char *url, char **out);

/*
 * The masking of credentials: every URL pfetch prints or logs goes
 * through pf__url_mask(), so that "http://alice:secret@host/" shows as
 * "http://alice:***@host/".  The password is found by pf__url_split();
 * a string it refuses (another scheme, a bad port) is read as
 * "scheme://userinfo@authority" all the same, since such text reaches
 * messages too.  The user name stays: it says whose the request was,
 * and a resumed crawl needs it to find the password again.  A URL with
 * no password, or an empty one, is left as it is, byte for byte.
 *
 * pf__url_mask() writes the masked url into buf as snprintf() does (as
 * much as fits, NUL-terminated when size > 0; buf may be NULL when size
 * is 0; the mask is applied before any cut, so a cut never shows part
 * of the password) and returns the length of the whole masked text,
 * without the NUL.  PF_EINVAL for NULL or a text longer than INT_MAX.
 * Reads url up to its NUL, allocates nothing.  Any thread.
 */
#define PF__URL_MASK "***"
int pf__url_mask(const char *url, char *buf, size_t size);

/* 1 when url has a password that pf__url_mask() would hide, else 0. */
int pf__url_has_password(const char *url);

/*
 * url as a message may show it: url itself when it has no password,
 * else buf holding its masked text (cut to size, see pf__url_mask()).
 */
const char *pf__url_shown(const char *url, char *buf, size_t size);

/* A buffer size for pf__url_shown() in a message. */
#define PF__URL_SHOWN_BUF 512

/*
 * The work of pf__url_normalize() on the caller's curl handle (a CURLU)
 * and buffers, for callers that normalise many URLs: the URL lands in out
 * (NUL-terminated), scratch is working space.  Returns 0, PF_EURL with
 * *why set (why must not be NULL), or PF_ENOMEM.
 */
int pf__url_normalize_with(struct Curl_URL *cu, const char *in,
                           struct pf__buf *scratch, struct pf__buf *out,
                           const char **why);

/*
 * The reason given for a scheme other than http(s).  Callers compare the
 * pointer to tell that reason apart and quote the scheme themselves.
 */
const char *pf__url_why_scheme(void);

/*
 * Length of the scheme that starts s and is followed by ':' (RFC 3986:
 * ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or 0 when s starts with
 * none.
 */
size_t pf__url_scheme_len(const char *s);

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

#endif /* PF_URL_H */
