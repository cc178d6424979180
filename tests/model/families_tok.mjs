// families_tok.mjs — token ids for the ALBERT and XLM-R test checkpoints' tokenizer.json files
// (tests/model/families/*/tokenizer.json, written by families.py), from the Rust tokenizers
// library itself (npm @anush008/tokenizers), for test_families' CLI check that text runs
// through the tokenizer.json stored in the converted weights file.
//   node tests/model/families_tok.mjs > tests/model/golden_families/tokenize.txt
// Output: one line per case: MODEL<TAB>TEXT<TAB>ids comma-separated.
import { createRequire } from 'module';
import { readFileSync } from 'fs';
import path from 'path';
import { fileURLToPath } from 'url';
const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tk = require(path.join(here, '../../node_modules/@anush008/tokenizers'));
const cases = [
  ['albert_mlm_f32', 'w5 [MASK] w7'],
  ['albert_mlm_f32', 'w12 w150  w42'],
  ['albert_seq_bf16', 'w9 w10 w11 w12'],
  ['xlmr_token_f16', 'w5 w7 w9'],
];
for (const [model, text] of cases) {
  const tok = tk.Tokenizer.fromString(readFileSync(path.join(here, 'families', model, 'tokenizer.json'), 'utf8'));
  const enc = await tok.encode(text);
  process.stdout.write(`${model}\t${text}\t${enc.getIds().join(',')}\n`);
}
