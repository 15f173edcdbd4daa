#!/usr/bin/env python3
"""A long URL list stopped while it is still being read: by SIGINT, by
SIGTERM, by pf_crawler_stop() from a callback and from another thread
(tests/stop_list.c), and by a full disk.  The run ends within seconds,
the lines read so far (and only they) have one row each, the unread rest
has none, runs.finished_at is set, the log is sound, the terminal gets
one summary line instead of a line per URL, and -c with the same list
then finishes every line."""

import os
import signal
import subprocess
import time

import pftest as t

LINES = 20000
SHIM = t.PFETCH.parent / "tests" / "libfaultio.so"
STOP_LIST = t.PFETCH.parent / "tests" / "stop_list"


def make_list(env, big_at=None):
    urls = [env.url("/_/bytes/64/u%d" % i) for i in range(LINES)]
    if big_at is not None:
        urls[big_at] = env.url("/_/bytes/300000/big")
    return urls, env.write_list("urls.txt", urls)


def committed(env, n):
    """At least n rows committed to the log (read without locking)."""
    path = env.out / "pfetch.db"
    if not path.exists():
        return False
    try:
        return env.db().query("SELECT count(*) AS n FROM fetches")[0]["n"] >= n
    except Exception:  # the log is being created
        return False


def check_stopped(env, urls, want_error):
    """One row per line read, none for the rest, a finished and sound log."""
    log = env.db()
    t.eq(log.integrity(), "ok", "integrity_check")
    runs = log.runs()
    t.eq(len(runs), 1, "runs")
    t.check(runs[0]["finished_at"] is not None, "runs.finished_at is NULL")
    rows = log.by_url()
    n = len(rows)
    t.check(0 < n < len(urls), "%d rows for %d lines: the stop came too late"
            % (n, len(urls)))
    # Lines are read in order and every one is accepted: the rows must be
    # exactly the first n lines.
    t.eq(sorted(rows), sorted(urls[:n]), "URLs with a row (the first %d)" % n)
    stopped = [r for r in rows.values() if r["error"] is not None]
    t.check(stopped, "no URL was left unfinished by the stop")
    t.check(all(want_error in r["error"] for r in stopped),
            "errors: %r" % sorted({r["error"] for r in stopped})[:5])
    return n


def finish_with_c(env, urls, lst):
    r = env.pfetch("--progress", "none", "-q", "-c", "-j", "16", lst,
                   timeout=240)
    t.eq(r.rc, 0, "exit status of -c (stderr %r)" % r.stderr[-500:])
    ok = {}
    for row in env.db().fetches():
        if row["error"] is None:
            t.check(row["url"] not in ok, "two successes for %s" % row["url"])
            ok[row["url"]] = row
    t.eq(len(ok), len(set(urls)), "URLs done after -c")
    t.eq(sorted(ok), sorted(set(urls)), "URLs done after -c")
    t.eq(len(t.part_files(env.out)), 0, ".part files left")


def by_signal(env, sig, want_rc):
    urls, lst = make_list(env)
    p = env.start("--progress", "none", "-j", "8", lst)
    t.wait_for(lambda: committed(env, 200), 30, "200 rows committed")
    p.signal(sig)
    sent = time.monotonic()
    r = p.wait(10)
    took = time.monotonic() - sent
    t.eq(r.rc, want_rc, "exit status (stderr %r)" % r.stderr[-300:])
    t.check(took < 5, "exited %.1f s after the signal" % took)
    check_stopped(env, urls, "interrupted")
    err = r.stderr
    t.check("interrupted before it started" not in err,
            "a line per unfinished URL on the terminal:\n" + err[:500])
    t.check("URLs not finished" in err or "URL not finished" in err,
            "no summary of the interrupted URLs:\n" + err[:500])
    t.check(err.count("\n") <= 3, "too many lines on stderr:\n" + err[:800])
    finish_with_c(env, urls, lst)


@t.case
def sigint(env):
    by_signal(env, signal.SIGINT, 130)


@t.case
def sigterm(env):
    by_signal(env, signal.SIGTERM, 143)


def by_library(env, mode):
    if not STOP_LIST.is_file():
        t.skip("%s was not built" % STOP_LIST)
    urls, lst = make_list(env)
    start = time.monotonic()
    p = subprocess.run([str(STOP_LIST), str(lst), str(env.out), mode, "300"],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60, env=t.clean_env())
    t.eq(p.returncode, 0, "stop_list exit status (out %r err %r)"
         % (p.stdout, p.stderr[-300:]))
    t.check(time.monotonic() - start < 30, "the stopped run took %.1f s"
            % (time.monotonic() - start))
    n = check_stopped(env, urls, "interrupted")
    t.check(b"results %d\n" % n in p.stdout, "results: %r, rows %d"
            % (p.stdout, n))
    finish_with_c(env, urls, lst)


@t.case
def stop_from_callback(env):
    by_library(env, "callback")


@t.case
def stop_from_another_thread(env):
    by_library(env, "thread")


@t.case
def disk_full(env):
    if not SHIM.is_file():
        t.skip("%s was not built" % SHIM)
    urls, lst = make_list(env, big_at=600)
    preload = os.environ.get("LD_PRELOAD")
    asan = os.environ.get("ASAN_OPTIONS")
    extra = {
        "LD_PRELOAD": str(SHIM) + (":" + preload if preload else ""),
        "PFETCH_FAULTIO_DIR": os.path.realpath(env.tmp),
        "PFETCH_FAULTIO_AFTER": "100000",
        "PFETCH_FAULTIO_ERRNO": "ENOSPC",
        "ASAN_OPTIONS": (asan + ":" if asan else "")
        + "verify_asan_link_order=0",
    }
    argv = [str(t.PFETCH), "--progress", "none", "-j", "8", str(lst),
            "-o", str(env.out)]
    start = time.monotonic()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60, cwd=env.tmp, env=t.clean_env(extra))
    t.eq(p.returncode, 3, "exit status (stderr %r)" % p.stderr[-300:])
    t.check(time.monotonic() - start < 30, "the run took %.1f s"
            % (time.monotonic() - start))
    t.icontains(p.stderr.decode(errors="replace"), "no space", "stderr")
    log = env.db()
    rows = log.by_url()
    t.check(rows[urls[600]]["error"] is not None, "the big body succeeded")
    # The stopped URLs say why in their rows; the check is the same.
    t.eq(log.integrity(), "ok", "integrity_check")
    t.check(log.runs()[0]["finished_at"] is not None,
            "runs.finished_at is NULL")
    n = len(rows)
    t.check(n < len(urls), "every line got a row: the list was not closed")
    t.eq(sorted(rows), sorted(urls[:n]), "URLs with a row (the first %d)" % n)
    finish_with_c(env, urls, lst)


t.run()
