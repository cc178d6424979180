/* pickle.c — a restricted reader for the pickle inside torch.save's zip (data.pkl) that never
   imports or calls anything. It understands only what torch.save emits for a state dict: a
   dict or OrderedDict of str -> torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
   requires_grad, hooks), each storage a persistent id ('storage', torch.XStorage, key,
   location, numel). Every other GLOBAL (the way a pickle reaches code: os.system,
   builtins.eval, ...) and every other opcode is an error that names it. Values are built as a
   tree of tagged nodes; REDUCE is evaluated only for the two known callables, symbolically. */
#include "model/convert_stream.h"
#include <stdlib.h>
#include <string.h>

enum { PV_MARK, PV_NONE, PV_BOOL, PV_INT, PV_STR, PV_TUPLE, PV_DICT, PV_GLOBAL, PV_STORAGE, PV_TENSOR };
enum { G_ODICT = 1, G_REBUILD, G_STYPE };   /* PV_GLOBAL kinds; G_STYPE carries a dtype */

typedef struct pv pv;
struct pv {
    int type;
    int64_t i;          /* INT, BOOL; STORAGE: storage index; GLOBAL: kind */
    int dtype, esize;   /* GLOBAL G_STYPE */
    char *s;            /* STR (owned); GLOBAL G_STYPE: its name */
    size_t slen;
    pv **items;         /* TUPLE: n items; DICT: 2n (key, value) */
    int n, cap;
    bl_src_tensor *t;   /* TENSOR (shape, storage, begin/end) */
    pv *next_alloc;
};

typedef struct {
    const char *name;
    pv *all;            /* every node, freed together */
    size_t nodes;
    pv **stack;
    int sp, scap;
    pv **memo;
    size_t nmemo, memo_used;   /* slots, filled slots (MEMOIZE's index) */
    bl_pk_result *res;
    bl_err *e;
} pk;

#define PK_MAX_NODES (1u << 22)
#define PK_MAX_MEMO (1u << 22)

static pv *pk_new(pk *k, int type) {
    if (k->nodes >= PK_MAX_NODES) { bl_fail(k->e, "%s: the pickle is too large", k->name); return NULL; }
    pv *v = calloc(1, sizeof *v);
    if (!v) { bl_fail(k->e, "%s: out of memory", k->name); return NULL; }
    v->type = type;
    v->next_alloc = k->all;
    k->all = v;
    k->nodes++;
    return v;
}

static void pk_free_all(pk *k) {
    for (pv *v = k->all, *n; v; v = n) {
        n = v->next_alloc;
        free(v->s);
        free(v->items);
        if (v->t) { free(v->t->name); free(v->t); }
        free(v);
    }
    free(k->stack);
    free(k->memo);
}

static int pk_push(pk *k, pv *v) {
    if (!v) return -1;
    if (k->sp == k->scap) {
        int nc = k->scap ? k->scap * 2 : 64;
        if (nc > (1 << 22)) return bl_fail(k->e, "%s: the pickle's stack is too deep", k->name);
        pv **ns = realloc(k->stack, sizeof *ns * (size_t)nc);
        if (!ns) return bl_fail(k->e, "%s: out of memory", k->name);
        k->stack = ns;
        k->scap = nc;
    }
    k->stack[k->sp++] = v;
    return 0;
}

static pv *pk_pop(pk *k, const char *op) {
    if (k->sp == 0 || k->stack[k->sp - 1]->type == PV_MARK) {
        bl_fail(k->e, "%s: malformed pickle: %s on an empty stack", k->name, op);
        return NULL;
    }
    return k->stack[--k->sp];
}

/* Index of the topmost MARK, or -1 with an error. */
static int pk_mark(pk *k, const char *op) {
    for (int i = k->sp - 1; i >= 0; i--)
        if (k->stack[i]->type == PV_MARK) return i;
    bl_fail(k->e, "%s: malformed pickle: %s without a MARK", k->name, op);
    return -1;
}

static int pk_add(pk *k, pv *c, pv *item) {
    if (c->n == c->cap) {
        int nc = c->cap ? c->cap * 2 : 4;
        if (nc > (1 << 24)) return bl_fail(k->e, "%s: the pickle is too large", k->name);
        pv **ni = realloc(c->items, sizeof *ni * (size_t)nc);
        if (!ni) return bl_fail(k->e, "%s: out of memory", k->name);
        c->items = ni;
        c->cap = nc;
    }
    c->items[c->n++] = item;
    return 0;
}

static pv *pk_tuple(pk *k, pv **items, int n) {
    pv *t = pk_new(k, PV_TUPLE);
    for (int i = 0; t && i < n; i++)
        if (pk_add(k, t, items[i]) < 0) return NULL;
    return t;
}

/* The GLOBALs a state dict needs. Anything else is refused here, before it could be used. */
static pv *pk_global(pk *k, const char *mod, const char *name) {
    static const struct { const char *n; int dt, es; } st[] = {
        {"FloatStorage", BL_SRC_F32, 4}, {"HalfStorage", BL_SRC_F16, 2}, {"BFloat16Storage", BL_SRC_BF16, 2},
        {"DoubleStorage", BL_SRC_OTHER, 8}, {"LongStorage", BL_SRC_OTHER, 8}, {"IntStorage", BL_SRC_OTHER, 4},
        {"ShortStorage", BL_SRC_OTHER, 2}, {"CharStorage", BL_SRC_OTHER, 1}, {"ByteStorage", BL_SRC_OTHER, 1},
        {"BoolStorage", BL_SRC_OTHER, 1}, {"UntypedStorage", BL_SRC_OTHER, 1},
        /* newer torch may name the dtype itself */
        {"float32", BL_SRC_F32, 4}, {"float16", BL_SRC_F16, 2}, {"bfloat16", BL_SRC_BF16, 2},
        {"float64", BL_SRC_OTHER, 8}, {"int64", BL_SRC_OTHER, 8}, {"int32", BL_SRC_OTHER, 4},
        {"int16", BL_SRC_OTHER, 2}, {"int8", BL_SRC_OTHER, 1}, {"uint8", BL_SRC_OTHER, 1}, {"bool", BL_SRC_OTHER, 1}};
    pv *g = NULL;
    if (!strcmp(mod, "collections") && !strcmp(name, "OrderedDict")) {
        if ((g = pk_new(k, PV_GLOBAL))) g->i = G_ODICT;
        return g;
    }
    if (!strcmp(mod, "torch._utils") && !strcmp(name, "_rebuild_tensor_v2")) {
        if ((g = pk_new(k, PV_GLOBAL))) g->i = G_REBUILD;
        return g;
    }
    if (!strcmp(mod, "torch") || (!strcmp(mod, "torch.storage") && !strcmp(name, "UntypedStorage")))
        for (size_t i = 0; i < sizeof st / sizeof st[0]; i++)
            if (!strcmp(name, st[i].n)) {
                if (!(g = pk_new(k, PV_GLOBAL))) return NULL;
                g->i = G_STYPE;
                g->dtype = st[i].dt;
                g->esize = st[i].es;
                g->s = malloc(strlen(name) + 1);
                if (!g->s) { bl_fail(k->e, "%s: out of memory", k->name); return NULL; }
                strcpy(g->s, name);
                return g;
            }
    bl_fail(k->e, "%s: the pickle calls '%.60s %.60s': only tensors are read", k->name, mod, name);
    return NULL;
}

/* BINPERSID ('storage', type, key, location, numel): one storage of the zip. */
static pv *pk_persid(pk *k, pv *pid) {
    if (pid->type != PV_TUPLE || pid->n != 5 || pid->items[0]->type != PV_STR || strcmp(pid->items[0]->s, "storage") ||
        pid->items[1]->type != PV_GLOBAL || pid->items[1]->i != G_STYPE || pid->items[2]->type != PV_STR ||
        pid->items[4]->type != PV_INT || pid->items[4]->i < 0) {
        bl_fail(k->e, "%s: the pickle has a persistent id that is not ('storage', type, key, location, numel)", k->name);
        return NULL;
    }
    const pv *ty = pid->items[1];
    const char *key = pid->items[2]->s;
    uint64_t numel = (uint64_t)pid->items[4]->i;
    if (numel > (UINT64_C(1) << 40) || strlen(key) != pid->items[2]->slen || strlen(key) > 64 ||
        strspn(key, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_.-") != strlen(key)) {
        bl_fail(k->e, "%s: storage '%.64s': bad key or %llu elements", k->name, key, (unsigned long long)numel);
        return NULL;
    }
    bl_pk_result *r = k->res;
    int idx = -1;
    for (int i = 0; i < r->nstorages; i++)
        if (!strcmp(r->storages[i].key, key)) idx = i;
    if (idx >= 0) {
        if (r->storages[idx].numel != numel || r->storages[idx].esize != ty->esize || r->storages[idx].dtype != ty->dtype) {
            bl_fail(k->e, "%s: storage '%s' is described twice, differently", k->name, key);
            return NULL;
        }
    } else {
        if (r->nstorages >= 1 << 20) { bl_fail(k->e, "%s: too many storages", k->name); return NULL; }
        bl_pk_storage *ns = realloc(r->storages, sizeof *ns * ((size_t)r->nstorages + 1));
        if (!ns) { bl_fail(k->e, "%s: out of memory", k->name); return NULL; }
        r->storages = ns;
        bl_pk_storage *s = &ns[r->nstorages];
        memset(s, 0, sizeof *s);
        s->key = malloc(strlen(key) + 1);
        if (!s->key) { bl_fail(k->e, "%s: out of memory", k->name); return NULL; }
        strcpy(s->key, key);
        s->dtype = ty->dtype;
        s->esize = ty->esize;
        s->numel = numel;
        snprintf(s->dtname, sizeof s->dtname, "%s", ty->s);
        idx = r->nstorages++;
    }
    pv *v = pk_new(k, PV_STORAGE);
    if (v) v->i = idx;
    return v;
}

static int pk_is_empty_dict(const pv *v) { return v->type == PV_DICT && v->n == 0; }

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) */
static pv *pk_rebuild(pk *k, pv *args) {
    if (args->type != PV_TUPLE || args->n < 6 || args->n > 7) {
        bl_fail(k->e, "%s: _rebuild_tensor_v2 with %d arguments (expected 6 or 7)", k->name,
                args->type == PV_TUPLE ? args->n : -1);
        return NULL;
    }
    pv **a = args->items;
    if (a[0]->type != PV_STORAGE || a[1]->type != PV_INT || a[1]->i < 0 || a[2]->type != PV_TUPLE ||
        a[3]->type != PV_TUPLE || a[2]->n != a[3]->n || a[2]->n > 8 || a[4]->type != PV_BOOL ||
        !(pk_is_empty_dict(a[5]) || a[5]->type == PV_NONE) || (args->n == 7 && !(pk_is_empty_dict(a[6]) || a[6]->type == PV_NONE))) {
        bl_fail(k->e, "%s: _rebuild_tensor_v2 arguments are not (storage, offset, size, stride, requires_grad, {})", k->name);
        return NULL;
    }
    const bl_pk_storage *st = &k->res->storages[a[0]->i];
    bl_src_tensor *t = calloc(1, sizeof *t);
    pv *v = pk_new(k, PV_TENSOR);
    if (!t || !v) { free(t); if (v) bl_fail(k->e, "%s: out of memory", k->name); return NULL; }
    v->t = t;
    t->storage = (int)a[0]->i;
    t->dtype = st->dtype;
    t->esize = st->esize;
    snprintf(t->dtname, sizeof t->dtname, "%s", st->dtname);
    t->ndim = a[2]->n;
    uint64_t numel = 1, expect = 1;
    int contiguous = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        const pv *sz = a[2]->items[d], *sd = a[3]->items[d];
        if (sz->type != PV_INT || sd->type != PV_INT || sz->i < 0 || sz->i > (1LL << 40) || sd->i < 0) {
            bl_fail(k->e, "%s: a tensor has a bad size or stride", k->name);
            return NULL;
        }
        t->shape[d] = sz->i;
        if (sz->i > 1 && (uint64_t)sd->i != expect) contiguous = 0;
        numel = numel && (uint64_t)sz->i > UINT64_MAX / numel ? UINT64_MAX : numel * (uint64_t)sz->i;
        expect = expect && (uint64_t)sz->i > UINT64_MAX / expect ? UINT64_MAX : expect * (uint64_t)sz->i;
    }
    if (!contiguous && numel > 0) {
        bl_fail(k->e, "%s: a tensor is not contiguous row-major (a strided view): save it with .contiguous()", k->name);
        return NULL;
    }
    uint64_t off = (uint64_t)a[1]->i;
    if (numel > 0 && (off > st->numel || numel > st->numel - off)) {
        bl_fail(k->e, "%s: a tensor of %llu elements at offset %llu lies outside its storage '%s' (%llu elements)",
                k->name, (unsigned long long)numel, (unsigned long long)off, st->key, (unsigned long long)st->numel);
        return NULL;
    }
    t->begin = numel ? off * (uint64_t)st->esize : 0;
    t->end = t->begin + (numel ? numel : 0) * (uint64_t)st->esize;
    return v;
}

static int pk_rd(pk *k, const uint8_t *p, size_t n, size_t *i, size_t need, const uint8_t **out) {
    if (need > n - *i) return bl_fail(k->e, "%s: the pickle ends inside an opcode", k->name);
    *out = p + *i;
    *i += need;
    return 0;
}

static uint64_t pk_le(const uint8_t *b, int n) {
    uint64_t v = 0;
    for (int j = 0; j < n; j++) v |= (uint64_t)b[j] << (8 * j);
    return v;
}

static pv *pk_str(pk *k, const uint8_t *b, size_t len) {
    pv *v = pk_new(k, PV_STR);
    if (!v) return NULL;
    v->s = malloc(len + 1);
    if (!v->s) { bl_fail(k->e, "%s: out of memory", k->name); return NULL; }
    memcpy(v->s, b, len);
    v->s[len] = 0;
    v->slen = len;
    return v;
}

static int pk_memo_put(pk *k, uint64_t idx, pv *v) {
    if (idx >= PK_MAX_MEMO) return bl_fail(k->e, "%s: pickle memo index %llu is too large", k->name, (unsigned long long)idx);
    if (idx >= k->nmemo) {
        size_t nn = (size_t)idx + 1 > k->nmemo * 2 ? (size_t)idx + 1 : k->nmemo * 2;
        pv **nm = realloc(k->memo, sizeof *nm * nn);
        if (!nm) return bl_fail(k->e, "%s: out of memory", k->name);
        memset(nm + k->nmemo, 0, sizeof *nm * (nn - k->nmemo));
        k->memo = nm;
        k->nmemo = nn;
    }
    if (!k->memo[idx]) k->memo_used++;
    k->memo[idx] = v;
    return 0;
}

static int pk_run(pk *k, const uint8_t *p, size_t n, pv **result) {
    size_t i = 0;
    const uint8_t *b = NULL;
    while (i < n) {
        size_t at = i;
        uint8_t op = p[i++];
        pv *v = NULL, *x, *y;
        int m;
        switch (op) {
        case 0x80:   /* PROTO */
            if (pk_rd(k, p, n, &i, 1, &b) < 0) return -1;
            if (b[0] < 2 || b[0] > 5) return bl_fail(k->e, "%s: pickle protocol %d", k->name, b[0]);
            break;
        case 0x95:   /* FRAME: a length hint only */
            if (pk_rd(k, p, n, &i, 8, &b) < 0) return -1;
            break;
        case '.':    /* STOP */
            if (k->sp != 1 || k->stack[0]->type == PV_MARK)
                return bl_fail(k->e, "%s: malformed pickle: %d values left at STOP", k->name, k->sp);
            *result = k->stack[0];
            return 0;
        case '(': if (pk_push(k, pk_new(k, PV_MARK)) < 0) return -1; break;
        case ')': if (pk_push(k, pk_new(k, PV_TUPLE)) < 0) return -1; break;
        case '}': if (pk_push(k, pk_new(k, PV_DICT)) < 0) return -1; break;
        case 'N': if (pk_push(k, pk_new(k, PV_NONE)) < 0) return -1; break;
        case 0x88: case 0x89:   /* NEWTRUE, NEWFALSE */
            if (!(v = pk_new(k, PV_BOOL))) return -1;
            v->i = op == 0x88;
            if (pk_push(k, v) < 0) return -1;
            break;
        case 'K': case 'M': case 'J': {   /* BININT1, BININT2, BININT */
            int w = op == 'K' ? 1 : op == 'M' ? 2 : 4;
            if (pk_rd(k, p, n, &i, (size_t)w, &b) < 0 || !(v = pk_new(k, PV_INT))) return -1;
            v->i = w == 4 ? (int64_t)(int32_t)(uint32_t)pk_le(b, 4) : (int64_t)pk_le(b, w);
            if (pk_push(k, v) < 0) return -1;
            break;
        }
        case 0x8a: {  /* LONG1: n-byte little-endian two's complement */
            if (pk_rd(k, p, n, &i, 1, &b) < 0) return -1;
            int w = b[0];
            if (w > 8) return bl_fail(k->e, "%s: a %d-byte integer in the pickle", k->name, w);
            if (pk_rd(k, p, n, &i, (size_t)w, &b) < 0 || !(v = pk_new(k, PV_INT))) return -1;
            uint64_t u = pk_le(b, w);
            if (w > 0 && w < 8 && (b[w - 1] & 0x80)) u |= ~UINT64_C(0) << (8 * w);
            v->i = (int64_t)u;
            if (pk_push(k, v) < 0) return -1;
            break;
        }
        case 'X': case 0x8c: case 0x8d: {   /* BINUNICODE, SHORT_BINUNICODE, BINUNICODE8 */
            int w = op == 'X' ? 4 : op == 0x8c ? 1 : 8;
            if (pk_rd(k, p, n, &i, (size_t)w, &b) < 0) return -1;
            uint64_t len = pk_le(b, w);
            if (len > n - i) return bl_fail(k->e, "%s: the pickle ends inside a string", k->name);
            if (pk_rd(k, p, n, &i, (size_t)len, &b) < 0 || pk_push(k, pk_str(k, b, (size_t)len)) < 0) return -1;
            break;
        }
        case 'c': {   /* GLOBAL "module\nname\n" */
            const uint8_t *e1 = memchr(p + i, '\n', n - i);
            const uint8_t *e2 = e1 ? memchr(e1 + 1, '\n', (size_t)(p + n - e1 - 1)) : NULL;
            if (!e1 || !e2 || e1 - (p + i) > 200 || e2 - e1 > 200)
                return bl_fail(k->e, "%s: malformed GLOBAL in the pickle", k->name);
            char mod[201], nm[201];
            snprintf(mod, sizeof mod, "%.*s", (int)(e1 - (p + i)), (const char *)p + i);
            snprintf(nm, sizeof nm, "%.*s", (int)(e2 - e1 - 1), (const char *)e1 + 1);
            i = (size_t)(e2 + 1 - p);
            if (pk_push(k, pk_global(k, mod, nm)) < 0) return -1;
            break;
        }
        case 0x93: {  /* STACK_GLOBAL */
            if (!(y = pk_pop(k, "STACK_GLOBAL")) || !(x = pk_pop(k, "STACK_GLOBAL"))) return -1;
            if (x->type != PV_STR || y->type != PV_STR)
                return bl_fail(k->e, "%s: malformed STACK_GLOBAL in the pickle", k->name);
            if (pk_push(k, pk_global(k, x->s, y->s)) < 0) return -1;
            break;
        }
        case 'q': case 'r': case 0x94: {   /* BINPUT, LONG_BINPUT, MEMOIZE */
            uint64_t idx;
            if (op != 0x94) {
                if (pk_rd(k, p, n, &i, op == 'q' ? 1 : 4, &b) < 0) return -1;
                idx = pk_le(b, op == 'q' ? 1 : 4);
            } else idx = k->memo_used;
            if (k->sp == 0 || k->stack[k->sp - 1]->type == PV_MARK)
                return bl_fail(k->e, "%s: malformed pickle: memo of nothing", k->name);
            if (pk_memo_put(k, idx, k->stack[k->sp - 1]) < 0) return -1;
            break;
        }
        case 'h': case 'j': {   /* BINGET, LONG_BINGET */
            if (pk_rd(k, p, n, &i, op == 'h' ? 1 : 4, &b) < 0) return -1;
            uint64_t idx = pk_le(b, op == 'h' ? 1 : 4);
            if (idx >= k->nmemo || !k->memo[idx])
                return bl_fail(k->e, "%s: malformed pickle: memo %llu is empty", k->name, (unsigned long long)idx);
            if (pk_push(k, k->memo[idx]) < 0) return -1;
            break;
        }
        case 't':    /* TUPLE from the mark */
            if ((m = pk_mark(k, "TUPLE")) < 0) return -1;
            if (!(v = pk_tuple(k, k->stack + m + 1, k->sp - m - 1))) return -1;
            k->sp = m;
            if (pk_push(k, v) < 0) return -1;
            break;
        case 0x85: case 0x86: case 0x87: {   /* TUPLE1..3 */
            int c = op - 0x84;
            if (k->sp < c) return bl_fail(k->e, "%s: malformed pickle: TUPLE%d on a short stack", k->name, c);
            for (int j = k->sp - c; j < k->sp; j++)
                if (k->stack[j]->type == PV_MARK) return bl_fail(k->e, "%s: malformed pickle: TUPLE%d over a MARK", k->name, c);
            if (!(v = pk_tuple(k, k->stack + k->sp - c, c))) return -1;
            k->sp -= c;
            if (pk_push(k, v) < 0) return -1;
            break;
        }
        case 'd':    /* DICT from the mark */
        case 'u': {  /* SETITEMS */
            if ((m = pk_mark(k, op == 'd' ? "DICT" : "SETITEMS")) < 0) return -1;
            int cnt = k->sp - m - 1;
            if (cnt % 2) return bl_fail(k->e, "%s: malformed pickle: odd number of dict items", k->name);
            pv *d;
            if (op == 'd') { if (!(d = pk_new(k, PV_DICT))) return -1; }
            else {
                if (m == 0 || k->stack[m - 1]->type != PV_DICT)
                    return bl_fail(k->e, "%s: malformed pickle: SETITEMS on something that is not a dict", k->name);
                d = k->stack[m - 1];
            }
            for (int j = m + 1; j < k->sp; j++)
                if (pk_add(k, d, k->stack[j]) < 0) return -1;
            k->sp = m;
            if (op == 'd' && pk_push(k, d) < 0) return -1;
            break;
        }
        case 's':    /* SETITEM */
            if (!(y = pk_pop(k, "SETITEM")) || !(x = pk_pop(k, "SETITEM"))) return -1;
            if (k->sp == 0 || k->stack[k->sp - 1]->type != PV_DICT)
                return bl_fail(k->e, "%s: malformed pickle: SETITEM on something that is not a dict", k->name);
            if (pk_add(k, k->stack[k->sp - 1], x) < 0 || pk_add(k, k->stack[k->sp - 1], y) < 0) return -1;
            break;
        case 'Q':    /* BINPERSID */
            if (!(x = pk_pop(k, "BINPERSID"))) return -1;
            if (pk_push(k, pk_persid(k, x)) < 0) return -1;
            break;
        case 'R': {  /* REDUCE: only OrderedDict() and _rebuild_tensor_v2(...) */
            if (!(y = pk_pop(k, "REDUCE")) || !(x = pk_pop(k, "REDUCE"))) return -1;
            if (x->type != PV_GLOBAL || x->i == G_STYPE)
                return bl_fail(k->e, "%s: the pickle calls something that is not a tensor constructor", k->name);
            if (y->type != PV_TUPLE) return bl_fail(k->e, "%s: malformed pickle: REDUCE without an argument tuple", k->name);
            if (x->i == G_ODICT) {
                if (y->n != 0) return bl_fail(k->e, "%s: OrderedDict called with arguments", k->name);
                v = pk_new(k, PV_DICT);
            } else v = pk_rebuild(k, y);
            if (pk_push(k, v) < 0) return -1;
            break;
        }
        case 'b':    /* BUILD: state for a dict (OrderedDict's _metadata) is dropped; tensors take none */
            if (!(y = pk_pop(k, "BUILD"))) return -1;
            if (k->sp == 0) return bl_fail(k->e, "%s: malformed pickle: BUILD on an empty stack", k->name);
            x = k->stack[k->sp - 1];
            if (!((x->type == PV_DICT && (y->type == PV_DICT || y->type == PV_NONE)) ||
                  (x->type == PV_TENSOR && (pk_is_empty_dict(y) || y->type == PV_NONE))))
                return bl_fail(k->e, "%s: the pickle sets the state of an object (BUILD): only tensors are read", k->name);
            break;
        default:
            return bl_fail(k->e, "%s: the pickle uses opcode 0x%02x ('%c') at byte %zu: only tensors are read",
                           k->name, op, op >= 0x20 && op < 0x7f ? op : '?', at);
        }
    }
    return bl_fail(k->e, "%s: the pickle ends without STOP", k->name);
}

void bl_pk_result_free(bl_pk_result *r) {
    if (!r) return;
    bl_src_tensors_free(r->t, r->n);
    for (int i = 0; i < r->nstorages; i++) free(r->storages[i].key);
    free(r->storages);
    memset(r, 0, sizeof *r);
}

int bl_pickle_state_dict(const char *name, const uint8_t *p, size_t n, bl_pk_result *out, bl_err *e) {
    memset(out, 0, sizeof *out);
    pk k;
    memset(&k, 0, sizeof k);
    k.name = name;
    k.res = out;
    k.e = e;
    pv *top = NULL;
    int rc = pk_run(&k, p, n, &top);
    if (rc == 0 && top->type != PV_DICT) rc = bl_fail(e, "%s: the pickle is not a dict of tensors", name);
    if (rc == 0) {
        int nt = top->n / 2;
        out->t = calloc((size_t)nt + 1, sizeof *out->t);
        if (!out->t) rc = bl_fail(e, "%s: out of memory", name);
        for (int i = 0; rc == 0 && i < nt; i++) {
            pv *key = top->items[2 * i], *val = top->items[2 * i + 1];
            if (key->type != PV_STR || strlen(key->s) != key->slen) {
                rc = bl_fail(e, "%s: the state dict has a key that is not a string", name);
                break;
            }
            if (val->type != PV_TENSOR) {
                rc = bl_fail(e, "%s: '%.100s' is not a tensor: only tensors are read", name, key->s);
                break;
            }
            bl_src_tensor *t = &out->t[out->n];
            *t = *val->t;
            t->name = malloc(key->slen + 1);
            if (!t->name) { rc = bl_fail(e, "%s: out of memory", name); break; }
            memcpy(t->name, key->s, key->slen + 1);
            out->n++;
        }
    }
    pk_free_all(&k);
    if (rc < 0) bl_pk_result_free(out);
    return rc;
}
