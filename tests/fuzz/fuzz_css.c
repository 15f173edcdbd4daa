/*
 * fuzz_css.c -- libFuzzer target for CSS link extraction.  The input is
 * parsed as a stylesheet at a fixed URL, and again as the content of a
 * <style> element and of a style="" attribute of an HTML page.  Beyond
 * "no crash, no leak, no undefined behaviour" it checks that every link
 * is a normalised http(s) URL without fragment, white space or control
 * character, that each comes out once and is a requisite, and that the
 * stylesheet and the <style> element give the same links (the scanner
 * reads the same bytes whichever way they come to it).  The scanner is
 * also driven directly: cut into pieces it must find the same references
 * as in one piece (see check_scanner() for a known exception), and once its
 * callback asks it to stop it calls it no more.
 *
 * Seeds: fixtures/fuzz/css/.  A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "css.h"
#include "parse.h"
#include "url.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char base_url[] = "https://fuzz.example/css/site.css";

static void require(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

static void check_links(const struct pf__links *l)
{
    size_t i, j;

    for (i = 0; i < l->n; i++) {
        const char *url = pf__links_url(l, i);
        char *again = NULL;
        const char *p;

        require(strncmp(url, "http://", 7) == 0 ||
                    strncmp(url, "https://", 8) == 0,
                "link is http or https");
        require(strchr(url, '#') == NULL, "link has no fragment");
        for (p = url; *p != '\0'; p++)
            require((unsigned char)*p > 0x20 && (unsigned char)*p != 0x7f,
                    "link has no white space or control character");
        require(pf__url_normalize(url, &again, NULL) == 0, "a link normalises");
        require(strcmp(again, url) == 0, "a link is normalised");
        pf__free(again);
        require(l->kind[i] == PF__LINK_REQ, "CSS links are requisites");
    }
    for (i = 0; i < l->n && l->n < 200; i++) {
        for (j = i + 1; j < l->n; j++)
            require(strcmp(pf__links_url(l, i), pf__links_url(l, j)) != 0,
                    "each URL once");
    }
}

/* 1 if a and b hold the same URLs in the same order. */
static int same_links(const struct pf__links *a, const struct pf__links *b)
{
    size_t i;

    if (a->n != b->n)
        return 0;
    for (i = 0; i < a->n; i++) {
        if (strcmp(pf__links_url(a, i), pf__links_url(b, i)) != 0)
            return 0;
    }
    return 1;
}

/* What the scanner emitted: each reference's length, then its bytes. */
struct refs {
    struct pf__buf text;
    size_t n;
    size_t stop_after; /* ask to stop after this many (0: never) */
};

static int on_ref(const char *ref, size_t n, int kind, void *userdata)
{
    struct refs *r = userdata;

    require(r->stop_after == 0 || r->n < r->stop_after,
            "no reference after a stop");
    require(kind == PF__LINK_REQ, "CSS references are requisites");
    require(n > 0 && n <= PF__URL_MAX, "a reference's length");
    require(pf__buf_append(&r->text, &n, sizeof(n)) == 0 &&
                pf__buf_append(&r->text, ref, n) == 0,
            "pf__buf_append");
    r->n++;
    return r->stop_after != 0 && r->n == r->stop_after;
}

/* Scan data in pieces of step bytes into r. */
static void scan(const uint8_t *data, size_t size, size_t step, struct refs *r)
{
    struct pf__css c;
    size_t i;

    pf__css_init(&c, on_ref, r);
    for (i = 0; i < size; i += step)
        pf__css_feed(&c, (const char *)data + i,
                     size - i < step ? size - i : step);
    pf__css_finish(&c);
    require(c.err == 0, "no allocation failure");
    pf__css_free(&c);
}

/* The scanner alone: whole, in pieces, and told to stop. */
static void check_scanner(const uint8_t *data, size_t size)
{
    struct refs whole = {{NULL, 0, 0}, 0, 0};
    struct refs cut = {{NULL, 0, 0}, 0, 0};
    struct refs one = {{NULL, 0, 0}, 0, 1};

    scan(data, size, size > 0 ? size : 1, &whole);
    scan(data, size, size > 0 ? 1 + data[0] % 16 : 1, &cut);
    require(whole.n == cut.n && whole.text.len == cut.text.len &&
                (whole.text.len == 0 ||
                 memcmp(whole.text.data, cut.text.data, whole.text.len) == 0),
            "pieces find what the whole finds");
    scan(data, size, size > 0 ? size : 1, &one);
    require(one.n == (whole.n > 0 ? 1 : 0), "a stop stops");
    pf__buf_free(&whole.text);
    pf__buf_free(&cut.text);
    pf__buf_free(&one.text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return pf_global_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char open_tag[] = "<html><body><style>";
    static const char close_tag[] = "</style></body></html>";
    struct pf__links sheet, page;
    char *doc;
    int plain = 1;
    size_t i;

    pf__links_init(&sheet);
    require(pf__parse_mem((const char *)data, size, PF__DOC_CSS, base_url,
                          &sheet) == 0,
            "a stylesheet parses");
    check_links(&sheet);

    /*
     * The same text in <style>: libxml2 hands the element's content over
     * as it is, unless it holds what ends the element early, bytes it
     * re-encodes or control characters, which it drops.
     */
    for (i = 0; i < size; i++) {
        if (data[i] == '<' || data[i] >= 0x7f ||
            (data[i] < 0x20 && data[i] != '\t' && data[i] != '\n'))
            plain = 0;
    }
    doc = malloc(sizeof(open_tag) + size + sizeof(close_tag));
    require(doc != NULL, "malloc");
    memcpy(doc, open_tag, sizeof(open_tag) - 1);
    memcpy(doc + sizeof(open_tag) - 1, data, size);
    memcpy(doc + sizeof(open_tag) - 1 + size, close_tag, sizeof(close_tag));
    pf__links_init(&page);
    require(pf__parse_mem(doc, strlen(open_tag) + size + strlen(close_tag),
                          PF__DOC_HTML, base_url, &page) == 0,
            "a page parses");
    check_links(&page);
    if (plain && !same_links(&sheet, &page)) {
        fprintf(stderr, "stylesheet %zu links, <style> %zu\n", sheet.n, page.n);
        require(0, "stylesheet and <style> agree");
    }
    pf__links_free(&page);
    free(doc);
    pf__links_free(&sheet);
    check_scanner(data, size);
    return 0;
}
