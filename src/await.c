/*
 * await.c -- pf_await(): a coroutine (or the loop's own stack) waits for
 * a future of the executor.  This module joins the two halves and owns
 * only its per-await record; it knows the executor through the public
 * API alone (a done-callback) and the scheduler through pf__sched_wait(),
 * pf__sched_wake() and pf__sched_loop(), and it must never wake a
 * coroutine from the completing thread: the completion travels to the
 * loop thread through the loop's post queue.
 *
 * Locks: rec->mu (one per pf_await) --> loop->post_mu (loop.c, a leaf).
 * rec->mu is taken by the done-callback, which the executor runs with
 * none of its own locks held.
 */
#include <pthread.h>

#include "coro.h"

/*
 * One pf_await.  The record is the loop post itself (first member), so
 * once posted the loop owns it: run_posts() frees it after await_post
 * runs, and pf__loop_cleanup() frees it unrun when the scheduler goes
 * first.  Until posted it belongs to the done-callback, which frees it
 * if the waiter has gone (detached).  The waiting coroutine never frees
 * it and never touches it once woken or cancelled, so a completion that
 * arrives after a cancelled await finds no dead stack frame.
 *
 *   rec->mu orders "the callback posts" against "the waiter detaches":
 *   after the waiter detaches, the callback never touches the scheduler
 *   (which may be freed by then).
 */
struct await_rec {
    struct pf__post post; /* first: the loop frees the record through it */
    pthread_mutex_t mu;
    struct pf_sched *s;
    struct pf_co *co; /* the waiting coroutine; NULL on the main stack */
    int *ran;         /* the waiter's done flag: set once the post ran */
    int detached;     /* the waiter is gone: post nothing, wake nobody */
};

/*
 * The post, on the loop thread: wake the waiter unless it has left.
 * Locking rec->mu first lets the posting thread finish its unlock.
 */
static void await_post(void *arg)
{
    struct await_rec *rec = arg;
    int detached;

    pthread_mutex_lock(&rec->mu);
    detached = rec->detached;
    pthread_mutex_unlock(&rec->mu);
    pthread_mutex_destroy(&rec->mu);
    if (detached)
        return;
    *rec->ran = 1;
    if (rec->co != NULL)
        pf__sched_wake(rec->s, rec->co, 0);
}

/*
 * The done-callback, on the completing thread: post to the loop thread,
 * or free the record when the waiter has gone.  The post is queued
 * without allocating (pf__loop_post would), so it cannot fail here
 * where nobody could be told.
 */
static void await_done(pf_future *f, void *arg)
{
    struct await_rec *rec = arg;
    struct pf__loop *l;

    (void)f;
    pthread_mutex_lock(&rec->mu);
    if (rec->detached) {
        pthread_mutex_unlock(&rec->mu);
        pthread_mutex_destroy(&rec->mu);
        pf__free(rec);
        return;
    }
    l = pf__sched_loop(rec->s);
    rec->post.fn = await_post;
    rec->post.arg = rec;
    rec->post.borrowed = 0; /* the loop frees it once await_post ran */
    pf__loop_post_node(l, &rec->post);
    pthread_mutex_unlock(&rec->mu);
}

/* Leave rec to the callback or the loop.  Loop thread. */
static void await_detach(struct await_rec *rec)
{
    pthread_mutex_lock(&rec->mu);
    rec->detached = 1;
    pthread_mutex_unlock(&rec->mu);
}

/*
 * The wait's cancel hook: a cancel, a stop or a failed loop ended it
 * unserved.  Loop thread.
 */
static void await_cancel(struct pf_co *co, void *arg)
{
    (void)co;
    await_detach(arg);
}

int pf_await(pf_sched *s, pf_future *f, void **result)
{
    struct await_rec *rec;
    int rc, ran = 0;

    if (s == NULL || f == NULL)
        return PF_EINVAL;
    if (pf_future_done(f))
        return pf_future_result(f, 0, result);
    rec = pf__calloc(1, sizeof(*rec));
    if (rec == NULL)
        return PF_ENOMEM;
    if (pthread_mutex_init(&rec->mu, NULL) != 0) {
        pf__free(rec);
        return PF_ESYS;
    }
    rec->s = s;
    rec->co = pf__sched_current(s);
    rec->ran = &ran;
    /* Runs at once if f completed meanwhile: then it posts right away. */
    rc = pf_future_add_done_callback(f, await_done, rec);
    if (rc < 0) {
        pthread_mutex_destroy(&rec->mu);
        pf__free(rec);
        return rc;
    }
    /*
     * Woken or on the main stack, the post has run and freed rec; cut
     * short, the hook has detached it, and the callback or the loop frees
     * it.  Either way rec is not ours any more.
     */
    rc = pf__sched_wait(s, &ran, await_cancel, rec);
    if (rc < 0)
        return rc;
    return pf_future_result(f, 0, result);
}
