#!/usr/bin/env python3
"""SIGINT/SIGTERM: exit 130/143 within seconds, .part kept, every accepted
URL has its row marked interrupted, the run finished in the log."""

import signal

import pftest as t

SLOW = "/_/slow/100000/50/%s?chunk=1000"  # 100 chunks, 5 s in all


def interrupted(env, sig, want_rc, name):
    path = SLOW % name
    url = env.url(path)
    p = env.start("--progress", "none", "--retries", "0", url)
    # Where the query goes in the name is the layout's business: wait for
    # any .part file rather than guess.
    parts = t.wait_for(lambda: t.part_files(env.out) if env.out.exists()
                       else None, 10, "a .part file")
    t.wait_for(lambda: (env.out / parts[0]).stat().st_size > 0, 10,
               "bytes in the .part file")
    p.signal(sig)
    r = p.wait(5)
    t.eq(r.rc, want_rc, "exit status")
    t.eq(t.part_files(env.out), parts, ".part files after the signal")
    data = (env.out / parts[0]).read_bytes()
    t.check(t.pattern(100000, name).startswith(data),
            "the .part file is not a prefix of the body")
    t.eq([f for f in env.files() if not f.endswith(".part")], [],
         "complete files")
    log = env.db()
    rows = log.fetches()
    t.eq(len(rows), 1, "rows")
    t.eq(rows[0]["url"], url, "url")
    t.eq(rows[0]["path"], None, "path")
    t.icontains(rows[0]["error"], "interrupt", "error")
    runs = log.runs()
    t.eq(len(runs), 1, "runs")
    t.check(runs[0]["finished_at"] is not None, "runs.finished_at is NULL")


@t.case
def sigint(env):
    interrupted(env, signal.SIGINT, 130, "int")


@t.case
def sigterm(env):
    interrupted(env, signal.SIGTERM, 143, "term")


@t.case
def every_accepted_url_has_a_row(env):
    urls = [env.url(SLOW % ("q%d" % i)) for i in range(4)]
    p = env.start("--progress", "none", "-j", "1", *urls)
    t.wait_for(lambda: env.srv.total() > 0, 10, "the first request")
    t.wait_for(lambda: env.out.exists() and t.part_files(env.out), 10,
               "a .part file")
    p.signal(signal.SIGINT)
    r = p.wait(5)
    t.eq(r.rc, 130, "exit status")
    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(urls), "URLs with a row")
    for url in urls:
        t.icontains(rows[url]["error"], "interrupt", "error of " + url)
    t.check(env.db().runs()[0]["finished_at"] is not None,
            "runs.finished_at is NULL")


t.run()
