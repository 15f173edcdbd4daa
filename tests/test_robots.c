/*
 * test_robots.c -- robots.txt (RFC 9309): which group applies to pfetch
 * (its own, merged when named twice, else "*", else none), longest match
 * with Allow winning ties, '*' and '$', percent-encoding compared in one
 * spelling on both sides, the examples of RFC 9309 itself, the lines a
 * parser must take in its stride (comments, CR/LF/CRLF, a byte order
 * mark, odd case, white space, unknown fields), the 512 KiB and rule
 * caps, a matcher that stays fast on many '*', and allocation failures.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "robots.h"
#include "test.h"
#include "util.h"

/* Parse txt for product; NULL on error. */
static struct pf__robots *parse_as(const char *txt, const char *product)
{
    struct pf__robots *r = NULL;

    if (pf__robots_parse(txt, strlen(txt), product, &r) != 0)
        return NULL;
    return r;
}

/* One path and whether it may be fetched. */
struct verdict {
    const char *path;
    int allowed;
};

/*
 * Check every verdict against txt for product; prints the first path
 * judged wrongly.
 */
static int judge_as(const char *txt, const char *product,
                    const struct verdict *v, size_t n)
{
    struct pf__robots *r = parse_as(txt, product);
    size_t i;
    int ok = r != NULL;

    for (i = 0; ok && i < n; i++) {
        if (pf__robots_allowed(r, v[i].path) != v[i].allowed) {
            fprintf(stderr, "  %s: \"%s\" should be %s\n", product, v[i].path,
                    v[i].allowed ? "allowed" : "refused");
            ok = 0;
        }
    }
    pf__robots_free(r);
    return ok;
}

#define JUDGE(txt, table) judge_as(txt, "pfetch", table, PF__ARRAY_LEN(table))

/* ------------------------------------------------------------------ */
/* Groups                                                              */
/* ------------------------------------------------------------------ */

static void test_no_rules_allows_all(void)
{
    static const struct verdict v[] = {{"/", 1}, {"/a/b?c=d", 1}};

    CHECK(JUDGE("", v));
    CHECK(JUDGE("# nothing but a comment\n", v));
    CHECK(JUDGE("User-agent: otherbot\nDisallow: /\n", v));
    CHECK(pf__robots_allowed(NULL, "/anything") == 1);
}

static void test_star_group(void)
{
    static const struct verdict v[] = {
        {"/", 1}, {"/private", 0}, {"/private/x", 0}, {"/privat", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow: /private\n", v));
}

static void test_own_group_beats_star(void)
{
    static const struct verdict v[] = {{"/a", 1}, {"/b", 0}, {"/c", 1}};
    const char *txt = "User-agent: *\n"
                      "Disallow: /a\n"
                      "\n"
                      "User-agent: pfetch\n"
                      "Disallow: /b\n";

    CHECK(JUDGE(txt, v));
}

static void test_own_group_case_insensitive(void)
{
    static const struct verdict v[] = {{"/a", 1}, {"/b", 0}};

    CHECK(JUDGE("User-agent: *\nDisallow: /a\n"
                "User-agent: PFetch\nDisallow: /b\n",
                v));
    /* The product token is the value's leading run of token characters. */
    CHECK(JUDGE("User-agent: *\nDisallow: /a\n"
                "User-agent: pfetch/0.1 (+https://example.org)\nDisallow: /b\n",
                v));
}

static void test_other_products_not_us(void)
{
    static const struct verdict v[] = {{"/a", 0}, {"/b", 1}};
    /* "pfetcher" and "pf" are other crawlers' tokens, not ours. */
    const char *txt = "User-agent: pfetcher\nDisallow: /b\n"
                      "User-agent: pf\nDisallow: /b\n"
                      "User-agent: *\nDisallow: /a\n";

    CHECK(JUDGE(txt, v));
}

static void test_own_empty_group_allows_all(void)
{
    static const struct verdict v[] = {{"/", 1}, {"/x", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow: /\n\nUser-agent: pfetch\n", v));
    CHECK(JUDGE("User-agent: *\nDisallow: /\n\nUser-agent: pfetch\n"
                "Disallow:\n",
                v));
}

static void test_groups_merged(void)
{
    static const struct verdict v[] = {
        {"/a", 0}, {"/b", 0}, {"/b/ok", 1}, {"/c", 1}};
    const char *txt = "User-agent: pfetch\n"
                      "Disallow: /a\n"
                      "\n"
                      "User-agent: *\n"
                      "Disallow: /c\n"
                      "\n"
                      "user-agent: PFETCH\n"
                      "Disallow: /b\n"
                      "Allow: /b/ok\n";

    CHECK(JUDGE(txt, v));
}

static void test_star_groups_merged(void)
{
    static const struct verdict v[] = {{"/a", 0}, {"/b", 0}, {"/c", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow: /a\n"
                "User-agent: x\nDisallow: /c\n"
                "User-agent: *\nDisallow: /b\n",
                v));
}

static void test_multi_agent_group(void)
{
    static const struct verdict v[] = {{"/a", 0}, {"/b", 1}};
    const char *txt = "User-agent: somebot\n"
                      "User-agent: pfetch\n"
                      "User-agent: otherbot\n"
                      "Disallow: /a\n"
                      "User-agent: *\n"
                      "Disallow: /b\n";

    CHECK(JUDGE(txt, v));
}

static void test_agent_after_rule_starts_group(void)
{
    static const struct verdict v[] = {{"/a", 1}, {"/b", 0}};
    /* The second User-agent line closes the first group. */
    const char *txt = "User-agent: otherbot\n"
                      "Disallow: /a\n"
                      "User-agent: pfetch\n"
                      "Disallow: /b\n";

    CHECK(JUDGE(txt, v));
}

static void test_rules_before_any_agent_ignored(void)
{
    static const struct verdict v[] = {{"/a", 1}, {"/b", 0}};

    CHECK(JUDGE("Disallow: /a\nUser-agent: *\nDisallow: /b\n", v));
}

static void test_unknown_fields_keep_group(void)
{
    static const struct verdict v[] = {{"/a", 0}, {"/b", 0}, {"/c", 1}};
    const char *txt = "User-agent: pfetch\n"
                      "Crawl-delay: 10\n"
                      "Disallow: /a\n"
                      "Sitemap: http://example.org/sitemap.xml\n"
                      "Host: example.org\n"
                      "Disallow: /b\n";

    CHECK(JUDGE(txt, v));
    /* An unknown field between agent lines does not split the group. */
    CHECK(JUDGE("User-agent: x\nHost: x.org\nUser-agent: pfetch\n"
                "Disallow: /a\nDisallow: /b\n",
                v));
}

static int64_t delay_of(const char *txt, const char *product)
{
    struct pf__robots *r = parse_as(txt, product);
    int64_t ms = pf__robots_crawl_delay_ms(r);

    pf__robots_free(r);
    return ms;
}

/*
 * Crawl-delay: of the group that applies (the largest when merged),
 * seconds with fractions; a member of its group, so a User-agent line
 * after it starts the next one; values that are not plain decimals are
 * ignored.
 */
static void test_crawl_delay(void)
{
    const char *two = "User-agent: pfetch\nCrawl-delay: 0.6\n\n"
                      "User-agent: *\nCrawl-delay: 5\nDisallow: /x\n";

    CHECK_EQ(delay_of("User-agent: *\nDisallow: /\n", "pfetch"), -1);
    CHECK_EQ(delay_of("User-agent: *\nCrawl-delay: 10\n", "pfetch"), 10000);
    CHECK_EQ(delay_of(two, "pfetch"), 600);
    CHECK_EQ(delay_of(two, "other"), 5000);
    CHECK_EQ(delay_of("User-agent: pfetch\nCrawl-delay: 1\n"
                      "User-agent: pfetch\nCrawl-delay: 2.5\n",
                      "pfetch"),
             2500);
    CHECK_EQ(delay_of("User-agent: other\nCrawl-delay: 3\n", "pfetch"), -1);
    CHECK_EQ(delay_of("User-agent: *\nCrawl-delay: 0.0005\n", "pfetch"), 0);
    CHECK_EQ(delay_of("User-agent: *\ncrawl-DELAY :  7 # comment\n", "pfetch"),
             7000);
    CHECK_EQ(delay_of("User-agent: *\nCrawl-delay: -1\n", "pfetch"), -1);
    CHECK_EQ(delay_of("User-agent: *\nCrawl-delay: 1e3\n", "pfetch"), -1);
    CHECK_EQ(delay_of("User-agent: *\nCrawl-delay: 0x10\n", "pfetch"), -1);
    CHECK_EQ(delay_of("User-agent: *\nCrawl-delay: .\n", "pfetch"), -1);
    CHECK_EQ(delay_of("User-agent: *\nCrawl-delay: 99999999999999999999\n",
                      "pfetch"),
             (int64_t)365 * 86400 * 1000);
    /* The group that names us wins, but its rules count too. */
    CHECK(JUDGE("User-agent: pfetch\nCrawl-delay: 1\nUser-agent: *\n"
                "Disallow: /a\n",
                ((const struct verdict[]){{"/a", 1}})));
}

/* Sitemap lines: every one, in order, as written, wherever they are. */
static void test_sitemaps(void)
{
    struct pf__robots *r =
        parse_as("Sitemap: http://a.org/1.xml\nUser-agent: other\n"
                 "Disallow: /\nsitemap:http://a.org/2.xml.gz  \n"
                 "Sitemap:\nSitemap: /relative.xml\n",
                 "pfetch");
    const char *v;

    CHECK(r != NULL);
    v = pf__robots_sitemap(r, NULL);
    CHECK(v != NULL && strcmp(v, "http://a.org/1.xml") == 0);
    v = pf__robots_sitemap(r, v);
    CHECK(v != NULL && strcmp(v, "http://a.org/2.xml.gz") == 0);
    v = pf__robots_sitemap(r, v);
    CHECK(v != NULL && strcmp(v, "/relative.xml") == 0);
    CHECK(pf__robots_sitemap(r, v) == NULL);
    pf__robots_free(r);
    r = parse_as("User-agent: *\nDisallow: /\n", "pfetch");
    CHECK(r != NULL && pf__robots_sitemap(r, NULL) == NULL);
    pf__robots_free(r);
    CHECK(pf__robots_sitemap(NULL, NULL) == NULL);
}

/* ------------------------------------------------------------------ */
/* Rules                                                               */
/* ------------------------------------------------------------------ */

static void test_longest_match(void)
{
    static const struct verdict v[] = {{"/folder/page", 1},
                                       {"/folder/other", 0},
                                       {"/folder/page/deeper/x", 0},
                                       {"/folder/page/deeper/allowed", 1},
                                       {"/folderx", 1}};
    const char *txt = "User-agent: *\n"
                      "Disallow: /folder/\n"
                      "Allow: /folder/page\n"
                      "Disallow: /folder/page/deeper/\n"
                      "Allow: /folder/page/deeper/allowed\n";

    CHECK(JUDGE(txt, v));
}

static void test_allow_wins_tie(void)
{
    static const struct verdict v[] = {{"/page", 1}, {"/pagex", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow: /page\nAllow: /page\n", v));
    CHECK(JUDGE("User-agent: *\nAllow: /page\nDisallow: /page\n", v));
    /* Equal octet counts, different patterns: Allow still wins. */
    CHECK(JUDGE("User-agent: *\nDisallow: /pag*\nAllow: /page\n", v));
}

static void test_longer_wildcard_rule_wins(void)
{
    static const struct verdict v[] = {{"/a/b.php", 0}, {"/a/b.html", 1}};

    /* The wildcard rule (8 octets) is longer than "/a/" (3). */
    CHECK(JUDGE("User-agent: *\nAllow: /a/\nDisallow: /a/*.php\n", v));
}

static void test_empty_disallow(void)
{
    static const struct verdict v[] = {{"/", 1}, {"/x", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow:\n", v));
    CHECK(JUDGE("User-agent: *\nDisallow:   # nothing\n", v));
}

static void test_disallow_all(void)
{
    static const struct verdict v[] = {
        {"/", 0}, {"/x", 0}, {"/robots.txt", 1}, {"/robots.txt?x=1", 1}};
    static const struct verdict w[] = {
        {"/robots", 0}, {"/robots.txt", 1}, {"/robots.txt.bak", 0}};

    CHECK(JUDGE("User-agent: *\nDisallow: /\n", v));
    CHECK(JUDGE("User-agent: *\nDisallow: /robots\n", w));
}

static void test_wildcards(void)
{
    static const struct verdict v[] = {
        {"/a.gif", 0},         {"/x/y/z.gif", 0},      {"/a.gif?x=1", 1},
        {"/a.gifs", 1},        {"/fish", 0},           {"/fish.html", 0},
        {"/fish/salmon", 0},   {"/Fish", 1},           {"/catfish", 1},
        {"/p/x/exactly", 1},   {"/p/x/exactly/no", 0}, {"/p/exactly", 0},
        {"/q/a/b/c/d/e/f", 0}, {"/q/a/b/c/d/e", 1},    {"/z", 1}};
    const char *txt = "User-agent: *\n"
                      "Disallow: /*.gif$\n"
                      "Disallow: /fish*\n"
                      "Disallow: /p/\n"
                      "Allow: /p/*/exactly$\n"
                      "Disallow: /q/*/*/*/*/*/f\n";

    CHECK(JUDGE(txt, v));
}

static void test_dollar_anchor(void)
{
    static const struct verdict v[] = {
        {"/", 1}, {"/a", 0}, {"/x", 0}, {"/page$", 1}, {"/page", 1}};

    /* "/$" allows exactly the root; "/" refuses the rest. */
    CHECK(JUDGE("User-agent: *\nDisallow: /\nAllow: /$\n"
                "Allow: /page\n",
                v));
}

static void test_dollar_not_at_end_is_literal(void)
{
    static const struct verdict v[] = {
        {"/a$b", 0}, {"/a%24b", 0}, {"/ab", 1}, {"/a", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow: /a$b\n", v));
}

static void test_query_is_matched(void)
{
    static const struct verdict v[] = {
        {"/s?q=1", 0}, {"/s?q=2", 1}, {"/s", 1}, {"/t?id=5&x", 0}};

    CHECK(JUDGE("User-agent: *\nDisallow: /s?q=1\nDisallow: /*?id=\n", v));
}

static void test_case_sensitive_paths(void)
{
    static const struct verdict v[] = {{"/Private", 0}, {"/private", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow: /Private\n", v));
}

/* ------------------------------------------------------------------ */
/* Percent-encoding                                                    */
/* ------------------------------------------------------------------ */

static void test_percent_encoding(void)
{
    /* RFC 9309 2.2.2's table, both ways round, plus hex case. */
    static const struct verdict v[] = {
        {"/foo/bar?baz=quz", 0},   {"/foo/bar/\xE3\x83\x84", 0},
        {"/foo/bar/%E3%83%84", 0}, {"/foo/bar/%e3%83%84", 0},
        {"/foo/bar/baz", 0},       {"/foo/bar/%62%61%7A", 0},
        {"/foo/bar/other", 1},     {"/~joe/x", 0},
        {"/%7Ejoe/x", 0},          {"/%7ejoe/x", 0},
        {"/sp%20ace", 0},          {"/%2Fslash", 0},
        {"/%2fslash", 0},          {"//slash", 1}};
    const char *a = "User-agent: *\n"
                    "Disallow: /foo/bar?baz=quz\n"
                    "Disallow: /foo/bar/%E3%83%84\n"
                    "Disallow: /foo/bar/%62%61%7A\n"
                    "Disallow: /%7Ejoe\n"
                    "Disallow: /sp ace\n"
                    "Disallow: /%2fslash\n";
    const char *b = "User-agent: *\n"
                    "Disallow: /foo/bar?baz=quz\n"
                    "Disallow: /foo/bar/\xE3\x83\x84\n"
                    "Disallow: /foo/bar/baz\n"
                    "Disallow: /~joe\n"
                    "Disallow: /sp%20ace\n"
                    "Disallow: /%2Fslash\n";

    CHECK(JUDGE(a, v));
    CHECK(JUDGE(b, v));
}

static void test_literal_star_and_dollar(void)
{
    /* RFC 9309 2.2.3: a literal '*' or '$' is named encoded. */
    static const struct verdict v[] = {{"/path/file-with-a-*.html", 0},
                                       {"/path/file-with-a-x.html", 1},
                                       {"/path/foo-$", 0},
                                       {"/path/foo-", 1},
                                       {"/path/foo-x", 1}};

    CHECK(JUDGE("User-agent: *\n"
                "Disallow: /path/file-with-a-%2A.html\n"
                "Disallow: /path/foo-%24\n",
                v));
}

static void test_bad_percent_kept(void)
{
    static const struct verdict v[] = {{"/a%zz", 0}, {"/a%", 0}, {"/a", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow: /a%zz\nDisallow: /a%$\n", v));
}

/* ------------------------------------------------------------------ */
/* RFC 9309's examples                                                 */
/* ------------------------------------------------------------------ */

static const char rfc_5_1[] = "User-Agent: *\n"
                              "Disallow: *.gif$\n"
                              "Disallow: /example/\n"
                              "Allow: /publications/\n"
                              "\n"
                              "User-Agent: foobot\n"
                              "Disallow:/\n"
                              "Allow:/example/page.html\n"
                              "Allow:/example/allowed.gif\n"
                              "\n"
                              "User-Agent: barbot\n"
                              "User-Agent: bazbot\n"
                              "Disallow: /example/page.html\n"
                              "\n"
                              "User-Agent: quxbot\n"
                              "\n"
                              "EOF\n";

static void test_rfc_simple_example(void)
{
    static const struct verdict star[] = {{"/", 1},
                                          {"/x.gif", 0},
                                          {"/example/page.html", 0},
                                          {"/publications/a", 1},
                                          {"/publications/a.gif", 1},
                                          {"/other", 1}};
    static const struct verdict foo[] = {{"/", 0},
                                         {"/other", 0},
                                         {"/example/page.html", 1},
                                         {"/example/allowed.gif", 1},
                                         {"/example/other.gif", 0}};
    static const struct verdict bar[] = {
        {"/example/page.html", 0}, {"/example/other.html", 1}, {"/x.gif", 1}};
    static const struct verdict qux[] = {
        {"/", 1}, {"/example/page.html", 1}, {"/x.gif", 1}};

    CHECK(judge_as(rfc_5_1, "pfetch", star, PF__ARRAY_LEN(star)));
    CHECK(judge_as(rfc_5_1, "foobot", foo, PF__ARRAY_LEN(foo)));
    CHECK(judge_as(rfc_5_1, "FooBot", foo, PF__ARRAY_LEN(foo)));
    CHECK(judge_as(rfc_5_1, "barbot", bar, PF__ARRAY_LEN(bar)));
    CHECK(judge_as(rfc_5_1, "bazbot", bar, PF__ARRAY_LEN(bar)));
    CHECK(judge_as(rfc_5_1, "quxbot", qux, PF__ARRAY_LEN(qux)));
}

static void test_rfc_longest_match_example(void)
{
    static const struct verdict v[] = {{"/example/page/", 1},
                                       {"/example/page/x.html", 1},
                                       {"/example/page/disallowed.gif", 0}};

    CHECK(judge_as("User-Agent: foobot\n"
                   "Allow: /example/page/\n"
                   "Disallow: /example/page/disallowed.gif\n",
                   "foobot", v, PF__ARRAY_LEN(v)));
}

static void test_rfc_special_characters(void)
{
    /* 2.2.3: "*" any sequence, "$" end, "#" a comment. */
    static const struct verdict v[] = {{"/path/to/x/.html", 1},
                                       {"/this/a/exactly", 1},
                                       {"/this/a/exactly/more", 0},
                                       {"/this/x", 0},
                                       {"/path/to/", 1}};

    CHECK(JUDGE("User-agent: *\n"
                "Allow: /path/to/*/.html\n"
                "Disallow: /this/ # everything below\n"
                "Allow: /this/*/exactly$\n",
                v));
}

/* ------------------------------------------------------------------ */
/* Lines                                                               */
/* ------------------------------------------------------------------ */

static void test_line_ends(void)
{
    static const struct verdict v[] = {
        {"/a", 0}, {"/b", 0}, {"/c", 0}, {"/d", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow: /a\nDisallow: /b\nDisallow: /c", v));
    CHECK(JUDGE("User-agent: *\r\nDisallow: /a\r\nDisallow: /b\r\n"
                "Disallow: /c\r\n",
                v));
    CHECK(
        JUDGE("User-agent: *\rDisallow: /a\rDisallow: /b\rDisallow: /c\r", v));
    CHECK(JUDGE("User-agent: *\r\n\r\nDisallow: /a\n\r\rDisallow: /b\r\r\n"
                "Disallow: /c",
                v));
}

static void test_bom_and_whitespace(void)
{
    static const struct verdict v[] = {{"/a", 0}, {"/b", 0}, {"/c", 1}};

    CHECK(JUDGE("\xEF\xBB\xBFUser-agent: *\nDisallow: /a\nDisallow: /b\n", v));
    CHECK(JUDGE("   User-agent :   *  \n\tDisallow\t:\t/a\t\n"
                "  DISALLOW:/b   \n",
                v));
    CHECK(JUDGE("user-AGENT: *\ndisallow: /a\ndisAllow: /b\nallow: /c\n", v));
}

static void test_comments(void)
{
    static const struct verdict v[] = {{"/a", 0}, {"/b", 1}, {"/a#x", 0}};

    CHECK(JUDGE("# header\nUser-agent: * # everyone\n"
                "Disallow: /a # not /b\n"
                "# Disallow: /b\n"
                "Disallow: #/b\n",
                v));
}

static void test_lines_without_colon_ignored(void)
{
    static const struct verdict v[] = {{"/a", 0}, {"/b", 1}};

    CHECK(JUDGE("User-agent: *\nDisallow /b\nthis is not a rule\n"
                "Disallow: /a\n<html><body>oops</body></html>\n",
                v));
}

static void test_nul_and_binary(void)
{
    static const char txt[] = "User-agent: *\nDisallow: /a\0junk\n"
                              "\xff\xfe:\x01\nDisallow: /b\n";
    struct pf__robots *r = NULL;

    CHECK(pf__robots_parse(txt, sizeof(txt) - 1, "pfetch", &r) == 0);
    CHECK(pf__robots_allowed(r, "/b") == 0);
    CHECK(pf__robots_allowed(r, "/c") == 1);
    pf__robots_free(r);
    CHECK(pf__robots_parse(NULL, 0, "pfetch", &r) == 0);
    CHECK(pf__robots_allowed(r, "/") == 1);
    pf__robots_free(r);
    pf__robots_free(NULL);
}

/* ------------------------------------------------------------------ */
/* Caps and cost                                                       */
/* ------------------------------------------------------------------ */

/* A body of size bytes: "*" group, then comment filler, then tail. */
static char *big_body(size_t size, const char *tail)
{
    const char *head = "User-agent: *\nDisallow: /head\n";
    size_t hl = strlen(head), tl = strlen(tail), i;
    char *txt = malloc(size + 1);

    if (txt == NULL)
        return NULL;
    memcpy(txt, head, hl);
    for (i = hl; i < size - tl; i++)
        txt[i] = (i % 64 == 63) ? '\n' : '#';
    txt[hl] = '\n';
    memcpy(txt + size - tl, tail, tl);
    txt[size] = '\0';
    return txt;
}

static void test_first_512k_parsed(void)
{
    const char *tail = "\nDisallow: /tail\n";
    char *in = big_body(512 * 1024 - 64, tail);
    char *out = big_body(512 * 1024 + 4096, tail);
    struct pf__robots *r = NULL;

    CHECK(in != NULL && out != NULL);
    CHECK(pf__robots_parse(in, strlen(in), "pfetch", &r) == 0);
    CHECK(pf__robots_allowed(r, "/head") == 0);
    CHECK(pf__robots_allowed(r, "/tail") == 0);
    pf__robots_free(r);
    CHECK(pf__robots_parse(out, strlen(out), "pfetch", &r) == 0);
    CHECK(pf__robots_allowed(r, "/head") == 0);
    CHECK(pf__robots_allowed(r, "/tail") == 1);
    pf__robots_free(r);
    free(in);
    free(out);
}

static void test_rule_cap(void)
{
    struct pf__buf b = {NULL, 0, 0};
    struct pf__robots *r = NULL;
    char line[64];
    int i;

    CHECK(pf__buf_append(&b, "User-agent: *\n", 14) == 0);
    for (i = 0; i < 20000; i++) {
        int n = snprintf(line, sizeof(line), "Disallow: /r%d$\n", i);

        CHECK(pf__buf_append(&b, line, (size_t)n) == 0);
    }
    CHECK(b.len < 512 * 1024);
    CHECK(pf__robots_parse(b.data, b.len, "pfetch", &r) == 0);
    CHECK(pf__robots_allowed(r, "/r0") == 0);
    CHECK(pf__robots_allowed(r, "/r16383") == 0);
    /* Past the cap the rules are dropped: those paths stay allowed. */
    CHECK(pf__robots_allowed(r, "/r19999") == 1);
    CHECK(pf__robots_allowed(r, "/x") == 1);
    pf__robots_free(r);
    pf__buf_free(&b);
}

/*
 * Many '*' against a long path that nearly matches: a backtracking
 * matcher takes exponential time here, ours a few million steps.
 */
static void test_many_stars_fast(void)
{
    struct pf__buf rule = {NULL, 0, 0};
    struct pf__robots *r = NULL;
    char path[4096];
    int64_t t0;
    int i, k;

    CHECK(pf__buf_append(&rule, "User-agent: *\nDisallow: /", 25) == 0);
    for (i = 0; i < 200; i++)
        CHECK(pf__buf_append(&rule, "*a", 2) == 0);
    CHECK(pf__buf_append(&rule, "*b$\n", 4) == 0);
    CHECK(pf__robots_parse(rule.data, rule.len, "pfetch", &r) == 0);
    path[0] = '/';
    memset(path + 1, 'a', sizeof(path) - 2);
    path[sizeof(path) - 1] = '\0';
    t0 = pf__now_ms();
    for (k = 0; k < 5; k++)
        CHECK(pf__robots_allowed(r, path) == 1);
    path[sizeof(path) - 2] = 'b';
    CHECK(pf__robots_allowed(r, path) == 0);
    printf("# 6 queries of 200 stars over 4 KiB: %lld ms\n",
           (long long)(pf__now_ms() - t0));
    /* Generous: ~1M steps each; even a sanitizer build is far below. */
    CHECK(pf__now_ms() - t0 < 5000);
    pf__robots_free(r);
    pf__buf_free(&rule);
}

/* ------------------------------------------------------------------ */
/* Allocation failures                                                 */
/* ------------------------------------------------------------------ */

static void test_oom(void)
{
    const char *txt = "User-agent: pfetch\nDisallow: /a\nAllow: /a/b\n"
                      "User-agent: *\nDisallow: /\n";
    long n;

    for (n = 1; n < 1000; n++) {
        struct pf__robots *r = (struct pf__robots *)1;
        int rc, allowed;

        pf__malloc_fail_at(n);
        rc = pf__robots_parse(txt, strlen(txt), "pfetch", &r);
        CHECK(rc == 0 || rc == PF_ENOMEM);
        if (rc == 0) {
            /* Without memory a query refuses; with it, the right answer. */
            allowed = pf__robots_allowed(r, "/a/b/c");
            CHECK(allowed == 1 || allowed == 0);
            allowed = pf__robots_allowed(r, "/a/c");
            CHECK(allowed == 0);
            pf__robots_free(r);
        } else {
            CHECK(r == NULL);
        }
        if (pf__malloc_fail_at(0) < n)
            break; /* the nth allocation was never reached: all done */
    }
    printf("# oom: swept %ld allocation points\n", n);
    CHECK(n < 1000);
}

TEST_MAIN(TEST(test_no_rules_allows_all), TEST(test_star_group),
          TEST(test_own_group_beats_star),
          TEST(test_own_group_case_insensitive),
          TEST(test_other_products_not_us),
          TEST(test_own_empty_group_allows_all), TEST(test_groups_merged),
          TEST(test_star_groups_merged), TEST(test_multi_agent_group),
          TEST(test_agent_after_rule_starts_group),
          TEST(test_rules_before_any_agent_ignored),
          TEST(test_unknown_fields_keep_group), TEST(test_crawl_delay),
          TEST(test_sitemaps), TEST(test_longest_match),
          TEST(test_allow_wins_tie), TEST(test_longer_wildcard_rule_wins),
          TEST(test_empty_disallow), TEST(test_disallow_all),
          TEST(test_wildcards), TEST(test_dollar_anchor),
          TEST(test_dollar_not_at_end_is_literal), TEST(test_query_is_matched),
          TEST(test_case_sensitive_paths), TEST(test_percent_encoding),
          TEST(test_literal_star_and_dollar), TEST(test_bad_percent_kept),
          TEST(test_rfc_simple_example), TEST(test_rfc_longest_match_example),
          TEST(test_rfc_special_characters), TEST(test_line_ends),
          TEST(test_bom_and_whitespace), TEST(test_comments),
          TEST(test_lines_without_colon_ignored), TEST(test_nul_and_binary),
          TEST(test_first_512k_parsed), TEST(test_rule_cap),
          TEST(test_many_stars_fast), TEST(test_oom))
