#!/usr/bin/env bash
# tests/run.sh — the project's one test command (README.md, .ci/run).
# Installs what is missing (tools/deps.sh), checks that list (tests/test_deps.sh), builds natively, runs the unit tests,
# then builds the WebAssembly module and runs the Node and headless-Chromium tests.
#   BL_SKIP_WEB=1 tests/run.sh     native tests only
#   BL_SKIP_FUZZ=1 / BL_FUZZ_SECS=N  skip the short fuzz run / seconds per fuzz target (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

# What the tests need (tools/deps.sh test; web-test unless BL_SKIP_WEB=1): Debian packages with
# apt (as root, or through sudo) and the npm dev dependencies, installed only when missing.
modes=(test)
[ "${BL_SKIP_WEB:-0}" = 1 ] || modes+=(web-test)
tools/deps.sh "${modes[@]}"
have() { command -v "$1" >/dev/null 2>&1; }

echo "== everything the build and the scripts use is in tools/deps.sh"
tests/test_deps.sh

JOBS=$(nproc 2>/dev/null || echo 2)

echo "== native build (build/)"
# BL_WERROR: a warning fails the build (gcc natively, clang in the ASan build)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DBL_WERROR=ON >/dev/null
cmake --build build -j"$JOBS" >/dev/null

echo "== native unit tests"
(cd build && ctest --output-on-failure -j"$JOBS")

if [ "${BL_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== unit tests under ASan + UBSan (build-asan/)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBL_SANITIZE=ON -DBL_WERROR=ON -DCMAKE_C_COMPILER=clang >/dev/null
  cmake --build build-asan -j"$JOBS" >/dev/null
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j"$JOBS")
fi

# libFuzzer targets (tests/fuzz/): a short run on the committed corpus; BL_FUZZ_SECS per target
if [ "${BL_SKIP_FUZZ:-0}" != 1 ]; then
  have_libfuzzer() { echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' |
    clang -x c - -fsanitize=fuzzer -o /tmp/bl_libfuzzer_probe.$$ >/dev/null 2>&1; local r=$?; rm -f /tmp/bl_libfuzzer_probe.$$; return $r; }
  if have clang && have_libfuzzer; then
    echo "== fuzzers (tests/fuzz/run.sh, ${BL_FUZZ_SECS:-20} s per target)"
    tests/fuzz/run.sh "${BL_FUZZ_SECS:-20}"
  else
    echo "== fuzzers skipped: clang's libFuzzer is not available (tools/deps.sh test installs it on Debian)"
  fi
fi

if [ "${BL_SKIP_WEB:-0}" != 1 ] && [ -x tests/run_web.sh ]; then
  echo "== web tests"
  tests/run_web.sh
fi
echo "== all tests passed"
