/*
 * progress.h -- what pfetch(1) shows while it runs: a one-line bar
 * redrawn in place on a terminal, one line per finished URL, or nothing;
 * and the summary at the end.  Everything goes to standard error, so
 * standard output stays free for the user's pipes.  Part of the command,
 * not of the library: it uses only pfetch.h.
 */
#ifndef PF_PROGRESS_H
#define PF_PROGRESS_H

#include "pfetch.h"

enum progress_mode { PROGRESS_NONE, PROGRESS_LINES, PROGRESS_BAR };

/*
 * The recent rates: a ring of the last samples of the counters, one per
 * progress tick, from which rates over the last RATE_WINDOW_MS come.  An
 * average since the start would hide a slowdown for minutes.
 */
#define RATE_SAMPLES 64
#define RATE_WINDOW_MS 5000

struct rate_window {
    int64_t t_ms[RATE_SAMPLES];
    uint64_t done[RATE_SAMPLES];
    uint64_t bytes[RATE_SAMPLES];
    size_t next; /* where the next sample goes */
    size_t n;    /* samples held, at most RATE_SAMPLES */
};

struct progress {
    enum progress_mode mode;
    int quiet;   /* -q: errors only */
    int verbose; /* -v: informational messages too */
    int crawl;   /* -r or -p: pages add URLs, the total is never known */
    int bar_shown;
    int width;                      /* terminal columns */
    unsigned long long interrupted; /* URLs a stop left unfinished */
    struct rate_window rates;
};

void progress_init(struct progress *p, enum progress_mode mode, int quiet,
                   int verbose);
void progress_on_done(pf_crawler *c, const struct pf_result *r, void *ud);
void progress_on_log(int level, const char *msg, void *ud);
void progress_on_tick(pf_crawler *c, const struct pf_stats *st, void *ud);
void progress_summary(struct progress *p, const struct pf_stats *st);

/* "12.3 MiB" into buf. */
void progress_format_bytes(char *buf, size_t n, double bytes);

/* Records the counters of st at st->elapsed_ms. */
void rate_add(struct rate_window *w, const struct pf_stats *st);

/*
 * Files and bytes per second over the last RATE_WINDOW_MS (or since the
 * first sample, if that is more recent).  Returns the milliseconds the
 * rates span; 0 (and rates of 0) with fewer than two samples.
 */
int64_t rate_get(const struct rate_window *w, double *files_per_s,
                 double *bytes_per_s);

/*
 * Seconds left, or -1 when they cannot be told: while the total is still
 * growing (a list being read, or a crawl: open_total), when a rate it
 * needs is 0, or when only transfers in flight are left and some have no
 * known size.  The larger of two estimates, each from a recent rate: the
 * files left at the file rate, which holds for many small files, and
 * the bytes still to come of transfers whose size is known at the byte
 * rate, which holds for the last large ones.
 */
double progress_eta(const struct pf_stats *st, int open_total,
                    double files_per_s, double bytes_per_s);

/*
 * The bar for a terminal of width columns, into buf (at most width - 1
 * characters): "[done/accepted files]" ("+" after the total while it is
 * not known), bytes, the recent rate, transfers in flight, the ETA
 * (eta < 0: none) and failures.  Narrow terminals lose the least useful
 * fields first.
 */
void progress_format_bar(char *buf, size_t n, int width,
                         const struct pf_stats *st, int open_total,
                         double bytes_per_s, double eta);

#endif /* PF_PROGRESS_H */
