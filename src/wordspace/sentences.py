"""Sentence embeddings: one vector per line of text, batched and compiled.

A sent2vec model (the reference's ``.bin``, or its native folder) embeds a sentence as the
reference's ``embed_sentences`` does, bit for bit: the mean of its known words' rows and of
its word n-gram rows (``kernels.sentences``), the n-grams hashed with the scheme the model
stores (the reference's, or ours for models trained here). Any other model embeds it as the
mean of its words' vectors, unseen words included where the model has character n-grams,
so that the embeddings of any two models compare directly. An empty sentence, or one without a known
word, gives a zero vector; the counts returned say how many there were.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, BinaryIO

import numpy as np

from wordspace.errors import ModelFileError, ParameterError
from wordspace.hashing import SENT2VEC_NGRAM_SCHEME, WORD_NGRAM_SCHEME, vocabulary_hashes
from wordspace.kernels.fasttext_lines import line_ends_of
from wordspace.kernels.prediction_lines import vector_lines, with_lines_restored
from wordspace.kernels.sent2vec import SCHEME_CODES
from wordspace.kernels.sentences import sent2vec_hidden, word_mean_hidden
from wordspace.models.fasttext import FastTextModel
from wordspace.subwords import NO_BUCKET_MAP, CharNgrams
from wordspace.text.sources import line_blocks
from wordspace.vectors import Vectors

BLOCK_BYTES = 8 << 20
"""Text embedded per batch: lines are cut at the last newline of each block read."""
BATCH_VALUES = 2 << 20
"""Output floats per batch (8 MiB): short lines of a wide model are cut into several."""
VECTOR_PRECISION = 5
"""Significant digits of the reference's ``print-sentence-vectors``."""
_NO_HASHES = np.zeros(0, dtype=np.uint64)
_NO_WEIGHTS = np.zeros(0, dtype=np.float32)


class SentenceEmbedder:
    """Embeds lines of text with any model (see the module's docstring): a sent2vec model
    as the reference does, a word model as the mean of its word vectors."""

    def __init__(
        self,
        model: FastTextModel | Vectors,
        weights: np.ndarray | None = None,
        by_weight: bool = True,
    ) -> None:
        """With ``weights`` (one per vocabulary word, then one for unseen words), a word
        model's sentence vector is the weighted sum of its words' vectors divided by the
        total weight (``by_weight``) or by the number of words: TF-IDF and SIF pooling."""
        self.model = model
        self.sent2vec = isinstance(model, FastTextModel) and model.is_sent2vec
        if weights is not None and self.sent2vec:
            raise ParameterError(
                "a sent2vec model embeds as the reference does; weigh the words of its "
                "word vectors instead (model.vectors())"
            )
        if weights is not None:
            weights = _checked_weights(weights, model)
        self._weighting = (_NO_WEIGHTS if weights is None else weights, by_weight)
        if self.sent2vec:
            if model.pruned:
                raise ModelFileError("a pruned sent2vec model is not supported")
            words = model.words
            nwords = model.nwords
            scheme = model.word_ngram_scheme or SENT2VEC_NGRAM_SCHEME
            if scheme not in SCHEME_CODES:
                raise ModelFileError(f"unknown word n-gram scheme {scheme!r:.60}")
            bucket_map = NO_BUCKET_MAP if model.bucket_rows is None else model.bucket_rows
            self._matrices = (model.input[:nwords], model.input[nwords:], bucket_map)
            self._grams = (
                nwords, int(model.args["bucket"]), int(model.args["word_ngrams"]),
                SCHEME_CODES[scheme],
                vocabulary_hashes(words) if scheme == WORD_NGRAM_SCHEME else _NO_HASHES,
            )  # fmt: skip
        else:
            if isinstance(model, FastTextModel):
                model = model.vectors()
            if not isinstance(model, Vectors):
                raise ModelFileError(f"cannot embed sentences with a {type(model).__name__}")
            words = model.vocab
            self._vectors = model
            self._subwords = _subword_tables(model.ngrams, model.dim)
        self._words = (words.slots, words.blob, words.offsets)

    @property
    def dim(self) -> int:
        return self.model.dim

    def embed_text(self, text: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(vectors float32 (lines, dim), rows or words averaged per line) of every line of
        ``text`` (UTF-8 bytes, lines split at ``\\n``); a line with none is zeros."""
        starts, ends = line_ends_of(text, 0, len(text))
        return self.embed_lines(text, starts, ends)

    def embed_lines(
        self, text: np.ndarray, starts: np.ndarray, ends: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``embed_text`` of the lines ``text[starts[i]:ends[i]]``."""
        out = np.empty((len(starts), self.dim), dtype=np.float32)
        if self.sent2vec:
            counts = sent2vec_hidden(
                text, starts, ends, self._words, self._grams, self._matrices, out
            )
        else:
            counts = word_mean_hidden(
                text, starts, ends, self._words, self._vectors.matrix, self._subwords,
                self._weighting, out,
            )  # fmt: skip
        return out, counts

    def embed(self, sentences: Sequence[str] | Sequence[Sequence[str]]) -> np.ndarray:
        """One float32 vector per sentence: a string (split on whitespace, as the
        reference) or a list of tokens. A sentence may not hold a newline; a literal
        ``</s>`` ends it, as in the reference."""
        vectors, _ = self.embed_text(sentences_text(sentences))
        return vectors


def sentences_text(sentences: Sequence[str] | Sequence[Sequence[str]]) -> np.ndarray:
    """The sentences (strings or token lists) as the UTF-8 bytes of one line each."""
    lines = [s if isinstance(s, str) else _joined_tokens(s) for s in sentences]
    if any("\n" in line for line in lines):
        raise ParameterError("a sentence to embed holds a newline: give one per item")
    joined = "".join(f"{line}\n" for line in lines)
    return np.frombuffer(joined.encode("utf-8", "surrogatepass"), np.uint8)


def _checked_weights(weights: np.ndarray, model: FastTextModel | Vectors) -> np.ndarray:
    """``weights`` as the kernel reads them: float32, one per word and one for unseen words,
    finite and not negative."""
    words = len(model.words) if isinstance(model, FastTextModel) else len(model)
    weights = np.ascontiguousarray(weights, dtype=np.float32)
    if weights.shape != (words + 1,):
        raise ParameterError(
            f"weights must hold one value per word and one for unseen words ({words + 1:,}), "
            f"got shape {weights.shape}"
        )
    if not np.isfinite(weights).all() or (weights < 0).any():
        raise ParameterError("weights must be finite and not negative")
    return weights


def _subword_tables(ngrams: CharNgrams | None, dim: int) -> tuple:
    """The kernel's view of a word model's character n-grams (bucket 0 when it has none)."""
    if ngrams is None:
        return (0, 0, np.zeros((0, dim), dtype=np.float32), NO_BUCKET_MAP, 0, False)
    pruned = ngrams.pruned and ngrams.bucket_rows is not None
    return (ngrams.minn, ngrams.maxn, ngrams.vectors, ngrams.bucket_map, ngrams.bucket, pruned)


def _joined_tokens(tokens: Sequence[str]) -> str:
    if any(not t or any(c.isspace() for c in t) for t in tokens):
        raise ParameterError("a token to embed is empty or holds whitespace")
    return " ".join(tokens)


def embed_stream(
    embedder: SentenceEmbedder,
    stream: BinaryIO,
    workers: int = 1,
    then: Callable[[np.ndarray], Any] | None = None,
) -> Iterator[tuple[Any, np.ndarray]]:
    """(vectors, rows per line) of every line of a byte stream, one batch of whole lines
    after another, in order; ``workers`` batches at once, at most twice that many held. A
    batch holds at most ``BATCH_VALUES`` output floats, whatever the lines' length. With
    ``then`` (e.g. ``format_vectors``) each batch's vectors are passed through it on the
    worker, and its result comes in their place."""
    most_lines = max(1, BATCH_VALUES // embedder.dim)

    def batch(block: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> tuple[Any, np.ndarray]:
        vectors, counts = embedder.embed_lines(block, starts, ends)
        return (vectors if then is None else then(vectors)), counts

    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for block in line_blocks(stream, BLOCK_BYTES):
            starts, ends = line_ends_of(block, 0, len(block))
            for first in range(0, len(starts), most_lines):
                last = first + most_lines
                pending.append(pool.submit(batch, block, starts[first:last], ends[first:last]))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def format_vectors(vectors: np.ndarray) -> bytes:
    """Lines as the reference's ``print-sentence-vectors`` prints them: each component with
    5 significant digits followed by a space. A line holding a value the compiled pass
    cannot round exactly is written by Python's formatting instead."""
    text, ends, left_out = vector_lines(vectors, VECTOR_PRECISION)

    def line(i: int) -> bytes:
        return ("".join(f"{v:.5g} " for v in vectors[i].tolist()) + "\n").encode()

    return with_lines_restored(text, ends, left_out, line)
