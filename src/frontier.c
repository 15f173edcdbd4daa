/*
 * frontier.c -- what a job has still to fetch (see frontier.h): the
 * scope every backend shares, the in-memory backend, and -c's resumed
 * rows.  It must never touch libcurl's transfers, the scheduler, files
 * or SQLite; it reaches them only through its hooks.
 *
 * Order.  Hosts with something to start wait on a ready list; lease()
 * takes them round-robin, within -j overall and --per-host per host.
 * Depth is the shortest link distance from a seed, which a concurrent
 * crawl only gets right with some ordering: host queues are kept sorted
 * by depth, a URL found again at a smaller depth while it waits is moved
 * up, and an item of depth d may start only once every item of depth
 * d-2 or less has had its links handled ("the gate").  Only then can no
 * shorter path to it turn up later, since any such path runs through a
 * page of depth d-2 or less.  Levels d and d+1 still overlap, so the
 * pipeline never drains.  robots.txt is fetched (through a hook) once
 * per host, before the first discovered link of that host starts.
 *
 * Politeness (--wait, --random-wait, Crawl-delay).  A host with a wait
 * runs one request at a time, and remembers when its last one started
 * and the gap drawn for it.  While the gap runs, host_can_start() says
 * no and arms the host's timer (the loop's timer heap: no polling) for
 * the moment it ends; the timer puts the host back on the ready list.
 * So a waiting host is never on the ready list and holds no -j slot:
 * the other hosts' requests go on at full speed meanwhile.  Retries wait
 * their turn too: each attempt is a request.
 */
#include "frontier.h"

#include <regex.h>
#include <string.h>

#include "robots.h"
#include "url.h"

enum robots_state { ROBOTS_NONE, ROBOTS_FETCHING, ROBOTS_READY };

struct mem;

struct pf__host {
    struct pf__queue pending; /* items waiting for a slot, by depth */
    struct pf__queue link;    /* in ready_hosts */
    struct pf__queue all;     /* in all_hosts */
    unsigned active;          /* slots held */
    int in_ready;
    enum robots_state robots;
    struct pf__robots *rules; /* NULL: everything allowed */
    /* Politeness: see "Politeness" above. */
    struct mem *m;          /* for the timer */
    struct pf__timer timer; /* armed while a gap keeps the host back */
    int64_t last_ns;        /* when its last request started; 0: none */
    int64_t gap_ms;         /* --wait's gap after it, as drawn */
    int64_t delay_ms;       /* its Crawl-delay, capped; 0: none */
    int64_t shown_ms;       /* the wait the waiting hook last gave; 0 */
};

/* The in-memory backend. */
struct mem {
    struct pf__frontier base;
    struct pf__fpset seen;    /* every URL accepted, by fingerprint */
    struct pf__fpmap waiting; /* crawls: fingerprint -> item, queued */
    struct pf__strmap hosts;  /* "host:port" -> struct pf__host */
    struct pf__queue ready_hosts;
    struct pf__queue all_hosts;
    struct pf__frontier_counts n;
    uint64_t *unfinished; /* per depth: items whose links wait */
    size_t nunfinished;
    int gate; /* smallest depth with unfinished items, or DEPTH_INF */
    int closed;
    uint64_t rng; /* --random-wait's draws: our own, seeded per frontier */
};

/*
 * xorshift64*: a draw for --random-wait.  Its own state, seeded from
 * the clock, so that waits differ from run to run and the program's
 * random() sequence is left alone.
 */
static uint64_t draw(struct mem *m)
{
    m->rng ^= m->rng >> 12;
    m->rng ^= m->rng << 25;
    m->rng ^= m->rng >> 27;
    return m->rng * 0x2545F4914F6CDD1DULL;
}

/*
 * host:port of url into buf, or a pf__malloc'd copy when it does not fit
 * (only an absurdly long host costs an allocation); NULL on failure.
 * Free with hostport_free().
 */
static char *hostport(const char *url, char *buf, size_t size)
{
    char *key = buf;
    int n = pf__url_hostport_buf(url, buf, size);

    if (n < 0 || ((size_t)n >= size && pf__url_hostport(url, &key) < 0))
        return NULL;
    return key;
}

static void hostport_free(char *key, const char *buf)
{
    if (key != buf)
        pf__free(key);
}

/* Scope, shared by backends. */

static int compile(regex_t **out, const char *what, const char *re, char *why,
                   size_t whylen)
{
    regex_t *r;
    int err;

    if (re == NULL)
        return 0;
    r = pf__malloc(sizeof(*r));
    if (r == NULL)
        return PF_ENOMEM;
    err = regcomp(r, re, REG_EXTENDED | REG_NOSUB);
    if (err != 0) {
        char msg[256];

        regerror(err, r, msg, sizeof(msg));
        snprintf(why, whylen, "%s '%s': %s", what, re, msg);
        pf__free(r);
        return PF_EINVAL;
    }
    *out = r;
    return 0;
}

int pf__frontier_base_init(struct pf__frontier *f,
                           const struct pf__frontier_conf *conf,
                           const struct pf__frontier_hooks *hooks, char *why,
                           size_t whylen)
{
    regex_t *a = NULL, *r = NULL;
    int rc;

    f->conf = *conf;
    f->conf.accept = NULL; /* compiled; the strings are not kept */
    f->conf.reject = NULL;
    f->hooks = *hooks;
    rc = compile(&a, "--accept", conf->accept, why, whylen);
    if (rc == 0)
        rc = compile(&r, "--reject", conf->reject, why, whylen);
    f->accept_re = a;
    f->reject_re = r;
    return rc;
}

void pf__frontier_base_cleanup(struct pf__frontier *f)
{
    if (f->accept_re != NULL)
        regfree(f->accept_re);
    if (f->reject_re != NULL)
        regfree(f->reject_re);
    pf__free(f->accept_re);
    pf__free(f->reject_re);
    pf__strmap_free(&f->seed_hosts, NULL);
}

int pf__frontier_add_seed_host(struct pf__frontier *f, const char *url)
{
    char *hp = NULL;
    int rc = pf__url_hostport(url, &hp);

    if (rc == 0)
        rc = pf__strmap_put(&f->seed_hosts, hp, NULL);
    pf__free(hp);
    return rc < 0 ? rc : 0;
}

int pf__frontier_wants(const struct pf__frontier *f, const char *url)
{
    if (!f->conf.span_hosts) {
        char buf[PF__HOSTPORT_BUF];
        char *hp = hostport(url, buf, sizeof(buf));
        int in;

        if (hp == NULL)
            return 0;
        in = pf__strmap_has(&f->seed_hosts, hp);
        hostport_free(hp, buf);
        if (!in)
            return 0;
    }
    if (f->accept_re != NULL && regexec(f->accept_re, url, 0, NULL, 0) != 0)
        return 0;
    if (f->reject_re != NULL && regexec(f->reject_re, url, 0, NULL, 0) == 0)
        return 0;
    return 1;
}

/* Hosts. */

static void host_timer(struct pf__loop *l, struct pf__timer *t);

static struct pf__host *host_get(struct mem *m, const char *url)
{
    char buf[PF__HOSTPORT_BUF];
    char *key = hostport(url, buf, sizeof(buf));
    struct pf__host *h;

    if (key == NULL)
        return NULL;
    h = pf__strmap_get(&m->hosts, key);
    if (h == NULL) {
        h = pf__calloc(1, sizeof(*h));
        if (h != NULL) {
            pf__queue_init(&h->pending);
            pf__queue_init(&h->link);
            h->m = m;
            pf__timer_init(&h->timer, host_timer, h);
            if (pf__strmap_put(&m->hosts, key, h) < 0) {
                pf__free(h);
                h = NULL;
            } else {
                pf__queue_insert_tail(&m->all_hosts, &h->all);
            }
        }
    }
    hostport_free(key, buf);
    return h;
}

/* Does h keep a wait between its requests? */
static int host_waits(const struct mem *m, const struct pf__host *h)
{
    return m->base.conf.wait_ms > 0 || h->delay_ms > 0;
}

static int host_has_room(const struct mem *m, const struct pf__host *h)
{
    if (host_waits(m, h))
        return h->active == 0; /* one request at a time */
    return m->base.conf.per_host == 0 || h->active < m->base.conf.per_host;
}

/*
 * Has h's gap since its last start run out?  If not, arm its timer for
 * the moment it does (host_timer() then updates it).  A timer that
 * cannot be armed (out of memory) lets the request go rather than
 * stall the host for ever.
 */
static int host_gap_over(struct mem *m, struct pf__host *h)
{
    int64_t gap = h->gap_ms > h->delay_ms ? h->gap_ms : h->delay_ms;
    int64_t due = h->last_ns + gap * 1000000;

    if (h->last_ns == 0 || pf__now_ns() >= due || m->base.conf.loop == NULL)
        return 1;
    if (pf__timer_active(&h->timer) && h->timer.deadline_ns == due)
        return 0;
    return pf__timer_start(m->base.conf.loop, &h->timer, due) < 0;
}

static void host_update(struct mem *m, struct pf__host *h);

static void host_timer(struct pf__loop *l, struct pf__timer *t)
{
    struct pf__host *h = t->data;

    (void)l;
    host_update(h->m, h);
}

/* The waiting hook hears of h's wait (url is one of h's) when it is new. */
static void host_tell(struct mem *m, struct pf__host *h, const char *url)
{
    const struct pf__frontier_conf *conf = &m->base.conf;
    int64_t wait = conf->wait_ms > h->delay_ms ? conf->wait_ms : h->delay_ms;

    if (wait > 0 && wait != h->shown_ms && m->base.hooks.waiting != NULL) {
        h->shown_ms = wait;
        m->base.hooks.waiting(url, wait, h->delay_ms > conf->wait_ms,
                              m->base.hooks.ud);
    }
}

/*
 * A request of h starts now: the next gap begins.  --random-wait draws
 * it between 0.5 and 1.5 times --wait; a Crawl-delay is its floor (in
 * host_gap_over()).
 */
static void host_started(struct mem *m, struct pf__host *h, const char *url)
{
    const struct pf__frontier_conf *conf = &m->base.conf;

    h->last_ns = pf__now_ns();
    h->gap_ms = conf->wait_ms;
    if (conf->random_wait && conf->wait_ms > 0)
        h->gap_ms = conf->wait_ms / 2 +
                    (int64_t)(draw(m) % (uint64_t)(conf->wait_ms + 1));
    host_tell(m, h, url);
}

/*
 * May h's first waiting item start now?  Retries may, given room;
 * otherwise the depth gate and, for a discovered link, the host's
 * robots.txt must allow it.  Asking is what starts the robots.txt fetch
 * of a host, even while the host is full or waits out its gap, so that
 * the rules (and the Crawl-delay) are in by the time it may start.
 */
static int host_can_start(struct mem *m, struct pf__host *h)
{
    struct pf__item *it;

    if (m->closed || pf__queue_empty(&h->pending))
        return 0;
    it = pf__container_of(pf__queue_head(&h->pending), struct pf__item, link);
    if (it->waiter == NULL && m->base.conf.gate &&
        (int64_t)it->depth > (int64_t)m->gate + 1)
        return 0;
    if (it->waiter == NULL && it->discovered && m->base.conf.robots &&
        h->robots != ROBOTS_READY) {
        if (h->robots == ROBOTS_NONE) {
            h->robots = ROBOTS_FETCHING;
            if (m->base.hooks.robots(h, it->url, m->base.hooks.ud) < 0)
                h->robots = ROBOTS_READY; /* unreadable: all allowed */
        }
        if (h->robots != ROBOTS_READY)
            return 0;
    }
    if (!host_has_room(m, h))
        return 0;
    return !host_waits(m, h) || host_gap_over(m, h);
}

/* Put h on the ready list if it can start something and is not there. */
static void host_update(struct mem *m, struct pf__host *h)
{
    if (!h->in_ready && host_can_start(m, h)) {
        pf__queue_insert_tail(&m->ready_hosts, &h->link);
        h->in_ready = 1;
    }
}

/* Every host again: the gate moved. */
static void hosts_update(struct mem *m)
{
    struct pf__queue *q;

    for (q = m->all_hosts.next; q != &m->all_hosts; q = q->next)
        host_update(m, pf__container_of(q, struct pf__host, all));
}

/* The gate: how many items of each depth still have links to come. */
static int unfinished_add(struct mem *m, int depth)
{
    if ((size_t)depth >= m->nunfinished) {
        size_t n = m->nunfinished ? m->nunfinished : 8;
        uint64_t *v;

        while (n <= (size_t)depth)
            n *= 2;
        v = pf__realloc(m->unfinished, n * sizeof(*v));
        if (v == NULL)
            return PF_ENOMEM;
        memset(v + m->nunfinished, 0, (n - m->nunfinished) * sizeof(*v));
        m->unfinished = v;
        m->nunfinished = n;
    }
    m->unfinished[depth]++;
    if (depth < m->gate)
        m->gate = depth;
    return 0;
}

static void unfinished_done(struct mem *m, int depth)
{
    int old = m->gate;

    if (--m->unfinished[depth] != 0 || depth != m->gate)
        return;
    while ((size_t)m->gate < m->nunfinished && m->unfinished[m->gate] == 0)
        m->gate++;
    if ((size_t)m->gate == m->nunfinished)
        m->gate = PF__DEPTH_INF;
    if (m->base.conf.gate && m->gate != old && !m->closed)
        hosts_update(m);
}

/* Insert it into its host's queue, which is kept sorted by depth. */
static void enqueue(struct pf__host *h, struct pf__item *it)
{
    struct pf__queue *q = h->pending.prev;

    /* New items mostly have the largest depth: scan from the tail. */
    while (q != &h->pending &&
           pf__container_of(q, struct pf__item, link)->depth > it->depth)
        q = q->prev;
    pf__queue_insert_head(q, &it->link);
}

/*
 * A URL found again while it waits: a shorter path wins (depth, parent),
 * and being a page wins over being a requisite.
 */
static void requeue_closer(struct mem *m, struct pf__item *it, int depth,
                           const char *parent, int requisite)
{
    if (depth < it->depth) {
        char *p = pf__strdup(parent);

        if (p == NULL)
            return; /* keep the longer path: right enough, and no leak */
        pf__free(it->parent);
        it->parent = p;
        m->unfinished[it->depth]--; /* never the gate's depth: it waits */
        unfinished_add(m, depth);   /* the slot exists: cannot fail */
        it->depth = depth;
        pf__queue_remove(&it->link);
        enqueue(it->host, it);
        if (m->base.hooks.pending != NULL)
            m->base.hooks.pending(it->url, depth, parent, requisite,
                                  m->base.hooks.ud);
        host_update(m, it->host);
    }
    if (!requisite && depth <= it->depth)
        it->requisite = 0;
}

static struct pf__item *item_new(struct mem *m, const char *url, int depth,
                                 const char *parent, int flags)
{
    size_t len = strlen(url);
    struct pf__item *it = pf__calloc(1, sizeof(*it) + len + 1);

    if (it == NULL)
        return NULL;
    memcpy(it->url, url, len + 1);
    it->ud = m->base.hooks.ud;
    it->depth = depth;
    it->discovered = (flags & PF__ACCEPT_DISCOVERED) != 0;
    it->requisite = (flags & PF__ACCEPT_REQUISITE) != 0;
    if (flags & PF__ACCEPT_SITEMAP)
        it->sitemap = (flags & PF__ACCEPT_GUESSED) ? 2 : 1;
    if (parent != NULL) {
        it->parent = pf__strdup(parent);
        if (it->parent == NULL)
            goto fail;
    }
    it->host = host_get(m, url);
    if (it->host == NULL || unfinished_add(m, depth) < 0)
        goto fail;
    return it;
fail:
    pf__free(it->parent);
    pf__free(it);
    return NULL;
}

/* A link offered again, or one left out: not a new item. */
static int link_seen_or_out(struct mem *m, const char *url, int depth,
                            const char *parent, int flags)
{
    uint64_t fp = pf__fingerprint(url, strlen(url));
    struct pf__item *it;

    if (pf__fpset_get(&m->seen, fp) >= 0) {
        it = pf__fpmap_get(&m->waiting, fp);
        if (it != NULL)
            requeue_closer(m, it, depth, parent,
                           (flags & PF__ACCEPT_REQUISITE) != 0);
        return PF_EDUPLICATE;
    }
    return pf__frontier_wants(&m->base, url) ? 0 : 1;
}

static int mem_accept(struct pf__frontier *f, const char *url, int depth,
                      const char *parent, int flags)
{
    struct mem *m = (struct mem *)f;
    int link = (flags & PF__ACCEPT_DISCOVERED) && !(flags & PF__ACCEPT_RESUMED);
    uint64_t fp = pf__fingerprint(url, strlen(url));
    struct pf__item *it;
    int rc;

    rc = link ? link_seen_or_out(m, url, depth, parent, flags)
              : (pf__fpset_get(&m->seen, fp) >= 0 ? PF_EDUPLICATE : 0);
    if (rc != 0)
        return rc;
    rc = pf__fpset_put(&m->seen, fp, 0);
    if (rc < 0)
        return rc;
    if (f->hooks.accepted != NULL) {
        rc = f->hooks.accepted(url, f->hooks.ud);
        if (rc < 0)
            return rc;
    }
    /* A seed's host is in scope, even when the seed is skipped. */
    if (f->conf.parsing &&
        !(flags & (PF__ACCEPT_DISCOVERED | PF__ACCEPT_SITEMAP))) {
        rc = pf__frontier_add_seed_host(f, url);
        if (rc < 0)
            return rc;
    }
    if (f->hooks.is_done != NULL && f->hooks.is_done(url, f->hooks.ud) > 0)
        return 0; /* done in an earlier run: skipped, no row */
    it = item_new(m, url, depth, parent, flags);
    if (it == NULL)
        return PF_ENOMEM;
    if (f->conf.parsing) {
        /* While it waits, a shorter path to it may still turn up. */
        if (pf__fpmap_set(&m->waiting, fp, it) < 0) {
            unfinished_done(m, it->depth);
            pf__free(it->parent);
            pf__free(it);
            return PF_ENOMEM;
        }
        if (link && f->hooks.pending != NULL)
            f->hooks.pending(url, depth, parent, it->requisite, f->hooks.ud);
    }
    enqueue(it->host, it);
    host_update(m, it->host);
    m->n.accepted++;
    m->n.queued++;
    return 0;
}

static int mem_alias(struct pf__frontier *f, const char *url)
{
    struct mem *m = (struct mem *)f;
    int rc = pf__fpset_put(&m->seen, pf__fingerprint(url, strlen(url)), 0);

    return rc < 0 ? rc : rc == 1 ? 0 : PF_EDUPLICATE;
}

static struct pf__item *mem_lease(struct pf__frontier *f)
{
    struct mem *m = (struct mem *)f;

    while (m->n.active < f->conf.jobs && !pf__queue_empty(&m->ready_hosts)) {
        struct pf__host *h = pf__container_of(pf__queue_head(&m->ready_hosts),
                                              struct pf__host, link);
        struct pf__item *it;

        pf__queue_remove(&h->link);
        h->in_ready = 0;
        if (!host_can_start(m, h))
            continue; /* the gate or robots.txt: host_update() brings it */
        it = pf__container_of(pf__queue_head(&h->pending), struct pf__item,
                              link);
        pf__queue_remove(&it->link);
        m->n.queued--;
        if (it->waiter == NULL && f->conf.parsing)
            /* Its depth is final. */
            pf__fpmap_del(&m->waiting,
                          pf__fingerprint(it->url, strlen(it->url)));
        if (it->waiter == NULL && it->discovered && h->rules != NULL &&
            !pf__robots_allowed(h->rules, pf__url_path_query(it->url))) {
            it->refused = 1;
        } else {
            h->active++;
            m->n.active++;
            host_started(m, h, it->url);
        }
        host_update(m, h);
        return it;
    }
    return NULL;
}

static void mem_release(struct pf__frontier *f, struct pf__item *it)
{
    struct mem *m = (struct mem *)f;

    it->host->active--;
    m->n.active--;
    host_update(m, it->host);
}

static void mem_requeue(struct pf__frontier *f, struct pf__item *it,
                        void *waiter)
{
    struct mem *m = (struct mem *)f;

    it->waiter = waiter;
    /* Retries go first: they were accepted before anything queued now. */
    pf__queue_insert_head(&it->host->pending, &it->link);
    m->n.queued++;
    host_update(m, it->host);
}

static void mem_withdraw(struct pf__frontier *f, struct pf__item *it)
{
    struct mem *m = (struct mem *)f;

    pf__queue_remove(&it->link);
    it->waiter = NULL;
    m->n.queued--;
}

static void item_free(struct pf__item *it)
{
    pf__free(it->parent);
    pf__free(it);
}

static void mem_complete(struct pf__frontier *f, struct pf__item *it)
{
    unfinished_done((struct mem *)f, it->depth);
    item_free(it);
}

static struct pf__item *mem_drain(struct pf__frontier *f)
{
    struct mem *m = (struct mem *)f;
    struct pf__queue *q;

    for (q = m->all_hosts.next; q != &m->all_hosts; q = q->next) {
        struct pf__host *h = pf__container_of(q, struct pf__host, all);
        struct pf__item *it;

        if (pf__queue_empty(&h->pending))
            continue;
        it = pf__container_of(pf__queue_head(&h->pending), struct pf__item,
                              link);
        pf__queue_remove(&it->link);
        m->n.queued--;
        return it;
    }
    return NULL;
}

static int mem_runnable(const struct pf__frontier *f)
{
    const struct mem *m = (const struct mem *)f;

    return !m->closed && m->n.active < f->conf.jobs &&
           !pf__queue_empty(&m->ready_hosts);
}

static void mem_counts(const struct pf__frontier *f,
                       struct pf__frontier_counts *out)
{
    *out = ((const struct mem *)f)->n;
}

static void mem_robots_ready(struct pf__frontier *f, struct pf__host *h,
                             struct pf__robots *rules)
{
    int64_t delay = pf__robots_crawl_delay_ms(rules);

    h->rules = rules;
    h->robots = ROBOTS_READY;
    if (f->conf.robots && delay > 0)
        h->delay_ms =
            delay < PF__CRAWL_DELAY_MAX_MS ? delay : PF__CRAWL_DELAY_MAX_MS;
    /* The discovered link that asked for robots.txt still waits. */
    if (!pf__queue_empty(&h->pending))
        host_tell(
            (struct mem *)f, h,
            pf__container_of(pf__queue_head(&h->pending), struct pf__item, link)
                ->url);
    host_update((struct mem *)f, h);
}

/* No timer stays armed: the loop may go before the frontier does. */
static void mem_close(struct pf__frontier *f)
{
    struct mem *m = (struct mem *)f;
    struct pf__queue *q;

    m->closed = 1;
    for (q = m->all_hosts.next; q != &m->all_hosts; q = q->next) {
        struct pf__host *h = pf__container_of(q, struct pf__host, all);

        if (pf__timer_active(&h->timer))
            pf__timer_stop(f->conf.loop, &h->timer);
    }
}

static void free_host(void *p)
{
    struct pf__host *h = p;

    /* Items still queued; a requeued one belongs to its coroutine. */
    while (!pf__queue_empty(&h->pending)) {
        struct pf__item *it = pf__container_of(pf__queue_head(&h->pending),
                                               struct pf__item, link);

        pf__queue_remove(&it->link);
        if (it->waiter == NULL)
            item_free(it);
    }
    pf__robots_free(h->rules);
    pf__free(h);
}

static void mem_free(struct pf__frontier *f)
{
    struct mem *m = (struct mem *)f;

    pf__strmap_free(&m->hosts, free_host);
    pf__fpset_free(&m->seen);
    pf__fpmap_free(&m->waiting);
    pf__free(m->unfinished);
    pf__frontier_base_cleanup(f);
    pf__free(m);
}

static const struct pf__frontier_ops mem_ops = {
    mem_accept,       mem_lease, mem_release, mem_requeue,  mem_withdraw,
    mem_complete,     mem_drain, mem_alias,   mem_runnable, mem_counts,
    mem_robots_ready, mem_close, mem_free,
};

int pf__frontier_mem_new(struct pf__frontier **out,
                         const struct pf__frontier_conf *conf,
                         const struct pf__frontier_hooks *hooks, char *why,
                         size_t whylen)
{
    struct mem *m = pf__calloc(1, sizeof(*m));
    int rc;

    if (m == NULL)
        return PF_ENOMEM;
    m->base.ops = &mem_ops;
    pf__queue_init(&m->ready_hosts);
    pf__queue_init(&m->all_hosts);
    m->gate = PF__DEPTH_INF;
    m->rng = (uint64_t)pf__now_ns() ^ (uint64_t)(uintptr_t)m;
    if (m->rng == 0)
        m->rng = 1; /* xorshift's one dead state */
    rc = pf__frontier_base_init(&m->base, conf, hooks, why, whylen);
    if (rc < 0) {
        mem_free(&m->base);
        return rc;
    }
    *out = &m->base;
    return 0;
}

/* Resumed rows (-c with a crawl). */

struct pf__resumed {
    struct pf__buf text; /* url NUL parent NUL, per row */
    struct resumed_row {
        size_t url, parent; /* offsets in text; parent SIZE_MAX: none */
        int depth, requisite;
    } * v;
    size_t n, cap;
};

int pf__resumed_new(struct pf__resumed **out)
{
    *out = pf__calloc(1, sizeof(**out));
    return *out != NULL ? 0 : PF_ENOMEM;
}

int pf__resumed_row(const char *url, int depth, const char *parent,
                    int requisite, void *resumed)
{
    struct pf__resumed *r = resumed;
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

int pf__frontier_resume(struct pf__frontier *f, struct pf__resumed *r, int reqs)
{
    size_t i;
    int rc = 0;

    for (i = 0; rc == 0 && i < r->n; i++) {
        const struct resumed_row *row = &r->v[i];

        if (row->depth > f->conf.max_depth && !(row->requisite && reqs))
            continue;
        rc = pf__frontier_accept(
            f, r->text.data + row->url, row->depth,
            row->parent != SIZE_MAX ? r->text.data + row->parent : NULL,
            PF__ACCEPT_DISCOVERED | PF__ACCEPT_RESUMED |
                (row->requisite ? PF__ACCEPT_REQUISITE : 0));
        if (rc != PF_ENOMEM)
            rc = 0;
    }
    return rc;
}

void pf__resumed_free(struct pf__resumed *r)
{
    if (r == NULL)
        return;
    pf__buf_free(&r->text);
    pf__free(r->v);
    pf__free(r);
}
