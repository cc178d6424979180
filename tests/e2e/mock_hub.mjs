// mock_hub.mjs — a local stand-in for the Hugging Face Hub, for the tests (no internet in CI).
//
//   node tests/e2e/mock_hub.mjs --root DIR [--port P] [--cdn-port Q]     (prints {"hub","cdn"} JSON)
//   import { startMockHub } from './mock_hub.mjs'; const hub = await startMockHub({ root });
//
// Two origins, as the real Hub:
//   hub  GET  /{id}/resolve/{rev}/{file}   small (non-LFS) files answered directly (200); large
//                                          (LFS) files: 302 to the CDN origin with x-repo-commit,
//                                          x-linked-size, x-linked-etag (the SHA-256) and etag
//        GET  /api/models/{id}[/revision/{rev}]   {"id","sha","siblings":[{"rfilename","size",
//                                          "lfs":{"sha256","size"}}]} (sizes as with ?blobs=true)
//   cdn  GET  /{id}/{rev}/{file}?sig=…     the bytes, Range (206), CORS, accept-ranges
// Errors as the Hub gives them: a repository that does not exist or is private answers 401 with
// x-error-code RepoNotFound (the Hub does not say which, to an anonymous caller); a gated one 401
// (no token) or 403 (a token without access) with x-error-code GatedRepo; a missing file 404
// EntryNotFound; a missing revision 404 RevisionNotFound. Every answer carries CORS headers and
// answers preflights (Authorization is allowed).
//
// The store: DIR/{org}/{name}/{rev}/… files (a single-part id lives at DIR/{name}/{rev}/), and
// optionally DIR/{org}/{name}/hub.json with what the repository does:
//   {"gated": true, "token": "hf_…"}     files need "Authorization: Bearer <token>"
//   {"private": true, "token": "hf_…"}   as gated, but 401 RepoNotFound without the token
//   {"renamed_to": "org/name"}           307 relative redirect, as for canonical renames
//   {"truncate": {"model.safetensors": 1000}}   the CDN sends only that many bytes, then closes
//   {"slow": {"model.safetensors": 65536}}      the CDN sends that many bytes per 100 ms
//   {"lfs_min": 1024}                    files at least this big are LFS (default 10 KiB)
//   {"bad_sha": ["model.safetensors"]}   x-linked-etag and the API announce a wrong SHA-256
// The commit (x-repo-commit, the API's sha) is a hash of the revision's file names and sizes.
import http from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, createReadStream } from 'node:fs';
import path from 'node:path';

const EXPOSE = 'X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,' +
  'Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,Content-Length';

function cors(res) {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', EXPOSE);
  res.setHeader('Access-Control-Allow-Headers', 'Authorization,Range,Content-Type');
  res.setHeader('Access-Control-Allow-Methods', 'GET,HEAD,OPTIONS');
  // the page under test is cross-origin isolated (COEP require-corp): allow it to embed us
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
}

function fail(res, status, code, message) {
  cors(res);
  res.setHeader('X-Error-Code', code);
  res.setHeader('X-Error-Message', message);
  res.setHeader('Content-Type', 'application/json');
  res.writeHead(status);
  res.end(JSON.stringify({ error: message }));
}

function listFiles(dir, prefix = '') {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(path.join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

const shaCache = new Map();
function fileSha256(p) {
  const st = statSync(p);
  const key = `${p}:${st.size}:${st.mtimeMs}`;
  if (!shaCache.has(key)) shaCache.set(key, createHash('sha256').update(readFileSync(p)).digest('hex'));
  return shaCache.get(key);
}

export async function startMockHub({ root, port = 0, cdnPort = 0, log = null } = {}) {
  const stats = { requests: [], bytesSent: 0 };
  const repoOf = (id) => {
    if (!/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(id) || id.includes('..')) return null;
    const dir = path.join(root, ...id.split('/'));
    if (!existsSync(dir) || !statSync(dir).isDirectory()) return null;
    const metaPath = path.join(dir, 'hub.json');
    const meta = existsSync(metaPath) ? JSON.parse(readFileSync(metaPath, 'utf8')) : {};
    return { id, dir, meta };
  };
  const commitOf = (repo, rev) => {
    const revDir = path.join(repo.dir, rev);
    const h = createHash('sha1').update(`${repo.id}@${rev}`);
    for (const f of listFiles(revDir)) h.update(`${f}:${statSync(path.join(revDir, f)).size}\n`);
    return h.digest('hex');
  };
  // the access rules shared by resolve and the API; returns true when the request may go on
  const allowed = (req, res, repo) => {
    const m = repo.meta;
    if (!m.gated && !m.private) return true;
    const auth = req.headers.authorization || '';
    if (auth === `Bearer ${m.token}`) return true;
    if (m.private) { fail(res, 401, 'RepoNotFound', 'Repository Not Found for url.'); return false; }
    if (!auth) fail(res, 401, 'GatedRepo', `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`);
    else fail(res, 403, 'GatedRepo', `Access to model ${repo.id} is restricted and you are not in the authorized list.`);
    return false;
  };
  const lfsMin = (repo) => repo.meta.lfs_min ?? 10240;
  const announcedSha = (repo, file, p) => (repo.meta.bad_sha || []).includes(file) ? '0'.repeat(64) : fileSha256(p);

  let cdnBase = '';
  const hub = http.createServer((req, res) => {
    stats.requests.push({ origin: 'hub', method: req.method, url: req.url, auth: !!req.headers.authorization });
    if (log) log(`hub ${req.method} ${req.url}`);
    if (req.method === 'OPTIONS') { cors(res); res.writeHead(204); res.end(); return; }
    const url = new URL(req.url, 'http://x');
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    // /api/models/{id...}[/revision/{rev}]
    if (parts[0] === 'api' && parts[1] === 'models') {
      let idParts = parts.slice(2), rev = 'main';
      const ri = idParts.indexOf('revision');
      if (ri >= 0) { rev = idParts[ri + 1] || 'main'; idParts = idParts.slice(0, ri); }
      const repo = repoOf(idParts.join('/'));
      if (!repo) return fail(res, 401, 'RepoNotFound', 'Repository Not Found for url.');
      if (repo.meta.renamed_to) {
        cors(res);
        res.writeHead(307, { Location: `/api/models/${repo.meta.renamed_to}/revision/${encodeURIComponent(rev)}` });
        res.end(); return;
      }
      if (!allowed(req, res, repo)) return;
      const revDir = path.join(repo.dir, rev);
      if (!existsSync(revDir)) return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      const siblings = listFiles(revDir).map((f) => {
        const p = path.join(revDir, f), size = statSync(p).size;
        const s = { rfilename: f, size };
        if (size >= lfsMin(repo)) s.lfs = { sha256: announcedSha(repo, f, p), size, pointerSize: 134 };
        return s;
      });
      cors(res);
      res.setHeader('Content-Type', 'application/json');
      res.writeHead(200);
      res.end(JSON.stringify({ id: repo.id, modelId: repo.id, sha: commitOf(repo, rev), gated: !!repo.meta.gated,
        private: !!repo.meta.private, siblings }));
      return;
    }
    // /{id...}/resolve/{rev}/{file...}
    const ri = parts.indexOf('resolve');
    if (ri < 1 || ri + 2 >= parts.length) return fail(res, 404, 'EntryNotFound', 'Not found');
    const id = parts.slice(0, ri).join('/'), rev = parts[ri + 1], file = parts.slice(ri + 2).join('/');
    const repo = repoOf(id);
    if (!repo) return fail(res, 401, 'RepoNotFound', 'Repository Not Found for url.');
    if (repo.meta.renamed_to) {
      cors(res);
      res.writeHead(307, { Location: `/${repo.meta.renamed_to}/resolve/${encodeURIComponent(rev)}/${file}` });
      res.end(); return;
    }
    if (!allowed(req, res, repo)) return;
    const revDir = path.join(repo.dir, rev);
    if (!existsSync(revDir)) return fail(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
    const p = path.join(revDir, ...file.split('/'));
    if (file.includes('..') || !existsSync(p) || !statSync(p).isFile()) return fail(res, 404, 'EntryNotFound', `${file} does not exist on "${rev}"`);
    const size = statSync(p).size, commit = commitOf(repo, rev);
    cors(res);
    res.setHeader('X-Repo-Commit', commit);
    if (size >= lfsMin(repo)) {
      const sha = announcedSha(repo, file, p);
      res.setHeader('X-Linked-Size', String(size));
      res.setHeader('X-Linked-ETag', `"${sha}"`);
      res.setHeader('ETag', `"${sha}"`);
      const sig = createHash('sha1').update(`${id}${rev}${file}`).digest('hex').slice(0, 16);
      res.writeHead(302, { Location: `${cdnBase}/${id}/${encodeURIComponent(rev)}/${file}?sig=${sig}` });
      res.end(); return;
    }
    res.setHeader('ETag', `"${createHash('sha1').update(readFileSync(p)).digest('hex')}"`);
    res.setHeader('Content-Length', String(size));
    res.writeHead(200);
    if (req.method === 'HEAD') { res.end(); return; }
    stats.bytesSent += size;
    createReadStream(p).pipe(res);
  });

  const cdn = http.createServer((req, res) => {
    stats.requests.push({ origin: 'cdn', method: req.method, url: req.url, auth: !!req.headers.authorization, range: req.headers.range || null });
    if (log) log(`cdn ${req.method} ${req.url}`);
    if (req.method === 'OPTIONS') { cors(res); res.writeHead(204); res.end(); return; }
    const url = new URL(req.url, 'http://x');
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (!url.searchParams.get('sig')) return fail(res, 403, 'AccessDenied', 'missing signature');
    // {id...}/{rev}/{file}: the id has one or two parts; try both
    let repo = null, rev, file;
    for (const k of [2, 1]) {
      const r = repoOf(parts.slice(0, k).join('/'));
      if (r && parts.length > k + 1) { repo = r; rev = parts[k]; file = parts.slice(k + 1).join('/'); break; }
    }
    const p = repo && path.join(repo.dir, rev, ...file.split('/'));
    if (!repo || file.includes('..') || !existsSync(p)) return fail(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    const size = statSync(p).size;
    let start = 0, end = size - 1, status = 200;
    const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
    if (m) {
      if (m[1] === '') { start = Math.max(0, size - Number(m[2])); }
      else { start = Number(m[1]); if (m[2] !== '') end = Math.min(size - 1, Number(m[2])); }
      if (start >= size || start > end) {
        cors(res); res.writeHead(416, { 'Content-Range': `bytes */${size}` }); res.end(); return;
      }
      status = 206;
      res.setHeader('Content-Range', `bytes ${start}-${end}/${size}`);
    }
    cors(res);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(end - start + 1));
    res.setHeader('ETag', `"${fileSha256(p)}"`);
    res.writeHead(status);
    if (req.method === 'HEAD') { res.end(); return; }
    const cut = repo.meta.truncate && repo.meta.truncate[file];
    const slow = repo.meta.slow && repo.meta.slow[file];
    if (cut !== undefined) {
      // a connection that dies mid-body: fewer bytes than Content-Length, then a reset
      const stream = createReadStream(p, { start, end: Math.min(end, start + cut - 1) });
      stream.on('data', (d) => { stats.bytesSent += d.length; res.write(d); });
      stream.on('end', () => setTimeout(() => res.socket && res.socket.destroy(), 20));
      return;
    }
    if (slow) {
      let pos = start;
      const fd = readFileSync(p);
      const tick = () => {
        if (res.destroyed || res.writableEnded) return;
        const n = Math.min(slow, end + 1 - pos);
        if (n <= 0) { res.end(); return; }
        res.write(fd.subarray(pos, pos + n)); stats.bytesSent += n; pos += n;
        setTimeout(tick, 100);
      };
      req.on('close', () => { pos = end + 1; });
      tick();
      return;
    }
    const stream = createReadStream(p, { start, end });
    stream.on('data', (d) => { stats.bytesSent += d.length; });
    stream.pipe(res);
  });

  const listen = (srv, p) => new Promise((resolve) => srv.listen(p, '127.0.0.1', () => resolve(srv.address().port)));
  const hubPort = await listen(hub, port);
  const cdnP = await listen(cdn, cdnPort);
  // a second origin: the page must follow a redirect to another host, as to the Hub's CDN
  cdnBase = `http://localhost:${cdnP}`;
  return {
    hub: `http://127.0.0.1:${hubPort}`, cdn: cdnBase, stats,
    close: () => Promise.all([new Promise((r) => hub.close(r)), new Promise((r) => cdn.close(r))]),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const a = process.argv.slice(2);
  const opt = (k, d) => { const i = a.indexOf(k); return i >= 0 ? a[i + 1] : d; };
  const root = opt('--root');
  if (!root) { console.error('usage: mock_hub.mjs --root DIR [--port P] [--cdn-port Q] [--verbose]'); process.exit(2); }
  const h = await startMockHub({ root, port: Number(opt('--port', 0)), cdnPort: Number(opt('--cdn-port', 0)),
    log: a.includes('--verbose') ? (s) => console.error(s) : null });
  console.log(JSON.stringify({ hub: h.hub, cdn: h.cdn }));
}
