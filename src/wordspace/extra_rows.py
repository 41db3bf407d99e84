"""Per-word extra input rows: what a subword model adds to each word's bag of input rows.

A model's input matrix holds one row per vocabulary word and, for subword models, rows past
them (fastText's hashed character n-gram buckets). Which extra rows belong to which word is
fixed by the vocabulary, so it is built once, as a CSR table, and training looks it up per
occurrence instead of hashing n-grams again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from wordspace.errors import ParameterError
from wordspace.kernels.extra_rows import char_ngram_rows
from wordspace.vocab import Vocabulary


@dataclass(frozen=True)
class ExtraRows:
    """CSR table of extra input rows: word ``w``'s are ``rows[offsets[w]:offsets[w + 1]]``.

    ``offsets`` is int64 of ``n_words + 1`` entries, ``rows`` int64 row ids of the input
    matrix (at or past ``n_words``). A plain word2vec model has none: all offsets 0.
    """

    offsets: np.ndarray
    rows: np.ndarray

    @classmethod
    def none(cls, n_words: int) -> ExtraRows:
        """No word has extra rows (word2vec)."""
        return cls(np.zeros(n_words + 1, dtype=np.int64), np.zeros(0, dtype=np.int64))

    @classmethod
    def char_ngrams(
        cls,
        vocab: Vocabulary,
        minn: int,
        maxn: int,
        bucket: int,
        skip: np.ndarray | None = None,
    ) -> ExtraRows:
        """fastText's subword rows: ``len(vocab)`` plus the bucket of each character n-gram
        (``minn``..``maxn`` characters) of the word wrapped in ``<`` and ``>``, in fastText's
        order, exactly the ids its ``getSubwords`` gives after the word's own. ``maxn = 0``
        or ``bucket = 0`` gives no rows. ``skip`` (bool per word) marks words without
        n-grams, as fastText's end-of-sentence token ``</s>``."""
        if minn < 0 or maxn < 0 or bucket < 0:
            raise ParameterError(
                f"minn={minn}, maxn={maxn} and bucket={bucket} must not be negative"
            )
        n_words = len(vocab)
        if skip is None:
            skip = np.zeros(n_words, dtype=np.bool_)
        elif skip.shape != (n_words,):
            raise ParameterError(f"skip has shape {skip.shape}; it needs one flag per word")
        offsets, rows = char_ngram_rows(
            vocab.blob, vocab.offsets, skip.astype(np.bool_, copy=False), minn, maxn, bucket,
            n_words,
        )  # fmt: skip
        return cls(offsets, rows)

    @property
    def n_words(self) -> int:
        return len(self.offsets) - 1

    def of(self, word: int) -> np.ndarray:
        """The extra rows of word ``word`` (a view; for inspection, not for hot loops)."""
        return self.rows[self.offsets[word] : self.offsets[word + 1]]


def compact_buckets(
    buckets: np.ndarray, bucket: int, also: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The buckets in use among ``buckets`` (and ``also``), in increasing order, and the map
    (int32, one entry per bucket: the bucket's position among them, or -1) that a compact
    n-gram matrix reads through; linear in the inputs and ``bucket``, no sort."""
    mark = np.zeros(bucket, dtype=np.bool_)
    mark[buckets] = True
    if also is not None:
        mark[also] = True
    used = np.flatnonzero(mark)
    bucket_rows = np.full(bucket, -1, dtype=np.int32)
    bucket_rows[used] = np.arange(len(used), dtype=np.int32)
    return used, bucket_rows
