"""Composing word vectors from character n-gram rows, exactly as fastText does.

fastText's word vector is the mean of the rows of the word itself (when it is in the
vocabulary) and of its hashed character n-grams, summed in that order in float32 and scaled by
``float32(1 / count)``; doing the same arithmetic in the same order gives bit-identical vectors.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.hashing import char_ngram_buckets

_LT = 60
_GT = 62


@njit(nogil=True, cache=True)
def _wrapped(word, start, end, buf):
    """Write ``<word>`` into ``buf``; return its length."""
    buf[0] = _LT
    n = end - start
    for k in range(n):
        buf[1 + k] = word[start + k]
    buf[n + 1] = _GT
    return n + 2


@njit(nogil=True, cache=True, inline="always")
def _add_ngram_row(ngrams, bucket_rows, bucket, out, w):
    """``out[w] += `` the row of n-gram bucket ``bucket``: ``ngrams[bucket]``, or with a
    bucket map ``ngrams[bucket_rows[bucket]]`` (nothing for a bucket that has no row).
    Returns whether a row was added."""
    row = bucket
    if len(bucket_rows):
        row = bucket_rows[bucket]
        if row < 0:
            return False
    for k in range(out.shape[1]):
        out[w, k] += ngrams[row, k]
    return True


@njit(nogil=True, cache=True)
def ngram_vector(word, minn, maxn, ngrams, bucket_rows, bucket, pruned, out):
    """fastText's vector for an out-of-vocabulary word: the mean of its n-gram rows (zeros
    when it has none). ``word`` holds its UTF-8 bytes; ``bucket`` is the number of buckets
    and ``bucket_rows`` maps each to its row of ``ngrams`` (-1: none, a zero row; with
    ``pruned``, a bucket left out of the mean, as fastText's ``pushHash`` leaves it), or is
    empty when ``ngrams`` has a row per bucket. Returns the number of n-grams averaged."""
    buf = np.empty(len(word) + 2, dtype=np.uint8)
    n = _wrapped(word, 0, len(word), buf)
    ids = np.empty(n * max(maxn, 1), dtype=np.int64)
    count = char_ngram_buckets(buf, n, minn, maxn, bucket, ids)
    row = out.reshape((1, out.shape[0]))
    for k in range(out.shape[0]):
        out[k] = 0.0
    used = 0
    for j in range(count):
        if _add_ngram_row(ngrams, bucket_rows, ids[j], row, 0) or not pruned:
            used += 1
    if used > 0:
        scale = np.float32(1.0 / used)
        for k in range(out.shape[0]):
            out[k] *= scale
    return used


@njit(nogil=True, cache=True)
def compose_vocabulary(
    blob, offsets, skip_ngrams, word_rows, ngrams, bucket_rows, bucket, pruned, minn, maxn, out
):
    """fastText's vector of every vocabulary word: the mean of its own row and its n-gram
    rows (``skip_ngrams[w]`` marks words such as ``</s>`` that have no n-grams; ``bucket``,
    ``bucket_rows`` and ``pruned`` as in ``ngram_vector``)."""
    longest = 0
    for w in range(len(offsets) - 1):
        longest = max(longest, offsets[w + 1] - offsets[w])
    buf = np.empty(longest + 2, dtype=np.uint8)
    ids = np.empty((longest + 2) * max(maxn, 1), dtype=np.int64)
    dim = out.shape[1]
    for w in range(len(offsets) - 1):
        for k in range(dim):
            out[w, k] = word_rows[w, k]
        count = 0
        if not skip_ngrams[w]:
            n = _wrapped(blob, offsets[w], offsets[w + 1], buf)
            count = char_ngram_buckets(buf, n, minn, maxn, bucket, ids)
        used = 0
        for j in range(count):
            if _add_ngram_row(ngrams, bucket_rows, ids[j], out, w) or not pruned:
                used += 1
        scale = np.float32(1.0 / (used + 1))
        for k in range(dim):
            out[w, k] *= scale
