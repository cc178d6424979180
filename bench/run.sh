#!/usr/bin/env bash
# bench/run.sh — bertlens (WASM SIMD128, int8 weights, all attention maps) against
# onnxruntime-web (wasm backend) in headless Chromium, same model shapes, same n: ORT runs the
# quantize_dynamic-style int8 graph with and without the attention outputs (and, on request, the
# f32 graph torch exports). Writes bench/results.json and prints the table with the ratios.
# Figures, not pass/fail.
#   bench/run.sh [default|base|distilbert|roberta ...]   (default: default and base)
#   REPS=10 WARMUP=3 NS=16,32,128,512 ROUNDS=3 THREADS=1,2 VARIANTS=int8,int8-noattn[,f32]
#   BL_ENGINES=bertlens,bertlens-int16 (bertlens on int8 and on int16 weights), bertlens-relaxed
#   (int8 on the relaxed-SIMD build, as the page's relaxed cores, threaded too; needs clang-19):
#   BL_ENGINES=bertlens,bertlens-relaxed VARIANTS= THREADS=1 compares the page's two cores alone;
#   bertlens-att and bertlens-relaxed-att: the same two, attention-only forwards (the last layer
#   stops after its softmax), which is what the page runs for every view but masked-LM and prediction;
#   pair, pair-att, pair-relaxed, pair-relaxed-att: the SIMD128 or relaxed core (whole or
#   attention-only forwards) and ORT's first VARIANTS graph in ONE page, one forward of each in
#   turn, REPS pairs per n (with 2 threads: both engines, bertlens' -pthread build in a worker);
#   a ratio per pair, so drift over seconds cancels (the steadiest figure here:
#   BL_ENGINES=pair-relaxed,pair-relaxed-att VARIANTS= THREADS=1, where the empty VARIANTS leaves
#   out the ORT-only pages and the pairs take int8, ORT's int8+attn graph)
# The engines are interleaved round by round: each round runs bertlens, then each ORT variant,
# each in a fresh page with its own >= WARMUP s warm-up, and the next round runs them in the
# reverse order (A B C, C B A, A B C …), so a host that drifts (a shared or throttled machine)
# touches every engine alike; the ratios are taken within a round, then their median.
# Needs what tools/deps.sh bench installs (emcc, node, chromium, npm, python3 with torch and onnx),
# and onnxruntime-web, which it installs with npm into build-perf-ort/ (not package.json).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BL_BENCH_BUILD:-build-perf-ort}
REPS=${REPS:-10}
WARMUP=${WARMUP:-3}
NS=${NS:-16,32,128,512}
ROUNDS=${ROUNDS:-3}
THREADS=${THREADS:-1,2}
VARIANTS=${VARIANTS-int8,int8-noattn}   # (set and empty: no ORT-only pages)
SHAPES=("$@"); [ ${#SHAPES[@]} -gt 0 ] || SHAPES=(default base)
ORT_VERSION=1.30.0
tools/deps.sh bench   # Debian packages (emcc, chromium, torch, onnx, ...) and package.json's, when missing
# The CPU goes with every figure: the int8 kernels' speed depends on its vector units (AVX2,
# AVX-VNNI, AVX-512 VNNI, 128/256/512-bit data paths), and so do the ratios against ORT.
CPU_MODEL=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | sed 's/^[^:]*: //')
CPU_ID="family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1) model $(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"
CPU_SIMD=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | tr ' ' '\n' | grep -E '^(sse4_2|avx|avx2|fma|avx512f|avx512bw|avx512_vnni|avx_vnni|avx_vnni_int8|amx_int8)$' | tr '\n' ' ' | sed 's/ $//')
cpu_line() { echo "CPU $CPU_MODEL ($CPU_ID), $(nproc) CPUs; SIMD flags: $CPU_SIMD; load average $(cut -d' ' -f1-3 /proc/loadavg)"; }
echo "run.sh: $(cpu_line)"
# summarize.mjs stores them with the figures
export BL_BENCH_CPU="$CPU_MODEL ($CPU_ID), $(nproc) CPUs" BL_BENCH_FLAGS="$CPU_SIMD" BL_BENCH_LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"
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
  -sEXPORTED_RUNTIME_METHODS=ccall -o "$OUT/www/bench_forward.js"
# the same with -pthread, for bertlens with 2 threads (run in a worker by bench/bench_worker.js)
[ "$THREADS" = 1 ] || emcc -O3 -msimd128 -pthread -DNDEBUG -std=gnu11 -Icore -I/usr/include/stb $SRC bench/bench_forward.c -lm \
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2147483648 -sENVIRONMENT=web,worker -sUSE_PTHREADS=1 \
  -sPTHREAD_POOL_SIZE=3 -sDEFAULT_PTHREAD_STACK_SIZE=2097152 -sEXIT_RUNTIME=1 -Wno-pthreads-mem-growth -sEXPORTED_RUNTIME_METHODS=ccall \
  -o "$OUT/www/bench_forward-mt.js"
# bertlens-relaxed: the same built by clang 19 with relaxed SIMD (tools/build_relaxed.sh, whose
# note says why main(argc, argv) comes from an object emcc compiles)
if [[ " ${BL_ENGINES:-} " == *relaxed* ]]; then   # (bertlens-relaxed-att, pair-relaxed… too)
  echo 'int bl_bench_main(int argc, char **argv); int main(int argc, char **argv) { return bl_bench_main(argc, argv); }' \
    > "$OUT/relaxed_main.c"
  BL_RELAXED_CFLAGS=-Dmain=bl_bench_main tools/build_relaxed.sh "$OUT/relaxed-obj" "$OUT/www/bench_forward-relaxed.js" \
    $SRC bench/bench_forward.c -- "$OUT/relaxed_main.c" -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2147483648 \
    -sENVIRONMENT=web -sEXIT_RUNTIME=0 -sEXPORTED_RUNTIME_METHODS=ccall
  # and threaded, as the page's bertlens_core_relaxed_mt (run in a worker like bench_forward-mt.js)
  if [ "$THREADS" != 1 ]; then
    BL_RELAXED_CFLAGS="-pthread -Dmain=bl_bench_main" tools/build_relaxed.sh "$OUT/relaxed-mt-obj" \
      "$OUT/www/bench_forward-relaxed-mt.js" $SRC bench/bench_forward.c -- "$OUT/relaxed_main.c" -pthread \
      -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2147483648 -sENVIRONMENT=web,worker -sUSE_PTHREADS=1 \
      -sPTHREAD_POOL_SIZE=3 -sDEFAULT_PTHREAD_STACK_SIZE=2097152 -sEXIT_RUNTIME=1 -Wno-pthreads-mem-growth -sEXPORTED_RUNTIME_METHODS=ccall
  fi
fi
cp bench/bench_page.html bench/bench_worker.js "$OUT/www/"
ln -sfn ../node_modules/onnxruntime-web/dist "$OUT/www/ort"

parts=()
# one page: bench/run_browser.mjs with the query, its result kept as $OUT/result-NAME.json
page() {
  local name=$1 q=$2
  node bench/run_browser.mjs "$OUT/www" "$q" "$OUT/result-$name.json" | grep '\[page\] \(n=\|onnx\|pair\)' || true
  [ -f "$OUT/result-$name.json" ] && parts+=("$OUT/result-$name.json")
}
rm -f "$OUT"/result-*.json
for s in "${SHAPES[@]}"; do
  W="$OUT/www/$s"
  [ -f "$W.onnx" ] || /usr/bin/python3 bench/export_onnx.py "$W.onnx" --shape "$s" >/dev/null
  [ -f "$W.int8.onnx" ] || /usr/bin/python3 bench/quantize_onnx.py "$W.onnx" "$W.int8.onnx"
  [ -f "$W.int8-noattn.onnx" ] || /usr/bin/python3 bench/quantize_onnx.py "$W.onnx" "$W.int8-noattn.onnx" --no-attn
done
# bertlens-int16: the same forward on int16 weights (what bertlens convert and the page write by
# default); BL_ENGINES=bertlens,… to leave it out
engines=(${BL_ENGINES:-bertlens bertlens-int16} ${VARIANTS//,/ })
engines=(${engines[@]//,/ })
for ((r = 1; r <= ROUNDS; r++)); do
  order=("${engines[@]}")
  if ((r % 2 == 0)); then order=(); for ((i = ${#engines[@]} - 1; i >= 0; i--)); do order+=("${engines[i]}"); done; fi
  for s in "${SHAPES[@]}"; do
    for t in ${THREADS//,/ }; do
      echo "== round $r/$ROUNDS, $s, $t thread(s), n = $NS, $REPS timed runs after ${WARMUP} s of warm-up; $(cpu_line)"
      for e in "${order[@]}"; do
        # with 2 threads ORT runs its int8+attn graph only (the ratio the targets name)
        [ "$t" != 1 ] && [ "${e#bertlens}" = "$e" ] && [ "${e#pair}" = "$e" ] && [ "$e" != int8 ] && continue
        Q="shape=$s&ns=$NS&reps=$REPS&warmup=$WARMUP&threads=$t&round=$r"
        if [ "$e" = bertlens ]; then page "$s-${t}t-r$r-bertlens" "$Q&engines=bertlens"
        elif [ "$e" = bertlens-int16 ]; then page "$s-${t}t-r$r-bertlens-int16" "$Q&engines=bertlens&dtype=int16"
        elif [ "$e" = bertlens-relaxed ]; then page "$s-${t}t-r$r-bertlens-relaxed" "$Q&engines=bertlens&core=relaxed"
        elif [ "$e" = bertlens-att ]; then page "$s-${t}t-r$r-bertlens-att" "$Q&engines=bertlens&att=1"
        elif [ "$e" = bertlens-relaxed-att ]; then page "$s-${t}t-r$r-bertlens-relaxed-att" "$Q&engines=bertlens&core=relaxed&att=1"
        elif [ "${e#pair}" != "$e" ]; then
          pv=${VARIANTS%%,*}
          pq="$Q&engines=pair&variants=${pv:-int8}"
          [[ "$e" == *relaxed* ]] && pq="$pq&core=relaxed"
          [[ "$e" == *-att ]] && pq="$pq&att=1"
          page "$s-${t}t-r$r-$e" "$pq"
        else page "$s-${t}t-r$r-$e" "$Q&engines=ort&variants=$e"; fi
      done
    done
  done
done
export BL_BENCH_LOAD_END="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "run.sh: done; $(cpu_line)"
node bench/summarize.mjs bench/results.json "$ORT_VERSION" "${parts[@]}"
