#!/usr/bin/env python3
"""Every file lands inside the output directory, whatever the URL: no
'..', no absolute paths, no long names, no symlinks followed out."""

import os
from pathlib import Path

import pftest as t


def hostile_urls(env):
    paths = [
        "/../../etc/x1",
        "/%2e%2e/%2e%2e/x2",
        "/a/..%2f..%2fx3",
        "//x4",
        "/" + "s" * 300,
        "/q6?a=/../../b/c&d=..%2f..%2f",
        "/_/bytes/32/" + "%2e%2e/" * 10 + "x7",
        "/%2E%2E%2F%2E%2E%2Fx8",
        "/..%5c..%5cx9",
        "/x10%00y",
        "/.%2e/.%2e/x11",
        "/x12/%2e%2e",
        "/" + "%C3%A9" * 200 + "/x13",
        "/x14/%2e",
        "/x15/%0a%0d%09%7f",
        "/x16?" + "q" * 400,
    ]
    return [env.url(p) for p in paths]


def check_inside(out):
    """Walk out: regular files and directories only, sane names."""
    for dirpath, dirnames, filenames in os.walk(out):
        for name in dirnames + filenames:
            p = os.path.join(dirpath, name)
            t.check(not os.path.islink(p), "symbolic link %s" % p)
            t.check(name not in (".", ".."), "name %r" % name)
            t.check(len(name.encode("utf-8", "surrogateescape")) <= 255,
                    "name of %d bytes" % len(name))
            t.check(not any(ord(c) < 32 or c in "\\" for c in name),
                    "unsafe name %r" % name)


@t.case(server_args=["--fallback-bytes", "32"])
def hostile_paths(env):
    env.out = env.tmp / "a" / "b" / "out"
    (env.tmp / "a" / "b").mkdir(parents=True)
    urls = hostile_urls(env)
    r = env.pfetch("--progress", "none", *urls)
    t.eq(r.rc, 0, "exit status")

    t.eq(sorted(os.listdir(env.tmp / "a" / "b")), ["out"],
         "entries beside the output directory")
    t.eq(sorted(os.listdir(env.tmp)), ["a"], "entries in the temp dir")
    check_inside(env.out)

    rows = env.db().fetches()
    t.eq(len(rows), len(urls), "rows")
    paths = set()
    for row in rows:
        t.eq(row["status"], 200, "status of %s" % row["url"])
        t.eq(row["error"], None, "error of %s" % row["url"])
        f = t.check_row_path(env.out, row)
        t.eq(f.stat().st_size, 32, "size of %s" % row["path"])
        t.eq(row["bytes"], 32, "bytes of %s" % row["url"])
        t.check(row["path"] not in paths, "path %r used twice" % row["path"])
        paths.add(row["path"])
    t.eq(sorted(paths), env.files(), "files saved vs rows' paths")


@t.case
def symlinks_not_followed(env):
    port = env.srv.port
    elsewhere = env.tmp / "elsewhere"
    elsewhere.mkdir()
    victim = env.tmp / "victim"
    victim.write_bytes(b"keep me\n")
    host = env.out / ("127.0.0.1:%d" % port)
    env.out.mkdir()
    # The host directory is a link out; so is a final name in a real one.
    host.symlink_to(elsewhere)
    urls = [env.url("/_/bytes/10/s1")]
    r = env.pfetch("--progress", "none", *urls)
    t.check(r.rc in (0, 1), "exit status %s" % r.rc)
    t.eq(os.listdir(elsewhere), [], "files written through a linked dir")

    host.unlink()
    (host / "_" / "bytes" / "10").mkdir(parents=True)
    (host / "_" / "bytes" / "10" / "s2").symlink_to(victim)
    (host / "_" / "bytes" / "10" / "s3.part").symlink_to(victim)
    urls = [env.url("/_/bytes/10/s2"), env.url("/_/bytes/10/s3")]
    r = env.pfetch("--progress", "none", *urls)
    t.check(r.rc in (0, 1), "exit status %s" % r.rc)
    t.eq(victim.read_bytes(), b"keep me\n", "file behind a link")
    for row in env.db().fetches():
        if row["path"] is not None:
            t.check_row_path(env.out, row)


t.run()
