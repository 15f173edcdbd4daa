/*
 * coro.h -- internal interface of the coroutine scheduler, for the
 * modules built on it (chan.c, fetch.c, await.c, crawler.c).  struct
 * pf_sched is private to coro.c: they use the functions below.  struct
 * pf_co is shown for its cancel hook and for tests that check a state.
 * Loop thread only, except pf_sched_stop(), pf_sched_post() and
 * pf__sched_loop().
 *
 * A coroutine is always in exactly one state:
 *
 *   READY ---resume---> RUNNING ---pf__sched_wait---> WAITING
 *     ^                   |                              |
 *     +---pf__sched_wake--+---------(cancel hook)--------+
 *                         |
 *                         +---fn returns---> DONE
 *
 * Every wait (join, sleep, channel, fetch, await, the crawler's slots) is
 * one pf__sched_wait(): in a coroutine it suspends as drawn; on the
 * loop's own stack, where nothing can suspend, it steps the loop until
 * the waker sets the caller's done flag.  Either way the wait's cancel
 * hook withdraws it from what it waits on when it ends early.
 *
 * Coroutines switch only to the scheduler (the loop's own stack) and the
 * scheduler picks the next one: two switches per resume, but every curl
 * callback and every epoll dispatch then runs on the big main stack.
 */
#ifndef PF_CORO_H
#define PF_CORO_H

#include <signal.h>
#include <ucontext.h>

#include "loop.h"

enum pf__co_state { CO_READY, CO_RUNNING, CO_WAITING, CO_DONE };

/*
 * A wait's cancel hook: withdraw the wait from what it waits on (unlink
 * a record, stop a timer, remove a transfer), so that nothing points at
 * the waiter's stack any more.  co is the waiting coroutine, NULL on the
 * loop's own stack.  Called at most once per wait, never after a wake.
 */
typedef void pf__cancel_fn(struct pf_co *co, void *arg);

struct pf_co {
    void *sp;  /* saved stack pointer while switched out */
    char *map; /* mmap'd region: guard page + stack */
    size_t map_size;
    pf_co_fn *fn;
    void *arg;
    struct pf_sched *s;
    struct pf__queue ready; /* link in s->ready */
    struct pf__queue all;   /* link in s->all */
    enum pf__co_state state;
    int detached;
    int wake_value;        /* what pf__sched_wait returns */
    struct pf_co *joiner;  /* coroutine blocked in pf_join on us */
    int finished;          /* set with DONE: a main-stack join's flag */
    pf__cancel_fn *cancel; /* set while waiting on something */
    void *cancel_arg;
    unsigned valgrind_id;
#if !defined(__x86_64__)
    ucontext_t uc;
#endif
    void *tsan_fiber;
};

/*
 * Wait until woken, the one way to block.  The caller first links its
 * wait record where the waker will find it (recording
 * pf__sched_current(s) there), then calls this; cancel(co, arg), if not
 * NULL, withdraws that record whenever the wait ends without being
 * served.
 *
 * In a coroutine: suspend until pf__sched_wake() and return its value,
 * or PF_ECANCELED through the hook when pf__sched_cancel_all() runs.  On
 * the loop's own stack: step the loop until the waker sets *done, then
 * return 0; PF_ECANCELED when pf_sched_stop() is called or the scheduler
 * is canceling, a step's error when the loop fails (the hook has run in
 * both cases; a wait served meanwhile returns 0).  done may be NULL in a
 * coroutine only (PF_EINVAL on the loop's stack).  A wait started while
 * canceling fails at once with PF_ECANCELED, its hook run.  Loop thread.
 */
int pf__sched_wait(struct pf_sched *s, const int *done, pf__cancel_fn *cancel,
                   void *arg);

/* Make a WAITING coroutine READY; value is what its wait returns. */
void pf__sched_wake(struct pf_sched *s, struct pf_co *co, int value);

/*
 * Poll the loop (blocking only when block and nothing is ready), then run
 * the coroutines that are ready.  Returns PF_ESYS on a loop failure.
 */
int pf__sched_step(struct pf_sched *s, int block);

/*
 * Cancel every waiting coroutine (their waits return PF_ECANCELED) and
 * make every later wait fail at once.  Used when a run is stopped.
 */
void pf__sched_cancel_all(struct pf_sched *s);

/*
 * Accessors, so that code outside the scheduler (the crawler) never reads
 * its fields.  Loop thread, but pf__sched_loop(), which only computes an
 * address and so serves any thread that posts or wakes the loop.
 */
struct pf__loop *pf__sched_loop(struct pf_sched *s);
struct pf_co *pf__sched_current(const struct pf_sched *s); /* NULL: main */
size_t pf__sched_live(const struct pf_sched *s);    /* coroutines not DONE */
int pf__sched_has_ready(const struct pf_sched *s);  /* one is READY */
int64_t pf__sched_now_ns(const struct pf_sched *s); /* at the last poll */
int64_t pf__sched_next_deadline_ns(const struct pf_sched *s); /* -1: none */
int pf__sched_fd(const struct pf_sched *s); /* epoll: readable, work */

/* Frees a module's state hung on a scheduler (pf__sched_set_ext). */
typedef void pf__ext_free_fn(void *state);

/*
 * One slot where another module hangs its per-scheduler state, so that
 * the scheduler need not know it: fetch.c keeps its CURLM and transfer
 * list there, created at its first use.  pf_sched_free() calls
 * free_fn(state) after every wait is withdrawn (cancel hooks run while
 * the state still exists) and before the coroutines' stacks and the loop
 * go, so free_fn may still stop timers and watchers.  Setting the slot
 * twice is a programmer error; a second user would make it an array.
 * Loop thread.
 */
void *pf__sched_ext(const struct pf_sched *s);
void pf__sched_set_ext(struct pf_sched *s, void *state,
                       pf__ext_free_fn *free_fn);

#endif /* PF_CORO_H */
