#!/usr/bin/python3
"""Measure training throughput (target tokens per second) of model sizes on
real Multi30k batches, to choose the size that fits the time budget.

For each size: a few warm-up updates, then --steps timed updates (forward,
backward, Adam step) on randomly chosen training batches of --max-tokens.
Prints wall-clock and CPU-time throughput and the estimated minutes per epoch
(the whole training set once).  CPU time is reported because wall time is
meaningless when other processes compete for the cores.

Usage: /usr/bin/python3 bench.py [--threads 2] [--steps 10] [--sizes 256:3:3:1024 256:4:4:1024 ...]
  size = d_model:encoder_layers:decoder_layers:ffn (heads from --heads)
"""

import argparse
import os
import random
import sys
import time

if __name__ == "__main__":  # before torch is imported: route GEMMs to oneDNN (see fastblas.py)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fastblas
    fastblas.enable()

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from model import MarianMTModel, ModelConfig, count_parameters  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work-dir", default=data.DEFAULT_WORK_DIR)
    p.add_argument("--data-dir", default=data.DEFAULT_DATA_DIR)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--max-tokens", type=int, default=4096)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--sizes", nargs="+", default=["256:3:3:1024", "256:4:4:1024"])
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    try:
        data.require_corpus(a.data_dir, ["train"])
        tok = data.Tokenizer(a.work_dir)
    except data.RecipeError as e:
        data.die(str(e))
    pairs = data.load_parallel(tok, a.data_dir, "train", 0, 128)
    epoch_tgt = sum(len(t) for _, t in pairs)
    batches = data.make_batches(pairs, a.max_tokens, 1, 0)
    rng = random.Random(0)
    print(f"{len(pairs)} pairs, {epoch_tgt} target tokens per epoch, {len(batches)} batches of <= {a.max_tokens} "
          f"tokens; threads {a.threads}")
    for spec in a.sizes:
        d, el, dl, ffn = (int(x) for x in spec.split(":"))
        torch.manual_seed(0)
        c = ModelConfig(vocab_size=tok.size, pad_token_id=tok.pad_id, d_model=d, encoder_layers=el,
                        decoder_layers=dl, encoder_attention_heads=a.heads, decoder_attention_heads=a.heads,
                        encoder_ffn_dim=ffn, decoder_ffn_dim=ffn)
        m = MarianMTModel(c)
        m.train()
        opt = torch.optim.Adam(m.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
        ntok = 0
        for i in range(a.warmup + a.steps):
            if i == a.warmup:
                w0, c0, ntok = time.time(), time.process_time(), 0
            b = data.collate(pairs, rng.choice(batches), tok.pad_id, tok.pad_id)
            h = m(b["input_ids"], b["attention_mask"], b["decoder_input_ids"])
            sel = b["labels"] != tok.pad_id
            loss = F.cross_entropy(m.logits(h[sel]), b["labels"][sel], label_smoothing=0.1)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
            opt.step()
            ntok += int(sel.sum())
        wall, cpu = time.time() - w0, time.process_time() - c0
        print(f"{spec}: {count_parameters(m) / 1e6:.2f}M params | wall {ntok / wall:.0f} tgt tok/s "
              f"({epoch_tgt / (ntok / wall) / 60:.1f} min/epoch) | cpu {ntok / cpu:.0f} tgt tok per cpu-s "
              f"| {wall / a.steps:.2f} s/update", flush=True)


if __name__ == "__main__":
    main()
