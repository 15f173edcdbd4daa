#!/usr/bin/env python3
"""TLS trust and proxies.  A server whose certificate a private CA made
by the test signed is refused by default with a certificate error, and
fetched with --cacert; a self-signed one likewise, or with --insecure,
which warns once per run.  A forward proxy counting what it relays
(tests/proxy.py) carries plain requests and CONNECT tunnels with
--proxy, and with http_proxy/https_proxy from the environment; --proxy
'' and no_proxy bypass it.  The same proxy speaking SOCKS5 gets the
names of socks5h:// requests unresolved."""

import pftest as t


def tls_server(env, cert, key):
    return t.Server(["--tls", cert, key])


def https(srv, path):
    return "https://127.0.0.1:%d%s" % (srv.port, path)


@t.case
def private_ca(env):
    c = t.make_ca(env.tmp / "pki")
    with tls_server(env, c["cert"], c["key"]) as srv:
        url = https(srv, "/_/bytes/100/ca")
        r = env.pfetch("-q", "--retries", "0", url)
        t.eq(r.rc, 1, "exit status without --cacert")
        row = env.db().fetches()[0]
        t.icontains(row["error"], "certificate", "error")
        t.eq(row["attempts"], 1, "attempts of a verification failure")
        t.eq(t.files(env.out), [], "files saved")
        r = env.pfetch("-q", "--cacert", c["ca"], url)
        t.eq(r.rc, 0, "exit status with --cacert")
        row = env.db().fetches()[-1]
        t.check_ok_row(env.out, row, t.pattern(100, "ca"))
        # localhost is in the certificate too.
        r = env.pfetch("-q", "--cacert", c["ca"],
                       url.replace("127.0.0.1", "localhost"))
        t.eq(r.rc, 0, "exit status for localhost")


@t.case
def self_signed(env):
    c = t.make_ca(env.tmp / "pki")
    with tls_server(env, c["self"], c["self_key"]) as srv:
        urls = [https(srv, "/_/bytes/10/s%d" % i) for i in range(3)]
        r = env.pfetch("-q", "--retries", "0", *urls)
        t.eq(r.rc, 1, "exit status by default")
        for row in env.db().fetches():
            t.icontains(row["error"], "certificate", "error")
        r = env.pfetch("-q", "--cacert", c["self"], *urls)
        t.eq(r.rc, 0, "exit status with --cacert of the certificate")
        r = env.pfetch("--progress", "none", "--insecure", *urls)
        t.eq(r.rc, 0, "exit status with --insecure")
        warned = [l for l in r.stderr.splitlines() if "not verified" in l]
        t.eq(len(warned), 1, "warnings of --insecure in:\n%s" % r.stderr)
        rows = env.db().fetches()[-3:]
        for i, row in enumerate(rows):
            t.eq(row["error"], None, "error of %s" % row["url"])
        r = env.pfetch("-q", "--cacert", env.tmp / "missing.pem", urls[0])
        t.eq(r.rc, 2, "exit status for a missing --cacert file")
        t.contains(r.stderr, "missing.pem", "message")


def proxy_stats(proxy):
    return t.json.loads(proxy.get("/_proxy/stats"))


@t.case
def proxy_plain_and_connect(env):
    c = t.make_ca(env.tmp / "pki")
    with t.Server(script="proxy.py") as proxy, \
            tls_server(env, c["cert"], c["key"]) as tls:
        purl = "http://127.0.0.1:%d" % proxy.port
        plain = [env.url("/_/bytes/20/p%d" % i) for i in range(3)]
        secure = [https(tls, "/_/bytes/20/t%d" % i) for i in range(2)]
        r = env.pfetch("-q", "--proxy", purl, "--cacert", c["ca"],
                       *(plain + secure))
        t.eq(r.rc, 0, "exit status through the proxy")
        st = proxy_stats(proxy)
        t.eq(sorted(st["requests"]), sorted(plain), "plain requests relayed")
        t.check(len(st["connects"]) >= 1 and
                set(st["connects"]) == {"127.0.0.1:%d" % tls.port},
                "CONNECT tunnels: %r" % st["connects"])
        rows = env.db().by_url()
        for i in range(3):
            t.check_ok_row(env.out, rows[plain[i]],
                           t.pattern(20, "p%d" % i))
        for i in range(2):
            t.check_ok_row(env.out, rows[secure[i]],
                           t.pattern(20, "t%d" % i))
        # --proxy '' goes direct, whatever the environment says.
        before = proxy_stats(proxy)
        proxy_env = {"http_proxy": purl, "https_proxy": purl,
                     "NO_PROXY": "", "no_proxy": ""}
        r = env.pfetch("-q", "--proxy", "", env.url("/_/bytes/20/direct"),
                       env=proxy_env)
        t.eq(r.rc, 0, "exit status with --proxy ''")
        t.eq(proxy_stats(proxy), before, "the proxy saw nothing")
        t.eq(env.srv.count("/_/bytes/20/direct"), 1, "the server's count")


@t.case
def proxy_from_environment(env):
    c = t.make_ca(env.tmp / "pki")
    with t.Server(script="proxy.py") as proxy, \
            tls_server(env, c["cert"], c["key"]) as tls:
        purl = "http://127.0.0.1:%d" % proxy.port
        proxy_env = {"http_proxy": purl, "https_proxy": purl,
                     "NO_PROXY": "", "no_proxy": ""}
        plain = env.url("/_/bytes/20/env")
        secure = https(tls, "/_/bytes/20/envs")
        r = env.pfetch("-q", "--cacert", c["ca"], plain, secure,
                       env=proxy_env)
        t.eq(r.rc, 0, "exit status")
        st = proxy_stats(proxy)
        t.eq(st["requests"], [plain], "plain requests relayed")
        t.eq(st["connects"], ["127.0.0.1:%d" % tls.port], "tunnels")
        # no_proxy names hosts that go direct.
        proxy_env["no_proxy"] = "127.0.0.1"
        r = env.pfetch("-q", env.url("/_/bytes/20/bypass"), env=proxy_env)
        t.eq(r.rc, 0, "exit status with no_proxy")
        t.eq(proxy_stats(proxy)["requests"], [plain], "relayed with no_proxy")
        # --proxy sends everything through it, no_proxy or not.
        r = env.pfetch("-q", "--proxy", purl, env.url("/_/bytes/20/forced"),
                       env=proxy_env)
        t.eq(r.rc, 0, "exit status with --proxy and no_proxy")
        t.eq(proxy_stats(proxy)["requests"],
             [plain, env.url("/_/bytes/20/forced")], "relayed with --proxy")


@t.case
def proxy_socks5h(env):
    c = t.make_ca(env.tmp / "pki")
    with t.Server(script="proxy.py") as proxy, \
            tls_server(env, c["cert"], c["key"]) as tls:
        plain = "http://localhost:%d/_/bytes/20/socks" % env.srv.port
        secure = "https://localhost:%d/_/bytes/20/socks-tls" % tls.port
        r = env.pfetch("-q", "--proxy", "socks5h://127.0.0.1:%d" % proxy.port,
                       "--cacert", c["ca"], plain, secure)
        t.eq(r.rc, 0, "exit status through SOCKS5")
        # socks5h: the names went to the proxy, unresolved.
        t.eq(sorted(proxy_stats(proxy)["socks"]),
             sorted(["localhost:%d" % env.srv.port,
                     "localhost:%d" % tls.port]), "SOCKS connections")
        rows = env.db().by_url()
        t.check_ok_row(env.out, rows[plain], t.pattern(20, "socks"))
        t.check_ok_row(env.out, rows[secure], t.pattern(20, "socks-tls"))


@t.case
def https_proxy(env):
    c = t.make_ca(env.tmp / "pki")
    with t.Server(["--tls", c["cert"], c["key"]], script="proxy.py") as proxy:
        url = env.url("/_/bytes/20/via-tls")
        purl = "https://127.0.0.1:%d" % proxy.port
        r = env.pfetch("-q", "--retries", "0", "--proxy", purl, url)
        t.eq(r.rc, 1, "exit status when the proxy's certificate is unknown")
        r = env.pfetch("-q", "--proxy", purl, "--cacert", c["ca"], url)
        t.eq(r.rc, 0, "exit status with --cacert")
        t.eq(env.srv.count("/_/bytes/20/via-tls"), 1, "requests")
        t.eq(env.db().fetches()[-1]["error"], None, "error")


@t.case
def proxy_usage(env):
    r = env.pfetch("--proxy", "ftp://127.0.0.1:1", env.url("/_/bytes/1"))
    t.eq(r.rc, 2, "exit status for an ftp:// proxy")
    t.contains(r.stderr, "--proxy", "message")


t.run()
