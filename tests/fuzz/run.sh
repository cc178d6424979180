#!/usr/bin/env bash
# tests/fuzz/run.sh — build the libFuzzer targets (clang -fsanitize=fuzzer,address,undefined)
# and run each for a fixed time on the committed seed corpus. Exits non-zero on a crash,
# a leak, a sanitizer report or a timeout (libFuzzer writes the input to build-fuzz/).
#   tests/fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]     default 30 s; targets tokenizer model json tokjson safetensors pickle
# Targets are tests/fuzz/fuzz_TARGET.c, seeded from tests/fuzz/corpus_TARGET/ (+ TARGET.dict);
# new inputs go to BUILD/corpus_TARGET/ (the committed corpus is never written).
# Environment: BL_FUZZ_BUILD (default build-fuzz), BL_FUZZ_ARGS (extra libFuzzer flags),
#              CC (default clang). Run from anywhere; it works in the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS=${1:-30}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(tokenizer model json tokjson safetensors pickle)
OUT=${BL_FUZZ_BUILD:-build-fuzz}
CC=${CC:-clang}
mkdir -p "$OUT"

CFLAGS=(-std=c11 -g -O1 -Wall -Wextra -fno-omit-frame-pointer
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
        -Icore -I/usr/include/stb)
mapfile -t CORE < <(tools/core_sources.sh)
HDR=$(ls -t core/*.h core/*/*.h | head -n 1)   # the newest core header: any change rebuilds every object

# the core once as objects (fuzzer-no-link instrumentation), then one binary per target
OBJ="$OUT/obj"
mkdir -p "$OBJ"
for f in "${CORE[@]}"; do
  o="$OBJ/$(basename "${f%.c}").o"
  if [ ! -f "$o" ] || [ "$f" -nt "$o" ] || [ "$HDR" -nt "$o" ] || [ "$0" -nt "$o" ]; then
    "$CC" "${CFLAGS[@]/-fsanitize=fuzzer,address,undefined/-fsanitize=fuzzer-no-link,address,undefined}" -c "$f" -o "$o"
  fi
done
for t in "${TARGETS[@]}"; do
  "$CC" "${CFLAGS[@]}" "tests/fuzz/fuzz_$t.c" "$OBJ"/*.o -lm -o "$OUT/fuzz_$t"
done

rc=0
for t in "${TARGETS[@]}"; do
  # a scratch corpus dir (new inputs land there), seeded from the committed one
  work="$OUT/corpus_$t"
  mkdir -p "$work"
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  echo "== fuzz_$t for ${SECS}s"
  set +e
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$OUT/fuzz_$t" "$work" "tests/fuzz/corpus_$t" -max_total_time="$SECS" -timeout=10 \
      -rss_limit_mb=2048 -malloc_limit_mb=1024 -max_len=262144 -print_final_stats=1 \
      -artifact_prefix="$OUT/crash_${t}_" "${dict[@]}" ${BL_FUZZ_ARGS:-} > "$OUT/fuzz_$t.log" 2>&1
  r=$?
  set -e
  grep -E "^#[0-9]+.*(DONE|INITED)|stat::number_of_executed_units|cov:" "$OUT/fuzz_$t.log" | tail -3
  if [ $r -ne 0 ]; then
    echo "fuzz_$t: FAILED (exit $r); log: $OUT/fuzz_$t.log; input: $(ls "$OUT"/crash_"${t}"_* 2>/dev/null | head -1)"
    grep -E "ERROR|invariant|runtime error|SUMMARY" "$OUT/fuzz_$t.log" | head -5
    rc=1
  fi
done
exit $rc
