"""The word2vec training kernel: one call trains one chunk of sentences, without the GIL.

The loop over sentences is shared; the pair builder (skip-gram or CBOW, from ``windows``)
and the loss (from ``losses``) are chosen per centre word by small integer codes, a branch
that costs nothing next to the vector work and keeps one compiled kernel for all variants.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.kernels.random import seeded
from wordspace.kernels.windows import SKIPGRAM, cbow_step, skipgram_step, subsample, window_around


@njit(nogil=True, cache=True)
def train_chunk(
    architecture,
    loss,
    shared,
    ids,
    offsets,
    first_sentence,
    end_sentence,
    syn0,
    out,
    keep_prob,
    noise,
    tree,
    window,
    negative,
    cbow_mean,
    max_targets,
    lr_start,
    lr_end,
    words_done,
    words_total,
    seed,
    epoch,
    chunk,
):
    """Train sentences ``first_sentence:end_sentence`` of the encoded corpus.

    The learning rate falls linearly from ``lr_start`` to ``lr_end`` over ``words_total``
    words; ``words_done`` of them came before this chunk. Returns (summed loss, examples).
    """
    dim = syn0.shape[1]
    rng = seeded(seed, epoch, chunk)
    span = 2 * window
    hidden = np.empty((span, dim), dtype=np.float32)
    grad = np.empty((span, dim), dtype=np.float32)
    scores = np.empty((span, max_targets), dtype=np.float32)
    rows = np.empty(max_targets, dtype=np.int64)
    labels = np.empty(max_targets, dtype=np.float32)
    buf = (hidden, grad, scores, rows, labels)
    longest = 0
    for s in range(first_sentence, end_sentence):
        longest = max(longest, offsets[s + 1] - offsets[s])
    sent = np.empty(longest, dtype=np.int32)
    total_loss = 0.0
    examples = 0
    done = words_done
    for s in range(first_sentence, end_sentence):
        start = offsets[s]
        end = offsets[s + 1]
        progress = min(done / words_total, 1.0)
        lr = np.float32(lr_start - (lr_start - lr_end) * progress)
        done += end - start
        n = subsample(ids, start, end, keep_prob, rng, sent)
        for pos in range(n):
            lo, hi = window_around(pos, n, window, rng)
            if architecture == SKIPGRAM:
                step_loss, step_examples = skipgram_step(
                    loss, shared, sent, pos, lo, hi, syn0, out, noise, tree, negative, lr, rng, buf
                )
            else:
                step_loss, step_examples = cbow_step(
                    loss, cbow_mean, sent, pos, lo, hi, syn0, out, noise, tree, negative, lr,
                    rng, buf,
                )  # fmt: skip
            total_loss += step_loss
            examples += step_examples
    return total_loss, examples
