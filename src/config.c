/*
 * config.c -- pf_config_init() and the checks a configuration passes
 * before a job is made (see config.h).  It holds no state and touches
 * nothing but the descriptor limit it reads.
 */
#include "config.h"

#include <string.h>
#include <sys/resource.h>

void pf_config_init(struct pf_config *cfg)
{
    if (cfg == NULL)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->out_dir = ".";
    cfg->jobs = 16;
    cfg->retries = 3;
    cfg->connect_timeout_ms = 30000;
    cfg->stall_timeout_ms = 60000;
    cfg->layout = PF_LAYOUT_TREE;
    cfg->retry_base_ms = 1000;
    cfg->retry_max_ms = 60000;
    cfg->progress_ms = 250;
    cfg->depth = 5;
}

/*
 * Each transfer needs a socket and, while writing, a file; the store and
 * SQLite hold a few more.  -j beyond what the descriptor limit allows is
 * refused up front rather than failing transfers later.
 */
static int jobs_fit_fd_limit(unsigned jobs)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return 1;
    return (rlim_t)jobs * 2 + 64 <= rl.rlim_cur;
}

int pf__config_check(const struct pf_config *cfg)
{
    size_t i;

    if (cfg->jobs == 0 || cfg->jobs > 100000 || !jobs_fit_fd_limit(cfg->jobs))
        return PF_EINVAL;
    if (cfg->timeout_ms < 0 || cfg->connect_timeout_ms < 0 ||
        cfg->stall_timeout_ms < 0 || cfg->rate < 0 || cfg->max_filesize < 0 ||
        cfg->retry_base_ms < 0 || cfg->retry_max_ms < 0 ||
        cfg->progress_ms < 0 || cfg->retries > 1000)
        return PF_EINVAL;
    if (cfg->layout != PF_LAYOUT_TREE && cfg->layout != PF_LAYOUT_FLAT)
        return PF_EINVAL;
    if (cfg->nheaders > 0 && cfg->headers == NULL)
        return PF_EINVAL;
    for (i = 0; i < cfg->nheaders; i++) {
        const char *h = cfg->headers[i];

        if (h == NULL || strpbrk(h, "\r\n") != NULL || strchr(h, ':') == NULL)
            return PF_EINVAL;
    }
    if (cfg->user_agent != NULL && strpbrk(cfg->user_agent, "\r\n") != NULL)
        return PF_EINVAL;
    if (cfg->parsers > 1024)
        return PF_EINVAL;
    if (cfg->wait_ms < 0 || (cfg->sitemaps && !cfg->recursive))
        return PF_EINVAL;
    return 0;
}

void pf__product_token(const char *ua, char *out, size_t size)
{
    size_t n = 0;

    while (*ua == ' ')
        ua++;
    while (ua[n] != '\0' && ua[n] != '/' && ua[n] != ' ' && n + 1 < size)
        n++;
    memcpy(out, ua, n);
    out[n] = '\0';
}
