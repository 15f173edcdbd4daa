/*
 * transfer.c -- one HTTP attempt (see transfer.h).  This module and
 * fetch.c are the only users of libcurl's transfer API in the engine:
 * options, callbacks and CURLcode stop here, translated into struct
 * pf__attempt.  It owns the easy-handle pool, the shared request
 * options and the --rate bucket; it never decides what a result means
 * (outcome.c), never names a file (store.c) and never writes the log.
 * Loop thread: the callbacks run on the loop's stack inside
 * curl_multi_socket_action, the attempts on coroutines.
 */
#include "transfer.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "coro.h"
#include "fetch.h"
#include "url.h"

/*
 * curl's receive buffer.  Large, so big bodies move in few system calls
 * (measured on loopback: 2 x 256 MiB in 0.39 s with 512 KiB, 0.95 s with
 * 64 KiB).  curl allocates it per transfer; global.c gives curl an
 * allocator that keeps such blocks page-aligned and reuses them, so small
 * files do not pay an mmap, page faults and a munmap each.
 */
#define EASY_BUFFER_SIZE (512 * 1024)

struct pf__transfers {
    pf_sched *s;
    struct pf__store *store;
    uint64_t *bytes; /* the job's counter */
    struct curl_slist *headers;
    char *user_agent;
    int64_t connect_timeout_ms, timeout_ms, stall_ms, max_size, rate;
    int resume; /* -c: a .part may be there already */
    int stopping;
    uint64_t sized;      /* attempts whose body size is announced */
    uint64_t bytes_left; /* of those, body bytes still to come */
    CURL **pool;         /* idle easy handles */
    size_t npool, cap;

    /* Network and identity (--cacert ... --http1.1), our copies. */
    char *cacert, *proxy, *user, *netrc_file, *save_cookies;
    int insecure, netrc, http1_1;
    CURLSH *share;           /* the run's cookie jar, DNS and TLS sessions */
    struct pf__strmap seeds; /* host:port of the seeds: --user goes there */

    /* The overall --rate cap: a token bucket; paused transfers wait. */
    int64_t tokens;
    int64_t tokens_ns;
    struct pf__queue paused;
    struct pf__timer rate_timer;
};

/* One attempt's state, on the coroutine's stack. */
struct attempt {
    struct pf__transfers *t;
    const struct pf__try *try;
    struct pf__result *res;
    CURL *easy;
    int local_err; /* PF_EDISKFULL, PF_EIO, or PF_EINVAL = cap */
    int64_t body;  /* decoded bytes received this attempt */
    int paused;
    struct pf__queue pause_link;
    int range_checked;
    int64_t last_rx_ns; /* when a byte (header or body) last came */
    int stalled;        /* aborted by the stall check */
    int64_t left;       /* of an announced body, bytes to come; -1 */
    int creds;          /* this request may carry credentials */
    char *location;     /* creds: the Location of a redirect, as sent */
    char *hop;          /* creds: where a redirect to another host:port
                           goes, after the transfer was stopped there */
};

/* A copy of an optional string: 0, or -1 when out of memory. */
static int copy_opt(char **dst, const char *src)
{
    *dst = src != NULL ? pf__strdup(src) : NULL;
    return src != NULL && *dst == NULL ? -1 : 0;
}

/*
 * The run's share: one cookie jar for every transfer (a cookie set by
 * one response goes with every later request it matches), and the DNS
 * cache and TLS sessions, so that a new connection to a host resumes
 * the TLS session of an earlier one.  Every handle of the job is used
 * on the loop thread alone, so the share needs no lock callbacks.
 */
static int share_new(struct pf__transfers *t)
{
    t->share = curl_share_init();
    if (t->share == NULL)
        return -1;
    if (curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_COOKIE) !=
            CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) !=
            CURLSHE_OK ||
        curl_share_setopt(t->share, CURLSHOPT_SHARE,
                          CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)
        return -1;
    return 0;
}

/*
 * --load-cookies: the file's cookies into the shared jar, once, now
 * (libcurl reads the Netscape format, and curl's and wget's files).
 * 0, or PF_EIO with why said when the file cannot be read.
 */
static int load_cookies(struct pf__transfers *t, const char *path, char *why,
                        size_t whylen)
{
    FILE *fp = fopen(path, "r");
    CURL *e;

    if (fp == NULL) {
        snprintf(why, whylen, "cannot read cookies from %s: %s", path,
                 strerror(errno));
        return PF_EIO;
    }
    fclose(fp);
    e = curl_easy_init();
    if (e == NULL)
        return PF_ENOMEM;
    curl_easy_setopt(e, CURLOPT_SHARE, t->share);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, path);
    curl_easy_setopt(e, CURLOPT_COOKIELIST, "RELOAD");
    curl_easy_cleanup(e);
    return 0;
}

/* The options of "Network and identity", copied; 0 or PF_ENOMEM. */
static int copy_identity(struct pf__transfers *t, const struct pf_config *cfg)
{
    t->insecure = cfg->insecure;
    t->netrc = cfg->netrc || cfg->netrc_file != NULL;
    t->http1_1 = cfg->http1_1;
    if (copy_opt(&t->cacert, cfg->cacert) < 0 ||
        copy_opt(&t->proxy, cfg->proxy) < 0 ||
        copy_opt(&t->user, cfg->user) < 0 ||
        copy_opt(&t->netrc_file, cfg->netrc_file) < 0 ||
        copy_opt(&t->save_cookies, cfg->save_cookies) < 0 || share_new(t) < 0)
        return PF_ENOMEM;
    return 0;
}

int pf__transfers_new(struct pf__transfers **out, pf_sched *s,
                      const struct pf_config *cfg, const char *user_agent,
                      struct pf__store *store, uint64_t *bytes, char *why,
                      size_t whylen)
{
    struct pf__transfers *t = pf__calloc(1, sizeof(*t));
    size_t i;
    int rc;

    if (t == NULL)
        return PF_ENOMEM;
    if (copy_identity(t, cfg) < 0)
        goto fail;
    if (cfg->load_cookies != NULL) {
        rc = load_cookies(t, cfg->load_cookies, why, whylen);
        if (rc < 0) {
            pf__transfers_free(t);
            return rc;
        }
    }
    t->s = s;
    t->store = store;
    t->bytes = bytes;
    t->connect_timeout_ms = cfg->connect_timeout_ms;
    t->timeout_ms = cfg->timeout_ms;
    t->stall_ms = cfg->stall_timeout_ms;
    t->max_size = cfg->max_filesize;
    t->rate = cfg->rate;
    t->resume = cfg->resume;
    t->cap = cfg->jobs;
    t->tokens_ns = pf__now_ns();
    pf__queue_init(&t->paused);
    pf__timer_init(&t->rate_timer, NULL, t);
    t->user_agent = pf__strdup(user_agent);
    t->pool = pf__calloc(t->cap, sizeof(CURL *));
    if (t->user_agent == NULL || t->pool == NULL)
        goto fail;
    for (i = 0; i < cfg->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(t->headers, cfg->headers[i]);

        if (l == NULL)
            goto fail;
        t->headers = l;
    }
    if (pf__fetch_set_maxconnects(s, (long)cfg->jobs) < 0 ||
        pf__fetch_set_multiplex(s, !cfg->http1_1) < 0)
        goto fail;
    *out = t;
    return 0;
fail:
    pf__transfers_free(t);
    return PF_ENOMEM;
}

void pf__transfers_free(struct pf__transfers *t)
{
    size_t i;

    if (t == NULL)
        return;
    for (i = 0; t->pool != NULL && i < t->npool; i++)
        curl_easy_cleanup(t->pool[i]);
    pf__free(t->pool);
    curl_slist_free_all(t->headers);
    pf__free(t->user_agent);
    /* Every handle that used the share is gone by now. */
    if (t->share != NULL)
        curl_share_cleanup(t->share);
    pf__free(t->cacert);
    pf__free(t->proxy);
    pf__free(t->user);
    pf__free(t->netrc_file);
    pf__free(t->save_cookies);
    pf__strmap_free(&t->seeds, NULL);
    pf__free(t);
}

int pf__transfers_seed(struct pf__transfers *t, const char *url)
{
    char key[PF__HOSTPORT_BUF];
    int n;

    if (t->user == NULL)
        return 0;
    n = pf__url_hostport_buf(url, key, sizeof(key));
    if (n < 0 || (size_t)n >= sizeof(key))
        return 0; /* no such host gets --user */
    return pf__strmap_put(&t->seeds, key, NULL) < 0 ? PF_ENOMEM : 0;
}

/* Is url's host:port one of the seeds'? */
static int seed_host(const struct pf__transfers *t, const char *url)
{
    char key[PF__HOSTPORT_BUF];
    int n = pf__url_hostport_buf(url, key, sizeof(key));

    return n >= 0 && (size_t)n < sizeof(key) && pf__strmap_has(&t->seeds, key);
}

/*
 * --save-cookies: the jar as libcurl lists it (Netscape lines, session
 * cookies included), written to a temporary file beside the target and
 * renamed over it, so that the file is whole or not there.  Readable by
 * its owner only: cookies are credentials.
 */
int pf__transfers_finish(struct pf__transfers *t, char *why, size_t whylen)
{
    struct curl_slist *list = NULL, *l;
    char *tmp;
    CURL *e;
    FILE *fp;
    int fd, bad;

    if (t == NULL || t->save_cookies == NULL)
        return 0;
    e = curl_easy_init();
    tmp = pf__asprintf("%s.tmp", t->save_cookies);
    if (e == NULL || tmp == NULL) {
        curl_easy_cleanup(e);
        pf__free(tmp);
        return PF_ENOMEM;
    }
    curl_easy_setopt(e, CURLOPT_SHARE, t->share);
    curl_easy_getinfo(e, CURLINFO_COOKIELIST, &list);
    curl_easy_cleanup(e);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    bad = fp == NULL;
    if (fp == NULL && fd >= 0)
        close(fd);
    if (fp != NULL) {
        fputs("# Netscape HTTP Cookie File\n"
              "# Written by pfetch; curl and wget read it.\n\n",
              fp);
        for (l = list; l != NULL; l = l->next)
            fprintf(fp, "%s\n", l->data);
        bad = fflush(fp) != 0 || fsync(fileno(fp)) != 0;
        bad = fclose(fp) != 0 || bad;
    }
    if (!bad)
        bad = rename(tmp, t->save_cookies) != 0;
    if (bad) {
        snprintf(why, whylen, "cannot save cookies to %s: %s", t->save_cookies,
                 strerror(errno));
        unlink(tmp);
    }
    curl_slist_free_all(list);
    pf__free(tmp);
    return bad ? PF_EIO : 0;
}

void pf__transfers_stopping(struct pf__transfers *t)
{
    t->stopping = 1;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud);
static size_t on_body(char *p, size_t size, size_t n, void *ud);
static int on_xferinfo(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow);

/*
 * What every handle of the job carries of "Network and identity": the
 * shared jar ("" turns the cookie engine on and reads no file), TLS
 * trust, the proxy, netrc, the HTTP version.  Credentials never go to
 * another host:port after a redirect (curl's rule, which transfer_run
 * checks again).
 */
static void easy_identity(struct pf__transfers *t, CURL *e)
{
    curl_easy_setopt(e, CURLOPT_SHARE, t->share);
    curl_easy_setopt(e, CURLOPT_COOKIEFILE, "");
    curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
    if (t->cacert != NULL) {
        curl_easy_setopt(e, CURLOPT_CAINFO, t->cacert);
        curl_easy_setopt(e, CURLOPT_PROXY_CAINFO, t->cacert);
    }
    if (t->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_PROXY_SSL_VERIFYHOST, 0L);
    }
    if (t->proxy != NULL) {
        /* "" is no proxy at all, whatever the environment says. */
        curl_easy_setopt(e, CURLOPT_PROXY, t->proxy);
        /* A proxy given is for every request: no_proxy does not apply. */
        if (t->proxy[0] != '\0')
            curl_easy_setopt(e, CURLOPT_NOPROXY, "");
    }
    if (t->netrc) {
        curl_easy_setopt(e, CURLOPT_NETRC, (long)CURL_NETRC_OPTIONAL);
        if (t->netrc_file != NULL)
            curl_easy_setopt(e, CURLOPT_NETRC_FILE, t->netrc_file);
    }
    /* Basic, or Digest when a 401 asks for it, within one transfer. */
    if (t->netrc || t->user != NULL)
        curl_easy_setopt(e, CURLOPT_HTTPAUTH,
                         (long)(CURLAUTH_BASIC | CURLAUTH_DIGEST));
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                     t->http1_1 ? (long)CURL_HTTP_VERSION_1_1
                                : (long)CURL_HTTP_VERSION_2TLS);
}

/*
 * A new easy handle with what every request of the job shares: redirects,
 * protocols, identity, headers, timeouts.  Pool handles and robots.txt's
 * alike.
 */
static CURL *easy_new(struct pf__transfers *t)
{
    CURL *e = curl_easy_init();

    if (e == NULL)
        return NULL;
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, t->user_agent);
    if (t->headers != NULL)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)t->connect_timeout_ms);
    if (t->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)t->timeout_ms);
    if (t->stall_ms > 0) {
        /* Less than 1 byte/s over the window: stalled. */
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                         (long)((t->stall_ms + 999) / 1000));
    }
    easy_identity(t, e);
    return e;
}

static CURL *easy_get(struct pf__transfers *t)
{
    CURL *e;

    if (t->npool > 0)
        return t->pool[--t->npool];
    /* What never changes between transfers is set once per handle. */
    e = easy_new(t);
    if (e == NULL)
        return NULL;
    /*
     * No CURLOPT_MAXFILESIZE: it judges the Content-Length, which is the
     * encoded size of a compressed body; --max-filesize is about the
     * decoded one, checked in on_body().
     */
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, (long)EASY_BUFFER_SIZE);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    if (t->stall_ms > 0) {
        curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
        curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    }
    return e;
}

static void easy_put(struct pf__transfers *t, CURL *e)
{
    if (t->npool < t->cap && !t->stopping) {
        t->pool[t->npool++] = e;
        return;
    }
    curl_easy_cleanup(e);
}

/*
 * "host:port" of the URL in u into buf, the port the scheme's default
 * when none is given; -1 when it is not an http(s) URL.
 */
static int hostport_of(CURLU *u, char *buf, size_t size)
{
    char *scheme = NULL, *host = NULL, *port = NULL;
    int rc = -1;

    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        rc = snprintf(buf, size, "%s:%s", host, port) < (int)size ? 0 : -1;
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    return rc;
}

/*
 * The headers of a redirect of a request that carries credentials have
 * come: does it lead to another host:port?  Then a->hop gets the URL it
 * leads to (curl_free'd) and the transfer stops here; transfer_run goes
 * on there with a request of its own that carries none.  curl would
 * not send them either (CURLOPT_UNRESTRICTED_AUTH is 0), but this rule
 * is ours to keep, so it is checked here rather than taken on trust.
 */
static int leaves_host(struct attempt *a)
{
    char from[PF__HOSTPORT_BUF], to[PF__HOSTPORT_BUF];
    long code = a->res->resp.status;
    char *eff = NULL;
    CURLU *u;
    int leaves = 0;

    if (code < 300 || code > 399 || a->location == NULL)
        return 0;
    curl_easy_getinfo(a->easy, CURLINFO_EFFECTIVE_URL, &eff);
    u = curl_url();
    if (u != NULL && eff != NULL &&
        curl_url_set(u, CURLUPART_URL, eff, 0) == CURLUE_OK &&
        hostport_of(u, from, sizeof(from)) == 0 &&
        curl_url_set(u, CURLUPART_URL, a->location, 0) == CURLUE_OK &&
        hostport_of(u, to, sizeof(to)) == 0 && strcmp(from, to) != 0) {
        leaves = 1;
        if (curl_url_get(u, CURLUPART_URL, &a->hop, 0) != CURLUE_OK)
            a->hop = NULL; /* out of memory: the transfer just stops */
    }
    curl_url_cleanup(u);
    return leaves;
}

/* With credentials on: keep a redirect's Location, stop at another host. */
static int watch_redirect(struct attempt *a, const char *p, size_t len,
                          int new_response)
{
    static const char name[] = "location:";
    size_t n = sizeof(name) - 1;

    if (new_response) {
        pf__free(a->location);
        a->location = NULL;
    } else if (len > n && strncasecmp(p, name, n) == 0) {
        while (n < len && pf__is_http_space((unsigned char)p[n]))
            n++;
        while (len > n && pf__is_space((unsigned char)p[len - 1]))
            len--;
        pf__free(a->location);
        a->location = pf__strndup(p + n, len - n);
    } else if (len <= 2 && (p[0] == '\r' || p[0] == '\n')) {
        return leaves_host(a) ? -1 : 0; /* the end of the headers */
    }
    return 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct attempt *a = ud;
    struct pf__result *res = a->res;
    size_t len = size * n;
    int new_response;

    a->last_rx_ns = pf__sched_now_ns(a->t->s);
    new_response = pf__resp_line(&res->resp, p, len);
    if (new_response) {
        /* A new response: the URL it answers (a refused redirect has none). */
        char *eff = NULL;

        curl_easy_getinfo(a->easy, CURLINFO_EFFECTIVE_URL, &eff);
        if (eff != NULL &&
            (res->final_url == NULL || strcmp(res->final_url, eff) != 0)) {
            pf__free(res->final_url);
            res->final_url = pf__strdup(eff);
        }
    }
    if (a->creds && watch_redirect(a, p, len, new_response) < 0)
        return 0;
    return len;
}

static int open_sink(struct attempt *a)
{
    const struct pf__try *try = a->try;
    int rc;

    if (*try->sink_open)
        return 0;
    /*
     * The first body byte: the URL that answered is known by now, so a
     * slash redirect can name the file after it.
     */
    rc = pf__sink_open(a->t->store, try->sink, try->url, a->res->final_url,
                       a->res->resp.disposition,
                       a->t->resume ? PF__SINK_RESUME : PF__SINK_NEW);
    if (rc < 0)
        return rc;
    *try->sink_open = 1;
    return 0;
}

static void rate_refill(struct pf__transfers *t)
{
    int64_t now = pf__now_ns();
    int64_t burst = t->rate / 10 > 16384 ? t->rate / 10 : 16384;

    t->tokens += (now - t->tokens_ns) * t->rate / 1000000000;
    if (t->tokens > burst)
        t->tokens = burst;
    t->tokens_ns = now;
}

static void rate_tick(struct pf__loop *l, struct pf__timer *timer)
{
    struct pf__transfers *t = timer->data;

    (void)l;
    rate_refill(t);
    /* Unpause in order; each may consume tokens (or pause again). */
    while (t->tokens > 0 && !pf__queue_empty(&t->paused)) {
        struct attempt *a = pf__container_of(pf__queue_head(&t->paused),
                                             struct attempt, pause_link);

        pf__queue_remove(&a->pause_link);
        a->paused = 0;
        curl_easy_pause(a->easy, CURLPAUSE_CONT);
    }
    if (!pf__queue_empty(&t->paused))
        pf__timer_start(pf__sched_loop(t->s), &t->rate_timer,
                        pf__now_ns() + 20 * 1000000);
}

/* --rate: may this chunk go on now?  If not, the transfer pauses. */
static int rate_admit(struct attempt *a, size_t len)
{
    struct pf__transfers *t = a->t;

    rate_refill(t);
    if (t->tokens > 0) {
        t->tokens -= (int64_t)len;
        return 1;
    }
    if (!a->paused) {
        a->paused = 1;
        pf__queue_insert_tail(&t->paused, &a->pause_link);
    }
    if (!pf__timer_active(&t->rate_timer)) {
        t->rate_timer.cb = rate_tick;
        pf__timer_start(pf__sched_loop(t->s), &t->rate_timer,
                        pf__now_ns() + (-t->tokens + 1) * 1000000000 / t->rate);
    }
    return 0;
}

/*
 * The first chunk of a body to keep: refuse it when announced too big,
 * open the .part, start it over when a server ignored our Range, and
 * keep the response's validator with it.  0 to go on, or -1 to stop the
 * transfer (a->local_err says why, if it is an error).
 */
static int body_begins(struct attempt *a, long code, size_t len)
{
    struct pf__transfers *t = a->t;
    struct pf__result *res = a->res;
    struct pf__sink *sink = a->try->sink;
    curl_off_t cl = -1;

    /* A plain body announced too big is refused before it comes. */
    curl_easy_getinfo(a->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    if (t->max_size > 0 && !res->resp.encoded && cl > 0 &&
        (code == 206 ? res->a.resume_from : 0) + cl > t->max_size) {
        a->local_err = PF_EINVAL;
        return -1;
    }
    if (open_sink(a) < 0) {
        a->local_err = PF_EIO;
        return -1;
    }
    if (code == 206 &&
        (res->resp.encoded || res->resp.range_start != res->a.resume_from))
        return -1; /* the story starts over without Range */
    /* A server that ignored our Range sends everything again. */
    if (code != 206 && sink->offset + sink->bytes > 0 &&
        pf__sink_truncate(sink) < 0) {
        a->local_err = PF_EIO;
        return -1;
    }
    /*
     * What the .part now holds comes from this response: a retry after
     * a cut may go on from its end, with If-Range, when the response had
     * a validator and came as it is.
     */
    if (code != 206)
        snprintf(a->try->part_validator, sizeof(res->resp.validator), "%s",
                 res->resp.encoded ? "" : res->resp.validator);
    /*
     * A new body that does not come in one piece keeps its validator
     * with the .part, for an If-Range after an interruption.  A body
     * whole in its first piece is not worth the system calls.
     */
    if (code != 206 && res->resp.validator[0] != '\0' &&
        !(!res->resp.encoded && cl >= 0 && (curl_off_t)len >= cl))
        pf__sink_set_validator(sink, res->resp.validator);
    /* A size the progress display can count on: plain bytes, announced. */
    if (!res->resp.encoded && cl > 0) {
        a->left = (int64_t)cl;
        t->sized++;
        t->bytes_left += (uint64_t)cl;
    }
    return 0;
}

/* Body bytes came: fewer to come.  Or, with all, the attempt is over. */
static void sized_got(struct attempt *a, size_t len, int all)
{
    struct pf__transfers *t = a->t;
    int64_t n = all || (int64_t)len > a->left ? a->left : (int64_t)len;

    if (a->left < 0)
        return;
    a->left -= n;
    t->bytes_left -= (uint64_t)n;
    if (all) {
        t->sized--;
        a->left = -1;
    }
}

void pf__transfers_sizes(const struct pf__transfers *t, uint64_t *sized,
                         uint64_t *bytes_left)
{
    *sized = t->sized;
    *bytes_left = t->bytes_left;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct attempt *a = ud;
    struct pf__transfers *t = a->t;
    struct pf__sink *sink = a->try->sink;
    size_t len = size * n;
    long code;
    int rc;

    a->last_rx_ns = pf__sched_now_ns(t->s);
    if (t->rate > 0 && !rate_admit(a, len))
        return CURL_WRITEFUNC_PAUSE;
    /*
     * The status of the response this body belongs to: the header
     * callback parsed its status line, so no getinfo call per chunk.
     */
    code = a->res->resp.status;
    if (code < 200 || code > 299)
        return len; /* an error page: read and dropped, keeps keep-alive */
    if (!a->range_checked) {
        a->range_checked = 1;
        if (body_begins(a, code, len) < 0)
            return 0;
    }
    a->body += (int64_t)len;
    *t->bytes += len;
    sized_got(a, len, 0);
    if (t->max_size > 0 &&
        sink->offset + sink->bytes + (int64_t)len > t->max_size) {
        a->local_err = PF_EINVAL;
        return 0;
    }
    rc = pf__sink_write(sink, p, len);
    if (rc < 0) {
        a->local_err = rc;
        return 0;
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
    int64_t stall = a->t->stall_ms;

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

/*
 * The request headers of one attempt: the user's, and the conditional
 * lines given (NULL entries skipped).  0 with *out set, or -1 when out
 * of memory.
 */
static int with_headers(struct pf__transfers *t, const char *const *lines,
                        size_t n, struct curl_slist **out)
{
    const struct curl_slist *h;
    struct curl_slist *l = NULL, *nl;
    size_t i;

    for (h = t->headers; h != NULL; h = h->next) {
        nl = curl_slist_append(l, h->data);
        if (nl == NULL)
            goto fail;
        l = nl;
    }
    for (i = 0; i < n; i++) {
        if (lines[i] == NULL)
            continue;
        nl = curl_slist_append(l, lines[i]);
        if (nl == NULL)
            goto fail;
        l = nl;
    }
    *out = l;
    return 0;
fail:
    curl_slist_free_all(l);
    return -1;
}

/*
 * The request headers of a resumed attempt: the user's, and If-Range
 * with the validator kept with the .part.  0 with *out set, or -1 when
 * there is no validator (the resume then goes with Range alone).
 */
static int if_range(struct pf__transfers *t, const char *v,
                    struct curl_slist **out)
{
    char line[sizeof(((struct pf__resp *)0)->validator) + 16];
    const char *lines[1] = {line};

    if (strlen(v) < 6)
        return -1;
    snprintf(line, sizeof(line), "If-Range: %s", v + 5);
    return with_headers(t, lines, 1, out);
}

/*
 * A validator fit for a request header: printable ASCII and spaces
 * only, so that no byte a server sent can end the line or add one.
 */
static int header_safe(const char *v)
{
    if (v == NULL || v[0] == '\0')
        return 0;
    for (; *v != '\0'; v++)
        if ((unsigned char)*v < 0x20 || (unsigned char)*v >= 0x7f)
            return 0;
    return 1;
}

/*
 * -N: If-None-Match and If-Modified-Since with the saved file's
 * validators.  1 with *out set when the request is conditional, 0 when
 * there is nothing to ask with, -1 when out of memory.
 */
static int conditional(struct pf__transfers *t, const struct pf__try *try,
                       struct curl_slist **out)
{
    char *lines[2] = {NULL, NULL};
    int rc = 0;

    if (header_safe(try->if_none_match))
        lines[0] = pf__asprintf("If-None-Match: %s", try->if_none_match);
    if (header_safe(try->if_modified_since))
        lines[1] =
            pf__asprintf("If-Modified-Since: %s", try->if_modified_since);
    if ((header_safe(try->if_none_match) && lines[0] == NULL) ||
        (header_safe(try->if_modified_since) && lines[1] == NULL))
        rc = -1;
    else if (lines[0] != NULL || lines[1] != NULL)
        rc = with_headers(t, (const char *const *)lines, 2, out) == 0 ? 1 : -1;
    pf__free(lines[0]);
    pf__free(lines[1]);
    return rc;
}

/*
 * libcurl's code in pfetch's words.  A flat switch: which codes are
 * worth a retry is outcome.c's business, which fault each code is is
 * this one's.
 */
static enum pf__fault fault_of(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK:
        return PF__FAULT_NONE;
    case CURLE_COULDNT_CONNECT:
        return PF__FAULT_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return PF__FAULT_TIMEOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
        return PF__FAULT_NETWORK;
    case CURLE_FILESIZE_EXCEEDED:
        return PF__FAULT_TOO_LARGE;
    default:
        return PF__FAULT_OTHER;
    }
}

/*
 * A response header over libcurl's limit (100 KiB a line) comes back as
 * CURLE_OUT_OF_MEMORY before libcurl 8.6, CURLE_TOO_LARGE since: both
 * after a status line and before any body, which no real shortage of
 * memory would single out.
 */
static int headers_too_large(CURLcode cc, long code, int64_t body)
{
#if LIBCURL_VERSION_NUM >= 0x080600
    if (cc == CURLE_TOO_LARGE)
        cc = CURLE_OUT_OF_MEMORY;
#endif
    return cc == CURLE_OUT_OF_MEMORY && code > 0 && body == 0;
}

/*
 * Did the transfer fail on what came before any status line, on a
 * connection it did not open?  Then the fault is the connection's, not
 * the URL's: a server that sent more than a Content-Length said leaves
 * its excess to be read as the next response.
 */
static int junk_on_reused(CURL *e, CURLcode cc, long code)
{
    long connects = -1;

    if (code != 0 ||
        (cc != CURLE_UNSUPPORTED_PROTOCOL && cc != CURLE_WEIRD_SERVER_REPLY))
        return 0;
    curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &connects);
    return connects == 0;
}

/* The HTTP version of the last response, as the log writes it. */
static const char *version_text(CURL *e)
{
    long v = 0;

    curl_easy_getinfo(e, CURLINFO_HTTP_VERSION, &v);
    switch (v) {
    case CURL_HTTP_VERSION_1_0:
        return "1.0";
    case CURL_HTTP_VERSION_1_1:
        return "1.1";
    case CURL_HTTP_VERSION_2_0:
        return "2";
#if LIBCURL_VERSION_NUM >= 0x074200
    case CURL_HTTP_VERSION_3:
        return "3";
#endif
    default:
        return NULL;
    }
}

/* What the attempt came to, into res->a.  After the transfer. */
static void describe(struct attempt *a, int rc, CURLcode cc)
{
    struct pf__result *res = a->res;
    struct pf__attempt *o = &res->a;
    long code = 0;
    char *ct = NULL;
    curl_off_t ra = 0;

    curl_easy_getinfo(a->easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(a->easy, CURLINFO_CONTENT_TYPE, &ct);
    res->content_type = ct != NULL ? pf__strdup(ct) : NULL;
    /* Retry-After, seconds or an HTTP date, as curl parsed it. */
    if (curl_easy_getinfo(a->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
        ra > 0)
        res->retry_after_s = (int64_t)ra;
    o->rc = rc;
    res->curl_code = rc < 0 ? CURLE_ABORTED_BY_CALLBACK : (int)cc;
    res->http_version = code > 0 ? version_text(a->easy) : NULL;
    o->status = code;
    o->reason = res->resp.reason;
    o->encoded = res->resp.encoded;
    o->range_start = res->resp.range_start;
    o->range_total = res->resp.range_total;
    o->fault = fault_of(cc);
    if (a->local_err == PF_EINVAL)
        o->fault = PF__FAULT_TOO_LARGE;
    else if (a->local_err != 0)
        o->fault = PF__FAULT_WRITE;
    else if (junk_on_reused(a->easy, cc, code))
        o->fault = PF__FAULT_JUNK;
    else if (cc == CURLE_UNSUPPORTED_PROTOCOL && code >= 300 && code < 400)
        o->fault = PF__FAULT_REDIRECT;
    else if (headers_too_large(cc, code, a->body))
        o->fault = PF__FAULT_HEADERS;
    else if (a->stalled ||
             (cc == CURLE_OPERATION_TIMEDOUT && res->errtext[0] != '\0' &&
              strstr(res->errtext, "than 1 bytes/sec") != NULL))
        o->fault = PF__FAULT_STALLED;
    o->local_err = a->local_err;
    o->sys_errno = a->try->sink->sys_errno;
    o->relpath = a->try->sink->relpath;
    if (res->errtext[0] == '\0' && cc != CURLE_OK)
        snprintf(res->errtext, sizeof(res->errtext), "%s",
                 curl_easy_strerror(cc));
    o->errtext = res->errtext;
}

/* Range (and If-Range) for a .part that goes on; the headers to free. */
static struct curl_slist *ask_rest(struct attempt *a)
{
    struct curl_slist *if_hdrs = NULL;
    int64_t from = a->res->a.resume_from;
    char range[32];

    /*
     * A Range header rather than CURLOPT_RESUME_FROM, which fails the
     * transfer when the server ignores the range: we restart the file
     * instead (on_body truncates it on a 200).
     */
    snprintf(range, sizeof(range), "%lld-", (long long)from);
    curl_easy_setopt(a->easy, CURLOPT_RANGE, from > 0 ? range : (char *)NULL);
    /*
     * If-Range with the validator of the .part: a server whose copy
     * changed since sends it whole (200), never a piece of another
     * version to splice onto ours.
     */
    if (from > 0 && if_range(a->t, a->try->part_validator, &if_hdrs) == 0)
        curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, if_hdrs);
    /* -N: a file saved before is asked for only if it changed. */
    if (from == 0 && conditional(a->t, a->try, &if_hdrs) == 1) {
        a->res->a.conditional = 1;
        curl_easy_setopt(a->easy, CURLOPT_HTTPHEADER, if_hdrs);
    }
    return if_hdrs;
}

/* Does url (normalised) hold a user name or password? */
static int url_has_userinfo(const char *url)
{
    const char *p = strstr(url, "://");

    if (p == NULL)
        return 0;
    p += 3;
    return memchr(p, '@', strcspn(p, "/?#")) != NULL;
}

/*
 * The credentials of a request for url: --user to a seed's host:port,
 * netrc to the machine it names (libcurl looks it up), those of the
 * URL; none at all on the far side of a redirect to another host:port
 * (first is 0 there).
 */
static void set_credentials(struct attempt *a, const char *url, int first)
{
    struct pf__transfers *t = a->t;
    int user = first && t->user != NULL && seed_host(t, url);

    curl_easy_setopt(a->easy, CURLOPT_USERPWD, user ? t->user : (char *)NULL);
    if (t->netrc)
        curl_easy_setopt(a->easy, CURLOPT_NETRC,
                         first ? (long)CURL_NETRC_OPTIONAL
                               : (long)CURL_NETRC_IGNORED);
    a->creds = first && (user || t->netrc || url_has_userinfo(url));
}

/*
 * Perform the request for url, and when a redirect that would carry
 * credentials leads to another host:port, the rest of the chain from
 * there without them, within the redirect budget.  Returns pf_fetch()'s.
 */
static int perform(struct attempt *a, CURLcode *cc)
{
    const char *url = a->try->url;
    long budget = 10, followed;
    char *hop = NULL;
    int rc, first = 1;

    for (;;) {
        set_credentials(a, url, first);
        curl_easy_setopt(a->easy, CURLOPT_URL, url);
        curl_easy_setopt(a->easy, CURLOPT_MAXREDIRS, budget);
        /* https: wait for a connection that may multiplex (HTTP/2). */
        curl_easy_setopt(
            a->easy, CURLOPT_PIPEWAIT,
            (long)(!a->t->http1_1 && strncmp(url, "https:", 6) == 0));
        rc = pf_fetch(a->t->s, a->easy, cc);
        curl_free(hop);
        hop = a->hop;
        a->hop = NULL;
        if (rc < 0 || hop == NULL)
            break;
        followed = 0;
        curl_easy_getinfo(a->easy, CURLINFO_REDIRECT_COUNT, &followed);
        budget -= followed + 1;
        if (budget < 0) {
            *cc = CURLE_TOO_MANY_REDIRECTS;
            snprintf(a->res->errtext, sizeof(a->res->errtext),
                     "Maximum (10) redirects followed");
            break;
        }
        a->res->errtext[0] = '\0';
        url = hop;
        first = 0;
    }
    curl_free(hop);
    pf__free(a->location);
    a->location = NULL;
    a->creds = 0;
    return rc;
}

int pf__transfer_run(struct pf__transfers *t, const struct pf__try *try,
                     struct pf__result *res)
{
    struct attempt a;
    struct curl_slist *if_hdrs;
    CURLcode cc = CURLE_OK;
    int rc;

    memset(res, 0, sizeof(*res));
    pf__resp_init(&res->resp);
    memset(&a, 0, sizeof(a));
    a.t = t;
    a.try = try;
    a.res = res;
    pf__queue_init(&a.pause_link);
    a.left = -1;
    a.easy = easy_get(t);
    if (a.easy == NULL)
        return PF_ENOMEM;
    /* A .part kept by an earlier run or attempt goes on from its end. */
    if (*try->sink_open)
        res->a.resume_from = try->sink->offset + try->sink->bytes;
    curl_easy_setopt(a.easy, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(a.easy, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(a.easy, CURLOPT_ERRORBUFFER, res->errtext);
    curl_easy_setopt(a.easy, CURLOPT_XFERINFODATA, &a);
    a.last_rx_ns = pf__now_ns();
    if_hdrs = ask_rest(&a);
    if (try->fresh_connect)
        curl_easy_setopt(a.easy, CURLOPT_FRESH_CONNECT, 1L);
    rc = perform(&a, &cc);
    if (try->fresh_connect)
        curl_easy_setopt(a.easy, CURLOPT_FRESH_CONNECT, 0L);
    if (if_hdrs != NULL) {
        curl_easy_setopt(a.easy, CURLOPT_HTTPHEADER, t->headers);
        curl_slist_free_all(if_hdrs);
    }
    if (a.paused)
        pf__queue_remove(&a.pause_link);
    sized_got(&a, 0, 1);
    curl_easy_setopt(a.easy, CURLOPT_ERRORBUFFER, (char *)NULL);
    describe(&a, rc, cc);
    easy_put(t, a.easy);
    return 0;
}

void pf__result_free(struct pf__result *res)
{
    pf__resp_free(&res->resp);
    pf__free(res->final_url);
    pf__free(res->content_type);
    res->final_url = NULL;
    res->content_type = NULL;
}

struct got {
    struct pf__buf *body;
    size_t max;
};

static size_t got_body(char *p, size_t size, size_t n, void *ud)
{
    struct got *g = ud;
    size_t len = size * n;
    size_t room = g->max - g->body->len;

    if (pf__buf_append(g->body, p, len < room ? len : room) < 0)
        return 0;
    return len <= room ? len : 0; /* full: stop the transfer */
}

int pf__transfer_get(struct pf__transfers *t, const char *url, size_t max,
                     struct pf__buf *body, long *status, int *truncated,
                     char *why, size_t whylen)
{
    struct got g = {body, max};
    CURL *e = easy_new(t);
    CURLcode cc = CURLE_OK;
    int rc;

    *status = 0;
    *truncated = 0;
    if (e == NULL)
        return PF_ENOMEM;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    /* robots.txt is asked without credentials. */
    curl_easy_setopt(e, CURLOPT_NETRC, (long)CURL_NETRC_IGNORED);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, got_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &g);
    rc = pf_fetch(t->s, e, &cc);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    curl_easy_cleanup(e);
    if (rc < 0)
        return rc;
    if (cc == CURLE_WRITE_ERROR && body->len == max) {
        *truncated = 1;
        return 0;
    }
    if (cc != CURLE_OK) {
        snprintf(why, whylen, "%s", curl_easy_strerror(cc));
        return PF_ECURL;
    }
    return 0;
}
