/*
 * test_redis.c -- redis.c against a real redis-server started here: the
 * URL form, calls from the loop's own stack and from many coroutines at
 * once, binary values, scripts reloaded after NOSCRIPT, a host name
 * resolved off the loop, a refused connect, a server that never answers
 * (timeout), a connection the server closes and a reconnect, and a wait
 * cancelled while its reply is still to come.
 */
#include <errno.h>
#include <sys/socket.h>

#include "coro.h"
#include "redis.h"
#include "redis_server.h"
#include "test.h"

static struct test_redis srv;
static int srv_state; /* 0 not tried, 1 up, -1 absent or failed */

static void srv_cleanup(void)
{
    test_redis_remove(&srv);
}

/* 1 when the server runs; 0 (said once) when the test is skipped. */
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

static void addr_of(struct pf__redis_addr *a, const char *host, int port)
{
    memset(a, 0, sizeof(*a));
    a->host = (char *)host;
    a->port = port;
}

static void test_parse_url(void)
{
    struct pf__redis_addr a;
    char why[128];

    CHECK_EQ(pf__redis_parse_url("redis://h.example", &a, why, sizeof(why)), 0);
    CHECK_STR(a.host, "h.example");
    CHECK_EQ(a.port, 6379);
    CHECK(a.password == NULL && a.user == NULL && a.db == 0);
    pf__redis_addr_free(&a);
    CHECK_EQ(pf__redis_parse_url("redis://:p%40ss@127.0.0.1:7000/3", &a, why,
                                 sizeof(why)),
             0);
    CHECK_STR(a.host, "127.0.0.1");
    CHECK_STR(a.password, "p@ss");
    CHECK(a.user == NULL);
    CHECK_EQ(a.port, 7000);
    CHECK_EQ(a.db, 3);
    pf__redis_addr_free(&a);
    CHECK_EQ(
        pf__redis_parse_url("redis://u:pw@[::1]:7001/", &a, why, sizeof(why)),
        0);
    CHECK_STR(a.host, "::1");
    CHECK_STR(a.user, "u");
    CHECK_STR(a.password, "pw");
    CHECK_EQ(a.db, 0);
    pf__redis_addr_free(&a);
    CHECK_EQ(pf__redis_parse_url("http://h/", &a, why, sizeof(why)), PF_EINVAL);
    CHECK_EQ(pf__redis_parse_url("redis://h/x", &a, why, sizeof(why)),
             PF_EINVAL);
    CHECK(strstr(why, "database") != NULL);
    CHECK_EQ(pf__redis_parse_url("redis://h:99999", &a, why, sizeof(why)),
             PF_EINVAL);
    CHECK_EQ(pf__redis_parse_url("redis://h/1?x=1", &a, why, sizeof(why)),
             PF_EINVAL);
}

/* Calls from the loop's own stack, a binary value, an error reply. */
static void test_main_stack(void)
{
    static const char val[] = "a\0b\r\nc";
    const char *argv[3] = {"SET", "bin", val};
    size_t lens[3] = {3, 3, sizeof(val)};
    struct pf__redis_addr a;
    struct pf__redis *r;
    redisReply *rp;
    pf_sched *s;
    char why[256];

    if (!server())
        return;
    CHECK_EQ(pf_sched_new(&s, 0), 0);
    addr_of(&a, "127.0.0.1", srv.port);
    CHECK_EQ(pf__redis_connect(&r, s, &a, 5000, why, sizeof(why)), 0);
    CHECK(pf__redis_connected(r));
    CHECK_EQ(pf__redis_call(r, &rp, 3, argv, lens), 0);
    CHECK_EQ(rp->type, REDIS_REPLY_STATUS);
    freeReplyObject(rp);
    CHECK_EQ(pf__redis_callf(r, &rp, "GET %s", "bin"), 0);
    CHECK_EQ(rp->type, REDIS_REPLY_STRING);
    CHECK_EQ(rp->len, sizeof(val));
    CHECK(memcmp(rp->str, val, sizeof(val)) == 0);
    freeReplyObject(rp);
    CHECK_EQ(pf__redis_callf(r, &rp, "NOSUCHCOMMAND"), 0);
    CHECK_EQ(rp->type, REDIS_REPLY_ERROR);
    freeReplyObject(rp);
    pf__redis_free(r);
    pf_sched_free(s);
}

struct many {
    struct pf__redis *r;
    int fails;
};

static void incr_co(void *arg)
{
    struct many *m = arg;
    redisReply *rp;
    int i;

    for (i = 0; i < 20; i++) {
        if (pf__redis_callf(m->r, &rp, "INCR %s", "counter") < 0) {
            m->fails++;
            return;
        }
        if (rp->type != REDIS_REPLY_INTEGER)
            m->fails++;
        freeReplyObject(rp);
    }
}

/* Many coroutines share one connection: every reply finds its caller. */
static void test_coroutines(void)
{
    struct pf__redis_addr a;
    struct many m = {0};
    pf_co *cos[50];
    redisReply *rp;
    pf_sched *s;
    char why[256];
    size_t i;

    if (!server())
        return;
    CHECK_EQ(pf_sched_new(&s, 0), 0);
    addr_of(&a, "localhost", srv.port); /* resolved off the loop */
    CHECK_EQ(pf__redis_connect(&m.r, s, &a, 5000, why, sizeof(why)), 0);
    CHECK_EQ(pf__redis_callf(m.r, &rp, "DEL counter"), 0);
    freeReplyObject(rp);
    for (i = 0; i < 50; i++)
        CHECK_EQ(pf_spawn(s, incr_co, &m, &cos[i]), 0);
    CHECK_EQ(pf_joinall(s, cos, 50), 0);
    CHECK_EQ(m.fails, 0);
    CHECK_EQ(pf__redis_callf(m.r, &rp, "GET counter"), 0);
    CHECK_STR(rp->str, "1000");
    freeReplyObject(rp);
    pf__redis_free(m.r);
    pf_sched_free(s);
}

/* EVALSHA; after SCRIPT FLUSH the NOSCRIPT answer reloads it. */
static void test_script(void)
{
    static struct pf__redis_script sc = {
        "return redis.call('INCRBY', KEYS[1], ARGV[1])", ""};
    const char *argv[2] = {"sc", "5"};
    struct pf__redis_addr a;
    struct pf__redis *r;
    redisReply *rp;
    pf_sched *s;
    char why[256];

    if (!server())
        return;
    CHECK_EQ(pf_sched_new(&s, 0), 0);
    addr_of(&a, "127.0.0.1", srv.port);
    CHECK_EQ(pf__redis_connect(&r, s, &a, 5000, why, sizeof(why)), 0);
    CHECK_EQ(pf__redis_callf(r, &rp, "DEL sc"), 0);
    freeReplyObject(rp);
    CHECK_EQ(pf__redis_eval(r, &sc, &rp, 1, 2, argv, NULL), 0);
    CHECK_EQ(rp->type, REDIS_REPLY_INTEGER);
    CHECK_EQ(rp->integer, 5);
    freeReplyObject(rp);
    CHECK_EQ(strlen(sc.sha), 40u);
    CHECK_EQ(pf__redis_callf(r, &rp, "SCRIPT FLUSH"), 0);
    freeReplyObject(rp);
    CHECK_EQ(pf__redis_eval(r, &sc, &rp, 1, 2, argv, NULL), 0);
    CHECK_EQ(rp->integer, 10);
    freeReplyObject(rp);
    CHECK_EQ(pf__redis_eval(r, &sc, &rp, 1, 2, argv, NULL), 0);
    CHECK_EQ(rp->integer, 15);
    freeReplyObject(rp);
    pf__redis_free(r);
    pf_sched_free(s);
}

/* Nobody listens: PF_EIO at once, with the reason. */
static void test_refused(void)
{
    struct pf__redis_addr a;
    struct pf__redis *r = (struct pf__redis *)&a;
    pf_sched *s;
    char why[256];

    CHECK_EQ(pf_sched_new(&s, 0), 0);
    addr_of(&a, "127.0.0.1", test_free_port());
    CHECK_EQ(pf__redis_connect(&r, s, &a, 5000, why, sizeof(why)), PF_EIO);
    CHECK(r == NULL);
    CHECK(strstr(why, "127.0.0.1:") != NULL);
    CHECK(strstr(why, "refused") != NULL);
    addr_of(&a, "no-such-host.invalid", 6379);
    CHECK(pf__redis_connect(&r, s, &a, 5000, why, sizeof(why)) < 0);
    CHECK(strstr(why, "resolve") != NULL);
    pf_sched_free(s);
}

/* A listener that accepts and never answers: the call times out. */
static void test_timeout(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    struct pf__redis_addr a;
    struct pf__redis *r;
    pf_sched *s;
    char why[256];
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    CHECK(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
    CHECK(listen(fd, 4) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    CHECK_EQ(pf_sched_new(&s, 0), 0);
    addr_of(&a, "127.0.0.1", ntohs(sa.sin_port));
    CHECK_EQ(pf__redis_connect(&r, s, &a, 200, why, sizeof(why)), PF_ETIMEDOUT);
    CHECK(strstr(why, "within 200 ms") != NULL);
    pf_sched_free(s);
    close(fd);
}

/* The server closes the connection: calls fail, a reconnect works. */
static void test_closed_and_reconnect(void)
{
    struct pf__redis_addr a;
    struct pf__redis *r;
    redisReply *rp;
    pf_sched *s;
    char why[256];

    if (!server())
        return;
    CHECK_EQ(pf_sched_new(&s, 0), 0);
    addr_of(&a, "127.0.0.1", srv.port);
    CHECK_EQ(pf__redis_connect(&r, s, &a, 5000, why, sizeof(why)), 0);
    CHECK_EQ(pf__redis_callf(r, &rp, "CLIENT KILL TYPE normal SKIPME no"), 0);
    freeReplyObject(rp);
    CHECK_EQ(pf__redis_callf(r, &rp, "PING"), PF_EIO);
    CHECK(!pf__redis_connected(r));
    CHECK(pf__redis_error(r)[0] != '\0');
    CHECK_EQ(pf__redis_callf(r, &rp, "PING"), PF_EIO);
    CHECK_EQ(pf__redis_reconnect(r), 0);
    CHECK_EQ(pf__redis_callf(r, &rp, "PING"), 0);
    CHECK_STR(rp->str, "PONG");
    freeReplyObject(rp);
    pf__redis_free(r);
    pf_sched_free(s);
}

struct blocked {
    struct pf__redis *r;
    int rc;
    int started;
};

static void blpop_co(void *arg)
{
    struct blocked *b = arg;
    redisReply *rp = NULL;

    b->started = 1;
    b->rc = pf__redis_callf(b->r, &rp, "BLPOP %s 0", "nothing-comes");
    if (rp != NULL)
        freeReplyObject(rp);
}

/*
 * A wait cancelled while its command is still at the server: the record
 * stays with hiredis and goes when the connection does (ASan: no leak,
 * no use after free).
 */
static void test_cancel_in_flight(void)
{
    struct blocked b = {0};
    struct pf__redis_addr a;
    pf_co *co;
    pf_sched *s;
    char why[256];

    if (!server())
        return;
    CHECK_EQ(pf_sched_new(&s, 0), 0);
    addr_of(&a, "127.0.0.1", srv.port);
    CHECK_EQ(pf__redis_connect(&b.r, s, &a, 60000, why, sizeof(why)), 0);
    CHECK_EQ(pf_spawn(s, blpop_co, &b, &co), 0);
    while (!b.started)
        CHECK_EQ(pf__sched_step(s, 0), 0);
    CHECK_EQ(pf__sched_step(s, 0), 0);
    pf__sched_cancel_all(s);
    CHECK_EQ(pf_join(s, co), 0);
    CHECK_EQ(b.rc, PF_ECANCELED);
    pf__redis_free(b.r);
    pf_sched_free(s);
}

TEST_MAIN(TEST(test_parse_url), TEST(test_main_stack), TEST(test_coroutines),
          TEST(test_script), TEST(test_refused), TEST(test_timeout),
          TEST(test_closed_and_reconnect), TEST(test_cancel_in_flight))
