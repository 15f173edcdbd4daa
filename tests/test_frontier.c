/*
 * test_frontier.c -- the in-memory frontier on its own: dedupe, scope and
 * filters, per-host fairness and the -j cap, the depth gate, a URL found
 * again at a shorter depth, requeued retries, robots.txt's place in the
 * order, draining at a stop, -c's skipping of done URLs, and the waits
 * of --wait and Crawl-delay on a real loop's timers.
 */
#include <string.h>

#include "frontier.h"
#include "loop.h"
#include "robots.h"
#include "test.h"

struct hooks_seen {
    int pending;               /* pending hook calls */
    int robots;                /* robots hook calls */
    struct pf__host *host;     /* the last host asked for */
    const char *done;          /* is_done says yes to this URL */
    int accepted;              /* accepted hook calls */
    struct pf__host *hosts[4]; /* every host asked for, in order */
    int waiting;               /* waiting hook calls */
    int64_t wait_ms;           /* the last wait it gave */
    int crawl_delay;           /* and whether a Crawl-delay set it */
};

static void waiting(const char *url, int64_t wait_ms, int crawl_delay, void *ud)
{
    struct hooks_seen *h = ud;

    (void)url;
    h->waiting++;
    h->wait_ms = wait_ms;
    h->crawl_delay = crawl_delay;
}

static int accepted(const char *url, void *ud)
{
    (void)url;
    ((struct hooks_seen *)ud)->accepted++;
    return 0;
}

static int is_done(const char *url, void *ud)
{
    struct hooks_seen *h = ud;

    return h->done != NULL && strcmp(url, h->done) == 0;
}

static void pending(const char *url, int depth, const char *parent,
                    int requisite, void *ud)
{
    (void)url;
    (void)depth;
    (void)parent;
    (void)requisite;
    ((struct hooks_seen *)ud)->pending++;
}

static int robots(struct pf__host *host, const char *url, void *ud)
{
    struct hooks_seen *h = ud;

    (void)url;
    if (h->robots < 4)
        h->hosts[h->robots] = host;
    h->robots++;
    h->host = host;
    return 0;
}

static struct pf__frontier *make(struct pf__frontier_conf *conf,
                                 struct hooks_seen *seen)
{
    struct pf__frontier_hooks hooks = {.is_done = is_done,
                                       .accepted = accepted,
                                       .pending = pending,
                                       .robots = robots,
                                       .waiting = waiting,
                                       .ud = seen};
    struct pf__frontier *f = NULL;
    char why[256];

    if (pf__frontier_mem_new(&f, conf, &hooks, why, sizeof(why)) != 0)
        return NULL;
    return f;
}

static struct pf__frontier_conf conf_of(unsigned jobs, unsigned per_host)
{
    struct pf__frontier_conf c;

    memset(&c, 0, sizeof(c));
    c.jobs = jobs;
    c.per_host = per_host;
    c.max_depth = PF__DEPTH_INF;
    return c;
}

/* Lease one, and give it back as done. */
static const char *lease_done(struct pf__frontier *f, char *buf, size_t n)
{
    struct pf__item *it = pf__frontier_lease(f);

    if (it == NULL)
        return NULL;
    snprintf(buf, n, "%s", it->url);
    if (!it->refused)
        pf__frontier_release(f, it);
    pf__frontier_complete(f, it);
    return buf;
}

static void test_dedupe(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(4, 0);
    struct pf__frontier *f = make(&c, &h);
    struct pf__frontier_counts n;

    CHECK(f != NULL);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/x", 0, NULL, 0), 0);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/x", 0, NULL, 0),
             PF_EDUPLICATE);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/x", 1, "http://a.test/",
                                 PF__ACCEPT_DISCOVERED),
             PF_EDUPLICATE);
    pf__frontier_counts(f, &n);
    CHECK_EQ(n.accepted, 1);
    CHECK_EQ(n.queued, 1);
    pf__frontier_free(f);
}

/*
 * The accepted hook sees each new URL once, a skipped one (done) too;
 * an alias (a slash redirect's target) makes a later link a duplicate.
 */
static void test_accepted_and_alias(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(4, 0);
    struct pf__frontier *f;
    struct pf__frontier_counts n;

    c.parsing = 1;
    h.done = "http://a.test/done";
    f = make(&c, &h);
    CHECK(f != NULL);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/sub", 0, NULL, 0), 0);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/sub", 0, NULL, 0),
             PF_EDUPLICATE);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/done", 0, NULL, 0), 0);
    CHECK_EQ(h.accepted, 2);
    CHECK_EQ(pf__frontier_alias(f, "http://a.test/sub/"), 0);
    CHECK_EQ(pf__frontier_alias(f, "http://a.test/sub/"), PF_EDUPLICATE);
    CHECK_EQ(pf__frontier_alias(f, "http://a.test/sub"), PF_EDUPLICATE);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/sub/", 1,
                                 "http://a.test/sub", PF__ACCEPT_DISCOVERED),
             PF_EDUPLICATE);
    CHECK_EQ(h.accepted, 2);
    pf__frontier_counts(f, &n);
    CHECK_EQ(n.accepted, 1);
    pf__frontier_free(f);
}

static void test_scope_and_filters(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(4, 0);
    struct pf__frontier *f;

    c.parsing = 1;
    c.accept = "/keep|/skip";
    c.reject = "/skip";
    f = make(&c, &h);
    CHECK(f != NULL);
    /* Seeds are never filtered; their hosts are the scope. */
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/seed", 0, NULL, 0), 0);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test:8080/keep", 1,
                                 "http://a.test/seed", PF__ACCEPT_DISCOVERED),
             1);
    CHECK_EQ(pf__frontier_accept(f, "http://b.test/keep", 1,
                                 "http://a.test/seed", PF__ACCEPT_DISCOVERED),
             1);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/other", 1,
                                 "http://a.test/seed", PF__ACCEPT_DISCOVERED),
             1);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/skip", 1,
                                 "http://a.test/seed", PF__ACCEPT_DISCOVERED),
             1);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/keep", 1,
                                 "http://a.test/seed", PF__ACCEPT_DISCOVERED),
             0);
    CHECK_EQ(h.pending, 1); /* the accepted link was noted */
    pf__frontier_free(f);
    /* With --span-hosts, any host. */
    c.span_hosts = 1;
    c.accept = c.reject = NULL;
    f = make(&c, &h);
    CHECK(f != NULL);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/seed", 0, NULL, 0), 0);
    CHECK_EQ(pf__frontier_accept(f, "http://b.test/", 1, "http://a.test/seed",
                                 PF__ACCEPT_DISCOVERED),
             0);
    pf__frontier_free(f);
    /* A filter that does not compile says why. */
    {
        struct pf__frontier_hooks hooks = {.robots = robots, .ud = &h};
        char why[256] = "";

        c.accept = "(";
        f = NULL;
        CHECK_EQ(pf__frontier_mem_new(&f, &c, &hooks, why, sizeof(why)),
                 PF_EINVAL);
        CHECK(f == NULL);
        CHECK(strstr(why, "--accept") != NULL);
    }
}

static void test_fairness_and_caps(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(3, 1);
    struct pf__frontier *f = make(&c, &h);
    struct pf__item *a1, *b1, *a2;
    struct pf__frontier_counts n;

    CHECK(f != NULL);
    pf__frontier_accept(f, "http://a.test/1", 0, NULL, 0);
    pf__frontier_accept(f, "http://a.test/2", 0, NULL, 0);
    pf__frontier_accept(f, "http://b.test/1", 0, NULL, 0);
    pf__frontier_accept(f, "http://b.test/2", 0, NULL, 0);
    a1 = pf__frontier_lease(f);
    b1 = pf__frontier_lease(f);
    CHECK(a1 != NULL && b1 != NULL);
    CHECK_STR(a1->url, "http://a.test/1");
    CHECK_STR(b1->url, "http://b.test/1");
    /* --per-host 1: both hosts are full, though -j has room. */
    CHECK(pf__frontier_lease(f) == NULL);
    CHECK(!pf__frontier_runnable(f));
    pf__frontier_release(f, a1);
    pf__frontier_complete(f, a1);
    CHECK(pf__frontier_runnable(f));
    a2 = pf__frontier_lease(f);
    CHECK(a2 != NULL);
    CHECK_STR(a2->url, "http://a.test/2");
    pf__frontier_counts(f, &n);
    CHECK_EQ(n.active, 2);
    CHECK_EQ(n.queued, 1);
    pf__frontier_release(f, a2);
    pf__frontier_complete(f, a2);
    pf__frontier_release(f, b1);
    pf__frontier_complete(f, b1);
    pf__frontier_free(f);
}

static void test_round_robin_and_jobs(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(2, 0);
    struct pf__frontier *f = make(&c, &h);
    struct pf__item *x, *y;
    char buf[64];

    CHECK(f != NULL);
    pf__frontier_accept(f, "http://a.test/1", 0, NULL, 0);
    pf__frontier_accept(f, "http://a.test/2", 0, NULL, 0);
    pf__frontier_accept(f, "http://b.test/1", 0, NULL, 0);
    pf__frontier_accept(f, "http://b.test/2", 0, NULL, 0);
    x = pf__frontier_lease(f);
    y = pf__frontier_lease(f);
    CHECK(x != NULL && y != NULL);
    CHECK(pf__frontier_lease(f) == NULL); /* -j 2 */
    CHECK(strstr(x->url, "a.test") != NULL);
    CHECK(strstr(y->url, "b.test") != NULL);
    pf__frontier_release(f, x);
    pf__frontier_complete(f, x);
    pf__frontier_release(f, y);
    pf__frontier_complete(f, y);
    CHECK_STR(lease_done(f, buf, sizeof(buf)), "http://a.test/2");
    CHECK_STR(lease_done(f, buf, sizeof(buf)), "http://b.test/2");
    CHECK(lease_done(f, buf, sizeof(buf)) == NULL);
    pf__frontier_free(f);
}

static void test_depth_gate(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(8, 0);
    struct pf__frontier *f;
    struct pf__item *seed, *d1, *d2;

    c.gate = 1;
    c.parsing = 1;
    c.span_hosts = 1;
    f = make(&c, &h);
    CHECK(f != NULL);
    pf__frontier_accept(f, "http://a.test/", 0, NULL, 0);
    seed = pf__frontier_lease(f);
    CHECK(seed != NULL);
    /* The seed's links are being handled: depth 1 may go, depth 2 not. */
    pf__frontier_accept(f, "http://b.test/d2", 2, "http://x.test/",
                        PF__ACCEPT_DISCOVERED | PF__ACCEPT_RESUMED);
    pf__frontier_accept(f, "http://c.test/d1", 1, "http://a.test/",
                        PF__ACCEPT_DISCOVERED | PF__ACCEPT_RESUMED);
    d1 = pf__frontier_lease(f);
    CHECK(d1 != NULL);
    CHECK_STR(d1->url, "http://c.test/d1");
    CHECK(pf__frontier_lease(f) == NULL);
    pf__frontier_release(f, seed);
    pf__frontier_complete(f, seed); /* depth 0 done: the gate moves */
    d2 = pf__frontier_lease(f);
    CHECK(d2 != NULL);
    CHECK_STR(d2->url, "http://b.test/d2");
    pf__frontier_release(f, d1);
    pf__frontier_complete(f, d1);
    pf__frontier_release(f, d2);
    pf__frontier_complete(f, d2);
    pf__frontier_free(f);
}

static void test_shorter_path_moves_up(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(8, 0);
    struct pf__frontier *f;
    struct pf__item *it;

    c.parsing = 1;
    c.span_hosts = 1;
    c.robots = 0;
    f = make(&c, &h);
    CHECK(f != NULL);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/u", 3, "http://p3.test/",
                                 PF__ACCEPT_DISCOVERED | PF__ACCEPT_REQUISITE),
             0);
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/u", 1, "http://p1.test/",
                                 PF__ACCEPT_DISCOVERED),
             PF_EDUPLICATE);
    CHECK_EQ(h.pending, 2); /* noted again, at its new depth */
    it = pf__frontier_lease(f);
    CHECK(it != NULL);
    CHECK_EQ(it->depth, 1);
    CHECK_STR(it->parent, "http://p1.test/");
    CHECK_EQ(it->requisite, 0); /* a page now, not a requisite */
    /* Once started, its depth is final. */
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/u", 0, "http://p0.test/",
                                 PF__ACCEPT_DISCOVERED),
             PF_EDUPLICATE);
    CHECK_EQ(it->depth, 1);
    pf__frontier_release(f, it);
    pf__frontier_complete(f, it);
    pf__frontier_free(f);
}

static void test_requeue(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(1, 0);
    struct pf__frontier *f = make(&c, &h);
    struct pf__frontier_counts n;
    struct pf__item *it, *again;
    int waiter;

    CHECK(f != NULL);
    pf__frontier_accept(f, "http://a.test/1", 0, NULL, 0);
    pf__frontier_accept(f, "http://a.test/2", 0, NULL, 0);
    it = pf__frontier_lease(f);
    CHECK_STR(it->url, "http://a.test/1");
    /* A retry's backoff: its slot goes back, then it waits first. */
    pf__frontier_release(f, it);
    pf__frontier_requeue(f, it, &waiter);
    pf__frontier_counts(f, &n);
    CHECK_EQ(n.queued, 2);
    again = pf__frontier_lease(f);
    CHECK(again == it);
    CHECK(again->waiter == &waiter);
    again->waiter = NULL;
    /* A cancelled wait leaves the queue. */
    pf__frontier_release(f, it);
    pf__frontier_requeue(f, it, &waiter);
    pf__frontier_withdraw(f, it);
    CHECK(it->waiter == NULL);
    pf__frontier_counts(f, &n);
    CHECK_EQ(n.queued, 1);
    pf__frontier_complete(f, it);
    it = pf__frontier_lease(f);
    CHECK_STR(it->url, "http://a.test/2");
    pf__frontier_release(f, it);
    pf__frontier_complete(f, it);
    pf__frontier_free(f);
}

static void test_robots(void)
{
    static const char txt[] = "User-agent: *\nDisallow: /no\n";
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(4, 0);
    struct pf__frontier *f;
    struct pf__frontier_counts n;
    struct pf__robots *rules = NULL;
    struct pf__item *seed, *it;
    char buf[64];

    c.parsing = 1;
    c.robots = 1;
    f = make(&c, &h);
    CHECK(f != NULL);
    /* Seeds do not wait for robots.txt. */
    pf__frontier_accept(f, "http://a.test/", 0, NULL, 0);
    seed = pf__frontier_lease(f);
    CHECK(seed != NULL);
    CHECK_EQ(h.robots, 0);
    pf__frontier_accept(f, "http://a.test/no", 1, "http://a.test/",
                        PF__ACCEPT_DISCOVERED);
    pf__frontier_accept(f, "http://a.test/yes", 1, "http://a.test/",
                        PF__ACCEPT_DISCOVERED);
    CHECK_EQ(h.robots, 1); /* asked for once */
    CHECK(pf__frontier_lease(f) == NULL);
    CHECK_EQ(h.robots, 1);
    CHECK_EQ(pf__robots_parse(txt, strlen(txt), "pfetch", &rules), 0);
    pf__frontier_robots_ready(f, h.host, rules);
    it = pf__frontier_lease(f);
    CHECK(it != NULL);
    CHECK_STR(it->url, "http://a.test/no");
    CHECK(it->refused);
    pf__frontier_counts(f, &n);
    CHECK_EQ(n.active, 1); /* the seed's slot only */
    pf__frontier_complete(f, it);
    CHECK_STR(lease_done(f, buf, sizeof(buf)), "http://a.test/yes");
    pf__frontier_release(f, seed);
    pf__frontier_complete(f, seed);
    pf__frontier_free(f);
}

static void test_drain_and_resume(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(1, 0);
    struct pf__frontier *f;
    struct pf__item *it;
    int drained = 0;

    h.done = "http://a.test/done";
    f = make(&c, &h);
    CHECK(f != NULL);
    /* -c: a URL an earlier run did is skipped, and counted nowhere. */
    CHECK_EQ(pf__frontier_accept(f, "http://a.test/done", 0, NULL, 0), 0);
    pf__frontier_accept(f, "http://a.test/1", 0, NULL, 0);
    pf__frontier_accept(f, "http://b.test/1", 0, NULL, 0);
    pf__frontier_accept(f, "http://b.test/2", 0, NULL, 0);
    it = pf__frontier_lease(f);
    CHECK(it != NULL);
    pf__frontier_close(f);
    CHECK(pf__frontier_lease(f) == NULL);
    CHECK(!pf__frontier_runnable(f));
    while (1) {
        struct pf__item *d = pf__frontier_drain(f);

        if (d == NULL)
            break;
        drained++;
        pf__frontier_complete(f, d);
    }
    CHECK_EQ(drained, 2);
    pf__frontier_release(f, it);
    pf__frontier_complete(f, it);
    pf__frontier_free(f);
}

/* Lease url, or NULL (and a message) when something else comes. */
static struct pf__item *lease_url(struct pf__frontier *f, const char *url)
{
    struct pf__item *it = pf__frontier_lease(f);

    if (it != NULL && strcmp(it->url, url) == 0)
        return it;
    fprintf(stderr, "  leased %s, not %s\n", it != NULL ? it->url : "nothing",
            url);
    return NULL;
}

static void done(struct pf__frontier *f, struct pf__item *it)
{
    if (it == NULL)
        return;
    pf__frontier_release(f, it);
    pf__frontier_complete(f, it);
}

/*
 * Host a's robots.txt asks for Crawl-delay: 0.1; b's has none.  With
 * -j 2 and no --per-host, a runs one request at a time, and b takes the
 * slots meanwhile; once a's request is over, a is off the ready list
 * until its timer fires on the loop, 100 ms after its request started.
 */
static void test_crawl_delay_timer(void)
{
    static const char txt[] = "User-agent: *\nCrawl-delay: 0.1\n";
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(2, 0);
    struct pf__frontier *f;
    struct pf__robots *rules = NULL;
    struct pf__item *a1, *b;
    struct pf__loop loop;
    int64_t t0;
    int polls;

    CHECK_EQ(pf__loop_init(&loop), 0);
    c.parsing = 1;
    c.robots = 1;
    c.loop = &loop;
    f = make(&c, &h);
    CHECK(f != NULL);
    pf__frontier_accept(f, "http://a.test/", 0, NULL, 0);
    pf__frontier_accept(f, "http://b.test/", 0, NULL, 0);
    pf__frontier_accept(f, "http://a.test/1", 1, "http://a.test/",
                        PF__ACCEPT_DISCOVERED);
    pf__frontier_accept(f, "http://b.test/1", 1, "http://b.test/",
                        PF__ACCEPT_DISCOVERED);
    pf__frontier_accept(f, "http://b.test/2", 1, "http://b.test/",
                        PF__ACCEPT_DISCOVERED);
    a1 = lease_url(f, "http://a.test/");
    CHECK(a1 != NULL);
    done(f, a1);
    b = lease_url(f, "http://b.test/");
    CHECK(b != NULL);
    done(f, b);
    CHECK_EQ(h.robots, 2);
    CHECK_EQ(pf__robots_parse(txt, strlen(txt), "pfetch", &rules), 0);
    pf__frontier_robots_ready(f, h.hosts[0], rules);
    CHECK_EQ(h.waiting, 1); /* said when robots.txt is in */
    CHECK_EQ(h.wait_ms, 100);
    CHECK_EQ(h.crawl_delay, 1);
    pf__frontier_robots_ready(f, h.hosts[1], NULL);
    /* a's seed started just now: a waits, b goes on with both slots. */
    t0 = pf__now_ns();
    b = lease_url(f, "http://b.test/1");
    CHECK(b != NULL);
    a1 = lease_url(f, "http://b.test/2");
    CHECK(a1 != NULL);
    done(f, a1);
    CHECK(pf__frontier_lease(f) == NULL);
    CHECK(!pf__frontier_runnable(f));
    CHECK(pf__loop_next_deadline_ns(&loop) >= 0); /* a's timer */
    for (polls = 0; polls < 100 && !pf__frontier_runnable(f); polls++)
        CHECK_EQ(pf__loop_poll(&loop, 1), 0);
    CHECK(pf__frontier_runnable(f));
    CHECK(pf__now_ns() - t0 >= 90 * 1000000LL);
    a1 = lease_url(f, "http://a.test/1");
    CHECK(a1 != NULL);
    done(f, b);
    done(f, a1);
    CHECK_EQ(h.waiting, 1);
    pf__frontier_close(f);
    CHECK(pf__loop_next_deadline_ns(&loop) < 0); /* close stops timers */
    pf__frontier_free(f);
    pf__loop_cleanup(&loop);
}

/*
 * robots.txt is asked for as soon as a discovered link waits, even while
 * its host is full (--per-host 1, the seed running): the rules, and a
 * Crawl-delay, are in by the time the link may start.
 */
static void test_robots_asked_while_full(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(4, 1);
    struct pf__frontier *f;
    struct pf__item *seed, *it;

    c.parsing = 1;
    c.robots = 1;
    f = make(&c, &h);
    CHECK(f != NULL);
    pf__frontier_accept(f, "http://a.test/", 0, NULL, 0);
    seed = lease_url(f, "http://a.test/");
    CHECK(seed != NULL);
    pf__frontier_accept(f, "http://a.test/1", 1, "http://a.test/",
                        PF__ACCEPT_DISCOVERED);
    CHECK_EQ(h.robots, 1);
    CHECK(pf__frontier_lease(f) == NULL); /* full, and no rules yet */
    pf__frontier_robots_ready(f, h.host, NULL);
    CHECK(pf__frontier_lease(f) == NULL); /* still full */
    done(f, seed);
    it = lease_url(f, "http://a.test/1");
    CHECK(it != NULL);
    done(f, it);
    pf__frontier_free(f);
}

/* --wait: one request at a time per host, whatever --per-host says. */
static void test_wait_one_at_a_time(void)
{
    struct hooks_seen h = {0};
    struct pf__frontier_conf c = conf_of(4, 4);
    struct pf__frontier *f;
    struct pf__item *a1;
    struct pf__loop loop;
    int polls;

    CHECK_EQ(pf__loop_init(&loop), 0);
    c.wait_ms = 30;
    c.random_wait = 1;
    c.loop = &loop;
    f = make(&c, &h);
    CHECK(f != NULL);
    pf__frontier_accept(f, "http://a.test/1", 0, NULL, 0);
    pf__frontier_accept(f, "http://a.test/2", 0, NULL, 0);
    a1 = lease_url(f, "http://a.test/1");
    CHECK(a1 != NULL);
    CHECK_EQ(h.waiting, 1);
    CHECK_EQ(h.wait_ms, 30);
    CHECK_EQ(h.crawl_delay, 0);
    CHECK(pf__frontier_lease(f) == NULL); /* one in flight */
    done(f, a1);
    for (polls = 0; polls < 100 && !pf__frontier_runnable(f); polls++)
        CHECK_EQ(pf__loop_poll(&loop, 1), 0);
    a1 = lease_url(f, "http://a.test/2");
    CHECK(a1 != NULL);
    done(f, a1);
    CHECK_EQ(h.waiting, 1);
    pf__frontier_free(f);
    pf__loop_cleanup(&loop);
}

TEST_MAIN(TEST(test_dedupe), TEST(test_accepted_and_alias),
          TEST(test_scope_and_filters), TEST(test_fairness_and_caps),
          TEST(test_round_robin_and_jobs), TEST(test_depth_gate),
          TEST(test_shorter_path_moves_up), TEST(test_requeue),
          TEST(test_robots), TEST(test_drain_and_resume),
          TEST(test_crawl_delay_timer), TEST(test_robots_asked_while_full),
          TEST(test_wait_one_at_a_time))
