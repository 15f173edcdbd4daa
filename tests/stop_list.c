/*
 * stop_list.c -- a URL list stopped through the library while it is
 * still being read: pf_crawler_stop() from the on_done callback, or from
 * another thread.  Written against pfetch.h alone; test_stop_list.py
 * runs it.
 *
 * Usage: stop_list LIST OUTDIR callback|thread N
 *
 * Fetches LIST into OUTDIR with -j 8.  Once N results have come, the
 * run is stopped: by on_done itself (callback), or by a thread of the
 * program's own that on_done wakes (thread).  Prints "rc NAME" and
 * "results N" at the end; exits with 0 when pf_crawler_run() returned
 * PF_ECANCELED and every accepted URL had its result.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pfetch.h"

struct ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned long results;
    unsigned long stop_at;
    int from_thread;
    int stop_now; /* guarded by mu */
    pf_crawler *c;
};

/* Loop thread. */
static void on_done(pf_crawler *c, const struct pf_result *r, void *userdata)
{
    struct ctx *x = userdata;

    (void)r;
    if (++x->results != x->stop_at)
        return;
    if (!x->from_thread) {
        pf_crawler_stop(c);
        return;
    }
    pthread_mutex_lock(&x->mu);
    x->stop_now = 1;
    pthread_cond_signal(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

/* The program's own thread: waits for on_done's word, then stops. */
static void *stopper(void *arg)
{
    struct ctx *x = arg;

    pthread_mutex_lock(&x->mu);
    while (!x->stop_now)
        pthread_cond_wait(&x->cv, &x->mu);
    pthread_mutex_unlock(&x->mu);
    pf_crawler_stop(x->c);
    return NULL;
}

int main(int argc, char **argv)
{
    struct pf_config cfg;
    struct pf_stats st;
    struct ctx x;
    pthread_t t;
    int rc;

    if (argc != 5 ||
        (strcmp(argv[3], "callback") != 0 && strcmp(argv[3], "thread") != 0)) {
        fprintf(stderr, "usage: stop_list LIST OUTDIR callback|thread N\n");
        return 2;
    }
    memset(&x, 0, sizeof(x));
    pthread_mutex_init(&x.mu, NULL);
    pthread_cond_init(&x.cv, NULL);
    x.stop_at = strtoul(argv[4], NULL, 10);
    x.from_thread = strcmp(argv[3], "thread") == 0;
    if (pf_global_init() != 0)
        return 1;
    pf_config_init(&cfg);
    cfg.out_dir = argv[2];
    cfg.jobs = 8;
    cfg.on_done = on_done;
    cfg.userdata = &x;
    rc = pf_crawler_new(&x.c, &cfg);
    if (rc == 0)
        rc = pf_crawler_add_list(x.c, argv[1]);
    if (rc != 0) {
        fprintf(stderr, "stop_list: %s\n", pf_strerror(rc));
        return 1;
    }
    if (x.from_thread && pthread_create(&t, NULL, stopper, &x) != 0)
        return 1;
    rc = pf_crawler_run(x.c);
    if (x.from_thread) {
        /* A run that ended first still lets the thread go. */
        pthread_mutex_lock(&x.mu);
        x.stop_now = 1;
        pthread_cond_signal(&x.cv);
        pthread_mutex_unlock(&x.mu);
        pthread_join(t, NULL);
    }
    pf_crawler_stats(x.c, &st);
    printf("rc %s\nresults %lu\naccepted %llu\n",
           rc == PF_ECANCELED ? "PF_ECANCELED" : pf_strerror(rc), x.results,
           (unsigned long long)st.accepted);
    pf_crawler_free(x.c);
    pf_global_cleanup();
    return rc == PF_ECANCELED && x.results == st.accepted ? 0 : 1;
}
