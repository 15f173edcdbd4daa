/*
 * test_args.c -- the command line scanner of pfetch(1): exact long names
 * with suggestions for abbreviations, short clusters, attached and
 * separate values, operands anywhere, "--", errors that name the
 * option at fault, and the command line the log keeps, secrets masked.
 */
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "test.h"

enum { O_OUT = 'o', O_QUIET = 'q', O_JOBS = 'j', O_UA = 'U', O_RETRIES = 300 };

static const struct args_option opts[] = {
    {"output-dir", 'o', 1, O_OUT}, {"quiet", 'q', 0, O_QUIET},
    {"jobs", 'j', 1, O_JOBS},      {"user-agent", 'U', 1, O_UA},
    {"retries", 0, 1, O_RETRIES},  {"retry-backoff", 0, 1, 301},
    {"user", 0, 1, 302},
};

/* Scans argv (NULL-terminated, argv[0] included) into "id=value" words. */
static void scan(char **argv, char *out, size_t n, char *msg, size_t mlen)
{
    struct args a;
    const char *v;
    int argc = 0, id;
    size_t off = 0;

    while (argv[argc] != NULL)
        argc++;
    out[0] = msg[0] = '\0';
    args_init(&a, opts, sizeof(opts) / sizeof(opts[0]) - 1, argc, argv);
    while ((id = args_next(&a, &v, msg, mlen)) != ARGS_END) {
        if (id == ARGS_ERROR)
            return;
        off += (size_t)snprintf(out + off, n - off, "%s%d=%s",
                                off > 0 ? " " : "", id, v != NULL ? v : "");
    }
}

#define SCAN(...)                                                              \
    do {                                                                       \
        char *argv_[] = {"pfetch", __VA_ARGS__, NULL};                         \
        scan(argv_, out, sizeof(out), msg, sizeof(msg));                       \
    } while (0)

static void test_long_exact(void)
{
    char out[256], msg[256];

    SCAN("--jobs", "4", "--output-dir=d", "--quiet", "u");
    CHECK_STR(out, "106=4 111=d 113= -1=u");
    CHECK_STR(msg, "");
    SCAN("--user", "alice");
    CHECK_STR(msg, "unknown option '--user'; did you mean --user-agent?");
    SCAN("--retr=3");
    CHECK_STR(msg, "unknown option '--retr'; did you mean --retries or "
                   "--retry-backoff?");
    SCAN("--nope");
    CHECK_STR(msg, "unknown option '--nope'");
    SCAN("--quiet=1");
    CHECK_STR(msg, "option '--quiet' takes no value");
    SCAN("u", "--jobs");
    CHECK_STR(msg, "option '--jobs' needs a value");
}

static void test_short(void)
{
    char out[256], msg[256];

    SCAN("-qj4", "-o", "d", "-j", "-5", "-Ux y");
    CHECK_STR(out, "113= 106=4 111=d 106=-5 85=x y");
    SCAN("-nc", "u");
    CHECK_STR(msg, "unknown option '-n' in '-nc'");
    SCAN("-n");
    CHECK_STR(msg, "unknown option '-n'");
    SCAN("-qj");
    CHECK_STR(msg, "option '-j' needs a value");
}

static void test_operands(void)
{
    char out[256], msg[256];

    SCAN("a", "-", "-q", "b", "--", "-q", "--jobs");
    CHECK_STR(out, "-1=a -1=- 113= -1=b -1=-q -1=--jobs");
    CHECK_STR(msg, "");
}

/* A new option whose name was an abbreviation of another one's. */
static void test_new_option_slots_in(void)
{
    struct args a;
    char *argv[] = {"pfetch", "--user", "alice", "--user-agent", "x", NULL};
    char msg[128];
    const char *v;

    args_init(&a, opts, sizeof(opts) / sizeof(opts[0]), 5, argv);
    CHECK_EQ(args_next(&a, &v, msg, sizeof(msg)), 302);
    CHECK_STR(v, "alice");
    CHECK_EQ(args_next(&a, &v, msg, sizeof(msg)), O_UA);
    CHECK_STR(v, "x");
    CHECK_EQ(args_next(&a, &v, msg, sizeof(msg)), ARGS_END);
}

/* The masked line of a NULL-terminated argv, against want. */
static int joined_is(char **argv, const char *want)
{
    static const struct args_option table[] = {
        {"output-dir", 'o', 1, 'o'}, {"quiet", 'q', 0, 'q'},
        {"header", 'H', 1, 'H'},     {"recursive", 'r', 0, 'r'},
        {"jobs", 'j', 1, 'j'},       {"proxy", 0, 1, 300},
    };
    int argc = 0, ok;
    char *s;

    while (argv[argc] != NULL)
        argc++;
    s = args_join_masked(table, sizeof(table) / sizeof(table[0]), argc, argv);
    ok = s != NULL && strcmp(s, want) == 0;
    if (!ok)
        fprintf(stderr, "got  %s\nwant %s\n", s != NULL ? s : "(null)", want);
    free(s);
    return ok;
}

static void test_join_masked(void)
{
    char *plain[] = {"pfetch", "-o", "my dir", "", "http://h/a b", NULL};
    char *headers[] = {"pfetch",
                       "-H",
                       "Authorization: Bearer x",
                       "-H",
                       "cookie: a=b",
                       "--header=PROXY-AUTHORIZATION:Basic eA==",
                       "-qHCookie:c=d",
                       "-H",
                       "Accept: text/html",
                       "-H",
                       "Cookie:",
                       NULL};
    char *users[] = {"pfetch", "--user",          "alice:secret", "-u",
                     "bob:pw", "--user=carol:pw", "-udave:pw",    "--user",
                     "erin",   "--proxy-user",    "frank:pw",     NULL};
    char *urls[] = {"pfetch",
                    "http://alice:secret@h/f",
                    "--proxy=http://p:pw@proxy:3128",
                    "--proxy",
                    "socks5h://p:pw@proxy",
                    "-o",
                    "http://x:y@h",
                    NULL};
    /* "-o" takes "-H" as its value; after "--", all are operands. */
    char *values[] = {"pfetch", "-o", "-H",        "Cookie: x",
                      "--",     "-H", "Cookie: y", NULL};

    CHECK(joined_is(plain, "pfetch -o 'my dir' '' 'http://h/a b'"));
    CHECK(joined_is(headers, "pfetch -H 'Authorization: ***' -H 'cookie: ***' "
                             "'--header=PROXY-AUTHORIZATION: ***' "
                             "'-qHCookie: ***' -H 'Accept: text/html' "
                             "-H Cookie:"));
    CHECK(joined_is(users, "pfetch --user alice:*** -u bob:*** "
                           "--user=carol:*** -udave:*** --user erin "
                           "--proxy-user frank:***"));
    CHECK(joined_is(urls, "pfetch http://alice:***@h/f "
                          "--proxy=http://p:***@proxy:3128 --proxy "
                          "socks5h://p:***@proxy -o http://x:***@h"));
    CHECK(joined_is(values, "pfetch -o -H 'Cookie: x' -- -H 'Cookie: y'"));
}

TEST_MAIN(TEST(test_long_exact), TEST(test_short), TEST(test_operands),
          TEST(test_new_option_slots_in), TEST(test_join_masked))
