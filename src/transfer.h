/*
 * transfer.h -- one HTTP attempt of a job, and the libcurl state its
 * attempts share: the pool of easy handles, the options every request
 * carries, the --rate token bucket.  An attempt streams a body into the
 * item's sink (store.c), honouring Range/If-Range for a .part that goes
 * on, and comes back as a plain struct pf__attempt (outcome.h) that
 * names no libcurl type.  Also fetches small files into memory
 * (robots.txt).  Loop thread; attempts run on coroutines.
 */
#ifndef PF_TRANSFER_H
#define PF_TRANSFER_H

#include "outcome.h"
#include "resp.h"
#include "store.h"
#include "util.h"

struct pf__transfers;

/*
 * The job's transfer state.  cfg, store and bytes (the job's counter of
 * body bytes received) must outlive it; cfg's strings are read at once,
 * and cfg->load_cookies's file too: PF_EIO, with why said, when it
 * cannot be read.
 */
int pf__transfers_new(struct pf__transfers **out, pf_sched *s,
                      const struct pf_config *cfg, const char *user_agent,
                      struct pf__store *store, uint64_t *bytes, char *why,
                      size_t whylen);
void pf__transfers_free(struct pf__transfers *t);

/*
 * A seed (normalised) was accepted: its host:port gets cfg->user's
 * credentials.  0 or PF_ENOMEM.
 */
int pf__transfers_seed(struct pf__transfers *t, const char *url);

/*
 * The run ends (interrupted or not): cfg->save_cookies gets the jar.
 * 0, PF_ENOMEM, or PF_EIO with why said.
 */
int pf__transfers_finish(struct pf__transfers *t, char *why, size_t whylen);

/*
 * For the progress display: how many attempts in flight have announced
 * their body's size (Content-Length, not content-encoded), and how many
 * of those bytes are still to come.
 */
void pf__transfers_sizes(const struct pf__transfers *t, uint64_t *sized,
                         uint64_t *bytes_left);

/* The run is stopping: handles go back to libcurl, not to the pool. */
void pf__transfers_stopping(struct pf__transfers *t);

/* What one attempt needs from the story, and what it keeps across. */
struct pf__try {
    const char *url;
    struct pf__sink *sink; /* the item's, kept across attempts */
    int *sink_open;        /* *sink_open once the .part is open */
    char *part_validator;  /* [192] in/out: what the .part's body had */
    int fresh_connect;     /* go on a new connection */
    /*
     * -N: the validators of the file saved before, for If-None-Match and
     * If-Modified-Since (NULL: none).  Not sent when a .part goes on.
     */
    const char *if_none_match;
    const char *if_modified_since;
};

/* The attempt's result; pf__result_free() gives back what it holds. */
struct pf__result {
    struct pf__attempt a;     /* for pf__outcome_judge() */
    struct pf__resp resp;     /* the last response's header fields */
    char *final_url;          /* the last response's URL, or NULL */
    char *content_type;       /* its Content-Type, or NULL */
    int64_t retry_after_s;    /* its Retry-After, 0 if none */
    int curl_code;            /* libcurl's code, for struct pf_result */
    const char *http_version; /* "1.1", "2"... (static), NULL if none */
    char errtext[256];        /* libcurl's words (its error buffer) */
};

/*
 * Make one request for try->url and wait for it (a coroutine's wait:
 * PF_ECANCELED when the run stops).  Returns 0 with *res filled whatever
 * happened on the wire, or PF_ENOMEM with nothing to free.
 */
int pf__transfer_run(struct pf__transfers *t, const struct pf__try *try,
                     struct pf__result *res);
void pf__result_free(struct pf__result *res);

/*
 * GET url into body, at most max bytes (what goes past is not read: the
 * transfer stops and *truncated is set), following at most 5 redirects.
 * Returns 0 when a response came (*status set, 0 if none), PF_ECURL with
 * why filled when the transfer failed, PF_ECANCELED or PF_ENOMEM.  A
 * coroutine's call.
 */
int pf__transfer_get(struct pf__transfers *t, const char *url, size_t max,
                     struct pf__buf *body, long *status, int *truncated,
                     char *why, size_t whylen);

#endif /* PF_TRANSFER_H */
