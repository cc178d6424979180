// screenshots.mjs — docs/view-*.png: one screenshot of the page per view, taken from the site
// ./serve.sh builds (default model), in headless Chromium at devicePixelRatio 1.
//   node tests/e2e/screenshots.mjs [--out docs] [--test-model FILE (when no default model)]
import { readFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, cli, startServe, ROOT } from './lib.mjs';

const A = args();
const out = path.resolve(A.out || path.join(ROOT, 'docs'));
mkdirSync(out, { recursive: true });
const site = cli(path.join(ROOT, 'serve.sh'), '--print-root').trim().split('\n').pop();
const hasDefault = existsSync(path.join(site, 'weights', 'manifest.json'));
if (!hasDefault && !A['test-model']) { console.error('no default model: pass --test-model'); process.exit(2); }

// ./serve.sh on a free port, waited for while it builds (an incremental build can take minutes)
const { proc, base } = await startServe();

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 1000 }, deviceScaleFactor: 1 });
  if (!hasDefault) {
    const tm = readFileSync(A['test-model']);
    await ctx.route('**/weights/manifest.json', (r) => r.fulfill({ contentType: 'application/json',
      body: JSON.stringify({ default: path.basename(A['test-model']), models: [{ name: path.basename(A['test-model']), file: 'test.bin', size: tm.length }] }) }));
    await ctx.route('**/weights/test.bin', (r) => r.fulfill({ body: tm }));
  }
  const p = await ctx.newPage();
  const shots = [
    ['heatmap', { text: 'The cat sat on the mat because it was tired.', view: 'heatmap', layer: 1, head: 0 }],
    ['model', { text: 'The cat sat on the mat because it was tired.', view: 'model', layer: 0, head: 0 }],
    ['head', { text: 'The quick brown fox jumps over the lazy dog.', pair: 'A fast fox leaps over a sleepy dog.', view: 'head', layer: 1, head: 0 }],
    ['neuron', { text: 'The cat sat on the mat because it was tired.', view: 'neuron', layer: 1, head: 0 }],
    ['rollout', { text: 'The cat sat on the mat because it was tired.', view: 'rollout', layer: 0, head: 0 }],
    ['flow', { text: 'The cat sat on the mat because it was tired.', view: 'flow', layer: 0, head: 0 }],
    ['mlm', { text: 'Paris is the [MASK] of France. She opened the door and [MASK] into the room.', view: 'mlm', layer: 0, head: 0 }],
    // the logit lens (nostalgebraist 2020) under the masked-LM predictions, and compare mode on a minimal pair
    ['lens', { text: 'Paris is the [MASK] of France.', view: 'mlm', lens: '1', layer: 0, head: 0 }],
    ['compare', { text: 'The doctor said she was tired.', view: 'heatmap', layer: 2, head: 'mean', cmp: '1', textb: 'The doctor said he was tired.' }],
    // value-weighted attention (Kobayashi et al. 2020), the head statistics under the model view and
    // the head finder (Clark et al. 2019): layer 3 head 1 is a [CLS]/[SEP] sink in α
    ['value-weighted', { text: 'The doctor said she was late, and the nurse agreed.', view: 'heatmap', layer: 3, head: 1, vw: '1' }],
    ['stats', { text: 'The doctor said she was late, and the nurse agreed.', view: 'model', layer: 0, head: 2, bar: 'prev' }],
    ['finder', { text: 'The doctor said she was late, and the nurse agreed.', view: 'model', layer: 0, head: 0, rank: '4-2' }],
  ];
  for (const [name, h] of shots) {
    await p.goto('about:blank');
    await p.goto(base + '#' + new URLSearchParams(h).toString());
    await p.waitForFunction(() => document.body.dataset.state !== 'loading', null, { timeout: 60000 });
    if (await p.evaluate(() => document.body.dataset.state) !== 'ready') throw new Error(await p.textContent('#error-msg'));
    if (name === 'rollout' || name === 'flow') {   // through the whole model
      const L = await p.evaluate(() => window.__bertlens.model.layers);
      const f = await p.evaluate(() => window.__bertlens.metrics.frames);
      await p.selectOption('#layer', String(L - 1));
      await p.waitForFunction((k) => window.__bertlens.metrics.frames > k, f);
    }
    if (name === 'neuron') {   // select a token so the view has something to show
      const b = await p.locator('#view').boundingBox();
      for (let y = 0.1; y < 0.9; y += 0.04) {
        await p.mouse.move(b.x + b.width * 0.1, b.y + b.height * y);
        await p.waitForTimeout(30);
        if (/^cat\b/.test(await p.evaluate(() => document.getElementById('tooltip').textContent))) { await p.mouse.click(b.x + b.width * 0.1, b.y + b.height * y); break; }
      }
      await p.waitForTimeout(300);
    }
    if (name === 'stats') {   // the statistics table, sorted by the previous-token share
      await p.click('#head-stats summary');
      await p.waitForTimeout(300);
    }
    if (name === 'heatmap') {   // show the hover tooltip and highlight
      const b = await p.locator('#view').boundingBox();
      await p.mouse.move(b.x + b.width * 0.45, b.y + b.height * 0.45);
      await p.waitForTimeout(300);
    } else await p.mouse.move(0, 0);
    await p.waitForTimeout(200);
    const file = path.join(out, `view-${name}.png`);
    await p.screenshot({ path: file, fullPage: true });
    console.log(file);
  }
} finally {
  await browser.close();
  proc.kill();
}
