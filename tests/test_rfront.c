/*
 * test_rfront.c -- the shared frontier's Lua steps against a real
 * redis-server started here: accept (seen, a shorter depth moves a
 * waiting URL up), lease within per-host caps shared by two workers and
 * within per-host waits, the depth gate, release, fencing after a reap,
 * robots.txt refusals and redirect targets, the counts and the end of a
 * crawl, and a Redis with AOF killed and restarted under a crawl
 * (reconnect with backoff, scripts loaded again, nothing lost), and the
 * keeper that renews a worker's lease and gives up when Redis stays away.
 */
#include "coro.h"
#include "redis_server.h"
#include "rfront.h"
#include "test.h"

static struct test_redis srv;
static int srv_state;

static void srv_cleanup(void)
{
    test_redis_remove(&srv);
}

static int server(void)
{
    if (srv_state == 0) {
        srv_state = -1;
        if (!test_redis_present())
            printf("skip: redis-server is not installed\n");
        else if (test_redis_start(&srv) < 0)
            printf("skip: redis-server did not start\n");
        else
            srv_state = 1;
        atexit(srv_cleanup);
    }
    return srv_state == 1;
}

struct env {
    pf_sched *s;
    struct pf__redis *r;
};

static int env_open(struct env *e)
{
    struct pf__redis_addr a;
    char why[256];

    memset(&a, 0, sizeof(a));
    a.host = "127.0.0.1";
    a.port = srv.port;
    if (pf_sched_new(&e->s, 0) != 0)
        return -1;
    return pf__redis_connect(&e->r, e->s, &a, 5000, why, sizeof(why));
}

static void env_close(struct env *e)
{
    pf__redis_free(e->r);
    pf_sched_free(e->s);
}

static struct pf__rfront *worker(struct env *e, const char *crawl,
                                 const char *name, unsigned per_host,
                                 int64_t lease_ms)
{
    struct pf__rfront_conf c;
    struct pf__rfront *f;

    memset(&c, 0, sizeof(c));
    c.crawl_id = crawl;
    c.worker = name;
    c.lease_ms = lease_ms;
    c.per_host = per_host;
    c.gate = 1;
    return pf__rfront_new(&f, e->r, &c) == 0 ? f : NULL;
}

static void test_accept(void)
{
    struct pf__rfront_url u[3] = {
        {"http://a/1", "a:80", 2, 0, "http://a/"},
        {"http://a/2", "a:80", 1, 0, NULL},
        {"http://a/1", "a:80", 2, 0, NULL}, /* again in the same batch */
    };
    struct pf__rfront_url shorter = {"http://a/1", "a:80", 1, 0, "http://a/2"};
    struct pf__rfront_status st;
    struct pf__rfront_leased *v;
    struct pf__rfront *f;
    struct env e;
    size_t n;
    int res[3];

    if (!server())
        return;
    CHECK_EQ(env_open(&e), 0);
    f = worker(&e, "accept", "w1", 0, 30000);
    CHECK(f != NULL);
    CHECK_STR(pf__rfront_prefix(f), "pfetch:accept:");
    CHECK_EQ(pf__rfront_status(f, &st), 0);
    CHECK(!st.started && !st.finished);
    CHECK_EQ(pf__rfront_accept(f, u, 3, res), 0);
    CHECK(res[0] == 0 && res[1] == 0 && res[2] == 1);
    CHECK_EQ(pf__rfront_accept(f, &shorter, 1, res), 0);
    CHECK_EQ(res[0], 1);
    CHECK_EQ(pf__rfront_status(f, &st), 0);
    CHECK(st.started && !st.finished);
    CHECK_EQ(st.queued, 2);
    /* Both at depth 1 now: /1 moved up, with its new parent. */
    CHECK_EQ(pf__rfront_lease(f, 10, &v, &n), 0);
    CHECK_EQ(n, 2u);
    CHECK_EQ(v[0].depth, 1);
    CHECK_EQ(v[1].depth, 1);
    CHECK_STR(v[0].host, "a:80");
    CHECK(strcmp(v[0].url, "http://a/1") == 0
              ? strcmp(v[0].parent, "http://a/2") == 0
              : v[0].parent == NULL);
    pf__rfront_leased_free(v, n);
    pf__rfront_free(f);
    env_close(&e);
}

static void add_urls(struct pf__rfront *f, const char *host, int count,
                     int depth)
{
    char url[64];
    int i, res;

    for (i = 0; i < count; i++) {
        struct pf__rfront_url u = {url, host, depth, 0, NULL};

        snprintf(url, sizeof(url), "http://%s/%d/%d", host, depth, i);
        if (pf__rfront_accept(f, &u, 1, &res) != 0)
            abort();
    }
}

/* --per-host 2, shared: two workers never hold more than 2 per host. */
static void test_per_host_shared(void)
{
    struct pf__rfront_leased *v1, *v2;
    struct pf__rfront *f1, *f2;
    struct env e;
    size_t n1, n2, i;

    if (!server())
        return;
    CHECK_EQ(env_open(&e), 0);
    f1 = worker(&e, "caps", "w1", 2, 30000);
    f2 = worker(&e, "caps", "w2", 2, 30000);
    CHECK(f1 != NULL && f2 != NULL);
    add_urls(f1, "a:80", 5, 0);
    add_urls(f1, "b:80", 5, 0);
    add_urls(f1, "c:80", 5, 0);
    CHECK_EQ(pf__rfront_lease(f1, 100, &v1, &n1), 0);
    CHECK_EQ(n1, 6u);
    CHECK_EQ(pf__rfront_lease(f2, 100, &v2, &n2), 0);
    CHECK_EQ(n2, 0u);
    /* A transfer over gives its slot back before the URL completes. */
    CHECK_EQ(pf__rfront_release(f1, v1[0].url), 0);
    CHECK_EQ(pf__rfront_release(f1, v1[0].url), 0); /* once only */
    CHECK_EQ(pf__rfront_lease(f2, 100, &v2, &n2), 0);
    CHECK_EQ(n2, 1u);
    CHECK_STR(v2[0].host, v1[0].host);
    CHECK_EQ(pf__rfront_complete(f1, v1[0].url, PF__RFRONT_DONE), 1);
    for (i = 1; i < n1; i++)
        CHECK_EQ(pf__rfront_complete(f1, v1[i].url, PF__RFRONT_DONE), 1);
    pf__rfront_leased_free(v2, n2);
    CHECK_EQ(pf__rfront_lease(f2, 100, &v2, &n2), 0);
    CHECK_EQ(n2, 5u); /* 2 per host, one of a's held by w2 */
    pf__rfront_leased_free(v1, n1);
    pf__rfront_leased_free(v2, n2);
    pf__rfront_free(f1);
    pf__rfront_free(f2);
    env_close(&e);
}

/* Depth d + 2 waits until every URL of depth <= d is complete. */
static void test_gate(void)
{
    struct pf__rfront_leased *v, *w;
    struct pf__rfront *f;
    struct env e;
    size_t n, m, i;

    if (!server())
        return;
    CHECK_EQ(env_open(&e), 0);
    f = worker(&e, "gate", "w1", 0, 30000);
    CHECK(f != NULL);
    add_urls(f, "a:80", 1, 0);
    add_urls(f, "a:80", 2, 1);
    add_urls(f, "a:80", 2, 2);
    CHECK_EQ(pf__rfront_lease(f, 100, &v, &n), 0);
    CHECK_EQ(n, 3u); /* depths 0 and 1 */
    for (i = 0; i < n; i++)
        CHECK(v[i].depth <= 1);
    CHECK_EQ(pf__rfront_lease(f, 100, &w, &m), 0);
    CHECK_EQ(m, 0u);
    for (i = 0; i < n; i++)
        if (v[i].depth == 0)
            CHECK_EQ(pf__rfront_complete(f, v[i].url, PF__RFRONT_DONE), 1);
    CHECK_EQ(pf__rfront_lease(f, 100, &w, &m), 0);
    CHECK_EQ(m, 2u);
    CHECK_EQ(w[0].depth, 2);
    pf__rfront_leased_free(v, n);
    pf__rfront_leased_free(w, m);
    pf__rfront_free(f);
    env_close(&e);
}

/*
 * A worker silent past its lease is reaped: its URL goes to another, and
 * its own complete comes back "lease lost" and changes nothing.
 */
static void test_reap_and_fence(void)
{
    struct pf__rfront_leased *v1, *v2;
    struct pf__rfront_status st;
    struct pf__rfront *f1, *f2;
    struct env e;
    size_t n1, n2;

    if (!server())
        return;
    CHECK_EQ(env_open(&e), 0);
    f1 = worker(&e, "reap", "w1", 1, 100);
    f2 = worker(&e, "reap", "w2", 1, 30000);
    CHECK(f1 != NULL && f2 != NULL);
    add_urls(f1, "a:80", 1, 0);
    CHECK_EQ(pf__rfront_lease(f1, 10, &v1, &n1), 0);
    CHECK_EQ(n1, 1u);
    CHECK_EQ(pf__rfront_lease(f2, 10, &v2, &n2), 0);
    CHECK_EQ(n2, 0u); /* w1 is alive: its slot is held */
    CHECK_EQ(pf_sleep(e.s, 250), 0);
    CHECK_EQ(pf__rfront_lease(f2, 10, &v2, &n2), 0);
    CHECK_EQ(n2, 1u); /* reaped, and the slot came back with it */
    CHECK_STR(v2[0].url, v1[0].url);
    CHECK_EQ(pf__rfront_complete(f1, v1[0].url, PF__RFRONT_DONE), 0);
    CHECK_EQ(pf__rfront_status(f2, &st), 0);
    CHECK_EQ(st.done, 0);
    CHECK_EQ(st.leased, 1);
    CHECK_EQ(pf__rfront_complete(f2, v2[0].url, PF__RFRONT_DONE), 1);
    CHECK_EQ(pf__rfront_status(f2, &st), 0);
    CHECK(st.done == 1 && st.leased == 0 && st.queued == 0);
    CHECK_EQ(st.workers, 1);
    CHECK(st.finished);
    pf__rfront_leased_free(v1, n1);
    pf__rfront_leased_free(v2, n2);
    pf__rfront_free(f1);
    pf__rfront_free(f2);
    env_close(&e);
}

/* A live worker still reading a list keeps the crawl from ending. */
static void test_end(void)
{
    struct pf__rfront_leased *v;
    struct pf__rfront_status st;
    struct pf__rfront *f;
    struct env e;
    size_t n;

    if (!server())
        return;
    CHECK_EQ(env_open(&e), 0);
    f = worker(&e, "end", "w1", 0, 30000);
    CHECK(f != NULL);
    CHECK_EQ(pf__rfront_reading(f, 1), 0);
    add_urls(f, "a:80", 1, 0);
    CHECK_EQ(pf__rfront_lease(f, 10, &v, &n), 0);
    CHECK_EQ(pf__rfront_complete(f, v[0].url, PF__RFRONT_FAILED), 1);
    CHECK_EQ(pf__rfront_status(f, &st), 0);
    CHECK(st.started && !st.finished);
    CHECK_EQ(st.failed, 1);
    CHECK_EQ(pf__rfront_reading(f, 0), 0);
    CHECK_EQ(pf__rfront_status(f, &st), 0);
    CHECK(st.finished);
    pf__rfront_leased_free(v, n);
    pf__rfront_free(f);
    env_close(&e);
}

/* A per-host wait: one start per host, none again before it passes. */
static void test_wait(void)
{
    struct pf__rfront_conf c;
    struct pf__rfront_leased *v;
    struct pf__rfront *f;
    struct env e;
    size_t n;

    if (!server())
        return;
    CHECK_EQ(env_open(&e), 0);
    memset(&c, 0, sizeof(c));
    c.crawl_id = "wait";
    c.worker = "w1";
    c.lease_ms = 30000;
    c.wait_ms = 60000;
    CHECK_EQ(pf__rfront_new(&f, e.r, &c), 0);
    add_urls(f, "a:80", 3, 0);
    add_urls(f, "b:80", 3, 0);
    CHECK_EQ(pf__rfront_lease(f, 10, &v, &n), 0);
    CHECK_EQ(n, 2u);
    CHECK(strcmp(v[0].host, v[1].host) != 0);
    pf__rfront_leased_free(v, n);
    CHECK_EQ(pf__rfront_lease(f, 10, &v, &n), 0);
    CHECK_EQ(n, 0u);
    pf__rfront_free(f);
    env_close(&e);
}

/* Refused by robots.txt counts as neither; a redirect's target is seen. */
static void test_refused_and_alias(void)
{
    struct pf__rfront_url r = {"http://a/r", "a:80", 1, 0, "http://a/0/0"};
    struct pf__rfront_leased *v;
    struct pf__rfront_status st;
    struct pf__rfront *f;
    struct env e;
    size_t n;
    int res;

    if (!server())
        return;
    CHECK_EQ(env_open(&e), 0);
    f = worker(&e, "refused", "w1", 0, 30000);
    CHECK(f != NULL);
    add_urls(f, "a:80", 2, 0);
    CHECK_EQ(pf__rfront_lease(f, 10, &v, &n), 0);
    CHECK_EQ(n, 2u);
    CHECK_EQ(pf__rfront_complete(f, v[0].url, PF__RFRONT_REFUSED), 1);
    CHECK_EQ(pf__rfront_complete(f, v[1].url, PF__RFRONT_DONE), 1);
    CHECK_EQ(pf__rfront_alias(f, "http://a/r", "a:80"), 0);
    CHECK_EQ(pf__rfront_alias(f, "http://a/r", "a:80"), 1);
    CHECK_EQ(pf__rfront_alias(f, v[0].url, "a:80"), 1);
    CHECK_EQ(pf__rfront_accept(f, &r, 1, &res), 0);
    CHECK_EQ(res, 1);
    CHECK_EQ(pf__rfront_status(f, &st), 0);
    CHECK(st.done == 1 && st.failed == 0 && st.queued == 0 && st.leased == 0);
    CHECK(st.finished);
    pf__rfront_leased_free(v, n);
    pf__rfront_free(f);
    env_close(&e);
}

/* Starts the AOF server again a little later, as an operator would. */
struct restart {
    pf_sched *s;
    struct test_redis *rs;
    int rc;
};

static void restart_co(void *arg)
{
    struct restart *rs = arg;

    pf_sleep(rs->s, 300);
    rs->rc = test_redis_start(rs->rs); /* blocks the loop: a test */
}

static void aof_cleanup(struct test_redis *rs)
{
    test_redis_remove(rs);
}

static void test_restart_aof(void)
{
    struct test_redis rs = {0, 0, 1, ""};
    struct pf__redis_addr a;
    struct pf__rfront_leased *v, *w;
    struct pf__rfront_status st;
    struct pf__rfront_conf c;
    struct pf__rfront *f;
    struct restart re;
    struct pf__redis *r;
    pf_sched *s;
    pf_co *co;
    size_t n, m;
    char why[256];

    if (!server())
        return;
    if (test_redis_start(&rs) < 0) {
        aof_cleanup(&rs);
        CHECK(!"an AOF redis-server starts");
    }
    CHECK_EQ(pf_sched_new(&s, 0), 0);
    memset(&a, 0, sizeof(a));
    a.host = "127.0.0.1";
    a.port = rs.port;
    CHECK_EQ(pf__redis_connect(&r, s, &a, 5000, why, sizeof(why)), 0);
    memset(&c, 0, sizeof(c));
    c.crawl_id = "aof";
    c.worker = "w1";
    c.lease_ms = 30000;
    c.gate = 1;
    CHECK_EQ(pf__rfront_new(&f, r, &c), 0);
    add_urls(f, "a:80", 3, 0);
    CHECK_EQ(pf__rfront_lease(f, 1, &v, &n), 0);
    CHECK_EQ(n, 1u);
    test_redis_stop(&rs); /* kill -9 */
    CHECK_EQ(pf__rfront_complete(f, v[0].url, PF__RFRONT_DONE), PF_EIO);
    re.s = s;
    re.rs = &rs;
    re.rc = -1;
    CHECK_EQ(pf_spawn(s, restart_co, &re, &co), 0);
    CHECK_EQ(pf__redis_reconnect_within(r, 10000), 0);
    CHECK_EQ(pf_join(s, co), 0);
    CHECK_EQ(re.rc, 0);
    /* The lease held across the restart; the scripts load again. */
    CHECK_EQ(pf__rfront_complete(f, v[0].url, PF__RFRONT_DONE), 1);
    CHECK_EQ(pf__rfront_lease(f, 10, &w, &m), 0);
    CHECK_EQ(m, 2u);
    CHECK_EQ(pf__rfront_status(f, &st), 0);
    CHECK(st.done == 1 && st.leased == 2 && st.queued == 0);
    pf__rfront_leased_free(v, n);
    pf__rfront_leased_free(w, m);
    pf__rfront_free(f);
    pf__redis_free(r);
    pf_sched_free(s);
    aof_cleanup(&rs);
}

struct keeper {
    struct pf__rfront *f;
    int stop;
    int rc;
};

static void keep_co(void *arg)
{
    struct keeper *k = arg;

    k->rc = pf__rfront_keep(k->f, &k->stop);
}

/*
 * The keeper renews the lease past its length; stopped, it returns 0;
 * with Redis gone for a whole lease, PF_EIO.
 */
static void test_keep(void)
{
    struct test_redis rs = {0, 0, 0, ""};
    struct pf__redis_addr a;
    struct pf__rfront_status st;
    struct pf__rfront_conf c;
    struct keeper k = {NULL, 0, 1};
    struct pf__redis *r;
    pf_sched *s;
    pf_co *co;
    char why[256];

    if (!server())
        return;
    if (test_redis_start(&rs) < 0) {
        test_redis_remove(&rs);
        CHECK(!"a redis-server starts");
    }
    CHECK_EQ(pf_sched_new(&s, 0), 0);
    memset(&a, 0, sizeof(a));
    a.host = "127.0.0.1";
    a.port = rs.port;
    CHECK_EQ(pf__redis_connect(&r, s, &a, 5000, why, sizeof(why)), 0);
    memset(&c, 0, sizeof(c));
    c.crawl_id = "keep";
    c.worker = "w1";
    c.lease_ms = 300;
    CHECK_EQ(pf__rfront_new(&k.f, r, &c), 0);
    CHECK_EQ(pf__rfront_heartbeat(k.f), 0);
    CHECK_EQ(pf_spawn(s, keep_co, &k, &co), 0);
    CHECK_EQ(pf_sleep(s, 1000), 0);
    CHECK_EQ(pf__rfront_status(k.f, &st), 0);
    CHECK_EQ(st.workers, 1);
    k.stop = 1;
    CHECK_EQ(pf_join(s, co), 0);
    CHECK_EQ(k.rc, 0);
    k.stop = 0;
    k.rc = 1;
    CHECK_EQ(pf_spawn(s, keep_co, &k, &co), 0);
    test_redis_stop(&rs);
    CHECK_EQ(pf_join(s, co), 0);
    CHECK_EQ(k.rc, PF_EIO);
    pf__rfront_free(k.f);
    pf__redis_free(r);
    pf_sched_free(s);
    test_redis_remove(&rs);
}

TEST_MAIN(TEST(test_accept), TEST(test_per_host_shared), TEST(test_gate),
          TEST(test_reap_and_fence), TEST(test_end), TEST(test_wait),
          TEST(test_refused_and_alias), TEST(test_restart_aof), TEST(test_keep))
