/*
 * test_util.c -- the fingerprint set and map that hold the seen URLs and
 * the claimed paths of runs of millions of URLs: every member found with
 * its tag, no non-member found, and the map's deletion (backward shift)
 * checked against a plain array through inserts and deletes that wrap
 * around the table's end.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util.h"

static uint64_t fp_of_number(const char *fmt, unsigned long i)
{
    char s[64];
    int n = snprintf(s, sizeof(s), fmt, i);

    return pf__fingerprint(s, (size_t)n);
}

static void test_fingerprint(void)
{
    const char url[] = "http://example.org/a/b?c=d";
    uint64_t a = pf__fingerprint(url, sizeof(url) - 1);

    CHECK(a != 0);
    CHECK_EQ(a & PF__FP_TAG_MASK, 0);
    CHECK_EQ(pf__fingerprint(url, sizeof(url) - 1), a);
    /* Length, last byte, a byte in each 8-byte word all count. */
    CHECK(pf__fingerprint(url, sizeof(url) - 2) != a);
    CHECK(pf__fingerprint("", 0) != 0);
    CHECK(pf__fingerprint("a", 1) != pf__fingerprint("b", 1));
    CHECK(pf__fingerprint("abcdefgh1", 9) != pf__fingerprint("abcdefgi1", 9));
    CHECK(pf__fingerprint("a\0", 2) != pf__fingerprint("a", 1));
}

static void test_fpset(void)
{
    struct pf__fpset s;
    const unsigned long n = 200000;
    unsigned long i;

    memset(&s, 0, sizeof(s));
    CHECK_EQ(pf__fpset_get(&s, fp_of_number("u%lu", 1)), -1);
    for (i = 0; i < n; i++)
        CHECK_EQ(pf__fpset_put(&s, fp_of_number("http://h/%lu", i),
                               (unsigned)(i % 8)),
                 1);
    CHECK_EQ(s.len, n);
    CHECK(s.len * 4 <= s.cap * 3);
    for (i = 0; i < n; i++) {
        uint64_t fp = fp_of_number("http://h/%lu", i);

        CHECK_EQ(pf__fpset_get(&s, fp), (int)(i % 8));
        /* Present: not added again, its tag kept. */
        CHECK_EQ(pf__fpset_put(&s, fp, 7), 0);
        CHECK_EQ(pf__fpset_get(&s, fp), (int)(i % 8));
        CHECK_EQ(pf__fpset_get(&s, fp_of_number("http://g/%lu", i)), -1);
    }
    CHECK_EQ(s.len, n);
    pf__fpset_free(&s);
    CHECK_EQ(s.len, 0);
}

/* xorshift: a fixed sequence, so that a failure can be replayed. */
static uint64_t next_rand(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_fpmap(void)
{
    enum { KEYS = 3000, OPS = 200000 };
    static uint64_t fps[KEYS];
    static int in[KEYS];
    struct pf__fpmap m;
    uint64_t x = 88172645463325252ULL;
    size_t i, live = 0;

    memset(&m, 0, sizeof(m));
    CHECK(pf__fpmap_get(&m, fp_of_number("k%lu", 0)) == NULL);
    pf__fpmap_del(&m, fp_of_number("k%lu", 0));
    /*
     * Keys whose home slots crowd into a small table, so that probe runs
     * are long and wrap around its end.
     */
    for (i = 0; i < KEYS; i++)
        fps[i] = fp_of_number("k%lu", i);
    for (i = 0; i < OPS; i++) {
        size_t k = (size_t)(next_rand(&x) % KEYS);

        if (next_rand(&x) % 3 != 0) {
            CHECK_EQ(pf__fpmap_set(&m, fps[k], &in[k]), 0);
            live += !in[k];
            in[k] = 1;
        } else {
            pf__fpmap_del(&m, fps[k]);
            live -= in[k];
            in[k] = 0;
        }
        if (i % 1000 == 0) {
            size_t j;

            for (j = 0; j < KEYS; j++)
                CHECK(pf__fpmap_get(&m, fps[j]) == (in[j] ? &in[j] : NULL));
            CHECK_EQ(m.len, live);
        }
    }
    for (i = 0; i < KEYS; i++)
        pf__fpmap_del(&m, fps[i]);
    CHECK_EQ(m.len, 0);
    for (i = 0; i < KEYS; i++)
        CHECK(pf__fpmap_get(&m, fps[i]) == NULL);
    pf__fpmap_free(&m);
}

TEST_MAIN(TEST(test_fingerprint), TEST(test_fpset), TEST(test_fpmap))
