#!/usr/bin/env python3
"""valgrind memcheck on representative runs of the real program: a list,
a two-host crawl with page requisites and robots.txt, and a run stopped
by SIGINT, and one with every network and identity option (TLS with a
private CA, a proxy's CONNECT, --user with a redirect to another port,
netrc, cookies loaded and saved).  No error, no leak (definite, indirect or possible).  Skipped
where valgrind is missing and in sanitizer builds (the two do not mix)."""

import shutil
import signal
import subprocess

import pftest as t
import crawlmodel as cm

VALGRIND = ["valgrind", "-q", "--leak-check=full",
            "--show-leak-kinds=definite,indirect,possible",
            "--errors-for-leak-kinds=definite,indirect,possible",
            "--error-exitcode=99"]


def usable():
    if shutil.which("valgrind") is None:
        t.skip("valgrind is not installed")
    deps = subprocess.run(["ldd", str(t.PFETCH)], capture_output=True)
    if b"libasan" in deps.stdout or b"libtsan" in deps.stdout:
        t.skip("a sanitizer build: valgrind does not run it")


def memcheck(env, *args):
    usable()
    argv = VALGRIND + [str(t.PFETCH), "--progress", "none"] + \
        [str(a) for a in args] + ["-o", str(env.out)]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=300, env=t.clean_env({}))
    err = p.stderr.decode()
    t.check(p.returncode != 99, "valgrind found errors:\n" + err[-4000:])
    t.check("==" not in err, "valgrind said:\n" + err[-4000:])
    return p.returncode


@t.case(root=t.SRC / "fixtures" / "site")
def list_of_files(env):
    t.eq(memcheck(env, "-j", "4", env.url("/"), env.url("/about.html"),
                  env.url("/_/bytes/300000/big"), env.url("/_/status/404")),
         1, "exit status (one 404)")


@t.case
def crawl_two_hosts(env):
    usable()
    with cm.hosts() as hs:
        seed = hs.servers[0].base + "/"
        rc = memcheck(env, "-r", "-l", "inf", "-p", "--span-hosts", seed)
    t.eq(rc, 1, "exit status (the site links to a 404)")
    t.check(len(env.db().fetches()) > 250, "rows")


@t.case
def stopped_by_sigint(env):
    usable()
    argv = VALGRIND + [str(t.PFETCH), "--progress", "none", "-j", "2",
                       env.url("/_/slow/100000/100/x?chunk=1000"),
                       env.url("/_/hang"), "-o", str(env.out)]
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=t.clean_env({}))
    t.wait_for(lambda: env.srv.count("/_/hang") > 0, 60, "the transfers")
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    err = err.decode()
    t.eq(p.returncode, 130, "exit status:\n" + err[-2000:])
    t.check("==" not in err, "valgrind said:\n" + err[-4000:])



@t.case
def network_and_identity(env):
    usable()
    import base64
    b64 = base64.b64encode(b"alice:secret").decode()
    c = t.make_ca(env.tmp / "pki")
    rc_file = env.tmp / "netrc"
    rc_file.write_text("machine 127.0.0.1 login alice password secret\n")
    cookies = env.tmp / "in.txt"
    cookies.write_text("# Netscape HTTP Cookie File\n"
                       "127.0.0.1\tFALSE\t/\tFALSE\t0\tk\tv\n")
    with t.Server(["--tls", c["cert"], c["key"]]) as tls, \
            t.Server(script="proxy.py") as proxy:
        rc = memcheck(env, "-j", "2", "--cacert", c["ca"], "--proxy",
                      "http://127.0.0.1:%d" % proxy.port,
                      "-u", "alice:secret", "--netrc-file", rc_file,
                      "--load-cookies", cookies, "--save-cookies",
                      env.tmp / "out.txt",
                      "https://127.0.0.1:%d/_/set-cookie/a/1" % tls.port,
                      "https://127.0.0.1:%d/_/digest-auth/alice/secret/d"
                      % tls.port,
                      env.url("/_/basic-auth/%s/x?to=https://127.0.0.1:%d"
                              "/_/echo-headers" % (b64, tls.port)))
    t.eq(rc, 0, "exit status")
    t.contains((env.tmp / "out.txt").read_text(), "\ta\t1", "saved jar")


t.run()
