#!/usr/bin/python3
"""Train the joint English+German SentencePiece model and write the vocabulary.

Writes into the work directory:
  source.spm, target.spm   the same unigram SentencePiece model (joint vocabulary)
  vocab.json               {"</s>": 0, "<unk>": 1, <pieces in spm order>, "<pad>": last}
  prepare.json             the settings used

The model uses the OPUS-MT layout (Marian's built-in spm trainer): </s> = id 0,
<unk> = id 1, no <s>, no <pad> piece (<pad> only exists in vocab.json).
Training is deterministic: the whole corpus is used (no sentence sampling, no
shuffling) and the generator seed is fixed.  The result may depend on
--num-threads (the EM statistics are summed per thread), so keep it fixed.

Usage: /usr/bin/python3 prepare.py [--vocab-size 8000] [--num-threads 1] [--work-dir DIR]
"""

import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402


def train_spm(lines, work_dir, vocab_size, num_threads, seed):
    """Train in a scratch folder of work_dir with fixed relative file names, so
    that the trainer spec stored inside the .model (input and prefix names) and
    hence the file bytes are reproducible.  -> path of the trained model."""
    import sentencepiece as spm

    scratch = os.path.join(work_dir, "spm-train")
    os.makedirs(scratch, exist_ok=True)
    with open(os.path.join(scratch, "train.txt"), "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")
    spm.set_random_generator_seed(seed)
    cwd = os.getcwd()
    os.chdir(scratch)
    try:
        spm.SentencePieceTrainer.train(
            input="train.txt",
            model_prefix="spm",
            vocab_size=vocab_size,
            model_type="unigram",
            character_coverage=1.0,
            num_threads=num_threads,
            input_sentence_size=0,          # every sentence, no random sampling
            shuffle_input_sentence=False,
            bos_id=-1, eos_id=0, unk_id=1, pad_id=-1,   # Marian / OPUS-MT layout
            normalization_rule_name="nmt_nfkc",
            minloglevel=2,
        )
    finally:
        os.chdir(cwd)
    os.remove(os.path.join(scratch, "train.txt"))
    return scratch


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=data.DEFAULT_DATA_DIR)
    p.add_argument("--work-dir", default=data.DEFAULT_WORK_DIR)
    p.add_argument("--vocab-size", type=int, default=8000, help="SentencePiece pieces (vocab.json has one more: <pad>)")
    p.add_argument("--num-threads", "--num_threads", dest="num_threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--train-lines", type=int, default=0,
                   help="use only the first N training lines per language (0 = all; for smoke tests)")
    a = p.parse_args(argv)

    try:
        src_path, tgt_path = data.require_corpus(a.data_dir, ["train"])
    except data.RecipeError as e:
        data.die(str(e))
    os.makedirs(a.work_dir, exist_ok=True)
    lines = data.read_lines(src_path, a.train_lines) + data.read_lines(tgt_path, a.train_lines)
    print(f"training SentencePiece (unigram, {a.vocab_size} pieces) on {len(lines)} lines "
          f"of {src_path} + {tgt_path}", flush=True)
    scratch = train_spm(lines, os.path.abspath(a.work_dir), a.vocab_size, a.num_threads, a.seed)
    for name in ("source.spm", "target.spm"):
        shutil.copyfile(os.path.join(scratch, "spm.model"), os.path.join(a.work_dir, name + ".tmp"))
        os.replace(os.path.join(a.work_dir, name + ".tmp"), os.path.join(a.work_dir, name))
    shutil.rmtree(scratch)
    vocab = data.build_vocab(os.path.join(a.work_dir, "source.spm"))
    data.write_json(os.path.join(a.work_dir, "vocab.json"), vocab)
    data.write_json(os.path.join(a.work_dir, "prepare.json"), {
        "data_dir": os.path.abspath(a.data_dir), "vocab_size": a.vocab_size, "num_threads": a.num_threads,
        "seed": a.seed, "train_lines": a.train_lines, "vocab_json_size": len(vocab)})
    print(f"wrote {a.work_dir}/source.spm, target.spm, vocab.json ({len(vocab)} entries, <pad> = {vocab['<pad>']})")


if __name__ == "__main__":
    main()
