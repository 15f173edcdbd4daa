#!/usr/bin/env python3
"""Concurrency caps (-j overall, --per-host per host:port), the overall
--rate cap, and TLS certificate verification."""

import atexit
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pftest as t


def inflight(srv):
    """{"now": n, "max": m}: the most requests the server saw at once."""
    return json.loads(srv.get("/_/inflight"))


def slow_urls(srv, n, tag):
    # Each answer drips 10 bytes 60 ms apart: about 0.6 s in flight.
    return [srv.url("/_/slow/10/60?%s=%d" % (tag, i)) for i in range(n)]


@t.case
def jobs_cap(env):
    r = env.pfetch("--progress", "none", "-j", "3", *slow_urls(env.srv, 12,
                                                               "j"))
    t.eq(r.rc, 0, "exit status")
    t.eq(len(env.db().fetches()), 12, "rows")
    t.eq(inflight(env.srv)["max"], 3, "most requests at once with -j 3")


@t.case
def connections_reused(env):
    # Keep-alive: 200 URLs at -j 4 travel over about 4 connections, not
    # 200 (the client port of each request tells its connection).
    urls = [env.url("/_/bytes/100/k%d" % i) for i in range(200)]
    r = env.pfetch("--progress", "none", "-j", "4", *urls)
    t.eq(r.rc, 0, "exit status")
    ports = {q["port"] for q in env.srv.requests()}
    t.check(len(ports) <= 8, "200 requests used %d connections" % len(ports))


@t.case
def per_host_is_per_port(env):
    # Two ports of one machine are two hosts: each gets its own cap of 2,
    # and both are served at once within -j 8.
    with t.Server() as other:
        urls = slow_urls(env.srv, 6, "a") + slow_urls(other, 6, "b")
        r = env.pfetch("--progress", "none", "-j", "8", "--per-host", "2",
                       *urls)
        t.eq(r.rc, 0, "exit status")
        t.eq(len(env.db().fetches()), 12, "rows")
        t.eq(inflight(env.srv)["max"], 2, "most at once on the first port")
        t.eq(inflight(other)["max"], 2, "most at once on the second port")


@t.case
def rate_cap(env):
    # 300,000 bytes at 100 KiB/s overall cannot take less than about 2.9 s
    # (a 16 KiB burst allowance aside): the row's elapsed time says so.
    url = env.url("/_/bytes/300000/rated")
    r = env.pfetch("--progress", "none", "--rate", "100k", url)
    t.eq(r.rc, 0, "exit status")
    row = env.db().fetches()[0]
    t.check(row["elapsed_ms"] >= 2000,
            "300000 bytes at --rate 100k took only %d ms" % row["elapsed_ms"])
    data = t.check_row_path(env.out, row).read_bytes()
    t.eq(data, t.pattern(300000, "rated"), "body")


def make_cert():
    if shutil.which("openssl") is None:
        return None
    d = Path(tempfile.mkdtemp(prefix="pftest-tls-"))
    atexit.register(shutil.rmtree, d, True)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"),
         "-days", "1", "-subj", "/CN=127.0.0.1"],
        check=True, stdin=subprocess.DEVNULL, capture_output=True)
    return d


@t.case
def tls_verified(env):
    d = make_cert()
    if d is None:
        print("skip tls_verified: openssl is not installed")
        return
    with t.Server(["--tls", d / "cert.pem", d / "key.pem"]) as tls:
        url = "https://127.0.0.1:%d/_/bytes/10/secret" % tls.port
        r = env.pfetch("--progress", "none", "--retries", "0", url)
        t.eq(r.rc, 1, "exit status for a self-signed certificate")
        row = env.db().fetches()[0]
        t.icontains(row["error"], "certificate", "error")
        t.eq(row["path"], None, "path of a refused transfer")
        t.eq(t.files(env.out), [], "files saved")


t.run()
