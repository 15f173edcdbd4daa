/*
 * pfetch.h -- the public API of libpfetch, a parallel HTTP downloader.
 *
 * This file is the whole API: anything not declared here is internal and
 * may change without notice.  Three layers, each usable on its own:
 *
 *   1. Jobs (pf_crawler_*): the engine behind the pfetch(1) command.
 *      Configure, add URLs, run to completion, get one result per URL.
 *   2. Coroutines (pf_sched_*, pf_spawn, pf_join, pf_sleep, pf_fetch):
 *      gevent's model in C.  Stackful coroutines on one loop thread that
 *      drives libcurl's multi-socket interface with epoll; every wait
 *      yields to the scheduler.
 *   3. Executor and futures (pf_executor_*, pf_future_*, pf_submit,
 *      pf_await): concurrent.futures' model in C.  A pool of worker
 *      threads runs submitted functions; each submission is a future with
 *      done-callbacks, a blocking result() and cancel().
 *
 * Conventions, for every function below unless its comment says otherwise:
 *   - Functions returning int return 0 on success and a negative PF_E*
 *     code on failure; pf_strerror() turns a code into static text.
 *   - Objects are created through an out-parameter marked OUT, which is
 *     left untouched on failure.  pf_*_free(NULL) is a harmless no-op.
 *   - Strings passed in are copied when kept; pointers handed to a
 *     callback are valid only for the duration of that callback.
 *   - The library never exits, aborts or prints: messages go to the
 *     optional log callback of the config.
 *   - A handle is used from one thread at a time; the exceptions are named
 *     ("Any thread.").
 *
 * See pfetch(3) for the overview and one manual page per function.
 */
#ifndef PFETCH_H
#define PFETCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <curl/curl.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PF_EXPORT __attribute__((visibility("default")))
#else
#define PF_EXPORT
#endif

#define PF_VERSION_MAJOR 0
#define PF_VERSION_MINOR 1
#define PF_VERSION_PATCH 0
#define PF_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/*
 * Every error code, its value and its text.  Codes are append-only: a
 * value, once published, never changes meaning.
 */
#define PF_ERR_MAP(XX)                                                         \
    XX(EINVAL, -1, "invalid argument")                                         \
    XX(ENOMEM, -2, "out of memory")                                            \
    XX(EIO, -3, "input/output error")                                          \
    XX(EURL, -4, "bad or unsupported URL")                                     \
    XX(ECURL, -5, "libcurl error")                                             \
    XX(EDB, -6, "log database error")                                          \
    XX(ECANCELED, -7, "operation canceled")                                    \
    XX(ESTATE, -8, "call not allowed in this state")                           \
    XX(ETIMEDOUT, -9, "timed out")                                             \
    XX(ESYS, -10, "system call failed")                                        \
    XX(EOUTDIR, -11, "output directory unusable")                              \
    XX(EDUPLICATE, -12, "URL already added")                                   \
    XX(EDISKFULL, -13, "no space left on device")                              \
    XX(EFULL, -14, "queue full")                                               \
    XX(EROBOTS, -15, "refused by robots.txt")

enum pf_err {
    PF_OK = 0,
#define PF_ERR_ENUM_(name, val, text) PF_##name = (val),
    PF_ERR_MAP(PF_ERR_ENUM_)
#undef PF_ERR_ENUM_
};

/* Static text for an error code; never NULL, also for unknown codes. */
PF_EXPORT const char *pf_strerror(int err);

/* "0.1.0": the version of the library actually linked. */
PF_EXPORT const char *pf_version(void);

/*
 * Process-wide initialisation: libcurl's global init and libxml2's parser
 * initialisation.  Call once from the main thread before any other thread
 * exists and before any other pf_ call; call pf_global_cleanup() once at
 * the end.  Calls are counted, so nested init/cleanup pairs are harmless.
 * libcurl is initialised with curl_global_init_mem() and an allocator
 * that serves its large receive buffers from reused page-aligned
 * mappings (faster transfers); a program that initialised libcurl itself
 * before keeps its own allocator, and everything still works.
 */
PF_EXPORT int pf_global_init(void);
PF_EXPORT void pf_global_cleanup(void);

/* ------------------------------------------------------------------ */
/* Coroutines                                                          */
/* ------------------------------------------------------------------ */

/*
 * A scheduler owns one event loop (epoll), one libcurl multi handle and
 * every coroutine spawned on it.  It runs on the thread that calls
 * pf_sched_run(), pf_join(), pf_joinall() or pf_sleep() from outside a
 * coroutine: that thread is the loop thread.  Coroutines never run in
 * parallel; they switch only when they wait (sleep, join, fetch).
 */
typedef struct pf_sched pf_sched;
typedef struct pf_co pf_co;

typedef void pf_co_fn(void *arg);
typedef void pf_post_fn(void *arg);

/* Default stack size of a coroutine, without its guard page. */
#define PF_STACK_DEFAULT (256u * 1024u)

/*
 * Create a scheduler whose coroutines get stacks of stack_size bytes
 * (rounded up to pages; 0 means PF_STACK_DEFAULT).  Each stack is mmap'd
 * with an inaccessible guard page below it, so an overflow faults instead
 * of corrupting memory.
 */
PF_EXPORT int pf_sched_new(pf_sched **out /* OUT */, size_t stack_size);

/*
 * Free the scheduler.  Coroutines still alive are abandoned without
 * running further: each wait is withdrawn first (a channel forgets the
 * waiter, a future will not call back, a transfer leaves libcurl), then
 * their stacks are released.  What they own leaks: finish them first
 * with pf_sched_run() when that matters.  Loop thread, outside coroutines.
 */
PF_EXPORT void pf_sched_free(pf_sched *s);

/*
 * Run until no coroutine is left (or pf_sched_stop() is called).  Returns
 * 0, or PF_ECANCELED when stopped.  Loop thread, outside coroutines.
 */
PF_EXPORT int pf_sched_run(pf_sched *s);

/*
 * Make pf_sched_run() return soon.  Any thread; async-signal-safe.
 */
PF_EXPORT void pf_sched_stop(pf_sched *s);

/*
 * Spawn fn(arg) as a new coroutine.  It starts at the next scheduling
 * point, not inside this call.  With out non-NULL the caller gets a handle
 * it must pass to pf_join() (or pf_joinall()) exactly once, even after the
 * coroutine has finished; with out NULL the coroutine is detached and
 * cleans up after itself.  Loop thread (inside or outside a coroutine).
 */
PF_EXPORT int pf_spawn(pf_sched *s, pf_co_fn *fn, void *arg,
                       pf_co **out /* OUT */);

/*
 * Wait until co has finished, then release the handle.  Inside a
 * coroutine the caller yields; outside, the loop runs until co is done.
 * Returns 0, or PF_EINVAL when a coroutine joins itself.
 */
PF_EXPORT int pf_join(pf_sched *s, pf_co *co);

/* pf_join() every handle of cos[0..n), in any order of completion. */
PF_EXPORT int pf_joinall(pf_sched *s, pf_co **cos, size_t n);

/*
 * Sleep for ms milliseconds (0 yields once to the other ready
 * coroutines).  Inside a coroutine only that coroutine sleeps; outside,
 * the loop runs for that long.  Returns 0 or PF_EINVAL (ms < 0).
 */
PF_EXPORT int pf_sleep(pf_sched *s, int64_t ms);

/*
 * Perform the transfer configured on easy, as curl_easy_perform() would,
 * but yielding to other coroutines until it completes.  The transfer's
 * own result (CURLE_OK, CURLE_OPERATION_TIMEDOUT, ...) is stored in
 * *result.  The caller keeps ownership of easy and must not touch it from
 * elsewhere while the call runs; do not set CURLOPT_PRIVATE on it.
 * Returns 0 when the transfer ran (whatever its result), PF_ECURL when
 * libcurl refused it, PF_ECANCELED when the scheduler stopped first.
 */
PF_EXPORT int pf_fetch(pf_sched *s, CURL *easy, CURLcode *result /* OUT */);

/*
 * Run fn(arg) on the loop thread at its next iteration.  Any thread; the
 * post is queued in order and wakes the loop.  Returns PF_ENOMEM when the
 * post could not be queued.
 */
PF_EXPORT int pf_sched_post(pf_sched *s, pf_post_fn *fn, void *arg);

/*
 * A channel: a bounded FIFO of pointers between the coroutines of one
 * scheduler, gevent's Queue(maxsize).  pf_chan_put() waits (yields) while
 * the channel holds capacity items, pf_chan_get() while it is empty, so a
 * fast producer is held back by slow consumers.  Waiters are served in
 * the order they came.  Outside a coroutine both run the loop until they
 * can proceed, as pf_join() does.  Loop thread only.
 *
 * pf_chan_new: capacity >= 1 (PF_EINVAL otherwise).
 * pf_chan_put: 0, PF_ESTATE once the channel is closed, PF_ECANCELED when
 *   the scheduler stops first.
 * pf_chan_get: 0 with *item set, PF_ESTATE when the channel is closed and
 *   empty (the consumer's end of input), PF_ECANCELED.
 * pf_chan_close: no more puts; waiting putters get PF_ESTATE, getters
 *   drain what is left, then get PF_ESTATE.  Calling it twice is harmless.
 * pf_chan_len: items held now.
 * pf_chan_free: the channel must have no waiter; items left are not freed.
 */
typedef struct pf_chan pf_chan;

PF_EXPORT int pf_chan_new(pf_chan **out /* OUT */, pf_sched *s,
                          size_t capacity);
PF_EXPORT int pf_chan_put(pf_chan *ch, void *item);
PF_EXPORT int pf_chan_get(pf_chan *ch, void **item /* OUT */);
PF_EXPORT void pf_chan_close(pf_chan *ch);
PF_EXPORT size_t pf_chan_len(const pf_chan *ch);
PF_EXPORT void pf_chan_free(pf_chan *ch);

/* ------------------------------------------------------------------ */
/* Executor and futures                                                */
/* ------------------------------------------------------------------ */

/*
 * An executor is a fixed pool of worker threads and a bounded FIFO queue
 * of submitted tasks.  Each submission is represented by a future, which
 * moves through these states exactly once:
 *
 *   PENDING --worker picks it--> RUNNING --fn returns--> DONE
 *      |
 *      +--pf_future_cancel() or shutdown(cancel_pending)--> CANCELLED
 *
 * Futures are reference-counted: pf_submit() hands the caller one
 * reference, which the caller gives back with pf_future_release().  The
 * executor holds its own reference while the task is queued or running,
 * and each registered callback runs while a reference is held, so a
 * callback racing with pf_future_result() or pf_future_release() never
 * sees freed memory.  A future stays valid while referenced, even after
 * pf_executor_free().  Every pf_future_* call is thread-safe; a call
 * that takes a future needs a reference to it held by the caller.
 */
typedef struct pf_executor pf_executor;
typedef struct pf_future pf_future;

enum pf_future_state {
    PF_FUTURE_PENDING = 0,
    PF_FUTURE_RUNNING = 1,
    PF_FUTURE_DONE = 2,
    PF_FUTURE_CANCELLED = 3
};

/*
 * A task: runs on a worker thread with the arg given to pf_submit().  It
 * returns 0 or a negative error code (PF_E*, or any negative value of the
 * caller's own) and may store a result pointer in *result, which the
 * future keeps and hands out unchanged (the executor never frees it).
 */
typedef int pf_task_fn(void *arg, void **result);

/*
 * A done-callback: runs once, after the future reached DONE or CANCELLED,
 * on the thread that completed it (a worker thread, or the thread that
 * cancelled it), in the order callbacks were added; or at once, on the
 * calling thread, when added to a future already complete.  It must not
 * block for long: it holds up that worker.  It may submit more work, read
 * the result with pf_future_result(f, 0, ...) and take extra references.
 */
typedef void pf_future_cb(pf_future *f, void *userdata);

/* Flags of pf_submit(). */
#define PF_SUBMIT_NOWAIT 1 /* fail with PF_EFULL instead of blocking */

/*
 * Create an executor with nthreads worker threads (0 means one per online
 * CPU) and room for queue_max tasks waiting to run (0 means 65536).
 * Returns PF_ESYS when a thread cannot be started.  Any thread.
 */
PF_EXPORT int pf_executor_new(pf_executor **out /* OUT */, unsigned nthreads,
                              size_t queue_max);

/*
 * Queue fn(arg).  On success *out gets a new future holding one reference
 * for the caller; pass out NULL to keep none (fire and forget).  When the
 * queue is full the call blocks until there is room, or fails with PF_EFULL
 * when flags has PF_SUBMIT_NOWAIT.  After pf_executor_shutdown() it fails
 * with PF_ESTATE; a blocked submit also fails with PF_ESTATE when the
 * executor shuts down.  Any thread, worker threads and callbacks included
 * (a worker submitting into its own full queue should use PF_SUBMIT_NOWAIT).
 */
PF_EXPORT int pf_submit(pf_executor *ex, pf_task_fn *fn, void *arg, int flags,
                        pf_future **out /* OUT, may be NULL */);

/*
 * Wait for f to complete, for at most timeout_ms (< 0: no limit; 0: do not
 * wait).  Returns PF_ETIMEDOUT when it is still not done, PF_ECANCELED when
 * it was cancelled, otherwise the task's own return value, with its result
 * pointer in *result (result may be NULL; it is left alone unless f is
 * DONE).  A task that itself returns PF_ETIMEDOUT or PF_ECANCELED is told
 * apart by pf_future_state().  Any thread; from f's own task it returns
 * PF_ESTATE at once instead of waiting for ever.
 */
PF_EXPORT int pf_future_result(pf_future *f, int64_t timeout_ms,
                               void **result /* OUT, may be NULL */);

/* One of enum pf_future_state, right now; PF_EINVAL for NULL. */
PF_EXPORT int pf_future_state(const pf_future *f);

/* 1 when f is DONE or CANCELLED, else 0. */
PF_EXPORT int pf_future_done(const pf_future *f);

/*
 * Cancel f if it is still PENDING: it becomes CANCELLED, its task never
 * runs, and its callbacks run now on this thread.  Returns 0 when it was
 * cancelled (or already was), PF_ESTATE when it is running or done.
 */
PF_EXPORT int pf_future_cancel(pf_future *f);

/*
 * Register cb(f, userdata) to run when f completes (see pf_future_cb), or
 * run it now when f is already complete.  Returns PF_ENOMEM.
 */
PF_EXPORT int pf_future_add_done_callback(pf_future *f, pf_future_cb *cb,
                                          void *userdata);

/* Take one more reference; give one back.  pf_future_release(NULL) is a
 * no-op; the last release frees the future (not its result). */
PF_EXPORT void pf_future_ref(pf_future *f);
PF_EXPORT void pf_future_release(pf_future *f);

/*
 * concurrent.futures' map(): run fn(args[i]) for i in [0, n) on the pool
 * and wait for all of them.  results[i] and errs[i] (either array may be
 * NULL) receive each task's result pointer and return value, in input
 * order whatever the order of completion.  Returns 0 when every task
 * returned 0, else the first nonzero errs[] value; PF_ETIMEDOUT when
 * timeout_ms (< 0: none) passed first, in which case tasks not yet
 * started are cancelled (errs[i] = PF_ECANCELED) and running ones waited
 * for.  When a submit fails (PF_ESTATE after shutdown, PF_ENOMEM) nothing
 * more is submitted, what was is handled as after a timeout, errs[i] of
 * the unsubmitted ones gets that error, and it is returned.  Never
 * returns with one of its tasks still running.  Not from a worker of ex.
 */
PF_EXPORT int pf_executor_map(pf_executor *ex, pf_task_fn *fn,
                              void *const *args, size_t n, void **results,
                              int *errs, int64_t timeout_ms);

/* How pf_futures_wait() decides it is done. */
enum pf_wait_how {
    PF_WAIT_FIRST_COMPLETED = 0, /* at least one future complete */
    PF_WAIT_ALL_COMPLETED = 1    /* every future complete */
};

/*
 * concurrent.futures' wait(): block until the condition `how` holds for
 * fs[0..n) or timeout_ms (< 0: none; 0: do not wait) passes.  Returns the
 * number of complete futures (>= 0) and, when done_idx (room for n) is
 * non-NULL, stores their indexes in done_idx[0..return) in the order
 * they completed (the as_completed() order: call again on the rest to
 * iterate).  When fewer than n are complete, SIZE_MAX follows the last
 * index, so the list also ends visibly after PF_ETIMEDOUT, which is
 * returned, with done_idx filled as far as it goes, when the condition
 * did not hold in time.  The order is exact for futures of one executor;
 * for futures of several, those complete before the call are ordered per
 * executor only.  PF_EINVAL (a NULL future, a bad how, n > INT32_MAX),
 * PF_ENOMEM (more than a few futures need registering).  Any thread.
 */
PF_EXPORT int pf_futures_wait(pf_future *const *fs, size_t n, int how,
                              int64_t timeout_ms, size_t *done_idx);

/*
 * Stop accepting work: every later pf_submit() fails with PF_ESTATE.  With
 * cancel_pending, queued tasks are cancelled (their callbacks run on this
 * thread); without, they still run.  With wait, returns once every task
 * has completed and the workers have exited; without, returns at once.
 * Calling it again is harmless.  Any thread; on a worker of ex (a task or
 * a callback) wait is impossible: it does the rest and returns PF_ESTATE.
 */
PF_EXPORT int pf_executor_shutdown(pf_executor *ex, int wait,
                                   int cancel_pending);

/*
 * Shut down (wait, draining pending tasks) and free.  NULL is a no-op.
 * Futures still referenced stay valid.  On a worker of ex (a task or a
 * callback) it cannot wait: the workers finish the queue and the last
 * one frees the executor.
 */
PF_EXPORT void pf_executor_free(pf_executor *ex);

/*
 * Wait in a coroutine until f completes, yielding to the scheduler in
 * the meantime (a worker's completion posts back to the loop thread).
 * Outside a coroutine the loop runs until f completes.  Returns what
 * pf_future_result(f, 0, result) returns then, or PF_ECANCELED when the
 * scheduler was stopped first (f itself is left alone), PF_ENOMEM.  The
 * caller holds a reference to f throughout.  Loop thread.  A coroutine
 * abandoned in pf_await() by pf_sched_free() leaves nothing behind: f
 * completes later without calling back into the freed scheduler.
 */
PF_EXPORT int pf_await(pf_sched *s, pf_future *f,
                       void **result /* OUT, may be NULL */);

/* ------------------------------------------------------------------ */
/* Jobs: downloading lists of URLs                                     */
/* ------------------------------------------------------------------ */

typedef struct pf_crawler pf_crawler;

enum pf_layout {
    PF_LAYOUT_TREE = 0, /* DIR/host[:port]/path, index.html for "/" */
    PF_LAYOUT_FLAT = 1  /* DIR/name, made unique */
};

enum pf_log_level { PF_LOG_ERROR = 0, PF_LOG_WARN, PF_LOG_INFO, PF_LOG_DEBUG };

/*
 * The final outcome of one URL: the same fields as its row in the log's
 * fetches table (see pfetch(5)).  Read-only, valid during the callback.
 * url, final_url and parent_url are the real URLs, passwords included
 * (the program gave them); the log holds them masked (pf_url_mask()),
 * and so must anything the program prints.
 */
struct pf_result {
    const char *url;           /* the URL as accepted (normalised) */
    const char *final_url;     /* URL of the last response; = url if none */
    long status;               /* HTTP status of the last response, or 0 */
    int64_t bytes;             /* body bytes saved */
    const char *path;          /* relative to out_dir; NULL if not saved */
    const char *content_type;  /* NULL when the server sent none */
    const char *error;         /* NULL on success, else a readable reason */
    int err;                   /* 0 on success, else a PF_E* code */
    int curl_code;             /* CURLcode of the last attempt */
    int attempts;              /* requests made */
    int depth;                 /* 0 for URLs given by the user */
    const char *parent_url;    /* the page that linked here, or NULL */
    int64_t elapsed_ms;        /* from first attempt start to the end */
    int64_t started_at_ms;     /* wall clock, ms since the Unix epoch */
    const char *sha256;        /* hex SHA-256 of the saved file, or NULL */
    const char *etag;          /* the last response's ETag as received */
    const char *last_modified; /* its Last-Modified as received, or NULL */
    const char *http_version;  /* "1.1", "2"...; NULL when none came */
};

typedef void pf_done_fn(pf_crawler *c, const struct pf_result *r,
                        void *userdata);

/*
 * A parsed page, handed to on_page on the parser thread that parsed it
 * (the C counterpart of a Scrapy callback).  Read-only but for follow[],
 * valid during the callback.  links[] holds every link found, resolved
 * and normalised, each once, in document order; follow[i] says whether
 * the crawl will consider links[i] (depth, scope, filters and robots.txt
 * still apply): the callback may clear entries to prune the crawl.
 */
struct pf_page {
    const char *url;          /* the page's URL as accepted */
    const char *final_url;    /* its last response's URL: the links' base */
    int depth;                /* as in pf_result */
    const char *content_type; /* NULL when the server sent none */
    const char *path;         /* the saved body, relative to out_dir */
    size_t nlinks;
    const char *const *links;
    const unsigned char *requisite; /* 1: img, script, stylesheet, CSS url() */
    unsigned char *follow;          /* 1 = follow; the callback may clear */
    void *doc; /* the page as a libxml2 tree (htmlDocPtr) when the config
                  asks for it (page_doc) and the page is HTML, else NULL;
                  read-only, freed after the callback */
};

typedef void pf_page_fn(pf_crawler *c, struct pf_page *pg, void *userdata);
typedef void pf_log_fn(int level, const char *msg, void *userdata);
struct pf_stats;
typedef void pf_progress_fn(pf_crawler *c, const struct pf_stats *st,
                            void *userdata);

/*
 * Everything a job can be told.  Fill it with pf_config_init(), change
 * what you need, pass it to pf_crawler_new(), which copies it (and every
 * string it points to).  Fields are only ever appended.
 */
struct pf_config {
    const char *out_dir;        /* default "." ; created if missing */
    const char *db_path;        /* default out_dir/pfetch.db; "" = none */
    unsigned jobs;              /* transfers in flight; default 16 */
    unsigned per_host;          /* per host:port; 0 = no cap but jobs */
    unsigned retries;           /* retries of transient failures; 3 */
    int64_t timeout_ms;         /* whole attempt; 0 = none */
    int64_t connect_timeout_ms; /* default 30000 */
    int64_t stall_timeout_ms;   /* no byte received for this; 60000 */
    int64_t rate;               /* overall bytes/s cap; 0 = none */
    int64_t max_filesize;       /* decoded body cap; 0 = none */
    const char *user_agent;     /* default "pfetch/VERSION" */
    const char *const *headers; /* extra "Name: value" request headers */
    size_t nheaders;
    enum pf_layout layout;
    int resume;                  /* -c: skip done URLs, resume .part */
    const char *argv;            /* recorded in the runs table as given:
                                    mask its secrets first */
    size_t stack_size;           /* per coroutine; 0 = default */
    int64_t retry_base_ms;       /* first backoff; default 1000 */
    int64_t retry_max_ms;        /* backoff cap; default 60000 */
    pf_done_fn *on_done;         /* each URL's final result; loop thread;
                                    a parsed page's once its links are in */
    pf_log_fn *on_log;           /* messages; loop thread; may be NULL */
    void *userdata;              /* passed to every callback */
    pf_progress_fn *on_progress; /* every progress_ms while running */
    int64_t progress_ms;         /* default 250 */

    /* Crawling (pfetch -r, -p): see pfetch(1), "CRAWLING". */
    int recursive;       /* -r: follow links of HTML pages and CSS */
    int depth;           /* -l: link distance from a seed; default 5, <0 inf */
    int span_hosts;      /* follow links to hosts other than the seeds' */
    const char *accept;  /* POSIX ERE a link's URL must match, or NULL */
    const char *reject;  /* POSIX ERE no link's URL may match, or NULL */
    int page_requisites; /* -p: images, stylesheets, scripts of pages */
    int no_robots;       /* do not obey robots.txt */
    unsigned parsers;    /* parser threads; 0 = one per online CPU */
    pf_page_fn *on_page; /* each parsed page; parser thread; may be NULL */
    int page_doc;        /* give on_page the libxml2 tree of HTML pages */

    /* Re-fetching and output: see pfetch(1), -N and --json. */
    int timestamping; /* -N: ask again with the log's validators */
    FILE *json_out;   /* --json: one JSON line per committed row, or NULL */
    /* Network and identity: see pfetch(1), "NETWORK AND IDENTITY". */
    const char *cacert;       /* CA certificates (PEM) to verify TLS peers
                                 against, instead of the system's; or NULL */
    int insecure;             /* do not verify TLS peers (warned once) */
    const char *proxy;        /* every request through this proxy URL
                                 (http://, https://, socks5h://); NULL: the
                                 environment's http_proxy, https_proxy and
                                 no_proxy, as curl reads them; "": none */
    const char *user;         /* "USER:PASS", Basic or Digest, sent only to
                                 the seeds' host:port; or NULL */
    int netrc;                /* credentials from ~/.netrc */
    const char *netrc_file;   /* credentials from this file; or NULL */
    const char *load_cookies; /* cookies to start with (Netscape format) */
    const char *save_cookies; /* the jar, written when the run ends */
    int http1_1;              /* never negotiate HTTP/2 */
    /* Politeness and sitemaps: see pfetch(1), "POLITENESS", "SITEMAPS". */
    int64_t wait_ms; /* --wait: at least this between the starts of two
                        requests to a host, which then has one request in
                        flight at a time; 0 = none */
    int random_wait; /* --random-wait: each wait drawn in [0.5, 1.5] x
                        wait_ms (never below a Crawl-delay) */
    int sitemaps;    /* --sitemaps (needs recursive): the seeds' hosts'
                        sitemaps, their URLs links of depth 1 */
};

struct pf_stats {
    uint64_t accepted;   /* URLs accepted (each gets one result) */
    uint64_t done;       /* results delivered, successes and failures */
    uint64_t failed;     /* of which failures (robots.txt refusals aside) */
    uint64_t bytes;      /* body bytes received so far */
    uint64_t in_flight;  /* transfers running now */
    uint64_t queued;     /* accepted, not yet started or waiting to retry */
    int64_t elapsed_ms;  /* since pf_crawler_run() began */
    uint64_t refused;    /* of done: refused by robots.txt, not failures */
    uint64_t reading;    /* URL lists not yet read to their end */
    uint64_t sized;      /* of in_flight: body size announced */
    uint64_t bytes_left; /* of those sized: body bytes still to come */
};

PF_EXPORT void pf_config_init(struct pf_config *cfg);

/*
 * Create a job from cfg: checks the values (PF_EINVAL for out-of-range
 * ones), creates the output directory (PF_EOUTDIR) and opens the log
 * (PF_EDB).  The calling thread becomes the job's loop thread.
 */
PF_EXPORT int pf_crawler_new(pf_crawler **out /* OUT */,
                             const struct pf_config *cfg);

/*
 * Accept one URL, as a seed (depth 0).  It is parsed and normalised with
 * libcurl's URL API; only http and https are accepted (PF_EURL
 * otherwise).  Any thread, before or during the run:
 *   - on the job's loop thread (the one that created it, runs it, calls
 *     on_done), it is accepted at once, and a URL already accepted by
 *     this job returns PF_EDUPLICATE and is not fetched again;
 *   - on any other thread (an on_page callback, a thread of the
 *     program's), it is checked and normalised at once, then handed to
 *     the loop thread, which accepts it, or drops a duplicate silently,
 *     at its next iteration; the run does not end before it has.
 * PF_ESTATE once the job is stopping or its run has returned.
 */
PF_EXPORT int pf_crawler_add_url(pf_crawler *c, const char *url);

/*
 * Accept a link chosen by the program, as if page from had contained it:
 * url is resolved against from->final_url (not against a <base href> of
 * the page: from->links[] are resolved already, and are the URLs to pass
 * when following one of them), gets depth from->depth + 1 and
 * from->url as its parent, and goes through the crawl's rules like any
 * link found in a page (depth limit, host scope, --accept/--reject,
 * robots.txt, dedupe).  The C counterpart of a Scrapy callback yielding
 * a request.  from NULL makes it a seed, as pf_crawler_add_url().
 * Returns 0 (also when a rule then leaves the link out), PF_EURL, or
 * PF_ESTATE.  Any thread, on_page included (from is valid there).
 */
PF_EXPORT int pf_crawler_add_link(pf_crawler *c, const struct pf_page *from,
                                  const char *url);

/*
 * Accept the URLs of a list: one per line, blank lines and lines starting
 * with '#' ignored.  The list is read lazily while the job runs, never
 * loaded whole.  A bad line is reported through on_log as
 * "NAME:LINE: reason" and skipped.  pf_crawler_add_list() opens path
 * ("-" is standard input) at once and returns PF_EIO if it cannot;
 * pf_crawler_add_stream() reads fp, which stays the caller's and must stay
 * open until pf_crawler_run() returns; name labels its messages.  A pipe,
 * socket or terminal never blocks the run: its descriptor is read when it
 * is ready (so the caller must not read it meanwhile), and the run waits
 * for its writer to close it.
 */
PF_EXPORT int pf_crawler_add_list(pf_crawler *c, const char *path);
PF_EXPORT int pf_crawler_add_stream(pf_crawler *c, FILE *fp, const char *name);

/*
 * Fetch everything accepted, until done or stopped.  Returns 0 when every
 * URL has its result (failures included: see pf_stats.failed),
 * PF_ECANCELED when pf_crawler_stop() ended it early (every URL accepted
 * so far still got its result, marked interrupted), or a fatal error
 * (PF_EDB, PF_EDISKFULL, PF_EOUTDIR...).  Loop thread; once per job.
 */
PF_EXPORT int pf_crawler_run(pf_crawler *c);

/*
 * Driving a job from the program's own event loop instead of
 * pf_crawler_run(), the way curl_multi_socket_action() lets a program
 * drive libcurl:
 *
 *     int fd = pf_crawler_fd(c);
 *     while ((rc = pf_crawler_step(c)) == 1) {
 *         struct pollfd p = {fd, POLLIN, 0};
 *         poll(&p, 1, (int)pf_crawler_timeout_ms(c));
 *     }
 *     // rc: what pf_crawler_run() would have returned
 *
 * pf_crawler_fd() is a descriptor (epoll's) that becomes readable when
 * the job has I/O to handle; it stays the same for the job's life and
 * belongs to the job (do not read it or close it).
 * pf_crawler_timeout_ms() is how long the program may wait for it before
 * calling pf_crawler_step() anyway: 0 when work is ready now, -1 for no
 * limit.  pf_crawler_step() does the work that is ready without
 * blocking (the first call starts the run) and returns 1 while the run
 * goes on; once it has ended it returns what pf_crawler_run() returns.
 * Callbacks run inside pf_crawler_step().  The thread that calls it is
 * the job's loop thread.  Do not mix with pf_crawler_run().
 */
PF_EXPORT int pf_crawler_fd(const pf_crawler *c);
PF_EXPORT int64_t pf_crawler_timeout_ms(const pf_crawler *c);
PF_EXPORT int pf_crawler_step(pf_crawler *c);

/*
 * Ask a running job to stop: no new transfers start, transfers in flight
 * are aborted (their .part files kept for a later resume), the log is
 * committed and pf_crawler_run() returns.  Any thread; async-signal-safe.
 */
PF_EXPORT void pf_crawler_stop(pf_crawler *c);

/* A snapshot of the counters.  Loop thread (e.g. from on_done). */
PF_EXPORT void pf_crawler_stats(const pf_crawler *c, struct pf_stats *st);

/* The run's id in the log's runs table, or 0 without a log. */
PF_EXPORT int64_t pf_crawler_run_id(const pf_crawler *c);

PF_EXPORT void pf_crawler_free(pf_crawler *c);

/*
 * url with its password masked, as pfetch prints and logs URLs:
 * "http://alice:secret@host/" becomes "http://alice:***@host/".  A URL
 * with no password (or an empty one) is copied unchanged, byte for
 * byte; text that is not an http(s) URL is masked in the same way when
 * it reads "scheme://user:password@...".  Writes into buf as snprintf()
 * does: as much as fits, NUL-terminated when size > 0 (buf may be NULL
 * when size is 0), never a part of the password.  Returns the length of
 * the whole masked text without its NUL; PF_EINVAL for a NULL url, a
 * NULL buf with size > 0, or a text longer than INT_MAX.  Allocates
 * nothing; any thread.
 */
PF_EXPORT int pf_url_mask(const char *url, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif /* PFETCH_H */
