// analyses_c.test.mjs — the logit lens and compare mode in the page (headless Chromium, ./serve.sh),
// checked against the native CLI on the same model file:
//   node tests/e2e/analyses_c.test.mjs --cli build/bertlens [--test-model FILE (when the site has no default model)]
// Logit lens: the page's lens (every layer's top-k at each [MASK]) equals `bertlens fill-mask
//   --lens`, its last layer equals the view's own top-k, and every table cell found by hit
//   testing the drawn view says its layer, rank and that probability.
// Compare mode: a minimal pair gives `bertlens compare`'s numbers (A − B in every drawn cell of the
//   heatmap, each head's entropy change in the table, the differing positions in the note);
//   identical texts give an all-zero difference; the state is in the hash. Two models on one
//   input: the model as f32 (export-hf + convert) as model B gives `compare --model-b`'s numbers,
//   the same file as B an all-zero difference.
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, check, summary, cliJson, cli, startServe, ROOT } from './lib.mjs';

const A = args();
if (!A.cli || !existsSync(A.cli)) { console.error('usage: analyses_c.test.mjs --cli BERTLENS [--test-model FILE]'); process.exit(2); }
const server = await startServe();
const site = cli(path.join(ROOT, 'serve.sh'), '--print-root').trim().split('\n').pop();
const hasDefault = existsSync(path.join(site, 'weights', 'manifest.json'));
let modelFile;
if (hasDefault) {
  const man = JSON.parse(readFileSync(path.join(site, 'weights', 'manifest.json'), 'utf8'));
  const e = (man.models || []).find((m) => m.name === man.default) || man.models[0];
  modelFile = path.join(site, 'weights', e.file);
} else if (A['test-model']) modelFile = A['test-model'];
else { console.error('no default model in the site and no --test-model'); process.exit(2); }
console.log(`analyses_c: model ${modelFile}`);

const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
async function openPage() {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, deviceScaleFactor: 1, serviceWorkers: 'block' });
  const p = await context.newPage();
  p.errors = [];
  p.on('console', (m) => { if (m.type() === 'error') p.errors.push(m.text()); });
  p.on('pageerror', (e) => p.errors.push(`pageerror: ${e.message}`));
  if (!hasDefault) {
    const tm = readFileSync(modelFile), sha = (await import('node:crypto')).createHash('sha256').update(tm).digest('hex');
    await context.route('**/weights/manifest.json', (r) => r.fulfill({ contentType: 'application/json',
      body: JSON.stringify({ default: 'test', models: [{ name: 'test', file: 'test.int8.bin', size: tm.length, sha256: sha }] }) }));
    await context.route('**/weights/test.int8.bin', (r) => r.fulfill({ contentType: 'application/octet-stream', body: tm }));
  }
  return p;
}
const hashOf = (o) => '#' + new URLSearchParams(o).toString();
async function ready(p) {
  await p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60000 });
  return p.evaluate(() => document.body.dataset.state);
}
const frames = (p) => p.evaluate(() => window.__bertlens.metrics.frames);
async function settle(p, pred, arg) {
  await p.waitForFunction(pred, arg, { timeout: 20000 });
  const f = await frames(p);   // one more frame after the condition: the canvas is this state's
  await p.waitForTimeout(150);
  if ((await frames(p)) !== f) await p.waitForTimeout(300);
}
const near = (a, b, tol) => Math.abs(a - b) <= tol;

try {
  // ------------------------------------------------------------ logit lens
  {
    const TEXT = 'Paris is the [MASK] of France. She opened the door and [MASK] into the room.', K = 5;
    const p = await openPage();
    await p.goto(server.base + hashOf({ text: TEXT, view: 'mlm', lens: '1', layer: 0, head: 0 }));
    check(await ready(p) === 'ready', `lens: page ready (${await p.textContent('#error-msg')})`);
    await settle(p, () => window.__bertlens.run && window.__bertlens.run.mlm.length > 0 && window.__bertlens.run.mlm[0].lens.length > 0);
    const run = await p.evaluate(() => window.__bertlens.run), model = await p.evaluate(() => window.__bertlens.model);
    const L = model.layers;
    const ref = cliJson(A.cli, 'fill-mask', '--lens', '-k', String(K), '-m', modelFile, TEXT);
    check(run.mlm.length === ref.length && ref.length === 2, `lens: ${ref.length} masks in the CLI, ${run.mlm.length} in the page`);
    let cells = 0, same = 0, lastEq = 0;
    for (let q = 0; q < Math.min(ref.length, run.mlm.length); q++) {
      const pm = run.mlm[q], cm = ref[q];
      check(pm.position === cm.position && pm.lens.length === L && cm.lens.length === L, `lens: mask ${q} at ${cm.position}, ${L} layers`);
      for (let l = 0; l < L; l++)
        for (let r = 0; r < K; r++) {
          cells++;
          const a = pm.lens[l] && pm.lens[l][r], b = cm.lens[l][r];
          if (a && a.id === b.id && near(a.p, b.p, 1e-6)) same++;
          else if (same + 3 > cells) console.error(`lens mask ${q} layer ${l} rank ${r}: page ${JSON.stringify(a)}, CLI ${JSON.stringify(b)}`);
        }
      // the last layer's row is the view's own top-k (the same floats: bl_fill_mask's)
      for (let r = 0; r < K; r++) lastEq += pm.lens[L - 1][r].id === pm.top[r].id && pm.lens[L - 1][r].p === pm.top[r].p && pm.top[r].id === cm.top[r].id;
    }
    check(cells === 2 * L * K && same === cells, `lens: every layer's top-${K} = \`fill-mask --lens\` (${same} of ${cells})`);
    check(lastEq === 2 * K, `lens: the last layer's row = the masked-LM top-k = \`fill-mask\` (${lastEq} of ${2 * K})`);

    // the drawn table: every cell is a hit with its layer, rank and probability
    const hits = await p.evaluate(() => window.__bertlens.hitGrid(3));
    const lensHits = hits.filter((h) => h.kind === 'mlm' && h.layer >= 0);
    let okHits = 0;
    for (const h of lensHits) {
      const m = run.mlm[h.head];
      if (m && m.position === h.from && m.lens[h.layer] && m.lens[h.layer][h.to] && m.lens[h.layer][h.to].p === h.value) okHits++;
    }
    check(lensHits.length === 2 * L * K && okHits === lensHits.length,
      `lens: the view draws ${2 * L * K} table cells whose hits say layer, rank and p (${lensHits.length} found, ${okHits} right)`);
    const boxHits = hits.filter((h) => h.kind === 'mlm' && h.layer < 0);
    check(boxHits.length === 2 * K && boxHits.every((h) => run.mlm[h.head].top[h.to].p === h.value), `lens: the prediction boxes stay (${boxHits.length})`);
    // the tooltip names the layer
    const c = lensHits.find((h) => h.layer === 1 && h.to === 0);
    if (c) {
      const b = await p.locator('#view').boundingBox();
      await p.mouse.move(b.x + c.x + 1, b.y + c.y + 1);
      await p.waitForFunction(() => !document.getElementById('tooltip').hidden, null, { timeout: 5000 }).catch(() => {});
      const tip = await p.textContent('#tooltip');
      check(/after layer 1, rank 1: /.test(tip) && tip.includes(run.mlm[c.head].lens[1][0].shown), `lens: tooltip names layer, rank and token ("${tip}")`);
    } else check(false, 'lens: a layer-1 cell to hover');
    // off: no table
    await p.click('#lens');
    await settle(p, () => window.__bertlens.run && window.__bertlens.run.mlm.length > 0 && window.__bertlens.run.mlm[0].lens.length === 0);
    const hits2 = await p.evaluate(() => window.__bertlens.hitGrid(3));
    check(!hits2.some((h) => h.kind === 'mlm' && h.layer >= 0) && !/lens=1/.test(await p.evaluate(() => location.hash)),
      'lens: unchecked, the table and the hash entry are gone');
    check(p.errors.length === 0, `lens: no console errors (${p.errors.join(' | ')})`);
    await p.context().close();
  }

  // ------------------------------------------------------------ compare mode: a minimal pair
  {
    const TA = 'The doctor said she was tired.', TB = 'The doctor said he was tired.', LAYER = 1, HEAD = 2;
    const ref = cliJson(A.cli, 'compare', '-m', modelFile, TA, TB);
    const p = await openPage();
    await p.goto(server.base + hashOf({ text: TA, view: 'heatmap', layer: LAYER, head: HEAD, cmp: '1', textb: TB }));
    check(await ready(p) === 'ready', `compare: page ready (${await p.textContent('#error-msg')})`);
    await settle(p, () => window.__bertlens.compare() !== null);
    const cmp = await p.evaluate(() => window.__bertlens.compare());
    const model = await p.evaluate(() => window.__bertlens.model);
    check(cmp.n === ref.n && JSON.stringify(cmp.tokens) === JSON.stringify(ref.tokens_b), `compare: B's tokens and n = the CLI's (${cmp.n})`);
    check(JSON.stringify(cmp.differ) === JSON.stringify(ref.tokens_differ), `compare: differing positions ${JSON.stringify(cmp.differ)} = the CLI's ${JSON.stringify(ref.tokens_differ)}`);
    const note = await p.textContent('#compare-note'), differ = await p.textContent('#compare-differ');
    check(differ === ref.tokens_differ.join(',') && ref.tokens_differ.every((i) => note.includes(`${i} (`)) && /she ≠ he/.test(note),
      `compare: the note lists the differing positions ("${differ}"; "${note}")`);
    check(await p.isVisible('#compare-panel'), 'compare: the panel is visible');
    // entropy change per head, as drawn in the table
    const cellsE = await p.$$eval('#compare-entropy td', (tds) => tds.map((t) => [Number(t.dataset.layer), Number(t.dataset.head), Number(t.dataset.value), t.textContent]));
    let eok = 0;
    for (const [l, h, v, txt] of cellsE) eok += near(v, ref.entropy_change[l][h], 1e-6 + 1e-6 * Math.abs(v)) && txt.endsWith(Math.abs(v).toFixed(3));
    check(cellsE.length === model.layers * model.heads && eok === cellsE.length, `compare: entropy change per head = the CLI's (${eok} of ${cellsE.length})`);
    // A − B in every drawn cell of the heatmap (layer LAYER, head HEAD)
    const hits = (await p.evaluate(() => window.__bertlens.hitGrid(2))).filter((h) => h.kind === 'cell');
    let dok = 0, nonzero = 0;
    for (const h of hits) {
      const want = ref.diff[LAYER][HEAD][h.from][h.to];
      dok += h.layer === LAYER && h.head === HEAD && near(h.value, want, 1e-6);
      nonzero += h.value !== 0;
    }
    check(hits.length === ref.n * ref.n && dok === hits.length, `compare: every drawn cell is the CLI's A − B (${dok} of ${hits.length}, n² = ${ref.n * ref.n})`);
    check(nonzero > 0, `compare: the minimal pair's difference is not all zero (${nonzero} cells)`);
    // A and B drawn beside it
    const sides = await p.evaluate(() => ['compare-a', 'compare-b'].map((id) => [document.getElementById(id).width, document.getElementById(id).height]));
    check(sides.every(([w, h]) => w > 100 && h > 100), `compare: A and B drawn (${JSON.stringify(sides)})`);
    check(cmp.maxAbs > 0, `compare: max |A − B| over all maps ${cmp.maxAbs}`);
    // the hash keeps the state
    const hash = await p.evaluate(() => location.hash);
    const hp = new URLSearchParams(hash.slice(1));
    check(hp.get('cmp') === '1' && hp.get('textb') === TB, `compare: the hash says cmp=1 and B (${hash})`);

    // identical inputs: all zero, everywhere
    await p.fill('#compare-text', TA);
    await settle(p, (t) => { const c = window.__bertlens.compare(); return c && c.tokens.join(' ').includes('she') && c.differ.length === 0; }, TA);
    const z = await p.evaluate(() => window.__bertlens.compare());
    const zh = (await p.evaluate(() => window.__bertlens.hitGrid(2))).filter((h) => h.kind === 'cell');
    check(z.maxAbs === 0 && z.entropy.every((v) => v === 0), `compare: identical texts: max |A − B| = ${z.maxAbs} over every map, entropy change all 0`);
    check(zh.length === z.n * z.n && zh.every((h) => h.value === 0), `compare: identical texts: all ${zh.length} drawn cells are 0`);
    check(/same at every aligned position/.test(await p.textContent('#compare-note')) && (await p.textContent('#compare-differ')) === '',
      'compare: identical texts: the note says no position differs');

    // different lengths: aligned over the shorter
    await p.fill('#compare-text', 'The doctor said that he was very tired.');
    await settle(p, () => { const c = window.__bertlens.compare(); return c && c.nb > c.n; });
    const ref2 = cliJson(A.cli, 'compare', '-m', modelFile, TA, 'The doctor said that he was very tired.');
    const c2 = await p.evaluate(() => window.__bertlens.compare());
    check(c2.n === ref2.n && JSON.stringify(c2.differ) === JSON.stringify(ref2.tokens_differ),
      `compare: different lengths: n ${c2.n} and differing ${JSON.stringify(c2.differ)} = the CLI's`);

    // off: the panel hides and the heatmap is A's again
    await p.click('#compare-on');
    await settle(p, () => window.__bertlens.compare() === null);
    const ah = (await p.evaluate(() => window.__bertlens.hitGrid(2))).filter((h) => h.kind === 'cell');
    const att = cliJson(A.cli, 'attention', '-m', modelFile, TA).attentions[LAYER][HEAD];
    check(!(await p.isVisible('#compare-panel')) && ah.length > 0 && ah.every((h) => near(h.value, att[h.from][h.to], 1e-6)),
      'compare: unchecked, the panel hides and the heatmap shows A\'s attention');
    check(p.errors.length === 0, `compare: no console errors (${p.errors.join(' | ')})`);
    await p.context().close();
  }

  // ------------------------------------------------------------ compare mode: two models, one input
  {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'bl-cmp-'));
    try {
      const TA = 'The nurse said that the patient was asleep.', LAYER = 2, HEAD = 1;
      cli(A.cli, 'export-hf', '-m', modelFile, '-o', path.join(tmp, 'hf'));
      const f32 = path.join(tmp, 'model-f32.bin');
      cli(A.cli, 'convert', path.join(tmp, 'hf'), '-o', f32, '--dtype', 'f32');
      const ref = cliJson(A.cli, 'compare', '-m', modelFile, '--model-b', f32, TA);
      const p = await openPage();
      await p.goto(server.base + hashOf({ text: TA, view: 'heatmap', layer: LAYER, head: HEAD, cmp: '1', cmpk: 'model' }));
      check(await ready(p) === 'ready', `two models: page ready (${await p.textContent('#error-msg')})`);
      check(/choose model B/.test(await p.textContent('#compare-model-name')), 'two models: the page asks for model B');
      await p.setInputFiles('#compare-model-file', f32);
      await settle(p, () => { const c = window.__bertlens.compare(); return c && c.model; });
      const cmp = await p.evaluate(() => window.__bertlens.compare());
      check(cmp.n === ref.n && cmp.differ.length === 0 && JSON.stringify(cmp.tokens) === JSON.stringify(ref.tokens_b), `two models: same tokens, n ${cmp.n}`);
      const hits = (await p.evaluate(() => window.__bertlens.hitGrid(2))).filter((h) => h.kind === 'cell');
      let dok = 0, nonzero = 0;
      for (const h of hits) { dok += near(h.value, ref.diff[LAYER][HEAD][h.from][h.to], 1e-6); nonzero += h.value !== 0; }
      check(hits.length === ref.n * ref.n && dok === hits.length && nonzero > 0,
        `two models: every drawn cell is \`compare --model-b\`'s int8 − f32 (${dok} of ${hits.length}, ${nonzero} non-zero)`);
      const cellsE = await p.$$eval('#compare-entropy td', (tds) => tds.map((t) => [Number(t.dataset.layer), Number(t.dataset.head), Number(t.dataset.value)]));
      check(cellsE.length > 0 && cellsE.every(([l, h, v]) => near(v, ref.entropy_change[l][h], 1e-6 + 1e-6 * Math.abs(v))), 'two models: entropy change per head = the CLI\'s');
      check(/cmpk=model/.test(await p.evaluate(() => location.hash)) && /model-f32\.bin/.test(await p.textContent('#compare-note')),
        'two models: the hash says cmpk=model and the note names model B');
      // the same file as model B: nothing differs
      await p.setInputFiles('#compare-model-file', modelFile);
      await settle(p, () => { const c = window.__bertlens.compare(); return c && c.model && c.maxAbs === 0; });
      const z = await p.evaluate(() => window.__bertlens.compare());
      check(z.maxAbs === 0 && z.entropy.every((v) => v === 0), `two models: the same file twice gives max |A − B| = ${z.maxAbs}`);
      check(p.errors.length === 0, `two models: no console errors (${p.errors.join(' | ')})`);
      await p.context().close();
    } finally { rmSync(tmp, { recursive: true, force: true }); }
  }
} finally {
  await browser.close();
  server.proc.kill();
}
process.exit(summary('analyses_c'));
