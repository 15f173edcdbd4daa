/*
 * crawler.c -- the story of a URL, as pfetch(1) and libpfetch's jobs
 * tell it.
 *
 * A URL is accepted (pf_crawler_add_url, or read lazily from a list) into
 * the frontier (frontier.c), which dedupes it and decides when it may
 * start.  pf__crawler_refill() leases what may start and spawns one
 * coroutine per URL: crawl_one() makes attempts (transfer.c), asks
 * outcome.c what each one means, saves the body or retries after a
 * backoff (holding no slot while it waits), and ends by logging exactly
 * one row and calling on_done.  Crawling (-r, -p) adds a loop: a saved
 * HTML page or stylesheet goes to the parser pool (pages.c), and
 * pf__crawler_on_parsed() offers its links to the frontier as new URLs.
 * robots.txt is fetched once per host, by its own coroutine, when the
 * frontier asks for it.  The job around the story (making it, running
 * and stopping it) is job.c's.
 *
 * Loop thread only, but the add functions, which post to the loop from
 * other threads.  This module never touches libcurl, libxml2 or SQL
 * itself: transfers are transfer.c's, files store.c's, rows db.c's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include "job.h"
#include "names.h"
#include "robots.h"
#include "url.h"

#define LIST_LOOKAHEAD_MIN 1024

/* RFC 9309 asks crawlers to read at least 500 KiB of a robots.txt. */
#define ROBOTS_MAX (512 * 1024)

/*
 * A body that could not be written, created or saved for the storage's
 * sake rather than its URL's (a full disk or quota, a device error, a
 * file system gone read-only) stops the run: nothing new would fare
 * better.  Other errors (a name clash, a path too long) fail that URL.
 */
static void note_storage_error(struct pf_crawler *c, int sys_errno)
{
    if (sys_errno == ENOSPC || sys_errno == EDQUOT)
        pf__job_fatal(c, PF_EDISKFULL);
    else if (sys_errno == EIO || sys_errno == EROFS)
        pf__job_fatal(c, PF_EIO);
}

/* Accepting URLs. */

int pf__crawler_is_done(const char *url, void *ud)
{
    struct pf_crawler *c = ud;

    /* -N -c: a done URL is asked again, conditionally, not skipped. */
    if (c->cfg.timestamping)
        return 0;
    return pf__db_is_done(c->db, url);
}

/*
 * The flat layout names a URL when it is accepted: the frontier accepts
 * a list in its order, so names follow the list, not which transfer ends
 * first; and a URL the log saved before keeps its name.  A log that
 * cannot be read costs that promise, not the run: the URL gets a name of
 * this run's.
 */
int pf__crawler_accepted(const char *url, void *ud)
{
    struct pf_crawler *c = ud;
    char *logged = NULL;
    int rc = 0;

    if (c->db != NULL)
        rc = pf__db_saved_path(c->db, url, &logged);
    if (rc == PF_ENOMEM)
        return rc;
    rc = pf__store_reserve(c->store, url, logged);
    pf__free(logged);
    return rc;
}

void pf__crawler_pending(const char *url, int depth, const char *parent,
                         int requisite, void *ud)
{
    struct pf_crawler *c = ud;
    int rc = pf__db_log_frontier(c->db, url, depth, parent, requisite);

    if (rc < 0)
        pf__job_fatal(c, rc);
}

/*
 * Passwords of a resumed crawl.  The log masks every password, so the
 * frontier rows that -c reads back hold "user:***@host".  Fetched so,
 * they would send a wrong password (and might lock the account).  The
 * rule: a row whose password is masked gets the password of a seed
 * with the same user name and host:port, given before the run starts
 * (URL operands, pf_crawler_add_url() before pf_crawler_run()); seeds
 * read from lists come too late, as the rows are read first.  A row no
 * such seed matches is left out, with a warning: it is not accepted,
 * gets no row, and stays in the frontier for a later -c that gives the
 * seed.  The passwords are kept only until the rows are read.
 */

/*
 * "user@host:port" of url (the user as the URL spells it, perhaps
 * empty), pf__malloc'd; NULL when out of memory or url does not split.
 */
static char *creds_key(const char *url)
{
    struct pf__url_parts p;
    char *hp = NULL, *key;

    if (pf__url_split(url, &p) < 0 || pf__url_hostport(url, &hp) < 0)
        return NULL;
    key = pf__asprintf("%.*s@%s", (int)p.user_len, url + p.scheme_len + 3, hp);
    pf__free(hp);
    return key;
}

/* A seed before the run: keep its password for the resumed rows. */
static int remember_password(struct pf_crawler *c, const char *url)
{
    struct pf__url_parts p;
    char *key, *pw;
    int rc;

    if (pf__url_split(url, &p) < 0 || p.pass_len == 0)
        return 0;
    key = creds_key(url);
    pw = pf__strndup(url + p.pass_off, p.pass_len);
    rc = key != NULL && pw != NULL ? pf__strmap_put(&c->passwords, key, pw)
                                   : PF_ENOMEM;
    if (rc <= 0)
        pf__free(pw); /* the first seed's password stays */
    pf__free(key);
    return rc < 0 ? rc : 0;
}

/*
 * url with its masked password replaced by a seed's, pf__malloc'd, in
 * *out; *out NULL when url's password is not masked (it is used as it
 * is).  1 when it is masked and no seed matches; PF_ENOMEM.
 */
static int restore_password(struct pf_crawler *c, const char *url, char **out)
{
    struct pf__url_parts p;
    const char *pw;
    char *key;

    *out = NULL;
    if (pf__url_split(url, &p) < 0 || p.pass_len != strlen(PF__URL_MASK) ||
        memcmp(url + p.pass_off, PF__URL_MASK, p.pass_len) != 0)
        return 0;
    key = creds_key(url);
    if (key == NULL)
        return PF_ENOMEM;
    pw = pf__strmap_get(&c->passwords, key);
    pf__free(key);
    if (pw == NULL)
        return 1;
    *out = pf__asprintf("%.*s%s%s", (int)p.pass_off, url, pw,
                        url + p.pass_off + p.pass_len);
    return *out != NULL ? 0 : PF_ENOMEM;
}

struct resume_walk {
    struct pf_crawler *c;
    struct pf__resumed *rows;
    uint64_t left_out;             /* masked, and no seed to restore them */
    char first[PF__URL_SHOWN_BUF]; /* the first of them, masked */
};

/* A frontier row of an earlier run, its passwords restored. */
static int resumed_row(const char *url, int depth, const char *parent,
                       int requisite, void *ud)
{
    struct resume_walk *w = ud;
    char *real = NULL, *real_parent = NULL;
    int rc = restore_password(w->c, url, &real);

    if (rc == 1) {
        if (w->left_out++ == 0)
            snprintf(w->first, sizeof(w->first), "%s", url);
        return 0;
    }
    /* A parent that cannot be restored stays masked: it is only named. */
    if (rc == 0 && parent != NULL &&
        restore_password(w->c, parent, &real_parent) < 0)
        rc = PF_ENOMEM;
    if (rc == 0)
        rc = pf__resumed_row(real != NULL ? real : url, depth,
                             real_parent != NULL ? real_parent : parent,
                             requisite, w->rows);
    pf__free(real);
    pf__free(real_parent);
    return rc;
}

int pf__crawler_resume(struct pf_crawler *c)
{
    struct resume_walk w;
    int rc;

    memset(&w, 0, sizeof(w));
    w.c = c;
    rc = pf__resumed_new(&w.rows);
    if (rc == 0)
        rc = pf__db_frontier_pending(c->db, resumed_row, &w);
    if (rc == 0)
        rc = pf__frontier_resume(c->frontier, w.rows, c->cfg.page_requisites);
    pf__resumed_free(w.rows);
    pf__strmap_free(&c->passwords, pf__free);
    if (w.left_out > 0)
        pf__job_say(c, PF_LOG_WARN,
                    "resuming a crawl: %llu URL%s left out, such as %s: the "
                    "log masks their password; give a seed with the same "
                    "user and host:port to fetch them",
                    (unsigned long long)w.left_out, w.left_out == 1 ? "" : "s",
                    w.first);
    return rc;
}

static void sitemaps_of_seed(struct pf_crawler *c, const char *url);
static void accept_sitemap(struct pf_crawler *c, const char *url,
                           const char *parent, int guessed);

/* A seed (depth 0) or a list line.  Loop thread. */
static int accept_seed(struct pf_crawler *c, const char *url)
{
    int rc = 0;

    /* Only -c with a crawl reads passwords back, before the run. */
    if (c->cfg.resume && (c->cfg.recursive || c->cfg.page_requisites) &&
        pf__job_state(c) == RUN_IDLE)
        rc = remember_password(c, url);
    if (rc == 0)
        rc = pf__transfers_seed(c->xfers, url);
    if (rc == 0)
        rc = pf__frontier_accept(c->frontier, url, 0, NULL, 0);
    if (rc == 0 && c->cfg.sitemaps && c->cfg.recursive)
        sitemaps_of_seed(c, url);

    if (rc == PF_ENOMEM)
        pf__job_fatal(c, rc);
    return rc;
}

/* A link of a parsed page (or a requisite).  Loop thread. */
static void accept_link(struct pf_crawler *c, const char *url, int depth,
                        const char *parent, int requisite)
{
    int rc = pf__frontier_accept(c->frontier, url, depth, parent,
                                 PF__ACCEPT_DISCOVERED |
                                     (requisite ? PF__ACCEPT_REQUISITE : 0));

    if (rc == PF_ENOMEM)
        pf__job_fatal(c, rc);
}

/*
 * A URL added from another thread than the loop's travels as a post:
 * checked and normalised by the caller, accepted by the loop thread.  The
 * loop frees the record (also if it never runs, at cleanup).
 */
struct add_req {
    struct pf__post post;
    struct pf_crawler *c;
    int depth; /* 0: a seed */
    char *parent;
    char url[];
};

/* Loop thread. */
static void add_posted(void *arg)
{
    struct add_req *q = arg;
    struct pf_crawler *c = q->c;

    if (pf__job_state(c) < RUN_STOPPING) {
        if (q->parent == NULL)
            accept_seed(c, q->url);
        else if (q->depth <= c->max_depth)
            accept_link(c, q->url, q->depth, q->parent, 0);
    }
    pf__free(q->parent);
    atomic_fetch_sub(&c->adds_pending, 1);
}

/* Accept url (normalised), or hand it to the loop thread.  Any thread. */
static int add_normalised(struct pf_crawler *c, const char *url, int depth,
                          const char *parent)
{
    struct add_req *q;
    size_t n;

    if (pf__job_state(c) >= RUN_STOPPING || atomic_load(&c->stop_requested))
        return PF_ESTATE;
    if (pthread_equal(pthread_self(), c->loop_thread)) {
        if (parent == NULL)
            return accept_seed(c, url);
        if (depth <= c->max_depth)
            accept_link(c, url, depth, parent, 0);
        return 0;
    }
    n = strlen(url);
    q = pf__malloc(sizeof(*q) + n + 1);
    if (q == NULL)
        return PF_ENOMEM;
    q->c = c;
    q->depth = depth;
    q->parent = NULL;
    if (parent != NULL) {
        q->parent = pf__strdup(parent);
        if (q->parent == NULL) {
            pf__free(q);
            return PF_ENOMEM;
        }
    }
    memcpy(q->url, url, n + 1);
    q->post.fn = add_posted;
    q->post.arg = q;
    q->post.borrowed = 0;
    atomic_fetch_add(&c->adds_pending, 1);
    pf__loop_post_node(pf__sched_loop(c->s), &q->post);
    return 0;
}

int pf_crawler_add_url(pf_crawler *c, const char *url)
{
    char *norm = NULL;
    const char *why = NULL;
    int rc;

    if (c == NULL || url == NULL)
        return PF_EINVAL;
    rc = pf__url_normalize(url, &norm, &why);
    if (rc < 0)
        return rc;
    rc = add_normalised(c, norm, 0, NULL);
    pf__free(norm);
    return rc;
}

int pf_crawler_add_link(pf_crawler *c, const struct pf_page *from,
                        const char *url)
{
    struct pf__urlres res;
    struct pf__buf out = {NULL, 0, 0};
    int rc;

    if (c == NULL || url == NULL)
        return PF_EINVAL;
    if (from == NULL)
        return pf_crawler_add_url(c, url);
    if (from->url == NULL || from->final_url == NULL)
        return PF_EINVAL;
    rc = pf__urlres_init(&res);
    if (rc == 0)
        rc = pf__urlres_set_base(&res, from->final_url);
    if (rc == 0)
        rc = pf__url_resolve(&res, url, strlen(url), &out);
    pf__urlres_free(&res);
    if (rc == 0 && out.data == NULL)
        rc = PF_EURL;
    if (rc == 0)
        rc = add_normalised(c, out.data, from->depth + 1, from->url);
    pf__buf_free(&out);
    return rc;
}

/* Lists. */

static void on_bad_line(const char *name, long lineno, const char *why,
                        void *userdata)
{
    pf__job_say(userdata, PF_LOG_ERROR, "%s:%ld: %s", name, lineno, why);
}

static int add_source(struct pf_crawler *c, FILE *fp, const char *name, int own)
{
    return pf__urlset_add(&c->lists, fp, name, own, on_bad_line, c);
}

int pf_crawler_add_list(pf_crawler *c, const char *path)
{
    struct stat sb;
    FILE *fp;
    int rc;

    if (c == NULL || path == NULL)
        return PF_EINVAL;
    if (strcmp(path, "-") == 0)
        return add_source(c, stdin, "-", 0);
    fp = fopen(path, "re");
    if (fp == NULL) {
        pf__job_say(c, PF_LOG_ERROR, "cannot read %s: %s", path,
                    strerror(errno));
        return PF_EIO;
    }
    if (fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        pf__job_say(c, PF_LOG_ERROR, "cannot read %s: %s", path,
                    strerror(EISDIR));
        fclose(fp);
        return PF_EIO;
    }
    rc = add_source(c, fp, path, 1);
    if (rc < 0)
        fclose(fp);
    return rc;
}

int pf_crawler_add_stream(pf_crawler *c, FILE *fp, const char *name)
{
    if (c == NULL || fp == NULL)
        return PF_EINVAL;
    return add_source(c, fp, name != NULL ? name : "(stream)", 0);
}

/*
 * A list that is a pipe, a socket or a terminal and has no whole line yet
 * is waited for by the loop, like a transfer's socket: the watch wakes the
 * loop and stops itself, and the next turn reads again.
 */
static void on_list_ready(struct pf__loop *l, struct pf__io *w, uint32_t ev)
{
    (void)ev;
    pf__io_set(l, w, 0);
}

static void watch_list(struct pf_crawler *c, int fd)
{
    struct pf__loop *l = pf__sched_loop(c->s);

    if (c->list_watch.events != 0 && c->list_watch.fd != fd)
        pf__io_set(l, &c->list_watch, 0);
    if (c->list_watch.events == 0)
        pf__io_init(&c->list_watch, fd, on_list_ready, c);
    if (pf__io_set(l, &c->list_watch, EPOLLIN) < 0) {
        pf__job_say(c, PF_LOG_ERROR, "cannot wait for a URL list: %s",
                    strerror(errno));
        pf__job_fatal(c, PF_ESYS);
    }
}

void pf__crawler_unwatch_lists(struct pf_crawler *c)
{
    if (c->list_watch.events != 0)
        pf__io_set(pf__sched_loop(c->s), &c->list_watch, 0);
}

/*
 * Read list lines until enough work is queued.  The lookahead lets the
 * per-host queues keep every slot busy without loading a whole list.
 */
void pf__crawler_read_lists(struct pf_crawler *c)
{
    size_t want = c->cfg.jobs * 4;
    struct pf__frontier_counts n;

    if (want < LIST_LOOKAHEAD_MIN)
        want = LIST_LOOKAHEAD_MIN;
    pf__frontier_counts(c->frontier, &n);
    while (n.queued < want && pf__job_state(c) < RUN_STOPPING) {
        const char *url;
        int rc = pf__urlset_next(&c->lists, &url);

        if (rc == 0)
            return;
        if (rc == PF__URLLIST_AGAIN) {
            watch_list(c, pf__urlset_fd(&c->lists));
            return;
        }
        if (rc == PF_ENOMEM) {
            pf__job_fatal(c, PF_ENOMEM);
            return;
        }
        if (rc < 0) {
            pf__job_say(c, PF_LOG_ERROR, "cannot read a URL list: %s",
                        rc == PF_EIO ? strerror(errno) : pf_strerror(rc));
            continue;
        }
        if (accept_seed(c, url) == PF_ENOMEM)
            return;
        pf__frontier_counts(c->frontier, &n);
    }
}

/* Rows. */

/*
 * A guessed /sitemap.xml (robots.txt named no sitemap) that is not
 * there: its row says so, but it is no failure of the run, as a missing
 * robots.txt is none.  A sitemap robots.txt names is a URL like others.
 */
static int excused(const struct pf__item *it, const struct pf_result *r)
{
    return it != NULL && it->sitemap == 2 &&
           (r->status == 404 || r->status == 410);
}

static void finish_item(struct pf_crawler *c, const struct pf__item *it,
                        const struct pf_result *r)
{
    int rc;

    if (c->db != NULL) {
        rc = pf__db_log_fetch(c->db, r);
        if (rc < 0)
            pf__job_db_failed(c, rc);
    } else if (c->cfg.json_out != NULL) {
        /* No log: the row is as committed as it will ever be. */
        pf__db_json_line(c->cfg.json_out, r);
    }
    c->st.done++;
    if (r->err != 0)
        c->st.failed += r->err != PF_EROBOTS && !excused(it, r);
    c->st.refused += r->err == PF_EROBOTS;
    if (c->cfg.on_done != NULL)
        c->cfg.on_done(c, r, c->cfg.userdata);
}

/* The row of an item that made no request: err and why say why. */
static void finish_without_request(struct pf_crawler *c, struct pf__item *it,
                                   int err, const char *why)
{
    struct pf_result r;

    memset(&r, 0, sizeof(r));
    r.url = it->url;
    r.final_url = it->url;
    r.error = why;
    r.err = err;
    r.depth = it->depth;
    r.parent_url = it->parent;
    r.started_at_ms = pf__wall_ms();
    finish_item(c, it, &r);
    pf__frontier_complete(c->frontier, it);
}

void pf__crawler_finish_unstarted(struct pf_crawler *c, struct pf__item *it)
{
    finish_without_request(c, it, PF_ECANCELED,
                           "interrupted before it started");
}

/* Slots. */

static void withdraw_cancel(struct pf_co *co, void *arg)
{
    struct pf__item *it = arg;
    struct pf_crawler *c = it->ud;

    (void)co;
    pf__frontier_withdraw(c->frontier, it);
}

/* Wait, holding no slot, until refill() gives this item a slot again. */
static int acquire_slot(struct pf_crawler *c, struct pf__item *it)
{
    pf__frontier_requeue(c->frontier, it, pf__sched_current(c->s));
    return pf__sched_wait(c->s, NULL, withdraw_cancel, it);
}

static void crawl_one(void *arg);

/* Start what the frontier says may start.  Loop thread. */
void pf__crawler_refill(struct pf_crawler *c)
{
    struct pf__item *it;

    /* Parsers far behind: fetch nothing new until they catch up. */
    if (pf__pages_backlogged(c->pages) || pf__job_state(c) >= RUN_STOPPING)
        return;
    while ((it = pf__frontier_lease(c->frontier)) != NULL) {
        if (it->refused) {
            finish_without_request(c, it, PF_EROBOTS, "refused by robots.txt");
        } else if (it->waiter != NULL) {
            struct pf_co *co = it->waiter;

            it->waiter = NULL;
            pf__sched_wake(c->s, co, 0);
        } else if (pf_spawn(c->s, crawl_one, it, NULL) < 0) {
            pf__frontier_release(c->frontier, it);
            finish_without_request(c, it, PF_ENOMEM, "out of memory");
        }
    }
}

/*
 * One URL's fetch, on its coroutine's stack: what its attempts share
 * and what its row will say.
 */
struct fetch {
    struct pf_crawler *c;
    struct pf__item *it;
    struct pf__sink sink;
    int sink_open;
    int have_slot;
    char part_validator[sizeof(((struct pf__resp *)0)->validator)];
    struct pf__judge judge;
    struct pf__verdict v; /* of the last attempt */
    char *final_url;
    char *ctype;
    char *etag;          /* the last response's, as received */
    char *last_modified; /* the last response's, as received */
    const char *http_version;
    int curl_code;
    long status;
    int64_t t0;
    struct pf__db_saved saved; /* -N: the file saved before */
    int conditional;           /* -N: saved is there to ask with */
    int unchanged;             /* -N: a 304 kept saved's file */
    char kept_sha256[65];      /* its digest, when the log had none */
};

/*
 * The name a message gives the file of f: its path, or its URL, masked,
 * when it has no path (the text ends up in the log's error column).
 */
static const char *file_name(struct fetch *f, char *buf, size_t size)
{
    if (f->sink.relpath != NULL)
        return f->sink.relpath;
    return pf__url_shown(f->it->url, buf, size);
}

/*
 * -c: a .part left by an interrupted run goes on, with Range.  Only one
 * that is there is opened before the request: any other file is named
 * at the first body byte, when a slash redirect or a server's file name
 * may still change the name.  Known limit: a .part saved under such a
 * name is found only then, too late for a Range, and starts over.
 */
static int open_part(struct fetch *f)
{
    char u[PF__URL_SHOWN_BUF];
    int rc;

    if (!f->c->cfg.resume || f->sink_open)
        return 0;
    rc = pf__sink_open(f->c->store, &f->sink, f->it->url, NULL, NULL,
                       PF__SINK_RESUME_ONLY);
    if (rc == 1) {
        pf__sink_free(&f->sink);
        return 0;
    }
    if (rc < 0) {
        f->v.next = PF__NEXT_FAIL;
        f->v.err = PF_EIO;
        snprintf(f->v.msg, sizeof(f->v.msg), "cannot open %s.part: %s",
                 file_name(f, u, sizeof(u)), strerror(f->sink.sys_errno));
        return -1;
    }
    f->sink_open = 1;
    pf__sink_get_validator(&f->sink, f->part_validator,
                           sizeof(f->part_validator));
    return 0;
}

/*
 * -N: may the request be conditional?  When the log has a file saved for
 * the URL that is still there with the size it was saved with, and a
 * validator to ask with.  A log that cannot be read costs the
 * condition, not the URL: it is fetched whole.
 */
static void timestamping(struct fetch *f)
{
    struct pf_crawler *c = f->c;
    int64_t size = -1;

    if (!c->cfg.timestamping || c->db == NULL)
        return;
    if (pf__db_last_saved(c->db, f->it->url, &f->saved) != 1)
        return;
    if (f->saved.bytes >= 0 &&
        (f->saved.etag != NULL || f->saved.last_modified != NULL) &&
        pf__store_file_size(c->store, f->saved.path, &size) == 0 &&
        size == f->saved.bytes)
        f->conditional = 1;
    else
        pf__db_saved_free(&f->saved);
}

/* Take what res holds that the row needs. */
static void keep_response(struct fetch *f, struct pf__result *res)
{
    /* final_url: the last response's URL, not a refused target's. */
    pf__free(f->final_url);
    f->final_url = res->final_url;
    res->final_url = NULL;
    pf__free(f->ctype);
    f->ctype = res->content_type;
    res->content_type = NULL;
    pf__free(f->etag);
    f->etag = res->resp.etag;
    res->resp.etag = NULL;
    pf__free(f->last_modified);
    f->last_modified = res->resp.last_modified;
    res->resp.last_modified = NULL;
    f->http_version = res->http_version;
    f->curl_code = res->curl_code;
    f->status = res->a.status;
}

/* One attempt, judged into f->v; *res is what came. */
static void attempt(struct fetch *f, struct pf__result *res)
{
    struct pf__try try = {f->it->url,
                          &f->sink,
                          &f->sink_open,
                          f->part_validator,
                          f->judge.refreshed == 1,
                          NULL,
                          NULL};

    f->judge.attempts++;
    memset(res, 0, sizeof(*res));
    if (open_part(f) < 0)
        return;
    if (f->conditional) {
        try.if_none_match = f->saved.etag;
        try.if_modified_since = f->saved.last_modified;
    }
    if (pf__transfer_run(f->c->xfers, &try, res) < 0) {
        f->v.next = PF__NEXT_FAIL;
        f->v.err = PF_ENOMEM;
        snprintf(f->v.msg, sizeof(f->v.msg), "out of memory");
        return;
    }
    if (f->judge.refreshed == 1)
        f->judge.refreshed = 2;
    pf__outcome_judge(&res->a, &f->judge, &f->v);
    keep_response(f, res);
}

/* Keep the body: rename the .part (opening it first for an empty one). */
static void save(struct fetch *f)
{
    const char *what = "save";
    char u[PF__URL_SHOWN_BUF];
    int rc = 0;

    if (!f->sink_open) {
        what = "create";
        rc =
            pf__sink_open(f->c->store, &f->sink, f->it->url, f->final_url, NULL,
                          f->c->cfg.resume ? PF__SINK_RESUME : PF__SINK_NEW);
        f->sink_open = rc == 0;
    }
    if (rc == 0)
        rc = pf__sink_commit(&f->sink);
    if (rc < 0) {
        f->v.err = PF_EIO;
        snprintf(f->v.msg, sizeof(f->v.msg), "cannot %s %s: %s", what,
                 file_name(f, u, sizeof(u)), strerror(f->sink.sys_errno));
    }
}

/*
 * A transient failure: wait out the backoff holding no slot, then wait
 * for a slot.  0 to go on, or < 0 when a stop cut the wait short.
 */
static int wait_retry(struct fetch *f, const struct pf__result *res)
{
    struct pf_crawler *c = f->c;
    int64_t wait =
        pf__backoff_ms(f->judge.attempts, c->cfg.retry_base_ms,
                       c->cfg.retry_max_ms, res->retry_after_s, random());
    char u[PF__URL_SHOWN_BUF];
    int rc;

    /*
     * A .part whose body has a validator is kept: the retry asks for
     * the rest with Range and If-Range.  Any other starts over.
     */
    if (f->sink_open && f->part_validator[0] == '\0')
        pf__sink_truncate(&f->sink);
    pf__job_say(c, PF_LOG_INFO, "%s: %s; retrying in %lld ms",
                pf__url_shown(f->it->url, u, sizeof(u)), f->v.msg,
                (long long)wait);
    pf__frontier_release(c->frontier, f->it);
    f->have_slot = 0;
    rc = pf_sleep(c->s, wait);
    if (rc == 0)
        rc = acquire_slot(c, f->it);
    if (rc < 0) {
        char last[sizeof(f->v.msg)];

        memcpy(last, f->v.msg, sizeof(last));
        f->v.err = rc;
        snprintf(f->v.msg, sizeof(f->v.msg),
                 "interrupted while waiting to retry (after: %.200s)", last);
        return rc;
    }
    f->have_slot = 1;
    return 0;
}

/*
 * What comes after an attempt: 1 to make another, 0 when f->v is final.
 * The immediate second tries take no backoff and keep the slot.
 */
static int next_step(struct fetch *f, const struct pf__result *res)
{
    char u[PF__URL_SHOWN_BUF];

    switch (f->v.next) {
    case PF__NEXT_REFRESH:
        f->judge.refreshed = 1;
        pf__job_say(f->c, PF_LOG_INFO,
                    "%s: %s on a reused connection; again on a new one",
                    pf__url_shown(f->it->url, u, sizeof(u)), res->errtext);
        return 1;
    case PF__NEXT_RESTART:
        f->judge.restarted = 1;
        f->part_validator[0] = '\0';
        if (pf__sink_truncate(&f->sink) == 0)
            return 1;
        f->v.err = PF_EIO;
        snprintf(f->v.msg, sizeof(f->v.msg), "cannot truncate %s.part: %s",
                 f->sink.relpath, strerror(f->sink.sys_errno));
        return 0;
    case PF__NEXT_KEEP:
        f->status = 200;
        save(f);
        return 0;
    case PF__NEXT_SAVE:
        save(f);
        return 0;
    case PF__NEXT_RETRY:
        return wait_retry(f, res) == 0;
    case PF__NEXT_UNCHANGED:
        f->unchanged = 1;
        return 0;
    default:
        return 0;
    }
}

static void crawl_done(struct fetch *f);

/*
 * -N, a 304: the row names the file kept, with its digest (the log's,
 * or computed now for a row of an older log that had none), no bytes,
 * and what the 304 did not repeat of the file's validators and type.
 */
static void unchanged_row(struct fetch *f, struct pf_result *r)
{
    r->path = f->saved.path;
    r->bytes = 0;
    r->sha256 = f->saved.sha256;
    if (r->sha256 == NULL &&
        pf__store_file_sha256(f->c->store, f->saved.path, f->kept_sha256) == 0)
        r->sha256 = f->kept_sha256;
    if (r->etag == NULL && r->last_modified == NULL) {
        r->etag = f->saved.etag;
        r->last_modified = f->saved.last_modified;
    }
    if (r->content_type == NULL)
        r->content_type = f->saved.content_type;
}

/*
 * One URL: attempts until one is final, then its row (or, for a page to
 * parse, its parse first).  Loop thread, on the URL's own coroutine.
 */
static void crawl_one(void *arg)
{
    struct pf__item *it = arg;
    struct fetch f;
    int again = 1;

    memset(&f, 0, sizeof(f));
    f.c = it->ud;
    f.it = it;
    f.sink.fd = -1;
    f.sink.dirfd = -1;
    f.have_slot = 1;
    f.t0 = pf__now_ms();
    f.judge.retries = f.c->cfg.retries;
    f.judge.stall_ms = f.c->cfg.stall_timeout_ms;
    f.judge.max_size = f.c->cfg.max_filesize;
    timestamping(&f);
    while (again) {
        struct pf__result res;

        f.judge.stopping = pf__job_state(f.c) >= RUN_STOPPING;
        attempt(&f, &res);
        again = f.v.next != PF__NEXT_FAIL && next_step(&f, &res);
        pf__result_free(&res);
    }
    crawl_done(&f);
}

static int parse_later(struct pf_crawler *c, struct pf__item *it,
                       const struct pf_result *r);

/* The attempts are over: the slot goes back, the row is written. */
static void crawl_done(struct fetch *f)
{
    struct pf_crawler *c = f->c;
    struct pf__item *it = f->it;
    struct pf_result r;
    int err = f->v.err;

    if (f->have_slot)
        pf__frontier_release(c->frontier, it);
    if (err == PF_EIO || err == PF_EDISKFULL)
        note_storage_error(c, f->sink.sys_errno);
    if (f->sink_open && err != 0)
        pf__sink_abort(&f->sink, err == PF_ECANCELED);
    memset(&r, 0, sizeof(r));
    r.url = it->url;
    r.depth = it->depth;
    r.parent_url = it->parent;
    r.started_at_ms = pf__wall_ms() - (pf__now_ms() - f->t0);
    r.attempts = f->judge.attempts;
    r.err = err;
    r.status = f->status;
    r.curl_code = f->curl_code;
    r.final_url = f->final_url != NULL ? f->final_url : it->url;
    r.content_type = f->ctype;
    r.bytes = err == 0 ? f->sink.offset + f->sink.bytes : 0;
    r.path = err == 0 && f->sink_open ? f->sink.relpath : NULL;
    r.sha256 = r.path != NULL && f->sink.sha256[0] ? f->sink.sha256 : NULL;
    r.error = err == 0 ? NULL : f->v.msg;
    if (err != 0 && excused(it, &r)) {
        size_t n = strlen(f->v.msg);

        snprintf(f->v.msg + n, sizeof(f->v.msg) - n,
                 " (no sitemap: not a failure)");
    }
    r.elapsed_ms = pf__now_ms() - f->t0;
    r.etag = f->etag;
    r.last_modified = f->last_modified;
    r.http_version = f->http_version;
    if (err == 0 && f->unchanged)
        unchanged_row(f, &r);
    /*
     * A body saved through a slash redirect sits where the directory
     * URL's own would: that URL is seen now (wget's rule too), before
     * this page's links, which name it as "./" or "../sub/", come back.
     * Other redirects do not count: their bodies are named after the URL
     * asked for, so a link to the target would find no file.
     */
    if (r.path != NULL && pf__name_slash_redirect(it->url, r.final_url) &&
        pf__frontier_alias(c->frontier, r.final_url) == PF_ENOMEM)
        pf__job_fatal(c, PF_ENOMEM);
    /*
     * A page to parse gets its row once its links are accepted (and their
     * frontier rows queued before it), so that a page the log says is done
     * always has its links in the frontier, crash or not: what a resumed
     * crawl relies on.
     */
    if (err != 0 || !parse_later(c, it, &r)) {
        finish_item(c, it, &r);
        pf__frontier_complete(c->frontier, it);
    }
    pf__sink_free(&f->sink);
    pf__free(f->final_url);
    pf__free(f->ctype);
    pf__free(f->etag);
    pf__free(f->last_modified);
    pf__db_saved_free(&f->saved);
}

/* Parsing. */

/*
 * Whether and how a saved body is parsed: HTML pages and stylesheets
 * only; a page's links are followed below the depth limit (-r), its
 * requisites one level past it (-p); of requisites, only stylesheets are
 * parsed, for what they import.  The item stays alive (and counted
 * unfinished at its depth) until the job comes back.  Loop thread.
 */
static int parse_later(struct pf_crawler *c, struct pf__item *it,
                       const struct pf_result *r)
{
    struct pf__page_job *job;
    enum pf__doc_type type;
    int links, reqs;

    if (c->pages == NULL || pf__job_state(c) >= RUN_STOPPING || r->path == NULL)
        return 0;
    if (it->sitemap) { /* whatever its type says */
        type = PF__DOC_OTHER;
        links = 1;
        reqs = 0;
    } else {
        type = pf__doc_type(r->content_type);
        if (type == PF__DOC_OTHER || (it->requisite && type != PF__DOC_CSS))
            return 0;
        links = c->cfg.recursive && !it->requisite && it->depth < c->max_depth;
        reqs = c->cfg.page_requisites;
        if (!links && !reqs && c->cfg.on_page == NULL)
            return 0;
    }
    job = pf__page_job_new(c->out_dir, r->path, r->final_url, r->content_type);
    if (job == NULL) {
        pf__job_fatal(c, PF_ENOMEM);
        return 0;
    }
    job->item = it;
    job->url = it->url;
    job->depth = it->depth;
    job->type = type;
    job->follow_links = links;
    job->follow_reqs = reqs;
    job->sitemap = it->sitemap != 0;
    job->r = *r;
    job->r.url = it->url;
    job->r.final_url = job->final_url;
    job->r.path = job->path;
    job->r.content_type = job->ctype;
    job->r.parent_url = it->parent;
    job->sha256 = r->sha256 != NULL ? pf__strdup(r->sha256) : NULL;
    job->etag = r->etag != NULL ? pf__strdup(r->etag) : NULL;
    job->last_modified =
        r->last_modified != NULL ? pf__strdup(r->last_modified) : NULL;
    if ((r->sha256 != NULL && job->sha256 == NULL) ||
        (r->etag != NULL && job->etag == NULL) ||
        (r->last_modified != NULL && job->last_modified == NULL)) {
        pf__page_job_free(job);
        pf__job_fatal(c, PF_ENOMEM);
        return 0;
    }
    job->r.sha256 = job->sha256;
    job->r.etag = job->etag;
    job->r.last_modified = job->last_modified;
    pf__pages_submit(c->pages, job);
    return 1;
}

/*
 * A sitemap is back: the sitemaps of an index are fetched as sitemaps;
 * the URLs of a sitemap are offered as links of depth 1 found on it (so
 * not with -l 0), for scope, filters and robots.txt to judge.
 */
static void sitemap_parsed(struct pf_crawler *c, struct pf__page_job *job)
{
    struct pf__item *it = job->item;
    char u[PF__URL_SHOWN_BUF];
    const char *shown = pf__url_shown(it->url, u, sizeof(u));
    size_t i;

    if (job->sm.too_many)
        pf__job_say(c, PF_LOG_WARN,
                    "%s: more than %d URLs in one sitemap; the rest ignored",
                    shown, PF__SITEMAP_MAX_URLS);
    if (job->sm.too_big)
        pf__job_say(c, PF_LOG_WARN,
                    "%s: sitemap larger than %d MiB uncompressed; the rest "
                    "ignored",
                    shown, PF__SITEMAP_MAX_BYTES / (1024 * 1024));
    if (job->sm.malformed)
        pf__job_say(c, PF_LOG_WARN,
                    "%s: not a well-formed sitemap; %zu URLs read before the "
                    "fault",
                    shown, job->links.n);
    pf__job_say(c, PF_LOG_DEBUG, "%s: %s of %zu URLs", shown,
                job->sm.index ? "sitemap index" : "sitemap", job->links.n);
    if (pf__job_state(c) >= RUN_STOPPING || job->err != 0)
        return;
    for (i = 0; i < job->links.n; i++) {
        const char *url = pf__links_url(&job->links, i);

        if (job->sm.index)
            accept_sitemap(c, url, it->url, 0);
        else if (c->max_depth >= 1)
            accept_link(c, url, 1, it->url, 0);
    }
}

/* A page is back: accept its links, then its row.  Loop thread. */
void pf__crawler_on_parsed(struct pf__page_job *job, void *ud)
{
    struct pf_crawler *c = ud;
    struct pf__item *it = job->item;
    char u[PF__URL_SHOWN_BUF];
    size_t i;

    if (job->err != 0 && job->err != PF_ECANCELED)
        pf__job_say(c, PF_LOG_WARN, "%s: cannot parse %s: %s",
                    pf__url_shown(it->url, u, sizeof(u)), job->path,
                    job->err == PF_EIO ? "cannot read it"
                                       : pf_strerror(job->err));
    if (job->sitemap) {
        sitemap_parsed(c, job);
    } else if (pf__job_state(c) < RUN_STOPPING &&
               (job->follow_links || job->follow_reqs)) {
        for (i = 0; i < job->links.n; i++) {
            int req = job->links.kind[i] == PF__LINK_REQ;

            if (job->follow != NULL && !job->follow[i])
                continue;
            if (job->follow_links)
                accept_link(c, pf__links_url(&job->links, i), it->depth + 1,
                            it->url, 0);
            else if (req || it->requisite)
                accept_link(c, pf__links_url(&job->links, i), it->depth + 1,
                            it->url, 1);
        }
    }
    finish_item(c, it, &job->r);
    pf__page_job_free(job);
    pf__frontier_complete(c->frontier, it);
}

/*
 * robots.txt: one coroutine per host fetches it into memory, once, for
 * whoever asks first: the frontier, before the first discovered link of
 * the host starts, or --sitemaps, for a seed's host, whose sitemaps it
 * names.  Whatever goes wrong (no file, an error status, a failed
 * transfer), everything is allowed, as DESIGN.md and most crawlers have
 * it; a file over ROBOTS_MAX is parsed as far as it goes.  It takes no
 * -j slot, waits for no Crawl-delay and gets no row.  A host's record
 * lives until the job is freed: its rules until the frontier takes them,
 * its Sitemap lines for a seed of the host that comes later.
 */
struct robots_host {
    struct pf_crawler *c;
    struct pf__host *h;       /* the frontier's, once it asked; or NULL */
    struct pf__robots *rules; /* in, and not handed to the frontier yet */
    struct pf__buf sitemaps;  /* its Sitemap values, each NUL-terminated */
    int started;              /* the fetch was started */
    int in;                   /* the fetch is over */
    int want_sitemaps;        /* a seed's host: offer its sitemaps */
    char url[];               /* its robots.txt */
};

static void robots_host_free(void *p)
{
    struct robots_host *rh = p;

    pf__robots_free(rh->rules);
    pf__buf_free(&rh->sitemaps);
    pf__free(rh);
}

void pf__crawler_cleanup(struct pf_crawler *c)
{
    pf__strmap_free(&c->robots_hosts, robots_host_free);
}

/* The record of url's host, made when new; NULL when out of memory. */
static struct robots_host *robots_host_of(struct pf_crawler *c, const char *url)
{
    size_t n = pf__url_origin_len(url);
    struct robots_host *rh;
    char *key = NULL;

    if (n == 0 || pf__url_hostport(url, &key) < 0)
        return NULL;
    rh = pf__strmap_get(&c->robots_hosts, key);
    if (rh == NULL) {
        rh = pf__calloc(1, sizeof(*rh) + n + sizeof("/robots.txt"));
        if (rh != NULL) {
            rh->c = c;
            memcpy(rh->url, url, n);
            memcpy(rh->url + n, "/robots.txt", sizeof("/robots.txt"));
            if (pf__strmap_put(&c->robots_hosts, key, rh) < 0) {
                pf__free(rh);
                rh = NULL;
            }
        }
    }
    pf__free(key);
    return rh;
}

/*
 * A sitemap to fetch (depth 0, never filtered; parent the index that
 * names it, or NULL).  Loop thread.
 */
static void accept_sitemap(struct pf_crawler *c, const char *url,
                           const char *parent, int guessed)
{
    int rc = pf__frontier_accept(c->frontier, url, 0, parent,
                                 PF__ACCEPT_SITEMAP |
                                     (guessed ? PF__ACCEPT_GUESSED : 0));

    if (rc == PF_ENOMEM)
        pf__job_fatal(c, rc);
}

/*
 * --sitemaps: the Sitemap lines of the host's robots.txt, or its
 * /sitemap.xml when it names none it could be fetched at.
 */
static void offer_sitemaps(struct pf_crawler *c, struct robots_host *rh)
{
    const char *v = rh->sitemaps.data;
    const char *end = v + rh->sitemaps.len;
    char u[PF__URL_SHOWN_BUF];
    int offered = 0;

    if (pf__job_state(c) >= RUN_STOPPING)
        return;
    for (; v != NULL && v < end; v += strlen(v) + 1) {
        char *norm = NULL;
        const char *why = NULL;

        if (pf__url_normalize(v, &norm, &why) < 0) {
            pf__job_say(c, PF_LOG_WARN, "%s: Sitemap '%.200s' skipped: %s",
                        pf__url_shown(rh->url, u, sizeof(u)), v,
                        why != NULL ? why : "not an http(s) URL");
            continue;
        }
        accept_sitemap(c, norm, NULL, 0);
        pf__free(norm);
        offered++;
    }
    if (offered == 0) {
        size_t n = strlen(rh->url) - strlen("/robots.txt");
        char *guess = pf__asprintf("%.*s/sitemap.xml", (int)n, rh->url);

        if (guess == NULL) {
            pf__job_fatal(c, PF_ENOMEM);
            return;
        }
        accept_sitemap(c, guess, NULL, 1);
        pf__free(guess);
    }
}

/* What robots.txt says of politeness, for the user. */
static void say_crawl_delay(struct pf_crawler *c, const char *shown,
                            const struct pf__robots *rules)
{
    int64_t ms = pf__robots_crawl_delay_ms(rules);

    if (ms > PF__CRAWL_DELAY_MAX_MS)
        pf__job_say(c, PF_LOG_WARN,
                    "%s: Crawl-delay of %.1f s taken as %d s, the most "
                    "pfetch waits",
                    shown, (double)ms / 1000, PF__CRAWL_DELAY_MAX_MS / 1000);
    else if (ms >= 0)
        pf__job_say(c, PF_LOG_DEBUG, "%s: Crawl-delay %.1f s", shown,
                    (double)ms / 1000);
}

/* Keep the Sitemap lines of rules in rh, for --sitemaps. */
static void keep_sitemaps(struct pf_crawler *c, struct robots_host *rh,
                          const struct pf__robots *rules)
{
    const char *v = NULL;

    while ((v = pf__robots_sitemap(rules, v)) != NULL) {
        if (pf__buf_append(&rh->sitemaps, v, strlen(v) + 1) < 0) {
            pf__job_fatal(c, PF_ENOMEM);
            return;
        }
    }
}

static void robots_fetch(void *arg)
{
    struct robots_host *rh = arg;
    struct pf_crawler *c = rh->c;
    struct pf__buf body = {NULL, 0, 0};
    struct pf__robots *rules = NULL;
    char why[256] = "no file";
    char u[PF__URL_SHOWN_BUF];
    const char *shown = pf__url_shown(rh->url, u, sizeof(u));
    long status = 0;
    int truncated = 0;
    int rc = pf__transfer_get(c->xfers, rh->url, ROBOTS_MAX, &body, &status,
                              &truncated, why, sizeof(why));

    if (rc == 0 && status >= 200 && status <= 299) {
        if (pf__robots_parse(body.data != NULL ? body.data : "", body.len,
                             c->product, &rules) < 0)
            rules = NULL;
        pf__job_say(c, PF_LOG_DEBUG, "%s: %zu bytes", shown, body.len);
        say_crawl_delay(c, shown, rules);
    } else if (rc == 0 || rc == PF_ECURL) {
        pf__job_say(c, PF_LOG_DEBUG, "%s: %s; everything allowed", shown, why);
    }
    pf__buf_free(&body);
    if (c->cfg.sitemaps)
        keep_sitemaps(c, rh, rules);
    rh->in = 1;
    if (rh->want_sitemaps)
        offer_sitemaps(c, rh);
    if (rh->h != NULL)
        pf__frontier_robots_ready(c->frontier, rh->h, rules);
    else
        rh->rules = rules; /* until the frontier asks */
}

/* A robots.txt already in, handed to the frontier that just asked. */
static void robots_deliver(void *arg)
{
    struct robots_host *rh = arg;
    struct pf__robots *rules = rh->rules;

    rh->rules = NULL;
    pf__frontier_robots_ready(rh->c->frontier, rh->h, rules);
}

/* Start the fetch of rh; < 0 when it cannot start. */
static int robots_start(struct pf_crawler *c, struct robots_host *rh)
{
    if (pf__job_state(c) >= RUN_STOPPING ||
        pf_spawn(c->s, robots_fetch, rh, NULL) < 0)
        return -1;
    rh->started = 1;
    return 0;
}

/* The frontier asks for h's robots.txt, whose URLs include url. */
int pf__crawler_robots(struct pf__host *h, const char *url, void *ud)
{
    struct pf_crawler *c = ud;
    struct robots_host *rh = robots_host_of(c, url);

    /*
     * Whatever keeps us from asking (out of memory, a stop) counts as a
     * robots.txt that could not be read: everything is allowed.
     */
    if (rh == NULL || pf__job_state(c) >= RUN_STOPPING)
        return -1;
    rh->h = h;
    if (!rh->started)
        return robots_start(c, rh);
    /* In already (for --sitemaps): handed over from a coroutine, since
       the frontier may not be re-entered from its own hook. */
    if (rh->in && pf_spawn(c->s, robots_deliver, rh, NULL) < 0)
        return -1;
    return 0;
}

/*
 * --sitemaps: the first seed of a host offers the host's sitemaps, once
 * its robots.txt is in (not fetched at all with --no-robots: then
 * /sitemap.xml).  Loop thread.
 */
static void sitemaps_of_seed(struct pf_crawler *c, const char *url)
{
    struct robots_host *rh = robots_host_of(c, url);

    if (rh == NULL) {
        pf__job_fatal(c, PF_ENOMEM);
        return;
    }
    if (rh->want_sitemaps)
        return;
    rh->want_sitemaps = 1;
    if (c->cfg.no_robots || rh->in)
        offer_sitemaps(c, rh);
    else if (!rh->started && robots_start(c, rh) < 0)
        offer_sitemaps(c, rh); /* as with a robots.txt that failed */
}

/* -v: the wait a host keeps, once it applies. */
void pf__crawler_waiting(const char *url, int64_t wait_ms, int crawl_delay,
                         void *ud)
{
    struct pf_crawler *c = ud;
    char *hp = NULL;
    double s = (double)wait_ms / 1000;

    if (pf__url_hostport(url, &hp) < 0)
        return;
    if (crawl_delay)
        pf__job_say(c, PF_LOG_INFO, "%s: waiting %.1f s (Crawl-delay)", hp, s);
    else if (c->cfg.random_wait)
        pf__job_say(c, PF_LOG_INFO, "%s: waiting %.1f-%.1f s (--random-wait)",
                    hp, s / 2, s * 1.5);
    else
        pf__job_say(c, PF_LOG_INFO, "%s: waiting %.1f s (--wait)", hp, s);
    pf__free(hp);
}
