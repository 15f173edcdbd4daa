/*
 * loop.c -- epoll, a timer heap and an eventfd.  This module owns the
 * epoll and eventfd descriptors and the timer heap; it knows nothing of
 * curl or coroutines and never allocates on the I/O path (the heap grows
 * only when more timers are armed at once than ever before).
 *
 * Timers are kept in a binary min-heap, so arming and disarming cost
 * O(log n) and finding the next deadline O(1): the loop never scans.
 * epoll_wait takes milliseconds; the wait is rounded up so a timer never
 * fires early and the loop never spins on a sub-millisecond remainder.
 */
#include "loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_EVENTS 256

static void on_wakeup(struct pf__loop *l, struct pf__io *w, uint32_t ev)
{
    uint64_t v;
    ssize_t n;

    (void)ev;
    do
        n = read(w->fd, &v, sizeof(v));
    while (n < 0 && errno == EINTR);
    (void)l;
}

int pf__loop_init(struct pf__loop *l)
{
    memset(l, 0, sizeof(*l));
    l->evfd = -1;
    pf__queue_init(&l->posts);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        return PF_ESYS;
    l->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (l->evfd < 0)
        goto fail;
    if (pthread_mutex_init(&l->post_mu, NULL) != 0)
        goto fail;
    pf__io_init(&l->evw, l->evfd, on_wakeup, NULL);
    if (pf__io_set(l, &l->evw, EPOLLIN) < 0) {
        pthread_mutex_destroy(&l->post_mu);
        goto fail;
    }
    l->now_ns = pf__now_ns();
    return 0;
fail:
    if (l->evfd >= 0)
        close(l->evfd);
    close(l->epfd);
    l->epfd = -1;
    l->evfd = -1;
    return PF_ESYS;
}

static void run_deferred(struct pf__loop *l)
{
    size_t i;

    for (i = 0; i < l->ndeferred; i++)
        pf__free(l->deferred[i]);
    l->ndeferred = 0;
}

int pf__loop_defer_free(struct pf__loop *l, void *p)
{
    if (l->ndeferred == l->capdeferred) {
        size_t cap = l->capdeferred ? l->capdeferred * 2 : 16;
        void **d = pf__realloc(l->deferred, cap * sizeof(*d));

        if (d == NULL)
            return PF_ENOMEM;
        l->deferred = d;
        l->capdeferred = cap;
    }
    l->deferred[l->ndeferred++] = p;
    return 0;
}

void pf__loop_cleanup(struct pf__loop *l)
{
    if (l->epfd < 0)
        return;
    while (!pf__queue_empty(&l->posts)) {
        struct pf__queue *q = pf__queue_head(&l->posts);

        struct pf__post *p = pf__container_of(q, struct pf__post, link);

        pf__queue_remove(q);
        if (!p->borrowed)
            pf__free(p);
    }
    pthread_mutex_destroy(&l->post_mu);
    close(l->evfd);
    close(l->epfd);
    run_deferred(l);
    pf__free(l->deferred);
    pf__free(l->heap);
    l->heap = NULL;
    l->epfd = -1;
    l->evfd = -1;
}

int pf__io_set(struct pf__loop *l, struct pf__io *w, uint32_t events)
{
    struct epoll_event ev;
    int op;

    if (events == w->events)
        return 0;
    memset(&ev, 0, sizeof(ev));
    ev.events = events;
    ev.data.ptr = w;
    if (events == 0)
        op = EPOLL_CTL_DEL;
    else if (w->events == 0)
        op = EPOLL_CTL_ADD;
    else
        op = EPOLL_CTL_MOD;
    if (epoll_ctl(l->epfd, op, w->fd, &ev) < 0) {
        /* A descriptor closed behind our back is already gone. */
        if (op == EPOLL_CTL_DEL) {
            w->events = 0;
            return 0;
        }
        return PF_ESYS;
    }
    w->events = events;
    return 0;
}

/* The heap. */

static void heap_swap(struct pf__loop *l, size_t a, size_t b)
{
    struct pf__timer *t = l->heap[a];

    l->heap[a] = l->heap[b];
    l->heap[b] = t;
    l->heap[a]->heap_index = a;
    l->heap[b]->heap_index = b;
}

static void heap_up(struct pf__loop *l, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;

        if (l->heap[p]->deadline_ns <= l->heap[i]->deadline_ns)
            break;
        heap_swap(l, i, p);
        i = p;
    }
}

static void heap_down(struct pf__loop *l, size_t i)
{
    for (;;) {
        size_t c = 2 * i + 1;

        if (c >= l->nheap)
            break;
        if (c + 1 < l->nheap &&
            l->heap[c + 1]->deadline_ns < l->heap[c]->deadline_ns)
            c++;
        if (l->heap[i]->deadline_ns <= l->heap[c]->deadline_ns)
            break;
        heap_swap(l, i, c);
        i = c;
    }
}

int pf__timer_start(struct pf__loop *l, struct pf__timer *t,
                    int64_t deadline_ns)
{
    if (pf__timer_active(t)) {
        int64_t old = t->deadline_ns;

        t->deadline_ns = deadline_ns;
        if (deadline_ns < old)
            heap_up(l, t->heap_index);
        else
            heap_down(l, t->heap_index);
        return 0;
    }
    if (l->nheap == l->capheap) {
        size_t cap = l->capheap ? l->capheap * 2 : 64;
        struct pf__timer **h = pf__realloc(l->heap, cap * sizeof(*h));

        if (h == NULL)
            return PF_ENOMEM;
        l->heap = h;
        l->capheap = cap;
    }
    t->deadline_ns = deadline_ns;
    t->heap_index = l->nheap;
    l->heap[l->nheap++] = t;
    heap_up(l, t->heap_index);
    return 0;
}

void pf__timer_stop(struct pf__loop *l, struct pf__timer *t)
{
    size_t i = t->heap_index;

    if (i == SIZE_MAX)
        return;
    t->heap_index = SIZE_MAX;
    l->nheap--;
    if (i == l->nheap)
        return;
    l->heap[i] = l->heap[l->nheap];
    l->heap[i]->heap_index = i;
    heap_up(l, i);
    heap_down(l, l->heap[i]->heap_index);
}

static void run_timers(struct pf__loop *l)
{
    /*
     * Only timers due at this instant run; a callback that re-arms its
     * timer for "now" runs at the next poll, so timers cannot starve I/O.
     */
    int64_t now = l->now_ns;

    while (l->nheap > 0 && l->heap[0]->deadline_ns <= now) {
        struct pf__timer *t = l->heap[0];

        pf__timer_stop(l, t);
        t->cb(l, t);
    }
}

static void run_posts(struct pf__loop *l)
{
    struct pf__queue due;

    pthread_mutex_lock(&l->post_mu);
    if (pf__queue_empty(&l->posts)) {
        pthread_mutex_unlock(&l->post_mu);
        return;
    }
    /* Swap the whole list out under the lock, run it unlocked. */
    pf__queue_move(&l->posts, &due);
    pthread_mutex_unlock(&l->post_mu);
    while (!pf__queue_empty(&due)) {
        struct pf__queue *q = pf__queue_head(&due);
        struct pf__post *p = pf__container_of(q, struct pf__post, link);

        pf__queue_remove(q);
        if (p->borrowed) {
            p->fn(p->arg); /* may free p: it is the poster's */
        } else {
            p->fn(p->arg);
            pf__free(p);
        }
    }
}

int pf__loop_poll(struct pf__loop *l, int block)
{
    struct epoll_event evs[MAX_EVENTS];
    int timeout = 0;
    int n, i;

    if (block) {
        if (l->nheap == 0) {
            timeout = -1;
        } else {
            int64_t wait = l->heap[0]->deadline_ns - pf__now_ns();

            if (wait <= 0)
                timeout = 0;
            else if (wait > (int64_t)1000 * 1000000)
                timeout = 1000;
            else
                timeout = (int)((wait + 999999) / 1000000);
        }
    }
    n = epoll_wait(l->epfd, evs, MAX_EVENTS, timeout);
    if (n < 0) {
        if (errno != EINTR)
            return PF_ESYS;
        n = 0;
    }
    l->now_ns = pf__now_ns();
    for (i = 0; i < n; i++) {
        struct pf__io *w = evs[i].data.ptr;

        w->cb(l, w, evs[i].events);
    }
    run_deferred(l);
    run_timers(l);
    run_deferred(l);
    run_posts(l);
    run_deferred(l);
    return 0;
}

void pf__loop_wakeup(struct pf__loop *l)
{
    uint64_t one = 1;
    ssize_t r;

    /* EAGAIN means the counter is already non-zero: awake anyway. */
    r = write(l->evfd, &one, sizeof(one));
    (void)r;
}

/*
 * Only the post that makes the list non-empty writes the eventfd: the
 * loop swaps the whole list out under the lock, so a later post finds it
 * empty again and wakes the loop itself.  Under a stream of posts (parsed
 * pages coming back) that saves a system call per post.
 */
static void post(struct pf__loop *l, struct pf__post *p)
{
    int was_empty;

    pthread_mutex_lock(&l->post_mu);
    was_empty = pf__queue_empty(&l->posts);
    pf__queue_insert_tail(&l->posts, &p->link);
    pthread_mutex_unlock(&l->post_mu);
    if (was_empty)
        pf__loop_wakeup(l);
}

int pf__loop_post(struct pf__loop *l, pf_post_fn *fn, void *arg)
{
    struct pf__post *p = pf__malloc(sizeof(*p));

    if (p == NULL)
        return PF_ENOMEM;
    p->fn = fn;
    p->arg = arg;
    p->borrowed = 0;
    post(l, p);
    return 0;
}

void pf__loop_post_node(struct pf__loop *l, struct pf__post *p)
{
    post(l, p);
}
