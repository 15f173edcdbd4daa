/*
 * outcome.h -- what one attempt's result means: success, a final
 * failure, a retry after a backoff, or one of the two immediate second
 * tries (a new connection after junk, a .part started over).  Pure: no
 * libcurl (transfer.c says what went wrong in pfetch's own words, enum
 * pf__fault), no I/O, no clock, no randomness of its own.  Any thread.
 */
#ifndef PF_OUTCOME_H
#define PF_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

/* What went wrong on the wire, as transfer.c reads libcurl's code. */
enum pf__fault {
    PF__FAULT_NONE,      /* the transfer ran to its end */
    PF__FAULT_CONNECT,   /* could not connect (transient) */
    PF__FAULT_TIMEOUT,   /* --timeout or --connect-timeout (transient) */
    PF__FAULT_STALLED,   /* nothing came for --stall-timeout (transient) */
    PF__FAULT_NETWORK,   /* reset, short body, nothing, TLS, HTTP/2 */
    PF__FAULT_JUNK,      /* bytes before any status line, reused conn. */
    PF__FAULT_REDIRECT,  /* a redirect to a scheme other than http(s) */
    PF__FAULT_HEADERS,   /* a header line over libcurl's limit */
    PF__FAULT_TOO_LARGE, /* over --max-filesize */
    PF__FAULT_WRITE,     /* the body could not be stored (see local_err) */
    PF__FAULT_OTHER      /* any other failure of libcurl's: final */
};

/* One attempt, as the transfer saw it. */
struct pf__attempt {
    int rc; /* 0, or why the wait ended (PF_ECANCELED...) */
    enum pf__fault fault;
    int local_err;       /* with FAULT_WRITE: PF_EIO or PF_EDISKFULL */
    int sys_errno;       /* with FAULT_WRITE: the system's reason */
    const char *relpath; /* with FAULT_WRITE: the file, or NULL */
    long status;         /* the last response's status, 0 if none */
    const char *reason;  /* its reason phrase, "" if none */
    int encoded;         /* that response was content-encoded */
    int64_t range_start; /* of its Content-Range, -1 if none */
    int64_t range_total; /* of its Content-Range, -1 if none */
    int64_t resume_from; /* Range asked from this byte; 0 = whole */
    const char *errtext; /* libcurl's words for the fault, or "" */
    int conditional;     /* -N: asked with the saved file's validators */
};

/* What the attempt means, and what comes next. */
enum pf__next {
    PF__NEXT_SAVE,     /* a body to keep: commit the .part */
    PF__NEXT_KEEP,     /* 416 past a whole .part: keep it, status 200 */
    PF__NEXT_FAIL,     /* a final failure: err and msg say why */
    PF__NEXT_RETRY,    /* transient: again after a backoff */
    PF__NEXT_REFRESH,  /* junk on a reused connection: at once, anew */
    PF__NEXT_RESTART,  /* the .part cannot be continued: truncate, again */
    PF__NEXT_UNCHANGED /* 304 to a conditional request: keep the file */
};

/* What the story knows beyond the attempt itself. */
struct pf__judge {
    int attempts;     /* requests made so far, this one included */
    unsigned retries; /* --retries */
    int refreshed;    /* REFRESH was given once already */
    int restarted;    /* RESTART was given once already */
    int stopping;     /* the run is stopping: nothing is retried */
    int64_t stall_ms; /* --stall-timeout, for the message */
    int64_t max_size; /* --max-filesize, for the message */
};

struct pf__verdict {
    enum pf__next next;
    int err;       /* 0 or PF_E*: the row's code */
    int transient; /* the failure is worth a retry */
    char msg[384]; /* the row's error text; "" when none */
};

/* Judge one attempt.  Table-driven tests: tests/test_outcome.c. */
void pf__outcome_judge(const struct pf__attempt *a, const struct pf__judge *j,
                       struct pf__verdict *v);

/* Is a status worth a retry (408, 429, 500, 502, 503, 504)? */
int pf__status_transient(long status);

/* The reason phrase of a status, "" for one not known. */
const char *pf__status_text(long status);

/*
 * The wait before retry number `attempt` (1 = the first retry): base,
 * doubled each time, capped at max; then a jitter within [3/4, 5/4]
 * drawn from rnd (any non-negative number).  A Retry-After of
 * retry_after_s seconds (> 0) replaces all of that, capped at one hour.
 */
int64_t pf__backoff_ms(int attempt, int64_t base_ms, int64_t max_ms,
                       int64_t retry_after_s, long rnd);

#endif /* PF_OUTCOME_H */
