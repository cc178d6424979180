/* tok_model.c — the tokenizer.json models: WordPiece, BPE and Unigram, as the Rust
   `tokenizers` library (0.22) computes them. Each tokenizes one pre-tokenized word (the
   library's "split") into pieces whose offsets are byte ranges of the word's UTF-8. */
#include "text/tok.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ vocab: string <-> id */
static uint32_t fnv(const char *p, size_t pl, const char *s, size_t sl) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < pl; i++) h = (h ^ (uint8_t)p[i]) * 16777619u;
    for (size_t i = 0; i < sl; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

int tk_vocab_init(tk_vocab *v, int n) {
    memset(v, 0, sizeof *v);
    if (n < 0) return -1;
    v->n = n;
    v->cap = 16;
    while (v->cap < 2u * (uint32_t)n + 2) v->cap <<= 1;
    v->tok = calloc((size_t)n + 1, sizeof *v->tok);
    v->len = calloc((size_t)n + 1, sizeof *v->len);
    v->slot = malloc(v->cap * sizeof *v->slot);
    if (!v->tok || !v->len || !v->slot) return -1;
    memset(v->slot, 0xff, v->cap * sizeof *v->slot);
    return 0;
}

int tk_vocab_find2(const tk_vocab *v, const char *p, size_t pl, const char *s, size_t sl) {
    if (!v->slot) return -1;
    uint32_t mask = v->cap - 1, i = fnv(p, pl, s, sl) & mask;
    for (;;) {
        int32_t id = v->slot[i];
        if (id < 0) return -1;
        const char *t = v->tok[id];
        if (v->len[id] == pl + sl && !memcmp(t, p, pl) && !memcmp(t + pl, s, sl)) return id;
        i = (i + 1) & mask;
    }
}

int tk_vocab_find(const tk_vocab *v, const char *s, size_t len) { return tk_vocab_find2(v, "", 0, s, len); }

/* Sets token `id` (each id at most once); a string seen before now maps to this id. */
int tk_vocab_set(tk_vocab *v, int id, const char *s, size_t len) {
    if (id < 0 || id >= v->n || v->tok[id] || len > 0xffffffffu) return -1;
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, s, len);
    c[len] = 0;
    v->tok[id] = c;
    v->len[id] = (uint32_t)len;
    if (len > v->maxlen) v->maxlen = (uint32_t)len;
    uint32_t mask = v->cap - 1, i = fnv("", 0, s, len) & mask;
    while (v->slot[i] >= 0) {
        int32_t o = v->slot[i];
        if (v->len[o] == len && !memcmp(v->tok[o], s, len)) break;
        i = (i + 1) & mask;
    }
    v->slot[i] = id;
    return 0;
}

void tk_vocab_free(tk_vocab *v) {
    if (v->tok) for (int i = 0; i < v->n; i++) free(v->tok[i]);
    free(v->tok); free(v->len); free(v->slot);
    memset(v, 0, sizeof *v);
}

static int piece_push(tk_pieces *o, int id, size_t a, size_t b) {
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 64;
        if (cap > SIZE_MAX / 64) return -1;   /* 32-bit sizes (WebAssembly) must not wrap */
        tk_piece *p = realloc(o->p, cap * sizeof *p);
        if (!p) return -1;
        o->p = p; o->cap = cap;
    }
    o->p[o->n++] = (tk_piece){ id, a, b };
    return 0;
}

/* ------------------------------------------------------------------ WordPiece */
static int wordpiece(const tk_model *m, const char *w, size_t nb, const size_t *cpos, size_t nc,
                     tk_pieces *out, bl_err *e) {
    if ((long long)nc > (long long)m->max_chars) goto unk;
    size_t mark = out->n, start = 0;   /* char indices */
    while (start < nc) {
        size_t end = nc;
        int id = -1;
        /* no token is longer than the vocab's longest: skip the ends past it (same result) */
        size_t lim = m->v.maxlen;
        if (end - start > lim) end = start + lim;
        for (; end > start; end--) {
            size_t bl = cpos[end] - cpos[start];
            if (bl + (start ? m->nprefix : 0) > lim) continue;
            id = tk_vocab_find2(&m->v, m->prefix, start ? m->nprefix : 0, w + cpos[start], bl);
            if (id >= 0) break;
        }
        if (id < 0) { out->n = mark; goto unk; }
        if (piece_push(out, id, cpos[start], cpos[end])) return -1;
        start = end;
    }
    return 0;
unk:
    if (m->unk < 0) { bl_fail(e, "tokenize: WordPiece has no unk_token in its vocab"); return -2; }
    return piece_push(out, m->unk, 0, nb);
}

/* ------------------------------------------------------------------ BPE */
static uint64_t pair_key(int a, int b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }
static uint32_t mix64(uint64_t k) { k ^= k >> 33; k *= 0xff51afd7ed558ccdULL; k ^= k >> 33; return (uint32_t)k; }

static const tk_merge *merge_find(const tk_model *m, int a, int b) {
    if (!m->mcap) return NULL;
    uint64_t k = pair_key(a, b);
    uint32_t mask = m->mcap - 1, i = mix64(k) & mask;
    for (;;) {
        const tk_merge *x = &m->merges[i];
        if (x->id == UINT32_MAX) return NULL;
        if (x->key == k) return x;
        i = (i + 1) & mask;
    }
}

/* The caller sized merges (mcap, all id = UINT32_MAX). A repeated pair takes the later rank,
   as the library's map collected from the list does. */
int tk_bpe_add_merge(tk_model *m, int a, int b, uint32_t rank, int id) {
    uint64_t k = pair_key(a, b);
    uint32_t mask = m->mcap - 1, i = mix64(k) & mask;
    for (;;) {
        tk_merge *x = &m->merges[i];
        if (x->id == UINT32_MAX || x->key == k) { x->key = k; x->rank = rank; x->id = (uint32_t)id; return 0; }
        i = (i + 1) & mask;
    }
}

typedef struct { uint32_t rank; uint32_t pos; uint32_t id; } hitem;
static int h_less(const hitem *x, const hitem *y) { return x->rank != y->rank ? x->rank < y->rank : x->pos < y->pos; }
static void h_push(hitem *h, size_t *n, hitem x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!h_less(&x, &h[p])) break;
        h[i] = h[p]; i = p;
    }
    h[i] = x;
}
static hitem h_pop(hitem *h, size_t *n) {
    hitem top = h[0], x = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        const hitem *best = &x;
        if (l < *n && h_less(&h[l], best)) { s = l; best = &h[l]; }
        if (r < *n && h_less(&h[r], best)) { s = r; }
        if (s == i) break;
        h[i] = h[s]; i = s;
    }
    if (*n) h[i] = x;
    return top;
}

typedef struct { int c; long prev, next; size_t len; } sym;

static int bpe(const tk_model *m, const char *w, size_t nb, const size_t *cpos, size_t nc,
               tk_pieces *out, bl_err *e) {
    if (m->ignore_merges) {
        int id = tk_vocab_find(&m->v, w, nb);
        if (id >= 0) return piece_push(out, id, 0, nb);
    }
    sym *s = malloc((nb + 1) * 4 * sizeof *s);   /* byte fallback: up to 4 symbols per char byte */
    hitem *h = malloc((nb * 4 + 4) * 2 * sizeof *h);
    char *tmp = malloc(nb + m->nprefix + m->nsuffix + 8);
    size_t ns = 0, nh = 0;
    int rc = -1;
    if (!s || !h || !tmp) goto done;
    int unk = -2;           /* pending unk id (-2 none) and its byte length */
    size_t unk_len = 0;
#define ADD(ID, LEN) do { s[ns] = (sym){ (ID), (long)ns - 1, (long)ns + 1, (LEN) }; ns++; } while (0)
    for (size_t i = 0; i < nc; i++) {
        size_t bl = cpos[i + 1] - cpos[i], tl = 0;
        int first = i == 0, last = i + 1 == nc;
        if (!first && m->prefix) { memcpy(tmp, m->prefix, m->nprefix); tl = m->nprefix; }
        memcpy(tmp + tl, w + cpos[i], bl); tl += bl;
        if (last && m->suffix) { memcpy(tmp + tl, m->suffix, m->nsuffix); tl += m->nsuffix; }
        int id = tk_vocab_find(&m->v, tmp, tl);
        if (id >= 0) {
            if (unk != -2) { ADD(unk, unk_len); unk = -2; }
            ADD(id, bl);
            continue;
        }
        if (m->byte_fallback) {
            int ids[64], ok = tl <= 64;
            for (size_t k = 0; k < tl && ok; k++) {
                char code[8];
                static const char hx[] = "0123456789ABCDEF";
                code[0] = '<'; code[1] = '0'; code[2] = 'x';
                code[3] = hx[(uint8_t)tmp[k] >> 4]; code[4] = hx[(uint8_t)tmp[k] & 15]; code[5] = '>';
                ids[k] = tk_vocab_find(&m->v, code, 6);
                if (ids[k] < 0) ok = 0;
            }
            if (ok) {
                for (size_t k = 0; k < tl; k++) ADD(ids[k], 1);
                continue;
            }
        }
        if (m->unk >= 0) {
            if (unk != -2 && m->fuse_unk) unk_len += bl;
            else {
                if (unk != -2) ADD(unk, unk_len);
                unk = m->unk; unk_len = bl;
            }
        } else if (m->has_unk_token) {
            bl_fail(e, "tokenize: BPE's unk_token is not in its vocab");
            rc = -2;
            goto done;
        }
    }
    if (unk != -2) ADD(unk, unk_len);
#undef ADD
    if (ns) s[ns - 1].next = -1;
    for (size_t i = 0; i + 1 < ns; i++) {
        const tk_merge *mg = merge_find(m, s[i].c, s[i + 1].c);
        if (mg) h_push(h, &nh, (hitem){ mg->rank, (uint32_t)i, mg->id });
    }
    while (nh) {
        hitem top = h_pop(h, &nh);
        sym *cur = &s[top.pos];
        if (cur->len == 0 || cur->next == -1) continue;
        sym right = s[cur->next];
        const tk_merge *mg = merge_find(m, cur->c, right.c);
        if (!mg || mg->id != top.id) continue;
        size_t rpos = (size_t)cur->next;
        cur->c = (int)top.id;
        cur->len += right.len;
        cur->next = right.next;
        s[rpos].len = 0;   /* the right symbol is gone */
        if (right.next >= 0 && (size_t)right.next < ns) s[right.next].prev = (long)top.pos;
        if (cur->prev >= 0) {
            const tk_merge *pm = merge_find(m, s[cur->prev].c, cur->c);
            if (pm) h_push(h, &nh, (hitem){ pm->rank, (uint32_t)cur->prev, pm->id });
        }
        if (cur->next >= 0) {
            const tk_merge *nm = merge_find(m, cur->c, s[cur->next].c);
            if (nm) h_push(h, &nh, (hitem){ nm->rank, top.pos, nm->id });
        }
    }
    size_t off = 0;
    for (long i = ns ? 0 : -1; i >= 0; i = s[i].next) {
        if (piece_push(out, s[i].c, off, off + s[i].len)) goto done;
        off += s[i].len;
    }
    rc = 0;
done:
    if (rc == -1 && !e->msg[0]) bl_fail(e, "tokenize: out of memory");
    free(s); free(h); free(tmp);
    return rc;
}

/* ------------------------------------------------------------------ Unigram */
/* Byte trie of the pieces: children in an open-addressing table keyed by (node, byte). */
static uint32_t tkey(uint32_t node, uint8_t b) { return mix64(((uint64_t)node << 8) | b); }

static int32_t trie_child(const tk_model *m, int32_t node, uint8_t b) {
    uint32_t mask = (uint32_t)m->trie_cap - 1, i = tkey((uint32_t)node, b) & mask;
    for (;;) {
        int32_t c = m->trie_next[2 * i];
        if (c < 0) return -1;
        if (m->trie_next[2 * i + 1] == (node << 8 | b)) return c;
        i = (i + 1) & mask;
    }
}

int tk_unigram_build(tk_model *m) {
    size_t total = 1;
    for (int i = 0; i < m->v.n; i++) total += m->v.len[i];
    if (total > 0x7fffff) return -1;   /* node << 8 must fit an int32 */
    m->trie_cap = 16;
    while (m->trie_cap < 2 * total) m->trie_cap <<= 1;
    m->trie_next = malloc(m->trie_cap * 2 * sizeof *m->trie_next);
    m->trie_id = malloc(total * sizeof *m->trie_id);
    if (!m->trie_next || !m->trie_id) return -1;
    memset(m->trie_next, 0xff, m->trie_cap * 2 * sizeof *m->trie_next);
    m->trie_n = 1;
    m->trie_id[0] = -1;
    for (int id = 0; id < m->v.n; id++) {
        int32_t node = 0;
        const uint8_t *t = (const uint8_t *)m->v.tok[id];
        for (uint32_t k = 0; k < m->v.len[id]; k++) {
            int32_t c = trie_child(m, node, t[k]);
            if (c < 0) {
                c = (int32_t)m->trie_n++;
                m->trie_id[c] = -1;
                uint32_t mask = (uint32_t)m->trie_cap - 1, i = tkey((uint32_t)node, t[k]) & mask;
                while (m->trie_next[2 * i] >= 0) i = (i + 1) & mask;
                m->trie_next[2 * i] = c;
                m->trie_next[2 * i + 1] = node << 8 | t[k];
            }
            node = c;
        }
        if (node > 0) m->trie_id[node] = tk_vocab_find(&m->v, m->v.tok[id], m->v.len[id]);
    }
    m->min_score = INFINITY;
    for (int i = 0; i < m->v.n; i++) if (m->score[i] < m->min_score) m->min_score = m->score[i];
    return 0;
}

static int unigram(const tk_model *m, const char *w, size_t nb, tk_pieces *out, bl_err *e) {
    double *best = malloc((nb + 1) * sizeof *best);
    long *from = malloc((nb + 1) * sizeof *from);
    int *bid = malloc((nb + 1) * sizeof *bid);
    size_t *ps = malloc((nb + 1) * 2 * sizeof *ps);
    int rc = -1;
    if (!best || !from || !bid || !ps) goto done;
    for (size_t i = 0; i <= nb; i++) { best[i] = 0; from[i] = -1; bid[i] = 0; }
    double unk_score = m->min_score - 10.0;
    size_t st = 0;
    while (st < nb) {
        double here = best[st];
        uint8_t c0 = (uint8_t)w[st];
        size_t mb = c0 < 0x80 ? 1 : c0 < 0xE0 ? 2 : c0 < 0xF0 ? 3 : 4;
        if (st + mb > nb) mb = nb - st;
        int single = 0;
        int32_t node = 0;
        for (size_t k = st; k < nb; k++) {
            node = trie_child(m, node, (uint8_t)w[k]);
            if (node < 0) break;
            int id = m->trie_id[node];
            if (id < 0) continue;
            size_t end = k + 1;
            double cand = m->score[id] + here;
            if (from[end] < 0 || cand > best[end]) { best[end] = cand; from[end] = (long)st; bid[end] = id; }
            if (end - st == mb) single = 1;
        }
        if (!single) {
            if (m->unk < 0) { bl_fail(e, "tokenize: Unigram has no unk_id for a character it lacks"); rc = -2; goto done; }
            double cand = unk_score + here;
            if (from[st + mb] < 0 || cand > best[st + mb]) { best[st + mb] = cand; from[st + mb] = (long)st; bid[st + mb] = m->unk; }
        }
        st += mb;
    }
    /* back-track from the end; consecutive unk pieces fuse into one */
    size_t np = 0, end = nb;
    while (end > 0) {
        long s0 = from[end];
        if (s0 < 0) { bl_fail(e, "tokenize: Unigram lattice is broken"); rc = -2; goto done; }
        int is_unk = bid[end] == m->unk;
        if (is_unk && np > 0 && ps[2 * (np - 1) + 1] == SIZE_MAX) ps[2 * (np - 1)] = (size_t)s0;
        else {
            ps[2 * np] = (size_t)s0;
            ps[2 * np + 1] = is_unk ? SIZE_MAX : end;   /* SIZE_MAX marks an unk run (end: below) */
            np++;
        }
        end = (size_t)s0;
    }
    /* an unk run ends where the piece to its right starts */
    size_t right = nb;
    for (size_t k = 0; k < np; k++) {
        if (ps[2 * k + 1] == SIZE_MAX) ps[2 * k + 1] = right;
        right = ps[2 * k];
    }
    for (size_t k = np; k-- > 0;) {
        size_t a = ps[2 * k], b = ps[2 * k + 1];
        int id = tk_vocab_find(&m->v, w + a, b - a);
        if (id < 0) {
            if (m->byte_fallback) {
                int ok = 1;
                size_t mark = out->n;
                for (size_t q = a; q < b && ok; q++) {
                    char code[6];
                    static const char hx[] = "0123456789ABCDEF";
                    code[0] = '<'; code[1] = '0'; code[2] = 'x';
                    code[3] = hx[(uint8_t)w[q] >> 4]; code[4] = hx[(uint8_t)w[q] & 15]; code[5] = '>';
                    int bidq = tk_vocab_find(&m->v, code, 6);
                    if (bidq < 0) ok = 0;
                    else if (piece_push(out, bidq, a, b)) goto done;
                }
                if (ok) continue;
                out->n = mark;
            }
            id = m->unk;
        }
        if (piece_push(out, id, a, b)) goto done;
    }
    rc = 0;
done:
    if (rc == -1 && !e->msg[0]) bl_fail(e, "tokenize: out of memory");
    free(best); free(from); free(bid); free(ps);
    return rc;
}

/* ------------------------------------------------------------------ entry */
int tk_model_tokenize(const tk_model *m, const tk_ch *wc, size_t n, tk_pieces *out, bl_err *ep) {
    bl_err le, *e = &le;
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) nb += wc[i].cp < 0x80 ? 1 : wc[i].cp < 0x800 ? 2 : wc[i].cp < 0x10000 ? 3 : 4;
    if (nb > SIZE_MAX / 256 || n > SIZE_MAX / 256) {   /* the models' per-byte scratch must not wrap */
        bl_fail(ep, "tokenize: a word of %zu bytes is too long", nb);
        return -2;
    }
    char *w = malloc(nb + 1);
    size_t *cpos = malloc((n + 1) * sizeof *cpos);
    int rc = -1;
    e->msg[0] = 0;
    if (!w || !cpos) { bl_fail(e, "tokenize: out of memory"); goto done; }
    cpos[0] = 0;
    for (size_t i = 0; i < n; i++) cpos[i + 1] = cpos[i] + bl_utf8_encode(wc[i].cp, w + cpos[i]);
    switch (m->type) {
    case MD_WORDPIECE: rc = wordpiece(m, w, nb, cpos, n, out, e); break;
    case MD_BPE: rc = bpe(m, w, nb, cpos, n, out, e); break;
    case MD_UNIGRAM: rc = unigram(m, w, nb, out, e); break;
    }
    if (rc == -1 && !e->msg[0]) bl_fail(e, "tokenize: out of memory");
done:
    if (rc && ep) *ep = le;
    free(w); free(cpos);
    return rc;
}

void tk_model_free(tk_model *m) {
    tk_vocab_free(&m->v);
    free(m->prefix); free(m->suffix); free(m->merges); free(m->score);
    free(m->trie_next); free(m->trie_id);
}
