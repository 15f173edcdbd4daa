/*
 * main.c -- the pfetch command: options to a pf_config, operands to the
 * job, signals to pf_crawler_stop(), the outcome to an exit status.  A
 * thin client of the public header: everything it does, a program linking
 * libpfetch can do.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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
          "  -q, --quiet              print errors only\n"
          "  -v, --verbose            print retries and other details\n"
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

/* argv as one string for the runs table, arguments with spaces quoted. */
static char *join_argv(int argc, char **argv)
{
    size_t len = 1;
    char *s, *p;
    int i;

    for (i = 0; i < argc; i++)
        len += strlen(argv[i]) + 3;
    s = malloc(len);
    if (s == NULL)
        return NULL;
    p = s;
    for (i = 0; i < argc; i++) {
        int quote = argv[i][0] == '\0' || strpbrk(argv[i], " \t'\"") != NULL;
        size_t n = strlen(argv[i]);

        if (i > 0)
            *p++ = ' ';
        if (quote)
            *p++ = '\'';
        memcpy(p, argv[i], n);
        p += n;
        if (quote)
            *p++ = '\'';
    }
    *p = '\0';
    return s;
}

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
    OPT_NO_ROBOTS
};

static const struct option long_options[] = {
    {"output-dir", required_argument, NULL, 'o'},
    {"jobs", required_argument, NULL, 'j'},
    {"per-host", required_argument, NULL, OPT_PER_HOST},
    {"parsers", required_argument, NULL, 'P'},
    {"recursive", no_argument, NULL, 'r'},
    {"depth", required_argument, NULL, 'l'},
    {"level", required_argument, NULL, 'l'},
    {"span-hosts", no_argument, NULL, OPT_SPAN_HOSTS},
    {"accept", required_argument, NULL, OPT_ACCEPT},
    {"reject", required_argument, NULL, OPT_REJECT},
    {"page-requisites", no_argument, NULL, 'p'},
    {"no-robots", no_argument, NULL, OPT_NO_ROBOTS},
    {"db", required_argument, NULL, OPT_DB},
    {"continue", no_argument, NULL, 'c'},
    {"retries", required_argument, NULL, OPT_RETRIES},
    {"retry-backoff", required_argument, NULL, OPT_RETRY_BACKOFF},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"stall-timeout", required_argument, NULL, OPT_STALL_TIMEOUT},
    {"rate", required_argument, NULL, OPT_RATE},
    {"max-filesize", required_argument, NULL, OPT_MAX_FILESIZE},
    {"user-agent", required_argument, NULL, 'U'},
    {"header", required_argument, NULL, 'H'},
    {"layout", required_argument, NULL, OPT_LAYOUT},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"progress", required_argument, NULL, OPT_PROGRESS},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0}};

int main(int argc, char **argv)
{
    struct pf_config cfg;
    struct progress prog;
    struct pf_stats st;
    const char **headers;
    size_t nheaders = 0;
    int quiet = 0, verbose = 0, progress_set = 0;
    enum progress_mode mode = PROGRESS_NONE;
    pf_crawler *c = NULL;
    struct sigaction sa;
    rlim_t fds;
    char *joined;
    int opt, i, rc, bad_operands = 0, code;

    pf_config_init(&cfg);
    headers = calloc((size_t)argc, sizeof(*headers));
    if (headers == NULL)
        return EXIT_FATAL;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":o:j:P:rl:pcU:H:qvh", long_options,
                              NULL)) != -1) {
        switch (opt) {
        case 'o':
            cfg.out_dir = optarg;
            break;
        case 'j':
            cfg.jobs = parse_count("-j/--jobs", optarg, 1, 100000);
            break;
        case OPT_PER_HOST:
            cfg.per_host = parse_count("--per-host", optarg, 1, 100000);
            break;
        case 'P':
            cfg.parsers = parse_count("-P/--parsers", optarg, 1, 1024);
            break;
        case 'r':
            cfg.recursive = 1;
            break;
        case 'l':
            if (strcmp(optarg, "inf") == 0)
                cfg.depth = -1;
            else
                cfg.depth = (int)parse_count("-l/--depth", optarg, 0, 1000000);
            break;
        case OPT_SPAN_HOSTS:
            cfg.span_hosts = 1;
            break;
        case OPT_ACCEPT:
            check_regex("--accept", optarg);
            cfg.accept = optarg;
            break;
        case OPT_REJECT:
            check_regex("--reject", optarg);
            cfg.reject = optarg;
            break;
        case 'p':
            cfg.page_requisites = 1;
            break;
        case OPT_NO_ROBOTS:
            cfg.no_robots = 1;
            break;
        case OPT_DB:
            cfg.db_path = optarg;
            break;
        case 'c':
            cfg.resume = 1;
            break;
        case OPT_RETRIES:
            cfg.retries = parse_count("--retries", optarg, 0, 1000);
            break;
        case OPT_RETRY_BACKOFF:
            cfg.retry_base_ms = parse_seconds("--retry-backoff", optarg);
            break;
        case OPT_TIMEOUT:
            cfg.timeout_ms = parse_seconds("--timeout", optarg);
            break;
        case OPT_CONNECT_TIMEOUT:
            cfg.connect_timeout_ms = parse_seconds("--connect-timeout", optarg);
            break;
        case OPT_STALL_TIMEOUT:
            cfg.stall_timeout_ms = parse_seconds("--stall-timeout", optarg);
            break;
        case OPT_RATE:
            cfg.rate = parse_size("--rate", optarg);
            break;
        case OPT_MAX_FILESIZE:
            cfg.max_filesize = parse_size("--max-filesize", optarg);
            break;
        case 'U':
            if (strpbrk(optarg, "\r\n") != NULL)
                die_usage("%s: the user agent may not hold CR or LF", optarg);
            cfg.user_agent = optarg;
            break;
        case 'H':
            if (strpbrk(optarg, "\r\n") != NULL)
                die_usage("-H '%s': a header may not hold CR or LF", optarg);
            if (strchr(optarg, ':') == NULL || optarg[0] == ':')
                die_usage("-H '%s': a header is 'Name: value'", optarg);
            headers[nheaders++] = optarg;
            break;
        case OPT_LAYOUT:
            if (strcmp(optarg, "tree") == 0)
                cfg.layout = PF_LAYOUT_TREE;
            else if (strcmp(optarg, "flat") == 0)
                cfg.layout = PF_LAYOUT_FLAT;
            else
                die_usage("--layout '%s': tree or flat", optarg);
            break;
        case 'q':
            quiet = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case OPT_PROGRESS:
            progress_set = 1;
            if (strcmp(optarg, "bar") == 0)
                mode = PROGRESS_BAR;
            else if (strcmp(optarg, "lines") == 0)
                mode = PROGRESS_LINES;
            else if (strcmp(optarg, "none") == 0)
                mode = PROGRESS_NONE;
            else
                die_usage("--progress '%s': bar, lines or none", optarg);
            break;
        case 'h':
            usage(stdout);
            free(headers);
            return EXIT_ALL_OK;
        case OPT_VERSION:
            printf("pfetch %s (libpfetch %s)\n%s\n", PF_VERSION_STRING,
                   pf_version(), curl_version());
            free(headers);
            return EXIT_ALL_OK;
        case ':':
            die_usage("option '%s' needs a value", argv[optind - 1]);
            break;
        default:
            die_usage("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind >= argc)
        die_usage("%s", "no URL or list given");
    cfg.headers = headers;
    cfg.nheaders = nheaders;
    fds = raise_fd_limit();
    if ((rlim_t)cfg.jobs * 2 + 64 > fds) {
        char msg[160];

        snprintf(msg, sizeof(msg),
                 "-j %u needs more open files than the limit of %llu "
                 "allows%%s",
                 cfg.jobs, (unsigned long long)fds);
        die_usage(msg, "");
    }
    if (!progress_set)
        mode = isatty(STDERR_FILENO) ? PROGRESS_BAR : PROGRESS_NONE;
    progress_init(&prog, mode, quiet, verbose);
    cfg.on_done = progress_on_done;
    cfg.on_log = progress_on_log;
    cfg.on_progress = progress_on_tick;
    cfg.userdata = &prog;
    joined = join_argv(argc, argv);
    cfg.argv = joined;

    if (pf_global_init() != 0) {
        fputs("pfetch: cannot initialise libcurl\n", stderr);
        code = EXIT_FATAL;
        goto out;
    }
    rc = pf_crawler_new(&c, &cfg);
    if (rc != 0) {
        if (rc == PF_EINVAL)
            die_usage("%s", "invalid option values");
        fprintf(stderr, "pfetch: %s\n", pf_strerror(rc));
        code = EXIT_FATAL;
        goto out_global;
    }
    /* Lists are opened now: an unreadable one is a usage error. */
    for (i = optind; i < argc; i++) {
        if (strstr(argv[i], "://") != NULL)
            continue;
        if (pf_crawler_add_list(c, argv[i]) != 0) {
            pf_crawler_free(c);
            exit(EXIT_USAGE);
        }
    }
    for (i = optind; i < argc; i++) {
        if (strstr(argv[i], "://") == NULL)
            continue;
        rc = pf_crawler_add_url(c, argv[i]);
        if (rc == PF_EURL) {
            fprintf(stderr, "pfetch: %s: not an http or https URL\n", argv[i]);
            bad_operands++;
        }
    }

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
    if (rc == PF_ECANCELED || (rc == 0 && got_signal != 0))
        code = got_signal == SIGTERM ? EXIT_SIGTERM : EXIT_SIGINT;
    else if (rc != 0) {
        if (rc == PF_EDISKFULL || rc == PF_EIO)
            fprintf(stderr, "pfetch: stopped: %s in %s\n", pf_strerror(rc),
                    cfg.out_dir != NULL ? cfg.out_dir : ".");
        else
            fprintf(stderr, "pfetch: stopped: %s\n", pf_strerror(rc));
        code = EXIT_FATAL;
    } else if (st.failed > 0 || bad_operands > 0)
        code = EXIT_SOME_FAILED;
    else
        code = EXIT_ALL_OK;
    the_job = NULL;
    pf_crawler_free(c);
out_global:
    pf_global_cleanup();
out:
    free(joined);
    free(headers);
    return code;
}
