"""Corpus BLEU and chrF, computed as sacreBLEU 2.x does with its defaults
(no sacrebleu package here; written from the definitions).

BLEU (sacreBLEU signature nrefs:N|case:mixed|eff:no|tok:13a|smooth:none|version:2.x):
  * tokenizer 13a (mteval-v13a): drop "<skipped>", join "-\\n", newlines ->
    spaces, unescape &quot; &amp; &lt; &gt;, then the four regexes below and
    whitespace splitting;
  * per sentence: clipped n-gram matches (n = 1..4, clipped by the maximum
    count over the references), hypothesis n-gram counts, hypothesis length and
    the closest reference length (ties -> the shorter reference); summed over
    the corpus;
  * precisions p_n = 100 * matches_n / total_n; BLEU = BP * exp(mean_n log p_n),
    log 0 taken as -9999999999 (so any zero precision gives 0); if there are no
    matches at all the score is 0; BP = exp(1 - ref_len / hyp_len) when
    hyp_len < ref_len (0 when hyp_len = 0), else 1. Case-sensitive.

chrF (signature nrefs:N|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.x):
  * whitespace removed from each segment, character n-grams n = 1..6;
  * per sentence and order: hypothesis n-gram count, reference n-gram count,
    clipped matches; with several references the one with the best sentence
    chrF is used; statistics summed over the corpus;
  * per order with both counts > 0: precision and recall; average them over
    those orders ("effective order"); chrF = 100 * (1 + b^2) P R / (b^2 P + R)
    with beta b = 2 (0 when P + R = 0).
"""

import math
import re
from collections import Counter

NGRAM_ORDER = 4
CHRF_ORDER = 6
CHRF_BETA = 2

_RE_13A = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),   # punctuation and symbols
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),                 # period/comma unless preceded by a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),                 # period/comma unless followed by a digit
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),                      # dash when preceded by a digit
]


def tokenize_13a(line):
    """sacrebleu's Tokenizer13a -> the tokenized string (single spaces)."""
    line = line.replace("<skipped>", "")
    line = line.replace("-\n", "")
    line = line.replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"')
        line = line.replace("&amp;", "&")
        line = line.replace("&lt;", "<")
        line = line.replace("&gt;", ">")
    line = f" {line} "
    for regex, repl in _RE_13A:
        line = regex.sub(repl, line)
    return " ".join(line.split())


def _ngrams(tokens, max_order):
    c = Counter()
    for n in range(1, max_order + 1):
        for i in range(len(tokens) - n + 1):
            c[tuple(tokens[i:i + n])] += 1
    return c


def bleu_stats(hyp, refs, max_order=NGRAM_ORDER):
    """[hyp_len, ref_len, correct_1..N, total_1..N] of one segment."""
    h = tokenize_13a(hyp.rstrip()).split()
    ref_toks = [tokenize_13a(r.rstrip()).split() for r in refs]
    ref_ngrams = Counter()
    for r in ref_toks:
        for ng, cnt in _ngrams(r, max_order).items():
            ref_ngrams[ng] = max(ref_ngrams[ng], cnt)
    ref_len = min((abs(len(r) - len(h)), len(r)) for r in ref_toks)[1]
    correct = [0] * max_order
    total = [0] * max_order
    for ng, cnt in _ngrams(h, max_order).items():
        n = len(ng) - 1
        total[n] += cnt
        if ng in ref_ngrams:
            correct[n] += min(cnt, ref_ngrams[ng])
    return [len(h), ref_len] + correct + total


def _log(x):
    return -9999999999 if x == 0 else math.log(x)


class BLEUScore:
    def __init__(self, score, correct, total, precisions, bp, sys_len, ref_len):
        self.score, self.correct, self.total = score, correct, total
        self.precisions, self.bp, self.sys_len, self.ref_len = precisions, bp, sys_len, ref_len

    @property
    def ratio(self):
        return self.sys_len / self.ref_len if self.ref_len else 0.0

    def __str__(self):
        p = "/".join(f"{x:.1f}" for x in self.precisions)
        return (f"BLEU = {self.score:.2f} {p} (BP = {self.bp:.3f} ratio = {self.ratio:.3f} "
                f"hyp_len = {self.sys_len} ref_len = {self.ref_len})")


def bleu_from_stats(stats, max_order=NGRAM_ORDER):
    sys_len, ref_len = stats[0], stats[1]
    correct = list(stats[2:2 + max_order])
    total = list(stats[2 + max_order:2 + 2 * max_order])
    if sys_len < ref_len:
        bp = math.exp(1 - ref_len / sys_len) if sys_len > 0 else 0.0
    else:
        bp = 1.0
    precisions = [0.0] * max_order
    if not any(correct):
        return BLEUScore(0.0, correct, total, precisions, bp, sys_len, ref_len)
    for n in range(max_order):
        if total[n] == 0:
            break
        if correct[n] > 0:
            precisions[n] = 100.0 * correct[n] / total[n]
    score = bp * math.exp(sum(_log(p) for p in precisions) / max_order)
    return BLEUScore(score, correct, total, precisions, bp, sys_len, ref_len)


def _check(hyps, refs):
    """refs: a list of reference streams, each as long as hyps."""
    if isinstance(refs, (list, tuple)) and refs and isinstance(refs[0], str):
        refs = [refs]
    for r in refs:
        if len(r) != len(hyps):
            raise ValueError(f"{len(hyps)} hypotheses but a reference stream of {len(r)} lines")
    return refs


def corpus_bleu(hyps, refs):
    """hyps: list of str; refs: list of str (one reference) or list of reference streams."""
    refs = _check(hyps, refs)
    acc = None
    for i, h in enumerate(hyps):
        s = bleu_stats(h, [r[i] for r in refs])
        acc = s if acc is None else [a + b for a, b in zip(acc, s)]
    if acc is None:
        acc = [0] * (2 + 2 * NGRAM_ORDER)
    return bleu_from_stats(acc)


# ---------------------------------------------------------------- chrF

def _char_ngrams(text, max_order):
    text = "".join(text.split())
    return [Counter(text[i:i + n] for i in range(len(text) - n + 1)) for n in range(1, max_order + 1)]


def _chrf_segment(hyp_ngrams, ref_ngrams):
    stats = []
    for h, r in zip(hyp_ngrams, ref_ngrams):
        match = sum(min(c, r[g]) for g, c in h.items() if g in r)
        stats += [sum(h.values()), sum(r.values()), match]
    return stats


def chrf_from_stats(stats, order=CHRF_ORDER, beta=CHRF_BETA):
    factor = beta ** 2
    avg_p = avg_r = 0.0
    eff = 0
    for i in range(order):
        n_hyp, n_ref, n_match = stats[3 * i:3 * i + 3]
        if n_hyp > 0 and n_ref > 0:
            avg_p += n_match / n_hyp
            avg_r += n_match / n_ref
            eff += 1
    if eff == 0:
        return 0.0
    avg_p /= eff
    avg_r /= eff
    if avg_p + avg_r == 0:
        return 0.0
    return 100.0 * (1 + factor) * avg_p * avg_r / (factor * avg_p + avg_r)


def chrf_stats(hyp, refs, order=CHRF_ORDER, beta=CHRF_BETA):
    h = _char_ngrams(hyp, order)
    best, best_f = None, -1.0
    for r in refs:
        s = _chrf_segment(h, _char_ngrams(r, order))
        f = chrf_from_stats(s, order, beta)
        if f > best_f:
            best, best_f = s, f
    return best


def corpus_chrf(hyps, refs, order=CHRF_ORDER, beta=CHRF_BETA):
    refs = _check(hyps, refs)
    acc = [0] * (3 * order)
    for i, h in enumerate(hyps):
        s = chrf_stats(h, [r[i] for r in refs], order, beta)
        acc = [a + b for a, b in zip(acc, s)]
    return chrf_from_stats(acc, order, beta)
