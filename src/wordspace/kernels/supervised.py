"""The supervised classifier's builder and chunk loop: one line is one example.

A line's bag is fastText's: its words' rows (with their character n-gram rows, if any),
``</s>``'s, then one row per word n-gram (``Dictionary::addWordNgrams``: the bucket of
``h = h * 116049371 + hash(next word)`` over the words' 32-bit hashes, sign-extended); the
hidden vector is their mean and, as fastText normalises the gradient of supervised models,
every row gets ``1 / size`` of the hidden gradient. Its targets are its labels: all of them
for one-vs-all, one drawn at random for the other losses, as fastText does. A label's weight
scales the learning rate of the examples it is the target of (class weights: fastText has
none, so all are 1 unless asked). The rows of every line are built once per run, before
training.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from wordspace.hashing import fasttext_hash
from wordspace.kernels.borrowed import borrowed, keep_alive
from wordspace.kernels.engine import OutputRows, new_block, new_scratch, step_block
from wordspace.kernels.fasttext_lines import add_word_ngrams, signed_hash
from wordspace.kernels.random import below, seeded

Lines = namedtuple(
    "Lines",
    [
        "rows",  # int64: line s's input rows are rows[row_offsets[s]:row_offsets[s + 1]]
        "row_offsets",  # int64
        "labels",  # int32: line s's labels are labels[label_offsets[s]:label_offsets[s + 1]]
        "label_offsets",  # int64
        "token_offsets",  # int64: the corpus's line offsets (the schedule counts its words)
        "most_rows",  # the most rows one line has (sizes the block)
        "most_labels",  # the most labels one line has
        "all_labels",  # every label is a target (one-vs-all), else one drawn per line
        "label_weights",  # float32 per label: the learning rate of an example is scaled by
        # its target's weight (one-vs-all: by the mean weight of the line's labels)
    ],
)
"""The training examples, as the kernel reads them."""


@njit(nogil=True, cache=True)
def signed_word_hashes(blob, offsets):
    """fastText's 32-bit hash of every word, as int32 widened with its sign to 64 bits (the
    form ``addWordNgrams`` mixes)."""
    n = len(offsets) - 1
    out = np.empty(n, dtype=np.uint64)
    for w in range(n):
        out[w] = signed_hash(fasttext_hash(blob, offsets[w], offsets[w + 1]))
    return out


@njit(nogil=True, cache=True)
def line_input_rows(ids, offsets, hashes, extra_offsets, extra_rows, eos, layout):
    """(row offsets, rows) of every line ``ids[offsets[s]:offsets[s + 1]]``: each word's id
    and its extra rows, then ``eos`` (fastText's ``</s>``, ending every line), then the
    ``nwords + bucket`` row of each word n-gram of 2 to ``word_ngrams`` words, ``</s>``
    included. ``layout`` is (nwords, bucket, word_ngrams)."""
    nwords, bucket, word_ngrams = layout
    n_lines = len(offsets) - 1
    row_offsets = np.zeros(n_lines + 1, dtype=np.int64)
    n_grams = max(word_ngrams - 1, 0) if bucket > 0 else 0
    for s in range(n_lines):
        size = 0
        for p in range(offsets[s], offsets[s + 1]):
            w = ids[p]
            size += 1 + extra_offsets[w + 1] - extra_offsets[w]
        words = offsets[s + 1] - offsets[s] + 1
        for first in range(words):
            size += min(words - first - 1, n_grams)
        row_offsets[s + 1] = row_offsets[s] + size + 1
    rows = np.empty(row_offsets[n_lines], dtype=np.int64)
    longest = 1
    for s in range(n_lines):
        longest = max(longest, offsets[s + 1] - offsets[s] + 1)
    line = np.empty(longest, dtype=np.uint64)
    for s in range(n_lines):
        n = row_offsets[s]
        k = 0
        for p in range(offsets[s], offsets[s + 1]):
            w = ids[p]
            rows[n] = w
            n += 1
            for q in range(extra_offsets[w], extra_offsets[w + 1]):
                rows[n] = extra_rows[q]
                n += 1
            line[k] = hashes[w]
            k += 1
        rows[n] = eos
        n += 1
        line[k] = hashes[eos]
        k += 1
        if n_grams:
            add_word_ngrams(line, k, n_grams + 1, nwords, bucket, rows, n)
    return row_offsets, rows


@njit(nogil=True, cache=True)
def compact_line_rows(rows, nwords, bucket):
    """Give the buckets in use compact rows: rewrite each bucket row ``nwords + b`` of
    ``rows`` in place to ``nwords + bucket_rows[b]``, where the buckets in use are numbered
    in increasing order; returns (buckets in use, ``bucket_rows``: int32 per bucket, -1 where
    unused). Linear in ``rows`` and ``bucket``."""
    bucket_rows = np.full(bucket, -1, dtype=np.int32)
    for r in rows:
        if r >= nwords:
            bucket_rows[r - nwords] = 0
    used = 0
    for b in range(bucket):
        if bucket_rows[b] == 0:
            bucket_rows[b] = used
            used += 1
    for p in range(len(rows)):
        if rows[p] >= nwords:
            rows[p] = nwords + bucket_rows[rows[p] - nwords]
    return used, bucket_rows


@njit(nogil=True, cache=True)
def train_lines(weights, lines, loss, schedule, chunk):
    """Train lines ``chunk.first:chunk.end``; returns (summed loss, examples). Lines without
    a label or without a row are skipped, as fastText skips them."""
    syn0 = weights.input
    out = weights.output
    rng = seeded(schedule.seed, chunk.epoch, chunk.index)
    owned_outputs = OutputRows(out, out[:0], out.shape[0])
    owned_block = new_block(1, max(lines.most_rows, 1), max(lines.most_labels, 1))
    owned_scratch = new_scratch(syn0.shape[1], 1, loss, owned_outputs, max(lines.most_labels, 1))
    outputs = borrowed(owned_outputs)
    block = borrowed(owned_block)
    scratch = borrowed(owned_scratch)
    lines = borrowed(lines)
    loss = borrowed(loss)
    rows = lines.rows
    row_offsets = lines.row_offsets
    labels = lines.labels
    label_offsets = lines.label_offsets
    bag_rows = block.bag_rows
    target_ids = block.target_ids
    total_loss = 0.0
    examples = 0
    done = chunk.words_done
    for s in range(chunk.first, chunk.end):
        a = row_offsets[s]
        b = row_offsets[s + 1]
        la = label_offsets[s]
        lb = label_offsets[s + 1]
        progress = min(done / schedule.words_total, 1.0)
        lr = np.float32(schedule.lr_start - (schedule.lr_start - schedule.lr_end) * progress)
        done += lines.token_offsets[s + 1] - lines.token_offsets[s]
        if lb == la or b == a:
            continue
        size = b - a
        for p in range(size):
            bag_rows[p] = rows[a + p]
        block.bag_offsets[1] = size
        block.bag_scale[0] = np.float32(1.0 / size)
        block.grad_scale[0] = np.float32(1.0 / size)
        block.group_offsets[1] = 1
        weights_of = lines.label_weights
        if lines.all_labels:
            weight = np.float32(0.0)
            for t in range(lb - la):
                target_ids[t] = labels[la + t]
                weight += weights_of[labels[la + t]]
            weight /= np.float32(lb - la)
            block.target_offsets[1] = lb - la
        else:
            target_ids[0] = labels[la + below(rng, lb - la)]
            weight = weights_of[target_ids[0]]
            block.target_offsets[1] = 1
        total_loss += step_block(block, 1, syn0, outputs, loss, lr * weight, rng, scratch)
        examples += 1
    keep_alive(owned_outputs)
    keep_alive(owned_block)
    keep_alive(owned_scratch)
    return total_loss, examples
