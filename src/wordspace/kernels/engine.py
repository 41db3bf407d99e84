"""The training step every model shares: a block of examples, each a bag of input rows.

A model's *builder* (``builders``) turns its data into an :data:`ExampleBlock`: per example a
bag (input-row ids, with the scale that makes their sum the hidden vector: 1 for a sum or a
lone row, 1 / size for a mean) and, per *group* of examples, the targets they are scored
against. :func:`step_block` then trains the block, group after group, so that each group sees
the rows as the groups before it left them:

1. compose each example's hidden vector: a bag of one unscaled row is used where it lives,
   by address (skip-gram's pairs, the common case, copy nothing); any other bag is summed
   into scratch and scaled;
2. the loss (``kind`` of its tables) draws the group's output rows and takes the SGD step on
   them, leaving -lr * d(loss)/d(hidden) per example in scratch;
3. that gradient, times the example's ``grad_scale``, is added to every row of its bag.

A group shares one draw of the loss's output rows per target (its noise words, its tree
path), and every example of the group is scored against the draws of all the group's targets:
skip-gram's shared negatives put every context word of a window in one group with the centre
word as its target, the word2vec tool's classic pairs make a group of each, and fastText's
skip-gram makes one example (the centre word's bag of word and n-gram rows) whose targets are
its context words, so that the bag is composed once per centre word. sent2vec's sentences
are *leave-out* blocks (:func:`step_leave_out_block`): every example shares the sentence's
bag and lists only the rows it leaves out of it and adds to it, so the sentence is summed
once for all its words. The loss is chosen per group by an integer code, a branch that costs
nothing next to the vector work, within one of two types: the logistic losses that draw a
few rows (ns, hs) and those that score every row (softmax, one-vs-all), whose code is
compiled only for their type (it is 7 of the 17 s the kernel took to compile with all four
in one). Measured on word2vec (``bench/startup.py``):
the training kernel compiles in about 10 s for ns or hs, and a call costs about 8
microseconds more than the old positional one (per chunk of ten thousand words: nothing next
to its milliseconds of work).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import overload

from wordspace.kernels.losses import (
    HIERARCHICAL_SOFTMAX,
    NEGATIVE_SAMPLING,
    SEQUENTIAL_GROUP,
    draw_targets,
    logistic_block,
)
from wordspace.kernels.simd import LANES, all_row_addresses, row_addresses
from wordspace.kernels.softmax import ONE_VS_ALL, SOFTMAX, one_vs_all_block, softmax_block

ExampleBlock = namedtuple(
    "ExampleBlock",
    [
        "bag_rows",  # int64: the input-row ids of every bag, one bag after another
        "bag_offsets",  # int64: example e's bag is bag_rows[bag_offsets[e]:bag_offsets[e + 1]]
        "bag_scale",  # float32: example e's hidden vector is bag_scale[e] * (sum of its bag)
        "grad_scale",  # float32: each row of e's bag gets grad_scale[e] * e's hidden gradient
        "group_offsets",  # int64: group g is examples group_offsets[g]:group_offsets[g + 1]
        "target_offsets",  # int64: group g's targets are target_ids[target_offsets[g]:...[g + 1]]
        "target_ids",  # int64: target ids (words or labels; what they select is the loss's)
    ],
)
"""What a builder fills for the step: the examples of one block (see the module doc)."""

_LOSS_FIELDS = [
    "kind",  # NEGATIVE_SAMPLING, HIERARCHICAL_SOFTMAX, SOFTMAX or ONE_VS_ALL
    "negative",  # noise rows per draw (negative sampling)
    "noise_prob",  # float32 alias table of the noise distribution (negative sampling)
    "noise_alias",  # int32
    "code_offsets",  # int64: Huffman paths (hierarchical softmax), see vocab.huffman_tree
    "codes",  # uint8
    "points",  # int32
    "max_targets",  # most output rows one draw gives (or positives one example has)
]
LogisticLossTables = namedtuple("LogisticLossTables", _LOSS_FIELDS)
"""Negative sampling or hierarchical softmax, prepared (``wordspace.losses.prepare_loss``):
the losses that draw a few output rows per target."""
FullLossTables = namedtuple("FullLossTables", _LOSS_FIELDS)
"""Softmax or one-vs-all, prepared: the losses that score every output row. A separate type,
so that a kernel trained with a logistic loss never compiles their code (7 of the training
kernel's 17 s of compilation)."""
LossTables = LogisticLossTables | FullLossTables

OutputRows = namedtuple(
    "OutputRows",
    [
        "matrix",  # float32 output rows, updated in place
        "hot",  # a worker's private copy of the matrix's last rows (see train_chunk)
        "hot_start",  # the first row read from ``hot``
    ],
)
"""The output matrix as a worker sees it."""

StepScratch = namedtuple(
    "StepScratch",
    [
        "hidden",  # float32 (examples, width): composed hidden vectors
        "hidden_rows",  # int64: address of each example's hidden vector
        "grad",  # float32 (examples, width): -lr * d(loss)/d(hidden) per example
        "grad_rows",  # int64: address of each row of ``grad``
        "scores",  # float32 (examples, targets rounded up to LANES): scores, then alphas
        "out_ids",  # int64: the output rows of a draw
        "labels",  # float32: their labels (rounded up to LANES, finite past the draw)
        "out_rows",  # int64: their addresses (every row's, for softmax and one-vs-all)
        "example_targets",  # int64: each example's target (softmax)
        "example_target_offsets",  # int64: each example's targets (one-vs-all)
        "example_target_ids",  # int64
    ],
)
"""A worker's scratch arrays for the step, made once per call by :func:`new_scratch`."""


@njit(nogil=True, cache=True)
def new_scratch(width, max_examples, loss, outputs, max_group_targets):
    """Scratch for groups of up to ``max_examples`` examples and ``max_group_targets``
    targets under ``loss`` (every array is indexed within one group: a block of many groups
    needs no more).

    For softmax and one-vs-all, every output row is scored, so ``out_rows`` is filled here
    with the address of each row of ``outputs`` once (those losses keep no private rows).
    """
    n_all = outputs.matrix.shape[0]
    whole_out = max(loss.max_targets, 1) * max(max_group_targets, 1)
    if loss.kind == SOFTMAX or loss.kind == ONE_VS_ALL:
        whole_out = n_all
    whole_targets = -(-whole_out // LANES) * LANES
    grad = np.empty((max_examples, width), dtype=np.float32)
    grad_rows = np.empty(max_examples, dtype=np.int64)
    all_row_addresses(grad, grad_rows)
    out_rows = np.empty(whole_out, dtype=np.int64)
    if loss.kind == SOFTMAX or loss.kind == ONE_VS_ALL:
        all_row_addresses(outputs.matrix, out_rows)
    max_labels = max(loss.max_targets, 1)
    return StepScratch(
        np.empty((max_examples, width), dtype=np.float32),
        np.empty(max_examples, dtype=np.int64),
        grad,
        grad_rows,
        np.zeros((max_examples, whole_targets), dtype=np.float32),
        np.empty(whole_out, dtype=np.int64),
        np.zeros(whole_targets, dtype=np.float32),
        out_rows,
        np.empty(max_examples, dtype=np.int64),
        np.empty(max_examples + 1, dtype=np.int64),
        np.empty(max_examples * max_labels, dtype=np.int64),
    )


@njit(nogil=True, cache=True)
def new_block(max_examples, max_bag_rows, max_targets):
    """An empty example block for up to ``max_examples`` examples holding ``max_bag_rows``
    input rows and ``max_targets`` targets in all."""
    return ExampleBlock(
        np.empty(max_bag_rows, dtype=np.int64),
        np.zeros(max_examples + 1, dtype=np.int64),
        np.ones(max_examples, dtype=np.float32),
        np.ones(max_examples, dtype=np.float32),
        np.zeros(max_examples + 1, dtype=np.int64),
        np.zeros(max_examples + 1, dtype=np.int64),
        np.empty(max_targets, dtype=np.int64),
    )


@njit(nogil=True, cache=True, inline="always")
def step_block(block, n_groups, syn0, outputs, loss, lr, rng, scratch):
    """Train the first ``n_groups`` groups of ``block`` on the input rows ``syn0`` and the
    output rows ``outputs``; returns the summed loss (float64) of their examples."""
    group_offsets = block.group_offsets
    grad = scratch.grad
    total = 0.0
    for g in range(n_groups):
        first = group_offsets[g]
        end = group_offsets[g + 1]
        compose_bags(block, first, end, syn0, scratch)
        total += train_group(block, g, end - first, outputs, loss, lr, rng, scratch)
        scatter_gradients(block, first, end, syn0, grad)
    return total


SharedBag = namedtuple(
    "SharedBag",
    [
        "left_out_ends",  # int64: in a leave-out block, example e's bag is the rows it leaves
        # out of the shared bag, bag_rows[bag_offsets[e]:left_out_ends[e]], then the rows it
        # adds to it, bag_rows[left_out_ends[e]:bag_offsets[e + 1]]
        "total",  # float32 (width,): scratch, the sum of the shared bag
        "accumulated",  # float32 (width,): scratch, the gradient every shared row gets
        "example_grads",  # float32 (examples, width): scratch, each example's gradient
    ],
)
"""What a leave-out block adds to its ``ExampleBlock`` (:func:`step_leave_out_block`), made
by :func:`new_shared_bag`."""


@njit(nogil=True, cache=True)
def new_shared_bag(width, max_examples):
    """The leave-out part of blocks of up to ``max_examples`` examples."""
    return SharedBag(
        np.zeros(max(max_examples, 1), dtype=np.int64),
        np.empty(width, dtype=np.float32),
        np.empty(width, dtype=np.float32),
        np.empty((max(max_examples, 1), width), dtype=np.float32),
    )


@njit(nogil=True, cache=True, inline="always")
def step_leave_out_block(block, n_groups, syn0, outputs, loss, lr, rng, scratch, shared):
    """Train a *leave-out* block: its examples share one bag, ``block.bag_rows[:bag_offsets[0]]``
    (a whole sentence's rows), and example e's own bag lists the rows it leaves out of it and
    the rows it adds to it (``shared.left_out_ends``: sent2vec's target word and the n-grams
    containing it, then the placeholder rows that stand in for them). Example e's hidden
    vector is ``bag_scale[e]`` times (shared sum - left-out rows + added rows), so the shared
    bag is summed once, not once per example: a sentence of L words costs O(L) rows, not
    O(L^2).

    Every hidden vector is composed from the rows as the block found them, and their
    gradients are applied together at the end (each row of the shared bag gets the sum of
    every example's ``grad_scale[e]`` x gradient, less those of the examples that left it
    out; an added row gets its example's): the sentence is one minibatch for its input rows.
    The output rows are trained group after group, as :func:`step_block` trains them.
    Returns the summed loss."""
    group_offsets = block.group_offsets
    bag_rows = block.bag_rows
    bag_offsets = block.bag_offsets
    grad = scratch.grad
    left_out_ends = shared.left_out_ends
    total = shared.total
    accumulated = shared.accumulated
    example_grads = shared.example_grads
    width = syn0.shape[1]
    n_shared = bag_offsets[0]
    for k in range(width):
        total[k] = 0.0
        accumulated[k] = 0.0
    for p in range(n_shared):
        r = bag_rows[p]
        for k in range(width):
            total[k] += syn0[r, k]
    loss_total = 0.0
    for g in range(n_groups):
        first = group_offsets[g]
        end = group_offsets[g + 1]
        compose_left_out(block, first, end, syn0, shared, scratch)
        loss_total += train_group(block, g, end - first, outputs, loss, lr, rng, scratch)
        for e in range(first, end):
            scale = block.grad_scale[e]
            for k in range(width):
                value = scale * grad[e - first, k]
                example_grads[e, k] = value
                accumulated[k] += value
    for p in range(n_shared):
        r = bag_rows[p]
        for k in range(width):
            syn0[r, k] += accumulated[k]
    for e in range(group_offsets[n_groups]):
        split = left_out_ends[e]
        for p in range(bag_offsets[e], split):
            r = bag_rows[p]
            for k in range(width):
                syn0[r, k] -= example_grads[e, k]
        for p in range(split, bag_offsets[e + 1]):
            r = bag_rows[p]
            for k in range(width):
                syn0[r, k] += example_grads[e, k]
    return loss_total


@njit(nogil=True, cache=True, inline="always")
def compose_left_out(block, first, end, syn0, shared, scratch):
    """Point ``scratch.hidden_rows[e - first]`` at example e's hidden vector of a leave-out
    block, e in ``first:end``: ``bag_scale[e]`` x (the shared bag's sum - e's left-out rows +
    its added rows), written to ``scratch.hidden``."""
    hidden = scratch.hidden
    hidden_rows = scratch.hidden_rows
    bag_rows = block.bag_rows
    bag_offsets = block.bag_offsets
    total = shared.total
    left_out_ends = shared.left_out_ends
    width = syn0.shape[1]
    hidden_base = hidden.ctypes.data
    hidden_stride = hidden.strides[0]
    for e in range(first, end):
        j = e - first
        for k in range(width):
            hidden[j, k] = total[k]
        split = left_out_ends[e]
        for p in range(bag_offsets[e], split):
            r = bag_rows[p]
            for k in range(width):
                hidden[j, k] -= syn0[r, k]
        for p in range(split, bag_offsets[e + 1]):
            r = bag_rows[p]
            for k in range(width):
                hidden[j, k] += syn0[r, k]
        scale = block.bag_scale[e]
        for k in range(width):
            hidden[j, k] *= scale
        hidden_rows[j] = hidden_base + j * hidden_stride


@njit(nogil=True, cache=True, inline="always")
def scored_pairs(block, n_groups):
    """The (example, target) pairs the first ``n_groups`` groups of ``block`` score: what a
    run counts as its examples, whichever way its builder groups them."""
    group_offsets = block.group_offsets
    target_offsets = block.target_offsets
    pairs = 0
    for g in range(n_groups):
        examples = group_offsets[g + 1] - group_offsets[g]
        pairs += examples * (target_offsets[g + 1] - target_offsets[g])
    return pairs


@njit(nogil=True, cache=True, inline="always")
def compose_bags(block, first, end, syn0, scratch):
    """Point ``scratch.hidden_rows[e - first]`` at example e's hidden vector, e in
    ``first:end``: the input row itself for a bag of one unscaled row, else the bag's scaled
    sum, written to ``scratch.hidden``."""
    hidden = scratch.hidden
    hidden_rows = scratch.hidden_rows
    bag_rows = block.bag_rows
    bag_offsets = block.bag_offsets
    bag_scale = block.bag_scale
    width = syn0.shape[1]
    base = syn0.ctypes.data
    stride = syn0.strides[0]
    hidden_base = hidden.ctypes.data
    hidden_stride = hidden.strides[0]
    for e in range(first, end):
        j = e - first
        a = bag_offsets[e]
        b = bag_offsets[e + 1]
        scale = bag_scale[e]
        if b - a == 1 and scale == 1.0:
            hidden_rows[j] = base + bag_rows[a] * stride
            continue
        for k in range(width):
            hidden[j, k] = 0.0
        for p in range(a, b):
            r = bag_rows[p]
            for k in range(width):
                hidden[j, k] += syn0[r, k]
        if scale != 1.0:
            for k in range(width):
                hidden[j, k] *= scale
        hidden_rows[j] = hidden_base + j * hidden_stride


@njit(nogil=True, cache=True, inline="always")
def scatter_gradients(block, first, end, syn0, grad):
    """Add example e's hidden gradient (row e - first of ``grad``), times its
    ``grad_scale``, to every row of its bag, e in ``first:end``, in bag order."""
    bag_rows = block.bag_rows
    bag_offsets = block.bag_offsets
    grad_scale = block.grad_scale
    width = syn0.shape[1]
    for e in range(first, end):
        j = e - first
        scale = grad_scale[e]
        for p in range(bag_offsets[e], bag_offsets[e + 1]):
            r = bag_rows[p]
            if scale == 1.0:
                for k in range(width):
                    syn0[r, k] += grad[j, k]
            else:
                for k in range(width):
                    syn0[r, k] += scale * grad[j, k]


@njit(nogil=True, cache=True, inline="always")
def train_group(block, g, n_in, outputs, loss, lr, rng, scratch):
    """Score the ``n_in`` hidden vectors of group ``g`` against its targets under ``loss`` and
    take the SGD step on the output rows; returns the summed loss.

    Negative sampling and hierarchical softmax draw the output rows of each of the group's
    targets (its own noise words, or its Huffman path) and score every hidden vector of the
    group against all of them in one block: skip-gram's shared negatives score a window's
    context words against one target, fastText's skip-gram one centre word's bag against
    every context word. Hierarchical softmax trains the hidden vectors in groups of
    ``SEQUENTIAL_GROUP``. The losses over every output row are in
    :func:`train_full_group`.
    """
    if loss.kind != NEGATIVE_SAMPLING and loss.kind != HIERARCHICAL_SOFTMAX:
        return train_full_group(block, g, n_in, outputs, loss, lr, scratch)
    target_ids = block.target_ids
    n_out = 0
    for t in range(block.target_offsets[g], block.target_offsets[g + 1]):
        n_out += draw_targets(loss, target_ids[t], rng, scratch.out_ids, scratch.labels, n_out)
    row_addresses(
        outputs.matrix, scratch.out_ids, n_out, outputs.hot_start, outputs.hot,
        scratch.out_rows,
    )  # fmt: skip
    group = SEQUENTIAL_GROUP if loss.kind == HIERARCHICAL_SOFTMAX else n_in
    return logistic_block(
        scratch.hidden_rows, n_in, group, scratch.out_rows, n_out, scratch.labels, lr,
        scratch.grad, scratch.grad_rows, scratch.scores,
    )  # fmt: skip


def train_full_group(block, g, n_in, outputs, loss, lr, scratch):
    """Softmax scores every output row, with the group's one target as each example's;
    one-vs-all gives each example all of the group's targets (distinct) as positives. Both
    score and update the output rows one example after another, as fastText does (the input
    rows are updated after the group, by the step). Returns the summed loss.

    Compiled per type of ``loss`` (the overload below): for ``LogisticLossTables`` it is
    never called, and compiles to nothing.
    """
    raise NotImplementedError("only callable from compiled code")


def _no_full_group(block, g, n_in, outputs, loss, lr, scratch):
    raise ValueError("softmax and one-vs-all need FullLossTables (see losses.prepare_loss)")


def _full_group(block, g, n_in, outputs, loss, lr, scratch):
    a = block.target_offsets[g]
    b = block.target_offsets[g + 1]
    target_ids = block.target_ids
    n_out = outputs.matrix.shape[0]
    if b <= a:
        raise ValueError("a group of a full-softmax or one-vs-all block has no target")
    if loss.kind == SOFTMAX:
        if b - a > 1:
            raise ValueError("a softmax group has one target (build one group per target)")
        example_targets = scratch.example_targets
        for j in range(n_in):
            example_targets[j] = target_ids[a]
        return softmax_block(
            scratch.hidden_rows, n_in, 1, scratch.out_rows, n_out, example_targets, lr,
            scratch.grad, scratch.grad_rows, scratch.scores,
        )  # fmt: skip
    offsets = scratch.example_target_offsets
    ids = scratch.example_target_ids
    if n_in * (b - a) > len(ids):
        raise ValueError("a one-vs-all group has more targets than the loss was prepared for")
    offsets[0] = 0
    for j in range(n_in):
        start = offsets[j]
        for t in range(a, b):
            ids[start + t - a] = target_ids[t]
        offsets[j + 1] = start + b - a
    return one_vs_all_block(
        scratch.hidden_rows, n_in, 1, scratch.out_rows, n_out, offsets, ids, lr,
        scratch.grad, scratch.grad_rows, scratch.scores,
    )  # fmt: skip


@overload(train_full_group, jit_options={"nogil": True, "cache": True})
def _train_full_group_for(block, g, n_in, outputs, loss, lr, scratch):
    if isinstance(loss, types.NamedTuple) and loss.instance_class is FullLossTables:
        return _full_group
    return _no_full_group
