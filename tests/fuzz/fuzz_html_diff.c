/*
 * fuzz_html_diff.c -- libFuzzer target comparing the two ways of finding
 * the links of an HTML page: html.c's tokenizer (pf__parse_mem) and
 * libxml2's HTML parser (pf__parse_mem_xml).  The input is read as a
 * program: each byte picks a fragment of markup (and the next one a URL
 * for it), and the fragments make the document.  Fragments come in
 * classes: markup both read the same way, and the kinds of broken markup
 * where libxml2 and the HTML standard part ways (test_html.c lists one
 * case of each, with the standard's links).  It checks:
 *
 *   - a document made only of the first kind gives the same links, in
 *     the same order, with the same kinds, both ways;
 *   - the tokenizer fed in pieces (cut where the input says) reports the
 *     same tags, attributes, offsets and text as fed whole, on the
 *     generated document and on the input's own bytes.
 *
 * Seeds: fixtures/fuzz/html_diff/.  A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "parse.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_url[] = "http://fuzz.example/dir/page.html";

static void require(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

/* What a fragment is: both parsers agree, or a listed difference. */
enum frag_class {
    SAME = 0,
    ABRUPT_COMMENT = 1 << 0, /* <!--> and <!---> */
    CDATA = 1 << 1,          /* a bogus comment in HTML content */
    RCDATA = 1 << 2,         /* title, textarea, xmp, ... hold no tags */
    SCRIPT_ESCAPE = 1 << 3,  /* <!--<script> inside a script */
    SLASH_ATTR = 1 << 4,     /* <img/src=x> */
    LEGACY_REF = 1 << 5,     /* &amp without ';' */
    NUMERIC_REF = 1 << 6,    /* &#0; &#x80; */
    CUT_TAG = 1 << 7,        /* a tag the end of the document cuts */
    RAW_END = 1 << 8,        /* </stylex is not an end tag */
    STRAY = 1 << 9,          /* a second <body>; a <base> after </head> */
    UNDECLARED = 1 << 10     /* UTF-8 in a page that does not say so */
};

struct frag {
    const char *text; /* "%s" is the URL */
    int cls;
};

static const struct frag frags[] = {
    {"<a href=\"%s\">x</a>", SAME},
    {"<a href='%s'>", SAME},
    {"<a href=%s >", SAME},
    {"<area href=\"%s\">", SAME},
    {"<img src=\"%s\" alt=\"\">", SAME},
    {"<img srcset=\"%s 1x, %s 2x\">", SAME},
    {"<picture><source srcset=\"%s\"></picture>", SAME},
    {"<link rel=stylesheet href=\"%s\">", SAME},
    {"<link rel=\"preconnect\" href=\"%s\">", SAME},
    {"<link rel=\"next\" href=\"%s\">", SAME},
    {"<base href=\"%s\">", SAME},
    {"<meta http-equiv=\"refresh\" content=\"0; url=%s\">", SAME},
    {"<meta charset=\"utf-8\">", SAME},
    {"<style>body{background:url(%s)}</style>", SAME},
    {"<style>@import \"%s\";</style>", SAME},
    {"<script src=\"%s\"></script>", SAME},
    {"<script>var s = \"a<b\" + '</p>';</script>", SAME},
    {"<div style=\"background:url('%s')\">", SAME},
    {"<iframe src=\"%s\"></iframe>", SAME},
    {"<frame src=\"%s\">", SAME},
    {"<video src=\"%s\" poster=\"%s\"></video>", SAME},
    {"<audio src=\"%s\"></audio>", SAME},
    {"<object data=\"%s\"></object>", SAME},
    {"<embed src=\"%s\">", SAME},
    {"<track src=\"%s\">", SAME},
    {"<input type=image src=\"%s\">", SAME},
    {"<input type=text src=\"%s\">", SAME},
    {"<head>", SAME},
    {"<html lang=en>", SAME},
    {"<body>", SAME},
    {"<p>text &amp; more</p>", SAME},
    {"hello", SAME},
    {"\n  ", SAME},
    {"<title>T</title>", SAME},
    {"<!-- <a href=\"%s\"> -->", SAME},
    {"<!DOCTYPE html>", SAME},
    {"<br/>", SAME},
    {"<table><tr><td><a href=\"%s\"></td></tr></table>", SAME},
    {"<noscript><img src=\"%s\"></noscript>", SAME},
    {"<noscript>text</noscript>", SAME},
    {"<a href=\"%s?a=1&amp;b=2\">", SAME},
    {"<!-->", ABRUPT_COMMENT},
    {"<!--->", ABRUPT_COMMENT},
    {"<![CDATA[<a href=\"%s\">]]>", CDATA},
    {"<title><a href=\"%s\"></title>", RCDATA},
    {"<textarea><img src=\"%s\"></textarea>", RCDATA},
    {"<xmp><a href=\"%s\"></xmp>", RCDATA},
    {"<script><!--<script></script><a href=\"%s\"></script>", SCRIPT_ESCAPE},
    {"<img/src=\"%s\">", SLASH_ATTR},
    {"<a href=\"%s&amp x\">", LEGACY_REF},
    {"<a href=\"%s&#x80;&#0;\">", NUMERIC_REF},
    {"<style></stylex{}</style>", RAW_END},
    {"<body background=\"%s\">", STRAY},
    {"</head>", STRAY}, /* a <base> after it: see test_html.c */
    {"<a href=\"%s\"", CUT_TAG},
    {"<!-- x", CUT_TAG},
};

static const char *const urls[] = {"a.html",
                                   "/b/c.html",
                                   "../d.html",
                                   "http://other.example/e",
                                   "https://fuzz.example/f?x=1#frag",
                                   "#top",
                                   "//cdn.example/g.css",
                                   "h%20i.html",
                                   "caf\xC3\xA9.html",
                                   "mailto:x@example.com",
                                   "javascript:void(0)",
                                   " sp.html ",
                                   "&amp;q.html",
                                   "&#x6A;.html",
                                   "?only=query",
                                   "",
                                   "x y.html",
                                   "data:,x"};

/* The document the input describes, and the classes it used. */
static char *generate(const uint8_t *data, size_t size, int *cls)
{
    struct pf__buf doc = {NULL, 0, 0};
    size_t i, nsame = 0, ndiff;

    /* The fragments that differ come last, and are picked less often. */
    *cls = 0;
    while (nsame + 1 < PF__ARRAY_LEN(frags) && frags[nsame].cls == SAME)
        nsame++;
    ndiff = PF__ARRAY_LEN(frags) - nsame; /* at least 1 */
    for (i = 0; i < size && nsame > 0 && ndiff > 0; i += 2) {
        const struct frag *f = data[i] < 240 ? &frags[data[i] % nsame]
                                             : &frags[nsame + data[i] % ndiff];
        const char *url =
            urls[(i + 1 < size ? data[i + 1] : 0) % PF__ARRAY_LEN(urls)];
        const char *p = f->text;

        *cls |= f->cls;
        if (strstr(p, "%s") != NULL && strchr(url, 0xC3) != NULL)
            *cls |= UNDECLARED; /* libxml2 reads it as Latin-1 */
        while (*p != '\0') {
            const char *s = strstr(p, "%s");
            size_t n = s != NULL ? (size_t)(s - p) : strlen(p);

            pf__buf_append(&doc, p, n);
            if (s == NULL)
                break;
            pf__buf_append(&doc, url, strlen(url));
            p = s + 2;
        }
    }
    pf__buf_append(&doc, "", 0);
    return doc.data;
}

/* The links as text: "P url" / "R url" lines. */
static char *links_text(const char *doc, size_t n, int xml)
{
    struct pf__links l;
    struct pf__buf b = {NULL, 0, 0};
    size_t i;
    int rc;

    pf__links_init(&l);
    rc = xml ? pf__parse_mem_xml(doc, n, PF__DOC_HTML, base_url, &l)
             : pf__parse_mem(doc, n, PF__DOC_HTML, base_url, &l);
    require(rc == 0, "a parse succeeds");
    pf__buf_append(&b, "", 0);
    for (i = 0; i < l.n; i++) {
        const char *u = pf__links_url(&l, i);

        pf__buf_append(&b, l.kind[i] == PF__LINK_REQ ? "R " : "P ", 2);
        pf__buf_append(&b, u, strlen(u));
        pf__buf_append(&b, "\n", 1);
    }
    pf__links_free(&l);
    return b.data;
}

/* Everything the tokenizer reports, as one string. */
static int trace_tag(const struct pf__html_tag *t, void *userdata)
{
    struct pf__buf *b = userdata;
    char num[64];
    size_t i;

    snprintf(num, sizeof(num), "<%d/%d@%llu ", t->end_tag, t->self_closing,
             (unsigned long long)t->start);
    pf__buf_append(b, num, strlen(num));
    pf__buf_append(b, t->name, t->name_len);
    for (i = 0; i < t->nattr; i++) {
        const struct pf__html_attr *a = &t->attr[i];

        snprintf(num, sizeof(num), " %zu:%zu@%llu-%llu ", a->name_len,
                 a->value_len, (unsigned long long)a->start,
                 (unsigned long long)a->end);
        pf__buf_append(b, num, strlen(num));
        pf__buf_append(b, a->name, a->name_len);
        pf__buf_append(b, "=", 1);
        pf__buf_append(b, a->value, a->value_len);
        require(a->name[a->name_len] == '\0' && a->value[a->value_len] == '\0',
                "names and values are NUL-terminated");
        require(a->start <= a->end, "a value's offsets are in order");
    }
    pf__buf_append(b, ">", 1);
    return 0;
}

/*
 * Text may come in any number of pieces: its bytes count, and a mark
 * where raw text follows text between tags or the other way round.
 */
static int trace_text(const char *text, size_t n, int raw, void *userdata)
{
    struct pf__buf *b = userdata;
    char mark = raw ? '\x01' : '\x02';

    if (b->len > 0 && b->data[b->len - 1] == mark)
        pf__buf_truncate(b, b->len - 1);
    else
        pf__buf_append(b, &mark, 1);
    pf__buf_append(b, text, n);
    pf__buf_append(b, &mark, 1);
    return 0;
}

/* The tokenizer's report on doc, cut into pieces by cuts (NULL: whole). */
static char *trace(const char *doc, size_t n, const uint8_t *cuts, size_t ncuts)
{
    struct pf__html h;
    struct pf__buf b = {NULL, 0, 0};
    size_t pos = 0, k = 0;

    pf__html_init(&h, trace_tag, trace_text, &b);
    h.want_data = 1;
    while (pos < n) {
        size_t step = n - pos;

        if (cuts != NULL && ncuts > 0)
            step = (size_t)cuts[k++ % ncuts] % 17 + 1;
        if (step > n - pos)
            step = n - pos;
        pf__html_feed(&h, doc + pos, step);
        pos += step;
    }
    pf__html_finish(&h);
    require(h.err == 0, "no allocation failure");
    pf__html_free(&h);
    pf__buf_append(&b, "", 0);
    return b.data;
}

static void check_pieces(const char *doc, size_t n, const uint8_t *cuts,
                         size_t ncuts)
{
    char *whole = trace(doc, n, NULL, 0);
    char *pieces = trace(doc, n, cuts, ncuts);

    require(strcmp(whole, pieces) == 0, "pieces give what the whole gives");
    pf__free(whole);
    pf__free(pieces);
}

/* How many documents were compared, and how many were not (for -runs). */
static size_t compared, skipped;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int cls;
    char *doc;
    size_t n;

    if (size > 4096)
        return 0;
    doc = generate(data, size, &cls);
    n = strlen(doc);
    if (cls == SAME) {
        char *tok = links_text(doc, n, 0);
        char *xml = links_text(doc, n, 1);

        if (strcmp(tok, xml) != 0)
            fprintf(stderr, "document:\n%s\n--- tokenizer:\n%s--- libxml2:\n%s",
                    doc, tok, xml);
        require(strcmp(tok, xml) == 0, "the same links both ways");
        compared++;
        pf__free(tok);
        pf__free(xml);
    } else {
        pf__free(links_text(doc, n, 0));
        skipped++;
    }
    if (getenv("FUZZ_HTML_DIFF_STATS") != NULL &&
        (compared + skipped) % 10000 == 0)
        fprintf(stderr, "compared %zu, not comparable %zu\n", compared,
                skipped);
    check_pieces(doc, n, data, size);
    check_pieces((const char *)data, size, data, size);
    pf__free(doc);
    return 0;
}
