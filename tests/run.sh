#!/usr/bin/env bash
# tests/run.sh — the project's one test command (README.md, .ci/run).
# Installs what is missing (Debian apt, npm), builds natively, runs the unit tests,
# then builds the WebAssembly module and runs the Node and headless-Chromium tests.
#   BL_SKIP_WEB=1 tests/run.sh     native tests only
#   BL_SKIP_FUZZ=1 / BL_FUZZ_SECS=N  skip the short fuzz run / seconds per fuzz target (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

need_pkgs=()
have() { command -v "$1" >/dev/null 2>&1; }
have cmake || need_pkgs+=(cmake)
have cc || need_pkgs+=(build-essential)
[ -f /usr/include/stb/stb_truetype.h ] || need_pkgs+=(libstb-dev)
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need_pkgs+=(fonts-dejavu-core)
have python3 || need_pkgs+=(python3)
# test generators (tests/data/make_hf.py, json cross-checks) run on Debian's python with numpy
/usr/bin/python3 -c "import numpy" 2>/dev/null || need_pkgs+=(python3-numpy)
if [ "${BL_SKIP_WEB:-0}" != 1 ]; then
  have emcc || need_pkgs+=(emscripten)
  have chromium || need_pkgs+=(chromium)
  have node || need_pkgs+=(nodejs npm)
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need_pkgs[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
fi

JOBS=$(nproc 2>/dev/null || echo 2)

echo "== native build (build/)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS" 2>&1 | grep -E "warning|error|Error" && { echo "build produced warnings/errors"; exit 1; } || true
cmake --build build -j"$JOBS" >/dev/null

echo "== native unit tests"
(cd build && ctest --output-on-failure -j"$JOBS")

if [ "${BL_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== unit tests under ASan + UBSan (build-asan/)"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBL_SANITIZE=ON -DCMAKE_C_COMPILER=clang >/dev/null
  cmake --build build-asan -j"$JOBS" >/dev/null
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j"$JOBS")
fi

# libFuzzer targets (tests/fuzz/): a short run on the committed corpus; BL_FUZZ_SECS per target
if [ "${BL_SKIP_FUZZ:-0}" != 1 ]; then
  have_libfuzzer() { echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' |
    clang -x c - -fsanitize=fuzzer -o /tmp/bl_libfuzzer_probe.$$ >/dev/null 2>&1; local r=$?; rm -f /tmp/bl_libfuzzer_probe.$$; return $r; }
  if have clang && ! have_libfuzzer && apt-cache show libclang-rt-14-dev >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libclang-rt-14-dev >/dev/null || true
  fi
  if have clang && have_libfuzzer; then
    echo "== fuzzers (tests/fuzz/run.sh, ${BL_FUZZ_SECS:-20} s per target)"
    tests/fuzz/run.sh "${BL_FUZZ_SECS:-20}"
  else
    echo "== fuzzers skipped: clang's libFuzzer is not available (apt install clang libclang-rt-14-dev)"
  fi
fi

if [ "${BL_SKIP_WEB:-0}" != 1 ] && [ -x tests/run_web.sh ]; then
  echo "== web tests"
  tests/run_web.sh
fi
echo "== all tests passed"
