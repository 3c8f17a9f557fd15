#!/usr/bin/python3
"""Average the weights of several step checkpoints into one model.

  --last K          the K most recent step checkpoints (default 5)
  --best K          the K best by --metric (val_bleu: highest, val_nll: lowest)
  --checkpoints F…  explicit files

Writes work/averaged.pt ({"config", "model", "averaged_from"}), which export.py reads.

Usage: /usr/bin/python3 average.py [--last 5 | --best 5 [--metric val_bleu]] [--work-dir DIR]
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoints  # noqa: E402
import data  # noqa: E402


def select(work_dir, last, best, metric):
    items = checkpoints.list_step_checkpoints(work_dir)
    if not items:
        raise data.RecipeError(f"no step checkpoints in {checkpoints.ckpt_dir(work_dir)}: run train.py first")
    if best:
        scored = []
        for _, p in items:
            v = checkpoints.read_metrics(p).get(metric)
            if v is None:
                raise data.RecipeError(f"{p} has no {metric} (train with --val-bleu-lines > 0 or use val_nll)")
            scored.append((-v if metric.endswith("bleu") else v, p))
        return [p for _, p in sorted(scored)[:best]]
    return [p for _, p in items[-last:]]


def average(paths):
    acc, config = None, None
    for p in paths:
        ck = checkpoints.load(p)
        if config is None:
            config = ck["config"]
        elif ck["config"] != config:
            raise data.RecipeError(f"{p}: different model configuration from {paths[0]}")
        sd = ck["model"]
        if acc is None:
            acc = {k: v.detach().to(torch.float64).clone() for k, v in sd.items()}
        else:
            for k, v in sd.items():
                acc[k] += v.to(torch.float64)
    return {k: (v / len(paths)).to(torch.float32) for k, v in acc.items()}, config


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work-dir", default=data.DEFAULT_WORK_DIR)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--last", type=int, default=5)
    g.add_argument("--best", type=int, default=0)
    g.add_argument("--checkpoints", nargs="+")
    p.add_argument("--metric", choices=["val_bleu", "val_nll"], default="val_bleu")
    p.add_argument("--out", default=None, help="default: WORK_DIR/averaged.pt")
    a = p.parse_args(argv)
    try:
        paths = a.checkpoints or select(a.work_dir, a.last, a.best, a.metric)
        data.require_files(paths)
        sd, config = average(paths)
    except data.RecipeError as e:
        data.die(str(e))
    out = a.out or os.path.join(a.work_dir, "averaged.pt")
    checkpoints.save_atomic({"config": config, "model": sd, "averaged_from": paths}, out)
    for path in paths:
        m = checkpoints.read_metrics(path)
        desc = ", ".join(f"{k} {m[k]:.4f}" for k in ("val_nll", "val_bleu") if k in m)
        print(f"  {os.path.basename(path)}: {desc}")
    print(f"averaged {len(paths)} checkpoints -> {out}")


if __name__ == "__main__":
    main()
