#!/usr/bin/env python3
"""tests/demo.sh: serves fixtures/site, downloads every file of it with
pfetch, reports, every file saved byte-exact; then crawls fixtures/crawl
and reports that too."""

import os
import subprocess

import pftest as t

SITE = t.SRC / "fixtures" / "site"


def site_files():
    """{url path: bytes} of the example site, virtual files included."""
    want = {}
    for dirpath, _, names in os.walk(SITE):
        for n in names:
            f = os.path.join(dirpath, n)
            rel = os.path.relpath(f, SITE).replace(os.sep, "/")
            if rel != ".generated":
                want[rel] = open(f, "rb").read()
    for line in (SITE / ".generated").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, size = line.split()
            want[name] = t.pattern(int(size), name)
    return want


@t.case
def demo(env):
    out = env.tmp / "demo-out"
    p = subprocess.run(["sh", str(t.SRC / "tests" / "demo.sh"), str(out)],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=60, env=t.clean_env({"PFETCH": str(t.PFETCH)}))
    text = p.stdout.decode() + p.stderr.decode()
    t.check(p.returncode == 0, "demo.sh exited %d:\n%s"
            % (p.returncode, text))
    t.contains(text, "15 saved, 0 failed", "demo.sh report")
    lst = out / "list"
    hosts = [d for d in os.listdir(lst) if d.startswith("127.0.0.1:")]
    t.eq(len(hosts), 1, "host directories")
    host = lst / hosts[0]
    for rel, body in site_files().items():
        f = host / rel
        t.check(f.is_file(), "%s not saved" % rel)
        t.check(f.read_bytes() == body, "%s saved differs" % rel)
    rows = t.Log(lst / "pfetch.db").fetches()
    t.eq(len(rows), 15, "rows")
    for row in rows:
        t.eq(row["status"], 200, "status of " + row["url"])
    # The crawl: the whole site of host A and its requisites, one 404.
    t.contains(text, "pfetch -r -p", "demo.sh crawl")
    rows = t.Log(out / "crawl" / "pfetch.db").fetches()
    t.check(len(rows) > 250, "crawl rows: %d" % len(rows))
    t.eq(sorted(r["status"] for r in rows if r["status"] not in (0, 200)),
         [404], "crawl statuses other than 200 and robots.txt refusals")
    t.check(max(r["depth"] for r in rows) >= 3, "crawl depth")


t.run()
