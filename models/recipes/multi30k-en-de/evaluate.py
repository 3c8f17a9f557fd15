#!/usr/bin/python3
"""Score translations with corpus BLEU and chrF2 (sacreBLEU-compatible, bleu.py).

Score existing files (plain text or .gz, one sentence per line):
  evaluate.py --hyp hyp.txt --ref ref.de.gz [--ref ref2.de]

Translate with a command, then score (the command reads sources on stdin and
writes one translation per line on stdout, e.g. heed):
  evaluate.py --translate-cmd "build/heed translate -m models/multi30k-en-de --beam-size 4" \\
      --src val.en.gz --ref val.de.gz [--save-hyp out.de]
  evaluate.py --translate-cmd "…" --sets val,test_2016_flickr [--data-dir DIR] [--save-dir DIR]

sacreBLEU signatures of the numbers printed:
  BLEU  nrefs:1|case:mixed|eff:no|tok:13a|smooth:none|version:2.x
  chrF2 nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from bleu import corpus_bleu, corpus_chrf  # noqa: E402


def run_translation(cmd, sources, cwd=None):
    """Run `cmd` (a shell command line) with the sources on stdin -> (lines, seconds)."""
    t0 = time.time()
    proc = subprocess.run(cmd, shell=True, input="\n".join(sources) + "\n", capture_output=True,
                          text=True, encoding="utf-8", cwd=cwd)
    dt = time.time() - t0
    if proc.returncode != 0:
        raise data.RecipeError(f"translation command failed (exit {proc.returncode}): {cmd}\n"
                               f"{proc.stderr.strip()[-2000:]}")
    out = proc.stdout.split("\n")
    if out and out[-1] == "":
        out.pop()
    out = [l.rstrip("\r") for l in out]
    if len(out) != len(sources):
        raise data.RecipeError(f"translation command wrote {len(out)} lines for {len(sources)} sources: {cmd}")
    return out, dt


def score(hyps, refs):
    b = corpus_bleu(hyps, refs)
    return {"bleu": b.score, "chrf": corpus_chrf(hyps, refs), "bleu_detail": str(b)}


def report(name, s, n, seconds=None):
    speed = f", {n / seconds:.1f} sentences/s ({seconds:.1f}s)" if seconds else ""
    print(f"{name}: BLEU {s['bleu']:.2f}  chrF2 {s['chrf']:.2f}  [{n} sentences{speed}]")
    print(f"  {s['bleu_detail']}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hyp", help="hypothesis file")
    p.add_argument("--ref", action="append", help="reference file (repeat for several references)")
    p.add_argument("--src", help="source file to translate with --translate-cmd")
    p.add_argument("--translate-cmd", help="shell command: sources on stdin -> translations on stdout")
    p.add_argument("--sets", help="comma-separated Multi30k splits to translate and score, "
                                  "e.g. val,test_2016_flickr (needs --translate-cmd)")
    p.add_argument("--data-dir", default=data.DEFAULT_DATA_DIR)
    p.add_argument("--save-hyp", help="write the translations here (with --src)")
    p.add_argument("--save-dir", help="write SPLIT.hyp.de here (with --sets)")
    p.add_argument("--limit", type=int, default=0, help="first N sentences only")
    p.add_argument("--json", help="also write the scores as JSON to this file")
    p.add_argument("--cwd", default=data.REPO, help="working directory of the translation command "
                                                    "(default: the repository root)")
    a = p.parse_args(argv)
    results = {}
    try:
        if a.sets:
            if not a.translate_cmd:
                data.die("--sets needs --translate-cmd")
            splits = [s for s in a.sets.split(",") if s]
            data.require_corpus(a.data_dir, splits)
            for split in splits:
                src_path, ref_path = data.corpus_paths(a.data_dir, split)
                src, ref = data.read_lines(src_path, a.limit), data.read_lines(ref_path, a.limit)
                hyps, dt = run_translation(a.translate_cmd, src, a.cwd)
                if a.save_dir:
                    os.makedirs(a.save_dir, exist_ok=True)
                    with open(os.path.join(a.save_dir, f"{split}.hyp.{data.TGT_LANG}"), "w", encoding="utf-8") as f:
                        f.write("\n".join(hyps) + "\n")
                s = score(hyps, ref)
                s.update(sentences=len(src), seconds=dt)
                results[split] = s
                report(split, s, len(src), dt)
        else:
            if not a.ref:
                data.die("give --ref (and --hyp, or --src with --translate-cmd), or --sets")
            data.require_files(a.ref)
            refs = [data.read_lines(r, a.limit) for r in a.ref]
            if a.translate_cmd:
                if not a.src:
                    data.die("--translate-cmd needs --src (or --sets)")
                data.require_files([a.src])
                hyps, dt = run_translation(a.translate_cmd, data.read_lines(a.src, a.limit), a.cwd)
                if a.save_hyp:
                    with open(a.save_hyp, "w", encoding="utf-8") as f:
                        f.write("\n".join(hyps) + "\n")
            elif a.hyp:
                data.require_files([a.hyp] if a.hyp != "-" else [])
                hyps, dt = data.read_lines(a.hyp, a.limit), None
            else:
                data.die("give --hyp or --translate-cmd")
            s = score(hyps, refs)
            s.update(sentences=len(hyps), seconds=dt)
            results["test"] = s
            report(a.hyp or a.src, s, len(hyps), dt)
    except (data.RecipeError, ValueError) as e:
        data.die(str(e), 1)
    if a.json:
        with open(a.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
