// convert_bench.mjs — how fast the streaming converter turns a bert-base-shaped F32 checkpoint
// (12 layers, hidden 768, vocab 30522: 438 MB of safetensors) into int8, natively (the CLI's
// `bertlens convert`, which pushes 1 MiB chunks through the same code) and as WebAssembly in
// node (pushed in download-sized chunks, as the page's worker does), and the WASM memory it
// needs. Prints figures; asserts nothing about speed.
//   node --no-experimental-fetch bench/convert_bench.mjs --site build-web/site --cli build/bertlens
//        [--dir /tmp/bertlens-bench-bert-base] [--chunk 65536] [--dtype int8]
// The checkpoint is generated with tests/e2e/make_test_model.py into --dir when missing
// (a few minutes of pure Python; never in the repository).
import { existsSync, statSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { args, loadCore, ROOT } from '../tests/e2e/lib.mjs';
import { convertDir, DT } from '../tests/e2e/convert_lib.mjs';

const A = args();
const site = path.resolve(A.site || path.join(ROOT, 'build-web/site'));
const bin = path.resolve(A.cli || path.join(ROOT, 'build/bertlens'));
const dir = A.dir || path.join(os.tmpdir(), 'bertlens-bench-bert-base');
const chunk = Number(A.chunk || 65536), dtype = A.dtype || 'int8';
const MB = 1048576;

// --dir may also hold pytorch_model.bin (e.g. torch.save of the same tensors) instead
const weights = ['model.safetensors', 'pytorch_model.bin'].find((n) => existsSync(path.join(dir, n)));
if (!weights) {
  console.log(`generating ${dir} (bert-base shape, F32) ...`);
  execFileSync('/usr/bin/python3', [path.join(ROOT, 'tests/e2e/make_test_model.py'), dir, '--layers', '12', '--hidden', '768',
    '--heads', '12', '--intermediate', '3072', '--max-pos', '512'], { stdio: 'inherit' });
}
const wfile = path.join(dir, weights || 'model.safetensors');
const inBytes = statSync(wfile).size;
const cpu = (os.cpus()[0] || {}).model || '?';
console.log(`checkpoint: ${wfile} (${(inBytes / MB).toFixed(1)} MB), output ${dtype}; CPU: ${cpu}`);

// native: the CLI, its peak RSS from /usr/bin/time when there is one
const out = path.join(os.tmpdir(), `bl_conv_bench_${process.pid}.bin`);
readFileSync(wfile).length;   // warm the page cache for both runs
let t0 = process.hrtime.bigint();
const timed = existsSync('/usr/bin/time');
const r = timed ? spawnSync('/usr/bin/time', ['-f', '%U %S %M', bin, 'convert', dir, '-o', out, '--dtype', dtype], { encoding: 'utf8' })
  : spawnSync(bin, ['convert', dir, '-o', out, '--dtype', dtype], { encoding: 'utf8' });
const nativeS = Number(process.hrtime.bigint() - t0) / 1e9;
if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
const [uS, sS, rssKB] = timed ? r.stderr.trim().split('\n').pop().split(' ').map(Number) : [NaN, NaN, NaN];
const cliOut = readFileSync(out);
rmSync(out, { force: true });
// wall time and CPU time (user + system): on a loaded machine the CPU time is the better figure
console.log(`native: ${nativeS.toFixed(2)} s wall, ${(inBytes / MB / nativeS).toFixed(0)} MB/s of input` +
  `${timed ? `; ${(uS + sS).toFixed(2)} s CPU, ${(inBytes / MB / (uS + sS)).toFixed(0)} MB/s; peak RSS ${(rssKB / 1024).toFixed(0)} MB` : ''}` +
  ` (reading, converting, the SHA-256, the CLI's load check and writing ${(cliOut.length / MB).toFixed(1)} MB)`);

// WebAssembly: a fresh module, chunks of --chunk bytes read from disk as they are pushed
const M = await loadCore(site, 'bertlens_core');
const heap0 = M.HEAPU8.buffer.byteLength;
t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
let lastChunkAt = 0n;
const w = convertDir(M, dir, { dtype: DT[dtype], nextSize: () => chunk, onChunk: (off, total) => { if (off === total) lastChunkAt = process.hrtime.bigint(); } });
const t1 = process.hrtime.bigint(), c1 = process.cpuUsage(c0);
const wasmS = Number(t1 - t0) / 1e9, wasmCpu = (c1.user + c1.system) / 1e6, tailS = Number(w.finishedAt - lastChunkAt) / 1e9;
if (w.rc !== 0) { console.error(`WASM: ${w.error}`); process.exit(1); }
const heap = M.HEAPU8.buffer.byteLength;
console.log(`wasm (node ${process.version}, ${chunk}-byte chunks): ${wasmS.toFixed(2)} s wall, ${(inBytes / MB / wasmS).toFixed(0)} MB/s of input; ` +
  `${wasmCpu.toFixed(2)} s CPU, ${(inBytes / MB / wasmCpu).toFixed(0)} MB/s; from the last chunk pushed to the weights file ready in WASM memory: ${tailS.toFixed(2)} s`);
console.log(`wasm memory: ` +
  `WASM memory ${(heap0 / MB).toFixed(0)} -> ${(heap / MB).toFixed(0)} MB (peak; it never shrinks), converter peak ` +
  `${(w.progress.peakBytes / MB).toFixed(1)} MB for a ${(w.out.length / MB).toFixed(1)} MB output`);
console.log(`wasm output ${Buffer.compare(Buffer.from(w.out), cliOut) === 0 ? 'equals' : 'DIFFERS FROM'} the CLI's, byte for byte`);
