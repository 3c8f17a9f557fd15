"""Self-checks of the Python reference.  Run from the repository root with

    /usr/bin/python3 -m unittest discover -s tests/reference -p 'test_*.py'

(or `cd tests/reference && /usr/bin/python3 -m unittest test_reference`)."""

import json
import math
import os
import struct
import sys
import tempfile
import unittest
import zlib

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures  # noqa: E402
from marian_ref import NEG_LARGE, MarianRef, beam_search, greedy_search, sinusoidal_table  # noqa: E402
from safetensors_io import load_file, read_header, save_file  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests", "data")
MODELS = ["tiny-joint", "tiny-separate", "tiny-gelu"]

torch.set_num_threads(1)
_cache = {}


def model(name):
    if name not in _cache:
        _cache[name] = MarianRef(os.path.join(DATA, name))
    return _cache[name]


def golden(name):
    with open(os.path.join(DATA, name, "golden.json"), encoding="utf-8") as f:
        return json.load(f)


# --------------------------------------------------------------------------
class SafetensorsTest(unittest.TestCase):
    def test_round_trip(self):
        g = torch.Generator().manual_seed(0)
        tensors = {
            "a.weight": torch.randn(3, 5, generator=g),
            "b": torch.randn(7, generator=g).to(torch.float16),
            "c.bf": torch.randn(2, 3, 4, generator=g).to(torch.bfloat16),
            "one": torch.tensor([1.5]),
        }
        with tempfile.TemporaryDirectory() as td:
            path = os.path.join(td, "m.safetensors")
            save_file(tensors, path)
            back = load_file(path)
            self.assertEqual(set(back), set(tensors))
            for k, v in tensors.items():
                self.assertEqual(back[k].dtype, v.dtype, k)
                self.assertEqual(tuple(back[k].shape), tuple(v.shape), k)
                self.assertTrue(torch.equal(back[k].float(), v.float()), k)
            n, hdr = read_header(path)
            self.assertEqual(n % 8, 0)
            self.assertEqual(hdr["__metadata__"], {"format": "pt"})
            with open(path, "rb") as f:
                raw = f.read()
            self.assertEqual(struct.unpack("<Q", raw[:8])[0], n)
            ends = sorted(v["data_offsets"] for k, v in hdr.items() if k != "__metadata__")
            self.assertEqual(ends[0][0], 0)
            for (b0, e0), (b1, _) in zip(ends, ends[1:]):
                self.assertEqual(e0, b1)
            self.assertEqual(ends[-1][1], len(raw) - 8 - n)
            self.assertEqual({hdr[k]["dtype"] for k in tensors}, {"F32", "F16", "BF16"})

    def test_fixture_layout(self):
        names = set(load_file(os.path.join(DATA, "tiny-joint", "model.safetensors")))
        self.assertIn("model.shared.weight", names)
        self.assertNotIn("lm_head.weight", names)          # tied: dropped like HF does
        self.assertNotIn("model.encoder.embed_tokens.weight", names)
        self.assertIn("model.encoder.embed_positions.weight", names)
        sep = load_file(os.path.join(DATA, "tiny-separate", "model.safetensors"))
        self.assertIn("lm_head.weight", sep)
        self.assertIn("model.decoder.embed_tokens.weight", sep)
        self.assertNotIn("model.shared.weight", sep)
        self.assertTrue(all(v.dtype == torch.float16 for v in sep.values()))
        gelu = set(load_file(os.path.join(DATA, "tiny-gelu", "model.safetensors")))
        self.assertNotIn("model.encoder.embed_positions.weight", gelu)  # HF save_pretrained drops them

    def test_positions_are_sinusoidal(self):
        w = load_file(os.path.join(DATA, "tiny-joint", "model.safetensors"))
        pos = w["model.decoder.embed_positions.weight"]
        self.assertTrue(torch.equal(pos, sinusoidal_table(*pos.shape)))
        d = pos.shape[1]
        for p in (0, 1, 7, 100):
            for j in range(d // 2):
                ang = p / (10000.0 ** (2 * j / d))
                self.assertAlmostEqual(float(pos[p, j]), math.sin(ang), places=6)
                self.assertAlmostEqual(float(pos[p, d // 2 + j]), math.cos(ang), places=6)


# --------------------------------------------------------------------------
class TokenizerTest(unittest.TestCase):
    TEXTS = ["Ein Hund rennt im Park.", "Zwei kleine Kinder spielen Fussball auf der Strasse.", "Hallo"]

    def test_vocab_layout(self):
        for name in MODELS:
            tok = model(name).tok
            for vocab in (tok.src_vocab, tok.tgt_vocab):
                self.assertEqual(vocab["</s>"], 0)
                self.assertEqual(vocab["<unk>"], 1)
                self.assertEqual(vocab["<pad>"], len(vocab) - 1)
                self.assertEqual(sorted(vocab.values()), list(range(len(vocab))))
            sp = tok.spm_source
            pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())
                      if not (sp.is_control(i) or sp.is_unknown(i))]
            in_vocab_order = [p for p, _ in sorted(tok.src_vocab.items(), key=lambda kv: kv[1])][2:-1]
            if name == "tiny-gelu":  # --vocab-order shuffled: vocab ids != spm ids
                self.assertEqual(sorted(in_vocab_order), sorted(pieces))
                self.assertNotEqual(in_vocab_order, pieces)
            else:
                self.assertEqual(in_vocab_order, pieces)

    def test_round_trip(self):
        for name in MODELS:
            tok = model(name).tok
            for text in self.TEXTS:
                ids = tok.encode_target(text)
                self.assertEqual(ids[-1], 0)
                self.assertNotIn(tok.tgt_unk_id, ids)
                self.assertEqual(tok.decode_target(ids), text)

    def test_language_code_and_unknown(self):
        tok = model("tiny-joint").tok
        self.assertEqual(tok.tokenize_source(">>de<< Hallo Welt")[0], ">>de<<")
        self.assertEqual(tok.encode_source(">>de<< Hallo"), [tok.unk_id] + tok.encode_source("Hallo"))
        self.assertEqual(tok.tokenize_source("a >>de<< b")[0], "\u2581a")  # only a leading code is split off
        ids = tok.encode_source("a \u2603 b")
        self.assertIn(tok.unk_id, ids)
        # the "\u2581" piece before the dropped <unk> survives: HF also gives a double space
        self.assertEqual(tok.decode_target([i for i in ids if i != 0]), "a  b")

    def test_golden_input_ids(self):
        for name in MODELS:
            m, g = model(name), golden(name)
            for case in g["cases"]:
                self.assertEqual(m.tok.encode_source(case["source"]), case["input_ids"])
                self.assertEqual(m.tok.encode_target(case["score"]["target"]), case["score"]["target_ids"])


# --------------------------------------------------------------------------
class ModelTest(unittest.TestCase):
    def test_incremental_equals_full(self):
        for name in MODELS:
            m = model(name)
            src = "Two children are playing with a red ball."
            dec = [m.decoder_start_id, 5, 17, 3, 42, 8]
            full, attn = m.forward_logits(src, dec, return_cross_attention=True)
            ids = m.tok.encode_source(src)
            ids_t, mask = m.pad_batch([ids], m.tok.pad_id)
            st = m.init_decoder_state(m.encode(ids_t, mask), mask)
            for t, tokid in enumerate(dec):
                lg = m.decoder_forward(torch.tensor([[tokid]]), st)[0, -1]
                self.assertTrue(torch.allclose(lg, full[t], atol=1e-4, rtol=1e-5), (name, t))
            self.assertEqual(len(attn), m.dec_layers)
            for a in attn:
                self.assertEqual(tuple(a.shape), (m.dec_heads, len(dec), len(ids)))
                self.assertTrue(torch.allclose(a.sum(-1), torch.ones(a.shape[:-1]), atol=1e-5))

    def test_padding_does_not_change_encoder(self):
        m = model("tiny-joint")
        a, b = m.tok.encode_source("Hello"), m.tok.encode_source("A much longer sentence with many words.")
        ids, mask = m.pad_batch([a, b], m.tok.pad_id)
        enc = m.encode(ids, mask)
        ids1, mask1 = m.pad_batch([a], m.tok.pad_id)
        enc1 = m.encode(ids1, mask1)
        self.assertTrue(torch.allclose(enc[0, :len(a)], enc1[0], atol=1e-5))

    def test_golden_logits_and_scores(self):
        for name in MODELS:
            m, g = model(name), golden(name)
            for case in g["cases"][:4]:
                first = m.first_step_logits(case["source"])
                self.assertTrue(torch.allclose(first, torch.tensor(case["first_step_logits"]), atol=1e-5), name)
                sc = m.score(case["source"], case["score"]["target"])
                self.assertTrue(np.allclose(sc["token_logprobs"], case["score"]["token_logprobs"], atol=1e-5))
                self.assertAlmostEqual(sc["total"], case["score"]["total"], places=4)


# --------------------------------------------------------------------------
def _toy(vocab, salt, scale=3.0, eos_slope=0.6):
    """Deterministic pseudo-random 'model': logits depend on the whole prefix."""
    def f(prefix):
        seed = zlib.crc32(np.array([salt] + list(prefix), dtype=np.int64).tobytes())
        x = np.random.default_rng(seed).standard_normal(vocab).astype(np.float32) * np.float32(scale)
        x[0] += np.float32(eos_slope * len(prefix) - 2.0)
        return x
    return f


def _toy_process(vocab, renorm=False):
    pad = vocab - 1

    def process(scores, cur_len, max_length, history=None, stage="all"):
        scores = scores.clone()
        if stage == "repetition":  # no repetition penalty here
            return scores
        scores[:, pad] = -math.inf
        if cur_len == max_length - 1:
            scores = torch.full_like(scores, -math.inf)
            scores[:, 0] = 0.0
        if renorm:
            scores = torch.log_softmax(scores, dim=-1)
        return scores
    return process


def _toy_stepper(fs, repeat, start):
    prefixes = [[start] for _ in range(len(fs) * repeat)]
    fed = [False]

    def step(last):
        if fed[0]:
            for r in range(len(prefixes)):
                prefixes[r] = prefixes[r] + [int(last[r])]
        fed[0] = True
        return torch.tensor(np.stack([fs[r // repeat](prefixes[r]) for r in range(len(prefixes))]))

    def reorder(index):
        prefixes[:] = [list(prefixes[int(i)]) for i in index]

    return step, reorder


def scalar_beam_search(f, n, vocab, start, eos, max_length, process, lp, es):
    """Straightforward per-sentence restatement of transformers' beam search
    (same float32 arithmetic), used to cross-check the vectorised one."""
    running = [(np.float32(0.0), [start])] + [(np.float32(NEG_LARGE), [start]) for _ in range(n - 1)]
    finished = []
    still_open = True
    cur_len = 1
    while True:
        cands = []
        for b, (score, seq) in enumerate(running):
            logits = torch.tensor(f(seq))[None]
            logp = process(torch.log_softmax(logits, dim=-1), cur_len, max_length)[0]
            acc = (logp + torch.tensor(score)).numpy()
            for t in range(vocab):
                cands.append((acc[t], b * vocab + t, seq + [t]))
        cands.sort(key=lambda c: (-c[0], c[1]))
        top = cands[:2 * n]
        hit = [c[2][-1] == eos or cur_len + 1 >= max_length for c in top]
        if still_open and not (es is True and len(finished) == n):
            for i in range(n):
                if hit[i]:
                    finished.append((np.float32(top[i][0]) / np.float32(cur_len ** lp), top[i][2][1:]))
            finished.sort(key=lambda x: -x[0])
            finished = finished[:n]
        running = [(c[0], c[2]) for c, h in zip(top, hit) if not h][:n]
        cur_len += 1
        if len(finished) == n and running:
            length = (max_length - 1) if (es == "never" and lp > 0) else (cur_len - 1)
            best = np.float32(running[0][0]) / np.float32(length ** lp)
            if not best > min(x[0] for x in finished):
                still_open = False
        if not still_open or (es is True and len(finished) == n) or all(hit):
            break
    return [{"tokens": t, "score": float(s)} for s, t in finished]


class SearchTest(unittest.TestCase):
    def test_vectorised_beam_matches_scalar(self):
        rng = np.random.default_rng(0)
        checked = 0
        for trial in range(60):
            vocab = int(rng.choice([8, 13, 40]))
            n = int(rng.choice([1, 2, 3, 4, 5]))
            max_length = int(rng.choice([3, 5, 8, 12]))
            lp = float(rng.choice([1.0, 0.6, 2.0, 0.0, -0.5]))
            es = [False, True, "never"][int(rng.integers(3))]
            renorm = bool(rng.integers(2))
            batch = 3
            fs = [_toy(vocab, 1000 * trial + i, scale=float(rng.choice([1.0, 3.0]))) for i in range(batch)]
            start = vocab - 1
            process = _toy_process(vocab, renorm)
            step, reorder = _toy_stepper(fs, n, start)
            got = beam_search(step, reorder, batch, n, vocab, start, 0, start, max_length, process, lp, es)
            for i in range(batch):
                want = scalar_beam_search(fs[i], n, vocab, start, 0, max_length, process, lp, es)
                msg = f"trial {trial} sent {i} V={vocab} n={n} ml={max_length} lp={lp} es={es}"
                self.assertEqual([h["tokens"] for h in got[i]], [h["tokens"] for h in want], msg)
                self.assertEqual([h["score"] for h in got[i]], [h["score"] for h in want], msg)
                self.assertTrue(all(h["finished"] for h in got[i]), msg)
                checked += 1
        self.assertEqual(checked, 180)

    def test_greedy_toy(self):
        vocab, start, ml = 11, 10, 9
        fs = [_toy(vocab, s) for s in range(4)]
        process = _toy_process(vocab)
        step, _ = _toy_stepper(fs, 1, start)
        got = greedy_search(step, 4, start, 0, start, ml, process)
        for i, f in enumerate(fs):
            seq, score = [start], 0.0
            while True:
                logits = torch.tensor(f(seq))[None]
                tok = int(torch.argmax(process(logits, len(seq), ml)))
                score += float(process(torch.log_softmax(logits, -1), len(seq), ml)[0, tok])
                seq.append(tok)
                if tok == 0 or len(seq) >= ml:
                    break
            self.assertEqual(got[i]["tokens"], seq[1:])
            self.assertAlmostEqual(got[i]["score"], score, places=5)

    def test_one_beam_early_stopping_is_greedy(self):
        for name in MODELS:
            m, g = model(name), golden(name)
            srcs = g["sources"]
            greedy = m.greedy(srcs)
            beam = m.beam_search(srcs, 1, 1.0, True)
            for gr, bm in zip(greedy, beam):
                self.assertEqual(gr["tokens"], bm[0]["tokens"], name)

    def test_batch_equals_single(self):
        for name in ("tiny-joint", "tiny-separate"):
            m, g = model(name), golden(name)
            srcs = g["sources"]
            gb = m.greedy(srcs)
            for src, r in zip(srcs, gb):
                r1 = m.greedy([src])[0]
                self.assertEqual(r["tokens"], r1["tokens"], (name, src))
                self.assertAlmostEqual(r["score"], r1["score"], places=4)
            for nb, lp, es in ((4, 1.0, False), (3, 0.6, "never"), (2, 2.0, True)):
                bb = m.beam_search(srcs, nb, lp, es)
                for src, hyps in zip(srcs, bb):
                    h1 = m.beam_search([src], nb, lp, es)[0]
                    self.assertEqual([h["tokens"] for h in hyps], [h["tokens"] for h in h1], (name, src, nb))
                    for a, b in zip(hyps, h1):
                        self.assertAlmostEqual(a["score"], b["score"], places=4)

    def test_golden_is_reproducible(self):
        for name in MODELS:
            g = golden(name)
            variants = make_fixtures.MODELS[name][1]
            report = []
            again = make_fixtures.build_golden(os.path.join(DATA, name), variants, report)
            self.assertEqual(report[0][2], [], f"{name}: unstable cases")
            self.assertEqual(len(again["cases"]), len(g["cases"]))
            for a, b in zip(again["cases"], g["cases"]):
                self.assertEqual(a["input_ids"], b["input_ids"])
                self.assertEqual(a["greedy"]["tokens"], b["greedy"]["tokens"])
                self.assertEqual(a["greedy"]["text"], b["greedy"]["text"])
                self.assertAlmostEqual(a["greedy"]["score"], b["greedy"]["score"], places=4)
                self.assertTrue(np.allclose(a["first_step_logits"], b["first_step_logits"], atol=1e-5))
                for va, vb in zip(a["beam"], b["beam"]):
                    self.assertEqual({k: va[k] for k in ("num_beams", "length_penalty", "early_stopping", "max_length")},
                                     {k: vb[k] for k in ("num_beams", "length_penalty", "early_stopping", "max_length")})
                    self.assertEqual([h["tokens"] for h in va["hypotheses"]], [h["tokens"] for h in vb["hypotheses"]])
                    self.assertTrue(np.allclose([h["score"] for h in va["hypotheses"]],
                                                [h["score"] for h in vb["hypotheses"]], atol=1e-5))


if __name__ == "__main__":
    unittest.main()
