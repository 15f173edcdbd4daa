/*
 * parse.c -- link extraction: the URLs an HTML page or a stylesheet refers
 * to, resolved, normalised and deduplicated, each marked as a page link or
 * a page requisite.  HTML goes through html.c's streaming tokenizer (the
 * HTML standard's tokenizer, no tree), or, for a UTF-16 page and for the
 * tests that compare the two (pf__parse_*_xml), through libxml2's HTML
 * parser in SAX mode; CSS (stylesheets, <style>, style="") through css.c's
 * scanner; what they find goes into the caller's list (links.c).  Both
 * HTML parsers feed the same rules (start_element, end_element).
 *
 * This module owns the rules of what a link is (which element, which
 * attribute, which kind), how a reference becomes a URL (with url.c's
 * resolver), sniffing, and the driving of a parse.  It must never touch
 * the network, never print (libxml2's error and warning handlers are
 * no-ops), never keep state between calls or change libxml2's global
 * settings (every call has its own parser context and curl URL handle,
 * so parser threads share nothing; the one exception, libxml2's
 * per-thread error handler, is set for a libxml2 parse and put back), and
 * never let memory grow with the size of a document.  The caps that keep
 * it bounded:
 *
 *   - input is read and given to the parser in chunks of CHUNK (64 KiB);
 *   - the tokenizer keeps only the tag being read, up to PF__HTML_TAG_MAX
 *     (8 MiB; attributes past it are dropped, the parse goes on);
 *   - libxml2 keeps what it has not parsed yet, which is little, except
 *     when it waits for the end of a construct (an attribute value with no
 *     closing quote, a comment with no end): past BACKLOG_MAX (8 MiB)
 *     waiting, the parse stops there, the links found so far kept.
 *     libxml2 2.9 reads tag and attribute names up to 100 bytes
 *     (HTML_PARSER_BUFFER_SIZE) and copies an attribute value whole, so
 *     its own memory is bounded by this backlog too;
 *   - CSS is scanned as it streams, keeping at most the one URL being
 *     read (css.c), so a <style> block or a stylesheet may be any size;
 *   - links waiting for a <base> (those of the <head>) are kept up to
 *     PENDING_MAX bytes;
 *   - at most LINKS_MAX (100,000) links per call; the rest of a document
 *     that has more is not parsed.
 *
 * Charset: the tokenizer reads a UTF-8 BOM and the first <meta> that
 * declares a charset, and converts attribute values to UTF-8 (iconv); a
 * page that declares none is read as UTF-8, and a value that is not UTF-8
 * as windows-1252.  libxml2 does the same for its pages (but reads an
 * undeclared page as Latin-1 throughout).  The URLs come out
 * percent-encoded UTF-8 (browsers use the page's charset for the query of
 * a non-UTF-8 page: we do not).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include "css.h"
#include "html.h"
#include "links.h"
#include "parse.h"
#include "url.h"
#include "util.h"

#define CHUNK (64 * 1024)
#define BACKLOG_MAX (8 * 1024 * 1024)
#define PENDING_MAX (1024 * 1024)
#define LINKS_MAX 100000

/* Bytes read before an untyped body is sniffed (WHATWG reads 1445). */
#define SNIFF_MIN 1445

#define HTML_OPTIONS                                                           \
    (HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |              \
     HTML_PARSE_NOWARNING)

/* ------------------------------------------------------------------ */
/* One parse                                                           */
/* ------------------------------------------------------------------ */

struct parse {
    struct pf__links *out;
    size_t added;           /* links this call added */
    int full;               /* LINKS_MAX reached */
    int err;                /* PF_ENOMEM: stop */
    int have_base;          /* a <base href> was seen */
    int in_head;            /* links wait, in pending, for a <base> */
    int in_style;           /* in a <style> element */
    int in_noscript;        /* in a <noscript> of the <head> (tokenizer) */
    int body_bg;            /* a <body background> was taken */
    struct pf__buf pending; /* waiting links: kind byte, text, NUL */
    struct pf__urlres res;
    struct pf__buf url; /* the link being added */
    struct pf__css css;
    struct pf__html html; /* the tokenizer, unless libxml2 parses */
    htmlParserCtxtPtr ctxt;
    char *buf; /* CHUNK bytes, for reading an fd */
};

static void fail(struct parse *st, int rc)
{
    if (st->err == 0)
        st->err = rc;
    if (st->ctxt != NULL)
        xmlStopParser(st->ctxt);
}

/*
 * Resolve ref (n bytes) and add it.  A reference to a fragment of this
 * document ("#top") names no other resource and is skipped, unless a
 * <base> makes it point elsewhere.
 */
static void add_now(struct parse *st, const char *ref, size_t n, int kind)
{
    size_t i = 0;
    int rc;

    if (st->err != 0 || st->full)
        return;
    while (i < n && (unsigned char)ref[i] <= 0x20)
        i++;
    if (i == n || (ref[i] == '#' && !st->have_base))
        return;
    rc = pf__url_resolve(&st->res, ref, n, &st->url);
    if (rc == PF_EURL)
        return;
    if (rc == 0)
        rc = pf__links_add(st->out, st->url.data, st->url.len, kind);
    if (rc < 0) {
        fail(st, rc);
        return;
    }
    if (rc == 1 && ++st->added >= LINKS_MAX) {
        st->full = 1;
        if (st->ctxt != NULL)
            xmlStopParser(st->ctxt);
    }
}

/* Resolve and add the links that waited for a <base>; stop waiting. */
static void flush_pending(struct parse *st)
{
    size_t i = 0;

    st->in_head = 0;
    while (i < st->pending.len) {
        const char *p = st->pending.data + i + 1;
        size_t n = strlen(p);

        add_now(st, p, n, st->pending.data[i]);
        i += n + 2;
    }
    pf__buf_free(&st->pending);
}

/* A reference found: added now, or kept until the <base> is known. */
static void add_ref(struct parse *st, const char *ref, size_t n, int kind)
{
    char k = (char)kind;
    int rc;

    if (!st->in_head) {
        add_now(st, ref, n, kind);
        return;
    }
    if (st->err != 0 || memchr(ref, '\0', n) != NULL)
        return;
    rc = pf__buf_append(&st->pending, &k, 1);
    if (rc == 0)
        rc = pf__buf_append(&st->pending, ref, n);
    if (rc == 0)
        rc = pf__buf_append(&st->pending, "", 1);
    if (rc < 0)
        fail(st, rc);
    else if (st->pending.len > PENDING_MAX)
        flush_pending(st);
}

/* ------------------------------------------------------------------ */
/* CSS                                                                 */
/* ------------------------------------------------------------------ */

/* The scanner's emit: a reference in CSS.  Nonzero once the parse stops. */
static int css_ref(const char *ref, size_t n, int kind, void *userdata)
{
    struct parse *st = userdata;

    add_ref(st, ref, n, kind);
    return st->err != 0 || st->full;
}

/* n bytes of CSS, unless the parse has stopped. */
static void css_feed(struct parse *st, const char *text, size_t n)
{
    if (st->err != 0 || st->full)
        return;
    pf__css_feed(&st->css, text, n);
    if (st->css.err != 0)
        fail(st, st->css.err);
}

/* The end of a piece of CSS: what an unfinished token holds counts. */
static void css_finish(struct parse *st)
{
    pf__css_finish(&st->css);
    if (st->css.err != 0)
        fail(st, st->css.err);
}

/* A whole piece of CSS: a style="" attribute. */
static void css_text(struct parse *st, const char *text)
{
    pf__css_reset(&st->css);
    css_feed(st, text, strlen(text));
    css_finish(st);
}

/* ------------------------------------------------------------------ */
/* HTML                                                                */
/* ------------------------------------------------------------------ */

static int is_html_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* 1 if the space-separated token list s holds tok (ASCII case-blind). */
static int has_token(const char *s, const char *tok)
{
    size_t n = strlen(tok);

    while (*s != '\0') {
        size_t len;

        while (is_html_space((unsigned char)*s))
            s++;
        len = 0;
        while (s[len] != '\0' && !is_html_space((unsigned char)s[len]))
            len++;
        if (len == n && strncasecmp(s, tok, n) == 0)
            return 1;
        s += len;
    }
    return 0;
}

/*
 * What a <link> is for, by its rel: -1 for rels that name no resource to
 * fetch (preconnect, dns-prefetch: an origin only).
 */
static int link_kind(const char *rel)
{
    static const char *const req[] = {
        "stylesheet", "icon",     "apple-touch-icon",
        "preload",    "prefetch", "modulepreload",
        "mask-icon",  "manifest", "apple-touch-icon-precomposed"};
    size_t i;

    if (rel == NULL)
        return PF__LINK_PAGE;
    for (i = 0; i < PF__ARRAY_LEN(req); i++) {
        if (has_token(rel, req[i]))
            return PF__LINK_REQ;
    }
    if (has_token(rel, "preconnect") || has_token(rel, "dns-prefetch"))
        return -1;
    return PF__LINK_PAGE;
}

/*
 * The image candidates of a srcset: "url [descriptor], url ...", read as
 * the HTML standard's algorithm does (a URL ends at white space; one that
 * ends with commas loses them; descriptors run to the next comma outside
 * parentheses).
 */
static void add_srcset(struct parse *st, const char *s)
{
    const char *p = s;

    for (;;) {
        const char *u;
        size_t n;
        int paren = 0;

        while (is_html_space((unsigned char)*p) || *p == ',')
            p++;
        if (*p == '\0')
            return;
        u = p;
        while (*p != '\0' && !is_html_space((unsigned char)*p))
            p++;
        n = (size_t)(p - u);
        if (u[n - 1] == ',') {
            while (n > 0 && u[n - 1] == ',')
                n--;
        } else {
            while (*p != '\0' && (paren || *p != ',')) {
                if (*p == '(')
                    paren = 1;
                else if (*p == ')')
                    paren = 0;
                p++;
            }
        }
        if (n > 0)
            add_ref(st, u, n, PF__LINK_REQ);
    }
}

/*
 * <meta http-equiv=refresh content="5; url=...">, read as the HTML
 * standard's declarative refresh does: a time, then ';' or ',', then the
 * URL, with or without "url=", in quotes or not.
 */
static void add_refresh(struct parse *st, const char *s)
{
    const char *p = s;
    const char *u;
    size_t n;

    while (is_html_space((unsigned char)*p))
        p++;
    if (!((*p >= '0' && *p <= '9') || *p == '.'))
        return;
    while ((*p >= '0' && *p <= '9') || *p == '.')
        p++;
    while (is_html_space((unsigned char)*p))
        p++;
    if (*p == ';' || *p == ',')
        p++;
    while (is_html_space((unsigned char)*p))
        p++;
    if (strncasecmp(p, "url", 3) == 0) {
        const char *q = p + 3;

        while (is_html_space((unsigned char)*q))
            q++;
        if (*q == '=') {
            q++;
            while (is_html_space((unsigned char)*q))
                q++;
            p = q;
        }
    }
    u = p;
    if (*p == '"' || *p == '\'') {
        const char *end = strchr(p + 1, *p);

        u = p + 1;
        n = end != NULL ? (size_t)(end - u) : strlen(u);
    } else {
        n = strlen(u);
    }
    if (n > 0)
        add_ref(st, u, n, PF__LINK_PAGE);
}

/* The attributes an element may have links in. */
struct attrs {
    const char *href, *src, *srcset, *data, *poster, *background;
    const char *rel, *type, *http_equiv, *content, *style;
};

/*
 * Attribute k (a lowercased name) with value v, if it is one that matters.
 * The first of a name counts, as the HTML standard says (libxml2 drops
 * the others itself).
 */
static void set_attr(struct attrs *a, const char *k, const char *v)
{
    const char **slot = NULL;

    switch (k[0]) {
    case 'b':
        if (strcmp(k, "background") == 0)
            slot = &a->background;
        break;
    case 'c':
        if (strcmp(k, "content") == 0)
            slot = &a->content;
        break;
    case 'd':
        if (strcmp(k, "data") == 0)
            slot = &a->data;
        break;
    case 'h':
        if (strcmp(k, "href") == 0)
            slot = &a->href;
        else if (strcmp(k, "http-equiv") == 0)
            slot = &a->http_equiv;
        break;
    case 'p':
        if (strcmp(k, "poster") == 0)
            slot = &a->poster;
        break;
    case 'r':
        if (strcmp(k, "rel") == 0)
            slot = &a->rel;
        break;
    case 's':
        if (strcmp(k, "src") == 0)
            slot = &a->src;
        else if (strcmp(k, "srcset") == 0)
            slot = &a->srcset;
        else if (strcmp(k, "style") == 0)
            slot = &a->style;
        break;
    case 't':
        if (strcmp(k, "type") == 0)
            slot = &a->type;
        break;
    default:
        break;
    }
    if (slot != NULL && *slot == NULL)
        *slot = v;
}

static void read_attrs(struct attrs *a, const xmlChar **atts)
{
    size_t i;

    memset(a, 0, sizeof(*a));
    if (atts == NULL)
        return;
    for (i = 0; atts[i] != NULL; i += 2) {
        if (atts[i + 1] != NULL) /* NULL: an attribute without a value */
            set_attr(a, (const char *)atts[i], (const char *)atts[i + 1]);
    }
}

static void add_attr(struct parse *st, const char *v, int kind)
{
    if (v != NULL)
        add_ref(st, v, strlen(v), kind);
}

/* Elements of a <head>: until another comes, links wait for a <base>. */
static int is_head_element(const char *n)
{
    static const char *const head[] = {
        "html",   "head",  "title",    "meta",     "link",
        "script", "style", "noscript", "template", "base"};
    size_t i;

    for (i = 0; i < PF__ARRAY_LEN(head); i++) {
        if (strcmp(n, head[i]) == 0)
            return 1;
    }
    return 0;
}

/* <base href>: the first one counts; the links that waited follow it. */
static void take_base(struct parse *st, const char *href)
{
    int rc;

    if (st->have_base || href == NULL)
        return;
    st->have_base = 1;
    rc = pf__url_resolve(&st->res, href, strlen(href), &st->url);
    if (rc == 0)
        rc = pf__urlres_set_base(&st->res, st->url.data);
    if (rc == PF_ENOMEM)
        fail(st, rc);
    if (st->in_head)
        flush_pending(st);
}

/*
 * A start tag: its name lowercased, the attributes that matter decoded,
 * in UTF-8.  Whichever parser found it.
 */
static void start_element(struct parse *st, const char *n,
                          const struct attrs *a_)
{
    struct attrs a = *a_;

    if (st->err != 0 || st->full)
        return;
    if (st->in_head && !is_head_element(n))
        flush_pending(st);
    switch (n[0]) {
    case 'a':
        if (strcmp(n, "a") == 0 || strcmp(n, "area") == 0)
            add_attr(st, a.href, PF__LINK_PAGE);
        else if (strcmp(n, "audio") == 0)
            add_attr(st, a.src, PF__LINK_REQ);
        break;
    case 'b':
        if (strcmp(n, "base") == 0)
            take_base(st, a.href);
        else if (strcmp(n, "body") == 0 && !st->body_bg) {
            /* Another <body> only adds what the first did not have. */
            st->body_bg = a.background != NULL;
            add_attr(st, a.background, PF__LINK_REQ);
        }
        break;
    case 'e':
        if (strcmp(n, "embed") == 0)
            add_attr(st, a.src, PF__LINK_REQ);
        break;
    case 'f':
        if (strcmp(n, "frame") == 0)
            add_attr(st, a.src, PF__LINK_PAGE);
        break;
    case 'i':
        if (strcmp(n, "img") == 0) {
            add_attr(st, a.src, PF__LINK_REQ);
            if (a.srcset != NULL)
                add_srcset(st, a.srcset);
        } else if (strcmp(n, "iframe") == 0) {
            add_attr(st, a.src, PF__LINK_PAGE);
        } else if (strcmp(n, "input") == 0 && a.type != NULL &&
                   strcasecmp(a.type, "image") == 0) {
            add_attr(st, a.src, PF__LINK_REQ);
        }
        break;
    case 'l':
        if (strcmp(n, "link") == 0 && a.href != NULL) {
            int kind = link_kind(a.rel);

            if (kind >= 0)
                add_attr(st, a.href, kind);
        }
        break;
    case 'm':
        if (strcmp(n, "meta") == 0 && a.http_equiv != NULL &&
            a.content != NULL && strcasecmp(a.http_equiv, "refresh") == 0)
            add_refresh(st, a.content);
        break;
    case 'o':
        if (strcmp(n, "object") == 0)
            add_attr(st, a.data, PF__LINK_REQ);
        break;
    case 's':
        if (strcmp(n, "script") == 0) {
            add_attr(st, a.src, PF__LINK_REQ);
        } else if (strcmp(n, "source") == 0) {
            add_attr(st, a.src, PF__LINK_REQ);
            if (a.srcset != NULL)
                add_srcset(st, a.srcset);
        }
        break;
    case 't':
        if (strcmp(n, "track") == 0)
            add_attr(st, a.src, PF__LINK_REQ);
        break;
    case 'v':
        if (strcmp(n, "video") == 0) {
            add_attr(st, a.src, PF__LINK_REQ);
            add_attr(st, a.poster, PF__LINK_REQ);
        }
        break;
    default:
        break;
    }
    if (a.style != NULL)
        css_text(st, a.style);
    if (strcmp(n, "style") == 0) {
        st->in_style = 1;
        pf__css_reset(&st->css);
    }
}

/*
 * libxml2's startElement, on the parser thread: names come lowercased,
 * attribute values with entities decoded, in UTF-8.
 */
static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    struct attrs a;

    read_attrs(&a, atts);
    start_element(ctx, (const char *)name, &a);
}

/*
 * An end tag, whichever parser found it.  libxml2's end of the <head>
 * sends the links that waited; with the tokenizer they wait on, as the
 * HTML standard has a <base> after </head> go into the head and apply to
 * the whole document: the next element of the body or text sends them.
 */
static void end_element(struct parse *st, const char *n)
{
    if (st->in_style && strcmp(n, "style") == 0) {
        css_finish(st);
        st->in_style = 0;
    } else if (st->in_head && st->ctxt != NULL && strcmp(n, "head") == 0) {
        flush_pending(st);
    }
}

/* libxml2's endElement, on the parser thread. */
static void on_end(void *ctx, const xmlChar *name)
{
    end_element(ctx, (const char *)name);
}

/* libxml2's characters and cdataBlock: only <style>'s matter. */
static void on_text(void *ctx, const xmlChar *ch, int len)
{
    struct parse *st = ctx;

    if (st->in_style && len > 0)
        css_feed(st, (const char *)ch, (size_t)len);
}

/*
 * The tokenizer's tags.  What libxml2 reports as the end of an element is
 * here its end tag: the tokenizer has no tree, so an element closed by
 * another (</head> left out) is seen through start_element's flush.
 */
static int tok_tag(const struct pf__html_tag *t, void *userdata)
{
    struct parse *st = userdata;

    if (t->name_len == 8 && strcmp(t->name, "noscript") == 0)
        st->in_noscript = !t->end_tag && st->in_head;
    if (t->end_tag) {
        end_element(st, t->name);
    } else {
        struct attrs a;
        size_t i;

        memset(&a, 0, sizeof(a));
        for (i = 0; i < t->nattr; i++)
            set_attr(&a, t->attr[i].name, t->attr[i].value);
        start_element(st, t->name, &a);
    }
    st->html.want_data = st->in_head;
    return st->err != 0 || st->full;
}

/*
 * The tokenizer's text: a <style>'s, or text while links wait for a
 * <base>, which ends the <head> when it is not white space, except in a
 * <noscript> (raw text to a browser that runs scripts, as libxml2 also
 * has it).
 */
static int tok_text(const char *text, size_t n, int raw, void *userdata)
{
    struct parse *st = userdata;
    size_t i;

    if (raw) {
        if (st->in_style)
            css_feed(st, text, n);
    } else if (st->in_head && !st->in_noscript) {
        for (i = 0; i < n && is_html_space((unsigned char)text[i]); i++)
            ;
        if (i < n) {
            flush_pending(st);
            st->html.want_data = 0;
        }
    }
    return st->err != 0 || st->full;
}

/* libxml2's error and warning handlers: silence. */
static void on_error(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

#if LIBXML_VERSION >= 21200
static void on_serror(void *ctx, const xmlError *e)
#else
static void on_serror(void *ctx, xmlErrorPtr e)
#endif
{
    (void)ctx;
    (void)e;
}

/*
 * Read-only after initialisation, shared by every parse: libxml2 copies
 * it into each parser context.
 */
static htmlSAXHandler sax_handler = {
    .startElement = on_start,
    .endElement = on_end,
    .characters = on_text,
    .ignorableWhitespace = on_text,
    .cdataBlock = on_text,
    .warning = on_error,
    .error = on_error,
    .fatalError = on_error,
    .initialized = XML_SAX2_MAGIC,
    .serror = on_serror,
};

/* ------------------------------------------------------------------ */
/* Sniffing and types                                                  */
/* ------------------------------------------------------------------ */

/*
 * 1 if the first bytes look like HTML, after the WHATWG MIME sniffing
 * table: after a BOM and white space, a comment or one of these tags,
 * ending with white space or '>'.
 */
static int looks_like_html(const char *buf, size_t n)
{
    static const char *const tags[] = {"!doctype html",
                                       "html",
                                       "head",
                                       "script",
                                       "iframe",
                                       "h1",
                                       "div",
                                       "font",
                                       "table",
                                       "a",
                                       "style",
                                       "title",
                                       "b",
                                       "body",
                                       "br",
                                       "p",
                                       "meta",
                                       "link"};
    const unsigned char *p = (const unsigned char *)buf;
    size_t i = 0, k;

    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        i = 3;
    while (i < n && is_html_space(p[i]))
        i++;
    if (i >= n || p[i] != '<')
        return 0;
    i++;
    if (n - i >= 3 && memcmp(p + i, "!--", 3) == 0)
        return 1;
    for (k = 0; k < PF__ARRAY_LEN(tags); k++) {
        size_t len = strlen(tags[k]);

        if (n - i > len &&
            strncasecmp((const char *)p + i, tags[k], len) == 0 &&
            (is_html_space(p[i + len]) || p[i + len] == '>'))
            return 1;
    }
    return 0;
}

enum pf__doc_type pf__doc_type(const char *content_type)
{
    const char *p = content_type;
    size_t n;

    if (p == NULL)
        return PF__DOC_UNKNOWN;
    while (is_html_space((unsigned char)*p))
        p++;
    n = strcspn(p, "; \t\r\n\f");
    if (n == 0)
        return PF__DOC_UNKNOWN;
    if ((n == 9 && strncasecmp(p, "text/html", n) == 0) ||
        (n == 21 && strncasecmp(p, "application/xhtml+xml", n) == 0))
        return PF__DOC_HTML;
    if (n == 8 && strncasecmp(p, "text/css", n) == 0)
        return PF__DOC_CSS;
    return PF__DOC_OTHER;
}

/* ------------------------------------------------------------------ */
/* Driving a parse                                                     */
/* ------------------------------------------------------------------ */

/* Where the bytes come from: a file descriptor, or memory. */
struct source {
    int fd; /* -1: memory */
    const char *mem;
    size_t len, pos;
};

/*
 * The next piece of the document, at least want bytes unless the end
 * comes first (want <= CHUNK): *p and *n.  Returns 1, 0 at the end, or
 * PF_EIO (errno kept).
 */
static int source_next(struct parse *st, struct source *s, size_t want,
                       const char **p, size_t *n)
{
    size_t got = 0;

    if (s->fd < 0) {
        size_t left = s->len - s->pos;

        *n = left < CHUNK ? left : CHUNK;
        *p = s->mem + s->pos;
        s->pos += *n;
        return *n > 0;
    }
    do {
        ssize_t r = read(s->fd, st->buf + got, CHUNK - got);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return PF_EIO;
        if (r == 0)
            break;
        got += (size_t)r;
    } while (got < want);
    *p = st->buf;
    *n = got;
    return got > 0;
}

/* The encoding a BOM names, for libxml2 (which reads UTF-8's itself). */
static xmlCharEncoding bom_encoding(const char *p, size_t n)
{
    if (n >= 2 && (unsigned char)p[0] == 0xFE && (unsigned char)p[1] == 0xFF)
        return XML_CHAR_ENCODING_UTF16BE;
    if (n >= 2 && (unsigned char)p[0] == 0xFF && (unsigned char)p[1] == 0xFE)
        return XML_CHAR_ENCODING_UTF16LE;
    return XML_CHAR_ENCODING_NONE;
}

/*
 * libxml2 before 2.11 loses track of a quoted attribute value cut by the
 * end of a chunk: its push parser looks for the '>' that ends a start tag
 * from where the last look stopped, remembering that it was inside quotes
 * but not which quote, so it never finds the closing one and waits for
 * the '>' to the end of the document, all of which it then holds.  When
 * the last look stopped inside quotes (the flag it keeps in hasPErefs),
 * make the next one start again at the beginning of the tag.  That costs
 * a rescan of the tag per chunk, which only matters for an attribute
 * value of megabytes, and BACKLOG_MAX bounds that.
 */
static void fix_tag_lookup(htmlParserCtxtPtr ctxt)
{
#if LIBXML_VERSION < 21100
    if ((ctxt->hasPErefs & 1) != 0) {
        ctxt->hasPErefs &= ~1;
        ctxt->checkIndex = 0;
    }
#else
    (void)ctxt;
#endif
}

/*
 * libxml2's push parser (2.9) ends the document at the first thing after
 * </html> that is not a comment, where browsers, and the pull parser,
 * carry on as if it were inside <body>; pages with scripts or links pasted
 * after </html> are common enough.  When that happened, the rest is parsed
 * by a fresh context, at most RESTARTS_MAX times (each one needs another
 * </html>).  Only for input libxml2 did not convert from another encoding:
 * its leftover is UTF-8 while the bytes still to come would not be.
 */
#define RESTARTS_MAX 64

static htmlParserCtxtPtr restart_html(struct parse *st, htmlParserCtxtPtr ctxt,
                                      char **carry, const char **p, size_t *n)
{
    const xmlParserInput *in = ctxt->input;
    htmlParserCtxtPtr next;
    size_t left;

    if (ctxt->errNo != XML_ERR_DOCUMENT_END || in == NULL ||
        (in->buf != NULL && in->buf->encoder != NULL))
        return NULL;
    left = (size_t)(in->end - in->cur);
    pf__free(*carry);
    *carry = pf__malloc(left + 1);
    if (*carry == NULL)
        return NULL;
    memcpy(*carry, in->cur, left);
    next = htmlCreatePushParserCtxt(&sax_handler, st, NULL, 0, NULL,
                                    XML_CHAR_ENCODING_UTF8);
    if (next == NULL)
        return NULL;
    htmlCtxtUseOptions(next, HTML_OPTIONS);
    if (st->in_head)
        flush_pending(st);
    st->in_head = 0;
    st->ctxt = next;
    htmlFreeParserCtxt(ctxt);
    *p = *carry;
    *n = left;
    return next;
}

/*
 * After </html> the push parser takes one piece of white space per call
 * and then waits for more input: call it again while it moves, so that
 * whatever follows is seen now.
 */
static void pump_epilog(htmlParserCtxtPtr ctxt)
{
    while (ctxt->instate == XML_PARSER_EPILOG && ctxt->input != NULL &&
           ctxt->input->cur < ctxt->input->end) {
        const xmlChar *before = ctxt->input->cur;

        htmlParseChunk(ctxt, NULL, 0, 0);
        if (ctxt->input == NULL || ctxt->input->cur == before)
            break;
    }
}

/* Feed the document, starting with its first piece, to libxml2. */
static int run_html(struct parse *st, struct source *src, const char *p,
                    size_t n)
{
    htmlParserCtxtPtr ctxt;
    char *carry = NULL;
    int restarts = 0;
    int rc = 0;

    ctxt = htmlCreatePushParserCtxt(&sax_handler, st, NULL, 0, NULL,
                                    bom_encoding(p, n));
    if (ctxt == NULL)
        return PF_ENOMEM;
    htmlCtxtUseOptions(ctxt, HTML_OPTIONS);
    st->ctxt = ctxt;
    st->in_head = 1;
    for (;;) {
        const xmlParserInput *in;

        if (n > 0) {
            fix_tag_lookup(ctxt);
            htmlParseChunk(ctxt, p, (int)n, 0);
        }
        if (st->err != 0 || st->full)
            break;
        pump_epilog(ctxt);
        if (ctxt->instate == XML_PARSER_EOF) {
            htmlParserCtxtPtr next = NULL;

            if (restarts++ < RESTARTS_MAX)
                next = restart_html(st, ctxt, &carry, &p, &n);
            if (next == NULL)
                break;
            ctxt = next;
            continue;
        }
        in = ctxt->input;
        if (in != NULL && in->end - in->cur > BACKLOG_MAX) {
            xmlStopParser(ctxt);
            break;
        }
        rc = source_next(st, src, 1, &p, &n);
        if (rc <= 0)
            break;
    }
    if (ctxt->instate != XML_PARSER_EOF)
        htmlParseChunk(ctxt, NULL, 0, 1);
    if (st->in_style)
        css_finish(st);
    if (st->in_head)
        flush_pending(st);
    st->ctxt = NULL;
    htmlFreeParserCtxt(ctxt);
    pf__free(carry);
    return rc < 0 ? rc : 0;
}

/* Feed the document, starting with its first piece, to the tokenizer. */
static int run_tok(struct parse *st, struct source *src, const char *p,
                   size_t n)
{
    int rc = 0;

    pf__html_init(&st->html, tok_tag, tok_text, st);
    st->in_head = 1;
    st->html.want_data = 1;
    for (;;) {
        pf__html_feed(&st->html, p, n);
        if (st->html.err != 0)
            fail(st, st->html.err);
        if (st->html.stop)
            break;
        rc = source_next(st, src, 1, &p, &n);
        if (rc <= 0)
            break;
    }
    pf__html_finish(&st->html);
    if (st->in_style)
        css_finish(st);
    if (st->in_head)
        flush_pending(st);
    pf__html_free(&st->html);
    return rc < 0 ? rc : 0;
}

static int run_css(struct parse *st, struct source *src, const char *p,
                   size_t n)
{
    int rc = 0;

    pf__css_reset(&st->css);
    for (;;) {
        css_feed(st, p, n);
        if (st->err != 0 || st->full)
            break;
        rc = source_next(st, src, 1, &p, &n);
        if (rc <= 0)
            break;
    }
    css_finish(st);
    return rc < 0 ? rc : 0;
}

static int run(struct source *src, enum pf__doc_type type, const char *base_url,
               struct pf__links *out, int xml)
{
    xmlStructuredErrorFunc saved_handler;
    void *saved_context;
    struct parse *st;
    const char *p = NULL;
    size_t n = 0;
    int saved_errno = 0;
    int rc;

    if (out == NULL)
        return PF_EINVAL;
    if (type != PF__DOC_HTML && type != PF__DOC_CSS && type != PF__DOC_UNKNOWN)
        return 0;
    st = pf__calloc(1, sizeof(*st));
    if (st == NULL)
        return PF_ENOMEM;
    if (src->fd >= 0) {
        st->buf = pf__malloc(CHUNK);
        if (st->buf == NULL) {
            pf__free(st);
            return PF_ENOMEM;
        }
    }
    st->out = out;
    pf__css_init(&st->css, css_ref, st);
    rc = pf__urlres_init(&st->res);
    if (rc == 0 && base_url != NULL) {
        rc = pf__urlres_set_base(&st->res, base_url);
        if (rc == PF_EURL)
            rc = 0;
    }
    if (rc == 0)
        rc = source_next(st, src, SNIFF_MIN, &p, &n);
    if (rc > 0) {
        if (type == PF__DOC_UNKNOWN)
            type = looks_like_html(p, n) ? PF__DOC_HTML : PF__DOC_OTHER;
        if (type == PF__DOC_HTML && !xml &&
            bom_encoding(p, n) == XML_CHAR_ENCODING_NONE) {
            rc = run_tok(st, src, p, n);
        } else if (type == PF__DOC_HTML) {
            /*
             * libxml2 reports some errors (bad bytes for the encoding a
             * page declares) with no parser context, so not through our
             * SAX handler but through the thread's own, which prints.
             * libxml2 keeps that handler per thread: this thread's is
             * silenced for the parse and then put back.
             */
            saved_handler = xmlStructuredError;
            saved_context = xmlStructuredErrorContext;
            xmlSetStructuredErrorFunc(NULL, on_serror);
            rc = run_html(st, src, p, n);
            xmlSetStructuredErrorFunc(saved_context, saved_handler);
        } else if (type == PF__DOC_CSS)
            rc = run_css(st, src, p, n);
        else
            rc = 0;
    }
    if (rc == PF_EIO)
        saved_errno = errno;
    if (st->err != 0)
        rc = st->err;
    pf__buf_free(&st->pending);
    pf__css_free(&st->css);
    pf__buf_free(&st->url);
    pf__urlres_free(&st->res);
    pf__free(st->buf);
    pf__free(st);
    if (rc == PF_EIO)
        errno = saved_errno;
    return rc < 0 ? rc : 0;
}

/* Any thread: everything it uses is its own. */
int pf__parse_fd(int fd, enum pf__doc_type type, const char *base_url,
                 struct pf__links *out)
{
    struct source src = {fd, NULL, 0, 0};

    if (fd < 0)
        return PF_EINVAL;
    return run(&src, type, base_url, out, 0);
}

/* Any thread: everything it uses is its own. */
int pf__parse_fd_xml(int fd, enum pf__doc_type type, const char *base_url,
                     struct pf__links *out)
{
    struct source src = {fd, NULL, 0, 0};

    if (fd < 0)
        return PF_EINVAL;
    return run(&src, type, base_url, out, 1);
}

/* Any thread: everything it uses is its own. */
int pf__parse_mem(const char *buf, size_t n, enum pf__doc_type type,
                  const char *base_url, struct pf__links *out)
{
    struct source src = {-1, buf, n, 0};

    if (buf == NULL && n > 0)
        return PF_EINVAL;
    return run(&src, type, base_url, out, 0);
}

/* Any thread: everything it uses is its own. */
int pf__parse_mem_xml(const char *buf, size_t n, enum pf__doc_type type,
                      const char *base_url, struct pf__links *out)
{
    struct source src = {-1, buf, n, 0};

    if (buf == NULL && n > 0)
        return PF_EINVAL;
    return run(&src, type, base_url, out, 1);
}

/* Pages over this get no tree: it holds the whole page, and more. */
#define PAGE_DOC_MAX (64 * 1024 * 1024)

void *pf__parse_doc_fd(int fd, const char *url)
{
    struct stat sb;

    if (fstat(fd, &sb) != 0 || sb.st_size > PAGE_DOC_MAX)
        return NULL;
    return htmlReadFd(fd, url, NULL,
                      HTML_PARSE_RECOVER | HTML_PARSE_NONET |
                          HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                          HTML_PARSE_COMPACT);
}

void pf__parse_doc_free(void *doc)
{
    if (doc != NULL)
        xmlFreeDoc(doc);
}
