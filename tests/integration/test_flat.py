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


# -- names in acceptance order -------------------------------------------

def same_name_urls(env, slow):
    """Three URLs named f5.txt, told apart by their seed; the one whose
    seed is slow answers last."""
    return [env.url("/_/bytes/64/f5.txt?seed=%s&delay=%d"
                    % (s, 400 if s == slow else 0))
            for s in ("one", "two", "three")]


def names_by_seed(env, out, urls):
    """{seed: path} of a run, each file checked to hold its URL's body."""
    rows = t.Log(out / "pfetch.db").by_url()
    names = {}
    for u in urls:
        row = rows[u]
        t.check_ok_row(out, row, t.pattern(64, u.split("seed=")[1]
                                           .split("&")[0]))
        names[u.split("seed=")[1].split("&")[0]] = row["path"]
    return names


@t.case
def names_follow_the_list(env):
    """The same list twice, with delays that reverse which transfer ends
    first: the same names, each file with its own URL's body.  Then a run
    of the list reordered into the first run's directory keeps the names
    its log gave; into a fresh directory it names in its own order."""
    runs = {}
    for slow, out in (("one", "a"), ("three", "b")):
        urls = same_name_urls(env, slow)
        lst = env.write_list("list-%s" % out, urls)
        r = env.pfetch("--progress", "none", "--layout", "flat", "-j", "4",
                       "-o", env.tmp / out, lst, out=False)
        t.eq(r.rc, 0, "exit status")
        runs[out] = names_by_seed(env, env.tmp / out, urls)
    t.eq(runs["a"], runs["b"], "names of the two runs")
    t.eq(runs["a"], {"one": "f5.txt", "two": "f5.txt.1",
                     "three": "f5.txt.2"}, "names in list order")
    urls = same_name_urls(env, "one")[::-1]
    for out in ("a", "c"):
        lst = env.write_list("list-rev-%s" % out, urls)
        r = env.pfetch("--progress", "none", "--layout", "flat", "-j", "4",
                       "-o", env.tmp / out, lst, out=False)
        t.eq(r.rc, 0, "exit status")
    t.eq(names_by_seed(env, env.tmp / "a", urls), runs["a"],
         "names of the reordered list after the log")
    t.eq(names_by_seed(env, env.tmp / "c", urls),
         {"three": "f5.txt", "two": "f5.txt.1", "one": "f5.txt.2"},
         "names of the reordered list in a fresh directory")
    t.eq(sorted(t.files(env.tmp / "a")), ["f5.txt", "f5.txt.1", "f5.txt.2"],
         "files")


t.run()
