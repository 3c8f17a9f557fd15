"""Checkpoint files in the work directory.

  work/checkpoints/last.pt            everything needed to resume exactly: model,
                                      optimizer, schedule step, RNG states, data
                                      position (epoch, next batch), history;
                                      rewritten every few minutes and every epoch
  work/checkpoints/step-NNNNNNN.pt    model weights + validation metrics, written
                                      at the end of every epoch (and when training
                                      stops early); the candidates for averaging
  work/averaged.pt                    written by average.py, read by export.py

Every file is written to a temporary name and renamed, so a kill never leaves
a truncated checkpoint behind.
"""

import glob
import os
import re

import torch

from model import MarianMTModel, ModelConfig


def ckpt_dir(work_dir):
    return os.path.join(work_dir, "checkpoints")


def last_path(work_dir):
    return os.path.join(ckpt_dir(work_dir), "last.pt")


def step_path(work_dir, step):
    return os.path.join(ckpt_dir(work_dir), f"step-{step:07d}.pt")


def save_atomic(obj, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def load(path):
    return torch.load(path, map_location="cpu")


def list_step_checkpoints(work_dir):
    """[(step, path)] sorted by step."""
    out = []
    for p in glob.glob(os.path.join(ckpt_dir(work_dir), "step-*.pt")):
        m = re.search(r"step-(\d+)\.pt$", p)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out)


def read_metrics(path):
    return load(path).get("metrics", {})


def prune(work_dir, keep_last, keep_best, metric="val_nll"):
    """Delete step checkpoints except the last `keep_last` and the best
    `keep_best` by `metric` (lower is better for *_nll / *_loss, higher for *_bleu)."""
    items = list_step_checkpoints(work_dir)
    keep = {p for _, p in items[-keep_last:]} if keep_last > 0 else set()
    if keep_best > 0:
        scored = []
        for _, p in items:
            v = read_metrics(p).get(metric)
            if v is not None:
                scored.append((-v if metric.endswith("bleu") else v, p))
        keep |= {p for _, p in sorted(scored)[:keep_best]}
    for _, p in items:
        if p not in keep:
            os.remove(p)


def model_from_checkpoint(path):
    ck = load(path)
    m = MarianMTModel(ModelConfig.from_dict(ck["config"]))
    m.load_state_dict(ck["model"])
    m.eval()
    return m, ck
