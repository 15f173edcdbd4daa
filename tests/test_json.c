/*
 * test_json.c -- log rows as JSON Lines: escaping of quotes, backslashes
 * and control bytes, UTF-8 kept when well-formed and replaced byte by
 * byte with U+FFFD when not, null for NULL, and a whole row's shape.
 */
#include <string.h>

#include "json.h"
#include "test.h"

/* s (n bytes) as a JSON string, into a static buffer. */
static const char *str(const char *s, size_t n)
{
    static char out[512];
    struct pf__buf b = {NULL, 0, 0};

    out[0] = '\0';
    if (pf__json_string(&b, s, n) == 0 && b.len < sizeof(out))
        memcpy(out, b.data, b.len + 1);
    pf__buf_free(&b);
    return out;
}

#define S(lit) str(lit, sizeof(lit) - 1)

static void test_plain(void)
{
    CHECK_STR(S(""), "\"\"");
    CHECK_STR(S("http://h/a?b=c"), "\"http://h/a?b=c\"");
    CHECK_STR(str(NULL, 0), "null");
}

static void test_escapes(void)
{
    CHECK_STR(S("a\"b\\c"), "\"a\\\"b\\\\c\"");
    CHECK_STR(S("\x01\n\t\x1f\x7f"), "\"\\u0001\\u000a\\u0009\\u001f\\u007f\"");
    CHECK_STR(S("a\0b"), "\"a\\u0000b\"");
}

static void test_utf8(void)
{
    /* Well-formed: é, €, U+1F600, U+10FFFF. */
    CHECK_STR(S("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"),
              "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\"");
    /* A stray byte, a lone continuation, a truncated sequence. */
    CHECK_STR(S("a\xff"
                "b"),
              "\"a\xef\xbf\xbd"
              "b\"");
    CHECK_STR(S("\x80"), "\"\xef\xbf\xbd\"");
    CHECK_STR(S("\xe2\x82"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    /* Overlong '/', a surrogate, past U+10FFFF. */
    CHECK_STR(S("\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\"");
    CHECK_STR(S("\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
    CHECK_STR(S("\xf4\x90\x80\x80"),
              "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"");
}

static void test_row(void)
{
    struct pf__buf b = {NULL, 0, 0};
    struct pf_result r;

    memset(&r, 0, sizeof(r));
    r.url = "http://h/";
    r.final_url = "http://h/";
    r.status = 304;
    r.path = "h/index.html";
    r.attempts = 1;
    r.elapsed_ms = 12;
    r.etag = "\"x\x01\xff\"";
    r.http_version = "1.1";
    CHECK(pf__json_row(&b, &r, "2026-01-02T03:04:05.678Z") == 0);
    CHECK_STR(b.data,
              "{\"url\":\"http://h/\",\"final_url\":\"http://h/\","
              "\"status\":304,\"bytes\":0,\"path\":\"h/index.html\","
              "\"content_type\":null,\"error\":null,\"attempts\":1,"
              "\"depth\":0,\"parent_url\":null,\"elapsed_ms\":12,"
              "\"started_at\":\"2026-01-02T03:04:05.678Z\",\"sha256\":null,"
              "\"etag\":\"\\\"x\\u0001\xef\xbf\xbd\\\"\","
              "\"last_modified\":null,\"http_version\":\"1.1\"}\n");
    pf__buf_free(&b);
}

TEST_MAIN(TEST(test_plain), TEST(test_escapes), TEST(test_utf8), TEST(test_row))
