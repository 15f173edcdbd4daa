/*
 * urllist.c -- the streaming reader of URL list files: one URL a line,
 * each normalised by url.c.
 *
 * This module owns the rules of the list format: what a line is, which
 * lines are skipped and what a bad line is told.  It must never hold more
 * than PF__URL_MAX bytes of one line, never allocate per line beyond what
 * curl's URL API needs, never print (bad lines go to the caller's callback)
 * and never crash or read past its buffers, whatever bytes a list holds.
 * The URL's spelling is url.c's; deduplication, scope and fetching are the
 * engine's business, not this file's.
 */
#include <errno.h>
#include <string.h>

#include <curl/curl.h>

#include "url.h"
#include "urllist.h"
#include "util.h"

/* Longest scheme name quoted in a bad-line message. */
#define SCHEME_QUOTE_MAX 32

struct pf__urllist {
    FILE *fp;
    char *name; /* our copy, for messages */
    int own_fp;
    pf__badline_fn *bad;
    void *userdata;
    CURLU *cu;              /* reused for every line */
    char *line;             /* PF__URL_MAX + 1: the current line's head */
    size_t line_len;        /* bytes of line kept, at most PF__URL_MAX */
    int too_long;           /* the current line had more than that */
    long lineno;            /* of the current line, 1-based */
    int eof;                /* getc() said end of file */
    int err;                /* a read error happened: sticky */
    int saved_errno;        /* errno of that read error */
    struct pf__buf scratch; /* the line, spaces encoded; a pass's URL */
    struct pf__buf url;     /* the last URL returned */
    char msg[128];          /* the bad-line message being reported */
};

/*
 * The list reader.  A reader is used by one thread at a time (the loop
 * thread, in the engine); readers are independent of each other.
 */

int pf__urllist_open(struct pf__urllist **out, FILE *fp, const char *name,
                     int own_fp, pf__badline_fn *bad, void *userdata)
{
    struct pf__urllist *r;

    if (out == NULL || fp == NULL)
        return PF_EINVAL;
    r = pf__calloc(1, sizeof(*r));
    if (r == NULL)
        return PF_ENOMEM;
    r->name = pf__strdup(name != NULL ? name : "(list)");
    if (r->name == NULL)
        goto fail_name;
    r->line = pf__malloc(PF__URL_MAX + 1);
    if (r->line == NULL)
        goto fail_line;
    r->cu = curl_url();
    if (r->cu == NULL)
        goto fail_cu;
    r->fp = fp;
    r->own_fp = own_fp;
    r->bad = bad;
    r->userdata = userdata;
    *out = r;
    return 0;
fail_cu:
    pf__free(r->line);
fail_line:
    pf__free(r->name);
fail_name:
    pf__free(r);
    return PF_ENOMEM;
}

/*
 * Read the next line into r->line: its first PF__URL_MAX bytes, without
 * the newline; the rest of a longer line is read and dropped, and the line
 * marked too long (its head is kept so that a long comment is still known
 * for one).  getc_unlocked() is a pointer bump in the stdio buffer and,
 * unlike fread() of a big block, returns what a pipe has without waiting
 * for more.  Returns 1 with a line, 0 at end of file, PF_EIO on a read
 * error (errno kept in r->saved_errno).
 */
static int read_line(struct pf__urllist *r)
{
    int got = 0;
    int c;

    r->line_len = 0;
    r->too_long = 0;
    if (r->eof)
        return 0;
    flockfile(r->fp);
    for (;;) {
        c = getc_unlocked(r->fp);
        if (c == EOF || c == '\n')
            break;
        got = 1;
        if (r->line_len < PF__URL_MAX)
            r->line[r->line_len++] = (char)c;
        else
            r->too_long = 1;
    }
    funlockfile(r->fp);
    if (c == '\n')
        return 1;
    if (ferror(r->fp)) {
        r->saved_errno = errno != 0 ? errno : EIO;
        r->err = 1;
        return PF_EIO;
    }
    r->eof = 1;
    return got;
}

/* Report the current line as bad, for reason msg. */
static void report(struct pf__urllist *r, const char *msg)
{
    if (r->bad != NULL)
        r->bad(r->name, r->lineno, msg, r->userdata);
}

static void report_url(struct pf__urllist *r, const char *s, const char *why)
{
    size_t n = pf__url_scheme_len(s);

    if (why == pf__url_why_scheme() && n > 0 && n <= SCHEME_QUOTE_MAX)
        snprintf(r->msg, sizeof(r->msg), "unsupported scheme \"%.*s\"", (int)n,
                 s);
    else if (why == pf__url_why_scheme())
        snprintf(r->msg, sizeof(r->msg), "%s", why);
    else
        snprintf(r->msg, sizeof(r->msg), "not a URL: %s", why);
    report(r, r->msg);
}

/*
 * Judge the current line: 1 and the URL in r->url when it holds a good
 * one, 0 when it is skipped (blank, comment, or bad and reported), or
 * PF_ENOMEM.
 */
static int take_line(struct pf__urllist *r)
{
    char *s = r->line;
    size_t n = r->line_len;
    const char *why = "malformed URL";
    int rc;

    if (r->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    while (n > 0 && pf__is_space((unsigned char)s[0])) {
        s++;
        n--;
    }
    if (n > 0 && s[0] == '#')
        return 0; /* a comment, however long, whatever it holds */
    if (r->too_long) {
        snprintf(r->msg, sizeof(r->msg), "line too long (over %d bytes)",
                 PF__URL_MAX);
        report(r, r->msg);
        return 0;
    }
    while (n > 0 && pf__is_space((unsigned char)s[n - 1]))
        n--;
    if (n == 0)
        return 0;
    if (memchr(s, '\0', n) != NULL) {
        report(r, "NUL byte in line");
        return 0;
    }
    s[n] = '\0'; /* fits: line has PF__URL_MAX + 1 bytes */
    rc = pf__url_normalize_with(r->cu, s, &r->scratch, &r->url, &why);
    if (rc == PF_EURL) {
        report_url(r, s, why);
        return 0;
    }
    return rc < 0 ? rc : 1;
}

int pf__urllist_next(struct pf__urllist *r, const char **url, long *lineno)
{
    int rc;

    if (r == NULL || url == NULL)
        return PF_EINVAL;
    if (r->err) {
        errno = r->saved_errno;
        return PF_EIO;
    }
    for (;;) {
        rc = read_line(r);
        if (rc == PF_EIO) {
            errno = r->saved_errno;
            return rc;
        }
        if (rc == 0)
            return 0;
        r->lineno++;
        rc = take_line(r);
        if (rc < 0)
            return rc;
        if (rc == 1)
            break;
    }
    *url = r->url.data;
    if (lineno != NULL)
        *lineno = r->lineno;
    return 1;
}

void pf__urllist_close(struct pf__urllist *r)
{
    if (r == NULL)
        return;
    if (r->own_fp)
        fclose(r->fp);
    curl_url_cleanup(r->cu);
    pf__buf_free(&r->url);
    pf__buf_free(&r->scratch);
    pf__free(r->line);
    pf__free(r->name);
    pf__free(r);
}

int pf__urlset_add(struct pf__urlset *set, FILE *fp, const char *name,
                   int own_fp, pf__badline_fn *bad, void *userdata)
{
    struct pf__urllist **v = pf__realloc(set->v, (set->n + 1) * sizeof(*v));
    int rc;

    if (v == NULL)
        return PF_ENOMEM;
    set->v = v;
    rc = pf__urllist_open(&v[set->n], fp, name, own_fp, bad, userdata);
    if (rc < 0)
        return rc;
    set->n++;
    return 0;
}

int pf__urlset_next(struct pf__urlset *set, const char **url)
{
    while (set->cur < set->n) {
        long lineno;
        int rc = pf__urllist_next(set->v[set->cur], url, &lineno);

        if (rc == 1 || rc == PF_ENOMEM)
            return rc;
        pf__urllist_close(set->v[set->cur]);
        set->v[set->cur++] = NULL;
        if (rc < 0)
            return rc;
    }
    return 0;
}

size_t pf__urlset_reading(const struct pf__urlset *set)
{
    return set->n - set->cur;
}

void pf__urlset_close(struct pf__urlset *set)
{
    for (; set->cur < set->n; set->cur++) {
        pf__urllist_close(set->v[set->cur]);
        set->v[set->cur] = NULL;
    }
}

void pf__urlset_free(struct pf__urlset *set)
{
    pf__urlset_close(set);
    pf__free(set->v);
    set->v = NULL;
    set->n = 0;
}
