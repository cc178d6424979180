/* convert_stream.h — internals of the streaming converter (convert_stream.c) shared with its
   readers: the safetensors header (safetensors.c), the restricted torch pickle (pickle.c) and
   the streaming zip reader (zip.c). Not part of the public API; the fuzzers call the readers
   directly. */
#ifndef BL_CONVERT_STREAM_H
#define BL_CONVERT_STREAM_H
#include "base/internal.h"

/* Source element types the converter reads; the others only have a size (ignored tensors). */
enum { BL_SRC_F32 = 0, BL_SRC_F16 = 1, BL_SRC_BF16 = 2, BL_SRC_OTHER = 3 };

/* One tensor of a checkpoint file. begin/end: byte range in the stream that carries its data
   (safetensors: the data section after the header; torch: its storage entry data/KEY). */
typedef struct {
    char *name;            /* owned, NUL-terminated */
    char dtname[24];       /* as the file spells it: "F32", "BF16", "LongStorage", ... */
    int dtype;             /* BL_SRC_* */
    int esize;             /* bytes per element */
    int ndim;
    int64_t shape[8];
    uint64_t begin, end;
    int storage;           /* torch: index into bl_pk_result.storages; -1 for safetensors */
} bl_src_tensor;

void bl_src_tensors_free(bl_src_tensor *t, int n);

/* ---- safetensors.c */
/* Validate a safetensors JSON header (hl bytes) and list its tensors. data_len: bytes after
   the header when the file size is known, UINT64_MAX otherwise (then data_offsets past the end
   show up as a truncated file instead). Checks: an object of {dtype, shape, data_offsets},
   known dtypes, shape × dtype size = the byte span, offsets inside the data, no overlaps.
   *max_end: the end of the last tensor's data. Messages start with `name`. */
int bl_st_header(const char *name, const uint8_t *json, size_t hl, uint64_t data_len,
                 bl_src_tensor **out, int *n, uint64_t *max_end, bl_err *e);

/* ---- pickle.c */
typedef struct {
    char *key;             /* entry data/KEY in the zip */
    int dtype, esize;      /* BL_SRC_*, bytes per element */
    char dtname[24];
    uint64_t numel;
} bl_pk_storage;

typedef struct {
    bl_src_tensor *t;      /* begin/end: bytes in storage t[i].storage */
    int n;
    bl_pk_storage *storages;
    int nstorages;
} bl_pk_result;

/* Read a torch.save state dict pickle (data.pkl) without executing anything: only the opcodes
   and GLOBALs torch emits for a dict of tensors are understood; anything else is an error
   naming it. Tensors must be contiguous row-major and lie inside their storage. */
int bl_pickle_state_dict(const char *name, const uint8_t *p, size_t n, bl_pk_result *out, bl_err *e);
void bl_pk_result_free(bl_pk_result *r);

/* ---- zip.c: a zip read front to back as it arrives (torch.save's format: stored entries,
   sizes in the local headers or in data descriptors, ZIP64). */
typedef struct bl_zip bl_zip;
typedef struct {
    void *user;
    /* An entry starts. *size: its size from the local header, or -1 when it follows in a data
       descriptor; the callback may set it when it knows better (a torch storage's size comes
       from the pickle). *buffer = 1: deliver the entry whole to end() instead of to data()
       (needed when the size is unknown). Return 0 or -1. */
    int (*begin)(void *user, const char *name, int64_t *size, int *buffer, bl_err *e);
    int (*data)(void *user, const uint8_t *p, size_t n, bl_err *e);
    int (*end)(void *user, const uint8_t *whole, size_t n, bl_err *e);
} bl_zip_cb;

bl_zip *bl_zip_new(const char *name, const bl_zip_cb *cb, size_t max_buffer, bl_err *e);
void bl_zip_free(bl_zip *z);
int bl_zip_push(bl_zip *z, const uint8_t *p, size_t n, bl_err *e);
/* 0 when the end of central directory record has been read, else -1 with a message. */
int bl_zip_finish(bl_zip *z, bl_err *e);
/* Bytes the zip reader holds right now (buffered entries). */
size_t bl_zip_buffered(const bl_zip *z);

typedef struct { uint32_t t[4][256]; } bl_crc_table;
void bl_crc_init(bl_crc_table *t);
uint32_t bl_crc32(const bl_crc_table *t, uint32_t crc, const uint8_t *p, size_t n);

#endif
