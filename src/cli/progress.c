/*
 * progress.c -- the progress display of pfetch(1).  Writes to standard
 * error only.  The bar is erased before any other line is printed, so
 * messages never end up glued to it.  A URL is printed with its password
 * masked (pf_url_mask()), never as the library hands it over.
 */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

void progress_init(struct progress *p, enum progress_mode mode, int quiet,
                   int verbose)
{
    struct winsize ws;

    memset(p, 0, sizeof(*p));
    p->mode = quiet ? PROGRESS_NONE : mode;
    p->quiet = quiet;
    p->verbose = verbose;
    p->width = 80;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20)
        p->width = ws.ws_col;
}

void progress_format_bytes(char *buf, size_t n, double bytes)
{
    static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;

    while (bytes >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, n, "%.0f B", bytes);
    else
        snprintf(buf, n, "%.1f %s", bytes, units[u]);
}

static void clear_bar(struct progress *p)
{
    if (p->bar_shown) {
        fputs("\r\033[K", stderr);
        p->bar_shown = 0;
    }
}

void progress_on_log(int level, const char *msg, void *ud)
{
    struct progress *p = ud;

    if (level == PF_LOG_ERROR || (level == PF_LOG_WARN && !p->quiet) ||
        (level >= PF_LOG_INFO && p->verbose)) {
        clear_bar(p);
        fprintf(stderr, "pfetch: %s\n", msg);
    }
}

/*
 * url with its password masked (pf_url_mask()): in buf, or in *heap
 * (malloc'd, for the caller to free) when it does not fit.  Out of
 * memory, a cut text, masked still: never the password.
 */
static const char *masked(const char *url, char *buf, size_t size, char **heap)
{
    int n = pf_url_mask(url, buf, size);

    *heap = NULL;
    if (n < 0)
        return "(URL)";
    if ((size_t)n < size)
        return buf;
    *heap = malloc((size_t)n + 1);
    if (*heap == NULL)
        return buf;
    pf_url_mask(url, *heap, (size_t)n + 1);
    return *heap;
}

/* One line for r, if the mode asks for it; url is r->url masked. */
static void done_line(struct progress *p, const struct pf_result *r,
                      const char *url)
{
    char size[32];

    if (r->err == PF_EROBOTS) {
        /* The site's wish, not a failure: a line in lines mode or -v. */
        if (p->mode == PROGRESS_LINES || (p->verbose && !p->quiet)) {
            clear_bar(p);
            fprintf(stderr, "pfetch: %s: %s\n", url, r->error);
        }
        return;
    }
    if (r->err == PF_ECANCELED) {
        /*
         * A stop leaves every URL not finished with a row saying so; on
         * the terminal, the summary counts them.  One line each with -v.
         */
        p->interrupted++;
        if (p->verbose && !p->quiet) {
            clear_bar(p);
            fprintf(stderr, "pfetch: %s: %s\n", url, r->error);
        }
        return;
    }
    if (r->err != 0) {
        /* Failures are errors: shown in every mode, -q included. */
        clear_bar(p);
        fprintf(stderr, "pfetch: %s: %s\n", url, r->error);
        return;
    }
    if (p->mode != PROGRESS_LINES)
        return;
    progress_format_bytes(size, sizeof(size), (double)r->bytes);
    fprintf(stderr, "%ld %s %s -> %s\n", r->status, size, url,
            r->path != NULL ? r->path : "-");
}

/*
 * The library hands on_done the real URL, password included: the
 * terminal gets it masked, as the log does.
 */
void progress_on_done(pf_crawler *c, const struct pf_result *r, void *ud)
{
    char buf[1024], *heap;

    (void)c;
    done_line(ud, r, masked(r->url, buf, sizeof(buf), &heap));
    free(heap);
}

void rate_add(struct rate_window *w, const struct pf_stats *st)
{
    w->t_ms[w->next] = st->elapsed_ms;
    w->done[w->next] = st->done;
    w->bytes[w->next] = st->bytes;
    w->next = (w->next + 1) % RATE_SAMPLES;
    if (w->n < RATE_SAMPLES)
        w->n++;
}

int64_t rate_get(const struct rate_window *w, double *files_per_s,
                 double *bytes_per_s)
{
    size_t last = (w->next + RATE_SAMPLES - 1) % RATE_SAMPLES;
    size_t base = (w->next + RATE_SAMPLES - w->n) % RATE_SAMPLES;
    size_t i, k;
    int64_t span;

    *files_per_s = *bytes_per_s = 0;
    if (w->n < 2)
        return 0;
    /* The newest sample at least a window old, else the oldest held. */
    for (k = 1; k < w->n; k++) {
        i = (last + RATE_SAMPLES - k) % RATE_SAMPLES;
        if (w->t_ms[last] - w->t_ms[i] >= RATE_WINDOW_MS) {
            base = i;
            break;
        }
    }
    span = w->t_ms[last] - w->t_ms[base];
    if (span <= 0)
        return 0;
    *files_per_s =
        (double)(w->done[last] - w->done[base]) * 1000.0 / (double)span;
    *bytes_per_s =
        (double)(w->bytes[last] - w->bytes[base]) * 1000.0 / (double)span;
    return span;
}

double progress_eta(const struct pf_stats *st, int open_total,
                    double files_per_s, double bytes_per_s)
{
    uint64_t left = st->accepted > st->done ? st->accepted - st->done : 0;
    double t_files = 0, t_bytes = 0;

    if (open_total || st->reading > 0)
        return -1;
    if (left == 0)
        return 0;
    /*
     * Files whose size is not known (not started, or no Content-Length)
     * can only be counted, at the rate files ended lately, which says
     * how the next ones will go while some wait to start.  Once all are
     * in flight, it no longer does: one large file would show 0:00:00
     * for minutes.  When every file left is a transfer of known size,
     * the bytes tell it all.
     */
    if (left > st->sized) {
        if (files_per_s <= 0 || st->queued == 0)
            return -1;
        t_files = (double)left / files_per_s;
    }
    if (st->bytes_left > 0) {
        if (bytes_per_s <= 0)
            return -1;
        t_bytes = (double)st->bytes_left / bytes_per_s;
    }
    return t_files > t_bytes ? t_files : t_bytes;
}

enum { F_COUNT, F_BYTES, F_RATE, F_ACTIVE, F_ETA, F_FAILED, F_N };

/* The fields in order, the shown ones joined by sep, into buf. */
static int join_fields(char *buf, size_t n, char f[F_N][48], const int *show,
                       const char *sep)
{
    size_t off = 0;
    int i;

    buf[0] = '\0';
    for (i = 0; i < F_N && off < n; i++) {
        if (show[i] && f[i][0] != '\0')
            off += (size_t)snprintf(buf + off, n - off, "%s%s",
                                    off > 0 ? sep : "", f[i]);
    }
    return (int)off;
}

void progress_format_bar(char *buf, size_t n, int width,
                         const struct pf_stats *st, int open_total,
                         double bytes_per_s, double eta)
{
    /* What goes first when the line is too long; -1: the compact form. */
    static const int drop[] = {F_ACTIVE, F_BYTES, -1, F_RATE, F_FAILED, F_ETA};
    int show[F_N] = {1, 1, 1, 1, 1, 1};
    const char *plus = open_total || st->reading > 0 ? "+" : "";
    const char *sep = "  ";
    char f[F_N][48], rate[32];
    size_t k;

    progress_format_bytes(f[F_BYTES], sizeof(f[0]), (double)st->bytes);
    progress_format_bytes(rate, sizeof(rate), bytes_per_s);
    snprintf(f[F_RATE], sizeof(f[0]), "%s/s", rate);
    snprintf(f[F_ACTIVE], sizeof(f[0]), "%llu active",
             (unsigned long long)st->in_flight);
    f[F_ETA][0] = f[F_FAILED][0] = '\0';
    if (eta >= 0) {
        long s = (long)(eta + 0.5);

        snprintf(f[F_ETA], sizeof(f[0]), "ETA %ld:%02ld:%02ld", s / 3600,
                 s / 60 % 60, s % 60);
    }
    if (st->failed > 0)
        snprintf(f[F_FAILED], sizeof(f[0]), "%llu failed",
                 (unsigned long long)st->failed);
    snprintf(f[F_COUNT], sizeof(f[0]), "[%llu/%llu%s files]",
             (unsigned long long)st->done, (unsigned long long)st->accepted,
             plus);
    for (k = 0; join_fields(buf, n, f, show, sep) > width - 1; k++) {
        if (k == sizeof(drop) / sizeof(drop[0])) {
            if (width >= 1 && (size_t)width <= n)
                buf[width - 1] = '\0';
            return;
        }
        if (drop[k] >= 0) {
            show[drop[k]] = 0;
            continue;
        }
        sep = " ";
        snprintf(f[F_COUNT], sizeof(f[0]), "[%llu/%llu%s]",
                 (unsigned long long)st->done, (unsigned long long)st->accepted,
                 plus);
    }
}

void progress_on_tick(pf_crawler *c, const struct pf_stats *st, void *ud)
{
    struct progress *p = ud;
    double files_per_s, bytes_per_s, eta = -1;
    char line[256];

    (void)c;
    if (p->mode != PROGRESS_BAR)
        return;
    rate_add(&p->rates, st);
    /* Under a second of samples is noise: no ETA yet. */
    if (rate_get(&p->rates, &files_per_s, &bytes_per_s) >= 1000)
        eta = progress_eta(st, p->crawl, files_per_s, bytes_per_s);
    progress_format_bar(line, sizeof(line), p->width, st, p->crawl, bytes_per_s,
                        eta);
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->bar_shown = 1;
}

void progress_summary(struct progress *p, const struct pf_stats *st)
{
    char bytes[32], rate[32], refused[64] = "";
    double secs = (double)st->elapsed_ms / 1000.0;

    clear_bar(p);
    /* Said even with -q: the run did not do all it was asked. */
    if (p->interrupted > 0)
        fprintf(stderr,
                "pfetch: interrupted: %llu URL%s not finished; the same "
                "command with -c resumes\n",
                p->interrupted, p->interrupted == 1 ? "" : "s");
    if (p->quiet)
        return;
    progress_format_bytes(bytes, sizeof(bytes), (double)st->bytes);
    progress_format_bytes(rate, sizeof(rate),
                          secs > 0 ? (double)st->bytes / secs : 0);
    if (st->refused > 0)
        snprintf(refused, sizeof(refused), ", %llu refused by robots.txt",
                 (unsigned long long)st->refused);
    fprintf(stderr,
            "pfetch: %llu fetched, %llu failed%s, %s in %.2f s (%s/s)\n",
            (unsigned long long)(st->done - st->failed - st->refused),
            (unsigned long long)(st->failed - p->interrupted), refused, bytes,
            secs, rate);
}
