/*
 * bench_executor.c -- how fast the executor turns tasks around: submit
 * 100,000 empty tasks to an executor of 2 workers from one thread, wait
 * for all of them (pf_futures_wait, ALL_COMPLETED), release them.  Prints
 * the tasks/s of each of 5 runs and their median.  bench_executor.py
 * does the same with Python's concurrent.futures, for comparison.
 *
 *   bench_executor [TASKS [WORKERS [RUNS]]]
 *
 * Not a ctest: a number to watch, not a pass/fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pfetch.h"

static int nothing(void *arg, void **result)
{
    (void)arg;
    (void)result;
    return 0;
}

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

/* One run: submit every task, wait for all, release them; tasks/s. */
static double run_once(pf_executor *ex, pf_future **fs, size_t ntasks)
{
    double t0 = now_s(), t1;
    size_t i, n;
    int rc;

    for (n = 0; n < ntasks; n++) {
        rc = pf_submit(ex, nothing, NULL, 0, &fs[n]);
        if (rc < 0) {
            fprintf(stderr, "pf_submit: %s\n", pf_strerror(rc));
            break;
        }
    }
    rc = pf_futures_wait(fs, n, PF_WAIT_ALL_COMPLETED, -1, NULL);
    t1 = now_s();
    for (i = 0; i < n; i++)
        pf_future_release(fs[i]);
    if (n < ntasks || rc != (int)n) {
        fprintf(stderr, "pf_futures_wait: %d\n", rc);
        return -1;
    }
    return (double)ntasks / (t1 - t0);
}

int main(int argc, char **argv)
{
    size_t ntasks = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    unsigned nworkers = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 10) : 2;
    int nruns = argc > 3 ? atoi(argv[3]) : 5;
    pf_executor *ex = NULL;
    pf_future **fs = NULL;
    double rate[64];
    int run, rc, status = 1;

    if (ntasks == 0 || ntasks > INT32_MAX || nworkers == 0 || nruns < 1 ||
        nruns > 64) {
        fprintf(stderr, "usage: bench_executor [TASKS [WORKERS [RUNS]]]\n");
        return 2;
    }
    if (pf_global_init() != 0)
        return 1;
    fs = calloc(ntasks, sizeof(*fs));
    if (fs == NULL)
        goto out;
    rc = pf_executor_new(&ex, nworkers, 0);
    if (rc < 0) {
        fprintf(stderr, "pf_executor_new: %s\n", pf_strerror(rc));
        goto out;
    }
    for (run = 0; run < nruns; run++) {
        rate[run] = run_once(ex, fs, ntasks);
        if (rate[run] < 0)
            goto out;
        printf("run %d: %.0f tasks/s\n", run + 1, rate[run]);
    }
    qsort(rate, (size_t)nruns, sizeof(rate[0]), cmp_double);
    printf("C executor, %zu empty tasks, %u workers: %.0f tasks/s "
           "(median of %d)\n",
           ntasks, nworkers, rate[nruns / 2], nruns);
    status = 0;
out:
    pf_executor_free(ex);
    free(fs);
    pf_global_cleanup();
    return status;
}
