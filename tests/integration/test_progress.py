#!/usr/bin/env python3
"""On a terminal pfetch draws a one-line bar redrawn in place, then the
summary; through a pipe it draws no bar unless asked."""

import os
import pty
import subprocess
import time

import pftest as t


def run_on_tty(argv, timeout=30):
    """Run argv with stderr on a pseudo-terminal; return what it printed."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=slave,
                         env=t.clean_env())
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    t.eq(p.wait(timeout=timeout), 0, "exit status")
    return out.decode("utf-8", "replace")


@t.case
def bar_on_a_terminal(env):
    urls = [env.url("/_/slow/10/60?bar=%d" % i) for i in range(6)]
    text = run_on_tty([str(t.PFETCH), "-j", "2", "-o", str(env.out)] + urls)
    t.contains(text, "\r", "bar redrawn in place")
    t.contains(text, "/6 files]", "files done/accepted in the bar")
    t.contains(text, "\x1b[K", "line cleared on redraw")
    t.contains(text, "6 fetched, 0 failed", "summary")


@t.case
def no_bar_through_a_pipe(env):
    r = env.pfetch(env.url("/_/bytes/10/pipe"))
    t.eq(r.rc, 0, "exit status")
    t.check("\r" not in r.stderr, "no bar when stderr is not a terminal: %r"
            % r.stderr)
    t.contains(r.stderr, "1 fetched, 0 failed", "summary")


t.run()
