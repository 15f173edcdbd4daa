#!/usr/bin/env python3
"""HTTP/2 by ALPN, multiplexed.  nginx with TLS (a private CA made by
the test) and http2 on a free loopback port logs the connection number
and protocol of each request: every file of a run comes over one
connection, as HTTP/2.0; with --http1.1, as HTTP/1.1.  -j and
--per-host still count transfers, and the progress lines and summary
account for every file.  Plain http:// stays HTTP/1.1."""

import json

import pftest as t

N = 60


def site(env):
    www = env.tmp / "www"
    www.mkdir()
    for i in range(N):
        (www / ("f%02d" % i)).write_bytes(t.pattern(3000 + i, "h2-%d" % i))
    return www


def nginx(env, upstream=None):
    c = t.make_ca(env.tmp / "pki")
    # nginx's workers may run as another user: let them read the files.
    for p in (env.tmp, env.tmp / "www", env.tmp / "pki"):
        p.chmod(0o755)
    for f in (c["cert"], c["key"]):
        f.chmod(0o644)
    return c, t.Nginx(env.tmp / "nginx", env.tmp / "www", c["cert"], c["key"],
                      upstream)


def check_files(env, base):
    rows = env.db().by_url()
    for i in range(N):
        url = "%s/f%02d" % (base, i)
        t.check_ok_row(env.out, rows[url], t.pattern(3000 + i, "h2-%d" % i))


@t.case
def one_connection_multiplexed(env):
    site(env)
    c, ng = nginx(env)
    with ng:
        lst = env.write_list("urls.txt", ["%s/f%02d" % (ng.base, i)
                                          for i in range(N)])
        r = env.pfetch("--progress", "lines", "-j", "16", "--cacert",
                       c["ca"], lst)
        t.eq(r.rc, 0, "exit status")
        check_files(env, ng.base)
        log = t.wait_for(lambda: len(ng.log()) >= N and ng.log(), 10,
                         "nginx's log")
        t.eq(len(log), N, "requests nginx answered")
        t.eq({l[1] for l in log}, {"HTTP/2.0"}, "protocols")
        t.eq(len({l[0] for l in log}), 1, "connections used")
        done = [l for l in r.stderr.splitlines() if l.startswith("200 ")]
        t.eq(len(done), N, "progress lines of finished files")


@t.case
def http1_1_and_per_host(env):
    site(env)
    c, ng = nginx(env)
    with ng:
        lst = env.write_list("urls.txt", ["%s/f%02d" % (ng.base, i)
                                          for i in range(N)])
        r = env.pfetch("-q", "--http1.1", "-j", "8", "--cacert", c["ca"],
                       lst)
        t.eq(r.rc, 0, "exit status with --http1.1")
        check_files(env, ng.base)
        log = t.wait_for(lambda: len(ng.log()) >= N and ng.log(), 10,
                         "nginx's log")
        t.eq({l[1] for l in log}, {"HTTP/1.1"}, "protocols with --http1.1")
        t.check(len({l[0] for l in log}) <= 8,
                "connections with -j 8: %d" % len({l[0] for l in log}))
        # --per-host 2 over HTTP/2: still every file, one connection.
        before = len(log)
        out2 = env.tmp / "out2"
        r = env.pfetch("-q", "--per-host", "2", "--cacert", c["ca"], lst,
                       "-o", out2, out=False)
        t.eq(r.rc, 0, "exit status with --per-host 2")
        log = t.wait_for(lambda: len(ng.log()) >= before + N and ng.log(),
                         10, "nginx's log")[before:]
        t.eq({l[1] for l in log}, {"HTTP/2.0"}, "protocols")
        t.eq(len({l[0] for l in log}), 1, "connections with --per-host 2")
        t.eq(len(t.files(out2)), N, "files with --per-host 2")


@t.case
def streams_counted_as_transfers(env):
    # nginx passes each HTTP/2 stream to the test server on a connection
    # of its own, so the server sees how many streams were open at once:
    # never more than -j, nor than --per-host, and each at most once.
    site(env)
    c, ng = nginx(env, upstream=env.srv.port)
    with ng:
        # The server's peak only grows: the lower cap first.
        for opts, cap in ((("-j", "16", "--per-host", "2"), 2),
                          (("-j", "3"), 3)):
            urls = ["%s/_/bytes/2000/s%d%d?delay=200" % (ng.base, cap, i)
                    for i in range(12)]
            lst = env.write_list("streams.txt", urls)
            out = env.tmp / ("out-%d" % cap)
            r = env.pfetch("-q", "--cacert", c["ca"], *opts, lst, "-o", out,
                           out=False)
            t.eq(r.rc, 0, "exit status with %s" % " ".join(opts))
            t.eq(len(t.files(out)), 12, "files")
            peak = json.loads(env.srv.get("/_/inflight"))
            t.check(1 < peak["max"] <= cap,
                    "streams at once with %s: %d" % (" ".join(opts),
                                                      peak["max"]))
        log = ng.log()
        t.eq({l[1] for l in log}, {"HTTP/2.0"}, "protocols")
        t.eq(len({l[0] for l in log}), 2, "connections (one per run)")


@t.case
def plain_http_stays_1_1(env):
    r = env.pfetch("-q", env.url("/_/echo-headers/h1"))
    t.eq(r.rc, 0, "exit status")
    seen = (env.out / t.tree_path(env.srv.port, "/_/echo-headers/h1"))
    text = seen.read_text()
    t.check("Upgrade" not in text and "HTTP2-Settings" not in text,
            "an upgrade to h2c was asked:\n%s" % text)


t.run()
