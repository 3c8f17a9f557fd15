#!/usr/bin/python3
"""Golden outputs of the repetition and length processors and of the sampling
warpers, computed by marian_ref.py from the committed tiny models.

    nice -n 10 /usr/bin/python3 tests/reference/make_processor_fixtures.py

Writes tests/data/<model>/golden_processors.json for every tiny model:
  * "searches": for each processor setting (repetition_penalty,
    no_repeat_ngram_size, min_length, min_new_tokens), the greedy and beam-4
    results (tokens, score) of every source of make_fixtures.SOURCES. A result
    whose tokens change when 1e-4 noise is added to the logits is marked
    "stable": false (a C++ engine summing in another order may take the other
    branch), and the C++ test skips it.
  * "sampling": for each warper setting (temperature, top_k, top_p), the
    probability of every first token that can be drawn for one source (HF's
    processors, then the warpers, then the softmax), which the C++ test
    compares with 2,000 draws of heed (a chi-square test).
  * "prefixes": greedy and beam results with a target prefix forced after
    the start token (its tokens' log-probabilities counted in the score).
  * "special_tokens": texts holding literal </s>, <unk>, <pad> (and
    look-alikes): their source and target ids and greedy translation.
"""

import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_fixtures import DATA, MODELS, SOURCES, f32, _noise  # noqa: E402
from marian_ref import MarianRef  # noqa: E402

# (source index, target prefix): forced tokens the search continues.
PREFIXES = [(1, "Ein Hund"), (5, "Wo"), (6, "Ich möchte gerne"), (0, "Guten Tag und")]
SEARCHES = [
    {"repetition_penalty": 1.3},
    {"repetition_penalty": 0.7},
    {"no_repeat_ngram_size": 2},
    {"no_repeat_ngram_size": 1, "repetition_penalty": 1.2},
    {"min_new_tokens": 10},
    {"min_length": 6, "no_repeat_ngram_size": 3},
]
SAMPLING = [
    {"temperature": 1.0, "top_k": 50, "top_p": 1.0},
    {"temperature": 0.7, "top_k": 10, "top_p": 1.0},
    {"temperature": 1.0, "top_k": 0, "top_p": 0.9},
    {"temperature": 1.5, "top_k": 20, "top_p": 0.8},
]
SAMPLING_SOURCE = SOURCES[1]
# Literal special tokens in the text (MarianTokenizer cuts them out and maps
# them to their ids), and look-alikes that are plain text.
SPECIAL_TEXTS = [
    "A dog </s> runs in a field.",
    "</s>",
    "<unk> dog",
    "Hello<pad>world",
    ">>de<< A dog </s>>>fr<< runs",
    "a </s></s> b",
    "<s> not special </S> < /s>",
]
NOISE_TRIALS = 3
BEAMS = 4


def best(m, kind, src, noise_seed):
    """The best greedy or beam-4 hypothesis of `src` under m's current
    settings, and whether its tokens survive 1e-4 noise on the logits."""
    def run(perturb=None):
        if kind == "greedy":
            h = m.greedy([src], perturb=perturb)[0]
        else:
            h = m.beam_search([src], BEAMS, 1.0, False, None, perturb=perturb)[0][0]
        return h["tokens"], h["score"]
    tokens, score = run()
    stable = all(run(_noise(noise_seed + t))[0] == tokens for t in range(NOISE_TRIALS))
    return {"tokens": tokens, "score": f32(score), "stable": stable}


def configure(m, setting):
    m.repetition_penalty = setting.get("repetition_penalty", 1.0)
    m.no_repeat_ngram_size = setting.get("no_repeat_ngram_size", 0)
    m.min_new_tokens = setting.get("min_new_tokens", 0)
    m.min_length = setting.get("min_length", m.gen_config.get("min_length", 0) or 0)


def searches(m):
    out = []
    for setting in SEARCHES:
        configure(m, setting)
        entry = dict(setting)
        for kind in ("greedy", "beam"):
            results = []
            for si, src in enumerate(SOURCES):
                results.append(dict(source=src, **best(m, kind, src, 97 * si)))
            entry[kind] = results
        out.append(entry)
        unstable = sum(not r["stable"] for k in ("greedy", "beam") for r in entry[k])
        print(f"  {setting}: {unstable} of {2 * len(SOURCES)} results unstable")
    configure(m, {})
    return out


def sampling(m):
    out = []
    max_length = 3  # heed runs --max-new-tokens 2: the first token is drawn freely
    logits = m.first_step_logits(SAMPLING_SOURCE)[None, :]
    processed = m.process_scores(torch.log_softmax(logits, dim=-1), 1, max_length, [[m.decoder_start_id]])
    for setting in SAMPLING:
        warped = m.warp_scores(processed, **setting)
        probs = torch.softmax(warped.double(), dim=-1)[0]
        drawable = [[int(i), float(probs[i])] for i in torch.nonzero(probs > 0).flatten()]
        out.append(dict(setting, source=SAMPLING_SOURCE, probabilities=drawable))
        print(f"  sampling {setting}: {len(drawable)} drawable tokens")
    return out


def prefixes(m):
    out = []
    for si, text in PREFIXES:
        src = SOURCES[si]
        m.prefix = m.tok.encode_target(text)[:-1]  # no EOS: the translation continues it
        entry = {"source": src, "prefix": text, "prefix_ids": m.prefix}
        for kind in ("greedy", "beam"):
            entry[kind] = best(m, kind, src, 53 * si)
        out.append(entry)
    m.prefix = None
    print(f"  prefixes: {sum(not e[k]['stable'] for e in out for k in ('greedy', 'beam'))} "
          f"of {2 * len(out)} unstable")
    return out


def special_tokens(m):
    out = []
    for si, text in enumerate(SPECIAL_TEXTS):
        tokens = m.greedy([text])[0]["tokens"]
        stable = all(m.greedy([text], perturb=_noise(31 * si + t))[0]["tokens"] == tokens
                     for t in range(NOISE_TRIALS))
        out.append({"text": text, "source_ids": m.tok.encode_source(text),
                    "target_ids": m.tok.encode_target(text), "greedy": tokens, "stable": stable})
    print(f"  special tokens: {sum(not c['stable'] for c in out)} of {len(out)} unstable")
    return out


def main():
    for name in MODELS:
        model_dir = os.path.join(DATA, name)
        print(name)
        m = MarianRef(model_dir)
        golden = {"generator": "tests/reference/make_processor_fixtures.py", "beams": BEAMS,
                  "searches": searches(m), "sampling": sampling(m),
                  "special_tokens": special_tokens(m), "prefixes": prefixes(m)}
        with open(os.path.join(model_dir, "golden_processors.json"), "w", encoding="utf-8") as f:
            json.dump(golden, f, indent=1, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
