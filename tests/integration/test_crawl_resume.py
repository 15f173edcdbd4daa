#!/usr/bin/env python3
"""A crawl killed with SIGKILL at several points, then resumed with -c and
the same arguments, ends with the same pages as a crawl never
interrupted: every URL of the model fetched successfully exactly once
across the two runs (pages in flight at the kill may be asked twice),
saved byte-exact, with its depth; the resumed run starts from the
frontier the first one logged, not from the seeds alone (whose pages are
done and not fetched again)."""

import signal
import sqlite3
import time

import pftest as t
import crawlmodel as cm

# Slow enough to be killed in the middle: two transfers at a time, and a
# bandwidth cap that spreads the ~100 KiB site over a few seconds.
OPTS = ["--progress", "none", "-r", "-l", "inf", "-j", "2", "--rate", "40k"]


def rows_so_far(db_path):
    try:
        db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True,
                             timeout=1)
        try:
            return db.execute("SELECT count(*) FROM fetches").fetchone()[0]
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def killed_then_resumed(env, after_rows):
    with cm.hosts() as hs:
        site = cm.Site(cm.fixture_dir(), {"a": hs.servers[0].base,
                                          "b": hs.servers[1].base})
        seed = site.url("a", "/")
        want = cm.crawl(site, [seed], depth=cm.INF)
        run = env.start(*OPTS, seed)
        deadline = time.monotonic() + 30
        while rows_so_far(env.out / "pfetch.db") < after_rows:
            t.check(run.proc.poll() is None,
                    "the crawl ended before %d rows" % after_rows)
            t.check(time.monotonic() < deadline, "no progress")
            time.sleep(0.01)
        run.signal(signal.SIGKILL)
        run.wait(10)
        first = {r["url"]: r for r in env.db().fetches()}
        t.check(0 < len(first) < len(want.rows),
                "killed after %d of %d rows" % (len(first), len(want.rows)))
        r = env.pfetch(*OPTS, "-c", seed, timeout=60)
        requests = {}
        for srv in hs.servers:
            for q in srv.requests():
                key = srv.base + q["path"]
                requests[key] = requests.get(key, 0) + 1
    t.eq(r.rc, 1, "exit status of the resumed run (the site has a 404)")
    log = env.db()
    runs = [x["id"] for x in log.runs()]
    t.eq(len(runs), 2, "runs")
    second = {x["url"]: x for x in log.fetches() if x["run_id"] == runs[1]}
    done1 = {u for u, x in first.items() if x["error"] is None}
    again = sorted(done1 & set(second))
    t.check(not again, "done in the first run, fetched again: %s"
            % again[:5])
    final = {}
    for u, x in first.items():
        final[u] = x
    final.update(second)
    missing = sorted(want.urls() - set(final))
    extra = sorted(set(final) - want.urls())
    t.check(not missing and not extra, "rows: missing %s, extra %s"
            % (missing[:5], extra[:5]))
    for u, row in want.rows.items():
        x = final[u]
        if row.refused:
            t.eq(x["status"], 0, "status of refused " + u)
            continue
        t.eq(x["status"], row.status, "status of " + u)
        t.eq(x["depth"], row.depth, "depth of " + u)
        if row.status == 200:
            t.check(requests.get(u, 0) <= 2, "%s asked %d times"
                    % (u, requests.get(u, 0)))
            body = site.body(u)
            f = env.out / x["path"]
            t.check(f.is_file() and f.read_bytes() == body,
                    "%s saved differs from what was served" % u)
    t.check(not list(env.out.rglob("*.part")), ".part files left")


@t.case
def kill_early(env):
    killed_then_resumed(env, 5)


@t.case
def kill_midway(env):
    killed_then_resumed(env, 100)


@t.case
def kill_late(env):
    killed_then_resumed(env, 220)


t.run()
