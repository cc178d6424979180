/* svg.c — every view as SVG, from the same layout the raster comes from. While recording, the
   canvas primitives (rectangles, lines, text runs, and the few pixel blocks drawn directly, the
   model view's thumbnails) append a draw call here as they draw; bl_render_svg renders the view
   once with the recorder on and writes the calls out in order: rectangles and lines as SVG
   shapes with the same coordinates and colours, text as <text> elements (XML-escaped, so a
   token is searchable and selectable in the figure), thumbnails as embedded PNG images.
   Coordinates are the framebuffer's device pixels; the SVG's viewBox is the framebuffer. */
#include "render/render_internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { OP_RECT = 0, OP_LINE = 1, OP_TEXT = 2, OP_IMAGE = 3 };

typedef struct {
    int kind;
    bl_rgba col;
    float a, b, c, d, t;   /* rect/image x y w h; line x0 y0 x1 y1, width t; text x y, size t */
    int rot, ell;          /* text */
    size_t off, len;       /* text bytes or image pixels in the byte store */
} bl_op;

struct bl_rec {
    bl_op *ops;
    size_t n, cap;
    uint8_t *bytes;
    size_t nb, bcap;
    int oom;
};

void bl_rec_clear(bl_rec *rec) { rec->n = rec->nb = 0; rec->oom = 0; }

static bl_op *push_op(bl_rec *rec) {
    if (rec->oom) return NULL;
    if (rec->n == rec->cap) {
        size_t cap = rec->cap ? rec->cap * 2 : 1024;
        bl_op *p = realloc(rec->ops, cap * sizeof *p);
        if (!p) { rec->oom = 1; return NULL; }
        rec->ops = p;
        rec->cap = cap;
    }
    bl_op *op = &rec->ops[rec->n++];
    memset(op, 0, sizeof *op);
    return op;
}

static int push_bytes(bl_rec *rec, const void *p, size_t n, size_t *off) {
    if (rec->oom) return -1;
    if (rec->nb + n > rec->bcap) {
        size_t cap = rec->bcap ? rec->bcap : 4096;
        while (cap < rec->nb + n) cap *= 2;
        uint8_t *q = realloc(rec->bytes, cap);
        if (!q) { rec->oom = 1; return -1; }
        rec->bytes = q;
        rec->bcap = cap;
    }
    memcpy(rec->bytes + rec->nb, p, n);
    *off = rec->nb;
    rec->nb += n;
    return 0;
}

void bl_rec_rect(bl_canvas *c, int x, int y, int w, int h, bl_rgba col) {
    if (!(col & 255)) return;
    /* what the raster gets: the rectangle clipped to the canvas */
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > c->w ? c->w : x + w, y1 = y + h > c->h ? c->h : y + h;
    if (x0 >= x1 || y0 >= y1) return;
    bl_op *op = push_op(c->rec);
    if (!op) return;
    op->kind = OP_RECT;
    op->col = col;
    if (c->swap) { op->a = (float)(c->ox + y0); op->b = (float)(c->oy + x0); op->c = (float)(y1 - y0); op->d = (float)(x1 - x0); }
    else { op->a = (float)(c->ox + x0); op->b = (float)(c->oy + y0); op->c = (float)(x1 - x0); op->d = (float)(y1 - y0); }
}

void bl_rec_line(bl_canvas *c, float x0, float y0, float x1, float y1, float t, bl_rgba col) {
    bl_op *op = push_op(c->rec);
    if (!op) return;
    op->kind = OP_LINE;
    op->col = col;
    op->t = t;
    if (c->swap) { op->a = c->ox + y0; op->b = c->oy + x0; op->c = c->ox + y1; op->d = c->oy + x1; }
    else { op->a = c->ox + x0; op->b = c->oy + y0; op->c = c->ox + x1; op->d = c->oy + y1; }
}

void bl_rec_text(bl_canvas *c, const char *s, int n, int ell, float x, float y, float px, bl_rgba col, int rot) {
    size_t off;
    if (n < 0 || push_bytes(c->rec, s, (size_t)n, &off)) return;
    bl_op *op = push_op(c->rec);
    if (!op) return;
    op->kind = OP_TEXT;
    op->col = col;
    op->a = c->ox + x;
    op->b = c->oy + y;
    op->t = px;
    op->rot = rot;
    op->ell = ell;
    op->off = off;
    op->len = (size_t)n;
}

void bl_rec_image(bl_canvas *c, int x, int y, int w, int h) {
    if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > c->w || y + h > c->h) return;
    size_t off = 0, first = 1;
    for (int yy = 0; yy < h; yy++) {
        size_t o;
        if (push_bytes(c->rec, c->px + ((size_t)(y + yy) * c->w + x) * 4, (size_t)w * 4, &o)) return;
        if (first) { off = o; first = 0; }
    }
    bl_op *op = push_op(c->rec);
    if (!op) return;
    op->kind = OP_IMAGE;
    op->a = (float)(c->ox + x); op->b = (float)(c->oy + y); op->c = (float)w; op->d = (float)h;
    op->off = off;
    op->len = (size_t)w * h * 4;
}

/* ---------------------------------------------------------------- the writer */
typedef struct { char *s; size_t n, cap; int oom; } bl_sbuf;

static void sb_put(bl_sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) { b->oom = 1; return; }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_printf(bl_sbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void sb_printf(bl_sbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k > 0) sb_put(b, tmp, (size_t)k < sizeof tmp ? (size_t)k : sizeof tmp - 1);
}

/* Text as XML character data: & < > " ' escaped, characters XML 1.0 forbids (controls,
   invalid UTF-8, surrogates, U+FFFE/U+FFFF) as U+FFFD, the glyph the raster draws for them. */
static void sb_xml_text(bl_sbuf *b, const char *s, size_t n) {
    for (int i = 0; (size_t)i < n;) {
        uint32_t c = bl_utf8_next(s, (int)n, &i);
        switch (c) {
        case '&': sb_put(b, "&amp;", 5); continue;
        case '<': sb_put(b, "&lt;", 4); continue;
        case '>': sb_put(b, "&gt;", 4); continue;
        case '"': sb_put(b, "&quot;", 6); continue;
        case '\'': sb_put(b, "&apos;", 6); continue;
        default: break;
        }
        if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || (c >= 0xD800 && c <= 0xDFFF) || c == 0xFFFE ||
            c == 0xFFFF || c > 0x10FFFF)
            c = 0xFFFD;
        char u[4];
        size_t l = bl_utf8_encode(c, u);
        sb_put(b, u, l);
    }
}

static void sb_colour(bl_sbuf *b, const char *attr, bl_rgba col) {
    sb_printf(b, " %s=\"#%06x\"", attr, (unsigned)(col >> 8));
    if ((col & 255) != 255) sb_printf(b, " %s-opacity=\"%.4g\"", attr, (col & 255) / 255.0);
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static void sb_base64(bl_sbuf *b, const uint8_t *p, size_t n) {
    char q[4];
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
        q[0] = B64[v >> 18 & 63]; q[1] = B64[v >> 12 & 63];
        q[2] = i + 1 < n ? B64[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? B64[v & 63] : '=';
        sb_put(b, q, 4);
    }
}

static char *bl_svg_write(const bl_rec *rec, int W, int H, size_t *len) {
    bl_sbuf b = {0};
    sb_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" "
                  "version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                  "font-family=\"DejaVu Sans, Verdana, sans-serif\" shape-rendering=\"crispEdges\">\n", W, H, W, H);
    for (size_t k = 0; k < rec->n && !b.oom; k++) {
        const bl_op *op = &rec->ops[k];
        switch (op->kind) {
        case OP_RECT:
            sb_printf(&b, "<rect x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\"", op->a, op->b, op->c, op->d);
            sb_colour(&b, "fill", op->col);
            sb_put(&b, "/>\n", 3);
            break;
        case OP_LINE:
            sb_printf(&b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\" stroke-width=\"%.3g\" "
                          "shape-rendering=\"geometricPrecision\"", op->a, op->b, op->c, op->d, op->t);
            sb_colour(&b, "stroke", op->col);
            sb_put(&b, "/>\n", 3);
            break;
        case OP_TEXT:
            sb_printf(&b, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.3g\"", op->a, op->b, op->t);
            if (op->rot) sb_printf(&b, " transform=\"rotate(-90 %.2f %.2f)\"", op->a, op->b);
            sb_colour(&b, "fill", op->col);
            sb_put(&b, ">", 1);
            sb_xml_text(&b, (const char *)rec->bytes + op->off, op->len);
            if (op->ell) sb_put(&b, "\xe2\x80\xa6", 3);
            sb_put(&b, "</text>\n", 8);
            break;
        default: {
            int plen = 0;
            uint8_t *png = bl_png_mem(rec->bytes + op->off, (int)op->c, (int)op->d, &plen);
            if (!png) { b.oom = 1; break; }
            sb_printf(&b, "<image x=\"%g\" y=\"%g\" width=\"%g\" height=\"%g\" image-rendering=\"pixelated\" "
                          "href=\"data:image/png;base64,", op->a, op->b, op->c, op->d);
            sb_base64(&b, png, (size_t)plen);
            sb_put(&b, "\"/>\n", 4);
            free(png);
        }
        }
    }
    sb_put(&b, "</svg>\n", 7);
    if (b.oom) { free(b.s); return NULL; }
    *len = b.n;
    return b.s;
}

char *bl_render_svg(bl_renderer *r, const bl_render_input *in, const bl_view_opts *o, size_t *len, bl_err *e) {
    if (!r) { bl_fail(e, "render: no renderer"); return NULL; }
    bl_rec rec = {0};
    r->rec = &rec;
    r->cv.rec = &rec;
    int w = 0, h = 0;
    const uint8_t *px = bl_render(r, in, o, &w, &h, e);
    r->rec = NULL;
    r->cv.rec = NULL;
    char *svg = NULL;
    if (px && rec.oom) bl_fail(e, "render: out of memory (SVG draw calls)");
    else if (px && !(svg = bl_svg_write(&rec, w, h, len))) bl_fail(e, "render: out of memory (SVG text)");
    free(rec.ops);
    free(rec.bytes);
    return svg;
}
