#!/usr/bin/env python3
"""The tree layout: DIR/host:port/path, the query kept in the name, and a
path that is a file for one URL and a directory for another: both saved."""

import pftest as t


def fetch_all(env, paths, *opts):
    urls = [env.url(p) for p in paths]
    r = env.pfetch("--progress", "none", *opts, *urls)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(urls), "URLs with a row")
    return [rows[u] for u in urls]


def check_both_saved(env, rows, bodies):
    for row, body in zip(rows, bodies):
        t.check_ok_row(env.out, row, body)
    t.eq(len({r["path"] for r in rows}), len(rows), "distinct paths")
    t.eq(sorted(env.files()), sorted(r["path"] for r in rows), "files")


@t.case
def file_then_directory(env):
    rows = fetch_all(env, ["/_/bytes/10/clash", "/_/bytes/10/clash/inner"],
                     "-j", "1")
    check_both_saved(env, rows, [t.pattern(10, "clash"),
                                 t.pattern(10, "clash/inner")])


@t.case
def directory_then_file(env):
    rows = fetch_all(env, ["/_/bytes/10/clash/inner", "/_/bytes/10/clash"],
                     "-j", "1")
    check_both_saved(env, rows, [t.pattern(10, "clash/inner"),
                                 t.pattern(10, "clash")])


@t.case
def directory_url_and_file(env):
    rows = fetch_all(env, ["/_/bytes/10/d/", "/_/bytes/10/d",
                           "/_/bytes/10/d/index.html"], "-j", "1")
    check_both_saved(env, rows, [t.pattern(10, "d/"), t.pattern(10, "d"),
                                 t.pattern(10, "d/index.html")])


@t.case
def query_in_name(env):
    paths = ["/_/bytes/10/qq", "/_/bytes/10/qq?a=1", "/_/bytes/10/qq?a=2",
             "/_/bytes/10/qq?a=/x/../y&b=%2F"]
    rows = fetch_all(env, paths)
    check_both_saved(env, rows, [t.pattern(10, "qq")] * len(paths))
    t.eq(rows[0]["path"], t.tree_path(env.srv.port, paths[0]),
         "path without a query")
    for row in rows[1:]:
        t.check(row["path"].startswith(
            t.tree_path(env.srv.port, "/_/bytes/10/")),
            "path %r is not beside the query-less one" % row["path"])


t.run()
