/*
 * outcome.c -- what an attempt's result means (see outcome.h).  The one
 * place that decides which failures are final, which are worth a retry
 * and after how long, and what a row's error says.  Pure: it never
 * touches libcurl, the scheduler, files or the log, so every decision is
 * tested by a table (tests/test_outcome.c).
 */
#include "outcome.h"

#include <stdio.h>
#include <string.h>

#include "pfetch.h"

#define PF__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

int pf__status_transient(long st)
{
    return st == 408 || st == 429 || st == 500 || st == 502 || st == 503 ||
           st == 504;
}

/* A flat table: one line per status, nothing to decide. */
const char *pf__status_text(long st)
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

int64_t pf__backoff_ms(int attempt, int64_t base_ms, int64_t max_ms,
                       int64_t retry_after_s, long rnd)
{
    int64_t d = base_ms;
    int i;

    if (retry_after_s > 0)
        return (retry_after_s > 3600 ? 3600 : retry_after_s) * 1000;
    for (i = 1; i < attempt && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    /* Jitter: somewhere in [3/4, 5/4] of the nominal delay. */
    if (d > 0)
        d = d * 3 / 4 + (int64_t)(rnd % (d / 2 + 1));
    return d;
}

static int fault_transient(enum pf__fault f)
{
    return f == PF__FAULT_CONNECT || f == PF__FAULT_TIMEOUT ||
           f == PF__FAULT_STALLED || f == PF__FAULT_NETWORK;
}

/*
 * Can a 206 be appended to the .part?  Only a piece that starts where
 * the .part ends, and not content-encoded: Range counts the encoded
 * bytes, the .part holds decoded ones.
 */
static int piece_fits(const struct pf__attempt *a)
{
    return !a->encoded && a->range_start == a->resume_from;
}

static void fail(struct pf__verdict *v, int err, int transient)
{
    v->next = PF__NEXT_FAIL;
    v->err = err;
    v->transient = transient;
}

/* A failure on the wire, after any status line: libcurl's code. */
static void judge_fault(const struct pf__attempt *a, const struct pf__judge *j,
                        struct pf__verdict *v)
{
    fail(v, PF_ECURL, fault_transient(a->fault));
    switch (a->fault) {
    case PF__FAULT_REDIRECT:
        snprintf(v->msg, sizeof(v->msg),
                 "redirect to an unsupported scheme refused");
        break;
    case PF__FAULT_HEADERS:
        snprintf(v->msg, sizeof(v->msg),
                 "response headers over libcurl's size limit");
        break;
    case PF__FAULT_STALLED:
        snprintf(v->msg, sizeof(v->msg), "stalled: nothing received for %lld s",
                 (long long)((j->stall_ms + 999) / 1000));
        break;
    default:
        snprintf(v->msg, sizeof(v->msg), "%s", a->errtext);
        break;
    }
}

/*
 * The first matching rule decides; their order is the contract (a
 * stop before anything, local errors before the wire's, the two second
 * tries before failures they would otherwise be).
 */
static void judge_once(const struct pf__attempt *a, const struct pf__judge *j,
                       struct pf__verdict *v)
{
    if (a->rc < 0) {
        fail(v, a->rc, 0);
        snprintf(v->msg, sizeof(v->msg), "%s",
                 a->rc == PF_ECANCELED ? "interrupted" : pf_strerror(a->rc));
    } else if (a->fault == PF__FAULT_TOO_LARGE) {
        fail(v, PF_EINVAL, 0);
        snprintf(v->msg, sizeof(v->msg),
                 "body larger than --max-filesize (%lld bytes)",
                 (long long)j->max_size);
    } else if (a->fault == PF__FAULT_WRITE) {
        fail(v, a->local_err, 0);
        snprintf(v->msg, sizeof(v->msg), "cannot write %s: %s",
                 a->relpath != NULL ? a->relpath : "file",
                 strerror(a->sys_errno));
    } else if (a->fault == PF__FAULT_JUNK && !j->refreshed) {
        /*
         * Bytes came before our response on a kept-alive connection:
         * most likely what a previous response sent past its
         * Content-Length.  Once, at once, on a new connection.
         */
        v->next = PF__NEXT_REFRESH;
    } else if (!j->restarted && a->resume_from > 0 &&
               ((a->status == 416 && a->range_total != a->resume_from) ||
                (a->status == 206 && !piece_fits(a)))) {
        /* The .part is longer than the body, or the piece won't fit. */
        v->next = PF__NEXT_RESTART;
    } else if (a->fault != PF__FAULT_NONE) {
        judge_fault(a, j, v);
    } else if (a->status == 416 && a->resume_from > 0 &&
               a->range_total == a->resume_from) {
        /* Nothing past the end of the .part: it is the whole body. */
        v->next = PF__NEXT_KEEP;
    } else if (a->status == 304 && a->conditional) {
        /* -N: the saved file is still the server's: it stays. */
        v->next = PF__NEXT_UNCHANGED;
    } else if (a->status < 200 || a->status > 299) {
        const char *reason = a->reason != NULL && a->reason[0] != '\0'
                                 ? a->reason
                                 : pf__status_text(a->status);

        fail(v, PF_ECURL, pf__status_transient(a->status));
        snprintf(v->msg, sizeof(v->msg), "HTTP %ld%s%s", a->status,
                 reason[0] ? " " : "", reason);
    } else {
        v->next = PF__NEXT_SAVE;
    }
}

void pf__outcome_judge(const struct pf__attempt *a, const struct pf__judge *j,
                       struct pf__verdict *v)
{
    memset(v, 0, sizeof(*v));
    judge_once(a, j, v);
    if (v->next == PF__NEXT_FAIL && v->transient && !j->stopping &&
        j->attempts <= (int)j->retries)
        v->next = PF__NEXT_RETRY;
}
