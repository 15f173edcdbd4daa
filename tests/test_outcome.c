/*
 * test_outcome.c -- what an attempt means, as a table: each row is an
 * attempt (what the transfer saw) and what the story knows, and the
 * verdict it must get: save, keep, fail, retry, a new connection, a
 * .part started over; the row's code, whether it is transient, and its
 * error text.  Then the backoff rule and the status texts.
 */
#include <errno.h>
#include <string.h>

#include "outcome.h"
#include "pfetch.h"
#include "test.h"

struct row {
    const char *name;
    struct pf__attempt a;
    struct pf__judge j;
    enum pf__next next;
    int err;
    int transient;
    const char *msg; /* the whole error text; NULL: "" */
};

/* A judge with retries left, not stopping. */
#define J1                                                                     \
    {                                                                          \
        1, 3, 0, 0, 0, 1500, 100                                               \
    }
#define OK200 0, PF__FAULT_NONE, 0, 0, NULL, 200, "OK", 0, -1, -1, 0, "", 0

static const struct row rows[] = {
    {"success", {OK200}, J1, PF__NEXT_SAVE, 0, 0, NULL},
    {"304 to -N's conditional request",
     {0, PF__FAULT_NONE, 0, 0, NULL, 304, "Not Modified", 0, -1, -1, 0, "", 1},
     J1,
     PF__NEXT_UNCHANGED,
     0,
     0,
     NULL},
    {"304 unasked",
     {0, PF__FAULT_NONE, 0, 0, NULL, 304, "Not Modified", 0, -1, -1, 0, "", 0},
     J1,
     PF__NEXT_FAIL,
     PF_ECURL,
     0,
     "HTTP 304 Not Modified"},
    {"empty 204",
     {0, PF__FAULT_NONE, 0, 0, NULL, 204, "", 0, -1, -1, 0, "", 0},
     J1,
     PF__NEXT_SAVE,
     0,
     0,
     NULL},
    {"stopped",
     {PF_ECANCELED, PF__FAULT_NONE, 0, 0, NULL, 0, "", 0, -1, -1, 0, "", 0},
     J1,
     PF__NEXT_FAIL,
     PF_ECANCELED,
     0,
     "interrupted"},
    {"too large",
     {0, PF__FAULT_TOO_LARGE, 0, 0, NULL, 200, "", 0, -1, -1, 0, "", 0},
     J1,
     PF__NEXT_FAIL,
     PF_EINVAL,
     0,
     "body larger than --max-filesize (100 bytes)"},
    {"write error",
     {0, PF__FAULT_WRITE, PF_EIO, EIO, "h/f", 200, "", 0, -1, -1, 0, "", 0},
     J1,
     PF__NEXT_FAIL,
     PF_EIO,
     0,
     "cannot write h/f: Input/output error"},
    {"junk, first time",
     {0, PF__FAULT_JUNK, 0, 0, NULL, 0, "", 0, -1, -1, 0, "weird", 0},
     J1,
     PF__NEXT_REFRESH,
     0,
     0,
     NULL},
    {"junk, again",
     {0, PF__FAULT_JUNK, 0, 0, NULL, 0, "", 0, -1, -1, 0, "weird", 0},
     {2, 3, 2, 0, 0, 1500, 100},
     PF__NEXT_FAIL,
     PF_ECURL,
     0,
     "weird"},
    {"416 past a longer .part",
     {0, PF__FAULT_NONE, 0, 0, NULL, 416, "", 0, -1, 50, 100, "", 0},
     J1,
     PF__NEXT_RESTART,
     0,
     0,
     NULL},
    {"416 again after a restart",
     {0, PF__FAULT_NONE, 0, 0, NULL, 416, "", 0, -1, 50, 100, "", 0},
     {2, 3, 0, 1, 0, 1500, 100},
     PF__NEXT_FAIL,
     PF_ECURL,
     0,
     "HTTP 416 Range Not Satisfiable"},
    {"416 at the .part's end",
     {0, PF__FAULT_NONE, 0, 0, NULL, 416, "", 0, -1, 100, 100, "", 0},
     J1,
     PF__NEXT_KEEP,
     0,
     0,
     NULL},
    {"206 that fits",
     {0, PF__FAULT_NONE, 0, 0, NULL, 206, "", 0, 100, 500, 100, "", 0},
     J1,
     PF__NEXT_SAVE,
     0,
     0,
     NULL},
    {"206 of the wrong piece",
     {0, PF__FAULT_OTHER, 0, 0, NULL, 206, "", 0, 0, 500, 100, "write", 0},
     J1,
     PF__NEXT_RESTART,
     0,
     0,
     NULL},
    {"206 content-encoded",
     {0, PF__FAULT_OTHER, 0, 0, NULL, 206, "", 1, 100, 500, 100, "write", 0},
     J1,
     PF__NEXT_RESTART,
     0,
     0,
     NULL},
    {"connect error, retries left",
     {0, PF__FAULT_CONNECT, 0, 0, NULL, 0, "", 0, -1, -1, 0, "refused", 0},
     J1,
     PF__NEXT_RETRY,
     PF_ECURL,
     1,
     "refused"},
    {"connect error, retries used",
     {0, PF__FAULT_CONNECT, 0, 0, NULL, 0, "", 0, -1, -1, 0, "refused", 0},
     {4, 3, 0, 0, 0, 1500, 100},
     PF__NEXT_FAIL,
     PF_ECURL,
     1,
     "refused"},
    {"connect error while stopping",
     {0, PF__FAULT_CONNECT, 0, 0, NULL, 0, "", 0, -1, -1, 0, "refused", 0},
     {1, 3, 0, 0, 1, 1500, 100},
     PF__NEXT_FAIL,
     PF_ECURL,
     1,
     "refused"},
    {"stalled",
     {0, PF__FAULT_STALLED, 0, 0, NULL, 200, "", 0, -1, -1, 0, "slow", 0},
     {1, 0, 0, 0, 0, 1500, 100},
     PF__NEXT_FAIL,
     PF_ECURL,
     1,
     "stalled: nothing received for 2 s"},
    {"reset mid-body",
     {0, PF__FAULT_NETWORK, 0, 0, NULL, 200, "", 0, -1, -1, 0, "reset", 0},
     J1,
     PF__NEXT_RETRY,
     PF_ECURL,
     1,
     "reset"},
    {"redirect to ftp",
     {0, PF__FAULT_REDIRECT, 0, 0, NULL, 302, "", 0, -1, -1, 0, "x", 0},
     J1,
     PF__NEXT_FAIL,
     PF_ECURL,
     0,
     "redirect to an unsupported scheme refused"},
    {"huge headers",
     {0, PF__FAULT_HEADERS, 0, 0, NULL, 200, "", 0, -1, -1, 0, "oom", 0},
     J1,
     PF__NEXT_FAIL,
     PF_ECURL,
     0,
     "response headers over libcurl's size limit"},
    {"other libcurl failure",
     {0, PF__FAULT_OTHER, 0, 0, NULL, 0, "", 0, -1, -1, 0, "no such host", 0},
     J1,
     PF__NEXT_FAIL,
     PF_ECURL,
     0,
     "no such host"},
    {"503 retried",
     {0, PF__FAULT_NONE, 0, 0, NULL, 503, "Busy", 0, -1, -1, 0, "", 0},
     J1,
     PF__NEXT_RETRY,
     PF_ECURL,
     1,
     "HTTP 503 Busy"},
    {"404 final, reason from the table",
     {0, PF__FAULT_NONE, 0, 0, NULL, 404, "", 0, -1, -1, 0, "", 0},
     J1,
     PF__NEXT_FAIL,
     PF_ECURL,
     0,
     "HTTP 404 Not Found"},
    {"an unknown status",
     {0, PF__FAULT_NONE, 0, 0, NULL, 599, "", 0, -1, -1, 0, "", 0},
     J1,
     PF__NEXT_FAIL,
     PF_ECURL,
     0,
     "HTTP 599"},
    {"304 is no success here",
     {0, PF__FAULT_NONE, 0, 0, NULL, 304, "", 0, -1, -1, 0, "", 0},
     J1,
     PF__NEXT_FAIL,
     PF_ECURL,
     0,
     "HTTP 304 Not Modified"},
};

static void test_table(void)
{
    size_t i;

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        struct pf__verdict v;

        pf__outcome_judge(&r->a, &r->j, &v);
        if (v.next != r->next || v.err != r->err ||
            v.transient != r->transient ||
            strcmp(v.msg, r->msg != NULL ? r->msg : "") != 0) {
            fprintf(stderr, "row '%s': next %d err %d transient %d msg '%s'\n",
                    r->name, v.next, v.err, v.transient, v.msg);
            CHECK(0);
        }
    }
}

static void test_backoff(void)
{
    /* Doubling from the base, capped, jitter within [3/4, 5/4]. */
    CHECK_EQ(pf__backoff_ms(1, 1000, 60000, 0, 0), 750);
    CHECK_EQ(pf__backoff_ms(1, 1000, 60000, 0, 500), 1250);
    CHECK_EQ(pf__backoff_ms(1, 1000, 60000, 0, 501), 750);
    CHECK_EQ(pf__backoff_ms(3, 1000, 60000, 0, 0), 3000);
    CHECK_EQ(pf__backoff_ms(10, 1000, 60000, 0, 0), 45000);
    CHECK_EQ(pf__backoff_ms(10, 1000, 60000, 0, 30000), 75000);
    CHECK_EQ(pf__backoff_ms(2, 0, 60000, 0, 12345), 0);
    /* Retry-After wins, capped at an hour, without jitter. */
    CHECK_EQ(pf__backoff_ms(1, 1000, 60000, 10, 777), 10000);
    CHECK_EQ(pf__backoff_ms(1, 1000, 60000, 99999, 0), 3600000);
}

static void test_status(void)
{
    static const long transient[] = {408, 429, 500, 502, 503, 504};
    static const long final[] = {200, 301, 400, 401, 403, 404, 501, 505};
    size_t i;

    for (i = 0; i < sizeof(transient) / sizeof(transient[0]); i++)
        CHECK(pf__status_transient(transient[i]));
    for (i = 0; i < sizeof(final) / sizeof(final[0]); i++)
        CHECK(!pf__status_transient(final[i]));
    CHECK_STR(pf__status_text(404), "Not Found");
    CHECK_STR(pf__status_text(429), "Too Many Requests");
    CHECK_STR(pf__status_text(308), "Permanent Redirect");
    CHECK_STR(pf__status_text(299), "");
}

TEST_MAIN(TEST(test_table), TEST(test_backoff), TEST(test_status))
