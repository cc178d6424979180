#!/usr/bin/env bash
# bench/run_wasm.sh — the benchmarks compiled with emcc (-O3 -msimd128, as the page) and run
# in node (V8, as Chromium):
#   bench/run_wasm.sh kernels [seconds per measurement]        scalar vs SIMD128 GOP/s
#   bench/run_wasm.sh forward default|base [--reps R] [n...]   ms per forward, scalar vs SIMD128
#   bench/run_wasm.sh render [--reps R]                        ms per bl_render, each view
#   bench/run_wasm.sh forward-mt default|base --threads N …    the same built with -pthread (node
#                                                             workers), as the page's threaded core
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${BL_BENCH_BUILD:-build-perf-wasm}
mkdir -p "$OUT"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
SRC=$(tools/core_sources.sh)
for b in bench_kernels bench_forward; do
  emcc -O3 -msimd128 -DNDEBUG -std=gnu11 -Wall -Wextra -Icore -I/usr/include/stb $SRC "bench/$b.c" \
     -lm -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2147483648 -o "$OUT/$b.js" &
done
# bench_render reads web/fonts/ from the disk (NODERAWFS)
emcc -O3 -msimd128 -DNDEBUG -std=gnu11 -Wall -Wextra -Icore -I/usr/include/stb $SRC bench/bench_render.c \
   -lm -sALLOW_MEMORY_GROWTH=1 -sNODERAWFS=1 -o "$OUT/bench_render.js" &
emcc -O3 -msimd128 -pthread -DNDEBUG -std=gnu11 -Wall -Wextra -Icore -I/usr/include/stb $SRC bench/bench_forward.c \
   -lm -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2147483648 -sUSE_PTHREADS=1 -sPTHREAD_POOL_SIZE=3 \
   -sEXIT_RUNTIME=1 -Wno-pthreads-mem-growth -o "$OUT/bench_forward-mt.js" &
wait
what=${1:-kernels}; shift || true
# --no-liftoff: time the optimised (TurboFan) code from the first call; with lazy tier-up on a
# loaded 2-core machine some runs were timed in the baseline compiler's code (5x slower)
node --no-experimental-fetch --no-liftoff "$OUT/bench_$what.js" "$@"
