#!/usr/bin/env python3
"""Credentials never reach the log or the terminal.  A URL with
user:password is fetched with the Basic authorization curl makes of it,
while every URL pfetch prints or logs shows the password as "***": the
log's url, final_url and parent_url, the frontier, the per-URL and
progress lines, retry and robots.txt messages.  runs.argv masks the
values of Authorization and Cookie headers and URL passwords.  -c finds
the masked rows and asks nothing again; a resumed crawl gets back the
seed's password for the frontier rows of the seed's user and host:port.
Every check of "no secret" scans every column of every table with SQL,
the database files' bytes, and standard error."""

import atexit
import base64
import tempfile
from pathlib import Path

import pftest as t

SECRET = "secret"
B64 = base64.b64encode(b"alice:" + SECRET.encode()).decode()


def authed(env, path):
    """env's URL for path with alice's password in it."""
    return env.url(path).replace("http://", "http://alice:%s@" % SECRET, 1)


def masked(env, path):
    return env.url(path).replace("http://", "http://alice:***@", 1)


def no_secret_in_log(env):
    """No SECRET in any column of any table, nor in the files' bytes."""
    log = env.db()
    tables = [r["name"] for r in log.query(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    t.check("fetches" in tables and "frontier" in tables and
            "runs" in tables, "tables: %r" % tables)
    for table in tables:
        for row in log.query("SELECT * FROM %s" % table):
            for col, v in row.items():
                t.check(v is None or SECRET not in str(v),
                        "%s.%s holds the password: %r" % (table, col, v))
    for f in env.out.glob("pfetch.db*"):
        t.check(SECRET.encode() not in f.read_bytes(),
                "the bytes of %s hold the password" % f.name)


def no_secret_on_stderr(r):
    t.check(SECRET not in r.stderr, "stderr holds the password:\n%s"
            % r.stderr)


@t.case
def password_masked_everywhere(env):
    """Basic auth sent; the log and the lines show alice:***."""
    urls = [authed(env, "/_/echo-headers"),
            authed(env, "/_/flaky/1/k"),
            authed(env, "/_/status/404"),
            authed(env, "/_/redirect/1/x?to=/_/bytes/16/r")]
    lst = env.write_list("urls.txt", urls)
    r = env.pfetch("-v", "--progress", "lines", "--retry-backoff", "0.05",
                   lst, authed(env, "/_/bytes/8/op"))
    t.eq(r.rc, 1, "exit status (a 404)")
    echo = (env.out / t.tree_path(env.srv.port, "/_/echo-headers"))
    t.contains(echo.read_text(), "Authorization: Basic " + B64,
               "headers the server saw")
    rows = env.db().by_url()
    want = {masked(env, p) for p in ("/_/echo-headers", "/_/flaky/1/k",
                                     "/_/status/404", "/_/bytes/8/op",
                                     "/_/redirect/1/x?to=/_/bytes/16/r")}
    t.eq(set(rows), want, "the log's URLs")
    t.eq(rows[masked(env, "/_/redirect/1/x?to=/_/bytes/16/r")]["final_url"],
         masked(env, "/_/bytes/16/r"), "final_url after a redirect")
    t.eq(rows[masked(env, "/_/flaky/1/k")]["attempts"], 2, "attempts")
    no_secret_in_log(env)
    no_secret_on_stderr(r)
    for what in ("retrying", "404", "/_/bytes/8/op"):
        t.check(any(what in l and "alice:***@" in l
                    for l in r.stderr.splitlines()),
                "no masked line about %r:\n%s" % (what, r.stderr))
    argv = env.db().runs()[0]["argv"]
    t.contains(argv, masked(env, "/_/bytes/8/op"), "runs.argv")


@t.case
def headers_masked_in_argv(env):
    """-H values of Authorization and Cookie are sent, and logged masked."""
    r = env.pfetch("-q", "-H", "Authorization: Bearer %s-token" % SECRET,
                   "-H", "cookie: session=%s" % SECRET,
                   "--header=X-Note: kept", env.url("/_/echo-headers"))
    t.eq(r.rc, 0, "exit status")
    seen = (env.out / t.tree_path(env.srv.port, "/_/echo-headers")).read_text()
    t.contains(seen, "Authorization: Bearer %s-token" % SECRET, "sent")
    t.contains(seen, "session=%s" % SECRET, "cookie sent")
    argv = env.db().runs()[0]["argv"]
    t.contains(argv, "-H 'Authorization: ***' -H 'cookie: ***'", "argv")
    t.contains(argv, "'--header=X-Note: kept'", "argv keeps other headers")
    no_secret_in_log(env)
    no_secret_on_stderr(r)


@t.case
def continue_finds_masked_rows(env):
    """-c on the same list asks nothing again of a URL logged masked."""
    lst = env.write_list("urls.txt", [authed(env, "/_/bytes/32/c")])
    t.eq(env.pfetch("-q", lst).rc, 0, "first run")
    t.eq(env.srv.count("/_/bytes/32/c"), 1, "requests of the first run")
    r = env.pfetch("-q", "-c", lst)
    t.eq(r.rc, 0, "exit status with -c")
    t.eq(env.srv.count("/_/bytes/32/c"), 1, "requests after -c")
    no_secret_in_log(env)


_site = tempfile.TemporaryDirectory(prefix="pftest-cred-site-")
atexit.register(_site.cleanup)
(Path(_site.name) / "index.html").write_text(
    '<html><body><a href="a.html">a</a> '
    '<a href="/_/basic-auth/%s/late?flaky=1">late</a></body></html>\n' % B64)
(Path(_site.name) / "a.html").write_text(
    '<html><body><a href="/_/echo-headers/a">b</a></body></html>\n')


@t.case(root=_site.name)
def crawl_masks_and_resumes(env):
    """Discovered rows have masked URLs and parents; -c -r gives the
    frontier's masked rows the seed's password back."""
    seed = authed(env, "/index.html")
    r = env.pfetch("-v", "--progress", "lines", "-r", "--retries", "0", seed)
    t.eq(r.rc, 1, "exit status (the flaky link fails once)")
    rows = env.db().by_url()
    t.eq(rows[masked(env, "/a.html")]["parent_url"],
         masked(env, "/index.html"), "parent_url of a.html")
    t.eq(rows[masked(env, "/_/echo-headers/a")]["parent_url"],
         masked(env, "/a.html"), "parent_url of a link of a.html")
    echo = env.out / t.tree_path(env.srv.port, "/_/echo-headers/a")
    t.contains(echo.read_text(), "Authorization: Basic " + B64,
               "a discovered link carries the seed's credentials")
    late = "/_/basic-auth/%s/late?flaky=1" % B64
    t.check(rows[masked(env, late)]["error"], "the flaky link failed")
    frontier = env.db().query("SELECT url, parent_url FROM frontier")
    t.check(frontier, "no frontier rows")
    for f in frontier:
        t.check(f["url"].startswith("http://alice:***@"),
                "frontier url %r" % f["url"])
    t.check("robots.txt" in r.stderr, "no robots.txt line:\n" + r.stderr)
    no_secret_in_log(env)
    no_secret_on_stderr(r)

    r = env.pfetch("-v", "--progress", "lines", "-r", "--retries", "0",
                   "-c", seed)
    t.eq(r.rc, 0, "exit status of the resumed crawl")
    t.eq(env.srv.count(late), 2, "requests of the link left pending")
    t.eq(env.srv.count("/index.html"), 1, "requests of the seed")
    runs = [x["id"] for x in env.db().runs()]
    second = [x for x in env.db().fetches() if x["run_id"] == runs[1]]
    t.eq([(x["url"], x["status"], x["error"]) for x in second],
         [(masked(env, late), 200, None)], "rows of the resumed crawl")
    no_secret_in_log(env)
    no_secret_on_stderr(r)


@t.case(root=_site.name)
def resume_without_the_password(env):
    """A masked frontier row no seed of the run matches is left out, with
    a warning; no request goes out with a wrong password."""
    r = env.pfetch("-q", "-r", "--retries", "0", authed(env, "/index.html"))
    t.eq(r.rc, 1, "exit status of the first crawl")
    late = "/_/basic-auth/%s/late?flaky=1" % B64
    r = env.pfetch("-r", "--retries", "0", "-c", "--progress", "none",
                   env.url("/a.html"))
    t.eq(env.srv.count(late), 1, "requests of the row left out")
    t.contains(r.stderr, "1 URL left out", "the warning")
    t.contains(r.stderr, "http://alice:***@", "the warning names it masked")
    no_secret_in_log(env)
    no_secret_on_stderr(r)


t.run()
