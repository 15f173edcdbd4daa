#!/usr/bin/env python3
"""--max-filesize: bodies over the cap are refused, decoded size counts,
with or without Content-Length; nothing saved for them."""

import pftest as t


@t.case
def cap_10k(env):
    over = ["/_/bytes/100000/big",
            "/_/bytes/10241/just-over",
            "/_/gzip/100000?fill=zeros",
            "/_/gzip/20000/g",
            "/_/chunked/100000/ch"]
    under = {"/_/bytes/10240/cap": t.pattern(10240, "cap"),
             "/_/gzip/10240/gz": t.pattern(10240, "gz"),
             "/_/chunked/10000/ok": t.pattern(10000, "ok")}
    urls = [env.url(p) for p in over + list(under)]
    r = env.pfetch("--progress", "none", "--max-filesize", "10k", *urls)
    t.eq(r.rc, 1, "exit status")
    rows = env.db().by_url()
    t.eq(len(rows), len(urls), "rows")
    for p in over:
        row = rows[env.url(p)]
        t.check_failed_row(row)
        t.eq(row["attempts"], 1, "attempts of %s (not transient)" % p)
    saved = []
    for p, body in under.items():
        saved.append(t.check_ok_row(env.out, rows[env.url(p)], body))
    t.eq(sorted(env.files()),
         sorted(str(f.relative_to(env.out)) for f in saved),
         "files (no .part, nothing for refused bodies)")


@t.case
def suffixes(env):
    url = env.url("/_/bytes/100000/m")
    r = env.pfetch("--progress", "none", "--max-filesize", "1M", url)
    t.eq(r.rc, 0, "exit status with 1M")
    t.check_ok_row(env.out, env.db().fetches()[0], t.pattern(100000, "m"))
    url = env.url("/_/bytes/2048/k")
    r = env.pfetch("--progress", "none", "--max-filesize", "2k", url)
    t.eq(r.rc, 0, "exit status with 2k on 2048 bytes")
    url = env.url("/_/bytes/2049/k")
    r = env.pfetch("--progress", "none", "--max-filesize", "2k", url)
    t.eq(r.rc, 1, "exit status with 2k on 2049 bytes")


t.run()
