/* worker-prelude.js — runs first in the worker of the single-file build (tools/build_single.sh),
   before bertlens_core.js and an unchanged worker.js. There is no server: the page hands over
   the files (base64, from <script type="application/octet-stream"> blocks) in the 'init'
   message, and fetch() answers from them. worker.js resolves URLs against its location, which a
   blob: worker cannot serve as a base, so a stand-in location is defined. */
'use strict';
(() => {
  const BASE = 'https://bertlens.single/';
  const base = new URL(BASE);
  const loc = { href: BASE, origin: base.origin, protocol: base.protocol, host: base.host, hostname: base.hostname,
    port: '', pathname: '/', search: '', hash: '', toString() { return BASE; } };
  Object.defineProperty(self, 'location', { value: loc, configurable: true });

  const TYPES = { json: 'application/json', wasm: 'application/wasm', ttf: 'font/ttf' };
  const files = new Map();      // path → Uint8Array
  function decode(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  // Registered before worker.js sets onmessage, so it sees the 'init' message first.
  self.addEventListener('message', (e) => {
    const m = e.data;
    if (m && m.type === 'init' && m.single) for (const [k, v] of Object.entries(m.single)) files.set(k, decode(v));
  });
  self.__blSingleFile = (path) => files.get(path);

  self.fetch = async (input) => {
    const u = new URL(typeof input === 'string' ? input : input.url, BASE);
    if (u.origin !== base.origin) throw new TypeError(`the single-file build has no network (${u.href})`);
    const path = decodeURIComponent(u.pathname.slice(1));
    const b = files.get(path);
    if (b) {
      return new Response(b, { status: 200, headers: { 'Content-Type': TYPES[path.split('.').pop()] || 'application/octet-stream',
        'Content-Length': String(b.byteLength) } });
    }
    // no default model in this file: the page shows "choose a model" (page-prelude.js)
    if (path === 'weights/manifest.json') throw new TypeError('BL_SINGLE_NO_MODEL');
    return new Response(`${path} is not part of this single-file build`, { status: 404, statusText: 'Not Found' });
  };
  // bertlens_core.js, cache.js and hub.js are already part of this script (tools/build_single.mjs)
  const INLINED = new Set(['bertlens_core.js', 'cache.js', 'hub.js']);
  self.importScripts = (...urls) => {
    for (const u of urls) if (!INLINED.has(u)) throw new Error(`importScripts(${u}): not in the single-file build`);
  };
})();
