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


t.run()
