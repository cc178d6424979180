/* worker.js — runs the WebAssembly core off the main thread: downloads the weights (with
   progress) straight into WASM memory, loads them, and answers 'update' messages (tokenize +
   forward when the text changed, then render, then hit test) with a framebuffer to blit.
   Messages are handled strictly one after another; the page coalesces its requests. */
'use strict';
// Threads where the page is cross-origin isolated (SharedArrayBuffer): serve.sh sends the COOP /
// COEP headers for it; GitHub Pages cannot and gets the single-thread core. Up to 4: this worker
// and the threaded core's pool of min(3, CPUs - 1) workers (web/wasm.cmake); the results are the
// same bit for bit either way.
let THREADS = self.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function'
  ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;   // = 1 + the core's pool
// The relaxed-SIMD core (bertlens_core_relaxed[_mt].js, web/wasm.cmake: the same exports, its
// int8 linear on i32x4.relaxed_dot_i8x16_i7x16_add_s, results bit-identical to SIMD128's) where
// this browser validates that instruction (RELAXED_PROBE: a function returning
// i32x4.relaxed_dot_i8x16_i7x16_add_s of three i8x16.splat(0)) and the site has it (a site built
// without clang-19 does not; nor does the single-file build, whose worker carries one core). The
// page's ?core=simd128 forces the SIMD128 core; it reaches here as the worker's name.
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17,
  0, 65, 0, 253, 15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 147, 2, 11]);
const CORE_ASKED = (/(?:^|&)core=(\w+)/.exec(self.name || '') || [])[1] || 'auto';
let RELAXED = CORE_ASKED !== 'simd128' && WebAssembly.validate(RELAXED_PROBE);
const coreFile = () => `bertlens_core${RELAXED ? '_relaxed' : ''}${THREADS > 1 ? '_mt' : ''}.js`;
let CORE = coreFile();
function importCore() {   // defines (or redefines) BertlensCore
  if (RELAXED) {
    try { importScripts(CORE); return; } catch (e) { console.warn(`bertlens: no relaxed-SIMD core (${e.message})`); }
    RELAXED = false;
    CORE = coreFile();
  }
  importScripts(CORE);
}
// A host that sends the headers but lacks the threaded core, or a browser that cannot start its
// workers, still gets the page, on one thread.
function singleThread(why) {
  console.warn(`bertlens: running on one thread (${why})`);
  THREADS = 1;
  CORE = coreFile();
  importCore();
}
try { importCore(); } catch (e) { if (THREADS === 1) throw e; singleThread(e.message); }
importScripts('cache.js', 'hub.js');   // models from the Hugging Face Hub, converted here and kept (web/hub.js)

const VIEW_IDS = { heatmap: 0, model: 1, head: 2, neuron: 3, rollout: 4, flow: 5, mlm: 6, task: 7, headmap: 8 };
const utf8 = new TextEncoder();
let M = null;              // the Emscripten module
let modelInfo = null;
let fontLoaded = false;
// WASM memory may grow to 1 GiB (MAXIMUM_MEMORY in web/wasm.cmake). A run whose activations and
// attention maps would not fit in what the model leaves is refused with a message by the core
// (blw_set_max_bytes) rather than failing inside malloc. The page may set a lower ceiling.
const HEAP_MAX = 1024 * 1048576, HEAP_MARGIN = 128 * 1048576;
let scratchCeiling = 0;    // bytes for one run's context; 0 = what the heap leaves

const post = (msg, transfer) => self.postMessage(msg, transfer || []);

class UserError extends Error {}   // a message meant for the person, shown as is

function coreError() { return M.UTF8ToString(M._blw_error()); }

function hex(bytes) { return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(''); }

function sha256At(ptr, len) {
  const out = M._malloc(32);
  M._blw_sha256(ptr, len, out);
  const h = hex(M.HEAPU8.subarray(out, out + 32));
  M._free(out);
  return h;
}

async function fetchOk(url, what) {
  let r;
  try {
    r = await fetch(url, { cache: 'no-cache' });
  } catch (e) {
    throw new UserError(`Could not download ${what} (${url}): ${e.message}`);
  }
  if (!r.ok) throw new UserError(`Could not download ${what} (${url}): HTTP ${r.status} ${r.statusText}`.trim());
  return r;
}

/* A JSON answer of the core (blw_abi, blw_model_info, blw_model_list, …), or a UserError
   saying what was wrong. */
function coreJson(ptr, what) {
  if (!ptr) throw new UserError(`${what}: ${coreError()}`);
  return JSON.parse(M.UTF8ToString(ptr));
}

/* The default model's files: {name, sharded, parts: [{url, label, size, sha256}]} in order (the
   parts are concatenated). The model list and the shard manifest are resolved by the core
   (weights/FORMAT.md, core/model/manifest.c); listText is weights/manifest.json's text. */
async function resolveModel(manifestUrl, listText) {
  const entry = withString(listText, (p, l) => coreJson(M._blw_model_list(p, l), manifestUrl));
  const fileUrl = new URL(entry.file, new URL(manifestUrl, self.location.href));
  if (!entry.sharded)
    return { name: entry.name, sharded: false, parts: [{ url: fileUrl.href, label: entry.file, size: entry.size, sha256: entry.sha256 }] };
  const smText = await (await fetchOk(fileUrl.href, 'the shard manifest')).text();
  const sm = withString(smText, (p, l) => withString(entry.sha256 || '', (ps) =>
    coreJson(M._blw_shard_manifest(p, l, entry.size ?? -1, ps), entry.file)));
  const parts = sm.parts.map((q) => ({ url: new URL(q.path, fileUrl).href, label: q.path, size: q.size, sha256: q.sha256 }));
  return { name: entry.name, sharded: true, parts };
}

/* Streams every part into one _malloc'd buffer, checking sizes and SHA-256 against the
   manifest; returns [ptr, len]. Progress is posted as bytes of total. */
async function download(model) {
  const known = model.parts.every((p) => Number.isSafeInteger(p.size) && p.size > 0);
  let total = known ? model.parts.reduce((s, p) => s + p.size, 0) : 0;
  const responses = [];
  if (!known) {  // no sizes in the manifest: ask the server (HEAD-free: open every response now)
    for (const p of model.parts) {
      const r = await fetchOk(p.url, p.label);
      const cl = Number(r.headers.get('Content-Length')), enc = r.headers.get('Content-Encoding');
      if (cl > 0 && (!enc || enc === 'identity')) {
        p.size = cl;
        responses.push(r);
      } else {   // compressed or chunked: the length on the wire is not the file's; read it whole
        p.bytes = new Uint8Array(await r.arrayBuffer());
        p.size = p.bytes.length;
        responses.push(null);
      }
      total += p.size;
    }
  }
  const ptr = M._malloc(total);
  if (!ptr) throw new UserError(`Not enough memory for the model (${(total / 1048576).toFixed(1)} MB)`);
  let off = 0, loaded = 0, lastPost = 0;
  try {
    for (let i = 0; i < model.parts.length; i++) {
      const p = model.parts[i];
      let got = 0, reader = null;
      if (p.bytes) {   // read whole above
        M.HEAPU8.set(p.bytes, ptr + off);
        got = p.size;
        loaded += got;
        p.bytes = null;
      } else {
        reader = (responses[i] || await fetchOk(p.url, p.label)).body.getReader();
      }
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        if (got + value.length > p.size) {
          reader.cancel();
          throw new UserError(`${p.label} is larger than the manifest says (${p.size} bytes): wrong or stale manifest`);
        }
        M.HEAPU8.set(value, ptr + off + got);   // HEAPU8 re-read each time: memory may have grown
        got += value.length;
        loaded += value.length;
        const now = performance.now();
        if (now - lastPost > 50) { post({ type: 'progress', loaded, total }); lastPost = now; }
      }
      if (got !== p.size) throw new UserError(`Download of ${p.label} was truncated: got ${got} of ${p.size} bytes. Retry.`);
      // Shard parts are checked against the manifest (weights/FORMAT.md). A single file is not
      // hashed twice: bl_model_load verifies the file's own payload SHA-256 anyway (~0.3 s
      // saved on bert-base), and the size check above catches a stale manifest.
      if (model.sharded) {
        const h = sha256At(ptr + off, p.size);
        if (h !== p.sha256)
          throw new UserError(`Checksum mismatch for ${p.label}: SHA-256 is ${h}, the manifest says ${p.sha256}. The file is corrupt or stale.`);
      }
      off += p.size;
    }
  } catch (e) {
    M._free(ptr);
    throw e;
  }
  post({ type: 'progress', loaded: total, total });
  return [ptr, total];
}

/* What the page shows of the model: the core's blw_model_info plus the name and the threads. */
function info(name, bytes) {
  const j = coreJson(M._blw_model_info(), 'model info'), c = j.config;
  return { name, bytes, vocab: c.vocab_size, hidden: c.hidden, layers: c.layers, heads: c.heads, maxPos: c.max_pos,
    hasMlm: j.has_mlm, dtype: j.dtype, threads: THREADS,
    // the WebAssembly core in use and the kernel table it runs (tests, bench)
    core: RELAXED ? 'relaxed' : 'simd128', coreFile: CORE, kernels: j.kernels,
    // the family, its task head (labels from config.id2label: untrusted text, drawn by the core
    // and shown with textContent only) and its mask token ([MASK], <mask>)
    family: j.family, head: j.head, hasHead: j.head !== 'none', labels: j.labels || [], maskToken: j.mask_token || '[MASK]',
    // the converter's measured attention deviation from the float model (or "not measured")
    fidelity: j.fidelity || null };
}

async function fetchBytes(url, what) {
  return new Uint8Array(await (await fetchOk(url, what)).arrayBuffer());
}

function loadFont(b, url) {
  if (fontLoaded) return;
  const p = M._malloc(b.length);
  M.HEAPU8.set(b, p);
  if (M._blw_font_load(p, b.length) !== 0) throw new UserError(`The font ${url} was rejected: ${coreError()}`);
  fontLoaded = true;
}

/* Hands a _malloc'd buffer to the core (which owns it from then on). */
/* flags: BL_LOAD_SKIP_CHECKSUM (1) for a file the converter has just written into this very
   buffer, whose payload SHA-256 it computed as it went: hashing 100 MB again would add ~0.5 s
   before the first view and check nothing new. Downloaded and stored files are always verified. */
const LOAD_SKIP_CHECKSUM = 1;
function loadModelBytes(ptr, len, name, flags = 0) {
  if (M._blw_model_load(ptr, len, flags) !== 0) {
    const why = coreError();
    throw new UserError(/checksum/i.test(why) ? `The model ${name} is corrupt (checksum mismatch): ${why}. Retry the download.`
      : `The model ${name} was rejected: ${why}`);
  }
  modelInfo = info(name, len);
  modelInfo.sha256 = modelChecksum();   // the payload SHA-256 the file stores: the view export names the model by it
  HUB.setCurrent(ptr, len, name);   // what "save as .bin" writes
  const left = HEAP_MAX - M._blw_heap_used() - HEAP_MARGIN;
  M._blw_set_max_bytes(Math.max(1048576, scratchCeiling > 0 ? Math.min(scratchCeiling, left) : left));
  return modelInfo;
}

/* V8 first runs new WebAssembly on its baseline compiler and swaps in optimised code only once a
   function has run for a while: the first forwards took 2-3x as long (n = 62 typed soon after
   load: 19.7 instead of 8 ms). Three throwaway runs of ~60 tokens before the first view (each
   replaced by the page's own first run) get the kernels tiered up (measured in node: two were
   enough, ~27 ms for the default model); capped at 150 ms for models too big for this to be cheap. */
function warmUp() {
  const t0 = performance.now(), text = Array.from({ length: 30 }, (_, i) => `word${i % 7}`).join(' ');
  for (let i = 0; i < 3 && performance.now() - t0 < 150; i++) withString(text, (p, l) => M._blw_run(p, l, 0, -1, 0));
  return performance.now() - t0;
}

/* The core with its threads set, or the single-thread core when the threaded one fails. */
async function startCore() {
  if (THREADS > 1) {
    try {
      // the threaded core's pthread workers load the same script by its URL
      const m = await BertlensCore({ mainScriptUrlOrBlob: new URL(CORE, self.location.href).href });
      if (m._blw_set_threads(THREADS) === 0) return m;
      singleThread(m.UTF8ToString(m._blw_error()));
    } catch (e) {
      singleThread(String(e && e.message ? e.message : e));
    }
  }
  return BertlensCore();
}

function withString(s, fn) {
  const b = utf8.encode(s);
  const p = M._malloc(b.length + 1);
  M.HEAPU8.set(b, p);
  M.HEAPU8[p + b.length] = 0;
  try { return fn(p, b.length); } finally { M._free(p); }
}

function i32(ptr, n) { return ptr ? Array.from(M.HEAP32.subarray(ptr >> 2, (ptr >> 2) + n)) : []; }

function runText(a, b, k) {
  const n = withString(a, (pa, la) => (b === null || b === undefined || b === ''
    ? M._blw_run(pa, la, 0, -1, k)
    : withString(b, (pb, lb) => M._blw_run(pa, la, pb, lb, k))));
  if (n < 0) throw new UserError(coreError());
  const tokens = [];
  const shown = [];   // the readable pieces the views draw (Ġ/▁ dropped, bytes decoded)
  for (let i = 0; i < n; i++) {
    tokens.push(M.UTF8ToString(M._blw_token(i)));
    shown.push(M.UTF8ToString(M._blw_token_shown(i)));
  }
  const hs = M._blw_head_size(), hp = M._blw_head_probs() >> 2;
  const headProbs = hs && hp ? Array.from(M.HEAPF32.subarray(hp, hp + hs)) : null;
  const mc = M._blw_mlm_count(), mk = M._blw_mlm_k();
  const mlmPos = i32(M._blw_mlm_pos(), mc), mlmIds = i32(M._blw_mlm_ids(), mc * mk);
  const mlmP = mc ? Array.from(M.HEAPF32.subarray(M._blw_mlm_p() >> 2, (M._blw_mlm_p() >> 2) + mc * mk)) : [];
  const mlm = mlmPos.map((pos, i) => ({
    position: pos,
    // token: the vocab's piece; shown: its readable form (Ġ/▁ dropped, bytes decoded)
    top: mlmIds.slice(i * mk, (i + 1) * mk).map((id, r) => ({ token: M.UTF8ToString(M._blw_vocab_token(id)), id, p: mlmP[i * mk + r],
      shown: M.UTF8ToString(M._blw_mlm_shown(i * mk + r)) })),
  }));
  attachLens(mlm, mk);
  return {
    n, tokens, shown, headProbs, nA: M._blw_n_a(), truncated: M._blw_truncated() === 1,
    ids: i32(M._blw_ids(), n), typeIds: i32(M._blw_type_ids(), n),
    starts: i32(M._blw_starts(), n), ends: i32(M._blw_ends(), n), mlm,
    att16: M._blw_attention_u16() !== 0,   // maps kept as round(p·65535): shown in the status line
  };
}

/* bl_view_opts and bl_hit by field name, at the offsets the core reports (blw_abi): no layout
   is repeated here. writeStruct zeroes the struct first and refuses a name the core lacks. */
let ABI = null;
function writeStruct(ptr, layout, values) {
  M.HEAPU8.fill(0, ptr, ptr + layout.size);
  for (const [k, v] of Object.entries(values)) {
    const f = layout.fields[k];
    if (!f) throw new Error(`the core has no field ${k}`);
    (f[1] === 'f32' ? M.HEAPF32 : M.HEAP32)[(ptr + f[0]) >> 2] = v;
  }
}
function readStruct(ptr, layout) {
  const out = {};
  for (const [k, f] of Object.entries(layout.fields)) out[k] = (f[1] === 'f32' ? M.HEAPF32 : M.HEAP32)[(ptr + f[0]) >> 2];
  return out;
}

function render(o, hover) {
  const hx = hover ? Math.round(hover.x) : -1, hy = hover ? Math.round(hover.y) : -1;
  writeStruct(M._blw_view_opts(), ABI.view_opts, {
    view: VIEW_IDS[o.view] ?? 0, layer: o.layer, head: o.head, colormap: o.colormap, dark: o.dark ? 1 : 0, scale: o.scale,
    width: Math.max(1, Math.round(o.width)), hide_special: o.hideSpecial ? 1 : 0, pair_filter: o.pairFilter,
    threshold: o.threshold, vmax: o.vmax || 0, token: o.token, hover_x: hx, hover_y: hy,
    ...analysisViewFields(o),
    stat_bar: o.statBar || 0, rank: o.rank ? 1 : 0, rank_from: o.rank ? o.rank.from : 0, rank_to: o.rank ? o.rank.to : 0,
    zoom_size: o.zoom ? o.zoom.size : 0, zoom_row: o.zoom ? o.zoom.row : 0, zoom_col: o.zoom ? o.zoom.col : 0,
  });
  const panels = comparePanels(o);   // compare mode: A and B beside the difference (drawn first: hits are the main view's)
  const t0 = performance.now();
  const p = compareShown(o) ? M._blw_compare_render(2, 0) : M._blw_render();
  if (!p) throw new UserError(`Drawing failed: ${coreError()}`);
  const t1 = performance.now();
  const w = M._blw_fb_width(), h = M._blw_fb_height();
  const pixels = framePixels(p, w * h * 4);   // a copy we can transfer
  return { w, h, pixels, hit: hover ? hitAt(hx, hy) : null, panels, core: { draw: t1 - t0, copy: performance.now() - t1 } };
}

/* The page hands each frame's buffer back once it has drawn it ('pixels-back'), and the next
   frame of the same size is copied into it: Chromium pays first-touch page faults on every fresh
   buffer, about 60 ms for the 13 MB head view at n = 512, against under 1 ms to refill one. */
const spare = [];
function framePixels(p, bytes) {
  const i = spare.findIndex((b) => b.byteLength === bytes);
  const px = i >= 0 ? new Uint8Array(spare.splice(i, 1)[0]) : new Uint8Array(bytes);
  px.set(M.HEAPU8.subarray(p, p + bytes));
  return px;
}

/* What is under (x, y): bl_hit with its kind by name ('cell', 'token', 'head', 'mlm'; null for
   nothing), the names the core gives in blw_abi's hit_kinds (BL_HIT_* in bertlens.h). */
function hitAt(x, y) {
  const h = readStruct(M._blw_hit(Math.round(x), Math.round(y)), ABI.hit);
  h.kind = h.kind > 0 ? ABI.hit_kinds[h.kind] : null;
  return h;
}

/* ---------------------------------------------------------------- value-weighted, words, selection, export
   o.vw: the views draw ‖α f(x)‖ (the run computed the norms: msg.run.vn); o.words: word pieces
   merged; o.sel: selected units (tokens, or words with o.words) merged into one group, so every
   view shows the selection's attention TO it summed over its members and FROM it averaged (the
   rule words follow, Clark et al. 2019). The groups go to the core with blw_set_groups. */
let groupsKey = '', groupInfo = null, groupsRun = null;   // groupsRun: a new run clears the core's groups   // groupInfo: {labels, units} of the groups shown, null: tokens
function analysisViewFields(o) {
  const sel = Array.isArray(o.sel) ? o.sel : [];
  const grouped = !!(o.words || sel.length > 1);
  const key = grouped && lastRun ? JSON.stringify([lastRun.n, lastRun.ids, !!o.words, sel]) : '';
  if (key !== groupsKey || groupsRun !== lastRun) {
    groupInfo = null;
    groupsRun = lastRun;
    if (!key) M._blw_set_groups(0, 0);
    else {
      const wordOf = M._blw_word_of() ? i32(M._blw_word_of(), lastRun.n) : [];
      const g = unitGroups(wordOf, lastRun.n, !!o.words, sel);
      groupInfo = groupLabels(g, lastRun.shown, o.words ? wordOf : null);
      const p = M._malloc(4 * g.length);
      M.HEAP32.set(g, p >> 2);
      const rc = M._blw_set_groups(p, g.length);
      M._free(p);
      if (rc !== 0) throw new UserError(`Selection: ${coreError()}`);
    }
    groupsKey = key;
  }
  return { words: grouped ? 1 : 0, value_weighted: o.vw ? 1 : 0 };
}
/* The group of each token: its unit (word or token), the selected units all one group (where
   the first of them is), numbered in order of first appearance. */
function unitGroups(wordOf, n, words, sel) {
  const unit = (i) => (words ? wordOf[i] : i), chosen = new Set(sel), ids = new Map(), g = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const k = chosen.size > 1 && chosen.has(unit(i)) ? 'sel' : unit(i);
    if (!ids.has(k)) ids.set(k, ids.size);
    g[i] = ids.get(k);
  }
  return g;
}
/* What the core draws for each group (core/render/word_input.c): its pieces joined in token
   order, a continuation's "##" dropped, "+" between pieces that are not neighbours; and the
   units (words or tokens) each group holds, for the page's clicks. */
function groupLabels(g, shown, wordOf) {
  const labels = [], units = [], last = [];
  for (let i = 0; i < g.length; i++) {
    const k = g[i], u = wordOf ? wordOf[i] : i;
    let t = shown[i];
    if (labels[k] === undefined) { labels[k] = t; units[k] = [u]; last[k] = i; continue; }
    if (t.startsWith('##') && t.length > 2) t = t.slice(2);
    labels[k] += (i !== last[k] + 1 ? '+' : '') + t;
    last[k] = i;
    if (!units[k].includes(u)) units[k].push(u);
  }
  return { labels, units };
}
/* The current view (o, as render takes it) as SVG text (bl_render_svg), without a pointer. */
function exportSvg(o) {
  render(o, null);   // the options in place
  const p = M._blw_render_svg();
  if (!p) throw new UserError(`SVG export failed: ${coreError()}`);
  return M.UTF8ToString(p);
}
function modelChecksum() {
  const out = M._malloc(32);
  try { return M._blw_model_checksum(out) === 0 ? hex(M.HEAPU8.subarray(out, out + 32)) : null; } finally { M._free(out); }
}

/* ---------------------------------------------------------------- logit lens and compare mode */
/* run.mlm[i].lens[layer][rank] = {id, p, shown}: the MLM head on the hidden state after each
   layer (blw_set_lens before the run; the core's bl_logit_lens), [] without it. */
function attachLens(mlm, k) {
  const L = M._blw_lens_layers();
  if (!L) { for (const m of mlm) m.lens = []; return; }
  const ids = i32(M._blw_lens_ids(), mlm.length * L * k), pp = M._blw_lens_p() >> 2;
  const p = Array.from(M.HEAPF32.subarray(pp, pp + mlm.length * L * k));
  mlm.forEach((m, q) => {
    m.lens = Array.from({ length: L }, (_, l) => Array.from({ length: k }, (_, r) => {
      const at = (q * L + l) * k + r;
      return { id: ids[at], p: p[at], shown: M.UTF8ToString(M._blw_lens_shown(at)) };
    }));
  });
}

/* Compare mode (o.compare = {b, pair, model}): B run on the same model, or with model: on the
   second model (compare-load) with A's text, whenever A re-ran or B changed;
   the result (B's tokens, the differing positions, each head's entropy change A − B, max |A − B|)
   rides on the frame as out.compare and stays on lastRun.compare. */
let compareB = null, modelBGen = 0;
/* compare mode's second model from a .bin (as load-bytes); failures leave the one there was */
/* A model file the page sent ({buffer, name}) copied into WebAssembly memory: [ptr, len], the
   pointer for the core's loader to own. */
function modelBytesIn(msg) {
  if (!M) throw new UserError('The core is not ready yet');
  const b = new Uint8Array(msg.buffer);
  const p = M._malloc(b.length);
  if (!p) throw new UserError(`Not enough memory for ${msg.name} (${(b.length / 1048576).toFixed(1)} MB)`);
  M.HEAPU8.set(b, p);
  return [p, b.length];
}
function compareLoad(msg) {
  try {
    const [p, len] = modelBytesIn(msg);
    if (M._blw_compare_model_load(p, len, 0) !== 0) throw new UserError(`Model B (${msg.name}): ${coreError()}`);
    modelBGen++;
    post({ type: 'compare-model', name: msg.name });
  } catch (e) {
    post({ type: 'compare-model', name: null, message: e instanceof UserError ? e.message : String(e) });
  }
}
/* compare mode's second model from the stored Hub models (cache.js), by its key in the list */
async function compareStored(msg) {
  try {
    const r = typeof caches === 'object' && await (await caches.open(BLCache.NAME)).match(String(msg.key));
    if (!r) throw new UserError(`Model B: ${msg.name} is no longer stored`);
    compareLoad({ buffer: await r.arrayBuffer(), name: msg.name });
  } catch (e) {
    post({ type: 'compare-model', name: null, message: e instanceof UserError ? e.message : String(e) });
  }
}
function compareStep(o, out) {
  const c = o && o.compare;
  if (!c) { if (lastRun) lastRun.compare = null; compareB = null; return; }
  const mb = c.model ? 1 : 0;
  const key = JSON.stringify([c.b, c.pair || null, mb, modelBGen]);
  if (lastRun.compare && compareB === key) return;
  const n = withString(c.b, (pb, lb) => (c.pair
    ? withString(c.pair, (pp, lp) => M._blw_compare_run(pb, lb, pp, lp, mb)) : M._blw_compare_run(pb, lb, 0, -1, mb)));
  if (n < 0) throw new UserError(`Compare: ${coreError()}`);
  const nb = M._blw_compare_nb(), LH = modelInfo.layers * modelInfo.heads, ep = M._blw_compare_entropy() >> 2;
  const tokens = [], shown = [];
  for (let i = 0; i < nb; i++) { tokens.push(M.UTF8ToString(M._blw_compare_token(i))); shown.push(M.UTF8ToString(M._blw_compare_shown(i))); }
  lastRun.compare = out.compare = {
    n, nb, tokens, shown, differ: i32(M._blw_compare_differ(), M._blw_compare_ndiffer()),
    entropy: Array.from(M.HEAPF32.subarray(ep, ep + LH)), maxAbs: M._blw_compare_max_abs(), model: !!mb,
  };
  compareB = key;
  panelKey = '';
}
const compareShown = (o) => !!(o.compare && lastRun && lastRun.compare && o.view === 'heatmap');
/* A's and B's heatmaps, each half the width, when anything but the pointer changed */
let panelKey = '';
function comparePanels(o) {
  if (!o.compare || !lastRun || !lastRun.compare) { panelKey = ''; return undefined; }
  const key = JSON.stringify(o);
  if (key === panelKey) return undefined;   // the page keeps the ones it has
  const width = Math.max(160, Math.floor(o.width / 2) - 12);
  const panels = [0, 1].map((which) => {
    const p = M._blw_compare_render(which, width);
    if (!p) throw new UserError(`Drawing failed: ${coreError()}`);
    const w = M._blw_fb_width(), h = M._blw_fb_height();
    return { w, h, pixels: M.HEAPU8.slice(p, p + w * h * 4) };
  });
  panelKey = key;
  return panels;
}
/* Every distinct hit of the last render on a grid of CSS pixels w × h, step apart, with the
   point where it was first met. */
function hitGrid(w, h, step) {
  const seen = new Map();
  for (let y = 0; y < h; y += step)
    for (let x = 0; x < w; x += step) {
      const t = hitAt(x, y);
      if (!t.kind) continue;
      const k = `${t.kind}:${t.from}:${t.to}:${t.layer}:${t.head}:${t.side}`;
      if (!seen.has(k)) seen.set(k, { ...t, x, y });
    }
  return Array.from(seen.values());
}

/* All attention maps of the last run as the CLI's `attention` JSON, as a list of string pieces
   (one per head) for a Blob: bert-base at n=512 is 12·12·512² values, more than one JS string
   may hold. Values are rounded to 6 decimals (attention is in [0, 1]). */
function attentionJson(run) {
  const L = modelInfo.layers, H = modelInfo.heads, n = run.n;
  const p = M._blw_attention(), p16 = p ? 0 : M._blw_attention_u16();   // floats, or × 65535 (long runs)
  if (!p && !p16) throw new UserError('Nothing to export yet');
  const a = p ? M.HEAPF32.subarray(p >> 2, (p >> 2) + L * H * n * n) : M.HEAPU16.subarray(p16 >> 1, (p16 >> 1) + L * H * n * n);
  const unit = p ? 1 : 1 / 65535;
  const parts = [`{"model":${JSON.stringify(modelInfo.name)},"tokens":${JSON.stringify(run.tokens)},"ids":${JSON.stringify(run.ids)},` +
    `"type_ids":${JSON.stringify(run.typeIds)},"truncated":${run.truncated},"layers":${L},"heads":${H},"attentions":[`];
  for (let l = 0; l < L; l++) {
    for (let h = 0; h < H; h++) {
      const rows = [];
      for (let i = 0; i < n; i++) {
        const o = ((l * H + h) * n + i) * n;
        rows.push('[' + Array.from(a.subarray(o, o + n), (x) => Math.round(x * unit * 1e6) / 1e6).join(',') + ']');
      }
      parts.push((h ? ',' : l ? ',[' : '[') + '[' + rows.join(',') + ']' + (h === H - 1 ? ']' : ''));
    }
  }
  parts.push(']}');
  return parts;
}

let lastRun = null;
let lastText = null;   // {a, b, k} of lastRun, to re-run it in full when a view needs that
/* Only the masked-LM and prediction views read the last layer's output (bl_fill_mask, the task
   head, the logit lens); every other view needs the attention maps, queries and keys, which an
   attention-only run (blw_set_attention_only) gives bit for bit while skipping the last layer's
   value, output and feed-forward projections (the default model: ~1.3x faster at n = 128). */
const NEEDS_FULL_RUN = new Set(['mlm', 'task']);
function runFor(view, t) {
  const partial = !NEEDS_FULL_RUN.has(view);
  M._blw_set_attention_only(partial ? 1 : 0);
  const r = runText(t.a, t.b, t.k);
  r.partial = partial;   // run.mlm and run.headProbs are empty: the worker re-runs for those views
  lastText = t;
  return r;
}
let lastKey = '', lastHit = null;   // what the last frame showed: re-draw only when it changes

const sameHit = (a, b) => (a === null || b === null ? a === b
  : a.kind === b.kind && a.from === b.from && a.to === b.to && a.layer === b.layer && a.head === b.head && a.side === b.side);

async function handle(msg) {
  switch (msg.type) {
    case 'init': {
      const t0 = performance.now();
      let tCore = 0;
      if (Number.isInteger(msg.maxMemoryMB) && msg.maxMemoryMB > 0) scratchCeiling = msg.maxMemoryMB * 1048576;
      // compile the core while the manifest and the font download
      const core = startCore().then((m) => { tCore = performance.now(); return m; }, (e) => {
        throw new UserError(`Could not start the WebAssembly core: ${e && e.message ? e.message : e}`);
      });
      const fontP = fetchBytes(msg.font, 'the font');
      const listP = fetchOk(msg.manifest, 'the model manifest').then((r) => r.text());
      listP.catch(() => {});   // handled below, after the core and font (so BYO still works)
      M = await core;
      ABI = coreJson(M._blw_abi(), 'the core\'s layouts');
      M._blw_set_attention_mode(msg.attMode || 0);   // 0: floats, 16-bit when they would pass 32 MB
      loadFont(await fontP, msg.font);
      post({ type: 'core-ready' });
      if (msg.noDefault) break;   // the page asked for a Hub model (#model=) instead
      const model = await resolveModel(msg.manifest, await listP);
      post({ type: 'model-start', name: model.name });
      const tFetch0 = performance.now();
      const [ptr, len] = await download(model);
      const tFetch = performance.now();
      loadModelBytes(ptr, len, model.name);
      const tLoad = performance.now();
      post({ type: 'loaded', info: modelInfo, ms: { core: tCore - t0, download: tFetch - tFetch0, load: tLoad - tFetch, warm: warmUp() } });
      break;
    }
    case 'load-default': {   // after a #model= that failed at start: the site's own model
      const model = await resolveModel(msg.manifest, await (await fetchOk(msg.manifest, 'the model manifest')).text());
      post({ type: 'model-start', name: model.name });
      const [ptr, len] = await download(model);
      loadModelBytes(ptr, len, model.name);
      post({ type: 'loaded', info: modelInfo, ms: { warm: warmUp() } });
      break;
    }
    case 'load-bytes': {   // bring your own model: failures leave the current model in place
      try {
        const [p, len] = modelBytesIn(msg);
        loadModelBytes(p, len, msg.name);
        lastRun = null;
        lastKey = '';
        post({ type: 'loaded', info: modelInfo, own: true });
      } catch (e) {
        post({ type: 'model-error', message: e instanceof UserError ? e.message : `Could not load ${msg.name}: ${e}` });
      }
      break;
    }
    case 'update': {
      const out = { type: 'frame', id: msg.id, ms: {} };
      try {
        if (msg.run) M._blw_set_lens(msg.run.lens ? 1 : 0);   // the logit lens: kept hidden states
        if (msg.run) M._blw_set_value_norms(msg.run.vn ? 1 : 0);   // value-weighted views: ‖α f(x)‖ in the forward
        const view = msg.render && msg.render.view;
        if (msg.run || (lastRun && lastRun.partial && NEEDS_FULL_RUN.has(view))) {
          const t = performance.now();
          lastRun = runFor(view, msg.run || lastText);
          lastKey = '';
          out.run = lastRun;
          out.ms.run = performance.now() - t;
        }
        if (!lastRun) throw new UserError('No text has been run yet');
        compareStep(msg.render, out);
        const t = performance.now();
        const key = JSON.stringify(msg.render);
        // Pointer moves within the same cell/token need no new pixels (the renderer's geometry
        // never depends on the hover point), only the tooltip: skip the draw and the copy.
        if (!msg.run && key === lastKey && msg.hover) {
          const h = hitAt(msg.hover.x, msg.hover.y);
          if (sameHit(h, lastHit)) {
            post({ ...out, same: true, hit: h, ms: { render: performance.now() - t } });
            break;
          }
        }
        Object.assign(out, render(msg.render, msg.hover));
        out.ms.render = performance.now() - t;
        out.ms.draw = out.core.draw;   // bl_render alone, then the framebuffer's copy out of the heap
        out.ms.copy = out.core.copy;
        lastKey = key;
        lastHit = out.hit;
        out.groups = groupInfo;   // tooltips name words and the selection as the core draws them
        post(out, [out.pixels.buffer]);
      } catch (e) {
        post({ type: 'frame-error', id: msg.id, message: e instanceof UserError ? e.message : String(e) });
      }
      break;
    }
    case 'hit':
      post({ type: 'hit', id: msg.id, hit: hitAt(msg.x, msg.y) });
      break;
    case 'pixels-back':   // a frame's buffer, drawn: kept for the next frames (two sizes at most)
      if (msg.buffer instanceof ArrayBuffer) { spare.push(msg.buffer); if (spare.length > 2) spare.shift(); }
      break;
    case 'head-stats':   // the last run's per-head statistics, as `bertlens stats` gives them
      try {
        if (!lastRun) throw new UserError('No text has been run yet');
        post({ type: 'head-stats', id: msg.id, stats: coreJson(M._blw_head_stats(), 'head statistics') });
      } catch (e) {
        post({ type: 'head-stats', id: msg.id, error: e.message });
      }
      break;
    case 'compare-load': compareLoad(msg); break;
    case 'compare-stored': compareStored(msg); break;
    case 'hit-grid':   // every distinct hit of the main view on a grid of CSS pixels (tests, checks)
      post({ type: 'hit-grid', id: msg.id, hits: hitGrid(msg.w, msg.h, msg.step || 2) });
      break;
    case 'export-svg':   // the view as SVG (bl_render_svg); with png, also as drawn at o.scale
      try {
        if (!lastRun) throw new UserError('Nothing to export yet');
        const svg = exportSvg(msg.render);
        const img = msg.png ? render(msg.render, null) : null;
        lastKey = '';   // the main canvas is drawn again at its own scale next
        post({ type: 'svg', id: msg.id, svg, png: img && { w: img.w, h: img.h, pixels: img.pixels } }, img ? [img.pixels.buffer] : []);
      } catch (e) {
        post({ type: 'svg', id: msg.id, error: e instanceof UserError ? e.message : String(e) });
      }
      break;
    case 'export-png':   // the view at a chosen scale (1×, 2×, 4×)
      try {
        if (!lastRun) throw new UserError('Nothing to export yet');
        const img = render(msg.render, null);
        lastKey = '';
        post({ type: 'png', id: msg.id, w: img.w, h: img.h, pixels: img.pixels }, [img.pixels.buffer]);
      } catch (e) {
        post({ type: 'png', id: msg.id, error: e instanceof UserError ? e.message : String(e) });
      }
      break;
    case 'export-json':
      try {
        if (msg.view) {   // the view's settings first: opening the file restores the view
          const parts = attentionJson(lastRun);
          const head = { model: modelInfo.name, model_sha256: modelChecksum(), view: msg.view };
          parts[0] = `{"bertlens_view":${JSON.stringify(head)},` + parts[0].slice(1);
          post({ type: 'json', parts });
          break;
        }

        post({ type: 'json', parts: attentionJson(lastRun) });
      } catch (e) {
        post({ type: 'model-error', message: e.message });
      }
      break;
  }
}

let chain = Promise.resolve();
/* Hub and dropped-directory loads (web/hub.js) run beside the chain: Cancel acts at once, and the
   model in use keeps answering while the next one downloads and converts. */
const HUB = BLHub.workerSide({
  M: () => M, post,
  ceiling: () => HEAP_MAX - M._blw_heap_used() - HEAP_MARGIN,
  loadModel: (ptr, len, name, fresh) => {
    try { return loadModelBytes(ptr, len, name, fresh ? LOAD_SKIP_CHECKSUM : 0); } catch (e) { throw new BLHub.HubError(e.message, 'corrupt'); }
  },
  onLoaded: (info, extra) => {
    lastRun = null;
    lastKey = '';
    post({ type: 'loaded', info, hub: extra, ms: { warm: warmUp() } });
  },
});

self.onmessage = (ev) => {
  if (HUB.handles(ev.data.type)) {
    if (!M) { post({ type: 'model-error', message: 'The core is not ready yet.' }); return; }
    Promise.resolve(HUB.handle(ev.data, post)).catch((e) => post({ type: 'model-error', message: String(e && e.message ? e.message : e) }));
    return;
  }
  chain = chain.then(() => handle(ev.data)).catch((e) => {
    post({ type: 'fatal', message: e instanceof UserError ? e.message : `Unexpected error: ${e && e.stack ? e.stack : e}` });
  });
};
