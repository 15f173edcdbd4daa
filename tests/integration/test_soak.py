#!/usr/bin/env python3
"""-j 1000 over 20,000 URLs through the library (tests/soak.c): every URL
gets its row, the descriptors open after pf_crawler_free() are those
before pf_crawler_new(), at most about two per transfer were open at
once, and memory stays bounded.  Prints the figures."""

import resource
import sqlite3
import subprocess

import pftest as t

COUNT, JOBS = 20000, 1000


@t.case(server_args=("--fallback-bytes", "2000"))
def thousand_at_once(env):
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < JOBS * 2 + 64:
        t.skip("the descriptor limit (%d) is below what -j %d needs"
               % (hard, JOBS))
    exe = t.PFETCH.parent / "tests" / "soak"
    t.check(exe.is_file(), "%s was not built" % exe)
    p = subprocess.run([str(exe), env.url(""), str(COUNT), str(JOBS),
                        str(env.out)], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=300, env=t.clean_env({}))
    out = p.stdout.decode()
    t.check(p.returncode == 0, "soak exited %d:\n%s%s"
            % (p.returncode, out, p.stderr.decode()[-2000:]))
    figures = dict((line.split(" ", 1)[0], line.split(" ")[1:])
                   for line in out.splitlines())
    print("soak: -j %d, %d URLs: %s" % (JOBS, COUNT, out.replace("\n", "; ")),
          flush=True)
    before, after = map(int, figures["fds"])
    t.eq(after, before, "descriptors after the job (before: %d)" % before)
    t.check(int(figures["peak_fds"][0]) <= JOBS * 2 + 64,
            "descriptors at once: %s" % figures["peak_fds"][0])
    t.eq(figures["done"][0], str(COUNT), "results")
    t.eq(figures["done"][2], "0", "failures")
    # Bounded: far below what 20,000 URLs' bodies or a handle per URL
    # would take (sanitizer builds use a few times more).
    t.check(int(figures["maxrss_kib"][0]) < 512 * 1024,
            "peak RSS %s KiB" % figures["maxrss_kib"][0])
    db = sqlite3.connect("file:%s?mode=ro" % (env.out / "pfetch.db"),
                         uri=True)
    try:
        rows, urls = db.execute(
            "SELECT count(*), count(DISTINCT url) FROM fetches").fetchone()
    finally:
        db.close()
    t.eq((rows, urls), (COUNT, COUNT), "rows and distinct URLs")


t.run()
