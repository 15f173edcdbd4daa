/*
 * redis.c -- hiredis's async API on the scheduler's loop.  This module
 * owns a connection's hiredis context, its watcher (the adapter: hiredis
 * asks through ev.addRead/delRead/addWrite/delWrite/cleanup, loop.c
 * watches), its call records and the resolver thread of a host name.  It
 * knows the scheduler through pf__sched_wait(), pf__sched_wake() and its
 * accessors only, and never makes a blocking call on the loop thread.
 *
 * A call is one heap record, handed to hiredis as the command's privdata
 * because hiredis may still call back after the waiter has gone (a
 * cancelled wait, a stop): the record then outlives the wait, marked
 * orphan, and the callback frees it.  hiredis frees a reply once its
 * callback returns, so the callback takes it over: it moves the reply's
 * contents into a copy of its own and leaves hiredis an empty shell.
 *
 * Each call arms a timer.  When one fires the connection is freed, which
 * makes hiredis call every pending callback with no reply: every call in
 * flight fails, none waits forever on a reply that will not come.
 */
#include "redis.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <curl/curl.h>
#include <hiredis/async.h>

#include "coro.h"

struct pf__redis {
    struct pf_sched *s;
    struct pf__loop *loop;
    redisAsyncContext *ac; /* NULL while closed */
    struct pf__io io;      /* the adapter's watcher of ac's socket */
    struct pf__redis_addr addr;
    int64_t timeout_ms;
    int fail; /* what calls in flight fail with when ac goes */
    char why[256];
};

/* One call in flight (see the top of the file). */
struct call {
    struct pf__redis *r;
    struct pf_sched *s;
    struct pf_co *co; /* the waiter; NULL on the main stack */
    int done;
    int err;
    int orphan; /* the waiter has gone: the callback frees the record */
    redisReply *reply;
    struct pf__timer timer;
};

static void set_why(struct pf__redis *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_why(struct pf__redis *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->why, sizeof(r->why), fmt, ap);
    va_end(ap);
}

/* --- the URL ---------------------------------------------------------- */

static int url_part(CURLU *u, CURLUPart part, char **out, int decode)
{
    char *v = NULL;
    CURLUcode uc = curl_url_get(u, part, &v, decode ? CURLU_URLDECODE : 0);

    *out = NULL;
    if (uc != CURLUE_OK || v == NULL)
        return uc == CURLUE_OUT_OF_MEMORY ? PF_ENOMEM : 0;
    *out = pf__strdup(v);
    curl_free(v);
    return *out == NULL ? PF_ENOMEM : 0;
}

static int parse_db(const char *path, int *db)
{
    char *end;
    long v;

    if (path == NULL || strcmp(path, "/") == 0 || path[0] == '\0')
        return 0;
    errno = 0;
    v = strtol(path + 1, &end, 10);
    if (errno != 0 || end == path + 1 || *end != '\0' || v < 0 || v > INT32_MAX)
        return PF_EINVAL;
    *db = (int)v;
    return 0;
}

static int parse_parts(CURLU *u, struct pf__redis_addr *a, char *why,
                       size_t whylen)
{
    char *port = NULL, *path = NULL, *extra = NULL;
    int rc;

    if ((rc = url_part(u, CURLUPART_HOST, &a->host, 0)) < 0 ||
        (rc = url_part(u, CURLUPART_PORT, &port, 0)) < 0 ||
        (rc = url_part(u, CURLUPART_USER, &a->user, 1)) < 0 ||
        (rc = url_part(u, CURLUPART_PASSWORD, &a->password, 1)) < 0 ||
        (rc = url_part(u, CURLUPART_PATH, &path, 0)) < 0)
        goto out;
    rc = PF_EINVAL;
    if (a->host == NULL || a->host[0] == '\0') {
        snprintf(why, whylen, "no host");
        goto out;
    }
    if (a->host[0] == '[') { /* an IPv6 address, without its brackets */
        size_t n = strlen(a->host);

        memmove(a->host, a->host + 1, n - 2);
        a->host[n - 2] = '\0';
    }
    if (a->user != NULL && a->user[0] == '\0') {
        pf__free(a->user);
        a->user = NULL;
    }
    a->port = port != NULL ? atoi(port) : 6379;
    if (a->port <= 0 || a->port > 65535) {
        snprintf(why, whylen, "bad port");
        goto out;
    }
    if (parse_db(path, &a->db) < 0) {
        snprintf(why, whylen, "the path must be a database number");
        goto out;
    }
    if ((url_part(u, CURLUPART_QUERY, &extra, 0)) == 0 && extra != NULL) {
        snprintf(why, whylen, "no query is allowed");
        goto out;
    }
    rc = 0;
out:
    pf__free(port);
    pf__free(path);
    pf__free(extra);
    return rc;
}

int pf__redis_parse_url(const char *url, struct pf__redis_addr *out, char *why,
                        size_t whylen)
{
    CURLU *u;
    CURLUcode uc;
    int rc;

    memset(out, 0, sizeof(*out));
    snprintf(why, whylen, "not a redis:// URL");
    if (url == NULL || strncmp(url, "redis://", 8) != 0)
        return PF_EINVAL;
    u = curl_url();
    if (u == NULL)
        return PF_ENOMEM;
    uc = curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME);
    if (uc != CURLUE_OK) {
        curl_url_cleanup(u);
        snprintf(why, whylen, "%s", curl_url_strerror(uc));
        return uc == CURLUE_OUT_OF_MEMORY ? PF_ENOMEM : PF_EINVAL;
    }
    rc = parse_parts(u, out, why, whylen);
    curl_url_cleanup(u);
    if (rc < 0)
        pf__redis_addr_free(out);
    else if (whylen > 0)
        why[0] = '\0';
    return rc;
}

void pf__redis_addr_free(struct pf__redis_addr *a)
{
    pf__free(a->host);
    pf__free(a->user);
    pf__free(a->password);
    memset(a, 0, sizeof(*a));
}

static int addr_copy(struct pf__redis_addr *dst,
                     const struct pf__redis_addr *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->port = src->port;
    dst->db = src->db;
    dst->host = pf__strdup(src->host);
    dst->user = src->user != NULL ? pf__strdup(src->user) : NULL;
    dst->password = src->password != NULL ? pf__strdup(src->password) : NULL;
    if (dst->host == NULL || (src->user != NULL && dst->user == NULL) ||
        (src->password != NULL && dst->password == NULL)) {
        pf__redis_addr_free(dst);
        return PF_ENOMEM;
    }
    return 0;
}

/* --- resolving a host name off the loop thread ------------------------ */

/* What the waiter gets; on its stack. */
struct resolve_wait {
    char ip[INET6_ADDRSTRLEN];
    char why[128];
    int err;
    int done;
    struct pf_co *co;
};

/*
 * The thread's record, as await.c's: the loop post itself (first member),
 * so that once posted the loop frees it; until then the thread's, which
 * frees it if the waiter has gone (detached).
 */
struct resolve_rec {
    struct pf__post post;
    pthread_mutex_t mu;
    struct pf_sched *s;
    struct resolve_wait *w;
    int detached;
    char ip[INET6_ADDRSTRLEN];
    char why[128];
    int err;
    char host[];
};

static void resolve_post(void *arg)
{
    struct resolve_rec *rec = arg;
    int detached;

    pthread_mutex_lock(&rec->mu);
    detached = rec->detached;
    pthread_mutex_unlock(&rec->mu);
    pthread_mutex_destroy(&rec->mu);
    if (detached)
        return;
    memcpy(rec->w->ip, rec->ip, sizeof(rec->ip));
    memcpy(rec->w->why, rec->why, sizeof(rec->why));
    rec->w->err = rec->err;
    rec->w->done = 1;
    if (rec->w->co != NULL)
        pf__sched_wake(rec->s, rec->w->co, 0);
}

static void *resolve_thread(void *arg)
{
    struct resolve_rec *rec = arg;
    struct addrinfo hints, *res = NULL;
    int gai;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(rec->host, NULL, &hints, &res);
    if (gai != 0 || res == NULL) {
        rec->err = PF_EIO;
        snprintf(rec->why, sizeof(rec->why), "cannot resolve %s: %s", rec->host,
                 gai_strerror(gai));
    } else if (res->ai_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr,
                  rec->ip, sizeof(rec->ip));
    } else {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr,
                  rec->ip, sizeof(rec->ip));
    }
    if (res != NULL)
        freeaddrinfo(res);
    pthread_mutex_lock(&rec->mu);
    if (rec->detached) {
        pthread_mutex_unlock(&rec->mu);
        pthread_mutex_destroy(&rec->mu);
        pf__free(rec);
        return NULL;
    }
    rec->post.fn = resolve_post;
    rec->post.arg = rec;
    rec->post.borrowed = 0;
    pf__loop_post_node(pf__sched_loop(rec->s), &rec->post);
    pthread_mutex_unlock(&rec->mu);
    return NULL;
}

static void resolve_cancel(struct pf_co *co, void *arg)
{
    struct resolve_rec *rec = arg;

    (void)co;
    pthread_mutex_lock(&rec->mu);
    rec->detached = 1;
    pthread_mutex_unlock(&rec->mu);
}

/* host -> an address hiredis connects to without resolving. */
static int resolve(struct pf__redis *r, char *ip, size_t iplen)
{
    unsigned char buf[sizeof(struct in6_addr)];
    struct resolve_wait w;
    struct resolve_rec *rec;
    pthread_attr_t attr;
    pthread_t t;
    size_t n = strlen(r->addr.host);
    int rc;

    if (inet_pton(AF_INET, r->addr.host, buf) == 1 ||
        inet_pton(AF_INET6, r->addr.host, buf) == 1) {
        snprintf(ip, iplen, "%s", r->addr.host);
        return 0;
    }
    rec = pf__calloc(1, sizeof(*rec) + n + 1);
    if (rec == NULL)
        return PF_ENOMEM;
    memcpy(rec->host, r->addr.host, n + 1);
    memset(&w, 0, sizeof(w));
    w.co = pf__sched_current(r->s);
    rec->s = r->s;
    rec->w = &w;
    if (pthread_mutex_init(&rec->mu, NULL) != 0) {
        pf__free(rec);
        return PF_ESYS;
    }
    rc = pthread_attr_init(&attr);
    if (rc == 0) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        rc = pthread_create(&t, &attr, resolve_thread, rec);
        pthread_attr_destroy(&attr);
    }
    if (rc != 0) {
        pthread_mutex_destroy(&rec->mu);
        pf__free(rec);
        set_why(r, "cannot start a thread to resolve %s", r->addr.host);
        return PF_ESYS;
    }
    rc = pf__sched_wait(r->s, &w.done, resolve_cancel, rec);
    if (rc < 0)
        return rc;
    if (w.err < 0) {
        set_why(r, "%s", w.why);
        return w.err;
    }
    snprintf(ip, iplen, "%s", w.ip);
    return 0;
}

/* --- the adapter -------------------------------------------------------- */

static void io_update(struct pf__redis *r, uint32_t events)
{
    if (pf__io_set(r->loop, &r->io, events) < 0)
        set_why(r, "cannot watch the connection: %s", strerror(errno));
}

static void ev_add_read(void *privdata)
{
    struct pf__redis *r = privdata;

    io_update(r, r->io.events | EPOLLIN);
}

static void ev_del_read(void *privdata)
{
    struct pf__redis *r = privdata;

    io_update(r, r->io.events & ~(uint32_t)EPOLLIN);
}

static void ev_add_write(void *privdata)
{
    struct pf__redis *r = privdata;

    io_update(r, r->io.events | EPOLLOUT);
}

static void ev_del_write(void *privdata)
{
    struct pf__redis *r = privdata;

    io_update(r, r->io.events & ~(uint32_t)EPOLLOUT);
}

/* hiredis frees the context: stop watching, forget it. */
static void ev_cleanup(void *privdata)
{
    struct pf__redis *r = privdata;

    if (r->ac != NULL && r->ac->err != 0 && r->ac->errstr != NULL)
        set_why(r, "%s", r->ac->errstr);
    io_update(r, 0);
    r->ac = NULL;
}

static void on_io(struct pf__loop *l, struct pf__io *w, uint32_t events)
{
    struct pf__redis *r = w->data;
    uint32_t want = w->events;

    (void)l;
    if (r->ac == NULL || want == 0) /* a stale event of this batch */
        return;
    if ((want & EPOLLIN) && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        redisAsyncHandleRead(r->ac);
    if (r->ac != NULL && (r->io.events & EPOLLOUT) &&
        (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        redisAsyncHandleWrite(r->ac);
}

static void attach(struct pf__redis *r)
{
    redisAsyncContext *ac = r->ac;

    pf__io_init(&r->io, ac->c.fd, on_io, r);
    ac->ev.addRead = ev_add_read;
    ac->ev.delRead = ev_del_read;
    ac->ev.addWrite = ev_add_write;
    ac->ev.delWrite = ev_del_write;
    ac->ev.cleanup = ev_cleanup;
    ac->ev.data = r;
    ac->data = r;
}

/* --- calls -------------------------------------------------------------- */

static void call_free(struct call *c)
{
    if (c->reply != NULL)
        freeReplyObject(c->reply);
    pf__free(c);
}

/* hiredis frees reply after this returns: take its contents. */
static redisReply *steal(redisReply *reply)
{
    redisReply *copy = malloc(sizeof(*copy)); /* freeReplyObject's free */

    if (copy == NULL)
        return NULL;
    *copy = *reply;
    reply->str = NULL;
    reply->element = NULL;
    reply->elements = 0;
    return copy;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct call *c = privdata;
    struct pf__redis *r = c->r;

    pf__timer_stop(r->loop, &c->timer);
    if (c->orphan) {
        call_free(c);
        return;
    }
    if (reply == NULL) {
        if (ac->err != 0 && ac->errstr != NULL)
            set_why(r, "%s", ac->errstr);
        else if (r->why[0] == '\0')
            set_why(r, "connection closed");
        c->err = r->fail < 0 ? r->fail : PF_EIO;
    } else {
        c->reply = steal(reply);
        if (c->reply == NULL)
            c->err = PF_ENOMEM;
    }
    c->done = 1;
    if (c->co != NULL)
        pf__sched_wake(c->s, c->co, 0);
}

/* Fail everything in flight: free the context (hiredis calls back). */
static void drop(struct pf__redis *r, int fail)
{
    if (r->ac == NULL)
        return;
    r->fail = fail;
    redisAsyncFree(r->ac); /* ev_cleanup sets r->ac to NULL */
    r->ac = NULL;
    r->fail = 0;
}

static void on_timeout(struct pf__loop *l, struct pf__timer *t)
{
    struct call *c = t->data;
    struct pf__redis *r = c->r;

    (void)l;
    set_why(r, "no reply from %s:%d within %lld ms", r->addr.host, r->addr.port,
            (long long)r->timeout_ms);
    drop(r, PF_ETIMEDOUT); /* c is freed or answered by now */
}

static void call_cancel(struct pf_co *co, void *arg)
{
    struct call *c = arg;

    (void)co;
    pf__timer_stop(c->r->loop, &c->timer);
    c->orphan = 1;
}

static int call_wait(struct pf__redis *r, struct call *c, redisReply **reply)
{
    int rc;

    rc = pf__timer_start(r->loop, &c->timer,
                         pf__loop_now_ns(r->loop) + r->timeout_ms * 1000000);
    if (rc < 0) {
        c->orphan = 1; /* the reply frees it */
        return rc;
    }
    rc = pf__sched_wait(r->s, &c->done, call_cancel, c);
    if (rc < 0)
        return rc; /* orphaned by the hook */
    rc = c->err;
    if (rc == 0) {
        *reply = c->reply;
        c->reply = NULL;
    }
    call_free(c);
    return rc;
}

static struct call *call_new(struct pf__redis *r)
{
    struct call *c = pf__calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    c->r = r;
    c->s = r->s;
    c->co = pf__sched_current(r->s);
    pf__timer_init(&c->timer, on_timeout, c);
    return c;
}

static int closed(struct pf__redis *r)
{
    if (r->why[0] == '\0')
        set_why(r, "not connected to %s:%d", r->addr.host, r->addr.port);
    return PF_EIO;
}

/* hiredis took no command: the connection is going, or memory ran out. */
static int refused(struct pf__redis *r)
{
    if (r->ac == NULL ||
        (r->ac->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING)) != 0)
        return closed(r);
    return PF_ENOMEM;
}

int pf__redis_call(struct pf__redis *r, redisReply **reply, int argc,
                   const char *const *argv, const size_t *lens)
{
    struct call *c;

    *reply = NULL;
    if (r->ac == NULL)
        return closed(r);
    c = call_new(r);
    if (c == NULL)
        return PF_ENOMEM;
    if (redisAsyncCommandArgv(r->ac, on_reply, c, argc, (const char **)argv,
                              lens) != REDIS_OK) {
        pf__free(c);
        return refused(r);
    }
    return call_wait(r, c, reply);
}

int pf__redis_callf(struct pf__redis *r, redisReply **reply, const char *fmt,
                    ...)
{
    struct call *c;
    va_list ap;
    int rc;

    *reply = NULL;
    if (r->ac == NULL)
        return closed(r);
    c = call_new(r);
    if (c == NULL)
        return PF_ENOMEM;
    va_start(ap, fmt);
    rc = redisvAsyncCommand(r->ac, on_reply, c, fmt, ap);
    va_end(ap);
    if (rc != REDIS_OK) {
        pf__free(c);
        return refused(r);
    }
    return call_wait(r, c, reply);
}

static int is_noscript(const redisReply *rp)
{
    return rp != NULL && rp->type == REDIS_REPLY_ERROR && rp->str != NULL &&
           strncmp(rp->str, "NOSCRIPT", 8) == 0;
}

/* EVALSHA (or EVAL, when how is src) with keys and arguments. */
static int eval_as(struct pf__redis *r, const char *cmd, const char *how,
                   redisReply **reply, int nkeys, int argc,
                   const char *const *argv, const size_t *lens)
{
    const char *stack_argv[16];
    size_t stack_lens[16];
    const char **av = stack_argv;
    size_t *al = stack_lens;
    char nk[16];
    int rc, i, n = argc + 3;

    if (n > 16) {
        av = pf__calloc((size_t)n, sizeof(*av));
        al = pf__calloc((size_t)n, sizeof(*al));
        if (av == NULL || al == NULL) {
            rc = PF_ENOMEM;
            goto out;
        }
    }
    snprintf(nk, sizeof(nk), "%d", nkeys);
    av[0] = cmd;
    av[1] = how;
    av[2] = nk;
    for (i = 0; i < 3; i++)
        al[i] = strlen(av[i]);
    for (i = 0; i < argc; i++) {
        av[i + 3] = argv[i];
        al[i + 3] = lens != NULL ? lens[i] : strlen(argv[i]);
    }
    rc = pf__redis_call(r, reply, n, av, al);
out:
    if (av != stack_argv) {
        pf__free(av);
        pf__free(al);
    }
    return rc;
}

int pf__redis_eval(struct pf__redis *r, struct pf__redis_script *sc,
                   redisReply **reply, int nkeys, int argc,
                   const char *const *argv, const size_t *lens)
{
    int rc;

    if (sc->sha[0] == '\0') {
        rc = pf__redis_callf(r, reply, "SCRIPT LOAD %s", sc->src);
        if (rc < 0)
            return rc;
        if ((*reply)->type != REDIS_REPLY_STRING || (*reply)->len != 40)
            return 0; /* the error reply is the answer */
        memcpy(sc->sha, (*reply)->str, 40);
        sc->sha[40] = '\0';
        freeReplyObject(*reply);
        *reply = NULL;
    }
    rc = eval_as(r, "EVALSHA", sc->sha, reply, nkeys, argc, argv, lens);
    if (rc < 0 || !is_noscript(*reply))
        return rc;
    freeReplyObject(*reply);
    *reply = NULL;
    return eval_as(r, "EVAL", sc->src, reply, nkeys, argc, argv, lens);
}

/* --- the connection ----------------------------------------------------- */

/* An error reply to a connect step: its text is why. */
static int step(struct pf__redis *r, const char *what, int rc,
                redisReply *reply)
{
    if (rc < 0)
        return rc;
    if (reply->type == REDIS_REPLY_ERROR) {
        set_why(r, "%s: %s", what, reply->str);
        rc = PF_EIO;
    }
    freeReplyObject(reply);
    return rc;
}

static int open_conn(struct pf__redis *r)
{
    char ip[INET6_ADDRSTRLEN];
    redisReply *reply = NULL;
    const struct pf__redis_addr *a = &r->addr;
    int rc;

    r->why[0] = '\0';
    if ((rc = resolve(r, ip, sizeof(ip))) < 0)
        return rc;
    r->ac = redisAsyncConnect(ip, a->port);
    if (r->ac == NULL)
        return PF_ENOMEM;
    if (r->ac->err != 0) {
        set_why(r, "%s", r->ac->errstr);
        redisAsyncFree(r->ac);
        r->ac = NULL;
        return PF_EIO;
    }
    attach(r);
    if (a->password != NULL) {
        if (a->user != NULL)
            rc = pf__redis_callf(r, &reply, "AUTH %s %s", a->user, a->password);
        else
            rc = pf__redis_callf(r, &reply, "AUTH %s", a->password);
        if ((rc = step(r, "AUTH", rc, reply)) < 0)
            goto fail;
    }
    if (a->db != 0) {
        rc = pf__redis_callf(r, &reply, "SELECT %d", a->db);
        if ((rc = step(r, "SELECT", rc, reply)) < 0)
            goto fail;
    }
    rc = pf__redis_callf(r, &reply, "PING");
    if ((rc = step(r, "PING", rc, reply)) < 0)
        goto fail;
    return 0;
fail:
    drop(r, PF_EIO);
    return rc;
}

int pf__redis_connect(struct pf__redis **out, pf_sched *s,
                      const struct pf__redis_addr *a, int64_t timeout_ms,
                      char *why, size_t whylen)
{
    struct pf__redis *r;
    int rc;

    *out = NULL;
    r = pf__calloc(1, sizeof(*r));
    if (r == NULL || addr_copy(&r->addr, a) < 0) {
        pf__free(r);
        snprintf(why, whylen, "out of memory");
        return PF_ENOMEM;
    }
    r->s = s;
    r->loop = pf__sched_loop(s);
    r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    pf__io_init(&r->io, -1, on_io, r);
    rc = open_conn(r);
    if (rc < 0) {
        snprintf(why, whylen, "%s:%d: %s", a->host, a->port,
                 r->why[0] != '\0' ? r->why : pf_strerror(rc));
        pf__redis_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

int pf__redis_reconnect(struct pf__redis *r)
{
    drop(r, PF_EIO);
    return open_conn(r);
}

int pf__redis_reconnect_within(struct pf__redis *r, int64_t budget_ms)
{
    int64_t end = pf__now_ns() + budget_ms * 1000000, pause = 100;
    int rc;

    for (;;) {
        rc = pf__redis_reconnect(r);
        if (rc == 0 || rc == PF_ECANCELED || rc == PF_ENOMEM)
            return rc;
        if (pf__now_ns() + pause * 1000000 > end)
            return rc;
        if (pf_sleep(r->s, pause) < 0)
            return PF_ECANCELED;
        pause = pause * 2 > 2000 ? 2000 : pause * 2;
    }
}

pf_sched *pf__redis_sched(const struct pf__redis *r)
{
    return r->s;
}

int pf__redis_connected(const struct pf__redis *r)
{
    return r->ac != NULL;
}

const char *pf__redis_error(const struct pf__redis *r)
{
    return r->why;
}

void pf__redis_free(struct pf__redis *r)
{
    if (r == NULL)
        return;
    drop(r, PF_EIO);
    pf__redis_addr_free(&r->addr);
    pf__free(r);
}
