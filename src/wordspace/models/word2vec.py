"""Word2Vec: skip-gram and CBOW with negative sampling or hierarchical softmax."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from wordspace.corpus import MAX_SENTENCE_LENGTH, Corpus, ReadStats
from wordspace.errors import NotFittedError, ParameterError, TrainingDivergedError
from wordspace.extra_rows import ExtraRows
from wordspace.fileio import check_free_space
from wordspace.formats import Model, as_vectors
from wordspace.formats.native import save_vectors
from wordspace.kernels.builders import CBOW, SKIPGRAM, PairBuilder
from wordspace.kernels.engine import LossTables
from wordspace.kernels.word2vec import Chunk, Schedule, Sentences, Weights, train_chunk
from wordspace.losses import prepare_loss
from wordspace.matrices import MatrixExport, NamedRows, word_model_rows
from wordspace.memory import ensure_available
from wordspace.models import params as p
from wordspace.models.continued import InitModel, Start, load_start, merge_start, model_dim
from wordspace.models.params import bounded_workers
from wordspace.names import ARCHITECTURES, KERNELS, WORD_LOSSES
from wordspace.text.phrases import Phrases, phrase_finder, read_phrased_corpus, table_arrays
from wordspace.text.reader import CorpusInput, read_corpus
from wordspace.training import (
    Diverged,
    ProgressCallback,
    TrainingSummary,
    initial_vectors,
    padded_width,
    run_figures,
    train,
)
from wordspace.vectors import Vectors
from wordspace.vocab import Vocabulary, keep_probabilities

ARCHITECTURE_CODES = {"skipgram": SKIPGRAM, "cbow": CBOW}
"""The kernels' code of each name in ``names.ARCHITECTURES``."""
DEFAULT_LR = {"skipgram": 0.025, "cbow": 0.05}
DEFAULT_MIN_LR = 1e-4
MAX_DIM = 100_000
MAX_WINDOW = MAX_SENTENCE_LENGTH
MAX_NEGATIVE = 10_000
MAX_EPOCHS = 10_000
MAX_NS_EXPONENT = 10.0
MAX_SEED = 2**64 - 1
"""Bounds of the parameters that size memory or time: far above any useful value, they
turn a typo (``--dim 10000000``, ``--epochs 4294967296``) into one clear error instead of
hours of work or an allocation the machine cannot make."""


def kernel_seed(seed: int) -> int:
    """A seed in [0, 2**64) as the int64 with the same bits, the type the kernels take."""
    return seed - 2**64 if seed >= 2**63 else seed


class Word2Vec(MatrixExport):
    """Learns word vectors with word2vec's skip-gram or CBOW architecture.

    Parameters
    ----------
    architecture : ``"skipgram"`` (predict the centre word from each context word) or
        ``"cbow"`` (from the mean of the context words).
    dim : vector dimension (gensim's ``vector_size``).
    window : largest number of context words on each side; each centre word uses a window
        shrunk uniformly to 1..window, as in word2vec.
    loss : ``"ns"`` (negative sampling), ``"hs"`` (hierarchical softmax) or ``"softmax"``
        (the full softmax over the vocabulary, as fastText's ``-loss softmax``: exact, but
        each example costs vocabulary size x dim instead of (negative + 1) x dim for ``ns``
        and about log2(vocabulary size) x dim for ``hs``; for small vocabularies).
    negative : noise words per example with ``loss="ns"``.
    ns_exponent : the noise distribution is count ** ns_exponent.
    sample : subsampling threshold for frequent words (0 disables).
    min_count : words rarer than this are dropped from the vocabulary and the text.
    max_vocab_size : keep at most this many of the most frequent words (None: all).
    lr, min_lr : the learning rate falls linearly from ``lr`` (default 0.025 for skip-gram,
        0.05 for CBOW) to ``min_lr`` (default 1e-4, or ``lr`` if smaller) over the whole run;
        ``lr=0`` trains nothing (with ``fit(init=...)`` it gives the starting model back).
    epochs : passes over the corpus.
    workers : training threads (default: the CPUs available).
    seed : seeds the initial vectors and every random draw; with ``workers=1`` two runs
        give bit-identical vectors (with more, thread timing changes the order of updates).
    cbow_mean : CBOW averages the context vectors (True) or sums them (False).
    shuffle : visit the corpus in chunks of about ten thousand words in a seeded random order
        each epoch (sentences stay in order inside a chunk); False keeps corpus order.
    kernel : ``"fast"`` scores all context words of a window against one shared set of
        noise words (or the same tree path) in one block; ``"classic"`` draws noise words for
        every (context, centre) pair as the word2vec tool does.
    max_sentence_length : longer lines are split into sentences of this many words.

    Example
    -------
    >>> model = Word2Vec("skipgram", dim=100, epochs=1).fit("corpus.txt")
    >>> model.vectors.most_similar("paris", topn=5)
    """

    def __init__(
        self,
        architecture: str = "skipgram",
        *,
        dim: int = 100,
        window: int = 5,
        loss: str = "ns",
        negative: int = 5,
        ns_exponent: float = 0.75,
        sample: float = 1e-3,
        min_count: int = 5,
        max_vocab_size: int | None = None,
        lr: float | None = None,
        min_lr: float | None = None,
        epochs: int = 5,
        workers: int | None = None,
        seed: int = 1,
        cbow_mean: bool = True,
        kernel: str = "fast",
        shuffle: bool = True,
        max_sentence_length: int = MAX_SENTENCE_LENGTH,
        phrases: Phrases | int | None = None,
    ) -> None:
        self.architecture = p.one_of("architecture", architecture, ARCHITECTURES)
        self.dim = p.positive_int("dim", dim, MAX_DIM)
        self.window = p.positive_int("window", window, MAX_WINDOW)
        self.loss = p.one_of("loss", loss, WORD_LOSSES)
        self.negative = p.non_negative_int("negative", negative, MAX_NEGATIVE)
        if self.loss == "ns" and self.negative == 0:
            raise ParameterError("negative must be >= 1 with loss='ns' (0 leaves nothing to learn)")
        self.ns_exponent = p.finite_float("ns_exponent", ns_exponent, MAX_NS_EXPONENT)
        self.sample = p.non_negative_float("sample", sample)
        self.min_count = p.positive_int("min_count", min_count)
        self.max_vocab_size = (
            None if max_vocab_size is None else p.positive_int("max_vocab_size", max_vocab_size)
        )
        self.lr = p.non_negative_float("lr", self._default_lr() if lr is None else lr)
        if self.lr == 0:
            warnings.warn(
                "lr=0 trains nothing: the vectors stay where they start (with fit(init=...),"
                " the starting model's)",
                stacklevel=2,
            )
        self.min_lr = p.non_negative_float(
            "min_lr", min(DEFAULT_MIN_LR, self.lr) if min_lr is None else min_lr
        )
        if self.min_lr > self.lr:
            raise ParameterError(f"min_lr ({self.min_lr}) must not exceed lr ({self.lr})")
        self.epochs = p.positive_int("epochs", epochs, MAX_EPOCHS)
        self.workers = bounded_workers(workers)
        self.seed = p.non_negative_int("seed", seed, MAX_SEED)
        self.cbow_mean = p.boolean("cbow_mean", cbow_mean)
        self.kernel = p.one_of("kernel", kernel, KERNELS)
        self.shuffle = p.boolean("shuffle", shuffle)
        self.max_sentence_length = p.positive_int("max_sentence_length", max_sentence_length)
        self.phrases = phrase_finder(phrases, self.workers)
        self._vectors: Vectors | None = None
        self.output_weights: np.ndarray | None = None
        self.training: TrainingSummary | None = None
        self.read_stats: ReadStats | None = None

    def _read_phrased(self, corpus: CorpusInput, **reading: Any):
        """``read_corpus`` of the corpus rewritten with the phrases learned from it."""
        assert self.phrases is not None
        return read_phrased_corpus(corpus, self.phrases, **reading)

    def _default_lr(self) -> float:
        return DEFAULT_LR[self.architecture]

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, as given to the constructor."""
        return {
            "architecture": self.architecture,
            "dim": self.dim,
            "window": self.window,
            "loss": self.loss,
            "negative": self.negative,
            "ns_exponent": self.ns_exponent,
            "sample": self.sample,
            "min_count": self.min_count,
            "max_vocab_size": self.max_vocab_size,
            "lr": self.lr,
            "min_lr": self.min_lr,
            "epochs": self.epochs,
            "workers": self.workers,
            "seed": self.seed,
            "cbow_mean": self.cbow_mean,
            "kernel": self.kernel,
            "shuffle": self.shuffle,
            "max_sentence_length": self.max_sentence_length,
            "phrases": self.phrases,
        }

    def config(self) -> dict[str, Any]:
        """The hyperparameters as a saved model's meta.json holds them."""
        phrases = None if self.phrases is None else self.phrases.settings()
        return self.get_params() | {"phrases": phrases}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    @property
    def vectors(self) -> Vectors:
        """The learned word vectors (the input matrix, as word2vec outputs)."""
        if self._vectors is None:
            raise NotFittedError("the model has no vectors yet: call fit() first")
        return self._vectors

    def fit(
        self,
        corpus: CorpusInput,
        *,
        callbacks: Sequence[ProgressCallback] = (),
        output: str | os.PathLike | None = None,
        init: InitModel | None = None,
    ) -> Word2Vec:
        """Learn vectors from ``corpus``: a path (file, folder, glob, ``-`` for stdin), an
        iterable of token lists, or an iterable of strings (tokenised on whitespace).

        ``init`` (a model, or the path of one in any readable format) continues training
        it: the vocabulary becomes its words and the corpus's, its words start from their
        vectors (a fastText model's composed ones), new words from random ones; the output
        rows start at zero (a subword model keeps its start's, see ``FastText``).

        ``output`` names where the model will be saved: once the vocabulary is known, and
        before any training, its filesystem is checked for room, so that a run is never
        lost at its save. Raises TrainingDivergedError (and keeps no vectors) when the loss
        or the weights stop being finite, which a too large ``lr`` causes.
        """
        reading = time.perf_counter()
        start_model = None if init is None else load_start(init)
        if start_model is not None:
            self._check_start(start_model)
        vocab, encoded, stats = (read_corpus if self.phrases is None else self._read_phrased)(
            corpus,
            min_count=self.min_count,
            max_vocab_size=self.max_vocab_size,
            max_sentence_length=self.max_sentence_length,
            threads=self.workers,
        )
        start = None
        if start_model is not None:
            vocab, encoded, start = merge_start(start_model, vocab, encoded)
        self._read_seconds = time.perf_counter() - reading
        weights, sentences, pairs, loss, schedule = self._kernel_inputs(
            vocab, encoded, output, start
        )
        syn0, out = weights.input, weights.output

        def train_one(epoch: int, chunk: int, first: int, end: int, words_done: int):
            work = Chunk(first, end, words_done, epoch, chunk)
            return train_chunk(weights, sentences, pairs, loss, schedule, work)

        train_one(0, 0, 0, 0, 0)
        started = time.time()
        try:
            summary = train(
                encoded,
                train_one,
                epochs=self.epochs,
                workers=self.workers,
                lr_start=self.lr,
                lr_end=self.min_lr,
                shuffle_seed=self.seed if self.shuffle else None,
                callbacks=callbacks,
            )
        except Diverged as diverged:
            raise self._diverged(str(diverged)) from None
        if not (np.isfinite(syn0).all() and np.isfinite(out).all()):
            raise self._diverged("the weights are no longer finite at the end of training")
        del syn0, out
        self._finish(vocab, encoded, weights)
        self.training = summary
        self.read_stats = stats
        self._trained_at = started
        return self

    def _check_start(self, model: Model) -> None:
        """Refuse a starting model this run cannot continue (of another dimension)."""
        dim = model_dim(model)
        if dim != self.dim:
            raise ParameterError(f"dim={self.dim}, but the init model's vectors have dim {dim}")

    def _finish(self, vocab: Vocabulary, encoded: Corpus, weights: Weights) -> None:
        """Keep the trained vectors (the training matrices' first ``dim`` columns)."""
        self._vectors = Vectors(vocab, np.ascontiguousarray(weights.input[:, : self.dim]))
        self.output_weights = np.ascontiguousarray(weights.output[:, : self.dim])

    def _pairs(self, extra: ExtraRows) -> PairBuilder:
        """How the model makes its examples, each word's rows being its own and ``extra``."""
        return PairBuilder(
            ARCHITECTURE_CODES[self.architecture],
            self.window,
            self.kernel == "fast",
            self.cbow_mean,
            extra.offsets,
            extra.rows,
            1 + int(np.diff(extra.offsets).max(initial=0)),
        )

    def _kernel_inputs(
        self,
        vocab: Vocabulary,
        encoded: Corpus,
        output: str | os.PathLike | None = None,
        start: Start | None = None,
    ) -> tuple[Weights, Sentences, PairBuilder, LossTables, Schedule]:
        """Everything the training kernel reads, in its named structures, made in one place
        (after checking that it fits in memory and the model on ``output``'s disk)."""
        n_words = len(vocab)
        self._check_resources(n_words, n_words, output)
        width = padded_width(self.dim)
        syn0 = initial_vectors(n_words, self.dim, self.seed, width)
        if start is not None:
            known = np.flatnonzero(start.known >= 0)
            syn0[known, : self.dim] = as_vectors(start.model).matrix[start.known[known]]
        loss = prepare_loss(
            self.loss, vocab.counts, negative=self.negative, ns_exponent=self.ns_exponent
        )
        out = np.zeros((loss.output_rows, width), dtype=np.float32)
        return (
            Weights(syn0, out, loss.hot_rows),
            self._sentences(vocab, encoded),
            self._pairs(ExtraRows.none(n_words)),
            loss.tables,
            self._schedule(encoded),
        )

    def _sentences(self, vocab: Vocabulary, encoded: Corpus) -> Sentences:
        return Sentences(
            encoded.ids, encoded.offsets, keep_probabilities(vocab.counts, self.sample)
        )

    def _schedule(self, encoded: Corpus) -> Schedule:
        words_total = max(encoded.n_tokens * self.epochs, 1)
        return Schedule(float(self.lr), float(self.min_lr), words_total, kernel_seed(self.seed))

    def _diverged(self, what: str) -> TrainingDivergedError:
        return TrainingDivergedError(
            f"training diverged ({what}); nothing was saved: lower lr (it was {self.lr:g})"
        )

    def _check_resources(
        self,
        n_words: int,
        input_rows: int,
        output: str | os.PathLike | None,
        *,
        extra_memory: int = 0,
        extra_disk: int = 0,
    ) -> None:
        """Refuse, before allocating anything, a run whose matrices (``input_rows`` input
        rows, plus ``extra_memory`` bytes of tables) would not fit in memory or whose model
        (plus ``extra_disk`` bytes) would not fit on the output's disk."""
        width = padded_width(self.dim)
        matrices = (n_words + input_rows) * width * 4
        span = 2 * self.window
        targets = n_words if self.loss == "softmax" else max(self.negative + 1, 64)
        scratch = self.workers * span * (2 * width + 2 * targets) * 4
        copies = 2 * n_words * self.dim * 4
        ensure_available(
            matrices + scratch + copies + n_words * 16 + extra_memory,
            f"training {n_words:,} words x {self.dim} dimensions",
            suggestion=(
                "use loss='ns' or 'hs' (the full softmax keeps window x vocabulary scores per "
                "worker), or lower window or workers"
                if self.loss == "softmax"
                else "lower dim, or raise min_count or set max_vocab_size"
            ),
        )
        if output is not None:
            model_bytes = (n_words + input_rows) * self.dim * 4 + n_words * 64 + extra_disk
            check_free_space(output, model_bytes, f"a model of {n_words:,} words")

    def training_info(self) -> dict[str, Any]:
        """Figures of the last fit, as stored in a saved model's meta.json."""
        if self.training is None or self.read_stats is None:
            return {}
        return run_figures(self.training, self.read_stats, self._read_seconds, self._trained_at)

    def export_rows(self, matrix: str) -> NamedRows:
        """``matrix`` (``"vectors"``, ``"input"`` or ``"output"``) of the trained model, each
        row named (see ``wordspace.matrices``)."""
        return word_model_rows(self.vectors, matrix, self.output_weights, self.loss)

    def save(self, path: str | os.PathLike, *, include_output: bool = True) -> None:
        """Save the model natively (a folder): vectors, vocabulary, configuration, training
        figures, unless ``include_output=False`` the output weights, and the phrase table
        when trained with ``phrases`` (``Phrases.load(path)`` reads it back)."""
        extra = {"output": self.output_weights} if include_output else {}
        if self.phrases is not None and self.phrases.table is not None:
            extra |= table_arrays(self.phrases.table)
        save_vectors(
            self.vectors,
            path,
            kind="word2vec",
            config=self.config(),
            training=self.training_info(),
            extra_arrays=extra,
        )
