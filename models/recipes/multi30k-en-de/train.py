#!/usr/bin/python3
"""Train the Marian transformer (model.py) on Multi30k English->German.

  * label-smoothed cross entropy (0.1), padding ignored;
  * Adam (0.9, 0.98, eps 1e-9), linear warmup then inverse-sqrt decay:
        lr(step) = lr * min(step / warmup, sqrt(warmup / step));
  * dropout (+ attention / activation dropout flags), gradient clipping;
  * token-based batches (sentences sorted by length, cut into batches of at
    most --max-tokens padded tokens, batch order shuffled with a fixed seed);
  * after every epoch: validation NLL / perplexity and greedy BLEU on the
    first --val-bleu-lines validation sentences; early stopping on
    --early-stop-metric with --patience;
  * checkpoints (see checkpoints.py): work/checkpoints/last.pt every
    --save-every-minutes and every epoch; step-N.pt (weights + metrics) every
    epoch, keeping the last --keep-last and the best --keep-best;
  * resume: automatic when work/checkpoints/last.pt exists; the run continues
    exactly where the checkpoint was taken (same data order, RNG states,
    optimizer and schedule), bit-for-bit with the same --threads;
  * --time-budget-minutes: total training wall time over all resumed runs;
    when spent, the model is validated, checkpointed, and the run ends cleanly.
    SIGINT / SIGTERM do the same (checkpoint, exit), a second one kills.

Logs go to stdout and to work/train.log.

Usage: /usr/bin/python3 train.py [--threads 2] [--time-budget-minutes 150] [options]
"""

import argparse
import math
import os
import random
import signal
import sys
import time


if __name__ == "__main__":  # before torch is imported: route GEMMs to oneDNN (see fastblas.py)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import fastblas
    fastblas.enable()

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoints  # noqa: E402
import data  # noqa: E402
import search  # noqa: E402
from bleu import corpus_bleu, corpus_chrf  # noqa: E402
from model import MarianMTModel, ModelConfig, count_parameters  # noqa: E402

ARCH_FLAGS = ("d_model", "encoder_layers", "decoder_layers", "heads", "ffn", "activation", "max_positions")


def build_parser():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    g = p.add_argument_group("paths")
    g.add_argument("--data-dir", default=data.DEFAULT_DATA_DIR)
    g.add_argument("--work-dir", default=data.DEFAULT_WORK_DIR)
    g = p.add_argument_group("model (taken from the checkpoint when resuming)")
    g.add_argument("--d-model", type=int, default=256)
    g.add_argument("--encoder-layers", type=int, default=3)
    g.add_argument("--decoder-layers", type=int, default=3)
    g.add_argument("--heads", type=int, default=4)
    g.add_argument("--ffn", type=int, default=1024)
    g.add_argument("--activation", choices=["swish", "relu", "gelu", "gelu_new"], default="swish")
    g.add_argument("--max-positions", type=int, default=512, help="max_position_embeddings")
    g = p.add_argument_group("regularisation")
    g.add_argument("--dropout", type=float, default=0.2)
    g.add_argument("--attention-dropout", type=float, default=0.0)
    g.add_argument("--activation-dropout", type=float, default=0.0)
    g.add_argument("--label-smoothing", type=float, default=0.1)
    g = p.add_argument_group("optimisation")
    g.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (reached after warmup)")
    g.add_argument("--warmup-steps", type=int, default=1000)
    g.add_argument("--adam-betas", type=float, nargs=2, default=(0.9, 0.98))
    g.add_argument("--adam-eps", type=float, default=1e-9)
    g.add_argument("--weight-decay", type=float, default=0.0)
    g.add_argument("--clip-norm", type=float, default=1.0, help="0 = no clipping")
    g.add_argument("--max-tokens", type=int, default=4096,
                   help="padded tokens per batch: sentences * max(source, target length)")
    g.add_argument("--max-len", type=int, default=128, help="drop training pairs with a longer side (tokens)")
    g = p.add_argument_group("stopping")
    g.add_argument("--max-epochs", type=int, default=100)
    g.add_argument("--max-steps", type=int, default=0, help="stop after N updates (0 = no limit)")
    g.add_argument("--time-budget-minutes", type=float, default=0.0,
                   help="total training wall time over all (resumed) runs; 0 = no limit")
    g.add_argument("--patience", type=int, default=8, help="epochs without improvement before stopping")
    g.add_argument("--early-stop-metric", choices=["bleu", "nll"], default=None,
                   help="default: bleu when --val-bleu-lines > 0, else nll")
    g = p.add_argument_group("validation")
    g.add_argument("--val-bleu-lines", type=int, default=100000,
                   help="greedy-decode the first N validation sentences per epoch (default: all; 0 = off)")
    g.add_argument("--val-batch-size", type=int, default=100)
    g.add_argument("--val-max-length", type=int, default=128)
    g = p.add_argument_group("checkpoints")
    g.add_argument("--save-every-minutes", type=float, default=5.0)
    g.add_argument("--keep-last", type=int, default=10)
    g.add_argument("--keep-best", type=int, default=5)
    g.add_argument("--resume", action="store_true",
                   help="require a checkpoint to resume from (resuming is automatic anyway)")
    g = p.add_argument_group("misc")
    g.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--log-every", type=int, default=50, help="updates between log lines")
    g.add_argument("--train-lines", type=int, default=0, help="first N training pairs only (smoke tests)")
    g.add_argument("--val-lines", type=int, default=0, help="first N validation pairs only (smoke tests)")
    return p


class Log:
    def __init__(self, path):
        self.f = open(path, "a", encoding="utf-8")

    def __call__(self, msg):
        line = time.strftime("%Y-%m-%d %H:%M:%S ") + msg
        print(line, flush=True)
        self.f.write(line + "\n")
        self.f.flush()


def model_config(a, vocab_size, pad_id):
    return ModelConfig(vocab_size=vocab_size, pad_token_id=pad_id, eos_token_id=0, d_model=a.d_model,
                       encoder_layers=a.encoder_layers, decoder_layers=a.decoder_layers,
                       encoder_attention_heads=a.heads, decoder_attention_heads=a.heads,
                       encoder_ffn_dim=a.ffn, decoder_ffn_dim=a.ffn, activation_function=a.activation,
                       dropout=a.dropout, attention_dropout=a.attention_dropout,
                       activation_dropout=a.activation_dropout, max_position_embeddings=a.max_positions)


def lr_at(step, a):
    step = max(step, 1)
    return a.lr * min(step / a.warmup_steps, math.sqrt(a.warmup_steps / step))


def smoothed_loss(logits, y, eps):
    """Label-smoothed cross entropy, mean over tokens (= F.cross_entropy(...,
    label_smoothing=eps)), and the plain NLL (detached), from one log_softmax."""
    lprobs = torch.log_softmax(logits, dim=-1)
    nll = -lprobs.gather(1, y[:, None]).squeeze(1)
    smooth = -lprobs.mean(dim=-1)
    return ((1.0 - eps) * nll + eps * smooth).mean(), nll.detach().mean()


def rng_state():
    return {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state()}


def set_rng_state(s):
    torch.set_rng_state(s["torch"])
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])


@torch.no_grad()
def validate(model, pairs, val_src, val_ref, tok, a):
    model.eval()
    nll, ntok = 0.0, 0
    pad = model.config.pad_token_id
    for idx in data.make_batches(pairs, a.max_tokens, 0, 0, shuffle=False):
        b = data.collate(pairs, idx, pad, model.config.decoder_start_token_id)
        h = model(b["input_ids"], b["attention_mask"], b["decoder_input_ids"])
        sel = b["labels"] != pad
        nll += float(F.cross_entropy(model.logits(h[sel]), b["labels"][sel], reduction="sum"))
        ntok += int(sel.sum())
    m = {"val_nll": nll / ntok, "val_ppl": math.exp(min(nll / ntok, 50))}
    if a.val_bleu_lines > 0:
        t0 = time.time()
        hyps = search.translate(model, tok, val_src, beam_size=1, max_length=a.val_max_length,
                                batch_size=a.val_batch_size)
        m["val_bleu"] = corpus_bleu(hyps, val_ref).score
        m["val_chrf"] = corpus_chrf(hyps, val_ref)
        m["val_decode_seconds"] = time.time() - t0
        m["val_example"] = hyps[0]
    model.train()
    return m


def improved(metric, value, best):
    if best is None:
        return True
    return value > best if metric == "bleu" else value < best


def main(argv=None):
    a = build_parser().parse_args(argv)
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    try:
        data.require_corpus(a.data_dir, ["train", "val"])
        tok = data.Tokenizer(a.work_dir)
    except data.RecipeError as e:
        data.die(str(e))
    os.makedirs(checkpoints.ckpt_dir(a.work_dir), exist_ok=True)
    log = Log(os.path.join(a.work_dir, "train.log"))
    metric = a.early_stop_metric or ("bleu" if a.val_bleu_lines > 0 else "nll")

    last = checkpoints.last_path(a.work_dir)
    state = None
    if os.path.exists(last):
        state = checkpoints.load(last)
        config = ModelConfig.from_dict(state["config"])
        log(f"resuming from {last}: epoch {state['epoch']} batch {state['batch_idx']} step {state['step']} "
            f"({state['train_seconds'] / 60:.1f} min trained)")
        old = state["args"]
        for k in ARCH_FLAGS:
            if getattr(a, k) != old.get(k):
                log(f"warning: --{k.replace('_', '-')} {getattr(a, k)} ignored: the checkpoint has {old.get(k)}")
        for k in ("max_tokens", "seed", "train_lines", "max_len"):
            if getattr(a, k) != old.get(k):
                log(f"warning: --{k.replace('_', '-')} changed from {old.get(k)} to {getattr(a, k)}: "
                    "the data order will differ from an uninterrupted run")
        if config.vocab_size != tok.size:
            data.die(f"{a.work_dir}/vocab.json has {tok.size} entries but the checkpoint's model "
                     f"{config.vocab_size}: prepare.py was rerun; delete {checkpoints.ckpt_dir(a.work_dir)}")
    elif a.resume:
        data.die(f"--resume: no checkpoint at {last}")
    else:
        config = model_config(a, tok.size, tok.pad_id)

    torch.manual_seed(a.seed)
    random.seed(a.seed)
    np.random.seed(a.seed)
    model = MarianMTModel(config)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=tuple(a.adam_betas), eps=a.adam_eps,
                           weight_decay=a.weight_decay)
    if state is None:
        state = {"epoch": 0, "batch_idx": 0, "step": 0, "train_seconds": 0.0, "history": [],
                 "best": None, "bad_epochs": 0, "stopped": None, "tokens": 0}
    else:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        set_rng_state(state["rng"])
        if ((state.get("stopped") == "early_stopping" and state["bad_epochs"] >= a.patience)
                or state["epoch"] >= a.max_epochs):
            log(f"training already finished ({state['stopped']}); raise --patience / --max-epochs to continue")
            return 0

    t0 = time.time()
    train_pairs = data.load_parallel(tok, a.data_dir, "train", a.train_lines, a.max_len)
    val_pairs = data.load_parallel(tok, a.data_dir, "val", a.val_lines)
    val_src_path, val_ref_path = data.corpus_paths(a.data_dir, "val")
    n_bleu = min(a.val_bleu_lines, len(val_pairs)) if a.val_bleu_lines > 0 else 0
    val_src = data.read_lines(val_src_path, n_bleu) if n_bleu else []
    val_ref = data.read_lines(val_ref_path, n_bleu) if n_bleu else []
    src_toks = sum(len(s) for s, _ in train_pairs)
    tgt_toks = sum(len(t) for _, t in train_pairs)
    n_params = count_parameters(model)
    log(f"data: {len(train_pairs)} training pairs ({src_toks} source + {tgt_toks} target tokens), "
        f"{len(val_pairs)} validation pairs; encoded in {time.time() - t0:.1f}s")
    log(f"model: d_model {config.d_model}, layers {config.encoder_layers}+{config.decoder_layers}, heads "
        f"{config.encoder_attention_heads}, ffn {config.encoder_ffn_dim}, vocab {config.vocab_size}, "
        f"{n_params / 1e6:.2f}M parameters (~{n_params * 2 / 1e6:.1f} MB in F16); threads {a.threads}; "
        f"GEMM: {'oneDNN (fastblas)' if os.environ.get('HEED_FASTBLAS_ACTIVE') == '1' else 'default BLAS'}")
    log("args: " + " ".join(f"{k}={v}" for k, v in sorted(vars(a).items())))

    stop = {"signal": None}

    def on_signal(signum, _frame):
        stop["signal"] = signal.Signals(signum).name
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    seg_start = time.time()
    base_seconds = state["train_seconds"]

    def trained_seconds():
        return base_seconds + (time.time() - seg_start)

    def save_last():
        state["train_seconds"] = trained_seconds()
        state.update(model=model.state_dict(), optimizer=opt.state_dict(), rng=rng_state(),
                     config=config.to_dict(), args=vars(a))
        checkpoints.save_atomic(state, last)
        for k in ("model", "optimizer", "rng"):
            del state[k]

    def end_of_period(partial, n_batches):
        """Validate, write a step checkpoint, update early stopping. -> metrics.
        `epoch` counts epochs done (fractional for a partial one)."""
        m = validate(model, val_pairs, val_src, val_ref, tok, a)
        done = state["epoch"] + (state["batch_idx"] / n_batches if partial else 1)
        m.update(epoch=round(done, 3), step=state["step"], partial=partial, train_minutes=trained_seconds() / 60)
        example = m.pop("val_example", None)
        state["history"].append(m)
        checkpoints.save_atomic({"config": config.to_dict(), "model": model.state_dict(), "metrics": m,
                                 "step": state["step"], "epoch": state["epoch"]},
                                checkpoints.step_path(a.work_dir, state["step"]))
        checkpoints.prune(a.work_dir, a.keep_last, a.keep_best, "val_bleu" if metric == "bleu" else "val_nll")
        value = m["val_bleu"] if metric == "bleu" else m["val_nll"]
        if not partial:
            if improved(metric, value, state["best"]):
                state["best"], state["bad_epochs"] = value, 0
            else:
                state["bad_epochs"] += 1
        msg = (f"validation after {m['epoch']:g} epochs, step {state['step']}: "
               f"nll {m['val_nll']:.4f} ppl {m['val_ppl']:.2f}")
        if "val_bleu" in m:
            msg += (f" greedy BLEU {m['val_bleu']:.2f} chrF2 {m['val_chrf']:.2f} on {len(val_src)} sentences "
                    f"({m['val_decode_seconds']:.0f}s)")
        log(msg + f"; best {metric} {state['best']}, {state['bad_epochs']} epoch(s) without improvement")
        if example is not None:
            log(f"  {val_src[0]!r} -> {example[:200]!r}")
        return m

    def budget_spent():
        return a.time_budget_minutes > 0 and trained_seconds() >= a.time_budget_minutes * 60

    if budget_spent():
        log(f"time budget of {a.time_budget_minutes} min already spent; raise --time-budget-minutes to continue")
        return 0
    if a.max_steps and state["step"] >= a.max_steps:
        log(f"--max-steps {a.max_steps} already reached")
        return 0

    model.train()
    pad = config.pad_token_id
    last_save = time.time()
    win = {"t": time.time(), "src": 0, "tgt": 0, "loss": 0.0, "nll": 0.0, "n": 0}
    reason = None
    while state["epoch"] < a.max_epochs and reason is None:
        batches = data.make_batches(train_pairs, a.max_tokens, a.seed, state["epoch"])
        if state["batch_idx"] == 0:
            log(f"epoch {state['epoch'] + 1}: {len(batches)} batches")
        while state["batch_idx"] < len(batches):
            idx = batches[state["batch_idx"]]
            b = data.collate(train_pairs, idx, pad, config.decoder_start_token_id)
            step = state["step"] + 1
            lr = lr_at(step, a)
            for g in opt.param_groups:
                g["lr"] = lr
            h = model(b["input_ids"], b["attention_mask"], b["decoder_input_ids"])
            sel = b["labels"] != pad
            y = b["labels"][sel]
            loss, nll = smoothed_loss(model.logits(h[sel]), y, a.label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if a.clip_norm > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip_norm)
            opt.step()
            state["step"] = step
            state["batch_idx"] += 1
            n_tgt = int(sel.sum())
            n_src = int(b["attention_mask"].sum())
            state["tokens"] += n_tgt
            win["src"] += n_src
            win["tgt"] += n_tgt
            win["loss"] += float(loss) * n_tgt
            win["nll"] += float(nll) * n_tgt
            win["n"] += 1
            if step % a.log_every == 0:
                dt = time.time() - win["t"]
                log(f"epoch {state['epoch'] + 1} batch {state['batch_idx']}/{len(batches)} step {step} "
                    f"lr {lr:.2e} loss {win['loss'] / win['tgt']:.4f} nll {win['nll'] / win['tgt']:.4f} | "
                    f"{win['tgt'] / dt:.0f} tgt tok/s, {(win['src'] + win['tgt']) / dt:.0f} src+tgt tok/s, "
                    f"{dt / win['n']:.3f} s/batch | trained {trained_seconds() / 60:.1f} min")
                win = {"t": time.time(), "src": 0, "tgt": 0, "loss": 0.0, "nll": 0.0, "n": 0}
            if stop["signal"]:
                reason = "signal"
            elif budget_spent():
                reason = "time_budget"
            elif a.max_steps and step >= a.max_steps:
                reason = "max_steps"
            if reason:
                break
            if time.time() - last_save >= a.save_every_minutes * 60:
                t_save = time.time()
                save_last()
                last_save = time.time()
                win["t"] += last_save - t_save  # keep checkpoint time out of tokens/s
                log(f"checkpoint {last} (epoch {state['epoch'] + 1} batch {state['batch_idx']})")
        if reason is None:
            t_val = time.time()
            end_of_period(False, len(batches))
            state["epoch"] += 1
            state["batch_idx"] = 0
            if state["bad_epochs"] >= a.patience:
                reason = "early_stopping"
                log(f"early stopping: {a.patience} epochs without {metric} improvement")
            if stop["signal"]:
                reason = reason or "signal"
            save_last()
            last_save = time.time()
            win["t"] += last_save - t_val  # keep validation time out of tokens/s
    if reason is None:
        reason = "max_epochs"
    if reason in ("time_budget", "max_steps") and state["batch_idx"] > 0:
        end_of_period(True, len(batches))
    state["stopped"] = reason
    save_last()
    log(f"stopped ({reason}) at epoch {state['epoch'] + (1 if state['batch_idx'] else 0)} step {state['step']} "
        f"after {trained_seconds() / 60:.1f} min of training; checkpoint {last}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
