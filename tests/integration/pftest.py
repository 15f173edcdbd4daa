"""Shared helpers of pfetch's integration tests (Python 3 standard library).

A test script registers cases with @case and calls run():

    import pftest as t

    @t.case
    def not_found(env):
        r = env.pfetch(env.url("/_/status/404"))
        t.eq(r.rc, 1, "exit status")

    t.run()

Invocation: script PFETCH [SOURCE_DIR]; PFETCH may instead come from the
environment variable of that name, SOURCE_DIR defaults to this file's
checkout.  Each case gets a fresh test server (tests/server.py) and a fresh
temporary directory, both removed afterwards whatever happens.  run()
prints "ok <case>" or "FAIL <case>: reason" per case and exits non-zero if
any case failed.  A case that cannot run here (a tool or package
missing) calls skip(reason): "skipped <case>: reason" is printed and it
does not count as a failure.  PFTEST_ONLY=<case> in the environment runs
that case alone.  Nothing here sleeps to pass: waits poll with deadlines.
"""

import json
import os
import select
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _args():
    pfetch = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PFETCH")
    src = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE.parent.parent
    if not pfetch:
        sys.exit("usage: %s PFETCH [SOURCE_DIR] (or set PFETCH)"
                 % sys.argv[0])
    return Path(pfetch).resolve(), src.resolve()


PFETCH, SRC = _args()
sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, str(SRC / "tests"))
import server as testserver  # noqa: E402  (the test server, for pattern())

pattern = testserver.pattern
gzip_body = testserver.gzip_body


class Fail(Exception):
    """A failed expectation; its text is the reason printed."""


class Skip(Exception):
    """A case that cannot run here; its text is the reason printed."""


def skip(reason):
    raise Skip(reason)


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def eq(got, want, what):
    if got != want:
        raise Fail("%s: got %r, want %r" % (what, got, want))


def contains(text, part, what):
    if text is None or part not in text:
        raise Fail("%s: %r does not contain %r" % (what, text, part))


def icontains(text, part, what):
    if text is None or part.lower() not in text.lower():
        raise Fail("%s: %r does not contain %r" % (what, text, part))


def wait_for(pred, timeout, what, interval=0.02):
    """Poll pred() until it returns something true; Fail after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Fail("timed out after %.1f s waiting for %s"
                       % (timeout, what))
        time.sleep(interval)


def clean_env(extra=None):
    """The environment for children: C locale, no proxies, ever."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy",
                                "no_proxy", "ftp_proxy")}
    env["LC_ALL"] = "C"
    env["NO_PROXY"] = "*"
    if extra:
        env.update(extra)
    return env


# ---------------------------------------------------------------------------
# The test server.

class Server:
    """tests/server.py in its own process group; always killed on exit."""

    def __init__(self, args=(), root=None, script="server.py"):
        self.script = script
        self.args = list(args)
        if root is not None:
            self.args += ["--root", str(root)]
        self.proc = None
        self.port = None

    def __enter__(self):
        self.errlog = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            [sys.executable, str(SRC / "tests" / self.script)] + self.args,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=self.errlog, start_new_session=True, env=clean_env())
        try:
            line = self._first_line(10.0)
            check(line.startswith(b"PORT "), "server said %r" % line)
            self.port = int(line.split()[1])
        except BaseException:
            self.kill()
            raise
        self.base = "http://127.0.0.1:%d" % self.port
        return self

    def _first_line(self, timeout):
        fd = self.proc.stdout.fileno()
        buf = b""
        deadline = time.monotonic() + timeout
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("test server did not print its port")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                data = os.read(fd, 256)
                if not data:
                    raise Fail("test server exited at start: %s"
                               % self.stderr())
                buf += data
        return buf.split(b"\n", 1)[0]

    def kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc.stdout.close()
        self.proc = None

    def __exit__(self, *exc):
        self.kill()
        self.log_text = self.stderr()
        self.errlog.close()

    def stderr(self):
        self.errlog.seek(0)
        return self.errlog.read().decode("utf-8", "replace")

    def url(self, path):
        return self.base + path

    def get(self, path):
        with urllib.request.build_opener(
                urllib.request.ProxyHandler({})).open(self.url(path),
                                                      timeout=10) as f:
            return f.read()

    def stats(self):
        """{request target: count} of every request so far."""
        return json.loads(self.get("/_/stats"))

    def count(self, path):
        return self.stats().get(path, 0)

    def total(self):
        return sum(self.stats().values())

    def requests(self):
        return json.loads(self.get("/_/requests"))


def free_port():
    """A TCP port of 127.0.0.1 nobody listens on at this moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Servers:
    """Several test servers that must know each other's ports before they
    start (fixture sites that link to one another): free ports are picked
    first and make_args(i, ports) gives server i its arguments (with
    "--port", ports[i]).  A port taken by someone else in between makes
    that server exit at start; then all are stopped and tried again on
    new ports.  A context manager; .servers is the list, in order."""

    def __init__(self, n, make_args, tries=5):
        self.n, self.make_args, self.tries = n, make_args, tries
        self.servers = []

    def __enter__(self):
        for attempt in range(self.tries):
            ports = []
            while len(ports) < self.n:
                p = free_port()
                if p not in ports:
                    ports.append(p)
            try:
                for i in range(self.n):
                    srv = Server(self.make_args(i, ports))
                    srv.__enter__()
                    self.servers.append(srv)
                return self
            except Fail:
                self.__exit__(None, None, None)
                if attempt + 1 == self.tries:
                    raise
        return self

    def __exit__(self, *exc):
        for srv in self.servers:
            srv.__exit__(*exc)
        self.servers = []


def openssl(*args):
    subprocess.run(["openssl"] + [str(a) for a in args], check=True,
                   stdin=subprocess.DEVNULL, capture_output=True)


def make_ca(d):
    """A private CA and a certificate it signed for 127.0.0.1 and
    localhost, made with the openssl command in directory d: returns
    {"ca": CA cert, "cert": server cert, "key": its key, "self": a
    self-signed cert for 127.0.0.1, "self_key": its key}.  skip()s
    when openssl is missing."""
    import shutil
    if shutil.which("openssl") is None:
        skip("openssl is not installed")
    d = Path(d)
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", d / "ca.key", "-out",
            d / "ca.pem", "-days", "2", "-subj", "/CN=pfetch test CA")
    openssl("req", *ec, "-keyout", d / "srv.key", "-out", d / "srv.csr",
            "-subj", "/CN=127.0.0.1")
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", d / "srv.csr", "-CA", d / "ca.pem",
            "-CAkey", d / "ca.key", "-CAcreateserial", "-out", d / "srv.pem",
            "-days", "2", "-extfile", d / "ext")
    openssl("req", "-x509", *ec, "-keyout", d / "self.key", "-out",
            d / "self.pem", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1")
    return {"ca": d / "ca.pem", "cert": d / "srv.pem", "key": d / "srv.key",
            "self": d / "self.pem", "self_key": d / "self.key"}


class Nginx:
    """nginx serving root over TLS (cert, key) with http2 on a free
    port of 127.0.0.1, logging "$connection $server_protocol $uri
    $status $ssl_session_reused" per request to .access_log.  skip()s
    when nginx is missing.  A context manager."""

    def __init__(self, d, root, cert, key, upstream=None):
        """upstream: a port on 127.0.0.1 that /_/ is passed to, over
        HTTP/1.1, one connection per request (the test server's)."""
        self.d, self.root, self.cert, self.key = Path(d), root, cert, key
        self.upstream = upstream
        self.proc = None

    def __enter__(self):
        import shutil
        nginx = shutil.which("nginx") or (
            "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
        if nginx is None:
            skip("nginx is not installed")
        self.d.mkdir(parents=True, exist_ok=True)
        self.access_log = self.d / "access.log"
        for attempt in range(5):
            self.port = free_port()
            conf = self.d / "nginx.conf"
            conf.write_text("""daemon off; worker_processes 1;
pid %(d)s/nginx.pid; error_log %(d)s/error.log;
%(user)s
events { worker_connections 1024; }
http {
  log_format t
    '$connection $server_protocol $uri $status $ssl_session_reused';
  access_log %(d)s/access.log t;
  client_body_temp_path %(d)s; proxy_temp_path %(d)s;
  fastcgi_temp_path %(d)s; uwsgi_temp_path %(d)s; scgi_temp_path %(d)s;
  server {
    listen 127.0.0.1:%(port)d ssl http2;
    ssl_certificate %(cert)s; ssl_certificate_key %(key)s;
    root %(root)s;
    %(proxy)s
  }
}
""" % {"d": self.d, "port": self.port, "cert": self.cert, "key": self.key,
                "root": self.root,
                "proxy": "" if self.upstream is None else
                "location /_/ { proxy_pass http://127.0.0.1:%d; "
                "proxy_buffering off; }" % self.upstream,
                "user": "user root;" if os.geteuid() == 0 else ""})
            self.proc = subprocess.Popen(
                [nginx, "-c", str(conf), "-p", str(self.d)],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    socket.create_connection(("127.0.0.1", self.port),
                                             0.2).close()
                    self.base = "https://127.0.0.1:%d" % self.port
                    return self
                except OSError:
                    time.sleep(0.05)
            self.kill()
        raise Fail("nginx did not start: %s"
                   % (self.d / "error.log").read_text(errors="replace"))

    def kill(self):
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None

    def __exit__(self, *exc):
        self.kill()

    def log(self):
        """[(connection, protocol, uri, status, reused)] of the requests
        so far (reused: "r" when the TLS session was resumed, else ".")
        (nginx writes a line when a request ends)."""
        if not self.access_log.exists():
            return []
        return [tuple(l.split(" ")) for l in
                self.access_log.read_text().splitlines() if l]


# ---------------------------------------------------------------------------
# Running pfetch.

class Result:
    def __init__(self, argv, rc, out, err, elapsed):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        self.elapsed = elapsed

    @property
    def stdout(self):
        return self.out.decode("utf-8", "replace")

    @property
    def stderr(self):
        return self.err.decode("utf-8", "replace")

    def describe(self):
        def tail(b):
            s = b.decode("utf-8", "replace")
            return s if len(s) < 3000 else "...\n" + s[-3000:]
        return ("  command: %s\n  exit: %s after %.2f s\n"
                "  stdout: %s\n  stderr: %s"
                % (" ".join(self.argv), self.rc, self.elapsed,
                   tail(self.out) or "(empty)", tail(self.err) or "(empty)"))


class Env:
    """What a case works with: server, temp dir, output dir, pfetch."""

    def __init__(self, srv, tmp):
        self.srv, self.tmp = srv, tmp
        self.out = tmp / "out"
        self.last = None

    def url(self, path):
        return self.srv.url(path)

    def write_list(self, name, lines, eol="\n"):
        p = self.tmp / name
        p.write_bytes("".join(l + eol for l in lines).encode())
        return p

    def pfetch(self, *args, out=True, timeout=60, input=None, cwd=None,
               env=None):
        """Run pfetch with args (plus -o OUT unless out is False) to the
        end; no stdin unless input (bytes) is given; env: variables to
        set in clean_env()'s environment."""
        argv = [str(PFETCH)] + [str(a) for a in args]
        if out:
            argv += ["-o", str(self.out)]
        start = time.monotonic()
        try:
            p = subprocess.run(
                argv, input=input,
                stdin=None if input is not None else subprocess.DEVNULL,
                capture_output=True, timeout=timeout, cwd=cwd or self.tmp,
                env=clean_env(env))
        except subprocess.TimeoutExpired as e:
            self.last = Result(argv, None, e.stdout or b"", e.stderr or b"",
                               time.monotonic() - start)
            raise Fail("pfetch did not exit within %d s" % timeout)
        self.last = Result(argv, p.returncode, p.stdout, p.stderr,
                           time.monotonic() - start)
        return self.last

    def start(self, *args, out=True):
        """Start pfetch without waiting; output goes to files in tmp."""
        argv = [str(PFETCH)] + [str(a) for a in args]
        if out:
            argv += ["-o", str(self.out)]
        return Running(argv, self)

    def db(self, path=None):
        return Log(path or self.out / "pfetch.db")

    def files(self):
        return files(self.out)


class Running:
    """A pfetch process started by Env.start()."""

    def __init__(self, argv, env):
        self.argv, self.env = argv, env
        self.outf = tempfile.TemporaryFile()
        self.errf = tempfile.TemporaryFile()
        self.start = time.monotonic()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.outf, stderr=self.errf,
                                     cwd=env.tmp, env=clean_env())
        env.running.append(self)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout):
        """Wait for exit; Fail (and kill) if it takes longer."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self._result(None)
            raise Fail("pfetch did not exit within %.1f s" % timeout)
        return self._result(rc)

    def _result(self, rc):
        self.outf.seek(0)
        self.errf.seek(0)
        self.env.last = Result(self.argv, rc, self.outf.read(),
                               self.errf.read(), time.monotonic() - self.start)
        return self.env.last

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        self.kill()
        self.outf.close()
        self.errf.close()


# ---------------------------------------------------------------------------
# The output directory and the log.

DB_FILES = ("pfetch.db", "pfetch.db-wal", "pfetch.db-shm", "pfetch.db-journal")


def files(top):
    """Relative paths (str, '/'-separated) of every non-directory entry
    under top, the log database's own files excepted."""
    top = Path(top)
    found = []
    for dirpath, dirnames, filenames in os.walk(top):
        rel = Path(dirpath).relative_to(top)
        for name in filenames + [d for d in dirnames
                                 if os.path.islink(os.path.join(dirpath, d))]:
            p = (rel / name).as_posix()
            if p not in DB_FILES:
                found.append(p)
    return sorted(found)


def part_files(top):
    return [f for f in files(top) if f.endswith(".part")]


class Log:
    """Read-only view of a pfetch log database."""

    def __init__(self, path):
        self.path = Path(path)
        check(self.path.exists(), "no log database at %s" % self.path)

    def query(self, sql, args=()):
        db = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True)
        try:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql, args)]
        finally:
            db.close()

    def runs(self):
        return self.query("SELECT * FROM runs ORDER BY id")

    def integrity(self):
        """PRAGMA integrity_check's verdict: "ok" for a sound file."""
        return self.query("PRAGMA integrity_check")[0]["integrity_check"]

    def fetches(self):
        return self.query("SELECT * FROM fetches ORDER BY id")

    def by_url(self):
        """{url: row}; Fail if a URL has more than one row in a run."""
        rows = {}
        for r in self.fetches():
            key = (r["run_id"], r["url"])
            check(key not in rows, "two rows for %s in run %s"
                  % (r["url"], r["run_id"]))
            rows[key] = r
        return {url: r for (_, url), r in rows.items()}


def check_row_path(out, row):
    """A row's path is relative, has no '..' and names a file inside out;
    returns that file."""
    p = row["path"]
    check(p is not None, "row for %s has no path (error %r)"
          % (row["url"], row["error"]))
    check(not p.startswith("/"), "path %r is absolute" % p)
    check(".." not in p.split("/"), "path %r has a '..' component" % p)
    f = Path(out) / p
    check(f.is_file() and not f.is_symlink(),
          "path %r of %s is not a regular file" % (p, row["url"]))
    real = os.path.realpath(f)
    check(real.startswith(os.path.realpath(out) + os.sep),
          "path %r resolves outside the output directory" % p)
    return f


def check_ok_row(out, row, body, status=200):
    """A successful row whose saved file is exactly body."""
    eq(row["error"], None, "error of %s" % row["url"])
    eq(row["status"], status, "status of %s" % row["url"])
    f = check_row_path(out, row)
    data = f.read_bytes()
    check(data == body, "%s: saved %d bytes differ from the %d sent"
          % (row["path"], len(data), len(body)))
    eq(row["bytes"], len(body), "bytes of %s" % row["url"])
    return f


def check_failed_row(row, status=None):
    check(row["error"], "row for %s has no error" % row["url"])
    eq(row["path"], None, "path of failed %s" % row["url"])
    if status is not None:
        eq(row["status"], status, "status of %s" % row["url"])


def tree_path(port, path):
    """Where the tree layout saves http://127.0.0.1:port<path>."""
    return "127.0.0.1:%d%s" % (port, path)


# ---------------------------------------------------------------------------
# Cases.

CASES = []


def case(fn=None, *, server_args=(), root=None):
    """Register a case; server_args/root are given to tests/server.py."""
    def register(f):
        CASES.append((f, list(server_args), root))
        return f
    return register(fn) if fn is not None else register


def _details(env, srv):
    if env is not None and env.last is not None:
        print(env.last.describe(), flush=True)
    log = getattr(srv, "log_text", "")
    if log:
        print("  test server stderr:\n" + log, flush=True)


def run():
    script = Path(sys.argv[0]).stem
    only = os.environ.get("PFTEST_ONLY")
    failed = 0
    if not PFETCH.exists():
        print("FAIL %s: no pfetch binary at %s" % (script, PFETCH))
        sys.exit(1)
    for fn, server_args, root in CASES:
        name = "%s.%s" % (script, fn.__name__)
        if only and fn.__name__ != only:
            continue
        env = srv = None
        start = time.monotonic()
        try:
            with tempfile.TemporaryDirectory(prefix="pftest-") as tmp, \
                    Server(server_args, root) as srv:
                env = Env(srv, Path(tmp))
                env.running = []
                try:
                    fn(env)
                finally:
                    for r in env.running:
                        r.close()
            print("ok %s (%.1f s)" % (name, time.monotonic() - start),
                  flush=True)
        except Skip as e:
            print("skipped %s: %s" % (name, e), flush=True)
        except Fail as e:
            failed += 1
            print("FAIL %s: %s" % (name, e), flush=True)
            _details(env, srv)
        except Exception:
            failed += 1
            print("FAIL %s: exception\n%s" % (name, traceback.format_exc()),
                  flush=True)
            _details(env, srv)
    sys.exit(1 if failed else 0)
