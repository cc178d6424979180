#!/usr/bin/env bash
# tools/build_relaxed.sh — WebAssembly with relaxed SIMD: C sources compiled by clang 19
# (-msimd128 -mrelaxed-simd, emcc's own target flags and sysroot) and linked by emcc.
#   tools/build_relaxed.sh OBJ_DIR OUT.js SOURCE.c... [-- EMCC_LINK_FLAGS...]
# Why not emcc alone: Debian's emcc 3.1.6 drives clang 14, which has no relaxed SIMD, and its
# binaryen (version 108) reads the relaxed opcodes with a pre-standard numbering and rewrites
# them into a module that does not compile. So clang 19 compiles, and the link keeps binaryen
# away: -O1 (no wasm-opt pass), -sWASM_BIGINT (no i64 legalization) and
# -sERROR_ON_WASM_CHANGES_AFTER_LINK (emcc stops rather than touch the linked module).
# Objects are rebuilt when their source or any core header is newer.
# BL_RELAXED_CFLAGS: further compile flags, e.g. "-pthread" for a threaded program (clang 19 then
# targets atomics and bulk memory, as emcc's own -pthread objects do; link with -pthread too).
# Give each set of flags its own OBJ_DIR.
# A main(argc, argv) compiled by clang 19 is not found by emcc 3.1.6's link (the output comes out
# as an empty 481-byte module): use main(void), or a main(argc, argv) compiled by emcc that calls
# the program's (clang 19 with -Dmain=NAME) — a core module has no main.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 3 ] || { sed -n '2,3p' "$0"; exit 2; }
OBJ=$1 OUTJS=$2
shift 2
SRCS=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do SRCS+=("$1"); shift; done
[ $# -gt 0 ] && shift
CLANG=${BL_CLANG_RELAXED:-clang-19}
command -v "$CLANG" >/dev/null || { echo "build_relaxed: $CLANG not found (tools/deps.sh web installs clang-19)" >&2; exit 1; }
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}   # Debian's emcc needs it to find acorn
read -r -a EXTRA <<< "${BL_RELAXED_CFLAGS:-}"
read -r -a CFLAGS <<< "$(emcc "${EXTRA[@]}" --cflags)"
mkdir -p "$OBJ" "$(dirname "$OUTJS")"
newest_header=$(find core tests -name '*.h' -newer "$OBJ/.stamp" 2>/dev/null | head -n 1 || true)
[ -f "$OBJ/.stamp" ] || newest_header=all
OBJS=()
for s in "${SRCS[@]}"; do
  o="$OBJ/$(echo "$s" | sed 's|/|_|g').o"
  if [ ! -f "$o" ] || [ "$s" -nt "$o" ] || [ -n "$newest_header" ]; then
    "$CLANG" "${CFLAGS[@]}" -O3 -msimd128 -mrelaxed-simd -DNDEBUG -std=gnu11 -Wall -Wextra \
      -Wno-unused-command-line-argument -Icore -I/usr/include/stb -c "$s" -o "$o"
  fi
  OBJS+=("$o")
done
touch "$OBJ/.stamp"
emcc -O1 -sWASM_BIGINT -sERROR_ON_WASM_CHANGES_AFTER_LINK "${OBJS[@]}" -lm "$@" -o "$OUTJS"
