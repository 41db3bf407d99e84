"""Compiled building of per-word tables of extra input rows (CSR), once per vocabulary.

Subword models add rows to a word's bag of input rows: fastText adds one row per character
n-gram of the word. Computing them per occurrence would hash the same n-grams millions of
times, so the whole vocabulary's rows are built here in two passes over its UTF-8 blob:
count each word's n-grams (from its characters, no hashing), then fill the exact-size table.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.hashing import char_ngram_buckets, char_ngram_count
from wordspace.kernels.subwords import _wrapped


@njit(nogil=True, cache=True)
def char_ngram_rows(blob, offsets, skip, minn, maxn, bucket, first_row):
    """(row offsets int64[n_words + 1], rows int64): word ``w``'s extra rows are
    ``rows[row_offsets[w]:row_offsets[w + 1]]``, ``first_row`` plus the bucket of each of the
    character n-grams of ``<w>`` in fastText's order (repeats kept, as fastText keeps them).
    Words with ``skip[w]`` set (fastText's ``</s>``) get none."""
    n_words = len(offsets) - 1
    longest = 0
    for w in range(n_words):
        longest = max(longest, offsets[w + 1] - offsets[w])
    buf = np.empty(longest + 2, dtype=np.uint8)
    row_offsets = np.zeros(n_words + 1, dtype=np.int64)
    for w in range(n_words):
        count = 0
        if not skip[w]:
            n = _wrapped(blob, offsets[w], offsets[w + 1], buf)
            count = char_ngram_count(buf, n, minn, maxn, bucket)
        row_offsets[w + 1] = row_offsets[w] + count
    rows = np.empty(row_offsets[n_words], dtype=np.int64)
    ids = np.empty((longest + 2) * max(maxn, 1), dtype=np.int64)
    for w in range(n_words):
        if row_offsets[w + 1] == row_offsets[w]:
            continue
        n = _wrapped(blob, offsets[w], offsets[w + 1], buf)
        count = char_ngram_buckets(buf, n, minn, maxn, bucket, ids)
        base = row_offsets[w]
        for j in range(count):
            rows[base + j] = first_row + ids[j]
    return row_offsets, rows
