#!/usr/bin/env bash
# bench/run.sh — bertlens (WASM SIMD128, int8 weights, all attention maps) against
# onnxruntime-web (wasm backend) in headless Chromium, same model shapes, same n: ORT runs the f32
# graph exported by torch with attentions, its quantize_dynamic-style int8 form with and without
# attentions (1 thread), and int8 with 2 threads (bertlens too). Writes bench/results.json and prints the table
# with the ratios. Figures, not pass/fail.
#   bench/run.sh [default|base ...]     (default: both shapes)   REPS=10 WARMUP=3 NS=16,32,128,512
# Needs what tools/deps.sh bench installs (emcc, node, chromium, npm, python3 with torch and onnx),
# and onnxruntime-web, which it installs with npm into build-perf-ort/ (not package.json).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BL_BENCH_BUILD:-build-perf-ort}
REPS=${REPS:-10}
WARMUP=${WARMUP:-3}
NS=${NS:-16,32,128,512}
SHAPES=("$@"); [ ${#SHAPES[@]} -gt 0 ] || SHAPES=(default base)
ORT_VERSION=1.30.0
tools/deps.sh bench   # Debian packages (emcc, chromium, torch, onnx, ...) and package.json's, when missing
# The CPU goes with every figure: the int8 kernels' speed depends on its vector units (AVX2,
# AVX-VNNI, AVX-512 VNNI, 128/256/512-bit data paths), and so do the ratios against ORT.
CPU_MODEL=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*: //')
CPU_ID="family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1) model $(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
CPU_SIMD=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | tr ' ' '\n' | grep -E '^(sse4_2|avx|avx2|fma|avx512f|avx512bw|avx512_vnni|avx_vnni|avx_vnni_int8|amx_int8)$' | tr '\n' ' ')
echo "run.sh: CPU $CPU_MODEL ($CPU_ID), $(nproc) CPUs; SIMD flags: $CPU_SIMD; load average $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$OUT/www"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}

if [ ! -f "$OUT/node_modules/onnxruntime-web/package.json" ]; then
  echo "run.sh: npm install onnxruntime-web@$ORT_VERSION into $OUT/"
  [ -f "$OUT/package.json" ] || echo '{"name":"bertlens-bench-ort","private":true}' > "$OUT/package.json"
  (cd "$OUT" && npm install --no-audit --no-fund "onnxruntime-web@$ORT_VERSION" >/dev/null)
fi

SRC=$(tools/core_sources.sh)
emcc -O3 -msimd128 -DNDEBUG -std=gnu11 -Icore -I/usr/include/stb $SRC bench/bench_forward.c -lm \
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2147483648 -sENVIRONMENT=web -sEXIT_RUNTIME=0 \
  -o "$OUT/www/bench_forward.js"
# the same with -pthread, for bertlens with 2 threads (run in a worker by bench/bench_worker.js)
emcc -O3 -msimd128 -pthread -DNDEBUG -std=gnu11 -Icore -I/usr/include/stb $SRC bench/bench_forward.c -lm \
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2147483648 -sENVIRONMENT=web,worker -sUSE_PTHREADS=1 \
  -sPTHREAD_POOL_SIZE=3 -sEXIT_RUNTIME=1 -Wno-pthreads-mem-growth -o "$OUT/www/bench_forward-mt.js"
cp bench/bench_page.html bench/bench_worker.js "$OUT/www/"
ln -sfn ../node_modules/onnxruntime-web/dist "$OUT/www/ort"

parts=()
for s in "${SHAPES[@]}"; do
  W="$OUT/www/$s"
  [ -f "$W.onnx" ] || /usr/bin/python3 bench/export_onnx.py "$W.onnx" --shape "$s" >/dev/null
  [ -f "$W.int8.onnx" ] || /usr/bin/python3 bench/quantize_onnx.py "$W.onnx" "$W.int8.onnx"
  [ -f "$W.int8-noattn.onnx" ] || /usr/bin/python3 bench/quantize_onnx.py "$W.onnx" "$W.int8-noattn.onnx" --no-attn
  Q="shape=$s&ns=$NS&reps=$REPS&warmup=$WARMUP"
  echo "== $s, 1 thread (n = $NS, $REPS timed runs after ${WARMUP} s of warm-up)"
  node bench/run_browser.mjs "$OUT/www" "$Q&threads=1" "$OUT/result-$s-1t.json" | grep '\[page\] \(n=\|onnx\)' || true
  echo "== $s, bertlens and onnxruntime-web int8 with 2 threads"
  node bench/run_browser.mjs "$OUT/www" "$Q&threads=2&variants=int8" "$OUT/result-$s-2t.json" | grep '\[page\] \(n=\|onnx\)' || true
  parts+=("$OUT/result-$s-1t.json" "$OUT/result-$s-2t.json")
done
node bench/summarize.mjs bench/results.json "$ORT_VERSION" "${parts[@]}"
