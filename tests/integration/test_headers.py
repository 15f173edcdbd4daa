#!/usr/bin/env python3
"""-H and -U reach the server."""

import pftest as t


def header_lines(f):
    return f.read_bytes().decode("latin-1").split("\r\n")


@t.case
def extra_headers(env):
    url = env.url("/_/echo-headers/1")
    r = env.pfetch("--progress", "none", "-H", "X-Test: 1",
                   "--header", "X-Other: two words", "-U", "agent/1", url)
    t.eq(r.rc, 0, "exit status")
    row = env.db().fetches()[0]
    lines = header_lines(t.check_row_path(env.out, row))
    for want in ("X-Test: 1", "X-Other: two words", "User-Agent: agent/1"):
        t.check(want in lines, "%r not among the request headers %r"
                % (want, lines))
    agents = [l for l in lines if l.lower().startswith("user-agent:")]
    t.eq(len(agents), 1, "User-Agent headers")


@t.case
def long_option_names(env):
    url = env.url("/_/echo-headers/2")
    r = env.pfetch("--progress", "none", "--user-agent", "agent/2", url)
    t.eq(r.rc, 0, "exit status")
    lines = header_lines(t.check_row_path(env.out, env.db().fetches()[0]))
    t.check("User-Agent: agent/2" in lines, "request headers %r" % lines)


t.run()
