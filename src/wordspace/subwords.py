"""Character n-gram vectors: what lets a fastText-style model give a vector to any word."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wordspace.hashing import char_ngram_buckets
from wordspace.kernels.subwords import ngram_vector


def _wrapped_bytes(word: str) -> np.ndarray:
    return np.frombuffer(f"<{word}>".encode("utf-8", "surrogatepass"), dtype=np.uint8)


@dataclass(frozen=True)
class CharNgrams:
    """Hashed character n-gram vectors (fastText's buckets): rows of ``vectors`` are indexed by
    the FNV-1a hash of each n-gram of ``minn``..``maxn`` characters, modulo the bucket count."""

    vectors: np.ndarray
    minn: int
    maxn: int

    @property
    def bucket(self) -> int:
        return int(self.vectors.shape[0])

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
            out,
        )
        return out
