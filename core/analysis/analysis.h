/* analysis.h — attention maths on plain float arrays (Abnar & Zuidema 2020, "Quantifying
   Attention Flow in Transformers"). No renderer, no model: maps in, floats out. Not public.

   Residual-aware attention of layer l: A'_l = 0.5·mean_heads(A_l) + 0.5·I, rows renormalised.
   Rollout through layer L: R = A'_L · A'_{L-1} ⋯ A'_0; row i says how much each input token
   contributes to token i's representation after layer L.
   Flow: the layered graph has a node per (level, token), level 0 = inputs and level l+1 = the
   output of layer l; the edge (l, j) -> (l+1, i) has capacity A'_l[i][j]. The flow of input
   token j is the maximum flow from (0, j) to one token at the top level. */
#ifndef BL_ANALYSIS_H
#define BL_ANALYSIS_H

/* In place: a[n×n] holds the sum of the layer's `heads` maps on entry and A' on return. The
   caller sums the heads, so the maps may be stored in any form (floats, 16-bit). */
void bl_residual_attention(float *a, int n, int heads);

/* One rollout step, R ← A'·R (the later layer on the left). tmp[n×n] is scratch; R may be
   A'_0 to start with. Zero weights of A' are skipped (most of a peaky map). */
void bl_rollout_step(const float *a, float *R, float *tmp, int n);

/* Exact max-flow (Dinic's algorithm, float capacities) from every input token to token `to`
   at the top level, through `layers` levels of A' stacked in res[layers][n][n]:
   out[j] = flow of input j. That is n problems on (layers+1)·n nodes and layers·n² edges.
   Returns 0, or -1 when out of memory. */
int bl_attention_flow(const float *res, int layers, int n, int to, float *out);

/* Value-weighted attention (Kobayashi, Kuribayashi, Yokoi & Inui 2020, "Attention is Not Only
   a Weight"): ‖α_ij f_h(x_j)‖ with f_h(x) = (x W_V^h + b_V^h) W_O^h, the head's slice of the
   output projection (its bias is not attributed to a token), and per layer ‖Σ_h α^h_ij f_h(x_j)‖.
   The forward computes them when asked (bl_ctx_set_value_norms): after each layer's maps,
   from that layer's values V = x W_Vᵀ + b_V, which the forward overwrites layer by layer. */
#include <stddef.h>
#include <stdint.h>
typedef struct {
    int on;
    float *norms;     /* [layers][heads][n][n] */
    float *layer;     /* [layers][n][n] */
    size_t cap;       /* floats allocated in layer (n² · layers) */
    float *wo;        /* [hidden][hidden] the layer's W_O as floats */
    double *f, *g;    /* [heads][n][hidden] f_h(x_j); [n][heads][heads] their inner products (+ heads) */
    size_t fcap, gcap;
    int n;            /* tokens of the last forward whose every layer was computed; 0 none */
} bl_vnorm;
/* Layer l of a forward on n tokens: v[n][hidden] (head h in columns h·d…), wo[hidden][hidden]
   (nn.Linear: [out][in]), the layer's maps as floats att or as u16 att16. Grows its buffers
   for `layers` layers on l = 0. Returns 0, or -1 when out of memory. */
int bl_vnorm_layer(bl_vnorm *vn, int layers, int heads, int hidden, int l, int n, const float *v,
                   const float *att, const uint16_t *att16);
void bl_vnorm_free(bl_vnorm *vn);

#endif
