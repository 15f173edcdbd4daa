/*
 * futures_titles.c -- download pages on a thread pool and print their
 * <title>s: concurrent.futures' submit + add_done_callback, then map.
 *
 *     futures_titles URL...
 *
 * prints "done URL TITLE" as each download completes, then
 * "map URL TITLE" for every URL in the order given.  The Python it
 * mirrors (tests/examples/py/futures_titles.py):
 *
 *     def get(url): return requests.get(url)
 *     def parse(fut): print("done", fut.result().url, title(fut.result()))
 *     with ThreadPoolExecutor(8) as ex:
 *         for url in urls: ex.submit(get, url).add_done_callback(parse)
 *     with ThreadPoolExecutor(8) as ex:
 *         for url, r in zip(urls, ex.map(get, urls)): print("map", ...)
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <libxml/HTMLparser.h>
#include <libxml/xpath.h>
#include <stdlib.h>

#include "pfetch.h"

#define WORKERS 8
#define MAX_URLS 4096

/* What get() hands back: the future keeps this pointer for us. */
struct page {
    const char *url;
    char *body; /* the whole response body */
    size_t len;
    CURLcode rc;
};

/* The task, on a worker thread: a plain blocking download, exactly what
 * requests.get() does.  Each call has its own easy handle. */
static int get(void *url, void **result)
{
    struct page *pg = calloc(1, sizeof(*pg));
    CURL *easy = curl_easy_init();
    FILE *mem;

    if (pg == NULL || easy == NULL) {
        free(pg);
        curl_easy_cleanup(easy);
        return PF_ENOMEM;
    }
    pg->url = url;
    mem = open_memstream(&pg->body, &pg->len);
    pg->rc = CURLE_WRITE_ERROR;
    if (mem != NULL) {
        curl_easy_setopt(easy, CURLOPT_URL, pg->url);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L); /* threads: no alarm */
        curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, mem);
        pg->rc = curl_easy_perform(easy);
        fclose(mem);
    }
    curl_easy_cleanup(easy);
    *result = pg; /* kept by the future, error or not */
    return pg->rc == CURLE_OK ? 0 : PF_ECURL; /* an "exception" */
}

/* The page's <title>, whitespace normalised, into buf. */
static const char *title_of(const struct page *pg, char *buf, size_t size)
{
    htmlDocPtr doc =
        htmlReadMemory(pg->body, (int)pg->len, pg->url, NULL,
                       HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                           HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    xmlXPathContextPtr ctx = doc != NULL ? xmlXPathNewContext(doc) : NULL;
    xmlXPathObjectPtr t = ctx != NULL
                              ? xmlXPathEvalExpression(
                                    BAD_CAST "normalize-space(//title[1])", ctx)
                              : NULL;

    snprintf(buf, size, "%s",
             t != NULL && t->stringval != NULL ? (char *)t->stringval : "");
    xmlXPathFreeObject(t);
    xmlXPathFreeContext(ctx);
    xmlFreeDoc(doc);
    return buf;
}

/* The done-callback, on the worker that ran get(): parse and print. */
static void parse(pf_future *f, void *userdata)
{
    struct page *pg = NULL;
    char title[512];
    int rc = pf_future_result(f, 0, (void **)&pg); /* done: no wait */

    (void)userdata;
    if (rc == 0)
        printf("done %s %s\n", pg->url, title_of(pg, title, sizeof(title)));
    else if (pg != NULL)
        printf("failed %s %s\n", pg->url, curl_easy_strerror(pg->rc));
    fflush(stdout); /* one whole line at a time from each thread */
}

static void page_free(struct page *pg)
{
    if (pg != NULL)
        free(pg->body);
    free(pg);
}

int main(int argc, char **argv)
{
    static pf_future *futs[MAX_URLS];
    static void *args[MAX_URLS], *pages[MAX_URLS];
    static int errs[MAX_URLS];
    size_t n = (size_t)argc - 1, i;
    pf_executor *ex;
    char title[512];
    int failed = 0;

    if (argc < 2 || n > MAX_URLS) {
        fprintf(stderr, "usage: %s URL... (at most %d)\n", argv[0], MAX_URLS);
        return 2;
    }
    if (pf_global_init() != 0)
        return 1;

    /* 1. submit + add_done_callback: titles in completion order. */
    if (pf_executor_new(&ex, WORKERS, 0) != 0)
        return 1;
    for (i = 0; i < n; i++) {
        if (pf_submit(ex, get, argv[i + 1], 0, &futs[i]) != 0 ||
            pf_future_add_done_callback(futs[i], parse, NULL) != 0)
            return 1;
    }
    /* Leaving Python's "with" block: wait for every task and callback. */
    pf_executor_shutdown(ex, 1, 0);
    for (i = 0; i < n; i++) {
        struct page *pg = NULL;

        failed += pf_future_result(futs[i], 0, (void **)&pg) != 0;
        page_free(pg);
        pf_future_release(futs[i]);
    }
    pf_executor_free(ex);

    /* 2. map: the same downloads, results in input order. */
    if (pf_executor_new(&ex, WORKERS, 0) != 0)
        return 1;
    for (i = 0; i < n; i++)
        args[i] = argv[i + 1];
    pf_executor_map(ex, get, args, n, pages, errs, -1);
    for (i = 0; i < n; i++) {
        if (errs[i] == 0)
            printf("map %s %s\n", argv[i + 1],
                   title_of(pages[i], title, sizeof(title)));
        else
            printf("map %s failed: %s\n", argv[i + 1], pf_strerror(errs[i]));
        failed += errs[i] != 0;
        page_free(pages[i]); /* NULL when the task never ran */
    }
    pf_executor_free(ex);
    pf_global_cleanup();
    return failed == 0 ? 0 : 1;
}
