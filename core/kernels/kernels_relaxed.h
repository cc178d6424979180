/* kernels_relaxed.h — the relaxed-SIMD kernel table (kernels_relaxed.c), apart from kernels.h
   while it is not one of the tables bl_kernels_best() chooses from: only the relaxed-SIMD
   programs (tools/build_relaxed.sh) use it. */
#ifndef BL_KERNELS_RELAXED_H
#define BL_KERNELS_RELAXED_H
#include "kernels/kernels.h"

/* WebAssembly relaxed SIMD: linear_q8 on i32x4.relaxed_dot_i8x16_i7x16_add_s (bit-identical to
   bl_k_linear_q8), every other entry the SIMD128 table's. NULL unless the build targets it
   (clang -mrelaxed-simd). */
const bl_kernels *bl_kernels_relaxed(void);
#endif
