/*
 * test_sitemap.c -- the sitemap reader on its own: a urlset's <loc>s
 * (trimmed, resolved against the sitemap's URL, normalised, each once, in
 * order), an index's sitemaps, what is not taken (an image extension's
 * <loc>, a <loc> outside <url>, mailto:, empty ones), entities and CDATA,
 * gzip files, files that are no sitemap or break off, and the 50,000
 * cap (a <loc> past it is seen, so too_many means one was ignored).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sitemap.h"
#include "test.h"
#include "util.h"

#define BASE "http://a.test/maps/sitemap.xml"

/* A temporary file holding data[0..n), open for reading; -1 on error. */
static int file_of(const void *data, size_t n)
{
    char path[] = "/tmp/test_sitemap_XXXXXX";
    int fd = mkstemp(path);

    if (fd < 0)
        return -1;
    unlink(path);
    if (write(fd, data, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read text as a sitemap; its URLs joined by spaces into out. */
static int read_text(const char *text, struct pf__sitemap *info, char *out,
                     size_t size)
{
    struct pf__links links;
    int fd = file_of(text, strlen(text));
    size_t i, off = 0;
    int rc;

    if (fd < 0)
        return -1;
    pf__links_init(&links);
    rc = pf__sitemap_read_fd(fd, BASE, &links, info);
    close(fd);
    out[0] = '\0';
    for (i = 0; i < links.n && off < size; i++)
        off += (size_t)snprintf(out + off, size - off, "%s%s", i ? " " : "",
                                pf__links_url(&links, i));
    pf__links_free(&links);
    return rc;
}

static void test_urlset(void)
{
    struct pf__sitemap info;
    char got[1024];

    CHECK_EQ(read_text("<?xml version='1.0'?>\n"
                       "<urlset xmlns='http://www.sitemaps.org/schemas/"
                       "sitemap/0.9' xmlns:image='http://www.google.com/"
                       "schemas/sitemap-image/1.1'>\n"
                       "<url><loc>  http://a.test/One </loc>"
                       "<image:image><image:loc>http://a.test/i.png"
                       "</image:loc></image:image></url>\n"
                       "<url><loc>../two.html#frag</loc></url>\n"
                       "<url><loc>http://A.test:80/One</loc></url>\n"
                       "<url><loc><![CDATA[/three?a=1&b=2]]></loc></url>\n"
                       "<url><loc>/four?x=1&amp;y=2</loc></url>\n"
                       "<url><loc>mailto:x@a.test</loc><loc></loc></url>\n"
                       "<loc>http://a.test/not-in-url</loc>\n"
                       "<url><lastmod>2024-01-01</lastmod></url>\n"
                       "</urlset>\n",
                       &info, got, sizeof(got)),
             0);
    CHECK_STR(got, "http://a.test/One http://a.test/two.html "
                   "http://a.test/three?a=1&b=2 http://a.test/four?x=1&y=2");
    CHECK(!info.index && !info.too_many && !info.too_big && !info.malformed);
}

static void test_index(void)
{
    struct pf__sitemap info;
    char got[1024];

    CHECK_EQ(read_text("<sitemapindex xmlns='http://www.sitemaps.org/"
                       "schemas/sitemap/0.9'>"
                       "<sitemap><loc>/maps/a.xml</loc></sitemap>"
                       "<sitemap><loc>http://b.test/b.xml.gz</loc>"
                       "<lastmod>2024-01-01</lastmod></sitemap>"
                       "<url><loc>/not-a-sitemap.html</loc></url>"
                       "</sitemapindex>",
                       &info, got, sizeof(got)),
             0);
    CHECK_STR(got, "http://a.test/maps/a.xml http://b.test/b.xml.gz");
    CHECK(info.index && !info.malformed);
}

static void test_not_a_sitemap(void)
{
    struct pf__sitemap info;
    char got[256];

    CHECK_EQ(read_text("<html><body><url><loc>/x</loc></url></body></html>",
                       &info, got, sizeof(got)),
             0);
    CHECK_STR(got, "");
    CHECK(info.malformed);
    CHECK_EQ(read_text("", &info, got, sizeof(got)), 0);
    CHECK(info.malformed);
    CHECK_EQ(read_text("plain text, no XML", &info, got, sizeof(got)), 0);
    CHECK(info.malformed);
}

/* Broken off: the <loc>s before the fault are kept. */
static void test_broken_off(void)
{
    struct pf__sitemap info;
    char got[256];

    CHECK_EQ(read_text("<urlset><url><loc>/a</loc></url><url><loc>/b</lo",
                       &info, got, sizeof(got)),
             0);
    CHECK_STR(got, "http://a.test/a");
    CHECK(info.malformed);
}

/* No external entity is read, no DTD loaded: the entity stays empty. */
static void test_no_external_entities(void)
{
    struct pf__sitemap info;
    char got[256];

    CHECK_EQ(read_text("<?xml version='1.0'?>\n<!DOCTYPE urlset [\n"
                       "<!ENTITY x SYSTEM 'file:///etc/hostname'>]>\n"
                       "<urlset><url><loc>/p/&x;</loc></url></urlset>",
                       &info, got, sizeof(got)),
             0);
    CHECK_STR(got, "http://a.test/p/");
}

static void test_gzip(void)
{
    /* gzip of "<urlset><url><loc>/gz</loc></url></urlset>", made with
       Python's gzip.compress(data, mtime=0). */
    static const unsigned char gz[] = {
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03,
        0xb3, 0x29, 0x2d, 0xca, 0x29, 0x4e, 0x2d, 0xb1, 0xb3, 0x01,
        0xd2, 0x76, 0x36, 0x39, 0xf9, 0xc9, 0x76, 0xfa, 0xe9, 0x55,
        0x36, 0xfa, 0x20, 0x86, 0x8d, 0x3e, 0x58, 0x4c, 0x1f, 0xaa,
        0x02, 0x00, 0xa5, 0x0b, 0x3d, 0x7f, 0x2a, 0x00, 0x00, 0x00};
    struct pf__links links;
    struct pf__sitemap info;
    int fd = file_of(gz, sizeof(gz));

    CHECK(fd >= 0);
    pf__links_init(&links);
    CHECK_EQ(pf__sitemap_read_fd(fd, BASE, &links, &info), 0);
    close(fd);
    CHECK_EQ(links.n, 1);
    CHECK_STR(pf__links_url(&links, 0), "http://a.test/gz");
    CHECK(!info.malformed);
    pf__links_free(&links);
}

/* PF__SITEMAP_MAX_URLS <loc>s: all taken; one more: too_many. */
static void test_url_cap(void)
{
    struct pf__buf b = {NULL, 0, 0};
    struct pf__links links;
    struct pf__sitemap info;
    char loc[64];
    int fd, i;

    CHECK_EQ(pf__buf_append(&b, "<urlset>", 8), 0);
    for (i = 0; i <= PF__SITEMAP_MAX_URLS; i++) {
        int n = snprintf(loc, sizeof(loc), "<url><loc>/%d</loc></url>\n", i);

        CHECK_EQ(pf__buf_append(&b, loc, (size_t)n), 0);
    }
    CHECK_EQ(pf__buf_append(&b, "</urlset>", 9), 0);
    fd = file_of(b.data, b.len);
    pf__buf_free(&b);
    CHECK(fd >= 0);
    pf__links_init(&links);
    CHECK_EQ(pf__sitemap_read_fd(fd, BASE, &links, &info), 0);
    close(fd);
    CHECK_EQ(links.n, PF__SITEMAP_MAX_URLS);
    CHECK_STR(pf__links_url(&links, PF__SITEMAP_MAX_URLS - 1),
              "http://a.test/49999");
    CHECK(info.too_many && !info.malformed);
    pf__links_free(&links);
}

TEST_MAIN(TEST(test_urlset), TEST(test_index), TEST(test_not_a_sitemap),
          TEST(test_broken_off), TEST(test_no_external_entities),
          TEST(test_gzip), TEST(test_url_cap))
