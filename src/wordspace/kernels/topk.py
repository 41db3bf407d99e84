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


@njit(nogil=True, cache=True, inline="always")
def _std_log(p):
    """fastText's ``Loss::std_log``: log(p + 1e-5), the sum and log in double, as float32."""
    return np.float32(np.log(np.float64(p) + 1e-5))


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


@njit(nogil=True, cache=True, inline="always")
def _write_sorted(values, ids, size, out_ids, out_logs, i):
    """``std::sort_heap`` of the ``size`` kept labels, best first, into row ``i`` of the
    outputs."""
    last = size
    while last > 1:
        last -= 1
        _pop(values, ids, last)
    for j in range(size):
        out_ids[i, j] = ids[j]
        out_logs[i, j] = values[j]


@njit(nogil=True, cache=True, inline="always")
def _keep(values, ids, size, k, value, index):
    """Push (``value``, ``index``) on fastText's heap of the ``k`` best; returns its size."""
    values[size] = value
    ids[size] = index
    size += 1
    _push(values, ids, size - 1, 0, value, index)
    if size > k:
        _pop(values, ids, size - 1)
        size -= 1
    return size


@njit(nogil=True, cache=True)
def label_scores(hidden, output_columns):
    """Each line's score against each label, ``out[i, j] = output[j] . hidden[i]`` summed in
    float32 in the order of the dimensions, as fastText's ``dotRow``: the same scores as
    fastText's, whatever else is in the batch (a matrix product's blocking would make them
    depend on how many lines are scored together). ``output_columns`` is the output matrix
    transposed (dim, labels), so that all labels' sums advance together."""
    lines, dim = hidden.shape
    n_labels = output_columns.shape[1]
    out = np.zeros((lines, n_labels), dtype=np.float32)
    for i in range(lines):
        for d in range(dim):
            h = hidden[i, d]
            for j in range(n_labels):
                out[i, j] += output_columns[d, j] * h
    return out


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
            value = _std_log(p)
            if size == k and value < values[0]:
                continue
            size = _keep(values, ids, size, k, value, label)
        _write_sorted(values, ids, size, out_ids, out_logs, i)


@njit(nogil=True, cache=True)
def fasttext_tree(counts):
    """fastText's hierarchical-softmax tree over label ``counts`` (sorted descending), as
    ``HierarchicalSoftmaxLoss::buildTree`` builds it: (left, right) children of every node,
    -1 for the leaves 0..n-1; the root is node 2n - 2."""
    n = len(counts)
    size = max(2 * n - 1, 1)
    count = np.full(size, np.int64(10**15))
    left = np.full(size, -1, dtype=np.int64)
    right = np.full(size, -1, dtype=np.int64)
    for i in range(n):
        count[i] = counts[i]
    leaf = n - 1
    node = n
    for i in range(n, 2 * n - 1):
        mini = np.zeros(2, dtype=np.int64)
        for j in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                mini[j] = leaf
                leaf -= 1
            else:
                mini[j] = node
                node += 1
        left[i] = mini[0]
        right[i] = mini[1]
        count[i] = count[mini[0]] + count[mini[1]]
    return left, right


@njit(nogil=True, cache=True)
def fasttext_tree_top_k(hidden, output, left, right, has_input, k, threshold, out_ids, out_logs):
    """fastText's hierarchical-softmax prediction (``HierarchicalSoftmaxLoss::dfs``) of each
    hidden vector: a depth-first walk from the root that adds log(sigmoid) of each inner
    node's score (its output row ``node - n``) down the path, prunes below ``threshold`` or
    the heap's worst, and keeps the ``k`` best leaves in fastText's heap; results as
    ``fasttext_top_k``'s."""
    n = (len(left) + 1) // 2
    dim = hidden.shape[1]
    root = 2 * n - 2
    log_threshold = _std_log(threshold)
    values = np.empty(k + 1, dtype=np.float32)
    ids = np.empty(k + 1, dtype=np.int64)
    stack_nodes = np.empty(2 * n + 2, dtype=np.int64)
    stack_scores = np.empty(2 * n + 2, dtype=np.float32)
    for i in range(hidden.shape[0]):
        for j in range(k):
            out_ids[i, j] = -1
            out_logs[i, j] = 0.0
        if not has_input[i] or n == 0:
            continue
        size = 0
        stack_nodes[0] = root
        stack_scores[0] = 0.0
        top = 1
        while top > 0:
            top -= 1
            node = stack_nodes[top]
            score = stack_scores[top]
            if score < log_threshold:
                continue
            if size == k and score < values[0]:
                continue
            if left[node] == -1 and right[node] == -1:
                size = _keep(values, ids, size, k, score, node)
                continue
            f = np.float32(0.0)
            row = node - n
            for d in range(dim):
                f += output[row, d] * hidden[i, d]
            f = np.float32(1.0 / (1.0 + np.exp(-np.float64(f))))
            # the right child is visited after the whole left subtree, as in the recursion
            stack_nodes[top] = right[node]
            stack_scores[top] = score + _std_log(f)
            stack_nodes[top + 1] = left[node]
            stack_scores[top + 1] = score + _std_log(np.float32(1.0 - np.float64(f)))
            top += 2
        _write_sorted(values, ids, size, out_ids, out_logs, i)
