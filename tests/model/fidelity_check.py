#!/usr/bin/python3
"""fidelity_check.py — checks the attention fidelity that `bertlens convert` stores in a file
against an independent computation.

For each test checkpoint (tests/model/models/*, tests/model/families/*) and each dtype given:
  1. `bertlens convert DIR -o X.bin --dtype DT` (the converter measures and stores the record);
  2. the calibration inputs below, tokenized by `bertlens tokenize -m X.bin` (the model's own
     tokenizer; type ids beyond the model's token types read as 0, as the converter does);
  3. the converted file's attention: `bertlens attention -m X.bin --ids … --precision native`
     (what the page shows);
  4. the float model's attention: families.py's forward, a torch float64 restatement of
     Hugging Face's modeling code, on the checkpoint's own safetensors weights;
  5. max and mean |Δα| over every layer, head and cell of every input, which must equal the
     stored figures (the converter compares with its own f32 forward; float64 vs f32 math
     differs by ~1e-7 on probabilities), and the stored token and sequence counts must match.
A converter that compared the wrong pair of models, skipped layers, inputs or heads, averaged
differently or stored the figure wrongly fails here. Prints one line per checkpoint with the
figures; exits 1 on any mismatch.

  /usr/bin/python3 tests/model/fidelity_check.py --cli build/bertlens [--dtype int8,f16,f32] [--out DIR]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import families  # noqa: E402

# The converter's calibration text, version 1 (core/model/fidelity.c): (A, B or None).
CALIBRATION = [
    ("The cat sat on the mat.", None),
    ("Where did the committee meet last Tuesday?", "They met in the old library, next to the river, at three o'clock."),
    ("In 1905, Albert Einstein published four papers that changed physics: on the photoelectric "
     "effect, on Brownian motion, on special relativity, and on the equivalence of mass and energy. "
     "Each of them, written while he worked at the patent office in Bern, would have been enough "
     "for a career.", None),
]


def cli_json(cli, *args):
    r = subprocess.run([cli, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("bertlens %s: %s" % (" ".join(args[:3]), r.stderr.strip()))
    return json.loads(r.stdout)


def check(cli, hf_dir, dtype, out_dir):
    name = os.path.basename(hf_dir.rstrip("/"))
    path = os.path.join(out_dir, "%s.%s.bin" % (name, dtype))
    conv = cli_json(cli, "convert", hf_dir, "-o", path, "--dtype", dtype)
    info = cli_json(cli, "info", "-m", path)
    fid = info["fidelity"]
    problems = []
    if conv["fidelity"] != fid:
        problems.append("convert printed %s, info %s" % (conv["fidelity"], fid))
    if fid["status"] != "measured":
        return name, None, ["not measured: %s" % fid]
    type_vocab = info["config"]["type_vocab"]
    cfg, raw = families.load(hf_dir)
    # the same checkpoint as an f32 file: its forward is the converter's float copy's, whose own
    # distance from float64 torch bounds how far the stored figures may be from these
    # (|max|a - r1| - max|a - r2|| <= max|r1 - r2|, and the same for the mean)
    path32 = os.path.join(out_dir, "%s.f32.bin" % name)
    cli_json(cli, "convert", hf_dir, "-o", path32, "--dtype", "f32", "--no-fidelity")
    mx, total, cells, tokens = 0.0, 0.0, 0, 0
    ref_mx, ref_total = 0.0, 0.0
    for a, b in CALIBRATION:
        args = ["tokenize", "-m", path] + (["--pair", b] if b is not None else []) + [a]
        enc = cli_json(cli, *args)
        ids = enc["ids"]
        types = [t if t < max(type_vocab, 1) else 0 for t in enc["type_ids"]]
        att = cli_json(cli, "attention", "-m", path, "--precision", "native", "--ids", ",".join(map(str, ids)),
                       "--types", ",".join(map(str, types)))
        c_att = torch.tensor(att["attentions"], dtype=torch.float64)
        ref = families.forward(cfg, raw, ids, types)["attentions"].to(torch.float64)
        if c_att.shape != ref.shape:
            problems.append("attention shapes %s vs %s" % (tuple(c_att.shape), tuple(ref.shape)))
            continue
        d = (c_att - ref).abs()
        att32 = cli_json(cli, "attention", "-m", path32, "--precision", "f32", "--ids", ",".join(map(str, ids)),
                         "--types", ",".join(map(str, types)))
        d32 = (torch.tensor(att32["attentions"], dtype=torch.float64) - ref).abs()
        ref_mx = max(ref_mx, float(d32.max()))
        ref_total += float(d32.sum())
        mx = max(mx, float(d.max()))
        total += float(d.sum())
        cells += d.numel()
        tokens += len(ids)
    mean = total / cells if cells else 0.0
    ref_mean = ref_total / cells if cells else 0.0
    # the stored figures come from the converter's f32 forward of the float weights, these from
    # float64 torch: apart by at most that forward's own error (ref_mx, ref_mean: ~1e-7 on the
    # test checkpoints, ~1e-5 on heads as peaked as trained BERT's), plus the 7 printed digits
    if abs(fid["max"] - mx) > ref_mx + 2e-6:
        problems.append("stored max %.9g, independent max %.9g (f32 forward's own error %.3g)" % (fid["max"], mx, ref_mx))
    if abs(fid["mean"] - mean) > ref_mean + 2e-7:
        problems.append("stored mean %.9g, independent mean %.9g (f32 forward's own error %.3g)" % (
            fid["mean"], mean, ref_mean))
    if fid["tokens"] != tokens or fid["sequences"] != len(CALIBRATION) or fid["cells"] != cells:
        problems.append("stored %d sequences / %d tokens / %d cells, computed %d / %d / %d" % (
            fid["sequences"], fid["tokens"], fid["cells"], len(CALIBRATION), tokens, cells))
    if fid["calibration"] != 1 or fid["precision"] != "native":
        problems.append("calibration %s, precision %s" % (fid["calibration"], fid["precision"]))
    return name, (mx, mean, tokens, ref_mx), problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", required=True, help="the bertlens binary")
    ap.add_argument("--dtype", default="int8", help="comma-separated dtypes to convert to")
    ap.add_argument("--out", help="directory for the converted files (default: a temporary one)")
    ap.add_argument("dirs", nargs="*", help="checkpoints (default: every test checkpoint)")
    args = ap.parse_args()
    torch.set_default_dtype(torch.float64)
    dirs = args.dirs or [os.path.join(HERE, sub, d) for sub in ("models", "families")
                         for d in sorted(os.listdir(os.path.join(HERE, sub)))]
    out = args.out or tempfile.mkdtemp(prefix="bl-fidelity-")
    bad = 0
    for dt in args.dtype.split(","):
        for d in dirs:
            name, figs, problems = check(args.cli, d, dt, out)
            if figs:
                print("%-20s %-5s max %.6f mean %.7f (%d tokens; f32 forward vs torch %.2g)%s" % (
                    name, dt, figs[0], figs[1], figs[2], figs[3], "" if not problems else "  FAIL"))
            for p in problems:
                print("  %s %s: %s" % (name, dt, p))
            bad += bool(problems)
    print("fidelity_check: %s" % ("%d mismatches" % bad if bad else "the stored figures equal the independent ones"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
