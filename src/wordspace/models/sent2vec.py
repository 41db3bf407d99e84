"""Sent2Vec: sentence embeddings (Pagliardini, Gupta and Jaggi, NAACL 2018), trained on the
shared engine.

Each word of a sentence is predicted, by negative sampling, from the mean of the rest of the
sentence's rows. By default this is the paper's objective, the sentence without the target
(``S \\ {w_t}``): the mean excludes the target's row and every n-gram containing it, so no row
seen at inference carries the target. The reference implementation (epfml/sent2vec) instead
masks the target with a placeholder row and keeps the n-grams over the masked sentence
(``mask_target=True`` does the same; it measured 0.008 lower on STS-B, see BENCHMARKS.md).
Either way the mean is the sentence's sum less (and plus) a few rows, which costs the same
per word whatever the sentence's length (``kernels.sent2vec``); the sentence is one
minibatch for its input rows (their gradients are summed over its target words and applied
once), while output rows are updated word after word. Dropout leaves out the n-grams
touching ``dropout_k`` random positions of each word's context, as the reference does.

N-grams are hashed from the words' own 64-bit hashes (``hashing.WORD_NGRAM_SCHEME``, stored
in the model), so that n-grams do not collide more than the bucket count makes them;
``ngram_hash="sent2vec"`` uses the reference's scheme instead (buckets from vocabulary ids),
for a model the reference's tools read from a ``.bin``. Only the buckets in use get rows.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from wordspace.corpus import MAX_SENTENCE_LENGTH, Corpus, ReadStats
from wordspace.errors import NotFittedError, ParameterError, TrainingDivergedError
from wordspace.fileio import check_free_space
from wordspace.formats.fasttext import save_native
from wordspace.hashing import (
    SENT2VEC_NGRAM_SCHEME,
    WORD_NGRAM_SCHEME,
    hash_bytes,
    vocabulary_hashes,
)
from wordspace.kernels.sent2vec import (
    SCHEME_CODES,
    SentenceLines,
    compact_buckets,
    line_ngram_rows,
    train_sentences,
)
from wordspace.kernels.word2vec import Chunk, Schedule, Weights
from wordspace.losses import prepare_loss
from wordspace.matrices import MatrixExport
from wordspace.memory import ensure_available
from wordspace.models import params as p
from wordspace.models.fasttext import MAX_BUCKET, SENT2VEC_MODEL, FastTextModel
from wordspace.models.word2vec import (
    MAX_DIM,
    MAX_EPOCHS,
    MAX_NEGATIVE,
    bounded_workers,
    kernel_seed,
)
from wordspace.names import SENT2VEC_HASHES, SENT2VEC_PRESETS
from wordspace.sentences import SentenceEmbedder
from wordspace.text.reader import CorpusInput, read_corpus
from wordspace.training import (
    Diverged,
    ProgressCallback,
    TrainingSummary,
    initial_vectors,
    narrowed,
    padded_width,
    run_figures,
    train,
)
from wordspace.vocab import Vocabulary, keep_probabilities

SCHEME_NAMES = {"wordspace": WORD_NGRAM_SCHEME, "sent2vec": SENT2VEC_NGRAM_SCHEME}
MAX_WORD_NGRAMS = 16
_PLACEHOLDER = np.frombuffer(b"<PLACEHOLDER>", dtype=np.uint8)
_PLACEHOLDER_HASH = np.uint64(hash_bytes(_PLACEHOLDER, 0, len(_PLACEHOLDER)))
"""The hash of the placeholder that stands in for the target word in its n-grams."""

PRESETS: dict[str, dict[str, Any]] = {
    "wiki-unigrams": {
        "dim": 600, "min_count": 8, "min_target_count": 20, "lr": 0.2, "epochs": 9,
        "sample": 1e-5, "word_ngrams": 1, "dropout_k": 0, "negative": 10,
    },
    "wiki-bigrams": {
        "dim": 700, "min_count": 8, "min_target_count": 20, "lr": 0.2, "epochs": 9,
        "sample": 5e-6, "word_ngrams": 2, "dropout_k": 4, "negative": 10,
        "bucket": 4_000_000, "max_vocab_size": 750_000,
    },
    "toronto-unigrams": {
        "dim": 700, "min_count": 5, "min_target_count": 8, "lr": 0.2, "epochs": 13,
        "sample": 1e-5, "word_ngrams": 1, "dropout_k": 0, "negative": 10,
    },
    "toronto-bigrams": {
        "dim": 700, "min_count": 5, "min_target_count": 5, "lr": 0.2, "epochs": 12,
        "sample": 5e-6, "word_ngrams": 2, "dropout_k": 7, "negative": 10,
    },
    "twitter-unigrams": {
        "dim": 700, "min_count": 20, "min_target_count": 20, "lr": 0.2, "epochs": 3,
        "sample": 1e-6, "word_ngrams": 1, "dropout_k": 0, "negative": 10,
    },
    "twitter-bigrams": {
        "dim": 700, "min_count": 20, "min_target_count": 20, "lr": 0.2, "epochs": 3,
        "sample": 1e-6, "word_ngrams": 2, "dropout_k": 3, "negative": 10,
    },
}  # fmt: skip
"""The training parameters of the published sent2vec models (the paper's Table 5; bucket and
vocabulary size of the Wikipedia bigram model from the reference's README)."""
assert set(PRESETS) == set(SENT2VEC_PRESETS)


class Sent2Vec(MatrixExport):
    """Sentence embeddings as sent2vec learns them, one sentence (or paragraph) per line.

    Parameters
    ----------
    dim, lr, epochs, min_count : as the reference's ``-dim`` (100), ``-lr`` (0.2, its
        README's value), ``-epoch`` (5), ``-minCount`` (5).
    word_ngrams : n-grams of up to this many words join each sentence (``-wordNgrams``, 2;
        1: words only).
    bucket : hash buckets of the n-grams (``-bucket``, 2,000,000); only the buckets the
        corpus's n-grams use get rows.
    dropout_k : positions of each target's context left out of n-gram building
        (``-dropoutK``, 2): every n-gram touching one is dropped from that context.
    negative : noise words per target (``-neg``, 10), drawn from counts ** 0.5.
    sample : target subsampling (``-t``, 1e-4): a frequent word is less often a target,
        as in word2vec; it stays in every context.
    min_target_count : words rarer than this are never targets (the reference's
        ``-minCountLabel``, 0), but stay in contexts.
    max_vocab_size : keep only this many most frequent words (``-maxVocabSize``).
    ngram_hash : ``"wordspace"`` (well-mixed 64-bit hashes of the words) or ``"sent2vec"``
        (the reference's, from vocabulary ids: a ``.bin`` the reference embeds with).
    mask_target : mask the target with a placeholder row and keep the n-grams over the
        masked sentence, as the reference, instead of leaving them out (False).
    max_sentence_length : longer lines are cut into sentences of this many words.
    workers, seed : training threads (default: the CPUs) and the random seed.

    ``Sent2Vec.preset("wiki-bigrams", ...)`` starts from the published models' parameters.

    Example
    -------
    >>> model = Sent2Vec(dim=100, word_ngrams=2).fit("sentences.txt")
    >>> model.embed(["a sentence to embed", "another one"]).shape
    (2, 100)
    """

    def __init__(
        self,
        *,
        dim: int = 100,
        lr: float = 0.2,
        epochs: int = 5,
        min_count: int = 5,
        word_ngrams: int = 2,
        bucket: int = 2_000_000,
        dropout_k: int = 2,
        negative: int = 10,
        sample: float = 1e-4,
        min_target_count: int = 0,
        max_vocab_size: int | None = None,
        ngram_hash: str = "wordspace",
        mask_target: bool = False,
        max_sentence_length: int = MAX_SENTENCE_LENGTH,
        workers: int | None = None,
        seed: int = 1,
    ) -> None:
        self.dim = p.positive_int("dim", dim, MAX_DIM)
        self.lr = p.positive_float("lr", lr)
        self.epochs = p.positive_int("epochs", epochs, MAX_EPOCHS)
        self.min_count = p.positive_int("min_count", min_count)
        self.word_ngrams = p.positive_int("word_ngrams", word_ngrams, MAX_WORD_NGRAMS)
        self.bucket = p.non_negative_int("bucket", bucket, MAX_BUCKET)
        if self.word_ngrams > 1 and self.bucket == 0:
            raise ParameterError("word_ngrams > 1 needs bucket > 0")
        self.dropout_k = p.non_negative_int("dropout_k", dropout_k, MAX_SENTENCE_LENGTH)
        self.negative = p.positive_int("negative", negative, MAX_NEGATIVE)
        self.sample = p.non_negative_float("sample", sample)
        self.min_target_count = p.non_negative_int("min_target_count", min_target_count)
        if max_vocab_size is not None:
            max_vocab_size = p.positive_int("max_vocab_size", max_vocab_size)
        self.max_vocab_size = max_vocab_size
        self.ngram_hash = p.one_of("ngram_hash", ngram_hash, SENT2VEC_HASHES)
        self.mask_target = p.boolean("mask_target", mask_target)
        self.max_sentence_length = p.positive_int(
            "max_sentence_length", max_sentence_length, MAX_SENTENCE_LENGTH
        )
        self.workers = bounded_workers(workers)
        self.seed = p.non_negative_int("seed", seed, 2**64 - 1)
        self.model: FastTextModel | None = None
        self.training: TrainingSummary | None = None
        self.read_stats: ReadStats | None = None
        self._embedder: SentenceEmbedder | None = None

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> Sent2Vec:
        """A model with the parameters of a published sent2vec model (``PRESETS``), any of
        them replaced by ``overrides``."""
        p.one_of("preset", name, SENT2VEC_PRESETS)
        return cls(**(PRESETS[name] | overrides))

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, as given to the constructor."""
        names = (
            "dim", "lr", "epochs", "min_count", "word_ngrams", "bucket", "dropout_k",
            "negative", "sample", "min_target_count", "max_vocab_size", "ngram_hash",
            "mask_target",
            "max_sentence_length", "workers", "seed",
        )  # fmt: skip
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"Sent2Vec({args})"

    def fit(
        self,
        corpus: CorpusInput,
        *,
        callbacks: Sequence[ProgressCallback] = (),
        output: str | os.PathLike | None = None,
    ) -> Sent2Vec:
        """Learn from sentences, one per line: a path (file, folder, glob, ``-`` for stdin),
        an iterable of token lists, or an iterable of strings (split on whitespace).

        ``output`` names where the model will be saved: its filesystem is checked for room
        before training. Raises TrainingDivergedError (and keeps nothing) when the loss
        stops being finite, which a too large ``lr`` causes.
        """
        reading = time.perf_counter()
        vocab, encoded, stats = read_corpus(
            corpus, min_count=self.min_count, max_vocab_size=self.max_vocab_size,
            max_sentence_length=self.max_sentence_length, threads=self.workers,
        )  # fmt: skip
        n_words = len(vocab)
        grams_per_word = self.word_ngrams - 1 if self.bucket else 0
        ensure_available(
            encoded.n_tokens * grams_per_word * 8 + self.bucket * 4,
            f"the word n-grams of {encoded.n_tokens:,} words",
            suggestion="lower word_ngrams or bucket",
        )
        scheme = SCHEME_NAMES[self.ngram_hash]
        hashes = np.append(vocabulary_hashes(vocab), _PLACEHOLDER_HASH)
        word_ngrams = self.word_ngrams if self.bucket else 1
        grams = (n_words, self.bucket, word_ngrams, SCHEME_CODES[scheme], hashes)
        gram_offsets, gram_rows = line_ngram_rows(encoded.ids, encoded.offsets, grams)
        used, bucket_rows = compact_buckets(
            encoded.ids, encoded.offsets, gram_rows, grams, self.mask_target
        )
        self._check_resources(n_words, used, output)
        self._read_seconds = time.perf_counter() - reading
        width = padded_width(self.dim)
        # the placeholder standing in for the target is the last row, trained but not kept
        syn0 = initial_vectors(n_words + used + 1, self.dim, self.seed, width)
        loss = prepare_loss("ns", vocab.counts, negative=self.negative, ns_exponent=0.5)
        out = np.zeros((loss.output_rows, width), dtype=np.float32)
        weights = Weights(syn0, out, 0)
        lines = SentenceLines(
            encoded.ids, encoded.offsets, gram_rows, gram_offsets,
            self._target_probabilities(vocab), *grams, bucket_rows, n_words + used,
            self.mask_target,
            self.dropout_k, int(np.diff(encoded.offsets).max(initial=0)),
        )  # fmt: skip
        words_total = max(encoded.n_tokens * self.epochs, 1)
        schedule = Schedule(float(self.lr), 0.0, words_total, kernel_seed(self.seed))

        def train_one(epoch: int, chunk: int, first: int, end: int, words_done: int):
            work = Chunk(first, end, words_done, epoch, chunk)
            return train_sentences(weights, lines, loss.tables, schedule, work)

        train_one(0, 0, 0, 0, 0)
        started = time.time()
        try:
            summary = train(
                encoded, train_one, epochs=self.epochs, workers=self.workers,
                lr_start=self.lr, lr_end=0.0, shuffle_seed=self.seed, callbacks=callbacks,
            )  # fmt: skip
        except Diverged as diverged:
            raise self._diverged(str(diverged)) from None
        if not (np.isfinite(syn0).all() and np.isfinite(out).all()):
            raise self._diverged("the weights are no longer finite at the end of training")
        self.model = self._fasttext_model(vocab, weights, bucket_rows, encoded, scheme)
        self._embedder = SentenceEmbedder(self.model)
        self.training = summary
        self.read_stats = stats
        self._trained_at = started
        return self

    def _target_probabilities(self, vocab: Vocabulary) -> np.ndarray:
        """Each word's probability of being a target: subsampling's keep probability, 0
        for words rarer than ``min_target_count``."""
        prob = keep_probabilities(vocab.counts, self.sample)
        prob[vocab.counts < self.min_target_count] = 0.0
        return prob

    def _check_resources(self, n_words: int, buckets: int, output) -> None:
        """Refuse, before allocating the matrices, a run that would not fit in memory or
        whose model would not fit on the output's disk."""
        width = padded_width(self.dim)
        rows = 2 * n_words + buckets
        ensure_available(
            rows * width * 4 + (n_words + buckets) * self.dim * 4,
            f"training {n_words:,} words and {buckets:,} n-gram buckets x {self.dim} dimensions",
            suggestion="lower dim or bucket, or raise min_count or set max_vocab_size",
        )
        if output is not None:
            model_bytes = (3 * n_words + buckets) * self.dim * 4 + n_words * 64 + self.bucket * 4
            check_free_space(output, model_bytes, f"a model of {n_words:,} words")

    def _diverged(self, what: str) -> TrainingDivergedError:
        return TrainingDivergedError(
            f"training diverged ({what}); nothing was saved: lower lr (it was {self.lr:g})"
        )

    def _fasttext_model(
        self, vocab: Vocabulary, weights: Weights, bucket_rows: np.ndarray, encoded: Corpus,
        scheme: str,
    ) -> FastTextModel:  # fmt: skip
        """The trained model as a sent2vec ``FastTextModel`` (the training matrices are
        narrowed in place to ``dim`` columns)."""
        args = {
            "dim": self.dim, "ws": 5, "epoch": self.epochs, "min_count": self.min_count,
            "neg": self.negative, "word_ngrams": self.word_ngrams, "loss": 2,
            "model": SENT2VEC_MODEL, "bucket": self.bucket if self.word_ngrams > 1 else 0,
            "minn": 0, "maxn": 0, "lr_update_rate": 100, "t": self.sample,
        }  # fmt: skip
        matrix = narrowed(weights.input, self.dim)[:-1]
        output = narrowed(weights.output, self.dim)
        mapped = bucket_rows if args["bucket"] else None
        return FastTextModel(
            args, vocab, matrix, output, None, encoded.n_tokens, bucket_rows=mapped,
            word_ngram_scheme=scheme,
        )  # fmt: skip

    @property
    def embedder(self) -> SentenceEmbedder:
        if self._embedder is None:
            raise NotFittedError("the model is not trained yet: call fit() first")
        return self._embedder

    def embed(self, sentences: Sequence[str] | Sequence[Sequence[str]]) -> np.ndarray:
        """One float32 vector per sentence (a string or a list of tokens): the mean of its
        known words' rows and its word n-grams' rows."""
        return self.embedder.embed(sentences)

    def training_info(self) -> dict[str, Any]:
        """Figures of the last fit, as stored in a saved model's meta.json."""
        if self.training is None or self.read_stats is None:
            return {}
        return run_figures(self.training, self.read_stats, self._read_seconds, self._trained_at)

    def save(self, path: str | os.PathLike) -> None:
        """Save natively (a memory-mapped folder that ``wordspace embed`` and ``load`` read)."""
        if self.model is None:
            raise NotFittedError("the model is not trained yet: call fit() first")
        save_native(self.model, path, config=self.get_params(), training=self.training_info())
