#!/usr/bin/env python3
"""The listing crawler example (tests/examples/listing_crawler.c), a
Scrapy-style spider written against pfetch.h, libxml2 and sqlite3, run
on the shop of fixtures/listing/: its SQLite table holds exactly the
shop's products (titles, prices, absolute links, the page each is listed
on), every listing page is fetched once and nothing else is (robots.txt
aside), and each "next" link it adds is a link of the page that had it
(depth + 1, that page as parent), under the depth limit."""

import json
import sqlite3
import subprocess

import pftest as t

SHOP = t.SRC / "fixtures" / "listing"
CATALOGUE = json.loads((SHOP / "catalogue.json").read_text("utf-8"))
PAGES = CATALOGUE["pages"]
PER_PAGE = len(CATALOGUE["items"]) // len(PAGES)


def crawl(env, depth=None):
    exe = t.PFETCH.parent / "tests" / "listing_crawler"
    t.check(exe.is_file(), "%s was not built" % exe)
    db = env.tmp / "shop.db"
    argv = [str(exe), env.url(PAGES[0]), str(env.out), str(db)]
    if depth is not None:
        argv.append(str(depth))
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60, env=t.clean_env())
    env.last = t.Result(argv, p.returncode, p.stdout, p.stderr, 0.0)
    t.eq(p.returncode, 0, "exit status")
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        rows = con.execute("SELECT title, price, link, page FROM items"
                           " ORDER BY id").fetchall()
    finally:
        con.close()
    return p.stdout.decode("utf-8"), rows


def expected(env, npages):
    """(title, price, link, page) of the products of the first npages."""
    want = []
    for i, it in enumerate(CATALOGUE["items"][:npages * PER_PAGE]):
        want.append((it["title"], it["price"], env.url(it["path"]),
                     env.url(PAGES[i // PER_PAGE])))
    return want


def same_records(rows, want):
    extra = [r for r in rows if r not in want]
    missing = [w for w in want if w not in rows]
    t.check(not extra and not missing and len(rows) == len(want),
            "%d records, want %d; %d unexpected %s; %d missing %s"
            % (len(rows), len(want), len(extra), extra[:3], len(missing),
               missing[:3]))


def check_requests(env, npages):
    """The first npages listing pages were fetched once each, and nothing
    else of the shop was (robots.txt aside)."""
    stats = env.srv.stats()
    for path in PAGES[:npages]:
        t.eq(stats.get(path, 0), 1, "requests of " + path)
    for path in PAGES[npages:] + CATALOGUE["other"]:
        t.eq(stats.get(path, 0), 0, "requests of " + path)
    t.eq(sorted(set(stats) - {"/robots.txt"}), sorted(PAGES[:npages]),
         "paths requested")


def check_log(env, npages):
    """pfetch's own log: page N at depth N - 1, added from page N - 1."""
    rows = env.db().fetches()
    got = sorted((r["url"], r["depth"], r["parent_url"], r["status"])
                 for r in rows)
    want = sorted((env.url(p), n, env.url(PAGES[n - 1]) if n else None, 200)
                  for n, p in enumerate(PAGES[:npages]))
    t.eq(got, want, "fetches of pfetch's log (url, depth, parent, status)")


@t.case(root=SHOP / "site")
def scrapes_every_product(env):
    out, rows = crawl(env)
    want = expected(env, len(PAGES))
    same_records(rows, want)
    # The pages are a chain: each is scraped before the next is known.
    t.eq(rows, want, "records in listing order")
    t.contains(out, "%d records from %d pages" % (len(want), len(PAGES)),
               "summary printed")
    t.contains(out, want[0][2], "first rows printed")
    check_requests(env, len(PAGES))
    check_log(env, len(PAGES))


@t.case(root=SHOP / "site")
def depth_limit_ends_the_walk(env):
    rows = crawl(env, depth=2)[1]
    same_records(rows, expected(env, 3))
    t.eq(rows, expected(env, 3), "records of pages 1-3 in order")
    check_requests(env, 3)
    check_log(env, 3)


t.run()
