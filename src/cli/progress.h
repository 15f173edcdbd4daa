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

struct progress {
    enum progress_mode mode;
    int quiet;   /* -q: errors only */
    int verbose; /* -v: informational messages too */
    int bar_shown;
    int width;                      /* terminal columns */
    unsigned long long interrupted; /* URLs a stop left unfinished */
};

void progress_init(struct progress *p, enum progress_mode mode, int quiet,
                   int verbose);
void progress_on_done(pf_crawler *c, const struct pf_result *r, void *ud);
void progress_on_log(int level, const char *msg, void *ud);
void progress_on_tick(pf_crawler *c, const struct pf_stats *st, void *ud);
void progress_summary(struct progress *p, const struct pf_stats *st);

/* "12.3 MiB" into buf. */
void progress_format_bytes(char *buf, size_t n, double bytes);

#endif /* PF_PROGRESS_H */
