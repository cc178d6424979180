// summarize.mjs — merges bench_page results (bench/run.sh) into bench/results.json, one record
// per engine, model, variant, threads and n, with the ratios the performance targets are about,
// and prints them as a table.
//   node bench/summarize.mjs OUT.json ORT_VERSION RESULT.json...
// bench/run.sh interleaves the engines round by round (one page per engine and round); a
// record's median_ms is the median of its rounds' medians (each round's figures are kept in
// `rounds`), and a ratio is taken within each round (ORT and bertlens measured minutes apart,
// under the same load), then the median of those, with the smallest and largest round's.
// CPU and load come from run.sh's environment (BL_BENCH_CPU, _FLAGS, _LOAD_START, _LOAD_END).
import fs from 'node:fs';
import os from 'node:os';

const [out, ortVersion, ...files] = process.argv.slice(2);
const med = (a) => { const s = [...a].sort((x, y) => x - y), m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const perRound = [];   // {engine, model, variant, threads, n, round, median_ms, min_ms, max_ms}
const pairRuns = [];   // engines=pair pages: {model, core, threads, n, round, ratios per pair, both engines' medians}
for (const f of files) {
  const r = JSON.parse(fs.readFileSync(f, 'utf8'));
  if (r.error) throw new Error(`${f}: ${r.error}`);
  const round = r.round || 1;
  if (r.pair)
    for (const [n, x] of Object.entries(r.pair.n))
      pairRuns.push({ model: r.shape, core: `${r.dtype || 'int8'} ${r.core}${r.attOnly ? ' att-only' : ''}`, ort: r.pair.variant,
        threads: r.threads || 1, n: Number(n), round, bertlens_ms: x.bertlens.median_ms, ort_ms: x.ort.median_ms, ratio_median: x.ratio.median,
        per_pair: x.ratio.per_pair });
  if (r.bertlens)
    for (const [n, s] of Object.entries(r.bertlens.n))
      perRound.push({ engine: 'bertlens', model: r.shape, variant: `${r.dtype || 'int8'}+attn${r.core === 'relaxed' ? ' relaxed' : ''}${r.attOnly ? ' att-only' : ''}`,
        threads: r.threads, n: Number(n), round, ...s });
  if (r.onnxruntime_web)
    for (const [v, res] of Object.entries(r.onnxruntime_web))
      for (const [n, s] of Object.entries(res.n))
        perRound.push({ engine: 'onnxruntime-web', model: r.shape, variant: v === 'int8-noattn' ? 'int8' : `${v}+attn`,
          threads: r.threads, n: Number(n), round, ...s });
}
const key = (r) => [r.engine, r.model, r.variant, r.threads, r.n].join('|');
const groups = new Map();
for (const r of perRound) { if (!groups.has(key(r))) groups.set(key(r), []); groups.get(key(r)).push(r); }
const records = [...groups.values()].map((g) => {
  const { round, median_ms, min_ms, max_ms, ...id } = g[0];
  return { ...id, median_ms: med(g.map((x) => x.median_ms)), min_ms: Math.min(...g.map((x) => x.min_ms)),
    max_ms: Math.max(...g.map((x) => x.max_ms)),
    rounds: g.map((x) => ({ round: x.round, median_ms: x.median_ms, min_ms: x.min_ms, max_ms: x.max_ms })).sort((a, b) => a.round - b.round) };
});
const find = (e, m, v, t, n) => records.find((r) => r.engine === e && r.model === m && r.variant === v && r.threads === t && r.n === n);
// ORT / bertlens per round (both present), then {median, min, max, per_round}
function ratio(o, b) {
  if (!o || !b) return null;
  const per = [];
  for (const ro of o.rounds) {
    const rb = b.rounds.find((x) => x.round === ro.round);
    if (rb) per.push(ro.median_ms / rb.median_ms);
  }
  return per.length ? { median: med(per), min: Math.min(...per), max: Math.max(...per), per_round: per } : null;
}
const ratios = [], attRows = [];
const models = [...new Set(records.map((r) => r.model))];
const nRounds = new Set(perRound.map((r) => r.round)).size;
if (records.length) {
  console.log(`${nRounds} round(s); ms = median of the rounds' medians; ×: ORT / bertlens within a round, median [min–max over rounds]`);
  console.log('model      n     bertlens  ORT int8+attn   ORT int8  ORT f32+attn  bertlens 2T  ORT int8+attn 2T   vs int8+attn           vs int8                2T vs 2T               bertlens int16  int16 vs int8+attn     int16 2T vs 2T         relaxed  SIMD128/relaxed        relaxed vs int8+attn   relaxed 2T  relaxed 2T vs 2T  int16 2T');
}
for (const m of models) {
  for (const n of [...new Set(records.filter((r) => r.model === m).map((r) => r.n))].sort((a, b) => a - b)) {
    const b = find('bertlens', m, 'int8+attn', 1, n), qa = find('onnxruntime-web', m, 'int8+attn', 1, n),
      q = find('onnxruntime-web', m, 'int8', 1, n), f = find('onnxruntime-web', m, 'f32+attn', 1, n),
      q2 = find('onnxruntime-web', m, 'int8+attn', 2, n), b2 = find('bertlens', m, 'int8+attn', 2, n);
    const b16 = find('bertlens', m, 'int16+attn', 1, n), b16t = find('bertlens', m, 'int16+attn', 2, n);
    const brx = find('bertlens', m, 'int8+attn relaxed', 1, n);   // the relaxed-SIMD build (the page's relaxed core)
    const brx2 = find('bertlens', m, 'int8+attn relaxed', 2, n);  // and threaded (bertlens_core_relaxed_mt)
    const x = { relaxed_vs_simd128: ratio(b, brx), relaxed_vs_ort_int8_attn: ratio(qa, brx), vs_ort_int8_attn: ratio(qa, b), vs_ort_int8: ratio(q, b), vs_ort_f32_attn: ratio(f, b),
      bertlens_2threads_vs_ort_int8_attn_2threads: ratio(q2, b2),
      int16_vs_ort_int8_attn: ratio(qa, b16), int16_2threads_vs_ort_int8_attn_2threads: ratio(q2, b16t),
      relaxed_2threads_vs_ort_int8_attn_2threads: ratio(q2, brx2) };
    // attention-only forwards (bench/run.sh bertlens-att, bertlens-relaxed-att): what the page runs for
    // every view but masked-LM and prediction; against the same ORT int8+attn whole graph
    const ba = find('bertlens', m, 'int8+attn att-only', 1, n), ba2 = find('bertlens', m, 'int8+attn att-only', 2, n);
    const bra = find('bertlens', m, 'int8+attn relaxed att-only', 1, n), bra2 = find('bertlens', m, 'int8+attn relaxed att-only', 2, n);
    Object.assign(x, { att_only_vs_ort_int8_attn: ratio(qa, ba), att_only_2threads_vs_ort_int8_attn_2threads: ratio(q2, ba2),
      relaxed_att_only_vs_ort_int8_attn: ratio(qa, bra), relaxed_att_only_2threads_vs_ort_int8_attn_2threads: ratio(q2, bra2) });
    if (ba || ba2 || bra || bra2) attRows.push({ m, n, ba, ba2, bra, bra2, x });
    ratios.push({ model: m, n, ...x });
    const c = (o) => (o ? o.median_ms.toFixed(1).padStart(9) : '        -');
    const r = (v) => (v ? `x${v.median.toFixed(2)} [${v.min.toFixed(2)}-${v.max.toFixed(2)}]` : '-').padEnd(22);
    console.log(`${m.padEnd(10)} ${String(n).padEnd(5)} ${c(b)}  ${c(qa)}     ${c(q)}  ${c(f)}    ${c(b2)}    ${c(q2)}       ` +
      `${r(x.vs_ort_int8_attn)} ${r(x.vs_ort_int8)} ${r(x.bertlens_2threads_vs_ort_int8_attn_2threads)} ${c(b16)}       ` +
      `${r(x.int16_vs_ort_int8_attn)} ${r(x.int16_2threads_vs_ort_int8_attn_2threads)} ${c(brx)}  ${r(x.relaxed_vs_simd128)} ${r(x.relaxed_vs_ort_int8_attn)} ${c(brx2)}   ${r(x.relaxed_2threads_vs_ort_int8_attn_2threads)} ${c(b16t)}`);
  }
}
if (attRows.length) {
  console.log('attention-only forwards (the page\'s runs for the attention views), against ORT int8+attn (whole graph):');
  console.log('model      n     SIMD128 att  vs int8+attn           2T att     2T vs 2T               relaxed att  vs int8+attn           relaxed 2T att  2T vs 2T');
  const c = (o) => (o ? o.median_ms.toFixed(1).padStart(9) : '        -');
  const r = (v) => (v ? `x${v.median.toFixed(2)} [${v.min.toFixed(2)}-${v.max.toFixed(2)}]` : '-').padEnd(22);
  for (const { m, n, ba, ba2, bra, bra2, x } of attRows)
    console.log(`${m.padEnd(10)} ${String(n).padEnd(5)} ${c(ba)}    ${r(x.att_only_vs_ort_int8_attn)} ${c(ba2)}  ${r(x.att_only_2threads_vs_ort_int8_attn_2threads)} ` +
      `${c(bra)}    ${r(x.relaxed_att_only_vs_ort_int8_attn)} ${c(bra2)}       ${r(x.relaxed_att_only_2threads_vs_ort_int8_attn_2threads)}`);
}
// pairs: every pair's ratio from every round pooled (median, and the 10th-90th percentile band),
// and the spread of the rounds' own medians
const pairs = [];
const pct = (a, q) => { const s = [...a].sort((x, y) => x - y); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };
const pairKey = (p) => [p.model, p.core, p.ort, p.threads, p.n].join('|');
for (const k of [...new Set(pairRuns.map(pairKey))]) {
  const g = pairRuns.filter((p) => pairKey(p) === k), all = g.flatMap((p) => p.per_pair);
  pairs.push({ model: g[0].model, bertlens: g[0].core, ort: `${g[0].ort}${g[0].ort.startsWith('int8-noattn') ? '' : '+attn'}`,
    threads: g[0].threads, n: g[0].n,
    pairs: all.length, ratio_median: med(all), ratio_p10: pct(all, 0.1), ratio_p90: pct(all, 0.9),
    round_medians: g.map((p) => p.ratio_median), bertlens_ms: med(g.map((p) => p.bertlens_ms)), ort_ms: med(g.map((p) => p.ort_ms)) });
}
if (pairs.length) {
  console.log('paired in one page (one forward of each in turn): × = ORT ms / bertlens ms per pair, median of all pairs [10th-90th percentile] (rounds\' medians)');
  console.log('model      T  n     bertlens                    ORT              bertlens ms  ORT ms    ×');
  for (const p of pairs)
    console.log(`${p.model.padEnd(10)} ${String(p.threads).padEnd(2)} ${String(p.n).padEnd(5)} ${p.bertlens.padEnd(27)} ${p.ort.padEnd(16)} ${p.bertlens_ms.toFixed(1).padStart(9)}  ` +
      `${p.ort_ms.toFixed(1).padStart(8)}  x${p.ratio_median.toFixed(2)} [${p.ratio_p10.toFixed(2)}-${p.ratio_p90.toFixed(2)}] ` +
      `(${p.round_medians.map((x) => x.toFixed(2)).join(' ')}), ${p.pairs} pairs`);
}
fs.writeFileSync(out, JSON.stringify({
  what: 'ms per forward pass in headless Chromium: per round the median, min and max of the timed runs after a warm-up; median_ms = median over rounds',
  bertlens: 'bench/bench_forward.c built with emcc -O3 -msimd128: int8+attn = int8 weights and 12-bit activations, int16+attn = 13-bit weights in int16 and 16-bit activations (BL_PREC_NATIVE), all attention maps kept; one thread, and 2 threads (-pthread build in a Web Worker, bench/bench_worker.js); "int8+attn relaxed": the same built by clang 19 with relaxed SIMD (tools/build_relaxed.sh), one thread and (-pthread) 2; relaxed_vs_simd128 = SIMD128 ms / relaxed ms within a round, relaxed_vs_ort_int8_attn = ORT int8+attn ms / relaxed ms within a round; "att-only": attention-only forwards (bl_ctx_set_attention_only: the last layer stops after its softmax), as the page runs them for every view but masked-LM and prediction',
  onnxruntime_web: `onnxruntime-web ${ortVersion}, wasm backend; f32+attn: bench/export_onnx.py; int8(+attn): bench/quantize_onnx.py (quantize_dynamic-style, per-tensor int8 weights)`,
  method: 'engines interleaved round by round (bench/run.sh: one page per engine and round, the order reversed every other round); ratios = ORT median / bertlens median within a round (> 1: bertlens faster), then the median over rounds',
  date: new Date().toISOString(), cpu: process.env.BL_BENCH_CPU || os.cpus()[0].model, cores: os.cpus().length,
  cpu_flags: process.env.BL_BENCH_FLAGS || null,
  load_average: { start: process.env.BL_BENCH_LOAD_START || null, end: process.env.BL_BENCH_LOAD_END || null },
  rounds: nRounds,
  note: 'shared 2-core machine: compare within one run',
  ratios, records,
  pairs_method: 'engines=pair pages (bench/run.sh pair*): bertlens and ORT in one page, one forward of each in turn (the order swapped every pair; with 2 threads, the bertlens -pthread build in a worker that times its forwards, both engines with that many threads, and 10 ms idle after each forward), REPS pairs per n and round; ratio = ORT ms / bertlens ms of one pair',
  pairs }, null, 2) + '\n');
console.log(out);
