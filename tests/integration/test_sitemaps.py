#!/usr/bin/env python3
"""--sitemaps: for each seed host, the Sitemap lines of its robots.txt,
or /sitemap.xml when it names none.  Sitemap files get rows (depth 0,
parent_url the index that named them, NULL otherwise) and are saved like
any file; an index's sitemaps are followed; gzip sitemaps are read, and
so are sitemaps sent with Content-Encoding: gzip.  Each <loc> is a link
of depth 1 whose parent_url is its sitemap, judged by scope, filters
(which apply to locs, never to sitemap files) and robots.txt.  At most
50,000 URLs per sitemap, with a warning.  A guessed /sitemap.xml that
is missing has its 404 row but does not fail the run; a sitemap that
robots.txt names and that is missing does."""

import gzip

import pftest as t

URLSET = ('<?xml version="1.0" encoding="UTF-8"?>\n'
          '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"\n'
          '  xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
          '\n%s</urlset>\n')
INDEX = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
         '\n%s</sitemapindex>\n')


def urlset(locs):
    return URLSET % "".join("  <url><loc>%s</loc>"
                            "<lastmod>2024-01-01</lastmod></url>\n" % l
                            for l in locs)


def index(locs):
    return INDEX % "".join("  <sitemap><loc>%s</loc></sitemap>\n" % l
                           for l in locs)


def write(root, rel, data):
    p = root / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data if isinstance(data, bytes) else data.encode())


def paths(srv):
    return [r["path"] for r in srv.requests()]


@t.case
def index_gz_scope_filters_robots(env):
    """robots.txt names an index; the index names a plain sitemap, a
    gzip one and one sent with Content-Encoding: gzip.  Their URLs,
    linked from nowhere else, are fetched at depth 1 with their sitemap
    as parent_url; a URL robots.txt refuses gets its refused row; URLs
    of another host or refused by --reject get none (no request); a
    sitemap file whose name --reject matches is still read."""
    root = env.tmp / "site"
    with t.Server(root=root) as s, t.Server() as other:
        o = s.base
        write(root, "robots.txt", "User-agent: *\nDisallow: /private/\n"
              "Sitemap: %s/maps/index.xml\n" % o)
        write(root, "index.html", "<p>nothing linked here\n")
        write(root, "maps/index.xml", index(
            [o + "/maps/plain.xml", o + "/maps/zipped.xml.gz",
             o + "/maps/skip-encoded.xml?gzip=1"]))
        write(root, "maps/plain.xml", urlset(
            [o + "/hidden/one.html", " %s/private/secret.html " % o,
             other.url("/elsewhere.html"), o + "/skip-me.html",
             "mailto:x@example.org", o + "/hidden/one.html#again"]))
        write(root, "maps/zipped.xml.gz", gzip.compress(urlset(
            [o + "/hidden/two.html"]).encode()))
        write(root, "maps/skip-encoded.xml", urlset(
            ["/hidden/three.html"]))
        for n in ("one", "two", "three"):
            write(root, "hidden/%s.html" % n, "<p>%s\n" % n)
        write(root, "private/secret.html", "no\n")

        r = env.pfetch("-r", "--sitemaps", "--reject", "skip", s.url("/"))
        t.eq(r.rc, 0, "exit status")
        rows = env.db().by_url()
        m = o + "/maps/"
        want = {
            o + "/": (0, None, 200),
            m + "index.xml": (0, None, 200),
            m + "plain.xml": (0, m + "index.xml", 200),
            m + "zipped.xml.gz": (0, m + "index.xml", 200),
            m + "skip-encoded.xml?gzip=1": (0, m + "index.xml", 200),
            o + "/hidden/one.html": (1, m + "plain.xml", 200),
            o + "/private/secret.html": (1, m + "plain.xml", 0),
            o + "/hidden/two.html": (1, m + "zipped.xml.gz", 200),
            o + "/hidden/three.html": (1, m + "skip-encoded.xml?gzip=1",
                                       200),
        }
        t.eq(sorted(rows), sorted(want), "rows")
        for url, (depth, parent, status) in want.items():
            row = rows[url]
            t.eq((row["depth"], row["parent_url"], row["status"]),
                 (depth, parent, status), "depth, parent, status of " + url)
        t.icontains(rows[o + "/private/secret.html"]["error"], "robots.txt",
                    "refused row")
        t.check_ok_row(env.out, rows[o + "/hidden/two.html"], b"<p>two\n")
        t.check_ok_row(env.out, rows[m + "zipped.xml.gz"],
                       (root / "maps/zipped.xml.gz").read_bytes())
        t.check("/private/secret.html" not in paths(s), "refused fetched")
        t.check("/skip-me.html" not in paths(s), "rejected fetched")
        t.eq(paths(other), [], "requests to the other host")
        t.eq(paths(s).count("/robots.txt"), 1, "robots.txt requests")
        t.check("/sitemap.xml" not in paths(s), "guessed a sitemap")


@t.case
def guessed_sitemap(env):
    """No Sitemap line: /sitemap.xml, found and read."""
    root = env.tmp / "site"
    with t.Server(root=root) as s:
        write(root, "robots.txt", "User-agent: *\nDisallow:\n")
        write(root, "index.html", "<p>nothing\n")
        write(root, "sitemap.xml", urlset(["/a.html"]))
        write(root, "a.html", "<p>a\n")
        r = env.pfetch("-r", "--sitemaps", s.url("/"))
        t.eq(r.rc, 0, "exit status")
        rows = env.db().by_url()
        t.eq(rows[s.url("/a.html")]["parent_url"], s.url("/sitemap.xml"),
             "parent of a URL of the guessed sitemap")
        t.eq(rows[s.url("/sitemap.xml")]["parent_url"], None,
             "parent of the guessed sitemap")


@t.case
def guessed_sitemap_missing_is_no_failure(env):
    """No robots.txt and no /sitemap.xml: the 404 has its row, the run
    succeeds (exit 0), as with a missing robots.txt."""
    root = env.tmp / "site"
    with t.Server(root=root) as s:
        write(root, "index.html", '<a href="b.html">b</a>\n')
        write(root, "b.html", "<p>b\n")
        r = env.pfetch("-r", "--sitemaps", s.url("/"))
        t.eq(r.rc, 0, "exit status")
        rows = env.db().by_url()
        t.check_failed_row(rows[s.url("/sitemap.xml")], 404)
        t.eq(rows[s.url("/sitemap.xml")]["error"],
             "HTTP 404 Not Found (no sitemap: not a failure)", "error")
        t.contains(r.stderr, "0 failed", "summary")
        t.eq(len(rows), 3, "rows")


@t.case
def named_sitemap_missing_fails(env):
    """A sitemap robots.txt names that is missing is a failure (exit 1);
    no /sitemap.xml is guessed then."""
    root = env.tmp / "site"
    with t.Server(root=root) as s:
        write(root, "robots.txt", "Sitemap: %s/gone.xml\n" % s.base)
        write(root, "index.html", "<p>x\n")
        r = env.pfetch("-r", "--sitemaps", s.url("/"))
        t.eq(r.rc, 1, "exit status")
        t.check_failed_row(env.db().by_url()[s.url("/gone.xml")], 404)
        t.check("/sitemap.xml" not in paths(s), "guessed a sitemap")


@t.case
def no_robots_guesses(env):
    """--no-robots: robots.txt is never asked for; /sitemap.xml is."""
    root = env.tmp / "site"
    with t.Server(root=root) as s:
        write(root, "robots.txt", "Sitemap: %s/named.xml\nDisallow: /\n"
              % s.base)
        write(root, "index.html", "<p>x\n")
        write(root, "sitemap.xml", urlset(["/a.html"]))
        write(root, "a.html", "<p>a\n")
        r = env.pfetch("-r", "--sitemaps", "--no-robots", s.url("/"))
        t.eq(r.rc, 0, "exit status")
        t.eq(sorted(paths(s)), ["/", "/a.html", "/sitemap.xml"], "requests")


@t.case
def depth_zero_offers_nothing(env):
    """-l 0: the sitemap is read, its URLs (depth 1) are past the limit."""
    root = env.tmp / "site"
    with t.Server(root=root) as s:
        write(root, "index.html", "<p>x\n")
        write(root, "sitemap.xml", urlset(["/a.html"]))
        r = env.pfetch("-r", "-l", "0", "--sitemaps", s.url("/"))
        t.eq(r.rc, 0, "exit status")
        t.eq(sorted(env.db().by_url()), [s.url("/"), s.url("/sitemap.xml")],
             "rows")


@t.case
def cap_50000_urls(env):
    """A sitemap of 50,010 URLs: the first 50,000 are offered (each gets
    its row: robots.txt refuses them all, so no request is made), the
    last 10 are ignored with a warning."""
    root = env.tmp / "site"
    n = 50010
    with t.Server(root=root) as s:
        write(root, "robots.txt", "User-agent: *\nDisallow: /x/\n"
              "Sitemap: %s/big.xml\n" % s.base)
        write(root, "index.html", "<p>x\n")
        write(root, "big.xml", urlset(["/x/%d" % i for i in range(n)]))
        r = env.pfetch("-r", "--sitemaps", s.url("/"), timeout=120)
        t.eq(r.rc, 0, "exit status")
        t.contains(r.stderr, "more than 50000 URLs in one sitemap; the rest "
                   "ignored", "warning")
        got = env.db().query("SELECT url, error FROM fetches "
                             "WHERE url LIKE ?", (s.base + "/x/%",))
        t.eq(len(got), 50000, "rows of the sitemap's URLs")
        t.eq(sorted(int(g["url"].rsplit("/", 1)[1]) for g in got),
             list(range(50000)), "the URLs offered")
        t.check(all("robots.txt" in g["error"] for g in got),
                "every one refused by robots.txt")
        t.eq(sorted(paths(s)), ["/", "/big.xml", "/robots.txt"], "requests")


@t.case
def cap_50_mib_uncompressed(env):
    """A gzip sitemap of 55 MiB once decompressed (55 KiB on the wire):
    the URL before the 50 MiB mark is offered, the one after it is not,
    with a warning."""
    root = env.tmp / "site"
    filler = "<!-- %s -->\n" % ("x" * 1024)
    body = (URLSET % ("  <url><loc>/early.html</loc></url>\n"
                      + filler * (55 * 1024)
                      + "  <url><loc>/late.html</loc></url>\n")).encode()
    t.check(len(body) > 55 * 1024 * 1024, "the sitemap's size")
    with t.Server(root=root) as s:
        write(root, "robots.txt", "Sitemap: %s/big.xml.gz\n" % s.base)
        write(root, "index.html", "<p>x\n")
        write(root, "big.xml.gz", gzip.compress(body, 9))
        write(root, "early.html", "<p>early\n")
        write(root, "late.html", "<p>late\n")
        r = env.pfetch("-r", "--sitemaps", s.url("/"), timeout=120)
        t.eq(r.rc, 0, "exit status")
        t.contains(r.stderr, "sitemap larger than 50 MiB uncompressed; the "
                   "rest ignored", "warning")
        t.eq(sorted(paths(s)), ["/", "/big.xml.gz", "/early.html",
                                "/robots.txt"], "requests")


@t.case
def not_a_sitemap(env):
    """An HTML page at /sitemap.xml: a warning, no URL, no failure."""
    root = env.tmp / "site"
    with t.Server(root=root) as s:
        write(root, "index.html", "<p>x\n")
        write(root, "sitemap.xml", "<html><body><a href=/a.html>a</a>\n")
        r = env.pfetch("-r", "--sitemaps", s.url("/"))
        t.eq(r.rc, 0, "exit status")
        t.contains(r.stderr, "not a well-formed sitemap", "warning")
        t.eq(len(env.db().by_url()), 2, "rows")


t.run()
