/*
 * fuzz_robots.c -- libFuzzer target for the robots.txt parser and
 * matcher.  The input is parsed whole as a robots.txt, for "pfetch" and
 * for a product that names no group; then a few fixed paths and the
 * input's first lines (each made to start with '/') are judged.  Beyond
 * "no crash, no leak, no undefined behaviour, no time-out on many '*'"
 * it checks what the crawler relies on:
 *
 *   - parsing never fails but with PF_ENOMEM (and never does here);
 *   - a verdict is 0 or 1, and the same when asked twice;
 *   - "/robots.txt" is always allowed;
 *   - a path without '%' and its spelling with every unreserved octet
 *     percent-encoded get the same verdict (both sides are compared
 *     normalised).
 *
 * Seeds: fixtures/fuzz/robots/.  A broken invariant aborts, which
 * libFuzzer reports with the input that broke it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robots.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Paths longer than this are cut: the matcher's cost is not the point. */
#define PATH_MAX_FUZZ 512

static void require(int cond, const char *what, const char *s)
{
    if (!cond) {
        fprintf(stderr, "invariant broken: %s: \"%s\"\n", what,
                s != NULL ? s : "(null)");
        abort();
    }
}

static int is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* path with every unreserved octet but the leading '/' as %XX. */
static char *encode_unreserved(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path), i, j = 0;
    char *out = malloc(3 * n + 1);

    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];

        if (i > 0 && is_unreserved(c)) {
            out[j++] = '%';
            out[j++] = hex[c >> 4];
            out[j++] = hex[c & 15];
        } else {
            out[j++] = (char)c;
        }
    }
    out[j] = '\0';
    return out;
}

static void judge(const struct pf__robots *r, const char *path)
{
    int a = pf__robots_allowed(r, path);
    int b = pf__robots_allowed(r, path);
    char *enc;

    require(a == 0 || a == 1, "verdict is 0 or 1", path);
    require(a == b, "same verdict twice", path);
    if (strchr(path, '%') != NULL)
        return; /* encoding "%41" would spell another path */
    enc = encode_unreserved(path);
    if (enc != NULL) {
        require(pf__robots_allowed(r, enc) == a,
                "encoded unreserved octets judged alike", path);
        free(enc);
    }
}

static void judge_all(const struct pf__robots *r, const uint8_t *data,
                      size_t size)
{
    static const char *fixed[] = {"/",           "/a",           "/a/b?c=d",
                                  "/index.html", "/x.gif",       "/~u/%7E",
                                  "/*$",         "/\xE3\x83\x84"};
    char path[PATH_MAX_FUZZ + 2];
    size_t i, start = 0;
    int lines = 0;

    for (i = 0; i < PF__ARRAY_LEN(fixed); i++)
        judge(r, fixed[i]);
    require(pf__robots_allowed(r, "/robots.txt") == 1, "/robots.txt is allowed",
            "/robots.txt");
    for (i = 0; i <= size && lines < 4; i++) {
        size_t n;

        if (i < size && data[i] != '\n')
            continue;
        n = i - start;
        if (n > PATH_MAX_FUZZ)
            n = PATH_MAX_FUZZ;
        path[0] = '/';
        memcpy(path + 1, data + start, n);
        path[n + 1] = '\0'; /* a NUL inside just ends the path early */
        judge(r, path);
        start = i + 1;
        lines++;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *products[] = {"pfetch", "nobody-named-this"};
    size_t k;

    for (k = 0; k < PF__ARRAY_LEN(products); k++) {
        struct pf__robots *r = NULL;
        int rc = pf__robots_parse((const char *)data, size, products[k], &r);

        require(rc == 0, "parse succeeds", products[k]);
        judge_all(r, data, size);
        pf__robots_free(r);
    }
    return 0;
}
