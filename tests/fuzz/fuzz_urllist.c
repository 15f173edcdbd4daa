/*
 * fuzz_urllist.c -- libFuzzer target for the URL list reader and URL
 * normalisation.  The input is read as a list file (through fmemopen, as
 * a stream that is not a file), and each of its lines is also given to
 * pf__url_normalize() on its own.  Beyond "no crash, no leak, no undefined
 * behaviour" it checks what the rest of pfetch relies on:
 *
 *   - every URL handed out starts with http:// or https://, has no
 *     fragment, no white space and no control character;
 *   - normalising a normalised URL gives it back unchanged (the dedupe
 *     key is stable), and its host:port key can be taken;
 *   - pf__url_split() cuts every normalised URL where curl's URL API
 *     does (host with its zone id, port, path, query), its host:port is
 *     pf__url_hostport()'s and that of the hand scan it replaced, and
 *     its origin and path agree with the scans the crawler used to make;
 *   - on any line, the split reads nothing past the NUL and gives parts
 *     that lie inside the string;
 *   - bad lines come with the reader's name, in increasing line order,
 *     and no line is both good and bad;
 *   - the same input written to a pipe in pieces (cut where its own
 *     bytes say) gives the same URLs and bad lines, with the same line
 *     numbers, as when read whole: a line cut between two writes is one
 *     line.
 *
 * Seeds: fixtures/fuzz/urllist/.  A broken invariant aborts, which
 * libFuzzer reports with the input that broke it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "url.h"
#include "urllist.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char list_name[] = "fuzz.txt";

struct track {
    long last;  /* the last line number seen, good or bad */
    char *log;  /* "G lineno url\n" and "B lineno\n", in order */
    size_t len; /* of log */
};

static void require(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

/*
 * The host:port scan that pf__url_hostport() made before the split
 * existed, kept as a reference: on a normalised URL both must agree.
 */
static int old_hostport(const char *url, char *out, size_t size)
{
    const char *p, *end, *at, *host, *hend, *port;
    size_t hlen, plen;

    if (strncmp(url, "http://", 7) == 0) {
        p = url + 7;
        port = "80";
    } else if (strncmp(url, "https://", 8) == 0) {
        p = url + 8;
        port = "443";
    } else {
        return -1;
    }
    end = p + strcspn(p, "/?#");
    at = memrchr(p, '@', (size_t)(end - p));
    if (at != NULL)
        p = at + 1;
    host = p;
    if (*p == '[') {
        hend = memchr(p, ']', (size_t)(end - p));
        if (hend == NULL)
            return -1;
        hend++;
    } else {
        hend = memchr(p, ':', (size_t)(end - p));
        if (hend == NULL)
            hend = end;
    }
    hlen = (size_t)(hend - host);
    if (hlen == 0)
        return -1;
    plen = strlen(port);
    if (hend < end && *hend == ':' && end - hend > 1) {
        port = hend + 1;
        plen = (size_t)(end - port);
    }
    if (hlen + 1 + plen >= size)
        return -1;
    memcpy(out, host, hlen);
    out[hlen] = ':';
    memcpy(out + hlen + 1, port, plen);
    out[hlen + 1 + plen] = '\0';
    return 0;
}

/* 1 if s[0..n) is the string want. */
static int part_is(const char *s, size_t n, const char *want)
{
    return want != NULL && strlen(want) == n && memcmp(s, want, n) == 0;
}

/*
 * The host part h (n bytes) is curl's host: curl gives it percent-decoded
 * ("a%2541" is "a%41") and an IPv6 zone id apart ("[fe80::1]" and "eth0"
 * are "[fe80::1%25eth0]").
 */
static int same_host(const char *h, size_t n, const char *host,
                     const char *zone)
{
    size_t hn = host != NULL ? strlen(host) : 0;

    if (zone == NULL) {
        size_t i = 0, j = 0;

        while (i < n && j < hn) {
            int v = pf__pct_decode(h + i, n - i);

            if (v >= 0 ? (unsigned char)host[j] != v : host[j] != h[i])
                return 0;
            i += v >= 0 ? 3 : 1;
            j++;
        }
        return i == n && j == hn;
    }
    return hn > 2 && n == hn + 3 + strlen(zone) &&
           memcmp(h, host, hn - 1) == 0 && memcmp(h + hn - 1, "%25", 3) == 0 &&
           memcmp(h + hn + 2, zone, strlen(zone)) == 0 && h[n - 1] == ']';
}

/* The split of a normalised URL against curl's parse of it. */
static void check_split_curl(const char *url, const struct pf__url_parts *p)
{
    CURLU *cu = curl_url();
    char *host = NULL, *zone = NULL, *port = NULL, *path = NULL;
    char *query = NULL;

    if (cu == NULL)
        return;
    require(curl_url_set(cu, CURLUPART_URL, url, 0) == CURLUE_OK,
            "curl takes a normalised URL");
    curl_url_get(cu, CURLUPART_HOST, &host, 0);
    curl_url_get(cu, CURLUPART_ZONEID, &zone, 0);
    curl_url_get(cu, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    curl_url_get(cu, CURLUPART_PATH, &path, 0);
    curl_url_get(cu, CURLUPART_QUERY, &query, 0);
    require(same_host(url + p->host_off, p->host_len, host, zone),
            "split and curl find the same host");
    require(port != NULL && p->port == strtoul(port, NULL, 10),
            "split and curl find the same port");
    require(part_is(url + p->path_off, p->path_len, path),
            "split and curl find the same path");
    require(query == NULL ? !p->has_query
                          : part_is(url + p->query_off, p->query_len, query),
            "split and curl find the same query");
    curl_free(host);
    curl_free(zone);
    curl_free(port);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(cu);
}

/* What the split and its helpers say of a normalised URL. */
static void check_split(const char *url)
{
    struct pf__url_parts p;
    const char *sep = strstr(url, "://");
    const char *slash = strpbrk(sep + 3, "/?");
    char *hp = NULL;
    char buf[PF__HOSTPORT_BUF];
    size_t size = strlen(url) + 16;
    char *old = malloc(size);
    int n;

    if (old == NULL)
        return;
    require(pf__url_split(url, &p) == 0, "a normalised URL splits");
    require(p.path_len > 0 && url[p.path_off] == '/', "it has a path");
    check_split_curl(url, &p);
    require(pf__url_hostport(url, &hp) == 0,
            "a normalised URL has a host:port");
    require(hp[0] != '\0' && strrchr(hp, ':') != NULL, "host:port shape");
    require(old_hostport(url, old, size) == 0 && strcmp(old, hp) == 0,
            "host:port is what the former scan gave");
    free(old);
    n = pf__url_hostport_buf(url, buf, sizeof(buf));
    require(n == (int)strlen(hp), "host:port length");
    require((size_t)n >= sizeof(buf) || strcmp(buf, hp) == 0,
            "host:port in a buffer");
    require(memcmp(hp, url + p.host_off, p.host_len) == 0 &&
                hp[p.host_len] == ':' &&
                strtoul(hp + p.host_len + 1, NULL, 10) == p.port,
            "host:port is the split's host and port");
    pf__free(hp);
    /* The scans the crawler made for robots.txt. */
    require(pf__url_origin_len(url) ==
                strcspn(sep + 3, "/?") + (size_t)(sep + 3 - url),
            "origin as robots_start() cut it");
    require(strcmp(pf__url_path_query(url),
                   slash != NULL && *slash == '/' ? slash : "/") == 0,
            "path as url_path() cut it");
}

/* Any string: the split fails or gives parts inside it. */
static void split_any(const char *s)
{
    struct pf__url_parts p;
    size_t len = strlen(s);
    char buf[64];
    int n;

    if (pf__url_split(s, &p) != 0) {
        require(pf__url_origin_len(s) == 0, "no origin without a split");
        require(pf__url_hostport_buf(s, buf, sizeof(buf)) == PF_EURL,
                "no host:port without a split");
        return;
    }
    require(p.host_len > 0 && p.host_off + p.host_len <= len &&
                p.port_off + p.port_len <= len &&
                p.path_off + p.path_len <= len &&
                p.query_off + p.query_len <= len,
            "parts inside the string");
    require(p.host_off + p.host_len <= p.path_off &&
                p.port_off + p.port_len <= p.path_off,
            "host and port inside the origin");
    require(p.port <= 65535, "port range");
    n = pf__url_hostport_buf(s, buf, sizeof(buf));
    require(n == (int)(p.host_len + 1 +
                       (p.port_len > 0 ? p.port_len
                                       : (p.default_port == 80 ? 2 : 3))),
            "host:port length of any split");
}

static void check_url(const char *url)
{
    char *again = NULL;
    const char *p;
    int rc;

    require(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0,
            "URL is http or https");
    require(strchr(url, '#') == NULL, "URL has no fragment");
    for (p = url; *p != '\0'; p++)
        require((unsigned char)*p > 0x20 && (unsigned char)*p != 0x7f,
                "URL has no white space or control character");
    rc = pf__url_normalize(url, &again, NULL);
    require(rc == 0, "a normalised URL normalises");
    require(strcmp(again, url) == 0, "normalisation is idempotent");
    pf__free(again);
    check_split(url);
}

/* Append one line of what a reading gave to t->log. */
static void track_add(struct track *t, char kind, long lineno, const char *url)
{
    size_t n = (size_t)snprintf(NULL, 0, "%c %ld %s\n", kind, lineno, url);
    char *p = realloc(t->log, t->len + n + 1);

    require(p != NULL, "memory for the reading's log");
    t->log = p;
    snprintf(t->log + t->len, n + 1, "%c %ld %s\n", kind, lineno, url);
    t->len += n;
}

static void on_bad(const char *name, long lineno, const char *why,
                   void *userdata)
{
    struct track *t = userdata;

    track_add(t, 'B', lineno, "");
    require(strcmp(name, list_name) == 0, "bad line carries the name");
    require(lineno > t->last, "line numbers increase");
    require(why != NULL && why[0] != '\0', "a bad line has a reason");
    t->last = lineno;
}

static int read_as_list(const uint8_t *data, size_t size, struct track *out)
{
    struct pf__urllist *r = NULL;
    struct track t = {0};
    const char *url;
    long lineno;
    char *copy;
    FILE *fp;
    int rc;

    /* A copy: fmemopen takes a non-const buffer, whatever the mode. */
    copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    if (size > 0)
        memcpy(copy, data, size);
    fp = fmemopen(copy, size, "r");
    if (fp == NULL) {
        free(copy);
        return 0;
    }
    rc = pf__urllist_open(&r, fp, list_name, 1, on_bad, &t);
    require(rc == 0, "open succeeds");
    for (;;) {
        rc = pf__urllist_next(r, &url, &lineno);
        if (rc != 1)
            break;
        require(lineno > t.last, "line numbers increase");
        t.last = lineno;
        check_url(url);
        track_add(&t, 'G', lineno, url);
    }
    require(rc == 0, "an in-memory list reads to its end");
    pf__urllist_close(r);
    free(copy);
    *out = t;
    return 1;
}

/* Read everything a pipe's reader has now; 0 at the end of the list. */
static int drain(struct pf__urllist *r, struct track *t)
{
    const char *url;
    long lineno;
    int rc;

    while ((rc = pf__urllist_next(r, &url, &lineno)) == 1)
        track_add(t, 'G', lineno, url);
    require(rc == 0 || rc == PF__URLLIST_AGAIN, "a pipe reads without error");
    return rc;
}

/*
 * The same bytes through a pipe, in pieces of 1 to 64 bytes (each
 * piece's size is the byte at its start), the reader drained between
 * pieces: it must give what the whole read gave.
 */
static void read_in_pieces(const uint8_t *data, size_t size,
                           const struct track *whole)
{
    struct pf__urllist *r = NULL;
    struct track t = {0};
    size_t at = 0;
    int fds[2];
    FILE *fp;

    if (pipe(fds) != 0)
        return;
    fp = fdopen(fds[0], "r");
    require(fp != NULL, "fdopen of a pipe");
    require(pf__urllist_open(&r, fp, list_name, 1, on_bad, &t) == 0,
            "open succeeds");
    while (at < size) {
        size_t n = (size_t)(data[at] % 64) + 1;

        if (n > size - at)
            n = size - at;
        require(write(fds[1], data + at, n) == (ssize_t)n, "write to pipe");
        at += n;
        require(drain(r, &t) == PF__URLLIST_AGAIN, "an open pipe waits");
    }
    close(fds[1]);
    require(drain(r, &t) == 0, "a closed pipe ends");
    pf__urllist_close(r);
    require(t.len == whole->len &&
                (t.len == 0 || memcmp(t.log, whole->log, t.len) == 0),
            "a list read in pieces gives what it gives whole");
    free(t.log);
}

static void normalize_lines(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    size_t start = 0;

    if (line == NULL)
        return;
    while (start <= size) {
        const uint8_t *nl =
            start < size ? memchr(data + start, '\n', size - start) : NULL;
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        char *out = NULL;
        const char *why = NULL;
        int rc;

        /* The line as a C string: up to its first NUL, if any. */
        if (end > start)
            memcpy(line, data + start, end - start);
        line[end - start] = '\0';
        split_any(line);
        rc = pf__url_normalize(line, &out, &why);
        if (rc == 0) {
            check_url(out);
            pf__free(out);
        } else {
            require(rc == PF_EURL && why != NULL, "failure says why");
        }
        start = end + 1;
    }
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct track whole = {0};

    if (read_as_list(data, size, &whole))
        read_in_pieces(data, size, &whole);
    free(whole.log);
    normalize_lines(data, size);
    return 0;
}
