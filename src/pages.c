/*
 * pages.c -- saved pages through the parser pool and back (see pages.h).
 * It owns the executor, the backlog and the jobs while they travel; it
 * never reads crawl state (depth rules, the frontier, the log) and never
 * parses on the loop thread or on a coroutine's stack.  libxml2 stays
 * in parse.c.
 */
#include "pages.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct pf__pages {
    struct pf__loop *loop;
    pf_executor *ex;
    pf_crawler *c; /* for on_page */
    pf_page_fn *on_page;
    int page_doc;
    void *userdata;
    pf__page_done_fn *done;
    void *done_ud;
    size_t pending;           /* jobs not back, waiting ones included */
    size_t pooled;            /* of which in the pool */
    size_t cap;               /* most jobs in the pool at once */
    struct pf__queue backlog; /* jobs waiting for room in the pool */
};

int pf__pages_new(struct pf__pages **out, struct pf__loop *l, unsigned parsers,
                  pf_crawler *c, const struct pf_config *cfg,
                  pf__page_done_fn *done, void *done_ud)
{
    struct pf__pages *p = pf__calloc(1, sizeof(*p));
    int rc;

    if (p == NULL)
        return PF_ENOMEM;
    rc = pf_executor_new(&p->ex, parsers, 0);
    if (rc < 0) {
        pf__free(p);
        return rc;
    }
    p->loop = l;
    p->c = c;
    p->on_page = cfg->on_page;
    p->page_doc = cfg->page_doc;
    p->userdata = cfg->userdata;
    p->done = done;
    p->done_ud = done_ud;
    /* Jobs in the pool's queue hold a few hundred bytes each. */
    p->cap = 4096;
    pf__queue_init(&p->backlog);
    *out = p;
    return 0;
}

void pf__pages_free(struct pf__pages *p)
{
    if (p == NULL)
        return;
    pf_executor_free(p->ex);
    pf__free(p);
}

struct pf__page_job *pf__page_job_new(const char *out_dir, const char *path,
                                      const char *final_url, const char *ctype)
{
    struct pf__page_job *job = pf__calloc(1, sizeof(*job));

    if (job == NULL)
        return NULL;
    pf__links_init(&job->links);
    job->final_url = pf__strdup(final_url);
    job->ctype = ctype != NULL ? pf__strdup(ctype) : NULL;
    job->path = pf__strdup(path);
    job->abspath = pf__asprintf("%s/%s", out_dir, path);
    if (job->final_url == NULL || job->path == NULL || job->abspath == NULL ||
        (ctype != NULL && job->ctype == NULL)) {
        pf__page_job_free(job);
        return NULL;
    }
    return job;
}

void pf__page_job_free(struct pf__page_job *job)
{
    pf__links_free(&job->links);
    pf__free(job->follow);
    pf__free(job->final_url);
    pf__free(job->ctype);
    pf__free(job->path);
    pf__free(job->abspath);
    pf__free(job->sha256);
    pf__free(job->etag);
    pf__free(job->last_modified);
    pf__free(job);
}

/* Hand the page to on_page.  Parser thread. */
static int call_on_page(struct pf__page_job *job)
{
    struct pf__pages *p = job->pages;
    struct pf_page pg;
    const char **links = NULL;
    size_t i, n = job->links.n;

    if (n > 0) {
        links = pf__malloc(n * sizeof(*links));
        job->follow = pf__malloc(n);
        if (links == NULL || job->follow == NULL) {
            pf__free(links);
            return PF_ENOMEM;
        }
        for (i = 0; i < n; i++) {
            links[i] = pf__links_url(&job->links, i);
            job->follow[i] = 1;
        }
    }
    memset(&pg, 0, sizeof(pg));
    pg.url = job->url;
    pg.final_url = job->final_url;
    pg.depth = job->depth;
    pg.content_type = job->ctype;
    pg.path = job->path;
    pg.nlinks = n;
    pg.links = links;
    pg.requisite = job->links.kind;
    pg.follow = job->follow;
    if (p->page_doc && job->type == PF__DOC_HTML) {
        int fd = open(job->abspath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

        if (fd >= 0) {
            pg.doc = pf__parse_doc_fd(fd, job->final_url);
            close(fd);
        }
    }
    p->on_page(p->c, &pg, p->userdata);
    pf__parse_doc_free(pg.doc);
    pf__free(links);
    return 0;
}

/* The task run by the executor.  Parser thread: no crawler state. */
static int parse_task(void *arg, void **result)
{
    struct pf__page_job *job = arg;
    int fd = open(job->abspath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    (void)result;
    if (fd < 0) {
        job->err = PF_EIO;
        return job->err;
    }
    if (job->sitemap) {
        job->err =
            pf__sitemap_read_fd(fd, job->final_url, &job->links, &job->sm);
        close(fd);
        return job->err; /* a sitemap is no page: on_page never sees it */
    }
    job->err = pf__parse_fd(fd, job->type, job->final_url, &job->links);
    close(fd);
    if (job->err == 0 && job->pages->on_page != NULL)
        job->err = call_on_page(job);
    return job->err;
}

/*
 * The future's done-callback: on the parser thread that finished the
 * task, or on the loop thread when a stop cancelled it.  The post record
 * lives in the job, so the way back cannot fail.
 */
static void parse_done(pf_future *f, void *userdata)
{
    struct pf__page_job *job = userdata;

    if (pf_future_state(f) == PF_FUTURE_CANCELLED)
        job->err = PF_ECANCELED;
    pf__loop_post_node(job->pages->loop, &job->post);
}

/* A job is back on the loop thread, from the pool or not. */
static void back(struct pf__page_job *job)
{
    struct pf__pages *p = job->pages;

    p->pending--;
    p->done(job, p->done_ud);
}

/* A job back from the pool.  Loop thread. */
static void back_pooled(void *arg)
{
    struct pf__page_job *job = arg;
    struct pf__pages *p = job->pages;

    p->pooled--;
    back(job);
    pf__pages_pump(p);
}

void pf__pages_submit(struct pf__pages *p, struct pf__page_job *job)
{
    job->pages = p;
    job->post.fn = back_pooled;
    job->post.arg = job;
    job->post.borrowed = 1; /* the done callback frees the job */
    p->pending++;
    pf__queue_insert_tail(&p->backlog, &job->backlog);
    pf__pages_pump(p);
}

/*
 * The loop never blocks on the pool: past cap pages in the pool, jobs
 * wait here, and the story starts no new transfer until the parsers have
 * caught up (pf__pages_backlogged), which slows fetching down to their
 * pace.  Loop thread.
 */
void pf__pages_pump(struct pf__pages *p)
{
    while (!pf__queue_empty(&p->backlog) && p->pooled < p->cap) {
        struct pf__page_job *job = pf__container_of(
            pf__queue_head(&p->backlog), struct pf__page_job, backlog);
        pf_future *f = NULL;
        int rc = pf_submit(p->ex, parse_task, job, PF_SUBMIT_NOWAIT, &f);

        if (rc == PF_EFULL || rc == PF_ENOMEM)
            return; /* again when a job comes back, or at the next turn */
        pf__queue_remove(&job->backlog);
        if (rc == 0) {
            p->pooled++;
            rc = pf_future_add_done_callback(f, parse_done, job);
            if (rc < 0) /* the task runs; wait for it rather than lose it */
                pf_future_result(f, -1, NULL);
            pf_future_release(f);
            if (rc == 0)
                continue;
            p->pooled--;
        } else {
            job->err = PF_ECANCELED; /* the pool is shut: a stop */
        }
        back(job);
    }
}

int pf__pages_backlogged(const struct pf__pages *p)
{
    return p != NULL && !pf__queue_empty(&p->backlog);
}

size_t pf__pages_pending(const struct pf__pages *p)
{
    return p != NULL ? p->pending : 0;
}

void pf__pages_shutdown(struct pf__pages *p)
{
    if (p != NULL)
        pf_executor_shutdown(p->ex, 0, 1);
}
