/*
 * soak.c -- a long job through the library, to check that it gives back
 * what it takes: open descriptors after pf_crawler_free() are those
 * before pf_crawler_new(), and peak memory stays bounded.
 *
 * Usage: soak BASE_URL COUNT JOBS OUTDIR
 *
 * Fetches BASE_URL/f/0 .. BASE_URL/f/COUNT-1 with JOBS transfers at once
 * (the soft descriptor limit is raised to the hard one first, as pfetch
 * does).  Prints "fds BEFORE AFTER", "peak_fds N", "maxrss_kib N" and
 * "done N failed N", and exits 0 when the run completed.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "pfetch.h"

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own */
}

static int peak_fds;

/* Loop thread, every progress_ms: the descriptors open mid-run. */
static void on_progress(pf_crawler *c, const struct pf_stats *st, void *ud)
{
    int n = count_fds();

    (void)c;
    (void)st;
    (void)ud;
    if (n > peak_fds)
        peak_fds = n;
}

int main(int argc, char **argv)
{
    struct pf_config cfg;
    struct pf_stats st;
    struct rlimit rl;
    struct rusage ru;
    pf_crawler *c = NULL;
    char url[4096];
    long i, count;
    int before, after, rc;

    if (argc != 5) {
        fprintf(stderr, "usage: soak BASE_URL COUNT JOBS OUTDIR\n");
        return 2;
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (pf_global_init() != 0)
        return 3;
    count = atol(argv[2]);
    before = count_fds();
    pf_config_init(&cfg);
    cfg.jobs = (unsigned)atoi(argv[3]);
    cfg.out_dir = argv[4];
    cfg.on_progress = on_progress;
    cfg.progress_ms = 100;
    rc = pf_crawler_new(&c, &cfg);
    for (i = 0; rc == 0 && i < count; i++) {
        snprintf(url, sizeof(url), "%s/f/%ld", argv[1], i);
        rc = pf_crawler_add_url(c, url);
    }
    if (rc == 0)
        rc = pf_crawler_run(c);
    pf_crawler_stats(c, &st);
    pf_crawler_free(c);
    after = count_fds();
    getrusage(RUSAGE_SELF, &ru);
    printf("fds %d %d\npeak_fds %d\nmaxrss_kib %ld\ndone %llu failed %llu\n",
           before, after, peak_fds, ru.ru_maxrss, (unsigned long long)st.done,
           (unsigned long long)st.failed);
    pf_global_cleanup();
    if (rc != 0)
        fprintf(stderr, "soak: %s\n", pf_strerror(rc));
    return rc == 0 ? 0 : 1;
}
