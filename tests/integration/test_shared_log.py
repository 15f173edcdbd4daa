#!/usr/bin/env python3
"""One log database shared: two pfetch at once write into the same file,
and another process holding the write lock for longer than SQLite's busy
timeout (5 s) makes pfetch wait, at its start or in the middle of a run,
never fail.  Every URL gets its row, every run its finished_at, and the
file stays sound."""

import sqlite3
import time

import pftest as t

N = 300  # URLs per list


def make_list(env, name, n, size=1000):
    urls = [env.url("/_/bytes/%d/%s%d" % (size + i, name, i))
            for i in range(n)]
    return env.write_list(name + ".txt", urls), urls


def rows_of(path, sql, args=()):
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def count_rows(path):
    """fetches rows in the log, 0 while it is not made yet."""
    try:
        return rows_of(path, "SELECT count(*) FROM fetches")[0][0]
    except sqlite3.Error:
        return 0


def check_run(env, log, run_id, urls, out):
    rows = {r["url"]: r for r in log.fetches() if r["run_id"] == run_id}
    t.eq(sorted(rows), sorted(urls), "URLs with a row in run %d" % run_id)
    for u in urls:
        t.eq(rows[u]["error"], None, "error of " + u)
        t.check((out / rows[u]["path"]).is_file(), "file of " + u)


@t.case
def two_processes_one_log(env):
    path = env.tmp / "shared.db"
    list_a, urls_a = make_list(env, "a", N)
    list_b, urls_b = make_list(env, "b", N)
    out_a, out_b = env.tmp / "out-a", env.tmp / "out-b"
    # A bandwidth cap stretches each run over a second or two, so that
    # the two are sure to write at the same time.
    opts = ["--progress", "none", "-j", "8", "--rate", "300k", "--db", path]
    a = env.start(*opts, "-o", out_a, list_a, out=False)
    b = env.start(*opts, "-o", out_b, list_b, out=False)
    ra, rb = a.wait(60), b.wait(60)
    t.eq((ra.rc, rb.rc), (0, 0), "exit statuses; stderr:\n%s\n%s"
         % (ra.stderr, rb.stderr))
    log = env.db(path)
    runs = log.runs()
    t.eq(len(runs), 2, "runs")
    for run in runs:
        t.check(run["finished_at"] is not None,
                "run %d has no finished_at" % run["id"])
    first, second = sorted(runs, key=lambda r: r["started_at"])
    t.check(second["started_at"] < first["finished_at"],
            "the two runs did not overlap: %s" % runs)
    by_dir = {r["argv"].split(" -o ")[1].split(" ")[0]: r["id"]
              for r in runs}
    check_run(env, log, by_dir[str(out_a)], urls_a, out_a)
    check_run(env, log, by_dir[str(out_b)], urls_b, out_b)
    t.eq(len(log.fetches()), 2 * N, "rows in all")
    t.eq(env.db(path).integrity(), "ok", "integrity_check")

    # Each list, run again with -c on the shared log: nothing to fetch.
    before = env.srv.total()
    r = env.pfetch("--progress", "none", "-c", "--db", path, "-o", out_a,
                   list_a, out=False)
    t.eq(r.rc, 0, "exit status of -c")
    t.eq(env.srv.total(), before, "requests made by -c")


def held(path):
    """A connection holding the log's write lock (BEGIN IMMEDIATE)."""
    db = sqlite3.connect(str(path), isolation_level=None, timeout=10)
    db.execute("BEGIN IMMEDIATE")
    return db


HOLD_S = 7  # past the 5 s busy timeout


def hold(path, seconds, run, probe):
    """Hold the log's write lock for seconds while a pfetch goes on (run:
    the Running, or a function starting it once the lock is held); return
    the Running and probe(path) as it was when the lock was taken and
    released."""
    lock = held(path)
    try:
        if callable(run):
            run = run()
        before = probe(path)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if run.proc.poll() is not None:
                raise t.Fail("pfetch gave up on a log locked for %d s:\n%s"
                             % (seconds, run.wait(1).stderr))
            time.sleep(0.1)
        after = probe(path)
    finally:
        lock.execute("COMMIT")
        lock.close()
    return run, before, after


def count_runs(path):
    return rows_of(path, "SELECT count(*) FROM runs")[0][0]


def finished(env, run, nruns, urls):
    """run ends well as the nruns-th run of the log, with a row per URL."""
    r = run.wait(60)
    t.eq(r.rc, 0, "exit status; stderr:\n" + r.stderr)
    log = env.db()
    runs = log.runs()
    t.eq(len(runs), nruns, "runs")
    t.check(runs[-1]["finished_at"] is not None, "finished_at of the run")
    check_run(env, log, runs[-1]["id"], urls, env.out)
    t.eq(log.integrity(), "ok", "integrity_check")


@t.case
def lock_held_at_the_start(env):
    path = env.out / "pfetch.db"
    first_list, first = make_list(env, "first", 5)
    t.eq(env.pfetch("--progress", "none", first_list).rc, 0, "first run")
    lst, urls = make_list(env, "late", 50)
    run, _, runs_then = hold(path, HOLD_S,
                             lambda: env.start("--progress", "none", lst),
                             count_runs)
    t.eq(runs_then, 1, "runs while the lock was held")
    finished(env, run, 2, urls)


@t.case
def lock_held_in_the_middle(env):
    path = env.out / "pfetch.db"
    lst, urls = make_list(env, "mid", 200)
    # About 3 s of transfers at this rate: the lock comes once rows do.
    run = env.start("--progress", "none", "-j", "4", "--rate", "70k", lst)
    t.wait_for(lambda: count_rows(path) > 0, 30, "first rows")
    _, seen, after = hold(path, HOLD_S, run, count_rows)
    t.eq(after, seen, "rows written while another process held the lock")
    t.check(seen < len(urls), "the run was over before the lock")
    finished(env, run, 1, urls)
    t.eq(len(env.db().fetches()), len(urls), "rows")


t.run()
