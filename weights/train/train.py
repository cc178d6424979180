"""MLM pre-training of the default bertlens model on 2 CPU cores, wall-clock scheduled.

Starts fresh or resumes from work/ckpt/last.pt. Stops itself at --stop-utc, then writes the final
checkpoint and the HF directory work/hf/. Logs to work/train.log and a table to train_log.md.
"""
import argparse
import datetime as dt
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
from model import BertForMaskedLM, Cfg, mlm_scores, save_hf  # noqa: E402

WORK = os.path.join(HERE, "work")
CKPT = os.path.join(WORK, "ckpt", "last.pt")


def utc_ts(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()


def log(msg):
    line = "%s %s" % (time.strftime("%H:%M:%S", time.gmtime()), msg)
    print(line, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stop-utc", required=True, help="e.g. 2026-11-25T21:56:00Z: training stops here")
    ap.add_argument("--lr", type=float, default=1e-3)
    data.add_step_args(ap, batch=32, long_batch=8, warmup=400, dropout=0.0, seed=20261125)
    ap.add_argument("--ckpt-every", type=float, default=600)
    ap.add_argument("--eval-every", type=float, default=600)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=0, help="debug: stop after N steps")
    ap.add_argument("--new-cycle", action="store_true",
                    help="on resume: start a second LR cycle now (warm-up again, decay to 0 at --stop-utc)")
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--intermediate", type=int, default=1024)
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--ckpt", default=CKPT)
    ap.add_argument("--hf-out", default=os.path.join(WORK, "hf"))
    ap.add_argument("--table", default=os.path.join(HERE, "train_log.md"))
    args = ap.parse_args()
    ckpt_path = args.ckpt

    torch.set_num_threads(args.threads)
    stop_at = utc_ts(args.stop_utc)
    os.makedirs(os.path.dirname(ckpt_path), exist_ok=True)

    train = data.Split("train")
    held = data.Split("heldout", weighted=False)
    eval_batches = data.fixed_eval_batches(held, n_seq=256, L=128, B=64, seed=1234)

    state = None
    if os.path.exists(ckpt_path):
        state = torch.load(ckpt_path, map_location="cpu")
        cfg = Cfg(**state["config"])
        log("resuming from %s at step %d (%.1f M tokens)" % (ckpt_path, state["step"], state["tokens"] / 1e6))
    else:
        cfg = Cfg(num_hidden_layers=args.layers, hidden_size=args.hidden,
                  num_attention_heads=args.heads, intermediate_size=args.intermediate,
                  hidden_dropout_prob=args.dropout, attention_probs_dropout_prob=args.dropout)
    torch.manual_seed(args.seed)
    model = BertForMaskedLM(cfg)
    decay, no_decay = [], []
    for n_, p in model.named_parameters():
        (no_decay if (n_.endswith("bias") or "LayerNorm" in n_) else decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    step = 0
    tokens = 0
    train_secs = 0.0
    t_first = time.time()
    history = []
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step, tokens, train_secs = state["step"], state["tokens"], state["train_secs"]
        t_first = state["t_first"]
        history = state.get("history", [])
    # An LR cycle is (start time, start step); a session that resumes after the previous cycle
    # decayed to zero may open a new one rather than continue at lr = 0.
    cycle_t, cycle_step = (state or {}).get("cycle", (t_first, 0))
    if args.new_cycle:
        cycle_t, cycle_step = time.time(), step
        log("new LR cycle at step %d: warm-up %d steps to %.1e, zero at %s" % (step, args.warmup, args.lr, args.stop_utc))
    model.train()
    nparams = sum(p.numel() for p in model.parameters())
    log("params %.2f M, config %s, args %s" % (nparams / 1e6, json.dumps(cfg.to_dict()), vars(args)))

    def save_ckpt():
        tmp = ckpt_path + ".tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                    "tokens": tokens, "train_secs": train_secs, "t_first": t_first,
                    "cycle": (cycle_t, cycle_step), "config": cfg.to_dict(), "args": vars(args), "history": history}, tmp)
        os.replace(tmp, ckpt_path)
        log("checkpoint step %d -> %s" % (step, ckpt_path))

    def write_table():
        with open(args.table, "w") as f:
            f.write("| minutes | step | tokens seen | held-out MLM loss | held-out top-1 | top-5 | lr |\n")
            f.write("|---|---|---|---|---|---|---|\n")
            for h in history:
                f.write("| %.0f | %d | %.1f M | %.3f | %.1f%% | %.1f%% | %.2e |\n" % (
                    h["minutes"], h["step"], h["tokens"] / 1e6, h["loss"], 100 * h["top1"],
                    100 * h["top5"], h["lr"]))

    def do_eval(lr):
        l, a1, a5, _ = mlm_scores(model, eval_batches)
        history.append({"minutes": (time.time() - t_first) / 60, "train_minutes": train_secs / 60, "step": step, "tokens": tokens, "loss": l,
                        "top1": a1, "top5": a5, "lr": lr, "utc": time.strftime("%H:%M:%S", time.gmtime())})
        log("EVAL minutes %.1f step %d tokens %.2fM heldout_loss %.4f top1 %.4f top5 %.4f" % (
            (time.time() - t_first) / 60, step, tokens / 1e6, l, a1, a5))
        write_table()

    if step == 0:
        do_eval(0.0)
    last_ckpt = time.time()
    last_eval = time.time()
    ema_loss = None
    t_log = time.time()
    tok_log = tokens
    lr = 0.0
    while True:
        now = time.time()
        if now >= stop_at or (args.max_steps and step >= args.max_steps):
            break
        # learning rate: linear warm-up by steps, linear decay to 0 at stop_at by wall clock
        frac_left = max(0.0, (stop_at - now) / max(1.0, stop_at - cycle_t))
        lr = args.lr * min(1.0, (step - cycle_step + 1) / args.warmup) * frac_left
        for g in opt.param_groups:
            g["lr"] = lr
        t0 = time.time()
        inp, typ, att, sel, tgt = data.step_batch(train, args, step)
        L = inp.shape[1]
        ids = torch.from_numpy(inp)
        attn = torch.from_numpy(att) if (att == 0).any() else None
        h, _ = model.encode(ids, torch.from_numpy(typ), attn)
        logits = model.logits(h[torch.from_numpy(sel)])
        loss = F.cross_entropy(logits, torch.from_numpy(tgt))
        opt.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            log("non-finite loss at step %d, skipped" % step)
            step += 1
            continue
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        tokens += int(att.sum())
        train_secs += time.time() - t0
        ema_loss = loss.item() if ema_loss is None else 0.98 * ema_loss + 0.02 * loss.item()
        if step % 50 == 0:
            dtl = time.time() - t_log
            log("step %d L %d loss %.4f (ema %.4f) lr %.2e tok/s %.0f tokens %.2fM" % (
                step, L, loss.item(), ema_loss, lr, (tokens - tok_log) / dtl, tokens / 1e6))
            t_log = time.time()
            tok_log = tokens
        if time.time() - last_eval >= args.eval_every:
            do_eval(lr)
            last_eval = time.time()
        if time.time() - last_ckpt >= args.ckpt_every:
            save_ckpt()
            last_ckpt = time.time()
    log("stopping at step %d (stop time %s reached or max steps)" % (step, args.stop_utc))
    do_eval(lr)
    save_ckpt()
    if not args.no_export:
        meta = {"steps": step, "tokens_seen": tokens, "train_minutes": round(train_secs / 60, 1),
                "final_heldout_subset": history[-1]}
        save_hf(model, args.hf_out, meta)
        log("wrote HF directory %s" % args.hf_out)


if __name__ == "__main__":
    main()
