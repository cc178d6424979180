// hosting.test.mjs — the published artifact (tools/build_site.sh) on a plain static server under
// the sub-path /bertlens/ (as GitHub Pages serves a project site), then offline use through the
// service worker (web/sw.js), in headless Chromium.
//   node tests/e2e/hosting.test.mjs --artifact DIR [--test-model X.bin] [--alt-model Y.bin]
//        [--test-shards shards/test.json]
// 1. /bertlens/ reaches data-state=ready; nothing is requested outside /bertlens/.
// 2. The service worker activates, fills its versioned cache (shell, core, font, manifest,
//    model) and deletes older caches of this copy (but not another copy's).
// 3. The server is stopped and the browser set offline: a reload still reaches ready.
// 4. Online again with a new manifest whose model has the same file name but other bytes: the
//    reload shows the new model (the manifest is network-first; cached weights are not mixed in).
// 5. With --test-shards, a sharded default model (every part cached) also reloads offline.
// Without a default model in the artifact, --test-model is served as the default.
import http from 'node:http';
import { readFileSync, existsSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, check, summary } from './lib.mjs';

const A = args();
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
if (!A.artifact || !existsSync(path.join(A.artifact, 'index.html'))) {
  console.error('usage: hosting.test.mjs --artifact DIR (made by tools/build_site.sh) [--test-model X.bin] [--alt-model Y.bin]');
  process.exit(2);
}
const ART = path.resolve(A.artifact);
const SUB = '/bertlens/';
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.svg': 'image/svg+xml', '.ttf': 'font/ttf', '.txt': 'text/plain' };
const sha = (b) => createHash('sha256').update(b).digest('hex');
const manifestFor = (name, file, bytes) => JSON.stringify({ default: name, models: [{ name, file, size: bytes.length, sha256: sha(bytes) }] });

/* ------------------------------------------------------------------ a plain static server */
const overrides = new Map();   // path under the artifact → Buffer (models swapped in by the test)
const log = [];
let up = true;
function handler(req, res) {
  const u = new URL(req.url, 'http://x');
  log.push(u.pathname);
  if (u.pathname === '/bertlens') { res.writeHead(301, { Location: SUB }); res.end(); return; }
  if (!u.pathname.startsWith(SUB)) { res.writeHead(404); res.end('not found'); return; }
  let rel = decodeURIComponent(u.pathname.slice(SUB.length));
  if (rel === '' || rel.endsWith('/')) rel += 'index.html';
  let body = overrides.get(rel);
  if (!body) {
    const f = path.join(ART, rel);
    if (rel.split('/').includes('..') || !existsSync(f) || !statSync(f).isFile()) { res.writeHead(404); res.end('not found'); return; }
    body = readFileSync(f);
  }
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(rel)] || 'application/octet-stream', 'Content-Length': body.length,
    'Cache-Control': 'max-age=600' });   // what GitHub Pages sends
  res.end(req.method === 'HEAD' ? undefined : body);
}
const server = http.createServer(handler);
const sockets = new Set();
server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
const origin = `http://127.0.0.1:${port}`;
const base = origin + SUB;
async function stopServer() {
  up = false;
  const closed = new Promise((r) => server.close(r));
  for (const s of sockets) s.destroy();
  await closed;
}
async function startServer() {
  await new Promise((r, j) => { server.once('error', j); server.listen(port, '127.0.0.1', r); });
  up = true;
}

let defaultName;
if (existsSync(path.join(ART, 'weights', 'manifest.json'))) {
  const man = JSON.parse(readFileSync(path.join(ART, 'weights', 'manifest.json'), 'utf8'));
  defaultName = ((man.models || []).find((m) => m.name === man.default) || man.models[0]).name;
  console.log(`hosting: artifact's default model ${defaultName}`);
} else {
  if (!A['test-model']) { console.error('the artifact has no weights/manifest.json: give --test-model'); process.exit(2); }
  const b = readFileSync(A['test-model']);
  defaultName = 'test';
  overrides.set('weights/manifest.json', Buffer.from(manifestFor('test', 'test.int8.bin', b)));
  overrides.set('weights/test.int8.bin', b);
  console.log('hosting: no weights/manifest.json in the artifact: serving the test model as the default');
}
const originalManifest = overrides.get('weights/manifest.json') || readFileSync(path.join(ART, 'weights', 'manifest.json'));

const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium', args: CHROMIUM_ARGS });
const errors = [];
const state = (p) => p.evaluate(() => document.body.dataset.state);
async function waitReady(p, timeout = 90000) {
  await p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout });
  const s = await state(p);
  if (s !== 'ready') console.error(`state ${s}: ${await p.textContent('#error-msg')}`);
  return s;
}
/* The URLs in this copy's caches, by cache name. */
const cachesOf = (p) => p.evaluate(async () => {
  const out = {};
  for (const k of await caches.keys()) out[k] = (await (await caches.open(k)).keys()).map((r) => r.url);
  return out;
});

let code = 1;
try {
  check((await fetch(origin + '/')).status === 404, 'the server answers only under /bertlens/');
  log.length = 0;
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const p = await context.newPage();
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));

  // ---------------------------------------------------------------- 1. served under /bertlens/
  const PREFIX = `bertlens:${base}:`;
  // caches the service worker must delete (an older build of this copy) and keep (another copy),
  // made from a plain file of the site before the page (and so the service worker) starts
  await p.goto(base + 'fonts/LICENSE-DejaVu.txt');
  await p.evaluate(async (pre) => {
    await (await caches.open(pre + 'old-build')).put('old', new Response('x'));
    await (await caches.open('bertlens:http://127.0.0.1:1/other/:v1')).put('old', new Response('x'));
  }, PREFIX);
  log.length = 0;   // (that visit asks for /favicon.ico; the page itself must not leave /bertlens/)
  await p.goto(base + '#text=' + encodeURIComponent('The cat sat on the mat.'));
  check(await waitReady(p) === 'ready', 'the page under /bertlens/ reaches data-state=ready');
  const name1 = await p.evaluate(() => window.__bertlens.model && window.__bertlens.model.name);
  // a host without COOP/COEP (GitHub Pages): not isolated, the single-thread core
  check(await p.evaluate(() => !self.crossOriginIsolated && window.__bertlens.model.threads === 1), 'not isolated: one thread');
  check(name1 === defaultName, `default model loaded (${name1})`);
  const outside = log.filter((u) => !u.startsWith(SUB));
  check(outside.length === 0, `nothing requested outside ${SUB} (${outside.slice(0, 5).join(', ')})`);

  // ---------------------------------------------------------------- 2. service worker + cache
  const offlineState = await p.evaluate(() => window.__bertlensOffline && window.__bertlensOffline.state);
  check(offlineState === 'waiting' || offlineState === 'registered', `offline.js registers the service worker (${offlineState})`);
  const scope = await p.evaluate(() => Promise.race([navigator.serviceWorker.ready.then((r) => r.scope),
    new Promise((r) => setTimeout(() => r(null), 60000))]));
  check(scope === base, `service worker scope is the sub-path (${scope})`);
  const swText = readFileSync(path.join(ART, 'sw.js'), 'utf8');
  const version = (swText.match(/const VERSION = '([^']*)'/) || [])[1];
  check(/^[0-9a-f]{16}$/.test(version || ''), `sw.js carries a build hash (${version})`);
  const want = ['', 'app.js', 'worker.js', 'bertlens_core.js', 'bertlens_core.wasm', 'fonts/DejaVuSans-subset.ttf', 'weights/manifest.json'];
  // the relaxed-SIMD cores, when the build made them (clang-19): in the artifact, cached, and the
  // one this Chromium runs (it has relaxed SIMD), offline too
  const relaxed = existsSync(path.join(ART, 'bertlens_core_relaxed.wasm'));
  if (relaxed) want.push('bertlens_core_relaxed.js', 'bertlens_core_relaxed.wasm', 'bertlens_core_relaxed_mt.wasm');
  if (relaxed) check(await p.evaluate(() => window.__bertlens.model.core === 'relaxed'), 'the page runs the relaxed-SIMD core');
  const man = JSON.parse(originalManifest.toString('utf8'));
  want.push('weights/' + ((man.models || []).find((m) => m.name === man.default) || man.models[0]).file);
  let cs = {};
  for (let i = 0; i < 300; i++) {   // activation follows the install (which fetches the model)
    cs = await cachesOf(p);
    if (cs[PREFIX + version] && want.every((w) => cs[PREFIX + version].includes(base + w)) && !cs[PREFIX + 'old-build']) break;
    await p.waitForTimeout(200);
  }
  const mine = cs[PREFIX + version] || [];
  check(mine.length > 0, `cache ${PREFIX + version} exists (caches: ${Object.keys(cs).join(', ')})`);
  for (const w of want) check(mine.includes(base + w), `cached: ${w || './'}`);
  check(!(PREFIX + 'old-build' in cs), 'an older build\'s cache of this copy is deleted on activate');
  check('bertlens:http://127.0.0.1:1/other/:v1' in cs, 'another copy\'s cache is left alone');
  check(await p.evaluate(() => navigator.serviceWorker.controller !== null), 'the page is controlled after activation (clients.claim)');

  // ---------------------------------------------------------------- 3. offline
  await stopServer();
  await context.setOffline(true);
  check(!(await fetch(base).then(() => true, () => false)), 'the server is really down');
  const nLog = log.length;
  await p.reload();
  check(await waitReady(p) === 'ready', 'offline: the reload reaches data-state=ready');
  check(await p.evaluate(() => window.__bertlens.model.name) === defaultName, 'offline: the cached default model');
  if (relaxed) check(await p.evaluate(() => window.__bertlens.model.core === 'relaxed'), 'offline: the cached relaxed-SIMD core');
  check(log.length === nLog, 'offline: nothing reached the server');
  // a navigation with another hash and a query works offline too
  await p.goto(base + '?utm=x#text=' + encodeURIComponent('Offline [MASK] works.') + '&view=mlm');
  check(await waitReady(p) === 'ready', 'offline: index.html with a query reaches ready');

  // ---------------------------------------------------------------- 4. update: network-first manifest
  if (A['alt-model']) {
    await context.setOffline(false);
    await startServer();
    // the hard case: the same file name with new content (a stale cache would pair them)
    const alt = readFileSync(A['alt-model']);
    const file = want[want.length - 1].slice('weights/'.length);
    const originalFile = overrides.get('weights/' + file);   // the test model, when served as the default
    overrides.set('weights/manifest.json', Buffer.from(manifestFor('alt-model', file, alt)));
    overrides.set('weights/' + file, alt);
    const nLog2 = log.length;
    await p.goto(base + '#text=' + encodeURIComponent('A new model.'));
    check(await waitReady(p) === 'ready', 'after a manifest change the page reaches ready');
    const name2 = await p.evaluate(() => window.__bertlens.model.name);
    check(name2 === 'alt-model', `the new manifest's model is shown, not the cached one (${name2})`);
    check(log.slice(nLog2).includes(SUB + 'weights/' + file), 'the new model file came from the network');
    // back to the original: the weights cached with the new manifest are dropped in turn
    overrides.set('weights/manifest.json', originalManifest);
    if (originalFile) overrides.set('weights/' + file, originalFile); else overrides.delete('weights/' + file);
    await p.reload();
    check(await waitReady(p) === 'ready', 'after the manifest is restored the page reaches ready');
    check(await p.evaluate(() => window.__bertlens.model.name) === defaultName, 'the restored manifest\'s model is shown');
  } else {
    console.log('hosting: no --alt-model: update check skipped');
  }
  // ---------------------------------------------------------------- 5. a sharded default model offline
  if (A['test-shards']) {
    if (!up) await startServer();
    await context.setOffline(false);
    const sm = JSON.parse(readFileSync(A['test-shards'], 'utf8')), dir = path.dirname(A['test-shards']);
    overrides.set('weights/manifest.json', Buffer.from(JSON.stringify({ default: 'test-shards', models: [{ name: 'test-shards', file: 'shards/test.json' }] })));
    overrides.set('weights/shards/test.json', readFileSync(A['test-shards']));
    for (const part of sm.parts) overrides.set('weights/shards/' + part.path, readFileSync(path.join(dir, part.path)));
    const c2 = await browser.newContext();   // a fresh profile: no service worker yet
    const q = await c2.newPage();
    q.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    await q.goto(base);
    check(await waitReady(q) === 'ready' && await q.evaluate(() => window.__bertlens.model.name) === 'test-shards', 'sharded default model: ready');
    const partUrls = sm.parts.map((x) => base + 'weights/shards/' + x.path);
    let cached = [];
    for (let i = 0; i < 300; i++) {
      cached = Object.values(await cachesOf(q)).flat();
      if (partUrls.every((u) => cached.includes(u))) break;
      await q.waitForTimeout(200);
    }
    check(partUrls.every((u) => cached.includes(u)) && cached.includes(base + 'weights/shards/test.json'),
      `every part (${sm.parts.length}) and the shard manifest are cached`);
    await stopServer();
    await c2.setOffline(true);
    await q.reload();
    check(await waitReady(q) === 'ready' && await q.evaluate(() => window.__bertlens.model.name) === 'test-shards',
      'sharded default model: the offline reload reaches ready');
    await c2.close();
  }
  check(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource/.test(e)).length === 0,
    `no console errors (${errors.join(' | ')})`);
  await context.close();
  code = summary('hosting');
} catch (e) {
  console.error(e);
  code = 1;
} finally {
  await browser.close();
  if (up) await stopServer();
}
process.exit(code);
