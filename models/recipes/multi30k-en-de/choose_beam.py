#!/usr/bin/python3
"""Pick the default beam size and length penalty of an exported model by validation BLEU with heed.

Translates the validation set with heed for each candidate beam size and
length penalty, prints BLEU / chrF2 / speed, and writes the best (ties -> the
smaller, faster beam, then the length penalty closest to 1) as num_beams and
length_penalty into the model's generation_config.json and config.json; for an
ensemble directory (ensemble.yml), as its `beam-size` and `normalize` (Marian's
keys), which heed uses in place of the first member's generation config, so the
members keep their own defaults.

Usage: /usr/bin/python3 choose_beam.py [--model-dir models/multi30k-en-de/a] [--beams 4 5] [--heed build/heed]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from evaluate import report, run_translation, score  # noqa: E402
from hf_format import set_num_beams  # noqa: E402


def set_ensemble_decoding(manifest, beam, length_penalty):
    """Replace the beam-size and normalize lines of an ensemble.yml (as ensemble.py writes it)."""
    with open(manifest, encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines() if not l.startswith(("beam-size:", "normalize:"))]
    lines += [f"beam-size: {beam}", f"normalize: {length_penalty:g}"]
    tmp = manifest + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    os.replace(tmp, manifest)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model-dir", default=data.DEFAULT_EXPORT_DIR)
    p.add_argument("--beams", type=int, nargs="+", default=[4, 5])
    p.add_argument("--length-penalties", type=float, nargs="+", default=[1.0],
                   help="candidate length penalties (transformers' exponent; default 1.0 only)")
    p.add_argument("--heed", default=os.path.join(data.REPO, "build", "heed"))
    p.add_argument("--threads", type=int, default=0, help="heed --threads (0 = heed's default)")
    p.add_argument("--data-dir", default=data.DEFAULT_DATA_DIR)
    p.add_argument("--split", default="val")
    p.add_argument("--dry-run", action="store_true", help="only print the scores")
    a = p.parse_args(argv)
    try:
        data.require_files([a.heed], "build heed first: cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && "
                                     "make -C build -j2 heed")
        src_path, ref_path = data.require_corpus(a.data_dir, [a.split])
        src, ref = data.read_lines(src_path), data.read_lines(ref_path)
        results = []
        for beam in a.beams:
            for lp in a.length_penalties:
                cmd = f"{a.heed} translate -m {a.model_dir} --beam-size {beam} --length-penalty {lp}"
                if a.threads:
                    cmd += f" --threads {a.threads}"
                hyps, dt = run_translation(cmd, src)
                s = score(hyps, ref)
                report(f"{a.split} beam {beam} length penalty {lp}", s, len(src), dt)
                results.append((-round(s["bleu"], 2), beam, abs(lp - 1.0), lp))
    except data.RecipeError as e:
        data.die(str(e), 1)
    _, beam, _, lp = min(results)
    if a.dry_run:
        print(f"best: beam size {beam}, length penalty {lp} (not written: --dry-run)")
    else:
        manifest = os.path.join(a.model_dir, "ensemble.yml")
        if os.path.exists(manifest):
            set_ensemble_decoding(manifest, beam, lp)
            print(f"best: beam size {beam}, length penalty {lp}; written to {manifest}")
        else:
            set_num_beams(a.model_dir, beam, lp)
            print(f"best: beam size {beam}, length penalty {lp}; written to {a.model_dir}/generation_config.json "
                  "and config.json")


if __name__ == "__main__":
    main()
