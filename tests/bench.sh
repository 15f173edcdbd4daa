#!/bin/sh
# tests/bench.sh [PFETCH] -- time pfetch against curl -Z, aria2c and wget2
# on loopback: nginx serves a generated corpus on 127.0.0.1, each tool
# fetches the same URL list with the same concurrency into a fresh
# directory on a RAM disk when there is one.  Prints one line per tool and
# workload: wall seconds, files/s, MiB/s, CPU seconds, peak RSS.
# Needs nginx and GNU time; missing peers are skipped.  The small-https
# workload is the small files again over TLS (a private CA made here with
# the openssl command, passed to each tool) and HTTP/2: pfetch against
# curl -Z --http2 and wget2.
#   BENCH_SMALL=N (10000 files of 4 KiB), BENCH_LARGE_MIB=N (2 x 256),
#   BENCH_JOBS=N (64), BENCH_WORKLOADS="small large small-https" (all).
set -eu
PFETCH=${1:-build/pfetch}
PFETCH=$(cd "$(dirname "$PFETCH")" && pwd)/$(basename "$PFETCH")
SMALL=${BENCH_SMALL:-10000}
LARGE_MIB=${BENCH_LARGE_MIB:-256}
JOBS=${BENCH_JOBS:-64}
WORKLOADS=${BENCH_WORKLOADS:-small large small-https}
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/pfetch-bench.XXXXXX")
chmod 755 "$work"   # nginx workers may run as another user
nginx_pid=
cleanup() {
    [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

command -v nginx >/dev/null || { echo "bench: nginx is not installed"; exit 1; }
command -v openssl >/dev/null || { echo "bench: openssl is not installed"; exit 1; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(free_port)
tport=$(free_port)
mkdir -p "$work/www/small" "$work/www/large" "$work/nginx" "$work/pki"
# A private CA and the server's certificate it signs, for small-https.
(
    cd "$work/pki"
    ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    openssl req -x509 $ec -keyout ca.key -out ca.pem -days 2 \
        -subj "/CN=pfetch bench CA" 2>/dev/null
    openssl req $ec -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 \
        2>/dev/null
    echo "subjectAltName=IP:127.0.0.1" > ext
    openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
        -out srv.pem -days 2 -extfile ext 2>/dev/null
    chmod 644 srv.key
)
ca=$work/pki/ca.pem
python3 - "$work/www" "$SMALL" "$LARGE_MIB" <<'PY'
import os, sys
root, small, large = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = open("/dev/urandom", "rb")
for i in range(small):
    with open(f"{root}/small/f{i:05d}", "wb") as f:
        f.write(rnd.read(4096))
for i in range(2):
    with open(f"{root}/large/big{i}", "wb") as f:
        for _ in range(large):
            f.write(rnd.read(1 << 20))
PY
cat > "$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx/pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off; sendfile on; tcp_nopush on; keepalive_requests 1000000;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  open_file_cache max=20000;
  server { listen 127.0.0.1:$port; root $work/www; }
  server {
    listen 127.0.0.1:$tport ssl http2; root $work/www;
    ssl_certificate $work/pki/srv.pem; ssl_certificate_key $work/pki/srv.key;
  }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -o /dev/null "http://127.0.0.1:$port/small/f00000" && break
    sleep 0.2
done
for w in small large; do
    (cd "$work/www" && find "$w" -type f | sort |
        sed "s#^#http://127.0.0.1:$port/#") > "$work/$w.txt"
done
sed "s#^http://127.0.0.1:$port/#https://127.0.0.1:$tport/#" "$work/small.txt" \
    > "$work/small-https.txt"

printf '%-11s %-8s %8s %9s %8s %7s %8s\n' workload tool wall_s files/s MiB/s cpu_s rss_MiB
measure() { # workload tool command...
    wl=$1; tool=$2; shift 2
    out="$work/out"; rm -rf "$out"; mkdir -p "$out"
    n=$(wc -l < "$work/$wl.txt")
    t0=$(date +%s.%N)
    if ! (cd "$out" && /usr/bin/time -f '%U %S %M' -o "$work/time" "$@" \
            >/dev/null 2>"$work/err"); then
        echo "$wl $tool: failed: $(tail -n 2 "$work/err")"; return 0
    fi
    t1=$(date +%s.%N)
    got=$(find "$out" -type f ! -name 'pfetch.db*' | wc -l)
    bytes=$(du -sb "$out" | cut -f1)
    read -r u s m < "$work/time"
    awk -v wl="$wl" -v tool="$tool" -v t0="$t0" -v t1="$t1" -v n="$n" \
        -v got="$got" -v b="$bytes" -v u="$u" -v s="$s" -v m="$m" 'BEGIN {
        w = t1 - t0; printf "%-11s %-8s %8.2f %9.0f %8.1f %7.2f %8.1f%s\n",
        wl, tool, w, n / w, b / 1048576 / w, u + s, m / 1024,
        got < n ? "  (MISSING FILES)" : "" }'
}
for wl in $WORKLOADS; do
    L="$work/$wl.txt"
    if [ "$wl" = small-https ]; then
        measure "$wl" pfetch "$PFETCH" -q -j "$JOBS" --cacert "$ca" "$L" -o .
        if command -v curl >/dev/null; then
            sed 's#.*/\([^/]*\)$#url = "&"\noutput = "\1"#' "$L" \
                > "$work/$wl.curlrc"
            # No --parallel-immediate: it opens connections rather than
            # waiting to multiplex on one.
            measure "$wl" curl-Z curl -s -Z --http2 --cacert "$ca" \
                --parallel-max "$JOBS" -K "$work/$wl.curlrc"
        fi
        command -v wget2 >/dev/null && measure "$wl" wget2 wget2 -q -i "$L" \
            --max-threads "$JOBS" --ca-certificate="$ca" --no-ocsp
        continue
    fi
    measure "$wl" pfetch "$PFETCH" -q -j "$JOBS" "$L" -o .
    if command -v curl >/dev/null; then
        sed 's#.*/\([^/]*\)$#url = "&"\noutput = "\1"#' "$L" > "$work/$wl.curlrc"
        measure "$wl" curl-Z curl -s -Z --parallel-max "$JOBS" \
            --parallel-immediate -K "$work/$wl.curlrc"
    fi
    command -v aria2c >/dev/null && measure "$wl" aria2c aria2c -q -i "$L" \
        -d . -j "$JOBS" --file-allocation=none --auto-file-renaming=false
    command -v wget2 >/dev/null && measure "$wl" wget2 wget2 -q -i "$L" \
        --max-threads "$JOBS"
done
