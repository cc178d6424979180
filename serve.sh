#!/usr/bin/env bash
# serve.sh — build the web page (WebAssembly core + static files + default model) and serve it.
#   ./serve.sh [PORT]        build what is missing, serve http://127.0.0.1:PORT/ (default 8000)
#   ./serve.sh --print-root  build, then print the static site directory (last line) and exit
# Environment: BL_WEB_BUILD (build dir, default build-web), JOBS (parallel jobs, default 2).
# Installs what the build needs and is missing (tools/deps.sh web: Debian packages, with apt).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
BUILD=${BL_WEB_BUILD:-$ROOT/build-web}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SITE=$BUILD/site

PRINT_ROOT=0 PORT=8000
for a in "$@"; do
  case $a in
    --print-root) PRINT_ROOT=1 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) if [[ $a =~ ^[0-9]+$ ]] && [ "$a" -ge 1 ] && [ "$a" -le 65535 ]; then PORT=$a
       else echo "serve.sh: bad argument '$a' (expected a port number or --print-root)" >&2; exit 2; fi ;;
  esac
done

log() { echo "serve.sh: $*" >&2; }

# What the build needs (emcc, CMake, make, node, python3, the stb headers): tools/deps.sh installs
# what is missing with apt (as root, or through sudo) and does nothing when all is there.
tools/deps.sh web >&2

# Debian's emcc runs its JS optimiser with the system node and needs acorn from here.
export NODE_PATH=${NODE_PATH:+$NODE_PATH:}/usr/share/nodejs
EM_TOOLCHAIN=/usr/share/emscripten/cmake/Modules/Platform/Emscripten.cmake
if [ ! -f "$EM_TOOLCHAIN" ]; then
  EM_TOOLCHAIN=$(dirname "$(readlink -f "$(command -v emcc)")")/cmake/Modules/Platform/Emscripten.cmake
fi

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  log "configuring $BUILD"
  # The toolchain's default emulator line breaks node 20 (experimental fetch); give it ours.
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DCMAKE_TOOLCHAIN_FILE="$EM_TOOLCHAIN" \
    -DCMAKE_CROSSCOMPILING_EMULATOR="$(command -v node);--no-experimental-fetch" >&2
fi
log "building $BUILD (incremental)"
cmake --build "$BUILD" -j"${JOBS:-2}" >&2

for f in index.html app.js worker.js bertlens_core.js bertlens_core.wasm bertlens_core_mt.js bertlens_core_mt.wasm; do
  [ -f "$SITE/$f" ] || { log "build did not produce $SITE/$f"; exit 1; }
done
[ -f "$SITE/weights/manifest.json" ] || log "warning: no weights/manifest.json: the page will report the missing model"

if [ $PRINT_ROOT = 1 ]; then
  echo "$SITE"
  exit 0
fi
log "serving $SITE at http://127.0.0.1:$PORT/ (Ctrl-C stops)"
# Cross-origin isolated (COOP + COEP), so the page may use SharedArrayBuffer and the threaded
# core (web/worker.js); the page loads nothing from other origins, so COEP costs nothing.
# The page's Content-Security-Policy (index.html's meta) lets it connect to its own origin and the
# Hugging Face Hub only; served from here it also allows http://127.0.0.1:* and http://localhost:*
# (a local mirror or the tests' mock hub, ?hub=http://127.0.0.1:PORT): index.html is sent with
# those added, and the same policy goes out as a header, which is what the worker's fetches obey.
exec python3 - "$PORT" "$SITE" <<'PY'
import functools, http.server, os, re, sys

LOCAL = " http://127.0.0.1:* http://localhost:*"
page = open(os.path.join(sys.argv[2], "index.html"), encoding="utf-8").read()
m = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page)
CSP = m.group(1).replace("connect-src 'self'", "connect-src 'self'" + LOCAL, 1) if m else None

class Handler(http.server.SimpleHTTPRequestHandler):
    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        if CSP:
            self.send_header("Content-Security-Policy", CSP)
        super().end_headers()

    def do_GET(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if CSP and path in ("/", "/index.html"):
            text = open(os.path.join(sys.argv[2], "index.html"), encoding="utf-8").read()
            body = text.replace("connect-src 'self'", "connect-src 'self'" + LOCAL, 1).encode("utf-8")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

Handler.extensions_map[".wasm"] = "application/wasm"
server = http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), functools.partial(Handler, directory=sys.argv[2]))
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
PY
