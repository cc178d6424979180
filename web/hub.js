/* hub.js — a Hugging Face repository into the page: lists it, picks the files the converter reads,
   streams each one through the WebAssembly converter chunk by chunk (never holding a whole
   checkpoint), and checks sizes and the Hub's SHA-256 on the way. Loaded by worker.js with
   importScripts; defines BLHub. Files come from {hub}/{id}/resolve/{rev}/{file} (the Hub answers
   large files with a redirect to its CDN, which fetch follows); the access token goes in an
   Authorization header to the hub's own origin only (browsers also drop it on the cross-origin
   redirect to the CDN). Every failure is a BLHub.HubError whose message is meant for a person. */
'use strict';
self.BLHub = (() => {
  const DEFAULT_HUB = 'https://huggingface.co';
  // The families the converter reads (core/model/convert_stream.c, config.json's model_type).
  const SUPPORTED = ['bert', 'distilbert', 'roberta', 'xlm-roberta', 'camembert', 'electra', 'albert'];
  const SUPPORTED_TEXT = 'the BERT family (model_type "bert", "distilbert", "roberta", "xlm-roberta", "camembert", ' +
    '"electra", "albert": their base models, masked LMs and token or sequence classifiers)';
  const TOKENIZER_FILES = ['vocab.txt', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
  // in the converter's order of preference (bl_convert_hf does the same on a directory)
  const WEIGHTS = [['model.safetensors', false], ['model.safetensors.index.json', true],
    ['pytorch_model.bin', false], ['pytorch_model.bin.index.json', true]];
  const SMALL_MAX = 64 << 20;    // config, tokenizer and index files are read whole

  class HubError extends Error {
    constructor(message, kind) { super(message); this.kind = kind || 'hub'; }
  }

  const ID_RE = /^[A-Za-z0-9][\w.-]{0,95}(\/[A-Za-z0-9][\w.-]{0,95})?$/;
  const REV_RE = /^[\w.\-/]{1,128}$/;
  /* "org/name@rev" (rev optional) → {id, rev}, or null when it is not a repository id. */
  function parseRef(s) {
    const t = String(s || '').trim();
    const at = t.indexOf('@');
    const id = at < 0 ? t : t.slice(0, at), rev = at < 0 ? '' : t.slice(at + 1);
    if (!ID_RE.test(id) || id.includes('..') || (rev && (!REV_RE.test(rev) || rev.includes('..')))) return null;
    return { id, rev: rev || 'main' };
  }
  /* ?hub=URL → the hub's base URL (http or https, no query, no trailing slash), else null. */
  function hubBase(s) {
    if (!s) return DEFAULT_HUB;
    let u;
    try { u = new URL(s); } catch { return null; }
    if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.username || u.password) return null;
    return (u.origin + u.pathname).replace(/\/+$/, '');
  }
  const enc = (p) => p.split('/').map(encodeURIComponent).join('/');
  const fileUrl = (c, f) => `${c.hub}/${enc(c.id)}/resolve/${encodeURIComponent(c.rev)}/${enc(f)}`;
  const mb = (n) => `${(n / 1048576).toFixed(n < 10485760 ? 1 : 0)} MB`;

  /* What an error answer of the Hub means to a person (x-error-code as the Hub sends it). */
  function answerError(c, r, what) {
    const code = r.headers.get('x-error-code') || '', host = new URL(c.hub).host;
    if (code === 'RepoNotFound' || (r.status === 401 && code !== 'GatedRepo'))
      return new HubError(`"${c.id}" was not found on ${host}, or it is private: check the name, or sign in with an access token` +
        (c.token ? ' that can read it.' : '.'), 'notfound');
    if (code === 'GatedRepo' || r.status === 403)
      return new HubError(c.token
        ? `Your access token has no access to ${c.id}, a gated model: accept its conditions at ${c.hub}/${c.id} with that account.`
        : `${c.id} is a gated model: accept its conditions at ${c.hub}/${c.id}, then give an access token.`, 'gated');
    if (code === 'RevisionNotFound') return new HubError(`${c.id} has no revision "${c.rev}".`, 'revision');
    if (r.status === 404) return new HubError(`${c.id} has no file ${what}${c.rev !== 'main' ? ` at revision ${c.rev}` : ''}.`, 'missing');
    return new HubError(`Could not download ${what} of ${c.id} from ${host}: HTTP ${r.status} ${r.statusText}`.trim() + '.', 'http');
  }

  /* fetch with the token for the hub's origin only, the load's AbortSignal, and errors in words. */
  async function hubFetch(c, url, what, { okStatus = null } = {}) {
    const headers = {};
    if (c.token && new URL(url).origin === new URL(c.hub).origin) headers.Authorization = `Bearer ${c.token}`;
    let r;
    try {
      r = await fetch(url, { headers, signal: c.signal, cache: 'no-cache', credentials: 'omit' });
    } catch (e) {
      if (c.signal && c.signal.aborted) throw new HubError('Cancelled.', 'cancel');
      throw new HubError(`Could not reach ${new URL(url).host} for ${what}: no network, or the server refused this page ` +
        '(CORS or the page\'s Content-Security-Policy).', 'network');
    }
    if (!r.ok && !(okStatus && okStatus.includes(r.status))) throw answerError(c, r, what);
    return r;
  }

  /* The repository's files with sizes and LFS SHA-256 from the models API: {commit, files: Map},
     or null when this hub has no such API (a plain mirror): the files are then probed. */
  async function listRepo(c) {
    const url = `${c.hub}/api/models/${enc(c.id)}/revision/${encodeURIComponent(c.rev)}?blobs=true`;
    const r = await hubFetch(c, url, 'the file list', { okStatus: [404, 405, 501] });
    if (!r.ok) {   // a 404 with the Hub's own codes is an answer; a bare one means no API
      if (r.headers.get('x-error-code')) throw answerError(c, r, 'the file list');
      return null;
    }
    let j;
    try { j = await r.json(); } catch { return null; }
    if (!j || !Array.isArray(j.siblings)) return null;
    const files = new Map();
    for (const s of j.siblings) {
      if (!s || typeof s.rfilename !== 'string') continue;
      const size = Number.isSafeInteger(s.size) ? s.size : s.lfs && Number.isSafeInteger(s.lfs.size) ? s.lfs.size : -1;
      const sha = s.lfs && typeof s.lfs.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(s.lfs.sha256) ? s.lfs.sha256.toLowerCase() : null;
      files.set(s.rfilename, { size, sha256: sha });
    }
    return { commit: typeof j.sha === 'string' ? j.sha : '', files };
  }

  /* The files to read: {tokenizer: [...], index, weights: [...] (absent for an index)}. */
  function choose(c, files) {
    if (!files.has('config.json')) throw new HubError(`${c.id} has no config.json: it is not a transformers model repository.`, 'missing');
    const tokenizer = TOKENIZER_FILES.filter((f) => files.has(f));
    if (!tokenizer.includes('vocab.txt') && !tokenizer.includes('tokenizer.json'))
      throw new HubError(`${c.id} has neither vocab.txt nor tokenizer.json: the page needs one of them for the tokenizer.`, 'missing');
    for (const [f, isIndex] of WEIGHTS) if (files.has(f)) return { tokenizer, index: isIndex ? f : null, weights: isIndex ? null : [f] };
    const other = [...files.keys()].filter((f) => /\.(h5|msgpack|onnx|ckpt|pt|gguf|safetensors|bin)$/.test(f)).slice(0, 6);
    throw new HubError(`${c.id} has no weights the page can read (model.safetensors, its sharded index, or pytorch_model.bin)` +
      (other.length ? `; it has ${other.join(', ')}.` : '.'), 'missing');
  }

  /* No models API: find which files exist by asking for them (404 = absent). */
  async function probe(c) {
    const files = new Map();
    const have = async (f) => {
      const r = await hubFetch(c, fileUrl(c, f), f, { okStatus: [404] });
      if (r.status === 404) { r.body && r.body.cancel(); return false; }
      const len = Number(r.headers.get('Content-Length')), encd = r.headers.get('Content-Encoding');
      files.set(f, { size: len > 0 && (!encd || encd === 'identity') ? len : -1, sha256: null, response: r });
      return true;
    };
    if (!(await have('config.json'))) throw new HubError(`${c.id} has no config.json: it is not a transformers model repository.`, 'missing');
    for (const f of TOKENIZER_FILES) await have(f);
    for (const [f] of WEIGHTS) if (await have(f)) break;
    return { commit: files.get('config.json').response.headers.get('x-repo-commit') || '', files };
  }

  async function readSmall(c, files, f) {
    const ent = files.get(f);
    const r = ent.response || await hubFetch(c, fileUrl(c, f), f);
    ent.response = null;
    const b = new Uint8Array(await r.arrayBuffer());
    if (b.length > SMALL_MAX) throw new HubError(`${f} of ${c.id} is ${mb(b.length)}: too large for a ${f}.`, 'corrupt');
    if (ent.size >= 0 && b.length !== ent.size)
      throw new HubError(`The download of ${f} was incomplete or changed: ${b.length} bytes, the hub lists ${ent.size}. Retry.`, 'corrupt');
    return b;
  }

  /* config.json → the family check and what the converted model will take (bytes) in int8 and in
     int16, from the config's own sizes. */
  function checkConfig(c, bytes) {
    let j;
    try { j = JSON.parse(new TextDecoder().decode(bytes)); } catch (e) {
      throw new HubError(`config.json of ${c.id} is not valid JSON (${e.message}).`, 'corrupt');
    }
    if (!j || typeof j !== 'object') throw new HubError(`config.json of ${c.id} is not a JSON object.`, 'corrupt');
    const type = typeof j.model_type === 'string' ? j.model_type : '';
    const arch = Array.isArray(j.architectures) ? j.architectures.filter((a) => typeof a === 'string').join(', ') : '';
    const bertArch = /^Bert/.test(arch);
    if (type ? !SUPPORTED.includes(type) : !bertArch)
      throw new HubError(`${c.id} is a ${type ? `"${type}"` : 'model'}${arch ? ` (${arch})` : ''} model, an architecture the page does not ` +
        `support yet. It reads ${SUPPORTED_TEXT}.`, 'unsupported');
    const n = (k, d) => (Number.isSafeInteger(j[k]) && j[k] > 0 ? j[k] : d);
    const V = n('vocab_size', 30522), H = n('hidden_size', 768), L = n('num_hidden_layers', 12), I = n('intermediate_size', 4 * H);
    const P = n('max_position_embeddings', 512), T = n('type_vocab_size', 2);
    // int8: a byte an element and a float scale per row, the embeddings too; int16: two bytes
    // an element, the embeddings f32 (no scale); biases, LayerNorm and the rest floats either way
    const size = (elt, embElt, embRow) => {
      const matrix = (r, k) => elt * r * k + 4 * r;
      return (V + P + T) * (embElt * H + embRow) + L * (4 * matrix(H, H) + matrix(I, H) + matrix(H, I) + 4 * (9 * H + I)) +
        matrix(H, H) + 4 * (3 * H + V) + V * 12;
    };
    return { int8: size(1, 1, 4), int16: size(2, 4, 0), config: j };
  }

  /* SHA-256 while the bytes go by (core/api/wasm_hub.c), over the chunk already in WASM memory. */
  function hasher(M) {
    let h = M._blw_sha256_begin();
    if (!h) throw new HubError('Out of memory.', 'memory');
    return {
      update: (ptr, n) => M._blw_sha256_update(h, ptr, n),
      digest: () => {
        const out = M._malloc(32);
        M._blw_sha256_end(h, out);
        h = 0;
        const d = Array.from(M.HEAPU8.subarray(out, out + 32), (x) => x.toString(16).padStart(2, '0')).join('');
        M._free(out);
        return d;
      },
      free: () => { if (h) M._blw_sha256_end(h, 0); h = 0; },
    };
  }

  /* Streams one weights file into the converter: fetch → reader → staging buffer in WASM memory
     → push; size and SHA-256 checked at the end. */
  async function streamFile(c, conv, f, ent, progress) {
    const r = ent.response || await hubFetch(c, fileUrl(c, f), f);
    ent.response = null;
    const total = ent.size >= 0 ? ent.size : -1;
    const sha = ent.sha256 ? hasher(conv.M) : null;
    progress.begin(f, total);
    conv.beginFile(f, total);
    const reader = r.body.getReader();
    const onAbort = () => reader.cancel().catch(() => {});
    c.signal.addEventListener('abort', onAbort);
    let got = 0;
    try {
      for (;;) {
        let chunk;
        try { chunk = await reader.read(); } catch (e) {
          if (c.signal.aborted) throw new HubError('Cancelled.', 'cancel');
          throw new HubError(`The download of ${f} broke off after ${mb(got)}${total >= 0 ? ` of ${mb(total)}` : ''}: ` +
            'the connection was lost. Retry.', 'truncated');
        }
        if (c.signal.aborted) throw new HubError('Cancelled.', 'cancel');
        if (chunk.done) break;
        const v = chunk.value;
        if (total >= 0 && got + v.length > total)
          throw new HubError(`${f} is larger than the hub lists (${total} bytes): the repository changed during the download. Retry.`, 'corrupt');
        const ptr = conv.stage(v);
        if (sha) sha.update(ptr, v.length);
        conv.push(ptr, v.length, f);
        got += v.length;
        progress.add(f, v.length);
      }
    } catch (e) {
      if (sha) sha.free();
      throw e;
    } finally {
      c.signal.removeEventListener('abort', onAbort);
    }
    if (total >= 0 && got !== total)
      throw new HubError(`The download of ${f} was truncated: ${got} of ${total} bytes arrived. Retry.`, 'truncated');
    conv.endFile(f);
    if (sha) {
      const d = sha.digest();
      if (d !== ent.sha256)
        throw new HubError(`${f} of ${c.id} is corrupt: its SHA-256 is ${d}, the hub says ${ent.sha256}. Retry the download.`, 'corrupt');
    }
    progress.done(f);
  }

  /* Progress of every file: bytes, total and speed, posted at most every 100 ms. */
  function progressOf(post, phaseName) {
    const files = [], t0 = performance.now();
    let last = 0;
    const send = (force) => {
      const now = performance.now();
      if (!force && now - last < 100) return;
      last = now;
      const bytes = files.reduce((s, x) => s + x.loaded, 0);
      post({ type: 'hub-progress', phase: phaseName(), files: files.map((x) => ({ ...x })),
        speed: bytes / Math.max(0.001, (now - t0) / 1000) });
    };
    const find = (n) => files.find((x) => x.name === n);
    return {
      files,
      plan: (n, total) => { if (!find(n)) files.push({ name: n, loaded: 0, total, done: false }); },
      begin: (n, total) => { const x = find(n) || (files.push({ name: n, loaded: 0, total, done: false }), find(n)); x.total = total; send(true); },
      add: (n, k) => { find(n).loaded += k; send(false); },
      done: (n) => { const x = find(n); x.done = true; if (x.total < 0) x.total = x.loaded; send(true); },
      send,
    };
  }

  /* int16 (13-bit weights: attention within about 0.01 of the float model where int8 moves peaked
     heads by 0.1 or more) unless the user asked for int8, or int16 would not fit and int8 does
     ("auto"); the status line says which and why. need: {int8, int16} bytes. */
  function chooseDtype(c, need) {
    const want = c.dtype === 'int8' || c.dtype === 'int16' ? c.dtype : 'auto';
    const fits = (d) => need[d] <= c.ceiling;
    const dtype = want !== 'auto' ? want : fits('int16') || !fits('int8') ? 'int16' : 'int8';
    if (!fits(dtype))
      throw new HubError(`${c.id} is too large for the page: its weights take about ${mb(need[dtype])} in ${dtype}` +
        `${dtype === 'int16' && fits('int8') ? ` (${mb(need.int8)} in int8: choose int8 to load it)` : ''}, and the page can hold ` +
        `${mb(c.ceiling)} beside the model it has now (WebAssembly memory is capped at 1 GiB). Nothing was downloaded.`, 'toolarge');
    if (want === 'auto' && dtype === 'int8')
      c.post({ type: 'hub-warning', message: `${c.id} is converted to int8: int16, which shows attention closer to the float model, ` +
        `would take ${mb(need.int16)} and the page can hold ${mb(c.ceiling)}.` });
    return dtype;
  }

  /* The whole load: list, check, stream, convert. c: {hub, id, rev, token, signal, ceiling, post,
     conv (a Converter)}. Returns {ptr, len, commit} (ptr malloc'd in the module, the caller owns it). */
  async function convertFromHub(c, listing) {
    let phase = 'downloading';
    const progress = progressOf(c.post, () => phase);
    const files = listing.files;
    const plan = choose(c, files);
    const cfgBytes = await readSmall(c, files, 'config.json');
    const est = checkConfig(c, cfgBytes);
    // too large: known before the weights download, from the config and from the hub's sizes
    const weightsKnown = plan.weights ? plan.weights.map((f) => files.get(f).size) : [];
    const fromSizes = weightsKnown.length && weightsKnown.every((s) => s >= 0) ? weightsKnown.reduce((a, b) => a + b, 0) / 4 : 0;
    const need = { int8: Math.max(est.int8, fromSizes), int16: Math.max(est.int16, 2 * fromSizes) };
    const dtype = chooseDtype(c, need);
    const conv = c.conv;
    conv.open(dtype);
    conv.setConfig(cfgBytes);
    for (const f of plan.tokenizer) conv.setTokenizerFile(f, await readSmall(c, files, f));
    let weights = plan.weights;
    if (plan.index) {
      weights = conv.setIndex(plan.index, await readSmall(c, files, plan.index));
      for (const f of weights) {
        if (!files.has(f)) {   // listed by the index, absent from the listing: ask for it directly
          if (listing.probed) files.set(f, { size: -1, sha256: null });
          else throw new HubError(`${c.id}: ${plan.index} names ${f}, which the repository does not have.`, 'missing');
        }
      }
    }
    for (const f of weights) progress.plan(f, files.get(f).size);
    for (const f of weights) await streamFile(c, conv, f, files.get(f), progress);
    phase = 'converting';
    progress.send(true);
    return conv.finish();
  }

  /* The WebAssembly converter (core/api/wasm_convert.c's blw_conv_* over bl_conv_*) as the
     loader uses it: every call that fails throws a HubError with the converter's own message.
     Each chunk is copied into the handle's own chunk buffer (blw_conv_chunk), then pushed. */
  const BL_DT = { int8: 2, int16: 3 };   // BL_DT_* in core/bertlens.h
  class Converter {
    constructor(M, { maxBytes = 0 } = {}) {
      if (!M._blw_conv_new) throw new HubError('This build of the core has no converter (blw_conv_new).', 'internal');
      this.M = M;
      this.maxBytes = maxBytes;
      this.h = 0;
    }
    /* Once the config says what fits: the handle, converting to dtype ('int8' | 'int16'). */
    open(dtype) {
      const M = this.M, o = M._malloc(16);   // blw_conv_opts {int32 dtype, int32 measure, f64 max_bytes}
      if (!o) throw new HubError('Out of memory for the converter.', 'memory');
      M.HEAP32[o >> 2] = BL_DT[dtype];
      // measure: keep a float copy (f32, else f16, under maxBytes) and store the attention's
      // deviation from it in the file, which the model line then shows
      M.HEAP32[(o >> 2) + 1] = 1;
      M.HEAPF64[(o + 8) >> 3] = this.maxBytes;
      this.h = M._blw_conv_new(o);
      M._free(o);
      if (!this.h) throw new HubError('Out of memory for the converter.', 'memory');
      this.dtype = dtype;
    }
    error() { return this.M.UTF8ToString(this.M._blw_conv_error(this.h)); }
    check(rc, what) {
      if (rc < 0) {
        const why = this.error();
        const hostile = /pickle/i.test(why);
        throw new HubError(hostile ? `${what} was refused: ${why}. The page reads only tensors from pytorch_model.bin and never runs its code.`
          : `${what} could not be converted: ${why}`, hostile ? 'pickle' : /model_type|not a BERT|BERT models only/i.test(why) ? 'unsupported'
            : /above the limit/.test(why) ? 'toolarge' : 'corrupt');
      }
      return rc;
    }
    withBytes(bytes, fn) {
      const p = this.M._malloc(bytes.length + 1);
      if (!p) throw new HubError('Out of memory.', 'memory');
      this.M.HEAPU8.set(bytes, p);
      this.M.HEAPU8[p + bytes.length] = 0;
      try { return fn(p, bytes.length); } finally { this.M._free(p); }
    }
    withName(name, fn) { return this.withBytes(new TextEncoder().encode(name), fn); }
    setConfig(b) { this.withBytes(b, (p, n) => this.check(this.M._blw_conv_set_config(this.h, p, n), 'config.json')); }
    setTokenizerFile(name, b) {
      this.withName(name, (pn, ln) => this.withBytes(b, (p, n) => this.check(this.M._blw_conv_set_tokenizer_file(this.h, pn, ln, p, n), name)));
    }
    setIndex(name, b) {
      this.withName(name, (pn, ln) => this.withBytes(b, (p, n) => this.check(this.M._blw_conv_set_index(this.h, pn, ln, p, n), name)));
      const out = [];
      for (let i = 0, q; (q = this.M._blw_conv_file(this.h, i)); i++) out.push(this.M.UTF8ToString(q));
      return out;
    }
    beginFile(name, total) { this.withName(name, (pn, ln) => this.check(this.M._blw_conv_begin_file(this.h, pn, ln, total), name)); }
    stage(v) {
      const p = this.M._blw_conv_chunk(this.h, v.length);
      if (!p) throw new HubError('Out of memory for the download buffer.', 'memory');
      this.M.HEAPU8.set(v, p);   // HEAPU8 read each time: memory may have grown
      return p;
    }
    push(ptr, n, name) { this.check(this.M._blw_conv_push(this.h, ptr, n), name); }
    endFile(name) { this.check(this.M._blw_conv_end_file(this.h), name); }
    progress() {   // blw_conv_progress: 10 float64
      const q = this.M._blw_conv_progress(this.h) >> 3, F = this.M.HEAPF64;
      return { peak: F[q + 6], heap: F[q + 8], outLen: F[q + 9] };
    }
    /* → {ptr, len}: the weights file, malloc'd, now the caller's */
    finish() {
      this.check(this.M._blw_conv_finish(this.h), 'The model');
      const len = this.progress().outLen, ptr = this.M._blw_conv_take_output(this.h);
      if (!ptr) this.check(-1, 'The model');
      return { ptr, len };
    }
    peak() { return this.progress().peak; }
    free() {
      if (this.h) this.M._blw_conv_free(this.h);
      this.h = 0;
    }
  }

  /* ------------------------------------------------------------ the worker's side: messages
     hub-load, files-load, hub-cancel, save-bin, stored-list, stored-delete. api (from worker.js):
     {M(), post, loadModel(ptr, len, name, fresh) → info (owns ptr; throws with a message), ceiling()
     (bytes a new model may take now), onLoaded(info, extra)}. Loads run outside the worker's
     message chain, so Cancel acts at once and the current model keeps answering meanwhile; one
     load at a time (a new one cancels the old). */
  function workerSide(api) {
    let current = null;     // {ptr, len, name}: the loaded model's bytes (owned by the core), for save-bin
    let busy = null;        // {ac: AbortController} of the load in progress
    const now = () => performance.timeOrigin + performance.now();

    // fresh: the converter's output, checksummed as it was written (the worker skips re-hashing it)
    function adopt(ptr, len, name, extra, fresh = false) {
      const info = api.loadModel(ptr, len, name, fresh);
      current = { ptr, len, name };
      api.onLoaded(info, extra);
      return info;
    }

    async function openStored(found, name, post) {
      const size = found.meta.size, M = api.M();
      post({ type: 'hub-progress', phase: 'opening the stored copy', files: [{ name, loaded: 0, total: size, done: false }], speed: 0 });
      const ptr = M._malloc(size);
      if (!ptr) throw new HubError(`Not enough memory to open ${name} (${mb(size)}).`, 'memory');
      let off = 0;
      try {
        const reader = found.response.body.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (off + value.length > size) throw new HubError(`The stored copy of ${name} is damaged: delete it and load the model again.`, 'corrupt');
          M.HEAPU8.set(value, ptr + off);
          off += value.length;
        }
        if (off !== size) throw new HubError(`The stored copy of ${name} is damaged: delete it and load the model again.`, 'corrupt');
      } catch (e) { M._free(ptr); throw e; }
      return [ptr, size];
    }

    async function load(msg, post) {
      if (busy) busy.ac.abort();
      const ac = new AbortController(), me = { ac };
      busy = me;
      const t0 = now();
      const hub = hubBase(msg.hub), ref = parseRef(`${msg.id || ''}${msg.rev ? '@' + msg.rev : ''}`);
      const name = ref ? (ref.rev === 'main' ? ref.id : `${ref.id}@${ref.rev}`) : String(msg.id || '');
      let conv = null;
      try {
        if (!hub) throw new HubError(`The hub address "${msg.hub}" is not an http(s) URL.`, 'hub');
        if (!ref) throw new HubError(`"${String(msg.id || '').slice(0, 200)}" is not a Hub model id (like bert-base-uncased or dslim/bert-base-NER).`, 'id');
        const c = { hub, id: ref.id, rev: ref.rev, token: msg.token || '', dtype: msg.dtype, signal: ac.signal, post, ceiling: api.ceiling() };
        post({ type: 'hub-start', name });
        let listing = null, netErr = null;
        try {
          listing = await listRepo(c);
          if (!listing) { listing = await probe(c); listing.probed = true; }
        } catch (e) {
          if (!(e instanceof HubError) || e.kind !== 'network') throw e;
          netErr = e;
        }
        let found = await BLCache.find(hub, ref.id, ref.rev, netErr ? null : listing.commit || null).catch(() => null);
        // a stored copy in the other precision than the one asked for is converted again (online)
        if (found && !netErr && (msg.dtype === 'int8' || msg.dtype === 'int16') && (found.meta.dtype || 'int8') !== msg.dtype) found = null;
        if (found) {   // stored: no download (offline, or the same commit)
          for (const f of listing ? listing.files.values() : []) if (f.response && f.response.body) f.response.body.cancel().catch(() => {});
          const [ptr, len] = await openStored(found, name, post);
          const t1 = now();
          adopt(ptr, len, name, { source: 'cache', ref: { hub, id: ref.id, rev: ref.rev, commit: found.meta.commit }, offline: !!netErr,
            t: { start: t0, loaded: now(), read: t1 } });
          return;
        }
        if (netErr) throw netErr;
        conv = new Converter(api.M(), { maxBytes: c.ceiling });
        c.conv = conv;
        const out = await convertFromHub(c, listing);
        const tLast = now(), peak = conv.peak();
        conv.free(); conv = null;
        const M = api.M(), heap = M.HEAPU8.buffer.byteLength;
        adopt(out.ptr, out.len, name, { source: 'hub', ref: { hub, id: ref.id, rev: ref.rev, commit: listing.commit },
          t: { start: t0, lastByte: tLast, loaded: now() }, peakConv: peak, heap }, true);
        // kept for next time after the model is in use (a copy: the core owns the buffer)
        const meta = { hub, id: ref.id, rev: ref.rev, commit: listing.commit, name, dtype: c.conv ? c.conv.dtype : undefined };
        try {
          await BLCache.put(meta, M.HEAPU8.slice(out.ptr, out.ptr + out.len));
          post({ type: 'stored-changed' });
        } catch (e) {
          post({ type: 'hub-warning', message: e instanceof BLCache.QuotaError ? e.message : `${name} could not be stored for next time: ${e.message}` });
        }
      } catch (e) {
        post({ type: 'model-error', source: 'hub', kind: e.kind || 'error', cancelled: e.kind === 'cancel',
          message: e instanceof HubError ? (e.kind === 'cancel' ? `Loading ${name} was cancelled.` : e.message) : `Could not load ${name}: ${e && e.message ? e.message : e}` });
      } finally {
        if (conv) conv.free();
        if (busy === me) busy = null;
        post({ type: 'hub-done' });
      }
    }

    /* A dropped Hugging Face directory (or its files): the same conversion, from File objects. */
    async function loadFiles(msg, post) {
      if (busy) busy.ac.abort();
      const ac = new AbortController(), me = { ac };
      busy = me;
      const name = String(msg.name || 'dropped model').slice(0, 200);
      let conv = null;
      try {
        const files = new Map();
        for (const f of msg.files) files.set(f.name.split('/').pop(), { size: f.size, sha256: null, response: new Response(f) });
        const c = { hub: 'file:', id: name, rev: 'main', token: '', dtype: msg.dtype, signal: ac.signal, post, ceiling: api.ceiling() };
        post({ type: 'hub-start', name });
        conv = new Converter(api.M(), { maxBytes: c.ceiling });
        c.conv = conv;
        const t0 = now();
        const out = await convertFromHub(c, { files, commit: '', probed: false });
        conv.free(); conv = null;
        adopt(out.ptr, out.len, name, { source: 'files', t: { start: t0, lastByte: now(), loaded: now() } }, true);
      } catch (e) {
        post({ type: 'model-error', source: 'files', kind: e.kind || 'error', cancelled: e.kind === 'cancel',
          message: e instanceof HubError ? (e.kind === 'cancel' ? `Converting ${name} was cancelled.` : e.message) : `Could not convert ${name}: ${e && e.message ? e.message : e}` });
      } finally {
        if (conv) conv.free();
        if (busy === me) busy = null;
        post({ type: 'hub-done' });
      }
    }

    async function stored(post) {
      let estimate = null;
      try { if (navigator.storage && navigator.storage.estimate) estimate = await navigator.storage.estimate(); } catch { /* none */ }
      post({ type: 'stored', list: (await BLCache.list()).map(({ key, hub, id, rev, commit, name, size, stored }) =>
        ({ key, hub, id, rev, commit, name, size, stored })), estimate: estimate && { usage: estimate.usage, quota: estimate.quota } });
    }

    return {
      handles: (t) => ['hub-load', 'files-load', 'hub-cancel', 'save-bin', 'stored-list', 'stored-delete'].includes(t),
      // a load another way (the default model, a .bin) makes save-bin's bytes those of that model
      setCurrent: (ptr, len, name) => { current = { ptr, len, name }; },
      handle(msg, post) {
        switch (msg.type) {
          case 'hub-load': return load(msg, post);
          case 'files-load': return loadFiles(msg, post);
          case 'hub-cancel': if (busy) busy.ac.abort(); return null;
          case 'save-bin': {
            if (!current) { post({ type: 'model-error', message: 'No model to save yet.' }); return null; }
            const b = api.M().HEAPU8.slice(current.ptr, current.ptr + current.len);
            post({ type: 'bin', name: current.name, buffer: b.buffer }, [b.buffer]);
            return null;
          }
          case 'stored-list': return stored(post);
          case 'stored-delete': return BLCache.remove(msg.key).then(() => stored(post));
        }
        return null;
      },
    };
  }

  return { DEFAULT_HUB, SUPPORTED, SUPPORTED_TEXT, HubError, parseRef, hubBase, fileUrl, listRepo, probe, choose,
    checkConfig, convertFromHub, Converter, workerSide, progressOf, TOKENIZER_FILES, WEIGHTS };
})();
