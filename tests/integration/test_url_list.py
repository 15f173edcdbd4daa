#!/usr/bin/env python3
"""URL lists: comments, blank lines, CRLF, bad lines reported with
"<list>:<line>:" on stderr and skipped, duplicates fetched once; a list
on a pipe that stays open is fetched as its lines arrive."""

import signal
import subprocess
import time

import pftest as t


@t.case
def mixed_list(env):
    good = [env.url("/_/bytes/%d/list%d" % (10 * i, i)) for i in range(1, 5)]
    lines = [
        b"# a comment",                              # 1
        b"",                                         # 2
        good[0].encode() + b"\r",                    # 3  CRLF
        env.url("/x").replace("http", "ftp").encode(),  # 4  bad: ftp
        b"garbage",                                  # 5  bad
        b"    ",                                     # 6  blank
        b"  " + good[1].encode() + b" \t",           # 7  padded
        b"   # an indented comment",                 # 8
        b"http://",                                  # 9  bad: no host
        good[0].encode(),                            # 10 duplicate
        good[2].encode() + b"\r",                    # 11 CRLF
        b"\t",                                       # 12 blank
        b"mailto:someone@example.com",               # 13 bad
        b"file:///etc/passwd",                       # 14 bad: scheme
        good[3].encode(),                            # 15 no final newline
    ]
    (env.tmp / "urls.txt").write_bytes(b"\n".join(lines))
    r = env.pfetch("--progress", "none", "urls.txt")
    t.check(r.rc in (0, 1), "exit status %s" % r.rc)
    t.eq(r.stdout, "", "stdout")
    for n in (4, 5, 9, 13, 14):
        t.contains(r.stderr, "urls.txt:%d:" % n, "stderr (bad line %d)" % n)
    for n in (1, 2, 3, 6, 7, 8, 10, 11, 12, 15):
        t.check("urls.txt:%d:" % n not in r.stderr,
                "line %d reported as bad:\n%s" % (n, r.stderr))

    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(good), "URLs with a row")
    for i, url in enumerate(good, 1):
        t.check_ok_row(env.out, rows[url], t.pattern(10 * i, "list%d" % i))
    t.eq(len(env.files()), 4, "files saved")
    stats = env.srv.stats()
    t.eq(stats.get("/_/bytes/10/list1"), 1, "requests of the duplicate")
    t.eq(sum(stats.values()), 4, "requests in all")


@t.case
def standard_input(env):
    good = env.url("/_/bytes/33/stdin")
    data = ("# from stdin\n%s\nnot a url\n" % good).encode()
    r = env.pfetch("--progress", "none", "-", input=data)
    t.check(r.rc in (0, 1), "exit status %s" % r.rc)
    t.contains(r.stderr, ":3:", "stderr (bad line 3 of stdin)")
    rows = env.db().by_url()
    t.eq(list(rows), [good], "URLs with a row")
    t.check_ok_row(env.out, rows[good], t.pattern(33, "stdin"))


@t.case
def duplicate_operands(env):
    url = env.url("/_/bytes/50/dup")
    lst = env.write_list("urls.txt", [url, url])
    r = env.pfetch("--progress", "none", url, lst, url)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().fetches()
    t.eq(len(rows), 1, "rows")
    t.check_ok_row(env.out, rows[0], t.pattern(50, "dup"))
    t.eq(env.srv.count("/_/bytes/50/dup"), 1, "requests")


@t.case
def normalised_duplicates(env):
    url = env.url("/_/bytes/70/norm")
    variants = [url,
                url.replace("http://", "HTTP://"),
                url.replace("/norm", "/./norm"),
                url.replace("/_/bytes", "/_/x/../bytes"),
                url + "#fragment"]
    r = env.pfetch("--progress", "none", *variants)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().fetches()
    t.eq(len(rows), 1, "rows")
    t.eq(rows[0]["url"], url, "normalised url")
    t.check_ok_row(env.out, rows[0], t.pattern(70, "norm"))
    t.eq(env.srv.total(), 1, "requests")



@t.case
def hostile_list(env):
    # Binary junk, NUL bytes, invalid UTF-8, a 1 MiB line, an IDN host,
    # an IPv6 literal, between good lines: the bad lines are reported by
    # number and skipped, the rest fetched, every accepted URL one row.
    port = env.srv.port
    base = "http://127.0.0.1:%d" % port
    good = [base + "/_/bytes/11/h1", base + "/_/bytes/12/h2",
            base + "/_/bytes/13/h3"]
    idn = "http://b\u00fccher.localhost:%d/_/echo-headers/idn" % port
    idn_ascii = "http://xn--bcher-kva.localhost:%d/_/echo-headers/idn" % port
    v6 = "http://[::1]:%d/_/bytes/5/v6" % port
    lines = [
        good[0].encode(),                                # 1
        bytes(c for c in range(1, 32) if c != 10) + b"\x7f\xff",  # 2 junk
        base.encode() + b"/_/bytes/9/n\x00ul",           # 3  bad: NUL
        b"\x00" * 10,                                    # 4  bad: NUL
        base.encode() + b"/_/bytes/10/\xff\xfe",         # 5  raw bytes
        base.encode() + b"/" + b"a" * (1 << 20),         # 6  bad: 1 MiB
        good[1].encode(),                                # 7
        idn.encode(),                                    # 8  IDN host
        b"http://b\xfccher.localhost/",                  # 9  bad: Latin-1
        v6.encode(),                                     # 10 IPv6 literal
        b"\xef\xbb\xbf" + good[2].encode(),              # 11 bad: late BOM
        good[2].encode() + b"\r",                        # 12
    ]
    (env.tmp / "urls.txt").write_bytes(b"\n".join(lines) + b"\n")
    r = env.pfetch("--progress", "none", "--retries", "0", "urls.txt")
    t.eq(r.rc, 1, "exit status (the IPv6 URL finds no server)")
    for n in (2, 3, 4, 6, 9, 11):
        t.contains(r.stderr, "urls.txt:%d:" % n, "stderr (bad line %d)" % n)
    for n in (1, 5, 7, 8, 10, 12):
        t.check("urls.txt:%d:" % n not in r.stderr,
                "line %d reported as bad:\n%s" % (n, r.stderr))
    t.check(len(r.stderr) < 10000, "stderr echoes the 1 MiB line")

    raw = base + "/_/bytes/10/%FF%FE"
    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(good + [raw, idn_ascii, v6]), "URLs with a row")
    for i, url in enumerate(good, 1):
        t.check_ok_row(env.out, rows[url], t.pattern(10 + i, "h%d" % i))
    t.check_ok_row(env.out, rows[raw], t.pattern(10, "%FF%FE"))
    t.eq(rows[idn_ascii]["error"], None, "error of the IDN URL")
    sent = (env.out / rows[idn_ascii]["path"]).read_bytes().decode()
    t.contains(sent, "Host: xn--bcher-kva.localhost:%d\r\n" % port,
               "the Host header sent for the IDN URL")
    t.check(rows[v6]["error"], "the IPv6 URL has no error")
    t.eq(len(env.db().fetches()), 6, "rows")


def _start_on_pipe(env):
    argv = [str(t.PFETCH), "--progress", "none", "-", "-o", str(env.out)]
    return subprocess.Popen(argv, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, cwd=env.tmp,
                            env=t.clean_env())


@t.case
def open_pipe(env):
    # A producer that writes a line, then waits: the line is fetched while
    # the pipe is still open, and a line written in two pieces is one URL.
    urls = [env.url("/_/bytes/%d/pipe%d" % (20 + i, i)) for i in range(3)]
    p = _start_on_pipe(env)
    try:
        p.stdin.write(urls[0].encode() + b"\n")
        p.stdin.flush()
        t.wait_for(lambda: env.srv.count("/_/bytes/20/pipe0") == 1, 10,
                   "the first line fetched while the pipe is open")
        half = len(urls[1]) // 2
        p.stdin.write(urls[1][:half].encode())
        p.stdin.flush()
        time.sleep(0.2)  # lets pfetch read the half line
        t.check(p.poll() is None, "pfetch exited before the pipe closed")
        p.stdin.write(urls[1][half:].encode() + b"\n" + urls[2].encode())
        p.stdin.close()
        rc = p.wait(20)
        err = p.stderr.read().decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    t.eq(rc, 0, "exit status (stderr: %s)" % err)
    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(urls), "URLs with a row")
    for i, url in enumerate(urls):
        t.check_ok_row(env.out, rows[url], t.pattern(20 + i, "pipe%d" % i))
    t.eq(env.srv.total(), 3, "requests in all")


@t.case
def interrupt_on_open_pipe(env):
    # Ctrl-C while pfetch waits for more lines: it stops at once, with the
    # rows of what it read and a finished run.
    url = env.url("/_/bytes/40/waiting")
    p = _start_on_pipe(env)
    try:
        p.stdin.write(url.encode() + b"\n")
        p.stdin.flush()
        t.wait_for(lambda: env.srv.count("/_/bytes/40/waiting") == 1, 10,
                   "the first line fetched")
        time.sleep(0.3)  # its row is committed
        p.send_signal(signal.SIGINT)
        rc = p.wait(5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stdin.close()
    t.eq(rc, 130, "exit status")
    log = env.db()
    t.eq([r["url"] for r in log.fetches()], [url], "rows")
    t.check(log.runs()[-1]["finished_at"], "the run is marked finished")
    t.eq(log.integrity(), "ok", "integrity_check")


t.run()
