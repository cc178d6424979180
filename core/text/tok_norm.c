/* tok_norm.c — tokenizer.json normalizers and pre-tokenizers, as the Rust `tokenizers` library
   (0.22) computes them, on strings of characters that keep their original byte spans (tok.h).

   Normalizers: BertNormalizer (clean_text, handle_chinese_chars, strip_accents, lowercase),
   Lowercase, NFD, NFKD, NFC, NFKC, StripAccents, Strip, Replace (string patterns), Prepend,
   Precompiled (SentencePiece's precompiled_charsmap) and Sequence.
   Pre-tokenizers: BertPreTokenizer, ByteLevel (GPT-2's regex, add_prefix_space, use_regex),
   Metaspace, Whitespace, WhitespaceSplit and Sequence. */
#include "text/tok.h"
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ small helpers */
int tk_push(tk_str *b, uint32_t cp, int32_t s, int32_t e) {
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        if (cap > SIZE_MAX / 64) return -1;   /* 32-bit sizes (WebAssembly) must not wrap */
        tk_ch *a = realloc(b->a, cap * sizeof *a);
        if (!a) return -1;
        b->a = a; b->cap = cap;
    }
    b->a[b->n++] = (tk_ch){ cp, s, e };
    return 0;
}

int tk_words_add(tk_words *w, const tk_ch *a, size_t n, int32_t orig) {
    if (n == 0) return 0;          /* empty splits are dropped, as the library does */
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        if (cap > SIZE_MAX / 64) return -1;   /* 32-bit sizes (WebAssembly) must not wrap */
        size_t *b = realloc(w->b, 2 * cap * sizeof *b);
        if (!b) return -1;
        w->b = b;
        int32_t *o = realloc(w->o, cap * sizeof *o);
        if (!o) return -1;
        w->o = o;
        w->cap = cap;
    }
    size_t start = w->s.n;
    for (size_t i = 0; i < n; i++)
        if (tk_push(&w->s, a[i].cp, a[i].s, a[i].e)) return -1;
    w->b[2 * w->n] = start;
    w->b[2 * w->n + 1] = w->s.n;
    w->o[w->n] = orig;
    w->n++;
    return 0;
}

void tk_words_clear(tk_words *w) { w->s.n = 0; w->n = 0; }
void tk_words_free(tk_words *w) { free(w->s.a); free(w->b); free(w->o); memset(w, 0, sizeof *w); }

static size_t utf8_len(uint32_t c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4; }

/* Unicode White_Space (Rust char::is_whitespace, regex \s) */
int tk_is_ws(uint32_t c) {
    if (c < 0x80) return c == ' ' || (c >= 9 && c <= 13);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
           c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

int tk_is_letter(uint32_t c) {
    if (c < 0x80) return (c | 32) >= 'a' && (c | 32) <= 'z';
    int g = bl_uc_gc(c);
    return g >= GC_LU && g <= GC_LO;
}

int tk_is_number(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    int g = bl_uc_gc(c);
    return g >= GC_ND && g <= GC_NO;
}

/* Rust regex's Unicode \w: Alphabetic, Mark, Decimal_Number, Connector_Punctuation,
   Join_Control. Alphabetic = letters, Nl and Other_Alphabetic; the Other_Alphabetic characters
   outside the marks are the circled/parenthesized/squared Latin letters. */
int tk_is_alnum_w(uint32_t c) {
    if (c < 0x80) return c == '_' || tk_is_letter(c) || (c >= '0' && c <= '9');
    int g = bl_uc_gc(c);
    if ((g >= GC_LU && g <= GC_LO) || g == GC_MN || g == GC_MC || g == GC_ME || g == GC_ND ||
        g == GC_NL || g == GC_PC)
        return 1;
    return c == 0x200C || c == 0x200D || (c >= 0x24B6 && c <= 0x24E9) ||
           (c >= 0x1F130 && c <= 0x1F149) || (c >= 0x1F150 && c <= 0x1F169) ||
           (c >= 0x1F170 && c <= 0x1F189);
}

static int is_cjk(uint32_t c) {   /* BertNormalizer's is_chinese_char (note 0x2B920, not 0x2B820) */
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int is_other(uint32_t c) {   /* unicode_categories' is_other: C* */
    int g = bl_uc_gc(c);
    return g == GC_CN || g >= GC_CC;
}

static int is_punct_bert(uint32_t c) {
    if (c < 0x80) return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
                         (c >= 123 && c <= 126);
    int g = bl_uc_gc(c);
    return g >= GC_PC && g <= GC_PO;
}

/* Rust char::to_lowercase (unconditional full mapping: Σ is always σ). */
static int lower(uint32_t c, uint32_t out[3]) {
    if (c < 0x80) { out[0] = c >= 'A' && c <= 'Z' ? c + 32 : c; return 1; }
    if (c == 0x03A3) { out[0] = 0x03C3; return 1; }
    return bl_uc_lower(c, out);
}

/* ------------------------------------------------------------------ Unicode normalization forms */
#define HS 0xAC00u
#define HL 0x1100u
#define HV 0x1161u
#define HT 0x11A7u

/* Full decomposition of c into out (up to 18 code points); returns the count. */
static int decompose(uint32_t c, int compat, uint32_t *out) {
    if (c >= HS && c < HS + 11172) {
        uint32_t si = c - HS;
        out[0] = HL + si / 588; out[1] = HV + (si % 588) / 28;
        if (si % 28) { out[2] = HT + si % 28; return 3; }
        return 2;
    }
    if (!compat) return c < 0xC0 ? (out[0] = c, 1) : bl_uc_nfd(c, out);
    const uint32_t *d;
    int n = c < 0xA0 ? 0 : bl_uc_nfkd(c, &d);
    if (n == 0) { out[0] = c; return 1; }
    memcpy(out, d, (size_t)n * sizeof *out);
    return n;
}

/* Canonical ordering of the run a[0..n) (all non-starters): a stable sort by combining class
   of the code points only. The spans stay where they are: the library aligns the normalized
   characters with the original ones by position, not by which character moved where.
   Short runs by insertion; long (hostile) ones by a counting sort over the 256 classes. */
static int reorder(tk_ch *a, size_t n) {
    if (n <= 32) {
        for (size_t i = 1; i < n; i++) {
            uint32_t x = a[i].cp;
            int k = bl_uc_ccc(x);
            size_t j = i;
            while (j > 0 && bl_uc_ccc(a[j - 1].cp) > k) { a[j].cp = a[j - 1].cp; j--; }
            a[j].cp = x;
        }
        return 0;
    }
    uint32_t *tmp = malloc(n * sizeof *tmp);
    size_t cnt[257] = {0};
    if (!tmp) return -1;
    for (size_t i = 0; i < n; i++) cnt[bl_uc_ccc(a[i].cp) + 1]++;
    for (int k = 1; k < 257; k++) cnt[k] += cnt[k - 1];
    for (size_t i = 0; i < n; i++) tmp[cnt[bl_uc_ccc(a[i].cp)]++] = a[i].cp;
    for (size_t i = 0; i < n; i++) a[i].cp = tmp[i];
    free(tmp);
    return 0;
}

static int nf_decompose(const tk_str *in, int compat, tk_str *out) {
    uint32_t d[32];
    for (size_t i = 0; i < in->n; i++) {
        int nd = decompose(in->a[i].cp, compat, d);
        for (int j = 0; j < nd; j++)
            if (tk_push(out, d[j], in->a[i].s, in->a[i].e)) return -1;
    }
    /* canonical ordering of every run of non-starters */
    size_t i = 0;
    while (i < out->n) {
        if (out->a[i].cp < 0x300 || bl_uc_ccc(out->a[i].cp) == 0) { i++; continue; }
        size_t j = i + 1;
        while (j < out->n && out->a[j].cp >= 0x300 && bl_uc_ccc(out->a[j].cp) != 0) j++;
        if (j - i > 1 && reorder(out->a + i, j - i)) return -1;
        i = j;
    }
    return 0;
}

static uint32_t compose_pair(uint32_t a, uint32_t b) {
    if (a >= HL && a < HL + 19 && b >= HV && b < HV + 21) return HS + ((a - HL) * 21 + (b - HV)) * 28;
    if (a >= HS && a < HS + 11172 && (a - HS) % 28 == 0 && b > HT && b < HT + 28) return a + (b - HT);
    return bl_uc_compose(a, b);
}

/* Canonical composition in place (UAX #15): a composed character keeps its starter's span.
   A character composes with the last starter unless blocked: something between them has a
   combining class of 0 or >= its own (the run between is canonically ordered, so the last
   one decides). */
static void nf_compose(tk_str *s) {
    size_t w = 0, starter = (size_t)-1;
    int last = 0;   /* ccc of the last character kept after the starter */
    for (size_t i = 0; i < s->n; i++) {
        tk_ch c = s->a[i];
        int ccc = bl_uc_ccc(c.cp);
        if (starter != (size_t)-1 && (w == starter + 1 || (last != 0 && last < ccc))) {
            uint32_t k = compose_pair(s->a[starter].cp, c.cp);
            if (k) { s->a[starter].cp = k; continue; }
        }
        if (ccc == 0) { starter = w; last = 0; }
        else last = ccc;
        s->a[w++] = c;
    }
    s->n = w;
}

/* The library's NormalizedString::transform: dest[k] = (char, change); change 0 replaces the
   next original char (its span), > 0 inserts (span of the last char consumed; (orig0, orig0)
   before any), < 0 replaces the next char and removes -change more. Chars never consumed at the
   end are dropped. */
typedef struct { uint32_t cp; int chg; } tk_tr;
typedef struct { tk_tr *a; size_t n, cap; } tk_trs;
static int tr_push(tk_trs *t, uint32_t cp, int chg) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        if (cap > SIZE_MAX / 64) return -1;   /* 32-bit sizes (WebAssembly) must not wrap */
        tk_tr *a = realloc(t->a, cap * sizeof *a);
        if (!a) return -1;
        t->a = a; t->cap = cap;
    }
    t->a[t->n++] = (tk_tr){ cp, chg };
    return 0;
}

static int apply_transform(const tk_str *in, const tk_trs *t, int32_t orig0, tk_str *out) {
    size_t idx = 0;
    for (size_t k = 0; k < t->n; k++) {
        int32_t s, e;
        if (t->a[k].chg > 0) {
            if (idx == 0) s = e = orig0;
            else { s = in->a[idx - 1].s; e = in->a[idx - 1].e; }
        } else {
            size_t j = idx < in->n ? idx : (in->n ? in->n - 1 : 0);
            if (in->n) { s = in->a[j].s; e = in->a[j].e; } else s = e = orig0;
            idx += 1 + (size_t)(-t->a[k].chg);
            if (idx > in->n) idx = in->n;
        }
        if (tk_push(out, t->a[k].cp, s, e)) return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ Precompiled (SentencePiece) */
/* The double array as spm_precompiled reads it: unit = u32; label = unit & (1<<31 | 0xff),
   has_leaf = bit 8, offset = (unit >> 10) << ((unit & (1<<9)) >> 6), value = unit & 0x7fffffff.
   transform() takes the FIRST (shortest) prefix match of the chunk, whatever its length. */
static int pc_lookup(const tk_norm *n, const uint8_t *key, size_t len, const char **rep, size_t *rl) {
    const uint32_t *a = n->trie;
    size_t N = n->ntrie, pos = 0;
    if (N == 0) return 0;
    uint32_t unit = a[0];
    pos ^= (size_t)((unit >> 10) << ((unit & (1u << 9)) >> 6));
    for (size_t i = 0; i < len; i++) {
        uint8_t c = key[i];
        if (c == 0) break;
        pos ^= c;
        if (pos >= N) return 0;
        unit = a[pos];
        if ((unit & ((1u << 31) | 0xffu)) != c) return 0;
        pos ^= (size_t)((unit >> 10) << ((unit & (1u << 9)) >> 6));
        if ((unit >> 8) & 1) {
            if (pos >= N) return 0;
            size_t v = a[pos] & 0x7fffffffu, end = v;
            if (v > n->npcnorm) return 0;
            while (end < n->npcnorm && n->pcnorm[end]) end++;
            *rep = n->pcnorm + v;
            *rl = end - v;
            return 1;
        }
    }
    return 0;
}

/* Grapheme_Cluster_Break, reduced to what decides clusters shorter than 6 bytes (the only ones
   Precompiled looks up whole): CR, LF, Control, Extend (+ ZWJ), SpacingMark, Other. Hangul
   jamo and regional indicators are 3-4 bytes each, so their clusters are never that short. */
enum { GB_OTHER, GB_CR, GB_LF, GB_CONTROL, GB_EXTEND, GB_SPACING };
static int gcb(uint32_t c) {
    if (c == '\r') return GB_CR;
    if (c == '\n') return GB_LF;
    if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return GB_CONTROL;
    if (c < 0x300) return c == 0xAD ? GB_CONTROL : GB_OTHER;
    if (c == 0x200C || c == 0x200D || (c >= 0xFF9E && c <= 0xFF9F) || (c >= 0x1F3FB && c <= 0x1F3FF) ||
        (c >= 0xE0020 && c <= 0xE007F))
        return GB_EXTEND;
    int g = bl_uc_gc(c);
    if (g == GC_MN || g == GC_ME) return GB_EXTEND;
    if (g == GC_MC) return GB_SPACING;
    if (g == GC_ZL || g == GC_ZP || g == GC_CC || (g == GC_CF && !(c >= 0x600 && c <= 0x605) &&
        c != 0x6DD && c != 0x70F && c != 0x8E2 && c != 0x110BD && c != 0x110CD))
        return GB_CONTROL;
    return GB_OTHER;
}

/* precompiled's replace(): the new chars replace one for one, extra ones are insertions; when
   the new text is shorter, the last transformation so far (possibly the previous grapheme's)
   also removes the difference. */
static int pc_replace(tk_trs *t, size_t old_count, const char *rep, size_t rl) {
    size_t p = 0, nnew = 0, first = t->n;
    while (p < rl) {
        uint32_t c;
        p += tk_utf8_next((const uint8_t *)rep + p, rl - p, &c);
        if (tr_push(t, c, 0)) return -1;
        nnew++;
    }
    if (nnew > old_count) {
        for (size_t k = 0; k < nnew - old_count; k++) t->a[t->n - 1 - k].chg = 1;
    } else if (nnew < old_count && t->n > 0) {
        t->a[t->n - 1].chg -= (int)(old_count - nnew);
    }
    (void)first;
    return 0;
}

static int precompiled(const tk_norm *nm, const tk_str *in, tk_str *out, int32_t orig0) {
    char buf[8];
    tk_trs t = {0};
    int modified = 0;
    size_t i = 0;
    while (i < in->n) {
        /* one extended grapheme cluster [i, j) */
        size_t j = i + 1;
        int prev = gcb(in->a[i].cp);
        while (j < in->n) {
            int cur = gcb(in->a[j].cp);
            if (prev == GB_CR && cur == GB_LF) { prev = cur; j++; continue; }
            if (prev == GB_CR || prev == GB_LF || prev == GB_CONTROL) break;
            if (cur != GB_EXTEND && cur != GB_SPACING) break;
            prev = cur;
            j++;
        }
        size_t bytes = 0;
        for (size_t k = i; k < j; k++) bytes += utf8_len(in->a[k].cp);
        const char *rep; size_t rl;
        if (bytes < 6) {
            char g[8]; size_t gl = 0;
            for (size_t k = i; k < j; k++) gl += bl_utf8_encode(in->a[k].cp, g + gl);
            if (pc_lookup(nm, (const uint8_t *)g, gl, &rep, &rl)) {
                modified = 1;
                if (pc_replace(&t, j - i, rep, rl)) goto oom;
                i = j;
                continue;
            }
        }
        for (size_t k = i; k < j; k++) {
            size_t l = bl_utf8_encode(in->a[k].cp, buf);
            if (pc_lookup(nm, (const uint8_t *)buf, l, &rep, &rl)) {
                modified = 1;
                if (pc_replace(&t, 1, rep, rl)) goto oom;
            } else if (tr_push(&t, in->a[k].cp, 0)) goto oom;
        }
        i = j;
    }
    if (!modified) {
        for (size_t k = 0; k < in->n; k++) if (tk_push(out, in->a[k].cp, in->a[k].s, in->a[k].e)) goto oom;
    } else if (apply_transform(in, &t, orig0, out)) goto oom;
    free(t.a);
    return 0;
oom:
    free(t.a);
    return -1;
}

/* ------------------------------------------------------------------ normalizers */
static int bert(const tk_norm *nm, const tk_str *in, tk_str *out, tk_str *tmp) {
    /* clean + chinese chars: a CJK ideograph becomes " c " (the spaces share its span) */
    for (size_t i = 0; i < in->n; i++) {
        tk_ch c = in->a[i];
        if (nm->clean) {
            if (c.cp == 0 || c.cp == 0xFFFD) continue;
            if (c.cp != '\t' && c.cp != '\n' && c.cp != '\r' && is_other(c.cp)) continue;
            if (tk_is_ws(c.cp)) c.cp = ' ';
        }
        if (nm->chinese && is_cjk(c.cp)) {
            if (tk_push(tmp, ' ', c.s, c.e) || tk_push(tmp, c.cp, c.s, c.e) || tk_push(tmp, ' ', c.s, c.e)) return -1;
        } else if (tk_push(tmp, c.cp, c.s, c.e)) return -1;
    }
    int strip = nm->strip_accents < 0 ? nm->lowercase : nm->strip_accents;
    const tk_str *cur = tmp;
    tk_str t2 = {0};
    if (strip) {
        if (nf_decompose(tmp, 0, &t2)) { free(t2.a); return -1; }
        size_t w = 0;
        for (size_t i = 0; i < t2.n; i++)
            if (t2.a[i].cp < 0x300 || bl_uc_gc(t2.a[i].cp) != GC_MN) t2.a[w++] = t2.a[i];
        t2.n = w;
        cur = &t2;
    }
    for (size_t i = 0; i < cur->n; i++) {
        uint32_t l[3];
        int nl = nm->lowercase ? lower(cur->a[i].cp, l) : (l[0] = cur->a[i].cp, 1);
        for (int k = 0; k < nl; k++)
            if (tk_push(out, l[k], cur->a[i].s, cur->a[i].e)) { free(t2.a); return -1; }
    }
    free(t2.a);
    return 0;
}

int tk_normalize(const tk_norm *nm, const tk_str *in, tk_str *out, int32_t orig0) {
    out->n = 0;
    tk_str tmp = {0};
    int rc = 0;
    switch (nm->type) {
    case NM_BERT: rc = bert(nm, in, out, &tmp); break;
    case NM_LOWERCASE:
        for (size_t i = 0; i < in->n && !rc; i++) {
            uint32_t l[3];
            int nl = lower(in->a[i].cp, l);
            for (int k = 0; k < nl && !rc; k++) rc = tk_push(out, l[k], in->a[i].s, in->a[i].e);
        }
        break;
    case NM_NFD: case NM_NFKD: case NM_NFC: case NM_NFKC:
        rc = nf_decompose(in, nm->type == NM_NFKD || nm->type == NM_NFKC, out);
        if (!rc && (nm->type == NM_NFC || nm->type == NM_NFKC)) nf_compose(out);
        break;
    case NM_STRIP_ACCENTS:   /* is_combining_mark: M* */
        for (size_t i = 0; i < in->n && !rc; i++) {
            int g = bl_uc_gc(in->a[i].cp);
            if (in->a[i].cp < 0x300 || (g != GC_MN && g != GC_MC && g != GC_ME))
                rc = tk_push(out, in->a[i].cp, in->a[i].s, in->a[i].e);
        }
        break;
    case NM_STRIP: {
        size_t a = 0, b = in->n;
        if (nm->left) while (a < b && tk_is_ws(in->a[a].cp)) a++;
        if (nm->right) while (b > a && tk_is_ws(in->a[b - 1].cp)) b--;
        for (size_t i = a; i < b && !rc; i++) rc = tk_push(out, in->a[i].cp, in->a[i].s, in->a[i].e);
        break;
    }
    case NM_REPLACE: {
        /* non-overlapping leftmost matches; the content's characters all take the span of the
           match's last character (the library inserts them after removing the match) */
        size_t i = 0;
        while (i < in->n && !rc) {
            if (nm->rep_min > 0) {   /* one char repeated rep_min..rep_max times, greedy */
                size_t j = i;
                while (j < in->n && in->a[j].cp == nm->pat[0] && (nm->rep_max < 0 || j - i < (size_t)nm->rep_max)) j++;
                if (j - i >= (size_t)nm->rep_min) {
                    const tk_ch *last = &in->a[j - 1];
                    for (size_t r = 0; r < nm->nrep && !rc; r++) rc = tk_push(out, nm->rep[r], last->s, last->e);
                    i = j;
                    continue;
                }
            } else if (nm->npat && i + nm->npat <= in->n) {
                size_t k = 0;
                while (k < nm->npat && in->a[i + k].cp == nm->pat[k]) k++;
                if (k == nm->npat) {
                    const tk_ch *last = &in->a[i + k - 1];
                    for (size_t r = 0; r < nm->nrep && !rc; r++) rc = tk_push(out, nm->rep[r], last->s, last->e);
                    i += k;
                    continue;
                }
            }
            rc = tk_push(out, in->a[i].cp, in->a[i].s, in->a[i].e);
            i++;
        }
        break;
    }
    case NM_PREPEND:
        if (in->n) {
            for (size_t r = 0; r < nm->nrep && !rc; r++) rc = tk_push(out, nm->rep[r], in->a[0].s, in->a[0].e);
            for (size_t i = 0; i < in->n && !rc; i++) rc = tk_push(out, in->a[i].cp, in->a[i].s, in->a[i].e);
        }
        break;
    case NM_PRECOMPILED: rc = precompiled(nm, in, out, orig0); break;
    case NM_SEQUENCE: {
        tk_str a = {0};
        for (size_t i = 0; i < in->n && !rc; i++) rc = tk_push(&a, in->a[i].cp, in->a[i].s, in->a[i].e);
        for (int k = 0; k < nm->nsub && !rc; k++) {
            rc = tk_normalize(&nm->sub[k], &a, out, orig0);
            tk_str t = a; a = *out; *out = t;   /* result in a */
        }
        out->n = 0;
        for (size_t i = 0; i < a.n && !rc; i++) rc = tk_push(out, a.a[i].cp, a.a[i].s, a.a[i].e);
        free(a.a);
        break;
    }
    default: rc = -1;
    }
    free(tmp.a);
    return rc;
}

void tk_norm_free(tk_norm *n) {
    if (!n) return;
    free(n->pat); free(n->rep); free(n->pc);
    for (int i = 0; i < n->nsub; i++) tk_norm_free(&n->sub[i]);
    free(n->sub);
}

/* ------------------------------------------------------------------ pre-tokenizers */
/* GPT-2's byte -> char map: printable bytes stand for themselves; the others (0x00-0x20,
   0x7F-0xA0, 0xAD) are numbered in order from U+0100. */
uint32_t tk_byte_char(uint8_t b) {
    if (b <= 0x20) return 256u + b;
    if (b >= 0x7F && b <= 0xA0) return 256u + 33 + (b - 0x7Fu);
    if (b == 0xAD) return 256u + 33 + 34;
    return b;
}

int tk_char_byte(uint32_t c) {
    if (c < 256) return ((c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE) ? (int)c : -1;
    if (c <= 256 + 0x20) return (int)(c - 256);
    if (c <= 256 + 33 + 0x21) return (int)(c - 256 - 33 + 0x7F);
    if (c == 256 + 33 + 34) return 0xAD;
    return -1;
}

/* GPT-2's pattern 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
   matched at i (it matches every character, so the matches tile the word); returns the end. */
static int cls3(uint32_t c) { return tk_is_ws(c) ? 0 : tk_is_letter(c) ? 1 : tk_is_number(c) ? 2 : 3; }

static size_t gpt2_match(const tk_ch *a, size_t n, size_t i) {
    uint32_t c = a[i].cp;
    if (c == '\'' && i + 1 < n) {
        uint32_t d = a[i + 1].cp;
        if (d == 's' || d == 't' || d == 'm' || d == 'd') return i + 2;
        if (i + 2 < n) {
            uint32_t f = a[i + 2].cp;
            if ((d == 'r' && f == 'e') || (d == 'v' && f == 'e') || (d == 'l' && f == 'l')) return i + 3;
        }
    }
    size_t k = (c == ' ' && i + 1 < n) ? i + 1 : i;
    int kc = cls3(a[k].cp);
    if (kc != 0) {
        size_t j = k + 1;
        while (j < n && cls3(a[j].cp) == kc) j++;
        return j;
    }
    size_t j = i;
    while (j < n && tk_is_ws(a[j].cp)) j++;
    if (j == n) return n;
    if (j - i >= 2) return j - 1;
    return j;
}

static int split_ws(const tk_ch *a, size_t n, tk_words *out) {   /* WhitespaceSplit, Removed */
    size_t i = 0;
    while (i < n) {
        while (i < n && tk_is_ws(a[i].cp)) i++;
        size_t j = i;
        while (j < n && !tk_is_ws(a[j].cp)) j++;
        if (j > i && tk_words_add(out, a + i, j - i, a[i].s)) return -1;
        i = j;
    }
    return 0;
}

static int pretok_word(const tk_pretok *p, const tk_ch *a, size_t n, int32_t orig, tk_words *out,
                       tk_str *tmp) {
    switch (p->type) {
    case PT_BERT: {
        size_t i = 0;
        while (i < n) {
            if (tk_is_ws(a[i].cp)) { i++; continue; }
            size_t j = i + 1;
            if (!is_punct_bert(a[i].cp))
                while (j < n && !tk_is_ws(a[j].cp) && !is_punct_bert(a[j].cp)) j++;
            if (tk_words_add(out, a + i, j - i, a[i].s)) return -1;
            i = j;
        }
        return 0;
    }
    case PT_WHITESPACE_SPLIT: return split_ws(a, n, out);
    case PT_WHITESPACE: {   /* \w+|[^\w\s]+ kept, whitespace removed */
        size_t i = 0;
        while (i < n) {
            if (tk_is_ws(a[i].cp)) { i++; continue; }
            int w = tk_is_alnum_w(a[i].cp);
            size_t j = i + 1;
            while (j < n && !tk_is_ws(a[j].cp) && tk_is_alnum_w(a[j].cp) == w) j++;
            if (tk_words_add(out, a + i, j - i, a[i].s)) return -1;
            i = j;
        }
        return 0;
    }
    case PT_BYTELEVEL: {
        tmp->n = 0;
        if (p->add_prefix_space && a[0].cp != ' ' && tk_push(tmp, ' ', a[0].s, a[0].e)) return -1;
        for (size_t i = 0; i < n; i++) if (tk_push(tmp, a[i].cp, a[i].s, a[i].e)) return -1;
        /* byte-level: every UTF-8 byte of a char becomes one char with the char's span */
        tk_str bytes = {0};
        size_t i = 0;
        while (i < tmp->n) {
            size_t j = p->use_regex ? gpt2_match(tmp->a, tmp->n, i) : tmp->n;
            bytes.n = 0;
            for (size_t k = i; k < j; k++) {
                char u[4];
                size_t l = bl_utf8_encode(tmp->a[k].cp, u);
                for (size_t q = 0; q < l; q++)
                    if (tk_push(&bytes, tk_byte_char((uint8_t)u[q]), tmp->a[k].s, tmp->a[k].e)) { free(bytes.a); return -1; }
            }
            if (tk_words_add(out, bytes.a, bytes.n, tmp->a[i].s)) { free(bytes.a); return -1; }
            i = j;
        }
        free(bytes.a);
        return 0;
    }
    case PT_METASPACE: {
        tmp->n = 0;
        for (size_t i = 0; i < n; i++)
            if (tk_push(tmp, a[i].cp == ' ' ? p->replacement : a[i].cp, a[i].s, a[i].e)) return -1;
        int pre = tmp->a[0].cp != p->replacement &&
                  (p->prepend == MS_ALWAYS || (p->prepend == MS_FIRST && orig == 0));
        if (pre) {
            if (tk_push(tmp, 0, 0, 0)) return -1;
            memmove(tmp->a + 1, tmp->a, (tmp->n - 1) * sizeof *tmp->a);
            tmp->a[0] = (tk_ch){ p->replacement, tmp->a[1].s, tmp->a[1].e };
        }
        if (!p->split) return tk_words_add(out, tmp->a, tmp->n, orig);
        /* MergedWithNext: each replacement char starts a new word */
        size_t i = 0;
        while (i < tmp->n) {
            size_t j = i + 1;
            while (j < tmp->n && tmp->a[j].cp != p->replacement) j++;
            if (tk_words_add(out, tmp->a + i, j - i, tmp->a[i].s)) return -1;
            i = j;
        }
        return 0;
    }
    }
    return -1;
}

int tk_pretokenize(const tk_pretok *p, const tk_words *in, tk_words *out) {
    tk_words_clear(out);
    if (p->type == PT_SEQUENCE) {
        tk_words a = {0}, b = {0};
        int rc = 0;
        for (size_t i = 0; i < in->n && !rc; i++)
            rc = tk_words_add(&a, in->s.a + in->b[2 * i], in->b[2 * i + 1] - in->b[2 * i], in->o[i]);
        for (int k = 0; k < p->nsub && !rc; k++) {
            rc = tk_pretokenize(&p->sub[k], &a, &b);
            tk_words t = a; a = b; b = t;
        }
        for (size_t i = 0; i < a.n && !rc; i++)
            rc = tk_words_add(out, a.s.a + a.b[2 * i], a.b[2 * i + 1] - a.b[2 * i], a.o[i]);
        tk_words_free(&a); tk_words_free(&b);
        return rc;
    }
    tk_str tmp = {0};
    for (size_t i = 0; i < in->n; i++) {
        if (pretok_word(p, in->s.a + in->b[2 * i], in->b[2 * i + 1] - in->b[2 * i], in->o[i], out, &tmp)) {
            free(tmp.a);
            return -1;
        }
    }
    free(tmp.a);
    return 0;
}

void tk_pretok_free(tk_pretok *p) {
    if (!p) return;
    for (int i = 0; i < p->nsub; i++) tk_pretok_free(&p->sub[i]);
    free(p->sub);
}
