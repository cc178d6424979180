// convert_lib.mjs — the streaming converter's WebAssembly exports (core/api/wasm_convert.c)
// driven from JS as the page's worker drives them: a handle per conversion, each chunk copied
// into the handle's chunk buffer and pushed. Used by tests/e2e/convert_stream.test.mjs and
// bench/convert_bench.mjs.
import { readFileSync, existsSync, openSync, readSync, closeSync, fstatSync } from 'node:fs';
import path from 'node:path';

export const DT = { f32: 0, f16: 1, int8: 2 };

export class Converter {
  // opts: { dtype: 0|1|2, maxBytes: number, measure: store the attention fidelity, as the page
  // and `bertlens convert` do (default) }
  constructor(M, { dtype = 2, maxBytes = 0, measure = true } = {}) {
    this.M = M;
    this.enc = new TextEncoder();
    const o = M._malloc(16);   // blw_conv_opts {int32 dtype, int32 measure, f64 max_bytes}
    M.HEAP32[o >> 2] = dtype;
    M.HEAP32[(o >> 2) + 1] = measure ? 1 : 0;
    M.HEAPF64[(o + 8) >> 3] = maxBytes;
    this.h = M._blw_conv_new(o);
    M._free(o);
    if (!this.h) throw new Error('blw_conv_new: out of memory');
  }
  error() { return this.M.UTF8ToString(this.M._blw_conv_error(this.h)); }
  // bytes (Uint8Array) into a temporary buffer for fn(ptr, len)
  withBytes(b, fn) {
    const p = this.M._malloc(b.length + 1);
    this.M.HEAPU8.set(b, p);
    try { return fn(p, b.length); } finally { this.M._free(p); }
  }
  setConfig(b) { return this.withBytes(b, (p, n) => this.M._blw_conv_set_config(this.h, p, n)); }
  setTokenizerFile(name, b) {
    return this.withBytes(this.enc.encode(name), (np, nl) => this.withBytes(b, (p, n) => this.M._blw_conv_set_tokenizer_file(this.h, np, nl, p, n)));
  }
  setIndex(name, b) {
    return this.withBytes(this.enc.encode(name), (np, nl) => this.withBytes(b, (p, n) => this.M._blw_conv_set_index(this.h, np, nl, p, n)));
  }
  files() {
    const out = [];
    for (let i = 0; ; i++) {
      const p = this.M._blw_conv_file(this.h, i);
      if (!p) return out;
      out.push(this.M.UTF8ToString(p));
    }
  }
  beginFile(name, total = -1) { return this.withBytes(this.enc.encode(name), (np, nl) => this.M._blw_conv_begin_file(this.h, np, nl, total)); }
  push(chunk) {
    const p = this.M._blw_conv_chunk(this.h, chunk.length);
    if (!p) return -1;
    this.M.HEAPU8.set(chunk, p);
    return this.M._blw_conv_push(this.h, p, chunk.length);
  }
  endFile() { return this.M._blw_conv_end_file(this.h); }
  finish() { return this.M._blw_conv_finish(this.h); }
  progress() {
    const p = this.M._blw_conv_progress(this.h) >> 3, F = this.M.HEAPF64;
    const k = ['bytes', 'fileBytes', 'fileTotal', 'tensorsDone', 'tensorsTotal', 'memBytes', 'peakBytes', 'outBytes', 'heapBytes', 'outputLen'];
    return Object.fromEntries(k.map((n, i) => [n, F[p + i]]));
  }
  // the weights file as a copy in JS memory (frees the WASM buffer)
  takeOutput() {
    const len = this.progress().outputLen, p = this.M._blw_conv_take_output(this.h);
    if (!p) return null;
    const out = this.M.HEAPU8.slice(p, p + len);
    this.M._free(p);
    return out;
  }
  free() { if (this.h) this.M._blw_conv_free(this.h); this.h = 0; }
}

// Feed a file through c in chunks of sizes from nextSize() (read from disk as it goes, so
// node's memory holds one chunk, like a download). known: announce the size.
export function feedFile(c, file, name, nextSize, known = true, onChunk = null) {
  const fd = openSync(file, 'r');
  const total = fstatSync(fd).size;
  try {
    if (c.beginFile(name, known ? total : -1) < 0) return -1;
    const buf = Buffer.allocUnsafe(1 << 22);
    for (let off = 0; off < total;) {
      const n = Math.min(nextSize(), total - off, buf.length);
      readSync(fd, buf, 0, n, off);
      if (c.push(buf.subarray(0, n)) < 0) return -1;
      off += n;
      if (onChunk) onChunk(off, total);
    }
    return c.endFile();
  } finally { closeSync(fd); }
}

// A Hugging Face directory through the converter, as the worker does it: config, tokenizer
// files, the index when sharded, then the weights. Returns { rc, out, error, progress,
// finishedAt } (finishedAt: process.hrtime.bigint() when bl_conv_finish returned, before the
// output is copied out of WASM memory).
export function convertDir(M, dir, { dtype = 2, maxBytes = 0, measure = true, nextSize = () => 1 << 20, known = true, onChunk = null } = {}) {
  const c = new Converter(M, { dtype, maxBytes, measure });
  const done = (rc) => {
    const r = { rc, error: rc < 0 ? c.error() : '', progress: c.progress(), out: null, finishedAt: process.hrtime.bigint() };
    if (rc === 0) r.out = c.takeOutput();
    c.free();
    return r;
  };
  try {
    const f = (n) => path.join(dir, n);
    if (c.setConfig(readFileSync(f('config.json'))) < 0) return done(-1);
    for (const n of ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
      if (existsSync(f(n)) && c.setTokenizerFile(n, readFileSync(f(n))) < 0) return done(-1);
    let weights = null;
    for (const [one, idx] of [['model.safetensors', 'model.safetensors.index.json'], ['pytorch_model.bin', 'pytorch_model.bin.index.json']]) {
      if (existsSync(f(one))) { weights = [one]; break; }
      if (existsSync(f(idx))) {
        if (c.setIndex(idx, readFileSync(f(idx))) < 0) return done(-1);
        weights = c.files();
        break;
      }
    }
    if (!weights) throw new Error(`${dir}: no weights file`);
    for (const w of weights) if (feedFile(c, f(w), w, nextSize, known, onChunk) < 0) return done(-1);
    return done(c.finish());
  } catch (e) { c.free(); throw e; }
}
