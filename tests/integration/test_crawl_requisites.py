#!/usr/bin/env python3
"""Page requisites (-p) over the fixture site (fixtures/crawl): without
-r, each seed page plus its images, stylesheets, scripts, objects and
media, and what those stylesheets @import or url(), however many levels
down; with -r, the requisites of every page, fetched one level past the
depth limit and, for stylesheets, further; requisites obey robots.txt
and host scope like links.  Exact rows, depths, parents, requests and
files, as in test_crawl.py; crawlmodel.py says what is expected."""

import pftest as t
import crawlmodel as cm

INF = cm.INF
crawl = cm.run


@t.case
def p_without_r(env):
    r, want, site = crawl(env, ["-p"], [("a", "/")], recursive=False,
                          requisites=True)
    # The seed's stylesheet imports another, which uses url(): depth 3.
    t.eq(want.rows[site.url("a", "/img/bullet.gif")].depth, 3,
         "model depth of an image of an imported stylesheet")
    t.check(all(row.requisite for row in want.rows.values()
                if row.depth > 0), "the model fetches requisites only")


@t.case
def p_without_r_css_chain(env):
    """Sphinx-like theme: alabaster.css @imports basic.css, which
    @imports fonts.css, which url()s a font: four levels down."""
    r, want, site = crawl(env, ["-p"], [("a", "/docs/")], recursive=False,
                          requisites=True)
    t.eq(want.rows[site.url("a", "/docs/_static/fonts/body.woff2")].depth,
         4, "model depth of the font")


@t.case
def p_every_kind(env):
    """img src and srcset, picture source, object, embed, video, audio,
    script, link rel=stylesheet, <style> @import and url(), style=; a
    requisite robots.txt refuses gets its refused row."""
    r, want, site = crawl(env, ["-p"], [("a", "/gallery.html")],
                          recursive=False, requisites=True)
    t.check(site.url("a", "/private/pixel.png") in want.refused(),
            "the model refuses the private image")
    t.check(site.url("a", "/misc/frame-inner.html") not in want.rows,
            "an iframe is no requisite")


@t.case
def p_no_robots(env):
    crawl(env, ["-p", "--no-robots"], [("a", "/gallery.html")],
          recursive=False, requisites=True, robots=False)


@t.case
def p_several_seeds(env):
    """Requisites of each seed, shared ones fetched once; a seed of host
    B brings B's own requisites (B has no robots.txt: a 404 allows)."""
    crawl(env, ["-p"], [("a", "/"), ("a", "/sec01/"), ("b", "/"),
                        ("b", "/b2.html")], recursive=False, requisites=True)


@t.case
def r_l0_p(env):
    crawl(env, ["-r", "-l", "0", "-p"], [("a", "/")], depth=0,
          requisites=True)


@t.case
def r_l1_p_past_the_limit(env):
    """Pages to depth 1; their requisites at depth 2, and what the
    stylesheets import at 3, 4 and 5."""
    r, want, site = crawl(env, ["-r", "-l", "1", "-p"], [("a", "/")],
                          depth=1, requisites=True)
    t.check(max(row.depth for row in want.rows.values()) >= 4,
            "the model goes past the limit")
    t.check(site.url("a", "/sec01/t01.html") not in want.rows,
            "no page past the limit")


@t.case
def r_l2_p_span_hosts(env):
    crawl(env, ["-r", "-l", "2", "-p", "--span-hosts"], [("a", "/")],
          depth=2, requisites=True, span_hosts=True)


@t.case
def r_p_reject(env):
    """Filters apply to requisites too."""
    reject = r"\.png$|alabaster"
    crawl(env, ["-r", "-l", "1", "-p", "--reject", reject], [("a", "/")],
          depth=1, requisites=True, reject=reject)


t.run()
