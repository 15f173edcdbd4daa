/*
 * fetch.c -- libcurl's multi-socket interface on the scheduler's loop.
 * This module owns the CURLM handle and the per-socket records; it is the
 * only place that calls curl_multi_socket_action, always from the loop's
 * own stack (an epoll or timer callback), never from a coroutine and
 * never from inside a curl callback.  No polling: curl tells us which
 * sockets to watch (CURLMOPT_SOCKETFUNCTION) and when it next needs a
 * timeout (CURLMOPT_TIMERFUNCTION), and each event costs one
 * curl_multi_socket_action plus draining curl_multi_info_read.
 *
 * pf_fetch() keeps its transfer record on the calling coroutine's stack,
 * points CURLOPT_PRIVATE at it, adds the easy handle and suspends; the
 * completion message wakes it.  Nothing is allocated per transfer.
 */
#include "coro.h"

#include <sys/epoll.h>

struct sockrec {
    struct pf__io io;
    struct pf_sched *s;
    int dead; /* released; events still queued in this batch are void */
};

static void check_multi_info(struct pf_sched *s)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
        CURL *easy;
        CURLcode result;
        struct pf__xfer *x = NULL;

        if (msg->msg != CURLMSG_DONE)
            continue;
        /* msg dies with curl_multi_remove_handle: copy what we need. */
        easy = msg->easy_handle;
        result = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
        curl_multi_remove_handle(s->multi, easy);
        if (x == NULL)
            continue;
        pf__queue_remove(&x->link);
        x->result = result;
        x->done = 1;
        if (x->co != NULL)
            pf__sched_wake(s, x->co, 0);
    }
}

static void on_socket(struct pf__loop *l, struct pf__io *w, uint32_t ev)
{
    struct sockrec *rec = pf__container_of(w, struct sockrec, io);
    struct pf_sched *s = rec->s;
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
    curl_multi_socket_action(s->multi, w->fd, flags, &s->running);
    check_multi_info(s);
}

static void on_timer(struct pf__loop *l, struct pf__timer *t)
{
    struct pf_sched *s = t->data;

    (void)l;
    curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &s->running);
    check_multi_info(s);
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
                     void *socketp)
{
    struct pf_sched *s = userp;
    struct sockrec *rec = socketp;
    uint32_t events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (rec != NULL) {
            pf__io_set(&s->loop, &rec->io, 0);
            rec->dead = 1;
            curl_multi_assign(s->multi, fd, NULL);
            if (pf__loop_defer_free(&s->loop, rec) < 0)
                pf__free(rec); /* only on OOM; no event can be queued */
        }
        return 0;
    }
    if (rec == NULL) {
        rec = pf__calloc(1, sizeof(*rec));
        if (rec == NULL)
            return -1;
        rec->s = s;
        pf__io_init(&rec->io, fd, on_socket, rec);
        curl_multi_assign(s->multi, fd, rec);
    }
    if (what & CURL_POLL_IN)
        events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        events |= EPOLLOUT;
    return pf__io_set(&s->loop, &rec->io, events) < 0 ? -1 : 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    struct pf_sched *s = userp;

    (void)multi;
    if (timeout_ms < 0) {
        pf__timer_stop(&s->loop, &s->curl_timer);
        return 0;
    }
    /* 0 means "soon": the timer fires at the next poll, not in here. */
    return pf__timer_start(&s->loop, &s->curl_timer,
                           pf__now_ns() + (int64_t)timeout_ms * 1000000) < 0
               ? -1
               : 0;
}

int pf__fetch_init(struct pf_sched *s)
{
    s->multi = curl_multi_init();
    if (s->multi == NULL)
        return PF_ECURL;
    pf__timer_init(&s->curl_timer, on_timer, s);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    return 0;
}

void pf__fetch_cleanup(struct pf_sched *s)
{
    if (s->multi == NULL)
        return;
    while (!pf__queue_empty(&s->xfers)) {
        struct pf__xfer *x =
            pf__container_of(pf__queue_head(&s->xfers), struct pf__xfer, link);

        curl_multi_remove_handle(s->multi, x->easy);
        pf__queue_remove(&x->link);
    }
    curl_multi_cleanup(s->multi);
    s->multi = NULL;
    pf__timer_stop(&s->loop, &s->curl_timer);
}

static void xfer_cancel(struct pf_co *co, void *arg)
{
    struct pf__xfer *x = arg;

    (void)co;
    curl_multi_remove_handle(x->s->multi, x->easy);
    pf__queue_remove(&x->link);
    x->result = CURLE_ABORTED_BY_CALLBACK;
    x->done = 1;
}

int pf_fetch(pf_sched *s, CURL *easy, CURLcode *result)
{
    struct pf__xfer x;
    int rc;

    if (s == NULL || easy == NULL || result == NULL)
        return PF_EINVAL;
    x.s = s;
    x.easy = easy;
    x.co = pf__sched_current(s);
    x.result = CURLE_OK;
    x.done = 0;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)&x);
    if (curl_multi_add_handle(s->multi, easy) != CURLM_OK)
        return PF_ECURL;
    pf__queue_insert_tail(&s->xfers, &x.link);
    rc = pf__sched_wait(s, &x.done, xfer_cancel, &x);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (void *)NULL);
    if (rc < 0)
        return rc;
    *result = x.result;
    return 0;
}
