/*
 * fetch.c -- libcurl's multi-socket interface on the scheduler's loop.
 * This module owns a scheduler's libcurl state (the CURLM, curl's timer,
 * the running count, the transfers in flight), hung on the scheduler
 * with pf__sched_set_ext() at first use and freed by its finaliser, and
 * the per-socket records.  It is the only place that calls
 * curl_multi_socket_action, always from the loop's own stack (an epoll
 * or timer callback), never from a coroutine and never from inside a
 * curl callback; it never reads the scheduler's fields, only its
 * accessors, pf__sched_wait() and pf__sched_wake().  No polling: curl
 * tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when it
 * next needs a timeout (CURLMOPT_TIMERFUNCTION), and each event costs
 * one curl_multi_socket_action plus draining curl_multi_info_read.
 *
 * pf_fetch() keeps its transfer record on the waiter's stack, points
 * CURLOPT_PRIVATE at it, adds the easy handle and waits; the completion
 * message wakes it.  Nothing is allocated per transfer.
 */
#include "fetch.h"

#include <sys/epoll.h>

#include "coro.h"

/* The scheduler's libcurl state, hung on it with pf__sched_set_ext. */
struct fetch {
    struct pf__loop *loop; /* the scheduler's */
    CURLM *multi;
    struct pf__timer timer; /* curl's timeout (CURLMOPT_TIMERFUNCTION) */
    int running;            /* transfers curl reports as running */
    struct pf__queue xfers; /* transfers in flight (xfer.link) */
};

/* A transfer in flight; lives on the waiter's stack. */
struct xfer {
    struct pf__queue link; /* in f->xfers */
    struct fetch *f;
    struct pf_sched *s;
    CURL *easy;
    struct pf_co *co; /* NULL when waited on from the main stack */
    CURLcode result;
    int done;
};

struct sockrec {
    struct pf__io io;
    struct fetch *f;
    int dead; /* released; events still queued in this batch are void */
};

static void check_multi_info(struct fetch *f)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
        CURL *easy;
        CURLcode result;
        struct xfer *x = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg dies with curl_multi_remove_handle: copy what we need. */
        easy = msg->easy_handle;
        result = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(f->multi, easy);
        if (x == NULL)
            continue;
        pf__queue_remove(&x->link);
        x->result = result;
        x->done = 1;
        if (x->co != NULL)
            pf__sched_wake(x->s, x->co, 0);
    }
}

static void on_socket(struct pf__loop *l, struct pf__io *w, uint32_t ev)
{
    struct sockrec *rec = pf__container_of(w, struct sockrec, io);
    struct fetch *f = rec->f;
    int flags = 0;

    (void)l;
    if (rec->dead)
        return;
    if (ev & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
        flags |= CURL_CSELECT_IN;
    if (ev & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (ev & EPOLLERR)
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(f->multi, w->fd, flags, &f->running);
    check_multi_info(f);
}

static void on_timer(struct pf__loop *l, struct pf__timer *t)
{
    struct fetch *f = t->data;

    (void)l;
    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &f->running);
    check_multi_info(f);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
                     void *socketp)
{
    struct fetch *f = userp;
    struct sockrec *rec = socketp;
    uint32_t events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (rec != NULL) {
            pf__io_set(f->loop, &rec->io, 0);
            rec->dead = 1;
            curl_multi_assign(f->multi, fd, NULL);
            if (pf__loop_defer_free(f->loop, rec) < 0)
                pf__free(rec); /* only on OOM; no event can be queued */
        }
        return 0;
    }
    if (rec == NULL) {
        rec = pf__calloc(1, sizeof(*rec));
        if (rec == NULL)
            return -1;
        rec->f = f;
        pf__io_init(&rec->io, fd, on_socket, rec);
        curl_multi_assign(f->multi, fd, rec);
    }
    if (what & CURL_POLL_IN)
        events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        events |= EPOLLOUT;
    return pf__io_set(f->loop, &rec->io, events) < 0 ? -1 : 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct fetch *f = userp;

    (void)multi;
    if (timeout_ms < 0) {
        pf__timer_stop(f->loop, &f->timer);
        return 0;
    }
    /* 0 means "soon": the timer fires at the next poll, not in here. */
    return pf__timer_start(f->loop, &f->timer,
                           pf__now_ns() + (int64_t)timeout_ms * 1000000) < 0
               ? -1
               : 0;
}

/*
 * The scheduler's finaliser for our state.  It runs after every wait was
 * withdrawn, so a transfer still listed was started from the main stack
 * and abandoned; the loop is still there for the timer and the sockets
 * curl_multi_cleanup releases.
 */
static void fetch_free(void *state)
{
    struct fetch *f = state;

    while (!pf__queue_empty(&f->xfers)) {
        struct xfer *x =
            pf__container_of(pf__queue_head(&f->xfers), struct xfer, link);

        curl_multi_remove_handle(f->multi, x->easy);
        pf__queue_remove(&x->link);
    }
    curl_multi_cleanup(f->multi);
    pf__timer_stop(f->loop, &f->timer);
    pf__free(f);
}

/* s's libcurl state, made at the first call.  Loop thread. */
static int fetch_get(struct pf_sched *s, struct fetch **out)
{
    struct fetch *f = pf__sched_ext(s);

    if (f == NULL) {
        f = pf__calloc(1, sizeof(*f));
        if (f == NULL)
            return PF_ENOMEM;
        f->multi = curl_multi_init();
        if (f->multi == NULL) {
            pf__free(f);
            return PF_ECURL;
        }
        f->loop = pf__sched_loop(s);
        pf__queue_init(&f->xfers);
        pf__timer_init(&f->timer, on_timer, f);
        curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
        curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
        curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
        curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
        pf__sched_set_ext(s, f, fetch_free);
    }
    *out = f;
    return 0;
}

int pf__fetch_set_maxconnects(pf_sched *s, long n)
{
    struct fetch *f;
    int rc = fetch_get(s, &f);

    if (rc < 0)
        return rc;
    curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, n);
    return 0;
}

int pf__fetch_set_multiplex(pf_sched *s, int on)
{
    struct fetch *f;
    int rc = fetch_get(s, &f);

    if (rc < 0)
        return rc;
    curl_multi_setopt(f->multi, CURLMOPT_PIPELINING,
                      on ? (long)CURLPIPE_MULTIPLEX : (long)CURLPIPE_NOTHING);
    return 0;
}

static void xfer_cancel(struct pf_co *co, void *arg)
{
    struct xfer *x = arg;

    (void)co;
    curl_multi_remove_handle(x->f->multi, x->easy);
    pf__queue_remove(&x->link);
    x->result = CURLE_ABORTED_BY_CALLBACK;
    x->done = 1;
}

int pf_fetch(pf_sched *s, CURL *easy, CURLcode *result)
{
    struct fetch *f;
    struct xfer x;
    int rc;

    if (s == NULL || easy == NULL || result == NULL)
        return PF_EINVAL;
    rc = fetch_get(s, &f);
    if (rc < 0)
        return rc;
    x.f = f;
    x.s = s;
    x.easy = easy;
    x.co = pf__sched_current(s);
    x.result = CURLE_OK;
    x.done = 0;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)&x);
    if (curl_multi_add_handle(f->multi, easy) != CURLM_OK)
        return PF_ECURL;
    pf__queue_insert_tail(&f->xfers, &x.link);
    rc = pf__sched_wait(s, &x.done, xfer_cancel, &x);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)NULL);
    if (rc < 0)
        return rc;
    *result = x.result;
    return 0;
}
