#!/usr/bin/env python3
"""What pfetch prints: nothing on stdout ever, nothing at all with -q on
success, only errors with -q on failure; --db and -o placement."""

import pftest as t


@t.case
def quiet_success(env):
    urls = [env.url("/_/bytes/%d/q%d" % (i * 100, i)) for i in range(3)]
    r = env.pfetch("-q", *urls)
    t.eq(r.rc, 0, "exit status")
    t.eq(r.out, b"", "stdout")
    t.eq(r.err, b"", "stderr")
    t.eq(len(env.db().fetches()), 3, "rows")


@t.case
def quiet_failure(env):
    good = env.url("/_/bytes/10/quiet-good")
    bad = env.url("/_/status/404/quiet-bad")
    r = env.pfetch("-q", good, bad)
    t.eq(r.rc, 1, "exit status")
    t.eq(r.out, b"", "stdout")
    t.check(r.err, "stderr is empty: the failure is not reported")
    t.contains(r.stderr, "quiet-bad", "stderr names the failed URL")
    t.check("quiet-good" not in r.stderr,
            "stderr mentions the good URL:\n" + r.stderr)


@t.case
def progress_never_on_stdout(env):
    good = env.url("/_/bytes/1000/p")
    bad = env.url("/_/status/404/p")
    for mode in ("lines", "bar", "none"):
        r = env.pfetch("--progress", mode, good, bad)
        t.eq(r.rc, 1, "exit status (--progress %s)" % mode)
        t.eq(r.out, b"", "stdout (--progress %s)" % mode)
    r = env.pfetch("--progress", "lines", good)
    t.eq(r.rc, 0, "exit status")
    t.eq(r.out, b"", "stdout")


@t.case
def db_option(env):
    url = env.url("/_/bytes/10/db")
    log = env.tmp / "logs" / "my.db"
    (env.tmp / "logs").mkdir()
    r = env.pfetch("--progress", "none", "--db", log, url)
    t.eq(r.rc, 0, "exit status")
    rows = env.db(log).fetches()
    t.eq(len(rows), 1, "rows in --db FILE")
    t.check_ok_row(env.out, rows[0], t.pattern(10, "db"))
    t.check(not (env.out / "pfetch.db").exists(),
            "DIR/pfetch.db created despite --db")


@t.case
def nested_output_dir(env):
    env.out = env.tmp / "x" / "y" / "z"
    url = env.url("/_/bytes/10/nested")
    r = env.pfetch("--progress", "none", url)
    t.eq(r.rc, 0, "exit status")
    row = env.db().fetches()[0]
    t.check_ok_row(env.out, row, t.pattern(10, "nested"))


@t.case
def default_output_dir(env):
    url = env.url("/_/bytes/10/here")
    r = env.pfetch("--progress", "none", url, out=False)
    t.eq(r.rc, 0, "exit status")
    row = t.Log(env.tmp / "pfetch.db").fetches()[0]
    t.check_ok_row(env.tmp, row, t.pattern(10, "here"))
    t.eq(row["path"], t.tree_path(env.srv.port, "/_/bytes/10/here"), "path")


@t.case
def directory_url(env):
    url = env.url("/_/bytes/10/dir/")
    r = env.pfetch("--progress", "none", url)
    t.eq(r.rc, 0, "exit status")
    row = env.db().fetches()[0]
    t.eq(row["path"],
         t.tree_path(env.srv.port, "/_/bytes/10/dir/index.html"), "path")
    t.check_ok_row(env.out, row, t.pattern(10, "dir/"))


t.run()
