// wasm_families.test.mjs — the page's WASM boundary (core/api/wasm_api.c) on every family's test
// checkpoint, against the native CLI on the same converted file:
//   node tests/e2e/wasm_families.test.mjs --site build-web/site --cli build/bertlens
// Each checkpoint of tests/model/families (tests/model/families.py) is converted with the CLI;
// then, for texts in its tokenizer's vocabulary (single, pair, with the family's mask token):
//   ids, type ids and pieces: exactly `bertlens tokenize`'s (the same tokenizer.json or vocab);
//   attention: max |Δ| <= 1e-6 from `bertlens attention` (f32 files, the same kernels);
//   the readable pieces the views draw: decoded here independently of the C code (GPT-2's
//     bytes_to_unicode table for byte-level BPE, the Metaspace ▁, special tokens unchanged);
//   blw_model_info: family, head, labels and mask token as config.json and the family say;
//   task heads: every probability within 1e-6 of `bertlens classify`; masked LM: the same ids
//     as `bertlens fill-mask` at the family's mask token.
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync, copyFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { args, check, summary, loadCore, Core, cli, cliJson, ROOT } from './lib.mjs';

const A = args();
const site = path.resolve(A.site || path.join(ROOT, 'build-web/site'));
const bin = A.cli || path.join(ROOT, 'build/bertlens');
const ATT_TOL = 1e-6, P_TOL = 1e-6;
const core = new Core(await loadCore(site));
const M = core.M;
const VIEW_TASK = 7;   // BL_VIEW_TASK
check(core.loadFont(readFileSync(path.join(ROOT, 'web/fonts/DejaVuSans-subset.ttf'))) === 0, `font: ${core.error()}`);
let rust = null;   // npm @anush008/tokenizers: the Rust library (tests/model/families_tok.mjs)
try { rust = createRequire(import.meta.url)(path.join(ROOT, 'node_modules/@anush008/tokenizers')); } catch { console.log('(no @anush008/tokenizers: ids checked against the CLI only)'); }
const tmp = mkdtempSync(path.join(os.tmpdir(), 'bl-wasm-families-'));

// GPT-2's bytes_to_unicode, inverted: a byte-level piece's characters back to bytes
const BYTE_OF = new Map();
{
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = bs.slice();
  let extra = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + extra++); }
  bs.forEach((b, i) => BYTE_OF.set(String.fromCodePoint(cs[i]), b));
}
// bytes as UTF-8, a byte that starts no complete character as <0xNN> (bertlens.h's convention)
function utf8OrBytes(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i], len = b < 0x80 ? 1 : (b >> 5) === 6 ? 2 : (b >> 4) === 14 ? 3 : (b >> 3) === 30 ? 4 : 0;
    const seq = bytes.slice(i, i + len);
    let ok = len > 0 && seq.length === len && seq.slice(1).every((c) => (c & 0xc0) === 0x80);
    if (ok) {
      try { out += new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(seq)); } catch { ok = false; }
    }
    if (ok) i += len;
    else { out += `<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`; i++; }
  }
  return out;
}
function readable(piece, tj) {
  if (!tj || tj.added_tokens.some((t) => t.special && t.content === piece)) return piece;
  const pre = JSON.stringify(tj.pre_tokenizer || {});
  if (/ByteLevel/.test(pre)) {
    let bytes = Array.from(piece, (c) => BYTE_OF.get(c));
    if (bytes[0] === 0x20) bytes = bytes.slice(1);
    const s = utf8OrBytes(bytes);
    return s === '' ? piece : s;
  }
  if (/Metaspace/.test(pre)) {
    const s = piece.replace(/^▁/, '').replace(/▁/g, ' ');
    return s === '' ? piece : s;
  }
  return piece;
}

// The RoBERTa test checkpoint's tokenizer has no merges; this one, on the same weights, is a
// byte-level BPE whose pieces need decoding: word starts (Ġ), two-byte characters (é as Ã©)
// and a lone byte of one (Ã). Its ids are checked against the Rust tokenizers library.
function bpeCheckpoint() {
  const src = path.join(ROOT, 'tests/model/families/roberta_mlm_f32'), dir = path.join(tmp, 'roberta_bpe');
  mkdirSync(dir);
  for (const f of ['config.json', 'model.safetensors', 'tokenizer_config.json']) copyFileSync(path.join(src, f), path.join(dir, f));
  const tj = JSON.parse(readFileSync(path.join(src, 'tokenizer.json'), 'utf8'));
  const vocab = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const c of [...'abcdefghijklmnopqrstuvwxyz', 'Ġ', ',', '.', 'Ã', '©']) vocab[c] = Object.keys(vocab).length;
  const merges = ['t h', 'th e', 'Ġ c', 'Ġc a', 'Ġca t', 'Ġ s', 'Ġs a', 'Ġsa t', 'Ã ©', 'Ġca f', 'Ġcaf Ã©', 'Ġ the', 'i n', 'in g'];
  for (const m of merges) vocab[m.replace(' ', '')] = Object.keys(vocab).length;
  // the config's 200 ids: unreachable fillers up to the <mask> added at 199
  while (Object.keys(vocab).length < 199) vocab[`<filler${Object.keys(vocab).length}>`] = Object.keys(vocab).length;
  vocab['<mask>'] = 199;
  tj.model.vocab = vocab;
  tj.model.merges = merges;
  writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(tj));
  return dir;
}

const FAMILY = { bert: 'bert', distilbert: 'distilbert', roberta: 'roberta', 'xlm-roberta': 'roberta', camembert: 'roberta',
  electra: 'electra', albert: 'albert' };
const CASES = [
  ['roberta_bpe', ['the cat sat', 'the café, sat.', 'caf\u00e9 thing Ã'], '<mask>'],
  ['albert_mlm_f32', ['w5 w7 w9 w12', 'w12 w150  w42'], '[MASK]'],
  ['albert_seq_bf16', ['w9 w10 w11 w12'], null],
  ['xlmr_token_f16', ['w5 w7 w9'], null],
  ['electra_disc_f32', ['the cat sat', 'hello world'], null],
  ['bert_token_f32', ['the cat sat', 'hello world'], null],
];

let worstAtt = 0, worstP = 0;
for (const [name, texts, mask] of CASES) {
  const dir = name === 'roberta_bpe' ? bpeCheckpoint() : path.join(ROOT, 'tests/model/families', name), file = path.join(tmp, `${name}.bin`);
  const cfg = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8'));
  let tj = null;
  try { tj = JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')); } catch { /* a vocab.txt model */ }
  cli(bin, 'convert', dir, '-o', file, '--dtype', 'f32');
  if (!check(core.loadModel(readFileSync(file)) === 0, `${name}: loads: ${core.error()}`)) continue;
  const info = core.info();
  check(info.family === FAMILY[cfg.model_type], `${name}: family ${info.family} (model_type ${cfg.model_type})`);
  const labels = cfg.id2label ? Object.keys(cfg.id2label).sort((a, b) => a - b).map((k) => cfg.id2label[k]) : [];
  const head = info.head;
  if (/TokenClassification|SequenceClassification/.test(cfg.architectures[0]))
    check(JSON.stringify(info.labels) === JSON.stringify(labels), `${name}: labels ${JSON.stringify(info.labels)} are config.json's id2label`);
  if (/PreTraining/.test(cfg.architectures[0])) check(head === 'electra-discriminator' || /disc/.test(head), `${name}: head ${head}`);
  if (mask) check(info.mask_token === mask && info.has_mlm, `${name}: mask token ${info.mask_token} (${mask})`);
  check(info.tokenizer === (tj ? 'tokenizer.json' : 'vocab.txt'), `${name}: tokenizer ${info.tokenizer}`);

  // pairs where the checkpoint has the type ids its post-processor gives B (the synthetic XLM-R
  // tokenizer's template gives type 1 to a model with one token type, which the CLI refuses too)
  const pairs = cfg.type_vocab_size > 1 || tj?.post_processor?.type === 'RobertaProcessing';
  const runs = texts.map((t) => [t, null]).concat(pairs ? [[texts[0], texts[texts.length - 1]]] : []);
  if (mask) runs.push([texts[0].replace(/ \S+/, ` ${mask}`), null]);
  for (const [a, b] of runs) {
    const label = `${name} ${JSON.stringify(a)}${b ? ' + ' + JSON.stringify(b) : ''}`;
    const extra = b ? ['--pair', b, a] : [a];
    const n = core.run(a, b, 5);
    if (!check(n > 0, `${label}: run: ${core.error()}`)) continue;
    const tok = cliJson(bin, 'tokenize', '-m', file, ...extra);
    if (rust && tj) {   // the tokenizer itself, as the Rust library runs it
      const enc = await rust.Tokenizer.fromString(JSON.stringify(tj)).encode(a, b ?? undefined);
      check(JSON.stringify(enc.getIds()) === JSON.stringify(core.ids()), `${label}: ids are the tokenizers library's ${enc.getIds()}`);
    }
    check(JSON.stringify(core.ids()) === JSON.stringify(tok.ids), `${label}: ids ${core.ids()} = the CLI's ${tok.ids}`);
    check(JSON.stringify(core.typeIds()) === JSON.stringify(tok.type_ids), `${label}: type ids`);
    check(JSON.stringify(core.tokens()) === JSON.stringify(tok.tokens), `${label}: pieces ${JSON.stringify(core.tokens())}`);
    const shown = Array.from({ length: n }, (_, i) => M.UTF8ToString(M._blw_token_shown(i)));
    const want = tok.tokens.map((p) => readable(p, tj));
    check(JSON.stringify(shown) === JSON.stringify(want), `${label}: readable pieces ${JSON.stringify(shown)} (${JSON.stringify(want)})`);
    if (tok.tokens.some((p) => /^(Ġ|▁)./.test(p)))
      check(tok.tokens.some((p, i) => p !== shown[i]), `${label}: some piece shows without its marker`);

    const nat = cliJson(bin, 'attention', '-m', file, ...extra), att = core.attention();
    const L = nat.layers, H = nat.heads;
    let d = 0;
    for (let l = 0; l < L; l++) for (let h = 0; h < H; h++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++)
      d = Math.max(d, Math.abs(nat.attentions[l][h][i][j] - att[((l * H + h) * n + i) * n + j]));
    worstAtt = Math.max(worstAtt, d);
    check(nat.tokens.length === n && d <= ATT_TOL, `${label}: attention max |WASM - CLI| ${d.toExponential(2)} (<= ${ATT_TOL})`);

    if (head !== 'none') {
      const cl = cliJson(bin, 'classify', '-m', file, ...extra);
      const size = M._blw_head_size(), p = M._blw_head_probs() >> 2, probs = M.HEAPF32.slice(p, p + size);
      const rows = cl.prediction ? [cl.prediction] : cl.predictions, C = cl.labels.length;
      check(size === rows.length * C, `${label}: head size ${size} = ${rows.length} × ${C}`);
      let dp = 0;
      rows.forEach((r, i) => r.probs.forEach((q, j) => { dp = Math.max(dp, Math.abs(q - probs[i * C + j])); }));
      worstP = Math.max(worstP, dp);
      check(dp <= P_TOL, `${label}: ${cl.head} probabilities max |WASM - classify| ${dp.toExponential(2)}`);
      // the prediction view: every token cell (or label bar) hit says the CLI's label and probability
      const pic = core.render({ view: VIEW_TASK, width: 700 });
      if (check(pic, `${label}: prediction view renders: ${core.error()}`)) {
        const seen = new Map();
        for (let y = 0; y < pic.h; y += 3) for (let x = 0; x < pic.w; x += 3) {
          const t = core.hit(x, y);
          if (t.kind === 'label') seen.set(`${t.from}/${t.to}`, t.value);
        }
        const want = cl.prediction ? cl.labels.map((_, j) => [`-1/${j}`, cl.prediction.probs[j]])
          : cl.predictions.map((r, i) => [`${i}/${r.probs.indexOf(Math.max(...r.probs))}`, r.p]);
        const ok = want.every(([k, v]) => seen.has(k) && Math.abs(seen.get(k) - v) <= P_TOL);
        check(ok, `${label}: prediction view hits carry classify's labels and probabilities (${want.length} of them)`);
      }
    } else check(M._blw_head_size() === 0 && M._blw_head_probs() === 0, `${label}: no task head, no probabilities`);

    if (mask && a.includes(mask)) {
      const mine = core.mlm(), fm = cliJson(bin, 'fill-mask', '-m', file, '-k', '5', a);
      check(mine.length === 1 && fm.length === 1 && mine[0].position === fm[0].position &&
        fm[0].top.every((t, r) => t.id === mine[0].top[r].id), `${label}: fill-mask at ${mask}: the CLI's top-5 ids`);
      const shownTop = mine[0].top.map((t, r) => M.UTF8ToString(M._blw_mlm_shown(r)));
      check(JSON.stringify(shownTop) === JSON.stringify(mine[0].top.map((t) => readable(t.token, tj))),
        `${label}: the choices' readable forms ${JSON.stringify(shownTop)}`);
    }
  }
}
console.log(`families: attention max |WASM - CLI| ${worstAtt.toExponential(3)}, head probabilities max |Δ| ${worstP.toExponential(3)}`);
rmSync(tmp, { recursive: true, force: true });
process.exit(summary('wasm_families'));
