#!/usr/bin/env python3
"""A device error or a file system gone read-only: the body whose write
fails with EIO (or EROFS) fails with a clear error and leaves no .part,
the transfers in flight stop as on SIGINT, nothing new starts, every URL
still gets its one row, pfetch exits 3 naming the directory, and the log
stays sound.  The errors come from tests/faultio.c, preloaded
(build/tests/libfaultio.so); skipped when it was not built."""

import os
import subprocess
import time

import pftest as t

SHIM = t.PFETCH.parent / "tests" / "libfaultio.so"
AFTER = 100000  # bytes a .part may hold before its writes fail


def pfetch(env, *args, after, errno_name="EIO"):
    """Run pfetch with the shim preloaded: writes of .part files under the
    case's temporary directory fail past `after` bytes."""
    if not SHIM.is_file():
        t.skip("%s was not built" % SHIM)
    preload = os.environ.get("LD_PRELOAD")
    asan = os.environ.get("ASAN_OPTIONS")
    extra = {
        "LD_PRELOAD": str(SHIM) + (":" + preload if preload else ""),
        "PFETCH_FAULTIO_DIR": os.path.realpath(env.tmp),
        "PFETCH_FAULTIO_AFTER": str(after),
        "PFETCH_FAULTIO_ERRNO": errno_name,
        # A sanitized pfetch (gcc links libasan) preloaded with a plain
        # library: ASan need not come first for what this test does.
        "ASAN_OPTIONS": (asan + ":" if asan else "")
        + "verify_asan_link_order=0",
    }
    argv = [str(t.PFETCH), "--progress", "none"] + [str(a) for a in args]
    argv += ["-o", str(env.out)]
    start = time.monotonic()
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=60, cwd=env.tmp,
                           env=t.clean_env(extra))
    except subprocess.TimeoutExpired as e:
        env.last = t.Result(argv, None, e.stdout or b"", e.stderr or b"",
                            time.monotonic() - start)
        raise t.Fail("pfetch did not exit within 60 s")
    env.last = t.Result(argv, p.returncode, p.stdout, p.stderr,
                        time.monotonic() - start)
    return env.last


# With -j 3 the three "done" bodies (below AFTER) go first; as each ends
# its slot goes to the next URL in order: the two that stall (headers
# and 500 of 1000 bytes, then nothing) and "bad", which passes AFTER.
# The stalls never give their slots back, so bad starts only once the
# three are saved, the stalls are in flight when it fails, and no later
# URL can start unless the failure lets one.
DONE = ["/_/bytes/50000/done%d" % i for i in (1, 2, 3)]
STALLS = ["/_/stall/500/in%d" % i for i in (1, 2)]
BAD = "/_/slow/300000/20/bad?chunk=20000"
LATER = ["/_/bytes/1000/later%d" % i for i in (1, 2, 3)]


def device_error(env, errno_name, message):
    paths = DONE + STALLS + [BAD] + LATER
    urls = [env.url(p) for p in paths]
    r = pfetch(env, "-j", "3", *urls, after=AFTER, errno_name=errno_name)
    t.eq(r.rc, 3, "exit status")
    t.contains(r.stderr, "pfetch: stopped: input/output error in %s"
               % env.out, "the message names the directory")

    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(urls), "one row per URL")
    t.eq(len(env.db().fetches()), len(urls), "rows")

    bad = rows[env.url(BAD)]
    t.check_failed_row(bad)
    t.contains(bad["error"], "cannot write ", "error of the bad URL")
    t.contains(bad["error"], message, "error of the bad URL")
    t.eq(env.srv.count(BAD), 1, "requests for the bad URL (no retry)")

    saved = []
    for p in DONE:
        f = t.check_ok_row(env.out, rows[env.url(p)],
                           t.pattern(50000, p.rsplit("/", 1)[1]))
        saved.append(f.relative_to(env.out).as_posix())
    for p in STALLS:
        t.check_failed_row(rows[env.url(p)])
        t.contains(rows[env.url(p)]["error"], "interrupted",
                   "error of in-flight " + p)
    # Nothing started after the failure: the later URLs were never asked
    # for, and their rows say so.
    for p in LATER:
        t.eq(env.srv.count(p), 0, "requests for " + p)
        t.check_failed_row(rows[env.url(p)])
        t.contains(rows[env.url(p)]["error"], "interrupted before it started",
                   "error of " + p)

    # What is left: the saved files, whole, and at most the .part files
    # of the transfers stopped in flight (kept, as on SIGINT), each a
    # piece of its body.  Nothing of the bad URL.
    parts = t.part_files(env.out)
    t.eq(sorted(set(t.files(env.out)) - set(parts)), sorted(saved),
         "files at final names")
    for part in parts:
        t.check("/_/stall/" in "/" + part, "a .part left: %s" % part)
        data = (env.out / part).read_bytes()
        t.check(t.pattern(1000).startswith(data),
                "%s is not a piece of its body" % part)
    t.eq(env.db().integrity(), "ok", "integrity of the log")


@t.case
def body_meets_eio(env):
    device_error(env, "EIO", "Input/output error")


@t.case
def body_meets_erofs(env):
    device_error(env, "EROFS", "Read-only file system")


@t.case
def shim_without_a_fault(env):
    # The largest body reaches AFTER exactly, which is allowed.
    paths = DONE + [BAD] + LATER
    urls = [env.url(p) for p in paths]
    r = pfetch(env, "-j", "3", *urls, after=300000)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(urls), "one row per URL")
    for p in DONE:
        t.check_ok_row(env.out, rows[env.url(p)],
                       t.pattern(50000, p.rsplit("/", 1)[1]))
    for p in LATER:
        t.check_ok_row(env.out, rows[env.url(p)],
                       t.pattern(1000, p.rsplit("/", 1)[1]))
    t.check_ok_row(env.out, rows[env.url(BAD)], t.pattern(300000, "bad"))
    t.eq(t.part_files(env.out), [], ".part files left")
    t.eq(env.db().integrity(), "ok", "integrity of the log")


t.run()
