/*
 * gevent_images.c -- download every image of a web page, one coroutine per
 * image: the classic gevent example, written against pfetch.h.
 *
 *     gevent_images PAGE_URL [OUTDIR]
 *
 * prints "NAME SIZE" for each image saved to OUTDIR (default "."), in the
 * order they complete.  The Python it mirrors (tests/examples/py/):
 *
 *     from gevent import monkey; monkey.patch_all()
 *     page = gevent.spawn(urlopen_read, PAGE); page.join()
 *     jobs = [gevent.spawn(download, urljoin(PAGE, src))
 *             for src in img_srcs(page.value)]
 *     gevent.joinall(jobs)
 *
 * pf_fetch() plays urlopen() under monkey-patching: it reads like a
 * blocking call, but the coroutine yields to the others while it waits.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <stdlib.h>
#include <string.h>

#include "pfetch.h"

struct image {
    char *url;       /* absolute, from curl_url_get() */
    char path[4096]; /* OUTDIR/NAME */
    int ok;
};

static pf_sched *sched; /* one scheduler: the "hub" of gevent */
static CURL *page_easy;
static char *page; /* the page's body */
static size_t page_len;

/* Coroutine: fetch the page into memory.  Other coroutines could run. */
static void get_page(void *url)
{
    FILE *mem = open_memstream(&page, &page_len); /* a growing buffer */
    CURLcode rc = CURLE_WRITE_ERROR;

    page_easy = curl_easy_init();
    curl_easy_setopt(page_easy, CURLOPT_URL, (const char *)url);
    curl_easy_setopt(page_easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(page_easy, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(page_easy, CURLOPT_WRITEDATA, mem); /* fwrite()s */
    if (mem != NULL && pf_fetch(sched, page_easy, &rc) != 0)
        rc = CURLE_ABORTED_BY_CALLBACK;
    if (mem != NULL)
        fclose(mem); /* sets page and page_len */
    if (rc != CURLE_OK)
        page_len = 0; /* main() reports it */
}

/* Coroutine: one image, streamed straight to its file. */
static void download(void *arg)
{
    struct image *im = arg;
    CURL *easy = curl_easy_init();
    FILE *fp = fopen(im->path, "wb");
    curl_off_t size = 0;
    CURLcode rc = CURLE_WRITE_ERROR;

    if (easy != NULL && fp != NULL) {
        curl_easy_setopt(easy, CURLOPT_URL, im->url);
        curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, fp); /* fwrite()s it */
        if (pf_fetch(sched, easy, &rc) != 0)
            rc = CURLE_ABORTED_BY_CALLBACK;
        curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
    }
    if (fp != NULL && fclose(fp) != 0 && rc == CURLE_OK)
        rc = CURLE_WRITE_ERROR;
    im->ok = rc == CURLE_OK;
    if (im->ok)
        printf("%s %ld\n", strrchr(im->path, '/') + 1, (long)size);
    else
        fprintf(stderr, "%s: %s\n", im->url, curl_easy_strerror(rc));
    curl_easy_cleanup(easy);
}

/* Resolve src against the page's URL; the file is named after the last
 * segment of its path.  Returns 0 when there is nothing usable. */
static int image_init(struct image *im, const char *base, const char *src,
                      const char *dir)
{
    CURLU *u = curl_url(); /* NULL makes every call below fail */
    char *path = NULL;
    int ok = !curl_url_set(u, CURLUPART_URL, base, 0) &&
             !curl_url_set(u, CURLUPART_URL, src, 0) && /* relative to base */
             !curl_url_get(u, CURLUPART_URL, &im->url, 0) &&
             !curl_url_get(u, CURLUPART_PATH, &path, 0) &&
             strrchr(path, '/')[1] != '\0' &&
             snprintf(im->path, sizeof(im->path), "%s/%s", dir,
                      strrchr(path, '/') + 1) < (int)sizeof(im->path);

    curl_free(path);
    curl_url_cleanup(u);
    return ok;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 2 ? argv[2] : ".";
    char *base = NULL;
    struct image *images = NULL;
    pf_co *co, **jobs = NULL;
    size_t n = 0, njobs = 0, i, failed = 0;
    xmlXPathObjectPtr srcs = NULL;
    htmlDocPtr doc;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PAGE_URL [OUTDIR]\n", argv[0]);
        return 2;
    }
    if (pf_global_init() != 0 || pf_sched_new(&sched, 0) != 0)
        return 1;

    /* 1. The page, in a coroutine of its own, joined like a greenlet. */
    pf_spawn(sched, get_page, argv[1], &co);
    pf_join(sched, co);
    if (page_len == 0) {
        fprintf(stderr, "%s: could not fetch the page\n", argv[1]);
        return 1;
    }
    curl_easy_getinfo(page_easy, CURLINFO_EFFECTIVE_URL, &base);

    /* 2. Its <img src>s, with XPath: parsing stays on the main stack
     *    (libxml2 recursion has no place on a small coroutine stack). */
    doc = htmlReadMemory(page, (int)page_len, base, NULL,
                         HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                             HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (doc != NULL) {
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);

        srcs = xmlXPathEvalExpression(BAD_CAST "//img/@src", ctx);
        xmlXPathFreeContext(ctx);
    }
    if (srcs != NULL && srcs->nodesetval != NULL)
        n = (size_t)srcs->nodesetval->nodeNr;
    images = calloc(n + 1, sizeof(*images));
    jobs = calloc(n + 1, sizeof(*jobs));
    if (images == NULL || jobs == NULL)
        return 1;

    /* 3. One coroutine per image, all in flight together; then join. */
    for (i = 0; i < n; i++) {
        xmlChar *src = xmlNodeGetContent(srcs->nodesetval->nodeTab[i]);

        if (src != NULL && image_init(&images[i], base, (char *)src, dir) &&
            pf_spawn(sched, download, &images[i], &jobs[njobs]) == 0)
            njobs++;
        else
            fprintf(stderr, "skipped <img src=\"%s\">\n",
                    src != NULL ? (char *)src : "");
        xmlFree(src);
    }
    pf_joinall(sched, jobs, njobs);
    for (i = 0; i < n; i++)
        failed += !images[i].ok;
    printf("%zu images, %zu failed\n", n, failed);

    xmlXPathFreeObject(srcs);
    xmlFreeDoc(doc);
    for (i = 0; i < n; i++)
        curl_free(images[i].url);
    free(images);
    free(jobs);
    free(page);
    curl_easy_cleanup(page_easy);
    pf_sched_free(sched);
    pf_global_cleanup();
    return failed == 0 && n > 0 ? 0 : 1;
}
