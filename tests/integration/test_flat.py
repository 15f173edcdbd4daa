#!/usr/bin/env python3
"""--layout flat: DIR/name, clashes made unique, Content-Disposition
names sanitised, the log never overwritten."""

import urllib.parse

import pftest as t


def check_flat_path(env, row):
    p = row["path"]
    t.check(p is not None, "row for %s has no path" % row["url"])
    t.check("/" not in p and "\\" not in p, "flat path %r" % p)
    t.check(p not in (".", "..", ""), "flat path %r" % p)
    return t.check_row_path(env.out, row)


@t.case
def clash(env):
    a, b = env.url("/_/bytes/10/a/file.bin"), env.url("/_/bytes/20/b/file.bin")
    r = env.pfetch("--progress", "none", "--layout", "flat", a, b)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().by_url()
    t.check_ok_row(env.out, rows[a], t.pattern(10, "a/file.bin"))
    t.check_ok_row(env.out, rows[b], t.pattern(20, "b/file.bin"))
    pa, pb = check_flat_path(env, rows[a]), check_flat_path(env, rows[b])
    t.check(pa != pb, "both saved as %s" % rows[a]["path"])
    t.check("file.bin" in (rows[a]["path"], rows[b]["path"]),
            "neither is file.bin: %r, %r" % (rows[a]["path"],
                                             rows[b]["path"]))
    t.eq(sorted(env.files()), sorted([rows[a]["path"], rows[b]["path"]]),
         "files")


@t.case
def disposition(env):
    names = ["../../evil", "..", ".", "/etc/evil2", "sub\\evil3",
             "x\x01y", ""]
    urls = {n: env.url("/_/disposition?name=" + urllib.parse.quote(n))
            for n in names}
    r = env.pfetch("--progress", "none", "--layout", "flat", *urls.values())
    t.eq(r.rc, 0, "exit status")
    rows = env.db().by_url()
    t.eq(len(rows), len(names), "rows")
    for n, url in urls.items():
        row = rows[url]
        check_flat_path(env, row)
        t.check_ok_row(env.out, row, t.pattern(64, n))
    t.eq(sorted(env.files()), sorted(r["path"] for r in rows.values()),
         "files")
    t.eq(sorted(set(env.files())), sorted(env.files()), "distinct files")


@t.case
def database_kept(env):
    urls = [env.url("/_/bytes/10/" + n)
            for n in ("pfetch.db", "pfetch.db-wal", "pfetch.db-journal")]
    r = env.pfetch("--progress", "none", "--layout", "flat", *urls)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().by_url()  # the log is still a database
    t.eq(len(rows), 3, "rows")
    for url in urls:
        row = rows[url]
        check_flat_path(env, row)
        t.check(row["path"] not in t.DB_FILES,
                "a body saved as %s" % row["path"])
        t.check_ok_row(env.out, row,
                       t.pattern(10, url.rsplit("/", 1)[1]))


t.run()
