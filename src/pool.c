/*
 * pool.c -- the executor: a fixed pool of worker threads, a bounded FIFO
 * of submitted tasks, and the futures that stand for them
 * (concurrent.futures' model in C).  This module owns the worker threads,
 * the queue, and every future's state, callbacks and waiters.  It must
 * never run a task or a callback with a lock held, never know the
 * scheduler (pf_await, in await.c, joins the two through a
 * done-callback), and never block a worker anywhere but in its wait for
 * work.
 *
 * Locks, and the only order in which they nest:
 *
 *   ex->mu  (one per executor)  -->  w->mu  (one per waiting thread)
 *
 * Done-callbacks take their own locks (await.c's rec->mu) with none of
 * these held.
 *
 * ex->mu guards the queue, the counters and, for every future of ex, its
 * state transitions, its callback list and its waiter list.  A thread
 * blocked in pf_future_result() or pf_futures_wait() sleeps on its own
 * condition variable (struct waiter, on its stack): a future costs no
 * condition variable unless someone actually waits for it, and one wait
 * can span futures of several executors.  Completing a future takes
 * ex->mu, then each registered waiter's lock to record the completion.
 * ex->mu and rec->mu are never held together: done-callbacks run
 * unlocked.
 *
 * Lifetimes.  A future holds one reference per owner: the submitter's
 * (unless it asked for none), the executor's while the task is queued or
 * running and its callbacks run, and any taken with pf_future_ref().  The
 * executor's memory (not its threads) lives until its handle is freed
 * and every future it made is released (ex->refs), so a future can
 * always take its executor's lock, even when pf_executor_free() runs
 * concurrently on another thread.
 *
 * Speed.  A submit and its completion cost one allocation and one
 * acquisition of ex->mu each: the worker finishes a task and takes the
 * next in the same critical section, and signals nobody unless someone
 * waits.  Workers are signalled only when one is asleep, no signal is
 * already on its way to it and no worker is polling (below).  Sleeping
 * is what costs: on a VM a futex wake-up is an inter-processor interrupt
 * and two context switches, paid by the submitter each time workers
 * have drained the queue.  So before sleeping, one worker at a time
 * polls the queue for up to POLL_ROUNDS sched_yield() rounds (a few
 * microseconds), and submitters leave it alone meanwhile.  Measured on
 * two shared cores: a steady trickle of tasks went from 7 to 2.8 us per
 * task, bursts gained 40%, round trips were unchanged.  A busy-wait
 * with a pause instruction did worse (it keeps the core the submitter
 * needs); sched_yield() hands the core to whoever is runnable.  The
 * cost is a few microseconds of one core each time the queue empties.
 * Known limit: one mutex for the queue is simple and fair but tops out
 * at a few million tasks/s; per-worker deques with stealing would scale
 * further, at the cost of FIFO order and of a far harder cancel.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define QUEUE_MAX_DEFAULT 65536
#define POLL_ROUNDS 16 /* sched_yield() rounds before a worker sleeps */
#define STACK_LINKS 8  /* pf_futures_wait() registrations without malloc */

/* An extra done-callback; the first one is stored in the future. */
struct cbnode {
    struct cbnode *next;
    pf_future_cb *cb;
    void *userdata;
};

/*
 * A thread waiting in pf_future_result() or pf_futures_wait(); lives on
 * its stack.  Completers record into it under w->mu.
 */
struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* CLOCK_MONOTONIC, for timed waits */
    size_t need;       /* wake the waiter once ndone reaches it */
    size_t ndone;      /* complete futures: found so, plus notified */
    size_t nlate;      /* notified while registered */
    size_t *late_end;  /* notified indexes go backwards from here */
};

/* One waiter's registration on one future: in f->waiters. */
struct wlink {
    struct pf__queue link; /* self-linked when not registered */
    struct waiter *w;
    size_t idx; /* the future's index in the waiter's array */
};

struct pf_future {
    struct pf__queue link; /* in ex->queue while PENDING */
    pf_executor *ex;       /* valid as long as the future: see ex->refs */
    pf_task_fn *fn;
    void *arg;
    atomic_int state; /* changed under ex->mu; read anywhere */
    atomic_uint refs;
    int rc;                   /* the task's return value, once final */
    void *result;             /* its result pointer */
    uint64_t seq;             /* completion order among ex's futures */
    pthread_t runner;         /* the worker running it, while RUNNING */
    struct pf__queue waiters; /* struct wlink, under ex->mu */
    pf_future_cb *cb;         /* the first callback, inline */
    void *cb_data;
    struct cbnode *more; /* the others, in order, under ex->mu */
    struct cbnode **more_tail;
};

struct pf_executor {
    pthread_mutex_t mu;     /* see the top of the file */
    pthread_cond_t work_cv; /* workers waiting for work */
    pthread_cond_t room_cv; /* submitters waiting for room */
    pthread_cond_t exit_cv; /* shutdown(wait) waiting for the workers */
    struct pf__queue queue; /* PENDING futures, FIFO */
    atomic_size_t nqueued;  /* changed under mu; the poller reads it bare */
    size_t queue_max;
    size_t nroomwait;   /* submitters blocked on room_cv */
    unsigned nidle;     /* workers blocked on work_cv */
    unsigned nsignaled; /* work_cv signals not yet taken by a worker */
    unsigned npolling;  /* 0 or 1: a worker polling nqueued unlocked */
    unsigned nthreads;  /* started */
    unsigned nalive;    /* started and not yet out of worker_main */
    int shutdown;
    int reaped;          /* threads joined or detached */
    uint64_t seq;        /* completions so far */
    uint64_t ncancelled; /* of which cancellations */
    atomic_size_t refs;  /* the handle + live futures + live workers */
    pthread_t *threads;  /* [nthreads] */
};

/* Small helpers, for any thread. */

static int state_final(int st)
{
    return st == PF_FUTURE_DONE || st == PF_FUTURE_CANCELLED;
}

static int load_state(const pf_future *f)
{
    /* The object is never const; the API only promises not to change it. */
    pf_future *m = (pf_future *)f;

    return atomic_load_explicit(&m->state, memory_order_acquire);
}

/* A deadline on the monotonic clock, < 0 for none.  Any thread. */
static int64_t deadline_after(int64_t timeout_ms)
{
    int64_t now = pf__now_ns();

    if (timeout_ms < 0)
        return -1;
    if (timeout_ms > (INT64_MAX - now) / 1000000)
        return -1; /* centuries: the same as no limit */
    return now + timeout_ms * 1000000;
}

/* The queue length: changed under ex->mu, read anywhere.  Any thread. */
static size_t queued(pf_executor *ex)
{
    return atomic_load_explicit(&ex->nqueued, memory_order_relaxed);
}

static void set_queued(pf_executor *ex, size_t n)
{
    atomic_store_explicit(&ex->nqueued, n, memory_order_relaxed);
}

/* Give back the executor's memory once nothing refers to it.  Any thread. */
static void executor_unref(pf_executor *ex)
{
    if (atomic_fetch_sub_explicit(&ex->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_cond_destroy(&ex->exit_cv);
    pthread_cond_destroy(&ex->room_cv);
    pthread_cond_destroy(&ex->work_cv);
    pthread_mutex_destroy(&ex->mu);
    pf__free(ex->threads);
    pf__free(ex);
}

/* Is the calling thread one of ex's workers?  Any thread, ex->mu held. */
static int on_worker(const pf_executor *ex)
{
    pthread_t self = pthread_self();
    unsigned i;

    for (i = 0; i < ex->nthreads; i++)
        if (pthread_equal(ex->threads[i], self))
            return 1;
    return 0;
}

/* Completion. */

/*
 * Record idx as complete in w and wake its thread when that is enough.
 * The completing thread, ex->mu held.
 */
static void waiter_notify(struct waiter *w, size_t idx)
{
    pthread_mutex_lock(&w->mu);
    if (w->late_end != NULL)
        w->late_end[-(ptrdiff_t)w->nlate - 1] = idx;
    w->nlate++;
    w->ndone++;
    if (w->ndone >= w->need)
        pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/*
 * Move f to its final state (DONE or CANCELLED) and wake its waiters.
 * Returns nonzero when f has callbacks, which the caller runs with
 * run_callbacks() once it has let go of ex->mu: from here on nobody but
 * the caller reads f's callback list, since pf_future_add_done_callback
 * runs late callbacks itself.  The completing thread, ex->mu held.
 */
static int complete(pf_executor *ex, pf_future *f, int state, int rc,
                    void *result)
{
    f->rc = rc;
    f->result = result;
    f->seq = ++ex->seq;
    if (state == PF_FUTURE_CANCELLED)
        ex->ncancelled++;
    atomic_store_explicit(&f->state, state, memory_order_release);
    while (!pf__queue_empty(&f->waiters)) {
        struct wlink *l =
            pf__container_of(pf__queue_head(&f->waiters), struct wlink, link);

        pf__queue_remove(&l->link);
        waiter_notify(l->w, l->idx);
    }
    return f->cb != NULL;
}

/* Run f's callbacks in the order they were added.  Completing thread. */
static void run_callbacks(pf_future *f)
{
    struct cbnode *n = f->more;

    f->more = NULL;
    f->more_tail = &f->more;
    if (f->cb != NULL)
        f->cb(f, f->cb_data);
    while (n != NULL) {
        struct cbnode *next = n->next;

        n->cb(f, n->userdata);
        pf__free(n);
        n = next;
    }
}

/* Workers. */

/*
 * Poll the queue, unlocked, for a few sched_yield() rounds; returns with
 * ex->mu held again.  While a worker polls, submitters wake nobody: it
 * will take their task, or see it under the lock when it gives up.
 * Worker thread, ex->mu held.
 */
static void poll_for_work(pf_executor *ex)
{
    int i;

    ex->npolling = 1;
    pthread_mutex_unlock(&ex->mu);
    for (i = 0; i < POLL_ROUNDS && queued(ex) == 0; i++)
        sched_yield();
    pthread_mutex_lock(&ex->mu);
    ex->npolling = 0;
}

/*
 * Take the next task, waiting for one; NULL once the executor is shut
 * down and its queue is empty.  Worker thread, ex->mu held.
 */
static pf_future *next_task(pf_executor *ex)
{
    pf_future *f;
    int polled = 0;

    while (pf__queue_empty(&ex->queue)) {
        if (ex->shutdown)
            return NULL;
        if (!polled && ex->npolling == 0) {
            poll_for_work(ex);
            polled = 1;
            continue;
        }
        ex->nidle++;
        pthread_cond_wait(&ex->work_cv, &ex->mu);
        ex->nidle--;
        /*
         * Count a signal as taken whether this wake-up was it or a
         * spurious one: nsignaled may then run low, which costs a spare
         * signal later, never a sleeper left alone with work queued.
         */
        if (ex->nsignaled > 0)
            ex->nsignaled--;
        polled = 0;
    }
    f = pf__container_of(pf__queue_head(&ex->queue), pf_future, link);
    pf__queue_remove(&f->link);
    set_queued(ex, queued(ex) - 1);
    f->runner = pthread_self();
    atomic_store_explicit(&f->state, PF_FUTURE_RUNNING, memory_order_release);
    if (ex->nroomwait > 0)
        pthread_cond_signal(&ex->room_cv);
    /*
     * Work left and a sleeper nobody wakes (submits leave it alone while
     * a worker polls): wake it, so the backlog runs in parallel.
     */
    if (!pf__queue_empty(&ex->queue) && ex->npolling == 0 &&
        ex->nidle > ex->nsignaled) {
        ex->nsignaled++;
        pthread_cond_signal(&ex->work_cv);
    }
    return f;
}

/*
 * A worker: take a task, run it unlocked, complete it and take the next
 * one in the same critical section.  The executor's reference on a
 * future without callbacks is dropped after the next unlock, so free()
 * never runs under ex->mu.  Worker thread.
 */
static void *worker_main(void *arg)
{
    pf_executor *ex = arg;
    pf_future *f, *prev = NULL;

    pthread_mutex_lock(&ex->mu);
    for (;;) {
        void *result = NULL;
        int rc;

        f = next_task(ex);
        if (f == NULL)
            break;
        pthread_mutex_unlock(&ex->mu);
        pf_future_release(prev);
        prev = NULL;
        rc = f->fn(f->arg, &result);
        pthread_mutex_lock(&ex->mu);
        if (complete(ex, f, PF_FUTURE_DONE, rc, result)) {
            pthread_mutex_unlock(&ex->mu);
            run_callbacks(f);
            pf_future_release(f);
            pthread_mutex_lock(&ex->mu);
        } else if (pf__queue_empty(&ex->queue)) {
            /* About to sleep: let go of f now, not at the next task. */
            pthread_mutex_unlock(&ex->mu);
            pf_future_release(f);
            pthread_mutex_lock(&ex->mu);
        } else {
            prev = f;
        }
    }
    if (--ex->nalive == 0)
        pthread_cond_broadcast(&ex->exit_cv);
    pthread_mutex_unlock(&ex->mu);
    pf_future_release(prev);
    executor_unref(ex);
    return NULL;
}

/* The public executor. */

int pf_executor_new(pf_executor **out, unsigned nthreads, size_t queue_max)
{
    pf_executor *ex;
    sigset_t all, old;
    unsigned i;
    int rc = 0;

    if (out == NULL)
        return PF_EINVAL;
    if (nthreads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);

        nthreads = n > 0 ? (unsigned)n : 1;
    }
    if (queue_max == 0)
        queue_max = QUEUE_MAX_DEFAULT;
    ex = pf__calloc(1, sizeof(*ex));
    if (ex == NULL)
        return PF_ENOMEM;
    ex->threads = pf__calloc(nthreads, sizeof(pthread_t));
    if (ex->threads == NULL) {
        pf__free(ex);
        return PF_ENOMEM;
    }
    if (pthread_mutex_init(&ex->mu, NULL) != 0)
        goto fail_mu;
    if (pthread_cond_init(&ex->work_cv, NULL) != 0)
        goto fail_work;
    if (pthread_cond_init(&ex->room_cv, NULL) != 0)
        goto fail_room;
    if (pthread_cond_init(&ex->exit_cv, NULL) != 0)
        goto fail_exit;
    pf__queue_init(&ex->queue);
    atomic_init(&ex->nqueued, 0);
    atomic_init(&ex->refs, 1);
    ex->queue_max = queue_max;

    /*
     * Workers block every signal: a handler (pfetch's SIGINT) then runs
     * on a thread of the application, never in the middle of a task.
     * They start under ex->mu, so they see threads[] filled in.
     */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_mutex_lock(&ex->mu);
    for (i = 0; i < nthreads; i++) {
        atomic_fetch_add_explicit(&ex->refs, 1, memory_order_relaxed);
        if (pthread_create(&ex->threads[i], NULL, worker_main, ex) != 0) {
            atomic_fetch_sub_explicit(&ex->refs, 1, memory_order_relaxed);
            rc = PF_ESYS;
            break;
        }
        ex->nthreads++;
        ex->nalive++;
    }
    pthread_mutex_unlock(&ex->mu);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc < 0) {
        pf_executor_free(ex);
        return rc;
    }
    *out = ex;
    return 0;

fail_exit:
    pthread_cond_destroy(&ex->room_cv);
fail_room:
    pthread_cond_destroy(&ex->work_cv);
fail_work:
    pthread_mutex_destroy(&ex->mu);
fail_mu:
    pf__free(ex->threads);
    pf__free(ex);
    return PF_ESYS;
}

int pf_submit(pf_executor *ex, pf_task_fn *fn, void *arg, int flags,
              pf_future **out)
{
    pf_future *f;
    int wake = 0;

    if (ex == NULL || fn == NULL || (flags & ~PF_SUBMIT_NOWAIT) != 0)
        return PF_EINVAL;
    f = pf__malloc(sizeof(*f));
    if (f == NULL)
        return PF_ENOMEM;
    f->ex = ex;
    f->fn = fn;
    f->arg = arg;
    atomic_init(&f->state, PF_FUTURE_PENDING);
    atomic_init(&f->refs, out != NULL ? 2 : 1);
    f->rc = 0;
    f->result = NULL;
    f->seq = 0;
    pf__queue_init(&f->waiters);
    f->cb = NULL;
    f->cb_data = NULL;
    f->more = NULL;
    f->more_tail = &f->more;

    pthread_mutex_lock(&ex->mu);
    while (!ex->shutdown && queued(ex) >= ex->queue_max) {
        if (flags & PF_SUBMIT_NOWAIT) {
            pthread_mutex_unlock(&ex->mu);
            pf__free(f);
            return PF_EFULL;
        }
        ex->nroomwait++;
        pthread_cond_wait(&ex->room_cv, &ex->mu);
        ex->nroomwait--;
    }
    if (ex->shutdown) {
        pthread_mutex_unlock(&ex->mu);
        pf__free(f);
        return PF_ESTATE;
    }
    pf__queue_insert_tail(&ex->queue, &f->link);
    set_queued(ex, queued(ex) + 1);
    atomic_fetch_add_explicit(&ex->refs, 1, memory_order_relaxed);
    if (ex->npolling == 0 && ex->nidle > ex->nsignaled) {
        ex->nsignaled++;
        wake = 1;
    }
    pthread_mutex_unlock(&ex->mu);
    /*
     * Signalled after the unlock, so the worker does not wake into a
     * held mutex.  Safe: the decision was taken under the lock, and a
     * signal that finds nobody (the worker woke on its own) is harmless.
     */
    if (wake)
        pthread_cond_signal(&ex->work_cv);
    if (out != NULL)
        *out = f;
    return 0;
}

int pf_executor_shutdown(pf_executor *ex, int wait, int cancel_pending)
{
    struct pf__queue cancelled;
    int self_worker, join;
    unsigned i;

    if (ex == NULL)
        return PF_EINVAL;
    pf__queue_init(&cancelled);
    pthread_mutex_lock(&ex->mu);
    ex->shutdown = 1;
    if (cancel_pending) {
        struct pf__queue *q;

        pf__queue_move(&ex->queue, &cancelled);
        set_queued(ex, 0);
        for (q = cancelled.next; q != &cancelled; q = q->next)
            complete(ex, pf__container_of(q, pf_future, link),
                     PF_FUTURE_CANCELLED, PF_ECANCELED, NULL);
    }
    pthread_cond_broadcast(&ex->work_cv);
    if (ex->nroomwait > 0)
        pthread_cond_broadcast(&ex->room_cv);
    self_worker = on_worker(ex);
    pthread_mutex_unlock(&ex->mu);

    /* Cancelled futures are ours alone now: their links are free. */
    while (!pf__queue_empty(&cancelled)) {
        pf_future *f =
            pf__container_of(pf__queue_head(&cancelled), pf_future, link);

        pf__queue_remove(&f->link);
        run_callbacks(f);
        pf_future_release(f);
    }
    if (!wait)
        return 0;
    if (self_worker)
        return PF_ESTATE; /* it would wait for itself */
    pthread_mutex_lock(&ex->mu);
    while (ex->nalive > 0)
        pthread_cond_wait(&ex->exit_cv, &ex->mu);
    join = !ex->reaped;
    ex->reaped = 1;
    pthread_mutex_unlock(&ex->mu);
    if (join)
        for (i = 0; i < ex->nthreads; i++)
            pthread_join(ex->threads[i], NULL);
    return 0;
}

void pf_executor_free(pf_executor *ex)
{
    unsigned i;
    int detach;

    if (ex == NULL)
        return;
    if (pf_executor_shutdown(ex, 1, 0) == PF_ESTATE) {
        /*
         * Freed from one of its own workers (a task or a callback): it
         * cannot join itself.  The threads are detached instead; each
         * holds a reference on ex, so the last one out frees it.
         */
        pthread_mutex_lock(&ex->mu);
        detach = !ex->reaped;
        ex->reaped = 1;
        pthread_mutex_unlock(&ex->mu);
        if (detach)
            for (i = 0; i < ex->nthreads; i++)
                pthread_detach(ex->threads[i]);
    }
    executor_unref(ex);
}

void pf__executor_counts(pf_executor *ex, struct pf__executor_counts *c)
{
    pthread_mutex_lock(&ex->mu);
    c->queued = queued(ex);
    c->blocked = ex->nroomwait;
    c->idle = ex->nidle;
    c->alive = ex->nalive;
    c->shut = ex->shutdown ? 1 : 0;
    c->cancelled = ex->ncancelled;
    pthread_mutex_unlock(&ex->mu);
}

/* Futures. */

void pf_future_ref(pf_future *f)
{
    if (f != NULL)
        atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void pf_future_release(pf_future *f)
{
    pf_executor *ex;

    if (f == NULL)
        return;
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) != 1)
        return;
    /* The executor's own reference is gone: f is final, its list empty. */
    ex = f->ex;
    pf__free(f);
    executor_unref(ex);
}

int pf_future_state(const pf_future *f)
{
    if (f == NULL)
        return PF_EINVAL;
    return load_state(f);
}

int pf_future_done(const pf_future *f)
{
    return f != NULL && state_final(load_state(f));
}

int pf_future_cancel(pf_future *f)
{
    pf_executor *ex;
    int st;

    if (f == NULL)
        return PF_EINVAL;
    st = load_state(f);
    if (state_final(st))
        return st == PF_FUTURE_CANCELLED ? 0 : PF_ESTATE;
    ex = f->ex;
    pthread_mutex_lock(&ex->mu);
    st = atomic_load_explicit(&f->state, memory_order_relaxed);
    if (st != PF_FUTURE_PENDING) {
        pthread_mutex_unlock(&ex->mu);
        return st == PF_FUTURE_CANCELLED ? 0 : PF_ESTATE;
    }
    pf__queue_remove(&f->link);
    set_queued(ex, queued(ex) - 1);
    if (ex->nroomwait > 0)
        pthread_cond_signal(&ex->room_cv);
    complete(ex, f, PF_FUTURE_CANCELLED, PF_ECANCELED, NULL);
    pthread_mutex_unlock(&ex->mu);
    run_callbacks(f);
    /* The queue's reference; the caller still holds its own. */
    pf_future_release(f);
    return 0;
}

int pf_future_add_done_callback(pf_future *f, pf_future_cb *cb, void *userdata)
{
    pf_executor *ex;
    struct cbnode *n = NULL;

    if (f == NULL || cb == NULL)
        return PF_EINVAL;
    if (state_final(load_state(f))) {
        cb(f, userdata);
        return 0;
    }
    ex = f->ex;
    pthread_mutex_lock(&ex->mu);
    for (;;) {
        if (state_final(
                atomic_load_explicit(&f->state, memory_order_relaxed))) {
            pthread_mutex_unlock(&ex->mu);
            pf__free(n);
            cb(f, userdata);
            return 0;
        }
        if (f->cb == NULL) {
            f->cb = cb;
            f->cb_data = userdata;
            pthread_mutex_unlock(&ex->mu);
            pf__free(n);
            return 0;
        }
        if (n != NULL)
            break;
        /* The rare second callback: allocate unlocked, then look again. */
        pthread_mutex_unlock(&ex->mu);
        n = pf__malloc(sizeof(*n));
        if (n == NULL)
            return PF_ENOMEM;
        n->next = NULL;
        n->cb = cb;
        n->userdata = userdata;
        pthread_mutex_lock(&ex->mu);
    }
    *f->more_tail = n;
    f->more_tail = &n->next;
    pthread_mutex_unlock(&ex->mu);
    return 0;
}

/* Waiting. */

/* Completion order of two complete futures: seq, then index.  Any thread. */
static int done_before(pf_future *const *fs, size_t a, size_t b)
{
    if (fs[a]->seq != fs[b]->seq)
        return fs[a]->seq < fs[b]->seq;
    return a < b;
}

/* The heap sort's step: move v[i] down below its larger children. */
static void sift_down(pf_future *const *fs, size_t *v, size_t i, size_t n)
{
    for (;;) {
        size_t c = 2 * i + 1;
        size_t t;

        if (c >= n)
            return;
        if (c + 1 < n && done_before(fs, v[c], v[c + 1]))
            c++;
        if (!done_before(fs, v[i], v[c]))
            return;
        t = v[i];
        v[i] = v[c];
        v[c] = t;
        i = c;
    }
}

/*
 * Sort indexes of complete futures into completion order: a heap sort,
 * in place and O(n log n) whatever the input.  Any thread.
 */
static void sort_by_completion(pf_future *const *fs, size_t *v, size_t n)
{
    size_t i, t;

    for (i = n / 2; i-- > 0;)
        sift_down(fs, v, i, n);
    for (i = n; i-- > 1;) {
        t = v[0];
        v[0] = v[i];
        v[i] = t;
        sift_down(fs, v, 0, i);
    }
}

/*
 * Register links[from..to) on fs[from..to), which share one executor
 * whose lock is held, or record as complete those already final (their
 * indexes go to done_idx from npre on).  Returns the new npre.  Any
 * thread, ex->mu held.
 */
static size_t register_run(pf_future *const *fs, size_t from, size_t to,
                           struct wlink *links, struct waiter *w,
                           size_t *done_idx, size_t npre)
{
    size_t i;

    for (i = from; i < to; i++) {
        pf_future *f = fs[i];

        pf__queue_init(&links[i].link);
        links[i].w = w;
        links[i].idx = i;
        if (state_final(
                atomic_load_explicit(&f->state, memory_order_relaxed))) {
            if (done_idx != NULL)
                done_idx[npre] = i;
            npre++;
        } else {
            pf__queue_insert_tail(&f->waiters, &links[i].link);
        }
    }
    return npre;
}

/*
 * Wait until need of fs[0..n) are complete or deadline_ns (< 0: none)
 * passes; returns how many are complete, with done_idx (may be NULL)
 * filled as pf_futures_wait() describes.  links has room for n.
 *
 * Futures are registered under their executor's lock, one lock per run
 * of futures sharing an executor (one in all, usually): within a run,
 * those found complete completed before any that notifies later, so
 * "complete at registration, sorted by seq" followed by "notified, in
 * order" is the exact completion order for one executor.  Across
 * executors the order of the already complete ones is by seq, which is
 * only a guess.  Any thread; not from a callback that holds a lock the
 * completer needs.
 */
static size_t wait_many(pf_future *const *fs, size_t n, size_t need,
                        int64_t deadline_ns, struct wlink *links,
                        size_t *done_idx)
{
    struct waiter w;
    pthread_condattr_t attr;
    size_t i, j, npre = 0, ndone, nlate;

    /* Enough already?  Then no lock at all. */
    for (i = 0; i < n; i++) {
        if (state_final(load_state(fs[i]))) {
            if (done_idx != NULL)
                done_idx[npre] = i;
            npre++;
        }
    }
    if (npre >= need || (deadline_ns >= 0 && pf__now_ns() >= deadline_ns)) {
        ndone = npre;
        goto out;
    }

    pthread_mutex_init(&w.mu, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w.cv, &attr);
    pthread_condattr_destroy(&attr);
    w.need = need;
    w.ndone = 0;
    w.nlate = 0;
    w.late_end = done_idx != NULL ? done_idx + n : NULL;

    npre = 0;
    for (i = 0; i < n; i = j) {
        pf_executor *ex = fs[i]->ex;

        for (j = i + 1; j < n && fs[j]->ex == ex; j++)
            ;
        pthread_mutex_lock(&ex->mu);
        npre = register_run(fs, i, j, links, &w, done_idx, npre);
        pthread_mutex_unlock(&ex->mu);
    }

    pthread_mutex_lock(&w.mu);
    w.ndone += npre;
    while (w.ndone < need) {
        if (deadline_ns < 0) {
            pthread_cond_wait(&w.cv, &w.mu);
        } else {
            struct timespec ts;

            ts.tv_sec = (time_t)(deadline_ns / 1000000000);
            ts.tv_nsec = (long)(deadline_ns % 1000000000);
            if (pthread_cond_timedwait(&w.cv, &w.mu, &ts) == ETIMEDOUT)
                break;
        }
    }
    pthread_mutex_unlock(&w.mu);

    /* Unregister what has not completed; after this nobody touches w. */
    for (i = 0; i < n; i = j) {
        pf_executor *ex = fs[i]->ex;

        for (j = i + 1; j < n && fs[j]->ex == ex; j++)
            ;
        pthread_mutex_lock(&ex->mu);
        for (; i < j; i++)
            if (links[i].link.next != &links[i].link)
                pf__queue_remove(&links[i].link);
        pthread_mutex_unlock(&ex->mu);
    }
    pthread_mutex_lock(&w.mu);
    ndone = w.ndone;
    nlate = w.nlate;
    pthread_mutex_unlock(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);

    if (done_idx != NULL && nlate > 0) {
        /* The late ones sit at the end, newest first: turn them round. */
        size_t *lo = done_idx + n - nlate, *hi = done_idx + n - 1;

        while (lo < hi) {
            size_t t = *lo;

            *lo++ = *hi;
            *hi-- = t;
        }
        memmove(done_idx + npre, done_idx + n - nlate,
                nlate * sizeof(*done_idx));
    }
out:
    if (done_idx != NULL) {
        sort_by_completion(fs, done_idx, npre);
        if (ndone < n)
            done_idx[ndone] = SIZE_MAX;
    }
    return ndone;
}

int pf_future_result(pf_future *f, int64_t timeout_ms, void **result)
{
    int st;

    if (f == NULL)
        return PF_EINVAL;
    st = load_state(f);
    if (!state_final(st)) {
        pf_executor *ex = f->ex;
        struct wlink link;
        int self;

        if (timeout_ms == 0)
            return PF_ETIMEDOUT;
        /* Waiting for itself from its own task would never end. */
        pthread_mutex_lock(&ex->mu);
        self = atomic_load_explicit(&f->state, memory_order_relaxed) ==
                   PF_FUTURE_RUNNING &&
               pthread_equal(f->runner, pthread_self());
        pthread_mutex_unlock(&ex->mu);
        if (self)
            return PF_ESTATE;
        wait_many(&f, 1, 1, deadline_after(timeout_ms), &link, NULL);
        st = load_state(f);
        if (!state_final(st))
            return PF_ETIMEDOUT;
    }
    if (st == PF_FUTURE_CANCELLED)
        return PF_ECANCELED;
    if (result != NULL)
        *result = f->result;
    return f->rc;
}

int pf_futures_wait(pf_future *const *fs, size_t n, int how, int64_t timeout_ms,
                    size_t *done_idx)
{
    struct wlink stack_links[STACK_LINKS];
    struct wlink *links = stack_links;
    size_t i, need, ndone;

    if ((fs == NULL && n > 0) || n > INT32_MAX ||
        (how != PF_WAIT_FIRST_COMPLETED && how != PF_WAIT_ALL_COMPLETED))
        return PF_EINVAL;
    for (i = 0; i < n; i++)
        if (fs[i] == NULL)
            return PF_EINVAL;
    if (n == 0)
        return 0;
    need = how == PF_WAIT_ALL_COMPLETED ? n : 1;
    if (n > STACK_LINKS) {
        links = pf__malloc(n * sizeof(*links));
        if (links == NULL)
            return PF_ENOMEM;
    }
    ndone = wait_many(fs, n, need, deadline_after(timeout_ms), links, done_idx);
    if (links != stack_links)
        pf__free(links);
    return ndone >= need ? (int)ndone : PF_ETIMEDOUT;
}

int pf_executor_map(pf_executor *ex, pf_task_fn *fn, void *const *args,
                    size_t n, void **results, int *errs, int64_t timeout_ms)
{
    pf_future **fs;
    int64_t deadline = deadline_after(timeout_ms);
    size_t i, nsub;
    int rc = 0, timed_out = 0, first = 0;

    if (ex == NULL || fn == NULL || (args == NULL && n > 0))
        return PF_EINVAL;
    if (n == 0)
        return 0;
    fs = pf__calloc(n, sizeof(*fs));
    if (fs == NULL)
        return PF_ENOMEM;
    for (nsub = 0; nsub < n; nsub++) {
        rc = pf_submit(ex, fn, args[nsub], 0, &fs[nsub]);
        if (rc < 0)
            break;
    }
    /* Wait in input order until the deadline, if any. */
    for (i = 0; rc == 0 && i < nsub; i++) {
        int64_t left = -1;

        if (deadline >= 0) {
            left = (deadline - pf__now_ns() + 999999) / 1000000;
            if (left < 0)
                left = 0;
        }
        if (pf_future_result(fs[i], left, NULL) == PF_ETIMEDOUT &&
            !pf_future_done(fs[i])) {
            timed_out = 1;
            break;
        }
    }
    /*
     * After a timeout or a refused submit, what has not started is
     * cancelled, all of it before waiting for what runs: no task of ours
     * is left running once we return, and none starts late.
     */
    if (timed_out || rc < 0)
        for (; i < nsub; i++)
            pf_future_cancel(fs[i]);
    for (i = 0; i < nsub; i++) {
        void *res = NULL;
        int r = pf_future_result(fs[i], -1, &res);

        if (results != NULL)
            results[i] = res;
        if (errs != NULL)
            errs[i] = r;
        if (r != 0 && first == 0)
            first = r;
        pf_future_release(fs[i]);
    }
    for (; i < n; i++) {
        if (results != NULL)
            results[i] = NULL;
        if (errs != NULL)
            errs[i] = rc;
    }
    pf__free(fs);
    if (rc < 0)
        return rc;
    if (timed_out)
        return PF_ETIMEDOUT;
    return first;
}
