/*
 * fuzz_resp.c -- libFuzzer target for the response header parser
 * (src/resp.c): the input is split into lines at '\n' and fed as libcurl
 * would.  Checks that whatever the server sends, the fields stay sane:
 * a three-digit status or 0, a printable NUL-terminated reason, a
 * validator that is empty or "etag "/"date " and free of control
 * characters (it goes into an If-Range request header), a range total
 * of -1 or more.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct pf__resp *r)
{
    size_t i, n;

    assert(r->status == 0 || (r->status >= 0 && r->status <= 999));
    n = strnlen(r->reason, sizeof(r->reason));
    assert(n < sizeof(r->reason));
    for (i = 0; i < n; i++)
        assert(r->reason[i] >= 0x20 && r->reason[i] < 0x7f);
    n = strnlen(r->validator, sizeof(r->validator));
    assert(n < sizeof(r->validator));
    assert(n == 0 || strncmp(r->validator, "etag ", 5) == 0 ||
           strncmp(r->validator, "date ", 5) == 0);
    for (i = 0; i < n; i++)
        assert((unsigned char)r->validator[i] >= 0x20 &&
               r->validator[i] != 0x7f);
    assert(r->range_total >= -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *end = p + size;
    struct pf__resp r;

    pf__resp_init(&r);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl != NULL ? (size_t)(nl - p) + 1 : (size_t)(end - p);

        pf__resp_line(&r, p, n);
        check(&r);
        p += n;
    }
    pf__resp_free(&r);
    return 0;
}
