#!/usr/bin/env python3
"""On a terminal pfetch draws a one-line bar redrawn in place, then the
summary; through a pipe it draws no bar unless asked.  The bar fits the
terminal (40 columns too), errors scroll above it, its total says "+"
while it may still grow (a list being read, a crawl), and it shows an ETA
only when it can tell one: never 0:00:00 while a large file ends."""

import atexit
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import tempfile
import termios
import time
from pathlib import Path

import pftest as t

FRAME = re.compile(r"\r([^\r\n\x1b]+)\x1b\[K")


def run_on_tty(argv, timeout=30, cols=80, rc=0):
    """Run argv with stderr on a pseudo-terminal of cols columns; return
    what it printed, the bar's frames as (arrival time, text) and the
    time it ended."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=slave, env=t.clean_env())
    os.close(slave)
    out, frames, seen = "", [], 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the other side is closed
                    break
                if not chunk:
                    break
                out += chunk.decode("utf-8", "replace")
                now = time.monotonic()
                for m in FRAME.finditer(out, seen):
                    frames.append((now, m.group(1)))
                    seen = m.end()
    finally:
        os.close(master)
    t.eq(p.wait(timeout=timeout), rc, "exit status")
    return out, frames, time.monotonic()


def eta_of(frame):
    m = re.search(r"ETA (\d+):(\d\d):(\d\d)", frame)
    return None if m is None else (int(m.group(1)) * 3600 +
                                   int(m.group(2)) * 60 + int(m.group(3)))


@t.case
def bar_on_a_terminal(env):
    urls = [env.url("/_/slow/10/60?bar=%d" % i) for i in range(6)]
    text, frames, _ = run_on_tty([str(t.PFETCH), "-j", "2", "-o",
                                  str(env.out)] + urls)
    t.contains(text, "\r", "bar redrawn in place")
    t.contains(text, "/6 files]", "files done/accepted in the bar")
    t.contains(text, "\x1b[K", "line cleared on redraw")
    t.contains(text, "6 fetched, 0 failed", "summary")
    t.check(not any("+" in f for _, f in frames),
            "a total given on the command line is known: %r" % frames)


@t.case
def narrow_terminal(env):
    """40 columns: every frame fits in 39, and a failure's line is
    printed on a cleared line, above the bar, not glued to it."""
    urls = [env.url("/_/slow/10/60?narrow=%d" % i) for i in range(6)]
    bad = env.url("/_/status/404/narrow")
    text, frames, _ = run_on_tty([str(t.PFETCH), "-j", "2", "-o",
                                  str(env.out)] + urls + [bad], cols=40, rc=1)
    t.check(frames, "no bar drawn: %r" % text)
    long = [f for _, f in frames if len(f) > 39]
    t.eq(long, [], "frames wider than 39 columns")
    t.check(any(f.startswith("[") and "/7" in f for _, f in frames),
            "no count of files in %r" % frames)
    t.check(re.search(r"\r\x1b\[Kpfetch: %s: " % re.escape(bad), text)
            or text.startswith("pfetch: " + bad),
            "the failure is not on a line of its own: %r" % text)
    t.contains(text, "6 fetched, 1 failed", "summary")


@t.case
def growing_list(env):
    """While a list is still being read (the library reads 1024 URLs
    ahead), the total is shown as not known yet ("N/M+") and there is no
    ETA; once it is read to its end, the total is plain."""
    urls = ([env.url("/_/slow/2/100/list-%d" % i) for i in range(100)] +
            [env.url("/_/bytes/1/list-%d" % i) for i in range(100, 1100)])
    lst = env.write_list("urls.txt", urls)
    _, frames, _ = run_on_tty([str(t.PFETCH), "-j", "8", "-o",
                               str(env.out), str(lst)], timeout=60)
    t.check(frames, "no bar drawn")
    opened = [f for _, f in frames if "/1100 files]" not in f]
    t.check(any("+ files]" in f for f in opened),
            "no frame shows the total as not known yet: %r" % opened[-3:])
    t.eq([f for f in opened if "+ files]" not in f], [],
         "frames with a total not yet known but no '+'")
    t.eq([f for f in opened if "ETA" in f], [],
         "frames with an ETA while the list was read")
    t.check(any("/1100 files]" in f for _, f in frames),
            "the total is not shown as known once the list is read: %r"
            % frames[-3:])


_site = tempfile.TemporaryDirectory(prefix="pftest-progress-site-")
atexit.register(_site.cleanup)
(Path(_site.name) / "index.html").write_text(
    "<html><body>%s</body></html>\n" % "".join(
        '<a href="/_/slow/10/60/crawl-%d">%d</a>' % (i, i) for i in range(8)))


@t.case(root=_site.name)
def crawl_total_open(env):
    """A crawl's total grows with every page parsed: "+" and no ETA."""
    _, frames, _ = run_on_tty([str(t.PFETCH), "-r", "-j", "2", "-o",
                               str(env.out), env.url("/index.html")])
    t.check(frames, "no bar drawn")
    t.eq([f for _, f in frames if "+ files]" not in f and "+]" not in f],
         [], "frames of a crawl without '+'")
    t.eq([f for _, f in frames if "ETA" in f], [], "frames with an ETA")


@t.case
def last_large_file(env):
    """Four small files, then one of 40 kB at 10 kB/s with its size
    announced: while it runs, the ETA is absent or close to the time it
    really has left, and never 0:00:00 with seconds to go."""
    urls = [env.url("/_/bytes/100/small-%d" % i) for i in range(4)]
    big = env.url("/_/slow/40000/100/big?chunk=1000")
    _, frames, end = run_on_tty([str(t.PFETCH), "-j", "5", "-o",
                                 str(env.out), big] + urls)
    running = [(at, f) for at, f in frames if f.startswith("[4/5 files]")]
    t.check(running, "no bar while the large file ran: %r" % frames)
    for at, f in running:
        eta, left = eta_of(f), end - at
        if eta is None:
            continue
        t.check(not (eta == 0 and left > 1.5),
                "%r with %.1f s left" % (f, left))
        t.check(abs(eta - left) <= max(2.0, left / 2),
                "%r with %.1f s left" % (f, left))


@t.case
def no_bar_through_a_pipe(env):
    r = env.pfetch(env.url("/_/bytes/10/pipe"))
    t.eq(r.rc, 0, "exit status")
    t.check("\r" not in r.stderr, "no bar when stderr is not a terminal: %r"
            % r.stderr)
    t.contains(r.stderr, "1 fetched, 0 failed", "summary")


t.run()
