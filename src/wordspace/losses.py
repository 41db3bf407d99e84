"""Losses, prepared once from the vocabulary (or label set) in the form the kernels take.

- ``ns``, negative sampling: the target's row and ``negative`` noise rows drawn from counts
  ** ``ns_exponent`` (an alias table); one output row per word.
- ``hs``, hierarchical softmax: the inner nodes on the target's path in a Huffman tree of the
  counts; one output row per inner node (n - 1).
- ``softmax``: the full softmax over every output row (one per word or label); exact, and
  O(n x dim) per example, so for small vocabularies and label sets.
- ``ova``, one-vs-all: an independent logistic per output row, several positive targets per
  example (multi-label classification).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wordspace.kernels.engine import FullLossTables, LogisticLossTables, LossTables
from wordspace.kernels.losses import HIERARCHICAL_SOFTMAX, NEGATIVE_SAMPLING
from wordspace.kernels.softmax import ONE_VS_ALL, SOFTMAX
from wordspace.vocab import huffman_tree, noise_distribution

LOSS_CODES = {
    "ns": NEGATIVE_SAMPLING,
    "hs": HIERARCHICAL_SOFTMAX,
    "softmax": SOFTMAX,
    "ova": ONE_VS_ALL,
}
"""The kernels' code of each loss name (``wordspace.names``)."""

HOT_TREE_NODES = 16
"""Top inner nodes of the Huffman tree each worker trains in a private copy per chunk."""


@dataclass(frozen=True)
class PreparedLoss:
    """A loss ready for training: its tables and the output matrix it needs."""

    name: str
    tables: LossTables
    output_rows: int
    """Rows of the output matrix."""
    hot_rows: int
    """Last output rows each worker trains in a private copy (the top of the tree)."""


def prepare_loss(
    name: str,
    counts: np.ndarray,
    *,
    negative: int = 5,
    ns_exponent: float = 0.75,
    max_positives: int = 1,
) -> PreparedLoss:
    """Prepare loss ``name`` over outputs with ``counts`` (sorted descending: the vocabulary
    or the label set). ``max_positives`` bounds the positive targets of one example
    (one-vs-all)."""
    counts = np.asarray(counts, dtype=np.int64)
    n = len(counts)
    code = LOSS_CODES[name]
    no_noise = (np.ones(1, dtype=np.float32), np.zeros(1, dtype=np.int32))
    no_tree = (np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint8), np.zeros(0, np.int32))
    noise, tree = no_noise, no_tree
    output_rows, hot_rows, max_targets = n, 0, 1
    if code == NEGATIVE_SAMPLING:
        noise = noise_distribution(counts, ns_exponent)
        max_targets = negative + 1
    elif code == HIERARCHICAL_SOFTMAX:
        tree = huffman_tree(counts)
        output_rows = max(n - 1, 1)
        max_targets = max(1, int(np.diff(tree[0]).max(initial=0)))
        hot_rows = min(HOT_TREE_NODES, output_rows)
    elif code == ONE_VS_ALL:
        max_targets = max(1, max_positives)
    kind = (
        LogisticLossTables if code in (NEGATIVE_SAMPLING, HIERARCHICAL_SOFTMAX) else FullLossTables
    )
    tables = kind(code, negative, noise[0], noise[1], tree[0], tree[1], tree[2], max_targets)
    return PreparedLoss(name, tables, output_rows, hot_rows)
