"""Losses over a whole, small output set: full softmax and one-vs-all.

Where negative sampling and hierarchical softmax score a hidden row against a few output
rows drawn for its target (``losses``), these two score it against every output row: the
labels of a classifier, or a small vocabulary. One example costs O(n_out * dim) (n_out dot
products of ``dim`` floats, then two rank updates of the same size), so they suit output
sets of up to a few thousand rows.

- **softmax** (fastText's ``SoftmaxLoss``): p = softmax(h . out_j over j); the loss is
  -log p[target]; output row j gets the gradient weight alpha_j = lr * (1[j == target] - p_j).
- **one-vs-all** (fastText's ``OneVsAllLoss``): an independent binary logistic per output
  row, label 1 for each of the example's positive targets (several labels per example) and 0
  for the others; the loss is the sum of the binary losses, alpha_j = lr * (label_j -
  sigmoid(h . out_j)).

Both then take the word2vec / fastText step: ``grad_h += alpha_j * out_j`` (with out_j as it
was before this step) and ``out_j += alpha_j * h``. The kernels follow ``logistic_block``'s
conventions: rows are float32, padded to a multiple of ``LANES`` floats, and read and updated
where they live through tables of row addresses (``simd.row_addresses``); the scores of a
group go to a scratch matrix that then holds the alphas; the 4 x 4 tiles of ``simd`` do the
dot products and the rank updates.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from wordspace.kernels.losses import block_scores, combine_rows
from wordspace.kernels.simd import LANES

SOFTMAX = 2
"""Loss code of the full softmax (after ``losses.NEGATIVE_SAMPLING`` and
``losses.HIERARCHICAL_SOFTMAX``)."""
ONE_VS_ALL = 3
"""Loss code of one-vs-all."""

MIN_PROBABILITY = 1e-5
"""The softmax loss is -log(max(p, MIN_PROBABILITY)): at most about 11.5 per example, the
cap fastText's log (of p + 1e-5) puts on it, so the two report comparable running losses."""

_MAX_LOSS = -np.log(MIN_PROBABILITY)


@njit(nogil=True, cache=True, fastmath=True, inline="always")
def softmax_gradients(scores, first, end, targets, n_out, lr):
    """Turn rows ``first:end`` of a group's scores into lr-scaled softmax gradients in place;
    return their summed loss (float64).

    Row i's target is ``targets[i]``, a position in the output rows (0 to ``n_out - 1``;
    not checked). The maximum score is subtracted before exponentiating, so no score
    overflows, and the loss is computed as log(sum exp(s - max)) + (max - s_target), which
    loses no precision to a small probability; it is capped at -log(``MIN_PROBABILITY``).
    """
    loss = 0.0
    for i in range(first, end):
        target = targets[i]
        top = scores[i, 0]
        for t in range(1, n_out):
            top = max(top, scores[i, t])
        gap = top - scores[i, target]
        z = np.float32(0.0)
        for t in range(n_out):
            e = np.exp(scores[i, t] - top)
            scores[i, t] = e
            z += e
        loss += min(np.log(z) + gap, _MAX_LOSS)
        p_target = scores[i, target] / z
        inv = np.float32(1.0) / z
        for t in range(n_out):
            scores[i, t] = -lr * scores[i, t] * inv
        scores[i, target] = lr * (np.float32(1.0) - p_target)
    return loss


@njit(nogil=True, cache=True, fastmath=True, inline="always")
def one_vs_all_gradients(scores, first, end, target_offsets, target_ids, n_out, lr):
    """Turn rows ``first:end`` of a group's scores into lr-scaled one-vs-all gradients in
    place; return their summed loss (float64).

    Row i's positive targets are ``target_ids[target_offsets[i]:target_offsets[i + 1]]``
    (positions in the output rows, each listed once); every other output row is a negative.
    Every row is first taken as a negative (loss softplus(s), alpha -lr * sigmoid(s)); each
    positive then adds lr to its alpha and -s to the loss, since -log sigmoid(s) =
    softplus(s) - s. Sigmoid and softplus are computed from exp(-|s|), which never overflows.
    """
    loss = 0.0
    one = np.float32(1.0)
    for i in range(first, end):
        a = target_offsets[i]
        b = target_offsets[i + 1]
        for j in range(a, b):
            loss -= scores[i, target_ids[j]]
        for t in range(n_out):
            s = scores[i, t]
            e = np.exp(-abs(s))
            sig = one / (one + e) if s >= 0 else e / (one + e)
            loss += max(s, np.float32(0.0)) + np.log1p(e)
            scores[i, t] = -lr * sig
        for j in range(a, b):
            scores[i, target_ids[j]] += lr
    return loss


@njit(nogil=True, cache=True, inline="always")
def _step_group(hidden, first, end, outputs, n_out, grad, grad_rows, scores, width):
    """With the alphas of rows ``first:end`` in ``scores``: set the hidden gradients (output
    rows as they were), then update the output rows."""
    for i in range(first, end):
        for k in range(width):
            grad[i, k] = 0.0
    combine_rows(grad_rows, first, end, outputs, 0, n_out, scores, width, False)
    combine_rows(outputs, 0, n_out, hidden, first, end, scores, width, True)


@njit(nogil=True, cache=True)
def _check_shapes(grad, scores, n_in, n_out):
    if grad.shape[1] % LANES:
        raise ValueError("training rows must be padded to a multiple of 16 floats")
    if n_out < 1 or scores.shape[1] < n_out or scores.shape[0] < n_in or grad.shape[0] < n_in:
        raise ValueError("the scores and gradient scratch must hold n_in x n_out entries")


@njit(nogil=True, cache=True, fastmath=True)
def softmax_rows(hidden, first, end, outputs, n_out, targets, lr, grad, grad_rows, scores):
    """One SGD step of the full softmax for hidden rows ``first:end``, all scored against the
    output rows as they are now (one row, ``end = first + 1``, is one fastText example).

    Arguments as for ``softmax_block``; rows outside ``first:end`` of ``grad`` and
    ``scores`` are left alone. Returns the summed loss. O((end - first) * n_out * dim).
    """
    width = grad.shape[1]
    _check_shapes(grad, scores, end, n_out)
    block_scores(hidden, first, end, outputs, n_out, scores, width)
    loss = softmax_gradients(scores, first, end, targets, n_out, lr)
    _step_group(hidden, first, end, outputs, n_out, grad, grad_rows, scores, width)
    return loss


@njit(nogil=True, cache=True, fastmath=True)
def softmax_block(hidden, n_in, group, outputs, n_out, targets, lr, grad, grad_rows, scores):
    """Train ``n_in`` hidden rows with the full softmax over ``n_out`` output rows.

    As ``logistic_block``: ``hidden``, ``outputs`` and ``grad_rows`` are int64 tables of row
    addresses (``row_addresses``; ``grad_rows[i]`` the address of ``grad[i]``), rows of
    ``grad.shape[1]`` floats, a multiple of ``LANES``; the output rows are updated in place,
    -lr * d(loss)/d(hidden row i) goes to ``grad[i]``, the hidden rows are left as they were,
    and ``scores`` (float32, C-contiguous, at least n_in x n_out) is scratch. Example i's
    target is ``targets[i]``, a position in ``outputs`` (0 to ``n_out - 1``).

    The rows are trained in groups of ``group`` (``softmax_rows``): each group sees the
    output rows as the groups before it left them. ``group = 1`` is fastText's sequential
    SGD; larger groups share every loaded output row between their examples (a minibatch).
    Returns the summed loss (float64). Cost: O(n_in * n_out * dim).
    """
    _check_shapes(grad, scores, n_in, n_out)
    loss = 0.0
    for first in range(0, n_in, group):
        end = min(first + group, n_in)
        loss += softmax_rows(
            hidden, first, end, outputs, n_out, targets, lr, grad, grad_rows, scores
        )
    return loss


@njit(nogil=True, cache=True, fastmath=True)
def one_vs_all_rows(
    hidden, first, end, outputs, n_out, target_offsets, target_ids, lr, grad, grad_rows, scores
):
    """One SGD step of one-vs-all for hidden rows ``first:end``, all scored against the
    output rows as they are now (one row, ``end = first + 1``, is one fastText example).

    Arguments as for ``one_vs_all_block``; rows outside ``first:end`` of ``grad`` and
    ``scores`` are left alone. Returns the summed loss. O((end - first) * n_out * dim).
    """
    width = grad.shape[1]
    _check_shapes(grad, scores, end, n_out)
    block_scores(hidden, first, end, outputs, n_out, scores, width)
    loss = one_vs_all_gradients(scores, first, end, target_offsets, target_ids, n_out, lr)
    _step_group(hidden, first, end, outputs, n_out, grad, grad_rows, scores, width)
    return loss


@njit(nogil=True, cache=True, fastmath=True)
def one_vs_all_block(
    hidden, n_in, group, outputs, n_out, target_offsets, target_ids, lr, grad, grad_rows, scores
):
    """Train ``n_in`` hidden rows with one binary logistic loss per output row.

    Arguments and groups as for ``softmax_block``, except the targets: example i's positive
    targets are ``target_ids[target_offsets[i]:target_offsets[i + 1]]`` (positions in
    ``outputs``, distinct; an example may have none), every other output row is a negative.
    Returns the summed loss (float64) over all ``n_in * n_out`` binary losses. Cost:
    O(n_in * n_out * dim).
    """
    _check_shapes(grad, scores, n_in, n_out)
    loss = 0.0
    for first in range(0, n_in, group):
        end = min(first + group, n_in)
        loss += one_vs_all_rows(
            hidden, first, end, outputs, n_out, target_offsets, target_ids, lr, grad,
            grad_rows, scores,
        )  # fmt: skip
    return loss
