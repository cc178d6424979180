/* bench_worker.js — runs bench_forward-mt.js (bench_forward.c built with -pthread) in a Web Worker
   for bench_page.html: a blocked thread may not wait on the browser's main thread, and the page's
   threaded core runs in a worker too. Posts each printed line, then {done: true}.
   Message in: {args: [...]} (bench_forward's command line). */
'use strict';
self.onmessage = (e) => {
  self.Module = {
    arguments: e.data.args,
    mainScriptUrlOrBlob: new URL('bench_forward-mt.js', self.location.href).href,
    print: (s) => self.postMessage({ line: s }),
    printErr: (s) => self.postMessage({ line: 'stderr: ' + s }),
    onExit: (code) => self.postMessage({ done: true, code }),
    onAbort: (what) => self.postMessage({ done: true, code: -1, error: String(what) }),
  };
  importScripts('bench_forward-mt.js');
};
