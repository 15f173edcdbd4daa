/*
 * crawl_pages.c -- a small crawler written against libpfetch's public API
 * only, the way a program would use on_page as a Scrapy callback: it sees
 * every parsed page on a parser thread, prints it, and prunes the links it
 * does not want followed.  The integration tests run it.
 *
 * Usage: crawl_pages SEED OUTDIR DEPTH [SKIP]
 *
 * Crawls from SEED (-r -l DEPTH) into OUTDIR, without following links
 * whose URL contains SKIP.  Prints, on standard output, one line per
 * parsed page, "page DEPTH OFFLOOP NLINKS URL" (OFFLOOP is 1 when the
 * callback ran on another thread than the one running the crawl), and one
 * per result, "done STATUS URL".  Exits 0 when the run completed.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfetch.h"

struct ctx {
    pthread_t loop;   /* the thread running pf_crawler_run() */
    const char *skip; /* links holding this are not followed */
    pthread_mutex_t mu;
};

/* Parser thread: many may run at once, hence the lock around stdout. */
static void on_page(pf_crawler *c, struct pf_page *pg, void *userdata)
{
    struct ctx *x = userdata;
    size_t i;

    (void)c;
    if (x->skip != NULL)
        for (i = 0; i < pg->nlinks; i++)
            if (strstr(pg->links[i], x->skip) != NULL)
                pg->follow[i] = 0;
    pthread_mutex_lock(&x->mu);
    printf("page %d %d %zu %s\n", pg->depth,
           !pthread_equal(pthread_self(), x->loop), pg->nlinks, pg->url);
    pthread_mutex_unlock(&x->mu);
}

/* Loop thread. */
static void on_done(pf_crawler *c, const struct pf_result *r, void *userdata)
{
    struct ctx *x = userdata;

    (void)c;
    pthread_mutex_lock(&x->mu);
    printf("done %ld %s %s %s\n", r->status, r->url,
           r->sha256 != NULL ? r->sha256 : "-",
           r->http_version != NULL ? r->http_version : "-");
    pthread_mutex_unlock(&x->mu);
}

int main(int argc, char **argv)
{
    struct pf_config cfg;
    struct ctx x;
    pf_crawler *c = NULL;
    int rc;

    if (argc < 4) {
        fprintf(stderr, "usage: crawl_pages SEED OUTDIR DEPTH [SKIP]\n");
        return 2;
    }
    if (pf_global_init() != 0)
        return 3;
    x.loop = pthread_self();
    x.skip = argc > 4 ? argv[4] : NULL;
    pthread_mutex_init(&x.mu, NULL);
    pf_config_init(&cfg);
    cfg.out_dir = argv[2];
    cfg.recursive = 1;
    cfg.depth = atoi(argv[3]);
    cfg.parsers = 2;
    cfg.on_page = on_page;
    cfg.on_done = on_done;
    cfg.userdata = &x;
    rc = pf_crawler_new(&c, &cfg);
    if (rc == 0)
        rc = pf_crawler_add_url(c, argv[1]);
    if (rc == 0)
        rc = pf_crawler_run(c);
    pf_crawler_free(c);
    pf_global_cleanup();
    pthread_mutex_destroy(&x.mu);
    if (rc != 0)
        fprintf(stderr, "crawl_pages: %s\n", pf_strerror(rc));
    return rc == 0 ? 0 : 1;
}
