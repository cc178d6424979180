// convert_stream.test.mjs — the streaming converter compiled to WebAssembly
// (core/api/wasm_convert.c, driven as the worker drives it) against the native CLI's
// `bertlens convert` on the same checkpoints, byte for byte:
//   node tests/e2e/convert_stream.test.mjs --site build-web/site --cli build/bertlens
// Checkpoints: tests/data/make_hf.py's (F32/F16/BF16 safetensors, sharded safetensors,
// pytorch_model.bin from torch.save, .bin shards) and tests/e2e/make_test_model.py's model
// (the real 30522-token vocab), written to a temporary directory. Each is pushed in random
// chunk sizes (1 byte to 64 KiB, and 1 MiB), with and without the announced size; the WASM
// output must equal the CLI's file. Hostile inputs give the CLI's messages; the converted file
// loads in the same module; the converter's peak is the output plus small buffers.
import { readFileSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { args, check, summary, loadCore, ROOT } from './lib.mjs';
import { convertDir, DT } from './convert_lib.mjs';

const A = args();
const site = path.resolve(A.site || path.join(ROOT, 'build-web/site'));
const bin = A.cli || path.join(ROOT, 'build/bertlens');
const M = await loadCore(site, 'bertlens_core');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bl_conv_stream_'));
const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
execFileSync(py, [path.join(ROOT, 'tests/data/make_hf.py'), path.join(tmp, 'hf')], { stdio: ['ignore', 'ignore', 'inherit'] });
execFileSync(py, [path.join(ROOT, 'tests/e2e/make_test_model.py'), path.join(tmp, 'hf', 'test_model')], { stdio: 'inherit' });
const hf = (n) => path.join(tmp, 'hf', n);

// deterministic random chunk sizes: mostly small, some up to 64 KiB
function sizes(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const r = s >>> 8;
    return r % 4 === 0 ? 1 + (r % 65536) : 1 + (r % 97);
  };
}

function cliConvert(dir, dtype, more = ['--no-fidelity']) {
  const out = path.join(tmp, 'cli.bin');
  execFileSync(bin, ['convert', dir, '-o', out, '--dtype', dtype, ...more], { stdio: ['ignore', 'ignore', 'pipe'] });
  return readFileSync(out);
}
function cliError(dir) {
  try { execFileSync(bin, ['convert', dir, '-o', path.join(tmp, 'bad.bin')], { stdio: ['ignore', 'ignore', 'pipe'] }); return ''; }
  catch (e) { return String(e.stderr); }
}
const same = (a, b) => a && b && a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;

const torch = existsSync(hf('pt_f32/pytorch_model.bin'));
check(torch || process.env.BL_NO_TORCH, 'make_hf.py wrote no pytorch_model.bin (python3-torch missing)');
const cases = ['f32_prefix', 'f16_plain_gamma', 'bf16_untied', 'f32_explicit_tied', 'f32_sharded', 'f16_sharded', 'test_model',
  ...(torch ? ['pt_f32', 'pt_f16', 'pt_bf16_untied', 'pt_sharded'] : [])];
let seed = 1;
for (const name of cases) {
  for (const dtype of name === 'test_model' || name.startsWith('f32') ? ['int8', 'f16', 'f32'] : ['int8']) {
    const want = cliConvert(hf(name), dtype);
    const plans = [['random', sizes(seed++), true], ['random, size unknown', sizes(seed++), false], ['1 MiB', () => 1 << 20, true]];
    if (name === 'f32_prefix' || name === 'pt_f32') plans.push(['1 byte', () => 1, false]);
    for (const [what, nextSize, known] of plans) {
      const r = convertDir(M, hf(name), { dtype: DT[dtype], nextSize, known, measure: false });
      check(r.rc === 0, `${name} ${dtype} (${what}): ${r.error}`);
      check(same(r.out, want), `${name} ${dtype} (${what}): WASM output (${r.out && r.out.length} bytes) differs from the CLI's (${want.length})`);
      const p = r.progress;
      check(p.tensorsDone === p.tensorsTotal && p.tensorsTotal > 0, `${name}: ${p.tensorsDone}/${p.tensorsTotal} tensors`);
      check(p.peakBytes <= want.length + 128 + 4 * 65536, `${name}: converter peak ${p.peakBytes} for a ${want.length}-byte file`);
    }
  }
}

// with the attention fidelity measured (the page's and the CLI's default): the same bytes, so the
// WASM forward of the converted file and of its float copy, and the record, equal the native
// ones; the peak is the output plus the float copy (its size is in the record)
for (const [name, dtype] of [['f32_prefix', 'int8'], ['bf16_untied', 'int8'], ['test_model', 'f16'], ['test_model', 'f32']]) {
  const want = cliConvert(hf(name), dtype, []);
  const r = convertDir(M, hf(name), { dtype: DT[dtype], nextSize: sizes(seed++) });
  check(r.rc === 0 && same(r.out, want), `${name} ${dtype} measured: WASM output (${r.out && r.out.length} bytes, ${r.error}) differs from the CLI's (${want.length})`);
  const dv = new DataView(want.buffer, want.byteOffset, want.length), rec = Number(dv.getBigUint64(144, true)) - 64;
  const status = dv.getUint32(rec, true), refBytes = Number(dv.getBigUint64(rec + 40, true)), max = dv.getFloat32(rec + 8, true);
  check(status === 1 && (dtype === 'f32' ? max === 0 && refBytes === 0 : max > 0 && refBytes > 0),
    `${name} ${dtype}: the record says measured (status ${status}, max ${max}, float copy ${refBytes} bytes)`);
  check(r.progress.peakBytes <= want.length + refBytes + 128 + 4 * 65536, `${name} ${dtype} measured: converter peak ${r.progress.peakBytes} for a ${want.length}-byte file and a ${refBytes}-byte copy`);
}

// the converted file loads in the same module (the viewer's export takes the buffer)
if (M._blw_model_load) {
  const r = convertDir(M, hf('test_model'), { dtype: DT.int8, nextSize: sizes(77) });
  const p = M._malloc(r.out.length);
  M.HEAPU8.set(r.out, p);
  check(M._blw_model_load(p, r.out.length, 0) === 0, `converted test model loads: ${M._blw_error ? M.UTF8ToString(M._blw_error()) : ''}`);
}

// hostile inputs: the CLI's message, from the WASM converter too
const bad = [['st_truncated', 'out of range (data section is'], ['header_json', "header: JSON: expected ',' or ']' at byte 11"],
  ['overlap', 'overlap'], ['nan', 'element 0 is NaN or infinite'], ['st_huge', 'need 18446744073709551615'],
  ['not_bert', "model_type 'gpt2' is not supported (supported: bert, distilbert, roberta, xlm-roberta, camembert, electra, albert)"],
  ...(torch ? [['pt_system', "the pickle calls 'posix system': only tensors are read"], ['pt_strided', 'not contiguous row-major'],
    ['pt_legacy', 'not a zip file'], ['pt_corrupt', 'CRC-32 mismatch'], ['pt_truncated', 'truncated'], ['pt_deflated', 'is compressed']] : [])];
for (const [name, msg] of bad) {
  const r = convertDir(M, hf(name), { dtype: DT.int8, nextSize: sizes(seed++) });
  check(r.rc < 0 && r.error.includes(msg), `${name}: WASM error '${r.error}' lacks '${msg}'`);
  const ce = cliError(hf(name));
  check(ce.includes(msg), `${name}: CLI error '${ce.trim()}' lacks '${msg}'`);
}
// truncation with no announced size is found at the end of the file
const tr = convertDir(M, hf('st_truncated'), { dtype: DT.int8, nextSize: sizes(5), known: false });
check(tr.rc < 0 && /truncated: the file ends at byte/.test(tr.error), `truncated, size unknown: ${tr.error}`);
// the memory ceiling
const small = convertDir(M, hf('test_model'), { dtype: DT.int8, maxBytes: 1 << 20 });
check(small.rc < 0 && /above the limit of 1\.0 MB/.test(small.error), `ceiling: ${small.error}`);

rmSync(tmp, { recursive: true, force: true });
process.exit(summary('convert_stream.test'));
