#!/usr/bin/env python3
"""Redirects: up to 10 followed, the 11th a failure, only to http(s);
final_url is the URL of the last response."""

import urllib.parse

import pftest as t


@t.case
def chain_of_three(env):
    url = env.url("/_/redirect/3/chain")
    r = env.pfetch("--progress", "none", url)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().fetches()
    t.eq(len(rows), 1, "rows")
    row = rows[0]
    t.eq(row["url"], url, "url")
    t.eq(row["final_url"], env.url("/_/bytes/16"), "final_url")
    t.check_ok_row(env.out, row, t.pattern(16))
    t.eq(env.files(), [row["path"]], "files")


@t.case
def ten_followed(env):
    url = env.url("/_/redirect/10/ten")
    r = env.pfetch("--progress", "none", url)
    t.eq(r.rc, 0, "exit status")
    row = env.db().fetches()[0]
    t.eq(row["final_url"], env.url("/_/bytes/16"), "final_url")
    t.check_ok_row(env.out, row, t.pattern(16))


@t.case
def eleven_fail(env):
    url = env.url("/_/redirect/11/eleven")
    r = env.pfetch("--progress", "none", url)
    t.eq(r.rc, 1, "exit status")
    row = env.db().fetches()[0]
    t.check_failed_row(row, status=302)
    t.eq(row["final_url"], env.url("/_/redirect/1/eleven"), "final_url")
    t.eq(row["attempts"], 1, "attempts (not a transient failure)")
    t.eq(env.srv.count("/_/bytes/16"), 0, "requests of the 12th URL")
    t.eq(env.files(), [], "files")


@t.case
def loop(env):
    url = env.url("/_/redirect-loop/x")
    r = env.pfetch("--progress", "none", url)
    t.eq(r.rc, 1, "exit status")
    row = env.db().fetches()[0]
    t.check_failed_row(row, status=302)
    t.eq(env.srv.count("/_/redirect-loop/x"), 11, "requests (10 followed)")
    t.eq(env.files(), [], "files")


@t.case
def other_schemes(env):
    targets = ["file:///etc/passwd", "ftp://127.0.0.1:%d/x" % env.srv.port,
               "gopher://127.0.0.1:%d/x" % env.srv.port]
    urls = [env.url("/_/redirect-to?url=" + urllib.parse.quote(u, safe=""))
            for u in targets]
    r = env.pfetch("--progress", "none", *urls)
    t.eq(r.rc, 1, "exit status")
    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(urls), "URLs with a row")
    for url in urls:
        row = rows[url]
        t.check_failed_row(row, status=302)
        t.eq(row["final_url"], url, "final_url of a refused redirect")
        t.eq(row["attempts"], 1, "attempts (not a transient failure)")
    t.eq(env.files(), [], "files")
    t.eq(env.srv.count("/x"), 0, "requests of the ftp target")


t.run()
