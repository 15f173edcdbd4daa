#!/bin/sh
# demo.sh -- pfetch's two jobs on shipped examples, then reports from the log.
#
# Usage: tests/demo.sh [OUTDIR]      (default OUTDIR: ./demo-out)
#
# 1. A list: serves fixtures/site with tests/server.py on a free port of
#    127.0.0.1, writes the URL list fixtures/example-urls.txt with that port
#    filled in and runs pfetch on it into OUTDIR/list.
# 2. A crawl: serves the two hosts of fixtures/crawl (a and b) on two more
#    ports and runs pfetch -r -p from the first host's home page into
#    OUTDIR/crawl.  That site links to a missing page and to pages its
#    robots.txt refuses, on purpose: the report shows them, and the crawl
#    exits 1.
# Prints a short report read from each pfetch.db and stops the servers.
# Exits with the list run's status, or 3 if the crawl did not finish
# (its status is neither 0 nor 1).  The binary is build/pfetch unless
# PFETCH names another.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
pfetch=${PFETCH:-$top/build/pfetch}
out=${1:-demo-out}

if [ ! -x "$pfetch" ]; then
    echo "demo.sh: $pfetch is missing; build it first:" >&2
    echo "    cmake -B build && cmake --build build" >&2
    exit 3
fi

work=$(mktemp -d)
servers=
cleanup() {
    for pid in $servers; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# serve NAME ARGS...: start tests/server.py; its port lands in $port.
serve() {
    name=$1
    shift
    python3 "$top/tests/server.py" "$@" >"$work/$name.out" </dev/null &
    servers="$servers $!"
    # The server prints "PORT <n>" once it listens; give it five seconds.
    port=
    tries=0
    while [ -z "$port" ]; do
        port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$work/$name.out")
        [ -n "$port" ] && break
        tries=$((tries + 1))
        if [ "$tries" -gt 50 ]; then
            echo "demo.sh: the test server did not start" >&2
            exit 3
        fi
        sleep 0.1
    done
}

# A port nobody listens on now: the crawl's hosts link to each other, so
# each must know the other's port before it starts.
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

cat >"$work/report.py" <<'EOF'
import os
import sqlite3
import sys

out = sys.argv[1]
db_path = os.path.join(out, "pfetch.db")
if not os.path.exists(db_path):
    print("no log database at", db_path)
    sys.exit(0)
db = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
run = db.execute("SELECT max(id) FROM runs").fetchone()[0]
rows = db.execute("SELECT status, bytes, path, error, url, depth FROM fetches "
                  "WHERE run_id = ? ORDER BY depth, path", (run,)).fetchall()
ok = [r for r in rows if r[3] is None]
refused = [r for r in rows if r[3] == "refused by robots.txt"]
total = sum(r[1] or 0 for r in ok)
print("Run %s: %d URLs, %d saved, %d failed, %s%d bytes"
      % (run, len(rows), len(ok), len(rows) - len(ok) - len(refused),
         "%d refused by robots.txt, " % len(refused) if refused else "",
         total))
if len(rows) <= 20:
    for status, size, path, error, url, depth in rows:
        if error is None:
            print("  %3s %9d  %s" % (status, size or 0, path))
        else:
            print("  %3s %9s  %s  (%s)" % (status, "-", url, error))
else:
    for depth, n in db.execute("SELECT depth, count(*) FROM fetches WHERE "
                               "run_id = ? GROUP BY depth", (run,)):
        print("  depth %d: %d URLs" % (depth, n))
    for status, size, path, error, url, depth in rows:
        if error is not None:
            print("  %3s %9s  %s  (%s)" % (status, "-", url, error))
print("Ask the log yourself:")
print("  sqlite3 %s 'SELECT status, bytes, path FROM fetches'" % db_path)
print()
EOF

serve site --root "$top/fixtures/site"
sed "s/127\.0\.0\.1:PORT/127.0.0.1:$port/g" "$top/fixtures/example-urls.txt" \
    >"$work/urls.txt"
echo "== 1. A list: fixtures/site served on http://127.0.0.1:$port/"
echo "Running: pfetch urls.txt -o $out/list"
status=0
"$pfetch" "$work/urls.txt" -o "$out/list" </dev/null || status=$?
echo "pfetch exited with status $status"
python3 "$work/report.py" "$out/list"

pa=$(free_port)
pb=$(free_port)
set -- --var "ORIGIN_A=http://127.0.0.1:$pa" --var "HOST_A=127.0.0.1:$pa" \
    --var "ORIGIN_B=http://127.0.0.1:$pb" --var "HOST_B=127.0.0.1:$pb"
serve crawl-a --root "$top/fixtures/crawl/a" --port "$pa" "$@"
serve crawl-b --root "$top/fixtures/crawl/b" --port "$pb" "$@"
echo "== 2. A crawl: fixtures/crawl served on http://127.0.0.1:$pa/ and :$pb/"
echo "Running: pfetch -r -p http://127.0.0.1:$pa/ -o $out/crawl"
cstatus=0
"$pfetch" -r -p "http://127.0.0.1:$pa/" -o "$out/crawl" </dev/null ||
    cstatus=$?
echo "pfetch exited with status $cstatus"
python3 "$work/report.py" "$out/crawl"
if [ "$cstatus" -gt 1 ]; then
    exit 3
fi
exit "$status"
