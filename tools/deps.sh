#!/usr/bin/env bash
# tools/deps.sh — the project's one list of what it needs from the system, and its installer.
#   tools/deps.sh MODE...           install what MODE needs and is missing: Debian packages with apt
#                                   (as root, or through sudo), for web-test the npm dev
#                                   dependencies of package.json (npm ci); nothing when all is there
#   tools/deps.sh --check MODE...   print what is missing (one package a line), exit 1 if anything
#   tools/deps.sh --packages MODE...  print the Debian packages MODE needs
#   tools/deps.sh --table           print the table below (tests/test_deps.sh reads it)
# Modes (each includes the ones in brackets):
#   native    build the CLI, the core and the unit tests with cc and CMake
#   web       build and serve the page: ./serve.sh (emcc, CMake, node, python3's http.server;
#             clang 19 for the relaxed-SIMD page core and test programs, tools/build_relaxed.sh:
#             emcc's clang 14 has no relaxed SIMD)
#   test      tests/run.sh natively (native): python3 with numpy and torch for the test generators
#             (torch writes the pytorch_model.bin checkpoints the converter is tested on), clang
#             with its sanitizer and libFuzzer runtimes for the ASan build and the fuzzers
#   web-test  tests/run_web.sh (native, web): headless chromium, npm and package.json's packages
#   bench     bench/ (native, web, web-test): torch and onnx for the ONNX export of bench/run.sh
#   golden    regenerating goldens and the shipped font/model (native): torch for the reference
#             forward, fontTools and DejaVu for the font subset, node packages for the tokenizer goldens
# Debian 12 names; any system with the commands and headers below works without this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# kind: cmd (commands), header (as #include names them), py (python3 modules), file.
# package: the Debian package; "-" = no package of ours to install: the C compiler's own headers
#   (libc, POSIX, intrinsics: build-essential natively, emscripten's sysroot under emcc) and the
#   commands of Debian's Essential packages (coreutils, grep, sed, findutils, ...), always there.
# modes: the modes that need the row (a mode also needs the rows of the modes it includes).
# probe: how to tell it is installed: cmd = `command -v` each name, py = import each name,
#   a directory ending in / = each name exists in it, another path = it exists (glob allowed),
#   "-" = nothing to probe (no package, or the package is probed by another row).
# modes "*" = every mode; "-" = used when present, never installed (sudo; GNU time for a peak RSS).
TABLE='
# kind  package             modes          probe                     names
cmd     build-essential     native         cmd                       cc make
cmd     cmake               native,web     cmd                       cmake ctest
header  libstb-dev          native,web     /usr/include/stb/         stb_truetype.h stb_image_write.h
cmd     emscripten          web            cmd                       emcc
cmd     make                web            cmd                       make
cmd     nodejs              web,golden     cmd                       node
cmd     python3             web,test,golden cmd                       python3
py      python3-numpy       test,web-test,golden py                        numpy
cmd     clang               test           cmd                       clang
file    libclang-rt-14-dev  test           /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a  libFuzzer
cmd     chromium            web-test       cmd                       chromium
cmd     clang-19            web            cmd                       clang-19
cmd     npm                 web-test,golden cmd                       npm
py      python3-torch       test,web-test,bench,golden py                        torch
py      python3-onnx        bench          py                        onnx
py      python3-fonttools   golden         py                        fontTools
file    fonts-dejavu-core   golden         /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf  DejaVuSans.ttf
header  -                   native,web     -                         assert.h ctype.h errno.h float.h inttypes.h limits.h math.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h stdio.h stdlib.h string.h time.h
header  -                   native,web     -                         pthread.h unistd.h malloc.h dirent.h sys/types.h sys/stat.h sys/wait.h fcntl.h
header  -                   native         -                         immintrin.h sanitizer/allocator_interface.h
header  -                   web            -                         wasm_simd128.h emscripten/emscripten.h emscripten/heap.h
cmd     -                   *              -                         bash sh cat cp mv rm ln ls mkdir rmdir touch chmod head tail wc sort uniq cut tr tee sed grep find xargs basename dirname readlink realpath mktemp stat du df id env nice nproc printf echo test true false sleep date cmp diff tar gzip uname lscpu kill timeout seq od
cmd     -                   *              -                         apt-get apt-cache dpkg dpkg-query
cmd     -                   -              -                         sudo
cmd     time                -              -                         time
'

# Modes and what each includes.
expand_mode() {
  case $1 in
    native) echo native ;;
    web) echo web ;;
    test) echo test native ;;
    web-test) echo web-test native web ;;
    bench) echo bench web-test native web ;;
    golden) echo golden native ;;
    *) echo "tools/deps.sh: unknown mode '$1' (native, web, test, web-test, bench, golden)" >&2; return 2 ;;
  esac
}

rows() { echo "$TABLE" | sed -e 's/#.*//' -e '/^[[:space:]]*$/d'; }
# each line once, in order (no awk: it is not in Debian's Essential set)
once() { local -A seen=(); local l; while read -r l; do [ -n "${seen[$l]:-}" ] || { seen[$l]=1; echo "$l"; }; done; }

# probed_missing MODES...: the packages of the modes' rows whose probe fails
probe_missing() {
  local want=" $* " kind pkg modes probe names m hit n
  while read -r kind pkg modes probe names; do
    [ "$pkg" = - ] && continue
    hit=0
    for m in ${modes//,/ }; do case $want in *" $m "*) hit=1 ;; esac; done
    [ $hit = 1 ] || continue
    case $probe in
      -) ;;
      cmd) for n in $names; do command -v "$n" >/dev/null 2>&1 || { echo "$pkg"; break; }; done ;;
      py) for n in $names; do /usr/bin/python3 -c "import $n" >/dev/null 2>&1 || { echo "$pkg"; break; }; done ;;
      */) for n in $names; do [ -e "$probe$n" ] || { echo "$pkg"; break; }; done ;;
      *) compgen -G "$probe" >/dev/null || echo "$pkg" ;;
    esac
  done < <(rows) | once
}

# npm dev dependencies (package.json) that node_modules lacks
npm_missing() {
  [ -f package.json ] || return 0
  local d
  for d in $(sed -n '/"devDependencies"/,/}/s/^ *"\([^"]*\)": *"[^"]*",\{0,1\} *$/\1/p' package.json); do
    [ -f "node_modules/$d/package.json" ] || { echo "npm:$d"; }
  done
}

ACTION=install
case ${1:-} in
  --table) rows; exit 0 ;;
  --check) ACTION=check; shift ;;
  --packages) ACTION=packages; shift ;;
  -h|--help|"") sed -n '2,20p' "$0"; [ $# -gt 0 ]; exit ;;
esac
[ $# -gt 0 ] || { echo "tools/deps.sh: which mode? (native, web, test, web-test, bench, golden)" >&2; exit 2; }
MODES=()
for a in "$@"; do
  e=$(expand_mode "$a") || exit 2
  MODES+=($e)
done

if [ $ACTION = packages ]; then
  want=" ${MODES[*]} "
  while read -r kind pkg modes probe names; do
    [ "$pkg" = - ] && continue
    for m in ${modes//,/ }; do case $want in *" $m "*) echo "$pkg"; break ;; esac; done
  done < <(rows) | once
  exit 0
fi

mapfile -t missing < <(probe_missing "${MODES[@]}")
npm_needed=0
case " ${MODES[*]} " in *" web-test "*|*" golden "*) npm_needed=1 ;; esac
mapfile -t npm_miss < <([ $npm_needed = 1 ] && npm_missing || true)

if [ $ACTION = check ]; then
  [ ${#missing[@]} -gt 0 ] && printf '%s\n' "${missing[@]}"
  [ ${#npm_miss[@]} -gt 0 ] && printf '%s\n' "${npm_miss[@]}"
  [ ${#missing[@]} -eq 0 ] && [ ${#npm_miss[@]} -eq 0 ]
  exit
fi

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=()
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=(sudo)
    else
      echo "tools/deps.sh: missing ${missing[*]}: run as root, or install them: apt-get install ${missing[*]}" >&2
      exit 1
    fi
  fi
  command -v apt-get >/dev/null 2>&1 || {
    echo "tools/deps.sh: missing ${missing[*]} (Debian package names) and this system has no apt-get: install their equivalents" >&2
    exit 1
  }
  echo "tools/deps.sh: installing ${missing[*]} with apt" >&2
  "${SUDO[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >&2
  mapfile -t still < <(probe_missing "${MODES[@]}")
  [ ${#still[@]} -eq 0 ] || { echo "tools/deps.sh: still missing after apt: ${still[*]}" >&2; exit 1; }
fi

if [ ${#npm_miss[@]} -gt 0 ]; then
  echo "tools/deps.sh: installing the npm dev dependencies (${npm_miss[*]#npm:})" >&2
  # playwright-core never downloads a browser: the tests point it at Debian's chromium
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
  if [ -f package-lock.json ]; then npm ci --no-audit --no-fund >&2; else npm install --no-audit --no-fund >&2; fi
fi
exit 0
