/* render_internal.h — what the renderer's files share, by layer. Not public.
     canvas.c     RGBA canvas: rectangles and antialiased lines
     font.c       text on a canvas (stb_truetype behind a glyph cache)
     render.c     the renderer: buffers, hit regions, input checks, bl_render, bl_hit_test
     furniture.c  what every view shares: titles, messages, colour bar, token labels and selection
     aggregate.c  rollout and flow read from the maps and cached (the maths is core/analysis/)
     word_input.c the word-level input (word pieces merged) the views draw when opts.words
     view_*.c     one file per view family: matrix (heatmap, rollout, model), head, neuron,
                  flow, mlm, heads (the head map; the model view's statistic bars and ranking) */
#ifndef BL_RENDER_INTERNAL_H
#define BL_RENDER_INTERNAL_H

#include "base/internal.h"

/* ---------------------------------------------------------------- canvas.c */
/* Colours are 0xRRGGBBAA. The canvas is opaque RGBA (alpha stays 255); drawing blends. */
typedef uint32_t bl_rgba;
#define BL_RGB(hex) ((bl_rgba)(((uint32_t)(hex) << 8) | 0xffu))
#define BL_RGBA(hex, a) ((bl_rgba)(((uint32_t)(hex) << 8) | ((uint32_t)(a) & 0xffu)))

/* Row-major RGBA pixels; every primitive clips to [0,w) x [0,h). When rec is set, each
   primitive is also recorded as a vector draw call (svg.c) in framebuffer coordinates: a canvas
   that is a transposed layer of the framebuffer (the head view's lines) says so with swap and
   its offset (ox, oy) in the framebuffer. */
typedef struct bl_rec bl_rec;
typedef struct {
    uint8_t *px;
    int w, h;
    bl_rec *rec;
    int swap, ox, oy;
} bl_canvas;

void bl_fill_rect(bl_canvas *c, int x, int y, int w, int h, bl_rgba col);
void bl_stroke_rect(bl_canvas *c, int x, int y, int w, int h, int t, bl_rgba col);
/* Antialiased line of thickness t (device px), alpha from col. */
void bl_draw_line(bl_canvas *c, float x0, float y0, float x1, float y1, float t, bl_rgba col);

/* ---------------------------------------------------------------- svg.c: the draw-call record */
void bl_rec_clear(bl_rec *rec);   /* a new picture: forget what was recorded */
void bl_rec_rect(bl_canvas *c, int x, int y, int w, int h, bl_rgba col);
void bl_rec_line(bl_canvas *c, float x0, float y0, float x1, float y1, float t, bl_rgba col);
/* text drawn with its left end (rot: bottom end) at x and baseline y; ell: "…" follows */
void bl_rec_text(bl_canvas *c, const char *s, int n, int ell, float x, float y, float px, bl_rgba col, int rot);
/* the canvas pixels of a rectangle drawn without primitives (thumbnails), kept as an image */
void bl_rec_image(bl_canvas *c, int x, int y, int w, int h);
/* png.c: w×h RGBA as a PNG in memory (malloc'd, *len bytes); NULL when out of memory */
uint8_t *bl_png_mem(const uint8_t *rgba, int w, int h, int *len);

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

/* ---------------------------------------------------------------- render.c: renderer state */
#define BL_FB_MAX 4096            /* largest framebuffer side, device pixels */
#define BL_FLOW_MAX_N 64          /* exact max-flow up to this many tokens (see view_flow.c) */

typedef struct { int x, y, w, h; } bl_rect;
typedef struct { bl_rect r; bl_hit hit; } bl_region;

typedef struct {
    bl_rgba bg, fg, muted, axis, accent, panel, hover;
} bl_theme;

/* A head-view line layer (view_head.c) and what it was drawn for. */
typedef struct {
    uint8_t *px;
    size_t cap;
    uint64_t key;
    int valid, kept, total;
} bl_line_layer;

struct bl_renderer {
    bl_font *font;
    bl_canvas cv;
    size_t fb_cap;
    float S;                      /* scale of the last render */
    bl_theme th;
    /* grow-only scratch reused across renders */
    float *fbuf; size_t fbuf_cap;
    int *rows, *cols; size_t idx_cap;   /* token selection (bl_select_tokens) */
    /* matrix of the last render for hit tests (heatmap/rollout), nr x nc, owned copy */
    float *vals; size_t vals_cap;
    int has_mat, nr, nc, cell;
    bl_rect mat;
    int mat_layer, mat_head;
    /* other hit targets of the last render */
    bl_region *reg; int nreg; size_t reg_cap;
    /* head view: every token's lines, drawn transposed (see view_head.c); kept while the
       pointer isolates one token's, which are drawn straight into the frame */
    bl_line_layer lines;
    /* matrix views: the frame without the hover (cells, labels, colour bar), so a pointer move
       on a long input copies it and draws only the highlight and the readout */
    uint8_t *mst; size_t mst_cap; uint64_t mst_key; int mst_valid;
    /* model view: max-pooled thumbnails [L][H][tw][tw], cached across hover re-renders */
    float *pool; size_t pool_cap; uint64_t pool_key; int pool_valid;
    /* rollout cache (the O(n³L) product), keyed by a hash of the A'_l it came from */
    float *roll; size_t roll_cap; uint64_t roll_key; int roll_valid;
    /* attention-flow cache: recomputed only when its inputs change */
    float *flow; size_t flow_cap; uint64_t flow_key; int flow_valid;
    /* word-level input (word_input.c): merged maps, word strings, cached by a key of the inputs */
    bl_render_input win;
    bl_rec *rec;                  /* set while bl_render_svg records the draw calls */
    float *w_attn; size_t w_attn_cap;
    char *w_text; size_t w_text_cap;
    const char **w_tok; int *w_type, *w_of; size_t w_tok_cap;
    uint64_t w_key; int w_valid;
    float *w_norms; size_t w_norms_cap;   /* norms_layer merged into words (value-weighted) */
    int vw;                       /* this render draws ‖α f(x)‖: attn holds the per-head norms,
                                     norms_layer the layer's (opts.value_weighted) */
    /* head statistics and the head map (view_heads.c), cached by a key of the maps */
    float *hs; size_t hs_cap; uint64_t hs_key; int hs_valid;       /* [L·H][BL_STAT_COUNT] */
    float *hm; size_t hm_cap; uint64_t hm_key; int hm_valid;       /* MDS [L·H][2] */
    int *hord; size_t hord_cap;                                    /* ranked model view's order */
};

/* scratch floats (grow-only); NULL on OOM */
float *bl_scratch(bl_renderer *r, size_t n);
/* r->rows and r->cols hold at least n entries; 0 or -1 (OOM) */
int bl_index_lists(bl_renderer *r, size_t n);
int bl_push_region(bl_renderer *r, int x, int y, int w, int h, bl_hit hit);
/* Allocate/clear the framebuffer for w x h device px; error when larger than BL_FB_MAX. */
int bl_canvas_begin(bl_renderer *r, int w, int h, bl_err *e);

/* Element k of the flat [layers][heads][n][n] maps, stored as floats (attn) or as
   round(p·65535) (attn16, bl_attention_u16). */
static inline float bl_attk(const bl_render_input *in, size_t k) {
    return in->attn ? in->attn[k] : (float)in->attn16[k] * (1.0f / 65535.0f);
}
/* The maps' storage address and element k's bits, for the render caches' keys */
static inline const void *bl_attn_ptr(const bl_render_input *in) {
    return in->attn ? (const void *)in->attn : (const void *)in->attn16;
}
/* FNV-1a step: the caches' keys ("same inputs as last time") */
#define BL_FNV_BASIS 1469598103934665603ull
static inline uint64_t bl_fnv(uint64_t h, uint64_t v) { return (h ^ v) * 1099511628211ull; }
/* the key folded with a strided sample of cnt maps' elements from k0 and their address: a new
   forward pass (same buffer or not) changes it */
uint64_t bl_fnv_maps(uint64_t key, const bl_render_input *in, size_t k0, size_t cnt);

/* ---------------------------------------------------------------- furniture.c */
static inline const char *bl_tok(const bl_render_input *in, int i) { return in->tokens[i] ? in->tokens[i] : ""; }
int bl_is_special(const char *tok);
int bl_margin(const bl_renderer *r);
/* pointer position in device px, -1 when none */
int bl_hover_dev(const bl_renderer *r, int css);
/* title + subtitle; returns the y below it */
int bl_draw_header(bl_renderer *r, const char *title, const char *subtitle);
int bl_header_h(const bl_renderer *r);   /* height bl_draw_header will take */
void bl_draw_message(bl_renderer *r, int y, const char *msg);
/* a view that is only a message (nothing to draw for these inputs) */
int bl_message_view(bl_renderer *r, const char *title, const char *sub, const char *msg, bl_err *e);
/* a colormap entry as an opaque colour */
bl_rgba bl_cmap_rgba(int cmap, float v);
/* head h's colour (bertviz's palette) with alpha a */
bl_rgba bl_head_color(int h, int a);
extern const uint32_t BL_HEAD_COLORS[20];
/* Signed values: orange (+) / blue (-) mixed into bg by |v|/maxabs, opaque; and its colour bar
   (+vmax top, 0 middle, -vmax bottom). Compare mode's heatmap. */
bl_rgba bl_diverging_on(bl_rgba bg, float v, float maxabs);
void bl_colour_bar_div(bl_renderer *r, int x, int y, int w, int h, float vmax, int tick_len, float tick_fs);
/* Vertical colour bar at (x, y), w x h, scale 0..vmax with ticks labelled at tick_fs. */
void bl_colour_bar(bl_renderer *r, int cmap, int x, int y, int w, int h, float vmax, int tick_len, float tick_fs);
/* Which tokens are rows and columns under hide_special / pair_filter (the sentence-pair
   filter picks segments by type id). */
void bl_select_tokens(const bl_render_input *in, const bl_view_opts *o, int *rows, int *nr, int *cols, int *nc);
/* Appends " · A→B only", " · [CLS]/[SEP] hidden", threshold to a subtitle. */
void bl_filter_note(const bl_view_opts *o, char *buf, size_t cap);
/* widest token label of idx[0..cnt) (all tokens 0..cnt when idx is NULL) at font size fs */
float bl_max_label_w(bl_renderer *r, const bl_render_input *in, const int *idx, int cnt, float fs);
/* text baseline that centres a line of font metrics m in a band [y, y+h) */
static inline float bl_centred_baseline(float y, float h, bl_font_metrics m) {
    return y + h * 0.5f + (m.ascent - m.descent) * 0.5f;
}

/* ---------------------------------------------------------------- aggregate.c */
/* A'_l from the maps (any storage) into out[n*n] */
void bl_residual_layer(const bl_render_input *in, int l, float *out);
/* value-weighted: norms_layer[l] with rows normalised to sum 1, then the same residual mix */
void bl_residual_layer_vw(const bl_render_input *in, int l, float *out);
/* out[n*n] = rollout through layers 0..upto, cached across renders. 0 or -1 (OOM). */
int bl_render_rollout(bl_renderer *r, const bl_render_input *in, int upto, float *out);
/* out[n] = attention flow of each input token into [CLS] after layer `upto`, cached. 0 or -1. */
int bl_render_flow(bl_renderer *r, const bl_render_input *in, int upto, float *out);

/* ---------------------------------------------------------------- word_input.c */
/* The input with words for tokens (maps merged by bl_word_attention, labels joined), cached
   across renders; NULL with e set on failure. */
const bl_render_input *bl_word_input(bl_renderer *r, const bl_render_input *in, bl_err *e);

/* ---------------------------------------------------------------- views */
int bl_view_heatmap(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_rollout(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_model(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_head(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_neuron(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_flow(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_mlm(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_task(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);
int bl_view_head_map(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, bl_err *e);

/* ---------------------------------------------------------------- view_heads.c: what the model
   view adds for head statistics and the head finder */
/* bl_head_stats of the input's maps, cached; NULL with e set on failure */
const float *bl_render_head_stats(bl_renderer *r, const bl_render_input *in, bl_err *e);
/* order[0..L·H) = head indices (l·H + h) by α[from][to] descending, ties by index; in r->hord.
   NULL with e set (bad tokens, out of memory). */
const int *bl_rank_heads(bl_renderer *r, const bl_render_input *in, int from, int to, bl_err *e);
/* the stat_bar value of head m scaled to 0..1 (entropy over ln n) */
float bl_stat_bar_value(const float *stats, int m, int stat, int n);
/* height the model view adds under each thumbnail for opts.stat_bar and opts.rank */
int bl_model_extra_h(bl_renderer *r, const bl_view_opts *o);
/* the ranked order (opts.rank, else NULL) and the statistics (opts.stat_bar, else NULL) */
int bl_model_prep(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const int **order,
                  const float **stats, bl_err *e);
/* the ranked model view's title, into buf */
const char *bl_model_rank_title(const bl_render_input *in, const bl_view_opts *o, char *buf, size_t cap);
/* appends what the ranking and the bars mean to the subtitle */
void bl_model_sub_note(const bl_renderer *r, const bl_view_opts *o, int n, char *sub, size_t cap);
/* draws head m's bar and caption under its thumbnail at (x0, y0); returns the hit value (the
   ranking weight, else the statistic, else 0) */
float bl_model_extras(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, const float *stats, int m,
                      int x0, int y0, int tw);

#endif
