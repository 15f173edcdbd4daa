#!/usr/bin/env python3
"""-c after an interrupt: URLs done are not fetched again, a kept .part
is resumed with Range and If-Range (or restarted when the server ignores
the range, or has changed the file since), a .part already complete is
kept when the server answers 416, and the final file is the complete body
of one version."""

import signal

import pftest as t

DONE = "/_/bytes/1000/done"
SLOW = "/_/slow/100000/100/res%s?chunk=5000%s"  # 20 chunks, 2 s in all


def interrupt_then_resume(env, seed, query=""):
    slow = SLOW % (seed, query)
    urls = [env.url(DONE), env.url(slow)]
    p = env.start("--progress", "none", "-j", "2", *urls)
    done_file = env.out / t.tree_path(env.srv.port, DONE)
    t.wait_for(done_file.exists, 10, "the first file")

    def part_size():
        parts = t.part_files(env.out) if env.out.exists() else []
        return parts and (env.out / parts[0]).stat().st_size >= 5000
    t.wait_for(part_size, 10, "5000 bytes in the .part file")
    p.signal(signal.SIGINT)
    t.eq(p.wait(5).rc, 130, "exit status of the interrupted run")
    parts = t.part_files(env.out)
    t.eq(len(parts), 1, ".part files")
    kept = (env.out / parts[0]).stat().st_size

    r = env.pfetch("--progress", "none", "-c", *urls)
    t.eq(r.rc, 0, "exit status of the resumed run")
    t.eq(env.srv.count(DONE), 1, "requests of the URL already done")
    rows = [row for row in env.db().fetches() if row["run_id"] == 2]
    slow_rows = [row for row in rows if row["url"] == urls[1]]
    t.eq(len(slow_rows), 1, "rows of the resumed URL in run 2")
    row = slow_rows[0]
    t.eq(row["error"], None, "error")
    f = t.check_row_path(env.out, row)
    t.check(f.read_bytes() == t.pattern(100000, "res" + seed),
            "the resumed file differs")
    t.eq(t.part_files(env.out), [], ".part files after the resume")
    requests = [q for q in env.srv.requests() if q["path"] == slow]
    t.eq(len(requests), 2, "requests of the interrupted URL")
    return kept, requests[1]["range"]


@t.case
def resume_with_range(env):
    kept, rng = interrupt_then_resume(env, "1")
    t.eq(rng, "bytes=%d-" % kept, "Range of the resumed request")


@t.case
def resume_range_ignored(env):
    # The server answers 200 with the whole body: pfetch must start over.
    interrupt_then_resume(env, "2", "&norange=1")


def interrupted_versioned(env, key, query=""):
    """Start /_/versioned/100000/100/KEY (2 s), interrupt it with 5000
    bytes or more in its .part; returns (url path, bytes kept)."""
    path = "/_/versioned/100000/100/%s?chunk=5000%s" % (key, query)
    p = env.start("--progress", "none", env.url(path))

    def part_size():
        parts = t.part_files(env.out) if env.out.exists() else []
        return parts and (env.out / parts[0]).stat().st_size >= 5000
    t.wait_for(part_size, 10, "5000 bytes in the .part file")
    p.signal(signal.SIGINT)
    t.eq(p.wait(5).rc, 130, "exit status of the interrupted run")
    parts = t.part_files(env.out)
    t.eq(len(parts), 1, ".part files")
    return path, (env.out / parts[0]).stat().st_size


def resumed_row(env, path, body):
    r = env.pfetch("--progress", "none", "-c", env.url(path))
    t.eq(r.rc, 0, "exit status of the resumed run")
    rows = [x for x in env.db().fetches() if x["run_id"] == 2]
    t.eq(len(rows), 1, "rows of the resumed run")
    t.eq(rows[0]["error"], None, "error")
    f = t.check_row_path(env.out, rows[0])
    t.check(f.read_bytes() == body, "the resumed file differs")
    t.eq(t.part_files(env.out), [], ".part files after the resume")
    return [q for q in env.srv.requests() if q["path"] == path]


@t.case
def resume_with_if_range(env):
    path, kept = interrupted_versioned(env, "k1")
    reqs = resumed_row(env, path, t.pattern(100000, "k1:v1"))
    t.eq(len(reqs), 2, "requests")
    t.eq(reqs[1]["range"], "bytes=%d-" % kept, "Range of the resume")
    t.eq(reqs[1]["if_range"], '"k1-v1"', "If-Range of the resume")


@t.case
def resume_after_the_file_changed(env):
    # The server's copy changes between the runs: If-Range makes it send
    # the new version whole, which replaces the .part (no splicing).
    path, kept = interrupted_versioned(env, "k2")
    env.srv.get("/_/bump/k2")
    reqs = resumed_row(env, path, t.pattern(100000, "k2:v2"))
    t.eq(len(reqs), 2, "requests")
    t.eq(reqs[1]["if_range"], '"k2-v1"', "If-Range of the resume")


@t.case
def resume_without_validators(env):
    # No ETag, no Last-Modified: Range alone, as before.
    path, kept = interrupted_versioned(env, "k3", "&validators=none")
    reqs = resumed_row(env, path, t.pattern(100000, "k3:v1"))
    t.eq(reqs[1]["range"], "bytes=%d-" % kept, "Range of the resume")
    t.eq(reqs[1]["if_range"], None, "If-Range without a validator")


def part_of(env, path, data):
    part = env.out / (t.tree_path(env.srv.port, path) + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(data)


@t.case
def complete_part_kept_on_416(env):
    # The run before stopped between the last byte and the rename.
    path = "/_/bytes/3000/whole"
    body = t.pattern(3000, "whole")
    part_of(env, path, body)
    r = env.pfetch("--progress", "none", "-c", env.url(path))
    t.eq(r.rc, 0, "exit status")
    row = env.db().fetches()[0]
    t.eq(row["error"], None, "error")
    t.eq(row["bytes"], 3000, "bytes")
    t.check(t.check_row_path(env.out, row).read_bytes() == body,
            "the kept file differs")
    t.eq([q["range"] for q in env.srv.requests() if q["path"] == path],
         ["bytes=3000-"], "requests")


@t.case
def overlong_part_restarted_on_416(env):
    # A .part longer than the body cannot be a piece of it: start over.
    path = "/_/bytes/3000/short"
    part_of(env, path, b"x" * 4000)
    r = env.pfetch("--progress", "none", "-c", env.url(path))
    t.eq(r.rc, 0, "exit status")
    row = env.db().fetches()[0]
    t.eq(row["error"], None, "error")
    t.eq(row["attempts"], 2, "attempts")
    t.check(t.check_row_path(env.out, row).read_bytes() ==
            t.pattern(3000, "short"), "the restarted file differs")
    t.eq([q["range"] for q in env.srv.requests() if q["path"] == path],
         ["bytes=4000-", None], "requests")


t.run()
