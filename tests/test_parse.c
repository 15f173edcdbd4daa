/*
 * test_parse.c -- link extraction: every fixture of fixtures/html/ (a
 * document and the links it must give, in order, with their kinds), read
 * from a file, from memory and from a pipe in small pieces; content types
 * and sniffing; duplicates and kinds; a 50 MB document parsed in bounded
 * memory; the caps; read errors; allocation failures; parsers on several
 * threads at once.  Reference resolution itself is test_url.c's.  Every link
 * that comes out must be a normalised http(s) URL: pf__url_normalize() gives it
 * back unchanged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "parse.h"
#include "test.h"
#include "url.h"
#include "util.h"

#define FIXTURES PF_SOURCE_DIR "/fixtures/html/"
#define MAX_FIXTURES 64
#define PATH_BUF 1024

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER 0
#endif

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static char *read_whole(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (fp == NULL)
        return NULL;
    for (;;) {
        size_t got;

        if (n + 4096 + 1 > cap) {
            char *b;

            cap = cap ? cap * 2 : 8192;
            b = realloc(buf, cap);
            if (b == NULL) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = b;
        }
        got = fread(buf + n, 1, 4096, fp);
        n += got;
        if (got == 0)
            break;
    }
    fclose(fp);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* The links as the .links files spell them: "page URL" or "req URL". */
static char *links_text(const struct pf__links *l)
{
    struct pf__buf b = {NULL, 0, 0};
    size_t i;

    pf__buf_append(&b, "", 0);
    for (i = 0; i < l->n; i++) {
        const char *u = pf__links_url(l, i);

        const char *k = l->kind[i] == PF__LINK_REQ ? "req " : "page ";

        pf__buf_append(&b, k, strlen(k));
        pf__buf_append(&b, u, strlen(u));
        pf__buf_append(&b, "\n", 1);
    }
    return b.data;
}

/* 1 if every link is an http(s) URL that normalises to itself. */
static int all_normal(const struct pf__links *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        const char *u = pf__links_url(l, i);
        char *again = NULL;
        int ok;

        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
            return 0;
        if (pf__url_normalize(u, &again, NULL) != 0)
            return 0;
        ok = strcmp(again, u) == 0;
        if (!ok)
            fprintf(stderr, "not normal: %s -> %s\n", u, again);
        pf__free(again);
        if (!ok)
            return 0;
    }
    return 1;
}

/* 1 if the link url is in l, with kind. */
static int has_link(const struct pf__links *l, const char *url, int kind)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        if (strcmp(pf__links_url(l, i), url) == 0)
            return l->kind[i] == kind;
    }
    return 0;
}

static size_t mem_links(const char *doc, enum pf__doc_type type,
                        struct pf__links *l)
{
    pf__links_init(l);
    if (pf__parse_mem(doc, strlen(doc), type, "http://example.com/dir/x.html",
                      l) != 0)
        return (size_t)-1;
    return l->n;
}

/* A fixture: its document, its type, its base and the links expected. */
struct fixture {
    char name[256];
    char path[PATH_BUF];
    enum pf__doc_type type;
    char *base;     /* first line of the .links file */
    char *expected; /* the rest */
    char *links_file;
};

static struct fixture fixtures[MAX_FIXTURES];
static size_t nfixtures;

static int cmp_fixture(const void *a, const void *b)
{
    return strcmp(((const struct fixture *)a)->name,
                  ((const struct fixture *)b)->name);
}

/* Load fixtures/html/: each NAME.html or NAME.css with its NAME.links. */
static size_t load_fixtures(void)
{
    DIR *d;
    struct dirent *e;

    if (nfixtures > 0)
        return nfixtures;
    d = opendir(FIXTURES);
    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL && nfixtures < MAX_FIXTURES) {
        struct fixture *f = &fixtures[nfixtures];
        size_t len = strlen(e->d_name);
        char lpath[PATH_BUF];
        char *nl;
        size_t n;

        if (len > 5 && strcmp(e->d_name + len - 5, ".html") == 0)
            f->type = PF__DOC_HTML;
        else if (len > 4 && strcmp(e->d_name + len - 4, ".css") == 0)
            f->type = PF__DOC_CSS;
        else
            continue;
        snprintf(f->name, sizeof(f->name), "%s", e->d_name);
        snprintf(f->path, sizeof(f->path), "%s%s", FIXTURES, e->d_name);
        snprintf(lpath, sizeof(lpath), "%s%.*s.links", FIXTURES,
                 (int)(len - (f->type == PF__DOC_HTML ? 5 : 4)), e->d_name);
        f->links_file = read_whole(lpath, &n);
        if (f->links_file == NULL)
            continue;
        nl = strchr(f->links_file, '\n');
        if (nl == NULL)
            continue;
        *nl = '\0';
        f->base = f->links_file;
        f->expected = nl + 1;
        nfixtures++;
    }
    closedir(d);
    qsort(fixtures, nfixtures, sizeof(fixtures[0]), cmp_fixture);
    return nfixtures;
}

/* Parse fixture f from its file: 1 if the links are the expected ones. */
static int fixture_ok_fd(const struct fixture *f, int verbose)
{
    struct pf__links l;
    char *got;
    int fd, rc, ok;

    fd = open(f->path, O_RDONLY);
    if (fd < 0)
        return 0;
    pf__links_init(&l);
    rc = pf__parse_fd(fd, f->type, f->base, &l);
    close(fd);
    got = links_text(&l);
    ok = rc == 0 && got != NULL && strcmp(got, f->expected) == 0 &&
         all_normal(&l);
    if (!ok && verbose)
        fprintf(stderr, "%s: rc %d, got:\n%s--- expected:\n%s", f->name, rc,
                got != NULL ? got : "(null)", f->expected);
    pf__free(got);
    pf__links_free(&l);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Fixtures                                                            */
/* ------------------------------------------------------------------ */

static void test_fixtures_fd(void)
{
    size_t i;

    CHECK(load_fixtures() >= 10);
    for (i = 0; i < nfixtures; i++)
        CHECK(fixture_ok_fd(&fixtures[i], 1));
}

static void test_fixtures_mem(void)
{
    size_t i;

    CHECK(load_fixtures() >= 10);
    for (i = 0; i < nfixtures; i++) {
        const struct fixture *f = &fixtures[i];
        struct pf__links l;
        size_t n;
        char *doc = read_whole(f->path, &n);
        char *got;
        int rc;

        CHECK(doc != NULL);
        pf__links_init(&l);
        rc = pf__parse_mem(doc, n, f->type, f->base, &l);
        got = links_text(&l);
        if (strcmp(got, f->expected) != 0)
            fprintf(stderr, "%s from memory:\n%s", f->name, got);
        CHECK_EQ(rc, 0);
        CHECK_STR(got, f->expected);
        pf__free(got);
        pf__links_free(&l);
        free(doc);
    }
}

struct feeder {
    int fd;
    const char *doc;
    size_t len;
    size_t piece;
};

/* The writing end of a pipe: the document in small pieces. */
static void *feed(void *arg)
{
    struct feeder *fe = arg;
    size_t off = 0;

    while (off < fe->len) {
        size_t n = fe->len - off < fe->piece ? fe->len - off : fe->piece;
        ssize_t w = write(fe->fd, fe->doc + off, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    close(fe->fd);
    return NULL;
}

/*
 * Through a pipe, a few bytes per write: every token of HTML and CSS
 * split across reads somewhere, and the first read short of the sniffing
 * window.
 */
static void test_fixtures_pipe(void)
{
    static const size_t pieces[] = {1, 3, 7, 100};
    size_t i, k;

    CHECK(load_fixtures() >= 10);
    for (i = 0; i < nfixtures; i++) {
        const struct fixture *f = &fixtures[i];
        size_t n;
        char *doc = read_whole(f->path, &n);

        CHECK(doc != NULL);
        for (k = 0; k < PF__ARRAY_LEN(pieces); k++) {
            struct feeder fe;
            struct pf__links l;
            pthread_t t;
            int p[2];
            char *got;
            int rc;

            CHECK(pipe(p) == 0);
            fe.fd = p[1];
            fe.doc = doc;
            fe.len = n;
            fe.piece = pieces[k];
            CHECK(pthread_create(&t, NULL, feed, &fe) == 0);
            pf__links_init(&l);
            rc = pf__parse_fd(p[0], f->type, f->base, &l);
            pthread_join(t, NULL);
            close(p[0]);
            got = links_text(&l);
            if (strcmp(got, f->expected) != 0)
                fprintf(stderr, "%s in pieces of %zu:\n%s", f->name, pieces[k],
                        got);
            CHECK_EQ(rc, 0);
            CHECK_STR(got, f->expected);
            pf__free(got);
            pf__links_free(&l);
        }
        free(doc);
    }
}

/* ------------------------------------------------------------------ */
/* Types, sniffing, kinds                                              */
/* ------------------------------------------------------------------ */

static void test_doc_type(void)
{
    CHECK_EQ(pf__doc_type(NULL), PF__DOC_UNKNOWN);
    CHECK_EQ(pf__doc_type(""), PF__DOC_UNKNOWN);
    CHECK_EQ(pf__doc_type("  "), PF__DOC_UNKNOWN);
    CHECK_EQ(pf__doc_type("text/html"), PF__DOC_HTML);
    CHECK_EQ(pf__doc_type("Text/HTML; charset=UTF-8"), PF__DOC_HTML);
    CHECK_EQ(pf__doc_type(" text/html ;charset=x"), PF__DOC_HTML);
    CHECK_EQ(pf__doc_type("application/xhtml+xml"), PF__DOC_HTML);
    CHECK_EQ(pf__doc_type("APPLICATION/XHTML+XML;q=1"), PF__DOC_HTML);
    CHECK_EQ(pf__doc_type("text/css"), PF__DOC_CSS);
    CHECK_EQ(pf__doc_type("TEXT/CSS;charset=utf-8"), PF__DOC_CSS);
    CHECK_EQ(pf__doc_type("text/htmlx"), PF__DOC_OTHER);
    CHECK_EQ(pf__doc_type("text/plain"), PF__DOC_OTHER);
    CHECK_EQ(pf__doc_type("text/html-sandboxed"), PF__DOC_OTHER);
    CHECK_EQ(pf__doc_type("image/png"), PF__DOC_OTHER);
    CHECK_EQ(pf__doc_type("application/octet-stream"), PF__DOC_OTHER);
    CHECK_EQ(pf__doc_type("text/css2"), PF__DOC_OTHER);
}

struct sniff_case {
    const char *doc;
    size_t links; /* 0: not taken for HTML */
};

static const struct sniff_case sniff_cases[] = {
    {"<!DOCTYPE html><a href=x.html>x</a>", 1},
    {"<!doctype HTML>\n<a href=x.html>x</a>", 1},
    {"\xEF\xBB\xBF  \n<HTML><a href=x.html>x</a>", 1},
    {"<head><link rel=stylesheet href=s.css>", 1},
    {"<body background=b.png>", 1},
    {"<!-- comment --><a href=x.html>x</a>", 1},
    {"<title>t</title><a href=x.html>x</a>", 1},
    {"<meta charset=utf-8><a href=x.html>x</a>", 1},
    {"<a href=x.html>x</a>", 1},
    {"\t\r\n <p>text <a href=x.html>x</a>", 1},
    {"<b>bold</b> <a href=x.html>x</a>", 1},
    {"<div><a href=x.html>x</a></div>", 1},
    {"<pre><a href=x.html>x</a></pre>", 0},
    {"<abbr><a href=x.html>x</a>", 0},
    {"hello <a href=x.html>x</a>", 0},
    {"{\"a\": \"<a href=x.html>\"}", 0},
    {"<?xml version=\"1.0\"?><a href=x.html>x</a>", 0},
    {"<html", 0},
    {"", 0},
    {"   ", 0},
    {"\x89PNG\r\n\x1a\n<a href=x.html>", 0},
};

static void test_sniff(void)
{
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(sniff_cases); i++) {
        struct pf__links l;
        size_t n = mem_links(sniff_cases[i].doc, PF__DOC_UNKNOWN, &l);

        if (n != sniff_cases[i].links)
            fprintf(stderr, "sniffing \"%s\": %zu links\n", sniff_cases[i].doc,
                    n);
        pf__links_free(&l);
        CHECK_EQ(n, sniff_cases[i].links);
    }
}

/*
 * A NUL in a quoted CSS URL becomes U+FFFD, and the bytes after it stay:
 * the URL does not depend on how the input was cut.
 */
static void test_css_nul_in_string(void)
{
    static const char css[] = "@import \"a\0bc\"; x { y: url('d\0ef') }";
    struct pf__links l;

    pf__links_init(&l);
    CHECK_EQ(pf__parse_mem(css, sizeof(css) - 1, PF__DOC_CSS,
                           "http://example.com/dir/x.html", &l),
             0);
    CHECK_EQ(l.n, 2);
    CHECK(has_link(&l, "http://example.com/dir/a%EF%BF%BDbc", PF__LINK_REQ));
    CHECK(has_link(&l, "http://example.com/dir/d%EF%BF%BDef", PF__LINK_REQ));
    pf__links_free(&l);
}

/* Typed documents are taken as their type says; other types not read. */
static void test_types(void)
{
    static const char css[] = "a { background: url(bg.png) }";
    static const char html[] = "<a href=x.html>x</a>";
    struct pf__links l;
    int p[2];

    CHECK_EQ(mem_links(css, PF__DOC_CSS, &l), 1);
    CHECK(has_link(&l, "http://example.com/dir/bg.png", PF__LINK_REQ));
    pf__links_free(&l);
    CHECK_EQ(mem_links(css, PF__DOC_HTML, &l), 0);
    pf__links_free(&l);
    CHECK_EQ(mem_links(css, PF__DOC_UNKNOWN, &l), 0);
    pf__links_free(&l);
    CHECK_EQ(mem_links(html, PF__DOC_OTHER, &l), 0);
    pf__links_free(&l);
    CHECK_EQ(mem_links(html, PF__DOC_CSS, &l), 0);
    pf__links_free(&l);
    /* OTHER does not even read. */
    CHECK(pipe(p) == 0);
    pf__links_init(&l);
    CHECK_EQ(pf__parse_fd(p[0], PF__DOC_OTHER, "http://a/", &l), 0);
    CHECK_EQ(l.n, 0);
    close(p[0]);
    close(p[1]);
    CHECK_EQ(pf__parse_mem(html, sizeof(html) - 1, PF__DOC_HTML, NULL, NULL),
             PF_EINVAL);
    CHECK_EQ(pf__parse_fd(-1, PF__DOC_HTML, NULL, &l), PF_EINVAL);
}

/*
 * Each URL once, in order of first appearance; seen as both kinds it is
 * a requisite.  Parses appending to one list share its dedupe.
 */
static void test_dedupe_and_kinds(void)
{
    static const char doc[] =
        "<a href=x.png>x</a><img src=x.png><img src=y.png><a href=y.png>"
        "<a href=z.html>z</a><a href='Z.html'>Z</a><a href=./z.html>z</a>"
        "<img src=z.html#frag>";
    static const char more[] = "<a href=w.html><a href=x.png>";
    static const char *const order[] = {
        "http://a.example/x.png", "http://a.example/y.png",
        "http://a.example/z.html", "http://a.example/Z.html",
        "http://a.example/w.html"};
    struct pf__links l;
    size_t i;

    pf__links_init(&l);
    CHECK_EQ(pf__parse_mem(doc, sizeof(doc) - 1, PF__DOC_HTML,
                           "http://a.example/", &l),
             0);
    CHECK_EQ(l.n, 4);
    CHECK_EQ(pf__parse_mem(more, sizeof(more) - 1, PF__DOC_HTML,
                           "http://a.example/", &l),
             0);
    CHECK_EQ(l.n, 5);
    for (i = 0; i < PF__ARRAY_LEN(order); i++)
        CHECK_STR(pf__links_url(&l, i), order[i]);
    CHECK_EQ(l.kind[0], PF__LINK_REQ);
    CHECK_EQ(l.kind[1], PF__LINK_REQ);
    CHECK_EQ(l.kind[2], PF__LINK_REQ);
    CHECK_EQ(l.kind[3], PF__LINK_PAGE);
    CHECK_EQ(l.kind[4], PF__LINK_PAGE);
    pf__links_free(&l);
}

/* ------------------------------------------------------------------ */
/* Size and caps                                                       */
/* ------------------------------------------------------------------ */

#define HUGE_BYTES (50L * 1024 * 1024)
#define HUGE_DISTINCT 5000

static long max_rss_kib(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/*
 * 50 MB of HTML with links throughout (5,000 distinct pages and as many
 * images, over and over, a <style> now and then), read from a file: every
 * link comes out, the last one too, and the process grows by far less
 * than the document.  (With libxml2 2.9, a chunk that ends inside a quoted
 * attribute value used to stall its push parser until the end of the
 * document, which it then held whole: this is the test of the fix.)
 */
static void test_huge_document(void)
{
    static const char filler[] =
        "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
        "eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim "
        "ad minim veniam, quis nostrud exercitation ullamco laboris.</p>\n";
    struct pf__links l;
    FILE *fp = tmpfile();
    long written = 0, before, after;
    size_t i;
    int rc;

    CHECK(fp != NULL);
    fputs("<!DOCTYPE html><html><head><title>huge</title></head><body>\n", fp);
    for (i = 0; written < HUGE_BYTES; i++) {
        int n = fprintf(fp,
                        "%s<a href=\"/p/%zu.html\">page</a> "
                        "<img src=\"img/%zu.png\" alt=\"\">\n",
                        filler, i % HUGE_DISTINCT, i % HUGE_DISTINCT);

        CHECK(n > 0);
        written += n;
        if (i % 10000 == 0) {
            n = fprintf(fp,
                        "<style>.s%zu { background: url(css/%zu.png) }"
                        "</style>\n",
                        i, i / 10000);
            written += n;
        }
    }
    fputs("<a href=\"/the-end.html\">end</a></body></html>\n", fp);
    CHECK(fflush(fp) == 0);
    CHECK(lseek(fileno(fp), 0, SEEK_SET) == 0);

    /* Warm up the allocator and libxml2 with a small document first. */
    CHECK_EQ(mem_links("<a href=x.html>", PF__DOC_HTML, &l), 1);
    pf__links_free(&l);
    before = max_rss_kib();
    pf__links_init(&l);
    rc = pf__parse_fd(fileno(fp), PF__DOC_HTML, "http://big.example/dir/", &l);
    after = max_rss_kib();
    fclose(fp);
    CHECK_EQ(rc, 0);
    CHECK(i > 100000);
    CHECK_EQ(l.n, 2 * HUGE_DISTINCT + (i - 1) / 10000 + 1 + 1);
    CHECK(has_link(&l, "http://big.example/p/0.html", PF__LINK_PAGE));
    CHECK(has_link(&l, "http://big.example/p/4999.html", PF__LINK_PAGE));
    CHECK(has_link(&l, "http://big.example/dir/img/4999.png", PF__LINK_REQ));
    CHECK(has_link(&l, "http://big.example/dir/css/0.png", PF__LINK_REQ));
    CHECK_STR(pf__links_url(&l, l.n - 1), "http://big.example/the-end.html");
    CHECK(all_normal(&l));
    pf__links_free(&l);
    if (!UNDER_SANITIZER) {
        if (after - before >= 16 * 1024)
            fprintf(stderr, "grew by %ld KiB\n", after - before);
        CHECK(after - before < 16 * 1024);
    }
}

/* A document with more links than LINKS_MAX: the first 100,000. */
static void test_links_cap(void)
{
    struct pf__buf doc = {NULL, 0, 0};
    struct pf__links l;
    char tag[64];
    int i, n;

    for (i = 0; i < 100010; i++) {
        n = snprintf(tag, sizeof(tag), "<a href=\"%d\"></a>\n", i);
        CHECK_EQ(pf__buf_append(&doc, tag, (size_t)n), 0);
    }
    pf__links_init(&l);
    CHECK_EQ(
        pf__parse_mem(doc.data, doc.len, PF__DOC_HTML, "http://c.example/", &l),
        0);
    CHECK_EQ(l.n, 100000);
    CHECK_STR(pf__links_url(&l, 99999), "http://c.example/99999");
    pf__links_free(&l);
    pf__buf_free(&doc);
}

/*
 * An attribute value that never ends: libxml2 would wait for its quote
 * to the end of the document, holding all of it.  The parse stops once
 * the wait passes its cap, with the links found before.
 */
static void test_backlog_cap(void)
{
    static const char head[] = "<a href=\"first.html\">1</a><img src=\"";
    size_t n = 24 * 1024 * 1024;
    char *doc = malloc(sizeof(head) - 1 + n + 1);
    struct pf__links l;

    CHECK(doc != NULL);
    memcpy(doc, head, sizeof(head) - 1);
    memset(doc + sizeof(head) - 1, 'x', n);
    doc[sizeof(head) - 1 + n] = '\0';
    pf__links_init(&l);
    CHECK_EQ(pf__parse_mem(doc, sizeof(head) - 1 + n, PF__DOC_HTML,
                           "http://d.example/", &l),
             0);
    CHECK(l.n >= 1);
    CHECK_STR(pf__links_url(&l, 0), "http://d.example/first.html");
    pf__links_free(&l);
    free(doc);
}

/* A CSS URL longer than PF__URL_MAX is dropped; the next one is not. */
static void test_long_css_url(void)
{
    struct pf__buf doc = {NULL, 0, 0};
    struct pf__links l;
    size_t i;

    pf__buf_append(&doc, "a { background: url(", 20);
    for (i = 0; i < PF__URL_MAX + 10; i++)
        pf__buf_appendc(&doc, 'x');
    pf__buf_append(&doc, ") } b { background: url(next.png) }", 35);
    pf__links_init(&l);
    CHECK_EQ(
        pf__parse_mem(doc.data, doc.len, PF__DOC_CSS, "http://e.example/", &l),
        0);
    CHECK_EQ(l.n, 1);
    CHECK_STR(pf__links_url(&l, 0), "http://e.example/next.png");
    pf__links_free(&l);
    pf__buf_free(&doc);
}

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/* A read error is PF_EIO with errno, the links before it kept. */
static void test_read_error(void)
{
    struct pf__links l;
    int p[2];
    int rc;

    CHECK(pipe(p) == 0);
    pf__links_init(&l);
    errno = 0;
    rc = pf__parse_fd(p[1], PF__DOC_HTML, "http://a/", &l); /* write end */
    CHECK_EQ(rc, PF_EIO);
    CHECK(errno != 0);
    CHECK_EQ(l.n, 0);
    close(p[0]);
    close(p[1]);
    pf__links_free(&l);
}

/* Every allocation of ours failing in turn: PF_ENOMEM, never a crash. */
static void test_alloc_failures(void)
{
    size_t i;

    CHECK(load_fixtures() >= 10);
    for (i = 0; i < nfixtures; i++) {
        const struct fixture *f = &fixtures[i];
        size_t len;
        char *doc = read_whole(f->path, &len);
        long k, made = 0;

        CHECK(doc != NULL);
        for (k = 1; k < 10000; k++) {
            struct pf__links l;
            int rc;

            pf__links_init(&l);
            pf__malloc_fail_at(k);
            rc = pf__parse_mem(doc, len, f->type, f->base, &l);
            made = pf__malloc_fail_at(0);
            pf__links_free(&l);
            if (rc != 0 && rc != PF_ENOMEM)
                fprintf(stderr, "%s, allocation %ld: %d\n", f->name, k, rc);
            CHECK(rc == 0 || rc == PF_ENOMEM);
            if (made < k)
                break; /* the whole parse needed fewer */
        }
        free(doc);
        CHECK(made < k);
    }
}

/* ------------------------------------------------------------------ */
/* Threads                                                             */
/* ------------------------------------------------------------------ */

#define THREADS 4
#define ROUNDS 10

static void *parse_all(void *arg)
{
    size_t *bad = arg;
    size_t r, i;

    for (r = 0; r < ROUNDS; r++) {
        for (i = 0; i < nfixtures; i++) {
            if (!fixture_ok_fd(&fixtures[i], 0))
                (*bad)++;
        }
    }
    return NULL;
}

/* Parsers share nothing: several at once give what one gives. */
static void test_threads(void)
{
    pthread_t t[THREADS];
    size_t bad[THREADS] = {0};
    size_t i;

    CHECK(load_fixtures() >= 10);
    for (i = 0; i < THREADS; i++)
        CHECK(pthread_create(&t[i], NULL, parse_all, &bad[i]) == 0);
    for (i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    for (i = 0; i < THREADS; i++)
        CHECK_EQ(bad[i], 0);
}

/* libxml2 and curl are set up once, whichever tests run. */
__attribute__((constructor)) static void setup(void)
{
    if (pf_global_init() != 0)
        abort();
}

TEST_MAIN(TEST(test_huge_document), TEST(test_fixtures_fd),
          TEST(test_fixtures_mem), TEST(test_fixtures_pipe),
          TEST(test_doc_type), TEST(test_sniff), TEST(test_types),
          TEST(test_css_nul_in_string), TEST(test_dedupe_and_kinds),
          TEST(test_links_cap), TEST(test_backlog_cap), TEST(test_long_css_url),
          TEST(test_read_error), TEST(test_alloc_failures), TEST(test_threads))
