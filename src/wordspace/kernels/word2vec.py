"""The word2vec training kernel: one call trains one chunk of sentences, without the GIL.

The loop over sentences subsamples each one and walks its centre words; for each, the pair
builder (``builders``) fills an example block and the shared step (``engine``) trains it.
Every input travels in a named structure made in one place (``wordspace.models.word2vec``).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from wordspace.kernels.borrowed import borrowed, keep_alive
from wordspace.kernels.builders import (
    group_examples,
    group_targets,
    next_bag_word,
    prefetch_word_rows,
    subsample,
    window_around,
    window_examples,
)
from wordspace.kernels.engine import (
    OutputRows,
    new_block,
    new_scratch,
    scored_pairs,
    step_block,
)
from wordspace.kernels.losses import prefetch_targets
from wordspace.kernels.random import seeded

SYNC_EVERY = 32
"""Centre words between merges of a worker's private hot rows into the shared matrix."""

Weights = namedtuple(
    "Weights",
    [
        "input",  # float32 (input rows, width): the word (and extra) rows, trained in place
        "output",  # float32 (output rows, width)
        "hot_rows",  # last rows of ``output`` each worker trains in a private copy
    ],
)
"""The matrices a run trains."""

Sentences = namedtuple(
    "Sentences",
    [
        "ids",  # int32 token ids of the encoded corpus
        "offsets",  # int64: sentence s is ids[offsets[s]:offsets[s + 1]]
        "keep_prob",  # float32: probability of keeping each occurrence of a word
    ],
)
"""The corpus as the kernel reads it."""

Schedule = namedtuple(
    "Schedule",
    [
        "lr_start",  # the learning rate falls linearly from lr_start ...
        "lr_end",  # ... to lr_end ...
        "words_total",  # ... over this many words (every epoch's)
        "seed",  # int64: with (epoch, chunk), seeds the chunk's random stream
    ],
)
"""What a run's chunks share: the learning-rate schedule and the seed."""

Chunk = namedtuple(
    "Chunk",
    [
        "first",  # the chunk is sentences first:end
        "end",
        "words_done",  # words trained before it, over all epochs
        "epoch",
        "index",  # its index in the epoch's chunks
    ],
)
"""One unit of work (``wordspace.training``)."""


@njit(nogil=True, cache=True)
def train_chunk(weights, sentences, pairs, loss, schedule, chunk):
    """Train sentences ``chunk.first:chunk.end``; returns (summed loss, examples).

    The last ``weights.hot_rows`` rows of the output matrix (the top of the Huffman tree,
    which every example updates) are trained in a private copy that is merged back every
    ``SYNC_EVERY`` centre words, so that workers do not fight over their cache lines yet see
    each other's updates soon. The structures read per centre word are borrowed views
    (``borrowed``), so that their fields cost no reference counting; their owners are kept
    alive to the end.
    """
    syn0 = weights.input
    out = weights.output
    ids = sentences.ids
    offsets = sentences.offsets
    rng = seeded(schedule.seed, chunk.epoch, chunk.index)
    span = 2 * pairs.window
    hot_start = out.shape[0] - weights.hot_rows
    hot = out[hot_start:].copy()
    hot_before = hot.copy()
    owned_outputs = OutputRows(out, hot, hot_start)
    owned_block = new_block(span, span * pairs.most_rows, span)
    owned_scratch = new_scratch(
        syn0.shape[1], group_examples(pairs), loss, owned_outputs, group_targets(pairs)
    )
    outputs = borrowed(owned_outputs)
    block = borrowed(owned_block)
    scratch = borrowed(owned_scratch)
    pairs = borrowed(pairs)
    loss = borrowed(loss)
    longest = 0
    for s in range(chunk.first, chunk.end):
        longest = max(longest, offsets[s + 1] - offsets[s])
    sent = np.empty(longest, dtype=np.int32)
    keep_prob = sentences.keep_prob
    since_sync = 0
    total_loss = 0.0
    examples = 0
    done = chunk.words_done
    for s in range(chunk.first, chunk.end):
        start = offsets[s]
        end = offsets[s + 1]
        progress = min(done / schedule.words_total, 1.0)
        lr = np.float32(schedule.lr_start - (schedule.lr_start - schedule.lr_end) * progress)
        done += end - start
        n = subsample(ids, start, end, keep_prob, rng, sent)
        for pos in range(n):
            lo, hi = window_around(pos, n, pairs.window, rng)
            if pos + 1 < n:
                prefetch_targets(loss, sent[pos + 1], out)
            ahead = next_bag_word(pairs, pos, n)
            if ahead >= 0:
                prefetch_word_rows(pairs, syn0, sent[ahead])
            n_groups = window_examples(pairs, sent, pos, lo, hi, block)
            total_loss += step_block(block, n_groups, syn0, outputs, loss, lr, rng, scratch)
            examples += scored_pairs(block, n_groups)
            since_sync += 1
            if since_sync == SYNC_EVERY and weights.hot_rows:
                merge_hot_rows(out, hot, hot_before, hot_start)
                since_sync = 0
    merge_hot_rows(out, hot, hot_before, hot_start)
    keep_alive(owned_outputs)
    keep_alive(owned_block)
    keep_alive(owned_scratch)
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
