/*
 * test_url.c -- URLs as text: the normalisation table (good and bad URLs,
 * idempotence), host:port keys, the split (IPv6 literals, default ports,
 * userinfo, a query without a path, percent-encoded bytes, very long
 * URLs, malformed ones, agreement with curl's own parse), reference
 * resolution against RFC 3986's examples (the fast path and curl alone
 * must agree), the masking of passwords, and allocation failures.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "test.h"
#include "url.h"
#include "util.h"

/* Normalisation. */

struct norm_case {
    const char *in;
    const char *out;
};

static const struct norm_case good_urls[] = {
    {"http://example.com", "http://example.com/"},
    {"HTTP://EXAMPLE.COM/", "http://example.com/"},
    {"hTtPs://ExAmPlE.cOm/Path/To?Q=Mix", "https://example.com/Path/To?Q=Mix"},
    {"http://example.com:80/", "http://example.com/"},
    {"https://example.com:443/", "https://example.com/"},
    {"http://example.com:443/", "http://example.com:443/"},
    {"https://example.com:80/", "https://example.com:80/"},
    {"http://example.com:0080/", "http://example.com/"},
    {"http://example.com:8080", "http://example.com:8080/"},
    {"http://example.com:/", "http://example.com/"},
    {"http://example.com/a/./b/../c", "http://example.com/a/c"},
    {"http://example.com/../../x", "http://example.com/x"},
    {"http://example.com/a/b/..", "http://example.com/a/"},
    {"http://example.com/a/b/.", "http://example.com/a/b/"},
    {"http://example.com/a?x=../y", "http://example.com/a?x=../y"},
    {"http://example.com/a#frag", "http://example.com/a"},
    {"http://example.com/a?q=1#frag", "http://example.com/a?q=1"},
    {"http://example.com/#", "http://example.com/"},
    {"http://example.com/a#b c|<>\x01#", "http://example.com/a"},
    {"http://example.com#x", "http://example.com/"},
    {"http://example.com?q", "http://example.com/?q"},
    {"http://[::1]:8080/x", "http://[::1]:8080/x"},
    {"http://[::1]/", "http://[::1]/"},
    {"http://[::1]:80/", "http://[::1]/"},
    {"https://[::1]:443/", "https://[::1]/"},
    {"http://[2001:DB8::1]/", "http://[2001:db8::1]/"},
    {"http://[FE80::1%25eth0]:81/", "http://[fe80::1%25eth0]:81/"},
    {"http://b\303\274cher.example/", "http://xn--bcher-kva.example/"},
    {"http://B\303\234CHER.Example/", "http://xn--bcher-kva.example/"},
    {"http://xn--bcher-kva.EXAMPLE/", "http://xn--bcher-kva.example/"},
    {"http://example.com/a b", "http://example.com/a%20b"},
    {"http://example.com/?q=a b", "http://example.com/?q=a%20b"},
    {"http://example.com/a b?c d#e f", "http://example.com/a%20b?c%20d"},
    {"http://example.com/\xc3\xa4", "http://example.com/%C3%A4"},
    {"http://example.com/%e4%fc?q=%2f", "http://example.com/%E4%FC?q=%2F"},
    {"http://example.com/%zz%4", "http://example.com/%zz%4"},
    {"http://user:pw@Example.com/", "http://user:pw@example.com/"},
    {"http://EXAMPLE.com./", "http://example.com./"},
    {"http://%41.com/", "http://a.com/"},
    /* curl reads IPv4 before it decodes: a second pass (found by fuzzing). */
    {"http://%3112/", "http://0.0.0.112/"},
    {"http://0x7f.1/", "http://127.0.0.1/"},
    /* IDN mapping drops U+FEFF, leaving an IPv4 address (found by fuzzing). */
    {"http://0x7f.\357\273\2771/", "http://127.0.0.1/"},
    {"http:/example.com", "http://example.com/"},
};

struct bad_case {
    const char *in;
    const char *why;
};

static const struct bad_case bad_urls[] = {
    {"", "empty URL"},
    {" http://example.com/", "leading or trailing white space"},
    {"http://example.com/\n", "leading or trailing white space"},
    {"ftp://example.com/", "unsupported scheme"},
    {"FTP://example.com/", "unsupported scheme"},
    {"file:///etc/hosts", "unsupported scheme"},
    {"mailto:someone@example.com", "unsupported scheme"},
    {"javascript:alert(1)", "unsupported scheme"},
    {"data:text/plain,hi", "unsupported scheme"},
    {"httpx://example.com/", "unsupported scheme"},
    {"example.com/x", "no scheme"},
    {"//example.com/", "no scheme"},
    {"/relative", "no scheme"},
    {"://example.com/", "no scheme"},
    {"\x80\x81", "no scheme"},
    {"http://", "no host"},
    {"http://:80/", "no host"},
    {"http://example.com:99999/", "bad port number"},
    {"http://example.com:-1/", "bad port number"},
    {"http://example.com:8o/", "bad port number"},
    {"http://exa mple.com/", "bad host name"},
    {"http://ex<ample.com/", "bad host name"},
    {"http://[::1/", "bad IPv6 address"},
    {"http:example.com", "bad slashes after the scheme"},
    {"http:////example.com/", "bad slashes after the scheme"},
    {"http://example.com/\x01", "bad character in path"},
    {"http://example.com/?\x7f", "bad character in query"},
    {"http://\xff\xfe/", "bad international host name"},
    /* curl decodes %7F in a host and kept it (found by fuzzing). */
    {"http://0x%7f.1/", "bad host name"},
    {"http://a%7F.example/", "bad host name"},
};

static void test_normalize_good(void)
{
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(good_urls); i++) {
        char *out = NULL;
        const char *why = NULL;
        int rc = pf__url_normalize(good_urls[i].in, &out, &why);

        if (rc != 0)
            fprintf(stderr, "  %s: %d %s\n", good_urls[i].in, rc,
                    why ? why : "");
        CHECK_EQ(rc, 0);
        CHECK_STR(out, good_urls[i].out);
        pf__free(out);
    }
}

static void test_normalize_idempotent(void)
{
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(good_urls); i++) {
        char *out = NULL;

        CHECK_EQ(pf__url_normalize(good_urls[i].out, &out, NULL), 0);
        CHECK_STR(out, good_urls[i].out);
        pf__free(out);
    }
}

static void test_normalize_bad(void)
{
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(bad_urls); i++) {
        char *out = (char *)"untouched";
        const char *why = NULL;
        int rc = pf__url_normalize(bad_urls[i].in, &out, &why);

        if (rc != PF_EURL)
            fprintf(stderr, "  \"%s\" was accepted: %s\n", bad_urls[i].in,
                    rc == 0 ? out : "?");
        CHECK_EQ(rc, PF_EURL);
        CHECK_STR(out, "untouched");
        CHECK_STR(why, bad_urls[i].why);
    }
}

static void test_normalize_args(void)
{
    char *out = NULL;

    /* why may be NULL; *out stays untouched on failure. */
    CHECK_EQ(pf__url_normalize("ftp://x/", &out, NULL), PF_EURL);
    CHECK(out == NULL);
    CHECK_EQ(pf__url_normalize(NULL, &out, NULL), PF_EINVAL);
    CHECK_EQ(pf__url_normalize("http://x/", NULL, NULL), PF_EINVAL);
    CHECK(out == NULL);
}

/* host:port keys. */

static const struct norm_case hostports[] = {
    {"http://example.com/", "example.com:80"},
    {"https://example.com/", "example.com:443"},
    {"http://example.com:8080/x", "example.com:8080"},
    {"https://example.com:80/", "example.com:80"},
    {"http://[::1]:8080/x", "[::1]:8080"},
    {"https://[::1]/", "[::1]:443"},
    {"http://user:pw@example.com/", "example.com:80"},
    {"http://xn--bcher-kva.example/", "xn--bcher-kva.example:80"},
};

static void test_hostport(void)
{
    size_t i;
    char *out = NULL;

    for (i = 0; i < PF__ARRAY_LEN(hostports); i++) {
        CHECK_EQ(pf__url_hostport(hostports[i].in, &out), 0);
        CHECK_STR(out, hostports[i].out);
        pf__free(out);
        out = NULL;
    }
    CHECK_EQ(pf__url_hostport("not a url", &out), PF_EURL);
    CHECK(out == NULL);
    CHECK_EQ(pf__url_hostport(NULL, &out), PF_EINVAL);
}

/* The split. */

struct split_case {
    const char *url;
    const char *host;
    unsigned port;
    const char *port_text; /* "" when none given */
    const char *path;      /* "" when none */
    const char *query;     /* NULL when no '?' */
    const char *origin;
    const char *path_query;
};

static const struct split_case splits[] = {
    {"http://example.com/", "example.com", 80, "", "/", NULL,
     "http://example.com", "/"},
    {"https://example.com/a/b?q=1", "example.com", 443, "", "/a/b", "q=1",
     "https://example.com", "/a/b?q=1"},
    /* Default ports, given or not: the number is the same. */
    {"http://example.com:80/", "example.com", 80, "80", "/", NULL,
     "http://example.com:80", "/"},
    {"https://example.com:80/", "example.com", 80, "80", "/", NULL,
     "https://example.com:80", "/"},
    {"http://h:/x", "h", 80, "", "/x", NULL, "http://h:", "/x"},
    {"http://h:0/", "h", 0, "0", "/", NULL, "http://h:0", "/"},
    {"http://h:65535/", "h", 65535, "65535", "/", NULL, "http://h:65535", "/"},
    {"HTTPS://Example.COM:8443/X", "Example.COM", 8443, "8443", "/X", NULL,
     "HTTPS://Example.COM:8443", "/X"},
    /* IPv6 literals keep their brackets and zone id. */
    {"http://[::1]:8080/x", "[::1]", 8080, "8080", "/x", NULL,
     "http://[::1]:8080", "/x"},
    {"https://[2001:db8::1]/", "[2001:db8::1]", 443, "", "/", NULL,
     "https://[2001:db8::1]", "/"},
    {"http://[fe80::1%25eth0]:81/", "[fe80::1%25eth0]", 81, "81", "/", NULL,
     "http://[fe80::1%25eth0]:81", "/"},
    {"http://[::ffff:1.2.3.4]/", "[::ffff:1.2.3.4]", 80, "", "/", NULL,
     "http://[::ffff:1.2.3.4]", "/"},
    /* Userinfo is skipped, up to the authority's last '@'. */
    {"http://user:pw@example.com:8080/p", "example.com", 8080, "8080", "/p",
     NULL, "http://user:pw@example.com:8080", "/p"},
    {"http://a@b@host/", "host", 80, "", "/", NULL, "http://a@b@host", "/"},
    {"http://us%40r:p%3Ass@[::1]/", "[::1]", 80, "", "/", NULL,
     "http://us%40r:p%3Ass@[::1]", "/"},
    /* A query without a path; an empty query. */
    {"http://example.com?q", "example.com", 80, "", "", "q",
     "http://example.com", "/"},
    {"http://example.com/?", "example.com", 80, "", "/", "",
     "http://example.com", "/?"},
    {"https://h:8443", "h", 8443, "8443", "", NULL, "https://h:8443", "/"},
    /* Percent-encoded bytes are left as they are. */
    {"http://h/a%2Fb%20c/%E4?x=%3F&y=%2523", "h", 80, "", "/a%2Fb%20c/%E4",
     "x=%3F&y=%2523", "http://h", "/a%2Fb%20c/%E4?x=%3F&y=%2523"},
    /* A fragment is no part (normalised URLs have none). */
    {"http://h/a#f?x", "h", 80, "", "/a", NULL, "http://h", "/a#f?x"},
    {"http://h?q#f", "h", 80, "", "", "q", "http://h", "/"},
    {"http://h#f/x", "h", 80, "", "", NULL, "http://h", "/"},
};

static const char *const bad_splits[] = {
    "",
    "example.com/x",
    "//example.com/",
    "://example.com/",
    "ftp://example.com/",
    "httpx://example.com/",
    "http:/example.com/",
    "http:example.com",
    "http://",
    "http:///x",
    "http://:80/",
    "http://user@/",
    "http://user@:80/",
    "http://h:65536/",
    "http://h:99999999999999999999/",
    "http://h:8o/",
    "http://h:-1/",
    "http://h:+1/",
    "http://h: 1/",
    "http://[::1/",
    "http://[::1]x/",
    "http://[::1]]:80/",
    "mailto:someone@example.com",
};

/* 1 if s[0..n) is the string want. */
static int part_is(const char *s, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(s, want, n) == 0;
}

static void test_split(void)
{
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(splits); i++) {
        const struct split_case *c = &splits[i];
        const char *u = c->url;
        struct pf__url_parts p;

        if (pf__url_split(u, &p) != 0)
            fprintf(stderr, "  %s: does not split\n", u);
        CHECK_EQ(pf__url_split(u, &p), 0);
        CHECK(p.scheme_len == 4 || p.scheme_len == 5);
        CHECK_EQ(p.default_port, p.scheme_len == 4 ? 80u : 443u);
        CHECK(memcmp(u + p.scheme_len, "://", 3) == 0);
        CHECK(part_is(u + p.host_off, p.host_len, c->host));
        CHECK_EQ(p.port, c->port);
        CHECK(part_is(u + p.port_off, p.port_len, c->port_text));
        CHECK(part_is(u + p.path_off, p.path_len, c->path));
        CHECK_EQ(p.has_query, c->query != NULL);
        if (c->query != NULL)
            CHECK(part_is(u + p.query_off, p.query_len, c->query));
        else
            CHECK_EQ(p.query_len, 0);
        CHECK_EQ(pf__url_origin_len(u), strlen(c->origin));
        CHECK(memcmp(u, c->origin, strlen(c->origin)) == 0);
        CHECK_STR(pf__url_path_query(u), c->path_query);
    }
}

static void test_split_bad(void)
{
    struct pf__url_parts p, untouched;
    char buf[64] = "untouched";
    char *out = NULL;
    size_t i;

    memset(&p, 0x5a, sizeof(p));
    untouched = p;
    for (i = 0; i < PF__ARRAY_LEN(bad_splits); i++) {
        const char *u = bad_splits[i];

        if (pf__url_split(u, &p) != PF_EURL)
            fprintf(stderr, "  \"%s\" splits\n", u);
        CHECK_EQ(pf__url_split(u, &p), PF_EURL);
        CHECK(memcmp(&p, &untouched, sizeof(p)) == 0);
        CHECK_EQ(pf__url_origin_len(u), 0);
        CHECK_STR(pf__url_path_query(u), "/");
        CHECK_EQ(pf__url_hostport_buf(u, buf, sizeof(buf)), PF_EURL);
        CHECK_STR(buf, "untouched");
        CHECK_EQ(pf__url_hostport(u, &out), PF_EURL);
        CHECK(out == NULL);
    }
    CHECK_EQ(pf__url_split(NULL, &p), PF_EINVAL);
    CHECK_EQ(pf__url_split("http://h/", NULL), PF_EINVAL);
    CHECK_EQ(pf__url_hostport_buf(NULL, buf, sizeof(buf)), PF_EINVAL);
    CHECK_EQ(pf__url_hostport_buf("http://h/", NULL, 1), PF_EINVAL);
    CHECK_EQ(pf__url_hostport("http://h/", NULL), PF_EINVAL);
}

/* host:port into a caller's buffer: snprintf's contract. */
static void test_hostport_buf(void)
{
    const char *u = "https://user@[::1]:8443/x";
    char buf[PF__HOSTPORT_BUF];
    size_t i;

    CHECK_EQ(pf__url_hostport_buf(u, NULL, 0), 10);
    memset(buf, 'x', sizeof(buf));
    CHECK_EQ(pf__url_hostport_buf(u, buf, 10), 10);
    CHECK_EQ(buf[0], 'x'); /* no room for the NUL: nothing written */
    CHECK_EQ(pf__url_hostport_buf(u, buf, 11), 10);
    CHECK_STR(buf, "[::1]:8443");
    for (i = 0; i < PF__ARRAY_LEN(hostports); i++) {
        CHECK_EQ(pf__url_hostport_buf(hostports[i].in, buf, sizeof(buf)),
                 (int)strlen(hostports[i].out));
        CHECK_STR(buf, hostports[i].out);
    }
}

/* A very long URL: a long host and a path far beyond PF__URL_MAX. */
static void test_split_long(void)
{
    const size_t host_n = 4000, path_n = 3 * PF__URL_MAX;
    char *u = malloc(8 + host_n + 6 + path_n + 3 + 1);
    char buf[PF__HOSTPORT_BUF];
    struct pf__url_parts p;
    char *hp = NULL;
    size_t n = 0;
    int rc;

    CHECK(u != NULL);
    memcpy(u, "https://", 8);
    n = 8;
    memset(u + n, 'a', host_n);
    n += host_n;
    memcpy(u + n, ":8443/", 6);
    n += 6;
    memset(u + n, 'p', path_n);
    n += path_n;
    memcpy(u + n, "?q=", 4);
    rc = pf__url_split(u, &p);
    if (rc == 0) {
        rc = p.host_off == 8 && p.host_len == host_n && p.port == 8443 &&
                     p.path_off == 8 + host_n + 5 && p.path_len == path_n + 1 &&
                     p.has_query && p.query_len == 2
                 ? 0
                 : -1;
    }
    if (rc == 0)
        rc = pf__url_hostport_buf(u, buf, sizeof(buf)) == (int)host_n + 5 ? 0
                                                                          : -1;
    if (rc == 0)
        rc = pf__url_hostport(u, &hp);
    if (rc == 0)
        rc = strlen(hp) == host_n + 5 && strcmp(hp + host_n, ":8443") == 0 ? 0
                                                                           : -1;
    if (rc == 0)
        rc = pf__url_path_query(u) == u + p.path_off ? 0 : -1;
    pf__free(hp);
    free(u);
    CHECK_EQ(rc, 0);
}

/*
 * 1 if the host part h (n bytes) is curl's host with its zone id, which
 * curl gives apart: "[fe80::1]" and "eth0" are "[fe80::1%25eth0]".
 */
static int same_host(const char *h, size_t n, const char *host,
                     const char *zone)
{
    size_t hn = strlen(host);

    if (zone == NULL)
        return part_is(h, n, host);
    return hn > 2 && n == hn + 3 + strlen(zone) &&
           memcmp(h, host, hn - 1) == 0 && memcmp(h + hn - 1, "%25", 3) == 0 &&
           memcmp(h + hn + 2, zone, strlen(zone)) == 0 && h[n - 1] == ']';
}

/* Split and curl's URL API read every normalised URL of the table alike. */
static void test_split_agrees_with_curl(void)
{
    CURLU *cu = curl_url();
    size_t i;

    CHECK(cu != NULL);
    for (i = 0; i < PF__ARRAY_LEN(good_urls); i++) {
        const char *u = good_urls[i].out;
        struct pf__url_parts p;
        char *host = NULL, *zone = NULL, *port = NULL, *path = NULL;
        char *query = NULL;
        int ok;

        CHECK_EQ(pf__url_split(u, &p), 0);
        CHECK_EQ(curl_url_set(cu, CURLUPART_URL, u, 0), CURLUE_OK);
        curl_url_get(cu, CURLUPART_HOST, &host, 0);
        curl_url_get(cu, CURLUPART_ZONEID, &zone, 0);
        curl_url_get(cu, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
        curl_url_get(cu, CURLUPART_PATH, &path, 0);
        curl_url_get(cu, CURLUPART_QUERY, &query, 0);
        ok = host != NULL && port != NULL && path != NULL &&
             same_host(u + p.host_off, p.host_len, host, zone) &&
             p.port == (unsigned)strtoul(port, NULL, 10) &&
             part_is(u + p.path_off, p.path_len, path) &&
             (query == NULL ? !p.has_query
                            : part_is(u + p.query_off, p.query_len, query));
        if (!ok)
            fprintf(stderr, "  %s: curl says %s %s %s %s\n", u, host, port,
                    path, query);
        curl_free(host);
        curl_free(zone);
        curl_free(port);
        curl_free(path);
        curl_free(query);
        CHECK(ok);
    }
    curl_url_cleanup(cu);
}

/* ------------------------------------------------------------------ */
/* Resolution                                                          */
/* ------------------------------------------------------------------ */

struct resolve_case {
    const char *ref;
    const char *out; /* NULL: no link */
};

/* RFC 3986 5.4, with the URL standard's answers where they differ. */
static const struct resolve_case rfc_cases[] = {
    {"g:h", NULL},
    {"g", "http://a/b/c/g"},
    {"./g", "http://a/b/c/g"},
    {"g/", "http://a/b/c/g/"},
    {"/g", "http://a/g"},
    {"//g", "http://g/"},
    {"?y", "http://a/b/c/d;p?y"},
    {"g?y", "http://a/b/c/g?y"},
    {"#s", "http://a/b/c/d;p?q"},
    {"g#s", "http://a/b/c/g"},
    {"g?y#s", "http://a/b/c/g?y"},
    {";x", "http://a/b/c/;x"},
    {"g;x", "http://a/b/c/g;x"},
    {"g;x?y#s", "http://a/b/c/g;x?y"},
    {"", NULL},
    {".", "http://a/b/c/"},
    {"./", "http://a/b/c/"},
    {"..", "http://a/b/"},
    {"../", "http://a/b/"},
    {"../g", "http://a/b/g"},
    {"../..", "http://a/"},
    {"../../", "http://a/"},
    {"../../g", "http://a/g"},
    {"../../../g", "http://a/g"},
    {"../../../../g", "http://a/g"},
    {"/./g", "http://a/g"},
    {"/../g", "http://a/g"},
    {"g.", "http://a/b/c/g."},
    {".g", "http://a/b/c/.g"},
    {"g..", "http://a/b/c/g.."},
    {"..g", "http://a/b/c/..g"},
    {"./../g", "http://a/b/g"},
    {"./g/.", "http://a/b/c/g/"},
    {"g/./h", "http://a/b/c/g/h"},
    {"g/../h", "http://a/b/c/h"},
    {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
    {"g;x=1/../y", "http://a/b/c/y"},
    {"g?y/./x", "http://a/b/c/g?y/./x"},
    {"g?y/../x", "http://a/b/c/g?y/../x"},
    {"g#s/./x", "http://a/b/c/g"},
    {"g#s/../x", "http://a/b/c/g"},
    {"http:g", "http://a/b/c/g"},
    {"http:", "http://a/b/c/d;p?q"},
    {"http:/g", "http://a/g"},
    /* Beyond the RFC. */
    {" \t g \n", "http://a/b/c/g"},
    {"g\th\ni\rj", "http://a/b/c/ghij"},
    {"\\g\\h?x\\y", "http://a/g/h?x\\y"},
    {"g h", "http://a/b/c/g%20h"},
    {"g?h i", "http://a/b/c/g?h%20i"},
    {"\xc3\xa9", "http://a/b/c/%C3%A9"},
    {"%7e%2F", "http://a/b/c/%7E%2F"},
    {"g?", "http://a/b/c/g"},
    {"g?a=%zz", "http://a/b/c/g?a=%zz"},
    {"g[1]{2}|", "http://a/b/c/g[1]{2}|"},
    {"HTTPS://A.EXAMPLE:443/x", "https://a.example/x"},
    {"https://a.example:8443", "https://a.example:8443/"},
    {"http://a/b/../c", "http://a/c"},
    {"http://a:80/x", "http://a/x"},
    {"http://A/x", "http://a/x"},
    {"http://127.1/", "http://127.0.0.1/"},
    {"http://0x7f.0.0.1/", "http://127.0.0.1/"},
    {"http://1.2.3.4/", "http://1.2.3.4/"},
    {"http://[::1]/", "http://[::1]/"},
    {"//other.example:8080/p?q#f", "http://other.example:8080/p?q"},
    {"mailto:x@a", NULL},
    {"javascript:alert(1)", NULL},
    {"data:text/plain,x", NULL},
    {"ftp://a/b", NULL},
    {"http://", NULL},
    {"g\x01h", NULL},
};

static void test_resolve(void)
{
    struct pf__urlres fast, slow;
    struct pf__buf a = {NULL, 0, 0}, b = {NULL, 0, 0};
    size_t i;

    CHECK_EQ(pf__urlres_init(&fast), 0);
    CHECK_EQ(pf__urlres_init(&slow), 0);
    slow.curl_only = 1;
    CHECK_EQ(pf__urlres_set_base(&fast, "http://a/b/c/d;p?q"), 0);
    CHECK_EQ(pf__urlres_set_base(&slow, "http://a/b/c/d;p?q"), 0);
    for (i = 0; i < PF__ARRAY_LEN(rfc_cases); i++) {
        const struct resolve_case *c = &rfc_cases[i];
        int rf = pf__url_resolve(&fast, c->ref, strlen(c->ref), &a);
        int rs = pf__url_resolve(&slow, c->ref, strlen(c->ref), &b);

        if (c->out == NULL) {
            if (rf != PF_EURL)
                fprintf(stderr, "\"%s\" gave %s\n", c->ref, a.data);
            CHECK_EQ(rf, PF_EURL);
            CHECK_EQ(rs, PF_EURL);
            continue;
        }
        if (rf != 0 || strcmp(a.data, c->out) != 0)
            fprintf(stderr, "\"%s\": %d %s\n", c->ref, rf, a.data);
        CHECK_EQ(rf, 0);
        CHECK_EQ(rs, 0);
        CHECK_STR(a.data, c->out);
        CHECK_STR(b.data, c->out);
    }
    pf__buf_free(&a);
    pf__buf_free(&b);
    pf__urlres_free(&fast);
    pf__urlres_free(&slow);
}

/* No base (or a bad one): absolute references only. */
static void test_resolve_no_base(void)
{
    struct pf__urlres r;
    struct pf__buf out = {NULL, 0, 0};

    CHECK_EQ(pf__urlres_init(&r), 0);
    CHECK_EQ(pf__urlres_set_base(&r, "ftp://a/b"), PF_EURL);
    CHECK_EQ(pf__urlres_set_base(&r, "not a url"), PF_EURL);
    CHECK_EQ(pf__url_resolve(&r, "g", 1, &out), PF_EURL);
    CHECK_EQ(pf__url_resolve(&r, "//g/x", 5, &out), PF_EURL);
    CHECK_EQ(pf__url_resolve(&r, "#x", 2, &out), PF_EURL);
    CHECK_EQ(pf__url_resolve(&r, "http://g/x#y", 12, &out), 0);
    CHECK_STR(out.data, "http://g/x");
    /* A bad base later leaves the good one in place. */
    CHECK_EQ(pf__urlres_set_base(&r, "HTTP://Good.Example/d/"), 0);
    CHECK_EQ(pf__urlres_set_base(&r, "mailto:x@y"), PF_EURL);
    CHECK_EQ(pf__url_resolve(&r, "g", 1, &out), 0);
    CHECK_STR(out.data, "http://good.example/d/g");
    /* Only n bytes are read; a NUL byte inside is no link. */
    CHECK_EQ(pf__url_resolve(&r, "gh", 1, &out), 0);
    CHECK_STR(out.data, "http://good.example/d/g");
    CHECK_EQ(pf__url_resolve(&r, "g\0h", 3, &out), PF_EURL);
    pf__buf_free(&out);
    pf__urlres_free(&r);
}

/* Masking passwords. */

struct mask_case {
    const char *in;
    const char *out; /* NULL: the same bytes, no password */
};

static const struct mask_case mask_cases[] = {
    {"http://alice:secret@host/f", "http://alice:***@host/f"},
    {"HTTPS://U:PW@H/", "HTTPS://U:***@H/"},
    {"https://a:b@[::1]:8443/x?q=1#f", "https://a:***@[::1]:8443/x?q=1#f"},
    {"http://us%40r:p%3Ass@[::1]/", "http://us%40r:***@[::1]/"},
    {"http://:pw@host/", "http://:***@host/"},
    /* Masked already: it has a password, "***", which stays. */
    {"http://alice:***@host/", "http://alice:***@host/"},
    /* The authority's last '@' ends the userinfo, its first ':' the user. */
    {"http://a:b@c@host/", "http://a:***@host/"},
    {"http://a:b:c@host:81", "http://a:***@host:81"},
    /* Only the authority holds a password. */
    {"http://a:b@host/p?x=u:p@y", "http://a:***@host/p?x=u:p@y"},
    {"http://host/p@x:y", NULL},
    {"http://host/?u:p@h", NULL},
    {"http://host#u:p@h", NULL},
    /* No password, or an empty one: nothing to hide. */
    {"http://host/f", NULL},
    {"http://alice@host/", NULL},
    {"http://alice:@host/", NULL},
    {"http://a@b@host/", NULL},
    /* Text the split refuses is read the same way. */
    {"http://u:pw@h:99999/", "http://u:***@h:99999/"},
    {"ftp://u:pw@h/x", "ftp://u:***@h/x"},
    {"redis://:pw@h:6379/0", "redis://:***@h:6379/0"},
    {"socks5h://u:pw@h", "socks5h://u:***@h"},
    {"http://u:pw@", "http://u:***@"},
    {"", NULL},
    {"not a url", NULL},
    {"u:pw@h", NULL},
    {"://u:pw@h", NULL},
    {"1http://u:pw@h/", NULL},
};

static void test_mask(void)
{
    char buf[256], again[256];
    size_t i;

    for (i = 0; i < sizeof(mask_cases) / sizeof(mask_cases[0]); i++) {
        const struct mask_case *mc = &mask_cases[i];
        const char *want = mc->out != NULL ? mc->out : mc->in;
        int n = pf__url_mask(mc->in, buf, sizeof(buf));

        CHECK_STR(buf, want);
        CHECK_EQ(n, (int)strlen(want));
        CHECK_EQ(pf__url_mask(mc->in, NULL, 0), n);
        CHECK_EQ(pf__url_has_password(mc->in), mc->out != NULL);
        /* Masking is idempotent. */
        CHECK_EQ(pf__url_mask(buf, again, sizeof(again)), n);
        CHECK_STR(again, want);
        /* Without a password, the very pointer comes back. */
        if (mc->out == NULL)
            CHECK(pf__url_shown(mc->in, buf, sizeof(buf)) == mc->in);
        else
            CHECK_STR(pf__url_shown(mc->in, again, sizeof(again)), want);
        CHECK_EQ(pf_url_mask(mc->in, buf, sizeof(buf)), n);
    }
}

/* A cut, wherever it falls, never shows a byte of the password. */
static void test_mask_cut(void)
{
    const char *url = "http://alice:secret@host/f";
    const char *want = "http://alice:***@host/f";
    char buf[64];
    size_t size;

    for (size = 1; size <= strlen(want) + 1; size++) {
        memset(buf, 'x', sizeof(buf));
        CHECK_EQ(pf__url_mask(url, buf, size), (int)strlen(want));
        CHECK_EQ(strlen(buf), size - 1);
        CHECK(strncmp(buf, want, size - 1) == 0);
        CHECK(buf[size] == 'x'); /* nothing written past size */
    }
    CHECK_EQ(pf__url_mask(NULL, buf, sizeof(buf)), PF_EINVAL);
    CHECK_EQ(pf__url_mask(url, NULL, 1), PF_EINVAL);
    CHECK_EQ(pf_url_mask(NULL, NULL, 0), PF_EINVAL);
    CHECK_EQ(pf__url_has_password(NULL), 0);
}

/* The split's userinfo fields, which the masking reads. */
static void test_split_userinfo(void)
{
    struct pf__url_parts p;
    const char *u = "http://us%40r:p%3Ass@[::1]:81/";

    CHECK_EQ(pf__url_split(u, &p), 0);
    CHECK_EQ(p.user_len, 6);
    CHECK(strncmp(u + p.scheme_len + 3, "us%40r", p.user_len) == 0);
    CHECK_EQ(p.pass_len, 6);
    CHECK(strncmp(u + p.pass_off, "p%3Ass", p.pass_len) == 0);
    CHECK_EQ(pf__url_split("http://alice@h/", &p), 0);
    CHECK_EQ(p.user_len, 5);
    CHECK_EQ(p.pass_len, 0);
    CHECK_EQ(pf__url_split("https://h/", &p), 0);
    CHECK_EQ(p.user_len, 0);
    CHECK_EQ(p.pass_len, 0);
}

/*
 * Every allocation of ours failing in turn: each call fails cleanly with
 * PF_ENOMEM or succeeds, and nothing leaks (ASan, valgrind).
 */
static void test_oom(void)
{
    long n;

    for (n = 1; n < 1000; n++) {
        char *s = NULL;
        int rc;

        pf__malloc_fail_at(n);
        rc = pf__url_normalize("http://B\303\234CHER.example/a b#f", &s, NULL);
        CHECK(rc == 0 || rc == PF_ENOMEM);
        pf__free(s);
        s = NULL;
        rc = pf__url_hostport("http://[::1]:8080/", &s);
        CHECK(rc == 0 || rc == PF_ENOMEM);
        pf__free(s);
        if (pf__malloc_fail_at(0) < n)
            break; /* the nth allocation was never reached: all done */
    }
    printf("# oom: swept %ld allocation points\n", n);
    CHECK(n < 1000);
}

TEST_MAIN(TEST(test_normalize_good), TEST(test_normalize_idempotent),
          TEST(test_normalize_bad), TEST(test_normalize_args),
          TEST(test_hostport), TEST(test_split), TEST(test_split_bad),
          TEST(test_hostport_buf), TEST(test_split_long),
          TEST(test_split_agrees_with_curl), TEST(test_resolve),
          TEST(test_resolve_no_base), TEST(test_mask), TEST(test_mask_cut),
          TEST(test_split_userinfo), TEST(test_oom))
