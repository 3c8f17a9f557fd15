#!/usr/bin/python3
"""Write the ensemble manifest heed reads (OUT/ensemble.yml) for exported members.

The shipped model is an ensemble directory: OUT/ensemble.yml lists the member
directories (OUT/a, OUT/b, ... as written by export.py), each a complete
MarianMT directory that heed, or transformers, also loads on its own. heed
decodes the members side by side on the weighted sum of their log-probabilities
(Marian's ensembles); see the README's "Ensembles".

Usage: /usr/bin/python3 ensemble.py --out models/multi30k-en-de --members a b [--weights 1 0.5]
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402


def manifest_text(members, weights=None):
    lines = ["# heed ensemble: the members decode side by side on the weighted sum of",
             "# their log-probabilities; written by models/recipes/multi30k-en-de/ensemble.py",
             "models:"]
    lines += [f"  - {m}" for m in members]
    if weights:
        lines.append("weights: [" + ", ".join(f"{w:g}" for w in weights) + "]")
    return "\n".join(lines) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=data.DEFAULT_ENSEMBLE_DIR)
    p.add_argument("--members", nargs="+", required=True, help="member directories inside --out")
    p.add_argument("--weights", type=float, nargs="+",
                   help="one positive weight per member (default: none written, 1 each)")
    a = p.parse_args(argv)
    if a.weights and (len(a.weights) != len(a.members) or min(a.weights) <= 0):
        data.die("--weights: give one positive number per member")
    try:
        data.require_files([os.path.join(a.out, m, n) for m in a.members
                            for n in ("config.json", "model.safetensors")], "run export.py for each member first")
    except data.RecipeError as e:
        data.die(str(e))
    if os.path.exists(os.path.join(a.out, "config.json")):
        data.die(f"{a.out} holds a single model (config.json): move it into a member directory first")
    path = os.path.join(a.out, "ensemble.yml")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(manifest_text(a.members, a.weights))
    os.replace(tmp, path)
    print(f"wrote {path}: members {', '.join(a.members)}")


if __name__ == "__main__":
    main()
