#!/usr/bin/env bash
# tools/subset_font.sh — make web/fonts/DejaVuSans-subset.ttf, the font the renderer ships with.
#
# Why: the page's WASM+JS+font budget is 600 KB and DejaVuSans.ttf is ~750 KB. The renderer
# (stb_truetype) uses neither hinting nor OpenType layout, so those tables go, and only the
# scripts BERT vocabularies mostly show are kept. Anything else draws as a fallback box.
#
# Kept: Basic Latin, Latin-1, Latin Extended-A, Greek, Cyrillic, General Punctuation,
# Arrows, Box Drawing, Block Elements, Geometric Shapes, plus the math signs the views print
# (× − √ ∏ ∑ ⊙ ∂ ∞ ≤ ≥ ≈ ≠ ·).
#
# Needs python3-fonttools (Debian: apt-get install python3-fonttools) and fonts-dejavu-core.
#   tools/subset_font.sh [SRC.ttf]
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=${1:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}
OUT=web/fonts/DejaVuSans-subset.ttf
PY=/usr/bin/python3   # Debian's python3 has fontTools; a pyenv python may not
UNICODES="U+0020-007E,U+00A0-00FF,U+0100-017F,U+0370-03FF,U+0400-04FF,U+2000-206F,U+2190-21FF,U+2500-257F,U+2580-259F,U+25A0-25FF,U+00D7,U+2202,U+220F,U+2211,U+2212,U+2218,U+2219,U+221A,U+221E,U+2248,U+2260,U+2264,U+2265,U+2299,U+22C5,U+FFFD"
"$PY" -m fontTools.subset "$SRC" \
    --unicodes="$UNICODES" \
    --output-file="$OUT" \
    --no-hinting --desubroutinize \
    --layout-features='' \
    --name-IDs='*' --name-languages='*' \
    --drop-tables+=GSUB,GPOS,GDEF,MATH,kern,FFTM,LTSH,VDMX,hdmx,gasp,prep,fpgm,cvt
echo "$OUT: $(stat -c %s "$OUT") bytes"
