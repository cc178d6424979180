// manifest.test.mjs — the model list and shard manifest rules of weights/FORMAT.md have one C
// implementation (core/model/manifest.c: the CLI, the native reader and, through
// blw_model_list / blw_shard_manifest, the page's worker) and one JS copy in web/sw.js (a
// service worker has no WebAssembly). This holds the copy to the C: on every manifest below,
// valid or not, both accept with the same answer or both refuse.
//   node tests/e2e/manifest.test.mjs --site build-web/site [--shards TEST_MODEL_SHARDS.json]
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { args, check, summary, loadCore, Core, ROOT } from './lib.mjs';

const A = args();
const site = path.resolve(A.site || path.join(ROOT, 'build-web/site'));
const core = new Core(await loadCore(site));

// web/sw.js's own functions, run as written (only what its top level touches is stubbed)
const ctx = vm.createContext({ self: { registration: { scope: 'https://example.test/app/' }, addEventListener() {} }, URL });
vm.runInContext(readFileSync(path.join(ROOT, 'web/sw.js'), 'utf8'), ctx, { filename: 'sw.js' });
const { resolveModelList, resolveShards } = ctx;
check(typeof resolveModelList === 'function' && typeof resolveShards === 'function', 'sw.js defines resolveModelList and resolveShards');

// key order does not matter; undefined never occurs in either answer
const canon = (x) => JSON.stringify(x, (k, v) => (v && typeof v === 'object' && !Array.isArray(v)
  ? Object.fromEntries(Object.keys(v).sort().map((key) => [key, v[key]])) : v));
const js = (fn) => { try { return fn(); } catch { return null; } };

let accepted = 0, refused = 0;
function agree(label, cAnswer, jsAnswer, expectValid) {
  const c = canon(cAnswer), j = canon(jsAnswer);
  const ok = c === j && (expectValid === undefined || (cAnswer !== null) === expectValid);
  if (cAnswer !== null) accepted++; else refused++;
  check(ok, `${label}: C ${c.slice(0, 160)}${cAnswer === null ? ` (${core.error()})` : ''} | sw.js ${j.slice(0, 160)}` +
    (expectValid === undefined ? '' : ` | expected ${expectValid ? 'valid' : 'invalid'}`));
}

// ------------------------------------------------------------------ model lists
const H = 'ab'.repeat(32), HU = H.toUpperCase();
const list = (models, extra = {}) => JSON.stringify({ ...extra, models });
const one = (entry, extra) => list([entry], extra);
const LISTS = [
  // valid
  [true, 'two models, the default second, sharded, uppercase digest', list([{ name: 'a', file: 'a.bin' },
    { name: 'b', file: 'sub/b.json', size: 10, sha256: HU }], { default: 'b' })],
  [true, 'no default: the first', list([{ name: 'a', file: 'a.bin' }, { name: 'b', file: 'b.bin' }])],
  [true, 'a repeated name: the first of them', list([{ name: 'x', file: '1.bin' }, { name: 'x', file: '2.bin' }], { default: 'x' })],
  [true, 'non-objects before the default are skipped', list([1, null, 'x', [], { name: 'x', file: 'x.bin' }], { default: 'x' })],
  [true, 'size 1.0 and 1e3 are whole numbers', one({ name: 'a', file: 'a.bin', size: 1e3 })],
  [true, 'size as "1.0" in the text', '{"models":[{"name":"a","file":"a.bin","size":1.0}]}'],
  [true, 'size 0', one({ name: 'a', file: 'a.bin', size: 0 })],
  [true, 'size 2^53 - 1', '{"models":[{"name":"a","file":"a.bin","size":9007199254740991}]}'],
  [true, 'odd but valid names', one({ name: 'modèle ☃ "q" \\ \n', file: 'a..b/.hidden/_-x.BIN' })],
  [true, '".json" alone is a weights file', one({ name: 'a', file: '.json' })],
  [true, '"x.json" is a shard manifest', one({ name: 'a', file: 'x.json' })],
  [true, '"x.JSON" is a weights file (case matters)', one({ name: 'a', file: 'x.JSON' })],
  [true, 'a repeated key: the last', '{"default":"a","default":"b","models":[{"name":"a","file":"a.bin"},{"name":"b","file":"b.bin"}]}'],
  [true, 'other keys are ignored', one({ name: 'a', file: 'a.bin', dtype: 7, config: null, description: [] }, { version: 'x' })],
  [true, 'a 255-character path', one({ name: 'a', file: `${'d'.repeat(120)}/${'f'.repeat(134)}` })],
  // invalid
  [false, 'an array', '[]'], [false, 'a string', '"x"'], [false, 'null', 'null'], [false, 'a number', '1'],
  [false, 'invalid JSON', '{"models": ['], [false, 'trailing comma', '{"models":[{"name":"a","file":"a.bin"},]}'],
  [false, 'no models', '{}'], [false, 'empty models', list([])], [false, 'models an object', '{"models":{"name":"a","file":"a.bin"}}'],
  [false, 'default null', one({ name: 'a', file: 'a.bin' }, { default: null })],
  [false, 'default a number', one({ name: 'a', file: 'a.bin' }, { default: 1 })],
  [false, 'default not listed (no fallback)', one({ name: 'a', file: 'a.bin' }, { default: 'b' })],
  [false, 'first entry not an object', list(['a.bin'])],
  [false, 'no name', one({ file: 'a.bin' })], [false, 'empty name', one({ name: '', file: 'a.bin' })],
  [false, 'name a number', one({ name: 1, file: 'a.bin' })], [false, 'name with NUL', one({ name: 'a\u0000b', file: 'a.bin' })],
  ...['', '/abs.bin', '../x.bin', 'a/../b.bin', 'a/./b.bin', './a.bin', 'a//b.bin', 'a/', 'http://x/y.bin', 'data:x', 'a b.bin',
    'a\\b.bin', '%2e%2e/x', 'a?b', 'a#b', 'é.bin', 'a\u0000.bin', 'x'.repeat(256), '.', '..']
    .map((f) => [false, `file ${JSON.stringify(f).slice(0, 40)}`, one({ name: 'a', file: f })]),
  [false, 'file missing', one({ name: 'a' })], [false, 'file a number', one({ name: 'a', file: 7 })],
  ...[-1, 1.5, '10', null, true, [], 9007199254740992, 1e300].map((v) => [false, `size ${JSON.stringify(v)}`, one({ name: 'a', file: 'a.bin', size: v })]),
  [false, 'size -0.5', '{"models":[{"name":"a","file":"a.bin","size":-0.5}]}'],
  ...[H.slice(1), H + 'a', 'g'.repeat(64), null, 1, ''].map((v) => [false, `sha256 ${JSON.stringify(v).slice(0, 20)}`, one({ name: 'a', file: 'a.bin', sha256: v })]),
];
if (existsSync(path.join(ROOT, 'weights/manifest.json')))
  LISTS.unshift([true, 'weights/manifest.json', readFileSync(path.join(ROOT, 'weights/manifest.json'), 'utf8')]);
for (const [valid, label, text] of LISTS)
  agree(`model list: ${label}`, core.modelList(text), js(() => resolveModelList(JSON.parse(text))), valid);

// ------------------------------------------------------------------ shard manifests
const G = 'cd'.repeat(32);
const shards = (parts, extra = {}) => JSON.stringify({ format: 'bertlens-weights-manifest', version: 1, size: 30, sha256: H, parts, ...extra });
const P = (p, size, sha = G) => ({ path: p, size, sha256: sha });
const SHARDS = [
  [true, 'two parts', shards([P('m.part000', 20), P('m.part001', 10, G.toUpperCase())])],
  [true, 'one part', shards([P('m.bin', 30)])],
  [true, 'an empty file in one empty part', shards([P('m.part000', 0)], { size: 0 })],
  [true, 'size 30.0 in the text', '{"format":"bertlens-weights-manifest","size":30.0,"sha256":"' + H + '","parts":[{"path":"a","size":30,"sha256":"' + G + '"}]}'],
  [false, 'format missing', shards([P('a', 30)], { format: undefined })],
  [false, 'format wrong', shards([P('a', 30)], { format: 'bertlens-weights' })],
  [false, 'size missing', shards([P('a', 30)], { size: undefined })],
  [false, 'sha256 bad', shards([P('a', 30)], { sha256: 'x' })],
  [false, 'parts empty', shards([])], [false, 'parts an object', shards({ a: P('a', 30) })],
  [false, 'parts add up to less', shards([P('a', 10), P('b', 10)])],
  [false, 'parts add up to more', shards([P('a', 20), P('b', 20)])],
  [false, 'a part with a directory', shards([P('d/a', 30)])], [false, 'a part ".."', shards([P('..', 30)])],
  [false, 'a part "file" key instead of "path"', shards([{ file: 'a', size: 30, sha256: G }])],
  [false, 'a part without sha256', shards([{ path: 'a', size: 30 }])],
  [false, 'a part size 1.5', shards([P('a', 1.5), P('b', 28.5)])],
  [false, 'a part not an object', shards(['a'])],
  [false, 'not an object', '[]'], [false, 'invalid JSON', '{"format":'],
];
// what the model list's entry says of the whole file: nothing, the same, or something else
const entriesFor = (text) => {
  let m = {};
  try { m = JSON.parse(text); } catch { /* invalid: any entry */ }
  const size = Number.isSafeInteger(m.size) ? m.size : 30, sha = typeof m.sha256 === 'string' ? m.sha256.toLowerCase() : H;
  return [[-1, '', true], [size, sha, true], [size + 1, '', false], [-1, G === sha ? H : G, false]];
};
if (A.shards && existsSync(A.shards)) SHARDS.unshift([true, path.basename(A.shards), readFileSync(A.shards, 'utf8')]);
for (const [valid, label, text] of SHARDS) {
  for (const [size, sha, same] of entriesFor(text)) {
    const entry = { size: size < 0 ? null : size, sha256: sha || null };
    agree(`shards: ${label}, entry ${size}/${sha.slice(0, 4) || '-'}`, core.shardManifest(text, size, sha),
      js(() => resolveShards(JSON.parse(text), entry)), valid && same);
  }
}
console.log(`manifest: ${accepted} accepted, ${refused} refused, C and sw.js agreeing on each`);
process.exit(summary('manifest'));
