#!/usr/bin/env python3
"""Usage errors: exit 2, a message on stderr, nothing on stdout and no
request made.  --help and --version: exit 0, text on stdout."""

import re

import pftest as t

BAD = [
    ["-j", "0"],
    ["-j", "-1"],
    ["-j", "abc"],
    ["-j", "2000000000"],
    ["-j", "10000000"],
    ["--per-host", "0"],
    ["-P", "100000"],
    ["-r", "-l", "-3"],
    ["--rate", "-5"],
    ["--timeout", "nan"],
    ["--timeout", "1e400"],
    ["--jobs", ""],
    ["--timeout", "-1"],
    ["--connect-timeout", "-1"],
    ["--stall-timeout", "-1"],
    ["--retries", "-1"],
    ["-H", "X: a\r\nB: c"],
    ["-H", "X: a\nB: c"],
    ["-H", "X: a\rB: c"],
    ["--no-such-option"],
    ["-nc"],
    ["--user", "alice"],
    ["--use", "alice"],
    ["--user-agen", "x"],
    ["--proxy", "127.0.0.1:3128"],
    ["--cacert", "no-such-ca.pem"],
    ["--netrc-file", "no-such-netrc"],
    ["--load-cookies", "no-such-jar.txt"],
    ["--retr", "3"],
    ["--quiet=yes"],
    ["--jobs"],
    ["--layout", "sideways"],
    ["--progress", "fancy"],
    ["--max-filesize", "lots"],
    ["missing-list.txt"],
]


@t.case
def usage_errors(env):
    url = env.url("/_/bytes/10/usage")
    problems = []
    for args in BAD:
        r = env.pfetch(*(args + [url]))
        if r.rc != 2:
            problems.append("%r: exit %s, want 2\n%s"
                            % (args, r.rc, r.describe()))
        elif not r.err.strip():
            problems.append("%r: no message on stderr" % (args,))
        elif r.out:
            problems.append("%r: stdout %r" % (args, r.stdout))
        n = env.srv.total()
        if n:
            problems.append("%r: %d request(s) made" % (args, n))
            break
    t.check(not problems, "\n".join(problems))
    t.check(not (env.out / t.tree_path(env.srv.port, "/_/bytes/10/usage"))
            .exists(), "a file was saved")


@t.case
def bad_options_named(env):
    """The message names the option at fault, never another argument, and
    an abbreviation of a long name is refused with the names it could
    mean (long names are matched exactly, as curl does)."""
    url = env.url("/_/bytes/10/usage")
    cases = [
        (["-nc", url], "unknown option '-n' in '-nc'"),
        (["-n", url], "unknown option '-n'"),
        (["--use", "alice", url],
         "unknown option '--use'; did you mean --user-agent or --user?"),
        (["--user", "alice", url], "-u/--user takes USER:PASSWORD"),
        (["--retr", "3", url], "unknown option '--retr'; did you mean "
         "--retries or --retry-backoff?"),
        (["--no-such-option", url], "unknown option '--no-such-option'\n"),
        (["--quiet=yes", url], "option '--quiet' takes no value"),
        ([url, "--jobs"], "option '--jobs' needs a value"),
        ([url, "-qj"], "option '-j' needs a value"),
    ]
    for args, want in cases:
        r = env.pfetch(*args, out=False)
        t.eq(r.rc, 2, "exit status of %r" % args)
        t.contains(r.stderr, "pfetch: " + want, "stderr of %r" % args)
        t.check(str(t.PFETCH) not in r.stderr,
                "%r: the message names the program: %r" % (args, r.stderr))
    t.eq(env.srv.total(), 0, "requests")


@t.case
def option_forms(env):
    """Values attached or separate, short options clustered, options after
    the operands, and "--" before an operand that starts with '-'."""
    urls = [env.url("/_/bytes/10/forms-%d" % i) for i in range(3)]
    lst = env.tmp / "-list"
    lst.write_text(urls[2] + "\n")
    r = env.pfetch(urls[0], "--jobs=2", "-qj2", "--per-host", "1",
                   "--user-agent=forms/1", "-Hx-a: 1", "-o%s" % env.out,
                   urls[1], "--", "-list", out=False)
    t.eq(r.rc, 0, "exit status\n" + r.describe())
    t.eq(r.stderr, "", "stderr with -q")
    t.eq(sorted(env.db().by_url()), sorted(urls), "URLs fetched")


@t.case
def missing_list_named(env):
    r = env.pfetch("missing-list.txt")
    t.eq(r.rc, 2, "exit status")
    t.contains(r.stderr, "missing-list.txt", "stderr")


@t.case
def directory_as_list(env):
    (env.tmp / "adir").mkdir()
    r = env.pfetch("adir")
    t.eq(r.rc, 2, "exit status")
    t.check(r.err.strip(), "no message on stderr")


@t.case
def help(env):
    for opt in ("--help", "-h"):
        r = env.pfetch(opt, out=False)
        t.eq(r.rc, 0, "exit status of " + opt)
        t.icontains(r.stdout, "usage", "stdout of " + opt)
        for o in ("--output-dir", "--jobs", "--retries", "--layout"):
            t.contains(r.stdout, o, "stdout of " + opt)
    t.eq(env.srv.total(), 0, "requests")


@t.case
def version(env):
    cmake = (t.SRC / "CMakeLists.txt").read_text()
    want = re.search(r"project\(\s*pfetch\s+VERSION\s+([0-9.]+)", cmake)
    r = env.pfetch("--version", out=False)
    t.eq(r.rc, 0, "exit status")
    t.contains(r.stdout, want.group(1), "stdout")


t.run()
