// lib.mjs — shared helpers of the web tests: a tiny test harness, the WASM core loaded in node
// through the same exports the worker uses, and the native CLI.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
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

/* A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
    s.on('error', reject);
  });
}

/* ./serve.sh on a free port, once it answers: { proc, base, port }; the caller kills proc. */
export async function startServe() {
  const port = await freePort();
  const proc = spawn(path.join(ROOT, 'serve.sh'), [String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 600; i++) {   // the build may run first (up to a few minutes on a cold tree)
    if (proc.exitCode !== null) throw new Error(`serve.sh exited: ${log}`);
    try { if ((await fetch(base)).ok) return { proc, base, port }; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  proc.kill();
  throw new Error(`serve.sh did not answer on ${base}: ${log}`);
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
  json(ptr) { return ptr ? JSON.parse(this.M.UTF8ToString(ptr)) : null; }
  // the layouts of bl_view_opts and bl_hit and the hit kinds' names (blw_abi), read once
  abi() { return this._abi || (this._abi = this.json(this.M._blw_abi())); }
  info() { return this.json(this.M._blw_model_info()); }
  // a model list / shard manifest resolved by the core (text in, JSON out; null when invalid)
  modelList(text) { return this.withText(text, (p, l) => this.json(this.M._blw_model_list(p, l))); }
  shardManifest(text, size = -1, sha = '') {
    return this.withText(text, (p, l) => this.withText(sha, (ps) => this.json(this.M._blw_shard_manifest(p, l, size, ps))));
  }
  withText(s, fn) {
    const b = this.enc.encode(s), p = this.M._malloc(b.length + 1);
    this.M.HEAPU8.set(b, p);
    this.M.HEAPU8[p + b.length] = 0;
    try { return fn(p, b.length); } finally { this.M._free(p); }
  }
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
    const M = this.M, n = M._blw_n(), c = this.info().config, len = c.layers * c.heads * n * n;
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
    const L = this.abi().view_opts, ptr = M._blw_view_opts();
    const values = { view: o.view ?? 0, layer: o.layer ?? 0, head: o.head ?? 0, colormap: o.colormap ?? 0, dark: o.dark ? 1 : 0,
      scale: o.scale ?? 1, width: o.width ?? 600, hide_special: o.hideSpecial ? 1 : 0, pair_filter: o.pairFilter ?? 0,
      threshold: o.threshold ?? 0, vmax: o.vmax ?? 0, token: o.token ?? -1, hover_x: o.hoverX ?? -1, hover_y: o.hoverY ?? -1 };
    M.HEAPU8.fill(0, ptr, ptr + L.size);
    for (const [k, v] of Object.entries(values)) {
      if (!L.fields[k]) throw new Error(`bl_view_opts has no field ${k}`);
      (L.fields[k][1] === 'f32' ? M.HEAPF32 : M.HEAP32)[(ptr + L.fields[k][0]) >> 2] = v;
    }
    const p = M._blw_render();
    if (!p) return null;
    const w = M._blw_fb_width(), h = M._blw_fb_height();
    return { w, h, pixels: M.HEAPU8.slice(p, p + w * h * 4) };
  }
  hit(x, y) {
    const M = this.M, p = M._blw_hit(x, y), out = {};
    for (const [k, f] of Object.entries(this.abi().hit.fields)) out[k] = (f[1] === 'f32' ? M.HEAPF32 : M.HEAP32)[(p + f[0]) >> 2];
    out.kind = this.abi().hit_kinds[out.kind];   // by name, as the worker gives it to the page
    return out;
  }
}
