#!/usr/bin/env python3
"""--timeout, --stall-timeout and broken bodies: failures within seconds,
a readable error, nothing at the final name."""

import pftest as t

# A 1 s limit must end an attempt within this (scheduling slack included).
LIMIT_MS = 3000


def no_final_file(env, path):
    f = env.out / t.tree_path(env.srv.port, path)
    t.check(not f.is_file(), "a file at the final name of " + path)


@t.case
def whole_attempt_timeout(env):
    paths = ["/_/stall", "/_/hang", "/_/slow/100/50/t", "/_/stall/10"]
    urls = [env.url(p) for p in paths]
    r = env.pfetch("--progress", "none", "--retries", "0", "--timeout", "1",
                   *urls, timeout=30)
    t.eq(r.rc, 1, "exit status")
    t.check(r.elapsed < 8, "took %.1f s with --timeout 1" % r.elapsed)
    rows = env.db().by_url()
    for p, url in zip(paths, urls):
        t.check_failed_row(rows[url])
        t.icontains(rows[url]["error"], "time", "error of " + p)
        t.check(rows[url]["elapsed_ms"] < LIMIT_MS,
                "%s failed after %s ms with --timeout 1"
                % (p, rows[url]["elapsed_ms"]))
        no_final_file(env, p)


@t.case
def stall_timeout(env):
    paths = ["/_/stall", "/_/hang", "/_/stall/10"]
    urls = [env.url(p) for p in paths]
    r = env.pfetch("--progress", "none", "--retries", "0",
                   "--stall-timeout", "1", *urls, timeout=30)
    t.eq(r.rc, 1, "exit status")
    t.check(r.elapsed < 8, "took %.1f s with --stall-timeout 1" % r.elapsed)
    rows = env.db().by_url()
    for p, url in zip(paths, urls):
        row = rows[url]
        t.check_failed_row(row)
        err = row["error"].lower()
        t.check("stall" in err or "time" in err,
                "error of %s: %r mentions neither stall nor time"
                % (p, row["error"]))
        t.check(row["elapsed_ms"] < LIMIT_MS,
                "%s failed after %s ms with --stall-timeout 1"
                % (p, row["elapsed_ms"]))
        no_final_file(env, p)


@t.case
def slow_but_not_stalled(env):
    url = env.url("/_/slow/6/500/drip")
    r = env.pfetch("--progress", "none", "--retries", "0",
                   "--stall-timeout", "2", url, timeout=30)
    t.eq(r.rc, 0, "exit status")
    t.check_ok_row(env.out, env.db().fetches()[0], t.pattern(6, "drip"))


@t.case
def broken_bodies(env):
    paths = ["/_/reset", "/_/short"]
    urls = [env.url(p) for p in paths]
    r = env.pfetch("--progress", "none", "--retries", "0", *urls)
    t.eq(r.rc, 1, "exit status")
    rows = env.db().by_url()
    for p, url in zip(paths, urls):
        t.check_failed_row(rows[url])
        no_final_file(env, p)
    t.eq([f for f in env.files() if not f.endswith(".part")], [],
         "complete files")



@t.case
def overlong_bodies(env):
    # Bodies longer than their Content-Length, on kept-alive connections
    # (one at a time, so every next request reuses the connection): the
    # file is what the header announced, and the excess, which reaches
    # the next request as junk, costs that request one more attempt on a
    # new connection, even with --retries 0, never its row.
    seq = [("/_/long/1000/500/a?late=1", 1000, "a"),
           ("/_/bytes/100/b", 100, "b"),
           ("/_/long/2000/70000/c?late=1", 2000, "c"),
           ("/_/bytes/100/d", 100, "d")]
    urls = [env.url(p) for p, _, _ in seq]
    r = env.pfetch("--progress", "none", "--retries", "0", "-j", "1", *urls)
    t.eq(r.rc, 0, "exit status; stderr:\n" + r.stderr)
    rows = env.db().by_url()
    for (path, n, seed), url in zip(seq, urls):
        t.check_ok_row(env.out, rows[url], t.pattern(n, seed))
    t.eq([rows[u]["attempts"] for u in urls], [1, 2, 1, 2], "attempts")
    t.eq(env.srv.total(), 6, "requests")
    t.eq([f for f in env.files() if f.endswith(".part")], [], ".part files")


t.run()
