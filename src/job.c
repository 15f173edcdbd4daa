/*
 * job.c -- a job's life around the story that crawler.c tells: making
 * it (pf_crawler_new), running it to its end or stepping it from the
 * caller's own loop, stopping it, and freeing it, in that order.
 *
 * The run is one state machine (enum run_state in job.h): IDLE until it
 * runs, RUNNING, STOPPING once a stop is taken (a signal or
 * pf_crawler_stop(), a fatal storage error, a failing log), FINISHED when
 * every accepted URL has its row.  Every stop goes through begin_stop()
 * once.
 *
 * Loop thread, but pf_crawler_stop(), which only sets a flag and wakes
 * the loop.  It never fetches, judges or parses anything itself.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "config.h"
#include "job.h"

/* Messages. */

void pf__job_say(struct pf_crawler *c, int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (c->cfg.on_log == NULL)
        return;
    va_start(ap, fmt);
    /* va_start is above; clang 14's analyzer misreads va_list. */
    vsnprintf(msg, sizeof(msg), fmt, ap); /* NOLINT */
    va_end(ap);
    c->cfg.on_log(level, msg, c->cfg.userdata);
}

void pf__job_fatal(struct pf_crawler *c, int err)
{
    if (c->fatal == 0)
        c->fatal = err;
    atomic_store(&c->stop_requested, 1);
}

/* The log failed with rc: say why, and stop the run. */
void pf__job_db_failed(struct pf_crawler *c, int rc)
{
    const char *why = pf__db_errmsg(c->db);

    pf__job_say(c, PF_LOG_ERROR, "log database: %s",
                why != NULL ? why : pf_strerror(rc));
    pf__job_fatal(c, rc);
}

/* Our copies of the configuration's strings; PF_ENOMEM. */
static int copy_strings(struct pf_crawler *c, const struct pf_config *cfg)
{
    c->out_dir = pf__strdup(
        cfg->out_dir != NULL && cfg->out_dir[0] != '\0' ? cfg->out_dir : ".");
    if (cfg->db_path == NULL)
        c->db_path = pf__asprintf("%s/pfetch.db", c->out_dir);
    else
        c->db_path = pf__strdup(cfg->db_path);
    c->user_agent = cfg->user_agent != NULL
                        ? pf__strdup(cfg->user_agent)
                        : pf__strdup("pfetch/" PF_VERSION_STRING);
    c->argv = cfg->argv != NULL ? pf__strdup(cfg->argv) : NULL;
    if (c->out_dir == NULL || c->db_path == NULL || c->user_agent == NULL ||
        (cfg->argv != NULL && c->argv == NULL))
        return PF_ENOMEM;
    c->cfg.out_dir = c->out_dir;
    c->cfg.db_path = c->db_path;
    c->cfg.user_agent = c->user_agent;
    c->cfg.argv = c->argv;
    c->cfg.headers = NULL; /* the transfers keep their own */
    c->cfg.nheaders = 0;
    c->cfg.accept = NULL; /* the frontier compiles them */
    c->cfg.reject = NULL;
    c->cfg.cacert = NULL; /* the transfers keep their own */
    c->cfg.proxy = NULL;
    c->cfg.user = NULL;
    c->cfg.netrc_file = NULL;
    c->cfg.load_cookies = NULL;
    c->cfg.save_cookies = NULL;
    return 0;
}

static int open_frontier(struct pf_crawler *c, const struct pf_config *cfg)
{
    struct pf__frontier_conf fc;
    struct pf__frontier_hooks hooks;
    char why[512] = "";
    int rc;

    memset(&fc, 0, sizeof(fc));
    fc.jobs = cfg->jobs;
    fc.per_host = cfg->per_host;
    fc.max_depth = c->max_depth;
    fc.gate = cfg->recursive;
    fc.parsing = c->cfg.recursive || cfg->page_requisites || cfg->on_page;
    fc.robots = !cfg->no_robots;
    fc.span_hosts = cfg->span_hosts;
    fc.accept = cfg->accept;
    fc.reject = cfg->reject;
    fc.wait_ms = cfg->wait_ms;
    fc.random_wait = cfg->random_wait;
    fc.loop = pf__sched_loop(c->s);
    memset(&hooks, 0, sizeof(hooks));
    hooks.is_done = cfg->resume && c->db != NULL ? pf__crawler_is_done : NULL;
    hooks.accepted =
        cfg->layout == PF_LAYOUT_FLAT ? pf__crawler_accepted : NULL;
    hooks.pending = c->db != NULL ? pf__crawler_pending : NULL;
    hooks.robots = pf__crawler_robots;
    hooks.waiting = pf__crawler_waiting;
    hooks.ud = c;
    rc = pf__frontier_mem_new(&c->frontier, &fc, &hooks, why, sizeof(why));
    if (rc == PF_EINVAL)
        pf__job_say(c, PF_LOG_ERROR, "%s", why);
    return rc;
}

/* Output directory, log, parser threads: each says why it failed. */
static int open_outputs(struct pf_crawler *c, const struct pf_config *cfg)
{
    char *errmsg = NULL;
    int rc;

    rc = pf__store_open(&c->store, c->out_dir, cfg->layout,
                        c->db_path[0] != '\0' ? c->db_path : NULL);
    if (rc < 0) {
        pf__job_say(c, PF_LOG_ERROR, "cannot use output directory %s: %s",
                    c->out_dir, strerror(errno));
        return PF_EOUTDIR;
    }
    if (c->db_path[0] != '\0') {
        rc = pf__db_open(&c->db, c->db_path, c->argv, &c->run_id, &errmsg);
        if (rc < 0) {
            pf__job_say(c, PF_LOG_ERROR, "%s",
                        errmsg != NULL ? errmsg
                                       : "cannot open the log database");
            pf__free(errmsg);
            return rc;
        }
        pf__db_set_json(c->db, cfg->json_out);
    }
    if (cfg->recursive || cfg->page_requisites || cfg->on_page != NULL) {
        rc = pf__pages_new(&c->pages, pf__sched_loop(c->s), cfg->parsers, c,
                           cfg, pf__crawler_on_parsed, c);
        if (rc < 0) {
            pf__job_say(c, PF_LOG_ERROR, "cannot start the parser threads: %s",
                        pf_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/* The transfers, and what their options say once per run. */
static int open_transfers(struct pf_crawler *c, const struct pf_config *cfg)
{
    char why[512] = "";
    int rc = pf__transfers_new(&c->xfers, c->s, cfg, c->user_agent, c->store,
                               &c->st.bytes, why, sizeof(why));

    if (rc < 0) {
        if (why[0] != '\0')
            pf__job_say(c, PF_LOG_ERROR, "%s", why);
        return rc;
    }
    if (cfg->insecure)
        pf__job_say(c, PF_LOG_WARN,
                    "warning: TLS certificates are not verified (--insecure)");
    return 0;
}

int pf_crawler_new(pf_crawler **out, const struct pf_config *cfg)
{
    struct pf_crawler *c;
    int rc;

    if (out == NULL || cfg == NULL)
        return PF_EINVAL;
    rc = pf__config_check(cfg);
    if (rc < 0)
        return rc;
    c = pf__calloc(1, sizeof(*c));
    if (c == NULL)
        return PF_ENOMEM;
    c->cfg = *cfg;
    atomic_init(&c->state, RUN_IDLE);
    atomic_init(&c->stop_requested, 0);
    atomic_init(&c->adds_pending, 0);
    c->loop_thread = pthread_self();
    c->max_depth = cfg->depth < 0 ? PF__DEPTH_INF : cfg->depth;
    rc = copy_strings(c, cfg);
    if (rc == 0) {
        pf__product_token(c->user_agent, c->product, sizeof(c->product));
        rc = pf_sched_new(&c->s, cfg->stack_size);
    }
    if (rc == 0)
        rc = open_outputs(c, cfg);
    if (rc == 0)
        rc = open_frontier(c, cfg);
    if (rc == 0)
        rc = open_transfers(c, cfg);
    if (rc < 0) {
        pf_crawler_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* The run. */

/*
 * Every stop takes this path once: a signal or pf_crawler_stop(), a
 * fatal storage error, a failing log.  Loop thread.
 */
static void begin_stop(struct pf_crawler *c)
{
    struct pf__item *it;

    atomic_store(&c->state, RUN_STOPPING);
    c->result = PF_ECANCELED;
    pf__transfers_stopping(c->xfers);
    pf__frontier_close(c->frontier);
    /*
     * Waiting coroutines end now: transfers are aborted, sleeps and slot
     * waits cut short (their cancel hooks withdraw requeued retries).
     */
    pf__sched_cancel_all(c->s);
    /* Pages not parsed yet never will be; running parses come back. */
    pf__pages_shutdown(c->pages);
    /*
     * The unread rest of every list is not accepted: it gets no row, and
     * -c with the same list fetches it.  A list left open would keep the
     * run waiting for lines it no longer reads.
     */
    pf__crawler_unwatch_lists(c);
    pf__urlset_close(&c->lists);
    /* What never started gets its row here. */
    while ((it = pf__frontier_drain(c->frontier)) != NULL)
        pf__crawler_finish_unstarted(c, it);
}

static int all_done(const struct pf_crawler *c)
{
    struct pf__frontier_counts n;

    pf__frontier_counts(c->frontier, &n);
    return pf__sched_live(c->s) == 0 && n.queued == 0 &&
           pf__pages_pending(c->pages) == 0 &&
           pf__urlset_reading(&c->lists) == 0 &&
           atomic_load(&c->adds_pending) == 0;
}

static void progress(struct pf_crawler *c, int64_t now_ms, int force)
{
    if (c->cfg.on_progress == NULL)
        return;
    if (!force && now_ms - c->last_progress_ms < c->cfg.progress_ms)
        return;
    c->last_progress_ms = now_ms;
    pf_crawler_stats(c, &c->st);
    c->cfg.on_progress(c, &c->st, c->cfg.userdata);
}

static void run_begin(struct pf_crawler *c)
{
    if (c->cfg.resume && c->db != NULL &&
        (c->cfg.recursive || c->cfg.page_requisites)) {
        int rc = pf__crawler_resume(c);
        struct pf__frontier_counts n;

        pf__frontier_counts(c->frontier, &n);
        if (rc < 0)
            pf__job_db_failed(c, rc);
        else if (n.accepted > 0)
            pf__job_say(c, PF_LOG_INFO, "resuming a crawl: %llu URLs accepted",
                        (unsigned long long)n.accepted);
    }
    atomic_store(&c->state, RUN_RUNNING);
    c->loop_thread = pthread_self();
    c->started_ns = pf__now_ns();
}

/*
 * One turn of the run: start what can start, then poll (blocking or not)
 * and run the coroutines that are ready.  0 once everything is done.
 */
static int run_turn(struct pf_crawler *c, int block)
{
    int rc;

    if (atomic_load(&c->stop_requested) && pf__job_state(c) == RUN_RUNNING)
        begin_stop(c);
    if (pf__pages_backlogged(c->pages))
        pf__pages_pump(c->pages);
    if (pf__job_state(c) == RUN_RUNNING) {
        pf__crawler_read_lists(c);
        pf__crawler_refill(c);
    }
    if (all_done(c))
        return 0;
    rc = pf__sched_step(c->s, block);
    if (rc < 0)
        pf__job_fatal(c, rc);
    /* The log's writer thread commits by itself: nothing to do. */
    progress(c, pf__now_ms(), 0);
    return 1;
}

static int run_end(struct pf_crawler *c)
{
    char why[512] = "";
    int rc;

    atomic_store(&c->state, RUN_FINISHED);
    progress(c, pf__now_ms(), 1);
    rc = pf__transfers_finish(c->xfers, why, sizeof(why));
    if (rc < 0) {
        pf__job_say(c, PF_LOG_ERROR, "%s", why[0] ? why : pf_strerror(rc));
        pf__job_fatal(c, rc);
    }
    if (c->db != NULL) {
        rc = pf__db_finish_run(c->db);
        if (rc < 0)
            pf__job_db_failed(c, rc);
    }
    if (c->fatal != 0)
        c->result = c->fatal;
    return c->result;
}

int pf_crawler_run(pf_crawler *c)
{
    if (c == NULL)
        return PF_EINVAL;
    if (pf__job_state(c) != RUN_IDLE)
        return PF_ESTATE;
    run_begin(c);
    while (run_turn(c, 1))
        ;
    return run_end(c);
}

/* Is there work to do right now, without waiting for I/O or a timer? */
static int work_ready(const struct pf_crawler *c)
{
    int running = pf__job_state(c) == RUN_RUNNING;

    return pf__sched_has_ready(c->s) ||
           (atomic_load(&c->stop_requested) && running) ||
           (running && pf__frontier_runnable(c->frontier)) || all_done(c);
}

int pf_crawler_step(pf_crawler *c)
{
    int turns;

    if (c == NULL)
        return PF_EINVAL;
    if (pf__job_state(c) == RUN_FINISHED)
        return c->result;
    if (pf__job_state(c) == RUN_IDLE)
        run_begin(c);
    /* A few turns while work is ready, so one call does a useful amount. */
    for (turns = 0; turns < 64; turns++) {
        if (!run_turn(c, 0))
            return run_end(c);
        if (!work_ready(c))
            break;
    }
    return 1;
}

int pf_crawler_fd(const pf_crawler *c)
{
    return c != NULL ? pf__sched_fd(c->s) : -1;
}

int64_t pf_crawler_timeout_ms(const pf_crawler *c)
{
    int64_t t = -1, next;

    if (c == NULL || pf__job_state(c) == RUN_FINISHED || work_ready(c))
        return 0;
    next = pf__sched_next_deadline_ns(c->s);
    if (next >= 0) {
        t = (next - pf__now_ns() + 999999) / 1000000;
        if (t < 0)
            t = 0;
    }
    if (c->cfg.on_progress != NULL && (t < 0 || t > c->cfg.progress_ms))
        t = c->cfg.progress_ms;
    return t;
}

void pf_crawler_stop(pf_crawler *c)
{
    if (c == NULL)
        return;
    atomic_store(&c->stop_requested, 1);
    pf__loop_wakeup(pf__sched_loop(c->s));
}

void pf_crawler_stats(const pf_crawler *c, struct pf_stats *st)
{
    struct pf__frontier_counts n;

    if (c == NULL || st == NULL)
        return;
    *st = c->st;
    if (c->frontier != NULL) {
        pf__frontier_counts(c->frontier, &n);
        st->accepted = n.accepted;
        st->queued = n.queued;
        st->in_flight = n.active;
    }
    if (c->xfers != NULL)
        pf__transfers_sizes(c->xfers, &st->sized, &st->bytes_left);
    st->reading = pf__urlset_reading(&c->lists);
    st->elapsed_ms =
        c->started_ns ? (pf__now_ns() - c->started_ns) / 1000000 : 0;
}

int64_t pf_crawler_run_id(const pf_crawler *c)
{
    return c != NULL ? c->run_id : 0;
}

void pf_crawler_free(pf_crawler *c)
{
    if (c == NULL)
        return;
    /* The parsers first: nothing may post to the loop once it is gone. */
    pf__pages_free(c->pages);
    pf__crawler_unwatch_lists(c);
    /* Coroutines (and the items they own) go with the scheduler. */
    pf_sched_free(c->s);
    pf__crawler_cleanup(c);
    pf__frontier_free(c->frontier);
    pf__transfers_free(c->xfers);
    pf__urlset_free(&c->lists);
    pf__store_close(c->store);
    pf__db_close(c->db);
    pf__free(c->out_dir);
    pf__free(c->db_path);
    pf__free(c->user_agent);
    pf__free(c->argv);
    pf__strmap_free(&c->passwords, pf__free);
    pf__free(c);
}
