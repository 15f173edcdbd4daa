"""The crawl oracle: what pfetch -r/-p must fetch from the fixture site.

Given fixtures/crawl/manifest.json (see fixtures/crawl/gen_site.py), the
origins the test servers got, the seeds and the options, crawl() computes
the exact set of URLs a correct crawl accepts, each with its depth, every
URL that may stand as its parent, and whether robots.txt refuses it.  It
follows DESIGN.md's precise rules:

  - seeds have depth 0 and no parent; depth is the shortest distance;
  - with -r, every link (page or requisite) of an HTML page or stylesheet
    at depth d < N is accepted at depth d + 1;
  - with -p, the requisites of every fetched HTML page that is not itself
    a requisite, at depth d <= N, are accepted at d + 1, even past N; a
    stylesheet fetched as a requisite is parsed and what it imports or
    url()s is accepted at its depth + 1, again past N; without -r, -p
    fetches the seeds and their requisites (and what those import);
  - without --span-hosts only the seeds' hosts (host:port) are in scope;
    --accept/--reject are EREs searched in the whole normalised URL of a
    discovered link, reject winning; seeds are never filtered;
  - robots.txt (unless --no-robots) governs every discovered link and
    requisite, never a seed; a refused URL gets a row but no request and
    is not parsed; a host's robots.txt is requested once, and only when
    some discovered URL of that host was accepted;
  - a link whose target is missing gets its row (a 404) and is not parsed.

Python 3 standard library only; no pfetch, no network: the model reads
the manifest and the robots.txt text it records.
"""

import json
import re
import urllib.parse
from pathlib import Path

PRODUCT = "pfetch"


# ---------------------------------------------------------------------------
# robots.txt, the way RFC 9309 reads it (enough for the fixture's files).

def _robots_norm(s, pattern):
    """The spelling both sides are compared in: %xx of unreserved octets
    decoded, other %xx upper-case, '*'/'$' of a path encoded."""
    def dec(m):
        c = chr(int(m.group(1), 16))
        if re.fullmatch(r"[A-Za-z0-9._~-]", c):
            return c
        return "%" + m.group(1).upper()
    s = re.sub(r"%([0-9A-Fa-f]{2})", dec, s)
    if not pattern:
        s = s.replace("*", "%2A").replace("$", "%24")
    return s


class Robots:
    """The rules of one robots.txt for PRODUCT."""

    def __init__(self, text):
        ours, star = [], []
        seen_ours = False
        in_agents = False
        group_ours = group_star = False
        for line in re.split(r"\r\n|\r|\n", text or ""):
            line = line.split("#", 1)[0]
            if ":" not in line:
                continue
            name, value = line.split(":", 1)
            name, value = name.strip().lower(), value.strip()
            if name == "user-agent":
                if not in_agents:
                    in_agents = True
                    group_ours = group_star = False
                token = re.match(r"\*|[A-Za-z_-]*", value).group(0)
                if token == "*":
                    group_star = True
                elif token and token.lower() == PRODUCT:
                    group_ours = seen_ours = True
            elif name in ("allow", "disallow"):
                in_agents = False
                if not value:
                    continue
                rule = (name == "allow", value)
                if group_ours:
                    ours.append(rule)
                if group_star:
                    star.append(rule)
        self.rules = ours if seen_ours else star

    def allowed(self, path):
        if path.partition("?")[0] == "/robots.txt":
            return True
        path = _robots_norm(path, False)
        best = None  # (length, allow)
        for allow, pattern in self.rules:
            anchored = pattern.endswith("$")
            body = _robots_norm(pattern[:-1] if anchored else pattern, True)
            rx = ".*".join(re.escape(p) for p in body.split("*"))
            rx = rx + ("\\Z" if anchored else "")
            if re.match(rx, path, re.S):
                key = (len(body) + anchored, allow)
                if best is None or key > best:
                    best = key
        return best is None or best[1]


# ---------------------------------------------------------------------------
# The site.

class Site:
    """The manifest with the test's origins put in for the placeholders."""

    def __init__(self, fixture_dir, origins):
        """origins: {"a": "http://127.0.0.1:PORT", "b": ...}."""
        self.dir = Path(fixture_dir)
        with open(self.dir / "manifest.json", encoding="utf-8") as f:
            self.manifest = json.load(f)
        self.origins = dict(origins)
        self.vars = {}
        for h, origin in self.origins.items():
            up = h.upper()
            self.vars["ORIGIN_" + up] = origin
            self.vars["HOST_" + up] = urllib.parse.urlsplit(origin).netloc
        self.docs = {}  # url -> (host, file)
        self.files = {}  # (host, file) -> manifest entry
        self.robots = {}  # host:port -> Robots or None (none: 404)
        self.host_of = {}  # host:port -> "a" / "b"
        for h, info in self.manifest["hosts"].items():
            hp = hostport(self.origins[h])
            self.host_of[hp] = h
            self.robots[hp] = (Robots(info["robots"])
                               if info["robots"] is not None else None)
            for f, entry in info["files"].items():
                self.files[(h, f)] = entry
            for url, f in info["urls"].items():
                self.docs[self.sub(url)] = (h, f)
        self.missing = {self.sub(u) for u in self.manifest["missing"]}

    def sub(self, text):
        """Placeholders to this run's values."""
        for name, value in self.vars.items():
            text = text.replace("{{%s}}" % name, value)
        return text

    def sub_bytes(self, data):
        for name, value in self.vars.items():
            data = data.replace(("{{%s}}" % name).encode(), value.encode())
        return data

    def url(self, host, path):
        return self.origins[host] + path

    def doc(self, url):
        """(host, file) served at url, or None for a 404."""
        if url in self.docs:
            return self.docs[url]
        if url in self.missing:
            return None
        raise KeyError("the manifest knows no URL %s" % url)

    def kind(self, url):
        d = self.doc(url)
        return None if d is None else self.files[d]["type"]

    def links(self, url):
        """[(url, kind)] of the document at url (empty when not parsed)."""
        d = self.doc(url)
        if d is None:
            return []
        return [(self.sub(link["url"]), link["kind"])
                for link in self.files[d]["links"]]

    def body(self, url):
        """The bytes the server sends for url (placeholders put in for
        text files), or None for a 404."""
        d = self.doc(url)
        if d is None:
            return None
        host, f = d
        data = (self.dir / self.manifest["hosts"][host]["root"] / f
                ).read_bytes()
        if f.rsplit(".", 1)[-1] in ("html", "htm", "css", "txt", "xml"):
            data = self.sub_bytes(data)
        return data


def hostport(url):
    p = urllib.parse.urlsplit(url)
    port = p.port or (443 if p.scheme == "https" else 80)
    return "%s:%d" % (p.hostname, port)


def target(url):
    """The request target pfetch sends for a normalised URL."""
    p = urllib.parse.urlsplit(url)
    return p.path + ("?" + p.query if p.query else "")


# ---------------------------------------------------------------------------
# The crawl.

class Row:
    """What the model says about one accepted URL."""

    def __init__(self, url, depth, parents, requisite, refused, status):
        self.url, self.depth = url, depth
        self.parents = parents      # URLs any of which may be the parent
        self.requisite = requisite  # accepted as a page requisite (-p)
        self.refused = refused      # refused by robots.txt: no request
        self.status = status        # 200, 404, or 0 when refused

    def __repr__(self):
        return "Row(%s, depth %d%s)" % (self.url, self.depth,
                                        ", refused" if self.refused else "")


class Crawl:
    """The expected outcome: rows by URL, robots.txt requests by host."""

    def __init__(self, rows, robots_hosts):
        self.rows = rows
        self.robots_hosts = robots_hosts

    def urls(self):
        return set(self.rows)

    def requested(self):
        """{host:port: [request targets]} pfetch must send, robots.txt
        included, each exactly once."""
        out = {}
        for url, row in self.rows.items():
            if not row.refused:
                out.setdefault(hostport(url), []).append(target(url))
        for hp in self.robots_hosts:
            out.setdefault(hp, []).append("/robots.txt")
        return {hp: sorted(t) for hp, t in out.items()}

    def failed(self):
        return sorted(u for u, r in self.rows.items() if r.status >= 400)

    def refused(self):
        return sorted(u for u, r in self.rows.items() if r.refused)


INF = float("inf")


def crawl(site, seeds, depth=5, recursive=True, requisites=False,
          span_hosts=False, accept=None, reject=None, robots=True):
    """The rows of a pfetch run with these options over site.  depth is
    -l (INF for inf); recursive is -r, requisites -p; accept/reject are
    the EREs of --accept/--reject (Python's re reads the ones the tests
    use alike)."""
    limit = depth if recursive else 0
    scope = {hostport(s) for s in seeds}
    rows = {}
    for s in seeds:
        if s not in rows:
            rows[s] = Row(s, 0, {None}, False, False,
                          200 if site.doc(s) is not None else 404)
    level = [s for s in rows]
    d = 0
    robots_hosts = set()
    while level:
        found = {}  # url -> [parents, requisite]
        for url in sorted(level):
            row = rows[url]
            if row.refused or row.status != 200:
                continue
            kind = site.kind(url)
            emit = []
            if recursive and d < limit and kind in ("html", "css"):
                emit += site.links(url)
            if requisites and kind == "html" and not row.requisite and \
                    d <= limit:
                emit += [(u, k) for u, k in site.links(url) if k == "req"]
            if requisites and kind == "css" and row.requisite:
                emit += site.links(url)
            for link, k in emit:
                if link in rows:
                    continue
                if not span_hosts and hostport(link) not in scope:
                    continue
                if reject is not None and re.search(reject, link):
                    continue
                if accept is not None and not re.search(accept, link):
                    continue
                entry = found.setdefault(link, [set(), False])
                entry[0].add(url)
                if requisites and k == "req":
                    entry[1] = True
        d += 1
        for link, (parents, req) in found.items():
            hp = hostport(link)
            refused = False
            if robots:
                robots_hosts.add(hp)
                rules = site.robots.get(hp)
                refused = rules is not None and \
                    not rules.allowed(target(link))
            if refused:
                status = 0
            else:
                status = 200 if site.doc(link) is not None else 404
            rows[link] = Row(link, d, parents, req, refused, status)
        level = list(found)
    return Crawl(rows, robots_hosts)


# ---------------------------------------------------------------------------
# Comparing a run with the model.

def _short(items, n=12):
    items = sorted(items, key=str)
    more = " ... and %d more" % (len(items) - n) if len(items) > n else ""
    return ", ".join(str(i) for i in items[:n]) + more


def tree_path(url):
    """Where the tree layout saves url, for URLs without query or '%'."""
    p = urllib.parse.urlsplit(url)
    path = p.path + ("index.html" if p.path.endswith("/") else "")
    return p.netloc + path


def compare(site, model, rows, requests, out_dir=None, files=None):
    """Problems (strings; none when the run is right) of a run against the
    model.  rows: the run's fetches rows (dicts); requests: {host:port:
    [request targets]} as the servers logged them, in order; out_dir and
    files (the relative paths found there, log database aside): to check
    what was saved."""
    problems = []
    by_url = {}
    for r in rows:
        if r["url"] in by_url:
            problems.append("two rows for %s" % r["url"])
        by_url[r["url"]] = r
    want = model.rows
    missing = set(want) - set(by_url)
    extra = set(by_url) - set(want)
    if missing:
        problems.append("%d URLs have no row: %s"
                        % (len(missing), _short(missing)))
    if extra:
        problems.append("%d rows the model does not accept: %s"
                        % (len(extra), _short(
                            "%s (depth %s, parent %s)" % (
                                u, by_url[u]["depth"], by_url[u]["parent_url"])
                            for u in extra)))
    for url in sorted(set(want) & set(by_url)):
        m, r = want[url], by_url[url]
        if r["depth"] != m.depth:
            problems.append("%s: depth %r, want %d"
                            % (url, r["depth"], m.depth))
        if r["parent_url"] not in m.parents:
            problems.append("%s: parent %r, want one of %s"
                            % (url, r["parent_url"], _short(m.parents, 4)))
        if m.refused:
            if r["status"] != 0 or r["path"] is not None or \
                    "robots.txt" not in (r["error"] or ""):
                problems.append("%s: refused by robots.txt, but row has "
                                "status %r, path %r, error %r"
                                % (url, r["status"], r["path"], r["error"]))
            continue
        if m.status != 200:
            if r["status"] != m.status or r["path"] is not None or \
                    not r["error"]:
                problems.append("%s: want a failed row with status %d, got "
                                "status %r, path %r, error %r"
                                % (url, m.status, r["status"], r["path"],
                                   r["error"]))
            continue
        if r["status"] != 200 or r["error"] is not None or r["path"] is None:
            problems.append("%s: want status 200 and a file, got status %r, "
                            "path %r, error %r"
                            % (url, r["status"], r["path"], r["error"]))
            continue
        p = urllib.parse.urlsplit(url)
        if not p.query and "%" not in p.path and r["path"] != tree_path(url):
            problems.append("%s: saved as %r, want %r"
                            % (url, r["path"], tree_path(url)))
        if out_dir is not None:
            f = Path(out_dir) / r["path"]
            body = site.body(url)
            try:
                data = f.read_bytes()
            except OSError as e:
                problems.append("%s: cannot read %s: %s" % (url, r["path"], e))
                continue
            if data != body:
                problems.append("%s: %s holds %d bytes that differ from the "
                                "%d served" % (url, r["path"], len(data),
                                               len(body)))
            if r["bytes"] != len(body):
                problems.append("%s: bytes %r, want %d"
                                % (url, r["bytes"], len(body)))
    if files is not None:
        saved = {r["path"] for r in rows if r["path"]}
        stray = [f for f in files if f not in saved and
                 not f.endswith("/robots.txt")]
        if stray:
            problems.append("files without a row: %s" % _short(stray))
    expected = model.requested()
    for hp in sorted(set(expected) | set(requests)):
        got = {}
        for tgt in requests.get(hp, []):
            got[tgt] = got.get(tgt, 0) + 1
        exp = set(expected.get(hp, []))
        twice = [t for t, n in got.items() if n > 1]
        if twice:
            problems.append("%s: requested more than once: %s"
                            % (hp, _short("%s (%d)" % (t, got[t])
                                          for t in twice)))
        if set(got) - exp:
            problems.append("%s: requests the model does not make: %s"
                            % (hp, _short(set(got) - exp)))
        if exp - set(got):
            problems.append("%s: never requested: %s"
                            % (hp, _short(exp - set(got))))
        # robots.txt comes before every discovered URL of its host.
        seeds = {target(u) for u, r in want.items()
                 if r.depth == 0 and hostport(u) == hp}
        order = requests.get(hp, [])
        if "/robots.txt" in order:
            first = order.index("/robots.txt")
            early = [t for t in order[:first] if t not in seeds]
            if early:
                problems.append("%s: requested before robots.txt: %s"
                                % (hp, _short(early)))
    return problems


# ---------------------------------------------------------------------------
# Running pfetch over the fixture (for the test_crawl*.py scripts, which
# have imported pftest; the model above needs neither).

def fixture_dir():
    import pftest as t
    return t.SRC / "fixtures" / "crawl"


def hosts():
    """Host A and host B of the fixture on two ports of 127.0.0.1, each
    told both origins."""
    import pftest as t

    def args(i, ports):
        out = ["--root", str(fixture_dir() / "ab"[i]),
               "--port", str(ports[i])]
        for name, port in zip("AB", ports):
            out += ["--var", "ORIGIN_%s=http://127.0.0.1:%d" % (name, port),
                    "--var", "HOST_%s=127.0.0.1:%d" % (name, port)]
        return out
    return t.Servers(2, args)


def run(env, opts, seeds, **model):
    """Run pfetch with opts over seeds ((host, path) pairs) and compare
    every row, request, file and the exit status with crawl(**model);
    Fail with the list of problems.  Returns (result, model, site)."""
    import pftest as t
    with hosts() as hs:
        site = Site(fixture_dir(), {"a": hs.servers[0].base,
                              "b": hs.servers[1].base})
        urls = [site.url(h, p) for h, p in seeds]
        r = env.pfetch("--progress", "none", *opts, *urls, timeout=60)
        want = crawl(site, urls, **model)
        requests = {}
        for srv in hs.servers:
            requests[hostport(srv.base)] = [
                q["path"] if q["method"] == "GET"
                else "%s %s" % (q["method"], q["path"])
                for q in srv.requests()]
    rows = env.db().fetches()
    problems = compare(site, want, rows, requests, env.out, env.files())
    if want.failed():
        if r.rc != 1:
            problems.append("exit status %r, want 1 (%s failed)"
                            % (r.rc, _short(want.failed(), 3)))
    elif not want.refused() and r.rc != 0:
        problems.append("exit status %r, want 0" % r.rc)
    t.check(not problems, "%d rows (model: %d), problems:\n    %s"
            % (len(rows), len(want.rows), "\n    ".join(problems)))
    return r, want, site
