/*
 * loop.h -- the event loop: epoll for file descriptors, a binary heap of
 * one-shot timers (the earliest bounds epoll_wait), and an eventfd that
 * other threads (and signal handlers) write to wake the loop and hand it
 * posted callbacks.  Everything but pf__loop_wakeup() and pf__loop_post()
 * is loop thread only.
 */
#ifndef PF_LOOP_H
#define PF_LOOP_H

#include <pthread.h>
#include <stdint.h>

#include "util.h"

struct pf__loop;
struct pf__io;
struct pf__timer;

/* events: EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP bits as epoll reports them. */
typedef void pf__io_fn(struct pf__loop *l, struct pf__io *w, uint32_t events);
typedef void pf__timer_fn(struct pf__loop *l, struct pf__timer *t);

struct pf__io {
    int fd;
    uint32_t events; /* currently registered, 0 = not registered */
    pf__io_fn *cb;
    void *data;
};

struct pf__timer {
    int64_t deadline_ns; /* monotonic */
    size_t heap_index;   /* SIZE_MAX when not armed */
    pf__timer_fn *cb;
    void *data;
};

struct pf__post {
    struct pf__queue link;
    pf_post_fn *fn;
    void *arg;
    int borrowed; /* the poster's memory: not freed after the call */
};

struct pf__loop {
    int epfd;
    int evfd;                /* eventfd: wakeups and posts */
    struct pf__io evw;       /* watcher of evfd */
    struct pf__timer **heap; /* min-heap on deadline_ns */
    size_t nheap;
    size_t capheap;
    pthread_mutex_t post_mu; /* guards posts; a leaf lock */
    struct pf__queue posts;
    int64_t now_ns;  /* cached at each poll */
    void **deferred; /* freed once the current poll is over */
    size_t ndeferred;
    size_t capdeferred;
};

int pf__loop_init(struct pf__loop *l);
void pf__loop_cleanup(struct pf__loop *l);

static inline void pf__io_init(struct pf__io *w, int fd, pf__io_fn *cb,
                               void *data)
{
    w->fd = fd;
    w->events = 0;
    w->cb = cb;
    w->data = data;
}

/* Watch w->fd for events (EPOLLIN|EPOLLOUT); 0 stops watching. */
int pf__io_set(struct pf__loop *l, struct pf__io *w, uint32_t events);

static inline void pf__timer_init(struct pf__timer *t, pf__timer_fn *cb,
                                  void *data)
{
    t->deadline_ns = 0;
    t->heap_index = SIZE_MAX;
    t->cb = cb;
    t->data = data;
}

/* Arm (or re-arm) t to fire once at deadline_ns; PF_ENOMEM. */
int pf__timer_start(struct pf__loop *l, struct pf__timer *t,
                    int64_t deadline_ns);
void pf__timer_stop(struct pf__loop *l, struct pf__timer *t);

static inline int pf__timer_active(const struct pf__timer *t)
{
    return t->heap_index != SIZE_MAX;
}

/* The clock as the last poll read it: what "now" is for this dispatch. */
static inline int64_t pf__loop_now_ns(const struct pf__loop *l)
{
    return l->now_ns;
}

/* The epoll descriptor: readable when a poll would find work. */
static inline int pf__loop_fd(const struct pf__loop *l)
{
    return l->epfd;
}

/* The earliest armed timer's deadline (monotonic ns); -1 when none is. */
static inline int64_t pf__loop_next_deadline_ns(const struct pf__loop *l)
{
    return l->nheap > 0 ? l->heap[0]->deadline_ns : -1;
}

/*
 * One iteration: wait for I/O (at most until the earliest timer, not at
 * all unless block), dispatch I/O callbacks, expired timers and posted
 * callbacks.  Returns PF_ESYS if epoll_wait fails for a reason other than
 * EINTR.
 */
int pf__loop_poll(struct pf__loop *l, int block);

/*
 * Free p (with pf__free) once the current dispatch is over: for records
 * an I/O callback releases while later events of the same epoll batch may
 * still point at them.  The owner must mark p dead so its callback
 * ignores those events.  PF_ENOMEM when it cannot be queued; p then
 * stays the caller's.
 */
int pf__loop_defer_free(struct pf__loop *l, void *p);

/* Any thread, async-signal-safe: make a blocked poll return. */
void pf__loop_wakeup(struct pf__loop *l);

/* Any thread: run fn(arg) on the loop thread at its next poll. */
int pf__loop_post(struct pf__loop *l, pf_post_fn *fn, void *arg);

/*
 * Any thread: the same with a record the caller provides, fn, arg and
 * borrowed set, so that a post that must not be lost cannot fail.  With
 * borrowed the record stays the caller's (valid until fn runs; fn may
 * free it); without, it must come from pf__malloc and the loop frees it
 * after fn, or at cleanup if fn never ran.
 */
void pf__loop_post_node(struct pf__loop *l, struct pf__post *p);

#endif /* PF_LOOP_H */
