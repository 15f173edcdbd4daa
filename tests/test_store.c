/*
 * test_store.c -- the output directory: URL to path mapping in both
 * layouts (ports, queries, "..", percent-encoding, control characters,
 * long names), Content-Disposition, and the sinks on a real file system:
 * NAME.part then rename, abort, resume, truncation, symbolic links that
 * must not be followed, file/directory clashes, names taken twice in one
 * run, the log database's names, a full disk, the directory cache, and
 * allocation failures.  Each file system test works in its own temporary
 * directory, removed at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "store.h"
#include "test.h"
#include "util.h"

#define PATH_BUF 1024
#define DIR_BUF 256

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static int scratch_make(char *dir, size_t size)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(dir, size, "%s/pfetch-store-XXXXXX",
             tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* rm -rf dir, never following symbolic links. */
static void scratch_remove(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Run body(dir) in a fresh temporary directory, then remove it. */
static void in_scratch(void (*body)(const char *dir))
{
    char dir[DIR_BUF];

    if (scratch_make(dir, sizeof(dir)) < 0) {
        fprintf(stderr, "FAIL: mkdtemp: %s\n", strerror(errno));
        test_failed_ = 1;
        return;
    }
    body(dir);
    scratch_remove(dir);
}

static const char *join(char *buf, const char *dir, const char *rel)
{
    snprintf(buf, PATH_BUF, "%s/%s", dir, rel);
    return buf;
}

/* The contents of dir/rel as a string (up to 4 KiB), or NULL. */
static const char *slurp(const char *dir, const char *rel)
{
    static char data[4097];
    char path[PATH_BUF];
    int fd = open(join(path, dir, rel), O_RDONLY | O_NOFOLLOW);
    ssize_t n;

    if (fd < 0)
        return NULL;
    n = read(fd, data, sizeof(data) - 1);
    close(fd);
    if (n < 0)
        return NULL;
    data[n] = '\0';
    return data;
}

static int kind(const char *dir, const char *rel)
{
    char path[PATH_BUF];
    struct stat sb;

    if (lstat(join(path, dir, rel), &sb) < 0)
        return 0;
    if (S_ISLNK(sb.st_mode))
        return 'l';
    if (S_ISDIR(sb.st_mode))
        return 'd';
    if (S_ISREG(sb.st_mode))
        return 'f';
    return '?';
}

static int entries(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    for (;;) {
        e = readdir(d);
        if (e == NULL)
            break;
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    }
    closedir(d);
    return n;
}

static int open_fds(void)
{
    return entries("/proc/self/fd");
}

/* Whether every component of rel is safe: what the store promises. */
static int safe_path(const char *rel, int components_allowed)
{
    const char *p = rel;
    int n = 0;

    if (rel == NULL || rel[0] == '\0' || rel[0] == '/')
        return 0;
    for (;;) {
        const char *s = strchr(p, '/');
        size_t len = s != NULL ? (size_t)(s - p) : strlen(p);
        size_t i;

        if (len == 0 || len > 255 || (len == 1 && p[0] == '.') ||
            (len == 2 && p[0] == '.' && p[1] == '.'))
            return 0;
        for (i = 0; i < len; i++)
            if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f || p[i] == '\\')
                return 0;
        n++;
        if (s == NULL)
            break;
        p = s + 1;
    }
    return components_allowed == 0 || n <= components_allowed;
}

/* Open, write body (may be NULL: nothing written), commit. */
static int save(struct pf__store *st, const char *url, const char *cd,
                const char *body, char *rel, size_t relsize)
{
    struct pf__sink sk;
    int rc = pf__sink_open(st, &sk, url, NULL, cd, 0);

    if (rc == 0 && body != NULL)
        rc = pf__sink_write(&sk, body, strlen(body));
    if (rc == 0)
        rc = pf__sink_commit(&sk);
    if (rc == 0 && rel != NULL)
        snprintf(rel, relsize, "%s", sk.relpath);
    if (rc != 0)
        pf__sink_abort(&sk, 0);
    pf__sink_free(&sk);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Mapping                                                             */
/* ------------------------------------------------------------------ */

struct map_case {
    const char *url;
    const char *want;
};

static void test_tree_table(void)
{
    static const struct map_case cases[] = {
        {"http://example.com/", "example.com/index.html"},
        {"http://example.com", "example.com/index.html"},
        {"http://Host:8080/a/b/?q=1", "host:8080/a/b/index.html?q=1"},
        {"HTTP://EXAMPLE.com/Path", "example.com/Path"},
        {"http://example.com:80/x", "example.com/x"},
        {"https://example.com:443/x", "example.com/x"},
        {"https://example.com:80/x", "example.com:80/x"},
        {"http://example.com:443/x", "example.com:443/x"},
        {"http://example.com:08080/x", "example.com:8080/x"},
        {"http://example.com:/x", "example.com/x"},
        {"http://[::1]:8080/x", "[::1]:8080/x"},
        {"http://[::1]/x", "[::1]/x"},
        {"https://[2001:db8::1]:443/", "[2001:db8::1]/index.html"},
        {"http://user:pw@h/x", "h/x"},
        {"http://h/a/b.html?x=1&y=a/b", "h/a/b.html?x=1&y=a%2Fb"},
        {"http://h/a?q=1#frag", "h/a?q=1"},
        {"http://h/a#frag", "h/a"},
        {"http://h/x?", "h/x"},
        {"http://h?q=1", "h/index.html?q=1"},
        {"http://h/a/", "h/a/index.html"},
        {"http://h/%2e%2e/%2E%2E/x", "h/%2E%2E/%2E%2E/x"},
        {"http://h/../../etc/passwd", "h/%2E%2E/%2E%2E/etc/passwd"},
        {"http://h/a/..", "h/a/%2E%2E"},
        {"http://h/a/%2e", "h/a/%2E"},
        {"http://h/./a", "h/%2E/a"},
        {"http://h/..?x", "h/..?x"},
        {"http://h/...", "h/..."},
        {"http://h//a///b", "h/a/b"},
        {"http://h//", "h/index.html"},
        {"http://h/a%2Fb", "h/a%2Fb"},
        {"http://h/a%2f..%2f..%2fb", "h/a%2f..%2f..%2fb"},
        {"http://h/a%5Cb", "h/a%5Cb"},
        {"http://h/a\\b", "h/a%5Cb"},
        {"http://h/..\\..\\x", "h/..%5C..%5Cx"},
        {"http://h/%41%20b", "h/A b"},
        {"http://h/caf%C3%A9.html", "h/caf\xC3\xA9.html"},
        {"http://h/%FF", "h/%FF"},
        {"http://h/%c2%80", "h/%C2%80"},
        {"http://h/a%01b", "h/a%01b"},
        {"http://h/a\001b", "h/a%01b"},
        {"http://h/a\x7f", "h/a%7F"},
        {"http://h/a%00b", "h/a%00b"},
        {"http://h/a%3Fb", "h/a%3Fb"},
        {"http://h/a%25b", "h/a%25b"},
        {"http://h/a%zz", "h/a%zz"},
        {"http://h/a%4", "h/a%4"},
        {"http://h/a?b\\c\x02", "h/a?b%5Cc%02"},
        {"http://h/q?a=%2e%2e/x", "h/q?a=%2e%2e%2Fx"},
        {"http://%2e%2e/x", "%2e%2e/x"},
    };
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(cases); i++) {
        char *out = NULL;
        int rc = pf__name_tree_path(cases[i].url, &out);

        if (rc != 0)
            fprintf(stderr, "case %zu: %s\n", i, cases[i].url);
        CHECK_EQ(rc, 0);
        CHECK_STR(out, cases[i].want);
        CHECK(safe_path(out, 0));
        pf__free(out);
    }
}

static void test_tree_bad_urls(void)
{
    static const char *const bad[] = {
        "",
        "h/x",
        "ftp://h/x",
        "file:///etc/passwd",
        "http://",
        "http:///x",
        "http://:80/x",
        "http://h:99999/",
        "http://h:65536/",
        "http://h:8x/",
        "http://[::1/",
        "http://[::1]x/",
        "http://h:1:2/",
        "https//h/",
        "httpx://h/",
        "http://user@/x",
    };
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(bad); i++) {
        char *out = (char *)"untouched";

        CHECK_EQ(pf__name_tree_path(bad[i], &out), PF_EURL);
        CHECK_STR(out, "untouched");
        CHECK_EQ(pf__name_flat(bad[i], NULL, &out), PF_EURL);
    }
}

/* The hash tag a shortened name carries. */
static void hash_tag(char *tag, const char *full, size_t len)
{
    snprintf(tag, 18, "~%016llx", (unsigned long long)pf__hash64(full, len));
}

static void test_long_names(void)
{
    char seg[400], url[600], url2[600], tag[18];
    char *a = NULL, *b = NULL, *s = NULL;
    const char *last;

    memset(seg, 'x', 300);
    seg[300] = '\0';
    snprintf(url, sizeof(url), "http://h/d/%s.html", seg);
    snprintf(url2, sizeof(url2), "http://h/d/%sy.html", seg);
    CHECK_EQ(pf__name_tree_path(url, &a), 0);
    CHECK_EQ(pf__name_tree_path(url2, &b), 0);
    CHECK(safe_path(a, 0) && safe_path(b, 0));
    CHECK(strcmp(a, b) != 0);
    last = strrchr(a, '/') + 1;
    CHECK(strlen(last) <= 255);
    CHECK(strcmp(last + strlen(last) - 5, ".html") == 0);
    /* The tag is the hash of the whole sanitised name. */
    snprintf(url, sizeof(url), "%s.html", seg);
    hash_tag(tag, url, strlen(url));
    CHECK(strstr(last, tag) != NULL);
    CHECK(strncmp(last, "xxxxxxxx", 8) == 0);
    pf__free(a);
    pf__free(b);
    a = b = NULL;

    /* A long query, a long extension (not kept), a long host. */
    snprintf(url, sizeof(url), "http://h/p.cgi?%s", seg);
    CHECK_EQ(pf__name_tree_path(url, &a), 0);
    CHECK(safe_path(a, 0));
    CHECK(strlen(strrchr(a, '/') + 1) <= 255);
    pf__free(a);
    snprintf(url, sizeof(url), "http://h/a.%s", seg);
    CHECK_EQ(pf__name_tree_path(url, &a), 0);
    CHECK(safe_path(a, 0));
    CHECK(strlen(strrchr(a, '/') + 1) == 255);
    pf__free(a);
    memset(seg, 'h', 253);
    seg[253] = '\0';
    snprintf(url, sizeof(url), "http://%s:8080/x", seg);
    CHECK_EQ(pf__name_tree_path(url, &a), 0);
    CHECK(safe_path(a, 0));
    CHECK(strchr(a, '/') - a <= 255);
    pf__free(a);

    /* Exactly 255 bytes stays as it is; 256 does not. */
    memset(seg, 'n', 255);
    seg[255] = '\0';
    CHECK_EQ(pf__name_sanitize(seg, 255, &s), 0);
    CHECK_STR(s, seg);
    pf__free(s);
    seg[255] = 'n';
    CHECK_EQ(pf__name_sanitize(seg, 256, &s), 0);
    CHECK(strlen(s) <= 255);
    hash_tag(tag, seg, 256);
    CHECK(strstr(s, tag) != NULL);
    pf__free(s);

    /* A cut never splits a UTF-8 character or a %XX escape. */
    {
        char u8[700];
        char *again = NULL;
        size_t i;

        for (i = 0; i + 2 <= 600; i += 2) {
            u8[i] = (char)0xC3;
            u8[i + 1] = (char)0xA9;
        }
        CHECK_EQ(pf__name_sanitize(u8, 601 - 1, &s), 0);
        CHECK(strlen(s) <= 255);
        CHECK_EQ(pf__name_sanitize(s, strlen(s), &again), 0);
        CHECK_STR(again, s);
        pf__free(s);
        pf__free(again);
        memset(u8, 1, 300); /* each byte becomes "%01" */
        CHECK_EQ(pf__name_sanitize(u8, 300, &s), 0);
        CHECK(strlen(s) <= 255);
        CHECK(strstr(s, "%0~") == NULL && strstr(s, "%~") == NULL);
        pf__free(s);
    }
}

static void test_sanitize(void)
{
    static const struct {
        const char *in;
        size_t len;
        const char *want;
    } cases[] = {
        {".", 1, "%2E"},
        {"..", 2, "%2E%2E"},
        {"...", 3, "..."},
        {"", 0, "_"},
        {"a/b", 3, "a%2Fb"},
        {"a\\b", 3, "a%5Cb"},
        {"\x01\x1f\x7f", 3, "%01%1F%7F"},
        {"a\0b", 3, "a%00b"},
        {"tab\there", 8, "tab%09here"},
        {"new\nline", 8, "new%0Aline"},
        {"caf\xC3\xA9", 5, "caf\xC3\xA9"},
        {"\xE2\x82\xAC", 3, "\xE2\x82\xAC"},
        {"\xF0\x9F\x98\x80", 4, "\xF0\x9F\x98\x80"},
        {"\xC3", 1, "%C3"},
        {"\xC2\x80", 2, "%C2%80"},
        {"\xC0\xAF", 2, "%C0%AF"},
        {"\xED\xA0\x80", 3, "%ED%A0%80"},
        {"\xF4\x90\x80\x80", 4, "%F4%90%80%80"},
        {"\xFF", 1, "%FF"},
        {"a b;c'd\"e", 9, "a b;c'd\"e"},
        {"%2E%2E", 6, "%2E%2E"},
    };
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(cases); i++) {
        char *out = NULL;

        CHECK_EQ(pf__name_sanitize(cases[i].in, cases[i].len, &out), 0);
        CHECK_STR(out, cases[i].want);
        pf__free(out);
    }
}

struct flat_case {
    const char *url;
    const char *cd;
    const char *want;
};

static void test_flat_names(void)
{
    static const struct flat_case cases[] = {
        {"http://h/dir/file.txt", NULL, "file.txt"},
        {"http://h/dir/", NULL, "index.html"},
        {"http://h", NULL, "index.html"},
        {"http://h/get?id=1", NULL, "get"},
        {"http://h/%2e%2e", NULL, "%2E%2E"},
        {"http://h/a%2Fb", NULL, "a%2Fb"},
        {"http://h/x", "attachment; filename=\"../../etc/passwd\"", "passwd"},
        {"http://h/x", "attachment; filename=/etc/shadow", "shadow"},
        {"http://h/x", "attachment; filename=\"C:\\\\x\\\\evil.exe\"",
         "evil.exe"},
        {"http://h/x", "attachment; filename=C:\\x\\evil.exe", "evil.exe"},
        {"http://h/x", "attachment; filename=\"a\001b.txt\"", "a%01b.txt"},
        {"http://h/x", "attachment; filename*=UTF-8''%e2%82%ac%20rates.txt",
         "\xE2\x82\xAC rates.txt"},
        {"http://h/x", "attachment; filename*=UTF-8''..%2F..%2Fx.sh", "x.sh"},
        {"http://h/x", "attachment; filename*=utf-8'en'%00evil", "%00evil"},
        {"http://h/x",
         "attachment; filename=\"plain.txt\"; filename*=UTF-8''ext.txt",
         "ext.txt"},
        {"http://h/x",
         "attachment; filename*=UTF-8''ext.txt; filename=\"plain.txt\"",
         "ext.txt"},
        {"http://h/x", "attachment; filename*=iso-8859-1'en'%A3%20rates",
         "\xC2\xA3 rates"},
        {"http://h/x", "attachment; filename*=koi8-r''x; filename=y", "y"},
        {"http://h/x", "attachment; filename*=garbage; filename=y", "y"},
        {"http://h/x", "attachment; filename*=UTF-8''; filename=y", "y"},
        {"http://h/x", "attachment; filename=\"a;b.txt\"", "a;b.txt"},
        {"http://h/x", "attachment; filename=\"a\\\"b\"", "a\"b"},
        {"http://h/x", "attachment; FILENAME=Up.TXT", "Up.TXT"},
        {"http://h/x", "attachment; xfilename=bad; filename=good", "good"},
        {"http://h/x", "attachment;filename = spaced.txt ;size=3",
         "spaced.txt"},
        {"http://h/x", "filename=bare.txt", "bare.txt"},
        {"http://h/x", "inline", "x"},
        {"http://h/x", "attachment; filename=\"..\"", "x"},
        {"http://h/x", "attachment; filename=\"a/..\"", "x"},
        {"http://h/x", "attachment; filename=\"dir/\"", "x"},
        {"http://h/x", "attachment; filename=\"\"", "x"},
        {"http://h/x", "attachment; filename=\"unterminated", "unterminated"},
        {"http://h/x", "attachment; filename=.", "x"},
        {"http://h/x", "", "x"},
        {"http://h/", "attachment; filename=\"...\"", "..."},
    };
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(cases); i++) {
        char *out = NULL;
        int rc = pf__name_flat(cases[i].url, cases[i].cd, &out);

        if (rc != 0 || out == NULL || strcmp(out, cases[i].want) != 0)
            fprintf(stderr, "case %zu: %s | %s\n", i, cases[i].url,
                    cases[i].cd ? cases[i].cd : "(null)");
        CHECK_EQ(rc, 0);
        CHECK_STR(out, cases[i].want);
        CHECK(safe_path(out, 1));
        pf__free(out);
    }
}

static void test_content_disposition(void)
{
    char *out = (char *)"x";

    CHECK_EQ(pf__name_parse_content_disposition(NULL, &out), 0);
    CHECK(out == NULL);
    CHECK_EQ(pf__name_parse_content_disposition("attachment", &out), 0);
    CHECK(out == NULL);
    CHECK_EQ(pf__name_parse_content_disposition(";;;=;==\"", &out), 0);
    CHECK(out == NULL);
    CHECK_EQ(
        pf__name_parse_content_disposition("attachment; filename=\"/\"", &out),
        0);
    CHECK(out == NULL);
    CHECK_EQ(pf__name_parse_content_disposition(
                 "attachment; filename=\"report 2024.pdf\"", &out),
             0);
    CHECK_STR(out, "report 2024.pdf");
    pf__free(out);
}

/* ------------------------------------------------------------------ */
/* Sinks                                                               */
/* ------------------------------------------------------------------ */

static void commit_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk;
    char path[PATH_BUF];

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/a/b.txt", NULL, NULL, 0), 0);
    CHECK_STR(sk.relpath, "h/a/b.txt");
    CHECK_STR(sk.name, "b.txt");
    CHECK(sk.fd >= 0 && sk.dirfd >= 0);
    CHECK_EQ(sk.offset, 0);
    CHECK_EQ(pf__sink_write(&sk, "hello ", 6), 0);
    CHECK_EQ(pf__sink_write(&sk, "world", 5), 0);
    CHECK_EQ(sk.bytes, 11);
    CHECK_EQ(kind(dir, "h/a/b.txt.part"), 'f');
    CHECK_EQ(kind(dir, "h/a/b.txt"), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    CHECK_STR(slurp(dir, "h/a/b.txt"), "hello world");
    CHECK_EQ(kind(dir, "h/a/b.txt.part"), 0);
    CHECK_STR(sk.relpath, "h/a/b.txt");
    /* After a commit, abort is harmless and free is idempotent. */
    pf__sink_abort(&sk, 0);
    CHECK_STR(slurp(dir, "h/a/b.txt"), "hello world");
    pf__sink_free(&sk);
    pf__sink_free(&sk);
    CHECK(sk.relpath == NULL && sk.fd == -1 && sk.dirfd == -1);
    CHECK_EQ(entries(join(path, dir, "h/a")), 1);
    pf__store_close(st);
}

static void test_commit(void)
{
    in_scratch(commit_body);
}

static void abort_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk;

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/gone", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_write(&sk, "partial", 7), 0);
    pf__sink_abort(&sk, 0);
    CHECK_EQ(kind(dir, "h/gone.part"), 0);
    CHECK_EQ(kind(dir, "h/gone"), 0);
    pf__sink_abort(&sk, 0);
    pf__sink_free(&sk);

    CHECK_EQ(pf__sink_open(st, &sk, "http://h/kept", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_write(&sk, "partial", 7), 0);
    pf__sink_abort(&sk, 1);
    pf__sink_abort(&sk, 0); /* idempotent: the first call decided */
    CHECK_STR(slurp(dir, "h/kept.part"), "partial");
    CHECK_EQ(kind(dir, "h/kept"), 0);
    /* Commit after abort fails cleanly. */
    CHECK_EQ(pf__sink_commit(&sk), PF_EIO);
    pf__sink_free(&sk);
    pf__store_close(st);
}

static void test_abort(void)
{
    in_scratch(abort_body);
}

static void empty_body(const char *dir)
{
    struct pf__store *st = NULL;
    char rel[PATH_BUF], path[PATH_BUF];
    struct stat sb;

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(save(st, "http://h/empty", NULL, NULL, rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/empty");
    CHECK_EQ(lstat(join(path, dir, "h/empty"), &sb), 0);
    CHECK(S_ISREG(sb.st_mode));
    CHECK_EQ(sb.st_size, 0);
    pf__store_close(st);
}

static void test_empty_body(void)
{
    in_scratch(empty_body);
}

static void resume_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk;

    /* Run 1: interrupted after "abc"; the .part file is kept. */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/big.bin", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_write(&sk, "abc", 3), 0);
    pf__sink_abort(&sk, 1);
    pf__sink_free(&sk);
    pf__store_close(st);

    /* Run 2 resumes: offset 3, appends. */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/big.bin", NULL, NULL, 1), 0);
    CHECK_STR(sk.relpath, "h/big.bin");
    CHECK_EQ(sk.offset, 3);
    CHECK_EQ(pf__sink_write(&sk, "def", 3), 0);
    CHECK_EQ(sk.bytes, 3);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    pf__sink_free(&sk);
    CHECK_STR(slurp(dir, "h/big.bin"), "abcdef");

    /* Resume with no .part file starts at 0. */
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/new.bin", NULL, NULL, 1), 0);
    CHECK_EQ(sk.offset, 0);
    CHECK_EQ(pf__sink_write(&sk, "n", 1), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    pf__sink_free(&sk);
    CHECK_STR(slurp(dir, "h/new.bin"), "n");

    /* Without resume an old .part file is replaced, not appended to. */
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/old", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_write(&sk, "stale", 5), 0);
    pf__sink_abort(&sk, 1);
    pf__sink_free(&sk);
    pf__store_close(st);
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/old", NULL, NULL, 0), 0);
    CHECK_EQ(sk.offset, 0);
    CHECK_EQ(pf__sink_write(&sk, "fresh", 5), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    pf__sink_free(&sk);
    CHECK_STR(slurp(dir, "h/old"), "fresh");
    pf__store_close(st);
}

static void test_resume(void)
{
    in_scratch(resume_body);
}

static void truncate_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk;

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    /* Resumed file whose server ignores the Range: start over. */
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/t", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_write(&sk, "0123456789", 10), 0);
    pf__sink_abort(&sk, 1);
    pf__sink_free(&sk);
    pf__store_close(st);
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/t", NULL, NULL, 1), 0);
    CHECK_EQ(sk.offset, 10);
    CHECK_EQ(pf__sink_write(&sk, "xx", 2), 0);
    CHECK_EQ(pf__sink_truncate(&sk), 0);
    CHECK_EQ(sk.offset, 0);
    CHECK_EQ(sk.bytes, 0);
    CHECK_EQ(pf__sink_write(&sk, "whole", 5), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    pf__sink_free(&sk);
    CHECK_STR(slurp(dir, "h/t"), "whole");
    pf__store_close(st);
}

static void test_truncate(void)
{
    in_scratch(truncate_body);
}

/* The digest covers the whole file: a resumed prefix, after a truncate. */
static void sha256_body(const char *dir)
{
    /* sha256("") and sha256("abcdef"). */
    static const char empty[] =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    static const char abcdef[] =
        "bef57ec7f53a6d40beb640a780a639c83bc29ac8a9816f1fc6c5c6dcd93c4721";
    struct pf__store *st = NULL;
    struct pf__sink sk;
    char hex[65];

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/e", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    CHECK_STR(sk.sha256, empty);
    pf__sink_free(&sk);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/r", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_write(&sk, "abc", 3), 0);
    pf__sink_abort(&sk, 1);
    pf__sink_free(&sk);
    pf__store_close(st); /* a later run resumes it */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/r", NULL, NULL, 1), 0);
    CHECK_EQ(sk.offset, 3);
    CHECK_EQ(pf__sink_write(&sk, "def", 3), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    CHECK_STR(sk.sha256, abcdef);
    pf__sink_free(&sk);
    CHECK_EQ(pf__store_file_sha256(st, "h/r", hex), 0);
    CHECK_STR(hex, abcdef);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/t", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_write(&sk, "xyz", 3), 0);
    CHECK_EQ(pf__sink_truncate(&sk), 0);
    CHECK_EQ(pf__sink_write(&sk, "abcdef", 6), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    CHECK_STR(sk.sha256, abcdef);
    pf__sink_free(&sk);
    pf__store_close(st);
}

static void test_sha256(void)
{
    in_scratch(sha256_body);
}

/* The PATH_MAX rule: deep directories folded, names kept. */
#define LONG_TREE_PATH "h/aaaaaaaaaa/bbbbbbbbbb/cccccccccc/dddddddddd/f"

static void test_fit(void)
{
    char *out = NULL;

    CHECK_EQ(pf__name_fit("h/a/b/c", 100, &out), 0);
    CHECK_STR(out, "h/a/b/c");
    pf__free(out);
    CHECK_EQ(pf__name_fit(LONG_TREE_PATH, 40, &out), 0);
    CHECK(strncmp(out, "h/aaaaaaaaaa/folded~", 20) == 0);
    CHECK(strlen(out) <= 40);
    CHECK(strcmp(out + strlen(out) - 2, "/f") == 0);
    pf__free(out);
    CHECK_EQ(pf__name_fit(LONG_TREE_PATH, 30, &out), 0);
    CHECK(strncmp(out, "h/folded~", 9) == 0);
    CHECK_EQ(strlen(out), 27);
    pf__free(out);
    CHECK_EQ(pf__name_fit(LONG_TREE_PATH, 20, &out), PF_EIO);
    CHECK(out == NULL);
    CHECK_EQ(pf__name_fit("hostname/file-name", 10, &out), PF_EIO);
}

/* 0 when open() of dir/rel, as one path, succeeds. */
static int open_whole(const char *dir, const char *rel)
{
    char *path = pf__asprintf("%s/%s", dir, rel);
    int fd = path != NULL ? open(path, O_RDONLY) : -1;

    pf__free(path);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

static void long_path_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink a, b;
    struct pf__buf url = {NULL, 0, 0};
    char seg[201];
    int i;

    memset(seg, 's', 200);
    seg[200] = '\0';
    CHECK_EQ(pf__buf_append(&url, "http://h", 8), 0);
    for (i = 0; i < 25; i++) {
        CHECK_EQ(pf__buf_appendc(&url, '/'), 0);
        CHECK_EQ(pf__buf_append(&url, seg, 200), 0);
    }
    CHECK_EQ(pf__buf_append(&url, "/x", 3), 0); /* NUL included */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &a, url.data, NULL, NULL, 0), 0);
    url.data[url.len - 2] = 'y';
    CHECK_EQ(pf__sink_open(st, &b, url.data, NULL, NULL, 0), 0);
    CHECK(strlen(dir) + 1 + strlen(a.relpath) + 5 <= 4095);
    CHECK(strstr(a.relpath, "/folded~") != NULL);
    CHECK(strcmp(a.relpath, b.relpath) != 0);
    CHECK_EQ(pf__sink_commit(&a), 0);
    CHECK_EQ(pf__sink_commit(&b), 0);
    /* Plain open() of the whole path works. */
    CHECK_EQ(open_whole(dir, a.relpath), 0);
    CHECK_EQ(open_whole(dir, b.relpath), 0);
    pf__sink_free(&a);
    pf__sink_free(&b);
    pf__buf_free(&url);
    pf__store_close(st);
}

static void test_long_path(void)
{
    in_scratch(long_path_body);
}

static char elsewhere[DIR_BUF];

static void symlink_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk;
    char path[PATH_BUF], target[PATH_BUF];

    /* dir/h -> elsewhere, dir/h2/sub -> elsewhere. */
    CHECK_EQ(symlink(elsewhere, join(path, dir, "h")), 0);
    CHECK_EQ(mkdir(join(path, dir, "h2"), 0777), 0);
    CHECK_EQ(symlink(elsewhere, join(path, dir, "h2/sub")), 0);
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/x", NULL, NULL, 0), PF_EIO);
    CHECK_EQ(sk.sys_errno, ELOOP);
    CHECK(sk.fd == -1 && sk.dirfd == -1);
    CHECK(sk.relpath != NULL); /* named in the caller's message */
    pf__sink_free(&sk);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h2/sub/deeper/x", NULL, NULL, 1),
             PF_EIO);
    CHECK_EQ(sk.sys_errno, ELOOP);
    pf__sink_free(&sk);
    CHECK_EQ(entries(elsewhere), 0);

    /* A symbolic link at NAME.part is replaced, never written through. */
    CHECK_EQ(mkdir(join(path, dir, "h3"), 0777), 0);
    snprintf(target, sizeof(target), "%s/victim", elsewhere);
    CHECK_EQ(symlink(target, join(path, dir, "h3/a.part")), 0);
    CHECK_EQ(symlink(target, join(path, dir, "h3/b.part")), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h3/a", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_write(&sk, "A", 1), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    pf__sink_free(&sk);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h3/b", NULL, NULL, 1), 0);
    CHECK_EQ(sk.offset, 0);
    CHECK_EQ(pf__sink_write(&sk, "B", 1), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    pf__sink_free(&sk);
    CHECK_EQ(entries(elsewhere), 0);
    CHECK_STR(slurp(dir, "h3/a"), "A");
    CHECK_STR(slurp(dir, "h3/b"), "B");

    /* A symbolic link at the final name is replaced by the file. */
    CHECK_EQ(symlink(target, join(path, dir, "h3/c")), 0);
    CHECK_EQ(save(st, "http://h3/c", NULL, "C", NULL, 0), 0);
    CHECK_EQ(kind(dir, "h3/c"), 'f');
    CHECK_EQ(entries(elsewhere), 0);
    pf__store_close(st);
}

static void test_symlinks(void)
{
    if (scratch_make(elsewhere, sizeof(elsewhere)) < 0) {
        test_failed_ = 1;
        return;
    }
    in_scratch(symlink_body);
    CHECK_EQ(entries(elsewhere), 0);
    scratch_remove(elsewhere);
}

static void special_part_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk;
    char path[PATH_BUF], other[PATH_BUF];

    CHECK_EQ(mkdir(join(path, dir, "h"), 0777), 0);
    /* A FIFO at NAME.part must neither block nor be written. */
    CHECK_EQ(mkfifo(join(path, dir, "h/f1.part"), 0666), 0);
    CHECK_EQ(mkfifo(join(path, dir, "h/f2.part"), 0666), 0);
    /* A hard link at NAME.part must not carry writes elsewhere. */
    snprintf(other, sizeof(other), "%s/other", dir);
    {
        int fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0666);

        CHECK(fd >= 0);
        CHECK_EQ(write(fd, "keep", 4), 4);
        close(fd);
    }
    CHECK_EQ(link(other, join(path, dir, "h/l.part")), 0);
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(save(st, "http://h/f1", NULL, "1", NULL, 0), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/f2", NULL, NULL, 1), 0);
    CHECK_EQ(sk.offset, 0);
    CHECK_EQ(pf__sink_write(&sk, "2", 1), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    pf__sink_free(&sk);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/l", NULL, NULL, 1), 0);
    CHECK_EQ(sk.offset, 0);
    CHECK_EQ(pf__sink_write(&sk, "L", 1), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    pf__sink_free(&sk);
    CHECK_STR(slurp(dir, "h/f1"), "1");
    CHECK_STR(slurp(dir, "h/f2"), "2");
    CHECK_STR(slurp(dir, "h/l"), "L");
    CHECK_STR(slurp(dir, "other"), "keep");
    pf__store_close(st);
}

static void test_special_part_files(void)
{
    in_scratch(special_part_body);
}

static void clash_file_then_dir_body(const char *dir)
{
    struct pf__store *st = NULL;
    char rel[PATH_BUF];

    /* In one run: "h/a" is a file, so "h/a/b" goes to "h/a.d/b". */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(save(st, "http://h/a", NULL, "file a", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/a");
    CHECK_EQ(save(st, "http://h/a/b", NULL, "file b", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/a.d/b");
    CHECK_STR(slurp(dir, "h/a"), "file a");
    CHECK_STR(slurp(dir, "h/a.d/b"), "file b");
    pf__store_close(st);

    /* In a later run the file on disk decides the same way. */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(save(st, "http://h/a/c/d", NULL, "d", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/a.d/c/d");
    /* And ".d.d" when "a.d" is a file too. */
    CHECK_EQ(save(st, "http://h/x", NULL, "x", rel, sizeof(rel)), 0);
    CHECK_EQ(save(st, "http://h/x.d", NULL, "x.d", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/x.d");
    CHECK_EQ(save(st, "http://h/x/y", NULL, "y", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/x.d.d/y");
    CHECK_STR(slurp(dir, "h/x"), "x");
    CHECK_STR(slurp(dir, "h/x.d"), "x.d");
    CHECK_STR(slurp(dir, "h/x.d.d/y"), "y");
    pf__store_close(st);
}

static void test_clash_file_then_dir(void)
{
    in_scratch(clash_file_then_dir_body);
}

static void clash_dir_then_file_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk;
    char rel[PATH_BUF];

    /* In one run: "h/a" is a directory, so the file "h/a" is "h/a.1". */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(save(st, "http://h/a/b", NULL, "b", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/a/b");
    CHECK_EQ(save(st, "http://h/a", NULL, "a", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/a.1");
    CHECK_STR(slurp(dir, "h/a/b"), "b");
    CHECK_STR(slurp(dir, "h/a.1"), "a");
    pf__store_close(st);

    /*
     * A directory left by an earlier run (or made while the body was
     * being written) is found at the rename: the file moves on to ".1".
     */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/a", NULL, NULL, 0), 0);
    CHECK_STR(sk.relpath, "h/a");
    CHECK_EQ(pf__sink_write(&sk, "again", 5), 0);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    CHECK_STR(sk.relpath, "h/a.1");
    CHECK_STR(sk.name, "a.1");
    pf__sink_free(&sk);
    CHECK_STR(slurp(dir, "h/a.1"), "again");
    CHECK_EQ(kind(dir, "h/a.part"), 0);
    CHECK_EQ(kind(dir, "h/a"), 'd');

    /* A directory named like the .part file: the next name is used. */
    CHECK_EQ(mkdir(join(rel, dir, "h/p.part"), 0777), 0);
    CHECK_EQ(save(st, "http://h/p", NULL, "p", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/p.1");
    CHECK_STR(slurp(dir, "h/p.1"), "p");
    pf__store_close(st);
}

static void test_clash_dir_then_file(void)
{
    in_scratch(clash_dir_then_file_body);
}

static void duplicates_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink a, b;
    char rel[PATH_BUF];

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &a, "http://h/d/", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_open(st, &b, "http://h/d/index.html", NULL, NULL, 0), 0);
    CHECK_STR(a.relpath, "h/d/index.html");
    CHECK_STR(b.relpath, "h/d/index.html.1");
    CHECK_EQ(pf__sink_write(&a, "A", 1), 0);
    CHECK_EQ(pf__sink_write(&b, "B", 1), 0);
    CHECK_EQ(pf__sink_commit(&b), 0);
    CHECK_EQ(pf__sink_commit(&a), 0);
    pf__sink_free(&a);
    pf__sink_free(&b);
    CHECK_STR(slurp(dir, "h/d/index.html"), "A");
    CHECK_STR(slurp(dir, "h/d/index.html.1"), "B");
    /* The same directory URL again (a slash redirect's): the same file. */
    CHECK_EQ(pf__sink_open(st, &a, "http://h/d/", NULL, NULL, 0), 0);
    CHECK_STR(a.relpath, "h/d/index.html");
    pf__sink_abort(&a, 0);
    pf__sink_free(&a);
    CHECK_STR(slurp(dir, "h/d/index.html"), "A");
    /* An aborted name stays taken for the run. */
    CHECK_EQ(pf__sink_open(st, &a, "http://h/d/index.html", NULL, NULL, 0), 0);
    CHECK_STR(a.relpath, "h/d/index.html.2");
    pf__sink_abort(&a, 0);
    pf__sink_free(&a);
    CHECK_EQ(pf__sink_open(st, &a, "http://h/d/index.html", NULL, NULL, 0), 0);
    CHECK_STR(a.relpath, "h/d/index.html.3");
    pf__sink_abort(&a, 0);
    pf__sink_free(&a);
    CHECK_EQ(save(st, "http://h/d/?q", NULL, "", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/d/index.html?q");
    pf__store_close(st);

    /* Flat: three file.txt, from different hosts and directories. */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_FLAT, NULL), 0);
    CHECK_EQ(save(st, "http://h/x/file.txt", NULL, "1", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "file.txt");
    CHECK_EQ(save(st, "http://g/y/file.txt", NULL, "2", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "file.txt.1");
    CHECK_EQ(save(st, "http://g/z", "attachment; filename=\"file.txt\"", "3",
                  rel, sizeof(rel)),
             0);
    CHECK_STR(rel, "file.txt.2");
    pf__store_close(st);

    /* A later run overwrites its predecessor's files. */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_FLAT, NULL), 0);
    CHECK_EQ(save(st, "http://h/w/file.txt", NULL, "new", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "file.txt");
    CHECK_STR(slurp(dir, "file.txt"), "new");
    CHECK_STR(slurp(dir, "file.txt.1"), "2");
    CHECK_STR(slurp(dir, "file.txt.2"), "3");
    pf__store_close(st);
}

static void test_duplicates(void)
{
    in_scratch(duplicates_body);
}

static void many_duplicates_body(const char *dir)
{
    struct pf__store *st = NULL;
    char rel[PATH_BUF], want[64];
    int i;

    /* Many URLs of one name: each finds its suffix without a rescan. */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_FLAT, NULL), 0);
    for (i = 0; i < 2000; i++) {
        char url[64];

        snprintf(url, sizeof(url), "http://h/get?id=%d", i);
        CHECK_EQ(save(st, url, NULL, "", rel, sizeof(rel)), 0);
        if (i == 0)
            snprintf(want, sizeof(want), "get");
        else
            snprintf(want, sizeof(want), "get.%d", i);
        CHECK_STR(rel, want);
    }
    CHECK_EQ(entries(dir), 2000);
    pf__store_close(st);
}

static void test_many_duplicates(void)
{
    in_scratch(many_duplicates_body);
}

static void part_names_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink a, b;

    /* "x" writes "x.part": a URL named "x.part" must not share it. */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &a, "http://h/x", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_open(st, &b, "http://h/x.part", NULL, NULL, 0), 0);
    CHECK_STR(a.relpath, "h/x");
    CHECK_STR(b.relpath, "h/x.part.1");
    CHECK_EQ(pf__sink_write(&a, "x", 1), 0);
    CHECK_EQ(pf__sink_write(&b, "x.part", 6), 0);
    CHECK_EQ(pf__sink_commit(&b), 0);
    CHECK_EQ(pf__sink_commit(&a), 0);
    pf__sink_free(&a);
    pf__sink_free(&b);
    CHECK_STR(slurp(dir, "h/x"), "x");
    CHECK_STR(slurp(dir, "h/x.part.1"), "x.part");

    /* The other order. */
    CHECK_EQ(pf__sink_open(st, &b, "http://h/y.part", NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_open(st, &a, "http://h/y", NULL, NULL, 0), 0);
    CHECK_STR(b.relpath, "h/y.part");
    CHECK_STR(a.relpath, "h/y.1");
    CHECK_EQ(pf__sink_write(&a, "y", 1), 0);
    CHECK_EQ(pf__sink_write(&b, "y.part", 6), 0);
    CHECK_EQ(pf__sink_commit(&a), 0);
    CHECK_EQ(pf__sink_commit(&b), 0);
    pf__sink_free(&a);
    pf__sink_free(&b);
    CHECK_STR(slurp(dir, "h/y.1"), "y");
    CHECK_STR(slurp(dir, "h/y.part"), "y.part");
    pf__store_close(st);
}

static void test_part_names(void)
{
    in_scratch(part_names_body);
}

static void long_part_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink a, b;
    char seg[300], url[400], path[PATH_BUF];
    DIR *d;
    struct dirent *e;
    int parts = 0;

    memset(seg, 'L', 255);
    seg[255] = '\0';
    snprintf(url, sizeof(url), "http://h/%s", seg);
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &a, url, NULL, NULL, 0), 0);
    CHECK_EQ(strlen(a.name), 255);
    CHECK_STR(a.name, seg);
    CHECK_EQ(pf__sink_open(st, &b, url, NULL, NULL, 0), 0);
    CHECK(strlen(b.name) <= 255);
    CHECK(strcmp(a.name, b.name) != 0);
    d = opendir(join(path, dir, "h"));
    CHECK(d != NULL);
    for (;;) {
        size_t n;

        e = readdir(d);
        if (e == NULL)
            break;
        n = strlen(e->d_name);

        if (n > 5 && strcmp(e->d_name + n - 5, ".part") == 0) {
            parts++;
            CHECK(n <= 255);
        }
    }
    closedir(d);
    CHECK_EQ(parts, 2);
    CHECK_EQ(pf__sink_write(&a, "a", 1), 0);
    CHECK_EQ(pf__sink_write(&b, "b", 1), 0);
    CHECK_EQ(pf__sink_commit(&a), 0);
    CHECK_EQ(pf__sink_commit(&b), 0);
    CHECK_STR(slurp(dir, a.relpath), "a");
    CHECK_STR(slurp(dir, b.relpath), "b");
    pf__sink_free(&a);
    pf__sink_free(&b);
    CHECK_EQ(entries(join(path, dir, "h")), 2);
    /* A resumed long name finds its shortened .part file again. */
    CHECK_EQ(pf__sink_open(st, &a, "http://h2/x", NULL, NULL, 0), 0);
    pf__sink_free(&a);
    snprintf(url, sizeof(url), "http://h2/%s.bin", seg);
    CHECK_EQ(pf__sink_open(st, &a, url, NULL, NULL, 0), 0);
    CHECK_EQ(pf__sink_write(&a, "12", 2), 0);
    pf__sink_abort(&a, 1);
    pf__sink_free(&a);
    pf__store_close(st);
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &a, url, NULL, NULL, 1), 0);
    CHECK_EQ(a.offset, 2);
    pf__sink_abort(&a, 0);
    pf__sink_free(&a);
    pf__store_close(st);
}

static void test_long_part_names(void)
{
    in_scratch(long_part_body);
}

static void db_body(const char *dir)
{
    struct pf__store *st = NULL;
    char db[PATH_BUF], spelled[PATH_BUF], rel[PATH_BUF];
    int fd;

    snprintf(db, sizeof(db), "%s/pfetch.db", dir);
    fd = open(db, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    CHECK(fd >= 0);
    CHECK_EQ(write(fd, "DB", 2), 2);
    close(fd);

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_FLAT, db), 0);
    CHECK_EQ(save(st, "http://h/pfetch.db", NULL, "body", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "pfetch.db.1");
    CHECK_EQ(save(st, "http://h/pfetch.db-wal", NULL, "w", rel, sizeof(rel)),
             0);
    CHECK_STR(rel, "pfetch.db-wal.1");
    CHECK_EQ(save(st, "http://h/x", "attachment; filename=pfetch.db-journal",
                  "j", rel, sizeof(rel)),
             0);
    CHECK_STR(rel, "pfetch.db-journal.1");
    CHECK_STR(slurp(dir, "pfetch.db"), "DB");
    CHECK_EQ(kind(dir, "pfetch.db-wal"), 0);
    CHECK_EQ(kind(dir, "pfetch.db-journal"), 0);
    pf__store_close(st);

    /* Another spelling of the same place; a host named like the WAL. */
    snprintf(spelled, sizeof(spelled), "%s/./pfetch.db", dir);
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, spelled), 0);
    CHECK_EQ(save(st, "http://pfetch.db-wal/x", NULL, "x", rel, sizeof(rel)),
             0);
    CHECK_STR(rel, "pfetch.db-wal.d/x");
    CHECK_EQ(save(st, "http://pfetch.db/x", NULL, "x", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "pfetch.db.d/x");
    CHECK_STR(slurp(dir, "pfetch.db"), "DB");
    CHECK_EQ(kind(dir, "pfetch.db-wal"), 0);
    pf__store_close(st);

    /* A database elsewhere reserves nothing here. */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_FLAT, "/nonexistent/x.db"), 0);
    CHECK_EQ(save(st, "http://h/x.db", NULL, "x", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "x.db");
    pf__store_close(st);
}

static void test_db_names(void)
{
    in_scratch(db_body);
}

static void db_subdir_body(const char *dir)
{
    struct pf__store *st = NULL;
    char db[PATH_BUF], rel[PATH_BUF], path[PATH_BUF];

    /* The database in a subdirectory, given relative to the cwd. */
    CHECK_EQ(mkdir(join(path, dir, "log.d"), 0777), 0);
    CHECK_EQ(chdir(dir), 0);
    snprintf(db, sizeof(db), "log.d/run.db");
    CHECK_EQ(pf__store_open(&st, ".", PF_LAYOUT_TREE, db), 0);
    CHECK_EQ(chdir("/"), 0);
    CHECK_EQ(save(st, "http://log.d/run.db", NULL, "x", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "log.d/run.db.1");
    CHECK_EQ(save(st, "http://log.d/run.db-shm", NULL, "x", rel, sizeof(rel)),
             0);
    CHECK_STR(rel, "log.d/run.db-shm.1");
    pf__store_close(st);
}

static void test_db_in_subdir(void)
{
    char cwd[PATH_BUF];

    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    in_scratch(db_subdir_body);
    CHECK_EQ(chdir(cwd), 0);
}

static void cache_body(const char *dir)
{
    enum { NDIRS = 40, NFILES = 300 };
    struct pf__store *st = NULL;
    static struct pf__sink sinks[NDIRS];
    char url[128], rel[64], path[PATH_BUF];
    int i, fds = open_fds();

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    /* More directories open at once than the cache has slots. */
    for (i = 0; i < NDIRS; i++) {
        snprintf(url, sizeof(url), "http://h/d%d/f", i);
        CHECK_EQ(pf__sink_open(st, &sinks[i], url, NULL, NULL, 0), 0);
        CHECK_EQ(pf__sink_write(&sinks[i], url, strlen(url)), 0);
    }
    for (i = 0; i < NDIRS; i++) {
        CHECK_EQ(pf__sink_commit(&sinks[i]), 0);
        pf__sink_free(&sinks[i]);
    }
    for (i = 0; i < NDIRS; i++) {
        snprintf(url, sizeof(url), "http://h/d%d/f", i);
        snprintf(rel, sizeof(rel), "h/d%d/f", i);
        CHECK_STR(slurp(dir, rel), url);
    }
    /* Many files in one directory, and the cached directories again. */
    for (i = 0; i < NFILES; i++) {
        snprintf(url, sizeof(url), "http://h/many/%d.txt", i);
        CHECK_EQ(save(st, url, NULL, url, NULL, 0), 0);
        snprintf(url, sizeof(url), "http://h/d%d/g", i % NDIRS);
        CHECK_EQ(save(st, url, NULL, url, NULL, 0), 0);
    }
    CHECK_EQ(entries(join(path, dir, "h/many")), NFILES);
    CHECK_STR(slurp(dir, "h/d7/g.7"), "http://h/d7/g");
    pf__store_close(st);
    CHECK_EQ(open_fds(), fds);
}

static void test_dir_cache(void)
{
    in_scratch(cache_body);
}

static void open_body(const char *dir)
{
    struct pf__store *st = NULL;
    char path[PATH_BUF];
    int fd;

    CHECK_EQ(
        pf__store_open(&st, join(path, dir, "a/b//c/"), PF_LAYOUT_TREE, NULL),
        0);
    CHECK_EQ(kind(dir, "a/b/c"), 'd');
    pf__store_close(st);
    pf__store_close(NULL);
    fd = open(join(path, dir, "file"), O_WRONLY | O_CREAT, 0666);
    CHECK(fd >= 0);
    close(fd);
    st = NULL;
    CHECK_EQ(
        pf__store_open(&st, join(path, dir, "file/sub"), PF_LAYOUT_TREE, NULL),
        PF_EOUTDIR);
    CHECK_EQ(errno, ENOTDIR);
    CHECK(st == NULL);
    CHECK_EQ(pf__store_open(&st, join(path, dir, "file"), PF_LAYOUT_TREE, NULL),
             PF_EOUTDIR);
    CHECK(st == NULL);
}

static void test_store_open(void)
{
    in_scratch(open_body);
}

static void diskfull_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk;
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);

    if (full < 0) {
        fprintf(stderr, "skipped: no /dev/full\n");
        return;
    }
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/full", NULL, NULL, 0), 0);
    /* Put a full device behind the sink's descriptor. */
    CHECK(dup2(full, sk.fd) == sk.fd);
    close(full);
    CHECK_EQ(pf__sink_write(&sk, "x", 1), PF_EDISKFULL);
    CHECK_EQ(sk.sys_errno, ENOSPC);
    pf__sink_abort(&sk, 0);
    pf__sink_free(&sk);
    CHECK_EQ(kind(dir, "h/full.part"), 0);
    CHECK_EQ(kind(dir, "h/full"), 0);
    pf__store_close(st);
}

static void test_disk_full(void)
{
    in_scratch(diskfull_body);
}

/* ------------------------------------------------------------------ */
/* Slash redirects                                                     */
/* ------------------------------------------------------------------ */

static void test_slash_redirect(void)
{
    static const struct {
        const char *url, *final;
        int want;
    } cases[] = {
        {"http://h/sub", "http://h/sub/", 1},
        {"http://h/a/sub?q=1", "http://h/a/sub/?q=1", 1},
        {"http://h/sub?", "http://h/sub/?", 1},
        {"HTTP://H:80/sub", "http://h/sub/", 1},
        {"https://h/sub", "https://h:443/sub/", 1},
        {"http://h:8080/sub", "http://H:8080/sub/", 1},
        {"http://h/sub", "http://h/sub", 0},
        {"http://h/sub/", "http://h/sub//", 0},
        {"http://h/sub", "http://h/sub/index.html", 0},
        {"http://h/sub", "https://h/sub/", 0},
        {"http://h/sub", "http://g/sub/", 0},
        {"http://h/sub", "http://h:8080/sub/", 0},
        {"http://h/sub?q=1", "http://h/sub/", 0},
        {"http://h/sub?q=1", "http://h/sub/?q=2", 0},
        {"http://h/sub", "http://h/sub/?", 0},
        {"http://h/sub", "http://h/Sub/", 0},
        {"http://h/sub", "http://h/su/", 0},
        {"http://h/sub", NULL, 0},
        {NULL, "http://h/sub/", 0},
        {"not a url", "not a url/", 0},
    };
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(cases); i++) {
        int got = pf__name_slash_redirect(cases[i].url, cases[i].final);

        if (got != cases[i].want)
            fprintf(stderr, "case %zu: %s -> %s\n", i,
                    cases[i].url ? cases[i].url : "(null)",
                    cases[i].final ? cases[i].final : "(null)");
        CHECK_EQ(got, cases[i].want);
    }
}

/* Save url, answered from final, with body; its path into rel. */
static int save_from(struct pf__store *st, const char *url, const char *final,
                     const char *body, char *rel, size_t relsize)
{
    struct pf__sink sk;
    int rc = pf__sink_open(st, &sk, url, final, NULL, 0);

    if (rc == 0)
        rc = pf__sink_write(&sk, body, strlen(body));
    if (rc == 0)
        rc = pf__sink_commit(&sk);
    if (rc == 0)
        snprintf(rel, relsize, "%s", sk.relpath);
    if (rc != 0)
        pf__sink_abort(&sk, 0);
    pf__sink_free(&sk);
    return rc;
}

static void slash_sinks_body(const char *dir)
{
    struct pf__store *st = NULL;
    char rel[PATH_BUF];

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    /* The parent first, then its child: no "sub.d". */
    CHECK_EQ(
        save_from(st, "http://h/sub", "http://h/sub/", "P", rel, sizeof(rel)),
        0);
    CHECK_STR(rel, "h/sub/index.html");
    CHECK_EQ(save_from(st, "http://h/sub/c", NULL, "C", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/sub/c");
    /* The child first: the parent goes into its directory. */
    CHECK_EQ(save_from(st, "http://h/t/c", NULL, "C", rel, sizeof(rel)), 0);
    CHECK_EQ(
        save_from(st, "http://h/t?q", "http://h/t/?q", "T", rel, sizeof(rel)),
        0);
    CHECK_STR(rel, "h/t/index.html?q");
    /* The directory URL itself, then its slashless form: one file. */
    CHECK_EQ(save_from(st, "http://h/u/", NULL, "1", rel, sizeof(rel)), 0);
    CHECK_EQ(save_from(st, "http://h/u", "http://h/u/", "2", rel, sizeof(rel)),
             0);
    CHECK_STR(rel, "h/u/index.html");
    CHECK_STR(slurp(dir, "h/u/index.html"), "2");
    /* Any other redirect names the file after the URL asked for. */
    CHECK_EQ(save_from(st, "http://h/v", "http://h/w/", "V", rel, sizeof(rel)),
             0);
    CHECK_STR(rel, "h/v");
    /* A genuine clash still gets ".d". */
    CHECK_EQ(save_from(st, "http://h/v/x", NULL, "X", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/v.d/x");
    pf__store_close(st);
}

static void test_slash_sinks(void)
{
    in_scratch(slash_sinks_body);
}

/* ------------------------------------------------------------------ */
/* Flat names reserved at acceptance                                   */
/* ------------------------------------------------------------------ */

static void flat_reserved_body(const char *dir)
{
    static const char *const urls[] = {
        "http://h/f5.txt?x=1", "http://h/f5.txt?x=2", "http://h/f5.txt?x=3",
        "http://h/f5.txt?x=4", "http://h/f5.txt?x=5", "http://h/f5.txt?x=6",
        "http://h/f5.txt?x=7"};
    struct pf__store *st = NULL;
    char rel[PATH_BUF], db[PATH_BUF];

    snprintf(db, sizeof(db), "%s/pfetch.db", dir);
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_FLAT, db), 0);
    CHECK_EQ(pf__store_reserve(st, urls[0], NULL), 0);
    CHECK_EQ(pf__store_reserve(st, urls[1], "f5.txt.7"), 0); /* the log's */
    CHECK_EQ(pf__store_reserve(st, urls[2], NULL), 0);
    CHECK_EQ(pf__store_reserve(st, urls[3], "../etc"), 0);    /* unsafe */
    CHECK_EQ(pf__store_reserve(st, urls[4], "pfetch.db"), 0); /* the log */
    CHECK_EQ(pf__store_reserve(st, urls[5], "f5.txt"), 0);    /* taken */
    CHECK_EQ(pf__store_reserve(st, urls[6], "a/b"), 0);
    CHECK_EQ(pf__store_reserve(st, urls[0], "x"), 0); /* once only */
    /* Saved in reverse order, named in the order of acceptance. */
    CHECK_EQ(save(st, urls[6], NULL, "7", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "f5.txt.5");
    CHECK_EQ(save(st, urls[5], NULL, "6", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "f5.txt.4");
    CHECK_EQ(save(st, urls[4], NULL, "5", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "f5.txt.3");
    CHECK_EQ(save(st, urls[3], NULL, "4", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "f5.txt.2");
    CHECK_EQ(save(st, urls[2], NULL, "3", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "f5.txt.1");
    CHECK_EQ(save(st, urls[1], NULL, "2", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "f5.txt.7");
    CHECK_EQ(save(st, urls[0], NULL, "1", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "f5.txt");
    CHECK_STR(slurp(dir, "f5.txt"), "1");
    CHECK_STR(slurp(dir, "f5.txt.7"), "2");
    /* A server's name wins over a reserved one, not over the log's. */
    CHECK_EQ(pf__store_reserve(st, "http://h/get?a", NULL), 0);
    CHECK_EQ(pf__store_reserve(st, "http://h/get?b", "kept.bin"), 0);
    CHECK_EQ(save(st, "http://h/get?a", "attachment; filename=f5.txt", "a", rel,
                  sizeof(rel)),
             0);
    CHECK_STR(rel, "f5.txt.6");
    CHECK_EQ(save(st, "http://h/get?b", "attachment; filename=other.bin", "b",
                  rel, sizeof(rel)),
             0);
    CHECK_STR(rel, "kept.bin");
    /* A URL never reserved is named when it is saved, as before. */
    CHECK_EQ(save(st, "http://h/get", NULL, "c", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "get.1");
    pf__store_close(st);

    /* The tree layout reserves nothing. */
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__store_reserve(st, "http://h/a", "zzz"), 0);
    CHECK_EQ(save(st, "http://h/a", NULL, "a", rel, sizeof(rel)), 0);
    CHECK_STR(rel, "h/a");
    pf__store_close(st);
}

static void test_flat_reserved(void)
{
    in_scratch(flat_reserved_body);
}

/* PF__SINK_RESUME_ONLY opens a .part that is there, and nothing else. */
static void resume_only_body(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk;

    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(
        pf__sink_open(st, &sk, "http://h/r", NULL, NULL, PF__SINK_RESUME_ONLY),
        1);
    pf__sink_free(&sk);
    CHECK_EQ(kind(dir, "h/r.part"), 0);
    /* Nothing was claimed: a directory may still take the name. */
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/r/x", NULL, NULL, 0), 0);
    CHECK_STR(sk.relpath, "h/r/x");
    CHECK_EQ(pf__sink_write(&sk, "abc", 3), 0);
    pf__sink_abort(&sk, 1); /* interrupted: the .part stays */
    pf__sink_free(&sk);
    pf__store_close(st);
    CHECK_EQ(pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL), 0);
    CHECK_EQ(pf__sink_open(st, &sk, "http://h/r/x", NULL, NULL,
                           PF__SINK_RESUME_ONLY),
             0);
    CHECK_EQ(sk.offset, 3);
    CHECK_EQ(pf__sink_commit(&sk), 0);
    pf__sink_free(&sk);
    CHECK_STR(slurp(dir, "h/r/x"), "abc");
    pf__store_close(st);
}

static void test_resume_only(void)
{
    in_scratch(resume_only_body);
}

/* One pass of everything that allocates; 0 when all of it succeeded. */
static int oom_pass(const char *dir)
{
    struct pf__store *st = NULL;
    struct pf__sink sk, sk2;
    char *out = NULL;
    int rc;

    rc = pf__name_tree_path("http://h:81/a/%41/b?q=/", &out);
    if (rc < 0)
        return rc;
    pf__free(out);
    rc = pf__name_flat("http://h/a", "inline; filename*=UTF-8''%41", &out);
    if (rc < 0)
        return rc;
    pf__free(out);
    rc = pf__name_parse_content_disposition("a; filename=\"x\"", &out);
    if (rc < 0)
        return rc;
    pf__free(out);
    rc = pf__store_open(&st, dir, PF_LAYOUT_TREE, NULL);
    if (rc < 0)
        return rc;
    rc = pf__sink_open(st, &sk, "http://h/d/e/f", NULL, NULL, 0);
    if (rc == 0) {
        rc = pf__sink_open(st, &sk2, "http://h/d/e/f", NULL, NULL, 0);
        if (rc == 0) {
            rc = pf__sink_commit(&sk2);
            pf__sink_free(&sk2);
        } else {
            pf__sink_free(&sk2);
        }
        pf__sink_abort(&sk, 0);
    }
    pf__sink_free(&sk);
    if (rc == 0) {
        rc = pf__sink_open(st, &sk, "http://h/s", "http://h/s/", NULL, 0);
        if (rc == 0)
            rc = pf__sink_commit(&sk);
        pf__sink_free(&sk);
    }
    pf__store_close(st);
    if (rc < 0)
        return rc;
    rc = pf__store_open(&st, dir, PF_LAYOUT_FLAT, NULL);
    if (rc < 0)
        return rc;
    rc = pf__store_reserve(st, "http://h/x?1", NULL);
    if (rc == 0)
        rc = pf__store_reserve(st, "http://h/x?2", "x.5");
    if (rc == 0)
        rc = pf__store_reserve(st, "http://h/x?3", NULL);
    if (rc == 0) {
        rc = pf__sink_open(st, &sk, "http://h/x?3", NULL, NULL, 0);
        if (rc == 0)
            rc = pf__sink_commit(&sk);
        pf__sink_free(&sk);
    }
    pf__store_close(st);
    return rc;
}

static void oom_body(const char *dir)
{
    char sub[PATH_BUF];
    long n;
    int rc = -1;

    for (n = 1; n < 1000 && rc != 0; n++) {
        snprintf(sub, sizeof(sub), "%s/%ld", dir, n);
        pf__malloc_fail_at(n);
        rc = oom_pass(sub);
        pf__malloc_fail_at(0);
        if (rc != 0 && rc != PF_ENOMEM)
            fprintf(stderr, "allocation %ld: %d\n", n, rc);
        CHECK(rc == 0 || rc == PF_ENOMEM);
    }
    CHECK_EQ(rc, 0);
    CHECK(n > 10);
}

static void test_oom(void)
{
    in_scratch(oom_body);
}

/* Inputs the fuzzer once found troublesome, and its seeds' shapes. */
static void test_fuzz_regressions(void)
{
    static const char *const inputs[] = {
        "http://h/%",
        "http://h/%%",
        "http://h/%2",
        "http://@/",
        "http://[/",
        "http://[]/",
        "http://h:/",
        "http://h/\xff\xfe/..",
        "http://h/a?\xC3",
        "http://h/%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9",
        "filename*=UTF-8'",
        "filename*=UTF-8''%",
        "filename*=UTF-8''%4",
        "filename=\"\\",
        "filename=\"a\\",
        "; ; =",
    };
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(inputs); i++) {
        char *out = NULL;

        if (pf__name_tree_path(inputs[i], &out) == 0) {
            CHECK(safe_path(out, 0));
            pf__free(out);
        }
        out = NULL;
        if (pf__name_flat(inputs[i], inputs[i], &out) == 0) {
            CHECK(safe_path(out, 1));
            pf__free(out);
        }
        out = NULL;
        CHECK_EQ(pf__name_parse_content_disposition(inputs[i], &out), 0);
        CHECK(out == NULL || safe_path(out, 1));
        pf__free(out);
    }
}

TEST_MAIN(TEST(test_tree_table), TEST(test_tree_bad_urls),
          TEST(test_long_names), TEST(test_sanitize), TEST(test_flat_names),
          TEST(test_content_disposition), TEST(test_commit), TEST(test_abort),
          TEST(test_empty_body), TEST(test_resume), TEST(test_truncate),
          TEST(test_symlinks), TEST(test_special_part_files),
          TEST(test_clash_file_then_dir), TEST(test_clash_dir_then_file),
          TEST(test_duplicates), TEST(test_many_duplicates),
          TEST(test_part_names), TEST(test_long_part_names),
          TEST(test_db_names), TEST(test_db_in_subdir), TEST(test_dir_cache),
          TEST(test_store_open), TEST(test_disk_full),
          TEST(test_slash_redirect), TEST(test_slash_sinks),
          TEST(test_flat_reserved), TEST(test_resume_only), TEST(test_oom),
          TEST(test_fuzz_regressions), TEST(test_sha256), TEST(test_fit),
          TEST(test_long_path))
