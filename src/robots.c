/*
 * robots.c -- robots.txt (RFC 9309): the rules of one host for one
 * crawler, and the question "may this path be fetched?".
 *
 * This module owns the reading of a robots.txt body: which lines count,
 * which group of rules applies to our product token, and how a rule's
 * pattern is compared with a path.  It keeps only the rules that apply
 * to us, already normalised and sorted so that a query stops at the
 * first rule that matches.  It must never fail on bad input (a line it
 * does not understand is ignored), never read more than MAX_BYTES of a
 * body, never keep more than MAX_RULES rules, and never match in more
 * than O(pattern * path) steps per rule, whatever the wildcards: a
 * robots.txt is written by whoever runs the server, and a hostile one
 * must cost us no more than a dull one.  Fetching the file, caching it
 * per host and deciding what a missing file means are the crawler's
 * business.  Pure functions on caller data: any thread.
 *
 * How a body is read:
 *
 *   - a UTF-8 byte order mark at the start is skipped; lines end at CR,
 *     LF or CRLF; '#' starts a comment; white space around names and
 *     values is dropped; a line without ':' is ignored, and so is a
 *     field we do not know (Host, Clean-param...), without ending the
 *     group it sits in;
 *   - Crawl-delay (seconds, fractions allowed) is a member of the group
 *     it sits in, as a rule is (a User-agent line after it starts the
 *     next group); of the groups kept, the largest value counts.  Sitemap lines
 * belong to no group: every one is kept (up to MAX_SITEMAPS), as written;
 *   - a group is one or more User-agent lines followed by rules; a
 *     User-agent line after a rule starts the next group; rules before
 *     any User-agent line belong to no group;
 *   - a User-agent value names a product token: its leading run of
 *     letters, '-' and '_' ("pfetch/1.0" names "pfetch"), compared with
 *     ours case-insensitively, or "*";
 *   - every group that names us is merged into one; if none does, every
 *     "*" group is; if there is none of those either, everything is
 *     allowed.  A group that names us but holds no rule allows all.
 *
 * How a path is judged: patterns and paths are compared in one
 * normalised spelling (normalize() below), '*' matches any run of
 * octets, a final '$' anchors the end, and a pattern without it matches
 * any path it is a prefix of.  The longest matching pattern decides, by
 * its length in octets once normalised; Allow wins a tie.  An empty
 * Disallow is no rule at all.  "/robots.txt" is always allowed.
 */
#include <stdlib.h>
#include <string.h>

#include "robots.h"
#include "util.h"

/*
 * RFC 9309 2.5: a crawler must parse at least 500 KiB.  We parse the
 * first 512 KiB and ignore the rest, which also bounds the memory a
 * hostile file costs (patterns grow at most threefold when encoded).
 */
#define MAX_BYTES (512 * 1024)

/*
 * Rules kept for our group.  Real files hold a few hundred at most; the
 * cap keeps a query's worst case (every rule tried) bounded.
 */
#define MAX_RULES 16384

/* Sitemap lines kept: more than any site lists (the files hold 50,000 each). */
#define MAX_SITEMAPS 1000

/* Longest Sitemap value kept; longer ones are skipped. */
#define MAX_SITEMAP_LEN 8192

/* Crawl-delays past this (a year, in ms) are taken as this. */
#define MAX_DELAY_MS ((int64_t)365 * 86400 * 1000)

struct rule {
    size_t off;   /* pattern in robots->text: normalised, NUL-terminated */
    size_t len;   /* its length in octets, '$' included */
    int allow;    /* 1 Allow, 0 Disallow */
    int anchored; /* the pattern ended with '$' (not kept in the text) */
};

/* The rules of one group set, while parsing: ours, or the "*" ones. */
struct ruleset {
    struct rule *rules;
    size_t n, cap;
    struct pf__buf text;
    int64_t delay_ms; /* the largest Crawl-delay of the groups, or -1 */
};

struct pf__robots {
    struct rule *rules; /* longest first; Allow before Disallow on a tie */
    size_t n;
    struct pf__buf text;     /* the patterns, back to back */
    int64_t delay_ms;        /* Crawl-delay of our groups, or -1 */
    struct pf__buf sitemaps; /* Sitemap values, each NUL-terminated */
    size_t nsitemaps;
};

static unsigned char to_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* RFC 3986 unreserved: ALPHA / DIGIT / "-" / "." / "_" / "~". */
static int is_unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~';
}

/* RFC 9309 product-token characters: "-", A-Z, "_", a-z. */
static int is_token(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '_';
}

static int append_escape(struct pf__buf *b, unsigned char c)
{
    char esc[3];

    pf__pct_encode(esc, c);
    return pf__buf_append(b, esc, 3);
}

/*
 * Append s[0..n) to b in the spelling both sides are compared in:
 * "%xx" of an unreserved octet decoded, other "%xx" with upper-case hex,
 * raw octets that a URL cannot hold (controls, space, non-ASCII) encoded.
 * With pattern set, '*' stays a wildcard (runs of them collapse into
 * one: same language, less work) and '$' is taken literally, as "%24";
 * a final '$' was cut off by the caller.  A path's own '*' and '$' are
 * literal octets and become "%2A" and "%24", so that a rule can name
 * them only encoded, as RFC 9309 2.2.3 says.  A '%' not followed by two
 * hex digits is kept as it is, on both sides alike.
 */
static int normalize(struct pf__buf *b, const char *s, size_t n, int pattern)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        int v = pf__pct_decode(s + i, n - i);

        if (v >= 0) {
            if (is_unreserved((unsigned char)v))
                rc = pf__buf_appendc(b, (char)v);
            else
                rc = append_escape(b, (unsigned char)v);
            i += 2;
        } else if (c == '*' && pattern) {
            if (b->len == 0 || b->data[b->len - 1] != '*')
                rc = pf__buf_appendc(b, '*');
        } else if (c == '*' || c == '$' || c <= 0x20 || c >= 0x7f) {
            rc = append_escape(b, c);
        } else {
            rc = pf__buf_appendc(b, (char)c);
        }
    }
    return rc;
}

/*
 * Whether pattern p (normalised; '*' wildcards) matches the start of s,
 * or all of s when anchored.  The classic greedy walk: on a mismatch go
 * back to just after the last '*' and let it swallow one more octet.
 * Only the last '*' is ever revisited (an earlier one can only match
 * less of s than a later one already allows), so the walk costs at most
 * O(len(p) * len(s)) steps, never the exponential blow-up of naive
 * backtracking.  An unanchored pattern matches as soon as it is used up.
 */
static int match(const char *p, const char *s, int anchored)
{
    const char *star = NULL; /* just after the last '*' seen */
    const char *mark = NULL; /* where in s that '*' stopped swallowing */

    for (;;) {
        if (*p == '\0' && (!anchored || *s == '\0'))
            return 1;
        if (*p == '*') {
            star = ++p;
            mark = s;
            continue;
        }
        if (*s != '\0' && *p == *s) {
            p++;
            s++;
            continue;
        }
        if (star == NULL || *mark == '\0')
            return 0;
        p = star;
        s = ++mark;
    }
}

/* Add one rule to set, normalising its pattern (value[0..n), n > 0). */
static int ruleset_add(struct ruleset *set, const char *value, size_t n,
                       int allow)
{
    struct rule *r;
    int anchored = 0;
    size_t start;
    int rc;

    if (set->n == MAX_RULES)
        return 0;
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 16;
        struct rule *rules = pf__realloc(set->rules, cap * sizeof(*rules));

        if (rules == NULL)
            return PF_ENOMEM;
        set->rules = rules;
        set->cap = cap;
    }
    if (value[n - 1] == '$') {
        anchored = 1;
        n--;
    }
    start = set->text.len;
    rc = normalize(&set->text, value, n, 1);
    if (rc == 0)
        rc = pf__buf_appendc(&set->text, '\0');
    if (rc < 0)
        return rc;
    r = &set->rules[set->n++];
    r->off = start;
    r->len = set->text.len - 1 - start + (size_t)anchored;
    r->allow = allow;
    r->anchored = anchored;
    return 0;
}

static void ruleset_free(struct ruleset *set)
{
    pf__free(set->rules);
    pf__buf_free(&set->text);
}

/* Longest first; on equal length Allow first: the first match decides. */
static int rule_cmp(const void *a, const void *b)
{
    const struct rule *x = a, *y = b;

    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    if (x->allow != y->allow)
        return x->allow ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Whether name[0..n) is the field name want, case-insensitively. */
static int field_is(const char *name, size_t n, const char *want)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (want[i] == '\0' || to_lower((unsigned char)name[i]) != want[i])
            return 0;
    }
    return want[n] == '\0';
}

/*
 * Length of the product token that starts s[0..n): the leading run of
 * token characters, or 1 for "*".  0 when there is none.
 */
static size_t token_len(const char *s, size_t n)
{
    size_t i = 0;

    if (n > 0 && s[0] == '*')
        return 1;
    while (i < n && is_token((unsigned char)s[i]))
        i++;
    return i;
}

static int token_eq(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i;

    if (an != bn)
        return 0;
    for (i = 0; i < an; i++) {
        if (to_lower((unsigned char)a[i]) != to_lower((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

/* What the parser knows while it walks the lines. */
struct parser {
    const char *product;
    size_t product_len;
    struct ruleset ours, star;
    int in_agents;  /* the last group line was a User-agent line */
    int group_ours; /* the current group names us */
    int group_star; /* the current group names "*" */
    int seen_ours;  /* some group named us */
    struct pf__buf sitemaps;
    size_t nsitemaps;
};

/*
 * A Crawl-delay value: seconds, a decimal number with an optional
 * fraction ("10", "0.5").  -1 for anything else (signs, exponents, hex,
 * words), which is ignored as a line we do not understand.
 */
static int64_t parse_delay(const char *v, size_t n)
{
    int64_t ms = 0, scale = 1000;
    size_t i = 0;
    int digits = 0;

    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
        if (ms < MAX_DELAY_MS)
            ms = ms * 10 + (v[i] - '0') * 1000;
    }
    if (i < n && v[i] == '.') {
        for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
            scale /= 10;
            ms += (v[i] - '0') * scale; /* past milliseconds: 0 */
        }
    }
    if (i != n || digits == 0)
        return -1;
    return ms < MAX_DELAY_MS ? ms : MAX_DELAY_MS;
}

/* The larger of what set has and ms (the politest reading). */
static void delay_add(struct ruleset *set, int64_t ms)
{
    if (ms > set->delay_ms)
        set->delay_ms = ms;
}

/* A Sitemap line: its value kept as it is (the crawler reads the URL). */
static int sitemap_add(struct parser *ps, const char *v, size_t n)
{
    int rc;

    if (n == 0 || n > MAX_SITEMAP_LEN || ps->nsitemaps == MAX_SITEMAPS ||
        memchr(v, '\0', n) != NULL)
        return 0;
    rc = pf__buf_append(&ps->sitemaps, v, n);
    if (rc == 0)
        rc = pf__buf_appendc(&ps->sitemaps, '\0');
    if (rc == 0)
        ps->nsitemaps++;
    return rc;
}

/*
 * One line, comment and line end already cut off.  CR and LF end a line,
 * so the white space trimmed here is SP, HT, VT and FF.
 */
static int parse_line(struct parser *ps, const char *line, size_t n)
{
    const char *colon = memchr(line, ':', n);
    const char *name = line, *value;
    size_t name_len, value_len;
    int allow;

    if (colon == NULL)
        return 0;
    while (name < colon && pf__is_space((unsigned char)*name))
        name++;
    name_len = (size_t)(colon - name);
    while (name_len > 0 && pf__is_space((unsigned char)name[name_len - 1]))
        name_len--;
    value = colon + 1;
    value_len = n - (size_t)(value - line);
    while (value_len > 0 && pf__is_space((unsigned char)*value)) {
        value++;
        value_len--;
    }
    while (value_len > 0 && pf__is_space((unsigned char)value[value_len - 1]))
        value_len--;

    if (field_is(name, name_len, "user-agent")) {
        size_t tl = token_len(value, value_len);

        if (!ps->in_agents) {
            ps->in_agents = 1;
            ps->group_ours = 0;
            ps->group_star = 0;
        }
        if (tl == 1 && value[0] == '*') {
            ps->group_star = 1;
        } else if (tl > 0 &&
                   token_eq(value, tl, ps->product, ps->product_len)) {
            ps->group_ours = 1;
            ps->seen_ours = 1;
        }
        return 0;
    }
    if (field_is(name, name_len, "sitemap"))
        return sitemap_add(ps, value, value_len); /* of no group */
    if (field_is(name, name_len, "crawl-delay")) {
        int64_t ms = parse_delay(value, value_len);

        /* A member of its group, like a rule: the agent list is closed. */
        ps->in_agents = 0;
        if (ms >= 0 && ps->group_ours)
            delay_add(&ps->ours, ms);
        if (ms >= 0 && ps->group_star)
            delay_add(&ps->star, ms);
        return 0;
    }
    if (field_is(name, name_len, "allow"))
        allow = 1;
    else if (field_is(name, name_len, "disallow"))
        allow = 0;
    else
        return 0; /* unknown fields neither count nor end a group */

    /* A rule: the group's agent list is closed. */
    ps->in_agents = 0;
    if (value_len == 0)
        return 0; /* "Disallow:" allows all: nothing to record */
    if (ps->group_ours) {
        int rc = ruleset_add(&ps->ours, value, value_len, allow);

        if (rc < 0)
            return rc;
    }
    if (ps->group_star)
        return ruleset_add(&ps->star, value, value_len, allow);
    return 0;
}

int pf__robots_parse(const char *txt, size_t n, const char *product,
                     struct pf__robots **out)
{
    struct parser ps;
    struct pf__robots *r;
    struct ruleset *keep;
    size_t i = 0;
    int rc = 0;

    *out = NULL;
    memset(&ps, 0, sizeof(ps));
    ps.ours.delay_ms = -1;
    ps.star.delay_ms = -1;
    ps.product = product != NULL ? product : "";
    ps.product_len = token_len(ps.product, strlen(ps.product));
    if (ps.product_len == 1 && ps.product[0] == '*')
        ps.product_len = 0; /* "*" is no product: only "*" groups apply */
    if (txt == NULL)
        n = 0;
    if (n > MAX_BYTES)
        n = MAX_BYTES;
    if (n >= 3 && memcmp(txt, "\xEF\xBB\xBF", 3) == 0)
        i = 3;

    while (i < n && rc == 0) {
        size_t start = i, end;

        while (i < n && txt[i] != '\r' && txt[i] != '\n')
            i++;
        end = i;
        if (i < n && txt[i] == '\r')
            i++;
        if (i < n && txt[i] == '\n' && (i == end || txt[i - 1] == '\r'))
            i++;
        {
            const char *hash = memchr(txt + start, '#', end - start);

            if (hash != NULL)
                end = (size_t)(hash - txt);
        }
        rc = parse_line(&ps, txt + start, end - start);
    }

    r = rc == 0 ? pf__calloc(1, sizeof(*r)) : NULL;
    if (r == NULL) {
        ruleset_free(&ps.ours);
        ruleset_free(&ps.star);
        pf__buf_free(&ps.sitemaps);
        return PF_ENOMEM;
    }
    keep = ps.seen_ours ? &ps.ours : &ps.star;
    r->rules = keep->rules;
    r->n = keep->n;
    r->text = keep->text;
    r->delay_ms = keep->delay_ms;
    r->sitemaps = ps.sitemaps;
    r->nsitemaps = ps.nsitemaps;
    memset(keep, 0, sizeof(*keep));
    ruleset_free(&ps.ours);
    ruleset_free(&ps.star);
    if (r->n > 1)
        qsort(r->rules, r->n, sizeof(*r->rules), rule_cmp);
    *out = r;
    return 0;
}

/* Whether path (query aside) is "/robots.txt". */
static int is_robots_txt(const char *path)
{
    return strncmp(path, "/robots.txt", 11) == 0 &&
           (path[11] == '\0' || path[11] == '?');
}

int pf__robots_allowed(const struct pf__robots *r, const char *path)
{
    struct pf__buf norm = {NULL, 0, 0};
    size_t i;
    int allowed = 1;

    if (r == NULL || r->n == 0 || path == NULL)
        return 1;
    if (is_robots_txt(path))
        return 1;
    /*
     * Without memory to normalise the path we cannot judge it; refusing
     * is the polite answer and the caller will see PF_ENOMEM elsewhere
     * soon enough.
     */
    if (normalize(&norm, path, strlen(path), 0) < 0 ||
        pf__buf_appendc(&norm, '\0') < 0) {
        pf__buf_free(&norm);
        return 0;
    }
    if (is_robots_txt(norm.data)) {
        pf__buf_free(&norm); /* "/robots%2Etxt" is the same resource */
        return 1;
    }
    for (i = 0; i < r->n; i++) {
        const struct rule *ru = &r->rules[i];

        if (match(r->text.data + ru->off, norm.data, ru->anchored)) {
            allowed = ru->allow;
            break;
        }
    }
    pf__buf_free(&norm);
    return allowed;
}

int64_t pf__robots_crawl_delay_ms(const struct pf__robots *r)
{
    return r != NULL ? r->delay_ms : -1;
}

const char *pf__robots_sitemap(const struct pf__robots *r, const char *prev)
{
    const char *next;

    if (r == NULL || r->nsitemaps == 0)
        return NULL;
    if (prev == NULL)
        return r->sitemaps.data;
    next = prev + strlen(prev) + 1;
    return next < r->sitemaps.data + r->sitemaps.len ? next : NULL;
}

void pf__robots_free(struct pf__robots *r)
{
    if (r == NULL)
        return;
    pf__free(r->rules);
    pf__buf_free(&r->text);
    pf__buf_free(&r->sitemaps);
    pf__free(r);
}
