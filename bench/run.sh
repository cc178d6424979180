#!/usr/bin/env bash
# bench/run.sh — bertlens (WASM SIMD128, int8 weights) against onnxruntime-web (wasm backend,
# f32 graph exported by torch) in headless Chromium, one thread each, same model shapes, same
# n; writes bench/results.json. Figures, not pass/fail.
#   bench/run.sh [default|base ...]          (default: both shapes)   REPS=5 NS=16,32,128,512
# Needs: emcc, node, /usr/bin/chromium, npm (onnxruntime-web into build-perf-ort/, not the
# repository's package.json), /usr/bin/python3 with torch (bench/export_onnx.py).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${BL_BENCH_BUILD:-build-perf-ort}
REPS=${REPS:-5}
NS=${NS:-16,32,128,512}
SHAPES=("$@"); [ ${#SHAPES[@]} -gt 0 ] || SHAPES=(default base)
ORT_VERSION=1.30.0
mkdir -p "$OUT/www"
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}

if [ ! -f "$OUT/node_modules/onnxruntime-web/package.json" ]; then
  echo "run.sh: npm install onnxruntime-web@$ORT_VERSION into $OUT/"
  [ -f "$OUT/package.json" ] || echo '{"name":"bertlens-bench-ort","private":true}' > "$OUT/package.json"
  (cd "$OUT" && npm install --no-audit --no-fund "onnxruntime-web@$ORT_VERSION" >/dev/null)
fi
[ -f node_modules/playwright-core/package.json ] || { echo "run.sh: npm ci first (playwright-core)"; exit 1; }

SRC=$(ls core/*.c | grep -v '/wasm_')
emcc -O3 -msimd128 -DNDEBUG -std=gnu11 -Icore -I/usr/include/stb $SRC bench/bench_forward.c -lm \
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2147483648 -sENVIRONMENT=web -sEXIT_RUNTIME=0 \
  -o "$OUT/www/bench_forward.js"
cp bench/bench_page.html "$OUT/www/"
ln -sfn ../node_modules/onnxruntime-web/dist "$OUT/www/ort"

parts=()
for s in "${SHAPES[@]}"; do
  [ -f "$OUT/www/$s.onnx" ] || /usr/bin/python3 bench/export_onnx.py "$OUT/www/$s.onnx" --shape "$s" >/dev/null
  echo "== $s (n = $NS, best of $REPS)"
  node bench/run_browser.mjs "$OUT/www" "shape=$s&ns=$NS&reps=$REPS" "$OUT/result-$s.json" | grep '\[page\] \(n=\|onnx\)' || true
  parts+=("$OUT/result-$s.json")
done

node -e '
  const fs = require("fs");
  const os = require("os");
  const [out, ver, ...files] = process.argv.slice(1);
  const runs = files.map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
  fs.writeFileSync(out, JSON.stringify({
    what: "ms per forward pass (best of reps after a warm-up), all attention maps returned, one thread each, headless Chromium",
    bertlens: "bench/bench_forward.c built with emcc -O3 -msimd128, int8 weights and activations (BL_PREC_NATIVE)",
    onnxruntime_web: "onnxruntime-web " + ver + ", wasm backend, numThreads 1, f32 graph from bench/export_onnx.py",
    date: new Date().toISOString(), cpu: os.cpus()[0].model, cores: os.cpus().length,
    note: "shared 2-core machine: figures vary by 2x between runs; compare within one run",
    runs }, null, 2) + "\n");
' bench/results.json "$ORT_VERSION" "${parts[@]}"
echo "bench/results.json"
