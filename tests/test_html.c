/*
 * test_html.c -- the HTML tokenizer (html.c) and the link extraction built
 * on it: tags, attributes and the byte offsets of their values, comments
 * and their odd endings, raw text and RCDATA, script data's escapes,
 * character references, charsets, input cut at every byte; then the
 * tokenizer against libxml2's HTML parser (pf__parse_mem_xml), which
 * found links before it: the same links on every fixture page and on the
 * Debian manuals postgresql-doc-15 and python3.11-doc when installed,
 * and, where the two differ on broken markup, the HTML standard's answer,
 * case by case.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "html.h"
#include "parse.h"
#include "test.h"
#include "util.h"

#define BASE "http://example.com/dir/x.html"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/*
 * What the tokenizer reports, as text: "<name a=v@start-end ...>" for a
 * start tag, "</name>" for an end tag, "[raw text]" for raw text.
 */
struct trace {
    struct pf__buf out;
};

static int trace_tag(const struct pf__html_tag *t, void *userdata)
{
    struct trace *tr = userdata;
    char num[64];
    size_t i;

    pf__buf_append(&tr->out, t->end_tag ? "</" : "<", t->end_tag ? 2 : 1);
    pf__buf_append(&tr->out, t->name, t->name_len);
    for (i = 0; i < t->nattr; i++) {
        const struct pf__html_attr *a = &t->attr[i];

        pf__buf_append(&tr->out, " ", 1);
        pf__buf_append(&tr->out, a->name, a->name_len);
        pf__buf_append(&tr->out, "=", 1);
        pf__buf_append(&tr->out, a->value, a->value_len);
        snprintf(num, sizeof(num), "@%llu-%llu", (unsigned long long)a->start,
                 (unsigned long long)a->end);
        pf__buf_append(&tr->out, num, strlen(num));
    }
    if (t->self_closing)
        pf__buf_append(&tr->out, "/", 1);
    pf__buf_append(&tr->out, ">", 1);
    return 0;
}

static int trace_text(const char *text, size_t n, int raw, void *userdata)
{
    struct trace *tr = userdata;

    if (!raw)
        return 0;
    /* Raw text comes in pieces: join runs of it. */
    if (tr->out.len > 0 && tr->out.data[tr->out.len - 1] == ']')
        pf__buf_truncate(&tr->out, tr->out.len - 1);
    else
        pf__buf_append(&tr->out, "[", 1);
    pf__buf_append(&tr->out, text, n);
    pf__buf_append(&tr->out, "]", 1);
    return 0;
}

/* The trace of doc fed in pieces of at most step bytes (0: whole). */
static char *tokens(const char *doc, size_t n, size_t step)
{
    struct pf__html h;
    struct trace tr = {{NULL, 0, 0}};
    size_t i;

    pf__html_init(&h, trace_tag, trace_text, &tr);
    if (step == 0)
        step = n > 0 ? n : 1;
    for (i = 0; i < n; i += step)
        pf__html_feed(&h, doc + i, n - i < step ? n - i : step);
    pf__html_finish(&h);
    pf__html_free(&h);
    pf__buf_append(&tr.out, "", 0);
    return tr.out.data != NULL ? tr.out.data : pf__strdup("");
}

/* doc's trace (n bytes), the same fed whole and one byte at a time. */
static int tokens_are_n(const char *doc, size_t n, const char *want)
{
    char *whole = tokens(doc, n, 0);
    char *bytes = tokens(doc, n, 1);
    int ok = strcmp(whole, want) == 0 && strcmp(bytes, want) == 0;

    if (!ok)
        fprintf(stderr, "doc:  %s\nwant: %s\ngot:  %s\nbytes: %s\n", doc, want,
                whole, bytes);
    pf__free(whole);
    pf__free(bytes);
    return ok;
}

static int tokens_are(const char *doc, const char *want)
{
    return tokens_are_n(doc, strlen(doc), want);
}

/* The links as "page URL" / "req URL" lines. */
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

/* doc's links, by the tokenizer (xml 0) or by libxml2 (xml 1). */
static char *links_of(const char *doc, size_t n, const char *base, int xml)
{
    struct pf__links l;
    char *s;
    int rc;

    pf__links_init(&l);
    if (xml)
        rc = pf__parse_mem_xml(doc, n, PF__DOC_HTML, base, &l);
    else
        rc = pf__parse_mem(doc, n, PF__DOC_HTML, base, &l);
    s = rc == 0 ? links_text(&l) : NULL;
    pf__links_free(&l);
    return s;
}

/* ------------------------------------------------------------------ */
/* The tokenizer                                                       */
/* ------------------------------------------------------------------ */

static void test_tags_and_offsets(void)
{
    CHECK(tokens_are("<a href=\"x.html\">t</a>", "<a href=x.html@9-15></a>"));
    CHECK(tokens_are("<A HREF='X'>", "<a href=X@9-10>"));
    CHECK(tokens_are("<a href=x>", "<a href=x@8-9>"));
    CHECK(tokens_are("<a href = \"x\" >", "<a href=x@11-12>"));
    CHECK(tokens_are("<a href>", "<a href=@7-7>"));
    CHECK(tokens_are("<a href=>", "<a href=@8-8>"));
    CHECK(tokens_are("<a href=\"\">", "<a href=@9-9>"));
    CHECK(tokens_are("<br/>", "<br/>"));
    CHECK(tokens_are("<br />", "<br/>"));
    CHECK(tokens_are("<a href=x/>", "<a href=x/@8-10>"));
    CHECK(tokens_are("<img/src=\"i\">", "<img src=i@10-11>"));
    CHECK(tokens_are("<a href=\"x\"class=y>", "<a href=x@9-10 class=y@17-18>"));
    CHECK(tokens_are("<a =x>", "<a =x=@5-5>"));
    CHECK(tokens_are("<a a\"b=1 c<d=2>", "<a a\"b=1@7-8 c<d=2@13-14>"));
    CHECK(tokens_are("<a href=x href=y>", "<a href=x@8-9 href=y@15-16>"));
    CHECK(tokens_are("</a href=x>", "</a>"));
    CHECK(tokens_are("</>", ""));
    CHECK(tokens_are("</ a>", ""));
    CHECK(tokens_are("<3 <a>", "<a>"));
    CHECK(tokens_are_n("<a\x00"
                       "b>",
                       5,
                       "<a\xEF\xBF\xBD"
                       "b>"));
    CHECK(tokens_are("<a href='x", "")); /* cut by the end: dropped */
    CHECK(tokens_are("<a", ""));
}

static void test_comments(void)
{
    CHECK(tokens_are("<!-- <a> --><b>", "<b>"));
    CHECK(tokens_are("<!--><a>", "<a>"));
    CHECK(tokens_are("<!---><a>", "<a>"));
    CHECK(tokens_are("<!----><a>", "<a>"));
    CHECK(tokens_are("<!-- x --!><a>", "<a>"));
    CHECK(tokens_are("<!-- x --!-><b> --><a>", "<a>"));
    CHECK(tokens_are("<!-- <!-- --><a>", "<a>"));
    CHECK(tokens_are("<!-- - -- ---><a>", "<a>"));
    CHECK(tokens_are("<!--!><b>--><a>", "<a>"));
    CHECK(tokens_are("<!-- never closed <a>", ""));
    CHECK(tokens_are("<!DOCTYPE html><a>", "<a>"));
    CHECK(tokens_are("<!doctype html PUBLIC \"a>b\"><a>", "<a>"));
    CHECK(tokens_are("<![CDATA[ <b> ]]><a>", "<a>"));
    CHECK(tokens_are("<!x <b><a>", "<a>"));
    CHECK(tokens_are("<!-x <b><a>", "<a>"));
    CHECK(tokens_are("<?xml version=\"1.0\"?><a>", "<a>"));
    CHECK(tokens_are("</3 <b><a>", "<a>"));
}

static void test_raw_text(void)
{
    CHECK(tokens_are("<style>a<b>{}</style><a>", "<style>[a<b>{}]</style><a>"));
    CHECK(tokens_are("<style></STYLE ><a>", "<style></style><a>"));
    CHECK(tokens_are("<style></styles></style>", "<style>[</styles>]</style>"));
    CHECK(tokens_are("<style></sty</style>", "<style>[</sty]</style>"));
    CHECK(tokens_are("<style>x</style", "<style>[x</style]"));
    CHECK(tokens_are("<title><a href=x></title><a>",
                     "<title>[<a href=x>]</title><a>"));
    CHECK(tokens_are("<textarea><!--</textarea>--><a>",
                     "<textarea>[<!--]</textarea><a>"));
    CHECK(tokens_are("<xmp><a></xmp>", "<xmp>[<a>]</xmp>"));
    CHECK(tokens_are("<iframe src=f><a></iframe>",
                     "<iframe src=f@12-13>[<a>]</iframe>"));
    CHECK(tokens_are("<noscript><a></noscript>", "<noscript><a></noscript>"));
    CHECK(tokens_are("<plaintext></plaintext><a>", "<plaintext>"));
    CHECK(tokens_are("<style/>x</style>", "<style/>[x]</style>"));
    CHECK(tokens_are("<style></style x=\"y>\"><a>", "<style></style><a>"));
}

static void test_script_data(void)
{
    CHECK(tokens_are("<script>if (a<b) x='</p>'</script><a>",
                     "<script></script><a>"));
    CHECK(tokens_are("<script><!-- </script><a>", "<script></script><a>"));
    /* Double escaped: "<!--" then "<script>" hides the first </script>. */
    CHECK(tokens_are("<script><!--<script></script><b></script><a>",
                     "<script></script><a>"));
    CHECK(tokens_are("<script><!--<script>--></script><a>",
                     "<script></script><a>"));
    CHECK(tokens_are("<script><!--<script></script>--></script><a>",
                     "<script></script><a>"));
    CHECK(tokens_are("<script><!--<scripts></script><a>",
                     "<script></script><a>"));
    CHECK(tokens_are("<script><!-- --></script><a>", "<script></script><a>"));
    CHECK(tokens_are("<script></scrip></script><a>", "<script></script><a>"));
    CHECK(tokens_are("<SCRIPT></Script ><a>", "<script></script><a>"));
}

static void test_char_refs(void)
{
    CHECK(tokens_are("<a href=\"?a=1&amp;b=2\">", "<a href=?a=1&b=2@9-21>"));
    CHECK(tokens_are("<a t=\"&lt;&gt;&quot;&nbsp;&eacute;\">",
                     "<a t=<>\"\xC2\xA0\xC3\xA9@6-34>"));
    /* Without ';': only the legacy names, and not before '=' or alnum. */
    CHECK(tokens_are("<a t=\"&amp &lt&copy=1&ampx&notit;\">",
                     "<a t=& <&copy=1&ampx&notit;@6-33>"));
    CHECK(tokens_are("<a t=\"&hellip;&hellip &bogus; &#\">",
                     "<a t=\xE2\x80\xA6&hellip &bogus; &#@6-32>"));
    CHECK(tokens_are("<a t=\"&#65;&#x42;&#X43&#68x\">", "<a t=ABCDx@6-27>"));
    /* HTML's replacements: 0, surrogates, past U+10FFFF, 0x80-0x9F. */
    CHECK(tokens_are("<a t=\"&#0;&#xD800;&#x110000;&#99999999999;\">",
                     "<a t=\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
                     "@6-42>"));
    CHECK(tokens_are("<a t=\"&#x80;&#150;&#x81;\">",
                     "<a t=\xE2\x82\xAC\xE2\x80\x93\xC2\x81@6-24>"));
    CHECK(tokens_are_n("<a t=\"a\x00"
                       "b\">",
                       11,
                       "<a t=a\xEF\xBF\xBD"
                       "b@6-9>"));
    /* Raw text keeps its references as written. */
    CHECK(tokens_are("<title>&amp;</title>", "<title>[&amp;]</title>"));
}

static void test_charsets(void)
{
    /* Undeclared: UTF-8 when it is, else windows-1252. */
    CHECK(tokens_are("<a t=\"\xC3\xA9\" u=\"\xE9\x80\">",
                     "<a t=\xC3\xA9@6-8 u=\xC3\xA9\xE2\x82\xAC@13-15>"));
    CHECK(tokens_are("<meta charset=iso-8859-1><a t=\"\xE9\">",
                     "<meta charset=iso-8859-1@14-24><a t=\xC3\xA9@31-32>"));
    CHECK(tokens_are("<meta http-equiv=Content-Type "
                     "content='text/html; charset=\"koi8-r\"'><a t=\"\xC1\">",
                     "<meta http-equiv=Content-Type@17-29 content=text/html; "
                     "charset=\"koi8-r\"@39-66><a t=\xD0\xB0@74-75>"));
    CHECK(tokens_are("<meta charset=utf-8><a t=\"\xE9\">",
                     "<meta charset=utf-8@14-19><a t=\xE9@26-27>"));
    CHECK(tokens_are("\xEF\xBB\xBF<a t=x>", "<a t=x@8-9>"));
}

/* Every cut of a document into two pieces gives the same tokens. */
static void test_every_cut(void)
{
    static const char doc[] =
        "\xEF\xBB\xBF<!DOCTYPE html><html><head><!--> <!-- a --!> -->"
        "<title>x</title><style>@import 'a.css'; </sty </style >"
        "<script><!--<script></script></script><a href=\"&amp;&#x41;\" "
        "b='c' d=e f/><![CDATA[x]]><?pi?><textarea>&lt;</textarea >"
        "<A HREF=u>x</a></body></html>";
    char *whole = tokens(doc, sizeof(doc) - 1, 0);
    size_t cut;

    for (cut = 1; cut < sizeof(doc) - 1; cut++) {
        struct pf__html h;
        struct trace tr = {{NULL, 0, 0}};

        pf__html_init(&h, trace_tag, trace_text, &tr);
        pf__html_feed(&h, doc, cut);
        pf__html_feed(&h, doc + cut, sizeof(doc) - 1 - cut);
        pf__html_finish(&h);
        pf__html_free(&h);
        pf__buf_append(&tr.out, "", 0);
        if (strcmp(tr.out.data, whole) != 0)
            fprintf(stderr, "cut at %zu:\n%s\n%s\n", cut, tr.out.data, whole);
        CHECK_STR(tr.out.data, whole);
        pf__buf_free(&tr.out);
    }
    pf__free(whole);
}

/* A tag past PF__HTML_TAG_MAX loses its attributes, not the document. */
static void test_huge_tag(void)
{
    size_t n = PF__HTML_TAG_MAX + 100;
    char *doc = malloc(n + 64);
    static const char tail[] = "\" href=h><b c=d>";
    char *got;
    int ok;

    CHECK(doc != NULL);
    memcpy(doc, "<a x=\"", 6);
    memset(doc + 6, 'y', n);
    memcpy(doc + 6 + n, tail, sizeof(tail));
    got = tokens(doc, 6 + n + sizeof(tail) - 1, 65536);
    free(doc);
    ok = strcmp(got, "<a><b c=d@8388728-8388729>") == 0;
    if (!ok)
        fprintf(stderr, "got %s\n", got);
    pf__free(got);
    CHECK(ok);
}

/* ------------------------------------------------------------------ */
/* Against libxml2                                                     */
/* ------------------------------------------------------------------ */

/*
 * Broken markup where libxml2 and the HTML standard part ways: the links
 * the tokenizer finds (what a browser sees) and those libxml2 found.
 */
struct html5_case {
    const char *doc;
    const char *html5; /* the tokenizer's links: the standard's */
    const char *xml;   /* libxml2's, different */
};

static const struct html5_case html5_cases[] = {
    /* "<!-->" and "<!--->" are whole (empty) comments. */
    {"<!--><a href=a>", "page http://example.com/dir/a\n", ""},
    {"<!---><a href=a>", "page http://example.com/dir/a\n", ""},
    /* A CDATA section in HTML content is a bogus comment, to the '>'. */
    {"<![CDATA[<a href=a>]]><a href=b>", "page http://example.com/dir/b\n",
     "page http://example.com/dir/a\npage http://example.com/dir/b\n"},
    /* RCDATA and raw text elements hold no tags. */
    {"<title><a href=a></title><a href=b>", "page http://example.com/dir/b\n",
     "page http://example.com/dir/a\npage http://example.com/dir/b\n"},
    {"<textarea><img src=a></textarea>", "", "req http://example.com/dir/a\n"},
    {"<xmp><a href=a></xmp>", "", "page http://example.com/dir/a\n"},
    {"<noembed><a href=a></noembed>", "", "page http://example.com/dir/a\n"},
    /* Script data escapes: the first </script> is inside the script. */
    {"<script><!--<script></script><a href=a></script><a href=b>",
     "page http://example.com/dir/b\n",
     "page http://example.com/dir/a\npage http://example.com/dir/b\n"},
    /* An end tag needs white space, '/' or '>' after the name. */
    {"<style></stylex{}</style><a href=a>", "page http://example.com/dir/a\n",
     ""},
    /* '/' between attributes separates them. */
    {"<img/src=a>", "req http://example.com/dir/a\n", ""},
    /* Legacy references without ';' in values, except before '='. */
    {"<a href=\"?a&amp b\">", "page http://example.com/dir/x.html?a&%20b\n",
     "page http://example.com/dir/x.html?a&amp%20b\n"},
    /* Numeric references: HTML's replacements. */
    {"<a href=\"&#x80;\">", "page http://example.com/dir/%E2%82%AC\n",
     "page http://example.com/dir/%C2%80\n"},
    {"<a href=\"a&#0;b\">", "page http://example.com/dir/a%EF%BF%BDb\n",
     "page http://example.com/dir/a\n"},
    /*
     * UTF-8 in a page that declares no charset: libxml2 2.9 reads it as
     * Latin-1; browsers detect UTF-8.
     */
    {"<a href=\"caf\xC3\xA9\">", "page http://example.com/dir/caf%C3%A9\n",
     "page http://example.com/dir/caf%C3%83%C2%A9\n"},
    /*
     * A <base> after </head> goes into the head and is the document's
     * base: libxml2 had sent the head's links before it.
     */
    {"<head><link href=a></head><base href=\"http://o.example/\"><a href=b>",
     "page http://o.example/a\npage http://o.example/b\n",
     "page http://example.com/dir/a\npage http://o.example/b\n"},
    /*
     * A second <body> adds the attributes the first lacked; libxml2 drops
     * it.  (A background the first had stays.)
     */
    {"<body><body background=b>", "req http://example.com/dir/b\n", ""},
    /* A tag cut by the end of the document is dropped. */
    {"<a href=a", "", "page http://example.com/dir/a\n"},
};

/* Markup libxml2 and the tokenizer read alike, though not obviously. */
static void test_same_on_odd_markup(void)
{
    static const char *const docs[] = {
        "<head><link href=a><noscript>hi</noscript><base href=\"/b/\">",
        "<link href=a>&nbsp;<base href=\"/b/\">",
        "<body background=a><body background=b>",
        "<html><body><html background=x>",
        "<a href=x&amp;y&lt;z>",
        "<!-- x --!><a href=a>",
        "<a @x=1 href=a>",
        "<style>@import 'a';</style><head></head><base href=\"/o/\">"};
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(docs); i++) {
        char *tok = links_of(docs[i], strlen(docs[i]), BASE, 0);
        char *xml = links_of(docs[i], strlen(docs[i]), BASE, 1);

        if (strcmp(tok, xml) != 0)
            fprintf(stderr, "%s\ntokenizer:\n%slibxml2:\n%s", docs[i], tok,
                    xml);
        CHECK_STR(tok, xml);
        pf__free(tok);
        pf__free(xml);
    }
}

/* A UTF-16 page goes to libxml2: the tokenizer cannot read it. */
static void test_utf16(void)
{
    static const char doc[] = "\xFF\xFE<\0a\0 \0h\0r\0e\0f\0=\0x\0>\0";
    char *got = links_of(doc, sizeof(doc) - 1, BASE, 0);

    CHECK_STR(got, "page http://example.com/dir/x\n");
    pf__free(got);
}

static void test_html5_differences(void)
{
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(html5_cases); i++) {
        const struct html5_case *c = &html5_cases[i];
        char *tok = links_of(c->doc, strlen(c->doc), BASE, 0);
        char *xml = links_of(c->doc, strlen(c->doc), BASE, 1);

        if (strcmp(tok, c->html5) != 0 || strcmp(xml, c->xml) != 0)
            fprintf(stderr, "case %zu: %s\ntokenizer:\n%slibxml2:\n%s", i,
                    c->doc, tok, xml);
        CHECK(strcmp(tok, c->html5) == 0 && strcmp(xml, c->xml) == 0);
        pf__free(tok);
        pf__free(xml);
    }
}

/* Files compared, files that differed, under the tree being walked. */
static size_t walked, differed;

static char *read_file(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    struct stat sb;
    char *buf;

    if (fp == NULL)
        return NULL;
    if (fstat(fileno(fp), &sb) != 0 ||
        (buf = malloc((size_t)sb.st_size + 1)) == NULL) {
        fclose(fp);
        return NULL;
    }
    *n = fread(buf, 1, (size_t)sb.st_size, fp);
    fclose(fp);
    return buf;
}

static int compare_file(const char *path, const struct stat *sb, int type,
                        struct FTW *ftw)
{
    const char *dot = strrchr(path, '.');
    char base[4096];
    char *doc, *tok, *xml;
    size_t n;

    (void)sb;
    (void)ftw;
    if (type != FTW_F || dot == NULL ||
        (strcmp(dot, ".html") != 0 && strcmp(dot, ".htm") != 0))
        return 0;
    doc = read_file(path, &n);
    if (doc == NULL)
        return 0;
    snprintf(base, sizeof(base), "http://docs.example%s", path);
    tok = links_of(doc, n, base, 0);
    xml = links_of(doc, n, base, 1);
    walked++;
    if (tok == NULL || xml == NULL || strcmp(tok, xml) != 0) {
        differed++;
        fprintf(stderr, "differ: %s\n--- tokenizer:\n%s--- libxml2:\n%s", path,
                tok != NULL ? tok : "(error)\n",
                xml != NULL ? xml : "(error)\n");
    }
    pf__free(tok);
    pf__free(xml);
    free(doc);
    return 0;
}

/* Every page under dir: the same links both ways.  Files compared. */
static size_t compare_tree(const char *dir)
{
    walked = differed = 0;
    if (nftw(dir, compare_file, 16, FTW_PHYS) != 0)
        return 0;
    return differed == 0 ? walked : 0;
}

static void test_same_links_fixtures(void)
{
    CHECK(compare_tree(PF_SOURCE_DIR "/fixtures/html") >= 10);
    CHECK(compare_tree(PF_SOURCE_DIR "/fixtures/crawl") >= 250);
    CHECK(compare_tree(PF_SOURCE_DIR "/fixtures/site") >= 10);
}

static void test_same_links_manuals(void)
{
    static const char *const dirs[] = {"/usr/share/doc/postgresql-doc-15/html",
                                       "/usr/share/doc/python3.11/html"};
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(dirs); i++) {
        struct stat sb;

        if (stat(dirs[i], &sb) != 0) {
            printf("skipped %s: not installed (tests/deps.sh installs it)\n",
                   dirs[i]);
            continue;
        }
        CHECK(compare_tree(dirs[i]) >= 100);
    }
}

TEST_MAIN(TEST(test_tags_and_offsets), TEST(test_comments), TEST(test_raw_text),
          TEST(test_script_data), TEST(test_char_refs), TEST(test_charsets),
          TEST(test_every_cut), TEST(test_huge_tag),
          TEST(test_html5_differences), TEST(test_same_on_odd_markup),
          TEST(test_utf16), TEST(test_same_links_fixtures),
          TEST(test_same_links_manuals))
