/*
 * main.c -- the pfetch command: options to a pf_config, operands to the
 * job, signals to pf_crawler_stop(), the outcome to an exit status.  A
 * thin client of the public header: everything it does, a program linking
 * libpfetch can do.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "args.h"
#include "pfetch.h"
#include "progress.h"

enum exit_code {
    EXIT_ALL_OK = 0,
    EXIT_SOME_FAILED = 1,
    EXIT_USAGE = 2,
    EXIT_FATAL = 3,
    EXIT_SIGINT = 130,
    EXIT_SIGTERM = 143
};

static pf_crawler *volatile the_job;
static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    /* The second SIGINT or SIGTERM: at once, with its own status. */
    if (got_signal != 0)
        _exit(sig == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT);
    if (got_signal == 0)
        got_signal = sig;
    if (the_job != NULL)
        pf_crawler_stop(the_job);
}

static void usage(FILE *fp)
{
    fputs("Usage: pfetch [OPTION]... URL|LIST...\n"
          "Download URLs concurrently; log every outcome in SQLite.\n"
          "An operand holding \"://\" is a URL, any other a file of URLs, one\n"
          "per line ('-' reads standard input).\n"
          "\n"
          "  -o, --output-dir DIR     save files under DIR (default .)\n"
          "      --layout tree|flat   DIR/host[:port]/path (default), or "
          "DIR/name\n"
          "      --db FILE            the log database (default "
          "DIR/pfetch.db)\n"
          "  -c, --continue           skip URLs done in an earlier run, "
          "resume .part files\n"
          "  -N, --timestamping       ask again for files saved before, "
          "only if changed\n"
          "  -j, --jobs N             transfers at once (default 16)\n"
          "      --per-host N         transfers at once per host:port "
          "(default: no cap)\n"
          "  -P, --parsers N          parser threads (default: one per "
          "CPU)\n"
          "\n"
          "Crawling:\n"
          "  -r, --recursive          follow links of HTML pages and "
          "stylesheets\n"
          "  -l, --depth N|inf        link distance from a seed (default 5; "
          "0: seeds only)\n"
          "      --span-hosts         follow links to other hosts than the "
          "seeds'\n"
          "      --accept REGEX       follow only links whose URL matches "
          "(POSIX ERE)\n"
          "      --reject REGEX       never follow links whose URL "
          "matches\n"
          "  -p, --page-requisites    fetch the images, stylesheets, scripts "
          "of pages\n"
          "      --no-robots          ignore robots.txt\n"
          "      --sitemaps           also crawl what the seeds' hosts' "
          "sitemaps list\n"
          "      --wait S             at least S seconds between requests "
          "to a host\n"
          "      --random-wait        each wait drawn from 0.5 to 1.5 times "
          "--wait\n"
          "\n"
          "      --retries N          retries of transient failures "
          "(default 3)\n"
          "      --retry-backoff S    first retry delay, doubled each time "
          "(default 1)\n"
          "      --timeout S          limit on a whole attempt (default "
          "none)\n"
          "      --connect-timeout S  limit on connecting (default 30)\n"
          "      --stall-timeout S    fail when nothing arrives for S "
          "(default 60)\n"
          "      --rate BYTES         overall bandwidth cap (k, M, G "
          "suffixes)\n"
          "      --max-filesize BYTES refuse larger bodies\n"
          "  -U, --user-agent S       the User-Agent header\n"
          "  -H, --header 'K: V'      an extra request header (repeatable)\n"
          "\n"
          "Network and identity:\n"
          "      --cacert FILE        verify TLS peers against these CA "
          "certificates (PEM)\n"
          "      --insecure           do not verify TLS peers\n"
          "      --proxy URL          through this proxy (http://, https://, "
          "socks5h://);\n"
          "                           '' for none (default: http_proxy, "
          "https_proxy)\n"
          "  -u, --user USER:PASS     Basic or Digest credentials, for the "
          "operands' hosts\n"
          "      --netrc              credentials from ~/.netrc\n"
          "      --netrc-file FILE    credentials from FILE\n"
          "      --load-cookies FILE  start with these cookies (Netscape "
          "format)\n"
          "      --save-cookies FILE  write the cookies to FILE at the end\n"
          "      --http1.1            never negotiate HTTP/2\n"
          "\n"
          "  -q, --quiet              print errors only\n"
          "  -v, --verbose            print retries and other details\n"
          "      --json               a JSON line per URL on standard output\n"
          "      --progress bar|lines|none\n"
          "                           progress display (default: bar on a "
          "terminal)\n"
          "  -h, --help               this help\n"
          "      --version            the version\n"
          "\n"
          "Exit status: 0 all fetched, 1 some failed, 2 usage error,\n"
          "3 fatal local error, 130/143 interrupted.  See pfetch(1).\n",
          fp);
}

static void die_usage(const char *fmt, const char *arg)
{
    fputs("pfetch: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'pfetch --help' for more information.\n", stderr);
    exit(EXIT_USAGE);
}

/* --accept/--reject: a bad expression is a usage error, said clearly. */
static void check_regex(const char *opt, const char *re)
{
    regex_t rx;
    int err = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);

    if (err != 0) {
        char why[256], msg[400];

        regerror(err, &rx, why, sizeof(why));
        snprintf(msg, sizeof(msg), "%s '%%s': %s", opt, why);
        die_usage(msg, re);
    }
    regfree(&rx);
}

/* A count in [min, max]. */
static unsigned parse_count(const char *opt, const char *s, unsigned long min,
                            unsigned long max)
{
    char *end;
    unsigned long v;

    errno = 0;
    if (s[0] == '-')
        die_usage("%s takes a non-negative number", opt);
    v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        char msg[128];

        snprintf(msg, sizeof(msg), "%%s must be a number from %lu to %lu", min,
                 max);
        die_usage(msg, opt);
    }
    return (unsigned)v;
}

/* Seconds, fractions allowed, to milliseconds. */
static int64_t parse_seconds(const char *opt, const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v < 0 ||
        v > 1e9)
        die_usage("%s takes a number of seconds, 0 or more", opt);
    return (int64_t)(v * 1000.0 + 0.5);
}

/* Bytes with an optional k, M or G suffix (powers of 1024). */
static int64_t parse_size(const char *opt, const char *s)
{
    char *end;
    double v;
    double mul = 1;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || !isfinite(v) || v < 0)
        die_usage("%s takes a size in bytes (k, M, G suffixes)", opt);
    if (*end == 'k' || *end == 'K')
        mul = 1024.0;
    else if (*end == 'm' || *end == 'M')
        mul = 1024.0 * 1024;
    else if (*end == 'g' || *end == 'G')
        mul = 1024.0 * 1024 * 1024;
    if (mul > 1)
        end++;
    if (*end != '\0' || v * mul > 9e18)
        die_usage("%s takes a size in bytes (k, M, G suffixes)", opt);
    return (int64_t)(v * mul);
}

/* The file-descriptor budget: raise the soft limit to the hard one. */
static rlim_t raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur;
}

/*
 * Option ids: the letter of options that have one, values past any
 * character for the others.
 */
enum {
    OPT_PER_HOST = 256,
    OPT_DB,
    OPT_RETRIES,
    OPT_RETRY_BACKOFF,
    OPT_TIMEOUT,
    OPT_CONNECT_TIMEOUT,
    OPT_STALL_TIMEOUT,
    OPT_RATE,
    OPT_MAX_FILESIZE,
    OPT_LAYOUT,
    OPT_PROGRESS,
    OPT_VERSION,
    OPT_SPAN_HOSTS,
    OPT_ACCEPT,
    OPT_REJECT,
    OPT_NO_ROBOTS,
    OPT_JSON,
    OPT_CACERT,
    OPT_INSECURE,
    OPT_PROXY,
    OPT_NETRC,
    OPT_NETRC_FILE,
    OPT_LOAD_COOKIES,
    OPT_SAVE_COOKIES,
    OPT_HTTP1_1,
    OPT_WAIT,
    OPT_RANDOM_WAIT,
    OPT_SITEMAPS
};

/*
 * Every option, in --help's order.  Long names are matched exactly, so a
 * new option (--user, --proxy, --netrc...) is one row here and one case
 * in set_option(), and never changes the meaning of another one's name.
 */
static const struct args_option options[] = {
    {"output-dir", 'o', 1, 'o'},
    {"layout", 0, 1, OPT_LAYOUT},
    {"db", 0, 1, OPT_DB},
    {"continue", 'c', 0, 'c'},
    {"timestamping", 'N', 0, 'N'},
    {"jobs", 'j', 1, 'j'},
    {"per-host", 0, 1, OPT_PER_HOST},
    {"parsers", 'P', 1, 'P'},
    {"recursive", 'r', 0, 'r'},
    {"depth", 'l', 1, 'l'},
    {"level", 0, 1, 'l'},
    {"span-hosts", 0, 0, OPT_SPAN_HOSTS},
    {"accept", 0, 1, OPT_ACCEPT},
    {"reject", 0, 1, OPT_REJECT},
    {"page-requisites", 'p', 0, 'p'},
    {"no-robots", 0, 0, OPT_NO_ROBOTS},
    {"sitemaps", 0, 0, OPT_SITEMAPS},
    {"wait", 0, 1, OPT_WAIT},
    {"random-wait", 0, 0, OPT_RANDOM_WAIT},
    {"retries", 0, 1, OPT_RETRIES},
    {"retry-backoff", 0, 1, OPT_RETRY_BACKOFF},
    {"timeout", 0, 1, OPT_TIMEOUT},
    {"connect-timeout", 0, 1, OPT_CONNECT_TIMEOUT},
    {"stall-timeout", 0, 1, OPT_STALL_TIMEOUT},
    {"rate", 0, 1, OPT_RATE},
    {"max-filesize", 0, 1, OPT_MAX_FILESIZE},
    {"user-agent", 'U', 1, 'U'},
    {"header", 'H', 1, 'H'},
    {"cacert", 0, 1, OPT_CACERT},
    {"insecure", 0, 0, OPT_INSECURE},
    {"proxy", 0, 1, OPT_PROXY},
    {"user", 'u', 1, 'u'},
    {"netrc", 0, 0, OPT_NETRC},
    {"netrc-file", 0, 1, OPT_NETRC_FILE},
    {"load-cookies", 0, 1, OPT_LOAD_COOKIES},
    {"save-cookies", 0, 1, OPT_SAVE_COOKIES},
    {"http1.1", 0, 0, OPT_HTTP1_1},
    {"quiet", 'q', 0, 'q'},
    {"verbose", 'v', 0, 'v'},
    {"json", 0, 0, OPT_JSON},
    {"progress", 0, 1, OPT_PROGRESS},
    {"help", 'h', 0, 'h'},
    {"version", 0, 0, OPT_VERSION}};

/* What the command line asks for, besides the job's configuration. */
struct cli {
    struct pf_config cfg;
    const char **headers; /* -H values, borrowed from argv */
    size_t nheaders;
    const char **operands; /* URLs and lists, borrowed from argv */
    size_t noperands;
    int quiet, verbose, progress_set;
    enum progress_mode mode;
};

/* Options of the transfers and of the crawl.  Returns 0 if id is not one. */
static int set_job_option(struct pf_config *cfg, int id, const char *v)
{
    switch (id) {
    case 'o':
        cfg->out_dir = v;
        break;
    case OPT_DB:
        cfg->db_path = v;
        break;
    case 'c':
        cfg->resume = 1;
        break;
    case 'N':
        cfg->timestamping = 1;
        break;
    case 'j':
        cfg->jobs = parse_count("-j/--jobs", v, 1, 100000);
        break;
    case OPT_PER_HOST:
        cfg->per_host = parse_count("--per-host", v, 1, 100000);
        break;
    case 'P':
        cfg->parsers = parse_count("-P/--parsers", v, 1, 1024);
        break;
    case 'r':
        cfg->recursive = 1;
        break;
    case 'l':
        if (strcmp(v, "inf") == 0)
            cfg->depth = -1;
        else
            cfg->depth = (int)parse_count("-l/--depth", v, 0, 1000000);
        break;
    case OPT_SPAN_HOSTS:
        cfg->span_hosts = 1;
        break;
    case OPT_ACCEPT:
        check_regex("--accept", v);
        cfg->accept = v;
        break;
    case OPT_REJECT:
        check_regex("--reject", v);
        cfg->reject = v;
        break;
    case 'p':
        cfg->page_requisites = 1;
        break;
    case OPT_NO_ROBOTS:
        cfg->no_robots = 1;
        break;
    case OPT_SITEMAPS:
        cfg->sitemaps = 1;
        break;
    case OPT_WAIT:
        cfg->wait_ms = parse_seconds("--wait", v);
        break;
    case OPT_RANDOM_WAIT:
        cfg->random_wait = 1;
        break;
    case OPT_RETRIES:
        cfg->retries = parse_count("--retries", v, 0, 1000);
        break;
    case OPT_RETRY_BACKOFF:
        cfg->retry_base_ms = parse_seconds("--retry-backoff", v);
        break;
    default:
        return 0;
    }
    return 1;
}

/* Limits of the transfers.  Returns 0 if id is not one. */
static int set_limit_option(struct pf_config *cfg, int id, const char *v)
{
    switch (id) {
    case OPT_TIMEOUT:
        cfg->timeout_ms = parse_seconds("--timeout", v);
        break;
    case OPT_CONNECT_TIMEOUT:
        cfg->connect_timeout_ms = parse_seconds("--connect-timeout", v);
        break;
    case OPT_STALL_TIMEOUT:
        cfg->stall_timeout_ms = parse_seconds("--stall-timeout", v);
        break;
    case OPT_RATE:
        cfg->rate = parse_size("--rate", v);
        break;
    case OPT_MAX_FILESIZE:
        cfg->max_filesize = parse_size("--max-filesize", v);
        break;
    case OPT_LAYOUT:
        if (strcmp(v, "tree") == 0)
            cfg->layout = PF_LAYOUT_TREE;
        else if (strcmp(v, "flat") == 0)
            cfg->layout = PF_LAYOUT_FLAT;
        else
            die_usage("--layout '%s': tree or flat", v);
        break;
    default:
        return 0;
    }
    return 1;
}

/* A file the run reads must be readable now: a usage error if not. */
static const char *readable(const char *opt, const char *path)
{
    if (access(path, R_OK) != 0) {
        char msg[256];

        snprintf(msg, sizeof(msg), "%s '%%s': %s", opt, strerror(errno));
        die_usage(msg, path);
    }
    return path;
}

/* --proxy: a URL of a scheme libcurl proxies through, or "" for none. */
static const char *proxy_url(const char *v)
{
    static const char *const schemes[] = {"http://", "https://", "socks5h://"};
    size_t i;

    if (v[0] == '\0')
        return v;
    for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
        if (strncmp(v, schemes[i], strlen(schemes[i])) == 0 &&
            v[strlen(schemes[i])] != '\0')
            return v;
    die_usage("--proxy '%s': an http://, https:// or socks5h:// URL, or ''", v);
    return NULL;
}

/* The network and identity options.  Returns 0 if id is not one. */
static int set_identity_option(struct pf_config *cfg, int id, const char *v)
{
    switch (id) {
    case OPT_CACERT:
        cfg->cacert = readable("--cacert", v);
        break;
    case OPT_INSECURE:
        cfg->insecure = 1;
        break;
    case OPT_PROXY:
        cfg->proxy = proxy_url(v);
        break;
    case 'u':
        if (strchr(v, ':') == NULL || strpbrk(v, "\r\n") != NULL)
            die_usage("%s", "-u/--user takes USER:PASSWORD");
        cfg->user = v;
        break;
    case OPT_NETRC:
        cfg->netrc = 1;
        break;
    case OPT_NETRC_FILE:
        cfg->netrc_file = readable("--netrc-file", v);
        break;
    case OPT_LOAD_COOKIES:
        cfg->load_cookies = readable("--load-cookies", v);
        break;
    case OPT_SAVE_COOKIES:
        cfg->save_cookies = v;
        break;
    case OPT_HTTP1_1:
        cfg->http1_1 = 1;
        break;
    default:
        return 0;
    }
    return 1;
}

/* The request headers, the display, --help and --version. */
static void set_option(struct cli *o, int id, const char *v)
{
    if (set_job_option(&o->cfg, id, v) || set_limit_option(&o->cfg, id, v) ||
        set_identity_option(&o->cfg, id, v))
        return;
    switch (id) {
    case 'U':
        if (strpbrk(v, "\r\n") != NULL)
            die_usage("%s: the user agent may not hold CR or LF", v);
        o->cfg.user_agent = v;
        break;
    case 'H':
        if (strpbrk(v, "\r\n") != NULL)
            die_usage("-H '%s': a header may not hold CR or LF", v);
        if (strchr(v, ':') == NULL || v[0] == ':')
            die_usage("-H '%s': a header is 'Name: value'", v);
        o->headers[o->nheaders++] = v;
        break;
    case 'q':
        o->quiet = 1;
        break;
    case OPT_JSON:
        o->cfg.json_out = stdout;
        break;
    case 'v':
        o->verbose = 1;
        break;
    case OPT_PROGRESS:
        o->progress_set = 1;
        if (strcmp(v, "bar") == 0)
            o->mode = PROGRESS_BAR;
        else if (strcmp(v, "lines") == 0)
            o->mode = PROGRESS_LINES;
        else if (strcmp(v, "none") == 0)
            o->mode = PROGRESS_NONE;
        else
            die_usage("--progress '%s': bar, lines or none", v);
        break;
    case 'h':
        usage(stdout);
        exit(EXIT_ALL_OK);
    case OPT_VERSION:
        printf("pfetch %s (libpfetch %s)\n%s\n", PF_VERSION_STRING,
               pf_version(), curl_version());
        exit(EXIT_ALL_OK);
    }
}

/*
 * The whole command line into o: options in any order, before or after
 * the operands (pfetch LIST -o DIR), as GNU programs take them.  A usage
 * error exits.  Returns 0, or -1 when out of memory.
 */
static int parse_command_line(struct cli *o, int argc, char **argv)
{
    struct args a;
    const char *v;
    char msg[512];
    int id;

    memset(o, 0, sizeof(*o));
    pf_config_init(&o->cfg);
    o->headers = calloc((size_t)argc, sizeof(*o->headers));
    o->operands = calloc((size_t)argc, sizeof(*o->operands));
    if (o->headers == NULL || o->operands == NULL)
        return -1;
    args_init(&a, options, sizeof(options) / sizeof(options[0]), argc, argv);
    while ((id = args_next(&a, &v, msg, sizeof(msg))) != ARGS_END) {
        if (id == ARGS_ERROR)
            die_usage("%s", msg);
        if (id == ARGS_OPERAND)
            o->operands[o->noperands++] = v;
        else
            set_option(o, id, v);
    }
    if (o->noperands == 0)
        die_usage("%s", "no URL or list given");
    if (o->cfg.sitemaps && !o->cfg.recursive)
        die_usage("%s", "--sitemaps needs -r: sitemaps list pages to crawl");
    o->cfg.headers = o->headers;
    o->cfg.nheaders = o->nheaders;
    return 0;
}

/*
 * The operands to the job: lists first, opened now so that an unreadable
 * one is a usage error, then URLs.  Returns how many URLs were refused.
 */
static int add_operands(pf_crawler *c, const struct cli *o)
{
    size_t i;
    int bad = 0;

    for (i = 0; i < o->noperands; i++) {
        if (strstr(o->operands[i], "://") != NULL)
            continue;
        if (pf_crawler_add_list(c, o->operands[i]) != 0) {
            pf_crawler_free(c);
            exit(EXIT_USAGE);
        }
    }
    for (i = 0; i < o->noperands; i++) {
        if (strstr(o->operands[i], "://") == NULL)
            continue;
        if (pf_crawler_add_url(c, o->operands[i]) == PF_EURL) {
            char shown[1024];

            pf_url_mask(o->operands[i], shown, sizeof(shown));
            fprintf(stderr, "pfetch: %s: not an http or https URL\n", shown);
            bad++;
        }
    }
    return bad;
}

/* -j N needs about 2 descriptors per transfer: check before starting. */
static void check_fd_budget(unsigned jobs)
{
    rlim_t fds = raise_fd_limit();

    if ((rlim_t)jobs * 2 + 64 > fds) {
        char msg[160];

        snprintf(msg, sizeof(msg),
                 "-j %u needs more open files than the limit of %llu "
                 "allows%%s",
                 jobs, (unsigned long long)fds);
        die_usage(msg, "");
    }
}

/* The exit status of a run that returned rc. */
static int exit_status(int rc, const struct cli *o, const struct pf_stats *st,
                       int bad_operands)
{
    if (rc == PF_ECANCELED || (rc == 0 && got_signal != 0))
        return got_signal == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
    if (rc != 0) {
        if (rc == PF_EDISKFULL || rc == PF_EIO)
            fprintf(stderr, "pfetch: stopped: %s in %s\n", pf_strerror(rc),
                    o->cfg.out_dir != NULL ? o->cfg.out_dir : ".");
        else
            fprintf(stderr, "pfetch: stopped: %s\n", pf_strerror(rc));
        return EXIT_FATAL;
    }
    if (st->failed > 0 || bad_operands > 0)
        return EXIT_SOME_FAILED;
    return EXIT_ALL_OK;
}

int main(int argc, char **argv)
{
    struct cli o;
    struct progress prog;
    struct pf_stats st;
    pf_crawler *c = NULL;
    struct sigaction sa;
    char *joined = NULL;
    int rc, bad_operands, code = EXIT_FATAL;

    if (parse_command_line(&o, argc, argv) != 0)
        goto out;
    check_fd_budget(o.cfg.jobs);
    if (!o.progress_set)
        o.mode = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_NONE;
    progress_init(&prog, o.mode, o.quiet, o.verbose);
    prog.crawl = o.cfg.recursive || o.cfg.page_requisites;
    o.cfg.on_done = progress_on_done;
    o.cfg.on_log = progress_on_log;
    o.cfg.on_progress = progress_on_tick;
    o.cfg.userdata = &prog;
    /* The log keeps the command line, its secrets masked. */
    joined = args_join_masked(options, sizeof(options) / sizeof(options[0]),
                              argc, argv);
    if (joined == NULL) {
        fputs("pfetch: out of memory\n", stderr);
        goto out;
    }
    o.cfg.argv = joined;

    if (pf_global_init() != 0) {
        fputs("pfetch: cannot initialise libcurl\n", stderr);
        goto out;
    }
    rc = pf_crawler_new(&c, &o.cfg);
    if (rc != 0) {
        if (rc == PF_EINVAL)
            die_usage("%s", "invalid option values");
        fprintf(stderr, "pfetch: %s\n", pf_strerror(rc));
        goto out_global;
    }
    bad_operands = add_operands(c, &o);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    the_job = c;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = pf_crawler_run(c);
    pf_crawler_stats(c, &st);
    progress_summary(&prog, &st);
    code = exit_status(rc, &o, &st, bad_operands);
    the_job = NULL;
    pf_crawler_free(c);
out_global:
    pf_global_cleanup();
out:
    free(joined);
    free(o.headers);
    free(o.operands);
    return code;
}
