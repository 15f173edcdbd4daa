/*
 * test_pool.c -- the executor and its futures: results, callbacks (order,
 * thread, late registration), timeouts, cancellation and its races,
 * shutdown both ways, a full queue, 100,000 tasks, chains of work
 * submitted from callbacks, map, wait/as_completed order, and pf_await
 * from coroutines, including awaits cut short by the scheduler.
 *
 * Nothing sleeps to pass: tasks block on gates the test opens, and where
 * a test must know that another thread is blocked it polls the
 * executor's counters (pool.h) until a deadline.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "coro.h"
#include "pool.h"
#include "test.h"

/* A gate: tasks wait on it until the test opens it. */
struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    g->open = 0;
}

static void gate_open(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

static void gate_wait(struct gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
}

/* Poll cond() for up to 10 s: waiting for an event, not sleeping. */
#define EVENTUALLY(cond)                                                       \
    do {                                                                       \
        int64_t until_ = pf__now_ms() + 10000;                                 \
        while (!(cond) && pf__now_ms() < until_)                               \
            sched_yield();                                                     \
        CHECK(cond);                                                           \
    } while (0)

static struct pf__executor_counts counts(pf_executor *ex)
{
    struct pf__executor_counts c;

    pf__executor_counts(ex, &c);
    return c;
}

/* Tasks. */

static int task_double(void *arg, void **result)
{
    *result = (void *)((intptr_t)arg * 2);
    return 0;
}

static int task_fail(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return PF_EIO;
}

/* Waits on the gate given as arg, then returns 7 as its result. */
static int task_gated(void *arg, void **result)
{
    gate_wait(arg);
    *result = (void *)(intptr_t)7;
    return 0;
}

static atomic_int ran_count;

static int task_count(void *arg, void **result)
{
    (void)arg;
    (void)result;
    atomic_fetch_add(&ran_count, 1);
    return 0;
}

static void test_submit_result(void)
{
    pf_executor *ex;
    pf_future *f, *g;
    void *res = NULL;

    CHECK_EQ(pf_executor_new(&ex, 2, 0), 0);
    CHECK_EQ(pf_submit(ex, task_double, (void *)21, 0, &f), 0);
    CHECK_EQ(pf_future_result(f, -1, &res), 0);
    CHECK_EQ((intptr_t)res, 42);
    CHECK_EQ(pf_future_state(f), PF_FUTURE_DONE);
    CHECK_EQ(pf_future_done(f), 1);
    /* The task's own error comes back as the result. */
    CHECK_EQ(pf_submit(ex, task_fail, NULL, 0, &g), 0);
    CHECK_EQ(pf_future_result(g, -1, NULL), PF_EIO);
    /* Fire and forget. */
    CHECK_EQ(pf_submit(ex, task_double, NULL, 0, NULL), 0);
    pf_future_release(f);
    pf_future_release(g);
    pf_executor_free(ex);
}

/* Callbacks run in order, on the worker, or at once when late. */
static pthread_t cb_thread[4];
static int cb_order[4];
static atomic_int ncb;
static struct gate cb_done;

static void cb_record(pf_future *f, void *userdata)
{
    int i = atomic_fetch_add(&ncb, 1);

    CHECK(pf_future_done(f));
    cb_order[i] = (int)(intptr_t)userdata;
    cb_thread[i] = pthread_self();
    if (i == 2)
        gate_open(&cb_done);
}

static void test_callback_order(void)
{
    pf_executor *ex;
    pf_future *f;
    struct gate g;

    gate_init(&g);
    gate_init(&cb_done);
    atomic_store(&ncb, 0);
    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    CHECK_EQ(pf_submit(ex, task_gated, &g, 0, &f), 0);
    CHECK_EQ(pf_future_add_done_callback(f, cb_record, (void *)1), 0);
    CHECK_EQ(pf_future_add_done_callback(f, cb_record, (void *)2), 0);
    CHECK_EQ(pf_future_add_done_callback(f, cb_record, (void *)3), 0);
    CHECK_EQ(atomic_load(&ncb), 0);
    gate_open(&g);
    gate_wait(&cb_done);
    CHECK_EQ(atomic_load(&ncb), 3);
    CHECK(cb_order[0] == 1 && cb_order[1] == 2 && cb_order[2] == 3);
    /* On the completing worker, not here. */
    CHECK(!pthread_equal(cb_thread[0], pthread_self()));
    CHECK(pthread_equal(cb_thread[0], cb_thread[2]));
    /* Added after completion: runs now, in the caller, before returning. */
    CHECK_EQ(pf_future_add_done_callback(f, cb_record, (void *)4), 0);
    CHECK_EQ(atomic_load(&ncb), 4);
    CHECK_EQ(cb_order[3], 4);
    CHECK(pthread_equal(cb_thread[3], pthread_self()));
    pf_future_release(f);
    pf_executor_free(ex);
    gate_destroy(&g);
    gate_destroy(&cb_done);
}

static void test_result_timeout(void)
{
    pf_executor *ex;
    pf_future *f;
    struct gate g;
    void *res = NULL;
    int64_t t0;

    gate_init(&g);
    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    CHECK_EQ(pf_submit(ex, task_gated, &g, 0, &f), 0);
    CHECK_EQ(pf_future_result(f, 0, &res), PF_ETIMEDOUT);
    t0 = pf__now_ms();
    CHECK_EQ(pf_future_result(f, 30, &res), PF_ETIMEDOUT);
    CHECK(pf__now_ms() - t0 >= 30);
    CHECK(res == NULL);
    CHECK(!pf_future_done(f));
    gate_open(&g);
    CHECK_EQ(pf_future_result(f, -1, &res), 0);
    CHECK_EQ((intptr_t)res, 7);
    pf_future_release(f);
    pf_executor_free(ex);
    gate_destroy(&g);
}

/* Cancel: only while pending; the task never runs, callbacks do. */
static pthread_t cancel_cb_thread;
static atomic_int cancel_cb_runs;

static void cb_cancelled(pf_future *f, void *userdata)
{
    (void)userdata;
    CHECK_EQ(pf_future_state(f), PF_FUTURE_CANCELLED);
    cancel_cb_thread = pthread_self();
    atomic_fetch_add(&cancel_cb_runs, 1);
}

static void test_cancel(void)
{
    pf_executor *ex;
    pf_future *a, *b;
    struct gate g;

    gate_init(&g);
    atomic_store(&ran_count, 0);
    atomic_store(&cancel_cb_runs, 0);
    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    CHECK_EQ(pf_submit(ex, task_gated, &g, 0, &a), 0);
    CHECK_EQ(pf_submit(ex, task_count, NULL, 0, &b), 0);
    CHECK_EQ(pf_future_add_done_callback(b, cb_cancelled, NULL), 0);
    EVENTUALLY(pf_future_state(a) == PF_FUTURE_RUNNING);
    CHECK_EQ(pf_future_state(b), PF_FUTURE_PENDING);
    CHECK_EQ(pf_future_cancel(b), 0);
    /* Its callbacks ran here, before cancel returned. */
    CHECK_EQ(atomic_load(&cancel_cb_runs), 1);
    CHECK(pthread_equal(cancel_cb_thread, pthread_self()));
    CHECK_EQ(pf_future_state(b), PF_FUTURE_CANCELLED);
    CHECK_EQ(pf_future_result(b, -1, NULL), PF_ECANCELED);
    CHECK_EQ(pf_future_cancel(b), 0); /* already cancelled */
    CHECK_EQ(atomic_load(&cancel_cb_runs), 1);
    /* Running, then done: refused. */
    CHECK_EQ(pf_future_cancel(a), PF_ESTATE);
    gate_open(&g);
    CHECK_EQ(pf_future_result(a, -1, NULL), 0);
    CHECK_EQ(pf_future_cancel(a), PF_ESTATE);
    CHECK_EQ(pf_future_state(a), PF_FUTURE_DONE);
    pf_executor_free(ex);
    /* b's task never ran, even after the drain. */
    CHECK_EQ(atomic_load(&ran_count), 0);
    pf_future_release(a);
    pf_future_release(b);
    gate_destroy(&g);
}

/*
 * Races: for each future, threads cancel it, wait for it, add callbacks
 * and drop their references all at once.  Each future must end in
 * exactly one state, its task must have run iff it is DONE, every
 * callback must run exactly once, and (ASan, TSan) nothing is touched
 * after it is freed.
 */
#define RACE_N 256
#define RACE_ROUNDS 16

struct race_slot {
    pf_future *f;
    atomic_int ran;
    atomic_int cbs;
    atomic_int final_state;
};

static struct race_slot race[RACE_N];
static struct gate race_start;
static atomic_int race_cbs; /* callbacks run in this round */

static int race_task(void *arg, void **result)
{
    struct race_slot *r = arg;

    (void)result;
    atomic_fetch_add(&r->ran, 1);
    return 0;
}

static void race_cb(pf_future *f, void *userdata)
{
    struct race_slot *r = userdata;
    int st = pf_future_state(f);

    CHECK(st == PF_FUTURE_DONE || st == PF_FUTURE_CANCELLED);
    atomic_store(&r->final_state, st);
    atomic_fetch_add(&r->cbs, 1);
    atomic_fetch_add(&race_cbs, 1);
}

static void *race_canceller(void *arg)
{
    size_t i;

    (void)arg;
    gate_wait(&race_start);
    for (i = 0; i < RACE_N; i++) {
        int rc = pf_future_cancel(race[i].f);

        if (rc != 0 && rc != PF_ESTATE)
            test_failed_ = 1;
        pf_future_release(race[i].f);
    }
    return NULL;
}

static void *race_waiter(void *arg)
{
    size_t i;

    (void)arg;
    gate_wait(&race_start);
    for (i = RACE_N; i-- > 0;) {
        int rc = pf_future_result(race[i].f, -1, NULL);

        if (rc != 0 && rc != PF_ECANCELED)
            test_failed_ = 1;
        if ((rc == 0) != (pf_future_state(race[i].f) == PF_FUTURE_DONE))
            test_failed_ = 1;
        pf_future_release(race[i].f);
    }
    return NULL;
}

static void *race_adder(void *arg)
{
    size_t i;

    (void)arg;
    gate_wait(&race_start);
    for (i = 0; i < RACE_N; i++) {
        if (pf_future_add_done_callback(race[i].f, race_cb, &race[i]) != 0)
            test_failed_ = 1;
        pf_future_result(race[i].f, 0, NULL);
        pf_future_release(race[i].f);
    }
    return NULL;
}

static void test_race(void)
{
    pf_executor *ex;
    int round;
    size_t i;

    CHECK_EQ(pf_executor_new(&ex, 2, 0), 0);
    for (round = 0; round < RACE_ROUNDS; round++) {
        pthread_t t[4];
        void *(*fns[4])(void *) = {race_canceller, race_canceller, race_waiter,
                                   race_adder};
        int k;

        gate_init(&race_start);
        atomic_store(&race_cbs, 0);
        for (i = 0; i < RACE_N; i++) {
            atomic_store(&race[i].ran, 0);
            atomic_store(&race[i].cbs, 0);
            atomic_store(&race[i].final_state, -1);
            CHECK_EQ(pf_submit(ex, race_task, &race[i], 0, &race[i].f), 0);
            CHECK_EQ(pf_future_add_done_callback(race[i].f, race_cb, &race[i]),
                     0);
            for (k = 0; k < 4; k++)
                pf_future_ref(race[i].f);
        }
        for (k = 0; k < 4; k++)
            CHECK_EQ(pthread_create(&t[k], NULL, fns[k], NULL), 0);
        gate_open(&race_start);
        /* The submitter lets go of its own references meanwhile. */
        for (i = 0; i < RACE_N; i++)
            pf_future_release(race[i].f);
        for (k = 0; k < 4; k++)
            pthread_join(t[k], NULL);
        CHECK_EQ(test_failed_, 0);
        /*
         * result() returns once a future is final; its callbacks may
         * still be running on the worker that completed it.
         */
        EVENTUALLY(atomic_load(&race_cbs) == 2 * RACE_N);
        for (i = 0; i < RACE_N; i++) {
            int st = atomic_load(&race[i].final_state);

            CHECK_EQ(atomic_load(&race[i].cbs), 2);
            CHECK(st == PF_FUTURE_DONE || st == PF_FUTURE_CANCELLED);
            CHECK_EQ(atomic_load(&race[i].ran), st == PF_FUTURE_DONE);
        }
        gate_destroy(&race_start);
    }
    pf_executor_free(ex);
}

/* Shutdown with work queued: cancelled, or drained. */
static void test_shutdown_cancel(void)
{
    pf_executor *ex;
    pf_future *a, *q[10];
    struct gate g;
    size_t i;

    gate_init(&g);
    atomic_store(&ran_count, 0);
    atomic_store(&cancel_cb_runs, 0);
    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    CHECK_EQ(pf_submit(ex, task_gated, &g, 0, &a), 0);
    for (i = 0; i < 10; i++) {
        CHECK_EQ(pf_submit(ex, task_count, NULL, 0, &q[i]), 0);
        CHECK_EQ(pf_future_add_done_callback(q[i], cb_cancelled, NULL), 0);
    }
    EVENTUALLY(pf_future_state(a) == PF_FUTURE_RUNNING);
    CHECK_EQ(pf_executor_shutdown(ex, 0, 1), 0);
    /* The pending ones were cancelled here, callbacks and all. */
    CHECK_EQ(atomic_load(&cancel_cb_runs), 10);
    CHECK(pthread_equal(cancel_cb_thread, pthread_self()));
    CHECK_EQ(pf_submit(ex, task_count, NULL, 0, NULL), PF_ESTATE);
    CHECK_EQ(pf_future_state(a), PF_FUTURE_RUNNING);
    gate_open(&g);
    CHECK_EQ(pf_executor_shutdown(ex, 1, 0), 0);
    CHECK_EQ(counts(ex).alive, 0u);
    CHECK_EQ(pf_future_state(a), PF_FUTURE_DONE);
    for (i = 0; i < 10; i++) {
        CHECK_EQ(pf_future_result(q[i], -1, NULL), PF_ECANCELED);
        pf_future_release(q[i]);
    }
    CHECK_EQ(atomic_load(&ran_count), 0);
    CHECK_EQ(pf_executor_shutdown(ex, 1, 1), 0); /* again: harmless */
    pf_future_release(a);
    pf_executor_free(ex);
    gate_destroy(&g);
}

static void test_shutdown_drain(void)
{
    pf_executor *ex;
    pf_future *a, *q[10];
    struct gate g;
    size_t i;

    gate_init(&g);
    atomic_store(&ran_count, 0);
    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    CHECK_EQ(pf_submit(ex, task_gated, &g, 0, &a), 0);
    for (i = 0; i < 10; i++)
        CHECK_EQ(pf_submit(ex, task_count, NULL, 0, &q[i]), 0);
    CHECK_EQ(pf_executor_shutdown(ex, 0, 0), 0);
    CHECK_EQ(pf_submit(ex, task_count, NULL, 0, NULL), PF_ESTATE);
    CHECK_EQ(atomic_load(&ran_count), 0);
    gate_open(&g);
    CHECK_EQ(pf_executor_shutdown(ex, 1, 0), 0);
    /* Every queued task ran before the workers left. */
    CHECK_EQ(atomic_load(&ran_count), 10);
    for (i = 0; i < 10; i++) {
        CHECK_EQ(pf_future_state(q[i]), PF_FUTURE_DONE);
        pf_future_release(q[i]);
    }
    CHECK_EQ(pf_future_state(a), PF_FUTURE_DONE);
    pf_future_release(a);
    pf_executor_free(ex);
    gate_destroy(&g);
}

/* A full queue: NOWAIT fails, a blocking submit waits for room. */
struct blocked_submit {
    pf_executor *ex;
    atomic_int returned;
    int rc;
};

static void *submit_blocking(void *arg)
{
    struct blocked_submit *b = arg;

    b->rc = pf_submit(b->ex, task_count, NULL, 0, NULL);
    atomic_store(&b->returned, 1);
    return NULL;
}

static void test_full_queue(void)
{
    struct blocked_submit b;
    pf_executor *ex;
    pf_future *a;
    struct gate g;
    pthread_t t;

    gate_init(&g);
    atomic_store(&ran_count, 0);
    CHECK_EQ(pf_executor_new(&ex, 1, 2), 0);
    CHECK_EQ(pf_submit(ex, task_gated, &g, 0, &a), 0);
    EVENTUALLY(pf_future_state(a) == PF_FUTURE_RUNNING);
    CHECK_EQ(pf_submit(ex, task_count, NULL, PF_SUBMIT_NOWAIT, NULL), 0);
    CHECK_EQ(pf_submit(ex, task_count, NULL, PF_SUBMIT_NOWAIT, NULL), 0);
    CHECK_EQ(pf_submit(ex, task_count, NULL, PF_SUBMIT_NOWAIT, NULL), PF_EFULL);
    CHECK_EQ(pf_submit(ex, task_count, NULL, 3, NULL), PF_EINVAL);

    b.ex = ex;
    atomic_store(&b.returned, 0);
    CHECK_EQ(pthread_create(&t, NULL, submit_blocking, &b), 0);
    EVENTUALLY(counts(ex).blocked == 1);
    CHECK_EQ(atomic_load(&b.returned), 0);
    gate_open(&g); /* the worker drains: room appears */
    pthread_join(t, NULL);
    CHECK_EQ(b.rc, 0);
    CHECK_EQ(pf_executor_shutdown(ex, 1, 0), 0);
    CHECK_EQ(atomic_load(&ran_count), 3);
    pf_future_release(a);
    pf_executor_free(ex);
    gate_destroy(&g);
}

/* A submit blocked on a full queue fails when the executor shuts down. */
static void test_full_queue_shutdown(void)
{
    struct blocked_submit b;
    pf_executor *ex;
    pf_future *a;
    struct gate g;
    pthread_t t;

    gate_init(&g);
    CHECK_EQ(pf_executor_new(&ex, 1, 1), 0);
    CHECK_EQ(pf_submit(ex, task_gated, &g, 0, &a), 0);
    EVENTUALLY(pf_future_state(a) == PF_FUTURE_RUNNING);
    CHECK_EQ(pf_submit(ex, task_count, NULL, 0, NULL), 0);
    b.ex = ex;
    atomic_store(&b.returned, 0);
    CHECK_EQ(pthread_create(&t, NULL, submit_blocking, &b), 0);
    EVENTUALLY(counts(ex).blocked == 1);
    CHECK_EQ(pf_executor_shutdown(ex, 0, 1), 0);
    pthread_join(t, NULL);
    CHECK_EQ(b.rc, PF_ESTATE);
    gate_open(&g);
    pf_future_release(a);
    pf_executor_free(ex);
    gate_destroy(&g);
}

/* 100,000 tiny tasks, each with its own result. */
#define MANY 100000

static void test_many(void)
{
    static pf_future *fs[MANY];
    pf_executor *ex;
    size_t i;
    int bad = 0;

    CHECK_EQ(pf_executor_new(&ex, 4, 0), 0);
    for (i = 0; i < MANY; i++)
        CHECK_EQ(pf_submit(ex, task_double, (void *)(intptr_t)i, 0, &fs[i]), 0);
    CHECK_EQ(pf_futures_wait(fs, MANY, PF_WAIT_ALL_COMPLETED, -1, NULL), MANY);
    for (i = 0; i < MANY; i++) {
        void *res = NULL;

        if (pf_future_result(fs[i], 0, &res) != 0 ||
            (intptr_t)res != (intptr_t)i * 2)
            bad++;
        pf_future_release(fs[i]);
    }
    CHECK_EQ(bad, 0);
    pf_executor_free(ex);
}

/* Callbacks that submit more work: a chain of CHAIN tasks. */
#define CHAIN 2000

static pf_executor *chain_ex;
static atomic_int chain_len;
static struct gate chain_end;

static void chain_next(pf_future *f, void *userdata)
{
    void *res = NULL;
    pf_future *g;

    (void)userdata;
    /* A callback may read the result and submit again. */
    if (pf_future_result(f, 0, &res) != 0 || (intptr_t)res % 2 != 0)
        test_failed_ = 1;
    if (atomic_fetch_add(&chain_len, 1) + 1 == CHAIN) {
        gate_open(&chain_end);
        return;
    }
    if (pf_submit(chain_ex, task_double, (void *)(intptr_t)1, PF_SUBMIT_NOWAIT,
                  &g) != 0) {
        test_failed_ = 1;
        gate_open(&chain_end);
        return;
    }
    if (pf_future_add_done_callback(g, chain_next, NULL) != 0)
        test_failed_ = 1;
    pf_future_release(g);
}

static void test_callback_chain(void)
{
    pf_future *f;

    gate_init(&chain_end);
    atomic_store(&chain_len, 0);
    CHECK_EQ(pf_executor_new(&chain_ex, 2, 0), 0);
    CHECK_EQ(pf_submit(chain_ex, task_double, (void *)(intptr_t)1, 0, &f), 0);
    CHECK_EQ(pf_future_add_done_callback(f, chain_next, NULL), 0);
    pf_future_release(f);
    gate_wait(&chain_end);
    CHECK_EQ(atomic_load(&chain_len), CHAIN);
    CHECK_EQ(test_failed_, 0);
    pf_executor_free(chain_ex);
    gate_destroy(&chain_end);
}

/* map: results in input order, whatever the order of completion. */
static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int turn;

/* Task i finishes (N-1-i)th: the last input completes first. */
static int task_reverse(void *arg, void **result)
{
    int i = (int)(intptr_t)arg;

    pthread_mutex_lock(&turn_mu);
    while (turn != 3 - i)
        pthread_cond_wait(&turn_cv, &turn_mu);
    turn++;
    pthread_cond_broadcast(&turn_cv);
    pthread_mutex_unlock(&turn_mu);
    *result = (void *)(intptr_t)(i * 10);
    return i == 2 ? PF_EIO : 0;
}

static void test_map_order(void)
{
    void *const args[4] = {(void *)0, (void *)1, (void *)2, (void *)3};
    void *results[4];
    int errs[4];
    pf_executor *ex;
    int i;

    turn = 0;
    CHECK_EQ(pf_executor_new(&ex, 4, 0), 0);
    CHECK_EQ(pf_executor_map(ex, task_reverse, args, 4, results, errs, -1),
             PF_EIO);
    for (i = 0; i < 4; i++) {
        CHECK_EQ((intptr_t)results[i], i * 10);
        CHECK_EQ(errs[i], i == 2 ? PF_EIO : 0);
    }
    CHECK_EQ(pf_executor_map(ex, task_double, args, 0, NULL, NULL, -1), 0);
    CHECK_EQ(pf_executor_map(ex, task_double, args, 4, results, NULL, -1), 0);
    CHECK_EQ((intptr_t)results[3], 6);
    pf_executor_free(ex);
}

/*
 * map with a timeout: pending tasks cancelled, the running one awaited.
 * One worker, four tasks that block on a gate.  A helper opens the gate
 * once map has cancelled what waits in the queue.  Usually
 * the first task runs by the deadline and map must wait for it; on a
 * loaded machine it may not have started, and is cancelled with the rest.
 */
struct map_helper {
    pf_executor *ex;
    struct gate *g;
};

static atomic_int map_started;

static int task_gated_mark(void *arg, void **result)
{
    atomic_store(&map_started, 1);
    return task_gated(arg, result);
}

static void *open_after_cancel(void *arg)
{
    struct map_helper *h = arg;
    int64_t until = pf__now_ms() + 10000;

    /* At least the three queued behind the first one were cancelled. */
    while (counts(h->ex).cancelled < 3 && pf__now_ms() < until)
        sched_yield();
    gate_open(h->g);
    return NULL;
}

static void test_map_timeout(void)
{
    void *args[4];
    void *results[4];
    int errs[4], i;
    struct map_helper h;
    pf_executor *ex;
    struct gate g;
    pthread_t t;

    gate_init(&g);
    atomic_store(&map_started, 0);
    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    for (i = 0; i < 4; i++)
        args[i] = &g;
    h.ex = ex;
    h.g = &g;
    CHECK_EQ(pthread_create(&t, NULL, open_after_cancel, &h), 0);
    CHECK_EQ(pf_executor_map(ex, task_gated_mark, args, 4, results, errs, 20),
             PF_ETIMEDOUT);
    pthread_join(t, NULL);
    /* Whatever ran was waited for: nothing of the map is left running. */
    CHECK_EQ(counts(ex).queued, 0u);
    if (atomic_load(&map_started)) {
        CHECK_EQ(errs[0], 0);
        CHECK_EQ((intptr_t)results[0], 7);
    } else {
        CHECK_EQ(errs[0], PF_ECANCELED);
    }
    for (i = 1; i < 4; i++) {
        CHECK_EQ(errs[i], PF_ECANCELED);
        CHECK(results[i] == NULL);
    }
    pf_executor_free(ex);
    gate_destroy(&g);
}

/* wait(): FIRST_COMPLETED, ALL_COMPLETED and the as_completed order. */
static void test_wait(void)
{
    pf_executor *ex;
    pf_future *fs[3];
    struct gate g[3];
    size_t idx[3];
    int i;

    CHECK_EQ(pf_executor_new(&ex, 3, 0), 0);
    for (i = 0; i < 3; i++) {
        gate_init(&g[i]);
        CHECK_EQ(pf_submit(ex, task_gated, &g[i], 0, &fs[i]), 0);
    }
    CHECK_EQ(pf_futures_wait(fs, 3, PF_WAIT_FIRST_COMPLETED, 0, idx),
             PF_ETIMEDOUT);
    CHECK_EQ(idx[0], SIZE_MAX);
    gate_open(&g[2]);
    CHECK_EQ(pf_futures_wait(fs, 3, PF_WAIT_FIRST_COMPLETED, -1, idx), 1);
    CHECK_EQ(idx[0], 2u);
    CHECK_EQ(idx[1], SIZE_MAX);
    /* ALL with a timeout: the complete ones, then the end mark. */
    CHECK_EQ(pf_futures_wait(fs, 3, PF_WAIT_ALL_COMPLETED, 10, idx),
             PF_ETIMEDOUT);
    CHECK_EQ(idx[0], 2u);
    CHECK_EQ(idx[1], SIZE_MAX);
    gate_open(&g[0]);
    CHECK_EQ(pf_future_result(fs[0], -1, NULL), 0);
    gate_open(&g[1]);
    CHECK_EQ(pf_future_result(fs[1], -1, NULL), 0);
    /* All complete before the call: still in completion order. */
    CHECK_EQ(pf_futures_wait(fs, 3, PF_WAIT_ALL_COMPLETED, -1, idx), 3);
    CHECK(idx[0] == 2 && idx[1] == 0 && idx[2] == 1);
    CHECK_EQ(pf_futures_wait(fs, 0, PF_WAIT_ALL_COMPLETED, -1, idx), 0);
    CHECK_EQ(pf_futures_wait(fs, 3, 7, -1, idx), PF_EINVAL);
    for (i = 0; i < 3; i++) {
        pf_future_release(fs[i]);
        gate_destroy(&g[i]);
    }
    pf_executor_free(ex);
}

/* Completions while the waiter waits: opened 1, 2, 0 by another thread. */
struct opener {
    pf_future **fs;
    struct gate *g;
};

static void *open_in_order(void *arg)
{
    struct opener *o = arg;
    static const int order[3] = {1, 2, 0};
    int i;

    for (i = 0; i < 3; i++) {
        gate_open(&o->g[order[i]]);
        pf_future_result(o->fs[order[i]], -1, NULL);
    }
    return NULL;
}

static void test_as_completed(void)
{
    pf_executor *ex;
    pf_future *fs[3], *rest[3];
    size_t idx[3], map[3];
    struct gate g[3];
    struct opener o;
    pthread_t t;
    int i, got[3], ngot = 0;
    size_t nrest, k;

    CHECK_EQ(pf_executor_new(&ex, 3, 0), 0);
    for (i = 0; i < 3; i++) {
        gate_init(&g[i]);
        CHECK_EQ(pf_submit(ex, task_gated, &g[i], 0, &fs[i]), 0);
    }
    o.fs = fs;
    o.g = g;
    CHECK_EQ(pthread_create(&t, NULL, open_in_order, &o), 0);
    /* as_completed(): wait for the first of the rest, again and again. */
    nrest = 3;
    for (k = 0; k < 3; k++) {
        rest[k] = fs[k];
        map[k] = k;
    }
    while (nrest > 0) {
        int n = pf_futures_wait(rest, nrest, PF_WAIT_FIRST_COMPLETED, -1, idx);
        int reported[3] = {0, 0, 0};
        size_t j, w;

        CHECK(n >= 1);
        for (j = 0; j < (size_t)n; j++) {
            got[ngot++] = (int)map[idx[j]];
            reported[idx[j]] = 1;
        }
        /* Wait again for the rest, as as_completed() does. */
        for (j = 0, w = 0; j < nrest; j++) {
            if (!reported[j]) {
                rest[w] = rest[j];
                map[w] = map[j];
                w++;
            }
        }
        nrest = w;
    }
    pthread_join(t, NULL);
    CHECK_EQ(ngot, 3);
    CHECK(got[0] == 1 && got[1] == 2 && got[2] == 0);
    for (i = 0; i < 3; i++) {
        pf_future_release(fs[i]);
        gate_destroy(&g[i]);
    }
    pf_executor_free(ex);
}

/* The same, with one ALL_COMPLETED wait that sees every completion. */
static void test_wait_all_live(void)
{
    pf_executor *ex;
    pf_future *fs[3];
    struct gate g[3];
    struct opener o;
    size_t idx[3];
    pthread_t t;
    int i;

    CHECK_EQ(pf_executor_new(&ex, 3, 0), 0);
    for (i = 0; i < 3; i++) {
        gate_init(&g[i]);
        CHECK_EQ(pf_submit(ex, task_gated, &g[i], 0, &fs[i]), 0);
    }
    o.fs = fs;
    o.g = g;
    CHECK_EQ(pthread_create(&t, NULL, open_in_order, &o), 0);
    CHECK_EQ(pf_futures_wait(fs, 3, PF_WAIT_ALL_COMPLETED, -1, idx), 3);
    CHECK(idx[0] == 1 && idx[1] == 2 && idx[2] == 0);
    pthread_join(t, NULL);
    for (i = 0; i < 3; i++) {
        pf_future_release(fs[i]);
        gate_destroy(&g[i]);
    }
    pf_executor_free(ex);
}

/*
 * Several threads wait on the same futures, spread over two executors,
 * with timeouts, while they complete: registrations come and go under
 * completions.  Each answer must be consistent: distinct valid indexes,
 * all of complete futures, the end mark after them.
 */
#define WS_N 200

static pf_future *ws_fs[WS_N];
static struct gate ws_go;

static void *ws_waiter(void *arg)
{
    static const int64_t timeouts[4] = {0, 1, 3, -1};
    size_t idx[WS_N];
    int round, how = (int)(intptr_t)arg;

    gate_wait(&ws_go);
    for (round = 0; round < 4; round++) {
        char seen[WS_N];
        int n = pf_futures_wait(ws_fs, WS_N, how, timeouts[round], idx);
        size_t j, k = n < 0 ? 0 : (size_t)n;

        if (n == PF_ETIMEDOUT)
            for (k = 0; k < WS_N && idx[k] != SIZE_MAX; k++)
                ;
        else if (n < 1)
            test_failed_ = 1;
        memset(seen, 0, sizeof(seen));
        for (j = 0; j < k; j++) {
            if (idx[j] >= WS_N || seen[idx[j]] ||
                !pf_future_done(ws_fs[idx[j]]))
                test_failed_ = 1;
            else
                seen[idx[j]] = 1;
        }
        if (k < WS_N && idx[k] != SIZE_MAX)
            test_failed_ = 1;
        if (how == PF_WAIT_ALL_COMPLETED && timeouts[round] < 0 && n != WS_N)
            test_failed_ = 1;
    }
    return NULL;
}

static void test_wait_stress(void)
{
    pf_executor *a, *b;
    pthread_t t[4];
    size_t i;
    int k;

    gate_init(&ws_go);
    CHECK_EQ(pf_executor_new(&a, 2, 0), 0);
    CHECK_EQ(pf_executor_new(&b, 1, 0), 0);
    for (k = 0; k < 4; k++)
        CHECK_EQ(
            pthread_create(&t[k], NULL, ws_waiter, (void *)(intptr_t)(k % 2)),
            0);
    /* Runs of three on a, then one on b: several runs per wait. */
    for (i = 0; i < WS_N; i++)
        CHECK_EQ(pf_submit(i % 4 == 3 ? b : a, task_double, (void *)(intptr_t)i,
                           0, &ws_fs[i]),
                 0);
    gate_open(&ws_go);
    for (k = 0; k < 4; k++)
        pthread_join(t[k], NULL);
    CHECK_EQ(test_failed_, 0);
    for (i = 0; i < WS_N; i++)
        pf_future_release(ws_fs[i]);
    pf_executor_free(a);
    pf_executor_free(b);
    gate_destroy(&ws_go);
}

/* A task waiting for its own future is refused, not deadlocked. */
static pf_future *self_future;
static struct gate self_gate;

static int task_wait_self(void *arg, void **result)
{
    (void)arg;
    (void)result;
    gate_wait(&self_gate);
    return pf_future_result(self_future, -1, NULL) == PF_ESTATE ? 0 : PF_EIO;
}

static void test_wait_self(void)
{
    pf_executor *ex;

    gate_init(&self_gate);
    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    CHECK_EQ(pf_submit(ex, task_wait_self, NULL, 0, &self_future), 0);
    gate_open(&self_gate);
    CHECK_EQ(pf_future_result(self_future, -1, NULL), 0);
    pf_future_release(self_future);
    pf_executor_free(ex);
    gate_destroy(&self_gate);
}

/* Freeing the executor from one of its own callbacks. */
static void cb_free_executor(pf_future *f, void *userdata)
{
    (void)f;
    pf_executor_free(userdata);
}

static void test_free_from_callback(void)
{
    pf_executor *ex;
    pf_future *f, *g;
    struct gate gt;

    gate_init(&gt);
    CHECK_EQ(pf_executor_new(&ex, 2, 0), 0);
    CHECK_EQ(pf_submit(ex, task_gated, &gt, 0, &f), 0);
    CHECK_EQ(pf_submit(ex, task_double, (void *)(intptr_t)4, 0, &g), 0);
    CHECK_EQ(pf_future_add_done_callback(f, cb_free_executor, ex), 0);
    gate_open(&gt);
    /* The futures outlive the executor's handle. */
    CHECK_EQ(pf_future_result(f, -1, NULL), 0);
    CHECK_EQ(pf_future_result(g, -1, NULL), 0);
    pf_future_release(f);
    pf_future_release(g);
    gate_destroy(&gt);
}

/* pf_await: coroutines wait for futures while others keep running. */
static pf_sched *S;
static pf_executor *AEX;
static struct gate await_gate;
static int ticks;
static int awaited[3];
static int await_rc[3];
static int await_ticks[3];

static void ticker(void *arg)
{
    (void)arg;
    while (ticks < 5) {
        pf_sleep(S, 1);
        ticks++;
    }
    gate_open(&await_gate); /* only now can the tasks finish */
}

static void awaiter(void *arg)
{
    int i = (int)(intptr_t)arg;
    pf_future *f;
    void *res = NULL;

    if (pf_submit(AEX, task_gated, &await_gate, 0, &f) != 0) {
        await_rc[i] = -100;
        return;
    }
    await_rc[i] = pf_await(S, f, &res);
    awaited[i] = (int)(intptr_t)res;
    await_ticks[i] = ticks;
    pf_future_release(f);
}

static void test_await(void)
{
    pf_future *f;
    void *res = NULL;
    int i;

    gate_init(&await_gate);
    ticks = 0;
    CHECK_EQ(pf_sched_new(&S, 0), 0);
    CHECK_EQ(pf_executor_new(&AEX, 3, 0), 0);
    for (i = 0; i < 3; i++)
        CHECK_EQ(pf_spawn(S, awaiter, (void *)(intptr_t)i, NULL), 0);
    CHECK_EQ(pf_spawn(S, ticker, NULL, NULL), 0);
    CHECK_EQ(pf_sched_run(S), 0);
    for (i = 0; i < 3; i++) {
        CHECK_EQ(await_rc[i], 0);
        CHECK_EQ(awaited[i], 7);
        /* They waited while the ticker ran: the loop was never blocked. */
        CHECK_EQ(await_ticks[i], 5);
    }
    /* Outside coroutines: the loop runs until the future is done. */
    CHECK_EQ(pf_submit(AEX, task_double, (void *)(intptr_t)5, 0, &f), 0);
    CHECK_EQ(pf_await(S, f, &res), 0);
    CHECK_EQ((intptr_t)res, 10);
    /* Already done: at once. */
    res = NULL;
    CHECK_EQ(pf_await(S, f, &res), 0);
    CHECK_EQ((intptr_t)res, 10);
    pf_future_release(f);
    pf_executor_free(AEX);
    pf_sched_free(S);
    gate_destroy(&await_gate);
}

/*
 * An await cut short by pf__sched_cancel_all (what stopping a crawl
 * does) returns PF_ECANCELED, and a completion that comes later touches
 * neither the dead coroutine's stack nor a freed scheduler.  Timings of
 * the completion (its post-back to the loop):
 *   0: after the scheduler is freed;
 *   1: before the cancel; the scheduler is freed with the post queued;
 *   2: before the cancel; the post runs after it;
 *   3: no cancel at all: the scheduler is freed with the coroutine still
 *      waiting and the post queued.
 */
static pf_co *await_co;
static struct gate posted;

static void await_one(void *arg)
{
    pf_future *f = arg;

    await_rc[0] = pf_await(S, f, NULL);
}

static void cb_posted(pf_future *f, void *userdata)
{
    (void)f;
    (void)userdata;
    gate_open(&posted); /* runs after pf_await's own callback */
}

static void test_await_cancel(void)
{
    pf_executor *ex;
    pf_future *f;
    struct gate g;
    int timing, n;

    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    /*
     * Timings: the future completes before the cancel (1, 2, 3) or after
     * the scheduler is gone (0, 4); the waits are cancelled (0, 1, 2) or
     * the coroutine is abandoned in them by pf_sched_free (3, 4).
     */
    for (timing = 0; timing < 5; timing++) {
        gate_init(&g);
        gate_init(&posted);
        CHECK_EQ(pf_sched_new(&S, 0), 0);
        CHECK_EQ(pf_submit(ex, task_gated, &g, 0, &f), 0);
        await_rc[0] = 1;
        CHECK_EQ(pf_spawn(S, await_one, f, &await_co), 0);
        for (n = 0; n < 100 && await_co->state != CO_WAITING; n++)
            pf__sched_step(S, 0);
        CHECK_EQ(await_co->state, CO_WAITING);
        CHECK_EQ(pf_future_add_done_callback(f, cb_posted, NULL), 0);
        if (timing >= 1 && timing <= 3) {
            gate_open(&g);
            gate_wait(&posted); /* the post-back is queued, not yet run */
        }
        if (timing < 3)
            pf__sched_cancel_all(S);
        if (timing == 0 || timing == 2) {
            CHECK_EQ(pf_join(S, await_co), 0);
            CHECK_EQ(await_rc[0], PF_ECANCELED);
        }
        pf_sched_free(S); /* abandons the coroutine in timings 1, 3, 4 */
        if (timing == 0 || timing == 4) {
            gate_open(&g);
            gate_wait(&posted);
        }
        CHECK_EQ(pf_future_result(f, -1, NULL), 0);
        pf_future_release(f);
        gate_destroy(&g);
        gate_destroy(&posted);
    }
    pf_executor_free(ex);
}

/* pf_sched_stop while the loop thread awaits outside coroutines. */
static void *stop_soon(void *arg)
{
    pf_sched_stop(arg);
    return NULL;
}

static void test_await_stop(void)
{
    pf_executor *ex;
    pf_future *f;
    struct gate g;
    pthread_t t;

    gate_init(&g);
    gate_init(&posted);
    CHECK_EQ(pf_sched_new(&S, 0), 0);
    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    CHECK_EQ(pf_submit(ex, task_gated, &g, 0, &f), 0);
    CHECK_EQ(pf_future_add_done_callback(f, cb_posted, NULL), 0);
    CHECK_EQ(pthread_create(&t, NULL, stop_soon, S), 0);
    CHECK_EQ(pf_await(S, f, NULL), PF_ECANCELED);
    pthread_join(t, NULL);
    CHECK(!pf_future_done(f)); /* f itself is left alone */
    pf_sched_free(S);
    gate_open(&g);
    gate_wait(&posted);
    CHECK_EQ(pf_future_result(f, -1, NULL), 0);
    pf_future_release(f);
    pf_executor_free(ex);
    gate_destroy(&g);
    gate_destroy(&posted);
}

static void test_invalid(void)
{
    pf_executor *ex;
    pf_future *f;

    CHECK_EQ(pf_executor_new(NULL, 1, 0), PF_EINVAL);
    CHECK_EQ(pf_executor_new(&ex, 1, 0), 0);
    CHECK_EQ(pf_submit(NULL, task_count, NULL, 0, &f), PF_EINVAL);
    CHECK_EQ(pf_submit(ex, NULL, NULL, 0, &f), PF_EINVAL);
    CHECK_EQ(pf_future_result(NULL, 0, NULL), PF_EINVAL);
    CHECK_EQ(pf_future_cancel(NULL), PF_EINVAL);
    CHECK_EQ(pf_future_state(NULL), PF_EINVAL);
    CHECK_EQ(pf_future_done(NULL), 0);
    CHECK_EQ(pf_future_add_done_callback(NULL, cb_record, NULL), PF_EINVAL);
    CHECK_EQ(pf_futures_wait(NULL, 1, PF_WAIT_ALL_COMPLETED, 0, NULL),
             PF_EINVAL);
    CHECK_EQ(pf_executor_map(ex, NULL, NULL, 0, NULL, NULL, -1), PF_EINVAL);
    CHECK_EQ(pf_executor_shutdown(NULL, 1, 0), PF_EINVAL);
    CHECK_EQ(pf_await(NULL, NULL, NULL), PF_EINVAL);
    pf_future_ref(NULL);
    pf_future_release(NULL);
    pf_executor_free(NULL);
    pf_executor_free(ex);
}

static void setup(void) __attribute__((constructor));
static void setup(void)
{
    pf_global_init();
}

TEST_MAIN(TEST(test_submit_result), TEST(test_callback_order),
          TEST(test_result_timeout), TEST(test_cancel), TEST(test_race),
          TEST(test_shutdown_cancel), TEST(test_shutdown_drain),
          TEST(test_full_queue), TEST(test_full_queue_shutdown),
          TEST(test_many), TEST(test_callback_chain), TEST(test_map_order),
          TEST(test_map_timeout), TEST(test_wait), TEST(test_as_completed),
          TEST(test_wait_all_live), TEST(test_wait_stress),
          TEST(test_wait_self), TEST(test_free_from_callback), TEST(test_await),
          TEST(test_await_cancel), TEST(test_await_stop), TEST(test_invalid))
