#!/usr/bin/env python3
"""1,000 URLs at -j 50: every body saved byte-exact, one row each, each
URL requested exactly once."""

import pftest as t

N = 1000


def size_of(i):
    # Varied sizes in 0..20000, with the edge cases included.
    return [0, 1, 20000][i] if i < 3 else (i * 7919) % 20001


@t.case
def thousand_urls(env):
    paths = ["/_/bytes/%d/%d" % (size_of(i), i) for i in range(N)]
    lst = env.write_list("urls.txt", [env.url(p) for p in paths])
    r = env.pfetch("-j", "50", "--progress", "none", lst, timeout=120)
    t.eq(r.rc, 0, "exit status")
    t.eq(r.stdout, "", "stdout")

    log = env.db()
    runs = log.runs()
    t.eq(len(runs), 1, "runs rows")
    t.check(runs[0]["finished_at"] is not None, "runs.finished_at is NULL")
    rows = log.fetches()
    t.eq(len(rows), N, "fetches rows")
    by_url = log.by_url()
    for i, p in enumerate(paths):
        url = env.url(p)
        t.check(url in by_url, "no row for %s" % url)
        row = by_url[url]
        t.eq(row["run_id"], runs[0]["id"], "run_id of %s" % url)
        t.eq(row["final_url"], url, "final_url of %s" % url)
        t.eq(row["attempts"], 1, "attempts of %s" % url)
        t.eq(row["depth"], 0, "depth of %s" % url)
        t.eq(row["parent_url"], None, "parent_url of %s" % url)
        t.eq(row["content_type"], "application/octet-stream",
             "content_type of %s" % url)
        t.eq(row["path"], t.tree_path(env.srv.port, p), "path of %s" % url)
        t.check_ok_row(env.out, row, t.pattern(size_of(i), str(i)))

    # Nothing but the 1,000 bodies in the output directory.
    t.eq(len(env.files()), N, "files in the output directory")
    t.eq(t.part_files(env.out), [], ".part files left")
    empty = env.out / t.tree_path(env.srv.port, paths[0])
    t.eq(empty.stat().st_size, 0, "size of the empty body's file")

    stats = env.srv.stats()
    for p in paths:
        t.eq(stats.get(p, 0), 1, "requests of %s" % p)
    t.eq(sum(stats.values()), N, "requests in all")


t.run()
