/*
 * job.h -- the job, as its two halves share it: crawler.c tells the
 * story of a URL (accepted, leased, fetched, judged, saved, parsed,
 * logged); job.c runs the job's life around it (construction, the run's
 * state machine, stepping from the caller's loop, stopping, teardown).
 * Internal.  Loop thread, but what says otherwise.
 */
#ifndef PF_JOB_H
#define PF_JOB_H

#include <pthread.h>
#include <stdatomic.h>

#include "coro.h"
#include "db.h"
#include "frontier.h"
#include "pages.h"
#include "store.h"
#include "transfer.h"
#include "urllist.h"

enum run_state {
    RUN_IDLE,     /* made, not run yet */
    RUN_RUNNING,  /* pf_crawler_run() or _step() has begun */
    RUN_STOPPING, /* a stop was taken: nothing new starts */
    RUN_FINISHED  /* every accepted URL has its row; result is final */
};

struct pf_crawler {
    struct pf_config cfg; /* strings below are our copies */
    char *out_dir;
    char *db_path;
    char *user_agent;
    char *argv;

    pf_sched *s;
    struct pf__frontier *frontier;
    struct pf__transfers *xfers;
    struct pf__pages *pages; /* NULL when pages are not parsed */
    struct pf__store *store;
    struct pf__db *db;
    int64_t run_id;

    struct pf__urlset lists;  /* URL lists, read lazily */
    struct pf__io list_watch; /* a pipe list with no whole line yet */

    struct pf_stats st;
    int64_t started_ns;
    int64_t last_progress_ms;

    atomic_int state;           /* enum run_state; other threads read it */
    atomic_int stop_requested;  /* any thread, signal handlers too */
    atomic_size_t adds_pending; /* URLs posted by other threads, on the way */
    pthread_t loop_thread;      /* creator, then the thread that runs */
    int fatal;                  /* PF_EDISKFULL, PF_EDB...: why it stopped */
    int result;                 /* once FINISHED */

    int max_depth; /* -l; PF__DEPTH_INF for inf */
    /* -c with a crawl: "user@host:port" of seeds -> password, until the
       resumed rows are read (crawler.c, "Passwords of a resumed crawl") */
    struct pf__strmap passwords;
    char product[64]; /* robots.txt name: the UA's first word */
    /* "host:port" -> struct robots_host: each host's robots.txt, fetched
       once for the frontier and --sitemaps (crawler.c, "robots.txt") */
    struct pf__strmap robots_hosts;
};

static inline int pf__job_state(const struct pf_crawler *c)
{
    return atomic_load(&c->state);
}

/* job.c: messages and the reasons a run stops. */
void pf__job_say(struct pf_crawler *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pf__job_fatal(struct pf_crawler *c, int err); /* stop, for err */
void pf__job_db_failed(struct pf_crawler *c, int rc);

/* crawler.c: the story, as the run drives it. */
void pf__crawler_read_lists(struct pf_crawler *c); /* the lookahead */
void pf__crawler_unwatch_lists(struct pf_crawler *c);
void pf__crawler_refill(struct pf_crawler *c); /* start what may */
void pf__crawler_finish_unstarted(struct pf_crawler *c, struct pf__item *it);
void pf__crawler_on_parsed(struct pf__page_job *job, void *ud);
/* -c with a crawl: accept what an earlier run's frontier left. */
int pf__crawler_resume(struct pf_crawler *c);
/* The frontier's hooks (ud is the job). */
int pf__crawler_is_done(const char *url, void *ud);
int pf__crawler_accepted(const char *url, void *ud);
void pf__crawler_pending(const char *url, int depth, const char *parent,
                         int requisite, void *ud);
int pf__crawler_robots(struct pf__host *h, const char *url, void *ud);
void pf__crawler_waiting(const char *url, int64_t wait_ms, int crawl_delay,
                         void *ud);
/* What the story keeps until the job is freed (after the scheduler). */
void pf__crawler_cleanup(struct pf_crawler *c);

#endif /* PF_JOB_H */
