"""Losses: which output rows a target word is scored against, and the update they give.

Negative sampling and hierarchical softmax are both sums of binary logistic losses; they
differ only in the output rows (the target and noise words, or the inner nodes on the
target's Huffman path) and their labels. ``draw_*`` functions pick those rows;
``logistic_block`` scores a block of hidden vectors against them all at once and applies the
SGD step to the output rows, returning the gradient for the hidden vectors so that the pair
builder can hand it back to the input rows it read.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.kernels.random import index_and_fraction

NEGATIVE_SAMPLING = 0
HIERARCHICAL_SOFTMAX = 1
LOSSES = {"ns": NEGATIVE_SAMPLING, "hs": HIERARCHICAL_SOFTMAX}

MAX_EXP = 6.0
TABLE_SIZE = 1024
_SCALE = TABLE_SIZE / (2 * MAX_EXP)


def _tables() -> tuple[np.ndarray, np.ndarray]:
    centres = (np.arange(TABLE_SIZE) + 0.5) / _SCALE - MAX_EXP
    sigmoid = 1.0 / (1.0 + np.exp(-centres))
    return sigmoid.astype(np.float32), np.log(sigmoid).astype(np.float32)


SIGMOID, LOG_SIGMOID = _tables()


@njit(nogil=True, cache=True, inline="always")
def log_sigmoid(f):
    """log(sigmoid(f)), from the table inside [-MAX_EXP, MAX_EXP], asymptotes outside."""
    if f <= -MAX_EXP:
        return f
    if f >= MAX_EXP:
        return np.float32(0.0)
    return LOG_SIGMOID[int((f + MAX_EXP) * _SCALE)]


@njit(nogil=True, cache=True, inline="always")
def sigmoid(f):
    """sigmoid(f), clipped to exactly 0 or 1 outside [-MAX_EXP, MAX_EXP] as word2vec does."""
    if f <= -MAX_EXP:
        return np.float32(0.0)
    if f >= MAX_EXP:
        return np.float32(1.0)
    return SIGMOID[int((f + MAX_EXP) * _SCALE)]


@njit(nogil=True, cache=True, inline="always")
def draw_negatives(target, noise_prob, noise_alias, negative, rng, rows, labels):
    """The target (label 1) and up to ``negative`` noise words (label 0); a noise draw equal
    to the target is skipped, as in word2vec. Returns the number of rows written."""
    rows[0] = target
    labels[0] = 1.0
    n = 1
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
    return n


@njit(nogil=True, cache=True, inline="always")
def tree_path(target, code_offsets, codes, points, rows, labels):
    """The inner nodes on the target's Huffman path, labelled 1 - code as in word2vec."""
    a = code_offsets[target]
    n = code_offsets[target + 1] - a
    for j in range(n):
        rows[j] = points[a + j]
        labels[j] = 1.0 - codes[a + j]
    return n


@njit(nogil=True, cache=True, inline="always")
def draw_targets(loss, target, noise, tree, negative, rng, rows, labels):
    """Output rows and labels for ``target`` under the chosen loss."""
    if loss == NEGATIVE_SAMPLING:
        return draw_negatives(target, noise[0], noise[1], negative, rng, rows, labels)
    return tree_path(target, tree[0], tree[1], tree[2], rows, labels)


@njit(nogil=True, cache=True, fastmath=True)
def logistic_block(hidden, n_in, out, rows, labels, n_out, lr, grad_hidden, scores):
    """Score ``n_in`` hidden vectors against ``n_out`` output rows and take the SGD step.

    Updates ``out`` in place and writes d(loss)/d(hidden), scaled by -lr, into
    ``grad_hidden``. Both use the values from before the step. Returns the summed loss
    (float64) of the ``n_in`` examples.
    """
    dim = hidden.shape[1]
    loss = 0.0
    for t in range(n_out):
        o = out[rows[t]]
        label = labels[t]
        for i in range(n_in):
            h = hidden[i]
            f = np.float32(0.0)
            for k in range(dim):
                f += h[k] * o[k]
            if label > 0.5:
                loss -= log_sigmoid(f)
            else:
                loss -= log_sigmoid(-f)
            scores[i, t] = (label - sigmoid(f)) * lr
    for i in range(n_in):
        gh = grad_hidden[i]
        for k in range(dim):
            gh[k] = 0.0
        for t in range(n_out):
            g = scores[i, t]
            o = out[rows[t]]
            for k in range(dim):
                gh[k] += g * o[k]
    for t in range(n_out):
        o = out[rows[t]]
        for i in range(n_in):
            g = scores[i, t]
            h = hidden[i]
            for k in range(dim):
                o[k] += g * h[k]
    return loss
