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


@njit(nogil=True, cache=True)
def ngram_vector(word, minn, maxn, ngrams, out):
    """fastText's vector for an out-of-vocabulary word: the mean of its n-gram rows (zeros
    when it has none). ``word`` holds its UTF-8 bytes. Returns the number of n-grams."""
    buf = np.empty(len(word) + 2, dtype=np.uint8)
    n = _wrapped(word, 0, len(word), buf)
    ids = np.empty(n * max(maxn, 1), dtype=np.int64)
    count = char_ngram_buckets(buf, n, minn, maxn, ngrams.shape[0], ids)
    for k in range(out.shape[0]):
        out[k] = 0.0
    for j in range(count):
        for k in range(out.shape[0]):
            out[k] += ngrams[ids[j], k]
    if count > 0:
        scale = np.float32(1.0 / count)
        for k in range(out.shape[0]):
            out[k] *= scale
    return count


@njit(nogil=True, cache=True)
def compose_vocabulary(blob, offsets, skip_ngrams, word_rows, ngrams, minn, maxn, out):
    """fastText's vector of every vocabulary word: the mean of its own row and its n-gram
    rows (``skip_ngrams[w]`` marks words such as ``</s>`` that have no n-grams)."""
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
            count = char_ngram_buckets(buf, n, minn, maxn, ngrams.shape[0], ids)
        for j in range(count):
            for k in range(dim):
                out[w, k] += ngrams[ids[j], k]
        scale = np.float32(1.0 / (count + 1))
        for k in range(dim):
            out[w, k] *= scale
