/* bench_worker.js — runs bench_forward-mt.js (bench_forward.c built with -pthread) or its
   relaxed-SIMD twin bench_forward-relaxed-mt.js in a Web Worker for bench_page.html: a blocked
   thread may not wait on the browser's main thread, and the page's threaded cores run in a worker
   too.
   Messages in:
   - {args: [...] (bench_forward's command line), script: one of the two names}: runs main; posts
     each printed line, then {done: true, code};
   - {pair: {shape, dtype, att, threads}, script}: makes a bl_bench_pair (engines=pair with
     threads) and posts {ready: true}; then each {run: n} does one forward and posts {ms} (timed
     here, so that the message's way to and from the page is not counted) or {error}. */
'use strict';
let pair = 0;
self.onmessage = (e) => {
  if (e.data.run !== undefined) {
    const t0 = performance.now();
    const rc = Module.ccall('bl_bench_pair_forward', 'number', ['number', 'number'], [pair, e.data.run]);
    const ms = performance.now() - t0;
    self.postMessage(rc === 0 ? { ms } : { error: `bertlens forward over ${e.data.run} tokens failed` });
    return;
  }
  const script = e.data.script === 'bench_forward-relaxed-mt.js' ? e.data.script : 'bench_forward-mt.js';
  const p = e.data.pair;
  self.Module = {
    arguments: e.data.args || [],
    noInitialRun: !!p,
    mainScriptUrlOrBlob: new URL(script, self.location.href).href,
    print: (s) => self.postMessage({ line: s }),
    printErr: (s) => self.postMessage({ line: 'stderr: ' + s }),
    onExit: (code) => self.postMessage({ done: true, code }),
    onAbort: (what) => self.postMessage({ done: true, code: -1, error: String(what) }),
    onRuntimeInitialized: () => {
      if (!p) return;
      pair = Module.ccall('bl_bench_pair_new', 'number', ['string', 'string', 'number', 'number'],
        [p.shape, p.dtype, p.att ? 1 : 0, p.threads]);
      self.postMessage(pair ? { ready: true } : { error: 'bl_bench_pair_new failed' });
    },
  };
  importScripts(script);
};
