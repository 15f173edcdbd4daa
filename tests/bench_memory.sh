#!/bin/sh
# tests/bench_memory.sh [PFETCH] -- peak memory of pfetch on huge URL
# lists: nginx on 127.0.0.1 answers every /m/ URL with an empty 204, and
# pfetch fetches lists of 100,000, 400,000 and 1,000,000 distinct URLs
# (BENCH_MEM_COUNTS="N ...") into a fresh directory on a RAM disk when
# there is one.  Prints one line per list: wall seconds, URLs/s, peak RSS
# and RSS per URL, so that the curve shows whether memory grows with the
# list.  curl -Z on the same list is the reference when BENCH_MEM_CURL=1.
# Needs nginx and GNU time.  BENCH_JOBS=N (64).
set -eu
PFETCH=${1:-build/pfetch}
PFETCH=$(cd "$(dirname "$PFETCH")" && pwd)/$(basename "$PFETCH")
COUNTS=${BENCH_MEM_COUNTS:-100000 400000 1000000}
JOBS=${BENCH_JOBS:-64}
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/pfetch-mem.XXXXXX")
chmod 755 "$work"
nginx_pid=
cleanup() {
    [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

command -v nginx >/dev/null || { echo "bench: nginx is not installed"; exit 1; }
[ -x /usr/bin/time ] || { echo "bench: GNU time is not installed"; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/nginx"
cat > "$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx/pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 100000000;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$port; location /m/ { return 204; } }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -o /dev/null "http://127.0.0.1:$port/m/x" && break
    sleep 0.2
done

printf '%-8s %9s %8s %9s %8s %9s\n' tool urls wall_s urls/s rss_MiB B/url
for n in $COUNTS; do
    # Distinct URLs, spread over 1,000 directories as a real site is.
    awk -v n="$n" -v p="$port" 'BEGIN {
        for (i = 0; i < n; i++)
            printf "http://127.0.0.1:%d/m/d%03d/u%07d\n", p, i % 1000, i
    }' > "$work/list.txt"
    out="$work/out"
    /usr/bin/time -f '%e %M' -o "$work/time" \
        "$PFETCH" -q --progress none -j "$JOBS" -o "$out" "$work/list.txt" ||
        echo "bench: pfetch exited $? on $n URLs"
    read -r wall rss_kib < "$work/time"
    awk -v t=pfetch -v n="$n" -v w="$wall" -v r="$rss_kib" 'BEGIN {
        printf "%-8s %9d %8.2f %9.0f %8.1f %9.1f\n", t, n, w,
               (w > 0 ? n / w : 0), r / 1024, r * 1024 / n }'
    rm -rf "$out"
    if [ "${BENCH_MEM_CURL:-0}" = 1 ]; then
        sed 's#.*#url = "&"\noutput = "/dev/null"#' "$work/list.txt" \
            > "$work/curl.cfg"
        /usr/bin/time -f '%e %M' -o "$work/time" \
            curl -s -Z --parallel-max "$JOBS" -K "$work/curl.cfg" 2>/dev/null ||
            echo "bench: curl exited $? on $n URLs"
        read -r wall rss_kib < "$work/time"
        awk -v t=curl -v n="$n" -v w="$wall" -v r="$rss_kib" 'BEGIN {
            printf "%-8s %9d %8.2f %9.0f %8.1f %9.1f\n", t, n, w,
                   (w > 0 ? n / w : 0), r / 1024, r * 1024 / n }'
    fi
done
