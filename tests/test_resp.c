/*
 * test_resp.c -- response header lines: status and reason, the validators
 * If-Range can use, Content-Range, Content-Encoding, Content-Disposition, and
 * the reset at each new response of a redirect chain.
 */
#include <string.h>

#include "resp.h"
#include "test.h"

static void feed(struct pf__resp *r, const char *lines)
{
    const char *p = lines;

    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t n = nl != NULL ? (size_t)(nl - p) + 1 : strlen(p);

        pf__resp_line(r, p, n);
        p += n;
    }
}

static void test_status_and_reason(void)
{
    struct pf__resp r;

    pf__resp_init(&r);
    CHECK_EQ(pf__resp_line(&r, "HTTP/1.1 404 Not Found\r\n", 24), 1);
    CHECK_EQ(r.status, 404);
    CHECK_STR(r.reason, "Not Found");
    feed(&r, "HTTP/2 200\r\n");
    CHECK_EQ(r.status, 200);
    CHECK_STR(r.reason, "");
    feed(&r, "HTTP/1.1 500 Bad\x01thing\r\n");
    CHECK_STR(r.reason, "Bad?thing");
    feed(&r, "HTTP/1.1 20x Odd\r\n");
    CHECK_EQ(r.status, 0);
    pf__resp_free(&r);
}

static void test_validators(void)
{
    struct pf__resp r;

    pf__resp_init(&r);
    feed(&r, "HTTP/1.1 200 OK\r\nLast-Modified: Tue, 15 Nov 1994 08:12:31 "
             "GMT\r\nETag: \"v1\"\r\n");
    CHECK_STR(r.validator, "etag \"v1\"");
    feed(&r, "HTTP/1.1 200 OK\r\nETag: W/\"weak\"\r\nlast-modified: Tue, 15 "
             "Nov 1994 08:12:31 GMT\r\n");
    CHECK_STR(r.validator, "date Tue, 15 Nov 1994 08:12:31 GMT");
    feed(&r, "HTTP/1.1 200 OK\r\nETag: \"a\x01b\"\r\n");
    CHECK_STR(r.validator, "");
    pf__resp_free(&r);
}

static void test_redirect_resets(void)
{
    struct pf__resp r;

    pf__resp_init(&r);
    feed(&r, "HTTP/1.1 302 Found\r\nETag: \"x\"\r\nContent-Encoding: gzip\r\n"
             "Content-Disposition: attachment; filename=\"a\"\r\n\r\n"
             "HTTP/1.1 416 Range Not Satisfiable\r\n"
             "Content-Range: bytes */12345\r\n\r\n");
    CHECK_EQ(r.status, 416);
    CHECK_EQ(r.range_total, 12345);
    CHECK_STR(r.validator, "");
    CHECK_EQ(r.encoded, 0);
    CHECK(r.disposition == NULL);
    feed(&r, "HTTP/1.1 200 OK\r\nContent-Disposition:  inline; "
             "filename=b.txt \r\nContent-Range: bytes 0-9/10\r\n");
    CHECK_STR(r.disposition, "inline; filename=b.txt");
    CHECK_EQ(r.range_start, 0);
    CHECK_EQ(r.range_total, 10);
    pf__resp_free(&r);
}

/* Where a 206's piece starts, or nothing when the header is malformed. */
static void test_content_range(void)
{
    static const struct {
        const char *line;
        int64_t start, total;
    } cases[] = {
        {"Content-Range: bytes 100-199/1000\r\n", 100, 1000},
        {"content-range:bytes 7-7/8", 7, 8},
        {"Content-Range: bytes 100-199/*\r\n", 100, -1},
        {"Content-Range: bytes */500\r\n", -1, 500},
        {"Content-Range: BYTES  0-0/1 \r\n", 0, 1},
        {"Content-Range: bytes */*\r\n", -1, -1},
        {"Content-Range: bytes 5-3/10\r\n", -1, -1},
        {"Content-Range: bytes 0-10/10\r\n", -1, -1},
        {"Content-Range: bytes 0-9/10x\r\n", -1, -1},
        {"Content-Range: bytes -1-9/10\r\n", -1, -1},
        {"Content-Range: items 0-1/2\r\n", -1, -1},
        {"Content-Range: bytes 99999999999999999999-1/2\r\n", -1, -1},
        {"Content-Range: bytes 0-\r\n", -1, -1},
        {"Content-Range: bytes\r\n", -1, -1},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct pf__resp r;

        pf__resp_init(&r);
        feed(&r, "HTTP/1.1 206 Partial Content\r\n");
        feed(&r, cases[i].line);
        CHECK_EQ(r.range_start, cases[i].start);
        CHECK_EQ(r.range_total, cases[i].total);
        pf__resp_free(&r);
    }
}

static void test_identity_is_no_encoding(void)
{
    struct pf__resp r;

    pf__resp_init(&r);
    feed(&r, "HTTP/1.1 200 OK\r\nContent-Encoding: identity\r\n");
    CHECK_EQ(r.encoded, 0);
    feed(&r, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n");
    CHECK_EQ(r.encoded, 1);
    pf__resp_free(&r);
}

TEST_MAIN(TEST(test_status_and_reason), TEST(test_validators),
          TEST(test_redirect_resets), TEST(test_content_range),
          TEST(test_identity_is_no_encoding))
