"""Logistic losses: which output rows a target word is scored against, and the update.

Negative sampling and hierarchical softmax are both sums of binary logistic losses; they
differ only in the output rows (the target and noise words, or the inner nodes on the
target's Huffman path) and their labels. ``draw_*`` functions pick those rows;
``logistic_block`` scores a block of hidden vectors against them all at once and applies the
SGD step to the output rows, returning the gradient for the hidden vectors so that the step
(``engine``) can hand it back to the input rows they came from.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.kernels.prefetch import prefetch_row
from wordspace.kernels.random import index_and_fraction
from wordspace.kernels.simd import LANES, add_tile, dot_tile

NEGATIVE_SAMPLING = 0
HIERARCHICAL_SOFTMAX = 1

SEQUENTIAL_GROUP = 4
"""Hidden vectors per sequential step of a hierarchical-softmax block (one tile of rows)."""

MAX_EXP = 6.0
TABLE_SIZE = 1024
_SCALE = TABLE_SIZE / (2 * MAX_EXP)


def _tables() -> tuple[np.ndarray, np.ndarray]:
    centres = (np.arange(TABLE_SIZE) + 0.5) / _SCALE - MAX_EXP
    sigmoid = 1.0 / (1.0 + np.exp(-centres))
    return sigmoid.astype(np.float32), np.log(sigmoid).astype(np.float32)


SIGMOID, LOG_SIGMOID = _tables()


@njit(nogil=True, cache=True, inline="always")
def draw_negatives(target, noise_prob, noise_alias, negative, rng, rows, labels, at):
    """Write the target (label 1) and up to ``negative`` noise words (label 0) to
    ``rows[at:]`` and ``labels[at:]``; a noise draw equal to the target is skipped, as in
    word2vec. Returns the number of rows written."""
    rows[at] = target
    labels[at] = 1.0
    n = at + 1
    v = len(noise_prob)
    for _ in range(negative):
        i, u = index_and_fraction(rng, v)
        if u >= noise_prob[i]:
            i = noise_alias[i]
        if i == target:
            continue
        rows[n] = i
        labels[n] = 0.0
        n += 1
    return n - at


@njit(nogil=True, cache=True, inline="always")
def tree_path(target, code_offsets, codes, points, rows, labels, at):
    """Write the inner nodes on the target's Huffman path, labelled 1 - code as in word2vec,
    to ``rows[at:]`` and ``labels[at:]``; returns how many."""
    a = code_offsets[target]
    n = code_offsets[target + 1] - a
    for j in range(n):
        rows[at + j] = points[a + j]
        labels[at + j] = 1.0 - codes[a + j]
    return n


@njit(nogil=True, cache=True, inline="always")
def draw_targets(loss, target, rng, rows, labels, at):
    """Output rows and labels for ``target`` under ``loss`` (``engine.LogisticLossTables`` of
    negative sampling or hierarchical softmax), written from position ``at`` on; returns how
    many were written."""
    if loss.kind == NEGATIVE_SAMPLING:
        return draw_negatives(
            target, loss.noise_prob, loss.noise_alias, loss.negative, rng, rows, labels, at
        )
    return tree_path(target, loss.code_offsets, loss.codes, loss.points, rows, labels, at)


@njit(nogil=True, cache=True, inline="always")
def prefetch_targets(loss, target, out):
    """Start loading the output rows ``target`` will be scored against that are likely cold:
    its own row (negative sampling) or the deepest nodes of its path (the top ones are hot);
    nothing for the losses that score every row."""
    if loss.kind == NEGATIVE_SAMPLING:
        prefetch_row(out, target)
    elif loss.kind == HIERARCHICAL_SOFTMAX:
        end = loss.code_offsets[target + 1]
        for j in range(max(loss.code_offsets[target], end - 4), end):
            prefetch_row(out, loss.points[j])


@njit(nogil=True, cache=True, fastmath=True, inline="always")
def _gradients(scores, first, end, labels, n_out, lr):
    """Turn rows ``first:end`` of a block's scores into lr-scaled gradients in place; return
    their summed loss.

    Branch-free: sigmoid and log-sigmoid come from tables over [-MAX_EXP, MAX_EXP]; outside,
    sigmoid is exactly 0 or 1 (as in word2vec) and -log sigmoid(z) follows its asymptote -z.
    The inner loop runs along a row of ``scores`` (contiguous) and vectorises, with table
    gathers. When more than half a vector is left at the end of a row, it also processes the
    columns past ``n_out`` up to the next multiple of ``LANES`` that ``scores`` and
    ``labels`` hold (their results are not used, and their loss is masked): a path of 14
    nodes then takes one vector step instead of a short one and a scalar tail (0.6-0.8x the
    time), while six noise rows stay scalar, which is faster for them. Those columns must
    hold finite values (the kernel's buffers start as zeros).
    """
    loss = 0.0
    last = np.float32(TABLE_SIZE - 1)
    tail = n_out % LANES
    whole = n_out + (LANES - tail if tail > LANES // 2 else 0)
    whole = min(whole, scores.shape[1], labels.shape[0])
    for i in range(first, end):
        for t in range(whole):
            label = labels[t]
            sign = np.float32(2.0) * label - np.float32(1.0)
            f = scores[i, t]
            j = int(min(max((f + MAX_EXP) * _SCALE, np.float32(0.0)), last))
            jz = j if label > 0.5 else TABLE_SIZE - 1 - j
            term = LOG_SIGMOID[jz] + min(sign * f + MAX_EXP, 0.0)
            loss -= term if t < n_out else np.float32(0.0)
            s = SIGMOID[j]
            s = np.float32(0.0) if f <= -MAX_EXP else s
            s = np.float32(1.0) if f >= MAX_EXP else s
            scores[i, t] = (label - s) * lr
    return loss


@njit(nogil=True, cache=True, inline="always")
def block_scores(hidden, first, end, outputs, n_out, scores, width):
    """``scores[i, t]`` = hidden row i . output row t for i in ``first:end`` (rows given by
    their addresses), in tiles of up to 4 x 4 scores that share every loaded row and end in
    one reduction."""
    for i in range(first, end, 4):
        for t in range(0, n_out, 4):
            dot_tile(hidden, i, min(4, end - i), outputs, t, min(4, n_out - t), scores, width)


@njit(nogil=True, cache=True, inline="always")
def combine_rows(dst, first_dst, end_dst, src, first_src, end_src, coef, width, transposed):
    """``dst[first_dst:end_dst] += W @ src[first_src:end_src]`` (rows given by their
    addresses) with W the matching part of ``coef`` (or of its transpose), in tiles of up to
    four destination by four source rows, each of which loads a row once for four
    multiply-adds."""
    for d in range(first_dst, end_dst, 4):
        for s in range(first_src, end_src, 4):
            n_d = min(4, end_dst - d)
            add_tile(dst, d, n_d, src, s, min(4, end_src - s), coef, width, transposed)


@njit(nogil=True, cache=True, fastmath=True)
def logistic_block(hidden, n_in, group, outputs, n_out, labels, lr, grad, grad_rows, scores):
    """Score ``n_in`` hidden rows against ``n_out`` output rows and take the SGD step.

    ``hidden``, ``outputs`` and ``grad_rows`` are tables of row addresses (``row_addresses``):
    the block reads and updates the rows where they live. The output rows are updated in
    place; d(loss)/d(hidden), scaled by -lr, goes to the rows of ``grad`` (whose addresses are
    ``grad_rows``), and the hidden rows are left as they were. Returns the summed loss
    (float64) of the ``n_in`` examples.

    The hidden rows are trained in groups of ``group`` (a multiple of 4, or ``n_in``): each
    group is scored against the output rows as the groups before it left them, as sequential
    SGD would; within a group every example sees the same rows. With one group per block
    (``group >= n_in``) this is the minibatch step of shared negative sampling; hierarchical
    softmax, whose path nodes every context word of a window trains, reaches 0.6 analogy
    points more at one epoch in groups of 4 (enwiki, 20M tokens, mean of seven seeds), for
    the same work, while negative sampling loses 0.5 that way.
    """
    width = grad.shape[1]
    if width % LANES:
        raise ValueError("training rows must be padded to a multiple of 16 floats")
    loss = 0.0
    for first in range(0, n_in, group):
        end = min(first + group, n_in)
        block_scores(hidden, first, end, outputs, n_out, scores, width)
        loss += _gradients(scores, first, end, labels, n_out, lr)
        for i in range(first, end):
            for k in range(width):
                grad[i, k] = 0.0
        combine_rows(grad_rows, first, end, outputs, 0, n_out, scores, width, False)
        combine_rows(outputs, 0, n_out, hidden, first, end, scores, width, True)
    return loss
