/*
 * test_urllist.c -- the URL list reader: every fixture list of
 * fixtures/urls/ read line by line (which lines come back, which are
 * reported and why), lines far longer than PF__URL_MAX, read errors and
 * allocation failures.  URL normalisation itself is test_url.c's.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "urllist.h"
#include "util.h"

#define FIXTURE(name) PF_SOURCE_DIR "/fixtures/urls/" name

/* The list reader. */

#define MAX_SEEN 64

struct seen {
    long lineno;
    char text[256];
};

/* Everything one reading of a list produced. */
struct outcome {
    struct seen good[MAX_SEEN];
    size_t ngood;
    struct seen bad[MAX_SEEN];
    size_t nbad;
    const char *name; /* the name given to the reader */
    int wrong_name;   /* a callback got another name */
    int rc;           /* the last pf__urllist_next() result */
};

struct expect {
    long lineno;
    const char *text;
};

static void note(struct seen *v, size_t *n, long lineno, const char *text)
{
    if (*n < MAX_SEEN) {
        v[*n].lineno = lineno;
        snprintf(v[*n].text, sizeof(v[*n].text), "%s", text);
    }
    (*n)++;
}

static void on_bad(const char *name, long lineno, const char *why,
                   void *userdata)
{
    struct outcome *o = userdata;

    if (strcmp(name, o->name) != 0)
        o->wrong_name = 1;
    note(o->bad, &o->nbad, lineno, why);
}

/* Read the whole list fp (closed by the reader) into o. */
static void read_list(FILE *fp, const char *name, struct outcome *o)
{
    struct pf__urllist *r = NULL;
    const char *url;
    long lineno;

    memset(o, 0, sizeof(*o));
    o->name = name;
    o->rc = pf__urllist_open(&r, fp, name, 1, on_bad, o);
    if (o->rc < 0) {
        fclose(fp);
        return;
    }
    for (;;) {
        o->rc = pf__urllist_next(r, &url, &lineno);
        if (o->rc != 1)
            break;
        note(o->good, &o->ngood, lineno, url);
    }
    pf__urllist_close(r);
}

static void read_fixture(const char *path, struct outcome *o)
{
    FILE *fp = fopen(path, "r");

    memset(o, 0, sizeof(*o));
    o->rc = -1000;
    if (fp == NULL) {
        fprintf(stderr, "  cannot open %s: %s\n", path, strerror(errno));
        return;
    }
    read_list(fp, "list", o);
}

/* 1 if got[0..ngot) is want[0..nwant); else 0, telling the difference. */
static int same(const char *what, const struct seen *got, size_t ngot,
                const struct expect *want, size_t nwant)
{
    size_t i;
    int ok = ngot == nwant;

    for (i = 0; i < ngot && i < nwant && i < MAX_SEEN; i++) {
        if (got[i].lineno != want[i].lineno ||
            strcmp(got[i].text, want[i].text) != 0) {
            fprintf(stderr, "  %s %zu: got %ld \"%s\", want %ld \"%s\"\n", what,
                    i, got[i].lineno, got[i].text, want[i].lineno,
                    want[i].text);
            ok = 0;
        }
    }
    if (ngot != nwant)
        fprintf(stderr, "  %s: got %zu, want %zu\n", what, ngot, nwant);
    return ok;
}

#define SAME(what, got, ngot, want)                                            \
    CHECK(same(what, got, ngot, want, PF__ARRAY_LEN(want)))

static void test_list_basic(void)
{
    static struct outcome o;
    static const struct expect good[] = {
        {3, "http://example.com/"},
        {4, "https://example.com/a/c"},
        {7, "http://example.com/"}, /* duplicates are the engine's */
        {10, "http://example.com:8080/x?q=1"},
        {11, "http://[::1]:8080/x"},
        {15, "http://example.com/a%20b"},
    };
    static const struct expect bad[] = {
        {6, "unsupported scheme \"ftp\""},
        {8, "not a URL: no scheme"}, /* not a url */
        {9, "unsupported scheme \"mailto\""},
        {12, "not a URL: bad host name"},   /* a space in the host */
        {13, "not a URL: bad port number"}, /* 99999 */
        {14, "not a URL: no scheme"},       /* //example.com/no-scheme */
    };

    read_fixture(FIXTURE("basic.txt"), &o);
    CHECK_EQ(o.rc, 0);
    SAME("good", o.good, o.ngood, good);
    SAME("bad", o.bad, o.nbad, bad);
    CHECK(!o.wrong_name);
}

static void test_list_crlf(void)
{
    static struct outcome o;
    static const struct expect good[] = {
        {2, "http://a.example/"},
        {5, "http://b.example/x"},
    };

    read_fixture(FIXTURE("crlf.txt"), &o);
    CHECK_EQ(o.rc, 0);
    SAME("good", o.good, o.ngood, good);
    CHECK_EQ(o.nbad, 0);
}

static void test_list_bom(void)
{
    static struct outcome o;
    static const struct expect good[] = {
        {1, "http://bom.example/"},
        {2, "http://two.example/"},
    };
    static const struct expect bad[] = {
        {3, "not a URL: no scheme"}, /* a BOM only counts at the start */
    };

    read_fixture(FIXTURE("bom.txt"), &o);
    CHECK_EQ(o.rc, 0);
    SAME("good", o.good, o.ngood, good);
    SAME("bad", o.bad, o.nbad, bad);
}

static void test_list_nul(void)
{
    static struct outcome o;
    static const struct expect good[] = {
        {1, "http://a.example/"},
        {4, "http://c.example/"},
    };
    static const struct expect bad[] = {
        {2, "NUL byte in line"},
        {3, "NUL byte in line"},
        {6, "NUL byte in line"},
        {7, "NUL byte in line"},
    };

    read_fixture(FIXTURE("nul.txt"), &o);
    CHECK_EQ(o.rc, 0);
    SAME("good", o.good, o.ngood, good);
    SAME("bad", o.bad, o.nbad, bad);
}

static void test_list_junk(void)
{
    static struct outcome o;
    static const struct expect good[] = {
        {4, "http://ok.example/"},
    };
    static const struct expect bad[] = {
        {1, "not a URL: no scheme"},
        {2, "not a URL: no scheme"},
        {3, "not a URL: bad international host name"},
        {5, "not a URL: no scheme"},
        {6, "not a URL: bad character in path"},
        {7, "not a URL: no scheme"},
        {8, "not a URL: no scheme"},
        {9, "not a URL: no scheme"},
        {10, "NUL byte in line"},
    };

    read_fixture(FIXTURE("junk.txt"), &o);
    CHECK_EQ(o.rc, 0);
    SAME("good", o.good, o.ngood, good);
    SAME("bad", o.bad, o.nbad, bad);
}

static void test_list_no_final_newline(void)
{
    static struct outcome o;
    static const struct expect good[] = {
        {2, "http://one.example/"},
        {3, "http://two.example/"},
    };

    read_fixture(FIXTURE("noeol.txt"), &o);
    CHECK_EQ(o.rc, 0);
    SAME("good", o.good, o.ngood, good);
    CHECK_EQ(o.nbad, 0);
}

static void test_list_empty_and_blank(void)
{
    static struct outcome o;

    read_fixture(FIXTURE("empty.txt"), &o);
    CHECK_EQ(o.rc, 0);
    CHECK_EQ(o.ngood, 0);
    CHECK_EQ(o.nbad, 0);
    read_fixture(FIXTURE("blank.txt"), &o);
    CHECK_EQ(o.rc, 0);
    CHECK_EQ(o.ngood, 0);
    CHECK_EQ(o.nbad, 0);
}

/* A temporary file opened for writing; its path goes to path. */
static FILE *temp_file(char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    int fd;
    FILE *fp;

    snprintf(path, size, "%s/pfetch-urllist-XXXXXX",
             dir != NULL && dir[0] != '\0' ? dir : "/tmp");
    fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    fp = fdopen(fd, "w");
    if (fp == NULL)
        close(fd);
    return fp;
}

static void put_n(FILE *fp, int c, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        putc(c, fp);
}

static void test_list_long_lines(void)
{
    static struct outcome o;
    static const char head[] = "http://example.com/";
    static const struct expect bad[] = {
        {2, "line too long (over 65536 bytes)"},
        {6, "line too long (over 65536 bytes)"},
        {7, "line too long (over 65536 bytes)"},
    };
    char path[512];
    FILE *fp = temp_file(path, sizeof(path));

    CHECK(fp != NULL);
    fputs("http://one.example/\n", fp);
    fputs(head, fp); /* 2: a 1 MiB line */
    put_n(fp, 'a', 1024 * 1024);
    fputs("\nhttp://three.example/\n#", fp);
    put_n(fp, 'x', 100 * 1024); /* 4: a long comment is a comment */
    fputs("\n", fp);
    fputs(head, fp); /* 5: exactly PF__URL_MAX bytes */
    put_n(fp, 'b', PF__URL_MAX - (sizeof(head) - 1));
    fputs("\n", fp);
    fputs(head, fp); /* 6: one byte more */
    put_n(fp, 'c', PF__URL_MAX - (sizeof(head) - 1) + 1);
    fputs("\n", fp);
    put_n(fp, 'd', 200 * 1024); /* 7: long, and no final newline */
    CHECK_EQ(fclose(fp), 0);

    read_fixture(path, &o);
    unlink(path);
    CHECK_EQ(o.rc, 0);
    CHECK_EQ(o.ngood, 3);
    CHECK_EQ(o.good[0].lineno, 1);
    CHECK_STR(o.good[0].text, "http://one.example/");
    CHECK_EQ(o.good[1].lineno, 3);
    CHECK_STR(o.good[1].text, "http://three.example/");
    CHECK_EQ(o.good[2].lineno, 5);
    CHECK(strncmp(o.good[2].text, "http://example.com/bbb", 22) == 0);
    SAME("bad", o.bad, o.nbad, bad);
}

/* The URL of line 5 above, whole: the 256-byte record cuts it. */
static void test_list_max_line_whole(void)
{
    static const char head[] = "http://example.com/";
    char path[512];
    FILE *fp = temp_file(path, sizeof(path));
    struct pf__urllist *r = NULL;
    const char *url = NULL;
    long lineno = 0;
    size_t i, len;

    CHECK(fp != NULL);
    fputs(head, fp);
    put_n(fp, 'b', PF__URL_MAX - (sizeof(head) - 1));
    CHECK_EQ(fclose(fp), 0);
    fp = fopen(path, "r");
    unlink(path);
    CHECK(fp != NULL);
    CHECK_EQ(pf__urllist_open(&r, fp, path, 1, NULL, NULL), 0);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), 1);
    len = strlen(url);
    for (i = sizeof(head) - 1; i < len && url[i] == 'b'; i++)
        ;
    CHECK_EQ(lineno, 1);
    CHECK_EQ(len, PF__URL_MAX);
    CHECK_EQ(i, len);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), 0);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), 0);
    pf__urllist_close(r);
}

static void test_list_read_error(void)
{
    /* Reading a directory fails with EISDIR after a successful fopen. */
    FILE *fp = fopen(PF_SOURCE_DIR "/fixtures/urls", "r");
    struct pf__urllist *r = NULL;
    const char *url = NULL;
    long lineno = 0;

    CHECK(fp != NULL);
    CHECK_EQ(pf__urllist_open(&r, fp, "dir", 0, NULL, NULL), 0);
    errno = 0;
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), PF_EIO);
    CHECK_EQ(errno, EISDIR);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), PF_EIO);
    pf__urllist_close(r);
    fclose(fp); /* own_fp was 0: still ours */
}

static void put_str(int fd, const char *s)
{
    size_t n = strlen(s);

    CHECK_EQ(write(fd, s, n), (ssize_t)n);
}

/*
 * A list on a pipe never makes the reader wait: what has no whole line
 * yet is PF__URLLIST_AGAIN, a line written in pieces is one line, and a
 * too-long line is still told once, whatever its pieces.
 */
static void test_list_pipe(void)
{
    struct outcome o;
    struct pf__urllist *r = NULL;
    const char *url = NULL;
    long lineno = 0;
    char big[PF__URL_MAX / 2 + 1];
    int fds[2];
    FILE *fp;

    memset(&o, 0, sizeof(o));
    o.name = "pipe";
    CHECK_EQ(pipe(fds), 0);
    fp = fdopen(fds[0], "r");
    CHECK(fp != NULL);
    CHECK_EQ(pf__urllist_open(&r, fp, "pipe", 1, on_bad, &o), 0);
    CHECK_EQ(pf__urllist_fd(r), fds[0]);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), PF__URLLIST_AGAIN);
    put_str(fds[1], "http://a.example/1\nhttp://b.exa");
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), 1);
    CHECK_STR(url, "http://a.example/1");
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), PF__URLLIST_AGAIN);
    put_str(fds[1], "mple/2\n# a comm");
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), 1);
    CHECK_STR(url, "http://b.example/2");
    CHECK_EQ(lineno, 2);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), PF__URLLIST_AGAIN);
    /* Line 4: three pieces, over PF__URL_MAX in all. */
    put_str(fds[1], "ent\nhttp://c.example/");
    memset(big, 'c', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), PF__URLLIST_AGAIN);
    put_str(fds[1], big);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), PF__URLLIST_AGAIN);
    put_str(fds[1], big);
    put_str(fds[1], "\nhttp://d.example/4");
    CHECK_EQ(o.nbad, 0);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), PF__URLLIST_AGAIN);
    CHECK_EQ(o.nbad, 1);
    CHECK_EQ(o.bad[0].lineno, 4);
    CHECK(strstr(o.bad[0].text, "too long") != NULL);
    /* The writer closes: the last line needs no newline. */
    CHECK_EQ(close(fds[1]), 0);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), 1);
    CHECK_STR(url, "http://d.example/4");
    CHECK_EQ(lineno, 5);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), 0);
    CHECK_EQ(pf__urllist_next(r, &url, &lineno), 0);
    pf__urllist_close(r);
}

static void test_list_args(void)
{
    struct pf__urllist *r = NULL;

    CHECK_EQ(pf__urllist_open(&r, NULL, "x", 0, NULL, NULL), PF_EINVAL);
    CHECK(r == NULL);
    CHECK_EQ(pf__urllist_open(NULL, stdin, "x", 0, NULL, NULL), PF_EINVAL);
    pf__urllist_close(NULL);
}

/* A stream that is not a file: what fuzzing and pipes look like. */
static void test_list_memstream(void)
{
    static char text[] = "#c\r\n\r\nhttps://Mem.Example:443/x/../y\r\nftp:x";
    static struct outcome o;
    static const struct expect good[] = {
        {3, "https://mem.example/y"},
    };
    static const struct expect bad[] = {
        {4, "unsupported scheme \"ftp\""},
    };
    FILE *fp = fmemopen(text, sizeof(text) - 1, "r");

    CHECK(fp != NULL);
    read_list(fp, "mem", &o);
    CHECK_EQ(o.rc, 0);
    SAME("good", o.good, o.ngood, good);
    SAME("bad", o.bad, o.nbad, bad);
}

/*
 * Every allocation of ours failing in turn: each call fails cleanly with
 * PF_ENOMEM or succeeds, and nothing leaks (ASan, valgrind).
 */
static void test_oom(void)
{
    long n;

    for (n = 1; n < 1000; n++) {
        struct pf__urllist *r = NULL;
        const char *url;
        long lineno;
        FILE *fp = fopen(FIXTURE("basic.txt"), "r");
        int rc;

        CHECK(fp != NULL);
        pf__malloc_fail_at(n);
        rc = pf__urllist_open(&r, fp, "basic", 1, NULL, NULL);
        CHECK(rc == 0 || rc == PF_ENOMEM);
        if (rc == 0) {
            do {
                rc = pf__urllist_next(r, &url, &lineno);
            } while (rc == 1);
            CHECK(rc == 0 || rc == PF_ENOMEM);
            pf__urllist_close(r);
        } else {
            CHECK(r == NULL);
            fclose(fp);
        }
        if (pf__malloc_fail_at(0) < n)
            break; /* the nth allocation was never reached: all done */
    }
    printf("# oom: swept %ld allocation points\n", n);
    CHECK(n < 1000);
}

/* How fast a big list streams; printed, not judged. */
static void test_list_speed(void)
{
    static struct outcome o;
    const long lines = 200000;
    char path[512];
    FILE *fp = temp_file(path, sizeof(path));
    struct pf__urllist *r = NULL;
    const char *url;
    long lineno, i, count = 0;
    int64_t t0;
    int rc;

    CHECK(fp != NULL);
    for (i = 0; i < lines; i++)
        fprintf(fp, "http://host%ld.example/path/%ld?q=%ld\n", i % 1000, i, i);
    CHECK_EQ(fclose(fp), 0);
    fp = fopen(path, "r");
    unlink(path);
    CHECK(fp != NULL);
    memset(&o, 0, sizeof(o));
    o.name = "big";
    CHECK_EQ(pf__urllist_open(&r, fp, "big", 1, on_bad, &o), 0);
    t0 = pf__now_ms();
    for (;;) {
        rc = pf__urllist_next(r, &url, &lineno);
        if (rc != 1)
            break;
        count++;
    }
    printf("# reader: %ld lines in %lld ms\n", count,
           (long long)(pf__now_ms() - t0));
    pf__urllist_close(r);
    CHECK_EQ(rc, 0);
    CHECK_EQ(count, lines);
    CHECK_EQ(o.nbad, 0);
}

TEST_MAIN(TEST(test_list_basic), TEST(test_list_crlf), TEST(test_list_bom),
          TEST(test_list_nul), TEST(test_list_junk),
          TEST(test_list_no_final_newline), TEST(test_list_empty_and_blank),
          TEST(test_list_long_lines), TEST(test_list_max_line_whole),
          TEST(test_list_read_error), TEST(test_list_pipe),
          TEST(test_list_args), TEST(test_list_memstream), TEST(test_oom),
          TEST(test_list_speed))
