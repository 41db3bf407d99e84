"""Pair builders of word2vec: how a window of a sentence becomes a block of examples.

Skip-gram makes one example per context word (bag: that word's rows; target: the centre
word); CBOW makes one example per centre word (bag: the rows of every context word, averaged
or summed). A word's rows are its own row followed by its extra rows (``ExtraRows``: the
hashed character n-grams of subword models; none for plain word2vec); skip-gram's bag of a
word with extra rows is their mean, CBOW's bag is averaged or summed as the model says.
With ``shared`` negatives, skip-gram puts all context words of a window in one group, scored
against the same target and noise rows in one block, which keeps those rows in cache;
otherwise each context word is a group of its own that draws its own noise words, exactly as
the word2vec tool does. fastText's skip-gram (``CENTRE_SKIPGRAM``) turns that around: the
centre word's bag is the input and each context word a target, so that a subword model
composes one bag of word and n-gram rows per centre word instead of one per context word.

Builders do no vector arithmetic: they only fill an ``engine.ExampleBlock`` and return how
many groups it holds.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit

from wordspace.kernels.prefetch import prefetch_row
from wordspace.kernels.random import below, uniform

SKIPGRAM = 0
CBOW = 1
CENTRE_SKIPGRAM = 2
"""Skip-gram as fastText trains it: the centre word's bag against each context word."""

PairBuilder = namedtuple(
    "PairBuilder",
    [
        "architecture",  # SKIPGRAM, CBOW or CENTRE_SKIPGRAM
        "window",  # largest number of context words on each side
        "shared",  # skip-gram: one group (one draw of noise words) per window
        "cbow_mean",  # CBOW: the hidden vector is the mean of the bag (else its sum)
        "extra_offsets",  # int64: word w's extra rows are extra_rows[extra_offsets[w]:...]
        "extra_rows",  # int64: ids of extra input rows (empty: every word is one row)
        "most_rows",  # the most input rows one word has (1 + its extra rows), sizes the block
    ],
)
"""How a word2vec model makes its examples."""


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
def add_word_rows(extra_offsets, extra_rows, word, bag_rows, n):
    """Append ``word``'s rows to ``bag_rows[n:]``; returns the new end."""
    bag_rows[n] = word
    n += 1
    if len(extra_rows):
        for p in range(extra_offsets[word], extra_offsets[word + 1]):
            bag_rows[n] = extra_rows[p]
            n += 1
    return n


@njit(nogil=True, cache=True, inline="always")
def prefetch_word_rows(pairs, syn0, word):
    """Start loading ``word``'s input rows (its own and its extra rows) into cache."""
    prefetch_row(syn0, word)
    extra_rows = pairs.extra_rows
    if len(extra_rows):
        for p in range(pairs.extra_offsets[word], pairs.extra_offsets[word + 1]):
            prefetch_row(syn0, extra_rows[p])


@njit(nogil=True, cache=True, inline="always")
def next_bag_word(pairs, pos, n):
    """The position of the word whose rows the next centre word's bag adds (the centre word
    itself for fastText's skip-gram, the word entering the window otherwise), or -1."""
    ahead = pos + 1 if pairs.architecture == CENTRE_SKIPGRAM else pos + pairs.window + 1
    return ahead if ahead < n else -1


@njit(nogil=True, cache=True, inline="always")
def one_target(block, n_groups, target):
    """Give each of the first ``n_groups`` groups of ``block`` the single target ``target``."""
    target_ids = block.target_ids
    target_offsets = block.target_offsets
    for g in range(n_groups):
        target_ids[g] = target
        target_offsets[g + 1] = g + 1


@njit(nogil=True, cache=True, inline="always")
def skipgram_examples(pairs, sent, pos, lo, hi, block):
    """Fill ``block`` with the skip-gram examples of centre word ``sent[pos]`` and its
    context ``sent[lo:hi]``; returns the number of groups (0 if there is no context)."""
    extra_offsets = pairs.extra_offsets
    extra_rows = pairs.extra_rows
    bag_rows = block.bag_rows
    bag_offsets = block.bag_offsets
    bag_scale = block.bag_scale
    grad_scale = block.grad_scale
    group_offsets = block.group_offsets
    rows = 0
    m = 0
    for c in range(lo, hi):
        if c != pos:
            start = rows
            rows = add_word_rows(extra_offsets, extra_rows, sent[c], bag_rows, rows)
            size = rows - start
            bag_scale[m] = 1.0 if size == 1 else np.float32(1.0 / size)
            grad_scale[m] = 1.0
            m += 1
            bag_offsets[m] = rows
    if m == 0:
        return 0
    if pairs.shared:
        group_offsets[1] = m
        one_target(block, 1, sent[pos])
        return 1
    for g in range(m):
        group_offsets[g + 1] = g + 1
    one_target(block, m, sent[pos])
    return m


@njit(nogil=True, cache=True, inline="always")
def cbow_examples(pairs, sent, pos, lo, hi, block):
    """Fill ``block`` with the CBOW example of centre word ``sent[pos]``: one bag of every
    row of the context ``sent[lo:hi]``; returns the number of groups (0 or 1)."""
    extra_offsets = pairs.extra_offsets
    extra_rows = pairs.extra_rows
    bag_rows = block.bag_rows
    rows = 0
    for c in range(lo, hi):
        if c != pos:
            rows = add_word_rows(extra_offsets, extra_rows, sent[c], bag_rows, rows)
    if rows == 0:
        return 0
    block.bag_offsets[1] = rows
    block.bag_scale[0] = np.float32(1.0 / rows) if pairs.cbow_mean else np.float32(1.0)
    block.grad_scale[0] = 1.0
    block.group_offsets[1] = 1
    one_target(block, 1, sent[pos])
    return 1


@njit(nogil=True, cache=True, inline="always")
def centre_skipgram_examples(pairs, sent, pos, lo, hi, block):
    """Fill ``block`` with fastText's skip-gram examples of centre word ``sent[pos]``: its
    bag (its own and its extra rows, averaged) with each word of ``sent[lo:hi]`` as a target.
    With ``shared``, one example whose targets are all the context words, so the bag is
    composed and updated once per centre word; otherwise one group per context word, each
    composing the bag afresh as fastText does. Returns the number of groups."""
    bag_rows = block.bag_rows
    bag_offsets = block.bag_offsets
    target_ids = block.target_ids
    target_offsets = block.target_offsets
    group_offsets = block.group_offsets
    centre = sent[pos]
    size = add_word_rows(pairs.extra_offsets, pairs.extra_rows, centre, bag_rows, 0)
    scale = 1.0 if size == 1 else np.float32(1.0 / size)
    m = 0
    for c in range(lo, hi):
        if c != pos:
            target_ids[m] = sent[c]
            m += 1
    if m == 0:
        return 0
    if pairs.shared:
        bag_offsets[1] = size
        block.bag_scale[0] = scale
        block.grad_scale[0] = 1.0
        group_offsets[1] = 1
        target_offsets[1] = m
        return 1
    for g in range(m):
        if g > 0:
            for r in range(size):
                bag_rows[g * size + r] = bag_rows[r]
        bag_offsets[g + 1] = (g + 1) * size
        block.bag_scale[g] = scale
        block.grad_scale[g] = 1.0
        group_offsets[g + 1] = g + 1
        target_offsets[g + 1] = g + 1
    return m


@njit(nogil=True, cache=True, inline="always")
def window_examples(pairs, sent, pos, lo, hi, block):
    """The examples of one centre word under the model's architecture."""
    if pairs.architecture == SKIPGRAM:
        return skipgram_examples(pairs, sent, pos, lo, hi, block)
    if pairs.architecture == CENTRE_SKIPGRAM:
        return centre_skipgram_examples(pairs, sent, pos, lo, hi, block)
    return cbow_examples(pairs, sent, pos, lo, hi, block)


@njit(nogil=True, cache=True)
def group_targets(pairs):
    """The most targets one group of the model's blocks has (sizes the step's scratch)."""
    if pairs.architecture == CENTRE_SKIPGRAM and pairs.shared:
        return 2 * pairs.window
    return 1


@njit(nogil=True, cache=True)
def group_examples(pairs):
    """The most examples one group of the model's blocks has (sizes the step's scratch)."""
    if pairs.architecture == CENTRE_SKIPGRAM:
        return 1
    return 2 * pairs.window
