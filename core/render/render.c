/* render.c — the renderer: views drawn by the core into an RGBA framebuffer (see bertlens.h).
   This file holds the buffers, the hit regions, the input checks and the two entry points;
   the views are view_*.c (render_internal.h lists the files).

   Layout decisions (why the pictures look the way they do):
   - Everything is laid out in device pixels: CSS sizes × opts.scale, rounded once. Text is
     rasterised at the device size, so it is sharp at any devicePixelRatio; lines are
     antialiased with a thickness that scales too.
   - The renderer picks the height; the width is opts.width × scale. Heatmap cells are square
     and an integer number of device pixels wide, so the grid never blurs; whatever is left over
     becomes margin. A single cell is capped (56 CSS px) so n = 1 is not a wall of colour.
   - Labels shrink with the cells (font = 0.75 × cell, at most 12 CSS px) and vanish when the
     font would be under ~7 CSS px; long tokens are ellipsized at 110 CSS px. Column labels are
     horizontal when they fit a cell and otherwise rotated 90° (read bottom to top), the
     seaborn convention for dense axes. Values are printed (.2f) only where "0.00" fits, and
     not for cells that would read 0.00 (most of an attention map; printing them is noise).
   - Geometry never depends on hover: a hover re-render changes only the highlighted row,
     column, labels and the readout line, so the page can re-render at pointer rate.
   - The colour scale starts at 0 and ends at opts.vmax, or the largest value shown (auto):
     attention is a probability, 0 is meaningful, and auto-scaling keeps diffuse heads readable.
     The model view uses a fixed 0..1 scale (vmax overrides) so thumbnails are comparable.
   - Indices shown to people are 0-based, like the API, the CLI, Hugging Face outputs and
     bertviz; every title says so.
   - The framebuffer is at most 4096 × 4096 device pixels (BL_FB_MAX). When a view would need
     more, cells/rows shrink down to 1 device pixel first; if that still does not fit the render
     fails with an error that names the size.
   - Buffers (framebuffer, scratch, hit-test tables, glyph cache) are grow-only and reused. */
#include "render/render_internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const bl_theme BL_LIGHT = {BL_RGB(0xffffff), BL_RGB(0x1f2328), BL_RGB(0x6e7781), BL_RGB(0xc9ced6),
                                  BL_RGB(0xe8590c), BL_RGB(0xf4f5f7), BL_RGB(0xfff1e6)};
static const bl_theme BL_DARK = {BL_RGB(0x15171c), BL_RGB(0xe6e8eb), BL_RGB(0x9aa2ad), BL_RGB(0x3a404a),
                                 BL_RGB(0xffa94d), BL_RGB(0x1f2229), BL_RGB(0x3a2e22)};

/* ---------------------------------------------------------------- renderer lifetime */
bl_renderer *bl_renderer_new(const uint8_t *ttf, size_t len, bl_err *e) {
    bl_font *f = bl_font_new(ttf, len, e);
    if (!f) return NULL;
    bl_renderer *r = calloc(1, sizeof *r);
    if (!r) { bl_font_free(f); bl_fail(e, "renderer: out of memory"); return NULL; }
    r->font = f;
    r->S = 1;
    r->th = BL_LIGHT;
    return r;
}

void bl_renderer_free(bl_renderer *r) {
    if (!r) return;
    bl_font_free(r->font);
    free(r->cv.px);
    free(r->fbuf);
    free(r->rows);
    free(r->cols);
    free(r->vals);
    free(r->reg);
    free(r->flow);
    free(r->lines.px);
    free(r->mst);
    free(r->roll);
    free(r->pool);
    free(r->w_attn);
    free(r->w_text);
    free(r->w_tok);
    free(r->w_type);
    free(r->w_of);
    free(r->hs);
    free(r->hm);
    free(r->hord);
    free(r->w_norms);
    free(r);
}

/* ---------------------------------------------------------------- grow-only buffers */
float *bl_scratch(bl_renderer *r, size_t n) {
    if (n > r->fbuf_cap) {
        float *p = realloc(r->fbuf, n * sizeof *p);
        if (!p) return NULL;
        r->fbuf = p;
        r->fbuf_cap = n;
    }
    return r->fbuf;
}

int bl_index_lists(bl_renderer *r, size_t n) {
    if (n > r->idx_cap) {
        int *a = realloc(r->rows, n * sizeof *a);
        if (!a) return -1;
        r->rows = a;
        int *b = realloc(r->cols, n * sizeof *b);
        if (!b) return -1;
        r->cols = b;
        r->idx_cap = n;
    }
    return 0;
}

int bl_push_region(bl_renderer *r, int x, int y, int w, int h, bl_hit hit) {
    if ((size_t)r->nreg == r->reg_cap) {
        size_t cap = r->reg_cap ? r->reg_cap * 2 : 256;
        bl_region *p = realloc(r->reg, cap * sizeof *p);
        if (!p) return -1;
        r->reg = p;
        r->reg_cap = cap;
    }
    r->reg[r->nreg].r = (bl_rect){x, y, w, h};
    r->reg[r->nreg].hit = hit;
    r->nreg++;
    return 0;
}

int bl_canvas_begin(bl_renderer *r, int w, int h, bl_err *e) {
    if (w < 1 || h < 1 || w > BL_FB_MAX || h > BL_FB_MAX)
        return bl_fail(e, "render: the view needs %dx%d device pixels; the limit is %dx%d (use a smaller "
                       "width/scale or fewer tokens)", w, h, BL_FB_MAX, BL_FB_MAX);
    size_t need = (size_t)w * h * 4;
    if (need > r->fb_cap) {
        uint8_t *p = realloc(r->cv.px, need);
        if (!p) return bl_fail(e, "render: out of memory for a %dx%d framebuffer", w, h);
        r->cv.px = p;
        r->fb_cap = need;
    }
    r->cv.w = w;
    r->cv.h = h;
    if (r->cv.rec) bl_rec_clear(r->cv.rec);
    bl_fill_rect(&r->cv, 0, 0, w, h, r->th.bg);
    return 0;
}

uint64_t bl_fnv_maps(uint64_t key, const bl_render_input *in, size_t k0, size_t cnt) {
    if (in->maps_id) {   /* the caller says when the contents change */
        key = bl_fnv(bl_fnv(bl_fnv(key, in->maps_id), (uint64_t)k0), (uint64_t)cnt);
        return bl_fnv(key, (uint64_t)(uintptr_t)bl_attn_ptr(in));
    }
    size_t stride = cnt / 65536 + 1;
    for (size_t k = 0; k < cnt; k += stride) {
        const float wf = bl_attk(in, k0 + k);
        uint32_t w;
        memcpy(&w, &wf, 4);
        key = bl_fnv(key, w);
    }
    return bl_fnv(key, (uint64_t)(uintptr_t)bl_attn_ptr(in));
}

/* ---------------------------------------------------------------- entry points */
static int bl_check_input(const bl_render_input *in, const bl_view_opts *o, bl_err *e) {
    if (!in || !o) return bl_fail(e, "render: no input or options");
    if (o->view < 0 || o->view >= BL_VIEW_COUNT) return bl_fail(e, "render: unknown view %d", o->view);
    if (o->colormap < 0 || o->colormap >= BL_CMAP_COUNT) return bl_fail(e, "render: unknown colormap %d", o->colormap);
    if (!(o->scale >= 0.5f && o->scale <= 4.0f)) return bl_fail(e, "render: scale %g outside 0.5..4", (double)o->scale);
    if (o->width < 1 || o->width > BL_FB_MAX) return bl_fail(e, "render: width %d outside 1..%d", o->width, BL_FB_MAX);
    if (o->pair_filter < 0 || o->pair_filter > BL_PAIR_BB) return bl_fail(e, "render: unknown pair filter %d", o->pair_filter);
    if (o->stat_bar < 0 || o->stat_bar > BL_STAT_COUNT) return bl_fail(e, "render: unknown statistic bar %d", o->stat_bar);
    if (in->n < 1 || in->n > BL_FB_MAX) return bl_fail(e, "render: n = %d tokens (need 1..%d)", in->n, BL_FB_MAX);
    if (in->layers < 1 || in->heads < 1) return bl_fail(e, "render: %d layers x %d heads", in->layers, in->heads);
    if (!in->tokens || (!in->attn && !in->attn16)) return bl_fail(e, "render: tokens and attention are required");
    if (o->view != BL_VIEW_MLM && o->view != BL_VIEW_MODEL && (o->layer < 0 || o->layer >= in->layers))
        return bl_fail(e, "render: layer %d outside 0..%d", o->layer, in->layers - 1);
    if (o->head < -1 || o->head >= in->heads) return bl_fail(e, "render: head %d outside -1..%d", o->head, in->heads - 1);
    if (in->mlm_count < 0 || (in->mlm_count > 0 && (in->mlm_k < 1 || !in->mlm_pos || !in->mlm_tokens || !in->mlm_p)))
        return bl_fail(e, "render: inconsistent masked-LM input (count %d, k %d)", in->mlm_count, in->mlm_k);
    if (in->head_p && (in->head <= BL_HEAD_NONE || in->head >= BL_HEAD_COUNT || in->n_labels < 1))
        return bl_fail(e, "render: inconsistent task head input (head %d, %d labels)", in->head, in->n_labels);
    return 0;
}

const uint8_t *bl_render(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, int *w, int *h,
                         bl_err *e) {
    if (!r) { bl_fail(e, "render: no renderer"); return NULL; }
    if (bl_check_input(in, o, e)) return NULL;
    bl_view_opts oo = *o;   /* pointers beyond any framebuffer are "no pointer" (and cannot overflow) */
    if (oo.hover_x < 0 || oo.hover_x > BL_FB_MAX || oo.hover_y < 0 || oo.hover_y > BL_FB_MAX) oo.hover_x = oo.hover_y = -1;
    o = &oo;
    r->S = o->scale;
    r->th = o->dark ? BL_DARK : BL_LIGHT;
    r->nreg = 0;
    r->has_mat = 0;
    r->cv.w = (int)lroundf(o->width * o->scale);   /* requested width; views may need more */
    int rc;
    /* value-weighted views read the norms where the maps were: per head in->norms, the layer's
       ‖Σ_h α f_h(x)‖ in in->norms_layer (views check r->vw for it) */
    bl_render_input vin;
    r->vw = o->value_weighted && (o->view == BL_VIEW_HEATMAP || o->view == BL_VIEW_MODEL || o->view == BL_VIEW_HEAD ||
                                  o->view == BL_VIEW_ROLLOUT || o->view == BL_VIEW_FLOW);
    if (r->vw) {
        if (!in->norms || !in->norms_layer) {
            bl_fail(e, "render: value-weighted attention needs the value norms (bl_ctx_set_value_norms before the forward)");
            return NULL;
        }
        vin = *in;
        vin.attn = in->norms;
        vin.attn16 = NULL;
        vin.attn_b = NULL;   /* compare mode differences are of weights */
        in = &vin;
    }
    if (o->words && o->view != BL_VIEW_NEURON && o->view != BL_VIEW_MLM && o->view != BL_VIEW_TASK) {
        /* the neuron view shows one query token's vectors, the masked-LM view positions and the
           prediction view the head's per-token output: all about tokens, so they ignore the word
           switch */
        if (!(in = bl_word_input(r, in, e))) return NULL;
        if (o->token >= in->n) oo.token = -1;
    }
    switch (o->view) {
    case BL_VIEW_HEATMAP: rc = bl_view_heatmap(r, in, o, e); break;
    case BL_VIEW_MODEL: rc = bl_view_model(r, in, o, e); break;
    case BL_VIEW_HEAD: rc = bl_view_head(r, in, o, e); break;
    case BL_VIEW_NEURON: rc = bl_view_neuron(r, in, o, e); break;
    case BL_VIEW_ROLLOUT: rc = bl_view_rollout(r, in, o, e); break;
    case BL_VIEW_FLOW: rc = bl_view_flow(r, in, o, e); break;
    case BL_VIEW_TASK: rc = bl_view_task(r, in, o, e); break;
    case BL_VIEW_HEAD_MAP: rc = bl_view_head_map(r, in, o, e); break;
    default: rc = bl_view_mlm(r, in, o, e); break;
    }
    if (rc) { r->has_mat = 0; r->nreg = 0; return NULL; }
    if (w) *w = r->cv.w;
    if (h) *h = r->cv.h;
    return r->cv.px;
}

bl_hit bl_hit_test(const bl_renderer *r, int css_x, int css_y) {
    bl_hit none = {0, -1, -1, -1, -1, 0, 0};
    if (!r || css_x < 0 || css_y < 0 || css_x > BL_FB_MAX || css_y > BL_FB_MAX) return none;
    int x = (int)(css_x * r->S), y = (int)(css_y * r->S);
    if (r->has_mat && x >= r->mat.x && x < r->mat.x + r->mat.w && y >= r->mat.y && y < r->mat.y + r->mat.h) {
        int a = (y - r->mat.y) / r->cell, b = (x - r->mat.x) / r->cell;
        bl_hit hit = {1, r->rows[a], r->cols[b], r->mat_layer, r->mat_head, r->vals[(size_t)a * r->nc + b], 0};
        return hit;
    }
    for (int k = r->nreg - 1; k >= 0; k--) {   /* last drawn is on top */
        const bl_region *g = &r->reg[k];
        if (x >= g->r.x && x < g->r.x + g->r.w && y >= g->r.y && y < g->r.y + g->r.h) return g->hit;
    }
    return none;
}
