#!/usr/bin/env python3
"""pfetch's HTTP/1.1 test server: static files plus fault scenarios.

Usage:
    server.py [--root DIR] [--port N] [--fallback-bytes N] [--verbose]
              [--var NAME=VALUE]...

Binds 127.0.0.1 (port 0 unless --port), prints "PORT <n>" as its first line
on stdout and serves until killed.  Python 3 standard library only.
Responses carry Content-Length (or chunked encoding where said) and
connections are kept alive (HTTP/1.1) unless a scenario closes them.
The server exits by itself when its parent process goes away.

Normal paths are files under --root (404 without one); with the query
"?gzip=1", a file is sent with Content-Encoding: gzip.  A file named
".generated" at the root lists virtual files, one "PATH SIZE" per line
(e.g. "downloads/data.bin 1048576"): each is served as SIZE pattern bytes
seeded with PATH, so large binaries need not be committed.  With
--fallback-bytes N, any other path that would be a 404 answers 200 with N
pattern bytes seeded with the raw request target instead.

With --var NAME=VALUE (repeatable), every "{{NAME}}" in a text file under
--root (.html, .htm, .css, .txt, .xml; a directory's index.html too) is
replaced by VALUE as the file is served, and Content-Length is that of
the substituted body.  Only the names given are replaced; any other
"{{...}}" is sent as it stands.  Fixture sites use this for what only the
test knows, such as the origins "http://127.0.0.1:PORT" of their hosts.

Pattern bytes: pattern(n, seed) below; 64 KiB block i is
shake_256(f"{seed}:{i}").digest(65536), the body is the first n bytes of
the blocks' concatenation.  Tests import this module to compute bodies.

Fault scenarios live under /_/; <seed> is the rest of the path as sent
(still percent-encoded), "" when absent.  Query options in [?...].

  /_/status/<code>[/<any>]        that status, body "<code> <reason>\\n"
  /_/redirect/<n>/<any>[?to=URL]  n chained 302s: .../<n-1>/<any> ...,
                                  the last to URL (default /_/bytes/16)
  /_/redirect-loop[/<any>]        302 to itself, forever
  /_/redirect-to?url=URL[&code=C] one redirect (302 or C) to URL, raw
  /_/bytes/<n>[/<seed>]           n pattern bytes [?type=CT&fill=zeros;
                                  ?seed=S: seeded with S instead;
                                  ?delay=MS: answered after MS ms]
  /_/slow/<n>/<ms>[/<seed>]       n pattern bytes, chunk by chunk with ms
                                  between chunks [?chunk=BYTES, default 1]
                                  (both honour "Range: bytes=A-[B]" with a
                                  206, or 416 past the end, unless
                                  ?norange=1)
  /_/versioned/<n>/<ms>/<key>     n pattern bytes seeded with "<key>:v<V>",
                                  [?chunk=BYTES, default 1000] with ms
                                  between chunks, ETag "<key>-v<V>" and a
                                  Last-Modified of version V (none with
                                  ?validators=none; only one with
                                  ?validators=etag or =date); Range
                                  honoured, and If-Range: a validator of
                                  another version gets the whole body
                                  (200); If-None-Match naming the ETag,
                                  or else If-Modified-Since not before the
                                  version's date, gets a 304
  /_/bump/<key>                   the next version V of <key> (V starts
                                  at 1)
  /_/hostile[/<seed>]             200, 16 pattern bytes, with an ETag, a
                                  Last-Modified and a Content-Type holding
                                  bytes 0x01, 0x7f and 0xff
  /_/stall[/<n>]                  headers (Content-Length 1000), n bytes
                                  (default 0), then nothing until the
                                  client goes away
  /_/hang                         reads the request, never answers
  /_/reset                        Content-Length 1000, 100 bytes, then RST
  /_/short                        Content-Length 1000, 500 bytes, then FIN
  /_/cut/<n>/<k>/<key>            n pattern bytes of key, with ETag and
                                  Last-Modified (none with
                                  ?validators=none); the first request of
                                  key gets k bytes, then FIN; later ones
                                  the body, honouring Range (and If-Range)
                                  [?badrange=1: a Range gets a 206 of the
                                  wrong piece, from byte 0; ?gzip=1: the
                                  body goes gzip-encoded, and a Range gets
                                  a 206 of the encoded bytes]
  /_/long[/<n>/<extra>[/<seed>]]  Content-Length n (default 1000), then
                                  n + extra (default 500) pattern bytes on
                                  a connection kept alive: the excess
                                  reaches the client as junk before the
                                  next response [?late=1: the excess only
                                  once the next request has come, so that
                                  a client reusing the connection reads it
                                  for sure]
  /_/gzip/<n>[/<seed>]            Content-Encoding: gzip of n pattern bytes
                                  [?fill=zeros: n zero bytes, tiny on wire]
  /_/chunked/<n>[/<seed>]         n pattern bytes, chunked [?chunk=4096]
  /_/flaky/<k>/<key>              503 for the first k requests of key,
                                  then 200 with pattern(64, key)
                                  [?status=C instead of 503]
  /_/retry-after/<secs>/<key>     first request of key: 503 with
                                  Retry-After: secs [?date=1: an HTTP-date],
                                  then 200 with pattern(64, key)
  /_/disposition?name=RAW         Content-Disposition: attachment;
                                  filename="RAW" (RAW unsanitised), body
                                  pattern(64, RAW) [?value=V: whole header
                                  value V instead; ?size=N]
  /_/header-big[/<bytes>]         a response header line X-Big of that
                                  many bytes (default 102400), body "ok\\n"
  /_/echo-headers[/<any>]         body: the request's header lines as
                                  "Name: value\\r\\n", text/plain
  /_/basic-auth/<b64>/<key>       401 unless Authorization is
                                  "Basic <b64>", else pattern(64, key)
                                  [?flaky=1: the first request of key
                                  gets a 503 whatever it sends; ?to=URL:
                                  once authorized, a 302 to URL]
  /_/digest-auth/<u>/<p>/<key>    401 with a Digest challenge (MD5,
                                  qop=auth) unless the request answers
                                  it with user u and password p, else
                                  pattern(64, key)
  /_/set-cookie/<name>/<value>    Set-Cookie: name=value; Path=/
                                  [?max_age=N: a persistent cookie]
  /_/stats                        JSON {request target: count} of every
                                  request so far except /_/stats and
                                  /_/requests themselves
  /_/inflight                     JSON {"now": n, "max": m}: requests being
                                  answered now, and the most at once so
                                  far (the concurrency a client used)
  /_/requests                     JSON list of {"t": monotonic seconds,
                                  "method", "path", "range"} in arrival
                                  order ("range": the Range header or null,
                                  "if_range": the If-Range header or null,
                                  "port": the client port, one per connection)

Adding a scenario: write a function taking (handler, args, query) and
decorate it with @scenario("name"); args are the path segments after the
name, query a dict of the last value of each query parameter.
"""

import argparse
import email.utils
import fcntl
import gzip
import hashlib
import http.server
import io
import json
import os
import re
import select
import signal
import ssl
import socket
import socketserver
import struct
import sys
import termios
import threading
import time
import urllib.parse

BLOCK = 65536
STOP = threading.Event()  # set when the server is going down


def pattern_chunks(n, seed=""):
    """Yield the n pattern bytes of seed in blocks of at most 64 KiB."""
    i = 0
    while n > 0:
        block = hashlib.shake_256(f"{seed}:{i}".encode()).digest(BLOCK)
        yield block[:n]
        n -= len(block[:n])
        i += 1


def pattern(n, seed=""):
    """The n deterministic bytes the server sends for seed."""
    return b"".join(pattern_chunks(n, seed))


def gzip_body(decoded):
    """What /_/gzip sends on the wire for a decoded body (deterministic)."""
    return gzip.compress(decoded, mtime=0)


# ---------------------------------------------------------------------------
# Shared state: request counts and the flaky counters.

class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}
        self.log = []
        self.keys = {}
        self.versions = {}
        self.inflight = 0
        self.max_inflight = 0

    def record(self, method, target, range_header, client_port=None,
               if_range=None):
        with self.lock:
            self.counts[target] = self.counts.get(target, 0) + 1
            self.log.append({"t": time.monotonic(), "method": method,
                             "path": target, "range": range_header,
                             "port": client_port, "if_range": if_range})

    def bump(self, key):
        """Count one request for key; returns how many came before."""
        with self.lock:
            seen = self.keys.get(key, 0)
            self.keys[key] = seen + 1
            return seen


STATE = State()
SCENARIOS = {}


def scenario(name):
    def register(fn):
        SCENARIOS[name] = fn
        return fn
    return register


def int_arg(args, i, default=None):
    try:
        return int(args[i])
    except (IndexError, ValueError):
        if default is None:
            raise BadRequest(f"segment {i + 1} must be an integer")
        return default


class BadRequest(Exception):
    pass


# ---------------------------------------------------------------------------
# The handler.

class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pfetch-test-server/1"
    # Headers and body go out in separate writes: with Nagle's algorithm
    # the body would wait for the client's delayed ACK, 40 ms a response.
    disable_nagle_algorithm = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, directory=self.server_root(), **kwargs)

    def server_root(self):
        return ROOT or os.devnull

    def version_string(self):
        return self.server_version

    # -- plumbing --------------------------------------------------------

    def log_message(self, fmt, *args):
        if VERBOSE:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def dispatch(self):
        path = self.path.partition("?")[0]
        if path in ("/_/stats", "/_/requests", "/_/inflight"):
            self.dispatch_counted()
            return
        with STATE.lock:
            STATE.inflight += 1
            STATE.max_inflight = max(STATE.max_inflight, STATE.inflight)
        try:
            self.dispatch_counted()
        finally:
            with STATE.lock:
                STATE.inflight -= 1

    def dispatch_counted(self):
        target = self.path
        path, _, qs = target.partition("?")
        if path not in ("/_/stats", "/_/requests", "/_/inflight"):
            STATE.record(self.command, target, self.headers.get("Range"),
                         self.client_address[1],
                         self.headers.get("If-Range"))
        query = {k: v[-1] for k, v in
                 urllib.parse.parse_qs(qs, keep_blank_values=True,
                                       encoding="latin-1").items()}
        if path.startswith("/_/"):
            parts = path[3:].split("/")
            fn = SCENARIOS.get(parts[0])
            if fn is None:
                self.reply(404, b"unknown scenario\n", ctype="text/plain")
                return
            try:
                fn(self, parts[1:], query)
            except BadRequest as e:
                self.reply(400, f"{e}\n".encode(), ctype="text/plain")
            except (ConnectionError, BrokenPipeError, OSError):
                self.close_connection = True
            return
        self.serve_normal(path, target)

    def serve_normal(self, path, target):
        rel = urllib.parse.unquote(path).lstrip("/")
        if rel in GENERATED:
            self.send_pattern(200, GENERATED[rel], rel)
            return
        if ROOT is not None:
            local = self.translate_path(path)
            if "gzip=1" in target.partition("?")[2].split("&") and \
                    os.path.isfile(local):
                with open(local, "rb") as f:
                    self.reply(200, gzip.compress(f.read(), mtime=0),
                               headers=[("Content-Encoding", "gzip")],
                               ctype=self.guess_type(local))
                return
            if os.path.exists(local):
                if VARS and self.send_substituted(path, local):
                    return
                f = self.send_head()
                if f:
                    try:
                        if self.command != "HEAD":
                            self.copyfile(f, self.wfile)
                    finally:
                        f.close()
                return
        if FALLBACK is not None:
            self.send_pattern(200, FALLBACK, target)
            return
        self.reply(404, b"404 Not Found\n", ctype="text/plain")

    def send_substituted(self, path, local):
        """Serve a text file with the --var values put in; False (nothing
        sent) for anything else, which send_head() then serves as usual:
        other files, directory redirects and listings."""
        if os.path.isdir(local):
            if not path.endswith("/"):
                return False
            for index in ("index.html", "index.htm"):
                if os.path.isfile(os.path.join(local, index)):
                    local = os.path.join(local, index)
                    break
            else:
                return False
        if os.path.splitext(local)[1].lower() not in SUBST_EXTS:
            return False
        try:
            with open(local, "rb") as f:
                body = f.read()
        except OSError:
            return False
        body = SUBST_RE.sub(lambda m: VARS.get(m.group(1), m.group(0)), body)
        self.reply(200, body, ctype=self.guess_type(local))
        return True

    def begin(self, code, headers=(), length=None,
              ctype="application/octet-stream"):
        """Status line and headers; the body is the caller's."""
        self.send_response(code)
        if ctype:
            self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()

    def write(self, data):
        if self.command != "HEAD":
            self.wfile.write(data)

    def reply(self, code, body=b"", headers=(),
              ctype="application/octet-stream"):
        self.begin(code, headers, len(body), ctype)
        self.write(body)

    def send_pattern(self, code, n, seed, headers=(),
                     ctype="application/octet-stream"):
        self.begin(code, headers, n, ctype)
        for chunk in pattern_chunks(n, seed):
            self.write(chunk)

    def byte_range(self, n, query):
        """(start, end) of a satisfiable "Range: bytes=A-[B]" request for
        an n-byte body, None to send it whole; answers 416 itself and
        returns False when A is past the end."""
        value = self.headers.get("Range")
        if value is None or query.get("norange") == "1":
            return None
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", value.strip())
        if m is None:
            return None
        start = int(m.group(1))
        end = min(int(m.group(2)), n - 1) if m.group(2) else n - 1
        if start >= n or end < start:
            self.reply(416, b"", [("Content-Range", "bytes */%d" % n)])
            return False
        return start, end

    def if_range(self, n, query, validators):
        """byte_range(n, query), unless an If-Range names none of the
        resource's validators: then None, to send it whole."""
        cond = self.headers.get("If-Range")
        if cond is not None and cond not in validators:
            return None
        return self.byte_range(n, query)

    def send_ranged(self, n, seed, query, ctype="application/octet-stream"):
        """send_pattern, or its 206 part when a Range asks for one."""
        rng = self.byte_range(n, query)
        if rng is None:
            self.send_pattern(200, n, seed, ctype=ctype)
        elif rng:
            start, end = rng
            self.reply(206, pattern(end + 1, seed)[start:],
                       [("Content-Range", "bytes %d-%d/%d" % (start, end, n))],
                       ctype=ctype)

    def idle(self, seconds):
        """Wait up to seconds; returns False early if the client hung up
        (or the server is stopping), True after the full wait."""
        deadline = time.monotonic() + seconds
        while not STOP.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            readable, _, _ = select.select([self.connection], [], [],
                                           min(left, 0.2))
            if readable:
                try:
                    data = self.connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    return False
                if not data:
                    return False
                STOP.wait(min(left, 0.05))  # a pipelined request: keep on
        return False

    def drain_send_queue(self, limit=1.0):
        """Wait until the kernel has sent what we wrote (best effort)."""
        deadline = time.monotonic() + limit
        buf = bytearray(4)
        while time.monotonic() < deadline:
            try:
                fcntl.ioctl(self.connection.fileno(), termios.TIOCOUTQ, buf)
            except OSError:
                return
            if struct.unpack("i", buf)[0] == 0:
                return
            time.sleep(0.005)

    def abort_connection(self):
        """Close with SO_LINGER 0, so the peer gets a RST."""
        self.wfile.flush()
        self.drain_send_queue()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        self.close_connection = True
        self.rfile.close()
        self.wfile.close()
        self.connection.close()
        # The request loop still flushes and closes these afterwards.
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()


# ---------------------------------------------------------------------------
# Scenarios.

@scenario("status")
def sc_status(h, args, query):
    code = int_arg(args, 0)
    if not 100 <= code <= 999:
        raise BadRequest("status out of range")
    phrase = h.responses.get(code, ("Unknown",))[0]
    if code in (204, 304) or code < 200:
        h.begin(code, ctype=None)
        return
    h.reply(code, f"{code} {phrase}\n".encode(), ctype="text/plain")


def location(h, target):
    return [("Location", target)]


@scenario("redirect")
def sc_redirect(h, args, query):
    n = int_arg(args, 0)
    rest = "/".join(args[1:])
    if n <= 1:
        target = query.get("to", "/_/bytes/16")
    else:
        target = f"/_/redirect/{n - 1}/{rest}"
        if "to" in query:
            target += "?to=" + urllib.parse.quote(query["to"], safe="")
    h.reply(302, b"redirect\n", location(h, target), ctype="text/plain")


@scenario("redirect-loop")
def sc_redirect_loop(h, args, query):
    h.reply(302, b"loop\n", location(h, h.path), ctype="text/plain")


@scenario("redirect-to")
def sc_redirect_to(h, args, query):
    if "url" not in query:
        raise BadRequest("url= missing")
    code = int(query.get("code", "302"))
    h.reply(code, b"redirect\n", location(h, query["url"]),
            ctype="text/plain")


def fill(query, n, seed):
    if query.get("fill") == "zeros":
        return bytes(n)
    return pattern(n, seed)


@scenario("bytes")
def sc_bytes(h, args, query):
    n = int_arg(args, 0)
    seed = query.get("seed", "/".join(args[1:]))
    ctype = query.get("type", "application/octet-stream")
    if "delay" in query and not h.idle(int(query["delay"]) / 1000.0):
        h.close_connection = True
        return
    if query.get("fill") == "zeros":
        h.reply(200, bytes(n), ctype=ctype)
    else:
        h.send_ranged(n, seed, query, ctype=ctype)


@scenario("slow")
def sc_slow(h, args, query):
    n, ms = int_arg(args, 0), int_arg(args, 1)
    seed = "/".join(args[2:])
    step = max(1, int(query.get("chunk", "1")))
    body = pattern(n, seed)
    rng = h.byte_range(n, query)
    if rng is False:
        return
    if rng is None:
        h.begin(200, length=n)
    else:
        h.begin(206, [("Content-Range", "bytes %d-%d/%d" % (rng + (n,)))],
                length=rng[1] - rng[0] + 1)
        body = body[:rng[1] + 1]
    for i in range(rng[0] if rng else 0, len(body), step):
        h.write(body[i:i + step])
        h.wfile.flush()
        if i + step < len(body) and not h.idle(ms / 1000.0):
            h.close_connection = True
            return


def version_of(key):
    with STATE.lock:
        return STATE.versions.get(key, 1)


def not_modified(h, etag, mtime):
    """Does a conditional GET get a 304?  If-None-Match, when sent,
    decides alone (RFC 9110, 13.2.2); else If-Modified-Since."""
    inm = h.headers.get("If-None-Match")
    if inm is not None:
        return etag is not None and (
            inm.strip() == "*" or
            etag in [t.strip() for t in inm.split(",")])
    ims = h.headers.get("If-Modified-Since")
    if ims is None or mtime is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(ims).timestamp()
    except (TypeError, ValueError):
        return False
    return mtime <= when


@scenario("versioned")
def sc_versioned(h, args, query):
    """A resource that changes: /_/bump/<key> makes its next version."""
    n, ms = int_arg(args, 0), int_arg(args, 1)
    key = "/".join(args[2:])
    v = version_of(key)
    etag = '"%s-v%d"' % (key, v)
    modified = email.utils.formatdate(1700000000 + 86400 * v, usegmt=True)
    step = max(1, int(query.get("chunk", "1000")))
    body = pattern(n, "%s:v%d" % (key, v))
    which = query.get("validators", "both")
    validators = [(name, value) for name, value, kind in
                  (("ETag", etag, "etag"), ("Last-Modified", modified, "date"))
                  if which in ("both", kind)]
    if not_modified(h, etag if which in ("both", "etag") else None,
                    1700000000 + 86400 * v if which in ("both", "date")
                    else None):
        h.reply(304, b"", validators, ctype=None)
        return
    rng = h.if_range(n, query, (etag, modified))
    if rng is False:
        return
    if rng is None:
        h.begin(200, validators, length=n)
    else:
        h.begin(206, validators +
                [("Content-Range", "bytes %d-%d/%d" % (rng + (n,)))],
                length=rng[1] - rng[0] + 1)
        body = body[:rng[1] + 1]
    for i in range(rng[0] if rng else 0, len(body), step):
        h.write(body[i:i + step])
        h.wfile.flush()
        if i + step < len(body) and not h.idle(ms / 1000.0):
            h.close_connection = True
            return


@scenario("bump")
def sc_bump(h, args, query):
    key = "/".join(args)
    with STATE.lock:
        STATE.versions[key] = STATE.versions.get(key, 1) + 1
        v = STATE.versions[key]
    h.reply(200, b"v%d\n" % v, ctype="text/plain")


@scenario("hostile")
def sc_hostile(h, args, query):
    """Validators and a type no one should trust: control bytes, DEL
    and a byte that is not UTF-8 (sent as latin-1 bytes)."""
    seed = "/".join(args)
    h.send_pattern(200, 16, seed, [
        ("ETag", '"a\x01b\xffc"'),
        ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT\x7f\x01")],
        ctype="text/plain; x=\x01\xff")


@scenario("stall")
def sc_stall(h, args, query):
    n = int_arg(args, 0, 0)
    h.begin(200, length=1000)
    h.write(pattern(min(n, 1000)))
    h.wfile.flush()
    h.idle(3600)
    h.close_connection = True


@scenario("hang")
def sc_hang(h, args, query):
    h.idle(3600)
    h.close_connection = True


@scenario("reset")
def sc_reset(h, args, query):
    h.begin(200, length=1000)
    h.write(pattern(100))
    h.abort_connection()


@scenario("cut")
def sc_cut(h, args, query):
    n, k = int_arg(args, 0), int_arg(args, 1)
    key = "/".join(args[2:])
    first = STATE.bump("cut:" + key) == 0
    etag = '"%s"' % key
    modified = email.utils.formatdate(1700000000, usegmt=True)
    body = pattern(n, key)
    headers = [] if query.get("validators") == "none" else [
        ("ETag", etag), ("Last-Modified", modified)]
    if query.get("gzip") == "1":
        body = gzip_body(body)
        headers.append(("Content-Encoding", "gzip"))
    size = len(body)
    if first:
        h.begin(200, headers, length=size)
        h.write(body[:k])
        h.wfile.flush()
        h.close_connection = True
        return
    rng = h.if_range(size, query, (etag, modified))
    if rng is False:
        return
    if rng is None:
        h.reply(200, body, headers)
        return
    start, end = rng
    if query.get("badrange") == "1":
        start, end = 0, end - start
    h.reply(206, body[start:end + 1], headers + [
        ("Content-Range", "bytes %d-%d/%d" % (start, end, size))])


@scenario("short")
def sc_short(h, args, query):
    h.begin(200, length=1000)
    h.write(pattern(500))
    h.wfile.flush()
    h.close_connection = True


@scenario("long")
def sc_long(h, args, query):
    n, extra = int_arg(args, 0, 1000), int_arg(args, 1, 500)
    body = pattern(n + extra, "/".join(args[2:]))
    h.begin(200, length=n)
    if query.get("late") == "1":
        h.write(body[:n])
        h.wfile.flush()
        select.select([h.connection], [], [], 10)
        body = body[n:]
    h.write(body)
    h.wfile.flush()


@scenario("gzip")
def sc_gzip(h, args, query):
    n = int_arg(args, 0)
    wire = gzip_body(fill(query, n, "/".join(args[1:])))
    h.reply(200, wire, [("Content-Encoding", "gzip")])


@scenario("chunked")
def sc_chunked(h, args, query):
    n = int_arg(args, 0)
    step = max(1, int(query.get("chunk", "4096")))
    body = fill(query, n, "/".join(args[1:]))
    h.begin(200, [("Transfer-Encoding", "chunked")])
    for i in range(0, n, step):
        piece = body[i:i + step]
        h.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
    h.write(b"0\r\n\r\n")


@scenario("flaky")
def sc_flaky(h, args, query):
    k = int_arg(args, 0)
    key = "/".join(args[1:])
    if STATE.bump("flaky/" + key) < k:
        code = int(query.get("status", "503"))
        h.reply(code, f"{code} flaky\n".encode(), ctype="text/plain")
    else:
        h.send_pattern(200, 64, key)


@scenario("retry-after")
def sc_retry_after(h, args, query):
    secs = int_arg(args, 0)
    key = "/".join(args[1:])
    if STATE.bump("retry-after/" + key) == 0:
        if query.get("date") == "1":
            value = email.utils.formatdate(time.time() + secs, usegmt=True)
        else:
            value = str(secs)
        h.reply(503, b"503 later\n", [("Retry-After", value)],
                ctype="text/plain")
    else:
        h.send_pattern(200, 64, key)


@scenario("disposition")
def sc_disposition(h, args, query):
    if "value" in query:
        value = query["value"]
    else:
        value = 'attachment; filename="%s"' % query.get("name", "")
    seed = query.get("name", query.get("value", ""))
    n = int(query.get("size", "64"))
    h.send_pattern(200, n, seed, [("Content-Disposition", value)])


@scenario("header-big")
def sc_header_big(h, args, query):
    size = int_arg(args, 0, 102400)
    h.reply(200, b"ok\n", [("X-Big", "x" * size)], ctype="text/plain")


@scenario("echo-headers")
def sc_echo_headers(h, args, query):
    body = "".join(f"{k}: {v}\r\n" for k, v in h.headers.items())
    h.reply(200, body.encode("latin-1", "replace"), ctype="text/plain")


@scenario("basic-auth")
def sc_basic_auth(h, args, query):
    """/_/basic-auth/B64/KEY: 401 unless the request's Authorization is
    "Basic B64"; with ?flaky=1 the first request for KEY is a 503."""
    want = args[0] if args else ""
    key = "/".join(args[1:])
    if query.get("flaky") == "1" and STATE.bump("basic-auth/" + key) == 0:
        h.reply(503, b"503 flaky\n", ctype="text/plain")
    elif h.headers.get("Authorization") != "Basic " + want:
        h.reply(401, b"401 Unauthorized\n",
                [("WWW-Authenticate", 'Basic realm="test"')],
                ctype="text/plain")
    elif "to" in query:
        h.reply(302, b"", location(h, query["to"]))
    else:
        h.send_pattern(200, 64, key)


DIGEST_NONCE = "pfetch-test-nonce"


def digest_fields(value):
    """The name=value pairs of a Digest Authorization header, unquoted."""
    fields = {}
    for m in re.finditer(r'(\w+)=("([^"]*)"|[^,\s]*)', value):
        fields[m.group(1).lower()] = (m.group(3) if m.group(3) is not None
                                      else m.group(2))
    return fields


def digest_ok(h, user, password):
    """Does the request's Authorization answer our challenge rightly?"""
    auth = h.headers.get("Authorization") or ""
    if not auth.startswith("Digest "):
        return False
    f = digest_fields(auth[7:])
    if f.get("username") != user or f.get("nonce") != DIGEST_NONCE:
        return False

    def md5(text):
        return hashlib.md5(text.encode()).hexdigest()
    ha1 = md5("%s:%s:%s" % (user, f.get("realm", ""), password))
    ha2 = md5("%s:%s" % (h.command, f.get("uri", "")))
    if f.get("qop") == "auth":
        want = md5(":".join([ha1, DIGEST_NONCE, f.get("nc", ""),
                             f.get("cnonce", ""), "auth", ha2]))
    else:
        want = md5("%s:%s:%s" % (ha1, DIGEST_NONCE, ha2))
    return f.get("response") == want and f.get("uri") == h.path


@scenario("digest-auth")
def sc_digest_auth(h, args, query):
    """/_/digest-auth/USER/PASSWORD/KEY: 401 with a Digest challenge
    unless the request answers it with USER and PASSWORD, else
    pattern(64, KEY)."""
    user = args[0] if args else ""
    password = args[1] if len(args) > 1 else ""
    key = "/".join(args[2:])
    if digest_ok(h, user, password):
        h.send_pattern(200, 64, key)
    else:
        h.reply(401, b"401 Unauthorized\n",
                [("WWW-Authenticate",
                  'Digest realm="test", qop="auth", nonce="%s", '
                  'algorithm=MD5' % DIGEST_NONCE)],
                ctype="text/plain")


@scenario("set-cookie")
def sc_set_cookie(h, args, query):
    """/_/set-cookie/NAME/VALUE: Set-Cookie NAME=VALUE, Path=/ (and
    Max-Age=N with ?max_age=N, a persistent cookie); body "ok"."""
    name = args[0] if args else "c"
    value = args[1] if len(args) > 1 else ""
    cookie = "%s=%s; Path=/" % (name, value)
    if "max_age" in query:
        cookie += "; Max-Age=%s" % query["max_age"]
    h.reply(200, b"ok\n", [("Set-Cookie", cookie)], ctype="text/plain")


@scenario("stats")
def sc_stats(h, args, query):
    with STATE.lock:
        body = json.dumps(STATE.counts, sort_keys=True).encode()
    h.reply(200, body, ctype="application/json")


@scenario("inflight")
def sc_inflight(h, args, query):
    with STATE.lock:
        body = json.dumps({"now": STATE.inflight,
                           "max": STATE.max_inflight}).encode()
    h.reply(200, body, ctype="application/json")


@scenario("requests")
def sc_requests(h, args, query):
    with STATE.lock:
        body = json.dumps(STATE.log).encode()
    h.reply(200, body, ctype="application/json")


# ---------------------------------------------------------------------------
# The server.

class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def server_bind(self):
        # HTTPServer.server_bind resolves the host name (getfqdn), which
        # can stall on a machine without DNS; nothing here needs it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, BrokenPipeError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def load_generated(root):
    table = {}
    if root is None:
        return table
    try:
        with open(os.path.join(root, ".generated"), encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line and not line.startswith("#"):
                    name, size = line.split()
                    table[name.lstrip("/")] = int(size)
    except FileNotFoundError:
        pass
    return table


def watch_parent(parent):
    """Exit when the process that started us is gone."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


ROOT = None
GENERATED = {}
FALLBACK = None
VERBOSE = False
VARS = {}  # b"NAME" -> b"VALUE", from --var
SUBST_EXTS = (".html", ".htm", ".css", ".txt", ".xml")
SUBST_RE = re.compile(rb"\{\{([A-Za-z0-9_]+)\}\}")


def parse_var(text):
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise argparse.ArgumentTypeError("expected NAME=VALUE, got %r" % text)
    return name, value


def main():
    global ROOT, GENERATED, FALLBACK, VERBOSE, VARS
    ap = argparse.ArgumentParser(description="pfetch's test HTTP server")
    ap.add_argument("--root", help="directory served for normal paths")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--fallback-bytes", type=int, metavar="N",
                    help="answer unknown paths with N pattern bytes")
    ap.add_argument("--verbose", action="store_true", help="log requests")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                    help="answer HTTPS with this certificate and key")
    ap.add_argument("--var", action="append", type=parse_var, default=[],
                    metavar="NAME=VALUE",
                    help="replace {{NAME}} by VALUE in served text files")
    opts = ap.parse_args()
    VARS = {name.encode(): value.encode() for name, value in opts.var}
    ROOT = os.path.abspath(opts.root) if opts.root else None
    GENERATED = load_generated(ROOT)
    FALLBACK = opts.fallback_bytes
    VERBOSE = opts.verbose

    def stop(signum, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    server = Server(("127.0.0.1", opts.port), Handler)
    if opts.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls[0], opts.tls[1])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=watch_parent, args=(os.getppid(),),
                     daemon=True).start()
    print("PORT", server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        STOP.set()
        server.server_close()


if __name__ == "__main__":
    main()
