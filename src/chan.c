/*
 * chan.c -- a bounded FIFO of pointers between the coroutines of one
 * scheduler, gevent's Queue(maxsize).  This module owns the ring of items
 * and two queues of waiters (putters, getters); it never blocks but in
 * pf__sched_wait() (which, outside coroutines, steps the scheduler), it
 * never touches the scheduler's state but through coro.h's functions,
 * and it never allocates after pf_chan_new().
 *
 * Waiters are records on the waiting stack, linked in arrival order.
 * An item moves straight from the party that can proceed to the first
 * waiter, which is woken already served (a getter holding its item, a
 * putter whose item is in the ring): nobody arriving later can overtake
 * it, so waiters are served strictly in order, and the ring holds items
 * only while no getter waits and has room while no putter waits.
 *
 *   put:  getter waiting? hand over : room? push : wait in putters
 *   get:  item? pop, then move the first putter's item in : closed?
 *         PF_ESTATE : wait in getters
 *
 * A waiter leaves its queue when it is served, when the channel closes,
 * or from its cancel hook (pf__sched_cancel_all): no record outlives the
 * call that linked it.  Loop thread only.
 */
#include "coro.h"

struct chan_waiter {
    struct pf__queue link; /* in ch->putters or ch->getters */
    struct pf_co *co;      /* NULL when waiting on the main stack */
    void *item;            /* put: the item; get: the item received */
    int done;              /* served or refused */
    int value;             /* what the call returns once done */
};

struct pf_chan {
    struct pf_sched *s;
    void **ring;
    size_t cap;  /* capacity, >= 1 */
    size_t head; /* index of the oldest item */
    size_t len;  /* items in the ring */
    int closed;
    struct pf__queue putters; /* full: waiting to put, oldest first */
    struct pf__queue getters; /* empty: waiting to get, oldest first */
};

int pf_chan_new(pf_chan **out, pf_sched *s, size_t capacity)
{
    struct pf_chan *ch;

    if (out == NULL || s == NULL || capacity < 1)
        return PF_EINVAL;
    ch = pf__calloc(1, sizeof(*ch));
    if (ch == NULL)
        return PF_ENOMEM;
    ch->ring = pf__calloc(capacity, sizeof(void *));
    if (ch->ring == NULL) {
        pf__free(ch);
        return PF_ENOMEM;
    }
    ch->s = s;
    ch->cap = capacity;
    pf__queue_init(&ch->putters);
    pf__queue_init(&ch->getters);
    *out = ch;
    return 0;
}

void pf_chan_free(pf_chan *ch)
{
    if (ch == NULL)
        return;
    /* Waiters are not touched: their stacks may be gone already. */
    pf__free(ch->ring);
    pf__free(ch);
}

size_t pf_chan_len(const pf_chan *ch)
{
    return ch == NULL ? 0 : ch->len;
}

static void ring_push(struct pf_chan *ch, void *item)
{
    ch->ring[(ch->head + ch->len) % ch->cap] = item;
    ch->len++;
}

static void *ring_pop(struct pf_chan *ch)
{
    void *item = ch->ring[ch->head];

    ch->ring[ch->head] = NULL;
    ch->head = (ch->head + 1) % ch->cap;
    ch->len--;
    return item;
}

/* Unlink the first waiter of q and let it return value. */
static struct chan_waiter *waiter_pop(struct pf__queue *q)
{
    struct chan_waiter *w =
        pf__container_of(pf__queue_head(q), struct chan_waiter, link);

    pf__queue_remove(&w->link);
    return w;
}

static void waiter_wake(struct pf_chan *ch, struct chan_waiter *w, int value)
{
    w->done = 1;
    w->value = value;
    if (w->co != NULL)
        pf__sched_wake(ch->s, w->co, value);
}

/* The cancel hook of a waiting coroutine: leave the queue. */
static void waiter_cancel(struct pf_co *co, void *arg)
{
    struct chan_waiter *w = arg;

    (void)co;
    pf__queue_remove(&w->link);
}

/*
 * Wait in q until served, refused (channel closed) or cancelled; the
 * caller has filled w->item for a put.  Returns 0, PF_ESTATE, PF_ECANCELED
 * or PF_ESYS (the loop failed).  Served, refused or cancelled, the record
 * is unlinked by the time the wait returns.
 */
static int wait_in(struct pf_chan *ch, struct pf__queue *q,
                   struct chan_waiter *w)
{
    int rc;

    w->co = pf__sched_current(ch->s);
    w->done = 0;
    w->value = 0;
    pf__queue_insert_tail(q, &w->link);
    rc = pf__sched_wait(ch->s, &w->done, waiter_cancel, w);
    return rc < 0 ? rc : w->value;
}

int pf_chan_put(pf_chan *ch, void *item)
{
    struct chan_waiter w;

    if (ch == NULL)
        return PF_EINVAL;
    if (ch->closed)
        return PF_ESTATE;
    if (!pf__queue_empty(&ch->getters)) {
        struct chan_waiter *g = waiter_pop(&ch->getters);

        g->item = item;
        waiter_wake(ch, g, 0);
        return 0;
    }
    if (ch->len < ch->cap) {
        ring_push(ch, item);
        return 0;
    }
    w.item = item;
    return wait_in(ch, &ch->putters, &w);
}

int pf_chan_get(pf_chan *ch, void **item)
{
    struct chan_waiter w;
    int rc;

    if (ch == NULL || item == NULL)
        return PF_EINVAL;
    if (ch->len > 0) {
        *item = ring_pop(ch);
        if (!pf__queue_empty(&ch->putters)) {
            struct chan_waiter *p = waiter_pop(&ch->putters);

            ring_push(ch, p->item);
            waiter_wake(ch, p, 0);
        }
        return 0;
    }
    if (ch->closed)
        return PF_ESTATE;
    w.item = NULL;
    rc = wait_in(ch, &ch->getters, &w);
    if (rc == 0)
        *item = w.item;
    return rc;
}

void pf_chan_close(pf_chan *ch)
{
    if (ch == NULL || ch->closed)
        return;
    ch->closed = 1;
    /* Putters take their items back; getters wait only on an empty ring. */
    while (!pf__queue_empty(&ch->putters))
        waiter_wake(ch, waiter_pop(&ch->putters), PF_ESTATE);
    while (!pf__queue_empty(&ch->getters))
        waiter_wake(ch, waiter_pop(&ch->getters), PF_ESTATE);
}
