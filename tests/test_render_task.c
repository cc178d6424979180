/* test_render_task.c — the prediction view (BL_VIEW_TASK): a task head's output drawn under the
   tokens or as bars. Synthetic attention and hand-written probabilities, no model needed:
   every token cell and label bar is found by hit testing the whole picture, and must say which
   token, which label (the row's largest probability) and that probability; the labels reach
   the SVG as escaped text; no head gives a note, and a head without labels draws "?". */
#include "render/render_internal.h"
#include "check.h"
#include "synthetic.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bl_view_opts task_opts(void) {
    bl_view_opts o = {0};
    o.view = BL_VIEW_TASK; o.colormap = BL_CMAP_YLGNBU; o.scale = 1; o.width = 700;
    o.token = -1; o.hover_x = o.hover_y = -1;
    return o;
}

/* Every BL_HIT_LABEL over the picture, by token (from + 1: index 0 is the sequence bars' -1)
   and label; found[t][j] = 1 when seen with value v[t][j]. */
#define MAXT 16
#define MAXL 8
typedef struct { int seen[MAXT + 1][MAXL + 1]; float value[MAXT + 1][MAXL + 1]; int bad; } hits;
static void scan(bl_renderer *r, int w, int h, hits *out) {
    memset(out, 0, sizeof *out);
    for (int y = 0; y < h; y += 2)
        for (int x = 0; x < w; x += 2) {
            bl_hit t = bl_hit_test(r, x, y);
            if (t.kind != BL_HIT_LABEL) continue;
            if (t.from < -1 || t.from >= MAXT || t.to < -1 || t.to >= MAXL) { out->bad++; continue; }
            out->seen[t.from + 1][t.to + 1] = 1;
            out->value[t.from + 1][t.to + 1] = t.value;
        }
}

static void test_token_head(bl_renderer *r, const bl_render_input *base, int head) {
    bl_render_input in = *base;
    const int n = in.n, C = head == BL_HEAD_DISC ? 1 : 3;
    static const char *const labels3[] = {"O", "B-PER", "<b>&\"x"};
    static const char *const labels1[] = {"replaced"};
    float p[MAXT * 3];
    int best[MAXT];
    for (int i = 0; i < n; i++) {   /* rows with a known winner: label i % C gets the most */
        float s = 0;
        for (int j = 0; j < C; j++) s += p[i * C + j] = j == i % C ? 3.0f + i : 1.0f + 0.1f * j;
        for (int j = 0; j < C; j++) p[i * C + j] /= C == 1 ? 4.0f + n : s;
        best[i] = C == 1 ? 0 : i % C;
    }
    in.head = head; in.n_labels = C; in.labels = C == 1 ? labels1 : labels3; in.head_p = p;
    bl_view_opts o = task_opts();
    int w, h;
    bl_err e;
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    CHECK(px != NULL, "%s: renders: %s", bl_head_name(head), px ? "" : e.msg);
    if (!px) return;
    hits H;
    scan(r, w, h, &H);
    CHECK(H.bad == 0, "%s: hits in range", bl_head_name(head));
    for (int i = 0; i < n; i++) {
        int others = 0;
        for (int j = 0; j < C; j++) others += j != best[i] && H.seen[i + 1][j + 1];
        CHECK(H.seen[i + 1][best[i] + 1] && !others && H.value[i + 1][best[i] + 1] == p[i * C + best[i]],
              "%s: token %d's cell says label %d with p %g (seen %d, value %g)", bl_head_name(head), i, best[i],
              (double)p[i * C + best[i]], H.seen[i + 1][best[i] + 1], (double)H.value[i + 1][best[i] + 1]);
    }
    /* the labels as drawn text, escaped in the SVG */
    size_t len;
    char *svg = bl_render_svg(r, &in, &o, &len, &e);
    CHECK(svg != NULL, "%s: svg", bl_head_name(head));
    if (svg && C == 3) {
        CHECK(strstr(svg, ">O<") && strstr(svg, ">B-PER<"), "token classification: labels drawn as text");
        CHECK(strstr(svg, "&lt;b&gt;&amp;") && !strstr(svg, "<b>&"), "a label with markup is escaped text");
    }
    if (svg && C == 1) CHECK(strstr(svg, ">replaced<") != NULL, "discriminator: 'replaced' drawn");
    free(svg);
}

static void test_seq_head(bl_renderer *r, const bl_render_input *base) {
    bl_render_input in = *base;
    static const char *const labels[] = {"NEGATIVE", "NEUTRAL", "POSITIVE"};
    float p[3] = {0.125f, 0.25f, 0.625f};
    in.head = BL_HEAD_SEQ; in.n_labels = 3; in.labels = labels; in.head_p = p;
    bl_view_opts o = task_opts();
    int w, h;
    bl_err e;
    const uint8_t *px = bl_render(r, &in, &o, &w, &h, &e);
    CHECK(px != NULL, "sequence classification renders: %s", px ? "" : e.msg);
    if (!px) return;
    hits H;
    scan(r, w, h, &H);
    for (int j = 0; j < 3; j++)
        CHECK(H.seen[0][j + 1] && H.value[0][j + 1] == p[j], "label %d's bar: p %g (seen %d)", j, (double)p[j], H.seen[0][j + 1]);
    int token_cells = 0;
    for (int i = 0; i < in.n; i++) token_cells += H.seen[i + 1][0];
    CHECK(token_cells == in.n, "the sentence's %d tokens are cells without a label (%d)", in.n, token_cells);
    /* bars grow with p: the pixels in the best label's colour on its row */
    size_t len;
    char *svg = bl_render_svg(r, &in, &o, &len, &e);
    CHECK(svg && strstr(svg, ">POSITIVE<") && strstr(svg, ">62.5%<"), "labels and percentages drawn as text");
    free(svg);
    /* no labels in the file: "?" instead of a crash */
    in.labels = NULL;
    CHECK(bl_render(r, &in, &o, &w, &h, &e) != NULL, "a head without labels still draws");
}

static void test_no_head(bl_renderer *r, const bl_render_input *base) {
    bl_view_opts o = task_opts();
    int w, h;
    bl_err e;
    const uint8_t *px = bl_render(r, base, &o, &w, &h, &e);
    CHECK(px != NULL, "no head: a note, not an error: %s", px ? "" : e.msg);
    hits H;
    if (px) scan(r, w, h, &H);
    int any = 0;
    for (int i = 0; i <= MAXT; i++) for (int j = 0; j <= MAXL; j++) any += H.seen[i][j];
    CHECK(px && !any, "no head: nothing to hit");
    size_t len;
    char *svg = bl_render_svg(r, base, &o, &len, &e);
    CHECK(svg && strstr(svg, "no task head"), "no head: the note says so");
    free(svg);
    bl_render_input bad = *base;
    float p[2] = {0.5f, 0.5f};
    bad.head_p = p; bad.head = BL_HEAD_NONE; bad.n_labels = 2;
    CHECK(bl_render(r, &bad, &o, &w, &h, &e) == NULL && strstr(e.msg, "task head"), "inconsistent head input refused: %s", e.msg);
}

int main(void) {
    size_t len;
    uint8_t *ttf = (uint8_t *)check_read_file("web/fonts/DejaVuSans-subset.ttf", &len);
    CHECK(ttf != NULL, "font readable (run from the repo root)");
    if (!ttf) return check_summary("test_render_task");
    bl_err e;
    bl_renderer *r = bl_renderer_new(ttf, len, &e);
    CHECK(r != NULL, "renderer: %s", r ? "" : e.msg);
    if (r) {
        synth s;
        synth_make(&s, 9, 2, 2, 0);
        bl_render_input in = synth_input(&s);
        test_token_head(r, &in, BL_HEAD_TOKEN);
        test_token_head(r, &in, BL_HEAD_DISC);
        test_seq_head(r, &in);
        test_no_head(r, &in);
        synth_free(&s);
    }
    bl_renderer_free(r);
    free(ttf);
    return check_summary("test_render_task");
}
