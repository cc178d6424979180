#!/usr/bin/env bash
# tests/run_wasm_units.sh — the kernel and forward-pass unit tests compiled to WebAssembly
# (-O3 -msimd128, as web/wasm.cmake builds the page) and run in node, so the SIMD128 kernels
# are checked against the scalar reference, the forward against its golden data, and the default
# model's native output against the hashes test_default_model.c pins (the same as natively).
#   tests/run_wasm_units.sh [BUILD_DIR]     (default build-wasm-units; tests/run_web.sh runs it)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build-wasm-units}
mkdir -p "$OUT"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}   # Debian's emcc needs it to find acorn
SRC=$(tools/core_sources.sh)
# gnu11 as CMake's C_STANDARD 11 with extensions (M_PI in tests); NODERAWFS: tests read
# tests/ files relative to the repository root, as ctest runs them
for t in test_kernels_simd test_kernels test_bert test_default_model; do
  emcc -O3 -msimd128 -std=gnu11 -Wall -Wextra -Werror -Icore -I/usr/include/stb $SRC "tests/$t.c" \
    -o "$OUT/$t.js" -sNODERAWFS=1 -sALLOW_MEMORY_GROWTH=1 -lm
done
fail=0
for t in test_kernels_simd test_kernels test_bert test_default_model; do
  node --no-experimental-fetch "$OUT/$t.js" > "$OUT/$t.log" 2>&1 || fail=1
  grep -E "checks|FAIL" "$OUT/$t.log" | head -20
done
# int16 forward: the WebAssembly outputs' SHA-256 must equal the native build's (both printed by
# test_kernels_simd); BL_NATIVE_BUILD names the native build directory (default build)
NATIVE=${BL_NATIVE_BUILD:-build}
if [ -x "$NATIVE/test_kernels_simd" ]; then
  grep "^int16 forward sha256" "$OUT/test_kernels_simd.log" > "$OUT/i16_wasm.txt" || true
  "$NATIVE/test_kernels_simd" | grep "^int16 forward sha256" > "$OUT/i16_native.txt" || true
  if [ -s "$OUT/i16_wasm.txt" ] && cmp -s "$OUT/i16_wasm.txt" "$OUT/i16_native.txt"; then
    echo "int16 forward: WebAssembly = native ($(wc -l < "$OUT/i16_wasm.txt") models)"
  else
    echo "FAIL: int16 forward differs between WebAssembly and native ($NATIVE):"; cat "$OUT/i16_wasm.txt" "$OUT/i16_native.txt"
    fail=1
  fi
else
  echo "int16 forward: no native $NATIVE/test_kernels_simd to compare with (build it first)"
fi
exit $fail
