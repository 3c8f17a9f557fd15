#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

The seeds are small valid files and edge cases; libFuzzer mutates them. Run it
again after changing a seed here; the output is committed.
"""
import io
import json
import pathlib
import shutil
import struct
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE.parent / "data"
CORPUS = HERE / "corpus"


def write(target, name, content):
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())


def safetensors(header, data=b"", claimed_length=None):
    text = json.dumps(header, separators=(",", ":")).encode() if isinstance(header, dict) else header
    text += b" " * (-len(text) % 8)  # the reference writer pads to 8 bytes
    length = len(text) if claimed_length is None else claimed_length
    return struct.pack("<Q", length) + text + data


def main():
    shutil.rmtree(CORPUS, ignore_errors=True)

    # safetensors: header + tensor table + data.
    f32 = struct.pack("<4f", 1.0, -2.0, 0.5, 3.0)
    write("safetensors", "three_dtypes.safetensors", safetensors({
        "__metadata__": {"format": "pt"},
        "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
        "h": {"dtype": "F16", "shape": [2], "data_offsets": [16, 20]},
        "b": {"dtype": "BF16", "shape": [1], "data_offsets": [20, 22]},
    }, f32 + struct.pack("<3H", 0x3C00, 0xC000, 0x3FC0)))
    names = ["model.shared.weight", "model.encoder.layers.0.self_attn.q_proj.weight",
             "model.encoder.layers.0.self_attn.q_proj.bias", "final_logits_bias"]
    header, offset = {}, 0
    for name, shape in zip(names, [[3, 2], [2, 2], [2], [1, 3]]):
        size = 4 * shape[0] * (shape[1] if len(shape) > 1 else 1)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    write("safetensors", "marian_names.safetensors", safetensors(header, bytes(range(offset))))
    write("safetensors", "empty_header.safetensors", safetensors({}))
    write("safetensors", "scalar_and_empty.safetensors", safetensors({
        "s": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]},
        "e": {"dtype": "F16", "shape": [0, 5], "data_offsets": [4, 4]},
    }, f32[:4]))
    write("safetensors", "length_past_end.safetensors", safetensors({}, claimed_length=1000))
    write("safetensors", "overlap.safetensors", safetensors({
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},
    }, f32[:8]))
    write("safetensors", "unknown_dtype.safetensors", safetensors({
        "w": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}}, f32[:8]))

    # config.json and generation_config.json: the test models', a real-looking
    # OPUS-MT one, edge cases.
    for model in ["tiny-joint", "tiny-separate", "tiny-gelu"]:
        write("config", model + ".json", (DATA / model / "config.json").read_bytes())
        write("generation_config", model + ".json",
              (DATA / model / "generation_config.json").read_bytes())
    write("config", "opus_mt_en_de.json", json.dumps({
        "activation_function": "swish", "architectures": ["MarianMTModel"],
        "bad_words_ids": [[58100]], "d_model": 512, "decoder_attention_heads": 8,
        "decoder_ffn_dim": 2048, "decoder_layers": 6, "decoder_start_token_id": 58100,
        "decoder_vocab_size": 58101, "encoder_attention_heads": 8, "encoder_ffn_dim": 2048,
        "encoder_layers": 6, "eos_token_id": 0, "forced_eos_token_id": 0,
        "is_encoder_decoder": True, "max_length": 512, "max_position_embeddings": 512,
        "model_type": "marian", "normalize_before": False, "normalize_embedding": False,
        "num_beams": 4, "pad_token_id": 58100, "scale_embedding": True,
        "share_encoder_decoder_embeddings": True, "static_position_embeddings": True,
        "tie_word_embeddings": True, "vocab_size": 58101}, indent=2))
    write("config", "empty_object.json", "{}")
    write("config", "nulls.json", '{"d_model": null, "vocab_size": null, "eos_token_id": null}')
    write("config", "huge_numbers.json",
          '{"vocab_size": 18446744073709551615, "d_model": -9223372036854775808, "x": 1e400}')
    write("generation_config", "opus_mt.json", json.dumps({
        "bad_words_ids": [[58100]], "bos_token_id": 0, "decoder_start_token_id": 58100,
        "eos_token_id": 0, "forced_eos_token_id": 0, "max_length": 512, "num_beams": 4,
        "pad_token_id": 58100, "renormalize_logits": True}, indent=2))
    write("generation_config", "lists_and_never.json",
          '{"eos_token_id": [0], "early_stopping": "never", "max_new_tokens": 64,'
          ' "length_penalty": 0.6, "bad_words_ids": [[1, 2], [3]], "num_return_sequences": 2}')
    write("generation_config", "empty_object.json", "{}")

    # vocab.json: a test model's, a tiny one, edge cases.
    write("vocabulary", "tiny-joint.json", (DATA / "tiny-joint" / "vocab.json").read_bytes())
    write("vocabulary", "small.json",
          json.dumps({"</s>": 0, "<unk>": 1, "\u2581a": 2, ">>deu<<": 3, "<pad>": 4},
                     ensure_ascii=False))
    write("vocabulary", "empty_piece.json", '{"": 0, "<unk>": 1}')
    write("vocabulary", "duplicate_id.json", '{"<unk>": 0, "a": 0}')

    # Input lines: clean and broken UTF-8.
    lines = {
        "ascii.txt": b"Two dogs play in the snow.",
        "crlf.txt": b"Zwei Hunde spielen im Schnee.\r",
        "multilingual.txt": "Übermut 两只狗 🐕 ‘quotes’ ▁".encode(),
        "invalid_bytes.txt": b"bad \xff\xfe utf8 \xc3\x28 here \x80",
        "nul.txt": b"nul \x00 inside",
        "overlong_surrogate.txt": b"\xc0\xaf \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 \xf0\x9f\x90",
        "double_cr.txt": b"line\r\r",
    }
    for name, text in lines.items():
        write("input_line", name, text)

    # LineReader: byte 0 = maximum line length selector, byte 1 = ready() pattern.
    write("line_reader", "lines.txt", b"\x40\x55" + b"one\ntwo\r\n\n   \nlast without newline")
    write("line_reader", "crop_ascii.txt", b"\x07\xff" + b"short\nmuch longer than eight bytes\nok\n")
    write("line_reader", "crop_utf8.txt", b"\x05\x0f" + "ab🐕cd\nÜbermut\n".encode())
    write("line_reader", "long_tail.txt", b"\x02\x00" + b"x" * 300)
    write("line_reader", "big_limit.txt", b"\xff\xaa" + b"a\nb\n" * 40)

    # pytorch_model.bin (tests/data/pickle, made by
    # tests/reference/make_pickle_fixtures.py): both serialisations of a small
    # state dict and the hostile files; the pickle target gets the pickles.
    pickles = DATA / "pickle"
    for path in [pickles / "small-zip.bin", pickles / "small-legacy.bin",
                 *sorted((pickles / "bad").glob("*.bin"))]:
        write("pytorch", path.name, path.read_bytes())
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as z:
                for name in z.namelist():
                    if name.endswith("data.pkl"):
                        write("pickle", path.stem + ".pkl", z.read(name))
    legacy = (pickles / "small-legacy.bin").read_bytes()
    start = legacy.find(b"\x80\x02ccollections")  # the state dict pickle
    write("pickle", "small-legacy-state-dict.pkl", legacy[start:])
    write("pickle", "self_list.pkl", b"\x80\x02]q\x00" + b"h\x00a" * 8 + b".")
    write("pickle", "protocol4.pkl", b"\x80\x04\x95\x0a\x00\x00\x00\x00\x00\x00\x00"
          b"\x8c\x01a\x94\x8c\x01b\x94\x86\x94.")

    # fuzz_npz: byte 0 = 0: one .npy; else a whole .npz (a stored zip).
    f32 = npy("<f4", "(1, 4)", struct.pack("<4f", 1, 2, 3, 4))
    write("npz", "array.npy", b"\0" + f32)
    write("npz", "scalar_v2.npy", b"\0" + npy("<f2", "()", b"\0\x3c", version=2))
    write("npz", "fortran.npy", b"\0" + npy("<f4", "(2, 2)", b"\0" * 16, fortran=True))
    model_yml = b"type: transformer\ndim-emb: 4\n\0"
    write("npz", "model.npz", b"\1" + npz({
        "special:model.yml.npy": npy("|i1", f"({len(model_yml)},)", model_yml),
        "Wemb.npy": f32,
    }))
    write("npz", "deflated.npz", b"\1" + npz({"a.npy": f32}, zipfile.ZIP_DEFLATED))

    # fuzz_yaml_vocabulary: vocab.yml as marian-vocab (yaml-cpp) and PyYAML write it.
    write("yaml_vocabulary", "yaml-cpp.yml",
          '</s>: 0\n<unk>: 1\n\u2581der: 2\n"\\"": 3\n"a: b": 4\n"#": 5\nyes: 6\n"~": 7\n')
    write("yaml_vocabulary", "pyyaml.yml",
          "</s>: 0\n<unk>: 1\n\"\\u2581der\": 2\n'\"': 3\n'a: b': 4\n'#': 5\n'yes': 6\n"
          "'~': 7\n'''': 8\n")
    write("yaml_vocabulary", "alias.yml", "<unk>: &x 0\na: *x\nb: [1, {c: 2}]\n")

    # fuzz_ensemble_manifest: ensemble.yml as the recipe writes it, and with weights.
    write("ensemble_manifest", "one.yml", "# one\nmodels: [member]\n")
    write("ensemble_manifest", "two.yml", "models:\n  - a\n  - b\nweights: [0.5, 0.5]\n")
    write("ensemble_manifest", "decoding.yml",
          "models: [a, b]\nweights: [1, 0.5]\nbeam-size: 4\nnormalize: 1.4\n")


def npy(descr, shape, data, fortran=False, version=1):
    """A .npy file as numpy.save writes it (header padded to 64 bytes)."""
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}"
    prefix = 10 if version == 1 else 12
    header += " " * (-(prefix + len(header) + 1) % 64) + "\n"
    length = struct.pack("<H" if version == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([version, 0]) + length + header.encode() + data


def npz(members, compression=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, data)
    return out.getvalue()


if __name__ == "__main__":
    main()
