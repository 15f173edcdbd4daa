/*
 * sitemap.c -- a sitemap's URLs (see sitemap.h), read with libxml2's
 * XML reader: it pulls one node at a time from a stream, so a 50 MiB
 * sitemap never becomes a tree, and memory stays bounded by the longest
 * <loc> (LOC_MAX) plus the list of URLs found.
 *
 * It owns the shape of a sitemap (which <loc> counts) and the caps of
 * one read; it never touches the network, never loads a DTD or an
 * external entity (the reader runs with XML_PARSE_NONET and without
 * XML_PARSE_NOENT or XML_PARSE_DTDLOAD), never prints (libxml2's errors
 * go to a no-op handler, the thread's own put back afterwards), and
 * keeps no state between calls.
 *
 * Compression: libxml2 reads a file through its own input layer, which
 * opens gzip (and xz) files with zlib and decompresses them as it reads,
 * and reads any other file as it is.  The file is named to it as
 * /proc/self/fd/N, the very file the caller opened (with O_NOFOLLOW):
 * no second lookup of its path.  The byte cap is on what the parser has
 * consumed, after decompression.
 */
#include "sitemap.h"

#include <stdio.h>
#include <string.h>

#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlversion.h>

#include "url.h"
#include "util.h"

/* A <loc> longer than this is no URL we could fetch: skipped. */
#define LOC_MAX (64 * 1024)

#define READER_OPTIONS                                                         \
    (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |               \
     XML_PARSE_COMPACT)

#if LIBXML_VERSION >= 21200
static void on_serror(void *ctx, const xmlError *e)
#else
static void on_serror(void *ctx, xmlErrorPtr e)
#endif
{
    (void)ctx;
    (void)e;
}

/* One read's state. */
struct walk {
    struct pf__links *out;
    struct pf__sitemap *info;
    struct pf__urlres res;
    struct pf__buf loc;      /* the text of the <loc> being read */
    struct pf__buf url;      /* its URL */
    const char *parent_name; /* "url" or "sitemap": the <loc>'s parent */
    int parent_ok;           /* in such a parent, at depth 1 */
    int in_loc;              /* in a <loc> we take, at depth 2 */
    size_t nlocs;            /* <loc>s taken */
};

static int name_is(const xmlChar *name, const char *want)
{
    return name != NULL && strcmp((const char *)name, want) == 0;
}

/* A <loc> has ended: its text, trimmed, becomes a URL. */
static int loc_done(struct walk *w)
{
    const char *p = w->loc.data;
    size_t n = w->loc.len;
    int rc;

    w->nlocs++;
    if (n > LOC_MAX)
        return 0;
    while (n > 0 && pf__is_space((unsigned char)*p)) {
        p++;
        n--;
    }
    while (n > 0 && pf__is_space((unsigned char)p[n - 1]))
        n--;
    if (n == 0)
        return 0;
    w->url.len = 0;
    rc = pf__url_resolve(&w->res, p, n, &w->url);
    if (rc == PF_EURL || w->url.data == NULL)
        return 0;
    if (rc == 0)
        rc = pf__links_add(w->out, w->url.data, w->url.len, PF__LINK_PAGE);
    return rc < 0 ? rc : 0;
}

/* The root element: 0, or 1 when it is no sitemap. */
static int root(struct walk *w, const xmlChar *name)
{
    w->info->index = name_is(name, "sitemapindex");
    if (!w->info->index && !name_is(name, "urlset")) {
        w->info->malformed = 1;
        return 1;
    }
    w->parent_name = w->info->index ? "sitemap" : "url";
    return 0;
}

/*
 * One element start: 0 to go on, 1 to stop (a cap, or no sitemap).  A
 * <loc> past the cap is seen before it is stopped at, so too_many says
 * that one was really ignored.
 */
static int element(struct walk *w, xmlTextReaderPtr r, int depth)
{
    const xmlChar *name = xmlTextReaderConstLocalName(r);

    if (depth == 0)
        return root(w, name);
    if (depth == 1) {
        w->parent_ok = name_is(name, w->parent_name);
        return 0;
    }
    if (depth != 2 || !w->parent_ok || !name_is(name, "loc"))
        return 0;
    if (w->nlocs == PF__SITEMAP_MAX_URLS) {
        w->info->too_many = 1;
        return 1;
    }
    if (xmlTextReaderIsEmptyElement(r) == 1) {
        w->nlocs++;
        return 0;
    }
    w->in_loc = 1;
    w->loc.len = 0;
    return 0;
}

/* Text inside a <loc>, kept up to LOC_MAX + 1 bytes (then it is skipped). */
static int text(struct walk *w, xmlTextReaderPtr r)
{
    const xmlChar *v = xmlTextReaderConstValue(r);
    size_t n = v != NULL ? strlen((const char *)v) : 0;

    if (w->loc.len > LOC_MAX)
        return 0;
    if (n > LOC_MAX + 1 - w->loc.len)
        n = LOC_MAX + 1 - w->loc.len;
    return pf__buf_append(&w->loc, (const char *)v, n);
}

static int walk(struct walk *w, xmlTextReaderPtr r)
{
    int ret = 0, rc = 0;

    while (rc == 0 && (ret = xmlTextReaderRead(r)) == 1) {
        int type = xmlTextReaderNodeType(r);
        int depth = xmlTextReaderDepth(r);

        if (xmlTextReaderByteConsumed(r) > PF__SITEMAP_MAX_BYTES) {
            w->info->too_big = 1;
            break;
        }
        if (type == XML_READER_TYPE_ELEMENT) {
            if (element(w, r, depth) != 0)
                break;
        } else if (w->in_loc &&
                   (type == XML_READER_TYPE_TEXT ||
                    type == XML_READER_TYPE_CDATA ||
                    type == XML_READER_TYPE_WHITESPACE ||
                    type == XML_READER_TYPE_SIGNIFICANT_WHITESPACE)) {
            rc = text(w, r);
        } else if (w->in_loc && type == XML_READER_TYPE_END_ELEMENT &&
                   depth == 2) {
            w->in_loc = 0;
            rc = loc_done(w);
        }
    }
    if (rc == 0 && ret < 0)
        w->info->malformed = 1;
    return rc;
}

int pf__sitemap_read_fd(int fd, const char *base_url, struct pf__links *out,
                        struct pf__sitemap *info)
{
    xmlStructuredErrorFunc saved_handler = xmlStructuredError;
    void *saved_context = xmlStructuredErrorContext;
    xmlTextReaderPtr r;
    struct walk w;
    char path[64];
    int rc;

    memset(info, 0, sizeof(*info));
    memset(&w, 0, sizeof(w));
    w.out = out;
    w.info = info;
    rc = pf__urlres_init(&w.res);
    if (rc == 0 && base_url != NULL &&
        pf__urlres_set_base(&w.res, base_url) == PF_ENOMEM)
        rc = PF_ENOMEM;
    if (rc < 0) {
        pf__urlres_free(&w.res);
        return rc;
    }
    snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    /* Errors with no reader yet go to the thread's handler: silenced. */
    xmlSetStructuredErrorFunc(NULL, on_serror);
    r = xmlReaderForFile(path, NULL, READER_OPTIONS);
    if (r != NULL) {
        xmlTextReaderSetStructuredErrorHandler(r, on_serror, NULL);
        rc = walk(&w, r);
        xmlFreeTextReader(r);
    } else {
        info->malformed = 1;
    }
    xmlSetStructuredErrorFunc(saved_context, saved_handler);
    pf__urlres_free(&w.res);
    pf__buf_free(&w.loc);
    pf__buf_free(&w.url);
    return rc;
}
