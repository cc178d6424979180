#!/usr/bin/env bash
# tools/build_site.sh OUT_DIR — builds the static site exactly as GitHub Pages publishes it
# (.github/workflows/pages.yml) into OUT_DIR: the WebAssembly build of ./serve.sh --print-root
# (page, core, font, offline service worker, weights/manifest.json and the files it lists),
# plus .nojekyll. Paths are relative, so the copy works under any sub-path (/bertlens/).
# Refuses a file over BL_MAX_FILE_MB (default 100, the GitHub Pages limit): shard big models
# with `bertlens convert … --shard-mb 50`.
# Environment: BL_WEB_BUILD (build dir, default build-web), JOBS, as for serve.sh; BL_HUB_HOSTS
# (hosts of a Hub mirror for the Content-Security-Policy, below).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] && [ -n "$1" ] || { echo "usage: tools/build_site.sh OUT_DIR" >&2; exit 2; }
OUT=$1
MAX_MB=${BL_MAX_FILE_MB:-100}

SITE=$(./serve.sh --print-root | tail -n 1)
[ -f "$SITE/index.html" ] && [ -f "$SITE/sw.js" ] || { echo "build_site.sh: $SITE is not a built site" >&2; exit 1; }

# Only what the site should serve: the weights weights/manifest.json lists (web/site.cmake, as
# in the build; the build dir may also hold stale weights of older manifests), then the built
# page, core, font and sw.js over it, so the copy is byte for byte what ./serve.sh serves.
rm -rf "$OUT"
mkdir -p "$OUT"
cmake -DSRC="$PWD" -DDST="$(cd "$OUT" && pwd)" -P web/site.cmake >/dev/null
for f in index.html app.js worker.js hub.js cache.js style.css favicon.svg offline.js sw.js bertlens_core.js bertlens_core.wasm \
         bertlens_core_mt.js bertlens_core_mt.wasm bertlens_core_mt.worker.js; do
  cp "$SITE/$f" "$OUT/$f"
done
# the relaxed-SIMD cores, when the build made them (clang-19; web/wasm.cmake)
for f in bertlens_core_relaxed.js bertlens_core_relaxed.wasm bertlens_core_relaxed_mt.js bertlens_core_relaxed_mt.wasm \
         bertlens_core_relaxed_mt.worker.js; do
  if [ -f "$SITE/$f" ]; then cp "$SITE/$f" "$OUT/$f"; fi
done
# A site for a Hub mirror (?hub=URL) must also let the page connect to the mirror and the hosts it
# redirects downloads to: BL_HUB_HOSTS="https://mirror.example https://cdn.mirror.example" adds
# them to the Content-Security-Policy's connect-src (index.html allows the Hugging Face Hub only).
if [ -n "${BL_HUB_HOSTS:-}" ]; then
  for h in $BL_HUB_HOSTS; do
    [[ $h =~ ^https?://[A-Za-z0-9.*-]+(:[0-9*]+)?$ ]] || { echo "build_site.sh: BL_HUB_HOSTS: '$h' is not scheme://host[:port]" >&2; exit 2; }
  done
  sed -i "s|connect-src 'self'|connect-src 'self' $BL_HUB_HOSTS|" "$OUT/index.html"
fi
rm -rf "$OUT/fonts"
cp -r "$SITE/fonts" "$OUT/fonts"
touch "$OUT/.nojekyll"

big=$(find "$OUT" -type f -size +"$((MAX_MB * 1024))"k)
if [ -n "$big" ]; then
  echo "build_site.sh: files over $MAX_MB MB (GitHub Pages refuses them):" >&2
  echo "$big" | sed 's/^/  /' >&2
  echo "shard the model: bertlens convert HF_DIR -o weights/NAME.json --dtype int8 --shard-mb 50" >&2
  exit 1
fi
echo "build_site.sh: $(find "$OUT" -type f | wc -l) files, $(du -sh "$OUT" | cut -f1) in $OUT" >&2
echo "$OUT"
