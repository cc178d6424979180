#!/bin/sh
# card_figures.sh — the measured parts of weights/MODEL_CARD.md for the shipped model:
# the training summary (GPU run's history.json and/or the CPU run's checkpoint), the held-out evaluation (heldout_eval_summary.json,
# written by evaluate.py), a dozen fill-mask examples and three attention pictures drawn by
# `bertlens render` into docs/. Prints Markdown to paste into the card.
#   weights/train/card_figures.sh [CLI]        (default build/bertlens; run from anywhere)
set -eu
cd "$(dirname "$0")/../.."
CLI=${1:-build/bertlens}
PY=/usr/bin/python3

echo "## Training summary"
$PY - <<'PY'
import json, os
t = json.load(open("weights/train/heldout_eval_summary.json")).get("training", {})
if t.get("trained_by") == "train_gpu.py" and os.path.exists("weights/train/work/gpu/history.json"):
    h = json.load(open("weights/train/work/gpu/history.json"))
    print("- GPU run (train_gpu.py on %s, torch %s): %d steps, %.1f M tokens, %.1f min wall clock;"
          " kept step %d" % (h["device"], h["torch"], h["steps"], h["tokens"] / 1e6, h["seconds"] / 60,
                             h["kept"]["step"]))
    print("\n| seconds | step | tokens seen | held-out MLM loss | held-out top-1 | top-5 |\n|---|---|---|---|---|---|")
    for e in h["history"]:
        print("| %.0f | %d | %.1f M | %.3f | %.1f%% | %.1f%% |" % (e["seconds"], e["step"], e["tokens"] / 1e6,
              e["loss"], 100 * e["top1"], 100 * e["top5"]))
if os.path.exists("weights/train/work/ckpt/last.pt"):
    import torch
    s = torch.load("weights/train/work/ckpt/last.pt", map_location="cpu")
    h = s["history"][-1]
    print("- CPU recipe run (train.py, work/ckpt/last.pt): %d steps, %.2f M tokens, %.1f min of steps;"
          " held-out subset loss %.3f, top-1 %.1f%%, top-5 %.1f%%"
          % (s["step"], s["tokens"] / 1e6, s["train_secs"] / 60, h["loss"], 100 * h["top1"], 100 * h["top5"]))
PY

echo
echo "## Held-out evaluation (weights/train/heldout_eval_summary.json)"
$PY - <<'PY'
import json
s = json.load(open("weights/train/heldout_eval_summary.json"))
m, f = s["heldout_mlm"], s["fill_mask_sample"]
print("- held-out MLM: %d sequences, %d masked tokens: loss %.3f, top-1 %.1f%%, top-5 %.1f%%"
      % (m["sequences"], m["masked_tokens"], m["loss"], 100 * m["top1"], 100 * m["top5"]))
print("- fill-mask sample: %d sentences, %d masks: top-1 %.1f%%, top-5 %.1f%%"
      % (f["sentences"], f["masks"], 100 * f["top1"], 100 * f["top5"]))
PY

echo
echo "## Fill-mask examples (bertlens fill-mask -k 3, int8)"
echo
echo "| input | top 3 (p) |"
echo "|---|---|"
while IFS= read -r line; do
  [ -n "$line" ] || continue
  $CLI fill-mask -k 3 "$line" | $PY -c '
import json, sys
text = sys.argv[1]
for m in json.load(sys.stdin):
    print("| %s | %s |" % (text.replace("|", "\\|"),
          ", ".join("%s (%.2f)" % (t["token"], t["p"]) for t in m["top"])))
' "$line"
done <<'EOF'
The capital of France is [MASK].
She opened the [MASK] and walked into the room.
The file could not be [MASK] because the disk was full.
In the beginning God created the heaven and the [MASK].
Python is a popular programming [MASK].
He drank a cup of [MASK] before going to work.
The [MASK] barked at the stranger all night.
Use the git [MASK] command to record changes to the repository.
The kernel [MASK] was loaded at boot time.
I love you more than [MASK] can say.
The sun rises in the [MASK] and sets in the west.
Run the command as [MASK] to install the package.
EOF

echo
echo "## Attention pictures (docs/model-*.png)"
S="The cat sat on the mat because it was tired."
$CLI render "$S" --view heatmap --layer 0 --head mean --width 560 -o docs/model-heatmap-layer0-mean.png
$CLI render "$S" --view model --width 900 -o docs/model-all-heads.png
$CLI render "$S" --view head --layer 2 --head mean --width 560 -o docs/model-head-layer2.png
ls -l docs/model-*.png
