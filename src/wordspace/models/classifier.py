"""Classifier: fastText's supervised text classification, trained on the shared engine.

Each line is one example whose bag is its words' rows (with character n-gram rows when
``maxn > 0``), ``</s>``'s and its word n-grams' bucket rows, exactly as fastText builds it, so
that the model written as a Facebook ``.bin`` predicts the same in fastText; the targets are
the line's labels under softmax, negative sampling (over labels), hierarchical softmax or
one-vs-all. Prediction is ``wordspace.classify``'s.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from wordspace.class_weights import ClassWeight, label_weights
from wordspace.classify import (
    LABEL_PREFIX,
    ClassifierScore,
    Predictor,
    combine_scores,
    score_stream,
)
from wordspace.corpus import Corpus
from wordspace.errors import NotFittedError, ParameterError, TrainingDivergedError
from wordspace.extra_rows import ExtraRows
from wordspace.formats.fasttext import save_native
from wordspace.formats.native import MAX_NGRAM
from wordspace.kernels.fasttext_lines import line_ends_of
from wordspace.kernels.numtext import gather_ranges
from wordspace.kernels.supervised import (
    Lines,
    compact_line_rows,
    line_input_rows,
    signed_word_hashes,
    train_lines,
)
from wordspace.kernels.topk import fasttext_tree
from wordspace.kernels.word2vec import Chunk, Schedule, Weights
from wordspace.losses import prepare_loss
from wordspace.matrices import MatrixExport
from wordspace.models import params as p
from wordspace.models.continued import InitModel, load_start, model_dim
from wordspace.models.fasttext import EOS, FASTTEXT_LOSS_CODES, MAX_BUCKET, FastTextModel
from wordspace.models.word2vec import MAX_DIM, MAX_EPOCHS, bounded_workers, kernel_seed
from wordspace.names import CLASSIFIER_LOSSES
from wordspace.text.reader import CorpusInput, read_labelled_corpus
from wordspace.text.sources import resolve_sources
from wordspace.training import (
    Diverged,
    TrainingSummary,
    initial_vectors,
    narrowed,
    padded_width,
    train,
)
from wordspace.vocab import Vocabulary


def _with_eos(vocab: Vocabulary, corpus: Corpus) -> tuple[Vocabulary, Corpus, int]:
    """The vocabulary with fastText's ``</s>`` (counted once per line, as fastText counts
    it), re-sorted by count, and the corpus re-encoded to it; returns ``</s>``'s id too."""
    n_lines = corpus.n_sentences
    counts = vocab.counts.astype(np.int64)
    blob, offsets = vocab.blob, vocab.offsets
    eos = vocab.index(EOS)
    if eos >= 0:
        counts = counts.copy()
        counts[eos] += n_lines
    else:
        eos = len(counts)
        eos_bytes = np.frombuffer(EOS.encode(), dtype=np.uint8)
        blob = np.concatenate([blob, eos_bytes])
        offsets = np.append(offsets, offsets[-1] + len(eos_bytes))
        counts = np.append(counts, n_lines)
    order = np.argsort(-counts, kind="stable")
    sorted_blob, sorted_offsets = gather_ranges(blob, offsets[:-1][order], offsets[1:][order])
    merged = Vocabulary(sorted_blob, sorted_offsets, counts[order])
    position = np.empty(len(order), dtype=np.int32)
    position[order] = np.arange(len(order), dtype=np.int32)
    ids = position[corpus.ids]
    encoded = Corpus(ids, corpus.offsets, corpus.labels, corpus.label_offsets)
    return merged, encoded, int(position[eos])


@dataclass(frozen=True)
class ValidationScore:
    """P@1 on the validation lines after one epoch."""

    epoch: int
    """Epochs trained, from 1."""
    examples: int
    precision: float


def _pretrained_rows(pretrained: InitModel, vocab: Vocabulary, dim: int, syn0: np.ndarray) -> int:
    """Copy the vectors of ``pretrained`` (any readable model; composed vectors for a
    fastText one, as its ``.vec`` holds) into the rows of the words it knows; returns how
    many words it knew."""
    model = load_start(pretrained)
    if model_dim(model) != dim:
        raise ParameterError(
            f"the pretrained vectors have dimension {model_dim(model)}, the classifier {dim}: "
            "give the same --dim"
        )
    vectors = model.vectors() if isinstance(model, FastTextModel) else model
    rows = vectors.vocab.indices(vocab.words)
    known = np.flatnonzero(rows >= 0)
    syn0[known, :dim] = vectors.matrix[rows[known]]
    return len(known)


class Classifier(MatrixExport):
    """Supervised text classification as fastText's ``supervised``, with its defaults.

    Parameters
    ----------
    dim, lr, epochs, min_count : fastText's ``-dim`` (100), ``-lr`` (0.1), ``-epoch`` (5),
        ``-minCount`` (1).
    word_ngrams : n-grams of up to this many words join each line's bag (``-wordNgrams``, 1).
    bucket : buckets of the word and character n-grams (``-bucket``, 2,000,000).
    minn, maxn : character n-grams of the words (``-minn``/``-maxn``, 0: none).
    loss : ``"softmax"``, ``"ns"``, ``"hs"`` or ``"ova"`` (one-vs-all, for several labels
        per line).
    negative : noise labels per example with ``loss="ns"``.
    label_prefix : what starts a label token (``-label``, ``__label__``).
    class_weight : ``None`` (every example alike, as fastText), ``"balanced"`` (each label
        weighs as much in total), a mapping of label to weight, or the path of a file of
        ``LABEL WEIGHT`` lines (see ``wordspace.class_weights``).
    pretrained : a model (or its path, any readable format) whose vectors start the rows of
        the words it knows (``-pretrainedVectors``); the dimension must be ``dim``.
    workers, seed : training threads (default: the CPUs) and the random seed.

    Example
    -------
    >>> model = Classifier(word_ngrams=2, dim=10, lr=0.25).fit("train.txt")
    >>> model.predict(["what is the capital of france ?"], k=2)
    >>> model.score("test.txt").precision
    """

    def __init__(
        self,
        *,
        dim: int = 100,
        lr: float = 0.1,
        epochs: int = 5,
        min_count: int = 1,
        word_ngrams: int = 1,
        bucket: int = 2_000_000,
        minn: int = 0,
        maxn: int = 0,
        loss: str = "softmax",
        negative: int = 5,
        label_prefix: str = LABEL_PREFIX,
        class_weight: ClassWeight = None,
        pretrained: InitModel | None = None,
        workers: int | None = None,
        seed: int = 1,
    ) -> None:
        self.dim = p.positive_int("dim", dim, MAX_DIM)
        self.lr = p.positive_float("lr", lr)
        self.epochs = p.positive_int("epochs", epochs, MAX_EPOCHS)
        self.min_count = p.positive_int("min_count", min_count)
        self.word_ngrams = p.positive_int("word_ngrams", word_ngrams, 64)
        self.bucket = p.non_negative_int("bucket", bucket, MAX_BUCKET)
        self.minn = p.non_negative_int("minn", minn, MAX_NGRAM)
        self.maxn = p.non_negative_int("maxn", maxn, MAX_NGRAM)
        if self.maxn and self.minn > self.maxn:
            raise ParameterError(f"minn={self.minn} must not exceed maxn={self.maxn}")
        if (self.word_ngrams > 1 or self.maxn > 0) and self.bucket == 0:
            raise ParameterError("word_ngrams > 1 and maxn > 0 need bucket > 0")
        self.loss = p.one_of("loss", loss, CLASSIFIER_LOSSES)
        self.negative = p.positive_int("negative", negative, 10_000)
        self.label_prefix = label_prefix
        named = isinstance(class_weight, str) and class_weight != "balanced"
        if named and not os.path.isfile(class_weight):
            raise ParameterError(
                f"class_weight={class_weight!r} is neither 'balanced' nor a weights file"
            )
        self.class_weight = class_weight
        self.pretrained = pretrained
        self.workers = bounded_workers(workers)
        self.seed = p.non_negative_int("seed", seed, 2**64 - 1)
        self.model: FastTextModel | None = None
        self.training: TrainingSummary | None = None
        self.validation_scores: list[ValidationScore] = []
        self.pretrained_words = 0
        self._predictor: Predictor | None = None

    def get_params(self) -> dict[str, Any]:
        """The hyperparameters, as given to the constructor."""
        names = (
            "dim", "lr", "epochs", "min_count", "word_ngrams", "bucket", "minn", "maxn",
            "loss", "negative", "label_prefix", "class_weight", "pretrained", "workers", "seed",
        )  # fmt: skip
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"Classifier({args})"

    def fit(
        self,
        corpus: CorpusInput,
        *,
        validation: str | os.PathLike | None = None,
        on_validation: Callable[[ValidationScore], None] | None = None,
    ) -> Classifier:
        """Learn from labelled lines (fastText's format: label tokens anywhere in a line).

        With ``validation`` (labelled lines), P@1 on it is measured after every epoch, kept
        in ``validation_scores`` and given to ``on_validation``; epochs then end before the
        next begins (a validation pass sees exactly that many epochs).
        """
        if validation is not None:
            validation = _readable(validation)
        read = read_labelled_corpus(
            corpus, min_count=self.min_count, label_prefix=self.label_prefix,
            threads=self.workers,
        )  # fmt: skip
        vocab, encoded, eos = _with_eos(read.vocab, read.corpus)
        labels = read.labels
        n_words = len(vocab)
        skip = np.zeros(n_words, dtype=np.bool_)
        skip[eos] = True
        extra = (
            ExtraRows.char_ngrams(vocab, self.minn, self.maxn, self.bucket, skip)
            if self.maxn > 0
            else ExtraRows.none(n_words)
        )
        hashes = signed_word_hashes(vocab.blob, vocab.offsets)
        row_offsets, rows = line_input_rows(
            encoded.ids, encoded.offsets, hashes, extra.offsets, extra.rows, eos,
            (n_words, self.bucket, self.word_ngrams),
        )  # fmt: skip
        used, bucket_rows = compact_line_rows(rows, n_words, self.bucket)
        width = padded_width(self.dim)
        syn0 = initial_vectors(n_words + used, self.dim, self.seed, width)
        if self.pretrained is not None:
            self.pretrained_words = _pretrained_rows(self.pretrained, vocab, self.dim, syn0)
        label_counts = np.diff(encoded.label_offsets)
        most_labels = int(label_counts.max(initial=0))
        loss = prepare_loss(
            self.loss, labels.counts, negative=self.negative, ns_exponent=0.5,
            max_positives=max(most_labels, 1),
        )  # fmt: skip
        out = np.zeros((loss.output_rows, width), dtype=np.float32)
        lines = Lines(
            rows, row_offsets, encoded.labels, encoded.label_offsets, encoded.offsets,
            int(np.diff(row_offsets).max(initial=0)), most_labels, self.loss == "ova",
            label_weights(self.class_weight, labels, self.label_prefix),
        )  # fmt: skip
        weights = Weights(syn0, out, 0)
        words_total = max(encoded.n_tokens * self.epochs, 1)
        schedule = Schedule(float(self.lr), 0.0, words_total, kernel_seed(self.seed))

        def train_one(epoch: int, chunk: int, first: int, end: int, words_done: int):
            return train_lines(
                weights, lines, loss.tables, schedule, Chunk(first, end, words_done, epoch, chunk)
            )

        def validate(epoch: int) -> None:
            model = self._fasttext_model(
                vocab, labels, weights.input, weights, bucket_rows, encoded
            )
            scored = _score(Predictor(model, self.label_prefix), validation, 1)
            result = ValidationScore(epoch + 1, scored.examples, scored.precision)
            self.validation_scores.append(result)
            if on_validation is not None:
                on_validation(result)

        train_one(0, 0, 0, 0, 0)
        self.validation_scores = []
        started = time.perf_counter()
        try:
            self.training = train(
                encoded, train_one, epochs=self.epochs, workers=self.workers,
                lr_start=self.lr, lr_end=0.0, shuffle_seed=self.seed,
                epoch_done=validate if validation is not None else None,
            )  # fmt: skip
        except Diverged as diverged:
            raise TrainingDivergedError(
                f"training diverged ({diverged}); lower lr (it was {self.lr:g})"
            ) from None
        self._seconds = time.perf_counter() - started
        matrix = narrowed(weights.input, self.dim)
        self.model = self._fasttext_model(vocab, labels, matrix, weights, bucket_rows, encoded)
        self._predictor = Predictor(self.model, self.label_prefix)
        return self

    def _fasttext_model(
        self, vocab, labels, matrix, weights, bucket_rows, encoded
    ) -> FastTextModel:
        """The model of ``matrix`` (the input rows, possibly wider than ``dim``: their first
        ``dim`` columns are read) and the current output rows."""
        output = np.ascontiguousarray(weights.output[:, : self.dim])
        if self.loss == "hs":
            # word2vec's tree (ours) labels a node's second child 0, fastText's 1: the same
            # tree with every node's score negated; fastText keeps one row per label
            inner = max(len(labels) - 1, 0)
            output = np.vstack([-output[:inner], np.zeros((1, self.dim), dtype=np.float32)])
        args = {
            "dim": self.dim, "ws": 5, "epoch": self.epochs, "min_count": self.min_count,
            "neg": self.negative, "word_ngrams": self.word_ngrams,
            "loss": FASTTEXT_LOSS_CODES[self.loss], "model": 3, "bucket": self.bucket,
            "minn": self.minn, "maxn": self.maxn, "lr_update_rate": 100, "t": 1e-4,
        }  # fmt: skip
        return FastTextModel(
            args, vocab, matrix, output, labels, encoded.n_tokens, bucket_rows=bucket_rows
        )

    @property
    def predictor(self) -> Predictor:
        if self._predictor is None:
            raise NotFittedError("the classifier is not trained yet: call fit() first")
        return self._predictor

    def predict(
        self, lines: Sequence[str], k: int = 1, threshold: float = 0.0
    ) -> list[list[tuple[str, float]]]:
        """Top-``k`` (label, probability) of each line, best first, as fastText's."""
        return self.predictor.predict(lines, k=k, threshold=threshold)

    @property
    def classes_(self) -> list[str]:
        """The labels, in the order of ``predict_proba``'s columns (most frequent first)."""
        return self.predictor.label_names

    def predict_proba(self, lines: Sequence[str]) -> np.ndarray:
        """Every label's probability for each line (float32, lines x labels, columns in
        ``classes_`` order): the softmax, each label's sigmoid (``ns``, ``ova``: they need not
        sum to 1) or the product of the tree's node probabilities down each label's path
        (``hs``), as fastText computes them before its ``+1e-5`` for printing. A line with no
        known word or n-gram gets the probabilities of an empty bag."""
        predictor = self.predictor
        if any("\n" in line for line in lines):
            raise ParameterError("a line to predict holds a newline: give one line per item")
        n_labels = len(predictor.label_names)
        if not lines:
            return np.zeros((0, n_labels), dtype=np.float32)
        joined = "".join(f"{line}\n" for line in lines)
        text = np.frombuffer(joined.encode("utf-8", "surrogatepass"), np.uint8)
        starts, ends = line_ends_of(text, 0, len(text))
        hidden, _, _, _ = predictor.encode(text, starts, ends)
        if self.loss != "hs":
            return predictor.probabilities(hidden)
        return _tree_probabilities(hidden, self.model.output, self.model.labels.counts)

    def score(self, path: str | os.PathLike, k: int = 1) -> ClassifierScore:
        """N, P@k and R@k (and per-label figures) on labelled lines, as fastText's test."""
        return _score(self.predictor, path, k)

    def save(self, path: str | os.PathLike) -> None:
        """Save natively (a folder that ``wordspace predict`` and ``load_model`` read)."""
        if self.model is None:
            raise NotFittedError("the classifier is not trained yet: call fit() first")
        save_native(self.model, path, config=self.get_params())


def _readable(path: str | os.PathLike) -> str:
    """``path`` as a string, checked to name readable files before training starts (it is
    read once per epoch, so not stdin)."""
    if str(path) == "-":
        raise ParameterError("validation lines are read after every epoch: give a file, not -")
    resolve_sources(str(path))
    return str(path)


def _score(predictor: Predictor, path: str | os.PathLike, k: int) -> ClassifierScore:
    scores = []
    for source in resolve_sources(str(path)):
        with source.open() as stream:
            scores.append(score_stream(predictor, stream, k))
    return scores[0] if len(scores) == 1 else combine_scores(scores)


def _tree_probabilities(hidden: np.ndarray, output: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Each leaf's probability in fastText's hierarchical softmax: from the root down, a left
    child gets ``1 - sigmoid`` of its parent's score, a right child ``sigmoid``. Children
    are numbered below their parents, so one pass from the root fills every node."""
    left, right = fasttext_tree(counts.astype(np.int64))
    n = len(counts)
    node_prob = np.zeros((len(hidden), max(2 * n - 1, 1)), dtype=np.float64)
    node_prob[:, 2 * n - 2] = 1.0
    if n > 1:
        scores = hidden.astype(np.float64) @ output[: n - 1].astype(np.float64).T
        right_prob = 1.0 / (1.0 + np.exp(-scores))
        for node in range(2 * n - 2, n - 1, -1):
            parent = node_prob[:, node]
            node_prob[:, right[node]] = parent * right_prob[:, node - n]
            node_prob[:, left[node]] = parent * (1.0 - right_prob[:, node - n])
    return node_prob[:, :n].astype(np.float32)
