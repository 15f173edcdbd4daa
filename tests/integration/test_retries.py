#!/usr/bin/env python3
"""Retries: transient failures (5xx, 429, resets) are retried with backoff
and Retry-After, others never; attempts counts requests; a waiting retry
holds no -j slot.  Slow by nature (real backoff): its own ctest TIMEOUT."""

import pftest as t


def one_row(env):
    rows = env.db().fetches()
    t.eq(len(rows), 1, "rows")
    return rows[0]


@t.case
def flaky_recovers(env):
    url = env.url("/_/flaky/2/a")
    r = env.pfetch("--progress", "none", "--retries", "3", url)
    t.eq(r.rc, 0, "exit status")
    row = one_row(env)
    t.eq(row["attempts"], 3, "attempts")
    t.check_ok_row(env.out, row, t.pattern(64, "a"))
    t.eq(env.srv.count("/_/flaky/2/a"), 3, "requests")


@t.case
def flaky_gives_up(env):
    url = env.url("/_/flaky/2/b")
    r = env.pfetch("--progress", "none", "--retries", "1", url)
    t.eq(r.rc, 1, "exit status")
    row = one_row(env)
    t.eq(row["attempts"], 2, "attempts")
    t.check_failed_row(row, status=503)
    t.contains(row["error"], "503", "error")
    t.eq(env.srv.count("/_/flaky/2/b"), 2, "requests")
    t.eq(env.files(), [], "files")


@t.case
def not_found_never_retried(env):
    url = env.url("/_/status/404/r")
    r = env.pfetch("--progress", "none", "--retries", "3", url)
    t.eq(r.rc, 1, "exit status")
    t.eq(one_row(env)["attempts"], 1, "attempts")
    t.eq(env.srv.count("/_/status/404/r"), 1, "requests")


@t.case
def transient_statuses(env):
    codes = [500, 502, 504, 429, 408]
    urls = {c: env.url("/_/flaky/1/s%d?status=%d" % (c, c)) for c in codes}
    r = env.pfetch("--progress", "none", "--retries", "1", *urls.values())
    t.eq(r.rc, 0, "exit status")
    rows = env.db().by_url()
    for c, url in urls.items():
        t.eq(rows[url]["attempts"], 2, "attempts after a %d" % c)
        t.check_ok_row(env.out, rows[url], t.pattern(64, "s%d" % c))


@t.case
def reset_retried(env):
    url = env.url("/_/reset")
    r = env.pfetch("--progress", "none", "--retries", "1", url)
    t.eq(r.rc, 1, "exit status")
    row = one_row(env)
    t.check_failed_row(row)
    t.eq(row["attempts"], 2, "attempts")
    t.eq(env.srv.count("/_/reset"), 2, "requests")


def gap(env, path):
    times = [q["t"] for q in env.srv.requests() if q["path"] == path]
    t.eq(len(times), 2, "requests of " + path)
    return times[1] - times[0]


@t.case
def retry_after_frees_slot(env):
    slow = env.url("/_/retry-after/3/e")
    other = env.url("/_/bytes/10/other")
    r = env.pfetch("--progress", "none", "--retries", "1", "-j", "1",
                   slow, other)
    t.eq(r.rc, 0, "exit status")
    rows = env.db().by_url()
    t.eq(rows[slow]["attempts"], 2, "attempts")
    t.check_ok_row(env.out, rows[slow], t.pattern(64, "e"))
    t.check_ok_row(env.out, rows[other], t.pattern(10, "other"))
    waited = gap(env, "/_/retry-after/3/e")
    t.check(waited >= 2.9, "retried after %.2f s despite Retry-After: 3"
            % waited)
    log = env.srv.requests()
    order = [q["path"] for q in log]
    t.check(order.index("/_/bytes/10/other") <
            len(order) - 1 - order[::-1].index("/_/retry-after/3/e"),
            "the waiting retry held the only -j slot: %r" % order)


@t.case
def retry_after_date(env):
    url = env.url("/_/retry-after/3/h?date=1")
    r = env.pfetch("--progress", "none", "--retries", "1", url)
    t.eq(r.rc, 0, "exit status")
    t.eq(one_row(env)["attempts"], 2, "attempts")
    waited = gap(env, "/_/retry-after/3/h?date=1")
    t.check(waited >= 1.9, "retried after %.2f s despite a Retry-After "
            "date 3 s ahead" % waited)



# A body cut after CUT of its SIZE bytes by the first response (FIN), whole
# or in pieces after that; retries come 0.1 s apart.
SIZE, CUT = 300000, 100000
FAST = ["--progress", "none", "--retry-backoff", "0.1"]


def cut_requests(env, key):
    return [q for q in env.srv.requests() if key in q["path"]]


@t.case
def retry_resumes_the_part(env):
    # The first response had validators: the retry asks for the rest with
    # Range and If-Range, and the file comes out whole.
    url = env.url("/_/cut/%d/%d/r1" % (SIZE, CUT))
    r = env.pfetch(*FAST, url)
    t.eq(r.rc, 0, "exit status; stderr:\n" + r.stderr)
    row = one_row(env)
    t.check_ok_row(env.out, row, t.pattern(SIZE, "r1"), status=206)
    t.eq(row["attempts"], 2, "attempts")
    qs = cut_requests(env, "r1")
    t.eq([(q["range"], q["if_range"]) for q in qs],
         [(None, None), ("bytes=%d-" % CUT, '"r1"')], "Range, If-Range")


@t.case
def retry_without_validators_starts_over(env):
    url = env.url("/_/cut/%d/%d/r2?validators=none" % (SIZE, CUT))
    r = env.pfetch(*FAST, url)
    t.eq(r.rc, 0, "exit status")
    row = one_row(env)
    t.check_ok_row(env.out, row, t.pattern(SIZE, "r2"))
    t.eq([q["range"] for q in cut_requests(env, "r2")], [None, None],
         "Range of each request")


@t.case
def retry_gets_a_wrong_piece(env):
    # The server answers the Range with a 206 of another piece: it is not
    # appended; the file is fetched whole at once.
    url = env.url("/_/cut/%d/%d/r3?badrange=1" % (SIZE, CUT))
    r = env.pfetch(*FAST, url)
    t.eq(r.rc, 0, "exit status; stderr:\n" + r.stderr)
    row = one_row(env)
    t.check_ok_row(env.out, row, t.pattern(SIZE, "r3"))
    t.eq(row["attempts"], 3, "attempts")
    t.eq([q["range"] for q in cut_requests(env, "r3")],
         [None, "bytes=%d-" % CUT, None], "Range of each request")


@t.case
def encoded_body_never_resumed(env):
    # A gzip body cut short is fetched whole again: Range would count the
    # encoded bytes.  And a .part resumed by -c that meets a 206 of
    # encoded bytes starts over instead of appending them.
    path = "/_/cut/%d/%d/r4?gzip=1" % (SIZE, 5000)
    url = env.url(path)
    r = env.pfetch(*FAST, url)
    t.eq(r.rc, 0, "exit status; stderr:\n" + r.stderr)
    row = one_row(env)
    f = t.check_ok_row(env.out, row, t.pattern(SIZE, "r4"))
    t.eq([q["range"] for q in cut_requests(env, "r4")], [None, None],
         "Range of each request")
    part = f.with_name(f.name + ".part")
    f.rename(part)
    with open(part, "r+b") as fp:
        fp.truncate(1000)
    seen = len(cut_requests(env, "r4"))
    r = env.pfetch(*FAST, "-c", "--db", env.tmp / "again.db", url)
    t.eq(r.rc, 0, "exit status of -c; stderr:\n" + r.stderr)
    t.eq(f.read_bytes(), t.pattern(SIZE, "r4"), "the file after -c")
    t.check(not part.exists(), "the .part is left")
    t.eq([q["range"] for q in cut_requests(env, "r4")[seen:]],
         ["bytes=1000-", None], "Range of each request of -c")


t.run()
