"""Exact nearest-neighbour search: each query's ``k`` best rows by cosine, kept in a
min-heap per query while the rows stream past once. A row is read once for the whole batch
of queries (it stays in L1 while every query's dot product with it is taken), so a batch
costs little more than one query: reading the matrix is the bound, not the arithmetic
(BLAS's matrix product is several times slower for a few queries against a tall matrix)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True, inline="always")
def _sift_down(scores, rows, q, k):
    """Restore the min-heap of query ``q`` after its root was replaced."""
    i = 0
    while True:
        left = 2 * i + 1
        if left >= k:
            return
        small = left
        right = left + 1
        if right < k and _below(scores[q, right], rows[q, right], scores[q, left], rows[q, left]):
            small = right
        if not _below(scores[q, small], rows[q, small], scores[q, i], rows[q, i]):
            return
        scores[q, i], scores[q, small] = scores[q, small], scores[q, i]
        rows[q, i], rows[q, small] = rows[q, small], rows[q, i]
        i = small


@njit(nogil=True, cache=True, inline="always")
def _below(score_a, row_a, score_b, row_b):
    """Whether (score_a, row_a) ranks below (score_b, row_b): a lower score, or on a tie the
    later row (earlier rows, the more frequent words, win ties)."""
    return score_a < score_b or (score_a == score_b and row_a > row_b)


@njit(nogil=True, fastmath=True, cache=True)
def search_rows(matrix, first, last, units, norms, best_scores, best_rows):
    """Merge the cosines of rows ``first:last`` of ``matrix`` with each unit query of
    ``units`` (queries, dim) into that query's heap (``best_scores``/``best_rows``, (queries,
    k), started at -inf and -1); ``norms`` are the rows' norms (never 0)."""
    n_queries, dim = units.shape
    k = best_scores.shape[1]
    dots = np.empty(n_queries, dtype=np.float32)
    for row in range(first, last):
        q = 0
        while q + 4 <= n_queries:
            a0 = np.float32(0.0)
            a1 = np.float32(0.0)
            a2 = np.float32(0.0)
            a3 = np.float32(0.0)
            for d in range(dim):
                value = matrix[row, d]
                a0 += units[q, d] * value
                a1 += units[q + 1, d] * value
                a2 += units[q + 2, d] * value
                a3 += units[q + 3, d] * value
            dots[q] = a0
            dots[q + 1] = a1
            dots[q + 2] = a2
            dots[q + 3] = a3
            q += 4
        while q < n_queries:
            acc = np.float32(0.0)
            for d in range(dim):
                acc += units[q, d] * matrix[row, d]
            dots[q] = acc
            q += 1
        norm = norms[row]
        for q in range(n_queries):
            score = dots[q] / norm
            if _below(best_scores[q, 0], best_rows[q, 0], score, row):
                best_scores[q, 0] = score
                best_rows[q, 0] = row
                _sift_down(best_scores, best_rows, q, k)


@njit(nogil=True, cache=True)
def sorted_best(best_scores, best_rows):
    """Each query's heap in ranking order (best first; rows never filled, -1, last)."""
    n_queries, k = best_scores.shape
    out_scores = np.empty_like(best_scores)
    out_rows = np.empty_like(best_rows)
    for q in range(n_queries):
        order = np.argsort(-best_scores[q].astype(np.float64), kind="mergesort")
        for j in range(k):
            out_scores[q, j] = best_scores[q, order[j]]
            out_rows[q, j] = best_rows[q, order[j]]
        # equal scores: the earlier row first
        j = 0
        while j < k:
            end = j + 1
            while end < k and out_scores[q, end] == out_scores[q, j]:
                end += 1
            if end - j > 1:
                out_rows[q, j:end] = np.sort(out_rows[q, j:end])
            j = end
    return out_scores, out_rows
