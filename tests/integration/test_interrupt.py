#!/usr/bin/env python3
"""SIGINT/SIGTERM: exit 130/143 within seconds, .part kept, every accepted
URL has its row marked interrupted, the run finished in the log."""

import signal
import sqlite3
import time

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



@t.case
def second_sigint_exits_at_once(env):
    second_signal_exits_at_once(env, signal.SIGINT, 130)


@t.case
def second_sigterm_exits_at_once(env):
    second_signal_exits_at_once(env, signal.SIGTERM, 143)


def second_signal_exits_at_once(env, sig, want_rc):
    # The first signal's orderly stop is held up on purpose: another
    # process holds the log's write lock, so the last rows wait.  The
    # second signal does not wait for them.
    urls = [env.url(SLOW % ("s%d" % i)) for i in range(2)]
    fast = env.url("/_/bytes/10/first")
    p = env.start("--progress", "none", "-j", "1", fast, *urls)
    path = env.out / "pfetch.db"

    def committed():
        try:
            db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
            try:
                return db.execute("SELECT count(*) FROM fetches")\
                    .fetchone()[0] > 0
            finally:
                db.close()
        except sqlite3.Error:
            return False
    t.wait_for(committed, 10, "the first row committed")
    lock = sqlite3.connect(str(path), isolation_level=None, timeout=10)
    lock.execute("BEGIN IMMEDIATE")
    try:
        p.signal(sig)
        time.sleep(1)
        t.check(p.proc.poll() is None,
                "pfetch exited though its log was locked (rc %s)"
                % p.proc.poll())
        p.signal(sig)
        r = p.wait(2)
        t.eq(r.rc, want_rc, "exit status after the second signal")
    finally:
        lock.execute("COMMIT")
        lock.close()
    t.eq(env.db().integrity(), "ok", "integrity_check")
    rows = env.db().by_url()
    t.eq(rows[fast]["error"], None, "the row committed before the stop")
    t.check(all(u not in rows or rows[u]["error"] for u in urls),
            "an interrupted URL logged as done")


t.run()
