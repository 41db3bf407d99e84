"""``Vectors``: the query object over a vocabulary and its vector matrix.

Similarity queries read the (possibly memory-mapped) matrix itself and divide by the row
norms, computed once or stored with the model: no normalised copy of the matrix is made, so
processes that map the same model share all of it. Neighbour searches read the matrix once
per batch of queries (``kernels.search``), or ask the model's approximate index
(``neighbour_index``) when the caller allows it and the model has one.

Words outside the vocabulary get a vector from their character n-grams when the model has
them (fastText-style models), exactly as Facebook's ``get_word_vector`` computes it:
``in_vocab`` tells the two cases apart, ``has_vector`` says whether a vector can be given.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import Any

import numpy as np

from wordspace.errors import ParameterError
from wordspace.interop import gensim, torch
from wordspace.kernels.search import search_rows, sorted_best
from wordspace.memory import available_cpus
from wordspace.names import ANALOGY_METHODS
from wordspace.neighbour_index import NeighbourIndex
from wordspace.subwords import CharNgrams
from wordspace.vocab import Vocabulary

WordOrVector = str | np.ndarray
_NORM_BLOCK = 1 << 16
SEARCH_SPLIT_ROWS = 1 << 16
"""Rows below which a neighbour search is not split across threads."""


def row_norms(matrix: np.ndarray) -> np.ndarray:
    """L2 norm of each row, computed block by block (no temporary as large as the matrix)."""
    norms = np.empty(matrix.shape[0], dtype=np.float32)
    for start in range(0, matrix.shape[0], _NORM_BLOCK):
        block = np.asarray(matrix[start : start + _NORM_BLOCK], dtype=np.float32)
        norms[start : start + len(block)] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return norms


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` largest scores in each row, best first."""
    if scores.ndim == 1:
        idx, val = top_k(scores[None, :], k)
        return idx[0], val[0]
    k = min(k, scores.shape[1])
    if k <= 0:
        empty = np.empty((scores.shape[0], 0))
        return empty.astype(np.int64), empty.astype(scores.dtype)
    if k == 1:
        best = np.argmax(scores, axis=1)[:, None]
        return best, np.take_along_axis(scores, best, axis=1)
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    part_scores = np.take_along_axis(scores, part, axis=1)
    order = np.argsort(-part_scores, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(part_scores, order, axis=1)


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.atleast_2d(np.asarray(rows, dtype=np.float32))
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return rows / norms


class Vectors:
    """Word vectors with the lookups and similarity queries users expect from gensim's
    ``KeyedVectors``.

    >>> vectors["paris"]                      # the vector of a word
    >>> vectors.most_similar("paris", topn=5)  # [(word, cosine), ...]
    >>> vectors.analogy("man", "king", "woman")  # man : king :: woman : ?
    """

    def __init__(
        self,
        vocab: Vocabulary,
        matrix: np.ndarray,
        ngrams: CharNgrams | None = None,
        norms: np.ndarray | None = None,
    ) -> None:
        """``norms``, the rows' L2 norms when known (a native folder stores them), saves
        computing them at the first query."""
        if matrix.ndim != 2 or matrix.shape[0] != len(vocab):
            raise ValueError(
                f"matrix of shape {matrix.shape} does not fit a vocabulary of {len(vocab)} words"
            )
        if ngrams is not None and ngrams.vectors.shape[1] != matrix.shape[1]:
            raise ValueError("n-gram vectors and word vectors differ in dimension")
        self.vocab = vocab
        self.matrix = matrix
        self.ngrams = ngrams
        self.approximate: NeighbourIndex | None = None
        if norms is not None:
            self.__dict__["norms"] = norms

    @classmethod
    def from_words(
        cls, words: Sequence[str], matrix: np.ndarray, counts: Sequence[int] | None = None
    ) -> Vectors:
        """Vectors for ``words`` (rows of ``matrix`` in the same order)."""
        return cls(Vocabulary.from_words(words, counts), np.asarray(matrix, dtype=np.float32))

    def to_torch(self, freeze: bool = True) -> tuple[Any, dict[str, int]]:
        """A ``torch.nn.Embedding`` whose weight is this matrix (shared when frozen, a copy
        when trainable) and the word-to-row map. Needs PyTorch (``wordspace[torch]``)."""
        return torch.to_torch(self, freeze)

    @classmethod
    def from_torch(cls, embedding: Any, words: Sequence[str] | Mapping[str, int]) -> Vectors:
        """Vectors from a ``torch.nn.Embedding`` (or weight tensor) and its words, in row
        order or as the word-to-row map ``to_torch`` gives."""
        return torch.from_torch(embedding, words, cls)

    def to_gensim(self) -> Any:
        """gensim's ``KeyedVectors`` with the same words in the same order, or for a subword
        model its ``FastTextKeyedVectors``, whose unseen words get vectors as here."""
        return gensim.to_gensim(self)

    @classmethod
    def from_gensim(cls, keyed_vectors: Any) -> Vectors:
        """Vectors of a gensim ``KeyedVectors`` (or a gensim model's ``.wv``), n-grams
        included for ``FastTextKeyedVectors``."""
        return gensim.from_gensim(keyed_vectors, cls)

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    def __len__(self) -> int:
        return len(self.vocab)

    def __contains__(self, word: object) -> bool:
        """Whether ``word`` is in the vocabulary (see ``has_vector`` for n-gram models)."""
        return word in self.vocab

    def in_vocab(self, word: str) -> bool:
        """Whether ``word`` is in the vocabulary."""
        return word in self.vocab

    def has_vector(self, word: str) -> bool:
        """Whether a vector can be given: in the vocabulary, or built from n-grams."""
        if word in self.vocab:
            return True
        return self.ngrams is not None and len(self.ngrams.buckets(word)) > 0

    def __iter__(self):
        return iter(self.words)

    def __repr__(self) -> str:
        extra = f", {self.ngrams.bucket:,} n-gram buckets" if self.ngrams is not None else ""
        return f"Vectors({len(self):,} words x {self.dim} dims{extra})"

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

    def vector(self, word: str) -> np.ndarray:
        """The vector of ``word``: its row, or for an unknown word of an n-gram model the mean
        of its n-gram vectors (zeros when it has none, as fastText). KeyError otherwise."""
        i = self.vocab.index(word)
        if i >= 0:
            return self.matrix[i]
        if self.ngrams is not None:
            return self.ngrams.vector(word)
        raise KeyError(f"word {word!r} is not in the vocabulary")

    def __getitem__(self, key: str | Sequence[str]) -> np.ndarray:
        if isinstance(key, str):
            return self.vector(key)
        key = list(key)
        if self.ngrams is None:
            return self.matrix[self.indices(key)]
        return np.stack([self.vector(word) for word in key]) if key else self.matrix[:0]

    def get(self, word: str, default: np.ndarray | None = None) -> np.ndarray | None:
        try:
            return self.vector(word)
        except KeyError:
            return default

    @cached_property
    def norms(self) -> np.ndarray:
        """L2 norm of every row, computed once (or stored with the model)."""
        return row_norms(self.matrix)

    @cached_property
    def _safe_norms(self) -> np.ndarray:
        norms = self.norms.copy()
        norms[norms == 0] = 1.0
        return norms

    @property
    def normalized(self) -> np.ndarray:
        """Unit-length rows (zero rows stay zero). This makes a full copy of the matrix;
        queries do not need it."""
        return np.asarray(self.matrix, dtype=np.float32) / self._safe_norms[:, None]

    def unit(self, key: WordOrVector) -> np.ndarray:
        """The unit vector of a word, or a given vector normalised."""
        vector = self.vector(key) if isinstance(key, str) else key
        return _unit(vector)[0]

    def similarity(self, a: WordOrVector, b: WordOrVector) -> float:
        """Cosine similarity of two words (or vectors)."""
        return float(np.dot(self.unit(a), self.unit(b)))

    def cosines(self, queries: np.ndarray, restrict_vocab: int | None = None) -> np.ndarray:
        """Cosine of each query vector (rows) with each word (columns) of the vocabulary,
        or of its ``restrict_vocab`` most frequent words."""
        if restrict_vocab is not None:
            restrict_vocab = _positive("restrict_vocab", restrict_vocab)
        n = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        scores = _unit(queries) @ np.asarray(self.matrix[:n], dtype=np.float32).T
        scores /= self._safe_norms[:n]
        return scores

    def nearest(
        self,
        queries: np.ndarray,
        topn: int = 10,
        *,
        exclude: Sequence[Sequence[int]] | None = None,
        restrict_vocab: int | None = None,
        exact: bool = True,
        breadth: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Batched cosine neighbours of query vectors (one per row): (indices, scores),
        best first, ties to the more frequent word.

        ``exclude[i]`` lists rows never returned for query ``i`` (a query left with fewer
        than ``topn`` candidates has -1 rows at the end); ``restrict_vocab`` limits
        candidates to the most frequent words. The matrix is read once per batch, whatever
        the number of queries, split across the CPUs (``kernels.search``). With
        ``exact=False`` the model's approximate index answers instead, when it has one
        and ``restrict_vocab`` is not given (``breadth``: its search breadth, efSearch).
        """
        if restrict_vocab is not None:
            restrict_vocab = _positive("restrict_vocab", restrict_vocab)
        n = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        units = np.ascontiguousarray(_unit(queries))
        excluded = [np.asarray(rows, dtype=np.int64) for rows in exclude or ()]
        k = min(topn + max((len(rows) for rows in excluded), default=0), n)
        if not exact and self.approximate is not None and restrict_vocab is None:
            ranked_rows, ranked_scores = self.approximate.search(units, k, breadth)
            if excluded:
                ranked_rows, ranked_scores = _without(ranked_rows, ranked_scores, excluded)
            return ranked_rows[:, :topn], ranked_scores[:, :topn]
        matrix = self.matrix
        if matrix.dtype != np.float32 or not matrix.flags.c_contiguous:
            matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        parts = _search_parts(n)
        heaps = [
            (np.full((len(units), k), -np.inf, np.float32), np.full((len(units), k), -1, np.int64))
            for _ in parts
        ]
        norms = self._safe_norms

        def search(part: int) -> None:
            first, last = parts[part]
            search_rows(matrix, first, last, units, norms, *heaps[part])

        if len(parts) == 1:
            search(0)
        else:
            with ThreadPoolExecutor(len(parts)) as pool:
                list(pool.map(search, range(len(parts))))
        best_scores = np.concatenate([scores for scores, _ in heaps], axis=1)
        best_rows = np.concatenate([rows for _, rows in heaps], axis=1)
        ranked_scores, ranked_rows = sorted_best(best_scores, best_rows)
        if excluded:
            ranked_rows, ranked_scores = _without(ranked_rows, ranked_scores, excluded)
        width = min(topn, n)
        return ranked_rows[:, :width], ranked_scores[:, :width]

    def query_vector(
        self, positive: Sequence[WordOrVector], negative: Sequence[WordOrVector]
    ) -> tuple[np.ndarray, list[int]]:
        """The query ``most_similar`` searches with (the sum of the positive unit vectors
        minus the negative ones) and the vocabulary rows of its input words."""
        query = np.zeros(self.dim, dtype=np.float32)
        used = []
        for sign, items in ((1.0, positive), (-1.0, negative)):
            for item in items:
                query += sign * self.unit(item)
                if isinstance(item, str) and item in self.vocab:
                    used.append(self.vocab.index(item))
        return query, used

    def most_similar(
        self,
        positive: WordOrVector | Sequence[WordOrVector] | None = None,
        negative: WordOrVector | Sequence[WordOrVector] | None = None,
        topn: int = 10,
        *,
        restrict_vocab: int | None = None,
        exclude_inputs: bool = True,
        exact: bool = True,
        breadth: int | None = None,
    ) -> list[tuple[str, float]]:
        """Words closest to the mean of the ``positive`` unit vectors minus the ``negative``
        ones (3CosAdd), as gensim's ``most_similar``; input words are left out.

        ``exact=False`` asks the model's approximate index (``wordspace index``), much
        faster on large vocabularies and finding most of the exact neighbours (``breadth``
        trades speed for more of them); without an index the search stays exact."""
        topn = _positive("topn", topn)
        positive = _as_list(positive)
        negative = _as_list(negative)
        if not positive and not negative:
            raise ValueError("most_similar needs at least one positive or negative word")
        query, used = self.query_vector(positive, negative)
        idx, val = self.nearest(
            query[None, :],
            topn,
            exclude=[used] if exclude_inputs else None,
            restrict_vocab=restrict_vocab,
            exact=exact,
            breadth=breadth,
        )
        return [
            (self.vocab.word(int(i)), float(s))
            for i, s in zip(idx[0], val[0], strict=True)
            if i >= 0
        ]

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
        Words outside the vocabulary are answered from their n-grams on subword models.
        """
        topn = _positive("topn", topn)
        units = np.stack([self.unit(word) for word in (a, b, c)])[None, :, :]
        rows = np.array([[self.vocab.index(word) for word in (a, b, c)]])
        idx, val = analogy_answers(self, units, rows, topn, method, restrict_vocab)
        return [(self.vocab.word(int(i)), float(s)) for i, s in zip(idx[0], val[0], strict=True)]


def _search_parts(n: int) -> list[tuple[int, int]]:
    """Row ranges searched in parallel: one per CPU, for matrices worth splitting."""
    workers = min(available_cpus(), max(1, n // SEARCH_SPLIT_ROWS))
    bounds = np.linspace(0, n, workers + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds)]


def _without(
    rows: np.ndarray, scores: np.ndarray, excluded: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Each query's ranking with its excluded rows moved to the end as -1 / -inf."""
    rows, scores = rows.copy(), scores.copy()
    for i, left_out in enumerate(excluded):
        keep = ~np.isin(rows[i], left_out)
        kept = int(keep.sum())
        rows[i, :kept], scores[i, :kept] = rows[i, keep], scores[i, keep]
        rows[i, kept:], scores[i, kept:] = -1, -np.inf
    return rows, scores


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ParameterError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _as_list(items: WordOrVector | Sequence[WordOrVector] | None) -> list[WordOrVector]:
    if items is None:
        return []
    if isinstance(items, str | np.ndarray):
        return [items]
    return list(items)


COSMUL_EPSILON = 1e-3


def analogy_search(
    vectors: Vectors,
    rows: np.ndarray,
    topn: int,
    method: str,
    restrict_vocab: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Batched analogy answers for question rows (a, b, c), never answering a, b or c."""
    flat = rows.reshape(-1)
    units = np.asarray(vectors.matrix[flat], dtype=np.float32)
    units /= vectors._safe_norms[flat, None]
    return analogy_answers(
        vectors, units.reshape(len(rows), 3, -1), rows, topn, method, restrict_vocab
    )


def analogy_answers(
    vectors: Vectors,
    units: np.ndarray,
    rows: np.ndarray,
    topn: int,
    method: str,
    restrict_vocab: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Answers for questions given as unit vectors (question, 3, dim); ``rows`` holds the
    vocabulary rows of the question words (-1 for unseen ones), which are never answers."""
    a, b, c = units[:, 0], units[:, 1], units[:, 2]
    if method == "add":
        scores = vectors.cosines(b - a + c, restrict_vocab)
    elif method == "mul":
        sim_a = (vectors.cosines(a, restrict_vocab) + 1) / 2
        sim_b = (vectors.cosines(b, restrict_vocab) + 1) / 2
        sim_c = (vectors.cosines(c, restrict_vocab) + 1) / 2
        scores = sim_b * sim_c / (sim_a + COSMUL_EPSILON)
    else:
        raise ParameterError(f"method must be one of {', '.join(ANALOGY_METHODS)}, got {method!r}")
    n = scores.shape[1]
    for j in range(3):
        inside = (rows[:, j] >= 0) & (rows[:, j] < n)
        scores[np.flatnonzero(inside), rows[inside, j]] = -np.inf
    return top_k(scores, topn)
