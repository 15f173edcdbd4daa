#!/usr/bin/env python3
"""Bodies saved as decoded: gzip Content-Encoding, chunked transfers,
empty bodies."""

import pftest as t


@t.case
def gzip_and_chunked(env):
    cases = {
        "/_/gzip/5000/g": t.pattern(5000, "g"),
        "/_/gzip/100000?fill=zeros": bytes(100000),
        "/_/gzip/0/empty": b"",
        "/_/chunked/30000/c": t.pattern(30000, "c"),
        "/_/chunked/5000/one?chunk=1": t.pattern(5000, "one"),
        "/_/chunked/0/empty": b"",
        "/_/bytes/0/empty": b"",
    }
    urls = {env.url(p): body for p, body in cases.items()}
    r = env.pfetch("--progress", "none", *urls)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().by_url()
    t.eq(len(rows), len(urls), "rows")
    for url, body in urls.items():
        t.check_ok_row(env.out, rows[url], body)


t.run()
