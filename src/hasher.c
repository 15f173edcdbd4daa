/*
 * hasher.c -- the hasher thread (see hasher.h).
 *
 * This module owns the jobs lent to its thread: a list under one mutex,
 * served round-robin a block at a time.  It never writes a file and never
 * touches a sink: the store lends it a digest and a descriptor, and takes
 * the digest back before it commits, truncates or drops the file.  The
 * thread never holds the mutex while it reads or hashes, so the loop
 * thread's pf__hashjob_grow() never waits for more than a list update.
 */
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include "hasher.h"
#include "util.h"

/* What the thread reads and hashes at once. */
#define HASH_BLOCK (1024 * 1024)

struct pf__hashjob {
    struct pf__hasher *h;
    struct pf__hashjob *prev, *next; /* in h->jobs */
    EVP_MD_CTX *md;
    int fd;         /* our dup */
    int64_t hashed; /* md has been fed [0, hashed) */
    int64_t upto;   /* the file holds [0, upto) */
    int busy;       /* the thread is reading and hashing a block of it */
    int failed;     /* a read back failed: the caller finishes */
};

struct pf__hasher {
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job grew, or stop */
    pthread_cond_t idle; /* a job is no longer busy */
    struct pf__hashjob *jobs;
    struct pf__hashjob *cursor; /* where the round-robin goes on */
    int started, stop;
    pthread_t thread;
    unsigned char *buf; /* the thread's block */
};

int pf__hasher_new(struct pf__hasher **out)
{
    struct pf__hasher *h = pf__calloc(1, sizeof(*h));

    if (h == NULL)
        return PF_ENOMEM;
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->work, NULL);
    pthread_cond_init(&h->idle, NULL);
    *out = h;
    return 0;
}

void pf__hasher_free(struct pf__hasher *h)
{
    if (h == NULL)
        return;
    if (h->started) {
        pthread_mutex_lock(&h->mu);
        h->stop = 1;
        pthread_cond_signal(&h->work);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->thread, NULL);
    }
    pthread_cond_destroy(&h->idle);
    pthread_cond_destroy(&h->work);
    pthread_mutex_destroy(&h->mu);
    pf__free(h->buf);
    pf__free(h);
}

/* The next job with bytes to hash, round-robin; NULL if none. */
static struct pf__hashjob *next_job(struct pf__hasher *h)
{
    struct pf__hashjob *start = h->cursor != NULL ? h->cursor->next : NULL;
    struct pf__hashjob *j;

    for (j = start; j != NULL; j = j->next)
        if (!j->failed && j->hashed < j->upto)
            return j;
    for (j = h->jobs; j != start; j = j->next)
        if (!j->failed && j->hashed < j->upto)
            return j;
    return NULL;
}

/* Read back and hash one block of j; the mutex is not held. */
static int hash_block(struct pf__hasher *h, struct pf__hashjob *j, int64_t off,
                      int64_t len)
{
    ssize_t n;

    do
        n = pread(j->fd, h->buf, (size_t)len, (off_t)off);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    if (EVP_DigestUpdate(j->md, h->buf, (size_t)n) != 1)
        return -1;
    return (int)n;
}

static void *hasher_main(void *arg)
{
    struct pf__hasher *h = arg;

    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        struct pf__hashjob *j = next_job(h);
        int64_t off, len;
        int n;

        if (j == NULL) {
            pthread_cond_wait(&h->work, &h->mu);
            continue;
        }
        j->busy = 1;
        h->cursor = j;
        off = j->hashed;
        len = j->upto - off < HASH_BLOCK ? j->upto - off : HASH_BLOCK;
        pthread_mutex_unlock(&h->mu);
        n = hash_block(h, j, off, len);
        pthread_mutex_lock(&h->mu);
        if (n < 0)
            j->failed = 1; /* the caller reads it back itself, or fails */
        else
            j->hashed += n;
        j->busy = 0;
        pthread_cond_broadcast(&h->idle);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

int pf__hashjob_start(struct pf__hasher *h, struct pf__hashjob **out,
                      EVP_MD_CTX *md, int fd, int64_t from)
{
    struct pf__hashjob *j = pf__calloc(1, sizeof(*j));

    if (j == NULL)
        return PF_ENOMEM;
    j->fd = dup(fd);
    if (j->fd < 0) {
        pf__free(j);
        return PF_ESYS;
    }
    j->h = h;
    j->md = md;
    j->hashed = j->upto = from;
    pthread_mutex_lock(&h->mu);
    if (!h->started) {
        h->buf = pf__malloc(HASH_BLOCK);
        if (h->buf != NULL &&
            pthread_create(&h->thread, NULL, hasher_main, h) == 0)
            h->started = 1;
    }
    if (!h->started) {
        pthread_mutex_unlock(&h->mu);
        close(j->fd);
        pf__free(j);
        return PF_ESYS;
    }
    j->next = h->jobs;
    if (h->jobs != NULL)
        h->jobs->prev = j;
    h->jobs = j;
    pthread_mutex_unlock(&h->mu);
    *out = j;
    return 0;
}

void pf__hashjob_grow(struct pf__hashjob *j, int64_t upto)
{
    struct pf__hasher *h = j->h;

    pthread_mutex_lock(&h->mu);
    j->upto = upto;
    pthread_cond_signal(&h->work);
    pthread_mutex_unlock(&h->mu);
}

/* Take j off the thread's list once it is not busy; what it had hashed. */
static int64_t take_back(struct pf__hashjob *j)
{
    struct pf__hasher *h = j->h;
    int64_t hashed;

    pthread_mutex_lock(&h->mu);
    while (j->busy)
        pthread_cond_wait(&h->idle, &h->mu);
    if (j->prev != NULL)
        j->prev->next = j->next;
    else
        h->jobs = j->next;
    if (j->next != NULL)
        j->next->prev = j->prev;
    if (h->cursor == j)
        h->cursor = NULL;
    hashed = j->hashed;
    pthread_mutex_unlock(&h->mu);
    return hashed;
}

int pf__hashjob_reclaim(struct pf__hashjob *j)
{
    int64_t off = take_back(j);
    unsigned char buf[65536];
    int rc = 0;

    while (off < j->upto) {
        size_t want = j->upto - off < (int64_t)sizeof(buf)
                          ? (size_t)(j->upto - off)
                          : sizeof(buf);
        ssize_t n = pread(j->fd, buf, want, (off_t)off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || EVP_DigestUpdate(j->md, buf, (size_t)n) != 1) {
            if (n == 0)
                errno = EIO; /* shorter than it was written */
            rc = -1;
            break;
        }
        off += n;
    }
    close(j->fd);
    pf__free(j);
    return rc;
}

void pf__hashjob_cancel(struct pf__hashjob *j)
{
    (void)take_back(j);
    close(j->fd);
    pf__free(j);
}
