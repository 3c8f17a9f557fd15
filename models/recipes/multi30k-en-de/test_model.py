"""Checks that model.py / search.py / hf_format.py match Hugging Face MarianMT
semantics, using the independent PyTorch reference of the heed test suite
(tests/reference/marian_ref.py) on the tiny random models in tests/data/.

Run: cd models/recipes/multi30k-en-de && /usr/bin/python3 -m unittest
"""

import os
import struct
import sys
import tempfile
import unittest

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402
import search  # noqa: E402
from hf_format import load_model_dir, write_model_dir  # noqa: E402
from model import MarianMTModel, ModelConfig, sinusoidal_table  # noqa: E402
from safetensors_io import load_file  # noqa: E402

REF_DIR = os.path.join(data.REPO, "tests", "reference")
TINY = [os.path.join(data.REPO, "tests", "data", n) for n in ("tiny-joint", "tiny-gelu")]
SENTENCES = ["Two dogs play in the snow.", "A man is riding a bike.", "A little girl climbing into a wooden playhouse."]


def _marian_ref():
    sys.path.insert(0, REF_DIR)
    import marian_ref  # noqa: E402

    return marian_ref


@unittest.skipUnless(all(os.path.isdir(d) for d in TINY) and os.path.isdir(REF_DIR), "heed test data not found")
class AgainstReferenceTest(unittest.TestCase):
    def test_logits_match(self):
        ref_mod = _marian_ref()
        for d in TINY:
            ref = ref_mod.MarianRef(d)
            m, _ = load_model_dir(d)
            tok = data.Tokenizer(d)
            for s in SENTENCES:
                ids = tok.encode_source(s)
                self.assertEqual(ids, ref.tok.encode_source(s))
                dec = [m.config.pad_token_id, 5, 17, 42, 3]
                want = ref.forward_logits(ids, dec)
                x = torch.tensor([ids])
                with torch.no_grad():
                    got = m.logits(m(x, x != m.config.pad_token_id, torch.tensor([dec])))[0]
                torch.testing.assert_close(got, want, rtol=1e-4, atol=1e-4)

    def test_incremental_matches_full(self):
        m, _ = load_model_dir(TINY[0])
        tok = data.Tokenizer(TINY[0])
        ids = torch.tensor([tok.encode_source(SENTENCES[0])])
        mask = ids != m.config.pad_token_id
        dec = torch.tensor([[m.config.pad_token_id, 7, 9, 11]])
        with torch.no_grad():
            full = m.logits(m(ids, mask, dec))[0]
            cache = m.init_cache(m.encode(ids, mask), mask)
            steps = torch.stack([m.decode_step(dec[:, i:i + 1], cache)[0] for i in range(dec.shape[1])])
        torch.testing.assert_close(steps, full, rtol=1e-5, atol=1e-5)

    def test_search_matches(self):
        ref_mod = _marian_ref()
        ref = ref_mod.MarianRef(TINY[0])
        m, gen = load_model_dir(TINY[0])
        tok = data.Tokenizer(TINY[0])
        ids = [tok.encode_source(s) for s in SENTENCES]
        ml = gen["max_length"]
        got = search.greedy(m, ids, ml)
        want = [r["tokens"] for r in ref.greedy(SENTENCES, max_length=ml)]
        self.assertEqual(got, want)
        for beams in (2, 4):
            got = search.beam_search(m, ids, beams, ml)
            want = [h[0]["tokens"] for h in ref.beam_search(SENTENCES, beams, max_length=ml)]
            self.assertEqual(got, want)


class ExportTest(unittest.TestCase):
    def test_positions_layout(self):
        t = sinusoidal_table(5, 6)
        self.assertAlmostEqual(float(t[3, 0]), float(torch.sin(torch.tensor(3.0, dtype=torch.float64))), places=6)
        self.assertAlmostEqual(float(t[3, 3]), float(torch.cos(torch.tensor(3.0, dtype=torch.float64))), places=6)

    def test_round_trip_and_layout(self):
        torch.manual_seed(0)
        cfg = ModelConfig(vocab_size=601, pad_token_id=600, d_model=32, encoder_layers=2, decoder_layers=1,
                          encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
                          decoder_ffn_dim=64, max_position_embeddings=64)
        m = MarianMTModel(cfg)
        with torch.no_grad():
            m.final_logits_bias.normal_()
        with tempfile.TemporaryDirectory() as td:
            for dtype in ("f32", "f16"):
                path = write_model_dir(td, m.state_dict(), cfg, TINY[0], dtype)
                with open(path, "rb") as f:
                    (n,) = struct.unpack("<Q", f.read(8))
                self.assertEqual((8 + n) % 8, 0)
                w = load_file(path)
                self.assertIn("model.shared.weight", w)
                self.assertNotIn("lm_head.weight", w)
                self.assertEqual(list(w["final_logits_bias"].shape), [1, 601])
                self.assertEqual(w["model.shared.weight"].dtype,
                                 torch.float16 if dtype == "f16" else torch.float32)
                m2, gen = load_model_dir(td)
                self.assertEqual(gen["decoder_start_token_id"], 600)
                self.assertEqual(gen["bad_words_ids"], [[600]])
                for k, v in m.state_dict().items():
                    v2 = m2.state_dict()[k]
                    if dtype == "f32":
                        self.assertTrue(torch.equal(v, v2), k)
                    else:
                        self.assertTrue(torch.equal(v.half().float(), v2), k)


class BatchingTest(unittest.TestCase):
    def test_deterministic_and_bounded(self):
        pairs = [([1] * (i % 17 + 1), [2] * (i % 13 + 1)) for i in range(500)]
        b1 = data.make_batches(pairs, 100, 3, 2)
        b2 = data.make_batches(pairs, 100, 3, 2)
        self.assertEqual(b1, b2)
        self.assertNotEqual(b1, data.make_batches(pairs, 100, 3, 3))
        self.assertEqual(sorted(i for b in b1 for i in b), list(range(500)))
        for b in b1:
            longest = max(max(len(pairs[i][0]), len(pairs[i][1])) for i in b)
            self.assertLessEqual(longest * len(b), 100)

    def test_collate(self):
        pairs = [([5, 6, 0], [7, 8, 9, 0]), ([5, 0], [7, 0])]
        b = data.collate(pairs, [0, 1], 99, 99)
        self.assertEqual(b["decoder_input_ids"].tolist(), [[99, 7, 8, 9], [99, 7, 99, 99]])
        self.assertEqual(b["labels"].tolist(), [[7, 8, 9, 0], [7, 0, 99, 99]])
        self.assertEqual(b["attention_mask"].tolist(), [[True, True, True], [True, True, False]])


if __name__ == "__main__":
    unittest.main()
