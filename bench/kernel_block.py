"""Where a training step's time goes inside the loss kernel.

Times ``logistic_block`` (score a block of hidden vectors against output rows, gradients,
updates) on the block shapes word2vec training produces, with the rows in cache, and splits
one block into its phases by timing its own phase functions: row addresses + scores, then
+ gradients, then the whole block (the shares are differences of best-of-five timings, so
they carry a few percent of noise). Prints nanoseconds per block and per (hidden,
output) unit, so that the next kernel change can be measured against these figures.

    python bench/kernel_block.py            # dim 100 (rows padded to 112 floats)
    python bench/kernel_block.py --dim 300

A last line times skip-gram HS blocks whose shapes are drawn as training draws them (window
shrunk uniformly, centre words by their subsampled frequency in the first 5M tokens of
``../shared/data/enwiki``), the figure to compare kernel changes by.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import time
from pathlib import Path

import numpy as np
from numba import njit

from wordspace.kernels.losses import SEQUENTIAL_GROUP, _gradients, block_scores, logistic_block
from wordspace.kernels.simd import all_row_addresses, row_addresses
from wordspace.text.reader import read_corpus
from wordspace.training import padded_width
from wordspace.vocab import huffman_tree, keep_probabilities

ENWIKI = Path(__file__).resolve().parents[2] / "shared/data/enwiki/enwiki2015.tok.txt.gz"
MIX_LINES = 67_000
MIX_BLOCKS = 4_000

SHAPES = {
    "skip-gram NS (6 contexts x 6 rows)": (6, 6, 6),
    "skip-gram HS (6 contexts x 14 nodes)": (6, 14, SEQUENTIAL_GROUP),
    "skip-gram HS, short window (2 x 14)": (2, 14, SEQUENTIAL_GROUP),
    "skip-gram HS, full window (10 x 14)": (10, 14, SEQUENTIAL_GROUP),
    "CBOW NS (1 x 6)": (1, 6, 1),
    "CBOW HS (1 x 14)": (1, 14, 1),
}
"""Block shapes as (hidden rows, output rows, rows per sequential group) as training
makes them."""


@njit(nogil=True, fastmath=True)
def _scores_only(hidden_rows, n_in, out_rows, n_out, scores, with_gradients, labels, lr, width):
    """The first phases of ``logistic_block`` for all groups at once: dot products,
    optionally gradients."""
    block_scores(hidden_rows, 0, n_in, out_rows, n_out, scores, width)
    if with_gradients:
        return _gradients(scores, 0, n_in, labels, n_out, lr)
    return 0.0


@njit(nogil=True)
def _scratch(dim):
    """The block's work arrays, sized for up to 16 hidden and 64 output rows: rows, labels,
    scores, grad, and the address tables of hidden, output and gradient rows."""
    grad = np.zeros((16, dim), np.float32)
    grad_rows = np.zeros(16, np.int64)
    all_row_addresses(grad, grad_rows)
    return (
        np.zeros(64, np.int64), np.zeros(64, np.float32), np.zeros((16, 64), np.float32),
        grad, np.zeros(16, np.int64), np.zeros(64, np.int64), grad_rows,
    )  # fmt: skip


@njit(nogil=True, fastmath=True)
def _run(phase, syn0, out, n_iter, n_in, n_out, group):
    """Train ``n_iter`` blocks on rows picked by a fixed pattern; phase 0, 1 or 2 stops after
    the scores, after the gradients, or runs the whole block."""
    rows, labels, scores, grad, hidden_rows, out_rows, grad_rows = _scratch(syn0.shape[1])
    contexts = np.zeros(16, np.int64)
    for t in range(64):
        labels[t] = 1.0 if t % 3 == 0 else 0.0
    v = syn0.shape[0]
    total = 0.0
    lr = np.float32(0.01)
    for it in range(n_iter):
        for i in range(n_in):
            contexts[i] = (it * 7 + i * 13) % v
        for t in range(n_out):
            rows[t] = (it * 3 + t * 17) % v
        row_addresses(syn0, contexts, n_in, v, syn0, hidden_rows)
        row_addresses(out, rows, n_out, v, out, out_rows)
        if phase == 2:
            total += logistic_block(
                hidden_rows, n_in, group, out_rows, n_out, labels, lr, grad, grad_rows, scores
            )
        else:
            total += _scores_only(
                hidden_rows, n_in, out_rows, n_out, scores, phase == 1, labels, lr, grad.shape[1]
            )
    return total


def _time_block(
    phase: int, syn0: np.ndarray, out: np.ndarray, n_in: int, n_out: int, group: int
) -> float:
    """Best of five, in nanoseconds per block."""
    _run(phase, syn0, out, 10, n_in, n_out, group)
    n_iter = 100_000
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        _run(phase, syn0, out, n_iter, n_in, n_out, group)
        best = min(best, time.perf_counter() - start)
    return best / n_iter * 1e9


def _hs_shapes_from_enwiki() -> np.ndarray | None:
    """(contexts, path nodes) of MIX_BLOCKS skip-gram HS blocks as training makes them, or
    None without the corpus."""
    if not ENWIKI.exists():
        return None
    with gzip.open(ENWIKI, "rt", encoding="utf-8") as lines:
        vocab, _, _ = read_corpus(list(itertools.islice(lines, MIX_LINES)), min_count=5)
    code_offsets = huffman_tree(vocab.counts)[0]
    kept = vocab.counts * keep_probabilities(vocab.counts, 1e-4).astype(np.float64)
    rng = np.random.default_rng(0)
    centres = rng.choice(len(kept), MIX_BLOCKS, p=kept / kept.sum())
    contexts = 2 * rng.integers(1, 6, MIX_BLOCKS)
    return np.stack([contexts, np.diff(code_offsets)[centres]]).astype(np.int64)


@njit(nogil=True, fastmath=True)
def _run_mix(syn0, out, shapes, reps):
    """Train every block of ``shapes`` ``reps`` times; returns the (context, node) pairs."""
    rows, labels, scores, grad, hidden_rows, out_rows, grad_rows = _scratch(syn0.shape[1])
    all_row_addresses(syn0[:16], hidden_rows)
    v = out.shape[0]
    pairs = 0
    for _ in range(reps):
        for b in range(shapes.shape[1]):
            n_in, n_out = shapes[0, b], shapes[1, b]
            for t in range(n_out):
                rows[t] = (b * 7 + t * 131) % v
                labels[t] = 1.0 if (b + t) % 2 == 0 else 0.0
            row_addresses(out, rows, n_out, v, out, out_rows)
            logistic_block(
                hidden_rows, n_in, SEQUENTIAL_GROUP, out_rows, n_out, labels,
                np.float32(0.001), grad, grad_rows, scores,
            )  # fmt: skip
            pairs += n_in * n_out
    return pairs


def _time_mix(syn0: np.ndarray, out: np.ndarray, shapes: np.ndarray) -> tuple[float, float]:
    """Best of seven, in nanoseconds per block and per (context, node) pair."""
    _run_mix(syn0, out, shapes, 1)
    best, pairs = float("inf"), 0
    for _ in range(7):
        start = time.perf_counter()
        pairs = _run_mix(syn0, out, shapes, 10)
        best = min(best, time.perf_counter() - start)
    return best / (10 * shapes.shape[1]) * 1e9, best / pairs * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dim", type=int, default=100)
    args = parser.parse_args()
    width = padded_width(args.dim)
    rng = np.random.default_rng(0)
    syn0 = np.zeros((2000, width), np.float32)
    out = np.zeros((2000, width), np.float32)
    syn0[:, : args.dim] = (rng.random((2000, args.dim), dtype=np.float32) - 0.5) / args.dim
    out[:, : args.dim] = (rng.random((2000, args.dim), dtype=np.float32) - 0.5) / 2
    print(f"logistic_block, dim {args.dim} (rows of {width} floats), rows in cache")
    print()
    print("| block | ns/block | ns/unit | addresses+scores | gradients | updates |")
    print("|---|---|---|---|---|---|")
    for name, (n_in, n_out, group) in SHAPES.items():
        scores = _time_block(0, syn0, out, n_in, n_out, group)
        gradients = _time_block(1, syn0, out, n_in, n_out, group)
        whole = _time_block(2, syn0, out, n_in, n_out, group)
        shares = [scores / whole, (gradients - scores) / whole, (whole - gradients) / whole]
        print(
            f"| {name} | {whole:,.0f} | {whole / (n_in * n_out):.1f} | "
            + " | ".join(f"{max(s, 0.0):.0%}" for s in shares)
            + " |"
        )
    shapes = _hs_shapes_from_enwiki()
    if shapes is None:
        print(f"\n(no {ENWIKI}: the block mix drawn from real text is skipped)")
        return
    per_block, per_pair = _time_mix(syn0, out, shapes)
    print(
        f"| skip-gram HS, {MIX_BLOCKS:,} shapes drawn from enwiki (mean "
        f"{shapes[0].mean():.1f} x {shapes[1].mean():.1f}) | {per_block:,.0f} | {per_pair:.1f} "
        "| | | |"
    )


if __name__ == "__main__":
    main()
