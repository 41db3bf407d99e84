"""Whole-matrix operations done in place, so that finishing a run needs no second copy of a
matrix that may hold millions of rows."""

from __future__ import annotations

from numba import njit


@njit(nogil=True, cache=True)
def narrow_rows(flat, rows, width, dim):
    """Rewrite a C-ordered ``rows x width`` matrix (``flat``, its buffer) as ``rows x dim``
    (its first ``dim`` columns) at the start of the same buffer. Row r moves from
    ``r * width`` to ``r * dim``: never past data not yet moved, so one forward pass does it."""
    for r in range(rows):
        src = r * width
        dst = r * dim
        for k in range(dim):
            flat[dst + k] = flat[src + k]


@njit(nogil=True, cache=True)
def rows_to_extra_mean(matrix, extra_offsets, extra_rows, words):
    """Set the row of each word in ``words`` to the mean of its extra rows (its n-grams'),
    so that its vector starts where the n-grams put an unseen word; a word without extra
    rows keeps its row."""
    dim = matrix.shape[1]
    for i in range(len(words)):
        w = words[i]
        a = extra_offsets[w]
        b = extra_offsets[w + 1]
        if b == a:
            continue
        for k in range(dim):
            matrix[w, k] = 0.0
        for p in range(a, b):
            r = extra_rows[p]
            for k in range(dim):
                matrix[w, k] += matrix[r, k]
        scale = 1.0 / (b - a)
        for k in range(dim):
            matrix[w, k] *= scale
