// single.test.mjs — the single-file build (tools/build_single.sh) opened from file:// in headless
// Chromium, with no server.
//   node tests/e2e/single.test.mjs --dir DIR --test-model X.bin
// DIR/bertlens.html (no model): reaches data-state="choose" with the prompt and no error, then a
// picked .bin reaches ready and re-runs when the text changes. DIR/bertlens-with-model.html
// (when built): reaches ready on its own, and a dropped .bin replaces its model. Both: no request other than file:/data:/blob:, no
// console error, no CSP violation, a CSP without 'unsafe-inline' that blocks an injected script.
import { existsSync, statSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { args, check, summary } from './lib.mjs';

const A = args();
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
if (!A.dir || !A['test-model']) { console.error('usage: single.test.mjs --dir DIR --test-model X.bin'); process.exit(2); }
const plain = path.resolve(A.dir, 'bertlens.html'), withModel = path.resolve(A.dir, 'bertlens-with-model.html');
if (!existsSync(plain)) { console.error(`${plain} is missing (tools/build_single.sh ${A.dir})`); process.exit(2); }

const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium', args: CHROMIUM_ARGS });
async function open(file) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const p = await context.newPage();
  p.errors = [];
  p.requests = [];
  p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
  p.on('pageerror', (e) => p.errors.push(`pageerror: ${e.message}`));
  context.on('request', (r) => p.requests.push(r.url()));
  await context.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await p.goto(pathToFileURL(file).href + '#text=' + encodeURIComponent('The cat sat on the [MASK].'));
  return p;
}
const state = (p) => p.evaluate(() => document.body.dataset.state);
const settle = (p, timeout = 60000) => p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout }).then(() => state(p));
const colours = (p) => p.evaluate(() => {
  const c = document.getElementById('view'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, s = new Set();
  for (let i = 0; i < d.length && s.size < 100; i += 4 * 31) s.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
  return s.size;
});
async function common(p, name) {
  const csp = await p.evaluate(() => document.querySelector('meta[http-equiv="Content-Security-Policy"]').content);
  check(!/'unsafe-inline'|'unsafe-eval'/.test(csp) && /script-src 'sha256-[A-Za-z0-9+/=]+' 'wasm-unsafe-eval'/.test(csp),
    `${name}: CSP allows only hashed inline script (+wasm) (${csp.slice(0, 80)}…)`);
  const injected = await p.evaluate(() => {
    window.__injected = false;
    const s = document.createElement('script');
    s.textContent = 'window.__injected = true;';
    document.body.append(s);
    return window.__injected;
  });
  check(injected === false, `${name}: the CSP blocks an injected inline script`);
  const violations = (await p.evaluate(() => window.__csp)).filter((v) => !/^script-src-elem inline|^script-src inline/.test(v));
  check(violations.length === 0, `${name}: no CSP violation by the page itself (${violations.join(', ')})`);
  const net = p.requests.filter((u) => !/^(file|data|blob):/.test(u));
  check(net.length === 0, `${name}: no network request (${net.slice(0, 3).join(', ')})`);
  const errs = p.errors.filter((e) => !/Content Security Policy/.test(e));   // the injected script's refusal
  check(errs.length === 0, `${name}: no console errors (${errs.join(' | ')})`);
}

let code = 1;
try {
  // ---------------------------------------------------------------- without a model
  console.log(`single: ${path.basename(plain)} ${(statSync(plain).size / 1048576).toFixed(2)} MB`);
  const p = await open(plain);
  check(await settle(p) === 'choose', `no model: data-state=choose (${await state(p)}: ${await p.textContent('#error-msg')})`);
  check(await p.isVisible('#choose-model'), 'no model: the "choose a model" prompt is shown');
  check(!(await p.isVisible('#error')), 'no model: no error shown');
  await p.setInputFiles('#model-file', A['test-model']);
  const picked = await p.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: 60000 }).then(() => true, () => false);
  check(picked, `a picked model reaches ready (${await state(p)}: ${await p.textContent('#error-msg')})`);
  check(!(await p.isVisible('#choose-model')), 'the prompt is gone once a model is loaded');
  check(await colours(p) > 10, 'the view is drawn');
  const runs = await p.evaluate(() => window.__bertlens.metrics.inputToFrameMs.length);
  await p.fill('#text', 'A different sentence entirely.');
  check(await p.waitForFunction((k) => window.__bertlens.metrics.inputToFrameMs.length > k, runs, { timeout: 20000 }).then(() => true, () => false),
    'typing re-runs the model');
  check((await p.evaluate(() => window.__bertlens.run.tokens)).includes('entirely'), 'the new text is tokenized');
  await common(p, 'bertlens.html');
  await p.context().close();

  // ---------------------------------------------------------------- with the model inlined
  if (existsSync(withModel)) {
    console.log(`single: ${path.basename(withModel)} ${(statSync(withModel).size / 1048576).toFixed(2)} MB`);
    const q = await open(withModel);
    check(await settle(q, 90000) === 'ready', `with model: data-state=ready (${await state(q)}: ${await q.textContent('#error-msg')})`);
    check(await colours(q) > 10, 'with model: the view is drawn');
    const m = await q.evaluate(() => window.__bertlens.model);
    check(m && m.layers > 0 && /MB/.test(await q.textContent('#model-info')), `with model: ${m && m.name} loaded`);
    // the file carries the SIMD128 core only (tools/build_single.mjs): the worker falls back to it
    check(m && m.core === 'simd128' && m.kernels === 'wasm-simd128', `with model: the SIMD128 core runs (${m && m.core}, ${m && m.kernels})`);
    await q.click('#views button[data-view="mlm"]');
    await q.waitForTimeout(300);
    check(await q.evaluate(() => window.__bertlens.run.mlm.length) === 1, 'with model: the [MASK] from the URL hash is predicted');
    // a model dropped on the page replaces the inlined one
    await q.evaluate((b64) => {
      const bin = atob(b64), u = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
      const dt = new DataTransfer();
      dt.items.add(new File([u], 'dropped.bin', { type: 'application/octet-stream' }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, readFileSync(A['test-model']).toString('base64'));
    const dropped = await q.waitForFunction(() => window.__bertlens.model && window.__bertlens.model.name === 'dropped.bin' &&
      document.body.dataset.state === 'ready', null, { timeout: 30000 }).then(() => true, () => false);
    check(dropped, `with model: a dropped .bin replaces it (${await q.evaluate(() => window.__bertlens.model && window.__bertlens.model.name)})`);
    await common(q, 'bertlens-with-model.html');
    await q.context().close();
  } else {
    console.log('single: no bertlens-with-model.html (no default model small enough): skipped');
  }
  code = summary('single');
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
