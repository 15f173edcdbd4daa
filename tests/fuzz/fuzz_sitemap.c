/*
 * fuzz_sitemap.c -- libFuzzer target for the sitemap reader.  The input
 * is written to a memory file and read as a sitemap (gzip or not: the
 * reader decides), against a fixed base URL.  Beyond "no crash, no leak,
 * no undefined behaviour, no network, no file read but the input" it
 * checks what the crawler relies on:
 *
 *   - reading never fails but with PF_ENOMEM (and never does here);
 *   - at most PF__SITEMAP_MAX_URLS URLs come out, each an http(s) URL,
 *     each once;
 *   - too_many only with the list full.
 *
 * Seeds: fixtures/fuzz/sitemap/.  A broken invariant aborts, which
 * libFuzzer reports with the input that broke it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sitemap.h"
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pf__links links;
    struct pf__sitemap info;
    int fd = memfd_create("sitemap", MFD_CLOEXEC);
    size_t i, j;
    int rc;

    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    pf__links_init(&links);
    rc =
        pf__sitemap_read_fd(fd, "http://a.test/dir/sitemap.xml", &links, &info);
    close(fd);
    require(rc == 0, "read failed", NULL);
    require(links.n <= PF__SITEMAP_MAX_URLS, "too many URLs", NULL);
    require(!info.too_many || links.n <= PF__SITEMAP_MAX_URLS, "too_many",
            NULL);
    for (i = 0; i < links.n; i++) {
        const char *u = pf__links_url(&links, i);

        require(strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0,
                "not an http(s) URL", u);
        for (j = 0; j < i && links.n < 64; j++)
            require(strcmp(u, pf__links_url(&links, j)) != 0, "twice", u);
    }
    pf__links_free(&links);
    return 0;
}
