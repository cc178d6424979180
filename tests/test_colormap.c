/* test_colormap.c — the colormap tables against matplotlib's published values. */
#include "bertlens.h"
#include "check.h"
#include <string.h>

static unsigned hex_at(int cmap, float v) {
    uint8_t c[3];
    bl_colormap(cmap, v, c);
    return (unsigned)c[0] << 16 | (unsigned)c[1] << 8 | c[2];
}

static double luma(const uint8_t *c) { return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]; }

int main(void) {
    /* Endpoints everyone quotes (matplotlib.colors.to_hex(cmap(0)), cmap(1.0)). */
    struct { int cmap; float v; unsigned hex; } known[] = {
        {BL_CMAP_VIRIDIS, 0.0f, 0x440154}, {BL_CMAP_VIRIDIS, 1.0f, 0xfde725},
        {BL_CMAP_MAGMA, 0.0f, 0x000004},   {BL_CMAP_MAGMA, 1.0f, 0xfcfdbf},
        {BL_CMAP_YLGNBU, 0.0f, 0xffffd9},  {BL_CMAP_YLGNBU, 1.0f, 0x081d58},
        {BL_CMAP_GREYS, 0.0f, 0xffffff},   {BL_CMAP_GREYS, 1.0f, 0x000000},
        /* Midpoints: cmap(0.5) picks entry 128. viridis/magma entry 128 is the published triple
           (0.127568, 0.566949, 0.550556) / (0.716387, 0.214982, 0.475290) rounded; the
           ColorBrewer maps interpolate anchors 4 and 5 (at 127.5 and 159.375 of 255) at 128. */
        {BL_CMAP_VIRIDIS, 0.5f, 0x21918c}, {BL_CMAP_MAGMA, 0.5f, 0xb73779},
        {BL_CMAP_GREYS, 0.5f, 0x959595},   {BL_CMAP_YLGNBU, 0.5f, 0x40b5c4},
        /* Entry 255 for anything at or above 1, entry 0 at or below 0 (and NaN). */
        {BL_CMAP_VIRIDIS, 7.0f, 0xfde725}, {BL_CMAP_VIRIDIS, -1.0f, 0x440154},
        {BL_CMAP_VIRIDIS, 0.999f, 0xfde725},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        unsigned got = hex_at(known[i].cmap, known[i].v);
        CHECK(got == known[i].hex, "cmap %d at %.3f: got #%06x want #%06x", known[i].cmap, known[i].v, got,
              known[i].hex);
    }
    /* ColorBrewer anchors land between two LUT entries; the nearest entry is within 2 levels.
       YlGnBu anchor 6 (#225ea8) is at 6/8 of the way: entries 191 (0.746) and 192. */
    uint8_t c[3];
    bl_colormap(BL_CMAP_YLGNBU, 191.25f / 256.0f, c);
    CHECK(c[0] >= 0x21 && c[0] <= 0x23 && c[1] >= 0x5d && c[1] <= 0x60 && c[2] >= 0xa7 && c[2] <= 0xa9,
          "YlGnBu near anchor #225ea8: got #%02x%02x%02x", c[0], c[1], c[2]);

    /* Index rule of Colormap.__call__: floor(v * 256), clamped. */
    CHECK(bl_colormap_index(0.0f) == 0 && bl_colormap_index(1.0f) == 255, "index endpoints");
    CHECK(bl_colormap_index(0.5f) == 128 && bl_colormap_index(127.9f / 256) == 127, "index midpoint");
    float nan = 0.0f / 0.0f;
    CHECK(bl_colormap_index(nan) == 0, "NaN maps to entry 0");

    /* Shape of each map: viridis and magma brighten monotonically (perceptually uniform), Greys
       darkens monotonically, YlGnBu darkens overall. */
    for (int m = 0; m < BL_CMAP_COUNT; m++) {
        const uint8_t *lut = bl_colormap_lut(m);
        CHECK(lut != NULL, "lut %d", m);
        if (!lut) continue;
        int bad = 0;
        for (int i = 1; i < 256; i++) {
            double d = luma(lut + 3 * i) - luma(lut + 3 * (i - 1));
            if ((m == BL_CMAP_VIRIDIS || m == BL_CMAP_MAGMA) && d < -0.5) bad++;
            if (m == BL_CMAP_GREYS && d > 0) bad++;
        }
        CHECK(bad == 0, "cmap %d: %d non-monotonic steps", m, bad);
        if (m == BL_CMAP_YLGNBU) CHECK(luma(lut) > luma(lut + 3 * 255) + 150, "YlGnBu light to dark");
    }
    CHECK(bl_colormap_lut(-1) == NULL && bl_colormap_lut(BL_CMAP_COUNT) == NULL, "unknown cmap -> NULL");
    return check_summary("test_colormap");
}
