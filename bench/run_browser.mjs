// run_browser.mjs — serves a directory and runs bench/bench_page.html in headless Chromium
// (playwright-core from the repository's node_modules, Debian's /usr/bin/chromium), printing
// and returning window.benchResults. Used by bench/run.sh.
//   node bench/run_browser.mjs ROOT_DIR QUERY OUT.json      (QUERY: see bench_page.html)
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { chromium } = require(path.resolve('node_modules/playwright-core'));
const [rootArg, query, outFile] = process.argv.slice(2);
const root = path.resolve(rootArg);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.onnx': 'application/octet-stream', '.json': 'application/json' };

const server = http.createServer((req, res) => {
  const p = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  if (!p.startsWith(root + path.sep)) { res.writeHead(403); res.end(); return; }
  fs.stat(p, (err, st) => {
    if (err || !st.isFile()) { res.writeHead(404); res.end(); return; }
    // cross-origin isolated, so onnxruntime-web can use threads (SharedArrayBuffer) when asked
    res.writeHead(200, { 'Content-Type': types[path.extname(p)] || 'application/octet-stream',
      'Content-Length': st.size, 'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp' });
    fs.createReadStream(p).pipe(res);
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox',
  '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'] });
let results;
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log('[page]', m.text()));
  page.on('pageerror', (e) => console.log('[page error]', e.message));
  await page.goto(`http://127.0.0.1:${port}/bench_page.html?${query}`);
  await page.waitForFunction(() => window.benchResults !== undefined, null, { timeout: 0, polling: 500 });
  results = await page.evaluate(() => window.benchResults);
} finally {
  await browser.close();
  server.close();
}
if (outFile) fs.writeFileSync(outFile, JSON.stringify(results, null, 2) + '\n');
if (results.error) { console.error(results.error); process.exit(1); }
console.log(JSON.stringify(results));
