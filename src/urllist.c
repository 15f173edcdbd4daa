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
#include <poll.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "url.h"
#include "urllist.h"
#include "util.h"

/* Longest scheme name quoted in a bad-line message. */
#define SCHEME_QUOTE_MAX 32

/* What one read(2) of a pipe, socket or terminal takes at most. */
#define POLL_READ_SIZE (64 * 1024)

/* poll_byte()'s answers besides a byte and EOF. */
#define BYTE_AGAIN (-2) /* nothing to read now */
#define BYTE_ERR (-3)   /* a read error: errno says which */

struct pf__urllist {
    FILE *fp;
    char *name; /* our copy, for messages */
    int own_fp;
    pf__badline_fn *bad;
    void *userdata;
    CURLU *cu;           /* reused for every line */
    char *line;          /* PF__URL_MAX + 1: the current line's head */
    size_t line_len;     /* bytes of line kept, at most PF__URL_MAX */
    int too_long;        /* the current line had more than that */
    long lineno;         /* of the current line, 1-based */
    int got;             /* the current line has a byte */
    int partial;         /* ...and was cut off by BYTE_AGAIN */
    int eof;             /* the end of the list was read */
    int fd;              /* >= 0: read(2) only when ready; -1: stdio */
    unsigned char *rbuf; /* fd's bytes read and not taken yet */
    size_t rpos, rlen;
    int err;                /* a read error happened: sticky */
    int saved_errno;        /* errno of that read error */
    struct pf__buf scratch; /* the line, spaces encoded; a pass's URL */
    struct pf__buf url;     /* the last URL returned */
    char msg[128];          /* the bad-line message being reported */
};

/*
 * The list reader.  A reader is used by one thread at a time (the loop
 * thread, in the engine); readers are independent of each other.
 *
 * A regular file is read through stdio: it never makes a reader wait.
 * A pipe, a socket or a terminal can: their descriptor is read with
 * read(2), and only when poll() says that read(2) will not block, so
 * that a list fed slowly (a producer's pipe, a person typing) never
 * stops the loop thread.  pf__urllist_next() then says
 * PF__URLLIST_AGAIN, and the caller waits for pf__urllist_fd() to be
 * readable.  Whatever stdio had buffered of such a stream before is not
 * seen: the engine reads its streams from their start.
 */

/* The descriptor to read with read(2) when fp may make a reader wait. */
static int pollable_fd(FILE *fp)
{
    int fd = fileno(fp);
    struct stat st;

    if (fd < 0 || fstat(fd, &st) != 0)
        return -1;
    if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
        return fd;
    if (S_ISCHR(st.st_mode) && isatty(fd))
        return fd;
    return -1;
}

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
    r->fd = pollable_fd(fp);
    if (r->fd >= 0) {
        r->rbuf = pf__malloc(POLL_READ_SIZE);
        if (r->rbuf == NULL)
            goto fail_rbuf;
    }
    r->fp = fp;
    r->own_fp = own_fp;
    r->bad = bad;
    r->userdata = userdata;
    *out = r;
    return 0;
fail_rbuf:
    curl_url_cleanup(r->cu);
fail_cu:
    pf__free(r->line);
fail_line:
    pf__free(r->name);
fail_name:
    pf__free(r);
    return PF_ENOMEM;
}

/*
 * The next byte of a pollable list: from what the last read(2) got, else
 * from one more read(2) when poll() says it will not block.
 */
static int poll_byte(struct pf__urllist *r)
{
    struct pollfd p;
    ssize_t n;

    if (r->rpos < r->rlen)
        return r->rbuf[r->rpos++];
    p.fd = r->fd;
    p.events = POLLIN;
    p.revents = 0;
    if (poll(&p, 1, 0) <= 0)
        return BYTE_AGAIN; /* not ready, or EINTR: the caller comes back */
    n = read(r->fd, r->rbuf, POLL_READ_SIZE);
    if (n > 0) {
        r->rlen = (size_t)n;
        r->rpos = 1;
        return r->rbuf[0];
    }
    if (n == 0)
        return EOF;
    return errno == EAGAIN || errno == EINTR ? BYTE_AGAIN : BYTE_ERR;
}

/* Keep byte c of the current line: its first PF__URL_MAX bytes. */
static inline void keep_byte(struct pf__urllist *r, int c)
{
    r->got = 1;
    if (r->line_len < PF__URL_MAX)
        r->line[r->line_len++] = (char)c;
    else
        r->too_long = 1;
}

/* The rest of the current line from stdio; c is where it stopped. */
static int read_stdio(struct pf__urllist *r)
{
    int c;

    /*
     * getc_unlocked() is a pointer bump in the stdio buffer, much cheaper
     * than a call per byte.
     */
    flockfile(r->fp);
    for (;;) {
        c = getc_unlocked(r->fp);
        if (c == EOF || c == '\n')
            break;
        keep_byte(r, c);
    }
    funlockfile(r->fp);
    if (c == EOF && ferror(r->fp))
        return BYTE_ERR;
    return c;
}

/* The rest of the current line from a pollable descriptor. */
static int read_polled(struct pf__urllist *r)
{
    int c;

    for (;;) {
        c = poll_byte(r);
        if (c < 0 || c == '\n')
            return c;
        keep_byte(r, c);
    }
}

/*
 * Read the next line into r->line: its first PF__URL_MAX bytes, without
 * the newline; the rest of a longer line is read and dropped, and the line
 * marked too long (its head is kept so that a long comment is still known
 * for one).  Returns 1 with a line, 0 at end of file, PF__URLLIST_AGAIN
 * when a pollable list has no whole line yet (what it had is kept for the
 * next call), PF_EIO on a read error (errno kept in r->saved_errno).
 */
static int read_line(struct pf__urllist *r)
{
    int c;

    if (!r->partial) {
        r->line_len = 0;
        r->too_long = 0;
        r->got = 0;
    }
    r->partial = 0;
    if (r->eof)
        return 0;
    c = r->fd >= 0 ? read_polled(r) : read_stdio(r);
    if (c == '\n')
        return 1;
    if (c == BYTE_AGAIN) {
        r->partial = 1;
        return PF__URLLIST_AGAIN;
    }
    if (c == BYTE_ERR) {
        r->saved_errno = errno != 0 ? errno : EIO;
        r->err = 1;
        return PF_EIO;
    }
    r->eof = 1;
    return r->got;
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
        if (rc == 0 || rc == PF__URLLIST_AGAIN)
            return rc;
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
    pf__free(r->rbuf);
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

        if (rc == 1 || rc == PF_ENOMEM || rc == PF__URLLIST_AGAIN)
            return rc;
        pf__urllist_close(set->v[set->cur]);
        set->v[set->cur++] = NULL;
        if (rc < 0)
            return rc;
    }
    return 0;
}

int pf__urllist_fd(const struct pf__urllist *r)
{
    return r->fd;
}

int pf__urlset_fd(const struct pf__urlset *set)
{
    return set->cur < set->n ? pf__urllist_fd(set->v[set->cur]) : -1;
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
