"""Data access shared by the recipe: paths, line reading, the MarianTokenizer
conventions, and token-based batching.

Ids follow the OPUS-MT / Hugging Face MarianTokenizer layout that heed reads:
vocab.json maps "</s>" -> 0, "<unk>" -> 1, then every other SentencePiece piece
in spm id order, and "<pad>" last.  A sentence is encoded as the vocab ids of
`spm.encode(text, out_type=str)` followed by </s>; the decoder starts from
<pad> (decoder_start_token_id).
"""

import gzip
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
DEFAULT_DATA_DIR = os.path.normpath(os.path.join(REPO, "..", "shared", "data", "multi30k"))
DEFAULT_WORK_DIR = os.path.join(HERE, "work")
# The shipped model is an ensemble directory; export.py writes one member (a/, b/).
DEFAULT_ENSEMBLE_DIR = os.path.join(REPO, "models", "multi30k-en-de")
DEFAULT_EXPORT_DIR = os.path.join(DEFAULT_ENSEMBLE_DIR, "a")
SRC_LANG, TGT_LANG = "en", "de"
SPIECE_UNDERLINE = "\u2581"


class RecipeError(Exception):
    """An error with a one-line message for the user (no traceback)."""


def die(msg, code=2):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


def require_files(paths, hint=""):
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        extra = f" ({hint})" if hint else ""
        raise RecipeError("missing file" + ("s" if len(missing) > 1 else "") + ": "
                          + ", ".join(missing) + extra)


def corpus_paths(data_dir, split):
    """(source, target) paths of a Multi30k split, e.g. 'train', 'val', 'test_2016_flickr'."""
    return (os.path.join(data_dir, f"{split}.{SRC_LANG}.gz"),
            os.path.join(data_dir, f"{split}.{TGT_LANG}.gz"))


def require_corpus(data_dir, splits):
    paths = [p for s in splits for p in corpus_paths(data_dir, s)]
    require_files(paths, f"the Multi30k data is expected under {data_dir}; pass --data-dir")
    return paths


def open_text(path, mode="rt"):
    if path.endswith(".gz"):
        return gzip.open(path, mode, encoding="utf-8")
    return open(path, mode, encoding="utf-8")


def read_lines(path, limit=0):
    """Lines of a plain or .gz text file without their line ends ('-' = stdin)."""
    if path == "-":
        lines = [l.rstrip("\r\n") for l in sys.stdin]
    else:
        with open_text(path) as f:
            lines = [l.rstrip("\r\n") for l in f]
    return lines[:limit] if limit and limit > 0 else lines


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def build_vocab(spm_path):
    """OPUS-MT style vocab: {"</s>": 0, "<unk>": 1, <other pieces in spm order>, "<pad>": last}."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=spm_path)
    vocab = {"</s>": 0, "<unk>": 1}
    for i in range(sp.get_piece_size()):
        piece = sp.id_to_piece(i)
        if sp.is_control(i) or sp.is_unknown(i) or piece in ("<s>", "</s>", "<unk>", "<pad>"):
            continue
        if piece not in vocab:
            vocab[piece] = len(vocab)
    vocab["<pad>"] = len(vocab)
    return vocab


class Tokenizer:
    """transformers.MarianTokenizer for plain text, joint vocabulary (source.spm,
    target.spm, vocab.json in `model_dir`)."""

    def __init__(self, model_dir):
        import sentencepiece as spm

        require_files([os.path.join(model_dir, n) for n in ("source.spm", "target.spm", "vocab.json")],
                      "run prepare.py first")
        with open(os.path.join(model_dir, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        self.id_to_piece = {v: k for k, v in self.vocab.items()}
        self.src_spm = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "source.spm"))
        self.tgt_spm = spm.SentencePieceProcessor(model_file=os.path.join(model_dir, "target.spm"))
        self.eos_id = self.vocab["</s>"]
        self.unk_id = self.vocab["<unk>"]
        self.pad_id = self.vocab["<pad>"]
        self.size = len(self.vocab)

    def _ids(self, sp, text):
        return [self.vocab.get(p, self.unk_id) for p in sp.encode(text, out_type=str)] + [self.eos_id]

    def encode_source(self, text):
        return self._ids(self.src_spm, text)

    def encode_target(self, text):
        return self._ids(self.tgt_spm, text)

    def decode(self, ids):
        special = {self.eos_id, self.unk_id, self.pad_id}
        pieces = [self.id_to_piece[i] for i in ids if i not in special and i in self.id_to_piece]
        return self.tgt_spm.decode_pieces(pieces).replace(SPIECE_UNDERLINE, " ").strip()


def load_parallel(tok, data_dir, split, limit=0, max_len=0):
    """Encoded (source ids, target ids) pairs of a split; pairs with a side longer
    than max_len tokens (</s> included) are dropped when max_len > 0."""
    src_path, tgt_path = corpus_paths(data_dir, split)
    src, tgt = read_lines(src_path, limit), read_lines(tgt_path, limit)
    if len(src) != len(tgt):
        raise RecipeError(f"{src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}")
    pairs = []
    for s, t in zip(src, tgt):
        a, b = tok.encode_source(s), tok.encode_target(t)
        if max_len and (len(a) > max_len or len(b) > max_len):
            continue
        pairs.append((a, b))
    return pairs


def make_batches(pairs, max_tokens, seed, epoch, shuffle=True):
    """Token-based batches: indices sorted by (target length, source length) with
    random tie-breaking, cut into batches whose padded size
    n_sentences * max(longest source, longest target) stays <= max_tokens,
    then the batch order shuffled.  Depends only on (pairs, max_tokens, seed,
    epoch), so a resumed run rebuilds exactly the same epoch."""
    rng = random.Random(seed * 1000003 + epoch)
    keys = [(len(t), len(s), rng.random(), i) for i, (s, t) in enumerate(pairs)]
    keys.sort()
    batches, cur, longest = [], [], 0
    for _, _, _, i in keys:
        s, t = pairs[i]
        l = max(longest, len(s), len(t))
        if cur and l * (len(cur) + 1) > max_tokens:
            batches.append(cur)
            cur, l = [], max(len(s), len(t))
        cur.append(i)
        longest = l
    if cur:
        batches.append(cur)
    if shuffle:
        rng.shuffle(batches)
    return batches


def collate(pairs, idx, pad_id, decoder_start_id):
    """-> dict of LongTensors: input_ids [B,S], attention_mask [B,S] (bool),
    decoder_input_ids [B,T] = [start] + target[:-1], labels [B,T] (pad where none)."""
    import torch

    src = [pairs[i][0] for i in idx]
    tgt = [pairs[i][1] for i in idx]
    b, s, t = len(idx), max(map(len, src)), max(map(len, tgt))
    input_ids = torch.full((b, s), pad_id, dtype=torch.long)
    labels = torch.full((b, t), pad_id, dtype=torch.long)
    dec_in = torch.full((b, t), pad_id, dtype=torch.long)
    for k, (x, y) in enumerate(zip(src, tgt)):
        input_ids[k, :len(x)] = torch.tensor(x)
        labels[k, :len(y)] = torch.tensor(y)
        dec_in[k, 0] = decoder_start_id
        dec_in[k, 1:len(y)] = torch.tensor(y[:-1])
    return {"input_ids": input_ids, "attention_mask": input_ids != pad_id,
            "decoder_input_ids": dec_in, "labels": labels}
