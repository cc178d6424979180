/* app.js — the page: DOM controls, URL hash, pointer/keyboard events, and the blit of the
   framebuffer the core draws in worker.js. No drawing happens here beyond putImageData. */
'use strict';
(() => {
  const VIEWS = ['heatmap', 'model', 'head', 'neuron', 'rollout', 'flow', 'mlm', 'task', 'headmap'];   // BL_VIEW_* order
  const CMAPS = ['ylgnbu', 'viridis', 'magma', 'greys'];                             // BL_CMAP_* order
  const PAIRS = ['all', 'aa', 'ab', 'ba', 'bb'];                                     // BL_PAIR_* order
  const MAX_TEXT = 2000;       // characters kept from the URL hash or the text boxes
  const DEBOUNCE_MS = 120;     // typing → re-run
  const MLM_K = 5;
  const MANIFEST = 'weights/manifest.json';
  const FONT = 'fonts/DejaVuSans-subset.ttf';
  // A 1-function module using v128 (i8x16.splat + drop): validates only with SIMD.
  const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

  const $ = (id) => document.getElementById(id);
  const body = document.body, canvas = $('view'), ctx2d = canvas.getContext('2d'), tip = $('tooltip');

  const st = {
    text: $('text').value, pair: '', layer: 0, head: 0, view: 'heatmap', colormap: 0,
    dark: window.matchMedia('(prefers-color-scheme: dark)').matches,
    hideSpecial: false, pairFilter: 0, threshold: 0, token: -1,
    model: '',                 // a Hub model "ID[@REV]" (#model=), '' for the site's own model
  };
  // ?hub=URL: a mirror of the Hugging Face Hub (or the tests' mock); files come from
  // {hub}/{id}/resolve/{rev}/{file}. The access token lives in #hub-token only (never stored).
  const HUB_URL = new URLSearchParams(location.search).get('hub') || 'https://huggingface.co';
  let model = null;            // info from the worker: layers, heads, …
  let run = null;              // last tokenization/forward result (tokens, offsets, mlm)
  let worker = null;
  let coreReady = false;       // the worker has the WASM core and the font: a dropped model can load
  let hover = null;            // {x, y} CSS pixels over the canvas, or null
  let needRun = true, needRender = true, inFlight = false, reqId = 0;
  let hit = null;              // what is under the pointer (from the last frame)
  let frameErrorShown = false; // #error shows a drawing error that the next good frame clears
  const metrics = { firstViewMs: null, runMs: [], renderMs: [], hoverMs: [], roundTripMs: [], inputToFrameMs: [], drawMs: [], copyMs: [], blitMs: [], frames: 0 };
  window.__bertlens = { metrics, state: st, get run() { return run; }, get model() { return model; } };

  /* ------------------------------------------------------------------ state ↔ URL hash */
  function clampInt(v, lo, hi, dflt) {
    if (!/^-?\d{1,4}$/.test(String(v))) return dflt;
    const n = Number(v);
    return n >= lo && n <= hi ? n : dflt;
  }
  function readHash() {
    const h = new URLSearchParams(location.hash.replace(/^#/, ''));
    if (h.has('text')) st.text = h.get('text').slice(0, MAX_TEXT);
    if (h.has('pair')) st.pair = h.get('pair').slice(0, MAX_TEXT);
    const L = model ? model.layers - 1 : 999, H = model ? model.heads - 1 : 999;
    if (h.has('layer')) st.layer = clampInt(h.get('layer'), 0, L, st.layer);
    if (h.has('head')) st.head = h.get('head') === 'mean' ? -1 : clampInt(h.get('head'), 0, H, st.head);
    if (h.has('view') && VIEWS.includes(h.get('view'))) st.view = h.get('view');
    // optional display settings, so a link reproduces the view exactly
    if (h.has('cmap') && CMAPS.includes(h.get('cmap'))) st.colormap = CMAPS.indexOf(h.get('cmap'));
    if (h.has('pairs') && PAIRS.includes(h.get('pairs'))) st.pairFilter = PAIRS.indexOf(h.get('pairs'));
    if (h.has('hide')) st.hideSpecial = h.get('hide') === '1';
    if (h.has('dark')) st.dark = h.get('dark') === '1';
    if (h.has('thr') && /^(0(\.\d{1,3})?|1(\.0{1,3})?)$/.test(h.get('thr'))) st.threshold = Math.min(0.5, Number(h.get('thr')));
    if (h.has('token')) st.token = clampInt(h.get('token'), -1, 4096, -1);
    wantModel = h.has('model') ? h.get('model').slice(0, 330) : '';
    readHashC(h);
    readHashA(h);
    readHashB(h);
    readHashZoom(h);
  }
  let wantModel = '';          // the hash's model= (loaded when it differs from st.model)
  function writeHash() {
    const h = new URLSearchParams();
    h.set('text', st.text);
    if (st.pair) h.set('pair', st.pair);
    h.set('layer', String(st.layer));
    h.set('head', st.head < 0 ? 'mean' : String(st.head));
    h.set('view', st.view);
    if (st.colormap) h.set('cmap', CMAPS[st.colormap]);
    if (st.pairFilter) h.set('pairs', PAIRS[st.pairFilter]);
    if (st.hideSpecial) h.set('hide', '1');
    if (st.threshold > 0) h.set('thr', st.threshold.toFixed(2));
    if (st.token >= 0) h.set('token', String(st.token));
    h.set('dark', st.dark ? '1' : '0');
    if (st.model) h.set('model', st.model);
    writeHashC(h);
    writeHashA(h);
    writeHashB(h);
    if (zoomNow()) h.set('zoom', `${st.zoom.size}-${st.zoom.row}-${st.zoom.col}`);
    const s = '#' + h.toString();
    if (s !== location.hash) history.replaceState(null, '', s);
  }
  function clampToModel() {
    if (!model) return;
    st.layer = Math.min(Math.max(st.layer, 0), model.layers - 1);
    st.head = st.head < 0 ? -1 : Math.min(st.head, model.heads - 1);
    if ((st.view === 'mlm' && !model.hasMlm) || (st.view === 'task' && !model.hasHead)) st.view = 'heatmap';
  }

  /* ------------------------------------------------------------------ controls */
  function fillPickers() {
    const layer = $('layer'), head = $('head');
    layer.replaceChildren(...Array.from({ length: model.layers }, (_, i) => new Option(String(i), String(i))));
    head.replaceChildren(new Option('mean', '-1'), ...Array.from({ length: model.heads }, (_, i) => new Option(String(i), String(i))));
  }
  function syncControls() {
    if ($('text').value !== st.text) $('text').value = st.text;
    if ($('pair').value !== st.pair) $('pair').value = st.pair;
    if (model) { $('layer').value = String(st.layer); $('head').value = String(st.head); }
    for (const b of document.querySelectorAll('#views button')) b.setAttribute('aria-pressed', String(b.dataset.view === st.view));
    $('pair-filter').value = String(st.pairFilter);
    $('hide-special').checked = st.hideSpecial;
    $('threshold').value = String(st.threshold);
    $('threshold-value').textContent = st.threshold.toFixed(2);
    $('colormap').value = String(st.colormap);
    // controls a view ignores are disabled, so nobody wonders why they do nothing
    $('head').disabled = ['rollout', 'flow', 'mlm', 'task'].includes(st.view);
    $('layer').disabled = st.view === 'mlm' || st.view === 'task';
    for (const id of ['pair-filter', 'hide-special', 'threshold']) $(id).disabled = st.view === 'mlm' || st.view === 'task';
    // views the model has no head for are hidden, with a note saying why
    const lacks = { mlm: !!model && !model.hasMlm, task: !!model && !model.hasHead };
    for (const b of document.querySelectorAll('#views button')) b.hidden = !!lacks[b.dataset.view];
    const note = [lacks.mlm ? 'no masked-LM head' : '', lacks.task ? 'no task head' : ''].filter(Boolean);
    $('views-note').textContent = note.length ? `(this model has ${note.join(' and ')})` : '';
    $('dark').checked = st.dark;
    body.classList.toggle('dark', st.dark);
    syncControlsC();
    syncControlsA();
    syncControlsB();
  }
  function changed(rerun) {
    clampToModel();
    if (rerun) needRun = true;
    needRender = true;
    syncControls();
    writeHash();
    pump();
  }

  let typingTimer = 0, lastInputAt = 0;
  function onTextInput() {
    lastInputAt = performance.now();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      st.text = $('text').value.slice(0, MAX_TEXT);
      st.pair = $('pair').value.slice(0, MAX_TEXT);
      st.token = -1;
      changed(true);
    }, DEBOUNCE_MS);
  }
  $('text').addEventListener('input', onTextInput);
  $('pair').addEventListener('input', onTextInput);
  $('examples').addEventListener('change', (e) => {
    const o = e.target.selectedOptions[0];
    if (!o || !o.dataset.a) return;
    st.text = o.dataset.a;
    st.pair = o.dataset.b || '';
    st.token = -1;
    if (o.dataset.a.includes('[MASK]') && model && model.hasMlm) st.view = 'mlm';
    e.target.value = '';
    changed(true);
  });
  for (const b of document.querySelectorAll('#views button'))
    b.addEventListener('click', () => { st.view = b.dataset.view; changed(false); });
  $('layer').addEventListener('change', (e) => { st.layer = Number(e.target.value); changed(false); });
  $('head').addEventListener('change', (e) => { st.head = Number(e.target.value); changed(false); });
  $('pair-filter').addEventListener('change', (e) => { st.pairFilter = Number(e.target.value); changed(false); });
  $('hide-special').addEventListener('change', (e) => { st.hideSpecial = e.target.checked; changed(false); });
  $('threshold').addEventListener('input', (e) => { st.threshold = Number(e.target.value); changed(false); });
  $('colormap').addEventListener('change', (e) => { st.colormap = Number(e.target.value); changed(false); });
  $('dark').addEventListener('change', (e) => { st.dark = e.target.checked; changed(false); });
  window.addEventListener('hashchange', () => {
    readHash();
    if (wantModel && wantModel !== st.model && coreReady) loadHub(wantModel);
    changed(true);
  });

  document.addEventListener('keydown', (e) => {
    if (!model || e.altKey || e.ctrlKey || e.metaKey) return;
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement) return;
    if (e.key === 'Escape' && st.token >= 0) { st.token = -1; changed(false); return; }
    const moves = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] }[e.key];
    if (!moves) return;
    e.preventDefault();
    st.layer = Math.min(Math.max(st.layer + moves[0], 0), model.layers - 1);
    st.head = Math.min(Math.max(st.head + moves[1], -1), model.heads - 1);  // -1 = mean, left of head 0
    changed(false);
  });

  /* ------------------------------------------------------------------ canvas events */
  function canvasPoint(e) {
    const r = canvas.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }
  canvas.addEventListener('pointermove', (e) => {
    hover = canvasPoint(e);
    hover.t = performance.now();
    needRender = true;
    pump();
  });
  canvas.addEventListener('pointerleave', () => {
    hover = null;
    tip.hidden = true;
    needRender = true;
    pump();
  });
  canvas.addEventListener('click', (e) => {
    const p = canvasPoint(e);
    requestHit(p).then((h) => onClick(h, e));
  });

  // What a hit is (the worker names bl_hit's kind by the core's own names: BL_HIT_* in
  // core/bertlens.h, listed by blw_abi); null is nothing.
  const HIT = Object.freeze({ CELL: 'cell', TOKEN: 'token', HEAD: 'head', MLM: 'mlm', LABEL: 'label' });
  function tokenLabel(i) { if (groups && !['neuron', 'mlm', 'task'].includes(st.view)) return unitLabel(i) ?? '?'; return run && i >= 0 && i < run.tokens.length ? (run.shown || run.tokens)[i] : '?'; }
  function headLabel(j) { return model && model.labels[j] !== undefined ? model.labels[j] : '?'; }
  function describe(h) {
    if (!h || !h.kind) return '';
    switch (h.kind) {
      case HIT.CELL: return `${tokenLabel(h.from)} → ${tokenLabel(h.to)}: ${h.value.toFixed(3)}`;
      case HIT.TOKEN:
        if (st.view === 'mlm') return `${tokenLabel(h.from)} (click to mask)`;
        return h.value ? `${tokenLabel(h.from)}: ${h.value.toFixed(3)}` : tokenLabel(h.from);
      case HIT.HEAD: return st.view === 'model' || st.view === 'headmap' ? describeHeadB(h) : `head ${h.head} (click to show only this head)`;
      case HIT.MLM: if (h.layer >= 0) return describeLens(h);
        return `${tokenLabel(h.from)} → ${mlmChoice(h) ? mlmChoice(h).shown || mlmChoice(h).token : '?'}: p = ${h.value.toFixed(3)}`;
      case HIT.LABEL:
        if (h.to < 0) return tokenLabel(h.from);
        return `${h.from >= 0 ? tokenLabel(h.from) + ': ' : ''}${headLabel(h.to)} p = ${h.value.toFixed(3)}`;
      default: return '';
    }
  }
  function mlmChoice(h) {
    const m = run && run.mlm.find((x) => x.position === h.from);
    return m && m.top[h.to];
  }
  function showTooltip(h) {
    const s = hover ? describe(h) : '';
    if (!s) { tip.hidden = true; return; }
    tip.textContent = s;            // tokens are untrusted text: never innerHTML
    tip.hidden = false;
    const stage = $('stage').getBoundingClientRect(), c = canvas.getBoundingClientRect();
    let x = c.left - stage.left + hover.x + 14, y = c.top - stage.top + hover.y + 14;
    if (x + tip.offsetWidth > stage.width) x = Math.max(0, x - tip.offsetWidth - 28);
    tip.style.left = `${x}px`;
    tip.style.top = `${y}px`;
  }

  /* Replace token i's characters in its segment by [MASK] (byte offsets from the core). */
  function maskToken(i, replacement) {
    if (!run || run.starts[i] < 0) return false;
    const seg = run.typeIds[i] === 1 ? 'pair' : 'text';
    const bytes = new TextEncoder().encode(st[seg]), dec = new TextDecoder();
    const s = run.starts[i], e = run.ends[i];
    if (e > bytes.length || s > e) return false;
    // a mask token that takes the space before it (RoBERTa's <mask> lstrip) keeps that space
    const lead = /^\s/.test(dec.decode(bytes.subarray(s, e))) && !/^\s/.test(replacement) ? ' ' : '';
    st[seg] = (dec.decode(bytes.subarray(0, s)) + lead + replacement + dec.decode(bytes.subarray(e))).slice(0, MAX_TEXT);
    return true;
  }
  function onClick(h, e) {
    if (!h || !h.kind) return;
    if (onClickB(h, e)) return;
    if (selectClick(h, e)) return;   // shift-click on a token: the selection
    if (h.kind === HIT.HEAD && st.view === 'model') { st.view = 'heatmap'; st.layer = h.layer; st.head = h.head; changed(false); return; }
    if (h.kind === HIT.HEAD) { st.head = st.head === h.head ? -1 : h.head; changed(false); return; }   // head-view swatch
    if (h.kind === HIT.TOKEN && st.view === 'mlm') {
      if (maskToken(h.from, model.maskToken)) { st.token = -1; changed(true); }
      return;
    }
    if (h.kind === HIT.MLM) {
      const c = mlmChoice(h);
      if (c && !c.token.startsWith('##') && maskToken(h.from, c.shown || c.token)) changed(true);
      return;
    }
    if (h.kind === HIT.TOKEN || h.kind === HIT.CELL) { st.token = st.token === h.from ? -1 : h.from; changed(false); }
  }

  /* ------------------------------------------------------------------ value-weighted, words, selection, export */
  // vw: every attention view draws ‖α f(x)‖ (Kobayashi et al. 2020; the run computes the norms);
  // words: word pieces merged (attention TO a word summed over its pieces, FROM it averaged);
  // sel: shift-click token labels (or words) to merge them into one row and column, by that rule:
  // its column is the attention TO the selection summed over its members, its row the attention
  // FROM it averaged over them. Shift-click the merged row to clear it.
  Object.assign(st, { vw: false, words: false, sel: [] });
  let groups = null;           // the worker's {labels, units} of the shown groups, null: tokens
  function readHashA(h) {
    if (h.has('vw')) st.vw = h.get('vw') === '1';
    if (h.has('words')) st.words = h.get('words') === '1';
    st.sel = h.has('sel') ? h.get('sel').split(',').filter((x) => /^\d{1,4}$/.test(x)).map(Number).slice(0, 512) : [];
  }
  function writeHashA(h) {
    if (st.vw) h.set('vw', '1');
    if (st.words) h.set('words', '1');
    if (st.sel.length) h.set('sel', st.sel.join(','));
  }
  function syncControlsA() {
    $('weighting').value = st.vw ? '1' : '0';
    $('words').checked = st.words;
    const off = ['neuron', 'mlm', 'task'].includes(st.view);
    $('weighting').disabled = off || st.view === 'headmap';
    $('words').disabled = off;
    $('selection-note').textContent = st.sel.length > 1 && !off
      ? `selection of ${st.sel.length} ${st.words ? 'words' : 'tokens'}: one row (attention from it, averaged) and one column (attention to it, summed) · shift-click it to clear`
      : st.sel.length === 1 ? 'shift-click another token to merge them' : '';
  }
  $('weighting').addEventListener('change', (e) => { st.vw = e.target.value === '1'; changed(st.vw && !(run && run.vn)); });
  $('words').addEventListener('change', (e) => { st.words = e.target.checked; st.sel = []; st.token = -1; changed(false); });
  const viewOptsA = () => ({ vw: st.vw, words: st.words, sel: st.sel.length > 1 ? st.sel : [] });
  const runOptsA = () => ({ vn: st.vw });
  function onFrameA(m) {
    if (m.run) m.run.vn = st.vw;   // this run computed the norms when asked to
    if (m.groups !== undefined) groups = m.groups;
  }
  // tooltips name what the views show: words or the selection, by the worker's labels
  function unitLabel(i) { return groups && i >= 0 && i < groups.labels.length ? groups.labels[i] : null; }
  function selectClick(h, e) {   // (shift-click on a heatmap cell is the head finder's)
    if (!e || !e.shiftKey || !h || h.kind !== HIT.TOKEN || ['neuron', 'mlm', 'task'].includes(st.view)) return false;
    const units = groups ? groups.units[h.from] || [] : [h.from];
    if (st.sel.length > 1 && units.length > 1 && units.every((u) => st.sel.includes(u))) st.sel = [];   // the merged row: clear
    else for (const u of units) if (!st.sel.includes(u)) st.sel.push(u);
    st.sel.sort((a, b) => a - b);
    st.token = -1;
    changed(false);
    return true;
  }

  // Export: SVG (the core's bl_render_svg: text as <text>), PNG at 1×/2×/4× (the core draws at
  // that scale), and the view as JSON (model name and SHA-256, texts, every setting; the
  // attention maps as the CLI's `attention` writes them), which opening restores.
  const exportWaiters = new Map();
  function exportRequest(type, extra) {
    if (!worker || !run) return Promise.reject(new Error('Nothing to export yet'));
    const id = ++reqId;
    return new Promise((resolve, reject) => {
      exportWaiters.set(id, (m) => (m.error ? reject(new Error(m.error)) : resolve(m)));
      worker.postMessage({ type, id, ...extra });
    });
  }
  function onExport(m) {
    const w = exportWaiters.get(m.id);
    exportWaiters.delete(m.id);
    if (w) w(m);
  }
  const exportName = (ext) => `bertlens-${st.view}-l${st.layer}-${st.head < 0 ? 'mean' : `h${st.head}`}${st.vw ? '-vw' : ''}${st.words ? '-words' : ''}.${ext}`;
  function exportOpts(scale) {
    const o = viewOpts();
    o.scale = scale;
    o.width = Math.min(o.width, Math.floor(4096 / scale));   // the core's 4096-pixel limit
    return o;
  }
  function pixelsToCanvas(m) {
    const c = document.createElement('canvas');
    c.width = m.w;
    c.height = m.h;
    c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(m.pixels.buffer), m.w, m.h), 0, 0);
    return c;
  }
  async function exportSvg(withPng) {
    const m = await exportRequest('export-svg', { render: exportOpts(1), png: !!withPng });
    return { svg: m.svg, png: m.png ? pixelsToCanvas(m.png) : null };
  }
  async function exportPng(scale) {
    return pixelsToCanvas(await exportRequest('export-png', { render: exportOpts(scale) }));
  }
  $('export-svg').addEventListener('click', () => {
    exportSvg(false).then((r) => download(new Blob([r.svg], { type: 'image/svg+xml' }), exportName('svg')), (e) => notice(e.message));
  });
  function exportPngClick() {
    const s = Number($('png-scale').value) || 1;
    exportPng(s).then((c) => c.toBlob((b) => b && download(b, exportName(s === 1 ? 'png' : `${s}x.png`)), 'image/png'), (e) => notice(e.message));
  }
  // every setting of the view: the whole state (text, pair, layer, head, view, colours, filters,
  // words, selection, value-weighted, and what other panels keep in it)
  const viewState = () => JSON.parse(JSON.stringify(st));
  function exportJsonClick() { if (worker && run) worker.postMessage({ type: 'export-json', view: viewState() }); }
  function restoreView(j) {
    const v = j && j.bertlens_view;
    if (!v || typeof v.view !== 'object' || !v.view) throw new Error('not a bertlens view export (no "bertlens_view")');
    for (const [k, x] of Object.entries(v.view))
      if (k in st && typeof x === typeof st[k] && Array.isArray(x) === Array.isArray(st[k])) st[k] = x;
    st.text = String(st.text).slice(0, MAX_TEXT);
    st.pair = String(st.pair).slice(0, MAX_TEXT);
    const differs = model && v.model_sha256 && model.sha256 && v.model_sha256 !== model.sha256;
    notice(differs ? `This view was saved with the model ${v.model} (SHA-256 ${v.model_sha256.slice(0, 12)}…); the page has ${model.name} ` +
      `(${model.sha256.slice(0, 12)}…): the values may differ.` : `View restored (${v.model || 'model'}).`);
    if (st.model && st.model !== wantModel && coreReady) { wantModel = st.model; loadHub(st.model); }
    changed(true);
  }
  async function importView(file) {
    try { restoreView(JSON.parse(await file.text())); } catch (e) { notice(`${file.name}: ${e.message}`); }
  }
  $('view-file').addEventListener('change', (e) => { if (e.target.files[0]) importView(e.target.files[0]); e.target.value = ''; });
  Object.assign(window.__bertlens, { exportSvg, exportPng, viewState, restoreView, groups: () => groups });

  /* ------------------------------------------------------------------ logit lens and compare mode */
  // lens: the masked-LM view adds a layer × rank table (the core's bl_logit_lens); compare: a
  // second text B on the same model, A − B in the heatmap, A and B beside it, each head's entropy
  // change and the positions whose tokens differ (tokens are aligned by position).
  Object.assign(st, { lens: false, compare: false, compareB: '', compareKind: 'text' });
  let cmp = null;              // the worker's last comparison (B's tokens, differ, entropy, maxAbs)
  let modelB = '';             // name of compare mode's second model (a file: not in the hash)
  function compareOpts() {
    if (!st.compare) return null;
    if (st.compareKind === 'model') return modelB ? { b: st.text, pair: st.pair || null, model: true } : null;
    return { b: st.compareB, pair: st.pair || null };
  }
  function readHashC(h) {
    if (h.has('lens')) st.lens = h.get('lens') === '1';
    if (h.has('cmp')) st.compare = h.get('cmp') === '1';
    if (h.has('textb')) st.compareB = h.get('textb').slice(0, MAX_TEXT);
    st.compareKind = h.get('cmpk') === 'model' ? 'model' : 'text';
  }
  function writeHashC(h) {
    if (st.lens) h.set('lens', '1');
    if (st.compare) { h.set('cmp', '1'); if (st.compareKind === 'model') h.set('cmpk', 'model'); else h.set('textb', st.compareB); }
  }
  function syncControlsC() {
    $('lens').checked = st.lens;
    $('lens').disabled = st.view !== 'mlm';
    $('compare-on').checked = st.compare;
    $('compare-text').disabled = !st.compare;
    $('compare-kind').disabled = !st.compare;
    $('compare-kind').value = st.compareKind;
    $('compare-text').hidden = st.compareKind === 'model';
    $('compare-model-label').hidden = st.compareKind !== 'model' || !st.compare;
    $('compare-model-name').textContent = st.compare && st.compareKind === 'model' ? (modelB ? `B: ${modelB} on text A` : 'choose model B (same layers × heads)') : '';
    if ($('compare-text').value !== st.compareB) $('compare-text').value = st.compareB;
    $('compare-panel').hidden = !st.compare;
  }
  $('lens').addEventListener('change', (e) => { st.lens = e.target.checked; changed(true); });
  $('compare-on').addEventListener('change', (e) => {
    st.compare = e.target.checked;
    if (st.compare && !st.compareB) st.compareB = st.text;   // start from A: edit it into the minimal pair
    changed(false);
  });
  $('compare-kind').addEventListener('change', (e) => { st.compareKind = e.target.value === 'model' ? 'model' : 'text'; changed(false); });
  $('compare-model-file').addEventListener('change', async (e) => {
    const f = e.target.files[0];
    e.target.value = '';
    if (!f || !worker || !coreReady) return;
    let buf;
    try { buf = await f.arrayBuffer(); } catch (err) { notice(`Could not read ${f.name}: ${err.message}`); return; }
    worker.postMessage({ type: 'compare-load', buffer: buf, name: f.name }, [buf]);
  });
  function onCompareModel(m) {
    if (!m.name) { notice(m.message); return; }
    modelB = m.name;
    changed(false);
  }
  let compareTimer = 0;
  $('compare-text').addEventListener('input', () => {
    clearTimeout(compareTimer);
    compareTimer = setTimeout(() => { st.compareB = $('compare-text').value.slice(0, MAX_TEXT); changed(false); }, DEBOUNCE_MS);
  });
  function describeLens(h) {
    const m = run && run.mlm.find((x) => x.position === h.from);
    const c = m && m.lens && m.lens[h.layer] && m.lens[h.layer][h.to];
    return `${tokenLabel(h.from)} after layer ${h.layer}, rank ${h.to + 1}: ${c ? c.shown : '?'} p = ${h.value.toFixed(3)}`;
  }
  function blit(c, f) {
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== f.w || c.height !== f.h) { c.width = f.w; c.height = f.h; }
    c.style.width = `${f.w / dpr}px`;
    c.style.height = `${f.h / dpr}px`;
    c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(f.pixels.buffer), f.w, f.h), 0, 0);
  }
  function onFrameC(m) {
    if (m.compare !== undefined) cmp = m.compare;
    else if (m.run) cmp = m.run.compare || null;
    if (!st.compare) cmp = null;
    if (m.panels) { blit($('compare-a'), m.panels[0]); blit($('compare-b'), m.panels[1]); }
    if (m.compare !== undefined || m.run) showCompare();
  }
  function showCompare() {
    const note = $('compare-note'), table = $('compare-entropy');
    if (!cmp || !run || !model) { note.textContent = ''; $('compare-differ').textContent = ''; table.replaceChildren(); return; }
    const pos = cmp.differ.map((i) => `${i} (${tokenLabel(i)} ≠ ${cmp.shown[i]})`);   // text only: tokens are untrusted
    note.textContent = (cmp.model ? `A: ${model.name}, B: ${modelB}, on the same text. ` : '') +
      `A has ${run.n} tokens, B ${cmp.nb}: compared position by position over the first ${cmp.n}` +
      (st.view === 'heatmap' ? '; the heatmap shows A − B (orange: A attends more, blue: B).' : '; open the heatmap for A − B.') +
      (cmp.differ.length ? ` Tokens differ at ${cmp.differ.length === 1 ? 'position' : 'positions'} ${pos.join(', ')}.`
        : ' The tokens are the same at every aligned position.');
    $('compare-differ').textContent = cmp.differ.join(',');
    const max = Math.max(1e-9, ...cmp.entropy.map(Math.abs));
    const head = document.createElement('tr');
    head.append(document.createElement('th'), ...Array.from({ length: model.heads }, (_, h) => {
      const th = document.createElement('th');
      th.textContent = `h${h}`;
      return th;
    }));
    const rows = Array.from({ length: model.layers }, (_, l) => {
      const tr = document.createElement('tr'), th = document.createElement('th');
      th.textContent = `layer ${l}`;
      tr.append(th);
      for (let h = 0; h < model.heads; h++) {
        const v = cmp.entropy[l * model.heads + h], td = document.createElement('td'), a = Math.min(1, Math.abs(v) / max);
        td.textContent = `${v >= 0 ? '+' : '−'}${Math.abs(v).toFixed(3)}`;
        td.dataset.layer = String(l);
        td.dataset.head = String(h);
        td.dataset.value = String(v);
        td.title = `layer ${l}, head ${h}: entropy of A − entropy of B = ${v.toFixed(4)} nats`;
        td.style.background = v >= 0 ? `rgba(230, 120, 30, ${(0.85 * a).toFixed(3)})` : `rgba(40, 110, 200, ${(0.85 * a).toFixed(3)})`;
        tr.append(td);
      }
      return tr;
    });
    const cap = document.createElement('caption');
    cap.textContent = 'entropy change per head: entropy(A) − entropy(B), nats (+: A spreads its attention more)';
    table.replaceChildren(cap, head, ...rows);
  }
  // tests and scripts: every distinct hit of the main view on a grid of CSS pixels
  const gridWaiters = new Map();
  function onHitGrid(m) {
    const w = gridWaiters.get(m.id);
    gridWaiters.delete(m.id);
    if (w) w(m.hits);
  }
  window.__bertlens.hitGrid = (step = 2) => new Promise((resolve) => {
    const id = ++reqId;
    gridWaiters.set(id, resolve);
    worker.postMessage({ type: 'hit-grid', id, step, w: Math.ceil(canvas.clientWidth), h: Math.ceil(canvas.clientHeight) });
  });
  window.__bertlens.compare = () => cmp;

  /* ------------------------------------------------------------------ zoom (heatmap, rollout)
     The wheel over a cell halves (or doubles) the rows and columns shown, around that cell; the
     core draws the window (bl_view_opts.zoom_*) with full-size labels; a double click or Escape
     shows the whole matrix again. Like the ranking, a zoom belongs to the text it was made on. */
  st.zoom = null;   // {size, row, col, text, pair}
  const ZOOM_VIEWS = ['heatmap', 'rollout'];
  function zoomNow() {
    if (st.zoom && (st.zoom.text !== st.text || st.zoom.pair !== st.pair)) st.zoom = null;
    return st.zoom && ZOOM_VIEWS.includes(st.view) ? st.zoom : null;
  }
  function readHashZoom(h) {
    const z = h.get('zoom');
    st.zoom = z && /^\d{1,4}-\d{1,4}-\d{1,4}$/.test(z) && Number(z.split('-')[0]) >= 2
      ? { size: Number(z.split('-')[0]), row: Number(z.split('-')[1]), col: Number(z.split('-')[2]), text: st.text, pair: st.pair } : null;
  }
  canvas.addEventListener('wheel', (e) => {
    if (!run || !ZOOM_VIEWS.includes(st.view)) return;
    e.preventDefault();
    const n = run.n, cur = zoomNow() ? st.zoom.size : n;
    const size = e.deltaY < 0 ? Math.max(8, Math.ceil(cur / 2)) : cur * 2;
    requestHit(canvasPoint(e)).then((h) => {
      if (size >= n) st.zoom = null;
      else if (h && h.kind === HIT.CELL) st.zoom = { size, row: Math.max(0, h.from - (size >> 1)), col: Math.max(0, h.to - (size >> 1)), text: st.text, pair: st.pair };
      else if (zoomNow()) st.zoom = { ...st.zoom, size };   // outside the cells: keep the corner
      else return;
      changed(false);
    });
  }, { passive: false });
  canvas.addEventListener('dblclick', () => { if (zoomNow()) { st.zoom = null; changed(false); } });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && zoomNow() && !(e.target instanceof HTMLInputElement || e.target instanceof HTMLTextAreaElement)) { st.zoom = null; changed(false); }
  });

  /* ------------------------------------------------------------------ head statistics, head finder */
  // Every head's statistics (the core's bl_head_stats, the numbers `bertlens stats` prints) in a
  // sortable table and as bars under the model view's thumbnails; "find heads": a click on a
  // heatmap cell (with "find heads" on, or shift-click) ranks every head by that weight in the
  // model view; the head map view places the heads by MDS. Table cells are text only.
  const STATS = ['entropy', 'cls', 'sep', 'punct', 'prev', 'next', 'self'];   // BL_STAT_* order
  const STAT_TITLES = { entropy: 'entropy', cls: '[CLS]', sep: '[SEP]', punct: 'punct', prev: 'prev', next: 'next', self: 'self' };
  Object.assign(st, { statBar: 0, rank: null });   // statBar: 1 + BL_STAT_*, 0 none; rank: {from, to, text, pair}
  let headStats = null, statsFor = null, statsSort = { key: 'layer', dir: 1 };
  function readHashB(h) {
    if (h.has('bar')) st.statBar = STATS.indexOf(h.get('bar')) + 1;
    const r = h.get('rank');
    st.rank = r && /^\d{1,4}-\d{1,4}$/.test(r) ? { from: Number(r.split('-')[0]), to: Number(r.split('-')[1]), text: st.text, pair: st.pair } : null;
  }
  function writeHashB(h) {
    if (st.statBar > 0) h.set('bar', STATS[st.statBar - 1]);
    if (rankNow()) h.set('rank', `${st.rank.from}-${st.rank.to}`);
  }
  // the ranking belongs to the text it was made on: a new text clears it
  function rankNow() {
    if (st.rank && (st.rank.text !== st.text || st.rank.pair !== st.pair)) st.rank = null;
    if (st.rank && run && Math.max(st.rank.from, st.rank.to) >= run.n) st.rank = null;   // a link's rank beyond its text
    return st.rank && st.view === 'model' ? { from: st.rank.from, to: st.rank.to } : null;
  }
  function syncControlsB() {
    $('stat-bar').value = String(st.statBar);
    const r = rankNow();
    $('rank-clear').hidden = !r;
    $('rank-note').textContent = r ? `heads ranked by attention from ‘${tokenLabel(r.from)}’ (${r.from}) to ‘${tokenLabel(r.to)}’ (${r.to})` : '';
    markHeadRow();
  }
  function describeHeadB(h) {
    if (st.view === 'model' && rankNow()) return `layer ${h.layer}, head ${h.head}: ${h.value.toFixed(3)} (click to open)`;
    if (st.view === 'model' && st.statBar) return `layer ${h.layer}, head ${h.head}: ${STAT_TITLES[STATS[st.statBar - 1]]} ${h.value.toFixed(3)} (click to open)`;
    return `layer ${h.layer}, head ${h.head} (click to open)`;
  }
  function onClickB(h, e) {
    if (h.kind === HIT.CELL && st.view === 'heatmap' && ($('find-heads').checked || (e && e.shiftKey))) {
      st.rank = { from: h.from, to: h.to, text: st.text, pair: st.pair };
      st.view = 'model';
      changed(false);
      return true;
    }
    if (h.kind === HIT.HEAD && st.view === 'headmap') { openHead(h.layer, h.head); return true; }
    return false;
  }
  function openHead(l, h) { st.view = 'heatmap'; st.layer = l; st.head = h; changed(false); }
  $('stat-bar').addEventListener('change', (e) => { st.statBar = Number(e.target.value); changed(false); });
  $('rank-clear').addEventListener('click', () => { st.rank = null; changed(false); });
  $('head-stats').addEventListener('toggle', () => requestStats());
  function requestStats() {
    if (!$('head-stats').open || !worker || !run || statsFor === run) return;
    statsFor = run;
    worker.postMessage({ type: 'head-stats', id: ++reqId });
  }
  function onFrameB(m) {
    if (m.run) requestStats();
    if (m.run && st.rank) syncControlsB();   // the note names the new run's tokens
  }
  function onHeadStats(m) {
    if (m.error) { notice(`Head statistics: ${m.error}`); statsFor = null; return; }
    headStats = m.stats;
    buildHeadTable();
  }
  function buildHeadTable() {
    if (!headStats) return;
    const { layers: L, heads: H, stats } = headStats;
    const cols = ['layer', 'head', ...STATS];
    const headRow = document.createElement('tr');
    for (const k of cols) {
      const th = document.createElement('th'), b = document.createElement('button');
      b.type = 'button';
      b.dataset.key = k;
      b.textContent = (STAT_TITLES[k] || k) + (statsSort.key === k ? (statsSort.dir > 0 ? ' ▲' : ' ▼') : '');
      b.addEventListener('click', () => {
        statsSort = statsSort.key === k ? { key: k, dir: -statsSort.dir } : { key: k, dir: k === 'layer' || k === 'head' ? 1 : -1 };
        buildHeadTable();
      });
      th.setAttribute('aria-sort', statsSort.key === k ? (statsSort.dir > 0 ? 'ascending' : 'descending') : 'none');
      th.append(b);
      headRow.append(th);
    }
    const rows = [];
    for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) rows.push({ layer: l, head: h, ...Object.fromEntries(STATS.map((s) => [s, stats[s][l][h]])) });
    const { key, dir } = statsSort;
    rows.sort((a, b) => (a[key] - b[key]) * dir || a.layer - b.layer || a.head - b.head);
    $('head-table').tHead.replaceChildren(headRow);
    $('head-table').tBodies[0].replaceChildren(...rows.map((r) => {
      const tr = document.createElement('tr');
      tr.dataset.layer = String(r.layer);
      tr.dataset.head = String(r.head);
      tr.tabIndex = 0;
      for (const k of cols) {
        const td = document.createElement('td');
        td.textContent = k === 'layer' || k === 'head' ? String(r[k]) : r[k].toFixed(3);
        td.dataset.value = String(r[k]);
        tr.append(td);
      }
      tr.addEventListener('click', () => openHead(r.layer, r.head));
      tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') openHead(r.layer, r.head); });
      return tr;
    }));
    markHeadRow();
  }
  function markHeadRow() {
    for (const tr of $('head-table').tBodies[0].rows)
      tr.classList.toggle('current', Number(tr.dataset.layer) === st.layer && Number(tr.dataset.head) === st.head);
  }
  window.__bertlens.headStats = () => headStats;
  window.__bertlens.hitAt = (x, y) => requestHit({ x, y });   // tests: what a click at (x, y) CSS px would hit

  /* ------------------------------------------------------------------ worker protocol */
  const hitWaiters = new Map();
  function requestHit(p) {
    if (!worker || !run) return Promise.resolve(null);
    const id = ++reqId;
    return new Promise((resolve) => { hitWaiters.set(id, resolve); worker.postMessage({ type: 'hit', id, x: p.x, y: p.y }); });
  }

  function viewOpts() {
    const stage = $('stage');
    return {
      view: st.view, layer: st.layer, head: st.head, colormap: st.colormap, dark: st.dark,
      scale: window.devicePixelRatio || 1, width: Math.max(200, Math.floor(stage.clientWidth)),
      hideSpecial: st.hideSpecial, pairFilter: st.pairFilter, threshold: st.threshold,
      token: run && st.token < run.n ? st.token : -1,   // a token from an old text or link may be gone
      statBar: st.statBar, rank: rankNow(),   // statistic bars, "find heads" (head statistics block)
      zoom: zoomNow(),
      compare: compareOpts(),   // compare mode's second text or model
      ...viewOptsA(),
    };
  }

  /* At most one update in flight; while it runs, changes only set flags, so fast typing or
     pointer motion collapses into one request with the latest state. */
  let sentAt = 0, sentHover = null;
  function pump() {
    if (!worker || !model || inFlight || (!needRun && !needRender)) return;
    const msg = { type: 'update', id: ++reqId, render: viewOpts(), hover: hover ? { x: hover.x, y: hover.y } : null };
    if (needRun) msg.run = { a: st.text, b: st.pair || null, k: MLM_K, lens: st.lens, ...runOptsA() };
    needRun = needRender = false;
    inFlight = true;
    sentAt = performance.now();
    sentHover = hover && hover.t;
    metrics.lastOpts = msg.render;
    worker.postMessage(msg);
  }

  function onFrame(m) {
    inFlight = false;
    if (m.run) {
      run = m.run;
      $('notice').textContent = run.truncated ? `The text was truncated to ${model.maxPos} tokens.` : '';
    }
    onFrameC(m);
    onFrameA(m);
    onFrameB(m);
    if (!m.same) {   // same: the pointer stayed on the same cell/token, the pixels are current
      const dpr = window.devicePixelRatio || 1;
      if (canvas.width !== m.w || canvas.height !== m.h) { canvas.width = m.w; canvas.height = m.h; }
      canvas.style.width = `${m.w / dpr}px`;
      canvas.style.height = `${m.h / dpr}px`;
      const tb = performance.now();
      ctx2d.putImageData(new ImageData(new Uint8ClampedArray(m.pixels.buffer), m.w, m.h), 0, 0);
      metrics.blitMs.push(performance.now() - tb);
      worker.postMessage({ type: 'pixels-back', buffer: m.pixels.buffer }, [m.pixels.buffer]);   // refilled by the next frame
      if (m.ms.draw !== undefined) { metrics.drawMs.push(m.ms.draw); metrics.copyMs.push(m.ms.copy); }
    }
    hit = m.hit;
    showTooltip(hit);
    if (frameErrorShown) { $('error').hidden = true; frameErrorShown = false; }
    const now = performance.now();
    metrics.frames++;
    for (const k of ['runMs', 'renderMs', 'roundTripMs', 'hoverMs', 'inputToFrameMs', 'drawMs', 'copyMs', 'blitMs'])
      if (metrics[k].length > 1000) metrics[k].splice(0, 500);   // recent figures only
    if (m.same) metrics.skipped = (metrics.skipped || 0) + 1;
    if (m.ms.run !== undefined) metrics.runMs.push(m.ms.run);
    if (m.run && lastInputAt) { metrics.inputToFrameMs.push(now - lastInputAt); lastInputAt = 0; }
    if (!m.same) metrics.renderMs.push(m.ms.render);
    metrics.roundTripMs.push(now - sentAt);
    if (sentHover && !m.same) metrics.hoverMs.push(now - sentHover);
    const on = model && model.threads > 1 ? ` on ${model.threads} threads` : '';
    $('timing').textContent = `${m.ms.run !== undefined ? `run ${m.ms.run.toFixed(1)} ms${on} · ` : ''}draw ${m.ms.render.toFixed(1)} ms · ${run.n} tokens` +
      (run.att16 ? ' · attention kept to 1/65535' : '');
    if (metrics.hubLoad && !metrics.hubLoad.firstView) metrics.hubLoad.firstView = performance.timeOrigin + now;   // bench/hub_bench.mjs
    if (body.dataset.state !== 'ready') {
      metrics.firstViewMs = now;   // performance.now() counts from navigation start
      body.dataset.state = 'ready';
    }
    pump();
  }

  function fatal(message) {
    $('error-msg').textContent = coreReady ? `${message}\nYou can still open your own model (.bin from \`bertlens convert\`): use “your own model…” or drop it here.` : message;
    $('error').hidden = false;
    body.dataset.state = 'error';
    $('model-info').textContent = 'no model';
  }
  function notice(message) {
    $('error-msg').textContent = message;
    $('error').hidden = false;
  }

  function mb(n) { return (n / 1048576).toFixed(1); }
  // The header names the model in use: after a rejected file ("loading x.bin…" until then), the
  // one still loaded.
  function showModel() {
    $('model-info').textContent = model
      ? `${model.name}: ${model.layers} layers × ${model.heads} heads, hidden ${model.hidden}, ` +
        `${mb(model.bytes)} MB${model.hasMlm ? '' : ' (no MLM head)'}`
      : body.dataset.state === 'loading' ? 'loading the model…' : 'no model';
    $('model-fidelity').textContent = model && model.fidelity ? model.fidelity.text : '';
  }
  function onWorkerMessage(ev) {
    const m = ev.data;
    switch (m.type) {
      case 'progress':
        $('progress').max = m.total || 1;
        $('progress').value = m.loaded;
        $('progress-text').textContent = `${mb(m.loaded)} of ${mb(m.total)} MB`;
        break;
      case 'core-ready':
        coreReady = true;
        refreshStored();
        if (bootModel) loadHub(bootModel);
        break;
      case 'hub-start': hubStart(m.name); break;
      case 'hub-progress': hubProgress(m); break;
      case 'hub-done': hubDone(); break;
      case 'hub-warning': $('notice').textContent = m.message; break;
      case 'stored-changed': refreshStored(); break;
      case 'stored': showStored(m); break;
      case 'bin': download(new Blob([m.buffer], { type: 'application/octet-stream' }), binName(m.name)); break;
      case 'model-start':
        $('progress-text').textContent = `downloading ${m.name}…`;
        break;
      case 'loaded':
        model = m.info;
        st.model = m.hub && m.hub.source !== 'files' ? m.info.name : '';
        metrics.hubLoad = m.hub || null;
        hubDone();
        metrics.loadMs = m.ms;
        showModel();
        if (m.own) { $('error').hidden = true; st.token = -1; }
        fillPickers();
        readHash();
        needRun = needRender = true;
        changed(true);
        break;
      case 'frame': onFrame(m); break;
      case 'hit-grid': onHitGrid(m); break;
      case 'compare-model': onCompareModel(m); break;
      case 'svg': case 'png': onExport(m); break;
      case 'head-stats': onHeadStats(m); break;
      case 'frame-error':
        inFlight = false;
        notice(m.message);
        frameErrorShown = true;
        if (body.dataset.state === 'loading') body.dataset.state = 'error';
        pump();
        break;
      case 'hit': {
        const w = hitWaiters.get(m.id);
        hitWaiters.delete(m.id);
        if (w) w(m.hit);
        break;
      }
      case 'json': download(new Blob(m.parts, { type: 'application/json' }), 'bertlens-attention.json'); break;
      case 'model-error':
        notice(m.message);
        showModel();
        // a #model= that failed at start: the site's own model, so the page still works
        if (m.source === 'hub' && !model && worker) worker.postMessage({ type: 'load-default', manifest: MANIFEST });
        break;
      case 'fatal': fatal(m.message); break;
    }
  }

  function start() {
    if (worker) worker.terminate();
    model = null; run = null; inFlight = false; needRun = needRender = true; coreReady = false;
    body.dataset.state = 'loading';
    $('error').hidden = true;
    $('progress').value = 0;
    $('progress-text').textContent = 'starting…';
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(SIMD_PROBE)) {
      fatal('This browser\'s WebAssembly has no SIMD support, which bertlens needs. Use a current Chrome, Edge, Firefox or Safari (16.4 or newer).');
      return;
    }
    // ?core=simd128 forces the SIMD128 core where the worker would take the relaxed-SIMD one
    // (tests, bench); the worker reads it from its name
    const coreAsked = new URLSearchParams(location.search).get('core');
    worker = new Worker('worker.js', coreAsked ? { name: `core=${coreAsked}` } : undefined);
    worker.onmessage = onWorkerMessage;
    worker.onerror = (e) => { e.preventDefault(); fatal(`The worker failed: ${e.message || 'could not load worker.js'}`); };
    // ?mem=N caps the memory of one run at N MB (the worker's default: what the 1 GiB heap leaves);
    // ?att=16 / ?att=32 keep the attention maps as 16-bit / floats whatever their size (default:
    // floats, 16-bit when they would pass 32 MB, i.e. bert-base beyond ~240 tokens)
    const q = new URLSearchParams(location.search), mem = Number(q.get('mem'));
    bootModel = wantModel;
    worker.postMessage({ type: 'init', manifest: MANIFEST, font: FONT, noDefault: !!bootModel,
      maxMemoryMB: Number.isInteger(mem) && mem >= 1 && mem <= 4096 ? mem : 0,
      attMode: { 16: 2, 32: 1 }[q.get('att')] || 0 });
  }
  $('retry').addEventListener('click', start);

  /* ------------------------------------------------------------------ export */
  function download(blob, name) {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }
  $('export-png').addEventListener('click', () => { if (body.dataset.state === 'ready') exportPngClick(); });
  $('export-json').addEventListener('click', () => exportJsonClick());

  /* ------------------------------------------------------------------ bring your own model */
  async function loadOwn(file) {
    if (!file) return;
    if (!worker || !coreReady) { notice('Wait for the page to finish starting first.'); return; }
    if (!/\.bin$/i.test(file.name)) notice(`${file.name}: expected a .bin made by \`bertlens convert\`; trying anyway…`);
    $('model-info').textContent = `loading ${file.name}…`;
    let buf;
    try { buf = await file.arrayBuffer(); } catch (e) { notice(`Could not read ${file.name}: ${e.message}`); showModel(); return; }
    worker.postMessage({ type: 'load-bytes', buffer: buf, name: file.name }, [buf]);
  }
  $('model-file').addEventListener('change', (e) => { openFiles(Array.from(e.target.files)); e.target.value = ''; });
  document.addEventListener('dragover', (e) => { e.preventDefault(); body.classList.add('dragging'); });
  document.addEventListener('dragleave', (e) => { if (!e.relatedTarget) body.classList.remove('dragging'); });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    body.classList.remove('dragging');
    droppedFiles(e.dataTransfer).then((fs) => openFiles(fs));
  });


  /* ------------------------------------------------------------------ models from the Hub */
  let bootModel = '';          // model= of the hash the page started with
  function loadHub(ref) {
    const t = String(ref).trim(), at = t.indexOf('@');
    const id = at < 0 ? t : t.slice(0, at), rev = at < 0 ? '' : t.slice(at + 1);
    if (!id) return;
    if (!worker || !coreReady) { notice('Wait for the page to finish starting first.'); return; }
    $('error').hidden = true;
    worker.postMessage({ type: 'hub-load', hub: HUB_URL, id, rev, token: $('hub-token').value.trim(), dtype: $('hub-dtype').value });
  }
  $('hub-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const id = $('hub-id').value.trim(), rev = $('hub-rev').value.trim();
    if (id) loadHub(rev ? `${id}@${rev}` : id);
  });
  $('hub-cancel').addEventListener('click', () => { if (worker) worker.postMessage({ type: 'hub-cancel' }); });
  $('default-model').addEventListener('click', () => {
    if (!worker || !coreReady) return;
    $('error').hidden = true;
    worker.postMessage({ type: 'load-default', manifest: MANIFEST });
  });
  $('save-bin').addEventListener('click', () => { if (worker && model) worker.postMessage({ type: 'save-bin' }); });
  const binName = (n) => `${String(n || 'model').replace(/[^A-Za-z0-9._-]+/g, '_').replace(/\.bin$/i, '')}.${model && model.dtype || 'int8'}.bin`;

  function hubStart(name) {
    $('hub-status').hidden = false;
    $('hub-cancel').hidden = false;
    $('hub-load').disabled = true;
    $('hub-phase').textContent = `${name}: starting…`;
    $('hub-files').replaceChildren();
    $('model-info').textContent = `loading ${name}…`;
  }
  function hubDone() {
    $('hub-status').hidden = true;
    $('hub-cancel').hidden = true;
    $('hub-load').disabled = false;
  }
  function size(n) { return n >= 1048576 ? `${mb(n)} MB` : `${(n / 1024).toFixed(0)} kB`; }
  function hubProgress(m) {
    $('hub-phase').textContent = `${m.phase}${m.speed > 0 ? ` · ${size(m.speed)}/s` : ''}`;
    $('hub-files').replaceChildren(...m.files.map((f) => {
      const li = document.createElement('li'), bar = document.createElement('progress'), label = document.createElement('span');
      bar.max = f.total > 0 ? f.total : 1;
      if (f.total > 0 || f.done) bar.value = f.done ? bar.max : f.loaded;
      label.textContent = `${f.name}: ${size(f.loaded)}${f.total > 0 ? ` of ${size(f.total)}` : ''}${f.done ? ' ✓' : ''}`;   // names from the repository: text only
      li.append(bar, label);
      return li;
    }));
  }

  function refreshStored() { if (worker && coreReady) worker.postMessage({ type: 'stored-list' }); }
  function showStored(m) {
    $('stored-list').replaceChildren(...m.list.map((x) => {
      const li = document.createElement('li'), open = document.createElement('button'), del = document.createElement('button');
      const label = document.createElement('span'), cmp = document.createElement('button');
      label.textContent = `${x.name}${x.hub !== 'https://huggingface.co' ? ` (${x.hub})` : ''} · ${size(x.size)} · ${(x.commit || '').slice(0, 8)}`;
      open.type = del.type = cmp.type = 'button';
      open.textContent = 'open';
      cmp.textContent = 'compare';   // model B of compare mode, on text A (same layers × heads)
      cmp.className = 'stored-compare';
      cmp.title = 'compare with the model in use: this one as model B, on text A';
      cmp.addEventListener('click', () => {
        Object.assign(st, { compare: true, compareKind: 'model' });
        worker.postMessage({ type: 'compare-stored', key: x.key, name: x.name });
        changed(false);
      });
      open.addEventListener('click', () => loadHub(x.rev === 'main' ? x.id : `${x.id}@${x.rev}`));
      del.textContent = 'delete';
      del.className = 'stored-delete';
      del.addEventListener('click', () => worker.postMessage({ type: 'stored-delete', key: x.key }));
      li.dataset.id = x.id;
      li.append(label, open, cmp, del);
      return li;
    }));
    if (!m.list.length) { const li = document.createElement('li'); li.textContent = 'none yet'; $('stored-list').append(li); }
    $('stored-estimate').textContent = m.estimate && m.estimate.quota
      ? `browser storage: ${size(m.estimate.usage || 0)} used of ${size(m.estimate.quota)}` : '';
  }
  // Stored models are kept unless the person deletes them: ask the browser not to evict them.
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});

  /* A dropped or chosen set of files: a bertlens .bin loads as before; a Hugging Face directory
     (config.json, weights, tokenizer) is converted in the worker, as a Hub model is. */
  async function droppedFiles(dt) {
    if (!dt) return [];
    const entries = Array.from(dt.items || []).map((i) => i.webkitGetAsEntry && i.webkitGetAsEntry()).filter(Boolean);
    if (!entries.length) return Array.from(dt.files || []);
    const out = [];
    const walk = async (en, depth) => {
      if (en.isFile) out.push(await new Promise((res, rej) => en.file(res, rej)));
      else if (en.isDirectory && depth < 2) {
        const rd = en.createReader();
        for (;;) {
          const batch = await new Promise((res, rej) => rd.readEntries(res, rej));
          if (!batch.length) break;
          for (const c of batch) await walk(c, depth + 1);
        }
      }
    };
    for (const en of entries) await walk(en, 0);
    out.dirName = entries.length === 1 && entries[0].isDirectory ? entries[0].name : '';
    return out;
  }
  function openFiles(files) {
    if (!files || !files.length) return;
    // a view exported as JSON (bertlens_view): restore it
    if (files.length === 1 && /\.json$/i.test(files[0].name) && files[0].name !== 'config.json') { importView(files[0]); return; }
    if (files.some((f) => f.name === 'config.json')) {
      if (!worker || !coreReady) { notice('Wait for the page to finish starting first.'); return; }
      $('error').hidden = true;
      const dir = files.dirName || (files[0].webkitRelativePath || '').split('/')[0] || 'your model';
      worker.postMessage({ type: 'files-load', files, name: dir, dtype: $('hub-dtype').value });
      return;
    }
    loadOwn(files.find((f) => /\.bin$/i.test(f.name)) || files[0]);
  }

  // Redraw at the new width when the layout changes (window resize, dpr change on zoom).
  let lastWidth = 0;
  new ResizeObserver(() => {
    const w = Math.floor($('stage').clientWidth);
    if (w !== lastWidth) { lastWidth = w; needRender = true; pump(); }
  }).observe($('stage'));

  // Browser zoom or a move to another screen changes devicePixelRatio: redraw sharp at the new one.
  (function watchDpr() {
    const mq = matchMedia(`(resolution: ${window.devicePixelRatio || 1}dppx)`);
    mq.addEventListener('change', () => { needRender = true; pump(); watchDpr(); }, { once: true });
  })();

  readHash();
  syncControls();
  start();
})();
