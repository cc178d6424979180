#!/usr/bin/env bash
# tests/run_web.sh — builds the WebAssembly site and runs the web tests:
#   0. tests/run_wasm_units.sh      the kernel and forward unit tests compiled to WASM SIMD128
#                                   (vector kernels bit for bit against the scalar reference)
#      tests/e2e/relaxed.test.mjs   the relaxed-SIMD int8 kernel (clang 19, tools/build_relaxed.sh)
#                                   bit for bit against the scalar reference, in Chromium
#   1. tests/e2e/wasm_api.test.mjs  the WASM exports against the native CLI (tokens, attention,
#                                   fill-mask, rendered pixels) on a small random test model
#                                   and, when weights/manifest.json exists, the default model
#      tests/e2e/wasm_families.test.mjs  the same per family (tokenizer.json, readable tokens, heads)
#      tests/e2e/manifest.test.mjs  the model list / shard manifest rules: sw.js's copy = the C
#   2. tests/e2e/page.test.mjs      the page in headless Chromium served by ./serve.sh
#      tests/e2e/cores.test.mjs     the relaxed-SIMD page core against the SIMD128 one: which one
#                                   loads, and bit-identical attention, fill-mask and pixels
#   3. tests/e2e/hosting.test.mjs   the tools/build_site.sh artifact under /bertlens/, offline
#   4. tests/e2e/single.test.mjs    the tools/build_single.sh single-file page from file://
#   5. tests/e2e/hub.test.mjs       models by Hub id from tests/e2e/mock_hub.mjs (make_hub_repos.py),
#                                   converted in the page: bytes and attentions as the CLI's, cache, errors
# Installs what is missing (tools/deps.sh web-test): Debian packages with apt as root or through
# sudo, and the npm dev dependencies (playwright-core, which never downloads a browser).
# Environment: BL_NATIVE_BUILD (native build dir with bertlens, default build/, built if
# missing), BL_WEB_BUILD (default build-web), JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
NATIVE=${BL_NATIVE_BUILD:-$ROOT/build}
WEB=${BL_WEB_BUILD:-$ROOT/build-web}
export BL_WEB_BUILD=$WEB

# Debian packages and npm dev dependencies, installed only when missing
tools/deps.sh web-test

echo "== native CLI ($NATIVE)"
if [ ! -x "$NATIVE/bertlens" ]; then
  cmake -S . -B "$NATIVE" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$NATIVE" -j"$JOBS" --target bertlens >/dev/null
CLI=$NATIVE/bertlens

echo "== unit tests under WebAssembly SIMD128"
tests/run_wasm_units.sh "$WEB/units"
echo "== relaxed SIMD: the int8 kernel on i32x4.relaxed_dot_i8x16_i7x16_add_s = the scalar reference (Chromium)"
tools/build_relaxed.sh "$WEB/relaxed-obj" "$WEB/relaxed/test_kernels_relaxed.js" core/kernels/*.c core/base/*.c \
  tests/test_kernels_relaxed.c -- -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=web -sEXIT_RUNTIME=1
node tests/e2e/relaxed.test.mjs --dir "$WEB/relaxed" --prog test_kernels_relaxed.js

echo "== WebAssembly build ($WEB)"
mkdir -p "$WEB"
SITE=$(./serve.sh --print-root 2>"$WEB/serve.log" | tail -n 1) || { cat "$WEB/serve.log"; exit 1; }
echo "site: $SITE"

echo "== test model"
TM=$WEB/test-model
if [ ! -f "$TM/test.int8.bin" ] || [ ! -f "$TM/test.int16.bin" ] || [ ! -f "$TM/shards/test.json" ] || [ ! -f "$TM/test-nomlm.int8.bin" ] || [ tests/e2e/make_test_model.py -nt "$TM/test.int8.bin" ]; then
  rm -rf "$TM"
  python3 tests/e2e/make_test_model.py "$TM/hf"
  mkdir -p "$TM/shards"
  "$CLI" convert "$TM/hf" -o "$TM/test.int8.bin" --dtype int8 >/dev/null
  "$CLI" convert "$TM/hf" -o "$TM/test.int16.bin" --dtype int16 >/dev/null
  "$CLI" convert "$TM/hf" -o "$TM/shards/test.json" --dtype int8 --shard-mb 1 >/dev/null
  python3 tests/e2e/make_test_model.py "$TM/hf-nomlm" --no-mlm --seed 99
  "$CLI" convert "$TM/hf-nomlm" -o "$TM/test-nomlm.int8.bin" --dtype int8 >/dev/null
fi
echo "$TM/test.int8.bin"

FONT=web/fonts/DejaVuSans-subset.ttf
echo "== WASM API vs native (test model)"
node tests/e2e/wasm_api.test.mjs --site "$SITE" --model "$TM/test.int8.bin" --cli "$CLI" --font "$FONT"

echo "== WASM API vs native on every family's test checkpoint (tokenizers, readable tokens, task heads)"
node tests/e2e/wasm_families.test.mjs --site "$SITE" --cli "$CLI"

echo "== model list and shard manifest: web/sw.js's JS copy agrees with the core's C"
node tests/e2e/manifest.test.mjs --site "$SITE" --shards "$TM/shards/test.json"

echo "== streaming converter in WebAssembly vs the CLI's convert (any chunking, hostile inputs)"
node tests/e2e/convert_stream.test.mjs --site "$SITE" --cli "$CLI"

echo "== WASM API vs native (test model without an MLM head)"
node tests/e2e/wasm_api.test.mjs --site "$SITE" --model "$TM/test-nomlm.int8.bin" --cli "$CLI" --font "$FONT"
echo "== WASM API vs native (test model, the threaded core with 2 threads)"
node tests/e2e/wasm_api.test.mjs --site "$SITE" --model "$TM/test.int8.bin" --cli "$CLI" --font "$FONT" --core bertlens_core_mt --threads 2

# The default model, when the manifest names a single .bin (shards are covered by the page test).
DEFAULT_BIN=$(node -e '
  const fs = require("fs");
  try {
    const m = JSON.parse(fs.readFileSync("weights/manifest.json", "utf8"));
    const e = (m.models || []).find((x) => x.name === m.default) || (m.models || [])[0];
    if (e && /\.bin$/.test(e.file) && fs.existsSync("weights/" + e.file)) console.log("weights/" + e.file);
  } catch (e) {}')
if [ -n "$DEFAULT_BIN" ]; then
  echo "== WASM API vs native (default model $DEFAULT_BIN)"
  node tests/e2e/wasm_api.test.mjs --site "$SITE" --model "$DEFAULT_BIN" --cli "$CLI" --font "$FONT"
fi

echo "== page in headless Chromium"
node tests/e2e/page.test.mjs --test-model "$TM/test.int8.bin" --test-shards "$TM/shards/test.json" --cli "$CLI"
echo "== the page's relaxed-SIMD core (taken where the browser has it) = its SIMD128 core (?core=simd128), bit for bit"
node tests/e2e/cores.test.mjs --test-model "$TM/test.int8.bin" --test-model-int16 "$TM/test.int16.bin"
echo "== analyses in the page: value-weighted, words, selection, SVG/PNG/JSON export; n = 512 redraw figures" && node tests/e2e/analyses_a.test.mjs --test-model "$TM/test.int8.bin" --cli "$CLI"
echo "== head statistics, head finder, head map in the page" && node tests/e2e/analyses_b.test.mjs --test-model "$TM/test.int8.bin" --cli "$CLI"
echo "== logit lens and compare mode in the page vs the CLI"; node tests/e2e/analyses_c.test.mjs --cli "$CLI" --test-model "$TM/test.int8.bin"

if [ -x tools/build_site.sh ] && [ -f tests/e2e/hosting.test.mjs ]; then
  echo "== published artifact under a sub-path, offline service worker"
  ART=$(tools/build_site.sh "$WEB/artifact" 2>"$WEB/build_site.log" | tail -n 1) || { cat "$WEB/build_site.log"; exit 1; }
  node tests/e2e/hosting.test.mjs --artifact "$ART" --test-model "$TM/test.int8.bin" --alt-model "$TM/test-nomlm.int8.bin" \
    --test-shards "$TM/shards/test.json"
fi
if [ -x tools/build_single.sh ] && [ -f tests/e2e/single.test.mjs ]; then
  echo "== single-file build from file://"
  tools/build_single.sh "$WEB/single" 2>"$WEB/build_single.log" || { cat "$WEB/build_single.log"; exit 1; }
  node tests/e2e/single.test.mjs --dir "$WEB/single" --test-model "$TM/test.int8.bin"
fi
echo "== models from a (mock) Hugging Face Hub, converted in the page"
HR=$WEB/hub-repos
if [ ! -f "$HR/.made" ] || [ tests/e2e/make_hub_repos.py -nt "$HR/.made" ] || [ tests/data/make_hf.py -nt "$HR/.made" ]; then
  rm -rf "$HR"
  PY3=python3; [ -x /usr/bin/python3 ] && PY3=/usr/bin/python3   # numpy and torch from Debian's packages
  "$PY3" tests/e2e/make_hub_repos.py "$HR" >/dev/null
  touch "$HR/.made"
fi
node tests/e2e/hub.test.mjs --repos "$HR" --cli "$CLI"
echo "== web tests passed"
