/* fuzz_safetensors.c — libFuzzer target: arbitrary bytes as model.safetensors, pushed through
   the streaming converter (header length, JSON header checks, offsets, overlaps, row-by-row
   conversion, truncation) with the chunk size, the dtype, the memory ceiling and whether the
   size is announced taken from the first byte. Seeds: tests/fuzz/corpus_safetensors/ (files
   made by tests/data/make_hf.py). Built by tests/fuzz/run.sh. */
#include "fuzz_conv_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_convert("model.safetensors", data, size);
    return 0;
}
