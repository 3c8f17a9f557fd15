#!/usr/bin/python3
"""Write a trained model as a Hugging Face MarianMT directory (what heed loads).

Reads work/averaged.pt (average.py) or any checkpoint (--checkpoint), plus
source.spm / target.spm / vocab.json from the work directory, and writes to
--out (default models/multi30k-en-de/a/, the shipped ensemble's first member):
  config.json, generation_config.json, tokenizer_config.json,
  special_tokens_map.json, vocab.json, source.spm, target.spm,
  model.safetensors (HF tensor names; F16 by default; tied lm_head not stored).

Fails when model.safetensors exceeds --max-mb (default 25).

Usage: /usr/bin/python3 export.py [--checkpoint work/averaged.pt] [--out DIR] [--dtype f16|f32]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoints  # noqa: E402
import data  # noqa: E402
from hf_format import write_model_dir  # noqa: E402
from model import ModelConfig  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work-dir", default=data.DEFAULT_WORK_DIR)
    p.add_argument("--checkpoint", default=None, help="default: WORK_DIR/averaged.pt")
    p.add_argument("--out", default=data.DEFAULT_EXPORT_DIR)
    p.add_argument("--dtype", choices=["f16", "f32"], default="f16")
    p.add_argument("--num-beams", type=int, default=4, help="generation_config num_beams (see choose_beam.py)")
    p.add_argument("--max-length", type=int, default=256, help="generation_config max_length")
    p.add_argument("--max-mb", type=float, default=25.0, help="fail if model.safetensors is larger (MB)")
    a = p.parse_args(argv)
    ckpt = a.checkpoint or os.path.join(a.work_dir, "averaged.pt")
    try:
        data.require_files([ckpt], "run average.py first, or pass --checkpoint")
        data.require_files([os.path.join(a.work_dir, n) for n in ("source.spm", "target.spm", "vocab.json")],
                           "run prepare.py first")
        ck = checkpoints.load(ckpt)
        config = ModelConfig.from_dict(ck["config"])
        path = write_model_dir(a.out, ck["model"], config, a.work_dir, a.dtype, a.num_beams, a.max_length)
    except data.RecipeError as e:
        data.die(str(e))
    size = os.path.getsize(path)
    print(f"wrote {a.out} from {ckpt}: model.safetensors {size / 1e6:.2f} MB ({a.dtype}), "
          f"num_beams {a.num_beams}, max_length {a.max_length}")
    if size > a.max_mb * 1e6:
        data.die(f"{path} is {size / 1e6:.2f} MB > --max-mb {a.max_mb}", 1)


if __name__ == "__main__":
    main()
