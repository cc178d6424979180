/* offline.js — registers the service worker (sw.js) that keeps this copy of bertlens usable
   offline. It waits until the page has drawn its first view, so the service worker's copy of the
   model does not compete with the page's own download (it revalidates and usually gets a 304).
   Skipped where service workers cannot run (file://, plain http on another host, old browsers).
   window.__bertlensOffline.state: unsupported | waiting | registered | failed. */
'use strict';
(() => {
  const status = { state: 'unsupported', error: null };
  window.__bertlensOffline = status;
  if (!('serviceWorker' in navigator) || !window.isSecureContext || !/^https?:$/.test(location.protocol)) return;
  status.state = 'waiting';
  const register = () => {
    navigator.serviceWorker.register('sw.js').then(() => { status.state = 'registered'; }, (e) => {
      status.state = 'failed';
      status.error = String(e && e.message ? e.message : e);
      console.warn(`bertlens: offline support unavailable: ${status.error}`);
    });
  };
  const start = () => {
    if (navigator.serviceWorker.controller || document.body.dataset.state === 'ready') { register(); return; }
    const mo = new MutationObserver(() => {
      if (document.body.dataset.state === 'ready') { mo.disconnect(); register(); }
    });
    mo.observe(document.body, { attributes: true, attributeFilter: ['data-state'] });
  };
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start, { once: true });
})();
