/*
 * crawler.c -- the job engine behind pfetch(1): the story of a URL.
 *
 * A URL is accepted (pf_crawler_add_url, or read lazily from a list),
 * normalised and deduplicated, and queued as an item on its host's queue
 * (host = host:port).  refill() hands free slots to hosts round-robin,
 * within -j overall and --per-host per host, and spawns one coroutine per
 * item: crawl_one() takes an easy handle from the pool, streams the body
 * into NAME.part through the store, renames it when complete, retries
 * transient failures after a backoff (holding no slot while it waits),
 * and ends by logging exactly one row and calling on_done.
 *
 * Crawling (-r, -p) adds a loop: a saved HTML page or stylesheet is
 * handed to the parser pool (pf_submit); the future's done-callback posts
 * the job back to the loop thread, where on_parsed() accepts the links
 * that pass depth, scope, filters and dedupe as new items.  Depth is the
 * shortest link distance from a seed, which a concurrent crawl only gets
 * right with some ordering: host queues are kept sorted by depth, a URL
 * found again at a smaller depth while it waits is moved up, and an item
 * of depth d may start only once every item of depth d-2 or less has had
 * its links handled ("the gate").  Only then can no shorter path to it
 * turn up later, since any such path runs through a page of depth d-2 or
 * less.  Levels d and d+1 still overlap, so the pipeline never drains.
 * robots.txt is fetched once per host, by its own coroutine, before the
 * first discovered link of that host starts.
 *
 * Loop thread only, but pf_crawler_stop(), which only sets a flag and
 * wakes the loop.  This module owns the items, the host queues, the
 * easy-handle pool and the order of shutdown; curl's multi handle belongs
 * to fetch.c, files to store.c, SQL to db.c.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/HTMLparser.h>

#include "coro.h"
#include "db.h"
#include "parse.h"
#include "resp.h"
#include "robots.h"
#include "store.h"
#include "url.h"
#include "urllist.h"

/*
 * curl's receive buffer.  Large, so big bodies move in few system calls
 * (measured on loopback: 2 x 256 MiB in 0.39 s with 512 KiB, 0.95 s with
 * 64 KiB).  curl allocates it per transfer; global.c gives curl an
 * allocator that keeps such blocks page-aligned and reuses them, so small
 * files do not pay an mmap, page faults and a munmap each.
 */
#define EASY_BUFFER_SIZE (512 * 1024)
#define LIST_LOOKAHEAD_MIN 1024

/* RFC 9309 asks crawlers to read at least 500 KiB of a robots.txt. */
#define ROBOTS_MAX (512 * 1024)

/* Depth of -l inf. */
#define DEPTH_INF INT_MAX

enum robots_state { ROBOTS_NONE, ROBOTS_FETCHING, ROBOTS_READY };

struct host {
    struct pf__queue pending; /* items waiting for a slot, by depth */
    struct pf__queue link;    /* in c->ready_hosts */
    struct pf__queue all;     /* in c->all_hosts */
    unsigned active;          /* slots held */
    int in_ready;
    enum robots_state robots;
    struct pf__robots *rules; /* NULL: everything allowed */
};

/*
 * One accepted URL, from acceptance to its row (and, for a page that is
 * parsed, until its links are handled): one allocation.
 */
struct item {
    struct pf__queue link; /* in host->pending */
    struct host *host;
    struct pf_crawler *c;
    struct pf_co *parked; /* a retry waiting for a slot, or NULL */
    int depth;
    unsigned char discovered; /* found in a page: robots.txt applies */
    unsigned char requisite;  /* accepted as a page requisite (-p) */
    char *parent;
    char url[]; /* normalised */
};

struct source {
    struct pf__urllist *reader;
};

struct pf_crawler {
    struct pf_config cfg; /* strings below are our copies */
    char *out_dir;
    char *db_path;
    char *user_agent;
    char *argv;
    struct curl_slist *headers;

    pf_sched *s;
    struct pf__store *store;
    struct pf__db *db;
    int64_t run_id;

    struct pf__strmap seen;  /* every URL accepted by this job */
    struct pf__strmap hosts; /* "host:port" -> struct host */
    struct pf__queue ready_hosts;
    struct pf__queue all_hosts;
    unsigned active; /* slots held, all hosts */
    struct source *sources;
    size_t nsources;
    size_t cur_source;

    CURL **pool; /* idle easy handles */
    size_t npool;

    struct pf_stats st;
    int64_t started_ns;
    int64_t last_progress_ms;

    /* The overall --rate cap: a token bucket; paused transfers wait. */
    int64_t tokens;
    int64_t tokens_ns;
    struct pf__queue paused;
    struct pf__timer rate_timer;

    atomic_int stop_requested;
    atomic_size_t adds_pending; /* URLs posted by other threads, on the way */
    atomic_int closed;          /* stopping or finished: no more adds */
    pthread_t loop_thread;      /* creator, then the thread that runs */
    int finished;               /* the run has ended; result is final */
    int result;
    int stopping;
    int fatal; /* PF_EDISKFULL, PF_EDB...: stops the run */
    int ran;

    /* Crawling. */
    int parsing_on;    /* pages are parsed: -r, -p or on_page */
    int max_depth;     /* -l; DEPTH_INF for inf */
    regex_t accept_re; /* valid when have_accept */
    regex_t reject_re; /* valid when have_reject */
    int have_accept, have_reject;
    struct pf__strmap seed_hosts;   /* host:port of every seed */
    char product[64];               /* robots.txt name: the UA's first word */
    pf_executor *ex;                /* parser threads */
    size_t parsing;                 /* parse jobs not done, waiting included */
    size_t parse_pooled;            /* of which in the pool */
    size_t parse_cap;               /* most jobs in the pool at once */
    struct pf__queue parse_backlog; /* jobs waiting for room in the pool */
    uint64_t *unfinished;           /* per depth: items whose links wait */
    size_t nunfinished;
    int gate; /* smallest depth with unfinished items, or DEPTH_INF */
};

/* Messages. */

static void say(struct pf_crawler *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct pf_crawler *c, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (c->cfg.on_log == NULL)
        return;
    va_start(ap, fmt);
    /* va_start is above; clang 14's analyzer misreads va_list. */
    vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT */
    va_end(ap);
    c->cfg.on_log(level, msg, c->cfg.userdata);
}

/* Configuration. */

void pf_config_init(struct pf_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->out_dir = ".";
    cfg->jobs = 16;
    cfg->retries = 3;
    cfg->connect_timeout_ms = 30000;
    cfg->stall_timeout_ms = 60000;
    cfg->layout = PF_LAYOUT_TREE;
    cfg->retry_base_ms = 1000;
    cfg->retry_max_ms = 60000;
    cfg->progress_ms = 250;
    cfg->depth = 5;
}

/*
 * Each transfer needs a socket and, while writing, a file; the store and
 * SQLite hold a few more.  -j beyond what the descriptor limit allows is
 * refused up front rather than failing transfers later.
 */
static int jobs_fit_fd_limit(unsigned jobs)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 1;
    return (rlim_t)jobs * 2 + 64 <= rl.rlim_cur;
}

static int check_config(const struct pf_config *cfg)
{
    size_t i;

    if (cfg->jobs == 0 || cfg->jobs > 100000 || !jobs_fit_fd_limit(cfg->jobs))
        return PF_EINVAL;
    if (cfg->timeout_ms < 0 || cfg->connect_timeout_ms < 0 ||
        cfg->stall_timeout_ms < 0 || cfg->rate < 0 || cfg->max_filesize < 0 ||
        cfg->retry_base_ms < 0 || cfg->retry_max_ms < 0 ||
        cfg->progress_ms < 0 || cfg->retries > 1000)
        return PF_EINVAL;
    if (cfg->layout != PF_LAYOUT_TREE && cfg->layout != PF_LAYOUT_FLAT)
        return PF_EINVAL;
    if (cfg->nheaders > 0 && cfg->headers == NULL)
        return PF_EINVAL;
    for (i = 0; i < cfg->nheaders; i++) {
        const char *h = cfg->headers[i];

        if (h == NULL || strpbrk(h, "\r\n") != NULL || strchr(h, ':') == NULL)
            return PF_EINVAL;
    }
    if (cfg->user_agent != NULL && strpbrk(cfg->user_agent, "\r\n") != NULL)
        return PF_EINVAL;
    if (cfg->parsers > 1024)
        return PF_EINVAL;
    return 0;
}

/* An extended regular expression of --accept/--reject, or PF_EINVAL. */
static int compile_filter(struct pf_crawler *c, const char *what,
                          const char *re, regex_t *out, int *have)
{
    int err;

    if (re == NULL)
        return 0;
    err = regcomp(out, re, REG_EXTENDED | REG_NOSUB);
    if (err != 0) {
        char msg[256];

        regerror(err, out, msg, sizeof(msg));
        say(c, PF_LOG_ERROR, "%s '%s': %s", what, re, msg);
        return PF_EINVAL;
    }
    *have = 1;
    return 0;
}

/* The product token robots.txt names us by: "pfetch" of "pfetch/0.1". */
static void set_product(struct pf_crawler *c)
{
    const char *ua = c->user_agent;
    size_t n = 0;

    while (*ua == ' ')
        ua++;
    while (ua[n] != '\0' && ua[n] != '/' && ua[n] != ' ' &&
           n + 1 < sizeof(c->product))
        n++;
    memcpy(c->product, ua, n);
    c->product[n] = '\0';
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? pf__strdup(s) : NULL;
}

int pf_crawler_new(pf_crawler **out, const struct pf_config *cfg)
{
    struct pf_crawler *c;
    char *errmsg = NULL;
    size_t i;
    int rc;

    if (out == NULL || cfg == NULL)
        return PF_EINVAL;
    rc = check_config(cfg);
    if (rc < 0)
        return rc;
    c = pf__calloc(1, sizeof(*c));
    if (c == NULL)
        return PF_ENOMEM;
    c->cfg = *cfg;
    pf__queue_init(&c->ready_hosts);
    pf__queue_init(&c->all_hosts);
    pf__queue_init(&c->paused);
    pf__queue_init(&c->parse_backlog);
    atomic_init(&c->stop_requested, 0);
    atomic_init(&c->adds_pending, 0);
    atomic_init(&c->closed, 0);
    c->loop_thread = pthread_self();
    rc = PF_ENOMEM;
    c->out_dir = pf__strdup(
        cfg->out_dir != NULL && cfg->out_dir[0] != '\0' ? cfg->out_dir : ".");
    if (cfg->db_path == NULL)
        c->db_path = pf__asprintf("%s/pfetch.db", c->out_dir);
    else
        c->db_path = pf__strdup(cfg->db_path);
    c->user_agent = cfg->user_agent != NULL
                        ? pf__strdup(cfg->user_agent)
                        : pf__strdup("pfetch/" PF_VERSION_STRING);
    c->argv = dup_or_null(cfg->argv);
    if (c->out_dir == NULL || c->db_path == NULL || c->user_agent == NULL ||
        (cfg->argv != NULL && c->argv == NULL))
        goto fail;
    for (i = 0; i < cfg->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(c->headers, cfg->headers[i]);

        if (l == NULL)
            goto fail;
        c->headers = l;
    }
    c->cfg.out_dir = c->out_dir;
    c->cfg.db_path = c->db_path;
    c->cfg.user_agent = c->user_agent;
    c->cfg.argv = c->argv;
    c->cfg.headers = NULL;
    c->cfg.accept = NULL; /* compiled below; the strings are not kept */
    c->cfg.reject = NULL;
    c->parsing_on =
        cfg->recursive || cfg->page_requisites || cfg->on_page != NULL;
    c->max_depth = cfg->depth < 0 ? DEPTH_INF : cfg->depth;
    c->gate = DEPTH_INF;
    set_product(c);
    rc = compile_filter(c, "--accept", cfg->accept, &c->accept_re,
                        &c->have_accept);
    if (rc == 0)
        rc = compile_filter(c, "--reject", cfg->reject, &c->reject_re,
                            &c->have_reject);
    if (rc < 0)
        goto fail;
    rc = PF_ENOMEM;
    c->pool = pf__calloc(cfg->jobs, sizeof(CURL *));
    if (c->pool == NULL)
        goto fail;
    rc = pf_sched_new(&c->s, cfg->stack_size);
    if (rc < 0)
        goto fail;
    curl_multi_setopt(c->s->multi, CURLMOPT_MAXCONNECTS, (long)cfg->jobs);
    pf__timer_init(&c->rate_timer, NULL, c);
    rc = pf__store_open(&c->store, c->out_dir, cfg->layout,
                        c->db_path[0] != '\0' ? c->db_path : NULL);
    if (rc < 0) {
        say(c, PF_LOG_ERROR, "cannot use output directory %s: %s", c->out_dir,
            strerror(errno));
        rc = PF_EOUTDIR;
        goto fail;
    }
    if (c->db_path[0] != '\0') {
        rc = pf__db_open(&c->db, c->db_path, c->argv, &c->run_id, &errmsg);
        if (rc < 0) {
            say(c, PF_LOG_ERROR, "%s",
                errmsg != NULL ? errmsg : "cannot open the log database");
            pf__free(errmsg);
            goto fail;
        }
    }
    if (c->parsing_on) {
        rc = pf_executor_new(&c->ex, cfg->parsers, 0);
        if (rc < 0) {
            say(c, PF_LOG_ERROR, "cannot start the parser threads: %s",
                pf_strerror(rc));
            goto fail;
        }
        /* Jobs in the pool's queue hold a few hundred bytes each. */
        c->parse_cap = 4096;
    }
    *out = c;
    return 0;
fail:
    pf_crawler_free(c);
    return rc;
}

/* Accepting URLs. */

static struct host *host_get(struct pf_crawler *c, const char *url)
{
    char buf[PF__HOSTPORT_BUF];
    char *key = buf;
    struct host *h;
    int n = pf__url_hostport_buf(url, buf, sizeof(buf));

    /* Only a host:port too long for buf costs an allocation. */
    if (n < 0 || ((size_t)n >= sizeof(buf) && pf__url_hostport(url, &key) < 0))
        return NULL;
    h = pf__strmap_get(&c->hosts, key);
    if (h == NULL) {
        h = pf__calloc(1, sizeof(*h));
        if (h != NULL) {
            pf__queue_init(&h->pending);
            pf__queue_init(&h->link);
            if (pf__strmap_put(&c->hosts, key, h) < 0) {
                pf__free(h);
                h = NULL;
            } else {
                pf__queue_insert_tail(&c->all_hosts, &h->all);
            }
        }
    }
    if (key != buf)
        pf__free(key);
    return h;
}

static int host_has_room(const struct pf_crawler *c, const struct host *h)
{
    return c->cfg.per_host == 0 || h->active < c->cfg.per_host;
}

static void robots_start(struct pf_crawler *c, struct host *h, const char *url);
static void note_fatal(struct pf_crawler *c, int err);

/*
 * May h's first waiting item start now?  Retries may; otherwise the
 * depth gate (see the top of the file) and, for a discovered link, the
 * host's robots.txt must allow it.  Asking is what starts the robots.txt
 * fetch of a host.
 */
static int host_can_start(struct pf_crawler *c, struct host *h)
{
    struct item *it;

    if (pf__queue_empty(&h->pending) || !host_has_room(c, h))
        return 0;
    it = pf__container_of(pf__queue_head(&h->pending), struct item, link);
    if (it->parked != NULL)
        return 1;
    if (c->cfg.recursive && (int64_t)it->depth > (int64_t)c->gate + 1)
        return 0;
    if (it->discovered && !c->cfg.no_robots && h->robots != ROBOTS_READY) {
        if (h->robots == ROBOTS_NONE)
            robots_start(c, h, it->url);
        if (h->robots != ROBOTS_READY)
            return 0;
    }
    return 1;
}

/* Put h on the ready list if it can start something and is not there. */
static void host_update(struct pf_crawler *c, struct host *h)
{
    if (!h->in_ready && host_can_start(c, h)) {
        pf__queue_insert_tail(&c->ready_hosts, &h->link);
        h->in_ready = 1;
    }
}

/* Every host again: the gate moved. */
static void hosts_update(struct pf_crawler *c)
{
    struct pf__queue *q;

    for (q = c->all_hosts.next; q != &c->all_hosts; q = q->next)
        host_update(c, pf__container_of(q, struct host, all));
}

/*
 * The gate: how many items of each depth still have links to come.
 * Loop thread.
 */
static int unfinished_add(struct pf_crawler *c, int depth)
{
    if ((size_t)depth >= c->nunfinished) {
        size_t n = c->nunfinished ? c->nunfinished : 8;
        uint64_t *v;

        while (n <= (size_t)depth)
            n *= 2;
        v = pf__realloc(c->unfinished, n * sizeof(*v));
        if (v == NULL)
            return PF_ENOMEM;
        memset(v + c->nunfinished, 0, (n - c->nunfinished) * sizeof(*v));
        c->unfinished = v;
        c->nunfinished = n;
    }
    c->unfinished[depth]++;
    if (depth < c->gate)
        c->gate = depth;
    return 0;
}

static void unfinished_done(struct pf_crawler *c, int depth)
{
    int old = c->gate;

    if (--c->unfinished[depth] != 0 || depth != c->gate)
        return;
    while ((size_t)c->gate < c->nunfinished && c->unfinished[c->gate] == 0)
        c->gate++;
    if ((size_t)c->gate == c->nunfinished)
        c->gate = DEPTH_INF;
    if (c->cfg.recursive && c->gate != old && !c->stopping)
        hosts_update(c);
}

/* Insert it into its host's queue, which is kept sorted by depth. */
static void enqueue(struct host *h, struct item *it)
{
    struct pf__queue *q = h->pending.prev;

    /* New items mostly have the largest depth: scan from the tail. */
    while (q != &h->pending &&
           pf__container_of(q, struct item, link)->depth > it->depth)
        q = q->prev;
    pf__queue_insert_head(q, &it->link);
}

/* Flags of accept_url(). */
#define ACCEPT_DISCOVERED 1 /* found in a page, not given by the user */
#define ACCEPT_REQUISITE 2  /* a page requisite (-p) */
#define ACCEPT_RESUMED 4    /* from an earlier run's frontier (-c) */

static int accept_url(struct pf_crawler *c, const char *url, int depth,
                      const char *parent, int flags)
{
    struct item *it;
    size_t len = strlen(url);
    int rc;

    if (pf__strmap_has(&c->seen, url))
        return PF_EDUPLICATE;
    rc = pf__strmap_put(&c->seen, url, NULL);
    if (rc < 0)
        return rc;
    if (c->parsing_on && !(flags & ACCEPT_DISCOVERED)) {
        /* A seed's host is in scope, even when the seed is skipped. */
        char *hp = NULL;

        rc = pf__url_hostport(url, &hp);
        if (rc == 0)
            rc = pf__strmap_put(&c->seed_hosts, hp, NULL);
        pf__free(hp);
        if (rc < 0)
            return rc;
    }
    if (c->cfg.resume && c->db != NULL) {
        rc = pf__db_is_done(c->db, url);
        if (rc > 0)
            return 0; /* done in an earlier run: skipped, no row */
    }
    it = pf__calloc(1, sizeof(*it) + len + 1);
    if (it == NULL)
        return PF_ENOMEM;
    memcpy(it->url, url, len + 1);
    it->c = c;
    it->depth = depth;
    it->discovered = (flags & ACCEPT_DISCOVERED) != 0;
    it->requisite = (flags & ACCEPT_REQUISITE) != 0;
    if (parent != NULL) {
        it->parent = pf__strdup(parent);
        if (it->parent == NULL) {
            pf__free(it);
            return PF_ENOMEM;
        }
    }
    it->host = host_get(c, url);
    if (it->host == NULL || unfinished_add(c, depth) < 0) {
        pf__free(it->parent);
        pf__free(it);
        return PF_ENOMEM;
    }
    if (c->parsing_on) {
        /* While it waits, a shorter path to it may still turn up. */
        pf__strmap_set(&c->seen, url, it);
        if (it->discovered && c->db != NULL && !(flags & ACCEPT_RESUMED)) {
            rc = pf__db_log_frontier(c->db, url, depth, parent, it->requisite);
            if (rc < 0)
                note_fatal(c, rc);
        }
    }
    enqueue(it->host, it);
    host_update(c, it->host);
    c->st.accepted++;
    c->st.queued++;
    return 0;
}

/*
 * A URL found again while it waits: a shorter path wins (depth, parent),
 * and being a page wins over being a requisite.  Loop thread.
 */
static void requeue_closer(struct pf_crawler *c, struct item *it, int depth,
                           const char *parent, int requisite)
{
    if (depth < it->depth) {
        char *p = pf__strdup(parent);

        if (p == NULL)
            return; /* keep the longer path: right enough, and no leak */
        pf__free(it->parent);
        it->parent = p;
        c->unfinished[it->depth]--; /* never the gate's depth: it is waiting */
        unfinished_add(c, depth);   /* the slot exists: cannot fail */
        it->depth = depth;
        pf__queue_remove(&it->link);
        enqueue(it->host, it);
        if (c->db != NULL)
            pf__db_log_frontier(c->db, it->url, depth, parent, requisite);
        host_update(c, it->host);
    }
    if (!requisite && depth <= it->depth)
        it->requisite = 0;
}

/* In scope (host), through --accept and --reject?  Loop thread. */
static int link_wanted(struct pf_crawler *c, const char *url)
{
    if (!c->cfg.span_hosts) {
        char buf[PF__HOSTPORT_BUF];
        char *hp = buf;
        int n = pf__url_hostport_buf(url, buf, sizeof(buf));
        int in;

        if (n < 0 ||
            ((size_t)n >= sizeof(buf) && pf__url_hostport(url, &hp) < 0))
            return 0;
        in = pf__strmap_has(&c->seed_hosts, hp);
        if (hp != buf)
            pf__free(hp);
        if (!in)
            return 0;
    }
    if (c->have_accept && regexec(&c->accept_re, url, 0, NULL, 0) != 0)
        return 0;
    if (c->have_reject && regexec(&c->reject_re, url, 0, NULL, 0) == 0)
        return 0;
    return 1;
}

/* A link of a parsed page.  Loop thread. */
static void accept_link(struct pf_crawler *c, const char *url, int depth,
                        const char *parent, int requisite)
{
    void *v = NULL;
    int rc;

    if (pf__strmap_lookup(&c->seen, url, &v)) {
        if (v != NULL)
            requeue_closer(c, v, depth, parent, requisite);
        return;
    }
    if (!link_wanted(c, url))
        return;
    rc = accept_url(c, url, depth, parent,
                    ACCEPT_DISCOVERED | (requisite ? ACCEPT_REQUISITE : 0));
    if (rc == PF_ENOMEM)
        note_fatal(c, rc);
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

    if (!c->stopping && !c->finished) {
        if (q->parent == NULL)
            accept_url(c, q->url, 0, NULL, 0);
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

    /* Other threads read only atomics: stopping and finished are the loop's. */
    if (atomic_load(&c->closed) || atomic_load(&c->stop_requested))
        return PF_ESTATE;
    if (pthread_equal(pthread_self(), c->loop_thread)) {
        if (parent == NULL)
            return accept_url(c, url, 0, NULL, 0);
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
    pf__loop_post_node(&c->s->loop, &q->post);
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

static void on_bad_line(const char *name, long lineno, const char *why,
                        void *userdata)
{
    say(userdata, PF_LOG_ERROR, "%s:%ld: %s", name, lineno, why);
}

static int add_source(struct pf_crawler *c, FILE *fp, const char *name, int own)
{
    struct source *v;
    int rc;

    v = pf__realloc(c->sources, (c->nsources + 1) * sizeof(*v));
    if (v == NULL)
        return PF_ENOMEM;
    c->sources = v;
    rc =
        pf__urllist_open(&v[c->nsources].reader, fp, name, own, on_bad_line, c);
    if (rc < 0)
        return rc;
    c->nsources++;
    return 0;
}

int pf_crawler_add_list(pf_crawler *c, const char *path)
{
    FILE *fp;
    int rc;

    if (c == NULL || path == NULL)
        return PF_EINVAL;
    if (strcmp(path, "-") == 0)
        return add_source(c, stdin, "-", 0);
    fp = fopen(path, "re");
    if (fp == NULL) {
        say(c, PF_LOG_ERROR, "cannot read %s: %s", path, strerror(errno));
        return PF_EIO;
    }
    {
        struct stat sb;

        if (fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
            say(c, PF_LOG_ERROR, "cannot read %s: %s", path, strerror(EISDIR));
            fclose(fp);
            return PF_EIO;
        }
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

static void note_fatal(struct pf_crawler *c, int err)
{
    if (c->fatal == 0)
        c->fatal = err;
    atomic_store(&c->stop_requested, 1);
}

/* The log failed with rc: say why, and stop the run. */
static void db_failed(struct pf_crawler *c, int rc)
{
    const char *why = pf__db_errmsg(c->db);

    say(c, PF_LOG_ERROR, "log database: %s",
        why != NULL ? why : pf_strerror(rc));
    note_fatal(c, rc);
}

/*
 * A body that could not be written, created or saved for the storage's
 * sake rather than its URL's (a full disk or quota, a device error, a
 * file system gone read-only) stops the run: nothing new would fare
 * better.  Other errors (a name clash, a path too long) fail that URL.
 */
static void note_storage_error(struct pf_crawler *c, int sys_errno)
{
    if (sys_errno == ENOSPC || sys_errno == EDQUOT)
        note_fatal(c, PF_EDISKFULL);
    else if (sys_errno == EIO || sys_errno == EROFS)
        note_fatal(c, PF_EIO);
}

/*
 * Read list lines until enough work is queued.  The lookahead lets the
 * per-host queues keep every slot busy without loading a whole list.
 */
static void read_sources(struct pf_crawler *c)
{
    size_t want = c->cfg.jobs * 4;

    if (want < LIST_LOOKAHEAD_MIN)
        want = LIST_LOOKAHEAD_MIN;
    while (c->cur_source < c->nsources && c->st.queued < want && !c->stopping) {
        struct source *src = &c->sources[c->cur_source];
        const char *url;
        long lineno;
        int rc = pf__urllist_next(src->reader, &url, &lineno);

        if (rc == PF_ENOMEM) {
            note_fatal(c, PF_ENOMEM);
            return;
        }
        if (rc <= 0) {
            if (rc < 0)
                say(c, PF_LOG_ERROR, "cannot read a URL list: %s",
                    rc == PF_EIO ? strerror(errno) : pf_strerror(rc));
            pf__urllist_close(src->reader);
            src->reader = NULL;
            c->cur_source++;
            continue;
        }
        rc = accept_url(c, url, 0, NULL, 0);
        if (rc == PF_ENOMEM) {
            note_fatal(c, PF_ENOMEM);
            return;
        }
    }
}

/* Easy handles. */

static size_t on_header(char *p, size_t size, size_t n, void *ud);
static size_t on_body(char *p, size_t size, size_t n, void *ud);
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow);

/*
 * A new easy handle with what every request of the job shares: redirects,
 * protocols, identity, headers, timeouts.  Pool handles and robots.txt's
 * alike.
 */
static CURL *easy_new(struct pf_crawler *c)
{
    const struct pf_config *cfg = &c->cfg;
    CURL *e = curl_easy_init();

    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    if (c->headers != NULL)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)cfg->connect_timeout_ms);
    if (cfg->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    if (cfg->stall_timeout_ms > 0) {
        /* Less than 1 byte/s over the window: stalled. */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                         (long)((cfg->stall_timeout_ms + 999) / 1000));
    }
    return e;
}

static CURL *easy_get(struct pf_crawler *c)
{
    CURL *e;

    if (c->npool > 0)
        return c->pool[--c->npool];
    /* What never changes between transfers is set once per handle. */
    e = easy_new(c);
    if (e == NULL)
        return NULL;
    /*
     * No CURLOPT_MAXFILESIZE: it judges the Content-Length, which is the
     * encoded size of a compressed body; --max-filesize is about the
     * decoded one, checked in on_body().
     */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)EASY_BUFFER_SIZE);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    if (c->cfg.stall_timeout_ms > 0) {
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    }
    return e;
}

static void easy_put(struct pf_crawler *c, CURL *e)
{
    if (c->npool < c->cfg.jobs && !c->stopping) {
        c->pool[c->npool++] = e;
        return;
    }
    curl_easy_cleanup(e);
}

/* One attempt's state, on the coroutine's stack. */
struct attempt {
    struct pf_crawler *c;
    struct item *it;
    CURL *easy;
    struct pf__sink *sink; /* the item's sink (kept across attempts) */
    int *sink_open;
    int local_err;        /* PF_EDISKFULL, PF_EIO, or PF_EINVAL = cap */
    struct pf__resp resp; /* what the last response's headers said */
    char *response_url;   /* URL of the last response */
    int64_t body;         /* decoded bytes received this attempt */
    int paused;
    struct pf__queue pause_link;
    int range_checked;
    int64_t resume_from;
    char *part_validator; /* of the body the .part holds, "" if none */
    int64_t last_rx_ns;   /* when a byte (header or body) last came */
    int stalled;          /* aborted by the stall check */
};

/*
 * Can a 206 be appended to the .part?  Only a piece that starts where the
 * .part ends, and not content-encoded: Range counts the encoded bytes, the
 * .part holds decoded ones.
 */
static int piece_fits(const struct attempt *a)
{
    return !a->resp.encoded && a->resp.range_start == a->resume_from;
}

/* What an attempt holds, given back once it is over. */
static void attempt_end(struct pf_crawler *c, struct attempt *a)
{
    easy_put(c, a->easy);
    pf__resp_free(&a->resp);
    pf__free(a->response_url);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct attempt *a = ud;
    size_t len = size * n;

    a->last_rx_ns = a->c->s->loop.now_ns;
    if (pf__resp_line(&a->resp, p, len)) {
        /* A new response: the URL it answers (a refused redirect has none). */
        char *eff = NULL;

        curl_easy_getinfo(a->easy, CURLINFO_EFFECTIVE_URL, &eff);
        if (eff != NULL &&
            (a->response_url == NULL || strcmp(a->response_url, eff) != 0)) {
            pf__free(a->response_url);
            a->response_url = pf__strdup(eff);
        }
    }
    return len;
}

static int open_sink(struct attempt *a)
{
    int rc;

    if (*a->sink_open)
        return 0;
    rc = pf__sink_open(a->c->store, a->sink, a->it->url, a->resp.disposition,
                       a->c->cfg.resume);
    if (rc < 0)
        return rc;
    *a->sink_open = 1;
    return 0;
}

static void rate_refill(struct pf_crawler *c)
{
    int64_t now = pf__now_ns();
    int64_t burst = c->cfg.rate / 10 > 16384 ? c->cfg.rate / 10 : 16384;

    c->tokens += (now - c->tokens_ns) * c->cfg.rate / 1000000000;
    if (c->tokens > burst)
        c->tokens = burst;
    c->tokens_ns = now;
}

static void rate_tick(struct pf__loop *l, struct pf__timer *t)
{
    struct pf_crawler *c = t->data;

    (void)l;
    rate_refill(c);
    /* Unpause in order; each may consume tokens (or pause again). */
    while (c->tokens > 0 && !pf__queue_empty(&c->paused)) {
        struct attempt *a = pf__container_of(pf__queue_head(&c->paused),
                                             struct attempt, pause_link);

        pf__queue_remove(&a->pause_link);
        a->paused = 0;
        curl_easy_pause(a->easy, CURLPAUSE_CONT);
    }
    if (!pf__queue_empty(&c->paused))
        pf__timer_start(&c->s->loop, &c->rate_timer,
                        pf__now_ns() + 20 * 1000000);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct attempt *a = ud;
    struct pf_crawler *c = a->c;
    size_t len = size * n;
    long code = 0;

    (void)size;
    a->last_rx_ns = c->s->loop.now_ns;
    if (c->cfg.rate > 0) {
        rate_refill(c);
        if (c->tokens <= 0) {
            if (!a->paused) {
                a->paused = 1;
                pf__queue_insert_tail(&c->paused, &a->pause_link);
            }
            if (!pf__timer_active(&c->rate_timer)) {
                c->rate_timer.cb = rate_tick;
                pf__timer_start(&c->s->loop, &c->rate_timer,
                                pf__now_ns() + (-c->tokens + 1) * 1000000000 /
                                                   c->cfg.rate);
            }
            return CURL_WRITEFUNC_PAUSE;
        }
        c->tokens -= (int64_t)len;
    }
    /*
     * The status of the response this body belongs to: the header
     * callback parsed its status line, so no getinfo call per chunk.
     */
    code = a->resp.status;
    if (code < 200 || code > 299)
        return len; /* an error page: read and dropped, keeps keep-alive */
    if (!a->range_checked) {
        curl_off_t cl = -1;

        a->range_checked = 1;
        /* A plain body announced too big is refused before it comes. */
        curl_easy_getinfo(a->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        if (c->cfg.max_filesize > 0 && !a->resp.encoded && cl > 0 &&
            (code == 206 ? a->resume_from : 0) + cl > c->cfg.max_filesize) {
            a->local_err = PF_EINVAL;
            return 0;
        }
        if (open_sink(a) < 0) {
            a->local_err = PF_EIO;
            return 0;
        }
        if (code == 206 && !piece_fits(a))
            return 0; /* crawl_one() starts over without Range */
        /* A server that ignored our Range sends everything again. */
        if (code != 206 && a->sink->offset + a->sink->bytes > 0 &&
            pf__sink_truncate(a->sink) < 0) {
            a->local_err = PF_EIO;
            return 0;
        }
        /*
         * What the .part now holds comes from this response: a retry
         * after a cut may go on from its end, with If-Range, when the
         * response had a validator and came as it is.
         */
        if (code != 206)
            snprintf(a->part_validator, sizeof(a->resp.validator), "%s",
                     a->resp.encoded ? "" : a->resp.validator);
        /*
         * A new body that does not come in one piece keeps its validator
         * with the .part, for an If-Range after an interruption.  A body
         * whole in its first piece is not worth the system calls.
         */
        if (code != 206 && a->resp.validator[0] != '\0' &&
            !(!a->resp.encoded && cl >= 0 && (curl_off_t)len >= cl))
            pf__sink_set_validator(a->sink, a->resp.validator);
    }
    a->body += (int64_t)len;
    c->st.bytes += len;
    if (c->cfg.max_filesize > 0 &&
        a->sink->offset + a->sink->bytes + (int64_t)len > c->cfg.max_filesize) {
        a->local_err = PF_EINVAL;
        return 0;
    }
    {
        int rc = pf__sink_write(a->sink, p, len);

        if (rc < 0) {
            a->local_err = rc;
            return 0;
        }
    }
    return len;
}

/*
 * --stall-timeout: curl's low-speed check averages over its window, so a
 * trickle followed by silence would pass for a while.  This callback,
 * which curl calls at least once a second while the low-speed check is
 * armed, fails an attempt that has received nothing for the full time.
 * A transfer paused by --rate is waiting on us, not stalled.
 */
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct attempt *a = ud;
    int64_t stall = a->c->cfg.stall_timeout_ms;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (stall <= 0 || a->paused)
        return 0;
    if (pf__now_ns() - a->last_rx_ns >= stall * 1000000) {
        a->stalled = 1;
        return 1;
    }
    return 0;
}

/* Slots. */

static void release_slot(struct pf_crawler *c, struct item *it)
{
    it->host->active--;
    c->active--;
    c->st.in_flight = c->active;
    host_update(c, it->host);
}

static void park_cancel(struct pf_co *co, void *arg)
{
    struct item *it = arg;

    (void)co;
    pf__queue_remove(&it->link);
    it->parked = NULL;
    it->c->st.queued--;
}

/* Wait, holding no slot, until refill() gives this item a slot again. */
static int acquire_slot(struct pf_crawler *c, struct item *it)
{
    it->parked = c->s->current;
    /* Retries go first: they were accepted before anything queued now. */
    pf__queue_insert_head(&it->host->pending, &it->link);
    c->st.queued++;
    host_update(c, it->host);
    c->s->current->cancel = park_cancel;
    c->s->current->cancel_arg = it;
    return pf__sched_suspend(c->s);
}

/* Give free slots to ready hosts, round-robin.  Loop thread. */
static void crawl_one(void *arg);
static void finish_refused(struct pf_crawler *c, struct item *it);

static void refill(struct pf_crawler *c)
{
    /* Parsers far behind: fetch nothing new until they catch up. */
    if (!pf__queue_empty(&c->parse_backlog))
        return;
    while (c->active < c->cfg.jobs && !pf__queue_empty(&c->ready_hosts) &&
           !c->stopping) {
        struct host *h = pf__container_of(pf__queue_head(&c->ready_hosts),
                                          struct host, link);
        struct item *it;

        pf__queue_remove(&h->link);
        h->in_ready = 0;
        if (!host_can_start(c, h))
            continue; /* the gate or robots.txt: host_update() brings it back */
        it = pf__container_of(pf__queue_head(&h->pending), struct item, link);
        if (it->parked == NULL && it->discovered && h->rules != NULL &&
            !pf__robots_allowed(h->rules, pf__url_path_query(it->url))) {
            pf__queue_remove(&it->link);
            c->st.queued--;
            if (c->parsing_on)
                pf__strmap_set(&c->seen, it->url, NULL);
            finish_refused(c, it);
            host_update(c, h);
            continue;
        }
        if (it->parked == NULL && pf_spawn(c->s, crawl_one, it, NULL) < 0) {
            host_update(c, h);
            break; /* out of memory: try again at the next iteration */
        }
        pf__queue_remove(&it->link);
        c->st.queued--;
        if (c->parsing_on && it->parked == NULL)
            pf__strmap_set(&c->seen, it->url, NULL); /* its depth is final */
        h->active++;
        c->active++;
        c->st.in_flight = c->active;
        if (it->parked != NULL) {
            struct pf_co *co = it->parked;

            it->parked = NULL;
            pf__sched_wake(c->s, co, 0);
        }
        host_update(c, h);
    }
}

/* Results. */

static int is_transient_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

/*
 * A response header over libcurl's limit (100 KiB a line) comes back as
 * CURLE_OUT_OF_MEMORY before libcurl 8.6, CURLE_TOO_LARGE since: both
 * after a status line and before any body, which no real shortage of
 * memory would single out.
 */
static int headers_too_large(CURLcode cc, long code, int64_t body)
{
#if LIBCURL_VERSION_NUM >= 0x080600
    if (cc == CURLE_TOO_LARGE)
        cc = CURLE_OUT_OF_MEMORY;
#endif
    return cc == CURLE_OUT_OF_MEMORY && code > 0 && body == 0;
}

static int is_transient_status(long st)
{
    return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 ||
           st == 504;
}

static const char *status_text(long st)
{
    static const struct {
        long code;
        const char *text;
    } tab[] = {
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {402, "Payment Required"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {407, "Proxy Authentication Required"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {412, "Precondition Failed"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {416, "Range Not Satisfiable"},
        {417, "Expectation Failed"},
        {418, "I'm a teapot"},
        {421, "Misdirected Request"},
        {422, "Unprocessable Content"},
        {425, "Too Early"},
        {426, "Upgrade Required"},
        {428, "Precondition Required"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {451, "Unavailable For Legal Reasons"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
        {300, "Multiple Choices"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {100, "Continue"},
    };
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(tab); i++)
        if (tab[i].code == st)
            return tab[i].text;
    return "";
}

static int64_t backoff_ms(struct pf_crawler *c, int attempt, CURL *e)
{
    int64_t d = c->cfg.retry_base_ms;
    curl_off_t ra = 0;
    int i;

    /* Retry-After (seconds or HTTP-date, parsed by curl) wins, capped. */
    if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        return (ra > 3600 ? 3600 : (int64_t)ra) * 1000;
    for (i = 1; i < attempt && d < c->cfg.retry_max_ms; i++)
        d *= 2;
    if (d > c->cfg.retry_max_ms)
        d = c->cfg.retry_max_ms;
    /* Jitter: somewhere in [3/4, 5/4] of the nominal delay. */
    if (d > 0)
        d = d * 3 / 4 + (int64_t)(random() % (d / 2 + 1));
    return d;
}

static void finish_item(struct pf_crawler *c, struct item *it,
                        struct pf_result *r)
{
    int rc;

    if (c->db != NULL) {
        rc = pf__db_log_fetch(c->db, r);
        if (rc < 0)
            db_failed(c, rc);
    }
    c->st.done++;
    if (r->err != 0)
        c->st.failed += r->err != PF_EROBOTS;
    c->st.refused += r->err == PF_EROBOTS;
    if (c->cfg.on_done != NULL)
        c->cfg.on_done(c, r, c->cfg.userdata);
}

/* The item is through: its row is written and its links handled. */
static void item_free(struct pf_crawler *c, struct item *it)
{
    unfinished_done(c, it->depth);
    pf__free(it->parent);
    pf__free(it);
}

/* The row of an item that made no request: err and why say why. */
static void finish_without_request(struct pf_crawler *c, struct item *it,
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
    item_free(c, it);
}

/* A row for an item that never started (the run was stopped). */
static void finish_unstarted(struct pf_crawler *c, struct item *it)
{
    finish_without_request(c, it, PF_ECANCELED,
                           "interrupted before it started");
}

/* The row of a discovered link that robots.txt refuses; no request. */
static void finish_refused(struct pf_crawler *c, struct item *it)
{
    finish_without_request(c, it, PF_EROBOTS, "refused by robots.txt");
}

static int parse_later(struct pf_crawler *c, struct item *it,
                       const struct pf_result *r);

/*
 * The request headers of a resumed attempt: the user's, and If-Range
 * with the validator kept with the .part.  0 with *out set, or -1 when
 * there is no validator (the resume then goes with Range alone).
 */
static int if_range(struct attempt *a, const char *v, struct curl_slist **out)
{
    char line[sizeof(a->resp.validator) + 16];
    const struct curl_slist *h;
    struct curl_slist *l = NULL, *n;

    if (strlen(v) < 6)
        return -1;
    for (h = a->c->headers; h != NULL; h = h->next) {
        n = curl_slist_append(l, h->data);
        if (n == NULL)
            goto fail;
        l = n;
    }
    snprintf(line, sizeof(line), "If-Range: %s", v + 5);
    n = curl_slist_append(l, line);
    if (n == NULL)
        goto fail;
    *out = n;
    return 0;
fail:
    curl_slist_free_all(l);
    return -1;
}

/*
 * Did the transfer fail on what came before any status line, on a
 * connection it did not open?  Then the fault is the connection's, not
 * the URL's: a server that sent more than a Content-Length said leaves
 * its excess to be read as the next response.
 */
static int junk_on_reused(CURL *e, CURLcode cc, long code)
{
    long connects = -1;

    if (code != 0 ||
        (cc != CURLE_UNSUPPORTED_PROTOCOL && cc != CURLE_WEIRD_SERVER_REPLY))
        return 0;
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    return connects == 0;
}

static void crawl_one(void *arg)
{
    struct item *it = arg;
    struct pf_crawler *c = it->c;
    struct pf__sink sink;
    int sink_open = 0;
    struct pf_result r;
    char errbuf[CURL_ERROR_SIZE];
    char msg[CURL_ERROR_SIZE + 128];
    char *final_url = NULL;
    char *ctype = NULL;
    int64_t t0 = pf__now_ms();
    int have_slot = 1;
    int restarted = 0; /* a 416 made us start the .part over */
    int refreshed = 0; /* junk on a reused connection: 1 the next attempt
                          goes on a new one, 2 it went */
    char part_validator[sizeof(((struct pf__resp *)0)->validator)] = "";

    memset(&sink, 0, sizeof(sink));
    sink.fd = -1;
    sink.dirfd = -1;
    memset(&r, 0, sizeof(r));
    r.url = it->url;
    r.depth = it->depth;
    r.parent_url = it->parent;
    r.started_at_ms = pf__wall_ms();
    msg[0] = '\0';

    for (;;) {
        struct attempt a;
        struct curl_slist *if_hdrs = NULL;
        CURLcode cc = CURLE_OK;
        long code = 0;
        int rc, transient;

        memset(&a, 0, sizeof(a));
        pf__resp_init(&a.resp);
        a.c = c;
        a.it = it;
        a.sink = &sink;
        a.sink_open = &sink_open;
        a.part_validator = part_validator;
        pf__queue_init(&a.pause_link);
        a.easy = easy_get(c);
        errbuf[0] = '\0';
        r.attempts++;
        if (a.easy == NULL) {
            r.err = PF_ENOMEM;
            snprintf(msg, sizeof(msg), "out of memory");
            break;
        }
        if (c->cfg.resume) {
            /* Resume a .part left by an interrupted run, with Range. */
            if (open_sink(&a) < 0) {
                r.err = PF_EIO;
                snprintf(msg, sizeof(msg), "cannot open %s.part: %s",
                         sink.relpath ? sink.relpath : it->url,
                         strerror(sink.sys_errno));
                attempt_end(c, &a);
                break;
            }
            if (r.attempts == 1)
                pf__sink_get_validator(&sink, part_validator,
                                       sizeof(part_validator));
        }
        /* A .part kept by an earlier run or attempt goes on from its end. */
        if (sink_open)
            a.resume_from = sink.offset + sink.bytes;
        curl_easy_setopt(a.easy, CURLOPT_URL, (const char *)it->url);
        curl_easy_setopt(a.easy, CURLOPT_HEADERDATA, &a);
        curl_easy_setopt(a.easy, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(a.easy, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(a.easy, CURLOPT_XFERINFODATA, &a);
        a.last_rx_ns = pf__now_ns();
        /*
         * A Range header rather than CURLOPT_RESUME_FROM, which fails the
         * transfer when the server ignores the range: we restart the file
         * instead (on_body truncates it on a 200).
         */
        {
            char range[32];

            snprintf(range, sizeof(range), "%lld-", (long long)a.resume_from);
            curl_easy_setopt(a.easy, CURLOPT_RANGE,
                             a.resume_from > 0 ? range : (char *)NULL);
        }
        /*
         * If-Range with the validator of the .part: a server whose copy
         * changed since sends it whole (200), never a piece of another
         * version to splice onto ours.
         */
        if (a.resume_from > 0 && if_range(&a, part_validator, &if_hdrs) == 0)
            curl_easy_setopt(a.easy, CURLOPT_HTTPHEADER, if_hdrs);
        if (refreshed == 1)
            curl_easy_setopt(a.easy, CURLOPT_FRESH_CONNECT, 1L);
        rc = pf_fetch(c->s, a.easy, &cc);
        if (refreshed == 1) {
            curl_easy_setopt(a.easy, CURLOPT_FRESH_CONNECT, 0L);
            refreshed = 2;
        }
        if (if_hdrs != NULL) {
            curl_easy_setopt(a.easy, CURLOPT_HTTPHEADER, c->headers);
            curl_slist_free_all(if_hdrs);
            if_hdrs = NULL;
        }
        if (a.paused)
            pf__queue_remove(&a.pause_link);
        curl_easy_setopt(a.easy, CURLOPT_ERRORBUFFER, (char *)NULL);
        curl_easy_getinfo(a.easy, CURLINFO_RESPONSE_CODE, &code);
        pf__free(final_url);
        /* final_url: the last response's URL, not a refused target's. */
        if (a.response_url != NULL) {
            final_url = a.response_url;
            a.response_url = NULL;
        } else {
            final_url = NULL;
        }
        {
            char *ct = NULL;

            curl_easy_getinfo(a.easy, CURLINFO_CONTENT_TYPE, &ct);
            pf__free(ctype);
            ctype = ct != NULL ? pf__strdup(ct) : NULL;
        }
        r.status = code;
        r.curl_code = rc < 0 ? CURLE_ABORTED_BY_CALLBACK : (int)cc;
        transient = 0;
        if (rc < 0) {
            r.err = rc;
            snprintf(msg, sizeof(msg), "%s",
                     rc == PF_ECANCELED ? "interrupted" : pf_strerror(rc));
        } else if (a.local_err == PF_EINVAL || cc == CURLE_FILESIZE_EXCEEDED) {
            r.err = PF_EINVAL;
            snprintf(msg, sizeof(msg),
                     "body larger than --max-filesize (%lld bytes)",
                     (long long)c->cfg.max_filesize);
        } else if (a.local_err != 0) {
            r.err = a.local_err;
            snprintf(msg, sizeof(msg), "cannot write %s: %s",
                     sink.relpath ? sink.relpath : "file",
                     strerror(sink.sys_errno));
        } else if (refreshed == 0 && junk_on_reused(a.easy, cc, code)) {
            /*
             * Bytes came before our response on a kept-alive connection:
             * most likely what a previous response sent past its
             * Content-Length.  Once, at once, on a new connection.  No
             * body came, so a .part being resumed stays as it is.
             */
            refreshed = 1;
            attempt_end(c, &a);
            say(c, PF_LOG_INFO,
                "%s: %s on a reused connection; again on a new one", it->url,
                errbuf[0] ? errbuf : curl_easy_strerror(cc));
            continue;
        } else if (!restarted && a.resume_from > 0 &&
                   ((code == 416 && a.resp.range_total != a.resume_from) ||
                    (code == 206 && !piece_fits(&a)))) {
            /*
             * The .part is longer than the body (416), or the piece sent
             * cannot be appended to it: start it over, at once.
             */
            restarted = 1;
            part_validator[0] = '\0';
            attempt_end(c, &a);
            if (pf__sink_truncate(&sink) == 0)
                continue;
            r.err = PF_EIO;
            snprintf(msg, sizeof(msg), "cannot truncate %s.part: %s",
                     sink.relpath, strerror(sink.sys_errno));
            break;
        } else if (cc != CURLE_OK) {
            r.err = PF_ECURL;
            transient = a.stalled || is_transient_curl(cc);
            if (cc == CURLE_UNSUPPORTED_PROTOCOL && code >= 300 && code < 400)
                snprintf(msg, sizeof(msg),
                         "redirect to an unsupported scheme refused");
            else if (headers_too_large(cc, code, a.body))
                snprintf(msg, sizeof(msg),
                         "response headers over libcurl's size limit");
            else if (a.stalled ||
                     (cc == CURLE_OPERATION_TIMEDOUT && errbuf[0] != '\0' &&
                      strstr(errbuf, "than 1 bytes/sec") != NULL))
                snprintf(msg, sizeof(msg),
                         "stalled: nothing received for "
                         "%lld s",
                         (long long)((c->cfg.stall_timeout_ms + 999) / 1000));
            else
                snprintf(msg, sizeof(msg), "%s",
                         errbuf[0] ? errbuf : curl_easy_strerror(cc));
        } else if (code == 416 && a.resume_from > 0 &&
                   a.resp.range_total == a.resume_from) {
            /*
             * Nothing past the end of our .part: it is the whole body
             * already (an earlier run stopped between its last byte and
             * the rename).  Keep it.
             */
            r.err = 0;
            r.status = 200;
            if (pf__sink_commit(&sink) < 0) {
                r.err = PF_EIO;
                snprintf(msg, sizeof(msg), "cannot save %s: %s", sink.relpath,
                         strerror(sink.sys_errno));
            }
        } else if (code < 200 || code > 299) {
            const char *reason =
                a.resp.reason[0] ? a.resp.reason : status_text(code);

            r.err = PF_ECURL;
            transient = is_transient_status(code);
            snprintf(msg, sizeof(msg), "HTTP %ld%s%s", code,
                     reason[0] ? " " : "", reason);
        } else {
            /* Success: an empty body still makes an (empty) file. */
            r.err = 0;
            if (open_sink(&a) < 0) {
                r.err = PF_EIO;
                snprintf(msg, sizeof(msg), "cannot create %s: %s",
                         sink.relpath ? sink.relpath : it->url,
                         strerror(sink.sys_errno));
            } else if (pf__sink_commit(&sink) < 0) {
                r.err = PF_EIO;
                snprintf(msg, sizeof(msg), "cannot save %s: %s", sink.relpath,
                         strerror(sink.sys_errno));
            }
        }
        if (r.err == 0 || rc < 0 || !transient ||
            r.attempts > (int)c->cfg.retries || c->stopping) {
            attempt_end(c, &a);
            break;
        }
        /* A transient failure: back off without holding a slot. */
        {
            int64_t wait = backoff_ms(c, r.attempts, a.easy);

            attempt_end(c, &a);
            /*
             * A .part whose body has a validator is kept: the retry asks
             * for the rest with Range and If-Range.  Any other starts over.
             */
            if (sink_open && part_validator[0] == '\0')
                pf__sink_truncate(&sink);
            say(c, PF_LOG_INFO, "%s: %s; retrying in %lld ms", it->url, msg,
                (long long)wait);
            release_slot(c, it);
            have_slot = 0;
            rc = pf_sleep(c->s, wait);
            if (rc == 0)
                rc = acquire_slot(c, it);
            if (rc < 0) {
                char last[sizeof(msg)];

                memcpy(last, msg, sizeof(last));
                r.err = rc;
                snprintf(msg, sizeof(msg),
                         "interrupted while waiting to "
                         "retry (after: %.200s)",
                         last);
                break;
            }
            have_slot = 1;
        }
    }
    if (have_slot)
        release_slot(c, it);
    if (r.err == PF_EIO || r.err == PF_EDISKFULL)
        note_storage_error(c, sink.sys_errno);
    if (sink_open && r.err != 0)
        pf__sink_abort(&sink, r.err == PF_ECANCELED);
    r.final_url = final_url != NULL ? final_url : it->url;
    r.content_type = ctype;
    r.bytes = r.err == 0 ? sink.offset + sink.bytes : 0;
    r.path = r.err == 0 && sink_open ? sink.relpath : NULL;
    r.error = r.err == 0 ? NULL : msg;
    r.elapsed_ms = pf__now_ms() - t0;
    /*
     * A page to parse gets its row once its links are accepted (and their
     * frontier rows queued before it), so that a page the log says is done
     * always has its links in the frontier, crash or not: what a resumed
     * crawl relies on.
     */
    if (r.err != 0 || !parse_later(c, it, &r)) {
        finish_item(c, it, &r);
        item_free(c, it);
    }
    pf__sink_free(&sink);
    pf__free(final_url);
    pf__free(ctype);
}

/*
 * Parsing.  A parse job carries copies of what the parser needs; the
 * item stays alive (and counted unfinished at its depth) until the job
 * comes back to the loop thread in on_parsed().  The parser thread reads
 * the job and writes only its links, err and follow fields; the loop
 * thread touches the job again only once it is posted back.
 */
struct parse_job {
    struct pf__post post;     /* the way back to the loop thread */
    struct pf__queue backlog; /* in c->parse_backlog while it waits */
    struct pf_crawler *c;
    struct item *it;
    enum pf__doc_type type;
    int follow_links; /* -r: links become items at depth + 1 */
    int follow_reqs;  /* -p: requisites become items at depth + 1 */
    int err;
    char *final_url;
    char *ctype;
    char *path;    /* relative to out_dir */
    char *abspath; /* what the parser opens */
    struct pf__links links;
    unsigned char *follow; /* per link, from on_page; NULL = all */
    struct pf_result r;    /* the page's row, written in on_parsed() */
};

static void parse_job_free(struct parse_job *job)
{
    pf__links_free(&job->links);
    pf__free(job->follow);
    pf__free(job->final_url);
    pf__free(job->ctype);
    pf__free(job->path);
    pf__free(job->abspath);
    pf__free(job);
}

/*
 * The page as a libxml2 tree, for on_page (page_doc), or NULL.  Built by
 * a second, pull-mode parse, which holds the whole page: pages over
 * PAGE_DOC_MAX get no tree.  Parser thread.
 */
#define PAGE_DOC_MAX (64 * 1024 * 1024)

static void *page_doc(struct parse_job *job)
{
    struct stat sb;
    int fd;
    htmlDocPtr doc = NULL;

    if (job->type != PF__DOC_HTML)
        return NULL;
    fd = open(job->abspath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &sb) == 0 && sb.st_size <= PAGE_DOC_MAX)
        doc = htmlReadFd(fd, job->final_url, NULL,
                         HTML_PARSE_RECOVER | HTML_PARSE_NONET |
                             HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                             HTML_PARSE_COMPACT);
    close(fd);
    return doc;
}

/* Hand the page to on_page.  Parser thread. */
static int call_on_page(struct parse_job *job)
{
    struct pf_crawler *c = job->c;
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
    pg.url = job->it->url;
    pg.final_url = job->final_url;
    pg.depth = job->it->depth;
    pg.content_type = job->ctype;
    pg.path = job->path;
    pg.nlinks = n;
    pg.links = links;
    pg.requisite = job->links.kind;
    pg.follow = job->follow;
    pg.doc = c->cfg.page_doc ? page_doc(job) : NULL;
    c->cfg.on_page(c, &pg, c->cfg.userdata);
    if (pg.doc != NULL)
        xmlFreeDoc(pg.doc);
    pf__free(links);
    return 0;
}

/* The task run by the executor.  Parser thread: no crawler state. */
static int parse_task(void *arg, void **result)
{
    struct parse_job *job = arg;
    int fd = open(job->abspath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    (void)result;
    if (fd < 0) {
        job->err = PF_EIO;
        return job->err;
    }
    job->err = pf__parse_fd(fd, job->type, job->final_url, &job->links);
    close(fd);
    if (job->err == 0 && job->c->cfg.on_page != NULL)
        job->err = call_on_page(job);
    return job->err;
}

static void on_parsed(void *arg);
static void on_parsed_pooled(void *arg);
static void parse_submit(struct pf_crawler *c);

/*
 * The future's done-callback: on the parser thread that finished the
 * task, or on the loop thread when a stop cancelled it.  The post record
 * lives in the job, so the way back cannot fail.
 */
static void parse_done(pf_future *f, void *userdata)
{
    struct parse_job *job = userdata;

    if (pf_future_state(f) == PF_FUTURE_CANCELLED)
        job->err = PF_ECANCELED;
    pf__loop_post_node(&job->c->s->loop, &job->post);
}

/*
 * Whether and how a saved body is parsed: HTML pages and stylesheets
 * only; a page's links are followed below the depth limit (-r), its
 * requisites one level past it (-p); of requisites, only stylesheets are
 * parsed, for what they import.  Loop thread.
 */
static int parse_later(struct pf_crawler *c, struct item *it,
                       const struct pf_result *r)
{
    struct parse_job *job;
    enum pf__doc_type type;
    int links, reqs;

    if (!c->parsing_on || c->stopping || r->path == NULL)
        return 0;
    type = pf__doc_type(r->content_type);
    if (type == PF__DOC_OTHER || (it->requisite && type != PF__DOC_CSS))
        return 0;
    links = c->cfg.recursive && !it->requisite && it->depth < c->max_depth;
    reqs = c->cfg.page_requisites;
    if (!links && !reqs && c->cfg.on_page == NULL)
        return 0;
    job = pf__calloc(1, sizeof(*job));
    if (job == NULL)
        return 0;
    job->c = c;
    job->it = it;
    job->type = type;
    job->follow_links = links;
    job->follow_reqs = reqs;
    job->post.fn = on_parsed_pooled;
    job->post.arg = job;
    job->post.borrowed = 1; /* on_parsed frees the job */
    pf__links_init(&job->links);
    job->final_url = pf__strdup(r->final_url);
    job->ctype = r->content_type ? pf__strdup(r->content_type) : NULL;
    job->path = pf__strdup(r->path);
    job->abspath = pf__asprintf("%s/%s", c->out_dir, r->path);
    if (job->final_url == NULL || job->path == NULL || job->abspath == NULL ||
        (r->content_type != NULL && job->ctype == NULL)) {
        parse_job_free(job);
        note_fatal(c, PF_ENOMEM);
        return 0;
    }
    job->r = *r;
    job->r.url = it->url;
    job->r.final_url = job->final_url;
    job->r.path = job->path;
    job->r.content_type = job->ctype;
    job->r.parent_url = it->parent;
    c->parsing++;
    pf__queue_insert_tail(&c->parse_backlog, &job->backlog);
    parse_submit(c);
    return 1;
}

/*
 * Hand waiting jobs to the pool.  The loop never blocks on it: past
 * parse_cap pages in the pool, jobs wait here, and refill() starts no
 * new transfer until the parsers have caught up, which slows fetching
 * down to their pace.  Parsing itself never happens on the loop thread
 * (nor libxml2 on a coroutine's stack).  Loop thread.
 */
static void parse_submit(struct pf_crawler *c)
{
    while (!pf__queue_empty(&c->parse_backlog) &&
           c->parse_pooled < c->parse_cap) {
        struct parse_job *job = pf__container_of(
            pf__queue_head(&c->parse_backlog), struct parse_job, backlog);
        pf_future *f = NULL;
        int rc = pf_submit(c->ex, parse_task, job, PF_SUBMIT_NOWAIT, &f);

        if (rc == PF_EFULL || rc == PF_ENOMEM)
            return; /* again when a job comes back, or at the next turn */
        pf__queue_remove(&job->backlog);
        if (rc == 0) {
            c->parse_pooled++;
            rc = pf_future_add_done_callback(f, parse_done, job);
            if (rc < 0) /* the task runs; wait for it rather than lose it */
                pf_future_result(f, -1, NULL);
            pf_future_release(f);
            if (rc == 0)
                continue;
            c->parse_pooled--;
        } else {
            job->err = PF_ECANCELED; /* the pool is shut: a stop */
        }
        on_parsed(job);
    }
}

/*
 * A parse job is back on the loop thread: accept its links, then let the
 * page go.  Loop thread.
 */
static void on_parsed(void *arg)
{
    struct parse_job *job = arg;
    struct pf_crawler *c = job->c;
    struct item *it = job->it;
    size_t i;

    if (job->err != 0 && job->err != PF_ECANCELED)
        say(c, PF_LOG_WARN, "%s: cannot parse %s: %s", it->url, job->path,
            job->err == PF_EIO ? "cannot read it" : pf_strerror(job->err));
    if (!c->stopping && (job->follow_links || job->follow_reqs)) {
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
    c->parsing--;
    parse_job_free(job);
    item_free(c, it);
}

/* A job back from the pool.  Loop thread. */
static void on_parsed_pooled(void *arg)
{
    struct parse_job *job = arg;
    struct pf_crawler *c = job->c;

    c->parse_pooled--;
    on_parsed(job);
    parse_submit(c);
}

/*
 * robots.txt: one coroutine per host fetches it into memory before the
 * first discovered link of the host starts.  Whatever goes wrong (no
 * file, an error status, a failed transfer), everything is allowed, as
 * DESIGN.md and most crawlers have it; a file over ROBOTS_MAX is parsed
 * as far as it goes.  It takes no -j slot and gets no row.
 */
struct robots_fetch {
    struct pf_crawler *c;
    struct host *h;
    struct pf__buf body;
    char url[];
};

static size_t robots_body(char *p, size_t size, size_t n, void *ud)
{
    struct robots_fetch *rf = ud;
    size_t len = size * n;
    size_t room = ROBOTS_MAX - rf->body.len;

    if (pf__buf_append(&rf->body, p, len < room ? len : room) < 0)
        return 0;
    return len <= room ? len : 0; /* full: stop the transfer */
}

static void robots_fetch(void *arg)
{
    struct robots_fetch *rf = arg;
    struct pf_crawler *c = rf->c;
    struct host *h = rf->h;
    CURL *e = easy_new(c);
    CURLcode cc = CURLE_OK;
    long code = 0;
    int rc = PF_ENOMEM;

    if (e != NULL) {
        curl_easy_setopt(e, CURLOPT_URL, (const char *)rf->url);
        curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, robots_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, rf);
        rc = pf_fetch(c->s, e, &cc);
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(e);
    }
    if (rc == 0 && code >= 200 && code <= 299 &&
        (cc == CURLE_OK ||
         (cc == CURLE_WRITE_ERROR && rf->body.len == ROBOTS_MAX))) {
        if (pf__robots_parse(rf->body.data != NULL ? rf->body.data : "",
                             rf->body.len, c->product, &h->rules) < 0)
            h->rules = NULL;
        say(c, PF_LOG_DEBUG, "%s: %zu bytes", rf->url, rf->body.len);
    } else if (rc == 0) {
        say(c, PF_LOG_DEBUG, "%s: %s; everything allowed", rf->url,
            cc != CURLE_OK ? curl_easy_strerror(cc) : "no file");
    }
    h->robots = ROBOTS_READY;
    host_update(c, h);
    pf__buf_free(&rf->body);
    pf__free(rf);
}

/* Start the robots.txt fetch of h, whose items include url.  Loop thread. */
static void robots_start(struct pf_crawler *c, struct host *h, const char *url)
{
    size_t n = pf__url_origin_len(url);
    struct robots_fetch *rf;

    /*
     * Whatever keeps us from asking (out of memory, a stop) counts as a
     * robots.txt that could not be read: everything is allowed.
     */
    h->robots = ROBOTS_READY;
    if (n == 0 || c->stopping)
        return;
    rf = pf__calloc(1, sizeof(*rf) + n + sizeof("/robots.txt"));
    if (rf == NULL)
        return;
    rf->c = c;
    rf->h = h;
    memcpy(rf->url, url, n);
    memcpy(rf->url + n, "/robots.txt", sizeof("/robots.txt"));
    if (pf_spawn(c->s, robots_fetch, rf, NULL) < 0) {
        pf__free(rf);
        return;
    }
    h->robots = ROBOTS_FETCHING;
}

/* The run. */

static void begin_stop(struct pf_crawler *c)
{
    struct pf__queue *q;

    c->stopping = 1;
    atomic_store(&c->closed, 1);
    /*
     * Waiting coroutines end now: transfers are aborted, sleeps and slot
     * waits cut short (their cancel hooks unqueue parked retries).
     */
    pf__sched_cancel_all(c->s);
    /* Pages not parsed yet never will be; running parses come back. */
    if (c->ex != NULL)
        pf_executor_shutdown(c->ex, 0, 1);
    /* What never started gets its row here. */
    for (q = c->all_hosts.next; q != &c->all_hosts; q = q->next) {
        struct host *h = pf__container_of(q, struct host, all);

        while (!pf__queue_empty(&h->pending)) {
            struct item *it = pf__container_of(pf__queue_head(&h->pending),
                                               struct item, link);

            pf__queue_remove(&it->link);
            c->st.queued--;
            finish_unstarted(c, it);
        }
    }
}

static int all_done(const struct pf_crawler *c)
{
    return c->s->live == 0 && c->st.queued == 0 && c->parsing == 0 &&
           c->cur_source >= c->nsources && atomic_load(&c->adds_pending) == 0;
}

static void progress(struct pf_crawler *c, int64_t now_ms, int force)
{
    if (c->cfg.on_progress == NULL)
        return;
    if (!force && now_ms - c->last_progress_ms < c->cfg.progress_ms)
        return;
    c->last_progress_ms = now_ms;
    pf_crawler_stats(c, &c->st);
    c->cfg.on_progress(c, &c->st, c->cfg.userdata);
}

/*
 * -c: an earlier crawl's frontier, what it had still to fetch.  The rows
 * are read first and accepted after: accepting asks the log whether a
 * URL is done, which the walk (holding the connection) cannot.
 */
struct resumed {
    struct pf__buf text; /* url NUL parent NUL, per row */
    struct resumed_row {
        size_t url, parent; /* offsets in text; parent SIZE_MAX: none */
        int depth, requisite;
    } * v;
    size_t n, cap;
};

static int resume_row(const char *url, int depth, const char *parent,
                      int requisite, void *userdata)
{
    struct resumed *r = userdata;
    struct resumed_row *row;

    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        struct resumed_row *v = pf__realloc(r->v, cap * sizeof(*v));

        if (v == NULL)
            return PF_ENOMEM;
        r->v = v;
        r->cap = cap;
    }
    row = &r->v[r->n];
    row->depth = depth;
    row->requisite = requisite;
    row->url = r->text.len;
    row->parent = SIZE_MAX;
    if (pf__buf_append(&r->text, url, strlen(url) + 1) < 0)
        return PF_ENOMEM;
    if (parent != NULL) {
        row->parent = r->text.len;
        if (pf__buf_append(&r->text, parent, strlen(parent) + 1) < 0)
            return PF_ENOMEM;
    }
    r->n++;
    return 0;
}

static int resume_crawl(struct pf_crawler *c)
{
    struct resumed r;
    size_t i;
    int rc;

    memset(&r, 0, sizeof(r));
    rc = pf__db_frontier_pending(c->db, resume_row, &r);
    for (i = 0; rc == 0 && i < r.n; i++) {
        const struct resumed_row *row = &r.v[i];

        if (row->depth > c->max_depth &&
            !(row->requisite && c->cfg.page_requisites))
            continue;
        rc = accept_url(c, r.text.data + row->url, row->depth,
                        row->parent != SIZE_MAX ? r.text.data + row->parent
                                                : NULL,
                        ACCEPT_DISCOVERED | ACCEPT_RESUMED |
                            (row->requisite ? ACCEPT_REQUISITE : 0));
        if (rc != PF_ENOMEM)
            rc = 0;
    }
    pf__buf_free(&r.text);
    pf__free(r.v);
    return rc;
}

static void run_begin(struct pf_crawler *c)
{
    if (c->cfg.resume && c->db != NULL &&
        (c->cfg.recursive || c->cfg.page_requisites)) {
        int rc = resume_crawl(c);

        if (rc < 0) {
            db_failed(c, rc);
        } else if (c->st.accepted > 0) {
            say(c, PF_LOG_INFO, "resuming a crawl: %llu URLs accepted",
                (unsigned long long)c->st.accepted);
        }
    }
    c->ran = 1;
    c->loop_thread = pthread_self();
    c->started_ns = pf__now_ns();
    c->tokens_ns = c->started_ns;
}

/*
 * One turn of the run: start what can start, then poll (blocking or not)
 * and run the coroutines that are ready.  0 once everything is done.
 */
static int run_turn(struct pf_crawler *c, int block)
{
    int rc;

    if (atomic_load(&c->stop_requested) && !c->stopping)
        begin_stop(c);
    if (!pf__queue_empty(&c->parse_backlog))
        parse_submit(c);
    if (!c->stopping) {
        read_sources(c);
        refill(c);
    }
    if (all_done(c))
        return 0;
    rc = pf__sched_step(c->s, block);
    if (rc < 0)
        note_fatal(c, rc);
    /* The log's writer thread commits by itself: nothing to do. */
    progress(c, pf__now_ms(), 0);
    return 1;
}

static int run_end(struct pf_crawler *c)
{
    c->finished = 1;
    atomic_store(&c->closed, 1);
    progress(c, pf__now_ms(), 1);
    if (c->db != NULL) {
        int rc = pf__db_finish_run(c->db);

        if (rc < 0)
            db_failed(c, rc);
    }
    if (c->fatal != 0)
        c->result = c->fatal;
    else
        c->result = c->stopping ? PF_ECANCELED : 0;
    return c->result;
}

int pf_crawler_run(pf_crawler *c)
{
    if (c == NULL)
        return PF_EINVAL;
    if (c->ran)
        return PF_ESTATE;
    run_begin(c);
    while (run_turn(c, 1))
        ;
    return run_end(c);
}

/* Is there work to do right now, without waiting for I/O or a timer? */
static int work_ready(const struct pf_crawler *c)
{
    return !pf__queue_empty(&c->s->ready) ||
           (atomic_load(&c->stop_requested) && !c->stopping) ||
           (!c->stopping && c->active < c->cfg.jobs &&
            !pf__queue_empty(&c->ready_hosts)) ||
           all_done(c);
}

int pf_crawler_step(pf_crawler *c)
{
    int turns;

    if (c == NULL)
        return PF_EINVAL;
    if (c->finished)
        return c->result;
    if (!c->ran)
        run_begin(c);
    /* A few turns while work is ready, so one call does a useful amount. */
    for (turns = 0; turns < 64; turns++) {
        if (!run_turn(c, 0))
            return run_end(c);
        if (!work_ready(c))
            break;
    }
    return 1;
}

int pf_crawler_fd(const pf_crawler *c)
{
    return c != NULL ? c->s->loop.epfd : -1;
}

int64_t pf_crawler_timeout_ms(const pf_crawler *c)
{
    int64_t t = -1;

    if (c == NULL || c->finished || work_ready(c))
        return 0;
    if (c->s->loop.nheap > 0) {
        t = (c->s->loop.heap[0]->deadline_ns - pf__now_ns() + 999999) / 1000000;
        if (t < 0)
            t = 0;
    }
    if (c->cfg.on_progress != NULL && (t < 0 || t > c->cfg.progress_ms))
        t = c->cfg.progress_ms;
    return t;
}

void pf_crawler_stop(pf_crawler *c)
{
    if (c == NULL)
        return;
    atomic_store(&c->stop_requested, 1);
    pf__loop_wakeup(&c->s->loop);
}

void pf_crawler_stats(const pf_crawler *c, struct pf_stats *st)
{
    if (c == NULL || st == NULL)
        return;
    *st = c->st;
    st->in_flight = c->active;
    st->elapsed_ms =
        c->started_ns ? (pf__now_ns() - c->started_ns) / 1000000 : 0;
}

int64_t pf_crawler_run_id(const pf_crawler *c)
{
    return c != NULL ? c->run_id : 0;
}

static void free_host(void *p)
{
    struct host *h = p;

    while (!pf__queue_empty(&h->pending)) {
        struct item *it =
            pf__container_of(pf__queue_head(&h->pending), struct item, link);

        pf__queue_remove(&it->link);
        if (it->parked == NULL) {
            pf__free(it->parent);
            pf__free(it);
        }
    }
    pf__robots_free(h->rules);
    pf__free(h);
}

void pf_crawler_free(pf_crawler *c)
{
    size_t i;

    if (c == NULL)
        return;
    /* The parsers first: nothing may post to the loop once it is gone. */
    pf_executor_free(c->ex);
    /* Coroutines (and the items they own) go with the scheduler. */
    pf_sched_free(c->s);
    pf__strmap_free(&c->hosts, free_host);
    pf__strmap_free(&c->seen, NULL);
    pf__strmap_free(&c->seed_hosts, NULL);
    pf__free(c->unfinished);
    if (c->have_accept)
        regfree(&c->accept_re);
    if (c->have_reject)
        regfree(&c->reject_re);
    for (i = 0; i < c->npool; i++)
        curl_easy_cleanup(c->pool[i]);
    pf__free(c->pool);
    for (i = 0; i < c->nsources; i++)
        pf__urllist_close(c->sources[i].reader);
    pf__free(c->sources);
    pf__store_close(c->store);
    pf__db_close(c->db);
    curl_slist_free_all(c->headers);
    pf__free(c->out_dir);
    pf__free(c->db_path);
    pf__free(c->user_agent);
    pf__free(c->argv);
    pf__free(c);
}
