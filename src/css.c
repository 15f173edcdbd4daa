/*
 * css.c -- the CSS scanner: a streaming reading of CSS Syntax Level 3's
 * tokenizer, reduced to what finds references (url(x), url("x") and
 * @import "x", which also covers @import url(x)), with comments skipped
 * and escapes decoded where they can be.  It owns the tokenizer's state
 * between pieces of input and the one URL being read, which it never lets
 * grow past PF__URL_MAX bytes, so a stylesheet may be any size.  It must
 * never resolve a reference, never know where its input comes from (a
 * file, a <style> element, a style="" attribute), never touch libxml2 or
 * the link list, and never keep state outside struct pf__css: what it
 * finds goes to the caller's emit callback as written, and what to do
 * with it is decided there.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "css.h"
#include "url.h"
#include "util.h"

/* Where the CSS scanner is. */
enum css_state {
    CSS_DATA,
    CSS_SLASH,        /* '/': a comment if '*' follows */
    CSS_COMMENT,      /* in a comment */
    CSS_COMMENT_STAR, /* in a comment, after '*' */
    CSS_NAME,         /* an identifier or an @keyword */
    CSS_STRING,       /* a quoted string */
    CSS_URL_START,    /* after "url(": white space, then what it holds */
    CSS_URL,          /* an unquoted url( */
    CSS_URL_END,      /* after an unquoted URL and white space: ')' next */
    CSS_BAD_URL,      /* a broken url(: skipped to its ')' */
    CSS_ESCAPE,       /* after '\' */
    CSS_HEX           /* the digits of a hex escape */
};

/*
 * Every token but those that hold a reference is skipped byte by byte.
 * Byte-oriented: UTF-8 passes through as it is; a hex escape becomes
 * UTF-8.
 */

static int css_is_name(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c >= 0x80;
}

static int css_is_name_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_' || c >= 0x80;
}

/* Back to the start of a stylesheet; stop and err are the caller's. */
static void css_reset(struct pf__css *c)
{
    c->state = CSS_DATA;
    c->import = 0;
    c->skiplf = 0;
    pf__buf_reset(&c->val);
}

static void css_val_bytes(struct pf__css *c, const char *p, size_t n)
{
    if (c->too_long || c->val.len + n > PF__URL_MAX) {
        c->too_long = 1;
        return;
    }
    if (pf__buf_append(&c->val, p, n) < 0) {
        c->err = PF_ENOMEM;
        c->stop = 1;
    }
}

static void css_name_byte(struct pf__css *c, unsigned char b)
{
    if (c->name_len < sizeof(c->name))
        c->name[c->name_len] = (char)b;
    c->name_len++;
}

/* A decoded escape: into the name or the value it belongs to. */
static void css_code_point(struct pf__css *c, uint32_t cp)
{
    char u[4];
    size_t n;

    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    if (c->ret == CSS_NAME) {
        size_t i;

        for (i = 0; i < n; i++)
            css_name_byte(c, (unsigned char)u[i]);
    } else if (c->ret == CSS_URL || (c->ret == CSS_STRING && c->keep)) {
        css_val_bytes(c, u, n);
    }
}

/* The URL read (url() or @import) is a requisite. */
static void css_emit(struct pf__css *c)
{
    if (!c->stop && !c->too_long && c->val.len > 0 &&
        c->emit(c->val.data, c->val.len, PF__LINK_REQ, c->userdata) != 0)
        c->stop = 1;
    pf__buf_reset(&c->val);
    c->too_long = 0;
}

static void css_start_val(struct pf__css *c)
{
    pf__buf_reset(&c->val);
    c->too_long = 0;
}

/* The end of a name: "url(" opens a URL, "@import" waits for one. */
static int css_end_name(struct pf__css *c, unsigned char b)
{
    int is_url = c->name_len == 3 && strncasecmp(c->name, "url", 3) == 0;

    if (c->at) {
        c->import = c->name_len == 6 && strncasecmp(c->name, "import", 6) == 0;
        c->state = CSS_DATA;
        return 0; /* b is read again */
    }
    if (is_url && b == '(') {
        c->import = 0;
        c->state = CSS_URL_START;
        css_start_val(c);
        return 1;
    }
    c->import = 0;
    c->state = CSS_DATA;
    return 0;
}

/*
 * The scanner's states, one function each, named after the state.  Each
 * returns how many bytes it took: 0 when it changed state and lets the
 * byte be read again in the new one, which always takes it or moves on
 * towards one that does.  Most read one byte, b; a comment and a string
 * take a run of the n bytes left in the chunk at p.  All are static and
 * called from pf__css_feed() alone, so the compiler may fold them back into
 * its loop: splitting them costs the scanner nothing per byte.
 */

static size_t css_in_data(struct pf__css *c, unsigned char b)
{
    if (b == '/') {
        c->state = CSS_SLASH;
    } else if (b == '"' || b == '\'') {
        c->state = CSS_STRING;
        c->quote = b;
        c->keep = c->import;
        c->import = 0;
        css_start_val(c);
    } else if (b == '@' || css_is_name_start(b)) {
        c->state = CSS_NAME;
        c->at = b == '@';
        c->name_len = 0;
        if (b != '@')
            css_name_byte(c, b);
    } else if (b == '\\') {
        c->state = CSS_ESCAPE;
        c->ret = CSS_NAME;
        c->at = 0;
        c->name_len = 0;
    } else if (!pf__is_ascii_space(b)) {
        c->import = 0;
    }
    return 1;
}

static size_t css_in_slash(struct pf__css *c, unsigned char b)
{
    if (b == '*') {
        c->state = CSS_COMMENT;
        return 1;
    }
    c->import = 0;
    c->state = CSS_DATA;
    return 0;
}

/* In a comment only a '*' can matter, so memchr() skips to the next. */
static size_t css_in_comment(struct pf__css *c, const unsigned char *p,
                             size_t n)
{
    const unsigned char *star = memchr(p, '*', n);

    if (star == NULL)
        return n;
    c->state = CSS_COMMENT_STAR;
    return (size_t)(star - p) + 1;
}

static size_t css_in_comment_star(struct pf__css *c, unsigned char b)
{
    if (b == '/')
        c->state = CSS_DATA;
    else if (b != '*')
        c->state = CSS_COMMENT;
    return 1;
}

static size_t css_in_name(struct pf__css *c, unsigned char b)
{
    if (css_is_name(b)) {
        css_name_byte(c, b);
        return 1;
    }
    if (b == '\\') {
        c->state = CSS_ESCAPE;
        c->ret = CSS_NAME;
        return 1;
    }
    return (size_t)css_end_name(c, b);
}

/*
 * A string's plain bytes are taken as one run, up to the next byte that
 * means something (its quote, '\', a line end) or a NUL, which becomes
 * U+FFFD and is taken alone, so that what a URL holds never depends on
 * where the input was cut.  Only a string that is a URL is kept; any
 * other is stepped through a byte at a time.
 */
static size_t css_in_string(struct pf__css *c, const unsigned char *p, size_t n)
{
    unsigned char b = p[0];
    size_t j = 1;

    if (b == c->quote) {
        c->state = CSS_DATA;
        if (c->keep)
            css_emit(c);
        return 1;
    }
    if (b == '\n' || b == '\r' || b == '\f') {
        c->state = CSS_DATA; /* a bad string: dropped */
        return 0;
    }
    if (b == '\\') {
        c->state = CSS_ESCAPE;
        c->ret = CSS_STRING;
        return 1;
    }
    if (c->keep && b == '\0') {
        /* A NUL on its own: what follows it is the next call's. */
        c->ret = CSS_STRING;
        css_code_point(c, 0);
        return 1;
    }
    if (c->keep) {
        while (j < n && p[j] != c->quote && p[j] != '\\' && p[j] != '\n' &&
               p[j] != '\r' && p[j] != '\f' && p[j] != '\0')
            j++;
        c->ret = CSS_STRING;
        css_val_bytes(c, (const char *)p, j);
    }
    return j;
}

static size_t css_in_url_start(struct pf__css *c, unsigned char b)
{
    if (pf__is_ascii_space(b))
        return 1;
    if (b == '"' || b == '\'') {
        c->state = CSS_STRING;
        c->quote = b;
        c->keep = 1;
        return 1;
    }
    if (b == ')') {
        c->state = CSS_DATA; /* url(): nothing */
        return 1;
    }
    c->state = CSS_URL;
    return 0;
}

static size_t css_in_url(struct pf__css *c, unsigned char b)
{
    if (b == ')') {
        c->state = CSS_DATA;
        css_emit(c);
    } else if (pf__is_ascii_space(b)) {
        c->state = CSS_URL_END;
    } else if (b == '"' || b == '\'' || b == '(' || b == 0x7f ||
               (b < 0x20 && b != 0)) {
        c->state = CSS_BAD_URL;
        return 0;
    } else if (b == '\\') {
        c->state = CSS_ESCAPE;
        c->ret = CSS_URL;
    } else if (b == 0) {
        c->ret = CSS_URL;
        css_code_point(c, 0);
    } else {
        css_val_bytes(c, (const char *)&b, 1);
    }
    return 1;
}

static size_t css_in_url_end(struct pf__css *c, unsigned char b)
{
    if (pf__is_ascii_space(b))
        return 1;
    if (b == ')') {
        c->state = CSS_DATA;
        css_emit(c);
        return 1;
    }
    c->state = CSS_BAD_URL;
    return 0;
}

static size_t css_in_bad_url(struct pf__css *c, unsigned char b)
{
    if (b == ')') {
        c->state = CSS_DATA;
        css_start_val(c);
    } else if (b == '\\') {
        c->state = CSS_ESCAPE;
        c->ret = CSS_BAD_URL;
    }
    return 1;
}

static size_t css_in_escape(struct pf__css *c, unsigned char b)
{
    if (c->ret == CSS_BAD_URL) {
        c->state = CSS_BAD_URL; /* whatever it escapes */
        return 1;
    }
    if (b == '\n' || b == '\r' || b == '\f') {
        /* Not an escape but in a string, where it joins lines. */
        if (c->ret == CSS_STRING) {
            c->state = CSS_STRING;
            c->skiplf = b == '\r';
            return 1;
        }
        if (c->ret == CSS_URL)
            c->state = CSS_BAD_URL;
        else
            css_end_name(c, b);
        return 0;
    }
    if (pf__is_hex(b)) {
        c->state = CSS_HEX;
        c->hex = 0;
        c->hex_n = 0;
        return 0;
    }
    c->state = c->ret;
    if (c->ret == CSS_NAME)
        css_name_byte(c, b);
    else if (c->ret == CSS_URL || c->keep)
        css_val_bytes(c, (const char *)&b, 1);
    return 1;
}

static size_t css_in_hex(struct pf__css *c, unsigned char b)
{
    if (pf__is_hex(b) && c->hex_n < 6) {
        c->hex = c->hex * 16 + (uint32_t)pf__hex_value(b);
        c->hex_n++;
        return 1;
    }
    css_code_point(c, c->hex);
    c->state = c->ret;
    if (pf__is_ascii_space(b)) {
        c->skiplf = b == '\r';
        return 1; /* one white space ends the escape */
    }
    return 0;
}

/* Any thread, as are all that follow: c is the caller's alone. */
void pf__css_init(struct pf__css *c, pf__css_emit_fn *emit, void *userdata)
{
    memset(c, 0, sizeof(*c));
    c->state = CSS_DATA;
    c->emit = emit;
    c->userdata = userdata;
}

void pf__css_reset(struct pf__css *c)
{
    css_reset(c);
    c->stop = 0;
    c->err = 0;
}

/*
 * Scan n bytes of CSS, a flat dispatch on the state.  The LF after a CR
 * that ended an escape is dropped here, before any state sees it, since
 * it may come in the next chunk.
 */
void pf__css_feed(struct pf__css *c, const char *text, size_t n)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;

    while (i < n && !c->stop) {
        unsigned char b = p[i];

        if (c->skiplf) {
            c->skiplf = 0;
            if (b == '\n') {
                i++;
                continue;
            }
        }
        switch ((enum css_state)c->state) {
        case CSS_DATA:
            i += css_in_data(c, b);
            break;
        case CSS_SLASH:
            i += css_in_slash(c, b);
            break;
        case CSS_COMMENT:
            i += css_in_comment(c, p + i, n - i);
            break;
        case CSS_COMMENT_STAR:
            i += css_in_comment_star(c, b);
            break;
        case CSS_NAME:
            i += css_in_name(c, b);
            break;
        case CSS_STRING:
            i += css_in_string(c, p + i, n - i);
            break;
        case CSS_URL_START:
            i += css_in_url_start(c, b);
            break;
        case CSS_URL:
            i += css_in_url(c, b);
            break;
        case CSS_URL_END:
            i += css_in_url_end(c, b);
            break;
        case CSS_BAD_URL:
            i += css_in_bad_url(c, b);
            break;
        case CSS_ESCAPE:
            i += css_in_escape(c, b);
            break;
        case CSS_HEX:
            i += css_in_hex(c, b);
            break;
        }
    }
}

/* The end of a stylesheet: what an unfinished token holds still counts. */
void pf__css_finish(struct pf__css *c)
{
    if (c->state == CSS_HEX) {
        css_code_point(c, c->hex);
        c->state = c->ret;
    } else if (c->state == CSS_ESCAPE) {
        c->state = c->ret;
    }
    if ((c->state == CSS_STRING && c->keep) || c->state == CSS_URL ||
        c->state == CSS_URL_END)
        css_emit(c);
    css_reset(c);
}

void pf__css_free(struct pf__css *c)
{
    if (c != NULL)
        pf__buf_free(&c->val);
}
