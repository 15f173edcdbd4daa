/*
 * html.c -- the HTML tokenizer behind pf__html_* (see html.h): the HTML
 * standard's tokenizer states that decide where a tag, a comment or a raw
 * text element starts and ends, byte by byte, so that input may be cut
 * anywhere; attribute values kept raw while a tag is read and decoded when
 * it ends (the document's charset, then character references).  It owns
 * the tag being read, which it never lets grow past PF__HTML_TAG_MAX
 * bytes.  It must never build a tree, resolve a URL, know what a link is
 * or keep state outside struct pf__html: what makes a tag a link is
 * parse.c's business.
 *
 * What it leaves out of the standard, knowingly: the tree builder's say
 * in the tokenizer beyond the raw text elements (no foreign content, so
 * <svg><style> is raw text and CDATA inside <svg> a bogus comment, and
 * <noscript> is read as markup, as with scripting disabled); CR LF is not
 * folded to LF in values (URL parsing drops both anyway); named references
 * come from libxml2's table (HTML 4's names), so HTML5-only names such as
 * &NewLine; stay as written; UTF-16 documents are not read (cs says so,
 * and the caller uses another parser).
 */
#include <iconv.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>

#include "html.h"
#include "util.h"

enum html_state {
    H_START, /* before the first byte: a BOM? */
    H_BOM1,
    H_BOM2,
    H_BOM16,
    H_DATA,
    H_TAG_OPEN,
    H_END_TAG_OPEN,
    H_TAG_NAME,
    H_BEFORE_ATTR,
    H_ATTR_NAME,
    H_AFTER_ATTR_NAME,
    H_BEFORE_VALUE,
    H_VALUE_DQ,
    H_VALUE_SQ,
    H_VALUE_UNQ,
    H_AFTER_VALUE,
    H_SELF_CLOSING,
    H_MARKUP,      /* after "<!" */
    H_MARKUP_DASH, /* after "<!-" */
    H_COMMENT_START,
    H_COMMENT_START_DASH,
    H_COMMENT,
    H_COMMENT_END_DASH,
    H_COMMENT_END,
    H_COMMENT_END_BANG,
    H_BOGUS,
    H_RAW, /* RAWTEXT and RCDATA: text to the matching end tag */
    H_RAW_LT,
    H_RAW_END, /* "</" and part of the element's name */
    H_SCRIPT,  /* script data, and its escaped states */
    H_SCRIPT_LT,
    H_SCRIPT_ESC_START,
    H_SCRIPT_ESC_START_DASH,
    H_SCRIPT_ESC,
    H_SCRIPT_ESC_DASH,
    H_SCRIPT_ESC_DASH_DASH,
    H_SCRIPT_ESC_LT,
    H_SCRIPT_DESC_START,
    H_SCRIPT_DESC,
    H_SCRIPT_DESC_DASH,
    H_SCRIPT_DESC_DASH_DASH,
    H_SCRIPT_DESC_LT,
    H_SCRIPT_DESC_END,
    H_PLAINTEXT
};

/* Elements whose content is not markup; RAW_NONE: none is open. */
enum raw_elem {
    RAW_NONE,
    RAW_SCRIPT,
    RAW_STYLE,
    RAW_XMP,
    RAW_IFRAME,
    RAW_NOEMBED,
    RAW_NOFRAMES,
    RAW_TITLE,
    RAW_TEXTAREA,
    RAW_PLAINTEXT
};

static const char *const raw_names[] = {
    "",        "script",   "style", "xmp",      "iframe",
    "noembed", "noframes", "title", "textarea", "plaintext"};

/*
 * At most this many attributes per tag are kept: those past it are
 * dropped (and the last kept one with them), as are those past
 * PF__HTML_TAG_MAX bytes.
 */
#define ATTR_MAX 4096

/* An attribute while its tag is read: offsets into h->tag. */
struct pf__html_araw {
    size_t name_off, name_len;
    size_t val_off, val_len;
    size_t dec_off, dec_len; /* in h->val, when decoded */
    uint64_t start, end;
    int dropped; /* the tag grew past PF__HTML_TAG_MAX */
    int decoded;
};

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int is_alpha(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

static int is_alnum(unsigned char c)
{
    return is_alpha(c) || (unsigned char)(c - '0') < 10;
}

static unsigned char lower(unsigned char c)
{
    return (unsigned char)(c - 'A') < 26 ? (unsigned char)(c | 0x20) : c;
}

/* ------------------------------------------------------------------ */
/* The tag being read                                                  */
/* ------------------------------------------------------------------ */

static void oom(struct pf__html *h)
{
    h->err = PF_ENOMEM;
    h->stop = 1;
}

/* Append raw bytes to the tag, or mark it too big. */
static void tag_bytes(struct pf__html *h, const unsigned char *p, size_t n)
{
    struct pf__buf *b = &h->tag;

    if (!h->too_big && b->len + n + 1 <= b->cap) { /* the usual case */
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    if (h->too_big || h->tag.len + n + 1 > PF__HTML_TAG_MAX) {
        h->too_big = 1;
        if (h->nattr > 0)
            h->araw[h->nattr - 1].dropped = 1;
        return;
    }
    if (pf__buf_append(&h->tag, p, n) < 0)
        oom(h);
}

/* Append a name's bytes, ASCII lowercased, NUL as U+FFFD. */
static void tag_name_bytes(struct pf__html *h, const unsigned char *p, size_t n)
{
    size_t i, from = h->tag.len;

    if (memchr(p, '\0', n) == NULL) {
        tag_bytes(h, p, n);
        if (h->tag.len == from + n)
            for (i = from; i < h->tag.len; i++)
                h->tag.data[i] = (char)lower((unsigned char)h->tag.data[i]);
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = lower(p[i]);

        if (c == 0)
            tag_bytes(h, (const unsigned char *)"\xEF\xBF\xBD", 3);
        else
            tag_bytes(h, &c, 1);
    }
}

static void tag_begin(struct pf__html *h, int end_tag)
{
    pf__buf_reset(&h->tag);
    h->nattr = 0;
    h->name_len = 0;
    h->end_tag = (unsigned char)end_tag;
    h->self_closing = 0;
    h->too_big = 0;
}

/* The tag's name is read: NUL-terminate it. */
static void tag_name_end(struct pf__html *h)
{
    h->name_len = h->tag.len;
    tag_bytes(h, (const unsigned char *)"", 1);
    if (h->too_big)
        h->name_len = 0; /* the tag is dropped */
}

static void attr_begin(struct pf__html *h)
{
    struct pf__html_araw *a;

    if (h->nattr > 0 && (h->too_big || h->nattr == ATTR_MAX)) {
        /* Dropped: the last slot is reused for it. */
        a = &h->araw[h->nattr - 1];
        memset(a, 0, sizeof(*a));
        a->dropped = 1;
        return;
    }
    if (h->nattr == h->attr_cap) {
        size_t cap = h->attr_cap != 0 ? h->attr_cap * 2 : 16;
        struct pf__html_araw *r = pf__realloc(h->araw, cap * sizeof(*r));
        struct pf__html_attr *t;

        if (r == NULL) {
            oom(h);
            return;
        }
        h->araw = r;
        t = pf__realloc(h->attr, cap * sizeof(*t));
        if (t == NULL) {
            oom(h);
            return;
        }
        h->attr = t;
        h->attr_cap = cap;
    }
    a = &h->araw[h->nattr++];
    memset(a, 0, sizeof(*a));
    a->name_off = h->tag.len;
    a->dropped = h->too_big;
}

/* The attribute's name is read; its value (if any) comes next. */
static void attr_name_end(struct pf__html *h, uint64_t at)
{
    struct pf__html_araw *a = &h->araw[h->nattr - 1];

    a->name_len = h->tag.len - a->name_off;
    tag_bytes(h, (const unsigned char *)"", 1);
    a->val_off = h->tag.len;
    a->start = a->end = at;
    tag_bytes(h, (const unsigned char *)"", 1); /* no value: "" */
}

static void value_begin(struct pf__html *h, uint64_t start)
{
    struct pf__html_araw *a = &h->araw[h->nattr - 1];

    if (!h->too_big)
        pf__buf_truncate(&h->tag, h->tag.len - 1); /* the "" */
    a->val_off = h->tag.len;
    a->start = a->end = start;
}

static void value_end(struct pf__html *h)
{
    struct pf__html_araw *a = &h->araw[h->nattr - 1];

    a->end = h->off;
    a->val_len = h->tag.len - a->val_off;
    tag_bytes(h, (const unsigned char *)"", 1);
}

/* ------------------------------------------------------------------ */
/* Decoding values                                                     */
/* ------------------------------------------------------------------ */

static size_t utf8_put(char *u, uint32_t cp)
{
    if (cp < 0x80) {
        u[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* 1 if s (n bytes) is well-formed UTF-8. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        uint32_t cp;
        size_t k, len;

        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF)
            len = 2;
        else if (c >= 0xE0 && c <= 0xEF)
            len = 3;
        else if (c >= 0xF0 && c <= 0xF4)
            len = 4;
        else
            return 0;
        if (n - i < len)
            return 0;
        cp = c & (0x7F >> len);
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += len;
    }
    return 1;
}

static void *cp1252(struct pf__html *h)
{
    if (h->cp1252 == NULL) {
        iconv_t cd = iconv_open("UTF-8", "WINDOWS-1252");

        if (cd != (iconv_t)-1)
            h->cp1252 = cd;
    }
    return h->cp1252;
}

/*
 * s (n bytes) from the charset of cd to UTF-8, appended to out.  A byte
 * cd cannot read becomes U+FFFD, or for windows-1252 (whose five unused
 * bytes the Encoding standard maps to C1 controls) that code point.
 */
static int convert(struct pf__html *h, void *cd, const char *s, size_t n,
                   struct pf__buf *out)
{
    char tmp[256];

    iconv(cd, NULL, NULL, NULL, NULL);
    while (n > 0) {
        char *in = (char *)s, *o = tmp;
        size_t inleft = n, oleft = sizeof(tmp);
        size_t r = iconv(cd, &in, &inleft, &o, &oleft);
        int rc = pf__buf_append(out, tmp, (size_t)(o - tmp));

        if (rc < 0)
            return rc;
        s = in;
        n = inleft;
        if (r == (size_t)-1 && n > 0 && o == tmp) {
            char u[4];
            size_t k;

            if (cd == h->cp1252)
                k = utf8_put(u, (unsigned char)*s);
            else
                k = utf8_put(u, 0xFFFD);
            rc = pf__buf_append(out, u, k);
            if (rc < 0)
                return rc;
            s++;
            n--;
        }
    }
    return 0;
}

/* A numeric reference's value, as the HTML standard replaces it. */
static uint32_t numeric_fix(struct pf__html *h, uint32_t cp)
{
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0xFFFD;
    if (cp >= 0x80 && cp <= 0x9F && cp1252(h) != NULL) {
        char b = (char)cp, out[8];
        char *in = &b, *o = out;
        size_t inleft = 1, oleft = sizeof(out);

        iconv(h->cp1252, NULL, NULL, NULL, NULL);
        if (iconv(h->cp1252, &in, &inleft, &o, &oleft) != (size_t)-1 &&
            o > out) {
            const unsigned char *u = (const unsigned char *)out;

            if (o - out == 3)
                return ((uint32_t)(u[0] & 0x0F) << 12) |
                       ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
            if (o - out == 2)
                return ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
        }
    }
    return cp;
}

/*
 * A numeric reference at s ("&#..."), n bytes available: its length, 0 if
 * it is none (no digits), and its code point.
 */
static size_t numeric_ref(const char *s, size_t n, uint32_t *cp)
{
    size_t i = 2, digits = 0;
    uint32_t v = 0;
    int hex = 0;

    if (i < n && (s[i] == 'x' || s[i] == 'X')) {
        hex = 1;
        i++;
    }
    for (; i < n; i++, digits++) {
        unsigned char c = (unsigned char)s[i];
        unsigned d;

        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
            d = (c | 0x20) - 'a' + 10;
        else
            break;
        v = v > 0x10FFFF ? v : v * (hex ? 16 : 10) + d;
    }
    if (digits == 0)
        return 0;
    if (i < n && s[i] == ';')
        i++;
    *cp = v;
    return i;
}

/*
 * A named reference at s ("&name"), n bytes available, as in an
 * attribute: its length and its value, or 0.  "&name;" is decoded when
 * the name is known; "&name" without ';' only for the names HTML keeps
 * for legacy content (those of Latin-1, and amp, lt, gt, quot) and not
 * before '=', as the standard says for attributes.
 */
static size_t named_ref(const char *s, size_t n, uint32_t *cp)
{
    char name[33];
    size_t len = 0;
    const htmlEntityDesc *e;

    while (1 + len < n && is_alnum((unsigned char)s[1 + len])) {
        if (len == sizeof(name) - 1)
            return 0;
        name[len] = s[1 + len];
        len++;
    }
    if (len == 0)
        return 0;
    name[len] = '\0';
    e = htmlEntityLookup((const xmlChar *)name);
    if (e == NULL)
        return 0;
    *cp = e->value;
    if (1 + len < n && s[1 + len] == ';')
        return len + 2;
    if (!((e->value >= 0xA0 && e->value <= 0xFF) || e->value == '&' ||
          e->value == '<' || e->value == '>' || e->value == '"'))
        return 0;
    if (1 + len < n && s[1 + len] == '=')
        return 0;
    return len + 1;
}

/* Character references and NULs of s (UTF-8 already) into out. */
static int decode_refs(struct pf__html *h, const char *s, size_t n,
                       struct pf__buf *out)
{
    size_t i = 0, from = 0;
    int rc = 0;

    while (i < n && rc == 0) {
        char u[4];
        uint32_t cp = 0;
        size_t len = 0;

        if (s[i] == '&' && i + 1 < n) {
            if (s[i + 1] == '#') {
                len = numeric_ref(s + i, n - i, &cp);
                cp = numeric_fix(h, cp);
            } else {
                len = named_ref(s + i, n - i, &cp);
            }
        } else if (s[i] == '\0') {
            len = 1;
            cp = 0xFFFD;
        }
        if (len == 0) {
            i++;
            continue;
        }
        rc = pf__buf_append(out, s + from, i - from);
        if (rc == 0)
            rc = pf__buf_append(out, u, utf8_put(u, cp));
        i += len;
        from = i;
    }
    if (rc == 0)
        rc = pf__buf_append(out, s + from, n - from);
    return rc;
}

int pf__html_decode(struct pf__html *h, const char *s, size_t n,
                    struct pf__buf *out)
{
    struct pf__buf tmp = {NULL, 0, 0};
    void *cd = NULL;
    size_t i;
    int high = 0;
    int rc;

    for (i = 0; i < n && !high; i++)
        high = (unsigned char)s[i] >= 0x80;
    if (high && h->cs == PF__HTML_CS_OTHER)
        cd = h->cd;
    else if (high && h->cs == PF__HTML_CS_NONE &&
             !utf8_valid((const unsigned char *)s, n))
        cd = cp1252(h);
    if (cd != NULL) {
        rc = convert(h, cd, s, n, &tmp);
        if (rc == 0)
            rc = decode_refs(h, tmp.data != NULL ? tmp.data : "", tmp.len, out);
        pf__buf_free(&tmp);
    } else {
        rc = decode_refs(h, s, n, out);
    }
    if (rc == 0)
        rc = pf__buf_append(out, "", 1);
    return rc;
}

/* ------------------------------------------------------------------ */
/* The charset a <meta> declares                                       */
/* ------------------------------------------------------------------ */

static void set_charset(struct pf__html *h, const char *label, size_t n)
{
    static const char *const utf8[] = {
        "utf-8", "utf8", "unicode-1-1-utf-8", "utf-16", "utf-16le", "utf-16be"};
    static const char *const latin1[] = {
        "us-ascii", "ascii", "iso-8859-1", "iso8859-1",
        "latin1",   "l1",    "iso_8859-1", "windows-1252"};
    char name[64];
    size_t i;
    iconv_t cd;

    while (n > 0 && is_space((unsigned char)*label)) {
        label++;
        n--;
    }
    while (n > 0 && is_space((unsigned char)label[n - 1]))
        n--;
    if (n == 0 || n >= sizeof(name))
        return;
    for (i = 0; i < n; i++)
        name[i] = (char)lower((unsigned char)label[i]);
    name[n] = '\0';
    for (i = 0; i < PF__ARRAY_LEN(utf8); i++) {
        if (strcmp(name, utf8[i]) == 0) {
            h->cs = PF__HTML_CS_UTF8;
            return;
        }
    }
    for (i = 0; i < PF__ARRAY_LEN(latin1); i++) {
        if (strcmp(name, latin1[i]) == 0) {
            if (cp1252(h) != NULL) {
                h->cd = h->cp1252;
                h->cs = PF__HTML_CS_OTHER;
            }
            return;
        }
    }
    cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1)
        return;
    h->cd = cd;
    h->cs = PF__HTML_CS_OTHER;
}

/* The charset in a Content-Type value ("text/html; charset=x"). */
static void charset_in_content(struct pf__html *h, const char *s)
{
    const char *p = s;

    for (;;) {
        const char *q = p;
        size_t i;

        while (*q != '\0') {
            for (i = 0; i < 7; i++)
                if (q[i] == '\0' || lower((unsigned char)q[i]) != "charset"[i])
                    break;
            if (i == 7)
                break;
            q++;
        }
        if (*q == '\0')
            return;
        q += 7;
        while (is_space((unsigned char)*q))
            q++;
        if (*q != '=') {
            p = q;
            continue;
        }
        q++;
        while (is_space((unsigned char)*q))
            q++;
        if (*q == '"' || *q == '\'') {
            const char *end = strchr(q + 1, *q);

            if (end != NULL)
                set_charset(h, q + 1, (size_t)(end - q - 1));
            return;
        }
        set_charset(h, q, strcspn(q, " \t\n\r\f;"));
        return;
    }
}

static void check_meta(struct pf__html *h, const struct pf__html_tag *t)
{
    const char *charset = NULL, *equiv = NULL, *content = NULL;
    size_t i;

    for (i = 0; i < t->nattr; i++) {
        const struct pf__html_attr *a = &t->attr[i];

        if (strcmp(a->name, "charset") == 0 && charset == NULL)
            charset = a->value;
        else if (strcmp(a->name, "http-equiv") == 0 && equiv == NULL)
            equiv = a->value;
        else if (strcmp(a->name, "content") == 0 && content == NULL)
            content = a->value;
    }
    if (charset != NULL)
        set_charset(h, charset, strlen(charset));
    else if (equiv != NULL && content != NULL &&
             strcasecmp(equiv, "content-type") == 0)
        charset_in_content(h, content);
}

/* ------------------------------------------------------------------ */
/* Emitting                                                            */
/* ------------------------------------------------------------------ */

static void text(struct pf__html *h, const unsigned char *p, size_t n, int raw)
{
    if (n == 0 || h->on_text == NULL || (!raw && !h->want_data))
        return;
    if (h->on_text((const char *)p, n, raw, h->userdata) != 0)
        h->stop = 1;
}

/* An attribute's value, decoded unless it is fine as it stands. */
static int attr_value(struct pf__html *h, struct pf__html_araw *a)
{
    const unsigned char *v = (const unsigned char *)h->tag.data + a->val_off;
    size_t i;

    for (i = 0; i < a->val_len; i++) {
        unsigned char c = v[i];

        if (c == '&' || c == 0 || (c >= 0x80 && h->cs != PF__HTML_CS_UTF8))
            break;
    }
    if (i == a->val_len)
        return 0;
    a->decoded = 1;
    a->dec_off = h->val.len;
    if (pf__html_decode(h, (const char *)v, a->val_len, &h->val) < 0)
        return PF_ENOMEM;
    a->dec_len = h->val.len - a->dec_off - 1;
    return 0;
}

/* The attributes of a start tag, ready for the callback. */
static size_t build_attrs(struct pf__html *h)
{
    size_t i, n = 0;

    pf__buf_reset(&h->val);
    for (i = 0; i < h->nattr; i++) {
        struct pf__html_araw *a = &h->araw[i];

        if (a->dropped)
            continue;
        if (attr_value(h, a) < 0) {
            oom(h);
            return 0;
        }
    }
    for (i = 0; i < h->nattr; i++) {
        struct pf__html_araw *a = &h->araw[i];
        struct pf__html_attr *t = &h->attr[n];

        if (a->dropped)
            continue;
        t->name = h->tag.data + a->name_off;
        t->name_len = a->name_len;
        t->value =
            a->decoded ? h->val.data + a->dec_off : h->tag.data + a->val_off;
        t->value_len = a->decoded ? a->dec_len : a->val_len;
        t->start = a->start;
        t->end = a->end;
        n++;
    }
    return n;
}

static unsigned char raw_elem(const char *name, size_t n)
{
    size_t i;

    if (n < 3 || n > 9 || !strchr("stxinp", name[0]))
        return RAW_NONE;
    for (i = 1; i < PF__ARRAY_LEN(raw_names); i++)
        if (strcmp(name, raw_names[i]) == 0)
            return (unsigned char)i;
    return RAW_NONE;
}

/* The tag is complete: hand it over, then go where it leads. */
static size_t emit(struct pf__html *h)
{
    struct pf__html_tag t;

    h->state = H_DATA;
    if (h->name_len == 0 || h->tag.len <= h->name_len)
        return 1; /* its name alone was too big */
    memset(&t, 0, sizeof(t));
    t.name = h->tag.data;
    t.name_len = h->name_len;
    t.end_tag = h->end_tag;
    t.self_closing = h->self_closing;
    t.start = h->tag_start;
    if (!h->end_tag) {
        t.nattr = build_attrs(h);
        t.attr = h->attr;
        if (h->stop)
            return 1;
        if (h->cs == PF__HTML_CS_NONE && strcmp(t.name, "meta") == 0)
            check_meta(h, &t);
    }
    if (h->on_tag != NULL && h->on_tag(&t, h->userdata) != 0)
        h->stop = 1;
    if (!h->end_tag) {
        h->raw = raw_elem(t.name, t.name_len);
        if (h->raw == RAW_SCRIPT)
            h->state = H_SCRIPT;
        else if (h->raw == RAW_PLAINTEXT)
            h->state = H_PLAINTEXT;
        else if (h->raw != RAW_NONE)
            h->state = H_RAW;
    }
    return 1;
}

/* ------------------------------------------------------------------ */
/* States                                                              */
/* ------------------------------------------------------------------ */

/* Each returns the bytes it consumed: 0 to look at the byte again. */

static size_t in_data(struct pf__html *h, const unsigned char *p, size_t n)
{
    const unsigned char *lt = memchr(p, '<', n);
    size_t k = lt != NULL ? (size_t)(lt - p) : n;

    text(h, p, k, 0);
    if (lt == NULL)
        return k;
    h->tag_start = h->off + k;
    h->state = H_TAG_OPEN;
    return k + 1;
}

static size_t in_tag_open(struct pf__html *h, unsigned char c)
{
    if (is_alpha(c)) {
        tag_begin(h, 0);
        h->state = H_TAG_NAME;
        return 0;
    }
    if (c == '!') {
        h->state = H_MARKUP;
        return 1;
    }
    if (c == '/') {
        h->state = H_END_TAG_OPEN;
        return 1;
    }
    if (c == '?') {
        h->state = H_BOGUS;
        return 0;
    }
    text(h, (const unsigned char *)"<", 1, 0);
    h->state = H_DATA;
    return 0;
}

static size_t in_end_tag_open(struct pf__html *h, unsigned char c)
{
    if (is_alpha(c)) {
        tag_begin(h, 1);
        h->state = H_TAG_NAME;
        return 0;
    }
    h->state = c == '>' ? H_DATA : H_BOGUS;
    return c == '>';
}

/* The bytes of a name, up to the first of stop or white space. */
static size_t name_span(const unsigned char *p, size_t n, int eq)
{
    size_t k = 0;

    while (k < n && !is_space(p[k]) && p[k] != '/' && p[k] != '>' &&
           !(eq && p[k] == '='))
        k++;
    return k;
}

/* White space, '/' or '>' after a tag name or attribute. */
static size_t tag_sep(struct pf__html *h, unsigned char c)
{
    if (c == '/') {
        h->state = H_SELF_CLOSING;
        return 1;
    }
    if (c == '>')
        return emit(h);
    h->state = H_BEFORE_ATTR;
    return 1;
}

static size_t in_tag_name(struct pf__html *h, const unsigned char *p, size_t n)
{
    size_t k = name_span(p, n, 0);

    tag_name_bytes(h, p, k);
    if (k == n)
        return k;
    tag_name_end(h);
    return k + tag_sep(h, p[k]);
}

static size_t in_attr_name(struct pf__html *h, const unsigned char *p,
                           size_t n);

/*
 * Before an attribute: white space, then its name, read on here rather
 * than at the next step (a step per state is what costs, in a tag).
 */
static size_t in_before_attr(struct pf__html *h, const unsigned char *p,
                             size_t n)
{
    size_t k = 0, r;
    unsigned char c;

    while (k < n && is_space(p[k]))
        k++;
    if (k == n)
        return n;
    c = p[k];
    if (c == '/' || c == '>')
        return k + tag_sep(h, c);
    attr_begin(h);
    h->state = H_ATTR_NAME;
    if (c == '=') {
        tag_bytes(h, &c, 1);
        return k + 1;
    }
    if (h->stop)
        return k;
    h->off += k;
    r = in_attr_name(h, p + k, n - k);
    h->off -= k;
    return k + r;
}

static size_t in_attr_name(struct pf__html *h, const unsigned char *p, size_t n)
{
    size_t k = name_span(p, n, 1);

    tag_name_bytes(h, p, k);
    if (k == n)
        return k;
    attr_name_end(h, h->off + k);
    if (p[k] == '=') {
        h->state = H_BEFORE_VALUE;
        if (k + 1 < n && (p[k + 1] == '"' || p[k + 1] == '\'')) {
            value_begin(h, h->off + k + 2);
            h->state = p[k + 1] == '"' ? H_VALUE_DQ : H_VALUE_SQ;
            return k + 2;
        }
        return k + 1;
    }
    if (is_space(p[k])) {
        h->state = H_AFTER_ATTR_NAME;
        return k + 1;
    }
    return k + tag_sep(h, p[k]);
}

static size_t in_after_attr_name(struct pf__html *h, unsigned char c)
{
    if (is_space(c))
        return 1;
    if (c == '=') {
        h->state = H_BEFORE_VALUE;
        return 1;
    }
    if (c == '/' || c == '>')
        return tag_sep(h, c);
    attr_begin(h);
    h->state = H_ATTR_NAME;
    return 0;
}

static size_t in_before_value(struct pf__html *h, unsigned char c)
{
    if (is_space(c))
        return 1;
    if (c == '"' || c == '\'') {
        value_begin(h, h->off + 1);
        h->state = c == '"' ? H_VALUE_DQ : H_VALUE_SQ;
        return 1;
    }
    if (c == '>') { /* "a=>": the empty value is where the '>' is */
        struct pf__html_araw *a = &h->araw[h->nattr - 1];

        a->start = a->end = h->off;
        return emit(h);
    }
    value_begin(h, h->off);
    h->state = H_VALUE_UNQ;
    return 0;
}

static size_t in_value_quoted(struct pf__html *h, const unsigned char *p,
                              size_t n, unsigned char q)
{
    const unsigned char *e = memchr(p, q, n);
    size_t k = e != NULL ? (size_t)(e - p) : n;

    tag_bytes(h, p, k);
    if (e == NULL)
        return k;
    h->off += k;
    value_end(h);
    h->off -= k;
    h->state = H_AFTER_VALUE;
    if (k + 1 < n && is_space(p[k + 1])) {
        h->state = H_BEFORE_ATTR;
        return k + 2;
    }
    return k + 1;
}

static size_t in_value_unquoted(struct pf__html *h, const unsigned char *p,
                                size_t n)
{
    size_t k = 0;

    while (k < n && !is_space(p[k]) && p[k] != '>')
        k++;
    tag_bytes(h, p, k);
    if (k == n)
        return k;
    h->off += k;
    value_end(h);
    h->off -= k;
    if (p[k] == '>')
        return k + emit(h);
    h->state = H_BEFORE_ATTR;
    return k + 1;
}

static size_t in_after_value(struct pf__html *h, unsigned char c)
{
    if (is_space(c) || c == '/' || c == '>')
        return tag_sep(h, c);
    h->state = H_BEFORE_ATTR;
    return 0;
}

static size_t in_self_closing(struct pf__html *h, unsigned char c)
{
    if (c == '>') {
        h->self_closing = 1;
        return emit(h);
    }
    h->state = H_BEFORE_ATTR;
    return 0;
}

/* Comments, after "<!": the states that decide where one ends. */
static size_t in_comment_states(struct pf__html *h, const unsigned char *p,
                                size_t n)
{
    unsigned char c = p[0];

    switch (h->state) {
    case H_MARKUP:
    case H_MARKUP_DASH:
        if (c != '-') {
            h->state = H_BOGUS;
            return 0;
        }
        h->state = h->state == H_MARKUP ? H_MARKUP_DASH : H_COMMENT_START;
        return 1;
    case H_COMMENT_START:
    case H_COMMENT_START_DASH:
        if (c == '-')
            h->state = h->state == H_COMMENT_START ? H_COMMENT_START_DASH
                                                   : H_COMMENT_END;
        else if (c == '>') /* "<!-->" and "<!--->" */
            h->state = H_DATA;
        else
            h->state = H_COMMENT;
        return c == '-' || c == '>';
    case H_COMMENT: {
        const unsigned char *d = memchr(p, '-', n);

        if (d == NULL)
            return n;
        h->state = H_COMMENT_END_DASH;
        return (size_t)(d - p) + 1;
    }
    case H_COMMENT_END_DASH:
        h->state = c == '-' ? H_COMMENT_END : H_COMMENT;
        return c == '-';
    case H_COMMENT_END:
        if (c == '>' || c == '!' || c == '-') {
            h->state = c == '>'   ? H_DATA
                       : c == '!' ? H_COMMENT_END_BANG
                                  : H_COMMENT_END;
            return 1;
        }
        h->state = H_COMMENT;
        return 0;
    case H_COMMENT_END_BANG: /* "--!>" ends it too */
        if (c == '-' || c == '>') {
            h->state = c == '-' ? H_COMMENT_END_DASH : H_DATA;
            return 1;
        }
        h->state = H_COMMENT;
        return 0;
    default: { /* H_BOGUS: to the next '>' */
        const unsigned char *e = memchr(p, '>', n);

        if (e == NULL)
            return n;
        h->state = H_DATA;
        return (size_t)(e - p) + 1;
    }
    }
}

/* Raw text and RCDATA: the text, up to "</" and the element's name. */
static size_t in_raw(struct pf__html *h, const unsigned char *p, size_t n)
{
    const unsigned char *lt = memchr(p, '<', n);
    size_t k = lt != NULL ? (size_t)(lt - p) : n;

    text(h, p, k, 1);
    if (lt == NULL)
        return k;
    h->state = H_RAW_LT;
    return k + 1;
}

/* After '<' in raw text. */
static size_t in_raw_lt(struct pf__html *h, unsigned char c)
{
    if (c == '/') {
        h->pend[0] = '<';
        h->pend[1] = '/';
        h->match = 0;
        h->ret = H_RAW;
        h->state = H_RAW_END;
        return 1;
    }
    text(h, (const unsigned char *)"<", 1, 1);
    h->state = H_RAW;
    return 0;
}

/*
 * After "</" in raw text or script data: the element's own end tag, or
 * text after all (reported, for raw text, as it was written).
 */
static size_t in_raw_end(struct pf__html *h, unsigned char c)
{
    const char *name = raw_names[h->raw];
    size_t len = strlen(name);

    if (h->match < len && lower(c) == (unsigned char)name[h->match]) {
        h->pend[2 + h->match++] = (char)c;
        return 1;
    }
    if (h->match == len && (is_space(c) || c == '/' || c == '>')) {
        tag_begin(h, 1);
        tag_bytes(h, (const unsigned char *)name, len);
        tag_name_end(h);
        h->raw = RAW_NONE;
        return tag_sep(h, c);
    }
    if (h->ret == H_RAW)
        text(h, (const unsigned char *)h->pend, 2 + h->match, 1);
    h->state = h->ret;
    return 0;
}

/* Script data and its escapes: where a script ends. */
static size_t in_script(struct pf__html *h, const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    unsigned char s = h->state;

    switch (s) {
    case H_SCRIPT: {
        const unsigned char *lt = memchr(p, '<', n);

        if (lt == NULL)
            return n;
        h->state = H_SCRIPT_LT;
        return (size_t)(lt - p) + 1;
    }
    case H_SCRIPT_LT:
        if (c == '/' || c == '!') {
            h->state = c == '!' ? H_SCRIPT_ESC_START : H_RAW_END;
            h->ret = H_SCRIPT;
            h->match = 0;
            return 1;
        }
        h->state = H_SCRIPT;
        return 0;
    case H_SCRIPT_ESC_START:
    case H_SCRIPT_ESC_START_DASH:
        if (c != '-') {
            h->state = H_SCRIPT;
            return 0;
        }
        h->state = s == H_SCRIPT_ESC_START ? H_SCRIPT_ESC_START_DASH
                                           : H_SCRIPT_ESC_DASH_DASH;
        return 1;
    case H_SCRIPT_ESC:
    case H_SCRIPT_ESC_DASH:
    case H_SCRIPT_ESC_DASH_DASH:
    case H_SCRIPT_DESC:
    case H_SCRIPT_DESC_DASH:
    case H_SCRIPT_DESC_DASH_DASH: {
        int dbl = s >= H_SCRIPT_DESC;
        unsigned char base = dbl ? H_SCRIPT_DESC : H_SCRIPT_ESC;

        if (c == '-')
            h->state = s == base ? base + 1 : base + 2;
        else if (c == '<')
            h->state = dbl ? H_SCRIPT_DESC_LT : H_SCRIPT_ESC_LT;
        else if (c == '>' && s == base + 2)
            h->state = H_SCRIPT;
        else
            h->state = base;
        return 1;
    }
    case H_SCRIPT_ESC_LT:
        h->match = 0;
        if (c == '/') {
            h->state = H_RAW_END;
            h->ret = H_SCRIPT_ESC;
            return 1;
        }
        h->state = is_alpha(c) ? H_SCRIPT_DESC_START : H_SCRIPT_ESC;
        return 0;
    case H_SCRIPT_DESC_LT:
        h->match = 0;
        h->state = c == '/' ? H_SCRIPT_DESC_END : H_SCRIPT_DESC;
        return c == '/';
    default: { /* H_SCRIPT_DESC_START, H_SCRIPT_DESC_END */
        int start = s == H_SCRIPT_DESC_START;

        if (is_alpha(c)) {
            h->match = h->match < 6 && lower(c) == "script"[h->match]
                           ? h->match + 1
                           : 7;
            return 1;
        }
        if (is_space(c) || c == '/' || c == '>') {
            if (h->match == 6)
                h->state = start ? H_SCRIPT_DESC : H_SCRIPT_ESC;
            else
                h->state = start ? H_SCRIPT_ESC : H_SCRIPT_DESC;
            return 1;
        }
        h->state = start ? H_SCRIPT_ESC : H_SCRIPT_DESC;
        return 0;
    }
    }
}

/* The first bytes: a UTF-8 BOM is skipped, a UTF-16 one stops us. */
static size_t in_bom(struct pf__html *h, unsigned char c)
{
    switch (h->state) {
    case H_START:
        h->bom = c;
        h->state = c == 0xEF                  ? H_BOM1
                   : (c == 0xFE || c == 0xFF) ? H_BOM16
                                              : H_DATA;
        return h->state != H_DATA;
    case H_BOM1:
        h->state = c == 0xBB ? H_BOM2 : H_DATA;
        return c == 0xBB;
    case H_BOM2:
        h->state = H_DATA;
        if (c != 0xBF)
            return 0;
        h->cs = PF__HTML_CS_UTF8;
        return 1;
    default:
        h->state = H_DATA;
        if ((h->bom == 0xFE && c == 0xFF) || (h->bom == 0xFF && c == 0xFE)) {
            h->cs = PF__HTML_CS_UTF16;
            h->stop = 1;
            return 1;
        }
        return 0;
    }
}

static size_t step(struct pf__html *h, const unsigned char *p, size_t n)
{
    switch (h->state) {
    case H_DATA:
        return in_data(h, p, n);
    case H_TAG_OPEN:
        return in_tag_open(h, p[0]);
    case H_END_TAG_OPEN:
        return in_end_tag_open(h, p[0]);
    case H_TAG_NAME:
        return in_tag_name(h, p, n);
    case H_BEFORE_ATTR:
        return in_before_attr(h, p, n);
    case H_ATTR_NAME:
        return in_attr_name(h, p, n);
    case H_AFTER_ATTR_NAME:
        return in_after_attr_name(h, p[0]);
    case H_BEFORE_VALUE:
        return in_before_value(h, p[0]);
    case H_VALUE_DQ:
    case H_VALUE_SQ:
        return in_value_quoted(h, p, n, h->state == H_VALUE_DQ ? '"' : '\'');
    case H_VALUE_UNQ:
        return in_value_unquoted(h, p, n);
    case H_AFTER_VALUE:
        return in_after_value(h, p[0]);
    case H_SELF_CLOSING:
        return in_self_closing(h, p[0]);
    case H_RAW:
        return in_raw(h, p, n);
    case H_RAW_LT:
        return in_raw_lt(h, p[0]);
    case H_RAW_END:
        return in_raw_end(h, p[0]);
    case H_PLAINTEXT:
        return n;
    case H_START:
    case H_BOM1:
    case H_BOM2:
    case H_BOM16:
        return in_bom(h, p[0]);
    default:
        if (h->state >= H_SCRIPT)
            return in_script(h, p, n);
        return in_comment_states(h, p, n);
    }
}

void pf__html_init(struct pf__html *h, pf__html_tag_fn *on_tag,
                   pf__html_text_fn *on_text, void *userdata)
{
    memset(h, 0, sizeof(*h));
    h->state = H_START;
    h->on_tag = on_tag;
    h->on_text = on_text;
    h->userdata = userdata;
}

void pf__html_feed(struct pf__html *h, const char *text_, size_t n)
{
    const unsigned char *p = (const unsigned char *)text_;
    size_t i = 0;

    while (i < n && !h->stop) {
        size_t k = step(h, p + i, n - i);

        i += k;
        h->off += k;
    }
}

void pf__html_finish(struct pf__html *h)
{
    if (h->stop)
        return;
    if (h->state == H_TAG_OPEN)
        text(h, (const unsigned char *)"<", 1, 0);
    else if (h->state == H_RAW_LT)
        text(h, (const unsigned char *)"<", 1, 1);
    else if (h->state == H_RAW_END && h->ret == H_RAW)
        text(h, (const unsigned char *)h->pend, 2 + h->match, 1);
    h->state = H_DATA;
}

void pf__html_free(struct pf__html *h)
{
    if (h == NULL)
        return;
    pf__buf_free(&h->tag);
    pf__buf_free(&h->val);
    pf__free(h->araw);
    pf__free(h->attr);
    if (h->cd != NULL && h->cd != h->cp1252)
        iconv_close(h->cd);
    if (h->cp1252 != NULL)
        iconv_close(h->cp1252);
    memset(h, 0, sizeof(*h));
}
