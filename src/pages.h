/*
 * pages.h -- saved pages on their way through the parser pool and back:
 * the backlog that keeps the loop from ever blocking on the pool, the
 * submit -> add_done_callback -> post-back chain, on_page on the parser
 * thread.  The story (crawler.c) decides which pages are parsed and what
 * their links become; this module only carries them.  Loop thread, but
 * the task and on_page, which run on parser threads.
 */
#ifndef PF_PAGES_H
#define PF_PAGES_H

#include "loop.h"
#include "parse.h"
#include "sitemap.h"

struct pf__pages;

/*
 * A page to parse.  The story fills the fields above the line and gets
 * the job back, once parsed (or cancelled by a stop), in its done
 * callback, on the loop thread; the parser thread writes only links,
 * follow and err.
 */
struct pf__page_job {
    void *item;      /* the story's */
    const char *url; /* the URL asked (the item's) */
    int depth;       /* the page's */
    enum pf__doc_type type;
    char *final_url;     /* owned: the base of its links */
    char *ctype;         /* owned */
    char *path;          /* owned: relative to the output directory */
    char *abspath;       /* owned: what the parser opens */
    char *sha256;        /* owned: the row's, or NULL */
    char *etag;          /* owned: the row's, or NULL */
    char *last_modified; /* owned: the row's, or NULL */
    int follow_links;    /* the story's: -r */
    int follow_reqs;     /* the story's: -p */
    int sitemap;         /* the story's: read it as a sitemap, into links */
    struct pf_result r;  /* the story's: the page's row, waiting */
    /* ---- */
    int err; /* 0, PF_EIO, PF_ENOMEM, PF_ECANCELED */
    struct pf__links links;
    unsigned char *follow;    /* per link, from on_page; NULL = all */
    struct pf__sitemap sm;    /* a sitemap's: index, caps reached */
    struct pf__post post;     /* the way back to the loop thread */
    struct pf__queue backlog; /* in the backlog while it waits */
    struct pf__pages *pages;
};

/* Called with each job back on the loop thread; it frees the job. */
typedef void pf__page_done_fn(struct pf__page_job *job, void *userdata);

/*
 * parsers threads (0: one per CPU); c, on_page, page_doc and userdata
 * are what on_page gets (see struct pf_config).  Jobs come back through
 * loop l to done(job, done_ud).
 */
int pf__pages_new(struct pf__pages **out, struct pf__loop *l, unsigned parsers,
                  pf_crawler *c, const struct pf_config *cfg,
                  pf__page_done_fn *done, void *done_ud);

/*
 * A new job for the page saved at path (relative to out_dir), final_url
 * and ctype copied; NULL when out of memory.
 */
struct pf__page_job *pf__page_job_new(const char *out_dir, const char *path,
                                      const char *final_url, const char *ctype);
void pf__page_job_free(struct pf__page_job *job);

/* Queue a job (taken); it comes back through done, whatever happens. */
void pf__pages_submit(struct pf__pages *p, struct pf__page_job *job);

/* Hand waiting jobs to the pool, as far as it has room. */
void pf__pages_pump(struct pf__pages *p);

/* Are jobs waiting for room in the pool?  Then fetch nothing new. */
int pf__pages_backlogged(const struct pf__pages *p);

/* Jobs not back yet, waiting ones included. */
size_t pf__pages_pending(const struct pf__pages *p);

/* A stop: pages not parsed yet never will be; running ones come back. */
void pf__pages_shutdown(struct pf__pages *p);

/* The parsers go first: nothing may post to the loop once it is gone. */
void pf__pages_free(struct pf__pages *p);

#endif /* PF_PAGES_H */
