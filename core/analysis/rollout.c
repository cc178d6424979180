/* rollout.c — residual-aware attention and the rollout product (see analysis.h). */
#include "analysis/analysis.h"
#include <string.h>

void bl_residual_attention(float *a, int n, int heads) {
    for (int i = 0; i < n; i++) {
        float *row = a + (size_t)i * n, s = 0;
        for (int j = 0; j < n; j++) {
            row[j] = 0.5f * row[j] / heads + (i == j ? 0.5f : 0.0f);
            s += row[j];
        }
        if (s > 0)
            for (int j = 0; j < n; j++) row[j] /= s;
    }
}

void bl_rollout_step(const float *a, float *R, float *tmp, int n) {
    for (int i = 0; i < n; i++) {
        float *t = tmp + (size_t)i * n;
        for (int j = 0; j < n; j++) t[j] = 0;
        for (int k = 0; k < n; k++) {
            float w = a[(size_t)i * n + k];
            if (w == 0) continue;
            const float *o = R + (size_t)k * n;
            for (int j = 0; j < n; j++) t[j] += w * o[j];
        }
    }
    memcpy(R, tmp, (size_t)n * n * sizeof *R);
}
