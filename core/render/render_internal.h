/* render_internal.h — what render.c, render_*.c and font.c share. Not public. */
#ifndef BL_RENDER_INTERNAL_H
#define BL_RENDER_INTERNAL_H

#include "base/internal.h"

/* Colours are 0xRRGGBBAA. The canvas is opaque RGBA (alpha stays 255); drawing blends. */
typedef uint32_t bl_rgba;
#define BL_RGB(hex) ((bl_rgba)(((uint32_t)(hex) << 8) | 0xffu))
#define BL_RGBA(hex, a) ((bl_rgba)(((uint32_t)(hex) << 8) | ((uint32_t)(a) & 0xffu)))

typedef struct {
    uint8_t *px;
    int w, h;
    int cx0, cy0, cx1, cy1;    /* clip rectangle [cx0,cx1) x [cy0,cy1) */
} bl_canvas;

void bl_canvas_clip(bl_canvas *c, int x0, int y0, int x1, int y1);
void bl_canvas_noclip(bl_canvas *c);
void bl_fill_rect(bl_canvas *c, int x, int y, int w, int h, bl_rgba col);
void bl_stroke_rect(bl_canvas *c, int x, int y, int w, int h, int t, bl_rgba col);
/* Antialiased line of thickness t (device px), alpha from col. */
void bl_draw_line(bl_canvas *c, float x0, float y0, float x1, float y1, float t, bl_rgba col);

/* ---------------------------------------------------------------- font.c */
typedef struct bl_font bl_font;

typedef struct {
    float ascent, descent, line;   /* px; descent is positive (below the baseline) */
} bl_font_metrics;

bl_font *bl_font_new(const uint8_t *ttf, size_t len, bl_err *e);
void bl_font_free(bl_font *f);
bl_font_metrics bl_font_metrics_at(const bl_font *f, float px);
/* 1 if the font has a glyph for codepoint cp. */
int bl_font_has_glyph(const bl_font *f, uint32_t cp);
/* Advance width of len bytes of UTF-8 at size px (em size in device pixels). */
float bl_text_width(bl_font *f, const char *s, int len, float px);
/* How many bytes of s fit in max_w; if not all, the count that fits with "…" appended
   (*ellipsis = 1). Never splits a UTF-8 sequence. */
int bl_text_fit(bl_font *f, const char *s, int len, float px, float max_w, int *ellipsis);

enum { BL_ALIGN_LEFT = 0, BL_ALIGN_CENTER = 1, BL_ALIGN_RIGHT = 2 };
/* Draw text with its baseline at y; x is the left/centre/right per align. If max_w > 0 the
   text is ellipsized to fit. Returns the drawn width. rot90: rotated 90° counter-clockwise
   (reads bottom to top): then x is the baseline column and y the start (bottom) for LEFT. */
float bl_draw_text(bl_font *f, bl_canvas *c, const char *s, int len, float x, float y, float px,
                   bl_rgba col, int align, float max_w);
float bl_draw_text_rot90(bl_font *f, bl_canvas *c, const char *s, int len, float x, float y, float px,
                         bl_rgba col, float max_w);
/* Decode one UTF-8 sequence; invalid input yields U+FFFD and advances one byte. */
uint32_t bl_utf8_next(const char *s, int len, int *i);

/* ---------------------------------------------------------------- renderer state (render.c) */
#define BL_FB_MAX 4096            /* largest framebuffer side, device pixels */
#define BL_FLOW_MAX_N 64          /* exact max-flow up to this many tokens (see render_views.c) */

typedef struct { int x, y, w, h; } bl_rect;
typedef struct { bl_rect r; bl_hit hit; } bl_region;

typedef struct {
    bl_rgba bg, fg, muted, axis, accent, panel, hover;
} bl_theme;

struct bl_renderer {
    bl_font *font;
    bl_canvas cv;
    size_t fb_cap;
    float S;                      /* scale of the last render */
    bl_theme th;
    /* grow-only scratch reused across renders */
    float *fbuf; size_t fbuf_cap;
    int *rows, *cols; size_t idx_cap;
    /* matrix of the last render for hit tests (heatmap/rollout), nr x nc, owned copy */
    float *vals; size_t vals_cap;
    int has_mat, nr, nc, cell;
    bl_rect mat;
    int mat_layer, mat_head;
    /* other hit targets of the last render */
    bl_region *reg; int nreg; size_t reg_cap;
    /* head view: the line layer, drawn transposed (see render_views.c) */
    uint8_t *lbuf; size_t lbuf_cap;
    uint64_t lines_key; int lines_valid, lines_cut, lines_kept, lines_total;
    /* model view: max-pooled thumbnails [L][H][tw][tw], cached across hover re-renders */
    float *pool; size_t pool_cap; uint64_t pool_key; int pool_valid;
    /* rollout cache (the O(n³L) product), keyed by a hash of the A'_l it came from */
    float *roll; size_t roll_cap; uint64_t roll_key; int roll_valid;
    /* attention-flow cache: recomputed only when its inputs change */
    float *flow; size_t flow_cap; uint64_t flow_key; int flow_valid;
};

/* scratch floats (grow-only); NULL on OOM */
float *bl_scratch(bl_renderer *r, size_t n);
int bl_push_region(bl_renderer *r, int x, int y, int w, int h, bl_hit hit);
/* value of attention [layer][head][i][j]; head -1 = mean over heads */
float bl_att(const bl_render_input *in, int layer, int head, int i, int j);
/* Element k of the flat [layers][heads][n][n] maps, stored as floats (attn) or as
   round(p·65535) (attn16, bl_attention_u16). */
static inline float bl_attk(const bl_render_input *in, size_t k) {
    return in->attn ? in->attn[k] : (float)in->attn16[k] * (1.0f / 65535.0f);
}
/* The maps' storage address and element k's bits, for the render caches' keys */
static inline const void *bl_attn_ptr(const bl_render_input *in) {
    return in->attn ? (const void *)in->attn : (const void *)in->attn16;
}
int bl_is_special(const char *tok);
/* shared page furniture: title + subtitle; returns the y below it */
int bl_draw_header(bl_renderer *r, const char *title, const char *subtitle);
int bl_margin(const bl_renderer *r);
int bl_header_h(const bl_renderer *r);   /* height bl_draw_header will take */
/* a view that is only a message (nothing to draw for these inputs) */
int bl_message_view(bl_renderer *r, const char *title, const char *sub, const char *msg, bl_err *e);
/* Allocate/clear the framebuffer for w x h device px; error when larger than BL_FB_MAX. */
int bl_canvas_begin(bl_renderer *r, int w, int h, bl_err *e);
void bl_draw_message(bl_renderer *r, int y, const char *msg);

/* views in render_views.c */
int bl_view_head(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_neuron(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_flow(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_mlm(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
/* rollout (render_views.c): out[n*n] = product over layers 0..upto of 0.5*mean_h(A)+0.5*I,
   rows renormalised. Returns 0 or -1 (OOM). */
int bl_rollout(bl_renderer *r, const bl_render_input *in, int upto, float *out);

#endif
