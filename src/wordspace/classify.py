"""Labels for lines of text from a supervised fastText model, as fastText's ``predict``.

Many lines at a time: their input rows come from one compiled pass (``kernels.fasttext_lines``,
fastText's tokenisation, character and word n-grams), their hidden vectors from another, and
their scores against every label summed in fastText's order (so a line's scores never depend
on the batch it is in). Probabilities are fastText's: the softmax (``loss`` softmax) or each
label's sigmoid (ns, one-vs-all), reported as fastText prints them, ``exp(log(p + 1e-5))``,
and cut at ``threshold`` before the top ``k``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from wordspace.errors import ModelFileError, ParameterError
from wordspace.extra_rows import ExtraRows
from wordspace.kernels.fasttext_lines import line_ends_of, line_hidden
from wordspace.kernels.prediction_lines import prediction_lines, with_lines_restored
from wordspace.kernels.topk import (
    fasttext_top_k,
    fasttext_tree,
    fasttext_tree_top_k,
    label_scores,
)
from wordspace.models.fasttext import EOS, FastTextModel
from wordspace.subwords import NO_BUCKET_MAP
from wordspace.text.sources import line_blocks
from wordspace.vocab import Vocabulary

LABEL_PREFIX = "__label__"
"""fastText's default label prefix (its ``.bin`` does not record the one it trained with)."""
_SOFTMAX, _NEGATIVE, _ONE_VS_ALL, _HIERARCHICAL = 3, 2, 4, 1
_MAX_SIGMOID = 8
_SIGMOID_TABLE_SIZE = 512


def _sigmoid_table() -> np.ndarray:
    """fastText's sigmoid lookup table (``Loss::t_sigmoid_``), in float32 as it builds it."""
    steps = np.arange(_SIGMOID_TABLE_SIZE + 1, dtype=np.float32)
    x = steps * np.float32(2 * _MAX_SIGMOID) / np.float32(_SIGMOID_TABLE_SIZE)
    x = x - np.float32(_MAX_SIGMOID)
    return (1.0 / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)


_SIGMOID = _sigmoid_table()


def fasttext_sigmoid(scores: np.ndarray) -> np.ndarray:
    """fastText's sigmoid (``Loss::sigmoid``): 0 below -8, 1 above 8, and the table entry
    of the score in between, so that one-vs-all and ns probabilities are fastText's own."""
    scores = scores.astype(np.float32, copy=False)
    index = ((scores + np.float32(_MAX_SIGMOID)) * np.float32(_SIGMOID_TABLE_SIZE)
             / np.float32(_MAX_SIGMOID) / np.float32(2))  # fmt: skip
    index = np.clip(index, 0, _SIGMOID_TABLE_SIZE).astype(np.int64)
    out = _SIGMOID[index]
    out[scores < -_MAX_SIGMOID] = 0.0
    out[scores > _MAX_SIGMOID] = 1.0
    return out


class Predictor:
    """Predicts the labels of lines with a supervised fastText model (softmax, ns,
    one-vs-all or hierarchical-softmax loss).

    The per-word character n-gram table is built once, here.
    """

    def __init__(self, model: FastTextModel, label_prefix: str = LABEL_PREFIX) -> None:
        if model.labels is None:
            raise ModelFileError("the model has no labels: it is not a classifier")
        loss = int(model.args["loss"])
        n_labels = len(model.labels)
        if int(model.args["model"]) != 3 or loss not in (1, 2, 3, 4) or n_labels == 0:
            raise ModelFileError(
                f"not a usable fastText classifier (model {model.args['model']}, loss {loss}, "
                f"{n_labels} labels)"
            )
        if model.output.shape[0] != n_labels:
            raise ModelFileError(
                f"the output matrix has {model.output.shape[0]:,} rows for {n_labels:,} labels"
            )
        if loss == _HIERARCHICAL and int(model.labels.counts.max()) >= 10**15:
            raise ModelFileError("label counts of 10**15 or more cannot build fastText's tree")
        self.model = model
        self.loss = loss
        words = model.words
        skip = np.zeros(len(words), dtype=np.bool_)
        eos = words.index(EOS)
        if eos >= 0:
            skip[eos] = True
        ngrams = model.ngrams
        minn, maxn, bucket = ngrams.minn, ngrams.maxn, ngrams.bucket
        extra = (
            ExtraRows.char_ngrams(words, minn, maxn, bucket, skip)
            if maxn > 0 and bucket > 0
            else ExtraRows.none(len(words))
        )
        self._word_rows = (extra.offsets, extra.rows)
        labels = model.labels
        self._vocabs = (
            (words.slots, words.blob, words.offsets),
            (labels.slots, labels.blob, labels.offsets),
        )
        self._prefix = np.frombuffer(label_prefix.encode("utf-8"), dtype=np.uint8).copy()
        pruned = model.pruned and ngrams.bucket_rows is not None
        self._shape = (len(words), minn, maxn, bucket, int(model.args["word_ngrams"]), pruned)
        self._output = np.ascontiguousarray(model.output, dtype=np.float32)
        self._output_columns = np.ascontiguousarray(self._output.T)
        self.label_names = labels.words
        if loss == _HIERARCHICAL:
            self._tree = fasttext_tree(labels.counts.astype(np.int64))

    def hidden(self, text: np.ndarray, starts: np.ndarray, ends: np.ndarray):
        """The hidden vector of each line ``text[starts[i]:ends[i]]`` and its row count."""
        hidden, counts, _, _ = self.encode(text, starts, ends)
        return hidden, counts

    def encode(self, text: np.ndarray, starts: np.ndarray, ends: np.ndarray):
        """(hidden vectors, row counts, label offsets, label ids) of the lines: what
        fastText's ``getLine`` gives, the known labels of each line as CSR."""
        model = self.model
        ngrams = model.ngrams
        out = np.empty((len(starts), model.dim), dtype=np.float32)
        bucket_map = ngrams.bucket_map if ngrams.bucket_rows is not None else NO_BUCKET_MAP
        matrices = (model.input, ngrams.vectors, bucket_map)
        counts, label_offsets, gold = line_hidden(
            text, starts, ends, *self._vocabs, *self._word_rows, self._prefix, self._shape,
            matrices, out,
        )  # fmt: skip
        return out, counts, label_offsets, gold

    def top_k(self, hidden: np.ndarray, counts: np.ndarray, k: int, threshold: float):
        """fastText's top-``k`` labels of hidden vectors (see ``predict_text``)."""
        return self._top(hidden, counts, k, threshold)

    def probabilities(self, hidden: np.ndarray) -> np.ndarray:
        """Each label's probability for each hidden vector (rows), float32."""
        scores = label_scores(hidden, self._output_columns)
        if self.loss == _SOFTMAX:
            scores -= scores.max(axis=1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=1, keepdims=True)
            return scores
        return fasttext_sigmoid(scores)

    def predict_text(
        self, text: np.ndarray, k: int = 1, threshold: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` labels of every line of ``text`` (UTF-8 bytes, lines split at ``\\n``):
        (label ids int64 (lines, k), -1 where fewer pass ``threshold`` or a line has no
        input rows; probabilities float64 (lines, k), as fastText prints them)."""
        starts, ends = line_ends_of(text, 0, len(text))
        hidden, counts = self.hidden(text, starts, ends)
        return self._top(hidden, counts, k, threshold)

    def predict(
        self, lines: Sequence[str], k: int = 1, threshold: float = 0.0
    ) -> list[list[tuple[str, float]]]:
        """Top-``k`` (label, probability) of each line, best first, as fastText's
        ``predict``; a line may not hold a newline."""
        if any("\n" in line for line in lines):
            raise ParameterError("a line to predict holds a newline: give one line per item")
        if not lines:
            return []
        # fastText's predict ends each line with a newline, which it reads as </s>
        joined = "".join(f"{line}\n" for line in lines)
        text = np.frombuffer(joined.encode("utf-8", "surrogatepass"), np.uint8)
        starts, ends = line_ends_of(text, 0, len(text))
        hidden, counts = self.hidden(text, starts, ends)
        ids, probs = self._top(hidden, counts, k, threshold)
        names = self.label_names
        return [
            [(names[i], float(p)) for i, p in zip(row, prob, strict=True) if i >= 0]
            for row, prob in zip(ids.tolist(), probs.tolist(), strict=True)
        ]

    def _top(self, hidden, counts, k, threshold):
        if not isinstance(k, int) or k < 1:
            raise ParameterError(f"k must be a positive integer, got {k!r}")
        if not 0.0 <= threshold <= 1.0:
            raise ParameterError(f"threshold must be between 0 and 1, got {threshold!r}")
        k = min(k, len(self.label_names))
        top = np.empty((len(hidden), k), dtype=np.int64)
        logs = np.empty((len(hidden), k), dtype=np.float32)
        if self.loss == _HIERARCHICAL:
            left, right = self._tree
            fasttext_tree_top_k(
                hidden, self._output, left, right, counts > 0, k, np.float32(threshold), top,
                logs,
            )  # fmt: skip
        else:
            probs = self.probabilities(hidden)
            fasttext_top_k(probs, counts > 0, k, np.float32(threshold), top, logs)
        # fastText keeps exp of its float log-probability as a float: exp rounded to float32
        shown = np.exp(logs.astype(np.float64)).astype(np.float32).astype(np.float64)
        shown[top < 0] = 0.0
        return top, shown


BLOCK_BYTES = 8 << 20
"""Text predicted per batch: lines are cut at the last newline of each block read."""


def predict_stream(
    predictor: Predictor, stream: BinaryIO, k: int, threshold: float, workers: int = 1
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Predictions for every line of a byte stream, one batch of whole lines after another,
    in order: (label ids, probabilities) per batch. ``workers`` batches are predicted at once
    (the kernels release the GIL); at most twice that many are held, never the stream."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for block in line_blocks(stream, BLOCK_BYTES):
            pending.append(pool.submit(predictor.predict_text, block, k, threshold))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def format_predictions(labels: Vocabulary, ids: np.ndarray, probs: np.ndarray) -> bytes:
    """Lines as fastText's ``predict-prob`` prints them: each label and its probability
    (``%.6g``), best first; an empty line where nothing is predicted. Written by a compiled
    pass; a line holding a probability within a millionth of a digit of a rounding tie is
    written by Python's formatting instead, which rounds the binary value exactly."""
    text, ends, left_out = prediction_lines(labels.blob, labels.offsets, ids, probs)
    names = labels.words

    def line(i: int) -> bytes:
        pairs = zip(ids[i].tolist(), probs[i].tolist(), strict=True)
        shown = " ".join(f"{names[label]} {p:.6g}" for label, p in pairs if label >= 0)
        return (shown + "\n").encode("utf-8", "surrogatepass")

    return with_lines_restored(text, ends, left_out, line)


@dataclass
class ClassifierScore:
    """What fastText's ``test`` and ``test-label`` report: over the lines that have both
    input rows and a known label, precision and recall of the top-``k`` predictions, overall
    and per label."""

    examples: int
    k: int
    predicted: np.ndarray
    """Predictions of each label."""
    gold: np.ndarray
    """Lines holding each label."""
    correct: np.ndarray
    """Predictions of each label on a line that holds it."""
    labels: list[str]

    @property
    def precision(self) -> float:
        total = int(self.predicted.sum())
        return float(self.correct.sum()) / total if total else float("nan")

    @property
    def recall(self) -> float:
        total = int(self.gold.sum())
        return float(self.correct.sum()) / total if total else float("nan")

    def per_label(self) -> list[dict]:
        """Precision, recall and F1 of each label, as fastText's ``test-label``."""
        rows = []
        for j, name in enumerate(self.labels):
            p = self.correct[j] / self.predicted[j] if self.predicted[j] else float("nan")
            r = self.correct[j] / self.gold[j] if self.gold[j] else float("nan")
            # fastText's Python test_label reports F1 0 where precision or recall is undefined
            f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
            rows.append({"label": name, "precision": p, "recall": r, "f1": f1})
        return rows


def score_stream(
    predictor: Predictor, stream: BinaryIO, k: int = 1, threshold: float = 0.0
) -> ClassifierScore:
    """Score the predictions of every line of a labelled stream against its labels."""
    n_labels = len(predictor.label_names)
    predicted = np.zeros(n_labels, dtype=np.int64)
    gold = np.zeros(n_labels, dtype=np.int64)
    correct = np.zeros(n_labels, dtype=np.int64)
    examples = 0
    for block in line_blocks(stream, BLOCK_BYTES):
        starts, ends = line_ends_of(block, 0, len(block))
        hidden, counts, label_offsets, labels = predictor.encode(block, starts, ends)
        per_line = np.diff(label_offsets)
        scored = (counts > 0) & (per_line > 0)
        ids, _ = predictor.top_k(hidden, counts, k, threshold)
        ids = ids[scored]
        examples += int(scored.sum())
        line_of_label = np.repeat(np.arange(len(starts)), per_line)
        keep = scored[line_of_label]
        gold_codes = line_of_label[keep] * n_labels + labels[keep]
        gold += np.bincount(labels[keep], minlength=n_labels)
        lines = np.flatnonzero(scored)[:, None].repeat(ids.shape[1], axis=1)
        shown = ids >= 0
        predicted += np.bincount(ids[shown], minlength=n_labels)
        hits = np.isin(lines[shown] * n_labels + ids[shown], gold_codes)
        correct += np.bincount(ids[shown][hits], minlength=n_labels)
    return ClassifierScore(examples, k, predicted, gold, correct, predictor.label_names)


def combine_scores(scores: Sequence[ClassifierScore]) -> ClassifierScore:
    """The score of several files tested one after another, as one."""
    first = scores[0]
    return ClassifierScore(
        sum(s.examples for s in scores),
        first.k,
        sum(s.predicted for s in scores),
        sum(s.gold for s in scores),
        sum(s.correct for s in scores),
        first.labels,
    )
