/* cache.js — converted models kept in the browser (Cache API), so a model from the Hub opens
   without a download next time and offline. Loaded by worker.js (importScripts) and by the page
   (a script tag: the stored-models list); defines BLCache.
   One entry per (hub, id, revision, commit): the commit is the repository's (the models API's
   "sha" or x-repo-commit), so a new commit on the branch is a new download, and an old entry is
   what opens offline (the newest one stored for that hub, id and revision). Entries live in their
   own cache, which the offline service worker (sw.js, caches "bertlens:<scope>:…") leaves alone. */
'use strict';
self.BLCache = (() => {
  const NAME = 'bertlens-models-v1';
  const BASE = new URL('./__bertlens_models__/', self.location.href).href;   // keys only; never fetched

  const available = () => typeof caches === 'object' && caches !== null;
  const keyOf = (m) => `${BASE}${encodeURIComponent(m.hub)}/${encodeURIComponent(m.id)}/${encodeURIComponent(m.rev)}/${encodeURIComponent(m.commit || 'nocommit')}`;

  class QuotaError extends Error {}

  /* Stores the bytes (a Uint8Array) with their description; throws QuotaError when the browser's
     storage is full. */
  async function put(meta, bytes) {
    if (!available()) return false;
    const m = { ...meta, size: bytes.length, stored: Date.now() };
    if (navigator.storage && navigator.storage.estimate) {
      try {
        const e = await navigator.storage.estimate();
        if (e.quota && e.quota - (e.usage || 0) < bytes.length)
          throw new QuotaError(`Not enough browser storage to keep ${m.id} for next time (${(bytes.length / 1048576).toFixed(0)} MB needed, ` +
            `${((e.quota - (e.usage || 0)) / 1048576).toFixed(0)} MB free): delete stored models to make room.`);
      } catch (e) { if (e instanceof QuotaError) throw e; }
    }
    const c = await caches.open(NAME);
    const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length), 'X-Bertlens-Model': JSON.stringify(m) };
    try {
      await c.put(keyOf(m), new Response(bytes, { headers }));
    } catch (e) {
      if (e && (e.name === 'QuotaExceededError' || /quota/i.test(e.message)))
        throw new QuotaError(`The browser's storage is full: ${m.id} was loaded but not kept for next time. Delete stored models to make room.`);
      throw e;
    }
    return true;
  }

  function metaOf(r) {
    try { return JSON.parse(r.headers.get('X-Bertlens-Model')); } catch { return null; }
  }

  /* Every stored model: [{key, hub, id, rev, commit, name, size, stored}], newest first. */
  async function list() {
    if (!available()) return [];
    const c = await caches.open(NAME), out = [];
    for (const req of await c.keys()) {
      const r = await c.match(req);
      const m = r && metaOf(r);
      if (m) out.push({ ...m, key: req.url });
    }
    return out.sort((a, b) => b.stored - a.stored);
  }

  /* The stored response for exactly this commit, or (commit null: offline) the newest for the
     hub, id and revision; null when there is none. {meta, response}. */
  async function find(hub, id, rev, commit) {
    if (!available()) return null;
    const c = await caches.open(NAME);
    if (commit) {
      const r = await c.match(keyOf({ hub, id, rev, commit }));
      return r ? { meta: metaOf(r), response: r } : null;
    }
    const m = (await list()).find((x) => x.hub === hub && x.id === id && x.rev === rev);
    if (!m) return null;
    const r = await c.match(m.key);
    return r ? { meta: m, response: r } : null;
  }

  async function remove(key) {
    if (!available() || !String(key).startsWith(BASE)) return false;
    return (await caches.open(NAME)).delete(key);
  }

  return { NAME, put, list, find, remove, QuotaError, keyOf };
})();
