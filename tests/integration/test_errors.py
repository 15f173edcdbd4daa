#!/usr/bin/env python3
"""HTTP errors and unreachable hosts: exit 1, a row with the status and a
readable error, nothing saved, no .part left."""

import socket

import pftest as t


def check_nothing_saved(env):
    t.eq(env.files(), [], "files in the output directory")


@t.case
def not_found(env):
    url = env.url("/_/status/404")
    r = env.pfetch("--progress", "none", url)
    t.eq(r.rc, 1, "exit status")
    row = env.db().by_url()[url]
    t.check_failed_row(row, status=404)
    t.contains(row["error"], "HTTP 404 Not Found", "error")
    t.eq(row["attempts"], 1, "attempts (404 is not retried)")
    t.check(not (env.out / t.tree_path(env.srv.port, "/_/status/404"))
            .exists(), "a file exists at the final name")
    check_nothing_saved(env)
    t.eq(env.srv.count("/_/status/404"), 1, "requests")


@t.case
def server_error(env):
    url = env.url("/_/status/500")
    r = env.pfetch("--progress", "none", "--retries", "0", url)
    t.eq(r.rc, 1, "exit status")
    row = env.db().by_url()[url]
    t.check_failed_row(row, status=500)
    t.contains(row["error"], "HTTP 500 Internal Server Error", "error")
    t.eq(row["attempts"], 1, "attempts with --retries 0")
    check_nothing_saved(env)


@t.case
def other_statuses(env):
    codes = {403: "Forbidden", 410: "Gone", 401: "Unauthorized"}
    urls = {c: env.url("/_/status/%d/x" % c) for c in codes}
    r = env.pfetch("--progress", "none", "--retries", "0", *urls.values())
    t.eq(r.rc, 1, "exit status")
    rows = env.db().by_url()
    for c, phrase in codes.items():
        row = rows[urls[c]]
        t.check_failed_row(row, status=c)
        t.contains(row["error"], "HTTP %d %s" % (c, phrase), "error")
    check_nothing_saved(env)


@t.case
def good_and_bad(env):
    good, bad = env.url("/_/bytes/100/good"), env.url("/_/status/404/bad")
    r = env.pfetch("--progress", "none", good, bad)
    t.eq(r.rc, 1, "exit status")
    rows = env.db().by_url()
    t.eq(len(rows), 2, "rows")
    t.check_ok_row(env.out, rows[good], t.pattern(100, "good"))
    t.check_failed_row(rows[bad], status=404)
    t.eq(env.files(), [rows[good]["path"]], "files")


@t.case
def unreachable(env):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = "http://127.0.0.1:%d/x" % port
    r = env.pfetch("--progress", "none", "--retries", "0",
                   "--connect-timeout", "2", url, timeout=30)
    t.eq(r.rc, 1, "exit status")
    t.check(r.elapsed < 10, "took %.1f s" % r.elapsed)
    rows = env.db().fetches()
    t.eq(len(rows), 1, "rows")
    t.check_failed_row(rows[0], status=0)
    t.eq(rows[0]["url"], url, "url")
    t.eq(rows[0]["attempts"], 1, "attempts with --retries 0")
    check_nothing_saved(env)



@t.case
def huge_headers(env):
    # A header line of 100 KiB and one of 1 MiB fail their URL, once (no
    # retry), with a message about headers, not libcurl's "Out of memory";
    # a large but acceptable one (50 KB) and the URL after them are fine.
    big = [env.url("/_/header-big"), env.url("/_/header-big/1000000")]
    fine = env.url("/_/header-big/50000")
    after = env.url("/_/bytes/64/after")
    r = env.pfetch("--progress", "none", "-j", "1", *big, fine, after)
    t.eq(r.rc, 1, "exit status")
    rows = env.db().by_url()
    for url in big:
        t.check_failed_row(rows[url])
        t.contains(rows[url]["error"], "headers", "error of " + url)
        t.eq(rows[url]["attempts"], 1, "attempts of " + url)
    t.check_ok_row(env.out, rows[fine], b"ok\n")
    t.check_ok_row(env.out, rows[after], t.pattern(64, "after"))
    t.eq(sorted(env.files()), sorted([rows[fine]["path"],
                                      rows[after]["path"]]), "files")


t.run()
