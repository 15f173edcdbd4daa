/*
 * frontier.h -- the URLs a job has accepted and not yet finished: the
 * seen set, the per-host queues, the depth gate, crawl scope and
 * filters, robots.txt's place in the order, and the slots of -j and
 * --per-host.  It knows nothing of libcurl, the scheduler or SQLite:
 * what it needs from them (is a URL done in an earlier run, note a URL
 * that waits, fetch a host's robots.txt) comes through hooks.
 *
 * A frontier is a backend behind struct pf__frontier_ops.  The one here,
 * pf__frontier_mem_new(), keeps everything in this process's memory.  A
 * shared backend (several workers, one crawl) implements the same
 * operations; the story in crawler.c calls only the wrappers below.
 *
 * An item's life:
 *
 *   accept --> queued --lease--> running --release--> (row written)
 *                ^                  |                     |
 *                +---requeue--------+ (a retry waits)   complete
 *                        (withdraw: its wait was cancelled)
 *
 * drain hands back queued items that will never start (a stop).
 *
 * What every backend owes politeness (--wait, --random-wait,
 * Crawl-delay; see struct pf__frontier_conf): lease() gives a host with
 * a wait one request at a time, spaced by its wait from the start of
 * the last one, and never takes a -j slot for a host that is waiting;
 * robots_ready() reads the host's Crawl-delay from the rules
 * (pf__robots_crawl_delay_ms(), capped at PF__CRAWL_DELAY_MAX_MS) when
 * conf.robots is set; the waiting hook hears of each host's wait; close()
 * stops every timer.  And of sitemaps: PF__ACCEPT_SITEMAP items carry
 * item->sitemap and do not widen the scope.  The operations themselves
 * are unchanged by either.
 * Loop thread only.
 */
#ifndef PF_FRONTIER_H
#define PF_FRONTIER_H

#include <limits.h>
#include <stdint.h>

#include "loop.h"
#include "util.h"

/* Depth of -l inf. */
#define PF__DEPTH_INF INT_MAX

/* Flags of accept. */
#define PF__ACCEPT_DISCOVERED 1 /* a link of a page: scope, robots.txt */
#define PF__ACCEPT_REQUISITE 2  /* a page requisite (-p) */
#define PF__ACCEPT_RESUMED 4    /* from an earlier run's frontier (-c) */
/*
 * A sitemap file (--sitemaps): fetched as a seed is (no scope, filters
 * or robots.txt), but its host does not join the crawl's scope.  With
 * GUESSED too, it is the /sitemap.xml that robots.txt named none for.
 */
#define PF__ACCEPT_SITEMAP 8
#define PF__ACCEPT_GUESSED 16

/* A Crawl-delay counts for at most this long (a warning says so). */
#define PF__CRAWL_DELAY_MAX_MS 60000

struct pf__host;
struct pf__robots;

/* One accepted URL, from acceptance to its row: one allocation. */
struct pf__item {
    struct pf__queue link; /* in its host's queue while it waits */
    struct pf__host *host;
    void *waiter; /* the story's: a retry waiting for a slot, or NULL */
    void *ud;     /* the hooks' ud, for code that gets only the item */
    int depth;
    unsigned char discovered; /* found in a page: robots.txt applies */
    unsigned char requisite;  /* accepted as a page requisite (-p) */
    unsigned char refused;    /* leased only to be refused (robots.txt) */
    unsigned char sitemap;    /* 1: a sitemap file; 2: a guessed one */
    char *parent;
    char url[]; /* normalised */
};

struct pf__frontier_hooks {
    /* -c: 1 when an earlier run did url (it is then skipped); or NULL. */
    int (*is_done)(const char *url, void *ud);
    /*
     * A URL new to the run, accepted or skipped as done: what is named
     * in acceptance order is named now (the flat layout's file names).
     * < 0 (PF_ENOMEM) fails the accept.  Or NULL.
     */
    int (*accepted)(const char *url, void *ud);
    /* A discovered URL now waits (a resumed crawl reads them back). */
    void (*pending)(const char *url, int depth, const char *parent,
                    int requisite, void *ud);
    /*
     * Fetch the robots.txt of h, one of whose URLs is url, and call
     * pf__frontier_robots_ready() when it is in.  0 when started; < 0
     * when it cannot be (everything is then allowed).
     */
    int (*robots)(struct pf__host *h, const char *url, void *ud);
    /*
     * The host of url now keeps wait_ms between the starts of its
     * requests, because of its robots.txt's Crawl-delay (crawl_delay) or
     * --wait: called when a host's wait first applies and when it
     * changes, for -v.  Or NULL.
     */
    void (*waiting)(const char *url, int64_t wait_ms, int crawl_delay,
                    void *ud);
    void *ud;
};

struct pf__frontier_conf {
    unsigned jobs;      /* -j */
    unsigned per_host;  /* --per-host, 0: no cap */
    int max_depth;      /* -l, PF__DEPTH_INF */
    int gate;           /* -r: depth d+2 waits for depth d's links */
    int parsing;        /* pages are parsed: a URL's depth may move */
    int robots;         /* obey robots.txt for discovered URLs */
    int span_hosts;     /* links of any host are in scope */
    const char *accept; /* --accept, an ERE, or NULL */
    const char *reject; /* --reject, an ERE, or NULL */
    /*
     * Politeness.  A host with a wait (wait_ms, or its robots.txt's
     * Crawl-delay as robots_ready() hands it over, capped at
     * PF__CRAWL_DELAY_MAX_MS; the larger counts) has one request in
     * flight at a time, and its requests start at least that long
     * apart: with random_wait, each gap of --wait is drawn between 0.5
     * and 1.5 times wait_ms (never below the Crawl-delay).  A host
     * waiting out its gap is off the ready list and holds no slot; a
     * timer of loop puts it back.  loop may be NULL when nothing waits.
     */
    int64_t wait_ms;       /* --wait, 0: none */
    int random_wait;       /* --random-wait */
    struct pf__loop *loop; /* the timers of the waits */
};

struct pf__frontier_counts {
    uint64_t accepted; /* URLs accepted */
    uint64_t queued;   /* waiting: not started, or a retry's slot */
    unsigned active;   /* slots held */
};

struct pf__frontier;

/* A backend.  Every operation is the loop thread's. */
struct pf__frontier_ops {
    /*
     * Accept url (normalised) at depth, found on parent (NULL for a
     * seed).  0 when accepted or skipped as done (-c); PF_EDUPLICATE
     * when seen already (a shorter path moves a waiting one up); 1 for
     * a link out of scope or filtered out (not accepted); PF_ENOMEM.
     */
    int (*accept)(struct pf__frontier *f, const char *url, int depth,
                  const char *parent, int flags);
    /*
     * The next item to start, its slot taken, or NULL.  An item with
     * refused set takes no slot: robots.txt refuses it.
     */
    struct pf__item *(*lease)(struct pf__frontier *f);
    /* Its transfer is over: the slot goes back. */
    void (*release)(struct pf__frontier *f, struct pf__item *it);
    /* A retry waits (waiter) for a slot, ahead of new items. */
    void (*requeue)(struct pf__frontier *f, struct pf__item *it, void *waiter);
    /* A requeued item whose wait was cancelled leaves the queue. */
    void (*withdraw)(struct pf__frontier *f, struct pf__item *it);
    /* Its row is written and its links handled: the item is freed. */
    void (*complete)(struct pf__frontier *f, struct pf__item *it);
    /* A queued item that will never start (a stop), or NULL. */
    struct pf__item *(*drain)(struct pf__frontier *f);
    /*
     * url was fetched as another accepted URL's redirect: it is seen, so
     * that a link to it later is a duplicate, not a second request.  0,
     * PF_EDUPLICATE when it was seen already, or PF_ENOMEM.
     */
    int (*alias)(struct pf__frontier *f, const char *url);
    /* Could lease() give something now? */
    int (*runnable)(const struct pf__frontier *f);
    void (*counts)(const struct pf__frontier *f,
                   struct pf__frontier_counts *out);
    /*
     * h's robots.txt is in (rules taken; NULL allows everything); its
     * Crawl-delay (pf__robots_crawl_delay_ms()) sets h's wait.
     */
    void (*robots_ready)(struct pf__frontier *f, struct pf__host *h,
                         struct pf__robots *rules);
    /* Stopping: nothing more leases; queued items are to be drained. */
    void (*close)(struct pf__frontier *f);
    void (*free)(struct pf__frontier *f);
};

/*
 * What every backend shares: its operations, configuration, hooks and
 * the crawl's scope (the seeds' hosts, --accept, --reject).
 */
struct pf__frontier {
    const struct pf__frontier_ops *ops;
    struct pf__frontier_conf conf;
    struct pf__frontier_hooks hooks;
    struct pf__strmap seed_hosts; /* host:port of every seed */
    void *accept_re;              /* regex_t *, or NULL */
    void *reject_re;
};

/*
 * The in-memory backend.  PF_EINVAL for a filter that does not compile
 * (why says why), PF_ENOMEM.
 */
int pf__frontier_mem_new(struct pf__frontier **out,
                         const struct pf__frontier_conf *conf,
                         const struct pf__frontier_hooks *hooks, char *why,
                         size_t whylen);

/* Shared by backends: scope and filters. */
int pf__frontier_base_init(struct pf__frontier *f,
                           const struct pf__frontier_conf *conf,
                           const struct pf__frontier_hooks *hooks, char *why,
                           size_t whylen);
void pf__frontier_base_cleanup(struct pf__frontier *f);
/* A seed's host is in scope: PF_ENOMEM. */
int pf__frontier_add_seed_host(struct pf__frontier *f, const char *url);
/* Is the link url in scope, and through --accept and --reject? */
int pf__frontier_wants(const struct pf__frontier *f, const char *url);

/*
 * -c with a crawl: an earlier run's frontier rows, gathered first (the
 * walk holds the log) and accepted after.
 */
struct pf__resumed;
int pf__resumed_new(struct pf__resumed **out);
/* A row, as pf__db_frontier_pending() hands them: PF_ENOMEM. */
int pf__resumed_row(const char *url, int depth, const char *parent,
                    int requisite, void *resumed);
/* Accept the rows within max_depth (requisites one past with reqs). */
int pf__frontier_resume(struct pf__frontier *f, struct pf__resumed *r,
                        int reqs);
void pf__resumed_free(struct pf__resumed *r);

/* The operations, by name. */
static inline int pf__frontier_accept(struct pf__frontier *f, const char *url,
                                      int depth, const char *parent, int flags)
{
    return f->ops->accept(f, url, depth, parent, flags);
}

static inline struct pf__item *pf__frontier_lease(struct pf__frontier *f)
{
    return f->ops->lease(f);
}

static inline void pf__frontier_release(struct pf__frontier *f,
                                        struct pf__item *it)
{
    f->ops->release(f, it);
}

static inline void pf__frontier_requeue(struct pf__frontier *f,
                                        struct pf__item *it, void *waiter)
{
    f->ops->requeue(f, it, waiter);
}

static inline void pf__frontier_withdraw(struct pf__frontier *f,
                                         struct pf__item *it)
{
    f->ops->withdraw(f, it);
}

static inline void pf__frontier_complete(struct pf__frontier *f,
                                         struct pf__item *it)
{
    f->ops->complete(f, it);
}

static inline int pf__frontier_alias(struct pf__frontier *f, const char *url)
{
    return f->ops->alias(f, url);
}

static inline struct pf__item *pf__frontier_drain(struct pf__frontier *f)
{
    return f->ops->drain(f);
}

static inline int pf__frontier_runnable(const struct pf__frontier *f)
{
    return f->ops->runnable(f);
}

static inline void pf__frontier_counts(const struct pf__frontier *f,
                                       struct pf__frontier_counts *out)
{
    f->ops->counts(f, out);
}

static inline void pf__frontier_robots_ready(struct pf__frontier *f,
                                             struct pf__host *h,
                                             struct pf__robots *rules)
{
    f->ops->robots_ready(f, h, rules);
}

static inline void pf__frontier_close(struct pf__frontier *f)
{
    f->ops->close(f);
}

static inline void pf__frontier_free(struct pf__frontier *f)
{
    if (f != NULL)
        f->ops->free(f);
}

#endif /* PF_FRONTIER_H */
