/*
 * listing_crawler.c -- a Scrapy-style spider in C: scrape a shop's
 * paginated product listing into a SQLite table.
 *
 *   listing_crawler START_URL OUTDIR DB [DEPTH]
 *
 * On every listing page, from START_URL on, the spider reads the product
 * cards (title, price, link) with XPath into the table "items" of the
 * SQLite database DB, and follows the rel="next" link and nothing else:
 * the crawl walks the listing and never strays to item pages, categories
 * or the basket.  Pages are saved under OUTDIR with pfetch's own log.
 * DEPTH (default 100) caps the "next" links followed.  Exits 0 when every
 * page was fetched and stored.  Uses pfetch.h, libxml2 and sqlite3 only.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include <libxml/HTMLtree.h>
#include <libxml/uri.h>
#include <libxml/xpath.h>
#include <sqlite3.h>

#include "pfetch.h"

/*
 * The selectors, as a Scrapy spider would have them: the product cards
 * ("article.product" in CSS), then per card its title, price and link,
 * white space collapsed; and the next page's link.
 */
#define CARDS "//article[contains(concat(' ', @class, ' '), ' product ')]"
#define TITLE "normalize-space(.//h3/a)"
#define PRICE "normalize-space(.//*[@class='price'])"
#define LINK "string(.//h3/a/@href)"
#define NEXT "string(//a[@rel='next']/@href)"
#define SCHEMA                                                                 \
    "DROP TABLE IF EXISTS items;"                                              \
    "CREATE TABLE items(id INTEGER PRIMARY KEY, title TEXT NOT NULL,"          \
    " price TEXT NOT NULL, link TEXT NOT NULL, page TEXT NOT NULL)"
#define INSERT "INSERT INTO items(title, price, link, page) VALUES (?,?,?,?)"

/*
 * on_page runs on the parser threads, several pages at once, and all of
 * them write to one SQLite connection.  Each page's rows go in as one
 * transaction through one prepared statement: BEGIN, then bind, step and
 * reset per row, then COMMIT.  SQLITE_OPEN_FULLMUTEX would make each of
 * those calls atomic, not the sequence: two pages could still bind into
 * the same statement or nest their BEGINs.  So the spider holds its own
 * mutex around the whole sequence and opens the connection NOMUTEX (the
 * mutex already keeps it to one thread at a time).  The few XPath queries
 * of the rows run under the lock too: microseconds, next to the parse
 * that built pg->doc, which ran in parallel before the callback.
 */
struct spider {
    pthread_mutex_t lock; /* guards db, insert and records */
    sqlite3 *db;
    sqlite3_stmt *insert;
    int records;       /* rows committed */
    atomic_int failed; /* a page could not be scraped: crawl stopped */
};

/* The string value of XPath expr at node (xmlFree() it), or NULL. */
static xmlChar *xpath_string(xmlXPathContextPtr xp, xmlNodePtr node,
                             const char *expr)
{
    xmlXPathObjectPtr o;
    xmlChar *s = NULL;

    xp->node = node;
    o = xmlXPathEvalExpression(BAD_CAST expr, xp);
    if (o != NULL)
        s = xmlXPathCastToString(o);
    xmlXPathFreeObject(o);
    return s;
}

/* One card's row.  A missing field binds NULL, which NOT NULL refuses. */
static int insert_card(struct spider *sp, xmlXPathContextPtr xp,
                       xmlNodePtr card, const xmlChar *base, const char *page)
{
    xmlChar *title = xpath_string(xp, card, TITLE);
    xmlChar *price = xpath_string(xp, card, PRICE);
    xmlChar *href = xpath_string(xp, card, LINK);
    xmlChar *link = href && *href ? xmlBuildURI(href, base) : NULL;
    int rc = SQLITE_OK;

    sqlite3_bind_text(sp->insert, 1, (const char *)title, -1, NULL);
    sqlite3_bind_text(sp->insert, 2, (const char *)price, -1, NULL);
    sqlite3_bind_text(sp->insert, 3, (const char *)link, -1, NULL);
    sqlite3_bind_text(sp->insert, 4, page, -1, NULL);
    if (sqlite3_step(sp->insert) != SQLITE_DONE)
        rc = sqlite3_errcode(sp->db);
    sqlite3_reset(sp->insert);
    xmlFree(title);
    xmlFree(price);
    xmlFree(href);
    xmlFree(link);
    return rc;
}

/* A page's rows, all or none.  Parser thread. */
static int store_page(struct spider *sp, xmlXPathContextPtr xp,
                      xmlNodeSetPtr cards, const xmlChar *base,
                      const char *page)
{
    int i = 0, rc;

    pthread_mutex_lock(&sp->lock);
    rc = sqlite3_exec(sp->db, "BEGIN", NULL, NULL, NULL);
    for (; cards != NULL && i < cards->nodeNr && rc == SQLITE_OK; i++)
        rc = insert_card(sp, xp, cards->nodeTab[i], base, page);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(sp->db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        sp->records += i;
    } else {
        fprintf(stderr, "%s: %s\n", page, sqlite3_errmsg(sp->db));
        sqlite3_exec(sp->db, "ROLLBACK", NULL, NULL, NULL);
    }
    pthread_mutex_unlock(&sp->lock);
    return rc;
}

/* The Scrapy callback: records out, the next page in.  Parser thread. */
static void on_page(pf_crawler *c, struct pf_page *pg, void *userdata)
{
    struct spider *sp = userdata;
    xmlXPathContextPtr xp = NULL;
    xmlXPathObjectPtr cards = NULL;
    xmlChar *base, *href, *next = NULL;
    int rc = SQLITE_NOMEM;
    size_t i;

    /* Follow none of the links the page has: we choose below. */
    for (i = 0; i < pg->nlinks; i++)
        pg->follow[i] = 0;
    if (pg->doc == NULL) /* not HTML */
        return;
    /*
     * Relative links resolve against the page's <base href> (itself
     * relative to the page's URL), else against the page's URL.  For an
     * HTML tree, xmlNodeGetBase() returns the <base href> or NULL.
     */
    href = xmlNodeGetBase(pg->doc, xmlDocGetRootElement(pg->doc));
    base = href != NULL ? xmlBuildURI(href, BAD_CAST pg->final_url)
                        : xmlStrdup(BAD_CAST pg->final_url);
    xmlFree(href);
    xp = xmlXPathNewContext(pg->doc);
    if (xp != NULL)
        cards = xmlXPathEvalExpression(BAD_CAST CARDS, xp);
    if (base != NULL && cards != NULL)
        rc = store_page(sp, xp, cards->nodesetval, base, pg->url);
    /*
     * Scrapy's "yield response.follow(next_page)": the link goes through
     * the crawl's rules (depth, host, dedupe) as if the page had it in
     * pg->links.  pf_crawler_add_link() resolves a relative link against
     * pg->final_url alone, so it gets the link resolved with <base> here.
     */
    href = rc == SQLITE_OK ? xpath_string(xp, NULL, NEXT) : NULL;
    if (href != NULL && *href != '\0') {
        next = xmlBuildURI(href, base);
        if (next == NULL ||
            pf_crawler_add_link(c, pg, (const char *)next) == PF_EURL)
            fprintf(stderr, "%s: bad next link %s\n", pg->url, href);
    }
    if (rc != SQLITE_OK) {
        fprintf(stderr, "%s: cannot scrape the page\n", pg->url);
        atomic_store(&sp->failed, 1);
        pf_crawler_stop(c); /* any thread may stop the crawl */
    }
    xmlFree(href);
    xmlFree(next);
    xmlXPathFreeObject(cards);
    xmlXPathFreeContext(xp);
    xmlFree(base);
}

/* sqlite3_exec() callback: print one row of the items table. */
static int print_row(void *userdata, int ncols, char **v, char **names)
{
    (void)userdata;
    (void)ncols;
    (void)names;
    printf("  %-22s %8s  %s\n", v[0], v[1], v[2]);
    return 0;
}

int main(int argc, char **argv)
{
    struct spider sp = {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, 0, 0};
    struct pf_config cfg;
    struct pf_stats st = {0};
    pf_crawler *c = NULL;
    int rc = PF_EDB;

    if (argc < 4 || argc > 5) {
        fprintf(stderr, "usage: listing_crawler URL OUTDIR DB [DEPTH]\n");
        return 2;
    }
    if (pf_global_init() != 0)
        return 1;
    /* The spider's own database, apart from pfetch's log: a fresh table. */
    if (sqlite3_open_v2(argv[3], &sp.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(sp.db, SCHEMA, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(sp.db, INSERT, -1, &sp.insert, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", argv[3], sqlite3_errmsg(sp.db));
    } else {
        pf_config_init(&cfg);
        cfg.out_dir = argv[2];
        cfg.recursive = 1; /* parse pages; accept the links we keep */
        cfg.depth = argc > 4 ? (int)strtol(argv[4], NULL, 10) : 100;
        cfg.page_doc = 1; /* give on_page the libxml2 tree, pg->doc */
        cfg.on_page = on_page;
        cfg.userdata = &sp;
        rc = pf_crawler_new(&c, &cfg);
        if (rc == 0)
            rc = pf_crawler_add_url(c, argv[1]);
        if (rc == 0)
            rc = pf_crawler_run(c); /* returns when every page is done */
        if (c != NULL)
            pf_crawler_stats(c, &st);
        pf_crawler_free(c);
        if (rc != 0)
            fprintf(stderr, "listing_crawler: %s\n", pf_strerror(rc));
    }
    if (st.failed > 0)
        fprintf(stderr, "%llu pages failed\n", (unsigned long long)st.failed);
    if (rc == 0 && !sp.failed) {
        printf("%d records from %llu pages, the first ones:\n", sp.records,
               (unsigned long long)st.done);
        sqlite3_exec(sp.db,
                     "SELECT title, price, link FROM items ORDER BY id"
                     " LIMIT 3",
                     print_row, NULL, NULL);
    }
    sqlite3_finalize(sp.insert);
    sqlite3_close(sp.db);
    pf_global_cleanup();
    return rc == 0 && !sp.failed && st.failed == 0 ? 0 : 1;
}
