"""fastText's top-k of a prediction, heap operations included, so that ties come out in its
order.

fastText (``Loss::findKBest``) keeps the k best labels in a heap ordered by
``log(p + 1e-5)`` alone and sorts it at the end (``std::sort_heap``); equal scores, common
under its table sigmoid, come out in whatever order libstdc++'s heap steps leave them. The
steps below are those of libstdc++'s ``__push_heap``, ``__adjust_heap`` and ``__pop_heap``,
with fastText's comparison (``a`` before ``b`` when ``a``'s score is greater).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_FLOOR = np.float32(1e-5)


@njit(nogil=True, cache=True, inline="always")
def _push(values, ids, hole, top, value, index):
    parent = (hole - 1) // 2
    while hole > top and values[parent] > value:
        values[hole] = values[parent]
        ids[hole] = ids[parent]
        hole = parent
        parent = (hole - 1) // 2
    values[hole] = value
    ids[hole] = index


@njit(nogil=True, cache=True, inline="always")
def _adjust(values, ids, hole, length, value, index):
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if values[child] > values[child - 1]:
            child -= 1
        values[hole] = values[child]
        ids[hole] = ids[child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        values[hole] = values[child - 1]
        ids[hole] = ids[child - 1]
        hole = child - 1
    _push(values, ids, hole, top, value, index)


@njit(nogil=True, cache=True, inline="always")
def _pop(values, ids, last):
    """Move the heap's front to ``last`` and restore the heap on ``[0, last)``."""
    value = values[last]
    index = ids[last]
    values[last] = values[0]
    ids[last] = ids[0]
    _adjust(values, ids, 0, last, value, index)


@njit(nogil=True, cache=True)
def fasttext_top_k(probs, has_input, k, threshold, out_ids, out_logs):
    """For each row of ``probs`` (float32 label probabilities) whose ``has_input`` is set,
    the labels fastText's ``predict`` gives, best first: ``out_ids[i, :n]`` and their
    ``log(p + 1e-5)`` in ``out_logs``; the rest of the row is -1. Returns nothing."""
    n_labels = probs.shape[1]
    values = np.empty(k + 1, dtype=np.float32)
    ids = np.empty(k + 1, dtype=np.int64)
    for i in range(probs.shape[0]):
        for j in range(k):
            out_ids[i, j] = -1
            out_logs[i, j] = 0.0
        if not has_input[i]:
            continue
        size = 0
        for label in range(n_labels):
            p = probs[i, label]
            if p < threshold:
                continue
            value = np.log(p + _FLOOR)
            if size == k and value < values[0]:
                continue
            values[size] = value
            ids[size] = label
            size += 1
            _push(values, ids, size - 1, 0, value, label)
            if size > k:
                if size > 1:
                    _pop(values, ids, size - 1)
                size -= 1
        last = size
        while last > 1:
            last -= 1
            _pop(values, ids, last)
        for j in range(size):
            out_ids[i, j] = ids[j]
            out_logs[i, j] = values[j]
