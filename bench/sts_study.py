"""Sentence vectors on the STS Benchmark: sent2vec models against averaged word vectors, plain
and SIF-weighted, side by side.

Each model (any readable model; train them first, e.g. with ``wordspace train sent2vec`` and
``wordspace train skipgram`` on the same text) is scored on STS-B dev and test (Spearman
between the cosine of each pair's vectors and the gold score):

- ``mean``: ``wordspace eval sts``'s vectors (sent2vec models embed as sent2vec does; word
  models average their word vectors);
- ``sif`` (word models and sent2vec unigram models, whose mean is that of their word rows):
  Arora, Liang and Ma's smooth inverse frequency (ICLR 2017):
  each word weighted ``a / (a + p(w))`` with ``p(w)`` its training count over the total and
  ``a = 1e-3``, then the first principal component of all the evaluated sentences' vectors
  removed.

    python bench/sts_study.py NAME=MODEL [NAME=MODEL ...] [--sts-dir ../shared/data/sts]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from wordspace.evaluate import spearman
from wordspace.formats import load_model
from wordspace.models.fasttext import FastTextModel
from wordspace.sts import evaluate_sts, read_sts_pairs, tokenised
from wordspace.vectors import Vectors

SIF_A = 1e-3


def sif_spearman(vectors: Vectors, path: str) -> float:
    first, second, gold = read_sts_pairs(path)
    counts = vectors.counts.astype(np.float64)
    weights = SIF_A / (SIF_A + counts / counts.sum())
    matrix = np.asarray(vectors.matrix, dtype=np.float64)

    def embed(sentences: list[str]) -> np.ndarray:
        out = np.zeros((len(sentences), matrix.shape[1]))
        for row, sentence in enumerate(tokenised(sentences, "words")):
            ids = vectors.vocab.indices(sentence.split())
            ids = ids[ids >= 0]
            if len(ids):
                out[row] = weights[ids] @ matrix[ids] / len(ids)
        return out

    a, b = embed(first), embed(second)
    both = np.vstack([a, b])
    _, _, vt = np.linalg.svd(both, full_matrices=False)
    pc = vt[0]
    a -= np.outer(a @ pc, pc)
    b -= np.outer(b @ pc, pc)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cosine = np.where(norms > 0, (a * b).sum(axis=1) / np.maximum(norms, 1e-30), 0.0)
    return spearman(cosine, gold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", metavar="NAME=MODEL")
    here = os.path.dirname(os.path.abspath(__file__))
    parser.add_argument(
        "--sts-dir", default=os.path.join(here, "..", "..", "shared", "data", "sts")
    )
    args = parser.parse_args()
    dev = os.path.join(args.sts_dir, "sts-dev.csv")
    test = os.path.join(args.sts_dir, "sts-test.csv")
    print("| model | pooling | STS-B dev Spearman | STS-B test Spearman |")
    print("|---|---|---|---|")
    for spec in args.models:
        name, _, path = spec.partition("=")
        model = load_model(path)
        scores = [evaluate_sts(model, dev).spearman, evaluate_sts(model, test).spearman]
        print(f"| {name} | mean | {scores[0]:.4f} | {scores[1]:.4f} |", flush=True)
        sent2vec = isinstance(model, FastTextModel) and model.is_sent2vec
        if not sent2vec or int(model.args["word_ngrams"]) == 1:
            vectors = model.vectors() if isinstance(model, FastTextModel) else model
            sif = [sif_spearman(vectors, dev), sif_spearman(vectors, test)]
            print(f"| {name} | SIF | {sif[0]:.4f} | {sif[1]:.4f} |", flush=True)


if __name__ == "__main__":
    main()
