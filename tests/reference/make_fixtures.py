#!/usr/bin/python3
"""Build the committed tiny Marian models and their golden files under tests/data/.

    nice -n 10 /usr/bin/python3 tests/reference/make_fixtures.py [--only NAME] [--check-only]

For every model directory tests/data/<name>/ this (re)creates the HF-layout
model with make_model.py and writes golden.json computed by marian_ref.py.
Each golden decision (greedy and beam search) is re-run several times with
random noise added to the logits; a case whose tokens change under that noise
is reported as unstable (exit status 1), because a C++ engine with a
different float summation order could legitimately pick the other branch.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_model  # noqa: E402
from marian_ref import MarianRef  # noqa: E402

REPO = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(REPO, "tests", "data")

# Hand-written test sentences (not taken from Multi30k).
SOURCES = [
    "Hello",
    "A dog runs across the green field.",
    "Two children are playing with a red ball near the river.",
    ">>de<< The old man reads a newspaper on the bench.",
    "She bought a \u2603 decoration at the market.",
    "Where is the train station?",
    "I would like a cup of coffee, please.",
    "Three women in colorful dresses dance at a small village festival.",
    "The quick brown fox jumps over the lazy dog while the farmer watches from the porch "
    "and the sun slowly sets behind the distant hills, painting the sky in shades of orange, "
    "pink and purple as the tired birds fly home to their nests.",
    "My neighbour's cat sleeps all day on the warm windowsill.",
]
TARGETS = [
    "Hallo",
    "Ein Hund rennt \u00fcber die gr\u00fcne Wiese.",
    "Zwei Kinder spielen mit einem roten Ball in der N\u00e4he des Flusses.",
    "Der alte Mann liest eine Zeitung auf der Bank.",
    "Sie kaufte eine \u2603 Dekoration auf dem Markt.",
    "Wo ist der Bahnhof?",
    "Ich h\u00e4tte gerne eine Tasse Kaffee, bitte.",
    "Drei Frauen in bunten Kleidern tanzen auf einem kleinen Dorffest.",
    "Der schnelle braune Fuchs springt \u00fcber den faulen Hund, w\u00e4hrend der Bauer von der "
    "Veranda aus zusieht und die Sonne langsam hinter den fernen H\u00fcgeln untergeht.",
    "Die Katze meines Nachbarn schl\u00e4ft den ganzen Tag auf der warmen Fensterbank.",
]

# Weight distribution shared by the tiny models (see make_model.py --help):
# LayerNorm gains ~N(1, 0.3), sub-layers at 0.7 of the default scale, a
# zero-mean, x5 last decoder LayerNorm (sharp, non-copying output
# distribution) and an EOS logit that rises with the decoding step.
KNOBS = ["--ln-gain-mean", "1", "--ln-gain-std", "0.3", "--ln-bias-std", "0.1", "--bias-std", "0.1",
         "--linear-gain", "0.7", "--logit-std", "1.0", "--final-ln-random-sign", "--final-ln-gain", "5",
         "--eos-noise", "0.2", "--eos-bias", "0.0"]

# name -> (make_model arguments, beam variants)
# A beam variant: (num_beams, length_penalty, early_stopping, max_length or None = model default)
MODELS = {
    "tiny-joint": (
        ["--d-model", "32", "--encoder-layers", "2", "--decoder-layers", "2", "--heads", "4",
         "--ffn", "64", "--activation", "swish", "--vocab-size", "600", "--joint-vocab",
         "--tie-embeddings", "--scale-embedding", "--dtype", "f32",
         "--max-position-embeddings", "128", "--max-length", "20", "--num-beams", "4",
         "--seed", "5"] + KNOBS + ["--eos-ramp", "0.6", "--eos-bias", "-0.5"],
        [(4, 1.0, False, None), (4, 0.6, False, None), (4, 2.0, False, None), (4, 1.0, True, None),
         (4, 1.0, "never", None), (4, 0.6, "never", None), (2, 1.0, False, None), (5, 1.0, False, None),
         (4, 1.0, False, 8)],
    ),
    "tiny-separate": (
        ["--d-model", "24", "--encoder-layers", "3", "--decoder-layers", "2", "--heads", "2",
         "--ffn", "48", "--activation", "relu", "--vocab-size", "500", "--target-vocab-size", "500",
         "--separate-vocabs", "--untied-lm-head", "--scale-embedding", "--dtype", "f16",
         "--max-position-embeddings", "128", "--max-length", "16", "--num-beams", "4",
         "--renormalize-logits",
         "--seed", "4"] + KNOBS + ["--eos-ramp", "0.6"],
        [(4, 1.0, False, None), (4, 0.6, False, None), (4, 2.0, False, None), (4, 1.0, True, None),
         (4, 1.0, "never", None), (2, 1.0, False, None), (5, 1.0, False, None), (3, 1.0, False, 6)],
    ),
    "tiny-gelu": (
        ["--d-model", "16", "--encoder-layers", "1", "--decoder-layers", "2", "--heads", "2",
         "--ffn", "32", "--activation", "gelu", "--vocab-size", "600", "--joint-vocab",
         "--tie-embeddings", "--no-scale-embedding", "--dtype", "f32", "--omit-positions",
         "--vocab-order", "shuffled",
         "--max-position-embeddings", "128", "--max-length", "24", "--num-beams", "3",
         "--seed", "9"] + KNOBS + ["--eos-ramp", "0.5"],
        [(3, 1.0, False, None), (3, 0.6, False, None), (3, 1.0, True, None), (3, 2.0, "never", None),
         (4, 1.0, False, None)],
    ),
}

N_STEP_LOGITS = 3
NOISE = 1e-4      # absolute noise added to every logit in the stability check
NOISE_TRIALS = 4


def f32(x):
    """Shortest decimal that round-trips the float32 value (full float32 precision)."""
    if isinstance(x, float) and (x != x or x in (float("inf"), float("-inf"))):
        raise ValueError("non-finite value in golden data")
    return float(np.format_float_positional(np.float32(x), unique=True, trim="-"))


def f64(x):
    return float(x)


def es_json(es):
    return es if isinstance(es, str) else bool(es)


def _noise(seed):
    g = torch.Generator().manual_seed(seed)
    return lambda shape: torch.randn(*shape, generator=g) * NOISE


def build_golden(model_dir, variants, report):
    m = MarianRef(model_dir)
    cases = []
    unstable = []
    stats = {"greedy_len": [], "beam_diff_from_greedy": 0, "beam_runs": 0, "finished_replaced": 0,
             "best_changed_beam": 0, "early_stop_before_max": 0, "hyp_lengths": set()}
    for si, (src, tgt) in enumerate(zip(SOURCES, TARGETS)):
        ids = m.tok.encode_source(src)
        first = m.first_step_logits(src)
        g = m.greedy([src], record_logits=N_STEP_LOGITS)[0]
        assert g["step_logits"][0] == first.tolist()
        for t in range(NOISE_TRIALS):
            gn = m.greedy([src], perturb=_noise(1000 * si + t))[0]
            if gn["tokens"] != g["tokens"]:
                unstable.append((src, "greedy"))
                break
        stats["greedy_len"].append(len(g["tokens"]))
        case = {
            "source": src,
            "input_ids": ids,
            "first_step_logits": [f32(x) for x in first.tolist()],
            "greedy": {
                "max_length": m.max_length,
                "tokens": g["tokens"],
                "score": f64(g["score"]),
                "text": m.detok(g["tokens"]),
                "step_logits": [[f32(x) for x in row] for row in g["step_logits"]],
            },
            "beam": [],
        }
        for (nb, lp, es, ml) in variants:
            ml_eff = ml or m.max_length
            trace = []
            hyps = m.beam_search([src], nb, lp, es, ml_eff, trace=trace)[0]
            assert all(h["finished"] for h in hyps), "unfilled finished slot"
            for t in range(NOISE_TRIALS):
                hn = m.beam_search([src], nb, lp, es, ml_eff, perturb=_noise(7 + 1000 * si + 31 * t))[0]
                if [h["tokens"] for h in hn] != [h["tokens"] for h in hyps]:
                    unstable.append((src, f"beam nb={nb} lp={lp} es={es} ml={ml_eff}"))
                    break
            _beam_stats(stats, trace, hyps, g, ml_eff, nb)
            case["beam"].append({
                "num_beams": nb,
                "length_penalty": lp,
                "early_stopping": es_json(es),
                "max_length": ml_eff,
                "hypotheses": [{"tokens": h["tokens"], "score": f32(h["score"]), "text": m.detok(h["tokens"])}
                               for h in hyps],
            })
        sc = m.score(src, tgt)
        case["score"] = {
            "target": tgt,
            "target_ids": sc["target_ids"],
            "token_logprobs": [f32(x) for x in sc["token_logprobs"]],
            "total": f64(sc["total"]),
        }
        cases.append(case)
    golden = {
        "model": os.path.basename(os.path.normpath(model_dir)),
        "max_length": m.max_length,
        "num_beams": m.num_beams,
        "renormalize_logits": m.renormalize_logits,
        "sources": list(SOURCES),
        "cases": cases,
    }
    stats["hyp_lengths"] = sorted(stats["hyp_lengths"])
    report.append((golden["model"], stats, unstable))
    return golden


def _beam_stats(stats, trace, hyps, g, ml, nb):
    stats["beam_runs"] += 1
    if hyps[0]["tokens"] != g["tokens"]:
        stats["beam_diff_from_greedy"] += 1
    for h in hyps:
        stats["hyp_lengths"].add(len(h["tokens"]))
    prev_flag = None
    for step in trace:
        if int(step["running_src"][0, 0]) != 0:
            stats["best_changed_beam"] += 1
        if prev_flag is not None and bool(prev_flag.all()):
            # all slots were full: a new candidate entering the top means one was replaced
            if bool((step["sel"][0] >= nb).any()):
                stats["finished_replaced"] += 1
        prev_flag = step["fin_flag"]
    if trace and trace[-1]["cur_len"] + 1 < ml:
        stats["early_stop_before_max"] += 1


def _dump(obj, indent=0):
    """JSON with nested objects indented and lists of scalars kept on one line."""
    pad = " " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f'{pad} {json.dumps(k, ensure_ascii=False)}: {_dump(v, indent + 1)}' for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(x, (dict, list)) for x in obj):
        items = [pad + " " + _dump(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_json(path, obj):
    text = _dump(obj) + "\n"
    assert json.loads(text) == obj
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", action="append", help="build only this model (repeatable)")
    p.add_argument("--out", default=DATA, help="output root (default tests/data)")
    p.add_argument("--check-only", action="store_true", help="do not rebuild models; recompute golden")
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    report = []
    for name, (margs, variants) in MODELS.items():
        if a.only and name not in a.only:
            continue
        out = os.path.join(a.out, name)
        if not a.check_only:
            if os.path.isdir(out):
                for fn in os.listdir(out):
                    os.remove(os.path.join(out, fn))
            make_model.make_model(make_model.build_parser().parse_args(["--out", out] + margs))
        golden = build_golden(out, variants, report)
        write_json(os.path.join(out, "golden.json"), golden)
    bad = False
    for name, st, unstable in report:
        print(f"{name}: greedy lengths {st['greedy_len']}; beam runs {st['beam_runs']}, "
              f"best != greedy {st['beam_diff_from_greedy']}, finished replaced {st['finished_replaced']}, "
              f"best changed beam {st['best_changed_beam']}, stopped before max_length {st['early_stop_before_max']}, "
              f"hyp lengths {st['hyp_lengths']}")
        for u in unstable:
            bad = True
            print(f"  UNSTABLE: {u}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
