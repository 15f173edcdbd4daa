#!/usr/bin/env python3
"""The crawl through the library: tests/crawl_pages.c, a program written
against pfetch.h alone, crawls the fixture site with an on_page callback.
Every HTML page and stylesheet saved is handed to the callback exactly once, on a parser
thread, with the links the manifest says it has; links the callback
unmarks are not followed; every URL gets its on_done call and its row,
and every link accepted its frontier row."""

import subprocess

import pftest as t
import crawlmodel as cm


def crawl_pages():
    exe = t.PFETCH.parent / "tests" / "crawl_pages"
    t.check(exe.is_file(), "%s was not built" % exe)
    return exe


def run(env, depth, skip=None):
    exe = crawl_pages()
    with cm.hosts() as hs:
        site = cm.Site(cm.fixture_dir(), {"a": hs.servers[0].base,
                                          "b": hs.servers[1].base})
        seed = site.url("a", "/")
        argv = [str(exe), seed, str(env.out), str(depth)]
        if skip is not None:
            argv.append(skip)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60,
                           env=t.clean_env({}))
    out = p.stdout.decode()
    t.check(p.returncode == 0, "crawl_pages exited %d:\n%s"
            % (p.returncode, p.stderr.decode()[-2000:]))
    pages, done, results = {}, [], {}
    for line in out.splitlines():
        f = line.split(" ")
        if f[0] == "page":
            t.check(f[4] not in pages, "%s handed to on_page twice" % f[4])
            pages[f[4]] = (int(f[1]), int(f[2]), int(f[3]))
        elif f[0] == "done":
            done.append(f[2])
            results[f[2]] = (None if f[3] == "-" else f[3],
                             None if f[4] == "-" else f[4])
    rows = env.db().fetches()
    for r in rows:
        t.eq(results.get(r["url"]), (r["sha256"], r["http_version"]),
             "sha256 and http_version given to on_done for %s" % r["url"])
    return site, seed, pages, done, rows


@t.case
def on_page_sees_every_page(env):
    site, seed, pages, done, rows = run(env, 2)
    t.eq(sorted(done), sorted(r["url"] for r in rows),
         "on_done calls vs rows")
    parsed = {r["url"] for r in rows if r["error"] is None
              and (r["content_type"] or "").split(";")[0]
              in ("text/html", "text/css")}
    t.check(len(parsed) > 20, "pages fetched: %d" % len(parsed))
    t.check(set(pages) == parsed,
            "pages handed to on_page: %d extra %s, %d missing %s"
            % (len(set(pages) - parsed), sorted(set(pages) - parsed)[:5],
               len(parsed - set(pages)), sorted(parsed - set(pages))[:5]))
    by_url = {r["url"]: r for r in rows}
    for url, (depth, offloop, nlinks) in pages.items():
        t.eq(depth, by_url[url]["depth"], "depth of " + url)
        t.eq(offloop, 1, "on_page of %s ran on the loop thread" % url)
    t.eq(pages[seed][2], len(site.links(seed)), "links of the seed")
    # The frontier mirror: every link accepted, with its final depth as
    # the smallest one recorded.
    front = {}
    for q in env.db().query("SELECT url, depth FROM frontier"):
        front[q["url"]] = min(q["depth"], front.get(q["url"], q["depth"]))
    t.eq(front, {r["url"]: r["depth"] for r in rows if r["depth"] > 0},
         "frontier rows")


@t.case
def on_page_prunes_links(env):
    site, seed, pages, done, rows = run(env, 2, skip="/sec0")
    urls = {r["url"] for r in rows}
    t.check(not any("/sec0" in u for u in urls),
            "pruned links were followed: %s"
            % sorted(u for u in urls if "/sec0" in u)[:5])
    # What the seed links to apart from the sections is still there.
    kept = {u for u, _ in site.links(seed) if "/sec0" not in u
            and cm.hostport(u) == cm.hostport(seed)}
    t.check(kept and kept <= urls, "links kept: %s"
            % sorted(kept - urls)[:5])


t.run()
