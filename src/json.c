/*
 * json.c -- log rows as JSON Lines (see json.h).  This module owns the
 * escaping of untrusted bytes into JSON strings and nothing else: who
 * writes the line, and when, is db.c's business.  It never emits
 * anything that is not valid JSON, whatever the input: fuzz_json checks
 * that with a validating parser of its own.
 */
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* U+FFFD REPLACEMENT CHARACTER, in UTF-8. */
static const char replacement[] = "\xef\xbf\xbd";

/*
 * The length of the well-formed UTF-8 sequence at s (n bytes left), or 0
 * when s[0] does not start one (RFC 3629, table 3-7 of Unicode: no
 * overlong forms, no surrogates, nothing past U+10FFFF).
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xbf;
    size_t len, i;

    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

int pf__json_string(struct pf__buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, run = 0;
    int rc;

    if (s == NULL)
        return pf__buf_append(b, "null", 4);
    rc = pf__buf_appendc(b, '"');
    while (rc == 0 && i < n) {
        unsigned char c = p[i];
        char esc[8];
        size_t len = 1;

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            i++;
            run++;
            continue;
        }
        if (c >= 0x80)
            len = utf8_seq(p + i, n - i);
        if (len > 1) { /* a well-formed sequence goes as it is */
            i += len;
            run += len;
            continue;
        }
        /* The plain run before this byte, then the byte escaped. */
        rc = pf__buf_append(b, s + i - run, run);
        run = 0;
        if (rc < 0)
            break;
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rc = pf__buf_append(b, esc, 2);
        } else if (c < 0x80) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            rc = pf__buf_append(b, esc, 6);
        } else {
            rc = pf__buf_append(b, replacement, 3);
        }
        i++;
    }
    if (rc == 0)
        rc = pf__buf_append(b, s + i - run, run);
    if (rc == 0)
        rc = pf__buf_appendc(b, '"');
    return rc;
}

/* ,"name": and the string s (or null). */
static int field_str(struct pf__buf *b, const char *name, const char *s)
{
    int rc = pf__buf_append(b, name, strlen(name));

    if (rc == 0)
        rc = pf__json_string(b, s, s != NULL ? strlen(s) : 0);
    return rc;
}

static int field_int(struct pf__buf *b, const char *name, int64_t v)
{
    char num[32];
    int n = snprintf(num, sizeof(num), "%" PRId64, v);
    int rc = pf__buf_append(b, name, strlen(name));

    if (rc == 0)
        rc = pf__buf_append(b, num, (size_t)n);
    return rc;
}

int pf__json_row(struct pf__buf *b, const struct pf_result *r,
                 const char *started_at)
{
    int rc = field_str(b, "{\"url\":", r->url);

    if (rc == 0)
        rc = field_str(b, ",\"final_url\":", r->final_url);
    if (rc == 0)
        rc = field_int(b, ",\"status\":", r->status);
    if (rc == 0)
        rc = field_int(b, ",\"bytes\":", r->bytes);
    if (rc == 0)
        rc = field_str(b, ",\"path\":", r->path);
    if (rc == 0)
        rc = field_str(b, ",\"content_type\":", r->content_type);
    if (rc == 0)
        rc = field_str(b, ",\"error\":", r->error);
    if (rc == 0)
        rc = field_int(b, ",\"attempts\":", r->attempts);
    if (rc == 0)
        rc = field_int(b, ",\"depth\":", r->depth);
    if (rc == 0)
        rc = field_str(b, ",\"parent_url\":", r->parent_url);
    if (rc == 0)
        rc = field_int(b, ",\"elapsed_ms\":", r->elapsed_ms);
    if (rc == 0)
        rc = field_str(b, ",\"started_at\":", started_at);
    if (rc == 0)
        rc = field_str(b, ",\"sha256\":", r->sha256);
    if (rc == 0)
        rc = field_str(b, ",\"etag\":", r->etag);
    if (rc == 0)
        rc = field_str(b, ",\"last_modified\":", r->last_modified);
    if (rc == 0)
        rc = field_str(b, ",\"http_version\":", r->http_version);
    if (rc == 0)
        rc = pf__buf_append(b, "}\n", 2);
    return rc;
}
