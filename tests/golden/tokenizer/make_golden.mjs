#!/usr/bin/env node
// make_golden.mjs — golden data for tests/test_tokenizer.c from an implementation independent
// of ours: @huggingface/tokenizers (the JS port of HF tokenizers, devDependency in
// package.json), loading a tokenizer.json that buildTokenizerJson() below builds from vocab.txt
// exactly as HF's BertTokenizerFast serialises one (BertNormalizer, BertPreTokenizer, WordPiece
// "##"/100/[UNK], TemplateProcessing, the five added special tokens, normalized: false).
//
//   npm install            (once, repo root)
//   node tests/golden/tokenizer/make_golden.mjs
//
// Writes uncased.jsonl (weights/vocab-bert-base-uncased.txt) and cased.jsonl (that vocab plus
// cased-extra.txt appended, ids 30522...), one case per line:
//   {"opts":{"lowercase":1,"strip_accents":-1,"chinese_chars":1},"a":…,"b":…|null,"max_len":0,
//    "ids":[…],"type_ids":[…],"tokens":[…],"truncated":false}
//
// The JS library has no truncation, so for max_len > 0 this script encodes A and B alone and
// truncates them with HF's 'longest_first' loop as written in transformers'
// truncate_sequences (one token at a time from the longer; from B on ties).
//
// Known deviations of tokenizers.js 0.2.0 from HF (Rust and Python) — inputs that hit them are
// left out of the golden and covered by hand-checked unit tests in test_tokenizer.c instead:
//   * is_control tests Cc|Cf|Co|Cs; HF drops every C* char, including unassigned (Cn) ones.
//   * tokenize_chinese_chars walks UTF-16 units, so CJK ideographs above U+FFFF (Ext. B…)
//     are not isolated.
//   * its Unicode tables are node's (ICU, Unicode 15+); ours are Python 3.11's 14.0.0. The
//     random pools below only use characters assigned long before 14.0.
//   * a section that *after normalization* equals "[MASK]" etc. is taken as the special token
//     (HF only matches normalized:false tokens in the raw text).
//   * text_pair "" is treated as no pair (HF: an empty second sequence).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tokenizer } from '@huggingface/tokenizers';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export function readVocab(file) {
  const txt = fs.readFileSync(file, 'utf8');
  const lines = txt.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.replace(/\r$/, ''));
}

export function casedVocab() {
  const base = readVocab(path.join(ROOT, 'weights/vocab-bert-base-uncased.txt'));
  const extra = readVocab(path.join(HERE, 'cased-extra.txt'));
  const seen = new Set(base);
  for (const t of extra) if (seen.has(t)) throw new Error(`cased-extra.txt: ${t} already in the vocab`);
  return base.concat(extra);
}

// tokenizer.json as HF's BertTokenizerFast writes it.
export function buildTokenizerJson(tokens, opts) {
  const vocab = {};
  tokens.forEach((t, i) => { if (!(t in vocab)) vocab[t] = i; });
  const id = (t) => vocab[t];
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIALS.map((t) => ({
      id: id(t), content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true,
    })).sort((x, y) => x.id - y.id),
    normalizer: {
      type: 'BertNormalizer', clean_text: true, handle_chinese_chars: !!opts.chinese_chars,
      strip_accents: opts.strip_accents < 0 ? null : !!opts.strip_accents, lowercase: !!opts.lowercase,
    },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
               { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
             { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } },
             { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [id('[CLS]')], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [id('[SEP]')], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##',
      max_input_chars_per_word: 100, vocab,
    },
  };
}

function makeTokenizer(tokens, opts) {
  return new Tokenizer(buildTokenizerJson(tokens, opts), {
    do_lower_case: !!opts.lowercase, model_max_length: 512, tokenizer_class: 'BertTokenizer',
  });
}

// transformers' truncate_sequences, 'longest_first'
function longestFirst(ids, pair, toRemove) {
  ids = ids.slice(); pair = pair ? pair.slice() : null;
  for (let i = 0; i < toRemove; i++) {
    if (pair === null || ids.length > pair.length) ids.pop(); else pair.pop();
  }
  return [ids, pair];
}

function encodeCase(tok, c) {
  const a = c.a, b = c.b ?? null;
  if (!c.max_len) {
    const r = tok.encode(a, { text_pair: b, return_token_type_ids: true });
    return { ids: r.ids, type_ids: r.token_type_ids, tokens: r.tokens, truncated: false };
  }
  const ea = tok.encode(a, { add_special_tokens: false });
  const eb = b !== null ? tok.encode(b, { add_special_tokens: false }) : null;
  const nspecial = b !== null ? 3 : 2;
  const total = ea.ids.length + (eb ? eb.ids.length : 0);
  const toRemove = Math.max(0, total + nspecial - c.max_len);
  const [ta, tb] = longestFirst(ea.tokens, eb ? eb.tokens : null, toRemove);
  const tokens = ['[CLS]', ...ta, '[SEP]', ...(tb ? [...tb, '[SEP]'] : [])];
  const type_ids = [...Array(ta.length + 2).fill(0), ...(tb ? Array(tb.length + 1).fill(1) : [])];
  const ids = tokens.map((t) => tok.token_to_id(t));
  return { ids, type_ids, tokens, truncated: toRemove > 0 };
}

// ------------------------------------------------------------------ cases
// Deterministic PRNG (mulberry32) so the golden file is reproducible.
function rng(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['the', 'The', 'quick', 'brown', 'fox', 'JUMPS', 'over', 'lazy', 'dog', 'unaffable',
  'tokenization', 'Paris', 'café', 'Café', 'naïve', 'résumé', 'Straße', 'ΟΔΥΣΣΕΥΣ', 'Σίσυφος',
  'Москва', 'привет', 'İstanbul', 'ǅemal', 'ﬁnance', 'Ωmega', '東京', '日本語', '中文', '한국어',
  'ひらがな', 'カタカナ', 'عربى', 'हिन्दी', 'ไทย', 'e\u0301', 'a\u0308\u0304', '1,234.56', '$100',
  "don't", 'e-mail', 'U.S.A.', '[MASK]', '[CLS]', '[SEP]', '[UNK]', '[PAD]', '[mask]', '😀', '👍🏽',
  'x²', '½', '™', '©', '€5', '¿Qué?', '«quote»', '—', '…', '‘single’', '“double”', 'hello_world',
  '@user', '#hashtag', 'a+b=c', '<tag>', '{x}', '|pipe|', '~tilde', '`tick`', '^caret', 'Ǆ', 'ǈ',
  'ΑΣ', 'ΑΣ.', "ΑΣ'Α", 'Σ', 'ΣΑ', 'ΆΣ\u0301', 'ꙮ', 'ɐ', 'Ⅻ', 'ⓐ', 'Ⓐ', '𝐀𝐁', 'ᾈ', 'ῼ', 'ﬀ'];
const SEPS = [' ', ' ', ' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u2009', '\u2028', '',
  '\u200b', '\u200d', '\u00ad', '\u0007', '\u007f', '\ufeff', '\ue000', '.', ',', '!', '?', '-'];

function randomCases(n, seed) {
  const r = rng(seed);
  const pick = (arr) => arr[Math.floor(r() * arr.length)];
  const out = [];
  for (let i = 0; i < n; i++) {
    const len = 1 + Math.floor(r() * 8);
    let s = '';
    for (let k = 0; k < len; k++) s += pick(WORDS) + pick(SEPS);
    const c = { a: s };
    if (r() < 0.25) c.b = pick(WORDS) + ' ' + pick(WORDS) + pick(SEPS) + pick(WORDS);
    if (r() < 0.2) c.max_len = 3 + Math.floor(r() * 12);
    out.push(c);
  }
  return out;
}

const FIXED = [
  // ordinary English
  'Hello, world!', 'The quick brown fox jumps over the lazy dog.',
  'I love Paris in the springtime.', 'BERT attention visualizer', 'unaffable', 'tokenization',
  "It's a dog's life, isn't it?", 'Mr. Smith went to Washington D.C. on 3/14/2015 at 9:30am.',
  'The price is $1,234.56 (about €1,100).', 'e-mail me at john.doe@example.com',
  'https://huggingface.co/bert-base-uncased?x=1&y=2#frag', 'HELLO WORLD', 'hElLo WoRlD',
  'supercalifragilisticexpialidocious', 'antidisestablishmentarianism', 'Pneumonoultramicroscopic',
  'The year 1984 and 2001: A Space Odyssey', 'snake_case and camelCase and kebab-case',
  'C++ and C# and F#', '100% sure!!!', '...', '?!?!', 'a.b.c.d', "'quoted' \"double\"",
  // empty and whitespace only
  '', ' ', '   ', '\t\n\r', '\u00a0\u2000\u3000', '\u2028\u2029',
  // cleaning: NUL, U+FFFD, controls (Cc, Cf, Co), whitespace variants
  'a\u0000b', 'a\ufffdb', '\ufffd', 'a\u0001b\u0002c', 'a\u007fb', 'x\u0085y', 'tab\there',
  'line\nbreak', 'crlf\r\nend', 'zero\u200bwidth', 'zw\u200djoiner', 'soft\u00adhyphen',
  'bom\ufeffinside', 'lrm\u200emark', 'private\ue000use', 'a\u000bb\u000cc', 'a\u001cb\u001fc',
  'nbsp\u00a0here', 'em\u2003space', 'ideo\u3000space', 'ogham\u1680space', 'nnbsp\u202fx',
  'line\u2028sep', 'para\u2029sep', 'mongolian\u180evs',
  // CJK ideographs (BMP ranges, incl. Ext A and compatibility) vs other CJK-ish scripts
  '日本語のテキスト', '中文分词测试', 'abc中def', '東京タワー', '\u3400\u4dbf', '\uf900\ufa0e\ufad9',
  '한국어 텍스트', 'ひらがなカタカナ', '漢字かな交じり文', '汉字123汉字', '(中)', '中,文',
  // lowercase: full mappings, final sigma, special cases
  'ΟΔΥΣΣΕΥΣ', 'ΣΑΣ', 'Σ', 'ΑΣ', 'ΑΣ Β', 'ΑΣ.Β', "ΑΣ'Β", 'ΑΣ\u0301', 'Α\u0301Σ', 'ΑΣ\u0301Β',
  '1Σ', 'ΑΣ1', 'ΑΣ\u00adΒ', 'Σ\u00adΑ', 'ᾈΣ', 'ΑΣ-Β', 'ΑΣ:Β', 'ΑΣΣ', 'ΑΣΣΣ Σ ΣΑ',
  'İstanbul', 'İ', 'DİYARBAKIR', 'ǅ ǈ ǋ Ǆ', 'ß ẞ', 'Ω Ω K Å', 'ﬀ ﬁ ﬃ', 'ᾼ ῌ ῼ',
  'ⒶⒷⒸ', 'ⅩⅪⅫ', 'ＡＢＣ ａｂｃ', '𐐀𐐁', '𝐀𝐁𝐂', 'ΜΆΪΟΣ', 'Ꙋ', 'Ᵹ', 'Ɦ', 'Ꞵ',
  // accents: precomposed, combining, multiple marks, Mn with ccc 0, Hangul
  'café', 'cafe\u0301', 'résumé naïve façade', 'Crème Brûlée', 'Ångström', 'Ñandú', 'Łódź',
  'e\u0301\u0300\u0302', 'a\u0308\u0304', 'o\u0338', 'ǖǘǚǜ', 'ṩ ṩ', 'Ḉ', 'ᾂ', 'ἀΐ',
  'क्षत्रिय', 'हिन्दी', 'தமிழ்', 'ไทย ภาษา', 'עִבְרִית', 'العَرَبِيَّة', 'tiếng Việt',
  '한', '갂', '\u1100\u1161\u11a8', 'ᄒ', '\u0958\u0959', '\u0f43\u0f73', '\u0b48\u0b4b',
  '\u0344\u0340\u0341', '\u{1D15E}\u{1D160}', 'x\u0301', '\u0301', '\u0301\u0301abc',
  // punctuation: ASCII incl. symbols, Unicode P*, non-P symbols
  '!"#$%&\'()*+,-./', ':;<=>?@', '[\\]^_`', '{|}~', '¡¿«»', '–—―', '‘’‚‛“”„‟', '†‡•‣․‥…',
  '‰′″‴', '§¶', '〈〉《》「」『』【】', '。、・', '！？', '©®™', '€£¥₹', '°±×÷', '→←↑↓',
  '😀 😃 😄', '👍🏽', '👨‍👩‍👧', '♥♠', '∑∏∫', '½¾', 'x² y³', '№', '℃', 'ﷺ',
  // special tokens in the raw text
  '[MASK]', 'The capital of France is [MASK].', 'a[MASK]b', '[MASK][MASK]', '[CLS] x [SEP]',
  '[UNK] [PAD]', '[mask]', '[Mask]', '[MASK', 'MASK]', '[[MASK]]', 'x [SEP] y', '[SEP][CLS]',
  'Paris is the [MASK] of France.', 'ΑΣ[MASK]', 'café[MASK]café',
  // WordPiece: pieces, unknown pieces, long words (100 chars)
  'unaffableness', 'xqzvbnm', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
  'a'.repeat(100), 'a'.repeat(101), 'é'.repeat(100), 'é'.repeat(101), 'e\u0301'.repeat(100),
  'ab'.repeat(50) + ' ok', '中'.repeat(150), 'x'.repeat(99) + '.', 'İ'.repeat(60),
  'bertlens', 'transformers', 'huggingface', 'GPT-4o', 'iPhone15ProMax', '2024-01-01T12:00:00Z',
];

const PAIRS = [
  ['Who was Jim Henson?', 'Jim Henson was a puppeteer.'],
  ['How old are you?', "I'm 6 years old."],
  ['', 'only b'], ['only a', ' '], ['[MASK] is', 'a [MASK]'], ['café', 'CAFÉ'], ['中文', '日本'],
  ['The cat sat on the mat.', 'The dog lay on the rug.'], ['ΑΣ', 'ΣΑ'],
];

const TRUNC = [
  { a: 'one two three four five six seven', max_len: 5 },
  { a: 'one two three', max_len: 2 }, { a: 'one two three', max_len: 3 },
  { a: 'one two three', max_len: 5 }, { a: 'one two three', max_len: 6 },
  { a: 'a b c d e f g h', b: 'i j', max_len: 8 }, { a: 'a b', b: 'c d e f g h i j', max_len: 8 },
  { a: 'a b c d e', b: 'f g h i j', max_len: 10 }, { a: 'a b c d e', b: 'f g h i j', max_len: 9 },
  { a: 'a b c d e', b: 'f g h i j', max_len: 3 }, { a: 'a b c d e', b: 'f g h i j', max_len: 4 },
  { a: 'a b c d e f', b: 'g h i j k', max_len: 10 }, { a: 'unaffable tokenization', b: 'x', max_len: 6 },
  { a: 'The quick brown fox jumps over the lazy dog', b: 'and then it slept', max_len: 12 },
  { a: 'short', b: 'a much longer second sentence with many many words in it', max_len: 9 },
  { a: '中文分词测试中文分词测试', b: '日本語', max_len: 7 }, { a: 'x', b: '', max_len: 4 },
];

const UNCASED = { lowercase: 1, strip_accents: -1, chinese_chars: 1 };
const OPTS_MORE = [
  { lowercase: 1, strip_accents: 0, chinese_chars: 1 },
  { lowercase: 1, strip_accents: 1, chinese_chars: 0 },
];
const CASED = { lowercase: 0, strip_accents: -1, chinese_chars: 1 };
const CASED_MORE = [
  { lowercase: 0, strip_accents: 1, chinese_chars: 1 },
  { lowercase: 0, strip_accents: 0, chinese_chars: 0 },
];

const CASED_TEXTS = [
  'Hello World', 'hello world', 'HELLO', 'The Quick Brown Fox', 'Paris is in France.', 'Café',
  'café', 'CAFÉ', 'cafe\u0301', 'naïve Naïve', 'Ελληνικά', 'ΟΔΥΣΣΕΥΣ', 'İstanbul', 'Straße',
  'Ångström', 'Crème Brûlée', 'The [MASK] sat.', 'ÉCOLE école Ecole', 'Zürich Über', 'Ωmega',
  'München', 'São Paulo', 'Göteborg Malmö', 'Dvořák', '東京 Tokyo', 'ΑΣ Σ', 'McDonald', 'iPhone',
];

function build() {
  const uncasedTokens = readVocab(path.join(ROOT, 'weights/vocab-bert-base-uncased.txt'));
  const casedTokens = casedVocab();
  const jobs = [];
  const add = (file, tokens, opts, cases) => jobs.push({ file, tokens, opts, cases });

  const uncasedCases = [...FIXED.map((a) => ({ a })), ...PAIRS.map(([a, b]) => ({ a, b })),
    ...TRUNC, ...randomCases(120, 1)];
  add('uncased.jsonl', uncasedTokens, UNCASED, uncasedCases);
  for (const o of OPTS_MORE) add('uncased.jsonl', uncasedTokens, o, [...FIXED.slice(80, 150).map((a) => ({ a })), ...randomCases(30, 2)]);
  const casedCases = [...CASED_TEXTS.map((a) => ({ a })), ...FIXED.map((a) => ({ a })),
    ...PAIRS.map(([a, b]) => ({ a, b })), ...TRUNC, ...randomCases(80, 3)];
  add('cased.jsonl', casedTokens, CASED, casedCases);
  for (const o of CASED_MORE) add('cased.jsonl', casedTokens, o, [...CASED_TEXTS.map((a) => ({ a })), ...randomCases(30, 4)]);

  const files = {};
  for (const j of jobs) {
    const tok = makeTokenizer(j.tokens, j.opts);
    for (const c of j.cases) {
      if (c.b === '') continue;            // tokenizers.js: "" pair = no pair (HF differs)
      const r = encodeCase(tok, c);
      if (r.ids.some((x) => x === undefined)) throw new Error(`unknown token in ${JSON.stringify(c)}`);
      const line = JSON.stringify({ opts: j.opts, a: c.a, b: c.b ?? null, max_len: c.max_len ?? 0, ...r });
      (files[j.file] ??= []).push(line);
    }
  }
  for (const [f, lines] of Object.entries(files)) {
    fs.writeFileSync(path.join(HERE, f), lines.join('\n') + '\n');
    console.log(`wrote ${f}: ${lines.length} cases`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) build();
