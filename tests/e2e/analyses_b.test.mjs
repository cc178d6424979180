// analyses_b.test.mjs — head statistics, the head finder and the head map in the page (headless
// Chromium, ./serve.sh on a free port):
//   node tests/e2e/analyses_b.test.mjs --test-model build-web/test-model/test.int8.bin --cli build/bertlens
// The statistics table must hold the numbers `bertlens stats` prints for the same text and model;
// "find heads" must order the model view by α[i][j] from `bertlens attention`; clicking a table
// row or a head-map dot must open that head. Uses the site's default model when it has one,
// else serves the test model in its place (as page.test.mjs does).
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, check, summary, cli, cliJson, startServe, ROOT } from './lib.mjs';

const A = args();
if (!A.cli || !existsSync(A.cli)) { console.error('need --cli build/bertlens'); process.exit(2); }
const SENTENCE = 'The cat sat on the mat, because it was tired.';
const STATS = ['entropy', 'cls', 'sep', 'punct', 'prev', 'next', 'self'];
const TOL = 5e-4;   // the page's forward (WASM, threads) against the native CLI's

const server = await startServe();
const site = cli(path.join(ROOT, 'serve.sh'), '--print-root').trim().split('\n').pop();
const hasDefault = existsSync(path.join(site, 'weights', 'manifest.json'));
let modelFile = A['test-model'];
if (hasDefault) {
  const man = JSON.parse(readFileSync(path.join(site, 'weights', 'manifest.json'), 'utf8'));
  const e = (man.models || []).find((m) => m.name === man.default) || man.models[0];
  modelFile = path.join(site, 'weights', e.file);
}
if (!modelFile) { console.error('no default model in the site and no --test-model'); process.exit(2); }
const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });

const hashOf = (o) => '#' + new URLSearchParams(o).toString();
const st = (p) => p.evaluate(() => JSON.parse(JSON.stringify(window.__bertlens.state)));
const frames = (p) => p.evaluate(() => window.__bertlens.metrics.frames);
async function settle(p, before) {   // a new frame after `before`, and the page idle again
  await p.waitForFunction((k) => window.__bertlens.metrics.frames > k, before, { timeout: 20000 });
  await p.waitForTimeout(150);
}
/* every distinct hit on a grid of CSS pixels over the canvas, with the first point that met it
   (row-major scan: for a rectangle, its top-left-most grid point) */
const hitScan = (p, step) => p.evaluate(async (s) => {
  const c = document.getElementById('view'), w = c.clientWidth, h = c.clientHeight, seen = new Map();
  for (let y = 0; y < h; y += s)
    for (let x = 0; x < w; x += s) {
      const t = await window.__bertlens.hitAt(x, y);
      if (!t || !t.kind) continue;
      const k = `${t.kind}:${t.from}:${t.to}:${t.layer}:${t.head}`;
      if (!seen.has(k)) seen.set(k, { ...t, x, y });
    }
  return Array.from(seen.values());
}, step);
async function clickCanvas(p, x, y, modifiers = []) {   // (x, y) in CSS px of the canvas (scrolled into view)
  await p.locator('#view').click({ position: { x, y }, modifiers });
}

try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 }, serviceWorkers: 'block' });
  const p = await context.newPage();
  const errors = [];
  p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  p.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  if (!hasDefault) {
    const bytes = readFileSync(modelFile), sha = (await import('node:crypto')).createHash('sha256').update(bytes).digest('hex');
    await context.route('**/weights/manifest.json', (r) => r.fulfill({ contentType: 'application/json',
      body: JSON.stringify({ default: 'test', models: [{ name: 'test', file: 'test.int8.bin', size: bytes.length, sha256: sha }] }) }));
    await context.route('**/weights/test.int8.bin', (r) => r.fulfill({ contentType: 'application/octet-stream', body: bytes }));
  }
  await p.goto(server.base + hashOf({ text: SENTENCE, layer: 0, head: 0, view: 'heatmap' }));
  await p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60000 });
  check(await p.evaluate(() => document.body.dataset.state) === 'ready', `page ready: ${await p.textContent('#error-msg')}`);
  const model = await p.evaluate(() => window.__bertlens.model), L = model.layers, H = model.heads;
  const run = await p.evaluate(() => ({ n: window.__bertlens.run.n, tokens: window.__bertlens.run.tokens, shown: window.__bertlens.run.shown }));

  // ------------------------------------------------------------ the table = `bertlens stats`
  const ref = cliJson(A.cli, 'stats', '-m', modelFile, SENTENCE);
  check(ref.layers === L && ref.heads === H && ref.tokens.length === run.n, `CLI and page agree on the shape (${ref.layers}x${ref.heads}, n ${ref.tokens.length} vs ${run.n})`);
  await p.click('#head-stats summary');
  await p.waitForFunction(() => window.__bertlens.headStats() && document.querySelectorAll('#head-table tbody tr').length > 0, null, { timeout: 20000 });
  const table = await p.evaluate(() => Array.from(document.querySelectorAll('#head-table tbody tr'), (tr) =>
    Array.from(tr.cells, (td) => ({ text: td.textContent, value: Number(td.dataset.value) }))));
  check(table.length === L * H, `table: ${table.length} rows for ${L}x${H} heads`);
  let worst = 0, textBad = 0;
  for (const row of table) {
    const l = row[0].value, h = row[1].value;
    STATS.forEach((s, k) => {
      const want = ref.stats[s][l][h], cell = row[2 + k];
      worst = Math.max(worst, Math.abs(cell.value - want));
      if (Math.abs(Number(cell.text) - want) > 0.0005 + TOL) textBad++;
    });
  }
  check(worst <= TOL && textBad === 0, `table values = bertlens stats: max |diff| ${worst.toExponential(2)}, ${textBad} cells printed wrong`);
  console.log(`head statistics: ${L * H} heads x ${STATS.length}, max |page - CLI| = ${worst.toExponential(2)}`);
  // the punctuation column sees the comma and the full stop (a wrong token kind would give 0)
  check(STATS.includes('punct') && table.some((r) => r[2 + STATS.indexOf('punct')].value > 0.05), 'some head attends to punctuation');

  // sort by [CLS], descending; then click the third row: that head opens in the heatmap
  await p.click('#head-table thead button[data-key="cls"]');
  const cls = await p.evaluate(() => Array.from(document.querySelectorAll('#head-table tbody tr'), (tr) => Number(tr.cells[3].dataset.value)));
  check(cls.length === L * H && cls.every((v, i) => i === 0 || v <= cls[i - 1]), 'sorted by [CLS], largest first');
  const row3 = await p.evaluate(() => { const tr = document.querySelectorAll('#head-table tbody tr')[2]; return { l: Number(tr.dataset.layer), h: Number(tr.dataset.head) }; });
  await p.evaluate(() => { document.getElementById('view').scrollIntoView(); });
  let f = await frames(p);
  await p.locator('#head-table tbody tr').nth(2).click();
  await settle(p, f);
  let s = await st(p);
  check(s.view === 'heatmap' && s.layer === row3.l && s.head === row3.h, `table row opens layer ${row3.l} head ${row3.h}: view ${s.view} ${s.layer}/${s.head}`);
  check(p.url().includes(`layer=${row3.l}`) && p.url().includes(`head=${row3.h}`), 'the hash follows');
  check(await p.evaluate(() => document.querySelector('#head-table tbody tr.current') !== null), 'the open head is marked in the table');

  // ------------------------------------------------------------ find heads: shift-click a cell
  const cells = (await hitScan(p, 6)).filter((t) => t.kind === 'cell' && t.from !== t.to && t.from > 0 && t.to > 0);
  check(cells.length > 0, `heatmap cells found (${cells.length})`);
  const cell = cells[Math.floor(cells.length / 2)];
  f = await frames(p);
  await clickCanvas(p, cell.x, cell.y, ['Shift']);
  await settle(p, f);
  s = await st(p);
  check(s.view === 'model' && s.rank && s.rank.from === cell.from && s.rank.to === cell.to,
    `shift-click ranks heads by ${cell.from} -> ${cell.to}: view ${s.view}, rank ${JSON.stringify(s.rank)}`);
  const note = await p.textContent('#rank-note');
  const lab = (i) => (run.shown || run.tokens)[i];
  check(note.includes(`‘${lab(cell.from)}’`) && note.includes(`‘${lab(cell.to)}’`), `the page says which weight: "${note}"`);
  check(p.url().includes(`rank=${cell.from}-${cell.to}`), 'the ranking is in the hash');
  // the thumbnails in reading order carry non-increasing α[from][to] of `bertlens attention`
  const att = cliJson(A.cli, 'attention', '-m', modelFile, SENTENCE).attentions;
  const alpha = (l, h) => att[l][h][cell.from][cell.to];
  const thumbs = (await hitScan(p, 8)).filter((t) => t.kind === 'head').sort((a, b) => a.y - b.y || a.x - b.x);
  check(thumbs.length === L * H, `ranked model view: ${thumbs.length} thumbnails`);
  let orderBad = 0, valueBad = 0;
  thumbs.forEach((t, k) => {
    if (k && alpha(t.layer, t.head) > alpha(thumbs[k - 1].layer, thumbs[k - 1].head) + TOL) orderBad++;
    if (Math.abs(t.value - alpha(t.layer, t.head)) > TOL) valueBad++;
  });
  let best = [0, 0];
  for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) if (alpha(l, h) > alpha(best[0], best[1])) best = [l, h];
  check(orderBad === 0 && valueBad === 0, `thumbnails ordered by the CLI's alpha: ${orderBad} out of order, ${valueBad} wrong values`);
  check(thumbs.length > 0 && Math.abs(alpha(thumbs[0].layer, thumbs[0].head) - alpha(best[0], best[1])) <= TOL,
    `first thumbnail is the CLI's best head (${best}): got ${thumbs[0] && [thumbs[0].layer, thumbs[0].head]}`);
  // the CLI ranks the same way: `render --view model --rank F-T` captions the thumbnails
  // "L<l> H<h> α" in the SVG, in reading order
  const tmpd = mkdtempSync(path.join(os.tmpdir(), 'bl-analyses-b-'));
  try {
    const svgFile = path.join(tmpd, 'rank.svg');
    cli(A.cli, 'render', '-m', modelFile, SENTENCE, '--view', 'model', '--rank', `${cell.from}-${cell.to}`, '-o', svgFile);
    const caps = [...readFileSync(svgFile, 'utf8').matchAll(/>L(\d+) H(\d+)(?: [0-9.]+)?</g)].map((m) => [Number(m[1]), Number(m[2])]);
    check(caps.length === L * H && caps.every((c, k) => c[0] === thumbs[k].layer && c[1] === thumbs[k].head),
      `render --rank ${cell.from}-${cell.to}: the CLI's ${caps.length} captions in the page's order (first ${caps[0]})`);
    // --bar: the statistic drawn under each thumbnail changes the picture; a bad name or view is refused
    const plainSvg = path.join(tmpd, 'plain.svg'), barSvg = path.join(tmpd, 'bar.svg');
    cli(A.cli, 'render', '-m', modelFile, SENTENCE, '--view', 'model', '-o', plainSvg);
    cli(A.cli, 'render', '-m', modelFile, SENTENCE, '--view', 'model', '--bar', 'self', '-o', barSvg);
    const rects = (f) => (readFileSync(f, 'utf8').match(/<rect/g) || []).length;
    check(rects(barSvg) >= rects(plainSvg) + L * H, `render --bar self: a bar track under each of the ${L * H} thumbnails (${rects(plainSvg)} -> ${rects(barSvg)} rectangles)`);
    for (const bad of [['--bar', 'nope'], ['--rank', '3'], ['--view', 'heatmap', '--bar', 'self']]) {
      let msg = '';
      try { cli(A.cli, 'render', '-m', modelFile, SENTENCE, ...(bad[0] === '--view' ? [] : ['--view', 'model']), ...bad, '-o', path.join(tmpd, 'x.svg')); } catch (e) { msg = String(e.stderr); }
      check(/--bar|--rank/.test(msg), `render ${bad.join(' ')} is refused: ${msg.trim()}`);
    }
  } finally { rmSync(tmpd, { recursive: true, force: true }); }
  // clearing: layer order again
  f = await frames(p);
  await p.click('#rank-clear');
  await settle(p, f);
  s = await st(p);
  const plain = (await hitScan(p, 8)).filter((t) => t.kind === 'head').sort((a, b) => a.y - b.y || a.x - b.x);
  check(s.rank === null && plain.every((t, k) => t.layer * H + t.head === k), 'cleared: layer order');
  check(!p.url().includes('rank='), 'cleared: no rank in the hash');

  // ------------------------------------------------------------ bars: the tooltip value is the statistic
  f = await frames(p);
  await p.selectOption('#stat-bar', String(1 + STATS.indexOf('self')));
  await settle(p, f);
  check(p.url().includes('bar=self'), 'the bar choice is in the hash');
  const barred = (await hitScan(p, 10)).filter((t) => t.kind === 'head');
  const barBad = barred.filter((t) => Math.abs(t.value - ref.stats.self[t.layer][t.head]) > TOL).length;
  check(barred.length === L * H && barBad === 0, `bars: each thumbnail's value is its [self] share (${barBad} of ${barred.length} wrong)`);

  // ------------------------------------------------------------ head map: click a dot
  f = await frames(p);
  await p.click('#views button[data-view="headmap"]');
  await settle(p, f);
  check((await st(p)).view === 'headmap' && p.url().includes('view=headmap'), 'head map view');
  const dots = (await hitScan(p, 3)).filter((t) => t.kind === 'head');
  const distinct = new Set(dots.map((t) => t.layer * H + t.head)).size;
  check(distinct >= Math.min(L * H, 4), `head map: ${distinct} of ${L * H} heads clickable`);
  const dot = dots.reduce((a, b) => (b.layer * H + b.head > a.layer * H + a.head ? b : a), dots[0]);
  f = await frames(p);
  await clickCanvas(p, dot.x, dot.y);
  await settle(p, f);
  s = await st(p);
  check(s.view === 'heatmap' && s.layer === dot.layer && s.head === dot.head, `dot opens layer ${dot.layer} head ${dot.head}: ${s.view} ${s.layer}/${s.head}`);

  // ------------------------------------------------------------ heatmap zoom: the wheel over a cell
  const full = (await hitScan(p, 4)).filter((t) => t.kind === 'cell');
  const nTok = (await p.evaluate(() => window.__bertlens.run.n));
  const mid = full.find((t) => t.from === nTok >> 1 && t.to === nTok >> 1) || full[0];
  f = await frames(p);
  await p.mouse.move(0, 0);
  const box = await p.locator('#view').boundingBox();
  await p.mouse.move(box.x + mid.x + 1, box.y + mid.y + 1);
  await p.mouse.wheel(0, -100);
  await settle(p, f);
  s = await st(p);
  const zsize = Math.max(8, Math.ceil(nTok / 2));
  check(s.zoom && s.zoom.size === zsize && p.url().includes(`zoom=${zsize}-`), `wheel up zooms to ${zsize} rows and columns (${JSON.stringify(s.zoom)})`);
  const zcells = (await hitScan(p, 4)).filter((t) => t.kind === 'cell');
  const rows = new Set(zcells.map((t) => t.from)), cols = new Set(zcells.map((t) => t.to));
  const inWin = s.zoom && zcells.every((t) => t.from >= 0 && t.to >= 0 && rows.size === zsize && cols.size === zsize);
  check(inWin && rows.has(mid.from) && cols.has(mid.to), `the zoomed heatmap shows ${zsize} x ${zsize} cells around ${mid.from} -> ${mid.to} (${rows.size} x ${cols.size})`);
  const zv = zcells.find((t) => t.from === mid.from && t.to === mid.to);
  check(zv && Math.abs(zv.value - mid.value) === 0, 'a zoomed cell carries the same weight as before');
  f = await frames(p);
  await p.locator('#view').dblclick({ position: { x: 5, y: 5 } });
  await settle(p, f);
  check((await st(p)).zoom === null && !p.url().includes('zoom='), 'a double click shows the whole matrix again');
  check(errors.length === 0, `no console errors: ${errors.join(' | ')}`);
  await context.close();
} finally {
  await browser.close();
  server.proc.kill();
}
process.exit(summary('analyses_b'));
