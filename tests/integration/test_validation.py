"""Validation, re-fetching and machine-readable output: the log's sha256,
etag, last_modified and http_version columns, the upgrade of a 0.1 log,
-N (conditional requests from the log's validators), --json (JSON Lines
on standard output) and the PATH_MAX rule for long URLs."""

import hashlib
import json
import os
import sqlite3
import sys
from pathlib import Path

import pftest as t

# The 0.1 schema, as pfetch 0.1's db.c created it (no user_version).
OLD_SCHEMA = """
CREATE TABLE runs(id INTEGER PRIMARY KEY, started_at TEXT, finished_at TEXT,
                  argv TEXT, version TEXT);
CREATE TABLE fetches(id INTEGER PRIMARY KEY,
                     run_id INTEGER REFERENCES runs(id),
                     url TEXT NOT NULL, final_url TEXT, status INTEGER,
                     bytes INTEGER, path TEXT, content_type TEXT, error TEXT,
                     attempts INTEGER, depth INTEGER, parent_url TEXT,
                     elapsed_ms INTEGER, started_at TEXT);
CREATE INDEX fetches_url ON fetches(url);
CREATE INDEX fetches_run_id ON fetches(run_id);
"""

OLD_COLUMNS = ["id", "run_id", "url", "final_url", "status", "bytes", "path",
               "content_type", "error", "attempts", "depth", "parent_url",
               "elapsed_ms", "started_at"]
NEW_COLUMNS = ["sha256", "etag", "last_modified", "http_version"]
JSON_KEYS = [c for c in OLD_COLUMNS if c not in ("id", "run_id")] + \
    NEW_COLUMNS


def sha256_of(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def rows_of(env, run=None):
    rows = env.db().fetches()
    if run is not None:
        rows = [r for r in rows if r["run_id"] == run]
    return rows


def last_run(env):
    return env.db().runs()[-1]["id"]


def ok(env, r, what):
    t.check(r.rc == 0, "%s: exit %s\n%s" % (what, r.rc, r.describe()))


@t.case
def schema_upgrade_from_01(env):
    env.out.mkdir()
    path = env.out / "pfetch.db"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    db.execute("INSERT INTO runs(started_at, finished_at, argv, version)"
               " VALUES('2026-01-01T00:00:00.000Z',"
               " '2026-01-01T00:00:01.000Z', 'pfetch x', '0.1.0')")
    old = (1, "http://old.example/a", "http://old.example/a", 200, 3,
           "old.example/a", "text/plain", None, 1, 0, None, 12,
           "2026-01-01T00:00:00.100Z")
    db.execute("INSERT INTO fetches(run_id, url, final_url, status, bytes,"
               " path, content_type, error, attempts, depth, parent_url,"
               " elapsed_ms, started_at)"
               " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)", old)
    db.commit()
    t.eq(db.execute("PRAGMA user_version").fetchone()[0], 0,
         "user_version of the 0.1 log")
    db.close()
    url = env.url("/_/versioned/100/0/up")
    ok(env, env.pfetch(url), "pfetch on a 0.1 log")
    log = env.db()
    cols = [r["name"] for r in log.query("PRAGMA table_info(fetches)")]
    t.eq(cols, OLD_COLUMNS + NEW_COLUMNS, "columns after the upgrade")
    t.check(log.query("PRAGMA user_version")[0]["user_version"] >= 3,
            "user_version set")
    rows = log.fetches()
    t.eq(len(rows), 2, "rows")
    first = rows[0]
    t.eq(tuple(first[c] for c in OLD_COLUMNS[1:]), old,
         "the 0.1 row, untouched")
    for c in NEW_COLUMNS:
        t.eq(first[c], None, "%s of the 0.1 row" % c)
    t.eq(log.runs()[0]["version"], "0.1.0", "the 0.1 run")
    new = rows[1]
    f = t.check_ok_row(env.out, new, t.pattern(100, "up:v1"))
    t.eq(new["sha256"], sha256_of(f), "sha256 of the new row")
    t.eq(log.integrity(), "ok", "integrity")


@t.case
def newer_schema_refused(env):
    env.out.mkdir()
    db = sqlite3.connect(env.out / "pfetch.db")
    db.execute("PRAGMA user_version = 999")
    db.close()
    r = env.pfetch(env.url("/_/bytes/10"))
    t.eq(r.rc, 3, "exit status on a log of a newer pfetch")
    t.contains(r.stderr, "newer pfetch", "the message")


@t.case
def columns_recorded(env):
    a = env.url("/_/versioned/5000/0/cols")
    b = env.url("/_/bytes/70000/plain")
    c = env.url("/_/status/404")
    r = env.pfetch(a, b, c)
    t.eq(r.rc, 1, "exit status (one 404)")
    rows = {row["url"]: row for row in rows_of(env)}
    for u in (a, b):
        f = t.check_row_path(env.out, rows[u])
        t.eq(rows[u]["sha256"], sha256_of(f), "sha256 of %s" % u)
        t.eq(rows[u]["http_version"], "1.1", "http_version of %s" % u)
    t.eq(rows[a]["etag"], '"cols-v1"', "etag as sent")
    t.eq(rows[a]["last_modified"], "Wed, 15 Nov 2023 22:13:20 GMT",
         "last_modified as sent")
    t.eq(rows[b]["etag"], None, "no etag sent")
    t.eq(rows[b]["last_modified"], None, "no last_modified sent")
    t.eq(rows[c]["sha256"], None, "sha256 of a failure")
    t.eq(rows[c]["http_version"], "1.1", "a 404 still came over HTTP/1.1")
    r = env.pfetch("--retries", "0", "http://127.0.0.1:%d/" % t.free_port())
    rows = rows_of(env, last_run(env))
    t.eq(rows[0]["http_version"], None, "http_version with no response")
    t.eq(rows[0]["sha256"], None, "sha256 with nothing saved")


@t.case
def sha256_after_resume(env):
    # The first response is cut after 30000 bytes; the retry asks for
    # the rest with Range and If-Range: the digest covers the whole file.
    url = env.url("/_/cut/100000/30000/res")
    r = env.pfetch("--retry-backoff", "0.05", url)
    ok(env, r, "resumed fetch")
    row = rows_of(env)[0]
    t.eq(row["status"], 206, "status of the resumed transfer")
    f = t.check_ok_row(env.out, row, t.pattern(100000, "res"), status=206)
    t.eq(row["sha256"], sha256_of(f), "sha256 after a resume")


def inode(f):
    st = os.stat(f)
    return (st.st_ino, st.st_mtime_ns, st.st_size)


@t.case
def timestamping_unchanged(env):
    both = env.url("/_/versioned/3000/0/same")
    etag = env.url("/_/versioned/3000/0/etag?validators=etag")
    date = env.url("/_/versioned/3000/0/date?validators=date")
    urls = [both, etag, date]
    lst = env.write_list("urls.txt", urls)
    ok(env, env.pfetch(lst), "first run")
    first = {r["url"]: r for r in rows_of(env)}
    before = {u: inode(env.out / first[u]["path"]) for u in urls}
    r = env.pfetch("-N", lst)
    ok(env, r, "-N run")
    run = last_run(env)
    rows = {r["url"]: r for r in rows_of(env, run)}
    t.eq(sorted(rows), sorted(urls), "one row per URL")
    for u in urls:
        row = rows[u]
        t.eq(row["status"], 304, "status of unchanged %s" % u)
        t.eq(row["error"], None, "error of %s" % u)
        t.eq(row["bytes"], 0, "bytes of %s" % u)
        t.eq(row["path"], first[u]["path"], "path of %s" % u)
        t.eq(row["sha256"], first[u]["sha256"], "sha256 of %s" % u)
        t.eq(inode(env.out / row["path"]), before[u],
             "%s untouched (inode, mtime, size)" % u)
    t.eq(rows[etag]["etag"], '"etag-v1"', "etag of the 304 row")
    t.eq(t.files(env.out), sorted(first[u]["path"] for u in urls),
         "no other file")
    t.check("0 failed" in r.stderr, "summary: %r" % r.stderr)


@t.case
def timestamping_changed(env):
    url = env.url("/_/versioned/3000/0/chg")
    ok(env, env.pfetch(url), "first run")
    old = rows_of(env)[0]
    env.srv.get("/_/bump/chg")
    ok(env, env.pfetch("-N", url), "-N run after a change")
    row = rows_of(env, last_run(env))[0]
    f = t.check_ok_row(env.out, row, t.pattern(3000, "chg:v2"))
    t.eq(row["path"], old["path"], "same path")
    t.eq(row["sha256"], sha256_of(f), "sha256 of the new body")
    t.check(row["sha256"] != old["sha256"], "a new digest")
    t.eq(row["etag"], '"chg-v2"', "the new etag")
    t.eq(t.part_files(env.out), [], ".part files left")


@t.case
def timestamping_file_gone_or_resized(env):
    gone = env.url("/_/versioned/2000/0/gone")
    resized = env.url("/_/versioned/2000/0/resized")
    ok(env, env.pfetch(gone, resized), "first run")
    first = {r["url"]: r for r in rows_of(env)}
    os.unlink(env.out / first[gone]["path"])
    with open(env.out / first[resized]["path"], "ab") as f:
        f.write(b"local edit")
    ok(env, env.pfetch("-N", gone, resized), "-N run")
    rows = {r["url"]: r for r in rows_of(env, last_run(env))}
    for u, seed in ((gone, "gone:v1"), (resized, "resized:v1")):
        # Unchanged on the server: only an unconditional request gets 200.
        t.check_ok_row(env.out, rows[u], t.pattern(2000, seed))
    # Without -N, an unchanged file is fetched whole too.
    ok(env, env.pfetch(gone), "run without -N")
    t.eq(rows_of(env, last_run(env))[0]["status"], 200, "status without -N")


@t.case
def timestamping_with_continue(env):
    url = env.url("/_/versioned/2000/0/cont")
    ok(env, env.pfetch(url), "first run")
    r = env.pfetch("-c", url)
    ok(env, r, "-c run")
    t.eq(rows_of(env, last_run(env)), [], "-c skips a done URL")
    ok(env, env.pfetch("-c", "-N", url), "-c -N run")
    rows = rows_of(env, last_run(env))
    t.eq([r["status"] for r in rows], [304], "-c -N asks again")


@t.case
def timestamping_continue_resumes_part(env):
    # A done URL whose file is there, and a .part left by an interrupted
    # later run: -N -c goes on with the .part (Range), not a condition.
    url = env.url("/_/versioned/3000/0/part")
    ok(env, env.pfetch(url), "first run")
    row = rows_of(env)[0]
    part = env.out / (row["path"] + ".part")
    part.write_bytes(t.pattern(3000, "part:v1")[:1000])
    ok(env, env.pfetch("-N", "-c", url), "-N -c run")
    row = rows_of(env, last_run(env))[0]
    f = t.check_ok_row(env.out, row, t.pattern(3000, "part:v1"), status=206)
    t.eq(row["sha256"], sha256_of(f), "sha256 of the resumed file")
    t.check(not part.exists(), ".part renamed")


SITE = {
    "index.html": '<a href="a.html">a</a> <a href="sub/b.html">b</a>'
                  '<link rel="stylesheet" href="s.css">',
    "a.html": '<a href="sub/c.html">c</a> <img src="i.png">',
    "sub/b.html": '<a href="../a.html">a</a> <a href="d.txt">d</a>',
    "sub/c.html": "<p>leaf</p>",
    "sub/d.txt": "text",
    "s.css": "body { background: url(bg.png) }",
    "bg.png": "png",
    "i.png": "png",
}


def make_site(root):
    for name, text in SITE.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
        os.utime(p, (1700000000, 1700000000))


@t.case
def timestamping_recrawl(env):
    root = env.tmp / "site"
    make_site(root)
    with t.Server([], root=root) as srv:
        seed = srv.url("/index.html")
        ok(env, env.pfetch("-r", "--no-robots", seed), "first crawl")
        first = {r["url"]: r for r in rows_of(env)}
        t.eq(len(first), len(SITE), "the whole site")
        before = {u: inode(env.out / r["path"]) for u, r in first.items()}
        r = env.pfetch("-N", "-r", "--no-robots", seed)
        ok(env, r, "-N recrawl")
        again = {r["url"]: r for r in rows_of(env, last_run(env))}
        t.eq(sorted(again), sorted(first), "the same crawl set")
        for u, row in again.items():
            t.eq((row["status"], row["error"], row["bytes"]), (304, None, 0),
                 "row of unchanged %s" % u)
            t.eq(row["depth"], first[u]["depth"], "depth of %s" % u)
            t.eq(inode(env.out / row["path"]), before[u], "%s untouched" % u)
        # One page changes and links to a new one: the new link is
        # followed, the others are asked again and stay.
        a = root / "a.html"
        a.write_text(SITE["a.html"] + '<a href="new.html">n</a>')
        os.utime(a, (1700000100, 1700000100))
        (root / "new.html").write_text("new")
        ok(env, env.pfetch("-N", "-r", "--no-robots", seed), "third crawl")
        third = {r["url"]: r for r in rows_of(env, last_run(env))}
        t.eq(sorted(third), sorted(list(first) + [srv.url("/new.html")]),
             "crawl set with the new page")
        t.eq(third[srv.url("/a.html")]["status"], 200, "the changed page")
        t.eq(third[srv.url("/new.html")]["status"], 200, "the new page")
        t.eq(third[srv.url("/sub/c.html")]["status"], 304, "an unchanged one")


def check_json_line(line, row):
    obj = json.loads(line)
    t.eq(list(obj), JSON_KEYS, "keys of a JSON line")
    for k in JSON_KEYS:
        t.eq(obj[k], row[k], "%s of %s in JSON" % (k, row["url"]))
    return obj


def text_rows(path):
    """The rows with invalid UTF-8 decoded as JSON does: U+FFFD."""
    db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    db.row_factory = sqlite3.Row
    db.text_factory = lambda b: b.decode("utf-8", "replace")
    try:
        return [dict(r) for r in db.execute("SELECT * FROM fetches"
                                            " ORDER BY id")]
    finally:
        db.close()


@t.case
def json_lines(env):
    urls = [env.url("/_/versioned/100/0/j1"),
            env.url("/_/status/404/j2"),
            env.url("/_/hostile/j3"),
            env.url("/_/redirect-to?url=/_/bytes/5%3Fa%3D%22%5C%FF")]
    lst = env.write_list("urls.txt", urls + ["not a url"])
    r = env.pfetch("--json", "-q", "--progress", "lines", lst)
    t.eq(r.rc, 1, "exit status (a 404, a bad line)")
    lines = r.out.split(b"\n")
    t.eq(lines[-1], b"", "stdout ends with a newline")
    lines = lines[:-1]
    rows = text_rows(env.out / "pfetch.db")
    t.eq(len(lines), len(rows), "one line per row")
    t.eq(len(rows), len(urls), "rows")
    by_url = {row["url"]: row for row in rows}
    objs = {}
    for line in lines:
        line.decode("utf-8")  # strict: the line is UTF-8
        obj = json.loads(line)
        objs[obj["url"]] = check_json_line(line, by_url[obj["url"]])
    hostile = objs[urls[2]]
    t.eq(hostile["etag"], '"a\x01b\ufffdc"', "etag with 0x01 and 0xff")
    t.eq(hostile["content_type"], "text/plain; x=\x01\ufffd",
         "content type with 0x01 and 0xff")
    t.eq(hostile["last_modified"], "Mon, 01 Jan 2024 00:00:00 GMT\x7f\x01",
         "last_modified with DEL and 0x01")
    t.check(b"\\u0001" in lines[[json.loads(x)["url"] for x in lines]
                                .index(urls[2])], "0x01 escaped as \\u0001")
    t.eq(objs[urls[1]]["error"], by_url[urls[1]]["error"], "error text")
    t.check(objs[urls[0]]["sha256"] is not None, "sha256 in JSON")


@t.case
def json_without_log(env):
    urls = [env.url("/_/bytes/10/a"), env.url("/_/bytes/20/b")]
    r = env.pfetch("--json", "--db", "", *urls)
    ok(env, r, "--json without a log")
    objs = [json.loads(x) for x in r.out.decode().splitlines()]
    t.eq(sorted(o["url"] for o in objs), sorted(urls), "one line per URL")
    t.eq(sorted(o["bytes"] for o in objs), [10, 20], "bytes")


@t.case
def json_crawl(env):
    root = env.tmp / "site"
    make_site(root)
    with t.Server([], root=root) as srv:
        r = env.pfetch("--json", "-r", "--no-robots", "-j", "4",
                       srv.url("/index.html"))
        ok(env, r, "crawl with --json")
        rows = {row["url"]: row for row in rows_of(env)}
        lines = r.out.decode().splitlines()
        t.eq(len(lines), len(SITE), "one line per page")
        for line in lines:
            check_json_line(line, rows[json.loads(line)["url"]])


@t.case(server_args=["--fallback-bytes", "100"])
def long_paths(env):
    seg = "s" * 200
    base = env.url("/" + "/".join("%s%02d" % (seg[:198], i)
                                  for i in range(25)))
    one, two = base + "/end-one", base + "/end-two"
    # The same deep directories, a different place in the middle.
    other = env.url("/" + "/".join("%s%02d" % (seg[:198], i if i != 20
                                               else 99)
                                   for i in range(25)) + "/end-one")
    urls = [one, two, other]
    r = env.pfetch(*urls)
    ok(env, r, "long URLs")
    rows = {row["url"]: row for row in rows_of(env)}
    paths = set()
    for u in urls:
        row = rows[u]
        full = os.path.join(str(env.out), row["path"])
        t.check(len(full.encode()) <= 4095,
                "whole path of %d bytes" % len(full.encode()))
        fd = os.open(full, os.O_RDONLY)  # plain open(), no dirfd
        try:
            data = os.read(fd, 1000)
        finally:
            os.close(fd)
        t.eq(len(data), 100, "body of %s" % row["path"][-40:])
        t.check(row["path"].startswith(t.tree_path(env.srv.port, "/")),
                "inside the host directory: %s" % row["path"][:40])
        paths.add(row["path"])
    t.eq(len(paths), 3, "distinct paths")
    t.check(rows[one]["path"].endswith("/end-one") and
            rows[two]["path"].endswith("/end-two"), "file names kept")
    t.eq(os.path.dirname(rows[one]["path"]),
         os.path.dirname(rows[two]["path"]), "one directory's files together")
    # A short URL keeps its plain tree path.
    ok(env, env.pfetch(env.url("/a/b")), "short URL")
    t.eq(rows_of(env, last_run(env))[0]["path"],
         t.tree_path(env.srv.port, "/a/b"), "short path")
    t.eq(t.part_files(env.out), [], ".part files left")


t.run()
