#!/usr/bin/env bash
# tools/build_single.sh OUT_DIR — the single-file builds, made from the WebAssembly site of
# ./serve.sh --print-root by tools/build_single.mjs:
#   OUT_DIR/bertlens.html             page + JS + WASM + font, no model: open it from disk (file://),
#                                     then pick or drop a .bin made by `bertlens convert`
#   OUT_DIR/bertlens-with-model.html  the same with the default model inlined (skipped when the
#                                     default model is over BL_SINGLE_MAX_MODEL_MB, default 64)
# Environment: BL_WEB_BUILD (build dir, default build-web), JOBS, as for serve.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: tools/build_single.sh OUT_DIR" >&2; exit 2; }
OUT=$1
SITE=$(./serve.sh --print-root | tail -n 1)
mkdir -p "$OUT"
node tools/build_single.mjs --site "$SITE" --out "$OUT/bertlens.html"
rm -f "$OUT/bertlens-with-model.html"
if [ -f "$SITE/weights/manifest.json" ]; then
  node tools/build_single.mjs --site "$SITE" --out "$OUT/bertlens-with-model.html" --default-model \
    --max-model-mb "${BL_SINGLE_MAX_MODEL_MB:-64}" || echo "build_single.sh: bertlens-with-model.html skipped" >&2
else
  echo "build_single.sh: no default model (weights/manifest.json): bertlens-with-model.html skipped" >&2
fi
ls -l "$OUT"/bertlens*.html >&2
