"""``Vectors`` to and from gensim's ``KeyedVectors``, and to its ``FastTextKeyedVectors``
for subword models, whose unseen words then get their vectors from the n-grams in gensim
as here (gensim hashes character n-grams as fastText does)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from wordspace.errors import ParameterError
from wordspace.kernels.fasttext_lines import EOS_BYTES
from wordspace.kernels.subwords import compose_vocabulary
from wordspace.memory import ensure_available
from wordspace.subwords import CharNgrams

if TYPE_CHECKING:
    from gensim.models import KeyedVectors

    from wordspace.vectors import Vectors

EOS = bytes(EOS_BYTES).decode()
"""fastText's end-of-sentence word, which has no n-grams."""


def _gensim() -> Any:
    try:
        import gensim.models
    except ImportError:
        raise ImportError("gensim is not installed: pip install gensim") from None
    return gensim.models


def to_gensim(vectors: Vectors) -> KeyedVectors:
    """The same words in the same order with the same vectors (and counts); a subword
    model gives a ``FastTextKeyedVectors`` with its n-gram buckets (dense, as gensim keeps
    them) and the raw word rows recovered from the composed vectors."""
    models = _gensim()
    ngrams = vectors.ngrams
    dim = vectors.dim
    if ngrams is not None and ngrams.maxn > 0 and ngrams.bucket > 0:
        if ngrams.pruned:
            raise ParameterError(
                "a pruned (.ftz -cutoff) model leaves buckets out, which gensim cannot express"
            )
        ensure_available(ngrams.bucket * dim * 4, f"gensim's {ngrams.bucket:,} n-gram rows")
        kv = models.fasttext.FastTextKeyedVectors(dim, ngrams.minn, ngrams.maxn, ngrams.bucket)
        kv.vectors_ngrams = ngrams.dense_rows(0, ngrams.bucket)
        kv.vectors_vocab = _word_rows(vectors, ngrams)
    else:
        kv = models.KeyedVectors(dim)
    kv.index_to_key = list(vectors.words)
    kv.key_to_index = {word: i for i, word in enumerate(kv.index_to_key)}
    kv.vectors = np.asarray(vectors.matrix)
    kv.allocate_vecattrs(attrs=["count"], types=[np.int64])
    kv.expandos["count"][:] = np.asarray(vectors.counts)
    if isinstance(kv, models.fasttext.FastTextKeyedVectors):
        kv.recalc_char_ngram_buckets()
    return kv


def _word_rows(vectors: Vectors, ngrams: CharNgrams) -> np.ndarray:
    """Each word's own input row, from its composed vector ``(row + sum of n-gram rows) /
    (1 + n)``: composing once with zero word rows gives the n-gram part, once with unit
    word rows and zero n-grams gives ``1 / (1 + n)``."""
    vocab = vectors.vocab
    n, dim = len(vocab), vectors.dim
    skip = np.zeros(n, dtype=np.bool_)
    eos = vocab.index(EOS)
    if eos >= 0:
        skip[eos] = True
    pruned = ngrams.pruned and ngrams.bucket_rows is not None

    def compose(words: np.ndarray, grams: np.ndarray) -> np.ndarray:
        out = np.empty((n, dim), dtype=np.float32)
        compose_vocabulary(
            vocab.blob, vocab.offsets, skip, words, grams, ngrams.bucket_map, ngrams.bucket,
            pruned, ngrams.minn, ngrams.maxn, out,
        )  # fmt: skip
        return out

    gram_part = compose(np.zeros((n, dim), dtype=np.float32), ngrams.vectors)
    share = compose(np.ones((n, dim), dtype=np.float32), np.zeros_like(ngrams.vectors))
    return (np.asarray(vectors.matrix, dtype=np.float32) - gram_part) / share


def from_gensim(kv: KeyedVectors, vectors_class: type[Vectors]) -> Vectors:
    """Vectors (of ``vectors_class``) of a gensim ``KeyedVectors`` (or a model's ``.wv``):
    its words in its order, its counts where it keeps them, and for
    ``FastTextKeyedVectors`` its n-gram buckets, so that unseen words keep their vectors."""
    models = _gensim()
    kv = getattr(kv, "wv", kv)
    if not isinstance(kv, models.KeyedVectors):
        raise ParameterError(f"from_gensim needs a KeyedVectors, not a {type(kv).__name__}")
    words = list(kv.index_to_key)
    for i, word in enumerate(words):
        if not isinstance(word, str):
            raise ParameterError(
                f"gensim keys must be strings to become words; key {i} is a {type(word).__name__}"
            )
    counts = kv.expandos.get("count") if hasattr(kv, "expandos") else None
    base = vectors_class.from_words(words, np.asarray(kv.vectors, dtype=np.float32), counts)
    if isinstance(kv, models.fasttext.FastTextKeyedVectors) and kv.bucket > 0:
        grams = CharNgrams(np.asarray(kv.vectors_ngrams, dtype=np.float32), kv.min_n, kv.max_n)
        return vectors_class(base.vocab, base.matrix, grams)
    return base
