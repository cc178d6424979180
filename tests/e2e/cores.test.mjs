// cores.test.mjs — the page's two WebAssembly cores in headless Chromium, served by ./serve.sh:
// the relaxed-SIMD core (bertlens_core_relaxed[_mt], web/wasm.cmake), which worker.js takes where
// the browser validates relaxed SIMD, and the SIMD128 core (?core=simd128, or a site without the
// relaxed core). The relaxed int8 kernel is bit-identical to the scalar reference, so the same text
// on the same model must give the same attention maps bit for bit (a SHA-256 of the raw floats,
// read in the worker), the same JSON export, the same fill-mask probabilities and the same pixels,
// threaded (serve.sh's COOP/COEP) and on one thread (the headers taken off the document). The
// masked-LM view: its runs are whole forwards (other views may run attention only).
//   node tests/e2e/cores.test.mjs --test-model build-web/test-model/test.int8.bin
//        [--test-model-int16 build-web/test-model/test.int16.bin] [--chromium PATH]
// Models: the site's default (weights/manifest.json, when the site has one) and --test-model,
// routed in as the default. Needs a site built with clang-19 (the relaxed cores).
import { readFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, check, summary, cli, startServe, ROOT } from './lib.mjs';
import { decodePng } from './png.mjs';

const A = args();
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
// long enough for several token chunks of the relaxed kernel on the default model's FFN
// (32768 / 1024 = 32 tokens per chunk), with a [MASK] for the fill-mask head
const TEXT = 'The quick brown fox jumps over the lazy dog while the [MASK] sat on a mat, because it was tired ' +
  'after a long day of chasing mice through the old barn, and nobody in the village could remember a warmer summer ' +
  'than this one, when the river dried up and the fields turned from green to gold.';

const server = await startServe();
const site = cli(path.join(ROOT, 'serve.sh'), '--print-root').trim().split('\n').pop();
const RELAXED_FILES = ['bertlens_core_relaxed.js', 'bertlens_core_relaxed.wasm', 'bertlens_core_relaxed_mt.js',
  'bertlens_core_relaxed_mt.wasm', 'bertlens_core_relaxed_mt.worker.js'];
const missing = RELAXED_FILES.filter((f) => !existsSync(path.join(site, f)));
if (missing.length) { console.error(`cores: the site ${site} has no ${missing.join(', ')} (needs clang-19)`); process.exit(1); }
const models = [];
if (existsSync(path.join(site, 'weights', 'manifest.json'))) models.push({ name: 'default model', bytes: null });
if (A['test-model']) models.push({ name: 'test model', bytes: readFileSync(A['test-model']) });
// an int16 file: the int16 kernels and the second digit of the Q/K input, in both cores
if (A['test-model-int16']) models.push({ name: 'int16 test model', bytes: readFileSync(A['test-model-int16']) });
if (!models.length) { console.error('cores: no default model in the site and no --test-model'); process.exit(2); }

const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium', args: CHROMIUM_ARGS });

/* The page with `query` (e.g. '?core=simd128'): isolated as serve.sh serves it, or not (COOP and
   COEP taken off the document's response, so the worker has no SharedArrayBuffer and one thread). */
async function load({ query = '', isolated = true, model, routes = null }) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, acceptDownloads: true, serviceWorkers: 'block' });
  const p = await context.newPage();
  p.errors = [];
  p.seen = [];
  p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
  p.on('pageerror', (e) => p.errors.push(`pageerror: ${e.message}`));
  context.on('request', (r) => p.seen.push(new URL(r.url()).pathname.split('/').pop()));
  if (!isolated) {
    await context.route((u) => u.pathname === '/' || u.pathname === '/index.html', async (r) => {
      const resp = await r.fetch();
      const headers = { ...resp.headers() };
      delete headers['cross-origin-opener-policy'];
      delete headers['cross-origin-embedder-policy'];
      await r.fulfill({ response: resp, headers });
    });
  }
  if (model.bytes) {
    const sha = createHash('sha256').update(model.bytes).digest('hex');
    await context.route('**/weights/manifest.json', (r) => r.fulfill({ contentType: 'application/json',
      body: JSON.stringify({ default: 'test', models: [{ name: 'test', file: 'test.int8.bin', size: model.bytes.length, sha256: sha }] }) }));
    await context.route('**/weights/test.int8.bin', (r) => r.fulfill({ contentType: 'application/octet-stream', body: model.bytes }));
  }
  if (routes) await routes(context);
  await p.goto(server.base + query + '#' + new URLSearchParams({ text: TEXT, layer: 1, head: 0, view: 'mlm' }).toString());
  await p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 120000 });
  await p.waitForFunction(() => window.__bertlens.run && window.__bertlens.metrics.frames > 0, null, { timeout: 60000 });
  await p.waitForTimeout(100);
  const state = await p.evaluate(() => document.body.dataset.state);
  const info = await p.evaluate(() => window.__bertlens.model);
  const run = await p.evaluate(() => JSON.parse(JSON.stringify({ n: window.__bertlens.run.n, mlm: window.__bertlens.run.mlm })));
  // the raw attention maps of the last run, hashed in the worker (worker.js's M and lastRun)
  const w = p.workers().find((x) => /\/worker\.js$/.test(x.url()));
  const raw = w ? await w.evaluate(async () => {
    const L = modelInfo.layers, H = modelInfo.heads, n = lastRun.n, len = L * H * n * n;
    const pf = M._blw_attention(), p16 = pf ? 0 : M._blw_attention_u16();
    const bytes = pf ? M.HEAPU8.slice(pf, pf + 4 * len) : M.HEAPU8.slice(p16, p16 + 2 * len);
    let sum = 0;
    if (pf) for (const x of M.HEAPF32.subarray(pf >> 2, (pf >> 2) + len)) sum += x;
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
    return { n, floats: !!pf, bytes: bytes.length, sum, sha: Array.from(h, (b) => b.toString(16).padStart(2, '0')).join('') };
  }) : null;
  const [dl] = await Promise.all([p.waitForEvent('download'), p.click('#export-json')]);
  const json = readFileSync(await dl.path(), 'utf8');
  const png = decodePng(Buffer.from((await p.evaluate(() => document.getElementById('view').toDataURL('image/png'))).split(',')[1], 'base64'));
  const out = { state, info, run, raw, json, png, seen: p.seen, errors: p.errors, isolated: await p.evaluate(() => self.crossOriginIsolated) };
  await context.close();
  return out;
}

const sameBytes = (a, b) => a.w === b.w && a.h === b.h && Buffer.compare(Buffer.from(a.pixels), Buffer.from(b.pixels)) === 0;

try {
  const hasRelaxed = await (await browser.newPage()).evaluate(() => WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0,
    1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253, 15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 147, 2, 11])));
  check(hasRelaxed, 'this Chromium validates i32x4.relaxed_dot_i8x16_i7x16_add_s (else the page rightly takes SIMD128)');
  // sw.js caches the relaxed cores where worker.js would take them: the same probe in both
  const probe = (f) => ((readFileSync(path.join(site, f), 'utf8').match(/RELAXED_PROBE = new Uint8Array\(\[([^\]]*)\]/) || [])[1] || '').replace(/\s/g, '');
  check(probe('worker.js').length > 40 && probe('worker.js') === probe('sw.js'), 'worker.js and sw.js probe relaxed SIMD with the same module');
  for (const model of models) {
    for (const isolated of [true, false]) {
      const what = `${model.name}, ${isolated ? 'threaded' : 'one thread'}`;
      const mt = isolated ? '_mt' : '';
      const r = await load({ model, isolated });
      const s = await load({ model, isolated, query: '?core=simd128' });
      for (const [x, name] of [[r, 'relaxed'], [s, 'simd128']]) {
        check(x.state === 'ready' && x.errors.length === 0, `${what}, ${name}: ready without errors (${x.state}; ${x.errors.join(' | ')})`);
        check(x.isolated === isolated && (x.info.threads > 1) === isolated, `${what}, ${name}: isolated ${x.isolated}, ${x.info.threads} threads`);
        check(x.raw && x.raw.n > 40 && x.raw.floats && Math.abs(x.raw.sum - x.info.layers * x.info.heads * x.raw.n) < 0.01 * x.raw.n,
          `${what}, ${name}: the worker's attention maps are read (n = ${x.raw && x.raw.n}, rows summing to 1: ${x.raw && x.raw.sum})`);
      }
      // which core ran: the worker's choice, the file it fetched, the kernel table the module reports
      check(r.info.core === 'relaxed' && r.info.coreFile === `bertlens_core_relaxed${mt}.js` && r.info.kernels === 'wasm-relaxed',
        `${what}: the page takes the relaxed-SIMD core (${r.info.core}, ${r.info.coreFile}, kernels ${r.info.kernels})`);
      check(r.seen.includes(`bertlens_core_relaxed${mt}.wasm`) && !r.seen.some((f) => /^bertlens_core(_mt)?\.wasm$/.test(f)),
        `${what}: it fetched bertlens_core_relaxed${mt}.wasm and no SIMD128 core`);
      check(s.info.core === 'simd128' && s.info.coreFile === `bertlens_core${mt}.js` && s.info.kernels === 'wasm-simd128',
        `${what}: ?core=simd128 takes the SIMD128 core (${s.info.core}, ${s.info.coreFile}, kernels ${s.info.kernels})`);
      check(s.seen.includes(`bertlens_core${mt}.wasm`) && !s.seen.some((f) => /relaxed/.test(f)),
        `${what}: ?core=simd128 fetched bertlens_core${mt}.wasm and nothing relaxed`);
      // the results: bit for bit
      check(r.raw && s.raw && r.raw.bytes === s.raw.bytes && r.raw.sha === s.raw.sha,
        `${what}: attention maps bit-identical (SHA-256 of ${r.raw && r.raw.bytes} bytes: ${r.raw && r.raw.sha.slice(0, 16)} / ${s.raw && s.raw.sha.slice(0, 16)})`);
      check(r.json === s.json && r.json.includes('"attentions"'), `${what}: the JSON exports are equal (${r.json.length} bytes)`);
      check((r.run.mlm || []).length > 0 && JSON.stringify(r.run.mlm) === JSON.stringify(s.run.mlm),
        `${what}: fill-mask probabilities equal (${JSON.stringify((r.run.mlm || [])[0] && r.run.mlm[0].top && r.run.mlm[0].top[0])})`);
      check(sameBytes(r.png, s.png), `${what}: the drawn views are equal pixel for pixel (${r.png.w}x${r.png.h})`);
    }
  }
  // a site without the relaxed cores (clang-19 missing at build time): the SIMD128 core, same results
  const model = models[0];
  const f = await load({ model, routes: (ctx) => ctx.route('**/bertlens_core_relaxed*', (r) => r.fulfill({ status: 404, body: 'not found' })) });
  const s = await load({ model, query: '?core=simd128' });
  check(f.state === 'ready' && f.info.core === 'simd128' && f.info.kernels === 'wasm-simd128' && f.info.threads > 1,
    `without the relaxed cores the page runs SIMD128 (${f.state}, ${f.info.core}, ${f.info.kernels}, ${f.info.threads} threads)`);
  check(f.errors.every((e) => /Failed to load resource|404/.test(e)), `only the refused files are errors (${f.errors.join(' | ')})`);
  check(f.raw && s.raw && f.raw.sha === s.raw.sha, 'and its attention maps are the SIMD128 core\'s');
} finally {
  await browser.close();
  server.proc.kill();
}
process.exit(summary('cores'));
