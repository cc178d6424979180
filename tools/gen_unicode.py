#!/usr/bin/env python3
"""gen_unicode.py — generates core/text/unicode_data.c, the Unicode tables the tokenizer needs.

Source of truth: the running Python's `unicodedata` and `str.lower()` (Python 3.11 ships
Unicode 14.0.0; Hugging Face's slow BertTokenizer uses exactly these). Run with /usr/bin/python3:

    /usr/bin/python3 tools/gen_unicode.py > core/text/unicode_data.c

What is emitted (all const, no global mutable state):
  * a run-length table: every code point -> one flags byte
        bits 0-2  class: 0 other, 1 Mn, 2 punctuation (P*), 3 control (C* = Cc Cf Cn Co Cs,
                  as HF's _is_control: cat.startswith("C")), 4 whitespace (Zs Zl Zp)
        bit  3    Cased           (Unicode derived property; final-sigma context)
        bit  4    Case_Ignorable  (idem)
        bit  5    canonical combining class > 0 (non-starter; canonical reordering runs)
    Cased / Case_Ignorable are not exposed by unicodedata, so they are *measured* through
    str.lower()'s Final_Sigma rule (see probe_cased / probe_ignorable), which is exactly the
    behaviour the tokenizer has to reproduce. (A character both cased and ignorable gets only
    the ignorable bit: Python's scan never asks such a character whether it is cased.)
  * lowercase mapping as ranges (start, length, stride, delta) plus the multi-code-point full
    mappings (SpecialCasing; only U+0130 in 14.0). U+03A3 is handled by the final-sigma rule.
  * canonical decompositions: NFD(c) for each c where that differs from c (Hangul syllables
    are decomposed algorithmically in C and checked against unicodedata here). The tokenizer
    drops the Mn afterwards ("strip accents").
  * canonical combining class of the few non-Mn non-starters (Mc with ccc > 0): those survive
    accent stripping, so canonical reordering can still change their order.
"""
import sys
import unicodedata as ud

MAXCP = 0x110000
SIGMA = "\u03a3"


def chars():
    for c in range(MAXCP):
        if 0xD800 <= c < 0xE000:
            continue
        yield c


def probe_cased(ch):
    # Python's Final_Sigma scan skips Case_Ignorable characters first and only then asks
    # "Cased?", so the Cased bit matters only for non-ignorable characters; we record it
    # exactly as str.lower() uses it. "cΣ" ends in final ς iff c is non-ignorable and cased.
    return (ch + SIGMA).lower()[-1] == "\u03c2"


def probe_ignorable(ch):
    # "AcΣ": an ignorable c is skipped and the cased "A" makes Σ final (ς); a non-ignorable c
    # decides itself. So ignorable = final here but not in "cΣ".
    return not probe_cased(ch) and ("A" + ch + SIGMA).lower()[-1] == "\u03c2"


def klass(ch):
    cat = ud.category(ch)
    if cat == "Mn":
        return 1
    if cat[0] == "P":
        return 2
    if cat[0] == "C":
        return 3
    if cat in ("Zs", "Zl", "Zp"):
        return 4
    return 0


def flags(c):
    ch = chr(c)
    f = klass(ch)
    if probe_cased(ch):
        f |= 8
    if probe_ignorable(ch):
        f |= 16
    if ud.combining(ch) > 0:
        f |= 32
    return f


def is_hangul_syllable(c):
    return 0xAC00 <= c < 0xAC00 + 11172


def nfd(c):
    """Full canonical decomposition of one code point (unicodedata.normalize("NFD"))."""
    return [ord(x) for x in ud.normalize("NFD", chr(c))]


def main():
    out = []
    w = out.append

    # ---- flags runs (surrogates get the class of Cs = control, as unicodedata says)
    runs = []
    prev = None
    for c in range(MAXCP):
        f = flags(c) if not 0xD800 <= c < 0xE000 else 3
        if f != prev:
            runs.append((c, f))
            prev = f

    # ---- lowercase
    single = {}
    multi = {}
    for c in chars():
        if c == 0x03A3:
            continue  # final sigma rule in C
        lo = chr(c).lower()
        if lo == chr(c):
            continue
        if len(lo) == 1:
            single[c] = ord(lo) - c
        else:
            multi[c] = [ord(x) for x in lo]
    # group into (start, len, stride, delta)
    keys = sorted(single)
    lranges = []
    i = 0
    while i < len(keys):
        c, d = keys[i], single[keys[i]]
        best = (1, 1)
        for stride in (1, 2):
            n = 1
            while i + n < len(keys) and keys[i + n] == c + n * stride and single[keys[i + n]] == d:
                n += 1
            if n > best[0]:
                best = (n, stride)
        n, stride = best
        lranges.append((c, n, stride, d))
        i += n
    # check the grouping reproduces the mapping
    for (s, n, st, d) in lranges:
        for k in range(n):
            assert single[s + k * st] == d
    assert sum(r[1] for r in lranges) == len(single)
    assert max(len(v) for v in multi.values()) <= 3

    # ---- canonical decompositions (full NFD; C drops the Mn and tracks reordering runs)
    decomp = {}
    for c in chars():
        s = nfd(c)
        if is_hangul_syllable(c):
            # C does these algorithmically; make sure the formula matches unicodedata
            si = c - 0xAC00
            exp = [0x1100 + si // 588, 0x1161 + (si % 588) // 28] + ([0x11A7 + si % 28] if si % 28 else [])
            assert s == exp, hex(c)
            continue
        if s != [c]:
            decomp[c] = s
    assert max(len(v) for v in decomp.values()) <= 4
    pool = []
    dentries = []
    for c in sorted(decomp):
        s = decomp[c]
        if len(s) == 1:
            dentries.append((c, (1 << 24) | s[0]))
        else:
            dentries.append((c, (len(s) << 24) | len(pool)))
            pool.extend(s)

    # ---- ccc of non-Mn non-starters (the only non-starters left after dropping Mn)
    ccc = [(c, ud.combining(chr(c))) for c in chars()
           if ud.combining(chr(c)) > 0 and ud.category(chr(c)) != "Mn"]

    w("/* unicode_data.c — GENERATED by tools/gen_unicode.py; do not edit.")
    w(f"   Unicode {ud.unidata_version} (Python {sys.version.split()[0]} unicodedata).")
    w("   Tables for core/text/tokenizer.c: per-code-point flags (class, Cased, Case_Ignorable,")
    w("   non-starter), lowercase mappings, NFD decompositions, ccc of non-Mn")
    w("   non-starters. See the generator for the exact definitions. */")
    w("#include <stdint.h>")
    w("#include <stddef.h>")
    w("")
    w(f"/* {len(runs)} runs: (first code point << 8) | flags */")
    w(f"static const uint32_t flag_runs[{len(runs)}] = {{")
    for i in range(0, len(runs), 8):
        w("    " + ",".join("0x%08x" % ((c << 8) | f) for c, f in runs[i:i + 8]) + ",")
    w("};")
    w("")
    w("/* flags of ASCII, the common case, without a search */")
    w("static const uint8_t ascii_flags[128] = {")
    for i in range(0, 128, 16):
        w("    " + ",".join("%d" % flags(c) for c in range(i, i + 16)) + ",")
    w("};")
    w("")
    w(f"/* {len(lranges)} lowercase ranges: cp in [start, start + len*stride) step stride -> cp + delta */")
    w(f"static const uint32_t lower_start[{len(lranges)}] = {{")
    for i in range(0, len(lranges), 10):
        w("    " + ",".join("0x%x" % r[0] for r in lranges[i:i + 10]) + ",")
    w("};")
    w(f"static const uint16_t lower_len[{len(lranges)}] = {{")
    for i in range(0, len(lranges), 16):
        w("    " + ",".join("%d" % (r[1] * 2 + (r[2] - 1)) for r in lranges[i:i + 16]) + ",")
    w("};  /* count*2 + (stride-1) */")
    w(f"static const int32_t lower_delta[{len(lranges)}] = {{")
    for i in range(0, len(lranges), 12):
        w("    " + ",".join("%d" % r[3] for r in lranges[i:i + 12]) + ",")
    w("};")
    mk = sorted(multi)
    w(f"static const uint32_t lower_multi[{len(mk)}][4] = {{  /* cp, then up to 3 code points */")
    for c in mk:
        s = multi[c] + [0] * (3 - len(multi[c]))
        w("    {0x%x,0x%x,0x%x,0x%x}," % (c, *s))
    w("};")
    w("")
    w(f"/* {len(dentries)} decompositions: key cp; value (n << 24) | (n == 1 ? cp : index into decomp_pool) */")
    w(f"static const uint32_t decomp_key[{len(dentries)}] = {{")
    for i in range(0, len(dentries), 10):
        w("    " + ",".join("0x%x" % e[0] for e in dentries[i:i + 10]) + ",")
    w("};")
    w(f"static const uint32_t decomp_val[{len(dentries)}] = {{")
    for i in range(0, len(dentries), 8):
        w("    " + ",".join("0x%08x" % e[1] for e in dentries[i:i + 8]) + ",")
    w("};")
    w(f"static const uint32_t decomp_pool[{max(1, len(pool))}] = {{")
    for i in range(0, len(pool), 10):
        w("    " + ",".join("0x%x" % x for x in pool[i:i + 10]) + ",")
    w("};")
    w("")
    w(f"static const uint32_t ccc_cp[{len(ccc)}] = {{ " + ",".join("0x%x" % c for c, _ in ccc) + " };")
    w(f"static const uint8_t ccc_val[{len(ccc)}] = {{ " + ",".join("%d" % v for _, v in ccc) + " };")
    table_bytes = 128 + len(runs) * 4 + len(lranges) * 10 + len(mk) * 16 + len(dentries) * 8 + len(pool) * 4 + len(ccc) * 5
    w("")
    w(f"/* total table data: {table_bytes} bytes */")
    w(f"const size_t bl_uc_table_bytes = {table_bytes};")
    w(f'const char bl_uc_version[] = "{ud.unidata_version}";')
    w("")
    w(LOOKUPS)
    sys.stdout.write("\n".join(out) + "\n")
    print(f"gen_unicode: {len(runs)} runs, {len(lranges)} lower ranges, {len(dentries)} decomps, "
          f"pool {len(pool)}, {table_bytes} bytes", file=sys.stderr)


LOOKUPS = r"""/* index of the last entry of a sorted array that is <= key (arrays start at 0 or below key) */
static size_t last_le(const uint32_t *a, size_t n, uint32_t key) {
    size_t lo = 0, hi = n;  /* answer in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= key) lo = mid; else hi = mid;
    }
    return lo;
}

/* Flags of a code point (see gen_unicode.py). Out-of-range values count as control. */
int bl_uc_flags(uint32_t cp) {
    if (cp < 128) return ascii_flags[cp];
    if (cp >= 0x110000) return 3;
    size_t i = last_le(flag_runs, sizeof flag_runs / sizeof *flag_runs, (cp << 8) | 0xff);
    return (int)(flag_runs[i] & 0xff);
}

/* Full lowercase mapping (without the final-sigma rule): writes 1..3 code points. */
int bl_uc_lower(uint32_t cp, uint32_t out[3]) {
    const size_t nm = sizeof lower_multi / sizeof *lower_multi;
    for (size_t k = 0; k < nm; k++)
        if (lower_multi[k][0] == cp) {
            int n = 0;
            for (int j = 1; j <= 3 && lower_multi[k][j]; j++) out[n++] = lower_multi[k][j];
            return n;
        }
    out[0] = cp;
    const size_t n = sizeof lower_start / sizeof *lower_start;
    if (cp < lower_start[0]) return 1;
    size_t i = last_le(lower_start, n, cp);
    uint32_t stride = (uint32_t)(lower_len[i] & 1) + 1, count = lower_len[i] >> 1, d = cp - lower_start[i];
    if (d % stride == 0 && d / stride < count) out[0] = (uint32_t)((int32_t)cp + lower_delta[i]);
    return 1;
}

/* Canonical decomposition NFD(cp) (before canonical reordering): writes 1..4 code points. */
int bl_uc_nfd(uint32_t cp, uint32_t out[4]) {
    if (cp >= 0xAC00 && cp < 0xAC00 + 11172) {  /* Hangul syllable: algorithmic */
        uint32_t s = cp - 0xAC00, t = s % 28;
        out[0] = 0x1100 + s / 588;
        out[1] = 0x1161 + (s % 588) / 28;
        if (t) { out[2] = 0x11A7 + t; return 3; }
        return 2;
    }
    const size_t n = sizeof decomp_key / sizeof *decomp_key;
    if (cp >= decomp_key[0]) {
        size_t i = last_le(decomp_key, n, cp);
        if (decomp_key[i] == cp) {
            uint32_t v = decomp_val[i], k = v >> 24;
            if (k == 1) { out[0] = v & 0xffffff; return 1; }
            for (uint32_t j = 0; j < k; j++) out[j] = decomp_pool[(v & 0xffffff) + j];
            return (int)k;
        }
    }
    out[0] = cp;
    return 1;
}

/* Canonical combining class of a non-Mn code point (0 for starters). */
int bl_uc_ccc_nonmn(uint32_t cp) {
    for (size_t i = 0; i < sizeof ccc_cp / sizeof *ccc_cp; i++)
        if (ccc_cp[i] == cp) return ccc_val[i];
    return 0;
}"""

if __name__ == "__main__":
    main()
