#!/usr/bin/env python3
"""pfetch's test forward proxy: plain HTTP (absolute-form requests) and
CONNECT tunnels, counting what it relays.

Usage:
    proxy.py [--port N] [--tls CERT KEY]

Binds 127.0.0.1 (port 0 unless --port), prints "PORT <n>" as its first
line on stdout and serves until killed; it exits by itself when its
parent process goes away.  With --tls, clients speak TLS to the proxy
itself (an https:// proxy).  Python 3 standard library only.

  GET http://HOST:PORT/PATH ...   relayed to HOST:PORT on a connection of
                                  its own ("Connection: close" both ways)
  CONNECT HOST:PORT               "200 Connection established", then the
                                  bytes both ways until either side closes
  SOCKS5, no authentication       CONNECT to a name (socks5h: the proxy
                                  resolves it) or an IPv4 address, then
                                  the bytes both ways
  GET /_proxy/stats               (origin-form: asked of the proxy itself)
                                  JSON {"requests": [...], "connects":
                                  [...], "socks": [...], "auth": [...]}:
                                  the absolute URLs relayed, the
                                  HOST:PORT of each tunnel and of each
                                  SOCKS connection (a name as the client
                                  sent it), and the Proxy-Authorization
                                  of each HTTP request (null when none),
                                  in order
"""

import argparse
import json
import os
import select
import socket
import socketserver
import ssl
import sys
import threading
import time

LOCK = threading.Lock()
STATS = {"requests": [], "connects": [], "socks": [], "auth": []}


def read_head(sock):
    """The request head (bytes up to the blank line) and what came after."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None, b""
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head, rest


def relay(a, b):
    """Copy bytes both ways between sockets a and b until one closes."""
    socks = [a, b]
    while True:
        ready, _, _ = select.select(socks, [], [], 60)
        if not ready:
            return
        for s in ready:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        data = sock.recv(n - len(buf))
        if not data:
            raise ConnectionError("short SOCKS message")
        buf += data
    return buf


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        first = (b"" if isinstance(self.request, ssl.SSLSocket)
                 else self.request.recv(1, socket.MSG_PEEK))
        if first == b"\x05":
            try:
                self.socks5()
            except (ConnectionError, OSError):
                pass
            return
        while self.one():
            pass

    def socks5(self):
        """RFC 1928, CONNECT with no authentication."""
        sock = self.request
        _, nmethods = recv_exact(sock, 2)
        methods = recv_exact(sock, nmethods)
        if 0 not in methods:
            sock.sendall(b"\x05\xff")
            return
        sock.sendall(b"\x05\x00")
        _, cmd, _, atyp = recv_exact(sock, 4)
        if atyp == 3:
            host = recv_exact(sock, recv_exact(sock, 1)[0]).decode("latin-1")
        elif atyp == 1:
            host = socket.inet_ntoa(recv_exact(sock, 4))
        else:
            sock.sendall(b"\x05\x08\x00\x01" + bytes(6))
            return
        port = int.from_bytes(recv_exact(sock, 2), "big")
        with LOCK:
            STATS["socks"].append("%s:%d" % (host, port))
        if cmd != 1:
            sock.sendall(b"\x05\x07\x00\x01" + bytes(6))
            return
        try:
            up = socket.create_connection((host, port), 10)
        except OSError:
            sock.sendall(b"\x05\x05\x00\x01" + bytes(6))
            return
        with up:
            sock.sendall(b"\x05\x00\x00\x01" + bytes(6))
            relay(sock, up)

    def one(self):
        """Serve one request; True when the connection may carry another."""
        head, rest = read_head(self.request)
        if head is None:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = (lines[0].split(" ") + ["", ""])[:3]
        headers = [l for l in lines[1:] if l]
        auth = None
        for l in headers:
            if l.lower().startswith("proxy-authorization:"):
                auth = l.split(":", 1)[1].strip()
        if method == "GET" and target == "/_proxy/stats":
            with LOCK:
                body = json.dumps(STATS).encode()
            self.request.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body)
            return True
        if method == "CONNECT":
            return self.tunnel(target, auth)
        return self.forward(method, target, headers, rest, auth)

    def tunnel(self, target, auth):
        host, _, port = target.rpartition(":")
        with LOCK:
            STATS["connects"].append(target)
            STATS["auth"].append(auth)
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), 10)
        except OSError:
            self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\n"
                                 b"Content-Length: 0\r\n\r\n")
            return False
        with up:
            self.request.sendall(b"HTTP/1.1 200 Connection established"
                                 b"\r\n\r\n")
            relay(self.request, up)
        return False

    def forward(self, method, target, headers, rest, auth):
        if not target.startswith("http://"):
            self.request.sendall(b"HTTP/1.1 400 Bad Request\r\n"
                                 b"Content-Length: 0\r\n\r\n")
            return False
        with LOCK:
            STATS["requests"].append(target)
            STATS["auth"].append(auth)
        hostport, _, path = target[len("http://"):].partition("/")
        host, _, port = hostport.rpartition(":")
        if not host:
            host, port = hostport, "80"
        keep = [h for h in headers if h.split(":", 1)[0].lower() not in
                ("proxy-authorization", "proxy-connection", "connection")]
        req = ("%s /%s HTTP/1.1\r\n" % (method, path) +
               "".join(h + "\r\n" for h in keep) +
               "Connection: close\r\n\r\n").encode("latin-1")
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), 10)
        except OSError:
            self.request.sendall(b"HTTP/1.1 502 Bad Gateway\r\n"
                                 b"Connection: close\r\n"
                                 b"Content-Length: 0\r\n\r\n")
            return False
        with up:
            up.sendall(req + rest)
            while True:
                data = up.recv(65536)
                if not data:
                    break
                self.request.sendall(data)
        return False


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def watch_parent(parent):
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def main():
    ap = argparse.ArgumentParser(description="pfetch's test proxy")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"),
                    help="speak TLS to clients with this certificate")
    opts = ap.parse_args()
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
        server.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
