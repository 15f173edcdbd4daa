#!/bin/sh
# Install the Debian packages pfetch needs, if any is missing.  Works as
# root or through sudo, with no standard input.
#
#   tests/deps.sh --build   what building, running and tests/demo.sh need
#   tests/deps.sh           that, and what the test suite needs too
set -eu

# Building and running: the compiler and libraries (libssl-dev for
# libcrypto's SHA-256, hiredis for shared crawls), python3 for the demo's
# local server, sqlite3 to query the log, CA certificates for https.
PKGS="gcc make cmake pkg-config libcurl4-openssl-dev libxml2-dev \
libsqlite3-dev libssl-dev libhiredis-dev sqlite3 python3 ca-certificates"
# The documentation sites test_mirror_wget.py mirrors with wget and pfetch.
# Their names carry the release's versions (Debian 12): one the archive
# does not have is left out, and the test skips that site.
DOC_PKGS=""
case "${1:-}" in
    --build) ;;
    "")
        # The tests: man page lint, the sanitizer and fuzz builds (clang),
        # TLS certificates for the test server, cppcheck, valgrind, and
        # wget to compare mirrors with; nginx (TLS and http2) for the
        # HTTP/2 test, curl to read and write cookie jars beside pfetch,
        # redis-server for shared crawls.
        PKGS="$PKGS mandoc clang openssl cppcheck wget valgrind nginx curl \
redis-server"
        DOC_PKGS="postgresql-doc-15 python3.11-doc" ;;
    *)
        echo "usage: tests/deps.sh [--build]" >&2
        exit 2 ;;
esac
[ "${PF_DEPS_EXTRA:-}" = "" ] || PKGS="$PKGS $PF_DEPS_EXTRA"

missing=""
for p in $PKGS $DOC_PKGS; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
        *"install ok installed"*) ;;
        *) missing="$missing $p" ;;
    esac
done
[ -n "$missing" ] || exit 0

if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo -n"
else
    echo "deps.sh: missing packages:$missing (run as root to install)" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq </dev/null
install=""
for p in $missing; do
    case " $DOC_PKGS " in
        *" $p "*)
            if ! apt-cache show "$p" >/dev/null 2>&1; then
                echo "deps.sh: $p is not in the archive, left out" >&2
                continue
            fi ;;
    esac
    install="$install $p"
done
[ -n "$install" ] || exit 0
echo "deps.sh: installing$install" >&2
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $install </dev/null
