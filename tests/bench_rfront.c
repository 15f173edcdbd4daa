/*
 * bench_rfront.c -- Redis commands per URL of the shared frontier's steps
 * (not a ctest): against a redis-server at 127.0.0.1:PORT, N URLs on 8
 * hosts go through accept (in batches of 10, as a page's links do), lease
 * (up to 16 at a time), release and complete, and the server's INFO
 * commandstats before and after say how many commands that took: the
 * ones sent (EVALSHA and the rest) and every one run, those the scripts
 * call included.  With "pages", each URL's slot is released before it
 * completes (a page, whose links are parsed after its transfer);
 * without, complete releases it (a file).
 *
 *   build/tests/bench_rfront PORT [N [pages]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coro.h"
#include "rfront.h"

/* Sum of calls= over INFO commandstats; *sent: the scripts' runs only. */
static long long calls(struct pf__redis *r, long long *sent)
{
    redisReply *rp;
    long long total = 0;
    const char *p;

    *sent = 0;
    if (pf__redis_callf(r, &rp, "INFO commandstats") < 0)
        return -1;
    for (p = rp->str; (p = strstr(p, "cmdstat_")) != NULL; p++) {
        const char *c = strstr(p, "calls=");
        long long v = c != NULL ? atoll(c + 6) : 0;

        total += v;
        if (strncmp(p, "cmdstat_evalsha:", 16) == 0 ||
            strncmp(p, "cmdstat_eval:", 13) == 0 ||
            strncmp(p, "cmdstat_script", 14) == 0)
            *sent += v;
    }
    freeReplyObject(rp);
    return total;
}

static int feed(struct pf__rfront *f, int n)
{
    static const char *hosts[8] = {"h0:80", "h1:80", "h2:80", "h3:80",
                                   "h4:80", "h5:80", "h6:80", "h7:80"};
    struct pf__rfront_url u[10];
    char urls[10][64];
    int res[10], i, j;

    for (i = 0; i < n; i += 10) {
        int m = n - i < 10 ? n - i : 10;

        for (j = 0; j < m; j++) {
            snprintf(urls[j], sizeof(urls[j]), "http://%s/%d",
                     hosts[(i + j) % 8], i + j);
            u[j] = (struct pf__rfront_url){urls[j], hosts[(i + j) % 8], 0, 0,
                                           NULL};
        }
        if (pf__rfront_accept(f, u, (size_t)m, res) < 0)
            return -1;
    }
    return 0;
}

static int drain(struct pf__rfront *f, int n, int pages)
{
    struct pf__rfront_leased *v;
    size_t k, i;
    int left = n;

    while (left > 0) {
        if (pf__rfront_lease(f, 16, &v, &k) < 0 || k == 0)
            return -1;
        for (i = 0; i < k; i++)
            if ((pages && pf__rfront_release(f, v[i].url) < 0) ||
                pf__rfront_complete(f, v[i].url, PF__RFRONT_DONE) != 1)
                return -1;
        left -= (int)k;
        pf__rfront_leased_free(v, k);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct pf__rfront_conf conf = {"bench", "w1", 30000, 4, 0, 1};
    struct pf__redis_addr a = {"127.0.0.1", 0, NULL, NULL, 0};
    struct pf__rfront *f;
    struct pf__redis *r;
    struct timespec t0, t1;
    long long s0, s1, c0, c1;
    pf_sched *s;
    char why[256], id[32];
    int n, pages;

    if (argc < 2) {
        fprintf(stderr, "usage: bench_rfront PORT [N [pages]]\n");
        return 2;
    }
    a.port = atoi(argv[1]);
    n = argc > 2 ? atoi(argv[2]) : 10000;
    pages = argc > 3 && strcmp(argv[3], "pages") == 0;
    snprintf(id, sizeof(id), "bench%ld", (long)time(NULL));
    conf.crawl_id = id;
    if (pf_sched_new(&s, 0) != 0 ||
        pf__redis_connect(&r, s, &a, 5000, why, sizeof(why)) < 0 ||
        pf__rfront_new(&f, r, &conf) < 0) {
        fprintf(stderr, "bench_rfront: %s\n", why);
        return 3;
    }
    c0 = calls(r, &s0);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (feed(f, n) < 0 || drain(f, n, pages) < 0) {
        fprintf(stderr, "bench_rfront: %s\n", pf__redis_error(r));
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    c1 = calls(r, &s1);
    printf("%d URLs in %.2f s: %.2f commands sent per URL, %.1f run per URL "
           "(scripts' own calls included)\n",
           n, (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
           (double)(s1 - s0) / n, (double)(c1 - c0 - 1) / n);
    pf__rfront_free(f);
    pf__redis_free(r);
    pf_sched_free(s);
    return 0;
}
