#!/usr/bin/env python3
"""Crawling the fixture site (fixtures/crawl): the exact set of rows for
-l 0, 1, 2, 5 (the default) and inf, each with its depth and a parent
that links to it; host scope and --span-hosts over two hosts; --accept
and --reject; robots.txt (refused rows, asked once per host, never for a
host with seeds only, not for seeds) and --no-robots; broken markup and
every spelling of a link; no URL requested twice; files saved where the
tree layout says, identical to what the server sent; exit status 1 when
a link 404s, 0 when all went well.

The expected outcome of each run comes from crawlmodel.py, which applies
DESIGN.md's rules to the site's manifest.  Each case serves host A and
host B on two ports of 127.0.0.1, with their origins put in for the
site's {{ORIGIN_A}}-style placeholders."""

import pftest as t
import crawlmodel as cm

INF = cm.INF
crawl = cm.run


SEED = [("a", "/")]


# -- the log's queries -------------------------------------------------------

def man_query(after):
    """The SQL of pfetch(5)'s literal block that follows the line
    starting with after."""
    import re
    text = (t.SRC / "man" / "pfetch.5").read_text()
    m = re.search(r"^%s.*?\n\.Bd -literal[^\n]*\n(.*?)^\.Ed" % re.escape(after),
                  text, re.M | re.S)
    t.check(m, "pfetch.5 has no query after %r" % after)
    return m.group(1)


@t.case
def missing_page_query_after_resume(env):
    """pfetch(5)'s "who links to a missing page" gives each missing page
    once, though the resumed run (-c) fetched and logged it again."""
    with cm.hosts() as hs:
        site = cm.Site(cm.fixture_dir(), {"a": hs.servers[0].base,
                                          "b": hs.servers[1].base})
        for opts in (["-r"], ["-c", "-r"]):
            r = env.pfetch("--progress", "none", *opts, site.url("a", "/"),
                           timeout=60)
            t.eq(r.rc, 1, "exit status of %r (the site has a 404)" % opts)
    t.eq(len(env.db().runs()), 2, "runs")
    db = env.db()
    rows = db.query(man_query("Who links to a missing page"))
    t.check(rows, "no missing page found")
    pairs = [(q["parent_url"], q["url"]) for q in rows]
    t.eq(len(pairs), len(set(pairs)), "distinct rows of %r" % pairs)
    missing = db.query("SELECT DISTINCT url FROM fetches WHERE status = 404")
    t.eq(sorted(q["url"] for q in rows), sorted(q["url"] for q in missing),
         "missing pages")


# -- depth ----------------------------------------------------------------

@t.case
def depth_0_seeds_only(env):
    r, want, _ = crawl(env, ["-r", "-l", "0"], SEED, depth=0)
    t.eq(len(want.rows), 1, "model rows")
    t.eq(want.robots_hosts, set(), "robots.txt asked for")


@t.case
def depth_1(env):
    crawl(env, ["-r", "-l", "1"], SEED, depth=1)


@t.case
def depth_2(env):
    r, want, _ = crawl(env, ["-r", "-l", "2"], SEED, depth=2)
    t.check(want.failed(), "the model has the 404 at depth 2")


@t.case
def depth_default_is_5(env):
    r, want, _ = crawl(env, ["-r"], SEED, depth=5)
    t.check(max(row.depth for row in want.rows.values()) == 5,
            "the model reaches depth 5 and stops")


@t.case
def depth_inf(env):
    r, want, site = crawl(env, ["-r", "-l", "inf"], SEED, depth=INF)
    depths = {row.depth for row in want.rows.values()}
    t.check(max(depths) >= 6, "the site is deeper than the default")
    # Shortest distance: the chain's d4 is also linked from the seed.
    t.eq(want.rows[site.url("a", "/sec03/deep/d4.html")].depth, 1,
         "depth of the shortcut page")
    t.eq(want.rows[site.url("a", "/sec03/deep/d5.html")].depth, 2,
         "depth of the page after the shortcut")
    t.eq(want.rows[site.url("a", "/sec01/deep/d5.html")].depth, 7,
         "depth of a page reached only the long way")


# -- scope and filters ----------------------------------------------------

@t.case
def span_hosts(env):
    r, want, site = crawl(env, ["-r", "-l", "inf", "--span-hosts"], SEED,
                          depth=INF, span_hosts=True)
    t.check(site.url("b", "/b9.html") in want.rows, "host B crawled")
    t.eq(len(want.robots_hosts), 2, "hosts whose robots.txt is asked for")


@t.case
def two_seed_hosts_without_span(env):
    """Both seeds' hosts are in scope; a host with a seed but nothing
    discovered gets no robots.txt request."""
    crawl(env, ["-r", "-l", "1"], [("a", "/misc/rel.html"),
                                   ("b", "/img/b.png")], depth=1)


@t.case
def seeds_of_both_hosts_crawled(env):
    crawl(env, ["-r", "-l", "2"], [("a", "/sec02/"), ("b", "/b2.html")],
          depth=2)


@t.case
def accept_and_reject(env):
    accept, reject = "/sec0[12]/|/misc/", "deep|t1[0-9]"
    crawl(env, ["-r", "-l", "inf", "--accept", accept, "--reject", reject],
          SEED, depth=INF, accept=accept, reject=reject)


@t.case
def reject_wins_and_seed_not_filtered(env):
    """A seed the filters would leave out is still fetched; a URL both
    accepted and rejected is rejected."""
    accept, reject = "sec05", "sec05/t0"
    crawl(env, ["-r", "-l", "2", "--accept", accept, "--reject", reject],
          [("a", "/misc/links.html"), ("a", "/sec05/")], depth=2,
          accept=accept, reject=reject)


@t.case
def all_good_exits_0(env):
    """Without the 404 and the refused pages every URL succeeds."""
    reject = "missing|private"
    r, want, _ = crawl(env, ["-r", "-l", "inf", "--reject", reject], SEED,
                       depth=INF, reject=reject)
    t.eq(want.failed(), [], "model failures")
    t.eq(want.refused(), [], "model refusals")
    t.eq(r.rc, 0, "exit status")


# -- robots.txt -----------------------------------------------------------

@t.case
def robots_refusals(env):
    r, want, site = crawl(env, ["-r", "-l", "3"], [("a", "/misc/links.html")],
                          depth=3)
    refused = want.refused()
    t.check(site.url("a", "/private/secret1.html") in refused,
            "the model refuses /private/")
    t.check(site.url("a", "/private/open.html") not in refused,
            "the model allows the Allow exception")
    t.check(site.url("a", "/private/secret3.html") in refused,
            "the model refuses a link of the allowed page")


@t.case
def no_robots(env):
    r, want, site = crawl(env, ["-r", "-l", "inf", "--no-robots"], SEED,
                          depth=INF, robots=False)
    t.eq(want.refused(), [], "model refusals")
    t.check(site.url("a", "/private/secret3.html") in want.rows,
            "private pages crawled")


@t.case
def robots_not_for_seeds(env):
    """A seed robots.txt refuses is fetched, and parsed."""
    r, want, site = crawl(env, ["-r", "-l", "1"],
                          [("a", "/private/secret2.html")], depth=1)
    t.eq(want.rows[site.url("a", "/private/secret2.html")].status, 200,
         "model status of the seed")


# -- markup and spellings -------------------------------------------------

@t.case
def odd_markup(env):
    """Broken tags, a fragment without <html>, <base href>, a meta
    refresh, a frameset: each page's links, and no more."""
    crawl(env, ["-r", "-l", "1"],
          [("a", "/misc/broken.html"), ("a", "/misc/fragment.html"),
           ("a", "/misc/based.html"), ("a", "/misc/refresh.html"),
           ("a", "/misc/frames.html")], depth=1)


@t.case
def link_spellings(env):
    """Relative, absolute, protocol-relative, fragment, scheme-case,
    %7e/%7E and dot-segment spellings of one URL are one URL."""
    r, want, site = crawl(env, ["-r", "-l", "1"],
                          [("a", "/misc/links.html"), ("a", "/misc/rel.html")],
                          depth=1)
    t.check(site.url("a", "/misc/%7Ejoe.html") in want.rows,
            "the model has joe's page")


@t.case
def gallery_links_with_r(env):
    """-r alone follows requisite links too (they are links)."""
    crawl(env, ["-r", "-l", "2"], [("a", "/gallery.html")], depth=2)


t.run()
