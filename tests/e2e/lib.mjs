// lib.mjs — shared helpers of the web tests: a tiny test harness, the WASM core loaded in node
// through the same exports the worker uses, and the native CLI.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

let run = 0, failed = 0;
export function check(cond, msg) {
  run++;
  if (!cond) { failed++; console.error(`FAIL: ${msg}`); }
  return !!cond;
}
export function summary(name) {
  console.log(`${name}: ${run} checks, ${failed} failed`);
  return failed ? 1 : 0;
}

/* --key value / --flag arguments */
export function args(argv = process.argv.slice(2)) {
  const o = {};
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) continue;
    const k = argv[i].slice(2);
    o[k] = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : true;
  }
  return o;
}

export function cli(bin, ...a) {
  return execFileSync(bin, a, { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}
export function cliJson(bin, ...a) { return JSON.parse(cli(bin, ...a)); }

/* The Emscripten module from the site dir, with the wasm bytes given directly (node 20's
   experimental fetch would otherwise be tried on a file path). */
// name: 'bertlens_core' or the threaded 'bertlens_core_mt' (its pthreads are node workers that
// load the same script: mainScriptUrlOrBlob)
export async function loadCore(siteDir, name = 'bertlens_core') {
  const require = createRequire(import.meta.url);
  const js = path.join(siteDir, `${name}.js`);
  const factory = require(js);
  return factory({ wasmBinary: readFileSync(path.join(siteDir, `${name}.wasm`)), mainScriptUrlOrBlob: js });
}

/* The same calls worker.js makes. */
export class Core {
  constructor(M) { this.M = M; this.enc = new TextEncoder(); }
  error() { return this.M.UTF8ToString(this.M._blw_error()); }
  give(bytes) {
    const p = this.M._malloc(bytes.length);
    this.M.HEAPU8.set(bytes, p);
    return p;
  }
  loadModel(bytes) { return this.M._blw_model_load(this.give(bytes), bytes.length, 0); }
  loadFont(bytes) { return this.M._blw_font_load(this.give(bytes), bytes.length); }
  config(f) { return this.M._blw_config(f); }
  run(a, b = null, k = 5) {
    const M = this.M, ab = this.enc.encode(a), pa = M._malloc(ab.length + 1);
    M.HEAPU8.set(ab, pa);
    let pb = 0, lb = -1;
    if (b !== null) {
      const bb = this.enc.encode(b);
      pb = M._malloc(bb.length + 1);
      M.HEAPU8.set(bb, pb);
      lb = bb.length;
    }
    const n = M._blw_run(pa, ab.length, pb, lb, k);
    M._free(pa);
    if (pb) M._free(pb);
    return n;
  }
  tokens() {
    const n = this.M._blw_n(), t = [];
    for (let i = 0; i < n; i++) t.push(this.M.UTF8ToString(this.M._blw_token(i)));
    return t;
  }
  i32(p, n) { return Array.from(this.M.HEAP32.subarray(p >> 2, (p >> 2) + n)); }
  ids() { return this.i32(this.M._blw_ids(), this.M._blw_n()); }
  typeIds() { return this.i32(this.M._blw_type_ids(), this.M._blw_n()); }
  // every map as floats, whichever way the run kept them (blw_attention or blw_attention_u16)
  attention() {
    const M = this.M, n = M._blw_n(), len = this.config(2) * this.config(3) * n * n;
    const p = M._blw_attention() >> 2;
    if (p) return M.HEAPF32.slice(p, p + len);
    const p16 = M._blw_attention_u16() >> 1;
    return Float32Array.from(M.HEAPU16.subarray(p16, p16 + len), (x) => x / 65535);
  }
  mlm() {
    const M = this.M, c = M._blw_mlm_count(), k = M._blw_mlm_k();
    const pos = this.i32(M._blw_mlm_pos(), c), ids = this.i32(M._blw_mlm_ids(), c * k);
    const pp = M._blw_mlm_p() >> 2;
    return pos.map((position, i) => ({
      position,
      top: ids.slice(i * k, (i + 1) * k).map((id, r) => ({ id, token: M.UTF8ToString(M._blw_vocab_token(id)), p: M.HEAPF32[pp + i * k + r] })),
    }));
  }
  render(o) {
    const M = this.M;
    const p = M._blw_render(o.view ?? 0, o.layer ?? 0, o.head ?? 0, o.colormap ?? 0, o.dark ? 1 : 0, o.scale ?? 1,
      o.width ?? 600, o.hideSpecial ? 1 : 0, o.pairFilter ?? 0, o.threshold ?? 0, o.vmax ?? 0, o.token ?? -1,
      o.hoverX ?? -1, o.hoverY ?? -1);
    if (!p) return null;
    const w = M._blw_fb_width(), h = M._blw_fb_height();
    return { w, h, pixels: M.HEAPU8.slice(p, p + w * h * 4) };
  }
  hit(x, y) {
    const p = this.M._blw_hit(x, y) >> 2, v = this.M.HEAP32.subarray(p, p + 7);
    return { kind: v[0], from: v[1], to: v[2], layer: v[3], head: v[4], value: this.M.HEAPF32[p + 5], side: v[6] };
  }
}
