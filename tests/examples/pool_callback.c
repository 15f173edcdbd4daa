/*
 * pool_callback.c -- a thread pool whose work items report through a
 * callback(status, result), and the two ways of ending a pool: close
 * (everything submitted still runs) and terminate (work not yet started
 * is cancelled).
 *
 *     pool_callback SLOW_URL URL...
 *
 * Each work item downloads a URL; its result is the body's size.
 *   close:      URL... on 4 workers, then pf_executor_shutdown(wait=1,
 *               cancel_pending=0): every item runs, every status is DONE.
 *   terminate:  SLOW_URL then URL... on 1 worker; once SLOW_URL has
 *               started, pf_executor_shutdown(wait=1, cancel_pending=1):
 *               the items queued behind it are cancelled, and their
 *               callbacks say so.
 * Prints one "PHASE STATUS SIZE URL" line per callback, then
 * "PHASE: N submitted, D done, C cancelled, F failed".
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pfetch.h"

struct item {
    const char *phase, *url;
    long size;   /* the result: body bytes */
    int started; /* set by the worker as it begins (under lock) */
};

/* The (status, result) pairs, gathered by the callbacks of all threads. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started_cond = PTHREAD_COND_INITIALIZER;
static int ndone, ncancelled, nfailed;

static size_t discard(char *p, size_t size, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return size * n;
}

/* A work item, on a worker thread: download, and return the size. */
static int work(void *arg, void **result)
{
    struct item *it = arg;
    CURL *easy = curl_easy_init();
    curl_off_t size = 0;
    CURLcode rc;

    pthread_mutex_lock(&lock);
    it->started = 1;
    pthread_cond_broadcast(&started_cond);
    pthread_mutex_unlock(&lock);
    if (easy == NULL)
        return PF_ENOMEM;
    curl_easy_setopt(easy, CURLOPT_URL, it->url);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
    rc = curl_easy_perform(easy);
    curl_easy_getinfo(easy, CURLINFO_SIZE_DOWNLOAD_T, &size);
    curl_easy_cleanup(easy);
    it->size = (long)size;
    *result = &it->size;
    return rc == CURLE_OK ? 0 : PF_ECURL;
}

/* callback(status, result): on the worker that finished the item, or on
 * the thread that cancelled it. */
static void callback(pf_future *f, void *userdata)
{
    struct item *it = userdata;
    int status = pf_future_state(f); /* DONE or CANCELLED, never earlier */
    long *result = NULL;
    int rc = pf_future_result(f, 0, (void **)&result);

    pthread_mutex_lock(&lock);
    if (status == PF_FUTURE_CANCELLED) {
        ncancelled++;
        printf("%s cancelled - %s\n", it->phase, it->url);
    } else if (rc != 0) {
        nfailed++;
        printf("%s failed - %s\n", it->phase, it->url);
    } else {
        ndone++;
        printf("%s done %ld %s\n", it->phase, *result, it->url);
    }
    pthread_mutex_unlock(&lock);
}

/* Submit urls[0..n) to a pool of `workers`, then end it as told. */
static int run(const char *phase, unsigned workers, char **urls, int n,
               int cancel_pending)
{
    struct item *items = calloc((size_t)n, sizeof(*items));
    pf_executor *ex;
    int i;

    if (items == NULL || pf_executor_new(&ex, workers, 0) != 0)
        return 1;
    ndone = ncancelled = nfailed = 0;
    for (i = 0; i < n; i++) {
        pf_future *f;

        items[i].phase = phase;
        items[i].url = urls[i];
        if (pf_submit(ex, work, &items[i], 0, &f) != 0 ||
            pf_future_add_done_callback(f, callback, &items[i]) != 0)
            return 1;
        pf_future_release(f); /* the callback reports; no need to keep f */
    }
    if (cancel_pending) {
        /* Terminate only once the first item runs, so that what is
         * cancelled is exactly what waits behind it on the one worker. */
        pthread_mutex_lock(&lock);
        while (!items[0].started)
            pthread_cond_wait(&started_cond, &lock);
        pthread_mutex_unlock(&lock);
    }
    pf_executor_shutdown(ex, 1, cancel_pending); /* returns when all ended */
    pf_executor_free(ex);
    printf("%s: %d submitted, %d done, %d cancelled, %d failed\n", phase, n,
           ndone, ncancelled, nfailed);
    free(items);
    return nfailed != 0;
}

int main(int argc, char **argv)
{
    int rc;

    if (argc < 3) {
        fprintf(stderr, "usage: %s SLOW_URL URL...\n", argv[0]);
        return 2;
    }
    if (pf_global_init() != 0)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = run("close", 4, argv + 2, argc - 2, 0);
    rc |= run("terminate", 1, argv + 1, argc - 1, 1);
    pf_global_cleanup();
    return rc;
}
