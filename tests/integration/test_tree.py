#!/usr/bin/env python3
"""The tree layout: DIR/host:port/path, the query kept in the name, and a
path that is a file for one URL and a directory for another: both saved."""

import pftest as t


def fetch_all(env, paths, *opts):
    urls = [env.url(p) for p in paths]
    r = env.pfetch("--progress", "none", *opts, *urls)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().by_url()
    t.eq(sorted(rows), sorted(urls), "URLs with a row")
    return [rows[u] for u in urls]


def check_both_saved(env, rows, bodies):
    for row, body in zip(rows, bodies):
        t.check_ok_row(env.out, row, body)
    t.eq(len({r["path"] for r in rows}), len(rows), "distinct paths")
    t.eq(sorted(env.files()), sorted(r["path"] for r in rows), "files")


@t.case
def file_then_directory(env):
    rows = fetch_all(env, ["/_/bytes/10/clash", "/_/bytes/10/clash/inner"],
                     "-j", "1")
    check_both_saved(env, rows, [t.pattern(10, "clash"),
                                 t.pattern(10, "clash/inner")])


@t.case
def directory_then_file(env):
    rows = fetch_all(env, ["/_/bytes/10/clash/inner", "/_/bytes/10/clash"],
                     "-j", "1")
    check_both_saved(env, rows, [t.pattern(10, "clash/inner"),
                                 t.pattern(10, "clash")])


@t.case
def directory_url_and_file(env):
    rows = fetch_all(env, ["/_/bytes/10/d/", "/_/bytes/10/d",
                           "/_/bytes/10/d/index.html"], "-j", "1")
    check_both_saved(env, rows, [t.pattern(10, "d/"), t.pattern(10, "d"),
                                 t.pattern(10, "d/index.html")])


@t.case
def query_in_name(env):
    paths = ["/_/bytes/10/qq", "/_/bytes/10/qq?a=1", "/_/bytes/10/qq?a=2",
             "/_/bytes/10/qq?a=/x/../y&b=%2F"]
    rows = fetch_all(env, paths)
    check_both_saved(env, rows, [t.pattern(10, "qq")] * len(paths))
    t.eq(rows[0]["path"], t.tree_path(env.srv.port, paths[0]),
         "path without a query")
    for row in rows[1:]:
        t.check(row["path"].startswith(
            t.tree_path(env.srv.port, "/_/bytes/10/")),
            "path %r is not beside the query-less one" % row["path"])


# -- directory links without their slash ---------------------------------

SITE = {
    "index.html": '<a href="sub">sub</a> <a href="other.html">other</a>\n',
    "other.html": '<a href="sub/">sub again</a>\n',
    "sub/index.html": '<a href="child.html">child</a>'
                      ' <a href="./">self</a> <a href="../sub">up</a>\n',
    "sub/child.html": '<p>child</p>\n',
}


def make_site(env):
    root = env.tmp / "site"
    for rel, text in SITE.items():
        f = root / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(text)
    return root


def crawl_site(env, *opts):
    """Crawl the little site; {url path: row} of the log."""
    with t.Server(root=make_site(env)) as srv:
        r = env.pfetch("--progress", "none", "-r", *opts, srv.url("/"))
        t.eq(r.rc, 0, "exit status")
        t.eq(srv.count("/sub"), 1, "requests of /sub")
        host = t.tree_path(srv.port, "")
        rows = env.db().by_url()
    return host, {u[len("http://") + len(host):]: row
                  for u, row in rows.items()}


def check_slash_site(env, host, rows):
    for rel, text in SITE.items():
        f = env.out / host / rel
        t.check(f.is_file(), "%s is not a file" % f.relative_to(env.out))
        t.eq(f.read_text(), text, "content of %s" % rel)
    t.eq(rows["/sub"]["path"], host + "/sub/index.html", "path of /sub")
    t.contains(rows["/sub"]["final_url"], "/sub/", "final_url of /sub")
    t.check(not any(p.startswith(host + "/sub.") for p in env.files()),
            "a .d or .N beside sub/: %r" % env.files())
    # Every link of a saved page names a file on disk.
    for rel in ("index.html", "sub/index.html"):
        page = env.out / host / rel
        for link in ("sub", "child.html", "./", "../sub"):
            if 'href="%s"' % link not in page.read_text():
                continue
            target = (page.parent / link).resolve()
            if target.is_dir():
                target = target / "index.html"
            t.check(target.is_file(), "%s: link %s is not on disk"
                    % (rel, link))


@t.case
def slash_redirect_saved_as_directory(env):
    """/sub answered by a redirect to /sub/ is saved as sub/index.html,
    and the links of that page resolve on disk; /sub/, linked again
    after the redirect, is not fetched a second time."""
    host, rows = crawl_site(env, "-j", "1")
    check_slash_site(env, host, rows)
    t.check("/sub/" not in rows, "/sub/ fetched besides /sub")
    t.eq(sorted(env.files()),
         sorted(host + "/" + rel for rel in SITE), "files")


@t.case
def slash_redirect_resumed(env):
    """The same with -c over an empty directory, which opens .part files
    before the request: the redirect still decides the name."""
    host, rows = crawl_site(env, "-c", "-j", "4")
    check_slash_site(env, host, rows)


@t.case
def slash_redirect_child_first(env):
    """A child fetched before the redirecting parent: the directory is
    already there, and the parent's page goes into it."""
    with t.Server(root=make_site(env)) as srv:
        urls = [srv.url("/sub/child.html"), srv.url("/sub")]
        r = env.pfetch("--progress", "none", "-j", "1", *urls)
        t.eq(r.rc, 0, "exit status")
        host = t.tree_path(srv.port, "")
    rows = env.db().by_url()
    t.eq(rows[urls[1]]["path"], host + "/sub/index.html", "path of /sub")
    t.eq(sorted(env.files()), [host + "/sub/child.html",
                               host + "/sub/index.html"], "files")


@t.case
def slash_url_and_redirect_both_listed(env):
    """/sub/ and /sub in one list: both get a row, and both rows name
    the one file sub/index.html."""
    with t.Server(root=make_site(env)) as srv:
        urls = [srv.url("/sub/"), srv.url("/sub")]
        r = env.pfetch("--progress", "none", "-j", "1", *urls)
        t.eq(r.rc, 0, "exit status")
        host = t.tree_path(srv.port, "")
    rows = env.db().by_url()
    for u in urls:
        t.eq(rows[u]["path"], host + "/sub/index.html", "path of " + u)
    t.eq(sorted(env.files()), [host + "/sub/index.html"], "files")


@t.case
def genuine_clash_still_d(env):
    """No redirect: a URL that is a file and another below it, as a
    directory, still meet the .d rule."""
    rows = fetch_all(env, ["/_/bytes/10/c", "/_/bytes/10/c/inner"], "-j", "1")
    t.eq([r["path"] for r in rows],
         [t.tree_path(env.srv.port, "/_/bytes/10/c"),
          t.tree_path(env.srv.port, "/_/bytes/10/c.d/inner")], "paths")

t.run()
