/* flow.c — attention flow (see analysis.h): Dinic's max-flow on the layered graph of A'.
   The residual graph is dense and implicit: the forward residual of (l, j) -> (l+1, i) is
   cap - flow, the backward one is the flow itself. */
#include "analysis/analysis.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int n, levels;            /* levels = layers + 1 */
    const float *cap;         /* [levels-1][n][n]: cap[l][i][j] is (l, j) -> (l+1, i) */
    float *flow;              /* same shape */
    int *dist, *queue, *it;   /* [levels*n]; node v = level*n + token */
} bl_flownet;

#define BL_FEPS 1e-7f

static size_t bl_edge(const bl_flownet *g, int l, int i, int j) { return ((size_t)l * g->n + i) * g->n + j; }

static float bl_res(const bl_flownet *g, int l, int i, int j) {  /* forward residual (l,j)->(l+1,i) */
    size_t k = bl_edge(g, l, i, j);
    return g->cap[k] - g->flow[k];
}

/* BFS levels from src over edges with residual capacity; 1 if the sink is reachable. */
static int bl_bfs(bl_flownet *g, int src, int sink) {
    int V = g->levels * g->n, n = g->n;
    for (int v = 0; v < V; v++) g->dist[v] = -1;
    int qh = 0, qt = 0;
    g->dist[src] = 0;
    g->queue[qt++] = src;
    while (qh < qt) {
        int v = g->queue[qh++], l = v / n, t = v % n;
        if (l + 1 < g->levels)   /* forward: (l,t) -> (l+1,i) */
            for (int i = 0; i < n; i++) {
                int u = (l + 1) * n + i;
                if (g->dist[u] < 0 && bl_res(g, l, i, t) > BL_FEPS) { g->dist[u] = g->dist[v] + 1; g->queue[qt++] = u; }
            }
        if (l > 0)               /* backward: (l,t) -> (l-1,j) where flow (l-1,j)->(l,t) > 0 */
            for (int j = 0; j < n; j++) {
                int u = (l - 1) * n + j;
                if (g->dist[u] < 0 && g->flow[bl_edge(g, l - 1, t, j)] > BL_FEPS) {
                    g->dist[u] = g->dist[v] + 1;
                    g->queue[qt++] = u;
                }
            }
    }
    return g->dist[sink] >= 0;
}

/* Blocking-flow DFS along the BFS levels. Recursion depth is dist(sink): levels + 1 plus two
   per backward step, and nodes at or beyond the sink's distance are never entered. */
static float bl_dfs(bl_flownet *g, int v, int sink, float pushed) {
    if (v == sink) return pushed;
    if (g->dist[v] + 1 > g->dist[sink]) return 0;
    int n = g->n, l = v / n, t = v % n;
    for (; g->it[v] < 2 * n; g->it[v]++) {
        int k = g->it[v];
        if (k < n) {
            if (l + 1 >= g->levels) continue;
            int u = (l + 1) * n + k;
            float res = bl_res(g, l, k, t);
            if (g->dist[u] != g->dist[v] + 1 || res <= BL_FEPS || (g->dist[u] == g->dist[sink] && u != sink)) continue;
            float f = bl_dfs(g, u, sink, fminf(pushed, res));
            if (f > 0) { g->flow[bl_edge(g, l, k, t)] += f; return f; }
        } else {
            int j = k - n;
            if (l == 0) continue;
            int u = (l - 1) * n + j;
            size_t idx = bl_edge(g, l - 1, t, j);
            if (g->dist[u] != g->dist[v] + 1 || g->flow[idx] <= BL_FEPS || g->dist[u] >= g->dist[sink]) continue;
            float f = bl_dfs(g, u, sink, fminf(pushed, g->flow[idx]));
            if (f > 0) { g->flow[idx] -= f; return f; }
        }
    }
    return 0;
}

static float bl_maxflow(bl_flownet *g, int src, int sink) {
    size_t ne = (size_t)(g->levels - 1) * g->n * g->n;
    memset(g->flow, 0, ne * sizeof *g->flow);
    float total = 0;
    int V = g->levels * g->n;
    /* Dinic needs at most V phases, each at most E augmentations (every one saturates an
       edge). The bounds only matter if float rounding ever kept an edge alive: never hang. */
    for (int phase = 0; phase < V && bl_bfs(g, src, sink); phase++) {
        for (int v = 0; v < V; v++) g->it[v] = 0;
        float f;
        for (size_t k = 0; k <= ne && (f = bl_dfs(g, src, sink, INFINITY)) > 0; k++) total += f;
    }
    return total;
}

int bl_attention_flow(const float *res, int layers, int n, int to, float *out) {
    int levels = layers + 1;
    size_t ne = (size_t)layers * n * n, V = (size_t)levels * n;
    bl_flownet g = {n, levels, res, malloc(ne * sizeof(float)), malloc(V * sizeof(int)), malloc(V * sizeof(int)),
                    malloc(V * sizeof(int))};
    int rc = -1;
    if (g.flow && g.dist && g.queue && g.it) {
        int sink = layers * n + to;
        for (int j = 0; j < n; j++) out[j] = bl_maxflow(&g, j, sink);
        rc = 0;
    }
    free(g.flow);
    free(g.dist);
    free(g.queue);
    free(g.it);
    return rc;
}
