#!/usr/bin/python3
"""default_golden.py — golden outputs for the SHIPPED default model (weights/manifest.json).

The shipped file is int8; `bertlens --precision f32` runs it with dequantized weights. So the
reference must see exactly those weights: this script asks the CLI to export the shipped model
as a Hugging Face directory (F32, dequantized; `bertlens export-hf`), tokenizes a few sentences
with the recipe's independent Python tokenizer (weights/train/bert_tokenize.py), and runs
tests/model/reference.py's torch float64 forward on them. Output: tests/model/golden/default.*,
read by tests/test_bert.c (f32 path within 1e-4, native int8 path within 2e-2).

    /usr/bin/python3 tests/model/default_golden.py [build/bertlens]
Run it again whenever the shipped model changes (tools/ship_model.sh does).
"""
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(ROOT, "weights", "train"))
import reference  # noqa: E402
from bert_tokenize import BertTokenizer  # noqa: E402

SENTENCES = [
    ("The cat sat on the mat because it was tired.", None),
    ("The capital of France is [MASK].", None),
    ("She opened the door and [MASK] into the room.", "Nobody was there."),
    ("In the beginning God created the heaven and the earth. And the earth was without form, "
     "and void; and darkness was upon the face of the deep. The package manager installs the "
     "software, resolves its dependencies and keeps the system up to date.", None),
    ("A", None),
]


def main():
    cli = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bertlens")
    tok = BertTokenizer(os.path.join(ROOT, "weights", "vocab-bert-base-uncased.txt"))
    cases = []
    for a, b in SENTENCES:
        enc = tok.encode(a, b)
        mlm = [i for i, t in enumerate(enc["tokens"]) if t == "[MASK]"]
        cases.append((enc["ids"], enc["type_ids"], mlm))
    torch.set_default_dtype(torch.float64)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([cli, "export-hf", "-o", d], check=True, stdout=subprocess.DEVNULL)
        reference.write_golden("default", hf_dir=d, cases=cases)


if __name__ == "__main__":
    main()
