// hub.test.mjs — models from a Hugging Face Hub in the page, in headless Chromium: the page served
// by ./serve.sh, the Hub by tests/e2e/mock_hub.mjs over repositories from make_hub_repos.py.
//   node tests/e2e/hub.test.mjs --repos DIR --cli build/bertlens [--base http://127.0.0.1:PORT/]
// (--base: a page server already running, e.g. ./serve.sh PORT; otherwise serve.sh is started.)
// Checks: a model id typed in the picker downloads with progress, converts in the worker and
// gives the bytes of `bertlens convert` and the attentions of `bertlens attention` on the same
// files (F32, F16 + tokenizer.json, BF16, sharded, torch.save's pytorch_model.bin); the token goes
// to the hub and never to its CDN; a reload with the hub unreachable opens the model from the
// cache; a stored model is deleted from the list; every error case shows its message while the
// previous model keeps working; #model= in a link opens that model.
import { readFileSync, mkdtempSync, existsSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, check, summary, cli, cliJson, startServe } from './lib.mjs';
import { startMockHub } from './mock_hub.mjs';

const A = args();
if (!A.repos || !A.cli) { console.error('usage: hub.test.mjs --repos DIR --cli BERTLENS [--base URL]'); process.exit(2); }
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bl-hub-'));
const TEXT = 'the cat sat on the mat .';
const TIME = 60000;

async function startServer() {
  if (A.base) return { proc: null, base: A.base.endsWith('/') ? A.base : A.base + '/' };
  return startServe();
}

// What the CLI makes of each repository: the bytes the page must produce.
const repoDir = (id) => path.join(A.repos, ...id.split('/'), 'main');
// The page's precision "auto" converts to int16 when it fits (every test repository does), as
// `bertlens convert` does by default.
const expected = new Map();
function cliConvert(id, dtype = 'int16') {
  const key = `${id} ${dtype}`;
  if (!expected.has(key)) {
    const out = path.join(tmp, `${id.replace('/', '__')}.${dtype}.bin`);
    cli(A.cli, 'convert', repoDir(id), '-o', out, '--dtype', dtype);
    expected.set(key, out);
  }
  return expected.get(key);
}

const server = await startServer();
const hub = await startMockHub({ root: A.repos });
const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium', args: CHROMIUM_ARGS });
const pageUrl = (hash = '') => `${server.base}?hub=${encodeURIComponent(hub.hub)}${hash}`;

async function openPage(context) {
  const ctx = context || await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true, serviceWorkers: 'block' });
  const p = await ctx.newPage();
  p.errors = [];
  p.on('pageerror', (e) => p.errors.push(`pageerror: ${e.message}`));
  p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
  return p;
}
const state = (p) => p.evaluate(() => document.body.dataset.state);
const frames = (p) => p.evaluate(() => window.__bertlens.metrics.frames);
const modelName = (p) => p.evaluate(() => window.__bertlens.model && window.__bertlens.model.name);
async function waitReady(p) {
  await p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: TIME });
  return state(p);
}
/* Type an id (and token) in the picker and wait until it is loaded or an error shows. */
async function pick(p, id, { token = '', rev = '', dtype = 'auto' } = {}) {
  const before = await p.evaluate(() => window.__bertlens.metrics.frames);
  await p.evaluate(() => { document.getElementById('error').hidden = true; window.__hubDone = false; });
  await p.selectOption('#hub-dtype', dtype);
  await p.fill('#hub-id', id);
  await p.fill('#hub-rev', rev);
  await p.fill('#hub-token', token);
  await p.click('#hub-load');
  await p.waitForFunction(([name, f]) => (window.__bertlens.model && window.__bertlens.model.name === name && window.__bertlens.metrics.frames > f) ||
    !document.getElementById('error').hidden, [rev ? `${id}@${rev}` : id, before], { timeout: TIME });
  await p.waitForFunction(() => document.getElementById('hub-cancel').hidden, null, { timeout: TIME });
  const err = await p.evaluate(() => (document.getElementById('error').hidden ? '' : document.getElementById('error-msg').textContent));
  return err;
}
async function saveBin(p) {
  const [d] = await Promise.all([p.waitForEvent('download', { timeout: TIME }), p.click('#save-bin')]);
  return readFileSync(await d.path());
}
async function exportJson(p) {
  const [d] = await Promise.all([p.waitForEvent('download', { timeout: TIME }), p.click('#export-json')]);
  return JSON.parse(readFileSync(await d.path(), 'utf8'));
}
async function setText(p, t) {
  const f = await frames(p);
  await p.fill('#text', t);
  await p.waitForFunction((k) => window.__bertlens.metrics.frames > k && window.__bertlens.run, f, { timeout: TIME });
}
function maxDiff(a, b) {
  let m = 0;
  const walk = (x, y) => {
    if (Array.isArray(x)) { if (!Array.isArray(y) || x.length !== y.length) { m = Infinity; return; } x.forEach((v, i) => walk(v, y[i])); }
    else m = Math.max(m, Math.abs(x - y));
  };
  walk(a, b);
  return m;
}
const tStart = Date.now();
const phase = (name) => console.log(`[${((Date.now() - tStart) / 1000).toFixed(1)} s] ${name}`);

try {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true, serviceWorkers: 'block' });
  const p = await openPage(ctx);
  await p.goto(pageUrl());
  check(await waitReady(p) === 'ready', `page ready with its own model (${await p.textContent('#error-msg')})`);
  const siteModel = await modelName(p);

  // ------------------------------------------------------------ a model id → converted in the page
  phase('bl-test/tiny-bert from the mock hub');
  await p.evaluate(() => {
    window.__progress = [];
    const ul = document.getElementById('hub-files');
    new MutationObserver(() => { for (const li of ul.querySelectorAll('li')) window.__progress.push(li.textContent); })
      .observe(ul, { childList: true, subtree: true });
  });
  let err = await pick(p, 'bl-test/tiny-bert');
  check(!err, `bl-test/tiny-bert loads (${err})`);
  check(await modelName(p) === 'bl-test/tiny-bert' && await state(p) === 'ready', 'the page names bl-test/tiny-bert and is ready');
  const prog = await p.evaluate(() => window.__progress);
  check(prog.some((t) => /^model\.safetensors: .* of 7\.\d MB/.test(t)), `per-file progress with bytes and total (${prog.slice(-1)[0]})`);
  check(/model=bl-test%2Ftiny-bert/.test(await p.evaluate(() => location.hash)), 'the model is in the URL hash');
  const tinyBin = await saveBin(p);
  const tinyCli = readFileSync(cliConvert('bl-test/tiny-bert'));
  check(Buffer.compare(tinyBin, tinyCli) === 0, `"save as .bin" (precision auto) equals \`bertlens convert\` (int16) byte for byte (${tinyBin.length} / ${tinyCli.length} bytes)`);
  // the converter's fidelity record (measured in the page: the bytes above include it) is shown
  // next to the model line, as `bertlens info` words it
  const fid = cliJson(A.cli, 'info', '-m', cliConvert('bl-test/tiny-bert')).fidelity;
  const shownFid = await p.textContent('#model-fidelity');
  check(fid.status === 'measured' && fid.max > 0 && shownFid === fid.text && /^int16: attention within [0-9.e-]+ of the float model \(max\), mean [0-9.e-]+$/.test(shownFid),
    `the page shows the stored attention fidelity ("${shownFid}"; info: "${fid.text}")`);
  await setText(p, TEXT);
  const j = await exportJson(p);
  const ref = cliJson(A.cli, 'attention', '-m', cliConvert('bl-test/tiny-bert'), TEXT);
  check(JSON.stringify(j.tokens) === JSON.stringify(ref.tokens), `tokens as the CLI's (${j.tokens.join(' ')})`);
  const d = maxDiff(j.attentions, ref.attentions);
  check(d <= 2e-6, `attentions equal the CLI's on the same files (max |diff| ${d})`);
  const tinyReq = hub.stats.requests.filter((r) => r.url.includes('tiny-bert'));
  check(tinyReq.some((r) => r.origin === 'cdn' && r.url.includes('model.safetensors')), 'the weights came through the CDN redirect');

  // ------------------------------------------------------------ other layouts: the CLI's bytes
  for (const id of ['bl-test/f16-tokenizer-json', 'bl-test/bf16', 'bl-test/sharded', 'bl-test/pt', 'bl-test/roberta']) {
    phase(id);
    err = await pick(p, id);
    check(!err && await modelName(p) === id, `${id} loads (${err})`);
    if (!err) {
      const b = await saveBin(p);
      check(Buffer.compare(b, readFileSync(cliConvert(id))) === 0, `${id}: the page's conversion equals the CLI's byte for byte`);
    }
  }

  // RoBERTa: its tokenizer.json and family run in the page as in the CLI
  await setText(p, 'w4 w5 w7');
  {
    const jr = await exportJson(p), rr = cliJson(A.cli, 'attention', '-m', cliConvert('bl-test/roberta'), 'w4 w5 w7');
    const dr = maxDiff(jr.attentions, rr.attentions);
    check(await modelName(p) === 'bl-test/roberta' && JSON.stringify(jr.tokens) === JSON.stringify(rr.tokens) && dr <= 2e-6,
      `bl-test/roberta shows attention: tokens ${jr.tokens.join(' ')} and maps as the CLI's (max |diff| ${dr})`);
    const v = await p.evaluate(() => ({ task: document.querySelector('#views button[data-view="task"]').hidden,
      mlm: document.querySelector('#views button[data-view="mlm"]').hidden, note: document.getElementById('views-note').textContent }));
    check(v.task && !v.mlm && /no task head/.test(v.note), `a masked LM without a task head: prediction view hidden, with a note ("${v.note}")`);
  }

  // A token classifier: the prediction view, its probabilities as \`bertlens classify\`'s
  phase('bl-test/bert-ner');
  err = await pick(p, 'bl-test/bert-ner');
  check(!err && await modelName(p) === 'bl-test/bert-ner', `bl-test/bert-ner loads (${err})`);
  if (!err) {
    await setText(p, 'the cat sat');
    const v = await p.evaluate(() => ({ task: document.querySelector('#views button[data-view="task"]').hidden,
      mlm: document.querySelector('#views button[data-view="mlm"]').hidden, note: document.getElementById('views-note').textContent }));
    check(!v.task && v.mlm && /no masked-LM head/.test(v.note), `a token classifier: prediction view shown, masked LM hidden ("${v.note}")`);
    const f = await frames(p);
    await p.click('#views button[data-view="task"]');
    await p.waitForFunction((k) => window.__bertlens.metrics.frames > k, f, { timeout: TIME });
    const run = await p.evaluate(() => window.__bertlens.run);
    const cl = cliJson(A.cli, 'classify', '-m', cliConvert('bl-test/bert-ner'), 'the cat sat');
    const want = cl.predictions.flatMap((r) => r.probs);
    const dp = run.headProbs && run.headProbs.length === want.length ? Math.max(...want.map((q, i) => Math.abs(q - run.headProbs[i]))) : Infinity;
    check(dp <= 1e-5, `the page's head probabilities are classify's on the same converted file (max |diff| ${dp})`);
  }

  // ------------------------------------------------------------ errors: message, previous model kept
  phase('errors');
  err = await pick(p, 'bl-test/tiny-bert');   // from the cache now (same commit): no download
  check(!err && (await p.evaluate(() => window.__bertlens.metrics.hubLoad.source)) === 'cache', 'the second load of tiny-bert comes from the cache');
  const cases = [
    ['bl-test/does-not-exist', {}, /not found.*or it is private.*access token/i],
    ['bl-test/private', {}, /not found.*or it is private/i],
    ['bl-test/gated', {}, /gated model.*accept its conditions.*access token/i],
    ['bl-test/gated', { token: 'hf_wrong' }, /token has no access/i],
    ['bl-test/no-weights', {}, /no weights the page can read/i],
    ['bl-test/truncated', {}, /truncated|broke off/i],
    ['bl-test/bad-sha', {}, /corrupt: its SHA-256 is [0-9a-f]{64}, the hub says 0{64}/i],
    ['bl-test/pickle-calls-system', {}, /refused: .*pickle.*never runs its code/i],
    ['bl-test/gpt2', {}, /"gpt2" \(GPT2LMHeadModel\).*not support.*BERT family/i],
    ['bl-test/huge', {}, /too large.*Nothing was downloaded/i],
    ['bl-test/tiny-bert', { rev: 'v9' }, /no revision "v9"/i],
  ];
  for (const [id, o, re] of cases) {
    const cdnBefore = hub.stats.requests.filter((r) => r.origin === 'cdn').length;
    err = await pick(p, id, o);
    check(re.test(err), `${id}${o.token ? ' (wrong token)' : ''}${o.rev ? '@' + o.rev : ''}: "${err}"`);
    check(await state(p) === 'ready' && await modelName(p) === 'bl-test/tiny-bert', `${id}: the page is ready with the previous model`);
    if (id === 'bl-test/huge') check(hub.stats.requests.filter((r) => r.origin === 'cdn').length === cdnBefore, 'too large: refused before any weights download');
  }
  await setText(p, 'the dog sat .');
  check((await p.evaluate(() => window.__bertlens.run.tokens)).includes('dog'), 'after the errors the previous model still runs');

  // ------------------------------------------------------------ tokens: to the hub only
  phase('gated and private with the right token');
  const nReq = hub.stats.requests.length;
  err = await pick(p, 'bl-test/gated', { token: 'hf_testtoken_gated' });
  check(!err && await modelName(p) === 'bl-test/gated', `gated model with its token loads (${err})`);
  const gatedReq = hub.stats.requests.slice(nReq);
  check(gatedReq.some((r) => r.origin === 'hub' && r.auth), 'the token went to the hub');
  check(gatedReq.some((r) => r.origin === 'cdn') && gatedReq.every((r) => r.origin !== 'cdn' || !r.auth), 'the token never went to the CDN');
  err = await pick(p, 'bl-test/private', { token: 'hf_testtoken_private' });
  check(!err && await modelName(p) === 'bl-test/private', `private model with its token loads (${err})`);
  check(!(await p.evaluate(() => location.href)).includes('hf_testtoken'), 'the token is not in the URL');

  // ------------------------------------------------------------ slow body + Cancel
  phase('cancel');
  await pick(p, 'bl-test/tiny-bert');
  await p.fill('#hub-id', 'bl-test/slow');
  await p.fill('#hub-token', '');
  await p.click('#hub-load');
  await p.waitForFunction(() => [...document.querySelectorAll('#hub-files li')].some((li) => /model\.safetensors: [1-9]/.test(li.textContent)), null, { timeout: TIME });
  await p.click('#hub-cancel');
  await p.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: TIME });
  check(/cancelled/i.test(await p.textContent('#error-msg')), `Cancel: "${await p.textContent('#error-msg')}"`);
  const sentSlow = hub.stats.requests.filter((r) => r.url.includes('/slow/'));
  await new Promise((r) => setTimeout(r, 400));
  check(await state(p) === 'ready' && await modelName(p) === 'bl-test/tiny-bert', 'after Cancel the previous model is in use');
  check(sentSlow.length > 0, 'the slow download had started');

  // ------------------------------------------------------------ stored models, offline, delete
  phase('cache: offline reload, list, delete');
  const listed = await p.evaluate(() => [...document.querySelectorAll('#stored-list li')].map((li) => li.dataset.id));
  check(listed.includes('bl-test/tiny-bert'), `stored models list tiny-bert (${listed.join(', ')})`);
  await ctx.route(`${hub.hub}/**`, (r) => r.abort('internetdisconnected'));
  await ctx.route(`${hub.cdn}/**`, (r) => r.abort('internetdisconnected'));
  const p2 = await openPage(ctx);
  await p2.goto(pageUrl('#model=bl-test%2Ftiny-bert&text=' + encodeURIComponent(TEXT)));
  check(await waitReady(p2) === 'ready' && await modelName(p2) === 'bl-test/tiny-bert', 'offline: #model= opens tiny-bert from the cache');
  check((await p2.evaluate(() => window.__bertlens.metrics.hubLoad)).offline === true, 'offline: the hub was unreachable and the stored copy was used');
  const j2 = await exportJson(p2);
  check(maxDiff(j2.attentions, ref.attentions) <= 2e-6, 'the cached model gives the CLI\'s attentions');
  await p2.click('#stored summary');
  // a stored model as compare mode's model B ("compare" in the list): here the model in use
  // itself, so every map's difference is exactly zero
  await p2.click('#stored-list li[data-id="bl-test/tiny-bert"] button.stored-compare');
  await p2.waitForFunction(() => { const c = window.__bertlens.compare(); return c && c.model && c.maxAbs === 0; }, null, { timeout: TIME });
  const zc = await p2.evaluate(() => window.__bertlens.compare()), bName = await p2.textContent('#compare-model-name');
  check(zc.model && zc.maxAbs === 0 && zc.entropy.every((v) => v === 0) && /B: bl-test\/tiny-bert/.test(bName) &&
    /cmp=1/.test(await p2.evaluate(() => location.hash)), `stored model as model B: compare mode on, "${bName}", max |A − B| = ${zc.maxAbs}`);
  await p2.click('#stored-list li[data-id="bl-test/tiny-bert"] button.stored-delete');
  await p2.waitForFunction(() => ![...document.querySelectorAll('#stored-list li')].some((li) => li.dataset.id === 'bl-test/tiny-bert'), null, { timeout: TIME });
  check(!(await p2.evaluate(() => [...document.querySelectorAll('#stored-list li')].map((li) => li.dataset.id))).includes('bl-test/tiny-bert'), 'deleted from the stored models list');
  const p3 = await openPage(ctx);
  await p3.goto(pageUrl('#model=bl-test%2Ftiny-bert'));
  await p3.waitForFunction(() => !document.getElementById('error').hidden, null, { timeout: TIME });
  check(/Could not reach/.test(await p3.textContent('#error-msg')), `deleted and offline: "${await p3.textContent('#error-msg')}"`);
  await p3.waitForFunction(() => document.body.dataset.state === 'ready', null, { timeout: TIME });
  check(await modelName(p3) === siteModel, `... and the page falls back to its own model (${await modelName(p3)})`);
  await ctx.close();

  // ------------------------------------------------------------ a link opens the model
  phase('#model= link in a fresh browser context');
  const p4 = await openPage();
  await p4.goto(pageUrl('#model=bl-test%2Fbf16&text=' + encodeURIComponent('the cat sat')));
  check(await waitReady(p4) === 'ready' && await modelName(p4) === 'bl-test/bf16', `#model=bl-test/bf16 opens it (${await modelName(p4)})`);
  check((await p4.evaluate(() => window.__bertlens.run.tokens)).join(' ') === '[CLS] the cat sat [SEP]', 'with the text of the link');

  // ------------------------------------------------------------ a dropped directory (file input)
  phase('your own Hugging Face files');
  const dir = repoDir('bl-test/sharded');
  await p4.setInputFiles('#model-file', readdirSync(dir).map((f) => path.join(dir, f)));
  await p4.waitForFunction(() => window.__bertlens.model.name === 'your model' || !document.getElementById('error').hidden, null, { timeout: TIME });
  check(await modelName(p4) === 'your model', `the chosen files convert in the page (${await p4.textContent('#error-msg')})`);
  const own = await saveBin(p4);
  check(Buffer.compare(own, readFileSync(cliConvert('bl-test/sharded'))) === 0, 'dropped files convert to the CLI\'s bytes');

  // ------------------------------------------------------------ precision int8 (half the memory)
  phase('precision int8');
  err = await pick(p4, 'bl-test/tiny-bert');   // auto: int16, stored in this context
  check(!err && Buffer.compare(await saveBin(p4), readFileSync(cliConvert('bl-test/tiny-bert'))) === 0, `precision auto converts to int16 (${err})`);
  err = await pick(p4, 'bl-test/tiny-bert', { dtype: 'int8' });
  check(!err && await modelName(p4) === 'bl-test/tiny-bert', `bl-test/tiny-bert loads in int8 (${err})`);
  const tiny8 = await saveBin(p4);
  check(Buffer.compare(tiny8, readFileSync(cliConvert('bl-test/tiny-bert', 'int8'))) === 0,
    '"save as .bin" after precision int8 equals `bertlens convert --dtype int8` (a stored int16 copy is not reused for it)');
  const fid8 = cliJson(A.cli, 'info', '-m', cliConvert('bl-test/tiny-bert', 'int8')).fidelity;
  check(await p4.textContent('#model-fidelity') === fid8.text && /^int8: /.test(fid8.text), `int8's own fidelity line is shown ("${fid8.text}")`);
  const errs = [p, p2, p3, p4].flatMap((x) => x.errors).filter((e) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED|status of 40[134]/.test(e));
  check(errs.length === 0, `no unexpected console errors (${errs.slice(0, 3).join(' | ')})`);
} catch (e) {
  check(false, `exception: ${e && e.stack ? e.stack : e}`);
} finally {
  await browser.close();
  await hub.close();
  if (server.proc) server.proc.kill();
}
process.exit(summary('hub.test'));
