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
 *   - bad lines come with the reader's name, in increasing line order,
 *     and no line is both good and bad.
 *
 * Seeds: fixtures/fuzz/urllist/.  A broken invariant aborts, which
 * libFuzzer reports with the input that broke it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "urllist.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char list_name[] = "fuzz.txt";

struct track {
    long last; /* the last line number seen, good or bad */
};

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
    char *hp = NULL;
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
    rc = pf__url_hostport(url, &hp);
    require(rc == 0, "a normalised URL has a host:port");
    require(hp[0] != '\0' && strrchr(hp, ':') != NULL, "host:port shape");
    pf__free(hp);
}

static void on_bad(const char *name, long lineno, const char *why,
                   void *userdata)
{
    struct track *t = userdata;

    require(strcmp(name, list_name) == 0, "bad line carries the name");
    require(lineno > t->last, "line numbers increase");
    require(why != NULL && why[0] != '\0', "a bad line has a reason");
    t->last = lineno;
}

static void read_as_list(const uint8_t *data, size_t size)
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
        return;
    if (size > 0)
        memcpy(copy, data, size);
    fp = fmemopen(copy, size, "r");
    if (fp == NULL) {
        free(copy);
        return;
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
    }
    require(rc == 0, "an in-memory list reads to its end");
    pf__urllist_close(r);
    free(copy);
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
    read_as_list(data, size);
    normalize_lines(data, size);
    return 0;
}
