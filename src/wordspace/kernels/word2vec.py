"""The word2vec training kernel: one call trains one chunk of sentences, without the GIL.

The loop over sentences is shared; the pair builder (skip-gram or CBOW, from ``windows``)
and the loss (from ``losses``) are chosen per centre word by small integer codes, a branch
that costs nothing next to the vector work and keeps one compiled kernel for all variants.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.kernels.losses import prefetch_targets
from wordspace.kernels.prefetch import prefetch_row
from wordspace.kernels.random import seeded
from wordspace.kernels.simd import LANES, all_row_addresses
from wordspace.kernels.windows import SKIPGRAM, cbow_step, skipgram_step, subsample, window_around

SYNC_EVERY = 32
"""Centre words between merges of a worker's private hot rows into the shared matrix."""


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
    hot_rows,
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
    words; ``words_done`` of them came before this chunk. The last ``hot_rows`` rows of
    ``out`` (the top of the Huffman tree, which every example updates) are trained in a
    private copy that is merged back every ``SYNC_EVERY`` centre words, so that workers do not
    fight over their cache lines yet see each other's updates soon. Returns (summed loss,
    examples).
    """
    dim = syn0.shape[1]
    rng = seeded(seed, epoch, chunk)
    span = 2 * window
    whole_targets = -(-max_targets // LANES) * LANES
    grad = np.empty((span, dim), dtype=np.float32)
    grad_rows = np.empty(span, dtype=np.int64)
    all_row_addresses(grad, grad_rows)
    buf = (
        np.empty((1, dim), dtype=np.float32),  # CBOW's input: the context rows combined
        grad,  # the gradient for each hidden row
        np.zeros((span, whole_targets), dtype=np.float32),  # scores, then gradients
        np.empty(max_targets, dtype=np.int64),  # output rows
        np.zeros(whole_targets, dtype=np.float32),  # their labels
        np.empty(span, dtype=np.int64),  # context words
        np.empty(span, dtype=np.int64),  # addresses of the hidden rows
        np.empty(max_targets, dtype=np.int64),  # addresses of the output rows
        grad_rows,  # addresses of the gradient rows
    )
    hot_start = out.shape[0] - hot_rows
    hot = out[hot_start:].copy()
    hot_before = hot.copy()
    since_sync = 0
    outputs = (out, hot, hot_start)
    targets = (loss, noise, tree, negative)
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
            if pos + 1 < n:
                prefetch_targets(loss, sent[pos + 1], out, tree)
            if pos + window + 1 < n:
                prefetch_row(syn0, sent[pos + window + 1])
            if architecture == SKIPGRAM:
                step_loss, step_examples = skipgram_step(
                    shared, sent, pos, lo, hi, syn0, outputs, targets, lr, rng, buf
                )
            else:
                step_loss, step_examples = cbow_step(
                    cbow_mean, sent, pos, lo, hi, syn0, outputs, targets, lr, rng, buf
                )
            total_loss += step_loss
            examples += step_examples
            since_sync += 1
            if since_sync == SYNC_EVERY and hot_rows:
                merge_hot_rows(out, hot, hot_before, hot_start)
                since_sync = 0
    merge_hot_rows(out, hot, hot_before, hot_start)
    return total_loss, examples


@njit(nogil=True, cache=True)
def merge_hot_rows(out, hot, hot_before, hot_start):
    """Add a worker's updates of its private hot rows to the shared matrix, and refresh the
    private copy with what the other workers did meanwhile."""
    for r in range(hot.shape[0]):
        for k in range(hot.shape[1]):
            value = out[hot_start + r, k] + (hot[r, k] - hot_before[r, k])
            out[hot_start + r, k] = value
            hot[r, k] = value
            hot_before[r, k] = value
