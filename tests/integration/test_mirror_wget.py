#!/usr/bin/env python3
"""Mirror fidelity against wget(1): a real documentation site, served on
127.0.0.1, is mirrored by "wget -r -l inf" and by "pfetch -r -l inf", and
pfetch must save every file wget saves, byte for byte.

The sites are Debian's HTML documentation packages: postgresql-doc-15
(about 1,200 DocBook pages and a stylesheet) and python3.11-doc (a Sphinx
site whose theme stylesheet @imports a chain of others and url()s images).
A site whose package is not installed is skipped, and so is every site
when wget is missing.  nginx serves the site when it is installed (a
configuration of its own in the case's temporary directory, in the
foreground, no access log), tests/server.py otherwise.

Files are compared by their path below the host directory: both tools
name a file after the URL's path, "index.html" for a directory, and keep
a query in the name ("style.css?v=1").  Where the two differ in escaping
a name, wget's log (URL -> file) and pfetch's (url -> path) pair the files
through their URL.  robots.txt (saved by wget, never by pfetch) and the log
database are left out; pfetch may save more (it keeps "/" and
"/index.html" apart as index.html and index.html.1).  Missing files are
reported with their URL, pfetch's row for it if any, and a page of wget's
copy that refers to it, with the text around the reference."""

import filecmp
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.parse
from pathlib import Path

import pftest as t

SITES = {
    "postgresql": ("postgresql-doc-15",
                   Path("/usr/share/doc/postgresql-doc-15/html")),
    "python": ("python3.11-doc", Path("/usr/share/doc/python3.11/html")),
}

SHOW = 20  # missing or differing files listed at most


# ---------------------------------------------------------------------------
# Serving the site.

def free_port():
    """A TCP port of 127.0.0.1 nobody listens on at this moment."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def nginx_binary():
    path = os.environ.get("PATH", "") + ":/usr/sbin:/usr/local/sbin"
    return shutil.which("nginx", path=path)


NGINX_CONF = """\
# Written by test_mirror_wget.py: one static site, nothing else.
{user}
daemon off;
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    types {{
        text/html                 html htm;
        text/css                  css;
        text/plain                txt;
        text/xml                  xml;
        application/javascript    js;
        application/json          json;
        image/png                 png;
        image/gif                 gif;
        image/jpeg                jpg jpeg;
        image/svg+xml             svg;
        image/x-icon              ico;
        font/woff                 woff;
        font/woff2                woff2;
    }}
    default_type application/octet-stream;
    charset off;
    access_log off;
    server_tokens off;

    client_body_temp_path {run}/tmp/body;
    proxy_temp_path       {run}/tmp/proxy;
    fastcgi_temp_path     {run}/tmp/fastcgi;
    uwsgi_temp_path       {run}/tmp/uwsgi;
    scgi_temp_path        {run}/tmp/scgi;

    server {{
        listen 127.0.0.1:{port};
        server_name _;
        root {root};
        index index.html;
    }}
}}
"""


class Nginx:
    """nginx serving root on a free port of 127.0.0.1, in the foreground
    in its own session, its configuration, pid file and error log in
    rundir; a context manager, like t.Server, with .port.  A port taken
    between choosing and binding makes nginx exit: another is tried."""

    def __init__(self, binary, root, rundir, tries=5):
        self.binary, self.root, self.run = binary, root, Path(rundir)
        self.tries = tries
        self.proc = None
        self.port = None

    def __enter__(self):
        (self.run / "tmp").mkdir(parents=True, exist_ok=True)
        user = ""
        if os.geteuid() == 0:  # workers would be nobody otherwise
            user = "user %s %s;" % (pwd.getpwuid(os.geteuid()).pw_name,
                                    grp.getgrgid(os.getegid()).gr_name)
        for _ in range(self.tries):
            self.port = free_port()
            conf = self.run / "nginx.conf"
            conf.write_text(NGINX_CONF.format(user=user, run=self.run,
                                              port=self.port, root=self.root))
            self.out = open(self.run / "stderr.log", "wb")
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(conf), "-p", str(self.run) + "/",
                 "-e", str(self.run / "error.log")],
                stdin=subprocess.DEVNULL, stdout=self.out,
                stderr=subprocess.STDOUT, start_new_session=True,
                env=t.clean_env())
            if self._wait_ready(10.0):
                return self
            self.kill()
        raise t.Fail("nginx did not start: %s" % self.log())

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port),
                                                timeout=1):
                    return True
            except OSError:
                time.sleep(0.02)
        return False

    def log(self):
        text = ""
        for name in ("stderr.log", "error.log"):
            try:
                text += (self.run / name).read_text(errors="replace")
            except OSError:
                pass
        return text.strip() or "(no log)"

    def kill(self):
        if self.proc is None:
            return
        # TERM: the master stops its worker and reaps it; KILL the whole
        # group if that takes too long.
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
        self.proc = None
        self.out.close()

    def __exit__(self, *exc):
        self.kill()


def serve(env, root):
    """(server, its name, extra wget options).  wget keeps connections
    to tests/server.py alive at about 40 ms a request (the server's
    header and body writes meet delayed ACKs): a connection per request
    there is many times faster and saves the same files."""
    binary = nginx_binary()
    if binary:
        return Nginx(binary, root, env.tmp / "nginx"), "nginx", []
    return t.Server(root=root), "tests/server.py", ["--no-http-keep-alive"]


# ---------------------------------------------------------------------------
# What each tool saved.

IGNORED = {"robots.txt"}

# wget -nv: 'DATE TIME URL:<url> [<size>] -> "<file>" [<n>]'
WGET_SAVED = re.compile(r' URL: ?(\S+) \[[^\]]*\] -> "(.*)" \[\d+\]$')


def saved_files(hostdir):
    """{relative path: absolute path} of the files below hostdir."""
    if not hostdir.is_dir():
        return {}
    return {f: hostdir / f for f in t.files(hostdir) if f not in IGNORED}


def wget_urls(log, hostdir):
    """{relative path: [URL, ...]} from wget's -nv log."""
    urls = {}
    top = str(hostdir) + "/"
    with open(log, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            m = WGET_SAVED.search(line.rstrip("\n"))
            if m and m.group(2).startswith(top):
                urls.setdefault(m.group(2)[len(top):], []).append(m.group(1))
    return urls


def pfetch_rows(db, host):
    """{url: row} of pfetch's log; row["rel"] is the path below host."""
    rows = db.by_url()
    for row in rows.values():
        p = row["path"]
        row["rel"] = p[len(host) + 1:] if p and p.startswith(host + "/") \
            else None
    return rows


def pages(names):
    return sum(1 for n in names if n.endswith((".html", ".htm")))


# ---------------------------------------------------------------------------
# Explaining a missing file.

def referrers(wfiles, url, limit=2):
    """(page, snippet) of wget's saved pages and stylesheets that name
    url's last path segment (or directory, for index.html)."""
    path = urllib.parse.urlsplit(url).path
    seg = path.rstrip("/").rsplit("/", 1)[-1] + ("/" if path.endswith("/")
                                                 else "")
    if not seg:
        return []
    needles = {seg.encode(), urllib.parse.unquote(seg).encode()}
    found = []
    for rel, f in sorted(wfiles.items()):
        if not rel.endswith((".html", ".htm", ".css")):
            continue
        data = f.read_bytes()
        for needle in needles:
            i = data.find(needle)
            if i >= 0:
                a, b = max(0, i - 100), min(len(data), i + len(needle) + 60)
                snippet = data[a:b].decode("utf-8", "replace")
                found.append((rel, " ".join(snippet.split())))
                break
        if len(found) >= limit:
            break
    return found


def explain(rel, wurls, rows, wfiles):
    lines = ["  missing %s" % rel]
    for url in wurls.get(rel, ["(URL not in wget's log)"]):
        row = rows.get(url)
        if row is None:
            lines.append("    url %s: no row in pfetch's log" % url)
        else:
            lines.append("    url %s: pfetch status %s, path %r, error %r,"
                         " parent %s" % (url, row["status"], row["path"],
                                         row["error"], row["parent_url"]))
        for page, snippet in referrers(wfiles, url):
            lines.append("    referred to by %s: ...%s..." % (page, snippet))
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The check.

def mirror(env, site):
    package, root = SITES[site]
    if shutil.which("wget") is None:
        t.skip("wget is not installed")
    if not (root / "index.html").is_file():
        t.skip("%s is not installed (no %s)" % (package, root))
    server, server_name, wget_opts = serve(env, root)
    with server as srv:
        base = "http://127.0.0.1:%d/" % srv.port
        host = "127.0.0.1:%d" % srv.port
        out_w = env.tmp / "wget"
        log_w = env.tmp / "wget.log"

        start = time.monotonic()
        try:
            w = subprocess.run(
                ["wget", "--no-config", "-nv", "-o", str(log_w)] + wget_opts
                + ["-r", "-l", "inf", "-np", "-P", str(out_w), base],
                stdin=subprocess.DEVNULL, capture_output=True, timeout=60,
                cwd=env.tmp, env=t.clean_env())
        except subprocess.TimeoutExpired:
            raise t.Fail("wget did not finish within 60 s")
        wget_time = time.monotonic() - start
        # 8: the server answered some request with an error (broken links).
        t.check(w.returncode in (0, 8), "wget exited with %d: %s"
                % (w.returncode, log_w.read_text(errors="replace")[-2000:]))

        r = env.pfetch("-q", "-r", "-l", "inf", "-j", "16", base)
        t.check(r.rc in (0, 1), "pfetch exit status %r" % r.rc)

    wfiles = saved_files(out_w / host)
    pfiles = saved_files(env.out / host)
    t.check(len(wfiles) >= 100, "wget saved only %d files from %s"
            % (len(wfiles), server_name))
    wurls = wget_urls(log_w, out_w / host)
    rows = pfetch_rows(env.db(), host)

    # Pair each of wget's files with pfetch's: same name, else through
    # the URL wget fetched it from.
    pairs, renamed, missing = [], [], []
    for rel in sorted(wfiles):
        if rel in pfiles:
            pairs.append((rel, rel))
            continue
        other = None
        for url in wurls.get(rel, []):
            row = rows.get(url)
            if row and row["rel"] in pfiles:
                other = row["rel"]
                break
        if other is None:
            missing.append(rel)
        else:
            pairs.append((rel, other))
            renamed.append((rel, other))
    matched = {p for _, p in pairs}
    extra = sorted(set(pfiles) - matched)
    differ = [(wrel, prel) for wrel, prel in pairs
              if not filecmp.cmp(wfiles[wrel], pfiles[prel], shallow=False)]
    failed = [u for u, row in rows.items() if row["error"]]

    print("%s (%s, %s): wget %d files (%d pages) in %.1f s; pfetch %d files"
          " (%d pages) in %.1f s; missing %d, differing %d, renamed %d,"
          " extra %d, pfetch failures %d"
          % (site, package, server_name, len(wfiles), pages(wfiles),
             wget_time, len(pfiles), pages(pfiles), r.elapsed, len(missing),
             len(differ), len(renamed), len(extra), len(failed)), flush=True)
    for wrel, prel in renamed[:SHOW]:
        print("  renamed: wget %s, pfetch %s" % (wrel, prel))
    if extra:
        print("  extra in pfetch's copy: %s%s" % (" ".join(extra[:SHOW]),
              " ..." if len(extra) > SHOW else ""))
    for url in sorted(failed)[:SHOW]:
        print("  pfetch failed: %s (%s)" % (url, rows[url]["error"]))

    problems = []
    if missing:
        print("\n".join(explain(rel, wurls, rows, wfiles)
                        for rel in missing[:SHOW]), flush=True)
        problems.append("%d of wget's %d files missing from pfetch's %d"
                        " (first: %s)" % (len(missing), len(wfiles),
                                          len(pfiles),
                                          ", ".join(missing[:SHOW])))
    if differ:
        for wrel, prel in differ[:SHOW]:
            print("  differs: wget %s (%d bytes), pfetch %s (%d bytes)"
                  % (wrel, wfiles[wrel].stat().st_size, prel,
                     pfiles[prel].stat().st_size))
        problems.append("%d of %d files saved by both differ (first: %s)"
                        % (len(differ), len(pairs),
                           ", ".join(w for w, _ in differ[:SHOW])))
    t.check(not problems, "; ".join(problems))


@t.case
def mirror_postgresql_doc(env):
    mirror(env, "postgresql")


@t.case
def mirror_python_doc(env):
    mirror(env, "python")


t.run()
