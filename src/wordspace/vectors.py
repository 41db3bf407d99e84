"""``Vectors``: the query object over a vocabulary and its vector matrix.

Similarity queries use the unit-normalised matrix, computed once on first use; top-k results
come from ``argpartition`` over one matrix product, and many queries go through one BLAS call.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from functools import cached_property

import numpy as np

from wordspace.vocab import Vocabulary

WordOrVector = str | np.ndarray


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest scores in each row, best first."""
    if scores.ndim == 1:
        idx, val = top_k(scores[None, :], k)
        return idx[0], val[0]
    k = min(k, scores.shape[1])
    if k <= 0:
        empty = np.empty((scores.shape[0], 0))
        return empty.astype(np.int64), empty.astype(scores.dtype)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(part_scores, order, axis=1)


class Vectors:
    """Word vectors with the lookups and similarity queries users expect from gensim's
    ``KeyedVectors``.

    >>> vectors["paris"]                      # the vector of a word
    >>> vectors.most_similar("paris", topn=5)  # [(word, cosine), ...]
    >>> vectors.analogy("man", "king", "woman")  # man : king :: woman : ?
    """

    def __init__(self, vocab: Vocabulary, matrix: np.ndarray) -> None:
        if matrix.ndim != 2 or matrix.shape[0] != len(vocab):
            raise ValueError(
                f"matrix of shape {matrix.shape} does not fit a vocabulary of {len(vocab)} words"
            )
        self.vocab = vocab
        self.matrix = matrix

    @classmethod
    def from_words(
        cls, words: Sequence[str], matrix: np.ndarray, counts: Sequence[int] | None = None
    ) -> Vectors:
        """Vectors for ``words`` (rows of ``matrix`` in the same order)."""
        return cls(Vocabulary.from_words(words, counts), np.asarray(matrix, dtype=np.float32))

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, word: object) -> bool:
        return word in self.vocab

    def __iter__(self):
        return iter(self.words)

    def __repr__(self) -> str:
        return f"Vectors({len(self):,} words x {self.dim} dims)"

    @property
    def words(self) -> list[str]:
        """All words, most frequent first."""
        return self.vocab.words

    @property
    def counts(self) -> np.ndarray:
        """Corpus count of each word (zeros when the source did not record counts)."""
        return self.vocab.counts

    def index(self, word: str) -> int:
        """Row of ``word``; KeyError when it is not in the vocabulary."""
        i = self.vocab.index(word)
        if i < 0:
            raise KeyError(f"word {word!r} is not in the vocabulary")
        return i

    def indices(self, words: Iterable[str]) -> np.ndarray:
        """Rows of many words; KeyError naming the first unknown one."""
        words = list(words)
        found = self.vocab.indices(words)
        missing = np.flatnonzero(found < 0)
        if len(missing):
            raise KeyError(f"word {words[missing[0]]!r} is not in the vocabulary")
        return found

    def __getitem__(self, key: str | Sequence[str]) -> np.ndarray:
        if isinstance(key, str):
            return self.matrix[self.index(key)]
        return self.matrix[self.indices(key)]

    def get(self, word: str, default: np.ndarray | None = None) -> np.ndarray | None:
        i = self.vocab.index(word)
        return self.matrix[i] if i >= 0 else default

    @cached_property
    def normalized(self) -> np.ndarray:
        """Unit-length rows (zero rows stay zero), computed once."""
        return _unit_rows(np.asarray(self.matrix, dtype=np.float32))

    def unit(self, key: WordOrVector) -> np.ndarray:
        """The unit vector of a word, or a given vector normalised."""
        if isinstance(key, str):
            return self.normalized[self.index(key)]
        vector = np.asarray(key, dtype=np.float32)
        norm = np.linalg.norm(vector)
        return vector / norm if norm > 0 else vector

    def similarity(self, a: WordOrVector, b: WordOrVector) -> float:
        """Cosine similarity of two words (or vectors)."""
        return float(np.dot(self.unit(a), self.unit(b)))

    def _candidates(self, restrict_vocab: int | None) -> np.ndarray:
        unit = self.normalized
        return unit if restrict_vocab is None else unit[:restrict_vocab]

    def nearest(
        self,
        queries: np.ndarray,
        topn: int = 10,
        *,
        exclude: Sequence[Sequence[int]] | None = None,
        restrict_vocab: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Batched cosine neighbours of query vectors (one per row): (indices, scores).

        ``exclude[i]`` lists rows never returned for query ``i``; ``restrict_vocab`` limits
        candidates to the most frequent words.
        """
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        norms = np.linalg.norm(queries, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        scores = (queries / norms) @ self._candidates(restrict_vocab).T
        if exclude is not None:
            for i, rows in enumerate(exclude):
                rows = [r for r in rows if r < scores.shape[1]]
                scores[i, rows] = -np.inf
        return top_k(scores, topn)

    def _combine(
        self, positive: Sequence[WordOrVector], negative: Sequence[WordOrVector]
    ) -> tuple[np.ndarray, list[int]]:
        query = np.zeros(self.dim, dtype=np.float32)
        used = []
        for sign, items in ((1.0, positive), (-1.0, negative)):
            for item in items:
                query += sign * self.unit(item)
                if isinstance(item, str):
                    used.append(self.index(item))
        return query, used

    def most_similar(
        self,
        positive: WordOrVector | Sequence[WordOrVector] | None = None,
        negative: WordOrVector | Sequence[WordOrVector] | None = None,
        topn: int = 10,
        *,
        restrict_vocab: int | None = None,
        exclude_inputs: bool = True,
    ) -> list[tuple[str, float]]:
        """Words closest to the mean of the ``positive`` unit vectors minus the ``negative``
        ones (3CosAdd), as gensim's ``most_similar``; input words are left out."""
        positive = _as_list(positive)
        negative = _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one positive or negative word")
        query, used = self._combine(positive, negative)
        idx, val = self.nearest(
            query[None, :],
            topn,
            exclude=[used] if exclude_inputs else None,
            restrict_vocab=restrict_vocab,
        )
        return [(self.vocab.word(int(i)), float(s)) for i, s in zip(idx[0], val[0], strict=True)]

    def analogy(
        self,
        a: str,
        b: str,
        c: str,
        topn: int = 1,
        *,
        method: str = "add",
        restrict_vocab: int | None = None,
    ) -> list[tuple[str, float]]:
        """Answers to "``a`` is to ``b`` as ``c`` is to ?", best first.

        ``method="add"`` is 3CosAdd (b - a + c); ``"mul"`` is 3CosMul (Levy & Goldberg 2014).
        """
        rows = np.array([[self.index(a), self.index(b), self.index(c)]])
        idx, val = analogy_search(
            self._candidates(restrict_vocab), self.normalized, rows, topn, method
        )
        return [(self.vocab.word(int(i)), float(s)) for i, s in zip(idx[0], val[0], strict=True)]

    def save(self, path: str | os.PathLike, **meta: object) -> None:
        """Save in the native memory-mappable format (a folder)."""
        from wordspace.formats.native import save_vectors

        save_vectors(self, path, **meta)


def _as_list(items: WordOrVector | Sequence[WordOrVector] | None) -> list[WordOrVector]:
    if items is None:
        return []
    if isinstance(items, str | np.ndarray):
        return [items]
    return list(items)


COSMUL_EPSILON = 1e-3


def analogy_search(
    candidates: np.ndarray, unit: np.ndarray, rows: np.ndarray, topn: int, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Batched analogy answers for question rows (a, b, c), excluding a, b and c.

    ``candidates`` are the unit vectors searched (a prefix of ``unit``, the full matrix).
    """
    a, b, c = unit[rows[:, 0]], unit[rows[:, 1]], unit[rows[:, 2]]
    if method == "add":
        query = b - a + c
        norms = np.linalg.norm(query, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        scores = (query / norms) @ candidates.T
    elif method == "mul":
        sim_a = (a @ candidates.T + 1) / 2
        sim_b = (b @ candidates.T + 1) / 2
        sim_c = (c @ candidates.T + 1) / 2
        scores = sim_b * sim_c / (sim_a + COSMUL_EPSILON)
    else:
        raise ValueError(f"method must be 'add' or 'mul', got {method!r}")
    n = candidates.shape[0]
    for j in range(3):
        inside = rows[:, j] < n
        scores[np.flatnonzero(inside), rows[inside, j]] = -np.inf
    return top_k(scores, topn)
