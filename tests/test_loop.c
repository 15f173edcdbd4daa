/*
 * test_loop.c -- the event loop: timers fire in deadline order and never
 * early, re-arming and stopping work, I/O watchers see readiness, and
 * another thread can wake a blocked poll and post work to it.
 */
#include <pthread.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop.h"
#include "test.h"

static int fired[8];
static int nfired;

static void on_timer(struct pf__loop *l, struct pf__timer *t)
{
    (void)l;
    fired[nfired++] = (int)(intptr_t)t->data;
}

static void test_timer_order(void)
{
    struct pf__loop l;
    struct pf__timer t[5];
    int64_t now, deadline;
    int i;

    CHECK_EQ(pf__loop_init(&l), 0);
    now = pf__now_ns();
    nfired = 0;
    /* Armed out of order; 3 is stopped, 4 is moved earlier than 0. */
    for (i = 0; i < 5; i++)
        pf__timer_init(&t[i], on_timer, (void *)(intptr_t)i);
    CHECK_EQ(pf__timer_start(&l, &t[0], now + 40000000), 0);
    CHECK_EQ(pf__timer_start(&l, &t[1], now + 10000000), 0);
    CHECK_EQ(pf__timer_start(&l, &t[2], now + 30000000), 0);
    CHECK_EQ(pf__timer_start(&l, &t[3], now + 20000000), 0);
    CHECK_EQ(pf__timer_start(&l, &t[4], now + 90000000), 0);
    CHECK_EQ(pf__timer_start(&l, &t[4], now + 35000000), 0);
    pf__timer_stop(&l, &t[3]);
    CHECK(!pf__timer_active(&t[3]));
    deadline = now + 2000000000;
    while (nfired < 4 && pf__now_ns() < deadline)
        CHECK_EQ(pf__loop_poll(&l, 1), 0);
    CHECK_EQ(nfired, 4);
    CHECK(fired[0] == 1 && fired[1] == 2 && fired[2] == 4 && fired[3] == 0);
    /* Never early: the last one fired at or after its deadline. */
    CHECK(pf__now_ns() >= now + 40000000);
    pf__loop_cleanup(&l);
}

static int io_events;

static void on_io(struct pf__loop *l, struct pf__io *w, uint32_t ev)
{
    char buf[16];

    (void)l;
    if (ev & EPOLLIN) {
        io_events++;
        if (read(w->fd, buf, sizeof(buf)) < 0)
            io_events = -100;
    }
}

static void test_io(void)
{
    struct pf__loop l;
    struct pf__io w;
    int p[2];

    CHECK_EQ(pf__loop_init(&l), 0);
    CHECK_EQ(pipe(p), 0);
    io_events = 0;
    pf__io_init(&w, p[0], on_io, NULL);
    CHECK_EQ(pf__io_set(&l, &w, EPOLLIN), 0);
    CHECK_EQ(pf__loop_poll(&l, 0), 0);
    CHECK_EQ(io_events, 0);
    CHECK_EQ(write(p[1], "x", 1), 1);
    CHECK_EQ(pf__loop_poll(&l, 1), 0);
    CHECK_EQ(io_events, 1);
    CHECK_EQ(pf__io_set(&l, &w, 0), 0);
    CHECK_EQ(write(p[1], "y", 1), 1);
    CHECK_EQ(pf__loop_poll(&l, 0), 0);
    CHECK_EQ(io_events, 1); /* stopped: not reported */
    close(p[0]);
    close(p[1]);
    pf__loop_cleanup(&l);
}

static struct pf__loop shared;
static int post_value;

static void on_post(void *arg)
{
    post_value = *(int *)arg;
}

static void *thread_main(void *arg)
{
    static int v = 7;

    (void)arg;
    usleep(30000);
    pf__loop_post(&shared, on_post, &v);
    return NULL;
}

static void test_wakeup_and_post(void)
{
    pthread_t t;
    int64_t t0;

    CHECK_EQ(pf__loop_init(&shared), 0);
    post_value = 0;
    CHECK_EQ(pthread_create(&t, NULL, thread_main, NULL), 0);
    t0 = pf__now_ms();
    /* No timers, no I/O: only the post can end this blocking poll. */
    while (post_value == 0 && pf__now_ms() - t0 < 5000)
        CHECK_EQ(pf__loop_poll(&shared, 1), 0);
    pthread_join(t, NULL);
    CHECK_EQ(post_value, 7);
    pf__loop_cleanup(&shared);
}

static void test_many_timers(void)
{
    struct pf__loop l;
    static struct pf__timer t[1000];
    int64_t now = pf__now_ns();
    int i;

    CHECK_EQ(pf__loop_init(&l), 0);
    nfired = 0;
    for (i = 0; i < 1000; i++) {
        pf__timer_init(&t[i], NULL, NULL);
        CHECK_EQ(pf__timer_start(&l, &t[i], now + (i * 7919 % 1000)), 0);
    }
    for (i = 0; i < 1000; i += 2)
        pf__timer_stop(&l, &t[i]);
    CHECK_EQ(l.nheap, 500u);
    /* The heap property holds after the removals. */
    for (i = 1; i < (int)l.nheap; i++)
        CHECK(l.heap[(i - 1) / 2]->deadline_ns <= l.heap[i]->deadline_ns);
    for (i = 1; i < 1000; i += 2)
        pf__timer_stop(&l, &t[i]);
    CHECK_EQ(l.nheap, 0u);
    pf__loop_cleanup(&l);
}

TEST_MAIN(TEST(test_timer_order), TEST(test_io), TEST(test_wakeup_and_post),
          TEST(test_many_timers))
