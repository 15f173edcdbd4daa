#!/bin/sh
# Install the Debian packages pfetch needs to build and test, if any is
# missing.  Works as root or through sudo, with no standard input.
set -eu

PKGS="gcc make cmake pkg-config libcurl4-openssl-dev libxml2-dev \
libsqlite3-dev sqlite3 python3 mandoc ca-certificates clang openssl \
cppcheck"
[ "${PF_DEPS_EXTRA:-}" = "" ] || PKGS="$PKGS $PF_DEPS_EXTRA"

missing=""
for p in $PKGS; do
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
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq </dev/null
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing </dev/null
