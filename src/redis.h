/*
 * redis.h -- a Redis connection on the scheduler's loop (hiredis's async
 * API through an adapter for loop.c), and commands that a coroutine
 * issues and waits for as if they blocked: the caller yields until the
 * reply arrives, the loop keeps running meanwhile.  Nothing here blocks
 * the loop thread: the connect is non-blocking and a host name is
 * resolved on a thread of its own.  Loop thread only.
 *
 * Every call has the connection's timeout.  A call that times out, or a
 * connection that breaks, fails every call in flight and leaves the
 * connection closed: later calls fail at once until pf__redis_reconnect()
 * succeeds.  Replies are hiredis's redisReply, the caller's to free with
 * freeReplyObject(); a Redis error reply is a reply (REDIS_REPLY_ERROR),
 * not a failed call.
 */
#ifndef PF_REDIS_H
#define PF_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "pfetch.h"

/* redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], parsed. */
struct pf__redis_addr {
    char *host;     /* a name, or an address (IPv6 without brackets) */
    int port;       /* 6379 when not given */
    char *user;     /* NULL: AUTH with the password alone */
    char *password; /* NULL: no AUTH */
    int db;         /* SELECT when not 0 */
};

/* PF_EINVAL (why says why) or PF_ENOMEM; free with _addr_free. */
int pf__redis_parse_url(const char *url, struct pf__redis_addr *out, char *why,
                        size_t whylen);
void pf__redis_addr_free(struct pf__redis_addr *a);

struct pf__redis;

/*
 * Connect to a, authenticate and select its database, waiting (as
 * pf__sched_wait() does: in a coroutine, or stepping the loop from its
 * own stack) at most timeout_ms for each step; every later call has the
 * same timeout.  0 with *out; otherwise *out is NULL and why says what
 * failed: PF_EIO (refused, reset, an error reply), PF_ETIMEDOUT,
 * PF_ECANCELED, PF_ENOMEM.
 */
int pf__redis_connect(struct pf__redis **out, pf_sched *s,
                      const struct pf__redis_addr *a, int64_t timeout_ms,
                      char *why, size_t whylen);

/* Close (if open) and connect again as at first: the same codes. */
int pf__redis_reconnect(struct pf__redis *r);

/*
 * Reconnect, again and again with a growing pause (100 ms doubling, at
 * most 2 s), until it works or budget_ms has passed: 0, or the last
 * attempt's code (PF_ECANCELED at once when the wait is cancelled).
 */
int pf__redis_reconnect_within(struct pf__redis *r, int64_t budget_ms);

/* The scheduler it runs on. */
pf_sched *pf__redis_sched(const struct pf__redis *r);

/* Is the connection open (as far as it knows)? */
int pf__redis_connected(const struct pf__redis *r);

/* Why the last connect or call failed ("" when none has). */
const char *pf__redis_error(const struct pf__redis *r);

/*
 * Issue the command argv[0..argc) (lens[i] bytes each, or strlen when
 * lens is NULL) and wait for its reply: 0 with *reply; PF_EIO when the
 * connection is closed or breaks, PF_ETIMEDOUT (the connection is then
 * closed), PF_ECANCELED (the reply, when it comes, is dropped),
 * PF_ENOMEM.
 */
int pf__redis_call(struct pf__redis *r, redisReply **reply, int argc,
                   const char *const *argv, const size_t *lens);

/* The same with hiredis's printf-like format (%s, %b, %d...). */
int pf__redis_callf(struct pf__redis *r, redisReply **reply, const char *fmt,
                    ...);

/*
 * A Lua script, run with EVALSHA; when the server does not have it
 * (NOSCRIPT: a new server, or one restarted without it) with EVAL, which
 * loads it again.  sha is filled at the first run.
 */
struct pf__redis_script {
    const char *src;
    char sha[41];
};

/*
 * Run sc with keys argv[0..nkeys) and arguments argv[nkeys..argc), as
 * pf__redis_call() does.
 */
int pf__redis_eval(struct pf__redis *r, struct pf__redis_script *sc,
                   redisReply **reply, int nkeys, int argc,
                   const char *const *argv, const size_t *lens);

/*
 * Close and free; calls in flight fail with PF_EIO.  Before the
 * scheduler goes: the timers and the watcher are its loop's.  NULL is a
 * no-op.
 */
void pf__redis_free(struct pf__redis *r);

#endif /* PF_REDIS_H */
