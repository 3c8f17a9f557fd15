"""Self-tests of tests/data/formats (write_formats.py, marian_convert.py).

    /usr/bin/python3 -m unittest discover -s tests/reference -p 'test_*.py'
"""

import filecmp
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import marian_convert  # noqa: E402
import write_formats  # noqa: E402
from safetensors_io import load_file  # noqa: E402

DATA = write_formats.DATA
FORMATS = write_formats.FORMATS


def src_tensors(model):
    return load_file(os.path.join(DATA, model, "model.safetensors"))


class TestFormats(unittest.TestCase):
    def test_pytorch_layouts_equal_source(self):
        for model, (layouts, _) in write_formats.PLAN.items():
            st = src_tensors(model)
            cfg = write_formats.read_json(os.path.join(DATA, model, "config.json"))
            for layout in layouts:
                if not layout.startswith("pytorch-") or layout == "pytorch-views":
                    continue
                with self.subTest(model=model, layout=layout):
                    b = torch.load(os.path.join(FORMATS, model, layout, "pytorch_model.bin"), map_location="cpu")
                    for k, v in st.items():
                        self.assertEqual(b[k].dtype, v.dtype, k)
                        self.assertTrue(torch.equal(b[k], v), k)
                    if cfg.get("tie_word_embeddings", True):
                        ptr = b["model.shared.weight"].data_ptr()
                        for k in ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight",
                                  "lm_head.weight"):
                            self.assertEqual(b[k].data_ptr(), ptr, k)
                    self.assertEqual(tuple(b["final_logits_bias"].shape), (1, cfg["vocab_size"]))
                    self.assertFalse(os.path.exists(os.path.join(FORMATS, model, layout, "model.safetensors")))

    def test_views(self):
        d = os.path.join(FORMATS, "tiny-joint", "pytorch-views")
        b = torch.load(os.path.join(d, "pytorch_model.bin"), map_location="cpu")
        exp = load_file(os.path.join(d, "expected.safetensors"))
        st = src_tensors("tiny-joint")
        p = "model.encoder.layers.0.self_attn."
        self.assertEqual([b[p + n + "_proj.weight"].storage_offset() for n in "qkv"], [0, 1024, 2048])
        self.assertFalse(b["model.encoder.layers.0.fc1.weight"].is_contiguous())
        self.assertEqual(b["model.decoder.layers.0.fc2.weight"].dtype, torch.float16)
        self.assertEqual(b["model.decoder.layers.0.fc1.weight"].dtype, torch.bfloat16)
        self.assertNotIn("lm_head.weight", exp)
        for k, v in exp.items():
            self.assertEqual(v.dtype, torch.float32)
            self.assertTrue(torch.equal(v, b[k].float()), k)
            if k not in ("model.decoder.layers.0.fc2.weight", "model.decoder.layers.0.fc1.weight"):
                self.assertTrue(torch.equal(v, st[k]), k)

    def test_f16(self):
        st = src_tensors("tiny-joint")
        h = load_file(os.path.join(FORMATS, "tiny-joint", "safetensors-f16", "model.safetensors"))
        for k, v in st.items():
            self.assertEqual(h[k].dtype, torch.float16)
            self.assertTrue(torch.equal(h[k], v.half()), k)

    def test_marian_round_trip(self):
        for model, (layouts, _) in write_formats.PLAN.items():
            if "marian" not in layouts:
                continue
            with self.subTest(model=model):
                d = os.path.join(FORMATS, model, "marian")
                sd, cfg, gen, vocab, tv = marian_convert.marian_to_hf(d)
                st = src_tensors(model)
                src_cfg = write_formats.read_json(os.path.join(DATA, model, "config.json"))
                pad = src_cfg["pad_token_id"]
                for k, v in sd.items():
                    s = st[k].float()
                    if k in ("model.shared.weight", "final_logits_bias"):
                        # the converter appends a zero <pad> row / bias entry
                        z = v[pad] if k == "model.shared.weight" else v[:, pad]
                        self.assertFalse(z.any())
                        if model == "tiny-multi":
                            self.assertTrue(torch.equal(v, s))
                        v = v[:pad] if k == "model.shared.weight" else v[:, :pad]
                        s = s[:pad] if k == "model.shared.weight" else s[:, :pad]
                    self.assertTrue(torch.equal(v, s), k)
                self.assertEqual(set(st) - set(sd),
                                 {k for k in st if "embed_positions" in k})
                self.assertEqual(vocab, write_formats.read_json(os.path.join(DATA, model, "vocab.json")))
                for key in ("vocab_size", "decoder_vocab_size", "d_model", "encoder_layers", "decoder_layers",
                            "encoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim", "activation_function",
                            "pad_token_id", "eos_token_id", "bos_token_id", "decoder_start_token_id",
                            "forced_eos_token_id", "scale_embedding", "tie_word_embeddings",
                            "share_encoder_decoder_embeddings", "static_position_embeddings",
                            "normalize_embedding", "bad_words_ids", "num_beams"):
                    self.assertEqual(cfg[key], src_cfg[key], key)
                self.assertEqual(cfg["max_position_embeddings"], cfg["d_model"])
                self.assertEqual(cfg["max_length"], 512)
                if model == "tiny-multi":
                    self.assertEqual(src_cfg["max_position_embeddings"], 32)
                exp = os.path.join(FORMATS, model, "marian.expected")
                self.assertEqual(write_formats.read_json(os.path.join(exp, "config.json")), cfg)
                self.assertEqual(write_formats.read_json(os.path.join(exp, "generation_config.json")), gen)

    def test_marian_model_yml_variants(self):
        for model, padded in (("tiny-joint", False), ("tiny-multi", True)):
            z = np.load(os.path.join(FORMATS, model, "marian", "model.npz"))
            a = z["special:model.yml"]
            self.assertEqual(a.dtype, np.int8)
            n_nul = int((a == 0).sum())
            self.assertEqual(a[-1], 0)
            if padded:
                self.assertEqual(a.shape[0] % 256, 0)
                self.assertGreater(n_nul, 1)
            else:
                self.assertEqual(n_nul, 1)

    def test_incompatible_models_refused(self):
        for model in ("tiny-separate", "tiny-gelu"):
            cfg = write_formats.read_json(os.path.join(DATA, model, "config.json"))
            self.assertIsNotNone(marian_convert.marian_incompatibility(cfg, None), model)

    def test_committed_files_reproduced(self):
        with tempfile.TemporaryDirectory() as tmp:
            write_formats.write_all(root=tmp)
            cmp = filecmp.dircmp(tmp, FORMATS)
            stack = [cmp]
            while stack:
                c = stack.pop()
                self.assertEqual(c.left_only, [], c.left)
                self.assertEqual(c.right_only, [], c.right)
                _, mismatch, errors = filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)
                self.assertEqual(mismatch + errors, [], c.left)
                stack.extend(c.subdirs.values())


if __name__ == "__main__":
    unittest.main()
