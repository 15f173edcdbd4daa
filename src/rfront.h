/*
 * rfront.h -- the shared frontier's steps in Redis: one crawl's queue,
 * seen set, depth gate, per-host slots and leases, each step one atomic
 * Lua script, so that a worker dying between two commands can neither
 * lose nor duplicate a URL.  Coroutine calls (redis.h): each waits for
 * its reply.  Times are the Redis server's clock, so that the workers'
 * clocks need not agree.  Loop thread only.
 *
 * The keys of crawl NAME all start with "pfetch:NAME:":
 *
 *   seen        hash  url -> "depth\tflags\thost\tparent", every URL
 *                     the crawl accepted (waiting, leased or done)
 *   q:HOST      zset  the host's waiting URLs, scored by depth
 *   hosts       set   hosts with waiting URLs
 *   lease       hash  url -> the worker that holds it
 *   held:WORKER set   the URLs the worker holds
 *   slot        set   leased URLs that still hold their host's slot
 *   hin         hash  host -> slots held (requests in flight)
 *   hnext       hash  host -> earliest next start (ms), for a wait
 *   open        hash  depth -> URLs of that depth not complete (the gate)
 *   workers     zset  worker -> lease expiry (ms)
 *   readers     set   workers still reading a list
 *   n           hash  queued, leased, done, failed, refused, started
 *   rr          int   where the next lease starts among the hosts
 *
 * A worker whose lease expired is reaped: its URLs go back to their
 * queues at their depth.  Completing a URL is fenced: it succeeds only
 * for the worker that holds it.  Not for Redis Cluster (the scripts
 * reach keys they are not given).
 */
#ifndef PF_RFRONT_H
#define PF_RFRONT_H

#include <stddef.h>
#include <stdint.h>

#include "redis.h"

struct pf__rfront_conf {
    const char *crawl_id; /* the NAME of the keys */
    const char *worker;   /* unique among the crawl's workers */
    int64_t lease_ms;     /* a worker silent this long is dead */
    unsigned per_host;    /* slots per host, whole crawl; 0: no cap */
    int64_t wait_ms;      /* per host, between starts; 0: none */
    int gate;             /* depth d+2 waits for depth <= d to complete */
};

struct pf__rfront;

/* PF_ENOMEM.  r stays the caller's and must outlive the frontier. */
int pf__rfront_new(struct pf__rfront **out, struct pf__redis *r,
                   const struct pf__rfront_conf *conf);
void pf__rfront_free(struct pf__rfront *f);

/* A URL to accept: host is its host:port key. */
struct pf__rfront_url {
    const char *url;
    const char *host;
    int depth;
    int flags;
    const char *parent; /* NULL for a seed */
};

/*
 * Accept n URLs in one step: res[i] is 0 when urls[i] is new to the crawl
 * (queued), 1 when seen already (a waiting one found again at a shorter
 * depth moves up).  0, or a redis.h code (an error reply is PF_EIO).
 */
int pf__rfront_accept(struct pf__rfront *f, const struct pf__rfront_url *urls,
                      size_t n, int *res);

/* A leased URL: strings the caller frees with pf__rfront_leased_free. */
struct pf__rfront_leased {
    char *url;
    char *host;
    char *parent; /* NULL for a seed */
    int depth;
    int flags;
};

/*
 * Renew this worker's lease, reap dead workers, and lease up to k URLs
 * that may start now (slots, waits, the gate): *n of them in *out.
 */
int pf__rfront_lease(struct pf__rfront *f, unsigned k,
                     struct pf__rfront_leased **out, size_t *n);
void pf__rfront_leased_free(struct pf__rfront_leased *v, size_t n);

/* The transfer of url is over: its host slot goes back (once). */
int pf__rfront_release(struct pf__rfront *f, const char *url);

/* How a URL ended, for the counts. */
enum pf__rfront_outcome {
    PF__RFRONT_DONE,    /* a success */
    PF__RFRONT_FAILED,  /* a final failure */
    PF__RFRONT_REFUSED, /* refused by robots.txt: neither */
};

/*
 * url is finished and its links accepted: 1 when this worker still held
 * it, and it is now complete; 0 when its lease was lost (another worker
 * holds it now, or it went back to the queue), in which case nothing
 * changed.  Its host slot goes back if release did not give it.
 */
int pf__rfront_complete(struct pf__rfront *f, const char *url,
                        enum pf__rfront_outcome how);

/*
 * url (of host) was fetched as another URL's redirect: it is seen, so
 * that a link to it later is not a second request.  0 when new, 1 when
 * the crawl had seen it already.
 */
int pf__rfront_alias(struct pf__rfront *f, const char *url, const char *host);

/* Renew this worker's lease; mark it reading a list or not. */
int pf__rfront_heartbeat(struct pf__rfront *f);
int pf__rfront_reading(struct pf__rfront *f, int on);

/*
 * The worker's keeper, for a coroutine of its own: renew the lease every
 * third of it until *stop is set (0), reconnecting with backoff when
 * Redis is lost; PF_EIO (or PF_ETIMEDOUT) once Redis has stayed out of
 * reach for a whole lease, when the worker must stop (its URLs will be
 * reaped), PF_ECANCELED when its wait is cancelled.
 */
int pf__rfront_keep(struct pf__rfront *f, const int *stop);

/* Reap dead workers now: the number of URLs given back, or < 0. */
int pf__rfront_reap(struct pf__rfront *f);

struct pf__rfront_status {
    int64_t queued, leased, done, failed;
    int64_t workers; /* live workers */
    int started;     /* a URL was ever accepted */
    int finished;    /* started, nothing queued or leased, no live reader */
};

int pf__rfront_status(struct pf__rfront *f, struct pf__rfront_status *st);

/* The crawl's key prefix ("pfetch:NAME:"). */
const char *pf__rfront_prefix(const struct pf__rfront *f);

#endif /* PF_RFRONT_H */
