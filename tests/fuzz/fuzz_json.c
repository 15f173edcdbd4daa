/*
 * fuzz_json.c -- libFuzzer target for the JSON Lines writer (src/json.c).
 * Whatever bytes a URL or a header holds, the output must be valid JSON
 * (RFC 8259) in well-formed UTF-8: checked here by a small validating
 * parser of this file's own.  A string is also decoded back: when the
 * input was well-formed UTF-8 it must come back byte for byte.  A row
 * with every string field set to the input must be one JSON object on
 * one line.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct in {
    const unsigned char *p, *end;
    unsigned char *out; /* the decoded string, when not NULL */
    size_t nout;
};

/* A well-formed UTF-8 sequence at in->p: its length, or 0. */
static size_t utf8_ok(const struct in *in)
{
    const unsigned char *s = in->p;
    size_t n = (size_t)(in->end - s), len, i;
    unsigned char lo, hi;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        len = 2;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        len = 3;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    lo = s[0] == 0xe0 ? 0xa0 : s[0] == 0xf0 ? 0x90 : 0x80;
    hi = s[0] == 0xed ? 0x9f : s[0] == 0xf4 ? 0x8f : 0xbf;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return len;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A JSON string at in->p; 0 or -1.  Decodes \u00XX only (all we emit). */
static int string(struct in *in)
{
    if (in->p >= in->end || *in->p++ != '"')
        return -1;
    while (in->p < in->end && *in->p != '"') {
        unsigned char c = *in->p;
        size_t len;

        if (c < 0x20)
            return -1;
        if (c == '\\') {
            int v = 0, i;

            if (in->end - in->p < 2)
                return -1;
            c = in->p[1];
            in->p += 2;
            if (c == 'u') {
                if (in->end - in->p < 4)
                    return -1;
                for (i = 0; i < 4; i++) {
                    int h = hexval(in->p[i]);

                    if (h < 0)
                        return -1;
                    v = v * 16 + h;
                }
                in->p += 4;
                c = (unsigned char)v;
                if (v > 0x7f)
                    return -1; /* never emitted */
            } else if (c != '"' && c != '\\' && c != '/') {
                return -1; /* \b \f \n \r \t are valid but never emitted */
            }
            if (in->out != NULL)
                in->out[in->nout++] = c;
            continue;
        }
        len = utf8_ok(in);
        if (len == 0)
            return -1;
        if (in->out != NULL) {
            memcpy(in->out + in->nout, in->p, len);
            in->nout += len;
        }
        in->p += len;
    }
    if (in->p >= in->end)
        return -1;
    in->p++;
    return 0;
}

/* A value of a row: a string, null, or an integer. */
static int value(struct in *in)
{
    if (in->p < in->end && *in->p == '"')
        return string(in);
    if (in->end - in->p >= 4 && memcmp(in->p, "null", 4) == 0) {
        in->p += 4;
        return 0;
    }
    if (in->p < in->end && *in->p == '-')
        in->p++;
    if (in->p >= in->end || *in->p < '0' || *in->p > '9')
        return -1;
    if (*in->p == '0')
        in->p++;
    else
        while (in->p < in->end && *in->p >= '0' && *in->p <= '9')
            in->p++;
    return 0;
}

/* {"name":value,...}\n and nothing else. */
static int object_line(struct in *in)
{
    if (in->p >= in->end || *in->p++ != '{')
        return -1;
    for (;;) {
        if (string(in) < 0 || in->p >= in->end || *in->p++ != ':' ||
            value(in) < 0 || in->p >= in->end)
            return -1;
        if (*in->p == '}')
            break;
        if (*in->p++ != ',')
            return -1;
    }
    in->p++;
    return in->end - in->p == 1 && *in->p == '\n' ? 0 : -1;
}

/* Is the whole input well-formed UTF-8? */
static int all_utf8(const uint8_t *data, size_t size)
{
    struct in in = {data, data + size, NULL, 0};

    while (in.p < in.end) {
        size_t len = utf8_ok(&in);

        if (len == 0)
            return 0;
        in.p += len;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pf__buf b = {NULL, 0, 0};
    struct pf_result r;
    struct in in;
    char *s;

    if (pf__json_string(&b, (const char *)data, size) < 0)
        return 0;
    in.p = (const unsigned char *)b.data;
    in.end = in.p + b.len;
    in.out = malloc(b.len + 1);
    in.nout = 0;
    assert(in.out != NULL);
    assert(string(&in) == 0 && in.p == in.end);
    if (all_utf8(data, size))
        assert(in.nout == size && memcmp(in.out, data, size) == 0);
    free(in.out);

    /* A whole row whose strings are the input up to its first NUL. */
    s = malloc(size + 1);
    assert(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    memset(&r, 0, sizeof(r));
    r.url = r.final_url = r.path = r.content_type = r.error = s;
    r.parent_url = r.sha256 = r.etag = r.last_modified = s;
    r.http_version = size % 2 ? s : NULL;
    r.status = (long)size - 3;
    pf__buf_reset(&b);
    if (pf__json_row(&b, &r, s) == 0) {
        in.p = (const unsigned char *)b.data;
        in.end = in.p + b.len;
        in.out = NULL;
        assert(object_line(&in) == 0);
    }
    free(s);
    pf__buf_free(&b);
    return 0;
}
