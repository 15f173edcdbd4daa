/*
 * fuzz_store.c -- libFuzzer target for the pure naming functions (names.c):
 * URL to tree path, URL (and Content-Disposition) to flat name, the
 * Content-Disposition parser and the name sanitiser.  The input is given
 * whole to each of them, and also split at its first newline into a URL
 * and a header value.  Beyond "no crash, no leak, no undefined behaviour"
 * it checks what keeps every file inside the output directory:
 *
 *   - a path is not empty, does not start or end with '/', and none of
 *     its components is empty, ".", "..", longer than 255 bytes, or holds
 *     a control character or a backslash;
 *   - a flat name and a Content-Disposition name are one component;
 *   - sanitising a sanitised name gives it back unchanged;
 *   - the mappers fail only with PF_EURL (or PF_ENOMEM), the parser only
 *     with PF_ENOMEM.
 *
 * Seeds: fixtures/fuzz/store/.  A broken invariant aborts, which
 * libFuzzer reports with the input that broke it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(int cond, const char *what, const char *s)
{
    if (!cond) {
        fprintf(stderr, "invariant broken: %s: \"%s\"\n", what,
                s != NULL ? s : "(null)");
        abort();
    }
}

/* The invariants of a relative path of at most max components (0: any). */
static void check_path(const char *rel, int max)
{
    const char *p = rel;
    int n = 0;

    require(rel != NULL && rel[0] != '\0', "path is not empty", rel);
    require(rel[0] != '/', "path is relative", rel);
    for (;;) {
        const char *s = strchr(p, '/');
        size_t len = s != NULL ? (size_t)(s - p) : strlen(p);
        size_t i;
        char *again = NULL;

        require(len > 0, "no empty component", rel);
        require(len <= 255, "component <= 255 bytes", rel);
        require(!(len == 1 && p[0] == '.'), "no component \".\"", rel);
        require(!(len == 2 && p[0] == '.' && p[1] == '.'),
                "no component \"..\"", rel);
        for (i = 0; i < len; i++)
            require((unsigned char)p[i] >= 0x20 && p[i] != 0x7f && p[i] != '\\',
                    "no control character or backslash", rel);
        require(pf__name_sanitize(p, len, &again) == 0, "a component sanitises",
                rel);
        require(strlen(again) == len && memcmp(again, p, len) == 0,
                "sanitising is idempotent", rel);
        pf__free(again);
        n++;
        if (s == NULL)
            break;
        p = s + 1;
    }
    require(max == 0 || n <= max, "one component", rel);
}

static void map_all(const char *url, const char *cd)
{
    char *out = NULL;
    int rc;

    rc = pf__name_tree_path(url, &out);
    require(rc == 0 || rc == PF_EURL || rc == PF_ENOMEM, "tree rc", url);
    if (rc == 0) {
        check_path(out, 0);
        require(strchr(out, '/') != NULL, "tree path has a host", out);
        pf__free(out);
    }
    out = NULL;
    rc = pf__name_flat(url, cd, &out);
    require(rc == 0 || rc == PF_EURL || rc == PF_ENOMEM, "flat rc", url);
    if (rc == 0) {
        check_path(out, 1);
        pf__free(out);
    }
    out = NULL;
    /* Any header value with a URL that always parses. */
    rc = pf__name_flat("http://h/x", cd != NULL ? cd : url, &out);
    require(rc == 0 || rc == PF_ENOMEM, "flat rc, good URL", url);
    if (rc == 0) {
        check_path(out, 1);
        pf__free(out);
    }
    out = NULL;
    rc = pf__name_parse_content_disposition(cd != NULL ? cd : url, &out);
    require(rc == 0 || rc == PF_ENOMEM, "parse rc", url);
    if (out != NULL) {
        check_path(out, 1);
        pf__free(out);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = pf__malloc(size + 1);
    char *nl, *out = NULL;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';

    /* The raw bytes, NULs included, through the sanitiser. */
    if (pf__name_sanitize((const char *)data, size, &out) == 0) {
        check_path(out, 1);
        pf__free(out);
    }
    /* The whole input as a URL and as a header value. */
    map_all(s, NULL);
    /* "URL\nContent-Disposition". */
    nl = strchr(s, '\n');
    if (nl != NULL) {
        *nl = '\0';
        map_all(s, nl + 1);
    }
    pf__free(s);
    return 0;
}
