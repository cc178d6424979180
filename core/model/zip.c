/* zip.c — a zip archive read front to back as its bytes arrive, for torch.save's format
   (pytorch_model.bin): stored (uncompressed) entries, each a local header, its data and, when
   general purpose flag bit 3 is set (torch/miniz always sets it), a data descriptor with the
   CRC-32 and sizes after the data instead of in the header; ZIP64 sizes; then the central
   directory and the end record, which are checked for completeness but not needed.
   An entry whose size the caller does not know is buffered until a descriptor whose CRC-32 and
   size match the bytes before it: the signature alone could occur inside the data, the three
   together cannot by accident. Every entry's CRC-32 is checked, so a corrupted download is
   caught here. */
#include "model/convert_stream.h"
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- CRC-32 (slicing by 4) */
/* The tables live in each reader (4 KiB), not in a global: the core keeps no mutable state. */
void bl_crc_init(bl_crc_table *t) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t->t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int k = 1; k < 4; k++) t->t[k][i] = (t->t[k - 1][i] >> 8) ^ t->t[0][t->t[k - 1][i] & 0xff];
}

uint32_t bl_crc32(const bl_crc_table *t, uint32_t crc, const uint8_t *p, size_t n) {
    uint32_t c = ~crc;
    while (n >= 4) {
        c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        c = t->t[3][c & 0xff] ^ t->t[2][(c >> 8) & 0xff] ^ t->t[1][(c >> 16) & 0xff] ^ t->t[0][c >> 24];
        p += 4;
        n -= 4;
    }
    while (n--) c = t->t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
    return ~c;
}

/* ---------------------------------------------------------------- reader */
enum { ZS_SIG, ZS_LFH, ZS_VAR, ZS_DATA, ZS_SCAN, ZS_DESC, ZS_CDH, ZS_Z64, ZS_LOC, ZS_EOCD, ZS_SKIP, ZS_DONE };

#define SIG_LFH 0x04034b50u
#define SIG_CDH 0x02014b50u
#define SIG_DD 0x08074b50u
#define SIG_Z64 0x06064b50u
#define SIG_LOC 0x07064b50u
#define SIG_EOCD 0x06054b50u

struct bl_zip {
    char name[256];
    bl_crc_table crc_tab;
    bl_zip_cb cb;
    size_t max_buffer;
    int state;
    uint8_t acc[64];          /* fixed-size parts of records */
    size_t nacc, want;
    uint8_t *var;             /* name + extra of a local header */
    size_t nvar, wantvar;
    uint64_t skip;            /* ZS_SKIP: bytes left; then ZS_SIG (or ZS_DONE after the end record) */
    int skip_then_done;
    int entries;
    /* the current entry */
    char ename[512];
    uint32_t flags, hcrc;
    int zip64;
    uint64_t left, size;      /* known size: bytes left, total */
    int buffering;
    uint8_t *buf;             /* ZS_SCAN or buffering: the entry so far */
    size_t nbuf, cbuf, scan;
    uint32_t crc, scan_crc;
    int unknown;              /* size unknown: find the descriptor by scanning */
};

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

bl_zip *bl_zip_new(const char *name, const bl_zip_cb *cb, size_t max_buffer, bl_err *e) {
    bl_zip *z = calloc(1, sizeof *z);
    if (!z) { bl_fail(e, "%s: out of memory", name); return NULL; }
    snprintf(z->name, sizeof z->name, "%s", name);
    z->cb = *cb;
    z->max_buffer = max_buffer;
    z->state = ZS_SIG;
    z->want = 4;
    bl_crc_init(&z->crc_tab);
    return z;
}

void bl_zip_free(bl_zip *z) {
    if (!z) return;
    free(z->var);
    free(z->buf);
    free(z);
}

size_t bl_zip_buffered(const bl_zip *z) { return z ? z->cbuf + z->nvar : 0; }

/* Move bytes into z->acc until it holds z->want; 1 when it does. */
static int take(bl_zip *z, const uint8_t **p, size_t *n) {
    size_t k = z->want - z->nacc < *n ? z->want - z->nacc : *n;
    memcpy(z->acc + z->nacc, *p, k);
    z->nacc += k;
    *p += k;
    *n -= k;
    return z->nacc == z->want;
}

static void expect(bl_zip *z, int state, size_t want) {
    z->state = state;
    z->nacc = 0;
    z->want = want;
}

static int buf_add(bl_zip *z, const uint8_t *p, size_t n, bl_err *e) {
    if (n > z->max_buffer - z->nbuf)
        return bl_fail(e, "%s: entry '%s' is over %zu MB%s", z->name, z->ename, z->max_buffer >> 20,
                       z->unknown ? " and its size is not given before its data" : "");
    if (z->nbuf + n > z->cbuf) {
        size_t nc = z->cbuf ? z->cbuf : 4096;
        while (nc < z->nbuf + n) nc = nc > z->max_buffer / 2 ? z->max_buffer : nc * 2;
        uint8_t *nb = realloc(z->buf, nc);
        if (!nb) return bl_fail(e, "%s: out of memory", z->name);
        z->buf = nb;
        z->cbuf = nc;
    }
    memcpy(z->buf + z->nbuf, p, n);
    z->nbuf += n;
    return 0;
}

static int entry_end(bl_zip *z, bl_err *e) {
    int rc = z->cb.end ? z->cb.end(z->cb.user, z->buf, z->buffering ? z->nbuf : 0, e) : 0;
    free(z->buf);
    z->buf = NULL;
    z->nbuf = z->cbuf = 0;
    z->entries++;
    expect(z, ZS_SIG, 4);
    return rc;
}

static int local_header(bl_zip *z, bl_err *e) {
    const uint8_t *h = z->acc;
    uint32_t method = rd16(h + 8), nlen = rd16(h + 26), xlen = rd16(h + 28);
    z->flags = rd16(h + 6);
    z->hcrc = rd32(h + 14);
    uint64_t csize = rd32(h + 18), usize = rd32(h + 22);
    snprintf(z->ename, sizeof z->ename, "%.*s", (int)(nlen < 500 ? nlen : 500), (const char *)z->var);
    if (memchr(z->var, 0, nlen)) return bl_fail(e, "%s: an entry name contains a NUL byte", z->name);
    /* ZIP64 extra field (id 1): the 8-byte sizes replace 0xFFFFFFFF ones, in this order */
    z->zip64 = 0;
    for (uint32_t o = nlen; o + 4 <= nlen + xlen;) {
        uint32_t id = rd16(z->var + o), sz = rd16(z->var + o + 2);
        if (o + 4 + sz > nlen + xlen) return bl_fail(e, "%s: entry '%s': bad extra field", z->name, z->ename);
        if (id == 1) {
            z->zip64 = 1;
            const uint8_t *q = z->var + o + 4, *qe = q + sz;
            if (usize == 0xFFFFFFFFu && q + 8 <= qe) { usize = rd64(q); q += 8; }
            if (csize == 0xFFFFFFFFu && q + 8 <= qe) { csize = rd64(q); q += 8; }
        }
        o += 4 + sz;
    }
    if (z->flags & 1) return bl_fail(e, "%s: entry '%s' is encrypted", z->name, z->ename);
    if (method != 0)
        return bl_fail(e, "%s: entry '%s' is compressed (method %u): torch.save stores entries uncompressed",
                       z->name, z->ename, method);
    int64_t size = -1;
    if (!(z->flags & 8) || csize) {
        if (csize != usize) return bl_fail(e, "%s: entry '%s': stored entry with two sizes", z->name, z->ename);
        size = (int64_t)(csize > INT64_MAX ? INT64_MAX : csize);
    }
    int64_t hsize = size;
    z->buffering = 0;
    if (z->cb.begin && z->cb.begin(z->cb.user, z->ename, &size, &z->buffering, e) < 0) return -1;
    if (hsize >= 0 && size != hsize)
        return bl_fail(e, "%s: entry '%s' is %lld bytes, %lld expected", z->name, z->ename, (long long)hsize, (long long)size);
    free(z->var);
    z->var = NULL;
    z->nvar = 0;
    z->crc = 0;
    z->nbuf = 0;
    z->unknown = size < 0;
    if (z->unknown) {
        z->buffering = 1;
        z->scan = 0;
        z->scan_crc = 0;
        z->state = ZS_SCAN;
    } else {
        z->left = z->size = (uint64_t)size;
        z->state = ZS_DATA;
    }
    return 0;
}

/* Known-size entry complete: check the CRC-32 (and the descriptor's sizes) */
static int data_done(bl_zip *z, bl_err *e) {
    if (z->flags & 8) {
        expect(z, ZS_DESC, 4);
        return 0;
    }
    if (z->crc != z->hcrc) return bl_fail(e, "%s: entry '%s': CRC-32 mismatch (corrupted download)", z->name, z->ename);
    return entry_end(z, e);
}

static int desc_check(bl_zip *z, const uint8_t *d, int wide, bl_err *e) {
    uint64_t cs = wide ? rd64(d + 4) : rd32(d + 4), us = wide ? rd64(d + 12) : rd32(d + 8);
    if (rd32(d) != z->crc) return bl_fail(e, "%s: entry '%s': CRC-32 mismatch (corrupted download)", z->name, z->ename);
    if (cs != z->size || us != z->size)
        return bl_fail(e, "%s: entry '%s' is %llu bytes, its data descriptor says %llu", z->name, z->ename,
                       (unsigned long long)z->size, (unsigned long long)cs);
    return entry_end(z, e);
}

/* ZS_SCAN: is there a data descriptor at z->scan? 1 found (*dlen), 0 no, -1 need more bytes */
static int scan_at(const bl_zip *z, size_t q, size_t *dlen) {
    const uint8_t *b = z->buf + q;
    size_t have = z->nbuf - q;
    if (have < 4) return -1;
    if (rd32(b) != SIG_DD) return 0;
    if (have < 16) return -1;
    if (rd32(b + 4) == z->scan_crc && rd32(b + 8) == q && rd32(b + 12) == q && q <= 0xFFFFFFFFu) { *dlen = 16; return 1; }
    if (!z->zip64) return 0;
    if (have < 24) return -1;
    if (rd32(b + 4) == z->scan_crc && rd64(b + 8) == q && rd64(b + 16) == q) { *dlen = 24; return 1; }
    return 0;
}

int bl_zip_push(bl_zip *z, const uint8_t *p, size_t n, bl_err *e) {
    while (n > 0) {
        switch (z->state) {
        case ZS_SIG:
            if (!take(z, &p, &n)) break;
            switch (rd32(z->acc)) {
            case SIG_LFH: expect(z, ZS_LFH, 30); memcpy(z->acc, "PK\3\4", 4); z->nacc = 4; break;
            case SIG_CDH: expect(z, ZS_CDH, 46); memcpy(z->acc, "PK\1\2", 4); z->nacc = 4; break;
            case SIG_Z64: expect(z, ZS_Z64, 8); break;
            case SIG_LOC: expect(z, ZS_LOC, 16); break;
            case SIG_EOCD: expect(z, ZS_EOCD, 18); break;
            default:
                if (z->entries == 0)
                    return bl_fail(e, "%s: not a zip file (torch.save's format; the legacy format of torch < 1.6 is not read)", z->name);
                return bl_fail(e, "%s: unexpected bytes after entry '%s' (not a zip record)", z->name, z->ename);
            }
            break;
        case ZS_LFH:
            if (!take(z, &p, &n)) break;
            z->wantvar = rd16(z->acc + 26) + (size_t)rd16(z->acc + 28);
            free(z->var);
            z->var = malloc(z->wantvar + 1);
            if (!z->var) return bl_fail(e, "%s: out of memory", z->name);
            z->nvar = 0;
            z->state = ZS_VAR;
            if (z->wantvar == 0) {
                if (local_header(z, e) < 0) return -1;
                if (z->state == ZS_DATA && z->left == 0 && data_done(z, e) < 0) return -1;
            }
            break;
        case ZS_VAR: {
            size_t k = z->wantvar - z->nvar < n ? z->wantvar - z->nvar : n;
            memcpy(z->var + z->nvar, p, k);
            z->nvar += k;
            p += k;
            n -= k;
            if (z->nvar == z->wantvar && local_header(z, e) < 0) return -1;
            if (z->state == ZS_DATA && z->left == 0 && data_done(z, e) < 0) return -1;
            break;
        }
        case ZS_DATA: {
            size_t k = z->left < n ? (size_t)z->left : n;
            z->crc = bl_crc32(&z->crc_tab, z->crc, p, k);
            if (z->buffering) { if (buf_add(z, p, k, e) < 0) return -1; }
            else if (z->cb.data && z->cb.data(z->cb.user, p, k, e) < 0) return -1;
            p += k;
            n -= k;
            z->left -= k;
            if (z->left == 0 && data_done(z, e) < 0) return -1;
            break;
        }
        case ZS_SCAN: {
            size_t added = n;
            if (buf_add(z, p, n, e) < 0) return -1;
            p += n;
            n = 0;
            for (;;) {
                size_t dlen = 0;
                int r = scan_at(z, z->scan, &dlen);
                if (r < 0) break;
                if (r == 0) {
                    z->scan_crc = bl_crc32(&z->crc_tab, z->scan_crc, z->buf + z->scan, 1);
                    z->scan++;
                    continue;
                }
                size_t rest = z->nbuf - z->scan - dlen;   /* bytes after the descriptor: from this chunk */
                if (rest > added) return bl_fail(e, "%s: internal error in the zip reader", z->name);
                z->nbuf = z->scan;
                z->size = z->scan;
                p -= rest;
                n = rest;
                if (entry_end(z, e) < 0) return -1;
                break;
            }
            break;
        }
        case ZS_DESC:
            if (!take(z, &p, &n)) break;
            if (z->want == 4) {   /* signature, or the CRC of a descriptor without one */
                size_t rest = z->zip64 ? 16 : 8;
                if (rd32(z->acc) == SIG_DD) { z->want = 4 + 4 + rest; }
                else { z->want = 4 + rest; }
                break;
            }
            if (desc_check(z, z->want == 12 || z->want == 20 ? z->acc : z->acc + 4, z->zip64, e) < 0) return -1;
            break;
        case ZS_CDH:
            if (!take(z, &p, &n)) break;
            z->skip = (uint64_t)rd16(z->acc + 28) + rd16(z->acc + 30) + rd16(z->acc + 32);
            z->skip_then_done = 0;
            z->state = ZS_SKIP;
            break;
        case ZS_Z64:   /* the size of the rest of the record */
            if (!take(z, &p, &n)) break;
            z->skip = rd64(z->acc);
            z->skip_then_done = 0;
            z->state = ZS_SKIP;
            break;
        case ZS_LOC:
            if (!take(z, &p, &n)) break;
            expect(z, ZS_SIG, 4);
            break;
        case ZS_EOCD:
            if (!take(z, &p, &n)) break;
            z->skip = rd16(z->acc + 16);
            z->skip_then_done = 1;
            z->state = z->skip ? ZS_SKIP : ZS_DONE;
            break;
        case ZS_SKIP: {
            size_t k = z->skip < n ? (size_t)z->skip : n;
            p += k;
            n -= k;
            z->skip -= k;
            if (z->skip == 0) {
                if (z->skip_then_done) z->state = ZS_DONE;
                else expect(z, ZS_SIG, 4);
            }
            break;
        }
        case ZS_DONE:
            return bl_fail(e, "%s: %zu bytes after the end of the zip", z->name, n);
        }
    }
    return 0;
}

int bl_zip_finish(bl_zip *z, bl_err *e) {
    if (z->state == ZS_DONE) return 0;
    if (z->state == ZS_DATA || z->state == ZS_SCAN || z->state == ZS_DESC)
        return bl_fail(e, "%s: truncated: the file ends inside entry '%s'", z->name, z->ename);
    return bl_fail(e, "%s: truncated: the file ends before the zip's end record", z->name);
}
