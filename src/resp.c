/*
 * resp.c -- response header lines, read one at a time as libcurl hands
 * them to the header callback.  This module owns only the parsing of
 * those bytes, which come from the server and may be anything: it never
 * reads past n, never trusts a NUL, and keeps what it stores bounded
 * (the Content-Disposition value is as long as curl lets a header be).
 * The crawler acts on the fields; the fuzz target fuzz_resp checks that
 * no line can break them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "resp.h"
#include "util.h"

void pf__resp_init(struct pf__resp *r)
{
    memset(r, 0, sizeof(*r));
    r->range_start = -1;
    r->range_total = -1;
}

void pf__resp_free(struct pf__resp *r)
{
    pf__free(r->disposition);
    pf__free(r->etag);
    pf__free(r->last_modified);
    r->disposition = NULL;
    r->etag = NULL;
    r->last_modified = NULL;
}

/* Keep the value v (n bytes) in *dst, replacing what was there. */
static void keep_raw(char **dst, const char *v, size_t n)
{
    pf__free(*dst);
    *dst = pf__strndup(v, n);
}

/* The value of a header line past its name: white space and CRLF off. */
static const char *value_of(const char *p, size_t n, size_t skip, size_t *vn)
{
    const char *v = p + skip;

    n -= skip;
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' ' ||
                     v[n - 1] == '\t'))
        n--;
    *vn = n;
    return v;
}

/*
 * A validator for If-Range: a strong ETag, or else Last-Modified (weak
 * ETags, W/"...", cannot be used with If-Range).  One that would not fit
 * is not kept: a cut one would never match.
 */
static void keep_validator(struct pf__resp *r, const char *kind, const char *v,
                           size_t n)
{
    size_t i;

    if (n == 0 || (n >= 2 && v[0] == 'W' && v[1] == '/') ||
        n + 6 > sizeof(r->validator))
        return;
    for (i = 0; i < n; i++)
        if (v[i] < 0x20 || v[i] == 0x7f)
            return; /* it goes into a request header: nothing odd */
    snprintf(r->validator, sizeof(r->validator), "%s %.*s", kind, (int)n, v);
}

/*
 * A decimal number at *p, bounded by end; *p moves past it.  -1 for no
 * digit or one too large for int64_t.
 */
static int64_t number(const char **p, const char *end)
{
    const char *q = *p;
    int64_t v = 0;

    if (q >= end || !isdigit((unsigned char)*q))
        return -1;
    for (; q < end && isdigit((unsigned char)*q); q++) {
        if (v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*q - '0');
    }
    *p = q;
    return v;
}

/* "bytes A-B/N", "bytes A-B/ *" (without the space), or "bytes * /N". */
static void content_range(struct pf__resp *r, const char *v, size_t n)
{
    const char *end = v + n;
    int64_t start = -1, last = -1, total;

    if (n < 6 || strncasecmp(v, "bytes", 5) != 0 ||
        (v[5] != ' ' && v[5] != '\t'))
        return;
    v += 6;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    if (v < end && *v == '*') {
        v++;
    } else {
        start = number(&v, end);
        if (start < 0 || v >= end || *v++ != '-')
            return;
        last = number(&v, end);
        if (last < start)
            return;
    }
    if (v >= end || *v++ != '/')
        return;
    if (v < end && *v == '*' && v + 1 == end) {
        total = -1;
    } else {
        total = number(&v, end);
        if (total < 0 || v != end || (start >= 0 && last >= total))
            return;
    }
    if (start < 0 && total < 0)
        return; /* "* / *" says nothing */
    r->range_start = start;
    r->range_total = total;
}

static void status_line(struct pf__resp *r, const char *p, size_t n)
{
    const char *end = p + n;
    const char *sp = memchr(p, ' ', n);
    const char *q;
    size_t k = 0;
    long code = 0;

    if (sp == NULL)
        return;
    /* Three digits, as RFC 9112 has it; strtol could run past n. */
    for (q = sp + 1; q < end && q < sp + 4 && isdigit((unsigned char)*q); q++)
        code = code * 10 + (*q - '0');
    if (q != sp + 4)
        return;
    r->status = code;
    if (q < end && *q == ' ') {
        q++;
        while (q + k < end && q[k] != '\r' && q[k] != '\n' &&
               k + 1 < sizeof(r->reason)) {
            r->reason[k] = isprint((unsigned char)q[k]) ? q[k] : '?';
            k++;
        }
    }
    r->reason[k] = '\0';
}

int pf__resp_line(struct pf__resp *r, const char *p, size_t n)
{
    const char *v;
    size_t vn;

    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        pf__resp_free(r);
        pf__resp_init(r);
        status_line(r, p, n);
        return 1;
    }
    if (n > 20 && strncasecmp(p, "content-disposition:", 20) == 0) {
        v = value_of(p, n, 20, &vn);
        pf__free(r->disposition);
        r->disposition = pf__strndup(v, vn);
    } else if (n > 17 && strncasecmp(p, "content-encoding:", 17) == 0) {
        v = value_of(p, n, 17, &vn);
        /* "identity" is no encoding (RFC 9110 lists it for Accept only). */
        if (!(vn == 8 && strncasecmp(v, "identity", 8) == 0))
            r->encoded = 1;
    } else if (n > 5 && strncasecmp(p, "etag:", 5) == 0) {
        v = value_of(p, n, 5, &vn);
        keep_raw(&r->etag, v, vn);
        keep_validator(r, "etag", v, vn);
    } else if (n > 14 && strncasecmp(p, "last-modified:", 14) == 0) {
        v = value_of(p, n, 14, &vn);
        keep_raw(&r->last_modified, v, vn);
        if (strncmp(r->validator, "etag", 4) != 0) /* a strong ETag wins */
            keep_validator(r, "date", v, vn);
    } else if (n > 14 && strncasecmp(p, "content-range:", 14) == 0) {
        v = value_of(p, n, 14, &vn);
        content_range(r, v, vn);
    }
    return 0;
}
