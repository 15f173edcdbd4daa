/*
 * test_sched.c -- coroutines: interleaving, spawn/join at scale, joining
 * finished coroutines, posts from other threads, the guard page, and
 * pf_fetch's error path (a refused connection).
 */
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include "coro.h"
#include "test.h"

static pf_sched *S;

/* Three coroutines sleeping 0.3 s five times each. */
static char trace[64];
static size_t ntrace;

static void sleeper(void *arg)
{
    int i;

    for (i = 0; i < 5; i++) {
        pf_sleep(S, 300);
        trace[ntrace++] = *(const char *)arg;
    }
}

static void test_interleave(void)
{
    pf_co *co[3];
    int64_t t0, ms;

    CHECK_EQ(pf_sched_new(&S, 0), 0);
    ntrace = 0;
    t0 = pf__now_ms();
    CHECK_EQ(pf_spawn(S, sleeper, "a", &co[0]), 0);
    CHECK_EQ(pf_spawn(S, sleeper, "b", &co[1]), 0);
    CHECK_EQ(pf_spawn(S, sleeper, "c", &co[2]), 0);
    CHECK_EQ(pf_joinall(S, co, 3), 0);
    ms = pf__now_ms() - t0;
    trace[ntrace] = '\0';
    /* Concurrent: about 1.5 s, far from the 4.5 s of running in turn. */
    CHECK(ms >= 1450);
    CHECK(ms < 3000);
    CHECK_STR(trace, "abcabcabcabcabc");
    pf_sched_free(S);
}

static int counter;

static void incr(void *arg)
{
    (void)arg;
    counter++;
    pf_sleep(S, 0);
    counter++;
}

static void test_spawn_10000(void)
{
    static pf_co *co[10000];
    size_t i;

    CHECK_EQ(pf_sched_new(&S, 32 * 1024), 0);
    counter = 0;
    for (i = 0; i < 10000; i++)
        CHECK_EQ(pf_spawn(S, incr, NULL, &co[i]), 0);
    CHECK_EQ(pf_joinall(S, co, 10000), 0);
    CHECK_EQ(counter, 20000);
    pf_sched_free(S);
}

static void nothing(void *arg)
{
    *(int *)arg = 1;
}

static void test_join_finished(void)
{
    pf_co *co;
    int ran = 0;

    CHECK_EQ(pf_sched_new(&S, 0), 0);
    CHECK_EQ(pf_spawn(S, nothing, &ran, &co), 0);
    CHECK_EQ(ran, 0); /* spawn does not run it */
    CHECK_EQ(pf_sched_run(S), 0);
    CHECK_EQ(ran, 1);
    CHECK_EQ(pf_join(S, co), 0); /* already finished: returns at once */
    pf_sched_free(S);
}

/* A coroutine joining another, and detached coroutines. */
static pf_co *inner;
static int order[4];
static int norder;

static void child(void *arg)
{
    (void)arg;
    pf_sleep(S, 10);
    order[norder++] = 2;
}

static void parent(void *arg)
{
    (void)arg;
    CHECK_EQ(pf_spawn(S, child, NULL, &inner), 0);
    order[norder++] = 1;
    CHECK_EQ(pf_join(S, inner), 0);
    order[norder++] = 3;
}

static void test_join_from_coroutine(void)
{
    int detached_ran = 0;

    CHECK_EQ(pf_sched_new(&S, 0), 0);
    norder = 0;
    CHECK_EQ(pf_spawn(S, parent, NULL, NULL), 0);
    CHECK_EQ(pf_spawn(S, nothing, &detached_ran, NULL), 0);
    CHECK_EQ(pf_sched_run(S), 0);
    CHECK_EQ(norder, 3);
    CHECK(order[0] == 1 && order[1] == 2 && order[2] == 3);
    CHECK_EQ(detached_ran, 1);
    pf_sched_free(S);
}

/* Posting from another thread wakes the loop. */
static int posted;

static void on_post(void *arg)
{
    posted = *(int *)arg;
}

static void *poster(void *arg)
{
    static int value = 42;

    (void)arg;
    usleep(50 * 1000);
    pf_sched_post(S, on_post, &value);
    return NULL;
}

static void waiter(void *arg)
{
    int64_t deadline = pf__now_ms() + 5000;

    (void)arg;
    while (posted == 0 && pf__now_ms() < deadline)
        pf_sleep(S, 5);
}

static void test_post_from_thread(void)
{
    pthread_t t;

    CHECK_EQ(pf_sched_new(&S, 0), 0);
    posted = 0;
    CHECK_EQ(pf_spawn(S, waiter, NULL, NULL), 0);
    CHECK_EQ(pthread_create(&t, NULL, poster, NULL), 0);
    CHECK_EQ(pf_sched_run(S), 0);
    pthread_join(t, NULL);
    CHECK_EQ(posted, 42);
    pf_sched_free(S);
}

/* Stopping from another thread makes run return PF_ECANCELED. */
static void *stopper(void *arg)
{
    (void)arg;
    usleep(50 * 1000);
    pf_sched_stop(S);
    return NULL;
}

static void forever(void *arg)
{
    (void)arg;
    pf_sleep(S, 60000);
}

static void test_stop(void)
{
    pthread_t t;

    CHECK_EQ(pf_sched_new(&S, 0), 0);
    CHECK_EQ(pf_spawn(S, forever, NULL, NULL), 0);
    CHECK_EQ(pthread_create(&t, NULL, stopper, NULL), 0);
    CHECK_EQ(pf_sched_run(S), PF_ECANCELED);
    pthread_join(t, NULL);
    pf_sched_free(S); /* frees the abandoned sleeper */
}

/* Overflowing a coroutine stack faults on the guard page. */
static volatile char *sink_ptr;

static int recurse(int n)
{
    volatile char buf[1024];

    buf[0] = (char)n;
    sink_ptr = buf;
    return n > 0 ? recurse(n + 1) + buf[0] : 0;
}

static void overflow(void *arg)
{
    (void)arg;
    recurse(1);
}

static void test_guard_page(void)
{
    pid_t pid;
    int status;

    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        pf_sched *s;

        /* Silence the sanitizer's report: the fault is what we expect. */
        if (freopen("/dev/null", "w", stderr) == NULL)
            _exit(3);
        if (pf_sched_new(&s, 64 * 1024) != 0)
            _exit(2);
        S = s;
        pf_spawn(s, overflow, NULL, NULL);
        pf_sched_run(s);
        _exit(0); /* not reached: the overflow must fault */
    }
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    /* Plain builds die of SIGSEGV; sanitizer builds report and exit. */
    CHECK(WIFSIGNALED(status) ||
          (WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
           WEXITSTATUS(status) != 2 && WEXITSTATUS(status) != 3));
    if (WIFSIGNALED(status))
        CHECK(WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS);
}

/* pf_fetch from coroutines: a refused connection is a transfer result. */
static CURLcode fetch_rc[4];

static void fetcher(void *arg)
{
    int i = (int)(intptr_t)arg;
    CURL *e = curl_easy_init();
    char url[64];

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/", counter);
    curl_easy_setopt(e, CURLOPT_URL, url);
    fetch_rc[i] = CURLE_OK;
    if (pf_fetch(S, e, &fetch_rc[i]) != 0)
        fetch_rc[i] = CURLE_FAILED_INIT;
    curl_easy_cleanup(e);
}

static void test_fetch_refused(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int i;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    counter = ntohs(a.sin_port);
    close(fd); /* nothing listens there now */
    CHECK_EQ(pf_sched_new(&S, 0), 0);
    for (i = 0; i < 4; i++)
        CHECK_EQ(pf_spawn(S, fetcher, (void *)(intptr_t)i, NULL), 0);
    CHECK_EQ(pf_sched_run(S), 0);
    for (i = 0; i < 4; i++)
        CHECK_EQ(fetch_rc[i], CURLE_COULDNT_CONNECT);
    pf_sched_free(S);
}

static void test_invalid(void)
{
    CHECK_EQ(pf_sched_new(NULL, 0), PF_EINVAL);
    CHECK_EQ(pf_sched_new(&S, 0), 0);
    CHECK_EQ(pf_spawn(S, NULL, NULL, NULL), PF_EINVAL);
    CHECK_EQ(pf_sleep(S, -1), PF_EINVAL);
    pf_sched_free(S);
    pf_sched_free(NULL);
}

static void setup(void) __attribute__((constructor));
static void setup(void)
{
    pf_global_init();
}

TEST_MAIN(TEST(test_interleave), TEST(test_spawn_10000),
          TEST(test_join_finished), TEST(test_join_from_coroutine),
          TEST(test_post_from_thread), TEST(test_stop), TEST(test_guard_page),
          TEST(test_fetch_refused), TEST(test_invalid))
