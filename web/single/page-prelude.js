/* page-prelude.js — runs before app.js in the single-file build (tools/build_single.sh). The
   worker is made from a blob (its source and every file it needs are base64 blocks of this
   page), the files go along with the 'init' message, and when the file carries no model the
   page waits in data-state="choose" with a prompt instead of reporting an error. */
'use strict';
(() => {
  const blocks = document.querySelectorAll('script[type="application/octet-stream"][data-path]');
  const files = {};
  let workerB64 = '';
  for (const b of blocks) {
    if (b.dataset.path === 'worker.js') workerB64 = b.textContent.trim();
    else files[b.dataset.path] = b.textContent.trim();
  }
  const bin = atob(workerB64), bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const workerUrl = URL.createObjectURL(new Blob([bytes], { type: 'text/javascript' }));

  function choose() {
    document.body.dataset.state = 'choose';
    document.getElementById('model-info').textContent = 'no model yet';
    document.getElementById('choose-model').hidden = false;
  }
  new MutationObserver(() => {
    if (document.body.dataset.state !== 'choose') document.getElementById('choose-model').hidden = true;
  }).observe(document.body, { attributes: true, attributeFilter: ['data-state'] });

  const RealWorker = window.Worker;
  window.Worker = class extends RealWorker {
    constructor(url, options) {
      if (String(url) !== 'worker.js') throw new Error(`single-file build: unknown worker ${url}`);
      super(workerUrl, options);
    }
    postMessage(m, transfer) {
      if (m && m.type === 'init') m = Object.assign({}, m, { single: files });
      super.postMessage(m, transfer);
    }
    get onmessage() { return super.onmessage; }
    set onmessage(fn) {
      super.onmessage = typeof fn !== 'function' ? fn : (ev) => {
        const d = ev.data;
        if (d && d.type === 'fatal' && /BL_SINGLE_NO_MODEL/.test(d.message || '')) { choose(); return; }
        fn.call(this, ev);
      };
    }
  };
  window.__bertlensSingle = { files: Object.keys(files) };
})();
