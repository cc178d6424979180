/* kernels_relaxed.h — the relaxed-SIMD kernel table (kernels_relaxed.c), apart from kernels.h:
   it exists only in programs compiled by tools/build_relaxed.sh (clang 19, -mrelaxed-simd), where
   bl_kernels_best() chooses it (the page's relaxed core, web/wasm.cmake). */
#ifndef BL_KERNELS_RELAXED_H
#define BL_KERNELS_RELAXED_H
#include "kernels/kernels.h"

/* WebAssembly relaxed SIMD: linear_q8 on i32x4.relaxed_dot_i8x16_i7x16_add_s (bit-identical to
   bl_k_linear_q8), every other entry the SIMD128 table's. NULL unless the build targets it
   (clang -mrelaxed-simd). */
const bl_kernels *bl_kernels_relaxed(void);
#endif
