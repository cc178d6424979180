// build_single.mjs — one self-contained HTML file from the built site (tools/build_single.sh).
//   node tools/build_single.mjs --site SITE_DIR --out FILE.html [--model X.bin | --default-model]
//        [--max-model-mb 64]
// The page, app.js, the worker (web/single/worker-prelude.js + bertlens_core.js + worker.js), the
// WASM, the font and optionally a model are inlined: scripts and the stylesheet as inline
// elements allowed by SHA-256 hashes in the CSP meta tag, binary files as base64 data blocks
// (<script type="application/octet-stream">, never executed). It opens from file:// with no
// server; without a model it asks for one (the “your own model…” picker or a drop).
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';

const argv = process.argv.slice(2);
const A = {};
for (let i = 0; i < argv.length; i++) {
  if (!argv[i].startsWith('--')) continue;
  const k = argv[i].slice(2);
  A[k] = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : true;
}
const die = (m) => { console.error(`build_single: ${m}`); process.exit(1); };
if (!A.site || !A.out) die('usage: build_single.mjs --site SITE_DIR --out FILE.html [--model X.bin | --default-model]');
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const site = (f) => readFileSync(path.join(A.site, f));
const text = (f) => site(f).toString('utf8');
const b64 = (buf) => Buffer.from(buf).toString('base64');
const sha = (s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/* ------------------------------------------------------------------ files for the worker */
// The SIMD128 core only, never the relaxed-SIMD one (bertlens_core_relaxed*): the worker's script
// defines one BertlensCore, and a second core would add its glue and WASM (~0.7 MB, a third more
// as base64) to a file meant to stay small. worker.js asks for the relaxed core, worker-prelude.js's
// importScripts refuses it (not inlined), and worker.js runs the SIMD128 core: same results.
const files = {
  'bertlens_core.wasm': site('bertlens_core.wasm'),
  'fonts/DejaVuSans-subset.ttf': site('fonts/DejaVuSans-subset.ttf'),
};
let modelNote = 'no model';
const maxMb = Number(A['max-model-mb'] || 64);
if (A.model) {
  const m = readFileSync(A.model), name = path.basename(A.model).replace(/(\.int8|\.f16|\.f32)?\.bin$/, '');
  files['weights/manifest.json'] = Buffer.from(JSON.stringify({ default: name, models: [{ name, file: 'model.bin', size: m.length,
    sha256: createHash('sha256').update(m).digest('hex') }] }));
  files['weights/model.bin'] = m;
  modelNote = `${name} (${(m.length / 1048576).toFixed(1)} MB)`;
} else if (A['default-model']) {
  const manPath = path.join(A.site, 'weights', 'manifest.json');
  if (!existsSync(manPath)) die('--default-model: the site has no weights/manifest.json');
  const man = JSON.parse(readFileSync(manPath, 'utf8'));
  const e = (man.models || []).find((x) => x && x.name === man.default) || (man.models || [])[0];
  if (!e || typeof e.file !== 'string' || e.file.includes('..')) die('--default-model: the manifest names no model file');
  const list = [e.file];
  if (/\.json$/i.test(e.file)) {   // a sharded model: its shard manifest and every part
    const sm = JSON.parse(text(path.join('weights', e.file)));
    const dir = path.posix.dirname(e.file);
    for (const p of sm.parts || []) list.push(path.posix.join(dir, p.path || p.file));
  }
  let total = 0;
  files['weights/manifest.json'] = Buffer.from(JSON.stringify({ default: e.name, models: [e] }));
  for (const f of list) { files['weights/' + f] = site(path.join('weights', f)); total += files['weights/' + f].length; }
  if (total > maxMb * 1048576) die(`the default model is ${(total / 1048576).toFixed(1)} MB, over --max-model-mb ${maxMb}`);
  modelNote = `${e.name} (${(total / 1048576).toFixed(1)} MB)`;
}

const worker = [
  readFileSync(path.join(ROOT, 'web/single/worker-prelude.js'), 'utf8'),
  text('bertlens_core.js'),
  // the core's wasm comes from the page, not from a fetch
  "BertlensCore = ((f) => (o) => f(Object.assign({ wasmBinary: self.__blSingleFile('bertlens_core.wasm') }, o)))(BertlensCore);",
  // the Hub loader and the model store, which worker.js would importScripts (the prelude makes
  // that a no-op for them): dropped Hugging Face directories convert here too; the Hub itself is
  // out of reach (no network in this build: the prelude's fetch says so)
  text('cache.js'), text('hub.js'),
  '(function () {', text('worker.js'), '})();',
].join('\n');

/* ------------------------------------------------------------------ the page */
let html = text('index.html');
const replaceOnce = (re, by, what) => {
  if (!re.test(html)) die(`index.html: ${what} not found`);
  html = html.replace(re, () => by);
};
const css = text('style.css') + `
/* single-file build: the prompt shown while no model is loaded */
#choose-model { border: 1px dashed var(--border); border-radius: 4px; padding: 8px 12px; margin: 8px 0; }
#choose-model[hidden] { display: none; }
`;
if (/<\/style/i.test(css)) die('style.css contains </style');
replaceOnce(/<link rel="stylesheet" href="style.css">/, `<style>${css}</style>`, 'the stylesheet link');
replaceOnce(/href="favicon.svg"/, `href="data:image/svg+xml;base64,${b64(site('favicon.svg'))}"`, 'the favicon link');
// external scripts: cache.js and app.js are inlined (after the body, since they no longer
// defer); offline.js is dropped (no service worker from file://)
const scripts = [];
html = html.replace(/<script src="([^"]+)"( defer)?><\/script>\n?/g, (_, src) => { scripts.push(src); return ''; });
if (!scripts.includes('app.js')) die('index.html: no <script src="app.js">');
for (const s of scripts) if (!['cache.js', 'app.js', 'offline.js'].includes(s)) die(`index.html: unexpected script ${s}`);
replaceOnce(/<section id="inputs">/, `<section id="choose-model" hidden>
  <p>This is bertlens as a single file, without a model. Choose a <code>.bin</code> made by
  <code>bertlens convert</code> with “your own model…” above, or drop it on the page.</p>
</section>

<section id="inputs">`, 'section#inputs');
// cache.js (the stored-models list) before app.js, as index.html orders them
const inline = readFileSync(path.join(ROOT, 'web/single/page-prelude.js'), 'utf8') + '\n' +
  (scripts.includes('cache.js') ? text('cache.js') + '\n' : '') + text('app.js');
if (/<\/script|<!--/i.test(inline)) die('the inline script contains </script or <!--');
const blocks = Object.entries({ 'worker.js': Buffer.from(worker, 'utf8'), ...files }).map(([p, b]) =>
  `<script type="application/octet-stream" data-path="${p}">${b64(b)}</script>`).join('\n');
replaceOnce(/<\/body>/, `${blocks}\n<script>${inline}</script>\n</body>`, '</body>');
const csp = `default-src 'none'; script-src ${sha(inline)} 'wasm-unsafe-eval'; style-src ${sha(css)}; img-src data: blob:; ` +
  `worker-src blob:; object-src 'none'; base-uri 'none'; form-action 'none'`;
replaceOnce(/<meta http-equiv="Content-Security-Policy" content="[^"]*">/,
  `<meta http-equiv="Content-Security-Policy" content="${csp}">`, 'the CSP meta tag');
html = html.replace(/<html lang="en">/, '<html lang="en">\n<!-- bertlens single-file build (tools/build_single.sh); MIT licence, third-party notices: THIRD_PARTY.md -->');
writeFileSync(A.out, html);
console.error(`build_single: ${A.out}: ${(Buffer.byteLength(html) / 1048576).toFixed(2)} MB, model: ${modelNote}`);
