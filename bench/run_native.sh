#!/usr/bin/env bash
# bench/run_native.sh — builds the benchmarks with cc against the core (no CMake target) into
# build-perf-bench/ and runs one of them:
#   bench/run_native.sh kernels [seconds per measurement]      scalar vs AVX2 GOP/s per kernel
#   bench/run_native.sh forward default|base [--reps R] [n...] ms per forward, scalar vs AVX2
#   bench/run_native.sh render [--reps R]                      ms per bl_render, each view (synthetic attention)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BL_BENCH_BUILD:-build-perf-bench}
mkdir -p "$OUT"
SRC=$(tools/core_sources.sh)
# the CMake Release build's flags (-O3, no -march: AVX2 is picked at run time)
for b in bench_kernels bench_forward bench_render; do
  cc -O3 -DNDEBUG -std=gnu11 -Wall -Wextra -Icore -I/usr/include/stb $SRC "bench/$b.c" -lm -o "$OUT/$b" &
done
wait
what=${1:-kernels}; shift || true
"$OUT/bench_$what" "$@"
