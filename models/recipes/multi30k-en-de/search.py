"""Greedy and beam search over model.MarianMTModel with the semantics of
transformers' generate() for Marian (what heed reproduces):

  * the decoder starts from decoder_start_token_id (= <pad>);
  * logits processors: <pad> (and bad_words_ids) banned, ForcedEOS at
    max_length - 1; max_length counts the start token;
  * greedy: argmax until </s> or max_length;
  * beam search: transformers' vectorised `_beam_search` (2*num_beams
    candidates per step, length_penalty exponent on the generated length,
    early_stopping False = the "heuristic" stopping rule).
"""

import math

import torch

NEG_LARGE = -1.0e9


def _process(scores, cur_len, max_length, bad_ids, eos_id):
    scores = scores.clone()
    if bad_ids:
        scores[:, bad_ids] = -math.inf
    if cur_len == max_length - 1:
        scores = torch.full_like(scores, -math.inf)
        scores[:, eos_id] = 0.0
    return scores


def _encode_batch(model, id_lists, pad_id):
    s = max(len(x) for x in id_lists)
    ids = torch.full((len(id_lists), s), pad_id, dtype=torch.long)
    for i, x in enumerate(id_lists):
        ids[i, :len(x)] = torch.tensor(x, dtype=torch.long)
    mask = ids != pad_id
    return model.encode(ids, mask), mask


@torch.no_grad()
def greedy(model, id_lists, max_length=256):
    """-> list of generated id lists (</s> included when produced)."""
    c = model.config
    pad, eos = c.pad_token_id, c.eos_token_id
    enc, mask = _encode_batch(model, id_lists, pad)
    cache = model.init_cache(enc, mask)
    b = len(id_lists)
    out = [[] for _ in range(b)]
    done = torch.zeros(b, dtype=torch.bool)
    cur = torch.full((b, 1), c.decoder_start_token_id, dtype=torch.long)
    cur_len = 1
    while True:
        logits = _process(model.decode_step(cur, cache), cur_len, max_length, [pad], eos)
        nxt = torch.argmax(logits, dim=-1)
        for i in range(b):
            if not done[i]:
                out[i].append(int(nxt[i]))
                if int(nxt[i]) == eos:
                    done[i] = True
        cur_len += 1
        if cur_len >= max_length or bool(done.all()):
            break
        cur = torch.where(done, torch.full_like(nxt, pad), nxt)[:, None]
    return out


@torch.no_grad()
def beam_search(model, id_lists, num_beams=4, max_length=256, length_penalty=1.0):
    """-> list of the best hypothesis' ids per source (</s> included when produced)."""
    c = model.config
    pad, eos = c.pad_token_id, c.eos_token_id
    n = num_beams
    b = len(id_lists)
    enc, mask = _encode_batch(model, id_lists, pad)
    enc = enc.repeat_interleave(n, dim=0)
    mask = mask.repeat_interleave(n, dim=0)
    cache = model.init_cache(enc, mask)
    k_keep = 2 * n
    top_mask = torch.cat([torch.ones(n, dtype=torch.bool), torch.zeros(k_keep - n, dtype=torch.bool)])

    running = torch.full((b, n, max_length), pad, dtype=torch.long)
    running[:, :, 0] = c.decoder_start_token_id
    fin = running.clone()
    run_scores = torch.zeros((b, n))
    run_scores[:, 1:] = NEG_LARGE
    fin_scores = torch.full((b, n), NEG_LARGE)
    fin_flag = torch.zeros((b, n), dtype=torch.bool)
    fin_len = torch.zeros((b, n), dtype=torch.long)
    unsatisfied = torch.ones((b, 1), dtype=torch.bool)
    cur_len = 1
    while True:
        last = running[:, :, cur_len - 1].reshape(b * n, 1)
        logits = model.decode_step(last, cache)
        v = logits.shape[-1]
        logp = _process(torch.log_softmax(logits, dim=-1), cur_len, max_length, [pad], eos)
        acc = (logp.view(b, n, v) + run_scores[:, :, None]).reshape(b, n * v)
        top_scores, top_idx = torch.topk(acc, k=k_keep)
        src_beam = top_idx // v
        tok = top_idx % v
        cand = torch.take_along_dim(running, src_beam[:, :, None], dim=1)
        cand[:, :, cur_len] = tok
        hits = (tok == eos) | (cur_len + 1 >= max_length)

        run_cand = top_scores + hits.float() * NEG_LARGE
        nxt = torch.topk(run_cand, k=n)[1]
        running = torch.take_along_dim(cand, nxt[:, :, None], dim=1)
        run_scores = torch.take_along_dim(run_cand, nxt, dim=1)
        run_src = torch.take_along_dim(src_beam, nxt, dim=1)

        just = hits & top_mask[None, :]
        fs = top_scores / (cur_len ** length_penalty)
        fs = fs + (~unsatisfied).float() * NEG_LARGE + (~just).float() * NEG_LARGE
        m_seqs = torch.cat([fin, cand], dim=1)
        m_scores = torch.cat([fin_scores, fs], dim=1)
        m_flag = torch.cat([fin_flag, just], dim=1)
        m_len = torch.cat([fin_len, torch.full((b, k_keep), cur_len, dtype=torch.long)], dim=1)
        sel = torch.topk(m_scores, k=n)[1]
        fin = torch.take_along_dim(m_seqs, sel[:, :, None], dim=1)
        fin_scores = torch.take_along_dim(m_scores, sel, dim=1)
        fin_flag = torch.take_along_dim(m_flag, sel, dim=1)
        fin_len = torch.take_along_dim(m_len, sel, dim=1)

        cache.reorder((run_src + torch.arange(b)[:, None] * n).reshape(-1))
        cur_len += 1
        best_possible = run_scores[:, :1] / ((cur_len - 1) ** length_penalty)
        worst = torch.where(fin_flag, torch.min(fin_scores, dim=1, keepdim=True)[0],
                            torch.tensor(NEG_LARGE))
        unsatisfied = unsatisfied & torch.any(best_possible > worst, dim=-1, keepdim=True)
        if not bool(torch.any(unsatisfied)) or bool(torch.all(hits)):
            break
    return [fin[i, 0, 1:1 + int(fin_len[i, 0])].tolist() for i in range(b)]


def translate(model, tok, sentences, beam_size=1, max_length=256, batch_size=32, length_penalty=1.0):
    """Plain text in, plain text out (empty input -> empty output, like heed)."""
    model.eval()
    out = [""] * len(sentences)
    todo = [(i, s) for i, s in enumerate(sentences) if s.strip()]
    # sort by length for less padding, restore the order afterwards
    todo.sort(key=lambda x: len(x[1]))
    for start in range(0, len(todo), batch_size):
        chunk = todo[start:start + batch_size]
        ids = [tok.encode_source(s) for _, s in chunk]
        if beam_size <= 1:
            res = greedy(model, ids, max_length)
        else:
            res = beam_search(model, ids, beam_size, max_length, length_penalty)
        for (i, _), r in zip(chunk, res):
            out[i] = tok.decode(r)
    return out
