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

/* The default model's files, as worker.js resolves them (weights/FORMAT.md). */
async function modelFiles(cache, man) {
  const models = Array.isArray(man.models) ? man.models : [];
  const entry = models.find((m) => m && m.name === man.default) || models[0];
  if (!entry || typeof entry.file !== 'string') return [];
  const url = abs(entry.file, MANIFEST);
  if (!url.startsWith(WEIGHTS)) return [];
  if (!/\.json$/i.test(entry.file)) return [{ url, size: entry.size, sha256: entry.sha256 }];
  const r = await get(url);
  const sm = await r.clone().json();
  await cache.put(url, r);
  return (Array.isArray(sm.parts) ? sm.parts : []).map((p) => ({ url: abs(p.path || p.file, url), size: p.size, sha256: p.sha256 }));
}

async function precache() {
  const cache = await caches.open(CACHE);
  try {
    await Promise.all(SHELL.map(async (rel) => cache.put(abs(rel), await get(abs(rel)))));
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
