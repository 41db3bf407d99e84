"""Character n-gram vectors: what lets a fastText-style model give a vector to any word."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wordspace.hashing import char_ngram_buckets
from wordspace.kernels.subwords import ngram_vector


def _wrapped_bytes(word: str) -> np.ndarray:
    return np.frombuffer(f"<{word}>".encode("utf-8", "surrogatepass"), dtype=np.uint8)


NO_BUCKET_MAP = np.zeros(0, dtype=np.int32)
"""The bucket map of n-gram vectors stored with one row per bucket."""


@dataclass(frozen=True)
class CharNgrams:
    """Hashed character n-gram vectors (fastText's buckets): each n-gram of ``minn``..``maxn``
    characters falls in the bucket given by its FNV-1a hash modulo the bucket count.

    Without ``bucket_rows``, ``vectors`` has one row per bucket (as a fastText ``.bin``).
    With it (int32, one entry per bucket), bucket ``b``'s vector is
    ``vectors[bucket_rows[b]]``, or zeros where ``bucket_rows[b]`` is -1: the compact form
    of a model we trained, which stores rows only for the buckets its vocabulary's n-grams
    use (18% of 2M buckets for the 83,227 words of 20M words of Wikipedia); the others were
    never trained. ``pruned`` says that ``bucket_rows`` is the pruned index of a fastText
    ``.ftz`` cut with ``-cutoff``: a bucket without a row is then left out of a word's mean,
    as fastText leaves it, instead of counting as a zero row.
    """

    vectors: np.ndarray
    minn: int
    maxn: int
    bucket_rows: np.ndarray | None = None
    pruned: bool = False

    @property
    def bucket(self) -> int:
        rows = self.bucket_rows
        return int(self.vectors.shape[0] if rows is None else rows.shape[0])

    @property
    def bucket_map(self) -> np.ndarray:
        """``bucket_rows``, or an empty map when there is one row per bucket (the kernels'
        form)."""
        return NO_BUCKET_MAP if self.bucket_rows is None else self.bucket_rows

    def buckets(self, word: str) -> np.ndarray:
        """Bucket ids of the n-grams of ``word`` (in fastText's order)."""
        wrapped = _wrapped_bytes(word)
        out = np.empty(len(wrapped) * max(self.maxn, 1), dtype=np.int64)
        count = char_ngram_buckets(wrapped, len(wrapped), self.minn, self.maxn, self.bucket, out)
        return out[:count]

    def vector(self, word: str) -> np.ndarray:
        """The mean of the word's n-gram vectors; zeros when it has none (as fastText)."""
        out = np.empty(self.vectors.shape[1], dtype=np.float32)
        ngram_vector(
            np.frombuffer(word.encode("utf-8", "surrogatepass"), dtype=np.uint8),
            self.minn,
            self.maxn,
            self.vectors,
            self.bucket_map,
            self.bucket,
            self.pruned and self.bucket_rows is not None,
            out,
        )
        return out

    def dense_rows(self, start: int, end: int) -> np.ndarray:
        """The vectors of buckets ``start:end`` as a dense float32 block (for writing a
        fastText ``.bin``, one block at a time)."""
        if self.bucket_rows is None:
            return np.asarray(self.vectors[start:end], dtype=np.float32)
        return self._mapped(np.asarray(self.bucket_rows[start:end]))

    def rows_of(self, buckets: np.ndarray) -> np.ndarray:
        """The vectors of the given bucket ids, one row each (zeros for a bucket without a
        row)."""
        if self.bucket_rows is None:
            return np.asarray(self.vectors[buckets], dtype=np.float32)
        return self._mapped(np.asarray(self.bucket_rows[buckets]))

    def _mapped(self, rows: np.ndarray) -> np.ndarray:
        block = np.zeros((len(rows), self.vectors.shape[1]), dtype=np.float32)
        present = rows >= 0
        block[present] = self.vectors[rows[present]]
        return block
