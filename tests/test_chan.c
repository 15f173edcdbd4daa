/*
 * test_chan.c -- pf_chan: a producer faster than its consumers is held at
 * capacity, items keep their order, waiters are served first come first
 * served, close wakes everyone and lets getters drain, cancellation and
 * pf_sched_stop() leave no waiter behind, and both ends work from outside
 * a coroutine.
 */
#include <pthread.h>

#include "coro.h"
#include "test.h"

static pf_sched *S;
static pf_chan *C;

#define N_ITEMS 20

/* What the coroutines saw, in the order they saw it. */
static int got[64];
static size_t ngot;
static size_t max_len;
static int producer_waits;
static int rcs[8];

static void *item_of(int i)
{
    return (void *)(intptr_t)i;
}

static int int_of(void *p)
{
    return (int)(intptr_t)p;
}

static void fast_producer(void *arg)
{
    int i;

    (void)arg;
    for (i = 0; i < N_ITEMS; i++) {
        if (pf_chan_len(C) == 2)
            producer_waits++;
        rcs[0] = pf_chan_put(C, item_of(i));
        if (rcs[0] != 0)
            return;
        if (pf_chan_len(C) > max_len)
            max_len = pf_chan_len(C);
    }
    pf_chan_close(C);
}

/* Takes one item per scheduling round: slower than the producer. */
static void slow_consumer(void *arg)
{
    void *item;

    (void)arg;
    while (pf_chan_get(C, &item) == 0) {
        got[ngot++] = int_of(item);
        pf_sleep(S, 0);
    }
}

static void test_capacity_and_order(void)
{
    pf_co *co[2];
    int i;

    CHECK_EQ(pf_sched_new(&S, 64 * 1024), 0);
    CHECK_EQ(pf_chan_new(&C, S, 2), 0);
    ngot = 0;
    max_len = 0;
    producer_waits = 0;
    CHECK_EQ(pf_spawn(S, fast_producer, NULL, &co[0]), 0);
    CHECK_EQ(pf_spawn(S, slow_consumer, NULL, &co[1]), 0);
    CHECK_EQ(pf_joinall(S, co, 2), 0);
    CHECK_EQ(rcs[0], 0);
    CHECK_EQ(ngot, (size_t)N_ITEMS);
    for (i = 0; i < N_ITEMS; i++)
        CHECK_EQ(got[i], i);
    CHECK_EQ(max_len, (size_t)2);
    /* Held back at capacity most of the time, not just once. */
    CHECK(producer_waits >= N_ITEMS / 2);
    CHECK_EQ(pf_chan_len(C), (size_t)0);
    pf_chan_free(C);
    pf_sched_free(S);
}

/* Getters that wait are served in the order they came. */
static void getter(void *arg)
{
    void *item;
    int id = int_of(arg);

    rcs[id] = pf_chan_get(C, &item);
    if (rcs[id] == 0)
        got[ngot++] = id * 100 + int_of(item);
}

static void putter(void *arg)
{
    int id = int_of(arg);

    rcs[id] = pf_chan_put(C, item_of(id));
}

static void test_fifo_getters(void)
{
    pf_co *co[3];
    int i;

    CHECK_EQ(pf_sched_new(&S, 64 * 1024), 0);
    CHECK_EQ(pf_chan_new(&C, S, 4), 0);
    ngot = 0;
    for (i = 0; i < 3; i++)
        CHECK_EQ(pf_spawn(S, getter, item_of(i + 1), &co[i]), 0);
    CHECK_EQ(pf_sleep(S, 0), 0); /* all three now wait, 1 first */
    CHECK_EQ(ngot, (size_t)0);
    /* From the main stack: never waits, the ring has room. */
    for (i = 0; i < 3; i++)
        CHECK_EQ(pf_chan_put(C, item_of(7 + i)), 0);
    /* Handed over directly: nothing went through the ring. */
    CHECK_EQ(pf_chan_len(C), (size_t)0);
    CHECK_EQ(pf_joinall(S, co, 3), 0);
    CHECK_EQ(ngot, (size_t)3);
    CHECK_EQ(got[0], 107);
    CHECK_EQ(got[1], 208);
    CHECK_EQ(got[2], 309);
    pf_chan_free(C);
    pf_sched_free(S);
}

static void test_fifo_putters(void)
{
    pf_co *co[3];
    void *item;
    int i;

    CHECK_EQ(pf_sched_new(&S, 64 * 1024), 0);
    CHECK_EQ(pf_chan_new(&C, S, 1), 0);
    CHECK_EQ(pf_chan_put(C, item_of(0)), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(pf_spawn(S, putter, item_of(i + 1), &co[i]), 0);
    CHECK_EQ(pf_sleep(S, 0), 0); /* all three wait on the full ring */
    CHECK_EQ(pf_chan_len(C), (size_t)1);
    for (i = 0; i < 4; i++) {
        CHECK_EQ(pf_chan_get(C, &item), 0);
        CHECK_EQ(int_of(item), i);
        /* The first putter's item moved in at once: still full. */
        CHECK_EQ(pf_chan_len(C), (size_t)(i < 3 ? 1 : 0));
    }
    CHECK_EQ(pf_joinall(S, co, 3), 0);
    for (i = 1; i <= 3; i++)
        CHECK_EQ(rcs[i], 0);
    pf_chan_free(C);
    pf_sched_free(S);
}

/* Close: waiting getters and putters all wake with PF_ESTATE. */
static void test_close_wakes_everyone(void)
{
    pf_co *co[6];
    void *item;
    int i;

    CHECK_EQ(pf_sched_new(&S, 64 * 1024), 0);
    CHECK_EQ(pf_chan_new(&C, S, 1), 0);
    ngot = 0;
    for (i = 0; i < 3; i++)
        CHECK_EQ(pf_spawn(S, getter, item_of(i + 1), &co[i]), 0);
    CHECK_EQ(pf_sleep(S, 0), 0);
    pf_chan_close(C);
    pf_chan_close(C); /* harmless */
    CHECK_EQ(pf_joinall(S, co, 3), 0);
    for (i = 1; i <= 3; i++)
        CHECK_EQ(rcs[i], PF_ESTATE);
    CHECK_EQ(ngot, (size_t)0);
    pf_chan_free(C);

    /* Putters blocked on a full channel get PF_ESTATE; the item stays. */
    CHECK_EQ(pf_chan_new(&C, S, 1), 0);
    CHECK_EQ(pf_chan_put(C, item_of(42)), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(pf_spawn(S, putter, item_of(i + 1), &co[i]), 0);
    CHECK_EQ(pf_sleep(S, 0), 0);
    pf_chan_close(C);
    CHECK_EQ(pf_joinall(S, co, 3), 0);
    for (i = 1; i <= 3; i++)
        CHECK_EQ(rcs[i], PF_ESTATE);
    CHECK_EQ(pf_chan_put(C, item_of(1)), PF_ESTATE);
    CHECK_EQ(pf_chan_len(C), (size_t)1);
    CHECK_EQ(pf_chan_get(C, &item), 0);
    CHECK_EQ(int_of(item), 42);
    CHECK_EQ(pf_chan_get(C, &item), PF_ESTATE);
    CHECK_EQ(pf_chan_get(C, &item), PF_ESTATE);
    pf_chan_free(C);
    pf_sched_free(S);
}

/* After close, getters drain what is left, then see PF_ESTATE. */
static void test_drain_after_close(void)
{
    pf_co *co[2];
    int i;

    CHECK_EQ(pf_sched_new(&S, 64 * 1024), 0);
    CHECK_EQ(pf_chan_new(&C, S, 8), 0);
    for (i = 0; i < 5; i++)
        CHECK_EQ(pf_chan_put(C, item_of(i)), 0);
    pf_chan_close(C);
    ngot = 0;
    CHECK_EQ(pf_spawn(S, slow_consumer, NULL, &co[0]), 0);
    CHECK_EQ(pf_spawn(S, slow_consumer, NULL, &co[1]), 0);
    CHECK_EQ(pf_joinall(S, co, 2), 0);
    CHECK_EQ(ngot, (size_t)5);
    for (i = 0; i < 5; i++)
        CHECK_EQ(got[i], i);
    pf_chan_free(C);
    pf_sched_free(S);
}

/* pf__sched_cancel_all: every waiter gets PF_ECANCELED and leaves. */
static pf_chan *C2;

static void full_putter(void *arg)
{
    rcs[int_of(arg)] = pf_chan_put(C2, item_of(99));
}

static void test_cancel(void)
{
    pf_co *co[4];
    void *item;
    int i;

    CHECK_EQ(pf_sched_new(&S, 64 * 1024), 0);
    CHECK_EQ(pf_chan_new(&C, S, 1), 0);  /* empty: getters wait */
    CHECK_EQ(pf_chan_new(&C2, S, 1), 0); /* full: putters wait */
    CHECK_EQ(pf_chan_put(C2, item_of(5)), 0);
    CHECK_EQ(pf_spawn(S, getter, item_of(1), &co[0]), 0);
    CHECK_EQ(pf_spawn(S, getter, item_of(2), &co[1]), 0);
    CHECK_EQ(pf_spawn(S, full_putter, item_of(3), &co[2]), 0);
    CHECK_EQ(pf_spawn(S, full_putter, item_of(4), &co[3]), 0);
    CHECK_EQ(pf_sleep(S, 0), 0);
    pf__sched_cancel_all(S);
    CHECK_EQ(pf_joinall(S, co, 4), 0);
    for (i = 1; i <= 4; i++)
        CHECK_EQ(rcs[i], PF_ECANCELED);
    /* No dangling getter: a put lands in the ring, nobody takes it. */
    CHECK_EQ(pf_chan_put(C, item_of(6)), 0);
    CHECK_EQ(pf_chan_len(C), (size_t)1);
    /* No dangling putter: a get frees the slot and nothing moves in. */
    CHECK_EQ(pf_chan_get(C2, &item), 0);
    CHECK_EQ(int_of(item), 5);
    CHECK_EQ(pf_chan_len(C2), (size_t)0);
    /* Once canceling, a call that would wait fails at once. */
    CHECK_EQ(pf_chan_get(C2, &item), PF_ECANCELED);
    CHECK_EQ(pf_chan_put(C, item_of(7)), PF_ECANCELED);
    /* One that can proceed still does. */
    CHECK_EQ(pf_chan_get(C, &item), 0);
    CHECK_EQ(int_of(item), 6);
    pf_chan_free(C);
    pf_chan_free(C2);
    pf_sched_free(S);
}

/* pf_sched_stop() from another thread ends a main-stack wait. */
static void *stopper(void *arg)
{
    (void)arg;
    pf_sched_stop(S);
    return NULL;
}

static void test_stop_main_stack(void)
{
    pthread_t t;
    void *item = item_of(1);

    CHECK_EQ(pf_sched_new(&S, 64 * 1024), 0);
    CHECK_EQ(pf_chan_new(&C, S, 1), 0);
    CHECK_EQ(pthread_create(&t, NULL, stopper, NULL), 0);
    CHECK_EQ(pf_chan_get(C, &item), PF_ECANCELED);
    pthread_join(t, NULL);
    CHECK(item == item_of(1)); /* left alone */
    /* The waiter left: the next put goes to the ring. */
    CHECK_EQ(pf_chan_put(C, item_of(2)), 0);
    CHECK_EQ(pf_chan_len(C), (size_t)1);
    CHECK_EQ(pthread_create(&t, NULL, stopper, NULL), 0);
    CHECK_EQ(pf_chan_put(C, item_of(3)), PF_ECANCELED);
    pthread_join(t, NULL);
    CHECK_EQ(pf_chan_get(C, &item), 0);
    CHECK_EQ(int_of(item), 2);
    CHECK_EQ(pf_chan_len(C), (size_t)0);
    pf_chan_free(C);
    pf_sched_free(S);
}

/* Outside coroutines: the main stack produces and consumes. */
static void counting_consumer(void *arg)
{
    void *item;

    (void)arg;
    while (pf_chan_get(C, &item) == 0)
        got[ngot++] = int_of(item);
}

static void slow_producer(void *arg)
{
    int i;

    (void)arg;
    for (i = 0; i < 5; i++) {
        pf_sleep(S, 0);
        if (pf_chan_put(C, item_of(i)) != 0)
            return;
    }
    pf_chan_close(C);
}

static void test_main_stack(void)
{
    pf_co *co;
    void *item;
    int i;

    CHECK_EQ(pf_sched_new(&S, 64 * 1024), 0);
    CHECK_EQ(pf_chan_new(&C, S, 1), 0);
    ngot = 0;
    CHECK_EQ(pf_spawn(S, counting_consumer, NULL, &co), 0);
    /* Capacity 1: every put after the first waits for the consumer. */
    for (i = 0; i < 10; i++)
        CHECK_EQ(pf_chan_put(C, item_of(i)), 0);
    pf_chan_close(C);
    CHECK_EQ(pf_join(S, co), 0);
    CHECK_EQ(ngot, (size_t)10);
    for (i = 0; i < 10; i++)
        CHECK_EQ(got[i], i);
    pf_chan_free(C);

    /* The main stack as the consumer, woken by a coroutine's puts. */
    CHECK_EQ(pf_chan_new(&C, S, 1), 0);
    CHECK_EQ(pf_spawn(S, slow_producer, NULL, &co), 0);
    for (i = 0; i < 5; i++) {
        CHECK_EQ(pf_chan_get(C, &item), 0);
        CHECK_EQ(int_of(item), i);
    }
    CHECK_EQ(pf_chan_get(C, &item), PF_ESTATE);
    CHECK_EQ(pf_join(S, co), 0);
    pf_chan_free(C);
    pf_sched_free(S);
}

static void test_invalid_and_oom(void)
{
    void *item;

    CHECK_EQ(pf_sched_new(&S, 64 * 1024), 0);
    C = NULL;
    CHECK_EQ(pf_chan_new(&C, S, 0), PF_EINVAL);
    CHECK_EQ(pf_chan_new(NULL, S, 1), PF_EINVAL);
    CHECK_EQ(pf_chan_new(&C, NULL, 1), PF_EINVAL);
    CHECK(C == NULL);
    CHECK_EQ(pf_chan_put(NULL, NULL), PF_EINVAL);
    CHECK_EQ(pf_chan_get(NULL, &item), PF_EINVAL);
    CHECK_EQ(pf_chan_len(NULL), (size_t)0);
    pf_chan_close(NULL);
    pf_chan_free(NULL);
    pf__malloc_fail_at(1);
    CHECK_EQ(pf_chan_new(&C, S, 4), PF_ENOMEM);
    pf__malloc_fail_at(2);
    CHECK_EQ(pf_chan_new(&C, S, 4), PF_ENOMEM);
    pf__malloc_fail_at(0);
    CHECK(C == NULL);
    CHECK_EQ(pf_chan_new(&C, S, 4), 0);
    CHECK_EQ(pf_chan_get(C, NULL), PF_EINVAL);
    /* NULL is an item like any other. */
    CHECK_EQ(pf_chan_put(C, NULL), 0);
    item = item_of(1);
    CHECK_EQ(pf_chan_get(C, &item), 0);
    CHECK(item == NULL);
    pf_chan_free(C);
    pf_sched_free(S);
}

static void setup(void) __attribute__((constructor));
static void setup(void)
{
    pf_global_init();
}

TEST_MAIN(TEST(test_capacity_and_order), TEST(test_fifo_getters),
          TEST(test_fifo_putters), TEST(test_close_wakes_everyone),
          TEST(test_drain_after_close), TEST(test_cancel),
          TEST(test_stop_main_stack), TEST(test_main_stack),
          TEST(test_invalid_and_oom))
