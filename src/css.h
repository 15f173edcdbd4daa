/*
 * css.h -- a streaming scanner for the references of CSS: url(x),
 * url("x") and @import "x".  It is fed a stylesheet, a <style> element or
 * a style="" attribute a piece at a time and hands each reference it finds,
 * as written, to a callback; resolving it is the caller's business.  Any
 * thread: a scanner is one caller's storage and shares nothing.
 */
#ifndef PF_CSS_H
#define PF_CSS_H

#include <stddef.h>
#include <stdint.h>

#include "links.h"
#include "util.h"

struct pf__css;

/*
 * A reference found: ref holds its n bytes, escapes decoded, not
 * NUL-terminated and valid only during the call.  kind is always
 * PF__LINK_REQ: whatever a stylesheet refers to is a requisite of the
 * page.  Returns nonzero to stop the scan: the scanner then calls it no
 * more, and pf__css_feed() reads nothing more, until pf__css_reset().
 */
typedef int pf__css_emit_fn(const char *ref, size_t n, int kind,
                            void *userdata);

/*
 * The scanner's state, in the caller's storage.  Only what it must
 * remember between bytes: the URL being read (val, at most PF__URL_MAX
 * bytes: a longer one is dropped), the first bytes of a name (to know
 * "url" and "import"), an escape being read.
 */
struct pf__css {
    unsigned char state;  /* enum css_state, in css.c */
    unsigned char ret;    /* CSS_ESCAPE/CSS_HEX: the state it belongs to */
    unsigned char quote;  /* CSS_STRING: its quote */
    unsigned char keep;   /* CSS_STRING: the string is a URL */
    unsigned char at;     /* CSS_NAME: an @keyword */
    unsigned char import; /* "@import" was the last token */
    unsigned char skiplf; /* a CR ended an escape: a LF may follow */
    unsigned char too_long;
    unsigned char stop; /* emit asked to stop, or err is set */
    unsigned hex_n;
    uint32_t hex;
    size_t name_len;
    char name[8];
    struct pf__buf val;
    pf__css_emit_fn *emit;
    void *userdata;
    int err; /* PF_ENOMEM once the URL being read could not grow */
};

/*
 * Make c a scanner at the start of a stylesheet, calling emit with
 * userdata for each reference.  Allocates nothing; cannot fail.
 */
void pf__css_init(struct pf__css *c, pf__css_emit_fn *emit, void *userdata);

/*
 * Start another stylesheet, dropping whatever c was in the middle of,
 * and clear stop and err.  The buffer c holds is kept for reuse.
 */
void pf__css_reset(struct pf__css *c);

/*
 * Scan the next n bytes of the stylesheet, calling emit for each
 * reference they complete.  A reference may span any number of calls.
 * Does nothing once stopped.  An allocation failure sets c->err to
 * PF_ENOMEM and stops the scan; the references emitted before it stand.
 */
void pf__css_feed(struct pf__css *c, const char *text, size_t n);

/*
 * The end of the stylesheet: a reference cut short by it (an unclosed
 * url( or string) still counts and is emitted, unless the scan was
 * stopped.  May set c->err as pf__css_feed() does.  Then c is reset, as
 * by pf__css_reset() except that stop and err stay for the caller to read.
 */
void pf__css_finish(struct pf__css *c);

/* Free what c holds; c may then be initialised again.  NULL is a no-op. */
void pf__css_free(struct pf__css *c);

#endif /* PF_CSS_H */
