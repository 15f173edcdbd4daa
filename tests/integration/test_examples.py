#!/usr/bin/env python3
"""The tutorial examples of tests/examples/, run against the test server
serving fixtures/examples/: each is a program written against pfetch.h
alone, and its output must be right and complete.

  gevent_images      a page's <img src>s, one coroutine per image
  futures_titles     submit + add_done_callback, then map, on a pool
  pool_callback      callback(status, result); close versus terminate
  producer_consumer  a list streamed through a small pf_chan
"""

import subprocess

import pftest as t

ROOT = t.SRC / "fixtures" / "examples"


def example(name):
    exe = t.PFETCH.parent / "tests" / "examples" / name
    t.check(exe.is_file(), "%s was not built" % exe)
    return exe


def run(env, name, *args, rc=0, timeout=60):
    argv = [str(example(name))] + [str(a) for a in args]
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout,
                           cwd=env.tmp, env=t.clean_env())
    except subprocess.TimeoutExpired:
        t.check(False, "%s did not exit within %d s" % (name, timeout))
    env.last = t.Result(argv, p.returncode, p.stdout, p.stderr, 0.0)
    t.eq(p.returncode, rc, "exit status of " + name)
    return p.stdout.decode("utf-8").splitlines()


def generated():
    """{path: size} of the virtual files of fixtures/examples."""
    table = {}
    for line in (ROOT / ".generated").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            path, size = line.split()
            table[path] = int(size)
    return table


# ---------------------------------------------------------------------------
# gevent_images

GALLERY = {"cat.png": "gallery/img/cat.png", "dog.jpg": "images/dog.jpg",
           "bird.gif": "images/bird.gif", "fish.png": "images/fish.png",
           "owl.webp": "gallery/img/owl.webp"}


def origin_server():
    """One server whose pages know its origin ({{ORIGIN}})."""
    return t.Servers(1, lambda i, ports: [
        "--root", str(ROOT), "--port", str(ports[i]),
        "--var", "ORIGIN=http://127.0.0.1:%d" % ports[i]])


@t.case
def gevent_images_downloads_every_image(env):
    sizes = generated()
    out = env.tmp / "images"
    out.mkdir()
    with origin_server() as group:
        srv = group.servers[0]
        lines = run(env, "gevent_images", srv.url("/gallery/"), out)
        stats = srv.stats()
    t.eq(lines[-1], "5 images, 0 failed", "summary")
    printed = dict(line.split(" ") for line in lines[:-1])
    t.eq(sorted(printed), sorted(GALLERY), "images printed")
    for name, path in GALLERY.items():
        t.eq(int(printed[name]), sizes[path], "printed size of " + name)
        body = (out / name).read_bytes()
        t.check(body == t.pattern(sizes[path], path),
                "%s: the %d bytes saved are not what was sent"
                % (name, len(body)))
        t.eq(stats.get("/" + path, 0)
             + stats.get("/" + path + "?size=small", 0), 1,
             "requests for /" + path)
    t.eq(sorted(p.name for p in out.iterdir()), sorted(GALLERY),
         "files saved")
    t.eq(stats.get("/images/not-an-image.png", 0), 0,
         "requests for a link that is no <img>")


@t.case(root=ROOT)
def gevent_images_reports_a_missing_page(env):
    run(env, "gevent_images", env.url("/gallery/missing.html"), env.tmp,
        rc=1)
    t.eq(env.srv.count("/gallery/missing.html"), 1, "page requests")


# ---------------------------------------------------------------------------
# futures_titles

TITLES = [("/pages/alpha.html", "Alpha"),
          ("/pages/beta.html", "Beta page"),
          ("/pages/gamma.html", "Gamma & Delta"),
          ("/pages/delta.html", "\u0394\u03ad\u03bb\u03c4\u03b1 \u2014 "
                                "\u00fcn\u00efcode"),
          ("/pages/epsilon.html", "Epsilon"),
          ("/_/redirect-to?url=/pages/beta.html", "Beta page")]


def split_titles(lines, word):
    """[(url, title)] of the lines starting with word, in order."""
    found = []
    for line in lines:
        kind, url, title = (line.split(" ", 2) + [""])[:3]
        if kind == word:
            found.append((url, title))
    return found


@t.case(root=ROOT)
def futures_titles_callbacks_then_map(env):
    urls = [env.url(p) for p, _ in TITLES]
    want = [(env.url(p), title) for p, title in TITLES]
    lines = run(env, "futures_titles", *urls)
    done = split_titles(lines, "done")
    t.eq(sorted(done), sorted(want), "titles printed by the callbacks")
    t.eq(split_titles(lines, "map"), want, "titles of map, in input order")
    t.eq(len(lines), 2 * len(urls), "lines printed")
    t.check(all(l.startswith("done ") for l in lines[:len(urls)]),
            "every callback ran before map began")
    # Twice each (callbacks, map); beta.html twice more, redirected to.
    for p, _ in TITLES[:5]:
        t.eq(env.srv.count(p), 4 if p.endswith("beta.html") else 2,
             "requests for " + p)


@t.case(root=ROOT)
def futures_titles_failure_is_the_futures_error(env):
    good, bad = env.url("/pages/alpha.html"), env.url("/_/status/404")
    lines = run(env, "futures_titles", good, bad, rc=1)
    t.check(("done %s Alpha" % good) in lines, "no title for %s" % good)
    t.check(any(l.startswith("failed %s " % bad) for l in lines),
            "the callback did not report %s as failed" % bad)
    t.eq(lines[-2:], ["map %s Alpha" % good,
                      "map %s failed: libcurl error" % bad], "map lines")


# ---------------------------------------------------------------------------
# pool_callback


def pool_lines(lines, phase):
    """{url: (status, size)} of the callback lines of a phase, and its
    summary line."""
    got, summary = {}, None
    for line in lines:
        f = line.split(" ")
        if f[0] == phase:
            t.check(f[3] not in got, "two callbacks for " + f[3])
            got[f[3]] = (f[1], f[2])
        elif f[0] == phase + ":":
            summary = line
    return got, summary


@t.case(root=ROOT)
def pool_callback_close_runs_all_terminate_cancels_pending(env):
    # /_/slow: 10 bytes, 0.2 s apart: busy for ~2 s, far longer than it
    # takes to terminate the pool once it has started.
    slow = env.url("/_/slow/10/200/gate")
    items = [env.url("/_/bytes/%d/item%d" % (100 * i, i))
             for i in range(1, 7)] + [env.url("/pages/alpha.html")]
    sizes = [100 * i for i in range(1, 7)] + [
        (ROOT / "pages" / "alpha.html").stat().st_size]
    lines = run(env, "pool_callback", slow, *items)

    close, summary = pool_lines(lines, "close")
    t.eq(summary, "close: 7 submitted, 7 done, 0 cancelled, 0 failed",
         "close summary")
    t.eq(close, {u: ("done", str(s)) for u, s in zip(items, sizes)},
         "close: (status, result) of every item")

    term, summary = pool_lines(lines, "terminate")
    t.eq(summary, "terminate: 8 submitted, 1 done, 7 cancelled, 0 failed",
         "terminate summary")
    want = {u: ("cancelled", "-") for u in items}
    want[slow] = ("done", "10")
    t.eq(term, want, "terminate: (status, result) of every item")
    # Cancelled work never ran: each item was fetched once, by close.
    stats = env.srv.stats()
    for u in items:
        path = u[len(env.srv.base):]
        t.eq(stats.get(path, 0), 1, "requests for " + path)


# ---------------------------------------------------------------------------
# producer_consumer


def list_of(env, n):
    urls = [env.url("/_/bytes/%d/u%d" % (10 * i + 1, i)) for i in range(n)]
    path = env.write_list("urls.txt", ["# a comment", ""] + urls + [""])
    return urls, path


def consumer_lines(lines):
    got = {}
    for line in lines:
        f = line.split(" ")
        if f[0] == "consumer":
            t.check(f[3] not in got, "two downloads of " + f[3])
            got[f[3]] = int(f[2])
    return got


@t.case
def producer_consumer_small_channel_holds_producer_back(env):
    urls, path = list_of(env, 12)
    lines = run(env, "producer_consumer", path, 3, 2)
    t.eq(consumer_lines(lines), {u: 10 * i + 1 for i, u in enumerate(urls)},
         "sizes downloaded")
    last = lines[-1].split(" ")
    waits = int(last[-2])
    t.eq(last[:8], ["12", "urls,", "12", "ok,", "0", "failed,",
                    str(sum(10 * i + 1 for i in range(12))), "bytes,"],
         "summary")
    t.check(waits >= 1, "the producer never waited: %r" % lines[-1])
    t.eq(sum(1 for l in lines if l.startswith("producer waits")), waits,
         "waits printed")
    # Held back before the first download ended: 2 in the channel and at
    # most one in each consumer's hands, never the whole list.
    first = next(i for i, l in enumerate(lines) if l.startswith("consumer"))
    t.check(lines[0].startswith("producer waits") and first > 0,
            "the producer did not wait before the first download ended")
    for u in urls:
        t.eq(env.srv.count(u[len(env.srv.base):]), 1, "requests for " + u)


@t.case
def producer_consumer_roomy_channel_never_waits(env):
    urls, path = list_of(env, 5)
    lines = run(env, "producer_consumer", path, 2, 8)
    t.eq(len(consumer_lines(lines)), 5, "downloads")
    t.check(lines[-1].endswith("producer waited 0 times"),
            "summary: %r" % lines[-1])


t.run()
