// hub_bench.mjs — loading a bert-base-shaped repository from a (mock) Hugging Face Hub in the page:
// prints figures, asserts nothing.
//   node bench/hub_bench.mjs [--large] [--base http://127.0.0.1:PORT/ --site SITE_DIR] [--work /tmp/bl-hub-bench]
// (serve.sh builds in BL_WEB_BUILD, default build-web; --base and --site use a page already served)
// 1. WebAssembly conversion speed in node: model.safetensors pushed through the core's
//    streaming converter (blw_conv_*) in 1 MiB chunks, as the worker does, no network.
// 2. The page in headless Chromium (./serve.sh + tests/e2e/mock_hub.mjs on localhost): the id
//    typed in the picker; time from the last byte of the weights to the first view; WASM memory
//    at its peak (the converter's and the whole heap's); then a reload that opens the model from
//    the cache: time to its first view.
// Repositories of random F32 weights are generated in --work by tests/e2e/make_hub_repos.py --big
// (bert-base: 12 x 768, vocab 30522, ~440 MB; --large adds bert-large, 24 x 1024, ~1.3 GB).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, openSync, readSync, closeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, loadCore, ROOT } from '../tests/e2e/lib.mjs';
import { startMockHub } from '../tests/e2e/mock_hub.mjs';

const A = args();
const WORK = A.work || '/tmp/bl-hub-bench';
const MODELS = [['bench/bert-base', '12:768:12:3072:30522']];
if (A.large) MODELS.push(['bench/bert-large', '24:1024:16:4096:30522']);
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const mb = (n) => (n / 1048576).toFixed(1);

for (const [id, spec] of MODELS) {
  const st = path.join(WORK, ...id.split('/'), 'main', 'model.safetensors');
  if (!existsSync(st)) {
    console.log(`generating ${id} (${spec}) in ${WORK}…`);
    execFileSync(PY, [path.join(ROOT, 'tests/e2e/make_hub_repos.py'), WORK, '--big', `${id}:${spec}`], { stdio: 'inherit' });
  }
}

function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}
async function startServer() {
  if (A.base) return { proc: null, base: A.base.endsWith('/') ? A.base : A.base + '/' };
  const port = await freePort();
  const proc = spawn(path.join(ROOT, 'serve.sh'), [String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  const base = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 1200; i++) {
    try { if ((await fetch(base)).ok) return { proc, base }; } catch { /* not up */ }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error('serve.sh did not start');
}
const server = await startServer();
const site = A.site || execFileSync(path.join(ROOT, 'serve.sh'), ['--print-root'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop();

// ---------------------------------------------------------------- 1. conversion in WASM (node)
const M = await loadCore(site);
for (const [id] of MODELS) {
  const dir = path.join(WORK, ...id.split('/'), 'main');
  const file = path.join(dir, 'model.safetensors'), size = statSync(file).size;
  const put = (b) => { const p = M._malloc(b.length + 1); M.HEAPU8.set(b, p); M.HEAPU8[p + b.length] = 0; return p; };
  const o = M._malloc(16);
  M.HEAP32[o >> 2] = 2; M.HEAP32[(o >> 2) + 1] = 0; M.HEAPF64[(o + 8) >> 3] = 0;
  const h = M._blw_conv_new(o);
  const ok = (rc) => { if (rc < 0) throw new Error(M.UTF8ToString(M._blw_conv_error(h))); };
  const cfg = readFileSync(path.join(dir, 'config.json'));
  ok(M._blw_conv_set_config(h, put(cfg), cfg.length));
  for (const f of ['vocab.txt', 'tokenizer_config.json']) {
    const b = readFileSync(path.join(dir, f)), n = Buffer.from(f);
    ok(M._blw_conv_set_tokenizer_file(h, put(n), n.length, put(b), b.length));
  }
  const name = Buffer.from('model.safetensors');
  ok(M._blw_conv_begin_file(h, put(name), name.length, size));
  const fd = openSync(file, 'r'), buf = Buffer.alloc(1 << 20);
  let t = 0, off = 0;
  for (;;) {
    const n = readSync(fd, buf, 0, buf.length, off);
    if (!n) break;
    const t0 = performance.now();
    const p = M._blw_conv_chunk(h, n);
    M.HEAPU8.set(buf.subarray(0, n), p);
    ok(M._blw_conv_push(h, p, n));
    t += performance.now() - t0;
    off += n;
  }
  closeSync(fd);
  const t0 = performance.now();
  ok(M._blw_conv_end_file(h));
  ok(M._blw_conv_finish(h));
  t += performance.now() - t0;
  const q = M._blw_conv_progress(h) >> 3;
  console.log(`${id}: WASM conversion (node, one thread) ${mb(size)} MB F32 in ${(t / 1000).toFixed(2)} s = ${(size / 1048576 / (t / 1000)).toFixed(0)} MB/s; ` +
    `converter peak ${mb(M.HEAPF64[q + 6])} MB, output ${mb(M.HEAPF64[q + 9])} MB`);
  M._free(M._blw_conv_take_output(h));
  M._blw_conv_free(h);
}

// ---------------------------------------------------------------- 2. the page
const hub = await startMockHub({ root: WORK });
const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  for (const [id] of MODELS) {
    const ctx = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 1100, height: 900 } });
    const p = await ctx.newPage();
    const url = `${server.base}?hub=${encodeURIComponent(hub.hub)}`;
    await p.goto(url);
    await p.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 120000 });
    await p.fill('#hub-id', id);
    await p.click('#hub-load');
    await p.waitForFunction((n) => (window.__bertlens.metrics.hubLoad && window.__bertlens.metrics.hubLoad.firstView && window.__bertlens.model.name === n) ||
      !document.getElementById('error').hidden, id, { timeout: 600000 });
    const err = await p.evaluate(() => (document.getElementById('error').hidden ? '' : document.getElementById('error-msg').textContent));
    if (err) { console.log(`${id}: page: ${err}`); await ctx.close(); continue; }
    const h = await p.evaluate(() => window.__bertlens.metrics.hubLoad);
    const size = statSync(path.join(WORK, ...id.split('/'), 'main', 'model.safetensors')).size;
    console.log(`${id}: page (Chromium): download + conversion ${((h.t.lastByte - h.t.start) / 1000).toFixed(2)} s ` +
      `(${(size / 1048576 / ((h.t.lastByte - h.t.start) / 1000)).toFixed(0)} MB/s incl. SHA-256), last byte -> first view ` +
      `${(h.firstView - h.t.lastByte).toFixed(0)} ms (target <= 2000); WASM memory ${mb(h.heap)} MB at its peak (target <= 400), converter peak ${mb(h.peakConv)} MB`);
    // the stored copy is written after the first view: wait for it to be listed
    await p.waitForFunction((n) => [...document.querySelectorAll('#stored-list li')].some((li) => li.dataset.id === n), id, { timeout: 120000 });
    const p2 = await ctx.newPage();
    await p2.goto(`${url}#model=${encodeURIComponent(id)}`);
    await p2.waitForFunction(() => document.body.dataset.state === 'ready' && window.__bertlens.metrics.hubLoad && window.__bertlens.metrics.hubLoad.firstView, null, { timeout: 120000 });
    const h2 = await p2.evaluate(() => ({ ...window.__bertlens.metrics.hubLoad, nav: performance.timeOrigin }));
    console.log(`${id}: from the cache: first view ${(h2.firstView - h2.t.start).toFixed(0)} ms after the load began (target <= 1500; ` +
      `${(h2.firstView - h2.nav).toFixed(0)} ms after navigation, core start included), source ${h2.source}`);
    await ctx.close();
  }
} finally {
  await browser.close();
  await hub.close();
  if (server.proc) server.proc.kill();
}
console.log(`CPU: ${execFileSync('sh', ['-c', "lscpu | grep 'Model name' | sed 's/.*: *//'"], { encoding: 'utf8' }).trim()}`);
