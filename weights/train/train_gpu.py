"""The same MLM pre-training as train.py, for one CUDA GPU when one is at hand (the issue allows
a GPU-trained default model; train.py stays the CPU recipe). Same model (model.py), same data
and masking (data.py), same held-out evaluation; what changes is the scale: batches of 256 × 128
(every 10th step 64 × 512), bf16 autocast, batches built by DataLoader workers on the CPU cores,
a schedule over a fixed number of minutes instead of a stop time.

    python3 train_gpu.py --minutes 7 --out OUT_DIR          (CUDA; torch >= 2)

Writes OUT_DIR/state.safetensors (the parameters, F32, no tied copies: 45 MB for 4 × 256),
OUT_DIR/config.json, OUT_DIR/history.json (held-out subset evaluations) and logs to stdout;
import_gpu.py turns them into the HF directory that export_hf.py would write. Batch k is drawn from
numpy.random.default_rng([seed, k]) as in train.py, so a rerun sees the same data in the same
order; GPU arithmetic makes the figures equal within noise, not bit for bit.
"""
import argparse
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
from model import BertForMaskedLM, Cfg, hf_config_dict, mlm_scores, write_safetensors  # noqa: E402


def log(msg):
    print("%s %s" % (time.strftime("%H:%M:%S", time.gmtime()), msg), flush=True)


class Batches(torch.utils.data.IterableDataset):
    """Step k's batch, for k = start, start+1, …; worker w makes the steps k ≡ w (mod workers)
    and the DataLoader hands them out round-robin, i.e. in step order."""

    def __init__(self, a):
        self.a = a

    def __iter__(self):
        a = self.a
        info = torch.utils.data.get_worker_info()
        wid, nw = (info.id, info.num_workers) if info else (0, 1)
        split = data.Split("train")
        k = wid
        while True:
            yield (k, *data.step_batch(split, a, k))
            k += nw


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, required=True, help="training time; LR decays to 0 at its end")
    ap.add_argument("--out", required=True)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--lr", type=float, default=1e-3)
    data.add_step_args(ap, batch=256, long_batch=64, warmup=500, dropout=0.1, seed=20261126)
    ap.add_argument("--workers", type=int, default=12)
    ap.add_argument("--eval-every", type=float, default=60, help="seconds")
    a = ap.parse_args()

    dev = torch.device(a.device)
    torch.manual_seed(a.seed)
    if dev.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    cfg = Cfg(hidden_dropout_prob=a.dropout, attention_probs_dropout_prob=a.dropout)
    model = BertForMaskedLM(cfg).to(dev)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("bias") or "LayerNorm" in n)]
    rest = [p for n, p in model.named_parameters() if n.endswith("bias") or "LayerNorm" in n]
    fused = {"fused": True} if dev.type == "cuda" else {}
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": a.wd}, {"params": rest, "weight_decay": 0.0}],
                            lr=a.lr, betas=(0.9, 0.98), eps=1e-6, **fused)
    held = data.Split("heldout", weighted=False)
    eval_batches = data.fixed_eval_batches(held, n_seq=256, L=128, B=64, seed=1234)
    more = {"prefetch_factor": 8, "persistent_workers": True} if a.workers else {}
    loader = torch.utils.data.DataLoader(Batches(a), batch_size=None, num_workers=a.workers, **more)
    log("params %.2f M, %s, args %s" % (sum(p.numel() for p in model.parameters()) / 1e6,
                                        torch.cuda.get_device_name() if dev.type == "cuda" else "cpu", vars(a)))
    history, tokens, step = [], 0, 0
    t0 = time.time()
    duration = a.minutes * 60
    last_eval = t0
    it = iter(loader)

    best = {"loss": float("inf")}

    def do_eval(lr):
        l, t1, t5, _ = mlm_scores(model, eval_batches, dev)
        history.append({"seconds": time.time() - t0, "step": step, "tokens": tokens, "loss": l,
                        "top1": t1, "top5": t5, "lr": lr})
        # many passes over an 11 M-token corpus: keep the parameters of the best held-out-subset
        # loss in case the last minutes overfit (the final report uses other held-out sequences)
        if l < best["loss"]:
            best.update(loss=l, step=step, tokens=tokens,
                        state={k: v.detach().clone() for k, v in model.state_dict().items()})
        log("EVAL %.0f s step %d tokens %.1fM heldout_loss %.4f top1 %.4f top5 %.4f"
            % (time.time() - t0, step, tokens / 1e6, l, t1, t5))

    do_eval(0.0)
    lr = 0.0
    while True:
        el = time.time() - t0
        if el >= duration:
            break
        lr = a.lr * min(1.0, (step + 1) / a.warmup) * max(0.0, 1.0 - el / duration)
        for g in opt.param_groups:
            g["lr"] = lr
        # (the DataLoader has already turned the numpy arrays into tensors)
        k, inp, typ, att, sel, tgt = next(it)
        assert int(k) == step, (k, step)
        ids = inp.to(dev, non_blocking=True)
        attn = att.to(dev, non_blocking=True) if bool((att == 0).any()) else None
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=dev.type == "cuda"):
            h, _ = model.encode(ids, typ.to(dev, non_blocking=True), attn)
            logits = model.logits(h[sel.to(dev, non_blocking=True)])
        loss = F.cross_entropy(logits.float(), tgt.to(dev, non_blocking=True))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += int(att.sum())
        if step % 200 == 0:
            log("step %d loss %.4f lr %.2e tokens %.1fM tok/s %.0f" % (step, loss.item(), lr, tokens / 1e6,
                                                                       tokens / (time.time() - t0)))
        if time.time() - last_eval >= a.eval_every:
            do_eval(lr)
            last_eval = time.time()
    do_eval(lr)
    log("best held-out subset loss %.4f at step %d (last step %d)" % (best["loss"], best["step"], step))
    model.load_state_dict(best["state"])
    model.cpu()
    os.makedirs(a.out, exist_ok=True)
    write_safetensors(os.path.join(a.out, "state.safetensors"), model.state_dict())
    cfg_out = hf_config_dict(model.config)
    cfg_out["bertlens_training"] = {"trained_by": "train_gpu.py", "steps": best["step"],
                                    "tokens": best["tokens"], "minutes": duration / 60}
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(cfg_out, f, indent=2)
    with open(os.path.join(a.out, "history.json"), "w") as f:
        json.dump({"args": vars(a), "steps": step, "tokens": tokens, "seconds": time.time() - t0,
                   "kept": {"step": best["step"], "tokens": best["tokens"], "heldout_subset_loss": best["loss"]},
                   "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
                   "torch": torch.__version__, "history": history}, f, indent=1)
    log("done: %d steps, %.1f M tokens, wrote %s" % (step, tokens / 1e6, a.out))


if __name__ == "__main__":
    main()
