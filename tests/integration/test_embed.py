#!/usr/bin/env python3
"""A job driven from the program's own poll() loop (tests/embed_poll.c:
pf_crawler_fd, pf_crawler_timeout_ms, pf_crawler_step), with URLs added
from a parser thread while it runs (pf_crawler_add_url, and
pf_crawler_add_link resolved against the page): the run ends only once
they are all fetched, each with its row, depth and parent."""

import subprocess

import pftest as t


def embed_poll():
    exe = t.PFETCH.parent / "tests" / "embed_poll"
    t.check(exe.is_file(), "%s was not built" % exe)
    return exe


@t.case(root=t.SRC / "fixtures" / "site")
def poll_loop_and_adds_from_a_parser_thread(env):
    seed = env.url("/")
    extra = [env.url("/_/bytes/100/e%d" % i) for i in range(3)]
    p = subprocess.run([str(embed_poll()), seed, str(env.out)] + extra,
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60, env=t.clean_env({}))
    out = p.stdout.decode()
    t.check(p.returncode == 0, "embed_poll exited %d:\n%s%s"
            % (p.returncode, out[-2000:], p.stderr.decode()[-2000:]))
    done = {}
    for line in out.splitlines():
        f = line.split(" ")
        if f[0] == "done":
            t.check(f[3] not in done, "two results for " + f[3])
            done[f[3]] = (int(f[1]), int(f[2]))
    steps = int(out.split("steps ")[1].split()[0])
    t.check(steps > 1, "the loop stepped %d times" % steps)
    rows = env.db().by_url()
    t.eq(sorted(done), sorted(rows), "results vs rows")
    for u in extra:
        t.eq(done.get(u), (200, 0), "result of the added seed " + u)
    link = env.url("/added-by-callback.html")
    t.check(link in rows, "the added link has no row")
    t.eq(rows[link]["depth"], 1, "depth of the added link")
    t.eq(rows[link]["parent_url"], seed, "parent of the added link")
    t.eq(done[seed], (200, 0), "the seed")


t.run()
