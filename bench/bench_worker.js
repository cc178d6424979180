/* bench_worker.js — runs bench_forward-mt.js (bench_forward.c built with -pthread) or its
   relaxed-SIMD twin bench_forward-relaxed-mt.js in a Web Worker for bench_page.html: a blocked
   thread may not wait on the browser's main thread, and the page's threaded cores run in a worker
   too. Posts each printed line, then {done: true}.
   Message in: {args: [...] (bench_forward's command line), script: one of the two names}. */
'use strict';
self.onmessage = (e) => {
  const script = e.data.script === 'bench_forward-relaxed-mt.js' ? e.data.script : 'bench_forward-mt.js';
  self.Module = {
    arguments: e.data.args,
    mainScriptUrlOrBlob: new URL(script, self.location.href).href,
    print: (s) => self.postMessage({ line: s }),
    printErr: (s) => self.postMessage({ line: 'stderr: ' + s }),
    onExit: (code) => self.postMessage({ done: true, code }),
    onAbort: (what) => self.postMessage({ done: true, code: -1, error: String(what) }),
  };
  importScripts(script);
};
