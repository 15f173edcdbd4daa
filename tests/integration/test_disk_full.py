#!/usr/bin/env python3
"""A full disk: the body that meets ENOSPC fails with a clear error and
leaves no .part, the run starts nothing new, every URL still gets its one
row, pfetch exits 3 naming the directory, and the log stays sound, also
when the log itself is on the full file system.  Needs a small tmpfs
mounted for the test: run as root, skipped with the reason otherwise."""

import os
import subprocess

import pftest as t


class Tmpfs:
    """A tmpfs of `size` mounted on dir for the duration of a with."""

    def __init__(self, path, size):
        self.path, self.size = path, size

    def __enter__(self):
        if os.geteuid() != 0:
            t.skip("needs root to mount a small tmpfs")
        self.path.mkdir(parents=True, exist_ok=True)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o",
                            "size=%s" % self.size, "tmpfs", str(self.path)],
                           capture_output=True)
        if p.returncode != 0:
            t.skip("cannot mount a tmpfs here: %s"
                   % p.stderr.decode().strip())
        return self.path

    def __exit__(self, *exc):
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True)


def urls(env):
    return [env.url("/_/bytes/300000/a"), env.url("/_/bytes/300000/b"),
            env.url("/_/bytes/300000/c"), env.url("/_/bytes/1000/d")]


@t.case
def body_meets_a_full_disk(env):
    with Tmpfs(env.tmp / "small", "512k") as fs:
        out = fs / "out"
        db = env.tmp / "log.db"
        r = env.pfetch("--progress", "none", "-j", "1", "--db", db,
                       *urls(env), "-o", out, out=False)
        t.eq(r.rc, 3, "exit status")
        t.contains(r.stderr, "no space left on device in %s" % out,
                   "the message names the directory")
        rows = t.Log(db).by_url()
        t.eq(sorted(rows), sorted(urls(env)), "one row per URL")
        full = [u for u, x in rows.items()
                if x["error"] and "No space left" in x["error"]]
        t.eq(len(full), 1, "URLs that met the full disk: %s" % full)
        t.eq(rows[full[0]]["path"], None, "path of the failed URL")
        saved = [u for u, x in rows.items() if x["error"] is None]
        for u in saved:
            f = out / rows[u]["path"]
            t.check(f.read_bytes() == t.pattern(300000, u[-1]),
                    "%s saved differs" % u)
        t.eq([p for p in t.part_files(out)], [], ".part files left")
        # Nothing was started after the disk filled: the rest have no
        # request and say they were interrupted.
        later = [u for u in urls(env) if u not in saved and u not in full]
        for u in later:
            t.contains(rows[u]["error"], "interrupted", "error of " + u)
        t.eq(t.Log(db).integrity(), "ok", "integrity of the log")


@t.case
def log_on_the_full_disk(env):
    with Tmpfs(env.tmp / "small", "400k") as fs:
        out = fs / "out"
        r = env.pfetch("--progress", "none", "-j", "1", *urls(env),
                       "-o", out, out=False)
        t.eq(r.rc, 3, "exit status")
        t.check("no space left" in r.stderr.lower(),
                "no message about the full disk:\n" + r.stderr)
        t.eq(t.Log(out / "pfetch.db").integrity(), "ok", "integrity of the log")


t.run()
