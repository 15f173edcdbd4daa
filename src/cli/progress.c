/*
 * progress.c -- the progress display of pfetch(1).  Writes to standard
 * error only.  The bar is erased before any other line is printed, so
 * messages never end up glued to it.
 */
#include "progress.h"

#include <stdio.h>
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

void progress_on_done(pf_crawler *c, const struct pf_result *r, void *ud)
{
    struct progress *p = ud;
    char size[32];

    (void)c;
    if (r->err == PF_EROBOTS) {
        /* The site's wish, not a failure: a line in lines mode or -v. */
        if (p->mode == PROGRESS_LINES || (p->verbose && !p->quiet)) {
            clear_bar(p);
            fprintf(stderr, "pfetch: %s: %s\n", r->url, r->error);
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
            fprintf(stderr, "pfetch: %s: %s\n", r->url, r->error);
        }
        return;
    }
    if (r->err != 0) {
        /* Failures are errors: shown in every mode, -q included. */
        clear_bar(p);
        fprintf(stderr, "pfetch: %s: %s\n", r->url, r->error);
        return;
    }
    if (p->mode != PROGRESS_LINES)
        return;
    progress_format_bytes(size, sizeof(size), (double)r->bytes);
    fprintf(stderr, "%ld %s %s -> %s\n", r->status, size, r->url,
            r->path != NULL ? r->path : "-");
}

void progress_on_tick(pf_crawler *c, const struct pf_stats *st, void *ud)
{
    struct progress *p = ud;
    char bytes[32], rate[32], line[256], eta[32];
    double secs = (double)st->elapsed_ms / 1000.0;
    int n;

    (void)c;
    if (p->mode != PROGRESS_BAR)
        return;
    progress_format_bytes(bytes, sizeof(bytes), (double)st->bytes);
    progress_format_bytes(rate, sizeof(rate),
                          secs > 0 ? (double)st->bytes / secs : 0);
    eta[0] = '\0';
    if (st->done > 0 && st->accepted > st->done && secs > 0) {
        double left =
            (double)(st->accepted - st->done) * secs / (double)st->done;
        long s = (long)(left + 0.5);

        snprintf(eta, sizeof(eta), "  ETA %ld:%02ld:%02ld", s / 3600,
                 s / 60 % 60, s % 60);
    }
    n = snprintf(line, sizeof(line),
                 "[%llu/%llu files] %s  %s/s  %llu active%s%s%.0llu%s",
                 (unsigned long long)st->done, (unsigned long long)st->accepted,
                 bytes, rate, (unsigned long long)st->in_flight, eta,
                 st->failed ? "  " : "", (unsigned long long)st->failed,
                 st->failed ? " failed" : "");
    if (n > p->width - 1)
        line[p->width - 1] = '\0';
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
