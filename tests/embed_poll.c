/*
 * embed_poll.c -- a job driven from the program's own poll() loop
 * (pf_crawler_fd, pf_crawler_timeout_ms, pf_crawler_step) instead of
 * pf_crawler_run(), with URLs added from a parser thread while it runs.
 * Written against pfetch.h alone; the integration tests run it.
 *
 * Usage: embed_poll SEED OUTDIR [URL...]
 *
 * Crawls SEED one link deep into OUTDIR.  When the seed page has been
 * parsed, its on_page callback (on a parser thread) adds each URL of the
 * command line as a new seed with pf_crawler_add_url(), and the link
 * "added-by-callback.html" as if the page had held it, with
 * pf_crawler_add_link().  Prints "done STATUS DEPTH URL" per result and
 * "steps N" at the end; exits with 0 when the run ended normally.
 */
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "pfetch.h"

struct ctx {
    char **extra; /* URLs to add from the callback */
    int nextra;
};

/* Parser thread: adding URLs from here is allowed (any thread). */
static void on_page(pf_crawler *c, struct pf_page *pg, void *userdata)
{
    struct ctx *x = userdata;
    int i;

    if (pg->depth != 0)
        return;
    for (i = 0; i < x->nextra; i++)
        if (pf_crawler_add_url(c, x->extra[i]) != 0)
            fprintf(stderr, "embed_poll: cannot add %s\n", x->extra[i]);
    if (pf_crawler_add_link(c, pg, "added-by-callback.html") != 0)
        fprintf(stderr, "embed_poll: cannot add a link\n");
}

/* Loop thread: the one calling pf_crawler_step(). */
static void on_done(pf_crawler *c, const struct pf_result *r, void *userdata)
{
    (void)c;
    (void)userdata;
    printf("done %ld %d %s\n", r->status, r->depth, r->url);
}

int main(int argc, char **argv)
{
    struct pf_config cfg;
    struct ctx x;
    pf_crawler *c = NULL;
    long steps = 0;
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: embed_poll SEED OUTDIR [URL...]\n");
        return 2;
    }
    if (pf_global_init() != 0)
        return 3;
    x.extra = argv + 3;
    x.nextra = argc - 3;
    pf_config_init(&cfg);
    cfg.out_dir = argv[2];
    cfg.recursive = 1;
    cfg.depth = 1;
    cfg.on_page = on_page;
    cfg.on_done = on_done;
    cfg.userdata = &x;
    rc = pf_crawler_new(&c, &cfg);
    if (rc == 0)
        rc = pf_crawler_add_url(c, argv[1]);
    if (rc == 0) {
        /*
         * The program's own loop.  A real one would watch its own
         * descriptors too; the job needs just one of them, and a timeout.
         */
        struct pollfd p;

        p.fd = pf_crawler_fd(c);
        p.events = POLLIN;
        while ((rc = pf_crawler_step(c)) == 1) {
            steps++;
            if (poll(&p, 1, (int)pf_crawler_timeout_ms(c)) < 0) {
                perror("poll");
                break;
            }
        }
    }
    printf("steps %ld\n", steps);
    pf_crawler_free(c);
    pf_global_cleanup();
    if (rc != 0)
        fprintf(stderr, "embed_poll: %s\n", pf_strerror(rc));
    return rc == 0 ? 0 : 1;
}
