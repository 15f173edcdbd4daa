#!/usr/bin/env python3
"""-c after an interrupt: URLs done are not fetched again, a kept .part
is resumed with Range (or restarted when the server ignores it), and the
final file is the complete body."""

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


t.run()
