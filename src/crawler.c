/*
 * crawler.c -- the job engine behind pfetch(1): the story of a URL.
 *
 * A URL is accepted (pf_crawler_add_url, or read lazily from a list),
 * normalised and deduplicated, and queued as an item on its host's queue
 * (host = host:port).  refill() hands free slots to hosts round-robin,
 * within -j overall and --per-host per host, and spawns one coroutine per
 * item: crawl_one() takes an easy handle from the pool, streams the body
 * into NAME.part through the store, renames it when complete, retries
 * transient failures after a backoff (holding no slot while it waits),
 * and ends by logging exactly one row and calling on_done.
 *
 * Loop thread only, but pf_crawler_stop(), which only sets a flag and
 * wakes the loop.  This module owns the items, the host queues, the
 * easy-handle pool and the order of shutdown; curl's multi handle belongs
 * to fetch.c, files to store.c, SQL to db.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "coro.h"
#include "db.h"
#include "store.h"
#include "urllist.h"

/*
 * curl's receive buffer.  Large, so big bodies move in few system calls
 * (measured on loopback: 2 x 256 MiB in 0.39 s with 512 KiB, 0.95 s with
 * 64 KiB).  curl allocates it per transfer; global.c gives curl an
 * allocator that keeps such blocks page-aligned and reuses them, so small
 * files do not pay an mmap, page faults and a munmap each.
 */
#define EASY_BUFFER_SIZE (512 * 1024)
#define LIST_LOOKAHEAD_MIN 1024

struct host {
    struct pf__queue pending; /* items waiting for a slot */
    struct pf__queue link;    /* in c->ready_hosts */
    struct pf__queue all;     /* in c->all_hosts */
    unsigned active;          /* slots held */
    int in_ready;
};

/* One accepted URL, from acceptance to its row: one allocation. */
struct item {
    struct pf__queue link; /* in host->pending */
    struct host *host;
    struct pf_crawler *c;
    struct pf_co *parked; /* a retry waiting for a slot, or NULL */
    int depth;
    char *parent;
    char url[]; /* normalised */
};

struct source {
    struct pf__urllist *reader;
};

struct pf_crawler {
    struct pf_config cfg; /* strings below are our copies */
    char *out_dir;
    char *db_path;
    char *user_agent;
    char *argv;
    struct curl_slist *headers;

    pf_sched *s;
    struct pf__store *store;
    struct pf__db *db;
    int64_t run_id;

    struct pf__strmap seen;  /* every URL accepted by this job */
    struct pf__strmap hosts; /* "host:port" -> struct host */
    struct pf__queue ready_hosts;
    struct pf__queue all_hosts;
    unsigned active; /* slots held, all hosts */
    struct source *sources;
    size_t nsources;
    size_t cur_source;

    CURL **pool; /* idle easy handles */
    size_t npool;

    struct pf_stats st;
    int64_t started_ns;
    int64_t last_progress_ms;

    /* The overall --rate cap: a token bucket; paused transfers wait. */
    int64_t tokens;
    int64_t tokens_ns;
    struct pf__queue paused;
    struct pf__timer rate_timer;

    atomic_int stop_requested;
    int stopping;
    int fatal; /* PF_EDISKFULL, PF_EDB...: stops the run */
    int ran;
};

/* Messages. */

static void say(struct pf_crawler *c, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct pf_crawler *c, int level, const char *fmt, ...)
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

/* Configuration. */

void pf_config_init(struct pf_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->out_dir = ".";
    cfg->jobs = 16;
    cfg->retries = 3;
    cfg->connect_timeout_ms = 30000;
    cfg->stall_timeout_ms = 60000;
    cfg->layout = PF_LAYOUT_TREE;
    cfg->retry_base_ms = 1000;
    cfg->retry_max_ms = 60000;
    cfg->progress_ms = 250;
}

/*
 * Each transfer needs a socket and, while writing, a file; the store and
 * SQLite hold a few more.  -j beyond what the descriptor limit allows is
 * refused up front rather than failing transfers later.
 */
static int jobs_fit_fd_limit(unsigned jobs)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 1;
    return (rlim_t)jobs * 2 + 64 <= rl.rlim_cur;
}

static int check_config(const struct pf_config *cfg)
{
    size_t i;

    if (cfg->jobs == 0 || cfg->jobs > 100000 || !jobs_fit_fd_limit(cfg->jobs))
        return PF_EINVAL;
    if (cfg->timeout_ms < 0 || cfg->connect_timeout_ms < 0 ||
        cfg->stall_timeout_ms < 0 || cfg->rate < 0 || cfg->max_filesize < 0 ||
        cfg->retry_base_ms < 0 || cfg->retry_max_ms < 0 ||
        cfg->progress_ms < 0 || cfg->retries > 1000)
        return PF_EINVAL;
    if (cfg->layout != PF_LAYOUT_TREE && cfg->layout != PF_LAYOUT_FLAT)
        return PF_EINVAL;
    if (cfg->nheaders > 0 && cfg->headers == NULL)
        return PF_EINVAL;
    for (i = 0; i < cfg->nheaders; i++) {
        const char *h = cfg->headers[i];

        if (h == NULL || strpbrk(h, "\r\n") != NULL || strchr(h, ':') == NULL)
            return PF_EINVAL;
    }
    if (cfg->user_agent != NULL && strpbrk(cfg->user_agent, "\r\n") != NULL)
        return PF_EINVAL;
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? pf__strdup(s) : NULL;
}

int pf_crawler_new(pf_crawler **out, const struct pf_config *cfg)
{
    struct pf_crawler *c;
    char *errmsg = NULL;
    size_t i;
    int rc;

    if (out == NULL || cfg == NULL)
        return PF_EINVAL;
    rc = check_config(cfg);
    if (rc < 0)
        return rc;
    c = pf__calloc(1, sizeof(*c));
    if (c == NULL)
        return PF_ENOMEM;
    c->cfg = *cfg;
    pf__queue_init(&c->ready_hosts);
    pf__queue_init(&c->all_hosts);
    pf__queue_init(&c->paused);
    atomic_init(&c->stop_requested, 0);
    rc = PF_ENOMEM;
    c->out_dir = pf__strdup(
        cfg->out_dir != NULL && cfg->out_dir[0] != '\0' ? cfg->out_dir : ".");
    if (cfg->db_path == NULL)
        c->db_path = pf__asprintf("%s/pfetch.db", c->out_dir);
    else
        c->db_path = pf__strdup(cfg->db_path);
    c->user_agent = cfg->user_agent != NULL
                        ? pf__strdup(cfg->user_agent)
                        : pf__strdup("pfetch/" PF_VERSION_STRING);
    c->argv = dup_or_null(cfg->argv);
    if (c->out_dir == NULL || c->db_path == NULL || c->user_agent == NULL ||
        (cfg->argv != NULL && c->argv == NULL))
        goto fail;
    for (i = 0; i < cfg->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(c->headers, cfg->headers[i]);

        if (l == NULL)
            goto fail;
        c->headers = l;
    }
    c->cfg.out_dir = c->out_dir;
    c->cfg.db_path = c->db_path;
    c->cfg.user_agent = c->user_agent;
    c->cfg.argv = c->argv;
    c->cfg.headers = NULL;
    c->pool = pf__calloc(cfg->jobs, sizeof(CURL *));
    if (c->pool == NULL)
        goto fail;
    rc = pf_sched_new(&c->s, cfg->stack_size);
    if (rc < 0)
        goto fail;
    curl_multi_setopt(c->s->multi, CURLMOPT_MAXCONNECTS, (long)cfg->jobs);
    pf__timer_init(&c->rate_timer, NULL, c);
    rc = pf__store_open(&c->store, c->out_dir, cfg->layout,
                        c->db_path[0] != '\0' ? c->db_path : NULL);
    if (rc < 0) {
        say(c, PF_LOG_ERROR, "cannot use output directory %s: %s", c->out_dir,
            strerror(errno));
        rc = PF_EOUTDIR;
        goto fail;
    }
    if (c->db_path[0] != '\0') {
        rc = pf__db_open(&c->db, c->db_path, c->argv, &c->run_id, &errmsg);
        if (rc < 0) {
            say(c, PF_LOG_ERROR, "%s",
                errmsg != NULL ? errmsg : "cannot open the log database");
            pf__free(errmsg);
            goto fail;
        }
    }
    *out = c;
    return 0;
fail:
    pf_crawler_free(c);
    return rc;
}

/* Accepting URLs. */

static struct host *host_get(struct pf_crawler *c, const char *url)
{
    char *key = NULL;
    struct host *h;

    if (pf__url_hostport(url, &key) < 0)
        return NULL;
    h = pf__strmap_get(&c->hosts, key);
    if (h == NULL) {
        h = pf__calloc(1, sizeof(*h));
        if (h != NULL) {
            pf__queue_init(&h->pending);
            pf__queue_init(&h->link);
            if (pf__strmap_put(&c->hosts, key, h) < 0) {
                pf__free(h);
                h = NULL;
            } else {
                pf__queue_insert_tail(&c->all_hosts, &h->all);
            }
        }
    }
    pf__free(key);
    return h;
}

static int host_has_room(const struct pf_crawler *c, const struct host *h)
{
    return c->cfg.per_host == 0 || h->active < c->cfg.per_host;
}

/* Put h on the ready list if it has work and room, and is not there. */
static void host_update(struct pf_crawler *c, struct host *h)
{
    if (!h->in_ready && !pf__queue_empty(&h->pending) && host_has_room(c, h)) {
        pf__queue_insert_tail(&c->ready_hosts, &h->link);
        h->in_ready = 1;
    }
}

static int accept_url(struct pf_crawler *c, const char *url, int depth,
                      const char *parent)
{
    struct item *it;
    size_t len = strlen(url);
    int rc;

    if (pf__strmap_has(&c->seen, url))
        return PF_EDUPLICATE;
    rc = pf__strmap_put(&c->seen, url, NULL);
    if (rc < 0)
        return rc;
    if (c->cfg.resume && c->db != NULL) {
        rc = pf__db_is_done(c->db, url);
        if (rc > 0)
            return 0; /* done in an earlier run: skipped, no row */
    }
    it = pf__calloc(1, sizeof(*it) + len + 1);
    if (it == NULL)
        return PF_ENOMEM;
    memcpy(it->url, url, len + 1);
    it->c = c;
    it->depth = depth;
    if (parent != NULL) {
        it->parent = pf__strdup(parent);
        if (it->parent == NULL) {
            pf__free(it);
            return PF_ENOMEM;
        }
    }
    it->host = host_get(c, url);
    if (it->host == NULL) {
        pf__free(it->parent);
        pf__free(it);
        return PF_ENOMEM;
    }
    pf__queue_insert_tail(&it->host->pending, &it->link);
    host_update(c, it->host);
    c->st.accepted++;
    c->st.queued++;
    return 0;
}

int pf_crawler_add_url(pf_crawler *c, const char *url)
{
    char *norm = NULL;
    const char *why = NULL;
    int rc;

    if (c == NULL || url == NULL)
        return PF_EINVAL;
    if (c->stopping)
        return PF_ESTATE;
    rc = pf__url_normalize(url, &norm, &why);
    if (rc < 0)
        return rc;
    rc = accept_url(c, norm, 0, NULL);
    pf__free(norm);
    return rc;
}

static void on_bad_line(const char *name, long lineno, const char *why,
                        void *userdata)
{
    say(userdata, PF_LOG_ERROR, "%s:%ld: %s", name, lineno, why);
}

static int add_source(struct pf_crawler *c, FILE *fp, const char *name, int own)
{
    struct source *v;
    int rc;

    v = pf__realloc(c->sources, (c->nsources + 1) * sizeof(*v));
    if (v == NULL)
        return PF_ENOMEM;
    c->sources = v;
    rc =
        pf__urllist_open(&v[c->nsources].reader, fp, name, own, on_bad_line, c);
    if (rc < 0)
        return rc;
    c->nsources++;
    return 0;
}

int pf_crawler_add_list(pf_crawler *c, const char *path)
{
    FILE *fp;
    int rc;

    if (c == NULL || path == NULL)
        return PF_EINVAL;
    if (strcmp(path, "-") == 0)
        return add_source(c, stdin, "-", 0);
    fp = fopen(path, "re");
    if (fp == NULL) {
        say(c, PF_LOG_ERROR, "cannot read %s: %s", path, strerror(errno));
        return PF_EIO;
    }
    {
        struct stat sb;

        if (fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
            say(c, PF_LOG_ERROR, "cannot read %s: %s", path, strerror(EISDIR));
            fclose(fp);
            return PF_EIO;
        }
    }
    rc = add_source(c, fp, path, 1);
    if (rc < 0)
        fclose(fp);
    return rc;
}

int pf_crawler_add_stream(pf_crawler *c, FILE *fp, const char *name)
{
    if (c == NULL || fp == NULL)
        return PF_EINVAL;
    return add_source(c, fp, name != NULL ? name : "(stream)", 0);
}

static void note_fatal(struct pf_crawler *c, int err)
{
    if (c->fatal == 0)
        c->fatal = err;
    atomic_store(&c->stop_requested, 1);
}

/*
 * Read list lines until enough work is queued.  The lookahead lets the
 * per-host queues keep every slot busy without loading a whole list.
 */
static void read_sources(struct pf_crawler *c)
{
    size_t want = c->cfg.jobs * 4;

    if (want < LIST_LOOKAHEAD_MIN)
        want = LIST_LOOKAHEAD_MIN;
    while (c->cur_source < c->nsources && c->st.queued < want && !c->stopping) {
        struct source *src = &c->sources[c->cur_source];
        const char *url;
        long lineno;
        int rc = pf__urllist_next(src->reader, &url, &lineno);

        if (rc == PF_ENOMEM) {
            note_fatal(c, PF_ENOMEM);
            return;
        }
        if (rc <= 0) {
            if (rc < 0)
                say(c, PF_LOG_ERROR, "cannot read a URL list: %s",
                    rc == PF_EIO ? strerror(errno) : pf_strerror(rc));
            pf__urllist_close(src->reader);
            src->reader = NULL;
            c->cur_source++;
            continue;
        }
        rc = accept_url(c, url, 0, NULL);
        if (rc == PF_ENOMEM) {
            note_fatal(c, PF_ENOMEM);
            return;
        }
    }
}

/* Easy handles. */

static size_t on_header(char *p, size_t size, size_t n, void *ud);
static size_t on_body(char *p, size_t size, size_t n, void *ud);
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow);

static CURL *easy_get(struct pf_crawler *c)
{
    const struct pf_config *cfg = &c->cfg;
    CURL *e;

    if (c->npool > 0)
        return c->pool[--c->npool];
    e = curl_easy_init();
    if (e == NULL)
        return NULL;
    /* What never changes between transfers is set once per handle. */
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    if (c->headers != NULL)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)cfg->connect_timeout_ms);
    if (cfg->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)cfg->timeout_ms);
    if (cfg->stall_timeout_ms > 0) {
        /* Less than 1 byte/s over the window: stalled. */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                         (long)((cfg->stall_timeout_ms + 999) / 1000));
    }
    /*
     * No CURLOPT_MAXFILESIZE: it judges the Content-Length, which is the
     * encoded size of a compressed body; --max-filesize is about the
     * decoded one, checked in on_body().
     */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)EASY_BUFFER_SIZE);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    if (cfg->stall_timeout_ms > 0) {
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    }
    return e;
}

static void easy_put(struct pf_crawler *c, CURL *e)
{
    if (c->npool < c->cfg.jobs && !c->stopping) {
        c->pool[c->npool++] = e;
        return;
    }
    curl_easy_cleanup(e);
}

/* One attempt's state, on the coroutine's stack. */
struct attempt {
    struct pf_crawler *c;
    struct item *it;
    CURL *easy;
    struct pf__sink *sink; /* the item's sink (kept across attempts) */
    int *sink_open;
    int local_err; /* PF_EDISKFULL, PF_EIO, or PF_EINVAL = cap */
    long status;   /* from the last status line */
    char reason[64];
    char *disposition;  /* Content-Disposition of the last response */
    char *response_url; /* URL of the last response */
    int encoded;        /* the last response has a Content-Encoding */
    int64_t body;       /* decoded bytes received this attempt */
    int paused;
    struct pf__queue pause_link;
    int range_checked;
    int64_t resume_from;
    int64_t last_rx_ns; /* when a byte (header or body) last came */
    int stalled;        /* aborted by the stall check */
};

static void set_disposition(struct attempt *a, const char *v, size_t n)
{
    pf__free(a->disposition);
    a->disposition = pf__strndup(v, n);
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct attempt *a = ud;
    size_t len = size * n;

    (void)size;
    a->last_rx_ns = a->c->s->loop.now_ns;
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* A new response (redirects make several): reset its fields. */
        const char *sp = memchr(p, ' ', len);
        size_t k = 0;

        char *eff = NULL;

        a->status = 0;
        a->reason[0] = '\0';
        a->encoded = 0;
        pf__free(a->disposition);
        a->disposition = NULL;
        /* The URL this response answers (a refused redirect has none). */
        curl_easy_getinfo(a->easy, CURLINFO_EFFECTIVE_URL, &eff);
        if (eff != NULL &&
            (a->response_url == NULL || strcmp(a->response_url, eff) != 0)) {
            pf__free(a->response_url);
            a->response_url = pf__strdup(eff);
        }
        if (sp != NULL) {
            const char *end = p + len;
            const char *r;

            a->status = strtol(sp + 1, NULL, 10);
            r = memchr(sp + 1, ' ', (size_t)(end - sp - 1));
            if (r != NULL) {
                r++;
                while (r + k < end && r[k] != '\r' && r[k] != '\n' &&
                       k + 1 < sizeof(a->reason)) {
                    a->reason[k] = isprint((unsigned char)r[k]) ? r[k] : '?';
                    k++;
                }
                a->reason[k] = '\0';
            }
        }
    } else if (len > 20 && strncasecmp(p, "content-disposition:", 20) == 0) {
        const char *v = p + 20;
        size_t vn = len - 20;

        while (vn > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vn--;
        }
        while (vn > 0 && (v[vn - 1] == '\r' || v[vn - 1] == '\n'))
            vn--;
        set_disposition(a, v, vn);
    } else if (len > 17 && strncasecmp(p, "content-encoding:", 17) == 0) {
        a->encoded = 1;
    }
    return len;
}

static int open_sink(struct attempt *a)
{
    int rc;

    if (*a->sink_open)
        return 0;
    rc = pf__sink_open(a->c->store, a->sink, a->it->url, a->disposition,
                       a->c->cfg.resume);
    if (rc < 0)
        return rc;
    *a->sink_open = 1;
    return 0;
}

static void rate_refill(struct pf_crawler *c)
{
    int64_t now = pf__now_ns();
    int64_t burst = c->cfg.rate / 10 > 16384 ? c->cfg.rate / 10 : 16384;

    c->tokens += (now - c->tokens_ns) * c->cfg.rate / 1000000000;
    if (c->tokens > burst)
        c->tokens = burst;
    c->tokens_ns = now;
}

static void rate_tick(struct pf__loop *l, struct pf__timer *t)
{
    struct pf_crawler *c = t->data;

    (void)l;
    rate_refill(c);
    /* Unpause in order; each may consume tokens (or pause again). */
    while (c->tokens > 0 && !pf__queue_empty(&c->paused)) {
        struct attempt *a = pf__container_of(pf__queue_head(&c->paused),
                                             struct attempt, pause_link);

        pf__queue_remove(&a->pause_link);
        a->paused = 0;
        curl_easy_pause(a->easy, CURLPAUSE_CONT);
    }
    if (!pf__queue_empty(&c->paused))
        pf__timer_start(&c->s->loop, &c->rate_timer,
                        pf__now_ns() + 20 * 1000000);
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct attempt *a = ud;
    struct pf_crawler *c = a->c;
    size_t len = size * n;
    long code = 0;

    (void)size;
    a->last_rx_ns = c->s->loop.now_ns;
    if (c->cfg.rate > 0) {
        rate_refill(c);
        if (c->tokens <= 0) {
            if (!a->paused) {
                a->paused = 1;
                pf__queue_insert_tail(&c->paused, &a->pause_link);
            }
            if (!pf__timer_active(&c->rate_timer)) {
                c->rate_timer.cb = rate_tick;
                pf__timer_start(&c->s->loop, &c->rate_timer,
                                pf__now_ns() + (-c->tokens + 1) * 1000000000 /
                                                   c->cfg.rate);
            }
            return CURL_WRITEFUNC_PAUSE;
        }
        c->tokens -= (int64_t)len;
    }
    /*
     * The status of the response this body belongs to: the header
     * callback parsed its status line, so no getinfo call per chunk.
     */
    code = a->status;
    if (code < 200 || code > 299)
        return len; /* an error page: read and dropped, keeps keep-alive */
    if (!a->range_checked) {
        curl_off_t cl = -1;

        a->range_checked = 1;
        /* A plain body announced too big is refused before it comes. */
        curl_easy_getinfo(a->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        if (c->cfg.max_filesize > 0 && !a->encoded && cl > 0 &&
            (code == 206 ? a->resume_from : 0) + cl > c->cfg.max_filesize) {
            a->local_err = PF_EINVAL;
            return 0;
        }
        if (open_sink(a) < 0) {
            a->local_err = PF_EIO;
            return 0;
        }
        /* A server that ignored our Range sends everything again. */
        if (code != 206 && a->sink->offset + a->sink->bytes > 0 &&
            pf__sink_truncate(a->sink) < 0) {
            a->local_err = PF_EIO;
            return 0;
        }
    }
    a->body += (int64_t)len;
    c->st.bytes += len;
    if (c->cfg.max_filesize > 0 &&
        a->sink->offset + a->sink->bytes + (int64_t)len > c->cfg.max_filesize) {
        a->local_err = PF_EINVAL;
        return 0;
    }
    {
        int rc = pf__sink_write(a->sink, p, len);

        if (rc < 0) {
            a->local_err = rc;
            return 0;
        }
    }
    return len;
}

/*
 * --stall-timeout: curl's low-speed check averages over its window, so a
 * trickle followed by silence would pass for a while.  This callback,
 * which curl calls at least once a second while the low-speed check is
 * armed, fails an attempt that has received nothing for the full time.
 * A transfer paused by --rate is waiting on us, not stalled.
 */
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct attempt *a = ud;
    int64_t stall = a->c->cfg.stall_timeout_ms;

    (void)dltotal;
    (void)dlnow;
    (void)ultotal;
    (void)ulnow;
    if (stall <= 0 || a->paused)
        return 0;
    if (pf__now_ns() - a->last_rx_ns >= stall * 1000000) {
        a->stalled = 1;
        return 1;
    }
    return 0;
}

/* Slots. */

static void release_slot(struct pf_crawler *c, struct item *it)
{
    it->host->active--;
    c->active--;
    c->st.in_flight = c->active;
    host_update(c, it->host);
}

static void park_cancel(struct pf_co *co, void *arg)
{
    struct item *it = arg;

    (void)co;
    pf__queue_remove(&it->link);
    it->parked = NULL;
    it->c->st.queued--;
}

/* Wait, holding no slot, until refill() gives this item a slot again. */
static int acquire_slot(struct pf_crawler *c, struct item *it)
{
    it->parked = c->s->current;
    /* Retries go first: they were accepted before anything queued now. */
    pf__queue_insert_head(&it->host->pending, &it->link);
    c->st.queued++;
    host_update(c, it->host);
    c->s->current->cancel = park_cancel;
    c->s->current->cancel_arg = it;
    return pf__sched_suspend(c->s);
}

/* Give free slots to ready hosts, round-robin.  Loop thread. */
static void crawl_one(void *arg);

static void refill(struct pf_crawler *c)
{
    while (c->active < c->cfg.jobs && !pf__queue_empty(&c->ready_hosts) &&
           !c->stopping) {
        struct host *h = pf__container_of(pf__queue_head(&c->ready_hosts),
                                          struct host, link);
        struct item *it;

        pf__queue_remove(&h->link);
        h->in_ready = 0;
        if (pf__queue_empty(&h->pending))
            continue;
        it = pf__container_of(pf__queue_head(&h->pending), struct item, link);
        if (it->parked == NULL && pf_spawn(c->s, crawl_one, it, NULL) < 0) {
            host_update(c, h);
            break; /* out of memory: try again at the next iteration */
        }
        pf__queue_remove(&it->link);
        c->st.queued--;
        h->active++;
        c->active++;
        c->st.in_flight = c->active;
        if (it->parked != NULL) {
            struct pf_co *co = it->parked;

            it->parked = NULL;
            pf__sched_wake(c->s, co, 0);
        }
        host_update(c, h);
    }
}

/* Results. */

static int is_transient_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return 1;
    default:
        return 0;
    }
}

static int is_transient_status(long st)
{
    return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 ||
           st == 504;
}

static const char *status_text(long st)
{
    static const struct {
        long code;
        const char *text;
    } tab[] = {
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {402, "Payment Required"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {406, "Not Acceptable"},
        {407, "Proxy Authentication Required"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {410, "Gone"},
        {411, "Length Required"},
        {412, "Precondition Failed"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {415, "Unsupported Media Type"},
        {416, "Range Not Satisfiable"},
        {417, "Expectation Failed"},
        {418, "I'm a teapot"},
        {421, "Misdirected Request"},
        {422, "Unprocessable Content"},
        {425, "Too Early"},
        {426, "Upgrade Required"},
        {428, "Precondition Required"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {451, "Unavailable For Legal Reasons"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {502, "Bad Gateway"},
        {503, "Service Unavailable"},
        {504, "Gateway Timeout"},
        {505, "HTTP Version Not Supported"},
        {300, "Multiple Choices"},
        {301, "Moved Permanently"},
        {302, "Found"},
        {303, "See Other"},
        {304, "Not Modified"},
        {307, "Temporary Redirect"},
        {308, "Permanent Redirect"},
        {100, "Continue"},
    };
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(tab); i++)
        if (tab[i].code == st)
            return tab[i].text;
    return "";
}

static int64_t backoff_ms(struct pf_crawler *c, int attempt, CURL *e)
{
    int64_t d = c->cfg.retry_base_ms;
    curl_off_t ra = 0;
    int i;

    /* Retry-After (seconds or HTTP-date, parsed by curl) wins, capped. */
    if (curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
        return (ra > 3600 ? 3600 : (int64_t)ra) * 1000;
    for (i = 1; i < attempt && d < c->cfg.retry_max_ms; i++)
        d *= 2;
    if (d > c->cfg.retry_max_ms)
        d = c->cfg.retry_max_ms;
    /* Jitter: somewhere in [3/4, 5/4] of the nominal delay. */
    if (d > 0)
        d = d * 3 / 4 + (int64_t)(random() % (d / 2 + 1));
    return d;
}

static void finish_item(struct pf_crawler *c, struct item *it,
                        struct pf_result *r)
{
    int rc;

    if (c->db != NULL) {
        rc = pf__db_log_fetch(c->db, r);
        if (rc < 0) {
            say(c, PF_LOG_ERROR, "log database: %s", pf__db_errmsg(c->db));
            note_fatal(c, rc);
        }
    }
    c->st.done++;
    if (r->err != 0)
        c->st.failed++;
    if (c->cfg.on_done != NULL)
        c->cfg.on_done(c, r, c->cfg.userdata);
    pf__free(it->parent);
    pf__free(it);
}

/* A row for an item that never started (the run was stopped). */
static void finish_unstarted(struct pf_crawler *c, struct item *it)
{
    struct pf_result r;

    memset(&r, 0, sizeof(r));
    r.url = it->url;
    r.final_url = it->url;
    r.error = "interrupted before it started";
    r.err = PF_ECANCELED;
    r.depth = it->depth;
    r.parent_url = it->parent;
    r.started_at_ms = pf__wall_ms();
    finish_item(c, it, &r);
}

static void crawl_one(void *arg)
{
    struct item *it = arg;
    struct pf_crawler *c = it->c;
    struct pf__sink sink;
    int sink_open = 0;
    struct pf_result r;
    char errbuf[CURL_ERROR_SIZE];
    char msg[CURL_ERROR_SIZE + 128];
    char *final_url = NULL;
    char *ctype = NULL;
    int64_t t0 = pf__now_ms();
    int have_slot = 1;

    memset(&sink, 0, sizeof(sink));
    sink.fd = -1;
    sink.dirfd = -1;
    memset(&r, 0, sizeof(r));
    r.url = it->url;
    r.depth = it->depth;
    r.parent_url = it->parent;
    r.started_at_ms = pf__wall_ms();
    msg[0] = '\0';

    for (;;) {
        struct attempt a;
        CURLcode cc = CURLE_OK;
        long code = 0;
        int rc, transient;

        memset(&a, 0, sizeof(a));
        a.c = c;
        a.it = it;
        a.sink = &sink;
        a.sink_open = &sink_open;
        pf__queue_init(&a.pause_link);
        a.easy = easy_get(c);
        errbuf[0] = '\0';
        r.attempts++;
        if (a.easy == NULL) {
            r.err = PF_ENOMEM;
            snprintf(msg, sizeof(msg), "out of memory");
            break;
        }
        if (c->cfg.resume) {
            /* Resume a .part left by an interrupted run, with Range. */
            if (open_sink(&a) < 0) {
                r.err = PF_EIO;
                snprintf(msg, sizeof(msg), "cannot open %s.part: %s",
                         sink.relpath ? sink.relpath : it->url,
                         strerror(sink.sys_errno));
                easy_put(c, a.easy);
                break;
            }
            a.resume_from = sink.offset + sink.bytes;
        }
        curl_easy_setopt(a.easy, CURLOPT_URL, (const char *)it->url);
        curl_easy_setopt(a.easy, CURLOPT_HEADERDATA, &a);
        curl_easy_setopt(a.easy, CURLOPT_WRITEDATA, &a);
        curl_easy_setopt(a.easy, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(a.easy, CURLOPT_XFERINFODATA, &a);
        a.last_rx_ns = pf__now_ns();
        /*
         * A Range header rather than CURLOPT_RESUME_FROM, which fails the
         * transfer when the server ignores the range: we restart the file
         * instead (on_body truncates it on a 200).
         */
        {
            char range[32];

            snprintf(range, sizeof(range), "%lld-", (long long)a.resume_from);
            curl_easy_setopt(a.easy, CURLOPT_RANGE,
                             a.resume_from > 0 ? range : (char *)NULL);
        }
        rc = pf_fetch(c->s, a.easy, &cc);
        if (a.paused)
            pf__queue_remove(&a.pause_link);
        curl_easy_setopt(a.easy, CURLOPT_ERRORBUFFER, (char *)NULL);
        curl_easy_getinfo(a.easy, CURLINFO_RESPONSE_CODE, &code);
        pf__free(final_url);
        /* final_url: the last response's URL, not a refused target's. */
        if (a.response_url != NULL) {
            final_url = a.response_url;
            a.response_url = NULL;
        } else {
            final_url = NULL;
        }
        {
            char *ct = NULL;

            curl_easy_getinfo(a.easy, CURLINFO_CONTENT_TYPE, &ct);
            pf__free(ctype);
            ctype = ct != NULL ? pf__strdup(ct) : NULL;
        }
        r.status = code;
        r.curl_code = rc < 0 ? CURLE_ABORTED_BY_CALLBACK : (int)cc;
        transient = 0;
        if (rc < 0) {
            r.err = rc;
            snprintf(msg, sizeof(msg), "%s",
                     rc == PF_ECANCELED ? "interrupted" : pf_strerror(rc));
        } else if (a.local_err == PF_EINVAL || cc == CURLE_FILESIZE_EXCEEDED) {
            r.err = PF_EINVAL;
            snprintf(msg, sizeof(msg),
                     "body larger than --max-filesize (%lld bytes)",
                     (long long)c->cfg.max_filesize);
        } else if (a.local_err != 0) {
            r.err = a.local_err;
            snprintf(msg, sizeof(msg), "cannot write %s: %s",
                     sink.relpath ? sink.relpath : "file",
                     strerror(sink.sys_errno));
            if (a.local_err == PF_EDISKFULL)
                note_fatal(c, PF_EDISKFULL);
        } else if (cc != CURLE_OK) {
            r.err = PF_ECURL;
            transient = a.stalled || is_transient_curl(cc);
            if (cc == CURLE_UNSUPPORTED_PROTOCOL && code >= 300 && code < 400)
                snprintf(msg, sizeof(msg),
                         "redirect to an unsupported scheme refused");
            else if (a.stalled ||
                     (cc == CURLE_OPERATION_TIMEDOUT && errbuf[0] != '\0' &&
                      strstr(errbuf, "than 1 bytes/sec") != NULL))
                snprintf(msg, sizeof(msg),
                         "stalled: nothing received for "
                         "%lld s",
                         (long long)((c->cfg.stall_timeout_ms + 999) / 1000));
            else
                snprintf(msg, sizeof(msg), "%s",
                         errbuf[0] ? errbuf : curl_easy_strerror(cc));
        } else if (code < 200 || code > 299) {
            const char *reason = a.reason[0] ? a.reason : status_text(code);

            r.err = PF_ECURL;
            transient = is_transient_status(code);
            snprintf(msg, sizeof(msg), "HTTP %ld%s%s", code,
                     reason[0] ? " " : "", reason);
        } else {
            /* Success: an empty body still makes an (empty) file. */
            r.err = 0;
            if (open_sink(&a) < 0) {
                r.err = PF_EIO;
                snprintf(msg, sizeof(msg), "cannot create %s: %s",
                         sink.relpath ? sink.relpath : it->url,
                         strerror(sink.sys_errno));
            } else if (pf__sink_commit(&sink) < 0) {
                r.err = PF_EIO;
                snprintf(msg, sizeof(msg), "cannot save %s: %s", sink.relpath,
                         strerror(sink.sys_errno));
            }
        }
        pf__free(a.disposition);
        pf__free(a.response_url);
        if (r.err == 0 || rc < 0 || !transient ||
            r.attempts > (int)c->cfg.retries || c->stopping) {
            easy_put(c, a.easy);
            break;
        }
        /* A transient failure: back off without holding a slot. */
        {
            int64_t wait = backoff_ms(c, r.attempts, a.easy);

            easy_put(c, a.easy);
            if (sink_open)
                pf__sink_truncate(&sink);
            say(c, PF_LOG_INFO, "%s: %s; retrying in %lld ms", it->url, msg,
                (long long)wait);
            release_slot(c, it);
            have_slot = 0;
            rc = pf_sleep(c->s, wait);
            if (rc == 0)
                rc = acquire_slot(c, it);
            if (rc < 0) {
                char last[sizeof(msg)];

                memcpy(last, msg, sizeof(last));
                r.err = rc;
                snprintf(msg, sizeof(msg),
                         "interrupted while waiting to "
                         "retry (after: %.200s)",
                         last);
                break;
            }
            have_slot = 1;
        }
    }
    if (have_slot)
        release_slot(c, it);
    if (sink_open && r.err != 0)
        pf__sink_abort(&sink, r.err == PF_ECANCELED);
    r.final_url = final_url != NULL ? final_url : it->url;
    r.content_type = ctype;
    r.bytes = r.err == 0 ? sink.offset + sink.bytes : 0;
    r.path = r.err == 0 && sink_open ? sink.relpath : NULL;
    r.error = r.err == 0 ? NULL : msg;
    r.elapsed_ms = pf__now_ms() - t0;
    finish_item(c, it, &r);
    pf__sink_free(&sink);
    pf__free(final_url);
    pf__free(ctype);
}

/* The run. */

static void begin_stop(struct pf_crawler *c)
{
    struct pf__queue *q;

    c->stopping = 1;
    /*
     * Waiting coroutines end now: transfers are aborted, sleeps and slot
     * waits cut short (their cancel hooks unqueue parked retries).
     */
    pf__sched_cancel_all(c->s);
    /* What never started gets its row here. */
    for (q = c->all_hosts.next; q != &c->all_hosts; q = q->next) {
        struct host *h = pf__container_of(q, struct host, all);

        while (!pf__queue_empty(&h->pending)) {
            struct item *it = pf__container_of(pf__queue_head(&h->pending),
                                               struct item, link);

            pf__queue_remove(&it->link);
            c->st.queued--;
            finish_unstarted(c, it);
        }
    }
}

static int all_done(struct pf_crawler *c)
{
    return c->s->live == 0 && c->st.queued == 0 && c->cur_source >= c->nsources;
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

int pf_crawler_run(pf_crawler *c)
{
    int rc = 0;

    if (c == NULL)
        return PF_EINVAL;
    if (c->ran)
        return PF_ESTATE;
    c->ran = 1;
    c->started_ns = pf__now_ns();
    c->tokens_ns = c->started_ns;
    for (;;) {
        int64_t now;

        if (atomic_load(&c->stop_requested) && !c->stopping)
            begin_stop(c);
        if (!c->stopping) {
            read_sources(c);
            refill(c);
        }
        if (all_done(c))
            break;
        rc = pf__sched_step(c->s, 1);
        if (rc < 0) {
            note_fatal(c, rc);
            continue;
        }
        /* The log's writer thread commits by itself: nothing to do. */
        now = pf__now_ms();
        progress(c, now, 0);
    }
    progress(c, pf__now_ms(), 1);
    if (c->db != NULL && pf__db_finish_run(c->db) < 0) {
        say(c, PF_LOG_ERROR, "log database: %s", pf__db_errmsg(c->db));
        if (c->fatal == 0)
            c->fatal = PF_EDB;
    }
    if (c->fatal != 0)
        return c->fatal;
    return c->stopping ? PF_ECANCELED : 0;
}

void pf_crawler_stop(pf_crawler *c)
{
    if (c == NULL)
        return;
    atomic_store(&c->stop_requested, 1);
    pf__loop_wakeup(&c->s->loop);
}

void pf_crawler_stats(const pf_crawler *c, struct pf_stats *st)
{
    if (c == NULL || st == NULL)
        return;
    *st = c->st;
    st->in_flight = c->active;
    st->elapsed_ms =
        c->started_ns ? (pf__now_ns() - c->started_ns) / 1000000 : 0;
}

int64_t pf_crawler_run_id(const pf_crawler *c)
{
    return c != NULL ? c->run_id : 0;
}

static void free_host(void *p)
{
    struct host *h = p;

    while (!pf__queue_empty(&h->pending)) {
        struct item *it =
            pf__container_of(pf__queue_head(&h->pending), struct item, link);

        pf__queue_remove(&it->link);
        if (it->parked == NULL) {
            pf__free(it->parent);
            pf__free(it);
        }
    }
    pf__free(h);
}

void pf_crawler_free(pf_crawler *c)
{
    size_t i;

    if (c == NULL)
        return;
    /* Coroutines (and the items they own) go with the scheduler. */
    pf_sched_free(c->s);
    pf__strmap_free(&c->hosts, free_host);
    pf__strmap_free(&c->seen, NULL);
    for (i = 0; i < c->npool; i++)
        curl_easy_cleanup(c->pool[i]);
    pf__free(c->pool);
    for (i = 0; i < c->nsources; i++)
        pf__urllist_close(c->sources[i].reader);
    pf__free(c->sources);
    pf__store_close(c->store);
    pf__db_close(c->db);
    curl_slist_free_all(c->headers);
    pf__free(c->out_dir);
    pf__free(c->db_path);
    pf__free(c->user_agent);
    pf__free(c->argv);
    pf__free(c);
}
