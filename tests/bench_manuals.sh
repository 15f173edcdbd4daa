#!/bin/sh
# tests/bench_manuals.sh [PFETCH] -- a real-world crawl: pfetch against
# wget2 (and wget, for the file set) on Debian's HTML manuals, served by
# nginx on 127.0.0.1 from a RAM disk copy.  For each manual it prints the
# median wall and CPU seconds over BENCH_RUNS runs (3), pages/s, the ratio
# to wget2, and whether pfetch saved the same files as wget -r.
#   BENCH_MANUALS="name=DIR ..." (default: postgresql-doc-15, python3.11)
#   BENCH_JOBS=N (16): pfetch -j N, wget2 --max-threads N.
# Needs nginx, GNU time, wget2 and wget (tests/deps.sh installs them, and
# the manuals: postgresql-doc-15 and python3.11-doc).
set -eu
PFETCH=${1:-build/pfetch}
PFETCH=$(cd "$(dirname "$PFETCH")" && pwd)/$(basename "$PFETCH")
RUNS=${BENCH_RUNS:-3}
JOBS=${BENCH_JOBS:-16}
MANUALS=${BENCH_MANUALS:-"postgresql=/usr/share/doc/postgresql-doc-15/html python=/usr/share/doc/python3.11/html"}
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
work=$(mktemp -d "$base/pfetch-manuals.XXXXXX")
chmod 755 "$work"
nginx_pid=
cleanup() {
    [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

for tool in nginx wget2 wget; do
    command -v "$tool" >/dev/null ||
        { echo "bench: $tool is not installed"; exit 1; }
done
[ -x /usr/bin/time ] || { echo "bench: GNU time is not installed"; exit 1; }

# A copy on the RAM disk: symbolic links (Debian's manuals share files
# through them) resolved, so that every server reads the same bytes.
mkdir -p "$work/www" "$work/nginx"
for m in $MANUALS; do
    name=${m%%=*} dir=${m#*=}
    [ -d "$dir" ] || { echo "bench: $dir is missing"; exit 1; }
    cp -rL "$dir" "$work/www/$name"
done
chmod -R a+rX "$work/www"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; pid $work/nginx/pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  access_log off; sendfile on; keepalive_requests 1000000;
  client_body_temp_path $work/nginx; proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx; uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$port; root $work/www; }
}
CONF
nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
    curl -s -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.2
done

# The files under $1, relative, without the log, sorted.
files() {
    (cd "$1" && find . -type f ! -name 'pfetch.db*' | sed 's#^\./##' |
        sed "s#^127.0.0.1:$port/##" | sort)
}

# timed OUT TOOL ARGS...: run, append "wall cpu" to $work/TOOL.times.
timed() {
    t=$1; shift
    /usr/bin/time -f '%e %U %S' -o "$work/time" "$@" >/dev/null 2>&1 || true
    tail -n 1 "$work/time" | awk '{ printf "%s %.2f\n", $1, $2 + $3 }' >> "$work/$t.times"
}

median() { # column $2 of file $1
    sort -n -k"$2" "$1" | awk -v c="$2" '{ v[NR] = $c }
        END { print v[int((NR + 1) / 2)] }'
}

printf '%-11s %-7s %7s %6s %8s %7s %s\n' manual tool wall_s cpu_s pages/s ratio files
for m in $MANUALS; do
    name=${m%%=*}
    seed="http://127.0.0.1:$port/$name/index.html"
    # wget -r gives the reference file set.
    (cd "$work" && rm -rf ref && mkdir ref && cd ref &&
        wget -q -r -l inf -np -nH "$seed" || true)
    files "$work/ref" > "$work/ref.list"
    pages=$(wc -l < "$work/ref.list")
    [ "$pages" -gt 0 ] || { echo "bench: wget found nothing at $seed"; exit 1; }
    rm -f "$work/wget2.times" "$work/pfetch.times"
    i=0
    while [ "$i" -lt "$RUNS" ]; do
        rm -rf "$work/o2" "$work/op"
        mkdir "$work/o2"
        (cd "$work/o2" && timed wget2 wget2 -q -r -l inf -np -nH \
            --max-threads "$JOBS" --no-robots "$seed")
        timed pfetch "$PFETCH" -q --progress none -r -l inf -j "$JOBS" \
            --no-robots -o "$work/op" "$seed"
        i=$((i + 1))
    done
    files "$work/op" > "$work/p.list"
    same="same files as wget"
    cmp -s "$work/p.list" "$work/ref.list" || same="files differ from wget's: \
$(comm -23 "$work/p.list" "$work/ref.list" | wc -l) only pfetch's, \
$(comm -13 "$work/p.list" "$work/ref.list" | wc -l) only wget's"
    w2=$(median "$work/wget2.times" 1)
    for t in wget2 pfetch; do
        wall=$(median "$work/$t.times" 1)
        cpu=$(median "$work/$t.times" 2)
        what=""
        [ "$t" = pfetch ] && what=$same
        awk -v m="$name" -v t="$t" -v w="$wall" -v c="$cpu" -v n="$pages" \
            -v r="$w2" -v f="$what" 'BEGIN {
            printf "%-11s %-7s %7.2f %6.2f %8.0f %6.2fx %s\n", m, t, w, c,
                   (w > 0 ? n / w : 0), (w > 0 ? r / w : 0), f }'
    done
done
