// page.test.mjs — the page in headless Chromium, served by ./serve.sh on a free port.
//   node tests/e2e/page.test.mjs --test-model build-web/test-model/test.int8.bin [--cli build/bertlens]
//        [--test-shards build-web/test-model/shards/test.json]
// Uses the default model from weights/manifest.json when the site has one; otherwise the test
// model is served in its place (through request interception, same origin). Prints the
// measured figures (first view, re-run while typing, hover redraw, sizes) at the end.
import { spawn } from 'node:child_process';
import { readFileSync, statSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, check, summary, cli, freePort, startServe, ROOT } from './lib.mjs';
import { decodePng, comparePixels } from './png.mjs';

const A = args();
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const SENTENCE = 'The cat sat on the mat because it was tired.';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bl-page-'));

const server = await startServe();
const site = cli(path.join(ROOT, 'serve.sh'), '--print-root').trim().split('\n').pop();
const hasDefault = existsSync(path.join(site, 'weights', 'manifest.json'));
const testModel = A['test-model'] && readFileSync(A['test-model']);
let modelFile = null;       // path of the model the page shows, for `bertlens render`
if (hasDefault) {
  const man = JSON.parse(readFileSync(path.join(site, 'weights', 'manifest.json'), 'utf8'));
  const e = (man.models || []).find((m) => m.name === man.default) || man.models[0];
  modelFile = path.join(site, 'weights', e.file);
  console.log(`page: default model ${e.name} (${e.file})`);
} else {
  if (!testModel) { console.error('no default model in the site and no --test-model'); process.exit(2); }
  modelFile = A['test-model'];
  console.log('page: no weights/manifest.json in the site yet: serving the test model as the default');
}

const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium', args: CHROMIUM_ARGS });

/* A page with the bookkeeping every test wants: console errors, foreign requests, and (without a
   default model) the test model routed in as weights/. */
async function openPage({ dpr = 1, width = 1100, routes = null, expectErrors = false } = {}) {
  // The offline service worker (web/sw.js) is tested by hosting.test.mjs; here it would fetch
  // around the request interception these tests rely on.
  const context = await browser.newContext({ viewport: { width, height: 900 }, deviceScaleFactor: dpr, acceptDownloads: true, serviceWorkers: 'block' });
  const p = await context.newPage();
  p.errors = [];
  p.foreign = [];
  p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
  p.on('pageerror', (e) => p.errors.push(`pageerror: ${e.message}`));
  p.on('crash', () => console.error('page crashed'));
  p.seen = [];
  context.on('request', (r) => {
    const u = r.url();
    p.seen.push(u);
    if (!u.startsWith(server.base) && !u.startsWith('blob:') && !u.startsWith('data:')) p.foreign.push(u);
  });
  if (!hasDefault) {
    const size = testModel.length, sha = (await import('node:crypto')).createHash('sha256').update(testModel).digest('hex');
    await context.route('**/weights/manifest.json', (r) => r.fulfill({ contentType: 'application/json',
      body: JSON.stringify({ default: 'test', models: [{ name: 'test', file: 'test.int8.bin', size, sha256: sha }] }) }));
    await context.route('**/weights/test.int8.bin', (r) => r.fulfill({ contentType: 'application/octet-stream', body: testModel }));
  }
  if (routes) await routes(context);
  // main-thread long tasks: the page must never freeze (inference is in the worker)
  await context.addInitScript(() => {
    window.__longTasks = [];
    try { new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true }); } catch { /* unsupported */ }
  });
  p.expectErrors = expectErrors;
  return p;
}

const state = (p) => p.evaluate(() => document.body.dataset.state);
const metrics = (p) => p.evaluate(() => JSON.parse(JSON.stringify(window.__bertlens.metrics)));
const frames = (p) => p.evaluate(() => window.__bertlens.metrics.frames);
async function waitFrameAfter(p, n, timeout = 20000) {
  await p.waitForFunction((k) => window.__bertlens.metrics.frames > k, n, { timeout });
  await p.waitForTimeout(30);
}
async function waitRunAfter(p, n, timeout = 20000) {   // a frame that re-ran the model
  await p.waitForFunction((k) => window.__bertlens.metrics.inputToFrameMs.length > k, n, { timeout });
}
const runs = (p) => p.evaluate(() => window.__bertlens.metrics.inputToFrameMs.length);
async function waitReady(p, timeout = 60000) {
  await p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout });
  return state(p);
}
// The canvas as a PNG data URL, decoded here (far faster than shipping a pixel array as JSON).
const canvasPixels = async (p) => decodePng(Buffer.from((await p.evaluate(() =>
  document.getElementById('view').toDataURL('image/png'))).split(',')[1], 'base64'));
function distinctColours(img) {
  const s = new Set();
  for (let i = 0; i < img.pixels.length && s.size < 100; i += 4 * 31) s.add((img.pixels[i] << 16) | (img.pixels[i + 1] << 8) | img.pixels[i + 2]);
  return s.size;
}
const hashOf = (o) => '#' + new URLSearchParams(o).toString();
const cliBin = A.cli && existsSync(A.cli) ? A.cli : null;
const figures = {};
const tStart = Date.now();
const phase = (name) => console.log(`[${((Date.now() - tStart) / 1000).toFixed(1)} s] ${name}`);

try {
  // ------------------------------------------------------------ load, first view, pixels
  const p = await openPage();
  const t0 = Date.now();
  await p.goto(server.base + hashOf({ text: SENTENCE, layer: 0, head: 0, view: 'heatmap' }));
  check(await waitReady(p) === 'ready', `page reaches data-state=ready (error: ${await p.textContent('#error-msg')})`);
  const m0 = await metrics(p), firstN = await p.evaluate(() => window.__bertlens.run && window.__bertlens.run.n);
  figures.firstViewMs = m0.firstViewMs;
  console.log(`first view: ${m0.firstViewMs.toFixed(0)} ms after navigation (wall ${Date.now() - t0} ms; core ${m0.loadMs.core.toFixed(0)} ms, ` +
    `download ${m0.loadMs.download.toFixed(0)} ms, load ${m0.loadMs.load.toFixed(0)} ms, warm-up runs ${m0.loadMs.warm.toFixed(0)} ms); ` +
    `first inference ${m0.runMs[0].toFixed(1)} ms (n = ${firstN})`);
  const model = await p.evaluate(() => window.__bertlens.model);
  check(model.layers >= 2 && model.heads >= 2, `model info ${model.layers}x${model.heads}`);
  // serve.sh's COOP/COEP make the page cross-origin isolated: the threaded core runs (every
  // comparison below with the native CLI then checks it; hosting.test.mjs covers one thread)
  const iso = await p.evaluate(() => self.crossOriginIsolated);
  check(iso && model.threads >= 2, `cross-origin isolated (${iso}): the threaded core with ${model.threads} threads`);
  check((await p.textContent('#model-info')).includes(`${model.layers} layers`), 'model info shown');
  if (modelFile && cliBin) {
    // the converter's attention fidelity record as `bertlens info` words it ("not measured" for
    // a file made before the converter stored one)
    const fid = JSON.parse(cli(cliBin, 'info', '-m', modelFile)).fidelity;
    const shownFid = await p.textContent('#model-fidelity');
    check(shownFid === fid.text && /^\w+: attention (within|fidelity not measured)/.test(shownFid),
      `the model's attention fidelity shown ("${shownFid}", info: "${fid.text}")`);
  }
  const img0 = await canvasPixels(p);
  check(img0.w > 100 && img0.h > 100, `canvas has a view (${img0.w}x${img0.h})`);
  check(distinctColours(img0) > 10, `heatmap has non-trivial content (${distinctColours(img0)} colours)`);
  const opts = m0.lastOpts;
  if (cliBin) {
    const png = path.join(tmp, 'ref.png');
    cli(cliBin, 'render', '-m', modelFile, SENTENCE, '--view', 'heatmap', '--layer', '0', '--head', '0',
      '--width', String(opts.width), '--scale', '1', '-o', png);
    const c = comparePixels(decodePng(readFileSync(png)), img0);
    check(c.sameSize && c.frac < 0.005, `canvas matches \`bertlens render\` (${(c.frac * 100).toFixed(3)}% pixels differ, max ${c.maxDiff})`);
  }
  const run = await p.evaluate(() => window.__bertlens.run);
  check(run.tokens[0] === '[CLS]' && run.tokens.includes('cat'), `tokens: ${run.tokens.join(' ')}`);

  // ------------------------------------------------------------ layer/head via UI, hash, keys
  phase('layer/head via UI, hash, keys');
  let f = await frames(p);
  await p.selectOption('#layer', '1');
  await waitFrameAfter(p, f);
  check(/layer=1/.test(await p.evaluate(() => location.hash)), 'layer picker updates the URL hash');
  const img1 = await canvasPixels(p);
  check(comparePixels(img0, img1).frac > 0.001, 'layer 1 looks different from layer 0');
  f = await frames(p);
  await p.selectOption('#head', '-1');
  await waitFrameAfter(p, f);
  check(/head=mean/.test(await p.evaluate(() => location.hash)), 'mean over heads in the hash');

  f = await frames(p);
  await p.evaluate((h) => { location.hash = h; }, hashOf({ text: SENTENCE, layer: 0, head: 2, view: 'heatmap' }));
  await waitFrameAfter(p, f);
  check(await p.inputValue('#head') === '2' && await p.inputValue('#layer') === '0', 'hash change selects layer 0 head 2');
  // display settings travel in the hash too
  f = await frames(p);
  await p.evaluate((h) => { location.hash = h; }, hashOf({ text: SENTENCE, layer: 0, head: 2, view: 'heatmap', cmap: 'magma', dark: 1, hide: 1, thr: '0.10' }));
  await waitFrameAfter(p, f);
  const ds = await p.evaluate(() => ({ c: document.getElementById('colormap').value, d: document.getElementById('dark').checked,
    h: document.getElementById('hide-special').checked, t: document.getElementById('threshold').value, dark: document.body.classList.contains('dark') }));
  check(ds.c === '2' && ds.d && ds.h && ds.t === '0.1' && ds.dark, `colormap, dark, hide, threshold from the hash (${JSON.stringify(ds)})`);
  f = await frames(p);
  await p.evaluate((h) => { location.hash = h; }, hashOf({ text: SENTENCE, layer: 0, head: 2, view: 'heatmap', cmap: 'ylgnbu', dark: 0, hide: 0, thr: '0' }));
  await waitFrameAfter(p, f);
  // invalid values are ignored, long text is capped
  f = await frames(p);
  await p.evaluate(() => { location.hash = '#layer=999&head=-7&view=<script>&text=' + 'a'.repeat(5000); });
  await waitFrameAfter(p, f);
  const st = await p.evaluate(() => ({ ...window.__bertlens.state }));
  check(st.layer === 0 && st.head === 2 && st.view === 'heatmap', `invalid hash values ignored (${st.layer}, ${st.head}, ${st.view})`);
  check(st.text.length === 2000, `text from the hash capped at 2000 (${st.text.length})`);

  f = await frames(p);
  await p.evaluate((h) => { location.hash = h; }, hashOf({ text: SENTENCE, layer: 0, head: 0, view: 'heatmap' }));
  await waitFrameAfter(p, f);
  await p.focus('#view');
  f = await frames(p);
  await p.keyboard.press('ArrowDown');
  await p.keyboard.press('ArrowRight');
  await waitFrameAfter(p, f);
  await p.waitForFunction(() => window.__bertlens.state.layer === 1 && window.__bertlens.state.head === 1, null, { timeout: 5000 }).catch(() => {});
  const st2 = await p.evaluate(() => ({ ...window.__bertlens.state }));
  check(st2.layer === 1 && st2.head === 1, `arrow keys move layer/head (${st2.layer}, ${st2.head})`);

  // ------------------------------------------------------------ hover tooltip and redraw time
  phase('hover tooltip and redraw time');
  const box = await p.locator('#view').boundingBox();
  let tipText = '';
  for (let k = 0; k < 40 && !/→/.test(tipText); k++) {
    await p.mouse.move(box.x + box.width * (0.3 + 0.015 * k), box.y + box.height * (0.35 + 0.012 * k));
    await p.waitForTimeout(60);
    tipText = await p.evaluate(() => { const t = document.getElementById('tooltip'); return t.hidden ? '' : t.textContent; });
  }
  check(/→ .*: \d\.\d{3}$/.test(tipText), `hover shows "from → to: value" (${tipText})`);
  const before = (await metrics(p)).hoverMs.length;
  for (let k = 0; k < 30; k++) {
    await p.mouse.move(box.x + box.width * (0.35 + 0.01 * k), box.y + box.height * (0.4 + 0.008 * k));
    await p.waitForTimeout(40);
  }
  await p.waitForTimeout(200);
  const hv = (await metrics(p)).hoverMs.slice(before), rd = (await metrics(p)).renderMs.slice(-hv.length);
  const med = (a) => a.length ? [...a].sort((x, y) => x - y)[a.length >> 1] : NaN;
  figures.hoverMedianMs = med(hv);
  figures.renderMedianMs = med(rd);
  console.log(`hover: pointer → redrawn frame median ${med(hv).toFixed(1)} ms (max ${Math.max(...hv).toFixed(1)}), core draw median ${med(rd).toFixed(1)} ms, ${hv.length} frames`);
  check(hv.length > 5, 'hover re-renders');
  await p.mouse.move(1, 1);

  // ------------------------------------------------------------ every view
  phase('every view');
  for (const v of ['model', 'head', 'neuron', 'rollout', 'flow', 'mlm', 'heatmap']) {
    f = await frames(p);
    await p.click(`#views button[data-view="${v}"]`);
    await waitFrameAfter(p, f);
    const img = await canvasPixels(p);
    check(distinctColours(img) > 3 && await state(p) === 'ready', `${v} view draws (${img.w}x${img.h})`);
    check(new RegExp(`view=${v}`).test(await p.evaluate(() => location.hash)), `${v} view in the hash`);
  }
  // model view: click a thumbnail opens it as a heatmap
  f = await frames(p);
  await p.click('#views button[data-view="model"]');
  await waitFrameAfter(p, f);
  const mbox = await p.locator('#view').boundingBox();
  let opened = false;
  for (let k = 0; k < 30 && !opened; k++) {
    const x = mbox.x + mbox.width * (0.1 + 0.027 * k), y = mbox.y + mbox.height * (0.2 + 0.02 * k);
    await p.mouse.move(x, y);
    await p.waitForTimeout(60);
    const t = await p.evaluate(() => document.getElementById('tooltip').textContent);
    if (/click to open/.test(t)) {
      await p.mouse.click(x, y);
      await p.waitForFunction(() => window.__bertlens.state.view === 'heatmap', null, { timeout: 5000 }).catch(() => {});
      opened = await p.evaluate(() => window.__bertlens.state.view === 'heatmap');
    }
  }
  check(opened, 'clicking a model-view thumbnail opens its heatmap');

  // ------------------------------------------------------------ typing: debounce + re-run time
  phase('typing: debounce + re-run time');
  const typing = [];
  for (const text of ['The dog chased the ball across the park.', 'A much longer sentence with many more words so that the number of tokens grows towards the sixty four token mark we care about, and then some more words.',
    'When the old lighthouse keeper finally retired, the villagers gathered on the windy harbour wall to thank him for forty years of nights spent watching the sea, and he told them quietly that the light had kept him company too, and that he would still climb the stairs each evening to watch the boats come home.']) {
    await p.mouse.move(1, 1);
    const r0 = await runs(p);
    await p.fill('#text', text);
    await waitRunAfter(p, r0);
    const mm = await metrics(p);
    const n = (await p.evaluate(() => window.__bertlens.run.n));
    typing.push({ n, endToEndMs: mm.inputToFrameMs.at(-1), runMs: mm.runMs.at(-1), renderMs: mm.renderMs.at(-1), roundTripMs: mm.roundTripMs.at(-1) });
  }
  figures.typing = typing;
  for (const t of typing) console.log(`typing: n=${t.n}: forward ${t.runMs.toFixed(1)} ms + draw ${t.renderMs.toFixed(1)} ms; worker round trip ${t.roundTripMs.toFixed(1)} ms; input event → frame ${t.endToEndMs.toFixed(1)} ms (incl. 120 ms debounce)`);
  check(typing.every((t) => t.runMs !== undefined), 'typing re-runs the model');

  // ------------------------------------------------------------ masked LM: click to mask
  phase('masked LM: click to mask');
  if (model.hasMlm) {
    f = await frames(p);
    await p.fill('#text', 'Paris is the [MASK] of France.');
    await waitFrameAfter(p, f);
    f = await frames(p);
    await p.click('#views button[data-view="mlm"]');
    await waitFrameAfter(p, f);
    const r = await p.evaluate(() => window.__bertlens.run);
    check(r.mlm.length === 1 && r.mlm[0].top.length === 5, 'one [MASK] with top-5 predictions');
    const b2 = await p.locator('#view').boundingBox();
    let masked = false;
    outer: for (let y = 0.05; y < 0.95; y += 0.06) for (let x = 0.03; x < 0.97; x += 0.04) {
      await p.mouse.move(b2.x + b2.width * x, b2.y + b2.height * y);
      await p.waitForTimeout(25);
      const t = await p.evaluate(() => document.getElementById('tooltip').textContent);
      if (/click to mask/.test(t) && !/\[MASK\]|\[CLS\]|\[SEP\]/.test(t)) {
        f = await frames(p);
        await p.mouse.click(b2.x + b2.width * x, b2.y + b2.height * y);
        await waitFrameAfter(p, f).catch(() => {});
        masked = (await p.inputValue('#text')).split('[MASK]').length === 3;
        break outer;
      }
    }
    check(masked, `clicking a token masks it and re-runs (${await p.inputValue('#text')})`);
  }

  // ------------------------------------------------------------ untrusted text never becomes markup
  phase('untrusted text never becomes markup');
  f = await frames(p);
  await p.fill('#text', '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>');
  await waitFrameAfter(p, f);
  await p.evaluate((h) => { location.hash = h; }, hashOf({ text: '<img src=x onerror="window.__pwned=3">', view: 'head' }));
  await p.waitForTimeout(500);
  const bx = await p.locator('#view').boundingBox();
  for (let k = 0; k < 10; k++) { await p.mouse.move(bx.x + 30 + k * 20, bx.y + 60 + k * 10); await p.waitForTimeout(30); }
  check(await p.evaluate(() => window.__pwned === undefined && document.querySelectorAll('img').length === 0), 'text input is never executed or parsed as HTML');
  // the CSP itself: only 'self' (+ 'wasm-unsafe-eval'); an injected inline script is refused
  const csp = await p.evaluate(async () => {
    const meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]').content;
    let violated = false;
    document.addEventListener('securitypolicyviolation', () => { violated = true; }, { once: true });
    const sc = document.createElement('script');
    sc.textContent = 'window.__inline = 1';
    document.head.append(sc);
    sc.remove();
    await new Promise((r) => setTimeout(r, 100));
    return { meta, ran: window.__inline === 1, violated };
  });
  // connect-src alone may name other hosts: the Hugging Face Hub and the hosts it redirects
  // downloads to (and, in ./serve.sh's local build, loopback for a mock or mirror hub)
  const dirs = Object.fromEntries(csp.meta.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0]).map((d) => [d[0], d.slice(1)]));
  const hubSource = (src) => src === "'self'" || /^https:\/\/([a-z0-9-]+\.)*(huggingface\.co|hf\.co)$/.test(src) ||
    /^https:\/\/\*\.cdn\.hf\.co$/.test(src) || /^http:\/\/(127\.0\.0\.1|localhost):\*$/.test(src);
  check(/script-src 'self' 'wasm-unsafe-eval'/.test(csp.meta) && /default-src 'self'/.test(csp.meta) &&
    Object.entries(dirs).every(([k, v]) => k === 'connect-src' || !v.some((x) => /https?:|\*/.test(x))),
    `CSP allows only 'self' (+ wasm-unsafe-eval) but for connections: ${csp.meta}`);
  check(Array.isArray(dirs['connect-src']) && dirs['connect-src'].includes("'self'") && dirs['connect-src'].every(hubSource) &&
    dirs['connect-src'].some((x) => x === 'https://huggingface.co'),
    `CSP connects to this origin and the Hub's hosts only: ${dirs['connect-src']}`);
  check(!csp.ran && csp.violated, 'the CSP blocks an injected inline script');
  p.errors = p.errors.filter((e) => !/Content Security Policy/.test(e));   // that refusal is logged on purpose

  // ------------------------------------------------------------ export
  phase('export');
  f = await frames(p);
  await p.evaluate((h) => { location.hash = h; }, hashOf({ text: SENTENCE, view: 'heatmap', layer: 0, head: 0 }));
  await waitFrameAfter(p, f);
  await p.mouse.move(1, 1);   // no hover highlight while exporting
  f = await frames(p);
  await p.evaluate(() => document.getElementById('view').dispatchEvent(new PointerEvent('pointerleave')));
  await waitFrameAfter(p, f);
  const [dl] = await Promise.all([p.waitForEvent('download'), p.click('#export-png')]);
  const pngPath = path.join(tmp, 'export.png');
  await dl.saveAs(pngPath);
  const exp = decodePng(readFileSync(pngPath)), cv = await canvasPixels(p);
  const ce = comparePixels(exp, cv, 2);
  check(ce.sameSize && ce.frac < 0.001, `PNG export is the canvas (${exp.w}x${exp.h} vs ${cv.w}x${cv.h}, ${(ce.frac * 100).toFixed(3)}% differ, ${dl.suggestedFilename()})`);
  const [dj] = await Promise.all([p.waitForEvent('download'), p.click('#export-json')]);
  const jsonPath = path.join(tmp, 'export.json');
  await dj.saveAs(jsonPath);
  const ej = JSON.parse(readFileSync(jsonPath, 'utf8'));
  const nTok = ej.tokens.length;
  check(ej.layers === model.layers && ej.heads === model.heads && ej.attentions.length === model.layers &&
    ej.attentions[0].length === model.heads && ej.attentions[0][0].length === nTok && ej.attentions[0][0][0].length === nTok,
  `JSON export has every attention map (${ej.layers}x${ej.heads}x${nTok}x${nTok})`);
  if (cliBin) {
    const nat = JSON.parse(cli(cliBin, 'attention', '-m', modelFile, SENTENCE));
    let d = 0;
    nat.attentions.forEach((l, li) => l.forEach((h, hi) => h.forEach((row, i) => row.forEach((v, j) => { d = Math.max(d, Math.abs(v - ej.attentions[li][hi][i][j])); }))));
    check(JSON.stringify(nat.tokens) === JSON.stringify(ej.tokens) && d <= 5e-3, `JSON export matches \`bertlens attention\` (max Δ ${d.toExponential(2)})`);
  }

  // ------------------------------------------------------------ bring your own model
  phase('bring your own model');
  if (testModel) {
    const inUse = await p.textContent('#model-info');
    await p.setInputFiles('#model-file', { name: 'garbage.bin', mimeType: 'application/octet-stream', buffer: Buffer.from('definitely not a model') });
    await p.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: 10000 }).catch(() => {});
    const msg = await p.textContent('#error-msg');
    check(/garbage\.bin/.test(msg) && await state(p) === 'ready', `a bad model file shows an error and the page keeps working (${msg})`);
    // the header names the model still in use, not the rejected file ("loading garbage.bin…")
    const after = await p.textContent('#model-info');
    check(after === inUse && !/garbage/.test(after), `after a rejected file the header names the model in use (${after})`);
    f = await frames(p);
    await p.setInputFiles('#model-file', A['test-model']);
    await waitFrameAfter(p, f);
    check((await p.textContent('#model-info')).includes(path.basename(A['test-model'])) && await p.evaluate(() => document.getElementById('error').hidden),
      `own model loads (${await p.textContent('#model-info')})`);
  }
  // (before the drop test below, whose base64 decoding is a long task of the test's own)
  const longTasks = await p.evaluate(() => window.__longTasks);
  console.log(`main thread: ${longTasks.length} long tasks (> 50 ms), longest ${Math.max(0, ...longTasks).toFixed(0)} ms`);
  check(Math.max(0, ...longTasks) < 250, `the main thread never blocks for 250 ms or more (longest ${Math.max(0, ...longTasks).toFixed(0)} ms)`);
  // drag and drop a model file onto the page
  if (testModel) {
    f = await frames(p);
    await p.evaluate(({ b64, name }) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
      document.body.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, { b64: testModel.toString('base64'), name: 'dropped.bin' });
    await waitFrameAfter(p, f);
    await p.waitForFunction(() => document.getElementById('model-info').textContent.startsWith('dropped.bin'), null, { timeout: 10000 }).catch(() => {});
    check((await p.textContent('#model-info')).startsWith('dropped.bin') && await state(p) === 'ready', `a dropped model loads (${await p.textContent('#model-info')})`);
  }
  check(p.errors.length === 0, `no console errors (${p.errors.join(' | ')})`);
  check(p.foreign.length === 0, `no request to another host (${p.foreign.join(' ')})`);
  // serve.sh sends COOP/COEP: the page is cross-origin isolated and the worker takes the threaded
  // core (the relaxed-SIMD one where Chromium has relaxed SIMD: cores.test.mjs)
  check(p.seen.some((u) => /bertlens_core(_relaxed)?_mt\.wasm$/.test(u)) && p.seen.some((u) => /weights\/.+\.(bin|part\d+)$/.test(u)),
    `the request log covers the worker's fetches (${p.seen.length} requests)`);
  await p.context().close();

  // ------------------------------------------------------------ sharp at devicePixelRatio 2
  phase('sharp at devicePixelRatio 2');
  const p2 = await openPage({ dpr: 2 });
  await p2.goto(server.base + hashOf({ text: SENTENCE, view: 'heatmap' }));
  check(await waitReady(p2) === 'ready', 'ready at dpr 2');
  const d2 = await p2.evaluate(() => { const c = document.getElementById('view'); return { w: c.width, css: c.getBoundingClientRect().width }; });
  check(Math.abs(d2.w - 2 * d2.css) <= 1, `canvas is CSS size × dpr (${d2.w} px for ${d2.css} CSS px)`);
  if (cliBin) {   // text drawn at 2× by the core, not scaled up by the browser
    const o2 = (await metrics(p2)).lastOpts, png = path.join(tmp, 'ref2.png');
    cli(cliBin, 'render', '-m', modelFile, SENTENCE, '--view', 'heatmap', '--layer', '0', '--head', '0',
      '--width', String(o2.width), '--scale', '2', '-o', png);
    const c2 = comparePixels(decodePng(readFileSync(png)), await canvasPixels(p2));
    check(c2.sameSize && c2.frac < 0.005, `dpr 2 canvas matches \`bertlens render --scale 2\` (${(c2.frac * 100).toFixed(3)}% differ)`);
  }
  check(p2.errors.length === 0, `no console errors at dpr 2 (${p2.errors.join(' | ')})`);
  await p2.context().close();

  // ------------------------------------------------------------ memory ceiling (?mem=MB)
  phase('memory ceiling');
  {
    const pm = await openPage();
    const long = Array.from({ length: 300 }, (_, i) => `word${i % 11}`).join(' ');
    await pm.goto(server.base + '?mem=1' + hashOf({ text: SENTENCE, view: 'heatmap' }));
    check(await waitReady(pm) === 'ready', 'ready with a 1 MB ceiling (a short text fits)');
    await pm.fill('#text', long);
    await pm.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: 20000 }).catch(() => {});
    const msg = await pm.textContent('#error-msg');
    check(/needs [\d.]+ MB, above the limit of 1\.0 MB/.test(msg) && await state(pm) === 'ready',
      `a run above the ceiling shows a message and the page keeps working (${msg})`);
    const fm = await frames(pm);
    await pm.fill('#text', 'A short sentence fits.');
    await waitFrameAfter(pm, fm);
    check(await pm.evaluate(() => document.getElementById('error').hidden), 'a text that fits runs and clears the message');
    check(pm.errors.length === 0, `no console errors under the ceiling (${pm.errors.join(' | ')})`);
    await pm.context().close();
  }

  // ------------------------------------------------------------ 16-bit attention maps (?att=16)
  // (automatic for bert-base beyond ~240 tokens; forced here on the small model): the page says
  // so, draws, and the hover value is the 16-bit one (within half a step of the float map's)
  phase('16-bit attention maps');
  {
    const pa = await openPage();
    await pa.goto(server.base + '?att=16' + hashOf({ text: SENTENCE, view: 'heatmap' }));
    check(await waitReady(pa) === 'ready', 'ready with ?att=16');
    const t = await pa.textContent('#timing');
    check(/attention kept to 1\/65535/.test(t), `the status line says the maps are 16-bit (${t})`);
    const [d16] = await Promise.all([pa.waitForEvent('download'), pa.click('#export-json')]);
    const p16 = path.join(tmp, 'export16.json');
    await d16.saveAs(p16);
    const e16 = JSON.parse(readFileSync(p16, 'utf8'));
    let d = 0;
    ej.attentions.forEach((l, li) => l.forEach((h, hi) => h.forEach((row, i) => row.forEach((v, j) => { d = Math.max(d, Math.abs(v - e16.attentions[li][hi][i][j])); }))));
    check(JSON.stringify(e16.tokens) === JSON.stringify(ej.tokens) && d > 0 && d <= 1e-5,
      `its JSON export is within 1e-5 of the float maps' (max Δ ${d.toExponential(2)})`);
    check(pa.errors.length === 0, `no console errors with 16-bit maps (${pa.errors.join(' | ')})`);
    await pa.context().close();
  }

  // ------------------------------------------------------------ threaded core missing
  // (a host that sends COOP/COEP but serves no bertlens_core_mt.* nor bertlens_core_relaxed_mt.*):
  // the page runs on one thread
  phase('threaded core missing');
  {
    const pt = await openPage({ routes: (ctx) => ctx.route('**/bertlens_core*_mt.*', (r) => r.fulfill({ status: 404, body: 'not found' })) });
    await pt.goto(server.base + hashOf({ text: SENTENCE, view: 'heatmap' }));
    check(await waitReady(pt) === 'ready' && await pt.evaluate(() => self.crossOriginIsolated && window.__bertlens.model.threads === 1),
      `without bertlens_core_mt.js the isolated page still gets ready, on one thread (${await pt.textContent('#error-msg')})`);
    const other = pt.errors.filter((e) => !/Failed to load resource|404|bertlens_core(_relaxed)?_mt/.test(e));   // the refused files themselves
    check(other.length === 0, `no other console errors (${other.join(' | ')})`);
    await pt.context().close();
  }

  // ------------------------------------------------------------ failures: 404, truncated, corrupt
  phase('failures: 404, truncated, corrupt');
  const weightsRoute = '**/weights/*.{bin,part*}';
  // the bytes the server would send (the test model when it stands in for the default)
  const original = async (r) => (hasDefault ? Buffer.from(await (await r.fetch()).body()) : Buffer.from(testModel));
  const octet = { 'content-type': 'application/octet-stream' };
  const cases = [
    ['missing weights file (404)', (r) => r.fulfill({ status: 404, body: 'not found' }), /404/],
    ['truncated download', async (r) => { const b = await original(r); await r.fulfill({ body: b.subarray(0, b.length >> 1), headers: octet }); }, /truncated/i],
    ['checksum mismatch', async (r) => { const b = await original(r); b[b.length - 7] ^= 0xff; await r.fulfill({ body: b, headers: octet }); }, /checksum|sha-?256|corrupt/i],
  ];
  for (const [name, handler, re] of cases) {
    const pe = await openPage({ routes: (ctx) => ctx.route(weightsRoute, handler) });
    await pe.goto(server.base);
    const s = await waitReady(pe);
    const msg = await pe.textContent('#error-msg');
    check(s === 'error' && re.test(msg), `${name}: data-state=${s}, #error says: ${msg}`);
    check(await pe.isVisible('#retry'), `${name}: a retry button is offered`);
    if (name.startsWith('missing')) {   // retry after the file comes back
      await pe.context().unroute(weightsRoute);
      await pe.click('#retry');
      check(await waitReady(pe) === 'ready', 'retry after the file is back reaches ready');
    }
    await pe.context().close();
  }
  // without a default model, your own still opens
  if (testModel) {
    const pe = await openPage({ routes: (ctx) => ctx.route(weightsRoute, (r) => r.fulfill({ status: 404, body: 'not found' })) });
    await pe.goto(server.base);
    await waitReady(pe);
    check(/your own model/.test(await pe.textContent('#error-msg')), 'the error points to "your own model"');
    await pe.setInputFiles('#model-file', A['test-model']);
    check(await pe.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 20000 }).then(() => true, () => false),
      'after a failed default model, an own model file loads and draws');
    await pe.context().close();
  }

  // a sharded model (bertlens convert --shard-mb): parts concatenated, each part's SHA-256 checked
  if (A['test-shards']) {
    const dir = path.dirname(A['test-shards']), sm = JSON.parse(readFileSync(A['test-shards'], 'utf8'));
    const shardRoutes = (corruptPart) => async (ctx) => {
      await ctx.route('**/weights/manifest.json', (r) => r.fulfill({ contentType: 'application/json',
        body: JSON.stringify({ default: 'sharded', models: [{ name: 'sharded', file: `shards/${path.basename(A['test-shards'])}` }] }) }));
      await ctx.route('**/weights/shards/*', (r) => {
        const name = decodeURIComponent(new URL(r.request().url()).pathname.split('/').pop());
        if (!existsSync(path.join(dir, name))) return r.fulfill({ status: 404, body: 'no' });
        const b = Buffer.from(readFileSync(path.join(dir, name)));
        if (name === corruptPart) b[10] ^= 1;
        return r.fulfill({ body: b, headers: { 'content-type': name.endsWith('.json') ? 'application/json' : 'application/octet-stream' } });
      });
    };
    const psh = await openPage({ routes: shardRoutes(null) });
    await psh.goto(server.base);
    check(await waitReady(psh) === 'ready', `sharded model (${sm.parts.length} parts) loads: ${await psh.textContent('#error-msg')}`);
    check(psh.errors.length === 0, `no console errors with shards (${psh.errors.join(' | ')})`);
    await psh.context().close();
    const pbad = await openPage({ routes: shardRoutes(sm.parts[1].path) });
    await pbad.goto(server.base);
    const sb = await waitReady(pbad);
    const mb = await pbad.textContent('#error-msg');
    check(sb === 'error' && /checksum/i.test(mb) && mb.includes(sm.parts[1].path), `a corrupt part is named: ${mb}`);
    await pbad.context().close();
  }

  // a manifest without sizes: the length comes from the response
  {
    const pn = await openPage({ routes: (ctx) => ctx.route('**/weights/manifest.json', (r) => r.fulfill({ contentType: 'application/json',
      body: JSON.stringify({ default: 'nosize', models: [{ name: 'nosize', file: hasDefault ? path.relative(path.join(site, 'weights'), modelFile) : 'test.int8.bin' }] }) })) });
    await pn.goto(server.base);
    check(await waitReady(pn) === 'ready', `a manifest without sizes works: ${await pn.textContent('#error-msg')}`);
    await pn.context().close();
  }

  // no SIMD: the feature test fails → a clear message
  const ps = await openPage();
  await ps.addInitScript(() => { const v = WebAssembly.validate; WebAssembly.validate = (b) => (b.length < 40 ? false : v(b)); });
  await ps.goto(server.base);
  const ss = await waitReady(ps);
  check(ss === 'error' && /SIMD/.test(await ps.textContent('#error-msg')), 'WASM without SIMD is reported');
  await ps.context().close();

  // ------------------------------------------------------------ under a sub-path (relative URLs only)
  phase('under a sub-path');
  {
    const port2 = await freePort();
    const sub = spawn('python3', ['-m', 'http.server', String(port2), '--bind', '127.0.0.1', '--directory', path.dirname(site)], { stdio: 'ignore' });
    try {
      const url = `http://127.0.0.1:${port2}/${path.basename(site)}/`;
      for (let i = 0; i < 50; i++) { try { if ((await fetch(url)).ok) break; } catch { /* starting */ } await new Promise((r) => setTimeout(r, 100)); }
      const ps2 = await openPage();
      await ps2.goto(url);
      check(await waitReady(ps2) === 'ready', `works under a sub-path (${url}): ${await ps2.textContent('#error-msg')}`);
      await ps2.context().close();
    } finally { sub.kill(); }
  }

  // ------------------------------------------------------------ sizes
  const size = (f) => { const b = readFileSync(path.join(site, f)); return { raw: b.length, gzip: gzipSync(b, { level: 9 }).length }; };
  const files = ['bertlens_core.wasm', 'bertlens_core.js', 'app.js', 'worker.js', 'index.html', 'style.css', 'fonts/DejaVuSans-subset.ttf'];
  let raw = 0, gz = 0;
  for (const f of files) {
    if (!existsSync(path.join(site, f))) continue;
    const s = size(f);
    raw += s.raw;
    gz += s.gzip;
    console.log(`size: ${f}: ${(s.raw / 1024).toFixed(1)} KiB (${(s.gzip / 1024).toFixed(1)} KiB gzip)`);
  }
  console.log(`size: WASM + JS + HTML/CSS + font: ${(raw / 1024).toFixed(1)} KiB (${(gz / 1024).toFixed(1)} KiB gzip), model ${(statSync(modelFile).size / 1048576).toFixed(1)} MiB`);
} finally {
  await browser.close();
  server.proc.kill();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(summary('page'));
