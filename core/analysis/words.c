/* words.c — attention between words instead of word pieces, as Clark et al. 2019 ("What Does
   BERT Look At?", §2) compute it: attention TO a word is the sum over its pieces (a row stays
   a distribution), attention FROM a word is the mean over its pieces (the word is one query
   made of several). The grouping is an input, "word index per token", so any tokenizer works;
   bl_word_ids derives it from token strings (WordPiece "##", byte-level BPE "Ġ", SentencePiece
   "▁"). */
#include "base/internal.h"
#include <stdlib.h>
#include <string.h>

/* Tokens that are always a word of their own: [CLS]/[SEP]/[MASK]/[PAD]/[UNK]-style and
   <s>/</s>/<mask>/<pad>/<unk>-style special tokens. */
static int is_special_tok(const char *t) {
    size_t n = strlen(t);
    if (n < 3) return 0;
    if (!((t[0] == '[' && t[n - 1] == ']') || (t[0] == '<' && t[n - 1] == '>'))) return 0;
    for (size_t i = 1; i + 1 < n; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z') || t[i] == '/' || t[i] == '_' ||
              (t[i] >= '0' && t[i] <= '9')))
            return 0;
    return 1;
}

static int has_marker(const char *t) {
    return ((unsigned char)t[0] == 0xC4 && (unsigned char)t[1] == 0xA0) ||   /* Ġ U+0120 */
           !strncmp(t, "\xE2\x96\x81", 3);                                  /* ▁ U+2581 */
}

int bl_word_ids(const char *const *tokens, int n, int *word_of) {
    if (!tokens || !word_of || n < 1) return -1;
    /* marker mode: some ordinary token carries a word-start mark, so unmarked pieces continue */
    int markers = 0;
    for (int i = 0; i < n && !markers; i++) {
        const char *t = tokens[i] ? tokens[i] : "";
        markers = !is_special_tok(t) && has_marker(t);
    }
    int w = -1, prev_special = 1;
    for (int i = 0; i < n; i++) {
        const char *t = tokens[i] ? tokens[i] : "";
        const int special = is_special_tok(t);
        const int cont = !special && !prev_special &&
                         (markers ? !has_marker(t) : (t[0] == '#' && t[1] == '#' && t[2] != 0));
        if (!cont) w++;
        word_of[i] = w;
        prev_special = special;
    }
    return w + 1;
}

int bl_word_attention(const float *a, const uint16_t *a16, int n, const int *word_of, int nw, float *out) {
    if ((!a && !a16) || !word_of || n < 1 || nw < 1 || nw > n || !out) return -1;
    int *count = calloc((size_t)nw, sizeof *count);
    double *row = malloc(sizeof(double) * (size_t)nw * nw);
    if (!count || !row) { free(count); free(row); return -1; }
    int bad = 0;
    for (int i = 0; i < n; i++) {
        if (word_of[i] < 0 || word_of[i] >= nw) bad = 1;
        else count[word_of[i]]++;
    }
    for (int w = 0; w < nw && !bad; w++) bad = count[w] == 0;
    if (bad) { free(count); free(row); return -1; }
    memset(row, 0, sizeof(double) * (size_t)nw * nw);
    for (int i = 0; i < n; i++) {
        double *dst = row + (size_t)word_of[i] * nw;
        const size_t k = (size_t)i * n;
        for (int j = 0; j < n; j++) dst[word_of[j]] += a ? (double)a[k + j] : a16[k + j] * (1.0 / 65535.0);
    }
    for (int v = 0; v < nw; v++)
        for (int w = 0; w < nw; w++) out[(size_t)v * nw + w] = (float)(row[(size_t)v * nw + w] / count[v]);
    free(count);
    free(row);
    return 0;
}
