#!/usr/bin/env python3
"""Politeness: --wait, --random-wait and robots.txt's Crawl-delay, as
the server sees them: the start times of the requests of each host
(tests/server.py's /_/requests; two servers on two ports are two
hosts).  A host with a wait gets one request at a time, its requests
at least the wait apart; another host's requests are not held back,
and the waiting host holds no -j slot meanwhile.  A Crawl-delay above
60 s counts as 60, with a warning, checked without waiting 60 s.

Lower bounds are checked with SLACK: a request is timed when pfetch
starts it, and reaches the server a little later (a new connection
takes longer than a kept one)."""

import os
import signal
import time
from pathlib import Path

import pftest as t

SLACK = 0.05


def site(root, robots=None, pages=0, name="p"):
    """index.html linking to pages NAME1.html..NAMEn.html."""
    root.mkdir(parents=True, exist_ok=True)
    if robots is not None:
        (root / "robots.txt").write_text(robots)
    links = "".join('<a href="%s%d.html">%d</a>\n' % (name, i, i)
                    for i in range(1, pages + 1))
    (root / "index.html").write_text("<html><body>\n%s</body></html>\n"
                                     % links)
    for i in range(1, pages + 1):
        (root / ("%s%d.html" % (name, i))).write_text("<p>%d\n" % i)


def starts(srv, skip=("/robots.txt",)):
    """Start times (server clock, seconds) of the requests, in order."""
    return [r["t"] for r in srv.requests() if r["path"] not in skip]


def gaps(ts):
    return [b - a for a, b in zip(ts, ts[1:])]


def stderr_now(running):
    """What a running pfetch wrote to stderr so far (offset untouched)."""
    return os.pread(running.errf.fileno(), 1 << 20, 0).decode("utf-8",
                                                              "replace")


@t.case
def wait_one_request_at_a_time(env):
    """--wait 0.3 with -j 8 --per-host 8: one request at a time, starts
    at least 0.3 s apart; -v says the wait once."""
    urls = [env.url("/_/bytes/16/w%d" % i) for i in range(6)]
    r = env.pfetch("-v", "-j", "8", "--per-host", "8", "--wait", "0.3",
                   *urls)
    t.eq(r.rc, 0, "exit status")
    ts = starts(env.srv)
    t.eq(len(ts), 6, "requests")
    for g in gaps(ts):
        t.check(g >= 0.3 - SLACK, "gaps %r: one below --wait 0.3" % gaps(ts))
    inflight = t.json.loads(env.srv.get("/_/inflight"))
    t.eq(inflight["max"], 1, "requests in flight at once")
    host = "127.0.0.1:%d" % env.srv.port
    t.eq(r.stderr.count("%s: waiting 0.3 s (--wait)" % host), 1,
         "-v lines saying the wait")


@t.case
def random_wait_bounds(env):
    """--wait 0.4 --random-wait: every gap between 0.2 and 0.6 s (plus
    slack, and what a loaded machine adds above), not all of them 0.4
    or more."""
    urls = [env.url("/_/bytes/16/r%d" % i) for i in range(13)]
    r = env.pfetch("-v", "--wait", "0.4", "--random-wait", *urls)
    t.eq(r.rc, 0, "exit status")
    g = gaps(starts(env.srv))
    t.eq(len(g), 12, "gaps")
    t.check(min(g) >= 0.2 - SLACK, "a gap below 0.5 x 0.4 s: %r" % g)
    t.check(max(g) <= 0.6 + 1.0, "a gap far above 1.5 x 0.4 s: %r" % g)
    t.check(min(g) < 0.4, "no gap below 0.4 s: not drawn? %r" % g)
    t.contains(r.stderr, "waiting 0.2-0.6 s (--random-wait)", "-v")


@t.case
def crawl_delay_slows_only_its_host(env):
    """Host A's robots.txt asks for Crawl-delay: 2; host B has no
    robots.txt.  With -j 1, B's 20 pages are all fetched while A waits
    out its first delay: A's wait holds no slot and does not slow B.
    A's pages start 2 s apart; -v names A's wait, not B's."""
    a_root, b_root = env.tmp / "a", env.tmp / "b"
    site(a_root, "User-agent: *\nCrawl-delay: 2\n", pages=3, name="a")
    site(b_root, None, pages=20, name="b")
    with t.Server(root=a_root) as a, t.Server(root=b_root) as b:
        r = env.pfetch("-r", "-v", "-j", "1", a.url("/"), b.url("/"),
                       timeout=90)
        t.eq(r.rc, 0, "exit status")
        ta, tb = starts(a), starts(b)
        t.eq(len(ta), 4, "A's pages")
        t.eq(len(tb), 21, "B's pages")
        for g in gaps(ta[1:]):
            t.check(g >= 2 - SLACK, "A's gaps %r: one below 2 s"
                    % gaps(ta))
        t.check(tb[-1] < ta[2],
                "B's last page (%.2f) after A's second wait (%.2f): "
                "B was held back" % (tb[-1] - tb[0], ta[2] - tb[0]))
        t.contains(r.stderr, "127.0.0.1:%d: waiting 2.0 s (Crawl-delay)"
                   % a.port, "-v")
        t.check("127.0.0.1:%d: waiting" % b.port not in r.stderr,
                "-v says B waits")
        rows = env.db().by_url()
        t.eq(len(rows), 25, "rows")
        t.check(all(row["error"] is None for row in rows.values()),
                "every row a success")


@t.case
def crawl_delay_or_wait_whichever_is_larger(env):
    """Crawl-delay 0.6 with --wait 0.2: 0.6 s; the same host with
    --wait 0.9: 0.9 s."""
    root = env.tmp / "s"
    site(root, "User-agent: pfetch\nCrawl-delay: 0.6\n\n"
         "User-agent: *\nCrawl-delay: 5\n", pages=3)
    with t.Server(root=root) as s:
        r = env.pfetch("-r", "-v", "--wait", "0.2", s.url("/"))
        t.eq(r.rc, 0, "exit status")
        ts = starts(s)
        t.eq(len(ts), 4, "pages")
        for g in gaps(ts[1:]):
            t.check(g >= 0.6 - SLACK, "gaps %r: one below 0.6 s" % gaps(ts))
        t.contains(r.stderr, "waiting 0.6 s (Crawl-delay)", "-v")
    with t.Server(root=root) as s:
        r = env.pfetch("-r", "-v", "--wait", "0.9", s.url("/"), out=False,
                       cwd=env.tmp)
        t.eq(r.rc, 0, "exit status")
        for g in gaps(starts(s)):
            t.check(g >= 0.9 - SLACK, "gaps %r: one below 0.9 s"
                    % gaps(starts(s)))
        t.contains(r.stderr, "waiting 0.9 s (--wait)", "-v")


@t.case
def crawl_delay_capped_at_60s(env):
    """Crawl-delay: 3600 counts as 60 s, with a warning.  The crawl is
    stopped by SIGINT once -v has said so: by then the links wait, and
    no second page was requested; the rows of the waiting links say
    they were interrupted."""
    root = env.tmp / "s"
    site(root, "User-agent: *\nCrawl-delay: 3600\n", pages=2)
    with t.Server(root=root) as s:
        run = env.start("-r", "-v", s.url("/"))
        t.wait_for(lambda: "waiting 60.0 s (Crawl-delay)" in stderr_now(run),
                   30, "-v to say the wait")
        err = stderr_now(run)
        t.contains(err, "Crawl-delay of 3600.0 s taken as 60 s", "warning")
        time.sleep(1.0)  # a page that was not held back would come now
        t.eq([x["path"] for x in s.requests()
              if x["path"] != "/robots.txt"], ["/"], "pages requested")
        run.signal(signal.SIGINT)
        res = run.wait(20)
        t.eq(res.rc, 130, "exit status after SIGINT")
        rows = env.db().by_url()
        t.eq(rows[s.url("/p1.html")]["error"],
             "interrupted before it started", "row of a waiting link")


@t.case
def usage_errors(env):
    r = env.pfetch("--wait", "-1", env.url("/"))
    t.eq(r.rc, 2, "--wait -1")
    r = env.pfetch("--sitemaps", env.url("/"))
    t.eq(r.rc, 2, "--sitemaps without -r")
    t.contains(r.stderr, "--sitemaps needs -r", "message")
    t.eq(env.srv.total(), 0, "requests made")


t.run()
