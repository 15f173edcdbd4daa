/*
 * html.h -- a streaming HTML tokenizer, after the HTML standard's
 * tokenizer, reduced to what finding links needs: start and end tags with
 * their attributes (values decoded: character references, the document's
 * charset), the text of raw text and RCDATA elements (<style>, <title>,
 * ...), and, on request, whether text appears between tags.  Comments,
 * DOCTYPEs, CDATA sections (bogus comments in HTML content) and the text
 * of <script> are read past.  It is fed a document a piece at a time and
 * keeps its state between pieces: a construct may be cut anywhere.  Each
 * attribute value comes with the byte offsets of its raw bytes in the
 * input, so that a later rewrite can replace exactly those bytes.  Any
 * thread: a tokenizer is one caller's storage and shares nothing.
 */
#ifndef PF_HTML_H
#define PF_HTML_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/*
 * One attribute of a tag.  name is lowercased; value is decoded to UTF-8
 * and NUL-terminated (an attribute written without a value has "").  The
 * raw value is the input's bytes [start, end): after the opening quote and
 * before the closing one, or the unquoted value (start == end when it is
 * empty or missing).  A tag may repeat an attribute: all are reported, in
 * order; the HTML standard keeps the first.
 */
struct pf__html_attr {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
    uint64_t start, end;
};

/*
 * A tag.  name is lowercased and NUL-terminated.  Pointers are valid only
 * during the callback.  An end tag's attributes are not reported.
 */
struct pf__html_tag {
    const char *name;
    size_t name_len;
    int end_tag;
    int self_closing;
    const struct pf__html_attr *attr;
    size_t nattr;
    uint64_t start; /* offset of its '<' */
};

/* A tag found.  Returns nonzero to stop the tokenizer. */
typedef int pf__html_tag_fn(const struct pf__html_tag *t, void *userdata);

/*
 * Text: raw is 1 for the content of a raw text or RCDATA element (given as
 * written, character references not decoded), 0 for text between tags
 * (only while want_data is set; not decoded either).  Valid only during
 * the call; a run of text may come in several calls.  Returns nonzero to
 * stop.
 */
typedef int pf__html_text_fn(const char *text, size_t n, int raw,
                             void *userdata);

/* What the tokenizer knows of the document's encoding. */
enum pf__html_charset {
    PF__HTML_CS_NONE = 0,  /* undeclared: UTF-8, or windows-1252 for a
                              value that is not UTF-8 */
    PF__HTML_CS_UTF8 = 1,  /* a BOM or <meta> said UTF-8 */
    PF__HTML_CS_OTHER = 2, /* a <meta> named another: values converted */
    PF__HTML_CS_UTF16 = 3  /* a UTF-16 BOM: this tokenizer cannot read it */
};

struct pf__html_araw; /* html.c: an attribute being read */

/*
 * The tokenizer's state, in the caller's storage.  The tag being read is
 * kept whole (its name and raw attribute values, in tag), up to
 * PF__HTML_TAG_MAX bytes: attributes past that are dropped.
 */
struct pf__html {
    unsigned char state; /* enum html_state, in html.c */
    unsigned char ret;   /* the state an end tag match returns to */
    unsigned char raw;   /* the raw text element open (enum, html.c) */
    unsigned char match; /* bytes of an end tag name matched */
    unsigned char end_tag, self_closing; /* of the tag being read */
    unsigned char too_big;               /* it passed PF__HTML_TAG_MAX */
    unsigned char stop;                  /* by a callback, an error or UTF-16 */
    unsigned char cs;                    /* enum pf__html_charset */
    unsigned char bom;  /* the first byte, while a BOM may follow */
    int want_data;      /* the caller's: report text between tags */
    int err;            /* PF_ENOMEM: stopped */
    uint64_t off;       /* offset of the next byte fed */
    uint64_t tag_start; /* offset of the '<' of the tag being read */
    struct pf__buf tag; /* name, NUL, then each attribute's name, value */
    size_t name_len;
    struct pf__html_araw *araw; /* the attributes being read */
    size_t nattr, attr_cap;
    struct pf__html_attr *attr; /* the attributes being reported */
    struct pf__buf val;         /* decoded values */
    void *cd;                   /* iconv_t: the declared charset */
    void *cp1252;               /* iconv_t: windows-1252, when needed */
    char pend[16];              /* bytes held while an end tag may start */
    pf__html_tag_fn *on_tag;
    pf__html_text_fn *on_text;
    void *userdata;
};

#define PF__HTML_TAG_MAX (8 * 1024 * 1024)

/* Make h a tokenizer at the start of a document.  Cannot fail. */
void pf__html_init(struct pf__html *h, pf__html_tag_fn *on_tag,
                   pf__html_text_fn *on_text, void *userdata);

/*
 * Tokenize the next n bytes of the document, calling back for each tag
 * and text they complete.  Does nothing once stopped (by a callback, by a
 * UTF-16 BOM: cs says so, or by an allocation failure: err says so).
 */
void pf__html_feed(struct pf__html *h, const char *p, size_t n);

/*
 * The end of the document: a tag cut short by it is dropped, as the HTML
 * standard does; text held back is reported.
 */
void pf__html_finish(struct pf__html *h);

/* Free what h holds; NULL is a no-op. */
void pf__html_free(struct pf__html *h);

/*
 * Decode s (n bytes, raw as in the document) as an attribute value: the
 * document's charset as h knows it, character references, NUL bytes.
 * Appends to out and NUL-terminates it.  Returns 0 or PF_ENOMEM.
 */
int pf__html_decode(struct pf__html *h, const char *s, size_t n,
                    struct pf__buf *out);

#endif /* PF_HTML_H */
