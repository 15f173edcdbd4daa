/*
 * bench_coro.c -- what the coroutine layer costs:
 *
 *   (a) spawn + finish: TOTAL empty coroutines, in rounds of 100 and of
 *       1000: pf_spawn() with a handle each, then pf_joinall(); and
 *       detached (pf_spawn(..., NULL)), then pf_sched_run().  The
 *       scheduler keeps up to 256 released stacks for reuse: a round of
 *       100 maps no memory after the first, a round of 1000 maps (and
 *       unmaps) 744 stacks, and shows what mmap, the first-touch page
 *       fault and munmap cost on this machine;
 *   (b) switches: coroutines that each yield (pf_sleep(s, 0)) in a loop,
 *       with 2 of them (a ping-pong) and with 64; one yield is two stack
 *       switches (coroutine -> loop -> next coroutine: every switch goes
 *       through the loop's stack) plus 1/N of a scheduler step (one
 *       non-blocking epoll_wait per round of the ready queue);
 *   (c) memory per idle coroutine: IDLE coroutines that each sleep, the
 *       growth of resident memory and of the mapped size (statm), divided
 *       by IDLE, with the default stack and with 16 KiB stacks;
 *   (d) how many coroutines can be alive at once (spawn until it fails).
 *
 *   bench_coro [TOTAL [RUNS [IDLE]]]       defaults: 100000 5 10000
 *
 * Prints every run and the median of (a), (b), (c).  Not a ctest: numbers
 * to watch, on a quiet machine; the median resists a noisy one.  TOTAL
 * coroutines cannot all be alive at once: see (d).
 *
 * Why PF_STACK_DEFAULT is 256 KiB.  A stack is an mmap of its size plus
 * a guard page, MAP_NORESERVE: the size is reserved address space, not
 * memory, and a page costs RSS only once the coroutine touches it.  An
 * idle coroutine has touched the top page of its stack, so (c) shows the
 * same RSS (about one page, with the coroutine's record) for 256 KiB and
 * 16 KiB stacks; only the mapped size differs, and 64-bit address space
 * is plentiful.  So a small stack saves nothing, and it risks an overflow
 * (a fault on the guard page) in the program's own coroutine code: 16 KiB
 * is four pages, a PATH_MAX buffer takes one, and libc calls such as the
 * printf family or getaddrinfo() take kilobytes more.  The library's own
 * frames stay shallow: libcurl does its work (TLS, decompression, the
 * write and header callbacks) inside curl_multi_socket_action(), which
 * only the loop calls, on the loop's own stack; a coroutine only adds and
 * removes its transfer.  libxml2 runs on the parser threads.  The real
 * limit on the number of coroutines is (d): each stack is two mappings
 * (the guard page splits it), and vm.max_map_count (65530 by default)
 * caps the mappings of a process, whatever the stack size.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "pfetch.h"

#define MAX_RUNS 64

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void nothing(void *arg)
{
    (void)arg;
}

/* (a) TOTAL coroutines in rounds of batch; detached or joined.  Per s. */
static double spawn_rate(size_t total, size_t batch, int detached)
{
    pf_sched *s = NULL;
    pf_co **cos = malloc(batch * sizeof(*cos));
    double t0 = 0, t1 = 0;
    size_t done, i, m;
    int rc = PF_ENOMEM;

    if (cos != NULL)
        rc = pf_sched_new(&s, 0);
    t0 = now_s();
    for (done = 0; rc == 0 && done < total; done += m) {
        m = total - done < batch ? total - done : batch;
        for (i = 0; i < m && rc == 0; i++)
            rc = pf_spawn(s, nothing, NULL, detached ? NULL : &cos[i]);
        if (rc == 0)
            rc = detached ? pf_sched_run(s) : pf_joinall(s, cos, m);
    }
    t1 = now_s();
    pf_sched_free(s);
    free(cos);
    if (rc != 0) {
        fprintf(stderr, "spawn: %s\n", pf_strerror(rc));
        return -1;
    }
    return (double)done / (t1 - t0);
}

struct yielder {
    pf_sched *s;
    long rounds;
};

static void yield_loop(void *arg)
{
    struct yielder *y = arg;
    long i;

    for (i = 0; i < y->rounds; i++)
        pf_sleep(y->s, 0);
}

/* (b) n coroutines yielding rounds times each.  Yields per s. */
static double yield_rate(int n, long rounds)
{
    struct yielder y = {NULL, rounds};
    double t0, t1;
    int i, rc;

    rc = pf_sched_new(&y.s, 0);
    for (i = 0; i < n && rc == 0; i++)
        rc = pf_spawn(y.s, yield_loop, &y, NULL);
    t0 = now_s();
    if (rc == 0)
        rc = pf_sched_run(y.s);
    t1 = now_s();
    pf_sched_free(y.s);
    if (rc != 0) {
        fprintf(stderr, "yield: %s\n", pf_strerror(rc));
        return -1;
    }
    return (double)n * (double)rounds / (t1 - t0);
}

struct sleeper {
    pf_sched *s;
    size_t started;
};

static void sleep_long(void *arg)
{
    struct sleeper *z = arg;

    z->started++;
    pf_sleep(z->s, 3600 * 1000);
}

/* Mapped size and resident set of this process, in bytes. */
static int statm(double *size, double *rss)
{
    FILE *fp = fopen("/proc/self/statm", "r");
    unsigned long pages_size = 0, pages_rss = 0;
    int n = 0;

    if (fp != NULL) {
        n = fscanf(fp, "%lu %lu", &pages_size, &pages_rss);
        fclose(fp);
    }
    *size = (double)pages_size * (double)sysconf(_SC_PAGESIZE);
    *rss = (double)pages_rss * (double)sysconf(_SC_PAGESIZE);
    return n == 2 ? 0 : -1;
}

/*
 * (c) Bytes of RSS and of mapped size per idle coroutine: n coroutines
 * that have run to their first wait (a long sleep), then abandoned with
 * their scheduler.
 */
static int idle_cost(size_t stack, size_t n, double *rss_per, double *vm_per)
{
    struct sleeper z = {NULL, 0};
    double vm0, rss0, vm1, rss1;
    size_t i;
    int rc;

    rc = pf_sched_new(&z.s, stack);
    if (rc == 0 && statm(&vm0, &rss0) < 0)
        rc = PF_ESYS;
    for (i = 0; i < n && rc == 0; i++)
        rc = pf_spawn(z.s, sleep_long, &z, NULL);
    while (rc == 0 && z.started < n)
        rc = pf_sleep(z.s, 1); /* the loop runs them to their sleep */
    if (rc == 0 && statm(&vm1, &rss1) < 0)
        rc = PF_ESYS;
    pf_sched_free(z.s);
    if (rc != 0) {
        fprintf(stderr, "idle: %s\n", pf_strerror(rc));
        return -1;
    }
    *rss_per = (rss1 - rss0) / (double)n;
    *vm_per = (vm1 - vm0) / (double)n;
    return 0;
}

/* (d) Coroutines alive at once before pf_spawn() fails (up to limit). */
static size_t max_alive(size_t stack, size_t limit, int *err)
{
    pf_sched *s = NULL;
    size_t n = 0;

    *err = pf_sched_new(&s, stack);
    while (*err == 0 && n < limit) {
        *err = pf_spawn(s, nothing, NULL, NULL);
        if (*err == 0)
            n++;
    }
    pf_sched_free(s); /* never run: abandoned */
    return n;
}

static void report(const char *what, double *v, int runs, const char *unit)
{
    double m;
    int i;

    printf("%-37s", what);
    for (i = 0; i < runs; i++)
        printf(" %.3g", v[i]);
    m = median(v, runs);
    printf("  median %.3g %s/s (%.0f ns each)\n", m, unit, 1e9 / m);
}

int main(int argc, char **argv)
{
    size_t total = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    int runs = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 5;
    size_t idle = argc > 3 ? strtoul(argv[3], NULL, 10) : 10000;
    static const size_t batches[2] = {100, 1000};
    static const size_t stacks[2] = {PF_STACK_DEFAULT, 16 * 1024};
    static const int yielders[2] = {2, 64};
    double v[MAX_RUNS], w[MAX_RUNS];
    char what[64];
    int r, k, err;

    if (total < 1000 || runs < 1 || runs > MAX_RUNS || idle == 0) {
        fprintf(stderr, "usage: bench_coro [TOTAL >= 1000 [RUNS [IDLE]]]\n");
        return 2;
    }
    if (pf_global_init() != 0)
        return 3;
    for (k = 0; k < 4; k++) {
        for (r = 0; r < runs; r++)
            if ((v[r] = spawn_rate(total, batches[k / 2], k % 2)) < 0)
                return 1;
        snprintf(what, sizeof(what), "(a) spawn+%s, rounds of %zu",
                 k % 2 ? "sched_run" : "joinall", batches[k / 2]);
        report(what, v, runs, "coroutines");
    }
    for (k = 0; k < 2; k++) {
        for (r = 0; r < runs; r++)
            if ((v[r] = yield_rate(yielders[k], 1000000 / yielders[k])) < 0)
                return 1;
        snprintf(what, sizeof(what), "(b) yields, %d coroutines", yielders[k]);
        report(what, v, runs, "yields");
    }
    for (k = 0; k < 2; k++) {
        for (r = 0; r < runs; r++)
            if (idle_cost(stacks[k], idle, &v[r], &w[r]) < 0)
                return 1;
        printf("(c) %zu idle coroutines, %zu KiB stacks: "
               "RSS %.2f KiB, mapped %.1f KiB per coroutine (medians)\n",
               idle, stacks[k] / 1024, median(v, runs) / 1024,
               median(w, runs) / 1024);
    }
    for (k = 0; k < 2; k++) {
        size_t n = max_alive(stacks[k], 1000000, &err);

        printf("(d) %zu KiB stacks: %zu coroutines alive at once%s%s\n",
               stacks[k] / 1024, n, err ? ", then " : " (the limit tried)",
               err ? pf_strerror(err) : "");
    }
    pf_global_cleanup();
    return 0;
}
