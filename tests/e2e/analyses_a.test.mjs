// analyses_a.test.mjs — the page's value-weighted attention, word-level toggle and selection, and
// export (SVG, PNG at a scale, the view as JSON and back), in headless Chromium; then the hover
// redraw time of every view at n = 512 on a bert-base-shaped test model (printed, not asserted).
//   node tests/e2e/analyses_a.test.mjs --test-model build-web/test-model/test.int8.bin --cli build/bertlens
//        [--big-dir build-web/test-model-base] [--no-big | --only-big] [--base http://127.0.0.1:PORT/ (a site already served)]
// The expected numbers come from the native CLI (`attention --value-norms`, `attention`), whose
// norms tests/test_norms.c checks against torch; word merging, selections and value-weighted
// rollout are restated here from those maps.
import { readFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, createReadStream } from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, check, summary, cli, cliJson, startServe, ROOT } from './lib.mjs';
import { decodePng } from './png.mjs';

const A = args();
if (!A['test-model'] || !A.cli) { console.error('usage: analyses_a.test.mjs --test-model M.int8.bin --cli bertlens [--big-dir DIR] [--no-big | --only-big]'); process.exit(2); }
const CLI = A.cli;
const SENTENCE = 'The bertlens tokenization of cats sat on the mat.';
const CHROMIUM_ARGS = [...(process.env.BL_JS_FLAGS ? [`--js-flags=${process.env.BL_JS_FLAGS}`] : []), '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bl-analyses-'));
const server = A.base ? { base: A.base, proc: { kill() {} } } : await startServe();
const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium', args: CHROMIUM_ARGS });
const tStart = Date.now();
const phase = (name) => console.log(`[${((Date.now() - tStart) / 1000).toFixed(1)} s] ${name}`);
// settings a hash leaves out keep their value: every test hash says vw and words
const hashOf = (o) => '#' + new URLSearchParams({ vw: '0', words: '0', ...o }).toString();

/* A big file over HTTP (CORS and CORP for the cross-origin-isolated page): a 100 MB body handed
   to route.fulfill closes the page. */
async function fileServer(file) {
  const size = statSync(file).size;
  const srv = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': size, 'Access-Control-Allow-Origin': '*',
      'Cross-Origin-Resource-Policy': 'cross-origin' });
    createReadStream(file).pipe(res);
  }).listen(0, '127.0.0.1');
  await new Promise((r) => srv.on('listening', r));
  return { url: `http://127.0.0.1:${srv.address().port}/m.int8.bin`, size, close: () => srv.close() };
}
/* A page whose weights/manifest.json names `modelPath` (routed in, same origin; a big one is
   redirected to fileServer's copy). */
async function openPage(modelPath, { width = 1100, height = 900, viaHttp = null } = {}) {
  const bytes = viaHttp ? null : readFileSync(modelPath), sha = bytes ? createHash('sha256').update(bytes).digest('hex') : null;
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1, acceptDownloads: true, serviceWorkers: 'block' });
  await context.route('**/weights/manifest.json', (r) => r.fulfill({ contentType: 'application/json',
    body: JSON.stringify({ default: 'm', models: [{ name: 'm', file: 'm.int8.bin', size: bytes ? bytes.length : viaHttp.size, ...(sha ? { sha256: sha } : {}) }] }) }));
  await context.route('**/weights/m.int8.bin', (r) => (viaHttp ? r.fulfill({ status: 302, headers: { location: viaHttp.url } })
    : r.fulfill({ contentType: 'application/octet-stream', body: bytes })));
  const p = await context.newPage();
  p.errors = [];
  p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
  p.on('pageerror', (e) => p.errors.push(`pageerror: ${e.message}`));
  return p;
}
const frames = (p) => p.evaluate(() => window.__bertlens.metrics.frames);
async function waitFrameAfter(p, n, timeout = 120000) {
  await p.waitForFunction((k) => window.__bertlens.metrics.frames > k, n, { timeout });
  await p.waitForTimeout(30);
}
/* Go to a hash and wait for the frame it gives (and the run, when the text changes). */
async function show(p, hash, timeout) {
  const n = await frames(p);
  await p.evaluate((h) => { location.hash = h; }, hash);
  await waitFrameAfter(p, n, timeout);
  await p.waitForFunction(() => !document.getElementById('notice').textContent.startsWith('Drawing'), null, { timeout: 5000 }).catch(() => {});
}
const hitGrid = (p, step = 2) => p.evaluate((s) => window.__bertlens.hitGrid(s), step);
const tooltipAt = async (p, x, y) => {
  const n = await frames(p);
  await p.locator('#view').hover({ position: { x: x + 0.5, y: y + 0.5 } });   // scrolled into view
  await waitFrameAfter(p, n, 10000).catch(() => {});
  await p.waitForTimeout(60);
  return p.evaluate(() => { const t = document.getElementById('tooltip'); return t.hidden ? '' : t.textContent; });
};
const maxDiff = (pairs) => pairs.reduce((m, [a, b]) => Math.max(m, Math.abs(a - b)), 0);

/* ------------------------------------------------------------ independent restatements */
// words by the WordPiece rule: "##x" continues the word before it, everything else starts one
function wordIds(tokens) {
  const w = [];
  tokens.forEach((t, i) => w.push(i > 0 && t.startsWith('##') && t.length > 2 ? w[i - 1] : (i ? w[i - 1] + 1 : 0)));
  return w;
}
// Clark et al.: attention TO a group summed over its members, FROM a group averaged over them
function mergeMap(m, group, ng) {
  const n = m.length, out = Array.from({ length: ng }, () => new Array(ng).fill(0)), cnt = new Array(ng).fill(0);
  for (let i = 0; i < n; i++) cnt[group[i]]++;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[group[i]][group[j]] += m[i][j] / cnt[group[i]];
  return out;
}
// value-weighted rollout: N_l = norms_layer rows normalised, A'_l = 0.5 N_l + 0.5 I (rows
// renormalised), R = A'_upto · … · A'_0 (Abnar & Zuidema's product, as for the weights)
function vwRollout(normsLayer, upto) {
  const n = normsLayer[0].length;
  const aprime = (l) => normsLayer[l].map((row, i) => {
    const s = row.reduce((x, y) => x + y, 0);
    const r = row.map((v, j) => 0.5 * (s > 0 ? v / s : 0) + (i === j ? 0.5 : 0));
    const t = r.reduce((x, y) => x + y, 0);
    return r.map((v) => v / t);
  });
  let R = aprime(0);
  for (let l = 1; l <= upto; l++) {
    const a = aprime(l);
    R = a.map((row) => R[0].map((_, j) => row.reduce((s, w, k) => s + w * R[k][j], 0)));
  }
  return R;
}

try {
  if (!A['only-big']) {   // --only-big: the n = 512 figures alone
    // ------------------------------------------------------------ value-weighted attention = the CLI's norms
    phase('value-weighted attention against `bertlens attention --value-norms`');
    const ref = cliJson(CLI, 'attention', '-m', A['test-model'], '--value-norms', SENTENCE);
    const L = ref.layers, H = ref.heads, n = ref.tokens.length;
    const p = await openPage(A['test-model']);
    await p.goto(server.base + hashOf({ text: SENTENCE, layer: 1, head: 0, view: 'heatmap', vw: '1' }));
    await p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60000 });
    await p.waitForFunction(() => window.__bertlens.metrics.frames > 0, null, { timeout: 60000 });
    const run = await p.evaluate(() => window.__bertlens.run);
    check(JSON.stringify(run.tokens) === JSON.stringify(ref.tokens), `page tokens = CLI tokens (${run.tokens.join(' ')})`);
    const checkCells = async (what, expect) => {
      const cells = (await hitGrid(p)).filter((h) => h.kind === 'cell');
      const pairs = cells.map((h) => [h.value, expect[h.from] ? expect[h.from][h.to] : NaN]);
      const d = maxDiff(pairs), top = Math.max(...pairs.map((x) => Math.abs(x[1])));
      console.log(`  ${what}: ${cells.length} cells, max |page − expected| ${d.toExponential(2)}`);
      check(cells.length >= expect.length * expect.length && d <= 1e-4 * Math.max(1, top), `${what}: ${cells.length} cells drawn, max |page − CLI| = ${d.toExponential(2)} (values up to ${top.toFixed(3)})`);
      return cells;
    };
    for (const l of [0, L - 1]) {
      await show(p, hashOf({ text: SENTENCE, layer: l, head: H - 1, view: 'heatmap', vw: '1' }));
      await checkCells(`heatmap ‖αf(x)‖ layer ${l} head ${H - 1}`, ref.norms[l][H - 1]);
      await show(p, hashOf({ text: SENTENCE, layer: l, head: 'mean', view: 'heatmap', vw: '1' }));
      await checkCells(`heatmap ‖Σ_h αf(x)‖ layer ${l}`, ref.norms_layer[l]);
    }
    // the tooltip says the cell's value as the CLI's norm (3 decimals) and names both tokens
    {
      const cells = (await hitGrid(p)).filter((h) => h.kind === 'cell');
      const c = cells.find((h) => h.from === 2 && h.to === 3) || cells[0];
      const tip = await tooltipAt(p, c.x, c.y);
      const want = `${run.shown[c.from]} → ${run.shown[c.to]}: ${ref.norms_layer[L - 1][c.from][c.to].toFixed(3)}`;
      check(tip === want, `value-weighted tooltip "${tip}" = "${want}"`);
      const title = await p.evaluate(() => document.getElementById('weighting').value);
      check(title === '1', 'the switch shows value-weighted');
      check((await p.evaluate(() => location.hash)).includes('vw=1'), 'value-weighted is in the URL hash');
    }
    // the weights are not the norms (the switch changes what is drawn)
    await show(p, hashOf({ text: SENTENCE, layer: L - 1, head: 'mean', view: 'heatmap' }));
    {
      const cells = (await hitGrid(p)).filter((h) => h.kind === 'cell');
      const rowSum = cells.filter((h) => h.from === 1).reduce((s, h) => s + h.value, 0);
      check(Math.abs(rowSum - 1) < 1e-3, `weights again without vw (row 1 sums to ${rowSum.toFixed(4)})`);
    }
    // rollout of the value-weighted maps: restated from the CLI's norms_layer
    await show(p, hashOf({ text: SENTENCE, layer: L - 1, head: 'mean', view: 'rollout', vw: '1' }));
    await checkCells(`rollout of ‖Σ_h αf(x)‖ (rows normalised) through layer ${L - 1}`, vwRollout(ref.norms_layer, L - 1));
    // model view and head view draw and say what they show; flow draws
    for (const view of ['model', 'head', 'flow']) {
      await show(p, hashOf({ text: SENTENCE, layer: 1, head: view === 'head' ? 'mean' : '0', view, vw: '1' }));
      const err = await p.evaluate(() => document.getElementById('error').hidden ? '' : document.getElementById('error-msg').textContent);
      check(!err, `${view} view value-weighted draws (${err})`);
    }
    {   // the SVG of the model and head views says ‖αf(x)‖ in its title
      const r = await p.evaluate(() => window.__bertlens.exportSvg(false).then((x) => x.svg));
      check(r.includes("f(x)‖"), "the value-weighted flow view says it is of ‖Σ αf(x)‖");
    }

    // ------------------------------------------------------------ words and a selection of tokens
    phase('word-level toggle and shift-click selection');
    const wref = cliJson(CLI, 'attention', '-m', A['test-model'], SENTENCE);
    const wid = wordIds(wref.tokens), nw = wid[wid.length - 1] + 1;
    await show(p, hashOf({ text: SENTENCE, layer: 1, head: '0', view: 'heatmap', words: '1' }));
    {
      const groups = await p.evaluate(() => window.__bertlens.groups());
      check(groups && groups.labels.length === nw, `words: ${groups && groups.labels.length} words (expected ${nw}): ${groups && groups.labels.join(' ')}`);
      check(groups && groups.labels.includes('bertlens') && groups.labels.includes('tokenization'), 'word labels join the pieces ("##" dropped)');
      await checkCells('word-level heatmap (to summed, from averaged)', mergeMap(wref.attentions[1][0], wid, nw));
      const cells = (await hitGrid(p)).filter((h) => h.kind === 'cell');
      const c = cells.find((h) => groups.labels[h.from] === 'bertlens');
      const tip = c ? await tooltipAt(p, c.x, c.y) : '';
      check(tip.startsWith('bertlens → '), `the tooltip names the word ("${tip}")`);
      check((await p.evaluate(() => location.hash)).includes('words=1'), 'words is in the URL hash');
    }
    // shift-click two token labels: one row (from, averaged) and one column (to, summed)
    await show(p, hashOf({ text: SENTENCE, layer: 1, head: '0', view: 'heatmap' }));
    {
      const labels = (await hitGrid(p)).filter((h) => h.kind === 'token' && h.side === 0);
      const pick = [labels.find((h) => h.from === 2), labels.find((h) => h.from === 8)];
      for (const h of pick) {
        const k = await frames(p);
        await p.locator('#view').click({ position: { x: h.x + 0.5, y: h.y + 0.5 }, modifiers: ['Shift'] });
        await waitFrameAfter(p, k, 10000).catch(() => {});
      }
      await p.waitForTimeout(200);
      const sel = await p.evaluate(() => window.__bertlens.state.sel);
      check(JSON.stringify(sel) === '[2,8]', `shift-click selects tokens 2 and 8 (${JSON.stringify(sel)})`);
      const groups = await p.evaluate(() => window.__bertlens.groups());
      const g = []; let next = 0; const seen = new Map();
      for (let i = 0; i < n; i++) { const k = i === 2 || i === 8 ? 'sel' : i; if (!seen.has(k)) seen.set(k, next++); g.push(seen.get(k)); }
      check(groups && groups.labels[2] === `${wref.tokens[2]}+${wref.tokens[8]}`, `the selection is one row labelled "${groups && groups.labels[2]}"`);
      await checkCells('selection merged: its row averaged, its column summed', mergeMap(wref.attentions[1][0], g, next));
      check((await p.evaluate(() => location.hash)).includes('sel=2%2C8'), 'the selection is in the URL hash');
      const note = await p.textContent('#selection-note');
      check(/row/.test(note) && /column/.test(note), `the page says how a selection shows ("${note}")`);
    }

    // ------------------------------------------------------------ export: SVG, PNG at a scale
    phase('SVG and PNG export');
    await show(p, hashOf({ text: SENTENCE, layer: 0, head: '1', view: 'heatmap' }));
    {
      const r = await p.evaluate(async () => {
        const x = await window.__bertlens.exportSvg(true);
        const doc = new DOMParser().parseFromString(x.svg, 'image/svg+xml');
        const texts = Array.from(doc.querySelectorAll('text'), (t) => t.textContent);
        return { svg: x.svg, ok: !doc.querySelector('parsererror') && doc.documentElement.nodeName === 'svg', texts,
          png: x.png.toDataURL('image/png'), w: x.png.width, h: x.png.height };
      });
      check(r.ok, 'the SVG parses in the browser');
      const missing = run.shown.filter((t) => !r.texts.includes(t));
      check(missing.length === 0, `its <text> elements carry every token (missing: ${missing.join(' ')})`);
      // rasterised through an <img> of a blob URL (on a page without the site's CSP) vs the PNG
      const blank = await (await browser.newContext({ deviceScaleFactor: 1 })).newPage();
      const raster = await blank.evaluate(async ({ svg, w, h }) => {
        const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
        const img = new Image();
        await new Promise((res, rej) => { img.onload = res; img.onerror = () => rej(new Error('svg image failed')); img.src = url; });
        const c = document.createElement('canvas');
        c.width = w; c.height = h;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0, w, h);
        return c.toDataURL('image/png');
      }, { svg: r.svg, w: r.w, h: r.h });
      const a = decodePng(Buffer.from(raster.split(',')[1], 'base64')), b = decodePng(Buffer.from(r.png.split(',')[1], 'base64'));
      let sum = 0, far = 0;
      for (let i = 0; i < a.pixels.length; i += 4)
        for (let c = 0; c < 3; c++) {
          const d = Math.abs(a.pixels[i + c] - b.pixels[i + c]);
          sum += d;
          if (d > 64) far++;
        }
      const px = a.pixels.length / 4, mean = sum / (3 * px);
      console.log(`SVG rasterised vs PNG (${a.w}×${a.h}): mean |Δ| ${mean.toFixed(2)} / 255, ${(100 * far / (3 * px)).toFixed(2)}% channels off by > 64`);
      check(a.w === b.w && a.h === b.h && a.w === r.w && mean < 6 && far / (3 * px) < 0.03, 'the rasterised SVG is close to the PNG');
      await blank.context().close();
      for (const s of [1, 2, 4]) {
        const d = await p.evaluate((k) => window.__bertlens.exportPng(k).then((c) => [c.width, c.height]), s);
        // 4× of a 1100-pixel-wide view would pass the core's 4096-pixel limit: drawn 1024 wide, ×4
        const want = Math.min(r.w * s, 4096);
        check(Math.abs(d[0] - want) <= 2 * s && d[1] > r.h * Math.min(s, 4096 / r.w) * 0.8, `PNG at ${s}×: ${d[0]}×${d[1]} (1×: ${r.w}×${r.h})`);
      }
    }

    // ------------------------------------------------------------ the view as JSON, and back
    phase('JSON export → import restores the view');
    await show(p, hashOf({ text: SENTENCE, pair: 'A second one.', layer: 1, head: 'mean', view: 'rollout', vw: '1', words: '1', cmap: 'magma', thr: '0.05', hide: '1', pairs: 'ab' }), 60000);
    {
      const saved = await p.evaluate(() => window.__bertlens.viewState());
      const dl = p.waitForEvent('download');
      await p.click('#export-json');
      const file = path.join(tmp, 'view.json');
      await (await dl).saveAs(file);
      const j = JSON.parse(readFileSync(file, 'utf8'));
      const info = cliJson(CLI, 'info', '-m', A['test-model']);
      check(j.bertlens_view && j.bertlens_view.model_sha256 === info.sha256, `the export names the model's SHA-256 (${j.bertlens_view && j.bertlens_view.model_sha256})`);
      check(j.bertlens_view.view.text === SENTENCE && j.bertlens_view.view.pair === 'A second one.' && j.bertlens_view.view.vw === true,
        'the export records the text, the pair and the settings');
      check(Array.isArray(j.attentions) && j.attentions.length === L, 'and the attention maps as `bertlens attention` writes them');
      // somewhere else, then open the file: the same state
      await show(p, hashOf({ text: 'Something else.', layer: 0, head: '0', view: 'heatmap' }), 60000);
      let k = await frames(p);
      await p.setInputFiles('#view-file', file);
      await waitFrameAfter(p, k, 60000);
      await p.waitForTimeout(300);
      const back = await p.evaluate(() => window.__bertlens.viewState());
      check(JSON.stringify(back) === JSON.stringify(saved), `opening the JSON restores every setting (${JSON.stringify(back)})`);
      // dropped on the page
      await show(p, hashOf({ text: 'Something else.', layer: 0, head: '0', view: 'heatmap' }), 60000);
      k = await frames(p);
      await p.evaluate((text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'view.json', { type: 'application/json' }));
        document.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      }, readFileSync(file, 'utf8'));
      await waitFrameAfter(p, k, 60000);
      await p.waitForTimeout(300);
      const back2 = await p.evaluate(() => window.__bertlens.viewState());
      check(JSON.stringify(back2) === JSON.stringify(saved), 'dropping the JSON restores it too');
      check((await p.evaluate(() => location.hash)).includes('view=rollout'), 'and the URL hash follows');
    }
    check(p.errors.length === 0, `no console errors (${p.errors.join(' | ')})`);
    await p.context().close();

  }

  // ------------------------------------------------------------ n = 512 on a bert-base-shaped model
  if (!A['no-big']) {
    phase('n = 512 on a bert-base-shaped test model: hover redraw of every view');
    const dir = A['big-dir'] || path.join(process.env.BL_WEB_BUILD || path.join(ROOT, 'build-web'), 'test-model-base');
    const big = path.join(dir, 'base.int8.bin');
    if (!existsSync(big)) {
      mkdirSync(dir, { recursive: true });
      const py = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
      execFileSync(py, [path.join(ROOT, 'tests/e2e/make_test_model.py'), path.join(dir, 'hf'), '--layers', '12', '--hidden', '768',
        '--heads', '12', '--intermediate', '3072', '--max-pos', '512', '--seed', '7'], { stdio: 'inherit' });
      cli(CLI, 'convert', path.join(dir, 'hf'), '-o', big, '--dtype', 'int8');
      rmSync(path.join(dir, 'hf'), { recursive: true, force: true });
    }
    console.log(`model: ${big} (${(statSync(big).size / 1048576).toFixed(0)} MB)`);
    const words = ['the', 'cat', 'sat', 'on', 'a', 'mat', 'and', 'it', 'was', 'red', '.'];
    const long = Array.from({ length: 600 }, (_, i) => words[(i * 7) % words.length]).join(' ').slice(0, 2000);
    const fs = await fileServer(big);
    const q = await openPage(big, { height: 1600, viaHttp: fs });
    await q.goto(server.base + hashOf({ text: long, layer: 11, head: '0', view: 'heatmap' }));
    await q.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 300000 });
    await q.waitForFunction(() => window.__bertlens.metrics.frames > 0, null, { timeout: 300000 });
    const bn = await q.evaluate(() => window.__bertlens.run.n);
    check(bn === 512, `the long text gives n = ${bn} tokens`);
    const rows = [];
    for (const vw of ['0', '1'])
      for (const view of ['heatmap', 'model', 'head', 'rollout', 'flow']) {
        const t0 = Date.now();
        await show(q, hashOf({ text: long, layer: 11, head: view === 'head' ? '0' : 'mean', view, vw }), 600000);
        const first = Date.now() - t0;
        // 24 points with something under them (cells, token labels, thumbnails), spread over the view
        const targets = (await q.evaluate(() => window.__bertlens.hitGrid(8))).filter((h) => h.kind);
        const picks = Array.from({ length: 24 }, (_, k) => targets[Math.floor((k + 0.5) * targets.length / 24)]).filter(Boolean);
        const before = await q.evaluate(() => ['renderMs', 'hoverMs', 'drawMs', 'copyMs', 'blitMs'].map((k) => window.__bertlens.metrics[k].length));
        for (const h of picks) {
          const f = await frames(q);
          await q.locator('#view').hover({ position: { x: h.x + 1, y: h.y + 1 } });
          await waitFrameAfter(q, f, 20000).catch(() => {});
        }
        const m = await q.evaluate((b) => {
          const x = window.__bertlens.metrics;
          return { r: x.renderMs.slice(b[0]), h: x.hoverMs.slice(b[1]), d: x.drawMs.slice(b[2]), c: x.copyMs.slice(b[3]), b: x.blitMs.slice(b[4]) };
        }, before);
        const med = (a) => (a.length ? [...a].sort((x, y) => x - y)[a.length >> 1] : NaN);
        rows.push(`${(vw === '1' ? 'value-weighted ' : '') + view}`.padEnd(24) + `core draw median ${med(m.r).toFixed(1).padStart(6)} ms, max ${Math.max(...m.r).toFixed(1).padStart(6)} ms;` +
          ` pointer→frame median ${med(m.h).toFixed(1).padStart(6)} ms (${m.r.length} redraws; first frame ${first} ms, with a forward when the switch asked for the norms)` +
          `\n${''.padEnd(24)}of which bl_render ${med(m.d).toFixed(1)} ms, copy out of the heap ${med(m.c).toFixed(1)} ms, putImageData ${med(m.b).toFixed(1)} ms (medians)`);
        console.log(rows[rows.length - 1]);
      }
    const ms = await q.evaluate(() => window.__bertlens.metrics.runMs);
    console.log(`forward at n = 512: ${ms.map((x) => x.toFixed(0)).join(', ')} ms (with the value norms when value-weighted); budget for a redraw: 16 ms`);
    check(q.errors.length === 0, `no console errors at n = 512 (${q.errors.join(' | ')})`);
    await q.context().close();
    fs.close();
  }
} finally {
  await browser.close();
  server.proc.kill();
  rmSync(tmp, { recursive: true, force: true });
}
process.exit(summary('analyses_a.test'));
