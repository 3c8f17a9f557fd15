#!/usr/bin/python3
"""Translate with the trained model in PyTorch (model.py + search.py), to
compare with heed.

The model comes from an exported HF directory (--model-dir, the same files heed
reads) or from a training checkpoint (--checkpoint, with the tokenizer files
of --work-dir).  Greedy (--beam-size 1) or beam search with transformers'
semantics.

  pytorch_translate.py --model-dir models/multi30k-en-de/a "A man is riding a bike."
  pytorch_translate.py --model-dir DIR -i val.en.gz -o out.de --beam-size 1
  # share of identical lines against heed (runs the command on the same input):
  pytorch_translate.py --model-dir DIR -i val.en.gz --beam-size 1 \\
      --compare-cmd "build/heed translate -m DIR --beam-size 1"
  # or against an existing file:
  pytorch_translate.py --model-dir DIR -i val.en.gz --beam-size 1 --compare heed.out
"""

import argparse
import os
import sys
import time

if __name__ == "__main__":  # before torch is imported: route GEMMs to oneDNN (see fastblas.py)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fastblas
    fastblas.enable()

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoints  # noqa: E402
import data  # noqa: E402
import search  # noqa: E402
from hf_format import load_model_dir  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--model-dir", help="exported HF MarianMT directory")
    g.add_argument("--checkpoint", help="training checkpoint (step-N.pt, last.pt, averaged.pt)")
    p.add_argument("--work-dir", default=data.DEFAULT_WORK_DIR, help="tokenizer files for --checkpoint")
    p.add_argument("text", nargs="*", help="sentences (else -i or stdin)")
    p.add_argument("-i", "--input", help="input file (plain or .gz; - = stdin)")
    p.add_argument("-o", "--output", help="output file (default stdout)")
    p.add_argument("-b", "--beam-size", type=int, default=0, help="0 = the model's num_beams (4 for checkpoints)")
    p.add_argument("--length-penalty", type=float, default=None,
                   help="default: the model's length_penalty (1.0 for checkpoints)")
    p.add_argument("--max-length", type=int, default=0, help="0 = the model's max_length (256 for checkpoints)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--limit", type=int, default=0, help="first N input lines only")
    p.add_argument("--compare", help="file with other translations (e.g. heed's) of the same input")
    p.add_argument("--compare-cmd", help="shell command translating stdin (e.g. heed) to compare with")
    p.add_argument("--show-diffs", type=int, default=5, help="differing lines to print")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    try:
        if a.model_dir:
            model, gen = load_model_dir(a.model_dir)
            tok = data.Tokenizer(a.model_dir)
        else:
            data.require_files([a.checkpoint])
            model, _ = checkpoints.model_from_checkpoint(a.checkpoint)
            gen = {}
            tok = data.Tokenizer(a.work_dir)
        if a.text:
            src = a.text
        else:
            if a.input and a.input != "-":
                data.require_files([a.input])
            src = data.read_lines(a.input or "-", a.limit)
        beam = a.beam_size or gen.get("num_beams", 4)
        max_length = a.max_length or gen.get("max_length", 256)
        length_penalty = a.length_penalty if a.length_penalty is not None else gen.get("length_penalty", 1.0)
        t0 = time.time()
        hyps = search.translate(model, tok, src, beam, max_length, a.batch_size, length_penalty)
        dt = time.time() - t0
        if a.output:
            with open(a.output, "w", encoding="utf-8") as f:
                f.write("\n".join(hyps) + "\n")
        else:
            for h in hyps:
                print(h)
        print(f"pytorch: {len(src)} sentences, beam {beam}, length penalty {length_penalty}, {dt:.1f}s",
              file=sys.stderr)
        other = None
        if a.compare_cmd:
            from evaluate import run_translation

            other, _ = run_translation(a.compare_cmd, src, data.REPO)
        elif a.compare:
            data.require_files([a.compare])
            other = data.read_lines(a.compare)
        if other is not None:
            if len(other) != len(hyps):
                data.die(f"comparison has {len(other)} lines, PyTorch {len(hyps)}", 1)
            same = sum(x == y for x, y in zip(hyps, other))
            print(f"identical lines: {same}/{len(hyps)} ({100.0 * same / max(1, len(hyps)):.1f}%)",
                  file=sys.stderr)
            shown = 0
            for i, (x, y) in enumerate(zip(hyps, other)):
                if x != y and shown < a.show_diffs:
                    print(f"  line {i + 1}: pytorch {x!r}\n  {' ' * len(str(i + 1))}        other   {y!r}",
                          file=sys.stderr)
                    shown += 1
    except data.RecipeError as e:
        data.die(str(e), 1)


if __name__ == "__main__":
    main()
