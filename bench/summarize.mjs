// summarize.mjs — merges bench_page results (bench/run.sh) into bench/results.json, one record
// per engine, model, variant, threads and n (median_ms, min_ms, max_ms), with the ratios the
// performance targets are about, and prints them as a table.
//   node bench/summarize.mjs OUT.json ORT_VERSION RESULT.json...
import fs from 'node:fs';
import os from 'node:os';

const [out, ortVersion, ...files] = process.argv.slice(2);
const records = [];
for (const f of files) {
  const r = JSON.parse(fs.readFileSync(f, 'utf8'));
  if (r.error) throw new Error(`${f}: ${r.error}`);
  if (r.bertlens)
    for (const [n, s] of Object.entries(r.bertlens.n))
      records.push({ engine: 'bertlens', model: r.shape, variant: 'int8+attn', threads: r.threads, n: Number(n), ...s });
  if (r.onnxruntime_web)
    for (const [v, res] of Object.entries(r.onnxruntime_web))
      for (const [n, s] of Object.entries(res.n))
        records.push({ engine: 'onnxruntime-web', model: r.shape, variant: v === 'int8-noattn' ? 'int8' : `${v}+attn`,
          threads: r.threads, n: Number(n), ...s });
}
const find = (e, m, v, t, n) => records.find((r) => r.engine === e && r.model === m && r.variant === v && r.threads === t && r.n === n);
const ratios = [];
const models = [...new Set(records.map((r) => r.model))];
console.log('model    n     bertlens   ORT int8+attn  ORT int8   ORT f32+attn  ORT int8+attn 2T  bertlens 2T   speed-up vs int8+attn / int8 / 2T vs 2T');
for (const m of models) {
  for (const n of [...new Set(records.filter((r) => r.model === m).map((r) => r.n))].sort((a, b) => a - b)) {
    const b = find('bertlens', m, 'int8+attn', 1, n), qa = find('onnxruntime-web', m, 'int8+attn', 1, n),
      q = find('onnxruntime-web', m, 'int8', 1, n), f = find('onnxruntime-web', m, 'f32+attn', 1, n),
      q2 = find('onnxruntime-web', m, 'int8+attn', 2, n), b2 = find('bertlens', m, 'int8+attn', 2, n);
    const x = (o) => (b && o ? o.median_ms / b.median_ms : null);
    const x2 = b2 && q2 ? q2.median_ms / b2.median_ms : null;
    ratios.push({ model: m, n, vs_ort_int8_attn: x(qa), vs_ort_int8: x(q), vs_ort_f32_attn: x(f), vs_ort_int8_attn_2threads: x(q2),
      bertlens_2threads_vs_ort_int8_attn_2threads: x2,
      ort_int8_max_attention_diff_vs_f32: qa ? qa.max_attention_diff_vs_f32 ?? null : null });
    const c = (o) => (o ? o.median_ms.toFixed(1).padStart(9) : '        -');
    const r = (v) => (v ? `x${v.toFixed(2)}` : '-');
    console.log(`${m.padEnd(8)} ${String(n).padEnd(5)} ${c(b)}  ${c(qa)}     ${c(q)}  ${c(f)}    ${c(q2)}    ${c(b2)}     ${r(x(qa))} / ${r(x(q))} / ${r(x2)}`);
  }
}
fs.writeFileSync(out, JSON.stringify({
  what: 'ms per forward pass in headless Chromium: median, min and max of the timed runs after a warm-up',
  bertlens: 'bench/bench_forward.c built with emcc -O3 -msimd128, int8 weights, 12-bit activations (BL_PREC_NATIVE), all attention maps kept; one thread, and 2 threads (-pthread build in a Web Worker, bench/bench_worker.js)',
  onnxruntime_web: `onnxruntime-web ${ortVersion}, wasm backend; f32+attn: bench/export_onnx.py; int8(+attn): bench/quantize_onnx.py (quantize_dynamic-style, per-tensor int8 weights)`,
  date: new Date().toISOString(), cpu: os.cpus()[0].model, cores: os.cpus().length,
  note: 'shared 2-core machine: compare within one run; ratios are ORT median / bertlens median (> 1: bertlens faster)',
  ratios, records }, null, 2) + '\n');
console.log(out);
