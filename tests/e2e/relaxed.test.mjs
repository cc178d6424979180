// relaxed.test.mjs — WebAssembly programs built with relaxed SIMD (tools/build_relaxed.sh), run
// in headless Chromium: node 20's V8 implements a pre-standard form of
// i32x4.relaxed_dot_i8x16_i7x16_add_s with other results, so these cannot run in node.
//   node tests/e2e/relaxed.test.mjs --dir DIR --prog test_kernels_relaxed.js [--chromium PATH]
// DIR holds PROG (a non-modular emcc program for the web, -sEXIT_RUNTIME=1); the page runs its
// main() and the test passes when it exits with 0 (its own checks: bit-identity with the scalar
// reference). Its output (including the printed speed figures) is echoed.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { args, check, summary } from './lib.mjs';

const A = args();
const dir = path.resolve(A.dir || '');
const prog = A.prog || 'test_kernels_relaxed.js';
if (!A.dir || !fs.existsSync(path.join(dir, prog))) { console.error(`usage: --dir DIR --prog PROG.js (${path.join(dir, prog)} missing)`); process.exit(2); }

const page = `<!doctype html><meta charset="utf-8"><script>
window.blLines = []; window.blDone = null;   /* (emcc's script has its own out, err) */
var Module = { print: (s) => blLines.push(s), printErr: (s) => blLines.push(s),
  onExit: (code) => { blDone = code; }, onAbort: (e) => { blLines.push('abort: ' + e); blDone = -1; } };
</script><script src="${prog}"></script>`;
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const server = http.createServer((req, res) => {
  const name = decodeURIComponent(new URL(req.url, 'http://x').pathname).slice(1);
  if (name === '' || name === 'index.html') { res.writeHead(200, { 'Content-Type': 'text/html' }); res.end(page); return; }
  const p = path.join(dir, name);
  if (!p.startsWith(dir + path.sep) || !fs.existsSync(p)) { res.writeHead(404); res.end(); return; }
  res.writeHead(200, { 'Content-Type': types[path.extname(p)] || 'application/octet-stream' });
  fs.createReadStream(p).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: A.chromium || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
try {
  const p = await browser.newPage();
  p.on('pageerror', (e) => console.log('[page error]', e.message));
  await p.goto(`http://127.0.0.1:${server.address().port}/`);
  const hasRelaxed = await p.evaluate(() => WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123,
    3, 2, 1, 0, 10, 19, 1, 17, 0, 65, 0, 253, 15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 147, 2, 11])));
  check(hasRelaxed, 'this Chromium validates i32x4.relaxed_dot_i8x16_i7x16_add_s');
  await p.waitForFunction(() => window.blDone !== null, null, { timeout: 600000, polling: 200 }).catch(() => {});
  const { out, done } = await p.evaluate(() => ({ out: window.blLines, done: window.blDone }));
  for (const l of out) console.log(l);
  check(done === 0, `${prog} exits with 0 in Chromium (got ${done})`);
  check(out.some((l) => / 0 failed$/.test(l)) && !out.some((l) => /no relaxed SIMD/.test(l)), `${prog}: its checks ran and passed`);
} finally {
  await browser.close();
  server.close();
}
process.exit(summary('relaxed'));
