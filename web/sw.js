/* sw.js — the service worker that makes a hosted bertlens work offline (registered by
   offline.js once the page has drawn its first view).
   - One cache per build: "bertlens:<scope>:<VERSION>", VERSION being the build hash that
     web/sw.cmake writes below (a hash of every file of the site, the model included). A new
     build means a new sw.js, which the browser installs beside the old one; when it activates,
     the caches of older builds of this copy (same scope) are deleted.
   - install: caches the app shell, the WebAssembly core, the font, weights/manifest.json and the
     default model it names (every part of a sharded one, sizes and SHA-256 checked).
   - fetch: the shell and the weights cache-first (they belong to this build); the manifest
     network-first. When the network manifest differs from the cached one the site has been
     updated under this build: the cached weights are dropped (so the page never pairs a new
     manifest with an old model; the new files are fetched and cached as they come) and an
     update of the service worker is requested. Offline, the cached manifest is used.
   Only GET requests inside the scope are handled; everything else goes to the network. */
'use strict';
const VERSION = '@BL_BUILD_HASH@';   // replaced by web/sw.cmake; left as is in an unbuilt tree
const SCOPE = self.registration.scope;                  // e.g. https://user.github.io/bertlens/
const PREFIX = `bertlens:${SCOPE}:`;                    // caches of other copies on this origin are left alone
const CACHE = PREFIX + VERSION;
// the threaded core too: a cross-origin isolated copy of the page (served with COOP/COEP) loads it
const SHELL = ['./', 'app.js', 'worker.js', 'hub.js', 'cache.js', 'style.css', 'favicon.svg', 'offline.js', 'bertlens_core.js',
  'bertlens_core.wasm', 'bertlens_core_mt.js', 'bertlens_core_mt.wasm', 'bertlens_core_mt.worker.js',
  'fonts/DejaVuSans-subset.ttf'];
// the relaxed-SIMD cores, cached where worker.js would take them: the browser validates relaxed
// SIMD (worker.js's RELAXED_PROBE, the same bytes) and the site has them (a site built without
// clang-19 answers 404, and its pages run the SIMD128 cores)
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17,
  0, 65, 0, 253, 15, 65, 0, 253, 15, 65, 0, 253, 15, 253, 147, 2, 11]);
const SHELL_IF_BUILT = typeof WebAssembly === 'object' && WebAssembly.validate(RELAXED_PROBE)
  ? ['bertlens_core_relaxed.js', 'bertlens_core_relaxed.wasm', 'bertlens_core_relaxed_mt.js', 'bertlens_core_relaxed_mt.wasm',
    'bertlens_core_relaxed_mt.worker.js'] : [];
const abs = (rel, base = SCOPE) => new URL(rel, base).href;
const MANIFEST = abs('weights/manifest.json');
const WEIGHTS = abs('weights/');
const SHA_MAX = 64 << 20;   // files up to this size are SHA-256-checked before they are cached

async function get(url) {
  // no-cache: revalidate with the server (a 304 reuses the copy the page just downloaded)
  const r = await fetch(url, { cache: 'no-cache' });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r;
}

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

/* A weights file, checked against the manifest's size and SHA-256 before it is cached. */
async function cacheChecked(cache, f) {
  const r = await get(f.url);
  const buf = await r.arrayBuffer();
  if (Number.isSafeInteger(f.size) && buf.byteLength !== f.size)
    throw new Error(`${f.url}: ${buf.byteLength} bytes, the manifest says ${f.size}`);
  if (typeof f.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(f.sha256) && buf.byteLength <= SHA_MAX) {
    const h = hex(await crypto.subtle.digest('SHA-256', buf));
    if (h !== f.sha256.toLowerCase()) throw new Error(`${f.url}: SHA-256 ${h}, the manifest says ${f.sha256}`);
  }
  const headers = new Headers(r.headers);
  headers.set('Content-Length', String(buf.byteLength));
  headers.delete('Content-Encoding');
  await cache.put(f.url, new Response(buf, { status: 200, statusText: 'OK', headers }));
}

/* ---- the model list and shard manifest rules of weights/FORMAT.md. worker.js resolves them
   with the core's C (blw_model_list, blw_shard_manifest); a service worker has no WebAssembly,
   so this is the one JS copy, held to the C's answers by tests/e2e/manifest.test.mjs. Both
   take parsed JSON and return the C's JSON shapes, or throw. */
const isObject = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);
const isSize = (x) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= Number.MAX_SAFE_INTEGER;
const isDigest = (x) => typeof x === 'string' && /^[0-9a-fA-F]{64}$/.test(x);
const isFileName = (x) => typeof x === 'string' && x.length <= 255 && /^[A-Za-z0-9._-]+$/.test(x) && x !== '.' && x !== '..';
const isPath = (x) => typeof x === 'string' && x.length <= 255 && x.split('/').every(isFileName);

function resolveModelList(man) {
  if (!isObject(man)) throw new Error('model list: not a JSON object');
  const models = man.models;
  if (!Array.isArray(models) || models.length < 1) throw new Error('model list: "models" must be a non-empty array');
  let entry = models[0];
  if ('default' in man) {
    if (typeof man.default !== 'string') throw new Error('model list: "default" must be a string');
    entry = models.find((m) => isObject(m) && m.name === man.default);
    if (!entry) throw new Error(`model list: the default model "${man.default}" is not in "models"`);
  }
  if (!isObject(entry)) throw new Error('model list: the model entry is not an object');
  const { name, file, size, sha256 } = entry;
  if (typeof name !== 'string' || !name || name.includes('\0')) throw new Error('model list: the model needs a "name"');
  if (!isPath(file)) throw new Error(`model list: model "${name}": "file" is not a valid path`);
  if ('size' in entry && !isSize(size)) throw new Error(`model list: model "${name}": bad "size"`);
  if ('sha256' in entry && !isDigest(sha256)) throw new Error(`model list: model "${name}": bad "sha256"`);
  return { name, file, sharded: file.length > 5 && file.endsWith('.json'), size: 'size' in entry ? size : null,
    sha256: 'sha256' in entry ? sha256.toLowerCase() : null };
}

function resolveShards(sm, entry) {
  if (!isObject(sm) || sm.format !== 'bertlens-weights-manifest') throw new Error('shard manifest: bad "format"');
  if (!isSize(sm.size) || !isDigest(sm.sha256) || !Array.isArray(sm.parts) || sm.parts.length < 1)
    throw new Error('shard manifest: needs "size", "sha256" and a non-empty "parts" array');
  const sha256 = sm.sha256.toLowerCase();
  if (entry && entry.size !== null && entry.size !== sm.size) throw new Error('shard manifest: "size" differs from the model list\'s');
  if (entry && entry.sha256 !== null && entry.sha256 !== sha256) throw new Error('shard manifest: "sha256" differs from the model list\'s');
  let sum = 0;
  const parts = sm.parts.map((p, i) => {
    if (!isObject(p) || !isFileName(p.path) || !isSize(p.size) || !isDigest(p.sha256)) throw new Error(`shard manifest: bad part ${i}`);
    if (p.size > sm.size - sum) throw new Error('shard manifest: the parts add up to more than "size"');
    sum += p.size;
    return { path: p.path, size: p.size, sha256: p.sha256.toLowerCase() };
  });
  if (sum !== sm.size) throw new Error('shard manifest: the parts do not add up to "size"');
  return { size: sm.size, sha256, parts };
}

/* The default model's files (every part of a sharded one), checked as the worker checks them;
   [] when the list names none (the page then reports the problem itself). */
async function modelFiles(cache, man) {
  let entry;
  try { entry = resolveModelList(man); } catch { return []; }
  const url = abs(entry.file, MANIFEST);
  if (!url.startsWith(WEIGHTS)) return [];
  if (!entry.sharded) return [{ url, size: entry.size, sha256: entry.sha256 }];
  const r = await get(url);
  const sm = resolveShards(await r.clone().json(), entry);
  await cache.put(url, r);
  return sm.parts.map((p) => ({ url: abs(p.path, url), size: p.size, sha256: p.sha256 }));
}

async function precache() {
  const cache = await caches.open(CACHE);
  try {
    await Promise.all(SHELL.map(async (rel) => cache.put(abs(rel), await get(abs(rel)))));
    await Promise.all(SHELL_IF_BUILT.map(async (rel) => {
      const r = await fetch(abs(rel), { cache: 'no-cache' });
      if (r.status === 404) return;
      if (!r.ok) throw new Error(`${abs(rel)}: HTTP ${r.status}`);
      await cache.put(abs(rel), r);
    }));
    const mr = await get(MANIFEST);
    const man = await mr.clone().json();
    for (const f of await modelFiles(cache, man)) await cacheChecked(cache, f);
    await cache.put(MANIFEST, mr);   // last: a cache with the manifest is a complete one
  } catch (e) {
    await caches.delete(CACHE);      // never keep half a build
    throw e;
  }
}

self.addEventListener('install', (e) => e.waitUntil(precache()));

self.addEventListener('activate', (e) => e.waitUntil((async () => {
  for (const k of await caches.keys()) if (k.startsWith(PREFIX) && k !== CACHE) await caches.delete(k);
  await self.clients.claim();
})()));

async function manifestNetworkFirst(req) {
  const cache = await caches.open(CACHE);
  let net = null;
  try { net = await fetch(req); } catch { /* offline */ }
  if (!net || net.status >= 500) return (await cache.match(MANIFEST)) || net || Response.error();
  if (!net.ok) return net;
  const cached = await cache.match(MANIFEST);
  const text = await net.clone().text();
  if (!cached || (await cached.text()) !== text) {
    // the site changed under this build: its weights no longer match; fetch (and cache) them afresh
    for (const k of await cache.keys()) if (k.url.startsWith(WEIGHTS)) await cache.delete(k);
    await cache.put(MANIFEST, net.clone());
    self.registration.update().catch(() => {});
  }
  return net;
}

async function cacheFirst(e, url) {
  const cache = await caches.open(CACHE);
  // the page itself under either of its names (./, index.html); the query is ignored
  const hit = await cache.match(url === abs('index.html') ? SCOPE : url);
  if (hit) return hit;
  const net = await fetch(e.request);
  // weights fetched after a manifest change are kept (while the page streams its copy), so the
  // next visit works offline too
  if (net.status === 200 && url.startsWith(WEIGHTS)) e.waitUntil(cache.put(url, net.clone()).catch(() => {}));
  return net;
}

self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET') return;
  const u = new URL(req.url);
  u.hash = '';
  u.search = '';
  const url = u.href;
  if (!url.startsWith(SCOPE) || url === abs('sw.js')) return;
  e.respondWith(url === MANIFEST ? manifestNetworkFirst(req) : cacheFirst(e, url));
});
