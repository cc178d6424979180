// wasm_api.test.mjs — the WebAssembly build through core/api/wasm_api.c, checked against the
// native CLI on the same model:
//   node tests/e2e/wasm_api.test.mjs --site build-web/site --model MODEL.bin --cli build/bertlens
//        [--font web/fonts/DejaVuSans-subset.ttf] [--core bertlens_core_mt --threads 2]
// Tolerances (WASM SIMD kernels vs native kernels, both the int8 path):
//   tokens and ids: exact; attention: mean |Δ| <= 1e-6 and max |Δ| <= 1e-4 over every
//   layer/head/cell. The kernels are bit-identical to the scalar reference on both sides and
//   exp/erf are the core's own polynomials (no libm difference left in the default path), so
//   measured differences are ~5e-8; the margin covers libm calls that remain in other
//   configurations (tanh GELU) and the last bits of sqrtf/division in LayerNorm.
//   For the rest:
//   fill-mask: the same ids at every rank and |Δp| <= 1e-6 (both sides are bl_fill_mask on
//   logits that agree to the last bits; the CLI prints the float exactly); rendered heatmap: < 0.5% of pixels differ by
//   more than 8/255 from `bertlens render` (colours are quantized, so a tiny Δ rarely shows).
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { args, check, summary, loadCore, Core, cliJson, cli, ROOT } from './lib.mjs';
import { decodePng, comparePixels } from './png.mjs';

const A = args();
const site = path.resolve(A.site || path.join(ROOT, 'build-web/site'));
const modelPath = A.model;
const bin = A.cli;
const font = A.font || path.join(ROOT, 'web/fonts/DejaVuSans-subset.ttf');
const ATT_TOL = 1e-4, ATT_MEAN_TOL = 1e-6, P_TOL = 1e-6;
if (!modelPath) { console.error('usage: --model MODEL.bin [--cli build/bertlens] [--site DIR]'); process.exit(2); }

// --core bertlens_core_mt --threads N: the threaded build (cross-origin isolated pages) with N
// threads, against the same native results
const coreName = A.core || 'bertlens_core', threads = Number(A.threads || 1);
const core = new Core(await loadCore(site, coreName));
const M = core.M;
if (threads > 1) check(M._blw_set_threads(threads) === 0, `${coreName}: ${threads} threads: ${core.error()}`);
else check(M._blw_set_threads(2) === -1 && /no thread support/.test(core.error()) && M._blw_set_threads(1) === 0,
  `${coreName}: the single-thread build refuses 2 threads (${core.error()})`);
const modelBytes = readFileSync(modelPath);

// --- errors before and during loading
check(M.UTF8ToString(M._blw_version()).length > 0, 'version string');
check(core.run('hello') === -1 && /no model/i.test(core.error()), `run without a model fails cleanly: ${core.error()}`);
check(core.loadModel(modelBytes.subarray(0, modelBytes.length >> 1)) === -1 && core.error().length > 0,
  `truncated model is rejected with a message: ${core.error()}`);
const corrupt = Buffer.from(modelBytes);
corrupt[corrupt.length - 100] ^= 0x55;
check(core.loadModel(corrupt) === -1 && core.error().length > 0, `corrupted model is rejected: ${core.error()}`);
check(core.loadModel(Buffer.from('not a model at all, just text')) === -1, 'garbage is rejected');
check(core.loadModel(modelBytes) === 0, `model loads: ${core.error()}`);
const info = core.info(), L = info.config.layers, H = info.config.heads;
check(L > 0 && H > 0, `config: ${L} layers, ${H} heads`);
check(info.bytes === modelBytes.length && typeof info.has_mlm === 'boolean' && info.has_mlm === info.config.has_mlm,
  `blw_model_info: ${JSON.stringify(info).slice(0, 120)}…`);
if (bin) {   // the same model as `bertlens info` sees it
  const nat = cliJson(bin, 'info', '-m', modelPath);
  const same = Object.keys(nat.config).every((k) => (k === 'ln_eps' ? Math.abs(nat.config[k] - info.config[k]) <= 1e-6 * nat.config[k]
    : nat.config[k] === info.config[k]));
  check(same && nat.dtype === info.dtype && nat.bytes === info.bytes, 'blw_model_info agrees with `bertlens info`');
  // the converter's fidelity record, read by the WASM core: the same figures and line
  check(info.fidelity && info.fidelity.status === nat.fidelity.status && info.fidelity.text === nat.fidelity.text &&
    info.fidelity.max === nat.fidelity.max && info.fidelity.mean === nat.fidelity.mean,
    `blw_model_info's fidelity agrees with \`bertlens info\` (${JSON.stringify(info.fidelity)} / ${nat.fidelity.text})`);
}
// the layouts JS writes and reads by name (blw_abi): the fields JS uses and as many as fill the
// struct, four bytes each, inside it, none overlapping; the hit kinds by name in BL_HIT_* order
{
  const abi = core.abi();
  for (const [sname, want] of [['view_opts', ['view', 'layer', 'head', 'colormap', 'dark', 'scale', 'width', 'hide_special',
    'pair_filter', 'threshold', 'token', 'hover_x', 'hover_y', 'vmax']], ['hit', ['kind', 'from', 'to', 'layer', 'head', 'value', 'side']]]) {
    const st = abi[sname], offs = Object.values(st.fields).map((f) => f[0]).sort((a, b) => a - b);
    check(want.every((k) => st.fields[k]) && Object.keys(st.fields).length * 4 === st.size, `blw_abi ${sname}: fields ${Object.keys(st.fields)}`);
    check(offs.every((o, i) => o % 4 === 0 && o + 4 <= st.size && (i === 0 || o >= offs[i - 1] + 4)), `blw_abi ${sname}: offsets ${offs}`);
  }
  check(JSON.stringify(abi.hit_kinds) === '["none","cell","token","head","mlm","label"]', `blw_abi hit kinds ${abi.hit_kinds}`);
}

// --- tokenize + forward against the native CLI
const TEXTS = [
  ['The cat sat on the mat because it was tired.'],
  ['Hello, World! Héllo wörld — naïve café; 東京 is big.'],
  ['Where is the library?', 'It is next to the old church.'],
  ['Paris is the [MASK] of France.'],
  ['unaffable   tokenization\tof\nwhitespace   and punctuation!!! (yes)'],
  [''],
  [Array.from({ length: 200 }, (_, i) => `word${i % 17}`).join(' ')],   // truncated to max_pos
];
let worst = 0, worstMean = 0;
for (const [a, b] of TEXTS) {
  const label = JSON.stringify(a.slice(0, 40)) + (b ? ' + pair' : '');
  const n = core.run(a, b ?? null);
  if (!check(n > 0, `${label}: run: ${core.error()}`)) continue;
  const att = core.attention();
  // rows are probability distributions
  let rowErr = 0;
  for (let r = 0; r < L * H * n; r++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += att[r * n + j];
    rowErr = Math.max(rowErr, Math.abs(s - 1));
  }
  check(rowErr < 1e-4, `${label}: attention rows sum to 1 (max error ${rowErr})`);
  if (!bin) continue;
  const cliArgs = b ? ['--pair', b, a] : [a];
  const tok = cliJson(bin, 'tokenize', '-m', modelPath, ...cliArgs);
  check(JSON.stringify(core.tokens()) === JSON.stringify(tok.tokens), `${label}: tokens match the CLI`);
  check(JSON.stringify(core.ids()) === JSON.stringify(tok.ids), `${label}: ids match the CLI`);
  check(JSON.stringify(core.typeIds()) === JSON.stringify(tok.type_ids), `${label}: type ids match the CLI`);
  check((M._blw_truncated() === 1) === !!tok.truncated, `${label}: truncated flag matches the CLI`);
  const nat = cliJson(bin, 'attention', '-m', modelPath, ...cliArgs);
  check(nat.layers === L && nat.heads === H && nat.tokens.length === n, `${label}: CLI shape ${nat.layers}x${nat.heads}x${nat.tokens.length}`);
  let d = 0, sum = 0;
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    const x = Math.abs(nat.attentions[l][h][i][j] - att[((l * H + h) * n + i) * n + j]);
    d = Math.max(d, x);
    sum += x;
  }
  const mean = sum / (L * H * n * n);
  worst = Math.max(worst, d);
  worstMean = Math.max(worstMean, mean);
  check(d <= ATT_TOL && mean <= ATT_MEAN_TOL,
    `${label}: attention |WASM - native| max ${d.toExponential(2)} (<= ${ATT_TOL}), mean ${mean.toExponential(2)} (<= ${ATT_MEAN_TOL})`);
}
if (bin) console.log(`attention: |WASM - native| over all texts: max ${worst.toExponential(3)} (tolerance ${ATT_TOL}), worst mean ${worstMean.toExponential(3)} (tolerance ${ATT_MEAN_TOL})`);

// --- masked LM top-k against `bertlens fill-mask`
if (info.has_mlm) {
  const text = 'Paris is the [MASK] of France. The [MASK] sat on the mat.';
  check(core.run(text, null, 5) > 0, 'mlm run');
  const mine = core.mlm();
  check(mine.length === 2 && mine.every((m) => m.top.length === 5), `two [MASK] positions with top-5 (${mine.length})`);
  check(mine.every((m) => m.top.every((t, i) => i === 0 || t.p <= m.top[i - 1].p + 1e-7)), 'top-k sorted by probability');
  if (bin) {
    const nat = cliJson(bin, 'fill-mask', '-m', modelPath, '-k', '5', text);
    for (let i = 0; i < Math.min(nat.length, mine.length); i++) {
      check(nat[i].position === mine[i].position, `mask ${i}: same position`);
      check(nat[i].top.length === mine[i].top.length && nat[i].top.every((t, r) => t.id === mine[i].top[r].id),
        `mask ${i}: the same top-${nat[i].top.length} ids in the same order (${nat[i].top[0].token} vs ${mine[i].top[0].token})`);
      const dp = Math.max(...nat[i].top.map((t, r) => Math.abs(t.p - (mine[i].top[r] ? mine[i].top[r].p : Infinity))));
      const exact = nat[i].top.every((t, r) => Math.fround(t.p) === mine[i].top[r].p);
      const msg = `mask ${i}: probabilities within ${P_TOL} of the CLI's (max Δ ${dp.toExponential(2)}${exact ? ', bit-identical' : ''})`;
      if (check(dp <= P_TOL, msg)) console.log(`fill-mask: ${msg}`);
    }
  }
}

if (!info.has_mlm) {   // no MLM head: masks are plain tokens, no predictions
  check(core.run('Paris is the [MASK] of France.') > 0 && M._blw_mlm_count() === 0, 'without an MLM head [MASK] gives no predictions');
}

// --- renderer through the exports
let fontBytes = null;
try { fontBytes = readFileSync(font); } catch { console.log(`no font at ${font}: render checks skipped`); }
if (fontBytes) {
  check(core.render({}) === null && /font/i.test(core.error()), 'render without a font fails cleanly');
  check(core.loadFont(Buffer.from('not a font')) === -1, `a bad font is rejected: ${core.error()}`);
  check(core.loadFont(fontBytes) === 0, `font loads: ${core.error()}`);
  const text = 'The cat sat on the mat.';
  core.run(text);
  const views = ['heatmap', 'model', 'head', 'neuron', 'rollout', 'flow', 'mlm'];
  for (let v = 0; v < views.length; v++) {
    for (const scale of [1, 2]) {
      const t0 = performance.now();
      const fb = core.render({ view: v, width: 700, scale, layer: L - 1, head: v === 1 ? 0 : -1, token: 2 });
      const ms = performance.now() - t0;
      if (!check(fb, `${views[v]} @${scale}x renders: ${core.error()}`)) continue;
      check(fb.w === 700 * scale && fb.h > 0, `${views[v]} @${scale}x: ${fb.w}x${fb.h} (${ms.toFixed(1)} ms)`);
      const colours = new Set();
      for (let i = 0; i < fb.pixels.length && colours.size < 50; i += 4 * 97) colours.add((fb.pixels[i] << 16) | (fb.pixels[i + 1] << 8) | fb.pixels[i + 2]);
      check(colours.size > 5, `${views[v]} @${scale}x: non-trivial content (${colours.size} colours sampled)`);
    }
  }
  // hit testing: scan the heatmap for a cell and check the value against the attention
  const fb = core.render({ view: 0, width: 700, scale: 1, layer: 0, head: 1 });
  let cell = null;
  for (let y = 0; y < fb.h && !cell; y += 5) for (let x = 0; x < fb.w && !cell; x += 5) {
    const h = core.hit(x, y);
    if (h.kind === 'cell') cell = h;
  }
  if (check(cell, 'heatmap hit test finds a cell')) {
    const n = M._blw_n(), att = core.attention();
    const want = att[((0 * H + 1) * n + cell.from) * n + cell.to];
    check(Math.abs(cell.value - want) < 1e-6, `hit value ${cell.value} = attention[0][1][${cell.from}][${cell.to}] ${want}`);
  }
  core.render({ view: 0, layer: L + 3 });   // out of range: an error or a clamp, never a crash
  check(core.run('still alive') > 0, 'out-of-range layer does not break the module');
  // pixels against `bertlens render` (same C renderer, native build)
  if (bin) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bl-wasm-'));
    try {
      for (const [v, name] of [[0, 'heatmap'], [1, 'model'], [2, 'head'], [4, 'rollout']]) {
        const png = path.join(dir, `${name}.png`);
        cli(bin, 'render', '-m', modelPath, text, '--view', name, '--layer', String(L - 1), '--head', '1', '--width', '700', '--scale', '2', '-o', png);
        const ref = decodePng(readFileSync(png));
        core.run(text);
        const mine = core.render({ view: v, width: 700, scale: 2, layer: L - 1, head: 1 });
        const c = comparePixels(ref, mine);
        check(c.sameSize && c.frac < 0.005, `${name}: WASM vs native render: ${ref.w}x${ref.h} vs ${mine.w}x${mine.h}, ${(c.frac * 100).toFixed(3)}% pixels differ (max ${c.maxDiff})`);
      }
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }
}

// --- attention-only runs (blw_set_attention_only, what the worker asks for every view but the
// masked-LM and prediction views): every layer's maps are the full run's bits, and so are the
// views drawn from them and from the queries and keys (the neuron view of the last layer reads
// its Q and K), while the masked-LM answer and the task head are absent and their views refuse
// to draw instead of showing an empty answer; switching back gives the full run's answer.
{
  const VIEW = { heatmap: 0, model: 1, head: 2, neuron: 3, rollout: 4, flow: 5, mlm: 6, task: 7 };
  for (const [a, b] of [['Paris is the [MASK] of France. The [MASK] sat on the mat.', null], ['Where is the library?', 'It is next to the old church.']]) {
    const label = JSON.stringify(a.slice(0, 24)) + (b ? ' + pair' : '');
    const n = core.run(a, b, 5);
    const full = core.attention(), fullMlm = JSON.stringify(core.mlm()), fullHead = M._blw_head_size();
    const drawn = fontBytes ? ['heatmap', 'neuron', 'rollout', 'flow'].map((v) => core.render({ view: VIEW[v], width: 500, layer: L - 1, head: 1, token: 1 })) : [];
    M._blw_set_attention_only(1);
    check(core.run(a, b, 5) === n, `${label}: attention-only run: ${core.error()}`);
    const part = core.attention();
    check(part.length === full.length && part.every((x, i) => Object.is(x, full[i])), `${label}: attention-only maps = the full run's, bit for bit`);
    check(M._blw_mlm_count() === 0 && M._blw_head_size() === 0, `${label}: attention-only: no masked-LM answer, no head`);
    if (fontBytes) {
      ['heatmap', 'neuron', 'rollout', 'flow'].forEach((v, i) => {
        const fb = core.render({ view: VIEW[v], width: 500, layer: L - 1, head: 1, token: 1 });
        check(fb && drawn[i] && fb.w === drawn[i].w && fb.h === drawn[i].h && fb.pixels.every((x, j) => x === drawn[i].pixels[j]),
          `${label}: ${v} view of the last layer after an attention-only run = after a full run`);
      });
      check(core.render({ view: VIEW.mlm, width: 500 }) === null && /full run/.test(core.error()),
        `${label}: the masked-LM view refuses an attention-only run (${core.error()})`);
    }
    M._blw_set_attention_only(0);
    check(core.run(a, b, 5) === n && JSON.stringify(core.mlm()) === fullMlm && M._blw_head_size() === fullHead &&
      core.attention().every((x, i) => Object.is(x, full[i])), `${label}: a full run after it gives the full answer again`);
    if (info.has_mlm && !b) check(core.mlm().length === 2, `${label}: two [MASK] answers in the full run`);
  }
}

// --- 16-bit attention storage (blw_set_attention_mode; the page's automatic choice for long
// bert-base runs): within half a step (1/131070) of the float maps, the other pointer NULL, the
// same heatmap; the automatic mode keeps this small model's maps as floats.
{
  const text = 'The quick brown fox jumps over the lazy dog, and then it naps.';
  M._blw_set_attention_mode(1);
  const n = core.run(text), f = core.attention();
  check(M._blw_attention() !== 0 && M._blw_attention_u16() === 0, 'float mode: float maps only');
  const imgF = core.render({ view: 0, layer: L - 1, head: 0, width: 500 });
  M._blw_set_attention_mode(2);
  check(core.run(text) === n && M._blw_attention() === 0 && M._blw_attention_u16() !== 0, 'u16 mode: 16-bit maps only');
  const q = core.attention();
  let d = 0;
  for (let k = 0; k < f.length; k++) d = Math.max(d, Math.abs(q[k] - f[k]));
  check(q.length === f.length && d <= 0.5 / 65535 + 1e-7, `u16 maps within half a step of the floats (max |Δ| ${d.toExponential(2)})`);
  const imgQ = core.render({ view: 0, layer: L - 1, head: 0, width: 500 });
  const c = comparePixels(imgF, imgQ, 2);
  check(c.sameSize && c.frac < 0.001, `u16 heatmap = float heatmap (${(c.frac * 100).toFixed(3)}% pixels differ, max ${c.maxDiff})`);
  M._blw_set_attention_mode(0);
  check(core.run(text) === n && M._blw_attention() !== 0, 'automatic mode: small maps stay floats');
}

// --- memory: the ceiling refuses a run that would not fit, with a message, and the module
// stays usable; 1,000 re-runs (varied lengths, model reloads, refusals) do not grow the heap.
// (The ceiling guards growth: a fresh model's context has nothing allocated yet.)
{
  const long = Array.from({ length: 400 }, (_, i) => `w${i % 13}`).join(' ');
  core.loadModel(modelBytes);
  M._blw_set_max_bytes(64 * 1024);
  check(core.run(long) === -1 && /needs [\d.]+ MB, above the limit/.test(core.error()),
    `a run above the memory ceiling fails with a message: ${core.error()}`);
  check(M._blw_attention() === 0, 'a refused run leaves no attention to read');
  M._blw_set_max_bytes(0);
  check(core.run(long) > 0, `without the ceiling the same text runs: ${core.error()}`);
  // The same 1,000 re-runs twice: the first pass may grow WASM memory (a reload holds the old
  // and the new model at once; fragmentation), the second must leave the memory size where the
  // first left it and malloc's in-use bytes within 4 KiB (chunk rounding varies by a few bytes
  // with fragmentation; a leak of even one small buffer per run would add kilobytes).
  // Texts up to ~60 words keep the default model's 2,000 runs to a few seconds.
  const pass = () => {
    let bad = 0;
    for (let it = 0; it < 1000; it++) {
      if (it % 100 === 99) {   // a reload, refused by a tiny ceiling, then lifted again
        M._blw_set_max_bytes(1);
        if (core.loadModel(modelBytes) !== 0 || core.run(long) !== -1) bad++;
        M._blw_set_max_bytes(0);
        continue;
      }
      const words = 1 + ((it * 37) % 60);
      const t = Array.from({ length: words }, (_, i) => (i % 9 === 4 ? '[MASK]' : `tok${(i * it) % 23}`)).join(' ');
      if (core.run(t, it % 3 === 0 ? 'a second sentence' : null) <= 0) bad++;
    }
    core.run(long);
    return { bad, used: M._blw_heap_used(), size: M._blw_heap_size() };
  };
  const t0 = performance.now(), p1 = pass(), p2 = pass();
  check(p1.bad === 0 && p2.bad === 0, `2 × 1,000 re-runs: ${p1.bad + p2.bad} unexpected results`);
  check(p2.used <= p1.used + 4096 && p2.size === p1.size,
    `heap over the second 1,000 re-runs: in use ${p1.used} -> ${p2.used} bytes, WASM memory ${p1.size} -> ${p2.size} ` +
    `(${((performance.now() - t0) / 1000).toFixed(1)} s for both passes)`);
}

// --- a second model load replaces the first; reset frees everything
check(core.loadModel(modelBytes) === 0 && core.run('again') > 0, 'reload works');
M._blw_reset();
check(core.run('x') === -1, 'after reset there is no model');
process.exit(summary('wasm_api'));
