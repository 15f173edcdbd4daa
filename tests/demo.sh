#!/bin/sh
# demo.sh -- download the example site with pfetch, then report from the log.
#
# Usage: tests/demo.sh [OUTDIR]      (default OUTDIR: ./demo-out)
#
# Serves fixtures/site with tests/server.py on a free port of 127.0.0.1,
# writes the URL list fixtures/example-urls.txt with that port filled in,
# runs pfetch on it into OUTDIR, prints a short report read from
# OUTDIR/pfetch.db and stops the server.  Exits with pfetch's status.
# The binary is build/pfetch unless PFETCH names another.
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
server=
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 "$top/tests/server.py" --root "$top/fixtures/site" \
    >"$work/server.out" </dev/null &
server=$!

# The server prints "PORT <n>" once it listens; give it five seconds.
port=
tries=0
while [ -z "$port" ]; do
    port=$(sed -n 's/^PORT \([0-9][0-9]*\)$/\1/p' "$work/server.out")
    [ -n "$port" ] && break
    tries=$((tries + 1))
    if [ "$tries" -gt 50 ] || ! kill -0 "$server" 2>/dev/null; then
        echo "demo.sh: the test server did not start" >&2
        exit 3
    fi
    sleep 0.1
done

sed "s/127\.0\.0\.1:PORT/127.0.0.1:$port/g" "$top/fixtures/example-urls.txt" \
    >"$work/urls.txt"

echo "Serving fixtures/site on http://127.0.0.1:$port/"
echo "Running: pfetch urls.txt -o $out"
status=0
"$pfetch" "$work/urls.txt" -o "$out" </dev/null || status=$?
echo "pfetch exited with status $status"
echo

python3 - "$out" <<'EOF'
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
rows = db.execute("SELECT status, bytes, path, error, url FROM fetches "
                  "WHERE run_id = ? ORDER BY path", (run,)).fetchall()
ok = [r for r in rows if r[3] is None]
total = sum(r[1] or 0 for r in ok)
print("Run %s: %d URLs, %d saved, %d failed, %d bytes"
      % (run, len(rows), len(ok), len(rows) - len(ok), total))
for status, size, path, error, url in rows:
    if error is None:
        print("  %3s %9d  %s" % (status, size or 0, path))
    else:
        print("  %3s %9s  %s  (%s)" % (status, "-", url, error))
print()
print("Ask the log yourself:")
print("  sqlite3 %s 'SELECT status, bytes, path FROM fetches'" % db_path)
EOF
exit "$status"
