#!/bin/sh
# Build pfetch and run its whole test suite: the release build with
# warnings as errors, then the same tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, then the threaded tests (and the crawls,
# whose parsing is threaded) under ThreadSanitizer, then the fuzz
# targets.  Installs missing Debian packages first.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)

tests/deps.sh

run() {
    dir=$1; shift
    echo "== $dir: $*"
    cmake -S . -B "$dir" -DPF_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$JOBS"
}

run build -DCMAKE_BUILD_TYPE=RelWithDebInfo
ctest --test-dir build --output-on-failure -j "$JOBS"

run build-asan -DCMAKE_BUILD_TYPE=Debug -DPF_SANITIZE=address,undefined
ASAN_OPTIONS=detect_leaks=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS"

run build-tsan -DCMAKE_BUILD_TYPE=Debug -DPF_SANITIZE=thread \
    -DCMAKE_C_COMPILER=clang
# glibc's own locking is invisible to TSan: see tests/tsan.supp.
TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
export TSAN_OPTIONS
ctest --test-dir build-tsan --output-on-failure -j "$JOBS" -L unit
# The threaded paths of the real program: parser pool, posts back to the
# loop, URLs added from parser threads, the log writer (and its --json
# lines, written from its thread).
ctest --test-dir build-tsan --output-on-failure -j "$JOBS" \
    -R '^integration[.](crawl|crawl_api|crawl_requisites|embed|examples|listing_example|shared_log|interrupt|validation|sitemaps)$'

run build-fuzz -DCMAKE_BUILD_TYPE=Debug -DPF_SANITIZE=address,undefined \
    -DCMAKE_C_COMPILER=clang -DPF_FUZZ=ON
ctest --test-dir build-fuzz --output-on-failure -L fuzz
