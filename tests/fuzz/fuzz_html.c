/*
 * fuzz_html.c -- libFuzzer target for HTML link extraction and reference
 * resolution.  The input is parsed as an HTML page at a fixed URL, and
 * each of its lines is also resolved as a reference against that URL
 * twice: with the resolver's shortcut and with every URL through curl.
 * Beyond "no crash, no leak, no undefined behaviour" it checks:
 *
 *   - every link is an http(s) URL with no fragment, no white space, no
 *     control character, that pf__url_normalize() gives back unchanged;
 *   - each URL comes out once;
 *   - the shortcut and curl agree, to the byte, on every reference.
 *
 * Seeds: fixtures/fuzz/html/.  A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "url.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char base_url[] = "http://fuzz.example:8080/dir/sub/page.html?q=1";

static void require(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

static void check_url(const char *url)
{
    char *again = NULL;
    const char *p;

    require(strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0,
            "link is http or https");
    require(strchr(url, '#') == NULL, "link has no fragment");
    for (p = url; *p != '\0'; p++)
        require((unsigned char)*p > 0x20 && (unsigned char)*p != 0x7f,
                "link has no white space or control character");
    require(pf__url_normalize(url, &again, NULL) == 0, "a link normalises");
    if (strcmp(again, url) != 0)
        fprintf(stderr, "%s\n%s\n", url, again);
    require(strcmp(again, url) == 0, "a link is normalised");
    pf__free(again);
}

static void check_links(const struct pf__links *l)
{
    size_t i, j;

    for (i = 0; i < l->n; i++) {
        check_url(pf__links_url(l, i));
        require(l->kind[i] == PF__LINK_PAGE || l->kind[i] == PF__LINK_REQ,
                "a kind is page or req");
    }
    for (i = 0; i < l->n && l->n < 200; i++) {
        for (j = i + 1; j < l->n; j++)
            require(strcmp(pf__links_url(l, i), pf__links_url(l, j)) != 0,
                    "each URL once");
    }
}

/* Each line resolved with the shortcut and through curl: the same. */
static void resolve_lines(const uint8_t *data, size_t size)
{
    struct pf__urlres fast, slow;
    struct pf__buf a = {NULL, 0, 0}, b = {NULL, 0, 0};
    size_t start = 0;

    require(pf__urlres_init(&fast) == 0, "init");
    require(pf__urlres_init(&slow) == 0, "init");
    slow.curl_only = 1;
    require(pf__urlres_set_base(&fast, base_url) == 0, "base");
    require(pf__urlres_set_base(&slow, base_url) == 0, "base");
    while (start < size) {
        const uint8_t *nl = memchr(data + start, '\n', size - start);
        size_t end = nl != NULL ? (size_t)(nl - data) : size;
        const char *ref = (const char *)data + start;
        int rf = pf__url_resolve(&fast, ref, end - start, &a);
        int rs = pf__url_resolve(&slow, ref, end - start, &b);

        require(rf == 0 || rf == PF_EURL, "resolve: 0 or PF_EURL");
        if (rf != rs || (rf == 0 && strcmp(a.data, b.data) != 0))
            fprintf(stderr, "%.*s\nshortcut %d %s\ncurl     %d %s\n",
                    (int)(end - start), ref, rf, rf == 0 ? a.data : "", rs,
                    rs == 0 ? b.data : "");
        require(rf == rs, "shortcut and curl agree on success");
        if (rf == 0) {
            require(strcmp(a.data, b.data) == 0, "shortcut and curl agree");
            check_url(a.data);
        }
        start = end + 1;
    }
    pf__buf_free(&a);
    pf__buf_free(&b);
    pf__urlres_free(&fast);
    pf__urlres_free(&slow);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    return pf_global_init();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pf__links l;
    int rc;

    pf__links_init(&l);
    rc = pf__parse_mem((const char *)data, size, PF__DOC_HTML, base_url, &l);
    require(rc == 0, "a parse in memory succeeds");
    check_links(&l);
    pf__links_free(&l);

    pf__links_init(&l);
    rc = pf__parse_mem((const char *)data, size, PF__DOC_UNKNOWN, base_url, &l);
    require(rc == 0, "a sniffed parse succeeds");
    check_links(&l);
    pf__links_free(&l);

    resolve_lines(data, size);
    return 0;
}
