/*
 * test.h -- the unit test harness: a static table of test functions, check
 * macros that print file:line and fail the current test, "ok N name" /
 * "FAIL N name" lines and a non-zero exit status when anything failed.
 *
 *   static void test_foo(void) { CHECK(1 + 1 == 2); }
 *   TEST_MAIN(TEST(test_foo), TEST(test_bar))
 *
 * "./test_x NAME" runs only the named test.
 */
#ifndef PF_TEST_H
#define PF_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failed_;

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond)) {                                                         \
            fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);    \
            test_failed_ = 1;                                                  \
            return;                                                            \
        }                                                                      \
    } while (0)

#define CHECK_EQ(a, b) CHECK((a) == (b))
#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        const char *a_ = (a), *b_ = (b);                                       \
        if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                 \
            fprintf(stderr, "FAIL %s:%d: \"%s\" != \"%s\"\n", __FILE__,        \
                    __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)");         \
            test_failed_ = 1;                                                  \
            return;                                                            \
        }                                                                      \
    } while (0)

struct test_case_ {
    const char *name;
    void (*fn)(void);
};

#define TEST(fn)                                                               \
    {                                                                          \
#fn, fn                                                                \
    }

#define TEST_MAIN(...)                                                         \
    int main(int argc, char **argv)                                            \
    {                                                                          \
        static const struct test_case_ cases[] = {__VA_ARGS__};                \
        size_t i, n = sizeof(cases) / sizeof(cases[0]);                        \
        int failed = 0, ran = 0;                                               \
        for (i = 0; i < n; i++) {                                              \
            if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)               \
                continue;                                                      \
            test_failed_ = 0;                                                  \
            cases[i].fn();                                                     \
            ran++;                                                             \
            printf("%s %zu %s\n", test_failed_ ? "FAIL" : "ok", i + 1,         \
                   cases[i].name);                                             \
            failed += test_failed_;                                            \
        }                                                                      \
        printf("%d passed, %d failed\n", ran - failed, failed);                \
        return failed || ran == 0 ? 1 : 0;                                     \
    }

#endif /* PF_TEST_H */
