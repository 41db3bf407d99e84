"""Exact nearest neighbours at 1M words: a batch of queries through ``Vectors.nearest``
(each row read once for the whole batch, ``kernels.search``) against one BLAS product of
the batch with the whole matrix followed by ``argpartition`` (the way before it, and what
most libraries do), and ``wordspace neighbors`` as a whole process.

    python bench/neighbours.py                  # synthesises a 1M x 300 native model once
    python bench/neighbours.py --model FOLDER   # any native model
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from compare_word2vec import CACHE

import wordspace
from wordspace.formats.native import save_vectors
from wordspace.vectors import top_k


def synthetic(rows: int, dim: int) -> Path:
    """A native model of ``rows`` random normal vectors, made once under bench/.cache."""
    folder = CACHE / f"synthetic-{rows}x{dim}"
    if not (folder / "meta.json").exists():
        rng = np.random.default_rng(0)
        matrix = rng.standard_normal((rows, dim), dtype=np.float32)
        words = [f"w{i}" for i in range(rows)]
        save_vectors(wordspace.Vectors.from_words(words, matrix, np.arange(rows, 0, -1)), folder)
    return folder


def best_of(work, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="a native model [synthetic 1M x 300]")
    parser.add_argument("--batches", default="1,8,32,64")
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    model = args.model or synthetic(1_000_000, 300)
    vectors = wordspace.load(model)
    rng = np.random.default_rng(1)
    queries = np.asarray(vectors.matrix[rng.integers(0, len(vectors), 64)])
    vectors.nearest(queries[:1], args.k)  # compiled kernels loaded, norms read
    print(f"{model}: {len(vectors):,} x {vectors.dim}, k={args.k}, best of {args.repeats}")
    print("| queries | BLAS product + argpartition (s) | nearest (s) | speed-up | per query (ms) |")
    print("|---|---|---|---|---|")
    for batch in (int(b) for b in args.batches.split(",")):
        block = queries[:batch]
        ours = best_of(lambda b=block: vectors.nearest(b, args.k), args.repeats)
        blas = best_of(lambda b=block: top_k(vectors.cosines(b), args.k), args.repeats)
        same = np.array_equal(
            vectors.nearest(block, args.k)[0], top_k(vectors.cosines(block), args.k)[0]
        )
        per_query = 1000 * ours / batch
        note = "" if same else " (rankings differ)"
        print(f"| {batch} | {blas:.3f} | {ours:.3f} | {blas / ours:.2f}x | {per_query:.1f} |{note}")
    word = vectors.words[5]
    command = [sys.executable, "-m", "wordspace.cli", "neighbors", str(model), word, "-k", "10"]
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        runs.append(time.perf_counter() - start)
    print(
        f"\n`wordspace neighbors MODEL {word}` whole process: {statistics.median(runs):.2f} s "
        f"(median of 3; {', '.join(f'{r:.2f}' for r in runs)})"
    )


if __name__ == "__main__":
    main()
