#!/usr/bin/env python3
"""Credentials and cookies.  --user answers Basic and Digest challenges
within one attempt; wrong credentials are a final 401 after one attempt.
Credentials (--user, netrc, a URL's own) never follow a redirect to
another host:port, and --user goes to no host a crawl finds: the far side's echo of the request headers has no
Authorization, while a redirect within the host keeps it.  netrc
entries go to the machine they name, on any port.  One cookie jar per
run: a cookie set by one response goes with later requests;
--save-cookies writes it in the Netscape format (session cookies too,
interrupted runs too), curl reads it, and --load-cookies reads it and
curl's."""

import base64
import shutil
import signal
import subprocess

import pftest as t

B64 = base64.b64encode(b"alice:secret").decode()


def echo_of(env, port, path):
    return (env.out / t.tree_path(port, path)).read_text()


def saved(env, url):
    """The body saved for url (the last row of it)."""
    rows = [r for r in env.db().fetches() if r["url"] == url]
    t.check(rows, "no row for %s" % url)
    return t.check_row_path(env.out, rows[-1]).read_text()


@t.case
def basic_and_digest(env):
    basic = env.url("/_/basic-auth/%s/b" % B64)
    digest = env.url("/_/digest-auth/alice/secret/d")
    r = env.pfetch("-q", "--user", "alice:secret", basic, digest)
    t.eq(r.rc, 0, "exit status with the right credentials")
    rows = env.db().by_url()
    t.check_ok_row(env.out, rows[basic], t.pattern(64, "b"))
    t.check_ok_row(env.out, rows[digest], t.pattern(64, "d"))
    t.eq(rows[digest]["attempts"], 1, "attempts of a Digest challenge")
    t.check("alice:secret" not in env.db().runs()[0]["argv"], "argv masked")
    wrong_b = env.url("/_/basic-auth/%s/wb" % B64)
    wrong_d = env.url("/_/digest-auth/alice/secret/wd")
    r = env.pfetch("-q", "-u", "alice:wrong", wrong_b, wrong_d)
    t.eq(r.rc, 1, "exit status with a wrong password")
    rows = env.db().by_url()
    for u in (wrong_b, wrong_d):
        t.check_failed_row(rows[u], 401)
        t.eq(rows[u]["attempts"], 1, "attempts of a 401 (final)")
    t.check(env.srv.count("/_/digest-auth/alice/secret/wd") <= 2,
            "requests of a wrong Digest: %d"
            % env.srv.count("/_/digest-auth/alice/secret/wd"))
    r = env.pfetch("-q", "--user", "alice", basic)
    t.eq(r.rc, 2, "exit status for --user without a password")


@t.case
def no_credentials_across_hosts(env):
    with t.Server() as other:
        port = env.srv.port
        far = [other.url("/_/echo-headers/port"),
               "http://localhost:%d/_/echo-headers/host" % port]
        near = env.url("/_/echo-headers/near")
        urls = [env.url("/_/basic-auth/%s/x%d?to=%s" % (B64, i, to))
                for i, to in enumerate(far + [near])]
        r = env.pfetch("-q", "--user", "alice:secret", *urls)
        t.eq(r.rc, 0, "exit status")
        t.contains(saved(env, urls[2]), "Authorization: Basic " + B64,
                   "within the host")
        t.check("Authorization" not in saved(env, urls[0]),
                "credentials went to another port")
        t.check("Authorization" not in saved(env, urls[1]),
                "credentials went to another host")
        # A URL's own credentials stay home too.
        url = "http://alice:secret@127.0.0.1:%d/_/basic-auth/%s/u?to=%s" % (
            port, B64, other.url("/_/echo-headers/url"))
        r = env.pfetch("-q", url)
        t.eq(r.rc, 0, "exit status with a URL's credentials")
        t.check("Authorization" not in saved(env, url.replace(
                "alice:secret", "alice:***")),
                "a URL's credentials went to another port")
        # --user goes to the operands' hosts only.
        r = env.pfetch("-q", "-u", "alice:secret",
                       other.url("/_/basic-auth/%s/o" % B64),
                       "http://localhost:%d/_/basic-auth/%s/l" % (port, B64))
        t.eq(r.rc, 0, "both operands' hosts get --user")


@t.case
def user_not_sent_to_crawled_hosts(env):
    """A link a crawl finds on another host:port gets no --user."""
    site = env.tmp / "site"
    site.mkdir()
    link = env.url("/_/basic-auth/%s/linked" % B64)
    (site / "index.html").write_text(
        '<html><body><a href="%s">x</a></body></html>\n' % link)
    with t.Server(root=site) as seed_srv:
        seed = seed_srv.url("/index.html")
        r = env.pfetch("-q", "-r", "-l", "1", "--span-hosts", "--no-robots",
                       "-u", "alice:secret", seed)
        t.eq(r.rc, 1, "exit status (the link's 401)")
        rows = env.db().by_url()
        t.eq(rows[seed]["error"], None, "the seed's error")
        t.check_failed_row(rows[link], 401)
        t.eq(rows[link]["depth"], 1, "the link's depth")


@t.case
def netrc(env):
    with t.Server() as other:
        rc = env.tmp / "netrc"
        rc.write_text("machine localhost login bob password nope\n"
                      "machine 127.0.0.1 login alice password secret\n")
        urls = [env.url("/_/basic-auth/%s/n" % B64),
                other.url("/_/basic-auth/%s/m" % B64)]
        r = env.pfetch("-q", "--netrc-file", rc, *urls)
        t.eq(r.rc, 0, "exit status with --netrc-file, any port")
        home = env.tmp / "home"
        home.mkdir()
        shutil.copy(rc, home / ".netrc")
        (home / ".netrc").chmod(0o600)
        url = env.url("/_/basic-auth/%s/h?to=%s" % (
            B64, other.url("/_/echo-headers/netrc")))
        r = env.pfetch("-q", "--netrc", url, env={"HOME": str(home)})
        t.eq(r.rc, 0, "exit status with --netrc")
        t.check("Authorization" not in saved(env, url),
                "netrc credentials followed a redirect to another port")
        # localhost's entry (bob) is not 127.0.0.1's.
        r = env.pfetch("-q", "--netrc-file", rc,
                       "http://localhost:%d/_/basic-auth/%s/bob"
                       % (env.srv.port, B64))
        t.eq(r.rc, 1, "exit status with another machine's entry")
        # Without --netrc, ~/.netrc is not read.
        r = env.pfetch("-q", env.url("/_/basic-auth/%s/none" % B64),
                       env={"HOME": str(home)})
        t.eq(r.rc, 1, "exit status without --netrc")


def jar_lines(path):
    return [l.split("\t") for l in path.read_text().splitlines()
            if l and (not l.startswith("#") or l.startswith("#HttpOnly_"))]


@t.case
def cookie_jar_shared(env):
    lst = env.write_list("urls.txt", [env.url("/_/set-cookie/a/1"),
                                      env.url("/_/echo-headers/after")])
    jar = env.tmp / "jar.txt"
    r = env.pfetch("-q", "-j", "1", "--save-cookies", jar, lst)
    t.eq(r.rc, 0, "exit status")
    t.contains(echo_of(env, env.srv.port, "/_/echo-headers/after"),
               "Cookie: a=1", "cookie sent on a later request")
    text = jar.read_text()
    t.check(text.startswith("# Netscape HTTP Cookie File"), "jar header")
    lines = jar_lines(jar)
    t.eq(len(lines), 1, "cookies in the jar: %r" % text)
    t.eq((lines[0][0], lines[0][4], lines[0][5], lines[0][6]),
         ("127.0.0.1", "0", "a", "1"), "the session cookie's line")
    t.eq(jar.stat().st_mode & 0o777, 0o600, "the jar's mode")
    # curl reads it, and pfetch reads curl's.
    if shutil.which("curl") is None:
        t.skip("curl is not installed")
    got = subprocess.run(
        ["curl", "-s", "--noproxy", "*", "-b", str(jar),
         env.url("/_/echo-headers/curl")], capture_output=True,
        env=t.clean_env()).stdout.decode()
    t.contains(got, "Cookie: a=1", "curl sends pfetch's cookie")
    curljar = env.tmp / "curl.txt"
    subprocess.run(["curl", "-s", "--noproxy", "*", "-c", str(curljar),
                    env.url("/_/set-cookie/b/2?max_age=3600")],
                   check=True, capture_output=True, env=t.clean_env())
    r = env.pfetch("-q", "--load-cookies", curljar, "--save-cookies", jar,
                   env.url("/_/echo-headers/loaded"))
    t.eq(r.rc, 0, "exit status with --load-cookies")
    t.contains(echo_of(env, env.srv.port, "/_/echo-headers/loaded"),
               "Cookie: b=2", "curl's cookie sent")
    names = sorted(l[5] for l in jar_lines(jar))
    t.eq(names, ["b"], "cookies saved after loading curl's")
    r = env.pfetch("-q", "--load-cookies", env.tmp / "none.txt",
                   env.url("/_/bytes/1"))
    t.eq(r.rc, 2, "exit status for a missing --load-cookies file")


@t.case
def cookies_saved_when_interrupted(env):
    jar = env.tmp / "jar.txt"
    lst = env.write_list("urls.txt", [env.url("/_/set-cookie/s/kept"),
                                      env.url("/_/hang")])
    run = env.start("-q", "-j", "1", "--save-cookies", jar, lst)
    t.wait_for(lambda: env.srv.count("/_/hang") == 1, 20, "the hang")
    run.signal(signal.SIGINT)
    r = run.wait(20)
    t.eq(r.rc, 130, "exit status")
    t.eq([(l[5], l[6]) for l in jar_lines(jar)], [("s", "kept")],
         "the jar of an interrupted run")
    r = env.pfetch("-q", "--save-cookies", env.tmp / "no" / "dir" / "jar",
                   env.url("/_/set-cookie/x/1"))
    t.eq(r.rc, 3, "exit status when the jar cannot be written")
    t.contains(r.stderr, "cannot save cookies", "message")


t.run()
