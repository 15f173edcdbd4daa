/*
 * coro.c -- stackful coroutines on one loop thread, gevent's model.
 * This module owns the scheduler (its struct is private to this file),
 * the coroutines, their stacks, the ready queue and the one wait
 * primitive, pf__sched_wait(); it drives the event loop (loop.c) between
 * runs of ready coroutines.  It never blocks but in epoll_wait, it never
 * switches from one coroutine straight to another (every switch goes
 * through the main stack, where all epoll and curl callbacks run), and
 * it never knows what a wait waits on: libcurl, channels and futures
 * stay behind their cancel hooks and the extension slot.
 *
 * Stacks are mmap'd with one PROT_NONE guard page below them, so an
 * overflow faults on the guard instead of overwriting a neighbour.
 * Released stacks are kept in a small cache: spawning a coroutine per
 * URL then costs no system call in the steady state.  Switches are
 * annotated for AddressSanitizer and ThreadSanitizer (fibers) and stacks
 * registered with valgrind, so all three understand them.
 */
#include "coro.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PF_ASAN 1
#endif
#if __has_feature(thread_sanitizer)
#define PF_TSAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define PF_ASAN 1
#endif
#if defined(__SANITIZE_THREAD__)
#define PF_TSAN 1
#endif

#ifdef PF_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef PF_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define PF_VALGRIND 1
#endif
#endif

#define STACK_CACHE_MAX 256

/*
 * The scheduler.  Private to this file: other modules use the accessors
 * in coro.h, so its layout can change without them.
 */
struct pf_sched {
    struct pf__loop loop;
    size_t stack_size; /* usable bytes, page multiple */
    size_t page;
    struct pf__queue ready; /* READY coroutines, FIFO */
    struct pf__queue all;   /* every coroutine not yet released */
    size_t live;            /* coroutines not DONE */
    struct pf_co *current;  /* RUNNING one, NULL on the main stack */
    void *main_sp;
#if !defined(__x86_64__)
    ucontext_t main_uc;
#endif
    void *main_tsan_fiber;
    const void *main_stack_bottom; /* ASan: the loop's own stack */
    size_t main_stack_size;
    char **stack_cache; /* released mappings, reused by spawn */
    size_t ncache;
    int canceling;   /* every wait fails with PF_ECANCELED */
    atomic_int stop; /* pf_sched_stop() was called */
    void *ext;       /* another module's state on us: fetch.c's */
    pf__ext_free_fn *ext_free;
};

#if defined(__x86_64__)
void pf__ctx_switch(void **save_sp, void *load_sp);
void pf__ctx_entry(void);
#endif

/* Switching, with the sanitizers told where each stack is. */

static void switch_to_co(struct pf_sched *s, struct pf_co *co)
{
#ifdef PF_ASAN
    void *fake = NULL;

    __sanitizer_start_switch_fiber(&fake, co->map + s->page,
                                   co->map_size - s->page);
#endif
#ifdef PF_TSAN
    __tsan_switch_to_fiber(co->tsan_fiber, 0);
#endif
#if defined(__x86_64__)
    pf__ctx_switch(&s->main_sp, co->sp);
#else
    swapcontext(&s->main_uc, &co->uc);
#endif
#ifdef PF_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

static void switch_to_main(struct pf_sched *s, struct pf_co *co, int final)
{
#ifdef PF_ASAN
    void *fake = NULL;

    /* A finished coroutine's fake stack is released: pass NULL. */
    __sanitizer_start_switch_fiber(final ? NULL : &fake, s->main_stack_bottom,
                                   s->main_stack_size);
#endif
#ifdef PF_TSAN
    __tsan_switch_to_fiber(s->main_tsan_fiber, 0);
#endif
    (void) final;
#if defined(__x86_64__)
    pf__ctx_switch(&co->sp, s->main_sp);
#else
    swapcontext(&co->uc, &s->main_uc);
#endif
#ifdef PF_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
}

static void co_main(struct pf_co *co)
{
    struct pf_sched *s = co->s;

#ifdef PF_ASAN
    __sanitizer_finish_switch_fiber(NULL, &s->main_stack_bottom,
                                    &s->main_stack_size);
#endif
    co->fn(co->arg);
    co->state = CO_DONE;
    co->finished = 1;
    s->live--;
    switch_to_main(s, co, 1);
    abort(); /* A finished coroutine is never resumed. */
}

#if !defined(__x86_64__)
static void co_trampoline(unsigned hi, unsigned lo)
{
    uintptr_t p = ((uintptr_t)hi << 32) | (uintptr_t)lo;

    co_main((struct pf_co *)p);
}
#endif

/* Stacks. */

static char *stack_get(struct pf_sched *s)
{
    size_t size = s->stack_size + s->page;
    char *map;

    if (s->ncache > 0)
        return s->stack_cache[--s->ncache];
    map = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    if (mprotect(map, s->page, PROT_NONE) != 0) {
        munmap(map, size);
        return NULL;
    }
    return map;
}

static void stack_put(struct pf_sched *s, char *map)
{
#ifdef PF_ASAN
    /*
     * A coroutine abandoned in a wait (pf_sched_free) never returned from
     * its frames, so their redzones are still poisoned.  Clear them, or
     * the next coroutine on this stack, or the next mapping at this
     * address, trips on them.
     */
    __asan_unpoison_memory_region(map + s->page, s->stack_size);
#endif
    if (s->stack_cache != NULL && s->ncache < STACK_CACHE_MAX) {
        s->stack_cache[s->ncache++] = map;
        return;
    }
    munmap(map, s->stack_size + s->page);
}

static void co_release_stack(struct pf_sched *s, struct pf_co *co)
{
    if (co->map == NULL)
        return;
#ifdef PF_VALGRIND
    VALGRIND_STACK_DEREGISTER(co->valgrind_id);
#endif
#ifdef PF_TSAN
    __tsan_destroy_fiber(co->tsan_fiber);
    co->tsan_fiber = NULL;
#endif
    stack_put(s, co->map);
    co->map = NULL;
}

static void co_free(struct pf_sched *s, struct pf_co *co)
{
    co_release_stack(s, co);
    pf__queue_remove(&co->all);
    pf__free(co);
}

/* The public scheduler. */

int pf_sched_new(pf_sched **out, size_t stack_size)
{
    struct pf_sched *s;
    long page = sysconf(_SC_PAGESIZE);
    int rc;

    if (out == NULL)
        return PF_EINVAL;
    if (page <= 0)
        page = 4096;
    if (stack_size == 0)
        stack_size = PF_STACK_DEFAULT;
    if (stack_size < 16 * 1024)
        stack_size = 16 * 1024;
    s = pf__calloc(1, sizeof(*s));
    if (s == NULL)
        return PF_ENOMEM;
    s->page = (size_t)page;
    s->stack_size = (stack_size + s->page - 1) / s->page * s->page;
    pf__queue_init(&s->ready);
    pf__queue_init(&s->all);
    atomic_init(&s->stop, 0);
    s->stack_cache = pf__calloc(STACK_CACHE_MAX, sizeof(char *));
    if (s->stack_cache == NULL) {
        rc = PF_ENOMEM;
        goto fail_cache;
    }
    rc = pf__loop_init(&s->loop);
    if (rc < 0)
        goto fail_loop;
#ifdef PF_TSAN
    s->main_tsan_fiber = __tsan_get_current_fiber();
#endif
    *out = s;
    return 0;
fail_loop:
    pf__free(s->stack_cache);
fail_cache:
    pf__free(s);
    return rc;
}

void pf_sched_free(pf_sched *s)
{
    if (s == NULL)
        return;
    /*
     * What a coroutine waits on forgets it first, as on a stop, by the
     * cancel hook of its wait: a channel drops its record, a future's
     * callback its way back here, a transfer its curl handle.  Those
     * records live on the stacks freed below; the wake-ups it queues are
     * never run.
     */
    pf__sched_cancel_all(s);
    /* Then what other modules hung on us (the multi handle). */
    if (s->ext_free != NULL)
        s->ext_free(s->ext);
    while (!pf__queue_empty(&s->all)) {
        struct pf_co *co =
            pf__container_of(pf__queue_head(&s->all), struct pf_co, all);

        co_free(s, co);
    }
    while (s->ncache > 0)
        munmap(s->stack_cache[--s->ncache], s->stack_size + s->page);
    pf__free(s->stack_cache);
    pf__loop_cleanup(&s->loop);
    pf__free(s);
}

int pf_spawn(pf_sched *s, pf_co_fn *fn, void *arg, pf_co **out)
{
    struct pf_co *co;

    if (s == NULL || fn == NULL)
        return PF_EINVAL;
    co = pf__calloc(1, sizeof(*co));
    if (co == NULL)
        return PF_ENOMEM;
    co->map = stack_get(s);
    if (co->map == NULL) {
        pf__free(co);
        return PF_ENOMEM;
    }
    co->map_size = s->stack_size + s->page;
    co->fn = fn;
    co->arg = arg;
    co->s = s;
    co->detached = out == NULL;
#ifdef PF_VALGRIND
    co->valgrind_id =
        VALGRIND_STACK_REGISTER(co->map + s->page, co->map + co->map_size);
#endif
#ifdef PF_TSAN
    co->tsan_fiber = __tsan_create_fiber(0);
#endif
#if defined(__x86_64__)
    {
        /*
         * The frame pf__ctx_switch pops (low to high): MXCSR and x87
         * control word, r15, r14, r13 = co_main, r12 = co, rbx, rbp, and
         * the return address pf__ctx_entry.  After the pops rsp is
         * 16-byte aligned, as the call in pf__ctx_entry requires.
         */
        uint64_t *sp = (uint64_t *)(void *)(co->map + co->map_size - 80);
        uint32_t ctl[2] = {0x1F80, 0x037F};

        memcpy(sp, ctl, sizeof(ctl));
        sp[1] = 0;
        sp[2] = 0;
        sp[3] = (uint64_t)(uintptr_t)co_main;
        sp[4] = (uint64_t)(uintptr_t)co;
        sp[5] = 0;
        sp[6] = 0;
        sp[7] = (uint64_t)(uintptr_t)pf__ctx_entry;
        co->sp = sp;
    }
#else
    getcontext(&co->uc);
    co->uc.uc_stack.ss_sp = co->map + s->page;
    co->uc.uc_stack.ss_size = s->stack_size;
    co->uc.uc_link = NULL;
    makecontext(&co->uc, (void (*)(void))co_trampoline, 2,
                (unsigned)((uintptr_t)co >> 32), (unsigned)(uintptr_t)co);
#endif
    co->state = CO_READY;
    pf__queue_insert_tail(&s->ready, &co->ready);
    pf__queue_insert_tail(&s->all, &co->all);
    s->live++;
    if (out != NULL)
        *out = co;
    return 0;
}

static void resume(struct pf_sched *s, struct pf_co *co)
{
    s->current = co;
    co->state = CO_RUNNING;
    switch_to_co(s, co);
    s->current = NULL;
    if (co->state != CO_DONE)
        return;
    /* Finished: its stack can go now that we are off it. */
    co_release_stack(s, co);
    if (co->detached)
        co_free(s, co);
    else if (co->joiner != NULL)
        pf__sched_wake(s, co->joiner, 0);
}

int pf__sched_step(struct pf_sched *s, int block)
{
    size_t n = 0;
    struct pf__queue *q;
    int rc;

    /*
     * Poll first, then run: the caller re-checks its condition after the
     * step, so a poll never blocks on behalf of work that just finished.
     */
    rc = pf__loop_poll(&s->loop, block && pf__queue_empty(&s->ready));
    /*
     * Run only what was ready when the step began: a coroutine that
     * yields goes to the back and waits for the next step, so a busy
     * coroutine cannot starve I/O.
     */
    for (q = s->ready.next; q != &s->ready; q = q->next)
        n++;
    while (n-- > 0 && !pf__queue_empty(&s->ready)) {
        struct pf_co *co =
            pf__container_of(pf__queue_head(&s->ready), struct pf_co, ready);

        pf__queue_remove(&co->ready);
        resume(s, co);
    }
    return rc;
}

/*
 * One turn of a wait on the loop's own stack: PF_ECANCELED when the
 * scheduler was stopped (or, for a cancellable wait, is canceling), else
 * one blocking step.  The stop flag is consumed first, so a stop always
 * ends the wait it interrupts and no later one.
 */
static int turn(struct pf_sched *s, int cancellable)
{
    if (atomic_exchange(&s->stop, 0) || (cancellable && s->canceling))
        return PF_ECANCELED;
    return pf__sched_step(s, 1);
}

/*
 * The loop's own stack: step until *done.  A step that fails after
 * setting *done still counts as done: what it delivered (an item, a
 * finished coroutine) would otherwise be lost.
 */
static int pump(struct pf_sched *s, const int *done, int cancellable)
{
    while (!*done) {
        int rc = turn(s, cancellable);

        if (rc < 0)
            return *done ? 0 : rc;
    }
    return 0;
}

int pf__sched_wait(struct pf_sched *s, const int *done, pf__cancel_fn *cancel,
                   void *arg)
{
    struct pf_co *co = s->current;
    int rc;

    if (co == NULL) {
        rc = done != NULL ? pump(s, done, 1) : PF_EINVAL;
        if (rc < 0 && cancel != NULL)
            cancel(NULL, arg);
        return rc;
    }
    if (s->canceling) {
        if (cancel != NULL)
            cancel(co, arg);
        return PF_ECANCELED;
    }
    co->cancel = cancel;
    co->cancel_arg = arg;
    co->state = CO_WAITING;
    switch_to_main(s, co, 0);
    co->cancel = NULL;
    return co->wake_value;
}

void pf__sched_wake(struct pf_sched *s, struct pf_co *co, int value)
{
    if (co->state != CO_WAITING)
        return;
    co->state = CO_READY;
    co->wake_value = value;
    co->cancel = NULL;
    pf__queue_insert_tail(&s->ready, &co->ready);
}

void pf__sched_cancel_all(struct pf_sched *s)
{
    struct pf__queue *q;

    s->canceling = 1;
    for (q = s->all.next; q != &s->all; q = q->next) {
        struct pf_co *co = pf__container_of(q, struct pf_co, all);

        if (co->state != CO_WAITING)
            continue;
        if (co->cancel != NULL)
            co->cancel(co, co->cancel_arg);
        pf__sched_wake(s, co, PF_ECANCELED);
    }
}

int pf_sched_run(pf_sched *s)
{
    int rc = 0;

    if (s == NULL || s->current != NULL)
        return PF_EINVAL;
    /* Not a cancellable wait: cancelled coroutines still run to their end. */
    while (s->live > 0) {
        rc = turn(s, 0);
        if (rc < 0)
            break;
    }
    return rc;
}

void pf_sched_stop(pf_sched *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->stop, 1);
    pf__loop_wakeup(&s->loop);
}

int pf_sched_post(pf_sched *s, pf_post_fn *fn, void *arg)
{
    if (s == NULL || fn == NULL)
        return PF_EINVAL;
    return pf__loop_post(&s->loop, fn, arg);
}

/* Accessors. */

struct pf__loop *pf__sched_loop(struct pf_sched *s)
{
    return &s->loop;
}

struct pf_co *pf__sched_current(const struct pf_sched *s)
{
    return s->current;
}

size_t pf__sched_live(const struct pf_sched *s)
{
    return s->live;
}

int pf__sched_has_ready(const struct pf_sched *s)
{
    return !pf__queue_empty(&s->ready);
}

int64_t pf__sched_now_ns(const struct pf_sched *s)
{
    return pf__loop_now_ns(&s->loop);
}

int64_t pf__sched_next_deadline_ns(const struct pf_sched *s)
{
    return pf__loop_next_deadline_ns(&s->loop);
}

int pf__sched_fd(const struct pf_sched *s)
{
    return pf__loop_fd(&s->loop);
}

void *pf__sched_ext(const struct pf_sched *s)
{
    return s->ext;
}

void pf__sched_set_ext(struct pf_sched *s, void *state,
                       pf__ext_free_fn *free_fn)
{
    s->ext = state;
    s->ext_free = free_fn;
}

/* Join. */

static void join_cancel(struct pf_co *waiter, void *arg)
{
    struct pf_co *target = arg;

    (void)waiter;
    /* Nobody will join it now: let it free itself when it ends. */
    target->joiner = NULL;
    target->detached = 1;
}

int pf_join(pf_sched *s, pf_co *co)
{
    int rc = 0;

    if (s == NULL || co == NULL || co == s->current || co->detached ||
        co->joiner != NULL)
        return PF_EINVAL;
    if (co->state != CO_DONE && s->current != NULL) {
        co->joiner = s->current;
        rc = pf__sched_wait(s, NULL, join_cancel, co);
        if (rc < 0)
            return rc;
    } else if (co->state != CO_DONE) {
        /*
         * The loop's own stack reaps coroutines, even cancelled ones: a
         * coroutine cannot wait for ever once canceling, so this wait
         * always ends and, unlike the others, does not fail for it.
         */
        rc = pump(s, &co->finished, 0);
        if (rc == PF_ECANCELED)
            join_cancel(NULL, co); /* stopped: the caller lets go of co */
        if (rc < 0)
            return rc;
    }
    co_free(s, co);
    return 0;
}

int pf_joinall(pf_sched *s, pf_co **cos, size_t n)
{
    size_t i;
    int rc;

    if (s == NULL || (cos == NULL && n > 0))
        return PF_EINVAL;
    for (i = 0; i < n; i++) {
        rc = pf_join(s, cos[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* Sleep. */

/* A sleep, on the sleeper's stack. */
struct sleeper {
    struct pf__timer timer;
    struct pf_sched *s;
    struct pf_co *co; /* NULL on the loop's own stack */
    int done;
};

static void sleep_fired(struct pf__loop *l, struct pf__timer *t)
{
    struct sleeper *sl = t->data;

    (void)l;
    sl->done = 1;
    if (sl->co != NULL)
        pf__sched_wake(sl->s, sl->co, 0);
}

static void sleep_cancel(struct pf_co *co, void *arg)
{
    struct sleeper *sl = arg;

    (void)co;
    pf__timer_stop(&sl->s->loop, &sl->timer);
}

/* A plain yield: to the back of the ready queue, no wait and no hook. */
static int yield(struct pf_sched *s, struct pf_co *co)
{
    if (s->canceling)
        return PF_ECANCELED;
    co->state = CO_READY;
    pf__queue_insert_tail(&s->ready, &co->ready);
    switch_to_main(s, co, 0);
    return 0;
}

int pf_sleep(pf_sched *s, int64_t ms)
{
    struct sleeper sl;

    if (s == NULL || ms < 0)
        return PF_EINVAL;
    if (s->current != NULL && ms == 0)
        return yield(s, s->current);
    pf__timer_init(&sl.timer, sleep_fired, &sl);
    sl.s = s;
    sl.co = s->current;
    sl.done = 0;
    if (pf__timer_start(&s->loop, &sl.timer, pf__now_ns() + ms * 1000000) < 0)
        return PF_ENOMEM;
    return pf__sched_wait(s, &sl.done, sleep_cancel, &sl);
}
