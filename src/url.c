/*
 * url.c -- URLs as text: the canonical spelling of an absolute http(s)
 * URL (normalisation with libcurl's URL API), the resolution of a
 * document's references against its base, and the cutting of a
 * normalised URL into its parts (scheme, host, port, path, query) and
 * its host:port key.
 *
 * This module owns the spelling every other module relies on: the
 * dedupe key, the log's URL, the host queue's key and the file name all
 * start from what it gives.  It must never print, never keep state
 * between calls beyond the caller's contexts, never read past a string's
 * NUL or a reference's length, and never accept as normalised anything
 * but http(s) with neither fragment, white space nor control character.
 * Reading list files is urllist.c's business; fetching, scope and
 * dedupe are the engine's.  Any thread (a resolution context is one
 * thread's at a time).
 */
#include <limits.h>
#include <locale.h>
#include <string.h>

#include <curl/curl.h>

#include "url.h"
#include "util.h"

/* Passes of curl over one URL before it must have settled. */
#define MAX_PASSES 4

/*
 * The reason pf__url_normalize() gives for a scheme other than http(s):
 * the list reader tells it apart by pointer, to quote the scheme.  The
 * other reasons are plain string literals.
 */
static const char why_scheme[] = "unsupported scheme";

/*
 * A function, not an exported array: sanitizer builds give every global
 * an indicator symbol of their own, outside the pf_ namespace.
 */
const char *pf__url_why_scheme(void)
{
    return why_scheme;
}

static unsigned char to_upper(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* 1 if s holds no '#', no space and no control character. */
static int is_clean(const char *s)
{
    const unsigned char *p;

    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '#')
            return 0;
    }
    return 1;
}

/*
 * Length of the scheme that starts s and is followed by ':' (RFC 3986:
 * ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )), or 0 when s starts with
 * none.
 */
size_t pf__url_scheme_len(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 1;

    if (!pf__is_alpha(p[0]))
        return 0;
    while (pf__is_alpha(p[i]) || pf__is_digit(p[i]) || p[i] == '+' ||
           p[i] == '-' || p[i] == '.')
        i++;
    return p[i] == ':' ? i : 0;
}

static int is_http_scheme(const char *s, size_t n)
{
    return (n == 4 && strncasecmp(s, "http", 4) == 0) ||
           (n == 5 && strncasecmp(s, "https", 5) == 0);
}

/* Our reading of curl's complaint, for a bad-line message. */
static const char *curl_why(CURLUcode uc)
{
    switch (uc) {
    case CURLUE_BAD_PORT_NUMBER:
        return "bad port number";
    case CURLUE_NO_HOST:
        return "no host";
#if LIBCURL_VERSION_NUM >= 0x075100
    /* The finer codes came with libcurl 7.81.0: before, MALFORMED_INPUT. */
    case CURLUE_BAD_HOSTNAME:
        return "bad host name";
    case CURLUE_BAD_IPV6:
        return "bad IPv6 address";
    case CURLUE_BAD_SLASHES:
        return "bad slashes after the scheme";
    case CURLUE_BAD_LOGIN:
    case CURLUE_BAD_USER:
    case CURLUE_BAD_PASSWORD:
        return "bad user name or password";
    case CURLUE_BAD_PATH:
        return "bad character in path";
    case CURLUE_BAD_QUERY:
        return "bad character in query";
    case CURLUE_BAD_SCHEME:
        return why_scheme;
#endif
    case CURLUE_UNSUPPORTED_SCHEME:
        return why_scheme;
    default:
        return "malformed URL";
    }
}

/* PF_ENOMEM for curl's out-of-memory, else PF_EURL with *why set. */
static int curl_fail(CURLUcode uc, const char **why)
{
    if (uc == CURLUE_OUT_OF_MEMORY)
        return PF_ENOMEM;
    *why = curl_why(uc);
    return PF_EURL;
}

#ifdef CURLU_PUNYCODE
/*
 * The host in punycode.  libcurl (7.88 at least) converts IDN host names
 * with libidn2's idn2_lookup_ul(), which reads the host in the charset of
 * LC_CTYPE: in the "C" locale every non-ASCII host fails.  Lists are UTF-8,
 * so the conversion runs under a UTF-8 LC_CTYPE set for this thread only
 * (uselocale), which leaves the process's locale alone.  Costs a newlocale()
 * per non-ASCII host, which is rare.
 */
static CURLUcode get_punycode_host(CURLU *cu, char **host)
{
    locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    locale_t old = (locale_t)0;
    CURLUcode uc;

    if (loc == (locale_t)0)
        loc = newlocale(LC_CTYPE_MASK, "en_US.UTF-8", (locale_t)0);
    if (loc != (locale_t)0)
        old = uselocale(loc);
    uc = curl_url_get(cu, CURLUPART_HOST, host, CURLU_PUNYCODE);
    if (loc != (locale_t)0) {
        uselocale(old);
        freelocale(loc);
    }
    return uc;
}
#endif

/*
 * Lowercase the host held by cu (ASCII letters only; IDN hosts are turned
 * into punycode first, when curl can) and put it back if that changed it.
 * Setting the host drops an IPv6 zone id, so the zone id is put back too.
 */
static int fix_host(CURLU *cu, const char **why)
{
    char *host = NULL;
    char *zone = NULL;
    int changed = 0;
    int ascii = 1;
    CURLUcode uc;
    size_t i;
    int rc = 0;

    uc = curl_url_get(cu, CURLUPART_HOST, &host, 0);
    if (uc != CURLUE_OK)
        return curl_fail(uc, why);
    for (i = 0; host[i] != '\0'; i++) {
        unsigned char c = (unsigned char)host[i];

        if (c >= 0x80)
            ascii = 0;
        if (c <= 0x20 || c == 0x7f)
            break; /* curl decodes "%7F" in a host and keeps it */
    }
    if (host[i] != '\0') {
        *why = "bad host name";
        rc = PF_EURL;
        goto out;
    }
    if (i == 0) {
        *why = "no host";
        rc = PF_EURL;
        goto out;
    }
#ifdef CURLU_PUNYCODE
    if (!ascii) {
        curl_free(host);
        host = NULL;
        uc = get_punycode_host(cu, &host);
        if (uc != CURLUE_OK) {
            *why = "bad international host name";
            rc = PF_EURL;
            goto out;
        }
        changed = 1;
    }
#endif
    for (i = 0; host[i] != '\0'; i++) {
        if (host[i] >= 'A' && host[i] <= 'Z') {
            host[i] = (char)(host[i] - 'A' + 'a');
            changed = 1;
        }
    }
    if (!changed)
        goto out;
    if (host[0] == '[') {
        uc = curl_url_get(cu, CURLUPART_ZONEID, &zone, 0);
        if (uc == CURLUE_OUT_OF_MEMORY) {
            rc = PF_ENOMEM;
            goto out;
        }
    }
    uc = curl_url_set(cu, CURLUPART_HOST, host, 0);
    if (uc == CURLUE_OK && zone != NULL)
        uc = curl_url_set(cu, CURLUPART_ZONEID, zone, 0);
    if (uc != CURLUE_OK)
        rc = curl_fail(uc, why);
out:
    curl_free(zone);
    curl_free(host);
    return rc;
}

/*
 * Copy in to scratch with each space encoded as %20 (curl's own encoding
 * would turn a space in the query into '+', which is not the same thing
 * to every server), stopping at the fragment, which is dropped anyway and
 * may hold anything.  Sets *src to the text to parse: in itself when it
 * needs neither change.
 */
static int prepare(const char *in, struct pf__buf *scratch, const char **src)
{
    size_t span = strcspn(in, " #");
    const char *p;
    int rc;

    *src = in;
    if (in[span] == '\0')
        return 0;
    pf__buf_reset(scratch);
    p = in;
    while (*p != '\0' && *p != '#') {
        span = strcspn(p, " #");
        rc = pf__buf_append(scratch, p, span);
        if (rc == 0 && p[span] == ' ') {
            rc = pf__buf_append(scratch, "%20", 3);
            span++;
        }
        if (rc < 0)
            return rc;
        p += span;
    }
    rc = pf__buf_append(scratch, "", 0); /* the empty URL "#x" */
    if (rc < 0)
        return rc;
    *src = scratch->data;
    return 0;
}

/*
 * One pass of curl over src: parse, fix the host, print the URL into out
 * with upper-case percent-encoding.  Clearing cu first matters because it
 * is reused: a URL set on a handle that holds one is resolved against it.
 * CURLU_URLENCODE encodes what the path and query cannot hold (bytes above
 * 0x7f; spaces were done by prepare()).
 */
static int one_pass(CURLU *cu, const char *src, struct pf__buf *out,
                    const char **why)
{
    char *url = NULL;
    CURLUcode uc;
    size_t n;
    int rc;

    curl_url_set(cu, CURLUPART_URL, NULL, 0);
    uc = curl_url_set(cu, CURLUPART_URL, src, CURLU_URLENCODE);
    if (uc != CURLUE_OK)
        return curl_fail(uc, why);
    rc = fix_host(cu, why);
    if (rc < 0)
        return rc;
    uc = curl_url_get(cu, CURLUPART_URL, &url, CURLU_NO_DEFAULT_PORT);
    if (uc != CURLUE_OK)
        return curl_fail(uc, why);
    /*
     * Belts and braces: what we hand out is always http(s), with neither
     * fragment nor white space nor control character.
     */
    n = pf__url_scheme_len(url);
    if (!is_http_scheme(url, n) || !is_clean(url)) {
        curl_free(url);
        *why = "malformed URL";
        return PF_EURL;
    }
    pf__buf_reset(out);
    rc = pf__buf_append(out, url, strlen(url));
    curl_free(url);
    if (rc < 0)
        return rc;
    /* %xx and %XX are the same octet (RFC 3986 6.2.2.1): pick upper. */
    for (n = 0; n + 2 < out->len; n++) {
        unsigned char *p = (unsigned char *)out->data + n;

        if (p[0] == '%' && pf__is_hex(p[1]) && pf__is_hex(p[2])) {
            p[1] = to_upper(p[1]);
            p[2] = to_upper(p[2]);
        }
    }
    return 0;
}

/*
 * The work of pf__url_normalize() with the caller's curl handle and
 * buffers, so that the list reader parses a million lines without
 * allocating its own memory per line.  The URL lands in out.
 *
 * One pass of curl is not always a fixed point: curl reads a host as an
 * IPv4 number before it decodes it ("%3112" becomes "112", which the next
 * parse reads as 0.0.0.112), and IDN mapping can leave one
 * ("0x7f.<U+FEFF>1").  A URL that pass changed is therefore passed again
 * until it stays the same, so that normalising a normalised URL gives it
 * back: the dedupe key must be stable.  An already normal URL costs one
 * pass, others two (three for IDN hosts); one that never settles is
 * refused.
 */
int pf__url_normalize_with(CURLU *cu, const char *in, struct pf__buf *scratch,
                           struct pf__buf *out, const char **why)
{
    const char *src;
    size_t len = strlen(in);
    size_t n;
    int pass;
    int rc;

    if (len == 0) {
        *why = "empty URL";
        return PF_EURL;
    }
    if (pf__is_space((unsigned char)in[0]) ||
        pf__is_space((unsigned char)in[len - 1])) {
        *why = "leading or trailing white space";
        return PF_EURL;
    }
    n = pf__url_scheme_len(in);
    if (n == 0) {
        *why = "no scheme";
        return PF_EURL;
    }
    if (!is_http_scheme(in, n)) {
        *why = why_scheme;
        return PF_EURL;
    }
    rc = prepare(in, scratch, &src);
    if (rc < 0)
        return rc;
    for (pass = 0; pass < MAX_PASSES; pass++) {
        rc = one_pass(cu, src, out, why);
        if (rc < 0)
            return rc;
        if (strcmp(out->data, src) == 0)
            return 0;
        pf__buf_reset(scratch);
        rc = pf__buf_append(scratch, out->data, out->len);
        if (rc < 0)
            return rc;
        src = scratch->data;
    }
    *why = "malformed URL";
    return PF_EURL;
}

/*
 * Any thread.  One curl handle per call: the reader keeps its own.
 */
int pf__url_normalize(const char *in, char **out, const char **why)
{
    struct pf__buf scratch = {NULL, 0, 0};
    struct pf__buf buf = {NULL, 0, 0};
    const char *w = "malformed URL";
    CURLU *cu;
    int rc;

    if (in == NULL || out == NULL)
        return PF_EINVAL;
    cu = curl_url();
    if (cu == NULL)
        return PF_ENOMEM;
    rc = pf__url_normalize_with(cu, in, &scratch, &buf, &w);
    curl_url_cleanup(cu);
    pf__buf_free(&scratch);
    if (rc < 0) {
        pf__buf_free(&buf);
        if (rc == PF_EURL && why != NULL)
            *why = w;
        return rc;
    }
    *out = buf.data;
    return 0;
}

/*
 * The split.  A normalised URL is cut by a plain scan, with no second
 * parse by curl's URL API on the loop's per-URL path.  It must also take
 * any string, since the store's name mapping is fuzzed with any string:
 * what is not "http://" or "https://" (any case), a non-empty host and an
 * optional decimal port up to 65535 is refused, never misread.
 */

/*
 * The user name and password of the authority url[a..end), which ends
 * its userinfo at its last '@' (at: NULL when it has none), into *out.
 */
static void split_userinfo(const char *url, size_t a, const char *at,
                           struct pf__url_parts *out)
{
    const char *colon;
    size_t n;

    out->user_len = 0;
    out->pass_len = 0;
    out->pass_off = a;
    if (at == NULL)
        return;
    n = (size_t)(at - (url + a));
    colon = memchr(url + a, ':', n);
    out->user_len = colon != NULL ? (size_t)(colon - (url + a)) : n;
    out->pass_off = colon != NULL ? (size_t)(colon + 1 - url) : a + n;
    out->pass_len = (size_t)(at - url) - out->pass_off;
}

/*
 * Split the authority url[a..end) (after "://") into *out's userinfo,
 * host and port.
 */
static int split_authority(const char *url, size_t a, size_t end,
                           struct pf__url_parts *out)
{
    const char *at = memrchr(url + a, '@', end - a);
    const char *host, *hend, *port = NULL;
    unsigned long v = 0;
    size_t i;

    split_userinfo(url, a, at, out);
    host = at != NULL ? at + 1 : url + a;
    if (*host == '[') {
        const char *close = memchr(host, ']', (size_t)(url + end - host));

        if (close == NULL)
            return PF_EURL;
        hend = close + 1;
        if (hend < url + end && *hend != ':')
            return PF_EURL;
    } else {
        hend = memchr(host, ':', (size_t)(url + end - host));
        if (hend == NULL)
            hend = url + end;
    }
    if (hend == host)
        return PF_EURL;
    if (hend < url + end)
        port = hend + 1; /* after the ':' */
    out->host_off = (size_t)(host - url);
    out->host_len = (size_t)(hend - host);
    out->port_off = port != NULL ? (size_t)(port - url) : end;
    out->port_len = end - out->port_off;
    for (i = out->port_off; i < end; i++) {
        if (!pf__is_digit((unsigned char)url[i]))
            return PF_EURL;
        v = v * 10 + (unsigned long)(url[i] - '0');
        if (v > 65535)
            return PF_EURL;
    }
    out->port = out->port_len > 0 ? (unsigned)v : out->default_port;
    return 0;
}

/* Any thread. */
int pf__url_split(const char *url, struct pf__url_parts *out)
{
    struct pf__url_parts p;
    const char *sep;
    size_t a, end;

    if (url == NULL || out == NULL)
        return PF_EINVAL;
    sep = strstr(url, "://");
    if (sep == NULL)
        return PF_EURL;
    memset(&p, 0, sizeof(p));
    p.scheme_len = (size_t)(sep - url);
    if (p.scheme_len == 4 && strncasecmp(url, "http", 4) == 0)
        p.default_port = 80;
    else if (p.scheme_len == 5 && strncasecmp(url, "https", 5) == 0)
        p.default_port = 443;
    else
        return PF_EURL;
    a = p.scheme_len + 3;
    end = a + strcspn(url + a, "/?#");
    if (split_authority(url, a, end, &p) < 0)
        return PF_EURL;
    p.path_off = end;
    p.path_len = url[end] == '/' ? strcspn(url + end, "?#") : 0;
    p.query_off = end + p.path_len;
    if (url[p.query_off] == '?') {
        p.has_query = 1;
        p.query_off++;
        p.query_len = strcspn(url + p.query_off, "#");
    }
    *out = p;
    return 0;
}

/* Any thread. */
size_t pf__url_origin_len(const char *url)
{
    struct pf__url_parts p;

    return pf__url_split(url, &p) == 0 ? p.path_off : 0;
}

/* Any thread. */
const char *pf__url_path_query(const char *url)
{
    struct pf__url_parts p;

    if (pf__url_split(url, &p) < 0 || p.path_len == 0)
        return "/";
    return url + p.path_off;
}

/*
 * The password of url as offset and length, found by the split, or for
 * text the split refuses, in whatever follows "scheme://" up to the
 * first '/', '?' or '#'.  1 when there is a non-empty one, else 0.
 */
static int find_password(const char *url, size_t *off, size_t *len)
{
    struct pf__url_parts p;
    size_t a, end;

    /*
     * No '@', no userinfo: the common case costs one scan, not a split,
     * which matters as every row's URLs come through here.
     */
    if (strchr(url, '@') == NULL)
        return 0;
    if (pf__url_split(url, &p) < 0) {
        a = pf__url_scheme_len(url);
        if (a == 0 || strncmp(url + a, "://", 3) != 0)
            return 0;
        a += 3;
        end = a + strcspn(url + a, "/?#");
        split_userinfo(url, a, memrchr(url + a, '@', end - a), &p);
    }
    *off = p.pass_off;
    *len = p.pass_len;
    return p.pass_len > 0;
}

/* Append s (n bytes) to buf at *w, as far as size allows (NUL kept). */
static void put(char *buf, size_t size, size_t *w, const char *s, size_t n)
{
    if (*w + 1 < size) {
        size_t k = size - 1 - *w;

        memcpy(buf + *w, s, n < k ? n : k);
        *w += n < k ? n : k;
    }
}

/* Any thread. */
int pf__url_mask(const char *url, char *buf, size_t size)
{
    size_t n, off, len, m, w = 0;

    if (url == NULL || (buf == NULL && size > 0))
        return PF_EINVAL;
    n = strlen(url);
    if (!find_password(url, &off, &len)) {
        off = n;
        len = 0;
    }
    m = len > 0 ? n - len + strlen(PF__URL_MASK) : n;
    if (m > INT_MAX)
        return PF_EINVAL;
    if (size > 0) {
        put(buf, size, &w, url, off);
        if (len > 0) {
            put(buf, size, &w, PF__URL_MASK, strlen(PF__URL_MASK));
            put(buf, size, &w, url + off + len, n - off - len);
        }
        buf[w] = '\0';
    }
    return (int)m;
}

/* Any thread. */
int pf__url_has_password(const char *url)
{
    size_t off, len;

    return url != NULL && find_password(url, &off, &len);
}

/* Any thread. */
const char *pf__url_shown(const char *url, char *buf, size_t size)
{
    if (!pf__url_has_password(url))
        return url;
    pf__url_mask(url, buf, size);
    return buf;
}

/* The public face of pf__url_mask(): the same contract. */
int pf_url_mask(const char *url, char *buf, size_t size)
{
    return pf__url_mask(url, buf, size);
}

/*
 * Any thread.  The host comes back as curl spells it: lowercase ASCII or
 * punycode for a normalised URL, IPv6 in brackets (without a zone id).
 * The port is the text the URL gives, else the scheme's default.
 */
int pf__url_hostport_buf(const char *url, char *buf, size_t size)
{
    struct pf__url_parts p;
    const char *port;
    size_t plen, n;
    int rc;

    if (url == NULL || (buf == NULL && size > 0))
        return PF_EINVAL;
    rc = pf__url_split(url, &p);
    if (rc < 0)
        return rc;
    if (p.port_len > 0) {
        port = url + p.port_off;
        plen = p.port_len;
    } else {
        port = p.default_port == 80 ? "80" : "443";
        plen = strlen(port);
    }
    n = p.host_len + 1 + plen;
    if (n > INT_MAX)
        return PF_EURL;
    if (n < size) {
        memcpy(buf, url + p.host_off, p.host_len);
        buf[p.host_len] = ':';
        memcpy(buf + p.host_len + 1, port, plen);
        buf[n] = '\0';
    }
    return (int)n;
}

/* Any thread. */
int pf__url_hostport(const char *url, char **out)
{
    char *s;
    int n;

    if (url == NULL || out == NULL)
        return PF_EINVAL;
    n = pf__url_hostport_buf(url, NULL, 0);
    if (n < 0)
        return n;
    s = pf__malloc((size_t)n + 1);
    if (s == NULL)
        return PF_ENOMEM;
    pf__url_hostport_buf(url, s, (size_t)n + 1);
    *out = s;
    return 0;
}

/*
 * Resolution of a document's references.  The crawler's parser threads
 * call this for every link of every page, so it is built for speed: the
 * base is normalised and cut into origin, directory and path once per
 * document, each reference is joined to it here (RFC 3986 section 5.2,
 * with the dot segments removed as the join goes), and curl is asked to
 * normalise only the URLs that might still change.
 *
 * Why not let curl join (curl_url_set() of a relative reference on a
 * handle that holds the base)?  libcurl 7.88 resolves "#frag" and "" to
 * the base's directory rather than to the base, fails "http:x", and
 * re-serialises and re-parses the whole base for every reference; its
 * handle is changed by the join, so each reference would also need a
 * fresh copy of the base.
 *
 * The shortcut: a joined URL whose scheme and authority are the base's
 * (already normal) and whose path and query hold only the characters
 * below, percent escapes already in upper case, no dot segment and no
 * empty query, is one curl would give back unchanged, so it is taken as
 * it stands.  That is most links of most pages (relative ones and
 * absolute ones to the same site); the others cost one or two passes of
 * curl.  The fuzz targets check that both ways give the same bytes.
 *
 * All of it runs on the thread that holds the context (a parser thread in
 * the crawler); contexts share nothing.
 */

int pf__urlres_init(struct pf__urlres *r)
{
    memset(r, 0, sizeof(*r));
    r->cu = curl_url();
    return r->cu != NULL ? 0 : PF_ENOMEM;
}

void pf__urlres_free(struct pf__urlres *r)
{
    curl_url_cleanup(r->cu);
    r->cu = NULL;
    pf__buf_free(&r->base);
    pf__buf_free(&r->ref);
    pf__buf_free(&r->abs);
    pf__buf_free(&r->scratch);
}

/*
 * Copy ref into r->ref as the URL standard reads an http(s) reference:
 * C0 controls and spaces stripped at both ends, tab, CR and LF removed
 * wherever they are, '\' read as '/' before the query, and the fragment
 * cut off (*frag says there was one).  PF_EURL for a NUL byte or a
 * reference longer than PF__URL_MAX.
 */
static int clean_ref(struct pf__urlres *r, const char *ref, size_t n, int *frag)
{
    struct pf__buf *b = &r->ref;
    int in_path = 1;
    size_t i = 0;
    int rc;

    *frag = 0;
    while (n > 0 && (unsigned char)ref[0] <= 0x20) {
        ref++;
        n--;
    }
    while (n > 0 && (unsigned char)ref[n - 1] <= 0x20)
        n--;
    if (n > PF__URL_MAX)
        return PF_EURL;
    pf__buf_reset(b);
    rc = pf__buf_append(b, "", 0);
    while (rc == 0 && i < n) {
        size_t span = i;
        char c;

        while (span < n && ref[span] != '\t' && ref[span] != '\n' &&
               ref[span] != '\r' && ref[span] != '\\' && ref[span] != '?' &&
               ref[span] != '#' && ref[span] != '\0')
            span++;
        rc = pf__buf_append(b, ref + i, span - i);
        if (rc < 0 || span == n)
            break;
        c = ref[span];
        if (c == '#') {
            *frag = 1;
            break;
        }
        if (c == '\0')
            return PF_EURL;
        if (c == '?') {
            in_path = 0;
            rc = pf__buf_appendc(b, c);
        } else if (c == '\\') {
            rc = pf__buf_appendc(b, in_path ? '/' : c);
        }
        i = span + 1;
    }
    return rc;
}

/*
 * Append to b the path segments s (n bytes, the text after a '/'), b
 * ending with a path (from floor) that has no trailing '/': "." and ".."
 * segments are applied as they come (RFC 3986 5.2.4), ".." never going
 * above floor.
 */
static int append_segments(struct pf__buf *b, size_t floor, const char *s,
                           size_t n)
{
    size_t i = 0;
    int rc = 0;

    for (;;) {
        const char *slash = memchr(s + i, '/', n - i);
        size_t end = slash != NULL ? (size_t)(slash - s) : n;
        size_t seg = end - i;
        int last = slash == NULL;

        if (seg == 1 && s[i] == '.') {
            if (last)
                rc = pf__buf_appendc(b, '/');
        } else if (seg == 2 && s[i] == '.' && s[i + 1] == '.') {
            const char *p = memrchr(b->data + floor, '/', b->len - floor);

            b->len = p != NULL ? (size_t)(p - b->data) : floor;
            b->data[b->len] = '\0';
            if (last)
                rc = pf__buf_appendc(b, '/');
        } else {
            rc = pf__buf_appendc(b, '/');
            if (rc == 0)
                rc = pf__buf_append(b, s + i, seg);
        }
        if (rc < 0 || last)
            return rc;
        i = end + 1;
    }
}

/* Characters curl keeps as they are in a path or a query. */
static int is_plain(unsigned char c)
{
    if (pf__is_alpha(c) || pf__is_digit(c))
        return 1;
    switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case ':':
    case '@':
    case '/':
    case '?':
        return 1;
    default:
        return 0;
    }
}

/*
 * 1 if the path and query s (n > 0 bytes, starting with '/', without dot
 * segments) are as curl would print them.
 */
static int is_plain_path(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i;

    if (p[n - 1] == '?')
        return 0; /* curl drops an empty query */
    for (i = 0; i < n; i++) {
        if (p[i] == '%') {
            if (i + 2 >= n || !(pf__is_digit(p[i + 1]) ||
                                (p[i + 1] >= 'A' && p[i + 1] <= 'F')))
                return 0;
            if (!(pf__is_digit(p[i + 2]) ||
                  (p[i + 2] >= 'A' && p[i + 2] <= 'F')))
                return 0;
            i += 2;
        } else if (!is_plain(p[i])) {
            return 0;
        }
    }
    return 1;
}

/*
 * Length of the host:port at s if curl would print it as it stands: a
 * dotted quad in plain decimal, or lowercase ASCII labels the last of
 * which starts with a letter (so that curl does not read the name as an
 * IPv4 number), then an optional port in plain decimal that is not the
 * scheme's default.  0 otherwise.
 */
static size_t plain_authority(const char *s, int https)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, label = 0;
    int parts = 0, numeric = 1;
    unsigned long port = 0;

    for (;;) {
        size_t start = i;
        unsigned long v = 0;

        label = i;
        while ((p[i] >= 'a' && p[i] <= 'z') || pf__is_digit(p[i]) ||
               p[i] == '-') {
            if (!pf__is_digit(p[i]))
                numeric = 0;
            else if (v < 1000)
                v = v * 10 + (unsigned long)(p[i] - '0');
            i++;
        }
        if (i == start || i - start > 63)
            return 0;
        if (numeric && (v > 255 || (p[start] == '0' && i - start > 1)))
            numeric = 0;
        parts++;
        if (p[i] != '.')
            break;
        i++;
    }
    if (numeric ? parts != 4 : !(p[label] >= 'a' && p[label] <= 'z'))
        return 0;
    if (p[i] != ':')
        return i;
    i++;
    if (!pf__is_digit(p[i]) || p[i] == '0')
        return 0;
    while (pf__is_digit(p[i]) && port <= 65535)
        port = port * 10 + (unsigned long)(p[i++] - '0');
    if (pf__is_digit(p[i]) || port > 65535 || port == (https ? 443ul : 80ul))
        return 0;
    return i;
}

/* 1 if the path has a "." or ".." segment. */
static int has_dot_segment(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i++) {
        if (s[i] == '/' && s[i + 1] == '.' &&
            (i + 2 == n || s[i + 2] == '/' ||
             (s[i + 2] == '.' && (i + 3 == n || s[i + 3] == '/'))))
            return 1;
    }
    return 0;
}

/*
 * 1 if the absolute URL s is one curl would give back unchanged: http or
 * https in lowercase, a plain authority (no user name), a path of plain
 * characters without dot segments, perhaps a plain query, no fragment.
 */
static int is_plain_url(const char *s)
{
    size_t i, n, q;
    int https;

    if (strncmp(s, "http://", 7) == 0) {
        i = 7;
        https = 0;
    } else if (strncmp(s, "https://", 8) == 0) {
        i = 8;
        https = 1;
    } else {
        return 0;
    }
    n = plain_authority(s + i, https);
    if (n == 0 || s[i + n] != '/')
        return 0;
    i += n;
    n = strlen(s + i);
    q = strcspn(s + i, "?");
    return is_plain_path(s + i, n) && !has_dot_segment(s + i, q);
}

/* out = the normalisation of the absolute URL abs. */
static int resolve_slow(struct pf__urlres *r, const char *abs,
                        struct pf__buf *out)
{
    const char *why = NULL;

    if (!r->curl_only && is_plain_url(abs)) {
        pf__buf_reset(out);
        return pf__buf_append(out, abs, strlen(abs));
    }
    return pf__url_normalize_with(r->cu, abs, &r->scratch, out, &why);
}

/*
 * Join the relative reference s (len bytes, no scheme, not "//...") to
 * the base in r->abs, then normalise.
 */
static int join(struct pf__urlres *r, const char *s, size_t len,
                struct pf__buf *out)
{
    struct pf__buf *a = &r->abs;
    const char *q;
    size_t plen;
    int rc;

    pf__buf_reset(a);
    rc = pf__buf_append(a, r->base.data, r->origin_len);
    if (rc < 0)
        return rc;
    q = memchr(s, '?', len);
    plen = q != NULL ? (size_t)(q - s) : len;
    if (len == 0 || s[0] == '?') {
        /* Same path, another query (or none: the base's own). */
        rc = pf__buf_append(a, r->base.data + r->origin_len,
                            (len == 0 ? r->base.len : r->path_end) -
                                r->origin_len);
    } else if (s[0] == '/') {
        rc = append_segments(a, r->origin_len, s + 1, plen - 1);
    } else {
        rc = pf__buf_append(a, r->base.data + r->origin_len,
                            r->dir_len - r->origin_len);
        if (rc == 0)
            rc = append_segments(a, r->origin_len, s, plen);
    }
    if (rc == 0 && q != NULL)
        rc = pf__buf_append(a, q, len - plen);
    if (rc < 0)
        return rc;
    if (!r->curl_only &&
        is_plain_path(a->data + r->origin_len, a->len - r->origin_len)) {
        pf__buf_reset(out);
        return pf__buf_append(out, a->data, a->len);
    }
    return resolve_slow(r, a->data, out);
}

/* Any thread (each context is one thread's at a time). */
int pf__urlres_set_base(struct pf__urlres *r, const char *url)
{
    const char *why = NULL;
    struct pf__url_parts parts;
    struct pf__buf t;
    const char *slash;
    size_t origin, path_end;
    int rc;

    if (url == NULL)
        return PF_EURL;
    if (!r->curl_only && is_plain_url(url)) {
        pf__buf_reset(&r->abs);
        rc = pf__buf_append(&r->abs, url, strlen(url));
    } else {
        rc = pf__url_normalize_with(r->cu, url, &r->scratch, &r->abs, &why);
    }
    if (rc < 0)
        return rc;
    if (pf__url_split(r->abs.data, &parts) < 0 || parts.path_len == 0)
        return PF_EURL; /* curl always gives a path: belts and braces */
    origin = parts.path_off;
    path_end = origin + parts.path_len;
    slash = memrchr(r->abs.data + origin, '/', path_end - origin);
    t = r->base;
    r->base = r->abs;
    r->abs = t;
    r->origin_len = origin;
    r->path_end = path_end;
    r->dir_len = (size_t)(slash - r->base.data);
    return 0;
}

/* Any thread (each context is one thread's at a time). */
int pf__url_resolve(struct pf__urlres *r, const char *ref, size_t n,
                    struct pf__buf *out)
{
    const char *s;
    size_t len, slen;
    int frag;
    int rc;

    rc = clean_ref(r, ref, n, &frag);
    if (rc < 0)
        return rc;
    s = r->ref.data;
    len = r->ref.len;
    if (len == 0 && !frag)
        return PF_EURL;
    slen = pf__url_scheme_len(s);
    if (slen > 0) {
        if (!is_http_scheme(s, slen))
            return PF_EURL;
        if (r->base.len > 0 && strncasecmp(s, r->base.data, slen) == 0 &&
            r->base.data[slen] == ':' && strncmp(s + slen, "://", 3) != 0) {
            /* "http:x" against an http base: relative. */
            return join(r, s + slen + 1, len - slen - 1, out);
        }
        if (r->base.len > 0 && len > r->origin_len &&
            memcmp(s, r->base.data, r->origin_len) == 0 &&
            s[r->origin_len] == '/')
            return join(r, s + r->origin_len, len - r->origin_len, out);
        return resolve_slow(r, s, out);
    }
    if (r->base.len == 0)
        return PF_EURL;
    if (len >= 2 && s[0] == '/' && s[1] == '/') {
        /* Network-path reference: the base's scheme, the rest its own. */
        pf__buf_reset(&r->abs);
        rc = pf__buf_append(&r->abs, r->base.data,
                            (size_t)(strchr(r->base.data, ':') - r->base.data) +
                                1);
        if (rc == 0)
            rc = pf__buf_append(&r->abs, s, len);
        if (rc < 0)
            return rc;
        return resolve_slow(r, r->abs.data, out);
    }
    return join(r, s, len, out);
}
