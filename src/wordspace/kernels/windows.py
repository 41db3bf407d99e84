"""Pair builders of word2vec: how a sentence becomes (input rows, target word) examples.

Skip-gram makes one example per context word (input: that word's row; target: the centre
word); CBOW makes one example per centre word (input: the mean or sum of the context rows).
With ``shared`` negatives, skip-gram scores all context words of a window against the same
target and noise rows in one block, which keeps those rows in cache; otherwise each context
word draws its own noise words, exactly as the word2vec tool does.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.kernels.losses import score_against_target
from wordspace.kernels.random import below, uniform
from wordspace.kernels.simd import row_addresses

SKIPGRAM = 0
CBOW = 1
ARCHITECTURES = {"skipgram": SKIPGRAM, "cbow": CBOW}


@njit(nogil=True, cache=True, inline="always")
def subsample(ids, start, end, keep_prob, rng, out):
    """Copy ``ids[start:end]`` to ``out``, dropping each word with 1 - keep_prob[word]."""
    n = 0
    for p in range(start, end):
        w = ids[p]
        keep = keep_prob[w]
        if keep < 1.0 and uniform(rng) > keep:
            continue
        out[n] = w
        n += 1
    return n


@njit(nogil=True, cache=True, inline="always")
def window_around(pos, n, window, rng):
    """[lo, hi) of a window shrunk uniformly to 1..window words each side, as word2vec."""
    reach = window - below(rng, window)
    return max(0, pos - reach), min(n, pos + reach + 1)


@njit(nogil=True, cache=True, inline="always")
def _add_row(syn0, word, grad, j):
    for k in range(syn0.shape[1]):
        syn0[word, k] += grad[j, k]


@njit(nogil=True, cache=True)
def skipgram_step(shared, sent, pos, lo, hi, syn0, outputs, targets, lr, rng, buf):
    """Train the examples of one centre word; returns (summed loss, examples).

    The context words' input rows are trained where they live; their gradients are added
    after the block, so a word that occurs twice in the window sees one state.
    """
    grad, contexts, hidden_rows = buf[1], buf[5], buf[6]
    centre = sent[pos]
    no_private_rows = syn0.shape[0]
    if shared:
        m = 0
        for c in range(lo, hi):
            if c != pos:
                contexts[m] = sent[c]
                m += 1
        if m == 0:
            return 0.0, 0
        row_addresses(syn0, contexts, m, no_private_rows, syn0, hidden_rows)
        total = score_against_target(targets, outputs, m, centre, lr, rng, buf)
        for j in range(m):
            _add_row(syn0, contexts[j], grad, j)
        return total, m
    total = 0.0
    m = 0
    for c in range(lo, hi):
        if c != pos:
            contexts[0] = sent[c]
            row_addresses(syn0, contexts, 1, no_private_rows, syn0, hidden_rows)
            total += score_against_target(targets, outputs, 1, centre, lr, rng, buf)
            _add_row(syn0, contexts[0], grad, 0)
            m += 1
    return total, m


@njit(nogil=True, cache=True)
def cbow_step(cbow_mean, sent, pos, lo, hi, syn0, outputs, targets, lr, rng, buf):
    """Train the one example of a centre word; returns (loss, examples)."""
    hidden, grad, hidden_rows = buf[0], buf[1], buf[6]
    dim = syn0.shape[1]
    for k in range(dim):
        hidden[0, k] = 0.0
    m = 0
    for c in range(lo, hi):
        if c != pos:
            w = sent[c]
            for k in range(dim):
                hidden[0, k] += syn0[w, k]
            m += 1
    if m == 0:
        return 0.0, 0
    if cbow_mean:
        inv = np.float32(1.0 / m)
        for k in range(dim):
            hidden[0, k] *= inv
    hidden_rows[0] = hidden.ctypes.data
    total = score_against_target(targets, outputs, 1, sent[pos], lr, rng, buf)
    for c in range(lo, hi):
        if c != pos:
            _add_row(syn0, sent[c], grad, 0)
    return total, 1
